/* The slices of request bodies larger than one SPOP frame, held until the
 * request's `mirror` message asks for them. HAProxy sends each slice in a
 * NOTIFY of its own, before the `mirror` message, possibly over other SPOP
 * connections (so other worker threads) than that message: the store is
 * shared by every worker, behind one mutex. A request's slices are kept in
 * one buffer of the body's whole size, reserved at its first slice, and
 * handed out only when they cover exactly the part of the body the `mirror`
 * message lacks. Bounded in requests and in bytes; a request's slices are
 * discarded when it waits too long, and every slice discarded is counted by
 * reason. Pure: no I/O, no clock of its own (callers pass the time). */
#ifndef SPOA_BODY_PARTS_H
#define SPOA_BODY_PARTS_H

#include <stddef.h>
#include <stdint.h>

/* Why slices were discarded. */
/* clang-format off */
#define BODY_PARTS_DROP_REASONS(X) \
    X(BAD_ARGS,   "bad_args")   /* the slice message lacked id, offset, size or part, or had a wrong type */ \
    X(TOO_LARGE,  "too_large")  /* the body is above max_body_bytes, or the slice ends past its size */      \
    X(MISMATCH,   "mismatch")   /* another slice or the `mirror` message gave the request another size */    \
    X(OVERLAP,    "overlap")    /* it overlapped or repeated a slice already held */                          \
    X(STORE_FULL, "store_full") /* max_entries or max_bytes was reached */                                    \
    X(EXPIRED,    "expired")    /* no `mirror` message came within timeout_ms */                              \
    X(INCOMPLETE, "incomplete") /* the `mirror` message came and the slices did not cover the rest */         \
    X(UNUSED,     "unused")     /* the request was not mirrored (not sampled, no route, bad arguments) */
/* clang-format on */

enum body_parts_drop {
#define BODY_PARTS_DROP_ENUM(name, text) BODY_PARTS_DROP_##name,
    BODY_PARTS_DROP_REASONS(BODY_PARTS_DROP_ENUM)
#undef BODY_PARTS_DROP_ENUM
        BODY_PARTS_DROP_ENTRIES,
    BODY_PARTS_DROP_NONE = BODY_PARTS_DROP_ENTRIES /* stored */
};

/* body_parts_drop_str: the snake_case name of <d> ("bad_args", ...). */
const char *body_parts_drop_str(enum body_parts_drop d);

struct body_parts_settings {
    uint32_t max_entries;    /* requests whose slices are held at once, >= 1 */
    uint64_t max_bytes;      /* bytes reserved for them: each reserves its body's size */
    uint64_t max_body_bytes; /* the largest body assembled */
    uint32_t timeout_ms;     /* a request's slices go this long after its first one */
};

/* What a request's slices are worth to its `mirror` message. */
enum body_parts_state {
    BODY_PARTS_ABSENT = 0, /* no slice is held for the request */
    BODY_PARTS_COMPLETE,   /* they cover exactly the rest of the body */
    BODY_PARTS_DISCARDED,  /* they did not: discarded and counted */
};

/* Counters and gauges of a store, read together. */
struct body_parts_stats {
    uint64_t received;                         /* slices offered, stored or not */
    uint64_t assembled;                        /* bodies handed out whole */
    uint64_t dropped[BODY_PARTS_DROP_ENTRIES]; /* slices discarded, by reason */
    uint64_t entries;                          /* requests held now */
    uint64_t bytes;                            /* bytes reserved now */
};

struct body_parts;

/* body_parts_new: an empty store bounded by *set (copied). */
struct body_parts *body_parts_new(const struct body_parts_settings *set);

/* body_parts_free: releases the store and every slice it holds (uncounted);
 * NULL is fine. No other thread may use it any more. */
void body_parts_free(struct body_parts *bp);

/* body_parts_put: stores the <len> bytes at <part>, bytes [offset,
 * offset + len) of the <size>-byte body of the request <id> (<id_len> bytes),
 * at time <now_ns>. The first slice of a request reserves its whole size;
 * requests older than timeout_ms are discarded first when room is needed.
 * Returns BODY_PARTS_DROP_NONE when stored; otherwise the reason it was
 * discarded (a MISMATCH or OVERLAP discards the request's other slices as
 * well). Copies what it keeps. Any thread. */
enum body_parts_drop body_parts_put(struct body_parts *bp, const uint8_t *id, size_t id_len, uint64_t size,
                                    uint64_t offset, const uint8_t *part, size_t len, uint64_t now_ns);

/* body_parts_reject: counts one slice discarded for <why> before it could
 * be offered (e.g. BODY_PARTS_DROP_BAD_ARGS). Any thread. */
void body_parts_reject(struct body_parts *bp, enum body_parts_drop why);

/* body_parts_check: whether the slices of request <id> cover exactly bytes
 * [from, size) of its <size>-byte body. COMPLETE leaves them held, for
 * body_parts_take(); when they do not, they are discarded (INCOMPLETE, or
 * MISMATCH when they were for another size) and DISCARDED is returned. Any
 * thread. */
enum body_parts_state body_parts_check(struct body_parts *bp, const uint8_t *id, size_t id_len, uint64_t from,
                                       uint64_t size);

/* body_parts_take: removes the slices of request <id>. When they cover
 * exactly [from, size), returns the body's buffer (<size> bytes, one
 * allocation the caller frees), holding them at their offsets: the caller
 * writes bytes [0, from). Otherwise returns NULL, the slices (if any)
 * discarded and counted as for body_parts_check(). Any thread. */
uint8_t *body_parts_take(struct body_parts *bp, const uint8_t *id, size_t id_len, uint64_t from,
                         uint64_t size);

/* body_parts_discard: discards the slices of request <id>, if any, counted
 * as <why>. Any thread. */
void body_parts_discard(struct body_parts *bp, const uint8_t *id, size_t id_len, enum body_parts_drop why);

/* body_parts_expire: discards (EXPIRED) the requests whose first slice came
 * timeout_ms or more before <now_ns>. Returns how many. Any thread. */
size_t body_parts_expire(struct body_parts *bp, uint64_t now_ns);

/* body_parts_stats: the store's counters and gauges, read at one instant. Any thread. */
void body_parts_stats(struct body_parts *bp, struct body_parts_stats *out);

#endif
