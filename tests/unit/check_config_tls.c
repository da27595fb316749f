/* Unit tests for the tls block of https mirrors (config_tls.h): defaults,
 * every key, and each error reported at its file, line and key. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_load.h"
#include "config/config_tls.h"

/* A temporary directory with two readable files, "a.pem" and "b.pem". */
struct tls_files {
    char dir[64];
    char a[96], b[96];
};

static void files_make(struct tls_files *f)
{
    snprintf(f->dir, sizeof(f->dir), "/tmp/check-tls-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    snprintf(f->a, sizeof(f->a), "%s/a.pem", f->dir);
    snprintf(f->b, sizeof(f->b), "%s/b.pem", f->dir);
    FILE *fa = fopen(f->a, "w"), *fb = fopen(f->b, "w");
    ck_assert(fa && fb);
    fputs("x\n", fa);
    fputs("x\n", fb);
    fclose(fa);
    fclose(fb);
}

static void files_remove(const struct tls_files *f)
{
    unlink(f->a);
    unlink(f->b);
    rmdir(f->dir);
}

/* Loads <yaml> ("t.yaml"); on failure, *errs holds the messages. */
static bool load(const char *yaml, struct config *c, struct config_errors *errs)
{
    config_defaults(c);
    memset(errs, 0, sizeof(*errs));
    return config_load_string(c, yaml, strlen(yaml), "t.yaml", errs);
}

static bool has_error(const struct config_errors *errs, const char *needle)
{
    for (size_t i = 0; i < errs->count; i++)
        if (strstr(errs->items[i], needle))
            return true;
    return false;
}

#define ROUTE "routes:\n  - name: a\n    mirrors:\n"

START_TEST(https_defaults)
{
    struct config c;
    struct config_errors errs;
    ck_assert(load(ROUTE "      - url: https://shadow.example\n      - url: http://m\n", &c, &errs));
    const struct config_mirror *m = &c.routes[0].mirrors[0];
    ck_assert_str_eq(m->scheme, "https");
    ck_assert_uint_eq(m->port, 443);
    ck_assert_ptr_nonnull(m->tls);
    ck_assert_ptr_null(m->tls->ca_file);
    ck_assert_ptr_null(m->tls->cert_file);
    ck_assert_ptr_null(m->tls->server_name);
    ck_assert_int_eq(m->tls->min_version, CONFIG_TLS_1_2);
    ck_assert(!m->tls->insecure_skip_verify);
    ck_assert_int_eq(m->tls->line, 4);
    ck_assert_ptr_null(c.routes[0].mirrors[1].tls);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

START_TEST(every_key)
{
    struct tls_files f;
    files_make(&f);
    char yaml[1024];
    snprintf(yaml, sizeof(yaml),
             ROUTE "      - url: https://10.0.0.1:8443/base\n"
                   "        tls:\n"
                   "          ca_file: %s\n"
                   "          cert_file: %s\n"
                   "          key_file: %s\n"
                   "          server_name: Shadow.Example\n"
                   "          min_version: \"1.3\"\n"
                   "          insecure_skip_verify: true\n",
             f.a, f.b, f.a);
    struct config c;
    struct config_errors errs;
    ck_assert_msg(load(yaml, &c, &errs), "%s", errs.count ? errs.items[0] : "");
    const struct config_tls *t = c.routes[0].mirrors[0].tls;
    ck_assert_uint_eq(c.routes[0].mirrors[0].port, 8443);
    ck_assert_str_eq(t->ca_file, f.a);
    ck_assert_str_eq(t->cert_file, f.b);
    ck_assert_str_eq(t->key_file, f.a);
    ck_assert_str_eq(t->server_name, "shadow.example");
    ck_assert_int_eq(t->min_version, CONFIG_TLS_1_3);
    ck_assert(t->insecure_skip_verify);
    ck_assert_int_eq(t->line, 6);
    config_free(&c);
    config_errors_free(&errs);
    files_remove(&f);
}
END_TEST

struct bad_case {
    const char *tls; /* the block's lines; %s is a readable file, %d the temporary directory */
    const char *want;
};

static const struct bad_case bad_cases[] = {
    {"          cert_file: %s\n", "t.yaml:6: routes[0].mirrors[0].tls.key_file: is required with cert_file"},
    {"          key_file: %s\n", "t.yaml:6: routes[0].mirrors[0].tls.cert_file: is required with key_file"},
    {"          ca_file: /nonexistent/ca.pem\n", "t.yaml:6: routes[0].mirrors[0].tls.ca_file: cannot read "
                                                 "/nonexistent/ca.pem: No such file or directory"},
    {"          ca_file: %d\n", "t.yaml:6: routes[0].mirrors[0].tls.ca_file: /tmp/check-tls-"},
    {"          min_version: \"1.1\"\n",
     "t.yaml:6: routes[0].mirrors[0].tls.min_version: must be 1.2 or 1.3, got \"1.1\""},
    {"          insecure_skip_verify: yes\n",
     "t.yaml:6: routes[0].mirrors[0].tls.insecure_skip_verify: must be true or false, got \"yes\""},
    {"          server_name: \"a b\"\n",
     "t.yaml:6: routes[0].mirrors[0].tls.server_name: must be a DNS name or an IP address, got \"a b\""},
    {"          sni: x\n", "t.yaml:6: routes[0].mirrors[0].tls.sni: unknown key"},
    {"          - x\n", "t.yaml:6: routes[0].mirrors[0].tls: must be a mapping"},
};
#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* Expands %s (a readable file) and %d (the directory) in <fmt>. */
static void expand(char *out, size_t cap, const char *fmt, const struct tls_files *f)
{
    size_t o = 0;
    for (const char *p = fmt; *p && o + 1 < cap; p++) {
        const char *sub = NULL;
        if (p[0] == '%' && p[1] == 's')
            sub = f->a;
        else if (p[0] == '%' && p[1] == 'd')
            sub = f->dir;
        if (sub) {
            o += (size_t)snprintf(out + o, cap - o, "%s", sub);
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o < cap ? o : cap - 1] = '\0';
}

START_TEST(bad_blocks)
{
    const struct bad_case *bc = &bad_cases[_i];
    struct tls_files f;
    files_make(&f);
    char block[512], yaml[1024];
    expand(block, sizeof(block), bc->tls, &f);
    snprintf(yaml, sizeof(yaml), ROUTE "      - url: https://m\n        tls:\n%s", block);
    struct config c;
    struct config_errors errs;
    ck_assert(!load(yaml, &c, &errs));
    ck_assert_msg(has_error(&errs, bc->want), "want \"%s\", got \"%s\"", bc->want,
                  errs.count ? errs.items[0] : "");
    config_free(&c);
    config_errors_free(&errs);
    files_remove(&f);
}
END_TEST

START_TEST(block_on_other_mirrors)
{
    struct config c;
    struct config_errors errs;
    ck_assert(!load(ROUTE "      - url: http://m\n        tls: {min_version: \"1.3\"}\n", &c, &errs));
    ck_assert(has_error(&errs, "t.yaml:5: routes[0].mirrors[0].tls: only https:// mirrors take a tls block"));
    config_free(&c);
    config_errors_free(&errs);
    ck_assert(!load(ROUTE "      - url: file:///tmp/check-tls-capture\n        tls: {}\n", &c, &errs));
    ck_assert(has_error(&errs, "t.yaml:5: routes[0].mirrors[0].tls: not used by capture (file://) mirrors"));
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

START_TEST(catch_all_https)
{
    struct config c;
    struct config_errors errs = {0};
    config_defaults(&c);
    ck_assert(config_add_catch_all(&c, "https://m:8443", NULL, &errs));
    const struct config_mirror *m = &c.routes[0].mirrors[0];
    ck_assert_str_eq(m->scheme, "https");
    ck_assert_ptr_nonnull(m->tls);
    ck_assert(!m->tls->insecure_skip_verify);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

START_TEST(ip_literals)
{
    ck_assert(config_is_ip_literal("127.0.0.1"));
    ck_assert(config_is_ip_literal("::1"));
    ck_assert(config_is_ip_literal("2001:db8::1"));
    ck_assert(!config_is_ip_literal("localhost"));
    ck_assert(!config_is_ip_literal("1.2.3"));
    ck_assert(!config_is_ip_literal("[::1]"));
}
END_TEST

Suite *config_tls_suite(void);

Suite *config_tls_suite(void)
{
    Suite *s = suite_create("config_tls");
    TCase *tc = tcase_create("tls");
    tcase_add_test(tc, https_defaults);
    tcase_add_test(tc, every_key);
    tcase_add_loop_test(tc, bad_blocks, 0, (int)N_BAD);
    tcase_add_test(tc, block_on_other_mirrors);
    tcase_add_test(tc, catch_all_https);
    tcase_add_test(tc, ip_literals);
    suite_add_tcase(s, tc);
    return s;
}
