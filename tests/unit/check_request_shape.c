/* Unit tests for the mirrored request's shape (request_shape.h): the shadow
 * authority, hop-by-hop filtering, headers.set/remove, Content-Length, exact
 * bytes of a GET and a POST, refusals (truncated body, smuggling attempts,
 * size limit), and the captured NOTIFY frames parsed back with http_parser. */
#include <check.h>
#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_syntax.h"
#include "mirror/mirror_args.h"
#include "mirror/request_shape.h"
#include "spop/spop_data.h"
#include "spop/spop_frame.h"
#include "spop/spop_proto.h"
#include "test_util.h"

#define HDRS_CAP 4096

/* A request built in a test: its arguments and the storage of its header
 * block. Header names and values are given with explicit lengths so that
 * NUL bytes can be tested. */
struct req {
    struct mirror_args a;
    uint8_t hdrs[HDRS_CAP];
};

struct hdr {
    const char *name, *value;
    size_t value_len; /* 0: strlen(value) */
};

static struct spop_bytes bytes_of(const char *s)
{
    return (struct spop_bytes){(const uint8_t *)s, strlen(s)};
}

static void req_build(struct req *r, const char *method, const char *path, const char *host,
                      const struct hdr *h, size_t n, const char *body)
{
    memset(r, 0, sizeof(*r));
    struct spop_writer w;
    spop_writer_init(&w, r->hdrs, sizeof(r->hdrs));
    for (size_t i = 0; i < n; i++) {
        spop_put_name(&w, h[i].name, strlen(h[i].name));
        spop_put_name(&w, h[i].value, h[i].value_len ? h[i].value_len : strlen(h[i].value));
    }
    spop_put_name(&w, "", 0);
    spop_put_name(&w, "", 0);
    ck_assert(!w.failed);
    r->a.method = bytes_of(method);
    r->a.path = bytes_of(path);
    r->a.host = bytes_of(host);
    r->a.ver = bytes_of("1.1");
    r->a.hdrs = (struct spop_bytes){r->hdrs, w.len};
    r->a.body = bytes_of(body);
    r->a.body_size = strlen(body);
    r->a.src.type = SPOP_DATA_T_NULL;
}

/* Shapes <r> for <m>; expects SHAPE_OK and the exact bytes <want>. */
static void expect_shape(const struct config_mirror *m, const struct req *r, const char *want)
{
    uint8_t *out = NULL;
    size_t len = 0;
    enum shape_status st = shape_request(m, &r->a, SIZE_MAX, &out, &len);
    ck_assert_msg(st == SHAPE_OK, "status %s", shape_status_str(st));
    ck_assert_msg(len == strlen(want) && memcmp(out, want, len) == 0, "got:\n%.*s\nwant:\n%s", (int)len,
                  (const char *)out, want);
    free(out);
}

/* Shapes <r> for <m>; expects status <want>, and nothing allocated or written. */
static void expect_refused(const struct config_mirror *m, const struct req *r, size_t max_len,
                           enum shape_status want, const char *what)
{
    uint8_t sentinel = 0;
    uint8_t *out = &sentinel;
    size_t len = 12345;
    enum shape_status st = shape_request(m, &r->a, max_len, &out, &len);
    ck_assert_msg(st == want, "%s: got %s, want %s", what, shape_status_str(st), shape_status_str(want));
    ck_assert_ptr_eq(out, &sentinel);
    ck_assert_uint_eq(len, 12345);
}

/* ---- authority ---- */

struct authority_case {
    enum authority_mode mode;
    const char *literal;
    const char *host;
    size_t cap;
    int want_len; /* -1: refused */
    const char *want;
};

static const struct authority_case authority_cases[] = {
    {AUTHORITY_SHADOW, NULL, "httpbin", 64, 14, "httpbin-shadow"},
    {AUTHORITY_SHADOW, NULL, "httpbin:8000", 64, 19, "httpbin-shadow:8000"},
    /* As Istio: after the whole host name, case kept. */
    {AUTHORITY_SHADOW, NULL, "HTTPBIN.default.svc:80", 64, 29, "HTTPBIN.default.svc-shadow:80"},
    {AUTHORITY_SHADOW, NULL, "httpbin.default.svc.cluster.local", 64, 40,
     "httpbin.default.svc.cluster.local-shadow"},
    {AUTHORITY_SHADOW, NULL, "svc.local.", 64, 17, "svc.local-shadow."},
    {AUTHORITY_SHADOW, NULL, "svc.local.:80", 64, 20, "svc.local-shadow.:80"},
    {AUTHORITY_SHADOW, NULL, "10.0.0.1.nip.io", 64, 22, "10.0.0.1.nip.io-shadow"},
    {AUTHORITY_SHADOW, NULL, "256.0.0.1", 64, 16, "256.0.0.1-shadow"}, /* not an address */
    {AUTHORITY_SHADOW, NULL, "1.2.3", 64, 12, "1.2.3-shadow"},
    /* Address literals name no service: unchanged. */
    {AUTHORITY_SHADOW, NULL, "10.0.0.1:8080", 64, 13, "10.0.0.1:8080"},
    {AUTHORITY_SHADOW, NULL, "10.0.0.1", 64, 8, "10.0.0.1"},
    {AUTHORITY_SHADOW, NULL, "[::1]:8080", 64, 10, "[::1]:8080"},
    {AUTHORITY_SHADOW, NULL, "[::1]", 64, 5, "[::1]"},
    {AUTHORITY_SHADOW, NULL, "::1", 64, 3, "::1"},
    /* No host: no authority. */
    {AUTHORITY_SHADOW, NULL, "", 64, 0, ""},
    {AUTHORITY_SHADOW, NULL, ":80", 64, 3, ":80"},
    /* Capacity: the value and its NUL. */
    {AUTHORITY_SHADOW, NULL, "httpbin", 15, 14, "httpbin-shadow"},
    {AUTHORITY_SHADOW, NULL, "httpbin", 14, -1, NULL},
    {AUTHORITY_SHADOW, NULL, "", 0, -1, NULL},
    {AUTHORITY_KEEP, NULL, "httpbin:8000", 64, 12, "httpbin:8000"},
    {AUTHORITY_KEEP, NULL, "HTTPBIN", 64, 7, "HTTPBIN"},
    {AUTHORITY_KEEP, NULL, "httpbin:8000", 12, -1, NULL},
    {AUTHORITY_LITERAL, "mirror.internal:9000", "httpbin", 64, 20, "mirror.internal:9000"},
    {AUTHORITY_LITERAL, "mirror.internal:9000", "", 64, 20, "mirror.internal:9000"},
    {AUTHORITY_LITERAL, "mirror.internal:9000", "httpbin", 20, -1, NULL},
};
#define N_AUTHORITY (sizeof(authority_cases) / sizeof(authority_cases[0]))

START_TEST(test_authority)
{
    const struct authority_case *t = &authority_cases[_i];
    struct config_mirror m = plain_mirror();
    m.authority = t->mode;
    m.authority_literal = (char *)t->literal;
    char dst[64];
    memset(dst, 'X', sizeof(dst));
    int n = shape_authority(&m, bytes_of(t->host), dst, t->cap);
    ck_assert_msg(n == t->want_len, "'%s' cap %zu: got %d, want %d", t->host, t->cap, n, t->want_len);
    if (n >= 0) {
        ck_assert_str_eq(dst, t->want);
    } else if (t->cap < sizeof(dst)) {
        for (size_t i = t->cap; i < sizeof(dst); i++)
            ck_assert_msg(dst[i] == 'X', "wrote past cap at %zu", i);
    }
}
END_TEST

struct hop_case {
    const char *name;
    bool want;
};

static const struct hop_case hop_cases[] = {
    {"connection", true},
    {"keep-alive", true},
    {"te", true},
    {"trailer", true},
    {"transfer-encoding", true},
    {"upgrade", true},
    {"proxy-connection", true},
    {"proxy-authorization", true},
    {"proxy-authenticate", true},
    {"expect", true},
    {"host", true},
    {"content-length", true},
    {"Connection", true},
    {"proxy", false},
    {"tea", false},
    {"x-te", false},
    {"trailers", false},
    {"accept", false},
    {"content-type", false},
    {"x-proxy-id", false},
};
#define N_HOP (sizeof(hop_cases) / sizeof(hop_cases[0]))

START_TEST(test_hop_by_hop)
{
    const struct hop_case *t = &hop_cases[_i];
    ck_assert_msg(http_is_hop_by_hop((const uint8_t *)t->name, strlen(t->name)) == t->want, "%s", t->name);
}
END_TEST

/* ---- exact bytes ---- */

START_TEST(test_get_exact)
{
    static const struct hdr h[] = {
        {"host", "httpbin:8000", 0},
        {"user-agent", "curl/8.5.0", 0},
        {"accept", "*/*", 0},
        {"x-b", "2", 0},
        {"accept", "text/html", 0},
        {"x-tab", "a\tb", 0},
        {"x-a", "obs \x80\xff text", 0},
    };
    struct req *r = malloc(sizeof(*r));
    req_build(r, "GET", "/headers?x=1&y=%20", "httpbin:8000", h, sizeof(h) / sizeof(h[0]), "");
    struct config_mirror m = plain_mirror();
    expect_shape(&m, r,
                 "GET /headers?x=1&y=%20 HTTP/1.1\r\n"
                 "Host: httpbin-shadow:8000\r\n"
                 "user-agent: curl/8.5.0\r\n"
                 "accept: */*\r\n"
                 "x-b: 2\r\n"
                 "accept: text/html\r\n"
                 "x-tab: a\tb\r\n"
                 "x-a: obs \x80\xff text\r\n"
                 "\r\n");
    m.base_path = "/prefix";
    expect_shape(&m, r,
                 "GET /prefix/headers?x=1&y=%20 HTTP/1.1\r\n"
                 "Host: httpbin-shadow:8000\r\n"
                 "user-agent: curl/8.5.0\r\n"
                 "accept: */*\r\n"
                 "x-b: 2\r\n"
                 "accept: text/html\r\n"
                 "x-tab: a\tb\r\n"
                 "x-a: obs \x80\xff text\r\n"
                 "\r\n");
    free(r);
}
END_TEST

START_TEST(test_post_exact)
{
    static const struct hdr h[] = {
        {"host", "api.local", 0},
        {"content-type", "application/json", 0},
        {"content-length", "999", 0}, /* rewritten from the body */
        {"transfer-encoding", "chunked", 0},
        {"expect", "100-continue", 0},
        {"x-request-id", "abc", 0},
    };
    struct req *r = malloc(sizeof(*r));
    req_build(r, "POST", "/anything", "api.local", h, sizeof(h) / sizeof(h[0]), "{\"hello\":\"world\"}");
    struct config_mirror m = plain_mirror();
    m.base_path = "/v2";
    expect_shape(&m, r,
                 "POST /v2/anything HTTP/1.1\r\n"
                 "Host: api.local-shadow\r\n"
                 "content-type: application/json\r\n"
                 "x-request-id: abc\r\n"
                 "Content-Length: 17\r\n"
                 "\r\n"
                 "{\"hello\":\"world\"}");
    m.authority = AUTHORITY_KEEP;
    expect_shape(&m, r,
                 "POST /v2/anything HTTP/1.1\r\n"
                 "Host: api.local\r\n"
                 "content-type: application/json\r\n"
                 "x-request-id: abc\r\n"
                 "Content-Length: 17\r\n"
                 "\r\n"
                 "{\"hello\":\"world\"}");
    free(r);
}
END_TEST

/* When Content-Length is written: a body, or a method that carries one. */
struct cl_case {
    const char *method, *body;
    const char *want; /* the Content-Length line, or NULL for none */
};

static const struct cl_case cl_cases[] = {
    {"GET", "", NULL},
    {"HEAD", "", NULL},
    {"DELETE", "", NULL},
    {"OPTIONS", "", NULL},
    {"POST", "", "Content-Length: 0\r\n"},
    {"PUT", "", "Content-Length: 0\r\n"},
    {"PATCH", "", "Content-Length: 0\r\n"},
    {"post", "", NULL}, /* methods are case-sensitive: not POST */
    {"GET", "x", "Content-Length: 1\r\n"},
    {"DELETE", "0123456789", "Content-Length: 10\r\n"},
    {"PUT", "abc", "Content-Length: 3\r\n"},
};
#define N_CL (sizeof(cl_cases) / sizeof(cl_cases[0]))

START_TEST(test_content_length)
{
    const struct cl_case *t = &cl_cases[_i];
    static const struct hdr h[] = {{"content-length", "5", 0}, {"x-a", "1", 0}};
    struct req *r = malloc(sizeof(*r));
    req_build(r, t->method, "/p", "h", h, 2, t->body);
    struct config_mirror m = plain_mirror();
    char want[256];
    snprintf(want, sizeof(want), "%s /p HTTP/1.1\r\nHost: h-shadow\r\nx-a: 1\r\n%s\r\n%s", t->method,
             t->want ? t->want : "", t->body);
    expect_shape(&m, r, want);
    free(r);
}
END_TEST

/* Hop-by-hop headers and the headers the Connection headers name (every
 * Connection header, tokens trimmed and case-insensitive) are dropped. */
START_TEST(test_hop_by_hop_removed)
{
    static const struct hdr h[] = {
        {"connection", "close, X-Secret ,\tx-other", 0},
        {"x-secret", "1", 0},
        {"x-keep", "3", 0},
        {"x-other", "2", 0},
        {"keep-alive", "timeout=5", 0},
        {"te", "trailers", 0},
        {"trailer", "x-sum", 0},
        {"upgrade", "h2c", 0},
        {"proxy-authorization", "Basic Zm9v", 0},
        {"proxy-connection", "keep-alive", 0},
        {"transfer-encoding", "chunked", 0},
        {"host", "a", 0},
        {"content-length", "0", 0},
        {"expect", "100-continue", 0},
        {"connection", "x-third", 0},
        {"x-third", "3", 0},
        {"x-secret-not", "kept", 0},
        {"close", "kept", 0}, /* named by the Connection header, so dropped as well */
    };
    struct req *r = malloc(sizeof(*r));
    req_build(r, "GET", "/", "a", h, sizeof(h) / sizeof(h[0]), "");
    struct config_mirror m = plain_mirror();
    expect_shape(&m, r,
                 "GET / HTTP/1.1\r\n"
                 "Host: a-shadow\r\n"
                 "x-keep: 3\r\n"
                 "te: trailers\r\n" /* the one TE a proxy forwards: check_grpc.c */
                 "x-secret-not: kept\r\n"
                 "\r\n");
    free(r);
}
END_TEST

START_TEST(test_headers_set_remove)
{
    static const struct hdr h[] = {
        {"user-agent", "curl", 0},
        {"cookie", "a=1", 0},
        {"x-a", "1", 0},
        {"User-Agent", "other", 0},
        {"authorization", "Bearer t", 0},
        {"cookie", "b=2", 0},
        {"x-shadow", "original", 0},
        {"x-z", "9", 0},
    };
    struct config_header_set set[] = {
        {"x-shadow", "1"},
        {"user-agent", "shadow-agent"},
        {"transfer-encoding", "chunked"}, /* hop-by-hop: ignored */
        {"host", "evil"},                 /* written by the shaper: ignored */
    };
    char *remove[] = {"cookie", "authorization", "x-not-there"};
    struct req *r = malloc(sizeof(*r));
    req_build(r, "GET", "/", "svc", h, sizeof(h) / sizeof(h[0]), "");
    struct config_mirror m = plain_mirror();
    m.headers_set = set;
    m.n_headers_set = 4;
    m.headers_remove = remove;
    m.n_headers_remove = 3;
    expect_shape(&m, r,
                 "GET / HTTP/1.1\r\n"
                 "Host: svc-shadow\r\n"
                 "x-a: 1\r\n"
                 "x-z: 9\r\n"
                 "x-shadow: 1\r\n"
                 "user-agent: shadow-agent\r\n"
                 "\r\n");
    free(r);
}
END_TEST

START_TEST(test_options_star)
{
    static const struct hdr h[] = {{"host", "svc", 0}};
    struct req *r = malloc(sizeof(*r));
    req_build(r, "OPTIONS", "*", "svc", h, 1, "");
    struct config_mirror m = plain_mirror();
    expect_shape(&m, r, "OPTIONS * HTTP/1.1\r\nHost: svc-shadow\r\n\r\n");
    m.base_path = "/prefix";
    expect_refused(&m, r, SIZE_MAX, SHAPE_BAD_REQUEST, "* with a base path");
    free(r);
}
END_TEST

/* No Host sent (HTTP/1.0): an empty Host, and no headers at all is fine. */
START_TEST(test_no_host_no_headers)
{
    struct req *r = malloc(sizeof(*r));
    req_build(r, "GET", "/", "", NULL, 0, "");
    struct config_mirror m = plain_mirror();
    expect_shape(&m, r, "GET / HTTP/1.1\r\nHost: \r\n\r\n");
    r->a.hdrs = (struct spop_bytes){NULL, 0};
    expect_shape(&m, r, "GET / HTTP/1.1\r\nHost: \r\n\r\n");
    free(r);
}
END_TEST

/* ---- refusals ---- */

START_TEST(test_truncated_body)
{
    static const struct hdr h[] = {{"content-length", "10", 0}};
    struct req *r = malloc(sizeof(*r));
    req_build(r, "POST", "/", "svc", h, 1, "01234");
    r->a.body_size = 10;
    struct config_mirror m = plain_mirror();
    expect_refused(&m, r, SIZE_MAX, SHAPE_BODY_TRUNCATED, "5 of 10 bytes");
    /* Checked first: before the method, the path or the size limit. */
    r->a.method = bytes_of("P T");
    expect_refused(&m, r, 0, SHAPE_BODY_TRUNCATED, "truncated and bad");
    /* No body at all while body_size says there is one (no http-buffer-request). */
    req_build(r, "POST", "/", "svc", h, 1, "");
    r->a.body_size = 1;
    expect_refused(&m, r, SIZE_MAX, SHAPE_BODY_TRUNCATED, "0 of 1 bytes");
    r->a.body_size = 0;
    expect_shape(&m, r, "POST / HTTP/1.1\r\nHost: svc-shadow\r\nContent-Length: 0\r\n\r\n");
    free(r);
}
END_TEST

/* Each smuggling attempt changes one field of a valid request. */
struct bad_case {
    const char *what;
    const char *method, *path, *host;
    const char *hname, *hvalue;
    size_t hvalue_len;
    const char *set_name, *set_value;
    const char *base_path;
};

static const struct bad_case bad_cases[] = {
    {"CRLF in method", "GET / HTTP/1.1\r\nX:", "/", "h", NULL, NULL, 0, NULL, NULL, NULL},
    {"space in method", "GE T", "/", "h", NULL, NULL, 0, NULL, NULL, NULL},
    {"empty method", "", "/", "h", NULL, NULL, 0, NULL, NULL, NULL},
    {"LF in method", "GET\n", "/", "h", NULL, NULL, 0, NULL, NULL, NULL},
    {"CRLF in path", "GET", "/a HTTP/1.1\r\nHost: x\r\n\r\nGET /b", "h", NULL, NULL, 0, NULL, NULL, NULL},
    {"space in path", "GET", "/a b", "h", NULL, NULL, 0, NULL, NULL, NULL},
    {"LF in path", "GET", "/a\n", "h", NULL, NULL, 0, NULL, NULL, NULL},
    {"tab in path", "GET", "/a\tb", "h", NULL, NULL, 0, NULL, NULL, NULL},
    {"DEL in path", "GET", "/a\x7f", "h", NULL, NULL, 0, NULL, NULL, NULL},
    {"empty path", "GET", "", "h", NULL, NULL, 0, NULL, NULL, NULL},
    {"absolute form", "GET", "http://evil/x", "h", NULL, NULL, 0, NULL, NULL, NULL},
    {"relative path", "GET", "x/y", "h", NULL, NULL, 0, NULL, NULL, NULL},
    {"CRLF in host", "GET", "/", "h\r\nTransfer-Encoding: chunked", NULL, NULL, 0, NULL, NULL, NULL},
    {"LF in host", "GET", "/", "h\n", NULL, NULL, 0, NULL, NULL, NULL},
    {"CRLF in value", "GET", "/", "h", "x-a", "1\r\nTransfer-Encoding: chunked", 0, NULL, NULL, NULL},
    {"LF in value", "GET", "/", "h", "x-a", "1\nb", 0, NULL, NULL, NULL},
    {"CR in value", "GET", "/", "h", "x-a", "1\rb", 0, NULL, NULL, NULL},
    {"NUL in value", "GET", "/", "h", "x-a", "1\0b", 3, NULL, NULL, NULL},
    {"space in name", "GET", "/", "h", "x a", "1", 0, NULL, NULL, NULL},
    {"colon in name", "GET", "/", "h", "x:a", "1", 0, NULL, NULL, NULL},
    {"CRLF in name", "GET", "/", "h", "x\r\ny", "1", 0, NULL, NULL, NULL},
    {"CRLF in headers.set", "GET", "/", "h", NULL, NULL, 0, "x-s", "1\r\nX: 2", NULL},
    {"bad headers.set name", "GET", "/", "h", NULL, NULL, 0, "x s", "1", NULL},
    {"space in base path", "GET", "/", "h", NULL, NULL, 0, NULL, NULL, "/a b"},
};
#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

START_TEST(test_bad_request)
{
    const struct bad_case *t = &bad_cases[_i];
    struct hdr h[2] = {{"accept", "*/*", 0}};
    size_t n = 1;
    if (t->hname != NULL)
        h[n++] = (struct hdr){t->hname, t->hvalue, t->hvalue_len};
    struct req *r = malloc(sizeof(*r));
    req_build(r, t->method, t->path, t->host, h, n, "");
    struct config_mirror m = plain_mirror();
    struct config_header_set set = {(char *)t->set_name, (char *)t->set_value};
    if (t->set_name != NULL) {
        m.headers_set = &set;
        m.n_headers_set = 1;
    }
    if (t->base_path != NULL)
        m.base_path = (char *)t->base_path;
    expect_refused(&m, r, SIZE_MAX, SHAPE_BAD_REQUEST, t->what);
    free(r);
}
END_TEST

/* CONNECT opens a tunnel: libhttp-parser, like many servers and proxies,
 * does not read a body after it, so a copy with Content-Length would let the
 * body reach the mirror (or a proxy in front of it) as a second request.
 * Found by fuzz_request_shape ("CONNECT * HTTP/1.1" was shaped). */
START_TEST(test_connect_refused)
{
    static const struct hdr h[] = {{"x-a", "1", 0}};
    static const char *const methods[] = {"CONNECT", "connect", "Connect"};
    static const char *const paths[] = {"*", "/", "/x"};
    struct req *r = malloc(sizeof(*r));
    struct config_mirror m = plain_mirror();
    for (size_t i = 0; i < 3; i++) {
        for (size_t k = 0; k < 3; k++) {
            req_build(r, methods[i], paths[k], "svc", h, 1, "GET /admin HTTP/1.1\r\nHost: primary\r\n\r\n");
            expect_refused(&m, r, SIZE_MAX, SHAPE_BAD_REQUEST, "CONNECT with a body");
            req_build(r, methods[i], paths[k], "svc", h, 1, "");
            expect_refused(&m, r, SIZE_MAX, SHAPE_BAD_REQUEST, "CONNECT without a body");
        }
    }
    /* A method that merely starts like it is an ordinary extension method. */
    req_build(r, "CONNECTX", "/", "svc", h, 1, "");
    expect_shape(&m, r, "CONNECTX / HTTP/1.1\r\nHost: svc-shadow\r\nx-a: 1\r\n\r\n");
    free(r);
}
END_TEST

/* A hdrs block that is cut short or has bytes after its end marker. */
START_TEST(test_bad_hdrs_block)
{
    static const struct hdr h[] = {{"x-a", "1", 0}};
    struct req *r = malloc(sizeof(*r));
    req_build(r, "GET", "/", "h", h, 1, "");
    struct config_mirror m = plain_mirror();
    struct spop_bytes whole = r->a.hdrs;
    for (size_t k = 1; k < whole.len; k++) {
        r->a.hdrs = (struct spop_bytes){whole.ptr, k};
        expect_refused(&m, r, SIZE_MAX, SHAPE_BAD_REQUEST, "cut hdrs");
    }
    r->hdrs[whole.len] = 0;
    r->a.hdrs = (struct spop_bytes){whole.ptr, whole.len + 1};
    expect_refused(&m, r, SIZE_MAX, SHAPE_BAD_REQUEST, "trailing byte");
    free(r);
}
END_TEST

START_TEST(test_too_large)
{
    static const struct hdr h[] = {{"x-a", "1", 0}};
    struct req *r = malloc(sizeof(*r));
    req_build(r, "POST", "/big", "h", h, 1, "0123456789");
    struct config_mirror m = plain_mirror();
    static const char want[] =
        "POST /big HTTP/1.1\r\nHost: h-shadow\r\nx-a: 1\r\nContent-Length: 10\r\n\r\n0123456789";
    size_t exact = sizeof(want) - 1;
    uint8_t *out = NULL;
    size_t len = 0;
    ck_assert_int_eq(shape_request(&m, &r->a, exact, &out, &len), SHAPE_OK);
    ck_assert_uint_eq(len, exact);
    ck_assert_mem_eq(out, want, exact);
    free(out);
    expect_refused(&m, r, exact - 1, SHAPE_TOO_LARGE, "one byte over");
    expect_refused(&m, r, 0, SHAPE_TOO_LARGE, "limit 0");
    free(r);
}
END_TEST

START_TEST(test_status_str)
{
    ck_assert_str_eq(shape_status_str(SHAPE_OK), "ok");
    ck_assert_str_eq(shape_status_str(SHAPE_BODY_TRUNCATED), "body_truncated");
    ck_assert_str_eq(shape_status_str(SHAPE_BAD_REQUEST), "bad_request");
    ck_assert_str_eq(shape_status_str(SHAPE_TOO_LARGE), "too_large");
}
END_TEST

/* ---- captured NOTIFY frames, parsed back as HTTP/1.1 ---- */

struct notify_case {
    const char *file;
    enum shape_status want;
    const char *method, *url, *host;
    const char *body;
};

static const struct notify_case notify_cases[] = {
    {"haproxy-2.6/003-notify.hex", SHAPE_OK, "GET", "/mirror/headers?x=1", "httpbin-shadow:8000", NULL},
    {"haproxy-2.6/005-notify.hex", SHAPE_OK, "POST", "/mirror/anything", "httpbin-shadow:8000",
     "{\"hello\":\"world\"}"},
    {"haproxy-2.6/006-notify.hex", SHAPE_BODY_TRUNCATED, NULL, NULL, NULL, NULL},
    {"haproxy-2.6/007-notify.hex", SHAPE_OK, "GET", "/mirror/h2/path?q=2", "127.0.0.1:18351", NULL},
    {"haproxy-2.6/008-notify.hex", SHAPE_OK, "POST", "/mirror/anything/chunked", "httpbin-shadow:8000",
     "chunked-body"},
    {"haproxy-3.4/003-notify.hex", SHAPE_OK, "GET", "/mirror/headers?x=1", "httpbin-shadow:8000", NULL},
    {"haproxy-3.4/004-notify.hex", SHAPE_OK, "POST", "/mirror/anything", "httpbin-shadow:8000",
     "{\"hello\":\"world\"}"},
    {"haproxy-3.4/005-notify.hex", SHAPE_BODY_TRUNCATED, NULL, NULL, NULL, NULL},
    {"haproxy-3.4/006-notify.hex", SHAPE_OK, "GET", "/mirror/h2/path?q=2", "127.0.0.1:18351", NULL},
    {"haproxy-3.4/007-notify.hex", SHAPE_OK, "POST", "/mirror/anything/chunked", "httpbin-shadow:8000",
     "chunked-body"},
};
#define N_NOTIFY (sizeof(notify_cases) / sizeof(notify_cases[0]))

#define PARSED_MAX 16

/* What http_parser saw in one request. */
struct parsed {
    char url[256];
    size_t url_len;
    char names[PARSED_MAX][64], values[PARSED_MAX][256];
    size_t n_headers;
    bool in_value;
    char body[256];
    size_t body_len;
    int headers_complete, messages_complete;
};

/* Appends <len> bytes at <at> to <dst> (capacity <cap>, NUL kept). */
static int append(char *dst, size_t cap, const char *at, size_t len)
{
    size_t cur = strlen(dst);
    ck_assert_uint_lt(cur + len, cap);
    memcpy(dst + cur, at, len);
    dst[cur + len] = '\0';
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct parsed *r = p->data;
    return append(r->url, sizeof(r->url), at, len);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct parsed *r = p->data;
    if (r->in_value || r->n_headers == 0) {
        ck_assert_uint_lt(r->n_headers, PARSED_MAX);
        r->n_headers++;
        r->in_value = false;
    }
    return append(r->names[r->n_headers - 1], sizeof(r->names[0]), at, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct parsed *r = p->data;
    r->in_value = true;
    return append(r->values[r->n_headers - 1], sizeof(r->values[0]), at, len);
}

static int on_headers_complete(http_parser *p)
{
    ((struct parsed *)p->data)->headers_complete++;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct parsed *r = p->data;
    ck_assert_uint_le(r->body_len + len, sizeof(r->body));
    memcpy(r->body + r->body_len, at, len);
    r->body_len += len;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    ((struct parsed *)p->data)->messages_complete++;
    return 0;
}

/* The value of header <name> (case-insensitive), or NULL; *count gets the
 * number of headers of that name. */
static const char *parsed_header(const struct parsed *r, const char *name, int *count)
{
    const char *found = NULL;
    *count = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->names[i], name) == 0) {
            if (found == NULL)
                found = r->values[i];
            (*count)++;
        }
    }
    return found;
}

/* Parses <len> bytes as exactly one HTTP/1.1 request into *r; *p keeps the method. */
static void parse_request(const uint8_t *buf, size_t len, http_parser *p, struct parsed *r)
{
    memset(r, 0, sizeof(*r));
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_url = on_url;
    s.on_header_field = on_header_field;
    s.on_header_value = on_header_value;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    http_parser_init(p, HTTP_REQUEST);
    p->data = r;
    size_t n = http_parser_execute(p, &s, (const char *)buf, len);
    ck_assert_msg(HTTP_PARSER_ERRNO(p) == HPE_OK, "http_parser: %s",
                  http_errno_description(HTTP_PARSER_ERRNO(p)));
    ck_assert_uint_eq(n, len);
    ck_assert_int_eq(r->headers_complete, 1);
    ck_assert_int_eq(r->messages_complete, 1);
    ck_assert_uint_eq(p->http_major, 1);
    ck_assert_uint_eq(p->http_minor, 1);
}

START_TEST(test_notify_fixture)
{
    const struct notify_case *t = &notify_cases[_i];
    size_t n;
    struct mirror_args a;
    uint8_t *frame = load_notify_args(FIXTURES_DIR, t->file, &n, &a);

    struct config_mirror m = plain_mirror();
    m.base_path = "/mirror";
    uint8_t *out = NULL;
    size_t len = 0;
    enum shape_status st = shape_request(&m, &a, 1u << 20, &out, &len);
    ck_assert_msg(st == t->want, "%s: got %s", t->file, shape_status_str(st));
    if (st == SHAPE_OK) {
        uint8_t *g = guarded_copy(out, len);
        free(out);
        http_parser p;
        struct parsed *r = malloc(sizeof(*r));
        parse_request(g, len, &p, r);
        ck_assert_str_eq(http_method_str((enum http_method)p.method), t->method);
        ck_assert_str_eq(r->url, t->url);
        int count;
        const char *host = parsed_header(r, "host", &count);
        ck_assert_int_eq(count, 1);
        ck_assert_str_eq(host, t->host);
        const char *cl = parsed_header(r, "content-length", &count);
        if (t->body != NULL) {
            ck_assert_int_eq(count, 1);
            char want_cl[24];
            snprintf(want_cl, sizeof(want_cl), "%zu", strlen(t->body));
            ck_assert_str_eq(cl, want_cl);
            ck_assert_uint_eq(p.content_length, 0); /* all of it consumed */
            ck_assert_uint_eq(r->body_len, strlen(t->body));
            ck_assert_mem_eq(r->body, t->body, r->body_len);
        } else {
            ck_assert_int_eq(count, 0);
            ck_assert_uint_eq(r->body_len, 0);
        }
        ck_assert_ptr_null(parsed_header(r, "transfer-encoding", &count));
        ck_assert_str_eq(parsed_header(r, "user-agent", &count), "curl/7.88.1");
        ck_assert_str_eq(parsed_header(r, "accept", &count), "*/*");
        free(r);
        guarded_free(g, len);
    } else {
        ck_assert_uint_eq(a.body_size, 20000);
        ck_assert_uint_lt(a.body.len, 20000);
    }
    guarded_free(frame, n);
}
END_TEST

Suite *request_shape_suite(void);
Suite *request_shape_suite(void)
{
    Suite *s = suite_create("request_shape");
    TCase *tc = tcase_create("authority");
    tcase_add_loop_test(tc, test_authority, 0, (int)N_AUTHORITY);
    tcase_add_loop_test(tc, test_hop_by_hop, 0, (int)N_HOP);
    suite_add_tcase(s, tc);

    tc = tcase_create("shape");
    tcase_add_test(tc, test_get_exact);
    tcase_add_test(tc, test_post_exact);
    tcase_add_loop_test(tc, test_content_length, 0, (int)N_CL);
    tcase_add_test(tc, test_hop_by_hop_removed);
    tcase_add_test(tc, test_headers_set_remove);
    tcase_add_test(tc, test_options_star);
    tcase_add_test(tc, test_no_host_no_headers);
    tcase_add_test(tc, test_status_str);
    suite_add_tcase(s, tc);

    tc = tcase_create("refusals");
    tcase_add_test(tc, test_truncated_body);
    tcase_add_loop_test(tc, test_bad_request, 0, (int)N_BAD);
    tcase_add_test(tc, test_connect_refused);
    tcase_add_test(tc, test_bad_hdrs_block);
    tcase_add_test(tc, test_too_large);
    suite_add_tcase(s, tc);

    tc = tcase_create("fixtures");
    tcase_add_loop_test(tc, test_notify_fixture, 0, (int)N_NOTIFY);
    suite_add_tcase(s, tc);
    return s;
}
