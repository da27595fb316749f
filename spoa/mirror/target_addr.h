/* The addresses of one mirror service, shared by every worker: the resolver
 * thread refreshes them, workers pick one when they connect (a brief lock,
 * taken per connection, never per request). */
#ifndef SPOA_TARGET_ADDR_H
#define SPOA_TARGET_ADDR_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/counter.h"

#define TARGET_ADDR_MAX 8

struct target_addr {
    char *host; /* owned */
    uint16_t port;
    pthread_mutex_t lock;
    struct sockaddr_storage addrs[TARGET_ADDR_MAX];
    socklen_t lens[TARGET_ADDR_MAX];
    int count;     /* 0 until resolved */
    unsigned next; /* round-robin cursor */
    /* Where failed resolutions are counted (atomic adds), or NULL: a
     * per-mirror total that outlives the target and survives reloads. */
    counter_t *failures;
};

/* target_addr_init: an unresolved target for <host> (copied) and <port>. */
void target_addr_init(struct target_addr *t, const char *host, uint16_t port);

/* target_addr_destroy: releases what init allocated. */
void target_addr_destroy(struct target_addr *t);

/* target_addr_resolve: resolves the host (getaddrinfo: blocking, so call it
 * off the event loops) and, on success, replaces the address set. On failure
 * the previous addresses stay in use and t->failures, when set, counts it.
 * Returns 0 or a getaddrinfo error code. */
int target_addr_resolve(struct target_addr *t);

/* target_addr_pick: copies the next address in round-robin order into *ss.
 * Returns false while the target has never been resolved. Any thread. */
bool target_addr_pick(struct target_addr *t, struct sockaddr_storage *ss, socklen_t *len);

#endif
