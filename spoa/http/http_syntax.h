/* HTTP/1.1 syntax checks shared by every place that writes a request on the
 * wire (the mirrored copy, the replayed one): tokens, field values, request
 * targets, hop-by-hop names and Connection token lists (RFC 9110, RFC 9112).
 * Pure functions over byte ranges: no allocation, no state. */
#ifndef SPOA_HTTP_SYNTAX_H
#define SPOA_HTTP_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/header_policy.h"

/* http_is_tchar: true for an RFC 9110 tchar, a character of a method or a
 * header name: ALPHA, DIGIT or one of !#$%&'*+-.^_`|~. */
bool http_is_tchar(uint8_t c);

/* http_is_token: true when the <n> bytes at <p> are a token: one or more
 * tchars. An empty range is not a token. */
bool http_is_token(const uint8_t *p, size_t n);

/* http_is_field_value: true when the <n> bytes at <p> hold no CR, LF or NUL,
 * any of which would end the header line (or a C string) early and let a
 * second request be smuggled in. Everything else, empty included, passes. */
bool http_is_field_value(const uint8_t *p, size_t n);

/* http_is_target: true when the <n> bytes at <p> hold no control character
 * (0x00-0x1f, 0x7f) and no space: they may stand in a request line. Empty
 * passes; use http_check_target() for a whole request target. */
bool http_is_target(const uint8_t *p, size_t n);

/* Why a request target is refused by http_check_target(). */
enum http_target_status {
    HTTP_TARGET_OK = 0,
    HTTP_TARGET_NOT_ORIGIN, /* empty, or does not start with '/' (and is not an allowed "*") */
    HTTP_TARGET_BAD_CHAR,   /* holds a space or a control character */
};

/* http_check_target: checks the path <p> (<n> bytes) of a request written in
 * origin form, after a base path that is empty when <base_empty>: it must
 * start with '/', except the asterisk form "*" when <base_empty> (there is no
 * base path to prepend it to; absolute and authority forms are refused), and
 * must pass http_is_target(). The form is checked first. */
enum http_target_status http_check_target(const uint8_t *p, size_t n, bool base_empty);

/* http_ieq: true when the <n> bytes at <p> equal the C string <s>, ignoring
 * ASCII case. */
bool http_ieq(const uint8_t *p, size_t n, const char *s);

/* http_token_list_has: true when the comma-separated token list <list>
 * (<list_len> bytes: a Connection header's value, say; optional whitespace
 * around tokens) names <name> (<name_len> bytes), ignoring ASCII case. */
bool http_token_list_has(const uint8_t *list, size_t list_len, const uint8_t *name, size_t name_len);

/* http_is_hop_by_hop() (the headers never forwarded) lives in
 * core/header_policy.h, shared with the configuration's checks. */

/* http_method_has_body: true for the methods whose requests usually carry a
 * body (POST, PUT, PATCH; case-sensitive, as methods are): they always get a
 * Content-Length, "0" when the body is empty. */
bool http_method_has_body(const uint8_t *method, size_t n);

/* http_method_is_connect: true for CONNECT, in any case (methods are
 * case-sensitive, but a server that folds case must not see a tunnel either):
 * it opens a tunnel, so its recipient does not read what follows its header
 * section as a body framed by Content-Length (RFC 9110 9.3.6: a CONNECT has
 * no content), and a copy of it can never be sent as an ordinary request. */
bool http_method_is_connect(const uint8_t *method, size_t n);

#endif
