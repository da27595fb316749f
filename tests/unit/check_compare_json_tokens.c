/* Unit tests for the JSON diff on tokens: which bodies the loader takes
 * (exactly those jansson parses, less those it leaves to jansson), and the
 * token walk's results held to the tree walk's on pairs of bodies that
 * differ in every way the walks treat apart: values, types, number and
 * string spellings, member order, sizes, ignored and masked paths, noise. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "compare/compare_json.h"
#include "compare/compare_json_doc.h"
#include "compare/compare_rules.h"
#include "config/config.h"
#include "core/xalloc.h"

static bool loads(const char *text)
{
    struct compare_json_doc d;
    bool ok = compare_json_doc_load(&d, text, strlen(text));
    compare_json_doc_free(&d);
    return ok;
}

START_TEST(doc_takes_valid_json)
{
    const char *valid[] = {
        "{}",
        "[]",
        " {\"a\" : 1 , \"b\":[ ] }\n",
        "[true,false,null]",
        "\"s\" ",
        "[-0,0.5,1e3,-2E-2,1.5e+7]",
        "{\"a\":{\"b\":{\"c\":[[[]]]}}}",
        "[\"\\u00e9\\n\\\"\",\"caf\xc3\xa9\"]",
        "[123456789012345678]",
        "[9223372036854775807]",
        "{\"x\":\"\x7f\"}",
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        ck_assert_msg(loads(valid[i]), "refused: %s", valid[i]);
}
END_TEST

START_TEST(doc_refuses_what_jansson_refuses_or_keeps_once)
{
    const char *refused[] = {
        "",
        "   ",
        "[1,]",
        "[,1]",
        "[1 2]",
        "{\"a\" 1}",
        "{\"a\":1,}",
        "{\"a\":}",
        "{\"a\"}",
        "{1:2}",
        "[01]",
        "[1.]",
        "[.5]",
        "[-]",
        "[1e]",
        "[tru]",
        "[nulll]",
        "[1]x",
        "[1][2]",
        "{\"a\":1}}",
        "[\"\\x\"]",
        "[\"\\u0000\"]",
        "[\"\\ud800\"]",
        "[\"\xc3\"]",
        "[\"\xc0\xaf\"]",
        "[\"a\tb\"]",
        "[99999999999999999999]",
        "[1e999]",
        /* valid, but left to jansson: */
        "{\"a\":1,\"a\":2}",
        "{\"\\u0061\":1}",
        "1",
        "true",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        ck_assert_msg(!loads(refused[i]), "took: %s", refused[i]);
    /* A NUL byte inside the body. */
    struct compare_json_doc d;
    ck_assert(!compare_json_doc_load(&d, "[1]\0", 4));
    compare_json_doc_free(&d);
    /* Nesting deeper than the walk's depth is left to jansson. */
    char deep[2 * COMPARE_JSON_MAX_DEPTH + 8];
    size_t n = 0;
    for (int i = 0; i <= COMPARE_JSON_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i <= COMPARE_JSON_MAX_DEPTH; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    ck_assert(!loads(deep));
    /* One level less: the innermost array is at the walk's last depth. */
    deep[COMPARE_JSON_MAX_DEPTH] = ' ';
    deep[COMPARE_JSON_MAX_DEPTH + 1] = ' ';
    ck_assert(loads(deep));
}
END_TEST

/* <b> derived from <a> (when <derived>) holds the nodes a full load of <b> makes. */
static void derives(const char *a, const char *b, bool derived)
{
    struct compare_json_doc da, db, full;
    ck_assert(compare_json_doc_load(&da, a, strlen(a)));
    bool ok = compare_json_doc_derive(&db, &da, b, strlen(b));
    ck_assert_msg(ok == derived, "%s -> %s: derived %d", a, b, ok);
    if (ok) {
        ck_assert(compare_json_doc_load(&full, b, strlen(b)));
        ck_assert_uint_eq(db.n, full.n);
        for (size_t i = 0; i < db.n; i++) {
            const struct compare_json_node *x = &db.nodes[i], *y = &full.nodes[i];
            ck_assert_msg(x->type == y->type && x->escaped == y->escaped && x->name == y->name &&
                              x->start == y->start && x->end == y->end && x->size == y->size &&
                              x->next == y->next,
                          "%s -> %s: node %zu", a, b, i);
        }
        compare_json_doc_free(&full);
    }
    compare_json_doc_free(&da);
    compare_json_doc_free(&db);
}

START_TEST(doc_derived_from_a_like_body)
{
    const char *a = "{\"ts\":1733500000.123,\"id\":\"ab12\",\"n\":10,\"ok\":true,\"l\":[1,\"x\"]}";
    derives(a, a, true);
    derives(a, "{\"ts\":1733500000.456,\"id\":\"cd34\",\"n\":12,\"ok\":true,\"l\":[7,\"y\"]}", true);
    derives(a, "{\"ts\":1733500000e123,\"id\":\"ab12\",\"n\":10,\"ok\":true,\"l\":[1,\"x\"]}", true);
    derives("[true,100]", "[null,1.5]", true); /* literals and numbers change kind */
    /* Anything else is loaded whole. */
    derives(a, "{\"TS\":1733500000.123,\"id\":\"ab12\",\"n\":10,\"ok\":true,\"l\":[1,\"x\"]}", false);
    derives(a, "{\"ts\":1733500000.123,\"id\":\"a\\\"2\",\"n\":10,\"ok\":true,\"l\":[1,\"x\"]}", false);
    derives(a, "{\"ts\":1733500000.123,\"id\":\"ab12\",\"n\":1 ,\"ok\":true,\"l\":[1,\"x\"]}", false);
    derives(a, "{\"ts\":1733500000.123,\"id\":\"ab12\",\"n\":10,\"ok\":truX,\"l\":[1,\"x\"]}", false);
    derives(a, "{\"ts\":1733500000.123,\"id\":\"ab12\",\"n\":10,\"ok\":true,\"l\":[1,\"x\"] ", false);
    derives(a, "{\"ts\":1733500000.123,\"id\":\"ab12\",\"n\":10,\"ok\":true,\"l\":{1,\"x\"}}", false);
    derives(a,
            "{\"ts\":1733500000.123,\"id\":\"a\xc3\xa9"
            "2\",\"n\":10,\"ok\":true,\"l\":[1,\"x\"]}",
            false);
    derives("[\"a\\n\"]", "[\"a\\t\"]", false); /* an escape */
    derives("[\"ab\"]", "[\"a\"]", false);      /* lengths differ */
}
END_TEST

/* Two documents of 40 members, in opposite orders, one value changed. */
static void reversed_objects(char *a, char *b, size_t cap)
{
    size_t oa = 0, ob = 0;
    oa += (size_t)snprintf(a + oa, cap - oa, "{");
    ob += (size_t)snprintf(b + ob, cap - ob, "{");
    for (int i = 0; i < 40; i++) {
        oa += (size_t)snprintf(a + oa, cap - oa, "%s\"k%d\":%d", i ? "," : "", i, i);
        ob += (size_t)snprintf(b + ob, cap - ob, "%s\"k%d\":%d", i ? "," : "", 39 - i,
                               39 - i == 17 ? -1 : 39 - i);
    }
    snprintf(a + oa, cap - oa, ",\"only_a\":1}");
    snprintf(b + ob, cap - ob, ",\"only_b\":1}");
}

static struct compare_rules *rules(void)
{
    struct config_compare *cfg = config_compare_new();
    cfg->body = COMPARE_BODY_JSON;
    const char *ignore[] = {"$.ts", "$..skip[*]", "$.items[*].id"};
    cfg->ignore_json_paths = xcalloc(3, sizeof(char *));
    for (size_t i = 0; i < 3; i++)
        cfg->ignore_json_paths[cfg->n_ignore_json_paths++] = xstrdup(ignore[i]);
    cfg->redact_json_paths = xcalloc(1, sizeof(char *));
    cfg->redact_json_paths[cfg->n_redact_json_paths++] = xstrdup("$..secret");
    struct compare_rules *r = compare_rules_new(cfg);
    config_compare_free(cfg);
    return r;
}

static bool noise_n(void *ctx, const char *path)
{
    (void)ctx;
    return strstr(path, ".noise") != NULL;
}

static void same(const char *a, const char *b, const struct compare_json_result *x,
                 const struct compare_json_result *y)
{
    ck_assert_msg(x->n_diffs == y->n_diffs && x->n_noise == y->n_noise && x->n_reported == y->n_reported,
                  "%s / %s: %zu/%zu/%zu diffs, tree %zu/%zu/%zu", a, b, x->n_diffs, x->n_noise, x->n_reported,
                  y->n_diffs, y->n_noise, y->n_reported);
    ck_assert(x->primary_json == y->primary_json && x->shadow_json == y->shadow_json);
    for (size_t i = 0; i < x->n_reported; i++) {
        ck_assert_int_eq(x->diffs[i].kind, y->diffs[i].kind);
        ck_assert_str_eq(x->diffs[i].path, y->diffs[i].path);
        ck_assert_str_eq(x->diffs[i].generalized, y->diffs[i].generalized);
        ck_assert_str_eq(x->diffs[i].primary, y->diffs[i].primary);
        ck_assert_str_eq(x->diffs[i].shadow, y->diffs[i].shadow);
    }
}

/* The token walk takes the pair (when <taken>) and agrees with the tree walk. */
static size_t held_to_tree(const struct compare_rules *r, const char *a, const char *b, bool taken)
{
    struct compare_json_result tok, tree, any;
    const uint8_t *pa = (const uint8_t *)a, *pb = (const uint8_t *)b;
    bool t = compare_json_diff_tokens(pa, strlen(a), pb, strlen(b), r, noise_n, NULL, NULL, &tok);
    compare_json_diff_tree(pa, strlen(a), pb, strlen(b), r, noise_n, NULL, &tree);
    compare_json_diff(pa, strlen(a), pb, strlen(b), r, noise_n, NULL, NULL, &any);
    ck_assert_msg(t == taken, "%s / %s: taken %d", a, b, t);
    if (t)
        same(a, b, &tok, &tree);
    same(a, b, &any, &tree);
    return tree.n_diffs;
}

/* "[item,item,...]", <n> items. */
static void array_of(char *dst, size_t cap, const char *item, int n)
{
    size_t o = (size_t)snprintf(dst, cap, "[");
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(dst + o, cap - o, "%s%s", i ? "," : "", item);
    snprintf(dst + o, cap - o, "]");
}

START_TEST(tokens_agree_with_tree)
{
    struct compare_rules *r = rules();
    static const struct {
        const char *a, *b;
        size_t diffs;
    } pairs[] = {
        {"{\"a\":1,\"b\":{\"c\":\"x\"},\"l\":[1,2]}",
         "{\"b\":{\"c\":\"y\"},\"a\":1,\"l\":[1,2,3],\"n\":null}", 3},
        {"{\"a\":1,\"gone\":{\"x\":[1]}}", "{\"a\":\"1\"}", 2},
        {"[1.0,-0,1,1e2,\"\\u0041\",\"\\/\"]", "[1.00,0,1.0,100.0,\"A\",\"/\"]", 1},
        {"{\"ts\":1,\"items\":[{\"id\":1,\"v\":1},{\"id\":2,\"v\":2}]}",
         "{\"ts\":2,\"items\":[{\"id\":7,\"v\":1}]}", 1},
        {"{\"skip\":[1,2],\"x\":{\"skip\":[{\"a\":1}],\"y\":2}}",
         "{\"skip\":[3],\"x\":{\"skip\":[],\"y\":3}}", 1},
        {"{\"secret\":{\"k\":1},\"s\":{\"secret\":\"p\",\"u\":1}}", "{\"secret\":{\"k\":2}}", 2},
        {"{\"noise\":1,\"o\":{\"noise\":[1]},\"q\":1}", "{\"noise\":2,\"o\":{\"noise\":[2,3]},\"q\":2}", 1},
        {"[[1,[2,[3,{\"d\":4}]]]]", "[[1,[2,[3,{\"d\":5}]]]]", 1},
        {"{\"a\":\"caf\xc3\xa9\",\"b\":[true,false,null]}",
         "{\"a\":\"caf\\u00e9\",\"b\":[false,true,null,{}]}", 3},
        {"{}", "[]", 1},
        {"\"s\" ", "\"t\" ", 1},
        {"{\"a\":[]}", "{\"a\":{}}", 1},
        {"[0.1,0.10000000000000001]", "[0.1,0.1]", 0},
        {"[9223372036854775807]", "[9223372036854775806]", 1},
        /* Values printed from their bytes: UTF-8, DEL, masked, -0 (printed 0). */
        {"{\"s\":\"caf\xc3\xa9\",\"secret\":\"x\",\"z\":-0,\"d\":\"\x7f\",\"t\":true}",
         "{\"s\":\"caf\xc3\xa8\",\"secret\":\"y\",\"z\":1,\"d\":\"a\",\"t\":null}", 5},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        ck_assert_uint_eq(held_to_tree(r, pairs[i].a, pairs[i].b, true), pairs[i].diffs);
        held_to_tree(r, pairs[i].b, pairs[i].a, true);
    }
    /* Twenty differences: all counted, eight recorded, the same eight. */
    char a[512], b[512];
    array_of(a, sizeof(a), "1", 20);
    array_of(b, sizeof(b), "\"2\"", 20);
    ck_assert_uint_eq(held_to_tree(r, a, b, true), 20);
    /* Large objects in different orders are paired by name. */
    char big_a[2048], big_b[2048];
    reversed_objects(big_a, big_b, sizeof(big_a));
    ck_assert_uint_eq(held_to_tree(r, big_a, big_b, true), 3);
    compare_rules_free(r);
}
END_TEST

START_TEST(tokens_leave_the_rest_to_tree)
{
    struct compare_rules *r = rules();
    const char *left[][2] = {
        {"{\"a\":1,\"a\":2}", "{\"a\":2}"}, /* jansson keeps the last */
        {"{\"\\u0061\":1}", "{\"a\":2}"},   /* an escaped name */
        {"{\"a\":[1,]}", "{\"a\":[1]}"},    /* not JSON: nothing compared */
        {"1", "2"},                         /* a scalar ending the body */
        {"<html>", "{\"a\":1}"},
    };
    for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++)
        held_to_tree(r, left[i][0], left[i][1], false);
    compare_rules_free(r);
}
END_TEST

Suite *compare_json_tokens_suite(void);
Suite *compare_json_tokens_suite(void)
{
    Suite *s = suite_create("compare_json_tokens");
    TCase *tc = tcase_create("doc");
    tcase_add_test(tc, doc_takes_valid_json);
    tcase_add_test(tc, doc_refuses_what_jansson_refuses_or_keeps_once);
    tcase_add_test(tc, doc_derived_from_a_like_body);
    suite_add_tcase(s, tc);
    tc = tcase_create("walk");
    tcase_add_test(tc, tokens_agree_with_tree);
    tcase_add_test(tc, tokens_leave_the_rest_to_tree);
    suite_add_tcase(s, tc);
    return s;
}
