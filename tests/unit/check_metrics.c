/* Unit tests for the metrics exposition (admin/metrics.h): the SPOP families
 * rendered from known counters must match, byte for byte,
 * tests/fixtures/metrics/spop_families.prom (written by the renderer before
 * its families became tables: every counter i of struct agent_stats holds
 * 100 + i), and the process families their fixed text. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/metrics.h"
#include "core/version.h"

#define SPOP_FIXTURE "tests/fixtures/metrics/spop_families.prom"

/* The whole exposition for SPOP counters 100 + i, no route and no mirror,
 * as a NUL-terminated heap string. */
static char *render(void)
{
    struct agent_stats st;
    memset(&st, 0, sizeof(st));
    for (size_t k = 0; k < sizeof(st) / sizeof(counter_t); k++)
        atomic_store(&((counter_t *)&st)[k], 100 + k);
    struct stats_registry *reg = stats_registry_new(2);
    struct mirror_runtime rt;
    memset(&rt, 0, sizeof(rt));
    struct metrics_process proc = {.reloads_ok = 3,
                                   .reloads_failed = 2,
                                   .last_reload_ok_time = 1700000001.25,
                                   .start_time = 1700000000.5};
    proc.ready = true;
    struct buf out;
    buf_init(&out, 1u << 20);
    metrics_render(&out, &st, reg, &rt, &proc);
    char *text = malloc(out.len + 1);
    ck_assert_ptr_nonnull(text);
    memcpy(text, buf_peek(&out), out.len);
    text[out.len] = '\0';
    buf_free(&out);
    stats_registry_free(reg);
    return text;
}

/* The text of <path>, NUL-terminated, on the heap. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

START_TEST(test_spop_families_unchanged)
{
    char *text = render();
    char *want = slurp(SPOP_FIXTURE);
    const char *from = strstr(text, "# HELP spoa_shadow_spop_connections ");
    const char *to = strstr(text, "# HELP spoa_shadow_requests_unrouted_total ");
    ck_assert_ptr_nonnull(from);
    ck_assert_ptr_nonnull(to);
    ck_assert_uint_eq((size_t)(to - from), strlen(want));
    ck_assert_mem_eq(from, want, strlen(want));
    free(want);
    free(text);
}
END_TEST

START_TEST(test_process_families)
{
    static const char want[] =
        "# HELP spoa_shadow_build_info Build information; the value is always 1.\n"
        "# TYPE spoa_shadow_build_info gauge\n"
        "spoa_shadow_build_info{version=\"" SPOA_SHADOW_VERSION "\"} 1\n"
        "# HELP spoa_shadow_start_time_seconds When the agent started, in Unix seconds.\n"
        "# TYPE spoa_shadow_start_time_seconds gauge\n"
        "spoa_shadow_start_time_seconds 1700000000.5\n"
        "# HELP spoa_shadow_ready 1 when the agent takes SPOP traffic, 0 while starting or draining.\n"
        "# TYPE spoa_shadow_ready gauge\n"
        "spoa_shadow_ready 1\n"
        "# HELP spoa_shadow_config_reloads_total Configuration reloads, by result.\n"
        "# TYPE spoa_shadow_config_reloads_total counter\n"
        "spoa_shadow_config_reloads_total{result=\"success\"} 3\n"
        "spoa_shadow_config_reloads_total{result=\"failure\"} 2\n"
        "# HELP spoa_shadow_config_last_reload_success_timestamp_seconds When the running configuration was "
        "loaded, in Unix seconds.\n"
        "# TYPE spoa_shadow_config_last_reload_success_timestamp_seconds gauge\n"
        "spoa_shadow_config_last_reload_success_timestamp_seconds 1700000001.25\n";
    char *text = render();
    ck_assert_mem_eq(text, want, sizeof(want) - 1);
    ck_assert(strncmp(text + sizeof(want) - 1, "# HELP spoa_shadow_spop_connections ", 36) == 0);
    free(text);
}
END_TEST

Suite *metrics_suite(void);

/* metrics_suite: the Check suite for admin/metrics.h. */
Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, test_spop_families_unchanged);
    tcase_add_test(tc, test_process_families);
    suite_add_tcase(s, tc);
    return s;
}
