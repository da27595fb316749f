/* spop_loadgen: a SPOP load generator that plays HAProxy 3.x against an agent.
 *
 * Each connection sends a HAPROXY-HELLO, checks the AGENT-HELLO, then keeps
 * up to --pipeline NOTIFYs in flight (message "mirror", odd stream-ids, frame-id
 * 1). Every ACK is checked (type, flags, a stream-id in flight, frame-id, one
 * set-var txn.mirrored bool) and its NOTIFY->ACK latency goes to a histogram.
 * Closed loop by default (a new NOTIFY as soon as an ACK frees a slot);
 * --rate paces the NOTIFYs open-loop. Latency is measured from the send() that
 * carried the NOTIFY to the recv() that returned its ACK; in open loop the
 * generator also reports how late NOTIFYs left (send lag) and the latency
 * counted from when each was due, so queueing behind full pipelines shows.
 *
 * One thread, one epoll loop, non-blocking sockets; frames are built and
 * decoded with the project's codec (spop_frame.h, spop_writer). Exit status:
 * 0 when every NOTIFY got a valid ACK, 1 on any error, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/net.h"
#include "spop/spop_data.h"
#include "spop/spop_frame.h"
#include "spop/spop_proto.h"
#include "spop/spop_varint.h"
#include "core/xalloc.h"

#define MAX_CONNECTIONS      4096u
#define MAX_PIPELINE         1024u
#define MAX_DURATION_S       60.0
#define DEFAULT_DURATION_S   5.0
#define DRAIN_TIMEOUT_NS     2000000000ull /* wait this long for the last ACKs */
#define HANDSHAKE_TIMEOUT_S  5
#define OUR_MAX_FRAME        16380u /* what we announce, like HAProxy's default */
#define READ_CHUNK           65536u
#define EVENTS_PER_WAIT      64
#define SPIN_WINDOW_NS       1000000ull /* open loop: busy-poll when the next NOTIFY is this close */
#define FRAME_HEADER_MAX     (SPOP_FRAME_LEN_BYTES + 1 + 4 + 2 * SPOP_VARINT_MAX_BYTES)
#define DEFAULT_HEADER_BYTES 1024u
#define NS_PER_S             1000000000ull

/* ------------------------------------------------------------------------ */
/* Latency histogram: log-linear buckets, 64 per power of two (<1.6% error). */

#define HIST_SUB_BITS 6
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  (2 * HIST_SUB + 40 * HIST_SUB)

struct hist {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    uint64_t min, max;
    double sum;
};

static unsigned hist_index(uint64_t v)
{
    if (v < 2 * HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - HIST_SUB_BITS;
    unsigned idx = 2 * HIST_SUB + (shift - 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
    return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* The middle of bucket <idx>. */
static double hist_value(unsigned idx)
{
    if (idx < 2 * HIST_SUB)
        return idx;
    unsigned shift = (idx - 2 * HIST_SUB) / HIST_SUB + 1;
    uint64_t m = (idx - 2 * HIST_SUB) % HIST_SUB + HIST_SUB;
    return ((double)(m << shift) + (double)(((m + 1) << shift) - 1)) / 2.0;
}

static void hist_add(struct hist *h, uint64_t v)
{
    h->counts[hist_index(v)]++;
    if (h->total == 0 || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->total++;
    h->sum += (double)v;
}

/* The value below which a fraction <q> of the samples fall, clamped to [min, max]. */
static double hist_quantile(const struct hist *h, double q)
{
    if (h->total == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)h->total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            double v = hist_value(i);
            if (v < (double)h->min)
                v = (double)h->min;
            if (v > (double)h->max)
                v = (double)h->max;
            return v;
        }
    }
    return (double)h->max;
}

/* ------------------------------------------------------------------------ */
/* Options. */

struct options {
    char host[256];
    char port[16];
    const char *target;
    unsigned connections;
    unsigned pipeline;
    double duration_s; /* 0: not given */
    uint64_t requests; /* 0: unbounded (the duration bounds the run) */
    double rate;       /* NOTIFYs/s in total; 0: closed loop */
    size_t header_bytes;
    size_t body_bytes;
    bool json;
};

static const char usage[] =
    "usage: spop_loadgen [--target HOST:PORT] [--connections N] [--pipeline D]\n"
    "                    [--duration SECONDS] [--requests N] [--rate R]\n"
    "                    [--header-bytes N] [--body-bytes N] [--json]\n"
    "\n"
    "Plays HAProxy 3.x against a SPOP agent and measures ACKs/s and NOTIFY->ACK latency.\n"
    "\n"
    "  --target HOST:PORT   agent address (default 127.0.0.1:12345)\n"
    "  --connections N      SPOP connections, 1..4096 (default 1)\n"
    "  --pipeline D         NOTIFYs in flight per connection, 1..1024 (default 20)\n"
    "  --duration SECONDS   stop sending after this long, at most 60 (default 5)\n"
    "  --requests N         stop after N NOTIFYs (the duration still bounds the run)\n"
    "  --rate R             NOTIFYs per second in total, paced open-loop; 0 = as fast\n"
    "                       as ACKs return (closed loop, the default)\n"
    "  --header-bytes N     size of the req.hdrs_bin block (default 1024)\n"
    "  --body-bytes N       size of the body argument (default 0)\n"
    "  --json               print one JSON object instead of text\n";

static bool parse_num(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !(v >= min && v <= max))
        return false;
    *out = v;
    return true;
}

/* Fills *o from argv; false (after printing why) on bad usage. */
static bool parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"target", required_argument, NULL, 't'},
        {"connections", required_argument, NULL, 'c'},
        {"pipeline", required_argument, NULL, 'p'},
        {"duration", required_argument, NULL, 'd'},
        {"requests", required_argument, NULL, 'n'},
        {"rate", required_argument, NULL, 'r'},
        {"header-bytes", required_argument, NULL, 'H'},
        {"body-bytes", required_argument, NULL, 'B'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){
        .target = "127.0.0.1:12345",
        .connections = 1,
        .pipeline = 20,
        .header_bytes = DEFAULT_HEADER_BYTES,
    };
    int ch;
    double v = 0;
    int idx = 0;
    while ((ch = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        bool ok = true;
        switch (ch) {
        case 't':
            o->target = optarg;
            break;
        case 'c':
            ok = parse_num(optarg, 1, MAX_CONNECTIONS, &v) && v == floor(v);
            o->connections = (unsigned)v;
            break;
        case 'p':
            ok = parse_num(optarg, 1, MAX_PIPELINE, &v) && v == floor(v);
            o->pipeline = (unsigned)v;
            break;
        case 'd':
            ok = parse_num(optarg, 0.001, MAX_DURATION_S, &o->duration_s);
            break;
        case 'n':
            ok = parse_num(optarg, 1, 1e12, &v) && v == floor(v);
            o->requests = (uint64_t)v;
            break;
        case 'r':
            ok = parse_num(optarg, 0, 1e8, &o->rate);
            break;
        case 'H':
            ok = parse_num(optarg, 0, OUR_MAX_FRAME, &v) && v == floor(v);
            o->header_bytes = (size_t)v;
            break;
        case 'B':
            ok = parse_num(optarg, 0, OUR_MAX_FRAME, &v) && v == floor(v);
            o->body_bytes = (size_t)v;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            fputs(usage, stdout);
            exit(0);
        default:
            ok = false;
            break;
        }
        if (!ok) {
            if (ch != '?')
                fprintf(stderr, "spop_loadgen: bad value for --%s: %s\n", longopts[idx].name,
                        optarg ? optarg : "");
            fputs(usage, stderr);
            return false;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "spop_loadgen: unexpected argument: %s\n%s", argv[optind], usage);
        return false;
    }
    char err[256];
    if (net_split_host_port(o->target, o->host, sizeof(o->host), o->port, sizeof(o->port), err,
                            sizeof(err)) != 0) {
        fprintf(stderr, "spop_loadgen: --target: %s\n", err);
        return false;
    }
    if (o->host[0] == '\0')
        snprintf(o->host, sizeof(o->host), "127.0.0.1");
    if (o->duration_s == 0)
        o->duration_s = o->requests ? MAX_DURATION_S : DEFAULT_DURATION_S;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Results. */

/* clang-format off */
#define LG_ERRORS(X)                                                        \
    X(CONNECT,    "connect")          /* connect() failed */              \
    X(HANDSHAKE,  "handshake")        /* no valid AGENT-HELLO */          \
    X(FRAME,      "bad_frame")        /* undecodable or oversized frame */ \
    X(TYPE,       "unexpected_type")  /* a frame that is not an ACK */    \
    X(FLAGS,      "bad_flags")        /* flags other than FIN */          \
    X(STREAM,     "unknown_stream")   /* stream-id not in flight */       \
    X(FRAME_ID,   "bad_frame_id")     /* frame-id other than 1 */         \
    X(ACTIONS,    "bad_actions")      /* not one set-var txn.mirrored bool */ \
    X(DISCONNECT, "agent_disconnect") /* the agent sent AGENT-DISCONNECT */ \
    X(CLOSED,     "closed")           /* EOF or socket error mid-run */   \
    X(LOST,       "lost")             /* in flight on a connection that failed */ \
    X(UNANSWERED, "unanswered")       /* no ACK before the drain timeout */
/* clang-format on */

enum lg_error {
#define LG_ERR_ENUM(name, str) LG_ERR_##name,
    LG_ERRORS(LG_ERR_ENUM)
#undef LG_ERR_ENUM
        LG_ERR_ENTRIES
};

static const char *const lg_error_names[] = {
#define LG_ERR_NAME(name, str) str,
    LG_ERRORS(LG_ERR_NAME)
#undef LG_ERR_NAME
};

struct results {
    uint64_t sent;
    uint64_t acks;
    uint64_t mirrored_true;
    uint64_t errors[LG_ERR_ENTRIES];
    struct hist latency;     /* ns: NOTIFY handed to send() -> its ACK read */
    struct hist due_latency; /* ns, open loop: NOTIFY due -> its ACK read (includes the lag) */
    struct hist lag;         /* ns, open loop: NOTIFY due -> handed to send() */
    uint64_t t_start, t_last_ack;
    double cpu_s;
    uint64_t preemptions; /* involuntary context switches during the run */
    size_t frame_bytes;
    size_t hdrs_bytes;
};

static uint64_t errors_total(const struct results *r)
{
    uint64_t n = 0;
    for (int i = 0; i < LG_ERR_ENTRIES; i++)
        n += r->errors[i];
    return n;
}

/* ------------------------------------------------------------------------ */
/* The NOTIFY payload: one "mirror" message shaped like HAProxy 3.4's. */

struct header {
    const char *name, *value;
};

static const struct header base_headers[] = {
    {"host", "shop.example.com"},
    {"user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/126.0.0.0 Safari/537.36"},
    {"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"},
    {"accept-language", "en-US,en;q=0.9,fr;q=0.8"},
    {"accept-encoding", "gzip, deflate, br, zstd"},
    {"referer", "https://shop.example.com/catalog/shoes?color=blue&size=42"},
    {"x-request-id", "3f2b8c1e-6d4a-4f7e-9b21-0c5d8e7a9f13"},
    {"x-forwarded-for", "203.0.113.42, 10.0.0.12"},
    {"x-forwarded-proto", "https"},
    {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
};

static const char cookie_pattern[] =
    "session=9f86d081884c7d659a2feaa0c55ad015; _ga=GA1.2.1234567890.1700000000; "
    "cart=eyJpdGVtcyI6WzEyLDM0LDU2XX0; consent=analytics%3Dtrue%26ads%3Dfalse; ";

static size_t header_size(size_t nlen, size_t vlen)
{
    return spop_varint_size(nlen) + nlen + spop_varint_size(vlen) + vlen;
}

/* Bytes of the smallest cookie header: the name, a one-byte length, one byte. */
#define MIN_COOKIE (1 + 6 + 1 + 1)

/* Writes a req.hdrs_bin block of at most <target> bytes, the base headers that
 * fit then a cookie padding the rest, so that the block is <target> bytes long
 * (give or take one byte where the cookie's length varint grows) unless
 * <target> is below the size of the first header. */
static void put_hdrs_bin(struct spop_writer *w, size_t target, size_t body_bytes)
{
    size_t start = w->len;
    char clen[24];
    snprintf(clen, sizeof(clen), "%zu", body_bytes);
    const struct header body_headers[] = {{"content-type", "application/json"}, {"content-length", clen}};
    const struct header *lists[2] = {base_headers, body_headers};
    size_t counts[2] = {sizeof(base_headers) / sizeof(base_headers[0]), body_bytes ? 2 : 0};
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < counts[l]; i++) {
            size_t nlen = strlen(lists[l][i].name), vlen = strlen(lists[l][i].value);
            size_t after = w->len - start + header_size(nlen, vlen) + 2; /* with the end marker */
            if (after > target || (after < target && target - after < MIN_COOKIE))
                continue; /* too big, or it would leave a gap no cookie can fill */
            spop_put_name(w, lists[l][i].name, nlen);
            spop_put_name(w, lists[l][i].value, vlen);
        }
    }
    size_t used = w->len - start + 2 + 1 + 6; /* the end marker and the cookie's name */
    if (target >= used + 2) {
        size_t room = target - used; /* for the value's length varint and its bytes */
        size_t vlen = room - 1;
        while (vlen > 1 && spop_varint_size(vlen) + vlen > room)
            vlen--;
        spop_put_name(w, "cookie", 6);
        spop_put_varint(w, vlen);
        for (size_t off = 0; off < vlen; off += sizeof(cookie_pattern) - 1) {
            size_t n = vlen - off < sizeof(cookie_pattern) - 1 ? vlen - off : sizeof(cookie_pattern) - 1;
            spop_put_raw(w, cookie_pattern, n);
        }
    }
    spop_put_u8(w, 0);
    spop_put_u8(w, 0);
}

static void put_arg_str(struct spop_writer *w, const char *name, const char *value)
{
    spop_put_name(w, name, strlen(name));
    spop_put_str(w, value, strlen(value));
}

/* Builds the LIST-OF-MESSAGES of every NOTIFY into a new buffer; returns its
 * length, and the hdrs block's size in *hdrs_bytes. */
static size_t build_payload(const struct options *o, uint8_t **out, size_t *hdrs_bytes)
{
    size_t cap = o->header_bytes + o->body_bytes + 1024;
    uint8_t *buf = xmalloc(cap);
    uint8_t *hdrs = xmalloc(o->header_bytes + 1024);
    uint8_t *body = xmalloc(o->body_bytes + 1);
    for (size_t i = 0; i < o->body_bytes; i++)
        body[i] = (uint8_t)("{\"sku\":\"A-1234\",\"qty\":2}"[i % 25]);

    struct spop_writer hw;
    spop_writer_init(&hw, hdrs, o->header_bytes + 1024);
    put_hdrs_bin(&hw, o->header_bytes, o->body_bytes);
    *hdrs_bytes = hw.len;

    struct spop_writer w;
    spop_writer_init(&w, buf, cap);
    spop_put_name(&w, "mirror", 6);
    spop_put_u8(&w, 9);
    put_arg_str(&w, "method", o->body_bytes ? "POST" : "GET");
    put_arg_str(&w, "path", o->body_bytes ? "/api/v1/cart/items" : "/api/v1/items?page=2&sort=desc");
    put_arg_str(&w, "host", "shop.example.com");
    put_arg_str(&w, "ver", "1.1");
    struct spop_data d = {.type = SPOP_DATA_T_BIN, .u.bytes = {hdrs, hw.len}};
    spop_put_name(&w, "hdrs", 4);
    spop_put_data(&w, &d);
    d = (struct spop_data){.type = SPOP_DATA_T_BIN, .u.bytes = {body, o->body_bytes}};
    spop_put_name(&w, "body", 4);
    spop_put_data(&w, &d);
    d = (struct spop_data){.type = SPOP_DATA_T_INT64, .u.i64 = (int64_t)o->body_bytes};
    spop_put_name(&w, "body_size", 9);
    spop_put_data(&w, &d);
    put_arg_str(&w, "id", "C0000202:D652_7F000001:47AE_6B08FBF6_0000:60D7");
    d = (struct spop_data){.type = SPOP_DATA_T_IPV4, .u.ipv4 = {192, 0, 2, 10}};
    spop_put_name(&w, "src", 3);
    spop_put_data(&w, &d);
    free(hdrs);
    free(body);
    if (w.failed || hw.failed) {
        fprintf(stderr, "spop_loadgen: internal error: payload buffer too small\n");
        exit(2);
    }
    *out = buf;
    return w.len;
}

/* ------------------------------------------------------------------------ */
/* Connections. */

struct slot {
    uint64_t sid;
    uint64_t t_due;  /* open loop: when the NOTIFY was due; 0 in closed loop */
    uint64_t t_sent; /* when it was handed to send() */
    bool used;
};

struct conn {
    int fd;
    bool open;
    bool dirty;   /* output queued since the last flush */
    bool pollout; /* EPOLLOUT registered */
    uint32_t max_frame;
    uint64_t next_sid;
    unsigned inflight;
    unsigned mask; /* slots: a power of two >= 2 * pipeline, indexed by sid / 2 */
    struct slot *slots;
    unsigned *unstamped; /* slots queued but not yet handed to send() */
    unsigned nunstamped;
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *out;
    size_t out_off, out_len, out_cap;
};

struct gen {
    struct options opt;
    struct results res;
    int epfd;
    struct conn *conns;
    unsigned nconns;
    unsigned open_conns;
    struct conn **dirty;
    unsigned ndirty;
    const uint8_t *payload;
    size_t payload_len;
    uint64_t issued;
    uint64_t inflight;
    uint64_t t_stop_issue; /* when sending stops: the duration's end */
    bool stopped;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void conn_fail(struct gen *g, struct conn *c, enum lg_error why)
{
    if (!c->open)
        return;
    g->res.errors[why]++;
    g->res.errors[LG_ERR_LOST] += c->inflight;
    g->inflight -= c->inflight;
    c->inflight = 0;
    epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->open = false;
    g->open_conns--;
}

/* Queues one NOTIFY on <c>, due at <t_due> (open loop) or 0 (closed loop). */
static void conn_issue(struct gen *g, struct conn *c, uint64_t t_due)
{
    while (c->slots[(c->next_sid >> 1) & c->mask].used)
        c->next_sid += 2; /* a slot still held by a slow stream: skip its sid */
    uint64_t sid = c->next_sid;
    c->next_sid += 2;
    unsigned idx = (unsigned)((sid >> 1) & c->mask);
    c->slots[idx] = (struct slot){.sid = sid, .t_due = t_due, .used = true};
    c->unstamped[c->nunstamped++] = idx;

    if (c->out_off + c->out_len + g->payload_len + FRAME_HEADER_MAX > c->out_cap) {
        memmove(c->out, c->out + c->out_off, c->out_len);
        c->out_off = 0;
    }
    struct spop_writer w;
    spop_writer_init(&w, c->out + c->out_off + c->out_len, c->out_cap - c->out_off - c->out_len);
    size_t start = spop_frame_begin(&w, SPOP_FRM_T_HAPROXY_NOTIFY, SPOP_FRM_FL_FIN, sid, 1);
    spop_put_raw(&w, g->payload, g->payload_len);
    ssize_t n = spop_frame_end(&w, start);
    if (n <= 0) {
        fprintf(stderr, "spop_loadgen: internal error: output buffer too small\n");
        exit(2);
    }
    c->out_len += (size_t)n;
    c->inflight++;
    g->inflight++;
    g->issued++;
    g->res.sent++;
    if (!c->dirty) {
        c->dirty = true;
        g->dirty[g->ndirty++] = c;
    }
}

static void conn_set_pollout(struct gen *g, struct conn *c, bool on)
{
    if (c->pollout == on)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(g->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->pollout = on;
}

/* Hands queued output to the socket; stamps the NOTIFYs it sends and, in open
 * loop, records how late they leave. */
static void conn_flush(struct gen *g, struct conn *c)
{
    if (!c->open || c->out_len == 0)
        return;
    uint64_t t = now_ns();
    for (unsigned i = 0; i < c->nunstamped; i++) {
        struct slot *s = &c->slots[c->unstamped[i]];
        s->t_sent = t;
        if (s->t_due)
            hist_add(&g->res.lag, t > s->t_due ? t - s->t_due : 0);
    }
    c->nunstamped = 0;
    while (c->out_len > 0) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len, MSG_NOSIGNAL);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            conn_fail(g, c, LG_ERR_CLOSED);
            return;
        }
        c->out_off += (size_t)n;
        c->out_len -= (size_t)n;
    }
    if (c->out_len == 0)
        c->out_off = 0;
    conn_set_pollout(g, c, c->out_len > 0);
}

/* Checks that an ACK's actions are exactly one set-var of txn "mirrored" to a bool. */
static bool ack_actions_ok(const struct spop_frame *f, bool *mirrored)
{
    struct spop_action a;
    ssize_t n = spop_action_next(f->payload, f->payload_len, &a);
    if (n <= 0 || (size_t)n != f->payload_len)
        return false;
    if (a.type != SPOP_ACT_T_SET_VAR || a.scope != SPOP_SCOPE_TXN || !spop_bytes_eq(a.name, "mirrored") ||
        a.value.type != SPOP_DATA_T_BOOL)
        return false;
    *mirrored = a.value.u.boolean;
    return true;
}

/* Handles one frame from the agent; false when the connection must close. */
static bool on_agent_frame(struct gen *g, struct conn *c, const struct spop_frame *f, uint64_t t_now)
{
    if (f->type == SPOP_FRM_T_AGENT_DISCON) {
        conn_fail(g, c, LG_ERR_DISCONNECT);
        return false;
    }
    if (f->type != SPOP_FRM_T_AGENT_ACK) {
        conn_fail(g, c, LG_ERR_TYPE);
        return false;
    }
    if (f->flags != SPOP_FRM_FL_FIN) {
        conn_fail(g, c, LG_ERR_FLAGS);
        return false;
    }
    struct slot *s = &c->slots[(f->stream_id >> 1) & c->mask];
    if (!s->used || s->sid != f->stream_id) {
        conn_fail(g, c, LG_ERR_STREAM);
        return false;
    }
    if (f->frame_id != 1) {
        conn_fail(g, c, LG_ERR_FRAME_ID);
        return false;
    }
    bool mirrored;
    if (!ack_actions_ok(f, &mirrored)) {
        conn_fail(g, c, LG_ERR_ACTIONS);
        return false;
    }
    s->used = false;
    c->inflight--;
    g->inflight--;
    g->res.acks++;
    g->res.mirrored_true += mirrored;
    g->res.t_last_ack = t_now;
    hist_add(&g->res.latency, t_now > s->t_sent ? t_now - s->t_sent : 0);
    if (s->t_due)
        hist_add(&g->res.due_latency, t_now > s->t_due ? t_now - s->t_due : 0);
    return true;
}

/* Closed loop: refills <c>'s pipeline while the run is still sending. */
static void closed_loop_refill(struct gen *g, struct conn *c)
{
    while (!g->stopped && c->open && c->inflight < g->opt.pipeline &&
           (g->opt.requests == 0 || g->issued < g->opt.requests))
        conn_issue(g, c, 0);
}

/* Reads what the socket has, checks every ACK, and (closed loop) refills. */
static void conn_read(struct gen *g, struct conn *c)
{
    for (int round = 0; round < 4 && c->open; round++) {
        if (c->in_cap - c->in_len < READ_CHUNK / 2) {
            conn_fail(g, c, LG_ERR_FRAME); /* cannot happen: frames are bounded */
            return;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            conn_fail(g, c, LG_ERR_CLOSED);
            return;
        }
        uint64_t t = now_ns();
        c->in_len += (size_t)n;
        size_t off = 0;
        while (c->open) {
            struct spop_frame f;
            ssize_t fl = spop_frame_decode(c->in + off, c->in_len - off, OUR_MAX_FRAME, &f);
            if (fl == 0)
                break;
            if (fl < 0) {
                conn_fail(g, c, LG_ERR_FRAME);
                return;
            }
            if (!on_agent_frame(g, c, &f, t))
                return;
            off += (size_t)fl;
        }
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
        if (g->opt.rate == 0)
            closed_loop_refill(g, c);
        if ((size_t)n < c->in_cap / 4)
            break;
    }
}

/* ------------------------------------------------------------------------ */
/* Handshake (blocking, before the run starts). */

static ssize_t encode_haproxy_hello(uint8_t *out, size_t cap)
{
    char engine[40];
    unsigned long long seed = (unsigned long long)now_ns() ^ ((unsigned long long)getpid() << 32);
    snprintf(engine, sizeof(engine), "%08llx-%04llx-4%03llx-8%03llx-%012llx", seed & 0xffffffffull,
             (seed >> 8) & 0xffff, (seed >> 20) & 0xfff, (seed >> 32) & 0xfff,
             (seed * 2654435761ull) & 0xffffffffffffull);
    struct spop_writer w;
    spop_writer_init(&w, out, cap);
    size_t start = spop_frame_begin(&w, SPOP_FRM_T_HAPROXY_HELLO, SPOP_FRM_FL_FIN, 0, 0);
    put_arg_str(&w, "supported-versions", SPOP_VERSION);
    spop_put_name(&w, "max-frame-size", 14);
    struct spop_data d = {.type = SPOP_DATA_T_UINT32, .u.u64 = OUR_MAX_FRAME};
    spop_put_data(&w, &d);
    put_arg_str(&w, "capabilities", "pipelining");
    put_arg_str(&w, "engine-id", engine);
    return spop_frame_end(&w, start);
}

/* True when the comma-separated list <caps> holds the token <tok>. */
static bool caps_have(struct spop_bytes caps, const char *tok)
{
    size_t tl = strlen(tok), i = 0;
    while (i <= caps.len) {
        size_t j = i;
        while (j < caps.len && caps.ptr[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && caps.ptr[a] == ' ')
            a++;
        while (b > a && caps.ptr[b - 1] == ' ')
            b--;
        if (b - a == tl && memcmp(caps.ptr + a, tok, tl) == 0)
            return true;
        i = j + 1;
    }
    return false;
}

/* Checks an AGENT-HELLO and stores its max-frame-size in c->max_frame. */
static bool check_agent_hello(struct conn *c, const struct spop_frame *f, char *why, size_t why_len)
{
    if (f->type != SPOP_FRM_T_AGENT_HELLO || f->flags != SPOP_FRM_FL_FIN || f->stream_id || f->frame_id) {
        snprintf(why, why_len, "expected AGENT-HELLO, got %s flags=%u sid=%llu fid=%llu",
                 spop_frame_type_str(f->type), f->flags, (unsigned long long)f->stream_id,
                 (unsigned long long)f->frame_id);
        return false;
    }
    bool version = false, caps = false;
    uint64_t mfs = 0;
    size_t off = 0;
    while (off < f->payload_len) {
        struct spop_kv kv;
        ssize_t n = spop_kv_next(f->payload + off, f->payload_len - off, &kv);
        if (n <= 0) {
            snprintf(why, why_len, "malformed AGENT-HELLO KV-LIST");
            return false;
        }
        off += (size_t)n;
        if (spop_bytes_eq(kv.name, "version"))
            version = kv.value.type == SPOP_DATA_T_STR && spop_bytes_eq(kv.value.u.bytes, SPOP_VERSION);
        else if (spop_bytes_eq(kv.name, "max-frame-size") && !spop_data_as_uint(&kv.value, &mfs))
            mfs = 0;
        else if (spop_bytes_eq(kv.name, "capabilities"))
            caps = kv.value.type == SPOP_DATA_T_STR && caps_have(kv.value.u.bytes, "pipelining");
    }
    if (!version || mfs < SPOP_MIN_FRAME_SIZE || mfs > OUR_MAX_FRAME || !caps) {
        snprintf(why, why_len, "AGENT-HELLO: version %s, max-frame-size %llu, pipelining %s",
                 version ? "2.0" : "missing/wrong", (unsigned long long)mfs, caps ? "yes" : "no");
        return false;
    }
    c->max_frame = (uint32_t)mfs;
    return true;
}

/* Connects and completes the HELLO exchange; false (with *why) on failure. */
static bool conn_open(struct gen *g, struct conn *c, const struct addrinfo *ai, char *why, size_t why_len,
                      enum lg_error *err)
{
    *err = LG_ERR_CONNECT;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd == -1) {
        snprintf(why, why_len, "socket: %s", strerror(errno));
        return false;
    }
    struct timeval tv = {.tv_sec = HANDSHAKE_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
        snprintf(why, why_len, "connect %s: %s", g->opt.target, strerror(errno));
        close(fd);
        return false;
    }
    *err = LG_ERR_HANDSHAKE;
    uint8_t hello[256];
    ssize_t hl = encode_haproxy_hello(hello, sizeof(hello));
    if (hl <= 0 || send(fd, hello, (size_t)hl, MSG_NOSIGNAL) != hl) {
        snprintf(why, why_len, "sending HAPROXY-HELLO: %s", strerror(errno));
        close(fd);
        return false;
    }
    c->fd = fd;
    for (;;) {
        ssize_t n = recv(fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n <= 0) {
            snprintf(why, why_len, "waiting for AGENT-HELLO: %s",
                     n == 0 ? "connection closed" : strerror(errno));
            break;
        }
        c->in_len += (size_t)n;
        struct spop_frame f;
        ssize_t fl = spop_frame_decode(c->in, c->in_len, OUR_MAX_FRAME, &f);
        if (fl < 0) {
            snprintf(why, why_len, "undecodable AGENT-HELLO (%s)", spop_error_str((int)-fl));
            break;
        }
        if (fl == 0)
            continue;
        if (!check_agent_hello(c, &f, why, why_len))
            break;
        memmove(c->in, c->in + fl, c->in_len - (size_t)fl);
        c->in_len -= (size_t)fl;
        if (g->payload_len + FRAME_HEADER_MAX - SPOP_FRAME_LEN_BYTES > c->max_frame) {
            snprintf(why, why_len, "NOTIFY of ~%zu bytes exceeds the agent's max-frame-size %u",
                     g->payload_len + FRAME_HEADER_MAX, c->max_frame);
            break;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
            snprintf(why, why_len, "epoll_ctl: %s", strerror(errno));
            break;
        }
        c->open = true;
        g->open_conns++;
        return true;
    }
    close(fd);
    c->fd = -1;
    return false;
}

static void conn_alloc(struct gen *g, struct conn *c)
{
    unsigned nslots = 1;
    while (nslots < 2 * g->opt.pipeline)
        nslots <<= 1;
    *c = (struct conn){.fd = -1, .next_sid = 1, .mask = nslots - 1};
    c->slots = xcalloc(nslots, sizeof(*c->slots));
    c->unstamped = xcalloc(g->opt.pipeline, sizeof(*c->unstamped));
    c->in_cap = READ_CHUNK + OUR_MAX_FRAME + SPOP_FRAME_LEN_BYTES;
    c->in = xmalloc(c->in_cap);
    c->out_cap = (size_t)g->opt.pipeline * (g->payload_len + FRAME_HEADER_MAX) + FRAME_HEADER_MAX;
    c->out = xmalloc(c->out_cap);
}

static void conn_free(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->slots);
    free(c->unstamped);
    free(c->in);
    free(c->out);
}

/* ------------------------------------------------------------------------ */
/* The run. */

static void flush_dirty(struct gen *g)
{
    for (unsigned i = 0; i < g->ndirty; i++) {
        struct conn *c = g->dirty[i];
        c->dirty = false;
        if (!c->pollout)
            conn_flush(g, c);
    }
    g->ndirty = 0;
}

/* Open loop: queues every NOTIFY due by <t> on the first connection with a
 * free slot, as HAProxy 3.x fills one SPOP connection's streams before using
 * another (this also lets one send() carry several NOTIFYs). */
static void open_loop_issue(struct gen *g, uint64_t t0, uint64_t t)
{
    double due_d = floor((double)(t - t0) * g->opt.rate / 1e9) + 1;
    uint64_t due = (uint64_t)due_d;
    if (g->opt.requests && due > g->opt.requests)
        due = g->opt.requests;
    unsigned k = 0;
    while (g->issued < due) {
        while (k < g->nconns && (!g->conns[k].open || g->conns[k].inflight >= g->opt.pipeline))
            k++;
        if (k == g->nconns)
            return; /* every pipeline is full: the NOTIFY is late, counted in the lag */
        uint64_t t_due = t0 + (uint64_t)((double)g->issued * 1e9 / g->opt.rate);
        conn_issue(g, &g->conns[k], t_due);
    }
}

static int wait_timeout_ms(const struct gen *g, uint64_t t0, uint64_t t, uint64_t t_end)
{
    uint64_t until = t_end;
    if (g->opt.rate > 0 && !g->stopped) {
        uint64_t next = t0 + (uint64_t)((double)g->issued * 1e9 / g->opt.rate);
        if (next < t + SPIN_WINDOW_NS)
            return 0;
        if (next < until)
            until = next;
    }
    if (!g->stopped && g->t_stop_issue < until)
        until = g->t_stop_issue;
    if (until <= t)
        return 0;
    uint64_t ms = (until - t) / 1000000u;
    return ms > 100 ? 100 : (int)ms;
}

static void run(struct gen *g)
{
    struct epoll_event evs[EVENTS_PER_WAIT];
    uint64_t t0 = now_ns();
    g->res.t_start = t0;
    g->res.t_last_ack = t0;
    g->t_stop_issue = t0 + (uint64_t)(g->opt.duration_s * 1e9);
    uint64_t t_end = g->t_stop_issue + DRAIN_TIMEOUT_NS;
    if (g->opt.rate == 0) {
        for (unsigned i = 0; i < g->nconns; i++)
            closed_loop_refill(g, &g->conns[i]);
    }
    flush_dirty(g);
    for (;;) {
        uint64_t t = now_ns();
        if (!g->stopped && (t >= g->t_stop_issue || (g->opt.requests && g->issued >= g->opt.requests)))
            g->stopped = true;
        if (g->stopped && g->inflight == 0)
            break;
        if (t >= t_end || g->open_conns == 0)
            break;
        int n = epoll_wait(g->epfd, evs, EVENTS_PER_WAIT, wait_timeout_ms(g, t0, t, t_end));
        if (n == -1 && errno != EINTR) {
            perror("spop_loadgen: epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c->open)
                continue;
            if (evs[i].events & EPOLLOUT)
                conn_flush(g, c);
            if (c->open && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                conn_read(g, c);
        }
        if (g->opt.rate > 0 && !g->stopped) {
            t = now_ns();
            if (t < g->t_stop_issue)
                open_loop_issue(g, t0, t);
        }
        flush_dirty(g);
    }
    g->res.errors[LG_ERR_UNANSWERED] += g->inflight;
}

/* ------------------------------------------------------------------------ */
/* Output. */

/* CPU seconds used so far and involuntary context switches (preemptions). */
static double cpu_seconds(long *nivcsw)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *nivcsw = ru.ru_nivcsw;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static void print_results(const struct gen *g)
{
    const struct results *r = &g->res;
    double elapsed = (double)(r->t_last_ack - r->t_start) / 1e9;
    double rate = elapsed > 0 ? (double)r->acks / elapsed : 0;
    const struct hist *h = &r->latency;
    double p50 = hist_quantile(h, 0.50) / 1e3, p90 = hist_quantile(h, 0.90) / 1e3;
    double p99 = hist_quantile(h, 0.99) / 1e3, p999 = hist_quantile(h, 0.999) / 1e3;
    double mean = h->total ? h->sum / (double)h->total / 1e3 : 0, max = (double)h->max / 1e3;
    double lag99 = hist_quantile(&r->lag, 0.99) / 1e3, lagmax = (double)r->lag.max / 1e3;
    double due99 = hist_quantile(&r->due_latency, 0.99) / 1e3;
    double cpu_pct = elapsed > 0 ? 100.0 * r->cpu_s / elapsed : 0;
    uint64_t errs = errors_total(r);
    if (g->opt.json) {
        printf("{\"target\":\"%s\",\"connections\":%u,\"pipeline\":%u,\"mode\":\"%s\",\"rate_target\":%.0f,"
               "\"header_bytes\":%zu,\"body_bytes\":%zu,\"frame_bytes\":%zu,\"sent\":%llu,\"acks\":%llu,"
               "\"mirrored_true\":%llu,\"errors\":%llu,\"elapsed_s\":%.3f,\"acks_per_s\":%.0f,"
               "\"latency_p50_us\":%.1f,\"latency_p90_us\":%.1f,\"latency_p99_us\":%.1f,"
               "\"latency_p999_us\":%.1f,\"latency_max_us\":%.1f,\"latency_mean_us\":%.1f,"
               "\"send_lag_p99_us\":%.1f,\"send_lag_max_us\":%.1f,\"due_latency_p99_us\":%.1f,"
               "\"loadgen_cpu_pct\":%.1f,"
               "\"loadgen_preemptions\":%llu",
               g->opt.target, g->opt.connections, g->opt.pipeline, g->opt.rate > 0 ? "open" : "closed",
               g->opt.rate, r->hdrs_bytes, g->opt.body_bytes, r->frame_bytes, (unsigned long long)r->sent,
               (unsigned long long)r->acks, (unsigned long long)r->mirrored_true, (unsigned long long)errs,
               elapsed, rate, p50, p90, p99, p999, max, mean, lag99, lagmax, due99, cpu_pct,
               (unsigned long long)r->preemptions);
        for (int i = 0; i < LG_ERR_ENTRIES; i++)
            printf(",\"error_%s\":%llu", lg_error_names[i], (unsigned long long)r->errors[i]);
        printf("}\n");
        return;
    }
    printf("target %s: %u connection(s) x pipeline %u, %s, NOTIFY %zu bytes (hdrs %zu, body %zu)\n",
           g->opt.target, g->opt.connections, g->opt.pipeline, g->opt.rate > 0 ? "open loop" : "closed loop",
           r->frame_bytes, r->hdrs_bytes, g->opt.body_bytes);
    if (g->opt.rate > 0)
        printf("offered     %.0f NOTIFY/s; send lag p99 %.1f us, max %.1f us; latency from due time p99 %.1f "
               "us\n",
               g->opt.rate, lag99, lagmax, due99);
    printf("sent        %llu NOTIFY, %llu ACK (%llu mirrored=true) in %.3f s\n", (unsigned long long)r->sent,
           (unsigned long long)r->acks, (unsigned long long)r->mirrored_true, elapsed);
    printf("throughput  %.0f ACK/s\n", rate);
    printf("latency us  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f\n", p50, p90, p99, p999,
           max, mean);
    printf("loadgen CPU %.1f%% of one core, preempted %llu times\n", cpu_pct,
           (unsigned long long)r->preemptions);
    printf("errors      %llu", (unsigned long long)errs);
    for (int i = 0; i < LG_ERR_ENTRIES; i++)
        if (r->errors[i])
            printf("  %s=%llu", lg_error_names[i], (unsigned long long)r->errors[i]);
    printf("\n");
}

int main(int argc, char **argv)
{
    static struct gen g; /* large (histograms): keep it off the stack */
    if (!parse_options(argc, argv, &g.opt))
        return 2;
    uint8_t *payload;
    g.payload_len = build_payload(&g.opt, &payload, &g.res.hdrs_bytes);
    g.payload = payload;
    {
        uint8_t probe[FRAME_HEADER_MAX];
        struct spop_writer w;
        spop_writer_init(&w, probe, sizeof(probe));
        spop_frame_begin(&w, SPOP_FRM_T_HAPROXY_NOTIFY, SPOP_FRM_FL_FIN, 1, 1);
        g.res.frame_bytes = w.len + g.payload_len;
    }
    if (g.res.frame_bytes - SPOP_FRAME_LEN_BYTES > OUR_MAX_FRAME) {
        fprintf(stderr,
                "spop_loadgen: a NOTIFY of %zu bytes exceeds max-frame-size %u: lower --header-bytes or "
                "--body-bytes\n",
                g.res.frame_bytes, OUR_MAX_FRAME);
        return 2;
    }

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    int rc = getaddrinfo(g.opt.host, g.opt.port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "spop_loadgen: %s: %s\n", g.opt.target, gai_strerror(rc));
        return 2;
    }
    g.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (g.epfd == -1) {
        perror("spop_loadgen: epoll_create1");
        return 1;
    }
    g.nconns = g.opt.connections;
    g.conns = xcalloc(g.nconns, sizeof(*g.conns));
    g.dirty = xcalloc(g.nconns, sizeof(*g.dirty));
    bool ok = true;
    for (unsigned i = 0; i < g.nconns && ok; i++) {
        char why[256];
        enum lg_error err;
        conn_alloc(&g, &g.conns[i]);
        if (!conn_open(&g, &g.conns[i], ai, why, sizeof(why), &err)) {
            fprintf(stderr, "spop_loadgen: connection %u: %s\n", i + 1, why);
            g.res.errors[err]++;
            ok = false;
        }
    }
    freeaddrinfo(ai);
    if (ok) {
        long sw0, sw1;
        double cpu0 = cpu_seconds(&sw0);
        run(&g);
        g.res.cpu_s = cpu_seconds(&sw1) - cpu0;
        g.res.preemptions = (uint64_t)(sw1 - sw0);
    }
    print_results(&g);
    for (unsigned i = 0; i < g.nconns; i++)
        conn_free(&g.conns[i]);
    free(g.conns);
    free(g.dirty);
    free(payload);
    close(g.epfd);
    return errors_total(&g.res) == 0 && g.res.acks > 0 && g.res.acks == g.res.sent ? 0 : 1;
}
