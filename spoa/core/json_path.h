/* JSON paths: the patterns a comparison ignores or masks
 * (`ignore_json_paths: ["$.timestamp", "$.items[*].id", "$..trace_id"]`)
 * and the concrete paths a JSON diff reports. Pure: byte strings in,
 * segments out; nothing here knows a JSON library.
 *
 * Pattern grammar (a subset of JSONPath):
 *   pattern  = "$" segment*            at most JSON_PATH_MAX_SEGS segments,
 *                                      JSON_PATH_MAX_LEN bytes
 *   segment  = "." name | ".*" | "[" digits "]" | "[*]" | "['" quoted "']"
 *            | ".." name | "..*" | "..[" ... "]"   (".." = any depth, zero or more levels)
 *   name     = 1+ bytes other than . [ ] ' " * space, tab, control bytes
 *   quoted   = any bytes but control bytes; \' and \\ escape
 * `*` (either form) matches one level: any member name or any array index. */
#ifndef SPOA_CORE_JSON_PATH_H
#define SPOA_CORE_JSON_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_PATH_MAX_SEGS 32
#define JSON_PATH_MAX_LEN  256
/* Largest array index a pattern may name. */
#define JSON_PATH_MAX_INDEX 999999999u

enum json_seg_kind {
    JSEG_KEY = 0, /* an object member: key/key_len */
    JSEG_INDEX,   /* an array element: index */
    JSEG_ANY,     /* pattern only: any one member or element */
    JSEG_DESCEND, /* pattern only: zero or more levels */
};

struct json_seg {
    enum json_seg_kind kind;
    const char *key; /* JSEG_KEY: not NUL-terminated; owned by whoever made the segment */
    size_t key_len;
    uint32_t index; /* JSEG_INDEX */
};

/* A parsed pattern; owns its segments and their keys. */
struct json_path {
    struct json_seg segs[JSON_PATH_MAX_SEGS];
    size_t n;
    char *keys; /* one heap block holding every key */
};

/* json_path_parse: parses the NUL-terminated pattern <s> into *out. Returns
 * true on success (release *out with json_path_free); otherwise writes why
 * to <err> (size <errlen>), leaves nothing to free and returns false. */
bool json_path_parse(const char *s, struct json_path *out, char *err, size_t errlen);

/* json_path_free: releases what *p owns and empties it. */
void json_path_free(struct json_path *p);

/* json_path_match: true when the concrete path <segs> (<n> JSEG_KEY or
 * JSEG_INDEX segments, the root being n == 0) is selected by <pat>. Runs in
 * O(pat->n * n) time, no allocation. */
bool json_path_match(const struct json_path *pat, const struct json_seg *segs, size_t n);

/* Incremental matching, for a walk that goes down a document one level at a
 * time: a state is the set of pattern prefixes (bit i: the first i
 * segments) that match the concrete path walked so far, so that each level
 * costs O(pat->n) instead of a whole json_path_match. Same answers as
 * json_path_match on the same concrete path. */
typedef uint64_t json_path_state;

/* json_path_start: the state of <pat> at the root (n == 0). */
json_path_state json_path_start(const struct json_path *pat);

/* json_path_step: the state of <pat> one level below <st>, the level being
 * the concrete segment <seg> (JSEG_KEY or JSEG_INDEX). 0 means that no path
 * below can match any more. */
json_path_state json_path_step(const struct json_path *pat, json_path_state st, const struct json_seg *seg);

/* json_path_accepts: true when <pat> selects the path whose state is <st>. */
bool json_path_accepts(const struct json_path *pat, json_path_state st);

/* json_path_format: writes the concrete path <segs> (<n> segments) as text
 * into <out> (size <cap> >= 2, always NUL-terminated), e.g. `$.items[3].id`,
 * or `$.items[*].id` when <generalize> (every index written as `*`). Keys
 * that are not plain names are quoted: `$['a.b']`. A path longer than the
 * buffer is cut and ends in "...". Returns the length written. */
size_t json_path_format(const struct json_seg *segs, size_t n, bool generalize, char *out, size_t cap);

#endif
