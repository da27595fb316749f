/* Unit tests for the SPOP session state machine (spop_session.h): the HELLO
 * handshake on captured HELLOs, NOTIFY -> ACK on captured NOTIFYs, pipelining
 * and the batch limit, the order of the seam's decide()/submit() calls relative
 * to the output, HAPROXY-DISCONNECT, and every bad input with its status code.
 * Replies are checked by decoding them with the codec, not byte by byte. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spop/agent_stats.h"
#include "core/buf.h"
#include "spop/spop_data.h"
#include "spop/spop_frame.h"
#include "spop/spop_notify.h"
#include "spop/spop_proto.h"
#include "spop/spop_session.h"
#include "test_util.h"

#define HAPROXY_FRAME_SIZE 16380u
#define BIG_LIMIT          (4u * 1024u * 1024u)
#define MAX_EVENTS         512
#define MAX_COPIES         64

/* ---- a seam that records its calls ---- */

struct seam_event {
    char kind; /* 'D' decide, 'S' submit */
    uint64_t sid, fid;
    size_t out_len; /* output bytes queued when the call was made */
    bool mirrored;
    uint32_t route;
};

struct rec_seam {
    const struct buf *out;
    bool in_feed;
    size_t ndecide, nsubmit, nevents;
    struct seam_event ev[MAX_EVENTS];
};

/* The handler's per-NOTIFY slot: what decide() concluded, for submit(). */
struct rec_slot {
    bool mirrored;
    uint32_t route;
    void *self; /* the slot's own address, to check it comes back unmoved */
};

static void rec_push(struct rec_seam *r, char kind, const struct spop_notify *n, const struct rec_slot *d)
{
    ck_assert_uint_lt(r->nevents, MAX_EVENTS);
    r->ev[r->nevents++] =
        (struct seam_event){kind, n->stream_id, n->frame_id, r->out->len, d->mirrored, d->route};
}

/* Odd stream-ids are mirrored, even ones are not, so both ACK values occur. */
static bool rec_decide(void *ctx, const struct spop_notify *n, void *slot)
{
    struct rec_seam *r = ctx;
    struct rec_slot *d = slot;
    ck_assert_msg(r->in_feed, "decide() outside spop_session_feed()");
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq((uintptr_t)d % _Alignof(struct rec_slot), 0);
    memset(d, 0, sizeof(*d));
    d->mirrored = (n->stream_id & 1) != 0;
    d->route = (uint32_t)r->ndecide;
    d->self = d;
    r->ndecide++;
    rec_push(r, 'D', n, d);
    return d->mirrored;
}

static void rec_submit(void *ctx, const struct spop_notify *n, void *slot)
{
    struct rec_seam *r = ctx;
    struct rec_slot *d = slot;
    ck_assert_msg(!r->in_feed, "submit() inside spop_session_feed()");
    /* The slot comes back as decide() left it. */
    ck_assert_ptr_eq(d->self, d);
    ck_assert_uint_eq(d->route, r->nsubmit);
    ck_assert(d->mirrored == ((n->stream_id & 1) != 0));
    r->nsubmit++;
    rec_push(r, 'S', n, d);
}

static const struct spop_notify_ops rec_ops = {.decide = rec_decide, .submit = rec_submit};

/* ---- a session with its buffers ---- */

struct harness {
    struct spop_session s;
    struct agent_stats stats;
    struct rec_seam seam;
    struct buf out;
    /* Guarded input copies the pending NOTIFYs still point into. */
    size_t ncopies;
    uint8_t *copy[MAX_COPIES];
    size_t copy_len[MAX_COPIES];
};

static struct harness *h_new(uint32_t ours, size_t out_limit)
{
    struct harness *h = calloc(1, sizeof(*h));
    ck_assert_ptr_nonnull(h);
    buf_init(&h->out, out_limit);
    h->seam.out = &h->out;
    struct spop_notify_handler handler = {
        .ops = &rec_ops, .ctx = &h->seam, .slot_size = sizeof(struct rec_slot), .ack_var = "mirrored"};
    spop_session_init(&h->s, ours, handler, &h->stats);
    return h;
}

static void h_release_copies(struct harness *h)
{
    for (size_t i = 0; i < h->ncopies; i++)
        guarded_free(h->copy[i], h->copy_len[i]);
    h->ncopies = 0;
}

/* Feeds a guarded copy of <len> bytes (any read past them faults). */
static size_t h_feed(struct harness *h, const uint8_t *p, size_t len)
{
    uint8_t *g = guarded_copy(p, len);
    h->seam.in_feed = true;
    size_t used = spop_session_feed(&h->s, g, len, &h->out);
    h->seam.in_feed = false;
    ck_assert_uint_le(used, len);
    if (h->s.npending == 0) {
        guarded_free(g, len);
    } else {
        ck_assert_uint_lt(h->ncopies, MAX_COPIES);
        h->copy[h->ncopies] = g;
        h->copy_len[h->ncopies++] = len;
    }
    return used;
}

static void h_dispatch(struct harness *h)
{
    spop_session_dispatch(&h->s);
    ck_assert_uint_eq(h->s.npending, 0);
    h_release_copies(h);
}

static void h_free(struct harness *h)
{
    spop_session_deinit(&h->s);
    h_release_copies(h);
    buf_free(&h->out);
    free(h);
}

/* ---- frames ---- */

/* Appends a whole frame to <v>. */
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

/* What a HAPROXY-HELLO carries; NULL strings and a negative size are absent keys. */
struct hello_spec {
    const char *versions;
    long max_frame;
    const char *caps;
    bool healthcheck;
};

static void put_hello(struct buf *v, const struct hello_spec *hs, uint32_t flags, uint64_t sid)
{
    uint8_t payload[512];
    struct spop_writer w;
    spop_writer_init(&w, payload, sizeof(payload));
    if (hs->versions) {
        spop_put_name(&w, "supported-versions", 18);
        spop_put_str(&w, hs->versions, strlen(hs->versions));
    }
    if (hs->max_frame >= 0) {
        spop_put_name(&w, "max-frame-size", 14);
        spop_put_uint(&w, (uint64_t)hs->max_frame);
    }
    if (hs->caps) {
        spop_put_name(&w, "capabilities", 12);
        spop_put_str(&w, hs->caps, strlen(hs->caps));
    }
    if (hs->healthcheck) {
        spop_put_name(&w, "healthcheck", 11);
        spop_put_bool(&w, true);
    }
    ck_assert(!w.failed);
    put_frame(v, SPOP_FRM_T_HAPROXY_HELLO, flags, sid, 0, payload, w.len);
}

static const struct hello_spec good_hello = {"2.0", HAPROXY_FRAME_SIZE, "pipelining", false};

/* The smallest NOTIFY payload: one `mirror` message without arguments. */
static const uint8_t tiny_messages[] = {6, 'm', 'i', 'r', 'r', 'o', 'r', 0};

static void put_notify(struct buf *v, uint64_t sid, uint64_t fid, uint32_t flags)
{
    put_frame(v, SPOP_FRM_T_HAPROXY_NOTIFY, flags, sid, fid, tiny_messages, sizeof(tiny_messages));
}

/* Loads a captured frame; *len receives its size. */
static uint8_t *load_fixture(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, name);
    uint8_t *p = NULL;
    long n = read_hex_file(path, &p);
    ck_assert_msg(n > 0, "cannot read %s", path);
    *len = (size_t)n;
    return p;
}

/* Appends a captured frame to <v>. */
static void put_fixture(struct buf *v, const char *name)
{
    size_t len;
    uint8_t *p = load_fixture(name, &len);
    ck_assert(buf_append(v, p, len));
    free(p);
}

/* ---- decoding the output ---- */

/* Decodes every frame of <out>: the output must be whole agent frames with FIN. */
static size_t out_frames(const struct buf *out, struct spop_frame *f, size_t max)
{
    size_t off = 0, n = 0;
    while (off < out->len) {
        ck_assert_uint_lt(n, max);
        ssize_t k = spop_frame_decode(buf_peek(out) + off, out->len - off, UINT32_MAX, &f[n]);
        ck_assert_msg(k > 0, "output frame %zu at %zu does not decode (%zd)", n, off, k);
        ck_assert_uint_eq(f[n].flags, SPOP_FRM_FL_FIN);
        ck_assert(f[n].type == SPOP_FRM_T_AGENT_HELLO || f[n].type == SPOP_FRM_T_AGENT_DISCON ||
                  f[n].type == SPOP_FRM_T_AGENT_ACK);
        off += (size_t)k;
        n++;
    }
    return n;
}

/* Looks <key> up in a KV-LIST payload that must decode whole and hold each key once. */
static bool kv_get(const struct spop_frame *f, const char *key, struct spop_data *val, size_t *nkeys)
{
    size_t off = 0, count = 0, hits = 0;
    while (off < f->payload_len) {
        struct spop_kv kv;
        ssize_t k = spop_kv_next(f->payload + off, f->payload_len - off, &kv);
        ck_assert_int_gt(k, 0);
        if (spop_bytes_eq(kv.name, key)) {
            *val = kv.value;
            hits++;
        }
        off += (size_t)k;
        count++;
    }
    ck_assert_uint_le(hits, 1);
    if (nkeys)
        *nkeys = count;
    return hits == 1;
}

static void assert_agent_hello(const struct spop_frame *f, uint32_t max_frame)
{
    ck_assert_uint_eq(f->type, SPOP_FRM_T_AGENT_HELLO);
    ck_assert_uint_eq(f->stream_id, 0);
    ck_assert_uint_eq(f->frame_id, 0);
    struct spop_data v;
    size_t nkeys;
    ck_assert(kv_get(f, "version", &v, &nkeys));
    ck_assert_uint_eq(nkeys, 3);
    ck_assert_uint_eq(v.type, SPOP_DATA_T_STR);
    ck_assert(spop_bytes_eq(v.u.bytes, "2.0"));
    ck_assert(kv_get(f, "max-frame-size", &v, NULL));
    uint64_t size;
    ck_assert(spop_data_as_uint(&v, &size));
    ck_assert_uint_eq(size, max_frame);
    ck_assert(kv_get(f, "capabilities", &v, NULL));
    ck_assert_uint_eq(v.type, SPOP_DATA_T_STR);
    ck_assert(spop_bytes_eq(v.u.bytes, "pipelining"));
}

static void assert_ack(const struct spop_frame *f, uint64_t sid, uint64_t fid, bool mirrored)
{
    ck_assert_uint_eq(f->type, SPOP_FRM_T_AGENT_ACK);
    ck_assert_uint_eq(f->stream_id, sid);
    ck_assert_uint_eq(f->frame_id, fid);
    struct spop_action a;
    ssize_t k = spop_action_next(f->payload, f->payload_len, &a);
    ck_assert_int_eq(k, (ssize_t)f->payload_len); /* exactly one action */
    ck_assert_uint_eq(a.type, SPOP_ACT_T_SET_VAR);
    ck_assert_uint_eq(a.scope, SPOP_SCOPE_TXN);
    ck_assert(spop_bytes_eq(a.name, "mirrored"));
    ck_assert_uint_eq(a.value.type, SPOP_DATA_T_BOOL);
    ck_assert(a.value.u.boolean == mirrored);
}

static void assert_disconnect(const struct spop_frame *f, int status)
{
    ck_assert_uint_eq(f->type, SPOP_FRM_T_AGENT_DISCON);
    ck_assert_uint_eq(f->stream_id, 0);
    ck_assert_uint_eq(f->frame_id, 0);
    struct spop_data v;
    size_t nkeys;
    ck_assert(kv_get(f, "status-code", &v, &nkeys));
    ck_assert_uint_eq(nkeys, 2);
    uint64_t code;
    ck_assert(spop_data_as_uint(&v, &code));
    ck_assert_uint_eq(code, (uint64_t)status);
    ck_assert(kv_get(f, "message", &v, NULL));
    ck_assert_uint_eq(v.type, SPOP_DATA_T_STR);
    if (status != 0)
        ck_assert(spop_bytes_eq(v.u.bytes, spop_error_str(status)));
}

/* Once closing, a session consumes and writes nothing more. */
static void assert_inert(struct harness *h)
{
    ck_assert(spop_session_closing(&h->s));
    struct buf more;
    buf_init(&more, BIG_LIMIT);
    put_hello(&more, &good_hello, SPOP_FRM_FL_FIN, 0);
    put_notify(&more, 1, 1, SPOP_FRM_FL_FIN);
    size_t before = h->out.len;
    size_t decided = h->seam.ndecide;
    ck_assert_uint_eq(h_feed(h, buf_peek(&more), more.len), 0);
    ck_assert_uint_eq(h->out.len, before);
    ck_assert_uint_eq(h->seam.ndecide, decided);
    spop_session_fail(&h->s, SPOP_ERR_TOUT, "late", &h->out);
    ck_assert_uint_eq(h->out.len, before);
    buf_free(&more);
}

/* ---- HELLO ---- */

static const char *const real_hellos[] = {
    "haproxy-2.6/002-haproxy-hello.hex",
    "haproxy-2.6/004-haproxy-hello.hex",
    "haproxy-3.4/002-haproxy-hello.hex",
};
#define N_REAL_HELLOS (sizeof(real_hellos) / sizeof(real_hellos[0]))
static const uint32_t our_sizes[] = {1000, HAPROXY_FRAME_SIZE, 65536};
#define N_OUR_SIZES (sizeof(our_sizes) / sizeof(our_sizes[0]))

START_TEST(test_real_hello)
{
    const char *name = real_hellos[(size_t)_i / N_OUR_SIZES];
    uint32_t ours = our_sizes[(size_t)_i % N_OUR_SIZES];
    uint32_t want = ours < HAPROXY_FRAME_SIZE ? ours : HAPROXY_FRAME_SIZE;
    struct harness *h = h_new(ours, BIG_LIMIT);
    ck_assert_str_eq(spop_session_state_str(h->s.state), "hello");
    size_t len;
    uint8_t *hello = load_fixture(name, &len);
    /* Every prefix is incomplete: nothing consumed, nothing written. */
    for (size_t cut = 0; cut < len; cut++) {
        ck_assert_uint_eq(h_feed(h, hello, cut), 0);
        ck_assert_uint_eq(h->out.len, 0);
    }
    ck_assert_uint_eq(h_feed(h, hello, len), len);
    struct spop_frame f[4];
    ck_assert_uint_eq(out_frames(&h->out, f, 4), 1);
    assert_agent_hello(&f[0], want);
    ck_assert_uint_eq(h->s.max_frame, want);
    ck_assert(!spop_session_closing(&h->s));
    ck_assert(!h->s.healthcheck);
    ck_assert_str_eq(spop_session_state_str(h->s.state), "ready");
    ck_assert_uint_eq(counter_get(&h->stats.hello), 1);
    ck_assert_uint_eq(counter_get(&h->stats.healthcheck), 0);
    free(hello);
    h_free(h);
}
END_TEST

START_TEST(test_healthcheck_hello)
{
    static const char *const names[] = {"haproxy-2.6/001-haproxy-hello-healthcheck.hex",
                                        "haproxy-3.4/001-haproxy-hello-healthcheck.hex"};
    struct harness *h = h_new(65536, BIG_LIMIT);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_fixture(&in, names[_i]);
    size_t hello_len = in.len;
    put_notify(&in, 1, 1, SPOP_FRM_FL_FIN); /* must be left alone */
    ck_assert_uint_eq(h_feed(h, buf_peek(&in), in.len), hello_len);
    struct spop_frame f[4];
    ck_assert_uint_eq(out_frames(&h->out, f, 4), 1);
    assert_agent_hello(&f[0], HAPROXY_FRAME_SIZE);
    ck_assert(h->s.healthcheck);
    ck_assert_ptr_null(h->s.slots); /* a health check never needs the handler's slots */
    ck_assert(spop_session_closing(&h->s));
    ck_assert_int_eq(h->s.error, -1);
    ck_assert_uint_eq(counter_get(&h->stats.healthcheck), 1);
    assert_inert(h);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* ---- NOTIFY -> ACK ---- */

struct notify_fixture {
    const char *hello;
    const char *notify;
    uint64_t sid;
};

static const struct notify_fixture real_notifies[] = {
    {"haproxy-2.6/002-haproxy-hello.hex", "haproxy-2.6/003-notify.hex", 0},
    {"haproxy-2.6/004-haproxy-hello.hex", "haproxy-2.6/005-notify.hex", 2},
    {"haproxy-2.6/004-haproxy-hello.hex", "haproxy-2.6/006-notify.hex", 4},
    {"haproxy-2.6/004-haproxy-hello.hex", "haproxy-2.6/007-notify.hex", 5},
    {"haproxy-2.6/004-haproxy-hello.hex", "haproxy-2.6/008-notify.hex", 6},
    {"haproxy-3.4/002-haproxy-hello.hex", "haproxy-3.4/003-notify.hex", 1},
    {"haproxy-3.4/002-haproxy-hello.hex", "haproxy-3.4/004-notify.hex", 3},
    {"haproxy-3.4/002-haproxy-hello.hex", "haproxy-3.4/005-notify.hex", 5},
    {"haproxy-3.4/002-haproxy-hello.hex", "haproxy-3.4/006-notify.hex", 7},
    {"haproxy-3.4/002-haproxy-hello.hex", "haproxy-3.4/007-notify.hex", 9},
};
#define N_REAL_NOTIFIES (sizeof(real_notifies) / sizeof(real_notifies[0]))

START_TEST(test_real_notify)
{
    const struct notify_fixture *nf = &real_notifies[_i];
    struct harness *h = h_new(HAPROXY_FRAME_SIZE, BIG_LIMIT);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_fixture(&in, nf->hello);
    size_t hello_len = in.len;
    put_fixture(&in, nf->notify);
    ck_assert_uint_eq(h_feed(h, buf_peek(&in), in.len), in.len);
    struct spop_frame f[4];
    ck_assert_uint_eq(out_frames(&h->out, f, 4), 2);
    assert_agent_hello(&f[0], HAPROXY_FRAME_SIZE);
    assert_ack(&f[1], nf->sid, 1, (nf->sid & 1) != 0);
    /* decide() ran once, before the ACK was encoded; submit() waits for dispatch. */
    ck_assert_uint_eq(h->seam.ndecide, 1);
    ck_assert_uint_eq(h->seam.nsubmit, 0);
    ck_assert_uint_eq(h->seam.ev[0].sid, nf->sid);
    ck_assert_uint_eq(h->seam.ev[0].fid, 1);
    ck_assert_uint_eq(h->seam.ev[0].out_len, 4 + (size_t)f[0].length);
    ck_assert_uint_eq(h->s.npending, 1);
    /* The pending NOTIFY's messages are the payload of the frame fed. */
    const struct spop_notify *pn = &h->s.pending[0];
    struct spop_frame nfr;
    ck_assert_int_eq(spop_frame_decode(h->copy[0] + hello_len, in.len - hello_len, HAPROXY_FRAME_SIZE, &nfr),
                     (ssize_t)(in.len - hello_len));
    ck_assert_ptr_eq(pn->messages, nfr.payload);
    ck_assert_uint_eq(pn->messages_len, nfr.payload_len);
    ck_assert_uint_eq(pn->stream_id, nf->sid);
    struct spop_message m;
    ck_assert(spop_notify_find_message(pn, "mirror", &m));
    ck_assert_uint_eq(m.nb_args, 9);
    h_dispatch(h);
    ck_assert_uint_eq(h->seam.nsubmit, 1);
    ck_assert_uint_eq(h->seam.ev[1].kind, 'S');
    ck_assert_uint_eq(h->seam.ev[1].sid, nf->sid);
    ck_assert_uint_eq(counter_get(&h->stats.notify), 1);
    ck_assert_uint_eq(counter_get(&h->stats.ack), 1);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* Offsets at which each output frame starts; returns the number of frames. */
static size_t out_offsets(const struct buf *out, struct spop_frame *f, size_t *off, size_t max)
{
    size_t n = out_frames(out, f, max);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        off[i] = at;
        at += 4 + (size_t)f[i].length;
    }
    return n;
}

/* A captured NOTIFY's payload, re-wrapped with other ids (caller frees *raw). */
static struct spop_frame captured_notify(const char *name, uint8_t **raw)
{
    size_t len;
    *raw = load_fixture(name, &len);
    struct spop_frame f;
    ck_assert_int_eq(spop_frame_decode(*raw, len, HAPROXY_FRAME_SIZE, &f), (ssize_t)len);
    return f;
}

START_TEST(test_pipelined_notifies)
{
    enum { N = 24 };
    struct harness *h = h_new(HAPROXY_FRAME_SIZE, BIG_LIMIT);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_fixture(&in, "haproxy-3.4/002-haproxy-hello.hex");
    uint8_t *raw;
    struct spop_frame nf = captured_notify("haproxy-3.4/004-notify.hex", &raw);
    uint64_t sid[N], fid[N];
    for (size_t i = 0; i < N; i++) {
        sid[i] = 1 + i * 299; /* odd, even, ...; multi-byte varints from i = 1 */
        fid[i] = 1 + i % 3;
        put_frame(&in, SPOP_FRM_T_HAPROXY_NOTIFY, SPOP_FRM_FL_FIN, sid[i], fid[i], nf.payload,
                  nf.payload_len);
    }
    ck_assert_uint_eq(h_feed(h, buf_peek(&in), in.len), in.len);

    static struct spop_frame f[N + 2];
    size_t off[N + 2];
    ck_assert_uint_eq(out_offsets(&h->out, f, off, N + 2), N + 1);
    assert_agent_hello(&f[0], HAPROXY_FRAME_SIZE);
    for (size_t i = 0; i < N; i++) {
        assert_ack(&f[1 + i], sid[i], fid[i], (sid[i] & 1) != 0);
        /* decide() for NOTIFY i ran when exactly the frames before ACK i were queued. */
        ck_assert_uint_eq(h->seam.ev[i].kind, 'D');
        ck_assert_uint_eq(h->seam.ev[i].sid, sid[i]);
        ck_assert_uint_eq(h->seam.ev[i].fid, fid[i]);
        ck_assert_uint_eq(h->seam.ev[i].out_len, off[1 + i]);
    }
    ck_assert_uint_eq(h->seam.nsubmit, 0);
    ck_assert_uint_eq(h->s.npending, N);

    h_dispatch(h);
    ck_assert_uint_eq(h->seam.nevents, 2 * N);
    for (size_t i = 0; i < N; i++) {
        const struct seam_event *e = &h->seam.ev[N + i];
        ck_assert_uint_eq(e->kind, 'S');
        ck_assert_uint_eq(e->sid, sid[i]);
        ck_assert_uint_eq(e->fid, fid[i]);
        ck_assert_uint_eq(e->out_len, h->out.len); /* every ACK was queued first */
    }
    ck_assert_uint_eq(counter_get(&h->stats.notify), N);
    ck_assert_uint_eq(counter_get(&h->stats.ack), N);
    free(raw);
    buf_free(&in);
    h_free(h);
}
END_TEST

START_TEST(test_batch_limit)
{
    enum { N = SPOP_SESSION_BATCH + 10 };
    struct harness *h = h_new(HAPROXY_FRAME_SIZE, BIG_LIMIT);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_hello(&in, &good_hello, SPOP_FRM_FL_FIN, 0);
    ck_assert_uint_eq(h_feed(h, buf_peek(&in), in.len), in.len);
    buf_consume(&in, in.len);
    buf_consume(&h->out, h->out.len);

    size_t end[N];
    for (size_t i = 0; i < N; i++) {
        put_notify(&in, 2 * i + 1, 1, SPOP_FRM_FL_FIN);
        end[i] = in.len;
    }
    size_t used = h_feed(h, buf_peek(&in), in.len);
    ck_assert_uint_eq(used, end[SPOP_SESSION_BATCH - 1]);
    ck_assert_uint_eq(h->seam.ndecide, SPOP_SESSION_BATCH);
    static struct spop_frame f[N + 1];
    ck_assert_uint_eq(out_frames(&h->out, f, N + 1), SPOP_SESSION_BATCH);

    /* A full batch takes nothing more until it is dispatched. */
    size_t out_before = h->out.len;
    ck_assert_uint_eq(h_feed(h, buf_peek(&in) + used, in.len - used), 0);
    ck_assert_uint_eq(h->out.len, out_before);
    h_dispatch(h);
    ck_assert_uint_eq(h->seam.nsubmit, SPOP_SESSION_BATCH);

    ck_assert_uint_eq(h_feed(h, buf_peek(&in) + used, in.len - used), in.len - used);
    h_dispatch(h);
    ck_assert_uint_eq(h->seam.nsubmit, N);
    ck_assert_uint_eq(out_frames(&h->out, f, N + 1), N);
    for (size_t i = 0; i < N; i++)
        assert_ack(&f[i], 2 * i + 1, 1, true);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* A handler without per-NOTIFY state gets NULL slots, and its own ACK variable. */
struct bare_seam {
    size_t ndecide, nsubmit;
};

static bool bare_decide(void *ctx, const struct spop_notify *n, void *slot)
{
    struct bare_seam *b = ctx;
    ck_assert_ptr_null(slot);
    b->ndecide++;
    return (n->frame_id & 1) == 0;
}

static void bare_submit(void *ctx, const struct spop_notify *n, void *slot)
{
    struct bare_seam *b = ctx;
    (void)n;
    ck_assert_ptr_null(slot);
    b->nsubmit++;
}

static const struct spop_notify_ops bare_ops = {.decide = bare_decide, .submit = bare_submit};

START_TEST(test_handler_without_slots)
{
    struct bare_seam b = {0};
    struct agent_stats stats;
    memset(&stats, 0, sizeof(stats));
    struct spop_session s;
    spop_session_init(&s, HAPROXY_FRAME_SIZE,
                      (struct spop_notify_handler){.ops = &bare_ops, .ctx = &b, .ack_var = "shadowed"},
                      &stats);
    struct buf in, out;
    buf_init(&in, BIG_LIMIT);
    buf_init(&out, BIG_LIMIT);
    put_hello(&in, &good_hello, SPOP_FRM_FL_FIN, 0);
    put_notify(&in, 1, 1, SPOP_FRM_FL_FIN);
    put_notify(&in, 3, 2, SPOP_FRM_FL_FIN);
    ck_assert_uint_eq(spop_session_feed(&s, buf_peek(&in), in.len, &out), in.len);
    ck_assert_ptr_null(s.slots);
    spop_session_dispatch(&s);
    ck_assert_uint_eq(b.ndecide, 2);
    ck_assert_uint_eq(b.nsubmit, 2);
    struct spop_frame f[4];
    ck_assert_uint_eq(out_frames(&out, f, 4), 3);
    for (size_t i = 1; i < 3; i++) {
        struct spop_action a;
        ck_assert_int_eq(spop_action_next(f[i].payload, f[i].payload_len, &a), (ssize_t)f[i].payload_len);
        ck_assert(spop_bytes_eq(a.name, "shadowed"));
        ck_assert(a.value.u.boolean == (f[i].frame_id == 2));
    }
    spop_session_deinit(&s);
    buf_free(&in);
    buf_free(&out);
}
END_TEST

/* A handler with an extra variable: its ACK carries a second SET-VAR (true)
 * only when extra() says so. */
static bool extra_every_third(void *ctx, const void *slot)
{
    struct bare_seam *b = ctx;
    (void)slot;
    return b->ndecide % 3 == 0;
}

static const struct spop_notify_ops extra_ops = {
    .decide = bare_decide, .submit = bare_submit, .extra = extra_every_third};

START_TEST(test_extra_variable)
{
    struct bare_seam b = {0};
    struct agent_stats stats;
    memset(&stats, 0, sizeof(stats));
    struct spop_session s;
    spop_session_init(&s, HAPROXY_FRAME_SIZE,
                      (struct spop_notify_handler){
                          .ops = &extra_ops, .ctx = &b, .ack_var = "mirrored", .extra_var = "compare"},
                      &stats);
    struct buf in, out;
    buf_init(&in, BIG_LIMIT);
    buf_init(&out, BIG_LIMIT);
    put_hello(&in, &good_hello, SPOP_FRM_FL_FIN, 0);
    for (uint64_t i = 1; i <= 6; i++)
        put_notify(&in, i, 1, SPOP_FRM_FL_FIN);
    ck_assert_uint_eq(spop_session_feed(&s, buf_peek(&in), in.len, &out), in.len);
    spop_session_dispatch(&s);
    struct spop_frame f[8];
    ck_assert_uint_eq(out_frames(&out, f, 8), 7);
    for (size_t i = 1; i < 7; i++) {
        struct spop_action a;
        ssize_t k = spop_action_next(f[i].payload, f[i].payload_len, &a);
        ck_assert_int_gt(k, 0);
        ck_assert(spop_bytes_eq(a.name, "mirrored"));
        if (i % 3 == 0) { /* ndecide was i when extra() ran */
            ck_assert_int_lt(k, (ssize_t)f[i].payload_len);
            ck_assert_int_eq(spop_action_next(f[i].payload + k, f[i].payload_len - (size_t)k, &a),
                             (ssize_t)f[i].payload_len - k);
            ck_assert(spop_bytes_eq(a.name, "compare"));
            ck_assert_uint_eq(a.value.type, SPOP_DATA_T_BOOL);
            ck_assert(a.value.u.boolean);
        } else {
            ck_assert_int_eq(k, (ssize_t)f[i].payload_len);
        }
    }
    spop_session_deinit(&s);
    buf_free(&in);
    buf_free(&out);
}
END_TEST

/* When the output reaches its limit, the NOTIFY left over is answered on a
 * later feed, once, and counted once. */
START_TEST(test_output_limit)
{
    enum { N = 20 };
    struct harness *h = h_new(HAPROXY_FRAME_SIZE, 600);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_hello(&in, &good_hello, SPOP_FRM_FL_FIN, 0);
    size_t hello_len = in.len;
    for (size_t i = 0; i < N; i++)
        put_notify(&in, 100 + i, 7, SPOP_FRM_FL_FIN);
    size_t notify_len = (in.len - hello_len) / N;

    size_t used = h_feed(h, buf_peek(&in), in.len);
    static struct spop_frame f[N + 2];
    size_t nframes = out_frames(&h->out, f, N + 2);
    ck_assert_uint_gt(nframes, 1);
    ck_assert_uint_lt(nframes, N + 1); /* the limit stopped the pass */
    ck_assert_uint_eq(used, hello_len + (nframes - 1) * notify_len);
    ck_assert_uint_eq(h->seam.ndecide, nframes - 1);

    size_t acks = nframes - 1;
    for (int pass = 0; pass < 2 * N && used < in.len; pass++) {
        /* What a socket write does: the queued replies leave. */
        buf_consume(&h->out, h->out.len);
        h_dispatch(h);
        size_t k = h_feed(h, buf_peek(&in) + used, in.len - used);
        ck_assert_uint_gt(k, 0);
        used += k;
        size_t n = out_frames(&h->out, f, N + 2);
        for (size_t i = 0; i < n; i++)
            assert_ack(&f[i], 100 + acks + i, 7, ((100 + acks + i) & 1) != 0);
        acks += n;
    }
    ck_assert_uint_eq(used, in.len);
    ck_assert_uint_eq(acks, N);
    ck_assert_uint_eq(h->seam.ndecide, N);
    ck_assert_uint_eq(counter_get(&h->stats.notify), N);
    ck_assert_uint_eq(counter_get(&h->stats.ack), N);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* Captured frames fed as they trickle in, one more byte each time: each reply
 * appears exactly when the last byte of its frame arrives. */
START_TEST(test_byte_by_byte)
{
    static const char *const names[] = {"haproxy-3.4/002-haproxy-hello.hex", "haproxy-3.4/003-notify.hex",
                                        "haproxy-3.4/004-notify.hex", "haproxy-3.4/006-notify.hex"};
    static const uint64_t sids[] = {1, 3, 7};
    struct harness *h = h_new(HAPROXY_FRAME_SIZE, BIG_LIMIT);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    size_t end[4];
    for (size_t i = 0; i < 4; i++) {
        put_fixture(&in, names[i]);
        end[i] = in.len;
    }
    size_t off = 0;
    struct spop_frame f[8];
    for (size_t avail = 0; avail <= in.len; avail++) {
        off += h_feed(h, buf_peek(&in) + off, avail - off);
        h_dispatch(h);
        size_t complete = 0;
        while (complete < 4 && end[complete] <= avail)
            complete++;
        ck_assert_uint_eq(out_frames(&h->out, f, 8), complete);
        ck_assert_uint_eq(off, complete ? end[complete - 1] : 0);
    }
    assert_agent_hello(&f[0], HAPROXY_FRAME_SIZE);
    for (size_t i = 0; i < 3; i++)
        assert_ack(&f[1 + i], sids[i], 1, true);
    ck_assert_uint_eq(h->seam.nsubmit, 3);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* ---- DISCONNECT ---- */

static void put_haproxy_disconnect(struct buf *v, uint32_t status, const char *message)
{
    uint8_t payload[256];
    struct spop_writer w;
    spop_writer_init(&w, payload, sizeof(payload));
    spop_put_name(&w, "status-code", 11);
    spop_put_uint(&w, status);
    spop_put_name(&w, "message", 7);
    spop_put_str(&w, message, strlen(message));
    put_frame(v, SPOP_FRM_T_HAPROXY_DISCON, SPOP_FRM_FL_FIN, 0, 0, payload, w.len);
}

struct disconnect_case {
    bool hello_first;
    uint32_t status;
    size_t out_limit;
};

static const struct disconnect_case disconnect_cases[] = {
    {true, 0, BIG_LIMIT},
    {true, SPOP_ERR_TOUT, BIG_LIMIT},
    {false, 0, BIG_LIMIT},
    {true, SPOP_ERR_UNKNOWN, BIG_LIMIT},
    /* After the AGENT-HELLO the output has no room for another reply. */
    {true, 0, 300},
};
#define N_DISCONNECT_CASES (sizeof(disconnect_cases) / sizeof(disconnect_cases[0]))

START_TEST(test_haproxy_disconnect)
{
    const struct disconnect_case *c = &disconnect_cases[_i];
    struct harness *h = h_new(HAPROXY_FRAME_SIZE, c->out_limit);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    if (c->hello_first)
        put_hello(&in, &good_hello, SPOP_FRM_FL_FIN, 0);
    put_haproxy_disconnect(&in, c->status, c->status ? spop_error_str((int)c->status) : "");
    size_t disc_end = in.len;
    put_notify(&in, 1, 1, SPOP_FRM_FL_FIN);
    ck_assert_uint_eq(h_feed(h, buf_peek(&in), in.len), disc_end);
    struct spop_frame f[4];
    size_t n = out_frames(&h->out, f, 4);
    ck_assert_uint_eq(n, c->hello_first ? 2 : 1);
    if (c->hello_first)
        assert_agent_hello(&f[0], HAPROXY_FRAME_SIZE);
    assert_disconnect(&f[n - 1], 0);
    ck_assert_int_eq(h->s.peer_status, (int)c->status);
    ck_assert_int_eq(h->s.error, -1);
    ck_assert_uint_eq(counter_get(&h->stats.haproxy_disconnect), 1);
    ck_assert_uint_eq(counter_get(&h->stats.error_received[agent_stats_status_slot((int)c->status)]),
                      c->status ? 1 : 0);
    ck_assert_str_eq(spop_session_state_str(h->s.state), "closing");
    assert_inert(h);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* ---- bad input ---- */

static void put_hex(struct buf *v, const char *hex)
{
    uint8_t *p = NULL;
    long n = hex_decode(hex, &p);
    ck_assert_int_ge(n, 0);
    ck_assert(buf_append(v, p, (size_t)n));
    free(p);
}

static void bad_length_1001(struct buf *v)
{
    put_hex(v, "000003e9"); /* only the length: 1001 > 1000 */
}
static void bad_length_16381(struct buf *v)
{
    put_hex(v, "00003ffd"); /* only the length: 16381 > 16380 */
}
static void bad_captured_big_notify(struct buf *v)
{
    size_t len;
    uint8_t *p = load_fixture("haproxy-3.4/005-notify.hex", &len);
    ck_assert(buf_append(v, p, 4)); /* 15388 announced, the body never sent */
    free(p);
}
static void bad_length_6(struct buf *v)
{
    put_hex(v, "00000006");
}
static void bad_length_0(struct buf *v)
{
    put_hex(v, "00000000");
}
static void bad_sid_past_end(struct buf *v)
{
    put_hex(v, "00000007 03 00000001 f0f0");
}
static void bad_fid_past_end(struct buf *v)
{
    put_hex(v, "00000007 03 00000001 01 f0");
}
static void bad_notify(struct buf *v)
{
    put_notify(v, 1, 1, SPOP_FRM_FL_FIN);
}
static void bad_notify_no_fin(struct buf *v)
{
    put_notify(v, 1, 1, 0);
}
static void bad_notify_abort_no_fin(struct buf *v)
{
    put_notify(v, 1, 1, SPOP_FRM_FL_ABORT);
}
static void bad_hello_twice(struct buf *v)
{
    put_hello(v, &good_hello, SPOP_FRM_FL_FIN, 0);
}
static void bad_hello_version_1(struct buf *v)
{
    put_hello(v, &(struct hello_spec){"1.0", HAPROXY_FRAME_SIZE, "pipelining", false}, SPOP_FRM_FL_FIN, 0);
}
static void bad_hello_version_3(struct buf *v)
{
    put_hello(v, &(struct hello_spec){"3.0, 1.5", HAPROXY_FRAME_SIZE, "", false}, SPOP_FRM_FL_FIN, 0);
}
static void bad_hello_version_no_dot(struct buf *v)
{
    put_hello(v, &(struct hello_spec){"2", HAPROXY_FRAME_SIZE, "", false}, SPOP_FRM_FL_FIN, 0);
}
static void bad_hello_no_size(struct buf *v)
{
    put_hello(v, &(struct hello_spec){"2.0", -1, "pipelining", false}, SPOP_FRM_FL_FIN, 0);
}
static void bad_hello_no_version(struct buf *v)
{
    put_hello(v, &(struct hello_spec){NULL, HAPROXY_FRAME_SIZE, "pipelining", false}, SPOP_FRM_FL_FIN, 0);
}
static void bad_hello_no_caps(struct buf *v)
{
    put_hello(v, &(struct hello_spec){"2.0", HAPROXY_FRAME_SIZE, NULL, false}, SPOP_FRM_FL_FIN, 0);
}
static void bad_hello_small_size(struct buf *v)
{
    put_hello(v, &(struct hello_spec){"2.0", 255, "pipelining", false}, SPOP_FRM_FL_FIN, 0);
}
static void bad_hello_no_fin(struct buf *v)
{
    put_hello(v, &good_hello, 0, 0);
}
static void bad_hello_stream_id(struct buf *v)
{
    put_hello(v, &good_hello, SPOP_FRM_FL_FIN, 1);
}
static void bad_hello_version_int(struct buf *v)
{
    /* supported-versions as an integer, then the other keys */
    put_hex(v, "0000003d 01 00000001 00 00"
               " 12 737570706f727465642d76657273696f6e73 03 02"
               " 0e 6d61782d6672616d652d73697a65 03 fcf006"
               " 0c 6361706162696c6974696573 08 00");
}
static void bad_hello_kv_truncated(struct buf *v)
{
    /* the name announces 0x20 bytes, the payload ends first */
    put_hex(v, "0000000b 01 00000001 00 00 20 61 62 63");
}
static void bad_unset_frame(struct buf *v)
{
    put_frame(v, SPOP_FRM_T_UNSET, SPOP_FRM_FL_FIN, 1, 1, tiny_messages, sizeof(tiny_messages));
}
static void bad_agent_hello(struct buf *v)
{
    uint8_t out[128];
    ssize_t n = spop_encode_agent_hello(out, sizeof(out), HAPROXY_FRAME_SIZE, "pipelining");
    ck_assert_int_gt(n, 0);
    ck_assert(buf_append(v, out, (size_t)n));
}
static void bad_agent_disconnect(struct buf *v)
{
    uint8_t out[128];
    ssize_t n = spop_encode_agent_disconnect(out, sizeof(out), 0, "");
    ck_assert_int_gt(n, 0);
    ck_assert(buf_append(v, out, (size_t)n));
}
static void bad_ack(struct buf *v)
{
    uint8_t out[128];
    struct spop_action a = {
        .type = SPOP_ACT_T_UNSET_VAR, .scope = SPOP_SCOPE_TXN, .name = {(const uint8_t *)"x", 1}};
    ssize_t n = spop_encode_ack(out, sizeof(out), 1, 1, &a, 1);
    ck_assert_int_gt(n, 0);
    ck_assert(buf_append(v, out, (size_t)n));
}
static void bad_notify_missing_arg(struct buf *v)
{
    /* `mirror` announces 2 arguments and carries 1 */
    static const uint8_t msg[] = {6, 'm', 'i', 'r', 'r', 'o', 'r', 2, 1, 'a', SPOP_DATA_T_NULL};
    put_frame(v, SPOP_FRM_T_HAPROXY_NOTIFY, SPOP_FRM_FL_FIN, 1, 1, msg, sizeof(msg));
}
static void bad_notify_name_past_end(struct buf *v)
{
    static const uint8_t msg[] = {10, 'm', 'i', 'r'};
    put_frame(v, SPOP_FRM_T_HAPROXY_NOTIFY, SPOP_FRM_FL_FIN, 1, 1, msg, sizeof(msg));
}
static void bad_notify_second_message(struct buf *v)
{
    /* a good message, then one whose argument has an unknown type (0x0a) */
    static const uint8_t msg[] = {6, 'm', 'i', 'r', 'r', 'o', 'r', 0, 3, 'l', 'o', 'g', 1, 1, 'k', 0x0a, 0};
    put_frame(v, SPOP_FRM_T_HAPROXY_NOTIFY, SPOP_FRM_FL_FIN, 1, 1, msg, sizeof(msg));
}
static void bad_unknown_type(struct buf *v)
{
    put_frame(v, 50, SPOP_FRM_FL_FIN, 0, 0, NULL, 0);
}

struct error_case {
    const char *label;
    uint32_t ours;
    bool hello_first;
    void (*build)(struct buf *v);
    int status;
};

static const struct error_case error_cases[] = {
    {"too big after HELLO, length only", 1000, true, bad_length_1001, SPOP_ERR_TOO_BIG},
    {"too big before HELLO, length only", 1000, false, bad_length_1001, SPOP_ERR_TOO_BIG},
    {"too big for HAProxy's size", 65536, true, bad_length_16381, SPOP_ERR_TOO_BIG},
    {"captured 15388-byte NOTIFY over 1000", 1000, true, bad_captured_big_notify, SPOP_ERR_TOO_BIG},
    {"length below the header", 16380, true, bad_length_6, SPOP_ERR_INVALID},
    {"length 0", 16380, false, bad_length_0, SPOP_ERR_INVALID},
    {"stream-id past the frame", 16380, true, bad_sid_past_end, SPOP_ERR_INVALID},
    {"frame-id past the frame", 16380, true, bad_fid_past_end, SPOP_ERR_INVALID},
    {"NOTIFY before HELLO", 16380, false, bad_notify, SPOP_ERR_INVALID},
    {"HELLO twice", 16380, true, bad_hello_twice, SPOP_ERR_INVALID},
    {"HELLO version 1.0", 16380, false, bad_hello_version_1, SPOP_ERR_BAD_VSN},
    {"HELLO versions 3.0, 1.5", 16380, false, bad_hello_version_3, SPOP_ERR_BAD_VSN},
    {"HELLO version without minor", 16380, false, bad_hello_version_no_dot, SPOP_ERR_BAD_VSN},
    {"HELLO without max-frame-size", 16380, false, bad_hello_no_size, SPOP_ERR_NO_FRAME_SIZE},
    {"HELLO without version", 16380, false, bad_hello_no_version, SPOP_ERR_NO_VSN},
    {"HELLO without capabilities", 16380, false, bad_hello_no_caps, SPOP_ERR_NO_CAP},
    {"HELLO max-frame-size 255", 16380, false, bad_hello_small_size, SPOP_ERR_BAD_FRAME_SIZE},
    {"HELLO without FIN", 16380, false, bad_hello_no_fin, SPOP_ERR_FRAG_NOT_SUPPORTED},
    {"HELLO with a stream-id", 16380, false, bad_hello_stream_id, SPOP_ERR_INVALID},
    {"HELLO version as an integer", 16380, false, bad_hello_version_int, SPOP_ERR_INVALID},
    {"HELLO KV-LIST truncated", 16380, false, bad_hello_kv_truncated, SPOP_ERR_INVALID},
    {"NOTIFY without FIN", 16380, true, bad_notify_no_fin, SPOP_ERR_FRAG_NOT_SUPPORTED},
    {"NOTIFY with ABORT but no FIN", 16380, true, bad_notify_abort_no_fin, SPOP_ERR_FRAG_NOT_SUPPORTED},
    {"type-0 frame after HELLO", 16380, true, bad_unset_frame, SPOP_ERR_FRAG_NOT_SUPPORTED},
    {"type-0 frame before HELLO", 16380, false, bad_unset_frame, SPOP_ERR_FRAG_NOT_SUPPORTED},
    {"AGENT-HELLO from the peer", 16380, true, bad_agent_hello, SPOP_ERR_INVALID},
    {"AGENT-HELLO before HELLO", 16380, false, bad_agent_hello, SPOP_ERR_INVALID},
    {"AGENT-DISCONNECT from the peer", 16380, true, bad_agent_disconnect, SPOP_ERR_INVALID},
    {"ACK from the peer", 16380, true, bad_ack, SPOP_ERR_INVALID},
    {"NOTIFY missing an argument", 16380, true, bad_notify_missing_arg, SPOP_ERR_INVALID},
    {"NOTIFY message name past the end", 16380, true, bad_notify_name_past_end, SPOP_ERR_INVALID},
    {"NOTIFY second message malformed", 16380, true, bad_notify_second_message, SPOP_ERR_INVALID},
    {"unknown type before HELLO", 16380, false, bad_unknown_type, SPOP_ERR_INVALID},
};
#define N_ERROR_CASES (sizeof(error_cases) / sizeof(error_cases[0]))

START_TEST(test_bad_input)
{
    const struct error_case *c = &error_cases[_i];
    struct harness *h = h_new(c->ours, BIG_LIMIT);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    size_t hello_len = 0;
    if (c->hello_first) {
        put_hello(&in, &good_hello, SPOP_FRM_FL_FIN, 0);
        hello_len = in.len;
    }
    c->build(&in);
    size_t used = h_feed(h, buf_peek(&in), in.len);
    ck_assert_msg(used >= hello_len, "%s: consumed %zu", c->label, used);
    struct spop_frame f[4];
    size_t n = out_frames(&h->out, f, 4);
    ck_assert_msg(n == (c->hello_first ? 2u : 1u), "%s: %zu frames", c->label, n);
    if (c->hello_first)
        assert_agent_hello(&f[0], c->ours < HAPROXY_FRAME_SIZE ? c->ours : HAPROXY_FRAME_SIZE);
    assert_disconnect(&f[n - 1], c->status);
    ck_assert_msg(h->s.error == c->status, "%s: status %d", c->label, h->s.error);
    ck_assert_ptr_nonnull(h->s.error_detail);
    ck_assert_uint_eq(counter_get(&h->stats.error_sent[agent_stats_status_slot(c->status)]), 1);
    ck_assert_uint_eq(h->seam.ndecide, 0);
    ck_assert_uint_eq(counter_get(&h->stats.ack), 0);
    assert_inert(h);
    h_dispatch(h);
    ck_assert_uint_eq(h->seam.nsubmit, 0);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* A length equal to the limit is no error: the session waits for the body. */
START_TEST(test_length_at_limit)
{
    struct harness *h = h_new(1000, BIG_LIMIT);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_hello(&in, &good_hello, SPOP_FRM_FL_FIN, 0);
    size_t hello_len = in.len;
    put_hex(&in, "000003e8 03 00000001 01 01");
    ck_assert_uint_eq(h_feed(h, buf_peek(&in), in.len), hello_len);
    ck_assert(!spop_session_closing(&h->s));
    struct spop_frame f[2];
    ck_assert_uint_eq(out_frames(&h->out, f, 2), 1);
    buf_free(&in);
    h_free(h);
}
END_TEST

START_TEST(test_unknown_frame_ignored)
{
    struct harness *h = h_new(HAPROXY_FRAME_SIZE, BIG_LIMIT);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_hello(&in, &good_hello, SPOP_FRM_FL_FIN, 0);
    put_frame(&in, 50, SPOP_FRM_FL_FIN, 3, 1, tiny_messages, sizeof(tiny_messages));
    put_frame(&in, 255, 0, 0, 0, (const uint8_t *)"\xff\xff", 2); /* no FIN, garbage payload */
    put_frame(&in, 4, SPOP_FRM_FL_FIN, 0, 0, NULL, 0);
    put_notify(&in, 5, 2, SPOP_FRM_FL_FIN);
    ck_assert_uint_eq(h_feed(h, buf_peek(&in), in.len), in.len);
    struct spop_frame f[4];
    ck_assert_uint_eq(out_frames(&h->out, f, 4), 2);
    assert_ack(&f[1], 5, 2, true);
    ck_assert_uint_eq(counter_get(&h->stats.frame_unknown), 3);
    ck_assert(!spop_session_closing(&h->s));
    h_dispatch(h);
    buf_free(&in);
    h_free(h);
}
END_TEST

START_TEST(test_abort_not_acked)
{
    struct harness *h = h_new(HAPROXY_FRAME_SIZE, BIG_LIMIT);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_hello(&in, &good_hello, SPOP_FRM_FL_FIN, 0);
    put_notify(&in, 3, 1, SPOP_FRM_FL_FIN | SPOP_FRM_FL_ABORT);
    put_notify(&in, 5, 1, SPOP_FRM_FL_FIN);
    put_notify(&in, 6, 1, SPOP_FRM_FL_FIN | SPOP_FRM_FL_ABORT);
    ck_assert_uint_eq(h_feed(h, buf_peek(&in), in.len), in.len);
    struct spop_frame f[4];
    ck_assert_uint_eq(out_frames(&h->out, f, 4), 2);
    assert_ack(&f[1], 5, 1, true);
    ck_assert_uint_eq(h->seam.ndecide, 1);
    ck_assert_uint_eq(counter_get(&h->stats.notify_aborted), 2);
    ck_assert_uint_eq(counter_get(&h->stats.notify), 3);
    ck_assert_uint_eq(counter_get(&h->stats.ack), 1);
    h_dispatch(h);
    ck_assert_uint_eq(h->seam.nsubmit, 1);
    buf_free(&in);
    h_free(h);
}
END_TEST

/* ---- spop_session_fail and the small helpers ---- */

START_TEST(test_fail)
{
    /* A limit with room for the AGENT-HELLO but not for a second reply. */
    size_t limit = _i == 0 ? BIG_LIMIT : 300;
    struct harness *h = h_new(HAPROXY_FRAME_SIZE, limit);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_hello(&in, &good_hello, SPOP_FRM_FL_FIN, 0);
    ck_assert_uint_eq(h_feed(h, buf_peek(&in), in.len), in.len);
    spop_session_fail(&h->s, SPOP_ERR_TOUT, "idle", &h->out);
    struct spop_frame f[4];
    ck_assert_uint_eq(out_frames(&h->out, f, 4), 2);
    assert_disconnect(&f[1], SPOP_ERR_TOUT);
    ck_assert_int_eq(h->s.error, SPOP_ERR_TOUT);
    ck_assert_str_eq(h->s.error_detail, "idle");
    ck_assert_uint_eq(counter_get(&h->stats.error_sent[SPOP_ERR_TOUT]), 1);
    assert_inert(h);
    ck_assert_uint_eq(counter_get(&h->stats.error_sent[SPOP_ERR_TOUT]), 1);
    buf_free(&in);
    h_free(h);
}
END_TEST

START_TEST(test_small_configured_size)
{
    /* A configured size below the SPOP minimum is raised to it. */
    struct harness *h = h_new(100, BIG_LIMIT);
    ck_assert_uint_eq(h->s.our_max_frame, SPOP_MIN_FRAME_SIZE);
    struct buf in;
    buf_init(&in, BIG_LIMIT);
    put_fixture(&in, "haproxy-3.4/002-haproxy-hello.hex");
    ck_assert_uint_eq(h_feed(h, buf_peek(&in), in.len), in.len);
    struct spop_frame f[2];
    ck_assert_uint_eq(out_frames(&h->out, f, 2), 1);
    assert_agent_hello(&f[0], SPOP_MIN_FRAME_SIZE);
    buf_free(&in);
    h_free(h);
}
END_TEST

START_TEST(test_state_str)
{
    ck_assert_str_eq(spop_session_state_str(SPOP_SESS_ST_HELLO), "hello");
    ck_assert_str_eq(spop_session_state_str(SPOP_SESS_ST_READY), "ready");
    ck_assert_str_eq(spop_session_state_str(SPOP_SESS_ST_CLOSING), "closing");
    ck_assert_str_eq(spop_session_state_str(SPOP_SESS_ST_ENTRIES), "unknown");
}
END_TEST

Suite *session_suite(void);

/* session_suite: the Check suite for spop_session.h. */
Suite *session_suite(void)
{
    Suite *s = suite_create("session");

    TCase *tc = tcase_create("hello");
    tcase_add_loop_test(tc, test_real_hello, 0, (int)(N_REAL_HELLOS * N_OUR_SIZES));
    tcase_add_loop_test(tc, test_healthcheck_hello, 0, 2);
    tcase_add_test(tc, test_small_configured_size);
    suite_add_tcase(s, tc);

    tc = tcase_create("notify");
    tcase_add_loop_test(tc, test_real_notify, 0, (int)N_REAL_NOTIFIES);
    tcase_add_test(tc, test_pipelined_notifies);
    tcase_add_test(tc, test_batch_limit);
    tcase_add_test(tc, test_handler_without_slots);
    tcase_add_test(tc, test_extra_variable);
    tcase_add_test(tc, test_output_limit);
    tcase_add_test(tc, test_byte_by_byte);
    tcase_add_test(tc, test_unknown_frame_ignored);
    tcase_add_test(tc, test_abort_not_acked);
    suite_add_tcase(s, tc);

    tc = tcase_create("disconnect");
    tcase_add_loop_test(tc, test_haproxy_disconnect, 0, (int)N_DISCONNECT_CASES);
    tcase_add_loop_test(tc, test_bad_input, 0, (int)N_ERROR_CASES);
    tcase_add_test(tc, test_length_at_limit);
    tcase_add_loop_test(tc, test_fail, 0, 2);
    tcase_add_test(tc, test_state_str);
    suite_add_tcase(s, tc);
    return s;
}
