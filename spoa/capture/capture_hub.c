#include "capture/capture_hub.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

struct hub_entry {
    struct capture_writer *w;
    int refs;
    struct hub_entry *next;
};

struct capture_hub {
    pthread_mutex_t mu;
    struct hub_entry *list;
};

struct capture_hub *capture_hub_new(void)
{
    struct capture_hub *hub = xcalloc(1, sizeof(*hub));
    pthread_mutex_init(&hub->mu, NULL);
    return hub;
}

void capture_hub_free(struct capture_hub *hub)
{
    if (!hub)
        return;
    while (hub->list) {
        struct hub_entry *e = hub->list;
        hub->list = e->next;
        if (capture_writer_stop(e->w, CAPTURE_STOP_WAIT_MS))
            capture_writer_free(e->w);
        free(e);
    }
    pthread_mutex_destroy(&hub->mu);
    free(hub);
}

struct capture_writer *capture_hub_acquire(struct capture_hub *hub, const struct capture_writer_settings *set,
                                           const struct logger *log)
{
    pthread_mutex_lock(&hub->mu);
    struct hub_entry *e = hub->list;
    while (e && strcmp(capture_writer_dir(e->w), set->dir) != 0)
        e = e->next;
    struct capture_writer *w = NULL;
    if (e) {
        e->refs++;
        w = e->w;
        capture_writer_update(w, set);
    } else {
        w = capture_writer_new(set, log);
        if (capture_writer_start(w) != 0) {
            capture_writer_free(w);
            w = NULL;
        } else {
            e = xcalloc(1, sizeof(*e));
            e->w = w;
            e->refs = 1;
            e->next = hub->list;
            hub->list = e;
        }
    }
    pthread_mutex_unlock(&hub->mu);
    return w;
}

void capture_hub_release(struct capture_hub *hub, struct capture_writer *w)
{
    if (!w)
        return;
    bool last = false;
    pthread_mutex_lock(&hub->mu);
    for (struct hub_entry **link = &hub->list; *link; link = &(*link)->next) {
        struct hub_entry *e = *link;
        if (e->w != w)
            continue;
        last = --e->refs == 0;
        if (last) {
            *link = e->next;
            free(e);
        }
        break;
    }
    pthread_mutex_unlock(&hub->mu);
    /* Outside the lock: stopping waits for the thread to write its queue. */
    if (last && capture_writer_stop(w, CAPTURE_STOP_WAIT_MS))
        capture_writer_free(w);
}
