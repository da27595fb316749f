/* Per-thread counters: written only by the thread that owns them, read by any
 * thread (a metrics scrape sums them). Relaxed atomic loads and stores keep
 * the reads free of data races without a locked read-modify-write on the hot path. */
#ifndef SPOA_COUNTER_H
#define SPOA_COUNTER_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint64_t counter_t;

/* counter_add: adds <n>; only the owning thread may call it. */
static inline void counter_add(counter_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* counter_inc: adds one; only the owning thread may call it. */
static inline void counter_inc(counter_t *c)
{
    counter_add(c, 1);
}

/* counter_get: reads the value from any thread. */
static inline uint64_t counter_get(const counter_t *c)
{
    return atomic_load_explicit((counter_t *)c, memory_order_relaxed);
}

#endif
