#include "mirror/mirror_compare.h"

#include <stdlib.h>
#include <string.h>

#include "capture/capture_writer.h"
#include "compare/compare_json_shapes.h"
#include "compare/compare_collect.h"
#include "compare/compare_noise.h"
#include "compare/compare_record.h"
#include "compare/compare_table.h"
#include "compare/compare_verdict.h"
#include "core/clock.h"
#include "core/xalloc.h"

/* The ctx of a match-table entry: what the verdicts need of the request. */
struct compare_req {
    uint32_t route;
    uint8_t n;
    uint8_t mirror[COMPARE_MAX_SLOTS]; /* mirror index of each slot */
    uint64_t opened_ns;
    char method[16];
    char path[256];
};

/* The ctx of an observed copy. */
struct shadow_watch {
    struct mirror_runtime *rt;
    int worker;
    uint32_t route, mirror;
    int slot;
    struct compare_side *side;
    struct compare_collect col;
    size_t id_len;
    char id[COMPARE_MAX_ID];
};

static struct mirror_counters *ctr_of(struct mirror_runtime *rt, int worker, size_t r, size_t i)
{
    return &rt->routes[r][i].ctr[worker];
}

static void count_unmatched(struct mirror_runtime *rt, int worker, size_t r, size_t i,
                            enum compare_unmatched why)
{
    struct mirror_counters *c = ctr_of(rt, worker, r, i);
    counter_inc(&c->compared[COMPARE_UNMATCHED]);
    counter_inc(&c->unmatched[why]);
}

static int slot_of(uint64_t compared, size_t i)
{
    return __builtin_popcountll(compared & ((1ull << i) - 1));
}

static void copy_cut(char *dst, size_t cap, struct spop_bytes b)
{
    size_t n = b.len < cap - 1 ? b.len : cap - 1;
    memcpy(dst, b.ptr, n);
    dst[n] = '\0';
}

uint64_t mirror_compare_choose(struct mirror_runtime *rt, int worker, size_t r, uint64_t targets,
                               const struct mirror_args *a, uint64_t (*next_draw)(void *ctx), void *draw_ctx)
{
    if (!rt->compare || !targets)
        return 0;
    uint64_t mask = 0;
    uint32_t timeout = 0;
    for (size_t i = 0; i < rt->cfg.routes[r].n_mirrors && i < 64; i++) {
        const struct config_compare *cmp = rt->routes[r][i].cfg->compare;
        if (!(targets & (1ull << i)) || !cmp)
            continue;
        if (next_draw(draw_ctx) % 1000000u >= cmp->percent_millionths)
            continue;
        mask |= 1ull << i;
        if (cmp->match_timeout_ms > timeout)
            timeout = cmp->match_timeout_ms;
    }
    if (!mask)
        return 0;
    enum compare_unmatched why = COMPARE_UNMATCHED_NO_ID;
    if (a->id.len > 0 && a->id.len <= COMPARE_MAX_ID) {
        struct compare_req *req = xcalloc(1, sizeof(*req));
        req->route = (uint32_t)r;
        for (size_t i = 0; i < 64; i++) {
            if (mask & (1ull << i))
                req->mirror[req->n++] = (uint8_t)i;
        }
        req->opened_ns = mono_ns();
        copy_cut(req->method, sizeof(req->method), a->method);
        copy_cut(req->path, sizeof(req->path), a->path);
        uint64_t deadline = req->opened_ns / 1000000u + timeout;
        enum compare_table_status st =
            compare_table_open(rt->compare, a->id.ptr, a->id.len, req->n, deadline, req);
        if (st == COMPARE_TABLE_OK)
            return mask;
        free(req);
        why = st == COMPARE_TABLE_FULL ? COMPARE_UNMATCHED_TABLE_FULL : COMPARE_UNMATCHED_NO_ID;
    }
    for (size_t i = 0; i < 64; i++) {
        if (mask & (1ull << i))
            count_unmatched(rt, worker, r, i, why);
    }
    return 0;
}

/* ---- verdicts ---- */

/* The primary as mirror <rules> sees it: its body digest over the rules'
 * max_body_bytes (the primary keeps its whole body). A shallow copy: only read. */
static void primary_view(const struct compare_side *p, const struct compare_rules *rules,
                         struct compare_side *v)
{
    *v = *p;
    size_t n = p->body.len < rules->max_body_bytes ? p->body.len : rules->max_body_bytes;
    v->body.max = rules->max_body_bytes;
    v->body.len = n;
    v->body.digest = compare_body_digest_of(p->body.data, n);
}

static void observe_latency(struct mirror_counters *c, const struct compare_verdict *v,
                            const struct compare_side *p, const struct compare_side *s)
{
    if (!p->latency_us || !s->latency_us)
        return;
    if (v->latency_diff_us >= 0)
        latency_observe(&c->compare_slower, (uint64_t)v->latency_diff_us * 1000u);
    else
        latency_observe(&c->compare_faster, (uint64_t)(-v->latency_diff_us) * 1000u);
}

static void write_diff(struct runtime_mirror *m, struct mirror_counters *c, const struct compare_entry *e,
                       const struct compare_req *req, const char *route, const struct compare_verdict *v,
                       const struct compare_side *p, const struct compare_side *s)
{
    if (!m->diff_log)
        return;
    if (!rate_limit_allow(&m->diff_rate, mono_ns())) {
        counter_inc(&c->diff_dropped[DIFF_LOG_DROP_RATE_LIMITED]);
        return;
    }
    struct compare_record rec = {
        .ts_ns = unix_ns(),
        .id = {(const uint8_t *)e->id, e->id_len},
        .route = {(const uint8_t *)route, strlen(route)},
        .mirror = {(const uint8_t *)m->cfg->url, strlen(m->cfg->url)},
        .method = {(const uint8_t *)req->method, strlen(req->method)},
        .path = {(const uint8_t *)req->path, strlen(req->path)},
    };
    compare_record_fill(&rec, v, p, s);
    const char *role = m->is_noise ? "noise" : m->noise ? "candidate" : "";
    rec.role = (struct spop_bytes){(const uint8_t *)role, strlen(role)};
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    if (compare_record_encode(&rec, &buf) == 0) {
        switch (capture_writer_push(m->diff_log, buf.data, buf.size)) {
        case CAPTURE_DROP_NONE:
            counter_inc(&c->diff_records);
            break;
        case CAPTURE_DROP_QUEUE_FULL:
            counter_inc(&c->diff_dropped[DIFF_LOG_DROP_QUEUE_FULL]);
            break;
        default:
            counter_inc(&c->diff_dropped[DIFF_LOG_DROP_SHUTDOWN]);
            break;
        }
    }
    msgpack_sbuffer_destroy(&buf);
}

/* Learning: every difference between the primary and the noise mirror is noise. */
static bool learn_path(void *ctx, const char *path)
{
    compare_noise_learn(ctx, COMPARE_NOISE_PATH, path);
    return false;
}

static bool learn_header(void *ctx, const char *name)
{
    compare_noise_learn(ctx, COMPARE_NOISE_HEADER, name);
    return false;
}

static bool is_noise_path(void *ctx, const char *path)
{
    return compare_noise_has(ctx, COMPARE_NOISE_PATH, path);
}

static bool is_noise_header(void *ctx, const char *name)
{
    return compare_noise_has(ctx, COMPARE_NOISE_HEADER, name);
}

/* The answer of the noise mirror of slot <s>'s mirror in <e>, or NULL. */
static const struct compare_side *noise_side(const struct mirror_runtime *rt, const struct compare_entry *e,
                                             const struct compare_req *req, size_t s)
{
    const struct config_compare *cmp = rt->routes[req->route][req->mirror[s]].cfg->compare;
    for (size_t k = 0; cmp->noise_index >= 0 && k < e->n_slots; k++) {
        if (req->mirror[k] == (uint8_t)cmp->noise_index)
            return e->shadows[k] && !e->shadows[k]->failed ? e->shadows[k] : NULL;
    }
    return NULL;
}

/* Verdicts for the slots of <e> that have both sides; the others are
 * unmatched. A mirror with a noise mirror first learns from the noise
 * mirror's answer in the same entry. Frees <e> and its ctx. */
static void finish_entry(struct mirror_runtime *rt, int worker, struct compare_entry *e)
{
    struct compare_req *req = e->ctx;
    const char *route = rt->cfg.routes[req->route].name;
    struct compare_side *p = e->primary;
    if (p && !p->latency_us && p->arrived_ns > req->opened_ns)
        p->latency_us = (p->arrived_ns - req->opened_ns) / 1000u;
    for (size_t s = 0; s < e->n_slots; s++) {
        size_t i = req->mirror[s];
        struct runtime_mirror *m = &rt->routes[req->route][i];
        struct compare_side *sh = e->shadows[s];
        if (!p || !sh) {
            count_unmatched(rt, worker, req->route, i,
                            p ? COMPARE_UNMATCHED_SHADOW_MISSING : COMPARE_UNMATCHED_PRIMARY_MISSING);
            continue;
        }
        struct compare_side pv;
        primary_view(p, m->rules, &pv);
        struct compare_verdict v;
        const struct compare_side *ns = m->noise ? noise_side(rt, e, req, s) : NULL;
        struct compare_json_shapes *shapes = m->shapes ? m->shapes[worker] : NULL;
        uint64_t hits = shapes ? shapes->derived : 0, misses = shapes ? shapes->loaded : 0;
        if (ns)
            compare_verdict_compute(m->rules, &pv, ns, learn_path, learn_header, m->noise, shapes, &v);
        if (m->noise)
            compare_verdict_compute(m->rules, &pv, sh, is_noise_path, is_noise_header, m->noise, shapes, &v);
        else
            compare_verdict_compute(m->rules, &pv, sh, NULL, NULL, NULL, shapes, &v);
        struct mirror_counters *c = ctr_of(rt, worker, req->route, i);
        if (shapes) {
            counter_add(&c->json_shape_hits, shapes->derived - hits);
            counter_add(&c->json_shape_misses, shapes->loaded - misses);
        }
        counter_inc(&c->compared[v.result]);
        counter_add(&c->compare_noise, v.json.n_noise + v.n_header_noise);
        observe_latency(c, &v, &pv, sh);
        if (v.result != COMPARE_MATCH)
            write_diff(m, c, e, req, route, &v, &pv, sh);
    }
    free(req);
    compare_entry_free(e);
}

size_t mirror_compare_sweep(struct mirror_runtime *rt, int worker)
{
    if (!rt->compare)
        return 0;
    struct compare_entry *out[MIRROR_COMPARE_SWEEP_MAX];
    size_t n = compare_table_expire(rt->compare, mono_ns() / 1000000u, out, MIRROR_COMPARE_SWEEP_MAX);
    for (size_t k = 0; k < n; k++)
        finish_entry(rt, worker, out[k]);
    return n;
}

size_t mirror_compare_drain(struct mirror_runtime *rt)
{
    if (!rt->compare)
        return 0;
    struct compare_entry *out[MIRROR_COMPARE_SWEEP_MAX];
    size_t total = 0, n;
    while ((n = compare_table_expire(rt->compare, UINT64_MAX, out, MIRROR_COMPARE_SWEEP_MAX)) > 0) {
        for (size_t k = 0; k < n; k++)
            finish_entry(rt, rt->release_slot, out[k]);
        total += n;
    }
    return total;
}

/* ---- the two sides ---- */

/* Puts <side> in slot <slot> of <id>; runs the verdicts when that completes
 * the entry. Unless OK or COMPLETE, the side was not taken: the caller frees it. */
static enum compare_table_status put_side(struct mirror_runtime *rt, int worker, const void *id,
                                          size_t id_len, int slot, struct compare_side *side)
{
    side->arrived_ns = mono_ns();
    struct compare_entry *done = NULL;
    enum compare_table_status st = compare_table_put(rt->compare, id, id_len, slot, side, &done);
    if (done)
        finish_entry(rt, worker, done);
    return st;
}

static void put_shadow(struct shadow_watch *w)
{
    compare_body_finish(&w->side->body);
    enum compare_table_status st = put_side(w->rt, w->worker, w->id, w->id_len, w->slot, w->side);
    if (st != COMPARE_TABLE_OK && st != COMPARE_TABLE_COMPLETE) {
        if (st == COMPARE_TABLE_UNKNOWN)
            count_unmatched(w->rt, w->worker, w->route, w->mirror, COMPARE_UNMATCHED_SHADOW_LATE);
        compare_side_free(w->side);
    }
    free(w);
}

static void w_begin(void *ctx)
{
    compare_collect_begin(&((struct shadow_watch *)ctx)->col);
}

static void w_field(void *ctx, const char *p, size_t n)
{
    compare_collect_field(&((struct shadow_watch *)ctx)->col, p, n);
}

static void w_value(void *ctx, const char *p, size_t n)
{
    compare_collect_value(&((struct shadow_watch *)ctx)->col, p, n);
}

static void w_headers_done(void *ctx)
{
    compare_collect_headers_done(&((struct shadow_watch *)ctx)->col);
}

static void w_body(void *ctx, const char *p, size_t n)
{
    compare_collect_body(&((struct shadow_watch *)ctx)->col, p, n);
}

static const struct http_exchange_sink watch_sink = {w_begin, w_field, w_value, w_headers_done, w_body};

static void w_end(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why, bool body_whole)
{
    struct shadow_watch *w = ctx;
    (void)body_whole; /* a cut body is compared by what was read: its length tells */
    w->side->status = (uint16_t)status;
    w->side->latency_us = latency_ns / 1000u;
    if (status == 0)
        compare_side_fail(w->side, mirror_drop_str(why));
    put_shadow(w);
}

static struct shadow_watch *watch_new(struct mirror_runtime *rt, int worker, size_t r, size_t i,
                                      uint64_t compared, const struct mirror_args *a)
{
    struct shadow_watch *w = xcalloc(1, sizeof(*w));
    const struct compare_rules *rules = rt->routes[r][i].rules;
    w->rt = rt;
    w->worker = worker;
    w->route = (uint32_t)r;
    w->mirror = (uint32_t)i;
    w->slot = slot_of(compared, i);
    w->side = compare_side_new(rules->max_body_bytes, rules->body == COMPARE_BODY_JSON);
    compare_collect_init(&w->col, rules, w->side);
    w->id_len = a->id.len;
    memcpy(w->id, a->id.ptr, a->id.len);
    return w;
}

void mirror_compare_observer(struct mirror_runtime *rt, int worker, size_t r, size_t i, uint64_t compared,
                             const struct mirror_args *a, struct mirror_observer *obs)
{
    struct shadow_watch *w = watch_new(rt, worker, r, i, compared, a);
    *obs = (struct mirror_observer){.sink = &watch_sink, .ctx = w, .end = w_end};
}

void mirror_compare_skipped(struct mirror_runtime *rt, int worker, size_t r, size_t i, uint64_t compared,
                            const struct mirror_args *a)
{
    struct shadow_watch *w = watch_new(rt, worker, r, i, compared, a);
    compare_side_fail(w->side, "skipped");
    put_shadow(w);
}

void mirror_compare_primary(struct mirror_runtime *rt, int worker, const struct mirror_response_args *ra)
{
    if (!rt->compare)
        return;
    struct compare_side *p = compare_side_new((uint32_t)ra->body.len, true);
    p->status = (uint16_t)ra->status;
    p->latency_us = ra->latency_ms * 1000u;
    size_t off = 0;
    for (;;) {
        struct spop_bytes name, value;
        int n = hdrs_bin_next(ra->hdrs.ptr + off, ra->hdrs.len - off, &name, &value);
        if (n <= 0)
            break;
        off += (size_t)n;
        compare_side_add_header(p, (const char *)name.ptr, name.len, (const char *)value.ptr, value.len);
    }
    compare_body_feed(&p->body, ra->body.ptr, ra->body.len);
    compare_body_finish(&p->body);
    enum compare_table_status st = put_side(rt, worker, ra->id.ptr, ra->id.len, COMPARE_SLOT_PRIMARY, p);
    if (st != COMPARE_TABLE_OK && st != COMPARE_TABLE_COMPLETE) {
        compare_side_free(p);
        counter_inc(&rt->engine_ctr[worker].response_unknown);
    }
}
