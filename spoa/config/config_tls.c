#include "config/config_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_url.h"
#include "config/config_value.h"
#include "core/xalloc.h"

bool config_tls_file_check(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == -1) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        return false;
    }
    if (access(path, R_OK) == -1) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

bool config_is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* A readable file's path into *dst (replacing what was there). */
static void file_field(struct cw *w, yaml_node_t *v, char **dst)
{
    char q[CW_QUOTE_CAP], err[CW_ERR_CAP + 64];
    const char *s = cw_scalar(w, v, "the path of a readable file");
    if (!s)
        return;
    if (!config_tls_file_check(s, err, sizeof(err))) {
        cw_error(w, v, "%s, got %s", err, config_quote(q, sizeof(q), s));
        return;
    }
    free(*dst);
    *dst = xstrdup(s);
}

static void fn_ca_file(struct cw *w, yaml_node_t *v, void *obj)
{
    file_field(w, v, &((struct config_tls *)obj)->ca_file);
}

static void fn_cert_file(struct cw *w, yaml_node_t *v, void *obj)
{
    file_field(w, v, &((struct config_tls *)obj)->cert_file);
}

static void fn_key_file(struct cw *w, yaml_node_t *v, void *obj)
{
    file_field(w, v, &((struct config_tls *)obj)->key_file);
}

static void fn_server_name(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_tls *t = obj;
    char q[CW_QUOTE_CAP];
    const char *what = "a DNS name or an IP address";
    const char *s = cw_scalar(w, v, what);
    if (!s)
        return;
    if (!config_host_valid(s, strlen(s)) && !config_is_ip_literal(s)) {
        cw_error(w, v, "must be %s, got %s", what, config_quote(q, sizeof(q), s));
        return;
    }
    free(t->server_name);
    t->server_name = config_lower(xstrdup(s));
}

static void fn_min_version(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_tls *t = obj;
    char q[CW_QUOTE_CAP];
    const char *s = cw_scalar(w, v, "1.2 or 1.3");
    if (!s)
        return;
    if (strcmp(s, "1.2") == 0)
        t->min_version = CONFIG_TLS_1_2;
    else if (strcmp(s, "1.3") == 0)
        t->min_version = CONFIG_TLS_1_3;
    else
        cw_error(w, v, "must be 1.2 or 1.3, got %s", config_quote(q, sizeof(q), s));
}

static void fn_insecure(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_tls *t = obj;
    char q[CW_QUOTE_CAP];
    const char *s = cw_scalar(w, v, "true or false");
    if (!s)
        return;
    if (strcmp(s, "true") == 0)
        t->insecure_skip_verify = true;
    else if (strcmp(s, "false") == 0)
        t->insecure_skip_verify = false;
    else
        cw_error(w, v, "must be true or false, got %s", config_quote(q, sizeof(q), s));
}

enum { TF_CA, TF_CERT, TF_KEY, TF_SERVER_NAME, TF_MIN_VERSION, TF_INSECURE, TF_COUNT };

static const struct cw_field tls_fields[TF_COUNT] = {
    [TF_CA] = {.key = "ca_file", .kind = CW_FN, .fn = fn_ca_file},
    [TF_CERT] = {.key = "cert_file", .kind = CW_FN, .fn = fn_cert_file},
    [TF_KEY] = {.key = "key_file", .kind = CW_FN, .fn = fn_key_file},
    [TF_SERVER_NAME] = {.key = "server_name", .kind = CW_FN, .fn = fn_server_name},
    [TF_MIN_VERSION] = {.key = "min_version", .kind = CW_FN, .fn = fn_min_version},
    [TF_INSECURE] = {.key = "insecure_skip_verify", .kind = CW_FN, .fn = fn_insecure},
};

void config_tls_walk(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_mirror *m = obj;
    if (!m->tls)
        m->tls = config_tls_new(cw_line(v));
    struct config_tls *t = m->tls;
    t->line = cw_line(v);
    unsigned seen;
    if (!cw_map(w, v, tls_fields, TF_COUNT, t, &seen))
        return;
    bool cert = seen & (1u << TF_CERT), key = seen & (1u << TF_KEY);
    if (cert != key) {
        size_t old = cw_path_key(w, cert ? "key_file" : "cert_file");
        cw_error(w, v, "is required with %s (a client certificate needs its key, and a key its certificate)",
                 cert ? "cert_file" : "key_file");
        cw_path_pop(w, old);
    }
}
