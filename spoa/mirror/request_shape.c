/* Shaping the copy sent to a mirror: the request line, Host, the forwarded
 * headers, Content-Length and the body, as one HTTP/1.1 message. */
#include "mirror/request_shape.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

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

static const char *const hop_by_hop[] = {
    "connection", "keep-alive", "te",   "trailer",        "transfer-encoding",
    "upgrade",    "expect",     "host", "content-length",
};

bool is_hop_by_hop(struct spop_bytes name)
{
    for (size_t i = 0; i < sizeof(hop_by_hop) / sizeof(hop_by_hop[0]); i++)
        if (spop_bytes_ieq_str(name, hop_by_hop[i]))
            return true;
    static const char proxy[] = "proxy-";
    return name.len >= sizeof(proxy) - 1 &&
           spop_bytes_ieq_str((struct spop_bytes){name.ptr, sizeof(proxy) - 1}, proxy);
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

bool token_list_has(struct spop_bytes list, struct spop_bytes name)
{
    size_t off = 0;
    while (off < list.len) {
        const uint8_t *start = list.ptr + off;
        const uint8_t *comma = memchr(start, ',', list.len - off);
        struct spop_bytes tok = {start, comma != NULL ? (size_t)(comma - start) : list.len - off};
        off += tok.len + 1;
        while (tok.len > 0 && is_ows(tok.ptr[0])) {
            tok.ptr++;
            tok.len--;
        }
        while (tok.len > 0 && is_ows(tok.ptr[tok.len - 1]))
            tok.len--;
        if (tok.len > 0 && spop_bytes_ieq(tok, name))
            return true;
    }
    return false;
}

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
        if (spop_bytes_ieq_str(n, "connection") && token_list_has(v, name))
            return true;
    }
}

/* True when the original header <name> is not forwarded. <has_connection>
 * tells whether the request has a Connection header at all. */
static bool header_dropped(const struct config_mirror *m, const struct mirror_args *a, bool has_connection,
                           struct spop_bytes name)
{
    if (is_hop_by_hop(name))
        return true;
    for (size_t i = 0; i < m->n_headers_remove; i++)
        if (spop_bytes_ieq_str(name, m->headers_remove[i]))
            return true;
    for (size_t i = 0; i < m->n_headers_set; i++)
        if (spop_bytes_ieq_str(name, m->headers_set[i].name))
            return true;
    return has_connection && connection_names(a->hdrs, name);
}

/* ---- validation ---- */

/* RFC 9110 tchar: the characters of a method or a header name. */
static bool is_tchar(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(p[i]))
            return false;
    return true;
}

/* A field value or Host: anything but CR, LF and NUL, which would end the
 * line (or the string) early and let a second request be smuggled in. */
static bool is_field_value(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
            return false;
    return true;
}

/* A request target: no control characters, no spaces. */
static bool is_target(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] <= ' ' || p[i] == 0x7f)
            return false;
    return true;
}

/* True for the methods whose requests usually carry a body: they always get
 * a Content-Length, "0" when empty. */
static bool method_has_body(struct spop_bytes method)
{
    return spop_bytes_eq(method, "POST") || spop_bytes_eq(method, "PUT") || spop_bytes_eq(method, "PATCH");
}

/* ---- output ---- */

/* Appends to <buf> when it is set; counts bytes either way. */
struct out {
    uint8_t *buf;
    size_t len;
};

static void put(struct out *o, const void *p, size_t n)
{
    if (o->buf != NULL && n > 0)
        memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_header(struct out *o, const void *name, size_t name_len, const void *value, size_t value_len)
{
    put(o, name, name_len);
    put(o, ": ", 2);
    put(o, value, value_len);
    put(o, "\r\n", 2);
}

static void put_uint(struct out *o, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    put(o, digits + sizeof(digits) - n, n);
}

/* Checks everything that goes on the wire; SHAPE_OK or SHAPE_BAD_REQUEST. */
static enum shape_status validate(const struct config_mirror *m, const struct mirror_args *a,
                                  const struct authority *au)
{
    const char *base = m->base_path != NULL ? m->base_path : "";
    if (!is_token(a->method.ptr, a->method.len))
        return SHAPE_BAD_REQUEST;
    if (a->path.len == 0 || !is_target(a->path.ptr, a->path.len) ||
        !is_target((const uint8_t *)base, strlen(base)))
        return SHAPE_BAD_REQUEST;
    /* Origin form only; "*" (OPTIONS) only when there is no base path to prepend. */
    if (a->path.ptr[0] != '/' && !(spop_bytes_eq(a->path, "*") && base[0] == '\0'))
        return SHAPE_BAD_REQUEST;
    if (!is_field_value(au->head, au->head_len) || !is_field_value(au->tail, au->tail_len))
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
        if (!is_token(n.ptr, n.len) || !is_field_value(v.ptr, v.len))
            return SHAPE_BAD_REQUEST;
    }
    for (size_t i = 0; i < m->n_headers_set; i++) {
        const char *n = m->headers_set[i].name, *v = m->headers_set[i].value;
        if (n == NULL || v == NULL || !is_token((const uint8_t *)n, strlen(n)) ||
            !is_field_value((const uint8_t *)v, strlen(v)))
            return SHAPE_BAD_REQUEST;
    }
    return SHAPE_OK;
}

/* Writes (or counts) the whole request; validate() accepted it. */
static void emit(struct out *o, const struct config_mirror *m, const struct mirror_args *a,
                 const struct authority *au)
{
    put(o, a->method.ptr, a->method.len);
    put(o, " ", 1);
    if (m->base_path != NULL)
        put_str(o, m->base_path);
    put(o, a->path.ptr, a->path.len);
    put_str(o, " HTTP/1.1\r\nHost: ");
    put(o, au->head, au->head_len);
    put(o, au->ins, au->ins_len);
    put(o, au->tail, au->tail_len);
    put(o, "\r\n", 2);

    bool has_connection = false;
    size_t off = 0;
    struct spop_bytes n, v;
    int r;
    while (a->hdrs.len > 0 && (r = hdrs_bin_next(a->hdrs.ptr + off, a->hdrs.len - off, &n, &v)) > 0) {
        off += (size_t)r;
        has_connection = has_connection || spop_bytes_ieq_str(n, "connection");
    }
    off = 0;
    while (a->hdrs.len > 0 && (r = hdrs_bin_next(a->hdrs.ptr + off, a->hdrs.len - off, &n, &v)) > 0) {
        off += (size_t)r;
        if (!header_dropped(m, a, has_connection, n))
            put_header(o, n.ptr, n.len, v.ptr, v.len);
    }
    /* Configured headers, once each; never one the shaper writes itself or a
     * hop-by-hop one (a set Transfer-Encoding would contradict Content-Length). */
    for (size_t i = 0; i < m->n_headers_set; i++) {
        const struct config_header_set *h = &m->headers_set[i];
        struct spop_bytes hn = {(const uint8_t *)h->name, strlen(h->name)};
        if (!is_hop_by_hop(hn))
            put_header(o, h->name, hn.len, h->value, strlen(h->value));
    }
    if (a->body.len > 0 || method_has_body(a->method)) {
        put_str(o, "Content-Length: ");
        put_uint(o, a->body.len);
        put(o, "\r\n", 2);
    }
    put(o, "\r\n", 2);
    put(o, a->body.ptr, a->body.len);
}

enum shape_status shape_request(const struct config_mirror *m, const struct mirror_args *a, size_t max_len,
                                uint8_t **out, size_t *out_len)
{
    /* HAProxy cuts a body that does not fit its buffer without saying so:
     * only body_size tells. A short copy must never be sent. */
    if (a->body_size > a->body.len)
        return SHAPE_BODY_TRUNCATED;
    struct authority au = authority_of(m, a->host);
    enum shape_status st = validate(m, a, &au);
    if (st != SHAPE_OK)
        return st;
    struct out count = {.buf = NULL, .len = 0};
    emit(&count, m, a, &au);
    if (count.len > max_len)
        return SHAPE_TOO_LARGE;
    struct out o = {.buf = xmalloc(count.len), .len = 0};
    emit(&o, m, a, &au);
    if (o.len != count.len)
        abort(); /* both passes run the same code on the same input */
    *out = o.buf;
    *out_len = o.len;
    return SHAPE_OK;
}
