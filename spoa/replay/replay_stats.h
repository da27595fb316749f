/* What a replay did, for its summary: responses by status class, failures by
 * reason, every response latency (for exact percentiles) and the pacing. */
#ifndef SPOA_REPLAY_STATS_H
#define SPOA_REPLAY_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mirror/mirror_stats.h"

struct replay_stats {
    uint64_t records;      /* records read from the capture files */
    uint64_t filtered;     /* of those, skipped by --filter-route */
    uint64_t bad_records;  /* of those, not writable as HTTP/1.1 (not sent) */
    uint64_t submitted;    /* requests handed to the HTTP client */
    uint64_t responses[6]; /* by status class: [1]..[5] = 1xx..5xx, [0] = other */
    uint64_t failed[MIRROR_DROP_ENTRIES];
    uint64_t *latency_ns; /* one per response, in completion order */
    size_t n_latency, cap_latency;
    uint64_t first_submit_ns, last_submit_ns; /* monotonic */
    uint64_t start_ns, end_ns;                /* monotonic: the run */
    double requested_rps;                     /* 0 when unknown */
    uint64_t files, damaged_files;
};

/* replay_stats_done: counts one finished request: a response with <status>
 * after <latency_ns>, or (why != MIRROR_DROP_NONE) a failure. */
void replay_stats_done(struct replay_stats *s, int status, uint64_t latency_ns, enum mirror_drop why);

/* replay_stats_failed_total: requests that failed (all drop reasons). */
uint64_t replay_stats_failed_total(const struct replay_stats *s);

/* replay_stats_percentile: the exact nearest-rank percentile <q> (0 < q <=
 * 1) of the response latencies, in ns: the smallest value with at least
 * q * count values at or below it. Sorts the latencies in place. Returns 0
 * when there was no response. */
uint64_t replay_stats_percentile(struct replay_stats *s, double q);

/* replay_stats_print: the summary, as "key=value" lines (format in
 * docs/capture-format.md, section replay). */
void replay_stats_print(struct replay_stats *s, FILE *out);

/* replay_stats_free: releases the latency array. */
void replay_stats_free(struct replay_stats *s);

#endif
