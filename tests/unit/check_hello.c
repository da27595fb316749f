/* Unit tests for HAPROXY-HELLO parsing (spop_hello.h): the captured HELLOs,
 * every error status, version lists and frame-size negotiation. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spop/spop_data.h"
#include "spop/spop_frame.h"
#include "spop/spop_hello.h"
#include "spop/spop_proto.h"
#include "test_util.h"

/* A captured HELLO and what spop_hello_parse() must find in it. */
struct real_hello {
    const char *file;
    bool healthcheck;
    const char *capabilities;
    const char *engine_id;
};

static const struct real_hello real_hellos[] = {
    {"haproxy-2.6/001-haproxy-hello-healthcheck.hex", true, "", ""},
    {"haproxy-2.6/002-haproxy-hello.hex", false, "pipelining,async", "ff4e59c4-dd20-4bcb-8586-3248e817d37e"},
    {"haproxy-2.6/004-haproxy-hello.hex", false, "pipelining,async", "af8747fa-eba7-450f-aeae-b638e77ca7ba"},
    {"haproxy-3.4/001-haproxy-hello-healthcheck.hex", true, "", ""},
    {"haproxy-3.4/002-haproxy-hello.hex", false, "pipelining", "ece27064-927e-4331-bdfb-7bc97379f9be"},
};
#define N_REAL (sizeof(real_hellos) / sizeof(real_hellos[0]))

START_TEST(test_real_hello)
{
    const struct real_hello *r = &real_hellos[_i];
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, r->file);
    uint8_t *raw = NULL;
    long n = read_hex_file(path, &raw);
    ck_assert_msg(n > 0, "cannot read %s", path);
    uint8_t *g = guarded_copy(raw, (size_t)n);
    free(raw);

    struct spop_frame f;
    ck_assert_int_eq(spop_frame_decode(g, (size_t)n, 16380, &f), n);
    ck_assert_uint_eq(f.type, SPOP_FRM_T_HAPROXY_HELLO);
    struct spop_hello h;
    ck_assert_int_eq(spop_hello_parse(f.payload, f.payload_len, &h), 0);
    ck_assert_uint_eq(h.max_frame_size, 16380);
    ck_assert(h.healthcheck == r->healthcheck);
    ck_assert(spop_bytes_eq(h.versions, "2.0"));
    ck_assert(spop_bytes_eq(h.capabilities, r->capabilities));
    ck_assert(spop_bytes_eq(h.engine_id, r->engine_id));
    ck_assert_uint_eq(spop_hello_negotiate_frame_size(16380, h.max_frame_size), 16380);
    guarded_free(g, (size_t)n);
}
END_TEST

/* No strict prefix of a real HELLO payload parses as the whole HELLO: it
 * fails, or (cut right before the optional last item) it lacks that item. */
START_TEST(test_real_hello_truncated)
{
    const struct real_hello *r = &real_hellos[_i];
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, r->file);
    uint8_t *raw = NULL;
    long n = read_hex_file(path, &raw);
    ck_assert_msg(n > 11, "cannot read %s", path);
    const uint8_t *payload = raw + 11;
    size_t plen = (size_t)n - 11;
    for (size_t k = 0; k < plen; k++) {
        uint8_t *g = guarded_copy(payload, k);
        struct spop_hello h;
        int st = spop_hello_parse(g, k, &h);
        if (st == 0)
            ck_assert_msg(r->healthcheck ? !h.healthcheck : h.engine_id.len == 0,
                          "%s: payload cut to %zu bytes parsed whole", r->file, k);
        guarded_free(g, k);
    }
    free(raw);
}
END_TEST

/* Test HELLOs are lists of (key, typed value); a NULL key ends the list. */
struct kv_def {
    const char *key;
    struct spop_data value;
};

#define V_STR(s)                                                                                             \
    {                                                                                                        \
        .type = SPOP_DATA_T_STR, .u.bytes = {(const uint8_t *)(s), sizeof(s) - 1 }                           \
    }
#define V_BIN(s)                                                                                             \
    {                                                                                                        \
        .type = SPOP_DATA_T_BIN, .u.bytes = {(const uint8_t *)(s), sizeof(s) - 1 }                           \
    }
#define V_U32(v)                                                                                             \
    {                                                                                                        \
        .type = SPOP_DATA_T_UINT32, .u.u64 = (v)                                                             \
    }
#define V_U64(v)                                                                                             \
    {                                                                                                        \
        .type = SPOP_DATA_T_UINT64, .u.u64 = (v)                                                             \
    }
#define V_I32(v)                                                                                             \
    {                                                                                                        \
        .type = SPOP_DATA_T_INT32, .u.i64 = (v)                                                              \
    }
#define V_I64(v)                                                                                             \
    {                                                                                                        \
        .type = SPOP_DATA_T_INT64, .u.i64 = (v)                                                              \
    }
#define V_BOOL(b)                                                                                            \
    {                                                                                                        \
        .type = SPOP_DATA_T_BOOL, .u.boolean = (b)                                                           \
    }
#define V_NULL                                                                                               \
    {                                                                                                        \
        .type = SPOP_DATA_T_NULL                                                                             \
    }

#define VSN(s)                                                                                               \
    {                                                                                                        \
        "supported-versions", V_STR(s)                                                                       \
    }
#define SIZE(v)                                                                                              \
    {                                                                                                        \
        "max-frame-size", V_U32(v)                                                                           \
    }
#define CAPS(s)                                                                                              \
    {                                                                                                        \
        "capabilities", V_STR(s)                                                                             \
    }

struct hello_case {
    const char *label;
    struct kv_def kv[7];
    int status;
};

static const struct hello_case cases[] = {
    {"minimal", {VSN("2.0"), SIZE(16380), CAPS("pipelining")}, 0},
    {"key order free", {CAPS(""), SIZE(16380), VSN("2.0")}, 0},
    {"empty payload", {{NULL, V_NULL}}, SPOP_ERR_NO_VSN},
    {"no versions", {SIZE(16380), CAPS("pipelining")}, SPOP_ERR_NO_VSN},
    {"no max-frame-size", {VSN("2.0"), CAPS("pipelining")}, SPOP_ERR_NO_FRAME_SIZE},
    {"no capabilities", {VSN("2.0"), SIZE(16380)}, SPOP_ERR_NO_CAP},
    {"version 1.0 only", {VSN("1.0"), SIZE(16380), CAPS("")}, SPOP_ERR_BAD_VSN},
    {"version 3.0 only", {VSN("3.0"), SIZE(16380), CAPS("")}, SPOP_ERR_BAD_VSN},
    {"version 20.0", {VSN("20.0"), SIZE(16380), CAPS("")}, SPOP_ERR_BAD_VSN},
    {"version without minor", {VSN("2"), SIZE(16380), CAPS("")}, SPOP_ERR_BAD_VSN},
    {"version 2.x", {VSN("2.x"), SIZE(16380), CAPS("")}, SPOP_ERR_BAD_VSN},
    {"empty version", {VSN(""), SIZE(16380), CAPS("")}, SPOP_ERR_BAD_VSN},
    {"versions 2.0, 1.5", {VSN("2.0, 1.5"), SIZE(16380), CAPS("")}, 0},
    {"versions 1.5,2.0", {VSN("1.5,2.0"), SIZE(16380), CAPS("")}, 0},
    {"version ' 2.1 '", {VSN(" 2.1 "), SIZE(16380), CAPS("")}, 0},
    {"max-frame-size 100", {VSN("2.0"), SIZE(100), CAPS("")}, SPOP_ERR_BAD_FRAME_SIZE},
    {"max-frame-size 255", {VSN("2.0"), SIZE(255), CAPS("")}, SPOP_ERR_BAD_FRAME_SIZE},
    {"max-frame-size 0", {VSN("2.0"), SIZE(0), CAPS("")}, SPOP_ERR_BAD_FRAME_SIZE},
    {"max-frame-size 256", {VSN("2.0"), SIZE(256), CAPS("")}, 0},
    {"max-frame-size int32", {VSN("2.0"), {"max-frame-size", V_I32(16380)}, CAPS("")}, 0},
    {"max-frame-size int64", {VSN("2.0"), {"max-frame-size", V_I64(16380)}, CAPS("")}, 0},
    {"max-frame-size uint64", {VSN("2.0"), {"max-frame-size", V_U64(16380)}, CAPS("")}, 0},
    {"max-frame-size huge", {VSN("2.0"), {"max-frame-size", V_U64(1ull << 40)}, CAPS("")}, 0},
    {"versions as uint", {{"supported-versions", V_U32(2)}, SIZE(16380), CAPS("")}, SPOP_ERR_INVALID},
    {"versions as binary", {{"supported-versions", V_BIN("2.0")}, SIZE(16380), CAPS("")}, SPOP_ERR_INVALID},
    {"max-frame-size as string",
     {VSN("2.0"), {"max-frame-size", V_STR("16380")}, CAPS("")},
     SPOP_ERR_INVALID},
    {"max-frame-size negative", {VSN("2.0"), {"max-frame-size", V_I64(-1)}, CAPS("")}, SPOP_ERR_INVALID},
    {"max-frame-size null", {VSN("2.0"), {"max-frame-size", V_NULL}, CAPS("")}, SPOP_ERR_INVALID},
    {"capabilities as bool", {VSN("2.0"), SIZE(16380), {"capabilities", V_BOOL(true)}}, SPOP_ERR_INVALID},
    {"healthcheck as string",
     {VSN("2.0"), SIZE(16380), CAPS(""), {"healthcheck", V_STR("true")}},
     SPOP_ERR_INVALID},
    {"unknown keys ignored",
     {{"x-future", V_STR("abc")},
      VSN("2.0"),
      {"zzz", V_U64(UINT64_MAX)},
      SIZE(16380),
      {"", V_NULL},
      CAPS("pipelining,async"),
      {"blob", V_BIN("\x00\x01")}},
     0},
    {"healthcheck", {VSN("2.0"), SIZE(16380), CAPS(""), {"healthcheck", V_BOOL(true)}}, 0},
    {"engine-id", {VSN("2.0"), SIZE(16380), CAPS("pipelining"), {"engine-id", V_STR("abc-123")}}, 0},
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* Encodes the KV list of <c> with the spop_writer API; returns its length. */
static size_t build_hello(const struct hello_case *c, uint8_t *out, size_t cap)
{
    struct spop_writer w;
    spop_writer_init(&w, out, cap);
    for (size_t i = 0; i < sizeof(c->kv) / sizeof(c->kv[0]) && c->kv[i].key; i++) {
        spop_put_name(&w, c->kv[i].key, strlen(c->kv[i].key));
        spop_put_data(&w, &c->kv[i].value);
    }
    ck_assert(!w.failed);
    return w.len;
}

/* Finds the value of <key> in the case's list, or NULL. */
static const struct spop_data *find_kv(const struct hello_case *c, const char *key)
{
    for (size_t i = 0; i < sizeof(c->kv) / sizeof(c->kv[0]) && c->kv[i].key; i++)
        if (strcmp(c->kv[i].key, key) == 0)
            return &c->kv[i].value;
    return NULL;
}

static void assert_same_bytes(struct spop_bytes got, const struct spop_data *want)
{
    size_t len = want ? want->u.bytes.len : 0;
    ck_assert_uint_eq(got.len, len);
    if (len)
        ck_assert_mem_eq(got.ptr, want->u.bytes.ptr, len);
}

START_TEST(test_hello_cases)
{
    const struct hello_case *c = &cases[_i];
    uint8_t buf[512];
    size_t len = build_hello(c, buf, sizeof(buf));
    uint8_t *g = guarded_copy(buf, len);
    struct spop_hello h;
    int st = spop_hello_parse(g, len, &h);
    ck_assert_msg(st == c->status, "%s: status %d, expected %d", c->label, st, c->status);
    if (st == 0) {
        const struct spop_data *hc = find_kv(c, "healthcheck");
        ck_assert(h.healthcheck == (hc != NULL && hc->u.boolean));
        assert_same_bytes(h.versions, find_kv(c, "supported-versions"));
        assert_same_bytes(h.capabilities, find_kv(c, "capabilities"));
        assert_same_bytes(h.engine_id, find_kv(c, "engine-id"));
        uint64_t size;
        ck_assert(spop_data_as_uint(find_kv(c, "max-frame-size"), &size));
        if (size <= UINT32_MAX)
            ck_assert_uint_eq(h.max_frame_size, size);
        ck_assert_uint_eq(spop_hello_negotiate_frame_size(16380, h.max_frame_size),
                          size < 16380 ? size : 16380);
    }
    guarded_free(g, len);
}
END_TEST

/* A list that ends inside an item is malformed, whatever keys came before. */
START_TEST(test_hello_malformed_list)
{
    const struct hello_case *c = &cases[0];
    uint8_t buf[256];
    size_t len = build_hello(c, buf, sizeof(buf));
    buf[len++] = 0x05; /* a name of 5 bytes, only 2 present */
    buf[len++] = 'a';
    buf[len++] = 'b';
    uint8_t *g = guarded_copy(buf, len);
    struct spop_hello h;
    ck_assert_int_eq(spop_hello_parse(g, len, &h), SPOP_ERR_INVALID);
    guarded_free(g, len);

    /* An unknown typed-data type in an otherwise valid list. */
    len = build_hello(c, buf, sizeof(buf));
    static const uint8_t bad[] = {0x03, 'k', 'e', 'y', 0x0e};
    memcpy(buf + len, bad, sizeof(bad));
    len += sizeof(bad);
    g = guarded_copy(buf, len);
    ck_assert_int_eq(spop_hello_parse(g, len, &h), SPOP_ERR_INVALID);
    guarded_free(g, len);
}
END_TEST

START_TEST(test_versions_ok)
{
    static const struct {
        const char *list;
        bool ok;
    } v[] = {
        {"2.0", true},   {"2.1", true},   {" 2.0 ", true}, {"1.0,2.0", true}, {"2.0, 1.5", true},
        {"1.0", false},  {"", false},     {",", false},    {"2", false},      {"2.", false},
        {".0", false},   {"12.0", false}, {"2.0a", false}, {"3.0", false},    {"1.0, 3.2", false},
        {"2 .0", false}, {"22.0", false},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t n = strlen(v[i].list);
        uint8_t *g = guarded_copy((const uint8_t *)v[i].list, n);
        struct spop_bytes b = {g, n};
        ck_assert_msg(spop_hello_versions_ok(b) == v[i].ok, "\"%s\"", v[i].list);
        guarded_free(g, n);
    }
}
END_TEST

START_TEST(test_negotiate_frame_size)
{
    ck_assert_uint_eq(spop_hello_negotiate_frame_size(16380, 16380), 16380);
    ck_assert_uint_eq(spop_hello_negotiate_frame_size(16380, 256), 256);
    ck_assert_uint_eq(spop_hello_negotiate_frame_size(16380, 65532), 16380);
    ck_assert_uint_eq(spop_hello_negotiate_frame_size(1024, 16380), 1024);
    ck_assert_uint_eq(spop_hello_negotiate_frame_size(UINT32_MAX, 16380), 16380);
    ck_assert_uint_eq(spop_hello_negotiate_frame_size(16380, UINT32_MAX), 16380);
}
END_TEST

Suite *hello_suite(void);

/* hello_suite: the Check suite for spop_hello.h. */
Suite *hello_suite(void)
{
    Suite *s = suite_create("hello");

    TCase *tc = tcase_create("captured");
    tcase_add_loop_test(tc, test_real_hello, 0, (int)N_REAL);
    tcase_add_loop_test(tc, test_real_hello_truncated, 0, (int)N_REAL);
    suite_add_tcase(s, tc);

    tc = tcase_create("status");
    tcase_add_loop_test(tc, test_hello_cases, 0, (int)N_CASES);
    tcase_add_test(tc, test_hello_malformed_list);
    suite_add_tcase(s, tc);

    tc = tcase_create("helpers");
    tcase_add_test(tc, test_versions_ok);
    tcase_add_test(tc, test_negotiate_frame_size);
    suite_add_tcase(s, tc);
    return s;
}
