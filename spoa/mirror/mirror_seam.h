/* The seam between the SPOP side and the mirroring engine. The SPOP session
 * calls decide() for each NOTIFY before it encodes the ACK (the decision sets
 * the `mirrored` variable), then, once the ACK has been handed to the socket,
 * submit() with the same decision. Both run on the worker thread that owns
 * the connection; neither may block. */
#ifndef SPOA_MIRROR_SEAM_H
#define SPOA_MIRROR_SEAM_H

#include <stdbool.h>
#include <stdint.h>

#include "mirror/mirror_args.h"

/* A decoded NOTIFY; <messages> (a validated LIST-OF-MESSAGES) points into the
 * connection's input buffer and is valid until submit() returns. */
/* Messages of a NOTIFY the SPOP session keeps decoded, so that the engine
 * does not walk the list again (HAProxy sends one per event or group). */
#define SPOP_NOTIFY_DECODED 4

struct spop_notify {
    uint64_t stream_id;
    uint64_t frame_id;
    const uint8_t *messages;
    size_t messages_len;
    /* The messages as the session's validation decoded them; when
     * <all_decoded> is false (more than SPOP_NOTIFY_DECODED, or a notify
     * built by hand) readers walk <messages> instead. */
    bool all_decoded;
    uint8_t n_decoded;
    struct spop_message decoded[SPOP_NOTIFY_DECODED];
};

/* What decide() concluded, handed back to submit(). */
struct mirror_decision {
    bool mirrored;           /* the ACK says mirrored=true */
    bool has_args;           /* <args> holds a valid `mirror` message */
    struct mirror_args args; /* points into the NOTIFY */
    uint32_t route;          /* engine-defined: the chosen route */
    uint64_t targets;        /* engine-defined: bit i = mirror i of the route sampled */
};

struct mirror_seam_ops {
    /* decide: fills *d for <n>. Quick and free of I/O: it runs before the ACK. */
    void (*decide)(void *ctx, const struct spop_notify *n, struct mirror_decision *d);
    /* submit: queues the mirror work for a decided NOTIFY; copies what it keeps. */
    void (*submit)(void *ctx, const struct spop_notify *n, const struct mirror_decision *d);
};

struct mirror_seam {
    const struct mirror_seam_ops *ops;
    void *ctx;
};

/* mirror_find_message: looks for the `mirror` message (in the decoded
 * messages when the session kept them all) in a validated
 * LIST-OF-MESSAGES. Returns true and fills *m when found. */
bool mirror_find_message(const struct spop_notify *n, struct spop_message *m);

#endif
