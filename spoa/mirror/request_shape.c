/* Shaping the copy sent to a mirror: the request line, Host, the forwarded
 * headers, Content-Length and the body, as one HTTP/1.1 message. */
#include "mirror/request_shape.h"

#include <string.h>

#include "core/header_policy.h"
#include "http/grpc_body.h"
#include "http/http_emit.h"
#include "http/http_syntax.h"

#define SHADOW_SUFFIX "-shadow"

const char *shape_status_str(enum shape_status s)
{
    switch (s) {
    case SHAPE_OK:
        return "ok";
    case SHAPE_BODY_TRUNCATED:
        return "body_truncated";
    case SHAPE_BAD_REQUEST:
        return "bad_request";
    case SHAPE_TOO_LARGE:
        return "too_large";
    }
    return "unknown";
}

/* ---- authority ---- */

/* The Host value as up to three pieces: <head>, then <ins>, then <tail>. */
struct authority {
    const uint8_t *head;
    size_t head_len;
    const char *ins;
    size_t ins_len;
    const uint8_t *tail;
    size_t tail_len;
};

/* True for a dotted-quad IPv4 address: four decimal numbers 0..255. */
static bool is_ipv4(const uint8_t *p, size_t n)
{
    unsigned parts = 0, digits = 0, value = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '.') {
            if (digits == 0 || value > 255)
                return false;
            parts++;
            digits = value = 0;
        } else if (p[i] >= '0' && p[i] <= '9' && digits < 3) {
            value = value * 10 + (unsigned)(p[i] - '0');
            digits++;
        } else {
            return false;
        }
    }
    return parts == 4;
}

/* Splits the shadow authority of <host>: "-shadow" goes after the host name
 * and before ":port"; before the final dot of a fully qualified name
 * ("svc.local." -> "svc.local-shadow."). IP literals, names with several
 * colons (unbracketed IPv6) and an empty name are kept unchanged. */
static struct authority shadow_parts(struct spop_bytes host)
{
    struct authority au = {.head = host.ptr, .head_len = host.len};
    if (host.len == 0 || host.ptr[0] == '[')
        return au;
    const uint8_t *colon = memchr(host.ptr, ':', host.len);
    size_t name_len = colon != NULL ? (size_t)(colon - host.ptr) : host.len;
    if (colon != NULL && memchr(colon + 1, ':', host.len - name_len - 1) != NULL)
        return au;
    if (name_len == 0 || is_ipv4(host.ptr, name_len))
        return au;
    if (name_len > 1 && host.ptr[name_len - 1] == '.')
        name_len--;
    au.head_len = name_len;
    au.ins = SHADOW_SUFFIX;
    au.ins_len = sizeof(SHADOW_SUFFIX) - 1;
    au.tail = host.ptr + name_len;
    au.tail_len = host.len - name_len;
    return au;
}

static struct authority authority_of(const struct config_mirror *m, struct spop_bytes host)
{
    switch (m->authority) {
    case AUTHORITY_SHADOW:
        return shadow_parts(host);
    case AUTHORITY_LITERAL: {
        const char *lit = m->authority_literal != NULL ? m->authority_literal : "";
        return (struct authority){.head = (const uint8_t *)lit, .head_len = strlen(lit)};
    }
    case AUTHORITY_KEEP:
        break;
    }
    return (struct authority){.head = host.ptr, .head_len = host.len};
}

int shape_authority(const struct config_mirror *m, struct spop_bytes host, char *dst, size_t cap)
{
    struct authority au = authority_of(m, host);
    size_t len = au.head_len + au.ins_len + au.tail_len;
    if (len >= cap || len > (size_t)INT32_MAX)
        return -1;
    if (au.head_len > 0)
        memcpy(dst, au.head, au.head_len);
    if (au.ins_len > 0)
        memcpy(dst + au.head_len, au.ins, au.ins_len);
    if (au.tail_len > 0)
        memcpy(dst + au.head_len + au.ins_len, au.tail, au.tail_len);
    dst[len] = '\0';
    return (int)len;
}

/* ---- header selection ---- */

/* True when a Connection header of the block <hdrs> (well-formed) names <name>. */
static bool connection_names(struct spop_bytes hdrs, struct spop_bytes name)
{
    size_t off = 0;
    for (;;) {
        struct spop_bytes n, v;
        int r = hdrs_bin_next(hdrs.ptr + off, hdrs.len - off, &n, &v);
        if (r <= 0)
            return false;
        off += (size_t)r;
        if (spop_bytes_ieq_str(n, "connection") && http_token_list_has(v.ptr, v.len, name.ptr, name.len))
            return true;
    }
}

/* True when the original header <name> is not forwarded. <has_connection>
 * tells whether the request has a Connection header at all, <te_trailers>
 * whether this header is "te: trailers" (header_is_te_trailers()): the one
 * hop-by-hop header kept (gRPC needs it, and HAProxy passes it on too), even
 * when a Connection header names it. */
static bool header_dropped(const struct config_mirror *m, const struct mirror_args *a, bool has_connection,
                           bool te_trailers, struct spop_bytes name)
{
    if (!te_trailers && http_is_hop_by_hop(name.ptr, name.len))
        return true;
    for (size_t i = 0; i < m->n_headers_remove; i++)
        if (spop_bytes_ieq_str(name, m->headers_remove[i]))
            return true;
    for (size_t i = 0; i < m->n_headers_set; i++)
        if (spop_bytes_ieq_str(name, m->headers_set[i].name))
            return true;
    return !te_trailers && has_connection && connection_names(a->hdrs, name);
}

/* ---- validation and output ---- */

/* Checks everything that goes on the wire; SHAPE_OK or SHAPE_BAD_REQUEST.
 * Sets *has_connection when the request has a Connection header. */
static enum shape_status validate(const struct config_mirror *m, const struct mirror_args *a,
                                  const struct authority *au, bool *has_connection)
{
    *has_connection = false;
    const char *base = m->base_path != NULL ? m->base_path : "";
    /* A CONNECT's body would not be read as one: it could reach the mirror
     * (or a proxy before it) as a second request. A tunnel is not mirrored. */
    if (!http_is_token(a->method.ptr, a->method.len) || http_method_is_connect(a->method.ptr, a->method.len))
        return SHAPE_BAD_REQUEST;
    /* Origin form only; "*" (OPTIONS) only when there is no base path to prepend. */
    if (http_check_target(a->path.ptr, a->path.len, base[0] == '\0') != HTTP_TARGET_OK ||
        !http_is_target((const uint8_t *)base, strlen(base)))
        return SHAPE_BAD_REQUEST;
    if (!http_is_field_value(au->head, au->head_len) || !http_is_field_value(au->tail, au->tail_len))
        return SHAPE_BAD_REQUEST;
    /* An empty block (not even the end marker) stands for no headers. */
    for (size_t off = 0; a->hdrs.len > 0;) {
        struct spop_bytes n, v;
        int r = hdrs_bin_next(a->hdrs.ptr + off, a->hdrs.len - off, &n, &v);
        if (r < 0)
            return SHAPE_BAD_REQUEST;
        if (r == 0)
            break;
        off += (size_t)r;
        if (!http_is_token(n.ptr, n.len) || !http_is_field_value(v.ptr, v.len))
            return SHAPE_BAD_REQUEST;
        *has_connection = *has_connection || spop_bytes_ieq_str(n, "connection");
    }
    for (size_t i = 0; i < m->n_headers_set; i++) {
        const char *n = m->headers_set[i].name, *v = m->headers_set[i].value;
        if (n == NULL || v == NULL || !http_is_token((const uint8_t *)n, strlen(n)) ||
            !http_is_field_value((const uint8_t *)v, strlen(v)))
            return SHAPE_BAD_REQUEST;
    }
    return SHAPE_OK;
}

/* What emit() writes: one mirror's copy of one request. */
struct shape_job {
    const struct config_mirror *m;
    const struct mirror_args *a;
    const struct authority *au;
    bool has_connection; /* the request has a Connection header */
};

/* Writes (or counts) the whole request; validate() accepted it. */
static void emit(struct http_out *o, const void *ctx)
{
    const struct shape_job *job = ctx;
    const struct config_mirror *m = job->m;
    const struct mirror_args *a = job->a;
    const struct authority *au = job->au;
    http_emit_request_line(o, a->method.ptr, a->method.len, m->base_path, a->path.ptr, a->path.len);
    http_emit_header_start(o, "Host", 4);
    http_put(o, au->head, au->head_len);
    http_put(o, au->ins, au->ins_len);
    http_put(o, au->tail, au->tail_len);
    http_emit_crlf(o);

    size_t off = 0;
    struct spop_bytes n, v;
    int r;
    while (a->hdrs.len > 0 && (r = hdrs_bin_next(a->hdrs.ptr + off, a->hdrs.len - off, &n, &v)) > 0) {
        off += (size_t)r;
        bool te_trailers = header_is_te_trailers(n.ptr, n.len, v.ptr, v.len);
        if (header_dropped(m, a, job->has_connection, te_trailers, n))
            continue;
        if (te_trailers)
            v = (struct spop_bytes){(const uint8_t *)"trailers", 8}; /* the only form HTTP/2 allows */
        http_emit_header(o, n.ptr, n.len, v.ptr, v.len);
    }
    /* Configured headers, once each; never one the shaper writes itself or a
     * hop-by-hop one (a set Transfer-Encoding would contradict Content-Length). */
    for (size_t i = 0; i < m->n_headers_set; i++) {
        const struct config_header_set *h = &m->headers_set[i];
        size_t name_len = strlen(h->name);
        if (!http_is_hop_by_hop((const uint8_t *)h->name, name_len))
            http_emit_header(o, h->name, name_len, h->value, strlen(h->value));
    }
    http_emit_body(o, a->method.ptr, a->method.len, a->body.ptr, a->body.len);
}

bool shape_body_cut(const struct mirror_args *a)
{
    if (a->body_size > a->body.len)
        return true;
    if (a->body.len == 0)
        return false; /* whole, and no gRPC framing to check */
    size_t off = 0;
    struct spop_bytes n, v;
    int r;
    while (a->hdrs.len > 0 && (r = hdrs_bin_next(a->hdrs.ptr + off, a->hdrs.len - off, &n, &v)) > 0) {
        off += (size_t)r;
        if (spop_bytes_ieq_str(n, "content-type"))
            return grpc_is_content_type(v.ptr, v.len) && grpc_body_messages(a->body.ptr, a->body.len) < 0;
    }
    return false;
}

enum shape_status shape_request(const struct config_mirror *m, const struct mirror_args *a, size_t max_len,
                                uint8_t **out, size_t *out_len)
{
    /* HAProxy cuts a body that does not fit its buffer without saying so:
     * only body_size, or a gRPC body's framing, tells. A short copy must
     * never be sent. */
    if (shape_body_cut(a))
        return SHAPE_BODY_TRUNCATED;
    struct authority au = authority_of(m, a->host);
    bool has_connection;
    enum shape_status st = validate(m, a, &au, &has_connection);
    if (st != SHAPE_OK)
        return st;
    const struct shape_job job = {.m = m, .a = a, .au = &au, .has_connection = has_connection};
    uint8_t *buf = http_emit_alloc(emit, &job, max_len, out_len);
    if (buf == NULL)
        return SHAPE_TOO_LARGE;
    *out = buf;
    return SHAPE_OK;
}
