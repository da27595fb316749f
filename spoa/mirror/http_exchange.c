#include "mirror/http_exchange.h"

static int on_headers_complete(http_parser *p)
{
    struct http_exchange *x = p->data;
    x->status = (int)p->status_code;
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
    if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101)
        return 0; /* an interim response: the final one follows */
    x->complete = true;
    /* After a 101 the connection no longer speaks HTTP: never reuse it. */
    x->keep_alive = http_should_keep_alive(p) != 0 && !p->upgrade && p->status_code != 101;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_headers_complete = on_headers_complete,
    .on_message_complete = on_message_complete,
};

void http_exchange_start(struct http_exchange *x, const uint8_t *req, size_t len, bool head)
{
    x->req = req;
    x->len = len;
    x->written = 0;
    x->head = head;
    x->got_bytes = false;
    x->complete = false;
    x->keep_alive = false;
    x->extra_bytes = false;
    x->status = 0;
    http_parser_init(&x->parser, HTTP_RESPONSE);
    x->parser.data = x;
}

enum http_exchange_result http_exchange_feed(struct http_exchange *x, const uint8_t *p, size_t n)
{
    if (n > 0)
        x->got_bytes = true;
    size_t used = http_parser_execute(&x->parser, &parser_settings, (const char *)p, n);
    if (x->complete) {
        if (used != n) {
            x->extra_bytes = true;
            x->keep_alive = false; /* bytes beyond the response: do not trust the connection */
        }
        return HTTP_EXCHANGE_COMPLETE;
    }
    if (n == 0 || used != n || HTTP_PARSER_ERRNO(&x->parser) != HPE_OK)
        return HTTP_EXCHANGE_FAILED;
    return HTTP_EXCHANGE_MORE;
}
