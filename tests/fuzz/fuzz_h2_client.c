/* libFuzzer target: the mirror client's HTTP/2 connections (mirror_h2.c)
 * fed the bytes an HTTP/2 server might send, through an in-memory transport
 * (what the client writes is discarded).
 *
 * Input layout: <cfg> <ncuts> <ncuts x 2-byte cut> <stream>.
 * - cfg bits 0-1: copies submitted before the stream (1 to 4), the odd ones
 *   GET, the even ones POST with a body; bit 2: the connection reaches EOF
 *   after the stream; bit 3: the timers fire after it (timeout_ms passes);
 *   bits 4-7 (n): max_response_bytes is n * 8.
 * - ncuts (mod 16) big-endian offsets (mod the stream length + 1): where the
 *   stream is split into reads. Bit 4 of the ncuts byte: the transport
 *   defers work to sweeps (defer, defer_until) and the client waits 2 ms
 *   for more streams before a write (write_delay_ms); 1 ms passes after
 *   each read, and the sweeps asked for by then run.
 * - stream: the server's bytes from its connection preface (SETTINGS) on. A
 *   seed is 00 00 followed by such a stream (make_h2_corpus.py).
 *
 * Each read is copied to a heap block of its own size, so ASan sees any
 * read past it. Asserted with abort():
 * - each copy ends exactly once (on_done), by the time the client is freed;
 *   answered ones with a status of 100 to 999 (counted in responses), the
 *   others with a drop reason, and ctr->dropped agrees;
 * - grpc-status codes counted at most once per answered copy, bodies cut
 *   at most once per answered copy;
 * - the inflight and queued gauges are back to zero; the client never
 *   opens more connections than the copies it was given (a copy refused by
 *   the server goes again once at most). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/counter.h"
#include "mirror/mirror_client.h"
#include "mirror/mirror_stats.h"
#include "mirror/target_addr.h"
#include "fuzz_check.h"

#define MAX_CUTS  16
#define MAX_CONNS 16
#define MS        1000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
    struct mirror_conn *conns[MAX_CONNS];
    bool connected[MAX_CONNS];
    bool eof[MAX_CONNS];
    size_t n;
    const uint8_t *piece; /* what the next read returns on the first connection */
    size_t piece_len;
    bool feed_eof;
    uint64_t now;
    size_t defers;  /* defer() calls not yet swept */
    uint64_t until; /* the earliest time defer_until() asked for; 0: none */
    size_t done, answered, drops[MIRROR_DROP_ENTRIES];
};

static size_t idx(struct mirror_conn *c)
{
    return *(size_t *)mirror_conn_data(c);
}

static enum mirror_connect f_connect(void *ctx, struct mirror_conn *conn, const struct sockaddr *sa,
                                     socklen_t sl, int *err)
{
    (void)sa;
    (void)sl;
    (void)err;
    struct fz *f = ctx;
    CHECK(f->n < MAX_CONNS);
    *(size_t *)mirror_conn_data(conn) = f->n;
    f->conns[f->n++] = conn;
    return MIRROR_CONNECT_STARTED;
}

static ssize_t f_send(void *ctx, struct mirror_conn *conn, const uint8_t *p, size_t len)
{
    (void)ctx;
    (void)conn;
    CHECK(len > 0 && p != NULL);
    return (ssize_t)len;
}

static ssize_t f_recv(void *ctx, struct mirror_conn *conn, uint8_t *buf, size_t cap)
{
    struct fz *f = ctx;
    size_t i = idx(conn);
    if (i != 0 || f->piece_len == 0)
        return f->feed_eof && i == 0 ? 0 : MIRROR_IO_AGAIN;
    size_t n = f->piece_len < cap ? f->piece_len : cap;
    memcpy(buf, f->piece, n);
    f->piece += n;
    f->piece_len -= n;
    return (ssize_t)n;
}

static void f_watch(void *ctx, struct mirror_conn *conn, unsigned ev)
{
    (void)ctx;
    (void)conn;
    (void)ev;
}

static void f_timer(void *ctx, struct mirror_conn *conn, uint32_t ms)
{
    (void)ctx;
    (void)conn;
    (void)ms;
}

static void f_close(void *ctx, struct mirror_conn *conn)
{
    struct fz *f = ctx;
    f->conns[idx(conn)] = NULL;
}

static uint64_t f_now(void *ctx)
{
    return ((struct fz *)ctx)->now;
}

static void f_defer(void *ctx)
{
    ((struct fz *)ctx)->defers++;
}

static void f_defer_until(void *ctx, uint64_t at_ns)
{
    struct fz *f = ctx;
    if (f->until == 0 || at_ns < f->until)
        f->until = at_ns;
}

/* Deferring mode: 1 ms passes, then the sweeps asked for run. */
static void tick(struct fz *f, struct mirror_client *c)
{
    f->now += MS;
    for (int i = 0; i < 8 && (f->defers > 0 || (f->until != 0 && f->until <= f->now)); i++) {
        f->defers = 0;
        if (f->until != 0 && f->until <= f->now)
            f->until = 0;
        mirror_client_sweep(c);
    }
}

static const struct mirror_transport ops = {
    .conn_size = sizeof(size_t),
    .connect = f_connect,
    .send = f_send,
    .recv = f_recv,
    .watch = f_watch,
    .arm_timer = f_timer,
    .close = f_close,
    .now_ns = f_now,
};

static void on_done(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why)
{
    (void)latency_ns;
    struct fz *f = ctx;
    f->done++;
    if (why == MIRROR_DROP_NONE) {
        CHECK(status >= 100 && status <= 999);
        f->answered++;
    } else {
        CHECK(status == 0 && why < MIRROR_DROP_ENTRIES);
        f->drops[why]++;
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static void submit(struct mirror_client *c, const char *text)
{
    size_t len = strlen(text);
    uint8_t *req = malloc(len);
    CHECK(req != NULL);
    memcpy(req, text, len);
    mirror_client_submit(c, req, len, mirror_method_flags(req, strcspn(text, " ")));
}

/* Completes the connects under way: the first connection is the one the
 * stream is read on; later ones (retries) only connect. */
static void connect_all(struct fz *f)
{
    for (size_t i = 0; i < f->n; i++) {
        if (f->conns[i] && !f->connected[i]) {
            f->connected[i] = true;
            mirror_client_on_connected(f->conns[i], 0);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned copies = (data[0] & 3u) + 1;
    bool eof = data[0] & 4u, expire = data[0] & 8u;
    uint32_t max_body = (uint32_t)(data[0] >> 4) * 8;
    size_t ncuts = data[1] % MAX_CUTS;
    bool deferring = data[1] & 16u;
    if (size < 2 + 2 * ncuts)
        return 0;
    const uint8_t *stream = data + 2 + 2 * ncuts;
    size_t len = size - 2 - 2 * ncuts;
    size_t cuts[MAX_CUTS + 1];
    for (size_t i = 0; i < ncuts; i++)
        cuts[i] = ((size_t)data[2 + 2 * i] << 8 | data[3 + 2 * i]) % (len + 1);
    qsort(cuts, ncuts, sizeof(cuts[0]), cmp_size);
    cuts[ncuts] = len;

    struct fz f = {.now = 1000 * MS};
    struct mirror_counters ctr;
    memset(&ctr, 0, sizeof(ctr));
    struct logger log = {.level = LOG_LVL_ERROR, .fd = -1};
    struct target_addr addr;
    target_addr_init(&addr, "127.0.0.1", 8080);
    CHECK(target_addr_resolve(&addr) == 0);
    struct mirror_client_settings set = {
        .protocol = MIRROR_PROTO_H2,
        .connect_timeout_ms = 100,
        .timeout_ms = 1000,
        .max_response_bytes = max_body,
        .max_inflight = 4,
        .max_queue = 4,
        .idle_timeout_ms = 5000,
        .circuit_failures = 3,
        .circuit_open_ms = 2000,
        .name = "fuzz/0",
        .on_done = on_done,
        .on_done_ctx = &f,
        .write_delay_ms = deferring ? 2 : 0,
    };
    struct mirror_transport deferring_ops = ops;
    deferring_ops.defer = f_defer;
    deferring_ops.defer_until = f_defer_until;
    struct mirror_client *c =
        mirror_client_create(&set, &addr, &ctr, &log, deferring ? &deferring_ops : &ops, &f);
    for (unsigned i = 0; i < copies; i++)
        submit(c, i % 2 == 0 ? "GET /a HTTP/1.1\r\nHost: m\r\n\r\n"
                             : "POST /b HTTP/1.1\r\nHost: m\r\nContent-Type: application/grpc\r\n"
                               "Content-Length: 5\r\n\r\n\0\0\0\0\0");
    connect_all(&f);
    size_t off = 0;
    for (size_t i = 0; i <= ncuts && f.conns[0]; i++) {
        if (cuts[i] <= off)
            continue;
        size_t n = cuts[i] - off;
        uint8_t *piece = malloc(n);
        CHECK(piece != NULL);
        memcpy(piece, stream + off, n);
        f.piece = piece;
        f.piece_len = n;
        while (f.conns[0] && f.piece_len > 0)
            mirror_client_on_readable(f.conns[0]);
        free(piece);
        f.piece_len = 0;
        off = cuts[i];
        connect_all(&f);
        if (deferring)
            tick(&f, c);
    }
    if (eof && f.conns[0]) {
        f.feed_eof = true;
        mirror_client_on_readable(f.conns[0]);
    }
    if (expire) {
        f.now += 2000 * MS;
        for (size_t i = 0; i < f.n; i++)
            if (f.conns[i])
                mirror_client_on_timeout(f.conns[i]);
    }
    mirror_client_free(c);

    CHECK(f.done == copies);
    CHECK(f.n <= 2 * copies);
    uint64_t responses = 0, grpc = 0, cut = 0;
    for (size_t i = 0; i < 6; i++)
        responses += counter_get(&ctr.responses[i]);
    for (size_t i = 0; i < MIRROR_GRPC_SLOTS; i++)
        grpc += counter_get(&ctr.grpc_status[i]);
    for (size_t i = 0; i < MIRROR_CUT_ENTRIES; i++)
        cut += counter_get(&ctr.responses_cut[i]);
    CHECK(responses == f.answered);
    CHECK(grpc <= f.answered);
    CHECK(cut <= f.answered);
    for (size_t i = 0; i < MIRROR_DROP_ENTRIES; i++)
        CHECK(counter_get(&ctr.dropped[i]) == f.drops[i]);
    CHECK(counter_get(&ctr.inflight) == 0);
    CHECK(counter_get(&ctr.queued) == 0);
    target_addr_destroy(&addr);
    return 0;
}
