#include "config/config.h"

#include <stdlib.h>
#include <string.h>

#include "config/config_value.h"
#include "core/xalloc.h"

static const char *const default_redact[] = {
    "authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key",
};

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
    c->resolve_interval_ms = 30000;
    c->body_parts = (struct config_body_parts){
        .max_entries = BODY_PARTS_DEFAULT_MAX_ENTRIES,
        .max_bytes = BODY_PARTS_DEFAULT_MAX_BYTES,
        .max_body_bytes = BODY_PARTS_DEFAULT_MAX_BODY_BYTES,
        .timeout_ms = BODY_PARTS_DEFAULT_TIMEOUT_MS,
    };
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
    m->max_response_bytes = CONFIG_DEFAULT_MAX_RESPONSE_BYTES;
    m->max_connection_age_ms = 60000;
    m->response_read_delay_ms = 2;
    m->request_write_delay_ms = 2;
}

const char *config_protocol_str(enum config_protocol p)
{
    switch (p) {
    case CONFIG_PROTO_HTTP1:
        return "http1.1";
    case CONFIG_PROTO_H2:
        return "h2";
    case CONFIG_PROTO_H2C:
        return "h2c";
    case CONFIG_PROTO_AUTO:
        return "auto";
    }
    return "unknown";
}

struct config_capture *config_capture_new(void)
{
    struct config_capture *cap = xcalloc(1, sizeof(*cap));
    cap->rotate_bytes = CAPTURE_DEFAULT_ROTATE_BYTES;
    cap->rotate_ms = CAPTURE_DEFAULT_ROTATE_MS;
    cap->max_total_bytes = CAPTURE_DEFAULT_MAX_TOTAL_BYTES;
    cap->max_files = CAPTURE_DEFAULT_MAX_FILES;
    cap->max_queue = CAPTURE_DEFAULT_MAX_QUEUE;
    size_t n = sizeof(default_redact) / sizeof(default_redact[0]);
    cap->redact_headers = xcalloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        cap->redact_headers[i] = xstrdup(default_redact[i]);
    cap->n_redact_headers = n;
    return cap;
}

struct config_tls *config_tls_new(int line)
{
    struct config_tls *t = xcalloc(1, sizeof(*t));
    t->min_version = CONFIG_TLS_1_2;
    t->line = line;
    return t;
}

void config_tls_free(struct config_tls *t)
{
    if (!t)
        return;
    free(t->ca_file);
    free(t->cert_file);
    free(t->key_file);
    free(t->server_name);
    free(t);
}

const struct config_route *config_find_route(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->n_routes; i++) {
        if (c->routes[i].name && strcmp(c->routes[i].name, name) == 0)
            return &c->routes[i];
    }
    return NULL;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void config_capture_free(struct config_capture *cap)
{
    if (!cap)
        return;
    free(cap->dir);
    free_strings(cap->redact_headers, cap->n_redact_headers);
    free(cap);
}

struct config_compare *config_compare_new(void)
{
    struct config_compare *cmp = xcalloc(1, sizeof(*cmp));
    cmp->percent_millionths = 1000000u;
    cmp->status = COMPARE_STATUS_EXACT;
    cmp->headers = xcalloc(1, sizeof(char *));
    cmp->headers[0] = xstrdup("content-type");
    cmp->n_headers = 1;
    cmp->ignore_headers = xcalloc(1, sizeof(char *));
    cmp->ignore_headers[0] = xstrdup("date");
    cmp->n_ignore_headers = 1;
    cmp->body = COMPARE_BODY_BYTES;
    cmp->max_body_bytes = COMPARE_DEFAULT_MAX_BODY_BYTES;
    cmp->match_timeout_ms = COMPARE_DEFAULT_MATCH_TIMEOUT_MS;
    cmp->max_pending = COMPARE_DEFAULT_MAX_PENDING;
    cmp->noise_index = -1;
    return cmp;
}

void config_compare_free(struct config_compare *cmp)
{
    if (!cmp)
        return;
    free_strings(cmp->headers, cmp->n_headers);
    free_strings(cmp->ignore_headers, cmp->n_ignore_headers);
    free_strings(cmp->ignore_json_paths, cmp->n_ignore_json_paths);
    free_strings(cmp->redact_json_paths, cmp->n_redact_json_paths);
    config_capture_free(cmp->diff_log);
    free(cmp->noise_mirror);
    free(cmp);
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
    config_tls_free(m->tls);
    config_compare_free(m->compare);
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
