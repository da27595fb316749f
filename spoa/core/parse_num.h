/* Parsing the whole numbers written in the configuration file and on the
 * command line. */
#ifndef SPOA_CORE_PARSE_NUM_H
#define SPOA_CORE_PARSE_NUM_H

#include <stdbool.h>
#include <stdint.h>

/* parse_u64: parses <s>, one or more decimal digits and nothing else (no
 * sign, spaces or prefix; leading zeros allowed), into *out when the value
 * lies in [min, max]. Returns false, leaving *out untouched, for NULL, "",
 * any other character, or a value out of range (overflow included). */
bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
