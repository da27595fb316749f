/* One HTTP/1.1 request/response exchange on a mirror connection, without any
 * I/O: it holds the request bytes (borrowed) and how many were written, and
 * feeds the response bytes read into libhttp-parser until the response is
 * whole. The response itself is discarded (an optional observer sees its
 * headers and body go by); only its status, whether its headers are in, and
 * whether the connection may carry another request are kept. Bodyless responses (to a HEAD, 1xx, 204, 304)
 * end at their headers whatever they announce; 1xx interim responses (not 101) are skipped; a body delimited
 * by the end of the connection ends with the EOF (a feed of 0 bytes). A status below 100, or more than
 * HTTP_EXCHANGE_MAX_INTERIM interim responses make the response bad, like bytes that are not HTTP. The body
 * is read up to a limit: the bytes after the final response's headers (a chunked body's framing included) may
 * not exceed max_body. A response whose Content-Length already exceeds max_body is too large as soon as its
 * headers are in, without a body byte read, unless an observer watches (it is then told the body up to the
 * limit). */
#ifndef SPOA_MIRROR_HTTP_EXCHANGE_H
#define SPOA_MIRROR_HTTP_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

/* Interim (1xx) responses accepted before the final one. */
#define HTTP_EXCHANGE_MAX_INTERIM 16

enum http_exchange_result {
    HTTP_EXCHANGE_MORE,      /* the response is not whole yet: feed more */
    HTTP_EXCHANGE_COMPLETE,  /* the response is whole: see status, keep_alive, extra_bytes */
    HTTP_EXCHANGE_CLOSED,    /* EOF before the response was whole */
    HTTP_EXCHANGE_BAD,       /* bytes that are not HTTP, or more than HTTP_EXCHANGE_MAX_INTERIM 1xx */
    HTTP_EXCHANGE_TOO_LARGE, /* the body went past max_body bytes (headers are in) */
};

/* What an observer of the response is told (http_exchange_observe), in the
 * order the parser meets it. Pieces of one name or value may come in
 * several calls (the bytes arrive in several feeds). */
struct http_exchange_sink {
    void (*begin)(void *ctx);                          /* a response starts (again, after a 1xx) */
    void (*field)(void *ctx, const char *p, size_t n); /* a piece of a header's name */
    void (*value)(void *ctx, const char *p, size_t n); /* a piece of a header's value */
    void (*headers_done)(void *ctx);                   /* the final response's headers are in */
    void (*body)(void *ctx, const char *p, size_t n);  /* body bytes, chunk framing removed */
};

/* Read the fields, write them only through the functions below. */
struct http_exchange {
    const uint8_t *req; /* the request's bytes, borrowed until the whole request is written */
    size_t len;
    size_t written; /* of <len>, handed to the connection so far */
    bool head;      /* a HEAD request: its response has no body */
    bool got_bytes; /* at least one response byte was fed */
    bool headers;   /* the final response's headers are in: status is set */
    bool complete;
    bool keep_alive;          /* on COMPLETE: the connection may carry another request */
    bool extra_bytes;         /* on COMPLETE: bytes followed the response (then keep_alive is false) */
    bool lf_pending;          /* the parser stopped on the headers' last byte: it is parsed again */
    bool announced_too_large; /* no observer, and the Content-Length is past max_body */
    int status;               /* the final response's status, once its headers are in */
    unsigned interim;         /* interim (1xx) responses skipped so far */
    uint64_t max_body;
    uint64_t body;                         /* bytes after the final response's headers parsed so far */
    const struct http_exchange_sink *sink; /* NULL: nobody observes */
    void *sink_ctx;
    http_parser parser;
};

/* http_exchange_start: (re)starts *x for the request <req> (<len> bytes,
 * borrowed until the exchange ends), a HEAD request when <head>, reading at
 * most <max_body> bytes of the response after its headers. */
void http_exchange_start(struct http_exchange *x, const uint8_t *req, size_t len, bool head,
                         uint64_t max_body);

/* http_exchange_observe: from now on, tells <sink> (borrowed, with <ctx>)
 * what the response holds; http_exchange_start() ends any observer. The
 * body is reported as parsed: at most max_body + 1 bytes. */
void http_exchange_observe(struct http_exchange *x, const struct http_exchange_sink *sink, void *ctx);

/* http_exchange_unsent: the request bytes not written yet (*len of them; 0
 * when the whole request was written). */
static inline const uint8_t *http_exchange_unsent(const struct http_exchange *x, size_t *len)
{
    *len = x->len - x->written;
    return x->req + x->written;
}

/* http_exchange_wrote: records that <n> more request bytes (at most those
 * unsent) were written. */
static inline void http_exchange_wrote(struct http_exchange *x, size_t n)
{
    x->written += n;
}

/* http_exchange_sent: true once the whole request was written. */
static inline bool http_exchange_sent(const struct http_exchange *x)
{
    return x->written >= x->len;
}

/* http_exchange_feed: parses <n> response bytes at <p>; <n> == 0 means the
 * connection reached EOF. Returns MORE, COMPLETE (once: do not feed again),
 * CLOSED, BAD or TOO_LARGE (do not feed again; complete is false). After any
 * return, x->headers tells whether the final response's headers are in
 * (with CLOSED or BAD, the body broke off; TOO_LARGE always has them). Bytes after the response are not
 * parsed: they make it COMPLETE with extra_bytes set and keep_alive false.
 * The verdict does not depend on how the bytes are split into feeds: the
 * body is parsed up to max_body + 1 bytes, never further. */
enum http_exchange_result http_exchange_feed(struct http_exchange *x, const uint8_t *p, size_t n);

#endif
