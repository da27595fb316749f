#include "compare/compare_json_shapes.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

struct compare_json_shapes *compare_json_shapes_new(void)
{
    return xcalloc(1, sizeof(struct compare_json_shapes));
}

static void forget(struct compare_json_shape *k)
{
    if (!k->text)
        return;
    compare_json_doc_free(&k->doc);
    free(k->text);
    k->text = NULL;
}

void compare_json_shapes_free(struct compare_json_shapes *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < COMPARE_JSON_SHAPES; i++)
        forget(&s->slot[i]);
    free(s);
}

/* Keeps a copy of the loaded document *d in slot <k>. */
static void keep(struct compare_json_shape *k, const struct compare_json_doc *d)
{
    forget(k);
    k->text = xmalloc(d->len);
    memcpy(k->text, d->text, d->len);
    compare_json_doc_copy(&k->doc, d, k->text);
}

bool compare_json_shapes_load(struct compare_json_shapes *s, struct compare_json_doc *d, const char *text,
                              size_t len)
{
    if (!s)
        return compare_json_doc_load(d, text, len);
    struct compare_json_shape *same_len = NULL;
    for (size_t i = 0; i < COMPARE_JSON_SHAPES; i++) {
        struct compare_json_shape *k = &s->slot[i];
        if (!k->text || k->doc.len != len)
            continue;
        if (compare_json_doc_derive(d, &k->doc, text, len)) {
            s->derived++;
            return true;
        }
        same_len = k;
    }
    s->loaded++;
    if (!compare_json_doc_load(d, text, len))
        return false;
    if (len <= COMPARE_JSON_SHAPE_MAX_BYTES) {
        /* A new shape of a length already kept replaces that one. */
        struct compare_json_shape *k = same_len;
        if (!k) {
            k = &s->slot[s->next_victim];
            s->next_victim = (s->next_victim + 1) % COMPARE_JSON_SHAPES;
        }
        keep(k, d);
    }
    return true;
}
