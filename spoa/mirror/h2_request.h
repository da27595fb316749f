/* The fields of an HTTP/2 request read from the HTTP/1.1 bytes the shaper
 * built for a copy (request_shape.h), so that both protocols send the same
 * copy and the shaper stays one. Pure: no I/O, no nghttp2. */
#ifndef SPOA_MIRROR_H2_REQUEST_H
#define SPOA_MIRROR_H2_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One field: pointers into the message (or static strings). */
struct h2_field {
    const uint8_t *name;
    size_t name_len;
    const uint8_t *value;
    size_t value_len;
};

/* Fields an h2_request holds without an allocation. */
#define H2_REQUEST_INLINE_FIELDS 32

struct h2_request {
    struct h2_field *fields; /* :method, :scheme, :authority, :path, then the headers */
    size_t n;
    struct h2_field inline_fields[H2_REQUEST_INLINE_FIELDS]; /* <fields> when they fit (else heap) */
    const uint8_t *body;                                     /* into the message */
    size_t body_len;
};

/* h2_request_parse: reads "<METHOD> <target> HTTP/1.1", the header lines,
 * the empty line and the body (all the bytes after it) of <msg> (<len>
 * bytes; header names are lowercased in place) into *out: pseudo-headers
 * first (:scheme "https" when <https>, else "http"; :authority from Host),
 * then the headers in order, minus those that are connection-specific in
 * HTTP/2 (host, connection, keep-alive, proxy-connection, transfer-encoding,
 * upgrade) and minus a `te` other than "trailers" (the request shaper keeps
 * "te: trailers", which gRPC requires, unless headers.remove names te).
 * The fields point into <msg>, which must outlive *out. Returns false (and
 * allocates nothing) when the bytes are not such a request or have no Host.
 * Free with h2_request_free(). */
bool h2_request_parse(uint8_t *msg, size_t len, bool https, struct h2_request *out);

/* h2_request_free: releases what h2_request_parse() allocated in *r. */
void h2_request_free(struct h2_request *r);

#endif
