/* Command-line parsing: every value option in both forms, flags, errors. */
#include <check.h>
#include <string.h>

#include "app/options.h"

static int parse(struct options *o, char *err, size_t len, int argc, char **argv)
{
    return options_parse(o, argc, argv, err, len);
}

START_TEST(test_values_and_flags)
{
    char *argv[] = {"spoa-shadow",
                    "-c",
                    "a.yaml",
                    "--listen",
                    "127.0.0.1:1",
                    "--threads=3",
                    "--log-level",
                    "debug",
                    "--log-format",
                    "json",
                    "--admin-listen",
                    "127.0.0.1:2",
                    "--max-frame-size",
                    "65532",
                    "--max-connections",
                    "9",
                    "--idle-timeout-ms",
                    "0",
                    "--mirror",
                    "http://m:1",
                    "--percent",
                    "12.5",
                    "--check-config"};
    struct options o;
    char err[128];
    ck_assert_int_eq(parse(&o, err, sizeof(err), (int)(sizeof(argv) / sizeof(argv[0])), argv), 0);
    ck_assert_str_eq(o.config_path, "a.yaml");
    ck_assert_str_eq(o.listen, "127.0.0.1:1");
    ck_assert_str_eq(o.threads, "3");
    ck_assert_str_eq(o.log_level, "debug");
    ck_assert_str_eq(o.log_format, "json");
    ck_assert_str_eq(o.admin_listen, "127.0.0.1:2");
    ck_assert_str_eq(o.max_frame, "65532");
    ck_assert_str_eq(o.max_conns, "9");
    ck_assert_str_eq(o.idle_timeout, "0");
    ck_assert_str_eq(o.mirror_url, "http://m:1");
    ck_assert_str_eq(o.percent, "12.5");
    ck_assert(o.check_config);
    ck_assert(!o.help && !o.version);
}
END_TEST

START_TEST(test_long_config_forms)
{
    char *a1[] = {"x", "--config", "b.yaml"};
    char *a2[] = {"x", "--config=c.yaml", "-V", "-h"};
    struct options o;
    char err[128];
    ck_assert_int_eq(parse(&o, err, sizeof(err), 3, a1), 0);
    ck_assert_str_eq(o.config_path, "b.yaml");
    ck_assert_int_eq(parse(&o, err, sizeof(err), 4, a2), 0);
    ck_assert_str_eq(o.config_path, "c.yaml");
    ck_assert(o.version && o.help);
}
END_TEST

static const struct {
    const char *args[3];
    int argc;
    const char *error;
} bad_cases[] = {
    {{"--bogus"}, 1, "unknown option --bogus"},
    {{"stray"}, 1, "unexpected argument \"stray\""},
    {{"--listen"}, 1, "option --listen needs a value"},
    {{"-c"}, 1, "option -c needs a value"},
    {{"--percent", "5"}, 2, "--percent needs --mirror"},
    {{"--check-config=1"}, 1, "unknown option --check-config=1"},
};

START_TEST(test_bad_command_lines)
{
    char *argv[4] = {"spoa-shadow"};
    for (int i = 0; i < bad_cases[_i].argc; i++)
        argv[i + 1] = (char *)bad_cases[_i].args[i];
    struct options o;
    char err[128] = "";
    ck_assert_int_eq(parse(&o, err, sizeof(err), bad_cases[_i].argc + 1, argv), -1);
    ck_assert_str_eq(err, bad_cases[_i].error);
}
END_TEST

Suite *options_suite(void);

Suite *options_suite(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_values_and_flags);
    tcase_add_test(tc, test_long_config_forms);
    tcase_add_loop_test(tc, test_bad_command_lines, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}
