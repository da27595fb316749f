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
#include "config/config_load.h"
#include "core/version.h"
#include "mirror/mirror_runtime.h"

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
    metrics_render(&out, &st, reg, &rt, NULL, &proc);
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

/* A runtime of <yaml> with counters from <reg> (resolves nothing). */
static struct mirror_runtime *runtime_of(const char *yaml, struct stats_registry *reg, uint64_t generation)
{
    struct config cfg;
    struct config_errors errs = {0};
    config_defaults(&cfg);
    ck_assert_msg(config_load_string(&cfg, yaml, strlen(yaml), "m.yaml", &errs), "%s",
                  errs.count ? errs.items[0] : "");
    config_errors_free(&errs);
    struct mirror_runtime *rt = mirror_runtime_new(&cfg, reg, NULL, generation);
    config_free(&cfg);
    return rt;
}

/* The exposition of <reg> and <rt>, NUL-terminated, on the heap. */
static char *render_with(struct stats_registry *reg, struct mirror_runtime *rt)
{
    struct agent_stats st;
    memset(&st, 0, sizeof(st));
    struct metrics_process proc = {.start_time = 1};
    struct buf out;
    buf_init(&out, 1u << 20);
    metrics_render(&out, &st, reg, rt, NULL, &proc);
    char *text = malloc(out.len + 1);
    ck_assert_ptr_nonnull(text);
    memcpy(text, buf_peek(&out), out.len);
    text[out.len] = '\0';
    buf_free(&out);
    return text;
}

#define RESOLVE_FAMILY "spoa_shadow_mirror_resolve_failures_total"

/* Resolve failures are counted per mirror (labels route and mirror, like
 * every mirror series), and a reload neither loses nor resets them. */
START_TEST(test_resolve_failures_by_mirror)
{
    static const char two_mirrors[] = "routes:\n"
                                      "  - name: r\n"
                                      "    mirrors:\n"
                                      "      - url: http://shadow-a:8000\n"
                                      "      - url: http://shadow-a:8000\n"
                                      "  - name: s\n"
                                      "    mirrors: [{url: \"http://10.0.0.1:81\"}]\n"
                                      "  - name: c\n"
                                      "    mirrors: [{url: \"file:///tmp/spoa-check-metrics/c\"}]\n";
    static const char one_mirror[] = "routes:\n"
                                     "  - name: s\n"
                                     "    mirrors: [{url: \"http://10.0.0.1:81\"}]\n";
    struct stats_registry *reg = stats_registry_new(1);
    struct mirror_runtime *rt = runtime_of(two_mirrors, reg, 1);
    /* What the resolver thread does on failures. */
    atomic_fetch_add(rt->routes[0][0].addr.failures, 3);
    atomic_fetch_add(rt->routes[0][1].addr.failures, 1);
    char *text = render_with(reg, rt);
    ck_assert_ptr_nonnull(strstr(text, "# TYPE " RESOLVE_FAMILY " counter\n"));
    ck_assert_ptr_nonnull(strstr(text, RESOLVE_FAMILY "{route=\"r\",mirror=\"http://shadow-a:8000\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(text, RESOLVE_FAMILY "{route=\"r\",mirror=\"http://shadow-a:8000#1\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, RESOLVE_FAMILY "{route=\"s\",mirror=\"http://10.0.0.1:81\"} 0\n"));
    ck_assert_ptr_null(strstr(text, "host=\""));
    ck_assert_ptr_null(strstr(text, RESOLVE_FAMILY "{route=\"c\"")); /* a capture mirror has no host */
    free(text);

    /* A reload drops route r: its series stays, with its value. */
    mirror_runtime_free(rt);
    rt = runtime_of(one_mirror, reg, 2);
    atomic_fetch_add(rt->routes[0][0].addr.failures, 2);
    text = render_with(reg, rt);
    ck_assert_ptr_nonnull(strstr(text, RESOLVE_FAMILY "{route=\"r\",mirror=\"http://shadow-a:8000\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(text, RESOLVE_FAMILY "{route=\"s\",mirror=\"http://10.0.0.1:81\"} 2\n"));
    free(text);

    /* Route r comes back: its counter goes on from where it was. */
    mirror_runtime_free(rt);
    rt = runtime_of(two_mirrors, reg, 3);
    atomic_fetch_add(rt->routes[0][0].addr.failures, 1);
    text = render_with(reg, rt);
    ck_assert_ptr_nonnull(strstr(text, RESOLVE_FAMILY "{route=\"r\",mirror=\"http://shadow-a:8000\"} 4\n"));
    free(text);
    mirror_runtime_free(rt);
    stats_registry_free(reg);
}
END_TEST

/* Whether the exposition of <reg> and <rt> holds <text>. */
static bool rendered(struct stats_registry *reg, struct mirror_runtime *rt, const char *text)
{
    char *all = render_with(reg, rt);
    bool found = strstr(all, text) != NULL;
    free(all);
    return found;
}

#define GONE_FAMILY "spoa_shadow_mirror_connections_address_gone_total"
#define GONE_SAMPLE GONE_FAMILY "{route=\"s\",mirror=\"http://10.0.0.1:81\"} "

/* Connections retired because their address left the mirror's set: one
 * sample per mirror, summed over the workers, kept across a reload. */
START_TEST(test_address_gone_by_mirror)
{
    static const char yaml[] = "routes:\n"
                               "  - name: s\n"
                               "    mirrors: [{url: \"http://10.0.0.1:81\"}]\n";
    struct stats_registry *reg = stats_registry_new(2);
    struct mirror_runtime *rt = runtime_of(yaml, reg, 1);
    counter_add(&rt->routes[0][0].ctr[0].address_gone, 2);
    counter_add(&rt->routes[0][0].ctr[1].address_gone, 3);
    ck_assert(rendered(reg, rt,
                       "# HELP " GONE_FAMILY " Kept-alive connections closed instead of being reused because "
                       "their address left the mirror's resolved addresses.\n"
                       "# TYPE " GONE_FAMILY " counter\n" GONE_SAMPLE "5\n"));
    mirror_runtime_free(rt);
    rt = runtime_of(yaml, reg, 2);
    counter_add(&rt->routes[0][0].ctr[1].address_gone, 1);
    ck_assert(rendered(reg, rt, GONE_SAMPLE "6\n"));
    mirror_runtime_free(rt);
    stats_registry_free(reg);
}
END_TEST

#define GRPC_FAMILY "spoa_shadow_mirror_grpc_status_total"
#define GRPC_LABELS "{route=\"s\",mirror=\"http://10.0.0.1:81\",code="

/* grpc-status codes by number, summed over the workers, the others as one;
 * only for mirrors that speak HTTP/2. */
START_TEST(test_grpc_status_by_code)
{
    static const char yaml[] = "routes:\n"
                               "  - name: s\n"
                               "    mirrors: [{url: \"http://10.0.0.1:81\", protocol: h2c},\n"
                               "              {url: \"http://10.0.0.2:82\"}]\n";
    struct stats_registry *reg = stats_registry_new(2);
    struct mirror_runtime *rt = runtime_of(yaml, reg, 1);
    /* An HTTP/1.1 mirror's answers carry no grpc-status: no series of its own. */
    ck_assert(!rendered(reg, rt, GRPC_FAMILY "{route=\"s\",mirror=\"http://10.0.0.2:82\""));
    ck_assert(
        rendered(reg, rt, "spoa_shadow_mirror_dropped_total{route=\"s\",mirror=\"http://10.0.0.2:82\""));
    counter_add(&rt->routes[0][0].ctr[0].grpc_status[0], 2);
    counter_add(&rt->routes[0][0].ctr[1].grpc_status[0], 3);
    counter_add(&rt->routes[0][0].ctr[1].grpc_status[14], 1);
    counter_add(&rt->routes[0][0].ctr[0].grpc_status[MIRROR_GRPC_OTHER], 4);
    ck_assert(rendered(reg, rt, "# TYPE " GRPC_FAMILY " counter\n" GRPC_FAMILY GRPC_LABELS "\"0\"} 5\n"));
    ck_assert(rendered(reg, rt, GRPC_FAMILY GRPC_LABELS "\"14\"} 1\n"));
    ck_assert(
        rendered(reg, rt, GRPC_FAMILY GRPC_LABELS "\"16\"} 0\n" GRPC_FAMILY GRPC_LABELS "\"other\"} 4\n"));
    ck_assert(rendered(reg, rt,
                       "spoa_shadow_mirror_dropped_total{route=\"s\",mirror=\"http://10.0.0.1:81\","
                       "reason=\"stream_reset\"} 0\n"));
    mirror_runtime_free(rt);
    stats_registry_free(reg);
}
END_TEST

/* compare_* series only for mirrors whose answers are compared, and for
 * them every family, summed over the workers. */
START_TEST(test_compare_series_only_when_compared)
{
    static const char yaml[] = "routes:\n"
                               "  - name: s\n"
                               "    mirrors:\n"
                               "      - {url: \"http://10.0.0.1:81\", compare: {body: bytes}}\n"
                               "      - {url: \"http://10.0.0.2:82\"}\n";
    struct stats_registry *reg = stats_registry_new(2);
    struct mirror_runtime *rt = runtime_of(yaml, reg, 1);
    counter_add(&rt->routes[0][0].ctr[0].compared[COMPARE_MATCH], 2);
    counter_add(&rt->routes[0][0].ctr[1].compared[COMPARE_MATCH], 3);
    const char *cmp = "{route=\"s\",mirror=\"http://10.0.0.1:81\"";
    const char *plain = "{route=\"s\",mirror=\"http://10.0.0.2:82\"";
    static const char *const families[] = {"spoa_shadow_compare_total",
                                           "spoa_shadow_compare_unmatched_total",
                                           "spoa_shadow_compare_diff_log_dropped_total",
                                           "spoa_shadow_compare_noise_total",
                                           "spoa_shadow_compare_diff_log_records_total",
                                           "spoa_shadow_compare_json_shape_hits_total",
                                           "spoa_shadow_compare_json_shape_misses_total",
                                           "spoa_shadow_compare_latency_diff_seconds_bucket"};
    char want[256];
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
        snprintf(want, sizeof(want), "%s%s", families[f], cmp);
        ck_assert_msg(rendered(reg, rt, want), "%s", want);
        snprintf(want, sizeof(want), "%s%s", families[f], plain);
        ck_assert_msg(!rendered(reg, rt, want), "%s", want);
    }
    ck_assert(rendered(reg, rt,
                       "spoa_shadow_compare_total{route=\"s\",mirror=\"http://10.0.0.1:81\","
                       "result=\"match\"} 5\n"));
    /* The uncompared mirror keeps its other series. */
    snprintf(want, sizeof(want), "spoa_shadow_mirror_sent_total%s", plain);
    ck_assert(rendered(reg, rt, want));
    mirror_runtime_free(rt);
    stats_registry_free(reg);
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
    tcase_add_test(tc, test_resolve_failures_by_mirror);
    tcase_add_test(tc, test_address_gone_by_mirror);
    tcase_add_test(tc, test_grpc_status_by_code);
    tcase_add_test(tc, test_compare_series_only_when_compared);
    suite_add_tcase(s, tc);
    return s;
}
