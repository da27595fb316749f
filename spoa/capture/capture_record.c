/* The capture record encoder and decoder (see capture_record.h), written
 * with msgpack-c's packer and object API. */
#include <stdio.h>
#include <string.h>

#include "capture/capture_record.h"
#include "capture/capture_scan.h"

static int pack_key(msgpack_packer *pk, const char *key)
{
    size_t n = strlen(key);
    if (msgpack_pack_str(pk, n) != 0)
        return -1;
    return msgpack_pack_str_body(pk, key, n);
}

static int pack_str(msgpack_packer *pk, const char *key, struct spop_bytes v)
{
    if (pack_key(pk, key) != 0 || msgpack_pack_str(pk, v.len) != 0)
        return -1;
    return v.len ? msgpack_pack_str_body(pk, v.ptr, v.len) : 0;
}

static int pack_pair(msgpack_packer *pk, const struct capture_header *h)
{
    if (msgpack_pack_array(pk, 2) != 0 || msgpack_pack_str(pk, h->name.len) != 0)
        return -1;
    if (h->name.len && msgpack_pack_str_body(pk, h->name.ptr, h->name.len) != 0)
        return -1;
    if (msgpack_pack_str(pk, h->value.len) != 0)
        return -1;
    return h->value.len ? msgpack_pack_str_body(pk, h->value.ptr, h->value.len) : 0;
}

int capture_record_encode(const struct capture_record *r, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    size_t n_keys = 11 + (r->has_id ? 1 : 0) + (r->has_src ? 1 : 0);
    if (msgpack_pack_map(&pk, n_keys) != 0)
        return -1;
    if (pack_key(&pk, "v") != 0 || msgpack_pack_uint64(&pk, CAPTURE_FORMAT_VERSION) != 0)
        return -1;
    if (pack_key(&pk, "ts") != 0 || msgpack_pack_uint64(&pk, r->ts_ns) != 0)
        return -1;
    if (pack_str(&pk, "route", r->route) != 0 || pack_str(&pk, "mirror", r->mirror) != 0 ||
        pack_str(&pk, "method", r->method) != 0 || pack_str(&pk, "path", r->path) != 0 ||
        pack_str(&pk, "authority", r->authority) != 0 ||
        pack_str(&pk, "shadow_authority", r->shadow_authority) != 0 ||
        pack_str(&pk, "http_version", r->http_version) != 0)
        return -1;
    if (pack_key(&pk, "headers") != 0 || msgpack_pack_array(&pk, r->n_headers) != 0)
        return -1;
    for (size_t i = 0; i < r->n_headers; i++)
        if (pack_pair(&pk, &r->headers[i]) != 0)
            return -1;
    if (pack_key(&pk, "body") != 0 || msgpack_pack_bin(&pk, r->body.len) != 0)
        return -1;
    if (r->body.len && msgpack_pack_bin_body(&pk, r->body.ptr, r->body.len) != 0)
        return -1;
    if (r->has_id && pack_str(&pk, "id", r->id) != 0)
        return -1;
    if (r->has_src && pack_str(&pk, "src", r->src) != 0)
        return -1;
    return 0;
}

const char *capture_status_str(enum capture_status s)
{
    switch (s) {
    case CAPTURE_OK:
        return "ok";
    case CAPTURE_END:
        return "end";
    case CAPTURE_TRUNCATED:
        return "truncated";
    case CAPTURE_CORRUPT:
        return "corrupt";
    }
    return "unknown";
}

/* ---- decoding ---- */

/* The known keys; a bit each to catch duplicates and missing ones. */
enum rec_key {
    K_V,
    K_TS,
    K_ROUTE,
    K_MIRROR,
    K_METHOD,
    K_PATH,
    K_AUTHORITY,
    K_SHADOW,
    K_HTTPV,
    K_HEADERS,
    K_BODY,
    K_ID,
    K_SRC,
    K_COUNT
};
#define REQUIRED_KEYS ((1u << K_ID) - 1)

static const char *const key_names[K_COUNT] = {
    "v",       "ts",   "route", "mirror", "method", "path", "authority", "shadow_authority", "http_version",
    "headers", "body", "id",    "src",
};

static int key_index(const msgpack_object *k)
{
    if (k->type != MSGPACK_OBJECT_STR)
        return -1;
    for (int i = 0; i < K_COUNT; i++)
        if (strlen(key_names[i]) == k->via.str.size &&
            memcmp(key_names[i], k->via.str.ptr, k->via.str.size) == 0)
            return i;
    return -1;
}

static struct spop_bytes str_view(const msgpack_object *o)
{
    return (struct spop_bytes){(const uint8_t *)o->via.str.ptr, o->via.str.size};
}

/* Describes a problem with key <key> in <why>; returns false. */
static bool bad(char *why, const char *key, const char *problem)
{
    snprintf(why, CAPTURE_WHY_LEN, "key \"%s\" %s", key, problem);
    return false;
}

static bool decode_headers(const msgpack_object *o, msgpack_zone *zone, struct capture_record *r, char *why)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return bad(why, "headers", "is not an array");
    r->n_headers = o->via.array.size;
    r->headers = NULL;
    if (r->n_headers == 0)
        return true;
    struct capture_header *h = msgpack_zone_malloc(zone, r->n_headers * sizeof(*h));
    if (!h)
        return bad(why, "headers", "could not be stored: out of memory");
    for (size_t i = 0; i < r->n_headers; i++) {
        const msgpack_object *pair = &o->via.array.ptr[i];
        if (pair->type != MSGPACK_OBJECT_ARRAY || pair->via.array.size != 2 ||
            pair->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
            pair->via.array.ptr[1].type != MSGPACK_OBJECT_STR)
            return bad(why, "headers", "holds an entry that is not a [str, str] pair");
        h[i].name = str_view(&pair->via.array.ptr[0]);
        h[i].value = str_view(&pair->via.array.ptr[1]);
    }
    r->headers = h;
    return true;
}

/* Stores the value of key <k> into *r; false (with <why>) on a wrong type. */
static bool decode_field(enum rec_key k, const msgpack_object *v, msgpack_zone *zone,
                         struct capture_record *r, char *why)
{
    struct spop_bytes *strs[K_COUNT] = {
        [K_ROUTE] = &r->route,
        [K_MIRROR] = &r->mirror,
        [K_METHOD] = &r->method,
        [K_PATH] = &r->path,
        [K_AUTHORITY] = &r->authority,
        [K_SHADOW] = &r->shadow_authority,
        [K_HTTPV] = &r->http_version,
        [K_ID] = &r->id,
        [K_SRC] = &r->src,
    };
    switch (k) {
    case K_V:
    case K_TS:
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return bad(why, key_names[k], "is not an unsigned integer");
        *(k == K_V ? &r->version : &r->ts_ns) = v->via.u64;
        return true;
    case K_HEADERS:
        return decode_headers(v, zone, r, why);
    case K_BODY:
        if (v->type != MSGPACK_OBJECT_BIN)
            return bad(why, key_names[k], "is not a bin");
        r->body = (struct spop_bytes){(const uint8_t *)v->via.bin.ptr, v->via.bin.size};
        return true;
    default:
        if (v->type != MSGPACK_OBJECT_STR)
            return bad(why, key_names[k], "is not a str");
        *strs[k] = str_view(v);
        r->has_id |= k == K_ID;
        r->has_src |= k == K_SRC;
        return true;
    }
}

static bool decode_map(const msgpack_object *o, msgpack_zone *zone, struct capture_record *r, char *why)
{
    if (o->type != MSGPACK_OBJECT_MAP) {
        snprintf(why, CAPTURE_WHY_LEN, "record is not a map");
        return false;
    }
    memset(r, 0, sizeof(*r));
    unsigned seen = 0;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        int k = key_index(&kv->key);
        if (k < 0)
            continue; /* unknown keys are ignored */
        if (seen & (1u << k))
            return bad(why, key_names[k], "appears twice");
        seen |= 1u << k;
        if (!decode_field((enum rec_key)k, &kv->val, zone, r, why))
            return false;
    }
    for (int k = 0; k < K_COUNT; k++)
        if ((REQUIRED_KEYS & (1u << k)) && !(seen & (1u << k))) {
            snprintf(why, CAPTURE_WHY_LEN, "missing key \"%s\"", key_names[k]);
            return false;
        }
    if (r->version < 1 || r->version > CAPTURE_FORMAT_VERSION) {
        snprintf(why, CAPTURE_WHY_LEN, "unsupported format version %llu", (unsigned long long)r->version);
        return false;
    }
    return true;
}

enum capture_status capture_unpack_next(const uint8_t *p, size_t len, size_t off, msgpack_unpacked *u,
                                        size_t *size, char *why)
{
    why[0] = '\0';
    if (off >= len)
        return CAPTURE_END;
    switch (capture_scan_value(p + off, len - off, size)) {
    case CAPTURE_SCAN_INCOMPLETE:
        snprintf(why, CAPTURE_WHY_LEN, "the input ends inside the record");
        return CAPTURE_TRUNCATED;
    case CAPTURE_SCAN_INVALID:
        snprintf(why, CAPTURE_WHY_LEN, "invalid MessagePack");
        return CAPTURE_CORRUPT;
    case CAPTURE_SCAN_COMPLETE:
        break;
    }
    size_t used = 0;
    msgpack_unpack_return ret = msgpack_unpack_next(u, (const char *)p + off, *size, &used);
    if (ret == MSGPACK_UNPACK_CONTINUE) { /* the scan saw a whole value: cannot happen */
        snprintf(why, CAPTURE_WHY_LEN, "the input ends inside the record");
        return CAPTURE_TRUNCATED;
    }
    if (ret != MSGPACK_UNPACK_SUCCESS || used != *size) {
        snprintf(why, CAPTURE_WHY_LEN,
                 ret == MSGPACK_UNPACK_NOMEM_ERROR ? "out of memory" : "invalid MessagePack");
        return CAPTURE_CORRUPT;
    }
    return CAPTURE_OK;
}

enum capture_status capture_record_decode(const uint8_t *p, size_t len, size_t *off, msgpack_unpacked *u,
                                          struct capture_record *r, char *why)
{
    size_t size;
    enum capture_status st = capture_unpack_next(p, len, *off, u, &size, why);
    if (st != CAPTURE_OK)
        return st;
    if (!decode_map(&u->data, u->zone, r, why))
        return CAPTURE_CORRUPT;
    *off += size;
    return CAPTURE_OK;
}

/* ---- comparison ---- */

static bool bytes_eq(struct spop_bytes a, struct spop_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool capture_record_equal(const struct capture_record *a, const struct capture_record *b)
{
    if (a->version != b->version || a->ts_ns != b->ts_ns || a->n_headers != b->n_headers ||
        a->has_id != b->has_id || a->has_src != b->has_src)
        return false;
    if (!bytes_eq(a->route, b->route) || !bytes_eq(a->mirror, b->mirror) || !bytes_eq(a->method, b->method) ||
        !bytes_eq(a->path, b->path) || !bytes_eq(a->authority, b->authority) ||
        !bytes_eq(a->shadow_authority, b->shadow_authority) || !bytes_eq(a->http_version, b->http_version) ||
        !bytes_eq(a->body, b->body))
        return false;
    if ((a->has_id && !bytes_eq(a->id, b->id)) || (a->has_src && !bytes_eq(a->src, b->src)))
        return false;
    for (size_t i = 0; i < a->n_headers; i++)
        if (!bytes_eq(a->headers[i].name, b->headers[i].name) ||
            !bytes_eq(a->headers[i].value, b->headers[i].value))
            return false;
    return true;
}
