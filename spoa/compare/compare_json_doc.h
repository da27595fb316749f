/* A JSON body as the token walk reads it: one node per value (and per
 * member name), in document order, each with its bytes, its kind and where
 * its subtree ends. Made by tokenizing with jsmn and then checking what
 * jsmn lets through and jansson would refuse (separators, number grammar,
 * literals, escapes, UTF-8), so that a document loaded here is exactly one
 * jansson parses. What it cannot be sure of (escaped member names, depth
 * past COMPARE_JSON_MAX_DEPTH, a top-level scalar at the very end, bytes
 * jansson refuses, an object naming a member twice, which jansson keeps
 * once) is refused; callers leave such a body to jansson. */
#ifndef SPOA_COMPARE_JSON_DOC_H
#define SPOA_COMPARE_JSON_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum compare_json_type {
    CJ_OBJECT = 0,
    CJ_ARRAY,
    CJ_STRING,
    CJ_INTEGER, /* a number without fraction or exponent: jansson's integer */
    CJ_REAL,
    CJ_TRUE,
    CJ_FALSE,
    CJ_NULL,
};

struct compare_json_node {
    uint8_t type;   /* enum compare_json_type */
    bool escaped;   /* a string holding a backslash escape */
    bool name;      /* a member name (a string) */
    uint32_t start; /* the value's bytes, a string's with its quotes */
    uint32_t end;
    uint32_t size; /* an object's members, an array's elements; 0 otherwise */
    uint32_t next; /* the node after this one's subtree */
};

/* Nodes held in the document itself; larger documents take heap memory. */
#define COMPARE_JSON_DOC_INLINE 160

struct compare_json_doc {
    const char *text; /* borrowed */
    size_t len;
    struct compare_json_node *nodes; /* n nodes; an object's are name, value, name, value... */
    size_t n;
    struct compare_json_node inline_nodes[COMPARE_JSON_DOC_INLINE];
};

/* compare_json_doc_load: loads the <len> bytes at <text> (borrowed; must
 * outlive *d) into *d. Returns true when the walk can take the document;
 * false when it is not JSON or the walk cannot be sure of it. Either way
 * release *d with compare_json_doc_free. */
bool compare_json_doc_load(struct compare_json_doc *d, const char *text, size_t len);

/* compare_json_doc_derive: loads the <len> bytes at <text> (borrowed) into
 * *d from <like>, a document of the same length already loaded, when they
 * differ only inside values <like> holds as numbers, literals or strings
 * without escapes, and only by printable ASCII bytes other than quotes and
 * backslashes on both sides (a timestamp, an id, a counter): the nodes are
 * <like>'s, the changed numbers' and literals' kinds checked again, and
 * nothing is tokenized. Returns false, *d empty, when the bodies differ in
 * any other way (compare_json_doc_load then decides). Release *d with
 * compare_json_doc_free either way. */
bool compare_json_doc_derive(struct compare_json_doc *d, const struct compare_json_doc *like,
                             const char *text, size_t len);

/* compare_json_doc_copy: *d as a copy of <src>'s nodes over <text> (borrowed;
 * <src>'s length, must outlive *d). Release *d with compare_json_doc_free. */
void compare_json_doc_copy(struct compare_json_doc *d, const struct compare_json_doc *src, const char *text);

/* compare_json_name_hash: the hash by which member names are looked up
 * (of the <n> bytes at <p>, quotes included). */
uint32_t compare_json_name_hash(const char *p, size_t n);

/* compare_json_doc_free: releases what *d owns. */
void compare_json_doc_free(struct compare_json_doc *d);

#endif
