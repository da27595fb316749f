/* Unit tests for the SPOP server and its workers (app/server.h,
 * app/worker.c) with a real worker thread on loopback: a peer that stops
 * reading must not keep its connection, whatever state the connection is in.
 * The peer fills the agent's output (many pipelined NOTIFYs, never reading
 * the ACKs), then either sends a bad frame, which leaves the connection
 * CLOSING with an AGENT-DISCONNECT that cannot be written, or just goes
 * silent; in both cases the idle timeout must close the connection and free
 * its slot. Also: a compared request whose primary never answers is counted
 * by the worker's periodic sweep. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app/server.h"
#include "compare/compare_verdict.h"
#include "config/config.h"
#include "config/config_load.h"
#include "core/buf.h"
#include "core/clock.h"
#include "mirror/mirror_runtime.h"
#include "mirror/stats_registry.h"
#include "spop/spop_proto.h"
#include "test_util.h"

#define IDLE_TIMEOUT_MS 400u
#define NOTIFY_HEX      "0000000f 03 00000001 01 01 066d6972726f72 00"
/* A NOTIFY whose LIST-OF-MESSAGES ends in the middle of a message. */
#define BAD_FRAME_HEX "0000000f 03 00000001 01 01 066d6972726f72 01"
/* NOTIFYs sent at a time: their ACKs (about 25 bytes each) stay well below
 * the 256 KiB of output beyond which the agent stops reading. */
#define BATCH 2000

struct fixture {
    struct logger log;
    struct stats_registry *reg;
    struct mirror_runtime *rt;
    struct server *srv;
    int peer;
};

/* A server with one worker and the configuration <yaml> (NULL: none), and
 * a connected peer. */
static struct fixture *fx_new_with(const char *yaml)
{
    struct fixture *f = calloc(1, sizeof(*f));
    ck_assert_ptr_nonnull(f);
    f->log = (struct logger){.level = LOG_LVL_ERROR, .fd = STDERR_FILENO};
    struct config cfg;
    config_defaults(&cfg);
    struct config_errors errs = {0};
    ck_assert(!yaml || config_load_string(&cfg, yaml, strlen(yaml), "s.yaml", &errs));
    config_errors_free(&errs);
    f->reg = stats_registry_new(1);
    f->rt = mirror_runtime_new(&cfg, f->reg, NULL, 1);
    config_free(&cfg);
    struct server_settings set = {
        .listen = "127.0.0.1:0",
        .threads = 1,
        .backlog = 8,
        .max_frame = 16380,
        .max_connections = 4,
        .idle_timeout_ms = IDLE_TIMEOUT_MS,
        .rt = f->rt,
    };
    char err[256] = "";
    f->srv = server_start(&set, &f->log, err, sizeof(err));
    ck_assert_msg(f->srv != NULL, "server_start: %s", err);

    /* A peer with a small receive buffer, so that the ACKs back up soon. */
    f->peer = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(f->peer, 0);
    int small = 4096;
    ck_assert_int_eq(setsockopt(f->peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)server_port(f->srv)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(f->peer, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(fcntl(f->peer, F_SETFL, O_NONBLOCK), 0);
    return f;
}

static struct fixture *fx_new(void)
{
    return fx_new_with(NULL);
}

static void fx_free(struct fixture *f)
{
    if (f->peer >= 0)
        close(f->peer);
    server_stop(f->srv);
    ck_assert_int_eq(atomic_load(&f->rt->refs), 0);
    mirror_runtime_free(f->rt);
    stats_registry_free(f->reg);
    free(f);
}

static struct agent_stats stats(const struct fixture *f)
{
    struct agent_stats st;
    memset(&st, 0, sizeof(st));
    server_stats_sum(f->srv, &st);
    return st;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void put_hex(struct buf *v, const char *hex)
{
    uint8_t *p = NULL;
    long n = hex_decode(hex, &p);
    ck_assert_int_gt(n, 0);
    ck_assert(buf_append(v, p, (size_t)n));
    free(p);
}

/* Sends <tx> without ever reading. Returns false when the agent stopped
 * taking bytes for <stall_ms> or has already reset the connection (what is
 * left stays in <tx>). */
static bool push(struct fixture *f, struct buf *tx, unsigned stall_ms)
{
    while (tx->len > 0) {
        ssize_t n = send(f->peer, buf_peek(tx), tx->len, MSG_NOSIGNAL);
        if (n > 0) {
            buf_consume(tx, (size_t)n);
            continue;
        }
        if (n == -1 && (errno == ECONNRESET || errno == EPIPE))
            return false;
        ck_assert_msg(n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK), "send: %s", strerror(errno));
        struct pollfd p = {.fd = f->peer, .events = POLLOUT};
        if (poll(&p, 1, (int)stall_ms) == 0)
            return false;
    }
    return true;
}

/* Sends the HELLO. */
static void send_hello(struct fixture *f)
{
    struct buf tx;
    buf_init(&tx, 4096);
    uint8_t *hello = NULL;
    long n = read_hex_file(FIXTURES_DIR "/haproxy-3.4/002-haproxy-hello.hex", &hello);
    ck_assert_int_gt(n, 0);
    ck_assert(buf_append(&tx, hello, (size_t)n));
    free(hello);
    ck_assert(push(f, &tx, 2000));
    buf_free(&tx);
    for (int i = 0; i < 500 && stats(f).hello == 0; i++)
        sleep_ms(10);
    ck_assert_uint_eq(stats(f).hello, 1);
}

/* Waits up to <max_ms> for the agent to have answered <want> NOTIFYs. */
static bool acked(struct fixture *f, uint64_t want, unsigned max_ms)
{
    for (unsigned waited = 0; stats(f).ack < want; waited += 5) {
        if (waited >= max_ms)
            return false;
        sleep_ms(5);
    }
    return true;
}

/* The HELLO, then batches of NOTIFYs, each answered before the next, until
 * a whole batch of ACKs stays in the agent (bytes sent no longer grow: its
 * socket buffer and ours are full). Its output then holds at most two
 * batches of ACKs, well below the point where it stops reading. */
static void fill_agent_output(struct fixture *f)
{
    send_hello(f);
    struct buf tx;
    buf_init(&tx, 1u << 20);
    uint64_t sent = 0;
    for (int batch = 0;; batch++) {
        ck_assert_msg(batch < 5000, "the agent's output never backed up");
        uint64_t before = stats(f).bytes_out;
        for (int k = 0; k < BATCH; k++)
            put_hex(&tx, NOTIFY_HEX);
        sent += BATCH;
        ck_assert_msg(push(f, &tx, 2000), "the agent stopped reading");
        ck_assert_msg(acked(f, sent, 5000), "the agent stopped reading (%llu of %llu answered)",
                      (unsigned long long)stats(f).ack, (unsigned long long)sent);
        sleep_ms(20);
        if (stats(f).bytes_out == before)
            break;
    }
    buf_free(&tx);
    ck_assert_uint_eq(stats(f).conn_current, 1);
    ck_assert_uint_eq(stats(f).conn_idle_timeout, 0);
}

/* Waits until the connection gauge is 0; returns the milliseconds waited. */
static uint64_t wait_closed(struct fixture *f, unsigned max_ms)
{
    uint64_t t0 = mono_ns();
    while (stats(f).conn_current != 0 && (mono_ns() - t0) / 1000000u < max_ms)
        sleep_ms(10);
    ck_assert_msg(stats(f).conn_current == 0, "the connection is still open after %u ms", max_ms);
    return (mono_ns() - t0) / 1000000u;
}

/* The agent reset the connection: the peer sees it hung up. */
static void assert_peer_hung_up(struct fixture *f)
{
    struct pollfd p = {.fd = f->peer, .events = POLLIN};
    ck_assert_int_eq(poll(&p, 1, 2000), 1);
    ck_assert_msg(p.revents & (POLLHUP | POLLERR), "revents %#x", (unsigned)p.revents);
}

/* A bad frame while our ACKs back up: the agent queues its AGENT-DISCONNECT
 * (status 4) and goes CLOSING, but cannot write it; the idle timeout closes
 * the connection anyway. */
START_TEST(test_closing_peer_not_reading)
{
    struct fixture *f = fx_new();
    fill_agent_output(f);
    struct buf tx;
    buf_init(&tx, 64);
    put_hex(&tx, BAD_FRAME_HEX);
    ck_assert(push(f, &tx, 2000));
    buf_free(&tx);
    uint64_t t0 = mono_ns();
    for (int i = 0; i < 200 && stats(f).error_sent[agent_stats_status_slot(SPOP_ERR_INVALID)] == 0; i++)
        sleep_ms(10);
    ck_assert_uint_eq(stats(f).error_sent[agent_stats_status_slot(SPOP_ERR_INVALID)], 1);
    /* CLOSING, and stuck there for now: the goodbye cannot be flushed. */
    sleep_ms(IDLE_TIMEOUT_MS / 2);
    ck_assert_uint_eq(stats(f).conn_current, 1);

    wait_closed(f, IDLE_TIMEOUT_MS * 4);
    uint64_t since_bad = (mono_ns() - t0) / 1000000u;
    ck_assert_msg(since_bad >= IDLE_TIMEOUT_MS - 20, "closed after %llu ms, before the idle timeout",
                  (unsigned long long)since_bad);
    struct agent_stats st = stats(f);
    ck_assert_uint_eq(st.conn_idle_timeout, 1);
    ck_assert_uint_eq(st.conn_closed, 1);
    ck_assert_uint_eq(st.error_sent[agent_stats_status_slot(SPOP_ERR_TOUT)], 0); /* no second goodbye */
    assert_peer_hung_up(f);
    fx_free(f);
}
END_TEST

/* The peer sends NOTIFYs until the agent stops reading, then goes silent:
 * the idle timeout queues an AGENT-DISCONNECT (status 2) that cannot be
 * written either; the connection is closed all the same. */
START_TEST(test_open_peer_not_reading)
{
    struct fixture *f = fx_new();
    send_hello(f);
    struct buf tx;
    buf_init(&tx, 16u * 1024u * 1024u);
    bool stalled = false;
    for (int batch = 0; batch < 5000 && !stalled; batch++) {
        for (int k = 0; k < BATCH; k++)
            put_hex(&tx, NOTIFY_HEX);
        if (push(f, &tx, 300))
            continue;
        /* The socket took nothing for 300 ms: is the agent done reading? */
        uint64_t acks = stats(f).ack;
        sleep_ms(200);
        stalled = stats(f).ack == acks;
    }
    buf_free(&tx);
    ck_assert_msg(stalled, "the agent never stopped reading");
    wait_closed(f, IDLE_TIMEOUT_MS * 4);
    struct agent_stats st = stats(f);
    ck_assert_uint_eq(st.conn_idle_timeout, 1);
    ck_assert_uint_eq(st.error_sent[agent_stats_status_slot(SPOP_ERR_TOUT)], 1);
    assert_peer_hung_up(f);
    fx_free(f);
}
END_TEST

/* A compared request whose primary never answers is counted unmatched by
 * the worker's periodic sweep once match_timeout_ms passed, with no NOTIFY
 * after it (the sweep is not on the NOTIFY path). */
START_TEST(test_compare_expiry_swept_by_timer)
{
    static const char yaml[] = "routes:\n"
                               "  - name: r\n"
                               "    mirrors:\n"
                               "      - url: http://127.0.0.1:9\n"
                               "        compare: {match_timeout_ms: 100}\n";
    struct fixture *f = fx_new_with(yaml);
    send_hello(f);
    struct buf tx;
    buf_init(&tx, 4096);
    uint8_t *notify = NULL;
    long n =
        read_hex_file(FIXTURES_DIR "/haproxy-3.4/003-notify.hex", &notify); /* a mirror message with an id */
    ck_assert_int_gt(n, 0);
    ck_assert(buf_append(&tx, notify, (size_t)n));
    free(notify);
    ck_assert(push(f, &tx, 2000));
    buf_free(&tx);
    ck_assert(acked(f, 1, 2000));
    const struct mirror_counters *c = &f->rt->routes[0][0].ctr[0];
    ck_assert_uint_eq(counter_get(&c->compared[COMPARE_UNMATCHED]), 0);
    uint64_t t0 = mono_ns();
    while (counter_get(&c->compared[COMPARE_UNMATCHED]) == 0 && (mono_ns() - t0) / 1000000u < 3000)
        sleep_ms(10);
    ck_assert_uint_eq(counter_get(&c->compared[COMPARE_UNMATCHED]), 1);
    ck_assert_uint_eq(counter_get(&c->unmatched[COMPARE_UNMATCHED_PRIMARY_MISSING]), 1);
    ck_assert_uint_eq(stats(f).ack, 1); /* nothing else was sent */
    fx_free(f);
}
END_TEST

Suite *server_suite(void);

/* server_suite: the Check suite for the server's idle timeout. */
Suite *server_suite(void)
{
    Suite *s = suite_create("server");
    TCase *tc = tcase_create("idle_timeout");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_closing_peer_not_reading);
    tcase_add_test(tc, test_open_peer_not_reading);
    suite_add_tcase(s, tc);
    tc = tcase_create("compare_sweep");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_compare_expiry_swept_by_timer);
    suite_add_tcase(s, tc);
    return s;
}
