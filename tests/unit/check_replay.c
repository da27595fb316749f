/* Unit tests for `spoa-shadow replay`'s pure parts: rebuilding a captured
 * request (replay_request.h), the command line (replay_args.h) and the exact
 * latency percentiles (replay_stats.h). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "replay/replay_args.h"
#include "replay/replay_request.h"
#include "replay/replay_stats.h"

#define B(s) ((struct spop_bytes){(const uint8_t *)(s), sizeof(s) - 1})

static const struct capture_header hdrs[] = {
    {B("user-agent"), B("ua/1")},
    {B("Connection"), B("keep-alive, X-Secret-Hop")},
    {B("x-secret-hop"), B("must go")},
    {B("host"), B("recorded.example")},
    {B("content-length"), B("12345")},
    {B("transfer-encoding"), B("chunked")},
    {B("proxy-authorization"), B("Basic x")},
    {B("te"), B("trailers")}, /* kept, as by the mirror shaper (gRPC needs it) */
    {B("te"), B("gzip")},     /* dropped */
    {B("authorization"), B(CAPTURE_REDACTED)},
    {B("x-dup"), B("1")},
    {B("accept"), B("*/*")},
    {B("x-dup"), B("2")},
};

static const uint8_t body[] = {'a', 0, 'b', '\r', '\n', 0xff};

static struct capture_record rec(const char *method)
{
    struct capture_record r = {
        .version = 1,
        .ts_ns = 1,
        .route = B("api"),
        .mirror = B("file:///c"),
        .method = {(const uint8_t *)method, strlen(method)},
        .path = B("/p?q=1"),
        .authority = B("orig.example:8080"),
        .shadow_authority = B("orig.example-shadow:8080"),
        .http_version = B("1.1"),
        .headers = hdrs,
        .n_headers = sizeof(hdrs) / sizeof(hdrs[0]),
        .body = {body, sizeof(body)},
    };
    return r;
}

static void expect_request(const struct replay_shape *s, const struct capture_record *r, const char *head,
                           const uint8_t *tail, size_t tail_len)
{
    uint8_t *out = NULL;
    size_t len = 0;
    const char *why = NULL;
    ck_assert_int_eq(replay_build_request(s, r, &out, &len, &why), 0);
    size_t hl = strlen(head);
    ck_assert_uint_eq(len, hl + tail_len);
    ck_assert_msg(memcmp(out, head, hl) == 0, "got:\n%.*s\nwant:\n%s", (int)len, out, head);
    if (tail_len)
        ck_assert_mem_eq(out + hl, tail, tail_len);
    free(out);
}

START_TEST(test_build_shadow)
{
    struct replay_shape s = {.base_path = "", .authority = REPLAY_AUTH_SHADOW};
    struct capture_record r = rec("POST");
    expect_request(&s, &r,
                   "POST /p?q=1 HTTP/1.1\r\nHost: orig.example-shadow:8080\r\nuser-agent: ua/1\r\n"
                   "te: trailers\r\nx-dup: 1\r\naccept: */*\r\nx-dup: 2\r\nContent-Length: 6\r\n\r\n",
                   body, sizeof(body));
}
END_TEST

START_TEST(test_build_modes)
{
    struct capture_record r = rec("GET");
    r.body.len = 0;
    r.n_headers = 1;
    struct replay_shape keep = {.base_path = "/base", .authority = REPLAY_AUTH_KEEP};
    expect_request(&keep, &r,
                   "GET /base/p?q=1 HTTP/1.1\r\nHost: orig.example:8080\r\nuser-agent: ua/1\r\n\r\n", NULL,
                   0);
    struct replay_shape fixed = {
        .base_path = "", .authority = REPLAY_AUTH_FIXED, .fixed_authority = "[::1]:81"};
    expect_request(&fixed, &r, "GET /p?q=1 HTTP/1.1\r\nHost: [::1]:81\r\nuser-agent: ua/1\r\n\r\n", NULL, 0);
    /* PUT with an empty body still says how long it is */
    r = rec("PUT");
    r.body.len = 0;
    r.n_headers = 0;
    expect_request(&keep, &r,
                   "PUT /base/p?q=1 HTTP/1.1\r\nHost: orig.example:8080\r\nContent-Length: 0\r\n\r\n", NULL,
                   0);
    /* "*" only without a base path */
    r = rec("OPTIONS");
    r.path = B("*");
    r.body.len = 0;
    r.n_headers = 0;
    struct replay_shape plain = {.base_path = "", .authority = REPLAY_AUTH_KEEP};
    expect_request(&plain, &r, "OPTIONS * HTTP/1.1\r\nHost: orig.example:8080\r\n\r\n", NULL, 0);
    uint8_t *out = NULL;
    size_t len;
    const char *why = NULL;
    ck_assert_int_eq(replay_build_request(&keep, &r, &out, &len, &why), -1);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(why);
}
END_TEST

/* Records that cannot go on an HTTP/1.1 wire. */
static const struct {
    const char *method, *path, *hname, *hvalue, *authority;
} bad[] = {
    {"GE T", "/", "a", "b", "h"},        {"", "/", "a", "b", "h"},
    {"GET", "p", "a", "b", "h"},         {"GET", "/a b", "a", "b", "h"},
    {"GET", "/a\x01", "a", "b", "h"},    {"GET", "/", "a b", "b", "h"},
    {"GET", "/", "a", "b\r\nx: y", "h"}, {"GET", "/", "a", "b", "h\r\nx: y"},
    {"GET", "", "a", "b", "h"},          {"CONNECT", "/", "a", "b", "h"},
    {"connect", "/", "a", "b", "h"},
};

START_TEST(test_build_refused)
{
    struct capture_header h = {{(const uint8_t *)bad[_i].hname, strlen(bad[_i].hname)},
                               {(const uint8_t *)bad[_i].hvalue, strlen(bad[_i].hvalue)}};
    struct capture_record r = rec(bad[_i].method);
    r.path = (struct spop_bytes){(const uint8_t *)bad[_i].path, strlen(bad[_i].path)};
    r.authority = (struct spop_bytes){(const uint8_t *)bad[_i].authority, strlen(bad[_i].authority)};
    r.headers = &h;
    r.n_headers = 1;
    struct replay_shape s = {.base_path = "", .authority = REPLAY_AUTH_KEEP};
    uint8_t *out = NULL;
    size_t len = 0;
    const char *why = NULL;
    ck_assert_int_eq(replay_build_request(&s, &r, &out, &len, &why), -1);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(why);
}
END_TEST

/* ---- command line ---- */

static int parse(struct replay_opts *o, char *err, size_t n, const char *const *args)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)"replay";
    for (; args[argc - 1] && argc < 16; argc++)
        argv[argc] = (char *)args[argc - 1];
    return replay_args_parse(o, argc, argv, err, n);
}

START_TEST(test_args_ok)
{
    struct replay_opts o;
    char err[256];
    const char *a1[] = {"dir",
                        "--target",
                        "http://127.0.0.1:8080/base/",
                        "--rate",
                        "250.5",
                        "--concurrency",
                        "4",
                        "--authority",
                        "target",
                        "--filter-route",
                        "api",
                        "--timeout-ms=1500",
                        NULL};
    ck_assert_int_eq(parse(&o, err, sizeof(err), a1), 0);
    ck_assert_str_eq(o.input, "dir");
    ck_assert_str_eq(o.target.host, "127.0.0.1");
    ck_assert_uint_eq(o.target.port, 8080);
    ck_assert_str_eq(o.shape.base_path, "/base");
    ck_assert(o.rate == 250.5);
    ck_assert_uint_eq(o.concurrency, 4);
    ck_assert_uint_eq(o.timeout_ms, 1500);
    ck_assert_int_eq(o.shape.authority, REPLAY_AUTH_FIXED);
    ck_assert_str_eq(o.shape.fixed_authority, "127.0.0.1:8080");
    ck_assert_str_eq(o.filter_route, "api");
    replay_args_free(&o);

    const char *a2[] = {"f.msgpack", "--target", "http://[::1]", "--speed", "2", NULL};
    ck_assert_int_eq(parse(&o, err, sizeof(err), a2), 0);
    ck_assert(o.speed == 2.0 && o.rate == 0);
    ck_assert_int_eq(o.shape.authority, REPLAY_AUTH_SHADOW);
    ck_assert_uint_eq(o.concurrency, REPLAY_DEFAULT_CONCURRENCY);
    ck_assert_uint_eq(o.timeout_ms, REPLAY_DEFAULT_TIMEOUT_MS);
    replay_args_free(&o);

    const char *a3[] = {"f", "--target", "http://[::1]:90", "--authority", "target", NULL};
    ck_assert_int_eq(parse(&o, err, sizeof(err), a3), 0);
    ck_assert_str_eq(o.shape.fixed_authority, "[::1]:90");
    ck_assert(o.speed == 1.0);
    replay_args_free(&o);

    const char *a4[] = {"f", "--target", "http://h", "--authority", "api.internal:8443", NULL};
    ck_assert_int_eq(parse(&o, err, sizeof(err), a4), 0);
    ck_assert_str_eq(o.shape.fixed_authority, "api.internal:8443");
    replay_args_free(&o);

    const char *a6[] = {"f", "--target", "https://h", "--protocol", "h2", NULL};
    ck_assert_int_eq(parse(&o, err, sizeof(err), a6), 0);
    ck_assert_int_eq(o.protocol, CONFIG_PROTO_H2);
    replay_args_free(&o);
    const char *a7[] = {"f", "--target", "http://h", "--protocol=h2c", NULL};
    ck_assert_int_eq(parse(&o, err, sizeof(err), a7), 0);
    ck_assert_int_eq(o.protocol, CONFIG_PROTO_H2C);
    replay_args_free(&o);

    const char *a5[] = {"f", "--target", "http://h", "--authority", "keep", NULL};
    ck_assert_int_eq(parse(&o, err, sizeof(err), a5), 0);
    ck_assert_int_eq(o.shape.authority, REPLAY_AUTH_KEEP);
    replay_args_free(&o);
}
END_TEST

static const char *const bad_args[][8] = {
    {"f", NULL},
    {"--target", "http://h", NULL},
    {"f", "--target", "ftp://h", NULL},
    {"f", "--target", "http://h", "--speed", "0", NULL},
    {"f", "--target", "http://h", "--speed", "2", "--rate", "5", NULL},
    {"f", "--target", "http://h", "--rate", "-1", NULL},
    {"f", "--target", "http://h", "--concurrency", "0", NULL},
    {"f", "--target", "http://h", "--authority", "bad host", NULL},
    {"f", "g", "--target", "http://h", NULL},
    {"f", "--target", "http://h", "--bogus", "1", NULL},
    {"f", "--target", NULL},
    {"f", "--target", "http://h", "--rate", "nan", NULL},
    {"f", "--target", "http://h", "--protocol", "h2", NULL},
    {"f", "--target", "https://h", "--protocol", "h2c", NULL},
    {"f", "--target", "http://h", "--protocol", "http2", NULL},
};

START_TEST(test_args_refused)
{
    struct replay_opts o;
    char err[256] = "";
    ck_assert_int_eq(parse(&o, err, sizeof(err), bad_args[_i]), -1);
    ck_assert_uint_gt(strlen(err), 0);
}
END_TEST

/* ---- percentiles ---- */

START_TEST(test_percentiles)
{
    struct replay_stats s;
    memset(&s, 0, sizeof(s));
    ck_assert_uint_eq(replay_stats_percentile(&s, 0.5), 0);
    /* 1..1000 in a scrambled order: p50 = 500, p99 = 990, p100 = 1000 */
    for (uint64_t i = 0; i < 1000; i++)
        replay_stats_done(&s, 200, (i * 7919) % 1000 + 1, MIRROR_DROP_NONE);
    replay_stats_done(&s, 0, 0, MIRROR_DROP_TIMEOUT);
    replay_stats_done(&s, 0, 0, MIRROR_DROP_CONNECT_ERROR);
    replay_stats_done(&s, 503, 5, MIRROR_DROP_NONE);
    ck_assert_uint_eq(s.n_latency, 1001);
    ck_assert_uint_eq(s.responses[2], 1000);
    ck_assert_uint_eq(s.responses[5], 1);
    ck_assert_uint_eq(replay_stats_failed_total(&s), 2);
    ck_assert_uint_eq(s.failed[MIRROR_DROP_TIMEOUT], 1);
    /* with the extra 5: values 1..1000 plus 5, 1001 in all */
    ck_assert_uint_eq(replay_stats_percentile(&s, 0.5), 500);  /* rank 501 */
    ck_assert_uint_eq(replay_stats_percentile(&s, 0.99), 990); /* rank ceil(990.99) = 991 */
    ck_assert_uint_eq(replay_stats_percentile(&s, 1.0), 1000);
    replay_stats_free(&s);
    memset(&s, 0, sizeof(s));
    replay_stats_done(&s, 200, 42, MIRROR_DROP_NONE);
    ck_assert_uint_eq(replay_stats_percentile(&s, 0.5), 42);
    ck_assert_uint_eq(replay_stats_percentile(&s, 0.99), 42);
    replay_stats_free(&s);
}
END_TEST

Suite *replay_suite(void);

/* replay_suite: the Check suite for replay_request.h, replay_args.h and replay_stats.h. */
Suite *replay_suite(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("request");
    tcase_add_test(tc, test_build_shadow);
    tcase_add_test(tc, test_build_modes);
    tcase_add_loop_test(tc, test_build_refused, 0, (int)(sizeof(bad) / sizeof(bad[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("args");
    tcase_add_test(tc, test_args_ok);
    tcase_add_loop_test(tc, test_args_refused, 0, (int)(sizeof(bad_args) / sizeof(bad_args[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("stats");
    tcase_add_test(tc, test_percentiles);
    suite_add_tcase(s, tc);
    return s;
}
