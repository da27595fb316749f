#include "app/worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "core/container_of.h"
#include "core/list.h"
#include "core/net.h"
#include "mirror/mirror_seam.h"
#include "spop/spop_conn.h"
#include "spop/spop_proto.h"
#include "core/xalloc.h"

/* Connections accepted per readiness event, so that one burst does not starve the loop. */
#define ACCEPTS_PER_EVENT 32
/* Pause of the accept watcher when the process is out of file descriptors. */
#define ACCEPT_BACKOFF_S 0.1
/* Period of the sweep: idle SPOP connections, retired engines, idleness,
 * expired comparisons. */
#define SWEEP_PERIOD_S 0.25

struct worker_conn {
    ev_io io;
    struct worker *worker;
    struct list_node link;   /* in worker.conns */
    struct list_node due;    /* in worker.due while its ACKed batch awaits dispatch */
    ev_tstamp last_activity; /* last I/O event: bytes read or written */
    bool timed_out;          /* the idle timeout was counted */
    uint64_t id;
    char peer[64];
    struct spop_conn conn;
};

/* An engine of a previous configuration, finishing its mirror requests. */
struct retired_engine {
    struct mirror_engine *engine;
    struct list_node link; /* in worker.retired */
};

struct worker {
    int id;
    pthread_t thread;
    int started;
    struct ev_loop *loop;
    ev_io accept_w;
    ev_timer accept_backoff_w;
    ev_timer sweep_w;
    ev_timer compare_more_w; /* a zero timer: the comparisons' sweep goes on next iteration */
    /* After the loop has served every ready connection (the lowest
     * priority check watcher), their ACKed batches go to the mirrors: an
     * ACK never waits for another connection's mirroring. Always active:
     * libev queues check watchers before it runs the iteration's callbacks,
     * so one started from a callback would wait for the next wake-up. */
    ev_check dispatch_w;
    struct list_node due; /* struct worker_conn.due */
    ev_async stop_w;
    ev_async reload_w;
    ev_async drain_w;
    struct worker_shared *shared;
    struct list_node conns; /* struct worker_conn, newest first */
    uint64_t next_conn_id;
    struct agent_stats stats;
    struct mirror_engine *engine; /* the current configuration's */
    struct list_node retired;     /* struct retired_engine, newest first */
    bool draining;
    atomic_bool idle;
    pthread_mutex_t mailbox_lock;
    struct mirror_runtime *mailbox; /* a new runtime waiting to be taken */
    uint64_t seed;
};

static void conn_close(struct worker *w, struct worker_conn *wc)
{
    struct spop_conn *c = &wc->conn;
    spop_conn_dispatch(c); /* what was ACKed is mirrored */
    list_remove(&wc->due);
    ev_io_stop(w->loop, &wc->io);
    enum log_level lvl = c->end == SPOP_CONN_END_IO ? LOG_LVL_WARN : LOG_LVL_DEBUG;
    if (c->session.error > 0)
        lvl = LOG_LVL_WARN;
    const char *reason = c->session.healthcheck ? "healthcheck" : spop_conn_end_str(c->end);
    log_event(w->shared->log, lvl, "spop_close",
              "worker=%d conn=%llu peer=%s reason=%s status=%d detail=\"%s\" peer_status=%d errno=\"%s\"",
              w->id, (unsigned long long)wc->id, wc->peer, reason, c->session.error,
              c->session.error_detail ? c->session.error_detail : "", c->session.peer_status,
              c->io_errno ? strerror(c->io_errno) : "");
    spop_conn_deinit(c);
    list_remove(&wc->link);
    atomic_fetch_sub(&w->shared->connections, 1);
    counter_inc(&w->stats.conn_closed);
    counter_add(&w->stats.conn_current, (uint64_t)-1);
    free(wc);
}

/* Points the io watcher at what the connection wants, or closes it. */
static void conn_apply_interest(struct worker *w, struct worker_conn *wc, int want)
{
    if (want & SPOP_CONN_CLOSE) {
        conn_close(w, wc);
        return;
    }
    int events =
        ((want & SPOP_CONN_WANT_READ) ? EV_READ : 0) | ((want & SPOP_CONN_WANT_WRITE) ? EV_WRITE : 0);
    if (events == (wc->io.events & (EV_READ | EV_WRITE)))
        return;
    ev_io_stop(w->loop, &wc->io);
    ev_io_set(&wc->io, wc->conn.fd, events);
    if (events)
        ev_io_start(w->loop, &wc->io);
}

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct worker_conn *wc = CONTAINER_OF(io, struct worker_conn, io);
    struct worker *w = wc->worker;
    int want = spop_conn_interest(&wc->conn);
    wc->last_activity = ev_now(loop);
    if (revents & EV_WRITE)
        want = spop_conn_on_writable(&wc->conn);
    if ((revents & EV_READ) && !(want & SPOP_CONN_CLOSE))
        want = spop_conn_on_readable(&wc->conn);
    if (spop_conn_dispatch_due(&wc->conn) && list_empty(&wc->due))
        list_push_back(&w->due, &wc->due);
    conn_apply_interest(w, wc, want);
}

/* Hands every ACKed batch to the engine that decided it. */
static void dispatch_due(struct worker *w)
{
    struct list_node *n;
    while ((n = list_first(&w->due)) != NULL) {
        struct worker_conn *wc = list_entry(n, struct worker_conn, due);
        list_remove(n);
        conn_apply_interest(w, wc, spop_conn_dispatch(&wc->conn));
    }
}

static void dispatch_cb(struct ev_loop *loop, ev_check *c, int revents)
{
    (void)loop;
    (void)revents;
    dispatch_due(CONTAINER_OF(c, struct worker, dispatch_w));
}

/* The sessions' seam goes through the worker's engine pointer, so that a
 * reload switches every connection, old or new, to the new engine between
 * two NOTIFY batches. */
static struct spop_notify_handler worker_seam(struct worker *w)
{
    return mirror_seam_handler(&w->engine);
}

static void conn_open(struct worker *w, int fd)
{
    unsigned count = atomic_fetch_add(&w->shared->connections, 1) + 1;
    if (w->shared->max_connections && count > w->shared->max_connections) {
        atomic_fetch_sub(&w->shared->connections, 1);
        counter_inc(&w->stats.conn_rejected);
        log_event(w->shared->log, LOG_LVL_WARN, "spop_reject", "worker=%d reason=max_connections limit=%u",
                  w->id, w->shared->max_connections);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct worker_conn *wc = xcalloc(1, sizeof(*wc));
    wc->worker = w;
    wc->id = ++w->next_conn_id;
    wc->last_activity = ev_now(w->loop);
    net_peer_name(fd, wc->peer, sizeof(wc->peer));
    spop_conn_init(&wc->conn, fd, w->shared->max_frame, worker_seam(w), &w->stats);
    wc->conn.defer_dispatch = true;
    list_init(&wc->due);
    list_push_front(&w->conns, &wc->link);
    counter_inc(&w->stats.conn_accepted);
    counter_inc(&w->stats.conn_current);
    log_event(w->shared->log, LOG_LVL_DEBUG, "spop_accept", "worker=%d conn=%llu peer=%s", w->id,
              (unsigned long long)wc->id, wc->peer);
    ev_io_init(&wc->io, conn_io_cb, fd, EV_READ);
    /* HAProxy's connections first: libev serves the ready watchers of an
     * iteration by priority, and at equal priority it runs the timers that
     * fell due ahead of the sockets that became ready. The mirror clients'
     * timers and sockets (a response timeout, a held write, a read of
     * parked answers) must not run ahead of the ACKs of the NOTIFYs that
     * came in the same iteration. */
    ev_set_priority(&wc->io, EV_MAXPRI);
    ev_io_start(w->loop, &wc->io);
}

static void accept_backoff_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct worker *w = CONTAINER_OF(t, struct worker, accept_backoff_w);
    (void)revents;
    ev_io_start(loop, &w->accept_w);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct worker *w = CONTAINER_OF(io, struct worker, accept_w);
    (void)revents;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EINVAL) {
                ev_io_stop(loop, io); /* the listener was shut down: draining */
                return;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop polling the listener for a moment
                 * instead of spinning on a socket we cannot accept. */
                log_event(w->shared->log, LOG_LVL_WARN, "accept_error",
                          "worker=%d errno=\"%s\" backoff_ms=%d", w->id, strerror(errno),
                          (int)(ACCEPT_BACKOFF_S * 1000));
                ev_io_stop(loop, io);
                ev_timer_set(&w->accept_backoff_w, ACCEPT_BACKOFF_S, 0.);
                ev_timer_start(loop, &w->accept_backoff_w);
            }
            return; /* EAGAIN: another worker took it, or nothing left */
        }
        conn_open(w, fd);
    }
}

static void engine_release(struct mirror_engine *e)
{
    struct mirror_runtime *rt = mirror_engine_runtime(e);
    mirror_engine_free(e);
    atomic_fetch_sub(&rt->refs, 1);
}

/* Frees the retired engines that have nothing left in flight. */
static void sweep_retired(struct worker *w)
{
    struct list_node *it, *tmp;
    list_for_each_safe(it, tmp, &w->retired) {
        struct retired_engine *r = list_entry(it, struct retired_engine, link);
        if (mirror_engine_busy(r->engine))
            continue;
        list_remove(&r->link);
        engine_release(r->engine);
        free(r);
    }
}

/* Publishes whether the worker is done draining. Only a worker that has
 * processed the drain request reports idle: a value computed before it could
 * be stale by the time the main thread reads it (copies submitted since). */
static void update_idle(struct worker *w)
{
    atomic_store(&w->idle, w->draining && list_empty(&w->conns) && list_empty(&w->retired) &&
                               !mirror_engine_busy(w->engine));
}

/* Applies the idle timeout to <wc>, which saw no I/O for that long. A
 * connection still talking SPOP gets an AGENT-DISCONNECT (status 2); one
 * already closing whose goodbye could not be written in all that time (the
 * peer stopped reading) is reset, so a peer can never hold a slot forever. */
static void conn_idle_timeout(struct worker *w, struct worker_conn *wc)
{
    if (!wc->timed_out) {
        wc->timed_out = true;
        counter_inc(&w->stats.conn_idle_timeout);
    }
    if (spop_session_closing(&wc->conn.session)) {
        spop_conn_abort(&wc->conn, SPOP_CONN_END_TIMEOUT);
        conn_close(w, wc);
        return;
    }
    spop_session_fail(&wc->conn.session, SPOP_ERR_TOUT, "idle timeout", &wc->conn.out);
    conn_apply_interest(w, wc, spop_conn_on_writable(&wc->conn));
}

/* Finishes the comparisons whose match time passed, in the current
 * configuration's table and in the retired ones' (a batch per engine at a
 * time). When a batch was full, goes on at the loop's next iteration: a
 * burst of expiries neither waits for the next period nor holds the loop. */
static void sweep_compare(struct worker *w)
{
    bool more = mirror_engine_sweep(w->engine);
    struct list_node *it, *tmp;
    list_for_each_safe(it, tmp, &w->retired) {
        if (mirror_engine_sweep(list_entry(it, struct retired_engine, link)->engine))
            more = true;
    }
    if (more && !ev_is_active(&w->compare_more_w))
        ev_timer_start(w->loop, &w->compare_more_w);
}

static void compare_more_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    sweep_compare(CONTAINER_OF(t, struct worker, compare_more_w));
}

static void sweep_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct worker *w = CONTAINER_OF(t, struct worker, sweep_w);
    (void)revents;
    sweep_compare(w);
    sweep_retired(w);
    if (w->shared->idle_timeout_ms) {
        ev_tstamp now = ev_now(loop);
        double limit = w->shared->idle_timeout_ms / 1000.0;
        struct list_node *it, *tmp;
        list_for_each_safe(it, tmp, &w->conns) {
            struct worker_conn *wc = list_entry(it, struct worker_conn, link);
            if (now - wc->last_activity >= limit)
                conn_idle_timeout(w, wc);
        }
    }
    update_idle(w);
}

static void reload_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    struct worker *w = CONTAINER_OF(a, struct worker, reload_w);
    (void)revents;
    pthread_mutex_lock(&w->mailbox_lock);
    struct mirror_runtime *rt = w->mailbox;
    w->mailbox = NULL;
    pthread_mutex_unlock(&w->mailbox_lock);
    if (!rt)
        return;
    /* A batch is decided by the engine that ACKed it and submitted to the
     * same one: those ACKed in this iteration go before the switch. */
    dispatch_due(w);
    struct retired_engine *r = xcalloc(1, sizeof(*r));
    r->engine = w->engine;
    list_push_front(&w->retired, &r->link);
    w->engine = mirror_engine_new(loop, rt, w->id, w->shared->log, w->seed++, w->shared->max_request,
                                  w->shared->parts);
    sweep_retired(w);
}

static void drain_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    struct worker *w = CONTAINER_OF(a, struct worker, drain_w);
    (void)revents;
    if (w->draining)
        return;
    w->draining = true;
    ev_io_stop(loop, &w->accept_w);
    ev_timer_stop(loop, &w->accept_backoff_w);
    /* Every NOTIFY read so far has its ACK queued: say goodbye after it. */
    struct list_node *it, *tmp;
    list_for_each_safe(it, tmp, &w->conns) {
        struct worker_conn *wc = list_entry(it, struct worker_conn, link);
        if (!spop_session_closing(&wc->conn.session)) {
            spop_session_fail(&wc->conn.session, SPOP_ERR_NONE, "agent draining", &wc->conn.out);
            conn_apply_interest(w, wc, spop_conn_on_writable(&wc->conn));
        }
    }
    update_idle(w);
}

static void stop_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    struct worker *w = CONTAINER_OF(a, struct worker, stop_w);
    (void)revents;
    ev_io_stop(loop, &w->accept_w);
    ev_timer_stop(loop, &w->accept_backoff_w);
    ev_timer_stop(loop, &w->sweep_w);
    ev_timer_stop(loop, &w->compare_more_w);
    ev_check_stop(loop, &w->dispatch_w);
    ev_async_stop(loop, &w->reload_w);
    ev_async_stop(loop, &w->drain_w);
    while (!list_empty(&w->conns)) {
        struct worker_conn *wc = list_entry(list_first(&w->conns), struct worker_conn, link);
        wc->conn.end = SPOP_CONN_END_SHUTDOWN;
        conn_close(w, wc);
    }
    ev_async_stop(loop, a);
    ev_break(loop, EVBREAK_ALL);
}

struct worker *worker_new(int id, struct worker_shared *shared)
{
    struct worker *w = xcalloc(1, sizeof(*w));
    w->id = id;
    w->shared = shared;
    list_init(&w->conns);
    list_init(&w->retired);
    list_init(&w->due);
    w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    if (!w->loop) {
        log_event(shared->log, LOG_LVL_ERROR, "fatal", "reason=\"cannot create an event loop\"");
        abort();
    }
    if (getrandom(&w->seed, sizeof(w->seed), 0) != (ssize_t)sizeof(w->seed))
        w->seed = (uint64_t)time(NULL) ^ ((uint64_t)id << 32);
    pthread_mutex_init(&w->mailbox_lock, NULL);
    atomic_init(&w->idle, false);
    w->engine = mirror_engine_new(w->loop, shared->rt, id, shared->log, w->seed++, shared->max_request,
                                  shared->parts);
    ev_io_init(&w->accept_w, accept_cb, shared->listen_fd, EV_READ);
    ev_timer_init(&w->accept_backoff_w, accept_backoff_cb, ACCEPT_BACKOFF_S, 0.);
    ev_timer_init(&w->sweep_w, sweep_cb, SWEEP_PERIOD_S, SWEEP_PERIOD_S);
    ev_timer_init(&w->compare_more_w, compare_more_cb, 0., 0.);
    ev_check_init(&w->dispatch_w, dispatch_cb);
    ev_set_priority(&w->dispatch_w, EV_MINPRI);
    ev_check_start(w->loop, &w->dispatch_w);
    ev_async_init(&w->stop_w, stop_cb);
    ev_async_init(&w->reload_w, reload_cb);
    ev_async_init(&w->drain_w, drain_cb);
    ev_io_start(w->loop, &w->accept_w);
    ev_timer_start(w->loop, &w->sweep_w);
    ev_async_start(w->loop, &w->stop_w);
    ev_async_start(w->loop, &w->reload_w);
    ev_async_start(w->loop, &w->drain_w);
    return w;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    log_event(w->shared->log, LOG_LVL_DEBUG, "worker_start", "worker=%d", w->id);
    ev_run(w->loop, 0);
    return NULL;
}

int worker_start(struct worker *w)
{
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    w->started = rc == 0;
    return rc;
}

void worker_stop(struct worker *w)
{
    ev_async_send(w->loop, &w->stop_w);
}

void worker_set_runtime(struct worker *w, struct mirror_runtime *rt)
{
    pthread_mutex_lock(&w->mailbox_lock);
    struct mirror_runtime *unused = w->mailbox;
    w->mailbox = rt;
    pthread_mutex_unlock(&w->mailbox_lock);
    if (unused)
        atomic_fetch_sub(&unused->refs, 1); /* superseded before the worker took it */
    ev_async_send(w->loop, &w->reload_w);
}

void worker_drain(struct worker *w)
{
    ev_async_send(w->loop, &w->drain_w);
}

bool worker_idle(const struct worker *w)
{
    return atomic_load(&((struct worker *)w)->idle);
}

void worker_join(struct worker *w)
{
    if (w->started)
        pthread_join(w->thread, NULL);
    w->started = 0;
}

void worker_free(struct worker *w)
{
    if (!w)
        return;
    while (!list_empty(&w->conns))
        conn_close(w, list_entry(list_first(&w->conns), struct worker_conn, link));
    while (!list_empty(&w->retired)) {
        struct retired_engine *r = list_entry(list_first(&w->retired), struct retired_engine, link);
        list_remove(&r->link);
        engine_release(r->engine);
        free(r);
    }
    engine_release(w->engine);
    if (w->mailbox)
        atomic_fetch_sub(&w->mailbox->refs, 1);
    pthread_mutex_destroy(&w->mailbox_lock);
    ev_loop_destroy(w->loop);
    free(w);
}

const struct agent_stats *worker_stats(const struct worker *w)
{
    return &w->stats;
}
