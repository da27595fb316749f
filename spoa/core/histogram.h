/* Latency histograms with fixed bucket bounds, written by one thread and
 * readable by any (see counter.h). */
#ifndef SPOA_HISTOGRAM_H
#define SPOA_HISTOGRAM_H

#include <stdint.h>

#include "core/counter.h"

#define HISTOGRAM_BUCKETS 12

struct latency_histogram {
    counter_t buckets[HISTOGRAM_BUCKETS + 1]; /* per bucket, not cumulative; the last is +Inf */
    counter_t count;
    counter_t sum_ns;
};

/* histogram_observe: counts <n> observations of <ns> nanoseconds each into
 * the bucket of <bounds> (HISTOGRAM_BUCKETS ascending upper bounds, seconds).
 * Owner thread only. */
void histogram_observe(struct latency_histogram *h, const double *bounds, uint64_t ns, uint64_t n);

#endif
