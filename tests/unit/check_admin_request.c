/* Unit tests for the admin endpoint's request parsing (admin_request.h): the
 * route each request gets, the same result whether the bytes come at once or
 * one by one, malformed and oversized requests, the 414 boundary, and that a
 * status other than INCOMPLETE is final. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_request.h"

#define LIMIT 7168 /* what admin.c uses: ADMIN_MAX_REQUEST - its read room */

/* Feeds <s> (<n> bytes) in pieces of <step> bytes (0: at once) and returns the
 * final status; stops feeding once the status is final. */
static enum admin_request_status feed(struct admin_request *r, const char *s, size_t n, size_t step)
{
    enum admin_request_status st = ADMIN_REQUEST_INCOMPLETE;
    size_t off = 0;
    while (off < n && st == ADMIN_REQUEST_INCOMPLETE) {
        size_t k = step == 0 || n - off < step ? n - off : step;
        st = admin_request_feed(r, (const uint8_t *)s + off, k);
        off += k;
    }
    return st;
}

struct route_case {
    const char *req;
    enum admin_route want;
    const char *path;
    bool head;
};

static const struct route_case route_cases[] = {
    {"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", ADMIN_ROUTE_METRICS, "/metrics", false},
    {"HEAD /metrics HTTP/1.1\r\n\r\n", ADMIN_ROUTE_METRICS, "/metrics", true},
    {"GET /healthz HTTP/1.0\r\n\r\n", ADMIN_ROUTE_HEALTHZ, "/healthz", false},
    {"HEAD /healthz HTTP/1.1\r\n\r\n", ADMIN_ROUTE_HEALTHZ, "/healthz", true},
    {"GET /readyz?verbose=1 HTTP/1.1\r\n\r\n", ADMIN_ROUTE_READYZ, "/readyz", false},
    {"POST /-/reload HTTP/1.1\r\nContent-Length: 0\r\n\r\n", ADMIN_ROUTE_RELOAD, "/-/reload", false},
    {"POST /-/reload HTTP/1.1\r\n\r\n", ADMIN_ROUTE_RELOAD, "/-/reload", false},
    {"POST /-/reload?x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", ADMIN_ROUTE_RELOAD, "/-/reload", false},
    {"POST /-/reload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", ADMIN_ROUTE_RELOAD,
     "/-/reload", false},
    {"POST /metrics HTTP/1.1\r\n\r\n", ADMIN_ROUTE_NOT_ALLOWED, "/metrics", false},
    {"DELETE /healthz HTTP/1.1\r\n\r\n", ADMIN_ROUTE_NOT_ALLOWED, "/healthz", false},
    {"PUT /readyz HTTP/1.1\r\n\r\n", ADMIN_ROUTE_NOT_ALLOWED, "/readyz", false},
    {"GET /-/reload HTTP/1.1\r\n\r\n", ADMIN_ROUTE_NOT_ALLOWED, "/-/reload", false},
    {"HEAD /-/reload HTTP/1.1\r\n\r\n", ADMIN_ROUTE_NOT_ALLOWED, "/-/reload", true},
    {"GET / HTTP/1.1\r\n\r\n", ADMIN_ROUTE_NOT_FOUND, "/", false},
    {"GET /metrics/ HTTP/1.1\r\n\r\n", ADMIN_ROUTE_NOT_FOUND, "/metrics/", false},
    {"GET /METRICS HTTP/1.1\r\n\r\n", ADMIN_ROUTE_NOT_FOUND, "/METRICS", false},
    {"GET /metricsx HTTP/1.1\r\n\r\n", ADMIN_ROUTE_NOT_FOUND, "/metricsx", false},
    {"GET *?x HTTP/1.1\r\n\r\n", ADMIN_ROUTE_NOT_FOUND, "*", false},
    {"OPTIONS * HTTP/1.1\r\n\r\n", ADMIN_ROUTE_NOT_FOUND, "*", false},
    {"GET http://h/metrics HTTP/1.1\r\n\r\n", ADMIN_ROUTE_NOT_FOUND, "http://h/metrics", false},
    /* One request per connection: what follows the first is not read. */
    {"GET /healthz HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n", ADMIN_ROUTE_HEALTHZ, "/healthz", false},
    {"GET /healthz HTTP/1.1\r\n\r\n\x01garbage", ADMIN_ROUTE_HEALTHZ, "/healthz", false},
};
#define N_ROUTE (sizeof(route_cases) / sizeof(route_cases[0]))

START_TEST(test_route)
{
    const struct route_case *t = &route_cases[_i];
    static const size_t steps[] = {0, 1, 2, 7};
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        struct admin_request r;
        admin_request_init(&r, LIMIT);
        enum admin_request_status st = feed(&r, t->req, strlen(t->req), steps[k]);
        ck_assert_msg(st == ADMIN_REQUEST_COMPLETE, "case %d step %zu: status %d", _i, steps[k], st);
        ck_assert_int_eq(admin_request_route(&r), t->want);
        ck_assert_str_eq(r.path, t->path);
        ck_assert(admin_request_head_only(&r) == t->head);
    }
}
END_TEST

START_TEST(test_method)
{
    struct admin_request r;
    admin_request_init(&r, LIMIT);
    const char *req = "PATCH /x HTTP/1.1\r\n\r\n";
    ck_assert_int_eq(feed(&r, req, strlen(req), 0), ADMIN_REQUEST_COMPLETE);
    ck_assert_int_eq(admin_request_method(&r), HTTP_PATCH);
    ck_assert_str_eq(r.url, "/x");
}
END_TEST

/* Incomplete until the last byte of the head (or of the body). */
START_TEST(test_incomplete)
{
    static const char *const reqs[] = {
        "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /-/reload HTTP/1.1\r\nContent-Length: 5\r\n\r\n12345",
    };
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(reqs[i]);
        for (size_t cut = 0; cut < n; cut++) {
            struct admin_request r;
            admin_request_init(&r, LIMIT);
            ck_assert_int_eq(feed(&r, reqs[i], cut, 1), ADMIN_REQUEST_INCOMPLETE);
            ck_assert_int_eq(admin_request_feed(&r, (const uint8_t *)reqs[i] + cut, n - cut),
                             ADMIN_REQUEST_COMPLETE);
        }
    }
}
END_TEST

static const char *const bad_cases[] = {
    "GARBAGE\r\n\r\n",
    "GET\r\n\r\n",
    "GET / HTTP/1.1\r\nbad header\r\n\r\n",
    "GET / XTTP/1.1\r\n\r\n",
    "GET /a b HTTP/1.1\r\n\r\n",
    "GET /\x01 HTTP/1.1\r\n\r\n",
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* a TLS ClientHello */
    "POST /-/reload HTTP/1.1\r\nContent-Length: x\r\n\r\n",
    "POST /-/reload HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    "POST /-/reload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
};
#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

START_TEST(test_bad)
{
    for (size_t step = 0; step <= 1; step++) {
        struct admin_request r;
        admin_request_init(&r, LIMIT);
        const char *s = bad_cases[_i];
        ck_assert_msg(feed(&r, s, strlen(s), step) == ADMIN_REQUEST_BAD, "case %d step %zu", _i, step);
        /* Final: more bytes, even a whole valid request, change nothing. */
        const char *ok = "GET /healthz HTTP/1.1\r\n\r\n";
        ck_assert_int_eq(admin_request_feed(&r, (const uint8_t *)ok, strlen(ok)), ADMIN_REQUEST_BAD);
    }
}
END_TEST

/* A request target of ADMIN_URL_CAP - 1 bytes is kept; one more is 414. */
START_TEST(test_url_cap)
{
    char req[ADMIN_URL_CAP + 64];
    for (size_t len = ADMIN_URL_CAP - 2; len <= ADMIN_URL_CAP + 1; len++) {
        char url[ADMIN_URL_CAP + 2];
        url[0] = '/';
        memset(url + 1, 'a', len - 1);
        url[len] = '\0';
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", url);
        for (size_t step = 0; step <= 1; step++) {
            struct admin_request r;
            admin_request_init(&r, LIMIT);
            ck_assert_int_eq(feed(&r, req, strlen(req), step), ADMIN_REQUEST_COMPLETE);
            bool too_long = len >= ADMIN_URL_CAP;
            ck_assert_int_eq(admin_request_route(&r),
                             too_long ? ADMIN_ROUTE_URI_TOO_LONG : ADMIN_ROUTE_NOT_FOUND);
            ck_assert(r.url_too_long == too_long);
            if (!too_long)
                ck_assert_str_eq(r.url, url);
        }
    }
}
END_TEST

/* Still incomplete past the limit: TOO_LARGE; a request completed by the
 * bytes that cross the limit is still answered. */
START_TEST(test_too_large)
{
    size_t n = LIMIT + 100;
    char *big = malloc(n + 1);
    ck_assert_ptr_nonnull(big);
    memcpy(big, "GET /metrics HTTP/1.1\r\nX-Pad: ", 30);
    memset(big + 30, 'p', n - 30);
    big[n] = '\0';

    struct admin_request r;
    admin_request_init(&r, LIMIT);
    ck_assert_int_eq(admin_request_feed(&r, (const uint8_t *)big, LIMIT), ADMIN_REQUEST_INCOMPLETE);
    ck_assert_int_eq(admin_request_feed(&r, (const uint8_t *)big + LIMIT, 1), ADMIN_REQUEST_TOO_LARGE);
    ck_assert_int_eq(admin_request_feed(&r, (const uint8_t *)"\r\n\r\n", 4), ADMIN_REQUEST_TOO_LARGE);

    admin_request_init(&r, LIMIT);
    ck_assert_int_eq(admin_request_feed(&r, (const uint8_t *)big, n), ADMIN_REQUEST_TOO_LARGE);

    /* The same head, ended within the bytes that cross the limit. */
    memcpy(big + n - 4, "\r\n\r\n", 4);
    admin_request_init(&r, LIMIT);
    ck_assert_int_eq(admin_request_feed(&r, (const uint8_t *)big, n), ADMIN_REQUEST_COMPLETE);
    ck_assert_int_eq(admin_request_route(&r), ADMIN_ROUTE_METRICS);
    free(big);
}
END_TEST

/* Feeding 0 bytes is not the end of the stream; final statuses stay. */
START_TEST(test_final_and_empty)
{
    struct admin_request r;
    admin_request_init(&r, LIMIT);
    ck_assert_int_eq(admin_request_feed(&r, NULL, 0), ADMIN_REQUEST_INCOMPLETE);
    ck_assert_int_eq(admin_request_feed(&r, (const uint8_t *)"GET /he", 7), ADMIN_REQUEST_INCOMPLETE);
    ck_assert_int_eq(admin_request_feed(&r, NULL, 0), ADMIN_REQUEST_INCOMPLETE);
    const char *rest = "althz HTTP/1.1\r\n\r\n";
    ck_assert_int_eq(admin_request_feed(&r, (const uint8_t *)rest, strlen(rest)), ADMIN_REQUEST_COMPLETE);
    ck_assert_int_eq(admin_request_feed(&r, (const uint8_t *)"x", 1), ADMIN_REQUEST_COMPLETE);
    ck_assert_int_eq(admin_request_feed(&r, NULL, 0), ADMIN_REQUEST_COMPLETE);
    ck_assert_int_eq(admin_request_route(&r), ADMIN_ROUTE_HEALTHZ);
    ck_assert_uint_eq(r.fed, 7 + strlen(rest));
}
END_TEST

Suite *admin_request_suite(void);

/* admin_request_suite: the Check suite for admin_request.h. */
Suite *admin_request_suite(void)
{
    Suite *s = suite_create("admin_request");
    TCase *tc = tcase_create("route");
    tcase_add_loop_test(tc, test_route, 0, (int)N_ROUTE);
    tcase_add_test(tc, test_method);
    tcase_add_test(tc, test_url_cap);
    suite_add_tcase(s, tc);

    tc = tcase_create("status");
    tcase_add_test(tc, test_incomplete);
    tcase_add_loop_test(tc, test_bad, 0, (int)N_BAD);
    tcase_add_test(tc, test_too_large);
    tcase_add_test(tc, test_final_and_empty);
    suite_add_tcase(s, tc);
    return s;
}
