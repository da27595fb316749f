/* libFuzzer target: the admin endpoint's request parsing (admin_request.h)
 * fed the bytes a client might send, split as a socket would split them.
 *
 * Input layout: <cfg> <ncuts> <ncuts x 2-byte cut> <stream>.
 * - cfg: the size limit: 0 for admin.c's own (ADMIN_MAX_REQUEST less its
 *   1024-byte read room), otherwise cfg x 8 bytes, so that small inputs reach
 *   TOO_LARGE too.
 * - ncuts (mod 16) big-endian offsets (mod the stream length + 1): where the
 *   stream is split into feeds.
 * - stream: the request bytes. A seed is 00 00 followed by a request.
 *
 * Each feed is copied to a heap block of its own size, so ASan sees any read
 * past it. Every property is asserted with abort():
 * - feeds return INCOMPLETE until a final status, which every later feed
 *   returns again; a feed of 0 bytes changes nothing;
 * - the bytes fed are counted; TOO_LARGE only past the limit; INCOMPLETE at
 *   the end only when the whole stream fits the limit;
 * - on COMPLETE: the URL is kept whole (and NUL-terminated) unless it is
 *   ADMIN_URL_CAP bytes or more, then the route is URI_TOO_LONG; the path is
 *   the URL up to its first '?'; the stream starts (after the blank lines
 *   libhttp-parser skips) with "<method> <url> " (or more spaces); the route is the one the
 *   method and the path name, and only HEAD is answered without a body;
 * - split invariance: unless the split stream is TOO_LARGE (which depends on
 *   where the limit falls in a read), the stream fed at once gives the same
 *   status, method, route and (when kept) URL. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "admin/admin_request.h"
#include "fuzz_check.h"

#define MAX_CUTS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Feeds <n> bytes at <p> as a heap copy of exactly that size. */
static enum admin_request_status feed_copy(struct admin_request *r, const uint8_t *p, size_t n)
{
    uint8_t *piece = malloc(n > 0 ? n : 1);
    CHECK(piece != NULL);
    if (n > 0)
        memcpy(piece, p, n);
    enum admin_request_status st = admin_request_feed(r, piece, n);
    free(piece);
    return st;
}

/* Feeds <stream> split at the sorted offsets <cuts> into *r. */
static enum admin_request_status run(struct admin_request *r, size_t limit, const uint8_t *stream, size_t len,
                                     const size_t *cuts, size_t ncuts)
{
    admin_request_init(r, limit);
    enum admin_request_status st = ADMIN_REQUEST_INCOMPLETE;
    size_t off = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        size_t fed_before = r->fed;
        enum admin_request_status prev = st;
        st = feed_copy(r, stream + off, end - off);
        if (prev != ADMIN_REQUEST_INCOMPLETE) {
            CHECK(st == prev); /* final */
            CHECK(r->fed == fed_before);
        } else if (end == off) {
            CHECK(st == ADMIN_REQUEST_INCOMPLETE && r->fed == fed_before);
        } else {
            CHECK(r->fed == fed_before + (end - off));
        }
        off = end;
    }
    CHECK(r->fed <= len);
    if (st == ADMIN_REQUEST_TOO_LARGE)
        CHECK(r->fed > limit);
    if (st == ADMIN_REQUEST_INCOMPLETE)
        CHECK(r->fed == len && len <= limit);
    /* A final feed of nothing, then of a whole request, changes nothing. */
    static const uint8_t extra[] = "GET /healthz HTTP/1.1\r\n\r\n";
    size_t fed = r->fed;
    CHECK(feed_copy(r, extra, 0) == st && r->fed == fed);
    if (st != ADMIN_REQUEST_INCOMPLETE)
        CHECK(feed_copy(r, extra, sizeof(extra) - 1) == st && r->fed == fed);
    return st;
}

static void check_complete(const struct admin_request *r, const uint8_t *stream, size_t len)
{
    enum http_method method = admin_request_method(r);
    enum admin_route route = admin_request_route(r);
    CHECK(r->url_len < ADMIN_URL_CAP && r->url[r->url_len] == '\0' && strlen(r->url) <= r->url_len);
    CHECK((route == ADMIN_ROUTE_URI_TOO_LONG) == r->url_too_long);
    size_t plen = strcspn(r->url, "?");
    CHECK(strlen(r->path) == plen && memcmp(r->path, r->url, plen) == 0);
    CHECK(admin_request_head_only(r) == (method == HTTP_HEAD));

    /* The request line as sent: "<method> <url> ". */
    size_t off = 0;
    while (off < len && (stream[off] == '\r' || stream[off] == '\n'))
        off++;
    const char *m = http_method_str(method);
    size_t mlen = strlen(m);
    CHECK(len - off > mlen && memcmp(stream + off, m, mlen) == 0 && stream[off + mlen] == ' ');
    if (!r->url_too_long) {
        size_t u = off + mlen + 1;
        while (u < len && stream[u] == ' ') /* libhttp-parser takes several */
            u++;
        CHECK(len - u > r->url_len && memcmp(stream + u, r->url, r->url_len) == 0);
        CHECK(stream[u + r->url_len] == ' ' || stream[u + r->url_len] == '\r' ||
              stream[u + r->url_len] == '\n');
        CHECK(strlen(r->url) == r->url_len);
    }

    bool get = method == HTTP_GET || method == HTTP_HEAD;
    bool known = strcmp(r->path, "/metrics") == 0 || strcmp(r->path, "/healthz") == 0 ||
                 strcmp(r->path, "/readyz") == 0 || strcmp(r->path, "/-/reload") == 0;
    switch (route) {
    case ADMIN_ROUTE_METRICS:
        CHECK(get && strcmp(r->path, "/metrics") == 0);
        break;
    case ADMIN_ROUTE_HEALTHZ:
        CHECK(get && strcmp(r->path, "/healthz") == 0);
        break;
    case ADMIN_ROUTE_READYZ:
        CHECK(get && strcmp(r->path, "/readyz") == 0);
        break;
    case ADMIN_ROUTE_RELOAD:
        CHECK(method == HTTP_POST && strcmp(r->path, "/-/reload") == 0);
        break;
    case ADMIN_ROUTE_NOT_ALLOWED:
        CHECK(known && !(get && strcmp(r->path, "/-/reload") != 0) &&
              !(method == HTTP_POST && strcmp(r->path, "/-/reload") == 0));
        break;
    case ADMIN_ROUTE_NOT_FOUND:
        CHECK(!known);
        break;
    case ADMIN_ROUTE_URI_TOO_LONG:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t limit = data[0] == 0 ? ADMIN_MAX_REQUEST - 1024 : (size_t)data[0] * 8;
    size_t ncuts = data[1] % MAX_CUTS;
    if (size < 2 + 2 * ncuts)
        return 0;
    const uint8_t *stream = data + 2 + 2 * ncuts;
    size_t len = size - 2 - 2 * ncuts;
    size_t cuts[MAX_CUTS];
    for (size_t i = 0; i < ncuts; i++)
        cuts[i] = ((size_t)data[2 + 2 * i] << 8 | data[3 + 2 * i]) % (len + 1);
    qsort(cuts, ncuts, sizeof(cuts[0]), cmp_size);

    struct admin_request *split = malloc(sizeof(*split));
    struct admin_request *whole = malloc(sizeof(*whole));
    CHECK(split != NULL && whole != NULL);
    enum admin_request_status st = run(split, limit, stream, len, cuts, ncuts);
    enum admin_request_status st1 = run(whole, limit, stream, len, NULL, 0);
    if (st == ADMIN_REQUEST_COMPLETE)
        check_complete(split, stream, len);
    if (st1 == ADMIN_REQUEST_COMPLETE)
        check_complete(whole, stream, len);
    if (st != ADMIN_REQUEST_TOO_LARGE) {
        CHECK(st1 == st);
        if (st == ADMIN_REQUEST_COMPLETE) {
            CHECK(admin_request_method(whole) == admin_request_method(split));
            CHECK(whole->url_too_long == split->url_too_long);
            /* Past the cap, which pieces of the URL were kept depends on the reads. */
            CHECK(whole->url_too_long ||
                  (strcmp(whole->url, split->url) == 0 && strcmp(whole->path, split->path) == 0));
            CHECK(admin_request_route(whole) == admin_request_route(split));
            CHECK(whole->fed == len);
        }
    }
    free(split);
    free(whole);
    return 0;
}
