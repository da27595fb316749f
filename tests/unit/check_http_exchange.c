/* Unit tests for one mirror request/response exchange (http_exchange.h):
 * the request's write cursor, and responses fed whole, one byte at a time and
 * split at every offset: keep-alive and close, HTTP/1.0, 1xx interim then
 * final, 101, 204/304 and HEAD with a Content-Length, chunked, EOF-delimited
 * bodies, EOF before or inside a response, garbage, floods of interim
 * responses, oversized headers, and bytes after it; when
 * the final headers are known; the body limit, at and around its bound. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror/http_exchange.h"

static const uint8_t request[] = "GET / HTTP/1.1\r\nHost: m\r\n\r\n";

/* One response and what the exchange must conclude from it. */
struct resp_case {
    const char *name;
    const char *bytes;
    bool head;       /* sent for a HEAD request */
    bool needs_eof;  /* whole only once EOF is fed */
    int status;      /* expected final status */
    bool keep_alive; /* expected */
};

static const struct resp_case cases[] = {
    {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, false, 200, true},
    {"no body", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", false, false, 404, true},
    {"close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", false, false, 200,
     false},
    {"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false, 200, false},
    {"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", false,
     false, 200, true},
    {"100 then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", false,
     false, 200, true},
    {"103 then 201",
     "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", false,
     false, 201, true},
    {"101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", false,
     false, 101, false},
    {"204 with length", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", false, false, 204, true},
    {"304 with length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, false, 304, true},
    {"HEAD with length", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true, false, 200, true},
    {"HEAD chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, false, 200, true},
    {"chunked",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n", false,
     false, 200, true},
    {"chunked trailers",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 1\r\n\r\n", false, false, 200,
     true},
    {"eof-delimited", "HTTP/1.1 200 OK\r\n\r\nthe body runs to the end", false, true, 200, false},
    {"eof-delimited empty", "HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\n", false, true, 500, false},
    {"503", "HTTP/1.1 503 Busy\r\nContent-Length: 1\r\n\r\nx", false, false, 503, true},
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void start(struct http_exchange *x, bool head)
{
    http_exchange_start(x, request, sizeof(request) - 1, head, UINT64_MAX);
}

/* Feeds <c>'s bytes in pieces of <step> (0: whole), then EOF when the case
 * needs it, and checks every result. */
static void run_case(const struct resp_case *c, size_t step)
{
    struct http_exchange x;
    start(&x, c->head);
    size_t len = strlen(c->bytes), off = 0;
    enum http_exchange_result r = HTTP_EXCHANGE_MORE;
    while (off < len) {
        size_t n = step && len - off > step ? step : len - off;
        r = http_exchange_feed(&x, (const uint8_t *)c->bytes + off, n);
        off += n;
        if (off < len)
            ck_assert_msg(r == HTTP_EXCHANGE_MORE, "%s: result %d at %zu", c->name, r, off);
    }
    ck_assert(x.got_bytes);
    if (c->needs_eof) {
        ck_assert_msg(r == HTTP_EXCHANGE_MORE, "%s: whole before EOF", c->name);
        r = http_exchange_feed(&x, (const uint8_t *)"", 0);
    }
    ck_assert_msg(r == HTTP_EXCHANGE_COMPLETE, "%s (step %zu): result %d", c->name, step, r);
    ck_assert(x.headers);
    ck_assert_int_eq(x.status, c->status);
    ck_assert_msg(x.keep_alive == c->keep_alive, "%s: keep_alive %d", c->name, x.keep_alive);
    ck_assert(!x.extra_bytes);
}

START_TEST(test_response_whole)
{
    run_case(&cases[_i], 0);
}
END_TEST

START_TEST(test_response_byte_by_byte)
{
    run_case(&cases[_i], 1);
}
END_TEST

/* Every response cut in two at every offset. */
START_TEST(test_response_split_everywhere)
{
    const struct resp_case *c = &cases[_i];
    size_t len = strlen(c->bytes);
    for (size_t cut = 1; cut < len; cut++) {
        struct http_exchange x;
        start(&x, c->head);
        ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)c->bytes, cut), HTTP_EXCHANGE_MORE);
        enum http_exchange_result r = http_exchange_feed(&x, (const uint8_t *)c->bytes + cut, len - cut);
        if (c->needs_eof)
            r = http_exchange_feed(&x, (const uint8_t *)"", 0);
        ck_assert_msg(r == HTTP_EXCHANGE_COMPLETE, "%s cut at %zu: %d", c->name, cut, r);
        ck_assert_int_eq(x.status, c->status);
    }
}
END_TEST

/* Bytes after a whole response: complete, but the connection is not reused. */
START_TEST(test_bytes_after_response)
{
    const char *tails[] = {"X", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "\r\n"};
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        char buf[256];
        snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok%s", tails[i]);
        struct http_exchange x;
        start(&x, false);
        ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)buf, strlen(buf)), HTTP_EXCHANGE_COMPLETE);
        ck_assert_int_eq(x.status, 200);
        ck_assert(x.extra_bytes);
        ck_assert(!x.keep_alive);
    }
    /* A 204 announcing a body it does not have: what follows is extra. */
    const char *r204 = "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\nbody";
    struct http_exchange x;
    start(&x, false);
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)r204, strlen(r204)), HTTP_EXCHANGE_COMPLETE);
    ck_assert(x.extra_bytes);
    ck_assert(!x.keep_alive);
}
END_TEST

START_TEST(test_eof_before_response)
{
    struct http_exchange x;
    start(&x, false);
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)"", 0), HTTP_EXCHANGE_CLOSED);
    ck_assert(!x.got_bytes); /* what the stale keep-alive retry rule looks at */
    ck_assert(!x.complete);
}
END_TEST

START_TEST(test_eof_inside_response)
{
    const char *parts[] = {
        "HTTP/1.1 200",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        struct http_exchange x;
        start(&x, false);
        ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)parts[i], strlen(parts[i])),
                         HTTP_EXCHANGE_MORE);
        ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)"", 0), HTTP_EXCHANGE_CLOSED);
        ck_assert(x.got_bytes);
    }
}
END_TEST

START_TEST(test_garbage)
{
    const char *bad[] = {
        "SSH-2.0-OpenSSH\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "\x16\x03\x01\x02\x00",
        "HTTP/1.1 0\r\n\r\n", /* libhttp-parser takes statuses of one or two digits */
        "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_exchange x;
        start(&x, false);
        ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)bad[i], strlen(bad[i])), HTTP_EXCHANGE_BAD);
        ck_assert(x.got_bytes);
    }
}
END_TEST

/* The final response's headers are known as soon as they are in, before the
 * body; an interim response's are not the final ones. */
START_TEST(test_headers_before_body)
{
    struct http_exchange x;
    start(&x, false);
    const char *interim = "HTTP/1.1 100 Continue\r\n\r\n";
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)interim, strlen(interim)), HTTP_EXCHANGE_MORE);
    ck_assert(!x.headers);
    ck_assert_int_eq(x.status, 0);
    const char *head = "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n";
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)head, strlen(head)), HTTP_EXCHANGE_MORE);
    ck_assert(x.headers);
    ck_assert_int_eq(x.status, 404);
    ck_assert_uint_eq(x.body, 0);
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)"01234", 5), HTTP_EXCHANGE_MORE);
    ck_assert_uint_eq(x.body, 5);
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)"56789", 5), HTTP_EXCHANGE_COMPLETE);
    ck_assert_uint_eq(x.body, 10);
    ck_assert(x.keep_alive);
}
END_TEST

/* EOF in the middle of a body whose headers are in: CLOSED, headers kept. */
START_TEST(test_eof_inside_body)
{
    struct http_exchange x;
    start(&x, false);
    const char *part = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)part, strlen(part)), HTTP_EXCHANGE_MORE);
    ck_assert(x.headers);
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)"", 0), HTTP_EXCHANGE_CLOSED);
    ck_assert(x.headers);
    ck_assert_int_eq(x.status, 200);
}
END_TEST

/* A response with a body of <body> bytes (as sent) and what it must give. */
struct limit_case {
    const char *name;
    const char *bytes;
    size_t body; /* bytes after the final headers, chunk framing included */
    bool needs_eof;
    bool announced; /* a Content-Length tells the body's size before it comes */
};

static const struct limit_case limit_cases[] = {
    {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 10, false, true},
    {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 15, false,
     false},
    {"chunked trailers",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 1\r\n\r\n", 20, false, false},
    {"eof-delimited", "HTTP/1.1 200 OK\r\n\r\nto the end", 10, true, false},
    {"after 1xx", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc", 3,
     false, true},
    {"no body", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", 0, false, false},
};
#define N_LIMIT_CASES (sizeof(limit_cases) / sizeof(limit_cases[0]))

/* Feeds <c> with limit <max> in pieces of <step> (0: whole), EOF when it
 * needs one; returns the verdict. */
static enum http_exchange_result run_limit(const struct limit_case *c, uint64_t max, size_t step,
                                           struct http_exchange *x)
{
    http_exchange_start(x, request, sizeof(request) - 1, false, max);
    size_t len = strlen(c->bytes), off = 0;
    enum http_exchange_result r = HTTP_EXCHANGE_MORE;
    while (off < len && r == HTTP_EXCHANGE_MORE) {
        size_t n = step && len - off > step ? step : len - off;
        r = http_exchange_feed(x, (const uint8_t *)c->bytes + off, n);
        off += n;
    }
    if (r == HTTP_EXCHANGE_MORE && c->needs_eof)
        r = http_exchange_feed(x, (const uint8_t *)"", 0);
    return r;
}

/* A body of exactly max bytes is read whole; one byte more is TOO_LARGE,
 * with the headers in; the same whatever the split. */
START_TEST(test_body_limit)
{
    const struct limit_case *c = &limit_cases[_i];
    for (size_t step = 0; step <= 3; step++) {
        struct http_exchange x;
        ck_assert_int_eq(run_limit(c, c->body, step, &x), HTTP_EXCHANGE_COMPLETE);
        ck_assert_uint_eq(x.body, c->body);
        ck_assert(x.headers);
        ck_assert(!x.extra_bytes);
        if (c->body == 0)
            continue;
        enum http_exchange_result r = run_limit(c, c->body - 1, step, &x);
        ck_assert_msg(r == HTTP_EXCHANGE_TOO_LARGE, "%s (step %zu): result %d", c->name, step, r);
        ck_assert(x.headers);
        ck_assert_int_ne(x.status, 0);
        /* Cut at the headers when announced, else at max + 1: parsing stopped there. */
        ck_assert_uint_eq(x.body, c->announced ? 0 : c->body);
        ck_assert(!x.complete);
        ck_assert(!x.keep_alive);
        ck_assert_int_eq(run_limit(c, 0, step, &x), HTTP_EXCHANGE_TOO_LARGE);
        ck_assert_uint_eq(x.body, c->announced ? 0 : 1);
    }
}
END_TEST

/* What an observer saw of a response body. */
struct seen {
    size_t body;
    bool headers;
};
static void seen_begin(void *ctx)
{
    (void)ctx;
}
static void seen_text(void *ctx, const char *p, size_t n)
{
    (void)ctx, (void)p, (void)n;
}
static void seen_headers(void *ctx)
{
    ((struct seen *)ctx)->headers = true;
}
static void seen_body(void *ctx, const char *p, size_t n)
{
    (void)p;
    ((struct seen *)ctx)->body += n;
}
static const struct http_exchange_sink seen_sink = {seen_begin, seen_text, seen_text, seen_headers,
                                                    seen_body};

/* A large body in one read: with nobody observing, a Content-Length past the
 * limit cuts it at the headers, no body byte parsed; an observer is told the
 * body up to one byte past the limit. */
START_TEST(test_body_limit_large_read)
{
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n";
    size_t hlen = strlen(head), len = hlen + 1000000;
    uint8_t *buf = calloc(1, len);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, head, hlen);
    struct http_exchange x;
    http_exchange_start(&x, request, sizeof(request) - 1, false, 65536);
    ck_assert_int_eq(http_exchange_feed(&x, buf, len), HTTP_EXCHANGE_TOO_LARGE);
    ck_assert_uint_eq(x.body, 0);
    ck_assert_int_eq(x.status, 200);
    /* The headers alone are enough to tell. */
    http_exchange_start(&x, request, sizeof(request) - 1, false, 65536);
    ck_assert_int_eq(http_exchange_feed(&x, buf, hlen), HTTP_EXCHANGE_TOO_LARGE);
    ck_assert(x.headers);
    ck_assert(!x.keep_alive);
    /* Observed: read up to the limit, in one read or several. */
    struct seen seen = {0};
    http_exchange_start(&x, request, sizeof(request) - 1, false, 65536);
    http_exchange_observe(&x, &seen_sink, &seen);
    ck_assert_int_eq(http_exchange_feed(&x, buf, len), HTTP_EXCHANGE_TOO_LARGE);
    ck_assert_uint_eq(x.body, 65537);
    ck_assert_uint_eq(seen.body, 65537);
    ck_assert(seen.headers);
    memset(&seen, 0, sizeof(seen));
    http_exchange_start(&x, request, sizeof(request) - 1, false, 65536);
    http_exchange_observe(&x, &seen_sink, &seen);
    ck_assert_int_eq(http_exchange_feed(&x, buf, hlen), HTTP_EXCHANGE_MORE);
    ck_assert(x.headers);
    ck_assert_int_eq(http_exchange_feed(&x, buf + hlen, 65536), HTTP_EXCHANGE_MORE);
    ck_assert_int_eq(http_exchange_feed(&x, buf + hlen + 65536, 16384), HTTP_EXCHANGE_TOO_LARGE);
    ck_assert_uint_eq(x.body, 65537);
    ck_assert_uint_eq(seen.body, 65537);
    /* A Content-Length within the limit is read as usual. */
    const char *fits = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    http_exchange_start(&x, request, sizeof(request) - 1, false, 3);
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)fits, strlen(fits)), HTTP_EXCHANGE_COMPLETE);
    ck_assert(x.keep_alive);
    /* Bodyless answers are not cut, whatever they announce. */
    const char *nothing = "HTTP/1.1 304 Not Modified\r\nContent-Length: 1000000\r\n\r\n";
    http_exchange_start(&x, request, sizeof(request) - 1, false, 10);
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)nothing, strlen(nothing)),
                     HTTP_EXCHANGE_COMPLETE);
    http_exchange_start(&x, request, sizeof(request) - 1, true, 10);
    ck_assert_int_eq(http_exchange_feed(&x, buf, hlen), HTTP_EXCHANGE_COMPLETE);
    free(buf);
}
END_TEST

/* Up to HTTP_EXCHANGE_MAX_INTERIM interim responses are skipped; one more is
 * a bad response, however it is split. */
START_TEST(test_interim_flood)
{
    static const char interim[] = "HTTP/1.1 100 Continue\r\n\r\n";
    static const char final[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    char buf[(HTTP_EXCHANGE_MAX_INTERIM + 1) * sizeof(interim) + sizeof(final)];
    for (int extra = 0; extra <= 1; extra++) {
        size_t len = 0;
        for (int i = 0; i < HTTP_EXCHANGE_MAX_INTERIM + extra; i++) {
            memcpy(buf + len, interim, sizeof(interim) - 1);
            len += sizeof(interim) - 1;
        }
        memcpy(buf + len, final, sizeof(final) - 1);
        len += sizeof(final) - 1;
        for (size_t step = 0; step <= 7; step += 7) {
            struct http_exchange x;
            start(&x, false);
            enum http_exchange_result r = HTTP_EXCHANGE_MORE;
            for (size_t off = 0; off < len && r == HTTP_EXCHANGE_MORE;) {
                size_t n = step && len - off > step ? step : len - off;
                r = http_exchange_feed(&x, (const uint8_t *)buf + off, n);
                off += n;
            }
            ck_assert_int_eq(r, extra ? HTTP_EXCHANGE_BAD : HTTP_EXCHANGE_COMPLETE);
            ck_assert(x.headers == !extra);
        }
    }
}
END_TEST

/* Headers beyond libhttp-parser's bound are a bad response, not a wait. */
START_TEST(test_header_overflow)
{
    static char buf[100 * 1024];
    static const char head[] = "HTTP/1.1 200 OK\r\nX-Big: ";
    memcpy(buf, head, sizeof(head) - 1);
    memset(buf + sizeof(head) - 1, 'a', sizeof(buf) - (sizeof(head) - 1));
    struct http_exchange x;
    start(&x, false);
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)buf, sizeof(buf)), HTTP_EXCHANGE_BAD);
    ck_assert(!x.headers);
}
END_TEST

START_TEST(test_request_cursor)
{
    struct http_exchange x;
    start(&x, false);
    size_t len;
    const uint8_t *p = http_exchange_unsent(&x, &len);
    ck_assert_ptr_eq(p, request);
    ck_assert_uint_eq(len, sizeof(request) - 1);
    ck_assert(!http_exchange_sent(&x));
    http_exchange_wrote(&x, 5);
    p = http_exchange_unsent(&x, &len);
    ck_assert_ptr_eq(p, request + 5);
    ck_assert_uint_eq(len, sizeof(request) - 6);
    http_exchange_wrote(&x, len);
    ck_assert(http_exchange_sent(&x));
    http_exchange_unsent(&x, &len);
    ck_assert_uint_eq(len, 0);
}
END_TEST

/* One exchange struct serves request after request on a kept-alive connection. */
START_TEST(test_restart)
{
    struct http_exchange x;
    const char *r1 = "HTTP/1.1 500 No\r\nContent-Length: 0\r\n\r\n";
    const char *r2 = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n";
    start(&x, false);
    http_exchange_wrote(&x, sizeof(request) - 1);
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)r1, strlen(r1)), HTTP_EXCHANGE_COMPLETE);
    ck_assert_int_eq(x.status, 500);
    start(&x, true); /* HEAD: the 9 announced bytes never come */
    ck_assert_uint_eq(x.written, 0);
    ck_assert(!x.got_bytes && !x.complete && !x.headers);
    ck_assert_uint_eq(x.body, 0);
    ck_assert_int_eq(x.status, 0);
    ck_assert_int_eq(http_exchange_feed(&x, (const uint8_t *)r2, strlen(r2)), HTTP_EXCHANGE_COMPLETE);
    ck_assert_int_eq(x.status, 200);
    ck_assert(x.keep_alive);
}
END_TEST

Suite *http_exchange_suite(void);
Suite *http_exchange_suite(void)
{
    Suite *s = suite_create("http_exchange");
    TCase *tc = tcase_create("responses");
    tcase_add_loop_test(tc, test_response_whole, 0, (int)N_CASES);
    tcase_add_loop_test(tc, test_response_byte_by_byte, 0, (int)N_CASES);
    tcase_add_loop_test(tc, test_response_split_everywhere, 0, (int)N_CASES);
    tcase_add_test(tc, test_bytes_after_response);
    tcase_add_test(tc, test_eof_before_response);
    tcase_add_test(tc, test_eof_inside_response);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_interim_flood);
    tcase_add_test(tc, test_header_overflow);
    tcase_add_test(tc, test_headers_before_body);
    tcase_add_test(tc, test_eof_inside_body);
    suite_add_tcase(s, tc);
    tc = tcase_create("body limit");
    tcase_add_loop_test(tc, test_body_limit, 0, (int)N_LIMIT_CASES);
    tcase_add_test(tc, test_body_limit_large_read);
    suite_add_tcase(s, tc);
    tc = tcase_create("request");
    tcase_add_test(tc, test_request_cursor);
    tcase_add_test(tc, test_restart);
    suite_add_tcase(s, tc);
    return s;
}
