/* What the two JSON diffs (the token walk of compare_json_tokens.c and the
 * tree walk on jansson's values of compare_json_tree.c) share: the path of
 * the value being compared, and what becomes of a difference found there:
 * counted, asked about as learned noise, and the first ones recorded with
 * both values (masked where the rules redact, cut to fit). */
#ifndef SPOA_COMPARE_JSON_WALK_H
#define SPOA_COMPARE_JSON_WALK_H

#include <jansson.h>
#include <stddef.h>

#include "compare/compare_json.h"
#include "compare/compare_rules.h"
#include "core/json_path.h"

struct compare_json_walk {
    const struct compare_rules *r;
    compare_noise_fn noise; /* may be NULL */
    void *ctx;
    struct compare_json_result *out;
    struct json_seg segs[COMPARE_JSON_MAX_DEPTH]; /* the concrete path of the value compared */
    size_t depth;
};

/* compare_json_note: counts a difference of <kind> at w's current path (as
 * noise when w's noise function says so). Returns the record to fill with
 * both values (compare_json_print), its kind and paths set; NULL when the
 * difference is noise or past the COMPARE_JSON_MAX_REPORTED recorded. */
struct compare_json_diff *compare_json_note(struct compare_json_walk *w, enum compare_json_kind kind);

/* compare_json_print: writes the value <v> found at w's current path (NULL:
 * none, "") into <dst> as compact JSON, every value below it that a redact
 * pattern selects replaced by COMPARE_REDACTED, cut with "..." to fit. <v>
 * is only read. */
void compare_json_print(const struct compare_json_walk *w, const json_t *v, char dst[COMPARE_JSON_VALUE_CAP]);

/* compare_json_print_compact: the same for a scalar whose <n> bytes at
 * <text> are already its compact JSON as jansson writes it (a string
 * without escapes, an integer other than -0, true, false, null): masked
 * when a redact pattern selects w's current path, cut to fit. */
void compare_json_print_compact(const struct compare_json_walk *w, const char *text, size_t n,
                                char dst[COMPARE_JSON_VALUE_CAP]);

#endif
