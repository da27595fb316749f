#include "config/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_capture.h"
#include "config/config_url.h"
#include "config/config_value.h"
#include "config/config_yaml.h"
#include "core/xalloc.h"

/* A configuration file is small; a bigger one is a mistake (wrong file). */
#define CONFIG_FILE_MAX (1024 * 1024)

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof(*c));
    c->spop_listen = xstrdup("127.0.0.1:12345");
    c->threads = 0;
    c->max_frame_size = 16380;
    c->max_connections = 1024;
    c->idle_timeout_ms = 600000;
    c->admin_listen = xstrdup("127.0.0.1:9901");
    c->log_level = LOG_LVL_INFO;
    c->drain_timeout_ms = 5000;
}

void config_mirror_defaults(struct config_mirror *m)
{
    memset(m, 0, sizeof(*m));
    m->port = 80;
    m->percent_millionths = CONFIG_PERCENT_MAX;
    m->authority = AUTHORITY_SHADOW;
    m->sample_by = SAMPLE_RANDOM;
    m->timeout_ms = 1000;
    m->connect_timeout_ms = 500;
    m->max_inflight = 256;
    m->max_queue = 1024;
    m->max_rps = 0;
}

const struct config_route *config_find_route(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->n_routes; i++) {
        if (c->routes[i].name && strcmp(c->routes[i].name, name) == 0)
            return &c->routes[i];
    }
    return NULL;
}

void config_errors_addf(struct config_errors *errs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *msg = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    msg[n] = '\0';
    errs->items = xrealloc(errs->items, (errs->count + 1) * sizeof(*errs->items));
    errs->items[errs->count++] = msg;
}

bool config_load_string(struct config *c, const char *text, size_t len, const char *name,
                        struct config_errors *errs)
{
    free(c->path);
    c->path = xstrdup(name);
    return config_yaml_load(c, text, len, name, errs);
}

/* Reads the whole of <path> into a new NUL-terminated buffer (*out, *len).
 * Returns 0, or an errno value. */
static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno;
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap + 1);
    int err = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= CONFIG_FILE_MAX) {
                err = EFBIG;
                break;
            }
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                err = errno ? errno : EIO;
            break;
        }
    }
    fclose(f);
    if (err) {
        free(buf);
        return err;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

bool config_load_file(struct config *c, const char *path, struct config_errors *errs)
{
    char *text = NULL;
    size_t len = 0;
    int err = read_file(path, &text, &len);
    free(c->path);
    c->path = xstrdup(path);
    if (err == EFBIG) {
        config_errors_addf(errs, "%s: cannot read: larger than %d bytes", path, CONFIG_FILE_MAX);
        return false;
    }
    if (err) {
        config_errors_addf(errs, "%s: cannot read: %s", path, strerror(err));
        return false;
    }
    bool ok = config_yaml_load(c, text, len, path, errs);
    free(text);
    return ok;
}

/* The directory of `--mirror file:///dir` (heap copy in *dir), checked as
 * for a mirror of the file. */
static bool catch_all_dir(const struct config *c, const char *url, char **dir, char *err, size_t errlen)
{
    if (!config_file_url_parse(url, dir, err, errlen))
        return false;
    bool ok = config_capture_dir_check(*dir, err, errlen);
    if (ok && config_capture_dir_user(c, NULL, *dir)) {
        snprintf(err, errlen, "directory %s is already used by a capture mirror of the file", *dir);
        ok = false;
    }
    if (!ok) {
        free(*dir);
        *dir = NULL;
    }
    return ok;
}

bool config_add_catch_all(struct config *c, const char *url, const char *percent, struct config_errors *errs)
{
    char q[128], err[CAPTURE_DIR_MAX + 256];
    bool ok = true;
    bool file = config_is_file_url(url);
    struct config_url u = {0};
    char *dir = NULL;
    if (file) {
        if (!catch_all_dir(c, url, &dir, err, sizeof(err))) {
            config_errors_addf(errs, "--mirror: %s, got %s", err, config_quote(q, sizeof(q), url));
            ok = false;
        }
    } else if (!config_url_parse(url, &u, err, sizeof(err))) {
        config_errors_addf(errs, "--mirror: %s, got %s", err, config_quote(q, sizeof(q), url));
        ok = false;
    }
    uint32_t pm = CONFIG_PERCENT_MAX;
    if (percent) {
        switch (config_percent_parse(percent, &pm)) {
        case CONFIG_PERCENT_OK:
            break;
        case CONFIG_PERCENT_BAD:
            config_errors_addf(errs, "--percent: must be a number from 0 to 100, got %s",
                               config_quote(q, sizeof(q), percent));
            ok = false;
            break;
        case CONFIG_PERCENT_PRECISION:
            config_errors_addf(errs, "--percent: must have at most 4 decimals (precision 0.0001), got %s",
                               config_quote(q, sizeof(q), percent));
            ok = false;
            break;
        }
    }
    const struct config_route *dup = config_find_route(c, "default");
    if (dup) {
        config_errors_addf(errs, "--mirror: a route named \"default\" already exists (%s:%d)",
                           c->path ? c->path : "--mirror", dup->line);
        ok = false;
    }
    if (!ok) {
        config_url_free(&u);
        free(dir);
        return false;
    }
    c->routes = xrealloc(c->routes, (c->n_routes + 1) * sizeof(*c->routes));
    struct config_route *r = &c->routes[c->n_routes++];
    memset(r, 0, sizeof(*r));
    r->name = xstrdup("default");
    r->mirrors = xcalloc(1, sizeof(*r->mirrors));
    r->n_mirrors = 1;
    struct config_mirror *m = &r->mirrors[0];
    config_mirror_defaults(m);
    m->url = xstrdup(url);
    if (file) {
        m->scheme = xstrdup("file");
        m->port = 0;
        m->base_path = xstrdup("");
        m->capture = config_capture_new();
        m->capture->dir = dir;
    } else {
        m->scheme = u.scheme;
        m->host = u.host;
        m->port = u.port;
        m->base_path = u.base_path;
    }
    m->percent_millionths = pm;
    return true;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void mirror_free(struct config_mirror *m)
{
    free(m->url);
    free(m->scheme);
    free(m->host);
    free(m->base_path);
    free(m->authority_literal);
    free(m->sample_key);
    for (size_t i = 0; i < m->n_headers_set; i++) {
        free(m->headers_set[i].name);
        free(m->headers_set[i].value);
    }
    free(m->headers_set);
    free_strings(m->headers_remove, m->n_headers_remove);
    config_capture_free(m->capture);
}

void config_free(struct config *c)
{
    for (size_t i = 0; i < c->n_routes; i++) {
        struct config_route *r = &c->routes[i];
        free(r->name);
        free_strings(r->hosts, r->n_hosts);
        free(r->path_prefix);
        free_strings(r->methods, r->n_methods);
        for (size_t j = 0; j < r->n_mirrors; j++)
            mirror_free(&r->mirrors[j]);
        free(r->mirrors);
    }
    free(c->routes);
    free(c->path);
    free(c->spop_listen);
    free(c->admin_listen);
    memset(c, 0, sizeof(*c));
}

void config_errors_free(struct config_errors *errs)
{
    free_strings(errs->items, errs->count);
    errs->items = NULL;
    errs->count = 0;
}
