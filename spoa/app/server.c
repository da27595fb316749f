#include "app/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/net.h"
#include "app/worker.h"
#include "core/xalloc.h"

struct server {
    struct worker_shared shared;
    int nworkers;
    struct worker **workers;
};

struct server *server_start(const struct server_settings *set, const struct logger *log, char *err,
                            size_t err_len)
{
    int fd = net_listen_tcp(set->listen, set->backlog, err, err_len);
    if (fd == -1)
        return NULL;
    struct server *s = xcalloc(1, sizeof(*s));
    s->shared.listen_fd = fd;
    s->shared.max_frame = set->max_frame;
    s->shared.max_connections = set->max_connections;
    s->shared.idle_timeout_ms = set->idle_timeout_ms;
    s->shared.log = log;
    s->shared.rt = set->rt;
    s->shared.parts = set->parts;
    /* A shaped request holds at most a frame's body, or a body assembled
     * from slices, plus its rebuilt head. */
    s->shared.max_request = (size_t)set->max_frame * 2 + 65536 + (size_t)set->max_body_bytes;
    atomic_init(&s->shared.connections, 0);
    s->nworkers = set->threads;
    s->workers = xcalloc((size_t)s->nworkers, sizeof(*s->workers));
    for (int i = 0; i < s->nworkers; i++) {
        atomic_fetch_add(&set->rt->refs, 1); /* released when the worker frees its engine */
        s->workers[i] = worker_new(i, &s->shared);
        int rc = worker_start(s->workers[i]);
        if (rc != 0) {
            snprintf(err, err_len, "cannot start worker thread %d: %s", i, strerror(rc));
            server_stop(s);
            return NULL;
        }
    }
    return s;
}

int server_port(const struct server *s)
{
    return net_local_port(s->shared.listen_fd);
}

void server_stop(struct server *s)
{
    for (int i = 0; i < s->nworkers; i++)
        if (s->workers[i])
            worker_stop(s->workers[i]);
    for (int i = 0; i < s->nworkers; i++) {
        if (s->workers[i]) {
            worker_join(s->workers[i]);
            worker_free(s->workers[i]);
        }
    }
    close(s->shared.listen_fd);
    free(s->workers);
    free(s);
}

static void sum_counter(counter_t *dst, const counter_t *src)
{
    atomic_store_explicit(dst, counter_get(dst) + counter_get(src), memory_order_relaxed);
}

void server_stats_sum(const struct server *s, struct agent_stats *sum)
{
    for (int i = 0; i < s->nworkers; i++) {
        const counter_t *src = (const counter_t *)worker_stats(s->workers[i]);
        counter_t *dst = (counter_t *)sum;
        for (size_t k = 0; k < sizeof(struct agent_stats) / sizeof(counter_t); k++)
            sum_counter(&dst[k], &src[k]);
    }
}

void server_set_runtime(struct server *s, struct mirror_runtime *rt)
{
    atomic_fetch_add(&rt->refs, s->nworkers);
    for (int i = 0; i < s->nworkers; i++)
        worker_set_runtime(s->workers[i], rt);
}

void server_drain(struct server *s)
{
    for (int i = 0; i < s->nworkers; i++)
        worker_drain(s->workers[i]);
    /* Leave the LISTEN state now: HAProxy's new connections and health checks
     * are refused at once (it fails open without waiting for a timeout) instead
     * of waiting in the backlog for an accept() that will not come. */
    shutdown(s->shared.listen_fd, SHUT_RD);
}

bool server_idle(const struct server *s)
{
    for (int i = 0; i < s->nworkers; i++)
        if (!worker_idle(s->workers[i]))
            return false;
    return true;
}

int server_workers(const struct server *s)
{
    return s->nworkers;
}
