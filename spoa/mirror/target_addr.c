#include "mirror/target_addr.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

void target_addr_init(struct target_addr *t, const char *host, uint16_t port)
{
    memset(t, 0, sizeof(*t));
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

static void count_failure(struct target_addr *t)
{
    if (t->failures)
        atomic_fetch_add_explicit(t->failures, 1, memory_order_relaxed);
}

int target_addr_resolve(struct target_addr *t)
{
    char port[8];
    snprintf(port, sizeof(port), "%u", t->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res;
    int rc = getaddrinfo(t->host, port, &hints, &res);
    if (rc == EAI_BADFLAGS || (rc != 0 && rc != EAI_AGAIN)) {
        hints.ai_flags = 0; /* AI_ADDRCONFIG hides loopback-only set-ups */
        rc = getaddrinfo(t->host, port, &hints, &res);
    }
    if (rc != 0) {
        count_failure(t);
        return rc;
    }
    struct sockaddr_storage addrs[TARGET_ADDR_MAX];
    socklen_t lens[TARGET_ADDR_MAX];
    int n = 0;
    for (struct addrinfo *ai = res; ai && n < TARGET_ADDR_MAX; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(addrs[0]))
            continue;
        memcpy(&addrs[n], ai->ai_addr, ai->ai_addrlen);
        lens[n] = ai->ai_addrlen;
        n++;
    }
    freeaddrinfo(res);
    if (n == 0) {
        count_failure(t);
        return EAI_NONAME;
    }
    pthread_mutex_lock(&t->lock);
    memcpy(t->addrs, addrs, sizeof(addrs[0]) * (size_t)n);
    memcpy(t->lens, lens, sizeof(lens[0]) * (size_t)n);
    t->count = n;
    pthread_mutex_unlock(&t->lock);
    return 0;
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
