/* Unit tests for SPOP frames (spop_frame.h): header decoding on the vectors of
 * spop.md, byte-exact encoders, malformed headers and payload iterators. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "spop/spop_data.h"
#include "spop/spop_frame.h"
#include "spop/spop_proto.h"
#include "test_util.h"

/* spop.md section 1.5: the health-check HAPROXY-HELLO (2.6 and 3.x). */
#define HEALTHCHECK_HELLO                                                                                    \
    "0000004e 01 00000001 00 00"                                                                             \
    " 12 737570706f727465642d76657273696f6e73 08 03 322e30" /* supported-versions "2.0" */                   \
    " 0e 6d61782d6672616d652d73697a65 03 fcf006"            /* max-frame-size 16380 */                       \
    " 0c 6361706162696c6974696573 08 00"                    /* capabilities "" */                            \
    " 0b 6865616c7468636865636b 11"                         /* healthcheck true */

/* spop.md section 1.5: the minimal AGENT-HELLO (68 bytes). */
#define MINIMAL_AGENT_HELLO                                                                                  \
    "00000040 65 00000001 00 00"                                                                             \
    " 07 76657273696f6e 08 03 322e30"                         /* version "2.0" */                            \
    " 0e 6d61782d6672616d652d73697a65 03 fcf006"              /* max-frame-size 16380 */                     \
    " 0c 6361706162696c6974696573 08 0a 706970656c696e696e67" /* capabilities "pipelining" */

/* spop.md section 1.6: AGENT-DISCONNECT, status 0 and an empty message. */
#define AGENT_DISCONNECT                                                                                     \
    "0000001f 66 00000001 00 00"                                                                             \
    " 0b 7374617475732d636f6465 03 00" /* status-code 0 */                                                   \
    " 07 6d657373616765 08 00"         /* message "" */

/* spop.md section 1.4: set-var txn "mirrored" = true. */
#define SET_MIRRORED "01 03 02 08 6d6972726f726564 11"

/* Decodes <hex> into a heap buffer; *len receives its length. */
static uint8_t *must_hex(const char *hex, size_t *len)
{
    uint8_t *raw = NULL;
    long n = hex_decode(hex, &raw);
    ck_assert_int_ge(n, 0);
    *len = (size_t)n;
    return raw;
}

/* Same, into a guarded buffer (release with guarded_free). */
static uint8_t *guarded_hex(const char *hex, size_t *len)
{
    uint8_t *raw = must_hex(hex, len);
    uint8_t *g = guarded_copy(raw, *len);
    free(raw);
    return g;
}

/* Expected KV items: the name and the hex of the typed value. */
struct kv_expect {
    const char *name;
    const char *value_hex;
};

/* A frame from the spec and what its header and KV payload hold. */
struct frame_vec {
    const char *label;
    const char *hex;
    uint8_t type;
    uint64_t sid, fid;
    uint32_t length;
    struct kv_expect kv[5];
};

static const struct frame_vec kv_frames[] = {
    {"healthcheck-hello",
     HEALTHCHECK_HELLO,
     SPOP_FRM_T_HAPROXY_HELLO,
     0,
     0,
     0x4e,
     {{"supported-versions", "08 03 322e30"},
      {"max-frame-size", "03 fcf006"},
      {"capabilities", "08 00"},
      {"healthcheck", "11"}}},
    {"agent-hello",
     MINIMAL_AGENT_HELLO,
     SPOP_FRM_T_AGENT_HELLO,
     0,
     0,
     0x40,
     {{"version", "08 03 322e30"},
      {"max-frame-size", "03 fcf006"},
      {"capabilities", "08 0a 706970656c696e696e67"}}},
    {"agent-disconnect",
     AGENT_DISCONNECT,
     SPOP_FRM_T_AGENT_DISCON,
     0,
     0,
     0x1f,
     {{"status-code", "03 00"}, {"message", "08 00"}}},
};
#define N_KV_FRAMES (sizeof(kv_frames) / sizeof(kv_frames[0]))

/* Walks a KV-LIST payload and compares every item (name, raw value bytes). */
static void assert_kv_payload(const struct frame_vec *v, const uint8_t *p, size_t len)
{
    size_t off = 0, i = 0;
    for (; v->kv[i].name; i++) {
        struct spop_kv kv;
        ssize_t n = spop_kv_next(p + off, len - off, &kv);
        ck_assert_msg(n > 0, "%s: item %zu returned %zd", v->label, i, n);
        ck_assert_msg(spop_bytes_eq(kv.name, v->kv[i].name), "%s: item %zu name", v->label, i);
        size_t want_len;
        uint8_t *want = must_hex(v->kv[i].value_hex, &want_len);
        const uint8_t *value = kv.name.ptr + kv.name.len;
        ck_assert_uint_eq((size_t)(p + off + n - value), want_len);
        ck_assert_mem_eq(value, want, want_len);
        ck_assert_uint_eq(kv.value.type, want[0] & SPOP_DATA_T_MASK);
        free(want);
        off += (size_t)n;
    }
    ck_assert_uint_eq(off, len);
    struct spop_kv kv;
    ck_assert_int_eq(spop_kv_next(p + off, 0, &kv), 0);
}

START_TEST(test_decode_spec_frames)
{
    const struct frame_vec *v = &kv_frames[_i];
    size_t len;
    uint8_t *g = guarded_hex(v->hex, &len);
    ck_assert_uint_eq(len, 4 + v->length);

    struct spop_frame f;
    ck_assert_int_eq(spop_frame_decode(g, len, 16380, &f), (ssize_t)len);
    ck_assert_uint_eq(f.type, v->type);
    ck_assert_uint_eq(f.flags, SPOP_FRM_FL_FIN);
    ck_assert_uint_eq(f.stream_id, v->sid);
    ck_assert_uint_eq(f.frame_id, v->fid);
    ck_assert_uint_eq(f.length, v->length);
    ck_assert_ptr_eq(f.payload, g + 11);
    ck_assert_uint_eq(f.payload_len, v->length - 7);
    assert_kv_payload(v, f.payload, f.payload_len);
    guarded_free(g, len);
}
END_TEST

/* spop.md section 1.7: the NOTIFY captured from 2.6.12 for POST /v1/items?x=1.
 * The spec elides the 118 bytes of headers; they are filled with 'h' here. */
static size_t build_spec_notify(uint8_t *out, size_t cap)
{
    static const char *const args[][2] = {
        {"method", "POST"}, {"path", "/v1/items?x=1"}, {"host", "api.example"}, {"ver", "1.1"}};
    uint8_t hdrs[118];
    memset(hdrs, 'h', sizeof(hdrs));
    struct spop_writer w;
    spop_writer_init(&w, out, cap);
    size_t start = spop_frame_begin(&w, SPOP_FRM_T_HAPROXY_NOTIFY, SPOP_FRM_FL_FIN, 0, 1);
    spop_put_name(&w, "mirror", 6);
    spop_put_u8(&w, 6);
    for (size_t i = 0; i < 4; i++) {
        spop_put_name(&w, args[i][0], strlen(args[i][0]));
        spop_put_str(&w, args[i][1], strlen(args[i][1]));
    }
    struct spop_data bin = {.type = SPOP_DATA_T_BIN, .u.bytes = {hdrs, sizeof(hdrs)}};
    spop_put_name(&w, "hdrs", 4);
    spop_put_data(&w, &bin);
    bin.u.bytes = (struct spop_bytes){(const uint8_t *)"hello=world", 11};
    spop_put_name(&w, "body", 4);
    spop_put_data(&w, &bin);
    ssize_t n = spop_frame_end(&w, start);
    ck_assert_int_gt(n, 0);
    return (size_t)n;
}

START_TEST(test_decode_spec_notify)
{
    uint8_t buf[512];
    size_t len = build_spec_notify(buf, sizeof(buf));
    size_t hlen;
    uint8_t *head = must_hex("000000da 03 00000001 00 01  06 6d6972726f72 06", &hlen);
    ck_assert_uint_eq(len, 4 + 0xda);
    ck_assert_mem_eq(buf, head, hlen);
    free(head);

    /* Only the 11 header bytes: the body is still to come. */
    struct spop_frame f;
    uint8_t *g = guarded_copy(buf, 11);
    ck_assert_int_eq(spop_frame_decode(g, 11, 16380, &f), 0);
    guarded_free(g, 11);

    g = guarded_copy(buf, len);
    ck_assert_int_eq(spop_frame_decode(g, len, 16380, &f), (ssize_t)len);
    ck_assert_uint_eq(f.type, SPOP_FRM_T_HAPROXY_NOTIFY);
    ck_assert_uint_eq(f.flags, SPOP_FRM_FL_FIN);
    ck_assert_uint_eq(f.stream_id, 0);
    ck_assert_uint_eq(f.frame_id, 1);
    ck_assert_uint_eq(f.length, 0xda);
    ck_assert_uint_eq(f.payload_len, 0xda - 7);

    struct spop_message m;
    ck_assert_int_eq(spop_message_next(f.payload, f.payload_len, &m), (ssize_t)f.payload_len);
    ck_assert(spop_bytes_eq(m.name, "mirror"));
    ck_assert_uint_eq(m.nb_args, 6);
    static const char *const names[] = {"method", "path", "host", "ver", "hdrs", "body"};
    static const char *const strs[] = {"POST", "/v1/items?x=1", "api.example", "1.1"};
    size_t off = 0;
    for (size_t i = 0; i < 6; i++) {
        struct spop_kv kv;
        ssize_t n = spop_kv_next(m.args + off, m.args_len - off, &kv);
        ck_assert_int_gt(n, 0);
        ck_assert(spop_bytes_eq(kv.name, names[i]));
        if (i < 4) {
            ck_assert_uint_eq(kv.value.type, SPOP_DATA_T_STR);
            ck_assert(spop_bytes_eq(kv.value.u.bytes, strs[i]));
        } else {
            ck_assert_uint_eq(kv.value.type, SPOP_DATA_T_BIN);
            ck_assert_uint_eq(kv.value.u.bytes.len, i == 4 ? 118 : 11);
        }
        off += (size_t)n;
    }
    ck_assert_uint_eq(off, m.args_len);
    guarded_free(g, len);
}
END_TEST

START_TEST(test_encode_agent_hello)
{
    size_t want_len;
    uint8_t *want = must_hex(MINIMAL_AGENT_HELLO, &want_len);
    ck_assert_uint_eq(want_len, 68);
    uint8_t out[128];
    memset(out, 0xee, sizeof(out));
    ck_assert_int_eq(spop_encode_agent_hello(out, sizeof(out), 16380, "pipelining"), 68);
    ck_assert_mem_eq(out, want, 68);
    ck_assert_uint_eq(out[68], 0xee);
    free(want);
}
END_TEST

START_TEST(test_encode_agent_disconnect)
{
    size_t want_len;
    uint8_t *want = must_hex(AGENT_DISCONNECT, &want_len);
    ck_assert_uint_eq(want_len, 35);
    uint8_t out[64];
    memset(out, 0xee, sizeof(out));
    ck_assert_int_eq(spop_encode_agent_disconnect(out, sizeof(out), 0, ""), 35);
    ck_assert_mem_eq(out, want, 35);
    ck_assert_uint_eq(out[35], 0xee);
    free(want);

    /* A non-zero status and a message decode back. */
    ssize_t n = spop_encode_agent_disconnect(out, sizeof(out), SPOP_ERR_BAD_VSN, "bye");
    ck_assert_int_gt(n, 0);
    struct spop_frame f;
    ck_assert_int_eq(spop_frame_decode(out, (size_t)n, 16380, &f), n);
    ck_assert_uint_eq(f.type, SPOP_FRM_T_AGENT_DISCON);
    struct spop_kv kv;
    ssize_t k = spop_kv_next(f.payload, f.payload_len, &kv);
    ck_assert_int_gt(k, 0);
    ck_assert(spop_bytes_eq(kv.name, "status-code"));
    uint64_t status;
    ck_assert(spop_data_as_uint(&kv.value, &status));
    ck_assert_uint_eq(status, SPOP_ERR_BAD_VSN);
    ck_assert_int_gt(spop_kv_next(f.payload + k, f.payload_len - (size_t)k, &kv), 0);
    ck_assert(spop_bytes_eq(kv.name, "message"));
    ck_assert(spop_bytes_eq(kv.value.u.bytes, "bye"));
}
END_TEST

static const struct spop_action mirrored_true = {
    .type = SPOP_ACT_T_SET_VAR,
    .scope = SPOP_SCOPE_TXN,
    .name = {(const uint8_t *)"mirrored", 8},
    .value = {.type = SPOP_DATA_T_BOOL, .u.boolean = true},
};

struct ack_vec {
    uint64_t sid, fid;
    const char *header_hex;
};

static const struct ack_vec acks[] = {
    {0, 1, "00000014 67 00000001 00 01"},
    {5, 1, "00000014 67 00000001 05 01"},
    {16380, 2288, "00000018 67 00000001 fcf006 f08000"},
    {UINT64_MAX, 239, "0000001d 67 00000001 fff0fefefefefefefe0e ef"},
};
#define N_ACKS (sizeof(acks) / sizeof(acks[0]))

START_TEST(test_encode_ack)
{
    const struct ack_vec *v = &acks[_i];
    size_t hlen, alen;
    uint8_t *header = must_hex(v->header_hex, &hlen);
    uint8_t *action = must_hex(SET_MIRRORED, &alen);
    ck_assert_uint_eq(alen, 13);

    uint8_t out[64];
    ssize_t n = spop_encode_ack(out, sizeof(out), v->sid, v->fid, &mirrored_true, 1);
    ck_assert_int_eq(n, (ssize_t)(hlen + alen));
    ck_assert_mem_eq(out, header, hlen);
    ck_assert_mem_eq(out + hlen, action, alen);
    free(header);
    free(action);

    /* Round trip: the header echoes sid/fid and the action decodes back. */
    uint8_t *g = guarded_copy(out, (size_t)n);
    struct spop_frame f;
    ck_assert_int_eq(spop_frame_decode(g, (size_t)n, 16380, &f), n);
    ck_assert_uint_eq(f.type, SPOP_FRM_T_AGENT_ACK);
    ck_assert_uint_eq(f.flags, SPOP_FRM_FL_FIN);
    ck_assert_uint_eq(f.stream_id, v->sid);
    ck_assert_uint_eq(f.frame_id, v->fid);
    ck_assert_uint_eq(f.payload_len, 13);
    struct spop_action a;
    ck_assert_int_eq(spop_action_next(f.payload, f.payload_len, &a), 13);
    ck_assert_uint_eq(a.type, SPOP_ACT_T_SET_VAR);
    ck_assert_uint_eq(a.scope, SPOP_SCOPE_TXN);
    ck_assert(spop_bytes_eq(a.name, "mirrored"));
    ck_assert_uint_eq(a.value.type, SPOP_DATA_T_BOOL);
    ck_assert(a.value.u.boolean);
    ck_assert_int_eq(spop_action_next(f.payload + 13, 0, &a), 0);
    guarded_free(g, (size_t)n);
}
END_TEST

START_TEST(test_encode_ack_many)
{
    struct spop_action acts[3] = {
        mirrored_true,
        {.type = SPOP_ACT_T_UNSET_VAR, .scope = SPOP_SCOPE_REQ, .name = {(const uint8_t *)"name", 4}},
        {.type = SPOP_ACT_T_SET_VAR,
         .scope = SPOP_SCOPE_SESS,
         .name = {(const uint8_t *)"n", 1},
         .value = {.type = SPOP_DATA_T_INT64, .u.i64 = -1}},
    };
    uint8_t out[128];
    ssize_t n = spop_encode_ack(out, sizeof(out), 3, 2, acts, 3);
    size_t wlen;
    uint8_t *want = must_hex("0000002c 67 00000001 03 02 " SET_MIRRORED " 02 02 03 04 6e616d65"
                             " 01 03 01 01 6e 04 fff0fefefefefefefe0e",
                             &wlen);
    ck_assert_int_eq(n, (ssize_t)wlen);
    ck_assert_mem_eq(out, want, wlen);
    free(want);

    struct spop_frame f;
    ck_assert_int_eq(spop_frame_decode(out, (size_t)n, 16380, &f), n);
    size_t off = 0;
    for (size_t i = 0; i < 3; i++) {
        struct spop_action a;
        ssize_t k = spop_action_next(f.payload + off, f.payload_len - off, &a);
        ck_assert_int_gt(k, 0);
        ck_assert_uint_eq(a.type, acts[i].type);
        ck_assert_uint_eq(a.scope, acts[i].scope);
        ck_assert_uint_eq(a.name.len, acts[i].name.len);
        ck_assert_mem_eq(a.name.ptr, acts[i].name.ptr, a.name.len);
        ck_assert_uint_eq(a.value.type, i == 1 ? SPOP_DATA_T_NULL : acts[i].value.type);
        off += (size_t)k;
    }
    ck_assert_uint_eq(off, f.payload_len);

    /* An empty ACK is legal: a bare 7-byte header. */
    ck_assert_int_eq(spop_encode_ack(out, sizeof(out), 9, 1, NULL, 0), 11);
    ck_assert_int_eq(spop_frame_decode(out, 11, 16380, &f), 11);
    ck_assert_uint_eq(f.payload_len, 0);
    ck_assert_uint_eq(f.stream_id, 9);
}
END_TEST

/* Only the 4 length bytes are there: a too-big frame is refused at once. */
START_TEST(test_too_big)
{
    static const struct {
        const char *hex;
        uint32_t max;
    } cases[] = {
        {"00003ffd", 16380}, {"00004000", 16380},          {"ffffffff", 16380},
        {"00000101", 256},   {"ffffffff", UINT32_MAX - 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        uint8_t *g = guarded_hex(cases[i].hex, &len);
        struct spop_frame f;
        ck_assert_int_eq(spop_frame_decode(g, len, cases[i].max, &f), -SPOP_ERR_TOO_BIG);
        guarded_free(g, len);
    }
    /* At the limit the frame is acceptable, merely incomplete. */
    size_t len;
    uint8_t *g = guarded_hex("00003ffc", &len);
    struct spop_frame f;
    ck_assert_int_eq(spop_frame_decode(g, len, 16380, &f), 0);
    guarded_free(g, len);
}
END_TEST

/* _i = a length field of 0..6: too short for type, flags, sid and fid. */
START_TEST(test_length_too_small)
{
    uint8_t buf[4 + 11] = {0, 0, 0, (uint8_t)_i, SPOP_FRM_T_HAPROXY_NOTIFY, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0};
    for (size_t len = 4; len <= sizeof(buf); len++) {
        uint8_t *g = guarded_copy(buf, len);
        struct spop_frame f;
        ck_assert_int_eq(spop_frame_decode(g, len, 16380, &f), -SPOP_ERR_INVALID);
        guarded_free(g, len);
    }
}
END_TEST

/* Stream-id / frame-id varints that do not fit the announced length. The
 * bytes after the frame would complete them and must not be read. */
static const char *const bad_ids[] = {
    "00000007 03 00000001 00 f0  00",
    "00000007 03 00000001 f0 00  01",
    "00000008 03 00000001 f0 80 80  01 01",
    "00000008 03 00000001 00 f0 80  00",
    "00000010 03 00000001 f0 80 80 80 80 80 80 80 80 80 80  00 01",
    "00000010 03 00000001 00 ff ff ff ff ff ff ff ff ff 0e",
};
#define N_BAD_IDS (sizeof(bad_ids) / sizeof(bad_ids[0]))

START_TEST(test_bad_ids)
{
    size_t len;
    uint8_t *g = guarded_hex(bad_ids[_i], &len);
    struct spop_frame f;
    memset(&f, 0xa5, sizeof(f));
    ck_assert_int_eq(spop_frame_decode(g, len, 16380, &f), -SPOP_ERR_INVALID);
    ck_assert_uint_eq(f.type, 0xa5);
    guarded_free(g, len);
}
END_TEST

/* Every strict prefix of a valid frame is incomplete. */
static void assert_prefixes_incomplete(const uint8_t *frame, size_t len)
{
    for (size_t k = 0; k < len; k++) {
        uint8_t *g = guarded_copy(frame, k);
        struct spop_frame f;
        ck_assert_msg(spop_frame_decode(g, k, 16380, &f) == 0, "prefix of %zu bytes", k);
        guarded_free(g, k);
    }
}

START_TEST(test_prefixes_spec_frames)
{
    size_t len;
    uint8_t *raw = must_hex(kv_frames[_i].hex, &len);
    assert_prefixes_incomplete(raw, len);
    free(raw);
}
END_TEST

START_TEST(test_prefixes_notify_and_ack)
{
    uint8_t buf[512];
    size_t len = build_spec_notify(buf, sizeof(buf));
    assert_prefixes_incomplete(buf, len);
    ssize_t n = spop_encode_ack(buf, sizeof(buf), UINT64_MAX, UINT64_MAX, &mirrored_true, 1);
    ck_assert_int_gt(n, 0);
    assert_prefixes_incomplete(buf, (size_t)n);
}
END_TEST

START_TEST(test_back_to_back)
{
    size_t l1, l2, l3;
    uint8_t *a = must_hex(MINIMAL_AGENT_HELLO, &l1);
    uint8_t *b = must_hex(AGENT_DISCONNECT, &l2);
    uint8_t *c = must_hex(HEALTHCHECK_HELLO, &l3);
    size_t part = l3 / 2;
    uint8_t stream[256];
    memcpy(stream, a, l1);
    memcpy(stream + l1, b, l2);
    memcpy(stream + l1 + l2, c, part);
    size_t total = l1 + l2 + part;
    uint8_t *g = guarded_copy(stream, total);

    struct spop_frame f;
    ck_assert_int_eq(spop_frame_decode(g, total, 16380, &f), (ssize_t)l1);
    ck_assert_uint_eq(f.type, SPOP_FRM_T_AGENT_HELLO);
    ck_assert_uint_eq(f.payload_len, l1 - 11);
    ck_assert_int_eq(spop_frame_decode(g + l1, total - l1, 16380, &f), (ssize_t)l2);
    ck_assert_uint_eq(f.type, SPOP_FRM_T_AGENT_DISCON);
    ck_assert_uint_eq(f.payload_len, l2 - 11);
    ck_assert_int_eq(spop_frame_decode(g + l1 + l2, part, 16380, &f), 0);
    guarded_free(g, total);
    free(a);
    free(b);
    free(c);
}
END_TEST

/* Writes one of the three encoders' frames into <out>; _i picks it. */
static ssize_t encode_one(int which, uint8_t *out, size_t cap)
{
    switch (which) {
    case 0:
        return spop_encode_agent_hello(out, cap, 16380, "pipelining");
    case 1:
        return spop_encode_agent_disconnect(out, cap, 0, "");
    default:
        return spop_encode_ack(out, cap, 16380, 2288, &mirrored_true, 1);
    }
}

START_TEST(test_encoder_small_cap)
{
    uint8_t mem[128];
    ssize_t full = encode_one(_i, mem, sizeof(mem));
    ck_assert_int_gt(full, 0);
    for (size_t cap = 0; cap < (size_t)full; cap++) {
        memset(mem, 0xee, sizeof(mem));
        ck_assert_int_eq(encode_one(_i, mem, cap), -SPOP_ERR_RES);
        for (size_t i = cap; i < sizeof(mem); i++)
            ck_assert_msg(mem[i] == 0xee, "cap %zu: byte %zu written", cap, i);
    }
    ck_assert_int_eq(encode_one(_i, mem, (size_t)full), full);
}
END_TEST

enum iter_kind { IT_KV, IT_MSG, IT_ACT };

struct iter_case {
    enum iter_kind kind;
    const char *hex;
};

/* Payload items that must be refused (each payload is complete). */
static const struct iter_case malformed[] = {
    /* messages */
    {IT_MSG, "06 6d6972726f72"},                           /* no nb-args */
    {IT_MSG, "10 6d6972726f72"},                           /* name past the end */
    {IT_MSG, "ff f0 fe fe fe fe fe fe fe 0e 61"},          /* huge name length */
    {IT_MSG, "06 6d6972726f72 01 04 70617468 08 05 6162"}, /* truncated argument value */
    {IT_MSG, "06 6d6972726f72 01 04 7061"},                /* truncated argument name */
    {IT_MSG, "06 6d6972726f72 01 04 70617468"},            /* argument without a value */
    {IT_MSG, "06 6d6972726f72 02 04 70617468 08 01 61"},   /* 2 args announced, 1 present */
    {IT_MSG, "06 6d6972726f72 ff 00 00"},                  /* 255 args announced, 1 present */
    {IT_MSG, "06 6d6972726f72 01 04 70617468 0b"},         /* unknown argument type */
    {IT_MSG, "06 6d6972726f72 01 00 06 7f 00"},            /* truncated IPv4 */
    /* KV items */
    {IT_KV, "04 70617468"},
    {IT_KV, "04 7061"},
    {IT_KV, "04 70617468 08 05 6162"},
    {IT_KV, "04 70617468 0c"},
    {IT_KV, "04 70617468 07 00 00 00 00"},
    {IT_KV, "ff f0 fe fe fe fe fe fe fe 0e"},
    {IT_KV, "f0 80 80 80 80 80 80 80 80 80 80 00 00"},
    {IT_KV, "04 70617468 08 f0 80 80 80 80 80 80 80 80 80 80 00"},
    /* actions */
    {IT_ACT, "03 03 02 08 6d6972726f726564 11"}, /* unknown action type */
    {IT_ACT, "00 03 02 08 6d6972726f726564 11"},
    {IT_ACT, "01 02 02 08 6d6972726f726564 11"}, /* set-var with 2 args */
    {IT_ACT, "01 04 02 08 6d6972726f726564 11"},
    {IT_ACT, "02 03 02 08 6d6972726f726564 11"}, /* unset-var with 3 args */
    {IT_ACT, "02 01 02"},
    {IT_ACT, "01 03 02 08 6d6972726f726564"},    /* set-var without a value */
    {IT_ACT, "01 03 02 08 6d697272"},            /* truncated name */
    {IT_ACT, "01 03 02 08 6d6972726f726564 0d"}, /* unknown value type */
    {IT_ACT, "01 03 02 08 6d6972726f726564 08 05 6162"},
    {IT_ACT, "02 02 02"}, /* unset-var without a name */
    {IT_ACT, "01 03"},
    {IT_ACT, "01"},
};
#define N_MALFORMED (sizeof(malformed) / sizeof(malformed[0]))

START_TEST(test_iterators_malformed)
{
    const struct iter_case *c = &malformed[_i];
    size_t len;
    uint8_t *g = guarded_hex(c->hex, &len);
    union {
        struct spop_kv kv;
        struct spop_message m;
        struct spop_action a;
    } out, before;
    memset(&out, 0xa5, sizeof(out));
    memcpy(&before, &out, sizeof(out));
    ssize_t r;
    switch (c->kind) {
    case IT_KV:
        r = spop_kv_next(g, len, &out.kv);
        break;
    case IT_MSG:
        r = spop_message_next(g, len, &out.m);
        break;
    default:
        r = spop_action_next(g, len, &out.a);
        break;
    }
    ck_assert_msg(r < 0, "case %d (%s) returned %zd", _i, c->hex, r);
    ck_assert_mem_eq(&out, &before, sizeof(out));
    guarded_free(g, len);
}
END_TEST

START_TEST(test_iterators_empty)
{
    struct spop_kv kv;
    struct spop_message m;
    struct spop_action a;
    uint8_t *g = guarded_copy(NULL, 0);
    ck_assert_int_eq(spop_kv_next(g, 0, &kv), 0);
    ck_assert_int_eq(spop_message_next(g, 0, &m), 0);
    ck_assert_int_eq(spop_action_next(g, 0, &a), 0);
    guarded_free(g, 0);
}
END_TEST

/* Two messages with unnamed arguments, as `args src dst` sends them. */
START_TEST(test_messages_walk)
{
    size_t len;
    uint8_t *g = guarded_hex("01 61 02 00 00 00 11   01 62 01 03 6b6579 03 05   06 6d6972726f72 00", &len);
    struct spop_message m;
    struct spop_kv kv;

    ck_assert_int_eq(spop_message_next(g, len, &m), 7);
    ck_assert(spop_bytes_eq(m.name, "a"));
    ck_assert_uint_eq(m.nb_args, 2);
    ck_assert_uint_eq(m.args_len, 4);
    ck_assert_int_eq(spop_kv_next(m.args, m.args_len, &kv), 2);
    ck_assert_uint_eq(kv.name.len, 0);
    ck_assert_uint_eq(kv.value.type, SPOP_DATA_T_NULL);
    ck_assert_int_eq(spop_kv_next(m.args + 2, m.args_len - 2, &kv), 2);
    ck_assert_uint_eq(kv.value.type, SPOP_DATA_T_BOOL);
    ck_assert(kv.value.u.boolean);

    ck_assert_int_eq(spop_message_next(g + 7, len - 7, &m), 9);
    ck_assert(spop_bytes_eq(m.name, "b"));
    ck_assert_uint_eq(m.nb_args, 1);
    ck_assert_int_eq(spop_kv_next(m.args, m.args_len, &kv), (ssize_t)m.args_len);
    ck_assert(spop_bytes_eq(kv.name, "key"));
    uint64_t v;
    ck_assert(spop_data_as_uint(&kv.value, &v));
    ck_assert_uint_eq(v, 5);

    ck_assert_int_eq(spop_message_next(g + 16, len - 16, &m), 8);
    ck_assert(spop_bytes_eq(m.name, "mirror"));
    ck_assert_uint_eq(m.nb_args, 0);
    ck_assert_uint_eq(m.args_len, 0);
    ck_assert_uint_eq(len, 24);
    guarded_free(g, len);
}
END_TEST

START_TEST(test_actions_walk)
{
    size_t len;
    uint8_t *g =
        guarded_hex(SET_MIRRORED " 02 02 03 04 6e616d65  01 03 00 01 78 04 fff0fefefefefefefe0e", &len);
    struct spop_action a;
    ck_assert_int_eq(spop_action_next(g, len, &a), 13);
    ck_assert_int_eq(spop_action_next(g + 13, len - 13, &a), 8);
    ck_assert_uint_eq(a.type, SPOP_ACT_T_UNSET_VAR);
    ck_assert_uint_eq(a.scope, SPOP_SCOPE_REQ);
    ck_assert(spop_bytes_eq(a.name, "name"));
    ck_assert_uint_eq(a.value.type, SPOP_DATA_T_NULL);
    ck_assert_int_eq(spop_action_next(g + 21, len - 21, &a), 16);
    ck_assert_uint_eq(a.type, SPOP_ACT_T_SET_VAR);
    ck_assert_uint_eq(a.scope, SPOP_SCOPE_PROC);
    ck_assert(spop_bytes_eq(a.name, "x"));
    ck_assert_uint_eq(a.value.type, SPOP_DATA_T_INT64);
    ck_assert_int_eq(a.value.u.i64, -1);
    ck_assert_uint_eq(len, 37);
    guarded_free(g, len);
}
END_TEST

Suite *frame_suite(void);

/* frame_suite: the Check suite for spop_frame.h. */
Suite *frame_suite(void)
{
    Suite *s = suite_create("frame");

    TCase *tc = tcase_create("spec");
    tcase_add_loop_test(tc, test_decode_spec_frames, 0, (int)N_KV_FRAMES);
    tcase_add_test(tc, test_decode_spec_notify);
    tcase_add_test(tc, test_back_to_back);
    suite_add_tcase(s, tc);

    tc = tcase_create("encode");
    tcase_add_test(tc, test_encode_agent_hello);
    tcase_add_test(tc, test_encode_agent_disconnect);
    tcase_add_loop_test(tc, test_encode_ack, 0, (int)N_ACKS);
    tcase_add_test(tc, test_encode_ack_many);
    tcase_add_loop_test(tc, test_encoder_small_cap, 0, 3);
    suite_add_tcase(s, tc);

    tc = tcase_create("header");
    tcase_add_test(tc, test_too_big);
    tcase_add_loop_test(tc, test_length_too_small, 0, 7);
    tcase_add_loop_test(tc, test_bad_ids, 0, (int)N_BAD_IDS);
    tcase_add_loop_test(tc, test_prefixes_spec_frames, 0, (int)N_KV_FRAMES);
    tcase_add_test(tc, test_prefixes_notify_and_ack);
    suite_add_tcase(s, tc);

    tc = tcase_create("iterators");
    tcase_add_loop_test(tc, test_iterators_malformed, 0, (int)N_MALFORMED);
    tcase_add_test(tc, test_iterators_empty);
    tcase_add_test(tc, test_messages_walk);
    tcase_add_test(tc, test_actions_walk);
    suite_add_tcase(s, tc);
    return s;
}
