/* Unit tests for the mirror client's state machine (mirror_client.h), driven
 * through an in-memory transport: scripted connect results, the bytes the
 * "server" returns, would-block, resets and EOF, and a clock the test moves.
 * Covered: keep-alive reuse, every drop reason the client counts, connect
 * and request timeouts, the queue and its expiry, the circuit breaker, the
 * stale keep-alive retry, partial writes, idle connections, responses of
 * every shape fed whole, as one-byte reads and as one byte per readiness,
 * delivery at the response headers and bodies cut by size, time or the
 * connection, refused retries of non-idempotent methods, bad responses,
 * connections retired by age or because their address left the resolved
 * set, and the bounds on the work of one event or call.
 * Every test ends by checking that each request submitted ended in exactly
 * one on_done call and that the gauges are back to zero. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/counter.h"
#include "compare/compare_collect.h"
#include "compare/compare_rules.h"
#include "config/config.h"
#include "mirror/mirror_client.h"
#include "mirror/mirror_stats.h"
#include "mirror/target_addr.h"
#include "test_util.h"

#define MAX_CONNS 64
#define MAX_IN    512
#define MAX_DONE  1024
#define MS        1000000ull

/* ---- the in-memory transport ---- */

enum in_kind { IN_DATA, IN_AGAIN, IN_EOF, IN_ERROR };

struct in_item {
    enum in_kind kind;
    const char *data;
    size_t len;
};

/* The test's view of one connection; it outlives the client's. */
struct fconn {
    struct mirror_conn *conn; /* NULL once closed */
    char peer[32];            /* the address it was opened to: "a.b.c.d:port" */
    bool closed;
    unsigned watch;
    bool timer_armed;
    uint32_t timer_ms;
    uint64_t timer_at;
    char out[4096]; /* what the client wrote, as far as it fits */
    size_t out_len;
    size_t out_total;   /* bytes the client wrote */
    size_t send_calls;  /* send() calls that wrote bytes */
    size_t send_budget; /* bytes send() takes before it would block */
    bool send_fails;
    struct in_item in[MAX_IN]; /* what recv() returns, in order; then would-block */
    size_t n_in, pos_in;
    size_t off_in;     /* bytes of in[pos_in] already returned (a read smaller than the item) */
    size_t in_total;   /* bytes recv() returned */
    size_t recv_calls; /* recv() calls */
};

struct done {
    int status;
    uint64_t latency_ns;
    enum mirror_drop why;
};

struct fake {
    struct fconn conns[MAX_CONNS];
    size_t n;
    uint64_t now;
    enum mirror_connect connect_result; /* of the next connects */
    int connect_err;
    size_t connect_calls, close_calls;
    size_t defers; /* defer() calls */
    bool released;
    struct done done[MAX_DONE];
    size_t n_done, submitted;
    struct target_addr addr;
    struct mirror_counters ctr;
    struct logger log;
    struct mirror_client_settings set;
    struct mirror_client *c;
};

static struct fconn *fc_of(struct fake *f, struct mirror_conn *conn)
{
    size_t idx = *(size_t *)mirror_conn_data(conn);
    ck_assert_uint_lt(idx, f->n);
    ck_assert_ptr_eq(f->conns[idx].conn, conn);
    return &f->conns[idx];
}

static enum mirror_connect t_connect(void *ctx, struct mirror_conn *conn, const struct sockaddr *sa,
                                     socklen_t salen, int *err)
{
    struct fake *f = ctx;
    ck_assert_uint_lt(f->n, MAX_CONNS);
    ck_assert_int_eq(sa->sa_family, AF_INET);
    ck_assert_uint_eq(salen, sizeof(struct sockaddr_in));
    f->connect_calls++;
    struct fconn *fc = &f->conns[f->n];
    memset(fc, 0, sizeof(*fc));
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    char ip[INET_ADDRSTRLEN];
    ck_assert_ptr_nonnull(inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip)));
    snprintf(fc->peer, sizeof(fc->peer), "%s:%u", ip, ntohs(in->sin_port));
    fc->conn = conn;
    fc->send_budget = SIZE_MAX;
    *(size_t *)mirror_conn_data(conn) = f->n++;
    if (f->connect_result != MIRROR_CONNECT_STARTED)
        *err = f->connect_err;
    if (f->connect_result == MIRROR_CONNECT_NO_SOCKET) {
        fc->conn = NULL;
        fc->closed = true;
    }
    return f->connect_result;
}

static ssize_t t_send(void *ctx, struct mirror_conn *conn, const uint8_t *p, size_t len)
{
    struct fconn *fc = fc_of(ctx, conn);
    ck_assert(len > 0);
    if (fc->send_fails)
        return MIRROR_IO_ERROR;
    if (fc->send_budget == 0)
        return MIRROR_IO_AGAIN;
    size_t n = len < fc->send_budget ? len : fc->send_budget;
    if (fc->out_len == fc->out_total && fc->out_len + n <= sizeof(fc->out)) {
        memcpy(fc->out + fc->out_len, p, n);
        fc->out_len += n;
    }
    fc->out_total += n;
    fc->send_calls++;
    if (fc->send_budget != SIZE_MAX)
        fc->send_budget -= n;
    return (ssize_t)n;
}

static ssize_t t_recv(void *ctx, struct mirror_conn *conn, uint8_t *buf, size_t cap)
{
    struct fconn *fc = fc_of(ctx, conn);
    ck_assert(cap > 0);
    fc->recv_calls++;
    if (fc->pos_in == fc->n_in)
        return MIRROR_IO_AGAIN;
    const struct in_item *it = &fc->in[fc->pos_in];
    if (it->kind == IN_DATA) {
        size_t n = it->len - fc->off_in < cap ? it->len - fc->off_in : cap;
        memcpy(buf, it->data + fc->off_in, n);
        fc->off_in += n;
        fc->in_total += n;
        if (fc->off_in == it->len) {
            fc->off_in = 0;
            fc->pos_in++;
        }
        return (ssize_t)n;
    }
    fc->pos_in++;
    switch (it->kind) {
    case IN_DATA:
        break;
    case IN_AGAIN:
        return MIRROR_IO_AGAIN;
    case IN_EOF:
        return 0;
    case IN_ERROR:
        break;
    }
    return MIRROR_IO_ERROR;
}

static void t_watch(void *ctx, struct mirror_conn *conn, unsigned events)
{
    fc_of(ctx, conn)->watch = events;
}

static void t_arm_timer(void *ctx, struct mirror_conn *conn, uint32_t ms)
{
    struct fake *f = ctx;
    struct fconn *fc = fc_of(f, conn);
    fc->timer_armed = true;
    fc->timer_ms = ms;
    fc->timer_at = f->now + ms * MS;
}

static void t_close(void *ctx, struct mirror_conn *conn)
{
    struct fake *f = ctx;
    struct fconn *fc = fc_of(f, conn);
    ck_assert(!fc->closed);
    fc->closed = true;
    fc->conn = NULL;
    fc->watch = 0;
    fc->timer_armed = false;
    f->close_calls++;
}

static void t_defer(void *ctx)
{
    ((struct fake *)ctx)->defers++;
}

static uint64_t t_now_ns(void *ctx)
{
    return ((struct fake *)ctx)->now;
}

static void t_release(void *ctx)
{
    struct fake *f = ctx;
    ck_assert(!f->released);
    f->released = true;
}

static const struct mirror_transport fake_ops = {
    .conn_size = sizeof(size_t),
    .connect = t_connect,
    .send = t_send,
    .recv = t_recv,
    .watch = t_watch,
    .arm_timer = t_arm_timer,
    .close = t_close,
    .defer = t_defer,
    .now_ns = t_now_ns,
    .release = t_release,
};

/* ---- the harness ---- */

static void on_done(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why)
{
    struct fake *f = ctx;
    ck_assert_uint_lt(f->n_done, MAX_DONE);
    f->done[f->n_done++] = (struct done){status, latency_ns, why};
}

static struct mirror_client_settings default_settings(void)
{
    return (struct mirror_client_settings){
        .connect_timeout_ms = 100,
        .timeout_ms = 1000,
        .max_response_bytes = 1u << 20,
        .max_inflight = 2,
        .max_queue = 2,
        .idle_timeout_ms = 5000,
        .circuit_failures = 3,
        .circuit_open_ms = 2000,
        .name = "test/0",
    };
}

/* A fake whose client uses <set>; <resolved>: the target has an address. */
static struct fake *f_new_with(const struct mirror_client_settings *set, bool resolved)
{
    struct fake *f = calloc(1, sizeof(*f));
    ck_assert_ptr_nonnull(f);
    f->now = 1000 * MS;
    f->connect_result = MIRROR_CONNECT_STARTED;
    f->log = (struct logger){.level = LOG_LVL_ERROR, .fd = 2};
    f->set = *set;
    f->set.on_done = on_done;
    f->set.on_done_ctx = f;
    target_addr_init(&f->addr, "127.0.0.1", 8080);
    if (resolved)
        ck_assert_int_eq(target_addr_resolve(&f->addr), 0);
    f->c = mirror_client_create(&f->set, &f->addr, &f->ctr, &f->log, &fake_ops, f);
    return f;
}

static struct fake *f_new(void)
{
    struct mirror_client_settings set = default_settings();
    return f_new_with(&set, true);
}

static void f_free_client(struct fake *f)
{
    mirror_client_free(f->c);
    f->c = NULL;
    ck_assert(f->released);
}

/* Frees the client if still there, then checks what must hold after any
 * sequence: one on_done per request, gauges at zero, every connection closed. */
static void f_free(struct fake *f)
{
    if (f->c)
        f_free_client(f);
    ck_assert_uint_eq(f->n_done, f->submitted);
    ck_assert_uint_eq(counter_get(&f->ctr.inflight), 0);
    ck_assert_uint_eq(counter_get(&f->ctr.queued), 0);
    for (size_t i = 0; i < f->n; i++)
        ck_assert(f->conns[i].closed);
    target_addr_destroy(&f->addr);
    free(f);
}

static const char get_req[] = "GET /x HTTP/1.1\r\nHost: m\r\n\r\n";
static const char head_req[] = "HEAD /x HTTP/1.1\r\nHost: m\r\n\r\n";
static const char ok_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/* Submits <text> with the flags of its method (the first word). */
static enum mirror_drop submit_req(struct fake *f, const char *text)
{
    size_t len = strlen(text);
    uint8_t *req = malloc(len);
    ck_assert_ptr_nonnull(req);
    memcpy(req, text, len);
    f->submitted++;
    return mirror_client_submit(f->c, req, len, mirror_method_flags(req, strcspn(text, " ")));
}

static enum mirror_drop submit(struct fake *f)
{
    return submit_req(f, get_req);
}

static struct fconn *conn(struct fake *f, size_t i)
{
    ck_assert_uint_lt(i, f->n);
    return &f->conns[i];
}

static void push_in(struct fconn *fc, enum in_kind kind, const char *data, size_t len)
{
    ck_assert_uint_lt(fc->n_in, MAX_IN);
    fc->in[fc->n_in++] = (struct in_item){kind, data, len};
}

static void connected(struct fake *f, size_t i)
{
    struct fconn *fc = conn(f, i);
    ck_assert(!fc->closed);
    mirror_client_on_connected(fc->conn, 0);
}

static void readable(struct fake *f, size_t i)
{
    struct fconn *fc = conn(f, i);
    ck_assert(!fc->closed);
    ck_assert(fc->watch & MIRROR_WATCH_READ);
    mirror_client_on_readable(fc->conn);
}

/* Connection <i> receives <resp> in one read. */
static void serve(struct fake *f, size_t i, const char *resp)
{
    push_in(conn(f, i), IN_DATA, resp, strlen(resp));
    readable(f, i);
}

static void serve_kind(struct fake *f, size_t i, enum in_kind kind)
{
    push_in(conn(f, i), kind, NULL, 0);
    readable(f, i);
}

/* Moves the clock <ms> forward, firing the timers due (in deadline order). */
static void advance(struct fake *f, uint64_t ms)
{
    uint64_t until = f->now + ms * MS;
    for (;;) {
        struct fconn *next = NULL;
        for (size_t i = 0; i < f->n; i++) {
            struct fconn *fc = &f->conns[i];
            if (!fc->closed && fc->timer_armed && fc->timer_at <= until &&
                (!next || fc->timer_at < next->timer_at))
                next = fc;
        }
        if (!next)
            break;
        f->now = next->timer_at;
        next->timer_armed = false;
        mirror_client_on_timeout(next->conn);
    }
    f->now = until;
}

static uint64_t dropped(const struct fake *f, enum mirror_drop why)
{
    return counter_get(&f->ctr.dropped[why]);
}

static uint64_t dropped_total(const struct fake *f)
{
    uint64_t n = 0;
    for (int i = 0; i < MIRROR_DROP_ENTRIES; i++)
        n += counter_get(&f->ctr.dropped[i]);
    return n;
}

#define CTR(f, field) counter_get(&(f)->ctr.field)

static void assert_done(const struct fake *f, size_t i, int status, enum mirror_drop why)
{
    ck_assert_uint_lt(i, f->n_done);
    ck_assert_int_eq(f->done[i].status, status);
    ck_assert_msg(f->done[i].why == why, "on_done %zu: why %s, want %s", i, mirror_drop_str(f->done[i].why),
                  mirror_drop_str(why));
}

/* Submits a request, connects its new connection <i> and serves a 200. */
static void exchange_on_new(struct fake *f, size_t i)
{
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_uint_eq(f->n, i + 1);
    connected(f, i);
    serve(f, i, ok_resp);
}

/* ---- the exchange and keep-alive ---- */

START_TEST(test_exchange_and_reuse)
{
    struct fake *f = f_new();
    ck_assert(!mirror_client_busy(f->c));
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_uint_eq(f->connect_calls, 1);
    struct fconn *c0 = conn(f, 0);
    ck_assert_uint_eq(c0->watch, MIRROR_WATCH_WRITE);
    ck_assert(c0->timer_armed);
    ck_assert_uint_eq(c0->timer_ms, 100); /* connect_timeout_ms */
    ck_assert_uint_eq(CTR(f, inflight), 1);
    ck_assert_uint_eq(CTR(f, sent), 0);
    ck_assert(mirror_client_busy(f->c));

    f->now += 30 * MS;
    connected(f, 0);
    ck_assert_uint_eq(CTR(f, connects), 1);
    ck_assert_uint_eq(CTR(f, sent), 1);
    ck_assert_uint_eq(c0->out_len, strlen(get_req));
    ck_assert_mem_eq(c0->out, get_req, strlen(get_req));
    ck_assert_uint_eq(c0->watch, MIRROR_WATCH_READ);
    ck_assert_uint_eq(c0->timer_ms, 1000); /* timeout_ms, from the request's start */
    ck_assert_uint_eq(c0->timer_at, f->now + 1000 * MS);

    f->now += 20 * MS;
    serve(f, 0, ok_resp);
    ck_assert_uint_eq(f->n_done, 1);
    assert_done(f, 0, 200, MIRROR_DROP_NONE);
    ck_assert_uint_eq(f->done[0].latency_ns, 20 * MS); /* from the start on the connection */
    ck_assert_uint_eq(CTR(f, responses[2]), 1);
    ck_assert_uint_eq(CTR(f, latency.count), 1);
    ck_assert_uint_eq(CTR(f, latency.sum_ns), 20 * MS);
    ck_assert_uint_eq(CTR(f, inflight), 0);
    ck_assert(!c0->closed);
    ck_assert_uint_eq(c0->timer_ms, 5000); /* idle_timeout_ms */
    ck_assert_uint_eq(c0->watch, MIRROR_WATCH_READ);
    ck_assert(!mirror_client_busy(f->c));

    /* The next requests go out on the same connection. */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
        ck_assert_uint_eq(f->connect_calls, 1);
        ck_assert_uint_eq(CTR(f, reused), (uint64_t)i + 1);
        serve(f, 0, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
    }
    ck_assert_uint_eq(c0->out_len, 4 * strlen(get_req));
    ck_assert_uint_eq(CTR(f, sent), 4);
    ck_assert_uint_eq(CTR(f, responses[5]), 3);
    ck_assert_uint_eq(CTR(f, connects), 1);
    ck_assert_uint_eq(dropped_total(f), 0);
    f_free(f);
}
END_TEST

/* Requests beyond max_inflight wait in the queue, then take the connection
 * that becomes idle first. */
START_TEST(test_pool_and_queue)
{
    struct fake *f = f_new();
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_uint_eq(f->connect_calls, 2); /* max_inflight */
    ck_assert_uint_eq(CTR(f, queued), 2);
    ck_assert_uint_eq(CTR(f, inflight), 2);
    connected(f, 0);
    connected(f, 1);
    serve(f, 1, ok_resp); /* the idle connection takes the oldest queued request */
    ck_assert_uint_eq(CTR(f, queued), 1);
    ck_assert_uint_eq(CTR(f, reused), 1);
    ck_assert_uint_eq(conn(f, 1)->out_len, 2 * strlen(get_req));
    serve(f, 0, ok_resp);
    ck_assert_uint_eq(CTR(f, queued), 0);
    ck_assert_uint_eq(CTR(f, reused), 2);
    serve(f, 0, ok_resp);
    serve(f, 1, ok_resp);
    ck_assert_uint_eq(CTR(f, responses[2]), 4);
    ck_assert_uint_eq(f->connect_calls, 2);
    ck_assert(!mirror_client_busy(f->c));
    f_free(f);
}
END_TEST

START_TEST(test_max_inflight_zero_is_one)
{
    struct mirror_client_settings set = default_settings();
    set.max_inflight = 0;
    struct fake *f = f_new_with(&set, true);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_uint_eq(f->connect_calls, 1);
    ck_assert_uint_eq(CTR(f, queued), 1);
    f_free(f);
}
END_TEST

/* ---- every drop reason the client counts ---- */

START_TEST(test_drop_queue_full)
{
    struct mirror_client_settings set = default_settings();
    set.max_inflight = 1;
    struct fake *f = f_new_with(&set, true);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* connecting */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* queued */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* queued */
    f->now += 7 * MS;
    ck_assert_int_eq(submit(f), MIRROR_DROP_QUEUE_FULL);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_QUEUE_FULL), 1);
    ck_assert_uint_eq(f->n_done, 1); /* inside submit() */
    assert_done(f, 0, 0, MIRROR_DROP_QUEUE_FULL);
    ck_assert_uint_eq(f->done[0].latency_ns, 0);
    ck_assert_uint_eq(CTR(f, queued), 2);
    f_free(f);
}
END_TEST

/* A queued request that waited longer than timeout_ms is dropped as
 * inflight_limit by the sweep, without any connection event. */
START_TEST(test_drop_inflight_limit)
{
    struct mirror_client_settings set = default_settings();
    set.max_inflight = 1;
    struct fake *f = f_new_with(&set, true);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    connected(f, 0);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* queued at t0 */
    f->now += 600 * MS;
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* queued at t0 + 600 ms */
    f->now += 400 * MS;
    mirror_client_sweep(f->c); /* exactly timeout_ms: not yet */
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_INFLIGHT_LIMIT), 0);
    f->now += 1;
    mirror_client_sweep(f->c);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_INFLIGHT_LIMIT), 1);
    assert_done(f, 0, 0, MIRROR_DROP_INFLIGHT_LIMIT);
    ck_assert_uint_eq(f->done[0].latency_ns, 1000 * MS + 1);
    ck_assert_uint_eq(CTR(f, queued), 1);
    ck_assert_uint_eq(CTR(f, inflight), 1); /* the one on the connection goes on */
    /* The response frees the connection for the younger one. */
    serve(f, 0, ok_resp);
    ck_assert_uint_eq(CTR(f, queued), 0);
    ck_assert_uint_eq(CTR(f, reused), 1);
    serve(f, 0, ok_resp);
    ck_assert_uint_eq(CTR(f, responses[2]), 2);
    f_free(f);
}
END_TEST

/* The connect fails at once: dropped as connect_error inside submit(). */
START_TEST(test_drop_connect_refused_at_once)
{
    struct fake *f = f_new();
    f->connect_result = MIRROR_CONNECT_FAILED;
    f->connect_err = ECONNREFUSED;
    ck_assert_int_eq(submit(f), MIRROR_DROP_CONNECT_ERROR);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_CONNECT_ERROR), 1);
    ck_assert_uint_eq(CTR(f, connect_failures), 1);
    ck_assert_uint_eq(CTR(f, connects), 0);
    ck_assert_uint_eq(f->close_calls, 1);
    assert_done(f, 0, 0, MIRROR_DROP_CONNECT_ERROR);
    ck_assert(!mirror_client_busy(f->c));
    f_free(f);
}
END_TEST

/* No socket: counted as a connect failure, but not towards the circuit. */
START_TEST(test_drop_no_socket)
{
    struct mirror_client_settings set = default_settings();
    set.circuit_failures = 1;
    struct fake *f = f_new_with(&set, true);
    f->connect_result = MIRROR_CONNECT_NO_SOCKET;
    f->connect_err = EMFILE;
    ck_assert_int_eq(submit(f), MIRROR_DROP_CONNECT_ERROR);
    ck_assert_int_eq(submit(f), MIRROR_DROP_CONNECT_ERROR);
    ck_assert_uint_eq(f->connect_calls, 2);
    ck_assert_uint_eq(f->close_calls, 0);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_CONNECT_ERROR), 2);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_CIRCUIT_OPEN), 0);
    ck_assert_uint_eq(CTR(f, connect_failures), 2);
    f_free(f);
}
END_TEST

START_TEST(test_drop_unresolved)
{
    struct mirror_client_settings set = default_settings();
    struct fake *f = f_new_with(&set, false);
    ck_assert_int_eq(submit(f), MIRROR_DROP_CONNECT_ERROR);
    ck_assert_uint_eq(f->connect_calls, 0);
    ck_assert_uint_eq(CTR(f, connect_failures), 1);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_CONNECT_ERROR), 1);
    f_free(f);
}
END_TEST

/* The connect fails once under way (refused, unreachable). */
START_TEST(test_drop_connect_error_later)
{
    struct fake *f = f_new();
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    f->now += 3 * MS;
    mirror_client_on_connected(conn(f, 0)->conn, ECONNREFUSED);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_CONNECT_ERROR), 1);
    ck_assert_uint_eq(CTR(f, connect_failures), 1);
    assert_done(f, 0, 0, MIRROR_DROP_CONNECT_ERROR);
    ck_assert_uint_eq(f->done[0].latency_ns, 3 * MS);
    f_free(f);
}
END_TEST

START_TEST(test_connect_timeout)
{
    struct fake *f = f_new();
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    advance(f, 99);
    ck_assert(!conn(f, 0)->closed);
    advance(f, 1);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_CONNECT_ERROR), 1);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_TIMEOUT), 0);
    ck_assert_uint_eq(CTR(f, connect_failures), 1);
    assert_done(f, 0, 0, MIRROR_DROP_CONNECT_ERROR);
    f_free(f);
}
END_TEST

/* No whole response within timeout_ms of the request's start. */
START_TEST(test_request_timeout)
{
    struct fake *f = f_new();
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    advance(f, 50);
    connected(f, 0);
    push_in(conn(f, 0), IN_DATA, "HTTP/1.1 200 OK\r\n", 17); /* a start, then silence */
    readable(f, 0);
    advance(f, 999);
    ck_assert(!conn(f, 0)->closed);
    advance(f, 1);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_TIMEOUT), 1);
    ck_assert_uint_eq(CTR(f, sent), 1);
    assert_done(f, 0, 0, MIRROR_DROP_TIMEOUT);
    ck_assert_uint_eq(f->done[0].latency_ns, 1050 * MS); /* a drop's latency counts from submit() */
    f_free(f);
}
END_TEST

/* The timer covers the write too: a request stuck in the socket buffer. */
START_TEST(test_timeout_while_sending)
{
    struct fake *f = f_new();
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    conn(f, 0)->send_budget = 0;
    connected(f, 0);
    ck_assert_uint_eq(conn(f, 0)->watch, MIRROR_WATCH_WRITE);
    advance(f, 1000);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_TIMEOUT), 1);
    ck_assert_uint_eq(CTR(f, sent), 0);
    f_free(f);
}
END_TEST

/* Consecutive connect failures open the circuit: new and queued requests
 * are dropped as circuit_open until it has rested, then it closes. */
START_TEST(test_circuit_breaker)
{
    struct mirror_client_settings set = default_settings();
    set.max_inflight = 1;
    set.max_queue = 4;
    set.circuit_failures = 2;
    struct fake *f = f_new_with(&set, true);
    f->connect_result = MIRROR_CONNECT_FAILED;
    f->connect_err = ECONNREFUSED;
    ck_assert_int_eq(submit(f), MIRROR_DROP_CONNECT_ERROR);
    ck_assert_int_eq(submit(f), MIRROR_DROP_CONNECT_ERROR); /* the second failure opens it */
    ck_assert_int_eq(submit(f), MIRROR_DROP_CIRCUIT_OPEN);
    ck_assert_uint_eq(f->connect_calls, 2);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_CIRCUIT_OPEN), 1);
    advance(f, 1999);
    ck_assert_int_eq(submit(f), MIRROR_DROP_CIRCUIT_OPEN);
    advance(f, 1);

    /* Rested: the next request tries again. A success resets the count. */
    f->connect_result = MIRROR_CONNECT_STARTED;
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_uint_eq(f->connect_calls, 3);
    /* Queued requests are dropped when a failure opens the circuit. */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_uint_eq(CTR(f, queued), 2);
    mirror_client_on_connected(conn(f, 2)->conn, ECONNREFUSED); /* the third failure in a row */
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_CIRCUIT_OPEN), 4);
    ck_assert_uint_eq(CTR(f, queued), 0);
    ck_assert_uint_eq(f->connect_calls, 3);
    advance(f, 2000);

    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    connected(f, 3);
    serve(f, 3, ok_resp);
    f->connect_result = MIRROR_CONNECT_FAILED;
    conn(f, 3)->send_fails = true;
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* reused connection fails: retried on a new one */
    ck_assert_uint_eq(f->connect_calls, 5);
    ck_assert_uint_eq(CTR(f, connect_failures), 4);
    ck_assert_int_eq(submit(f), MIRROR_DROP_CONNECT_ERROR); /* the second failure since the success */
    ck_assert_int_eq(submit(f), MIRROR_DROP_CIRCUIT_OPEN);
    ck_assert_uint_eq(CTR(f, connects), 1);
    f_free(f);
}
END_TEST

/* A mirror that accepts connections and then resets them, or answers
 * something that is not HTTP, is failing as surely as one that refuses
 * them: such exchanges count toward the breaker although every connect
 * succeeds, and only a response's headers start the count afresh. */
START_TEST(test_circuit_counts_failed_exchanges)
{
    struct mirror_client_settings set = default_settings();
    set.circuit_failures = 3;
    struct fake *f = f_new_with(&set, true);
    static const char not_http[] = "SSH-2.0-OpenSSH_9.6\r\n";

    /* Reset, reset, then a response: the count starts again. */
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
        connected(f, i);
        serve_kind(f, i, IN_ERROR);
    }
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_IO_ERROR), 2);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    connected(f, 2);
    serve(f, 2, ok_resp);
    ck_assert_uint_eq(dropped_total(f), 2);

    /* From the kept-alive connection on: not HTTP (on a new connection,
     * since the reused one is busy), a reset, an early close: the third
     * failure in a row opens the circuit. */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* on connection 2, kept alive */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* connection 3 */
    connected(f, 3);
    push_in(conn(f, 3), IN_DATA, not_http, sizeof(not_http) - 1);
    readable(f, 3);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_BAD_RESPONSE), 1);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* connection 4 */
    connected(f, 4);
    serve_kind(f, 4, IN_ERROR);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* connection 5 */
    connected(f, 5);
    serve_kind(f, 5, IN_EOF);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_IO_ERROR), 4);
    ck_assert_uint_eq(CTR(f, connect_failures), 0);
    ck_assert_int_eq(submit(f), MIRROR_DROP_CIRCUIT_OPEN);
    ck_assert_uint_eq(f->connect_calls, 6);
    f_free(f);
}
END_TEST

/* The transport's own setup (a TLS handshake) fails after the connect: the
 * request is dropped with the transport's reason, counted as a failed
 * connect, and consecutive failures open the circuit. */
START_TEST(test_setup_failed)
{
    struct mirror_client_settings set = default_settings();
    set.circuit_failures = 2;
    struct fake *f = f_new_with(&set, true);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    mirror_client_on_setup_failed(conn(f, 0)->conn, MIRROR_DROP_TLS_VERIFY);
    ck_assert(conn(f, 0)->closed);
    assert_done(f, 0, 0, MIRROR_DROP_TLS_VERIFY);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_TLS_VERIFY), 1);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_CONNECT_ERROR), 0);
    ck_assert_uint_eq(CTR(f, connect_failures), 1);
    ck_assert_uint_eq(CTR(f, connects), 0);

    /* Refused right after a handshake that seemed to succeed (TLS 1.3 and a
     * client certificate the server does not take): the second failure in a
     * row opens the circuit. */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    connected(f, 1);
    ck_assert_uint_eq(CTR(f, sent), 1);
    mirror_client_on_setup_failed(conn(f, 1)->conn, MIRROR_DROP_TLS_HANDSHAKE);
    assert_done(f, 1, 0, MIRROR_DROP_TLS_HANDSHAKE);
    ck_assert_uint_eq(CTR(f, connect_failures), 2);
    ck_assert_int_eq(submit(f), MIRROR_DROP_CIRCUIT_OPEN);
    f_free(f);
}
END_TEST

/* A failure in the middle of an exchange on a fresh connection: io_error. */
enum mid_failure { MID_RESET, MID_EOF, MID_SEND_ERROR, MID_RESET_BEFORE_BYTES, MID_FAILURES };

/* The failures of test_drop_io_error all come before the response headers. */

START_TEST(test_drop_io_error)
{
    struct fake *f = f_new();
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    struct fconn *c0 = conn(f, 0);
    if (_i == MID_SEND_ERROR)
        c0->send_fails = true;
    connected(f, 0);
    switch ((enum mid_failure)_i) {
    case MID_RESET:
        push_in(c0, IN_DATA, "HTTP/1.1 200 OK\r\nContent-Le", 27);
        serve_kind(f, 0, IN_ERROR);
        break;
    case MID_EOF:
        push_in(c0, IN_DATA, "HTTP/1.1 200 OK\r\nContent-Len", 28);
        serve_kind(f, 0, IN_EOF);
        break;
    case MID_SEND_ERROR:
        break;
    case MID_RESET_BEFORE_BYTES: /* a fresh connection is not retried */
        serve_kind(f, 0, IN_ERROR);
        break;
    case MID_FAILURES:
        break;
    }
    ck_assert(c0->closed);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_IO_ERROR), 1);
    ck_assert_uint_eq(dropped_total(f), 1);
    ck_assert_uint_eq(f->connect_calls, 1);
    ck_assert_uint_eq(CTR(f, sent), _i == MID_SEND_ERROR ? 0 : 1);
    assert_done(f, 0, 0, MIRROR_DROP_IO_ERROR);
    f_free(f);
}
END_TEST

/* Bytes that are not an HTTP response, and a flood of interim responses,
 * end the connection: bad_response, never retried. */
START_TEST(test_drop_bad_response)
{
    static char flood[(16 + 1) * 25 + 1];
    size_t len = 0;
    for (int i = 0; i <= 16; i++) {
        memcpy(flood + len, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        len += 25;
    }
    static const char nul[] = "\x00\x01\x02 not HTTP\r\n\r\n";
    const char *const bad[] = {"SSH-2.0-OpenSSH_9.6\r\n", nul, flood,
                               "HTTP/1.1 200 OK\r\nContent-Length: zz\r\n\r\n"};
    const size_t lens[] = {strlen(bad[0]), sizeof(nul) - 1, len, strlen(bad[3])};
    for (size_t k = 0; k < 4; k++) {
        for (int reused = 0; reused <= 1; reused++) {
            struct fake *f = f_new();
            if (reused)
                exchange_on_new(f, 0);
            ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
            if (!reused)
                connected(f, 0);
            push_in(conn(f, 0), IN_DATA, bad[k], lens[k]);
            readable(f, 0);
            ck_assert_msg(conn(f, 0)->closed, "case %zu", k);
            ck_assert_uint_eq(dropped(f, MIRROR_DROP_BAD_RESPONSE), 1);
            ck_assert_uint_eq(dropped_total(f), 1);
            ck_assert_uint_eq(f->connect_calls, 1);
            assert_done(f, (size_t)reused, 0, MIRROR_DROP_BAD_RESPONSE);
            f_free(f);
        }
    }
}
END_TEST

START_TEST(test_drop_shutdown)
{
    struct mirror_client_settings set = default_settings();
    set.max_inflight = 3;
    struct fake *f = f_new_with(&set, true);
    exchange_on_new(f, 0);                         /* idle */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* on the idle connection: receiving */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* connecting */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* connected, sending */
    conn(f, 2)->send_budget = 1;
    connected(f, 2);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* queued */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* queued */
    ck_assert_uint_eq(CTR(f, queued), 2);
    f_free_client(f);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_SHUTDOWN), 5);
    ck_assert_uint_eq(dropped_total(f), 5);
    ck_assert_uint_eq(f->close_calls, 3);
    f_free(f);
}
END_TEST

/* ---- the stale keep-alive retry ---- */

enum stale_kind { STALE_EOF, STALE_RESET, STALE_SEND_ERROR, STALE_KINDS };

/* A reused connection that fails before any response byte (the server
 * closed it as we reused it): the request goes out once more on a new
 * connection, and is counted as sent once. */
START_TEST(test_stale_keepalive_retry)
{
    struct fake *f = f_new();
    exchange_on_new(f, 0);
    if (_i == STALE_SEND_ERROR)
        conn(f, 0)->send_fails = true;
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_uint_eq(CTR(f, reused), 1);
    if (_i == STALE_EOF)
        serve_kind(f, 0, IN_EOF);
    else if (_i == STALE_RESET)
        serve_kind(f, 0, IN_ERROR);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(f->connect_calls, 2);
    ck_assert_uint_eq(f->n_done, 1); /* the retried request has not ended */
    ck_assert_uint_eq(CTR(f, inflight), 1);
    connected(f, 1);
    ck_assert_uint_eq(conn(f, 1)->out_len, strlen(get_req));
    ck_assert_uint_eq(CTR(f, sent), 2);
    serve(f, 1, ok_resp);
    assert_done(f, 1, 200, MIRROR_DROP_NONE);
    ck_assert_uint_eq(dropped_total(f), 0);
    ck_assert_uint_eq(CTR(f, responses[2]), 2);
    ck_assert_uint_eq(CTR(f, connects), 2);
    f_free(f);
}
END_TEST

/* The retry is not retried: its fresh connection failing is an io_error. */
START_TEST(test_stale_retry_once)
{
    struct fake *f = f_new();
    exchange_on_new(f, 0);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    serve_kind(f, 0, IN_EOF);
    connected(f, 1);
    serve_kind(f, 1, IN_EOF);
    ck_assert_uint_eq(f->connect_calls, 2);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_IO_ERROR), 1);
    assert_done(f, 1, 0, MIRROR_DROP_IO_ERROR);
    f_free(f);
}
END_TEST

/* A reused connection that sent part of a response is not retried. */
START_TEST(test_reused_with_bytes_not_retried)
{
    struct fake *f = f_new();
    exchange_on_new(f, 0);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    push_in(conn(f, 0), IN_DATA, "HTTP/1.1 2", 10);
    serve_kind(f, 0, IN_EOF);
    ck_assert_uint_eq(f->connect_calls, 1);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_IO_ERROR), 1);
    f_free(f);
}
END_TEST

/* The retry waits for its connect timeout like any connect. */
START_TEST(test_stale_retry_connect_timeout)
{
    struct fake *f = f_new();
    exchange_on_new(f, 0);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    serve_kind(f, 0, IN_EOF);
    advance(f, 100);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_CONNECT_ERROR), 1);
    ck_assert_uint_eq(CTR(f, connect_failures), 1);
    f_free(f);
}
END_TEST

/* ---- idle connections ---- */

START_TEST(test_idle_closed_by_server)
{
    const enum in_kind kinds[] = {IN_EOF, IN_ERROR, IN_DATA};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct fake *f = f_new();
        exchange_on_new(f, 0);
        if (kinds[k] == IN_DATA)
            serve(f, 0, "HTTP/1.1 408 Request Timeout\r\n\r\n"); /* unasked bytes */
        else
            serve_kind(f, 0, kinds[k]);
        ck_assert(conn(f, 0)->closed);
        ck_assert_uint_eq(dropped_total(f), 0);
        ck_assert_uint_eq(f->n_done, 1);
        exchange_on_new(f, 1); /* a new connection, not a reuse */
        ck_assert_uint_eq(CTR(f, reused), 0);
        f_free(f);
    }
}
END_TEST

START_TEST(test_idle_timeout)
{
    struct fake *f = f_new();
    exchange_on_new(f, 0);
    advance(f, 4999);
    ck_assert(!conn(f, 0)->closed);
    advance(f, 1);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(dropped_total(f), 0);
    exchange_on_new(f, 1);
    f_free(f);
}
END_TEST

/* Readiness the state does not expect is ignored. */
START_TEST(test_unexpected_readiness)
{
    struct fake *f = f_new();
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    mirror_client_on_readable(conn(f, 0)->conn); /* connecting */
    mirror_client_on_writable(conn(f, 0)->conn);
    ck_assert_uint_eq(conn(f, 0)->out_len, 0);
    connected(f, 0);
    mirror_client_on_connected(conn(f, 0)->conn, 0); /* not connecting any more */
    mirror_client_on_writable(conn(f, 0)->conn);     /* receiving */
    ck_assert_uint_eq(conn(f, 0)->out_len, strlen(get_req));
    ck_assert_uint_eq(CTR(f, connects), 1);
    serve(f, 0, ok_resp);
    mirror_client_on_writable(conn(f, 0)->conn); /* idle */
    ck_assert_uint_eq(f->n_done, 1);
    ck_assert_uint_eq(dropped_total(f), 0);
    f_free(f);
}
END_TEST

/* ---- writes ---- */

/* A request the socket takes in pieces: the write resumes when writable. */
START_TEST(test_partial_send)
{
    struct fake *f = f_new();
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    struct fconn *c0 = conn(f, 0);
    c0->send_budget = 5;
    connected(f, 0);
    ck_assert_uint_eq(c0->out_len, 5);
    ck_assert_uint_eq(c0->watch, MIRROR_WATCH_WRITE);
    ck_assert_uint_eq(CTR(f, sent), 0);
    c0->send_budget = 1;
    mirror_client_on_writable(c0->conn);
    ck_assert_uint_eq(c0->out_len, 6);
    c0->send_budget = SIZE_MAX;
    mirror_client_on_writable(c0->conn);
    ck_assert_uint_eq(c0->out_len, strlen(get_req));
    ck_assert_mem_eq(c0->out, get_req, strlen(get_req));
    ck_assert_uint_eq(c0->watch, MIRROR_WATCH_READ);
    ck_assert_uint_eq(CTR(f, sent), 1);
    serve(f, 0, ok_resp);
    assert_done(f, 0, 200, MIRROR_DROP_NONE);
    f_free(f);
}
END_TEST

/* ---- responses of every shape ---- */

struct shape_case {
    const char *name;
    const char *resp;
    bool head;
    bool needs_eof; /* the body ends with the connection */
    int status;
    bool kept; /* the connection is reused afterwards */
};

static const struct shape_case shapes[] = {
    {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, false, 200, true},
    {"1xx then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", false,
     false, 200, true},
    {"204 with length", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", false, false, 204, true},
    {"304 with length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n", false, false, 304, true},
    {"HEAD with length", "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n", true, false, 200, true},
    {"chunked", "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n", false,
     false, 201, true},
    {"eof-delimited", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end", false, true, 200, false},
    {"bytes after", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n", false, false, 200,
     false},
    {"101", "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", false, false,
     101, false},
    {"close", "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false, false, 404,
     false},
    {"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, false, 200, false},
};
#define N_SHAPES (sizeof(shapes) / sizeof(shapes[0]))

enum feed_mode { FEED_WHOLE, FEED_BYTES_ONE_READ, FEED_BYTE_PER_READINESS, FEED_MODES };

static void run_shape(const struct shape_case *s, enum feed_mode mode)
{
    struct fake *f = f_new();
    ck_assert_int_eq(submit_req(f, s->head ? head_req : get_req), MIRROR_DROP_NONE);
    connected(f, 0);
    struct fconn *c0 = conn(f, 0);
    size_t len = strlen(s->resp);
    switch (mode) {
    case FEED_WHOLE:
        push_in(c0, IN_DATA, s->resp, len);
        if (s->needs_eof)
            push_in(c0, IN_EOF, NULL, 0);
        readable(f, 0);
        break;
    case FEED_BYTES_ONE_READ: /* one readiness, many one-byte reads */
        for (size_t i = 0; i < len; i++)
            push_in(c0, IN_DATA, s->resp + i, 1);
        if (s->needs_eof)
            push_in(c0, IN_EOF, NULL, 0);
        readable(f, 0);
        while (!c0->closed && c0->pos_in < c0->n_in) /* left after the response: the next readiness */
            readable(f, 0);
        break;
    case FEED_BYTE_PER_READINESS:
        for (size_t i = 0; i < len && !c0->closed; i++) {
            push_in(c0, IN_DATA, s->resp + i, 1);
            readable(f, 0);
        }
        if (s->needs_eof) {
            ck_assert(!c0->closed); /* delivered at the headers; the body goes on to the EOF */
            serve_kind(f, 0, IN_EOF);
        }
        break;
    case FEED_MODES:
        break;
    }
    ck_assert_msg(f->n_done == 1, "%s (mode %d): not done", s->name, mode);
    assert_done(f, 0, s->status, MIRROR_DROP_NONE);
    ck_assert_uint_eq(CTR(f, responses[s->status / 100]), 1);
    ck_assert_msg(c0->closed == !s->kept, "%s (mode %d): closed %d", s->name, mode, c0->closed);
    /* The next request: on the same connection, or on a new one. */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_uint_eq(CTR(f, reused), s->kept ? 1 : 0);
    ck_assert_uint_eq(f->connect_calls, s->kept ? 1 : 2);
    size_t next = s->kept ? 0 : 1;
    if (!s->kept)
        connected(f, next);
    serve(f, next, ok_resp);
    assert_done(f, 1, 200, MIRROR_DROP_NONE);
    ck_assert_uint_eq(dropped_total(f), 0);
    f_free(f);
}

START_TEST(test_response_shapes)
{
    for (int mode = 0; mode < FEED_MODES; mode++)
        run_shape(&shapes[_i], (enum feed_mode)mode);
}
END_TEST

/* ---- fairness: bounded work per event and per call ---- */

static char big[16384]; /* zeros: body bytes and request filler */

/* Pushes <total> body bytes onto connection <i>, in items of sizeof(big). */
static void push_body(struct fake *f, size_t i, size_t total)
{
    for (size_t left = total; left > 0;) {
        size_t n = left < sizeof(big) ? left : sizeof(big);
        push_in(conn(f, i), IN_DATA, big, n);
        left -= n;
    }
}

/* A mirror that has a lot to say gets MIRROR_READ_BUDGET bytes read per
 * readable event; the rest waits for the next one. */
START_TEST(test_read_budget)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n";
    struct fake *f = f_new();
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    connected(f, 0);
    struct fconn *c0 = conn(f, 0);
    push_in(c0, IN_DATA, head, strlen(head));
    push_body(f, 0, 200000);
    size_t total = strlen(head) + 200000, events = 0;
    while (c0->in_total < total) {
        size_t before = c0->in_total;
        readable(f, 0);
        events++;
        ck_assert_uint_le(c0->in_total - before, MIRROR_READ_BUDGET);
        if (c0->in_total < total) /* no short turn while bytes wait */
            ck_assert_uint_eq(c0->in_total - before, MIRROR_READ_BUDGET);
    }
    ck_assert_uint_eq(events, (total + MIRROR_READ_BUDGET - 1) / MIRROR_READ_BUDGET);
    assert_done(f, 0, 200, MIRROR_DROP_NONE);
    ck_assert(!c0->closed);
    f_free(f);
}
END_TEST

/* A large request goes out MIRROR_WRITE_BUDGET bytes per writable event,
 * even when the socket would take it all at once. */
START_TEST(test_write_budget)
{
    static const char head[] = "POST /x HTTP/1.1\r\nHost: m\r\nContent-Length: 200000\r\n\r\n";
    size_t hlen = strlen(head), len = hlen + 200000;
    uint8_t *req = calloc(1, len);
    ck_assert_ptr_nonnull(req);
    memcpy(req, head, hlen);
    struct fake *f = f_new();
    f->submitted++;
    ck_assert_int_eq(mirror_client_submit(f->c, req, len, 0), MIRROR_DROP_NONE);
    struct fconn *c0 = conn(f, 0);
    connected(f, 0);
    size_t events = 1;
    ck_assert_uint_eq(c0->out_total, MIRROR_WRITE_BUDGET);
    while (c0->out_total < len) {
        ck_assert_uint_eq(c0->watch, MIRROR_WATCH_WRITE);
        ck_assert_uint_eq(CTR(f, sent), 0);
        size_t before = c0->out_total;
        mirror_client_on_writable(c0->conn);
        events++;
        ck_assert_uint_le(c0->out_total - before, MIRROR_WRITE_BUDGET);
    }
    ck_assert_uint_eq(events, (len + MIRROR_WRITE_BUDGET - 1) / MIRROR_WRITE_BUDGET);
    ck_assert_uint_eq(c0->watch, MIRROR_WATCH_READ);
    ck_assert_uint_eq(CTR(f, sent), 1);
    serve(f, 0, ok_resp);
    assert_done(f, 0, 200, MIRROR_DROP_NONE);
    f_free(f);
}
END_TEST

/* Connects that fail at once free their slot for the next queued request:
 * one call starts at most MIRROR_PUMP_MAX_STARTS of them, then asks for a
 * sweep (defer) to go on. */
START_TEST(test_pump_bounded_starts)
{
    struct mirror_client_settings set = default_settings();
    set.max_inflight = 1;
    set.max_queue = 100;
    set.circuit_failures = 0; /* no circuit: every request gets its attempt */
    struct fake *f = f_new_with(&set, true);
    const size_t queued = 2 * MIRROR_PUMP_MAX_STARTS + 8;
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* connecting */
    for (size_t i = 0; i < queued; i++)
        ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_uint_eq(CTR(f, queued), queued);
    f->connect_result = MIRROR_CONNECT_FAILED;
    f->connect_err = ECONNREFUSED;
    mirror_client_on_connected(conn(f, 0)->conn, ECONNREFUSED);
    ck_assert_uint_eq(f->connect_calls, 1 + MIRROR_PUMP_MAX_STARTS);
    ck_assert_uint_eq(CTR(f, queued), queued - MIRROR_PUMP_MAX_STARTS);
    ck_assert_uint_eq(f->defers, 1);
    mirror_client_sweep(f->c); /* what the transport does for defer() */
    ck_assert_uint_eq(f->connect_calls, 1 + 2 * MIRROR_PUMP_MAX_STARTS);
    ck_assert_uint_eq(f->defers, 2);
    mirror_client_sweep(f->c);
    ck_assert_uint_eq(f->connect_calls, 1 + queued);
    ck_assert_uint_eq(CTR(f, queued), 0);
    ck_assert_uint_eq(f->defers, 2); /* nothing left: no more sweeps asked for */
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_CONNECT_ERROR), 1 + queued);
    f_free(f);
}
END_TEST

/* Expired queued requests: one sweep drops at most MIRROR_PUMP_MAX_DROPS
 * and asks for another sweep; the circuit's drops are bounded the same. */
START_TEST(test_pump_bounded_drops)
{
    struct mirror_client_settings set = default_settings();
    set.max_inflight = 1;
    set.max_queue = 1000;
    struct fake *f = f_new_with(&set, true);
    const size_t queued = MIRROR_PUMP_MAX_DROPS + 44;
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* connecting, never answered */
    for (size_t i = 0; i < queued; i++)
        ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    f->now += 1001 * MS; /* past timeout_ms; no timer fired yet */
    mirror_client_sweep(f->c);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_INFLIGHT_LIMIT), MIRROR_PUMP_MAX_DROPS);
    ck_assert_uint_eq(CTR(f, queued), queued - MIRROR_PUMP_MAX_DROPS);
    ck_assert_uint_eq(f->defers, 1);
    mirror_client_sweep(f->c);
    ck_assert_uint_eq(dropped(f, MIRROR_DROP_INFLIGHT_LIMIT), queued);
    ck_assert_uint_eq(CTR(f, queued), 0);
    ck_assert_uint_eq(f->defers, 1);
    f_free(f);
}
END_TEST

/* ---- delivery at the headers, bodies read up to a bound ---- */

static uint64_t cut(const struct fake *f, enum mirror_cut why)
{
    return counter_get(&f->ctr.responses_cut[why]);
}

static uint64_t cut_total(const struct fake *f)
{
    uint64_t n = 0;
    for (int i = 0; i < MIRROR_CUT_ENTRIES; i++)
        n += counter_get(&f->ctr.responses_cut[i]);
    return n;
}

static const char head_1000[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";

/* The copy ends, delivered, when the final headers are in: counted, timed
 * and reported then, while the body is still read; a body read whole keeps
 * the connection for the next copy. */
START_TEST(test_delivered_at_headers)
{
    struct fake *f = f_new();
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    connected(f, 0);
    f->now += 7 * MS;
    serve(f, 0, head_1000);
    ck_assert_uint_eq(f->n_done, 1);
    assert_done(f, 0, 200, MIRROR_DROP_NONE);
    ck_assert_uint_eq(f->done[0].latency_ns, 7 * MS);
    ck_assert_uint_eq(CTR(f, responses[2]), 1);
    ck_assert_uint_eq(CTR(f, latency.count), 1);
    ck_assert_uint_eq(CTR(f, inflight), 0);
    ck_assert(mirror_client_busy(f->c)); /* the body is still being read */
    struct fconn *c0 = conn(f, 0);
    ck_assert(!c0->closed);
    ck_assert_uint_eq(c0->watch, MIRROR_WATCH_READ);
    /* A copy submitted meanwhile does not wait for a body nobody needs: it
     * gets a connection of its own. */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_uint_eq(f->connect_calls, 2);
    push_body(f, 0, 1000);
    readable(f, 0);
    ck_assert(!c0->closed); /* read whole: kept */
    connected(f, 1);
    serve(f, 1, ok_resp);
    ck_assert(!mirror_client_busy(f->c));
    ck_assert_uint_eq(c0->timer_ms, 5000);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* on an idle one */
    ck_assert_uint_eq(f->connect_calls, 2);
    ck_assert_uint_eq(CTR(f, reused), 1);
    ck_assert_uint_eq(cut_total(f), 0);
    ck_assert_uint_eq(dropped_total(f), 0);
    f_free(f);
}
END_TEST

/* A body of exactly max_response_bytes is read whole; one byte more ends the
 * connection: too_large. The copy was delivered either way. */
START_TEST(test_cut_too_large)
{
    struct mirror_client_settings set = default_settings();
    set.max_response_bytes = 1000;
    struct fake *f = f_new_with(&set, true);
    exchange_on_new(f, 0);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    push_in(conn(f, 0), IN_DATA, head_1000, strlen(head_1000));
    push_body(f, 0, 1000);
    readable(f, 0);
    ck_assert(!conn(f, 0)->closed);
    ck_assert_uint_eq(cut_total(f), 0);

    static const char head_1001[] = "HTTP/1.1 503 Busy\r\nContent-Length: 1001\r\n\r\n";
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    push_in(conn(f, 0), IN_DATA, head_1001, strlen(head_1001));
    push_body(f, 0, 1001);
    readable(f, 0);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(cut(f, MIRROR_CUT_TOO_LARGE), 1);
    assert_done(f, 2, 503, MIRROR_DROP_NONE);
    ck_assert_uint_eq(CTR(f, responses[5]), 1);
    ck_assert_uint_eq(dropped_total(f), 0);
    /* Never reused: the next copy opens a new connection. */
    exchange_on_new(f, 1);
    ck_assert_uint_eq(CTR(f, reused), 2);
    f_free(f);
}
END_TEST

/* An endless body is read no further than the limit, even in one event. */
START_TEST(test_cut_endless_body)
{
    struct mirror_client_settings set = default_settings();
    set.max_response_bytes = 100;
    struct fake *f = f_new_with(&set, true);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    connected(f, 0);
    struct fconn *c0 = conn(f, 0);
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 4294967296\r\n\r\n";
    push_in(c0, IN_DATA, head, strlen(head));
    push_body(f, 0, 10 * sizeof(big));
    readable(f, 0);
    ck_assert(c0->closed);
    ck_assert_uint_le(c0->in_total, strlen(head) + sizeof(big));
    ck_assert_uint_eq(cut(f, MIRROR_CUT_TOO_LARGE), 1);
    assert_done(f, 0, 200, MIRROR_DROP_NONE);
    f_free(f);
}
END_TEST

/* A burst opens at most MIRROR_MAX_CONNECTING connections at a time; the
 * rest waits in the queue and goes out as connections come up or fail. */
START_TEST(test_connecting_capped)
{
    struct mirror_client_settings set = default_settings();
    set.max_inflight = 40;
    set.max_queue = 40;
    set.circuit_failures = 0; /* the timeouts below must not open it */
    struct fake *f = f_new_with(&set, true);
    for (unsigned i = 0; i < 24; i++)
        ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_uint_eq(f->connect_calls, MIRROR_MAX_CONNECTING);
    ck_assert_uint_eq(CTR(f, queued), 24 - MIRROR_MAX_CONNECTING);
    connected(f, 0); /* one is up: one more may be set up */
    ck_assert_uint_eq(f->connect_calls, MIRROR_MAX_CONNECTING + 1);
    mirror_client_on_connected(conn(f, 1)->conn, ECONNREFUSED); /* one failed: likewise */
    ck_assert_uint_eq(f->connect_calls, MIRROR_MAX_CONNECTING + 2);
    advance(f, 100); /* the connect timeout ends the others: the rest goes out */
    ck_assert_uint_eq(CTR(f, queued), 0);
    ck_assert_uint_eq(f->connect_calls, 24);
    f_free(f);
}
END_TEST

/* Every cut answer costs the next copy a new connection: as many cuts in a
 * row as circuit_failures open the circuit, although each copy was
 * delivered; a body read whole starts the count again. */
START_TEST(test_circuit_counts_cut_responses)
{
    struct mirror_client_settings set = default_settings();
    set.max_response_bytes = 10;
    set.circuit_failures = 3;
    struct fake *f = f_new_with(&set, true);
    static const char too_long[] = "HTTP/1.1 200 OK\r\nContent-Length: 4294967296\r\n\r\n";
    size_t i = 0;
    for (; i < 2; i++) {
        ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
        connected(f, i);
        serve(f, i, too_long);
        ck_assert(conn(f, i)->closed);
    }
    exchange_on_new(f, i++); /* a whole answer: the count starts again */
    for (size_t n = 0; n < 3; n++) {
        ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
        if (n == 0) {
            serve(f, i - 1, too_long); /* on the kept-alive connection */
            continue;
        }
        connected(f, i);
        serve(f, i, too_long);
        i++;
    }
    ck_assert_uint_eq(cut(f, MIRROR_CUT_TOO_LARGE), 5);
    ck_assert_uint_eq(dropped_total(f), 0);
    ck_assert_uint_eq(CTR(f, responses[2]), 6); /* all delivered */
    ck_assert_int_eq(submit(f), MIRROR_DROP_CIRCUIT_OPEN);
    advance(f, 2000);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* rested */
    f_free(f);
}
END_TEST

/* A body still unread at timeout_ms (from the copy's start) ends the
 * connection: timeout, counted as a cut, not as a drop. */
START_TEST(test_cut_timeout)
{
    struct fake *f = f_new();
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    connected(f, 0);
    advance(f, 300);
    serve(f, 0, head_1000);
    serve(f, 0, "some of it");
    advance(f, 699);
    ck_assert(!conn(f, 0)->closed);
    advance(f, 1);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(cut(f, MIRROR_CUT_TIMEOUT), 1);
    ck_assert_uint_eq(dropped_total(f), 0);
    assert_done(f, 0, 200, MIRROR_DROP_NONE);
    ck_assert_uint_eq(f->done[0].latency_ns, 300 * MS);
    f_free(f);
}
END_TEST

/* Closed, reset or malformed in the middle of the body: io_error, counted as
 * a cut; never retried (the mirror answered). */
START_TEST(test_cut_io_error)
{
    static const char *const tails[] = {NULL, NULL, "5\r\nabc"};
    const enum in_kind kinds[] = {IN_EOF, IN_ERROR, IN_DATA};
    for (size_t k = 0; k < 3; k++) {
        struct fake *f = f_new();
        exchange_on_new(f, 0); /* reused next: the stale retry must not apply */
        ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
        if (kinds[k] == IN_DATA) {
            serve(f, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            serve(f, 0, tails[k]);
            serve(f, 0, "xyz\r\n");
        } else {
            serve(f, 0, head_1000);
            serve(f, 0, "0123456789");
            serve_kind(f, 0, kinds[k]);
        }
        ck_assert_msg(conn(f, 0)->closed, "case %zu", k);
        ck_assert_uint_eq(cut(f, MIRROR_CUT_IO_ERROR), 1);
        ck_assert_uint_eq(dropped_total(f), 0);
        ck_assert_uint_eq(f->connect_calls, 1);
        assert_done(f, 1, 200, MIRROR_DROP_NONE);
        f_free(f);
    }
}
END_TEST

/* Stopping with a body being read: the copy already ended; nothing is
 * counted as dropped. */
START_TEST(test_shutdown_while_draining)
{
    struct fake *f = f_new();
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    connected(f, 0);
    serve(f, 0, head_1000);
    f_free_client(f);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(dropped_total(f), 0);
    ck_assert_uint_eq(cut_total(f), 0);
    ck_assert_uint_eq(f->n_done, 1);
    f_free(f);
}
END_TEST

/* ---- no duplicate side effects ---- */

static const char post_req[] = "POST /x HTTP/1.1\r\nHost: m\r\nContent-Length: 2\r\n\r\nhi";

START_TEST(test_method_flags)
{
    static const struct {
        const char *method;
        unsigned flags;
    } cases[] = {
        {"GET", MIRROR_REQ_IDEMPOTENT},
        {"HEAD", MIRROR_REQ_HEAD | MIRROR_REQ_IDEMPOTENT},
        {"OPTIONS", MIRROR_REQ_IDEMPOTENT},
        {"TRACE", MIRROR_REQ_IDEMPOTENT},
        {"PUT", MIRROR_REQ_IDEMPOTENT},
        {"DELETE", MIRROR_REQ_IDEMPOTENT},
        {"POST", 0},
        {"PATCH", 0},
        {"CONNECT", 0},
        {"PROPFIND", 0},
        {"get", 0}, /* methods are case-sensitive */
        {"GETX", 0},
        {"GE", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(mirror_method_flags((const uint8_t *)cases[i].method, strlen(cases[i].method)) ==
                          cases[i].flags,
                      "%s", cases[i].method);
    ck_assert_uint_eq(mirror_method_flags((const uint8_t *)"GET /", 3), MIRROR_REQ_IDEMPOTENT);
}
END_TEST

/* A POST written whole on a kept-alive connection that then fails without a
 * response byte may have been received and acted on: it is not sent again,
 * but dropped (io_error) and counted as a refused retry. */
START_TEST(test_post_not_retried)
{
    const enum in_kind kinds[] = {IN_EOF, IN_ERROR};
    for (size_t k = 0; k < 2; k++) {
        struct fake *f = f_new();
        exchange_on_new(f, 0);
        ck_assert_int_eq(submit_req(f, post_req), MIRROR_DROP_NONE);
        ck_assert_uint_eq(CTR(f, sent), 2);
        serve_kind(f, 0, kinds[k]);
        ck_assert(conn(f, 0)->closed);
        ck_assert_uint_eq(f->connect_calls, 1);
        ck_assert_uint_eq(CTR(f, retries_refused), 1);
        ck_assert_uint_eq(dropped(f, MIRROR_DROP_IO_ERROR), 1);
        assert_done(f, 1, 0, MIRROR_DROP_IO_ERROR);
        ck_assert_uint_eq(CTR(f, inflight), 0);
        f_free(f);
    }
}
END_TEST

/* A request not fully written cannot have reached the server whole: a POST
 * may go once more, like any request. */
START_TEST(test_post_unsent_retried)
{
    struct fake *f = f_new();
    exchange_on_new(f, 0);
    conn(f, 0)->send_budget = 10; /* part of it, then the reset */
    ck_assert_int_eq(submit_req(f, post_req), MIRROR_DROP_NONE);
    ck_assert_uint_eq(conn(f, 0)->watch, MIRROR_WATCH_WRITE);
    conn(f, 0)->send_fails = true;
    mirror_client_on_writable(conn(f, 0)->conn);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(f->connect_calls, 2);
    ck_assert_uint_eq(CTR(f, retries_refused), 0);
    connected(f, 1);
    ck_assert_uint_eq(conn(f, 1)->out_len, strlen(post_req));
    ck_assert_mem_eq(conn(f, 1)->out, post_req, strlen(post_req));
    serve(f, 1, ok_resp);
    assert_done(f, 1, 200, MIRROR_DROP_NONE);
    ck_assert_uint_eq(dropped_total(f), 0);
    ck_assert_uint_eq(CTR(f, sent), 2);
    f_free(f);
}
END_TEST

/* The idempotent methods are retried when written whole, as before. */
START_TEST(test_idempotent_retried)
{
    static const char *const reqs[] = {
        "PUT /x HTTP/1.1\r\nHost: m\r\nContent-Length: 2\r\n\r\nhi",
        "DELETE /x HTTP/1.1\r\nHost: m\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: m\r\n\r\n",
        "TRACE /x HTTP/1.1\r\nHost: m\r\n\r\n",
        "HEAD /x HTTP/1.1\r\nHost: m\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct fake *f = f_new();
        exchange_on_new(f, 0);
        ck_assert_int_eq(submit_req(f, reqs[i]), MIRROR_DROP_NONE);
        serve_kind(f, 0, IN_EOF);
        ck_assert_msg(f->connect_calls == 2, "%s", reqs[i]);
        connected(f, 1);
        serve(f, 1, "HTTP/1.1 204 No Content\r\n\r\n");
        assert_done(f, 1, 204, MIRROR_DROP_NONE);
        ck_assert_uint_eq(CTR(f, retries_refused), 0);
        f_free(f);
    }
}
END_TEST

/* ---- connection age ---- */

/* A kept-alive connection that reached max_connection_age_ms is closed when
 * it becomes idle instead of being reused: the next copy opens a new one
 * (to the address the resolver holds now). */
START_TEST(test_age_closes_when_idle)
{
    struct mirror_client_settings set = default_settings();
    set.max_connection_age_ms = 1000;
    struct fake *f = f_new_with(&set, true);
    exchange_on_new(f, 0);
    ck_assert_uint_eq(conn(f, 0)->timer_ms, 1000); /* idle: closed at its age, before idle_timeout_ms */
    f->now += 900 * MS;
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE); /* still young enough: reused */
    ck_assert_uint_eq(CTR(f, reused), 1);
    f->now += 100 * MS;
    serve(f, 0, ok_resp); /* answered at its age: not reused again */
    assert_done(f, 1, 200, MIRROR_DROP_NONE);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(CTR(f, expired), 1);
    exchange_on_new(f, 1);
    ck_assert_uint_eq(CTR(f, connects), 2);
    ck_assert_uint_eq(dropped_total(f), 0);
    f_free(f);
}
END_TEST

/* An idle connection is closed at its age (counted) or after idle_timeout_ms
 * (not counted), whichever comes first. */
START_TEST(test_age_while_idle)
{
    struct mirror_client_settings set = default_settings();
    set.max_connection_age_ms = 3000; /* idle_timeout_ms is 5000 */
    struct fake *f = f_new_with(&set, true);
    exchange_on_new(f, 0);
    f->now += 1000 * MS;
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    serve(f, 0, ok_resp);
    ck_assert_uint_eq(conn(f, 0)->timer_ms, 2000);
    advance(f, 1999);
    ck_assert(!conn(f, 0)->closed);
    advance(f, 1);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(CTR(f, expired), 1);

    f_free(f);

    set.max_connection_age_ms = 10000; /* idle_timeout_ms comes first: not an expiry */
    f = f_new_with(&set, true);
    exchange_on_new(f, 0);
    ck_assert_uint_eq(conn(f, 0)->timer_ms, 5000);
    advance(f, 5000);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(CTR(f, expired), 0);
    f_free(f);
}
END_TEST

/* 0 = no limit: a connection is reused for as long as it lives. */
START_TEST(test_age_unlimited)
{
    struct mirror_client_settings set = default_settings();
    set.max_connection_age_ms = 0;
    struct fake *f = f_new_with(&set, true);
    exchange_on_new(f, 0);
    for (int i = 0; i < 10; i++) {
        f->now += 4000 * MS;
        ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
        serve(f, 0, ok_resp);
        ck_assert_uint_eq(conn(f, 0)->timer_ms, 5000);
    }
    ck_assert_uint_eq(CTR(f, reused), 10);
    ck_assert_uint_eq(CTR(f, expired), 0);
    f_free(f);
}
END_TEST

/* ---- addresses that leave the resolved set ---- */

/* Makes the <n> IPv4 literals <ips> the mirror's address set, as the
 * resolver does when it finds them (the fake's port, 8080). */
static void readdress(struct fake *f, const char *const *ips, int n)
{
    store_ipv4s(&f->addr, ips, n, 8080);
}

/* A kept-alive connection whose address left the set while it carried a
 * request is closed when the response is read whole (the copy is
 * delivered): the next copy goes to the new address. */
START_TEST(test_address_gone_at_response_end)
{
    static const char *const moved[] = {"10.0.0.2"};
    struct fake *f = f_new();
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    connected(f, 0);
    ck_assert_str_eq(conn(f, 0)->peer, "127.0.0.1:8080");
    readdress(f, moved, 1);
    serve(f, 0, ok_resp);
    assert_done(f, 0, 200, MIRROR_DROP_NONE);
    ck_assert(conn(f, 0)->closed);
    ck_assert_uint_eq(CTR(f, address_gone), 1);
    ck_assert_uint_eq(CTR(f, expired), 0);

    exchange_on_new(f, 1);
    ck_assert_str_eq(conn(f, 1)->peer, "10.0.0.2:8080");
    ck_assert(!conn(f, 1)->closed); /* current: kept alive */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    serve(f, 1, ok_resp);
    ck_assert_uint_eq(CTR(f, reused), 1);
    ck_assert_uint_eq(CTR(f, address_gone), 1);
    ck_assert_uint_eq(f->connect_calls, 2);
    ck_assert_uint_eq(dropped_total(f), 0);
    f_free(f);
}
END_TEST

/* Idle connections found stale when a copy would reuse them are closed (each
 * counted) and the copy goes out on a new connection, to the new address. */
START_TEST(test_address_gone_at_reuse)
{
    static const char *const moved[] = {"10.0.0.2"};
    struct mirror_client_settings set = default_settings();
    set.max_inflight = 3;
    struct fake *f = f_new_with(&set, true);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    connected(f, 0);
    connected(f, 1);
    serve(f, 0, ok_resp);
    serve(f, 1, ok_resp);
    ck_assert(!conn(f, 0)->closed && !conn(f, 1)->closed); /* both idle */
    readdress(f, moved, 1);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    ck_assert(conn(f, 0)->closed);
    ck_assert(conn(f, 1)->closed);
    ck_assert_uint_eq(CTR(f, address_gone), 2);
    ck_assert_uint_eq(f->n, 3);
    ck_assert_str_eq(conn(f, 2)->peer, "10.0.0.2:8080");
    connected(f, 2);
    ck_assert_uint_eq(conn(f, 2)->out_len, strlen(get_req));
    serve(f, 2, ok_resp);
    assert_done(f, 2, 200, MIRROR_DROP_NONE);
    ck_assert_uint_eq(CTR(f, reused), 0);
    ck_assert_uint_eq(dropped_total(f), 0);
    f_free(f);
}
END_TEST

/* Address sets that keep a connection to 127.0.0.1:8080: stored while it is
 * idle, then while it carries a copy. */
static const char *const same[] = {"127.0.0.1"};
static const char *const two[] = {"127.0.0.1", "10.0.0.2"};
static const char *const two_swapped[] = {"10.0.0.2", "127.0.0.1"};
static const char *const grown[] = {"10.0.0.2", "127.0.0.1", "10.0.0.3"};
static const char *const shrunk[] = {"10.0.0.3", "127.0.0.1"};
static const struct {
    const char *const *idle, *const *busy;
    int n_idle, n_busy;
} kept_sets[] = {
    {same, same, 1, 1},       /* the same set stored again: no change at all */
    {two, two_swapped, 2, 2}, /* grown, then the same addresses in another order */
    {grown, shrunk, 3, 2},    /* still present among several, however the set moves */
};
#define KEPT_CASES (int)(sizeof(kept_sets) / sizeof(kept_sets[0]))

/* A connection whose address is still in the set is kept, at response end
 * and at reuse: nothing is retired, nothing reconnects. */
START_TEST(test_address_still_present)
{
    struct fake *f = f_new();
    exchange_on_new(f, 0);
    readdress(f, kept_sets[_i].idle, kept_sets[_i].n_idle);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    readdress(f, kept_sets[_i].busy, kept_sets[_i].n_busy);
    serve(f, 0, ok_resp);
    ck_assert(!conn(f, 0)->closed);
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    serve(f, 0, ok_resp);
    ck_assert(!conn(f, 0)->closed);
    ck_assert_uint_eq(CTR(f, reused), 2);
    ck_assert_uint_eq(CTR(f, address_gone), 0);
    ck_assert_uint_eq(f->connect_calls, 1);
    f_free(f);
}
END_TEST

/* ---- observed requests (a comparison's copies) ---- */

/* An observer collecting into a compare side, recording its end. */
struct watcher {
    struct compare_rules *rules;
    struct compare_side *side;
    struct compare_collect col;
    int ends, status;
    enum mirror_drop why;
    bool whole;
};

static void w_begin(void *ctx)
{
    compare_collect_begin(&((struct watcher *)ctx)->col);
}
static void w_field(void *ctx, const char *p, size_t n)
{
    compare_collect_field(&((struct watcher *)ctx)->col, p, n);
}
static void w_value(void *ctx, const char *p, size_t n)
{
    compare_collect_value(&((struct watcher *)ctx)->col, p, n);
}
static void w_headers_done(void *ctx)
{
    compare_collect_headers_done(&((struct watcher *)ctx)->col);
}
static void w_body(void *ctx, const char *p, size_t n)
{
    compare_collect_body(&((struct watcher *)ctx)->col, p, n);
}
static const struct http_exchange_sink w_sink = {w_begin, w_field, w_value, w_headers_done, w_body};

static void w_end(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why, bool whole)
{
    struct watcher *w = ctx;
    (void)latency_ns;
    w->ends++;
    w->status = status;
    w->why = why;
    w->whole = whole;
}

static void w_init(struct watcher *w)
{
    memset(w, 0, sizeof(*w));
    struct config_compare *cfg = config_compare_new();
    w->rules = compare_rules_new(cfg);
    config_compare_free(cfg);
    w->side = compare_side_new(1024, true);
    compare_collect_init(&w->col, w->rules, w->side);
}

static void w_free(struct watcher *w)
{
    compare_side_free(w->side);
    compare_rules_free(w->rules);
}

static enum mirror_drop submit_observed(struct fake *f, struct watcher *w)
{
    size_t len = strlen(get_req);
    uint8_t *req = malloc(len);
    ck_assert_ptr_nonnull(req);
    memcpy(req, get_req, len);
    f->submitted++;
    struct mirror_observer obs = {.sink = &w_sink, .ctx = w, .end = w_end};
    return mirror_client_submit_observed(f->c, req, len, MIRROR_REQ_IDEMPOTENT, &obs);
}

/* The observer sees the final response's chosen headers and its de-chunked
 * body, and ends once the body is whole, not at the headers. */
START_TEST(test_observed_whole)
{
    struct fake *f = f_new();
    struct watcher w;
    w_init(&w);
    ck_assert_int_eq(submit_observed(f, &w), MIRROR_DROP_NONE);
    connected(f, 0);
    serve(f, 0,
          "HTTP/1.1 100 Continue\r\nContent-Type: no\r\n\r\nHTTP/1.1 201 Created\r\nX-A: 1\r\n"
          "Content-Type: applic");
    serve(f, 0, "ation/json\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a");
    ck_assert_uint_eq(f->n_done, 1); /* delivered at its headers */
    ck_assert_int_eq(w.ends, 0);     /* observed to the end of the body */
    serve(f, 0, "\r\n4\r\n\":1}\r\n0\r\n\r\n");
    ck_assert_int_eq(w.ends, 1);
    ck_assert_int_eq(w.status, 201);
    ck_assert(w.whole);
    ck_assert_int_eq(w.why, MIRROR_DROP_NONE);
    ck_assert_uint_eq(w.side->n_headers, 1); /* content-type only (the default rules) */
    ck_assert_str_eq(w.side->headers[0].name, "content-type");
    ck_assert_str_eq(w.side->headers[0].value, "application/json");
    ck_assert_uint_eq(w.side->body.len, 7);
    ck_assert_mem_eq(w.side->body.data, "{\"a\":1}", 7);
    /* A plain request afterwards on the same connection is not observed. */
    ck_assert_int_eq(submit(f), MIRROR_DROP_NONE);
    serve(f, 0, ok_resp);
    ck_assert_int_eq(w.ends, 1);
    f_free(f);
    w_free(&w);
}
END_TEST

/* Dropped, cut or shut down: the observer ends once, not whole. */
START_TEST(test_observed_not_whole)
{
    struct mirror_client_settings set = default_settings();
    set.max_response_bytes = 4;
    set.max_inflight = 1;
    set.max_queue = 0;
    struct fake *f = f_new_with(&set, true);
    struct watcher a, b, c;
    w_init(&a);
    w_init(&b);
    w_init(&c);
    ck_assert_int_eq(submit_observed(f, &a), MIRROR_DROP_NONE);
    ck_assert_int_eq(submit_observed(f, &b), MIRROR_DROP_QUEUE_FULL);
    ck_assert_int_eq(b.ends, 1);
    ck_assert_int_eq(b.status, 0);
    ck_assert_int_eq(b.why, MIRROR_DROP_QUEUE_FULL);
    connected(f, 0);
    serve(f, 0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
    ck_assert_int_eq(a.ends, 1);
    ck_assert_int_eq(a.status, 200);
    ck_assert(!a.whole);
    ck_assert_uint_eq(CTR(f, responses_cut[MIRROR_CUT_TOO_LARGE]), 1);
    ck_assert_int_eq(submit_observed(f, &c), MIRROR_DROP_NONE);
    connected(f, 1);
    serve(f, 1, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab");
    ck_assert_int_eq(c.ends, 0);
    f_free_client(f); /* shutdown while the body is read */
    ck_assert_int_eq(c.ends, 1);
    ck_assert(!c.whole);
    f_free(f);
    w_free(&a);
    w_free(&b);
    w_free(&c);
}
END_TEST

Suite *mirror_client_suite(void);
Suite *mirror_client_suite(void)
{
    Suite *s = suite_create("mirror_client");
    TCase *tc = tcase_create("exchange");
    tcase_add_test(tc, test_exchange_and_reuse);
    tcase_add_test(tc, test_pool_and_queue);
    tcase_add_test(tc, test_max_inflight_zero_is_one);
    tcase_add_test(tc, test_partial_send);
    tcase_add_test(tc, test_unexpected_readiness);
    tcase_add_loop_test(tc, test_response_shapes, 0, (int)N_SHAPES);
    suite_add_tcase(s, tc);

    tc = tcase_create("drops");
    tcase_add_test(tc, test_drop_queue_full);
    tcase_add_test(tc, test_drop_inflight_limit);
    tcase_add_test(tc, test_drop_connect_refused_at_once);
    tcase_add_test(tc, test_drop_no_socket);
    tcase_add_test(tc, test_drop_unresolved);
    tcase_add_test(tc, test_drop_connect_error_later);
    tcase_add_test(tc, test_connect_timeout);
    tcase_add_test(tc, test_request_timeout);
    tcase_add_test(tc, test_timeout_while_sending);
    tcase_add_test(tc, test_circuit_breaker);
    tcase_add_test(tc, test_circuit_counts_failed_exchanges);
    tcase_add_test(tc, test_circuit_counts_cut_responses);
    tcase_add_test(tc, test_connecting_capped);
    tcase_add_test(tc, test_setup_failed);
    tcase_add_loop_test(tc, test_drop_io_error, 0, MID_FAILURES);
    tcase_add_test(tc, test_drop_bad_response);
    tcase_add_test(tc, test_drop_shutdown);
    suite_add_tcase(s, tc);

    tc = tcase_create("keep-alive");
    tcase_add_loop_test(tc, test_stale_keepalive_retry, 0, STALE_KINDS);
    tcase_add_test(tc, test_stale_retry_once);
    tcase_add_test(tc, test_reused_with_bytes_not_retried);
    tcase_add_test(tc, test_stale_retry_connect_timeout);
    tcase_add_test(tc, test_idle_closed_by_server);
    tcase_add_test(tc, test_idle_timeout);
    suite_add_tcase(s, tc);

    tc = tcase_create("retries");
    tcase_add_test(tc, test_method_flags);
    tcase_add_test(tc, test_post_not_retried);
    tcase_add_test(tc, test_post_unsent_retried);
    tcase_add_test(tc, test_idempotent_retried);
    suite_add_tcase(s, tc);

    tc = tcase_create("bounded responses");
    tcase_add_test(tc, test_delivered_at_headers);
    tcase_add_test(tc, test_cut_too_large);
    tcase_add_test(tc, test_cut_endless_body);
    tcase_add_test(tc, test_cut_timeout);
    tcase_add_test(tc, test_cut_io_error);
    tcase_add_test(tc, test_shutdown_while_draining);
    suite_add_tcase(s, tc);

    tc = tcase_create("observed");
    tcase_add_test(tc, test_observed_whole);
    tcase_add_test(tc, test_observed_not_whole);
    suite_add_tcase(s, tc);

    tc = tcase_create("connection age");
    tcase_add_test(tc, test_age_closes_when_idle);
    tcase_add_test(tc, test_age_while_idle);
    tcase_add_test(tc, test_age_unlimited);
    suite_add_tcase(s, tc);

    tc = tcase_create("addresses");
    tcase_add_test(tc, test_address_gone_at_response_end);
    tcase_add_test(tc, test_address_gone_at_reuse);
    tcase_add_loop_test(tc, test_address_still_present, 0, KEPT_CASES);
    suite_add_tcase(s, tc);

    tc = tcase_create("fairness");
    tcase_add_test(tc, test_read_budget);
    tcase_add_test(tc, test_write_budget);
    tcase_add_test(tc, test_pump_bounded_starts);
    tcase_add_test(tc, test_pump_bounded_drops);
    suite_add_tcase(s, tc);
    return s;
}
