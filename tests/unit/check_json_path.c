/* Unit tests for JSON path patterns (json_path.h): what parses and what is
 * refused with which message, matching of keys, indices, wildcards and any
 * depth, and the text form of concrete paths. */
#include <check.h>
#include <string.h>

#include "core/json_path.h"

static struct json_seg K(const char *k) {
    return (struct json_seg){.kind = JSEG_KEY, .key = k, .key_len = strlen(k)};
}

static struct json_seg
I(uint32_t i) {
    return (struct json_seg){.kind = JSEG_INDEX, .index = i};
}

static bool
matches(const char *pattern, const struct json_seg *segs, size_t n)
{
    struct json_path p;
    char err[128];
    ck_assert_msg(json_path_parse(pattern, &p, err, sizeof(err)), "%s: %s", pattern, err);
    bool r = json_path_match(&p, segs, n);
    /* Stepping down one level at a time answers the same at every level. */
    json_path_state st = json_path_start(&p);
    ck_assert_int_eq(json_path_accepts(&p, st), json_path_match(&p, segs, 0));
    for (size_t i = 0; i < n; i++) {
        st = json_path_step(&p, st, &segs[i]);
        ck_assert_msg(json_path_accepts(&p, st) == json_path_match(&p, segs, i + 1), "%s at level %zu",
                      pattern, i + 1);
    }
    json_path_free(&p);
    return r;
}

static void refused(const char *pattern, const char *needle)
{
    struct json_path p;
    char err[128] = "";
    ck_assert_msg(!json_path_parse(pattern, &p, err, sizeof(err)), "%s parsed", pattern);
    ck_assert_msg(strstr(err, needle), "%s: %s (wanted %s)", pattern, err, needle);
    ck_assert_ptr_null(p.keys);
}

START_TEST(test_parse_forms)
{
    struct json_path p;
    char err[128];
    ck_assert(json_path_parse("$.items[*].id", &p, err, sizeof(err)));
    ck_assert_uint_eq(p.n, 3);
    ck_assert_int_eq(p.segs[0].kind, JSEG_KEY);
    ck_assert_uint_eq(p.segs[0].key_len, 5);
    ck_assert(memcmp(p.segs[0].key, "items", 5) == 0);
    ck_assert_int_eq(p.segs[1].kind, JSEG_ANY);
    ck_assert_int_eq(p.segs[2].kind, JSEG_KEY);
    json_path_free(&p);
    ck_assert(json_path_parse("$", &p, err, sizeof(err)));
    ck_assert_uint_eq(p.n, 0);
    json_path_free(&p);
    ck_assert(json_path_parse("$['a.b'][12]..x.*", &p, err, sizeof(err)));
    ck_assert_uint_eq(p.n, 5);
    ck_assert_uint_eq(p.segs[0].key_len, 3);
    ck_assert_int_eq(p.segs[1].kind, JSEG_INDEX);
    ck_assert_uint_eq(p.segs[1].index, 12);
    ck_assert_int_eq(p.segs[2].kind, JSEG_DESCEND);
    ck_assert_int_eq(p.segs[3].kind, JSEG_KEY);
    ck_assert_int_eq(p.segs[4].kind, JSEG_ANY);
    json_path_free(&p);
    ck_assert(json_path_parse("$['it\\'s']", &p, err, sizeof(err)));
    ck_assert_uint_eq(p.segs[0].key_len, 4);
    ck_assert(memcmp(p.segs[0].key, "it's", 4) == 0);
    json_path_free(&p);
}
END_TEST

START_TEST(test_parse_refusals)
{
    refused("", "must start with '$'");
    refused("items", "must start with '$'");
    refused("$.", "expected a name");
    refused("$..", "'..' must be followed");
    refused("$...a", "'..' must be followed");
    refused("$.a b", "unexpected byte");
    refused("$[", "expected a number");
    refused("$[1", "expected ']'");
    refused("$[*", "expected ']'");
    refused("$['a", "unterminated");
    refused("$['a\\n']", "only \\' and");
    refused("$[1000000000]", "larger than");
    refused("$x", "unexpected byte");
    char long_path[400] = "$";
    for (int i = 0; i < 33; i++)
        strcat(long_path, ".a");
    refused(long_path, "more than 32 segments");
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[0] = '$';
    long_path[1] = '.';
    long_path[sizeof(long_path) - 1] = '\0';
    refused(long_path, "longer than 256");
}
END_TEST

START_TEST(test_match)
{
    struct json_seg ts[] = {K("timestamp")};
    ck_assert(matches("$.timestamp", ts, 1));
    ck_assert(!matches("$.time", ts, 1));
    ck_assert(!matches("$", ts, 1));
    ck_assert(matches("$", ts, 0));
    struct json_seg id[] = {K("items"), I(3), K("id")};
    ck_assert(matches("$.items[*].id", id, 3));
    ck_assert(matches("$.items[3].id", id, 3));
    ck_assert(!matches("$.items[2].id", id, 3));
    ck_assert(matches("$.*.*.id", id, 3));
    ck_assert(!matches("$.items[*]", id, 3));
    ck_assert(matches("$..id", id, 3));
    ck_assert(matches("$..items..id", id, 3));
    ck_assert(matches("$..*", id, 3));
    ck_assert(!matches("$..name", id, 3));
    ck_assert(!matches("$.items.3.id", id, 3)); /* a key "3" is not index 3 */
    struct json_seg deep[300];
    for (size_t i = 0; i < 300; i++)
        deep[i] = K("a");
    deep[299] = K("z");
    ck_assert(matches("$..z", deep, 300));
    ck_assert(!matches("$..y", deep, 300));
    struct json_seg nested[] = {K("a"), K("b"), K("a"), K("b"), I(0), K("c")};
    ck_assert(matches("$..a.b..c", nested, 6));
    ck_assert(matches("$..a..b[0]..c", nested, 6));
    ck_assert(!matches("$..a.c", nested, 6));
    ck_assert(matches("$.a..*", nested, 6));
}
END_TEST

START_TEST(test_format)
{
    char out[64];
    struct json_seg p[] = {K("items"), I(3), K("a.b"), K("it's")};
    json_path_format(p, 4, false, out, sizeof(out));
    ck_assert_str_eq(out, "$.items[3]['a.b']['it\\'s']");
    json_path_format(p, 2, true, out, sizeof(out));
    ck_assert_str_eq(out, "$.items[*]");
    json_path_format(p, 0, false, out, sizeof(out));
    ck_assert_str_eq(out, "$");
    char small[10];
    size_t n = json_path_format(p, 4, false, small, sizeof(small));
    ck_assert_uint_eq(n, strlen(small));
    ck_assert(strstr(small, "..."));
    /* A formatted path parses back to a pattern that matches it. */
    json_path_format(p, 4, false, out, sizeof(out));
    ck_assert(matches(out, p, 4));
}
END_TEST

Suite *json_path_suite(void);
Suite *json_path_suite(void)
{
    Suite *s = suite_create("json_path");
    TCase *tc = tcase_create("json_path");
    tcase_add_test(tc, test_parse_forms);
    tcase_add_test(tc, test_parse_refusals);
    tcase_add_test(tc, test_match);
    tcase_add_test(tc, test_format);
    suite_add_tcase(s, tc);
    return s;
}
