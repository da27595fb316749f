/* A decoded NOTIFY, and the interface through which the SPOP session hands
 * NOTIFYs to their consumer (the mirroring engine, a test, a fuzzer). The
 * protocol layer knows nothing of what the consumer does with them: it asks
 * decide() for the boolean its ACK sets, encodes the ACK, and once the ACKs
 * went to the socket calls submit(). Both run on the thread that owns the
 * connection; neither may block. */
#ifndef SPOA_SPOP_NOTIFY_H
#define SPOA_SPOP_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spop/spop_frame.h"

/* Messages of a NOTIFY the SPOP session keeps decoded, so that the consumer
 * does not walk the list again (HAProxy sends one per event or group). */
#define SPOP_NOTIFY_DECODED 4

/* A decoded NOTIFY; <messages> (a validated LIST-OF-MESSAGES) points into the
 * connection's input buffer and is valid until submit() returns. */
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

/* spop_notify_find_message: looks for the first message called <name> (a C
 * string) in the validated LIST-OF-MESSAGES of <n>, in its decoded messages
 * when the session kept them all. Returns true and fills *m when found; *m
 * then points into the NOTIFY. */
bool spop_notify_find_message(const struct spop_notify *n, const char *name, struct spop_message *m);

/* The longest ACK variable name a handler may give (the ACK must fit the
 * session's room for one reply frame). */
#define SPOP_ACK_VAR_MAX 64

struct spop_notify_ops {
    /* decide: called for each NOTIFY once its messages are validated, before
     * its ACK is encoded; quick and free of I/O. <slot> is this NOTIFY's
     * per-NOTIFY state (slot_size bytes, NULL when slot_size is 0), left as
     * the previous NOTIFY of that slot left it; decide() fills what submit()
     * needs. Returns the boolean the ACK sets. */
    bool (*decide)(void *ctx, const struct spop_notify *n, void *slot);
    /* submit: called once per decided NOTIFY, in order, after the ACKs were
     * handed to the socket, with the slot decide() filled. <n> and <slot> are
     * valid until it returns: it copies what it keeps. */
    void (*submit)(void *ctx, const struct spop_notify *n, void *slot);
    /* extra: optional; called after decide() with the same slot, when the
     * handler names an extra_var. True adds a second action to the ACK,
     * setting txn.<var-prefix>.<extra_var> to true; false adds nothing (the
     * variable stays unset, which HAProxy's `-m bool` reads as false). */
    bool (*extra)(void *ctx, const void *slot);
};

/* The consumer of a session's NOTIFYs. The session allocates its slots once,
 * when the handshake completes, so the NOTIFY->ACK path never allocates. */
struct spop_notify_handler {
    const struct spop_notify_ops *ops;
    void *ctx;        /* passed to every call; borrowed */
    size_t slot_size; /* sizeof the consumer's per-NOTIFY state; 0 for none */
    /* The variable every ACK sets, txn.<var-prefix>.<ack_var>, to decide()'s
     * result: the consumer names it (it is part of the consumer's SPOE
     * contract, not of the protocol). A static string of 1 to
     * SPOP_ACK_VAR_MAX bytes. */
    const char *ack_var;
    /* Optional: the variable ops->extra may set (NULL: none); a static
     * string of 1 to SPOP_ACK_VAR_MAX bytes. */
    const char *extra_var;
};

#endif
