/* Unit tests for the store of body slices (body_parts.h): slices in order,
 * out of order and from the middle outwards; duplicates, overlaps and gaps;
 * a size that changes; bodies and slices past the limits; the bounds on
 * requests and bytes, with old requests expired to make room; expiry on its
 * own; what check/take/discard do to what is held and to the counters; and
 * several threads storing and taking at once. */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "mirror/body_parts.h"

#define MS CLOCK_NS_PER_MS

static const struct body_parts_settings base_set = {
    .max_entries = 4,
    .max_bytes = 1000,
    .max_body_bytes = 500,
    .timeout_ms = 100,
};

/* The byte at offset <i> of the body of request <tag>: the same value
 * wherever it comes from, so assembled bodies can be checked byte for byte. */
static uint8_t body_byte(unsigned tag, uint64_t i)
{
    return (uint8_t)(i * 131u + tag * 7u + (i >> 8));
}

static void fill(uint8_t *dst, unsigned tag, uint64_t from, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] = body_byte(tag, from + i);
}

/* Offers bytes [off, off + len) of the <size>-byte body of request "r<tag>". */
static enum body_parts_drop put(struct body_parts *bp, unsigned tag, uint64_t size, uint64_t off, size_t len,
                                uint64_t now)
{
    char id[32];
    uint8_t part[600];
    ck_assert_uint_le(len, sizeof(part));
    snprintf(id, sizeof(id), "r%u", tag);
    fill(part, tag, off, len);
    return body_parts_put(bp, (const uint8_t *)id, strlen(id), size, off, part, len, now);
}

static enum body_parts_state check_id(struct body_parts *bp, unsigned tag, uint64_t from, uint64_t size)
{
    char id[32];
    snprintf(id, sizeof(id), "r%u", tag);
    return body_parts_check(bp, (const uint8_t *)id, strlen(id), from, size);
}

static void discard_id(struct body_parts *bp, unsigned tag, enum body_parts_drop why)
{
    char id[32];
    snprintf(id, sizeof(id), "r%u", tag);
    body_parts_discard(bp, (const uint8_t *)id, strlen(id), why);
}

/* Takes request <tag>'s body; when <want> it must be there whole, bytes
 * [from, size) as they were sent. */
static void take_id(struct body_parts *bp, unsigned tag, uint64_t from, uint64_t size, bool want)
{
    char id[32];
    snprintf(id, sizeof(id), "r%u", tag);
    uint8_t *body = body_parts_take(bp, (const uint8_t *)id, strlen(id), from, size);
    if (!want) {
        ck_assert_ptr_null(body);
        return;
    }
    ck_assert_ptr_nonnull(body);
    for (uint64_t i = from; i < size; i++)
        ck_assert_msg(body[i] == body_byte(tag, i), "request %u byte %llu", tag, (unsigned long long)i);
    free(body);
}

static struct body_parts_stats stats(struct body_parts *bp)
{
    struct body_parts_stats st;
    body_parts_stats(bp, &st);
    return st;
}

static uint64_t dropped_total(const struct body_parts_stats *st)
{
    uint64_t n = 0;
    for (int i = 0; i < BODY_PARTS_DROP_ENTRIES; i++)
        n += st->dropped[i];
    return n;
}

START_TEST(test_in_order)
{
    struct body_parts *bp = body_parts_new(&base_set);
    /* A 300-byte body: the `mirror` message holds [0, 40), slices the rest. */
    ck_assert_int_eq(put(bp, 1, 300, 40, 100, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 1, 300, 140, 100, 1), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 1, 300, 240, 60, 2), BODY_PARTS_DROP_NONE);
    struct body_parts_stats st = stats(bp);
    ck_assert_uint_eq(st.received, 3);
    ck_assert_uint_eq(st.entries, 1);
    ck_assert_uint_eq(st.bytes, 300);
    ck_assert_int_eq(check_id(bp, 1, 40, 300), BODY_PARTS_COMPLETE);
    ck_assert_int_eq(check_id(bp, 1, 40, 300), BODY_PARTS_COMPLETE); /* check leaves it held */
    take_id(bp, 1, 40, 300, true);
    st = stats(bp);
    ck_assert_uint_eq(st.assembled, 1);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_uint_eq(st.bytes, 0);
    ck_assert_uint_eq(dropped_total(&st), 0);
    /* Taken once: nothing left. */
    ck_assert_int_eq(check_id(bp, 1, 40, 300), BODY_PARTS_ABSENT);
    take_id(bp, 1, 40, 300, false);
    body_parts_free(bp);
}
END_TEST

/* The same slices in every order of three: the body comes out the same. */
START_TEST(test_any_order)
{
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    static const uint64_t off[3] = {10, 110, 210}, len[3] = {100, 100, 90};
    struct body_parts *bp = body_parts_new(&base_set);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(put(bp, 2, 300, off[orders[_i][k]], len[orders[_i][k]], 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(check_id(bp, 2, 10, 300), BODY_PARTS_COMPLETE);
    take_id(bp, 2, 10, 300, true);
    body_parts_free(bp);
}
END_TEST

START_TEST(test_duplicate_and_overlap)
{
    struct body_parts *bp = body_parts_new(&base_set);
    /* The same slice twice: the request's slices all go. */
    ck_assert_int_eq(put(bp, 3, 300, 40, 100, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 3, 300, 140, 100, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 3, 300, 40, 100, 0), BODY_PARTS_DROP_OVERLAP);
    struct body_parts_stats st = stats(bp);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_OVERLAP], 3);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_uint_eq(st.bytes, 0);
    ck_assert_int_eq(check_id(bp, 3, 40, 300), BODY_PARTS_ABSENT);
    /* Overlaps by one byte on either side, and a slice inside another. */
    static const uint64_t cases[3][2] = {{139, 10}, {30, 11}, {60, 5}};
    for (int c = 0; c < 3; c++) {
        ck_assert_int_eq(put(bp, 4, 300, 40, 100, 0), BODY_PARTS_DROP_NONE);
        ck_assert_int_eq(put(bp, 4, 300, cases[c][0], (size_t)cases[c][1], 0), BODY_PARTS_DROP_OVERLAP);
        ck_assert_int_eq(check_id(bp, 4, 40, 300), BODY_PARTS_ABSENT);
    }
    /* Touching on either side is no overlap. */
    ck_assert_int_eq(put(bp, 5, 300, 100, 50, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 5, 300, 150, 150, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 5, 300, 40, 60, 0), BODY_PARTS_DROP_NONE);
    take_id(bp, 5, 40, 300, true);
    st = stats(bp);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_OVERLAP], 3 + 3 * 2);
    body_parts_free(bp);
}
END_TEST

/* A gap (a slice missing, or the slices starting elsewhere than where the
 * `mirror` message's body ends, or stopping short) is never handed out. */
START_TEST(test_gaps)
{
    struct body_parts *bp = body_parts_new(&base_set);
    ck_assert_int_eq(put(bp, 6, 300, 40, 100, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 6, 300, 240, 60, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(check_id(bp, 6, 40, 300), BODY_PARTS_DISCARDED);
    ck_assert_int_eq(check_id(bp, 6, 40, 300), BODY_PARTS_ABSENT);
    struct body_parts_stats st = stats(bp);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_INCOMPLETE], 2);
    ck_assert_uint_eq(st.entries, 0);

    ck_assert_int_eq(put(bp, 7, 300, 40, 260, 0), BODY_PARTS_DROP_NONE);
    take_id(bp, 7, 30, 300, false); /* the message holds less than the slices assume */
    ck_assert_int_eq(put(bp, 7, 300, 40, 260, 0), BODY_PARTS_DROP_NONE);
    take_id(bp, 7, 50, 300, false); /* ... or more */
    ck_assert_int_eq(put(bp, 7, 300, 40, 200, 0), BODY_PARTS_DROP_NONE);
    take_id(bp, 7, 40, 300, false); /* the tail is missing */
    st = stats(bp);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_INCOMPLETE], 5);
    ck_assert_uint_eq(st.assembled, 0);
    ck_assert_uint_eq(st.bytes, 0);
    body_parts_free(bp);
}
END_TEST

START_TEST(test_mismatch)
{
    struct body_parts *bp = body_parts_new(&base_set);
    ck_assert_int_eq(put(bp, 8, 300, 40, 100, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 8, 301, 140, 100, 0), BODY_PARTS_DROP_MISMATCH);
    ck_assert_int_eq(check_id(bp, 8, 40, 300), BODY_PARTS_ABSENT);
    ck_assert_int_eq(put(bp, 8, 300, 40, 260, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(check_id(bp, 8, 40, 299), BODY_PARTS_DISCARDED); /* the message says another size */
    struct body_parts_stats st = stats(bp);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_MISMATCH], 3);
    ck_assert_uint_eq(st.entries, 0);
    body_parts_free(bp);
}
END_TEST

START_TEST(test_too_large)
{
    struct body_parts *bp = body_parts_new(&base_set);
    ck_assert_int_eq(put(bp, 9, 501, 40, 100, 0), BODY_PARTS_DROP_TOO_LARGE); /* above max_body_bytes */
    ck_assert_int_eq(put(bp, 9, 300, 250, 51, 0), BODY_PARTS_DROP_TOO_LARGE); /* ends past the size */
    ck_assert_int_eq(put(bp, 9, 300, 301, 1, 0), BODY_PARTS_DROP_TOO_LARGE);  /* starts past it */
    ck_assert_int_eq(put(bp, 9, UINT64_MAX, UINT64_MAX - 1, 2, 0), BODY_PARTS_DROP_TOO_LARGE);
    ck_assert_int_eq(put(bp, 9, 500, 0, 500, 0), BODY_PARTS_DROP_NONE); /* exactly the limit */
    ck_assert_int_eq(put(bp, 10, 300, 40, 0, 0), BODY_PARTS_DROP_BAD_ARGS);
    struct body_parts_stats st = stats(bp);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_TOO_LARGE], 4);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_BAD_ARGS], 1);
    ck_assert_uint_eq(st.received, 6);
    ck_assert_uint_eq(st.entries, 1);
    body_parts_free(bp);
}
END_TEST

/* max_entries and max_bytes: a full store refuses new requests (their
 * slices counted store_full) but keeps filling those it holds; a request
 * leaving makes room again. */
START_TEST(test_bounds)
{
    struct body_parts *bp = body_parts_new(&base_set);
    for (unsigned t = 0; t < 4; t++)
        ck_assert_int_eq(put(bp, 20 + t, 100, 0, 10, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 24, 100, 0, 10, 0), BODY_PARTS_DROP_STORE_FULL);
    ck_assert_int_eq(put(bp, 20, 100, 10, 90, 0), BODY_PARTS_DROP_NONE); /* held ones go on */
    take_id(bp, 20, 0, 100, true);
    ck_assert_int_eq(put(bp, 24, 100, 0, 10, 0), BODY_PARTS_DROP_NONE);
    for (unsigned t = 21; t <= 24; t++)
        discard_id(bp, t, BODY_PARTS_DROP_UNUSED);
    struct body_parts_stats st = stats(bp);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_UNUSED], 4);
    ck_assert_uint_eq(st.entries, 0);

    /* Bytes: two 500-byte bodies fill max_bytes; a third does not fit, even one byte. */
    ck_assert_int_eq(put(bp, 30, 500, 0, 10, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 31, 500, 0, 10, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 32, 1, 0, 1, 0), BODY_PARTS_DROP_STORE_FULL);
    st = stats(bp);
    ck_assert_uint_eq(st.bytes, 1000);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_STORE_FULL], 2);
    discard_id(bp, 30, BODY_PARTS_DROP_UNUSED);
    ck_assert_int_eq(put(bp, 32, 1, 0, 1, 0), BODY_PARTS_DROP_NONE);
    /* Discarding what is not held changes nothing. */
    body_parts_discard(bp, (const uint8_t *)"nope", 4, BODY_PARTS_DROP_UNUSED);
    ck_assert_uint_eq(stats(bp).dropped[BODY_PARTS_DROP_UNUSED], 5);
    body_parts_free(bp); /* frees what is still held */
}
END_TEST

START_TEST(test_expiry)
{
    struct body_parts *bp = body_parts_new(&base_set);
    ck_assert_int_eq(put(bp, 40, 300, 40, 100, 0), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 41, 300, 40, 100, 50 * MS), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 40, 300, 140, 100, 90 * MS), BODY_PARTS_DROP_NONE);
    ck_assert_uint_eq(body_parts_expire(bp, 99 * MS), 0);
    /* Measured from the first slice, not the last. */
    ck_assert_uint_eq(body_parts_expire(bp, 100 * MS), 1);
    struct body_parts_stats st = stats(bp);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_EXPIRED], 2);
    ck_assert_uint_eq(st.entries, 1);
    ck_assert_int_eq(check_id(bp, 40, 40, 300), BODY_PARTS_ABSENT);
    ck_assert_uint_eq(body_parts_expire(bp, 1000 * MS), 1);
    ck_assert_uint_eq(stats(bp).entries, 0);

    /* A full store expires old requests to make room for a new one. */
    for (unsigned t = 0; t < 4; t++)
        ck_assert_int_eq(put(bp, 50 + t, 100, 0, 10, 2000 * MS + t * 50 * MS), BODY_PARTS_DROP_NONE);
    ck_assert_int_eq(put(bp, 54, 100, 0, 10, 2120 * MS), BODY_PARTS_DROP_NONE); /* r50 expired */
    st = stats(bp);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_EXPIRED], 4);
    ck_assert_uint_eq(st.entries, 4);
    ck_assert_int_eq(check_id(bp, 50, 0, 100), BODY_PARTS_ABSENT);
    ck_assert_int_eq(check_id(bp, 52, 0, 100), BODY_PARTS_DISCARDED);
    body_parts_free(bp);
}
END_TEST

START_TEST(test_reject_and_names)
{
    struct body_parts *bp = body_parts_new(&base_set);
    body_parts_reject(bp, BODY_PARTS_DROP_BAD_ARGS);
    body_parts_reject(bp, BODY_PARTS_DROP_NONE); /* not a reason: ignored */
    struct body_parts_stats st = stats(bp);
    ck_assert_uint_eq(st.received, 1);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_BAD_ARGS], 1);
    body_parts_free(bp);
    body_parts_free(NULL);
    static const char *const names[] = {"bad_args",   "too_large", "mismatch",   "overlap",
                                        "store_full", "expired",   "incomplete", "unused"};
    ck_assert_int_eq(BODY_PARTS_DROP_ENTRIES, sizeof(names) / sizeof(names[0]));
    for (int i = 0; i < BODY_PARTS_DROP_ENTRIES; i++)
        ck_assert_str_eq(body_parts_drop_str((enum body_parts_drop)i), names[i]);
    ck_assert_str_eq(body_parts_drop_str(BODY_PARTS_DROP_NONE), "none");
}
END_TEST

/* Many ids in a small table: chains of several entries, removed from the
 * middle, first and last. */
START_TEST(test_collisions)
{
    struct body_parts_settings set = base_set;
    set.max_entries = 64;
    set.max_bytes = 64 * 100;
    struct body_parts *bp = body_parts_new(&set);
    for (unsigned t = 0; t < 64; t++)
        ck_assert_int_eq(put(bp, 100 + t, 100, 20, 80, 0), BODY_PARTS_DROP_NONE);
    for (unsigned t = 0; t < 64; t += 3)
        take_id(bp, 100 + t, 20, 100, true);
    for (unsigned t = 0; t < 64; t++)
        ck_assert_int_eq(check_id(bp, 100 + t, 20, 100),
                         t % 3 == 0 ? BODY_PARTS_ABSENT : BODY_PARTS_COMPLETE);
    for (unsigned t = 1; t < 64; t++)
        if (t % 3 != 0)
            take_id(bp, 100 + t, 20, 100, true);
    struct body_parts_stats st = stats(bp);
    ck_assert_uint_eq(st.assembled, 64);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_uint_eq(st.bytes, 0);
    body_parts_free(bp);
}
END_TEST

/* ---- threads ---- */

#define THREADS     4
#define PER_THREAD  200
#define SLICES      5
#define SLICE_LEN   40
#define THREAD_BODY (10 + SLICES * SLICE_LEN)

struct thread_arg {
    struct body_parts *bp;
    pthread_barrier_t *stored;
    unsigned first; /* its requests' tags */
    unsigned ok;
};

/* Each request's slices go in from two threads (as HAProxy may send them
 * over two connections): thread k stores the even slices of its own
 * requests and the odd slices of thread k+1's, then, once every thread has
 * stored its share, checks and takes its own. */
static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    unsigned next_first = (a->first + PER_THREAD) % (THREADS * PER_THREAD);
    for (unsigned r = 0; r < PER_THREAD; r++) {
        for (unsigned s = 0; s < SLICES; s += 2)
            put(a->bp, a->first + r, THREAD_BODY, 10 + s * SLICE_LEN, SLICE_LEN, 0);
        for (unsigned s = 1; s < SLICES; s += 2)
            put(a->bp, next_first + r, THREAD_BODY, 10 + s * SLICE_LEN, SLICE_LEN, 0);
    }
    pthread_barrier_wait(a->stored);
    for (unsigned r = 0; r < PER_THREAD; r++) {
        char id[32];
        snprintf(id, sizeof(id), "r%u", a->first + r);
        if (body_parts_check(a->bp, (const uint8_t *)id, strlen(id), 10, THREAD_BODY) != BODY_PARTS_COMPLETE)
            continue;
        uint8_t *body = body_parts_take(a->bp, (const uint8_t *)id, strlen(id), 10, THREAD_BODY);
        if (!body)
            continue;
        bool same = true;
        for (uint64_t i = 10; i < THREAD_BODY; i++)
            same &= body[i] == body_byte(a->first + r, i);
        a->ok += same;
        free(body);
    }
    return NULL;
}

START_TEST(test_threads)
{
    struct body_parts_settings set = {
        .max_entries = THREADS * PER_THREAD,
        .max_bytes = (uint64_t)THREADS * PER_THREAD * THREAD_BODY,
        .max_body_bytes = THREAD_BODY,
        .timeout_ms = 60000,
    };
    struct body_parts *bp = body_parts_new(&set);
    pthread_t th[THREADS];
    struct thread_arg args[THREADS];
    pthread_barrier_t stored;
    ck_assert_int_eq(pthread_barrier_init(&stored, NULL, THREADS), 0);
    for (int t = 0; t < THREADS; t++) {
        args[t] = (struct thread_arg){.bp = bp, .stored = &stored, .first = (unsigned)t * PER_THREAD};
        ck_assert_int_eq(pthread_create(&th[t], NULL, thread_main, &args[t]), 0);
    }
    unsigned ok = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        ok += args[t].ok;
    }
    pthread_barrier_destroy(&stored);
    struct body_parts_stats st = stats(bp);
    ck_assert_uint_eq(ok, THREADS * PER_THREAD);
    ck_assert_uint_eq(st.assembled, THREADS * PER_THREAD);
    ck_assert_uint_eq(st.received, THREADS * PER_THREAD * SLICES);
    ck_assert_uint_eq(dropped_total(&st), 0);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_uint_eq(st.bytes, 0);
    body_parts_free(bp);
}
END_TEST

Suite *body_parts_suite(void);

/* body_parts_suite: the Check suite for body_parts.h. */
Suite *body_parts_suite(void)
{
    Suite *s = suite_create("body_parts");
    TCase *tc = tcase_create("assembly");
    tcase_add_test(tc, test_in_order);
    tcase_add_loop_test(tc, test_any_order, 0, 6);
    tcase_add_test(tc, test_duplicate_and_overlap);
    tcase_add_test(tc, test_gaps);
    tcase_add_test(tc, test_mismatch);
    tcase_add_test(tc, test_too_large);
    tcase_add_test(tc, test_collisions);
    suite_add_tcase(s, tc);

    tc = tcase_create("bounds");
    tcase_add_test(tc, test_bounds);
    tcase_add_test(tc, test_expiry);
    tcase_add_test(tc, test_reject_and_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    return s;
}
