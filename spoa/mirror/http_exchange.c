#include "mirror/http_exchange.h"

static bool is_interim(unsigned status)
{
    return status >= 100 && status < 200 && status != 101;
}

static int on_headers_complete(http_parser *p)
{
    struct http_exchange *x = p->data;
    /* libhttp-parser takes a status of one or two digits: not HTTP. */
    if (p->status_code < 100)
        return -1;
    if (is_interim(p->status_code) && ++x->interim > HTTP_EXCHANGE_MAX_INTERIM)
        return -1; /* a flood of interim responses: a parser error */
    if (!is_interim(p->status_code)) {
        x->status = (int)p->status_code;
        if (x->sink && !x->headers)
            x->sink->headers_done(x->sink_ctx);
        x->headers = true;
        /* A body announced longer than the limit is cut at once, unread,
         * unless an observer wants the part of it that fits. */
        x->announced_too_large = !x->sink && !x->head && (p->flags & F_CONTENTLENGTH) &&
                                 !(p->flags & F_CHUNKED) && p->content_length > x->max_body &&
                                 p->status_code >= 200 && p->status_code != 204 && p->status_code != 304;
        /* Stop on the headers' last byte, so that feed() knows where the body
         * starts; the parser takes that byte again when it resumes. */
        http_parser_pause(p, 1);
    }
    /* A response to HEAD, and a 1xx, 204 or 304 response, has no body,
     * whatever its headers say (RFC 9112 section 6.3); libhttp-parser would
     * otherwise wait for the bytes a Content-Length announces. */
    if (x->head)
        return 1;
    if (p->status_code < 200 || p->status_code == 204 || p->status_code == 304)
        return 1;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct http_exchange *x = p->data;
    if (is_interim(p->status_code))
        return 0; /* an interim response: the final one follows */
    x->complete = true;
    /* After a 101 the connection no longer speaks HTTP: never reuse it. */
    x->keep_alive = http_should_keep_alive(p) != 0 && !p->upgrade && p->status_code != 101;
    http_parser_pause(p, 1);
    return 0;
}

/* The observer's hooks: each forwards to the sink when there is one. */
static int on_message_begin(http_parser *p)
{
    struct http_exchange *x = p->data;
    if (x->sink)
        x->sink->begin(x->sink_ctx);
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct http_exchange *x = p->data;
    if (x->sink)
        x->sink->field(x->sink_ctx, at, n);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct http_exchange *x = p->data;
    if (x->sink)
        x->sink->value(x->sink_ctx, at, n);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct http_exchange *x = p->data;
    if (x->sink)
        x->sink->body(x->sink_ctx, at, n);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_exchange_start(struct http_exchange *x, const uint8_t *req, size_t len, bool head,
                         uint64_t max_body)
{
    x->req = req;
    x->len = len;
    x->written = 0;
    x->head = head;
    x->got_bytes = false;
    x->headers = false;
    x->complete = false;
    x->keep_alive = false;
    x->extra_bytes = false;
    x->lf_pending = false;
    x->announced_too_large = false;
    x->status = 0;
    x->interim = 0;
    x->max_body = max_body;
    x->body = 0;
    x->sink = NULL;
    x->sink_ctx = NULL;
    http_parser_init(&x->parser, HTTP_RESPONSE);
    x->parser.data = x;
}

/* Counts the <used> bytes just parsed after the headers into x->body. */
static void count_body(struct http_exchange *x, size_t used)
{
    if (x->lf_pending && used > 0) {
        x->lf_pending = false;
        used--;
    }
    x->body += used;
}

enum http_exchange_result http_exchange_feed(struct http_exchange *x, const uint8_t *p, size_t n)
{
    if (n == 0) {
        http_parser_execute(&x->parser, &parser_settings, (const char *)p, 0);
        return x->complete ? HTTP_EXCHANGE_COMPLETE : HTTP_EXCHANGE_CLOSED;
    }
    x->got_bytes = true;
    size_t off = 0;
    while (off < n) {
        bool in_body = x->headers;
        size_t take = n - off;
        if (in_body) {
            /* Never parse further than one byte past the limit. */
            size_t lf = x->lf_pending ? 1 : 0;
            uint64_t left = x->max_body - x->body;
            if ((uint64_t)(take - lf) > left)
                take = (size_t)left + 1 + lf;
        }
        size_t used = http_parser_execute(&x->parser, &parser_settings, (const char *)p + off, take);
        enum http_errno err = HTTP_PARSER_ERRNO(&x->parser);
        if (in_body)
            count_body(x, used);
        off += used;
        if (x->headers && x->body > x->max_body) {
            x->complete = false; /* even when it just ended: a byte past the limit */
            x->keep_alive = false;
            return HTTP_EXCHANGE_TOO_LARGE;
        }
        if (x->complete) {
            if (off != n) {
                x->extra_bytes = true;
                x->keep_alive = false; /* bytes beyond the response: do not trust the connection */
            }
            return HTTP_EXCHANGE_COMPLETE;
        }
        if (err == HPE_PAUSED && !in_body && x->headers) {
            /* Stopped at the end of the final response's headers: go on with
             * its body, unless its Content-Length is already past the limit. */
            if (x->announced_too_large) {
                x->keep_alive = false;
                return HTTP_EXCHANGE_TOO_LARGE;
            }
            http_parser_pause(&x->parser, 0);
            x->lf_pending = true;
            continue;
        }
        if (err != HPE_OK || used != take)
            return HTTP_EXCHANGE_BAD;
    }
    return HTTP_EXCHANGE_MORE;
}

void http_exchange_observe(struct http_exchange *x, const struct http_exchange_sink *sink, void *ctx)
{
    x->sink = sink;
    x->sink_ctx = ctx;
}
