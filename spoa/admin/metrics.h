/* The Prometheus metrics of the agent, rendered at scrape time by summing
 * every worker's counters (no lock on the hot path: see counter.h). */
#ifndef SPOA_METRICS_H
#define SPOA_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "mirror/mirror_runtime.h"
#include "app/server.h"
#include "mirror/stats_registry.h"

/* Process-level facts kept by the main thread. */
struct metrics_process {
    uint64_t reloads_ok;
    uint64_t reloads_failed;
    double last_reload_ok_time; /* Unix seconds; the start counts as one */
    double start_time;          /* Unix seconds */
    bool ready;
    bool draining;
};

/* metrics_render: appends the whole exposition to <out>. Main thread only
 * (it walks the stats registry, which only the main thread changes). */
void metrics_render(struct buf *out, const struct server *srv, const struct stats_registry *reg,
                    const struct mirror_runtime *rt, const struct metrics_process *proc);

#endif
