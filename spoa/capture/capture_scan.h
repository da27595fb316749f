/* A size guard run before msgpack-c decodes a capture record: msgpack-c
 * allocates room for an array or map as soon as it reads the element count,
 * so a few corrupt bytes declaring four billion elements would ask for
 * ~128 GB. This walks only the type bytes and lengths of one MessagePack
 * value (it decodes nothing) to find where the value ends and to check that
 * every declared size fits in the input. */
#ifndef SPOA_CAPTURE_SCAN_H
#define SPOA_CAPTURE_SCAN_H

#include <stddef.h>
#include <stdint.h>

enum capture_scan {
    CAPTURE_SCAN_COMPLETE,   /* one whole value: *end is set */
    CAPTURE_SCAN_INCOMPLETE, /* the input ends inside the value (or a declared size passes its end) */
    CAPTURE_SCAN_INVALID,    /* a byte that starts no MessagePack value (0xc1) */
};

/* capture_scan_value: looks at the value starting at <p> (<len> bytes, at
 * least one element or map entry byte per declared element, so every count
 * is bounded by <len>). On CAPTURE_SCAN_COMPLETE, *end is the length of the
 * value. Runs in at most <len> steps; reads nothing past p[len - 1]. */
enum capture_scan capture_scan_value(const uint8_t *p, size_t len, size_t *end);

#endif
