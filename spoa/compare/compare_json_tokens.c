/* The JSON diff on token lists (compare_json_doc.h): the same walk as the
 * tree walk on jansson's values, member by name in the primary's order then
 * the shadow's extra ones, element by index, and the same results; but no
 * value is built unless a difference is recorded, names are compared as
 * bytes, members in the same order are paired in one pass (others by
 * hashed name), and the ignore patterns are matched one level at a time. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "compare/compare_json.h"
#include "compare/compare_json_doc.h"
#include "compare/compare_json_shapes.h"
#include "compare/compare_json_walk.h"
#include "core/xalloc.h"

/* Patterns whose states live on the stack; more take heap memory. */
#define STACK_PATTERNS 8

struct member {
    uint32_t name, value; /* node indexes */
    uint32_t hash;        /* of the name, when paired by lookup */
};

struct walk {
    struct compare_json_walk w;
    const struct compare_json_doc *a, *b;
    size_t n_pats;
    json_path_state *states; /* [depth][pattern] */
    struct member *members;  /* a stack of the objects being paired */
    size_t n_members, cap_members;
};

static const struct compare_json_node *node(const struct compare_json_doc *d, uint32_t i)
{
    return &d->nodes[i];
}

static bool same_bytes(const struct compare_json_doc *a, uint32_t ia, const struct compare_json_doc *b,
                       uint32_t ib)
{
    const struct compare_json_node *x = node(a, ia), *y = node(b, ib);
    return x->end - x->start == y->end - y->start &&
           memcmp(a->text + x->start, b->text + y->start, x->end - x->start) == 0;
}

static json_t *value_of(const struct compare_json_doc *d, uint32_t i)
{
    json_error_t err;
    const struct compare_json_node *n = node(d, i);
    return json_loadb(d->text + n->start, n->end - n->start, JSON_DECODE_ANY, &err);
}

/* Two scalars of the same type, equal as jansson's json_equal would say. */
static bool scalars_equal(const struct walk *W, uint32_t ia, uint32_t ib)
{
    const struct compare_json_node *x = node(W->a, ia), *y = node(W->b, ib);
    if (x->type != CJ_STRING && x->type != CJ_INTEGER && x->type != CJ_REAL)
        return true; /* true, false, null */
    if (same_bytes(W->a, ia, W->b, ib))
        return true;
    if (x->type == CJ_STRING && !x->escaped && !y->escaped)
        return false; /* unescaped bytes are the value */
    /* Escapes, or numbers written differently (1.0 and 1.00, -0 and 0). */
    json_t *va = value_of(W->a, ia), *vb = value_of(W->b, ib);
    bool eq = va && vb && json_equal(va, vb);
    json_decref(va);
    json_decref(vb);
    return eq;
}

/* Prints node <i> of <d> (-1: none), found at the current path, as the
 * tree walk would: scalars whose bytes are their compact JSON as they are,
 * the rest through a value built by jansson. */
static void print_node(const struct walk *W, const struct compare_json_doc *d, int64_t i,
                       char dst[COMPARE_JSON_VALUE_CAP])
{
    dst[0] = '\0';
    if (i < 0)
        return;
    const struct compare_json_node *n = node(d, (uint32_t)i);
    const char *text = d->text + n->start;
    size_t len = n->end - n->start;
    if ((n->type == CJ_STRING && !n->escaped) || n->type == CJ_TRUE || n->type == CJ_FALSE ||
        n->type == CJ_NULL || (n->type == CJ_INTEGER && !(len == 2 && memcmp(text, "-0", 2) == 0))) {
        compare_json_print_compact(&W->w, text, len, dst);
        return;
    }
    json_t *v = value_of(d, (uint32_t)i);
    compare_json_print(&W->w, v, dst);
    json_decref(v);
}

static void report(struct walk *W, enum compare_json_kind kind, int64_t ia, int64_t ib)
{
    struct compare_json_diff *d = compare_json_note(&W->w, kind);
    if (!d)
        return;
    print_node(W, W->a, ia, d->primary);
    print_node(W, W->b, ib, d->shadow);
}

/* The pattern states at <depth>, stepped from the level above by segs[depth - 1];
 * true when a pattern selects the path. */
static bool step_ignored(struct walk *W, size_t depth)
{
    const json_path_state *up = W->states + (depth - 1) * W->n_pats;
    json_path_state *here = W->states + depth * W->n_pats;
    bool hit = false;
    for (size_t k = 0; k < W->n_pats; k++) {
        const struct json_path *pat = &W->w.r->ignore_paths[k];
        here[k] = up[k] ? json_path_step(pat, up[k], &W->w.segs[depth - 1]) : 0;
        hit = hit || json_path_accepts(pat, here[k]);
    }
    return hit;
}

static void diff_value(struct walk *W, uint32_t ia, uint32_t ib);

static void diff_child(struct walk *W, struct json_seg seg, int64_t ia, int64_t ib)
{
    W->w.segs[W->w.depth++] = seg;
    if (!step_ignored(W, W->w.depth)) {
        if (ib < 0)
            report(W, COMPARE_JSON_MISSING, ia, -1);
        else if (ia < 0)
            report(W, COMPARE_JSON_EXTRA, -1, ib);
        else
            diff_value(W, (uint32_t)ia, (uint32_t)ib);
    }
    W->w.depth--;
}

/* Pushes the members of object <obj> of <d>; returns where they start. */
static size_t push_members(struct walk *W, const struct compare_json_doc *d, uint32_t obj)
{
    size_t base = W->n_members, n = node(d, obj)->size;
    if (W->n_members + n > W->cap_members) {
        W->cap_members = (W->n_members + n) * 2;
        W->members = xrealloc(W->members, W->cap_members * sizeof(*W->members));
    }
    uint32_t i = obj + 1;
    for (size_t m = 0; m < n; m++) {
        W->members[W->n_members++] = (struct member){.name = i, .value = i + 1};
        i = node(d, i + 1)->next;
    }
    return base;
}

static int by_hash(const void *x, const void *y)
{
    uint32_t a = ((const struct member *)x)->hash, b = ((const struct member *)y)->hash;
    return a < b ? -1 : a > b;
}

/* The members of one object, ready to be looked up by name. */
struct lookup {
    const struct compare_json_doc *d;
    struct member *m; /* n members; sorted by hash when <sorted> */
    size_t n;
    bool sorted;
};

/* A lookup of the <n> members at <m> of <d>: scanned when few, otherwise
 * a sorted copy (release with lookup_done). */
static struct lookup lookup_of(const struct compare_json_doc *d, const struct member *m, size_t n)
{
    struct lookup l = {.d = d, .m = (struct member *)m, .n = n, .sorted = n > 16};
    if (l.sorted) {
        l.m = xmalloc(n * sizeof(*l.m));
        memcpy(l.m, m, n * sizeof(*l.m));
        qsort(l.m, n, sizeof(*l.m), by_hash);
    }
    return l;
}

static void lookup_done(struct lookup *l)
{
    if (l->sorted)
        free(l->m);
}

/* The value node of the member of <l> named like <name> of <e>; -1: none
 * (names are unique in an object: the loader saw to it). */
static int64_t lookup_value(const struct lookup *l, const struct compare_json_doc *e,
                            const struct member *name)
{
    size_t k = 0, hi = l->n;
    if (l->sorted) {
        while (k < hi) { /* the first member whose hash is not below */
            size_t mid = k + (hi - k) / 2;
            if (l->m[mid].hash < name->hash)
                k = mid + 1;
            else
                hi = mid;
        }
    }
    for (; k < l->n; k++) {
        if (l->sorted && l->m[k].hash != name->hash)
            break;
        if (l->m[k].hash == name->hash && same_bytes(l->d, l->m[k].name, e, name->name))
            return l->m[k].value;
    }
    return -1;
}

static struct json_seg name_seg(const struct compare_json_doc *d, uint32_t name)
{
    const struct compare_json_node *n = node(d, name);
    return (struct json_seg){
        .kind = JSEG_KEY, .key = d->text + n->start + 1, .key_len = n->end - n->start - 2};
}

/* Members by name: the primary's in its order, then the shadow's extra
 * ones in theirs. Both lists are copied out of the member stack, which
 * the children's own objects grow. */
static void pair_members(struct walk *W, size_t pa, size_t na, size_t pb, size_t nb)
{
    struct member *ma = xmalloc((na + nb + 1) * sizeof(*ma)), *mb = ma + na;
    memcpy(ma, &W->members[pa], na * sizeof(*ma));
    memcpy(mb, &W->members[pb], nb * sizeof(*mb));
    for (size_t k = 0; k < na + nb; k++) {
        const struct compare_json_doc *d = k < na ? W->a : W->b;
        const struct compare_json_node *n = node(d, ma[k].name);
        ma[k].hash = compare_json_name_hash(d->text + n->start, n->end - n->start);
    }
    struct lookup la = lookup_of(W->a, ma, na), lb = lookup_of(W->b, mb, nb);
    for (size_t k = 0; k < na; k++)
        diff_child(W, name_seg(W->a, ma[k].name), ma[k].value, lookup_value(&lb, W->a, &ma[k]));
    for (size_t k = 0; k < nb; k++) {
        if (lookup_value(&la, W->b, &mb[k]) < 0)
            diff_child(W, name_seg(W->b, mb[k].name), -1, mb[k].value);
    }
    lookup_done(&la);
    lookup_done(&lb);
    free(ma);
}

static void diff_object(struct walk *W, uint32_t ia, uint32_t ib)
{
    size_t na = node(W->a, ia)->size, nb = node(W->b, ib)->size;
    size_t pa = push_members(W, W->a, ia), pb = push_members(W, W->b, ib);
    bool lockstep = na == nb;
    for (size_t k = 0; lockstep && k < na; k++) {
        const struct member *x = &W->members[pa + k], *y = &W->members[pb + k];
        lockstep = same_bytes(W->a, x->name, W->b, y->name);
    }
    if (lockstep) {
        for (size_t k = 0; k < na; k++) {
            /* indexes, not pointers: the children's objects may move the stack */
            struct member x = W->members[pa + k];
            diff_child(W, name_seg(W->a, x.name), x.value, W->members[pb + k].value);
        }
    } else {
        pair_members(W, pa, na, pb, nb);
    }
    W->n_members = pa;
}

static void diff_value(struct walk *W, uint32_t ia, uint32_t ib)
{
    const struct compare_json_node *x = node(W->a, ia), *y = node(W->b, ib);
    if (same_bytes(W->a, ia, W->b, ib))
        return; /* the same bytes are the same value (both documents are valid) */
    if (x->type != y->type) {
        report(W, COMPARE_JSON_CHANGED, ia, ib);
    } else if (x->type == CJ_OBJECT) {
        diff_object(W, ia, ib);
    } else if (x->type == CJ_ARRAY) {
        uint32_t ca = ia + 1, cb = ib + 1;
        for (uint32_t i = 0; i < x->size || i < y->size; i++) {
            struct json_seg seg = {.kind = JSEG_INDEX, .index = i};
            diff_child(W, seg, i < x->size ? (int64_t)ca : -1, i < y->size ? (int64_t)cb : -1);
            if (i < x->size)
                ca = node(W->a, ca)->next;
            if (i < y->size)
                cb = node(W->b, cb)->next;
        }
    } else if (!scalars_equal(W, ia, ib)) {
        report(W, COMPARE_JSON_CHANGED, ia, ib);
    }
}

bool compare_json_diff_tokens(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                              const struct compare_rules *r, compare_noise_fn noise, void *ctx,
                              struct compare_json_shapes *shapes, struct compare_json_result *out)
{
    compare_json_result_reset(out);
    struct compare_json_doc da, db;
    if (!compare_json_shapes_load(shapes, &da, (const char *)a, alen)) {
        compare_json_doc_free(&da);
        return false;
    }
    /* A shadow body of the primary's length often differs from it only in
     * a few values (times, ids): its nodes are then the primary's. */
    bool sure = compare_json_doc_derive(&db, &da, (const char *)b, blen) ||
                compare_json_doc_load(&db, (const char *)b, blen);
    if (sure) {
        json_path_state stack[(COMPARE_JSON_MAX_DEPTH + 1) * STACK_PATTERNS];
        struct walk W = {.w = {.r = r, .noise = noise, .ctx = ctx, .out = out}, .a = &da, .b = &db};
        W.n_pats = r->n_ignore_paths;
        W.states = W.n_pats <= STACK_PATTERNS
                       ? stack
                       : xmalloc((COMPARE_JSON_MAX_DEPTH + 1) * W.n_pats * sizeof(*W.states));
        bool root_ignored = false;
        for (size_t k = 0; k < W.n_pats; k++) {
            W.states[k] = json_path_start(&r->ignore_paths[k]);
            root_ignored = root_ignored || json_path_accepts(&r->ignore_paths[k], W.states[k]);
        }
        out->primary_json = out->shadow_json = true;
        if (!root_ignored)
            diff_value(&W, 0, 0);
        if (W.states != stack)
            free(W.states);
        free(W.members);
    }
    compare_json_doc_free(&da);
    compare_json_doc_free(&db);
    return sure;
}
