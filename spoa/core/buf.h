/* A growable byte buffer with a hard size limit: bytes are appended at the
 * end and consumed from the front. Used for socket input and output. */
#ifndef SPOA_BUF_H
#define SPOA_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
    uint8_t *data;
    size_t head;  /* first unconsumed byte */
    size_t len;   /* bytes after head */
    size_t cap;   /* allocated bytes */
    size_t limit; /* cap never grows beyond this */
};

/* buf_init: an empty buffer that may grow up to <limit> bytes; allocates nothing. */
void buf_init(struct buf *b, size_t limit);

/* buf_free: releases the storage; the buffer is empty afterwards and reusable. */
void buf_free(struct buf *b);

/* buf_reserve: makes room for <n> more bytes after the data, compacting or
 * growing (up to the limit) as needed. Returns a pointer to the free space, or
 * NULL when the limit does not allow it. Aborts on out-of-memory. */
uint8_t *buf_reserve(struct buf *b, size_t n);

/* buf_tail / buf_room: the free space after the data and its size (may be 0). */
uint8_t *buf_tail(struct buf *b);
size_t buf_room(const struct buf *b);

/* buf_commit: marks <n> bytes written at buf_tail() as data. */
void buf_commit(struct buf *b, size_t n);

/* buf_peek: the unconsumed data (valid until the next reserve/append). */
const uint8_t *buf_peek(const struct buf *b);

/* buf_consume: drops <n> bytes (n <= len) from the front. */
void buf_consume(struct buf *b, size_t n);

/* buf_append: copies <n> bytes in. Returns false when the limit forbids it. */
bool buf_append(struct buf *b, const void *p, size_t n);

/* buf_shrink: frees the storage when the buffer is empty and holds more than
 * <keep> bytes, so that idle connections do not pin large buffers. */
void buf_shrink(struct buf *b, size_t keep);

#endif
