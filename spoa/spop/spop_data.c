#include "spop/spop_data.h"

#include <string.h>

#include "spop/spop_proto.h"
#include "spop/spop_varint.h"

uint32_t spop_get_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

ssize_t spop_bytes_decode(const uint8_t *p, size_t len, struct spop_bytes *out)
{
    uint64_t n;
    ssize_t hdr = spop_varint_decode(p, len, &n);
    if (hdr <= 0)
        return hdr;
    if (n > (uint64_t)(len - (size_t)hdr))
        return 0;
    out->ptr = p + hdr;
    out->len = (size_t)n;
    return hdr + (ssize_t)n;
}

ssize_t spop_data_decode(const uint8_t *p, size_t len, struct spop_data *out)
{
    if (len == 0)
        return 0;
    uint8_t type = p[0] & SPOP_DATA_T_MASK;
    const uint8_t *body = p + 1;
    size_t avail = len - 1;
    uint64_t v;
    ssize_t n;

    out->type = type;
    switch (type) {
    case SPOP_DATA_T_NULL:
        return 1;
    case SPOP_DATA_T_BOOL:
        out->u.boolean = (p[0] & SPOP_DATA_FL_TRUE) != 0;
        return 1;
    case SPOP_DATA_T_INT32:
    case SPOP_DATA_T_INT64:
        n = spop_varint_decode(body, avail, &v);
        if (n <= 0)
            return n;
        out->u.i64 = (int64_t)v;
        return 1 + n;
    case SPOP_DATA_T_UINT32:
    case SPOP_DATA_T_UINT64:
        n = spop_varint_decode(body, avail, &v);
        if (n <= 0)
            return n;
        out->u.u64 = v;
        return 1 + n;
    case SPOP_DATA_T_IPV4:
        if (avail < 4)
            return 0;
        memcpy(out->u.ipv4, body, 4);
        return 5;
    case SPOP_DATA_T_IPV6:
        if (avail < 16)
            return 0;
        memcpy(out->u.ipv6, body, 16);
        return 17;
    case SPOP_DATA_T_STR:
    case SPOP_DATA_T_BIN:
        n = spop_bytes_decode(body, avail, &out->u.bytes);
        if (n <= 0)
            return n;
        return 1 + n;
    }
    return -SPOP_ERR_INVALID;
}

bool spop_bytes_eq(struct spop_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.len == n && (n == 0 || memcmp(b.ptr, s, n) == 0);
}

static uint8_t ascii_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

bool spop_bytes_ieq(struct spop_bytes a, struct spop_bytes b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (ascii_lower(a.ptr[i]) != ascii_lower(b.ptr[i]))
            return false;
    return true;
}

bool spop_bytes_ieq_str(struct spop_bytes b, const char *s)
{
    return spop_bytes_ieq(b, (struct spop_bytes){(const uint8_t *)s, strlen(s)});
}

bool spop_data_as_uint(const struct spop_data *d, uint64_t *out)
{
    switch (d->type) {
    case SPOP_DATA_T_INT32:
    case SPOP_DATA_T_INT64:
        if (d->u.i64 < 0)
            return false;
        *out = (uint64_t)d->u.i64;
        return true;
    case SPOP_DATA_T_UINT32:
    case SPOP_DATA_T_UINT64:
        *out = d->u.u64;
        return true;
    }
    return false;
}

void spop_writer_init(struct spop_writer *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->failed = false;
}

void spop_put_raw(struct spop_writer *w, const void *p, size_t len)
{
    if (w->failed || len > w->cap - w->len) {
        w->failed = true;
        return;
    }
    if (len)
        memcpy(w->buf + w->len, p, len);
    w->len += len;
}

void spop_put_u8(struct spop_writer *w, uint8_t v)
{
    spop_put_raw(w, &v, 1);
}

void spop_put_u32be(struct spop_writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    spop_put_raw(w, b, 4);
}

void spop_put_varint(struct spop_writer *w, uint64_t v)
{
    uint8_t b[SPOP_VARINT_MAX_BYTES];
    spop_put_raw(w, b, spop_varint_encode(v, b));
}

void spop_put_name(struct spop_writer *w, const char *name, size_t len)
{
    spop_put_varint(w, len);
    spop_put_raw(w, name, len);
}

void spop_put_data(struct spop_writer *w, const struct spop_data *d)
{
    switch (d->type) {
    case SPOP_DATA_T_BOOL:
        spop_put_u8(w, SPOP_DATA_T_BOOL | (d->u.boolean ? SPOP_DATA_FL_TRUE : 0));
        return;
    case SPOP_DATA_T_INT32:
    case SPOP_DATA_T_INT64:
        spop_put_u8(w, d->type);
        spop_put_varint(w, (uint64_t)d->u.i64);
        return;
    case SPOP_DATA_T_UINT32:
    case SPOP_DATA_T_UINT64:
        spop_put_u8(w, d->type);
        spop_put_varint(w, d->u.u64);
        return;
    case SPOP_DATA_T_IPV4:
        spop_put_u8(w, d->type);
        spop_put_raw(w, d->u.ipv4, 4);
        return;
    case SPOP_DATA_T_IPV6:
        spop_put_u8(w, d->type);
        spop_put_raw(w, d->u.ipv6, 16);
        return;
    case SPOP_DATA_T_STR:
    case SPOP_DATA_T_BIN:
        spop_put_u8(w, d->type);
        spop_put_varint(w, d->u.bytes.len);
        spop_put_raw(w, d->u.bytes.ptr, d->u.bytes.len);
        return;
    default:
        spop_put_u8(w, SPOP_DATA_T_NULL);
        return;
    }
}

void spop_put_str(struct spop_writer *w, const char *s, size_t len)
{
    spop_put_u8(w, SPOP_DATA_T_STR);
    spop_put_varint(w, len);
    spop_put_raw(w, s, len);
}

void spop_put_bool(struct spop_writer *w, bool v)
{
    spop_put_u8(w, SPOP_DATA_T_BOOL | (v ? SPOP_DATA_FL_TRUE : 0));
}

void spop_put_uint(struct spop_writer *w, uint64_t v)
{
    spop_put_u8(w, v > UINT32_MAX ? SPOP_DATA_T_UINT64 : SPOP_DATA_T_UINT32);
    spop_put_varint(w, v);
}
