/* The HELLO handshake: what a HAPROXY-HELLO says, and what we answer. Pure. */
#ifndef SPOA_SPOP_HELLO_H
#define SPOA_SPOP_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spop/spop_data.h"

/* What a HAPROXY-HELLO carried. Byte ranges point into the frame. */
struct spop_hello {
    uint32_t max_frame_size;
    bool healthcheck;
    struct spop_bytes versions;
    struct spop_bytes capabilities;
    struct spop_bytes engine_id; /* empty when absent */
};

/* spop_hello_parse: reads a HAPROXY-HELLO KV-LIST payload into *h, ignoring
 * unknown keys. Returns 0 on success or a positive SPOP status for the
 * AGENT-DISCONNECT: SPOP_ERR_INVALID (malformed list or a key of the wrong
 * type), SPOP_ERR_NO_VSN, SPOP_ERR_NO_FRAME_SIZE, SPOP_ERR_NO_CAP,
 * SPOP_ERR_BAD_VSN (no 2.x version offered) or SPOP_ERR_BAD_FRAME_SIZE (below
 * the SPOP minimum of 256). */
int spop_hello_parse(const uint8_t *payload, size_t len, struct spop_hello *h);

/* spop_hello_versions_ok: true when the comma-separated version list (spaces
 * ignored) offers a major version 2, which covers our "2.0". */
bool spop_hello_versions_ok(struct spop_bytes versions);

/* spop_hello_negotiate_frame_size: the max-frame-size to answer with: the
 * smaller of <ours> and the peer's <theirs>. */
uint32_t spop_hello_negotiate_frame_size(uint32_t ours, uint32_t theirs);

#endif
