#include "core/histogram.h"

void histogram_observe(struct latency_histogram *h, const double *bounds, uint64_t ns, uint64_t n)
{
    double s = (double)ns / 1e9;
    unsigned i = 0;
    while (i < HISTOGRAM_BUCKETS && s > bounds[i])
        i++;
    counter_add(&h->buckets[i], n);
    counter_add(&h->count, n);
    counter_add(&h->sum_ns, ns * n);
}
