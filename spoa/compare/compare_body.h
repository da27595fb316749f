/* One side's response body as a comparison sees it: its first max bytes
 * hashed (xxh3-64), while it is read, or, when a JSON comparison needs
 * the bytes and they are kept (up to the same bound), at once at its end. */
#ifndef SPOA_COMPARE_BODY_H
#define SPOA_COMPARE_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct compare_body {
    void *xxh;       /* XXH3_state_t *, owned; made at the first bytes of a body not kept */
    uint64_t seen;   /* bytes offered, beyond max included */
    uint32_t max;    /* bytes hashed (and kept) at most */
    bool keep;       /* keep the bytes */
    uint8_t *data;   /* kept bytes (keep only), owned */
    size_t len, cap; /* of data */
    uint64_t digest; /* set by compare_body_finish */
    bool finished;
};

/* compare_body_init: an empty body that hashes at most <max> bytes and keeps
 * them when <keep>. Release with compare_body_free. */
void compare_body_init(struct compare_body *b, uint32_t max, bool keep);

/* compare_body_feed: offers the next <n> bytes at <p> (borrowed). Bytes past
 * max are counted in seen and otherwise ignored. No effect once finished. */
void compare_body_feed(struct compare_body *b, const void *p, size_t n);

/* compare_body_finish: ends the body: sets digest (of the bytes hashed),
 * frees the hash state. Idempotent. */
void compare_body_finish(struct compare_body *b);

/* compare_body_truncated: true when more than max bytes were offered. */
bool compare_body_truncated(const struct compare_body *b);

/* compare_body_digest_of: the digest compare_body_finish gives for the <n>
 * bytes at <p> fed at once (no bound). */
uint64_t compare_body_digest_of(const void *p, size_t n);

/* compare_body_free: releases what *b owns; *b is empty after. */
void compare_body_free(struct compare_body *b);

#endif
