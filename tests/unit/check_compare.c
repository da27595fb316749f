/* Unit tests for the comparison of two answers: body digests taken in
 * pieces and bounded, the JSON diff (changed, missing, extra values;
 * ignored and masked paths; noise), header comparison (listed, "*",
 * ignored, masked) and the verdict's order of results. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "compare/compare_body.h"
#include "compare/compare_json.h"
#include "compare/compare_rules.h"
#include "compare/compare_side.h"
#include "compare/compare_verdict.h"
#include "config/config.h"
#include "core/xalloc.h"

START_TEST(body_digest_in_pieces)
{
    const char *text = "{\"a\": 1, \"b\": [1, 2, 3]}";
    size_t n = strlen(text);
    struct compare_body b;
    compare_body_init(&b, 1024, true);
    for (size_t i = 0; i < n; i += 3)
        compare_body_feed(&b, text + i, n - i < 3 ? n - i : 3);
    compare_body_finish(&b);
    ck_assert_uint_eq(b.digest, compare_body_digest_of(text, n));
    ck_assert_uint_eq(b.len, n);
    ck_assert(memcmp(b.data, text, n) == 0);
    ck_assert(!compare_body_truncated(&b));
    compare_body_finish(&b); /* idempotent */
    compare_body_free(&b);
}
END_TEST

START_TEST(body_bounded)
{
    struct compare_body b;
    compare_body_init(&b, 10, true);
    compare_body_feed(&b, "0123456", 7);
    compare_body_feed(&b, "789abcdef", 9);
    compare_body_finish(&b);
    ck_assert_uint_eq(b.seen, 16);
    ck_assert_uint_eq(b.len, 10);
    ck_assert(compare_body_truncated(&b));
    ck_assert_uint_eq(b.digest, compare_body_digest_of("0123456789", 10));
    compare_body_feed(&b, "x", 1); /* ignored once finished */
    ck_assert_uint_eq(b.seen, 16);
    compare_body_free(&b);
    /* Not kept: hashed only. */
    compare_body_init(&b, 100, false);
    compare_body_feed(&b, "abc", 3);
    compare_body_finish(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.digest, compare_body_digest_of("abc", 3));
    compare_body_free(&b);
    /* Empty, kept or not: the digest of nothing. */
    for (int keep = 0; keep < 2; keep++) {
        compare_body_init(&b, 100, keep);
        compare_body_finish(&b);
        ck_assert_uint_eq(b.digest, compare_body_digest_of("", 0));
        compare_body_free(&b);
    }
    /* Not kept and never finished: freed all the same (ASan sees a leak). */
    compare_body_init(&b, 100, false);
    compare_body_feed(&b, "abc", 3);
    compare_body_free(&b);
}
END_TEST

/* Headers past the side's inline bytes: kept whole, lowercase, and
 * released with the side or when cleared. */
START_TEST(side_keeps_long_headers)
{
    struct compare_side *s = compare_side_new(100, false);
    char value[300];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 6; i++) {
            char name[24];
            int n = snprintf(name, sizeof(name), "X-Long-%d", i);
            memset(value, 'a' + i, sizeof(value));
            compare_side_add_header(s, name, (size_t)n, value, sizeof(value));
        }
        ck_assert_uint_eq(s->n_headers, 6);
        ck_assert_ptr_nonnull(s->spilled); /* 6 x 310 bytes do not fit inline */
        for (int i = 0; i < 6; i++) {
            char name[24];
            snprintf(name, sizeof(name), "x-long-%d", i);
            ck_assert_str_eq(s->headers[i].name, name);
            ck_assert_uint_eq(strlen(s->headers[i].value), sizeof(value));
            ck_assert_int_eq(s->headers[i].value[0], 'a' + i);
            ck_assert_int_eq(s->headers[i].value[sizeof(value) - 1], 'a' + i);
        }
        if (round == 0) {
            compare_side_clear_headers(s);
            ck_assert_uint_eq(s->n_headers, 0);
            ck_assert_ptr_null(s->spilled);
        }
    }
    compare_side_add_header(s, "Empty", 5, "", 0);
    ck_assert_str_eq(s->headers[6].name, "empty");
    ck_assert_str_eq(s->headers[6].value, "");
    compare_side_free(s);
}
END_TEST

/* Rules for a json comparison ignoring and masking the given paths. */
static struct compare_rules *json_rules(const char *const *ignore, size_t ni, const char *const *redact,
                                        size_t nr)
{
    struct config_compare *cfg = config_compare_new();
    cfg->body = COMPARE_BODY_JSON;
    cfg->ignore_json_paths = xcalloc(ni + 1, sizeof(char *));
    for (size_t i = 0; i < ni; i++)
        cfg->ignore_json_paths[cfg->n_ignore_json_paths++] = xstrdup(ignore[i]);
    cfg->redact_json_paths = xcalloc(nr + 1, sizeof(char *));
    for (size_t i = 0; i < nr; i++)
        cfg->redact_json_paths[cfg->n_redact_json_paths++] = xstrdup(redact[i]);
    struct compare_rules *r = compare_rules_new(cfg);
    config_compare_free(cfg);
    return r;
}

static void jdiff(const struct compare_rules *r, const char *a, const char *b, compare_noise_fn noise,
                  struct compare_json_result *out)
{
    compare_json_diff((const uint8_t *)a, strlen(a), (const uint8_t *)b, strlen(b), r, noise, NULL, NULL,
                      out);
}

START_TEST(json_kinds)
{
    struct compare_rules *r = json_rules(NULL, 0, NULL, 0);
    struct compare_json_result res;
    jdiff(r, "{\"a\":1,\"b\":{\"c\":\"x\"},\"l\":[1,2]}",
          "{\"b\":{\"c\":\"y\"},\"a\":1,\"l\":[1,2,3],\"n\":null}", NULL, &res);
    ck_assert(res.primary_json && res.shadow_json);
    ck_assert_uint_eq(res.n_diffs, 3);
    ck_assert_uint_eq(res.n_reported, 3);
    ck_assert_int_eq(res.diffs[0].kind, COMPARE_JSON_CHANGED);
    ck_assert_str_eq(res.diffs[0].path, "$.b.c");
    ck_assert_str_eq(res.diffs[0].primary, "\"x\"");
    ck_assert_str_eq(res.diffs[0].shadow, "\"y\"");
    ck_assert_int_eq(res.diffs[1].kind, COMPARE_JSON_EXTRA);
    ck_assert_str_eq(res.diffs[1].path, "$.l[2]");
    ck_assert_str_eq(res.diffs[1].generalized, "$.l[*]");
    ck_assert_str_eq(res.diffs[1].primary, "");
    ck_assert_str_eq(res.diffs[1].shadow, "3");
    ck_assert_int_eq(res.diffs[2].kind, COMPARE_JSON_EXTRA);
    ck_assert_str_eq(res.diffs[2].path, "$.n");
    jdiff(r, "{\"a\":1,\"gone\":{\"x\":[1]}}", "{\"a\":\"1\"}", NULL, &res);
    ck_assert_uint_eq(res.n_diffs, 2);
    ck_assert_str_eq(res.diffs[0].path, "$.a"); /* a type change */
    ck_assert_int_eq(res.diffs[1].kind, COMPARE_JSON_MISSING);
    ck_assert_str_eq(res.diffs[1].primary, "{\"x\":[1]}");
    /* Equal documents, key order aside. */
    jdiff(r, "{\"a\":[1,{\"b\":2}],\"c\":true}", "{\"c\":true,\"a\":[1,{\"b\":2}]}", NULL, &res);
    ck_assert_uint_eq(res.n_diffs, 0);
    /* Not JSON: nothing compared. */
    jdiff(r, "{\"a\":1}", "<html>", NULL, &res);
    ck_assert(res.primary_json && !res.shadow_json);
    ck_assert_uint_eq(res.n_diffs, 0);
    compare_rules_free(r);
}
END_TEST

START_TEST(json_ignore_and_mask)
{
    const char *ignore[] = {"$.timestamp", "$.items[*].id", "$..trace"};
    const char *redact[] = {"$.token", "$..secret"};
    struct compare_rules *r = json_rules(ignore, 3, redact, 2);
    struct compare_json_result res;
    jdiff(r,
          "{\"timestamp\":1,\"items\":[{\"id\":1,\"v\":1},{\"id\":2,\"v\":2}],\"x\":{\"trace\":\"a\"},"
          "\"token\":\"s1\",\"auth\":{\"secret\":\"p\",\"user\":\"u\"}}",
          "{\"timestamp\":2,\"items\":[{\"id\":7,\"v\":1},{\"id\":8,\"v\":3}],\"x\":{\"trace\":\"b\"},"
          "\"token\":\"s2\"}",
          NULL, &res);
    ck_assert_uint_eq(res.n_diffs, 3);
    ck_assert_str_eq(res.diffs[0].path, "$.items[1].v");
    ck_assert_str_eq(res.diffs[1].path, "$.token");
    ck_assert_str_eq(res.diffs[1].primary, "\"<redacted>\"");
    ck_assert_str_eq(res.diffs[1].shadow, "\"<redacted>\"");
    ck_assert_str_eq(res.diffs[2].path, "$.auth");
    ck_assert_int_eq(res.diffs[2].kind, COMPARE_JSON_MISSING);
    ck_assert_str_eq(res.diffs[2].primary, "{\"secret\":\"<redacted>\",\"user\":\"u\"}");
    compare_rules_free(r);
}
END_TEST

static bool noise_v(void *ctx, const char *path)
{
    (void)ctx;
    return strcmp(path, "$.items[*].v") == 0;
}

START_TEST(json_noise_and_cap)
{
    struct compare_rules *r = json_rules(NULL, 0, NULL, 0);
    struct compare_json_result res;
    jdiff(r, "{\"items\":[{\"v\":1},{\"v\":2}],\"w\":1}", "{\"items\":[{\"v\":3},{\"v\":4}],\"w\":2}",
          noise_v, &res);
    ck_assert_uint_eq(res.n_noise, 2);
    ck_assert_uint_eq(res.n_diffs, 1);
    ck_assert_str_eq(res.diffs[0].path, "$.w");
    /* Twenty differences: all counted, the first eight kept. */
    char a[512] = "[", b[512] = "[";
    for (int i = 0; i < 20; i++) {
        strcat(a, i ? ",1" : "1");
        strcat(b, i ? ",2" : "2");
    }
    strcat(a, "]");
    strcat(b, "]");
    jdiff(r, a, b, NULL, &res);
    ck_assert_uint_eq(res.n_diffs, 20);
    ck_assert_uint_eq(res.n_reported, COMPARE_JSON_MAX_REPORTED);
    /* A long value is cut. */
    char big[400];
    memset(big, 'x', sizeof(big));
    memcpy(big, "\"", 1);
    memcpy(big + sizeof(big) - 2, "\"", 2);
    jdiff(r, big, "1", NULL, &res);
    ck_assert_uint_eq(strlen(res.diffs[0].primary), COMPARE_JSON_VALUE_CAP - 1);
    ck_assert(strstr(res.diffs[0].primary, "..."));
    compare_rules_free(r);
}
END_TEST

static struct compare_side *side(uint16_t status, const char *body, bool keep)
{
    struct compare_side *s = compare_side_new(1024, keep);
    s->status = status;
    compare_body_feed(&s->body, body, strlen(body));
    compare_body_finish(&s->body);
    return s;
}

static void hdr(struct compare_side *s, const char *name, const char *value)
{
    compare_side_add_header(s, name, strlen(name), value, strlen(value));
}

START_TEST(verdict_order)
{
    struct config_compare *cfg = config_compare_new();
    struct compare_rules *r = compare_rules_new(cfg);
    struct compare_verdict v;
    struct compare_side *p = side(200, "abc", false), *s = side(200, "abc", false);
    hdr(p, "Content-Type", "text/plain");
    hdr(s, "content-type", "text/plain");
    p->latency_us = 1000;
    s->latency_us = 1500;
    compare_verdict_compute(r, p, s, NULL, NULL, NULL, NULL, &v);
    ck_assert_int_eq(v.result, COMPARE_MATCH);
    ck_assert_int_eq(v.latency_diff_us, 500);
    ck_assert_str_eq(compare_result_str(v.result), "match");
    compare_side_free(s);

    s = side(201, "abd", false);
    hdr(s, "content-type", "application/json");
    compare_verdict_compute(r, p, s, NULL, NULL, NULL, NULL, &v);
    ck_assert_int_eq(v.result, COMPARE_STATUS_DIFFERS);
    ck_assert(v.status_differs && v.headers_differ && v.body_differs);
    ck_assert_uint_eq(v.n_header_diffs, 1);
    ck_assert_str_eq(v.headers[0].name, "content-type");
    ck_assert_str_eq(v.headers[0].primary, "text/plain");
    ck_assert_str_eq(v.headers[0].shadow, "application/json");
    s->status = 200;
    compare_verdict_compute(r, p, s, NULL, NULL, NULL, NULL, &v);
    ck_assert_int_eq(v.result, COMPARE_HEADERS_DIFFER);
    compare_side_free(s);
    s = side(200, "abd", false);
    hdr(s, "content-type", "text/plain");
    compare_verdict_compute(r, p, s, NULL, NULL, NULL, NULL, &v);
    ck_assert_int_eq(v.result, COMPARE_BODY_DIFFERS);
    compare_side_fail(s, "timeout");
    compare_verdict_compute(r, p, s, NULL, NULL, NULL, NULL, &v);
    ck_assert_int_eq(v.result, COMPARE_SHADOW_ERROR);
    compare_side_free(s);
    compare_side_free(p);
    compare_rules_free(r);
    /* Status by class. */
    cfg->status = COMPARE_STATUS_CLASS;
    cfg->body = COMPARE_BODY_OFF;
    r = compare_rules_new(cfg);
    p = side(200, "a", false);
    s = side(204, "b", false);
    compare_verdict_compute(r, p, s, NULL, NULL, NULL, NULL, &v);
    ck_assert_int_eq(v.result, COMPARE_MATCH);
    s->status = 404;
    compare_verdict_compute(r, p, s, NULL, NULL, NULL, NULL, &v);
    ck_assert_int_eq(v.result, COMPARE_STATUS_DIFFERS);
    compare_side_free(s);
    compare_side_free(p);
    compare_rules_free(r);
    config_compare_free(cfg);
    ck_assert_str_eq(compare_result_str(COMPARE_UNMATCHED), "unmatched");
}
END_TEST

static bool noise_hdr(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "x-request-id") == 0;
}

START_TEST(verdict_all_headers)
{
    struct config_compare *cfg = config_compare_new();
    cfg->headers[0][0] = '*';
    cfg->headers[0][1] = '\0';
    cfg->diff_log = config_capture_new(); /* redacts set-cookie among others */
    struct compare_rules *r = compare_rules_new(cfg);
    struct compare_verdict v;
    struct compare_side *p = side(200, "", false), *s = side(200, "", false);
    hdr(p, "Date", "Mon");
    hdr(s, "Date", "Tue"); /* ignored by default */
    hdr(p, "Set-Cookie", "a=1");
    hdr(s, "Set-Cookie", "a=2");
    hdr(p, "Vary", "a");
    hdr(p, "Vary", "b");
    hdr(s, "Vary", "a, b");
    hdr(s, "X-Extra", "1");
    hdr(p, "X-Request-Id", "1");
    hdr(s, "X-Request-Id", "2");
    compare_verdict_compute(r, p, s, NULL, noise_hdr, NULL, NULL, &v);
    ck_assert_int_eq(v.result, COMPARE_HEADERS_DIFFER);
    ck_assert_uint_eq(v.n_header_diffs, 2);
    ck_assert_uint_eq(v.n_header_noise, 1);
    ck_assert_str_eq(v.headers[0].name, "set-cookie");
    ck_assert_str_eq(v.headers[0].primary, "<redacted>");
    ck_assert_str_eq(v.headers[1].name, "x-extra");
    ck_assert_str_eq(v.headers[1].primary, "");
    ck_assert_str_eq(v.headers[1].shadow, "1");
    compare_side_free(s);
    compare_side_free(p);
    compare_rules_free(r);
    config_compare_free(cfg);
}
END_TEST

START_TEST(verdict_json_body)
{
    const char *ignore[] = {"$.ts"};
    struct compare_rules *r = json_rules(ignore, 1, NULL, 0);
    struct compare_verdict v;
    struct compare_side *p = side(200, "{\"ts\":1,\"a\":1}", true),
                        *s = side(200, "{\"a\":1,\"ts\":2}", true);
    hdr(p, "content-type", "application/json");
    hdr(s, "content-type", "application/json");
    compare_verdict_compute(r, p, s, NULL, NULL, NULL, NULL, &v);
    ck_assert_int_eq(v.result, COMPARE_MATCH);
    ck_assert(v.json_compared);
    compare_side_free(s);
    /* Not JSON on one side: the bytes decide. */
    s = side(200, "oops", true);
    hdr(s, "content-type", "application/json");
    compare_verdict_compute(r, p, s, NULL, NULL, NULL, NULL, &v);
    ck_assert_int_eq(v.result, COMPARE_BODY_DIFFERS);
    ck_assert(!v.json_compared);
    compare_side_free(s);
    compare_side_free(p);
    compare_rules_free(r);
}
END_TEST

Suite *compare_suite(void);
Suite *compare_suite(void)
{
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("body");
    tcase_add_test(tc, body_digest_in_pieces);
    tcase_add_test(tc, body_bounded);
    tcase_add_test(tc, side_keeps_long_headers);
    suite_add_tcase(s, tc);
    tc = tcase_create("json");
    tcase_add_test(tc, json_kinds);
    tcase_add_test(tc, json_ignore_and_mask);
    tcase_add_test(tc, json_noise_and_cap);
    suite_add_tcase(s, tc);
    tc = tcase_create("verdict");
    tcase_add_test(tc, verdict_order);
    tcase_add_test(tc, verdict_all_headers);
    tcase_add_test(tc, verdict_json_body);
    suite_add_tcase(s, tc);
    return s;
}
