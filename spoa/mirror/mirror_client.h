/* The HTTP client of one mirror: a bounded pool of keep-alive HTTP/1.1
 * connections, or HTTP/2 connections carrying many requests as streams
 * (mirror_h2.c, settings.protocol; over TLS, ALPN may pick either per
 * connection), a bounded queue, connect and request timeouts, a circuit
 * breaker, responses parsed (http_exchange.h, nghttp2) and discarded, their
 * bodies read up to a bound. Every request
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

#include "config/config.h"
#include "core/log.h"
#include "mirror/mirror_client_types.h"
#include "mirror/target_addr.h"

/* mirror_client_create: a client sending to the addresses of <addr>
 * (borrowed, shared), counting into <ctr> (borrowed, owned by the worker),
 * logging to <log> (borrowed), through transport <tr> (borrowed, outlives
 * the client) with context <tr_ctx>. A max_inflight of 0 counts as 1. */
struct mirror_client *mirror_client_create(const struct mirror_client_settings *set, struct target_addr *addr,
                                           struct mirror_counters *ctr, const struct logger *log,
                                           const struct mirror_transport *tr, void *tr_ctx);

/* mirror_proto_of: the client protocol for a mirror configured with <p>
 * whose connections are TLS when <tls>: h2 and h2c are HTTP/2; auto is
 * decided per connection by ALPN over TLS and is HTTP/1.1 without. */
enum mirror_proto mirror_proto_of(enum config_protocol p, bool tls);

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
