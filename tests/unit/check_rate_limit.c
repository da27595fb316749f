/* Unit tests for the per-agent rate limit (rate_limit.h): no limit, the
 * burst of a tenth of a second (at least one), the steady rate over a long
 * run, refused requests taking no slot, an idle period not saving up more
 * than the burst, and threads sharing one limit without exceeding it. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>

#include "mirror/rate_limit.h"

#define MS  1000000ull
#define SEC 1000000000ull

/* Requests allowed out of <n> at the same instant <now>. */
static unsigned allowed_at(struct rate_limit *r, uint64_t now, unsigned n)
{
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++)
        ok += rate_limit_allow(r, now);
    return ok;
}

START_TEST(test_no_limit)
{
    struct rate_limit r;
    rate_limit_init(&r, 0);
    ck_assert_uint_eq(allowed_at(&r, 0, 100000), 100000);
    ck_assert_uint_eq(allowed_at(&r, 5 * SEC, 1000), 1000);
}
END_TEST

/* Below 20 rps the burst is one: one request per interval, never two at once. */
START_TEST(test_burst_of_one)
{
    struct rate_limit r;
    rate_limit_init(&r, 10); /* 100 ms apart */
    uint64_t t = 7 * SEC;
    ck_assert(rate_limit_allow(&r, t));
    ck_assert(!rate_limit_allow(&r, t));
    ck_assert(!rate_limit_allow(&r, t + 100 * MS - 1));
    ck_assert(rate_limit_allow(&r, t + 100 * MS));
    ck_assert(!rate_limit_allow(&r, t + 100 * MS));
    ck_assert(rate_limit_allow(&r, t + 250 * MS));
}
END_TEST

/* The burst is a tenth of a second's worth: 100 at once at 1000 rps. */
START_TEST(test_burst)
{
    const uint32_t rates[] = {20, 100, 1000, 50000};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        struct rate_limit r;
        rate_limit_init(&r, rates[i]);
        uint64_t t = 3 * SEC;
        ck_assert_uint_eq(allowed_at(&r, t, rates[i]), rates[i] / 10);
        /* One interval later, exactly one more. */
        ck_assert_uint_eq(allowed_at(&r, t + SEC / rates[i], 10), 1);
    }
}
END_TEST

/* Offered ten times the rate for ten seconds: the rate, plus the first burst. */
START_TEST(test_steady_rate)
{
    struct rate_limit r;
    rate_limit_init(&r, 1000);
    uint64_t start = 11 * SEC, ok = 0;
    for (uint64_t t = start; t < start + 10 * SEC; t += 100000) /* every 0.1 ms */
        ok += rate_limit_allow(&r, t);
    ck_assert_uint_ge(ok, 10000 + 100 - 2);
    ck_assert_uint_le(ok, 10000 + 100);
}
END_TEST

/* A refused request takes no slot: the next interval still has one. */
START_TEST(test_refusal_takes_nothing)
{
    struct rate_limit r;
    rate_limit_init(&r, 10);
    ck_assert(rate_limit_allow(&r, SEC));
    ck_assert_uint_eq(allowed_at(&r, SEC + 50 * MS, 1000), 0);
    ck_assert(rate_limit_allow(&r, SEC + 100 * MS));
}
END_TEST

/* An idle minute does not save up more than one burst. */
START_TEST(test_idle_does_not_accumulate)
{
    struct rate_limit r;
    rate_limit_init(&r, 200);
    ck_assert_uint_eq(allowed_at(&r, SEC, 1000), 20);
    ck_assert_uint_eq(allowed_at(&r, 61 * SEC, 1000), 20);
}
END_TEST

/* The arrival time starts at 0: a clock reading of 0 is allowed too. */
START_TEST(test_time_zero)
{
    struct rate_limit r;
    rate_limit_init(&r, 1);
    ck_assert(rate_limit_allow(&r, 0));
    ck_assert(!rate_limit_allow(&r, SEC - 1));
    ck_assert(rate_limit_allow(&r, SEC));
}
END_TEST

#define THREADS    4
#define PER_THREAD 20000

struct racer {
    struct rate_limit *r;
    uint64_t now;
    unsigned allowed;
};

static void *race(void *arg)
{
    struct racer *x = arg;
    x->allowed = allowed_at(x->r, x->now, PER_THREAD);
    return NULL;
}

/* Threads taking slots at the same instant never get more than the burst. */
START_TEST(test_threads_share_the_burst)
{
    struct rate_limit r;
    rate_limit_init(&r, 100000); /* a burst of 10000 */
    struct racer x[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        x[i] = (struct racer){.r = &r, .now = 2 * SEC};
        ck_assert_int_eq(pthread_create(&th[i], NULL, race, &x[i]), 0);
    }
    unsigned total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        total += x[i].allowed;
    }
    ck_assert_uint_eq(total, 10000);
}
END_TEST

Suite *rate_limit_suite(void);
Suite *rate_limit_suite(void)
{
    Suite *s = suite_create("rate_limit");
    TCase *tc = tcase_create("gcra");
    tcase_add_test(tc, test_no_limit);
    tcase_add_test(tc, test_burst_of_one);
    tcase_add_test(tc, test_burst);
    tcase_add_test(tc, test_steady_rate);
    tcase_add_test(tc, test_refusal_takes_nothing);
    tcase_add_test(tc, test_idle_does_not_accumulate);
    tcase_add_test(tc, test_time_zero);
    tcase_add_test(tc, test_threads_share_the_burst);
    suite_add_tcase(s, tc);
    return s;
}
