/* gRPC request bodies (gRPC over HTTP/2): recognising them by Content-Type
 * and telling whether one ends at a message boundary. A gRPC client sends no
 * Content-Length, so HAProxy cannot say that it cut such a body to fit its
 * buffer (req.body_size is what it buffered, or 0); the messages' own length
 * prefixes can. Pure functions over byte ranges: no allocation, no state. */
#ifndef SPOA_GRPC_BODY_H
#define SPOA_GRPC_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* grpc_is_content_type: true for the <n> bytes at <v>, a Content-Type value,
 * when they name gRPC: "application/grpc" alone or followed by "+<format>"
 * or ";<parameters>" (any ASCII case, whitespace around the value ignored).
 * gRPC-Web ("application/grpc-web...") is not: its text form is base64. */
bool grpc_is_content_type(const uint8_t *v, size_t n);

/* grpc_body_messages: walks the <n> bytes at <p> as gRPC length-prefixed
 * messages (a flag byte, a 4-byte big-endian length, then that many bytes).
 * Returns the number of whole messages when the bytes end exactly after the
 * last one (0 for no bytes), or -1 when they end inside a message's prefix or
 * payload: the body was cut. Reads nothing past <p> + <n>. */
long grpc_body_messages(const uint8_t *p, size_t n);

#endif
