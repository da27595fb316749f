#include "mirror/target_addr.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

void target_addr_init(struct target_addr *t, const char *host, uint16_t port)
{
    memset(t, 0, sizeof(*t));
    atomic_init(&t->generation, 0);
    t->host = xstrdup(host);
    t->port = port;
    pthread_mutex_init(&t->lock, NULL);
}

void target_addr_destroy(struct target_addr *t)
{
    pthread_mutex_destroy(&t->lock);
    free(t->host);
    t->host = NULL;
}

void target_addr_count_failure(struct target_addr *t)
{
    if (t->failures)
        atomic_fetch_add_explicit(t->failures, 1, memory_order_relaxed);
}

/* getaddrinfo() for <host>:<port> with <flags>, into *out. */
static int lookup(const char *host, uint16_t port, int flags, struct target_addr_set *out)
{
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = flags};
    struct addrinfo *res;
    int rc = getaddrinfo(host, service, &hints, &res);
    if ((flags & AI_ADDRCONFIG) && (rc == EAI_BADFLAGS || (rc != 0 && rc != EAI_AGAIN))) {
        hints.ai_flags = flags & ~AI_ADDRCONFIG; /* AI_ADDRCONFIG hides loopback-only set-ups */
        rc = getaddrinfo(host, service, &hints, &res);
    }
    if (rc != 0)
        return rc;
    out->count = 0;
    for (struct addrinfo *ai = res; ai && out->count < TARGET_ADDR_MAX; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(out->addrs[0]))
            continue;
        memcpy(&out->addrs[out->count], ai->ai_addr, ai->ai_addrlen);
        out->lens[out->count] = ai->ai_addrlen;
        out->count++;
    }
    freeaddrinfo(res);
    return out->count > 0 ? 0 : EAI_NONAME;
}

int target_addr_lookup(const char *host, uint16_t port, struct target_addr_set *out)
{
    return lookup(host, port, AI_ADDRCONFIG, out);
}

/* True when <sa> (<len> bytes) is one of the first <count> of <addrs> and <lens>. */
static bool has_addr(const struct sockaddr_storage *addrs, const socklen_t *lens, int count, const void *sa,
                     socklen_t len)
{
    for (int i = 0; i < count; i++)
        if (lens[i] == len && memcmp(&addrs[i], sa, len) == 0)
            return true;
    return false;
}

/* True when the target's set (lock held) and <set> hold the same addresses,
 * in any order. */
static bool same_addrs(const struct target_addr *t, const struct target_addr_set *set)
{
    for (int i = 0; i < set->count; i++)
        if (!has_addr(t->addrs, t->lens, t->count, &set->addrs[i], set->lens[i]))
            return false;
    for (int i = 0; i < t->count; i++)
        if (!has_addr(set->addrs, set->lens, set->count, &t->addrs[i], t->lens[i]))
            return false;
    return true;
}

void target_addr_store(struct target_addr *t, const struct target_addr_set *set)
{
    pthread_mutex_lock(&t->lock);
    bool changed = !same_addrs(t, set);
    memcpy(t->addrs, set->addrs, sizeof(set->addrs[0]) * (size_t)set->count);
    memcpy(t->lens, set->lens, sizeof(set->lens[0]) * (size_t)set->count);
    t->count = set->count;
    if (changed)
        atomic_fetch_add_explicit(&t->generation, 1, memory_order_release);
    pthread_mutex_unlock(&t->lock);
}

uint64_t target_addr_generation(const struct target_addr *t)
{
    return atomic_load_explicit((_Atomic uint64_t *)&t->generation, memory_order_acquire);
}

bool target_addr_contains(struct target_addr *t, const struct sockaddr *sa, socklen_t len)
{
    pthread_mutex_lock(&t->lock);
    bool found = has_addr(t->addrs, t->lens, t->count, sa, len);
    pthread_mutex_unlock(&t->lock);
    return found;
}

int target_addr_resolve(struct target_addr *t)
{
    struct target_addr_set set;
    int rc = target_addr_lookup(t->host, t->port, &set);
    if (rc != 0) {
        target_addr_count_failure(t);
        return rc;
    }
    target_addr_store(t, &set);
    return 0;
}

bool target_addr_resolve_numeric(struct target_addr *t)
{
    struct target_addr_set set;
    if (lookup(t->host, t->port, AI_NUMERICHOST | AI_NUMERICSERV, &set) != 0)
        return false;
    target_addr_store(t, &set);
    return true;
}

bool target_addr_copy(struct target_addr *dst, struct target_addr *src)
{
    struct target_addr_set set;
    pthread_mutex_lock(&src->lock);
    set.count = src->count;
    memcpy(set.addrs, src->addrs, sizeof(set.addrs[0]) * (size_t)set.count);
    memcpy(set.lens, src->lens, sizeof(set.lens[0]) * (size_t)set.count);
    pthread_mutex_unlock(&src->lock);
    if (set.count == 0)
        return false;
    target_addr_store(dst, &set);
    return true;
}

bool target_addr_pick(struct target_addr *t, struct sockaddr_storage *ss, socklen_t *len)
{
    bool ok = false;
    pthread_mutex_lock(&t->lock);
    if (t->count > 0) {
        unsigned i = t->next++ % (unsigned)t->count;
        *ss = t->addrs[i];
        *len = t->lens[i];
        ok = true;
    }
    pthread_mutex_unlock(&t->lock);
    return ok;
}
