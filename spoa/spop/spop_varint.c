#include "spop/spop_varint.h"

#include "spop/spop_proto.h"

ssize_t spop_varint_decode(const uint8_t *p, size_t len, uint64_t *out)
{
    if (len == 0)
        return 0;
    uint64_t value = p[0];
    if (value < 240) {
        *out = value;
        return 1;
    }
    unsigned shift = 4;
    for (size_t i = 1; i < SPOP_VARINT_MAX_BYTES; i++) {
        if (i >= len)
            return 0;
        uint64_t byte = p[i];
        /* Bits shifted beyond 64 would be lost: such an encoding is invalid. */
        if (shift > 57 && (byte >> (64 - shift)) != 0)
            return -SPOP_ERR_INVALID;
        uint64_t add = byte << shift;
        if (add > UINT64_MAX - value)
            return -SPOP_ERR_INVALID;
        value += add;
        if (byte < 128) {
            *out = value;
            return (ssize_t)(i + 1);
        }
        shift += 7;
    }
    return -SPOP_ERR_INVALID;
}

size_t spop_varint_encode(uint64_t v, uint8_t *out)
{
    if (v < 240) {
        out[0] = (uint8_t)v;
        return 1;
    }
    size_t n = 0;
    out[n++] = (uint8_t)v | 0xf0;
    v = (v - 240) >> 4;
    while (v >= 128) {
        out[n++] = (uint8_t)v | 0x80;
        v = (v - 128) >> 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t spop_varint_size(uint64_t v)
{
    uint8_t scratch[SPOP_VARINT_MAX_BYTES];
    return spop_varint_encode(v, scratch);
}
