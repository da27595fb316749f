#include "mirror/resolver.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/xalloc.h"

struct resolver {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    bool first_done;
    unsigned period_ms;
    struct target_addr **targets;
    size_t n;
    const struct logger *log;
};

static void resolve_all(struct resolver *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct target_addr *t = r->targets[i];
        int rc = target_addr_resolve(t);
        if (rc != 0)
            log_event(r->log, LOG_LVL_WARN, "resolve_failed", "host=%s port=%u error=\"%s\"", t->host,
                      t->port, gai_strerror(rc));
    }
}

static void *resolver_main(void *arg)
{
    struct resolver *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        pthread_mutex_unlock(&r->lock);
        resolve_all(r);
        pthread_mutex_lock(&r->lock);
        if (!r->first_done) {
            r->first_done = true;
            pthread_cond_broadcast(&r->cond);
        }
        struct timespec until = mono_deadline_ms(r->period_ms);
        while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

struct resolver *resolver_start(struct target_addr **targets, size_t n, unsigned period_ms,
                                const struct logger *log)
{
    struct resolver *r = xcalloc(1, sizeof(*r));
    r->targets = targets;
    r->n = n;
    r->period_ms = period_ms ? period_ms : 30000;
    r->log = log;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&r->lock, NULL);
    if (pthread_create(&r->thread, NULL, resolver_main, r) != 0) {
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->lock);
        free(r);
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

void resolver_stop(struct resolver *r)
{
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
