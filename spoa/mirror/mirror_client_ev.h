/* The mirror client on a libev loop with real non-blocking TCP sockets: the
 * transport (mirror_client.h) that the agent's workers and the replay tool
 * use. Per connection: one socket (TCP_NODELAY, close-on-exec), one ev_io
 * and two ev_timers (the client's, and one for TLS work that readiness does
 * not report), allocated with the connection, and a TLS connection
 * (tls_conn.h) for https mirrors; per client: the timer of
 * the periodic sweep, and for the sweeps the client defers
 * (mirror_transport.defer) a prepare watcher (they run once the loop has
 * served the events ready in its iteration, before it waits again) and a
 * zero timer (a sweep deferred again from such a sweep: the next
 * iteration). This header does not
 * include <ev.h>. */
#ifndef SPOA_MIRROR_CLIENT_EV_H
#define SPOA_MIRROR_CLIENT_EV_H

#include "mirror/mirror_client.h"

struct ev_loop;
struct tls_client;

/* mirror_client_new: a client on <loop> (the calling thread's) sending to the
 * addresses of <addr> (borrowed, shared), counting into <ctr> (borrowed,
 * owned by the worker), logging to <log> (borrowed). With <tls> (borrowed,
 * shared; it must outlive the client) every connection is TLS: its
 * handshake follows the TCP connect within connect_timeout_ms, fails as
 * tls_handshake or tls_verify, and resumes the session of the client's
 * previous connection; NULL sends plain HTTP. Use it with
 * mirror_client_submit/_busy/_free (mirror_client.h); mirror_client_free()
 * also stops and frees what it added to <loop>, which must outlive it. */
struct mirror_client *mirror_client_new(struct ev_loop *loop, const struct mirror_client_settings *set,
                                        struct target_addr *addr, struct mirror_counters *ctr,
                                        const struct logger *log, const struct tls_client *tls);

#endif
