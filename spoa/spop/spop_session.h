/* The SPOP protocol state machine of one connection, free of sockets and of
 * the event loop: bytes in, reply frames out. It answers HELLOs, ACKs
 * NOTIFYs (consulting its notify handler's decide() first, see
 * spop_notify.h), answers HAPROXY-DISCONNECT, and turns any protocol error
 * into an AGENT-DISCONNECT with the matching status. The caller writes the
 * replies to the socket and then calls spop_session_dispatch(), so the ACKs
 * leave before the handler's submit() work. */
#ifndef SPOA_SPOP_SESSION_H
#define SPOA_SPOP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "spop/agent_stats.h"
#include "spop/spop_data.h"
#include "spop/spop_notify.h"

/* NOTIFYs decoded in one pass before their ACKs are flushed and dispatched. */
#define SPOP_SESSION_BATCH 64

enum spop_session_state {
    SPOP_SESS_ST_HELLO = 0, /* waiting for HAPROXY-HELLO */
    SPOP_SESS_ST_READY,     /* handshake done: NOTIFYs flow */
    SPOP_SESS_ST_CLOSING,   /* the last reply is queued: flush, then close */
    SPOP_SESS_ST_ENTRIES
};

struct spop_session {
    enum spop_session_state state;
    uint32_t our_max_frame; /* the largest frame we accept, as configured */
    uint32_t max_frame;     /* negotiated; our_max_frame until the HELLO */
    bool healthcheck;
    int error; /* status of the AGENT-DISCONNECT we sent, -1 if none */
    const char *error_detail;
    int peer_status; /* status of a HAPROXY-DISCONNECT received, -1 if none */
    struct spop_notify_handler handler;
    struct spop_bytes ack_var;   /* handler.ack_var */
    struct spop_bytes extra_var; /* handler.extra_var; empty when none */
    size_t slot_stride;          /* handler.slot_size, rounded up to keep each slot aligned */
    /* SPOP_SESSION_BATCH handler slots, the one of pending[i] at i *
     * slot_stride; allocated when the handshake completes, NULL before. */
    unsigned char *slots;
    struct agent_stats *stats;
    size_t npending;
    struct spop_notify pending[SPOP_SESSION_BATCH];
};

/* spop_session_init: a session in the HELLO state accepting frames up to
 * <max_frame> bytes (at least SPOP_MIN_FRAME_SIZE), handing its NOTIFYs to
 * <handler> (whose ctx must outlive the session). <stats> is borrowed and may
 * be shared by the sessions of one thread. Allocates nothing; the handler's
 * slots are allocated once, when the handshake completes, and freed by
 * spop_session_deinit(). Aborts when handler.ack_var or extra_var breaks its contract. */
void spop_session_init(struct spop_session *s, uint32_t max_frame, struct spop_notify_handler handler,
                       struct agent_stats *stats);

/* spop_session_deinit: frees what the session allocated (the handler's
 * slots); pending NOTIFYs are forgotten without submit(). Idempotent. */
void spop_session_deinit(struct spop_session *s);

/* spop_session_feed: consumes whole frames from the <len> bytes at <in> and
 * appends the replies to <out>. Returns the bytes consumed, which may be fewer
 * than <len>: the rest is a partial frame, or the pass stopped because the
 * batch of pending NOTIFYs is full, <out> reached its limit, or the session is
 * closing. The bytes consumed must stay in place until spop_session_dispatch(). */
size_t spop_session_feed(struct spop_session *s, const uint8_t *in, size_t len, struct buf *out);

/* spop_session_dispatch: hands each pending NOTIFY, with its slot, to the
 * handler's submit(), in order, then forgets them. Call after the replies of
 * the last feed went to the socket. */
void spop_session_dispatch(struct spop_session *s);

/* spop_session_closing: true once the connection must close after its output is flushed. */
bool spop_session_closing(const struct spop_session *s);

/* spop_session_fail: queues an AGENT-DISCONNECT with <status> and <detail>
 * (a static string) and moves to CLOSING; used by the I/O layer for timeouts. */
void spop_session_fail(struct spop_session *s, int status, const char *detail, struct buf *out);

/* spop_session_state_str: a static name for a state. */
const char *spop_session_state_str(enum spop_session_state st);

#endif
