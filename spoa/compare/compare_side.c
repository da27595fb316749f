#include "compare/compare_side.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

struct compare_side *compare_side_new(uint32_t max_body, bool keep)
{
    struct compare_side *s = xcalloc(1, sizeof(*s));
    compare_body_init(&s->body, max_body, keep);
    return s;
}

void compare_side_add_header(struct compare_side *s, const char *name, size_t name_len, const char *value,
                             size_t value_len)
{
    if (s->n_headers >= COMPARE_SIDE_MAX_HEADERS) {
        s->n_headers_dropped++;
        return;
    }
    struct compare_header *h = &s->headers[s->n_headers++];
    h->name = xmalloc(name_len + 1);
    for (size_t i = 0; i < name_len; i++) {
        char c = name[i];
        h->name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    h->name[name_len] = '\0';
    h->value = xmalloc(value_len + 1);
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
    for (size_t i = 0; i < s->n_headers; i++) {
        free(s->headers[i].name);
        free(s->headers[i].value);
    }
    compare_body_free(&s->body);
    free(s);
}
