/* The SPOP variable-length integer (HAProxy's "peers" encoding). */
#ifndef SPOA_SPOP_VARINT_H
#define SPOA_SPOP_VARINT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* spop_varint_decode: decodes one varint from the <len> bytes at <p> into *out.
 * Returns the bytes consumed (1..10), 0 when the input ends before the varint
 * does, or -SPOP_ERR_INVALID for an encoding longer than 10 bytes or one whose
 * value does not fit in 64 bits. Never reads past p+len; *out is written only
 * on success. */
ssize_t spop_varint_decode(const uint8_t *p, size_t len, uint64_t *out);

/* spop_varint_encode: writes the encoding of <v> to <out>, which must have room
 * for SPOP_VARINT_MAX_BYTES bytes. Returns the bytes written (1..10). */
size_t spop_varint_encode(uint64_t v, uint8_t *out);

/* spop_varint_size: returns the number of bytes spop_varint_encode() writes for <v>. */
size_t spop_varint_size(uint64_t v);

#endif
