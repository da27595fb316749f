/* One intrusive, circular, doubly linked list: a struct list_node is embedded
 * in each element and the list's head is a node of its own, so insertion and
 * removal are O(1) and need no allocation. Elements are recovered with
 * CONTAINER_OF (core/container_of.h). Not thread-safe: one owner. */
#ifndef SPOA_CORE_LIST_H
#define SPOA_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/container_of.h"

struct list_node {
    struct list_node *prev, *next;
};

/* list_init: makes <head> an empty list (or marks a node as unlinked). */
static inline void list_init(struct list_node *head)
{
    head->prev = head->next = head;
}

/* list_empty: true when <head> has no element (or a node is unlinked). */
static inline bool list_empty(const struct list_node *head)
{
    return head->next == head;
}

static inline void list_link_between(struct list_node *n, struct list_node *prev, struct list_node *next)
{
    n->prev = prev;
    n->next = next;
    prev->next = n;
    next->prev = n;
}

/* list_push_front: links <n> (unlinked) as the first element of <head>. */
static inline void list_push_front(struct list_node *head, struct list_node *n)
{
    list_link_between(n, head, head->next);
}

/* list_push_back: links <n> (unlinked) as the last element of <head>. */
static inline void list_push_back(struct list_node *head, struct list_node *n)
{
    list_link_between(n, head->prev, head);
}

/* list_remove: unlinks <n> from its list and leaves it unlinked (list_empty(n)). */
static inline void list_remove(struct list_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    list_init(n);
}

/* list_first: the first node of <head>, or NULL when the list is empty. */
static inline struct list_node *list_first(const struct list_node *head)
{
    return list_empty(head) ? NULL : head->next;
}

/* list_entry: the element of type <type> whose member <member> is node <n>. */
#define list_entry(n, type, member) CONTAINER_OF(n, type, member)

/* list_for_each_safe: walks <head> with <it>, which may be removed inside the body. */
#define list_for_each_safe(it, tmp, head)                                                                    \
    for ((it) = (head)->next, (tmp) = (it)->next; (it) != (head); (it) = (tmp), (tmp) = (it)->next)

#endif
