#include "spop/spop_frame.h"

#include <string.h>

#include "spop/spop_proto.h"
#include "spop/spop_varint.h"

/* Smallest valid length field: type, flags, one-byte stream-id and frame-id. */
#define SPOP_FRAME_MIN_LENGTH 7u

ssize_t spop_frame_decode(const uint8_t *p, size_t len, uint32_t max_frame, struct spop_frame *f)
{
    if (len < SPOP_FRAME_LEN_BYTES)
        return 0;
    uint32_t length = spop_get_u32be(p);
    if (length > max_frame)
        return -SPOP_ERR_TOO_BIG;
    if (length < SPOP_FRAME_MIN_LENGTH)
        return -SPOP_ERR_INVALID;
    if (len - SPOP_FRAME_LEN_BYTES < length)
        return 0;

    const uint8_t *q = p + SPOP_FRAME_LEN_BYTES;
    size_t left = length;
    uint8_t type = q[0];
    uint32_t flags = spop_get_u32be(q + 1);
    q += 5;
    left -= 5;

    uint64_t sid, fid;
    ssize_t n = spop_varint_decode(q, left, &sid);
    if (n <= 0)
        return -SPOP_ERR_INVALID;
    q += n;
    left -= (size_t)n;
    n = spop_varint_decode(q, left, &fid);
    if (n <= 0)
        return -SPOP_ERR_INVALID;
    q += n;
    left -= (size_t)n;

    f->type = type;
    f->flags = flags;
    f->stream_id = sid;
    f->frame_id = fid;
    f->length = length;
    f->payload = q;
    f->payload_len = left;
    return (ssize_t)(SPOP_FRAME_LEN_BYTES + length);
}

/* Inside a complete payload, running out of bytes is malformed input. */
static ssize_t inside_frame(ssize_t n)
{
    return n == 0 ? -SPOP_ERR_INVALID : n;
}

ssize_t spop_kv_next(const uint8_t *p, size_t len, struct spop_kv *kv)
{
    if (len == 0)
        return 0;
    struct spop_bytes name;
    ssize_t n = inside_frame(spop_bytes_decode(p, len, &name));
    if (n < 0)
        return n;
    struct spop_data value;
    ssize_t m = inside_frame(spop_data_decode(p + n, len - (size_t)n, &value));
    if (m < 0)
        return m;
    kv->name = name;
    kv->value = value;
    return n + m;
}

ssize_t spop_message_next(const uint8_t *p, size_t len, struct spop_message *m)
{
    if (len == 0)
        return 0;
    struct spop_bytes name;
    ssize_t n = inside_frame(spop_bytes_decode(p, len, &name));
    if (n < 0)
        return n;
    size_t off = (size_t)n;
    if (off >= len)
        return -SPOP_ERR_INVALID;
    uint8_t nb_args = p[off++];
    size_t args_start = off;
    for (unsigned i = 0; i < nb_args; i++) {
        struct spop_kv kv;
        ssize_t k = spop_kv_next(p + off, len - off, &kv);
        if (k <= 0)
            return -SPOP_ERR_INVALID;
        off += (size_t)k;
    }
    m->name = name;
    m->nb_args = nb_args;
    m->args = p + args_start;
    m->args_len = off - args_start;
    return (ssize_t)off;
}

ssize_t spop_action_next(const uint8_t *p, size_t len, struct spop_action *a)
{
    if (len == 0)
        return 0;
    if (len < 3)
        return -SPOP_ERR_INVALID;
    uint8_t type = p[0];
    uint8_t nb_args = p[1];
    uint8_t scope = p[2];
    size_t off = 3;
    if (!((type == SPOP_ACT_T_SET_VAR && nb_args == 3) || (type == SPOP_ACT_T_UNSET_VAR && nb_args == 2)))
        return -SPOP_ERR_INVALID;
    struct spop_bytes name;
    ssize_t n = inside_frame(spop_bytes_decode(p + off, len - off, &name));
    if (n < 0)
        return n;
    off += (size_t)n;
    struct spop_data value = {.type = SPOP_DATA_T_NULL};
    if (type == SPOP_ACT_T_SET_VAR) {
        n = inside_frame(spop_data_decode(p + off, len - off, &value));
        if (n < 0)
            return n;
        off += (size_t)n;
    }
    a->type = type;
    a->scope = scope;
    a->name = name;
    a->value = value;
    return (ssize_t)off;
}

size_t spop_frame_begin(struct spop_writer *w, uint8_t type, uint32_t flags, uint64_t sid, uint64_t fid)
{
    size_t start = w->len;
    spop_put_u32be(w, 0);
    spop_put_u8(w, type);
    spop_put_u32be(w, flags);
    spop_put_varint(w, sid);
    spop_put_varint(w, fid);
    return start;
}

ssize_t spop_frame_end(struct spop_writer *w, size_t start)
{
    if (w->failed)
        return -SPOP_ERR_RES;
    size_t length = w->len - start - SPOP_FRAME_LEN_BYTES;
    uint8_t *p = w->buf + start;
    p[0] = (uint8_t)(length >> 24);
    p[1] = (uint8_t)(length >> 16);
    p[2] = (uint8_t)(length >> 8);
    p[3] = (uint8_t)length;
    return (ssize_t)(w->len - start);
}

void spop_put_action(struct spop_writer *w, const struct spop_action *a)
{
    bool set = a->type == SPOP_ACT_T_SET_VAR;
    spop_put_u8(w, a->type);
    spop_put_u8(w, set ? 3 : 2);
    spop_put_u8(w, a->scope);
    spop_put_varint(w, a->name.len);
    spop_put_raw(w, a->name.ptr, a->name.len);
    if (set)
        spop_put_data(w, &a->value);
}

static void put_key(struct spop_writer *w, const char *key)
{
    spop_put_name(w, key, strlen(key));
}

ssize_t spop_encode_agent_hello(uint8_t *out, size_t cap, uint32_t max_frame, const char *capabilities)
{
    struct spop_writer w;
    spop_writer_init(&w, out, cap);
    size_t start = spop_frame_begin(&w, SPOP_FRM_T_AGENT_HELLO, SPOP_FRM_FL_FIN, 0, 0);
    put_key(&w, "version");
    spop_put_str(&w, SPOP_VERSION, strlen(SPOP_VERSION));
    put_key(&w, "max-frame-size");
    spop_put_u8(&w, SPOP_DATA_T_UINT32);
    spop_put_varint(&w, max_frame);
    put_key(&w, "capabilities");
    spop_put_str(&w, capabilities, strlen(capabilities));
    return spop_frame_end(&w, start);
}

ssize_t spop_encode_ack(uint8_t *out, size_t cap, uint64_t sid, uint64_t fid,
                        const struct spop_action *actions, size_t n)
{
    struct spop_writer w;
    spop_writer_init(&w, out, cap);
    size_t start = spop_frame_begin(&w, SPOP_FRM_T_AGENT_ACK, SPOP_FRM_FL_FIN, sid, fid);
    for (size_t i = 0; i < n; i++)
        spop_put_action(&w, &actions[i]);
    return spop_frame_end(&w, start);
}

ssize_t spop_encode_agent_disconnect(uint8_t *out, size_t cap, uint32_t status, const char *message)
{
    struct spop_writer w;
    spop_writer_init(&w, out, cap);
    size_t start = spop_frame_begin(&w, SPOP_FRM_T_AGENT_DISCON, SPOP_FRM_FL_FIN, 0, 0);
    put_key(&w, "status-code");
    spop_put_u8(&w, SPOP_DATA_T_UINT32);
    spop_put_varint(&w, status);
    put_key(&w, "message");
    spop_put_str(&w, message, strlen(message));
    return spop_frame_end(&w, start);
}
