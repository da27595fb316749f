/* Unit tests for the small core/ helpers: UTF-8 validation (core/utf8.h),
 * the clock conversions (core/clock.h) and whole-number parsing
 * (core/parse_num.h). */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/parse_num.h"
#include "core/reaper.h"
#include "core/utf8.h"

/* utf8_sequence_len() at the start of <in> (its <len> bytes) must be <want>. */
struct utf8_case {
    const char *in;
    size_t len;
    size_t want;
};

#define U8(s, want)                                                                                          \
    {                                                                                                        \
        s, sizeof(s) - 1, want                                                                               \
    }

static const struct utf8_case utf8_cases[] = {
    U8("a", 1),
    U8("\0", 1),
    U8("\x7f", 1),
    U8("\xc3\xa9", 2),         /* é */
    U8("\xc3\xa9x", 2),        /* only the first sequence counts */
    U8("\xe2\x82\xac", 3),     /* € */
    U8("\xef\xbf\xbd", 3),     /* U+FFFD */
    U8("\xf0\x9f\x98\x80", 4), /* U+1F600 */
    U8("\xf4\x8f\xbf\xbf", 4), /* U+10FFFF */
    U8("\x80", 0),             /* a continuation byte alone */
    U8("\xc0\xaf", 0),         /* overlong '/' */
    U8("\xc1\xbf", 0),         /* overlong */
    U8("\xe0\x80\xaf", 0),     /* overlong, 3 bytes */
    U8("\xf0\x80\x80\xaf", 0), /* overlong, 4 bytes */
    U8("\xed\xa0\x80", 0),     /* surrogate U+D800 */
    U8("\xed\xbf\xbf", 0),     /* surrogate U+DFFF */
    U8("\xf4\x90\x80\x80", 0), /* U+110000 */
    U8("\xf5\x80\x80\x80", 0), /* never-used lead byte */
    U8("\xff", 0),
    U8("\xc3", 0), /* cut short */
    U8("\xe2\x82", 0),
    U8("\xf0\x9f\x98", 0),
    U8("\xc3\x28", 0), /* not a continuation */
    U8("\xe2\x28\xa1", 0),
};

START_TEST(test_utf8)
{
    const struct utf8_case *t = &utf8_cases[_i];
    ck_assert_uint_eq(utf8_sequence_len((const uint8_t *)t->in, t->len), t->want);
}
END_TEST

START_TEST(test_clock_conversions)
{
    struct timespec ts = ns_to_timespec(12 * CLOCK_NS_PER_S + 345678901);
    ck_assert_int_eq(ts.tv_sec, 12);
    ck_assert_int_eq(ts.tv_nsec, 345678901);
    ck_assert_uint_eq(timespec_to_ns(ts), 12345678901ull);
    ts = ns_to_timespec(999999999);
    ck_assert_int_eq(ts.tv_sec, 0);
    ck_assert_int_eq(ts.tv_nsec, 999999999);
    ck_assert_uint_eq(timespec_to_ns((struct timespec){.tv_sec = 1, .tv_nsec = 0}), CLOCK_NS_PER_S);
}
END_TEST

START_TEST(test_clock_readings)
{
    uint64_t before = mono_ns();
    struct timespec deadline = mono_deadline_ms(1500);
    uint64_t after = mono_ns();
    ck_assert_int_lt(deadline.tv_nsec, 1000000000L);
    ck_assert_uint_ge(timespec_to_ns(deadline), before + 1500 * CLOCK_NS_PER_MS);
    ck_assert_uint_le(timespec_to_ns(deadline), after + 1500 * CLOCK_NS_PER_MS);

    uint64_t ns0 = unix_ns();
    uint64_t ms = unix_ms();
    double s = unix_seconds();
    uint64_t ns1 = unix_ns();
    ck_assert_uint_ge(ms, ns0 / CLOCK_NS_PER_MS);
    ck_assert_uint_le(ms, ns1 / CLOCK_NS_PER_MS);
    ck_assert(s >= (double)(ns0 / CLOCK_NS_PER_S) && s <= (double)(ns1 / CLOCK_NS_PER_S + 1));
}
END_TEST

/* parse_u64(<in>, <min>, <max>) must give <ok>, and <want> when ok. */
struct num_case {
    const char *in;
    uint64_t min, max;
    bool ok;
    uint64_t want;
};

static const struct num_case num_cases[] = {
    {"0", 0, 10, true, 0},
    {"10", 0, 10, true, 10},
    {"007", 0, 10, true, 7},
    {"11", 0, 10, false, 0},
    {"", 0, 10, false, 0},
    {NULL, 0, 10, false, 0},
    {"-1", 0, 10, false, 0},
    {"+1", 0, 10, false, 0},
    {" 1", 0, 10, false, 0},
    {"1 ", 0, 10, false, 0},
    {"1x", 0, 10, false, 0},
    {"0x10", 0, 100, false, 0},
    {"7", 0, 5, false, 0},
    {"255", 256, 1000, false, 0},
    {"16777216", 256, 16777216, true, 16777216},
    {"99999999999999999999999", 0, 16777216, false, 0},
    {"4294967295", 0, UINT32_MAX, true, UINT32_MAX},
    {"4294967296", 0, UINT32_MAX, false, 0},
    {"18446744073709551615", 0, UINT64_MAX, true, UINT64_MAX},
    {"18446744073709551616", 0, UINT64_MAX, false, 0},
    {"184467440737095516150", 0, UINT64_MAX, false, 0},
};

START_TEST(test_parse_u64)
{
    const struct num_case *t = &num_cases[_i];
    uint64_t v = 12345;
    ck_assert_msg(parse_u64(t->in, t->min, t->max, &v) == t->ok, "case %d", _i);
    ck_assert_uint_eq(v, t->ok ? t->want : 12345); /* untouched on failure */
}
END_TEST

/* ---- reaper ---- */

struct reap_log {
    pthread_mutex_t lock;
    pthread_t main_thread;
    int order[8];
    int n;
    bool off_thread; /* every job ran on another thread */
    int gate;        /* job 0 waits until this is 1 */
};

struct reap_job {
    struct reap_log *log;
    int id;
};

static void reap_job_run(void *arg)
{
    struct reap_job *j = arg;
    struct reap_log *l = j->log;
    if (j->id == 0) {
        for (int i = 0; i < 2000; i++) {
            pthread_mutex_lock(&l->lock);
            int open = l->gate;
            pthread_mutex_unlock(&l->lock);
            if (open)
                break;
            nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        }
    }
    pthread_mutex_lock(&l->lock);
    l->order[l->n++] = j->id;
    l->off_thread = l->off_thread && !pthread_equal(pthread_self(), l->main_thread);
    pthread_mutex_unlock(&l->lock);
}

/* Jobs run on the reaper's thread, in order; submitting never waits for a
 * job, even a slow one; stopping runs what is still queued. */
START_TEST(test_reaper)
{
    struct reap_log l = {.main_thread = pthread_self(), .off_thread = true};
    pthread_mutex_init(&l.lock, NULL);
    struct reap_job jobs[4];
    struct reaper *r = reaper_start();
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct reap_job){.log = &l, .id = i};
        reaper_submit(r, reap_job_run, &jobs[i]);
    }
    /* Job 0 is still waiting for the gate: nothing has run. */
    ck_assert_uint_eq(reaper_pending(r), 4);
    pthread_mutex_lock(&l.lock);
    ck_assert_int_eq(l.n, 0);
    l.gate = 1;
    pthread_mutex_unlock(&l.lock);
    reaper_stop(r);
    ck_assert_int_eq(l.n, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(l.order[i], i);
    ck_assert(l.off_thread);
    pthread_mutex_destroy(&l.lock);
    reaper_stop(NULL);
}
END_TEST

Suite *core_suite(void);

/* core_suite: the Check suite for the core/ helpers without a suite of their own. */
Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("utf8");
    tcase_add_loop_test(tc, test_utf8, 0, (int)(sizeof(utf8_cases) / sizeof(utf8_cases[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("clock");
    tcase_add_test(tc, test_clock_conversions);
    tcase_add_test(tc, test_clock_readings);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse_num");
    tcase_add_loop_test(tc, test_parse_u64, 0, (int)(sizeof(num_cases) / sizeof(num_cases[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("reaper");
    tcase_add_test(tc, test_reaper);
    suite_add_tcase(s, tc);
    return s;
}
