/* Unit tests for the mirror client's HTTP/2 connections (mirror_h2.c),
 * driven through an in-memory transport whose peer is a real nghttp2
 * server session: the bytes the client writes are fed to it, and what it
 * writes back is what the client reads. The test decides, per request, how
 * the server answers (status, body, trailers, grpc-status), or leaves it
 * pending and later answers, resets it or sends GOAWAY.
 * Covered: multiplexing on one connection, the request's HTTP/2 fields,
 * SETTINGS_MAX_CONCURRENT_STREAMS=1 queueing, GOAWAY mid-run (idempotent
 * copies retried on a new connection, others refused and counted),
 * RST_STREAM (REFUSED_STREAM retried, others counted as stream_reset),
 * bodies cut at max_response_bytes with the connection kept, per-stream
 * timeouts, the circuit breaker, grpc-status counting, and ALPN choices.
 * Every test ends by checking one on_done per request and zero gauges. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/counter.h"
#include "mirror/h2_request.h"
#include "mirror/mirror_client.h"
#include "mirror/mirror_stats.h"
#include "mirror/target_addr.h"

#define MAX_PEERS   8
#define MAX_STREAMS 64
#define MAX_DONE    256
#define MS          1000000ull

/* How the server answers a request: by its path's first letter after '/'. */
enum answer {
    ANSWER_NOW,      /* 200 and the configured body */
    ANSWER_LATER,    /* left pending: the test acts on it */
    ANSWER_GRPC_OK,  /* trailers-only gRPC answer, grpc-status 0 */
    ANSWER_GRPC_14,  /* gRPC answer with a body, then trailers with grpc-status 14 */
    ANSWER_GRPC_BAD, /* trailers-only, grpc-status "abc" */
};

struct h2t;

/* One connection: the client's side and the server session behind it. */
struct peer {
    struct h2t *t;
    struct mirror_conn *conn; /* NULL once closed */
    nghttp2_session *srv;
    bool connected, closed;
    unsigned watch;
    bool timer_armed;
    uint64_t timer_at;
    uint8_t *in; /* server -> client bytes not read yet */
    size_t in_len, in_cap;
    bool eof; /* after <in>, the client reads EOF */
    const char *alpn;
    size_t requests; /* requests the server received whole */
    size_t open;     /* streams open on the server now */
    size_t max_open; /* the most open at once */
    int32_t pending[MAX_STREAMS];
    size_t n_pending;
    char seen[2048]; /* the header fields of the requests, "name: value\n" */
    size_t seen_len;
    char body[256]; /* request body bytes received */
    size_t body_len;
    size_t send_calls;  /* send() calls that wrote bytes */
    size_t send_budget; /* bytes send() takes before it would block (refilled by run()) */
};

struct done {
    int status;
    enum mirror_drop why;
    uint64_t latency_ns;
};

struct h2t {
    struct peer peers[MAX_PEERS];
    size_t n;
    uint64_t now;
    uint32_t mcs; /* the server's SETTINGS_MAX_CONCURRENT_STREAMS; 0: the default (100) */
    size_t resp_body_len;
    const char *alpn; /* what the transport reports for new connections (NULL: not TLS) */
    bool refuse_connect;
    bool garbage;                /* the server answers bytes that are not HTTP/2 instead of its preface */
    size_t trickle;              /* > 0: send() takes this many bytes per writable event */
    size_t defers;               /* defer() calls not yet answered by a sweep */
    uint64_t until;              /* the earliest time defer_until() asked for, not yet swept; 0: none */
    struct mirror_transport ops; /* t_start_deferring's */
    struct done done[MAX_DONE];
    size_t n_done, submitted;
    struct target_addr addr;
    struct mirror_counters ctr;
    struct logger log;
    struct mirror_client_settings set;
    struct mirror_client *c;
};

/* ---- the server side ---- */

static struct peer *peer_of_srv(void *ud)
{
    return ud;
}

static void srv_flush(struct peer *p)
{
    for (;;) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(p->srv, &data);
        ck_assert_int_ge(n, 0);
        if (n == 0)
            return;
        if (p->in_len + (size_t)n > p->in_cap) {
            p->in_cap = (p->in_len + (size_t)n) * 2;
            p->in = realloc(p->in, p->in_cap);
            ck_assert_ptr_nonnull(p->in);
        }
        memcpy(p->in + p->in_len, data, (size_t)n);
        p->in_len += (size_t)n;
    }
}

/* The response body: resp_body_len zero bytes; for a gRPC answer with
 * trailers, the stream stays open for them. */
struct body_src {
    size_t left;
    bool trailers;
};

static ssize_t srv_read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t cap, uint32_t *flags,
                             nghttp2_data_source *src, void *ud)
{
    (void)ud;
    struct body_src *b = src->ptr;
    size_t n = b->left < cap ? b->left : cap;
    memset(buf, 'b', n);
    b->left -= n;
    if (b->left == 0) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (b->trailers) {
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
            nghttp2_nv tr[] = {{(uint8_t *)"grpc-status", (uint8_t *)"14", 11, 2, NGHTTP2_NV_FLAG_NONE}};
            ck_assert_int_eq(nghttp2_submit_trailer(s, id, tr, 1), 0);
        }
        free(b);
    }
    return (ssize_t)n;
}

#define NV(n, v)                                                                                             \
    {                                                                                                        \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE                   \
    }

static void srv_answer(struct peer *p, int32_t id, enum answer how)
{
    nghttp2_nv ok[] = {NV(":status", "200"), NV("x-test", "1")};
    nghttp2_nv grpc_ok[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                            NV("grpc-status", "0")};
    nghttp2_nv grpc_bad[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                             NV("grpc-status", "abc")};
    nghttp2_nv grpc[] = {NV(":status", "200"), NV("content-type", "application/grpc")};
    struct body_src *b = calloc(1, sizeof(*b));
    ck_assert_ptr_nonnull(b);
    nghttp2_data_provider prd = {.source.ptr = b, .read_callback = srv_read_body};
    int rv;
    switch (how) {
    case ANSWER_GRPC_OK:
        free(b);
        rv = nghttp2_submit_response(p->srv, id, grpc_ok, 3, NULL);
        break;
    case ANSWER_GRPC_BAD:
        free(b);
        rv = nghttp2_submit_response(p->srv, id, grpc_bad, 3, NULL);
        break;
    case ANSWER_GRPC_14:
        b->left = 5;
        b->trailers = true;
        rv = nghttp2_submit_response(p->srv, id, grpc, 2, &prd);
        break;
    default:
        b->left = p->t->resp_body_len;
        if (b->left == 0) {
            free(b);
            rv = nghttp2_submit_response(p->srv, id, ok, 2, NULL);
        } else {
            rv = nghttp2_submit_response(p->srv, id, ok, 2, &prd);
        }
        break;
    }
    ck_assert_int_eq(rv, 0);
}

static int srv_on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                         const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    (void)s;
    (void)frame;
    (void)flags;
    struct peer *p = peer_of_srv(ud);
    int n = snprintf(p->seen + p->seen_len, sizeof(p->seen) - p->seen_len, "%.*s: %.*s\n", (int)namelen,
                     (const char *)name, (int)valuelen, (const char *)value);
    if (n > 0 && p->seen_len + (size_t)n < sizeof(p->seen))
        p->seen_len += (size_t)n;
    if (namelen == 5 && memcmp(name, ":path", 5) == 0 && valuelen >= 2)
        nghttp2_session_set_stream_user_data(s, frame->hd.stream_id, (void *)(uintptr_t)value[1]);
    return 0;
}

static int srv_on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                       void *ud)
{
    (void)s;
    (void)flags;
    (void)id;
    struct peer *p = peer_of_srv(ud);
    size_t n = len < sizeof(p->body) - p->body_len ? len : sizeof(p->body) - p->body_len;
    memcpy(p->body + p->body_len, data, n);
    p->body_len += n;
    return 0;
}

static int srv_on_begin(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    (void)s;
    struct peer *p = peer_of_srv(ud);
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        p->open++;
        if (p->open > p->max_open)
            p->max_open = p->open;
    }
    return 0;
}

static int srv_on_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
    (void)s;
    (void)id;
    (void)code;
    peer_of_srv(ud)->open--;
    return 0;
}

/* A request is whole (END_STREAM): answered as its path says. */
static int srv_on_frame(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    struct peer *p = peer_of_srv(ud);
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    p->requests++;
    int c = (int)(uintptr_t)nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
    enum answer how = c == 'l'   ? ANSWER_LATER
                      : c == 'g' ? ANSWER_GRPC_OK
                      : c == 'u' ? ANSWER_GRPC_14
                      : c == 'b' ? ANSWER_GRPC_BAD
                                 : ANSWER_NOW;
    if (how == ANSWER_LATER) {
        ck_assert_uint_lt(p->n_pending, MAX_STREAMS);
        p->pending[p->n_pending++] = frame->hd.stream_id;
    } else {
        srv_answer(p, frame->hd.stream_id, how);
    }
    return 0;
}

static void srv_start(struct peer *p)
{
    nghttp2_session_callbacks *cb;
    ck_assert_int_eq(nghttp2_session_callbacks_new(&cb), 0);
    nghttp2_session_callbacks_set_on_header_callback(cb, srv_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, srv_on_data);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, srv_on_begin);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, srv_on_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, srv_on_frame);
    ck_assert_int_eq(nghttp2_session_server_new(&p->srv, cb, p), 0);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, p->t->mcs ? p->t->mcs : 100}};
    ck_assert_int_eq(nghttp2_submit_settings(p->srv, NGHTTP2_FLAG_NONE, iv, 1), 0);
    srv_flush(p);
}

/* ---- the transport ---- */

static struct peer *peer_of(struct h2t *t, struct mirror_conn *conn)
{
    size_t i = *(size_t *)mirror_conn_data(conn);
    ck_assert_uint_lt(i, t->n);
    ck_assert_ptr_eq(t->peers[i].conn, conn);
    return &t->peers[i];
}

static enum mirror_connect t_connect(void *ctx, struct mirror_conn *conn, const struct sockaddr *sa,
                                     socklen_t salen, int *err)
{
    (void)sa;
    (void)salen;
    (void)err;
    struct h2t *t = ctx;
    ck_assert_uint_lt(t->n, MAX_PEERS);
    struct peer *p = &t->peers[t->n];
    memset(p, 0, sizeof(*p));
    p->t = t;
    p->conn = conn;
    p->alpn = t->alpn;
    p->send_budget = t->trickle ? t->trickle : SIZE_MAX;
    *(size_t *)mirror_conn_data(conn) = t->n++;
    return MIRROR_CONNECT_STARTED;
}

static ssize_t t_send(void *ctx, struct mirror_conn *conn, const uint8_t *data, size_t len)
{
    struct peer *p = peer_of(ctx, conn);
    if (!p->srv) { /* HTTP/1.1 on this connection: keep the first bytes */
        size_t n = len < sizeof(p->seen) - p->seen_len - 1 ? len : sizeof(p->seen) - p->seen_len - 1;
        memcpy(p->seen + p->seen_len, data, n);
        p->seen_len += n;
        return (ssize_t)len;
    }
    if (p->send_budget == 0)
        return MIRROR_IO_AGAIN;
    size_t n = len < p->send_budget ? len : p->send_budget;
    if (p->send_budget != SIZE_MAX)
        p->send_budget -= n;
    p->send_calls++;
    ck_assert_int_eq(nghttp2_session_mem_recv(p->srv, data, n), (ssize_t)n);
    srv_flush(p);
    return (ssize_t)n;
}

static ssize_t t_recv(void *ctx, struct mirror_conn *conn, uint8_t *buf, size_t cap)
{
    struct peer *p = peer_of(ctx, conn);
    if (p->in_len == 0)
        return p->eof ? 0 : MIRROR_IO_AGAIN;
    size_t n = p->in_len < cap ? p->in_len : cap;
    memcpy(buf, p->in, n);
    memmove(p->in, p->in + n, p->in_len - n);
    p->in_len -= n;
    return (ssize_t)n;
}

static void t_watch(void *ctx, struct mirror_conn *conn, unsigned events)
{
    peer_of(ctx, conn)->watch = events;
}

static void t_arm_timer(void *ctx, struct mirror_conn *conn, uint32_t ms)
{
    struct h2t *t = ctx;
    struct peer *p = peer_of(t, conn);
    p->timer_armed = true;
    p->timer_at = t->now + ms * MS;
}

static void t_close(void *ctx, struct mirror_conn *conn)
{
    struct peer *p = peer_of(ctx, conn);
    p->closed = true;
    p->conn = NULL;
}

static uint64_t t_now(void *ctx)
{
    return ((struct h2t *)ctx)->now;
}

static const char *t_alpn(void *ctx, struct mirror_conn *conn)
{
    return peer_of(ctx, conn)->alpn;
}

static void t_defer(void *ctx)
{
    ((struct h2t *)ctx)->defers++;
}

static void t_defer_until(void *ctx, uint64_t at_ns)
{
    struct h2t *t = ctx;
    if (t->until == 0 || at_ns < t->until)
        t->until = at_ns;
}

static const struct mirror_transport ops = {
    .conn_size = sizeof(size_t),
    .connect = t_connect,
    .send = t_send,
    .recv = t_recv,
    .watch = t_watch,
    .arm_timer = t_arm_timer,
    .close = t_close,
    .now_ns = t_now,
    .alpn = t_alpn,
};

/* ---- the harness ---- */

static void on_done(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why)
{
    struct h2t *t = ctx;
    ck_assert_uint_lt(t->n_done, MAX_DONE);
    t->done[t->n_done++] = (struct done){status, why, latency_ns};
}

static struct h2t *t_new(uint32_t mcs, uint32_t max_inflight)
{
    struct h2t *t = calloc(1, sizeof(*t));
    ck_assert_ptr_nonnull(t);
    t->now = 1000 * MS;
    t->mcs = mcs;
    t->log = (struct logger){.level = LOG_LVL_ERROR, .fd = 2};
    t->set = (struct mirror_client_settings){
        .protocol = MIRROR_PROTO_H2,
        .connect_timeout_ms = 100,
        .timeout_ms = 1000,
        .max_response_bytes = 1u << 20,
        .max_inflight = max_inflight,
        .max_queue = 16,
        .idle_timeout_ms = 5000,
        .circuit_failures = 3,
        .circuit_open_ms = 2000,
        .name = "test/0",
        .on_done = on_done,
    };
    t->set.on_done_ctx = t;
    target_addr_init(&t->addr, "127.0.0.1", 8080);
    ck_assert_int_eq(target_addr_resolve(&t->addr), 0);
    return t;
}

static void t_start(struct h2t *t)
{
    t->c = mirror_client_create(&t->set, &t->addr, &t->ctr, &t->log, &ops, t);
}

/* t_start with a transport that has defer(): the client may put off work to a sweep. */
static void t_start_deferring(struct h2t *t)
{
    t->ops = ops;
    t->ops.defer = t_defer;
    t->c = mirror_client_create(&t->set, &t->addr, &t->ctr, &t->log, &t->ops, t);
}

/* t_start_deferring with defer_until() too: streams may wait for a write. */
static void t_start_deferring_until(struct h2t *t)
{
    t->ops = ops;
    t->ops.defer = t_defer;
    t->ops.defer_until = t_defer_until;
    t->c = mirror_client_create(&t->set, &t->addr, &t->ctr, &t->log, &t->ops, t);
}

static void t_free(struct h2t *t)
{
    mirror_client_free(t->c);
    ck_assert_uint_eq(t->n_done, t->submitted);
    ck_assert_uint_eq(counter_get(&t->ctr.inflight), 0);
    ck_assert_uint_eq(counter_get(&t->ctr.queued), 0);
    for (size_t i = 0; i < t->n; i++) {
        ck_assert(t->peers[i].closed);
        if (t->peers[i].srv)
            nghttp2_session_del(t->peers[i].srv);
        free(t->peers[i].in);
    }
    target_addr_destroy(&t->addr);
    free(t);
}

static enum mirror_drop submit(struct h2t *t, const char *text)
{
    size_t len = strlen(text);
    uint8_t *req = malloc(len);
    ck_assert_ptr_nonnull(req);
    memcpy(req, text, len);
    t->submitted++;
    return mirror_client_submit(t->c, req, len, mirror_method_flags(req, strcspn(text, " ")));
}

/* Runs the connections until nothing moves: connects complete (the server
 * session starts when the client speaks HTTP/2), writable and readable
 * events as watched. */
static void run(struct h2t *t)
{
    for (int round = 0; round < 1000; round++) {
        bool moved = false;
        for (size_t i = 0; i < t->n; i++) {
            struct peer *p = &t->peers[i];
            if (!p->conn)
                continue;
            if (!p->connected) {
                p->connected = true;
                if (t->refuse_connect) {
                    mirror_client_on_connected(p->conn, ECONNREFUSED);
                } else {
                    if (t->garbage) {
                        static const char junk[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
                        p->in = malloc(sizeof(junk));
                        ck_assert_ptr_nonnull(p->in);
                        memcpy(p->in, junk, sizeof(junk) - 1);
                        p->in_len = p->in_cap = sizeof(junk) - 1;
                        p->eof = true;
                    } else if (t->set.protocol == MIRROR_PROTO_H2 ||
                               (p->alpn && strcmp(p->alpn, "h2") == 0)) {
                        srv_start(p);
                    }
                    mirror_client_on_connected(p->conn, 0);
                }
                moved = true;
            } else if (p->watch & MIRROR_WATCH_WRITE) {
                if (t->trickle)
                    p->send_budget = t->trickle;
                mirror_client_on_writable(p->conn);
                moved = true;
            } else if ((p->watch & MIRROR_WATCH_READ) && (p->in_len > 0 || p->eof)) {
                mirror_client_on_readable(p->conn);
                moved = true;
            }
        }
        if (!moved && t->defers > 0) {
            t->defers = 0;
            mirror_client_sweep(t->c);
            moved = true;
        }
        if (!moved)
            return;
    }
    ck_abort_msg("the connections never settled");
}

/* Moves the clock by <ms>, fires the timers due and the sweep asked for
 * a time now past. */
static void advance(struct h2t *t, uint32_t ms)
{
    t->now += ms * MS;
    for (size_t i = 0; i < t->n; i++) {
        struct peer *p = &t->peers[i];
        if (p->conn && p->timer_armed && p->timer_at <= t->now) {
            p->timer_armed = false;
            mirror_client_on_timeout(p->conn);
        }
    }
    if (t->until != 0 && t->until <= t->now) {
        t->until = 0;
        mirror_client_sweep(t->c);
    }
    run(t);
}

/* The server answers its stream <id> on <p> (200 and the body); the client
 * reads it. */
static void answer(struct h2t *t, struct peer *p, int32_t id)
{
    srv_answer(p, id, ANSWER_NOW);
    srv_flush(p);
    run(t);
}

/* The server answers every request it holds on <p>; the client reads them. */
static void answer_all(struct h2t *t, struct peer *p)
{
    for (size_t i = 0; i < p->n_pending; i++)
        srv_answer(p, p->pending[i], ANSWER_NOW);
    p->n_pending = 0;
    srv_flush(p);
    run(t);
}

static size_t count_done(const struct h2t *t, int status, enum mirror_drop why)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_done; i++)
        n += t->done[i].status == status && t->done[i].why == why;
    return n;
}

/* <n> copies ended dropped for <why>, as the observer and the counter say. */
static void expect_dropped(const struct h2t *t, enum mirror_drop why, size_t n)
{
    ck_assert_uint_eq(count_done(t, 0, why), n);
    ck_assert_uint_eq(counter_get(&t->ctr.dropped[why]), n);
}

static const char get_req[] = "GET /a HTTP/1.1\r\nHost: shadow:8000\r\nAccept: */*\r\n\r\n";
static const char later_get[] = "GET /l HTTP/1.1\r\nHost: m\r\n\r\n";
static const char later_post[] = "POST /l HTTP/1.1\r\nHost: m\r\nContent-Length: 2\r\n\r\nhi";

/* ---- tests ---- */

START_TEST(multiplexed)
{
    struct h2t *t = t_new(0, 8);
    t_start(t);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(submit(t, get_req), MIRROR_DROP_NONE);
    ck_assert_int_eq(submit(t, "POST /p HTTP/1.1\r\nHost: m\r\nConnection: close\r\nTE: trailers\r\n"
                               "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"),
                     MIRROR_DROP_NONE);
    run(t);
    ck_assert_uint_eq(t->n, 1); /* one connection */
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 5);
    ck_assert_uint_eq(counter_get(&t->ctr.sent), 5);
    ck_assert_uint_eq(counter_get(&t->ctr.responses[2]), 5);
    const char *seen = t->peers[0].seen;
    ck_assert_ptr_nonnull(
        strstr(seen, ":method: GET\n:scheme: http\n:authority: shadow:8000\n:path: /a\naccept: */*\n"));
    ck_assert_ptr_nonnull(strstr(seen, ":method: POST\n"));
    ck_assert_ptr_nonnull(strstr(seen, "te: trailers\ncontent-type: text/plain\ncontent-length: 5\n"));
    ck_assert_ptr_null(strstr(seen, "connection"));
    ck_assert_ptr_null(strstr(seen, "host:"));
    ck_assert_uint_eq(t->peers[0].body_len, 5);
    ck_assert(memcmp(t->peers[0].body, "hello", 5) == 0);
    ck_assert(!t->peers[0].closed); /* kept for the next copies */
    /* Copies the server holds are open at once on that one connection. */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(submit(t, later_get), MIRROR_DROP_NONE);
    run(t);
    struct peer *p = &t->peers[0];
    ck_assert_uint_eq(t->n, 1);
    ck_assert_uint_eq(p->open, 3);
    ck_assert_uint_eq(counter_get(&t->ctr.inflight), 3);
    for (size_t i = 0; i < p->n_pending; i++)
        answer(t, p, p->pending[i]);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 8);
    t_free(t);
}
END_TEST

START_TEST(one_stream_at_a_time)
{
    struct h2t *t = t_new(1, 8);
    t_start(t);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(submit(t, later_get), MIRROR_DROP_NONE);
    run(t);
    struct peer *p = &t->peers[0];
    for (size_t i = 0; i < 3; i++) {
        /* One stream on the server, the others wait in the client's queue. */
        ck_assert_uint_eq(p->n_pending, i + 1);
        ck_assert_uint_eq(p->open, 1);
        ck_assert_uint_eq(counter_get(&t->ctr.queued), 2 - i);
        answer(t, p, p->pending[i]);
    }
    ck_assert_uint_eq(t->n, 1);
    ck_assert_uint_eq(p->max_open, 1);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 3);
    t_free(t);
}
END_TEST

/* The server answers the first request, then sends GOAWAY naming it as the
 * last one it processed: the GET after it goes again on a new connection,
 * the POST is dropped and counted as a refused retry. */
START_TEST(goaway_mid_run)
{
    struct h2t *t = t_new(0, 8);
    t_start(t);
    submit(t, later_get);
    submit(t, later_get);
    submit(t, later_post);
    run(t);
    struct peer *p = &t->peers[0];
    ck_assert_uint_eq(p->n_pending, 3);
    srv_answer(p, p->pending[0], ANSWER_NOW);
    ck_assert_int_eq(
        nghttp2_submit_goaway(p->srv, NGHTTP2_FLAG_NONE, p->pending[0], NGHTTP2_NO_ERROR, NULL, 0), 0);
    srv_flush(p);
    run(t);
    ck_assert(p->closed);
    ck_assert_uint_eq(t->n, 2);
    ck_assert_uint_eq(counter_get(&t->ctr.retries_refused), 1);
    ck_assert_uint_eq(count_done(t, 0, MIRROR_DROP_IO_ERROR), 1);
    struct peer *q = &t->peers[1];
    ck_assert_uint_eq(q->n_pending, 1);
    answer(t, q, q->pending[0]);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 2);
    t_free(t);
}
END_TEST

/* Two GETs the server holds on the first connection, which it returns. */
static struct peer *two_pending(struct h2t *t)
{
    submit(t, later_get);
    submit(t, later_get);
    run(t);
    struct peer *p = &t->peers[0];
    ck_assert_uint_eq(p->n_pending, 2);
    return p;
}

START_TEST(rst_stream)
{
    struct h2t *t = t_new(0, 8);
    t_start(t);
    struct peer *p = two_pending(t);
    nghttp2_submit_rst_stream(p->srv, NGHTTP2_FLAG_NONE, p->pending[0], NGHTTP2_REFUSED_STREAM);
    nghttp2_submit_rst_stream(p->srv, NGHTTP2_FLAG_NONE, p->pending[1], NGHTTP2_INTERNAL_ERROR);
    srv_flush(p);
    run(t);
    expect_dropped(t, MIRROR_DROP_STREAM_RESET, 1);
    /* The refused GET went again, on the same connection. */
    ck_assert(!p->closed);
    ck_assert_uint_eq(p->n_pending, 3);
    answer(t, p, p->pending[2]);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 1);
    t_free(t);
}
END_TEST

START_TEST(body_cut)
{
    struct h2t *t = t_new(0, 8);
    t->set.max_response_bytes = 100;
    t->resp_body_len = 1000;
    t_start(t);
    submit(t, get_req);
    run(t);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 1);
    ck_assert_uint_eq(counter_get(&t->ctr.responses_cut[MIRROR_CUT_TOO_LARGE]), 1);
    ck_assert(!t->peers[0].closed); /* only the stream was cancelled */
    t->resp_body_len = 10;
    submit(t, get_req);
    run(t);
    ck_assert_uint_eq(t->n, 1);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 2);
    ck_assert_uint_eq(counter_get(&t->ctr.responses_cut[MIRROR_CUT_TOO_LARGE]), 1);
    t_free(t);
}
END_TEST

/* The server's headers announce more than max_response_bytes: the stream
 * is cut and cancelled at once, before any of its body; a compared copy
 * (with an observer) reads the part that fits instead. */
static void answer_announced(struct peer *p, int32_t id)
{
    nghttp2_nv nv[] = {NV(":status", "200"), NV("content-length", "1000")};
    ck_assert_int_eq(nghttp2_submit_headers(p->srv, NGHTTP2_FLAG_NONE, id, NULL, nv, 2, NULL), 0);
    srv_flush(p);
}

START_TEST(announced_too_large)
{
    struct h2t *t = t_new(0, 8);
    t->set.max_response_bytes = 100;
    t_start(t);
    submit(t, later_get);
    run(t);
    struct peer *p = &t->peers[0];
    ck_assert_uint_eq(p->n_pending, 1);
    answer_announced(p, p->pending[0]);
    run(t);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 1);
    ck_assert_uint_eq(counter_get(&t->ctr.responses_cut[MIRROR_CUT_TOO_LARGE]), 1);
    ck_assert_uint_eq(p->open, 0); /* cancelled on the server: no body was sent */
    ck_assert(!p->closed);
    /* The answer to a HEAD ends with its headers: it is not cut. */
    submit(t, "HEAD /l HTTP/1.1\r\nHost: m\r\n\r\n");
    run(t);
    ck_assert_uint_eq(p->n_pending, 2);
    nghttp2_nv nv[] = {NV(":status", "200"), NV("content-length", "1000")};
    ck_assert_int_eq(
        nghttp2_submit_headers(p->srv, NGHTTP2_FLAG_END_STREAM, p->pending[1], NULL, nv, 2, NULL), 0);
    srv_flush(p);
    run(t);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 2);
    ck_assert_uint_eq(counter_get(&t->ctr.responses_cut[MIRROR_CUT_TOO_LARGE]), 1);
    t_free(t);
}
END_TEST

/* The server sends <n> interim (103) responses on stream <id>. */
static void send_interim(struct peer *p, int32_t id, int n)
{
    nghttp2_nv nv[] = {NV(":status", "103"), NV("link", "</a.css>; rel=preload")};
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(nghttp2_submit_headers(p->srv, NGHTTP2_FLAG_NONE, id, NULL, nv, 2, NULL), 0);
    srv_flush(p);
}

/* As over HTTP/1.1: up to 16 interim responses are skipped; one more makes
 * the answer bad (the stream is reset, the connection carries on). */
START_TEST(interim_flood)
{
    struct h2t *t = t_new(0, 8);
    t_start(t);
    struct peer *p = two_pending(t);
    send_interim(p, p->pending[0], 16);
    run(t);
    answer(t, p, p->pending[0]);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 1);
    send_interim(p, p->pending[1], 17);
    run(t);
    expect_dropped(t, MIRROR_DROP_BAD_RESPONSE, 1);
    ck_assert_uint_eq(p->open, 0); /* reset on the server too */
    ck_assert(!p->closed);
    t_free(t);
}
END_TEST

START_TEST(resets_open_breaker)
{
    struct h2t *t = t_new(0, 8);
    t_start(t);
    /* Refused POSTs are not failures: the server did not process them. */
    for (int i = 0; i < 3; i++)
        submit(t, later_post);
    run(t);
    struct peer *p = &t->peers[0];
    ck_assert_uint_eq(p->n_pending, 3);
    for (size_t i = 0; i < 3; i++)
        nghttp2_submit_rst_stream(p->srv, NGHTTP2_FLAG_NONE, p->pending[i], NGHTTP2_REFUSED_STREAM);
    srv_flush(p);
    run(t);
    ck_assert_uint_eq(counter_get(&t->ctr.retries_refused), 3);
    ck_assert_int_eq(submit(t, later_get), MIRROR_DROP_NONE);
    submit(t, later_get);
    submit(t, later_get);
    run(t);
    ck_assert_uint_eq(p->n_pending, 6);
    /* Three streams reset without an answer: circuit_failures in a row. */
    for (size_t i = 3; i < 6; i++)
        nghttp2_submit_rst_stream(p->srv, NGHTTP2_FLAG_NONE, p->pending[i], NGHTTP2_INTERNAL_ERROR);
    srv_flush(p);
    run(t);
    ck_assert_uint_eq(count_done(t, 0, MIRROR_DROP_STREAM_RESET), 3);
    ck_assert_int_eq(submit(t, later_get), MIRROR_DROP_CIRCUIT_OPEN);
    advance(t, 2001);
    ck_assert_int_eq(submit(t, get_req), MIRROR_DROP_NONE);
    run(t);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 1);
    t_free(t);
}
END_TEST

/* Three copies, one connection each (max_inflight 1), all failing for
 * <why>: circuit_failures in a row, so the next copy finds the circuit open. */
static void fail_three_connections(struct h2t *t, enum mirror_drop why)
{
    for (int i = 0; i < 3; i++) {
        submit(t, get_req);
        run(t);
    }
    expect_dropped(t, why, 3);
    ck_assert_int_eq(submit(t, get_req), MIRROR_DROP_CIRCUIT_OPEN);
}

START_TEST(not_http2)
{
    struct h2t *t = t_new(0, 1);
    t->garbage = true;
    t_start(t);
    fail_three_connections(t, MIRROR_DROP_BAD_RESPONSE);
    t_free(t);
}
END_TEST

START_TEST(stream_timeout)
{
    struct h2t *t = t_new(0, 8);
    t_start(t);
    submit(t, later_get);
    run(t);
    advance(t, 500);
    submit(t, later_get);
    run(t);
    advance(t, 600); /* the first is past timeout_ms, not the second */
    ck_assert_uint_eq(count_done(t, 0, MIRROR_DROP_TIMEOUT), 1);
    ck_assert(!t->peers[0].closed);
    advance(t, 500);
    expect_dropped(t, MIRROR_DROP_TIMEOUT, 2);
    ck_assert_uint_eq(t->peers[0].open, 0); /* both cancelled on the server too */
    t_free(t);
}
END_TEST

START_TEST(breaker)
{
    struct h2t *t = t_new(0, 1);
    t->refuse_connect = true;
    t_start(t);
    fail_three_connections(t, MIRROR_DROP_CONNECT_ERROR);
    advance(t, 2001);
    t->refuse_connect = false;
    ck_assert_int_eq(submit(t, get_req), MIRROR_DROP_NONE);
    run(t);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 1);
    t_free(t);
}
END_TEST

START_TEST(grpc_status)
{
    struct h2t *t = t_new(0, 8);
    t_start(t);
    char req[200];
    const char which[] = {'g', 'u', 'b'};
    for (size_t i = 0; i < 3; i++) {
        int n = snprintf(req, sizeof(req),
                         "POST /%c HTTP/1.1\r\nHost: m\r\nContent-Type: application/grpc\r\nTE: "
                         "trailers\r\nContent-Length: "
                         "5\r\n\r\n",
                         which[i]);
        ck_assert_int_gt(n, 0);
        uint8_t *copy = malloc((size_t)n + 5);
        memcpy(copy, req, (size_t)n);
        memset(copy + n, 0, 5);
        t->submitted++;
        mirror_client_submit(t->c, copy, (size_t)n + 5, 0);
    }
    run(t);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 3);
    ck_assert_uint_eq(counter_get(&t->ctr.grpc_status[0]), 1);
    ck_assert_uint_eq(counter_get(&t->ctr.grpc_status[14]), 1);
    ck_assert_uint_eq(counter_get(&t->ctr.grpc_status[MIRROR_GRPC_OTHER]), 1);
    ck_assert_ptr_nonnull(strstr(t->peers[0].seen, "te: trailers\n")); /* kept, as the shaper kept it */
    t_free(t);
}
END_TEST

START_TEST(alpn_choices)
{
    /* h2 required, the TLS server picked http/1.1: a failed handshake. */
    struct h2t *t = t_new(0, 8);
    t->alpn = "http/1.1";
    t_start(t);
    submit(t, get_req);
    run(t);
    ck_assert_uint_eq(count_done(t, 0, MIRROR_DROP_TLS_HANDSHAKE), 1);
    ck_assert_uint_eq(counter_get(&t->ctr.connect_failures), 1);
    t_free(t);
    /* auto: HTTP/1.1 when the server picked it, HTTP/2 when it picked h2. */
    t = t_new(0, 8);
    t->set.protocol = MIRROR_PROTO_AUTO;
    t->alpn = "http/1.1";
    t_start(t);
    submit(t, get_req);
    run(t);
    ck_assert(strncmp(t->peers[0].seen, "GET /a HTTP/1.1\r\n", 17) == 0);
    t->alpn = "h2";
    t->peers[0].eof = true; /* the HTTP/1.1 one goes away unanswered */
    run(t);
    submit(t, get_req);
    run(t);
    ck_assert_uint_eq(t->n, 2);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 1);
    t_free(t);
}
END_TEST

/* What an observer of a copy was told (a comparison's view). */
struct seen_obs {
    int begins, headers_done, ends, status;
    bool whole;
    enum mirror_drop why;
    char fields[256];
    size_t fields_len, body;
};

static void ob_begin(void *ctx)
{
    struct seen_obs *o = ctx;
    o->begins++;
    o->fields_len = 0;
    o->body = 0;
}

static void ob_piece(struct seen_obs *o, const char *p, size_t n, char sep)
{
    if (o->fields_len + n + 1 < sizeof(o->fields)) {
        memcpy(o->fields + o->fields_len, p, n);
        o->fields_len += n;
        o->fields[o->fields_len++] = sep;
    }
}

static void ob_field(void *ctx, const char *p, size_t n)
{
    ob_piece(ctx, p, n, '=');
}

static void ob_value(void *ctx, const char *p, size_t n)
{
    ob_piece(ctx, p, n, ';');
}

static void ob_headers_done(void *ctx)
{
    ((struct seen_obs *)ctx)->headers_done++;
}

static void ob_body(void *ctx, const char *p, size_t n)
{
    (void)p;
    ((struct seen_obs *)ctx)->body += n;
}

static void ob_end(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why, bool whole)
{
    (void)latency_ns;
    struct seen_obs *o = ctx;
    o->ends++;
    o->status = status;
    o->why = why;
    o->whole = whole;
}

static const struct http_exchange_sink ob_sink = {ob_begin, ob_field, ob_value, ob_headers_done, ob_body};

/* An observed copy over HTTP/2: the observer sees the response's headers
 * (no pseudo-header), its body up to max_response_bytes + 1 bytes, and its
 * end once, whole or cut. */
START_TEST(observed)
{
    struct h2t *t = t_new(0, 8);
    t->set.max_response_bytes = 100;
    t->resp_body_len = 60;
    t_start(t);
    struct seen_obs a = {0}, b = {0};
    struct mirror_observer oa = {.sink = &ob_sink, .ctx = &a, .end = ob_end};
    struct mirror_observer ob = {.sink = &ob_sink, .ctx = &b, .end = ob_end};
    const char *text = "GET /a HTTP/1.1\r\nHost: m\r\n\r\n";
    uint8_t *r1 = malloc(strlen(text)), *r2 = malloc(strlen(text));
    memcpy(r1, text, strlen(text));
    memcpy(r2, text, strlen(text));
    t->submitted += 1;
    ck_assert_int_eq(mirror_client_submit_observed(t->c, r1, strlen(text), MIRROR_REQ_IDEMPOTENT, &oa),
                     MIRROR_DROP_NONE);
    run(t);
    ck_assert_int_eq(a.begins, 1);
    ck_assert_int_eq(a.headers_done, 1);
    ck_assert_int_eq(a.ends, 1);
    ck_assert(a.whole);
    ck_assert_int_eq(a.status, 200);
    ck_assert_int_eq(a.why, MIRROR_DROP_NONE);
    ck_assert_uint_eq(a.body, 60);
    ck_assert_uint_eq(a.fields_len, 9);
    ck_assert(memcmp(a.fields, "x-test=1;", 9) == 0); /* no pseudo-header */
    t->resp_body_len = 1000;                          /* past max_response_bytes: cut */
    t->submitted += 1;
    ck_assert_int_eq(mirror_client_submit_observed(t->c, r2, strlen(text), MIRROR_REQ_IDEMPOTENT, &ob),
                     MIRROR_DROP_NONE);
    run(t);
    ck_assert_int_eq(b.ends, 1);
    ck_assert(!b.whole);
    ck_assert_uint_eq(b.body, 101);
    t_free(t);
}
END_TEST

/* Opens the first connection with a copy the server answers at once;
 * returns its peer. */
static struct peer *first_answered(struct h2t *t)
{
    submit(t, get_req);
    run(t);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 1);
    return &t->peers[0];
}

/* With a transport that defers, the streams opened by one event go out in
 * one write at the sweep. */
START_TEST(batched_writes)
{
    struct h2t *t = t_new(0, 16);
    t_start_deferring(t);
    struct peer *p = first_answered(t);
    size_t calls = p->send_calls;
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(submit(t, later_get), MIRROR_DROP_NONE);
    ck_assert_uint_eq(p->send_calls, calls); /* nothing written before the sweep */
    ck_assert_uint_eq(t->defers, 1);
    t->defers = 0;
    mirror_client_sweep(t->c);
    ck_assert_uint_eq(p->send_calls, calls + 1);
    ck_assert_uint_eq(p->n_pending, 10);
    answer_all(t, p);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 11);
    t_free(t);
}
END_TEST

/* A client with <write_delay_ms> whose first connection is up: its first
 * copy went out with the preface and was answered. */
static struct h2t *delaying(uint32_t write_delay_ms)
{
    struct h2t *t = t_new(0, 64);
    t->set.write_delay_ms = write_delay_ms;
    t_start_deferring_until(t);
    first_answered(t);
    return t;
}

/* With write_delay_ms, streams opened by several events wait for one
 * write, write_delay_ms after the first of them; their latency counts from
 * that write. */
START_TEST(write_delay)
{
    struct h2t *t = delaying(2);
    struct peer *p = &t->peers[0];
    size_t calls = p->send_calls;
    uint64_t first = t->now;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(submit(t, later_get), MIRROR_DROP_NONE);
    run(t);
    ck_assert_uint_eq(p->send_calls, calls);
    ck_assert_uint_eq(t->until, first + 2 * MS);
    advance(t, 1);
    submit(t, later_post);
    run(t);
    ck_assert_uint_eq(p->send_calls, calls); /* still waiting, for the first's time */
    ck_assert_uint_eq(t->until, first + 2 * MS);
    ck_assert_uint_eq(p->n_pending, 0);
    advance(t, 1);
    ck_assert_uint_eq(p->send_calls, calls + 1);
    ck_assert_uint_eq(p->n_pending, 4);
    answer_all(t, p);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 5);
    for (size_t i = 1; i < 5; i++)
        ck_assert_uint_eq(t->done[i].latency_ns, 0); /* not the 1-2 ms they waited */
    t_free(t);
}
END_TEST

/* Streams wait for a write only until WRITE_HOLD_MAX_STREAMS (32) do, not
 * at all while earlier bytes are still being written, and no more than a
 * quarter of their timeout. */
START_TEST(write_delay_bounded)
{
    struct h2t *t = delaying(50);
    struct peer *p = &t->peers[0];
    size_t calls = p->send_calls;
    for (int i = 0; i < 31; i++)
        submit(t, later_get);
    run(t);
    ck_assert_uint_eq(p->send_calls, calls);
    submit(t, later_get);
    run(t);
    ck_assert_uint_eq(p->send_calls, calls + 1);
    ck_assert_uint_eq(p->n_pending, 32);
    answer_all(t, p);
    /* The socket takes nothing: the next write, once due, stays under way. */
    p->send_budget = 0;
    submit(t, later_post);
    run(t);
    ck_assert_uint_ne(t->until, 0);
    t->now = t->until;
    t->until = 0;
    mirror_client_sweep(t->c);
    ck_assert(p->watch & MIRROR_WATCH_WRITE);
    /* A stream opened meanwhile does not wait: it goes with those bytes. */
    submit(t, later_post);
    ck_assert_uint_eq(t->defers, 1);
    t->defers = 0;
    mirror_client_sweep(t->c);
    ck_assert_uint_eq(t->until, 0);
    p->send_budget = SIZE_MAX;
    run(t);
    ck_assert_uint_eq(p->n_pending, 2);
    answer_all(t, p);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 35);
    t_free(t);

    /* A short timeout bounds the wait to a quarter of it: 2 ms of 8. */
    t = t_new(0, 64);
    t->set.write_delay_ms = 50;
    t->set.timeout_ms = 8;
    t_start_deferring_until(t);
    first_answered(t);
    submit(t, later_get);
    run(t);
    ck_assert_uint_eq(t->until, t->now + 2 * MS);
    advance(t, 2);
    ck_assert_uint_eq(t->peers[0].n_pending, 1);
    answer_all(t, &t->peers[0]);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 2);
    t_free(t);
}
END_TEST

/* A connection that takes a few bytes per writable event: frames go out in
 * pieces, in order, whole. */
START_TEST(partial_writes)
{
    struct h2t *t = t_new(0, 8);
    t->trickle = 7;
    t_start(t);
    for (int i = 0; i < 3; i++)
        submit(t, "POST /p HTTP/1.1\r\nHost: m\r\nContent-Length: 5\r\n\r\nhello");
    run(t);
    ck_assert_uint_eq(count_done(t, 200, MIRROR_DROP_NONE), 3);
    ck_assert_uint_eq(t->peers[0].body_len, 15);
    ck_assert(memcmp(t->peers[0].body, "hellohellohello", 15) == 0);
    ck_assert_uint_gt(t->peers[0].send_calls, 20);
    t_free(t);
}
END_TEST

/* The fields of "name: value\n" lines of <r> from its fifth (the headers). */
static void headers_of(const struct h2_request *r, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 4; i < r->n; i++)
        o += (size_t)snprintf(out + o, cap - o, "%.*s: %.*s\n", (int)r->fields[i].name_len,
                              (const char *)r->fields[i].name, (int)r->fields[i].value_len,
                              (const char *)r->fields[i].value);
}

START_TEST(request_fields)
{
    char text[] = "OPTIONS * HTTP/1.1\r\nHost: [::1]:80\r\nConnection: x\r\nKeep-Alive: 1\r\n"
                  "Proxy-Connection: y\r\nTransfer-Encoding: chunked\r\nUpgrade: h2c\r\nTE: gzip\r\n"
                  "X-A:  1 \r\nx-a: 2\r\n\r\nbody";
    struct h2_request r;
    ck_assert(h2_request_parse((uint8_t *)text, sizeof(text) - 1, true, &r));
    ck_assert_uint_eq(r.n, 6);
    ck_assert(r.fields[0].value_len == 7 && memcmp(r.fields[0].value, "OPTIONS", 7) == 0);
    ck_assert(r.fields[1].value_len == 5 && memcmp(r.fields[1].value, "https", 5) == 0);
    ck_assert(r.fields[2].value_len == 8 && memcmp(r.fields[2].value, "[::1]:80", 8) == 0);
    ck_assert(r.fields[3].value_len == 1 && r.fields[3].value[0] == '*');
    char h[256];
    headers_of(&r, h, sizeof(h));
    ck_assert_str_eq(h, "x-a: 1\nx-a: 2\n");
    ck_assert(r.body_len == 4 && memcmp(r.body, "body", 4) == 0);
    h2_request_free(&r);
}
END_TEST

/* Lines end at CRLF only: a lone CR or LF stays in its line, and the head
 * ends at the first empty line, whatever the body holds. */
START_TEST(request_line_ends)
{
    char text[] = "POST /p HTTP/1.1\r\nHost: m\r\nX-A: a\rb\nc\r\n\r\n\r\nHost: n\r\n\r\n";
    struct h2_request r;
    ck_assert(h2_request_parse((uint8_t *)text, sizeof(text) - 1, false, &r));
    ck_assert_uint_eq(r.n, 5);
    ck_assert(r.fields[2].value_len == 1 && r.fields[2].value[0] == 'm');
    ck_assert(r.fields[4].value_len == 5 && memcmp(r.fields[4].value, "a\rb\nc", 5) == 0);
    ck_assert(r.body_len == 13 && memcmp(r.body, "\r\nHost: n\r\n\r\n", 13) == 0);
    h2_request_free(&r);
}
END_TEST

START_TEST(request_refused)
{
    static const char *const bad[] = {
        "GET /x HTTP/1.1\r\nAccept: a\r\n\r\n",       /* no Host */
        "GET /x HTTP/1.1\r\nHost: m\r\n",             /* no end of headers */
        "GET /x HTTP/1.0\r\nHost: m\r\n\r\n",         /* not the shaper's version */
        "GET HTTP/1.1\r\nHost: m\r\n\r\n",            /* no target */
        "GET /x HTTP/1.1\r\nHost m\r\n\r\n",          /* no colon */
        "GET /x HTTP/1.1\r\n: v\r\nHost: m\r\n\r\n",  /* empty name */
        "",                                           /* nothing */
        "\r\n\r\nGET /x HTTP/1.1\r\nHost: m\r\n\r\n", /* the empty line first */
        "GET /x HTTP/1.1\r\nHost: m\r\n\r",           /* a CR without its LF at the end */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char copy[128];
        size_t n = strlen(bad[i]);
        memcpy(copy, bad[i], n);
        struct h2_request r;
        ck_assert_msg(!h2_request_parse((uint8_t *)copy, n, false, &r), "%s", bad[i]);
    }
}
END_TEST

Suite *mirror_client_h2_suite(void);

Suite *mirror_client_h2_suite(void)
{
    Suite *s = suite_create("mirror_client_h2");
    TCase *tc = tcase_create("h2");
    tcase_add_test(tc, multiplexed);
    tcase_add_test(tc, one_stream_at_a_time);
    tcase_add_test(tc, goaway_mid_run);
    tcase_add_test(tc, rst_stream);
    tcase_add_test(tc, body_cut);
    tcase_add_test(tc, stream_timeout);
    tcase_add_test(tc, announced_too_large);
    tcase_add_test(tc, resets_open_breaker);
    tcase_add_test(tc, interim_flood);
    tcase_add_test(tc, not_http2);
    tcase_add_test(tc, breaker);
    tcase_add_test(tc, grpc_status);
    tcase_add_test(tc, alpn_choices);
    tcase_add_test(tc, batched_writes);
    tcase_add_test(tc, write_delay);
    tcase_add_test(tc, write_delay_bounded);
    tcase_add_test(tc, observed);
    tcase_add_test(tc, partial_writes);
    tcase_add_test(tc, request_fields);
    tcase_add_test(tc, request_line_ends);
    tcase_add_test(tc, request_refused);
    suite_add_tcase(s, tc);
    return s;
}
