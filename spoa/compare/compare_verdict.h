/* The verdict on one compared request: the primary's answer against one
 * mirror's, under a compare block's rules. Pure: two sides in, a verdict
 * out. */
#ifndef SPOA_COMPARE_VERDICT_H
#define SPOA_COMPARE_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compare/compare_json.h"
#include "compare/compare_rules.h"
#include "compare/compare_side.h"

/* The results, in the order a verdict prefers them (the first that holds). */
/* clang-format off */
#define COMPARE_RESULTS(X)                  \
    X(MATCH,          "match")              \
    X(STATUS_DIFFERS, "status_differs")     \
    X(HEADERS_DIFFER, "headers_differ")     \
    X(BODY_DIFFERS,   "body_differs")       \
    X(SHADOW_ERROR,   "shadow_error")       \
    X(UNMATCHED,      "unmatched")
/* clang-format on */

enum compare_result {
#define COMPARE_RESULT_ENUM(name, text) COMPARE_##name,
    COMPARE_RESULTS(COMPARE_RESULT_ENUM)
#undef COMPARE_RESULT_ENUM
        COMPARE_RESULT_COUNT
};

/* compare_result_str: the snake_case name of <r> (metrics label, diff log). */
const char *compare_result_str(enum compare_result r);

#define COMPARE_MAX_HEADER_DIFFS 8
#define COMPARE_HEADER_NAME_CAP  64

struct compare_header_diff {
    char name[COMPARE_HEADER_NAME_CAP];
    char primary[COMPARE_JSON_VALUE_CAP]; /* "" when absent; COMPARE_REDACTED when masked */
    char shadow[COMPARE_JSON_VALUE_CAP];
};

struct compare_verdict {
    enum compare_result result; /* the first of status, headers, body that differs; or match / shadow_error */
    bool status_differs, headers_differ, body_differs;
    size_t n_header_diffs; /* all, noise left out */
    size_t n_header_noise;
    size_t n_header_reported;
    struct compare_header_diff headers[COMPARE_MAX_HEADER_DIFFS];
    bool json_compared; /* body: json and both bodies parsed whole */
    struct compare_json_result json;
    int64_t latency_diff_us; /* shadow minus primary; 0 when either is unknown */
};

/* Is a difference in this header learned noise? (NULL: none is.) */
typedef bool (*compare_header_noise_fn)(void *ctx, const char *name);

/* compare_verdict_compute: the verdict on <primary> against <shadow> under
 * <r> into *v. <json_noise> and <header_noise> (either may be NULL) are
 * asked about each difference, with <ctx>; what they call noise is counted
 * apart and does not make the verdict. Sides are only read (their bodies
 * must be finished). <shapes> (may be NULL) as for compare_json_diff. */
void compare_verdict_compute(const struct compare_rules *r, const struct compare_side *primary,
                             const struct compare_side *shadow, compare_noise_fn json_noise,
                             compare_header_noise_fn header_noise, void *ctx,
                             struct compare_json_shapes *shapes, struct compare_verdict *v);

#endif
