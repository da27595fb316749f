/* The JSON diff of two response bodies (jansson): value by value, object
 * members by name and array elements by index, leaving out the subtrees
 * the rules ignore and the paths a caller reports as learned noise. The
 * first differences are kept with both values (masked where the rules
 * redact); all are counted. */
#ifndef SPOA_COMPARE_JSON_H
#define SPOA_COMPARE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compare/compare_rules.h"

struct compare_json_shapes;

#define COMPARE_JSON_MAX_REPORTED 8
#define COMPARE_JSON_PATH_CAP     160
#define COMPARE_JSON_VALUE_CAP    96
/* Deeper subtrees are compared whole, reported at this depth. */
#define COMPARE_JSON_MAX_DEPTH 64

enum compare_json_kind {
    COMPARE_JSON_CHANGED = 0, /* both have a value there; they differ */
    COMPARE_JSON_MISSING,     /* the primary has a value the shadow lacks */
    COMPARE_JSON_EXTRA,       /* the shadow has a value the primary lacks */
};

/* compare_json_kind_str: "changed", "missing" or "extra". */
const char *compare_json_kind_str(enum compare_json_kind k);

struct compare_json_diff {
    enum compare_json_kind kind;
    char path[COMPARE_JSON_PATH_CAP];        /* $.items[3].id */
    char generalized[COMPARE_JSON_PATH_CAP]; /* $.items[*].id */
    char primary[COMPARE_JSON_VALUE_CAP];    /* compact JSON, cut with "..."; "" when missing */
    char shadow[COMPARE_JSON_VALUE_CAP];
};

/* Is a difference at this generalized path learned noise? (NULL: none is.) */
typedef bool (*compare_noise_fn)(void *ctx, const char *generalized_path);

struct compare_json_result {
    bool primary_json, shadow_json; /* each body parsed as JSON; else nothing was compared */
    size_t n_diffs;                 /* differences counted (ignored paths and noise left out) */
    size_t n_noise;                 /* differences left out as noise */
    size_t n_reported;
    struct compare_json_diff diffs[COMPARE_JSON_MAX_REPORTED];
};

/* compare_json_result_reset: *out as before any comparison: neither body
 * parsed, nothing counted. Only the first n_reported diffs are ever read,
 * so the array is left as it is. */
void compare_json_result_reset(struct compare_json_result *out);

/* compare_json_diff: compares the JSON bodies <a> (primary, <alen> bytes)
 * and <b> (shadow) under <r> into *out. When either does not parse, only
 * primary_json / shadow_json say so. <noise> (may be NULL) is asked about
 * each difference not ignored, with <ctx>. <shapes> (may be NULL: none)
 * are the caller's recent documents, from which the primary's body is
 * loaded when it allows (compare_json_shapes.h); the result is the same.
 * Bytes are only read. */
void compare_json_diff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                       const struct compare_rules *r, compare_noise_fn noise, void *ctx,
                       struct compare_json_shapes *shapes, struct compare_json_result *out);

/* compare_json_diff_tokens: the diff compare_json_diff computes, on jsmn's
 * tokens: no tree is built and nothing is allocated while the bodies agree.
 * Returns false, *out then meaningless, when it leaves the bodies to the
 * tree walk (not JSON, duplicate or escaped member names, deep nesting, ...).
 * Same arguments as compare_json_diff. */
bool compare_json_diff_tokens(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                              const struct compare_rules *r, compare_noise_fn noise, void *ctx,
                              struct compare_json_shapes *shapes, struct compare_json_result *out);

/* compare_json_diff_tree: the same diff on jansson's trees of both bodies:
 * the reference compare_json_diff_tokens is held to, and what decides where
 * the latter gives up. Same arguments as compare_json_diff. */
void compare_json_diff_tree(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                            const struct compare_rules *r, compare_noise_fn noise, void *ctx,
                            struct compare_json_result *out);

#endif
