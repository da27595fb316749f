/* block_pool: a free-list allocator for the small blocks one owner allocates
 * and frees in quick succession, on one thread.
 *
 * An HTTP/2 session allocates about a dozen blocks per stream (the stream,
 * its frames, the header fields of the answer, the entries the server adds
 * to the header table) and frees as many when the answer has been read. A
 * read of 35 answers frees them in a burst that overflows glibc's
 * per-thread cache (7 blocks per size), and the overflow takes the slow
 * path of free(). The pool keeps freed blocks of five size classes (up to
 * 1 KiB) on lists of its own, up to a cap, and hands them out again; larger
 * blocks go to malloc and free directly.
 *
 * Not thread-safe: one pool per owner (an HTTP/2 connection). Every block
 * must be freed before the pool is. Under AddressSanitizer, kept blocks are
 * poisoned, so a use after free is still reported. */
#ifndef SPOA_BLOCK_POOL_H
#define SPOA_BLOCK_POOL_H

#include <stddef.h>

#define BLOCK_POOL_CLASSES 5 /* 64, 128, 256, 512 and 1024 bytes */

struct block_pool {
    void *free_list[BLOCK_POOL_CLASSES]; /* kept blocks, linked through their first bytes */
    size_t max_kept_bytes;               /* what the lists may hold in all */
    size_t kept_bytes;
    size_t live; /* blocks handed out and not freed yet (of every size) */
};

/* block_pool_init: an empty pool that keeps at most <max_kept_bytes> of
 * freed blocks (0: keeps none, every call goes to malloc and free). */
void block_pool_init(struct block_pool *p, size_t max_kept_bytes);

/* block_pool_release: frees the kept blocks. Every block handed out must
 * have been freed (block_pool_live() is 0); <p> may be initialised again. */
void block_pool_release(struct block_pool *p);

/* block_pool_malloc: a block of at least <size> bytes, aligned for any
 * type, or NULL when memory runs out (as malloc). <size> 0 gives a block. */
void *block_pool_malloc(struct block_pool *p, size_t size);

/* block_pool_calloc: <n> * <size> zeroed bytes, or NULL on overflow or when
 * memory runs out (as calloc). */
void *block_pool_calloc(struct block_pool *p, size_t n, size_t size);

/* block_pool_realloc: as realloc: <ptr> (from this pool, or NULL) resized
 * to <size> bytes, its contents kept up to the smaller size; the same
 * pointer when its block is large enough. <size> 0 frees <ptr> and returns
 * NULL. On failure NULL, and <ptr> is untouched. */
void *block_pool_realloc(struct block_pool *p, void *ptr, size_t size);

/* block_pool_free: gives back <ptr> (from this pool, or NULL): kept for
 * reuse when its class's list has room, else freed. */
void block_pool_free(struct block_pool *p, void *ptr);

/* block_pool_live: how many blocks are handed out and not freed yet. */
size_t block_pool_live(const struct block_pool *p);

#endif
