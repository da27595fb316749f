#include "mirror/mirror_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "core/clock.h"
#include "core/container_of.h"
#include "core/xalloc.h"
#include "mirror/http_exchange.h"

/* Bytes read from a mirror at a time; responses are parsed and dropped. */
#define READ_CHUNK 16384
/* Period of the sweep that expires queued requests. */
#define SWEEP_PERIOD_S 0.25

struct mreq {
    struct mreq *next;
    uint8_t *data;
    size_t len;
    bool head;
    bool retried;
    bool counted_sent; /* already counted in ctr->sent (a retry is not counted again) */
    uint64_t queued_ns;
};

enum mconn_state { MC_CONNECTING, MC_IDLE, MC_SENDING, MC_RECEIVING };

struct mconn {
    ev_io io;
    ev_timer timer;
    struct mirror_client *client;
    struct mconn *prev, *next;
    int fd;
    enum mconn_state state;
    struct mreq *req;
    bool reused; /* a response was already completed on this connection */
    uint64_t start_ns;
    struct http_exchange x; /* of <req> */
};

struct mirror_client {
    struct ev_loop *loop;
    struct mirror_client_settings set;
    struct target_addr *addr;
    struct mirror_counters *ctr;
    const struct logger *log;
    struct mconn *conns; /* idle connections first */
    struct mconn *tail;  /* the last of conns, so busy ones are appended in O(1) */
    uint32_t nconns;
    struct mreq *qhead, *qtail;
    uint32_t queued;
    uint32_t failures;
    uint64_t circuit_until_ns;
    ev_timer sweep;
};

static void req_free(struct mreq *r)
{
    free(r->data);
    free(r);
}

static void drop(struct mirror_client *c, struct mreq *r, enum mirror_drop why)
{
    if (why >= MIRROR_DROP_ENTRIES)
        why = MIRROR_DROP_IO_ERROR;
    counter_inc(&c->ctr->dropped[why]);
    if (c->set.on_done)
        c->set.on_done(c->set.on_done_ctx, 0, mono_ns() - r->queued_ns, why);
    req_free(r);
}

/* ---- connection list: idle connections are kept at the front ---- */

static void list_remove(struct mirror_client *c, struct mconn *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        c->conns = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        c->tail = m->prev;
    m->prev = m->next = NULL;
}

static void list_push_front(struct mirror_client *c, struct mconn *m)
{
    m->next = c->conns;
    m->prev = NULL;
    if (c->conns)
        c->conns->prev = m;
    else
        c->tail = m;
    c->conns = m;
}

static void list_push_back(struct mirror_client *c, struct mconn *m)
{
    if (!c->tail) {
        list_push_front(c, m);
        return;
    }
    c->tail->next = m;
    m->prev = c->tail;
    m->next = NULL;
    c->tail = m;
}

/* ---- queue ---- */

static void queue_push(struct mirror_client *c, struct mreq *r)
{
    r->next = NULL;
    if (c->qtail)
        c->qtail->next = r;
    else
        c->qhead = r;
    c->qtail = r;
    c->queued++;
    counter_inc(&c->ctr->queued);
}

static struct mreq *queue_pop(struct mirror_client *c)
{
    struct mreq *r = c->qhead;
    if (!r)
        return NULL;
    c->qhead = r->next;
    if (!c->qhead)
        c->qtail = NULL;
    c->queued--;
    counter_add(&c->ctr->queued, (uint64_t)-1);
    r->next = NULL;
    return r;
}

static bool circuit_open(const struct mirror_client *c, uint64_t now)
{
    return c->circuit_until_ns > now;
}

/* ---- connections ---- */

static void conn_start_io(struct mirror_client *c, struct mconn *m, int events)
{
    if (ev_is_active(&m->io) && (m->io.events & (EV_READ | EV_WRITE)) == events)
        return; /* already watching for exactly that: no epoll_ctl */
    ev_io_stop(c->loop, &m->io);
    ev_io_set(&m->io, m->fd, events);
    ev_io_start(c->loop, &m->io);
}

static void conn_arm_timer(struct mirror_client *c, struct mconn *m, uint32_t ms)
{
    ev_timer_stop(c->loop, &m->timer);
    ev_timer_set(&m->timer, ms / 1000.0, 0.);
    ev_timer_start(c->loop, &m->timer);
}

/* Closes <m>; its request, if any, is dropped with <why>. */
static void conn_close(struct mirror_client *c, struct mconn *m, enum mirror_drop why)
{
    ev_io_stop(c->loop, &m->io);
    ev_timer_stop(c->loop, &m->timer);
    if (m->req) {
        counter_add(&c->ctr->inflight, (uint64_t)-1);
        drop(c, m->req, why);
        m->req = NULL;
    }
    close(m->fd);
    list_remove(c, m);
    c->nconns--;
    free(m);
}

static void pump(struct mirror_client *c);
static void conn_fail(struct mirror_client *c, struct mconn *m);
static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents);
static void conn_timer_cb(struct ev_loop *loop, ev_timer *t, int revents);

/* Writes what the socket takes of the current request. */
static void conn_send(struct mirror_client *c, struct mconn *m)
{
    while (!http_exchange_sent(&m->x)) {
        size_t left;
        const uint8_t *p = http_exchange_unsent(&m->x, &left);
        ssize_t n = send(m->fd, p, left, MSG_NOSIGNAL);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                conn_start_io(c, m, EV_WRITE);
                return;
            }
            conn_fail(c, m);
            return;
        }
        http_exchange_wrote(&m->x, (size_t)n);
    }
    if (!m->req->counted_sent) {
        m->req->counted_sent = true;
        counter_inc(&c->ctr->sent);
    }
    m->state = MC_RECEIVING;
    conn_start_io(c, m, EV_READ);
}

/* Starts request <r> on the connected, idle connection <m>. */
static void conn_assign(struct mirror_client *c, struct mconn *m, struct mreq *r)
{
    m->req = r;
    m->start_ns = mono_ns();
    http_exchange_start(&m->x, r->data, r->len, r->head);
    m->state = MC_SENDING;
    if (m->reused)
        counter_inc(&c->ctr->reused);
    counter_inc(&c->ctr->inflight);
    list_remove(c, m);
    list_push_back(c, m);
    conn_arm_timer(c, m, c->set.timeout_ms);
    conn_send(c, m);
}

static void connect_failed(struct mirror_client *c, struct mconn *m, int err)
{
    counter_inc(&c->ctr->connect_failures);
    c->failures++;
    if (c->failures >= c->set.circuit_failures && c->set.circuit_failures > 0) {
        uint64_t now = mono_ns();
        if (!circuit_open(c, now))
            log_event(c->log, LOG_LVL_WARN, "circuit_open",
                      "mirror=%s host=%s port=%u failures=%u open_ms=%u", c->set.name, c->addr->host,
                      c->addr->port, c->failures, c->set.circuit_open_ms);
        c->circuit_until_ns = now + (uint64_t)c->set.circuit_open_ms * 1000000ull;
    } else {
        log_event(c->log, LOG_LVL_DEBUG, "connect_failed", "mirror=%s host=%s port=%u errno=\"%s\"",
                  c->set.name, c->addr->host, c->addr->port, strerror(err));
    }
    conn_close(c, m, MIRROR_DROP_CONNECT_ERROR);
}

static void on_connected(struct mirror_client *c, struct mconn *m)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(m->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
        err = errno;
    if (err != 0) {
        connect_failed(c, m, err);
        return;
    }
    c->failures = 0;
    counter_inc(&c->ctr->connects);
    struct mreq *r = m->req;
    m->req = NULL;
    counter_add(&c->ctr->inflight, (uint64_t)-1); /* conn_assign counts it again */
    m->state = MC_IDLE;
    conn_assign(c, m, r);
}

/* Opens a connection for request <r>. Returns false (and drops <r>) when the
 * connection cannot even be started. */
static bool conn_open(struct mirror_client *c, struct mreq *r)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (!target_addr_pick(c->addr, &ss, &sl)) {
        counter_inc(&c->ctr->connect_failures);
        drop(c, r, MIRROR_DROP_CONNECT_ERROR);
        return false;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        counter_inc(&c->ctr->connect_failures);
        drop(c, r, MIRROR_DROP_CONNECT_ERROR);
        return false;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct mconn *m = xcalloc(1, sizeof(*m));
    m->client = c;
    m->fd = fd;
    m->req = r;
    m->state = MC_CONNECTING;
    ev_io_init(&m->io, conn_io_cb, fd, EV_WRITE);
    ev_timer_init(&m->timer, conn_timer_cb, 0., 0.);
    list_push_back(c, m);
    c->nconns++;
    counter_inc(&c->ctr->inflight);
    int rc = connect(fd, (struct sockaddr *)&ss, sl);
    if (rc == -1 && errno != EINPROGRESS) {
        connect_failed(c, m, errno);
        return false;
    }
    conn_arm_timer(c, m, c->set.connect_timeout_ms);
    ev_io_start(c->loop, &m->io);
    return true;
}

/* The response is complete: count it, then keep or close the connection. */
static void conn_finish(struct mirror_client *c, struct mconn *m)
{
    uint64_t elapsed = mono_ns() - m->start_ns;
    latency_observe(&c->ctr->latency, elapsed);
    counter_inc(&c->ctr->responses[status_class_slot(m->x.status)]);
    counter_add(&c->ctr->inflight, (uint64_t)-1);
    if (c->set.on_done)
        c->set.on_done(c->set.on_done_ctx, m->x.status, elapsed, MIRROR_DROP_NONE);
    req_free(m->req);
    m->req = NULL;
    if (!m->x.keep_alive) {
        conn_close(c, m, MIRROR_DROP_NONE);
        return;
    }
    m->reused = true;
    m->state = MC_IDLE;
    list_remove(c, m);
    list_push_front(c, m);
    conn_arm_timer(c, m, c->set.idle_timeout_ms);
    conn_start_io(c, m, EV_READ); /* to notice the server closing it */
}

/* A kept-alive connection failed before any byte of the response: the server
 * most likely closed it as we reused it. The request goes out once more on a
 * new connection. */
static void conn_retry(struct mirror_client *c, struct mconn *m)
{
    struct mreq *r = m->req;
    m->req = NULL;
    counter_add(&c->ctr->inflight, (uint64_t)-1);
    conn_close(c, m, MIRROR_DROP_NONE);
    r->retried = true;
    if (c->nconns < c->set.max_inflight)
        conn_open(c, r);
    else
        queue_push(c, r);
}

/* The exchange on <m> failed (write error, reset, early EOF, bad response):
 * retried once when it was a reused connection that sent no response byte,
 * dropped as an I/O error otherwise. <m> is gone on return. */
static void conn_fail(struct mirror_client *c, struct mconn *m)
{
    if (m->reused && !m->x.got_bytes && !m->req->retried)
        conn_retry(c, m);
    else
        conn_close(c, m, MIRROR_DROP_IO_ERROR);
}

static void conn_read(struct mirror_client *c, struct mconn *m)
{
    uint8_t buf[READ_CHUNK];
    for (;;) {
        ssize_t n = recv(m->fd, buf, sizeof(buf), 0);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (m->state == MC_IDLE)
                conn_close(c, m, MIRROR_DROP_NONE);
            else
                conn_fail(c, m);
            return;
        }
        if (m->state == MC_IDLE) {
            /* EOF, or bytes nobody asked for: either way the connection is done. */
            conn_close(c, m, MIRROR_DROP_NONE);
            return;
        }
        switch (http_exchange_feed(&m->x, buf, (size_t)n)) {
        case HTTP_EXCHANGE_MORE:
            break;
        case HTTP_EXCHANGE_COMPLETE:
            conn_finish(c, m);
            return;
        case HTTP_EXCHANGE_FAILED:
            conn_fail(c, m); /* without response bytes, only an EOF gets here */
            return;
        }
    }
}

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct mconn *m = CONTAINER_OF(io, struct mconn, io);
    struct mirror_client *c = m->client;
    (void)loop;
    (void)revents;
    switch (m->state) {
    case MC_CONNECTING:
        on_connected(c, m);
        break;
    case MC_SENDING:
        conn_send(c, m);
        break;
    case MC_RECEIVING:
    case MC_IDLE:
        conn_read(c, m);
        break;
    }
    pump(c); /* a connection may have become free, or gone */
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct mconn *m = CONTAINER_OF(t, struct mconn, timer);
    struct mirror_client *c = m->client;
    (void)loop;
    (void)revents;
    switch (m->state) {
    case MC_CONNECTING:
        connect_failed(c, m, ETIMEDOUT);
        break;
    case MC_SENDING:
    case MC_RECEIVING:
        conn_close(c, m, MIRROR_DROP_TIMEOUT);
        break;
    case MC_IDLE:
        conn_close(c, m, MIRROR_DROP_NONE);
        break;
    }
    pump(c);
}

/* Moves queued requests onto connections while there is room; drops those
 * that waited too long, and all of them while the circuit is open. */
static void pump(struct mirror_client *c)
{
    uint64_t now = mono_ns();
    uint64_t max_wait = (uint64_t)c->set.timeout_ms * 1000000ull;
    while (c->qhead) {
        if (circuit_open(c, now)) {
            drop(c, queue_pop(c), MIRROR_DROP_CIRCUIT_OPEN);
            continue;
        }
        if (now - c->qhead->queued_ns > max_wait) {
            drop(c, queue_pop(c), MIRROR_DROP_INFLIGHT_LIMIT);
            continue;
        }
        struct mconn *idle = c->conns;
        if (idle && idle->state == MC_IDLE) {
            conn_assign(c, idle, queue_pop(c));
        } else if (c->nconns < c->set.max_inflight) {
            conn_open(c, queue_pop(c));
        } else {
            break;
        }
    }
}

static void sweep_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct mirror_client *c = CONTAINER_OF(t, struct mirror_client, sweep);
    (void)loop;
    (void)revents;
    pump(c);
}

struct mirror_client *mirror_client_new(struct ev_loop *loop, const struct mirror_client_settings *set,
                                        struct target_addr *addr, struct mirror_counters *ctr,
                                        const struct logger *log)
{
    struct mirror_client *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->set = *set;
    if (c->set.max_inflight == 0)
        c->set.max_inflight = 1;
    c->addr = addr;
    c->ctr = ctr;
    c->log = log;
    ev_timer_init(&c->sweep, sweep_cb, SWEEP_PERIOD_S, SWEEP_PERIOD_S);
    ev_timer_start(loop, &c->sweep);
    return c;
}

enum mirror_drop mirror_client_submit(struct mirror_client *c, uint8_t *req, size_t len, bool head_request)
{
    uint64_t now = mono_ns();
    struct mreq *r = xcalloc(1, sizeof(*r));
    r->data = req;
    r->len = len;
    r->head = head_request;
    r->queued_ns = now;
    if (circuit_open(c, now)) {
        drop(c, r, MIRROR_DROP_CIRCUIT_OPEN);
        return MIRROR_DROP_CIRCUIT_OPEN;
    }
    struct mconn *idle = c->conns;
    if (!c->qhead && idle && idle->state == MC_IDLE) {
        conn_assign(c, idle, r);
        return MIRROR_DROP_NONE;
    }
    if (!c->qhead && c->nconns < c->set.max_inflight)
        return conn_open(c, r) ? MIRROR_DROP_NONE : MIRROR_DROP_CONNECT_ERROR;
    if (c->queued >= c->set.max_queue) {
        drop(c, r, MIRROR_DROP_QUEUE_FULL);
        return MIRROR_DROP_QUEUE_FULL;
    }
    queue_push(c, r);
    return MIRROR_DROP_NONE;
}

bool mirror_client_busy(const struct mirror_client *c)
{
    if (c->qhead)
        return true;
    for (const struct mconn *m = c->conns; m; m = m->next)
        if (m->req)
            return true;
    return false;
}

void mirror_client_free(struct mirror_client *c)
{
    if (!c)
        return;
    ev_timer_stop(c->loop, &c->sweep);
    while (c->conns)
        conn_close(c, c->conns, MIRROR_DROP_SHUTDOWN);
    while (c->qhead)
        drop(c, queue_pop(c), MIRROR_DROP_SHUTDOWN);
    free(c);
}
