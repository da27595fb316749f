#include "compare/compare_json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const char *compare_json_kind_str(enum compare_json_kind k)
{
    switch (k) {
    case COMPARE_JSON_CHANGED:
        return "changed";
    case COMPARE_JSON_MISSING:
        return "missing";
    case COMPARE_JSON_EXTRA:
        return "extra";
    }
    return "changed";
}

/* The walk's state: the concrete path of the value being compared. */
struct walk {
    const struct compare_rules *r;
    compare_noise_fn noise;
    void *ctx;
    struct compare_json_result *out;
    struct json_seg segs[COMPARE_JSON_MAX_DEPTH];
    size_t depth;
};

/* Replaces, in <v> (a deep copy), every value whose path (below segs[0..depth))
 * a redact pattern selects; returns the value to print. */
static json_t *mask(const struct walk *w, json_t *v, struct json_seg *segs, size_t depth)
{
    if (compare_rules_path_in(w->r->redact_paths, w->r->n_redact_paths, segs, depth)) {
        json_decref(v);
        return json_string(COMPARE_REDACTED);
    }
    if (depth >= COMPARE_JSON_MAX_DEPTH)
        return v;
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, child)
        {
            segs[depth] = (struct json_seg){.kind = JSEG_KEY, .key = k, .key_len = strlen(k)};
            json_incref(child);
            json_object_set_new(v, k, mask(w, child, segs, depth + 1));
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            segs[depth] = (struct json_seg){.kind = JSEG_INDEX, .index = (uint32_t)i};
            json_t *child = json_array_get(v, i);
            json_incref(child);
            json_array_set_new(v, i, mask(w, child, segs, depth + 1));
        }
    }
    return v;
}

/* Writes <v> (NULL: nothing) as compact JSON into <dst>, masked and cut. */
static void print_value(const struct walk *w, const json_t *v, char dst[COMPARE_JSON_VALUE_CAP])
{
    dst[0] = '\0';
    if (!v)
        return;
    json_t *copy = json_deep_copy(v);
    if (!copy)
        return;
    struct json_seg segs[COMPARE_JSON_MAX_DEPTH];
    memcpy(segs, w->segs, w->depth * sizeof(segs[0]));
    copy = mask(w, copy, segs, w->depth);
    char *text = json_dumps(copy, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(copy);
    if (!text)
        return;
    size_t n = strlen(text);
    if (n >= COMPARE_JSON_VALUE_CAP) {
        memcpy(dst, text, COMPARE_JSON_VALUE_CAP - 4);
        memcpy(dst + COMPARE_JSON_VALUE_CAP - 4, "...", 4);
    } else {
        memcpy(dst, text, n + 1);
    }
    free(text);
}

static void report(struct walk *w, enum compare_json_kind kind, const json_t *a, const json_t *b)
{
    char generalized[COMPARE_JSON_PATH_CAP];
    json_path_format(w->segs, w->depth, true, generalized, sizeof(generalized));
    if (w->noise && w->noise(w->ctx, generalized)) {
        w->out->n_noise++;
        return;
    }
    w->out->n_diffs++;
    if (w->out->n_reported >= COMPARE_JSON_MAX_REPORTED)
        return;
    struct compare_json_diff *d = &w->out->diffs[w->out->n_reported++];
    d->kind = kind;
    memcpy(d->generalized, generalized, sizeof(generalized));
    json_path_format(w->segs, w->depth, false, d->path, sizeof(d->path));
    print_value(w, a, d->primary);
    print_value(w, b, d->shadow);
}

static bool ignored(const struct walk *w)
{
    return compare_rules_path_in(w->r->ignore_paths, w->r->n_ignore_paths, w->segs, w->depth);
}

static void diff_value(struct walk *w, json_t *a, json_t *b);

static void diff_child(struct walk *w, struct json_seg seg, json_t *a, json_t *b)
{
    w->segs[w->depth++] = seg;
    if (!ignored(w)) {
        if (!b)
            report(w, COMPARE_JSON_MISSING, a, NULL);
        else if (!a)
            report(w, COMPARE_JSON_EXTRA, NULL, b);
        else
            diff_value(w, a, b);
    }
    w->depth--;
}

static void diff_value(struct walk *w, json_t *a, json_t *b)
{
    if (w->depth >= COMPARE_JSON_MAX_DEPTH || json_typeof(a) != json_typeof(b) ||
        !(json_is_object(a) || json_is_array(a))) {
        if (!json_equal(a, b))
            report(w, COMPARE_JSON_CHANGED, a, b);
        return;
    }
    if (json_is_object(a)) {
        const char *k;
        json_t *va;
        json_object_foreach(a, k, va)
        {
            struct json_seg seg = {.kind = JSEG_KEY, .key = k, .key_len = strlen(k)};
            diff_child(w, seg, va, json_object_get(b, k));
        }
        json_t *vb;
        json_object_foreach(b, k, vb)
        {
            if (!json_object_get(a, k))
                diff_child(w, (struct json_seg){.kind = JSEG_KEY, .key = k, .key_len = strlen(k)}, NULL, vb);
        }
        return;
    }
    size_t na = json_array_size(a), nb = json_array_size(b);
    for (size_t i = 0; i < na || i < nb; i++) {
        struct json_seg seg = {.kind = JSEG_INDEX, .index = (uint32_t)i};
        diff_child(w, seg, json_array_get(a, i), json_array_get(b, i));
    }
}

void compare_json_diff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                       const struct compare_rules *r, compare_noise_fn noise, void *ctx,
                       struct compare_json_result *out)
{
    memset(out, 0, sizeof(*out));
    json_error_t err;
    json_t *ja = json_loadb((const char *)a, alen, JSON_DECODE_ANY, &err);
    json_t *jb = json_loadb((const char *)b, blen, JSON_DECODE_ANY, &err);
    out->primary_json = ja != NULL;
    out->shadow_json = jb != NULL;
    if (ja && jb) {
        struct walk w = {.r = r, .noise = noise, .ctx = ctx, .out = out};
        if (!ignored(&w))
            diff_value(&w, ja, jb);
    }
    json_decref(ja);
    json_decref(jb);
}
