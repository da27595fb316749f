#include "config/config_load.h"

#include <errno.h>
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
        if (strcmp(m->scheme, "https") == 0)
            m->tls = config_tls_new(0);
    }
    m->percent_millionths = pm;
    return true;
}
