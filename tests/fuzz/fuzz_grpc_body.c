/* libFuzzer target: gRPC request bodies (grpc_body.h).
 *
 * Input: the bytes are taken both as a Content-Type value and as a body.
 *
 * Checked with abort():
 * - grpc_is_content_type() holds exactly when the value, trimmed of spaces
 *   and tabs, starts with "application/grpc" (any case) followed by nothing,
 *   '+', ';' or whitespace;
 * - grpc_body_messages() reads nothing past the body (ASan) and agrees with a
 *   plain reference walk: -1 exactly when the body ends inside a message's
 *   5-byte prefix or payload, else the number of messages;
 * - a body it accepts with k >= 1 messages is cut (-1) at every length
 *   strictly inside its last message, and has k - 1 messages at that
 *   message's start. */
#include <stdbool.h>
#include <stdint.h>
#include <strings.h>

#include "fuzz_check.h"
#include "http/grpc_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference walk: offsets in 64 bits, no shortcut. */
static long reference(const uint8_t *p, size_t n, size_t *last_start)
{
    uint64_t off = 0;
    long k = 0;
    *last_start = 0;
    while (off < n) {
        if (n - off < 5)
            return -1;
        uint64_t len = ((uint64_t)p[off + 1] << 24) | ((uint64_t)p[off + 2] << 16) |
                       ((uint64_t)p[off + 3] << 8) | p[off + 4];
        *last_start = (size_t)off;
        off += 5 + len;
        if (off > n)
            return -1;
        k++;
    }
    return k;
}

static bool reference_type(const uint8_t *v, size_t n)
{
    static const char t[] = "application/grpc";
    size_t tn = sizeof(t) - 1;
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n < tn || strncasecmp((const char *)v, t, tn) != 0)
        return false;
    return n == tn || v[tn] == '+' || v[tn] == ';' || v[tn] == ' ' || v[tn] == '\t';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CHECK(grpc_is_content_type(data, size) == reference_type(data, size));
    size_t last = 0;
    long k = grpc_body_messages(data, size);
    CHECK(k == reference(data, size, &last));
    if (k >= 1) {
        CHECK(grpc_body_messages(data, last) == k - 1);
        for (size_t n = last + 1; n < size; n++)
            CHECK(grpc_body_messages(data, n) == -1);
    }
    return 0;
}
