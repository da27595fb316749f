#include "mirror/stats_registry.h"

#include <stdlib.h>
#include <string.h>

#include "compare/compare_noise.h"
#include "core/xalloc.h"

struct stats_registry *stats_registry_new(int nworkers)
{
    struct stats_registry *reg = xcalloc(1, sizeof(*reg));
    reg->nworkers = nworkers;
    reg->engine = xcalloc((size_t)nworkers, sizeof(*reg->engine));
    return reg;
}

struct route_counters *stats_registry_route(struct stats_registry *reg, const char *name)
{
    struct stats_route_entry **tail = &reg->routes;
    for (struct stats_route_entry *e = reg->routes; e; e = e->next) {
        if (strcmp(e->route, name) == 0)
            return e->per_worker;
        tail = &e->next;
    }
    struct stats_route_entry *e = xcalloc(1, sizeof(*e));
    e->route = xstrdup(name);
    e->per_worker = xcalloc((size_t)reg->nworkers, sizeof(*e->per_worker));
    *tail = e;
    return e->per_worker;
}

struct stats_mirror_entry *stats_registry_mirror_entry(struct stats_registry *reg, const char *route,
                                                       const char *url, unsigned occurrence)
{
    struct stats_mirror_entry **tail = &reg->mirrors;
    for (struct stats_mirror_entry *e = reg->mirrors; e; e = e->next) {
        if (strcmp(e->route, route) == 0 && strcmp(e->url, url) == 0 && e->occurrence == occurrence)
            return e;
        tail = &e->next;
    }
    struct stats_mirror_entry *e = xcalloc(1, sizeof(*e));
    e->route = xstrdup(route);
    e->url = xstrdup(url);
    e->occurrence = occurrence;
    e->per_worker = xcalloc((size_t)reg->nworkers + 1, sizeof(*e->per_worker));
    atomic_init(&e->resolve_failures, 0);
    *tail = e;
    return e;
}

struct mirror_counters *stats_registry_mirror(struct stats_registry *reg, const char *route, const char *url,
                                              unsigned occurrence)
{
    return stats_registry_mirror_entry(reg, route, url, occurrence)->per_worker;
}

struct compare_noise *stats_registry_mirror_noise(struct stats_mirror_entry *e)
{
    if (!e->noise)
        e->noise = compare_noise_new();
    return e->noise;
}

void stats_registry_free(struct stats_registry *reg)
{
    if (!reg)
        return;
    while (reg->routes) {
        struct stats_route_entry *e = reg->routes;
        reg->routes = e->next;
        free(e->route);
        free(e->per_worker);
        free(e);
    }
    while (reg->mirrors) {
        struct stats_mirror_entry *e = reg->mirrors;
        reg->mirrors = e->next;
        free(e->route);
        free(e->url);
        free(e->per_worker);
        compare_noise_free(e->noise);
        free(e);
    }
    free(reg->engine);
    free(reg);
}
