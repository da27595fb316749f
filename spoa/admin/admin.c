#include "admin/admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "admin/admin_request.h"
#include "core/container_of.h"
#include "core/list.h"
#include "core/net.h"
#include "core/xalloc.h"

/* An admin client gets this long to send its request and read the answer. */
#define ADMIN_TIMEOUT_S 5.0

/* Each read asks for this much room in the input buffer (ADMIN_MAX_REQUEST
 * bytes at most): a request still incomplete once more than
 * ADMIN_MAX_REQUEST - ADMIN_READ_ROOM bytes have come is too large. */
#define ADMIN_READ_ROOM 1024

struct admin_conn {
    ev_io io;
    ev_timer timer;
    struct admin *admin;
    struct list_node link; /* in admin.conns */
    int fd;
    bool responding;
    struct admin_request req;
    struct buf in;
    struct buf out;
};

struct admin {
    struct ev_loop *loop;
    ev_io accept_w;
    int fd;
    struct admin_handlers h;
    const struct logger *log;
    struct list_node conns; /* struct admin_conn, newest first */
};

static void conn_free(struct admin_conn *c)
{
    struct admin *a = c->admin;
    ev_io_stop(a->loop, &c->io);
    ev_timer_stop(a->loop, &c->timer);
    close(c->fd);
    buf_free(&c->in);
    buf_free(&c->out);
    list_remove(&c->link);
    free(c);
}

static void respond(struct admin_conn *c, int status, const char *reason, const char *type, const void *body,
                    size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, reason, type, len);
    buf_append(&c->out, head, (size_t)n);
    buf_append(&c->out, body, len);
    c->responding = true;
}

static void respond_text(struct admin_conn *c, int status, const char *reason, const char *text)
{
    respond(c, status, reason, "text/plain; charset=utf-8", text, strlen(text));
}

static void dispatch(struct admin_conn *c)
{
    struct admin *a = c->admin;
    const struct admin_request *req = &c->req;
    struct buf body;
    char msg[4096];
    switch (admin_request_route(req)) {
    case ADMIN_ROUTE_URI_TOO_LONG:
        respond_text(c, 414, "URI Too Long", "URI too long\n");
        break;
    case ADMIN_ROUTE_METRICS:
        buf_init(&body, 64u * 1024u * 1024u);
        a->h.metrics(a->h.ctx, &body);
        respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", buf_peek(&body), body.len);
        buf_free(&body);
        break;
    case ADMIN_ROUTE_HEALTHZ:
        respond_text(c, 200, "OK", "ok\n");
        break;
    case ADMIN_ROUTE_READYZ:
        if (a->h.ready(a->h.ctx))
            respond_text(c, 200, "OK", "ready\n");
        else
            respond_text(c, 503, "Service Unavailable", "not ready\n");
        break;
    case ADMIN_ROUTE_RELOAD:
        if (a->h.reload(a->h.ctx, msg, sizeof(msg)))
            respond_text(c, 200, "OK", msg);
        else
            respond_text(c, 400, "Bad Request", msg);
        break;
    case ADMIN_ROUTE_NOT_ALLOWED:
        respond_text(c, 405, "Method Not Allowed", "method not allowed\n");
        break;
    case ADMIN_ROUTE_NOT_FOUND:
        respond_text(c, 404, "Not Found", "not found\n");
        break;
    }
    if (admin_request_head_only(req)) {
        /* Keep the head only. */
        const uint8_t *d = buf_peek(&c->out);
        for (size_t i = 0; i + 3 < c->out.len; i++) {
            if (memcmp(d + i, "\r\n\r\n", 4) == 0) {
                c->out.len = i + 4;
                break;
            }
        }
    }
    log_event(a->log, LOG_LVL_DEBUG, "admin_request", "method=%s path=%s",
              http_method_str(admin_request_method(req)), req->url_too_long ? "(too long)" : req->path);
}

static void conn_write(struct admin_conn *c)
{
    while (c->out.len) {
        ssize_t n = send(c->fd, buf_peek(&c->out), c->out.len, MSG_NOSIGNAL);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            conn_free(c);
            return;
        }
        buf_consume(&c->out, (size_t)n);
    }
    conn_free(c);
}

/* Reads the request. Returns 1 once a response is ready, 0 to wait for more
 * bytes, -1 when the connection was closed (and freed). */
static int conn_read(struct admin_conn *c)
{
    for (;;) {
        /* Cannot fail: the request is TOO_LARGE first. */
        uint8_t *dst = buf_reserve(&c->in, ADMIN_READ_ROOM);
        if (!dst) {
            respond_text(c, 400, "Bad Request", "request too large\n");
            return 1;
        }
        size_t room = buf_room(&c->in);
        ssize_t n = recv(c->fd, dst, room, 0);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            conn_free(c);
            return -1;
        }
        if (n == 0) {
            conn_free(c);
            return -1;
        }
        buf_commit(&c->in, (size_t)n);
        switch (admin_request_feed(&c->req, dst, (size_t)n)) {
        case ADMIN_REQUEST_INCOMPLETE:
            break;
        case ADMIN_REQUEST_COMPLETE:
            dispatch(c);
            return 1;
        case ADMIN_REQUEST_BAD:
            respond_text(c, 400, "Bad Request", "malformed request\n");
            return 1;
        case ADMIN_REQUEST_TOO_LARGE:
            respond_text(c, 400, "Bad Request", "request too large\n");
            return 1;
        }
    }
}

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct admin_conn *c = CONTAINER_OF(io, struct admin_conn, io);
    (void)revents;
    if (!c->responding) {
        if (conn_read(c) != 1)
            return;
        ev_io_stop(loop, &c->io);
        ev_io_set(&c->io, c->fd, EV_WRITE);
        ev_io_start(loop, &c->io);
    }
    conn_write(c);
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct admin_conn *c = CONTAINER_OF(t, struct admin_conn, timer);
    (void)loop;
    (void)revents;
    conn_free(c);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct admin *a = CONTAINER_OF(io, struct admin, accept_w);
    (void)revents;
    for (int i = 0; i < 16; i++) {
        int fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1)
            return;
        struct admin_conn *c = xcalloc(1, sizeof(*c));
        c->admin = a;
        c->fd = fd;
        buf_init(&c->in, ADMIN_MAX_REQUEST);
        buf_init(&c->out, 64u * 1024u * 1024u);
        admin_request_init(&c->req, ADMIN_MAX_REQUEST - ADMIN_READ_ROOM);
        list_push_front(&a->conns, &c->link);
        ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
        ev_timer_init(&c->timer, conn_timer_cb, ADMIN_TIMEOUT_S, 0.);
        ev_io_start(loop, &c->io);
        ev_timer_start(loop, &c->timer);
    }
}

struct admin *admin_start(struct ev_loop *loop, const char *addr, const struct admin_handlers *h,
                          const struct logger *log, char *err, size_t err_len)
{
    int fd = net_listen_tcp(addr, 64, err, err_len);
    if (fd == -1)
        return NULL;
    struct admin *a = xcalloc(1, sizeof(*a));
    a->loop = loop;
    a->fd = fd;
    a->h = *h;
    a->log = log;
    list_init(&a->conns);
    ev_io_init(&a->accept_w, accept_cb, fd, EV_READ);
    ev_io_start(loop, &a->accept_w);
    return a;
}

int admin_port(const struct admin *a)
{
    return net_local_port(a->fd);
}

void admin_stop(struct admin *a)
{
    if (!a)
        return;
    ev_io_stop(a->loop, &a->accept_w);
    close(a->fd);
    while (!list_empty(&a->conns))
        conn_free(list_entry(list_first(&a->conns), struct admin_conn, link));
    free(a);
}
