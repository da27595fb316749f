/* libFuzzer target: the JSON diff on tokens (compare_json_diff_tokens),
 * held to the diff on jansson's trees (compare_json_diff_tree).
 *
 * Input layout: <primary body> 0x00 <shadow body> (no NUL: the same body
 * on both sides). Rules: ignore $.ignored and $..skip[*], redact $..secret;
 * a difference whose generalized path holds "noise" is noise.
 *
 * Checked with abort():
 * - when the token walk takes both bodies, both parse with jansson, and
 *   the results are the same: counts, and every recorded difference's kind,
 *   paths and both printed values, in the same order;
 * - compare_json_diff gives what the tree walk gives, whichever walk ran;
 * - the same for the primary body against a copy of it in which bytes are
 *   replaced by the shadow body's letters and digits at the same offsets
 *   (a body of the same length differing in place, as the token walk
 *   derives without tokenizing); and when it is derived, its nodes are
 *   those a full load gives;
 * - with recent documents kept (compare_json_shapes), the diff of the
 *   primary body against the shadow's, then of that copy against the
 *   primary body (which may then be derived from the kept one), are what
 *   the tree walk gives;
 * - neither reads past the bodies (ASan: each is copied to its own block). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare/compare_json.h"
#include "compare/compare_json_doc.h"
#include "compare/compare_json_shapes.h"
#include "compare/compare_rules.h"
#include "config/config.h"
#include "core/xalloc.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool noise(void *ctx, const char *path)
{
    (void)ctx;
    return strstr(path, "noise") != NULL;
}

static void same(const struct compare_json_result *x, const struct compare_json_result *y)
{
    CHECK(x->primary_json == y->primary_json && x->shadow_json == y->shadow_json);
    CHECK(x->n_diffs == y->n_diffs && x->n_noise == y->n_noise && x->n_reported == y->n_reported);
    for (size_t i = 0; i < x->n_reported; i++) {
        const struct compare_json_diff *a = &x->diffs[i], *b = &y->diffs[i];
        CHECK(a->kind == b->kind);
        CHECK(strcmp(a->path, b->path) == 0 && strcmp(a->generalized, b->generalized) == 0);
        CHECK(strcmp(a->primary, b->primary) == 0 && strcmp(a->shadow, b->shadow) == 0);
    }
}

/* <c> derived from <a> (both <len> bytes) holds the nodes a full load of <c> makes. */
static void derived_like_loaded(const uint8_t *a, const uint8_t *c, size_t len)
{
    struct compare_json_doc da, dc, full;
    if (compare_json_doc_load(&da, (const char *)a, len) &&
        compare_json_doc_derive(&dc, &da, (const char *)c, len)) {
        CHECK(compare_json_doc_load(&full, (const char *)c, len));
        CHECK(dc.n == full.n);
        for (size_t i = 0; i < dc.n; i++) {
            const struct compare_json_node *x = &dc.nodes[i], *y = &full.nodes[i];
            CHECK(x->type == y->type && x->escaped == y->escaped && x->name == y->name);
            CHECK(x->start == y->start && x->end == y->end && x->size == y->size && x->next == y->next);
        }
        compare_json_doc_free(&full);
        compare_json_doc_free(&dc);
    }
    compare_json_doc_free(&da);
}

static char **list(const char *a, const char *b)
{
    char **v = xcalloc(2, sizeof(char *));
    v[0] = xstrdup(a);
    v[1] = b ? xstrdup(b) : NULL;
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t alen = nul ? (size_t)(nul - data) : size;
    size_t blen = nul ? size - alen - 1 : size;
    uint8_t *a = xmalloc(alen ? alen : 1), *b = xmalloc(blen ? blen : 1);
    memcpy(a, data, alen);
    memcpy(b, nul ? nul + 1 : data, blen);

    struct config_compare *cfg = config_compare_new();
    cfg->body = COMPARE_BODY_JSON;
    cfg->ignore_json_paths = list("$.ignored", "$..skip[*]");
    cfg->n_ignore_json_paths = 2;
    cfg->redact_json_paths = list("$..secret", NULL);
    cfg->n_redact_json_paths = 1;
    struct compare_rules *r = compare_rules_new(cfg);

    struct compare_json_result *tok = xmalloc(sizeof(*tok)), *tree = xmalloc(sizeof(*tree)),
                               *any = xmalloc(sizeof(*any));
    compare_json_diff_tree(a, alen, b, blen, r, noise, NULL, tree);
    if (compare_json_diff_tokens(a, alen, b, blen, r, noise, NULL, NULL, tok)) {
        CHECK(tree->primary_json && tree->shadow_json);
        same(tok, tree);
    }
    compare_json_diff(a, alen, b, blen, r, noise, NULL, NULL, any);
    same(any, tree);
    struct compare_json_shapes *kept = compare_json_shapes_new();
    compare_json_diff(a, alen, b, blen, r, noise, NULL, kept, any);
    same(any, tree);

    uint8_t *c = xmalloc(alen ? alen : 1);
    memcpy(c, a, alen);
    for (size_t i = 0; i < alen && i < blen; i++) {
        if ((b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z'))
            c[i] = b[i];
    }
    derived_like_loaded(a, c, alen);
    compare_json_diff_tree(a, alen, c, alen, r, noise, NULL, tree);
    if (compare_json_diff_tokens(a, alen, c, alen, r, noise, NULL, NULL, tok))
        same(tok, tree);
    compare_json_diff_tree(c, alen, a, alen, r, noise, NULL, tree);
    compare_json_diff(c, alen, a, alen, r, noise, NULL, kept, any);
    same(any, tree);
    compare_json_shapes_free(kept);
    free(c);

    free(tok);
    free(tree);
    free(any);
    compare_rules_free(r);
    config_compare_free(cfg);
    free(a);
    free(b);
    return 0;
}
