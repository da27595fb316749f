#include "compare/compare_side.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

/* A string block past the side's inline bytes. */
struct spill {
    struct spill *next;
    char bytes[];
};

struct compare_side *compare_side_new(uint32_t max_body, bool keep)
{
    /* The arrays at the end are written before they are read: not cleared. */
    struct compare_side *s = xmalloc(sizeof(*s));
    memset(s, 0, offsetof(struct compare_side, headers));
    compare_body_init(&s->body, max_body, keep);
    return s;
}

/* <n> bytes for a string of <s>: inline while they last. */
static char *string_room(struct compare_side *s, size_t n)
{
    if (n <= sizeof(s->strings) - s->strings_used) {
        char *p = s->strings + s->strings_used;
        s->strings_used += n;
        return p;
    }
    struct spill *b = xmalloc(sizeof(*b) + n);
    b->next = s->spilled;
    s->spilled = b;
    return b->bytes;
}

void compare_side_clear_headers(struct compare_side *s)
{
    for (struct spill *b = s->spilled, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    s->spilled = NULL;
    s->strings_used = 0;
    s->n_headers = 0;
    s->n_headers_dropped = 0;
}

void compare_side_add_header(struct compare_side *s, const char *name, size_t name_len, const char *value,
                             size_t value_len)
{
    if (s->n_headers >= COMPARE_SIDE_MAX_HEADERS) {
        s->n_headers_dropped++;
        return;
    }
    struct compare_header *h = &s->headers[s->n_headers++];
    h->name = string_room(s, name_len + 1 + value_len + 1);
    for (size_t i = 0; i < name_len; i++) {
        char c = name[i];
        h->name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    h->name[name_len] = '\0';
    h->value = h->name + name_len + 1;
    memcpy(h->value, value, value_len);
    h->value[value_len] = '\0';
}

void compare_side_fail(struct compare_side *s, const char *reason)
{
    s->failed = true;
    snprintf(s->reason, sizeof(s->reason), "%s", reason);
}

void compare_side_free(struct compare_side *s)
{
    if (!s)
        return;
    compare_side_clear_headers(s);
    compare_body_free(&s->body);
    free(s);
}
