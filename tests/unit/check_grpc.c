/* Unit tests for what a mirrored gRPC call needs (grpc_body.h, and
 * request_shape.h's "te: trailers" and shape_body_cut()): the Content-Type
 * check, the walk over length-prefixed messages and every cut of a body, the
 * TE rules, and the NOTIFY frames of real gRPC calls captured from HAProxy
 * 2.6 and 3.4 (tests/fixtures/grpc): unary and client-streaming calls that
 * fit a buffer (mirrored with their metadata, te and body intact) and calls
 * larger than one (HAProxy cut them without saying so: not mirrored). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/grpc_body.h"
#include "mirror/mirror_args.h"
#include "mirror/request_shape.h"
#include "spop/spop_data.h"
#include "spop/spop_proto.h"
#include "test_util.h"

#define GRPC_FIXTURES_DIR "tests/fixtures/grpc"

static struct spop_bytes bytes_of(const char *s)
{
    return (struct spop_bytes){(const uint8_t *)s, strlen(s)};
}

/* ---- Content-Type ---- */

static const struct {
    const char *value;
    bool grpc;
} content_types[] = {
    {"application/grpc", true},
    {"application/grpc+proto", true},
    {"application/grpc+json", true},
    {"Application/GRPC", true},
    {"application/grpc; charset=utf-8", true},
    {"application/grpc;x=1", true},
    {" application/grpc\t", true},
    {"application/grpc-web", false},
    {"application/grpc-web+proto", false},
    {"application/grpcx", false},
    {"application/grp", false},
    {"application/json", false},
    {"", false},
    {"text/plain; application/grpc", false},
};
#define N_CONTENT_TYPES (sizeof(content_types) / sizeof(content_types[0]))

START_TEST(test_content_type)
{
    const char *v = content_types[_i].value;
    uint8_t *g = guarded_copy((const uint8_t *)v, strlen(v));
    ck_assert_msg(grpc_is_content_type(g, strlen(v)) == content_types[_i].grpc, "\"%s\"", v);
    guarded_free(g, strlen(v));
}
END_TEST

/* ---- messages ---- */

/* Appends one message (flag, length, <len> bytes of <fill>) to buf at *off. */
static void put_message(uint8_t *buf, size_t *off, uint8_t flag, uint32_t len, uint8_t fill)
{
    buf[(*off)++] = flag;
    buf[(*off)++] = (uint8_t)(len >> 24);
    buf[(*off)++] = (uint8_t)(len >> 16);
    buf[(*off)++] = (uint8_t)(len >> 8);
    buf[(*off)++] = (uint8_t)len;
    memset(buf + *off, fill, len);
    *off += len;
}

/* Every prefix of a body of messages (empty, compressed flag, 300 bytes, 1
 * byte): whole messages exactly at the boundaries, -1 everywhere else. Read
 * from a guarded copy, so that no prefix is read past its end. */
START_TEST(test_every_cut)
{
    static const uint32_t lens[] = {0, 7, 300, 1};
    uint8_t body[512];
    size_t off = 0, bounds[5] = {0};
    for (size_t i = 0; i < 4; i++) {
        put_message(body, &off, i == 1 ? 1 : 0, lens[i], (uint8_t)(0xa0 + i));
        bounds[i + 1] = off;
    }
    for (size_t n = 0; n <= off; n++) {
        long want = -1;
        for (long k = 0; k < 5; k++)
            if (bounds[k] == n)
                want = k;
        uint8_t *g = guarded_copy(body, n);
        ck_assert_msg(grpc_body_messages(g, n) == want, "prefix %zu: got %ld, want %ld", n,
                      grpc_body_messages(g, n), want);
        guarded_free(g, n);
    }
}
END_TEST

/* A length that would overflow an offset is a cut, not a wrap-around. */
START_TEST(test_huge_length)
{
    static const uint8_t body[] = {0, 0xff, 0xff, 0xff, 0xff, 'x'};
    ck_assert_int_eq(grpc_body_messages(body, sizeof(body)), -1);
    static const uint8_t ok[] = {0, 0, 0, 0, 1, 'x', 0, 0, 0, 0, 0};
    ck_assert_int_eq(grpc_body_messages(ok, sizeof(ok)), 2);
}
END_TEST

/* ---- shaping ---- */

#define HDRS_CAP 1024

/* A request with the headers <h> (name, value pairs, NULL-terminated) and
 * the <body_len> bytes at <body>; the block is stored in <hdrs>. */
static struct mirror_args grpc_args(uint8_t *hdrs, const char *const *h, const uint8_t *body, size_t body_len)
{
    struct spop_writer w;
    spop_writer_init(&w, hdrs, HDRS_CAP);
    for (size_t i = 0; h[i] != NULL; i++)
        spop_put_name(&w, h[i], strlen(h[i]));
    spop_put_name(&w, "", 0);
    spop_put_name(&w, "", 0);
    ck_assert(!w.failed);
    struct mirror_args a;
    memset(&a, 0, sizeof(a));
    a.method = bytes_of("POST");
    a.path = bytes_of("/pkg.Svc/Call");
    a.host = bytes_of("grpc.local:50051");
    a.ver = bytes_of("2.0");
    a.hdrs = (struct spop_bytes){hdrs, w.len};
    a.body = (struct spop_bytes){body, body_len};
    a.body_size = 0; /* as HAProxy 3.x says for a body without Content-Length */
    a.src.type = SPOP_DATA_T_NULL;
    return a;
}

/* The mirror of these tests: the Host kept as it came. */
static struct config_mirror grpc_mirror(void)
{
    struct config_mirror m = plain_mirror();
    m.authority = AUTHORITY_KEEP;
    return m;
}

/* Shapes <a> for <m>: SHAPE_OK and exactly <want_head> then the body. */
static void expect_grpc_copy(const struct config_mirror *m, const struct mirror_args *a,
                             const char *want_head)
{
    uint8_t *out = NULL;
    size_t len = 0;
    enum shape_status st = shape_request(m, a, SIZE_MAX, &out, &len);
    ck_assert_msg(st == SHAPE_OK, "status %s", shape_status_str(st));
    size_t hl = strlen(want_head);
    ck_assert_msg(len == hl + a->body.len && memcmp(out, want_head, hl) == 0, "got:\n%.*s\nwant:\n%s",
                  (int)len, (const char *)out, want_head);
    ck_assert_mem_eq(out + hl, a->body.ptr, a->body.len);
    free(out);
}

/* "te: trailers" is kept, in that form, even named by Connection; any other
 * TE is dropped; headers.remove can drop it too. */
START_TEST(test_te_trailers)
{
    static const uint8_t body[] = {0, 0, 0, 0, 2, 'h', 'i'};
    static const char *const h[] = {
        "content-type", "application/grpc", "connection", "te", "te", " TRAILERS ", "grpc-timeout",
        "1S",           "x-user-bin",       "AAEC",       NULL};
    uint8_t hdrs[HDRS_CAP];
    struct mirror_args a = grpc_args(hdrs, h, body, sizeof(body));
    struct config_mirror m = grpc_mirror();
    expect_grpc_copy(&m, &a,
                     "POST /pkg.Svc/Call HTTP/1.1\r\n"
                     "Host: grpc.local:50051\r\n"
                     "content-type: application/grpc\r\n"
                     "te: trailers\r\n"
                     "grpc-timeout: 1S\r\n"
                     "x-user-bin: AAEC\r\n"
                     "Content-Length: 7\r\n"
                     "\r\n");
    char *remove[] = {"te"};
    m.headers_remove = remove;
    m.n_headers_remove = 1;
    expect_grpc_copy(&m, &a,
                     "POST /pkg.Svc/Call HTTP/1.1\r\n"
                     "Host: grpc.local:50051\r\n"
                     "content-type: application/grpc\r\n"
                     "grpc-timeout: 1S\r\n"
                     "x-user-bin: AAEC\r\n"
                     "Content-Length: 7\r\n"
                     "\r\n");

    static const char *const others[] = {"te", "gzip",    "te", "trailers, deflate", "te", "",
                                         "te", "trailer", NULL};
    a = grpc_args(hdrs, others, body, sizeof(body));
    m = grpc_mirror();
    expect_grpc_copy(&m, &a,
                     "POST /pkg.Svc/Call HTTP/1.1\r\n"
                     "Host: grpc.local:50051\r\n"
                     "Content-Length: 7\r\n"
                     "\r\n");
}
END_TEST

/* A gRPC body cut inside a message is not whole, whatever body_size says;
 * another content type with the same bytes is not judged by them. */
START_TEST(test_body_cut)
{
    static const uint8_t cut[] = {0, 0, 0, 0, 5, 'a', 'b', 'c'};
    static const char *const grpc[] = {"content-type", "application/grpc+proto", NULL};
    static const char *const json[] = {"content-type", "application/json", NULL};
    static const char *const none[] = {"x-a", "1", NULL};
    uint8_t hdrs[HDRS_CAP];
    struct config_mirror m = grpc_mirror();
    uint8_t *out = NULL;
    size_t len = 0;

    struct mirror_args a = grpc_args(hdrs, grpc, cut, sizeof(cut));
    ck_assert(shape_body_cut(&a));
    ck_assert_int_eq(shape_request(&m, &a, SIZE_MAX, &out, &len), SHAPE_BODY_TRUNCATED);
    a.body_size = sizeof(cut); /* HAProxy 2.6 reports what it buffered */
    ck_assert(shape_body_cut(&a));
    a.body.len = 0; /* no message at all: whole */
    a.body_size = 0;
    ck_assert(!shape_body_cut(&a));
    a.body.len = 5;                /* one empty message... */
    ck_assert(shape_body_cut(&a)); /* ...announcing 5 bytes */

    a = grpc_args(hdrs, json, cut, sizeof(cut));
    ck_assert(!shape_body_cut(&a));
    a = grpc_args(hdrs, none, cut, sizeof(cut));
    ck_assert(!shape_body_cut(&a));
    a.body_size = sizeof(cut) + 1; /* and the usual rule still holds */
    ck_assert(shape_body_cut(&a));
}
END_TEST

/* ---- captured calls ---- */

struct grpc_fixture {
    const char *file;
    bool cut;           /* larger than HAProxy's buffer: cut by HAProxy */
    long messages;      /* whole messages in the body (when not cut) */
    uint64_t body_size; /* what HAProxy announced (0 on 3.4 without Content-Length) */
};

/* The calls of tests/fixtures/grpc/capture_calls.py: a 40-byte unary call,
 * a client-streaming call of 0, 300 and 17 bytes, a 20,000-byte unary call
 * and a client-streaming call of three 7,000-byte messages. */
static const struct grpc_fixture grpc_fixtures[] = {
    {"haproxy-2.6/001-unary.hex", false, 1, 45},   {"haproxy-2.6/002-streaming.hex", false, 3, 332},
    {"haproxy-2.6/003-unary-cut.hex", true, 0, 0}, {"haproxy-2.6/004-streaming-cut.hex", true, 0, 0},
    {"haproxy-3.4/001-unary.hex", false, 1, 0},    {"haproxy-3.4/002-streaming.hex", false, 3, 0},
    {"haproxy-3.4/003-unary-cut.hex", true, 0, 0}, {"haproxy-3.4/004-streaming-cut.hex", true, 0, 0},
};
#define N_GRPC_FIXTURES (sizeof(grpc_fixtures) / sizeof(grpc_fixtures[0]))

/* True when the copy <out> holds the line "<line>\r\n". */
static bool has_line(const uint8_t *out, size_t len, const char *line)
{
    char want[256];
    int n = snprintf(want, sizeof(want), "\r\n%s\r\n", line);
    return memmem(out, len, want, (size_t)n) != NULL;
}

START_TEST(test_captured_call)
{
    const struct grpc_fixture *t = &grpc_fixtures[_i];
    size_t n;
    struct mirror_args a;
    uint8_t *frame = load_notify_args(GRPC_FIXTURES_DIR, t->file, &n, &a);
    ck_assert(spop_bytes_eq(a.ver, "2.0"));
    ck_assert(spop_bytes_eq(a.method, "POST"));
    /* HAProxy gives no sign of the cut: body_size is what it buffered, or 0. */
    if (t->cut)
        ck_assert(a.body_size == 0 || a.body_size == a.body.len);
    else
        ck_assert_uint_eq(a.body_size, t->body_size);
    ck_assert_msg(shape_body_cut(&a) == t->cut, "%s", t->file);

    struct config_mirror m = grpc_mirror();
    uint8_t *out = NULL;
    size_t len = 0;
    enum shape_status st = shape_request(&m, &a, 1u << 20, &out, &len);
    if (t->cut) {
        ck_assert_int_eq(st, SHAPE_BODY_TRUNCATED);
        ck_assert_int_eq(grpc_body_messages(a.body.ptr, a.body.len), -1);
    } else {
        ck_assert_msg(st == SHAPE_OK, "%s: %s", t->file, shape_status_str(st));
        ck_assert_int_eq(grpc_body_messages(a.body.ptr, a.body.len), t->messages);
        const char *path_line = strstr(t->file, "unary") ? "POST /shadowtest.Echo/Unary HTTP/1.1"
                                                         : "POST /shadowtest.Echo/Collect HTTP/1.1";
        ck_assert(len > strlen(path_line) && memcmp(out, path_line, strlen(path_line)) == 0);
        ck_assert(has_line(out, len, "content-type: application/grpc"));
        ck_assert(has_line(out, len, "te: trailers"));
        ck_assert(has_line(out, len, "x-call-id: fx-1"));
        ck_assert(has_line(out, len, "x-tenant: acme"));
        ck_assert(has_line(out, len, "trace-bin: +vv8/f7/AAE")); /* fa fb fc fd fe ff 00 01, base64 */
        ck_assert(has_line(out, len, "grpc-accept-encoding: identity, deflate, gzip"));
        ck_assert(len > a.body.len && memcmp(out + len - a.body.len, a.body.ptr, a.body.len) == 0);
        ck_assert(memmem(out, len, "\r\n\r\n", 4) == (void *)(out + len - a.body.len - 4));
        free(out);
    }
    guarded_free(frame, n);
}
END_TEST

Suite *grpc_suite(void);

/* grpc_suite: the Check suite for grpc_body.h and the gRPC side of request_shape.h. */
Suite *grpc_suite(void)
{
    Suite *s = suite_create("grpc");
    TCase *tc = tcase_create("body");
    tcase_add_loop_test(tc, test_content_type, 0, (int)N_CONTENT_TYPES);
    tcase_add_test(tc, test_every_cut);
    tcase_add_test(tc, test_huge_length);
    suite_add_tcase(s, tc);

    tc = tcase_create("shape");
    tcase_add_test(tc, test_te_trailers);
    tcase_add_test(tc, test_body_cut);
    tcase_add_loop_test(tc, test_captured_call, 0, (int)N_GRPC_FIXTURES);
    suite_add_tcase(s, tc);
    return s;
}
