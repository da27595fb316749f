/* See http_syntax.h. */
#include "http/http_syntax.h"

#include <string.h>

bool http_is_tchar(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool http_is_token(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!http_is_tchar(p[i]))
            return false;
    return true;
}

bool http_is_field_value(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
            return false;
    return true;
}

bool http_is_target(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] <= ' ' || p[i] == 0x7f)
            return false;
    return true;
}

enum http_target_status http_check_target(const uint8_t *p, size_t n, bool base_empty)
{
    bool star = n == 1 && p[0] == '*' && base_empty;
    if (!star && (n == 0 || p[0] != '/'))
        return HTTP_TARGET_NOT_ORIGIN;
    return http_is_target(p, n) ? HTTP_TARGET_OK : HTTP_TARGET_BAD_CHAR;
}

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* ASCII case-insensitive equality of two byte ranges. */
static bool bytes_ieq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

bool http_ieq(const uint8_t *p, size_t n, const char *s)
{
    return bytes_ieq(p, n, (const uint8_t *)s, strlen(s));
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

bool http_token_list_has(const uint8_t *list, size_t list_len, const uint8_t *name, size_t name_len)
{
    size_t off = 0;
    while (off < list_len) {
        const uint8_t *tok = list + off;
        const uint8_t *comma = memchr(tok, ',', list_len - off);
        size_t len = comma != NULL ? (size_t)(comma - tok) : list_len - off;
        off += len + 1;
        while (len > 0 && is_ows(tok[0])) {
            tok++;
            len--;
        }
        while (len > 0 && is_ows(tok[len - 1]))
            len--;
        if (len > 0 && bytes_ieq(tok, len, name, name_len))
            return true;
    }
    return false;
}

static bool bytes_eq(const uint8_t *p, size_t n, const char *s)
{
    return n == strlen(s) && (n == 0 || memcmp(p, s, n) == 0);
}

bool http_method_has_body(const uint8_t *method, size_t n)
{
    return bytes_eq(method, n, "POST") || bytes_eq(method, n, "PUT") || bytes_eq(method, n, "PATCH");
}

bool http_method_is_connect(const uint8_t *method, size_t n)
{
    return http_ieq(method, n, "CONNECT");
}
