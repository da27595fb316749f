/* See grpc_body.h. */
#include "http/grpc_body.h"

#include "http/http_syntax.h"

#define GRPC_TYPE        "application/grpc"
#define GRPC_PREFIX_SIZE 5 /* flag byte + 4-byte length */

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

bool grpc_is_content_type(const uint8_t *v, size_t n)
{
    const size_t tn = sizeof(GRPC_TYPE) - 1;
    while (n > 0 && is_ows(v[0])) {
        v++;
        n--;
    }
    while (n > 0 && is_ows(v[n - 1]))
        n--;
    if (n < tn || !http_ieq(v, tn, GRPC_TYPE))
        return false;
    return n == tn || v[tn] == '+' || v[tn] == ';' || is_ows(v[tn]);
}

long grpc_body_messages(const uint8_t *p, size_t n)
{
    long messages = 0;
    size_t off = 0;
    while (off < n) {
        if (n - off < GRPC_PREFIX_SIZE)
            return -1;
        const uint8_t *h = p + off;
        uint32_t len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | (uint32_t)h[4];
        off += GRPC_PREFIX_SIZE;
        if (len > n - off)
            return -1;
        off += len;
        messages++;
    }
    return messages;
}
