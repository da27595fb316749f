/* The HTTP/1.1 client of one mirror on one worker's event loop: a bounded
 * pool of keep-alive connections, a bounded queue, connect and request
 * timeouts, a circuit breaker, responses parsed with libhttp-parser and
 * discarded. Every request that is not delivered is counted by reason; none
 * waits for anything on the SPOP side. */
#ifndef SPOA_MIRROR_CLIENT_H
#define SPOA_MIRROR_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "mirror/mirror_stats.h"
#include "mirror/target_addr.h"

struct ev_loop;

struct mirror_client_settings {
    uint32_t connect_timeout_ms;
    uint32_t timeout_ms;       /* from the request's start on a connection to its whole response */
    uint32_t max_inflight;     /* connections, hence requests in flight, at most */
    uint32_t max_queue;        /* requests waiting for a connection, at most */
    uint32_t idle_timeout_ms;  /* an idle kept-alive connection is closed after this */
    uint32_t circuit_failures; /* consecutive connect failures that open the circuit */
    uint32_t circuit_open_ms;  /* how long the circuit stays open */
    const char *name;          /* for logs: "route/mirror-index" */
    /* Optional (NULL: none): called once for every request given to
     * mirror_client_submit(), when it ends: <status> is the response's HTTP
     * status and <why> MIRROR_DROP_NONE, or <status> is 0 and <why> says
     * why it was dropped. <latency_ns> is, for a response, the latency the
     * client counts in ctr->latency (from the request's start on its
     * connection to the whole response); for a drop, the time since
     * submit(). It may run inside submit() (a request refused or failing at
     * once) and inside mirror_client_free(); it must not call mirror_client
     * functions. */
    void (*on_done)(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why);
    void *on_done_ctx;
};

struct mirror_client;

/* mirror_client_new: a client on <loop> (the calling worker's) sending to the
 * addresses of <addr> (borrowed, shared), counting into <ctr> (borrowed,
 * owned by the worker). */
struct mirror_client *mirror_client_new(struct ev_loop *loop, const struct mirror_client_settings *set,
                                        struct target_addr *addr, struct mirror_counters *ctr,
                                        const struct logger *log);

/* mirror_client_submit: takes ownership of the request bytes <req> (<len>
 * bytes, heap) and sends them at once on an idle or new connection, or queues
 * them. Returns MIRROR_DROP_NONE when accepted; otherwise the request is freed,
 * counted as dropped and the reason returned. Never calls back into the caller,
 * except through the settings' on_done hook. */
enum mirror_drop mirror_client_submit(struct mirror_client *c, uint8_t *req, size_t len, bool head_request);

/* mirror_client_busy: true while requests are queued or in flight. */
bool mirror_client_busy(const struct mirror_client *c);

/* mirror_client_free: closes every connection; requests still queued or in
 * flight are counted as dropped (shutdown). */
void mirror_client_free(struct mirror_client *c);

#endif
