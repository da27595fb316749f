/* Unit tests for the match table (compare_table.h): both sides in either
 * order, one entry per id, the capacity, unknown and invalid puts, expiry
 * earliest first whatever the order of opening, entries left at free
 * (LeakSanitizer), and threads putting the two sides of the same requests
 * at once. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare/compare_table.h"

static struct compare_side *mk(uint16_t status)
{
    struct compare_side *s = compare_side_new(16, false);
    s->status = status;
    return s;
}

START_TEST(both_orders)
{
    struct compare_table *t = compare_table_new(4, NULL);
    struct compare_entry *done = NULL;
    int ctx = 7;
    ck_assert_int_eq(compare_table_open(t, "a", 1, 2, 100, &ctx), COMPARE_TABLE_OK);
    ck_assert_int_eq(compare_table_open(t, "a", 1, 1, 100, NULL), COMPARE_TABLE_DUPLICATE);
    ck_assert_int_eq(compare_table_put(t, "a", 1, 1, mk(201), &done), COMPARE_TABLE_OK);
    ck_assert_int_eq(compare_table_put(t, "a", 1, COMPARE_SLOT_PRIMARY, mk(200), &done), COMPARE_TABLE_OK);
    struct compare_side *dup = mk(1);
    ck_assert_int_eq(compare_table_put(t, "a", 1, COMPARE_SLOT_PRIMARY, dup, &done), COMPARE_TABLE_DUPLICATE);
    ck_assert_int_eq(compare_table_put(t, "a", 1, 1, dup, &done), COMPARE_TABLE_DUPLICATE);
    ck_assert_int_eq(compare_table_put(t, "a", 1, 2, dup, &done), COMPARE_TABLE_INVALID);
    ck_assert_ptr_null(done);
    ck_assert_int_eq(compare_table_put(t, "a", 1, 0, mk(202), &done), COMPARE_TABLE_COMPLETE);
    ck_assert_ptr_nonnull(done);
    ck_assert_str_eq(done->id, "a");
    ck_assert_ptr_eq(done->ctx, &ctx);
    ck_assert_uint_eq(done->primary->status, 200);
    ck_assert_uint_eq(done->shadows[0]->status, 202);
    ck_assert_uint_eq(done->shadows[1]->status, 201);
    compare_entry_free(done);
    ck_assert_uint_eq(compare_table_count(t), 0);
    /* Gone once complete. */
    ck_assert_int_eq(compare_table_put(t, "a", 1, 0, dup, &done), COMPARE_TABLE_UNKNOWN);
    compare_side_free(dup);
    /* Primary last. */
    ck_assert_int_eq(compare_table_open(t, "b", 1, 1, 100, NULL), COMPARE_TABLE_OK);
    ck_assert_int_eq(compare_table_put(t, "b", 1, 0, mk(500), &done), COMPARE_TABLE_OK);
    ck_assert_int_eq(compare_table_put(t, "b", 1, COMPARE_SLOT_PRIMARY, mk(200), &done),
                     COMPARE_TABLE_COMPLETE);
    compare_entry_free(done);
    compare_table_free(t);
}
END_TEST

START_TEST(bounds)
{
    struct compare_table *t = compare_table_new(2, NULL);
    struct compare_entry *done;
    ck_assert_int_eq(compare_table_open(t, "", 0, 1, 1, NULL), COMPARE_TABLE_INVALID);
    char long_id[COMPARE_MAX_ID + 1];
    memset(long_id, 'x', sizeof(long_id));
    ck_assert_int_eq(compare_table_open(t, long_id, sizeof(long_id), 1, 1, NULL), COMPARE_TABLE_INVALID);
    ck_assert_int_eq(compare_table_open(t, long_id, COMPARE_MAX_ID, 1, 1, NULL), COMPARE_TABLE_OK);
    ck_assert_int_eq(compare_table_open(t, "x", 1, 0, 1, NULL), COMPARE_TABLE_INVALID);
    ck_assert_int_eq(compare_table_open(t, "x", 1, COMPARE_MAX_SLOTS + 1, 1, NULL), COMPARE_TABLE_INVALID);
    ck_assert_int_eq(compare_table_open(t, "x", 1, COMPARE_MAX_SLOTS, 1, NULL), COMPARE_TABLE_OK);
    ck_assert_int_eq(compare_table_open(t, "y", 1, 1, 1, NULL), COMPARE_TABLE_FULL);
    struct compare_side *s = mk(1);
    ck_assert_int_eq(compare_table_put(t, "y", 1, 0, s, &done), COMPARE_TABLE_UNKNOWN);
    ck_assert_int_eq(compare_table_put(t, "x", 1, -2, s, &done), COMPARE_TABLE_INVALID);
    ck_assert_int_eq(compare_table_put(t, "x", 1, COMPARE_MAX_SLOTS, s, &done), COMPARE_TABLE_INVALID);
    ck_assert_int_eq(compare_table_put(t, "x", 1, 63, s, &done), COMPARE_TABLE_OK); /* taken */
    ck_assert_str_eq(compare_table_status_str(COMPARE_TABLE_FULL), "full");
    /* Entries still waiting are freed with the table (leak-checked). */
    compare_table_free(t);
}
END_TEST

static int freed;
static void count_free(void *ctx)
{
    freed += ctx != NULL;
}

START_TEST(expiry)
{
    struct compare_table *t = compare_table_new(10, count_free);
    const uint64_t deadlines[] = {50, 10, 30, 30, 20};
    char id[16];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "r%d", i);
        ck_assert_int_eq(compare_table_open(t, id, strlen(id), 1, deadlines[i], NULL), COMPARE_TABLE_OK);
    }
    struct compare_entry *done, *out[8];
    ck_assert_int_eq(compare_table_put(t, "r2", 2, COMPARE_SLOT_PRIMARY, mk(200), &done), COMPARE_TABLE_OK);
    ck_assert_uint_eq(compare_table_expire(t, 9, out, 8), 0);
    ck_assert_uint_eq(compare_table_expire(t, 30, out, 2), 2);
    ck_assert_str_eq(out[0]->id, "r1");
    ck_assert_str_eq(out[1]->id, "r4");
    compare_entry_free(out[0]);
    compare_entry_free(out[1]);
    ck_assert_uint_eq(compare_table_expire(t, 30, out, 8), 2);
    ck_assert_str_eq(out[0]->id, "r2");
    ck_assert_ptr_nonnull(out[0]->primary);
    ck_assert_ptr_null(out[0]->shadows[0]);
    ck_assert_str_eq(out[1]->id, "r3");
    compare_entry_free(out[0]);
    compare_entry_free(out[1]);
    ck_assert_uint_eq(compare_table_count(t), 1);
    ck_assert_int_eq(compare_table_open(t, "z", 1, 1, 5, &freed), COMPARE_TABLE_OK);
    freed = 0;
    compare_table_free(t);
    ck_assert_int_eq(freed, 1);
}
END_TEST

#define THREAD_IDS 2000

struct racer {
    struct compare_table *t;
    int slot;
    unsigned complete;
};

/* Puts this racer's side of every id. */
static void *race(void *arg)
{
    struct racer *r = arg;
    char id[16];
    for (int i = 0; i < THREAD_IDS; i++) {
        snprintf(id, sizeof(id), "id-%d", i);
        struct compare_entry *done = NULL;
        enum compare_table_status st = compare_table_put(r->t, id, strlen(id), r->slot, mk(200), &done);
        ck_assert(st == COMPARE_TABLE_OK || st == COMPARE_TABLE_COMPLETE);
        if (done) {
            r->complete++;
            compare_entry_free(done);
        }
    }
    return NULL;
}

START_TEST(threads)
{
    struct compare_table *t = compare_table_new(THREAD_IDS, NULL);
    char id[16];
    for (int i = 0; i < THREAD_IDS; i++) {
        snprintf(id, sizeof(id), "id-%d", i);
        ck_assert_int_eq(compare_table_open(t, id, strlen(id), 2, 1000, NULL), COMPARE_TABLE_OK);
    }
    struct racer r[3] = {{t, COMPARE_SLOT_PRIMARY, 0}, {t, 0, 0}, {t, 1, 0}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    ck_assert_uint_eq(r[0].complete + r[1].complete + r[2].complete, THREAD_IDS);
    ck_assert_uint_eq(compare_table_count(t), 0);
    compare_table_free(t);
}
END_TEST

Suite *compare_table_suite(void);
Suite *compare_table_suite(void)
{
    Suite *s = suite_create("compare_table");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, both_orders);
    tcase_add_test(tc, bounds);
    tcase_add_test(tc, expiry);
    tcase_add_test(tc, threads);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
