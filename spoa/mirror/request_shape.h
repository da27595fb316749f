/* Shaping the copy: the HTTP/1.1 request sent to a mirror, built from what
 * HAProxy sent and the mirror's settings. Pure: no I/O. */
#ifndef SPOA_REQUEST_SHAPE_H
#define SPOA_REQUEST_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "mirror/mirror_args.h"

/* Why a request is not shaped (and so not mirrored). */
enum shape_status {
    SHAPE_OK = 0,
    SHAPE_BODY_TRUNCATED, /* body_size > body received: HAProxy cut it; never send it short */
    SHAPE_BAD_REQUEST,    /* a method, path or header that cannot go on an HTTP/1.1 wire */
    SHAPE_TOO_LARGE,      /* the request would exceed the caller's size limit */
};

/* shape_status_str: a static snake_case name ("body_truncated", ...). */
const char *shape_status_str(enum shape_status s);

/* shape_authority: writes the mirror's Host value for original host <host>
 * into <dst> (size <cap>, NUL-terminated): AUTHORITY_SHADOW inserts "-shadow"
 * after the host name and before any port ("httpbin:8000" ->
 * "httpbin-shadow:8000"); an IP literal (IPv4 or [IPv6]) names no service and
 * is kept as it is; AUTHORITY_KEEP copies <host>; AUTHORITY_LITERAL writes the
 * configured name. As in Istio, the suffix goes after the whole host name, case
 * kept ("HTTPBIN.default.svc:80" -> "HTTPBIN.default.svc-shadow:80"); a fully
 * qualified "svc.local." becomes "svc.local-shadow."; an unbracketed IPv6
 * address is kept too. An empty <host> (HTTP/1.0 without Host) gives an empty
 * value, which shape_request() sends as an empty Host, as RFC 9112 asks when
 * there is no authority. Returns the length, or -1 when <cap> is too small. */
int shape_authority(const struct config_mirror *m, struct spop_bytes host, char *dst, size_t cap);

/* shape_body_cut: true when the body of <a> is not whole: body_size says
 * more than was received, or the request is gRPC (a Content-Type header that
 * grpc_is_content_type() accepts) and its body ends inside a message.
 * HAProxy's body_size cannot tell the latter: gRPC clients send no
 * Content-Length, and HAProxy then reports what it buffered (2.6) or 0 (3.x). */
bool shape_body_cut(const struct mirror_args *a);

/* shape_request: builds the request for mirror <m> into a new heap buffer:
 * "<METHOD> <base_path><path> HTTP/1.1", Host from shape_authority(), the
 * original headers minus hop-by-hop ones (http_is_hop_by_hop()), minus the headers named by the
 * Connection header (but "te: trailers" is kept, written "te: trailers":
 * header_is_te_trailers()), minus headers.remove, plus headers.set (replacing same
 * names), Content-Length equal to the body's length when there is a body or
 * the method usually carries one (POST, PUT, PATCH: then "0" when empty), then
 * the body; never Transfer-Encoding. Original header order and duplicates are
 * kept; headers.set entries come after them, in configured order (a hop-by-hop
 * name there is ignored). Checks, in order: shape_body_cut() ->
 * SHAPE_BODY_TRUNCATED; a method that is not a token or is CONNECT (a tunnel:
 * its recipient would not read the body as one), a path with controls or
 * spaces, a path not starting with '/' (except "*" when the base path is
 * empty: absolute form is refused), a header name that is not a token, CR, LF
 * or NUL in a header value or the Host, a malformed hdrs block ->
 * SHAPE_BAD_REQUEST; a result longer than <max_len> (SIZE_MAX for no limit) ->
 * SHAPE_TOO_LARGE. On SHAPE_OK, *out (one allocation of exactly *out_len
 * bytes, caller frees) and *out_len are set; nothing is allocated otherwise. */
enum shape_status shape_request(const struct config_mirror *m, const struct mirror_args *a, size_t max_len,
                                uint8_t **out, size_t *out_len);

#endif
