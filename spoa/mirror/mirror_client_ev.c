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
#include "core/list.h"
#include "core/xalloc.h"
#include "mirror/tls_conn.h"

/* Period of the sweep that expires queued requests. */
#define SWEEP_PERIOD_S 0.25

/* The transport of one client. */
struct ev_transport {
    struct ev_loop *loop;
    ev_timer sweep;
    /* The sweep defer() asks for runs once the loop has served the ready
     * events of its iteration, before it waits for more (a prepare watcher);
     * asked again from that sweep, it runs at the next iteration (a zero
     * timer), so that deferred work never waits for new events. */
    ev_prepare before_wait;
    ev_timer kick;
    bool in_prepare; /* before_wait or lazy_pass is running */
    struct mirror_client *client;
    const struct tls_client *tls; /* https: borrowed; NULL for plain HTTP */
    struct tls_resume resume;     /* the session the next TLS connection offers */
    struct mirror_counters *ctr;
    const struct logger *log;
    const char *name;
    /* Lazy reads (MIRROR_WATCH_LAZY): connections awaiting answers are
     * parked, out of epoll, and read by lazy_pass before a wait of the loop
     * (i.e. when the thread woke for other work) once read_delay has passed
     * since their last read, so that one read takes the answers of several
     * wake-ups. lazy_idle fires when the loop has had no iteration for
     * read_delay: it reads the parked connections itself; those with
     * nothing to read go back to epoll (LAZY_WATCHED). An answer thus waits
     * at most about read_delay, whether or not the thread is busy. */
    double read_delay_s; /* 0: no lazy reads */
    bool lazy_idle_read; /* lazy_idle is reading: a read finding nothing unparks */
    ev_prepare lazy_pass;
    ev_timer lazy_idle;
    struct list_node parked; /* ev_conn.lazy_node */
    /* defer_until(): the sweep runs before the first wait of the loop past
     * held_until (held_pass), or from held_late when nothing wakes the
     * thread until then and as long again. */
    uint64_t held_until; /* 0: none asked */
    ev_prepare held_pass;
    ev_timer held_late;
};

/* A connection's lazy-read state. */
enum lazy_state {
    LAZY_OFF,     /* watched as asked */
    LAZY_PARKED,  /* in t->parked, out of epoll */
    LAZY_WATCHED, /* lazy, but back in epoll: the thread was idle for read_delay */
};

/* What the transport keeps in each connection (mirror_conn_data()). */
struct ev_conn {
    ev_io io;
    ev_timer timer;
    ev_timer tls_kick; /* a zero timer: TLS work that socket readiness will not report */
    struct ev_transport *t;
    struct mirror_conn *conn;
    int fd;
    bool connecting;          /* the next readiness ends the connect */
    bool handshaking;         /* TLS: connected, handshake under way */
    bool read_wants_write;    /* TLS: the last read waits for writability */
    bool write_wants_read;    /* TLS: the last write waits for readability */
    unsigned watched;         /* MIRROR_WATCH_* the client asked for */
    enum mirror_drop refused; /* TLS: a refusal to report from tls_kick; NONE when none */
    struct tls_conn *tls;
    enum lazy_state lazy;
    struct list_node lazy_node; /* in t->parked while LAZY_PARKED */
    unsigned lazy_iter;         /* the loop iteration that last read it (or parked it) */
    ev_tstamp lazy_at;          /* when it was last read (or parked) */
    bool timeout_grace;         /* its timer fired while lazy: read first, time out next */
};

static struct ev_conn *ev_conn_of(struct mirror_conn *conn)
{
    return mirror_conn_data(conn);
}

/* Watches exactly <ev> (EV_READ | EV_WRITE) on the connection's socket. */
static void io_set(struct ev_transport *t, struct ev_conn *e, int ev)
{
    if (ev_is_active(&e->io) && (e->io.events & (EV_READ | EV_WRITE)) == ev)
        return; /* already watching for exactly that: no epoll_ctl */
    ev_io_stop(t->loop, &e->io);
    if (ev == 0)
        return;
    ev_io_set(&e->io, e->fd, ev);
    ev_io_start(t->loop, &e->io);
}

/* Takes <e> out of the parked list, back to plain watching (not applied). */
static void lazy_leave(struct ev_conn *e)
{
    if (e->lazy == LAZY_PARKED)
        list_remove(&e->lazy_node);
    e->lazy = LAZY_OFF;
}

/* Parks <e>: out of epoll, read by the passes from the next iteration on. */
static void lazy_park(struct ev_transport *t, struct ev_conn *e)
{
    if (e->lazy != LAZY_PARKED)
        list_push_back(&t->parked, &e->lazy_node);
    e->lazy = LAZY_PARKED;
    e->lazy_iter = ev_iteration(t->loop);
    e->lazy_at = ev_now(t->loop);
    io_set(t, e, 0);
    if (!ev_is_active(&t->lazy_pass))
        ev_prepare_start(t->loop, &t->lazy_pass);
    ev_timer_again(t->loop, &t->lazy_idle);
}

/* Watches what the client asked for, plus what a TLS read or write waits
 * for; a lazy read alone parks the connection (or keeps it as it is). */
static void io_apply(struct ev_transport *t, struct ev_conn *e)
{
    if (e->refused != MIRROR_DROP_NONE) {
        lazy_leave(e);
        io_set(t, e, 0);
        return;
    }
    if (t->read_delay_s > 0 && e->watched == (MIRROR_WATCH_READ | MIRROR_WATCH_LAZY) &&
        !e->read_wants_write && !e->write_wants_read) {
        if (e->lazy == LAZY_OFF)
            lazy_park(t, e);
        else if (e->lazy == LAZY_WATCHED)
            io_set(t, e, EV_READ);
        return;
    }
    lazy_leave(e);
    int ev =
        ((e->watched & MIRROR_WATCH_READ) ? EV_READ : 0) | ((e->watched & MIRROR_WATCH_WRITE) ? EV_WRITE : 0);
    ev |= (e->read_wants_write ? EV_WRITE : 0) | (e->write_wants_read ? EV_READ : 0);
    io_set(t, e, ev);
}

/* TLS: schedules tls_kick for the next loop iteration. */
static void kick_conn(struct ev_transport *t, struct ev_conn *e)
{
    if (!ev_is_active(&e->tls_kick)) {
        ev_timer_set(&e->tls_kick, 0., 0.);
        ev_timer_start(t->loop, &e->tls_kick);
    }
}

/* TLS: a handshake step; reports the end of the connect when it ends. */
static void handshake(struct ev_transport *t, struct ev_conn *e)
{
    enum tls_step step = tls_conn_handshake(e->tls);
    switch (step) {
    case TLS_STEP_WANT_READ:
        io_set(t, e, EV_READ);
        return;
    case TLS_STEP_WANT_WRITE:
        io_set(t, e, EV_WRITE);
        return;
    case TLS_STEP_DONE:
        e->handshaking = false;
        counter_inc(&t->ctr->tls_handshakes);
        if (tls_conn_resumed(e->tls))
            counter_inc(&t->ctr->tls_resumed);
        mirror_client_on_connected(e->conn, 0);
        return;
    case TLS_STEP_FAILED:
    case TLS_STEP_UNVERIFIED:
        break;
    }
    bool unverified = step == TLS_STEP_UNVERIFIED;
    if (tls_conn_alpn_refused(e->tls))
        log_event(
            t->log, LOG_LVL_WARN, "alpn_refused",
            "mirror=%s reason=tls_handshake selected=\"\" error=\"the server speaks none of the protocols "
            "offered (ALPN): protocol h2 needs an HTTP/2 server\"",
            t->name);
    log_event(t->log, LOG_LVL_DEBUG, "tls_failed", "mirror=%s reason=%s error=\"%s\"", t->name,
              unverified ? "tls_verify" : "tls_handshake", tls_conn_error(e->tls));
    mirror_client_on_setup_failed(e->conn, unverified ? MIRROR_DROP_TLS_VERIFY : MIRROR_DROP_TLS_HANDSHAKE);
}

/* The TCP connect ended: plain HTTP is connected; TLS starts its handshake. */
static void connect_done(struct ev_transport *t, struct ev_conn *e)
{
    e->connecting = false;
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
        err = errno;
    if (err != 0 || !t->tls) {
        mirror_client_on_connected(e->conn, err);
        return;
    }
    e->tls = tls_conn_new(t->tls, e->fd, &t->resume);
    if (!e->tls) {
        mirror_client_on_setup_failed(e->conn, MIRROR_DROP_TLS_HANDSHAKE);
        return;
    }
    e->handshaking = true;
    handshake(t, e);
}

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct ev_conn *e = CONTAINER_OF(io, struct ev_conn, io);
    struct ev_transport *t = e->t;
    (void)loop;
    if (e->connecting) {
        connect_done(t, e);
    } else if (e->handshaking) {
        handshake(t, e);
    } else if (e->read_wants_write && (revents & EV_WRITE)) {
        e->read_wants_write = false;
        io_apply(t, e);
        mirror_client_on_readable(e->conn);
    } else if (e->write_wants_read && (revents & EV_READ)) {
        e->write_wants_read = false;
        io_apply(t, e);
        mirror_client_on_writable(e->conn);
    } else if (revents & EV_WRITE) {
        mirror_client_on_writable(e->conn);
    } else {
        if (e->lazy == LAZY_WATCHED)
            lazy_park(t, e); /* answers flow again: read them with the other work */
        mirror_client_on_readable(e->conn);
    }
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct ev_conn *e = CONTAINER_OF(w, struct ev_conn, timer);
    (void)revents;
    if (e->lazy != LAZY_OFF && !e->timeout_grace) {
        /* An answer may be waiting unread, parked or back in epoll but not
         * yet reported (libev may run this before the readiness of the same
         * iteration): read it first, and time out at the next iteration only
         * if the client did not re-arm the timer. */
        e->timeout_grace = true;
        ev_timer_set(&e->timer, 0., 0.);
        ev_timer_start(loop, &e->timer);
        mirror_client_on_readable(e->conn);
        return;
    }
    e->timeout_grace = false;
    if (e->handshaking) /* the connect timeout bounds the handshake too */
        mirror_client_on_setup_failed(e->conn, MIRROR_DROP_TLS_HANDSHAKE);
    else
        mirror_client_on_timeout(e->conn);
}

/* TLS work the socket's readiness does not report: a refusal read before
 * any response byte, or decrypted bytes waiting inside the connection. */
static void conn_tls_kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct ev_conn *e = CONTAINER_OF(w, struct ev_conn, tls_kick);
    (void)loop;
    (void)revents;
    if (e->refused != MIRROR_DROP_NONE)
        mirror_client_on_setup_failed(e->conn, e->refused);
    else if ((e->watched & MIRROR_WATCH_READ) && tls_conn_pending(e->tls))
        mirror_client_on_readable(e->conn);
}

static enum mirror_connect tr_connect(void *ctx, struct mirror_conn *conn, const struct sockaddr *sa,
                                      socklen_t salen, int *err)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        *err = errno;
        return MIRROR_CONNECT_NO_SOCKET;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct ev_conn *e = ev_conn_of(conn);
    e->t = ctx;
    e->conn = conn;
    e->fd = fd;
    e->refused = MIRROR_DROP_NONE;
    list_init(&e->lazy_node);
    ev_io_init(&e->io, conn_io_cb, fd, EV_WRITE);
    ev_timer_init(&e->timer, conn_timer_cb, 0., 0.);
    ev_timer_init(&e->tls_kick, conn_tls_kick_cb, 0., 0.);
    if (connect(fd, sa, salen) == -1 && errno != EINPROGRESS) {
        *err = errno;
        return MIRROR_CONNECT_FAILED;
    }
    e->connecting = true;
    return MIRROR_CONNECT_STARTED;
}

/* TLS: the mirror_transport value of the result <n> of a TLS read (when
 * <reading>) or write. A read that waits for readability, or a write for
 * writability, waits for what the client watches anyway; the crossed cases
 * add to it. */
static ssize_t tls_result(struct ev_transport *t, struct ev_conn *e, ssize_t n, bool reading)
{
    switch (n) {
    case TLS_IO_WANT_READ:
        if (!reading) {
            e->write_wants_read = true;
            io_apply(t, e);
        }
        return MIRROR_IO_AGAIN;
    case TLS_IO_WANT_WRITE:
        if (reading) {
            e->read_wants_write = true;
            io_apply(t, e);
        }
        return MIRROR_IO_AGAIN;
    case TLS_IO_REFUSED:
        /* Reported as a failed setup from tls_kick: hooks never call back
         * into the client. */
        log_event(t->log, LOG_LVL_DEBUG, "tls_failed", "mirror=%s reason=tls_handshake error=\"%s\"", t->name,
                  tls_conn_error(e->tls));
        e->refused = MIRROR_DROP_TLS_HANDSHAKE;
        io_apply(t, e);
        kick_conn(t, e);
        return MIRROR_IO_AGAIN;
    case TLS_IO_ERROR:
        return MIRROR_IO_ERROR;
    default:
        return n;
    }
}

static void kick_next_iteration(struct ev_transport *t);

/* A read of the parked <e> filled the buffer: more may wait, and the next
 * pass reads it again (first) without waiting for a wake-up. */
static void lazy_read_full(struct ev_transport *t, struct ev_conn *e)
{
    if (e->lazy != LAZY_PARKED)
        return;
    e->lazy_at = 0;
    list_remove(&e->lazy_node);
    list_push_front(&t->parked, &e->lazy_node);
    kick_next_iteration(t);
}

/* A read of <e> found nothing: read by lazy_idle, it goes back to epoll
 * (the answers it awaits have not come; the thread is idle). */
static void lazy_read_empty(struct ev_transport *t, struct ev_conn *e)
{
    if (!t->lazy_idle_read || e->lazy != LAZY_PARKED)
        return;
    list_remove(&e->lazy_node);
    e->lazy = LAZY_WATCHED;
    io_set(t, e, EV_READ);
}

static ssize_t tr_send(void *ctx, struct mirror_conn *conn, const uint8_t *p, size_t len)
{
    struct ev_conn *e = ev_conn_of(conn);
    if (e->tls) {
        if (e->refused != MIRROR_DROP_NONE)
            return MIRROR_IO_AGAIN;
        e->write_wants_read = false;
        return tls_result(ctx, e, tls_conn_write(e->tls, p, len), false);
    }
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
    struct ev_conn *e = ev_conn_of(conn);
    if (e->tls) {
        if (e->refused != MIRROR_DROP_NONE)
            return MIRROR_IO_AGAIN;
        e->read_wants_write = false;
        /* One record per TLS read: read on while there is room, so that a
         * short count means the socket is drained, as for plain TCP. */
        size_t got = 0;
        while (got < cap) {
            ssize_t n = tls_result(ctx, e, tls_conn_read(e->tls, buf + got, cap - got), true);
            if (n <= 0) {
                if (got == 0 && n == MIRROR_IO_AGAIN)
                    lazy_read_empty(ctx, e);
                if (got == 0)
                    return n;
                break; /* what stopped it comes again at the next read */
            }
            got += (size_t)n;
        }
        if (tls_conn_pending(e->tls))
            kick_conn(ctx, e); /* in case the client's read budget ends here */
        if (got == cap)
            lazy_read_full(ctx, e);
        return (ssize_t)got;
    }
    for (;;) {
        ssize_t n = recv(ev_conn_of(conn)->fd, buf, cap, 0);
        if (n > 0 && (size_t)n == cap)
            lazy_read_full(ctx, e);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return MIRROR_IO_ERROR;
        lazy_read_empty(ctx, e);
        return MIRROR_IO_AGAIN;
    }
}

static void tr_watch(void *ctx, struct mirror_conn *conn, unsigned events)
{
    struct ev_transport *t = ctx;
    struct ev_conn *e = ev_conn_of(conn);
    e->watched = events;
    if (e->handshaking)
        return; /* the handshake watches what it needs; the client is told at its end */
    io_apply(t, e);
    if (e->tls && (events & MIRROR_WATCH_READ) && tls_conn_pending(e->tls))
        kick_conn(t, e);
}

static void tr_arm_timer(void *ctx, struct mirror_conn *conn, uint32_t ms)
{
    struct ev_transport *t = ctx;
    struct ev_conn *e = ev_conn_of(conn);
    e->timeout_grace = false;
    ev_timer_stop(t->loop, &e->timer);
    ev_timer_set(&e->timer, ms / 1000.0, 0.);
    ev_timer_start(t->loop, &e->timer);
}

static void tr_close(void *ctx, struct mirror_conn *conn)
{
    struct ev_transport *t = ctx;
    struct ev_conn *e = ev_conn_of(conn);
    lazy_leave(e);
    ev_io_stop(t->loop, &e->io);
    ev_timer_stop(t->loop, &e->timer);
    ev_timer_stop(t->loop, &e->tls_kick);
    tls_conn_free(e->tls);
    close(e->fd);
}

/* A sweep at the next iteration, which will not wait for events. */
static void kick_next_iteration(struct ev_transport *t)
{
    if (!ev_is_active(&t->kick)) {
        ev_timer_set(&t->kick, 0., 0.);
        ev_timer_start(t->loop, &t->kick);
    }
}

static void tr_defer(void *ctx)
{
    struct ev_transport *t = ctx;
    /* From a prepare watcher, one started now would run only after the next
     * wait: the next iteration instead. */
    if (t->in_prepare)
        kick_next_iteration(t);
    else if (!ev_is_active(&t->before_wait))
        ev_prepare_start(t->loop, &t->before_wait);
}

static void tr_defer_until(void *ctx, uint64_t at_ns)
{
    struct ev_transport *t = ctx;
    if (t->held_until != 0 && t->held_until <= at_ns)
        return;
    t->held_until = at_ns;
    uint64_t now = mono_ns();
    double ahead_s = at_ns > now ? (double)(at_ns - now) / 1e9 : 0.;
    if (!ev_is_active(&t->held_pass))
        ev_prepare_start(t->loop, &t->held_pass);
    ev_timer_stop(t->loop, &t->held_late);
    ev_timer_set(&t->held_late, 2 * ahead_s, 0.);
    ev_timer_start(t->loop, &t->held_late);
}

/* The sweep defer_until() asked for; <in_prepare> when run from held_pass. */
static void held_sweep(struct ev_transport *t, bool in_prepare)
{
    ev_prepare_stop(t->loop, &t->held_pass);
    ev_timer_stop(t->loop, &t->held_late);
    t->held_until = 0;
    t->in_prepare = in_prepare;
    mirror_client_sweep(t->client);
    t->in_prepare = false;
}

static uint64_t tr_now_ns(void *ctx)
{
    (void)ctx;
    return mono_ns();
}

static const char *tr_alpn(void *ctx, struct mirror_conn *conn)
{
    (void)ctx;
    struct ev_conn *e = ev_conn_of(conn);
    return e->tls ? tls_conn_alpn(e->tls) : NULL;
}

static void tr_release(void *ctx)
{
    struct ev_transport *t = ctx;
    ev_timer_stop(t->loop, &t->sweep);
    ev_timer_stop(t->loop, &t->kick);
    ev_prepare_stop(t->loop, &t->before_wait);
    ev_prepare_stop(t->loop, &t->lazy_pass);
    ev_timer_stop(t->loop, &t->lazy_idle);
    ev_prepare_stop(t->loop, &t->held_pass);
    ev_timer_stop(t->loop, &t->held_late);
    tls_resume_clear(&t->resume);
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
    .defer_until = tr_defer_until,
    .now_ns = tr_now_ns,
    .release = tr_release,
    .alpn = tr_alpn,
};

static void sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct ev_transport *t = CONTAINER_OF(w, struct ev_transport, sweep);
    (void)loop;
    (void)revents;
    mirror_client_sweep(t->client);
}

static void before_wait_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct ev_transport *t = CONTAINER_OF(w, struct ev_transport, before_wait);
    (void)revents;
    ev_prepare_stop(loop, w);
    t->in_prepare = true;
    mirror_client_sweep(t->client);
    t->in_prepare = false;
}

static void kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct ev_transport *t = CONTAINER_OF(w, struct ev_transport, kick);
    (void)loop;
    (void)revents;
    mirror_client_sweep(t->client);
}

/* Before every wait while a sweep is asked for a time: runs it once due. */
static void held_pass_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct ev_transport *t = CONTAINER_OF(w, struct ev_transport, held_pass);
    (void)loop;
    (void)revents;
    if (mono_ns() >= t->held_until)
        held_sweep(t, true);
}

/* Nothing woke the thread past the time asked: the sweep runs now. */
static void held_late_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct ev_transport *t = CONTAINER_OF(w, struct ev_transport, held_late);
    (void)loop;
    (void)revents;
    held_sweep(t, false);
}

/* Reads the parked connections due (the front of t->parked): not read in
 * this iteration, and not within read_delay unless <any>. Read connections
 * move to the back with this iteration's stamps, as do those parked
 * meanwhile: the front is the next one due. */
static void lazy_read_due(struct ev_transport *t, bool any)
{
    unsigned iter = ev_iteration(t->loop);
    ev_tstamp now = ev_now(t->loop);
    struct list_node *n;
    while ((n = list_first(&t->parked)) != NULL) {
        struct ev_conn *e = CONTAINER_OF(n, struct ev_conn, lazy_node);
        if (e->lazy_iter == iter || (!any && now - e->lazy_at < t->read_delay_s))
            break;
        e->lazy_iter = iter;
        e->lazy_at = now;
        list_remove(n);
        list_push_back(&t->parked, n);
        mirror_client_on_readable(e->conn);
    }
}

/* Before every wait: reads the parked connections due. Runs after the
 * thread's other prepare watchers (lowest priority). */
static void lazy_pass_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct ev_transport *t = CONTAINER_OF(w, struct ev_transport, lazy_pass);
    (void)revents;
    t->in_prepare = true;
    lazy_read_due(t, false);
    t->in_prepare = false;
    if (list_empty(&t->parked)) {
        ev_prepare_stop(loop, w);
        ev_timer_stop(loop, &t->lazy_idle);
        return;
    }
    ev_timer_again(loop, &t->lazy_idle); /* the thread is awake: the next pass is near */
}

/* The loop waited read_delay with connections parked: they are read now;
 * those with nothing to read go back to epoll, so that an idle thread reads
 * their answers as they come. */
static void lazy_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct ev_transport *t = CONTAINER_OF(w, struct ev_transport, lazy_idle);
    (void)revents;
    t->lazy_idle_read = true;
    lazy_read_due(t, true);
    t->lazy_idle_read = false;
    if (list_empty(&t->parked))
        ev_timer_stop(loop, w);
}

struct mirror_client *mirror_client_new(struct ev_loop *loop, const struct mirror_client_settings *set,
                                        struct target_addr *addr, struct mirror_counters *ctr,
                                        const struct logger *log, const struct tls_client *tls)
{
    struct ev_transport *t = xcalloc(1, sizeof(*t));
    t->loop = loop;
    t->tls = tls;
    t->ctr = ctr;
    t->log = log;
    t->name = set->name ? set->name : "";
    ev_timer_init(&t->kick, kick_cb, 0., 0.);
    ev_prepare_init(&t->before_wait, before_wait_cb);
    t->read_delay_s = set->read_delay_ms / 1000.0;
    list_init(&t->parked);
    ev_prepare_init(&t->lazy_pass, lazy_pass_cb);
    ev_set_priority(&t->lazy_pass, EV_MINPRI);
    ev_timer_init(&t->lazy_idle, lazy_idle_cb, 0., t->read_delay_s);
    ev_prepare_init(&t->held_pass, held_pass_cb);
    ev_timer_init(&t->held_late, held_late_cb, 0., 0.);
    t->client = mirror_client_create(set, addr, ctr, log, &ev_transport_ops, t);
    ev_timer_init(&t->sweep, sweep_cb, SWEEP_PERIOD_S, SWEEP_PERIOD_S);
    ev_timer_start(loop, &t->sweep);
    return t->client;
}
