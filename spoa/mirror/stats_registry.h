/* Where the per-route and per-mirror counters live: one block per worker
 * for each route name and each (route, mirror URL), kept across reloads so
 * that counters keep counting when the configuration changes; and, with
 * them, what a compared mirror learned as noise. Only the main thread adds
 * entries or reads the list; workers write their own blocks. Each mirror has
 * one block more, [nworkers]: written only by the thread that frees retired
 * runtimes (mirror_runtime_free counts there the comparisons left waiting). */
#ifndef SPOA_STATS_REGISTRY_H
#define SPOA_STATS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/counter.h"

#include "mirror/mirror_stats.h"

struct stats_route_entry {
    char *route;
    struct route_counters *per_worker; /* [nworkers] */
    struct stats_route_entry *next;
};

struct stats_mirror_entry {
    char *route;
    char *url;
    unsigned occurrence;                /* the same URL twice in one route gets 0, 1, ... */
    struct mirror_counters *per_worker; /* [nworkers + 1]: the last is STATS_RELEASE_SLOT's */
    bool has_host;                      /* an http:// mirror, whose host is resolved */
    bool http2;                         /* configured to speak HTTP/2 (h2, h2c, auto) at least once */
    bool compared;                      /* configured with a compare block at least once */
    /* Failed resolutions of its host. Written by the resolver threads (two
     * runtimes may overlap during a reload: atomic adds), read by any thread. */
    counter_t resolve_failures;
    /* The noise a candidate with a noise_mirror learned (compare_noise.h),
     * created by stats_registry_mirror_noise; NULL until then. Any thread
     * may use it (it has its own lock). */
    struct compare_noise *noise;
    struct stats_mirror_entry *next;
};

struct stats_registry {
    int nworkers;
    struct engine_counters *engine;     /* [nworkers] */
    struct stats_route_entry *routes;   /* in order of first appearance */
    struct stats_mirror_entry *mirrors; /* in order of first appearance */
};

/* stats_registry_new: an empty registry for <nworkers> workers. */
struct stats_registry *stats_registry_new(int nworkers);

/* stats_registry_route: the per-worker blocks of route <name>, created on first use. */
struct route_counters *stats_registry_route(struct stats_registry *reg, const char *name);

/* stats_registry_mirror_entry: the entry of the <occurrence>-th mirror with
 * <url> in route <route>, created on first use. */
struct stats_mirror_entry *stats_registry_mirror_entry(struct stats_registry *reg, const char *route,
                                                       const char *url, unsigned occurrence);

/* stats_registry_mirror: the per-worker blocks of the <occurrence>-th mirror
 * with <url> in route <route>, created on first use. */
struct mirror_counters *stats_registry_mirror(struct stats_registry *reg, const char *route, const char *url,
                                              unsigned occurrence);

/* stats_registry_mirror_noise: the noise set of mirror entry <e>, created
 * empty on first use; owned by the registry, so that what was learned
 * survives a reload that keeps the mirror. */
struct compare_noise *stats_registry_mirror_noise(struct stats_mirror_entry *e);

/* stats_registry_free: releases everything. */
void stats_registry_free(struct stats_registry *reg);

#endif
