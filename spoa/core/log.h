/* Logging: one line per event on a file descriptor (stderr by default), in
 * logfmt: `ts=<RFC 3339 UTC> level=<level> event=<name> key=value ...`.
 * Each line goes out in one write(), so threads never interleave lines. */
#ifndef SPOA_LOG_H
#define SPOA_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
    LOG_LVL_ERROR = 0,
    LOG_LVL_WARN,
    LOG_LVL_INFO,
    LOG_LVL_DEBUG,
};

enum log_format {
    LOG_FMT_LOGFMT = 0, /* ts=... level=... event=... key=value */
    LOG_FMT_JSON,       /* {"ts":"...","level":"...","event":"...","key":"value"} */
};

/* Owned by main and shared read-only by every thread after start-up. */
struct logger {
    enum log_level level;
    int fd;
    enum log_format format;
};

/* log_format_parse: "logfmt" or "json" into *out; returns false otherwise. */
bool log_format_parse(const char *s, enum log_format *out);

/* log_logfmt_to_json: rewrites one logfmt line <in> (without newline) as a
 * JSON object into <out> (size <cap>, NUL-terminated; cut if too small).
 * Values keep their text; quoted values are unescaped, then JSON-escaped. */
void log_logfmt_to_json(const char *in, char *out, size_t cap);

/* log_level_parse: "error", "warn", "info" or "debug" into *out; returns false otherwise. */
bool log_level_parse(const char *s, enum log_level *out);

/* log_enabled: true when events of <lvl> are written. */
bool log_enabled(const struct logger *lg, enum log_level lvl);

/* log_event: writes one line: the timestamp, <lvl>, event=<event>, then the
 * printf-formatted key=value text <fmt> (may be ""). Lines longer than 4 KiB
 * are cut. Does nothing when <lvl> is disabled or <lg> is NULL. */
void log_event(const struct logger *lg, enum log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* log_quote: writes <len> bytes at <p> into <dst> (size <cap>, always
 * NUL-terminated) as one logfmt value: bare when it is made of safe characters,
 * otherwise in double quotes with \" \\ \n and \xHH escapes. At most <max>
 * input bytes are shown; a longer input ends in "...". Returns <dst>. */
char *log_quote(char *dst, size_t cap, const uint8_t *p, size_t len, size_t max);

#endif
