/* Unit tests for `compare-report` (compare_report.h): a diff log of a few
 * records summarised as JSON (counts per result, the most frequent paths
 * and headers with an example, latency percentiles) and as text; a torn
 * file, a missing directory and a bad command line. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture_files.h"
#include "compare/compare_record.h"
#include "compare/compare_report.h"

static struct spop_bytes B(const char *s) {
    return (struct spop_bytes){(const uint8_t *)s, strlen(s)};
}

/* Writes <n> records into a new capture-named file of <dir>, cut by <cut> bytes. */
static void
write_log(const char *dir, unsigned seq, int n, size_t cut)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    for (int i = 0; i < n; i++) {
        char id[32], jpath[32];
        snprintf(id, sizeof(id), "id-%u-%d", seq, i);
        struct compare_record r = {.ts_ns = 1,
                                   .id = B(id),
                                   .route = B("r"),
                                   .mirror = B("http://m"),
                                   .method = B("GET"),
                                   .path = B("/x"),
                                   .result = B(i % 2 ? "status_differs" : "body_differs"),
                                   .latency_primary_us = 1000,
                                   .latency_shadow_us = 1000 + (uint64_t)i * 100};
        if (i % 2 == 0) {
            r.n_json = 1;
            snprintf(jpath, sizeof(jpath), "$.items[%d].id", i);
            r.json[0] =
                (struct compare_record_json){B("changed"), B(jpath), B("$.items[*].id"), B("1"), B("2")};
        } else {
            r.n_headers = 1;
            r.headers[0] = (struct compare_record_header){B("etag"), B("a"), B("b")};
        }
        ck_assert_int_eq(compare_record_encode(&r, &buf), 0);
    }
    char name[CAPTURE_NAME_CAP], path[512];
    capture_file_name(name, 1700000000000ull + seq, seq);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(buf.data, 1, buf.size - cut, f);
    fclose(f);
    msgpack_sbuffer_destroy(&buf);
}

static int run(const char *dir, bool json, char **out)
{
    size_t len;
    FILE *o = open_memstream(out, &len);
    FILE *e = fopen("/dev/null", "w");
    int rc = compare_report_run(dir, json, o, e);
    fclose(o);
    fclose(e);
    return rc;
}

START_TEST(report)
{
    char dir[] = "/tmp/spoa-check-report.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    write_log(dir, 1, 10, 0);
    write_log(dir, 2, 4, 0);
    char *out;
    ck_assert_int_eq(run(dir, true, &out), 0);
    json_error_t jerr;
    json_t *s = json_loads(out, 0, &jerr);
    ck_assert_msg(s != NULL, "%s", out);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "records")), 14);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "files")), 2);
    json_t *results = json_object_get(s, "results");
    ck_assert_uint_eq(json_array_size(results), 2);
    json_int_t body = 0, status = 0;
    size_t i;
    json_t *e;
    json_array_foreach(results, i, e)
    {
        const char *res = json_string_value(json_object_get(e, "result"));
        ck_assert_str_eq(json_string_value(json_object_get(e, "route")), "r");
        ck_assert_str_eq(json_string_value(json_object_get(e, "mirror")), "http://m");
        *(strcmp(res, "body_differs") == 0 ? &body : &status) =
            json_integer_value(json_object_get(e, "count"));
    }
    ck_assert_int_eq(body, 7);
    ck_assert_int_eq(status, 7);
    json_t *p0 = json_array_get(json_object_get(s, "paths"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(p0, "path")), "$.items[*].id");
    ck_assert_int_eq(json_integer_value(json_object_get(p0, "count")), 7);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p0, "example"), "primary")), "1");
    json_t *h0 = json_array_get(json_object_get(s, "headers"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(h0, "header")), "etag");
    json_t *lat = json_object_get(s, "latency_diff");
    ck_assert_int_eq(json_integer_value(json_object_get(lat, "count")), 14);
    ck_assert_int_eq(json_integer_value(json_object_get(lat, "min_us")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(lat, "max_us")), 900);
    ck_assert_int_eq(json_integer_value(json_object_get(lat, "p50_us")), 300);
    json_decref(s);
    free(out);

    ck_assert_int_eq(run(dir, false, &out), 0);
    ck_assert_msg(strstr(out, "diff log: 14 records in 2 files"), "%s", out);
    ck_assert_msg(strstr(out, "$.items[*].id"), "%s", out);
    ck_assert_msg(strstr(out, "p50 300 us"), "%s", out);
    free(out);

    /* A torn file: its whole records count, the status says so. */
    write_log(dir, 3, 2, 3);
    ck_assert_int_eq(run(dir, true, &out), 1);
    s = json_loads(out, 0, &jerr);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "records")), 15);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "damaged_files")), 1);
    json_decref(s);
    free(out);

    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(run("/nonexistent/spoa-report", false, &out), 2);
    free(out);
    char *argv_bad[] = {"compare-report", "--what", NULL};
    ck_assert_int_eq(compare_report_main(2, argv_bad), 2);
}
END_TEST

Suite *compare_report_suite(void);
Suite *compare_report_suite(void)
{
    Suite *s = suite_create("compare_report");
    TCase *tc = tcase_create("report");
    tcase_add_test(tc, report);
    suite_add_tcase(s, tc);
    return s;
}
