#include "mirror/mirror_engine.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "mirror/capture_shape.h"
#include "capture/capture_writer.h"
#include "mirror/mirror_client_ev.h"
#include "mirror/mirror_compare.h"
#include "mirror/notify_log.h"
#include "mirror/request_shape.h"
#include "mirror/route_policy.h"
#include "core/xalloc.h"

/* Mirrors per route the decision bitmask can hold; the configuration enforces it. */
#define MAX_MIRRORS_PER_ROUTE CONFIG_MAX_MIRRORS_PER_ROUTE
/* Connection-level settings that the configuration does not expose. */
#define MIRROR_IDLE_TIMEOUT_MS 30000
#define CIRCUIT_FAILURES       5
#define CIRCUIT_OPEN_MS        5000

struct mirror_engine {
    struct ev_loop *loop;
    const struct logger *log;
    struct mirror_runtime *rt;
    int worker;
    struct rng rng;
    size_t max_request;
    struct engine_counters *ctr;     /* this worker's, in the stats registry */
    struct mirror_client ***clients; /* [route][mirror]; NULL for capture mirrors */
    struct capture_scratch capture;  /* where capture records are encoded */
    struct body_parts *parts;        /* shared by the workers; NULL for none */
};

static size_t route_mirrors(const struct mirror_engine *e, size_t r)
{
    size_t n = e->rt->cfg.routes[r].n_mirrors;
    return n > MAX_MIRRORS_PER_ROUTE ? MAX_MIRRORS_PER_ROUTE : n;
}

/* The counters of mirror <i> of route <r> for this engine's worker. */
static struct mirror_counters *mirror_ctr(const struct mirror_engine *e, size_t r, size_t i)
{
    return &e->rt->routes[r][i].ctr[e->worker];
}

struct mirror_engine *mirror_engine_new(struct ev_loop *loop, struct mirror_runtime *rt, int worker,
                                        const struct logger *log, uint64_t seed, size_t max_request,
                                        struct body_parts *parts)
{
    struct mirror_engine *e = xcalloc(1, sizeof(*e));
    e->parts = parts;
    e->loop = loop;
    e->log = log;
    e->rt = rt;
    e->worker = worker;
    e->max_request = max_request;
    e->ctr = &rt->engine_ctr[worker];
    rng_seed(&e->rng, seed);
    capture_scratch_init(&e->capture);
    size_t nr = rt->cfg.n_routes;
    e->clients = xcalloc(nr ? nr : 1, sizeof(*e->clients));
    for (size_t r = 0; r < nr; r++) {
        size_t nm = route_mirrors(e, r);
        e->clients[r] = xcalloc(nm ? nm : 1, sizeof(struct mirror_client *));
        for (size_t i = 0; i < nm; i++) {
            struct runtime_mirror *m = &rt->routes[r][i];
            if (m->cfg->capture)
                continue; /* written by the directory's capture writer */
            struct mirror_client_settings set = {
                .connect_timeout_ms = m->cfg->connect_timeout_ms,
                .timeout_ms = m->cfg->timeout_ms,
                .max_response_bytes = m->cfg->max_response_bytes,
                .max_inflight = m->cfg->max_inflight,
                .max_queue = m->cfg->max_queue,
                .idle_timeout_ms = MIRROR_IDLE_TIMEOUT_MS,
                .max_connection_age_ms = m->cfg->max_connection_age_ms,
                .read_delay_ms = m->cfg->response_read_delay_ms,
                .write_delay_ms = m->cfg->request_write_delay_ms,
                .circuit_failures = CIRCUIT_FAILURES,
                .circuit_open_ms = CIRCUIT_OPEN_MS,
                .name = m->name,
                .protocol = mirror_proto_of(m->cfg->protocol, m->tls != NULL),
                .https = m->tls != NULL,
            };
            e->clients[r][i] = mirror_client_new(loop, &set, &m->addr, mirror_ctr(e, r, i), log, m->tls);
        }
    }
    return e;
}

void mirror_engine_free(struct mirror_engine *e)
{
    if (!e)
        return;
    for (size_t r = 0; r < e->rt->cfg.n_routes; r++) {
        for (size_t i = 0; i < route_mirrors(e, r); i++)
            mirror_client_free(e->clients[r][i]);
        free(e->clients[r]);
    }
    free(e->clients);
    capture_scratch_destroy(&e->capture);
    free(e);
}

bool mirror_engine_sweep(struct mirror_engine *e)
{
    return mirror_compare_sweep(e->rt, e->worker) == MIRROR_COMPARE_SWEEP_MAX;
}

bool mirror_engine_busy(const struct mirror_engine *e)
{
    for (size_t r = 0; r < e->rt->cfg.n_routes; r++)
        for (size_t i = 0; i < route_mirrors(e, r); i++)
            if (e->clients[r][i] && mirror_client_busy(e->clients[r][i]))
                return true;
    return false;
}

/* The engine's random draws, for mirror_compare_choose. */
static uint64_t draw(void *ctx)
{
    return rng_next(&((struct mirror_engine *)ctx)->rng);
}

/* Samples each mirror of route <r>; returns the bitmask of mirrors that take
 * a copy. <truncated>: the body is neither whole in the NOTIFY nor completed
 * by slices. */
static uint64_t sample_mirrors(struct mirror_engine *e, size_t r, const struct mirror_args *a, bool truncated)
{
    uint64_t targets = 0;
    uint64_t now = 0;
    for (size_t i = 0; i < route_mirrors(e, r); i++) {
        struct runtime_mirror *m = &e->rt->routes[r][i];
        struct mirror_counters *ctr = mirror_ctr(e, r, i);
        bool by_key = false;
        if (!mirror_sampled(m->cfg, a, rng_next(&e->rng), &by_key)) {
            counter_inc(&ctr->not_sampled);
            if (by_key)
                counter_inc(&ctr->sampled_by_key);
            continue;
        }
        counter_inc(&ctr->sampled);
        if (by_key)
            counter_inc(&ctr->sampled_by_key);
        if (truncated) {
            /* Never send a body cut short: the mirror would see a different request. */
            counter_inc(&ctr->skipped[MIRROR_SKIP_BODY_TRUNCATED]);
            continue;
        }
        if (m->cfg->max_rps) {
            if (!now)
                now = mono_ns();
            if (!rate_limit_allow(&m->rate, now)) {
                counter_inc(&ctr->dropped[MIRROR_DROP_RATE_LIMITED]);
                continue;
            }
        }
        targets |= 1ull << i;
    }
    return targets;
}

/* A NOTIFY without a `mirror` message may carry one slice of a large body:
 * stores it (or counts why not). Returns false when it carries none. */
static bool store_body_part(struct mirror_engine *e, const struct spop_notify *n)
{
    struct spop_message msg;
    if (!e->parts || !(spop_notify_find_message(n, BODY_PART_MESSAGE_NAME, &msg) ||
                       spop_notify_find_message(n, BODY_PART_LAST_MESSAGE_NAME, &msg)))
        return false;
    struct body_part_args a;
    const char *bad = "";
    enum body_parts_drop why = BODY_PARTS_DROP_BAD_ARGS;
    if (body_part_args_extract(&msg, &a, &bad) == MIRROR_ARGS_OK)
        why =
            body_parts_put(e->parts, a.id.ptr, a.id.len, a.size, a.offset, a.part.ptr, a.part.len, mono_ns());
    else
        body_parts_reject(e->parts, why);
    if (why != BODY_PARTS_DROP_NONE)
        log_event(e->log, LOG_LVL_DEBUG, "body_part_dropped", "sid=%llu fid=%llu reason=%s arg=%s",
                  (unsigned long long)n->stream_id, (unsigned long long)n->frame_id, body_parts_drop_str(why),
                  bad);
    return true;
}

/* Whether the body of <a> is whole: in the NOTIFY (and, for gRPC, ending
 * at a message boundary: shape_body_cut), or completed by slices held in the
 * store (*from_parts set then). */
static bool body_whole(struct mirror_engine *e, const struct mirror_args *a, bool *from_parts)
{
    *from_parts = false;
    if (a->body_size <= a->body.len)
        return !shape_body_cut(a);
    if (!e->parts || !a->id.len)
        return false;
    *from_parts =
        body_parts_check(e->parts, a->id.ptr, a->id.len, a->body.len, a->body_size) == BODY_PARTS_COMPLETE;
    return *from_parts;
}

/* Selects the route of <d>'s arguments and samples its mirrors. */
static void route_and_sample(struct mirror_engine *e, struct mirror_decision *d, bool whole)
{
    int r = route_select(&e->rt->cfg, &d->args);
    if (r < 0) {
        counter_inc(d->args.route.len ? &e->ctr->unknown_route : &e->ctr->no_route);
        return;
    }
    d->route = (uint32_t)r;
    struct route_counters *rc = &e->rt->route_ctr[r][e->worker];
    counter_inc(&rc->requests);
    d->targets = sample_mirrors(e, (size_t)r, &d->args, !whole);
    if (d->targets)
        counter_inc(&rc->mirrored);
}

bool mirror_engine_decide(struct mirror_engine *e, const struct spop_notify *n, struct mirror_decision *d)
{
    struct spop_message msg;
    memset(d, 0, sizeof(*d));
    counter_inc(&e->ctr->notifies);
    if (!spop_notify_find_message(n, MIRROR_MESSAGE_NAME, &msg)) {
        if (spop_notify_find_message(n, MIRROR_RESPONSE_MESSAGE_NAME, &msg)) {
            counter_inc(&e->ctr->responses);
            d->response = true; /* handled after the ACK */
            return false;
        }
        if (!store_body_part(e, n))
            counter_inc(&e->ctr->no_message);
        return false;
    }
    const char *bad = NULL;
    enum mirror_args_status st = mirror_args_extract(&msg, &d->args, &bad);
    if (st != MIRROR_ARGS_OK) {
        counter_inc(&e->ctr->bad_args[st]);
        log_event(e->log, LOG_LVL_DEBUG, "notify_skipped", "sid=%llu fid=%llu reason=%s arg=%s",
                  (unsigned long long)n->stream_id, (unsigned long long)n->frame_id,
                  mirror_args_status_str(st), bad);
        return false;
    }
    d->has_args = true;
    mirror_args_log(e->log, n, &d->args);
    bool from_parts;
    bool whole = body_whole(e, &d->args, &from_parts);
    route_and_sample(e, d, whole);
    if (d->targets)
        d->compared = mirror_compare_choose(e->rt, e->worker, d->route, d->targets, &d->args, draw, e);
    d->mirrored = d->targets != 0;
    d->body_parts = from_parts && d->mirrored;
    if (from_parts && !d->mirrored) /* nobody takes them: no need to wait for the expiry */
        body_parts_discard(e->parts, d->args.id.ptr, d->args.id.len, BODY_PARTS_DROP_UNUSED);
    return d->mirrored;
}

bool mirror_engine_compared(const struct mirror_decision *d)
{
    return d->compared != 0;
}

/* The primary's answer, after the ACK: into the match table. */
static void submit_response(struct mirror_engine *e, const struct spop_notify *n)
{
    struct spop_message msg;
    struct mirror_response_args ra;
    const char *bad = NULL;
    if (!spop_notify_find_message(n, MIRROR_RESPONSE_MESSAGE_NAME, &msg) ||
        mirror_response_args_extract(&msg, &ra, &bad) != MIRROR_ARGS_OK) {
        counter_inc(&e->ctr->response_bad_args);
        return;
    }
    mirror_compare_primary(e->rt, e->worker, &ra);
}

static enum mirror_skip skip_of(enum shape_status st)
{
    switch (st) {
    case SHAPE_BODY_TRUNCATED:
        return MIRROR_SKIP_BODY_TRUNCATED;
    case SHAPE_TOO_LARGE:
        return MIRROR_SKIP_TOO_LARGE;
    default:
        return MIRROR_SKIP_BAD_REQUEST;
    }
}

/* Encodes the record of a copy for capture mirror <i> of route <r> and
 * queues it to the directory's writer; never waits. */
static void submit_capture(struct mirror_engine *e, size_t r, size_t i, const struct mirror_args *a)
{
    struct runtime_mirror *m = &e->rt->routes[r][i];
    struct mirror_counters *ctr = mirror_ctr(e, r, i);
    enum shape_status st =
        capture_shape(m->cfg, e->rt->cfg.routes[r].name, a, unix_ns(), e->max_request, &e->capture);
    if (st != SHAPE_OK) {
        counter_inc(&ctr->skipped[skip_of(st)]);
        return;
    }
    if (!m->capture) { /* its writer thread could not be created */
        counter_inc(&ctr->dropped[MIRROR_DROP_IO_ERROR]);
        return;
    }
    switch (capture_writer_push(m->capture, e->capture.buf.data, e->capture.buf.size)) {
    case CAPTURE_DROP_NONE:
        break;
    case CAPTURE_DROP_QUEUE_FULL:
        counter_inc(&ctr->dropped[MIRROR_DROP_QUEUE_FULL]);
        break;
    default:
        counter_inc(&ctr->dropped[MIRROR_DROP_SHUTDOWN]);
        break;
    }
}

/* Counts each copy of <d> as skipped for <why>. */
static void skip_all(struct mirror_engine *e, const struct mirror_decision *d, enum mirror_skip why)
{
    for (size_t i = 0; i < route_mirrors(e, d->route); i++)
        if (d->targets & (1ull << i))
            counter_inc(&mirror_ctr(e, d->route, i)->skipped[why]);
}

void mirror_engine_submit(struct mirror_engine *e, const struct spop_notify *n,
                          const struct mirror_decision *d)
{
    if (d->response)
        submit_response(e, n);
    if (!d->targets)
        return;
    struct mirror_args args = d->args;
    uint8_t *whole = NULL;
    if (d->body_parts) {
        /* The slices were complete at decide(); only an expiry in between takes them away. */
        whole = body_parts_take(e->parts, args.id.ptr, args.id.len, args.body.len, args.body_size);
        if (!whole) {
            skip_all(e, d, MIRROR_SKIP_BODY_TRUNCATED);
            return;
        }
        if (args.body.len)
            memcpy(whole, args.body.ptr, args.body.len);
        args.body = (struct spop_bytes){whole, (size_t)args.body_size};
    }
    unsigned flags = mirror_method_flags(args.method.ptr, args.method.len);
    for (size_t i = 0; i < route_mirrors(e, d->route); i++) {
        if (!(d->targets & (1ull << i)))
            continue;
        struct runtime_mirror *m = &e->rt->routes[d->route][i];
        if (m->cfg->capture) {
            submit_capture(e, d->route, i, &args);
            continue;
        }
        uint8_t *req;
        size_t len;
        enum shape_status st = shape_request(m->cfg, &args, e->max_request, &req, &len);
        bool compared = (d->compared >> i) & 1u;
        if (st != SHAPE_OK) {
            counter_inc(&mirror_ctr(e, d->route, i)->skipped[skip_of(st)]);
            if (compared)
                mirror_compare_skipped(e->rt, e->worker, d->route, i, d->compared, &d->args);
            continue;
        }
        struct mirror_observer obs;
        if (compared)
            mirror_compare_observer(e->rt, e->worker, d->route, i, d->compared, &d->args, &obs);
        mirror_client_submit_observed(e->clients[d->route][i], req, len, flags, compared ? &obs : NULL);
    }
    free(whole);
}

struct mirror_runtime *mirror_engine_runtime(const struct mirror_engine *e)
{
    return e->rt;
}
