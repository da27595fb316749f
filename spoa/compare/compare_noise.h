/* Learned noise: the generalized JSON paths ($.items[*].id) and header
 * names whose values differed between the primary and a mirror running the
 * primary's own version. Those differences are non-determinism (times,
 * random ids), so they are left out of the verdicts on the candidate the
 * noise mirror stands beside. One set per candidate mirror, shared by the
 * workers (a mutex), bounded: past COMPARE_NOISE_MAX entries of a kind,
 * nothing more is learned (counted). */
#ifndef SPOA_COMPARE_NOISE_H
#define SPOA_COMPARE_NOISE_H

#include <stdbool.h>
#include <stddef.h>

#define COMPARE_NOISE_MAX 256

enum compare_noise_kind { COMPARE_NOISE_PATH = 0, COMPARE_NOISE_HEADER, COMPARE_NOISE_KINDS };

struct compare_noise;

/* compare_noise_new: an empty set. compare_noise_free releases it (NULL is fine). */
struct compare_noise *compare_noise_new(void);
void compare_noise_free(struct compare_noise *n);

/* compare_noise_learn: adds <what> (copied) as noise of <kind>. Returns true
 * when it was new. Any thread. */
bool compare_noise_learn(struct compare_noise *n, enum compare_noise_kind kind, const char *what);

/* compare_noise_has: true when <what> was learned as noise of <kind>. Any thread. */
bool compare_noise_has(struct compare_noise *n, enum compare_noise_kind kind, const char *what);

/* compare_noise_count: entries of <kind> learned; *overflow (may be NULL)
 * receives how many were not kept for lack of room. */
size_t compare_noise_count(struct compare_noise *n, enum compare_noise_kind kind, size_t *overflow);

#endif
