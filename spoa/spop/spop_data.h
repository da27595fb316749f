/* SPOP typed data: decode into views that point into the caller's buffer,
 * and encode into a caller-provided buffer. No allocation, no state. */
#ifndef SPOA_SPOP_DATA_H
#define SPOA_SPOP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A byte range inside a decoded frame (not NUL-terminated). */
struct spop_bytes {
    const uint8_t *ptr;
    size_t len;
};

/* One decoded value. For STR and BIN, <bytes> points into the input buffer and
 * is valid as long as that buffer is. Integers of every width are widened:
 * signed types into <i64>, unsigned types into <u64>. */
struct spop_data {
    uint8_t type; /* enum spop_data_type */
    union {
        bool boolean;
        int64_t i64;
        uint64_t u64;
        uint8_t ipv4[4];
        uint8_t ipv6[16];
        struct spop_bytes bytes;
    } u;
};

/* spop_data_decode: decodes one typed value from the <len> bytes at <p>.
 * Returns the bytes consumed (> 0), 0 when the input ends inside the value
 * (a string or binary whose length runs past the input included), or
 * -SPOP_ERR_INVALID for an unknown type or an invalid varint. Never reads
 * past p+len. */
ssize_t spop_data_decode(const uint8_t *p, size_t len, struct spop_data *out);

/* spop_bytes_decode: decodes a length-prefixed byte string (a KV or message
 * name: varint length + bytes, no type byte). Same returns as spop_data_decode(). */
ssize_t spop_bytes_decode(const uint8_t *p, size_t len, struct spop_bytes *out);

/* spop_bytes_eq: true when <b> holds exactly the bytes of the C string <s>. */
bool spop_bytes_eq(struct spop_bytes b, const char *s);

/* spop_bytes_ieq: true when <a> and <b> hold the same bytes, ignoring ASCII
 * case (header names, host names). */
bool spop_bytes_ieq(struct spop_bytes a, struct spop_bytes b);

/* spop_bytes_ieq_str: spop_bytes_ieq() against the C string <s>. */
bool spop_bytes_ieq_str(struct spop_bytes b, const char *s);

/* spop_data_as_uint: stores an integer value of any SPOP integer type into
 * *out. Returns false (and leaves *out alone) for a non-integer or a negative
 * signed value. */
bool spop_data_as_uint(const struct spop_data *d, uint64_t *out);

/* A cursor that appends encoded data to a fixed buffer. After an overflow,
 * <failed> is set, nothing more is written and <len> stops growing. */
struct spop_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool failed;
};

/* spop_writer_init: starts a writer over <cap> bytes at <buf> (owned by the caller). */
void spop_writer_init(struct spop_writer *w, uint8_t *buf, size_t cap);
/* spop_put_raw: appends <len> raw bytes. */
void spop_put_raw(struct spop_writer *w, const void *p, size_t len);
/* spop_put_u8 / spop_put_u32be: append one byte / a 32-bit big-endian integer. */
void spop_put_u8(struct spop_writer *w, uint8_t v);
void spop_put_u32be(struct spop_writer *w, uint32_t v);
/* spop_put_varint: appends a varint. */
void spop_put_varint(struct spop_writer *w, uint64_t v);
/* spop_put_name: appends a length-prefixed name (KV key, variable name). */
void spop_put_name(struct spop_writer *w, const char *name, size_t len);
/* spop_put_data: appends one typed value. */
void spop_put_data(struct spop_writer *w, const struct spop_data *d);
/* spop_put_str / spop_put_bool / spop_put_uint: shortcuts for typed STRING,
 * BOOL and UINT32 (UINT64 when the value needs it) values. */
void spop_put_str(struct spop_writer *w, const char *s, size_t len);
void spop_put_bool(struct spop_writer *w, bool v);
void spop_put_uint(struct spop_writer *w, uint64_t v);

/* spop_get_u32be: reads a 32-bit big-endian integer from 4 bytes at <p>. */
uint32_t spop_get_u32be(const uint8_t *p);

#endif
