/* libFuzzer target: the diff log's record decoder (compare_record.h), as
 * `spoa-shadow compare-report` runs it over a file's bytes.
 *
 * Checked with abort():
 * - offsets only move forward, by whole records, and stay within the input;
 *   END only at the end; TRUNCATED and CORRUPT leave the offset on the
 *   problem record and come with a reason;
 * - every view of a decoded record lies inside the input; lists hold at
 *   most COMPARE_RECORD_MAX_ITEMS entries;
 * - re-encoding a decoded record and decoding that gives a record whose
 *   encoding is the same bytes again (a fixed point). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare/compare_record.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(struct spop_bytes b, const uint8_t *p, size_t len)
{
    return b.len == 0 || (b.ptr >= p && b.ptr + b.len <= p + len);
}

static void check_views(const struct compare_record *r, const uint8_t *p, size_t len)
{
    CHECK(inside(r->id, p, len) && inside(r->route, p, len) && inside(r->mirror, p, len));
    CHECK(inside(r->method, p, len) && inside(r->path, p, len) && inside(r->result, p, len));
    CHECK(inside(r->shadow_error, p, len) && inside(r->role, p, len));
    CHECK(r->n_headers <= COMPARE_RECORD_MAX_ITEMS && r->n_json <= COMPARE_RECORD_MAX_ITEMS);
    for (size_t i = 0; i < r->n_headers; i++)
        CHECK(inside(r->headers[i].name, p, len) && inside(r->headers[i].primary, p, len) &&
              inside(r->headers[i].shadow, p, len));
    for (size_t i = 0; i < r->n_json; i++)
        CHECK(inside(r->json[i].kind, p, len) && inside(r->json[i].path, p, len) &&
              inside(r->json[i].generalized, p, len) && inside(r->json[i].primary, p, len) &&
              inside(r->json[i].shadow, p, len));
}

static void fixed_point(const struct compare_record *r)
{
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    CHECK(compare_record_encode(r, &a) == 0);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    struct compare_record again;
    char why[CAPTURE_WHY_LEN];
    size_t off = 0;
    CHECK(compare_record_decode((const uint8_t *)a.data, a.size, &off, &u, &again, why) == CAPTURE_OK);
    CHECK(off == a.size);
    CHECK(compare_record_encode(&again, &b) == 0);
    CHECK(a.size == b.size && memcmp(a.data, b.data, a.size) == 0);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    for (;;) {
        struct compare_record r;
        char why[CAPTURE_WHY_LEN];
        size_t before = off;
        enum capture_status st = compare_record_decode(data, size, &off, &u, &r, why);
        if (st == CAPTURE_OK) {
            CHECK(off > before && off <= size);
            check_views(&r, data, size);
            fixed_point(&r);
            continue;
        }
        CHECK(off == before);
        if (st == CAPTURE_END)
            CHECK(off == size);
        else
            CHECK(why[0] != '\0');
        break;
    }
    msgpack_unpacked_destroy(&u);
    return 0;
}
