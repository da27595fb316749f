#include "config/config_compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_capture.h"
#include "config/config_value.h"
#include "core/json_path.h"
#include "core/xalloc.h"

static void free_list(char ***arr, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*arr)[i]);
    free(*arr);
    *arr = NULL;
    *n = 0;
}

static void fn_percent(struct cw *w, yaml_node_t *v, void *obj)
{
    cw_percent(w, v, &((struct config_compare *)obj)->percent_millionths);
}

static void fn_status(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_compare *cmp = obj;
    char q[CW_QUOTE_CAP];
    const char *what = "exact or class";
    const char *s = cw_scalar(w, v, what);
    if (!s)
        return;
    if (strcasecmp(s, "exact") == 0)
        cmp->status = COMPARE_STATUS_EXACT;
    else if (strcasecmp(s, "class") == 0)
        cmp->status = COMPARE_STATUS_CLASS;
    else
        cw_error(w, v, "must be %s, got %s", what, config_quote(q, sizeof(q), s));
}

static void fn_body(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_compare *cmp = obj;
    char q[CW_QUOTE_CAP];
    const char *what = "off, bytes or json";
    const char *s = cw_scalar(w, v, what);
    if (!s)
        return;
    if (strcasecmp(s, "off") == 0)
        cmp->body = COMPARE_BODY_OFF;
    else if (strcasecmp(s, "bytes") == 0)
        cmp->body = COMPARE_BODY_BYTES;
    else if (strcasecmp(s, "json") == 0)
        cmp->body = COMPARE_BODY_JSON;
    else
        cw_error(w, v, "must be %s, got %s", what, config_quote(q, sizeof(q), s));
}

/* "*" (every header) is allowed in `headers` only. */
static void item_compared_header(struct cw *w, yaml_node_t *n, void *obj)
{
    struct config_compare *cmp = obj;
    const char *s = cw_scalar(w, n, "a header name or \"*\"");
    if (!s)
        return;
    if (strcmp(s, "*") == 0) {
        for (size_t i = 0; i < cmp->n_headers; i++) {
            if (strcmp(cmp->headers[i], "*") == 0) {
                cw_error(w, n, "\"*\" listed twice");
                return;
            }
        }
        cmp->headers = xrealloc(cmp->headers, (cmp->n_headers + 1) * sizeof(char *));
        cmp->headers[cmp->n_headers++] = xstrdup("*");
        return;
    }
    config_header_item(w, n, &cmp->headers, &cmp->n_headers);
}

static void fn_headers(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_compare *cmp = obj;
    free_list(&cmp->headers, &cmp->n_headers);
    cw_seq(w, v, "header names", item_compared_header, cmp);
}

static void fn_ignore_headers(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_compare *cmp = obj;
    free_list(&cmp->ignore_headers, &cmp->n_ignore_headers);
    config_header_list_walk(w, v, &cmp->ignore_headers, &cmp->n_ignore_headers);
}

/* Where item_json_path puts the patterns. */
struct path_list {
    char ***arr;
    size_t *n;
};

static void item_json_path(struct cw *w, yaml_node_t *n, void *obj)
{
    struct path_list *pl = obj;
    char q[CW_QUOTE_CAP], err[CW_ERR_CAP];
    const char *s = cw_scalar(w, n, "a JSON path such as $.timestamp or $.items[*].id");
    if (!s)
        return;
    struct json_path p;
    if (!json_path_parse(s, &p, err, sizeof(err))) {
        cw_error(w, n, "must be a JSON path such as $.timestamp or $.items[*].id (%s), got %s", err,
                 config_quote(q, sizeof(q), s));
        return;
    }
    json_path_free(&p);
    for (size_t i = 0; i < *pl->n; i++) {
        if (strcmp((*pl->arr)[i], s) == 0) {
            cw_error(w, n, "path listed twice");
            return;
        }
    }
    *pl->arr = xrealloc(*pl->arr, (*pl->n + 1) * sizeof(char *));
    (*pl->arr)[(*pl->n)++] = xstrdup(s);
}

static void fn_ignore_json_paths(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_compare *cmp = obj;
    struct path_list pl = {.arr = &cmp->ignore_json_paths, .n = &cmp->n_ignore_json_paths};
    cw_seq(w, v, "JSON paths", item_json_path, &pl);
}

static void fn_redact_json_paths(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_compare *cmp = obj;
    struct path_list pl = {.arr = &cmp->redact_json_paths, .n = &cmp->n_redact_json_paths};
    cw_seq(w, v, "JSON paths", item_json_path, &pl);
}

/* ---- diff_log ---- */

static void fn_diff_log_url(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_capture *cap = obj;
    char q[CW_QUOTE_CAP];
    const char *s = cw_scalar(w, v, "a file:///directory URL");
    if (!s)
        return;
    char err[CAPTURE_DIR_MAX + 256], *dir = NULL;
    if (!config_file_url_parse(s, &dir, err, sizeof(err))) {
        cw_error(w, v, "%s, got %s", err, config_quote(q, sizeof(q), s));
        return;
    }
    /* Diff logs may share a directory (and its writer); a capture mirror's is its own. */
    const struct config_mirror *other = config_capture_dir_user(w->c, NULL, dir);
    if (other && other->capture) {
        cw_error(w, v, "directory %s is already used by the capture mirror at line %d", dir, other->line);
    } else if (!config_capture_dir_check(dir, err, sizeof(err))) {
        cw_error(w, v, "%s", err);
    } else {
        free(cap->dir);
        cap->dir = dir;
        return;
    }
    free(dir);
}

enum { DL_URL, DL_MAX_RPS, DL_COUNT };

static const struct cw_field diff_log_fields[DL_COUNT] = {
    [DL_URL] = {.key = "url", .kind = CW_FN, .fn = fn_diff_log_url},
    [DL_MAX_RPS] = {.key = "max_records_per_second",
                    .kind = CW_U32,
                    .off = offsetof(struct config_capture, max_rps),
                    .min = 1,
                    .max = 1000000},
};

static void fn_diff_log(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_compare *cmp = obj;
    if (cw_is_null(v))
        return;
    config_capture_free(cmp->diff_log);
    cmp->diff_log = config_capture_new();
    cmp->diff_log->max_rps = COMPARE_DEFAULT_DIFF_LOG_RPS;
    unsigned seen = 0;
    if (!config_capture_map(w, v, cmp->diff_log, diff_log_fields, DL_COUNT, &seen)) {
        config_capture_free(cmp->diff_log);
        cmp->diff_log = NULL;
        return;
    }
    if (!(seen & (1u << DL_URL))) {
        size_t old = cw_path_key(w, "url");
        cw_error(w, v, "is required (file:///directory)");
        cw_path_pop(w, old);
    }
    if (!cmp->diff_log->dir) {
        config_capture_free(cmp->diff_log);
        cmp->diff_log = NULL;
    }
}

static void fn_noise_mirror(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_compare *cmp = obj;
    const char *s = cw_scalar(w, v, "the url of another mirror of the route");
    if (!s)
        return;
    free(cmp->noise_mirror);
    cmp->noise_mirror = xstrdup(s);
}

enum {
    CF_PERCENT,
    CF_STATUS,
    CF_HEADERS,
    CF_IGNORE_HEADERS,
    CF_BODY,
    CF_IGNORE_JSON_PATHS,
    CF_REDACT_JSON_PATHS,
    CF_MAX_BODY_BYTES,
    CF_MATCH_TIMEOUT,
    CF_MAX_PENDING,
    CF_DIFF_LOG,
    CF_NOISE_MIRROR,
    CF_COUNT
};

#define CMP_U32(k, field, lo, hi)                                                                            \
    {                                                                                                        \
        .key = k, .kind = CW_U32, .off = offsetof(struct config_compare, field), .min = lo, .max = hi        \
    }

static const struct cw_field compare_fields[CF_COUNT] = {
    [CF_PERCENT] = {.key = "percent", .kind = CW_FN, .fn = fn_percent},
    [CF_STATUS] = {.key = "status", .kind = CW_FN, .fn = fn_status},
    [CF_HEADERS] = {.key = "headers", .kind = CW_FN, .fn = fn_headers},
    [CF_IGNORE_HEADERS] = {.key = "ignore_headers", .kind = CW_FN, .fn = fn_ignore_headers},
    [CF_BODY] = {.key = "body", .kind = CW_FN, .fn = fn_body},
    [CF_IGNORE_JSON_PATHS] = {.key = "ignore_json_paths", .kind = CW_FN, .fn = fn_ignore_json_paths},
    [CF_REDACT_JSON_PATHS] = {.key = "redact_json_paths", .kind = CW_FN, .fn = fn_redact_json_paths},
    [CF_MAX_BODY_BYTES] = CMP_U32("max_body_bytes", max_body_bytes, 0, CONFIG_MAX_RESPONSE_BYTES),
    [CF_MATCH_TIMEOUT] = CMP_U32("match_timeout_ms", match_timeout_ms, 1, COMPARE_MAX_TIMEOUT_MS),
    [CF_MAX_PENDING] = CMP_U32("max_pending", max_pending, 1, COMPARE_MAX_PENDING),
    [CF_DIFF_LOG] = {.key = "diff_log", .kind = CW_FN, .fn = fn_diff_log},
    [CF_NOISE_MIRROR] = {.key = "noise_mirror", .kind = CW_FN, .fn = fn_noise_mirror},
};

void config_compare_walk(struct cw *w, yaml_node_t *v, void *obj)
{
    struct config_mirror *m = obj;
    config_compare_free(m->compare);
    m->compare = config_compare_new();
    unsigned seen;
    cw_map(w, v, compare_fields, CF_COUNT, m->compare, &seen);
    struct config_compare *cmp = m->compare;
    if ((seen & ((1u << CF_IGNORE_JSON_PATHS) | (1u << CF_REDACT_JSON_PATHS))) &&
        cmp->body != COMPARE_BODY_JSON) {
        size_t old =
            cw_path_key(w, (seen & (1u << CF_IGNORE_JSON_PATHS)) ? "ignore_json_paths" : "redact_json_paths");
        cw_error(w, v, "JSON paths need body: json");
        cw_path_pop(w, old);
    }
}

void config_compare_check(struct cw *w, yaml_node_t *n, struct config_mirror *m)
{
    if (!m->compare)
        return;
    size_t old = cw_path_key(w, "compare");
    if (m->scheme && strcmp(m->scheme, "file") == 0) {
        cw_error(w, n, "only http mirrors answer: a capture (file://) mirror has nothing to compare");
        config_compare_free(m->compare);
        m->compare = NULL;
    } else if (m->compare->max_body_bytes > m->max_response_bytes) {
        size_t k = cw_path_key(w, "max_body_bytes");
        cw_error(w, n, "must not exceed the mirror's max_response_bytes (%u), got %u",
                 (unsigned)m->max_response_bytes, (unsigned)m->compare->max_body_bytes);
        cw_path_pop(w, k);
    }
    cw_path_pop(w, old);
}

void config_compare_check_route(struct cw *w, yaml_node_t *n, struct config_route *r)
{
    char q[CW_QUOTE_CAP];
    for (size_t i = 0; i < r->n_mirrors; i++) {
        struct config_compare *cmp = r->mirrors[i].compare;
        if (!cmp || !cmp->noise_mirror)
            continue;
        int found = -1;
        for (size_t k = 0; k < r->n_mirrors && found < 0; k++) {
            if (k != i && r->mirrors[k].url && strcmp(r->mirrors[k].url, cmp->noise_mirror) == 0)
                found = (int)k;
        }
        size_t old = cw_path_index(w, i);
        size_t old2 = cw_path_key(w, "compare");
        size_t old3 = cw_path_key(w, "noise_mirror");
        if (found < 0)
            cw_error(w, n, "must be the url of another mirror of this route, got %s",
                     config_quote(q, sizeof(q), cmp->noise_mirror));
        else if (!r->mirrors[found].compare)
            cw_error(w, n, "the noise mirror %s needs a compare block of its own (its answers are kept)",
                     config_quote(q, sizeof(q), cmp->noise_mirror));
        else if (r->mirrors[found].compare->noise_mirror)
            cw_error(w, n, "the noise mirror %s must not have a noise_mirror itself",
                     config_quote(q, sizeof(q), cmp->noise_mirror));
        else
            cmp->noise_index = found;
        cw_path_pop(w, old3);
        cw_path_pop(w, old2);
        cw_path_pop(w, old);
    }
}
