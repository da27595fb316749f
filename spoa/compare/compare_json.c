#include "compare/compare_json.h"

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

void compare_json_result_reset(struct compare_json_result *out)
{
    out->primary_json = out->shadow_json = false;
    out->n_diffs = out->n_noise = out->n_reported = 0;
}

void compare_json_diff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                       const struct compare_rules *r, compare_noise_fn noise, void *ctx,
                       struct compare_json_shapes *shapes, struct compare_json_result *out)
{
    if (!compare_json_diff_tokens(a, alen, b, blen, r, noise, ctx, shapes, out))
        compare_json_diff_tree(a, alen, b, blen, r, noise, ctx, out);
}
