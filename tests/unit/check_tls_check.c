/* Unit tests for the load-time TLS check (tls_check.h) and the TLS context
 * of a mirror (tls_client.h): files that do not load are reported at the
 * mirror's file, line and tls key; good settings build a usable context. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_load.h"
#include "mirror/tls_check.h"
#include "mirror/tls_client.h"

/* Loads <yaml> into *c ("t.yaml"), which must be valid. */
static void load_ok(const char *yaml, struct config *c)
{
    struct config_errors errs = {0};
    config_defaults(c);
    bool ok = config_load_string(c, yaml, strlen(yaml), "t.yaml", &errs);
    ck_assert_msg(ok, "%s", errs.count ? errs.items[0] : "");
    config_errors_free(&errs);
}

START_TEST(bad_pem_reported_at_its_key)
{
    char path[] = "/tmp/check-tls-check-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "not a certificate\n", 18), 18);
    close(fd);
    char yaml[512];
    snprintf(
        yaml, sizeof(yaml),
        "routes:\n  - name: a\n    mirrors:\n      - url: https://m\n        tls:\n          ca_file: %s\n",
        path);
    struct config c;
    load_ok(yaml, &c);
    struct config_errors errs = {0};
    ck_assert(!tls_check_config(&c, &errs));
    ck_assert_uint_eq(errs.count, 1);
    ck_assert_msg(
        strstr(errs.items[0], "t.yaml:6: routes[0].mirrors[0].tls.ca_file: cannot load the CA file") ==
            errs.items[0],
        "%s", errs.items[0]);
    config_errors_free(&errs);
    config_free(&c);
    unlink(path);
}
END_TEST

START_TEST(defaults_and_plain_mirrors_pass)
{
    struct config c;
    load_ok("routes:\n  - name: a\n    mirrors:\n      - url: http://m\n      - url: https://m\n"
            "      - url: https://10.0.0.1\n        tls: {insecure_skip_verify: true}\n",
            &c);
    struct config_errors errs = {0};
    ck_assert(tls_check_config(&c, &errs));
    ck_assert_uint_eq(errs.count, 0);
    struct tls_client *t = tls_client_new(c.routes[0].mirrors[2].tls, c.routes[0].mirrors[2].host);
    ck_assert_ptr_null(tls_client_error(t, NULL));
    ck_assert(tls_client_insecure(t));
    tls_client_free(t);
    config_free(&c);
}
END_TEST

Suite *tls_check_suite(void);

Suite *tls_check_suite(void)
{
    Suite *s = suite_create("tls_check");
    TCase *tc = tcase_create("check");
    tcase_add_test(tc, bad_pem_reported_at_its_key);
    tcase_add_test(tc, defaults_and_plain_mirrors_pass);
    suite_add_tcase(s, tc);
    return s;
}
