#include "mirror/mirror_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture_hub.h"
#include "compare/compare_json_shapes.h"
#include "compare/compare_rules.h"
#include "compare/compare_table.h"
#include "mirror/resolver.h"
#include "mirror/tls_client.h"
#include "core/xalloc.h"

/* How long freeing a runtime waits for its resolver thread to end. */
#define RESOLVER_STOP_WAIT_MS 200

/* How many mirrors before <i> in route <r> share its URL. */
static unsigned url_occurrence(const struct config_route *route, size_t i)
{
    unsigned n = 0;
    for (size_t k = 0; k < i; k++)
        if (strcmp(route->mirrors[k].url, route->mirrors[i].url) == 0)
            n++;
    return n;
}

struct mirror_runtime *mirror_runtime_new(struct config *cfg, struct stats_registry *reg,
                                          struct capture_hub *hub, uint64_t generation)
{
    struct mirror_runtime *rt = xcalloc(1, sizeof(*rt));
    rt->cfg = *cfg;
    memset(cfg, 0, sizeof(*cfg));
    rt->generation = generation;
    rt->hub = hub;
    atomic_init(&rt->refs, 0);
    const struct config *c = &rt->cfg;
    size_t nr = c->n_routes;
    rt->routes = xcalloc(nr ? nr : 1, sizeof(*rt->routes));
    rt->route_ctr = xcalloc(nr ? nr : 1, sizeof(*rt->route_ctr));
    rt->engine_ctr = reg->engine;
    rt->release_slot = reg->nworkers;
    size_t total = 0;
    uint32_t pending = 0;
    for (size_t r = 0; r < nr; r++) {
        total += c->routes[r].n_mirrors;
        for (size_t i = 0; i < c->routes[r].n_mirrors; i++) {
            const struct config_compare *cmp = c->routes[r].mirrors[i].compare;
            if (cmp && cmp->max_pending > pending)
                pending = cmp->max_pending;
        }
    }
    if (pending)
        rt->compare = compare_table_new(pending, free);
    rt->addrs = xcalloc(total ? total : 1, sizeof(*rt->addrs));
    for (size_t r = 0; r < nr; r++) {
        const struct config_route *route = &c->routes[r];
        rt->route_ctr[r] = stats_registry_route(reg, route->name);
        rt->routes[r] = xcalloc(route->n_mirrors ? route->n_mirrors : 1, sizeof(struct runtime_mirror));
        for (size_t i = 0; i < route->n_mirrors; i++) {
            struct runtime_mirror *m = &rt->routes[r][i];
            m->cfg = &route->mirrors[i];
            rate_limit_init(&m->rate, m->cfg->max_rps);
            struct stats_mirror_entry *entry =
                stats_registry_mirror_entry(reg, route->name, m->cfg->url, url_occurrence(route, i));
            m->ctr = entry->per_worker;
            snprintf(m->name, sizeof(m->name), "%s/%zu", route->name, i);
            if (m->cfg->compare) {
                m->rules = compare_rules_new(m->cfg->compare);
                if (m->cfg->compare->body == COMPARE_BODY_JSON) {
                    m->shapes = xcalloc((size_t)reg->nworkers + 1, sizeof(*m->shapes));
                    for (int w = 0; w <= reg->nworkers; w++)
                        m->shapes[w] = compare_json_shapes_new();
                }
                rate_limit_init(&m->diff_rate,
                                m->cfg->compare->diff_log ? m->cfg->compare->diff_log->max_rps : 0);
                if (m->cfg->compare->noise_index >= 0)
                    m->noise = stats_registry_mirror_noise(entry);
            }
            if (m->cfg->compare)
                entry->compared = true; /* it gets the compare_* series */
            if (m->cfg->capture)
                continue;
            if (m->cfg->tls) {
                m->tls = tls_client_new(m->cfg->tls, m->cfg->host);
                tls_client_offer_alpn(m->tls, m->cfg->protocol);
            }
            entry->has_host = true;
            if (m->cfg->protocol != CONFIG_PROTO_HTTP1)
                entry->http2 = true; /* its answers may carry a grpc-status */
            target_addr_init(&m->addr, m->cfg->host, m->cfg->port);
            m->addr.failures = &entry->resolve_failures;
            target_addr_resolve_numeric(&m->addr); /* an IP literal needs no resolver */
            rt->addrs[rt->n_addrs++] = &m->addr;
        }
        for (size_t i = 0; i < route->n_mirrors; i++) {
            const struct config_compare *cmp = route->mirrors[i].compare;
            if (cmp && cmp->noise_index >= 0 && (size_t)cmp->noise_index < route->n_mirrors)
                rt->routes[r][cmp->noise_index].is_noise = true;
        }
    }
    return rt;
}

size_t mirror_runtime_inherit_addrs(struct mirror_runtime *rt, struct mirror_runtime *old)
{
    size_t copied = 0;
    for (size_t i = 0; i < rt->n_addrs; i++) {
        struct target_addr *t = rt->addrs[i];
        pthread_mutex_lock(&t->lock);
        bool resolved = t->count > 0; /* an IP literal */
        pthread_mutex_unlock(&t->lock);
        for (size_t k = 0; old && !resolved && k < old->n_addrs; k++) {
            struct target_addr *o = old->addrs[k];
            if (o->port == t->port && strcmp(o->host, t->host) == 0 && target_addr_copy(t, o)) {
                copied++;
                break;
            }
        }
    }
    return copied;
}

size_t mirror_runtime_unresolved(struct mirror_runtime *rt)
{
    size_t n = 0;
    for (size_t i = 0; i < rt->n_addrs; i++) {
        struct target_addr *t = rt->addrs[i];
        pthread_mutex_lock(&t->lock);
        n += t->count == 0;
        pthread_mutex_unlock(&t->lock);
    }
    return n;
}

/* Takes a reference to the writer of every capture mirror's directory. */
static void start_capture(struct mirror_runtime *rt, const struct logger *log)
{
    for (size_t r = 0; r < rt->cfg.n_routes; r++) {
        for (size_t i = 0; i < rt->cfg.routes[r].n_mirrors; i++) {
            struct runtime_mirror *m = &rt->routes[r][i];
            const struct config_capture *dl = m->cfg->compare ? m->cfg->compare->diff_log : NULL;
            if (dl && !m->diff_log) {
                struct capture_writer_settings set = {
                    .dir = dl->dir,
                    .rotate_bytes = dl->rotate_bytes,
                    .rotate_ms = dl->rotate_ms,
                    .max_total_bytes = dl->max_total_bytes,
                    .max_files = dl->max_files,
                    .max_queue = dl->max_queue,
                };
                m->diff_log = capture_hub_acquire(rt->hub, &set, log);
                if (!m->diff_log)
                    log_event(log, LOG_LVL_ERROR, "diff_log_start_failed", "mirror=%s dir=\"%s\"", m->name,
                              dl->dir);
            }
            const struct config_capture *cap = m->cfg->capture;
            if (!cap || m->capture)
                continue;
            struct capture_writer_settings set = {
                .dir = cap->dir,
                .rotate_bytes = cap->rotate_bytes,
                .rotate_ms = cap->rotate_ms,
                .max_total_bytes = cap->max_total_bytes,
                .max_files = cap->max_files,
                .max_queue = cap->max_queue,
            };
            m->capture = capture_hub_acquire(rt->hub, &set, log);
            if (!m->capture)
                log_event(log, LOG_LVL_ERROR, "capture_start_failed", "mirror=%s dir=\"%s\"", m->name,
                          cap->dir);
        }
    }
}

bool mirror_runtime_start_resolver(struct mirror_runtime *rt, unsigned period_ms, unsigned wait_ms,
                                   const struct logger *log)
{
    start_capture(rt, log);
    if (rt->n_addrs == 0)
        return true;
    rt->resolver = resolver_start(rt->addrs, rt->n_addrs, period_ms, log);
    if (!rt->resolver) {
        log_event(log, LOG_LVL_ERROR, "resolver_start_failed", "generation=%llu",
                  (unsigned long long)rt->generation);
        /* Without the thread, resolve once here, when the caller may wait. */
        for (size_t i = 0; wait_ms > 0 && i < rt->n_addrs; i++)
            target_addr_resolve(rt->addrs[i]);
        return true;
    }
    return wait_ms == 0 || resolver_wait_first(rt->resolver, wait_ms);
}

void mirror_runtime_free(struct mirror_runtime *rt)
{
    if (!rt)
        return;
    if (rt->resolver)
        resolver_stop(rt->resolver, RESOLVER_STOP_WAIT_MS); /* a hung getaddrinfo() is left behind */
    for (size_t r = 0; r < rt->cfg.n_routes; r++) {
        for (size_t i = 0; i < rt->cfg.routes[r].n_mirrors; i++) {
            struct runtime_mirror *m = &rt->routes[r][i];
            compare_rules_free(m->rules);
            if (m->shapes) {
                for (int w = 0; w <= rt->release_slot; w++)
                    compare_json_shapes_free(m->shapes[w]);
                free(m->shapes);
            }
            if (m->diff_log)
                capture_hub_release(rt->hub, m->diff_log);
            if (m->cfg->capture)
                capture_hub_release(rt->hub, m->capture);
            else
                target_addr_destroy(&m->addr);
            tls_client_free(m->tls);
        }
        free(rt->routes[r]);
    }
    compare_table_free(rt->compare);
    free(rt->routes);
    free(rt->route_ctr);
    free(rt->addrs);
    config_free(&rt->cfg);
    free(rt);
}
