/* Rebuilding a captured request (capture_record.h) as the HTTP/1.1 request
 * `spoa-shadow replay` sends. Pure: no I/O. */
#ifndef SPOA_REPLAY_REQUEST_H
#define SPOA_REPLAY_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "capture/capture_record.h"

/* Which Host the replayed request carries (--authority). */
enum replay_authority {
    REPLAY_AUTH_SHADOW = 0, /* the record's shadow_authority (default) */
    REPLAY_AUTH_KEEP,       /* the record's original authority */
    REPLAY_AUTH_FIXED,      /* replay_shape.fixed_authority: the target's host:port, or a literal */
};

struct replay_shape {
    const char *base_path; /* "" or "/a/b" (no trailing '/'): prefixed to every path */
    enum replay_authority authority;
    const char *fixed_authority; /* REPLAY_AUTH_FIXED only */
};

/* replay_build_request: writes into a new heap buffer (*out, *out_len; the
 * caller frees it): "<method> <base_path><path> HTTP/1.1", "Host: <value
 * chosen by s->authority>", the record's headers in their order (duplicates
 * kept) except hop-by-hop ones (http_is_hop_by_hop(): connection, keep-alive, te,
 * trailer, transfer-encoding, upgrade, expect, proxy-*, host,
 * content-length), the headers the Connection header names, and headers whose
 * value is exactly CAPTURE_REDACTED (their real value is unknown); then
 * "Content-Length: <body length>" when the body is not empty or the method is
 * POST, PUT or PATCH; then the body. Returns 0; or -1 with *why set to a
 * static reason, nothing allocated, for a record that cannot be written as
 * HTTP/1.1: a method that is not a token, a path that does not start with
 * '/' (except "*" with an empty base path) or holds controls or spaces, a
 * header name that is not a token, or CR, LF or NUL in a header value or in
 * the Host value. */
int replay_build_request(const struct replay_shape *s, const struct capture_record *r, uint8_t **out,
                         size_t *out_len, const char **why);

#endif
