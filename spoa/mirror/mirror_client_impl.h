/* Private to the mirror client's two halves: mirror_client.c (the queue,
 * connections, the circuit breaker and HTTP/1.1) and mirror_h2.c (HTTP/2
 * connections through nghttp2). Nothing else includes it. */
#ifndef SPOA_MIRROR_CLIENT_IMPL_H
#define SPOA_MIRROR_CLIENT_IMPL_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/log.h"
#include "mirror/http_exchange.h"
#include "mirror/mirror_client_types.h"
#include "mirror/target_addr.h"

/* A request given to the client: queued, or on a connection. */
struct mreq {
    struct mreq *next;
    uint8_t *data; /* the HTTP/1.1 bytes of the copy (owned) */
    size_t len;
    bool head;
    bool idempotent; /* may be written whole twice */
    bool retried;
    bool counted_sent; /* already counted in ctr->sent (a retry is not counted again) */
    uint64_t queued_ns;
    struct mirror_observer obs; /* zero: none */
};

/* An HTTP/1.1 connection carries at most one request at a time: CONNECTING
 * (with its first request), SENDING it, RECEIVING its response up to the
 * headers, then DRAINING the rest of the body (the request has ended,
 * delivered) and IDLE until the next one. An HTTP/2 connection is H2 from
 * its connect to its close, its streams in its h2 state. */
enum mconn_state { MC_CONNECTING, MC_IDLE, MC_SENDING, MC_RECEIVING, MC_DRAINING, MC_H2 };

struct h2_conn; /* mirror_h2.c */

struct mirror_conn {
    struct list_node node; /* in client->conns (HTTP/1.1, connecting) or client->h2conns */
    struct mirror_client *client;
    enum mconn_state state;
    struct mreq *req; /* CONNECTING, SENDING, RECEIVING: the request; else NULL */
    bool reused;      /* a response was already completed on this connection */
    uint64_t start_ns;
    uint64_t connected_ns;        /* when the connect succeeded: its age counts from there */
    struct sockaddr_storage peer; /* the address it connected to */
    socklen_t peer_len;
    uint64_t addr_gen;      /* the target's generation when <peer> was last known in its set */
    struct http_exchange x; /* of the current or last request */
    /* DRAINING: the observer of the delivered request, told when the body ends. */
    struct mirror_observer obs;
    int obs_status;
    uint64_t obs_latency_ns;
    struct h2_conn *h2; /* H2: the session and its streams */
    /* The transport's conn_size bytes. */
    alignas(max_align_t) unsigned char data[];
};

struct mirror_client {
    struct mirror_client_settings set;
    struct target_addr *addr;
    struct mirror_counters *ctr;
    const struct logger *log;
    const struct mirror_transport *tr;
    void *tr_ctx;
    struct list_node conns; /* HTTP/1.1 and connecting ones; idle connections first */
    struct list_node h2conns;
    uint32_t nconns;      /* of both lists */
    uint32_t nconnecting; /* of them, CONNECTING (TCP connect or TLS handshake) */
    struct mreq *qhead, *qtail;
    uint32_t queued;
    uint32_t failures;
    uint32_t cuts; /* delivered responses in a row whose body could not be read whole */
    uint64_t circuit_until_ns;
    bool pump_deferred; /* defer() was called; its sweep has not come yet */
    bool h2_seen;       /* auto: the last connection negotiated HTTP/2 */
};

/* ---- mirror_client.c, for mirror_h2.c ---- */

/* mc_now_ns: the transport's clock. */
uint64_t mc_now_ns(const struct mirror_client *c);

/* mc_drop: counts <r> as dropped for <why>, tells on_done and its observer,
 * frees it. */
void mc_drop(struct mirror_client *c, struct mreq *r, enum mirror_drop why);

/* mc_req_free: frees <r> and its bytes, telling nobody. */
void mc_req_free(struct mreq *r);

/* mc_requeue: puts <r> (to be sent again) at the head of the queue. */
void mc_requeue(struct mirror_client *c, struct mreq *r);

/* mc_defer: asks the transport for a mirror_client_sweep() soon (once until
 * it comes); nothing when it has no defer hook. */
void mc_defer(struct mirror_client *c);

/* mc_count_failure: one more failure in a row for the circuit breaker;
 * true when the circuit is open. */
bool mc_count_failure(struct mirror_client *c);

/* mc_delivered: accounts a response whose headers came <elapsed_ns> after
 * its request started: resets the breaker, counts latency and status class,
 * calls on_done. The caller has taken it out of ctr->inflight. */
void mc_delivered(struct mirror_client *c, int status, uint64_t elapsed_ns);

/* mc_conn_close: closes <m> (the transport's close), drops its request(s)
 * with <why>, unlinks and frees it. */
void mc_conn_close(struct mirror_client *c, struct mirror_conn *m, enum mirror_drop why);

/* mc_conn_life_left_ms: milliseconds <m> may still be used (its
 * max_connection_age_ms minus its age), at most <cap>: 0 once too old. */
uint32_t mc_conn_life_left_ms(const struct mirror_client *c, const struct mirror_conn *m, uint32_t cap);

/* mc_conn_addr_gone: true when the address <m> connected to has left the
 * mirror's address set. */
bool mc_conn_addr_gone(const struct mirror_client *c, struct mirror_conn *m);

/* ---- mirror_h2.c, for mirror_client.c ---- */

/* h2_conn_start: <m> (connected, carrying m->req) becomes an HTTP/2
 * connection: the connection preface and SETTINGS go out with its request as
 * the first stream. <m> may be closed on return (false). */
bool h2_conn_start(struct mirror_client *c, struct mirror_conn *m);

/* h2_conn_usable: true when <m> takes new streams at all (not going away,
 * not too old, its address still in the set). */
bool h2_conn_usable(struct mirror_client *c, struct mirror_conn *m);

/* h2_conn_room: true when <m> is usable and has room for one more stream now
 * (under the server's SETTINGS_MAX_CONCURRENT_STREAMS and max_inflight). */
bool h2_conn_room(struct mirror_client *c, struct mirror_conn *m);

/* h2_conn_submit: starts <r> (owned from now on) as a stream on <m>, which
 * h2_conn_room() accepted. With a transport that can defer, its frames are
 * written at the next sweep, together with those of the other streams
 * opened meanwhile (one write for many copies); at once otherwise. <m> may
 * be closed on return. */
void h2_conn_submit(struct mirror_client *c, struct mirror_conn *m, struct mreq *r);

/* h2_conn_on_readable / _on_writable / _on_timeout: the transport's events
 * for an H2 connection; each may close <m>. */
void h2_conn_on_readable(struct mirror_client *c, struct mirror_conn *m);
void h2_conn_on_writable(struct mirror_client *c, struct mirror_conn *m);
void h2_conn_on_timeout(struct mirror_client *c, struct mirror_conn *m);

/* h2_conn_flush_due: true when streams opened on <m> wait for the sweep to
 * be written (or, with a write delay, to be considered for writing). */
bool h2_conn_flush_due(const struct mirror_conn *m);

/* h2_conn_busy: true while <m> has streams open. */
bool h2_conn_busy(const struct mirror_conn *m);

/* h2_conn_end: called by mc_conn_close() before the transport's close:
 * streams not answered are dropped with <why>, bodies being read are cut,
 * the session is freed. */
void h2_conn_end(struct mirror_client *c, struct mirror_conn *m, enum mirror_drop why);

#endif
