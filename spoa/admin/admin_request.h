/* The admin endpoint's request parsing: the bytes a client sends, fed as they
 * come, give its method and path once it is complete (or say it is malformed
 * or too large), and the path and method give the endpoint that answers.
 * Pure: no I/O, no event loop; admin.c does the reading and the answering. */
#ifndef SPOA_ADMIN_REQUEST_H
#define SPOA_ADMIN_REQUEST_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the request target (URL) and its NUL; a longer one is kept out
 * and the request answered 414. */
#define ADMIN_URL_CAP 256

/* Where a request stands after a feed. */
enum admin_request_status {
    ADMIN_REQUEST_INCOMPLETE = 0, /* more bytes are needed */
    ADMIN_REQUEST_COMPLETE,       /* one whole request was read: method and path are set */
    ADMIN_REQUEST_BAD,            /* not an HTTP/1.x request (libhttp-parser refused it) */
    ADMIN_REQUEST_TOO_LARGE,      /* still incomplete after more than the size limit */
};

/* Which answer a complete request gets. */
enum admin_route {
    ADMIN_ROUTE_METRICS = 0,  /* GET or HEAD /metrics */
    ADMIN_ROUTE_HEALTHZ,      /* GET or HEAD /healthz */
    ADMIN_ROUTE_READYZ,       /* GET or HEAD /readyz */
    ADMIN_ROUTE_RELOAD,       /* POST /-/reload */
    ADMIN_ROUTE_NOT_ALLOWED,  /* one of those paths with another method: 405 */
    ADMIN_ROUTE_NOT_FOUND,    /* any other path: 404 */
    ADMIN_ROUTE_URI_TOO_LONG, /* a URL of ADMIN_URL_CAP bytes or more: 414 */
};

/* One request being read. Fill it with admin_request_init() and do not copy
 * it afterwards (the parser points back to it). */
struct admin_request {
    http_parser parser;
    size_t max_len; /* the size limit */
    size_t fed;     /* bytes fed so far */
    enum admin_request_status status;
    bool complete;
    bool url_too_long;
    size_t url_len;
    char url[ADMIN_URL_CAP];  /* the request target as sent, NUL-terminated */
    char path[ADMIN_URL_CAP]; /* the URL up to its first '?'; set when complete */
};

/* admin_request_init: an empty request whose bytes, once more than <max_len>
 * of them have been fed without a complete request, make it TOO_LARGE. */
void admin_request_init(struct admin_request *r, size_t max_len);

/* admin_request_feed: parses the next <n> bytes at <p> of the stream and
 * returns the status. Once a status other than INCOMPLETE is returned it is
 * final: later feeds change nothing and return it again. Bytes after a
 * complete request are ignored (one request per connection). Feeding 0 bytes
 * changes nothing (it does not mean the end of the stream). Checked in order:
 * the request is complete (COMPLETE), libhttp-parser refused a byte (BAD), more
 * than max_len bytes were fed (TOO_LARGE). */
enum admin_request_status admin_request_feed(struct admin_request *r, const uint8_t *p, size_t n);

/* admin_request_method: the method of a complete request (enum http_method). */
enum http_method admin_request_method(const struct admin_request *r);

/* admin_request_head_only: true when a complete request is a HEAD: its answer
 * is sent without the body. */
bool admin_request_head_only(const struct admin_request *r);

/* admin_request_route: the endpoint that answers a complete request: a URL
 * too long to keep gives URI_TOO_LONG; otherwise the path (query left out)
 * and the method choose (GET and HEAD read, POST reloads). */
enum admin_route admin_request_route(const struct admin_request *r);

#endif
