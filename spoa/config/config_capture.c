#include "config/config_capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_value.h"
#include "core/parse_num.h"
#include "core/xalloc.h"

#define MS_MAX ((uint32_t)INT32_MAX)

static void free_redact(struct config_capture *cap)
{
    for (size_t i = 0; i < cap->n_redact_headers; i++)
        free(cap->redact_headers[i]);
    free(cap->redact_headers);
    cap->redact_headers = NULL;
    cap->n_redact_headers = 0;
}

bool config_is_file_url(const char *url)
{
    return strncasecmp(url, "file:", 5) == 0;
}

bool config_file_url_parse(const char *url, char **dir, char *err, size_t errlen)
{
    if (strncasecmp(url, "file://", 7) != 0) {
        snprintf(err, errlen, "must be file:///absolute/directory");
        return false;
    }
    const char *p = url + 7;
    if (*p != '/') {
        snprintf(err, errlen,
                 "a file:// URL takes no host and an absolute path: write file:///absolute/directory");
        return false;
    }
    size_t n = strlen(p);
    if (n > CAPTURE_DIR_MAX) {
        snprintf(err, errlen, "directory longer than %d bytes", CAPTURE_DIR_MAX);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch < 0x20 || ch == 0x7f || ch == '%' || ch == '?' || ch == '#') {
            snprintf(err, errlen, "the directory must be a plain path (no %%, ?, # or control characters)");
            return false;
        }
    }
    /* Copy segment by segment, dropping empty ones; refuse "." and "..". */
    char *out = xmalloc(n + 1);
    size_t o = 0;
    const char *s = p;
    while (*s) {
        while (*s == '/')
            s++;
        const char *e = s;
        while (*e && *e != '/')
            e++;
        size_t len = (size_t)(e - s);
        if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
            snprintf(err, errlen, "the directory must not contain \".\" or \"..\" segments");
            free(out);
            return false;
        }
        if (len) {
            out[o++] = '/';
            memcpy(out + o, s, len);
            o += len;
        }
        s = e;
    }
    out[o] = '\0';
    if (o == 0) {
        snprintf(err, errlen, "the root directory cannot be a capture directory");
        free(out);
        return false;
    }
    *dir = out;
    return true;
}

bool config_capture_dir_check(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a directory", dir);
            return false;
        }
        if (access(dir, W_OK | X_OK) == -1) {
            snprintf(err, errlen, "directory %s is not writable (%s)", dir, strerror(errno));
            return false;
        }
        return true;
    }
    if (errno != ENOENT && errno != ENOTDIR) {
        snprintf(err, errlen, "cannot check %s: %s", dir, strerror(errno));
        return false;
    }
    /* Missing: the writer will create it (and its missing parents). */
    char *up = xstrdup(dir);
    bool ok = false;
    for (;;) {
        char *slash = strrchr(up, '/');
        if (slash == up)
            slash[1] = '\0'; /* "/" */
        else
            *slash = '\0';
        if (stat(up, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                snprintf(err, errlen, "%s cannot be created: %s is not a directory", dir, up);
            else if (access(up, W_OK | X_OK) == -1)
                snprintf(err, errlen, "%s cannot be created: %s is not writable (%s)", dir, up,
                         strerror(errno));
            else
                ok = true;
            break;
        }
        if (errno != ENOENT && errno != ENOTDIR) {
            snprintf(err, errlen, "%s cannot be created: %s: %s", dir, up, strerror(errno));
            break;
        }
        if (strcmp(up, "/") == 0) {
            snprintf(err, errlen, "%s cannot be created: no existing parent", dir);
            break;
        }
    }
    free(up);
    return ok;
}

const struct config_mirror *config_capture_dir_user(const struct config *c, const struct config_mirror *self,
                                                    const char *dir)
{
    for (size_t r = 0; r < c->n_routes; r++) {
        for (size_t i = 0; i < c->routes[r].n_mirrors; i++) {
            const struct config_mirror *o = &c->routes[r].mirrors[i];
            if (o != self && o->capture && o->capture->dir && strcmp(o->capture->dir, dir) == 0)
                return o;
            const struct config_capture *dl = o->compare ? o->compare->diff_log : NULL;
            if (dl && dl->dir && strcmp(dl->dir, dir) == 0)
                return o;
        }
    }
    return NULL;
}

bool config_mirror_set_file_url(const struct config *c, struct config_mirror *m, const char *url, char *err,
                                size_t errlen)
{
    char *dir = NULL;
    if (!config_file_url_parse(url, &dir, err, errlen))
        return false;
    const struct config_mirror *other = config_capture_dir_user(c, m, dir);
    if (other) {
        if (other->line > 0)
            snprintf(err, errlen, "directory %s is already used by the %s at line %d", dir,
                     other->capture ? "capture mirror" : "diff log of the mirror", other->line);
        else
            snprintf(err, errlen, "directory %s is already used by the --mirror capture", dir);
        free(dir);
        return false;
    }
    if (!config_capture_dir_check(dir, err, errlen)) {
        free(dir);
        return false;
    }
    if (!m->capture)
        m->capture = config_capture_new();
    free(m->capture->dir);
    m->capture->dir = dir;
    free(m->url);
    free(m->scheme);
    free(m->host);
    free(m->base_path);
    m->url = xstrdup(url);
    m->scheme = xstrdup("file");
    m->host = NULL;
    m->port = 0;
    m->base_path = xstrdup("");
    return true;
}

/* ---- the `capture:` block ---- */

static void bytes_field(struct cw *w, yaml_node_t *v, uint64_t *dst)
{
    char what[96], q[CW_QUOTE_CAP];
    snprintf(what, sizeof(what), "a number of bytes from %llu to %llu", (unsigned long long)CAPTURE_MIN_BYTES,
             (unsigned long long)CAPTURE_MAX_BYTES);
    const char *s = cw_scalar(w, v, what);
    if (s && !parse_u64(s, CAPTURE_MIN_BYTES, CAPTURE_MAX_BYTES, dst))
        cw_error(w, v, "must be %s, got %s", what, config_quote(q, sizeof(q), s));
}

static void fn_rotate_bytes(struct cw *w, yaml_node_t *v, void *obj)
{
    bytes_field(w, v, &((struct config_capture *)obj)->rotate_bytes);
}

static void fn_max_total_bytes(struct cw *w, yaml_node_t *v, void *obj)
{
    bytes_field(w, v, &((struct config_capture *)obj)->max_total_bytes);
}

/* Where config_header_list_walk puts the names. */
struct header_list {
    char ***arr;
    size_t *n;
};

static void item_header_name(struct cw *w, yaml_node_t *n, void *obj)
{
    struct header_list *hl = obj;
    config_header_item(w, n, hl->arr, hl->n);
}

void config_header_item(struct cw *w, yaml_node_t *n, char ***arr, size_t *count)
{
    struct header_list one = {.arr = arr, .n = count}, *hl = &one;
    char q[CW_QUOTE_CAP];
    const char *s = cw_scalar(w, n, "a header name");
    if (!s)
        return;
    if (!config_is_token(s)) {
        cw_error(w, n, "must be a header name (an HTTP token), got %s", config_quote(q, sizeof(q), s));
        return;
    }
    char *name = config_lower(xstrdup(s));
    for (size_t i = 0; i < *hl->n; i++) {
        if (strcmp((*hl->arr)[i], name) == 0) {
            cw_error(w, n, "header listed twice (names are case-insensitive)");
            free(name);
            return;
        }
    }
    *hl->arr = xrealloc(*hl->arr, (*hl->n + 1) * sizeof(char *));
    (*hl->arr)[(*hl->n)++] = name;
}

void config_header_list_walk(struct cw *w, yaml_node_t *v, char ***arr, size_t *n)
{
    struct header_list hl = {.arr = arr, .n = n};
    cw_seq(w, v, "header names", item_header_name, &hl);
}

static void fn_redact_headers(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_capture *cap = obj;
    /* A list replaces the default one; an empty value is more likely a
     * mistake than a wish to record credentials, so only [] means none. */
    if (cw_is_null(v)) {
        cw_error(w, v, "must be a list of header names, got nothing (write [] to redact no header)");
        return;
    }
    free_redact(cap);
    config_header_list_walk(w, v, &cap->redact_headers, &cap->n_redact_headers);
}

enum { CF_ROTATE_BYTES, CF_ROTATE_MS, CF_MAX_TOTAL, CF_MAX_FILES, CF_MAX_QUEUE, CF_REDACT, CF_COUNT };

static const struct cw_field capture_fields[CF_COUNT] = {
    [CF_ROTATE_BYTES] = {.key = "rotate_bytes", .kind = CW_FN, .fn = fn_rotate_bytes},
    [CF_ROTATE_MS] = {.key = "rotate_ms",
                      .kind = CW_U32,
                      .off = offsetof(struct config_capture, rotate_ms),
                      .min = 0,
                      .max = MS_MAX},
    [CF_MAX_TOTAL] = {.key = "max_total_bytes", .kind = CW_FN, .fn = fn_max_total_bytes},
    [CF_MAX_FILES] = {.key = "max_files",
                      .kind = CW_U32,
                      .off = offsetof(struct config_capture, max_files),
                      .min = 1,
                      .max = 1000000},
    [CF_MAX_QUEUE] = {.key = "max_queue",
                      .kind = CW_U32,
                      .off = offsetof(struct config_capture, max_queue),
                      .min = 1,
                      .max = 1000000},
    [CF_REDACT] = {.key = "redact_headers", .kind = CW_FN, .fn = fn_redact_headers},
};

bool config_capture_map(struct cw *w, yaml_node_t *v, struct config_capture *cap,
                        const struct cw_field *extra, size_t n_extra, unsigned *extra_seen)
{
    struct cw_field fields[CF_COUNT + CONFIG_CAPTURE_MAX_EXTRA];
    if (n_extra > CONFIG_CAPTURE_MAX_EXTRA)
        n_extra = CONFIG_CAPTURE_MAX_EXTRA;
    memcpy(fields, capture_fields, sizeof(capture_fields));
    if (n_extra)
        memcpy(fields + CF_COUNT, extra, n_extra * sizeof(*extra));
    unsigned seen;
    if (!cw_map(w, v, fields, CF_COUNT + n_extra, cap, &seen))
        return false;
    if (extra_seen)
        *extra_seen = seen >> CF_COUNT;
    if (cap->max_total_bytes < cap->rotate_bytes) {
        size_t old = cw_path_key(w, (seen & (1u << CF_MAX_TOTAL)) ? "max_total_bytes" : "rotate_bytes");
        cw_error(w, v, "max_total_bytes (%llu) must be at least rotate_bytes (%llu)",
                 (unsigned long long)cap->max_total_bytes, (unsigned long long)cap->rotate_bytes);
        cw_path_pop(w, old);
    }
    return true;
}

void config_capture_walk(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_mirror *m = obj;
    if (!m->capture)
        m->capture = config_capture_new();
    config_capture_map(w, v, m->capture, NULL, 0, NULL);
}
