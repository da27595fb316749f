/* libFuzzer target: the store of body slices (body_parts.h) against a
 * reference model.
 *
 * Input: a sequence of 4-byte operations <op> <a> <b> <c>; op % 6 picks
 * put, check, take, discard, expire or reject; <a> picks one of 4 request
 * ids (a % 4) and, for put, one of 4 body sizes (a / 4 % 4: 0, 17, 64, 65);
 * <b> and <c> are an offset and a length (put), or where the `mirror`
 * message's body ends (check, take); every operation advances the clock by
 * op / 6 % 8 ticks of 1 ms. The store holds at most 3 requests, 128 bytes,
 * bodies of 64 bytes, for 10 ms. Every slice byte is a function of its
 * request and offset, so an assembled body can be checked byte for byte.
 *
 * The model keeps, per request, its size, its creation time, the bytes its
 * slices cover (a bitmap) and its slice count, and applies the store's
 * documented rules (body_parts.h). Asserted with abort() after every
 * operation: put's verdict, check's and take's answers, the bytes take hands
 * out, and every counter and gauge of body_parts_stats equal the model's. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "mirror/body_parts.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IDS         4
#define MAX_ENTRIES 3
#define MAX_BYTES   128
#define MAX_BODY    64
#define TIMEOUT_MS  10

static const uint64_t sizes[4] = {0, 17, 64, 65};
static const char *const ids[IDS] = {"a", "bb", "request-c", "d"};

struct model_entry {
    bool held;
    uint64_t size;
    uint64_t created;
    uint32_t slices;
    bool covered[MAX_BODY];
    uint64_t seq; /* creation order, for expiry */
};

struct model {
    struct model_entry e[IDS];
    uint64_t seq;
    struct body_parts_stats st;
};

static uint8_t byte_at(int id, uint64_t off)
{
    return (uint8_t)(id * 61 + off * 7 + 1);
}

static void model_drop(struct model *m, int id, enum body_parts_drop why)
{
    struct model_entry *e = &m->e[id];
    m->st.dropped[why] += e->slices;
    m->st.entries--;
    m->st.bytes -= e->size;
    memset(e, 0, sizeof(*e));
}

static size_t model_expire(struct model *m, uint64_t now)
{
    size_t n = 0;
    for (;;) {
        int oldest = -1;
        for (int i = 0; i < IDS; i++)
            if (m->e[i].held && (oldest < 0 || m->e[i].seq < m->e[oldest].seq))
                oldest = i;
        if (oldest < 0 || now - m->e[oldest].created < (uint64_t)TIMEOUT_MS * CLOCK_NS_PER_MS)
            return n;
        model_drop(m, oldest, BODY_PARTS_DROP_EXPIRED);
        n++;
    }
}

static bool room(const struct model *m, uint64_t size)
{
    return m->st.entries < MAX_ENTRIES && size <= MAX_BYTES - m->st.bytes;
}

static enum body_parts_drop model_put(struct model *m, int id, uint64_t size, uint64_t off, uint64_t len,
                                      uint64_t now)
{
    struct model_entry *e = &m->e[id];
    enum body_parts_drop why = BODY_PARTS_DROP_NONE;
    m->st.received++;
    if (len == 0) {
        why = BODY_PARTS_DROP_BAD_ARGS;
    } else if (size > MAX_BODY || off > size || len > size - off) {
        why = BODY_PARTS_DROP_TOO_LARGE;
    } else if (e->held && e->size != size) {
        why = BODY_PARTS_DROP_MISMATCH;
        model_drop(m, id, why);
    } else {
        if (!e->held && !room(m, size) && model_expire(m, now) == 0)
            why = BODY_PARTS_DROP_STORE_FULL;
        else if (!e->held && !room(m, size))
            why = BODY_PARTS_DROP_STORE_FULL;
        if (why == BODY_PARTS_DROP_NONE && !e->held) {
            *e = (struct model_entry){.held = true, .size = size, .created = now, .seq = ++m->seq};
            m->st.entries++;
            m->st.bytes += size;
        }
        for (uint64_t i = off; why == BODY_PARTS_DROP_NONE && i < off + len; i++)
            if (e->covered[i])
                why = BODY_PARTS_DROP_OVERLAP;
        if (why == BODY_PARTS_DROP_OVERLAP) {
            model_drop(m, id, why);
        } else if (why == BODY_PARTS_DROP_NONE) {
            for (uint64_t i = off; i < off + len; i++)
                e->covered[i] = true;
            e->slices++;
        }
    }
    if (why != BODY_PARTS_DROP_NONE)
        m->st.dropped[why]++;
    return why;
}

/* Whether request <id>'s slices cover exactly [from, size); *why when not. */
static bool model_covers(const struct model_entry *e, uint64_t from, uint64_t size, enum body_parts_drop *why)
{
    if (e->size != size) {
        *why = BODY_PARTS_DROP_MISMATCH;
        return false;
    }
    *why = BODY_PARTS_DROP_INCOMPLETE;
    if (from >= size)
        return false;
    for (uint64_t i = 0; i < size; i++)
        if (e->covered[i] != (i >= from))
            return false;
    return true;
}

static void check_stats(struct body_parts *bp, const struct model *m)
{
    struct body_parts_stats st;
    body_parts_stats(bp, &st);
    CHECK(st.received == m->st.received);
    CHECK(st.assembled == m->st.assembled);
    CHECK(st.entries == m->st.entries);
    CHECK(st.bytes == m->st.bytes);
    for (int i = 0; i < BODY_PARTS_DROP_ENTRIES; i++)
        CHECK(st.dropped[i] == m->st.dropped[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct body_parts_settings set = {.max_entries = MAX_ENTRIES,
                                                   .max_bytes = MAX_BYTES,
                                                   .max_body_bytes = MAX_BODY,
                                                   .timeout_ms = TIMEOUT_MS};
    struct body_parts *bp = body_parts_new(&set);
    struct model m;
    memset(&m, 0, sizeof(m));
    uint64_t now = CLOCK_NS_PER_S;
    for (size_t k = 0; k + 4 <= size; k += 4) {
        uint8_t op = data[k], a = data[k + 1], b = data[k + 2], c = data[k + 3];
        int id = a % IDS;
        const uint8_t *idp = (const uint8_t *)ids[id];
        size_t id_len = strlen(ids[id]);
        now += (uint64_t)(op / 6 % 8) * CLOCK_NS_PER_MS;
        switch (op % 6) {
        case 0: { /* put */
            uint64_t body_size = sizes[a / 4 % 4], off = b % 70, len = c % 70;
            uint8_t part[70];
            for (uint64_t i = 0; i < len; i++)
                part[i] = byte_at(id, off + i);
            enum body_parts_drop want = model_put(&m, id, body_size, off, len, now);
            CHECK(body_parts_put(bp, idp, id_len, body_size, off, part, len, now) == want);
            break;
        }
        case 1:   /* check */
        case 2: { /* take */
            uint64_t from = b % 70, body_size = sizes[c % 4];
            struct model_entry *e = &m.e[id];
            enum body_parts_drop why = BODY_PARTS_DROP_NONE;
            bool whole = e->held && model_covers(e, from, body_size, &why);
            if (op % 6 == 1) {
                enum body_parts_state got = body_parts_check(bp, idp, id_len, from, body_size);
                CHECK(got == (!e->held ? BODY_PARTS_ABSENT
                              : whole  ? BODY_PARTS_COMPLETE
                                       : BODY_PARTS_DISCARDED));
                if (e->held && !whole)
                    model_drop(&m, id, why);
                break;
            }
            uint8_t *body = body_parts_take(bp, idp, id_len, from, body_size);
            CHECK((body != NULL) == whole);
            if (body) {
                for (uint64_t i = from; i < body_size; i++)
                    CHECK(body[i] == byte_at(id, i));
                free(body);
                m.st.assembled++;
                m.st.entries--;
                m.st.bytes -= e->size;
                memset(e, 0, sizeof(*e));
            } else if (e->held) {
                model_drop(&m, id, why);
            }
            break;
        }
        case 3: /* discard */
            body_parts_discard(bp, idp, id_len, BODY_PARTS_DROP_UNUSED);
            if (m.e[id].held)
                model_drop(&m, id, BODY_PARTS_DROP_UNUSED);
            break;
        case 4: /* expire */
            CHECK(body_parts_expire(bp, now) == model_expire(&m, now));
            break;
        default: /* reject */
            body_parts_reject(bp, BODY_PARTS_DROP_BAD_ARGS);
            m.st.received++;
            m.st.dropped[BODY_PARTS_DROP_BAD_ARGS]++;
            break;
        }
        check_stats(bp, &m);
    }
    body_parts_free(bp);
    return 0;
}
