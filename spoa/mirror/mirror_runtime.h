/* One loaded configuration and the process-wide state of its mirrors, shared
 * by every worker: each mirror's resolved addresses (refreshed by the
 * runtime's resolver thread), its per-agent rate limit and its counters.
 * A reload builds a new runtime; the old one is freed once no worker's
 * engine uses it (refs drops to zero). The main thread creates runtimes;
 * it hands the ones to free to another thread (freeing may wait for disk). */
#ifndef SPOA_MIRROR_RUNTIME_H
#define SPOA_MIRROR_RUNTIME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/log.h"
#include "mirror/mirror_stats.h"
#include "mirror/rate_limit.h"
#include "mirror/stats_registry.h"
#include "mirror/target_addr.h"

struct resolver;
struct capture_hub;
struct capture_writer;
struct tls_client;
struct compare_noise;
struct compare_rules;
struct compare_table;

struct runtime_mirror {
    const struct config_mirror *cfg;
    struct target_addr addr;        /* http mirrors only (unused when cfg->capture is set) */
    struct capture_writer *capture; /* capture mirrors: the directory's writer (a reference), once started */
    struct tls_client *tls;         /* https mirrors only: the TLS context, shared by the workers */
    struct rate_limit rate;
    struct mirror_counters *ctr; /* [nworkers + 1], owned by the stats registry */
    char name[96];               /* "<route>/<index>" for logs */
    /* Compared mirrors (cfg->compare set): */
    struct compare_rules *rules; /* owned */
    /* body: json: each thread's recent JSON documents, [nworkers + 1], owned */
    struct compare_json_shapes **shapes;
    struct capture_writer *diff_log; /* the diff log directory's writer (a reference), once started */
    struct rate_limit diff_rate;     /* the diff log's max_records_per_second */
    struct compare_noise
        *noise; /* a candidate with a noise_mirror: what was learned (the registry's: kept across reloads) */
    bool is_noise; /* the noise_mirror of another mirror of the route */
};

struct mirror_runtime {
    struct config cfg;                  /* owned */
    uint64_t generation;                /* 1 for the first configuration, +1 per reload */
    struct runtime_mirror **routes;     /* routes[r][i] for mirror i of route r */
    struct route_counters **route_ctr;  /* route_ctr[r][worker] */
    struct engine_counters *engine_ctr; /* [worker] */
    int release_slot;                   /* the counters of the thread that frees it: [nworkers] */
    struct target_addr **addrs;         /* every mirror's target, for the resolver */
    size_t n_addrs;
    struct resolver *resolver;
    atomic_int refs;         /* workers whose engines still use it */
    struct capture_hub *hub; /* borrowed: the capture writers, shared across reloads */
    /* Where the two sides of compared requests meet (NULL when no mirror
     * compares); its capacity is the largest max_pending. */
    struct compare_table *compare;
};

/* mirror_runtime_new: takes the configuration out of *cfg (which is left
 * empty) and builds its runtime, with counters from <reg> (borrowed: it must
 * outlive the runtime). Only mirrors whose host is an IP literal get their
 * address now (no DNS); host names wait for the resolver. Each https
 * mirror's TLS context is built now (its files read): one that cannot be
 * built (tls_client_error()) fails every handshake. */
struct mirror_runtime *mirror_runtime_new(struct config *cfg, struct stats_registry *reg,
                                          struct capture_hub *hub, uint64_t generation);

/* mirror_runtime_inherit_addrs: gives each of rt's targets the addresses
 * that <old> (the configuration it replaces; NULL is fine) holds for the same
 * host and port, so that a reload does not wait for DNS for hosts it keeps.
 * IP literals are resolved by mirror_runtime_new() already. Returns the
 * number of targets that got addresses. Call before starting the resolver. */
size_t mirror_runtime_inherit_addrs(struct mirror_runtime *rt, struct mirror_runtime *old);

/* mirror_runtime_unresolved: how many of rt's targets have no address yet
 * (copies to them are dropped as connect_error until they do). Any thread. */
size_t mirror_runtime_unresolved(struct mirror_runtime *rt);

/* mirror_runtime_start_resolver: starts the runtime's threads. First the
 * capture writers: each capture mirror, and each compared mirror with a
 * diff log, takes a reference to the process-wide writer of its directory (capture_hub_acquire: a directory
 * kept across a reload keeps its writer; one that is dropped is drained when
 * the old runtime is freed). Then it starts resolving the mirror hosts on
 * the resolver thread, now (those without an address first) and every
 * <period_ms>, and waits up to <wait_ms> for the first pass; 0 does not
 * wait at all (a reload on the main loop). Returns false when that pass did
 * not finish in time (resolution goes on). */
bool mirror_runtime_start_resolver(struct mirror_runtime *rt, unsigned period_ms, unsigned wait_ms,
                                   const struct logger *log);

/* mirror_runtime_free: stops the resolver (waiting at most a fraction of a
 * second: a getaddrinfo() that hangs is left to finish on its own, and its
 * answer is dropped), releases the capture writers (the last reference to
 * one stops it: it writes what is queued and finishes its file, which may
 * take a while: call it off the event loops) and releases the runtime and
 * its configuration. Any thread, once refs is zero. */
void mirror_runtime_free(struct mirror_runtime *rt);

#endif
