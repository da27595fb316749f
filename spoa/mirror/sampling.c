/* Sampling: whether a mirror gets a copy, from a random draw or from a hash
 * of a request key, and the generator behind the random draws. */
#include "mirror/route_policy.h"

#include <string.h>

#define FNV64_OFFSET 14695981039346656037ull
#define FNV64_PRIME  1099511628211ull

uint64_t sample_hash(const uint8_t *key, size_t len)
{
    uint64_t h = FNV64_OFFSET;
    for (size_t i = 0; i < len; i++) {
        h ^= key[i];
        h *= FNV64_PRIME;
    }
    return h;
}

bool sample_pick(uint64_t draw, uint32_t percent_millionths)
{
    /* 2^64 is not a multiple of 10^6: the residues below 2^64 mod 10^6 =
     * 551616 have one preimage more than the others, out of about 1.8e13: a
     * relative bias below 1e-13, far below anything a rate could show. */
    return (draw % SAMPLE_SCALE) < percent_millionths;
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Narrows <b> to drop spaces and tabs at both ends. */
static struct spop_bytes trim_ows(struct spop_bytes b)
{
    while (b.len > 0 && is_ows(b.ptr[0])) {
        b.ptr++;
        b.len--;
    }
    while (b.len > 0 && is_ows(b.ptr[b.len - 1]))
        b.len--;
    return b;
}

bool cookie_value(struct spop_bytes header, const char *name, struct spop_bytes *value)
{
    size_t name_len = strlen(name);
    size_t off = 0;
    while (off < header.len) {
        const uint8_t *seg_start = header.ptr + off;
        const uint8_t *semi = memchr(seg_start, ';', header.len - off);
        size_t seg_len = semi != NULL ? (size_t)(semi - seg_start) : header.len - off;
        off += seg_len + 1;
        struct spop_bytes seg = trim_ows((struct spop_bytes){.ptr = seg_start, .len = seg_len});
        const uint8_t *eq = seg.len > 0 ? memchr(seg.ptr, '=', seg.len) : NULL;
        if (eq == NULL)
            continue;
        size_t eq_at = (size_t)(eq - seg.ptr);
        struct spop_bytes n = trim_ows((struct spop_bytes){.ptr = seg.ptr, .len = eq_at});
        if (n.len != name_len || memcmp(n.ptr, name, name_len) != 0)
            continue;
        struct spop_bytes v = trim_ows((struct spop_bytes){.ptr = eq + 1, .len = seg.len - eq_at - 1});
        if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"') {
            v.ptr++;
            v.len -= 2;
        }
        *value = v;
        return true;
    }
    return false;
}

bool sample_key(const struct config_mirror *m, const struct mirror_args *a, struct spop_bytes *key)
{
    if (m->sample_by == SAMPLE_RANDOM || m->sample_key == NULL || m->sample_key[0] == '\0')
        return false;
    const char *want = m->sample_by == SAMPLE_HEADER ? m->sample_key : "cookie";
    size_t off = 0;
    while (off < a->hdrs.len) {
        struct spop_bytes name, value;
        int n = hdrs_bin_next(a->hdrs.ptr + off, a->hdrs.len - off, &name, &value);
        if (n <= 0)
            return false;
        off += (size_t)n;
        if (!spop_bytes_ieq_str(name, want))
            continue;
        if (m->sample_by == SAMPLE_HEADER) {
            /* The first occurrence decides; an empty value is no key. */
            *key = trim_ows(value);
            return key->len > 0;
        }
        struct spop_bytes v;
        if (cookie_value(value, m->sample_key, &v)) {
            *key = v;
            return v.len > 0;
        }
    }
    return false;
}

bool mirror_sampled(const struct config_mirror *m, const struct mirror_args *a, uint64_t random_draw,
                    bool *used_key)
{
    struct spop_bytes key;
    bool keyed = sample_key(m, a, &key);
    if (used_key != NULL)
        *used_key = keyed;
    uint64_t draw = keyed ? sample_hash(key.ptr, key.len) : random_draw;
    return sample_pick(draw, m->percent_millionths);
}

void rng_seed(struct rng *r, uint64_t seed)
{
    r->state = seed;
}

/* splitmix64: a Weyl sequence (golden-ratio increment) through a 64-bit
 * finalizer; every seed gives a full-period sequence of distinct outputs. */
uint64_t rng_next(struct rng *r)
{
    r->state += 0x9e3779b97f4a7c15ull;
    uint64_t z = r->state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
