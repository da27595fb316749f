#include "mirror/capture_shape.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spop/spop_proto.h"
#include "core/xalloc.h"

/* Room shape_authority() may add to the original host: "-shadow" or a
 * configured host[:port] (a DNS name has at most 253 bytes). */
#define AUTHORITY_SLACK 300

void capture_scratch_init(struct capture_scratch *s)
{
    memset(s, 0, sizeof(*s));
    msgpack_sbuffer_init(&s->buf);
}

void capture_scratch_destroy(struct capture_scratch *s)
{
    msgpack_sbuffer_destroy(&s->buf);
    free(s->hdrs);
    free(s->authority);
    memset(s, 0, sizeof(*s));
}

bool capture_is_redacted(const struct config_capture *cap, struct spop_bytes name)
{
    for (size_t i = 0; i < cap->n_redact_headers; i++) {
        const char *r = cap->redact_headers[i];
        if (strlen(r) == name.len && strncasecmp(r, (const char *)name.ptr, name.len) == 0)
            return true;
    }
    return false;
}

static struct spop_bytes cstr(const char *s)
{
    return (struct spop_bytes){(const uint8_t *)s, strlen(s)};
}

/* Fills s->hdrs from the hdrs_bin block; false when it is malformed. */
static bool collect_headers(const struct config_capture *cap, struct spop_bytes hdrs,
                            struct capture_scratch *s, size_t *n_out)
{
    int total = hdrs_bin_count(hdrs);
    if (total < 0)
        return false;
    if ((size_t)total > s->hdrs_cap) {
        s->hdrs_cap = (size_t)total;
        s->hdrs = xrealloc(s->hdrs, s->hdrs_cap * sizeof(*s->hdrs));
    }
    const uint8_t *p = hdrs.ptr;
    size_t left = hdrs.len, n = 0;
    while (n < (size_t)total) {
        struct spop_bytes name, value;
        int used = hdrs_bin_next(p, left, &name, &value);
        if (used <= 0)
            return false;
        s->hdrs[n].name = name;
        s->hdrs[n].value = capture_is_redacted(cap, name) ? cstr(CAPTURE_REDACTED) : value;
        n++;
        p += used;
        left -= (size_t)used;
    }
    *n_out = n;
    return true;
}

enum shape_status capture_shape(const struct config_mirror *m, const char *route, const struct mirror_args *a,
                                uint64_t ts_ns, size_t max_len, struct capture_scratch *s)
{
    struct capture_record r;
    memset(&r, 0, sizeof(r));
    r.version = CAPTURE_FORMAT_VERSION;
    r.ts_ns = ts_ns;
    r.route = cstr(route);
    r.mirror = cstr(m->url);
    r.method = a->method;
    r.path = a->path;
    r.authority = a->host;
    r.http_version = a->ver;
    r.body = a->body;
    if (!collect_headers(m->capture, a->hdrs, s, &r.n_headers))
        return SHAPE_BAD_REQUEST;
    r.headers = s->hdrs;

    size_t need = a->host.len + AUTHORITY_SLACK;
    if (need > s->authority_cap) {
        s->authority_cap = need;
        s->authority = xrealloc(s->authority, need);
    }
    int alen = shape_authority(m, a->host, s->authority, s->authority_cap);
    if (alen < 0)
        return SHAPE_BAD_REQUEST;
    r.shadow_authority = (struct spop_bytes){(const uint8_t *)s->authority, (size_t)alen};

    if (a->id.len) {
        r.has_id = true;
        r.id = a->id;
    }
    char src[INET6_ADDRSTRLEN];
    if (a->src.type == SPOP_DATA_T_IPV4 || a->src.type == SPOP_DATA_T_IPV6) {
        int af = a->src.type == SPOP_DATA_T_IPV4 ? AF_INET : AF_INET6;
        const void *addr = af == AF_INET ? (const void *)a->src.u.ipv4 : (const void *)a->src.u.ipv6;
        if (inet_ntop(af, addr, src, sizeof(src))) {
            r.has_src = true;
            r.src = cstr(src);
        }
    } else if (a->src.type == SPOP_DATA_T_STR) {
        r.has_src = true;
        r.src = a->src.u.bytes;
    }

    s->buf.size = 0;
    if (capture_record_encode(&r, &s->buf) != 0)
        return SHAPE_TOO_LARGE; /* msgpack-c could not grow the buffer */
    if (s->buf.size > max_len) {
        s->buf.size = 0;
        return SHAPE_TOO_LARGE;
    }
    return SHAPE_OK;
}
