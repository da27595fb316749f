/* The last JSON documents one comparer loaded, by length: the answers of
 * one service often repeat their shape and change only in values (times,
 * ids, counters). A body of the same length as a kept document that
 * differs from it only where compare_json_doc_derive allows is loaded from
 * it, without tokenizing; any other body is loaded in full and kept in
 * its turn. Not shared: one per thread that compares. */
#ifndef SPOA_COMPARE_JSON_SHAPES_H
#define SPOA_COMPARE_JSON_SHAPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compare/compare_json_doc.h"

/* Documents kept, and the largest kept (bigger ones are loaded in full). */
#define COMPARE_JSON_SHAPES          4
#define COMPARE_JSON_SHAPE_MAX_BYTES 16384

struct compare_json_shape {
    char *text; /* owned copy; NULL: the slot is empty */
    struct compare_json_doc doc;
};

struct compare_json_shapes {
    struct compare_json_shape slot[COMPARE_JSON_SHAPES];
    size_t next_victim;
    uint64_t derived, loaded; /* bodies loaded from a kept document, and in full */
};

/* compare_json_shapes_new: empty. Release with compare_json_shapes_free. */
struct compare_json_shapes *compare_json_shapes_new(void);

/* compare_json_shapes_free: releases *s and what it keeps; NULL is fine. */
void compare_json_shapes_free(struct compare_json_shapes *s);

/* compare_json_shapes_load: loads the <len> bytes at <text> (borrowed; must
 * outlive *d) into *d as compare_json_doc_load does, and with the same
 * result, from a kept document when one allows it. A body loaded in full
 * (at most COMPARE_JSON_SHAPE_MAX_BYTES) is kept, replacing the oldest.
 * <s> may be NULL: a plain compare_json_doc_load. Release *d with
 * compare_json_doc_free either way. */
bool compare_json_shapes_load(struct compare_json_shapes *s, struct compare_json_doc *d, const char *text,
                              size_t len);

#endif
