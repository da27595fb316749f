/* Unit tests over every frame captured from HAProxy 2.6 and 3.4
 * (tests/fixtures/spop): full decoding, the values listed in the fixtures'
 * README, and every truncation of the frame and of its payload. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spop/spop_data.h"
#include "spop/spop_frame.h"
#include "spop/spop_proto.h"
#include "test_util.h"

#define N_FIXTURES   15
#define MAX_FIXTURES 64
#define FIXTURE_NAME 96
#define MAX_FRAME    16380

static const char *const fixture_dirs[] = {"haproxy-2.6", "haproxy-3.4"};

/* The .hex files found on disk, as "<dir>/<file>", sorted. */
struct fixture_list {
    size_t n;
    char name[MAX_FIXTURES][FIXTURE_NAME];
};

static int cmp_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Enumerates the fixture directories into *l. */
static void list_fixtures(struct fixture_list *l)
{
    l->n = 0;
    for (size_t d = 0; d < sizeof(fixture_dirs) / sizeof(fixture_dirs[0]); d++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, fixture_dirs[d]);
        DIR *dir = opendir(path);
        ck_assert_msg(dir != NULL, "cannot open %s", path);
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (!ends_with(e->d_name, ".hex"))
                continue;
            ck_assert_uint_lt(l->n, MAX_FIXTURES);
            int w = snprintf(l->name[l->n], FIXTURE_NAME, "%s/%s", fixture_dirs[d], e->d_name);
            ck_assert(w > 0 && w < FIXTURE_NAME);
            l->n++;
        }
        closedir(dir);
    }
    qsort(l->name, l->n, FIXTURE_NAME, cmp_names);
}

/* What the fixtures' README says about each NOTIFY. */
struct notify_expect {
    const char *file;
    uint32_t length;
    uint64_t sid;
    const char *method, *path, *host, *ver;
    size_t hdrs_len, body_len;
    uint64_t body_size;
    const char *id;
};

static const struct notify_expect notifies[] = {
    {"haproxy-2.6/003-notify.hex", 214, 0, "GET", "/headers?x=1", "httpbin:8000", "1.1", 54, 0, 0,
     "7F000001:E740_7F000001:47AE_6B08FBF3_0000:6096"},
    {"haproxy-2.6/005-notify.hex", 277, 2, "POST", "/anything", "httpbin:8000", "1.1", 102, 17, 17,
     "7F000001:E744_7F000001:47AE_6B08FBF3_0002:6096"},
    {"haproxy-2.6/006-notify.hex", 15380, 4, "POST", "/anything/big", "httpbin:8000", "1.1", 122, 15092,
     20000, "7F000001:E746_7F000001:47AE_6B08FBF3_0004:6096"},
    {"haproxy-2.6/007-notify.hex", 220, 5, "GET", "/h2/path?q=2", "127.0.0.1:18351", "2.0", 57, 0, 0,
     "7F000001:E92A_7F000001:47AF_6B08FBF3_0005:6096"},
    {"haproxy-2.6/008-notify.hex", 305, 6, "POST", "/anything/chunked", "httpbin:8000", "1.1", 127, 12, 12,
     "7F000001:E750_7F000001:47AE_6B08FBF3_0006:6096"},
    {"haproxy-3.4/003-notify.hex", 214, 1, "GET", "/headers?x=1", "httpbin:8000", "1.1", 54, 0, 0,
     "7F000001:D652_7F000001:47AE_6B08FBF6_0000:60D7"},
    {"haproxy-3.4/004-notify.hex", 277, 3, "POST", "/anything", "httpbin:8000", "1.1", 102, 17, 17,
     "7F000001:D660_7F000001:47AE_6B08FBF6_0002:60D7"},
    {"haproxy-3.4/005-notify.hex", 15388, 5, "POST", "/anything/big", "httpbin:8000", "1.1", 122, 15100,
     20000, "7F000001:D66E_7F000001:47AE_6B08FBF6_0004:60D7"},
    {"haproxy-3.4/006-notify.hex", 220, 7, "GET", "/h2/path?q=2", "127.0.0.1:18351", "2.0", 57, 0, 0,
     "7F000001:9B38_7F000001:47AF_6B08FBF6_0006:60D7"},
    {"haproxy-3.4/007-notify.hex", 305, 9, "POST", "/anything/chunked", "httpbin:8000", "1.1", 127, 12, 12,
     "7F000001:D67A_7F000001:47AE_6B08FBF6_0008:60D7"},
};
#define N_NOTIFIES (sizeof(notifies) / sizeof(notifies[0]))

/* The arguments of the "mirror" message, in the order HAProxy sends them. */
static const struct {
    const char *name;
    uint8_t type;
} mirror_args[] = {
    {"method", SPOP_DATA_T_STR},      {"path", SPOP_DATA_T_STR}, {"host", SPOP_DATA_T_STR},
    {"ver", SPOP_DATA_T_STR},         {"hdrs", SPOP_DATA_T_BIN}, {"body", SPOP_DATA_T_BIN},
    {"body_size", SPOP_DATA_T_INT64}, {"id", SPOP_DATA_T_STR},   {"src", SPOP_DATA_T_IPV4},
};
#define N_MIRROR_ARGS (sizeof(mirror_args) / sizeof(mirror_args[0]))

static const struct notify_expect *find_notify(const char *file)
{
    for (size_t i = 0; i < N_NOTIFIES; i++)
        if (strcmp(notifies[i].file, file) == 0)
            return &notifies[i];
    return NULL;
}

static bool is_hello(const char *file)
{
    return strstr(file, "-haproxy-hello") != NULL;
}

/* One fixture, loaded: the frame in a guarded buffer and its expectations. */
struct fixture {
    char file[FIXTURE_NAME];
    uint8_t *frame; /* guarded */
    size_t len;
    const struct notify_expect *notify; /* NULL for a HELLO */
};

/* Loads the <i>-th fixture found on disk. */
static void load_fixture(size_t i, struct fixture *fx)
{
    struct fixture_list *l = malloc(sizeof(*l));
    list_fixtures(l);
    ck_assert_uint_eq(l->n, N_FIXTURES);
    ck_assert_uint_lt(i, l->n);
    memcpy(fx->file, l->name[i], FIXTURE_NAME);
    free(l);

    char path[256];
    snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, fx->file);
    uint8_t *raw = NULL;
    long n = read_hex_file(path, &raw);
    ck_assert_msg(n > 0, "cannot read %s", path);
    fx->len = (size_t)n;
    fx->frame = guarded_copy(raw, fx->len);
    free(raw);
    fx->notify = find_notify(fx->file);
    ck_assert_msg(fx->notify != NULL || is_hello(fx->file), "%s: no expectation for this fixture", fx->file);
}

static void unload_fixture(struct fixture *fx)
{
    guarded_free(fx->frame, fx->len);
}

/* Decodes the whole frame; checks the header against the expectations. */
static void decode_fixture(const struct fixture *fx, struct spop_frame *f)
{
    ck_assert_int_eq(spop_frame_decode(fx->frame, fx->len, MAX_FRAME, f), (ssize_t)fx->len);
    ck_assert_uint_eq(f->length, fx->len - 4);
    ck_assert_uint_eq(f->flags, SPOP_FRM_FL_FIN);
    ck_assert_ptr_eq(f->payload + f->payload_len, fx->frame + fx->len);
    if (fx->notify) {
        ck_assert_uint_eq(f->type, SPOP_FRM_T_HAPROXY_NOTIFY);
        ck_assert_uint_eq(f->length, fx->notify->length);
        ck_assert_uint_eq(f->stream_id, fx->notify->sid);
        ck_assert_uint_eq(f->frame_id, 1);
    } else {
        ck_assert_uint_eq(f->type, SPOP_FRM_T_HAPROXY_HELLO);
        ck_assert_uint_eq(f->stream_id, 0);
        ck_assert_uint_eq(f->frame_id, 0);
    }
}

/* Walks <len> bytes of a payload with the iterator for <type>. Returns the
 * number of items decoded; *last gets the return that stopped the walk. */
static size_t walk_payload(uint8_t type, const uint8_t *p, size_t len, ssize_t *last)
{
    size_t off = 0, items = 0;
    for (size_t step = 0; step <= len; step++) {
        ssize_t r;
        if (type == SPOP_FRM_T_HAPROXY_NOTIFY) {
            struct spop_message m;
            r = spop_message_next(p + off, len - off, &m);
        } else {
            struct spop_kv kv;
            r = spop_kv_next(p + off, len - off, &kv);
        }
        if (r <= 0) {
            *last = r;
            return items;
        }
        ck_assert_uint_le((size_t)r, len - off);
        off += (size_t)r;
        items++;
    }
    ck_abort_msg("walk did not end");
    return items;
}

/* Counts the KV items of <len> bytes (message arguments); *last as above. */
static size_t walk_kv(const uint8_t *p, size_t len, ssize_t *last)
{
    return walk_payload(SPOP_FRM_T_HAPROXY_HELLO, p, len, last);
}

static void check_hello_payload(const struct fixture *fx, const struct spop_frame *f)
{
    bool hc = strstr(fx->file, "healthcheck") != NULL;
    bool seen_vsn = false, seen_size = false, seen_cap = false, seen_hc = false, seen_engine = false;
    size_t off = 0, items = 0;
    while (off < f->payload_len) {
        struct spop_kv kv;
        ssize_t n = spop_kv_next(f->payload + off, f->payload_len - off, &kv);
        ck_assert_int_gt(n, 0);
        off += (size_t)n;
        items++;
        if (spop_bytes_eq(kv.name, "supported-versions")) {
            ck_assert_uint_eq(kv.value.type, SPOP_DATA_T_STR);
            ck_assert(spop_bytes_eq(kv.value.u.bytes, "2.0"));
            seen_vsn = true;
        } else if (spop_bytes_eq(kv.name, "max-frame-size")) {
            ck_assert_uint_eq(kv.value.type, SPOP_DATA_T_UINT32);
            ck_assert_uint_eq(kv.value.u.u64, 16380);
            seen_size = true;
        } else if (spop_bytes_eq(kv.name, "capabilities")) {
            ck_assert_uint_eq(kv.value.type, SPOP_DATA_T_STR);
            seen_cap = true;
        } else if (spop_bytes_eq(kv.name, "healthcheck")) {
            ck_assert_uint_eq(kv.value.type, SPOP_DATA_T_BOOL);
            ck_assert(kv.value.u.boolean);
            seen_hc = true;
        } else if (spop_bytes_eq(kv.name, "engine-id")) {
            ck_assert_uint_eq(kv.value.type, SPOP_DATA_T_STR);
            ck_assert_uint_eq(kv.value.u.bytes.len, 36); /* a UUID */
            seen_engine = true;
        } else {
            ck_abort_msg("%s: unexpected key", fx->file);
        }
    }
    ck_assert_uint_eq(off, f->payload_len);
    ck_assert_uint_eq(items, 4);
    ck_assert(seen_vsn && seen_size && seen_cap);
    ck_assert(seen_hc == hc);
    ck_assert(seen_engine == !hc);
    if (hc)
        ck_assert_uint_eq(f->length, 78);
}

/* Checks a req.hdrs_bin block: (name, value) pairs ending with two empty
 * strings exactly at the end; the host header matches <host>, and a
 * content-length, when present, matches <body_size>. */
static void check_hdrs_bin(struct spop_bytes hdrs, const char *host, uint64_t body_size)
{
    size_t off = 0;
    bool seen_host = false;
    for (size_t step = 0; step < hdrs.len; step++) {
        struct spop_bytes name, value;
        ssize_t n = spop_bytes_decode(hdrs.ptr + off, hdrs.len - off, &name);
        ck_assert_int_gt(n, 0);
        off += (size_t)n;
        n = spop_bytes_decode(hdrs.ptr + off, hdrs.len - off, &value);
        ck_assert_int_gt(n, 0);
        off += (size_t)n;
        if (name.len == 0) {
            ck_assert_uint_eq(value.len, 0);
            ck_assert_uint_eq(off, hdrs.len);
            ck_assert(seen_host);
            return;
        }
        if (spop_bytes_eq(name, "host")) {
            ck_assert(spop_bytes_eq(value, host));
            seen_host = true;
        } else if (spop_bytes_eq(name, "content-length")) {
            char want[24];
            snprintf(want, sizeof(want), "%llu", (unsigned long long)body_size);
            ck_assert(spop_bytes_eq(value, want));
        }
    }
    ck_abort_msg("hdrs_bin without its end marker");
}

static void check_notify_payload(const struct fixture *fx, const struct spop_frame *f)
{
    const struct notify_expect *e = fx->notify;
    struct spop_message m;
    ck_assert_int_eq(spop_message_next(f->payload, f->payload_len, &m), (ssize_t)f->payload_len);
    ck_assert(spop_bytes_eq(m.name, "mirror"));
    ck_assert_uint_eq(m.nb_args, N_MIRROR_ARGS);

    struct spop_kv args[N_MIRROR_ARGS];
    size_t off = 0;
    for (size_t i = 0; i < N_MIRROR_ARGS; i++) {
        ssize_t n = spop_kv_next(m.args + off, m.args_len - off, &args[i]);
        ck_assert_int_gt(n, 0);
        ck_assert_msg(spop_bytes_eq(args[i].name, mirror_args[i].name), "%s: argument %zu", fx->file, i);
        ck_assert_uint_eq(args[i].value.type, mirror_args[i].type);
        off += (size_t)n;
    }
    ck_assert_uint_eq(off, m.args_len);

    ck_assert(spop_bytes_eq(args[0].value.u.bytes, e->method));
    ck_assert(spop_bytes_eq(args[1].value.u.bytes, e->path));
    ck_assert(spop_bytes_eq(args[2].value.u.bytes, e->host));
    ck_assert(spop_bytes_eq(args[3].value.u.bytes, e->ver));
    ck_assert_uint_eq(args[4].value.u.bytes.len, e->hdrs_len);
    ck_assert_uint_eq(args[5].value.u.bytes.len, e->body_len);
    uint64_t body_size;
    ck_assert(spop_data_as_uint(&args[6].value, &body_size));
    ck_assert_uint_eq(body_size, e->body_size);
    ck_assert(spop_bytes_eq(args[7].value.u.bytes, e->id));
    static const uint8_t localhost[4] = {127, 0, 0, 1};
    ck_assert_mem_eq(args[8].value.u.ipv4, localhost, 4);
    check_hdrs_bin(args[4].value.u.bytes, e->host, e->body_size);
}

START_TEST(test_enumerate)
{
    struct fixture_list *l = malloc(sizeof(*l));
    list_fixtures(l);
    ck_assert_uint_eq(l->n, N_FIXTURES);
    size_t hellos = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (is_hello(l->name[i]))
            hellos++;
        else
            ck_assert_msg(find_notify(l->name[i]) != NULL, "%s: not in the NOTIFY table", l->name[i]);
    }
    ck_assert_uint_eq(hellos, N_FIXTURES - N_NOTIFIES);
    for (size_t i = 0; i < N_NOTIFIES; i++) {
        bool found = false;
        for (size_t j = 0; j < l->n && !found; j++)
            found = strcmp(l->name[j], notifies[i].file) == 0;
        ck_assert_msg(found, "%s: missing", notifies[i].file);
    }
    free(l);
}
END_TEST

START_TEST(test_decode)
{
    struct fixture fx;
    load_fixture((size_t)_i, &fx);
    struct spop_frame f;
    decode_fixture(&fx, &f);
    if (fx.notify)
        check_notify_payload(&fx, &f);
    else
        check_hello_payload(&fx, &f);
    unload_fixture(&fx);
}
END_TEST

START_TEST(test_truncated_frame)
{
    struct fixture fx;
    load_fixture((size_t)_i, &fx);
    const uint8_t *src = fx.frame;
    for (size_t k = 0; k < fx.len; k++) {
        uint8_t *g = guarded_copy(src, k);
        struct spop_frame f;
        ssize_t r = spop_frame_decode(g, k, MAX_FRAME, &f);
        ck_assert_msg(r == 0, "%s: prefix of %zu bytes returned %zd", fx.file, k, r);
        guarded_free(g, k);
    }
    unload_fixture(&fx);
}
END_TEST

START_TEST(test_truncated_payload)
{
    struct fixture fx;
    load_fixture((size_t)_i, &fx);
    struct spop_frame f;
    decode_fixture(&fx, &f);

    ssize_t last;
    size_t full = walk_payload(f.type, f.payload, f.payload_len, &last);
    ck_assert_int_eq(last, 0);
    ck_assert_uint_eq(full, fx.notify ? 1 : 4);
    for (size_t k = 0; k < f.payload_len; k++) {
        uint8_t *g = guarded_copy(f.payload, k);
        size_t items = walk_payload(f.type, g, k, &last);
        ck_assert_msg(last < 0 || items < full, "%s: payload cut to %zu bytes walked whole", fx.file, k);
        guarded_free(g, k);
    }

    if (fx.notify) {
        /* The message's arguments, cut short, walked as a KV list. */
        struct spop_message m;
        ck_assert_int_gt(spop_message_next(f.payload, f.payload_len, &m), 0);
        ck_assert_uint_eq(walk_kv(m.args, m.args_len, &last), m.nb_args);
        ck_assert_int_eq(last, 0);
        for (size_t k = 0; k < m.args_len; k++) {
            uint8_t *g = guarded_copy(m.args, k);
            size_t items = walk_kv(g, k, &last);
            ck_assert_msg(last < 0 || items < m.nb_args, "%s: arguments cut to %zu bytes walked whole",
                          fx.file, k);
            guarded_free(g, k);
        }
    }
    unload_fixture(&fx);
}
END_TEST

/* A max-frame-size one byte below the frame's length refuses it from the
 * 4 length bytes alone. */
START_TEST(test_too_big)
{
    struct fixture fx;
    load_fixture((size_t)_i, &fx);
    uint32_t length = (uint32_t)(fx.len - 4);
    struct spop_frame f;
    ck_assert_int_eq(spop_frame_decode(fx.frame, fx.len, length - 1, &f), -SPOP_ERR_TOO_BIG);
    uint8_t *g = guarded_copy(fx.frame, 4);
    ck_assert_int_eq(spop_frame_decode(g, 4, length - 1, &f), -SPOP_ERR_TOO_BIG);
    ck_assert_int_eq(spop_frame_decode(g, 4, SPOP_MIN_FRAME_SIZE, &f),
                     length > SPOP_MIN_FRAME_SIZE ? -SPOP_ERR_TOO_BIG : 0);
    guarded_free(g, 4);
    ck_assert_int_eq(spop_frame_decode(fx.frame, fx.len, length, &f), (ssize_t)fx.len);
    unload_fixture(&fx);
}
END_TEST

Suite *fixtures_suite(void);

/* fixtures_suite: the Check suite over the captured HAProxy frames. */
Suite *fixtures_suite(void)
{
    Suite *s = suite_create("fixtures");

    TCase *tc = tcase_create("decode");
    tcase_add_test(tc, test_enumerate);
    tcase_add_loop_test(tc, test_decode, 0, N_FIXTURES);
    suite_add_tcase(s, tc);

    tc = tcase_create("truncated");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_truncated_frame, 0, N_FIXTURES);
    tcase_add_loop_test(tc, test_truncated_payload, 0, N_FIXTURES);
    suite_add_tcase(s, tc);

    tc = tcase_create("too_big");
    tcase_add_loop_test(tc, test_too_big, 0, N_FIXTURES);
    suite_add_tcase(s, tc);
    return s;
}
