#include "compare/compare_collect.h"

#include <stdlib.h>
#include <string.h>

void compare_collect_init(struct compare_collect *c, const struct compare_rules *rules,
                          struct compare_side *side)
{
    /* name and value are written before they are read: not cleared. */
    c->rules = rules;
    c->side = side;
    c->name_len = c->value_len = 0;
    c->name_cut = c->in_value = c->have_pair = false;
}

/* Keeps the pair collected, when wanted, and starts afresh. */
static void flush(struct compare_collect *c)
{
    if (c->have_pair && !c->name_cut && compare_rules_wants_header(c->rules, c->name, c->name_len))
        compare_side_add_header(c->side, c->name, c->name_len, c->value, c->value_len);
    c->name_len = 0;
    c->value_len = 0;
    c->name_cut = false;
    c->in_value = false;
    c->have_pair = false;
}

void compare_collect_begin(struct compare_collect *c)
{
    c->have_pair = false;
    flush(c);
    compare_side_clear_headers(c->side);
}

void compare_collect_field(struct compare_collect *c, const char *p, size_t n)
{
    if (c->in_value)
        flush(c);
    size_t room = COMPARE_COLLECT_NAME_CAP - c->name_len;
    if (n > room) {
        c->name_cut = true;
        n = room;
    }
    memcpy(c->name + c->name_len, p, n);
    c->name_len += n;
    c->have_pair = true;
}

void compare_collect_value(struct compare_collect *c, const char *p, size_t n)
{
    c->in_value = true;
    size_t room = COMPARE_COLLECT_VALUE_CAP - c->value_len;
    if (n > room)
        n = room;
    memcpy(c->value + c->value_len, p, n);
    c->value_len += n;
}

void compare_collect_headers_done(struct compare_collect *c)
{
    flush(c);
}

void compare_collect_body(struct compare_collect *c, const char *p, size_t n)
{
    compare_body_feed(&c->side->body, p, n);
}
