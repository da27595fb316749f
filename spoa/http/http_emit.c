/* See http_emit.h. */
#include "http/http_emit.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "http/http_syntax.h"

/* A request up to this long is written once, on the stack, then copied. */
#define EMIT_STACK_BYTES 4096

void http_put(struct http_out *o, const void *p, size_t n)
{
    if (o->buf != NULL && n > 0 && n <= o->cap && o->len <= o->cap - n)
        memcpy(o->buf + o->len, p, n);
    o->len += n;
}

void http_put_str(struct http_out *o, const char *s)
{
    http_put(o, s, strlen(s));
}

void http_emit_crlf(struct http_out *o)
{
    http_put(o, "\r\n", 2);
}

void http_emit_request_line(struct http_out *o, const uint8_t *method, size_t method_len, const char *base,
                            const uint8_t *path, size_t path_len)
{
    http_put(o, method, method_len);
    http_put(o, " ", 1);
    if (base != NULL)
        http_put_str(o, base);
    http_put(o, path, path_len);
    http_put_str(o, " HTTP/1.1\r\n");
}

void http_emit_header_start(struct http_out *o, const void *name, size_t name_len)
{
    http_put(o, name, name_len);
    http_put(o, ": ", 2);
}

void http_emit_header(struct http_out *o, const void *name, size_t name_len, const void *value,
                      size_t value_len)
{
    http_emit_header_start(o, name, name_len);
    http_put(o, value, value_len);
    http_emit_crlf(o);
}

/* The decimal digits of <v>. */
static void put_uint(struct http_out *o, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    http_put(o, digits + sizeof(digits) - n, n);
}

void http_emit_body(struct http_out *o, const uint8_t *method, size_t method_len, const uint8_t *body,
                    size_t body_len)
{
    if (body_len > 0 || http_method_has_body(method, method_len)) {
        http_put_str(o, "Content-Length: ");
        put_uint(o, body_len);
        http_emit_crlf(o);
    }
    http_emit_crlf(o);
    http_put(o, body, body_len);
}

uint8_t *http_emit_alloc(http_emit_fn emit, const void *ctx, size_t max_len, size_t *out_len)
{
    uint8_t first[EMIT_STACK_BYTES];
    struct http_out o = {.buf = first, .len = 0, .cap = sizeof(first)};
    emit(&o, ctx);
    if (o.len > max_len)
        return NULL;
    uint8_t *buf = xmalloc(o.len > 0 ? o.len : 1);
    if (o.len <= o.cap) {
        memcpy(buf, first, o.len);
    } else {
        struct http_out again = {.buf = buf, .len = 0, .cap = o.len};
        emit(&again, ctx);
        if (again.len != o.len)
            abort(); /* both runs run the same code on the same input */
    }
    *out_len = o.len;
    return buf;
}
