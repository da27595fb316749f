/* See block_pool.h. */
#include "core/block_pool.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BLOCK_POOL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define BLOCK_POOL_ASAN 1
#endif
#ifdef BLOCK_POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define MIN_CLASS_SHIFT 6 /* 64 bytes */
#define BIG_CLASS       BLOCK_POOL_CLASSES

/* Before every block: its class and the bytes it can hold, in a header
 * that keeps the block aligned for any type. */
struct block_head {
    alignas(max_align_t) size_t capacity;
    unsigned cls; /* 0..BLOCK_POOL_CLASSES-1, or BIG_CLASS (from malloc, never kept) */
};

static size_t class_size(unsigned cls)
{
    return (size_t)1 << (cls + MIN_CLASS_SHIFT);
}

/* The class of a block of <size> bytes: the smallest that holds it, or BIG_CLASS. */
static unsigned class_of(size_t size)
{
    unsigned cls = 0;
    while (cls < BLOCK_POOL_CLASSES && class_size(cls) < size)
        cls++;
    return cls;
}

static struct block_head *head_of(void *ptr)
{
    return (struct block_head *)ptr - 1;
}

void block_pool_init(struct block_pool *p, size_t max_kept_bytes)
{
    memset(p, 0, sizeof(*p));
    p->max_kept_bytes = max_kept_bytes;
}

void block_pool_release(struct block_pool *p)
{
    for (unsigned cls = 0; cls < BLOCK_POOL_CLASSES; cls++) {
        void *b = p->free_list[cls];
        while (b != NULL) {
            UNPOISON(head_of(b), sizeof(struct block_head) + class_size(cls));
            void *next = *(void **)b;
            free(head_of(b));
            b = next;
        }
        p->free_list[cls] = NULL;
    }
    p->kept_bytes = 0;
}

void *block_pool_malloc(struct block_pool *p, size_t size)
{
    unsigned cls = class_of(size);
    void *b = cls < BLOCK_POOL_CLASSES ? p->free_list[cls] : NULL;
    if (b != NULL) {
        UNPOISON(head_of(b), sizeof(struct block_head) + class_size(cls));
        p->free_list[cls] = *(void **)b;
        p->kept_bytes -= class_size(cls);
        p->live++;
        return b;
    }
    size_t capacity = cls < BLOCK_POOL_CLASSES ? class_size(cls) : size;
    if (capacity > SIZE_MAX - sizeof(struct block_head))
        return NULL;
    struct block_head *h = malloc(sizeof(*h) + capacity);
    if (h == NULL)
        return NULL;
    h->capacity = capacity;
    h->cls = cls;
    p->live++;
    return h + 1;
}

void *block_pool_calloc(struct block_pool *p, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *b = block_pool_malloc(p, n * size);
    if (b != NULL)
        memset(b, 0, n * size);
    return b;
}

void *block_pool_realloc(struct block_pool *p, void *ptr, size_t size)
{
    if (ptr == NULL)
        return block_pool_malloc(p, size);
    if (size == 0) {
        block_pool_free(p, ptr);
        return NULL;
    }
    size_t capacity = head_of(ptr)->capacity;
    if (size <= capacity)
        return ptr;
    void *b = block_pool_malloc(p, size);
    if (b == NULL)
        return NULL;
    memcpy(b, ptr, capacity);
    block_pool_free(p, ptr);
    return b;
}

void block_pool_free(struct block_pool *p, void *ptr)
{
    if (ptr == NULL)
        return;
    struct block_head *h = head_of(ptr);
    unsigned cls = h->cls;
    p->live--;
    if (cls >= BLOCK_POOL_CLASSES || p->kept_bytes + class_size(cls) > p->max_kept_bytes) {
        free(h);
        return;
    }
    *(void **)ptr = p->free_list[cls];
    p->free_list[cls] = ptr;
    p->kept_bytes += class_size(cls);
    POISON(h, sizeof(*h) + class_size(cls)); /* the pool unpoisons the link before reading it */
}

size_t block_pool_live(const struct block_pool *p)
{
    return p->live;
}
