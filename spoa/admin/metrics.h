/* The Prometheus metrics of the agent, rendered at scrape time by summing
 * every worker's counters (no lock on the hot path: see counter.h). */
#ifndef SPOA_METRICS_H
#define SPOA_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "mirror/body_parts.h"
#include "mirror/mirror_runtime.h"
#include "mirror/stats_registry.h"
#include "spop/agent_stats.h"

/* Process-level facts kept by the main thread. */
struct metrics_process {
    uint64_t reloads_ok;
    uint64_t reloads_failed;
    double last_reload_ok_time; /* Unix seconds; the start counts as one */
    double start_time;          /* Unix seconds */
    bool ready;
    bool draining;
};

/* metrics_render: appends the whole exposition to <out>: the process facts
 * <proc>, the SPOP counters <spop> (already summed over the workers), the
 * per-route and per-mirror counters of <reg>, the resolver and capture
 * counters of the running configuration <rt> and the counters of the store
 * of body slices <parts> (NULL: none rendered). Everything is borrowed and
 * only read. Main thread only (it walks the stats registry, which only the
 * main thread changes). */
void metrics_render(struct buf *out, const struct agent_stats *spop, const struct stats_registry *reg,
                    const struct mirror_runtime *rt, const struct body_parts_stats *parts,
                    const struct metrics_process *proc);

#endif
