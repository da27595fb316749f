/* Scalar checks and conversions for configuration values: integers, the
 * mirror percentage, HTTP tokens and header values. Pure functions over
 * NUL-terminated strings; nothing here allocates or reports errors itself. */
#ifndef SPOA_CONFIG_VALUE_H
#define SPOA_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest percent_millionths: 100%. */
#define CONFIG_PERCENT_MAX 1000000u

enum config_percent_result {
    CONFIG_PERCENT_OK = 0,
    CONFIG_PERCENT_BAD,       /* not a plain decimal number, or outside 0..100 */
    CONFIG_PERCENT_PRECISION, /* more than 4 decimals */
};

/* config_percent_parse: converts a percentage written as plain decimal text
 * ("50", "33.3333", "0.0001", "100.0") into millionths of a whole (percent *
 * 10000) in *out, exactly, without floating point. Accepts one or more
 * digits, optionally followed by '.' and 1 to 4 digits; no sign, exponent,
 * spaces or other forms. *out is written only on CONFIG_PERCENT_OK. */
enum config_percent_result config_percent_parse(const char *s, uint32_t *out);

/* config_u32_parse: parses decimal digits only (no sign, spaces or prefix)
 * into *out when the value lies in min..max. Returns false otherwise, leaving
 * *out untouched. */
bool config_u32_parse(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* config_is_token: true when <s> is a non-empty HTTP token (RFC 9110 tchar:
 * letters, digits and !#$%&'*+-.^_`|~). */
bool config_is_token(const char *s);

/* config_is_header_value: true when <s> may be sent as an HTTP field value:
 * visible ASCII, space, tab and bytes >= 0x80, with no leading or trailing
 * whitespace. The empty string is allowed. */
bool config_is_header_value(const char *s);

/* config_lower / config_upper: ASCII case conversion of <s> in place; return <s>. */
char *config_lower(char *s);
char *config_upper(char *s);

/* config_quote: writes <s> into <dst> (size <cap> >= 8, always NUL-terminated)
 * between double quotes, escaping '"', '\\' and control bytes as \xHH, for
 * error messages. Inputs longer than 60 bytes are cut and end in "...".
 * Returns <dst>. */
char *config_quote(char *dst, size_t cap, const char *s);

#endif
