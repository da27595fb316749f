/* Unit tests for the pool of small blocks (core/block_pool.h): reuse within
 * a size class, the cap on kept bytes, alignment, the realloc and calloc
 * contracts, and (under AddressSanitizer) kept blocks poisoned. */
#include <check.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/block_pool.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POOL_TEST_ASAN 1
#endif

/* How many blocks the list of class <cls> keeps. */
static size_t kept_in(const struct block_pool *p, unsigned cls)
{
    size_t n = 0;
    for (void *b = p->free_list[cls]; b != NULL; n++) {
#ifdef POOL_TEST_ASAN
        ASAN_UNPOISON_MEMORY_REGION(b, sizeof(void *));
#endif
        void *next = *(void **)b;
#ifdef POOL_TEST_ASAN
        ASAN_POISON_MEMORY_REGION(b, sizeof(void *));
#endif
        b = next;
    }
    return n;
}

START_TEST(test_reuse_within_class)
{
    struct block_pool p;
    block_pool_init(&p, 4096);
    void *a = block_pool_malloc(&p, 40);
    void *b = block_pool_malloc(&p, 64);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(block_pool_live(&p), 2);
    block_pool_free(&p, a);
    ck_assert_uint_eq(block_pool_live(&p), 1);
    /* 1..64 bytes share a class: the kept block comes back. */
    void *c = block_pool_malloc(&p, 1);
    ck_assert_ptr_eq(c, a);
    /* Another class does not take it. */
    block_pool_free(&p, c);
    void *d = block_pool_malloc(&p, 65);
    ck_assert_ptr_ne(d, a);
    memset(d, 0xab, 128);
    block_pool_free(&p, b);
    block_pool_free(&p, d);
    block_pool_free(&p, NULL);
    ck_assert_uint_eq(block_pool_live(&p), 0);
    block_pool_release(&p);
}
END_TEST

START_TEST(test_cap_on_kept_bytes)
{
    struct block_pool p;
    block_pool_init(&p, 128); /* two 64-byte blocks */
    void *b[3];
    for (int i = 0; i < 3; i++)
        b[i] = block_pool_malloc(&p, 64);
    for (int i = 0; i < 3; i++)
        block_pool_free(&p, b[i]);
    ck_assert_uint_eq(p.kept_bytes, 128);
    ck_assert_uint_eq(kept_in(&p, 0), 2);
    /* Blocks over 1 KiB are never kept. */
    block_pool_free(&p, block_pool_malloc(&p, 5000));
    ck_assert_uint_eq(p.kept_bytes, 128);
    block_pool_release(&p);
    ck_assert_uint_eq(p.kept_bytes, 0);

    block_pool_init(&p, 0); /* keeps nothing */
    block_pool_free(&p, block_pool_malloc(&p, 8));
    ck_assert_uint_eq(p.kept_bytes, 0);
    ck_assert_ptr_null(p.free_list[0]);
    block_pool_release(&p);
}
END_TEST

START_TEST(test_alignment)
{
    struct block_pool p;
    block_pool_init(&p, 1 << 20);
    void *b[64];
    for (size_t round = 0; round < 2; round++) {
        for (size_t i = 0; i < 64; i++) {
            b[i] = block_pool_malloc(&p, i * 37);
            ck_assert_ptr_nonnull(b[i]);
            ck_assert_uint_eq((uintptr_t)b[i] % alignof(max_align_t), 0);
            memset(b[i], (int)i, i * 37); /* ASan: every byte asked for is usable */
        }
        for (size_t i = 0; i < 64; i++)
            block_pool_free(&p, b[i]);
    }
    block_pool_release(&p);
}
END_TEST

START_TEST(test_realloc)
{
    struct block_pool p;
    block_pool_init(&p, 4096);
    unsigned char *a = block_pool_realloc(&p, NULL, 20); /* as malloc */
    ck_assert_ptr_nonnull(a);
    for (int i = 0; i < 20; i++)
        a[i] = (unsigned char)i;
    /* Within the block's class: the same pointer. */
    ck_assert_ptr_eq(block_pool_realloc(&p, a, 64), a);
    ck_assert_ptr_eq(block_pool_realloc(&p, a, 10), a);
    /* Past it: a larger block with the contents. */
    unsigned char *b = block_pool_realloc(&p, a, 300);
    ck_assert_ptr_nonnull(b);
    for (int i = 0; i < 20; i++)
        ck_assert_uint_eq(b[i], (unsigned)i);
    /* Past every class, and from there further. */
    unsigned char *c = block_pool_realloc(&p, b, 3000);
    for (int i = 0; i < 20; i++)
        ck_assert_uint_eq(c[i], (unsigned)i);
    memset(c + 20, 7, 2980);
    unsigned char *d = block_pool_realloc(&p, c, 9000);
    ck_assert_uint_eq(d[19], 19);
    ck_assert_uint_eq(d[2999], 7);
    ck_assert_uint_eq(block_pool_live(&p), 1);
    ck_assert_ptr_null(block_pool_realloc(&p, d, 0)); /* as free */
    ck_assert_uint_eq(block_pool_live(&p), 0);
    block_pool_release(&p);
}
END_TEST

START_TEST(test_calloc)
{
    struct block_pool p;
    block_pool_init(&p, 4096);
    unsigned char *a = block_pool_malloc(&p, 100);
    memset(a, 0xff, 100);
    block_pool_free(&p, a);
    unsigned char *b = block_pool_calloc(&p, 10, 10); /* the same, dirty block */
    ck_assert_ptr_eq(b, a);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(b[i], 0);
    ck_assert_ptr_null(block_pool_calloc(&p, SIZE_MAX / 2, 3));
    ck_assert_uint_eq(block_pool_live(&p), 1);
    block_pool_free(&p, b);
    block_pool_release(&p);
}
END_TEST

#ifdef POOL_TEST_ASAN
/* A kept block is poisoned: a use after free is reported as without the pool. */
START_TEST(test_kept_blocks_poisoned)
{
    struct block_pool p;
    block_pool_init(&p, 4096);
    unsigned char *a = block_pool_malloc(&p, 48);
    ck_assert(!__asan_address_is_poisoned(a));
    ck_assert(!__asan_address_is_poisoned(a + 47));
    block_pool_free(&p, a);
    ck_assert(__asan_address_is_poisoned(a));
    ck_assert(__asan_address_is_poisoned(a + 47));
    unsigned char *b = block_pool_malloc(&p, 48);
    ck_assert_ptr_eq(b, a);
    ck_assert(!__asan_address_is_poisoned(b + 47));
    block_pool_free(&p, b);
    block_pool_release(&p);
}
END_TEST
#endif

Suite *block_pool_suite(void);

/* block_pool_suite: the Check suite for core/block_pool.h. */
Suite *block_pool_suite(void)
{
    Suite *s = suite_create("block_pool");
    TCase *tc = tcase_create("pool");
    tcase_add_test(tc, test_reuse_within_class);
    tcase_add_test(tc, test_cap_on_kept_bytes);
    tcase_add_test(tc, test_alignment);
    tcase_add_test(tc, test_realloc);
    tcase_add_test(tc, test_calloc);
#ifdef POOL_TEST_ASAN
    tcase_add_test(tc, test_kept_blocks_poisoned);
#endif
    suite_add_tcase(s, tc);
    return s;
}
