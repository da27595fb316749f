/* Filling a compare_side from a response as an HTTP parser reports it:
 * header names and values in pieces, then body bytes. Only the headers the
 * rules compare are kept; names and values longer than the bounds below are
 * cut (a cut name is not kept). */
#ifndef SPOA_COMPARE_COLLECT_H
#define SPOA_COMPARE_COLLECT_H

#include <stdbool.h>
#include <stddef.h>

#include "compare/compare_rules.h"
#include "compare/compare_side.h"

#define COMPARE_COLLECT_NAME_CAP  128
#define COMPARE_COLLECT_VALUE_CAP 1024

struct compare_collect {
    const struct compare_rules *rules; /* borrowed */
    struct compare_side *side;         /* borrowed: filled */
    char name[COMPARE_COLLECT_NAME_CAP];
    size_t name_len;
    bool name_cut;
    char value[COMPARE_COLLECT_VALUE_CAP];
    size_t value_len;
    bool in_value; /* the last piece was a value */
    bool have_pair;
};

/* compare_collect_init: collects into <side> under <rules> (both borrowed). */
void compare_collect_init(struct compare_collect *c, const struct compare_rules *rules,
                          struct compare_side *side);

/* compare_collect_begin: a response starts: the headers kept so far (an
 * interim response's) are dropped. */
void compare_collect_begin(struct compare_collect *c);

/* compare_collect_field / compare_collect_value: a piece of a header's name
 * or value (<n> bytes at <p>, borrowed). */
void compare_collect_field(struct compare_collect *c, const char *p, size_t n);
void compare_collect_value(struct compare_collect *c, const char *p, size_t n);

/* compare_collect_headers_done: the headers are over (keeps the last one). */
void compare_collect_headers_done(struct compare_collect *c);

/* compare_collect_body: body bytes, fed to the side's body. */
void compare_collect_body(struct compare_collect *c, const char *p, size_t n);

#endif
