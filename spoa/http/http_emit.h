/* Writing an HTTP/1.1 request: the request line, header lines, the
 * Content-Length the body really has, and the body. Callers check the pieces
 * with http_syntax.h first; these functions write bytes as they are given.
 *
 * http_emit_alloc() writes a request into a buffer on the stack while
 * counting its size; a request too long for it is written again, into an
 * allocation of exactly that size: the same code runs twice. */
#ifndef SPOA_HTTP_EMIT_H
#define SPOA_HTTP_EMIT_H

#include <stddef.h>
#include <stdint.h>

/* Where bytes go: appended at buf + len while they fit in <cap> bytes; only
 * counted in len when buf is NULL, and from the first piece that does not
 * fit on (len then exceeds cap). */
struct http_out {
    uint8_t *buf;
    size_t len;
    size_t cap;
};

/* http_put: writes (or counts) the <n> bytes at <p>; <p> may be NULL when <n> is 0. */
void http_put(struct http_out *o, const void *p, size_t n);

/* http_put_str: writes (or counts) the C string <s>, without its NUL. */
void http_put_str(struct http_out *o, const char *s);

/* http_emit_request_line: "<method> <base><path> HTTP/1.1\r\n". <base> is a
 * C string ("" or NULL for none). */
void http_emit_request_line(struct http_out *o, const uint8_t *method, size_t method_len, const char *base,
                            const uint8_t *path, size_t path_len);

/* http_emit_header_start: "<name>: "; the caller writes the value with
 * http_put() and ends the line with http_emit_crlf(). */
void http_emit_header_start(struct http_out *o, const void *name, size_t name_len);

/* http_emit_crlf: "\r\n". */
void http_emit_crlf(struct http_out *o);

/* http_emit_header: one header line "<name>: <value>\r\n". */
void http_emit_header(struct http_out *o, const void *name, size_t name_len, const void *value,
                      size_t value_len);

/* http_emit_body: ends the header block and writes the body: first
 * "Content-Length: <body_len>\r\n" when the body is not empty or the method
 * usually carries one (http_method_has_body()), so the length on the wire is
 * always the body's own (never Transfer-Encoding); then the blank line and
 * the <body_len> bytes at <body>. */
void http_emit_body(struct http_out *o, const uint8_t *method, size_t method_len, const uint8_t *body,
                    size_t body_len);

/* Writes a whole message into <o>; must write the same bytes on every call
 * with the same <ctx>. */
typedef void (*http_emit_fn)(struct http_out *o, const void *ctx);

/* http_emit_alloc: runs <emit> into a stack buffer, counting, and copies
 * the message into a new heap buffer of exactly its size; a message longer
 * than the stack buffer is written by a second run, into the heap buffer.
 * Returns the buffer (the caller frees it) with its size in *out_len; or
 * NULL, nothing allocated, when the message would be longer than <max_len>
 * (SIZE_MAX for no limit). Aborts when two runs disagree. */
uint8_t *http_emit_alloc(http_emit_fn emit, const void *ctx, size_t max_len, size_t *out_len);

#endif
