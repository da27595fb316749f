/* libFuzzer target: the SPOP session state machine (spop_session.h).
 *
 * Input layout: <cfg> <ncuts> <ncuts x 2-byte cut> <stream>.
 * - cfg bits 0-1: our max-frame-size (16380, 1000, 65536, 256); bits 2-3: the
 *   output buffer's limit (1 MiB, 256, 300, 1024); bit 4: end with
 *   spop_session_fail(TIMEOUT), as the I/O layer does on an idle timeout.
 * - ncuts (mod 16) big-endian offsets (mod the stream length + 1): the points
 *   where the stream "arrives", as a socket would split it.
 * - stream: the bytes HAProxy sends on one connection. A seed is 00 00
 *   followed by captured frames (a HELLO, then NOTIFYs).
 *
 * The driver plays the connection: at each arrival it feeds the unconsumed
 * bytes (copied to their own heap block, so ASan sees any read past them),
 * checks the replies, drains them as a socket write would, then dispatches.
 * The notify handler runs mirror_args_extract() on each NOTIFY's `mirror`
 * message (body_part_args_extract() on a body slice message when there is
 * none) and keeps what it found in its per-NOTIFY slot.
 *
 * Every property is asserted with abort():
 * - feed consumes at most what it was given; once closing, it consumes and
 *   writes nothing more, and spop_session_fail() writes nothing either;
 * - the output is whole agent frames (type 101/102/103, flags FIN exactly);
 * - at most one AGENT-HELLO, and it is the first frame; it says version 2.0,
 *   max-frame-size within [256, ours] and capabilities "pipelining";
 * - an AGENT-DISCONNECT is the last frame, carries the session's status (0
 *   when answering HAPROXY-DISCONNECT), and the session is closing; a
 *   closing session's last frame is that DISCONNECT or a health check's HELLO;
 * - ACKs follow the HELLO; each echoes the sid/fid of the decide() call made
 *   for it, in order, with one set-var txn "mirrored" equal to the decision;
 * - ACKs == decide() calls, all submitted by spop_session_dispatch() (never
 *   inside feed), in the same order, with the NOTIFY still readable and the
 *   slot as decide() left it;
 * - NOTIFY views lie inside the block being fed; messages are validated;
 *   extracted arguments lie inside their message; a body slice's id and
 *   part are never empty. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spop/agent_stats.h"
#include "core/buf.h"
#include "mirror/mirror_args.h"
#include "spop/spop_data.h"
#include "spop/spop_frame.h"
#include "spop/spop_notify.h"
#include "spop/spop_proto.h"
#include "spop/spop_session.h"
#include "fuzz_check.h"

#define MAX_CUTS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t our_sizes[4] = {16380, 1000, 65536, 256};
static const size_t out_limits[4] = {1u << 20, 256, 300, 1024};

/* What decide() said for one NOTIFY of the current feed. */
struct expect {
    uint64_t sid, fid;
    bool mirrored;
};

/* The handler's per-NOTIFY slot. */
struct fuzz_slot {
    bool mirrored;
    bool has_args;
    struct mirror_args args;
    uint32_t route;
};

struct fuzz_seam {
    const uint8_t *block; /* the bytes being fed */
    size_t block_len;
    bool in_feed;
    size_t ndecide; /* in this feed */
    size_t nsubmit; /* in this dispatch */
    uint64_t total_decide, total_submit;
    struct expect exp[SPOP_SESSION_BATCH];
};

/* Connection-wide facts about the replies seen so far. */
struct reply_state {
    size_t frames, hellos, acks, disconnects;
    uint8_t last_type;
};

static struct spop_session session;

static bool within(const uint8_t *p, size_t len, const uint8_t *base, size_t base_len)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;
    return a >= b && a - b <= base_len && len <= base_len - (a - b);
}

/* Walks a validated LIST-OF-MESSAGES: it must decode to its end. */
static void check_messages(const struct spop_notify *n)
{
    size_t off = 0;
    for (size_t steps = 0; steps <= n->messages_len && off < n->messages_len; steps++) {
        struct spop_message m;
        ssize_t k = spop_message_next(n->messages + off, n->messages_len - off, &m);
        CHECK(k > 0);
        off += (size_t)k;
    }
    CHECK(off == n->messages_len);
}

static void check_args(const struct spop_message *m, const struct mirror_args *a)
{
    const struct spop_bytes *views[] = {&a->method, &a->path, &a->host,  &a->ver,
                                        &a->hdrs,   &a->body, &a->route, &a->id};
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        if (views[i]->len)
            CHECK(within(views[i]->ptr, views[i]->len, m->args, m->args_len));
    CHECK(a->method.ptr && a->path.ptr && a->host.ptr && a->ver.ptr && a->hdrs.ptr && a->body.ptr);
    CHECK(hdrs_bin_count(a->hdrs) >= 0);
    CHECK(a->src.type == SPOP_DATA_T_NULL || a->src.type == SPOP_DATA_T_IPV4 ||
          a->src.type == SPOP_DATA_T_IPV6 || a->src.type == SPOP_DATA_T_STR);
}

/* A body slice message: its arguments, when usable, lie inside it. */
static void check_part(const struct spop_message *m)
{
    struct body_part_args a;
    const char *bad = NULL;
    enum mirror_args_status st = body_part_args_extract(m, &a, &bad);
    if (st != MIRROR_ARGS_OK) {
        CHECK(bad != NULL);
        CHECK(st == MIRROR_ARGS_MISSING || st == MIRROR_ARGS_WRONG_TYPE);
        return;
    }
    CHECK(a.id.len > 0 && within(a.id.ptr, a.id.len, m->args, m->args_len));
    CHECK(a.part.len > 0 && within(a.part.ptr, a.part.len, m->args, m->args_len));
}

static bool seam_decide(void *ctx, const struct spop_notify *n, void *slot)
{
    struct fuzz_seam *fs = ctx;
    struct fuzz_slot *d = slot;
    CHECK(d != NULL);
    CHECK(fs->in_feed);
    CHECK(fs->ndecide < SPOP_SESSION_BATCH);
    CHECK(within(n->messages, n->messages_len, fs->block, fs->block_len));
    check_messages(n);
    memset(d, 0, sizeof(*d));
    struct spop_message m;
    bool ok = false;
    if (spop_notify_find_message(n, MIRROR_MESSAGE_NAME, &m)) {
        CHECK(spop_bytes_eq(m.name, MIRROR_MESSAGE_NAME));
        const char *bad = NULL;
        enum mirror_args_status st = mirror_args_extract(&m, &d->args, &bad);
        if (st == MIRROR_ARGS_OK) {
            check_args(&m, &d->args);
            ok = true;
        } else {
            CHECK(bad != NULL);
            CHECK(st == MIRROR_ARGS_MISSING || st == MIRROR_ARGS_WRONG_TYPE || st == MIRROR_ARGS_BAD_HEADERS);
            CHECK(strcmp(mirror_args_status_str(st), "unknown") != 0);
        }
    } else if (spop_notify_find_message(n, BODY_PART_MESSAGE_NAME, &m) ||
               spop_notify_find_message(n, BODY_PART_LAST_MESSAGE_NAME, &m)) {
        check_part(&m);
    }
    d->has_args = ok;
    d->mirrored = ok != ((n->frame_id & 1) != 0);
    d->route = (uint32_t)fs->ndecide;
    fs->exp[fs->ndecide++] = (struct expect){n->stream_id, n->frame_id, d->mirrored};
    fs->total_decide++;
    return d->mirrored;
}

static void seam_submit(void *ctx, const struct spop_notify *n, void *slot)
{
    struct fuzz_seam *fs = ctx;
    const struct fuzz_slot *d = slot;
    CHECK(!fs->in_feed);
    CHECK(fs->nsubmit < fs->ndecide);
    const struct expect *e = &fs->exp[fs->nsubmit];
    CHECK(d->route == fs->nsubmit);
    CHECK(n->stream_id == e->sid && n->frame_id == e->fid && d->mirrored == e->mirrored);
    /* The NOTIFY is still readable (ASan catches a freed input). */
    check_messages(n);
    fs->nsubmit++;
    fs->total_submit++;
}

static const struct spop_notify_ops seam_ops = {.decide = seam_decide, .submit = seam_submit};

/* Looks an unsigned integer or string key up in a KV-LIST that must decode whole. */
static bool kv_find(const struct spop_frame *f, const char *key, struct spop_data *out)
{
    size_t off = 0;
    bool found = false;
    for (size_t steps = 0; steps <= f->payload_len && off < f->payload_len; steps++) {
        struct spop_kv kv;
        ssize_t k = spop_kv_next(f->payload + off, f->payload_len - off, &kv);
        CHECK(k > 0);
        if (spop_bytes_eq(kv.name, key)) {
            CHECK(!found);
            *out = kv.value;
            found = true;
        }
        off += (size_t)k;
    }
    CHECK(off == f->payload_len);
    return found;
}

static void check_agent_hello(const struct spop_frame *f, uint32_t ours)
{
    struct spop_data v;
    uint64_t size;
    CHECK(f->stream_id == 0 && f->frame_id == 0);
    CHECK(kv_find(f, "version", &v) && v.type == SPOP_DATA_T_STR && spop_bytes_eq(v.u.bytes, "2.0"));
    CHECK(kv_find(f, "max-frame-size", &v) && spop_data_as_uint(&v, &size));
    CHECK(size >= SPOP_MIN_FRAME_SIZE && size <= ours && size == session.max_frame);
    CHECK(kv_find(f, "capabilities", &v) && v.type == SPOP_DATA_T_STR &&
          spop_bytes_eq(v.u.bytes, "pipelining"));
}

static void check_ack(const struct spop_frame *f, const struct expect *e)
{
    CHECK(f->stream_id == e->sid && f->frame_id == e->fid);
    struct spop_action a;
    CHECK(spop_action_next(f->payload, f->payload_len, &a) == (ssize_t)f->payload_len);
    CHECK(a.type == SPOP_ACT_T_SET_VAR && a.scope == SPOP_SCOPE_TXN && spop_bytes_eq(a.name, "mirrored"));
    CHECK(a.value.type == SPOP_DATA_T_BOOL && a.value.u.boolean == e->mirrored);
}

static void check_disconnect(const struct spop_frame *f)
{
    struct spop_data v;
    uint64_t status;
    CHECK(f->stream_id == 0 && f->frame_id == 0);
    CHECK(kv_find(f, "status-code", &v) && spop_data_as_uint(&v, &status));
    CHECK(kv_find(f, "message", &v) && v.type == SPOP_DATA_T_STR);
    CHECK(status == (session.error >= 0 ? (uint64_t)session.error : 0));
    CHECK(status <= SPOP_ERR_RES);
}

/* Checks the replies of one feed and drains them, as a socket write would. */
static void drain_replies(struct buf *out, struct reply_state *rs, const struct fuzz_seam *fs, uint32_t ours)
{
    size_t off = 0, acks = 0;
    for (size_t steps = 0; steps <= out->len && off < out->len; steps++) {
        struct spop_frame f;
        ssize_t k = spop_frame_decode(buf_peek(out) + off, out->len - off, UINT32_MAX, &f);
        CHECK(k > 0);
        CHECK(f.flags == SPOP_FRM_FL_FIN);
        CHECK(rs->disconnects == 0); /* nothing after an AGENT-DISCONNECT */
        switch (f.type) {
        case SPOP_FRM_T_AGENT_HELLO:
            CHECK(rs->frames == 0 && rs->hellos == 0);
            check_agent_hello(&f, ours);
            rs->hellos++;
            break;
        case SPOP_FRM_T_AGENT_ACK:
            CHECK(rs->hellos == 1);
            CHECK(acks < fs->ndecide);
            check_ack(&f, &fs->exp[acks]);
            acks++;
            break;
        case SPOP_FRM_T_AGENT_DISCON:
            check_disconnect(&f);
            rs->disconnects++;
            break;
        default:
            CHECK(!"not an agent frame");
        }
        rs->frames++;
        rs->last_type = f.type;
        off += (size_t)k;
    }
    CHECK(off == out->len);
    CHECK(acks == fs->ndecide);
    rs->acks += acks;
    buf_consume(out, out->len);
}

/* The session's closing state agrees with the replies sent so far. */
static void check_closing(const struct reply_state *rs)
{
    bool closing = spop_session_closing(&session);
    if (rs->disconnects)
        CHECK(closing);
    if (session.error >= 0)
        CHECK(closing && rs->last_type == SPOP_FRM_T_AGENT_DISCON);
    if (closing)
        CHECK(rs->last_type == SPOP_FRM_T_AGENT_DISCON ||
              (session.healthcheck && rs->last_type == SPOP_FRM_T_AGENT_HELLO));
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t cfg = data[0];
    size_t ncuts = data[1] % MAX_CUTS;
    if (size < 2 + 2 * ncuts)
        return 0;
    const uint8_t *stream = data + 2 + 2 * ncuts;
    size_t len = size - 2 - 2 * ncuts;
    size_t arrivals[MAX_CUTS + 1];
    for (size_t i = 0; i < ncuts; i++)
        arrivals[i] = (((size_t)data[2 + 2 * i] << 8) | data[3 + 2 * i]) % (len + 1);
    arrivals[ncuts] = len;
    qsort(arrivals, ncuts + 1, sizeof(arrivals[0]), cmp_size);

    uint32_t ours = our_sizes[cfg & 3];
    struct buf out;
    buf_init(&out, out_limits[(cfg >> 2) & 3]);
    struct agent_stats stats;
    memset(&stats, 0, sizeof(stats));
    struct fuzz_seam fs;
    memset(&fs, 0, sizeof(fs));
    struct spop_notify_handler handler = {
        .ops = &seam_ops, .ctx = &fs, .slot_size = sizeof(struct fuzz_slot), .ack_var = "mirrored"};
    spop_session_init(&session, ours, handler, &stats);
    CHECK(session.our_max_frame == (ours < SPOP_MIN_FRAME_SIZE ? SPOP_MIN_FRAME_SIZE : ours));
    struct reply_state rs = {0};

    size_t off = 0;
    for (size_t a = 0; a <= ncuts; a++) {
        for (size_t steps = 0; steps <= len; steps++) {
            size_t avail = arrivals[a] > off ? arrivals[a] - off : 0;
            uint8_t *block = malloc(avail ? avail : 1);
            CHECK(block != NULL);
            if (avail)
                memcpy(block, stream + off, avail);
            bool was_closing = spop_session_closing(&session);
            fs.block = block;
            fs.block_len = avail;
            fs.ndecide = 0;
            fs.nsubmit = 0;
            fs.in_feed = true;
            size_t used = spop_session_feed(&session, block, avail, &out);
            fs.in_feed = false;
            CHECK(used <= avail);
            CHECK(session.npending == fs.ndecide);
            if (was_closing)
                CHECK(used == 0 && out.len == 0 && fs.ndecide == 0);
            drain_replies(&out, &rs, &fs, ours);
            check_closing(&rs);
            spop_session_dispatch(&session);
            CHECK(fs.nsubmit == fs.ndecide && session.npending == 0);
            free(block);
            off += used;
            if (used == 0)
                break;
        }
    }

    if (cfg & 0x10) {
        bool was_closing = spop_session_closing(&session);
        fs.ndecide = 0;
        spop_session_fail(&session, SPOP_ERR_TOUT, "idle", &out);
        if (was_closing)
            CHECK(out.len == 0);
        else
            CHECK(out.len > 0 && session.error == SPOP_ERR_TOUT);
        drain_replies(&out, &rs, &fs, ours);
        check_closing(&rs);
    }

    CHECK(rs.hellos <= 1 && rs.disconnects <= 1);
    CHECK(rs.acks == fs.total_decide && fs.total_submit == fs.total_decide);
    CHECK(counter_get(&stats.ack) == rs.acks);
    CHECK(counter_get(&stats.hello) == rs.hellos);
    CHECK(counter_get(&stats.notify) >= rs.acks + counter_get(&stats.notify_aborted));
    spop_session_deinit(&session);
    buf_free(&out);
    return 0;
}
