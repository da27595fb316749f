#include "compare/compare_noise.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

struct compare_noise {
    pthread_mutex_t lock;
    char *items[COMPARE_NOISE_KINDS][COMPARE_NOISE_MAX];
    size_t n[COMPARE_NOISE_KINDS];
    size_t overflow[COMPARE_NOISE_KINDS];
};

struct compare_noise *compare_noise_new(void)
{
    struct compare_noise *n = xcalloc(1, sizeof(*n));
    pthread_mutex_init(&n->lock, NULL);
    return n;
}

void compare_noise_free(struct compare_noise *n)
{
    if (!n)
        return;
    for (int k = 0; k < COMPARE_NOISE_KINDS; k++) {
        for (size_t i = 0; i < n->n[k]; i++)
            free(n->items[k][i]);
    }
    pthread_mutex_destroy(&n->lock);
    free(n);
}

static bool find(const struct compare_noise *n, enum compare_noise_kind kind, const char *what)
{
    for (size_t i = 0; i < n->n[kind]; i++) {
        if (strcmp(n->items[kind][i], what) == 0)
            return true;
    }
    return false;
}

bool compare_noise_learn(struct compare_noise *n, enum compare_noise_kind kind, const char *what)
{
    pthread_mutex_lock(&n->lock);
    bool added = false;
    if (!find(n, kind, what)) {
        if (n->n[kind] < COMPARE_NOISE_MAX) {
            n->items[kind][n->n[kind]++] = xstrdup(what);
            added = true;
        } else {
            n->overflow[kind]++;
        }
    }
    pthread_mutex_unlock(&n->lock);
    return added;
}

bool compare_noise_has(struct compare_noise *n, enum compare_noise_kind kind, const char *what)
{
    pthread_mutex_lock(&n->lock);
    bool r = find(n, kind, what);
    pthread_mutex_unlock(&n->lock);
    return r;
}

size_t compare_noise_count(struct compare_noise *n, enum compare_noise_kind kind, size_t *overflow)
{
    pthread_mutex_lock(&n->lock);
    size_t c = n->n[kind];
    if (overflow)
        *overflow = n->overflow[kind];
    pthread_mutex_unlock(&n->lock);
    return c;
}
