/* The resolver thread: resolves every mirror host at start and again every
 * period, so the event loops never call getaddrinfo(). A failure is counted
 * and logged; the last good addresses stay in use. */
#ifndef SPOA_RESOLVER_H
#define SPOA_RESOLVER_H

#include <stddef.h>

#include "core/log.h"
#include "mirror/target_addr.h"

struct resolver;

/* resolver_start: starts the thread over <targets> (borrowed: they must
 * outlive the resolver), refreshing every <period_ms>. Returns NULL when the
 * thread cannot start. */
struct resolver *resolver_start(struct target_addr **targets, size_t n, unsigned period_ms,
                                const struct logger *log);

/* resolver_wait_first: waits until the first pass has run, at most <max_ms>.
 * Returns true when it has. */
bool resolver_wait_first(struct resolver *r, unsigned max_ms);

/* resolver_stop: ends the thread (waiting for a resolution in progress) and
 * frees the resolver. */
void resolver_stop(struct resolver *r);

#endif
