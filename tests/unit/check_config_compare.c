/* Unit tests for a mirror's compare block (config_compare.h): the defaults,
 * a block that sets every key, and one table of broken blocks, each with the
 * message (file, line, key path) it must produce. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "config/config_load.h"

/* A route with one http mirror; keys added after it are on line 5. */
#define M0 "routes:\n  - name: a\n    mirrors:\n      - url: http://m\n"

static bool load(const char *yaml, struct config *c, struct config_errors *errs)
{
    config_defaults(c);
    memset(errs, 0, sizeof(*errs));
    return config_load_string(c, yaml, strlen(yaml), "t.yaml", errs);
}

START_TEST(defaults)
{
    struct config c;
    struct config_errors e;
    ck_assert(load(M0 "        compare: {}\n", &c, &e));
    const struct config_compare *cmp = c.routes[0].mirrors[0].compare;
    ck_assert_ptr_nonnull(cmp);
    ck_assert_uint_eq(cmp->percent_millionths, 1000000);
    ck_assert_int_eq(cmp->status, COMPARE_STATUS_EXACT);
    ck_assert_uint_eq(cmp->n_headers, 1);
    ck_assert_str_eq(cmp->headers[0], "content-type");
    ck_assert_uint_eq(cmp->n_ignore_headers, 1);
    ck_assert_str_eq(cmp->ignore_headers[0], "date");
    ck_assert_int_eq(cmp->body, COMPARE_BODY_BYTES);
    ck_assert_uint_eq(cmp->max_body_bytes, 65536);
    ck_assert_uint_eq(cmp->match_timeout_ms, 5000);
    ck_assert_uint_eq(cmp->max_pending, 10000);
    ck_assert_ptr_null(cmp->diff_log);
    config_free(&c);
    /* No block, no comparison. */
    ck_assert(load(M0, &c, &e));
    ck_assert_ptr_null(c.routes[0].mirrors[0].compare);
    config_free(&c);
}
END_TEST

START_TEST(every_key)
{
    struct config c;
    struct config_errors e;
    const char *yaml = M0 "        compare:\n"
                          "          percent: 12.5\n"
                          "          status: class\n"
                          "          headers: [Content-Type, \"*\"]\n"
                          "          ignore_headers: [Date, X-Request-Id]\n"
                          "          body: json\n"
                          "          ignore_json_paths: [$.timestamp, \"$.items[*].id\"]\n"
                          "          redact_json_paths: [$.token]\n"
                          "          max_body_bytes: 1024\n"
                          "          match_timeout_ms: 2000\n"
                          "          max_pending: 50\n"
                          "          diff_log:\n"
                          "            url: file:///tmp/spoa-check-compare/diffs\n"
                          "            rotate_bytes: 1048576\n"
                          "            max_files: 3\n"
                          "            max_records_per_second: 7\n"
                          "            redact_headers: [set-cookie]\n";
    ck_assert_msg(load(yaml, &c, &e), "%s", e.count ? e.items[0] : "");
    const struct config_compare *cmp = c.routes[0].mirrors[0].compare;
    ck_assert_uint_eq(cmp->percent_millionths, 125000);
    ck_assert_int_eq(cmp->status, COMPARE_STATUS_CLASS);
    ck_assert_uint_eq(cmp->n_headers, 2);
    ck_assert_str_eq(cmp->headers[0], "content-type");
    ck_assert_str_eq(cmp->headers[1], "*");
    ck_assert_uint_eq(cmp->n_ignore_headers, 2);
    ck_assert_str_eq(cmp->ignore_headers[1], "x-request-id");
    ck_assert_int_eq(cmp->body, COMPARE_BODY_JSON);
    ck_assert_uint_eq(cmp->n_ignore_json_paths, 2);
    ck_assert_str_eq(cmp->ignore_json_paths[1], "$.items[*].id");
    ck_assert_uint_eq(cmp->n_redact_json_paths, 1);
    ck_assert_uint_eq(cmp->max_body_bytes, 1024);
    ck_assert_uint_eq(cmp->match_timeout_ms, 2000);
    ck_assert_uint_eq(cmp->max_pending, 50);
    ck_assert_ptr_nonnull(cmp->diff_log);
    ck_assert_str_eq(cmp->diff_log->dir, "/tmp/spoa-check-compare/diffs");
    ck_assert_uint_eq(cmp->diff_log->rotate_bytes, 1048576);
    ck_assert_uint_eq(cmp->diff_log->max_files, 3);
    ck_assert_uint_eq(cmp->diff_log->max_rps, 7);
    ck_assert_uint_eq(cmp->diff_log->n_redact_headers, 1);
    config_free(&c);
}
END_TEST

struct bad_case {
    const char *yaml;
    const char *want;
};

static const struct bad_case bad_cases[] = {
    {M0 "        compare: [1]\n", "t.yaml:5: routes[0].mirrors[0].compare: must be a mapping"},
    {M0 "        compare: {percnt: 5}\n", "t.yaml:5: routes[0].mirrors[0].compare.percnt: unknown key"},
    {M0 "        compare: {percent: 101}\n",
     "t.yaml:5: routes[0].mirrors[0].compare.percent: must be a number"},
    {M0 "        compare: {percent: 1.00001}\n", "compare.percent: must have at most 4 decimals"},
    {M0 "        compare: {status: near}\n", "compare.status: must be exact or class, got \"near\""},
    {M0 "        compare: {body: xml}\n", "compare.body: must be off, bytes or json, got \"xml\""},
    {M0 "        compare: {headers: [\"a b\"]}\n", "compare.headers[0]: must be a header name"},
    {M0 "        compare: {headers: [a, A]}\n", "compare.headers[1]: header listed twice"},
    {M0 "        compare: {headers: [\"*\", \"*\"]}\n", "compare.headers[1]: \"*\" listed twice"},
    {M0 "        compare: {ignore_headers: [\"a:b\"]}\n", "compare.ignore_headers[0]: must be a header name"},
    {M0 "        compare: {body: json, ignore_json_paths: [timestamp]}\n",
     "compare.ignore_json_paths[0]: must be a JSON path such as $.timestamp or $.items[*].id (must start "
     "with "
     "'$'"},
    {M0 "        compare: {body: json, ignore_json_paths: [\"$.a[\"]}\n",
     "compare.ignore_json_paths[0]: must be a JSON path"},
    {M0 "        compare: {body: json, ignore_json_paths: [$.a, $.a]}\n",
     "compare.ignore_json_paths[1]: path listed twice"},
    {M0 "        compare: {body: json, redact_json_paths: [x]}\n",
     "compare.redact_json_paths[0]: must be a JSON"},
    {M0 "        compare: {ignore_json_paths: [$.a]}\n",
     "compare.ignore_json_paths: JSON paths need body: json"},
    {M0 "        compare: {max_body_bytes: 65537}\n",
     "t.yaml:4: routes[0].mirrors[0].compare.max_body_bytes: must not exceed the mirror's max_response_bytes "
     "(65536), got 65537"},
    {M0 "        compare: {match_timeout_ms: 0}\n", "compare.match_timeout_ms: must be"},
    {M0 "        compare: {max_pending: 0}\n", "compare.max_pending: must be"},
    {M0 "        compare: {diff_log: {rotate_bytes: 2048}}\n", "compare.diff_log.url: is required"},
    {M0 "        compare: {diff_log: {url: http://x}}\n", "compare.diff_log.url: must be file:///absolute"},
    {M0 "        compare: {diff_log: {url: file:///tmp/x, max_records_per_second: 0}}\n",
     "compare.diff_log.max_records_per_second: must be"},
    {M0 "        compare: {diff_log: {url: file:///tmp/x, rotate_bytes: 4096, max_total_bytes: 2048}}\n",
     "compare.diff_log.max_total_bytes: max_total_bytes (2048) must be at least rotate_bytes (4096)"},
    {M0 "        compare: {diff_log: {url: file:///tmp/x, bogus: 1}}\n",
     "compare.diff_log.bogus: unknown key"},
    {M0 "        compare: {diff_log: {url: file:///tmp/spoa-check-compare/d}}\n"
        "      - url: file:///tmp/spoa-check-compare/d\n",
     "t.yaml:6: routes[0].mirrors[1].url: directory /tmp/spoa-check-compare/d is already used by the diff "
     "log of "
     "the mirror at line 4"},
    {"routes:\n  - name: a\n    mirrors:\n      - url: file:///tmp/spoa-check-compare/e\n"
     "      - url: http://n\n        compare: {diff_log: {url: file:///tmp/spoa-check-compare/e}}\n",
     "t.yaml:6: routes[0].mirrors[1].compare.diff_log.url: directory /tmp/spoa-check-compare/e is already "
     "used by the capture mirror at line 4"},
    {"routes:\n  - name: a\n    mirrors:\n      - url: file:///tmp/spoa-check-compare/f\n        compare: "
     "{}\n",
     "t.yaml:4: routes[0].mirrors[0].compare: only http mirrors answer"},
    {M0 "        compare: {noise_mirror: http://x}\n", "t.yaml:4: routes[0].mirrors[0].compare.noise_mirror: "
                                                       "must be the url of another mirror of this route, got "
                                                       "\"http://x\""},
    {M0 "        compare: {noise_mirror: http://n}\n      - url: http://n\n",
     "compare.noise_mirror: the noise mirror \"http://n\" needs a compare block of its own"},
};

/* Two diff logs may share a directory. */
START_TEST(shared_diff_log)
{
    struct config c;
    struct config_errors e;
    ck_assert(load(
        M0 "        compare: {diff_log: {url: file:///tmp/spoa-check-compare/s}}\n"
           "      - url: http://n\n        compare: {diff_log: {url: file:///tmp/spoa-check-compare/s}}\n",
        &c, &e));
    config_free(&c);
}
END_TEST

START_TEST(noise_mirror_resolved)
{
    struct config c;
    struct config_errors e;
    ck_assert(load(M0
                   "        compare: {noise_mirror: http://n}\n      - url: http://n\n        compare: {}\n",
                   &c, &e));
    ck_assert_int_eq(c.routes[0].mirrors[0].compare->noise_index, 1);
    ck_assert_str_eq(c.routes[0].mirrors[0].compare->noise_mirror, "http://n");
    ck_assert_int_eq(c.routes[0].mirrors[1].compare->noise_index, -1);
    config_free(&c);
}
END_TEST

START_TEST(bad_compare_reports)
{
    const struct bad_case *bc = &bad_cases[_i];
    struct config c;
    struct config_errors e;
    ck_assert_msg(!load(bc->yaml, &c, &e), "loaded: %s", bc->yaml);
    bool found = false;
    for (size_t i = 0; i < e.count; i++)
        found = found || strstr(e.items[i], bc->want) != NULL;
    ck_assert_msg(found, "case %d: wanted \"%s\", got \"%s\"", _i, bc->want, e.count ? e.items[0] : "");
    config_errors_free(&e);
    config_free(&c);
}
END_TEST

Suite *config_compare_suite(void);
Suite *config_compare_suite(void)
{
    Suite *s = suite_create("config_compare");
    TCase *tc = tcase_create("compare");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, every_key);
    tcase_add_test(tc, noise_mirror_resolved);
    tcase_add_test(tc, shared_diff_log);
    tcase_add_loop_test(tc, bad_compare_reports, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}
