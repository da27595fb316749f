/* Unit tests for the recent JSON documents of a comparer: a body of a kept
 * document's length that differs from it only in values is derived from
 * it, with the nodes a full load gives; any other body is loaded in full
 * and kept (one per length, the oldest replaced, none over the size
 * bound); what is not JSON is refused and not kept; and the diff is the
 * same with them as without. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare/compare_json.h"
#include "compare/compare_json_shapes.h"
#include "compare/compare_rules.h"
#include "config/config.h"
#include "core/xalloc.h"

/* Loads <text> through <s> and checks the nodes against a full load. */
static bool load_checked(struct compare_json_shapes *s, const char *text)
{
    struct compare_json_doc d, full;
    size_t len = strlen(text);
    bool ok = compare_json_shapes_load(s, &d, text, len);
    ck_assert_int_eq(ok, compare_json_doc_load(&full, text, len));
    if (ok) {
        ck_assert_uint_eq(d.n, full.n);
        ck_assert_mem_eq(d.nodes, full.nodes, d.n * sizeof(*d.nodes));
    }
    compare_json_doc_free(&full);
    compare_json_doc_free(&d);
    return ok;
}

START_TEST(shapes_derive_a_repeated_shape)
{
    struct compare_json_shapes *s = compare_json_shapes_new();
    ck_assert(load_checked(s, "{\"ts\":1000,\"id\":\"a-17\",\"ok\":true}"));
    ck_assert_uint_eq(s->loaded, 1);
    /* Other values, same length: derived, a number's kind checked again. */
    ck_assert(load_checked(s, "{\"ts\":2.25,\"id\":\"b-99\",\"ok\":null}"));
    ck_assert(load_checked(s, "{\"ts\":1001,\"id\":\"a-18\",\"ok\":true}"));
    ck_assert_uint_eq(s->derived, 2);
    ck_assert_uint_eq(s->loaded, 1);
    /* Same length, another shape: loaded in full, and kept in its place. */
    ck_assert(load_checked(s, "{\"ts\":1000,\"id\":[\"a\",17],\"ok\":1}"));
    ck_assert_uint_eq(s->loaded, 2);
    ck_assert(load_checked(s, "{\"ts\":1000,\"id\":[\"b\",18],\"ok\":2}"));
    ck_assert_uint_eq(s->derived, 3);
    /* A change a derivation cannot take (a quote moves): loaded in full. */
    ck_assert(load_checked(s, "{\"ts\":1000,\"id\":[\"bb\",1],\"ok\":2}"));
    ck_assert_uint_eq(s->loaded, 3);
    /* A number spelled another way: derived, now a real. */
    ck_assert(load_checked(s, "{\"ts\":1e+0,\"id\":[\"bb\",1],\"ok\":2}"));
    ck_assert_uint_eq(s->derived, 4);
    /* Not JSON, of a kept length: refused, as by a full load, and not kept. */
    ck_assert(!load_checked(s, "{\"ts\":1000,\"id\":[\"bb\",1],\"ok\":x}"));
    ck_assert(!load_checked(s, "{\"ts\":10-0,\"id\":[\"bb\",1],\"ok\":2}"));
    ck_assert_uint_eq(s->loaded, 5);
    ck_assert(load_checked(s, "{\"ts\":1000,\"id\":[\"cc\",2],\"ok\":3}"));
    ck_assert_uint_eq(s->derived, 5);
    compare_json_shapes_free(s);
}
END_TEST

START_TEST(shapes_are_bounded)
{
    struct compare_json_shapes *s = compare_json_shapes_new();
    char text[64];
    /* One more length than slots: the oldest is replaced. */
    for (int k = 0; k <= COMPARE_JSON_SHAPES; k++) {
        snprintf(text, sizeof(text), "[%.*s]", k + 1, "1111111111");
        ck_assert(load_checked(s, text));
    }
    ck_assert_uint_eq(s->loaded, COMPARE_JSON_SHAPES + 1);
    ck_assert(load_checked(s, "[2]")); /* the first length: no longer kept */
    ck_assert_uint_eq(s->loaded, COMPARE_JSON_SHAPES + 2);
    snprintf(text, sizeof(text), "[%.*s]", COMPARE_JSON_SHAPES + 1, "2222222222");
    ck_assert(load_checked(s, text)); /* the last one: still kept */
    ck_assert_uint_eq(s->derived, 1);
    /* A document over the bound is loaded every time, never kept. */
    size_t big = COMPARE_JSON_SHAPE_MAX_BYTES + 2;
    char *doc = xmalloc(big + 1);
    doc[0] = '"';
    memset(doc + 1, 'a', big - 2);
    memcpy(doc + big - 1, "\"", 2);
    char *arr = xmalloc(big + 3);
    snprintf(arr, big + 3, "[%s]", doc);
    uint64_t loaded = s->loaded;
    ck_assert(load_checked(s, arr));
    arr[5] = 'b';
    ck_assert(load_checked(s, arr));
    ck_assert_uint_eq(s->loaded, loaded + 2);
    free(arr);
    free(doc);
    /* No shapes at all: a plain load. */
    ck_assert(load_checked(NULL, "{\"a\":1}"));
    ck_assert(!load_checked(NULL, "{\"a\":}"));
    compare_json_shapes_free(s);
}
END_TEST

START_TEST(shapes_leave_the_diff_as_it_is)
{
    struct config_compare *cfg = config_compare_new();
    cfg->body = COMPARE_BODY_JSON;
    cfg->ignore_json_paths = xcalloc(1, sizeof(char *));
    cfg->ignore_json_paths[0] = xstrdup("$.ts");
    cfg->n_ignore_json_paths = 1;
    struct compare_rules *r = compare_rules_new(cfg);
    struct compare_json_shapes *s = compare_json_shapes_new();
    const char *primary[] = {
        "{\"ts\":100,\"items\":[{\"id\":1,\"name\":\"x\"}]}",
        "{\"ts\":101,\"items\":[{\"id\":2,\"name\":\"y\"}]}", /* derived from the first */
        "{\"ts\":102,\"items\":[{\"id\":3,\"name\":\"z\"}]}",
    };
    const char *shadow = "{\"ts\":999,\"items\":[{\"id\":2,\"name\":\"q\"}]}";
    for (size_t i = 0; i < 3; i++) {
        struct compare_json_result with, without;
        const uint8_t *a = (const uint8_t *)primary[i], *b = (const uint8_t *)shadow;
        compare_json_diff(a, strlen(primary[i]), b, strlen(shadow), r, NULL, NULL, s, &with);
        compare_json_diff(a, strlen(primary[i]), b, strlen(shadow), r, NULL, NULL, NULL, &without);
        ck_assert(with.primary_json && with.shadow_json);
        ck_assert_uint_eq(with.n_diffs, without.n_diffs);
        ck_assert_uint_eq(with.n_reported, without.n_reported);
        for (size_t k = 0; k < with.n_reported; k++) {
            ck_assert_str_eq(with.diffs[k].path, without.diffs[k].path);
            ck_assert_str_eq(with.diffs[k].primary, without.diffs[k].primary);
            ck_assert_str_eq(with.diffs[k].shadow, without.diffs[k].shadow);
        }
    }
    ck_assert_uint_eq(s->loaded, 1);
    ck_assert_uint_eq(s->derived, 2);
    compare_json_shapes_free(s);
    compare_rules_free(r);
    config_compare_free(cfg);
}
END_TEST

Suite *compare_json_shapes_suite(void);
Suite *compare_json_shapes_suite(void)
{
    Suite *s = suite_create("compare_json_shapes");
    TCase *tc = tcase_create("shapes");
    tcase_add_test(tc, shapes_derive_a_repeated_shape);
    tcase_add_test(tc, shapes_are_bounded);
    tcase_add_test(tc, shapes_leave_the_diff_as_it_is);
    suite_add_tcase(s, tc);
    return s;
}
