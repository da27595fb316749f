/* SPOP frames: the header, and iterators over the three payload kinds
 * (KV-LIST, LIST-OF-MESSAGES, LIST-OF-ACTIONS). Pure functions over
 * (pointer, length): no allocation, no I/O; outputs point into the input. */
#ifndef SPOA_SPOP_FRAME_H
#define SPOA_SPOP_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spop/spop_data.h"

/* One decoded frame. <payload> points into the caller's buffer. */
struct spop_frame {
    uint8_t type;   /* enum spop_frame_type */
    uint32_t flags; /* SPOP_FRM_FL_* */
    uint64_t stream_id;
    uint64_t frame_id;
    uint32_t length; /* the length field: bytes after the 4-byte length */
    const uint8_t *payload;
    size_t payload_len;
};

/* spop_frame_decode: looks for one frame at the start of the <len> bytes at <p>,
 * a stream that may hold less than a frame or more than one.
 * Returns the whole frame's size (4 + length) when it is complete and its header
 * valid; 0 when more bytes are needed; -SPOP_ERR_TOO_BIG as soon as the 4 length
 * bytes announce more than <max_frame> (so the body need not be read);
 * -SPOP_ERR_INVALID when the header does not fit the announced length.
 * *f is written only on success. */
ssize_t spop_frame_decode(const uint8_t *p, size_t len, uint32_t max_frame, struct spop_frame *f);

/* A KV-LIST item, or a message argument: a name and a typed value. */
struct spop_kv {
    struct spop_bytes name;
    struct spop_data value;
};

/* The iterators below walk a payload that is complete: a truncated item is an
 * error, not "incomplete". Each returns the bytes consumed by one item (> 0),
 * 0 when <len> is 0 (end of the list), or a negative SPOP error
 * (-SPOP_ERR_INVALID). Outputs are written only on success. */

/* spop_kv_next: decodes one KV-LIST item (HELLO and DISCONNECT payloads), or
 * one message argument. */
ssize_t spop_kv_next(const uint8_t *p, size_t len, struct spop_kv *kv);

/* One message of a NOTIFY's LIST-OF-MESSAGES. <args> spans its <nb_args>
 * arguments, each already checked to decode; walk them with spop_kv_next(). */
struct spop_message {
    struct spop_bytes name;
    uint8_t nb_args;
    const uint8_t *args;
    size_t args_len;
};

/* spop_message_next: decodes one message and validates all of its arguments. */
ssize_t spop_message_next(const uint8_t *p, size_t len, struct spop_message *m);

/* One action of an ACK's LIST-OF-ACTIONS. For UNSET_VAR, <value> is NULL-typed. */
struct spop_action {
    uint8_t type;  /* enum spop_action_type */
    uint8_t scope; /* enum spop_scope */
    struct spop_bytes name;
    struct spop_data value;
};

/* spop_action_next: decodes one set-var or unset-var action. An unknown action
 * type or a wrong argument count is -SPOP_ERR_INVALID. */
ssize_t spop_action_next(const uint8_t *p, size_t len, struct spop_action *a);

/* spop_frame_begin: appends a frame header to <w> with a placeholder length
 * and returns the header's offset, for spop_frame_end(). */
size_t spop_frame_begin(struct spop_writer *w, uint8_t type, uint32_t flags, uint64_t sid, uint64_t fid);

/* spop_frame_end: patches the length of the frame started at <start>.
 * Returns the whole frame's size, or -SPOP_ERR_RES when <w> overflowed. */
ssize_t spop_frame_end(struct spop_writer *w, size_t start);

/* spop_put_action: appends one action (set-var with a value, or unset-var). */
void spop_put_action(struct spop_writer *w, const struct spop_action *a);

/* spop_encode_agent_hello: writes an AGENT-HELLO (version "2.0", the given
 * max-frame-size and capabilities) to <out>. Returns its size or -SPOP_ERR_RES
 * when <cap> is too small. */
ssize_t spop_encode_agent_hello(uint8_t *out, size_t cap, uint32_t max_frame, const char *capabilities);

/* spop_encode_ack: writes an ACK echoing <sid>/<fid> with <n> actions.
 * Returns its size or -SPOP_ERR_RES when <cap> is too small. */
ssize_t spop_encode_ack(uint8_t *out, size_t cap, uint64_t sid, uint64_t fid,
                        const struct spop_action *actions, size_t n);

/* spop_encode_agent_disconnect: writes an AGENT-DISCONNECT with <status> and
 * <message> (a C string). Returns its size or -SPOP_ERR_RES. */
ssize_t spop_encode_agent_disconnect(uint8_t *out, size_t cap, uint32_t status, const char *message);

#endif
