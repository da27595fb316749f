#include "mirror/mirror_client_ev.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "core/clock.h"
#include "core/container_of.h"
#include "core/xalloc.h"

/* Period of the sweep that expires queued requests. */
#define SWEEP_PERIOD_S 0.25

/* The transport of one client. */
struct ev_transport {
    struct ev_loop *loop;
    ev_timer sweep;
    ev_timer kick; /* a zero timer: the sweep defer() asks for, next iteration */
    struct mirror_client *client;
};

/* What the transport keeps in each connection (mirror_conn_data()). */
struct ev_conn {
    ev_io io;
    ev_timer timer;
    struct mirror_conn *conn;
    int fd;
    bool connecting; /* the next readiness ends the connect */
};

static struct ev_conn *ev_conn_of(struct mirror_conn *conn)
{
    return mirror_conn_data(conn);
}

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct ev_conn *e = CONTAINER_OF(io, struct ev_conn, io);
    (void)loop;
    if (e->connecting) {
        e->connecting = false;
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
            err = errno;
        mirror_client_on_connected(e->conn, err);
    } else if (revents & EV_WRITE) {
        mirror_client_on_writable(e->conn);
    } else {
        mirror_client_on_readable(e->conn);
    }
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct ev_conn *e = CONTAINER_OF(t, struct ev_conn, timer);
    (void)loop;
    (void)revents;
    mirror_client_on_timeout(e->conn);
}

static enum mirror_connect tr_connect(void *ctx, struct mirror_conn *conn, const struct sockaddr *sa,
                                      socklen_t salen, int *err)
{
    (void)ctx;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        *err = errno;
        return MIRROR_CONNECT_NO_SOCKET;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct ev_conn *e = ev_conn_of(conn);
    e->conn = conn;
    e->fd = fd;
    ev_io_init(&e->io, conn_io_cb, fd, EV_WRITE);
    ev_timer_init(&e->timer, conn_timer_cb, 0., 0.);
    if (connect(fd, sa, salen) == -1 && errno != EINPROGRESS) {
        *err = errno;
        return MIRROR_CONNECT_FAILED;
    }
    e->connecting = true;
    return MIRROR_CONNECT_STARTED;
}

static ssize_t tr_send(void *ctx, struct mirror_conn *conn, const uint8_t *p, size_t len)
{
    (void)ctx;
    for (;;) {
        ssize_t n = send(ev_conn_of(conn)->fd, p, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? MIRROR_IO_AGAIN : MIRROR_IO_ERROR;
    }
}

static ssize_t tr_recv(void *ctx, struct mirror_conn *conn, uint8_t *buf, size_t cap)
{
    (void)ctx;
    for (;;) {
        ssize_t n = recv(ev_conn_of(conn)->fd, buf, cap, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? MIRROR_IO_AGAIN : MIRROR_IO_ERROR;
    }
}

static void tr_watch(void *ctx, struct mirror_conn *conn, unsigned events)
{
    struct ev_transport *t = ctx;
    struct ev_conn *e = ev_conn_of(conn);
    int ev = ((events & MIRROR_WATCH_READ) ? EV_READ : 0) | ((events & MIRROR_WATCH_WRITE) ? EV_WRITE : 0);
    if (ev_is_active(&e->io) && (e->io.events & (EV_READ | EV_WRITE)) == ev)
        return; /* already watching for exactly that: no epoll_ctl */
    ev_io_stop(t->loop, &e->io);
    ev_io_set(&e->io, e->fd, ev);
    ev_io_start(t->loop, &e->io);
}

static void tr_arm_timer(void *ctx, struct mirror_conn *conn, uint32_t ms)
{
    struct ev_transport *t = ctx;
    struct ev_conn *e = ev_conn_of(conn);
    ev_timer_stop(t->loop, &e->timer);
    ev_timer_set(&e->timer, ms / 1000.0, 0.);
    ev_timer_start(t->loop, &e->timer);
}

static void tr_close(void *ctx, struct mirror_conn *conn)
{
    struct ev_transport *t = ctx;
    struct ev_conn *e = ev_conn_of(conn);
    ev_io_stop(t->loop, &e->io);
    ev_timer_stop(t->loop, &e->timer);
    close(e->fd);
}

static void tr_defer(void *ctx)
{
    struct ev_transport *t = ctx;
    if (!ev_is_active(&t->kick)) {
        ev_timer_set(&t->kick, 0., 0.);
        ev_timer_start(t->loop, &t->kick);
    }
}

static uint64_t tr_now_ns(void *ctx)
{
    (void)ctx;
    return mono_ns();
}

static void tr_release(void *ctx)
{
    struct ev_transport *t = ctx;
    ev_timer_stop(t->loop, &t->sweep);
    ev_timer_stop(t->loop, &t->kick);
    free(t);
}

static const struct mirror_transport ev_transport_ops = {
    .conn_size = sizeof(struct ev_conn),
    .connect = tr_connect,
    .send = tr_send,
    .recv = tr_recv,
    .watch = tr_watch,
    .arm_timer = tr_arm_timer,
    .close = tr_close,
    .defer = tr_defer,
    .now_ns = tr_now_ns,
    .release = tr_release,
};

static void sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct ev_transport *t = CONTAINER_OF(w, struct ev_transport, sweep);
    (void)loop;
    (void)revents;
    mirror_client_sweep(t->client);
}

static void kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct ev_transport *t = CONTAINER_OF(w, struct ev_transport, kick);
    (void)loop;
    (void)revents;
    mirror_client_sweep(t->client);
}

struct mirror_client *mirror_client_new(struct ev_loop *loop, const struct mirror_client_settings *set,
                                        struct target_addr *addr, struct mirror_counters *ctr,
                                        const struct logger *log)
{
    struct ev_transport *t = xcalloc(1, sizeof(*t));
    t->loop = loop;
    ev_timer_init(&t->kick, kick_cb, 0., 0.);
    t->client = mirror_client_create(set, addr, ctr, log, &ev_transport_ops, t);
    ev_timer_init(&t->sweep, sweep_cb, SWEEP_PERIOD_S, SWEEP_PERIOD_S);
    ev_timer_start(loop, &t->sweep);
    return t->client;
}
