#include "mirror/mirror_args.h"

#include <stddef.h>
#include <string.h>

#include "spop/spop_proto.h"

#define ARG(name, kind, required, field)                                                                     \
    {                                                                                                        \
        name, sizeof(name) - 1, kind, required, offsetof(struct mirror_args, field)                          \
    }
#define RARG(name, kind, required, field)                                                                    \
    {                                                                                                        \
        name, sizeof(name) - 1, kind, required, offsetof(struct mirror_response_args, field)                 \
    }
#define PART_ARG(name, kind, field)                                                                          \
    {                                                                                                        \
        name, sizeof(name) - 1, kind, true, offsetof(struct body_part_args, field)                           \
    }

/* clang-format off */
static const struct arg_spec arg_specs[] = {
    ARG("method",    ARG_STR,  true,  method),
    ARG("path",      ARG_STR,  true,  path),
    ARG("host",      ARG_STR,  true,  host),
    ARG("ver",       ARG_STR,  true,  ver),
    ARG("hdrs",      ARG_BIN,  true,  hdrs),
    ARG("body",      ARG_BIN,  true,  body),
    ARG("body_size", ARG_INT,  true,  body_size),
    ARG("route",     ARG_STR,  false, route),
    ARG("id",        ARG_STR,  false, id),
    ARG("src",       ARG_ADDR, false, src),
};

static const struct arg_spec response_specs[] = {
    RARG("id",         ARG_STR,  true,  id),
    RARG("status",     ARG_INT,  true,  status),
    RARG("hdrs",       ARG_BIN,  true,  hdrs),
    RARG("body",       ARG_BIN,  true,  body),
    RARG("latency_ms", ARG_INT,  false, latency_ms),
};

static const struct arg_spec part_specs[] = {
    PART_ARG("id",     ARG_STR, id),
    PART_ARG("offset", ARG_INT, offset),
    PART_ARG("size",   ARG_INT, size),
    PART_ARG("part",   ARG_BIN, part),
};
/* clang-format on */
#define ARG_COUNT      (sizeof(arg_specs) / sizeof(arg_specs[0]))
#define RESPONSE_COUNT (sizeof(response_specs) / sizeof(response_specs[0]))
#define PART_COUNT     (sizeof(part_specs) / sizeof(part_specs[0]))

static bool kind_accepts(enum arg_kind kind, uint8_t type)
{
    switch (kind) {
    case ARG_STR:
        return type == SPOP_DATA_T_STR;
    case ARG_BIN:
        return type == SPOP_DATA_T_BIN || type == SPOP_DATA_T_STR;
    case ARG_INT:
        return type >= SPOP_DATA_T_INT32 && type <= SPOP_DATA_T_UINT64;
    case ARG_ADDR:
        return type == SPOP_DATA_T_IPV4 || type == SPOP_DATA_T_IPV6 || type == SPOP_DATA_T_STR;
    }
    return false;
}

static enum mirror_args_status store(const struct arg_spec *spec, const struct spop_data *v, void *base)
{
    void *field = (uint8_t *)base + spec->offset;
    if (v->type == SPOP_DATA_T_NULL)
        return spec->required ? MIRROR_ARGS_MISSING : MIRROR_ARGS_OK;
    if (!kind_accepts(spec->kind, v->type))
        return MIRROR_ARGS_WRONG_TYPE;
    switch (spec->kind) {
    case ARG_STR:
    case ARG_BIN:
        *(struct spop_bytes *)field = v->u.bytes;
        break;
    case ARG_INT:
        if (!spop_data_as_uint(v, (uint64_t *)field))
            return MIRROR_ARGS_WRONG_TYPE;
        break;
    case ARG_ADDR:
        *(struct spop_data *)field = *v;
        break;
    }
    return MIRROR_ARGS_OK;
}

enum mirror_args_status mirror_args_walk(const struct spop_message *m, const struct arg_spec *specs,
                                         size_t n_specs, void *base, const char **bad_arg)
{
    bool seen[ARG_SPECS_MAX] = {false};
    size_t off = 0;
    while (off < m->args_len) {
        struct spop_kv kv;
        ssize_t k = spop_kv_next(m->args + off, m->args_len - off, &kv);
        if (k <= 0)
            break; /* spop_message_next() validated the arguments already */
        off += (size_t)k;
        for (size_t i = 0; i < n_specs; i++) {
            if (kv.name.len != specs[i].name_len || memcmp(kv.name.ptr, specs[i].name, kv.name.len) != 0)
                continue;
            enum mirror_args_status st = store(&specs[i], &kv.value, base);
            if (st != MIRROR_ARGS_OK) {
                *bad_arg = specs[i].name;
                return st;
            }
            seen[i] = kv.value.type != SPOP_DATA_T_NULL;
            break;
        }
    }
    for (size_t i = 0; i < n_specs; i++) {
        if (specs[i].required && !seen[i]) {
            *bad_arg = specs[i].name;
            return MIRROR_ARGS_MISSING;
        }
    }
    return MIRROR_ARGS_OK;
}

enum mirror_args_status mirror_args_extract(const struct spop_message *m, struct mirror_args *a,
                                            const char **bad_arg)
{
    *a = (struct mirror_args){.src.type = SPOP_DATA_T_NULL};
    enum mirror_args_status st = mirror_args_walk(m, arg_specs, ARG_COUNT, a, bad_arg);
    if (st != MIRROR_ARGS_OK)
        return st;
    if (hdrs_bin_count(a->hdrs) < 0) {
        *bad_arg = "hdrs";
        return MIRROR_ARGS_BAD_HEADERS;
    }
    return MIRROR_ARGS_OK;
}

enum mirror_args_status mirror_response_args_extract(const struct spop_message *m,
                                                     struct mirror_response_args *a, const char **bad_arg)
{
    *a = (struct mirror_response_args){0};
    enum mirror_args_status st = mirror_args_walk(m, response_specs, RESPONSE_COUNT, a, bad_arg);
    if (st != MIRROR_ARGS_OK)
        return st;
    if (a->status < 100 || a->status > 999) {
        *bad_arg = "status";
        return MIRROR_ARGS_WRONG_TYPE;
    }
    if (hdrs_bin_count(a->hdrs) < 0) {
        *bad_arg = "hdrs";
        return MIRROR_ARGS_BAD_HEADERS;
    }
    return MIRROR_ARGS_OK;
}

enum mirror_args_status body_part_args_extract(const struct spop_message *m, struct body_part_args *a,
                                               const char **bad_arg)
{
    *a = (struct body_part_args){0};
    enum mirror_args_status st = mirror_args_walk(m, part_specs, PART_COUNT, a, bad_arg);
    if (st != MIRROR_ARGS_OK)
        return st;
    /* An empty id matches nothing, and an empty slice covers nothing. */
    if (a->id.len == 0 || a->part.len == 0) {
        *bad_arg = a->id.len == 0 ? "id" : "part";
        return MIRROR_ARGS_MISSING;
    }
    return MIRROR_ARGS_OK;
}

const char *mirror_args_status_str(enum mirror_args_status s)
{
    switch (s) {
    case MIRROR_ARGS_OK:
        return "ok";
    case MIRROR_ARGS_MISSING:
        return "missing_arg";
    case MIRROR_ARGS_WRONG_TYPE:
        return "wrong_arg_type";
    case MIRROR_ARGS_BAD_HEADERS:
        return "bad_headers";
    }
    return "unknown";
}

int hdrs_bin_next(const uint8_t *p, size_t len, struct spop_bytes *name, struct spop_bytes *value)
{
    struct spop_bytes n, v;
    ssize_t a = spop_bytes_decode(p, len, &n);
    if (a <= 0)
        return -1;
    ssize_t b = spop_bytes_decode(p + a, len - (size_t)a, &v);
    if (b <= 0)
        return -1;
    size_t used = (size_t)(a + b);
    if (n.len == 0) {
        /* The end marker: two empty strings, and nothing after them. */
        return (v.len == 0 && used == len) ? 0 : -1;
    }
    *name = n;
    *value = v;
    return (int)used;
}

int hdrs_bin_count(struct spop_bytes hdrs)
{
    size_t off = 0;
    int count = 0;
    for (;;) {
        struct spop_bytes name, value;
        int n = hdrs_bin_next(hdrs.ptr + off, hdrs.len - off, &name, &value);
        if (n < 0)
            return -1;
        if (n == 0)
            return count;
        off += (size_t)n;
        count++;
    }
}
