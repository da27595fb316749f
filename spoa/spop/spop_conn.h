/* Socket I/O of one SPOP connection, independent of the event loop: the
 * caller says when the socket is readable or writable and watches what the
 * returned interest asks for. Reads are batched, frames are decoded in place,
 * ACKs are written before the NOTIFYs go to their handler (at once, or when
 * the owner calls spop_conn_dispatch()), and the output is bounded: when
 * HAProxy stops reading our ACKs, we stop reading its frames. */
#ifndef SPOA_SPOP_CONN_H
#define SPOA_SPOP_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "spop/spop_session.h"

/* Interest flags returned by the event functions. */
#define SPOP_CONN_WANT_READ  1
#define SPOP_CONN_WANT_WRITE 2
#define SPOP_CONN_CLOSE      4

/* Why a connection ended. */
enum spop_conn_end {
    SPOP_CONN_END_NONE = 0,
    SPOP_CONN_END_EOF,      /* the peer closed (with or without DISCONNECT) */
    SPOP_CONN_END_RESET,    /* ECONNRESET / EPIPE: a normal close for SPOP */
    SPOP_CONN_END_PROTOCOL, /* we sent AGENT-DISCONNECT (error, DISCONNECT reply or health check) */
    SPOP_CONN_END_IO,       /* another socket error */
    SPOP_CONN_END_SHUTDOWN, /* the agent is stopping */
    SPOP_CONN_END_TIMEOUT,  /* no progress for the idle timeout (spop_conn_abort) */
};

struct spop_conn {
    int fd;
    enum spop_conn_end end;
    int io_errno;
    struct buf in;
    struct buf out;
    struct spop_session session;
    /* Set by the owner: the NOTIFYs of a read go to their handler only at
     * spop_conn_dispatch(), so that the owner can write the ACKs of every
     * connection ready at once before any handler work. */
    bool defer_dispatch;
    size_t due_used; /* > 0: the input bytes of an ACKed batch that waits for spop_conn_dispatch() */
};

/* spop_conn_dispatch_due: an ACKed batch waits for spop_conn_dispatch(). */
static inline bool spop_conn_dispatch_due(const struct spop_conn *c)
{
    return c->due_used > 0;
}

/* spop_conn_init: takes ownership of the non-blocking socket <fd> (closed by
 * spop_conn_deinit). <max_frame> is the largest frame accepted; <handler>
 * (see spop_notify.h) and <stats> are borrowed. Allocates nothing until data
 * arrives. */
void spop_conn_init(struct spop_conn *c, int fd, uint32_t max_frame, struct spop_notify_handler handler,
                    struct agent_stats *stats);

/* spop_conn_on_readable: reads what the socket has (a bounded amount per call,
 * for fairness), answers it and tries to write the answers at once. Returns
 * the interest flags: READ and/or WRITE, or CLOSE (see c->end). With
 * defer_dispatch, it stops after the first read that left a batch due
 * (spop_conn_dispatch_due()): nothing more is read until spop_conn_dispatch(). */
int spop_conn_on_readable(struct spop_conn *c);

/* spop_conn_dispatch: hands the due batch to the handler, then answers (and
 * dispatches) the rest of the input already read. Returns the interest flags.
 * Nothing to do when no batch is due. */
int spop_conn_dispatch(struct spop_conn *c);

/* spop_conn_on_writable: writes pending output. Returns the interest flags. */
int spop_conn_on_writable(struct spop_conn *c);

/* spop_conn_interest: the interest flags for the current state. */
int spop_conn_interest(const struct spop_conn *c);

/* spop_conn_abort: gives up on the connection for <why>: the output still
 * queued is dropped and the socket is reset when spop_conn_deinit() closes
 * it (SO_LINGER 0), so a peer that stopped reading cannot keep the kernel's
 * send buffer alive either. The interest becomes CLOSE. */
void spop_conn_abort(struct spop_conn *c, enum spop_conn_end why);

/* spop_conn_deinit: closes the socket and frees the buffers and the session. */
void spop_conn_deinit(struct spop_conn *c);

/* spop_conn_end_str: a static name for an end reason. */
const char *spop_conn_end_str(enum spop_conn_end e);

#endif
