/* Unit tests for the socket side of one SPOP connection (spop_conn.h), driven
 * over a real socketpair with the agent end non-blocking: the handshake,
 * pipelining, frames arriving one byte at a time, backpressure with tiny
 * socket buffers, every bad input ending in AGENT-DISCONNECT then CLOSE, and
 * the peer's EOF or reset (a loopback TCP pair for the RST case). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spop/agent_stats.h"
#include "core/buf.h"
#include "spop/spop_conn.h"
#include "spop/spop_data.h"
#include "spop/spop_frame.h"
#include "spop/spop_proto.h"
#include "test_util.h"

#define HAPROXY_FRAME_SIZE 16380u
#define BIG_LIMIT          (16u * 1024u * 1024u)
#define POLL_MS            2000
#define MAX_SUBMITS        65536

/* ---- a seam that records when submit() runs ---- */

struct conn_seam {
    int peer;
    const size_t *rx_total; /* bytes the peer has read so far */
    size_t ndecide, nsubmit;
    uint64_t *submit_sid;
    size_t *submit_visible; /* bytes the peer could read when submit() ran */
};

static bool seam_decide(void *ctx, const struct spop_notify *n, void *slot)
{
    struct conn_seam *s = ctx;
    (void)slot;
    s->ndecide++;
    return (n->stream_id & 1) != 0;
}

static void seam_submit(void *ctx, const struct spop_notify *n, void *slot)
{
    struct conn_seam *s = ctx;
    (void)slot;
    ck_assert_uint_lt(s->nsubmit, MAX_SUBMITS);
    int queued = 0;
    ck_assert_int_eq(ioctl(s->peer, FIONREAD, &queued), 0);
    s->submit_sid[s->nsubmit] = n->stream_id;
    s->submit_visible[s->nsubmit] = *s->rx_total + (size_t)queued;
    s->nsubmit++;
}

static const struct spop_notify_ops seam_ops = {.decide = seam_decide, .submit = seam_submit};

/* ---- the agent end and the peer end ---- */

struct harness {
    struct spop_conn c;
    struct agent_stats stats;
    struct conn_seam seam;
    int peer;
    struct buf rx; /* what the peer received */
    size_t rx_total;
    size_t tx_total; /* what the peer sent */
};

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    ck_assert_int_ne(fl, -1);
    ck_assert_int_ne(fcntl(fd, F_SETFL, fl | O_NONBLOCK), -1);
}

/* Wraps the agent socket <agent> and the peer socket <peer> (both made non-blocking). */
static struct harness *h_wrap(int agent, int peer, uint32_t max_frame)
{
    struct harness *h = calloc(1, sizeof(*h));
    ck_assert_ptr_nonnull(h);
    set_nonblock(agent);
    set_nonblock(peer);
    h->peer = peer;
    buf_init(&h->rx, BIG_LIMIT);
    h->seam.peer = peer;
    h->seam.rx_total = &h->rx_total;
    h->seam.submit_sid = calloc(MAX_SUBMITS, sizeof(uint64_t));
    h->seam.submit_visible = calloc(MAX_SUBMITS, sizeof(size_t));
    ck_assert(h->seam.submit_sid && h->seam.submit_visible);
    spop_conn_init(&h->c, agent, max_frame,
                   (struct spop_notify_handler){.ops = &seam_ops, .ctx = &h->seam, .ack_var = "mirrored"},
                   &h->stats);
    return h;
}

static struct harness *h_new(uint32_t max_frame)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    return h_wrap(sv[0], sv[1], max_frame);
}

static void h_close_peer(struct harness *h)
{
    if (h->peer >= 0)
        close(h->peer);
    h->peer = -1;
}

static void h_free(struct harness *h)
{
    spop_conn_deinit(&h->c);
    ck_assert_int_eq(h->c.fd, -1);
    h_close_peer(h);
    buf_free(&h->rx);
    free(h->seam.submit_sid);
    free(h->seam.submit_visible);
    free(h);
}

static bool wait_fd(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    return poll(&p, 1, POLL_MS) == 1;
}

/* The peer writes all <len> bytes (the agent must not need to read meanwhile). */
static void peer_send(struct harness *h, const uint8_t *p, size_t len)
{
    size_t off = 0;
    for (int tries = 0; off < len && tries < 1000; tries++) {
        ssize_t n = send(h->peer, p + off, len - off, MSG_NOSIGNAL);
        if (n == -1) {
            ck_assert_msg(errno == EAGAIN || errno == EWOULDBLOCK, "peer send: %s", strerror(errno));
            ck_assert(wait_fd(h->peer, POLLOUT));
            continue;
        }
        off += (size_t)n;
    }
    ck_assert_uint_eq(off, len);
    h->tx_total += len;
}

/* The peer reads at most <max> bytes of what is available; returns the count. */
static size_t peer_recv(struct harness *h, size_t max)
{
    size_t got = 0;
    while (got < max) {
        uint8_t *dst = buf_reserve(&h->rx, 4096);
        ck_assert_ptr_nonnull(dst);
        size_t want = max - got < 4096 ? max - got : 4096;
        ssize_t n = recv(h->peer, dst, want, 0);
        if (n == -1) {
            ck_assert_msg(errno == EAGAIN || errno == EWOULDBLOCK, "peer recv: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        buf_commit(&h->rx, (size_t)n);
        h->rx_total += (size_t)n;
        got += (size_t)n;
    }
    return got;
}

/* True when the peer sees the end of the stream (the agent closed). */
static bool peer_sees_eof(struct harness *h)
{
    ck_assert(wait_fd(h->peer, POLLIN));
    uint8_t b;
    return recv(h->peer, &b, 1, 0) == 0;
}

/* Decodes the whole frames the peer received; *partial receives the bytes of
 * an incomplete last frame. Every frame is an agent frame with FIN. */
static size_t rx_frames(const struct harness *h, struct spop_frame *f, size_t max, size_t *partial)
{
    size_t off = 0, n = 0;
    while (off < h->rx.len) {
        struct spop_frame fr;
        ssize_t k = spop_frame_decode(buf_peek(&h->rx) + off, h->rx.len - off, UINT32_MAX, &fr);
        ck_assert_int_ge(k, 0);
        if (k == 0)
            break;
        ck_assert_uint_eq(fr.flags, SPOP_FRM_FL_FIN);
        ck_assert(fr.type == SPOP_FRM_T_AGENT_HELLO || fr.type == SPOP_FRM_T_AGENT_DISCON ||
                  fr.type == SPOP_FRM_T_AGENT_ACK);
        if (f) {
            ck_assert_uint_lt(n, max);
            f[n] = fr;
        }
        n++;
        off += (size_t)k;
    }
    if (partial)
        *partial = h->rx.len - off;
    else
        ck_assert_uint_eq(off, h->rx.len);
    return n;
}

/* ---- frames ---- */

static void put_frame(struct buf *v, uint8_t type, uint32_t flags, uint64_t sid, uint64_t fid,
                      const uint8_t *payload, size_t len)
{
    size_t room = len + 32;
    uint8_t *dst = buf_reserve(v, room);
    ck_assert_ptr_nonnull(dst);
    struct spop_writer w;
    spop_writer_init(&w, dst, room);
    size_t start = spop_frame_begin(&w, type, flags, sid, fid);
    spop_put_raw(&w, payload, len);
    ssize_t n = spop_frame_end(&w, start);
    ck_assert_int_gt(n, 0);
    buf_commit(v, (size_t)n);
}

static const uint8_t tiny_messages[] = {6, 'm', 'i', 'r', 'r', 'o', 'r', 0};

static void put_notify(struct buf *v, uint64_t sid, uint32_t flags)
{
    put_frame(v, SPOP_FRM_T_HAPROXY_NOTIFY, flags, sid, 1, tiny_messages, sizeof(tiny_messages));
}

static void put_fixture(struct buf *v, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, name);
    uint8_t *p = NULL;
    long n = read_hex_file(path, &p);
    ck_assert_msg(n > 0, "cannot read %s", path);
    ck_assert(buf_append(v, p, (size_t)n));
    free(p);
}

static void put_hex(struct buf *v, const char *hex)
{
    uint8_t *p = NULL;
    long n = hex_decode(hex, &p);
    ck_assert_int_ge(n, 0);
    ck_assert(buf_append(v, p, (size_t)n));
    free(p);
}

/* A HAPROXY-HELLO; NULL strings and a negative size leave the key out. */
static void put_hello(struct buf *v, const char *versions, long max_frame, const char *caps, bool healthcheck,
                      uint32_t flags)
{
    uint8_t payload[256];
    struct spop_writer w;
    spop_writer_init(&w, payload, sizeof(payload));
    if (versions) {
        spop_put_name(&w, "supported-versions", 18);
        spop_put_str(&w, versions, strlen(versions));
    }
    if (max_frame >= 0) {
        spop_put_name(&w, "max-frame-size", 14);
        spop_put_uint(&w, (uint64_t)max_frame);
    }
    if (caps) {
        spop_put_name(&w, "capabilities", 12);
        spop_put_str(&w, caps, strlen(caps));
    }
    if (healthcheck) {
        spop_put_name(&w, "healthcheck", 11);
        spop_put_bool(&w, true);
    }
    put_frame(v, SPOP_FRM_T_HAPROXY_HELLO, flags, 0, 0, payload, w.len);
}

/* ---- checks on decoded replies ---- */

static uint64_t kv_uint(const struct spop_frame *f, const char *key)
{
    size_t off = 0;
    while (off < f->payload_len) {
        struct spop_kv kv;
        ssize_t k = spop_kv_next(f->payload + off, f->payload_len - off, &kv);
        ck_assert_int_gt(k, 0);
        uint64_t v;
        if (spop_bytes_eq(kv.name, key) && spop_data_as_uint(&kv.value, &v))
            return v;
        off += (size_t)k;
    }
    ck_abort_msg("no integer %s", key);
    return 0;
}

static void assert_ack(const struct spop_frame *f, uint64_t sid, uint64_t fid)
{
    ck_assert_uint_eq(f->type, SPOP_FRM_T_AGENT_ACK);
    ck_assert_uint_eq(f->stream_id, sid);
    ck_assert_uint_eq(f->frame_id, fid);
    struct spop_action a;
    ck_assert_int_eq(spop_action_next(f->payload, f->payload_len, &a), (ssize_t)f->payload_len);
    ck_assert_uint_eq(a.type, SPOP_ACT_T_SET_VAR);
    ck_assert_uint_eq(a.scope, SPOP_SCOPE_TXN);
    ck_assert(spop_bytes_eq(a.name, "mirrored"));
    ck_assert_uint_eq(a.value.type, SPOP_DATA_T_BOOL);
    ck_assert(a.value.u.boolean == ((sid & 1) != 0));
}

/* Handshake with a captured HELLO; the peer reads the AGENT-HELLO. */
static void handshake(struct harness *h)
{
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_fixture(&in, "haproxy-3.4/002-haproxy-hello.hex");
    peer_send(h, buf_peek(&in), in.len);
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_WANT_READ);
    peer_recv(h, SIZE_MAX);
    struct spop_frame f[2];
    ck_assert_uint_eq(rx_frames(h, f, 2, NULL), 1);
    ck_assert_uint_eq(f[0].type, SPOP_FRM_T_AGENT_HELLO);
    ck_assert_uint_eq(kv_uint(&f[0], "max-frame-size"), HAPROXY_FRAME_SIZE);
    buf_free(&in);
}

/* ---- tests ---- */

START_TEST(test_handshake_and_notify)
{
    struct harness *h = h_new(65536);
    ck_assert_int_eq(spop_conn_interest(&h->c), SPOP_CONN_WANT_READ);
    handshake(h);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_fixture(&in, "haproxy-3.4/003-notify.hex");
    peer_send(h, buf_peek(&in), in.len);
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_WANT_READ);
    peer_recv(h, SIZE_MAX);
    struct spop_frame f[3];
    ck_assert_uint_eq(rx_frames(h, f, 3, NULL), 2);
    assert_ack(&f[1], 1, 1);
    ck_assert_uint_eq(h->seam.nsubmit, 1);
    ck_assert_uint_eq(h->seam.submit_visible[0], h->rx.len); /* the ACK was out before submit() */
    ck_assert_uint_eq(counter_get(&h->stats.bytes_in), h->tx_total);
    ck_assert_uint_eq(counter_get(&h->stats.bytes_out), h->rx.len);
    /* Nothing more to read: the agent keeps waiting. */
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_WANT_READ);
    ck_assert_int_eq(spop_conn_on_writable(&h->c), SPOP_CONN_WANT_READ);
    ck_assert_int_eq(h->c.end, SPOP_CONN_END_NONE);
    buf_free(&in);
    h_free(h);
}
END_TEST

START_TEST(test_healthcheck)
{
    struct harness *h = h_new(HAPROXY_FRAME_SIZE);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_fixture(&in, "haproxy-2.6/001-haproxy-hello-healthcheck.hex");
    peer_send(h, buf_peek(&in), in.len);
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_CLOSE);
    ck_assert_int_eq(h->c.end, SPOP_CONN_END_PROTOCOL);
    peer_recv(h, SIZE_MAX);
    struct spop_frame f[2];
    ck_assert_uint_eq(rx_frames(h, f, 2, NULL), 1);
    ck_assert_uint_eq(f[0].type, SPOP_FRM_T_AGENT_HELLO);
    spop_conn_deinit(&h->c);
    ck_assert(peer_sees_eof(h));
    buf_free(&in);
    h_free(h);
}
END_TEST

START_TEST(test_pipelining)
{
    enum { N = 20 };
    struct harness *h = h_new(HAPROXY_FRAME_SIZE);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_fixture(&in, "haproxy-3.4/002-haproxy-hello.hex");
    /* The captured NOTIFY re-wrapped with 20 stream-ids, as 3.x numbers them. */
    struct buf cap;
    buf_init(&cap, BIG_LIMIT);
    put_fixture(&cap, "haproxy-3.4/004-notify.hex");
    struct spop_frame nf;
    ck_assert_int_gt(spop_frame_decode(buf_peek(&cap), cap.len, HAPROXY_FRAME_SIZE, &nf), 0);
    for (uint64_t i = 0; i < N; i++)
        put_frame(&in, SPOP_FRM_T_HAPROXY_NOTIFY, SPOP_FRM_FL_FIN, 2 * i + 1, 1, nf.payload, nf.payload_len);
    peer_send(h, buf_peek(&in), in.len);
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_WANT_READ);
    peer_recv(h, SIZE_MAX);
    struct spop_frame f[N + 2];
    ck_assert_uint_eq(rx_frames(h, f, N + 2, NULL), N + 1);
    size_t end = 4 + (size_t)f[0].length;
    for (uint64_t i = 0; i < N; i++) {
        assert_ack(&f[1 + i], 2 * i + 1, 1);
        end += 4 + (size_t)f[1 + i].length;
        /* submit() for NOTIFY i ran once its ACK could be read by the peer. */
        ck_assert_uint_eq(h->seam.submit_sid[i], 2 * i + 1);
        ck_assert_uint_ge(h->seam.submit_visible[i], end);
    }
    ck_assert_uint_eq(h->seam.nsubmit, N);
    ck_assert_uint_eq(counter_get(&h->stats.ack), N);
    buf_free(&cap);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* With defer_dispatch, a read is ACKed at once and its NOTIFYs reach the
 * handler only at spop_conn_dispatch(); meanwhile nothing more is read, and
 * frames read with the batch are answered and dispatched by that call. */
START_TEST(test_deferred_dispatch)
{
    struct harness *h = h_new(HAPROXY_FRAME_SIZE);
    handshake(h);
    h->c.defer_dispatch = true;
    struct buf cap, in;
    buf_init(&cap, BIG_LIMIT);
    buf_init(&in, BIG_LIMIT);
    put_fixture(&cap, "haproxy-3.4/004-notify.hex");
    struct spop_frame nf;
    ck_assert_int_gt(spop_frame_decode(buf_peek(&cap), cap.len, HAPROXY_FRAME_SIZE, &nf), 0);
    put_frame(&in, SPOP_FRM_T_HAPROXY_NOTIFY, SPOP_FRM_FL_FIN, 1, 1, nf.payload, nf.payload_len);
    put_frame(&in, SPOP_FRM_T_HAPROXY_NOTIFY, SPOP_FRM_FL_FIN, 3, 1, nf.payload, nf.payload_len);
    peer_send(h, buf_peek(&in), in.len);
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_WANT_READ);
    ck_assert(spop_conn_dispatch_due(&h->c));
    ck_assert_uint_eq(h->seam.nsubmit, 0);
    peer_recv(h, SIZE_MAX);
    struct spop_frame f[6];
    ck_assert_uint_eq(rx_frames(h, f, 6, NULL), 3); /* HELLO, then both ACKs already */
    assert_ack(&f[1], 1, 1);
    assert_ack(&f[2], 3, 1);
    /* A third NOTIFY is not read while the batch is due. */
    buf_consume(&in, in.len);
    put_frame(&in, SPOP_FRM_T_HAPROXY_NOTIFY, SPOP_FRM_FL_FIN, 5, 1, nf.payload, nf.payload_len);
    peer_send(h, buf_peek(&in), in.len);
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_WANT_READ);
    ck_assert_uint_eq(counter_get(&h->stats.ack), 2);
    ck_assert_int_eq(spop_conn_dispatch(&h->c), SPOP_CONN_WANT_READ);
    ck_assert(!spop_conn_dispatch_due(&h->c));
    ck_assert_uint_eq(h->seam.nsubmit, 2);
    ck_assert_uint_eq(h->seam.submit_sid[0], 1);
    ck_assert_uint_eq(h->seam.submit_sid[1], 3);
    /* Nothing due: a no-op. */
    ck_assert_int_eq(spop_conn_dispatch(&h->c), SPOP_CONN_WANT_READ);
    ck_assert_uint_eq(h->seam.nsubmit, 2);
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_WANT_READ);
    ck_assert_uint_eq(counter_get(&h->stats.ack), 3);
    ck_assert_uint_eq(h->seam.nsubmit, 2);
    spop_conn_dispatch(&h->c);
    ck_assert_uint_eq(h->seam.nsubmit, 3);
    ck_assert_uint_eq(h->seam.submit_sid[2], 5);
    ck_assert_uint_eq(h->c.in.len, 0);
    buf_free(&cap);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* HELLO and NOTIFYs (one of 15 KB) arrive one byte at a time: each reply
 * appears only once the last byte of its frame has arrived. */
START_TEST(test_partial_reads)
{
    static const char *const names[] = {"haproxy-3.4/002-haproxy-hello.hex", "haproxy-3.4/003-notify.hex",
                                        "haproxy-3.4/005-notify.hex", "haproxy-3.4/007-notify.hex"};
    static const uint64_t sids[] = {1, 5, 9};
    struct harness *h = h_new(HAPROXY_FRAME_SIZE);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    size_t end[4];
    for (size_t i = 0; i < 4; i++) {
        put_fixture(&in, names[i]);
        end[i] = in.len;
    }
    for (size_t i = 0; i < in.len; i++) {
        peer_send(h, buf_peek(&in) + i, 1);
        ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_WANT_READ);
        peer_recv(h, SIZE_MAX);
        size_t complete = 0;
        while (complete < 4 && end[complete] <= i + 1)
            complete++;
        ck_assert_msg(rx_frames(h, NULL, 0, NULL) == complete, "after byte %zu", i);
    }
    struct spop_frame f[4];
    ck_assert_uint_eq(rx_frames(h, f, 4, NULL), 4);
    ck_assert_uint_eq(f[0].type, SPOP_FRM_T_AGENT_HELLO);
    for (size_t i = 0; i < 3; i++)
        assert_ack(&f[1 + i], sids[i], 1);
    ck_assert_uint_eq(h->seam.nsubmit, 3);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* Sends from <tx> what the socket takes, without blocking. */
static void peer_push(struct harness *h, struct buf *tx)
{
    while (tx->len > 0) {
        ssize_t n = send(h->peer, buf_peek(tx), tx->len, MSG_NOSIGNAL);
        if (n == -1) {
            ck_assert_msg(errno == EAGAIN || errno == EWOULDBLOCK, "peer send: %s", strerror(errno));
            return;
        }
        buf_consume(tx, (size_t)n);
        h->tx_total += (size_t)n;
    }
}

static void shrink_buffers(int agent, int peer)
{
    int small = 4096;
    ck_assert_int_eq(setsockopt(agent, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
    ck_assert_int_eq(setsockopt(agent, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    ck_assert_int_eq(setsockopt(peer, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
    ck_assert_int_eq(setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
}

/* HAProxy sends NOTIFYs and stops reading the ACKs: the agent's output grows
 * until it stops reading (WANT_READ dropped, WANT_WRITE set), with NOTIFYs it
 * has read but not answered yet. HAProxy sends nothing more and reads the ACKs
 * one byte at a time: the agent must answer what it holds as its output
 * drains, and every ACK arrives once and in order. */
START_TEST(test_backpressure)
{
    enum { MAX_NOTIFIES = 60000, STEP = 128 };
    struct harness *h = h_new(HAPROXY_FRAME_SIZE);
    shrink_buffers(h->c.fd, h->peer);
    handshake(h);
    buf_consume(&h->rx, h->rx.len);

    struct buf tx;
    buf_init(&tx, BIG_LIMIT);
    uint64_t sent = 0;
    int ret = 0;
    bool saw_write_only = false;
    size_t partial_writes = 0;
    int idle = 0;
    for (int round = 0; round < MAX_NOTIFIES / STEP; round++) {
        if (tx.len == 0) { /* a new batch once the last one is out */
            for (int k = 0; k < STEP; k++)
                put_notify(&tx, ++sent, SPOP_FRM_FL_FIN);
        }
        peer_push(h, &tx);
        ret = spop_conn_on_readable(&h->c);
        ck_assert_int_eq(ret & SPOP_CONN_CLOSE, 0);
        if (!(ret & SPOP_CONN_WANT_READ))
            break;
    }
    ck_assert_int_eq(ret, SPOP_CONN_WANT_WRITE);
    ck_assert_int_eq(spop_conn_interest(&h->c), SPOP_CONN_WANT_WRITE);
    ck_assert_uint_gt(h->c.out.len, 0);
    /* Everything sent was read; part of it is still unanswered. */
    int unread = -1;
    ck_assert_int_eq(ioctl(h->c.fd, FIONREAD, &unread), 0);
    ck_assert_int_eq(unread, 0);
    ck_assert_uint_eq(tx.len, 0);
    ck_assert_uint_gt(h->c.in.len, 0);
    ck_assert_uint_lt(counter_get(&h->stats.ack), sent);

    /* Drain one byte at a time; the agent resumes reading when it can. */
    for (long iter = 0; iter < 5L * 1000 * 1000; iter++) {
        size_t got = peer_recv(h, 1);
        size_t queued = h->c.out.len;
        ret = spop_conn_on_writable(&h->c);
        ck_assert_int_eq(ret & SPOP_CONN_CLOSE, 0);
        if (h->c.out.len > 0 && h->c.out.len < queued)
            partial_writes++;
        if (ret == SPOP_CONN_WANT_WRITE)
            saw_write_only = true;
        /* Readable only while the peer has sent bytes the agent has not read. */
        if ((ret & SPOP_CONN_WANT_READ) && h->tx_total > counter_get(&h->stats.bytes_in))
            ret = spop_conn_on_readable(&h->c);
        if (got == 0 && h->c.out.len == 0 && counter_get(&h->stats.ack) == sent) {
            if (peer_recv(h, SIZE_MAX) == 0)
                break;
        }
        /* Without progress for long, the agent is stuck: stop and let the checks fail. */
        idle = (got == 0 && h->c.out.len == queued) ? idle + 1 : 0;
        if (idle > 10000)
            break;
    }
    ck_assert(saw_write_only);
    ck_assert_uint_gt(partial_writes, 0);
    ck_assert_int_eq(ret, SPOP_CONN_WANT_READ);
    ck_assert_uint_eq(h->tx_total, counter_get(&h->stats.bytes_in));
    ck_assert_uint_eq(h->c.in.len, 0);

    /* Every ACK once, in order. */
    size_t off = 0;
    uint64_t next = 1;
    while (off < h->rx.len) {
        struct spop_frame f;
        ssize_t k = spop_frame_decode(buf_peek(&h->rx) + off, h->rx.len - off, UINT32_MAX, &f);
        ck_assert_int_gt(k, 0);
        assert_ack(&f, next, 1);
        next++;
        off += (size_t)k;
    }
    ck_assert_uint_eq(next - 1, sent);
    ck_assert_uint_eq(h->seam.nsubmit, sent);
    ck_assert_uint_eq(h->seam.ndecide, sent);
    for (size_t i = 0; i < h->seam.nsubmit; i++)
        ck_assert_uint_eq(h->seam.submit_sid[i], i + 1);
    ck_assert_uint_eq(counter_get(&h->stats.notify), sent);
    buf_free(&tx);
    h_free(h);
}
END_TEST

/* ---- bad input on the wire ---- */

struct wire_case {
    const char *label;
    uint32_t ours;
    bool hello_first;
    const char *hex; /* the bad bytes, or NULL with <hello> set */
    const char *versions;
    long max_frame;
    const char *caps;
    uint32_t hello_flags;
    int status;
};

/* clang-format off */
static const struct wire_case wire_cases[] = {
    {"too big, length only", 1000, true, "000003e9", NULL, 0, NULL, 0, SPOP_ERR_TOO_BIG},
    {"too big before HELLO", 16380, false, "00004000", NULL, 0, NULL, 0, SPOP_ERR_TOO_BIG},
    {"length below the header", 16380, true, "00000003", NULL, 0, NULL, 0, SPOP_ERR_INVALID},
    {"stream-id past the frame", 16380, true, "00000007 03 00000001 f0f0", NULL, 0, NULL, 0, SPOP_ERR_INVALID},
    {"NOTIFY before HELLO", 16380, false, "0000000f 03 00000001 01 01 066d6972726f72 00", NULL, 0, NULL, 0,
     SPOP_ERR_INVALID},
    {"NOTIFY without FIN", 16380, true, "0000000f 03 00000000 01 01 066d6972726f72 00", NULL, 0, NULL, 0,
     SPOP_ERR_FRAG_NOT_SUPPORTED},
    {"type-0 frame", 16380, true, "00000007 00 00000001 01 01", NULL, 0, NULL, 0, SPOP_ERR_FRAG_NOT_SUPPORTED},
    {"ACK from the peer", 16380, true, "00000007 67 00000001 01 01", NULL, 0, NULL, 0, SPOP_ERR_INVALID},
    {"AGENT-HELLO from the peer", 16380, true, "00000007 65 00000001 00 00", NULL, 0, NULL, 0, SPOP_ERR_INVALID},
    {"AGENT-DISCONNECT from the peer", 16380, true, "00000007 66 00000001 00 00", NULL, 0, NULL, 0,
     SPOP_ERR_INVALID},
    {"malformed LIST-OF-MESSAGES", 16380, true, "0000000f 03 00000001 01 01 066d6972726f72 01", NULL, 0, NULL, 0,
     SPOP_ERR_INVALID},
    {"HELLO version 1.0", 16380, false, NULL, "1.0", HAPROXY_FRAME_SIZE, "pipelining", SPOP_FRM_FL_FIN,
     SPOP_ERR_BAD_VSN},
    {"HELLO without max-frame-size", 16380, false, NULL, "2.0", -1, "pipelining", SPOP_FRM_FL_FIN,
     SPOP_ERR_NO_FRAME_SIZE},
    {"HELLO without version", 16380, false, NULL, NULL, HAPROXY_FRAME_SIZE, "pipelining", SPOP_FRM_FL_FIN,
     SPOP_ERR_NO_VSN},
    {"HELLO without capabilities", 16380, false, NULL, "2.0", HAPROXY_FRAME_SIZE, NULL, SPOP_FRM_FL_FIN,
     SPOP_ERR_NO_CAP},
    {"HELLO max-frame-size 255", 16380, false, NULL, "2.0", 255, "pipelining", SPOP_FRM_FL_FIN,
     SPOP_ERR_BAD_FRAME_SIZE},
    {"HELLO without FIN", 16380, false, NULL, "2.0", HAPROXY_FRAME_SIZE, "pipelining", 0,
     SPOP_ERR_FRAG_NOT_SUPPORTED},
    {"HELLO twice", 16380, true, NULL, "2.0", HAPROXY_FRAME_SIZE, "pipelining", SPOP_FRM_FL_FIN,
     SPOP_ERR_INVALID},
};
/* clang-format on */
#define N_WIRE_CASES (sizeof(wire_cases) / sizeof(wire_cases[0]))

START_TEST(test_bad_input_on_wire)
{
    const struct wire_case *c = &wire_cases[_i];
    struct harness *h = h_new(c->ours);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    if (c->hello_first)
        put_hello(&in, "2.0", HAPROXY_FRAME_SIZE, "pipelining", false, SPOP_FRM_FL_FIN);
    if (c->hex)
        put_hex(&in, c->hex);
    else
        put_hello(&in, c->versions, c->max_frame, c->caps, false, c->hello_flags);
    peer_send(h, buf_peek(&in), in.len);
    int ret = spop_conn_on_readable(&h->c);
    ck_assert_msg(ret == SPOP_CONN_CLOSE, "%s: interest %d", c->label, ret);
    ck_assert_int_eq(h->c.end, SPOP_CONN_END_PROTOCOL);
    ck_assert_int_eq(h->c.out.len, 0);
    peer_recv(h, SIZE_MAX);
    struct spop_frame f[3];
    size_t n = rx_frames(h, f, 3, NULL);
    ck_assert_msg(n == (c->hello_first ? 2u : 1u), "%s: %zu frames", c->label, n);
    if (c->hello_first)
        ck_assert_uint_eq(f[0].type, SPOP_FRM_T_AGENT_HELLO);
    ck_assert_uint_eq(f[n - 1].type, SPOP_FRM_T_AGENT_DISCON);
    ck_assert_uint_eq(kv_uint(&f[n - 1], "status-code"), (uint64_t)c->status);
    /* The agent does not read after CLOSE; closing the socket ends the stream. */
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_CLOSE);
    spop_conn_deinit(&h->c);
    ck_assert(peer_sees_eof(h));
    buf_free(&in);
    h_free(h);
}
END_TEST

START_TEST(test_haproxy_disconnect)
{
    struct harness *h = h_new(HAPROXY_FRAME_SIZE);
    handshake(h);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_hex(&in, "0000001f 02 00000001 00 00 0b 7374617475732d636f6465 03 00 07 6d657373616765 08 00");
    peer_send(h, buf_peek(&in), in.len);
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_CLOSE);
    ck_assert_int_eq(h->c.end, SPOP_CONN_END_PROTOCOL);
    peer_recv(h, SIZE_MAX);
    struct spop_frame f[3];
    ck_assert_uint_eq(rx_frames(h, f, 3, NULL), 2);
    ck_assert_uint_eq(f[1].type, SPOP_FRM_T_AGENT_DISCON);
    ck_assert_uint_eq(kv_uint(&f[1], "status-code"), 0);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* ---- the peer goes away ---- */

/* Case 0: right after connecting; 1: after the handshake; 2: in the middle of a frame. */
START_TEST(test_peer_eof)
{
    struct harness *h = h_new(HAPROXY_FRAME_SIZE);
    if (_i >= 1)
        handshake(h);
    if (_i == 2) {
        struct buf in;
        buf_init(&in, BIG_LIMIT);
        put_fixture(&in, "haproxy-3.4/004-notify.hex");
        peer_send(h, buf_peek(&in), in.len / 2);
        ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_WANT_READ);
        buf_free(&in);
    }
    h_close_peer(h);
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_CLOSE);
    ck_assert_int_eq(h->c.end, SPOP_CONN_END_EOF);
    ck_assert_str_eq(spop_conn_end_str(h->c.end), "eof");
    ck_assert_int_eq(spop_conn_interest(&h->c), SPOP_CONN_CLOSE);
    ck_assert_int_eq(spop_conn_on_writable(&h->c), SPOP_CONN_CLOSE);
    ck_assert_uint_eq(h->seam.nsubmit, 0);
    h_free(h);
}
END_TEST

/* The peer closes with our AGENT-HELLO unread: a unix socket reports a reset. */
START_TEST(test_peer_close_unread)
{
    struct harness *h = h_new(HAPROXY_FRAME_SIZE);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_fixture(&in, "haproxy-3.4/002-haproxy-hello.hex");
    peer_send(h, buf_peek(&in), in.len);
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_WANT_READ);
    h_close_peer(h);
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_CLOSE);
    ck_assert(h->c.end == SPOP_CONN_END_RESET || h->c.end == SPOP_CONN_END_EOF);
    if (h->c.end == SPOP_CONN_END_RESET)
        ck_assert_int_eq(h->c.io_errno, ECONNRESET);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* The peer vanishes while ACKs wait in the agent's output: the write fails
 * with EPIPE or ECONNRESET, which is a reset, not an I/O error. */
START_TEST(test_peer_gone_while_writing)
{
    struct harness *h = h_new(HAPROXY_FRAME_SIZE);
    shrink_buffers(h->c.fd, h->peer);
    handshake(h);
    struct buf tx;
    buf_init(&tx, BIG_LIMIT);
    uint64_t sid = 0;
    int ret = 0;
    for (int round = 0; round < 1000 && h->c.out.len == 0; round++) {
        for (int k = 0; k < 64; k++)
            put_notify(&tx, ++sid, SPOP_FRM_FL_FIN);
        peer_push(h, &tx);
        ret = spop_conn_on_readable(&h->c);
    }
    ck_assert_uint_gt(h->c.out.len, 0);
    ck_assert(ret & SPOP_CONN_WANT_WRITE);
    h_close_peer(h);
    ck_assert_int_eq(spop_conn_on_writable(&h->c), SPOP_CONN_CLOSE);
    ck_assert_int_eq(h->c.end, SPOP_CONN_END_RESET);
    ck_assert(h->c.io_errno == EPIPE || h->c.io_errno == ECONNRESET);
    ck_assert_str_eq(spop_conn_end_str(h->c.end), "reset");
    buf_free(&tx);
    h_free(h);
}
END_TEST

/* A loopback TCP pair whose peer closes with SO_LINGER 0: an RST. */
START_TEST(test_peer_rst_tcp)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    socklen_t alen = sizeof(addr);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&addr, &alen), 0);
    int peer = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(peer, 0);
    ck_assert_int_eq(connect(peer, (struct sockaddr *)&addr, sizeof(addr)), 0);
    int agent = accept(lfd, NULL, NULL);
    ck_assert_int_ge(agent, 0);
    close(lfd);

    struct harness *h = h_wrap(agent, peer, HAPROXY_FRAME_SIZE);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_fixture(&in, "haproxy-3.4/002-haproxy-hello.hex");
    put_fixture(&in, "haproxy-3.4/003-notify.hex");
    peer_send(h, buf_peek(&in), in.len);
    ck_assert(wait_fd(agent, POLLIN));
    int ret = spop_conn_on_readable(&h->c);
    for (int i = 0; i < 100 && counter_get(&h->stats.ack) == 0; i++) {
        ck_assert(wait_fd(agent, POLLIN));
        ret = spop_conn_on_readable(&h->c);
    }
    ck_assert_int_eq(ret, SPOP_CONN_WANT_READ);
    ck_assert_uint_eq(counter_get(&h->stats.ack), 1);

    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    ck_assert_int_eq(setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    h_close_peer(h);
    ck_assert(wait_fd(agent, POLLIN));
    ck_assert_int_eq(spop_conn_on_readable(&h->c), SPOP_CONN_CLOSE);
    ck_assert(h->c.end == SPOP_CONN_END_RESET || h->c.end == SPOP_CONN_END_EOF);
    if (h->c.end == SPOP_CONN_END_RESET)
        ck_assert_int_eq(h->c.io_errno, ECONNRESET);
    ck_assert_int_eq(spop_conn_on_writable(&h->c), SPOP_CONN_CLOSE);
    buf_free(&in);
    h_free(h);
}
END_TEST

START_TEST(test_end_str)
{
    ck_assert_str_eq(spop_conn_end_str(SPOP_CONN_END_NONE), "none");
    ck_assert_str_eq(spop_conn_end_str(SPOP_CONN_END_EOF), "eof");
    ck_assert_str_eq(spop_conn_end_str(SPOP_CONN_END_RESET), "reset");
    ck_assert_str_eq(spop_conn_end_str(SPOP_CONN_END_PROTOCOL), "protocol");
    ck_assert_str_eq(spop_conn_end_str(SPOP_CONN_END_IO), "io_error");
    ck_assert_str_eq(spop_conn_end_str(SPOP_CONN_END_SHUTDOWN), "shutdown");
    ck_assert_str_eq(spop_conn_end_str(SPOP_CONN_END_TIMEOUT), "idle_timeout");
    ck_assert_str_eq(spop_conn_end_str((enum spop_conn_end)77), "unknown");
}
END_TEST

/* spop_conn_abort drops what is queued and asks to close; the close resets
 * the connection (SO_LINGER 0), so the peer gets no orderly EOF. */
START_TEST(test_abort)
{
    struct harness *h = h_new(HAPROXY_FRAME_SIZE);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_fixture(&in, "haproxy-3.4/002-haproxy-hello.hex");
    peer_send(h, buf_peek(&in), in.len);
    buf_free(&in);
    ck_assert(buf_append(&h->c.out, (const uint8_t *)"pending", 7));
    spop_conn_abort(&h->c, SPOP_CONN_END_TIMEOUT);
    ck_assert_uint_eq(h->c.out.len, 0);
    ck_assert_int_eq(h->c.end, SPOP_CONN_END_TIMEOUT);
    ck_assert_int_eq(spop_conn_interest(&h->c), SPOP_CONN_CLOSE);
    struct linger lg = {0};
    socklen_t len = sizeof(lg);
    ck_assert_int_eq(getsockopt(h->c.fd, SOL_SOCKET, SO_LINGER, &lg, &len), 0);
    ck_assert_int_eq(lg.l_onoff, 1);
    ck_assert_int_eq(lg.l_linger, 0);
    h_free(h);
}
END_TEST

Suite *conn_suite(void);

/* conn_suite: the Check suite for spop_conn.h. */
Suite *conn_suite(void)
{
    Suite *s = suite_create("conn");

    TCase *tc = tcase_create("flow");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_handshake_and_notify);
    tcase_add_test(tc, test_healthcheck);
    tcase_add_test(tc, test_pipelining);
    tcase_add_test(tc, test_deferred_dispatch);
    tcase_add_test(tc, test_partial_reads);
    tcase_add_test(tc, test_backpressure);
    tcase_add_test(tc, test_haproxy_disconnect);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_bad_input_on_wire, 0, (int)N_WIRE_CASES);
    suite_add_tcase(s, tc);

    tc = tcase_create("close");
    tcase_add_loop_test(tc, test_peer_eof, 0, 3);
    tcase_add_test(tc, test_peer_close_unread);
    tcase_add_test(tc, test_peer_gone_while_writing);
    tcase_add_test(tc, test_peer_rst_tcp);
    tcase_add_test(tc, test_end_str);
    tcase_add_test(tc, test_abort);
    suite_add_tcase(s, tc);
    return s;
}
