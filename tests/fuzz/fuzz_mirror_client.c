/* libFuzzer target: the mirror client's state machine (mirror_client.h)
 * driven through an in-memory transport by a script of events, with the
 * bytes the mirrors answer taken from the input.
 *
 * Input layout: <settings: 4 bytes> <ops...>.
 * - settings[0]: max_inflight 1 + (b & 3), max_queue (b >> 2) & 3, HEAD
 *   answers never come (the request kind is per submit);
 * - settings[1]: max_response_bytes (b & 63) * 8, circuit_failures (b >> 6);
 * - settings[2]: timeout_ms 10 + b, connect_timeout_ms 5 + b / 2;
 * - settings[3]: max_connection_age_ms (b & 15) * 20 (0: none), the
 *   transport's send budget per call (b >> 4) * 16 bytes (0: unbounded).
 * Each op is one byte, <kind = b & 15> and <arg = b >> 4>, some followed by
 * more bytes (a connection is chosen as arg modulo the connections opened):
 *   0 submit a GET (arg & 1: HEAD, arg & 2: POST), observed when arg & 4
 *   1 the connect of a connection ends (arg & 8: refused)
 *   2 <n> <n bytes>: bytes the mirror sends on a connection, then readable
 *   3 the mirror closes a connection (EOF), then readable
 *   4 the connection fails (reset), then readable
 *   5 writable
 *   6 the clock moves (arg + 1) * 5 ms; due timers fire in deadline order
 *   7 sweep
 *   8 the transport's setup of a connection fails (a TLS handshake)
 *   9 the next connects fail at once (arg & 1) or get no socket (arg & 2)
 *  10 readable with nothing to read
 * Properties, checked with abort():
 * - exactly one on_done, and exactly one observer end, per submitted request,
 *   by the time the client is freed; a done has a status of 100..999 with
 *   reason NONE, or status 0 with a drop reason; an observer end agrees;
 * - hooks on a connection come between its connect and its close only; a
 *   closed connection is never used again; the client releases the
 *   transport once;
 * - every connection is closed after mirror_client_free(); the inflight and
 *   queued gauges are 0; no readable event reads more than MIRROR_READ_BUDGET
 *   bytes, no writable event writes more than MIRROR_WRITE_BUDGET;
 * - LeakSanitizer: nothing leaks. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/counter.h"
#include "mirror/mirror_client.h"
#include "mirror/mirror_stats.h"
#include "mirror/target_addr.h"
#include "fuzz_check.h"

#define MAX_CONNS 32
#define MAX_REQS  256
#define IN_CAP    4096
#define MS        1000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fconn {
    struct mirror_conn *conn; /* NULL once closed */
    bool closed;
    unsigned watch;
    bool timer_armed;
    uint64_t timer_at;
    uint8_t in[IN_CAP]; /* what recv() returns, then would-block, EOF or an error */
    size_t in_len, in_pos;
    bool eof, error;
    size_t event_reads, event_writes; /* bytes moved during the current event */
};

struct fake {
    struct fconn conns[MAX_CONNS];
    size_t n;
    uint64_t now;
    enum mirror_connect connect_result;
    size_t send_budget;
    bool released;
    size_t submitted, done, ends;
    struct target_addr addr;
    struct mirror_counters ctr;
    struct logger log;
    struct mirror_client *c;
};

static struct fconn *fc_of(struct fake *f, struct mirror_conn *conn)
{
    size_t idx = *(size_t *)mirror_conn_data(conn);
    CHECK(idx < f->n);
    CHECK(f->conns[idx].conn == conn && !f->conns[idx].closed);
    return &f->conns[idx];
}

static enum mirror_connect t_connect(void *ctx, struct mirror_conn *conn, const struct sockaddr *sa,
                                     socklen_t salen, int *err)
{
    struct fake *f = ctx;
    (void)sa, (void)salen;
    if (f->n == MAX_CONNS || f->connect_result == MIRROR_CONNECT_NO_SOCKET) {
        *err = EMFILE;
        return MIRROR_CONNECT_NO_SOCKET;
    }
    struct fconn *fc = &f->conns[f->n];
    memset(fc, 0, sizeof(*fc));
    fc->conn = conn;
    *(size_t *)mirror_conn_data(conn) = f->n++;
    if (f->connect_result == MIRROR_CONNECT_FAILED)
        *err = ECONNREFUSED;
    return f->connect_result;
}

static ssize_t t_send(void *ctx, struct mirror_conn *conn, const uint8_t *p, size_t len)
{
    struct fake *f = ctx;
    struct fconn *fc = fc_of(f, conn);
    (void)p;
    CHECK(len > 0);
    if (fc->error)
        return MIRROR_IO_ERROR;
    size_t n = f->send_budget && len > f->send_budget ? f->send_budget : len;
    fc->event_writes += n;
    CHECK(fc->event_writes <= MIRROR_WRITE_BUDGET);
    return (ssize_t)n;
}

static ssize_t t_recv(void *ctx, struct mirror_conn *conn, uint8_t *buf, size_t cap)
{
    struct fconn *fc = fc_of(ctx, conn);
    CHECK(cap > 0);
    if (fc->in_pos < fc->in_len) {
        size_t n = fc->in_len - fc->in_pos < cap ? fc->in_len - fc->in_pos : cap;
        memcpy(buf, fc->in + fc->in_pos, n);
        fc->in_pos += n;
        fc->event_reads += n;
        CHECK(fc->event_reads <= MIRROR_READ_BUDGET);
        return (ssize_t)n;
    }
    if (fc->error)
        return MIRROR_IO_ERROR;
    return fc->eof ? 0 : MIRROR_IO_AGAIN;
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
    fc->timer_at = f->now + ms * MS;
}

static void t_close(void *ctx, struct mirror_conn *conn)
{
    struct fconn *fc = fc_of(ctx, conn);
    fc->closed = true;
    fc->conn = NULL;
    fc->timer_armed = false;
}

static uint64_t t_now_ns(void *ctx)
{
    return ((struct fake *)ctx)->now;
}

static void t_release(void *ctx)
{
    struct fake *f = ctx;
    CHECK(!f->released);
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
    .now_ns = t_now_ns,
    .release = t_release,
};

static void check_outcome(int status, enum mirror_drop why)
{
    if (why == MIRROR_DROP_NONE)
        CHECK(status >= 100 && status <= 999);
    else
        CHECK(status == 0 && why < MIRROR_DROP_ENTRIES);
}

static void on_done(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why)
{
    struct fake *f = ctx;
    (void)latency_ns;
    check_outcome(status, why);
    f->done++;
    CHECK(f->done <= f->submitted);
}

static void obs_end(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why, bool body_whole)
{
    struct fake *f = ctx;
    (void)latency_ns;
    check_outcome(status, why);
    CHECK(why == MIRROR_DROP_NONE || !body_whole);
    f->ends++;
}

/* The open connection chosen by <arg>, or NULL when there is none. */
static struct fconn *pick(struct fake *f, unsigned arg)
{
    for (size_t k = 0; k < f->n; k++) {
        struct fconn *fc = &f->conns[(arg + k) % (f->n ? f->n : 1)];
        if (!fc->closed)
            return fc;
    }
    return NULL;
}

static void readable(struct fconn *fc)
{
    fc->event_reads = 0;
    if (fc->watch & MIRROR_WATCH_READ)
        mirror_client_on_readable(fc->conn);
}

static void writable(struct fconn *fc)
{
    fc->event_writes = 0;
    if (fc->watch & MIRROR_WATCH_WRITE)
        mirror_client_on_writable(fc->conn);
}

/* Moves the clock <ms> forward, firing the due timers in deadline order. */
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
        if (next->timer_at > f->now)
            f->now = next->timer_at;
        next->timer_armed = false;
        mirror_client_on_timeout(next->conn);
    }
    f->now = until;
}

static const char get_req[] = "GET / HTTP/1.1\r\nHost: m\r\n\r\n";
static const char head_req[] = "HEAD / HTTP/1.1\r\nHost: m\r\n\r\n";
static const char post_req[] = "POST / HTTP/1.1\r\nHost: m\r\nContent-Length: 5\r\n\r\nhello";

static void submit(struct fake *f, unsigned arg)
{
    const char *req = arg & 2 ? post_req : arg & 1 ? head_req : get_req;
    size_t len = strlen(req);
    uint8_t *copy = malloc(len);
    CHECK(copy != NULL);
    memcpy(copy, req, len);
    unsigned flags = mirror_method_flags((const uint8_t *)req, (size_t)(strchr(req, ' ') - req));
    f->submitted++;
    if (arg & 4) {
        struct mirror_observer obs = {.ctx = f, .end = obs_end};
        mirror_client_submit_observed(f->c, copy, len, flags, &obs);
    } else {
        f->ends++; /* nobody observes it */
        mirror_client_submit(f->c, copy, len, flags);
    }
}

/* Runs the op at data[*pos]; returns false at the end of the input. */
static bool step(struct fake *f, const uint8_t *data, size_t size, size_t *pos)
{
    if (*pos >= size)
        return false;
    unsigned kind = data[*pos] & 15, arg = data[*pos] >> 4;
    (*pos)++;
    struct fconn *fc = pick(f, arg);
    switch (kind) {
    case 0:
        if (f->submitted < MAX_REQS)
            submit(f, arg);
        break;
    case 1:
        if (fc && fc->watch == MIRROR_WATCH_WRITE)
            mirror_client_on_connected(fc->conn, arg & 8 ? ECONNREFUSED : 0);
        break;
    case 2: {
        if (*pos >= size)
            return false;
        size_t n = data[(*pos)++];
        if (n > size - *pos)
            n = size - *pos;
        if (fc && !fc->eof && n <= IN_CAP - fc->in_len) {
            memcpy(fc->in + fc->in_len, data + *pos, n);
            fc->in_len += n;
            readable(fc);
        }
        *pos += n;
        break;
    }
    case 3:
        if (fc) {
            fc->eof = true;
            readable(fc);
        }
        break;
    case 4:
        if (fc) {
            fc->error = true;
            readable(fc);
        }
        break;
    case 5:
        if (fc)
            writable(fc);
        break;
    case 6:
        advance(f, (uint64_t)(arg + 1) * 5);
        break;
    case 7:
        mirror_client_sweep(f->c);
        break;
    case 8:
        if (fc)
            mirror_client_on_setup_failed(fc->conn, MIRROR_DROP_TLS_HANDSHAKE);
        break;
    case 9:
        f->connect_result = arg & 2   ? MIRROR_CONNECT_NO_SOCKET
                            : arg & 1 ? MIRROR_CONNECT_FAILED
                                      : MIRROR_CONNECT_STARTED;
        break;
    case 10:
        if (fc)
            readable(fc);
        break;
    default:
        break;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    struct fake *f = calloc(1, sizeof(*f));
    CHECK(f != NULL);
    f->now = 1000 * MS;
    f->connect_result = MIRROR_CONNECT_STARTED;
    f->log = (struct logger){.level = LOG_LVL_ERROR, .fd = 2};
    f->send_budget = (size_t)(data[3] >> 4) * 16;
    struct mirror_client_settings set = {
        .max_inflight = 1 + (data[0] & 3u),
        .max_queue = (data[0] >> 2) & 3u,
        .max_response_bytes = (data[1] & 63u) * 8,
        .circuit_failures = data[1] >> 6,
        .timeout_ms = 10 + data[2],
        .connect_timeout_ms = 5 + data[2] / 2,
        .max_connection_age_ms = (data[3] & 15u) * 20,
        .idle_timeout_ms = 50,
        .circuit_open_ms = 30,
        .name = "fuzz/0",
        .on_done = on_done,
        .on_done_ctx = f,
    };
    target_addr_init(&f->addr, "127.0.0.1", 8080);
    CHECK(target_addr_resolve(&f->addr) == 0);
    f->c = mirror_client_create(&set, &f->addr, &f->ctr, &f->log, &fake_ops, f);
    size_t pos = 4;
    while (step(f, data, size, &pos))
        ;
    mirror_client_free(f->c);
    CHECK(f->released);
    CHECK(f->done == f->submitted);
    CHECK(f->ends == f->submitted);
    CHECK(counter_get(&f->ctr.inflight) == 0);
    CHECK(counter_get(&f->ctr.queued) == 0);
    for (size_t i = 0; i < f->n; i++)
        CHECK(f->conns[i].closed);
    target_addr_destroy(&f->addr);
    free(f);
    return 0;
}
