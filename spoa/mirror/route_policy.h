/* Route choice and sampling: which route a request belongs to and which of
 * the route's mirrors receive a copy. Pure: the caller supplies the random
 * draws, so results are reproducible in tests. */
#ifndef SPOA_ROUTE_POLICY_H
#define SPOA_ROUTE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "mirror/mirror_args.h"

/* Sampling works in millionths of a percent-unit: percent * 10000, so
 * 100% = 1,000,000 and the finest step is 0.0001%. */
#define SAMPLE_SCALE 1000000u

/* route_select: the index of the route for <a>: the route named by the `route`
 * argument when HAProxy sent one (-1 when that name is unknown); otherwise the
 * first route whose match holds (every given condition: host exact or
 * "*.suffix", path prefix, method); otherwise -1. */
int route_select(const struct config *cfg, const struct mirror_args *a);

/* route_matches: true when every condition of <r>'s match holds for <a>. */
bool route_matches(const struct config_route *r, const struct mirror_args *a);

/* host_matches: true when <host> (case-insensitive, as sent) equals <pattern>
 * or, for a pattern "*.suffix", ends in ".suffix" with at least one more label
 * character before it. A pattern without a port also matches the host with
 * any port ("httpbin" matches "httpbin:8000"); a pattern with a port only
 * matches that port, compared as written (a host sent without a port does not
 * match it). A bracketed IPv6 literal keeps its brackets ("[::1]:8080"). The
 * pattern "*" matches every host. */
bool host_matches(const char *pattern, struct spop_bytes host);

/* sample_hash: a stable 64-bit hash of <key> (FNV-1a), identical on every
 * agent and every run, so the same key always gets the same decision. */
uint64_t sample_hash(const uint8_t *key, size_t len);

/* sample_pick: true when a draw falls inside <percent_millionths>:
 * (draw % SAMPLE_SCALE) < percent_millionths. 0 never, SAMPLE_SCALE always. */
bool sample_pick(uint64_t draw, uint32_t percent_millionths);

/* sample_key: finds the sampling key of mirror <m> in <a>: the value of the
 * header (SAMPLE_HEADER) or of the cookie (SAMPLE_COOKIE, looked up in every
 * Cookie header). The first occurrence decides; an empty value counts as no
 * key (so requests without one are not all hashed into one bucket). Returns
 * false when the request has none. *key points into a->hdrs. */
bool sample_key(const struct config_mirror *m, const struct mirror_args *a, struct spop_bytes *key);

/* cookie_value: finds the cookie named exactly <name> (case-sensitive) in one
 * Cookie header value ("a=1; session=xyz; b=2"). *value is its value without
 * surrounding spaces, tabs and double quotes (may be empty), pointing into
 * <header>. Returns false when no pair has that name. */
bool cookie_value(struct spop_bytes header, const char *name, struct spop_bytes *value);

/* mirror_sampled: the decision for mirror <m>: by the hash of its key when it
 * samples by header or cookie and the request has that key, otherwise by
 * <random_draw>. *used_key (when not NULL) tells which. */
bool mirror_sampled(const struct config_mirror *m, const struct mirror_args *a, uint64_t random_draw,
                    bool *used_key);

/* A per-thread pseudo-random generator (splitmix64): fast, not cryptographic. */
struct rng {
    uint64_t state;
};

/* rng_seed: seeds from <seed>. rng_next: the next 64-bit draw. */
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);

#endif
