/* UTF-8 validation (RFC 3629), for writers that must pass valid text through
 * and escape everything else (JSON logs, capture-dump). */
#ifndef SPOA_CORE_UTF8_H
#define SPOA_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* utf8_sequence_len: the length (1 to 4) of the valid UTF-8 sequence that
 * starts at <p>, of which <n> (at least 1) bytes may be read; 1 for an ASCII
 * byte. 0 when the bytes there are not valid UTF-8: a continuation or
 * never-used lead byte, a sequence cut short by <n>, an overlong form, a
 * surrogate (U+D800..U+DFFF) or a code point above U+10FFFF. */
size_t utf8_sequence_len(const uint8_t *p, size_t n);

#endif
