/* The mirroring engine of one worker: the mirror seam's decide() picks the
 * route and samples its mirrors; submit() shapes each copy and hands it to
 * that mirror's HTTP client on the worker's loop. */
#ifndef SPOA_MIRROR_ENGINE_H
#define SPOA_MIRROR_ENGINE_H

#include <stdint.h>

#include "core/log.h"
#include "mirror/mirror_runtime.h"
#include "mirror/mirror_seam.h"
#include "mirror/mirror_stats.h"

struct ev_loop;
struct mirror_engine;

/* mirror_engine_new: the engine of worker <worker> on <loop> (the worker's)
 * for <rt> (borrowed; the caller holds a reference for the engine's life).
 * <seed> seeds its random draws; <max_request> bounds a shaped request. */
struct mirror_engine *mirror_engine_new(struct ev_loop *loop, struct mirror_runtime *rt, int worker,
                                        const struct logger *log, uint64_t seed, size_t max_request);

/* mirror_engine_runtime: the runtime the engine serves. */
struct mirror_runtime *mirror_engine_runtime(const struct mirror_engine *e);

/* mirror_engine_decide / mirror_engine_submit: the two halves of the mirror
 * seam (see mirror_seam.h), for the engine <ctx>. */
void mirror_engine_decide(void *ctx, const struct spop_notify *n, struct mirror_decision *d);
void mirror_engine_submit(void *ctx, const struct spop_notify *n, const struct mirror_decision *d);

/* mirror_engine_busy: true while any mirror has requests queued or in flight. */
bool mirror_engine_busy(const struct mirror_engine *e);

/* mirror_engine_free: closes every mirror connection (what is left is
 * counted as dropped: shutdown) and frees the engine. */
void mirror_engine_free(struct mirror_engine *e);

#endif
