#include "compare/compare_table.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/xalloc.h"

struct compare_table {
    pthread_mutex_t lock;
    struct compare_entry **buckets;
    size_t mask; /* buckets - 1, a power of two less one */
    size_t count, capacity;
    struct list_node by_deadline; /* earliest first */
    void (*ctx_free)(void *ctx);
};

const char *compare_table_status_str(enum compare_table_status s)
{
    switch (s) {
    case COMPARE_TABLE_OK:
        return "ok";
    case COMPARE_TABLE_COMPLETE:
        return "complete";
    case COMPARE_TABLE_FULL:
        return "full";
    case COMPARE_TABLE_DUPLICATE:
        return "duplicate";
    case COMPARE_TABLE_UNKNOWN:
        return "unknown";
    case COMPARE_TABLE_INVALID:
        return "invalid";
    }
    return "invalid";
}

struct compare_table *compare_table_new(uint32_t capacity, void (*ctx_free)(void *ctx))
{
    struct compare_table *t = xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    t->capacity = capacity ? capacity : 1;
    size_t n = 16;
    while (n < 2 * t->capacity)
        n *= 2;
    t->buckets = xcalloc(n, sizeof(*t->buckets));
    t->mask = n - 1;
    list_init(&t->by_deadline);
    t->ctx_free = ctx_free;
    return t;
}

void compare_entry_free(struct compare_entry *e)
{
    if (!e)
        return;
    compare_side_free(e->primary);
    for (size_t i = 0; i < e->n_slots; i++)
        compare_side_free(e->shadows[i]);
    free(e);
}

void compare_table_free(struct compare_table *t)
{
    if (!t)
        return;
    while (!list_empty(&t->by_deadline)) {
        struct compare_entry *e =
            CONTAINER_OF(list_first(&t->by_deadline), struct compare_entry, _by_deadline);
        list_remove(&e->_by_deadline);
        if (t->ctx_free)
            t->ctx_free(e->ctx);
        compare_entry_free(e);
    }
    free(t->buckets);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static struct compare_entry **slot_of(struct compare_table *t, const void *id, size_t len)
{
    struct compare_entry **p = &t->buckets[XXH3_64bits(id, len) & t->mask];
    while (*p && !((*p)->id_len == len && memcmp((*p)->id, id, len) == 0))
        p = &(*p)->_next;
    return p;
}

static bool id_ok(size_t len)
{
    return len > 0 && len <= COMPARE_MAX_ID;
}

enum compare_table_status compare_table_open(struct compare_table *t, const void *id, size_t id_len,
                                             size_t n_slots, uint64_t deadline_ms, void *ctx)
{
    if (!id_ok(id_len) || n_slots == 0 || n_slots > COMPARE_MAX_SLOTS)
        return COMPARE_TABLE_INVALID;
    pthread_mutex_lock(&t->lock);
    enum compare_table_status st = COMPARE_TABLE_OK;
    struct compare_entry **p = slot_of(t, id, id_len);
    if (*p) {
        st = COMPARE_TABLE_DUPLICATE;
    } else if (t->count >= t->capacity) {
        st = COMPARE_TABLE_FULL;
    } else {
        /* One block: the entry, its slots, then its id. */
        struct compare_entry *e = xcalloc(1, sizeof(*e) + n_slots * sizeof(e->shadows[0]) + id_len + 1);
        e->id = (char *)&e->shadows[n_slots];
        memcpy(e->id, id, id_len);
        e->id[id_len] = '\0';
        e->id_len = id_len;
        e->deadline_ms = deadline_ms;
        e->ctx = ctx;
        e->n_slots = n_slots;
        *p = e;
        /* Deadlines mostly come in order: walk back from the latest. */
        struct list_node *after = t->by_deadline.prev;
        while (after != &t->by_deadline &&
               CONTAINER_OF(after, struct compare_entry, _by_deadline)->deadline_ms > deadline_ms)
            after = after->prev;
        e->_by_deadline.prev = after;
        e->_by_deadline.next = after->next;
        after->next->prev = &e->_by_deadline;
        after->next = &e->_by_deadline;
        t->count++;
    }
    pthread_mutex_unlock(&t->lock);
    return st;
}

/* Unlinks the entry at *p (its chain link) from both indexes. */
static struct compare_entry *take(struct compare_table *t, struct compare_entry **p)
{
    struct compare_entry *e = *p;
    *p = e->_next;
    e->_next = NULL;
    list_remove(&e->_by_deadline);
    t->count--;
    return e;
}

enum compare_table_status compare_table_put(struct compare_table *t, const void *id, size_t id_len, int slot,
                                            struct compare_side *side, struct compare_entry **done)
{
    *done = NULL;
    if (!id_ok(id_len) || slot < COMPARE_SLOT_PRIMARY || slot >= COMPARE_MAX_SLOTS)
        return COMPARE_TABLE_INVALID;
    pthread_mutex_lock(&t->lock);
    enum compare_table_status st;
    struct compare_entry **p = slot_of(t, id, id_len);
    struct compare_entry *e = *p;
    if (!e) {
        st = COMPARE_TABLE_UNKNOWN;
    } else if (slot >= 0 && (size_t)slot >= e->n_slots) {
        st = COMPARE_TABLE_INVALID;
    } else if (slot == COMPARE_SLOT_PRIMARY ? e->primary != NULL : (e->have >> slot) & 1u) {
        st = COMPARE_TABLE_DUPLICATE;
    } else {
        if (slot == COMPARE_SLOT_PRIMARY) {
            e->primary = side;
        } else {
            e->shadows[slot] = side;
            e->have |= 1ull << slot;
        }
        uint64_t all = e->n_slots == 64 ? UINT64_MAX : (1ull << e->n_slots) - 1;
        st = COMPARE_TABLE_OK;
        if (e->primary && e->have == all) {
            *done = take(t, p);
            st = COMPARE_TABLE_COMPLETE;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return st;
}

size_t compare_table_expire(struct compare_table *t, uint64_t now_ms, struct compare_entry **out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&t->lock);
    while (n < max && !list_empty(&t->by_deadline)) {
        struct compare_entry *e =
            CONTAINER_OF(list_first(&t->by_deadline), struct compare_entry, _by_deadline);
        if (e->deadline_ms > now_ms)
            break;
        out[n++] = take(t, slot_of(t, e->id, e->id_len));
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}

size_t compare_table_count(struct compare_table *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}
