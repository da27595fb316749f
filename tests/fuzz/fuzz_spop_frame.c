/* libFuzzer target: the SPOP frame decoder and the payload iterators.
 *
 * The input is a byte stream of frames decoded one after another with a fixed
 * max-frame-size of 16380 (HAProxy's default), so captured frames are seeds as
 * they are; a second max-frame-size derived from the input length checks that
 * the limit changes nothing but the -SPOP_ERR_TOO_BIG verdict. Each whole
 * frame's payload is copied to its own heap block (so ASan catches any read
 * past the payload, not only past the input) and walked with the iterator its
 * type calls for; unknown types are walked with all three. The first bytes of
 * the raw input also go straight to spop_varint_decode() and spop_data_decode().
 *
 * Every property is asserted with abort(), not only "does not crash":
 * - returns are <= the length given, and errors are only the documented ones;
 * - a frame is 4 + length bytes, its payload lies inside it, and re-encoding
 *   the header with spop_frame_begin() gives back the same bytes;
 * - every shorter prefix of a frame is "incomplete" (0), and a max-frame-size
 *   below the length is -SPOP_ERR_TOO_BIG from the 4 length bytes alone;
 * - iterators consume exactly the payload when they end with 0, a truncated
 *   item is an error, a NOTIFY message has exactly nb_args arguments;
 * - varints re-encode to the same bytes (the encoding is canonical);
 * - STR/BIN views lie inside the item they were decoded from;
 * - re-encoding a decoded item (spop_put_name + spop_put_data, or
 *   spop_put_action) gives back the same bytes, except the flag nibble of a
 *   type byte: decoders ignore it (as HAProxy does) except BOOL's TRUE bit, so
 *   the comparison expects that byte as spop_put_data() normalises it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spop/spop_data.h"
#include "spop/spop_frame.h"
#include "spop/spop_hello.h"
#include "spop/spop_proto.h"
#include "spop/spop_varint.h"
#include "fuzz_check.h"

#define FUZZ_MAX_FRAME   16380u
#define FUZZ_MAX_FRAME_2 65536u
#define RAW_OFFSETS      8u
#define NO_TYPE_BYTE     SIZE_MAX

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Room for the largest frame either max-frame-size accepts. */
static uint8_t scratch[SPOP_FRAME_LEN_BYTES + FUZZ_MAX_FRAME_2];

/* True when [ptr, ptr+len) lies inside [base, base+base_len). */
static bool within(const uint8_t *ptr, size_t len, const uint8_t *base, size_t base_len)
{
    uintptr_t a = (uintptr_t)ptr, b = (uintptr_t)base;
    return a >= b && a - b <= base_len && len <= base_len - (a - b);
}

/* A decoder's return for <len> input bytes: at most <len>, errors only the
 * documented ones. */
static void check_ret(ssize_t n, size_t len, bool too_big_allowed)
{
    CHECK(n <= (ssize_t)len);
    if (n < 0)
        CHECK(n == -SPOP_ERR_INVALID || (too_big_allowed && n == -SPOP_ERR_TOO_BIG));
}

/* The type byte spop_put_data() writes for a value decoded from type byte <b>. */
static uint8_t canonical_type_byte(uint8_t b)
{
    uint8_t t = b & SPOP_DATA_T_MASK;
    return t == SPOP_DATA_T_BOOL ? (uint8_t)(b & (SPOP_DATA_T_MASK | SPOP_DATA_FL_TRUE)) : t;
}

/* <w> must hold exactly the <n> bytes at <orig>, the byte at <type_off> (or
 * NO_TYPE_BYTE) compared in its canonical form. */
static void check_same_bytes(const struct spop_writer *w, const uint8_t *orig, size_t n, size_t type_off)
{
    CHECK(!w->failed);
    CHECK(w->len == n);
    for (size_t i = 0; i < n; i++)
        CHECK(w->buf[i] == (i == type_off ? canonical_type_byte(orig[i]) : orig[i]));
}

static void check_varint(const uint8_t *p, size_t len)
{
    uint64_t v = 0x5a5a5a5a5a5a5a5au;
    ssize_t n = spop_varint_decode(p, len, &v);
    check_ret(n, len, false);
    if (n == 0)
        CHECK(len < SPOP_VARINT_MAX_BYTES);
    if (n <= 0) {
        CHECK(v == 0x5a5a5a5a5a5a5a5au);
        return;
    }
    uint8_t enc[SPOP_VARINT_MAX_BYTES];
    CHECK(n <= (ssize_t)SPOP_VARINT_MAX_BYTES);
    CHECK(spop_varint_encode(v, enc) == (size_t)n);
    CHECK(memcmp(enc, p, (size_t)n) == 0);
    CHECK(spop_varint_size(v) == (size_t)n);
    uint64_t w = 7;
    CHECK(spop_varint_decode(p, (size_t)n - 1, &w) == 0 && w == 7);
}

/* Decodes one typed value at <p> and checks it; returns the decoder's result. */
static ssize_t check_data(const uint8_t *p, size_t len)
{
    struct spop_data d;
    ssize_t n = spop_data_decode(p, len, &d);
    check_ret(n, len, false);
    if (n <= 0)
        return n;
    CHECK(d.type < SPOP_DATA_T_ENTRIES && d.type == (p[0] & SPOP_DATA_T_MASK));
    if (d.type == SPOP_DATA_T_STR || d.type == SPOP_DATA_T_BIN) {
        CHECK(within(d.u.bytes.ptr, d.u.bytes.len, p, (size_t)n));
        CHECK(d.u.bytes.ptr + d.u.bytes.len == p + n);
    }
    struct spop_writer w;
    spop_writer_init(&w, scratch, sizeof(scratch));
    spop_put_data(&w, &d);
    check_same_bytes(&w, p, (size_t)n, 0);
    struct spop_data t;
    if (n > 1)
        CHECK(spop_data_decode(p, (size_t)n - 1, &t) == 0);
    return n;
}

/* Decodes one KV item (or message argument) at <p> and checks it. */
static ssize_t check_kv(const uint8_t *p, size_t len)
{
    struct spop_kv kv;
    ssize_t n = spop_kv_next(p, len, &kv);
    check_ret(n, len, false);
    if (n == 0)
        CHECK(len == 0);
    if (n <= 0)
        return n;
    CHECK(within(kv.name.ptr, kv.name.len, p, (size_t)n));
    if (kv.value.type == SPOP_DATA_T_STR || kv.value.type == SPOP_DATA_T_BIN)
        CHECK(within(kv.value.u.bytes.ptr, kv.value.u.bytes.len, p, (size_t)n));
    struct spop_writer w;
    spop_writer_init(&w, scratch, sizeof(scratch));
    spop_put_name(&w, (const char *)kv.name.ptr, kv.name.len);
    size_t type_off = w.len;
    spop_put_data(&w, &kv.value);
    check_same_bytes(&w, p, (size_t)n, type_off);
    struct spop_kv t;
    CHECK(spop_kv_next(p, (size_t)n - 1, &t) == -SPOP_ERR_INVALID);
    return n;
}

/* Walks a KV-LIST; returns true when it ends cleanly at the payload's end. */
static bool walk_kv_list(const uint8_t *p, size_t len)
{
    size_t off = 0;
    for (size_t steps = 0; steps <= len; steps++) {
        ssize_t n = check_kv(p + off, len - off);
        if (n < 0)
            return false;
        if (n == 0) {
            CHECK(off == len);
            return true;
        }
        off += (size_t)n;
        CHECK(off <= len);
    }
    CHECK(!"KV-LIST walk did not end");
    return false;
}

/* The arguments of a decoded message: exactly nb_args valid items. */
static void walk_message_args(const struct spop_message *m)
{
    size_t off = 0, count = 0;
    for (size_t steps = 0; steps <= m->args_len; steps++) {
        ssize_t n = check_kv(m->args + off, m->args_len - off);
        CHECK(n >= 0);
        if (n == 0)
            break;
        count++;
        off += (size_t)n;
        CHECK(off <= m->args_len);
    }
    CHECK(off == m->args_len);
    CHECK(count == m->nb_args);
}

static void walk_messages(const uint8_t *p, size_t len)
{
    size_t off = 0;
    for (size_t steps = 0; steps <= len; steps++) {
        struct spop_message m;
        ssize_t n = spop_message_next(p + off, len - off, &m);
        check_ret(n, len - off, false);
        if (n < 0)
            return;
        if (n == 0) {
            CHECK(off == len);
            return;
        }
        const uint8_t *item = p + off;
        CHECK(within(m.name.ptr, m.name.len, item, (size_t)n));
        CHECK(within(m.args, m.args_len, item, (size_t)n));
        CHECK(m.args + m.args_len == item + n);
        struct spop_writer w;
        spop_writer_init(&w, scratch, sizeof(scratch));
        spop_put_name(&w, (const char *)m.name.ptr, m.name.len);
        spop_put_u8(&w, m.nb_args);
        check_same_bytes(&w, item, (size_t)(m.args - item), NO_TYPE_BYTE);
        walk_message_args(&m);
        struct spop_message t;
        CHECK(spop_message_next(item, (size_t)n - 1, &t) == -SPOP_ERR_INVALID);
        off += (size_t)n;
        CHECK(off <= len);
    }
    CHECK(!"LIST-OF-MESSAGES walk did not end");
}

static void walk_actions(const uint8_t *p, size_t len)
{
    size_t off = 0;
    for (size_t steps = 0; steps <= len; steps++) {
        struct spop_action a;
        ssize_t n = spop_action_next(p + off, len - off, &a);
        check_ret(n, len - off, false);
        if (n < 0)
            return;
        if (n == 0) {
            CHECK(off == len);
            return;
        }
        const uint8_t *item = p + off;
        bool set = a.type == SPOP_ACT_T_SET_VAR;
        CHECK(set || a.type == SPOP_ACT_T_UNSET_VAR);
        CHECK(within(a.name.ptr, a.name.len, item, (size_t)n));
        if (!set)
            CHECK(a.value.type == SPOP_DATA_T_NULL);
        if (a.value.type == SPOP_DATA_T_STR || a.value.type == SPOP_DATA_T_BIN)
            CHECK(within(a.value.u.bytes.ptr, a.value.u.bytes.len, item, (size_t)n));
        struct spop_writer w;
        spop_writer_init(&w, scratch, sizeof(scratch));
        spop_put_action(&w, &a);
        size_t type_off = set ? 3 + spop_varint_size(a.name.len) + a.name.len : NO_TYPE_BYTE;
        check_same_bytes(&w, item, (size_t)n, type_off);
        struct spop_action t;
        CHECK(spop_action_next(item, (size_t)n - 1, &t) == -SPOP_ERR_INVALID);
        off += (size_t)n;
        CHECK(off <= len);
    }
    CHECK(!"LIST-OF-ACTIONS walk did not end");
}

static void check_hello(const uint8_t *p, size_t len, bool list_ok)
{
    struct spop_hello h;
    int r = spop_hello_parse(p, len, &h);
    CHECK(r == 0 || r == SPOP_ERR_INVALID || r == SPOP_ERR_NO_VSN || r == SPOP_ERR_NO_FRAME_SIZE ||
          r == SPOP_ERR_NO_CAP || r == SPOP_ERR_BAD_VSN || r == SPOP_ERR_BAD_FRAME_SIZE);
    if (!list_ok)
        CHECK(r == SPOP_ERR_INVALID);
    if (r != 0)
        return;
    CHECK(within(h.versions.ptr, h.versions.len, p, len));
    CHECK(within(h.capabilities.ptr, h.capabilities.len, p, len));
    if (h.engine_id.len)
        CHECK(within(h.engine_id.ptr, h.engine_id.len, p, len));
    CHECK(h.max_frame_size >= SPOP_MIN_FRAME_SIZE);
    CHECK(spop_hello_versions_ok(h.versions));
}

/* Walks a payload copied to its own heap block, by frame type. */
static void walk_payload(uint8_t type, const uint8_t *payload, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    CHECK(p != NULL);
    if (len)
        memcpy(p, payload, len);
    switch (type) {
    case SPOP_FRM_T_HAPROXY_HELLO:
        check_hello(p, len, walk_kv_list(p, len));
        break;
    case SPOP_FRM_T_HAPROXY_DISCON:
    case SPOP_FRM_T_AGENT_HELLO:
    case SPOP_FRM_T_AGENT_DISCON:
        walk_kv_list(p, len);
        break;
    case SPOP_FRM_T_HAPROXY_NOTIFY:
        walk_messages(p, len);
        break;
    case SPOP_FRM_T_AGENT_ACK:
        walk_actions(p, len);
        break;
    default:
        walk_kv_list(p, len);
        walk_messages(p, len);
        walk_actions(p, len);
        break;
    }
    free(p);
}

/* Checks a frame that decoded to <n> bytes at <p> (<len> available). */
static void check_whole_frame(const uint8_t *p, size_t len, ssize_t n, const struct spop_frame *f)
{
    struct spop_frame g;
    CHECK(f->length == spop_get_u32be(p) && f->length <= FUZZ_MAX_FRAME);
    CHECK(n == (ssize_t)(SPOP_FRAME_LEN_BYTES + f->length));
    CHECK(within(f->payload, f->payload_len, p, (size_t)n));
    CHECK(f->payload + f->payload_len == p + n);
    CHECK(f->type == p[4] && f->flags == spop_get_u32be(p + 5));

    /* The header re-encodes to the same bytes (canonical sid/fid varints). */
    struct spop_writer w;
    spop_writer_init(&w, scratch, sizeof(scratch));
    size_t start = spop_frame_begin(&w, f->type, f->flags, f->stream_id, f->frame_id);
    spop_put_raw(&w, f->payload, f->payload_len);
    CHECK(spop_frame_end(&w, start) == n);
    check_same_bytes(&w, p, (size_t)n, NO_TYPE_BYTE);

    /* Prefixes are incomplete; a smaller limit is TOO_BIG from the length alone. */
    CHECK(spop_frame_decode(p, (size_t)n - 1, FUZZ_MAX_FRAME, &g) == 0);
    CHECK(spop_frame_decode(p, SPOP_FRAME_LEN_BYTES, FUZZ_MAX_FRAME, &g) == 0);
    CHECK(spop_frame_decode(p, SPOP_FRAME_LEN_BYTES - 1, FUZZ_MAX_FRAME, &g) == 0);
    CHECK(spop_frame_decode(p, SPOP_FRAME_LEN_BYTES, f->length - 1, &g) == -SPOP_ERR_TOO_BIG);
    CHECK(spop_frame_decode(p, len, f->length - 1, &g) == -SPOP_ERR_TOO_BIG);
    CHECK(spop_frame_decode(p, (size_t)n, f->length, &g) == n);
    CHECK(g.payload == f->payload && g.payload_len == f->payload_len && g.stream_id == f->stream_id &&
          g.frame_id == f->frame_id);

    /* Another limit changes only the TOO_BIG verdict. */
    uint32_t max2 = SPOP_MIN_FRAME_SIZE + (uint32_t)(len % (FUZZ_MAX_FRAME_2 - SPOP_MIN_FRAME_SIZE + 1));
    ssize_t n2 = spop_frame_decode(p, len, max2, &g);
    CHECK(n2 == (f->length <= max2 ? n : -SPOP_ERR_TOO_BIG));

    walk_payload(f->type, f->payload, f->payload_len);
}

/* Decodes one frame at the start of <p>; returns the decoder's result. */
static ssize_t check_frame(const uint8_t *p, size_t len)
{
    struct spop_frame f, untouched;
    memset(&f, 0xa5, sizeof(f));
    memcpy(&untouched, &f, sizeof(f));
    ssize_t n = spop_frame_decode(p, len, FUZZ_MAX_FRAME, &f);
    check_ret(n, len, true);
    if (n <= 0)
        CHECK(memcmp(&f, &untouched, sizeof(f)) == 0);
    if (n == 0)
        CHECK(len < SPOP_FRAME_LEN_BYTES || (uint64_t)spop_get_u32be(p) + SPOP_FRAME_LEN_BYTES > len);
    if (n == -SPOP_ERR_TOO_BIG)
        CHECK(len >= SPOP_FRAME_LEN_BYTES && spop_get_u32be(p) > FUZZ_MAX_FRAME);
    if (n > 0)
        check_whole_frame(p, len, n, &f);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < RAW_OFFSETS && i < size; i++) {
        check_varint(data + i, size - i);
        check_data(data + i, size - i);
    }
    check_varint(data, 0);
    check_data(data, 0);

    size_t off = 0;
    for (size_t steps = 0; steps <= size && off < size; steps++) {
        ssize_t n = check_frame(data + off, size - off);
        if (n <= 0)
            break;
        off += (size_t)n;
        CHECK(off <= size);
    }
    return 0;
}
