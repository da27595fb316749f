/* Unit tests for the SPOE message contract (mirror_args.h): the `mirror`
 * arguments of the captured NOTIFYs, each required argument missing or NULL,
 * wrong types, malformed req.hdrs_bin blocks, optional arguments, the
 * hdrs_bin iterator on good, truncated, unterminated and trailing-garbage
 * blocks, and the arguments of the body slice messages. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror/mirror_args.h"
#include "spop/spop_notify.h"
#include "spop/spop_data.h"
#include "spop/spop_frame.h"
#include "spop/spop_proto.h"
#include "test_util.h"

#define HAPROXY_FRAME_SIZE 16380u

/* ---- the captured NOTIFYs (tests/fixtures/spop/README.md) ---- */

struct notify_expect {
    const char *file;
    const char *method, *path, *host, *ver;
    size_t hdrs_len;
    int nheaders;
    size_t body_len;
    uint64_t body_size;
    const char *id;
};

static const struct notify_expect captured[] = {
    {"haproxy-2.6/003-notify.hex", "GET", "/headers?x=1", "httpbin:8000", "1.1", 54, 3, 0, 0,
     "7F000001:E740_7F000001:47AE_6B08FBF3_0000:6096"},
    {"haproxy-2.6/005-notify.hex", "POST", "/anything", "httpbin:8000", "1.1", 102, 5, 17, 17,
     "7F000001:E744_7F000001:47AE_6B08FBF3_0002:6096"},
    {"haproxy-2.6/006-notify.hex", "POST", "/anything/big", "httpbin:8000", "1.1", 122, 5, 15092, 20000,
     "7F000001:E746_7F000001:47AE_6B08FBF3_0004:6096"},
    {"haproxy-2.6/007-notify.hex", "GET", "/h2/path?q=2", "127.0.0.1:18351", "2.0", 57, 3, 0, 0,
     "7F000001:E92A_7F000001:47AF_6B08FBF3_0005:6096"},
    {"haproxy-2.6/008-notify.hex", "POST", "/anything/chunked", "httpbin:8000", "1.1", 127, 5, 12, 12,
     "7F000001:E750_7F000001:47AE_6B08FBF3_0006:6096"},
    {"haproxy-3.4/003-notify.hex", "GET", "/headers?x=1", "httpbin:8000", "1.1", 54, 3, 0, 0,
     "7F000001:D652_7F000001:47AE_6B08FBF6_0000:60D7"},
    {"haproxy-3.4/004-notify.hex", "POST", "/anything", "httpbin:8000", "1.1", 102, 5, 17, 17,
     "7F000001:D660_7F000001:47AE_6B08FBF6_0002:60D7"},
    {"haproxy-3.4/005-notify.hex", "POST", "/anything/big", "httpbin:8000", "1.1", 122, 5, 15100, 20000,
     "7F000001:D66E_7F000001:47AE_6B08FBF6_0004:60D7"},
    {"haproxy-3.4/006-notify.hex", "GET", "/h2/path?q=2", "127.0.0.1:18351", "2.0", 57, 3, 0, 0,
     "7F000001:9B38_7F000001:47AF_6B08FBF6_0006:60D7"},
    {"haproxy-3.4/007-notify.hex", "POST", "/anything/chunked", "httpbin:8000", "1.1", 127, 5, 12, 12,
     "7F000001:D67A_7F000001:47AE_6B08FBF6_0008:60D7"},
};
#define N_CAPTURED (sizeof(captured) / sizeof(captured[0]))

static void assert_bytes(struct spop_bytes b, const char *want)
{
    ck_assert_msg(spop_bytes_eq(b, want), "got '%.*s', want '%s'", (int)b.len, (const char *)b.ptr, want);
}

START_TEST(test_captured_notify)
{
    const struct notify_expect *e = &captured[_i];
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, e->file);
    uint8_t *raw = NULL;
    long len = read_hex_file(path, &raw);
    ck_assert_int_gt(len, 0);
    uint8_t *g = guarded_copy(raw, (size_t)len);
    free(raw);

    struct spop_frame f;
    ck_assert_int_eq(spop_frame_decode(g, (size_t)len, HAPROXY_FRAME_SIZE, &f), len);
    struct spop_notify n = {.stream_id = f.stream_id,
                            .frame_id = f.frame_id,
                            .messages = f.payload,
                            .messages_len = f.payload_len};
    struct spop_message m;
    ck_assert(spop_notify_find_message(&n, MIRROR_MESSAGE_NAME, &m));
    assert_bytes(m.name, "mirror");

    struct mirror_args a;
    const char *bad = NULL;
    ck_assert_int_eq(mirror_args_extract(&m, &a, &bad), MIRROR_ARGS_OK);
    assert_bytes(a.method, e->method);
    assert_bytes(a.path, e->path);
    assert_bytes(a.host, e->host);
    assert_bytes(a.ver, e->ver);
    ck_assert_uint_eq(a.hdrs.len, e->hdrs_len);
    ck_assert_int_eq(hdrs_bin_count(a.hdrs), e->nheaders);
    ck_assert_uint_eq(a.body.len, e->body_len);
    ck_assert_uint_eq(a.body_size, e->body_size);
    assert_bytes(a.id, e->id);
    ck_assert_uint_eq(a.route.len, 0);
    ck_assert_uint_eq(a.src.type, SPOP_DATA_T_IPV4);
    static const uint8_t localhost[4] = {127, 0, 0, 1};
    ck_assert_mem_eq(a.src.u.ipv4, localhost, 4);

    /* The first header is the Host header (from :authority over HTTP/2). */
    struct spop_bytes name, value;
    ck_assert_int_gt(hdrs_bin_next(a.hdrs.ptr, a.hdrs.len, &name, &value), 0);
    assert_bytes(name, "host");
    assert_bytes(value, e->host);

    /* Every view lies inside the frame. */
    const struct spop_bytes *views[] = {&a.method, &a.path, &a.host, &a.ver, &a.hdrs, &a.body, &a.id};
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        ck_assert(views[i]->ptr >= f.payload && views[i]->ptr + views[i]->len <= f.payload + f.payload_len);
    guarded_free(g, (size_t)len);
}
END_TEST

/* ---- synthetic messages ---- */

/* A valid req.hdrs_bin block: host: a.example, user-agent: t, then the end marker. */
static const uint8_t good_hdrs[] = {4,  'h', 'o', 's', 't', 9,   'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
                                    10, 'u', 's', 'e', 'r', '-', 'a', 'g', 'e', 'n', 't', 1,   't', 0,   0};

struct arg {
    const char *name;
    struct spop_data value;
};

#define STR(s)                                                                                               \
    {                                                                                                        \
        .type = SPOP_DATA_T_STR, .u.bytes = {(const uint8_t *)(s), sizeof(s) - 1 }                           \
    }
#define BIN(p, n)                                                                                            \
    {                                                                                                        \
        .type = SPOP_DATA_T_BIN, .u.bytes = {(p), (n) }                                                      \
    }

enum { A_METHOD, A_PATH, A_HOST, A_VER, A_HDRS, A_BODY, A_BODY_SIZE, A_ROUTE, A_ID, A_SRC, N_ARGS };

static const char *const required_names[] = {"method", "path", "host", "ver", "hdrs", "body", "body_size"};
#define N_REQUIRED (sizeof(required_names) / sizeof(required_names[0]))

/* The full argument set, all valid. */
static void base_args(struct arg *a)
{
    static const struct arg base[N_ARGS] = {
        [A_METHOD] = {"method", STR("PUT")},
        [A_PATH] = {"path", STR("/p?q=1")},
        [A_HOST] = {"host", STR("a.example")},
        [A_VER] = {"ver", STR("1.1")},
        [A_HDRS] = {"hdrs", BIN(good_hdrs, sizeof(good_hdrs))},
        [A_BODY] = {"body", BIN((const uint8_t *)"abc", 3)},
        [A_BODY_SIZE] = {"body_size", {.type = SPOP_DATA_T_INT64, .u.i64 = 3}},
        [A_ROUTE] = {"route", STR("r1")},
        [A_ID] = {"id", STR("uid-1")},
        [A_SRC] = {"src", {.type = SPOP_DATA_T_IPV4, .u.ipv4 = {10, 0, 0, 1}}},
    };
    memcpy(a, base, sizeof(base));
}

/* An encoded `mirror` message and the view spop_message_next() gives of it. */
struct built {
    uint8_t *g;
    size_t len;
    struct spop_message m;
};

/* Encodes the <n> args that are not NULL-named into a guarded buffer. */
static void build(struct built *b, const struct arg *args, size_t n)
{
    uint8_t buf[2048];
    struct spop_writer w;
    spop_writer_init(&w, buf, sizeof(buf));
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += args[i].name != NULL;
    spop_put_name(&w, "mirror", 6);
    spop_put_u8(&w, (uint8_t)count);
    for (size_t i = 0; i < n; i++) {
        if (!args[i].name)
            continue;
        spop_put_name(&w, args[i].name, strlen(args[i].name));
        spop_put_data(&w, &args[i].value);
    }
    ck_assert(!w.failed);
    b->len = w.len;
    b->g = guarded_copy(buf, w.len);
    ck_assert_int_eq(spop_message_next(b->g, b->len, &b->m), (ssize_t)b->len);
}

static void unbuild(struct built *b)
{
    guarded_free(b->g, b->len);
}

/* Extracts from <args> into *out, or into *part_out when <out> is NULL (a
 * body slice message); returns the status and the offending argument's name. */
static enum mirror_args_status extract_any(const struct arg *args, size_t n, struct mirror_args *out,
                                           struct body_part_args *part_out, const char **bad)
{
    struct built b;
    build(&b, args, n);
    *bad = NULL;
    enum mirror_args_status st =
        out ? mirror_args_extract(&b.m, out, bad) : body_part_args_extract(&b.m, part_out, bad);
    /* Views must not outlive the message: keep only what the caller checks. */
    unbuild(&b);
    return st;
}

static enum mirror_args_status extract(const struct arg *args, size_t n, struct mirror_args *out,
                                       const char **bad)
{
    return extract_any(args, n, out, NULL, bad);
}

START_TEST(test_all_args)
{
    struct arg args[N_ARGS];
    base_args(args);
    struct built b;
    build(&b, args, N_ARGS);
    struct mirror_args a;
    const char *bad = NULL;
    ck_assert_int_eq(mirror_args_extract(&b.m, &a, &bad), MIRROR_ARGS_OK);
    ck_assert_ptr_null(bad);
    assert_bytes(a.method, "PUT");
    assert_bytes(a.path, "/p?q=1");
    assert_bytes(a.host, "a.example");
    assert_bytes(a.ver, "1.1");
    ck_assert_uint_eq(a.hdrs.len, sizeof(good_hdrs));
    ck_assert_mem_eq(a.hdrs.ptr, good_hdrs, sizeof(good_hdrs));
    assert_bytes(a.body, "abc");
    ck_assert_uint_eq(a.body_size, 3);
    assert_bytes(a.route, "r1");
    assert_bytes(a.id, "uid-1");
    ck_assert_uint_eq(a.src.type, SPOP_DATA_T_IPV4);
    ck_assert_uint_eq(a.src.u.ipv4[3], 1);
    unbuild(&b);
}
END_TEST

START_TEST(test_required_missing)
{
    struct arg args[N_ARGS];
    base_args(args);
    args[_i].name = NULL;
    struct mirror_args a;
    const char *bad;
    ck_assert_int_eq(extract(args, N_ARGS, &a, &bad), MIRROR_ARGS_MISSING);
    ck_assert_str_eq(bad, required_names[_i]);
}
END_TEST

/* A failed sample fetch arrives as NULL: the same as a missing argument. */
START_TEST(test_required_null)
{
    struct arg args[N_ARGS];
    base_args(args);
    args[_i].value = (struct spop_data){.type = SPOP_DATA_T_NULL};
    struct mirror_args a;
    const char *bad;
    ck_assert_int_eq(extract(args, N_ARGS, &a, &bad), MIRROR_ARGS_MISSING);
    ck_assert_str_eq(bad, required_names[_i]);
}
END_TEST

/* Optional arguments absent (case 0) or NULL (case 1). */
START_TEST(test_optional_absent)
{
    struct arg args[N_ARGS];
    base_args(args);
    for (size_t i = A_ROUTE; i <= A_SRC; i++) {
        if (_i == 0)
            args[i].name = NULL;
        else
            args[i].value = (struct spop_data){.type = SPOP_DATA_T_NULL};
    }
    struct built b;
    build(&b, args, N_ARGS);
    struct mirror_args a;
    const char *bad = NULL;
    ck_assert_int_eq(mirror_args_extract(&b.m, &a, &bad), MIRROR_ARGS_OK);
    ck_assert_uint_eq(a.route.len, 0);
    ck_assert_uint_eq(a.id.len, 0);
    ck_assert_uint_eq(a.src.type, SPOP_DATA_T_NULL);
    assert_bytes(a.method, "PUT");
    unbuild(&b);
}
END_TEST

/* Unknown and unnamed arguments are ignored, wherever they sit. */
START_TEST(test_unknown_args_ignored)
{
    struct arg args[N_ARGS + 3];
    args[0] = (struct arg){"", STR("unnamed")};
    base_args(args + 1);
    args[N_ARGS + 1] = (struct arg){"extra", {.type = SPOP_DATA_T_BOOL, .u.boolean = true}};
    args[N_ARGS + 2] = (struct arg){"methods", {.type = SPOP_DATA_T_INT32, .u.i64 = 1}};
    struct built b;
    build(&b, args, N_ARGS + 3);
    struct mirror_args a;
    const char *bad = NULL;
    ck_assert_int_eq(mirror_args_extract(&b.m, &a, &bad), MIRROR_ARGS_OK);
    assert_bytes(a.method, "PUT");
    unbuild(&b);
}
END_TEST

struct type_case {
    int arg;
    struct spop_data value;
    enum mirror_args_status want;
};

static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

static const struct type_case type_cases[] = {
    {A_METHOD, BIN((const uint8_t *)"GET", 3), MIRROR_ARGS_WRONG_TYPE},
    {A_METHOD, {.type = SPOP_DATA_T_INT32, .u.i64 = 1}, MIRROR_ARGS_WRONG_TYPE},
    {A_PATH, {.type = SPOP_DATA_T_BOOL, .u.boolean = true}, MIRROR_ARGS_WRONG_TYPE},
    {A_HOST, {.type = SPOP_DATA_T_IPV4, .u.ipv4 = {1, 2, 3, 4}}, MIRROR_ARGS_WRONG_TYPE},
    {A_VER, BIN((const uint8_t *)"1.1", 3), MIRROR_ARGS_WRONG_TYPE},
    {A_HDRS, {.type = SPOP_DATA_T_INT64, .u.i64 = 5}, MIRROR_ARGS_WRONG_TYPE},
    {A_BODY, {.type = SPOP_DATA_T_UINT32, .u.u64 = 5}, MIRROR_ARGS_WRONG_TYPE},
    {A_BODY_SIZE, STR("3"), MIRROR_ARGS_WRONG_TYPE},
    {A_BODY_SIZE, {.type = SPOP_DATA_T_INT64, .u.i64 = -1}, MIRROR_ARGS_WRONG_TYPE},
    {A_BODY_SIZE, {.type = SPOP_DATA_T_BOOL, .u.boolean = false}, MIRROR_ARGS_WRONG_TYPE},
    {A_ROUTE, {.type = SPOP_DATA_T_INT32, .u.i64 = 2}, MIRROR_ARGS_WRONG_TYPE},
    {A_ID, BIN((const uint8_t *)"x", 1), MIRROR_ARGS_WRONG_TYPE},
    {A_SRC, {.type = SPOP_DATA_T_BOOL, .u.boolean = true}, MIRROR_ARGS_WRONG_TYPE},
    {A_SRC, BIN((const uint8_t *)"x", 1), MIRROR_ARGS_WRONG_TYPE},
    /* Types the contract allows besides the usual one. */
    {A_HDRS, STR("\x04host\x01h\x00\x00"), MIRROR_ARGS_OK},
    {A_BODY, STR("text"), MIRROR_ARGS_OK},
    {A_BODY_SIZE, {.type = SPOP_DATA_T_INT32, .u.i64 = 3}, MIRROR_ARGS_OK},
    {A_BODY_SIZE, {.type = SPOP_DATA_T_UINT32, .u.u64 = 3}, MIRROR_ARGS_OK},
    {A_BODY_SIZE, {.type = SPOP_DATA_T_UINT64, .u.u64 = 3}, MIRROR_ARGS_OK},
    {A_SRC, {.type = SPOP_DATA_T_IPV6, .u.ipv6 = {0}}, MIRROR_ARGS_OK},
    {A_SRC, STR("unix@/run/x"), MIRROR_ARGS_OK},
};
#define N_TYPE_CASES (sizeof(type_cases) / sizeof(type_cases[0]))

START_TEST(test_types)
{
    const struct type_case *c = &type_cases[_i];
    struct arg args[N_ARGS];
    base_args(args);
    args[c->arg].value = c->value;
    if (c->arg == A_SRC && c->value.type == SPOP_DATA_T_IPV6)
        memcpy(args[c->arg].value.u.ipv6, v6, 16);
    struct built b;
    build(&b, args, N_ARGS);
    struct mirror_args a;
    const char *bad = NULL;
    enum mirror_args_status st = mirror_args_extract(&b.m, &a, &bad);
    ck_assert_msg(st == c->want, "case %d: status %s", _i, mirror_args_status_str(st));
    if (c->want != MIRROR_ARGS_OK) {
        ck_assert_str_eq(bad, args[c->arg].name);
    } else if (c->arg == A_BODY_SIZE) {
        ck_assert_uint_eq(a.body_size, 3);
    } else if (c->arg == A_SRC) {
        ck_assert_uint_eq(a.src.type, c->value.type);
        if (c->value.type == SPOP_DATA_T_IPV6)
            ck_assert_mem_eq(a.src.u.ipv6, v6, 16);
    } else if (c->arg == A_HDRS) {
        ck_assert_int_eq(hdrs_bin_count(a.hdrs), 1);
    } else if (c->arg == A_BODY) {
        assert_bytes(a.body, "text");
    }
    unbuild(&b);
}
END_TEST

/* ---- req.hdrs_bin blocks ---- */

struct hdrs_case {
    const char *label;
    const char *hex;
    int count; /* hdrs_bin_count(), -1 when malformed */
};

static const struct hdrs_case hdrs_cases[] = {
    {"two headers", "04 686f7374 01 61  02 7878 03 797979  00 00", 2},
    {"end marker only", "00 00", 0},
    {"empty value", "01 61 00  00 00", 1},
    {"empty block", "", -1},
    {"unterminated", "04 686f7374 01 61", -1},
    {"end marker cut short", "04 686f7374 01 61 00", -1},
    {"trailing garbage", "04 686f7374 01 61 00 00 41", -1},
    {"two end markers", "00 00 00 00", -1},
    {"end marker with a value", "00 01 41", -1},
    {"name past the end", "08 686f7374 01 61 00 00", -1},
    {"value past the end", "04 686f7374 09 61 00 00", -1},
    {"name length varint cut", "f0", -1},
    {"value length varint cut", "01 61 f5", -1},
};
#define N_HDRS_CASES (sizeof(hdrs_cases) / sizeof(hdrs_cases[0]))

START_TEST(test_hdrs_bin_cases)
{
    const struct hdrs_case *c = &hdrs_cases[_i];
    uint8_t *raw = NULL;
    long len = hex_decode(c->hex, &raw);
    ck_assert_int_ge(len, 0);
    uint8_t *g = guarded_copy(raw, (size_t)len);
    free(raw);
    int count = hdrs_bin_count((struct spop_bytes){g, (size_t)len});
    ck_assert_msg(count == c->count, "%s: count %d", c->label, count);

    /* Walking by hand agrees with the count and sees every byte. */
    size_t off = 0;
    int seen = 0, last = 1;
    for (int steps = 0; steps <= len; steps++) {
        struct spop_bytes name = {NULL, 99}, value = {NULL, 99};
        last = hdrs_bin_next(g + off, (size_t)len - off, &name, &value);
        if (last <= 0)
            break;
        ck_assert_uint_gt(name.len, 0);
        ck_assert(name.ptr > g + off && value.ptr + value.len == g + off + (size_t)last);
        off += (size_t)last;
        seen++;
    }
    if (c->count >= 0) {
        ck_assert_int_eq(last, 0);
        ck_assert_int_eq(seen, c->count);
    } else {
        ck_assert_int_eq(last, -1);
    }

    /* The block as the `hdrs` argument. */
    struct arg args[N_ARGS];
    base_args(args);
    args[A_HDRS].value = (struct spop_data)BIN(g, (size_t)len);
    struct mirror_args a;
    const char *bad;
    ck_assert_int_eq(extract(args, N_ARGS, &a, &bad),
                     c->count >= 0 ? MIRROR_ARGS_OK : MIRROR_ARGS_BAD_HEADERS);
    if (c->count < 0)
        ck_assert_str_eq(bad, "hdrs");
    guarded_free(g, (size_t)len);
}
END_TEST

/* Every strict prefix of a valid block is malformed; the whole block is not. */
START_TEST(test_hdrs_bin_prefixes)
{
    for (size_t cut = 0; cut < sizeof(good_hdrs); cut++) {
        uint8_t *g = guarded_copy(good_hdrs, cut);
        ck_assert_msg(hdrs_bin_count((struct spop_bytes){g, cut}) == -1, "prefix %zu", cut);
        guarded_free(g, cut);
    }
    uint8_t *g = guarded_copy(good_hdrs, sizeof(good_hdrs));
    ck_assert_int_eq(hdrs_bin_count((struct spop_bytes){g, sizeof(good_hdrs)}), 2);
    struct spop_bytes name, value;
    int n = hdrs_bin_next(g, sizeof(good_hdrs), &name, &value);
    ck_assert_int_eq(n, 15);
    assert_bytes(name, "host");
    assert_bytes(value, "a.example");
    int m = hdrs_bin_next(g + n, sizeof(good_hdrs) - (size_t)n, &name, &value);
    ck_assert_int_eq(m, 13);
    assert_bytes(name, "user-agent");
    assert_bytes(value, "t");
    ck_assert_int_eq(hdrs_bin_next(g + n + m, sizeof(good_hdrs) - (size_t)(n + m), &name, &value), 0);
    guarded_free(g, sizeof(good_hdrs));
}
END_TEST

START_TEST(test_find_message)
{
    /* `log` (no args), then `mirror` (one arg); then a list without `mirror`. */
    static const uint8_t two[] = {3, 'l', 'o', 'g', 0, 6, 'm', 'i', 'r', 'r', 'o', 'r', 1, 1, 'k', 0x11};
    struct spop_notify n = {.stream_id = 1, .frame_id = 1, .messages = two, .messages_len = sizeof(two)};
    struct spop_message m;
    ck_assert(spop_notify_find_message(&n, MIRROR_MESSAGE_NAME, &m));
    assert_bytes(m.name, "mirror");
    ck_assert_uint_eq(m.nb_args, 1);
    n.messages_len = 5;
    ck_assert(!spop_notify_find_message(&n, MIRROR_MESSAGE_NAME, &m));
    n.messages_len = 0;
    ck_assert(!spop_notify_find_message(&n, MIRROR_MESSAGE_NAME, &m));
}
END_TEST

START_TEST(test_status_str)
{
    ck_assert_str_eq(mirror_args_status_str(MIRROR_ARGS_OK), "ok");
    ck_assert_str_eq(mirror_args_status_str(MIRROR_ARGS_MISSING), "missing_arg");
    ck_assert_str_eq(mirror_args_status_str(MIRROR_ARGS_WRONG_TYPE), "wrong_arg_type");
    ck_assert_str_eq(mirror_args_status_str(MIRROR_ARGS_BAD_HEADERS), "bad_headers");
    ck_assert_str_eq(mirror_args_status_str((enum mirror_args_status)42), "unknown");
}
END_TEST

/* ---- the `mirror-response` message ---- */

START_TEST(test_response_args)
{
    struct arg args[] = {
        {"id", STR("uid-1")},
        {"status", {.type = SPOP_DATA_T_INT32, .u.i64 = 201}},
        {"hdrs", BIN(good_hdrs, sizeof(good_hdrs))},
        {"body", BIN((const uint8_t *)"{}", 2)},
        {"latency_ms", {.type = SPOP_DATA_T_UINT32, .u.u64 = 12}},
        {"extra", STR("ignored")},
    };
    struct built b;
    build(&b, args, 6);
    struct mirror_response_args a;
    const char *bad = NULL;
    ck_assert_int_eq(mirror_response_args_extract(&b.m, &a, &bad), MIRROR_ARGS_OK);
    assert_bytes(a.id, "uid-1");
    ck_assert_uint_eq(a.status, 201);
    ck_assert_uint_eq(a.hdrs.len, sizeof(good_hdrs));
    assert_bytes(a.body, "{}");
    ck_assert_uint_eq(a.latency_ms, 12);
    unbuild(&b);
    /* latency_ms is optional. */
    build(&b, args, 4);
    ck_assert_int_eq(mirror_response_args_extract(&b.m, &a, &bad), MIRROR_ARGS_OK);
    ck_assert_uint_eq(a.latency_ms, 0);
    unbuild(&b);
    /* Each required one missing or NULL; a status out of range; bad headers. */
    for (size_t i = 0; i < 4; i++) {
        struct arg broken[4];
        memcpy(broken, args, sizeof(broken));
        broken[i].name = NULL;
        build(&b, broken, 4);
        ck_assert_int_eq(mirror_response_args_extract(&b.m, &a, &bad), MIRROR_ARGS_MISSING);
        ck_assert_str_eq(bad, args[i].name);
        unbuild(&b);
        memcpy(broken, args, sizeof(broken));
        broken[i].value = (struct spop_data){.type = SPOP_DATA_T_NULL};
        build(&b, broken, 4);
        ck_assert_int_eq(mirror_response_args_extract(&b.m, &a, &bad), MIRROR_ARGS_MISSING);
        unbuild(&b);
    }
    struct arg odd[4];
    memcpy(odd, args, sizeof(odd));
    odd[1].value = (struct spop_data){.type = SPOP_DATA_T_INT32, .u.i64 = 1000};
    build(&b, odd, 4);
    ck_assert_int_eq(mirror_response_args_extract(&b.m, &a, &bad), MIRROR_ARGS_WRONG_TYPE);
    ck_assert_str_eq(bad, "status");
    unbuild(&b);
    memcpy(odd, args, sizeof(odd));
    odd[2].value = (struct spop_data)BIN(good_hdrs, sizeof(good_hdrs) - 1);
    build(&b, odd, 4);
    ck_assert_int_eq(mirror_response_args_extract(&b.m, &a, &bad), MIRROR_ARGS_BAD_HEADERS);
    unbuild(&b);
    memcpy(odd, args, sizeof(odd));
    odd[0].value = (struct spop_data)BIN((const uint8_t *)"x", 1);
    build(&b, odd, 4);
    ck_assert_int_eq(mirror_response_args_extract(&b.m, &a, &bad), MIRROR_ARGS_WRONG_TYPE);
    ck_assert_str_eq(bad, "id");
    unbuild(&b);
}
END_TEST

/* ---- body slice messages ---- */

enum { P_ID, P_OFFSET, P_SIZE, P_PART, N_PART_ARGS };

static const char *const part_names[N_PART_ARGS] = {"id", "offset", "size", "part"};

static void base_part_args(struct arg *a)
{
    static const uint8_t bytes[] = {0, 1, 2, 0xff};
    static const struct arg base[N_PART_ARGS] = {
        [P_ID] = {"id", STR("uid-7")},
        [P_OFFSET] = {"offset", {.type = SPOP_DATA_T_INT64, .u.i64 = 4096}},
        [P_SIZE] = {"size", {.type = SPOP_DATA_T_INT64, .u.i64 = 20000}},
        [P_PART] = {"part", BIN(bytes, sizeof(bytes))},
    };
    memcpy(a, base, sizeof(base));
}

static enum mirror_args_status extract_part(const struct arg *args, size_t n, struct body_part_args *out,
                                            const char **bad)
{
    return extract_any(args, n, NULL, out, bad);
}

START_TEST(test_part_all_args)
{
    struct arg args[N_PART_ARGS + 1];
    base_part_args(args);
    args[N_PART_ARGS] = (struct arg){"body", STR("ignored")};
    struct built b;
    build(&b, args, N_PART_ARGS + 1);
    struct body_part_args a;
    const char *bad = NULL;
    ck_assert_int_eq(body_part_args_extract(&b.m, &a, &bad), MIRROR_ARGS_OK);
    ck_assert_ptr_null(bad);
    assert_bytes(a.id, "uid-7");
    ck_assert_uint_eq(a.offset, 4096);
    ck_assert_uint_eq(a.size, 20000);
    ck_assert_uint_eq(a.part.len, 4);
    ck_assert_uint_eq(a.part.ptr[3], 0xff);
    ck_assert(a.part.ptr >= b.g && a.part.ptr + a.part.len <= b.g + b.len);
    unbuild(&b);
}
END_TEST

/* Each argument absent (case 0), NULL (1) or, for id and part, empty (2). */
START_TEST(test_part_missing)
{
    int arg = _i / 3, how = _i % 3;
    struct arg args[N_PART_ARGS];
    base_part_args(args);
    if (how == 0)
        args[arg].name = NULL;
    else if (how == 1)
        args[arg].value = (struct spop_data){.type = SPOP_DATA_T_NULL};
    else if (arg == P_ID)
        args[arg].value = (struct spop_data)STR("");
    else if (arg == P_PART)
        args[arg].value = (struct spop_data)BIN((const uint8_t *)"", 0);
    else
        return; /* an integer has no empty form */
    struct body_part_args a;
    const char *bad;
    ck_assert_int_eq(extract_part(args, N_PART_ARGS, &a, &bad), MIRROR_ARGS_MISSING);
    ck_assert_str_eq(bad, part_names[arg]);
}
END_TEST

static const struct type_case part_type_cases[] = {
    {P_ID, BIN((const uint8_t *)"x", 1), MIRROR_ARGS_WRONG_TYPE},
    {P_ID, {.type = SPOP_DATA_T_INT32, .u.i64 = 1}, MIRROR_ARGS_WRONG_TYPE},
    {P_OFFSET, STR("4096"), MIRROR_ARGS_WRONG_TYPE},
    {P_OFFSET, {.type = SPOP_DATA_T_INT64, .u.i64 = -1}, MIRROR_ARGS_WRONG_TYPE},
    {P_SIZE, {.type = SPOP_DATA_T_BOOL, .u.boolean = true}, MIRROR_ARGS_WRONG_TYPE},
    {P_SIZE, {.type = SPOP_DATA_T_INT64, .u.i64 = -5}, MIRROR_ARGS_WRONG_TYPE},
    {P_PART, {.type = SPOP_DATA_T_IPV4, .u.ipv4 = {1, 2, 3, 4}}, MIRROR_ARGS_WRONG_TYPE},
    {P_PART, STR("text"), MIRROR_ARGS_OK},
    {P_OFFSET, {.type = SPOP_DATA_T_UINT32, .u.u64 = 0}, MIRROR_ARGS_OK},
    {P_SIZE, {.type = SPOP_DATA_T_UINT64, .u.u64 = 1u << 20}, MIRROR_ARGS_OK},
};
#define N_PART_TYPE_CASES (sizeof(part_type_cases) / sizeof(part_type_cases[0]))

START_TEST(test_part_types)
{
    const struct type_case *c = &part_type_cases[_i];
    struct arg args[N_PART_ARGS];
    base_part_args(args);
    args[c->arg].value = c->value;
    struct body_part_args a;
    const char *bad;
    ck_assert_int_eq(extract_part(args, N_PART_ARGS, &a, &bad), c->want);
    if (c->want != MIRROR_ARGS_OK)
        ck_assert_str_eq(bad, part_names[c->arg]);
}
END_TEST

Suite *mirror_args_suite(void);

/* mirror_args_suite: the Check suite for mirror_args.h. */
Suite *mirror_args_suite(void)
{
    Suite *s = suite_create("mirror_args");

    TCase *tc = tcase_create("captured");
    tcase_add_loop_test(tc, test_captured_notify, 0, (int)N_CAPTURED);
    suite_add_tcase(s, tc);

    tc = tcase_create("contract");
    tcase_add_test(tc, test_all_args);
    tcase_add_loop_test(tc, test_required_missing, 0, (int)N_REQUIRED);
    tcase_add_loop_test(tc, test_required_null, 0, (int)N_REQUIRED);
    tcase_add_loop_test(tc, test_optional_absent, 0, 2);
    tcase_add_test(tc, test_unknown_args_ignored);
    tcase_add_loop_test(tc, test_types, 0, (int)N_TYPE_CASES);
    tcase_add_test(tc, test_find_message);
    tcase_add_test(tc, test_status_str);
    tcase_add_test(tc, test_response_args);
    suite_add_tcase(s, tc);

    tc = tcase_create("body_part");
    tcase_add_test(tc, test_part_all_args);
    tcase_add_loop_test(tc, test_part_missing, 0, N_PART_ARGS * 3);
    tcase_add_loop_test(tc, test_part_types, 0, (int)N_PART_TYPE_CASES);
    suite_add_tcase(s, tc);

    tc = tcase_create("hdrs_bin");
    tcase_add_loop_test(tc, test_hdrs_bin_cases, 0, (int)N_HDRS_CASES);
    tcase_add_test(tc, test_hdrs_bin_prefixes);
    suite_add_tcase(s, tc);
    return s;
}
