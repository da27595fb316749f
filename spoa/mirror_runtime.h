/* One loaded configuration and the process-wide state of its mirrors, shared
 * by every worker: each mirror's resolved addresses (refreshed by the
 * runtime's resolver thread), its per-agent rate limit and its counters.
 * A reload builds a new runtime; the old one is freed once no worker's
 * engine uses it (refs drops to zero). Only the main thread creates and
 * frees runtimes. */
#ifndef SPOA_MIRROR_RUNTIME_H
#define SPOA_MIRROR_RUNTIME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"
#include "mirror_stats.h"
#include "rate_limit.h"
#include "stats_registry.h"
#include "target_addr.h"

struct resolver;

struct runtime_mirror {
    const struct config_mirror *cfg;
    struct target_addr addr;
    struct rate_limit rate;
    struct mirror_counters *ctr; /* [nworkers], owned by the stats registry */
    char name[96];               /* "<route>/<index>" for logs */
};

struct mirror_runtime {
    struct config cfg;                  /* owned */
    uint64_t generation;                /* 1 for the first configuration, +1 per reload */
    struct runtime_mirror **routes;     /* routes[r][i] for mirror i of route r */
    struct route_counters **route_ctr;  /* route_ctr[r][worker] */
    struct engine_counters *engine_ctr; /* [worker] */
    struct target_addr **addrs;         /* every mirror's target, for the resolver */
    size_t n_addrs;
    struct resolver *resolver;
    atomic_int refs; /* workers whose engines still use it */
};

/* mirror_runtime_new: takes the configuration out of *cfg (which is left
 * empty) and builds its runtime, with counters from <reg> (borrowed: it must
 * outlive the runtime). Resolves nothing yet. */
struct mirror_runtime *mirror_runtime_new(struct config *cfg, struct stats_registry *reg,
                                          uint64_t generation);

/* mirror_runtime_start_resolver: starts resolving the mirror hosts now and
 * every <period_ms>, and waits up to <wait_ms> for the first pass. Returns
 * false when that pass did not finish in time (resolution goes on). */
bool mirror_runtime_start_resolver(struct mirror_runtime *rt, unsigned period_ms, unsigned wait_ms,
                                   const struct logger *log);

/* mirror_runtime_free: stops the resolver and releases the runtime and its configuration. */
void mirror_runtime_free(struct mirror_runtime *rt);

#endif
