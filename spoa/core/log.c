#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/utf8.h"

static const char *const level_names[] = {"error", "warn", "info", "debug"};

bool log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

bool log_format_parse(const char *s, enum log_format *out)
{
    if (strcmp(s, "logfmt") == 0)
        *out = LOG_FMT_LOGFMT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_FMT_JSON;
    else
        return false;
    return true;
}

struct json_out {
    char *buf;
    size_t cap;
    size_t len;
};

static void json_put(struct json_out *o, char c)
{
    if (o->len + 1 < o->cap)
        o->buf[o->len++] = c;
}

static void json_put_escaped(struct json_out *o, char c)
{
    static const char hex[] = "0123456789abcdef";
    if (c == '"' || c == '\\') {
        json_put(o, '\\');
        json_put(o, c);
    } else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
        /* Control bytes and bytes outside a valid UTF-8 sequence: written as
         * the code points U+0000..U+00FF, so the line stays valid JSON. */
        json_put(o, '\\');
        json_put(o, 'u');
        json_put(o, '0');
        json_put(o, '0');
        json_put(o, hex[(unsigned char)c >> 4]);
        json_put(o, hex[c & 15]);
    } else {
        json_put(o, c);
    }
}

/* Writes <n> decoded value bytes: valid UTF-8 as it is, anything else escaped. */
static void json_put_text(struct json_out *o, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t seq = utf8_sequence_len(p + i, n - i);
        if (seq > 1) {
            for (size_t k = 0; k < seq; k++)
                json_put(o, (char)p[i + k]);
            i += seq;
        } else {
            json_put_escaped(o, (char)p[i++]);
        }
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void log_logfmt_to_json(const char *in, char *out, size_t cap)
{
    struct json_out o = {out, cap, 0};
    const char *p = in;
    bool first = true;
    json_put(&o, '{');
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *key = p;
        while (*p && *p != '=' && *p != ' ')
            p++;
        size_t klen = (size_t)(p - key);
        if (!first)
            json_put(&o, ',');
        first = false;
        json_put(&o, '"');
        for (size_t i = 0; i < klen; i++)
            json_put_escaped(&o, key[i]);
        json_put(&o, '"');
        json_put(&o, ':');
        json_put(&o, '"');
        if (*p == '=') {
            p++;
            if (*p == '"') {
                p++;
                unsigned char val[4096];
                size_t n = 0;
                while (*p && *p != '"') {
                    char c = *p++;
                    if (c == '\\' && *p) {
                        char e = *p++;
                        if (e == 'n') {
                            c = '\n';
                        } else if (e == 'x' && hex_value(p[0]) >= 0 && hex_value(p[1]) >= 0) {
                            c = (char)(hex_value(p[0]) << 4 | hex_value(p[1]));
                            p += 2;
                        } else {
                            c = e;
                        }
                    }
                    if (n < sizeof(val))
                        val[n++] = (unsigned char)c;
                }
                json_put_text(&o, val, n);
                if (*p == '"')
                    p++;
            } else {
                while (*p && *p != ' ')
                    json_put_escaped(&o, *p++);
            }
        }
        json_put(&o, '"');
    }
    json_put(&o, '}');
    o.buf[o.len < cap ? o.len : cap - 1] = '\0';
}

bool log_enabled(const struct logger *lg, enum log_level lvl)
{
    return lg && lvl <= lg->level;
}

void log_event(const struct logger *lg, enum log_level lvl, const char *event, const char *fmt, ...)
{
    if (!log_enabled(lg, lvl))
        return;
    char line[4096];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     now.tv_nsec / 1000000, level_names[lvl], event);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    if (fmt && fmt[0] && len < sizeof(line) - 2) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
        va_end(ap);
        if (n > 0)
            len += (size_t)n < sizeof(line) - len ? (size_t)n : sizeof(line) - len - 1;
    }
    if (len >= sizeof(line) - 1)
        len = sizeof(line) - 2;
    line[len] = '\0';
    if (lg->format == LOG_FMT_JSON) {
        char json[8192];
        log_logfmt_to_json(line, json, sizeof(json) - 1);
        size_t jl = strlen(json);
        json[jl++] = '\n';
        ssize_t w = write(lg->fd, json, jl);
        (void)w;
        return;
    }
    line[len++] = '\n';
    ssize_t w = write(lg->fd, line, len);
    (void)w;
}

static bool safe_char(uint8_t c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

char *log_quote(char *dst, size_t cap, const uint8_t *p, size_t len, size_t max)
{
    if (cap == 0)
        return dst;
    size_t shown = len < max ? len : max;
    bool bare = len > 0;
    for (size_t i = 0; i < shown && bare; i++)
        bare = safe_char(p[i]);
    size_t o = 0;
#define PUT(c)                                                                                               \
    do {                                                                                                     \
        if (o + 1 < cap)                                                                                     \
            dst[o++] = (c);                                                                                  \
    } while (0)
    if (!bare)
        PUT('"');
    for (size_t i = 0; i < shown; i++) {
        uint8_t c = p[i];
        if (bare || (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')) {
            PUT((char)c);
        } else if (c == '"' || c == '\\') {
            PUT('\\');
            PUT((char)c);
        } else if (c == '\n') {
            PUT('\\');
            PUT('n');
        } else {
            static const char hex[] = "0123456789abcdef";
            PUT('\\');
            PUT('x');
            PUT(hex[c >> 4]);
            PUT(hex[c & 15]);
        }
    }
    if (shown < len) {
        PUT('.');
        PUT('.');
        PUT('.');
    }
    if (!bare)
        PUT('"');
#undef PUT
    dst[o] = '\0';
    return dst;
}
