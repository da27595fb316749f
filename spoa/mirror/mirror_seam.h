/* The seam between the SPOP side and the mirroring engine: a notify handler
 * (spop/spop_notify.h) whose decide() and submit() are the engine's, and
 * whose per-NOTIFY slot is the engine's struct mirror_decision. The session
 * calls decide() for each NOTIFY before it encodes the ACK (the decision sets
 * the `mirrored` variable), then, once the ACK has been handed to the socket,
 * submit() with the same decision. */
#ifndef SPOA_MIRROR_SEAM_H
#define SPOA_MIRROR_SEAM_H

#include "mirror/mirror_engine.h"
#include "spop/spop_notify.h"

/* The variable every ACK sets, txn.<var-prefix>.mirrored: true when at least
 * one copy of the request goes to a mirror. Part of the SPOE contract that the
 * HAProxy configurations rely on (haproxy-conf/). */
#define MIRROR_ACK_VAR "mirrored"

/* Set (true) by the ACK of a request chosen for comparison only,
 * txn.<var-prefix>.compare: the HAProxy configuration sends the
 * `mirror-response` message on the response event when it is set. */
#define MIRROR_COMPARE_VAR "compare"

/* mirror_seam_handler: the notify handler that hands each NOTIFY to the
 * engine *<engine> at the time of the call, so that the owner of <engine> (a
 * worker) switches every session to a new engine between two NOTIFY batches
 * by storing it there (a reload). <engine> is borrowed: it must outlive the
 * sessions, and *<engine> must not be NULL while they run. */
struct spop_notify_handler mirror_seam_handler(struct mirror_engine **engine);

#endif
