/* delay_server: an HTTP/1.1 server that answers every request after a fixed
 * delay, without holding up any other connection. It plays the slow mirror
 * of the end-to-end benchmark (bench/run_e2e.sh, scenario 4).
 *
 *   delay_server --listen 127.0.0.1:PORT --delay-ms N
 *
 * One thread, one epoll loop, non-blocking sockets. A request is complete
 * once its headers and its Content-Length body are read; it is counted then
 * and its answer (200, "ok\n") is due N ms later. As every answer waits the
 * same delay, the pending answers form a FIFO ordered by due time, so one
 * ring and the epoll timeout are the whole timer machinery. Keep-alive and
 * pipelining are supported; chunked request bodies are not (501, close).
 *
 * "GET /__stats" on an idle connection is answered at once with a JSON line
 * of counters (and is not counted): requests received, answers sent,
 * answers abandoned because the client closed first, bad requests,
 * connections accepted and open. SIGTERM/SIGINT print the same line to
 * stderr and exit 0. Exit status 1 when it cannot start, 2 on bad usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS          65536
#define RING_CAP         (1u << 17) /* answers waiting, all connections */
#define MAX_PENDING_CONN 1024u      /* answers waiting on one connection */
#define MAX_HEADER_BYTES 65536u
#define MAX_BODY_BYTES   (16u << 20)
#define READ_CHUNK       65536u
#define EVENTS_PER_WAIT  256

struct conn {
    bool open;
    uint32_t gen;     /* bumped at every close: stale ring entries skip */
    unsigned pending; /* answers due on this connection */
    char *in;
    size_t in_len, in_cap;
    char *out; /* what write() could not take yet */
    size_t out_len, out_cap;
};

struct due {
    int fd;
    uint32_t gen;
    bool close_after;
    uint64_t at_ns;
};

struct stats {
    uint64_t received, answered, abandoned, bad, accepted;
    unsigned open;
};

static struct conn conns[MAX_FDS];
static struct due ring[RING_CAP];
static unsigned ring_head, ring_len;
static struct stats st;
static int epfd = -1;
static volatile sig_atomic_t stop_requested;

static const char ANSWER[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             "Content-Length: 3\r\n\r\nok\n";
static const char ANSWER_CLOSE[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: 3\r\nConnection: close\r\n\r\nok\n";

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Grows *buf (capacity *cap) to hold at least need bytes; false on OOM. */
static bool reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (!p)
        return false;
    *buf = p;
    *cap = n;
    return true;
}

static void conn_close(int fd)
{
    struct conn *c = &conns[fd];
    if (!c->open)
        return;
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    st.abandoned += c->pending;
    free(c->in);
    free(c->out);
    uint32_t gen = c->gen + 1;
    memset(c, 0, sizeof(*c));
    c->gen = gen;
    st.open--;
}

static void set_events(int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* Sends len bytes on fd, keeping what the socket does not take in the
 * connection's out buffer. False when the connection had to be closed. */
static bool conn_send(int fd, const char *data, size_t len)
{
    struct conn *c = &conns[fd];
    size_t off = 0;
    if (c->out_len == 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
            conn_close(fd);
            return false;
        }
        off = n > 0 ? (size_t)n : 0;
    }
    if (off == len)
        return true;
    if (!reserve(&c->out, &c->out_cap, c->out_len + len - off)) {
        conn_close(fd);
        return false;
    }
    memcpy(c->out + c->out_len, data + off, len - off);
    c->out_len += len - off;
    set_events(fd, EPOLLIN | EPOLLOUT);
    return true;
}

static void flush_out(int fd)
{
    struct conn *c = &conns[fd];
    ssize_t n = send(fd, c->out, c->out_len, MSG_NOSIGNAL);
    if (n == -1) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            conn_close(fd);
        return;
    }
    memmove(c->out, c->out + n, c->out_len - (size_t)n);
    c->out_len -= (size_t)n;
    if (c->out_len == 0)
        set_events(fd, EPOLLIN);
}

/* Answers a request it refuses, then closes (best effort: a bench tool). */
static void refuse(int fd, const char *status)
{
    char buf[256];
    int n =
        snprintf(buf, sizeof(buf), "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
    st.bad++;
    (void)send(fd, buf, (size_t)n, MSG_NOSIGNAL);
    conn_close(fd);
}

static int stats_line(char *buf, size_t size)
{
    return snprintf(buf, size,
                    "{\"received\":%llu,\"answered\":%llu,\"abandoned\":%llu,\"bad\":%llu,"
                    "\"accepted\":%llu,\"open\":%u,\"waiting\":%u}\n",
                    (unsigned long long)st.received, (unsigned long long)st.answered,
                    (unsigned long long)st.abandoned, (unsigned long long)st.bad,
                    (unsigned long long)st.accepted, st.open, ring_len);
}

static void answer_stats(int fd)
{
    char body[512], buf[768];
    int blen = stats_line(body, sizeof(body));
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     blen, body);
    conn_send(fd, buf, (size_t)n);
}

/* Value of header name (lowercase, with the colon) in the header block
 * hdr[0..len), or NULL; *vlen receives its length. */
static const char *header_value(const char *hdr, size_t len, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *end = hdr + len;
    const char *line = memchr(hdr, '\n', len); /* skip the request line */
    while (line && line + 1 < end) {
        line++;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            break;
        if ((size_t)(eol - line) > nlen && strncasecmp(line, name, nlen) == 0) {
            const char *v = line + nlen;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        line = eol;
    }
    return NULL;
}

/* Queues the delayed answer of one request. False when it had to close. */
static bool schedule(int fd, bool close_after, uint64_t delay_ns)
{
    struct conn *c = &conns[fd];
    if (ring_len == RING_CAP || c->pending >= MAX_PENDING_CONN) {
        st.bad++;
        conn_close(fd);
        return false;
    }
    ring[(ring_head + ring_len) % RING_CAP] =
        (struct due){.fd = fd, .gen = c->gen, .close_after = close_after, .at_ns = now_ns() + delay_ns};
    ring_len++;
    c->pending++;
    return true;
}

/* Handles every complete request buffered on fd. */
static void parse_requests(int fd, uint64_t delay_ns)
{
    struct conn *c = &conns[fd];
    size_t guard = 0;
    while (c->open && c->in_len > 0 && guard++ < MAX_PENDING_CONN) {
        char *eoh = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!eoh) {
            if (c->in_len > MAX_HEADER_BYTES) {
                refuse(fd, "431 Request Header Fields Too Large");
            }
            return;
        }
        size_t hlen = (size_t)(eoh - c->in) + 4, vlen = 0, body = 0;
        const char *v = header_value(c->in, hlen, "transfer-encoding:", &vlen);
        if (v) {
            refuse(fd, "501 Not Implemented");
            return;
        }
        v = header_value(c->in, hlen, "content-length:", &vlen);
        if (v) {
            char num[24] = {0};
            char *endp = NULL;
            memcpy(num, v, vlen < sizeof(num) - 1 ? vlen : sizeof(num) - 1);
            unsigned long long cl = strtoull(num, &endp, 10);
            if (vlen == 0 || vlen >= sizeof(num) || *endp != '\0' || cl > MAX_BODY_BYTES) {
                refuse(fd, "413 Content Too Large");
                return;
            }
            body = (size_t)cl;
        }
        if (c->in_len < hlen + body)
            return;
        bool close_after = false;
        v = header_value(c->in, hlen, "connection:", &vlen);
        if (v && vlen == 5 && strncasecmp(v, "close", 5) == 0)
            close_after = true;
        bool stats = hlen >= 13 && memcmp(c->in, "GET /__stats ", 13) == 0;
        memmove(c->in, c->in + hlen + body, c->in_len - hlen - body);
        c->in_len -= hlen + body;
        if (stats && c->pending == 0) {
            answer_stats(fd);
            continue;
        }
        st.received++;
        if (!schedule(fd, close_after, delay_ns))
            return;
    }
}

static void on_readable(int fd, uint64_t delay_ns)
{
    struct conn *c = &conns[fd];
    if (!reserve(&c->in, &c->in_cap, c->in_len + READ_CHUNK)) {
        conn_close(fd);
        return;
    }
    ssize_t n = recv(fd, c->in + c->in_len, READ_CHUNK, 0);
    if (n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        conn_close(fd);
        return;
    }
    if (n > 0) {
        c->in_len += (size_t)n;
        parse_requests(fd, delay_ns);
    }
}

static void on_accept(int lfd)
{
    for (int i = 0; i < EVENTS_PER_WAIT; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1)
            return;
        if (fd >= MAX_FDS) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
            close(fd);
            continue;
        }
        conns[fd].open = true;
        conns[fd].pending = 0;
        st.accepted++;
        st.open++;
    }
}

/* Sends every answer that is due; returns the epoll timeout (ms) until the
 * next one, -1 when none waits. */
static int fire_due(void)
{
    uint64_t now = now_ns();
    while (ring_len > 0) {
        struct due *d = &ring[ring_head];
        if (d->at_ns > now)
            return (int)((d->at_ns - now + 999999) / 1000000);
        ring_head = (ring_head + 1) % RING_CAP;
        ring_len--;
        struct conn *c = &conns[d->fd];
        if (!c->open || c->gen != d->gen)
            continue; /* counted as abandoned when it closed */
        c->pending--;
        const char *a = d->close_after ? ANSWER_CLOSE : ANSWER;
        size_t alen = d->close_after ? sizeof(ANSWER_CLOSE) - 1 : sizeof(ANSWER) - 1;
        if (conn_send(d->fd, a, alen)) {
            st.answered++;
            if (d->close_after && c->out_len == 0)
                conn_close(d->fd);
        }
    }
    return -1;
}

static int listen_on(const char *spec)
{
    char host[64];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof(host))
        return -1;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (*end != '\0' || port < 1 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd == -1)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(fd, 4096) == -1) {
        close(fd);
        return -1;
    }
    return fd;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: delay_server --listen ADDR:PORT --delay-ms N\n"
               "Answers every HTTP/1.1 request with 200 after N ms (0..600000);\n"
               "GET /__stats returns the counters as JSON.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"delay-ms", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *listen_spec = NULL;
    long delay_ms = -1;
    int o;
    while ((o = getopt_long(argc, argv, "l:d:h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (o) {
        case 'l':
            listen_spec = optarg;
            break;
        case 'd':
            delay_ms = strtol(optarg, &end, 10);
            if (*end != '\0' || delay_ms < 0 || delay_ms > 600000)
                delay_ms = -2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!listen_spec || delay_ms < 0 || optind != argc) {
        usage(stderr);
        return 2;
    }
    int lfd = listen_on(listen_spec);
    if (lfd == -1 || lfd >= MAX_FDS) {
        fprintf(stderr, "delay_server: cannot listen on %s: %s\n", listen_spec, strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
    if (epfd == -1 || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) == -1) {
        perror("delay_server: epoll");
        return 1;
    }
    uint64_t delay_ns = (uint64_t)delay_ms * 1000000ull;
    struct epoll_event evs[EVENTS_PER_WAIT];
    while (!stop_requested) {
        int timeout = fire_due();
        int n = epoll_wait(epfd, evs, EVENTS_PER_WAIT, timeout);
        if (n == -1 && errno != EINTR) {
            perror("delay_server: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                on_accept(lfd);
                continue;
            }
            if (!conns[fd].open)
                continue;
            if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
                conn_close(fd);
                continue;
            }
            if (evs[i].events & EPOLLOUT)
                flush_out(fd);
            if (conns[fd].open && (evs[i].events & EPOLLIN))
                on_readable(fd, delay_ns);
        }
    }
    char line[512];
    stats_line(line, sizeof(line));
    fputs(line, stderr);
    return 0;
}
