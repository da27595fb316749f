#include "mirror/mirror_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/list.h"
#include "core/xalloc.h"
#include "mirror/http_exchange.h"
#include "mirror/mirror_client_impl.h"

/* Bytes read from a mirror at a time; responses are parsed and dropped. */
#define READ_CHUNK 16384

uint64_t mc_now_ns(const struct mirror_client *c)
{
    return c->tr->now_ns(c->tr_ctx);
}

void mc_req_free(struct mreq *r)
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

void mc_drop(struct mirror_client *c, struct mreq *r, enum mirror_drop why)
{
    if (why >= MIRROR_DROP_ENTRIES)
        why = MIRROR_DROP_IO_ERROR;
    counter_inc(&c->ctr->dropped[why]);
    if (c->set.on_done)
        c->set.on_done(c->set.on_done_ctx, 0, mc_now_ns(c) - r->queued_ns, why);
    if (r->obs.end)
        r->obs.end(r->obs.ctx, 0, mc_now_ns(c) - r->queued_ns, why, false);
    mc_req_free(r);
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

static void defer_pump(struct mirror_client *c);

void mc_requeue(struct mirror_client *c, struct mreq *r)
{
    r->next = c->qhead;
    c->qhead = r;
    if (!c->qtail)
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
void mc_conn_close(struct mirror_client *c, struct mirror_conn *m, enum mirror_drop why)
{
    if (m->req) {
        counter_add(&c->ctr->inflight, (uint64_t)-1);
        mc_drop(c, m->req, why);
        m->req = NULL;
    }
    observer_end(m, false);
    if (m->h2)
        h2_conn_end(c, m, why);
    c->tr->close(c->tr_ctx, m);
    list_remove(&m->node);
    c->nconns--;
    if (m->state == MC_CONNECTING)
        c->nconnecting--;
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
    /* Not MIRROR_WATCH_LAZY: parking each connection while its answer is
     * awaited would cost two epoll_ctl per copy, more than the wake-ups it
     * saves (HTTP/1.1 answers on many connections already come together). */
    c->tr->watch(c->tr_ctx, m, MIRROR_WATCH_READ);
}

/* Starts request <r> on the connected, idle connection <m>. */
static void conn_assign(struct mirror_client *c, struct mirror_conn *m, struct mreq *r)
{
    m->req = r;
    m->start_ns = mc_now_ns(c);
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
    uint64_t now = mc_now_ns(c);
    if (!circuit_open(c, now))
        log_event(c->log, LOG_LVL_WARN, "circuit_open", "mirror=%s host=%s port=%u %s=%u open_ms=%u",
                  c->set.name, c->addr->host, c->addr->port, what, n, c->set.circuit_open_ms);
    c->circuit_until_ns = now + (uint64_t)c->set.circuit_open_ms * 1000000ull;
}

/* One more failure in a row for the circuit breaker: a failed connect, or an
 * exchange on a fresh connection that failed before any response byte. At
 * circuit_failures, the mirror rests for circuit_open_ms. Returns true when
 * the circuit is open. */
bool mc_count_failure(struct mirror_client *c)
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
    if (!mc_count_failure(c))
        log_event(c->log, LOG_LVL_DEBUG, "connect_failed", "mirror=%s host=%s port=%u reason=%s errno=\"%s\"",
                  c->set.name, c->addr->host, c->addr->port, mirror_drop_str(why), err ? strerror(err) : "");
    mc_conn_close(c, m, why);
}

/* Whether the connected <m> speaks HTTP/2: by the protocol configured and,
 * over TLS, what ALPN selected. False with *refused set when an HTTP/2-only
 * client's TLS server did not select "h2". */
static bool speaks_h2(struct mirror_client *c, struct mirror_conn *m, bool *refused)
{
    *refused = false;
    if (c->set.protocol == MIRROR_PROTO_HTTP1)
        return false;
    const char *alpn = c->tr->alpn ? c->tr->alpn(c->tr_ctx, m) : NULL;
    bool h2 = alpn ? strcmp(alpn, "h2") == 0 : c->set.protocol == MIRROR_PROTO_H2;
    if (c->set.protocol == MIRROR_PROTO_AUTO) {
        c->h2_seen = h2;
        return h2;
    }
    if (!h2) {
        *refused = true;
        log_event(
            c->log, LOG_LVL_WARN, "alpn_refused",
            "mirror=%s host=%s port=%u selected=\"%s\" reason=tls_handshake (protocol h2 needs ALPN h2)",
            c->set.name, c->addr->host, c->addr->port, alpn ? alpn : "");
    }
    return h2;
}

static void connected(struct mirror_client *c, struct mirror_conn *m, int err)
{
    c->nconnecting--;
    m->state = MC_IDLE; /* set up, or about to be closed */
    if (err != 0) {
        connect_failed(c, m, err, MIRROR_DROP_CONNECT_ERROR);
        return;
    }
    bool refused;
    bool h2 = speaks_h2(c, m, &refused);
    if (refused) {
        connect_failed(c, m, 0, MIRROR_DROP_TLS_HANDSHAKE);
        return;
    }
    counter_inc(&c->ctr->connects);
    m->connected_ns = mc_now_ns(c);
    if (h2) {
        list_remove(&m->node);
        list_push_back(&c->h2conns, &m->node);
        m->state = MC_H2;
        h2_conn_start(c, m);
        return;
    }
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
        mc_drop(c, r, MIRROR_DROP_CONNECT_ERROR);
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
        mc_drop(c, r, MIRROR_DROP_CONNECT_ERROR);
        return false;
    case MIRROR_CONNECT_FAILED:
        list_push_back(&c->conns, &m->node);
        c->nconns++;
        c->nconnecting++;
        counter_inc(&c->ctr->inflight);
        connect_failed(c, m, err, MIRROR_DROP_CONNECT_ERROR);
        return false;
    case MIRROR_CONNECT_STARTED:
        break;
    }
    list_push_back(&c->conns, &m->node);
    c->nconns++;
    c->nconnecting++;
    counter_inc(&c->ctr->inflight);
    c->tr->arm_timer(c->tr_ctx, m, c->set.connect_timeout_ms);
    c->tr->watch(c->tr_ctx, m, MIRROR_WATCH_WRITE);
    return true;
}

/* The final response's headers are in: the copy is delivered. It is counted
 * and ends here; the connection goes on reading the body (DRAINING). */
void mc_delivered(struct mirror_client *c, int status, uint64_t elapsed_ns)
{
    c->failures = 0; /* the mirror answers: the breaker counts afresh */
    latency_observe(&c->ctr->latency, elapsed_ns);
    counter_inc(&c->ctr->responses[status_class_slot(status)]);
    if (c->set.on_done)
        c->set.on_done(c->set.on_done_ctx, status, elapsed_ns, MIRROR_DROP_NONE);
}

static void conn_deliver(struct mirror_client *c, struct mirror_conn *m)
{
    uint64_t elapsed = mc_now_ns(c) - m->start_ns;
    counter_add(&c->ctr->inflight, (uint64_t)-1);
    mc_delivered(c, m->x.status, elapsed);
    m->obs = m->req->obs;
    m->obs_status = m->x.status;
    m->obs_latency_ns = elapsed;
    mc_req_free(m->req);
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
    mc_conn_close(c, m, MIRROR_DROP_NONE);
}

/* Milliseconds <m> may still be kept alive (its max_connection_age_ms minus
 * its age), at most <cap>: 0 once it is too old. */
uint32_t mc_conn_life_left_ms(const struct mirror_client *c, const struct mirror_conn *m, uint32_t cap)
{
    if (c->set.max_connection_age_ms == 0)
        return cap;
    uint64_t age_ms = (mc_now_ns(c) - m->connected_ns) / 1000000u;
    if (age_ms >= c->set.max_connection_age_ms)
        return 0;
    uint64_t left = c->set.max_connection_age_ms - age_ms;
    return left < cap ? (uint32_t)left : cap;
}

/* True when the address <m> connected to has left the mirror's address set
 * (the resolver found other addresses since). One atomic load while the set
 * has not changed since <m> was last checked; the target's lock otherwise. */
bool mc_conn_addr_gone(const struct mirror_client *c, struct mirror_conn *m)
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
    mc_conn_close(c, m, MIRROR_DROP_NONE);
}

/* An idle connection to reuse, or NULL. Idle ones whose address left the
 * mirror's set are retired on the way (at most the pool's size). */
static struct mirror_conn *idle_conn(struct mirror_client *c)
{
    struct mirror_conn *m;
    while ((m = first_conn(c)) != NULL && m->state == MC_IDLE) {
        if (!mc_conn_addr_gone(c, m))
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
        mc_conn_close(c, m, MIRROR_DROP_NONE);
        return;
    }
    if (mc_conn_addr_gone(c, m)) {
        conn_retire(c, m, &c->ctr->address_gone);
        return;
    }
    uint32_t left_ms = mc_conn_life_left_ms(c, m, c->set.idle_timeout_ms);
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
    mc_conn_close(c, m, MIRROR_DROP_NONE);
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
            mc_count_failure(c);
        mc_conn_close(c, m, MIRROR_DROP_IO_ERROR);
    } else if (http_exchange_sent(&m->x) && !m->req->idempotent) {
        /* The server may have received it whole and acted on it: a second
         * copy of a POST could do twice what production did once. */
        counter_inc(&c->ctr->retries_refused);
        mc_conn_close(c, m, MIRROR_DROP_IO_ERROR);
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
        mc_count_failure(c);
        mc_conn_close(c, m, MIRROR_DROP_BAD_RESPONSE);
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
                mc_conn_close(c, m, MIRROR_DROP_NONE);
            else
                conn_broke(c, m, false);
            return;
        }
        if (m->state == MC_IDLE) {
            /* EOF, or bytes nobody asked for: either way the connection is done. */
            mc_conn_close(c, m, MIRROR_DROP_NONE);
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

/* True when the client speaks HTTP/2 on its connections: one connection
 * carries the streams, another is opened only when none takes new ones. */
static bool h2_mode(const struct mirror_client *c)
{
    return c->set.protocol == MIRROR_PROTO_H2 || (c->set.protocol == MIRROR_PROTO_AUTO && c->h2_seen);
}

/* True when a new connection may be opened for a request that no connection
 * takes now. */
static bool may_open(struct mirror_client *c)
{
    if (c->nconns >= c->set.max_inflight || c->nconnecting >= MIRROR_MAX_CONNECTING)
        return false;
    if (!h2_mode(c))
        return true;
    /* HTTP/2: not while one is being set up, or one takes streams (at the
     * server's stream limit, the request waits in the queue). */
    for (struct list_node *n = c->conns.next; n != &c->conns; n = n->next)
        if (list_entry(n, struct mirror_conn, node)->state == MC_CONNECTING)
            return false;
    for (struct list_node *n = c->h2conns.next; n != &c->h2conns; n = n->next)
        if (h2_conn_usable(c, list_entry(n, struct mirror_conn, node)))
            return false;
    return true;
}

/* An HTTP/2 connection with room for one more stream, or NULL. */
static struct mirror_conn *h2_room(struct mirror_client *c)
{
    for (struct list_node *n = c->h2conns.next; n != &c->h2conns; n = n->next) {
        struct mirror_conn *m = list_entry(n, struct mirror_conn, node);
        if (h2_conn_room(c, m))
            return m;
    }
    return NULL;
}

/* Starts <r> as a stream of an HTTP/2 connection, on an idle HTTP/1.1
 * connection, or on a new connection. Returns false, <r> untouched, when
 * none may take it now. */
static bool start(struct mirror_client *c, struct mreq *r)
{
    struct mirror_conn *m = h2_room(c);
    if (m) {
        h2_conn_submit(c, m, r);
        return true;
    }
    if ((m = idle_conn(c)) != NULL) {
        conn_assign(c, m, r);
        return true;
    }
    if (!may_open(c))
        return false;
    conn_open(c, r);
    return true;
}

/* Asks the transport for a sweep soon (once until it comes). */
void mc_defer(struct mirror_client *c)
{
    defer_pump(c);
}

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
    uint64_t now = mc_now_ns(c);
    uint64_t max_wait = (uint64_t)c->set.timeout_ms * 1000000ull;
    unsigned starts = 0, drops = 0;
    while (c->qhead) {
        if (starts >= MIRROR_PUMP_MAX_STARTS || drops >= MIRROR_PUMP_MAX_DROPS) {
            defer_pump(c);
            return;
        }
        if (circuit_open(c, now)) {
            mc_drop(c, queue_pop(c), MIRROR_DROP_CIRCUIT_OPEN);
            drops++;
            continue;
        }
        if (now - c->qhead->queued_ns > max_wait) {
            mc_drop(c, queue_pop(c), MIRROR_DROP_INFLIGHT_LIMIT);
            drops++;
            continue;
        }
        struct mreq *r = queue_pop(c);
        if (!start(c, r)) {
            mc_requeue(c, r);
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
    if (m->state == MC_H2)
        h2_conn_on_writable(c, m);
    else if (m->state == MC_SENDING)
        conn_send(c, m);
    pump(c); /* a connection may have become free, or gone */
}

void mirror_client_on_readable(struct mirror_conn *m)
{
    struct mirror_client *c = m->client;
    if (m->state == MC_H2)
        h2_conn_on_readable(c, m);
    else if (m->state == MC_RECEIVING || m->state == MC_DRAINING || m->state == MC_IDLE)
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
        mc_conn_close(c, m, MIRROR_DROP_TIMEOUT);
        break;
    case MC_DRAINING:
        conn_cut(c, m, MIRROR_CUT_TIMEOUT);
        break;
    case MC_H2:
        h2_conn_on_timeout(c, m);
        break;
    case MC_IDLE:
        if (mc_conn_life_left_ms(c, m, 1) == 0)
            conn_retire(c, m, &c->ctr->expired);
        else
            mc_conn_close(c, m, MIRROR_DROP_NONE);
        break;
    }
    pump(c);
}

void mirror_client_sweep(struct mirror_client *c)
{
    c->pump_deferred = false;
    /* HTTP/2 streams opened since the last event go out together (or,
     * with a write delay, later with others: mirror_h2.c decides). */
    for (struct list_node *n = c->h2conns.next, *next; n != &c->h2conns; n = next) {
        next = n->next;
        struct mirror_conn *m = list_entry(n, struct mirror_conn, node);
        if (h2_conn_flush_due(m))
            h2_conn_on_writable(c, m);
    }
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
    list_init(&c->h2conns);
    return c;
}

enum mirror_proto mirror_proto_of(enum config_protocol p, bool tls)
{
    switch (p) {
    case CONFIG_PROTO_H2:
    case CONFIG_PROTO_H2C:
        return MIRROR_PROTO_H2;
    case CONFIG_PROTO_AUTO:
        return tls ? MIRROR_PROTO_AUTO : MIRROR_PROTO_HTTP1;
    case CONFIG_PROTO_HTTP1:
        break;
    }
    return MIRROR_PROTO_HTTP1;
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
    uint64_t now = mc_now_ns(c);
    struct mreq *r = xcalloc(1, sizeof(*r));
    if (obs)
        r->obs = *obs;
    r->data = req;
    r->len = len;
    r->head = (flags & MIRROR_REQ_HEAD) != 0;
    r->idempotent = (flags & MIRROR_REQ_IDEMPOTENT) != 0;
    r->queued_ns = now;
    if (circuit_open(c, now)) {
        mc_drop(c, r, MIRROR_DROP_CIRCUIT_OPEN);
        return MIRROR_DROP_CIRCUIT_OPEN;
    }
    if (!c->qhead) {
        struct mirror_conn *m = h2_room(c);
        if (m) {
            h2_conn_submit(c, m, r);
            return MIRROR_DROP_NONE;
        }
        if ((m = idle_conn(c)) != NULL) {
            conn_assign(c, m, r);
            return MIRROR_DROP_NONE;
        }
        if (may_open(c))
            return conn_open(c, r) ? MIRROR_DROP_NONE : MIRROR_DROP_CONNECT_ERROR;
    }
    if (c->queued >= c->set.max_queue) {
        mc_drop(c, r, MIRROR_DROP_QUEUE_FULL);
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
    for (const struct list_node *n = c->h2conns.next; n != &c->h2conns; n = n->next)
        if (h2_conn_busy(list_entry(n, const struct mirror_conn, node)))
            return true;
    return false;
}

void mirror_client_free(struct mirror_client *c)
{
    if (!c)
        return;
    struct mirror_conn *m;
    while ((m = first_conn(c)) != NULL)
        mc_conn_close(c, m, MIRROR_DROP_SHUTDOWN);
    while (!list_empty(&c->h2conns))
        mc_conn_close(c, list_entry(list_first(&c->h2conns), struct mirror_conn, node), MIRROR_DROP_SHUTDOWN);
    while (c->qhead)
        mc_drop(c, queue_pop(c), MIRROR_DROP_SHUTDOWN);
    if (c->tr->release)
        c->tr->release(c->tr_ctx);
    free(c);
}
