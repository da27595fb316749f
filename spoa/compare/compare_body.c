#include "compare/compare_body.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/xalloc.h"

void compare_body_init(struct compare_body *b, uint32_t max, bool keep)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
    b->keep = keep;
}

/* The streaming hash state of a body that is not kept, made at its first bytes. */
static XXH3_state_t *hash_state(struct compare_body *b)
{
    if (!b->xxh) {
        XXH3_state_t *st = XXH3_createState();
        if (!st)
            abort(); /* as xmalloc does when memory runs out */
        XXH3_64bits_reset(st);
        b->xxh = st;
    }
    return b->xxh;
}

void compare_body_feed(struct compare_body *b, const void *p, size_t n)
{
    if (b->finished || n == 0)
        return;
    uint64_t hashed = b->seen < b->max ? b->seen : b->max;
    size_t take = hashed + n > b->max ? (size_t)(b->max - hashed) : n;
    b->seen += n;
    if (take == 0)
        return;
    if (!b->keep) {
        XXH3_64bits_update(hash_state(b), p, take);
        return;
    }
    /* A kept body is hashed at once when it ends: no state to make. */
    if (b->len + take > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + take)
            cap *= 2;
        if (cap > b->max)
            cap = b->max;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, take);
    b->len += take;
}

void compare_body_finish(struct compare_body *b)
{
    if (b->finished)
        return;
    if (b->keep) {
        b->digest = XXH3_64bits(b->data, b->len);
    } else {
        b->digest = XXH3_64bits_digest(hash_state(b));
        XXH3_freeState(b->xxh);
        b->xxh = NULL;
    }
    b->finished = true;
}

bool compare_body_truncated(const struct compare_body *b)
{
    return b->seen > b->max;
}

uint64_t compare_body_digest_of(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}

void compare_body_free(struct compare_body *b)
{
    if (b->xxh)
        XXH3_freeState(b->xxh);
    free(b->data);
    memset(b, 0, sizeof(*b));
}
