#include "mirror/body_parts.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/list.h"
#include "core/xalloc.h"
#include "mirror/route_policy.h"

/* A run of bytes of a body, [start, end). */
struct span {
    uint64_t start, end;
};

/* The slices of one request. */
struct entry {
    struct entry *hnext;  /* in its hash bucket */
    struct list_node age; /* in by_age, oldest first */
    uint64_t created_ns;  /* its first slice */
    uint64_t size;        /* the body's whole length, reserved in <body> */
    uint32_t slices;      /* slices stored */
    uint32_t nspans, cap; /* <spans>: the bytes they cover, sorted, apart and merged */
    struct span *spans;
    uint8_t *body;
    size_t id_len;
    uint8_t id[];
};

struct body_parts {
    pthread_mutex_t lock;
    struct body_parts_settings set;
    struct entry **buckets; /* nbuckets, a power of two */
    size_t nbuckets;
    struct list_node by_age;
    struct body_parts_stats st; /* entries and bytes kept current */
};

const char *body_parts_drop_str(enum body_parts_drop d)
{
    switch (d) {
#define BODY_PARTS_DROP_CASE(name, text)                                                                     \
    case BODY_PARTS_DROP_##name:                                                                             \
        return text;
        BODY_PARTS_DROP_REASONS(BODY_PARTS_DROP_CASE)
#undef BODY_PARTS_DROP_CASE
    default:
        return "none";
    }
}

struct body_parts *body_parts_new(const struct body_parts_settings *set)
{
    struct body_parts *bp = xcalloc(1, sizeof(*bp));
    bp->set = *set;
    if (bp->set.max_entries == 0)
        bp->set.max_entries = 1;
    bp->nbuckets = 1;
    while (bp->nbuckets < bp->set.max_entries)
        bp->nbuckets <<= 1;
    bp->buckets = xcalloc(bp->nbuckets, sizeof(*bp->buckets));
    list_init(&bp->by_age);
    pthread_mutex_init(&bp->lock, NULL);
    return bp;
}

/* The link that points at request <id>'s entry (or at NULL when none). */
static struct entry **find_link(struct body_parts *bp, const uint8_t *id, size_t id_len)
{
    /* Ids are short and come from HAProxy, not from clients: FNV-1a will do. */
    struct entry **link = &bp->buckets[sample_hash(id, id_len) & (bp->nbuckets - 1)];
    while (*link && ((*link)->id_len != id_len || memcmp((*link)->id, id, id_len) != 0))
        link = &(*link)->hnext;
    return link;
}

/* Unlinks the entry at *link from the table and the age list and takes its
 * reservation off the gauges; the caller frees it. */
static struct entry *unlink_entry(struct body_parts *bp, struct entry **link)
{
    struct entry *e = *link;
    *link = e->hnext;
    list_remove(&e->age);
    bp->st.entries--;
    bp->st.bytes -= e->size;
    return e;
}

static void free_entry(struct entry *e, bool with_body)
{
    if (with_body)
        free(e->body);
    free(e->spans);
    free(e);
}

/* Discards the entry at *link, its slices counted as <why>. */
static void drop_entry(struct body_parts *bp, struct entry **link, enum body_parts_drop why)
{
    struct entry *e = unlink_entry(bp, link);
    bp->st.dropped[why] += e->slices;
    free_entry(e, true);
}

static size_t expire_locked(struct body_parts *bp, uint64_t now_ns)
{
    uint64_t timeout_ns = (uint64_t)bp->set.timeout_ms * CLOCK_NS_PER_MS;
    size_t n = 0;
    struct list_node *first;
    while ((first = list_first(&bp->by_age)) != NULL) {
        struct entry *e = list_entry(first, struct entry, age);
        if (now_ns < e->created_ns || now_ns - e->created_ns < timeout_ns)
            break;
        drop_entry(bp, find_link(bp, e->id, e->id_len), BODY_PARTS_DROP_EXPIRED);
        n++;
    }
    return n;
}

/* A new entry for request <id>, or NULL when the store has no room for
 * <size> more bytes or one more request even after expiring old ones. */
static struct entry *new_entry(struct body_parts *bp, struct entry **link, const uint8_t *id, size_t id_len,
                               uint64_t size, uint64_t now_ns)
{
    if (bp->st.entries >= bp->set.max_entries || size > bp->set.max_bytes - bp->st.bytes) {
        if (expire_locked(bp, now_ns) == 0)
            return NULL;
        link = find_link(bp, id, id_len); /* the chain may have changed */
        if (bp->st.entries >= bp->set.max_entries || size > bp->set.max_bytes - bp->st.bytes)
            return NULL;
    }
    struct entry *e = xcalloc(1, sizeof(*e) + id_len);
    memcpy(e->id, id, id_len);
    e->id_len = id_len;
    e->size = size;
    e->created_ns = now_ns;
    e->body = xmalloc(size ? size : 1);
    e->hnext = NULL;
    *link = e;
    list_push_back(&bp->by_age, &e->age);
    bp->st.entries++;
    bp->st.bytes += size;
    return e;
}

/* Adds [start, end) to e's spans; false when it meets a span already there. */
static bool add_span(struct entry *e, uint64_t start, uint64_t end)
{
    uint32_t i = 0;
    while (i < e->nspans && e->spans[i].end <= start)
        i++;
    if (i < e->nspans && e->spans[i].start < end)
        return false;
    bool join_prev = i > 0 && e->spans[i - 1].end == start;
    bool join_next = i < e->nspans && e->spans[i].start == end;
    if (join_prev && join_next) {
        e->spans[i - 1].end = e->spans[i].end;
        memmove(&e->spans[i], &e->spans[i + 1], (e->nspans - i - 1) * sizeof(*e->spans));
        e->nspans--;
    } else if (join_prev) {
        e->spans[i - 1].end = end;
    } else if (join_next) {
        e->spans[i].start = start;
    } else {
        if (e->nspans == e->cap) {
            e->cap = e->cap ? e->cap * 2 : 4;
            e->spans = xrealloc(e->spans, e->cap * sizeof(*e->spans));
        }
        memmove(&e->spans[i + 1], &e->spans[i], (e->nspans - i) * sizeof(*e->spans));
        e->spans[i] = (struct span){start, end};
        e->nspans++;
    }
    return true;
}

enum body_parts_drop body_parts_put(struct body_parts *bp, const uint8_t *id, size_t id_len, uint64_t size,
                                    uint64_t offset, const uint8_t *part, size_t len, uint64_t now_ns)
{
    enum body_parts_drop why = BODY_PARTS_DROP_NONE;
    pthread_mutex_lock(&bp->lock);
    bp->st.received++;
    struct entry **link = find_link(bp, id, id_len);
    if (len == 0) {
        why = BODY_PARTS_DROP_BAD_ARGS; /* covers nothing */
    } else if (size > bp->set.max_body_bytes || offset > size || len > size - offset) {
        why = BODY_PARTS_DROP_TOO_LARGE;
    } else if (*link && (*link)->size != size) {
        why = BODY_PARTS_DROP_MISMATCH;
        drop_entry(bp, link, why);
    } else {
        struct entry *e = *link ? *link : new_entry(bp, link, id, id_len, size, now_ns);
        if (!e) {
            why = BODY_PARTS_DROP_STORE_FULL;
        } else if (!add_span(e, offset, offset + len)) {
            why = BODY_PARTS_DROP_OVERLAP;
            drop_entry(bp, find_link(bp, id, id_len), why);
        } else {
            memcpy(e->body + offset, part, len);
            e->slices++;
        }
    }
    if (why != BODY_PARTS_DROP_NONE)
        bp->st.dropped[why]++;
    pthread_mutex_unlock(&bp->lock);
    return why;
}

void body_parts_reject(struct body_parts *bp, enum body_parts_drop why)
{
    if (why >= BODY_PARTS_DROP_ENTRIES)
        return;
    pthread_mutex_lock(&bp->lock);
    bp->st.received++;
    bp->st.dropped[why]++;
    pthread_mutex_unlock(&bp->lock);
}

/* Whether e's slices cover exactly [from, size) of a <size>-byte body; when
 * they do not, *why says how. */
static bool covers(const struct entry *e, uint64_t from, uint64_t size, enum body_parts_drop *why)
{
    if (e->size != size) {
        *why = BODY_PARTS_DROP_MISMATCH;
        return false;
    }
    *why = BODY_PARTS_DROP_INCOMPLETE;
    return e->nspans == 1 && e->spans[0].start == from && e->spans[0].end == size;
}

enum body_parts_state body_parts_check(struct body_parts *bp, const uint8_t *id, size_t id_len, uint64_t from,
                                       uint64_t size)
{
    enum body_parts_state state = BODY_PARTS_ABSENT;
    pthread_mutex_lock(&bp->lock);
    struct entry **link = find_link(bp, id, id_len);
    if (*link) {
        enum body_parts_drop why;
        if (covers(*link, from, size, &why)) {
            state = BODY_PARTS_COMPLETE;
        } else {
            drop_entry(bp, link, why);
            state = BODY_PARTS_DISCARDED;
        }
    }
    pthread_mutex_unlock(&bp->lock);
    return state;
}

uint8_t *body_parts_take(struct body_parts *bp, const uint8_t *id, size_t id_len, uint64_t from,
                         uint64_t size)
{
    uint8_t *body = NULL;
    pthread_mutex_lock(&bp->lock);
    struct entry **link = find_link(bp, id, id_len);
    if (*link) {
        enum body_parts_drop why;
        if (covers(*link, from, size, &why)) {
            struct entry *e = unlink_entry(bp, link);
            body = e->body;
            free_entry(e, false);
            bp->st.assembled++;
        } else {
            drop_entry(bp, link, why);
        }
    }
    pthread_mutex_unlock(&bp->lock);
    return body;
}

void body_parts_discard(struct body_parts *bp, const uint8_t *id, size_t id_len, enum body_parts_drop why)
{
    if (why >= BODY_PARTS_DROP_ENTRIES)
        return;
    pthread_mutex_lock(&bp->lock);
    struct entry **link = find_link(bp, id, id_len);
    if (*link)
        drop_entry(bp, link, why);
    pthread_mutex_unlock(&bp->lock);
}

size_t body_parts_expire(struct body_parts *bp, uint64_t now_ns)
{
    pthread_mutex_lock(&bp->lock);
    size_t n = expire_locked(bp, now_ns);
    pthread_mutex_unlock(&bp->lock);
    return n;
}

void body_parts_stats(struct body_parts *bp, struct body_parts_stats *out)
{
    pthread_mutex_lock(&bp->lock);
    *out = bp->st;
    pthread_mutex_unlock(&bp->lock);
}

void body_parts_free(struct body_parts *bp)
{
    if (!bp)
        return;
    struct list_node *it, *tmp;
    list_for_each_safe(it, tmp, &bp->by_age) {
        struct entry *e = list_entry(it, struct entry, age);
        free_entry(e, true);
    }
    free(bp->buckets);
    pthread_mutex_destroy(&bp->lock);
    free(bp);
}
