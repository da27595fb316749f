/* A compare block made ready for use: its JSON path patterns parsed, its
 * lists copied, so that a comparison under way never reads a configuration
 * a reload may free. Immutable once made; any thread may read it. */
#ifndef SPOA_COMPARE_RULES_H
#define SPOA_COMPARE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/json_path.h"

/* The value written in place of a masked header or JSON value. */
#define COMPARE_REDACTED "<redacted>"

struct compare_rules {
    enum compare_status_mode status;
    enum compare_body_mode body;
    uint32_t max_body_bytes;
    bool all_headers; /* "*" was listed */
    char **headers;   /* the other names listed, lowercase */
    size_t n_headers;
    char **ignore_headers;
    size_t n_ignore_headers;
    char **redact_headers; /* the diff log's (or the capture defaults without one) */
    size_t n_redact_headers;
    struct json_path *ignore_paths;
    size_t n_ignore_paths;
    struct json_path *redact_paths;
    size_t n_redact_paths;
};

/* compare_rules_new: the rules of <cfg> (a validated compare block; only
 * read). Caller frees with compare_rules_free. */
struct compare_rules *compare_rules_new(const struct config_compare *cfg);

/* compare_rules_free: releases <r> and what it owns; NULL is fine. */
void compare_rules_free(struct compare_rules *r);

/* compare_rules_wants_header: true when a response header named <name>
 * (<len> bytes, any case) is compared: listed (or "*") and not ignored. */
bool compare_rules_wants_header(const struct compare_rules *r, const char *name, size_t len);

/* compare_rules_redacts_header: true when the value of header <name>
 * (lowercase, NUL-terminated) is masked in diff-log records. */
bool compare_rules_redacts_header(const struct compare_rules *r, const char *name);

/* compare_rules_path_in: true when one of the <n> patterns at <pats>
 * selects the concrete path <segs> (<depth> segments). */
bool compare_rules_path_in(const struct json_path *pats, size_t n, const struct json_seg *segs, size_t depth);

#endif
