/* See parse_num.h. */
#include "core/parse_num.h"

#include <stddef.h>

bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (s == NULL || *s == '\0')
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (d > max || v > (max - d) / 10)
            return false; /* v * 10 + d > max, without overflowing */
        v = v * 10 + d;
    }
    if (v < min)
        return false;
    *out = v;
    return true;
}
