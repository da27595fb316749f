/* See reaper.h. */
#include "core/reaper.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/xalloc.h"

struct reaper_job {
    void (*fn)(void *);
    void *arg;
    struct reaper_job *next;
};

struct reaper {
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    unsigned pending; /* queued or running */
    struct reaper_job *head, *tail;
};

static void *reaper_main(void *arg)
{
    struct reaper *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        struct reaper_job *job = r->head;
        if (!job) {
            if (r->stop)
                break;
            pthread_cond_wait(&r->cond, &r->lock);
            continue;
        }
        r->head = job->next;
        if (!r->head)
            r->tail = NULL;
        pthread_mutex_unlock(&r->lock);
        job->fn(job->arg);
        free(job);
        pthread_mutex_lock(&r->lock);
        r->pending--;
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

struct reaper *reaper_start(void)
{
    struct reaper *r = xcalloc(1, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->started = pthread_create(&r->thread, NULL, reaper_main, r) == 0;
    return r;
}

void reaper_submit(struct reaper *r, void (*fn)(void *), void *arg)
{
    if (!r->started) {
        fn(arg);
        return;
    }
    struct reaper_job *job = xcalloc(1, sizeof(*job));
    job->fn = fn;
    job->arg = arg;
    pthread_mutex_lock(&r->lock);
    if (r->tail)
        r->tail->next = job;
    else
        r->head = job;
    r->tail = job;
    r->pending++;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

unsigned reaper_pending(struct reaper *r)
{
    pthread_mutex_lock(&r->lock);
    unsigned n = r->pending;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void reaper_stop(struct reaper *r)
{
    if (!r)
        return;
    if (r->started) {
        pthread_mutex_lock(&r->lock);
        r->stop = true;
        pthread_cond_signal(&r->cond);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
    }
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
