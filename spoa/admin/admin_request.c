/* See admin_request.h. */
#include "admin/admin_request.h"

#include <string.h>

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct admin_request *r = p->data;
    if (r->url_len + len >= sizeof(r->url)) {
        r->url_too_long = true;
        return 0;
    }
    memcpy(r->url + r->url_len, at, len);
    r->url_len += len;
    r->url[r->url_len] = '\0';
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct admin_request *r = p->data;
    r->complete = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings admin_parser_settings = {
    .on_url = on_url,
    .on_message_complete = on_message_complete,
};

void admin_request_init(struct admin_request *r, size_t max_len)
{
    memset(r, 0, sizeof(*r));
    r->max_len = max_len;
    r->status = ADMIN_REQUEST_INCOMPLETE;
    http_parser_init(&r->parser, HTTP_REQUEST);
    r->parser.data = r;
}

enum admin_request_status admin_request_feed(struct admin_request *r, const uint8_t *p, size_t n)
{
    /* libhttp-parser takes 0 bytes as the end of the stream. */
    if (r->status != ADMIN_REQUEST_INCOMPLETE || n == 0)
        return r->status;
    size_t used = http_parser_execute(&r->parser, &admin_parser_settings, (const char *)p, n);
    r->fed += n;
    if (r->complete) {
        size_t plen = strcspn(r->url, "?");
        memcpy(r->path, r->url, plen);
        r->path[plen] = '\0';
        r->status = ADMIN_REQUEST_COMPLETE;
    } else if (used != n || HTTP_PARSER_ERRNO(&r->parser) != HPE_OK) {
        r->status = ADMIN_REQUEST_BAD;
    } else if (r->fed > r->max_len) {
        r->status = ADMIN_REQUEST_TOO_LARGE;
    }
    return r->status;
}

enum http_method admin_request_method(const struct admin_request *r)
{
    return (enum http_method)r->parser.method;
}

bool admin_request_head_only(const struct admin_request *r)
{
    return admin_request_method(r) == HTTP_HEAD;
}

enum admin_route admin_request_route(const struct admin_request *r)
{
    enum http_method method = admin_request_method(r);
    bool get = method == HTTP_GET || method == HTTP_HEAD;
    const char *path = r->path;
    if (r->url_too_long)
        return ADMIN_ROUTE_URI_TOO_LONG;
    if (strcmp(path, "/metrics") == 0 && get)
        return ADMIN_ROUTE_METRICS;
    if (strcmp(path, "/healthz") == 0 && get)
        return ADMIN_ROUTE_HEALTHZ;
    if (strcmp(path, "/readyz") == 0 && get)
        return ADMIN_ROUTE_READYZ;
    if (strcmp(path, "/-/reload") == 0 && method == HTTP_POST)
        return ADMIN_ROUTE_RELOAD;
    if (strcmp(path, "/metrics") == 0 || strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
        strcmp(path, "/-/reload") == 0)
        return ADMIN_ROUTE_NOT_ALLOWED;
    return ADMIN_ROUTE_NOT_FOUND;
}
