/* See capture_scan.h. The type byte table follows the MessagePack spec. */
#include "capture/capture_scan.h"

/* Big-endian unsigned integer of <n> bytes (1, 2 or 4) at <p>. */
static uint64_t be_uint(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The shape of one type byte: header bytes after it, how many of them hold a
 * length (0: fixed <data> payload bytes), and whether that length counts
 * payload bytes, array elements or map entries. */
enum scan_kind { K_BYTES, K_ARRAY, K_MAP, K_INVALID };

struct scan_head {
    enum scan_kind kind;
    unsigned len_bytes; /* bytes holding the size, after the type byte */
    uint64_t fixed;     /* size known from the type byte itself */
    unsigned extra;     /* ext type byte between the size and the payload */
};

static struct scan_head head_of(uint8_t t)
{
    if (t <= 0x7f || t >= 0xe0)
        return (struct scan_head){K_BYTES, 0, 0, 0}; /* fixint */
    if (t <= 0x8f)
        return (struct scan_head){K_MAP, 0, t & 0x0f, 0};
    if (t <= 0x9f)
        return (struct scan_head){K_ARRAY, 0, t & 0x0f, 0};
    if (t <= 0xbf)
        return (struct scan_head){K_BYTES, 0, t & 0x1f, 0}; /* fixstr */
    switch (t) {
    case 0xc0: /* nil */
    case 0xc2: /* false */
    case 0xc3: /* true */
        return (struct scan_head){K_BYTES, 0, 0, 0};
    case 0xc4: /* bin 8 */
    case 0xd9: /* str 8 */
        return (struct scan_head){K_BYTES, 1, 0, 0};
    case 0xc5:
    case 0xda:
        return (struct scan_head){K_BYTES, 2, 0, 0};
    case 0xc6:
    case 0xdb:
        return (struct scan_head){K_BYTES, 4, 0, 0};
    case 0xc7: /* ext 8/16/32: size, type, payload */
        return (struct scan_head){K_BYTES, 1, 0, 1};
    case 0xc8:
        return (struct scan_head){K_BYTES, 2, 0, 1};
    case 0xc9:
        return (struct scan_head){K_BYTES, 4, 0, 1};
    case 0xca: /* float 32 */
        return (struct scan_head){K_BYTES, 0, 4, 0};
    case 0xcb: /* float 64 */
        return (struct scan_head){K_BYTES, 0, 8, 0};
    case 0xcc:
    case 0xd0:
        return (struct scan_head){K_BYTES, 0, 1, 0};
    case 0xcd:
    case 0xd1:
        return (struct scan_head){K_BYTES, 0, 2, 0};
    case 0xce:
    case 0xd2:
        return (struct scan_head){K_BYTES, 0, 4, 0};
    case 0xcf:
    case 0xd3:
        return (struct scan_head){K_BYTES, 0, 8, 0};
    case 0xd4: /* fixext 1/2/4/8/16: type byte, payload */
        return (struct scan_head){K_BYTES, 0, 2, 0};
    case 0xd5:
        return (struct scan_head){K_BYTES, 0, 3, 0};
    case 0xd6:
        return (struct scan_head){K_BYTES, 0, 5, 0};
    case 0xd7:
        return (struct scan_head){K_BYTES, 0, 9, 0};
    case 0xd8:
        return (struct scan_head){K_BYTES, 0, 17, 0};
    case 0xdc:
        return (struct scan_head){K_ARRAY, 2, 0, 0};
    case 0xdd:
        return (struct scan_head){K_ARRAY, 4, 0, 0};
    case 0xde:
        return (struct scan_head){K_MAP, 2, 0, 0};
    case 0xdf:
        return (struct scan_head){K_MAP, 4, 0, 0};
    default: /* 0xc1: never used */
        return (struct scan_head){K_INVALID, 0, 0, 0};
    }
}

enum capture_scan capture_scan_value(const uint8_t *p, size_t len, size_t *end)
{
    size_t pos = 0;
    uint64_t pending = 1; /* values still to walk; each needs at least one byte */
    while (pending > 0) { /* every turn consumes at least one byte: at most <len> turns */
        if (pos >= len)
            return CAPTURE_SCAN_INCOMPLETE;
        struct scan_head h = head_of(p[pos++]);
        pending--;
        if (h.kind == K_INVALID)
            return CAPTURE_SCAN_INVALID;
        if (h.len_bytes > len - pos)
            return CAPTURE_SCAN_INCOMPLETE;
        uint64_t n = h.len_bytes ? be_uint(p + pos, h.len_bytes) : h.fixed;
        pos += h.len_bytes;
        size_t left = len - pos;
        if (h.kind == K_BYTES) {
            if (h.extra > left || n > left - h.extra)
                return CAPTURE_SCAN_INCOMPLETE;
            pos += h.extra + (size_t)n;
            continue;
        }
        uint64_t values = h.kind == K_MAP ? 2 * n : n; /* n < 2^32: no overflow */
        if (values > left || pending + values > left)
            return CAPTURE_SCAN_INCOMPLETE;
        pending += values;
    }
    *end = pos;
    return CAPTURE_SCAN_COMPLETE;
}
