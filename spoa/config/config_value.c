#include "config/config_value.h"

#include <stdio.h>
#include <string.h>

#include "core/parse_num.h"

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

enum config_percent_result config_percent_parse(const char *s, uint32_t *out)
{
    /* The value is accumulated in millionths; anything above 100% is refused
     * as soon as it appears, so the sum never overflows. */
    uint64_t whole = 0;
    size_t i = 0;
    if (!is_digit(s[0]))
        return CONFIG_PERCENT_BAD;
    for (; is_digit(s[i]); i++) {
        whole = whole * 10 + (uint64_t)(s[i] - '0');
        if (whole > 100)
            return CONFIG_PERCENT_BAD;
    }
    uint64_t frac = 0;
    size_t ndec = 0;
    if (s[i] == '.') {
        i++;
        for (; is_digit(s[i]); i++, ndec++) {
            if (ndec < 4)
                frac = frac * 10 + (uint64_t)(s[i] - '0');
        }
        if (ndec == 0)
            return CONFIG_PERCENT_BAD;
    }
    if (s[i] != '\0')
        return CONFIG_PERCENT_BAD;
    for (size_t k = ndec; k < 4; k++)
        frac *= 10;
    uint64_t v = whole * 10000 + frac;
    if (v > CONFIG_PERCENT_MAX)
        return CONFIG_PERCENT_BAD;
    if (ndec > 4)
        return CONFIG_PERCENT_PRECISION;
    *out = (uint32_t)v;
    return CONFIG_PERCENT_OK;
}

bool config_u32_parse(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (!parse_u64(s, min, max, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool is_tchar(unsigned char ch)
{
    if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
        return true;
    return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

bool config_is_token(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (!is_tchar(*p))
            return false;
    }
    return true;
}

bool config_is_header_value(const char *s)
{
    size_t n = strlen(s);
    if (n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return false;
    }
    return true;
}

char *config_lower(char *s)
{
    for (char *p = s; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    return s;
}

char *config_upper(char *s)
{
    for (char *p = s; *p; p++) {
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    }
    return s;
}

char *config_quote(char *dst, size_t cap, const char *s)
{
    /* Room is kept for the closing quote, "..." and the NUL. */
    const size_t max_in = 60;
    size_t o = 0, i = 0;
    dst[o++] = '"';
    for (; s[i] && i < max_in; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        size_t n;
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            n = 2;
        } else if (ch < 0x20 || ch == 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", ch);
            n = 4;
        } else {
            esc[0] = (char)ch;
            n = 1;
        }
        if (o + n + 5 > cap)
            break;
        memcpy(dst + o, esc, n);
        o += n;
    }
    if (s[i] && o + 5 <= cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o++] = '"';
    dst[o] = '\0';
    return dst;
}
