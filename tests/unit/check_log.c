/* Logging: logfmt quoting, and the logfmt-to-JSON rewrite of --log-format json. */
#include <check.h>
#include <string.h>

#include "core/log.h"

Suite *log_suite(void);

static const struct {
    const char *in;
    size_t len;
    const char *out;
} quote_cases[] = {
    {"GET", 3, "GET"},
    {"", 0, "\"\""},
    {"a b", 3, "\"a b\""},
    {"x=1", 3, "\"x=1\""},
    {"say \"hi\"", 8, "\"say \\\"hi\\\"\""},
    {"back\\slash", 10, "\"back\\\\slash\""},
    {"line\nbreak", 10, "\"line\\nbreak\""},
    {"nul\0byte", 8, "\"nul\\x00byte\""},
    {"caf\xc3\xa9", 5, "\"caf\\xc3\\xa9\""},
    {"0123456789abcdefXYZ", 19, "0123456789abcdef..."},
};

START_TEST(test_quote)
{
    char out[128];
    log_quote(out, sizeof(out), (const uint8_t *)quote_cases[_i].in, quote_cases[_i].len, 16);
    ck_assert_str_eq(out, quote_cases[_i].out);
}
END_TEST

START_TEST(test_quote_small_buffer)
{
    char out[6];
    log_quote(out, sizeof(out), (const uint8_t *)"abcdefghij", 10, 100);
    ck_assert_uint_eq(strlen(out), 5);
}
END_TEST

static const struct {
    const char *in;
    const char *out;
} json_cases[] = {
    {"ts=1 level=info event=start", "{\"ts\":\"1\",\"level\":\"info\",\"event\":\"start\"}"},
    {"event=x a=\"two words\"", "{\"event\":\"x\",\"a\":\"two words\"}"},
    {"event=x q=\"say \\\"hi\\\" \\\\ \\n\"", "{\"event\":\"x\",\"q\":\"say \\\"hi\\\" \\\\ \\u000a\"}"},
    /* Valid UTF-8 escaped by log_quote comes back as the characters themselves. */
    {"event=x b=\"caf\\xc3\\xa9\"", "{\"event\":\"x\",\"b\":\"caf\xc3\xa9\"}"},
    /* Bytes that are not UTF-8 become code points, so the line stays valid JSON. */
    {"event=x b=\"\\xff\\xc0\\x01\"", "{\"event\":\"x\",\"b\":\"\\u00ff\\u00c0\\u0001\"}"},
    {"event=x empty=\"\" flag", "{\"event\":\"x\",\"empty\":\"\",\"flag\":\"\"}"},
};

START_TEST(test_logfmt_to_json)
{
    char out[256];
    log_logfmt_to_json(json_cases[_i].in, out, sizeof(out));
    ck_assert_str_eq(out, json_cases[_i].out);
}
END_TEST

START_TEST(test_levels_and_formats)
{
    enum log_level l;
    enum log_format f;
    ck_assert(log_level_parse("debug", &l) && l == LOG_LVL_DEBUG);
    ck_assert(log_level_parse("error", &l) && l == LOG_LVL_ERROR);
    ck_assert(!log_level_parse("verbose", &l));
    ck_assert(log_format_parse("json", &f) && f == LOG_FMT_JSON);
    ck_assert(!log_format_parse("xml", &f));
    struct logger lg = {.level = LOG_LVL_WARN};
    ck_assert(log_enabled(&lg, LOG_LVL_ERROR));
    ck_assert(!log_enabled(&lg, LOG_LVL_INFO));
    ck_assert(!log_enabled(NULL, LOG_LVL_ERROR));
}
END_TEST

Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("format");
    tcase_add_loop_test(tc, test_quote, 0, (int)(sizeof(quote_cases) / sizeof(quote_cases[0])));
    tcase_add_test(tc, test_quote_small_buffer);
    tcase_add_loop_test(tc, test_logfmt_to_json, 0, (int)(sizeof(json_cases) / sizeof(json_cases[0])));
    tcase_add_test(tc, test_levels_and_formats);
    suite_add_tcase(s, tc);
    return s;
}
