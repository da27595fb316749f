#include "core/buf.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

void buf_init(struct buf *b, size_t limit)
{
    *b = (struct buf){.limit = limit};
}

void buf_free(struct buf *b)
{
    free(b->data);
    size_t limit = b->limit;
    buf_init(b, limit);
}

uint8_t *buf_reserve(struct buf *b, size_t n)
{
    if (b->len == 0)
        b->head = 0;
    if (b->cap - b->head - b->len >= n)
        return b->data + b->head + b->len;
    if (n > b->limit || b->len > b->limit - n)
        return NULL;
    if (b->cap >= b->len + n) {
        memmove(b->data, b->data + b->head, b->len);
        b->head = 0;
        return b->data + b->len;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
        cap *= 2;
    if (cap > b->limit)
        cap = b->limit;
    uint8_t *data = xmalloc(cap);
    if (b->len)
        memcpy(data, b->data + b->head, b->len);
    free(b->data);
    b->data = data;
    b->cap = cap;
    b->head = 0;
    return b->data + b->len;
}

uint8_t *buf_tail(struct buf *b)
{
    return b->data + b->head + b->len;
}

size_t buf_room(const struct buf *b)
{
    return b->cap - b->head - b->len;
}

void buf_commit(struct buf *b, size_t n)
{
    b->len += n;
}

const uint8_t *buf_peek(const struct buf *b)
{
    return b->data + b->head;
}

void buf_consume(struct buf *b, size_t n)
{
    b->head += n;
    b->len -= n;
    if (b->len == 0)
        b->head = 0;
}

bool buf_append(struct buf *b, const void *p, size_t n)
{
    uint8_t *dst = buf_reserve(b, n);
    if (!dst)
        return false;
    if (n)
        memcpy(dst, p, n);
    b->len += n;
    return true;
}

void buf_shrink(struct buf *b, size_t keep)
{
    if (b->len == 0 && b->cap > keep)
        buf_free(b);
}
