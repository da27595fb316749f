/* The resolver thread: resolves every mirror host at start and again every
 * period, so the event loops never call getaddrinfo(). A failure is counted
 * and logged; the last good addresses stay in use. Stopping never waits for
 * a getaddrinfo() that hangs (a DNS server that does not answer): the
 * thread is detached, works on its own copy of the host names, and touches
 * the targets, the counters and the logger only under its lock and only
 * until resolver_stop() has been called. */
#ifndef SPOA_RESOLVER_H
#define SPOA_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/log.h"
#include "mirror/target_addr.h"

struct resolver;

/* resolver_start: starts the thread over <targets> (borrowed: they must
 * stay valid until resolver_stop() returns), refreshing every <period_ms>.
 * Each pass resolves first the targets that have no address yet. Returns
 * NULL when the thread cannot start. */
struct resolver *resolver_start(struct target_addr **targets, size_t n, unsigned period_ms,
                                const struct logger *log);

/* resolver_wait_first: waits until the first pass has run, at most <max_ms>.
 * Returns true when it has. */
bool resolver_wait_first(struct resolver *r, unsigned max_ms);

/* resolver_stop: tells the thread to end and waits at most <max_ms> for it.
 * Either way, once it returns the thread no longer touches the targets, the
 * counters or the logger, and the resolver is freed (by the thread itself,
 * when a getaddrinfo() still holds it). Returns true when the thread ended
 * in time. */
bool resolver_stop(struct resolver *r, unsigned max_ms);

#endif
