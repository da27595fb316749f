/* One side of a comparison: what the primary answered (from HAProxy's
 * response message) or what a mirror answered (read by the mirror client):
 * the status, the headers the rules compare, the body's digest (and bytes
 * when a JSON comparison needs them) and the latency. */
#ifndef SPOA_COMPARE_SIDE_H
#define SPOA_COMPARE_SIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compare/compare_body.h"

/* Headers kept per side at most: more are counted, not kept. */
#define COMPARE_SIDE_MAX_HEADERS 64
#define COMPARE_SIDE_REASON_CAP  24
/* Bytes of header names and values held in the side itself; more take
 * heap memory, one block per string. */
#define COMPARE_SIDE_INLINE_STRINGS 512

struct compare_header {
    char *name; /* lowercase; held by the side */
    char *value;
};

struct compare_side {
    bool failed;                          /* no answer: reason says why (shadow side) */
    char reason[COMPARE_SIDE_REASON_CAP]; /* e.g. "timeout", "connect" */
    uint16_t status;
    struct compare_body body;
    uint64_t latency_us; /* 0 when unknown */
    uint64_t arrived_ns; /* when it came (monotonic), set by whoever fills it */
    size_t n_headers;
    size_t n_headers_dropped;
    size_t strings_used; /* of strings */
    void *spilled;       /* heap blocks of strings past the inline ones, a list */
    /* Last, and only written as they fill: */
    struct compare_header headers[COMPARE_SIDE_MAX_HEADERS];
    char strings[COMPARE_SIDE_INLINE_STRINGS]; /* the headers' names and values */
};

/* compare_side_new: an empty side whose body hashes at most <max_body>
 * bytes and keeps them when <keep>. Caller frees with compare_side_free. */
struct compare_side *compare_side_new(uint32_t max_body, bool keep);

/* compare_side_add_header: keeps a copy of header <name>/<value> (name
 * lowercased); past COMPARE_SIDE_MAX_HEADERS it is counted in
 * n_headers_dropped instead. */
void compare_side_add_header(struct compare_side *s, const char *name, size_t name_len, const char *value,
                             size_t value_len);

/* compare_side_clear_headers: forgets every header kept so far. */
void compare_side_clear_headers(struct compare_side *s);

/* compare_side_fail: marks <s> failed for <reason> (copied, cut to fit). */
void compare_side_fail(struct compare_side *s, const char *reason);

/* compare_side_free: releases <s> and what it owns; NULL is fine. */
void compare_side_free(struct compare_side *s);

#endif
