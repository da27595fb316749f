/* A worker thread: its own libev loop, its share of the SPOP connections
 * (accepted from the listening socket all workers watch), their idle timeouts
 * and its own mirror engine. No other thread touches its loop: stop requests
 * arrive through an ev_async. */
#ifndef SPOA_WORKER_H
#define SPOA_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "spop/agent_stats.h"
#include "core/log.h"
#include "mirror/mirror_engine.h"
#include "mirror/mirror_runtime.h"

/* Settings and state shared by all workers; read-only after start except
 * <connections>, the process-wide count of open SPOP connections. */
struct worker_shared {
    int listen_fd;
    uint32_t max_frame;
    uint32_t max_connections;
    uint32_t idle_timeout_ms;  /* 0 = never */
    size_t max_request;        /* largest shaped mirror request */
    struct mirror_runtime *rt; /* the runtime the workers start with */
    struct body_parts *parts;  /* slices of large bodies, shared by the workers; may be NULL */
    const struct logger *log;
    atomic_uint connections;
};

struct worker;

/* worker_new: a worker numbered <id> serving <shared> (borrowed). Allocates
 * its loop; aborts on out-of-memory. */
struct worker *worker_new(int id, struct worker_shared *shared);

/* worker_start: runs the worker's loop in a new thread. Returns 0, or an errno value. */
int worker_start(struct worker *w);

/* worker_stop: asks the worker, from any thread, to close its connections and
 * end its loop. */
void worker_stop(struct worker *w);

/* worker_set_runtime: hands the worker, from any thread, the runtime of a new
 * configuration; the caller has already counted the worker in rt->refs. New
 * NOTIFYs use it at once; mirror requests of the old one finish on their
 * connections, then the worker drops its reference to the old runtime. */
void worker_set_runtime(struct worker *w, struct mirror_runtime *rt);

/* worker_drain: asks the worker, from any thread, to stop accepting SPOP
 * connections and to close the open ones with an AGENT-DISCONNECT once what
 * they sent is answered; mirror requests in flight go on. */
void worker_drain(struct worker *w);

/* worker_idle: true once the worker, after worker_drain(), has no SPOP
 * connection and no mirror request queued or in flight (updated by the
 * worker when the drain starts and on each sweep). Any thread. */
bool worker_idle(const struct worker *w);

/* worker_join: waits for the worker's thread to end. */
void worker_join(struct worker *w);

/* worker_free: releases a worker whose thread has ended (or never started). */
void worker_free(struct worker *w);

/* worker_stats: the worker's SPOP counters, readable from any thread. */
const struct agent_stats *worker_stats(const struct worker *w);

#endif
