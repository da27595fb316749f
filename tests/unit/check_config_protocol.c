/* Unit tests for a mirror's `protocol` key: its values, its default, and the
 * URL schemes each one needs (errors name file:line:key). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/config_load.h"

static bool load(const char *yaml, struct config *c, struct config_errors *errs)
{
    config_defaults(c);
    memset(errs, 0, sizeof(*errs));
    return config_load_string(c, yaml, strlen(yaml), "t.yaml", errs);
}

#define ROUTE "routes:\n  - name: a\n    mirrors:\n"

struct good_case {
    const char *mirror;
    enum config_protocol want;
};

static const struct good_case good_cases[] = {
    {"      - url: http://m\n", CONFIG_PROTO_HTTP1},
    {"      - url: https://m\n", CONFIG_PROTO_HTTP1},
    {"      - url: http://m\n        protocol: http1.1\n", CONFIG_PROTO_HTTP1},
    {"      - url: http://m\n        protocol: h2c\n", CONFIG_PROTO_H2C},
    {"      - url: https://m\n        protocol: h2\n", CONFIG_PROTO_H2},
    {"      - url: https://m\n        protocol: auto\n", CONFIG_PROTO_AUTO},
    {"      - url: http://m\n        protocol: auto\n", CONFIG_PROTO_AUTO},
};
#define N_GOOD (sizeof(good_cases) / sizeof(good_cases[0]))

START_TEST(protocols)
{
    char yaml[512];
    snprintf(yaml, sizeof(yaml), ROUTE "%s", good_cases[_i].mirror);
    struct config c;
    struct config_errors errs;
    ck_assert_msg(load(yaml, &c, &errs), "%s", errs.count ? errs.items[0] : "");
    ck_assert_int_eq(c.routes[0].mirrors[0].protocol, good_cases[_i].want);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

struct bad_case {
    const char *mirror;
    const char *want;
};

static const struct bad_case bad_cases[] = {
    {"      - url: https://m\n        protocol: h2c\n",
     "t.yaml:5: routes[0].mirrors[0].protocol: h2c is cleartext HTTP/2: it needs an http:// URL"},
    {"      - url: http://m\n        protocol: h2\n",
     "t.yaml:5: routes[0].mirrors[0].protocol: h2 is HTTP/2 over TLS: it needs an https:// URL"},
    {"      - url: http://m\n        protocol: http2\n",
     "t.yaml:5: routes[0].mirrors[0].protocol: must be http1.1, h2, h2c or auto, got \"http2\""},
    {"      - url: http://m\n        protocol: H2C\n",
     "t.yaml:5: routes[0].mirrors[0].protocol: must be http1.1, h2, h2c or auto, got \"H2C\""},
    {"      - url: http://m\n        protocol: [h2c]\n", "t.yaml:5: routes[0].mirrors[0].protocol: must be"},
    {"      - url: file:///tmp\n        protocol: h2c\n",
     "t.yaml:5: routes[0].mirrors[0].protocol: not used by capture (file://) mirrors"},
};
#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

START_TEST(bad_protocols)
{
    char yaml[512];
    snprintf(yaml, sizeof(yaml), ROUTE "%s", bad_cases[_i].mirror);
    struct config c;
    struct config_errors errs;
    ck_assert(!load(yaml, &c, &errs));
    bool found = false;
    for (size_t i = 0; i < errs.count; i++)
        found = found || strstr(errs.items[i], bad_cases[_i].want) != NULL;
    ck_assert_msg(found, "want \"%s\", got \"%s\"", bad_cases[_i].want, errs.count ? errs.items[0] : "");
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(config_protocol_str(CONFIG_PROTO_HTTP1), "http1.1");
    ck_assert_str_eq(config_protocol_str(CONFIG_PROTO_H2), "h2");
    ck_assert_str_eq(config_protocol_str(CONFIG_PROTO_H2C), "h2c");
    ck_assert_str_eq(config_protocol_str(CONFIG_PROTO_AUTO), "auto");
}
END_TEST

Suite *config_protocol_suite(void);

Suite *config_protocol_suite(void)
{
    Suite *s = suite_create("config_protocol");
    TCase *tc = tcase_create("protocol");
    tcase_add_loop_test(tc, protocols, 0, (int)N_GOOD);
    tcase_add_loop_test(tc, bad_protocols, 0, (int)N_BAD);
    tcase_add_test(tc, names);
    suite_add_tcase(s, tc);
    return s;
}
