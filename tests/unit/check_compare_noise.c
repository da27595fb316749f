/* Unit tests for learned noise (compare_noise.h): learning once, lookups by
 * kind, the bound, and threads learning at once. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>

#include "compare/compare_noise.h"

START_TEST(learn_and_bound)
{
    struct compare_noise *n = compare_noise_new();
    ck_assert(compare_noise_learn(n, COMPARE_NOISE_PATH, "$.uuid"));
    ck_assert(!compare_noise_learn(n, COMPARE_NOISE_PATH, "$.uuid"));
    ck_assert(compare_noise_has(n, COMPARE_NOISE_PATH, "$.uuid"));
    ck_assert(!compare_noise_has(n, COMPARE_NOISE_HEADER, "$.uuid"));
    ck_assert(compare_noise_learn(n, COMPARE_NOISE_HEADER, "x-request-id"));
    char p[32];
    for (int i = 0; i < COMPARE_NOISE_MAX + 5; i++) {
        snprintf(p, sizeof(p), "$.p%d", i);
        compare_noise_learn(n, COMPARE_NOISE_PATH, p);
    }
    size_t over;
    ck_assert_uint_eq(compare_noise_count(n, COMPARE_NOISE_PATH, &over), COMPARE_NOISE_MAX);
    ck_assert_uint_eq(over, 6);
    ck_assert_uint_eq(compare_noise_count(n, COMPARE_NOISE_HEADER, NULL), 1);
    compare_noise_free(n);
}
END_TEST

static void *learner(void *arg)
{
    char p[32];
    for (int i = 0; i < 100; i++) {
        snprintf(p, sizeof(p), "$.p%d", i);
        compare_noise_learn(arg, COMPARE_NOISE_PATH, p);
    }
    return NULL;
}

START_TEST(threads)
{
    struct compare_noise *n = compare_noise_new();
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, learner, n), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ck_assert_uint_eq(compare_noise_count(n, COMPARE_NOISE_PATH, NULL), 100);
    compare_noise_free(n);
}
END_TEST

Suite *compare_noise_suite(void);
Suite *compare_noise_suite(void)
{
    Suite *s = suite_create("compare_noise");
    TCase *tc = tcase_create("noise");
    tcase_add_test(tc, learn_and_bound);
    tcase_add_test(tc, threads);
    suite_add_tcase(s, tc);
    return s;
}
