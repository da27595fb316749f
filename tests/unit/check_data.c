/* Unit tests for SPOP typed data (spop_data.h): decoding and encoding of every
 * type, malformed inputs, length overflow and the spop_writer cursor. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "spop/spop_data.h"
#include "spop/spop_proto.h"
#include "test_util.h"

/* Decodes <hex> into a heap buffer; *len receives its length. */
static uint8_t *must_hex(const char *hex, size_t *len)
{
    uint8_t *raw = NULL;
    long n = hex_decode(hex, &raw);
    ck_assert_int_ge(n, 0);
    *len = (size_t)n;
    return raw;
}

/* One encoded value and what it decodes to. <body> is the hex of the IPV4,
 * IPV6, STR or BIN content. */
struct data_vec {
    const char *hex;
    uint8_t type;
    bool boolean;
    int64_t i64;
    uint64_t u64;
    const char *body;
};

static const struct data_vec vectors[] = {
    {.hex = "00", .type = SPOP_DATA_T_NULL},
    {.hex = "01", .type = SPOP_DATA_T_BOOL, .boolean = false},
    {.hex = "11", .type = SPOP_DATA_T_BOOL, .boolean = true},
    {.hex = "02 05", .type = SPOP_DATA_T_INT32, .i64 = 5},
    {.hex = "02 ff f0 fe fe fe fe fe fe fe 0e", .type = SPOP_DATA_T_INT32, .i64 = -1},
    {.hex = "03 fc f0 06", .type = SPOP_DATA_T_UINT32, .u64 = 16380},
    {.hex = "03 ff f0 fe fe 7e", .type = SPOP_DATA_T_UINT32, .u64 = UINT32_MAX},
    {.hex = "04 00", .type = SPOP_DATA_T_INT64, .i64 = 0},
    {.hex = "04 f4 94 01", .type = SPOP_DATA_T_INT64, .i64 = 4660},
    {.hex = "04 ff f0 fe fe fe fe fe fe fe 0e", .type = SPOP_DATA_T_INT64, .i64 = -1},
    {.hex = "04 fe f0 fe fe fe fe fe fe fe 0e", .type = SPOP_DATA_T_INT64, .i64 = -2},
    {.hex = "04 f0 f1 fe fe fe fe fe fe fe 06", .type = SPOP_DATA_T_INT64, .i64 = INT64_MIN},
    {.hex = "05 00", .type = SPOP_DATA_T_UINT64, .u64 = 0},
    {.hex = "05 f0 f1 fe fe 7e", .type = SPOP_DATA_T_UINT64, .u64 = (uint64_t)UINT32_MAX + 1},
    {.hex = "05 ff f0 fe fe fe fe fe fe fe 0e", .type = SPOP_DATA_T_UINT64, .u64 = UINT64_MAX},
    {.hex = "06 7f 00 00 01", .type = SPOP_DATA_T_IPV4, .body = "7f 00 00 01"},
    {.hex = "07 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01",
     .type = SPOP_DATA_T_IPV6,
     .body = "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"},
    {.hex = "08 03 32 2e 30", .type = SPOP_DATA_T_STR, .body = "32 2e 30"},
    {.hex = "08 00", .type = SPOP_DATA_T_STR, .body = ""},
    {.hex = "09 04 00 ff 0a 80", .type = SPOP_DATA_T_BIN, .body = "00 ff 0a 80"},
    {.hex = "09 00", .type = SPOP_DATA_T_BIN, .body = ""},
};
#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

/* Asserts that <d> holds the value described by <v>. */
static void assert_value(const struct data_vec *v, const struct spop_data *d)
{
    ck_assert_uint_eq(d->type, v->type);
    size_t blen = 0;
    uint8_t *body = v->body ? must_hex(v->body, &blen) : NULL;
    switch (v->type) {
    case SPOP_DATA_T_BOOL:
        ck_assert(d->u.boolean == v->boolean);
        break;
    case SPOP_DATA_T_INT32:
    case SPOP_DATA_T_INT64:
        ck_assert_int_eq(d->u.i64, v->i64);
        break;
    case SPOP_DATA_T_UINT32:
    case SPOP_DATA_T_UINT64:
        ck_assert_uint_eq(d->u.u64, v->u64);
        break;
    case SPOP_DATA_T_IPV4:
        ck_assert_uint_eq(blen, 4);
        ck_assert_mem_eq(d->u.ipv4, body, 4);
        break;
    case SPOP_DATA_T_IPV6:
        ck_assert_uint_eq(blen, 16);
        ck_assert_mem_eq(d->u.ipv6, body, 16);
        break;
    case SPOP_DATA_T_STR:
    case SPOP_DATA_T_BIN:
        ck_assert_uint_eq(d->u.bytes.len, blen);
        if (blen)
            ck_assert_mem_eq(d->u.bytes.ptr, body, blen);
        break;
    }
    free(body);
}

START_TEST(test_decode_vectors)
{
    const struct data_vec *v = &vectors[_i];
    size_t len;
    uint8_t *raw = must_hex(v->hex, &len);
    uint8_t *g = guarded_copy(raw, len);
    struct spop_data d;
    memset(&d, 0, sizeof(d));

    ck_assert_int_eq(spop_data_decode(g, len, &d), (ssize_t)len);
    assert_value(v, &d);
    if (v->type == SPOP_DATA_T_STR || v->type == SPOP_DATA_T_BIN)
        ck_assert_ptr_eq(d.u.bytes.ptr, g + len - d.u.bytes.len); /* a view into the input */
    guarded_free(g, len);

    /* Trailing bytes are left for the next value. */
    uint8_t *longer = malloc(len + 3);
    memcpy(longer, raw, len);
    memset(longer + len, 0x11, 3);
    ck_assert_int_eq(spop_data_decode(longer, len + 3, &d), (ssize_t)len);
    assert_value(v, &d);
    free(longer);
    free(raw);
}
END_TEST

START_TEST(test_encode_vectors)
{
    const struct data_vec *v = &vectors[_i];
    size_t len;
    uint8_t *want = must_hex(v->hex, &len);
    struct spop_data d;
    ck_assert_int_eq(spop_data_decode(want, len, &d), (ssize_t)len);

    uint8_t out[64];
    memset(out, 0xee, sizeof(out));
    struct spop_writer w;
    spop_writer_init(&w, out, sizeof(out));
    spop_put_data(&w, &d);
    ck_assert(!w.failed);
    ck_assert_uint_eq(w.len, len);
    ck_assert_mem_eq(out, want, len);
    ck_assert_uint_eq(out[len], 0xee);
    free(want);
}
END_TEST

/* Every strict prefix of a value is incomplete, never an error or an over-read. */
START_TEST(test_decode_truncated)
{
    const struct data_vec *v = &vectors[_i];
    size_t len;
    uint8_t *raw = must_hex(v->hex, &len);
    for (size_t k = 0; k < len; k++) {
        uint8_t *g = guarded_copy(raw, k);
        struct spop_data d;
        ck_assert_msg(spop_data_decode(g, k, &d) == 0, "%s cut to %zu bytes", v->hex, k);
        guarded_free(g, k);
    }
    free(raw);
}
END_TEST

/* A negative signed integer is its two's complement as u64: 10 varint bytes. */
START_TEST(test_encode_negative_int64)
{
    uint8_t out[16];
    struct spop_writer w;
    spop_writer_init(&w, out, sizeof(out));
    struct spop_data d = {.type = SPOP_DATA_T_INT64, .u.i64 = -1};
    spop_put_data(&w, &d);
    ck_assert(!w.failed);
    ck_assert_uint_eq(w.len, 1 + SPOP_VARINT_MAX_BYTES);

    size_t len;
    uint8_t *want = must_hex("04 ff f0 fe fe fe fe fe fe fe 0e", &len);
    ck_assert_uint_eq(w.len, len);
    ck_assert_mem_eq(out, want, len);
    free(want);
}
END_TEST

static const uint8_t unknown_types[] = {0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x1a, 0x8c, 0xff};
#define N_UNKNOWN (sizeof(unknown_types) / sizeof(unknown_types[0]))

START_TEST(test_unknown_type)
{
    uint8_t in[5] = {unknown_types[_i], 0x03, 'a', 'b', 'c'};
    for (size_t len = 1; len <= sizeof(in); len++) {
        uint8_t *g = guarded_copy(in, len);
        struct spop_data d;
        ck_assert_int_eq(spop_data_decode(g, len, &d), -SPOP_ERR_INVALID);
        guarded_free(g, len);
    }
}
END_TEST

/* Length prefixes that claim more than the input holds. */
static const char *const overlong[] = {
    "08 ff f0 fe fe fe fe fe fe fe 0e 41 42",    /* UINT64_MAX */
    "09 fe f0 fe fe fe fe fe fe fe 0e 41",       /* UINT64_MAX - 1 */
    "08 f0 f1 fe fe fe fe fe fe fe 06 41 42 43", /* 2^63 */
    "09 f0 f1 fe fe 7e 00",                      /* 2^32 */
    "08 05 41 42 43 44",                         /* one byte short */
    "09 fc f0 06 00 00",                         /* 16380 */
};
#define N_OVERLONG (sizeof(overlong) / sizeof(overlong[0]))

START_TEST(test_length_overflow)
{
    size_t len;
    uint8_t *raw = must_hex(overlong[_i], &len);
    uint8_t *g = guarded_copy(raw, len);
    struct spop_data d;
    ck_assert_int_eq(spop_data_decode(g, len, &d), 0);
    /* The same prefix without the type byte, as a KV name. */
    struct spop_bytes b = {NULL, 0};
    ck_assert_int_eq(spop_bytes_decode(g + 1, len - 1, &b), 0);
    ck_assert_ptr_null(b.ptr);
    guarded_free(g, len);
    free(raw);
}
END_TEST

START_TEST(test_length_varint_invalid)
{
    size_t len;
    uint8_t *raw = must_hex("08 f0 80 80 80 80 80 80 80 80 80 80 00", &len);
    uint8_t *g = guarded_copy(raw, len);
    struct spop_data d;
    ck_assert_int_eq(spop_data_decode(g, len, &d), -SPOP_ERR_INVALID);
    struct spop_bytes b;
    ck_assert_int_eq(spop_bytes_decode(g + 1, len - 1, &b), -SPOP_ERR_INVALID);
    guarded_free(g, len);
    free(raw);
}
END_TEST

START_TEST(test_long_string)
{
    char text[300];
    memset(text, 'x', sizeof(text));
    uint8_t out[400];
    struct spop_writer w;
    spop_writer_init(&w, out, sizeof(out));
    spop_put_str(&w, text, sizeof(text));
    ck_assert(!w.failed);
    ck_assert_uint_eq(w.len, 3 + sizeof(text));
    ck_assert_uint_eq(out[0], SPOP_DATA_T_STR);
    ck_assert_uint_eq(out[1], 0xfc); /* 300 = fc 03 */
    ck_assert_uint_eq(out[2], 0x03);

    uint8_t *g = guarded_copy(out, w.len);
    struct spop_data d;
    ck_assert_int_eq(spop_data_decode(g, w.len, &d), (ssize_t)w.len);
    ck_assert_uint_eq(d.type, SPOP_DATA_T_STR);
    ck_assert_uint_eq(d.u.bytes.len, sizeof(text));
    ck_assert_ptr_eq(d.u.bytes.ptr, g + 3);
    ck_assert_mem_eq(d.u.bytes.ptr, text, sizeof(text));
    guarded_free(g, w.len);
}
END_TEST

/* Appends with the put helpers and compares with the expected encoding. */
START_TEST(test_put_helpers)
{
    uint8_t out[128];
    struct spop_writer w;
    spop_writer_init(&w, out, sizeof(out));
    spop_put_u8(&w, 0x65);
    spop_put_u32be(&w, 0x01020304);
    spop_put_varint(&w, 16380);
    spop_put_name(&w, "abc", 3);
    spop_put_str(&w, "2.0", 3);
    spop_put_str(&w, "", 0);
    spop_put_bool(&w, true);
    spop_put_bool(&w, false);
    spop_put_uint(&w, 5);
    spop_put_uint(&w, UINT32_MAX);
    spop_put_uint(&w, (uint64_t)UINT32_MAX + 1);
    spop_put_raw(&w, "\x00\xff", 2);
    ck_assert(!w.failed);

    size_t len;
    uint8_t *want = must_hex("65  01 02 03 04  fc f0 06  03 61 62 63  08 03 32 2e 30  08 00  11  01"
                             "  03 05  03 ff f0 fe fe 7e  05 f0 f1 fe fe 7e  00 ff",
                             &len);
    ck_assert_uint_eq(w.len, len);
    ck_assert_mem_eq(out, want, len);
    free(want);
}
END_TEST

START_TEST(test_writer_overflow)
{
    uint8_t mem[16];
    memset(mem, 0xee, sizeof(mem));
    struct spop_writer w;
    spop_writer_init(&w, mem, 4);
    spop_put_u32be(&w, 0x01020304);
    ck_assert(!w.failed);
    ck_assert_uint_eq(w.len, 4);

    spop_put_u8(&w, 0x55);
    ck_assert(w.failed);
    ck_assert_uint_eq(w.len, 4);
    spop_put_varint(&w, 1);
    spop_put_str(&w, "abc", 3);
    ck_assert(w.failed);
    ck_assert_uint_eq(w.len, 4);
    for (size_t i = 4; i < sizeof(mem); i++)
        ck_assert_uint_eq(mem[i], 0xee);
    ck_assert_uint_eq(mem[0], 0x01);
    ck_assert_uint_eq(mem[3], 0x04);
}
END_TEST

/* After a write that does not fit, even a write that would fit is dropped. */
START_TEST(test_writer_stays_failed)
{
    uint8_t mem[16];
    memset(mem, 0xee, sizeof(mem));
    struct spop_writer w;
    spop_writer_init(&w, mem, 8);
    spop_put_raw(&w, "0123456789", 9);
    ck_assert(w.failed);
    ck_assert_uint_eq(w.len, 0);
    spop_put_u8(&w, 0x55);
    spop_put_bool(&w, true);
    ck_assert(w.failed);
    ck_assert_uint_eq(w.len, 0);
    for (size_t i = 8; i < sizeof(mem); i++)
        ck_assert_uint_eq(mem[i], 0xee);
    ck_assert_uint_ne(mem[0], 0x55);
    ck_assert_uint_ne(mem[0], 0x11);
}
END_TEST

/* A varint or value that exactly fills the buffer fits; one more byte does not. */
START_TEST(test_writer_exact_fit)
{
    uint8_t mem[8];
    memset(mem, 0xee, sizeof(mem));
    struct spop_writer w;
    spop_writer_init(&w, mem, 3);
    spop_put_varint(&w, 16380);
    ck_assert(!w.failed);
    ck_assert_uint_eq(w.len, 3);
    spop_put_raw(&w, "", 0);
    ck_assert(!w.failed);
    spop_put_u8(&w, 0);
    ck_assert(w.failed);
    ck_assert_uint_eq(w.len, 3);
    ck_assert_uint_eq(mem[3], 0xee);

    memset(mem, 0xee, sizeof(mem));
    spop_writer_init(&w, mem, 2);
    spop_put_varint(&w, 16380);
    ck_assert(w.failed);
    ck_assert_uint_eq(mem[2], 0xee);

    spop_writer_init(&w, mem, 0);
    ck_assert(!w.failed);
    ck_assert_uint_eq(w.len, 0);
    spop_put_bool(&w, true);
    ck_assert(w.failed);
    ck_assert_uint_eq(w.len, 0);
}
END_TEST

START_TEST(test_as_uint)
{
    static const struct {
        struct spop_data d;
        bool ok;
        uint64_t want;
    } cases[] = {
        {{.type = SPOP_DATA_T_INT32, .u.i64 = 5}, true, 5},
        {{.type = SPOP_DATA_T_INT32, .u.i64 = -5}, false, 0},
        {{.type = SPOP_DATA_T_INT64, .u.i64 = 16380}, true, 16380},
        {{.type = SPOP_DATA_T_INT64, .u.i64 = INT64_MAX}, true, (uint64_t)INT64_MAX},
        {{.type = SPOP_DATA_T_INT64, .u.i64 = -1}, false, 0},
        {{.type = SPOP_DATA_T_INT64, .u.i64 = INT64_MIN}, false, 0},
        {{.type = SPOP_DATA_T_UINT32, .u.u64 = 256}, true, 256},
        {{.type = SPOP_DATA_T_UINT64, .u.u64 = UINT64_MAX}, true, UINT64_MAX},
        {{.type = SPOP_DATA_T_NULL}, false, 0},
        {{.type = SPOP_DATA_T_BOOL, .u.boolean = true}, false, 0},
        {{.type = SPOP_DATA_T_STR, .u.bytes = {(const uint8_t *)"5", 1}}, false, 0},
        {{.type = SPOP_DATA_T_BIN, .u.bytes = {(const uint8_t *)"5", 1}}, false, 0},
        {{.type = SPOP_DATA_T_IPV4, .u.ipv4 = {127, 0, 0, 1}}, false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t out = 0xabcdef;
        bool ok = spop_data_as_uint(&cases[i].d, &out);
        ck_assert_msg(ok == cases[i].ok, "case %zu", i);
        ck_assert_uint_eq(out, ok ? cases[i].want : 0xabcdef);
    }
}
END_TEST

START_TEST(test_as_uint_decoded)
{
    /* INT64 -1 off the wire (10 varint bytes) is refused; UINT32 16380 accepted. */
    size_t len;
    uint8_t *raw = must_hex("04 ff f0 fe fe fe fe fe fe fe 0e  03 fc f0 06", &len);
    struct spop_data d;
    ssize_t n = spop_data_decode(raw, len, &d);
    ck_assert_int_eq(n, 11);
    uint64_t out = 7;
    ck_assert(!spop_data_as_uint(&d, &out));
    ck_assert_uint_eq(out, 7);
    ck_assert_int_eq(spop_data_decode(raw + n, len - (size_t)n, &d), 4);
    ck_assert(spop_data_as_uint(&d, &out));
    ck_assert_uint_eq(out, 16380);
    free(raw);
}
END_TEST

START_TEST(test_bytes_eq_and_u32)
{
    struct spop_bytes abc = {(const uint8_t *)"abcd", 3};
    ck_assert(spop_bytes_eq(abc, "abc"));
    ck_assert(!spop_bytes_eq(abc, "ab"));
    ck_assert(!spop_bytes_eq(abc, "abcd"));
    ck_assert(!spop_bytes_eq(abc, "abd"));
    struct spop_bytes empty = {NULL, 0};
    ck_assert(spop_bytes_eq(empty, ""));
    ck_assert(!spop_bytes_eq(empty, "a"));

    static const uint8_t be[4] = {0x80, 0x01, 0x02, 0xff};
    ck_assert_uint_eq(spop_get_u32be(be), 0x800102ffu);
}
END_TEST

Suite *data_suite(void);

/* data_suite: the Check suite for spop_data.h. */
Suite *data_suite(void)
{
    Suite *s = suite_create("data");

    TCase *tc = tcase_create("vectors");
    tcase_add_loop_test(tc, test_decode_vectors, 0, (int)N_VECTORS);
    tcase_add_loop_test(tc, test_encode_vectors, 0, (int)N_VECTORS);
    tcase_add_test(tc, test_encode_negative_int64);
    tcase_add_test(tc, test_long_string);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_loop_test(tc, test_decode_truncated, 0, (int)N_VECTORS);
    tcase_add_loop_test(tc, test_unknown_type, 0, (int)N_UNKNOWN);
    tcase_add_loop_test(tc, test_length_overflow, 0, (int)N_OVERLONG);
    tcase_add_test(tc, test_length_varint_invalid);
    suite_add_tcase(s, tc);

    tc = tcase_create("writer");
    tcase_add_test(tc, test_put_helpers);
    tcase_add_test(tc, test_writer_overflow);
    tcase_add_test(tc, test_writer_stays_failed);
    tcase_add_test(tc, test_writer_exact_fit);
    suite_add_tcase(s, tc);

    tc = tcase_create("helpers");
    tcase_add_test(tc, test_as_uint);
    tcase_add_test(tc, test_as_uint_decoded);
    tcase_add_test(tc, test_bytes_eq_and_u32);
    suite_add_tcase(s, tc);
    return s;
}
