/* The admin endpoint: a small HTTP/1.1 listener on the main thread's loop,
 * one request per connection. GET /metrics, GET /healthz, GET /readyz and
 * POST /-/reload are answered through the handlers; anything else is 404,
 * and a request that is malformed or larger than ADMIN_MAX_REQUEST is 400. */
#ifndef SPOA_ADMIN_H
#define SPOA_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/log.h"

struct ev_loop;

/* Largest request (head and body) the admin endpoint reads. */
#define ADMIN_MAX_REQUEST 8192

struct admin_handlers {
    void *ctx;
    /* metrics: appends the Prometheus text exposition to <out>. */
    void (*metrics)(void *ctx, struct buf *out);
    /* ready: true when the agent takes traffic (listening, configured, not draining). */
    bool (*ready)(void *ctx);
    /* reload: re-reads the configuration; returns true on success. Writes a
     * one-line result (or the errors, one per line) into <msg>. */
    bool (*reload)(void *ctx, char *msg, size_t msg_len);
};

struct admin;

/* admin_start: listens on <addr> ("host:port") on <loop>. Returns NULL with a
 * message in <err> when it cannot. <h> is copied; <log> is borrowed. */
struct admin *admin_start(struct ev_loop *loop, const char *addr, const struct admin_handlers *h,
                          const struct logger *log, char *err, size_t err_len);

/* admin_port: the port it listens on. */
int admin_port(const struct admin *a);

/* admin_stop: closes the listener and every admin connection, frees it. */
void admin_stop(struct admin *a);

#endif
