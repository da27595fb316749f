#include "config/config_yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "config/config_capture.h"
#include "config/config_tls.h"
#include "config/config_compare.h"
#include "config/config_url.h"
#include "config/config_value.h"
#include "config/config_walk.h"
#include "core/header_policy.h"
#include "core/log.h"
#include "core/xalloc.h"

#define MS_MAX ((uint32_t)INT32_MAX)

static void push_str(char ***arr, size_t *n, char *s)
{
    *arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
    (*arr)[(*n)++] = s;
}

static bool str_in(char *const *arr, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(arr[i], s) == 0)
            return true;
    }
    return false;
}

/* ---- log ---- */

static void fn_log_level(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config *c = obj;
    char q[CW_QUOTE_CAP];
    const char *what = "one of error, warn, info, debug";
    const char *s = cw_scalar(w, v, what);
    if (!s)
        return;
    char *low = config_lower(xstrdup(s));
    if (!log_level_parse(low, &c->log_level))
        cw_error(w, v, "must be %s, got %s", what, config_quote(q, sizeof(q), s));
    free(low);
}

/* ---- headers ---- */

/* Checks a header name (already lowercase) to be set (<what> "set") or
 * removed ("removed"); reports at <n> and returns false when it is not usable. */
static bool header_name_ok(struct cw *w, const yaml_node_t *n, const char *name, const char *what)
{
    char q[CW_QUOTE_CAP];
    if (!config_is_token(name)) {
        cw_error(w, n, "must be a header name (an HTTP token), got %s", config_quote(q, sizeof(q), name));
        return false;
    }
    /* The shaper drops or writes these itself: a set or a remove of one
     * would silently do nothing. */
    enum header_reserved r = header_reserved((const uint8_t *)name, strlen(name));
    /* "te: trailers" is forwarded, so removing te does something. */
    bool removable_te = r == HEADER_TE && strcmp(what, "removed") == 0;
    if (r != HEADER_FORWARDED && !removable_te) {
        cw_error(w, n, "%s cannot be %s: %s", config_quote(q, sizeof(q), name), what, header_reserved_why(r));
        return false;
    }
    return true;
}

static void fn_headers_set(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_mirror *m = obj;
    char q[CW_QUOTE_CAP];
    if (cw_is_null(v))
        return;
    if (v->type != YAML_MAPPING_NODE) {
        cw_error(w, v, "must be a mapping of header names to values, got %s", cw_describe(v, q, sizeof(q)));
        return;
    }
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = cw_node(w, p->key);
        yaml_node_t *val = cw_node(w, p->value);
        if (!cw_visit(w, k))
            break;
        const char *key = cw_scalar(w, k, "a header name");
        if (!key)
            continue;
        size_t old = cw_path_key(w, key);
        char *name = config_lower(xstrdup(key));
        bool ok = header_name_ok(w, k, name, "set");
        for (size_t i = 0; ok && i < m->n_headers_set; i++) {
            if (strcmp(m->headers_set[i].name, name) == 0) {
                cw_error(w, k, "header set twice (names are case-insensitive)");
                ok = false;
            }
        }
        const char *s = cw_scalar(w, val, "a header value (use \"\" for an empty one)");
        if (s && !config_is_header_value(s)) {
            cw_error(w, val,
                     "must be a header value without control characters or surrounding spaces, got %s",
                     config_quote(q, sizeof(q), s));
            s = NULL;
        }
        if (ok && s) {
            m->headers_set = xrealloc(m->headers_set, (m->n_headers_set + 1) * sizeof(*m->headers_set));
            m->headers_set[m->n_headers_set].name = name;
            m->headers_set[m->n_headers_set].value = xstrdup(s);
            m->n_headers_set++;
        } else {
            free(name);
        }
        cw_path_pop(w, old);
    }
}

static void item_header_remove(struct cw *w, yaml_node_t *n, void *obj)
{
    struct config_mirror *m = obj;
    const char *s = cw_scalar(w, n, "a header name");
    if (!s)
        return;
    char *name = config_lower(xstrdup(s));
    if (!header_name_ok(w, n, name, "removed")) {
        free(name);
    } else if (str_in(m->headers_remove, m->n_headers_remove, name)) {
        cw_error(w, n, "header listed twice (names are case-insensitive)");
        free(name);
    } else {
        push_str(&m->headers_remove, &m->n_headers_remove, name);
    }
}

static void fn_headers_remove(struct cw *w, yaml_node_t *v, void *obj)
{
    cw_seq(w, v, "header names", item_header_remove, obj);
}

static const struct cw_field headers_fields[] = {
    {.key = "set", .kind = CW_FN, .fn = fn_headers_set},
    {.key = "remove", .kind = CW_FN, .fn = fn_headers_remove},
};

static void fn_headers(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_mirror *m = obj;
    unsigned seen;
    if (!cw_map(w, v, headers_fields, sizeof(headers_fields) / sizeof(headers_fields[0]), m, &seen))
        return;
    for (size_t i = 0; i < m->n_headers_set; i++) {
        if (str_in(m->headers_remove, m->n_headers_remove, m->headers_set[i].name))
            cw_error(w, v, "header \"%s\" is both set and removed", m->headers_set[i].name);
    }
}

/* ---- mirrors ---- */

static void fn_url(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_mirror *m = obj;
    char q[CW_QUOTE_CAP], err[CW_ERR_CAP];
    const char *s = cw_scalar(w, v, "an http://, https:// or file:/// URL");
    if (!s)
        return;
    if (config_is_file_url(s)) {
        char ferr[CAPTURE_DIR_MAX + 256]; /* messages name the directory */
        if (!config_mirror_set_file_url(w->c, m, s, ferr, sizeof(ferr)))
            cw_error(w, v, "%s, got %s", ferr, config_quote(q, sizeof(q), s));
        return;
    }
    struct config_url u = {0};
    if (!config_url_parse(s, &u, err, sizeof(err))) {
        cw_error(w, v, "%s, got %s", err, config_quote(q, sizeof(q), s));
        return;
    }
    free(m->url);
    free(m->scheme);
    free(m->host);
    free(m->base_path);
    m->url = xstrdup(s);
    m->scheme = u.scheme;
    m->host = u.host;
    m->port = u.port;
    m->base_path = u.base_path;
}

static void fn_percent(struct cw *w, yaml_node_t *v, void *obj)
{
    cw_percent(w, v, &((struct config_mirror *)obj)->percent_millionths);
}

static void fn_authority(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_mirror *m = obj;
    char q[CW_QUOTE_CAP], err[CW_ERR_CAP];
    const char *s = cw_scalar(w, v, "shadow, keep or a host[:port]");
    if (!s)
        return;
    free(m->authority_literal);
    m->authority_literal = NULL;
    if (strcasecmp(s, "shadow") == 0) {
        m->authority = AUTHORITY_SHADOW;
    } else if (strcasecmp(s, "keep") == 0) {
        m->authority = AUTHORITY_KEEP;
    } else if (!config_hostport_parse(s, 0, NULL, NULL, err, sizeof(err))) {
        cw_error(w, v, "must be shadow, keep or a host[:port] (%s), got %s", err,
                 config_quote(q, sizeof(q), s));
    } else {
        m->authority = AUTHORITY_LITERAL;
        m->authority_literal = config_lower(xstrdup(s));
    }
}

static void fn_sample_by(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_mirror *m = obj;
    char q[CW_QUOTE_CAP];
    const char *what = "random, header:<name> or cookie:<name>";
    const char *s = cw_scalar(w, v, what);
    if (!s)
        return;
    enum sample_mode mode;
    const char *key = NULL;
    if (strcmp(s, "random") == 0) {
        mode = SAMPLE_RANDOM;
    } else if (strncmp(s, "header:", 7) == 0) {
        mode = SAMPLE_HEADER;
        key = s + 7;
    } else if (strncmp(s, "cookie:", 7) == 0) {
        mode = SAMPLE_COOKIE;
        key = s + 7;
    } else {
        cw_error(w, v, "must be %s, got %s", what, config_quote(q, sizeof(q), s));
        return;
    }
    if (key && !config_is_token(key)) {
        cw_error(w, v, "must be %s where <name> is an HTTP token, got %s", what,
                 config_quote(q, sizeof(q), s));
        return;
    }
    free(m->sample_key);
    m->sample_by = mode;
    m->sample_key = NULL;
    if (mode == SAMPLE_HEADER)
        m->sample_key = config_lower(xstrdup(key));
    else if (mode == SAMPLE_COOKIE)
        m->sample_key = xstrdup(key); /* cookie names are case-sensitive */
}

static void fn_protocol(struct cw *w, yaml_node_t *v, void *obj)
{
    static const enum config_protocol all[] = {CONFIG_PROTO_HTTP1, CONFIG_PROTO_H2, CONFIG_PROTO_H2C,
                                               CONFIG_PROTO_AUTO};
    struct config_mirror *m = obj;
    char q[CW_QUOTE_CAP];
    const char *s = cw_scalar(w, v, "http1.1, h2, h2c or auto");
    if (!s)
        return;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(s, config_protocol_str(all[i])) == 0) {
            m->protocol = all[i];
            return;
        }
    }
    cw_error(w, v, "must be http1.1, h2, h2c or auto, got %s", config_quote(q, sizeof(q), s));
}

enum {
    MF_URL,
    MF_PERCENT,
    MF_AUTHORITY,
    MF_SAMPLE_BY,
    MF_TIMEOUT,
    MF_CONNECT_TIMEOUT,
    MF_MAX_INFLIGHT,
    MF_MAX_QUEUE,
    MF_MAX_RPS,
    MF_MAX_RESPONSE_BYTES,
    MF_MAX_CONNECTION_AGE,
    MF_READ_DELAY,
    MF_WRITE_DELAY,
    MF_PROTOCOL,
    MF_HEADERS,
    MF_CAPTURE,
    MF_TLS,
    MF_COMPARE,
    MF_COUNT
};

#define MF_U32(k, field, lo, hi)                                                                             \
    {                                                                                                        \
        .key = k, .kind = CW_U32, .off = offsetof(struct config_mirror, field), .min = lo, .max = hi         \
    }

static const struct cw_field mirror_fields[MF_COUNT] = {
    [MF_URL] = {.key = "url", .kind = CW_FN, .fn = fn_url},
    [MF_PERCENT] = {.key = "percent", .kind = CW_FN, .fn = fn_percent},
    [MF_AUTHORITY] = {.key = "authority", .kind = CW_FN, .fn = fn_authority},
    [MF_SAMPLE_BY] = {.key = "sample_by", .kind = CW_FN, .fn = fn_sample_by},
    [MF_TIMEOUT] = MF_U32("timeout_ms", timeout_ms, 1, MS_MAX),
    [MF_CONNECT_TIMEOUT] = MF_U32("connect_timeout_ms", connect_timeout_ms, 1, MS_MAX),
    [MF_MAX_INFLIGHT] = MF_U32("max_inflight", max_inflight, 1, 1000000),
    [MF_MAX_QUEUE] = MF_U32("max_queue", max_queue, 1, 1000000),
    [MF_MAX_RPS] = MF_U32("max_rps", max_rps, 0, 1000000000),
    [MF_MAX_RESPONSE_BYTES] = MF_U32("max_response_bytes", max_response_bytes, 0, CONFIG_MAX_RESPONSE_BYTES),
    [MF_MAX_CONNECTION_AGE] = MF_U32("max_connection_age_ms", max_connection_age_ms, 0, MS_MAX),
    [MF_READ_DELAY] = MF_U32("response_read_delay_ms", response_read_delay_ms, 0, 100),
    [MF_WRITE_DELAY] = MF_U32("request_write_delay_ms", request_write_delay_ms, 0, 100),
    [MF_PROTOCOL] = {.key = "protocol", .kind = CW_FN, .fn = fn_protocol},
    [MF_HEADERS] = {.key = "headers", .kind = CW_FN, .fn = fn_headers},
    [MF_CAPTURE] = {.key = "capture", .kind = CW_FN, .fn = config_capture_walk},
    [MF_TLS] = {.key = "tls", .kind = CW_FN, .fn = config_tls_walk},
    [MF_COMPARE] = {.key = "compare", .kind = CW_FN, .fn = config_compare_walk},
};

/* The key node <key> of mapping <map>, or <map> itself when absent. */
static const yaml_node_t *key_node(struct cw *w, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = cw_node(w, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(cw_text(k), key) == 0)
            return k;
    }
    return map;
}

/* An error at key <key> of mapping <n>. */
static void key_error(struct cw *w, yaml_node_t *n, const char *key, const char *msg)
{
    size_t old = cw_path_key(w, key);
    cw_error(w, key_node(w, n, key), "%s", msg);
    cw_path_pop(w, old);
}

/* A capture mirror (file://) takes the capture block and none of the HTTP
 * client's settings; an http mirror takes no capture block, and only an
 * https mirror a tls block (it always has one: the defaults when absent). */
static void check_mirror_kind(struct cw *w, yaml_node_t *n, struct config_mirror *m, unsigned seen)
{
    static const struct {
        int field;
        const char *hint;
    } http_only[] = {
        {MF_TIMEOUT, ""},
        {MF_CONNECT_TIMEOUT, ""},
        {MF_MAX_INFLIGHT, ""},
        {MF_MAX_QUEUE, " (use capture.max_queue)"},
        {MF_MAX_RESPONSE_BYTES, ""},
        {MF_MAX_CONNECTION_AGE, ""},
        {MF_READ_DELAY, ""},
        {MF_WRITE_DELAY, ""},
        {MF_PROTOCOL, ""},
        {MF_HEADERS, " (records keep the original headers; use capture.redact_headers)"},
        {MF_TLS, ""},
    };
    bool file = m->scheme && strcmp(m->scheme, "file") == 0;
    bool https = m->scheme && strcmp(m->scheme, "https") == 0;
    if (file) {
        for (size_t i = 0; i < sizeof(http_only) / sizeof(http_only[0]); i++) {
            const char *key = mirror_fields[http_only[i].field].key;
            if (!(seen & (1u << http_only[i].field)))
                continue;
            size_t old = cw_path_key(w, key);
            cw_error(w, key_node(w, n, key), "not used by capture (file://) mirrors%s", http_only[i].hint);
            cw_path_pop(w, old);
        }
    } else if (m->scheme && (seen & (1u << MF_CAPTURE))) {
        key_error(w, n, "capture", "only capture mirrors (url file:///dir) take a capture block");
    }
    if (m->scheme && !file && !https && (seen & (1u << MF_TLS)))
        key_error(w, n, "tls", "only https:// mirrors take a tls block");
    if (m->scheme && https && m->protocol == CONFIG_PROTO_H2C)
        key_error(w, n, "protocol",
                  "h2c is cleartext HTTP/2: it needs an http:// URL (h2 is HTTP/2 over TLS)");
    if (m->scheme && !file && !https && m->protocol == CONFIG_PROTO_H2)
        key_error(w, n, "protocol",
                  "h2 is HTTP/2 over TLS: it needs an https:// URL (h2c is cleartext HTTP/2)");
    if (!file) {
        config_capture_free(m->capture);
        m->capture = NULL;
    }
    if (!https) {
        config_tls_free(m->tls);
        m->tls = NULL;
    } else if (!m->tls) {
        m->tls = config_tls_new(m->line);
    }
}

static void item_mirror(struct cw *w, yaml_node_t *n, void *obj)
{
    struct config_route *r = obj;
    r->mirrors = xrealloc(r->mirrors, (r->n_mirrors + 1) * sizeof(*r->mirrors));
    struct config_mirror *m = &r->mirrors[r->n_mirrors++];
    config_mirror_defaults(m);
    m->line = cw_line(n);
    unsigned seen;
    if (!cw_map(w, n, mirror_fields, MF_COUNT, m, &seen))
        return;
    if (!(seen & (1u << MF_URL))) {
        size_t old = cw_path_key(w, "url");
        cw_error(w, n, "is required");
        cw_path_pop(w, old);
    }
    check_mirror_kind(w, n, m, seen);
    config_compare_check(w, n, m);
    if (!(seen & (1u << MF_CONNECT_TIMEOUT))) {
        m->connect_timeout_ms = m->timeout_ms < 500 ? m->timeout_ms : 500;
    } else if (m->connect_timeout_ms > m->timeout_ms) {
        /* timeout_ms bounds the whole exchange, connecting included. */
        size_t old = cw_path_key(w, "connect_timeout_ms");
        cw_error(w, n, "must not exceed timeout_ms (%u), got %u", (unsigned)m->timeout_ms,
                 (unsigned)m->connect_timeout_ms);
        cw_path_pop(w, old);
    }
}

static void fn_mirrors(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_route *r = obj;
    if (cw_seq(w, v, "mirrors", item_mirror, r) && r->n_mirrors == 0)
        cw_error(w, v, "a route needs at least one mirror");
    else if (r->n_mirrors > CONFIG_MAX_MIRRORS_PER_ROUTE)
        cw_error(w, v, "a route has at most %d mirrors, got %zu", CONFIG_MAX_MIRRORS_PER_ROUTE, r->n_mirrors);
    else
        config_compare_check_route(w, v, r);
}

/* ---- match ---- */

static void item_host(struct cw *w, yaml_node_t *n, void *obj)
{
    struct config_route *r = obj;
    char q[CW_QUOTE_CAP], err[CW_ERR_CAP];
    const char *what = "a host, host:port or *.domain";
    const char *s = cw_scalar(w, n, what);
    if (!s)
        return;
    bool ok;
    if (strncmp(s, "*.", 2) == 0) {
        ok = config_host_valid(s + 2, strlen(s + 2));
        snprintf(err, sizeof(err), "bad domain after \"*.\"");
    } else {
        ok = config_hostport_parse(s, 0, NULL, NULL, err, sizeof(err));
    }
    if (!ok) {
        cw_error(w, n, "must be %s (%s), got %s", what, err, config_quote(q, sizeof(q), s));
        return;
    }
    push_str(&r->hosts, &r->n_hosts, config_lower(xstrdup(s)));
}

static void fn_hosts(struct cw *w, yaml_node_t *v, void *obj)
{
    cw_seq(w, v, "hosts", item_host, obj);
}

static void item_method(struct cw *w, yaml_node_t *n, void *obj)
{
    struct config_route *r = obj;
    char q[CW_QUOTE_CAP];
    const char *s = cw_scalar(w, n, "an HTTP method");
    if (!s)
        return;
    if (!config_is_token(s)) {
        cw_error(w, n, "must be an HTTP method (a token such as GET), got %s", config_quote(q, sizeof(q), s));
        return;
    }
    push_str(&r->methods, &r->n_methods, config_upper(xstrdup(s)));
}

static void fn_methods(struct cw *w, yaml_node_t *v, void *obj)
{
    cw_seq(w, v, "HTTP methods", item_method, obj);
}

static void fn_path_prefix(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_route *r = obj;
    char q[CW_QUOTE_CAP];
    const char *what = "a URL path starting with '/' (no spaces, query or fragment)";
    const char *s = cw_scalar(w, v, what);
    if (!s)
        return;
    if (!config_path_valid(s)) {
        cw_error(w, v, "must be %s, got %s", what, config_quote(q, sizeof(q), s));
        return;
    }
    free(r->path_prefix);
    r->path_prefix = xstrdup(s);
}

static const struct cw_field match_fields[] = {
    {.key = "hosts", .kind = CW_FN, .fn = fn_hosts},
    {.key = "path_prefix", .kind = CW_FN, .fn = fn_path_prefix},
    {.key = "methods", .kind = CW_FN, .fn = fn_methods},
};

static void fn_match(struct cw *w, yaml_node_t *v, void *obj)
{
    unsigned seen;
    cw_map(w, v, match_fields, sizeof(match_fields) / sizeof(match_fields[0]), obj, &seen);
}

/* ---- routes ---- */

static bool route_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && ch != '.' && ch != '_' && ch != '-')
            return false;
    }
    return true;
}

static void fn_route_name(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_route *r = obj;
    char q[CW_QUOTE_CAP];
    const char *what = "a name of 1 to 64 letters, digits, '.', '_' or '-'";
    const char *s = cw_scalar(w, v, what);
    if (!s)
        return;
    if (!route_name_ok(s)) {
        cw_error(w, v, "must be %s, got %s", what, config_quote(q, sizeof(q), s));
        return;
    }
    size_t self = (size_t)(r - w->c->routes);
    for (size_t i = 0; i < self; i++) {
        const struct config_route *o = &w->c->routes[i];
        if (o->name && strcmp(o->name, s) == 0) {
            if (o->line > 0)
                cw_error(w, v, "duplicate route name %s (first defined at line %d)",
                         config_quote(q, sizeof(q), s), o->line);
            else
                cw_error(w, v, "duplicate route name %s (already defined by --mirror)",
                         config_quote(q, sizeof(q), s));
            return;
        }
    }
    free(r->name);
    r->name = xstrdup(s);
}

enum { RF_NAME, RF_MATCH, RF_MIRRORS, RF_COUNT };

static const struct cw_field route_fields[RF_COUNT] = {
    [RF_NAME] = {.key = "name", .kind = CW_FN, .fn = fn_route_name},
    [RF_MATCH] = {.key = "match", .kind = CW_FN, .fn = fn_match},
    [RF_MIRRORS] = {.key = "mirrors", .kind = CW_FN, .fn = fn_mirrors},
};

static void item_route(struct cw *w, yaml_node_t *n, void *obj)
{
    struct config *c = obj;
    c->routes = xrealloc(c->routes, (c->n_routes + 1) * sizeof(*c->routes));
    struct config_route *r = &c->routes[c->n_routes++];
    memset(r, 0, sizeof(*r));
    r->line = cw_line(n);
    unsigned seen;
    if (!cw_map(w, n, route_fields, RF_COUNT, r, &seen))
        return;
    if (!(seen & (1u << RF_NAME))) {
        size_t old = cw_path_key(w, "name");
        cw_error(w, n, "is required");
        cw_path_pop(w, old);
    }
    if (!(seen & (1u << RF_MIRRORS))) {
        size_t old = cw_path_key(w, "mirrors");
        cw_error(w, n, "a route needs at least one mirror");
        cw_path_pop(w, old);
    }
}

static void fn_routes(struct cw *w, yaml_node_t *v, void *obj)
{
    cw_seq(w, v, "routes", item_route, obj);
}

/* ---- the top level ---- */

#define C_U32(k, field, lo, hi)                                                                              \
    {                                                                                                        \
        .key = k, .kind = CW_U32, .off = offsetof(struct config, field), .min = lo, .max = hi                \
    }

static const struct cw_field spop_fields[] = {
    {.key = "listen", .kind = CW_LISTEN, .off = offsetof(struct config, spop_listen)},
    {.key = "threads", .kind = CW_INT, .off = offsetof(struct config, threads), .min = 0, .max = 256},
    C_U32("max_frame_size", max_frame_size, 256, 16777216),
    C_U32("max_connections", max_connections, 1, 1000000),
    C_U32("idle_timeout_ms", idle_timeout_ms, 0, MS_MAX),
};

static const struct cw_field admin_fields[] = {
    {.key = "listen", .kind = CW_LISTEN, .off = offsetof(struct config, admin_listen)},
};

static const struct cw_field log_fields[] = {
    {.key = "level", .kind = CW_FN, .fn = fn_log_level},
};

#define BP_U32(k, field, lo, hi)                                                                             \
    {                                                                                                        \
        .key = k, .kind = CW_U32, .off = offsetof(struct config, body_parts.field), .min = lo, .max = hi     \
    }

enum { BPF_MAX_ENTRIES, BPF_MAX_BYTES, BPF_MAX_BODY_BYTES, BPF_TIMEOUT, BPF_COUNT };

static const struct cw_field body_parts_fields[BPF_COUNT] = {
    [BPF_MAX_ENTRIES] = BP_U32("max_entries", max_entries, 1, BODY_PARTS_MAX_ENTRIES),
    [BPF_MAX_BYTES] = BP_U32("max_bytes", max_bytes, 1, UINT32_MAX),
    [BPF_MAX_BODY_BYTES] = BP_U32("max_body_bytes", max_body_bytes, 1, BODY_PARTS_MAX_BODY_BYTES),
    [BPF_TIMEOUT] = BP_U32("timeout_ms", timeout_ms, 1, MS_MAX),
};

/* The store must have room for at least one whole body. */
static void fn_body_parts(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config *c = obj;
    unsigned seen;
    if (!cw_map(w, v, body_parts_fields, BPF_COUNT, c, &seen))
        return;
    if (c->body_parts.max_bytes < c->body_parts.max_body_bytes) {
        bool bytes_set = seen & (1u << BPF_MAX_BYTES);
        size_t old = cw_path_key(w, bytes_set ? "max_bytes" : "max_body_bytes");
        cw_error(w, key_node(w, v, bytes_set ? "max_bytes" : "max_body_bytes"),
                 "max_bytes (%u) must be at least max_body_bytes (%u)", (unsigned)c->body_parts.max_bytes,
                 (unsigned)c->body_parts.max_body_bytes);
        cw_path_pop(w, old);
    }
}

#define SUBMAP(fn_name, table)                                                                               \
    static void fn_name(struct cw *w, yaml_node_t *v, void *obj)                                             \
    {                                                                                                        \
        unsigned seen;                                                                                       \
        cw_map(w, v, table, sizeof(table) / sizeof(table[0]), obj, &seen);                                   \
    }

SUBMAP(fn_spop, spop_fields)
SUBMAP(fn_admin, admin_fields)
SUBMAP(fn_log, log_fields)

static const struct cw_field root_fields[] = {
    {.key = "spop", .kind = CW_FN, .fn = fn_spop},
    {.key = "admin", .kind = CW_FN, .fn = fn_admin},
    {.key = "log", .kind = CW_FN, .fn = fn_log},
    C_U32("drain_timeout_ms", drain_timeout_ms, 0, MS_MAX),
    C_U32("resolve_interval_ms", resolve_interval_ms, 1000, 3600000),
    {.key = "body_parts", .kind = CW_FN, .fn = fn_body_parts},
    {.key = "routes", .kind = CW_FN, .fn = fn_routes},
};

/* Reports libyaml's syntax error, with the line where it was found. */
static void syntax_error(const yaml_parser_t *p, const char *text, size_t len, const char *name,
                         struct config_errors *errs)
{
    int line = (int)p->problem_mark.line + 1;
    if (p->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset rather than a mark. */
        line = 1;
        for (size_t i = 0; i < p->problem_offset && i < len; i++)
            line += text[i] == '\n';
    }
    const char *problem = p->problem ? p->problem : "cannot parse the YAML";
    if (p->error == YAML_MEMORY_ERROR)
        problem = "out of memory";
    if (p->context)
        config_errors_addf(errs, "%s:%d: (yaml): %s (%s started at line %d)", name, line, problem, p->context,
                           (int)p->context_mark.line + 1);
    else
        config_errors_addf(errs, "%s:%d: (yaml): %s", name, line, problem);
}

static void walk_root(struct cw *w, yaml_node_t *root)
{
    char q[CW_QUOTE_CAP];
    unsigned seen;
    if (!root || cw_is_null(root)) {
        cw_error(w, root, "the file is empty: expected a mapping with keys such as spop and routes");
        return;
    }
    if (root->type != YAML_MAPPING_NODE) {
        cw_error(w, root, "the file must be a mapping (key: value), got %s", cw_describe(root, q, sizeof(q)));
        return;
    }
    cw_map(w, root, root_fields, sizeof(root_fields) / sizeof(root_fields[0]), w->c, &seen);
}

bool config_yaml_load(struct config *c, const char *text, size_t len, const char *name,
                      struct config_errors *errs)
{
    size_t before = errs->count;
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        config_errors_addf(errs, "%s:1: (yaml): cannot initialise the YAML parser", name);
        return false;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_error(&parser, text, len, name, errs);
        yaml_parser_delete(&parser);
        return false;
    }
    struct cw w = {.doc = &doc, .name = name, .c = c, .errs = errs};
    walk_root(&w, yaml_document_get_root_node(&doc));
    yaml_document_delete(&doc);

    /* A second document ("---") would be silently ignored: refuse it. */
    yaml_document_t extra;
    if (!yaml_parser_load(&parser, &extra)) {
        syntax_error(&parser, text, len, name, errs);
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&extra);
        if (root) {
            w.doc = &extra;
            w.plen = 0;
            w.path[0] = '\0';
            cw_error(&w, root, "a second YAML document: the file must hold only one");
        }
        yaml_document_delete(&extra);
    }
    yaml_parser_delete(&parser);
    return errs->count == before;
}
