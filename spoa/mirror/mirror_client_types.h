/* The types shared by the mirror client's public interface (mirror_client.h)
 * and its private one (mirror_client_impl.h): settings, the transport,
 * request flags and the observer. Include mirror_client.h instead. */
#ifndef SPOA_MIRROR_CLIENT_TYPES_H
#define SPOA_MIRROR_CLIENT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "mirror/http_exchange.h"
#include "mirror/mirror_stats.h"

/* Bytes read from one connection per readable event, at most. */
#define MIRROR_READ_BUDGET (64u * 1024u)
/* Bytes written to one connection per writable event (or start), at most. */
#define MIRROR_WRITE_BUDGET (64u * 1024u)
/* Queued requests started (sent or connected) by one call, at most. */
#define MIRROR_PUMP_MAX_STARTS 16u
/* Queued requests dropped (expired, circuit open) by one call, at most. */
#define MIRROR_PUMP_MAX_DROPS 256u
/* Connections being set up (TCP connect, TLS handshake) at once, at most:
 * a burst of copies opens connections this many at a time, so that a burst
 * of TLS handshakes cannot hold the thread until they time out. */
#define MIRROR_MAX_CONNECTING 16u

/* The HTTP version a client speaks on its connections. */
enum mirror_proto {
    MIRROR_PROTO_HTTP1 = 0, /* HTTP/1.1 */
    MIRROR_PROTO_H2,        /* HTTP/2: with prior knowledge, or over TLS when ALPN selected "h2" (required) */
    MIRROR_PROTO_AUTO,      /* per connection: HTTP/2 when ALPN selected "h2", else HTTP/1.1 */
};

struct mirror_client_settings {
    /* HTTP/1.1 by default. With HTTP/2 a connection carries many requests
     * at once (streams): max_inflight bounds the streams in flight, the
     * server's SETTINGS_MAX_CONCURRENT_STREAMS those of one connection, and
     * one connection is used at a time (another once it goes away). */
    enum mirror_proto protocol;
    bool https; /* HTTP/2's :scheme is "https" (the transport speaks TLS) */
    uint32_t connect_timeout_ms;
    uint32_t timeout_ms; /* from the request's start on a connection to its whole response */
    /* Response body bytes read at most (after the headers, chunk framing
     * included). A body beyond it, or still unread at timeout_ms, closes its
     * connection (counted in ctr->responses_cut); the copy was already
     * delivered with the headers. */
    uint32_t max_response_bytes;
    uint32_t max_inflight;    /* requests in flight, at most: HTTP/1.1 connections, or HTTP/2 streams */
    uint32_t max_queue;       /* requests waiting for a connection (or a stream), at most */
    uint32_t idle_timeout_ms; /* an idle kept-alive connection is closed after this */
    /* Awaited answers (MIRROR_WATCH_LAZY): the transport reads such
     * connections at most once per this delay, when the thread is awake
     * anyway (or after this long idle), so that many answers cost one
     * wake-up and one read; 0 reads each at once. The latency the client
     * counts is then late by about this much at most. */
    uint32_t read_delay_ms;
    /* HTTP/2, with a transport that has defer_until(): streams opened on a
     * connection wait this long for more, so that one write (one wake-up of
     * the server) carries the copies of several events; a copy waits at
     * most about twice as long when nothing else wakes the thread, not at
     * all once 32 wait on the connection or a write is under way, and
     * never more than timeout_ms / 4. Its latency counts from its write.
     * 0: each event's streams are written at the sweep that follows it. */
    uint32_t write_delay_ms;
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
     * Over HTTP/1.1, as many delivered responses in a row whose body was cut
     * (too large, timeout, broken: each costs the next copy a new
     * connection) open it too; a body read whole resets that count. 0:
     * never open. */
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
/* With READ alone: the readability is not urgent (answers awaited, none of
 * them needed at once), so the transport may report it late: once
 * read_delay_ms has passed since the connection's last read, when the
 * thread is awake for other work (or idle that long). */
#define MIRROR_WATCH_LAZY 4u

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
     * the other ready work of the thread (libev: once the events ready in
     * this loop iteration are served; the next iteration when asked from
     * that sweep).
     * The client calls it when a call left queued work undone for fairness;
     * without it, that work waits for the periodic sweep. */
    void (*defer)(void *ctx);
    /* defer_until: optional; asks for one mirror_client_sweep() call at the
     * monotonic time <at_ns> or soon after: when the thread is awake anyway
     * past it, or, when nothing wakes it, at the latest as long after
     * <at_ns> as <at_ns> was ahead of the call. A later call for an earlier
     * time replaces it. */
    void (*defer_until)(void *ctx, uint64_t at_ns);
    /* now_ns: a monotonic clock in nanoseconds. */
    uint64_t (*now_ns)(void *ctx);
    /* release: optional; called last by mirror_client_free(), when the client
     * no longer uses the transport. */
    void (*release)(void *ctx);
    /* alpn: optional; the application protocol the connected <conn>
     * negotiated: NULL when it is not TLS, "" when none was selected, else
     * the name ("h2", "http/1.1"). NULL hook: no connection is TLS. */
    const char *(*alpn)(void *ctx, struct mirror_conn *conn);
};

/* What the client must know of a request's method (mirror_client_submit). */
#define MIRROR_REQ_HEAD       1u /* a HEAD: its response has no body */
#define MIRROR_REQ_IDEMPOTENT 2u /* idempotent (RFC 9110 section 9.2.2): it may be sent twice */

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

#endif
