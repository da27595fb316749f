#include "spop/spop_hello.h"

#include "spop/spop_frame.h"
#include "spop/spop_proto.h"

/* Parses the major number of one "Major.Minor" item; returns -1 when malformed. */
static long version_major(const uint8_t *p, size_t len)
{
    long major = -1;
    size_t i = 0;
    while (i < len && p[i] == ' ')
        i++;
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
        major = (major < 0 ? 0 : major) * 10 + (p[i] - '0');
        if (major > 1000)
            return -1;
    }
    if (major < 0 || i >= len || p[i] != '.')
        return -1;
    i++;
    size_t digits = 0;
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++)
        digits++;
    while (i < len && p[i] == ' ')
        i++;
    return (digits > 0 && i == len) ? major : -1;
}

bool spop_hello_versions_ok(struct spop_bytes versions)
{
    size_t start = 0;
    for (size_t i = 0; i <= versions.len; i++) {
        if (i == versions.len || versions.ptr[i] == ',') {
            if (version_major(versions.ptr + start, i - start) == 2)
                return true;
            start = i + 1;
        }
    }
    return false;
}

uint32_t spop_hello_negotiate_frame_size(uint32_t ours, uint32_t theirs)
{
    return ours < theirs ? ours : theirs;
}

int spop_hello_parse(const uint8_t *payload, size_t len, struct spop_hello *h)
{
    bool have_vsn = false, have_size = false, have_cap = false;
    *h = (struct spop_hello){0};
    size_t off = 0;
    while (off < len) {
        struct spop_kv kv;
        ssize_t n = spop_kv_next(payload + off, len - off, &kv);
        if (n <= 0)
            return SPOP_ERR_INVALID;
        off += (size_t)n;
        if (spop_bytes_eq(kv.name, "supported-versions")) {
            if (kv.value.type != SPOP_DATA_T_STR)
                return SPOP_ERR_INVALID;
            h->versions = kv.value.u.bytes;
            have_vsn = true;
        } else if (spop_bytes_eq(kv.name, "max-frame-size")) {
            uint64_t v;
            if (!spop_data_as_uint(&kv.value, &v))
                return SPOP_ERR_INVALID;
            h->max_frame_size = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
            have_size = true;
        } else if (spop_bytes_eq(kv.name, "capabilities")) {
            if (kv.value.type != SPOP_DATA_T_STR)
                return SPOP_ERR_INVALID;
            h->capabilities = kv.value.u.bytes;
            have_cap = true;
        } else if (spop_bytes_eq(kv.name, "healthcheck")) {
            if (kv.value.type != SPOP_DATA_T_BOOL)
                return SPOP_ERR_INVALID;
            h->healthcheck = kv.value.u.boolean;
        } else if (spop_bytes_eq(kv.name, "engine-id")) {
            if (kv.value.type == SPOP_DATA_T_STR)
                h->engine_id = kv.value.u.bytes;
        }
    }
    if (!have_vsn)
        return SPOP_ERR_NO_VSN;
    if (!have_size)
        return SPOP_ERR_NO_FRAME_SIZE;
    if (!have_cap)
        return SPOP_ERR_NO_CAP;
    if (!spop_hello_versions_ok(h->versions))
        return SPOP_ERR_BAD_VSN;
    if (h->max_frame_size < SPOP_MIN_FRAME_SIZE)
        return SPOP_ERR_BAD_FRAME_SIZE;
    return 0;
}
