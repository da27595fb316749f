/* The match table: where the two sides of a compared request wait for each
 * other, keyed by the request's unique-id. An entry is opened when the
 * request is chosen for comparison (with one slot per compared mirror);
 * the primary's answer (from HAProxy's response message, on any SPOP
 * connection and so any worker thread) and each mirror's answer (from the
 * worker that sent the copy) are put in as they come. The entry leaves the
 * table complete, or expired at its deadline; the table never holds more
 * than its capacity. Thread-safe: one mutex, held for table operations only
 * (no comparison runs under it). */
#ifndef SPOA_COMPARE_TABLE_H
#define SPOA_COMPARE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compare/compare_side.h"
#include "core/list.h"

/* The primary's slot, for compare_table_put. */
#define COMPARE_SLOT_PRIMARY (-1)
/* Compared mirrors per request at most. */
#define COMPARE_MAX_SLOTS 64
/* Longest unique-id kept. */
#define COMPARE_MAX_ID 256

/* One compared request. Read its fields once it left the table. */
struct compare_entry {
    char *id; /* NUL-terminated copy, in the entry's own block */
    size_t id_len;
    uint64_t deadline_ms;
    void *ctx;                    /* the caller's, given at open */
    struct compare_side *primary; /* NULL until it came */
    uint64_t have;                /* bit i: shadows[i] came */
    size_t n_slots;
    struct compare_entry *_next; /* hash chain */
    struct list_node _by_deadline;
    struct compare_side *shadows[]; /* n_slots, NULL until each came */
};

enum compare_table_status {
    COMPARE_TABLE_OK = 0,    /* opened, or stored and still waiting */
    COMPARE_TABLE_COMPLETE,  /* stored, and every side is in: the entry left the table (*done) */
    COMPARE_TABLE_FULL,      /* open: capacity entries already wait */
    COMPARE_TABLE_DUPLICATE, /* open: the id is already there; put: that slot was already filled */
    COMPARE_TABLE_UNKNOWN,   /* put: no entry with that id (never opened, expired or complete) */
    COMPARE_TABLE_INVALID,   /* an empty or too long id, no slots or too many, a slot out of range */
};

/* compare_table_status_str: the snake_case name of <s>. */
const char *compare_table_status_str(enum compare_table_status s);

struct compare_table;

/* compare_table_new: an empty table holding at most <capacity> (>= 1)
 * entries; <ctx_free> (may be NULL) releases the ctx of entries the table
 * itself frees (compare_table_free). */
struct compare_table *compare_table_new(uint32_t capacity, void (*ctx_free)(void *ctx));

/* compare_table_free: frees the table and any entry still in it. NULL is fine. */
void compare_table_free(struct compare_table *t);

/* compare_table_open: opens the entry of <id> (<id_len> bytes) with
 * <n_slots> mirror slots (1..COMPARE_MAX_SLOTS), expiring at <deadline_ms>,
 * holding <ctx> (not owned unless the table frees the entry). */
enum compare_table_status compare_table_open(struct compare_table *t, const void *id, size_t id_len,
                                             size_t n_slots, uint64_t deadline_ms, void *ctx);

/* compare_table_put: stores <side> in slot <slot> (COMPARE_SLOT_PRIMARY or
 * a mirror slot) of the entry of <id>. OK and COMPLETE take the side (and
 * on COMPLETE the entry goes to *done, the caller's to free with
 * compare_entry_free); any other status leaves the side to the caller. */
enum compare_table_status compare_table_put(struct compare_table *t, const void *id, size_t id_len, int slot,
                                            struct compare_side *side, struct compare_entry **done);

/* compare_table_expire: moves up to <max> entries whose deadline is at or
 * before <now_ms> out of the table into <out>, earliest first, and returns
 * how many. The caller frees each with compare_entry_free. */
size_t compare_table_expire(struct compare_table *t, uint64_t now_ms, struct compare_entry **out, size_t max);

/* compare_table_count: entries waiting now. */
size_t compare_table_count(struct compare_table *t);

/* compare_entry_free: frees <e>, its id and its sides (not its ctx). NULL is fine. */
void compare_entry_free(struct compare_entry *e);

#endif
