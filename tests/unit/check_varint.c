/* Unit tests for the SPOP varint (spop_varint.h) against the vectors of
 * spop.md section 1.2, plus truncation, overlong and overflow inputs. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "spop/spop_proto.h"
#include "spop/spop_varint.h"
#include "test_util.h"

struct varint_vec {
    uint64_t value;
    const char *hex;
};

/* spop.md section 1.2 (the table and the worked example), plus zero. */
static const struct varint_vec vectors[] = {
    {0, "00"},
    {239, "ef"},
    {240, "f0 00"},
    {300, "fc 03"},
    {2287, "ff 7f"},
    {2288, "f0 80 00"},
    {4660, "f4 94 01"},
    {16380, "fc f0 06"},
    {65532, "fc f0 1e"},
    {102396, "fc f0 30"},
    {264432, "f0 80 80 00"},
    {33818864, "f0 80 80 80 00"},
    {UINT64_MAX, "ff f0 fe fe fe fe fe fe fe 0e"},
};
#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

/* Decodes <hex> into a heap buffer; *len receives its length. */
static uint8_t *must_hex(const char *hex, size_t *len)
{
    uint8_t *raw = NULL;
    long n = hex_decode(hex, &raw);
    ck_assert_int_ge(n, 0);
    *len = (size_t)n;
    return raw;
}

START_TEST(test_encode_vectors)
{
    const struct varint_vec *v = &vectors[_i];
    size_t want_len;
    uint8_t *want = must_hex(v->hex, &want_len);
    uint8_t out[SPOP_VARINT_MAX_BYTES];
    memset(out, 0xaa, sizeof(out));

    size_t n = spop_varint_encode(v->value, out);
    ck_assert_uint_eq(n, want_len);
    ck_assert_mem_eq(out, want, want_len);
    ck_assert_uint_eq(spop_varint_size(v->value), want_len);
    free(want);
}
END_TEST

START_TEST(test_decode_vectors)
{
    const struct varint_vec *v = &vectors[_i];
    size_t len;
    uint8_t *raw = must_hex(v->hex, &len);
    uint8_t *g = guarded_copy(raw, len);
    uint64_t out = 0x5a5a;

    ck_assert_int_eq(spop_varint_decode(g, len, &out), (ssize_t)len);
    ck_assert_uint_eq(out, v->value);
    guarded_free(g, len);

    /* Followed by more bytes: the varint ends where its encoding says. */
    uint8_t longer[SPOP_VARINT_MAX_BYTES + 2];
    memcpy(longer, raw, len);
    longer[len] = 0xff;
    longer[len + 1] = 0x80;
    out = 0;
    ck_assert_int_eq(spop_varint_decode(longer, len + 2, &out), (ssize_t)len);
    ck_assert_uint_eq(out, v->value);
    free(raw);
}
END_TEST

START_TEST(test_decode_truncated)
{
    const struct varint_vec *v = &vectors[_i];
    size_t len;
    uint8_t *raw = must_hex(v->hex, &len);
    for (size_t k = 0; k < len; k++) {
        uint8_t *g = guarded_copy(raw, k);
        uint64_t out = 0x5a5a;
        ck_assert_int_eq(spop_varint_decode(g, k, &out), 0);
        ck_assert_uint_eq(out, 0x5a5a);
        guarded_free(g, k);
    }
    free(raw);
}
END_TEST

/* Encodings that must be refused: longer than 10 bytes, or a value past 2^64-1. */
static const char *const invalid_encodings[] = {
    /* eleven bytes of continuation */
    "f0 80 80 80 80 80 80 80 80 80 80",
    "ff ff ff ff ff ff ff ff ff ff ff 00",
    /* ten bytes whose last byte still has the continuation bit */
    "f0 80 80 80 80 80 80 80 80 80",
    /* ten bytes, value UINT64_MAX + 2^60 */
    "ff f0 fe fe fe fe fe fe fe 0f",
    /* ten bytes, every middle byte at its maximum: 2^64 + ... */
    "ff ff ff ff ff ff ff ff ff 0e",
    /* ten bytes, the last byte's bit 4 lands on bit 64 */
    "f0 80 80 80 80 80 80 80 80 10",
    "ff f0 fe fe fe fe fe fe fe 7f",
};
#define N_INVALID (sizeof(invalid_encodings) / sizeof(invalid_encodings[0]))

START_TEST(test_decode_invalid)
{
    size_t len;
    uint8_t *raw = must_hex(invalid_encodings[_i], &len);
    uint8_t *g = guarded_copy(raw, len);
    uint64_t out = 0x5a5a;
    ck_assert_int_eq(spop_varint_decode(g, len, &out), -SPOP_ERR_INVALID);
    ck_assert_uint_eq(out, 0x5a5a);
    guarded_free(g, len);
    free(raw);
}
END_TEST

/* Checks the shape of an encoding: a first byte below 240 stands alone;
 * otherwise every middle byte has bit 7 set and the last one does not. */
static void assert_well_formed(const uint8_t *b, size_t n)
{
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_le(n, SPOP_VARINT_MAX_BYTES);
    if (b[0] < 240) {
        ck_assert_uint_eq(n, 1);
        return;
    }
    ck_assert_uint_ge(n, 2);
    for (size_t i = 1; i + 1 < n; i++)
        ck_assert_uint_ge(b[i], 0x80);
    ck_assert_uint_lt(b[n - 1], 0x80);
}

static void round_trip(uint64_t v)
{
    uint8_t enc[SPOP_VARINT_MAX_BYTES];
    size_t n = spop_varint_encode(v, enc);
    assert_well_formed(enc, n);
    ck_assert_uint_eq(spop_varint_size(v), n);

    uint8_t *g = guarded_copy(enc, n);
    uint64_t out = ~v;
    ck_assert_int_eq(spop_varint_decode(g, n, &out), (ssize_t)n);
    ck_assert_msg(out == v, "round trip of %llu gave %llu", (unsigned long long)v, (unsigned long long)out);
    guarded_free(g, n);
}

/* _i = bit number 0..64: 2^i - 1, 2^i and 2^i + 1 (for 64: 2^64-2 and 2^64-1). */
START_TEST(test_round_trip_powers)
{
    if (_i == 64) {
        round_trip(UINT64_MAX - 1);
        round_trip(UINT64_MAX);
        return;
    }
    uint64_t p = (uint64_t)1 << _i;
    round_trip(p - 1);
    round_trip(p);
    round_trip(p + 1);
}
END_TEST

/* The encoded size grows by one byte exactly at each boundary. */
START_TEST(test_size_boundaries)
{
    static const struct {
        uint64_t value;
        size_t size;
    } b[] = {
        {239, 1}, {240, 2}, {2287, 2}, {2288, 3}, {264431, 3}, {264432, 4}, {33818863, 4}, {33818864, 5},
    };
    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
        ck_assert_uint_eq(spop_varint_size(b[i].value), b[i].size);
}
END_TEST

Suite *varint_suite(void);

/* varint_suite: the Check suite for spop_varint.h. */
Suite *varint_suite(void)
{
    Suite *s = suite_create("varint");

    TCase *tc = tcase_create("vectors");
    tcase_add_loop_test(tc, test_encode_vectors, 0, (int)N_VECTORS);
    tcase_add_loop_test(tc, test_decode_vectors, 0, (int)N_VECTORS);
    tcase_add_test(tc, test_size_boundaries);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_loop_test(tc, test_decode_truncated, 0, (int)N_VECTORS);
    tcase_add_loop_test(tc, test_decode_invalid, 0, (int)N_INVALID);
    suite_add_tcase(s, tc);

    tc = tcase_create("round_trip");
    tcase_add_loop_test(tc, test_round_trip_powers, 0, 65);
    suite_add_tcase(s, tc);
    return s;
}
