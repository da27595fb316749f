/* Which request headers never reach a mirror: the one list of them, shared
 * by the request writers (mirror/request_shape.c, replay/) and by the
 * configuration, which refuses headers.set / headers.remove entries that
 * name one (they would silently do nothing). Pure functions. */
#ifndef SPOA_HEADER_POLICY_H
#define SPOA_HEADER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a header is never forwarded as it came, nor taken from headers.set. */
enum header_reserved {
    HEADER_FORWARDED = 0,  /* an ordinary header */
    HEADER_HOP_BY_HOP,     /* connection, keep-alive, trailer, transfer-encoding, upgrade */
    HEADER_TE,             /* te: forwarded only as "te: trailers" (header_is_te_trailers) */
    HEADER_PROXY,          /* proxy-* (proxy-connection, proxy-authorization, ...) */
    HEADER_EXPECT,         /* expect */
    HEADER_HOST,           /* host: the writer sets it (the mirror's authority) */
    HEADER_CONTENT_LENGTH, /* content-length: the writer sets it from the body */
};

/* header_reserved: the class of the header name (<n> bytes at <name>, any
 * ASCII case); HEADER_FORWARDED for every name not listed above. */
enum header_reserved header_reserved(const uint8_t *name, size_t n);

/* header_reserved_why: a static sentence saying why headers of class <r>
 * never reach a mirror as configured ("" for HEADER_FORWARDED). */
const char *header_reserved_why(enum header_reserved r);

/* http_is_hop_by_hop: true for a header name (<n> bytes at <name>, any case)
 * that is not forwarded as it came: header_reserved() is not HEADER_FORWARDED.
 * A writer still forwards the header header_is_te_trailers() accepts. */
bool http_is_hop_by_hop(const uint8_t *name, size_t n);

/* header_is_te_trailers: true for a "te" header (name <n> bytes at <name>,
 * any case) whose value (<vn> bytes at <value>) is exactly "trailers" (any
 * case, optional whitespace around it). It is the one TE a proxy passes on
 * (HAProxy does too) and what gRPC requires of a request, so a copy keeps it;
 * any other TE is dropped. */
bool header_is_te_trailers(const uint8_t *name, size_t n, const uint8_t *value, size_t vn);

#endif
