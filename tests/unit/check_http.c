/* Unit tests for the HTTP/1.1 syntax checks (http/http_syntax.h) and the
 * request writer (http/http_emit.h): tokens, field values, request targets,
 * Connection token lists, hop-by-hop names, exact bytes written and the
 * Content-Length rule. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_emit.h"
#include "http/http_syntax.h"

/* One check of a predicate over a byte range: <fn> applied to the bytes of
 * <in> (a literal, so embedded NULs count) must give <want>. */
struct syntax_case {
    bool (*fn)(const uint8_t *p, size_t n);
    const char *in;
    size_t len;
    bool want;
};

#define C(fn, s, want)                                                                                       \
    {                                                                                                        \
        fn, s, sizeof(s) - 1, want                                                                           \
    }

static const struct syntax_case syntax_cases[] = {
    C(http_is_token, "GET", true),
    C(http_is_token, "x-a.b~c!#$%&'*+^_`|", true),
    C(http_is_token, "", false),
    C(http_is_token, "a b", false),
    C(http_is_token, "a:b", false),
    C(http_is_token, "a\0b", false),
    C(http_is_token, "a\"b", false),
    C(http_is_token, "caf\xc3\xa9", false),
    C(http_is_field_value, "", true),
    C(http_is_field_value, "a \t\"b\" \x7f \xff", true),
    C(http_is_field_value, "a\rb", false),
    C(http_is_field_value, "a\nb", false),
    C(http_is_field_value, "a\0b", false),
    C(http_is_field_value, "x\r\nGET / HTTP/1.1", false),
    C(http_is_target, "", true),
    C(http_is_target, "/a?b=%20&c#d\x80", true),
    C(http_is_target, "/a b", false),
    C(http_is_target, "/a\tb", false),
    C(http_is_target, "/a\x7f", false),
    C(http_is_target, "/a\0", false),
    C(http_is_hop_by_hop, "connection", true),
    C(http_is_hop_by_hop, "Keep-Alive", true),
    C(http_is_hop_by_hop, "TE", true),
    C(http_is_hop_by_hop, "trailer", true),
    C(http_is_hop_by_hop, "transfer-encoding", true),
    C(http_is_hop_by_hop, "upgrade", true),
    C(http_is_hop_by_hop, "expect", true),
    C(http_is_hop_by_hop, "HOST", true),
    C(http_is_hop_by_hop, "content-length", true),
    C(http_is_hop_by_hop, "proxy-x", true),
    C(http_is_hop_by_hop, "Proxy-Authorization", true),
    C(http_is_hop_by_hop, "proxy", false),
    C(http_is_hop_by_hop, "tea", false),
    C(http_is_hop_by_hop, "x-te", false),
    C(http_is_hop_by_hop, "trailers", false),
    C(http_is_hop_by_hop, "x-proxy-id", false),
    C(http_is_hop_by_hop, "te\0", false),
    C(http_is_hop_by_hop, "", false),
    C(http_method_has_body, "POST", true),
    C(http_method_has_body, "PUT", true),
    C(http_method_has_body, "PATCH", true),
    C(http_method_has_body, "post", false),
    C(http_method_has_body, "GET", false),
    C(http_method_has_body, "POSTX", false),
    C(http_method_has_body, "", false),
    C(http_method_is_connect, "CONNECT", true),
    C(http_method_is_connect, "connect", true),
    C(http_method_is_connect, "CONNECTX", false),
    C(http_method_is_connect, "CONNEC", false),
    C(http_method_is_connect, "", false),
};

START_TEST(test_syntax)
{
    const struct syntax_case *t = &syntax_cases[_i];
    ck_assert_msg(t->fn((const uint8_t *)t->in, t->len) == t->want, "case %d (\"%s\")", _i, t->in);
}
END_TEST

/* http_check_target() on <in>, with or without a base path. */
struct target_case {
    const char *in;
    bool base_empty;
    enum http_target_status want;
};

static const struct target_case target_cases[] = {
    {"/", true, HTTP_TARGET_OK},
    {"/x?y", false, HTTP_TARGET_OK},
    {"*", true, HTTP_TARGET_OK},
    {"*", false, HTTP_TARGET_NOT_ORIGIN},
    {"**", true, HTTP_TARGET_NOT_ORIGIN},
    {"", true, HTTP_TARGET_NOT_ORIGIN},
    {"http://h/", true, HTTP_TARGET_NOT_ORIGIN},
    {"h:80", true, HTTP_TARGET_NOT_ORIGIN},
    {" /", true, HTTP_TARGET_NOT_ORIGIN}, /* the form is checked first */
    {"/ HTTP/1.1\r\n", true, HTTP_TARGET_BAD_CHAR},
};

START_TEST(test_target)
{
    const struct target_case *t = &target_cases[_i];
    ck_assert_int_eq(http_check_target((const uint8_t *)t->in, strlen(t->in), t->base_empty), t->want);
}
END_TEST

START_TEST(test_tchar)
{
    for (int c = 0; c < 256; c++) {
        bool want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
        ck_assert_msg(http_is_tchar((uint8_t)c) == want, "0x%02x", c);
    }
}
END_TEST

START_TEST(test_token_list)
{
    static const char list[] = " keep-alive ,\tX-Hop\t,, close";
    const uint8_t *l = (const uint8_t *)list;
    size_t n = sizeof(list) - 1;
    ck_assert(http_token_list_has(l, n, (const uint8_t *)"x-hop", 5));
    ck_assert(http_token_list_has(l, n, (const uint8_t *)"KEEP-ALIVE", 10));
    ck_assert(http_token_list_has(l, n, (const uint8_t *)"close", 5));
    ck_assert(!http_token_list_has(l, n, (const uint8_t *)"x-ho", 4));
    ck_assert(!http_token_list_has(l, n, (const uint8_t *)"", 0));
    ck_assert(!http_token_list_has(l, 0, (const uint8_t *)"close", 5));
    ck_assert(!http_token_list_has((const uint8_t *)"x-hop-2", 7, (const uint8_t *)"x-hop", 5));
    ck_assert(http_ieq((const uint8_t *)"Connection", 10, "connection"));
    ck_assert(!http_ieq((const uint8_t *)"Connectio", 9, "connection"));
}
END_TEST

/* A request for http_emit_alloc() and the exact bytes it must give. */
struct emit_case {
    const char *method, *base, *path;
    const char *body;
    size_t body_len;
    const char *want;
};

static void emit_case(struct http_out *o, const void *ctx)
{
    const struct emit_case *c = ctx;
    const uint8_t *m = (const uint8_t *)c->method;
    http_emit_request_line(o, m, strlen(c->method), c->base, (const uint8_t *)c->path, strlen(c->path));
    http_emit_header_start(o, "Host", 4);
    http_put(o, "h", 1);
    http_put(o, NULL, 0);
    http_put_str(o, "-shadow:80");
    http_emit_crlf(o);
    http_emit_header(o, "x-a", 3, "1, 2", 4);
    http_emit_body(o, m, strlen(c->method), (const uint8_t *)c->body, c->body_len);
}

#define HEAD " HTTP/1.1\r\nHost: h-shadow:80\r\nx-a: 1, 2\r\n"

static const struct emit_case emit_cases[] = {
    {"GET", NULL, "/a?b", NULL, 0, "GET /a?b" HEAD "\r\n"},
    /* a POST always has a Content-Length, "0" when empty */
    {"POST", "/base", "/p", NULL, 0, "POST /base/p" HEAD "Content-Length: 0\r\n\r\n"},
    {"PATCH", "", "/p", "x", 1, "PATCH /p" HEAD "Content-Length: 1\r\n\r\nx"},
    /* any method with a body gets its exact length; the body goes as it is */
    {"DELETE", "", "/d", "a\r\n\xffz1234567", 12,
     "DELETE /d" HEAD "Content-Length: 12\r\n\r\na\r\n\xffz1234567"},
};

START_TEST(test_emit)
{
    const struct emit_case *c = &emit_cases[_i];
    size_t len = 0;
    uint8_t *out = http_emit_alloc(emit_case, c, SIZE_MAX, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(len, strlen(c->want));
    ck_assert_mem_eq(out, c->want, len);
    free(out);
}
END_TEST

START_TEST(test_emit_limit)
{
    const struct emit_case *c = &emit_cases[0];
    size_t want = strlen(c->want), len = 12345;
    ck_assert_ptr_null(http_emit_alloc(emit_case, c, want - 1, &len));
    ck_assert_uint_eq(len, 12345); /* untouched */
    uint8_t *out = http_emit_alloc(emit_case, c, want, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(len, want);
    free(out);
}
END_TEST

/* Messages around the size written at once (4096 bytes) and well beyond it
 * come out exact: the longer ones are written a second time. */
START_TEST(test_emit_long)
{
    static const size_t totals[] = {4095, 4096, 4097, 10000, 70000};
    const char *head = "PUT /l" HEAD "Content-Length: ";
    for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
        /* body length b with strlen(head) + digits(b) + 4 + b == total */
        size_t b = 0;
        char want_head[128];
        for (b = totals[i] - strlen(head) - 4 - 5; b < totals[i]; b++) {
            int n = snprintf(want_head, sizeof(want_head), "%s%zu\r\n\r\n", head, b);
            if ((size_t)n + b == totals[i])
                break;
        }
        ck_assert_uint_lt(b, totals[i]);
        char *body = malloc(b);
        ck_assert_ptr_nonnull(body);
        for (size_t k = 0; k < b; k++)
            body[k] = (char)('a' + k % 26);
        struct emit_case c = {"PUT", "", "/l", body, b, NULL};
        size_t len = 0;
        uint8_t *out = http_emit_alloc(emit_case, &c, SIZE_MAX, &len);
        ck_assert_ptr_nonnull(out);
        ck_assert_uint_eq(len, totals[i]);
        size_t hl = strlen(want_head);
        ck_assert_mem_eq(out, want_head, hl);
        ck_assert_mem_eq(out + hl, body, b);
        ck_assert_ptr_null(http_emit_alloc(emit_case, &c, totals[i] - 1, &len));
        free(out);
        free(body);
    }
}
END_TEST

Suite *http_suite(void);

/* http_suite: the Check suite for http/http_syntax.h and http/http_emit.h. */
Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_add_loop_test(tc, test_syntax, 0, (int)(sizeof(syntax_cases) / sizeof(syntax_cases[0])));
    tcase_add_loop_test(tc, test_target, 0, (int)(sizeof(target_cases) / sizeof(target_cases[0])));
    tcase_add_test(tc, test_tchar);
    tcase_add_test(tc, test_token_list);
    tcase_add_loop_test(tc, test_emit, 0, (int)(sizeof(emit_cases) / sizeof(emit_cases[0])));
    tcase_add_test(tc, test_emit_limit);
    tcase_add_test(tc, test_emit_long);
    suite_add_tcase(s, tc);
    return s;
}
