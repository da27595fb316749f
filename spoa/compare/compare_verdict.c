#include "compare/compare_verdict.h"

#include <stdio.h>
#include <string.h>

const char *compare_result_str(enum compare_result r)
{
    static const char *const names[] = {
#define COMPARE_RESULT_NAME(name, text) text,
        COMPARE_RESULTS(COMPARE_RESULT_NAME)
#undef COMPARE_RESULT_NAME
    };
    return (unsigned)r < COMPARE_RESULT_COUNT ? names[r] : "unknown";
}

/* The values of header <name> on <s>, joined with ", " into <dst> (cut with "..."). */
static bool header_values(const struct compare_side *s, const char *name, char *dst, size_t cap)
{
    size_t o = 0;
    bool found = false;
    dst[0] = '\0';
    for (size_t i = 0; i < s->n_headers; i++) {
        if (strcmp(s->headers[i].name, name) != 0)
            continue;
        int n = snprintf(dst + o, cap - o, "%s%s", found ? ", " : "", s->headers[i].value);
        found = true;
        if (n < 0 || (size_t)n >= cap - o) {
            if (cap >= 4)
                memcpy(dst + cap - 4, "...", 4);
            return true;
        }
        o += (size_t)n;
    }
    return found;
}

/* Copies <src> into <dst> (size <cap> >= 4), cut with "..." when it does not fit. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n < cap) {
        memcpy(dst, src, n + 1);
        return;
    }
    memcpy(dst, src, cap - 4);
    memcpy(dst + cap - 4, "...", 4);
}

/* Compares header <name> (lowercase) once. */
static void compare_header(const struct compare_rules *r, const struct compare_side *p,
                           const struct compare_side *s, const char *name, compare_header_noise_fn noise,
                           void *ctx, struct compare_verdict *v)
{
    char pv[COMPARE_JSON_VALUE_CAP * 4], sv[COMPARE_JSON_VALUE_CAP * 4];
    bool hp = header_values(p, name, pv, sizeof(pv));
    bool hs = header_values(s, name, sv, sizeof(sv));
    if (hp == hs && strcmp(pv, sv) == 0)
        return;
    if (noise && noise(ctx, name)) {
        v->n_header_noise++;
        return;
    }
    v->n_header_diffs++;
    if (v->n_header_reported >= COMPARE_MAX_HEADER_DIFFS)
        return;
    struct compare_header_diff *d = &v->headers[v->n_header_reported++];
    copy_cut(d->name, sizeof(d->name), name);
    bool masked = compare_rules_redacts_header(r, name);
    copy_cut(d->primary, sizeof(d->primary), hp && masked ? COMPARE_REDACTED : pv);
    copy_cut(d->shadow, sizeof(d->shadow), hs && masked ? COMPARE_REDACTED : sv);
}

/* True when header <name> was already compared: listed before index <upto>
 * of <s> or of the rules' list. */
static bool seen_before(const struct compare_side *s, size_t upto, const char *name)
{
    for (size_t i = 0; i < upto; i++) {
        if (strcmp(s->headers[i].name, name) == 0)
            return true;
    }
    return false;
}

static void compare_headers(const struct compare_rules *r, const struct compare_side *p,
                            const struct compare_side *s, compare_header_noise_fn noise, void *ctx,
                            struct compare_verdict *v)
{
    for (size_t i = 0; i < r->n_headers; i++)
        compare_header(r, p, s, r->headers[i], noise, ctx, v);
    if (r->all_headers) {
        const struct compare_side *sides[2] = {p, s};
        for (int k = 0; k < 2; k++) {
            for (size_t i = 0; i < sides[k]->n_headers; i++) {
                const char *name = sides[k]->headers[i].name;
                bool listed = false;
                for (size_t j = 0; j < r->n_headers; j++)
                    listed = listed || strcmp(r->headers[j], name) == 0;
                if (listed || !compare_rules_wants_header(r, name, strlen(name)) ||
                    seen_before(sides[k], i, name) || (k == 1 && seen_before(p, p->n_headers, name)))
                    continue;
                compare_header(r, p, s, name, noise, ctx, v);
            }
        }
    }
    v->headers_differ = v->n_header_diffs > 0;
}

static bool bytes_differ(const struct compare_side *p, const struct compare_side *s)
{
    return p->body.seen != s->body.seen || p->body.digest != s->body.digest;
}

static void compare_bodies(const struct compare_rules *r, const struct compare_side *p,
                           const struct compare_side *s, compare_noise_fn noise, void *ctx,
                           struct compare_json_shapes *shapes, struct compare_verdict *v)
{
    if (r->body == COMPARE_BODY_OFF)
        return;
    bool whole = !compare_body_truncated(&p->body) && !compare_body_truncated(&s->body);
    bool kept = whole && p->body.keep && s->body.keep;
    if (kept && p->body.len == s->body.len && memcmp(p->body.data, s->body.data, p->body.len) == 0)
        return; /* the same bytes: the same JSON value too, or no JSON on either side */
    if (r->body == COMPARE_BODY_JSON && kept) {
        compare_json_diff(p->body.data, p->body.len, s->body.data, s->body.len, r, noise, ctx, shapes,
                          &v->json);
        if (v->json.primary_json && v->json.shadow_json) {
            v->json_compared = true;
            v->body_differs = v->json.n_diffs > 0;
            return;
        }
    }
    v->body_differs = bytes_differ(p, s);
}

static bool status_differs(const struct compare_rules *r, uint16_t a, uint16_t b)
{
    return r->status == COMPARE_STATUS_CLASS ? a / 100 != b / 100 : a != b;
}

void compare_verdict_compute(const struct compare_rules *r, const struct compare_side *primary,
                             const struct compare_side *shadow, compare_noise_fn json_noise,
                             compare_header_noise_fn header_noise, void *ctx,
                             struct compare_json_shapes *shapes, struct compare_verdict *v)
{
    /* The arrays are left as they are: only their first n_*_reported entries are read. */
    v->result = COMPARE_MATCH;
    v->status_differs = v->headers_differ = v->body_differs = false;
    v->n_header_diffs = v->n_header_noise = v->n_header_reported = 0;
    v->json_compared = false;
    compare_json_result_reset(&v->json);
    v->latency_diff_us = 0;
    if (primary->latency_us && shadow->latency_us)
        v->latency_diff_us = (int64_t)shadow->latency_us - (int64_t)primary->latency_us;
    if (shadow->failed) {
        v->result = COMPARE_SHADOW_ERROR;
        return;
    }
    v->status_differs = status_differs(r, primary->status, shadow->status);
    compare_headers(r, primary, shadow, header_noise, ctx, v);
    compare_bodies(r, primary, shadow, json_noise, ctx, shapes, v);
    if (v->status_differs)
        v->result = COMPARE_STATUS_DIFFERS;
    else if (v->headers_differ)
        v->result = COMPARE_HEADERS_DIFFER;
    else if (v->body_differs)
        v->result = COMPARE_BODY_DIFFERS;
    else
        v->result = COMPARE_MATCH;
}
