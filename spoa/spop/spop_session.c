#include "spop/spop_session.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "spop/spop_frame.h"
#include "spop/spop_hello.h"
#include "spop/spop_proto.h"

/* Capabilities we announce: no async, no fragmentation (see spop.md §3). */
#define AGENT_CAPABILITIES "pipelining"
/* Room reserved for one reply frame; ACKs and HELLO/DISCONNECT replies fit. */
#define REPLY_ROOM 256

void spop_session_init(struct spop_session *s, uint32_t max_frame, struct spop_notify_handler handler,
                       struct agent_stats *stats)
{
    size_t var_len = handler.ack_var ? strlen(handler.ack_var) : 0;
    size_t extra_len = handler.extra_var ? strlen(handler.extra_var) : 0;
    if (var_len == 0 || var_len > SPOP_ACK_VAR_MAX || (handler.extra_var && extra_len == 0) ||
        extra_len > SPOP_ACK_VAR_MAX) {
        fprintf(stderr, "spop_session_init: the ACK variable name must have 1 to %d bytes\n",
                SPOP_ACK_VAR_MAX);
        abort();
    }
    memset(s, 0, sizeof(*s));
    s->state = SPOP_SESS_ST_HELLO;
    s->our_max_frame = max_frame < SPOP_MIN_FRAME_SIZE ? SPOP_MIN_FRAME_SIZE : max_frame;
    s->max_frame = s->our_max_frame;
    s->error = -1;
    s->peer_status = -1;
    s->handler = handler;
    s->ack_var = (struct spop_bytes){(const uint8_t *)handler.ack_var, var_len};
    s->extra_var = (struct spop_bytes){(const uint8_t *)handler.extra_var, extra_len};
    s->slot_stride =
        (handler.slot_size + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t);
    s->stats = stats;
}

void spop_session_deinit(struct spop_session *s)
{
    free(s->slots);
    s->slots = NULL;
    s->npending = 0;
}

const char *spop_session_state_str(enum spop_session_state st)
{
    switch (st) {
    case SPOP_SESS_ST_HELLO:
        return "hello";
    case SPOP_SESS_ST_READY:
        return "ready";
    case SPOP_SESS_ST_CLOSING:
        return "closing";
    case SPOP_SESS_ST_ENTRIES:
        break;
    }
    return "unknown";
}

bool spop_session_closing(const struct spop_session *s)
{
    return s->state == SPOP_SESS_ST_CLOSING;
}

/* Reserves room for one reply frame in <out>; false when its limit is reached. */
static bool reply_room(struct buf *out, uint8_t **room)
{
    *room = buf_reserve(out, REPLY_ROOM);
    return *room != NULL;
}

/* Reserves room for the last reply of a connection, which may go past the
 * output limit. */
static bool last_reply_room(struct buf *out, uint8_t **room)
{
    if (reply_room(out, room))
        return true;
    out->limit += REPLY_ROOM;
    return reply_room(out, room);
}

void spop_session_fail(struct spop_session *s, int status, const char *detail, struct buf *out)
{
    if (s->state == SPOP_SESS_ST_CLOSING)
        return;
    s->state = SPOP_SESS_ST_CLOSING;
    s->error = status;
    s->error_detail = detail;
    counter_inc(&s->stats->error_sent[agent_stats_status_slot(status)]);
    uint8_t *room;
    if (!last_reply_room(out, &room))
        return;
    ssize_t n = spop_encode_agent_disconnect(room, REPLY_ROOM, (uint32_t)status, spop_error_str(status));
    if (n > 0)
        buf_commit(out, (size_t)n);
}

static void on_hello(struct spop_session *s, const struct spop_frame *f, struct buf *out)
{
    struct spop_hello hello;
    if (f->stream_id != 0 || f->frame_id != 0) {
        spop_session_fail(s, SPOP_ERR_INVALID, "HELLO with a stream-id or frame-id", out);
        return;
    }
    int status = spop_hello_parse(f->payload, f->payload_len, &hello);
    if (status != 0) {
        spop_session_fail(s, status, "bad HAPROXY-HELLO", out);
        return;
    }
    uint8_t *room;
    if (!reply_room(out, &room)) {
        spop_session_fail(s, SPOP_ERR_RES, "no room for AGENT-HELLO", out);
        return;
    }
    uint32_t size = spop_hello_negotiate_frame_size(s->our_max_frame, hello.max_frame_size);
    ssize_t n = spop_encode_agent_hello(room, REPLY_ROOM, size, AGENT_CAPABILITIES);
    buf_commit(out, (size_t)n);
    s->max_frame = size;
    s->healthcheck = hello.healthcheck;
    counter_inc(&s->stats->hello);
    if (hello.healthcheck) {
        counter_inc(&s->stats->healthcheck);
        s->state = SPOP_SESS_ST_CLOSING; /* a health check ends after our HELLO */
    } else {
        /* Allocated here, once: health checks never need them, NOTIFYs always do. */
        if (s->slot_stride && !s->slots)
            s->slots = xcalloc(SPOP_SESSION_BATCH, s->slot_stride);
        s->state = SPOP_SESS_ST_READY;
    }
}

static void on_haproxy_disconnect(struct spop_session *s, const struct spop_frame *f, struct buf *out)
{
    size_t off = 0;
    s->peer_status = 0;
    while (off < f->payload_len) {
        struct spop_kv kv;
        ssize_t n = spop_kv_next(f->payload + off, f->payload_len - off, &kv);
        if (n <= 0)
            break;
        off += (size_t)n;
        uint64_t v;
        if (spop_bytes_eq(kv.name, "status-code") && spop_data_as_uint(&kv.value, &v))
            s->peer_status = v > 1000 ? 1000 : (int)v;
    }
    counter_inc(&s->stats->haproxy_disconnect);
    if (s->peer_status != 0)
        counter_inc(&s->stats->error_received[agent_stats_status_slot(s->peer_status)]);
    uint8_t *room;
    s->state = SPOP_SESS_ST_CLOSING;
    if (!last_reply_room(out, &room))
        return;
    ssize_t n = spop_encode_agent_disconnect(room, REPLY_ROOM, SPOP_ERR_NONE, "");
    buf_commit(out, (size_t)n);
}

/* Returns false when the NOTIFY could not be handled for lack of room in <out>:
 * the frame stays unconsumed and is retried on the next feed. */
static bool on_notify(struct spop_session *s, const struct spop_frame *f, struct buf *out)
{
    if (f->flags & SPOP_FRM_FL_ABORT) {
        counter_inc(&s->stats->notify);
        counter_inc(&s->stats->notify_aborted);
        return true;
    }
    uint8_t *room;
    if (!reply_room(out, &room))
        return false; /* counted when it is retried */
    counter_inc(&s->stats->notify);
    /* Validate the whole LIST-OF-MESSAGES before anything is decided, keeping
     * the decoded messages for the handler. */
    struct spop_notify *p = &s->pending[s->npending];
    *p = (struct spop_notify){
        .stream_id = f->stream_id,
        .frame_id = f->frame_id,
        .messages = f->payload,
        .messages_len = f->payload_len,
        .all_decoded = true,
    };
    size_t off = 0;
    while (off < f->payload_len) {
        struct spop_message m;
        ssize_t n = spop_message_next(f->payload + off, f->payload_len - off, &m);
        if (n <= 0) {
            spop_session_fail(s, SPOP_ERR_INVALID, "malformed LIST-OF-MESSAGES", out);
            return true;
        }
        off += (size_t)n;
        if (p->n_decoded < SPOP_NOTIFY_DECODED)
            p->decoded[p->n_decoded++] = m;
        else
            p->all_decoded = false;
    }
    void *slot = s->slots ? s->slots + s->npending * s->slot_stride : NULL;
    bool value = s->handler.ops->decide(s->handler.ctx, p, slot);
    struct spop_action set_var[2] = {{
        .type = SPOP_ACT_T_SET_VAR,
        .scope = SPOP_SCOPE_TXN,
        .name = s->ack_var,
        .value = {.type = SPOP_DATA_T_BOOL, .u.boolean = value},
    }};
    size_t n_actions = 1;
    if (s->extra_var.len && s->handler.ops->extra && s->handler.ops->extra(s->handler.ctx, slot)) {
        set_var[1] = set_var[0];
        set_var[1].name = s->extra_var;
        set_var[1].value.u.boolean = true;
        n_actions = 2;
    }
    ssize_t n = spop_encode_ack(room, REPLY_ROOM, f->stream_id, f->frame_id, set_var, n_actions);
    buf_commit(out, (size_t)n);
    counter_inc(&s->stats->ack);
    s->npending++;
    return true;
}

/* Handles one whole frame; returns false when it must be retried later. */
static bool on_frame(struct spop_session *s, const struct spop_frame *f, struct buf *out)
{
    bool fin = (f->flags & SPOP_FRM_FL_FIN) != 0;
    switch (f->type) {
    case SPOP_FRM_T_HAPROXY_HELLO:
        if (s->state != SPOP_SESS_ST_HELLO)
            spop_session_fail(s, SPOP_ERR_INVALID, "HELLO after the handshake", out);
        else if (!fin)
            spop_session_fail(s, SPOP_ERR_FRAG_NOT_SUPPORTED, "fragmented HELLO", out);
        else
            on_hello(s, f, out);
        return true;
    case SPOP_FRM_T_HAPROXY_DISCON:
        on_haproxy_disconnect(s, f, out);
        return true;
    case SPOP_FRM_T_HAPROXY_NOTIFY:
        if (s->state != SPOP_SESS_ST_READY) {
            spop_session_fail(s, SPOP_ERR_INVALID, "NOTIFY before the HELLO", out);
            return true;
        }
        if (!fin) {
            spop_session_fail(s, SPOP_ERR_FRAG_NOT_SUPPORTED, "fragmented NOTIFY", out);
            return true;
        }
        return on_notify(s, f, out);
    case SPOP_FRM_T_UNSET:
        spop_session_fail(s, SPOP_ERR_FRAG_NOT_SUPPORTED, "fragment continuation frame", out);
        return true;
    case SPOP_FRM_T_AGENT_HELLO:
    case SPOP_FRM_T_AGENT_DISCON:
    case SPOP_FRM_T_AGENT_ACK:
        spop_session_fail(s, SPOP_ERR_INVALID, "agent frame sent by the peer", out);
        return true;
    }
    if (s->state == SPOP_SESS_ST_HELLO) {
        spop_session_fail(s, SPOP_ERR_INVALID, "unknown frame before the HELLO", out);
        return true;
    }
    counter_inc(&s->stats->frame_unknown);
    return true;
}

size_t spop_session_feed(struct spop_session *s, const uint8_t *in, size_t len, struct buf *out)
{
    size_t off = 0;
    while (s->state != SPOP_SESS_ST_CLOSING && s->npending < SPOP_SESSION_BATCH) {
        struct spop_frame f;
        ssize_t n = spop_frame_decode(in + off, len - off, s->max_frame, &f);
        if (n == 0)
            break;
        if (n < 0) {
            spop_session_fail(s, (int)-n, n == -SPOP_ERR_TOO_BIG ? "frame too big" : "malformed frame header",
                              out);
            break;
        }
        if (!on_frame(s, &f, out))
            break;
        off += (size_t)n;
    }
    return off;
}

void spop_session_dispatch(struct spop_session *s)
{
    for (size_t i = 0; i < s->npending; i++)
        s->handler.ops->submit(s->handler.ctx, &s->pending[i],
                               s->slots ? s->slots + i * s->slot_stride : NULL);
    s->npending = 0;
}
