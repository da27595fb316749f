#include "compare/compare_json_doc.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short names: a call would cost more than the hash */
#include <xxhash.h>

#include "compare/compare_json.h"
#include "core/xalloc.h"

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS /* closing a container without scanning back over its tokens */
#include <jsmn.h>

/* jsmn tokens kept on the stack for a small document. */
#define STACK_TOKENS 256

struct loader {
    const char *text;
    size_t len;
    const jsmntok_t *tok;
    size_t ntok;
    size_t i; /* next token */
    struct compare_json_doc *d;
};

/* Does jansson take these bytes as one JSON value? Asked about the tokens
 * whose checks here would be long (escapes, UTF-8, huge numbers). */
static bool jansson_takes(const char *p, size_t n)
{
    json_error_t err;
    json_t *v = json_loadb(p, n, JSON_DECODE_ANY, &err);
    json_decref(v);
    return v != NULL;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The bytes from <from> to <to> are white space, with exactly one <sep>
 * among them when sep is not 0. */
static bool gap(const struct loader *L, size_t from, size_t to, char sep)
{
    bool seen = sep == 0;
    for (size_t p = from; p < to; p++) {
        char c = L->text[p];
        if (is_ws(c))
            continue;
        if (c != sep || seen)
            return false;
        seen = true;
    }
    return seen;
}

static size_t digits(const char *p, size_t i, size_t n)
{
    size_t k = i;
    while (k < n && p[k] >= '0' && p[k] <= '9')
        k++;
    return k - i;
}

/* A primitive's kind, CJ_OBJECT when it is none jansson would take for sure. */
static enum compare_json_type primitive(const char *p, size_t n)
{
    if (n == 4 && memcmp(p, "true", 4) == 0)
        return CJ_TRUE;
    if (n == 5 && memcmp(p, "false", 5) == 0)
        return CJ_FALSE;
    if (n == 4 && memcmp(p, "null", 4) == 0)
        return CJ_NULL;
    /* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
    size_t i = p[0] == '-' ? 1 : 0, k;
    if (i >= n || !(k = digits(p, i, n)) || (p[i] == '0' && k > 1))
        return CJ_OBJECT;
    size_t int_digits = k;
    i += k;
    bool frac = false, exp = false;
    if (i < n && p[i] == '.') {
        if (!(k = digits(p, i + 1, n)))
            return CJ_OBJECT;
        i += 1 + k;
        frac = true;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (!(k = digits(p, i, n)))
            return CJ_OBJECT;
        i += k;
        exp = true;
    }
    if (i != n)
        return CJ_OBJECT;
    if (!frac && !exp)
        /* 18 digits always fit in an int64_t; longer ones may not */
        return int_digits <= 18 || jansson_takes(p, n) ? CJ_INTEGER : CJ_OBJECT;
    /* without an exponent, a real this short cannot overflow a double */
    return (!exp && n <= 300) || jansson_takes(p, n) ? CJ_REAL : CJ_OBJECT;
}

/* A string (with its quotes) jansson takes: printable ASCII without escapes
 * for sure; anything else is asked. *escaped: it holds a backslash. */
static bool string_ok(const char *p, size_t n, bool *escaped)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 1;
    while (i + 1 < n && (unsigned char)(u[i] - 0x20) < 0x60 && u[i] != '\\')
        i++;
    *escaped = false;
    if (i + 1 >= n)
        return true;
    *escaped = memchr(p + i, '\\', n - 1 - i) != NULL;
    return jansson_takes(p, n);
}

uint32_t compare_json_name_hash(const char *p, size_t n)
{
    return (uint32_t)XXH3_64bits(p, n);
}

/* A member name and its hash, for the uniqueness check of a large object. */
struct hashed_name {
    uint32_t hash;
    uint32_t node;
};

static int by_hash(const void *x, const void *y)
{
    uint32_t a = ((const struct hashed_name *)x)->hash, b = ((const struct hashed_name *)y)->hash;
    return a < b ? -1 : a > b;
}

static bool same_name(const struct loader *L, size_t i, size_t j)
{
    const struct compare_json_node *x = &L->d->nodes[i], *y = &L->d->nodes[j];
    return x->end - x->start == y->end - y->start &&
           memcmp(L->text + x->start, L->text + y->start, x->end - x->start) == 0;
}

/* No two members of object node <obj> have the same name: pairwise for a
 * small object, by sorted hashes for a larger one. */
static bool names_unique(const struct loader *L, size_t obj)
{
    const struct compare_json_node *nodes = L->d->nodes;
    size_t n = nodes[obj].size;
    if (n <= 16) {
        for (size_t i = obj + 1; i < nodes[obj].next; i = nodes[i + 1].next) {
            for (size_t j = nodes[i + 1].next; j < nodes[obj].next; j = nodes[j + 1].next) {
                if (same_name(L, i, j))
                    return false;
            }
        }
        return true;
    }
    struct hashed_name *names = xmalloc(n * sizeof(*names));
    size_t k = 0;
    for (size_t i = obj + 1; i < nodes[obj].next; i = nodes[i + 1].next) {
        uint32_t h = compare_json_name_hash(L->text + nodes[i].start, nodes[i].end - nodes[i].start);
        names[k++] = (struct hashed_name){.hash = h, .node = (uint32_t)i};
    }
    qsort(names, n, sizeof(*names), by_hash);
    bool unique = true;
    for (size_t i = 0; i < n && unique; i++) {
        for (size_t j = i + 1; j < n && names[j].hash == names[i].hash && unique; j++)
            unique = !same_name(L, names[i].node, names[j].node);
    }
    free(names);
    return unique;
}

static struct compare_json_node *add(struct loader *L, enum compare_json_type type, size_t start, size_t end)
{
    struct compare_json_node *node = &L->d->nodes[L->d->n++];
    *node = (struct compare_json_node){.type = (uint8_t)type, .start = (uint32_t)start, .end = (uint32_t)end};
    return node;
}

static bool take_value(struct loader *L, size_t depth);

/* A string token at L->i, as a member name when <name>. */
static bool take_string(struct loader *L, bool name)
{
    const jsmntok_t *t = &L->tok[L->i++];
    size_t start = (size_t)t->start - 1, end = (size_t)t->end + 1;
    if (t->type != JSMN_STRING || t->size != (name ? 1 : 0))
        return false;
    bool escaped;
    if (!string_ok(L->text + start, end - start, &escaped) || (name && escaped))
        return false;
    struct compare_json_node *node = add(L, CJ_STRING, start, end);
    node->escaped = escaped;
    node->name = name;
    node->next = (uint32_t)L->d->n;
    return true;
}

/* An object's or an array's children, each after the separator its place wants. */
static bool take_children(struct loader *L, const jsmntok_t *t, bool object, size_t depth)
{
    size_t pos = (size_t)t->start + 1;
    for (int c = 0; c < t->size; c++) {
        if (L->i >= L->ntok)
            return false;
        const jsmntok_t *first = &L->tok[L->i];
        size_t at = (size_t)first->start - (first->type == JSMN_STRING ? 1 : 0);
        if (!gap(L, pos, at, c ? ',' : 0))
            return false;
        if (object) {
            if (!take_string(L, true) || L->i >= L->ntok)
                return false;
            const jsmntok_t *v = &L->tok[L->i];
            size_t vat = (size_t)v->start - (v->type == JSMN_STRING ? 1 : 0);
            if (!gap(L, (size_t)first->end + 1, vat, ':'))
                return false;
        }
        size_t value = L->d->n;
        if (!take_value(L, depth + 1))
            return false;
        pos = L->d->nodes[value].end;
    }
    return gap(L, pos, (size_t)t->end - 1, 0);
}

static bool take_value(struct loader *L, size_t depth)
{
    if (L->i >= L->ntok)
        return false;
    const jsmntok_t *t = &L->tok[L->i];
    if (t->type == JSMN_STRING)
        return take_string(L, false);
    size_t k = L->d->n;
    if (t->type == JSMN_PRIMITIVE) {
        enum compare_json_type type = primitive(L->text + t->start, (size_t)(t->end - t->start));
        if (type == CJ_OBJECT)
            return false;
        add(L, type, (size_t)t->start, (size_t)t->end);
        L->i++;
    } else {
        /* The tree walk compares a subtree this deep whole: leave it to it. */
        if (depth >= COMPARE_JSON_MAX_DEPTH || (t->type != JSMN_OBJECT && t->type != JSMN_ARRAY))
            return false;
        bool object = t->type == JSMN_OBJECT;
        add(L, object ? CJ_OBJECT : CJ_ARRAY, (size_t)t->start, (size_t)t->end)->size = (uint32_t)t->size;
        L->i++;
        if (!take_children(L, t, object, depth))
            return false;
    }
    L->d->nodes[k].next = (uint32_t)L->d->n;
    return L->d->nodes[k].type != CJ_OBJECT || names_unique(L, k);
}

bool compare_json_doc_load(struct compare_json_doc *d, const char *text, size_t len)
{
    d->text = text;
    d->len = len;
    d->nodes = d->inline_nodes;
    d->n = 0;
    if (len == 0 || len >= INT_MAX)
        return false;
    jsmntok_t stack[STACK_TOKENS], *tok = stack;
    jsmn_parser p;
    jsmn_init(&p);
    int n = jsmn_parse(&p, text, len, tok, STACK_TOKENS);
    if (n == JSMN_ERROR_NOMEM) {
        jsmn_init(&p);
        n = jsmn_parse(&p, text, len, NULL, 0);
        if (n <= 0)
            return false;
        tok = xmalloc((size_t)n * sizeof(*tok));
        jsmn_init(&p);
        n = jsmn_parse(&p, text, len, tok, (unsigned)n);
    }
    /* jsmn stops early at a NUL byte: all the bytes must have been read */
    bool ok = n > 0 && p.pos == len;
    if (ok && (size_t)n > COMPARE_JSON_DOC_INLINE)
        d->nodes = xmalloc((size_t)n * sizeof(*d->nodes));
    if (ok) {
        struct loader L = {.text = text, .len = len, .tok = tok, .ntok = (size_t)n, .d = d};
        size_t at = (size_t)tok[0].start - (tok[0].type == JSMN_STRING ? 1 : 0);
        ok = gap(&L, 0, at, 0) && take_value(&L, 0) && L.i == L.ntok && gap(&L, d->nodes[0].end, len, 0);
    }
    if (tok != stack)
        free(tok);
    return ok;
}

/* A byte a derived document may change in a string: printable ASCII, no
 * quote, no backslash. */
static bool plain(char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* The first byte from <p> on where the <len> bytes of <a> and <b> differ; len when none. */
static size_t next_difference(const char *a, const char *b, size_t p, size_t len)
{
    while (p + 8 <= len) {
        uint64_t x, y;
        memcpy(&x, a + p, 8);
        memcpy(&y, b + p, 8);
        if (x != y)
            break;
        p += 8;
    }
    while (p < len && a[p] == b[p])
        p++;
    return p;
}

/* Whether the byte at <p>, where <text> differs from <like>'s, lies where
 * the derived document keeps <like>'s nodes; moves *k to the leaf holding it
 * and, for a number or literal, takes its new kind and moves *p past it. */
static bool derivable(struct compare_json_doc *d, const struct compare_json_doc *like, const char *text,
                      size_t *k, size_t *p)
{
    while (*k < d->n && (d->nodes[*k].type <= CJ_ARRAY || d->nodes[*k].end <= *p))
        (*k)++;
    if (*k == d->n)
        return false;
    struct compare_json_node *node = &d->nodes[*k];
    if (node->start > *p || node->name)
        return false; /* a separator, a bracket, white space or a member name */
    if (node->type == CJ_STRING) {
        if (node->escaped || *p == node->start || *p + 1 == node->end || !plain(like->text[*p]) ||
            !plain(text[*p]))
            return false;
        (*p)++;
        return true;
    }
    /* A number or literal: whatever changed in it, its bytes must be one. */
    enum compare_json_type type = primitive(text + node->start, node->end - node->start);
    if (type == CJ_OBJECT)
        return false;
    node->type = (uint8_t)type;
    *p = node->end;
    return true;
}

void compare_json_doc_copy(struct compare_json_doc *d, const struct compare_json_doc *src, const char *text)
{
    d->text = text;
    d->len = src->len;
    d->nodes = src->n > COMPARE_JSON_DOC_INLINE ? xmalloc(src->n * sizeof(*d->nodes)) : d->inline_nodes;
    memcpy(d->nodes, src->nodes, src->n * sizeof(*d->nodes));
    d->n = src->n;
}

bool compare_json_doc_derive(struct compare_json_doc *d, const struct compare_json_doc *like,
                             const char *text, size_t len)
{
    d->text = text;
    d->len = len;
    d->nodes = d->inline_nodes;
    d->n = 0;
    if (len != like->len || like->n == 0)
        return false;
    compare_json_doc_copy(d, like, text);
    size_t k = 0; /* the leaves are in the order of their bytes and do not overlap */
    for (size_t p = next_difference(like->text, text, 0, len); p < len;
         p = next_difference(like->text, text, p, len)) {
        if (!derivable(d, like, text, &k, &p)) {
            compare_json_doc_free(d);
            return false;
        }
    }
    return true;
}

void compare_json_doc_free(struct compare_json_doc *d)
{
    if (d->nodes != d->inline_nodes)
        free(d->nodes);
    d->nodes = d->inline_nodes;
    d->n = 0;
}
