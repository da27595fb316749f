/* Unit tests for diff-log records (compare_record.h): a record filled from
 * a verdict survives encode and decode, records follow one another, a torn
 * tail is truncated, and wrong records are corrupt with a reason. */
#include <check.h>
#include <string.h>

#include "compare/compare_record.h"
#include "compare/compare_rules.h"
#include "config/config.h"

static bool eq(struct spop_bytes b, const char *s)
{
    return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0;
}

static struct spop_bytes B(const char *s) {
    return (struct spop_bytes){(const uint8_t *)s, strlen(s)};
}

START_TEST(round_trip)
{
    struct config_compare *cfg = config_compare_new();
    cfg->body = COMPARE_BODY_JSON;
    struct compare_rules *rules = compare_rules_new(cfg);
    struct compare_side *p = compare_side_new(1024, true), *s = compare_side_new(1024, true);
    p->status = 200;
    s->status = 200;
    compare_side_add_header(p, "Content-Type", 12, "application/json", 16);
    compare_side_add_header(s, "Content-Type", 12, "text/json", 9);
    compare_body_feed(&p->body, "{\"a\":1}", 7);
    compare_body_feed(&s->body, "{\"a\":2}", 7);
    compare_body_finish(&p->body);
    compare_body_finish(&s->body);
    p->latency_us = 100;
    s->latency_us = 250;
    struct compare_verdict v;
    compare_verdict_compute(rules, p, s, NULL, NULL, NULL, NULL, &v);
    struct compare_record r = {.ts_ns = 42,
                               .id = B("id-1"),
                               .route = B("r"),
                               .mirror = B("http://m"),
                               .method = B("GET"),
                               .path = B("/x?y=1")};
    compare_record_fill(&r, &v, p, s);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    ck_assert_int_eq(compare_record_encode(&r, &buf), 0);
    size_t one = buf.size;
    ck_assert_int_eq(compare_record_encode(&r, &buf), 0);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    struct compare_record d;
    char why[CAPTURE_WHY_LEN];
    size_t off = 0;
    ck_assert_int_eq(compare_record_decode((const uint8_t *)buf.data, buf.size, &off, &u, &d, why),
                     CAPTURE_OK);
    ck_assert_uint_eq(off, one);
    ck_assert_uint_eq(d.ts_ns, 42);
    ck_assert(eq(d.id, "id-1") && eq(d.route, "r") && eq(d.mirror, "http://m"));
    ck_assert(eq(d.method, "GET") && eq(d.path, "/x?y=1"));
    ck_assert(eq(d.result, "headers_differ"));
    ck_assert_uint_eq(d.status_primary, 200);
    ck_assert_uint_eq(d.n_headers, 1);
    ck_assert(eq(d.headers[0].name, "content-type") && eq(d.headers[0].shadow, "text/json"));
    ck_assert_uint_eq(d.n_json, 1);
    ck_assert(eq(d.json[0].kind, "changed") && eq(d.json[0].path, "$.a") && eq(d.json[0].primary, "1") &&
              eq(d.json[0].shadow, "2"));
    ck_assert_uint_eq(d.json_diffs, 1);
    ck_assert_uint_eq(d.digest_primary, p->body.digest);
    ck_assert_uint_eq(d.bytes_shadow, 7);
    ck_assert_uint_eq(d.latency_shadow_us, 250);
    ck_assert(eq(d.shadow_error, ""));
    ck_assert_int_eq(compare_record_decode((const uint8_t *)buf.data, buf.size, &off, &u, &d, why),
                     CAPTURE_OK);
    ck_assert_int_eq(compare_record_decode((const uint8_t *)buf.data, buf.size, &off, &u, &d, why),
                     CAPTURE_END);
    /* Every shorter prefix of one record is truncated. */
    for (size_t n = 1; n < one; n++) {
        off = 0;
        ck_assert_int_eq(compare_record_decode((const uint8_t *)buf.data, n, &off, &u, &d, why),
                         CAPTURE_TRUNCATED);
        ck_assert_uint_eq(off, 0);
    }
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&buf);
    compare_side_free(p);
    compare_side_free(s);
    compare_rules_free(rules);
    config_compare_free(cfg);
}
END_TEST

/* Decodes the msgpack map written by <fill> and returns its reason. */
static enum capture_status decode_map(void (*fill)(msgpack_packer *), char *why)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    fill(&pk);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    struct compare_record d;
    size_t off = 0;
    enum capture_status st = compare_record_decode((const uint8_t *)buf.data, buf.size, &off, &u, &d, why);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&buf);
    return st;
}

static void s(msgpack_packer *pk, const char *v)
{
    msgpack_pack_str(pk, strlen(v));
    msgpack_pack_str_body(pk, v, strlen(v));
}

static void head(msgpack_packer *pk, size_t n, const char *kind)
{
    msgpack_pack_map(pk, n);
    s(pk, "v");
    msgpack_pack_uint64(pk, 1);
    s(pk, "kind");
    s(pk, kind);
    s(pk, "ts");
    msgpack_pack_uint64(pk, 1);
    s(pk, "id");
    s(pk, "i");
    s(pk, "route");
    s(pk, "r");
    s(pk, "mirror");
    s(pk, "m");
}

static void capture_kind(msgpack_packer *pk)
{
    head(pk, 7, "capture");
    s(pk, "result");
    s(pk, "match");
}

static void no_result(msgpack_packer *pk)
{
    head(pk, 6, "compare");
}

static void long_list(msgpack_packer *pk)
{
    head(pk, 8, "compare");
    s(pk, "result");
    s(pk, "match");
    s(pk, "headers");
    msgpack_pack_array(pk, 9);
    for (int i = 0; i < 9; i++) {
        msgpack_pack_array(pk, 3);
        s(pk, "a");
        s(pk, "b");
        s(pk, "c");
    }
}

static void twice(msgpack_packer *pk)
{
    head(pk, 8, "compare");
    s(pk, "result");
    s(pk, "match");
    s(pk, "route");
    s(pk, "r");
}

static void minimal(msgpack_packer *pk)
{
    head(pk, 8, "compare");
    s(pk, "result");
    s(pk, "match");
    s(pk, "later_key");
    msgpack_pack_array(pk, 0);
}

START_TEST(corrupt)
{
    char why[CAPTURE_WHY_LEN];
    ck_assert_int_eq(decode_map(capture_kind, why), CAPTURE_CORRUPT);
    ck_assert_str_eq(why, "key \"kind\" is not \"compare\"");
    ck_assert_int_eq(decode_map(no_result, why), CAPTURE_CORRUPT);
    ck_assert_str_eq(why, "missing key \"result\"");
    ck_assert_int_eq(decode_map(long_list, why), CAPTURE_CORRUPT);
    ck_assert_str_eq(why, "key \"headers\" has too many entries");
    ck_assert_int_eq(decode_map(twice, why), CAPTURE_CORRUPT);
    ck_assert_str_eq(why, "key \"route\" appears twice");
    ck_assert_int_eq(decode_map(minimal, why), CAPTURE_OK);
}
END_TEST

Suite *compare_record_suite(void);
Suite *compare_record_suite(void)
{
    Suite *su = suite_create("compare_record");
    TCase *tc = tcase_create("record");
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, corrupt);
    suite_add_tcase(su, tc);
    return su;
}
