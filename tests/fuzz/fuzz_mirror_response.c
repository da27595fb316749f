/* libFuzzer target: one mirror request/response exchange (http_exchange.h)
 * fed the bytes a mirror server might answer with.
 *
 * Input layout: <cfg> <ncuts> <ncuts x 2-byte cut> <stream>.
 * - cfg bit 0: the request was a HEAD; bit 1: the connection reaches EOF
 *   after the stream (a feed of 0 bytes when the exchange still wants more);
 *   bits 2-7 (n = cfg >> 2): the body limit, none when n is 0 (so the seeds
 *   read any body), else (n - 1) * 4 bytes (0 to 248).
 * - ncuts (mod 16) big-endian offsets (mod the stream length + 1): where the
 *   stream is split into reads, as a socket would split it.
 * - stream: the response bytes. A seed is 00 00 followed by a response.
 *
 * Each read is copied to a heap block of its own size, so ASan sees any read
 * past it. Every property is asserted with abort():
 * - a feed returns MORE until one COMPLETE, CLOSED, BAD or TOO_LARGE, and
 *   nothing is fed after that verdict; COMPLETE and BAD need a response
 *   byte, CLOSED an EOF; no more than HTTP_EXCHANGE_MAX_INTERIM + 1 interim
 *   responses are parsed;
 * - the final headers, once in, stay in with a final status (not 1xx,
 *   except 101, and never of one or two digits, which libhttp-parser takes);
 * - on COMPLETE: the headers are in, the body is within the limit; a 101 is
 *   never kept; extra bytes never leave the connection kept; got_bytes is set;
 * - on TOO_LARGE: the headers are in, and the body was parsed exactly one
 *   byte past the limit (never further), or not at all when its
 *   Content-Length was already past the limit;
 * - on CLOSED without any response byte, the stream was empty (only then may
 *   the client retry a stale keep-alive connection);
 * - split invariance: the verdict, whether the headers are in, the status,
 *   the body bytes parsed, and whether the connection stays usable (kept
 *   alive, nothing after the response) are the same when the stream comes in
 *   one read. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror/http_exchange.h"
#include "fuzz_check.h"

#define MAX_CUTS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t request[] = "GET / HTTP/1.1\r\nHost: m\r\n\r\n";

struct outcome {
    enum http_exchange_result verdict;
    bool headers;
    int status;
    uint64_t body;
    bool usable; /* complete, kept alive, and no byte of the stream after the response */
};

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Feeds <stream> split at the sorted offsets <cuts>, then EOF if <eof>. */
static struct outcome run(const uint8_t *stream, size_t len, const size_t *cuts, size_t ncuts, bool head,
                          bool eof, uint64_t max_body)
{
    struct http_exchange x;
    http_exchange_start(&x, request, sizeof(request) - 1, head, max_body);
    http_exchange_wrote(&x, sizeof(request) - 1);
    enum http_exchange_result r = HTTP_EXCHANGE_MORE;
    size_t off = 0, fed_nonempty = 0;
    bool rest_after = false;
    for (size_t i = 0; i <= ncuts && r == HTTP_EXCHANGE_MORE; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        if (end <= off)
            continue;
        size_t n = end - off;
        uint8_t *piece = malloc(n);
        CHECK(piece != NULL);
        memcpy(piece, stream + off, n);
        bool had_headers = x.headers;
        r = http_exchange_feed(&x, piece, n);
        free(piece);
        fed_nonempty++;
        off = end;
        CHECK(x.got_bytes);
        CHECK(!had_headers || x.headers);
        if (x.headers)
            CHECK(x.status == 101 || x.status >= 200);
        if (r != HTTP_EXCHANGE_MORE)
            rest_after = off < len;
    }
    if (r == HTTP_EXCHANGE_MORE && eof) {
        CHECK(off == len);
        r = http_exchange_feed(&x, (const uint8_t *)"", 0);
        CHECK(r != HTTP_EXCHANGE_MORE);
    }
    CHECK(x.got_bytes == (fed_nonempty > 0));
    if (r == HTTP_EXCHANGE_COMPLETE) {
        CHECK(x.complete);
        CHECK(x.got_bytes);
        CHECK(x.headers);
        CHECK(x.body <= max_body);
        CHECK(x.status == 101 || x.status >= 200); /* libhttp-parser's "20" is refused */
        CHECK(x.status >= 0 && x.status <= 999);
        if (x.status == 101 || x.extra_bytes)
            CHECK(!x.keep_alive);
    } else {
        CHECK(!x.complete);
    }
    if (r == HTTP_EXCHANGE_TOO_LARGE) {
        CHECK(x.headers);
        CHECK(max_body != UINT64_MAX);
        CHECK(x.announced_too_large ? x.body == 0 : x.body == max_body + 1);
    }
    if (r == HTTP_EXCHANGE_CLOSED) {
        CHECK(eof);
        if (!x.got_bytes) /* only then may the client retry a stale keep-alive connection */
            CHECK(len == 0);
    }
    if (r == HTTP_EXCHANGE_BAD)
        CHECK(x.got_bytes);
    CHECK(x.interim <= HTTP_EXCHANGE_MAX_INTERIM + 1);
    return (struct outcome){r, x.headers, x.status, x.body,
                            r == HTTP_EXCHANGE_COMPLETE && x.keep_alive && !x.extra_bytes && !rest_after};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    bool head = data[0] & 1, eof = data[0] & 2;
    unsigned sel = data[0] >> 2;
    uint64_t max_body = sel == 0 ? UINT64_MAX : (uint64_t)(sel - 1) * 4;
    size_t ncuts = data[1] % MAX_CUTS;
    if (size < 2 + 2 * ncuts)
        return 0;
    const uint8_t *stream = data + 2 + 2 * ncuts;
    size_t len = size - 2 - 2 * ncuts;
    size_t cuts[MAX_CUTS];
    for (size_t i = 0; i < ncuts; i++)
        cuts[i] = ((size_t)data[2 + 2 * i] << 8 | data[3 + 2 * i]) % (len + 1);
    qsort(cuts, ncuts, sizeof(cuts[0]), cmp_size);

    struct outcome split = run(stream, len, cuts, ncuts, head, eof, max_body);
    struct outcome whole = run(stream, len, NULL, 0, head, eof, max_body);
    CHECK(split.verdict == whole.verdict);
    CHECK(split.headers == whole.headers);
    CHECK(split.status == whole.status);
    CHECK(split.body == whole.body);
    CHECK(split.usable == whole.usable);
    return 0;
}
