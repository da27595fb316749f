#include "compare/compare_rules.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xalloc.h"

static char **copy_list(char *const *src, size_t n)
{
    char **out = xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out[i] = xstrdup(src[i]);
    return out;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Patterns were validated by the loader: one that does not parse now is left out. */
static struct json_path *parse_paths(char *const *src, size_t n, size_t *out_n)
{
    struct json_path *out = xcalloc(n ? n : 1, sizeof(*out));
    size_t k = 0;
    char err[128];
    for (size_t i = 0; i < n; i++) {
        if (json_path_parse(src[i], &out[k], err, sizeof(err)))
            k++;
    }
    *out_n = k;
    return out;
}

struct compare_rules *compare_rules_new(const struct config_compare *cfg)
{
    struct compare_rules *r = xcalloc(1, sizeof(*r));
    r->status = cfg->status;
    r->body = cfg->body;
    r->max_body_bytes = cfg->max_body_bytes;
    r->headers = xcalloc(cfg->n_headers ? cfg->n_headers : 1, sizeof(char *));
    for (size_t i = 0; i < cfg->n_headers; i++) {
        if (strcmp(cfg->headers[i], "*") == 0)
            r->all_headers = true;
        else
            r->headers[r->n_headers++] = xstrdup(cfg->headers[i]);
    }
    r->ignore_headers = copy_list(cfg->ignore_headers, cfg->n_ignore_headers);
    r->n_ignore_headers = cfg->n_ignore_headers;
    if (cfg->diff_log) {
        r->redact_headers = copy_list(cfg->diff_log->redact_headers, cfg->diff_log->n_redact_headers);
        r->n_redact_headers = cfg->diff_log->n_redact_headers;
    } else {
        struct config_capture *defaults = config_capture_new();
        r->redact_headers = copy_list(defaults->redact_headers, defaults->n_redact_headers);
        r->n_redact_headers = defaults->n_redact_headers;
        config_capture_free(defaults);
    }
    r->ignore_paths = parse_paths(cfg->ignore_json_paths, cfg->n_ignore_json_paths, &r->n_ignore_paths);
    r->redact_paths = parse_paths(cfg->redact_json_paths, cfg->n_redact_json_paths, &r->n_redact_paths);
    return r;
}

void compare_rules_free(struct compare_rules *r)
{
    if (!r)
        return;
    free_list(r->headers, r->n_headers);
    free_list(r->ignore_headers, r->n_ignore_headers);
    free_list(r->redact_headers, r->n_redact_headers);
    for (size_t i = 0; i < r->n_ignore_paths; i++)
        json_path_free(&r->ignore_paths[i]);
    free(r->ignore_paths);
    for (size_t i = 0; i < r->n_redact_paths; i++)
        json_path_free(&r->redact_paths[i]);
    free(r->redact_paths);
    free(r);
}

static bool listed(char *const *v, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(v[i]) == len && strncasecmp(v[i], name, len) == 0)
            return true;
    }
    return false;
}

bool compare_rules_wants_header(const struct compare_rules *r, const char *name, size_t len)
{
    if (listed(r->headers, r->n_headers, name, len))
        return true;
    return r->all_headers && !listed(r->ignore_headers, r->n_ignore_headers, name, len);
}

bool compare_rules_redacts_header(const struct compare_rules *r, const char *name)
{
    return listed(r->redact_headers, r->n_redact_headers, name, strlen(name));
}

bool compare_rules_path_in(const struct json_path *pats, size_t n, const struct json_seg *segs, size_t depth)
{
    for (size_t i = 0; i < n; i++) {
        if (json_path_match(&pats[i], segs, depth))
            return true;
    }
    return false;
}
