/* Unit tests for the capture format: capture_record.h (encode/decode) and
 * capture_reader.h (iterating a file, torn tails, corrupt records). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture_reader.h"
#include "capture/capture_record.h"
#include "capture/capture_scan.h"
#include "test_util.h"

#define B(s) ((struct spop_bytes){(const uint8_t *)(s), sizeof(s) - 1})

static const uint8_t binary_body[] = {0x00, 'a', 0x00, 0xc1, 0xff, 0x80, 0x00, '\r', '\n', 0xdf};

static const struct capture_header sample_headers[] = {
    {B("user-agent"), B("curl/8.0")},
    {B("x-empty"), B("")},
    {B("authorization"), B(CAPTURE_REDACTED)},
    {B("x-dup"), B("1")},
    {B("x-dup"), B("2")},
};

/* A record using every field; <variant> selects id/src presence (bits 0, 1). */
static struct capture_record sample_record(int variant)
{
    struct capture_record r = {
        .version = CAPTURE_FORMAT_VERSION,
        .ts_ns = 1700000000123456789ull,
        .route = B("api"),
        .mirror = B("file:///var/lib/spoa-shadow/capture"),
        .method = B("POST"),
        .path = B("/v1/items?q=a%20b&x=1"),
        .authority = B("api.example.com:8443"),
        .shadow_authority = B("api.example.com-shadow:8443"),
        .http_version = B("1.1"),
        .headers = sample_headers,
        .n_headers = sizeof(sample_headers) / sizeof(sample_headers[0]),
        .body = {binary_body, sizeof(binary_body)},
        .has_id = (variant & 1) != 0,
        .id = B("req-42"),
        .has_src = (variant & 2) != 0,
        .src = B("2001:db8::1"),
    };
    return r;
}

/* A small record: no headers, empty body, distinct ts. */
static struct capture_record small_record(uint64_t ts)
{
    struct capture_record r = {
        .version = CAPTURE_FORMAT_VERSION,
        .ts_ns = ts,
        .route = B("r"),
        .mirror = B("file:///tmp/c"),
        .method = B("GET"),
        .path = B("/"),
        .authority = B("h"),
        .shadow_authority = B("h-shadow"),
        .http_version = B("2.0"),
    };
    return r;
}

static void encode_ok(const struct capture_record *r, msgpack_sbuffer *sb)
{
    ck_assert_int_eq(capture_record_encode(r, sb), 0);
}

START_TEST(test_round_trip)
{
    struct capture_record in = sample_record(_i);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    encode_ok(&in, &sb);
    uint8_t *g = guarded_copy((const uint8_t *)sb.data, sb.size);

    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    struct capture_record out;
    char why[CAPTURE_WHY_LEN];
    size_t off = 0;
    ck_assert_int_eq(capture_record_decode(g, sb.size, &off, &u, &out, why), CAPTURE_OK);
    ck_assert_uint_eq(off, sb.size);
    ck_assert(capture_record_equal(&in, &out));
    /* field by field, so that a broken capture_record_equal cannot hide a loss */
    ck_assert_uint_eq(out.ts_ns, 1700000000123456789ull);
    ck_assert_uint_eq(out.version, 1);
    ck_assert_uint_eq(out.body.len, sizeof(binary_body));
    ck_assert_mem_eq(out.body.ptr, binary_body, sizeof(binary_body));
    ck_assert_uint_eq(out.n_headers, 5);
    ck_assert(spop_bytes_eq(out.headers[2].value, CAPTURE_REDACTED));
    ck_assert(spop_bytes_eq(out.headers[4].value, "2"));
    ck_assert_uint_eq(out.headers[1].value.len, 0);
    ck_assert(spop_bytes_eq(out.shadow_authority, "api.example.com-shadow:8443"));
    ck_assert(spop_bytes_eq(out.path, "/v1/items?q=a%20b&x=1"));
    ck_assert_int_eq(out.has_id, (_i & 1) != 0);
    ck_assert_int_eq(out.has_src, (_i & 2) != 0);
    if (out.has_id)
        ck_assert(spop_bytes_eq(out.id, "req-42"));
    if (out.has_src)
        ck_assert(spop_bytes_eq(out.src, "2001:db8::1"));
    /* the end: nothing more */
    ck_assert_int_eq(capture_record_decode(g, sb.size, &off, &u, &out, why), CAPTURE_END);
    /* re-encoding what was decoded gives the same bytes */
    msgpack_sbuffer again;
    msgpack_sbuffer_init(&again);
    encode_ok(&out, &again);
    ck_assert_uint_eq(again.size, sb.size);
    ck_assert_mem_eq(again.data, sb.data, sb.size);
    msgpack_sbuffer_destroy(&again);
    msgpack_unpacked_destroy(&u);
    guarded_free(g, sb.size);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_round_trip_empty_fields)
{
    struct capture_record in = small_record(0);
    in.method = B("");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    encode_ok(&in, &sb);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    struct capture_record out;
    char why[CAPTURE_WHY_LEN];
    size_t off = 0;
    ck_assert_int_eq(capture_record_decode((const uint8_t *)sb.data, sb.size, &off, &u, &out, why),
                     CAPTURE_OK);
    ck_assert(capture_record_equal(&in, &out));
    ck_assert_uint_eq(out.n_headers, 0);
    ck_assert_uint_eq(out.body.len, 0);
    ck_assert_uint_eq(out.method.len, 0);
    ck_assert(!out.has_id && !out.has_src);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_equal_detects_differences)
{
    struct capture_record a = sample_record(3), b = sample_record(3);
    ck_assert(capture_record_equal(&a, &b));
    b.ts_ns++;
    ck_assert(!capture_record_equal(&a, &b));
    b = sample_record(3);
    b.headers = sample_headers + 1;
    ck_assert(!capture_record_equal(&a, &b));
    b = sample_record(3);
    b.body.len--;
    ck_assert(!capture_record_equal(&a, &b));
    b = sample_record(1);
    ck_assert(!capture_record_equal(&a, &b));
}
END_TEST

/* ---- records written field by field, to make them wrong on purpose ---- */

enum field_mode { F_GOOD, F_WRONG_TYPE, F_MISSING };

struct field_case {
    const char *key;
    enum field_mode mode;
};

static void pack_s(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

static const char *const all_keys[] = {
    "v",       "ts",   "route", "mirror", "method", "path", "authority", "shadow_authority", "http_version",
    "headers", "body", "id",    "src"};
#define N_KEYS (sizeof(all_keys) / sizeof(all_keys[0]))

/* Packs a good value for <key>, or (wrong) one of another type. */
static void pack_value(msgpack_packer *pk, const char *key, bool wrong)
{
    if (!strcmp(key, "v") || !strcmp(key, "ts")) {
        if (wrong)
            msgpack_pack_int64(pk, -1);
        else
            msgpack_pack_uint64(pk, !strcmp(key, "v") ? 1 : 12345);
    } else if (!strcmp(key, "headers")) {
        if (wrong) {
            pack_s(pk, "a: b");
        } else {
            msgpack_pack_array(pk, 1);
            msgpack_pack_array(pk, 2);
            pack_s(pk, "x-a");
            pack_s(pk, "b");
        }
    } else if (!strcmp(key, "body")) {
        if (wrong) {
            pack_s(pk, "body as str");
        } else {
            msgpack_pack_bin(pk, 3);
            msgpack_pack_bin_body(pk, "a\0b", 3);
        }
    } else if (wrong) {
        msgpack_pack_bin(pk, 1);
        msgpack_pack_bin_body(pk, "x", 1);
    } else {
        pack_s(pk, key);
    }
}

/* A record of every key; <key> (if any) treated as <mode>; <unknown> adds
 * keys no reader knows, before and after the known ones. */
static void pack_variant(msgpack_sbuffer *sb, const char *key, enum field_mode mode, bool unknown)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    size_t n = N_KEYS - (mode == F_MISSING ? 1 : 0) + (unknown ? 3 : 0);
    msgpack_pack_map(&pk, n);
    if (unknown) {
        pack_s(&pk, "future_field");
        msgpack_pack_map(&pk, 1);
        pack_s(&pk, "nested");
        msgpack_pack_array(&pk, 2);
        msgpack_pack_double(&pk, 1.5);
        msgpack_pack_nil(&pk);
        msgpack_pack_uint64(&pk, 7); /* an integer key */
        pack_s(&pk, "ignored");
    }
    for (size_t i = 0; i < N_KEYS; i++) {
        bool is = key && !strcmp(key, all_keys[i]);
        if (is && mode == F_MISSING)
            continue;
        pack_s(&pk, all_keys[i]);
        pack_value(&pk, all_keys[i], is && mode == F_WRONG_TYPE);
    }
    if (unknown) {
        pack_s(&pk, "Body"); /* keys are case-sensitive */
        msgpack_pack_true(&pk);
    }
}

START_TEST(test_unknown_keys_ignored)
{
    msgpack_sbuffer sb, plain;
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_init(&plain);
    pack_variant(&sb, NULL, F_GOOD, true);
    pack_variant(&plain, NULL, F_GOOD, false);
    ck_assert_uint_gt(sb.size, plain.size);
    msgpack_unpacked u1, u2;
    msgpack_unpacked_init(&u1);
    msgpack_unpacked_init(&u2);
    struct capture_record a, b;
    char why[CAPTURE_WHY_LEN];
    size_t off1 = 0, off2 = 0;
    ck_assert_int_eq(capture_record_decode((const uint8_t *)sb.data, sb.size, &off1, &u1, &a, why),
                     CAPTURE_OK);
    ck_assert_int_eq(capture_record_decode((const uint8_t *)plain.data, plain.size, &off2, &u2, &b, why),
                     CAPTURE_OK);
    ck_assert_uint_eq(off1, sb.size);
    ck_assert(capture_record_equal(&a, &b));
    ck_assert(spop_bytes_eq(a.route, "route"));
    ck_assert_uint_eq(a.body.len, 3);
    ck_assert(a.has_id && a.has_src);
    msgpack_unpacked_destroy(&u1);
    msgpack_unpacked_destroy(&u2);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&plain);
}
END_TEST

/* Reads <bad> (raw bytes) after one valid record: expects the valid record,
 * then CORRUPT at its end, with <why_part> in the description. */
static void expect_corrupt_after_valid(const uint8_t *bad, size_t bad_len, const char *why_part)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    struct capture_record first = small_record(99);
    encode_ok(&first, &sb);
    size_t valid = sb.size;
    msgpack_sbuffer_write(&sb, (const char *)bad, bad_len);
    struct capture_record extra = small_record(100); /* valid bytes after the bad record are not read */
    encode_ok(&extra, &sb);
    uint8_t *g = guarded_copy((const uint8_t *)sb.data, sb.size);

    struct capture_reader rd;
    capture_reader_init_bytes(&rd, g, sb.size);
    struct capture_record r;
    ck_assert_int_eq(capture_reader_next(&rd, &r), CAPTURE_OK);
    ck_assert(capture_record_equal(&r, &first));
    ck_assert_uint_eq(rd.rec_offset, 0);
    ck_assert_int_eq(capture_reader_next(&rd, &r), CAPTURE_CORRUPT);
    ck_assert_uint_eq(capture_reader_offset(&rd), valid);
    ck_assert_msg(strstr(rd.why, why_part) != NULL, "why \"%s\" lacks \"%s\"", rd.why, why_part);
    ck_assert_int_eq(capture_reader_next(&rd, &r), CAPTURE_CORRUPT); /* sticky */
    ck_assert_uint_eq(capture_reader_offset(&rd), valid);
    ck_assert_uint_eq(rd.records, 1);
    capture_reader_destroy(&rd);
    guarded_free(g, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

static const char *const required_keys[] = {
    "v",       "ts",  "route", "mirror", "method", "path", "authority", "shadow_authority", "http_version",
    "headers", "body"};
#define N_REQUIRED (sizeof(required_keys) / sizeof(required_keys[0]))

START_TEST(test_missing_key)
{
    msgpack_sbuffer bad;
    msgpack_sbuffer_init(&bad);
    pack_variant(&bad, required_keys[_i], F_MISSING, false);
    char want[64];
    snprintf(want, sizeof(want), "missing key \"%s\"", required_keys[_i]);
    expect_corrupt_after_valid((const uint8_t *)bad.data, bad.size, want);
    msgpack_sbuffer_destroy(&bad);
}
END_TEST

START_TEST(test_optional_key_missing_is_fine)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_variant(&sb, _i ? "src" : "id", F_MISSING, false);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    struct capture_record r;
    char why[CAPTURE_WHY_LEN];
    size_t off = 0;
    ck_assert_int_eq(capture_record_decode((const uint8_t *)sb.data, sb.size, &off, &u, &r, why), CAPTURE_OK);
    ck_assert_int_eq(r.has_id, _i != 0);
    ck_assert_int_eq(r.has_src, _i == 0);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_wrong_type)
{
    msgpack_sbuffer bad;
    msgpack_sbuffer_init(&bad);
    pack_variant(&bad, all_keys[_i], F_WRONG_TYPE, false);
    char want[64];
    snprintf(want, sizeof(want), "key \"%s\" is not", all_keys[_i]);
    expect_corrupt_after_valid((const uint8_t *)bad.data, bad.size, want);
    msgpack_sbuffer_destroy(&bad);
}
END_TEST

/* Hand-written corrupt records (hex), and what the description must say. */
struct raw_case {
    const char *hex;
    const char *why;
};

static const struct raw_case raw_cases[] = {
    {"93 01 02 03", "not a map"},                                              /* an array */
    {"a3 61 62 63", "not a map"},                                              /* a string */
    {"2a", "not a map"},                                                       /* an integer */
    {"c0", "not a map"},                                                       /* nil */
    {"c1", "invalid MessagePack"},                                             /* the never-used byte */
    {"82 a1 76 01 a1 76 01", "appears twice"},                                 /* {"v":1,"v":1} */
    {"81 a1 76 c1", "invalid MessagePack"},                                    /* {"v": <0xc1>} */
    {"80", "missing key \"v\""},                                               /* {} */
    {"81 a7 68 65 61 64 65 72 73 91 92 a1 61 01", "[str, str] pair"},          /* headers [["a",1]] */
    {"81 a7 68 65 61 64 65 72 73 91 93 a1 61 a1 62 a1 63", "[str, str] pair"}, /* a triple */
    {"81 a7 68 65 61 64 65 72 73 91 a1 61", "[str, str] pair"},                /* ["a"] */
};
#define N_RAW (sizeof(raw_cases) / sizeof(raw_cases[0]))

START_TEST(test_raw_corrupt)
{
    uint8_t *raw = NULL;
    long n = hex_decode(raw_cases[_i].hex, &raw);
    ck_assert_int_gt(n, 0);
    expect_corrupt_after_valid(raw, (size_t)n, raw_cases[_i].why);
    free(raw);
}
END_TEST

/* Records with an unsupported "v" are corrupt: 0 and the next version. */
START_TEST(test_bad_version)
{
    struct capture_record r = small_record(5);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    encode_ok(&r, &sb);
    /* the encoder writes {"v": 1, ...}: bytes 8x a1 76 01 */
    ck_assert_uint_eq((uint8_t)sb.data[1], 0xa1);
    ck_assert_uint_eq((uint8_t)sb.data[2], 'v');
    ck_assert_uint_eq((uint8_t)sb.data[3], 0x01);
    sb.data[3] = _i ? (char)(CAPTURE_FORMAT_VERSION + 1) : 0;
    expect_corrupt_after_valid((const uint8_t *)sb.data, sb.size, "unsupported format version");
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* A declared count of four billion entries must not make msgpack-c allocate
 * for them: the input cannot hold them, so the record is incomplete. */
static const char *const huge_cases[] = {
    "df ff ff ff ff 01",                            /* map 32 */
    "dd ff ff ff ff",                               /* array 32 */
    "81 a7 68 65 61 64 65 72 73 dd ff ff ff ff 90", /* {"headers": array 32} */
    "c6 ff ff ff ff 00",                            /* bin 32 */
    "de ff ff",                                     /* map 16 */
};
#define N_HUGE (sizeof(huge_cases) / sizeof(huge_cases[0]))

START_TEST(test_huge_counts_truncated)
{
    uint8_t *raw = NULL;
    long n = hex_decode(huge_cases[_i], &raw);
    ck_assert_int_gt(n, 0);
    struct capture_reader rd;
    capture_reader_init_bytes(&rd, raw, (size_t)n);
    struct capture_record r;
    ck_assert_int_eq(capture_reader_next(&rd, &r), CAPTURE_TRUNCATED);
    ck_assert_uint_eq(capture_reader_offset(&rd), 0);
    capture_reader_destroy(&rd);
    free(raw);
}
END_TEST

/* ---- torn tails: every truncation of a three-record capture ---- */

START_TEST(test_every_truncation)
{
    struct capture_record recs[3] = {sample_record(3), small_record(7), sample_record(0)};
    size_t ends[3];
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    for (int i = 0; i < 3; i++) {
        encode_ok(&recs[i], &sb);
        ends[i] = sb.size;
    }
    for (size_t cut = 0; cut <= sb.size; cut++) {
        uint8_t *g = guarded_copy((const uint8_t *)sb.data, cut);
        struct capture_reader rd;
        capture_reader_init_bytes(&rd, g, cut);
        struct capture_record r;
        size_t whole = 0;
        while (whole < 3 && ends[whole] <= cut)
            whole++;
        for (size_t i = 0; i < whole; i++) {
            ck_assert_int_eq(capture_reader_next(&rd, &r), CAPTURE_OK);
            ck_assert(capture_record_equal(&r, &recs[i]));
            ck_assert_uint_eq(rd.rec_offset, i ? ends[i - 1] : 0);
        }
        size_t boundary = whole ? ends[whole - 1] : 0;
        enum capture_status want = cut == boundary ? CAPTURE_END : CAPTURE_TRUNCATED;
        enum capture_status got = capture_reader_next(&rd, &r);
        ck_assert_msg(got == want, "cut %zu: got %s, want %s", cut, capture_status_str(got),
                      capture_status_str(want));
        ck_assert_uint_eq(capture_reader_offset(&rd), boundary);
        ck_assert_uint_eq(rd.records, whole);
        capture_reader_destroy(&rd);
        guarded_free(g, cut);
    }
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_scan_matches_encoding)
{
    struct capture_record r = sample_record(_i);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    encode_ok(&r, &sb);
    size_t end = 0;
    ck_assert_int_eq(capture_scan_value((const uint8_t *)sb.data, sb.size, &end), CAPTURE_SCAN_COMPLETE);
    ck_assert_uint_eq(end, sb.size);
    msgpack_sbuffer_write(&sb, "\x90", 1); /* trailing bytes are not part of the value */
    ck_assert_int_eq(capture_scan_value((const uint8_t *)sb.data, sb.size, &end), CAPTURE_SCAN_COMPLETE);
    ck_assert_uint_eq(end, sb.size - 1);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* Every MessagePack type the scan must size, each as a map value. */
START_TEST(test_scan_all_types)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 20);
    msgpack_pack_int8(&pk, -100);
    msgpack_pack_int16(&pk, -1000);
    msgpack_pack_int32(&pk, -100000);
    msgpack_pack_int64(&pk, -10000000000ll);
    msgpack_pack_uint64(&pk, 200);
    msgpack_pack_uint64(&pk, 60000);
    msgpack_pack_uint64(&pk, 4000000000ull);
    msgpack_pack_uint64(&pk, 40000000000ull);
    msgpack_pack_float(&pk, 1.0f);
    msgpack_pack_double(&pk, 2.0);
    msgpack_pack_true(&pk);
    msgpack_pack_nil(&pk);
    static char big[70000];
    msgpack_pack_str(&pk, 300);
    msgpack_pack_str_body(&pk, big, 300);
    msgpack_pack_bin(&pk, sizeof(big));
    msgpack_pack_bin_body(&pk, big, sizeof(big));
    msgpack_pack_ext(&pk, 1, 5);
    msgpack_pack_ext_body(&pk, "abcd", 1);
    msgpack_pack_ext(&pk, 300, 7);
    msgpack_pack_ext_body(&pk, big, 300);
    msgpack_pack_ext(&pk, 16, 1);
    msgpack_pack_ext_body(&pk, big, 16);
    msgpack_pack_map(&pk, 20);
    for (int i = 0; i < 20; i++) {
        msgpack_pack_int(&pk, i);
        msgpack_pack_array(&pk, 0);
    }
    msgpack_pack_array(&pk, 70000);
    for (int i = 0; i < 70000; i++)
        msgpack_pack_int(&pk, -1);
    msgpack_pack_str(&pk, 5);
    msgpack_pack_str_body(&pk, "tail!", 5);
    size_t end = 0;
    ck_assert_int_eq(capture_scan_value((const uint8_t *)sb.data, sb.size, &end), CAPTURE_SCAN_COMPLETE);
    ck_assert_uint_eq(end, sb.size);
    for (size_t cut = sb.size - 8; cut < sb.size; cut++)
        ck_assert_int_eq(capture_scan_value((const uint8_t *)sb.data, cut, &end), CAPTURE_SCAN_INCOMPLETE);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* ---- files ---- */

START_TEST(test_reader_file)
{
    char path[] = "/tmp/check_capture_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ne(fd, -1);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    struct capture_record a = sample_record(1), b = small_record(2);
    encode_ok(&a, &sb);
    encode_ok(&b, &sb);
    ck_assert_int_eq(write(fd, sb.data, sb.size), (ssize_t)sb.size);
    close(fd);

    struct capture_reader rd;
    char err[256];
    ck_assert_int_eq(capture_reader_open(&rd, path, err, sizeof(err)), 0);
    struct capture_record r;
    ck_assert_int_eq(capture_reader_next(&rd, &r), CAPTURE_OK);
    ck_assert(capture_record_equal(&r, &a));
    ck_assert_int_eq(capture_reader_next(&rd, &r), CAPTURE_OK);
    ck_assert(capture_record_equal(&r, &b));
    ck_assert_int_eq(capture_reader_next(&rd, &r), CAPTURE_END);
    ck_assert_uint_eq(capture_reader_offset(&rd), sb.size);
    capture_reader_destroy(&rd);

    ck_assert_int_eq(truncate(path, 0), 0); /* an empty capture has no records */
    ck_assert_int_eq(capture_reader_open(&rd, path, err, sizeof(err)), 0);
    ck_assert_int_eq(capture_reader_next(&rd, &r), CAPTURE_END);
    capture_reader_destroy(&rd);
    unlink(path);

    ck_assert_int_eq(capture_reader_open(&rd, path, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    ck_assert_int_eq(capture_reader_open(&rd, "/tmp", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

Suite *capture_record_suite(void);

/* capture_record_suite: the Check suite for capture_record.h and capture_reader.h. */
Suite *capture_record_suite(void)
{
    Suite *s = suite_create("capture_record");

    TCase *tc = tcase_create("round_trip");
    tcase_add_loop_test(tc, test_round_trip, 0, 4);
    tcase_add_test(tc, test_round_trip_empty_fields);
    tcase_add_test(tc, test_equal_detects_differences);
    tcase_add_test(tc, test_unknown_keys_ignored);
    tcase_add_loop_test(tc, test_optional_key_missing_is_fine, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("corrupt");
    tcase_add_loop_test(tc, test_missing_key, 0, (int)N_REQUIRED);
    tcase_add_loop_test(tc, test_wrong_type, 0, (int)N_KEYS);
    tcase_add_loop_test(tc, test_raw_corrupt, 0, (int)N_RAW);
    tcase_add_loop_test(tc, test_bad_version, 0, 2);
    tcase_add_loop_test(tc, test_huge_counts_truncated, 0, (int)N_HUGE);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_add_test(tc, test_every_truncation);
    tcase_add_loop_test(tc, test_scan_matches_encoding, 0, 4);
    tcase_add_test(tc, test_scan_all_types);
    suite_add_tcase(s, tc);

    tc = tcase_create("file");
    tcase_add_test(tc, test_reader_file);
    suite_add_tcase(s, tc);
    return s;
}
