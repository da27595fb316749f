/* The engine's comparison of answers: which of a request's copies are
 * compared (decided before the ACK, with an entry opened in the runtime's
 * match table), the observer that keeps each compared mirror's answer, the
 * primary's answer taken from the `mirror-response` message, and, when an
 * entry is complete or expires, the verdicts: counted per mirror and, when
 * the answers differ, written to the mirror's diff log. Counters are those
 * of worker <worker>, the thread calling. */
#ifndef SPOA_MIRROR_COMPARE_H
#define SPOA_MIRROR_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mirror/mirror_args.h"
#include "mirror/mirror_client.h"
#include "mirror/mirror_runtime.h"

/* Expired entries handled per call of mirror_compare_sweep, at most. */
#define MIRROR_COMPARE_SWEEP_MAX 64

/* mirror_compare_choose: of the mirrors in <targets> (bit i: mirror i of
 * route <r> takes a copy), those whose compare block's percent draws them
 * (<draw> is a fresh 64-bit random number per mirror, from <next_draw>),
 * and opens their entry in the match table. Returns the mask of compared
 * mirrors (0 when none, or when the request cannot be matched: no id, table
 * full; counted as unmatched). Quick: runs before the ACK. */
uint64_t mirror_compare_choose(struct mirror_runtime *rt, int worker, size_t r, uint64_t targets,
                               const struct mirror_args *a, uint64_t (*next_draw)(void *ctx), void *draw_ctx);

/* mirror_compare_observer: the observer for the copy to mirror <i> of route
 * <r> of the compared request <a> (mask <compared> as chosen), whose end
 * puts the mirror's answer in the match table (and runs the verdicts when
 * that completes the entry) on worker <worker>. Fills *obs; its ctx is
 * owned by the observer until its end hook ran (mirror_client_submit_observed
 * guarantees it runs). */
void mirror_compare_observer(struct mirror_runtime *rt, int worker, size_t r, size_t i, uint64_t compared,
                             const struct mirror_args *a, struct mirror_observer *obs);

/* mirror_compare_skipped: the copy to compared mirror <i> was never sent
 * (shaping refused it): its answer goes in the table as a failure. */
void mirror_compare_skipped(struct mirror_runtime *rt, int worker, size_t r, size_t i, uint64_t compared,
                            const struct mirror_args *a);

/* mirror_compare_primary: takes the primary's answer <ra> (the arguments of
 * a `mirror-response` message; bytes only read) into the match table. */
void mirror_compare_primary(struct mirror_runtime *rt, int worker, const struct mirror_response_args *ra);

/* mirror_compare_sweep: counts and frees the entries whose match_timeout_ms
 * passed (at most MIRROR_COMPARE_SWEEP_MAX). Returns how many it handled.
 * Runs from the worker's periodic sweep, never on the NOTIFY path. */
size_t mirror_compare_sweep(struct mirror_runtime *rt, int worker);

/* mirror_compare_drain: counts and frees every entry still in the table, due
 * or not, in the counters of rt->release_slot: a runtime replaced by a reload
 * or stopped leaves no request uncounted. Call it right before
 * mirror_runtime_free(), on the thread that frees <rt>, once no worker uses
 * it. Returns how many it handled. */
size_t mirror_compare_drain(struct mirror_runtime *rt);

#endif
