/* The SPOP server: the listening socket and the worker threads that share it. */
#ifndef SPOA_SERVER_H
#define SPOA_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spop/agent_stats.h"
#include "core/log.h"
#include "mirror/body_parts.h"
#include "mirror/mirror_runtime.h"

struct server_settings {
    const char *listen; /* "host:port" */
    int threads;        /* >= 1 */
    int backlog;
    uint32_t max_frame;
    uint32_t max_connections;  /* 0 = no limit */
    uint32_t idle_timeout_ms;  /* 0 = never */
    struct mirror_runtime *rt; /* the first configuration's; the server counts its workers in rt->refs */
    struct body_parts *parts;  /* slices of large bodies, shared by the workers; borrowed, may be NULL */
    uint64_t max_body_bytes;   /* the largest body assembled from slices (0 without <parts>) */
};

struct server;

/* server_start: binds the listener and starts the workers. Returns the server,
 * or NULL with a message in <err>. <log> is borrowed and must outlive it. */
struct server *server_start(const struct server_settings *set, const struct logger *log, char *err,
                            size_t err_len);

/* server_port: the TCP port the server listens on (useful with port 0). */
int server_port(const struct server *s);

/* server_stop: closes the listener and every connection, joins the workers
 * and frees the server. */
void server_stop(struct server *s);

/* server_stats_sum: adds every worker's counters into *sum (zero it first). */
void server_stats_sum(const struct server *s, struct agent_stats *sum);

/* server_set_runtime: switches every worker to <rt> (a new configuration's),
 * counting them in rt->refs. */
void server_set_runtime(struct server *s, struct mirror_runtime *rt);

/* server_drain: stops accepting SPOP connections and closes the open ones
 * after answering what they sent; mirror requests in flight go on. */
void server_drain(struct server *s);

/* server_idle: true when no worker has an SPOP connection or a mirror request left. */
bool server_idle(const struct server *s);

/* server_workers: the number of worker threads. */
int server_workers(const struct server *s);

#endif
