/* Unit tests for the small core/ helpers: UTF-8 validation (core/utf8.h). */
#include <check.h>
#include <stdint.h>
#include <string.h>

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

Suite *core_suite(void);

/* core_suite: the Check suite for the core/ helpers without a suite of their own. */
Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("utf8");
    tcase_add_loop_test(tc, test_utf8, 0, (int)(sizeof(utf8_cases) / sizeof(utf8_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}
