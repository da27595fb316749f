/* See replay_request.h. */
#include <stdbool.h>
#include <string.h>

#include "core/header_policy.h"
#include "http/http_emit.h"
#include "http/http_syntax.h"
#include "replay/replay_request.h"

/* True when a Connection header of <r> lists <name> among its tokens. */
static bool named_by_connection(const struct capture_record *r, struct spop_bytes name)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        const struct capture_header *h = &r->headers[i];
        if (!http_ieq(h->name.ptr, h->name.len, "connection"))
            continue;
        if (http_token_list_has(h->value.ptr, h->value.len, name.ptr, name.len))
            return true;
    }
    return false;
}

/* As for a mirrored copy (request_shape.h): no hop-by-hop header but
 * "te: trailers", which gRPC needs. */
static bool forwarded(const struct capture_record *r, const struct capture_header *h)
{
    if (header_is_te_trailers(h->name.ptr, h->name.len, h->value.ptr, h->value.len))
        return true;
    if (http_is_hop_by_hop(h->name.ptr, h->name.len))
        return false;
    if (spop_bytes_eq(h->value, CAPTURE_REDACTED))
        return false;
    return !named_by_connection(r, h->name);
}

static struct spop_bytes host_value(const struct replay_shape *s, const struct capture_record *r)
{
    switch (s->authority) {
    case REPLAY_AUTH_KEEP:
        return r->authority;
    case REPLAY_AUTH_FIXED:
        return (struct spop_bytes){(const uint8_t *)s->fixed_authority, strlen(s->fixed_authority)};
    case REPLAY_AUTH_SHADOW:
        break;
    }
    return r->shadow_authority;
}

static const char *check(const struct replay_shape *s, const struct capture_record *r, struct spop_bytes host)
{
    if (!http_is_token(r->method.ptr, r->method.len))
        return "method is not a token";
    /* What follows a CONNECT is tunnel data to many servers: its body could
     * reach them as a second request. Mirroring never sends one either. */
    if (http_method_is_connect(r->method.ptr, r->method.len))
        return "method is CONNECT";
    switch (http_check_target(r->path.ptr, r->path.len, s->base_path[0] == '\0')) {
    case HTTP_TARGET_NOT_ORIGIN:
        return "path does not start with '/'";
    case HTTP_TARGET_BAD_CHAR:
        return "path holds spaces or control characters";
    case HTTP_TARGET_OK:
        break;
    }
    if (!http_is_field_value(host.ptr, host.len))
        return "Host value holds CR, LF or NUL";
    for (size_t i = 0; i < r->n_headers; i++) {
        if (!http_is_token(r->headers[i].name.ptr, r->headers[i].name.len))
            return "header name is not a token";
        if (!http_is_field_value(r->headers[i].value.ptr, r->headers[i].value.len))
            return "header value holds CR, LF or NUL";
    }
    return NULL;
}

/* What emit() writes: one record as one request. */
struct replay_job {
    const struct replay_shape *s;
    const struct capture_record *r;
    struct spop_bytes host;
};

/* Writes (or counts) the whole request; check() accepted it. */
static void emit(struct http_out *o, const void *ctx)
{
    const struct replay_job *job = ctx;
    const struct capture_record *r = job->r;
    http_emit_request_line(o, r->method.ptr, r->method.len, job->s->base_path, r->path.ptr, r->path.len);
    http_emit_header(o, "Host", 4, job->host.ptr, job->host.len);
    for (size_t i = 0; i < r->n_headers; i++) {
        const struct capture_header *h = &r->headers[i];
        if (forwarded(r, h))
            http_emit_header(o, h->name.ptr, h->name.len, h->value.ptr, h->value.len);
    }
    http_emit_body(o, r->method.ptr, r->method.len, r->body.ptr, r->body.len);
}

int replay_build_request(const struct replay_shape *s, const struct capture_record *r, uint8_t **out,
                         size_t *out_len, const char **why)
{
    const struct replay_job job = {.s = s, .r = r, .host = host_value(s, r)};
    const char *bad = check(s, r, job.host);
    if (bad) {
        *why = bad;
        return -1;
    }
    /* one allocation of exactly the request's size, as the client expects to own */
    *out = http_emit_alloc(emit, &job, SIZE_MAX, out_len);
    return 0;
}
