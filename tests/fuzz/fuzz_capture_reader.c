/* libFuzzer target: the capture reader (capture_reader.h, capture_record.h).
 *
 * The input is a capture file's bytes, read record by record from an exactly
 * sized heap copy (so ASan sees any read past the end). Every property is
 * asserted with abort():
 * - offsets: each record starts where the previous one ended, ends after it
 *   starts, and lies within the input; END only at the very end; TRUNCATED
 *   and CORRUPT stop at an offset within the input, are repeated by a
 *   second call, and leave the record count unchanged;
 * - every byte view of a record lies inside that record's bytes;
 * - a valid record's bytes read alone give the same record and nothing else,
 *   and every shorter prefix of them is TRUNCATED at offset 0 (the torn-tail
 *   rule);
 * - decode(encode(r)) == r, and encoding that again gives identical bytes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture_reader.h"
#include "capture/capture_record.h"
#include "fuzz_check.h"

/* Prefixes checked per record: all of them for small records, else a sample. */
#define PREFIX_CHECKS 64u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(struct spop_bytes b, const uint8_t *base, size_t len)
{
    if (b.len == 0)
        return true;
    return b.ptr >= base && b.len <= len && (size_t)(b.ptr - base) <= len - b.len;
}

static void check_views(const struct capture_record *r, const uint8_t *base, size_t len)
{
    const struct spop_bytes all[] = {
        r->route,        r->mirror, r->method, r->path, r->authority, r->shadow_authority,
        r->http_version, r->body,   r->id,     r->src};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        CHECK(inside(all[i], base, len));
    for (size_t i = 0; i < r->n_headers; i++)
        CHECK(inside(r->headers[i].name, base, len) && inside(r->headers[i].value, base, len));
    CHECK(r->version >= 1 && r->version <= CAPTURE_FORMAT_VERSION);
}

/* decode(encode(r)) == r, and the encoding is a fixed point. */
static void check_reencode(const struct capture_record *r)
{
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    CHECK(capture_record_encode(r, &a) == 0);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    struct capture_record back;
    char why[CAPTURE_WHY_LEN];
    size_t off = 0;
    CHECK(capture_record_decode((const uint8_t *)a.data, a.size, &off, &u, &back, why) == CAPTURE_OK);
    CHECK(off == a.size);
    CHECK(capture_record_equal(r, &back));
    CHECK(capture_record_encode(&back, &b) == 0);
    CHECK(b.size == a.size && memcmp(a.data, b.data, a.size) == 0);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

/* The record's own bytes, alone and cut short. */
static void check_alone(const struct capture_record *r, const uint8_t *rec, size_t len)
{
    uint8_t *copy = malloc(len);
    CHECK(copy != NULL);
    memcpy(copy, rec, len);
    struct capture_reader rd;
    capture_reader_init_bytes(&rd, copy, len);
    struct capture_record again;
    CHECK(capture_reader_next(&rd, &again) == CAPTURE_OK);
    CHECK(capture_record_equal(r, &again));
    CHECK(capture_reader_next(&rd, &again) == CAPTURE_END);
    capture_reader_destroy(&rd);
    size_t step = len / PREFIX_CHECKS + 1;
    for (size_t cut = 0; cut < len; cut += step) {
        capture_reader_init_bytes(&rd, copy, cut);
        enum capture_status s = capture_reader_next(&rd, &again);
        CHECK(s == (cut == 0 ? CAPTURE_END : CAPTURE_TRUNCATED));
        CHECK(capture_reader_offset(&rd) == 0);
        capture_reader_destroy(&rd);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    CHECK(buf != NULL);
    if (size)
        memcpy(buf, data, size);
    struct capture_reader rd;
    capture_reader_init_bytes(&rd, buf, size);
    struct capture_record r;
    enum capture_status s = CAPTURE_OK;
    size_t prev = 0;
    for (size_t turn = 0; turn <= size; turn++) { /* each record takes at least one byte */
        s = capture_reader_next(&rd, &r);
        size_t off = capture_reader_offset(&rd);
        if (s != CAPTURE_OK) {
            CHECK(off == prev);
            break;
        }
        CHECK(rd.rec_offset == prev);
        CHECK(off > prev && off <= size);
        CHECK(rd.records == turn + 1);
        check_views(&r, buf + prev, off - prev);
        check_reencode(&r);
        check_alone(&r, buf + prev, off - prev);
        prev = off;
    }
    CHECK(s != CAPTURE_OK);
    CHECK(s != CAPTURE_END || prev == size);
    CHECK(s == CAPTURE_END || prev < size);
    if (s == CAPTURE_CORRUPT)
        CHECK(rd.why[0] != '\0');
    size_t records = rd.records;
    CHECK(capture_reader_next(&rd, &r) == s); /* sticky */
    CHECK(capture_reader_offset(&rd) == prev && rd.records == records);
    capture_reader_destroy(&rd);
    free(buf);
    return 0;
}
