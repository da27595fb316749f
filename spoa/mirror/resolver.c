#include "mirror/resolver.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/xalloc.h"

struct resolver_target {
    char *host; /* the resolver's own copy: getaddrinfo() runs without the lock */
    uint16_t port;
    bool first;            /* had no address when the pass started: resolved first */
    struct target_addr *t; /* borrowed: touched under the lock, before stop only */
};

struct resolver {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    bool first_done;
    bool exited;
    int refs; /* the thread's and the owner's; the last one frees */
    unsigned period_ms;
    struct resolver_target *targets;
    size_t n;
    const struct logger *log;
};

static void resolver_free(struct resolver *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->targets[i].host);
    free(r->targets);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* Drops one reference, with the lock held; unlocks, and frees on the last. */
static void release_locked(struct resolver *r)
{
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (last)
        resolver_free(r);
}

static bool has_addresses(struct target_addr *t)
{
    pthread_mutex_lock(&t->lock);
    bool any = t->count > 0;
    pthread_mutex_unlock(&t->lock);
    return any;
}

/* Resolves target <i> with the lock released; false once stopping. Called and
 * returns with the lock held. */
static bool resolve_one(struct resolver *r, size_t i)
{
    struct resolver_target *rt = &r->targets[i];
    pthread_mutex_unlock(&r->lock);
    struct target_addr_set set;
    int rc = target_addr_lookup(rt->host, rt->port, &set);
    pthread_mutex_lock(&r->lock);
    if (r->stop)
        return false; /* the targets may be gone: forget the answer */
    if (rc == 0) {
        target_addr_store(rt->t, &set);
    } else {
        target_addr_count_failure(rt->t);
        log_event(r->log, LOG_LVL_WARN, "resolve_failed", "host=%s port=%u error=\"%s\"", rt->host, rt->port,
                  gai_strerror(rc));
    }
    return true;
}

/* One pass: the targets without addresses first (new hosts of a reload),
 * then the others. Called and returns with the lock held. */
static void resolve_all(struct resolver *r)
{
    for (size_t i = 0; i < r->n; i++)
        r->targets[i].first = !has_addresses(r->targets[i].t);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < r->n; i++) {
            if (r->stop)
                return;
            if (r->targets[i].first != (round == 0))
                continue;
            if (!resolve_one(r, i))
                return;
        }
    }
}

static void *resolver_main(void *arg)
{
    struct resolver *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        resolve_all(r);
        if (!r->first_done) {
            r->first_done = true;
            pthread_cond_broadcast(&r->cond);
        }
        struct timespec until = mono_deadline_ms(r->period_ms);
        while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, &until) != ETIMEDOUT)
            ;
    }
    r->exited = true;
    pthread_cond_broadcast(&r->cond);
    release_locked(r);
    return NULL;
}

struct resolver *resolver_start(struct target_addr **targets, size_t n, unsigned period_ms,
                                const struct logger *log)
{
    struct resolver *r = xcalloc(1, sizeof(*r));
    r->targets = xcalloc(n ? n : 1, sizeof(*r->targets));
    for (size_t i = 0; i < n; i++) {
        r->targets[i].host = xstrdup(targets[i]->host);
        r->targets[i].port = targets[i]->port;
        r->targets[i].t = targets[i];
    }
    r->n = n;
    r->period_ms = period_ms ? period_ms : 30000;
    r->log = log;
    r->refs = 2;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&r->lock, NULL);
    pthread_attr_t tattr;
    pthread_attr_init(&tattr);
    pthread_attr_setdetachstate(&tattr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&r->thread, &tattr, resolver_main, r);
    pthread_attr_destroy(&tattr);
    if (rc != 0) {
        resolver_free(r);
        return NULL;
    }
    return r;
}

bool resolver_wait_first(struct resolver *r, unsigned max_ms)
{
    struct timespec until = mono_deadline_ms(max_ms);
    pthread_mutex_lock(&r->lock);
    while (!r->first_done && pthread_cond_timedwait(&r->cond, &r->lock, &until) != ETIMEDOUT)
        ;
    bool done = r->first_done;
    pthread_mutex_unlock(&r->lock);
    return done;
}

bool resolver_stop(struct resolver *r, unsigned max_ms)
{
    struct timespec until = mono_deadline_ms(max_ms);
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->cond);
    while (!r->exited && pthread_cond_timedwait(&r->cond, &r->lock, &until) != ETIMEDOUT)
        ;
    bool exited = r->exited;
    release_locked(r);
    return exited;
}
