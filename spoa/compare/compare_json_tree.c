/* The JSON diff on jansson's trees: both bodies parsed whole, then walked
 * value by value. The reference the token walk is checked against, and
 * what compare_json_diff falls back on for the documents the token walk
 * leaves to it. */
#include <jansson.h>
#include <string.h>

#include "compare/compare_json.h"
#include "compare/compare_json_walk.h"

static void report(struct compare_json_walk *w, enum compare_json_kind kind, const json_t *a, const json_t *b)
{
    struct compare_json_diff *d = compare_json_note(w, kind);
    if (!d)
        return;
    compare_json_print(w, a, d->primary);
    compare_json_print(w, b, d->shadow);
}

static bool ignored(const struct compare_json_walk *w)
{
    return compare_rules_path_in(w->r->ignore_paths, w->r->n_ignore_paths, w->segs, w->depth);
}

static void diff_value(struct compare_json_walk *w, json_t *a, json_t *b);

static void diff_child(struct compare_json_walk *w, struct json_seg seg, json_t *a, json_t *b)
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

static void diff_value(struct compare_json_walk *w, json_t *a, json_t *b)
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

void compare_json_diff_tree(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                            const struct compare_rules *r, compare_noise_fn noise, void *ctx,
                            struct compare_json_result *out)
{
    compare_json_result_reset(out);
    json_error_t err;
    json_t *ja = json_loadb((const char *)a, alen, JSON_DECODE_ANY, &err);
    json_t *jb = json_loadb((const char *)b, blen, JSON_DECODE_ANY, &err);
    out->primary_json = ja != NULL;
    out->shadow_json = jb != NULL;
    if (ja && jb) {
        struct compare_json_walk w = {.r = r, .noise = noise, .ctx = ctx, .out = out};
        if (!ignored(&w))
            diff_value(&w, ja, jb);
    }
    json_decref(ja);
    json_decref(jb);
}
