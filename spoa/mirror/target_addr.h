/* The addresses of one mirror service, shared by every worker: the resolver
 * thread refreshes them, workers pick one when they connect (a brief lock,
 * taken per connection, never per request). A generation number, read
 * without the lock, tells workers when the set changed, so that a kept-alive
 * connection can be checked against it only then. */
#ifndef SPOA_TARGET_ADDR_H
#define SPOA_TARGET_ADDR_H

#include <pthread.h>
#include <stdatomic.h>
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
    /* Bumped, under the lock, each time the set of addresses changes (not
     * their order); read without it (target_addr_generation()). */
    _Atomic uint64_t generation;
    /* Where failed resolutions are counted (atomic adds), or NULL: a
     * per-mirror total that outlives the target and survives reloads. */
    counter_t *failures;
};

/* The result of one resolution, before it is stored. */
struct target_addr_set {
    struct sockaddr_storage addrs[TARGET_ADDR_MAX];
    socklen_t lens[TARGET_ADDR_MAX];
    int count;
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

/* target_addr_lookup: resolves <host> and <port> into *out (getaddrinfo:
 * blocking; touches no target, so it may run without any lock held).
 * Returns 0 or a getaddrinfo error code (EAI_NONAME when no usable address). */
int target_addr_lookup(const char *host, uint16_t port, struct target_addr_set *out);

/* target_addr_store: makes <set> (count > 0) the target's address set, and
 * bumps the generation when it holds other addresses than before (the same
 * addresses in another order are not a change). Any thread. */
void target_addr_store(struct target_addr *t, const struct target_addr_set *set);

/* target_addr_count_failure: counts one failed resolution in t->failures (when set). */
void target_addr_count_failure(struct target_addr *t);

/* target_addr_resolve_numeric: when the host is an IP literal, stores its
 * address at once and returns true; never asks DNS, so it may run on an
 * event loop. False for a host name (left to the resolver). */
bool target_addr_resolve_numeric(struct target_addr *t);

/* target_addr_copy: gives <dst> the addresses <src> holds, if any (a new
 * configuration starts with what the previous one resolved for the same
 * host and port). Returns true when it copied some. Any thread. */
bool target_addr_copy(struct target_addr *dst, struct target_addr *src);

/* target_addr_pick: copies the next address in round-robin order into *ss.
 * Returns false while the target has never been resolved. Any thread. */
bool target_addr_pick(struct target_addr *t, struct sockaddr_storage *ss, socklen_t *len);

/* target_addr_generation: the number of changes of the address set so far
 * (0 before the first store). Takes no lock: a worker compares it with the
 * one it saw last and calls target_addr_contains() only when it moved. A set
 * read after this call is at least as new as the number returned. Any thread. */
uint64_t target_addr_generation(const struct target_addr *t);

/* target_addr_contains: true when <sa> (<len> bytes, as target_addr_pick()
 * gave it) is in the current address set, compared byte for byte. Takes the
 * lock. Any thread. */
bool target_addr_contains(struct target_addr *t, const struct sockaddr *sa, socklen_t len);

#endif
