/* SPOP wire constants: frame types, flags, typed-data types, action types,
 * variable scopes and the status codes carried by DISCONNECT frames.
 * Names follow HAProxy's own (include/haproxy/spoe-t.h) so that logs and
 * the specification line up. */
#ifndef SPOA_SPOP_PROTO_H
#define SPOA_SPOP_PROTO_H

#include <stdint.h>

/* Frame types. */
enum spop_frame_type {
    SPOP_FRM_T_UNSET = 0,
    SPOP_FRM_T_HAPROXY_HELLO = 1,
    SPOP_FRM_T_HAPROXY_DISCON = 2,
    SPOP_FRM_T_HAPROXY_NOTIFY = 3,
    SPOP_FRM_T_AGENT_HELLO = 101,
    SPOP_FRM_T_AGENT_DISCON = 102,
    SPOP_FRM_T_AGENT_ACK = 103,
};

/* Frame flags (32 bits, big-endian on the wire). */
#define SPOP_FRM_FL_FIN   0x00000001u
#define SPOP_FRM_FL_ABORT 0x00000002u

/* Typed-data types: the low nibble of the type byte; the high nibble holds flags. */
enum spop_data_type {
    SPOP_DATA_T_NULL = 0,
    SPOP_DATA_T_BOOL = 1,
    SPOP_DATA_T_INT32 = 2,
    SPOP_DATA_T_UINT32 = 3,
    SPOP_DATA_T_INT64 = 4,
    SPOP_DATA_T_UINT64 = 5,
    SPOP_DATA_T_IPV4 = 6,
    SPOP_DATA_T_IPV6 = 7,
    SPOP_DATA_T_STR = 8,
    SPOP_DATA_T_BIN = 9,
    SPOP_DATA_T_ENTRIES
};
#define SPOP_DATA_T_MASK  0x0f
#define SPOP_DATA_FL_TRUE 0x10
#define SPOP_DATA_FL_MASK 0xf0

/* ACK action types. */
enum spop_action_type {
    SPOP_ACT_T_SET_VAR = 1,
    SPOP_ACT_T_UNSET_VAR = 2,
};

/* Variable scopes used by set-var / unset-var. */
enum spop_scope {
    SPOP_SCOPE_PROC = 0,
    SPOP_SCOPE_SESS = 1,
    SPOP_SCOPE_TXN = 2,
    SPOP_SCOPE_REQ = 3,
    SPOP_SCOPE_RES = 4,
};

/* Status codes of DISCONNECT frames (SPOE.txt section 3.5). */
/* clang-format off */
#define SPOP_ERRORS(X)                                           \
    X(NONE,          0,  "normal")                               \
    X(IO,            1,  "I/O error")                            \
    X(TOUT,          2,  "a timeout occurred")                   \
    X(TOO_BIG,       3,  "frame is too big")                     \
    X(INVALID,       4,  "invalid frame received")               \
    X(NO_VSN,        5,  "version value not found")              \
    X(NO_FRAME_SIZE, 6,  "max-frame-size value not found")       \
    X(NO_CAP,        7,  "capabilities value not found")         \
    X(BAD_VSN,       8,  "unsupported version")                  \
    X(BAD_FRAME_SIZE,9,  "max-frame-size too big or too small")  \
    X(FRAG_NOT_SUPPORTED, 10, "fragmentation not supported")     \
    X(INTERLACED_FRAMES,  11, "invalid interlaced frames")       \
    X(FRAMEID_NOTFOUND,   12, "frame-id not found")              \
    X(RES,           13, "resource allocation error")            \
    X(UNKNOWN,       99, "an unknown error occurred")
/* clang-format on */

enum spop_error {
#define SPOP_ERR_ENUM(name, code, text) SPOP_ERR_##name = code,
    SPOP_ERRORS(SPOP_ERR_ENUM)
#undef SPOP_ERR_ENUM
};

/* The only SPOP version that exists. */
#define SPOP_VERSION "2.0"

/* Smallest max-frame-size a peer may negotiate. */
#define SPOP_MIN_FRAME_SIZE 256u

/* Bytes of the frame header before the payload, excluding the 4-byte length:
 * type (1) + flags (4) + two varints (1..10 bytes each). */
#define SPOP_FRAME_LEN_BYTES 4u

/* Longest varint encoding, in bytes. */
#define SPOP_VARINT_MAX_BYTES 10u

/* spop_error_str: returns the static description of a DISCONNECT status code,
 * or "unknown status" for a code not in the table. Never NULL. */
const char *spop_error_str(int code);

/* spop_frame_type_str: returns a static lowercase name for a frame type
 * ("haproxy-hello", "notify", ...), or "unknown". Never NULL. */
const char *spop_frame_type_str(int type);

#endif
