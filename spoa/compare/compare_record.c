#include "compare/compare_record.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The keys, in the order they are written. */
enum rec_key {
    K_V,
    K_KIND,
    K_TS,
    K_ID,
    K_ROUTE,
    K_MIRROR,
    K_RESULT,
    K_METHOD,
    K_PATH,
    K_STATUS_P,
    K_STATUS_S,
    K_HEADERS,
    K_HEADER_DIFFS,
    K_JSON,
    K_JSON_DIFFS,
    K_NOISE,
    K_DIGEST_P,
    K_DIGEST_S,
    K_BYTES_P,
    K_BYTES_S,
    K_LAT_P,
    K_LAT_S,
    K_SHADOW_ERROR,
    K_ROLE,
    K_COUNT
};
#define REQUIRED_KEYS ((1u << K_METHOD) - 1)

static const char *const key_names[K_COUNT] = {
    [K_V] = "v",
    [K_KIND] = "kind",
    [K_TS] = "ts",
    [K_ID] = "id",
    [K_ROUTE] = "route",
    [K_MIRROR] = "mirror",
    [K_RESULT] = "result",
    [K_METHOD] = "method",
    [K_PATH] = "path",
    [K_STATUS_P] = "status_primary",
    [K_STATUS_S] = "status_shadow",
    [K_HEADERS] = "headers",
    [K_HEADER_DIFFS] = "header_diffs",
    [K_JSON] = "json",
    [K_JSON_DIFFS] = "json_diffs",
    [K_NOISE] = "noise",
    [K_DIGEST_P] = "digest_primary",
    [K_DIGEST_S] = "digest_shadow",
    [K_BYTES_P] = "bytes_primary",
    [K_BYTES_S] = "bytes_shadow",
    [K_LAT_P] = "latency_primary_us",
    [K_LAT_S] = "latency_shadow_us",
    [K_SHADOW_ERROR] = "shadow_error",
    [K_ROLE] = "role",
};

#define KIND "compare"

/* The string and integer fields of *r, by key. */
static struct spop_bytes *str_field(struct compare_record *r, enum rec_key k)
{
    switch (k) {
    case K_ID:
        return &r->id;
    case K_ROUTE:
        return &r->route;
    case K_MIRROR:
        return &r->mirror;
    case K_RESULT:
        return &r->result;
    case K_METHOD:
        return &r->method;
    case K_PATH:
        return &r->path;
    case K_SHADOW_ERROR:
        return &r->shadow_error;
    case K_ROLE:
        return &r->role;
    default:
        return NULL;
    }
}

static uint64_t *uint_field(struct compare_record *r, enum rec_key k)
{
    switch (k) {
    case K_TS:
        return &r->ts_ns;
    case K_STATUS_P:
        return &r->status_primary;
    case K_STATUS_S:
        return &r->status_shadow;
    case K_HEADER_DIFFS:
        return &r->header_diffs;
    case K_JSON_DIFFS:
        return &r->json_diffs;
    case K_NOISE:
        return &r->noise;
    case K_DIGEST_P:
        return &r->digest_primary;
    case K_DIGEST_S:
        return &r->digest_shadow;
    case K_BYTES_P:
        return &r->bytes_primary;
    case K_BYTES_S:
        return &r->bytes_shadow;
    case K_LAT_P:
        return &r->latency_primary_us;
    case K_LAT_S:
        return &r->latency_shadow_us;
    default:
        return NULL;
    }
}

/* ---- filling from a verdict ---- */

static struct spop_bytes cstr(const char *s)
{
    return (struct spop_bytes){(const uint8_t *)s, strlen(s)};
}

void compare_record_fill(struct compare_record *r, const struct compare_verdict *v,
                         const struct compare_side *primary, const struct compare_side *shadow)
{
    r->result = cstr(compare_result_str(v->result));
    r->status_primary = primary->status;
    r->status_shadow = shadow->failed ? 0 : shadow->status;
    r->shadow_error = cstr(shadow->failed ? shadow->reason : "");
    r->n_headers =
        v->n_header_reported < COMPARE_RECORD_MAX_ITEMS ? v->n_header_reported : COMPARE_RECORD_MAX_ITEMS;
    for (size_t i = 0; i < r->n_headers; i++) {
        const struct compare_header_diff *h = &v->headers[i];
        r->headers[i] = (struct compare_record_header){cstr(h->name), cstr(h->primary), cstr(h->shadow)};
    }
    r->header_diffs = v->n_header_diffs;
    r->n_json = v->json.n_reported < COMPARE_RECORD_MAX_ITEMS ? v->json.n_reported : COMPARE_RECORD_MAX_ITEMS;
    for (size_t i = 0; i < r->n_json; i++) {
        const struct compare_json_diff *d = &v->json.diffs[i];
        r->json[i] = (struct compare_record_json){cstr(compare_json_kind_str(d->kind)), cstr(d->path),
                                                  cstr(d->generalized), cstr(d->primary), cstr(d->shadow)};
    }
    r->json_diffs = v->json.n_diffs;
    r->noise = v->json.n_noise + v->n_header_noise;
    r->digest_primary = primary->body.digest;
    r->digest_shadow = shadow->body.digest;
    r->bytes_primary = primary->body.seen;
    r->bytes_shadow = shadow->body.seen;
    r->latency_primary_us = primary->latency_us;
    r->latency_shadow_us = shadow->latency_us;
}

/* ---- encoding ---- */

static int pack_s(msgpack_packer *pk, const void *p, size_t n)
{
    if (msgpack_pack_str(pk, n) != 0)
        return -1;
    return n ? msgpack_pack_str_body(pk, p, n) : 0;
}

static int pack_b(msgpack_packer *pk, struct spop_bytes b)
{
    return pack_s(pk, b.ptr, b.len);
}

static int pack_key(msgpack_packer *pk, enum rec_key k)
{
    return pack_s(pk, key_names[k], strlen(key_names[k]));
}

int compare_record_encode(const struct compare_record *r, msgpack_sbuffer *out)
{
    struct compare_record *rw = (struct compare_record *)r; /* the field tables only read through it */
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    size_t nh = r->n_headers < COMPARE_RECORD_MAX_ITEMS ? r->n_headers : COMPARE_RECORD_MAX_ITEMS;
    size_t nj = r->n_json < COMPARE_RECORD_MAX_ITEMS ? r->n_json : COMPARE_RECORD_MAX_ITEMS;
    if (msgpack_pack_map(&pk, K_COUNT) != 0)
        return -1;
    for (int k = 0; k < K_COUNT; k++) {
        if (pack_key(&pk, (enum rec_key)k) != 0)
            return -1;
        struct spop_bytes *s = str_field(rw, (enum rec_key)k);
        uint64_t *u = uint_field(rw, (enum rec_key)k);
        int rc = 0;
        if (s) {
            rc = pack_b(&pk, *s);
        } else if (u) {
            rc = msgpack_pack_uint64(&pk, *u);
        } else if (k == K_V) {
            rc = msgpack_pack_uint64(&pk, COMPARE_RECORD_VERSION);
        } else if (k == K_KIND) {
            rc = pack_s(&pk, KIND, strlen(KIND));
        } else if (k == K_HEADERS) {
            rc = msgpack_pack_array(&pk, nh);
            for (size_t i = 0; rc == 0 && i < nh; i++) {
                const struct compare_record_header *h = &r->headers[i];
                rc = msgpack_pack_array(&pk, 3) || pack_b(&pk, h->name) || pack_b(&pk, h->primary) ||
                     pack_b(&pk, h->shadow);
            }
        } else if (k == K_JSON) {
            rc = msgpack_pack_array(&pk, nj);
            for (size_t i = 0; rc == 0 && i < nj; i++) {
                const struct compare_record_json *j = &r->json[i];
                rc = msgpack_pack_array(&pk, 5) || pack_b(&pk, j->kind) || pack_b(&pk, j->path) ||
                     pack_b(&pk, j->generalized) || pack_b(&pk, j->primary) || pack_b(&pk, j->shadow);
            }
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ---- decoding ---- */

static bool bad(char *why, enum rec_key k, const char *problem)
{
    snprintf(why, CAPTURE_WHY_LEN, "key \"%s\" %s", key_names[k], problem);
    return false;
}

static int key_index(const msgpack_object *k)
{
    if (k->type != MSGPACK_OBJECT_STR)
        return -1;
    for (int i = 0; i < K_COUNT; i++) {
        if (strlen(key_names[i]) == k->via.str.size &&
            memcmp(key_names[i], k->via.str.ptr, k->via.str.size) == 0)
            return i;
    }
    return -1;
}

static struct spop_bytes view(const msgpack_object *o)
{
    return (struct spop_bytes){(const uint8_t *)o->via.str.ptr, o->via.str.size};
}

/* A list of [str x width] entries into <dst> (width views each); *n its length. */
static bool decode_list(const msgpack_object *o, enum rec_key k, size_t width, struct spop_bytes *dst,
                        size_t *n, char *why)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return bad(why, k, "is not an array");
    if (o->via.array.size > COMPARE_RECORD_MAX_ITEMS)
        return bad(why, k, "has too many entries");
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *e = &o->via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != width)
            return bad(why, k, "holds an entry of the wrong shape");
        for (size_t j = 0; j < width; j++) {
            if (e->via.array.ptr[j].type != MSGPACK_OBJECT_STR)
                return bad(why, k, "holds a value that is not a str");
            dst[i * width + j] = view(&e->via.array.ptr[j]);
        }
    }
    *n = o->via.array.size;
    return true;
}

static bool decode_field(enum rec_key k, const msgpack_object *v, struct compare_record *r, uint64_t *version,
                         char *why)
{
    struct spop_bytes *s = str_field(r, k);
    uint64_t *u = uint_field(r, k);
    if (k == K_V)
        u = version;
    if (s || k == K_KIND) {
        if (v->type != MSGPACK_OBJECT_STR)
            return bad(why, k, "is not a str");
        if (k == K_KIND &&
            !(v->via.str.size == strlen(KIND) && memcmp(v->via.str.ptr, KIND, strlen(KIND)) == 0))
            return bad(why, k, "is not \"compare\"");
        if (s)
            *s = view(v);
        return true;
    }
    if (u) {
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return bad(why, k, "is not an unsigned integer");
        *u = v->via.u64;
        return true;
    }
    struct spop_bytes b[COMPARE_RECORD_MAX_ITEMS * 5];
    if (k == K_HEADERS) {
        if (!decode_list(v, k, 3, b, &r->n_headers, why))
            return false;
        for (size_t i = 0; i < r->n_headers; i++)
            r->headers[i] = (struct compare_record_header){b[3 * i], b[3 * i + 1], b[3 * i + 2]};
        return true;
    }
    if (!decode_list(v, k, 5, b, &r->n_json, why))
        return false;
    for (size_t i = 0; i < r->n_json; i++)
        r->json[i] =
            (struct compare_record_json){b[5 * i], b[5 * i + 1], b[5 * i + 2], b[5 * i + 3], b[5 * i + 4]};
    return true;
}

enum capture_status compare_record_decode(const uint8_t *p, size_t len, size_t *off, msgpack_unpacked *u,
                                          struct compare_record *r, char *why)
{
    size_t size;
    enum capture_status st = capture_unpack_next(p, len, *off, u, &size, why);
    if (st != CAPTURE_OK)
        return st;
    const msgpack_object *o = &u->data;
    if (o->type != MSGPACK_OBJECT_MAP) {
        snprintf(why, CAPTURE_WHY_LEN, "record is not a map");
        return CAPTURE_CORRUPT;
    }
    memset(r, 0, sizeof(*r));
    uint64_t version = 0;
    unsigned seen = 0;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        int k = key_index(&kv->key);
        if (k < 0)
            continue;
        if (seen & (1u << k)) {
            bad(why, (enum rec_key)k, "appears twice");
            return CAPTURE_CORRUPT;
        }
        seen |= 1u << k;
        if (!decode_field((enum rec_key)k, &kv->val, r, &version, why))
            return CAPTURE_CORRUPT;
    }
    for (int k = 0; k < K_COUNT; k++) {
        if ((REQUIRED_KEYS & (1u << k)) && !(seen & (1u << k))) {
            snprintf(why, CAPTURE_WHY_LEN, "missing key \"%s\"", key_names[k]);
            return CAPTURE_CORRUPT;
        }
    }
    if (version != COMPARE_RECORD_VERSION) {
        snprintf(why, CAPTURE_WHY_LEN, "unsupported version %llu", (unsigned long long)version);
        return CAPTURE_CORRUPT;
    }
    *off += size;
    return CAPTURE_OK;
}
