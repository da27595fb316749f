/* See replay_request.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "replay/replay_request.h"
#include "mirror/request_shape.h"
#include "core/xalloc.h"

/* RFC 9110 tchar. */
static bool is_tchar(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(struct spop_bytes b)
{
    if (b.len == 0)
        return false;
    for (size_t i = 0; i < b.len; i++)
        if (!is_tchar(b.ptr[i]))
            return false;
    return true;
}

/* No CR, LF or NUL: the value stays on its header line. */
static bool is_field_value(struct spop_bytes b)
{
    for (size_t i = 0; i < b.len; i++)
        if (b.ptr[i] == '\r' || b.ptr[i] == '\n' || b.ptr[i] == '\0')
            return false;
    return true;
}

/* A request-target: visible ASCII or non-ASCII bytes, no spaces or controls. */
static bool is_target(struct spop_bytes b)
{
    for (size_t i = 0; i < b.len; i++)
        if (b.ptr[i] <= 0x20 || b.ptr[i] == 0x7f)
            return false;
    return true;
}

/* True when a Connection header of <r> lists <name> among its tokens. */
static bool named_by_connection(const struct capture_record *r, struct spop_bytes name)
{
    static const struct spop_bytes connection = {(const uint8_t *)"connection", 10};
    for (size_t i = 0; i < r->n_headers; i++) {
        if (!spop_bytes_ieq(r->headers[i].name, connection))
            continue;
        if (token_list_has(r->headers[i].value, name))
            return true;
    }
    return false;
}

static bool forwarded(const struct capture_record *r, const struct capture_header *h)
{
    if (is_hop_by_hop(h->name))
        return false;
    if (spop_bytes_eq(h->value, CAPTURE_REDACTED))
        return false;
    return !named_by_connection(r, h->name);
}

static bool method_has_body(struct spop_bytes m)
{
    return spop_bytes_eq(m, "POST") || spop_bytes_eq(m, "PUT") || spop_bytes_eq(m, "PATCH");
}

static struct spop_bytes host_value(const struct replay_shape *s, const struct capture_record *r)
{
    switch (s->authority) {
    case REPLAY_AUTH_KEEP:
        return r->authority;
    case REPLAY_AUTH_FIXED:
        return (struct spop_bytes){(const uint8_t *)s->fixed_authority, strlen(s->fixed_authority)};
    case REPLAY_AUTH_SHADOW:
        break;
    }
    return r->shadow_authority;
}

static void put(struct buf *b, const void *p, size_t n)
{
    if (n && !buf_append(b, p, n))
        abort(); /* the buffer has no limit */
}

static void put_s(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static const char *check(const struct replay_shape *s, const struct capture_record *r, struct spop_bytes host)
{
    if (!is_token(r->method))
        return "method is not a token";
    bool star = spop_bytes_eq(r->path, "*") && s->base_path[0] == '\0';
    if (!star && (r->path.len == 0 || r->path.ptr[0] != '/'))
        return "path does not start with '/'";
    if (!is_target(r->path))
        return "path holds spaces or control characters";
    if (!is_field_value(host))
        return "Host value holds CR, LF or NUL";
    for (size_t i = 0; i < r->n_headers; i++) {
        if (!is_token(r->headers[i].name))
            return "header name is not a token";
        if (!is_field_value(r->headers[i].value))
            return "header value holds CR, LF or NUL";
    }
    return NULL;
}

int replay_build_request(const struct replay_shape *s, const struct capture_record *r, uint8_t **out,
                         size_t *out_len, const char **why)
{
    struct spop_bytes host = host_value(s, r);
    const char *bad = check(s, r, host);
    if (bad) {
        *why = bad;
        return -1;
    }
    struct buf b;
    buf_init(&b, SIZE_MAX);
    put(&b, r->method.ptr, r->method.len);
    put_s(&b, " ");
    put_s(&b, s->base_path);
    put(&b, r->path.ptr, r->path.len);
    put_s(&b, " HTTP/1.1\r\nHost: ");
    put(&b, host.ptr, host.len);
    put_s(&b, "\r\n");
    for (size_t i = 0; i < r->n_headers; i++) {
        const struct capture_header *h = &r->headers[i];
        if (!forwarded(r, h))
            continue;
        put(&b, h->name.ptr, h->name.len);
        put_s(&b, ": ");
        put(&b, h->value.ptr, h->value.len);
        put_s(&b, "\r\n");
    }
    if (r->body.len > 0 || method_has_body(r->method)) {
        char cl[48];
        snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", r->body.len);
        put_s(&b, cl);
    }
    put_s(&b, "\r\n");
    put(&b, r->body.ptr, r->body.len);
    /* one allocation of exactly the request's size, as the client expects to own */
    *out_len = b.len;
    *out = xmemdup(buf_peek(&b), b.len);
    buf_free(&b);
    return 0;
}
