/* A per-agent rate limit shared by every worker: the generic cell rate
 * algorithm (a token bucket kept as one "theoretical arrival time"), updated
 * with a compare-and-swap. Only mirrors with max_rps set pay for it. */
#ifndef SPOA_RATE_LIMIT_H
#define SPOA_RATE_LIMIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct rate_limit {
    uint64_t interval_ns; /* 1e9 / rps; 0 = no limit */
    uint64_t burst_ns;    /* how far ahead of now the arrival time may run: the burst */
    _Atomic uint64_t tat; /* theoretical arrival time, ns on the monotonic clock */
};

/* rate_limit_init: <rps> requests per second with a burst of a tenth of a
 * second's worth (at least one); 0 = no limit. */
void rate_limit_init(struct rate_limit *r, uint32_t rps);

/* rate_limit_allow: true when a request at <now_ns> fits the rate (and takes
 * its slot). Any thread. */
bool rate_limit_allow(struct rate_limit *r, uint64_t now_ns);

#endif
