#include "mirror/mirror_client.h"

#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "core/list.h"
#include "core/xalloc.h"
#include "mirror/http_exchange.h"

/* Bytes read from a mirror at a time; responses are parsed and dropped. */
#define READ_CHUNK 16384

struct mreq {
    struct mreq *next;
    uint8_t *data;
    size_t len;
    bool head;
    bool idempotent; /* may be written whole twice */
    bool retried;
    bool counted_sent; /* already counted in ctr->sent (a retry is not counted again) */
    uint64_t queued_ns;
    struct mirror_observer obs; /* zero: none */
};

/* A connection carries at most one request at a time: CONNECTING (with its
 * first request), SENDING it, RECEIVING its response up to the headers,
 * then DRAINING the rest of the body (the request has ended, delivered) and
 * IDLE until the next one. */
enum mconn_state { MC_CONNECTING, MC_IDLE, MC_SENDING, MC_RECEIVING, MC_DRAINING };

struct mirror_conn {
    struct list_node node; /* in client->conns */
    struct mirror_client *client;
    enum mconn_state state;
    struct mreq *req; /* CONNECTING, SENDING, RECEIVING: the request; else NULL */
    bool reused;      /* a response was already completed on this connection */
    uint64_t start_ns;
    uint64_t connected_ns;        /* when the connect succeeded: its age counts from there */
    struct sockaddr_storage peer; /* the address it connected to */
    socklen_t peer_len;
    uint64_t addr_gen;      /* the target's generation when <peer> was last known in its set */
    struct http_exchange x; /* of the current or last request */
    /* DRAINING: the observer of the delivered request, told when the body ends. */
    struct mirror_observer obs;
    int obs_status;
    uint64_t obs_latency_ns;
    /* The transport's conn_size bytes. */
    alignas(max_align_t) unsigned char data[];
};

struct mirror_client {
    struct mirror_client_settings set;
    struct target_addr *addr;
    struct mirror_counters *ctr;
    const struct logger *log;
    const struct mirror_transport *tr;
    void *tr_ctx;
    struct list_node conns; /* idle connections first */
    uint32_t nconns;
    struct mreq *qhead, *qtail;
    uint32_t queued;
    uint32_t failures;
    uint32_t cuts; /* delivered responses in a row whose body could not be read whole */
    uint64_t circuit_until_ns;
    bool pump_deferred; /* defer() was called; its sweep has not come yet */
};

static uint64_t now_ns(const struct mirror_client *c)
{
    return c->tr->now_ns(c->tr_ctx);
}

static void req_free(struct mreq *r)
{
    free(r->data);
    free(r);
}

/* Tells the observer of the request delivered on <m> that its body ended. */
static void observer_end(struct mirror_conn *m, bool body_whole)
{
    if (!m->obs.end)
        return;
    struct mirror_observer obs = m->obs;
    memset(&m->obs, 0, sizeof(m->obs));
    http_exchange_observe(&m->x, NULL, NULL);
    obs.end(obs.ctx, m->obs_status, m->obs_latency_ns, MIRROR_DROP_NONE, body_whole);
}

static void drop(struct mirror_client *c, struct mreq *r, enum mirror_drop why)
{
    if (why >= MIRROR_DROP_ENTRIES)
        why = MIRROR_DROP_IO_ERROR;
    counter_inc(&c->ctr->dropped[why]);
    if (c->set.on_done)
        c->set.on_done(c->set.on_done_ctx, 0, now_ns(c) - r->queued_ns, why);
    if (r->obs.end)
        r->obs.end(r->obs.ctx, 0, now_ns(c) - r->queued_ns, why, false);
    req_free(r);
}

/* The first connection: an idle one if any is idle. */
static struct mirror_conn *first_conn(const struct mirror_client *c)
{
    struct list_node *n = list_first(&c->conns);
    return n ? list_entry(n, struct mirror_conn, node) : NULL;
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

/* Closes <m>; its request, if any, is dropped with <why>. */
static void conn_close(struct mirror_client *c, struct mirror_conn *m, enum mirror_drop why)
{
    if (m->req) {
        counter_add(&c->ctr->inflight, (uint64_t)-1);
        drop(c, m->req, why);
        m->req = NULL;
    }
    observer_end(m, false);
    c->tr->close(c->tr_ctx, m);
    list_remove(&m->node);
    c->nconns--;
    free(m);
}

static void pump(struct mirror_client *c);
static void conn_fail(struct mirror_client *c, struct mirror_conn *m);

/* Writes what the connection takes of the current request. */
static void conn_send(struct mirror_client *c, struct mirror_conn *m)
{
    size_t budget = MIRROR_WRITE_BUDGET;
    while (!http_exchange_sent(&m->x)) {
        if (budget == 0) {
            /* Fair share spent: the rest goes at the next writable event. */
            c->tr->watch(c->tr_ctx, m, MIRROR_WATCH_WRITE);
            return;
        }
        size_t left;
        const uint8_t *p = http_exchange_unsent(&m->x, &left);
        ssize_t n = c->tr->send(c->tr_ctx, m, p, left < budget ? left : budget);
        if (n == MIRROR_IO_AGAIN) {
            c->tr->watch(c->tr_ctx, m, MIRROR_WATCH_WRITE);
            return;
        }
        if (n < 0) {
            conn_fail(c, m);
            return;
        }
        http_exchange_wrote(&m->x, (size_t)n);
        budget -= (size_t)n;
    }
    if (!m->req->counted_sent) {
        m->req->counted_sent = true;
        counter_inc(&c->ctr->sent);
    }
    m->state = MC_RECEIVING;
    c->tr->watch(c->tr_ctx, m, MIRROR_WATCH_READ);
}

/* Starts request <r> on the connected, idle connection <m>. */
static void conn_assign(struct mirror_client *c, struct mirror_conn *m, struct mreq *r)
{
    m->req = r;
    m->start_ns = now_ns(c);
    http_exchange_start(&m->x, r->data, r->len, r->head, c->set.max_response_bytes);
    if (r->obs.sink)
        http_exchange_observe(&m->x, r->obs.sink, r->obs.ctx);
    m->state = MC_SENDING;
    if (m->reused)
        counter_inc(&c->ctr->reused);
    counter_inc(&c->ctr->inflight);
    list_remove(&m->node);
    list_push_back(&c->conns, &m->node);
    c->tr->arm_timer(c->tr_ctx, m, c->set.timeout_ms);
    conn_send(c, m);
}

/* Opens the circuit: the mirror rests for circuit_open_ms (<what> and <n>
 * say why, for the log). */
static void open_circuit(struct mirror_client *c, const char *what, uint32_t n)
{
    uint64_t now = now_ns(c);
    if (!circuit_open(c, now))
        log_event(c->log, LOG_LVL_WARN, "circuit_open", "mirror=%s host=%s port=%u %s=%u open_ms=%u",
                  c->set.name, c->addr->host, c->addr->port, what, n, c->set.circuit_open_ms);
    c->circuit_until_ns = now + (uint64_t)c->set.circuit_open_ms * 1000000ull;
}

/* One more failure in a row for the circuit breaker: a failed connect, or an
 * exchange on a fresh connection that failed before any response byte. At
 * circuit_failures, the mirror rests for circuit_open_ms. Returns true when
 * the circuit is open. */
static bool count_failure(struct mirror_client *c)
{
    c->failures++;
    if (c->failures < c->set.circuit_failures || c->set.circuit_failures == 0)
        return false;
    open_circuit(c, "failures", c->failures);
    return true;
}

/* The connect of <m> failed (<err>: an errno value, 0 for a failure of the
 * transport's own setup): <why> drops its request. */
static void connect_failed(struct mirror_client *c, struct mirror_conn *m, int err, enum mirror_drop why)
{
    counter_inc(&c->ctr->connect_failures);
    if (!count_failure(c))
        log_event(c->log, LOG_LVL_DEBUG, "connect_failed", "mirror=%s host=%s port=%u reason=%s errno=\"%s\"",
                  c->set.name, c->addr->host, c->addr->port, mirror_drop_str(why), err ? strerror(err) : "");
    conn_close(c, m, why);
}

static void connected(struct mirror_client *c, struct mirror_conn *m, int err)
{
    if (err != 0) {
        connect_failed(c, m, err, MIRROR_DROP_CONNECT_ERROR);
        return;
    }
    counter_inc(&c->ctr->connects);
    m->connected_ns = now_ns(c);
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
    uint64_t gen = target_addr_generation(c->addr); /* before the pick: the set picked from is that new */
    if (!target_addr_pick(c->addr, &ss, &sl)) {
        counter_inc(&c->ctr->connect_failures);
        drop(c, r, MIRROR_DROP_CONNECT_ERROR);
        return false;
    }
    struct mirror_conn *m = xcalloc(1, sizeof(*m) + c->tr->conn_size);
    m->client = c;
    m->req = r;
    m->state = MC_CONNECTING;
    m->peer = ss;
    m->peer_len = sl;
    m->addr_gen = gen;
    int err = 0;
    switch (c->tr->connect(c->tr_ctx, m, (const struct sockaddr *)&ss, sl, &err)) {
    case MIRROR_CONNECT_NO_SOCKET:
        free(m);
        counter_inc(&c->ctr->connect_failures);
        drop(c, r, MIRROR_DROP_CONNECT_ERROR);
        return false;
    case MIRROR_CONNECT_FAILED:
        list_push_back(&c->conns, &m->node);
        c->nconns++;
        counter_inc(&c->ctr->inflight);
        connect_failed(c, m, err, MIRROR_DROP_CONNECT_ERROR);
        return false;
    case MIRROR_CONNECT_STARTED:
        break;
    }
    list_push_back(&c->conns, &m->node);
    c->nconns++;
    counter_inc(&c->ctr->inflight);
    c->tr->arm_timer(c->tr_ctx, m, c->set.connect_timeout_ms);
    c->tr->watch(c->tr_ctx, m, MIRROR_WATCH_WRITE);
    return true;
}

/* The final response's headers are in: the copy is delivered. It is counted
 * and ends here; the connection goes on reading the body (DRAINING). */
static void conn_deliver(struct mirror_client *c, struct mirror_conn *m)
{
    uint64_t elapsed = now_ns(c) - m->start_ns;
    c->failures = 0; /* the mirror answers: the breaker counts afresh */
    latency_observe(&c->ctr->latency, elapsed);
    counter_inc(&c->ctr->responses[status_class_slot(m->x.status)]);
    counter_add(&c->ctr->inflight, (uint64_t)-1);
    if (c->set.on_done)
        c->set.on_done(c->set.on_done_ctx, m->x.status, elapsed, MIRROR_DROP_NONE);
    m->obs = m->req->obs;
    m->obs_status = m->x.status;
    m->obs_latency_ns = elapsed;
    req_free(m->req);
    m->req = NULL;
    m->x.req = NULL; /* written whole: the exchange no longer needs it */
    m->state = MC_DRAINING;
}

/* The body of a delivered response was not read to its end: the connection
 * cannot carry another request. */
static void conn_cut(struct mirror_client *c, struct mirror_conn *m, enum mirror_cut why)
{
    counter_inc(&c->ctr->responses_cut[why]);
    /* Each cut costs a new connection for the next copy: a mirror whose
     * answers are all cut rests, like a failing one. */
    if (++c->cuts >= c->set.circuit_failures && c->set.circuit_failures != 0)
        open_circuit(c, "responses_cut", c->cuts);
    log_event(c->log, LOG_LVL_DEBUG, "response_cut", "mirror=%s status=%d reason=%s body_bytes=%llu",
              c->set.name, m->x.status, mirror_cut_str(why), (unsigned long long)m->x.body);
    conn_close(c, m, MIRROR_DROP_NONE);
}

/* Milliseconds <m> may still be kept alive (its max_connection_age_ms minus
 * its age), at most <cap>: 0 once it is too old. */
static uint32_t conn_life_left_ms(const struct mirror_client *c, const struct mirror_conn *m, uint32_t cap)
{
    if (c->set.max_connection_age_ms == 0)
        return cap;
    uint64_t age_ms = (now_ns(c) - m->connected_ns) / 1000000u;
    if (age_ms >= c->set.max_connection_age_ms)
        return 0;
    uint64_t left = c->set.max_connection_age_ms - age_ms;
    return left < cap ? (uint32_t)left : cap;
}

/* True when the address <m> connected to has left the mirror's address set
 * (the resolver found other addresses since). One atomic load while the set
 * has not changed since <m> was last checked; the target's lock otherwise. */
static bool conn_addr_gone(const struct mirror_client *c, struct mirror_conn *m)
{
    uint64_t gen = target_addr_generation(c->addr);
    if (gen == m->addr_gen)
        return false;
    if (!target_addr_contains(c->addr, (const struct sockaddr *)&m->peer, m->peer_len))
        return true;
    m->addr_gen = gen; /* the set read was at least that new */
    return false;
}

/* The finished or idle <m> is closed instead of being reused, counted in
 * <why> (ctr->expired: max_connection_age_ms reached; ctr->address_gone: its
 * address left the set), so that the next connection goes to one of the
 * mirror's current addresses. */
static void conn_retire(struct mirror_client *c, struct mirror_conn *m, counter_t *why)
{
    counter_inc(why);
    conn_close(c, m, MIRROR_DROP_NONE);
}

/* An idle connection to reuse, or NULL. Idle ones whose address left the
 * mirror's set are retired on the way (at most the pool's size). */
static struct mirror_conn *idle_conn(struct mirror_client *c)
{
    struct mirror_conn *m;
    while ((m = first_conn(c)) != NULL && m->state == MC_IDLE) {
        if (!conn_addr_gone(c, m))
            return m;
        conn_retire(c, m, &c->ctr->address_gone);
    }
    return NULL;
}

/* The response was read whole: keep the connection for the next request, or
 * close it (not kept alive, its address gone from the set, or too old). */
static void conn_finish(struct mirror_client *c, struct mirror_conn *m)
{
    c->cuts = 0; /* a body read whole: the mirror's answers fit */
    observer_end(m, true);
    if (!m->x.keep_alive) {
        conn_close(c, m, MIRROR_DROP_NONE);
        return;
    }
    if (conn_addr_gone(c, m)) {
        conn_retire(c, m, &c->ctr->address_gone);
        return;
    }
    uint32_t left_ms = conn_life_left_ms(c, m, c->set.idle_timeout_ms);
    if (left_ms == 0) {
        conn_retire(c, m, &c->ctr->expired);
        return;
    }
    m->reused = true;
    m->state = MC_IDLE;
    list_remove(&m->node);
    list_push_front(&c->conns, &m->node);
    /* Closed when idle too long, or when too old if that comes first. */
    c->tr->arm_timer(c->tr_ctx, m, left_ms);
    c->tr->watch(c->tr_ctx, m, MIRROR_WATCH_READ); /* to notice the server closing it */
}

/* A kept-alive connection failed before any byte of the response: the server
 * most likely closed it as we reused it. The request goes out once more on a
 * new connection. */
static void conn_retry(struct mirror_client *c, struct mirror_conn *m)
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
 * unless the whole request was written and may not be sent twice; dropped as
 * an I/O error otherwise. <m> is gone on return. */
static void conn_fail(struct mirror_client *c, struct mirror_conn *m)
{
    if (!m->reused || m->x.got_bytes || m->req->retried) {
        /* A fresh connection that the mirror reset or closed without a
         * byte of answer: the mirror is failing, not merely closing an idle
         * connection as it was reused. */
        if (!m->reused && !m->x.got_bytes)
            count_failure(c);
        conn_close(c, m, MIRROR_DROP_IO_ERROR);
    } else if (http_exchange_sent(&m->x) && !m->req->idempotent) {
        /* The server may have received it whole and acted on it: a second
         * copy of a POST could do twice what production did once. */
        counter_inc(&c->ctr->retries_refused);
        conn_close(c, m, MIRROR_DROP_IO_ERROR);
    } else {
        conn_retry(c, m);
    }
}

/* The exchange on <m> ended without a whole response: before its headers,
 * the request failed (conn_fail), or the mirror answered something that is
 * not an HTTP response when <bad>; after them, the body was cut. */
static void conn_broke(struct mirror_client *c, struct mirror_conn *m, bool bad)
{
    if (m->state == MC_DRAINING)
        conn_cut(c, m, MIRROR_CUT_IO_ERROR);
    else if (bad) {
        count_failure(c);
        conn_close(c, m, MIRROR_DROP_BAD_RESPONSE);
    } else
        conn_fail(c, m);
}

static void conn_read(struct mirror_client *c, struct mirror_conn *m)
{
    uint8_t buf[READ_CHUNK];
    /* Fair share: what is left is read at the next readable event, after the
     * thread's other watchers ran. */
    for (size_t budget = MIRROR_READ_BUDGET; budget > 0;) {
        ssize_t n = c->tr->recv(c->tr_ctx, m, buf, budget < sizeof(buf) ? budget : sizeof(buf));
        if (n == MIRROR_IO_AGAIN)
            return;
        if (n < 0) {
            if (m->state == MC_IDLE)
                conn_close(c, m, MIRROR_DROP_NONE);
            else
                conn_broke(c, m, false);
            return;
        }
        if (m->state == MC_IDLE) {
            /* EOF, or bytes nobody asked for: either way the connection is done. */
            conn_close(c, m, MIRROR_DROP_NONE);
            return;
        }
        budget -= (size_t)n;
        enum http_exchange_result r = http_exchange_feed(&m->x, buf, (size_t)n);
        if (m->state == MC_RECEIVING && m->x.headers)
            conn_deliver(c, m);
        switch (r) {
        case HTTP_EXCHANGE_MORE:
            break;
        case HTTP_EXCHANGE_COMPLETE:
            conn_finish(c, m);
            return;
        case HTTP_EXCHANGE_CLOSED:
            conn_broke(c, m, false);
            return;
        case HTTP_EXCHANGE_BAD:
            conn_broke(c, m, true);
            return;
        case HTTP_EXCHANGE_TOO_LARGE:
            conn_cut(c, m, MIRROR_CUT_TOO_LARGE);
            return;
        }
    }
}

/* Asks the transport for a sweep soon (once until it comes). */
static void defer_pump(struct mirror_client *c)
{
    if (c->tr->defer && !c->pump_deferred) {
        c->pump_deferred = true;
        c->tr->defer(c->tr_ctx);
    }
}

/* Moves queued requests onto connections while there is room; drops those
 * that waited too long, and all of them while the circuit is open. At most
 * MIRROR_PUMP_MAX_STARTS starts and MIRROR_PUMP_MAX_DROPS drops per call:
 * beyond them, the rest is deferred to a sweep. */
static void pump(struct mirror_client *c)
{
    uint64_t now = now_ns(c);
    uint64_t max_wait = (uint64_t)c->set.timeout_ms * 1000000ull;
    unsigned starts = 0, drops = 0;
    while (c->qhead) {
        if (starts >= MIRROR_PUMP_MAX_STARTS || drops >= MIRROR_PUMP_MAX_DROPS) {
            defer_pump(c);
            return;
        }
        if (circuit_open(c, now)) {
            drop(c, queue_pop(c), MIRROR_DROP_CIRCUIT_OPEN);
            drops++;
            continue;
        }
        if (now - c->qhead->queued_ns > max_wait) {
            drop(c, queue_pop(c), MIRROR_DROP_INFLIGHT_LIMIT);
            drops++;
            continue;
        }
        struct mirror_conn *idle = idle_conn(c);
        if (idle) {
            conn_assign(c, idle, queue_pop(c));
        } else if (c->nconns < c->set.max_inflight) {
            conn_open(c, queue_pop(c));
        } else {
            break;
        }
        starts++;
    }
}

/* ---- entry points for the transport ---- */

void mirror_client_on_connected(struct mirror_conn *m, int err)
{
    struct mirror_client *c = m->client;
    if (m->state == MC_CONNECTING)
        connected(c, m, err);
    pump(c);
}

void mirror_client_on_setup_failed(struct mirror_conn *m, enum mirror_drop why)
{
    struct mirror_client *c = m->client;
    connect_failed(c, m, 0, why);
    pump(c);
}

void mirror_client_on_writable(struct mirror_conn *m)
{
    struct mirror_client *c = m->client;
    if (m->state == MC_SENDING)
        conn_send(c, m);
    pump(c); /* a connection may have become free, or gone */
}

void mirror_client_on_readable(struct mirror_conn *m)
{
    struct mirror_client *c = m->client;
    if (m->state == MC_RECEIVING || m->state == MC_DRAINING || m->state == MC_IDLE)
        conn_read(c, m);
    pump(c);
}

void mirror_client_on_timeout(struct mirror_conn *m)
{
    struct mirror_client *c = m->client;
    switch (m->state) {
    case MC_CONNECTING:
        connect_failed(c, m, ETIMEDOUT, MIRROR_DROP_CONNECT_ERROR);
        break;
    case MC_SENDING:
    case MC_RECEIVING:
        conn_close(c, m, MIRROR_DROP_TIMEOUT);
        break;
    case MC_DRAINING:
        conn_cut(c, m, MIRROR_CUT_TIMEOUT);
        break;
    case MC_IDLE:
        if (conn_life_left_ms(c, m, 1) == 0)
            conn_retire(c, m, &c->ctr->expired);
        else
            conn_close(c, m, MIRROR_DROP_NONE);
        break;
    }
    pump(c);
}

void mirror_client_sweep(struct mirror_client *c)
{
    c->pump_deferred = false;
    pump(c);
}

void *mirror_conn_data(struct mirror_conn *m)
{
    return m->data;
}

/* ---- the client ---- */

struct mirror_client *mirror_client_create(const struct mirror_client_settings *set, struct target_addr *addr,
                                           struct mirror_counters *ctr, const struct logger *log,
                                           const struct mirror_transport *tr, void *tr_ctx)
{
    struct mirror_client *c = xcalloc(1, sizeof(*c));
    c->set = *set;
    if (c->set.max_inflight == 0)
        c->set.max_inflight = 1;
    c->addr = addr;
    c->ctr = ctr;
    c->log = log;
    c->tr = tr;
    c->tr_ctx = tr_ctx;
    list_init(&c->conns);
    return c;
}

unsigned mirror_method_flags(const uint8_t *method, size_t len)
{
    static const struct {
        const char *name;
        size_t len;
        unsigned flags;
    } methods[] = {
        {"GET", 3, MIRROR_REQ_IDEMPOTENT},     {"HEAD", 4, MIRROR_REQ_HEAD | MIRROR_REQ_IDEMPOTENT},
        {"PUT", 3, MIRROR_REQ_IDEMPOTENT},     {"DELETE", 6, MIRROR_REQ_IDEMPOTENT},
        {"OPTIONS", 7, MIRROR_REQ_IDEMPOTENT}, {"TRACE", 5, MIRROR_REQ_IDEMPOTENT},
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (len == methods[i].len && memcmp(method, methods[i].name, len) == 0)
            return methods[i].flags;
    return 0;
}

enum mirror_drop mirror_client_submit(struct mirror_client *c, uint8_t *req, size_t len, unsigned flags)
{
    return mirror_client_submit_observed(c, req, len, flags, NULL);
}

enum mirror_drop mirror_client_submit_observed(struct mirror_client *c, uint8_t *req, size_t len,
                                               unsigned flags, const struct mirror_observer *obs)
{
    uint64_t now = now_ns(c);
    struct mreq *r = xcalloc(1, sizeof(*r));
    if (obs)
        r->obs = *obs;
    r->data = req;
    r->len = len;
    r->head = (flags & MIRROR_REQ_HEAD) != 0;
    r->idempotent = (flags & MIRROR_REQ_IDEMPOTENT) != 0;
    r->queued_ns = now;
    if (circuit_open(c, now)) {
        drop(c, r, MIRROR_DROP_CIRCUIT_OPEN);
        return MIRROR_DROP_CIRCUIT_OPEN;
    }
    if (!c->qhead) {
        struct mirror_conn *idle = idle_conn(c);
        if (idle) {
            conn_assign(c, idle, r);
            return MIRROR_DROP_NONE;
        }
        if (c->nconns < c->set.max_inflight)
            return conn_open(c, r) ? MIRROR_DROP_NONE : MIRROR_DROP_CONNECT_ERROR;
    }
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
    for (const struct list_node *n = c->conns.next; n != &c->conns; n = n->next) {
        const struct mirror_conn *m = list_entry(n, const struct mirror_conn, node);
        if (m->req || m->state == MC_DRAINING)
            return true;
    }
    return false;
}

void mirror_client_free(struct mirror_client *c)
{
    if (!c)
        return;
    struct mirror_conn *m;
    while ((m = first_conn(c)) != NULL)
        conn_close(c, m, MIRROR_DROP_SHUTDOWN);
    while (c->qhead)
        drop(c, queue_pop(c), MIRROR_DROP_SHUTDOWN);
    if (c->tr->release)
        c->tr->release(c->tr_ctx);
    free(c);
}
