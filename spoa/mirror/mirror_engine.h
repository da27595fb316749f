/* The mirroring engine of one worker: decide() picks the route of a NOTIFY
 * and samples its mirrors; submit() shapes each copy and hands it to that
 * mirror's HTTP client on the worker's loop. mirror_seam.h plugs the two into
 * the SPOP session. A NOTIFY carrying a slice of a large body goes to the
 * store of slices shared by the workers (body_parts.h), and the request's
 * `mirror` message takes the slices back from there. */
#ifndef SPOA_MIRROR_ENGINE_H
#define SPOA_MIRROR_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/log.h"
#include "mirror/body_parts.h"
#include "mirror/mirror_args.h"
#include "mirror/mirror_runtime.h"
#include "mirror/mirror_stats.h"
#include "spop/spop_notify.h"

struct ev_loop;
struct mirror_engine;

/* What decide() concluded for one NOTIFY, handed back to submit(): the
 * per-NOTIFY slot the SPOP session keeps for the engine. */
struct mirror_decision {
    bool mirrored;           /* the ACK says mirrored=true */
    bool has_args;           /* <args> holds a valid `mirror` message */
    bool body_parts;         /* the rest of the body waits in the store of slices */
    struct mirror_args args; /* points into the NOTIFY */
    uint32_t route;          /* engine-defined: the chosen route */
    uint64_t targets;        /* engine-defined: bit i = mirror i of the route sampled */
    uint64_t compared;       /* of targets, the mirrors whose answers are compared */
    bool response;           /* a `mirror-response` NOTIFY: the primary's answer */
};

/* mirror_engine_new: the engine of worker <worker> on <loop> (the worker's)
 * for <rt> (borrowed; the caller holds a reference for the engine's life).
 * <seed> seeds its random draws; <max_request> bounds a shaped request.
 * <parts> (borrowed, shared by every worker; NULL for none) holds the slices
 * of bodies larger than a frame; without it slice messages are ignored. */
struct mirror_engine *mirror_engine_new(struct ev_loop *loop, struct mirror_runtime *rt, int worker,
                                        const struct logger *log, uint64_t seed, size_t max_request,
                                        struct body_parts *parts);

/* mirror_engine_runtime: the runtime the engine serves. */
struct mirror_runtime *mirror_engine_runtime(const struct mirror_engine *e);

/* mirror_engine_decide: fills *d (overwritten whole) for NOTIFY <n>: finds
 * its `mirror` message, selects the route and samples its mirrors, counting
 * and logging as it goes. A body cut short counts as whole when the store
 * holds slices covering exactly the rest of it; slices nobody takes are
 * discarded. A NOTIFY carrying a body slice instead has it stored (before
 * its ACK leaves, so before HAProxy sends the next one) and gets false.
 * Quick and free of I/O: it runs before the ACK. Returns d->mirrored, the
 * value of the ACK's variable; *d points into <n>. */
bool mirror_engine_decide(struct mirror_engine *e, const struct spop_notify *n, struct mirror_decision *d);

/* mirror_engine_compared: true when the NOTIFY decided into *d is compared
 * (the ACK sets the compare variable). */
bool mirror_engine_compared(const struct mirror_decision *d);

/* mirror_engine_submit: queues the copies *d decided for <n> (after its ACK
 * left), taking the body's slices out of the store first when it lives
 * there; shapes and copies what it keeps, so <n> may go once it returns. */
void mirror_engine_submit(struct mirror_engine *e, const struct spop_notify *n,
                          const struct mirror_decision *d);

/* mirror_engine_sweep: finishes the comparisons whose match_timeout_ms
 * passed (counted unmatched), MIRROR_COMPARE_SWEEP_MAX of them at most, so
 * that one call stays short. Returns true when it handled that many: more
 * may be waiting, call again soon. For the owner's periodic timer. */
bool mirror_engine_sweep(struct mirror_engine *e);

/* mirror_engine_busy: true while any mirror has requests queued or in flight. */
bool mirror_engine_busy(const struct mirror_engine *e);

/* mirror_engine_free: closes every mirror connection (what is left is
 * counted as dropped: shutdown) and frees the engine. */
void mirror_engine_free(struct mirror_engine *e);

#endif
