/* The HTTP/1.1 client of one mirror: a bounded pool of keep-alive
 * connections, a bounded queue, connect and request timeouts, a circuit
 * breaker, responses parsed (http_exchange.h) and discarded, their bodies
 * read up to a bound. Every request
 * that is not delivered is counted by reason; none waits for anything on the
 * SPOP side.
 *
 * The client is a state machine that does no I/O and knows no event loop:
 * it reaches sockets, readiness, timers and the clock through a transport
 * (struct mirror_transport) given at creation, and the transport drives it
 * through the mirror_client_on_*() entry points and mirror_client_sweep().
 * mirror_client_ev.h is the transport over libev and real sockets; the unit
 * tests use one in memory. One thread owns a client and its transport.
 *
 * No entry point holds the thread for long, whatever the mirror does: one
 * readiness reads at most MIRROR_READ_BUDGET bytes and writes at most
 * MIRROR_WRITE_BUDGET bytes on its connection, and one call moves at most
 * MIRROR_PUMP_MAX_STARTS queued requests onto connections and drops at most
 * MIRROR_PUMP_MAX_DROPS expired ones. The rest waits for the next readiness
 * (the transport's readiness is level-triggered) or for the sweep the client
 * asks for with mirror_transport.defer(). */
#ifndef SPOA_MIRROR_CLIENT_H
#define SPOA_MIRROR_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/log.h"
#include "mirror/http_exchange.h"
#include "mirror/mirror_stats.h"
#include "mirror/target_addr.h"

/* Bytes read from one connection per readable event, at most. */
#define MIRROR_READ_BUDGET (64u * 1024u)
/* Bytes written to one connection per writable event (or start), at most. */
#define MIRROR_WRITE_BUDGET (64u * 1024u)
/* Queued requests started (sent or connected) by one call, at most. */
#define MIRROR_PUMP_MAX_STARTS 16u
/* Queued requests dropped (expired, circuit open) by one call, at most. */
#define MIRROR_PUMP_MAX_DROPS 256u

struct mirror_client_settings {
    uint32_t connect_timeout_ms;
    uint32_t timeout_ms; /* from the request's start on a connection to its whole response */
    /* Response body bytes read at most (after the headers, chunk framing
     * included). A body beyond it, or still unread at timeout_ms, closes its
     * connection (counted in ctr->responses_cut); the copy was already
     * delivered with the headers. */
    uint32_t max_response_bytes;
    uint32_t max_inflight;    /* connections, hence requests in flight, at most */
    uint32_t max_queue;       /* requests waiting for a connection, at most */
    uint32_t idle_timeout_ms; /* an idle kept-alive connection is closed after this */
    /* A kept-alive connection this old (from its connect) is closed when it
     * becomes idle, or while idle, instead of being reused (counted in
     * ctr->expired); 0 = no limit. Whatever its age, one whose address left
     * the target's address set is closed when it becomes idle, or when it
     * would be reused (counted in ctr->address_gone); the request it would
     * have carried goes to another idle connection or a new one. */
    uint32_t max_connection_age_ms;
    /* Failures in a row (connects that failed, exchanges on a fresh
     * connection reset or closed before any response byte, answers that are
     * not HTTP) that open the circuit; a response's headers reset the count.
     * As many delivered responses in a row whose body was cut (too large,
     * timeout, broken: each costs the next copy a new connection) open it
     * too; a body read whole resets that count. 0: never open. */
    uint32_t circuit_failures;
    uint32_t circuit_open_ms; /* how long the circuit stays open */
    const char *name;         /* for logs: "route/mirror-index" */
    /* Optional (NULL: none): called once for every request given to
     * mirror_client_submit(), when it ends: <status> is the response's HTTP
     * status and <why> MIRROR_DROP_NONE (the request ends, delivered, when
     * the final response's headers are in; its body is read afterwards), or
     * <status> is 0 and <why> says why it was dropped. <latency_ns> is, for a
     * response, the latency the client counts in ctr->latency (from the
     * request's start on its connection to the response's headers); for a
     * drop, the time since submit(). It may run inside submit() (a request
     * refused or failing at once) and inside mirror_client_free(); it must
     * not call mirror_client functions. */
    void (*on_done)(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why);
    void *on_done_ctx;
};

struct mirror_client;
/* One connection of a client, owned by the client. It carries
 * mirror_transport.conn_size bytes for the transport (mirror_conn_data()). */
struct mirror_conn;

/* ---- the transport ---- */

/* What mirror_transport.connect() did. */
enum mirror_connect {
    MIRROR_CONNECT_STARTED,   /* under way (or done): the transport calls mirror_client_on_connected() */
    MIRROR_CONNECT_NO_SOCKET, /* no socket could be had: nothing to close */
    MIRROR_CONNECT_FAILED,    /* the connect failed at once: the client will call close() */
};

/* Returns of mirror_transport.send() and recv() besides a byte count. */
#define MIRROR_IO_AGAIN (-1) /* would block: wait for the readiness watched */
#define MIRROR_IO_ERROR (-2) /* the connection failed */

/* Readiness the client asks to be told about (mirror_transport.watch()). */
#define MIRROR_WATCH_READ  1u
#define MIRROR_WATCH_WRITE 2u

/* Every hook gets the <ctx> given to mirror_client_create(). Hooks never
 * call back into the client. Hooks taking a connection are called between
 * its connect() (included) and its close() (included) only. */
struct mirror_transport {
    /* Bytes the transport keeps in each connection (zeroed at its start). */
    size_t conn_size;
    /* connect: starts a non-blocking connection of <conn> to <sa>
     * (<salen> bytes). On NO_SOCKET and FAILED, *err is an errno value. */
    enum mirror_connect (*connect)(void *ctx, struct mirror_conn *conn, const struct sockaddr *sa,
                                   socklen_t salen, int *err);
    /* send: writes up to <len> bytes of <p>: the count written (> 0 when
     * len > 0), MIRROR_IO_AGAIN or MIRROR_IO_ERROR. */
    ssize_t (*send)(void *ctx, struct mirror_conn *conn, const uint8_t *p, size_t len);
    /* recv: reads up to <cap> bytes into <buf>: the count read, 0 at EOF,
     * MIRROR_IO_AGAIN or MIRROR_IO_ERROR. */
    ssize_t (*recv)(void *ctx, struct mirror_conn *conn, uint8_t *buf, size_t cap);
    /* watch: from now on, report exactly the readiness in <events>
     * (MIRROR_WATCH_*) through mirror_client_on_readable/_writable().
     * While a connect is under way the client watches WRITE and expects
     * mirror_client_on_connected() instead. Readiness is level-triggered:
     * a connection still readable (writable) after a call is reported
     * again, once the transport has served its other work. */
    void (*watch)(void *ctx, struct mirror_conn *conn, unsigned events);
    /* arm_timer: (re)arms the connection's one timer to call
     * mirror_client_on_timeout() in <ms> milliseconds, replacing any armed. */
    void (*arm_timer)(void *ctx, struct mirror_conn *conn, uint32_t ms);
    /* close: stops watching and timing <conn> and closes its socket; the
     * client frees <conn> right after. */
    void (*close)(void *ctx, struct mirror_conn *conn);
    /* defer: optional; asks for one mirror_client_sweep() call soon, after
     * the other ready work of the thread (libev: the next loop iteration).
     * The client calls it when a call left queued work undone for fairness;
     * without it, that work waits for the periodic sweep. */
    void (*defer)(void *ctx);
    /* now_ns: a monotonic clock in nanoseconds. */
    uint64_t (*now_ns)(void *ctx);
    /* release: optional; called last by mirror_client_free(), when the client
     * no longer uses the transport. */
    void (*release)(void *ctx);
};

/* mirror_client_create: a client sending to the addresses of <addr>
 * (borrowed, shared), counting into <ctr> (borrowed, owned by the worker),
 * logging to <log> (borrowed), through transport <tr> (borrowed, outlives
 * the client) with context <tr_ctx>. A max_inflight of 0 counts as 1. */
struct mirror_client *mirror_client_create(const struct mirror_client_settings *set, struct target_addr *addr,
                                           struct mirror_counters *ctr, const struct logger *log,
                                           const struct mirror_transport *tr, void *tr_ctx);

/* What the client must know of a request's method (mirror_client_submit). */
#define MIRROR_REQ_HEAD       1u /* a HEAD: its response has no body */
#define MIRROR_REQ_IDEMPOTENT 2u /* idempotent (RFC 9110 section 9.2.2): it may be sent twice */

/* mirror_method_flags: the MIRROR_REQ_* flags of the request method <method>
 * (<len> bytes, not NUL-terminated; methods are case-sensitive): IDEMPOTENT
 * for GET, HEAD, OPTIONS, TRACE, PUT and DELETE, HEAD for HEAD, none for
 * POST, PATCH and any other. Allocates nothing. */
unsigned mirror_method_flags(const uint8_t *method, size_t len);

/* mirror_client_submit: takes ownership of the request bytes <req> (<len>
 * bytes, heap) and sends them at once on an idle or new connection, or queues
 * them; <flags> (MIRROR_REQ_*, see mirror_method_flags()) describe its
 * method. A request whose bytes were all written on a kept-alive connection
 * that then failed without a response byte (the server closed it as it was
 * reused) is sent once more on a new connection only when IDEMPOTENT;
 * otherwise it is dropped (io_error) and counted in ctr->retries_refused. A
 * request not fully written may always go once more. Returns
 * MIRROR_DROP_NONE when accepted; otherwise the request is freed, counted as
 * dropped and the reason returned. Never calls back into the caller, except
 * through the settings' on_done hook. */
enum mirror_drop mirror_client_submit(struct mirror_client *c, uint8_t *req, size_t len, unsigned flags);

/* What a caller who wants a request's response (a comparison) hands to
 * mirror_client_submit_observed(). */
struct mirror_observer {
    /* Optional: told the response's headers and body as they are parsed
     * (at most max_response_bytes + 1 body bytes; again from begin() when
     * the request is sent a second time). */
    const struct http_exchange_sink *sink;
    void *ctx; /* for sink and end */
    /* Called exactly once, when the request is over for good: dropped
     * (status 0, <why> the reason, <latency_ns> since submit), or answered
     * (its status and latency as on_done, why MIRROR_DROP_NONE) once its body
     * ended: <body_whole> false when the body was cut (too large, timeout,
     * error, shutdown). It may free <ctx>; it must not call mirror_client
     * functions. */
    void (*end)(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why, bool body_whole);
};

/* mirror_client_submit_observed: mirror_client_submit() with an observer
 * (copied; NULL: none) whose end hook runs once whatever happens, even
 * inside this call when the request is refused at once. */
enum mirror_drop mirror_client_submit_observed(struct mirror_client *c, uint8_t *req, size_t len,
                                               unsigned flags, const struct mirror_observer *obs);

/* mirror_client_busy: true while requests are queued or in flight, or a
 * response body is still being read after its headers (bounded by
 * timeout_ms). */
bool mirror_client_busy(const struct mirror_client *c);

/* mirror_client_free: closes every connection; requests still queued or in
 * flight are counted as dropped (shutdown); bodies still being read after
 * their headers are not counted. Then releases the transport
 * (its release hook) and frees <c>. NULL is a no-op. */
void mirror_client_free(struct mirror_client *c);

/* ---- entry points for the transport ----
 * Each may close and free <conn> and start other connections; <conn> must
 * not be used after the call. Each ends by moving queued requests onto
 * connections that became free. */

/* mirror_client_on_connected: the connect of <conn> finished: <err> is 0 on
 * success, else an errno value (a refusal, ETIMEDOUT...). */
void mirror_client_on_connected(struct mirror_conn *conn, int err);

/* mirror_client_on_setup_failed: the transport's own setup of <conn> on top
 * of its connect failed, e.g. a TLS handshake, or a TLS peer refusing the
 * connection right after it (before any response byte). Counted as a
 * failed connect (it feeds the circuit breaker); <conn> is closed and its
 * request, if any, dropped with <why>. Any state. */
void mirror_client_on_setup_failed(struct mirror_conn *conn, enum mirror_drop why);

/* mirror_client_on_writable / mirror_client_on_readable: <conn> is ready
 * for what watch() asked. Ignored in a state that does not expect it. */
void mirror_client_on_writable(struct mirror_conn *conn);
void mirror_client_on_readable(struct mirror_conn *conn);

/* mirror_client_on_timeout: the timer armed by arm_timer() expired. */
void mirror_client_on_timeout(struct mirror_conn *conn);

/* mirror_client_sweep: expires queued requests that waited too long (drops
 * them all while the circuit is open) and starts those that fit, within the
 * per-call bounds. The transport calls it periodically (every 250 ms for the
 * libev one) and once after each defer(). */
void mirror_client_sweep(struct mirror_client *c);

/* mirror_conn_data: the transport's conn_size bytes of <conn> (aligned for
 * any type), valid until close(). */
void *mirror_conn_data(struct mirror_conn *conn);

#endif
