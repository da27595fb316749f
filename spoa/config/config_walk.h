/* Walking a loaded YAML document (libyaml's document API) against a fixed
 * schema: mappings with known keys, lists, typed scalars, and error messages
 * "<file>:<line>: <dotted.key.path>: <message>" that name where each problem
 * is. Used by config_yaml.c, which holds the schema itself. */
#ifndef SPOA_CONFIG_WALK_H
#define SPOA_CONFIG_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "config/config.h"
#include "config/config_errors.h"

/* At most this many messages are appended per document; one more says so. */
#define CONFIG_WALK_MAX_ERRORS 100
/* Nodes visited per document, counting every visit through an alias: a bound
 * on the work anchors and aliases can cause. */
#define CONFIG_WALK_MAX_VISITS 200000

#define CW_PATH_CAP  256
#define CW_QUOTE_CAP 128 /* a buffer for config_quote() in messages */
#define CW_ERR_CAP   192 /* a buffer for the messages of config_url.h */

/* The state of one walk. Zero it, then set doc, name, c and errs. */
struct cw {
    yaml_document_t *doc;
    const char *name;           /* the file name for messages */
    struct config *c;           /* the configuration being filled */
    struct config_errors *errs; /* where messages go */
    size_t nerr;
    size_t visits;
    char path[CW_PATH_CAP]; /* dotted key path of the node being checked */
    size_t plen;
};

/* cw_error: appends "<name>:<line of n>: <path or (root)>: <message>"; after
 * CONFIG_WALK_MAX_ERRORS messages, one last one says the rest are left out. */
void cw_error(struct cw *w, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* cw_line: the 1-based line where <n> starts (1 when n is NULL). */
int cw_line(const yaml_node_t *n);

/* cw_path_key / cw_path_index: append ".key" (just "key" at the top) or
 * "[i]" to the path and return the length to give back to cw_path_pop. */
size_t cw_path_key(struct cw *w, const char *key);
size_t cw_path_index(struct cw *w, size_t i);
void cw_path_pop(struct cw *w, size_t old);

/* cw_visit: counts one node visit; false (reported once) past CONFIG_WALK_MAX_VISITS. */
bool cw_visit(struct cw *w, const yaml_node_t *n);

/* cw_node: the node at <index> of the document. */
yaml_node_t *cw_node(struct cw *w, int index);

/* cw_text: the text of scalar node <n>. */
const char *cw_text(const yaml_node_t *n);

/* cw_is_null: true for YAML's null: an empty plain scalar, "~" or "null". */
bool cw_is_null(const yaml_node_t *n);

/* cw_describe: what <n> is, for "got ..." in messages: "a mapping", "a list",
 * "nothing" or the quoted text (written into <buf> of size <cap>). */
const char *cw_describe(const yaml_node_t *n, char *buf, size_t cap);

/* cw_scalar: the text of <n> when it is a non-null scalar without NUL bytes;
 * otherwise reports "must be <what>, got ..." and returns NULL. */
const char *cw_scalar(struct cw *w, const yaml_node_t *n, const char *what);

/* One known key of a mapping and what its value becomes. */
typedef void (*cw_field_fn)(struct cw *w, yaml_node_t *v, void *obj);

enum cw_kind {
    CW_FN,     /* handled by fn(w, value, obj) */
    CW_U32,    /* decimal uint32_t stored at obj + off, min..max */
    CW_INT,    /* decimal int stored at obj + off, min..max */
    CW_LISTEN, /* "host:port" (port 0 allowed) copied to the char * at obj + off */
};

struct cw_field {
    const char *key;
    enum cw_kind kind;
    size_t off;
    uint32_t min, max;
    cw_field_fn fn;
};

/* cw_map: checks that <map> is a mapping (null counts as an empty one) and
 * hands each value to its field among <fields> (at most 32), with the key on
 * the path. Unknown keys, repeated keys and non-scalar keys are reported.
 * *seen receives bit i for each fields[i] present. Returns false (after
 * reporting) when <map> is something else. */
bool cw_map(struct cw *w, yaml_node_t *map, const struct cw_field *fields, size_t nf, void *obj,
            unsigned *seen);

/* cw_seq: checks that <seq> is a list (null counts as an empty one) of <what>
 * and hands each item to <fn> with "[i]" on the path. Returns false (after
 * reporting) when <seq> is something else. */
typedef void (*cw_item_fn)(struct cw *w, yaml_node_t *item, void *obj);
bool cw_seq(struct cw *w, yaml_node_t *seq, const char *what, cw_item_fn fn, void *obj);

/* cw_percent: reads a percentage ("50", "0.0001") at <v> into *dst as
 * millionths (config_percent_parse), or reports why it cannot. */
void cw_percent(struct cw *w, yaml_node_t *v, uint32_t *dst);

#endif
