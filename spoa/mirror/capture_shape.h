/* Shaping for capture mirrors: the record (capture_record.h) of one request,
 * built and MessagePack-encoded on the worker thread so that the capture
 * writer only writes bytes. The headers are kept as HAProxy sent them, in
 * order, except that the value of every header named in the mirror's
 * redact_headers list is replaced by CAPTURE_REDACTED. */
#ifndef SPOA_CAPTURE_SHAPE_H
#define SPOA_CAPTURE_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "capture/capture_record.h"
#include "config/config.h"
#include "mirror/mirror_args.h"
#include "mirror/request_shape.h"

/* Buffers one worker reuses for every record it builds. */
struct capture_scratch {
    msgpack_sbuffer buf; /* the last encoded record */
    struct capture_header *hdrs;
    size_t hdrs_cap;
    char *authority;
    size_t authority_cap;
};

/* capture_scratch_init / capture_scratch_destroy: set up and release the buffers. */
void capture_scratch_init(struct capture_scratch *s);
void capture_scratch_destroy(struct capture_scratch *s);

/* capture_is_redacted: true when <name> (any case) is in the redact list of <cap>. */
bool capture_is_redacted(const struct config_capture *cap, struct spop_bytes name);

/* capture_shape: encodes into s->buf (emptied first) the record of request
 * <a> for capture mirror <m> (m->capture set) of route <route>, captured at
 * <ts_ns> (Unix nanoseconds): shadow_authority from shape_authority(), id
 * when HAProxy sent a non-empty one, src when it sent an address or string.
 * The body must be whole (the caller skips truncated ones). Returns SHAPE_OK;
 * SHAPE_BAD_REQUEST when `hdrs` is malformed; SHAPE_TOO_LARGE when the record
 * would exceed <max_len> bytes. */
enum shape_status capture_shape(const struct config_mirror *m, const char *route, const struct mirror_args *a,
                                uint64_t ts_ns, size_t max_len, struct capture_scratch *s);

#endif
