/* Integration test of the mirror client's lazy reads (MIRROR_WATCH_LAZY in
 * spoa/mirror/mirror_client_ev.c: answers awaited on HTTP/2 connections are
 * read at most once per read_delay_ms, when the thread is awake anyway, or
 * after read_delay_ms of idleness)
 * over HTTP/2 with prior knowledge (h2c) against a real server on loopback
 * (nghttpd --no-tls, started by test_mirror_lazy_read.sh), reached directly
 * or through a relay thread that holds its answers back 10 ms, plus a raw
 * listener of its own that never answers. Each copy's latency is the one
 * the client's on_done hook reports.
 *
 * Usage: mirror_lazy_read_test PORT /PATH [SCENARIO...]   (all by default)
 *        mirror_lazy_read_test --list
 * PORT is nghttpd's, /PATH a file it serves (2xx). Prints one "ok - ..." /
 * "not ok - ..." line per scenario with "#" diagnostics; exits 1 when any
 * scenario failed. LAZY_DEBUG=1 logs the client's debug events. The loop
 * runs one iteration at a time, up to a deadline; no watcher but the
 * client's own is on it unless a scenario adds one, so that nothing else
 * wakes the thread. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "core/container_of.h"
#include "core/counter.h"
#include "core/xalloc.h"
#include "mirror/mirror_client_ev.h"
#include "mirror/mirror_stats.h"
#include "mirror/target_addr.h"
#include "itest.h"

#define MAX_COPIES  256
#define DEADLINE_MS 5000

static uint16_t h2c_port;
static const char *h2c_path;
static int failures; /* failed expectations in the current scenario */

/* Fails the scenario with "line N: <what>" unless <cond>. */
static void check_at(int line, bool cond, const char *what)
{
    if (!cond) {
        failures++;
        note("  line %d: expected %s", line, what);
    }
}

#define CHECK(cond)            check_at(__LINE__, (cond), #cond)
#define CTR(lh, field)         counter_get(&(lh)->ctr.field)
#define MS(ns)                 ((double)(ns) / 1e6)
#define PAST_MS(t0)            (now_ms() - (t0))
#define CHECK_RANGE(v, lo, hi) check_at(__LINE__, (v) >= (lo) && (v) < (hi), #lo " <= " #v " < " #hi)

/* ------------------------------------------------------------ a slow path to nghttpd */

/* A relay on its own thread, off the loop under test: it accepts one
 * connection and forwards it to nghttpd, holding every answer back
 * RELAY_DELAY_MS, as a service that takes a little time to answer. Parking
 * a connection costs one wake-up at most (libev leaves a stopped socket in
 * epoll until it reports something), which the answer must not race: with
 * the delay, that wake-up has passed before the answer is there. */
#define RELAY_DELAY_MS 10

struct relay {
    int lfd;
    uint16_t port;
    pthread_t thread;
    atomic_bool stop;
};

/* Copies what <from> has to <to>; false at EOF or on an error. */
static bool relay_copy(int from, int to)
{
    char buf[16384];
    ssize_t n = recv(from, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == -1 && (errno == EAGAIN || errno == EINTR))
        return true;
    if (n <= 0)
        return false;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = send(to, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        off += w;
    }
    return true;
}

static void *relay_main(void *arg)
{
    struct relay *r = arg;
    int cfd = -1, sfd = -1;
    while (!atomic_load(&r->stop)) {
        struct pollfd p[2] = {{.fd = cfd == -1 ? r->lfd : cfd, .events = POLLIN},
                              {.fd = sfd, .events = POLLIN}};
        if (poll(p, 2, 20) <= 0)
            continue;
        if (cfd == -1) {
            cfd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);
            sfd = cfd == -1 ? -1 : connect_loopback(h2c_port, 3);
            /* No Nagle on either side: a later request or answer must not
             * wait for the ACK of the one before. */
            int one = 1;
            if (cfd != -1)
                setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            if (sfd != -1)
                setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            continue;
        }
        if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !relay_copy(cfd, sfd))
            break;
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            struct timespec hold = {.tv_nsec = RELAY_DELAY_MS * 1000000L};
            nanosleep(&hold, NULL);
            if (!relay_copy(sfd, cfd))
                break;
        }
    }
    if (cfd != -1)
        close(cfd);
    if (sfd != -1)
        close(sfd);
    return NULL;
}

static bool relay_start(struct relay *r)
{
    memset(r, 0, sizeof(*r));
    atomic_init(&r->stop, false);
    r->lfd = listen_loopback(&r->port);
    if (r->lfd == -1)
        return false;
    if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
        close(r->lfd);
        return false;
    }
    return true;
}

static void relay_stop(struct relay *r)
{
    atomic_store(&r->stop, true);
    pthread_join(r->thread, NULL);
    close(r->lfd);
}

/* ------------------------------------------------------------ harness */

/* What the client told of one copy (its observer's context). */
struct copy {
    int ends;   /* observer end calls: exactly 1 */
    int status; /* 0: dropped */
    enum mirror_drop why;
};

struct lazy_harness {
    struct ev_loop *loop;
    ev_timer wake; /* optional: other work waking the thread (SPOP traffic in the agent) */
    struct target_addr addr;
    struct mirror_counters ctr;
    struct mirror_client *cli;
    struct logger log;
    /* From on_done, in call order. */
    unsigned done;
    int status[MAX_COPIES];
    uint64_t latency_ns[MAX_COPIES];
    enum mirror_drop why[MAX_COPIES];
    struct copy copies[MAX_COPIES];
    unsigned submitted;
    unsigned break_at; /* on_done breaks the loop when <done> reaches it */
    int wakes;
};

static void on_done(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why)
{
    struct lazy_harness *lh = ctx;
    if (lh->done < MAX_COPIES) {
        lh->status[lh->done] = status;
        lh->latency_ns[lh->done] = latency_ns;
        lh->why[lh->done] = why;
    }
    lh->done++;
    /* Back to the test once the copies it waits for ended: one read by the
     * lazy pass (a prepare watcher) would otherwise return from ev_run only
     * after the wait that follows. */
    if (lh->done == lh->break_at)
        ev_break(lh->loop, EVBREAK_ONE);
}

static void copy_end(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why, bool body_whole)
{
    (void)latency_ns;
    (void)body_whole;
    struct copy *cp = ctx;
    cp->ends++;
    cp->status = status;
    cp->why = why;
}

static void wake_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct lazy_harness *lh = CONTAINER_OF(w, struct lazy_harness, wake);
    lh->wakes++;
}

/* h2c settings: <read_delay_ms>, <timeout_ms>; on_done records into <lh>. */
static struct mirror_client_settings h2c_settings(struct lazy_harness *lh, uint32_t read_delay_ms,
                                                  uint32_t timeout_ms)
{
    return (struct mirror_client_settings){
        .protocol = MIRROR_PROTO_H2,
        .https = false,
        .connect_timeout_ms = 1000,
        .timeout_ms = timeout_ms,
        .max_response_bytes = 1u << 20,
        .max_inflight = 64,
        .max_queue = MAX_COPIES,
        .idle_timeout_ms = 10000,
        .read_delay_ms = read_delay_ms,
        .circuit_failures = 5,
        .circuit_open_ms = 400,
        .name = "lazy/0",
        .on_done = on_done,
        .on_done_ctx = lh,
    };
}

static void lh_destroy(struct lazy_harness *lh)
{
    mirror_client_free(lh->cli);
    lh->cli = NULL;
    if (lh->loop) {
        ev_timer_stop(lh->loop, &lh->wake);
        ev_loop_destroy(lh->loop);
        lh->loop = NULL;
    }
    target_addr_destroy(&lh->addr);
}

/* A loop and a client for 127.0.0.1:<port> (<wake_ms> > 0: plus a timer
 * repeating every <wake_ms>). When it cannot: fails the scenario, frees
 * what it made and returns false. */
static bool lh_init(struct lazy_harness *lh, uint16_t port, uint32_t read_delay_ms, uint32_t timeout_ms,
                    double wake_ms)
{
    memset(lh, 0, sizeof(*lh));
    lh->log.level = getenv("LAZY_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN;
    lh->log.fd = 2;
    target_addr_init(&lh->addr, "127.0.0.1", port);
    int rc = target_addr_resolve(&lh->addr);
    lh->loop = rc == 0 ? ev_loop_new(EVFLAG_AUTO) : NULL;
    if (lh->loop) {
        if (wake_ms > 0) {
            ev_timer_init(&lh->wake, wake_cb, wake_ms / 1000.0, wake_ms / 1000.0);
            ev_timer_start(lh->loop, &lh->wake);
        }
        struct mirror_client_settings set = h2c_settings(lh, read_delay_ms, timeout_ms);
        ev_now_update(lh->loop);
        lh->cli = mirror_client_new(lh->loop, &set, &lh->addr, &lh->ctr, &lh->log, NULL);
    }
    if (lh->cli)
        return true;
    failures++;
    note("  no client (target_addr_resolve: %d)", rc);
    lh_destroy(lh);
    return false;
}

/* A response sink that keeps nothing: a copy with one is compared, as the
 * agent's comparison observes its answers. */
static void sink_begin(void *ctx)
{
    (void)ctx;
}

static void sink_bytes(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
}

static const struct http_exchange_sink compared_sink = {
    .begin = sink_begin,
    .field = sink_bytes,
    .value = sink_bytes,
    .headers_done = sink_begin,
    .body = sink_bytes,
};

/* Submits "GET <path>" (HTTP/1.1 bytes: the client sends them as an HTTP/2
 * request) with an observer counting its ends; a compared one when
 * <compared>. */
static enum mirror_drop lh_get_as(struct lazy_harness *lh, const char *path, bool compared)
{
    if (lh->submitted >= MAX_COPIES)
        return MIRROR_DROP_QUEUE_FULL;
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "GET %s HTTP/1.1\r\nHost: shadow.example\r\nUser-Agent: lazy-read-test\r\n\r\n", path);
    uint8_t *req = xmalloc((size_t)n);
    memcpy(req, head, (size_t)n);
    struct mirror_observer obs = {
        .sink = compared ? &compared_sink : NULL, .ctx = &lh->copies[lh->submitted++], .end = copy_end};
    ev_now_update(lh->loop); /* as in a callback of the worker: the loop clock is current */
    return mirror_client_submit_observed(lh->cli, req, (size_t)n,
                                         mirror_method_flags((const uint8_t *)"GET", 3), &obs);
}

/* lh_get_as, not compared. */
static enum mirror_drop lh_get(struct lazy_harness *lh, const char *path)
{
    return lh_get_as(lh, path, false);
}

/* A hook run between loop iterations (scenarios 4b and 5); NULL: none. */
static void (*between)(void);

/* Runs loop iterations until <n> copies ended, and the client is idle too
 * when <idle>, or <ms> passed; false on the deadline. */
static bool lh_run(struct lazy_harness *lh, unsigned n, bool idle, int ms)
{
    uint64_t deadline = now_ms() + (uint64_t)ms;
    lh->break_at = n;
    while (lh->done < n || (idle && mirror_client_busy(lh->cli))) {
        if (now_ms() >= deadline) {
            note("  deadline: %u of %u copies ended after %d ms", lh->done, n, ms);
            return false;
        }
        ev_run(lh->loop, EVRUN_ONCE);
        if (between)
            between();
    }
    return true;
}

/* lh_run until <n> copies ended and the client is idle. */
static bool lh_wait(struct lazy_harness *lh, unsigned n, int ms)
{
    return lh_run(lh, n, true, ms);
}

/* Expects every drop counter at 0 but <why> (at <n>). */
static void check_drops(int line, const struct lazy_harness *lh, enum mirror_drop why, uint64_t n)
{
    for (int i = 0; i < MIRROR_DROP_ENTRIES; i++) {
        uint64_t got = CTR(lh, dropped[i]), want = i == (int)why ? n : 0;
        if (got != want) {
            failures++;
            note("  line %d: dropped[%s] = %" PRIu64 ", want %" PRIu64, line,
                 mirror_drop_str((enum mirror_drop)i), got, want);
        }
    }
}

/* A hook run just before one_copy() submits its measured copy; NULL: none. */
static void (*before_measured)(void);

/* One GET (compared when <compared>) on a fresh client, after a first one
 * that brings the server's SETTINGS (until they are in, a connection is
 * read at once); returns the second one's latency (ms) as on_done told it,
 * or -1 when it was not delivered with a 2xx. */
static double one_copy(uint32_t read_delay_ms, uint32_t timeout_ms, bool compared)
{
    struct lazy_harness lh;
    struct relay relay;
    double ms = -1;
    if (!relay_start(&relay)) {
        failures++;
        note("  no relay: %s", strerror(errno));
        return -1;
    }
    if (!lh_init(&lh, relay.port, read_delay_ms, timeout_ms, 0)) {
        relay_stop(&relay);
        return -1;
    }
    CHECK(lh_get_as(&lh, h2c_path, compared) == MIRROR_DROP_NONE);
    CHECK(lh_wait(&lh, 1, DEADLINE_MS));
    CHECK(lh.done == 1 && lh.status[0] == 200);
    if (before_measured)
        before_measured();
    uint64_t t0 = now_ms();
    CHECK(lh_get_as(&lh, h2c_path, compared) == MIRROR_DROP_NONE);
    CHECK(lh_wait(&lh, 2, DEADLINE_MS));
    note("  read_delay_ms=%u timeout_ms=%u%s: status %d after %.1f ms (on_done), %" PRIu64 " ms (wall), %s",
         read_delay_ms, timeout_ms, compared ? ", compared" : "", lh.status[1], MS(lh.latency_ns[1]),
         PAST_MS(t0), mirror_drop_str(lh.why[1]));
    CHECK(lh.done == 2);
    CHECK(lh.copies[1].ends == 1);
    CHECK(CTR(&lh, responses[2]) == 2);
    check_drops(__LINE__, &lh, MIRROR_DROP_NONE, 0);
    if (lh.done == 2 && lh.status[1] >= 200 && lh.status[1] < 300 && lh.why[1] == MIRROR_DROP_NONE)
        ms = MS(lh.latency_ns[1]);
    lh_destroy(&lh);
    relay_stop(&relay);
    return ms;
}

/* ------------------------------------------------------------ scenarios */

/* 1. Nothing else wakes the thread: the answer (in after the relay's 10 ms)
 * waits for lazy_idle (read_delay 100 ms); without lazy reads it is read as
 * soon as it is there. */
static void sc_idle_fallback(void)
{
    double lazy = one_copy(100, 2000, false);
    CHECK_RANGE(lazy, 70.0, 1000.0);
    double eager = one_copy(0, 2000, false);
    CHECK_RANGE(eager, 0.0, 50.0);
}

/* 1b. A compared copy's latency is reported: its connection is not parked,
 * and its answer is read as soon as it is there even with read_delay 100 ms
 * and nothing else waking the thread. */
static void sc_compared_at_once(void)
{
    double ms = one_copy(100, 2000, true);
    CHECK_RANGE(ms, 0.0, 50.0);
}

/* 2. A 5 ms timer stands for SPOP wake-ups: parked answers are read on
 * them once read_delay (20 ms) has passed since the connection's last
 * read, without a wake-up of their own: the loop runs no more iterations
 * than the timer's, but for the first copy's (connect, SETTINGS). */
static void sc_piggyback(void)
{
    struct lazy_harness lh;
    if (!lh_init(&lh, h2c_port, 20, 2000, 5))
        return;
    enum { N = 20 };
    unsigned iter0 = ev_iteration(lh.loop);
    for (unsigned i = 0; i < N; i++) {
        CHECK(lh_get(&lh, h2c_path) == MIRROR_DROP_NONE);
        if (!lh_wait(&lh, i + 1, DEADLINE_MS)) {
            failures++;
            break;
        }
    }
    double max = 0, sum = 0;
    for (unsigned i = 0; i < lh.done && i < N; i++) {
        double ms = MS(lh.latency_ns[i]);
        sum += ms;
        max = ms > max ? ms : max;
        /* read_delay and a wake-up, with room for a busy machine. */
        if (lh.status[i] < 200 || lh.status[i] >= 300 || ms >= 80.0) {
            failures++;
            note("  copy %u: status %d, latency %.1f ms (want 2xx, < 80 ms)", i, lh.status[i], ms);
        }
    }
    unsigned iterations = ev_iteration(lh.loop) - iter0;
    note("  %u copies: latency mean %.1f ms, max %.1f ms; %u loop iterations, %d wake-ups of the 5 ms timer",
         lh.done, lh.done ? sum / lh.done : 0.0, max, iterations, lh.wakes);
    CHECK(lh.done == N);
    CHECK(lh.done == 0 || sum / lh.done < 40.0);
    /* Not read at once: each answer waited for read_delay. */
    CHECK(lh.done == 0 || sum / lh.done >= 10.0);
    /* The answers woke nothing: the timer's wake-ups read them. */
    CHECK(iterations <= (unsigned)lh.wakes + 6);
    CHECK(CTR(&lh, responses[2]) == N);
    check_drops(__LINE__, &lh, MIRROR_DROP_NONE, 0);
    lh_destroy(&lh);
}

/* 3. 200 copies in 10 bursts of 20 (read_delay 1 ms): every copy ends
 * once, delivered, and the counters say so exactly. */
static void sc_many(void)
{
    struct lazy_harness lh;
    if (!lh_init(&lh, h2c_port, 1, 2000, 0))
        return;
    enum { BURSTS = 10, PER_BURST = 20, N = BURSTS * PER_BURST };
    uint64_t t0 = now_ms();
    for (unsigned b = 0; b < BURSTS; b++) {
        for (unsigned i = 0; i < PER_BURST; i++)
            CHECK(lh_get(&lh, h2c_path) == MIRROR_DROP_NONE);
        /* The next burst once half of this one ended: the other answers
         * are still awaited, their connection parked. */
        CHECK(lh_run(&lh, b * PER_BURST + PER_BURST / 2, false, DEADLINE_MS));
    }
    CHECK(lh_wait(&lh, N, DEADLINE_MS));
    uint64_t took = PAST_MS(t0);
    unsigned once = 0, ok2xx = 0;
    for (unsigned i = 0; i < N; i++) {
        once += lh.copies[i].ends == 1;
        ok2xx += lh.copies[i].ends == 1 && lh.copies[i].status >= 200 && lh.copies[i].status < 300;
    }
    double max = 0;
    for (unsigned i = 0; i < lh.done && i < N; i++)
        max = MS(lh.latency_ns[i]) > max ? MS(lh.latency_ns[i]) : max;
    note("  %u copies ended in %" PRIu64 " ms: %u once, %u 2xx; responses[2xx] %" PRIu64 ", sent %" PRIu64
         ", connects %" PRIu64 "; max latency %.1f ms",
         lh.done, took, once, ok2xx, CTR(&lh, responses[2]), CTR(&lh, sent), CTR(&lh, connects), max);
    CHECK(lh.done == N);
    /* Requests started from the lazy pass (an answer freed room for them)
     * go out before the next wait: none waits for the periodic sweep
     * (250 ms) to be sent, which would show in its latency. */
    CHECK(took < 2000);
    CHECK(max < 200.0);
    CHECK(once == N);
    CHECK(ok2xx == N);
    CHECK(CTR(&lh, responses[2]) == N);
    for (int c = 0; c < 6; c++)
        CHECK(c == 2 || CTR(&lh, responses[c]) == 0);
    check_drops(__LINE__, &lh, MIRROR_DROP_NONE, 0);
    CHECK(CTR(&lh, inflight) == 0);
    lh_destroy(&lh);
}

/* 3b. A connection with half its stream limit open (max_inflight 64 here,
 * under nghttpd's 100) is read at once, its answers freeing streams: of 48
 * copies sent together (read_delay 100 ms), those answered while 32 or more
 * were open arrive well before read_delay; all are delivered. */
static void sc_half_limit(void)
{
    struct lazy_harness lh;
    if (!lh_init(&lh, h2c_port, 100, 2000, 0))
        return;
    CHECK(lh_get(&lh, h2c_path) == MIRROR_DROP_NONE); /* connect, SETTINGS */
    CHECK(lh_wait(&lh, 1, DEADLINE_MS));
    enum { N = 48 };
    for (unsigned i = 0; i < N; i++)
        CHECK(lh_get(&lh, h2c_path) == MIRROR_DROP_NONE);
    CHECK(lh_wait(&lh, N + 1, DEADLINE_MS));
    unsigned fast = 0, ok2xx = 0;
    double max = 0;
    for (unsigned i = 1; i < lh.done && i <= N; i++) {
        double ms = MS(lh.latency_ns[i]);
        fast += ms < 50.0;
        ok2xx += lh.status[i] >= 200 && lh.status[i] < 300;
        max = ms > max ? ms : max;
    }
    note("  %u copies: %u answered in under 50 ms, max latency %.1f ms", lh.done - 1, fast, max);
    CHECK(lh.done == N + 1);
    CHECK(ok2xx == N);
    CHECK(fast >= N - 32);
    check_drops(__LINE__, &lh, MIRROR_DROP_NONE, 0);
    lh_destroy(&lh);
}

/* 4. timeout_ms 100 and read_delay 100, nothing else on the loop: the
 * answer is in after the relay's 10 ms but unread until the response timer
 * and lazy_idle fire, about together; it is delivered, not dropped as a
 * timeout. */
static void sc_timeout_grace(void)
{
    double ms = one_copy(100, 100, false);
    CHECK_RANGE(ms, 70.0, 1000.0);
}

/* The stall of scenario 4b: once the loop woke for lazy_idle (about 5 ms
 * after stall_t0, the measured copy's submission), the thread is busy
 * elsewhere until stall_t0 + 60 ms. */
static uint64_t stall_t0;
static bool stalled;

static void stall_start(void)
{
    stall_t0 = now_ms();
    stalled = false;
}

static void stall_once(void)
{
    if (stalled || stall_t0 == 0 || now_ms() - stall_t0 < 4)
        return;
    stalled = true;
    uint64_t left = stall_t0 + 60 - now_ms();
    if (left < 60) {
        struct timespec ts = {.tv_nsec = (long)left * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* 4b. timeout_ms 30 and read_delay 5: lazy_idle reads the connection before
 * the relay's answer (10 ms) and finds nothing, so it goes back to epoll;
 * then the thread stalls past the response timer with the answer in,
 * unread; when it comes back, the answer is there as the timer fires: the
 * copy is delivered, not dropped as a timeout. */
static void sc_timeout_grace_watched(void)
{
    stall_t0 = 0;
    stalled = false;
    before_measured = stall_start;
    between = stall_once;
    double ms = one_copy(5, 30, false);
    between = NULL;
    before_measured = NULL;
    CHECK(stalled);
    CHECK_RANGE(ms, 30.0, 1000.0);
}

/* The raw listener of scenario 5: accepts and reads, never answers. */
static int raw_lfd = -1;
static int raw_conns[8];
static int raw_nconns;
static size_t raw_read;

static void raw_service(void)
{
    int fd;
    while (raw_nconns < 8 && (fd = accept4(raw_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1)
        raw_conns[raw_nconns++] = fd;
    char buf[4096];
    for (int i = 0; i < raw_nconns; i++) {
        ssize_t n;
        while ((n = recv(raw_conns[i], buf, sizeof(buf), 0)) > 0)
            raw_read += (size_t)n;
    }
}

/* 5. A server that never answers (h2c, timeout_ms 200, read_delay 100):
 * the copy is dropped as timeout, neither delivered nor left hanging. */
static void sc_real_timeout(void)
{
    uint16_t port = 0;
    raw_lfd = listen_loopback(&port);
    if (raw_lfd == -1) {
        failures++;
        note("  no loopback listener: %s", strerror(errno));
        return;
    }
    struct lazy_harness lh;
    if (lh_init(&lh, port, 100, 200, 0)) {
        between = raw_service;
        uint64_t t0 = now_ms();
        CHECK(lh_get(&lh, h2c_path) == MIRROR_DROP_NONE);
        CHECK(lh_wait(&lh, 1, 2000));
        uint64_t took = PAST_MS(t0);
        between = NULL;
        note("  ended after %" PRIu64
             " ms (wall), %.1f ms (on_done): status %d, %s; the listener read %zu bytes",
             took, MS(lh.latency_ns[0]), lh.status[0], mirror_drop_str(lh.why[0]), raw_read);
        CHECK(lh.done == 1);
        CHECK(lh.status[0] == 0 && lh.why[0] == MIRROR_DROP_TIMEOUT);
        CHECK(lh.copies[0].ends == 1);
        CHECK_RANGE(took, 190u, 600u);
        CHECK(raw_read > 0); /* the request did go out */
        CHECK(CTR(&lh, responses[2]) == 0);
        check_drops(__LINE__, &lh, MIRROR_DROP_TIMEOUT, 1);
        lh_destroy(&lh);
    }
    for (int i = 0; i < raw_nconns; i++)
        close(raw_conns[i]);
    raw_nconns = 0;
    close(raw_lfd);
    raw_lfd = -1;
}

static const struct scenario scenarios[] = {
    {"idle_fallback", "an idle thread reads the answer after read_delay, at once without lazy reads",
     sc_idle_fallback},
    {"compared_at_once", "a compared copy's answer is read at once, for its latency", sc_compared_at_once},
    {"piggyback", "answers read on other wake-ups once read_delay passed, waking nothing", sc_piggyback},
    {"many", "200 copies in bursts: each delivered once, counters exact", sc_many},
    {"half_limit", "a connection with half its stream limit open is read at once", sc_half_limit},
    {"timeout_grace", "an answer unread when its timer fires is delivered, not timed out", sc_timeout_grace},
    {"timeout_grace_watched", "an answer unread after a stall past its timer is delivered, not timed out",
     sc_timeout_grace_watched},
    {"real_timeout", "a server that never answers: dropped as timeout", sc_real_timeout},
};

int main(int argc, char **argv)
{
    if (scenarios_listed(scenarios, SCENARIOS_COUNT(scenarios), argc, argv))
        return 0;
    h2c_port = scenarios_port(argc, argv);
    h2c_path = argc >= 3 ? argv[2] : "";
    if (h2c_port == 0 || h2c_path[0] != '/') {
        fprintf(stderr, "usage: %s PORT /PATH [SCENARIO...] | --list\n", argv[0]);
        return 2;
    }
    return scenarios_run(scenarios, SCENARIOS_COUNT(scenarios), argv + 3, argc - 3, &failures);
}
