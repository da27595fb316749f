/* libFuzzer target: the YAML configuration loader (config_load_string(),
 * config_load.h) fed arbitrary bytes as the file "fuzz.yaml".
 *
 * Every property is asserted with abort():
 * - true and no message, or false and at least one; never more than the
 *   walk's cap of CONFIG_WALK_MAX_ERRORS plus its notice and the two
 *   syntax messages;
 * - each message is "fuzz.yaml:<line>: <text>": a decimal line from 1 to the
 *   number of bytes + 1, a non-empty text, and no control character (the
 *   messages are logged one per line: the input must not start a new one);
 * - a configuration that loads holds what config.h promises: listen
 *   addresses set, values in their ranges, routes named once with 1 to
 *   CONFIG_MAX_MIRRORS_PER_ROUTE mirrors, http mirrors with a host and a base
 *   path not ending in '/', capture mirrors with an absolute directory,
 *   lowercase header names that are tokens and not set and removed at once,
 *   connect_timeout_ms <= timeout_ms;
 * - every http mirror of a configuration that loads can shape an ordinary
 *   request (request_shape.h): what the loader accepts, the shaper takes;
 * - loading the same bytes again gives the same verdict and messages;
 * - config_free() and config_errors_free() release everything (LeakSanitizer
 *   runs at the end of each input with libFuzzer). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_load.h"
#include "config/config_value.h"
#include "http/http_syntax.h"
#include "mirror/mirror_args.h"
#include "mirror/request_shape.h"
#include "spop/spop_proto.h"
#include "fuzz_check.h"

#define NAME "fuzz.yaml"

/* The walk's cap (config_walk.h), its notice, a syntax error and a second document. */
#define MAX_MESSAGES (100 + 1 + 2)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *msg, size_t size)
{
    size_t nlen = strlen(NAME);
    CHECK(strncmp(msg, NAME ":", nlen + 1) == 0);
    const char *p = msg + nlen + 1;
    unsigned long line = 0;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 12) {
        line = line * 10 + (unsigned long)(*p - '0');
        p++;
        digits++;
    }
    CHECK(digits > 0 && digits < 12 && line >= 1 && line <= size + 1);
    CHECK(p[0] == ':' && p[1] == ' ' && p[2] != '\0');
    for (const unsigned char *q = (const unsigned char *)msg; *q; q++) {
        if (*q < 0x20 || *q == 0x7f)
            fprintf(stderr, "control byte 0x%02x in: %s\n", *q, msg);
        CHECK(*q >= 0x20 && *q != 0x7f);
    }
}

static bool is_lower_token(const char *s)
{
    if (s == NULL || !config_is_token(s))
        return false;
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            return false;
    return true;
}

static bool has_upper_or_lower(const char *s, bool upper)
{
    for (; *s; s++)
        if (upper ? (*s >= 'A' && *s <= 'Z') : (*s >= 'a' && *s <= 'z'))
            return true;
    return false;
}

/* An ordinary request, shaped for <m>: it must be accepted. */
static void check_shapes(const struct config_mirror *m)
{
    static const uint8_t hdrs[] = {4, 'x', '-', 'i', 'd', 1, '7', 0, 0};
    struct mirror_args a;
    memset(&a, 0, sizeof(a));
    a.method = (struct spop_bytes){(const uint8_t *)"POST", 4};
    a.path = (struct spop_bytes){(const uint8_t *)"/a?b=c", 6};
    a.host = (struct spop_bytes){(const uint8_t *)"svc.example:8080", 16};
    a.ver = (struct spop_bytes){(const uint8_t *)"1.1", 3};
    a.hdrs = (struct spop_bytes){hdrs, sizeof(hdrs)};
    a.body = (struct spop_bytes){(const uint8_t *)"{}", 2};
    a.body_size = 2;
    a.src.type = SPOP_DATA_T_NULL;
    uint8_t *out = NULL;
    size_t len = 0;
    enum shape_status st = shape_request(m, &a, SIZE_MAX, &out, &len);
    if (st != SHAPE_OK)
        fprintf(stderr, "mirror %s: %s\n", m->url, shape_status_str(st));
    CHECK(st == SHAPE_OK);
    free(out);
}

static void check_mirror(const struct config_mirror *m)
{
    CHECK(m->url != NULL && m->scheme != NULL && m->base_path != NULL);
    CHECK(m->line >= 1);
    CHECK(m->percent_millionths <= 1000000);
    CHECK(m->timeout_ms >= 1 && m->connect_timeout_ms >= 1 && m->connect_timeout_ms <= m->timeout_ms);
    CHECK(m->max_inflight >= 1 && m->max_queue >= 1);
    CHECK((m->authority == AUTHORITY_LITERAL) == (m->authority_literal != NULL));
    CHECK((m->sample_by == SAMPLE_RANDOM) == (m->sample_key == NULL));
    if (m->sample_by == SAMPLE_HEADER)
        CHECK(is_lower_token(m->sample_key));
    else if (m->sample_by == SAMPLE_COOKIE)
        CHECK(config_is_token(m->sample_key));
    for (size_t i = 0; i < m->n_headers_set; i++) {
        const struct config_header_set *h = &m->headers_set[i];
        CHECK(is_lower_token(h->name) && h->value != NULL && config_is_header_value(h->value));
        CHECK(!http_is_hop_by_hop((const uint8_t *)h->name, strlen(h->name)) ||
              strcmp(h->name, "expect") == 0 || strncmp(h->name, "proxy-", 6) == 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(m->headers_set[j].name, h->name) != 0);
        for (size_t j = 0; j < m->n_headers_remove; j++)
            CHECK(strcmp(m->headers_remove[j], h->name) != 0);
    }
    for (size_t i = 0; i < m->n_headers_remove; i++) {
        CHECK(is_lower_token(m->headers_remove[i]));
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(m->headers_remove[j], m->headers_remove[i]) != 0);
    }
    size_t blen = strlen(m->base_path);
    CHECK(blen == 0 || (m->base_path[0] == '/' && m->base_path[blen - 1] != '/'));
    if (strcmp(m->scheme, "file") == 0) {
        const struct config_capture *cap = m->capture;
        CHECK(cap != NULL && cap->dir != NULL && cap->dir[0] == '/' && cap->dir[1] != '\0');
        CHECK(cap->dir[strlen(cap->dir) - 1] != '/');
        CHECK(m->host == NULL && m->port == 0 && blen == 0);
        CHECK(cap->rotate_bytes >= 1024 && cap->max_total_bytes >= cap->rotate_bytes);
        CHECK(cap->max_files >= 1 && cap->max_queue >= 1);
        for (size_t i = 0; i < cap->n_redact_headers; i++)
            CHECK(is_lower_token(cap->redact_headers[i]));
    } else {
        CHECK(strcmp(m->scheme, "http") == 0 || strcmp(m->scheme, "https") == 0);
        CHECK(m->capture == NULL && m->host != NULL && m->host[0] != '\0' && m->port >= 1);
        check_shapes(m);
    }
}

static void check_config(const struct config *c)
{
    CHECK(c->path != NULL && strcmp(c->path, NAME) == 0);
    CHECK(c->spop_listen != NULL && c->admin_listen != NULL);
    CHECK(c->threads >= 0 && c->threads <= 256);
    CHECK(c->max_frame_size >= 256 && c->max_frame_size <= 16777216);
    CHECK(c->max_connections >= 1);
    for (size_t r = 0; r < c->n_routes; r++) {
        const struct config_route *rt = &c->routes[r];
        CHECK(rt->name != NULL && rt->name[0] != '\0' && rt->line >= 1);
        for (size_t o = 0; o < r; o++)
            CHECK(strcmp(c->routes[o].name, rt->name) != 0);
        CHECK(config_find_route(c, rt->name) == rt);
        CHECK(rt->n_mirrors >= 1 && rt->n_mirrors <= CONFIG_MAX_MIRRORS_PER_ROUTE);
        for (size_t i = 0; i < rt->n_hosts; i++)
            CHECK(!has_upper_or_lower(rt->hosts[i], true));
        for (size_t i = 0; i < rt->n_methods; i++)
            CHECK(config_is_token(rt->methods[i]) && !has_upper_or_lower(rt->methods[i], false));
        CHECK(rt->path_prefix == NULL || rt->path_prefix[0] == '/');
        for (size_t i = 0; i < rt->n_mirrors; i++)
            check_mirror(&rt->mirrors[i]);
    }
}

struct result {
    bool ok;
    struct config c;
    struct config_errors errs;
};

static void load(struct result *r, const char *text, size_t len)
{
    memset(r, 0, sizeof(*r));
    config_defaults(&r->c);
    r->ok = config_load_string(&r->c, text, len, NAME, &r->errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan sees any read past the text. */
    char *text = malloc(size > 0 ? size : 1);
    CHECK(text != NULL);
    if (size > 0)
        memcpy(text, data, size);

    struct result first, again;
    load(&first, text, size);
    CHECK(first.ok == (first.errs.count == 0));
    CHECK(first.errs.count <= MAX_MESSAGES);
    for (size_t i = 0; i < first.errs.count; i++)
        check_message(first.errs.items[i], size);
    if (first.ok)
        check_config(&first.c);

    load(&again, text, size);
    CHECK(again.ok == first.ok && again.errs.count == first.errs.count);
    for (size_t i = 0; i < first.errs.count; i++)
        CHECK(strcmp(again.errs.items[i], first.errs.items[i]) == 0);
    CHECK(again.c.n_routes == first.c.n_routes);

    config_free(&first.c);
    config_errors_free(&first.errs);
    CHECK(first.errs.count == 0 && first.errs.items == NULL);
    config_free(&again.c);
    config_errors_free(&again.errs);
    free(text);
    return 0;
}
