#include "compare/compare_json_walk.h"

#include <stdlib.h>
#include <string.h>

/* Replaces, in <v> (a deep copy), every value whose path (below segs[0..depth))
 * a redact pattern selects; returns the value to print. */
static json_t *mask(const struct compare_json_walk *w, json_t *v, struct json_seg *segs, size_t depth)
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

/* Copies the <n> bytes at <text> into <dst>, cut with "..." when they do not fit. */
static void put_cut(char dst[COMPARE_JSON_VALUE_CAP], const char *text, size_t n)
{
    if (n >= COMPARE_JSON_VALUE_CAP) {
        memcpy(dst, text, COMPARE_JSON_VALUE_CAP - 4);
        memcpy(dst + COMPARE_JSON_VALUE_CAP - 4, "...", 4);
    } else {
        memcpy(dst, text, n);
        dst[n] = '\0';
    }
}

void compare_json_print_compact(const struct compare_json_walk *w, const char *text, size_t n,
                                char dst[COMPARE_JSON_VALUE_CAP])
{
    static const char masked[] = "\"" COMPARE_REDACTED "\"";
    if (compare_rules_path_in(w->r->redact_paths, w->r->n_redact_paths, w->segs, w->depth))
        put_cut(dst, masked, sizeof(masked) - 1);
    else
        put_cut(dst, text, n);
}

void compare_json_print(const struct compare_json_walk *w, const json_t *v, char dst[COMPARE_JSON_VALUE_CAP])
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
    put_cut(dst, text, strlen(text));
    free(text);
}

struct compare_json_diff *compare_json_note(struct compare_json_walk *w, enum compare_json_kind kind)
{
    char generalized[COMPARE_JSON_PATH_CAP];
    json_path_format(w->segs, w->depth, true, generalized, sizeof(generalized));
    if (w->noise && w->noise(w->ctx, generalized)) {
        w->out->n_noise++;
        return NULL;
    }
    w->out->n_diffs++;
    if (w->out->n_reported >= COMPARE_JSON_MAX_REPORTED)
        return NULL;
    struct compare_json_diff *d = &w->out->diffs[w->out->n_reported++];
    d->kind = kind;
    memcpy(d->generalized, generalized, sizeof(generalized));
    json_path_format(w->segs, w->depth, false, d->path, sizeof(d->path));
    return d;
}
