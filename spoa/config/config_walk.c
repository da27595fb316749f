#include "config/config_walk.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_url.h"
#include "config/config_value.h"
#include "core/xalloc.h"

int cw_line(const yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 1;
}

/* Appends "<file>:<line of n>: <path>: <message>", up to the error cap. */
void cw_error(struct cw *w, const yaml_node_t *n, const char *fmt, ...)
{
    if (w->nerr > CONFIG_WALK_MAX_ERRORS)
        return;
    if (w->nerr++ == CONFIG_WALK_MAX_ERRORS) {
        config_errors_addf(w->errs, "%s:%d: (config): too many errors, only the first %d are shown", w->name,
                           cw_line(n), CONFIG_WALK_MAX_ERRORS);
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    config_errors_addf(w->errs, "%s:%d: %s: %s", w->name, cw_line(n), w->plen ? w->path : "(root)", msg);
}

/* Appends ".key" (or "key" at the top) to the path; control bytes and
 * non-ASCII bytes show as '?'. Returns the length to restore with cw_path_pop. */
size_t cw_path_key(struct cw *w, const char *key)
{
    size_t old = w->plen;
    if (w->plen > 0 && w->plen < CW_PATH_CAP - 1)
        w->path[w->plen++] = '.';
    for (const unsigned char *p = (const unsigned char *)key; *p && w->plen < CW_PATH_CAP - 1; p++)
        w->path[w->plen++] = (*p < 0x20 || *p >= 0x7f) ? '?' : (char)*p;
    w->path[w->plen] = '\0';
    return old;
}

/* Appends "[i]" to the path. */
size_t cw_path_index(struct cw *w, size_t i)
{
    size_t old = w->plen;
    int n = snprintf(w->path + w->plen, CW_PATH_CAP - w->plen, "[%zu]", i);
    if (n > 0)
        w->plen = (w->plen + (size_t)n < CW_PATH_CAP) ? w->plen + (size_t)n : CW_PATH_CAP - 1;
    return old;
}

void cw_path_pop(struct cw *w, size_t old)
{
    w->plen = old;
    w->path[old] = '\0';
}

/* Counts one node visit; false (reported once) when the budget is spent. */
bool cw_visit(struct cw *w, const yaml_node_t *n)
{
    if (w->visits < CONFIG_WALK_MAX_VISITS) {
        w->visits++;
        return true;
    }
    if (w->visits++ == CONFIG_WALK_MAX_VISITS)
        cw_error(w, n, "too many values (more than %d, counting alias expansions)", CONFIG_WALK_MAX_VISITS);
    return false;
}

const char *cw_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* YAML's null: an empty plain scalar, "~" or "null". */
bool cw_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return n->type == YAML_NO_NODE;
    const char *v = cw_text(n);
    return !strcmp(v, "") || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

/* What <n> is, for "got ..." in messages. */
const char *cw_describe(const yaml_node_t *n, char *buf, size_t cap)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (cw_is_null(n))
        return "nothing";
    return config_quote(buf, cap, cw_text(n));
}

/* The text of scalar <n>; NULL after reporting "must be <what>, got ...". */
const char *cw_scalar(struct cw *w, const yaml_node_t *n, const char *what)
{
    char q[CW_QUOTE_CAP];
    if (n->type != YAML_SCALAR_NODE || cw_is_null(n)) {
        cw_error(w, n, "must be %s, got %s", what, cw_describe(n, q, sizeof(q)));
        return NULL;
    }
    if (strlen(cw_text(n)) != n->data.scalar.length) {
        cw_error(w, n, "must be %s, got a string with a NUL byte", what);
        return NULL;
    }
    return cw_text(n);
}

yaml_node_t *cw_node(struct cw *w, int index)
{
    return yaml_document_get_node(w->doc, index);
}

static void cw_field_value(struct cw *w, const struct cw_field *f, yaml_node_t *v, void *obj)
{
    char what[64], q[CW_QUOTE_CAP], err[CW_ERR_CAP];
    const char *s;
    uint32_t val;
    switch (f->kind) {
    case CW_FN:
        f->fn(w, v, obj);
        break;
    case CW_U32:
    case CW_INT:
        snprintf(what, sizeof(what), "an integer from %" PRIu32 " to %" PRIu32, f->min, f->max);
        s = cw_scalar(w, v, what);
        if (!s)
            break;
        if (!config_u32_parse(s, f->min, f->max, &val)) {
            cw_error(w, v, "must be %s, got %s", what, config_quote(q, sizeof(q), s));
        } else if (f->kind == CW_U32) {
            memcpy((char *)obj + f->off, &val, sizeof(val));
        } else {
            int iv = (int)val;
            memcpy((char *)obj + f->off, &iv, sizeof(iv));
        }
        break;
    case CW_LISTEN:
        s = cw_scalar(w, v, "an address host:port");
        if (!s)
            break;
        if (!config_hostport_parse(s, CONFIG_HP_PORT_REQUIRED | CONFIG_HP_PORT_ZERO, NULL, NULL, err,
                                   sizeof(err))) {
            cw_error(w, v, "must be an address host:port (%s), got %s", err, config_quote(q, sizeof(q), s));
        } else {
            char **dst = (char **)(void *)((char *)obj + f->off);
            free(*dst);
            *dst = xstrdup(s);
        }
        break;
    }
}

/* Checks that <map> is a mapping (or null: no keys) and hands each value to
 * its field; unknown and repeated keys are reported. *seen receives one bit
 * per field index set. Returns false when <map> is not a mapping. */
bool cw_map(struct cw *w, yaml_node_t *map, const struct cw_field *fields, size_t nf, void *obj,
            unsigned *seen)
{
    int first[32] = {0};
    char q[CW_QUOTE_CAP];
    *seen = 0;
    if (cw_is_null(map))
        return true;
    if (map->type != YAML_MAPPING_NODE) {
        cw_error(w, map, "must be a mapping, got %s", cw_describe(map, q, sizeof(q)));
        return false;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = cw_node(w, p->key);
        yaml_node_t *v = cw_node(w, p->value);
        if (!cw_visit(w, k))
            break;
        if (k->type != YAML_SCALAR_NODE) {
            cw_error(w, k, "keys must be plain names, got %s", cw_describe(k, q, sizeof(q)));
            continue;
        }
        if (strlen(cw_text(k)) != k->data.scalar.length) {
            cw_error(w, k, "keys must be plain names, got a string with a NUL byte");
            continue;
        }
        const char *key = cw_text(k);
        size_t old = cw_path_key(w, key);
        size_t i = 0;
        while (i < nf && strcmp(fields[i].key, key) != 0)
            i++;
        if (i == nf) {
            char list[256] = "";
            size_t len = 0;
            for (size_t j = 0; j < nf && len < sizeof(list); j++) {
                int n = snprintf(list + len, sizeof(list) - len, "%s%s", j ? ", " : "", fields[j].key);
                len += n > 0 ? (size_t)n : 0;
            }
            cw_error(w, k, "unknown key (expected one of: %s)", list);
        } else if (*seen & (1u << i)) {
            cw_error(w, k, "duplicate key (first set at line %d)", first[i]);
        } else {
            *seen |= 1u << i;
            first[i] = cw_line(k);
            cw_field_value(w, &fields[i], v, obj);
        }
        cw_path_pop(w, old);
    }
    return true;
}

/* Checks that <seq> is a list (or null: empty) of <what> and hands each item
 * to <fn> with "[i]" on the path. Returns false when it is not a list. */
bool cw_seq(struct cw *w, yaml_node_t *seq, const char *what, cw_item_fn fn, void *obj)
{
    char q[CW_QUOTE_CAP];
    if (cw_is_null(seq))
        return true;
    if (seq->type != YAML_SEQUENCE_NODE) {
        cw_error(w, seq, "must be a list of %s, got %s", what, cw_describe(seq, q, sizeof(q)));
        return false;
    }
    size_t i = 0;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++, i++) {
        yaml_node_t *n = cw_node(w, *it);
        if (!cw_visit(w, n))
            break;
        size_t old = cw_path_index(w, i);
        fn(w, n, obj);
        cw_path_pop(w, old);
    }
    return true;
}

void cw_percent(struct cw *w, yaml_node_t *v, uint32_t *dst)
{
    char q[CW_QUOTE_CAP];
    const char *what = "a number from 0 to 100";
    const char *s = cw_scalar(w, v, what);
    if (!s)
        return;
    switch (config_percent_parse(s, dst)) {
    case CONFIG_PERCENT_OK:
        break;
    case CONFIG_PERCENT_BAD:
        cw_error(w, v, "must be %s, got %s", what, config_quote(q, sizeof(q), s));
        break;
    case CONFIG_PERCENT_PRECISION:
        cw_error(w, v, "must have at most 4 decimals (precision 0.0001), got %s",
                 config_quote(q, sizeof(q), s));
        break;
    }
}
