/* Allocation that never returns NULL: out of memory is fatal. Thin libc
 * wrappers, so sanitizers see every allocation. Memory is bounded by the
 * callers' limits (queues, buffers), not by NULL checks. */
#ifndef SPOA_XALLOC_H
#define SPOA_XALLOC_H

#include <stddef.h>

/* xmalloc / xcalloc / xrealloc / xstrdup / xmemdup: as libc, but abort with a
 * message on failure. Callers own the result and free() it. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void *xmemdup(const void *p, size_t n);

#endif
