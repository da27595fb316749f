#include "mirror/h2_request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xalloc.h"

#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

/* True when the <n> bytes at <p> equal the lowercase literal <lit>, ignoring case. */
static bool ieq(const uint8_t *p, size_t n, const char *lit)
{
    return n == strlen(lit) && strncasecmp((const char *)p, lit, n) == 0;
}

/* HTTP/2 forbids these connection-specific fields (RFC 9113 section 8.2.2);
 * host becomes :authority. */
static bool connection_specific(const uint8_t *name, size_t n)
{
    static const char *const names[] = {
        "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (ieq(name, n, names[i]))
            return true;
    return false;
}

static void push(struct h2_request *r, const uint8_t *name, size_t name_len, const uint8_t *value,
                 size_t value_len)
{
    r->fields[r->n++] = (struct h2_field){name, name_len, value, value_len};
}

/* Parses "<METHOD> <target> HTTP/1.1" (<len> bytes, CRLF excluded). */
static bool request_line(const uint8_t *p, size_t len, struct h2_field *method, struct h2_field *path)
{
    static const char version[] = " HTTP/1.1";
    const size_t vlen = sizeof(version) - 1;
    const uint8_t *sp = memchr(p, ' ', len);
    if (!sp || sp == p || len < vlen || memcmp(p + len - vlen, version, vlen) != 0)
        return false;
    const uint8_t *target = sp + 1;
    const uint8_t *end = p + len - vlen;
    if (target >= end)
        return false;
    *method = (struct h2_field){LIT(":method"), p, (size_t)(sp - p)};
    *path = (struct h2_field){LIT(":path"), target, (size_t)(end - target)};
    return true;
}

/* Trims spaces and tabs around the <*n> bytes at <*p>. */
static void trim(const uint8_t **p, size_t *n)
{
    while (*n > 0 && ((*p)[0] == ' ' || (*p)[0] == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

/* The first CRLF in the <n> bytes at <p>, or NULL. */
static const uint8_t *find_crlf(const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    while (p < end && (p = memchr(p, '\r', (size_t)(end - p))) != NULL) {
        if (p + 1 < end && p[1] == '\n')
            return p;
        p++;
    }
    return NULL;
}

bool h2_request_parse(uint8_t *msg, size_t len, bool https, struct h2_request *out)
{
    /* One pass over the head's lines, to the empty line that ends it. */
    const uint8_t *msg_end = msg + len, *pos = msg, *eol, *first_eol = NULL;
    size_t lines = 0;
    while ((eol = find_crlf(pos, (size_t)(msg_end - pos))) != NULL && eol != pos) {
        if (lines++ == 0)
            first_eol = eol;
        pos = eol + 2;
    }
    if (eol == NULL || lines == 0)
        return false;
    const uint8_t *head_end = pos - 2;     /* the last header line's CRLF, then the empty line's */
    size_t head_len = (size_t)(pos - msg); /* through the last header line's CRLF */
    struct h2_field method, path, authority = {0};
    eol = first_eol;
    if (!request_line(msg, (size_t)(eol - msg), &method, &path))
        return false;
    struct h2_request *r = out;
    r->fields = lines + 5 <= H2_REQUEST_INLINE_FIELDS ? r->inline_fields
                                                      : xcalloc(lines + 5, sizeof(struct h2_field));
    r->n = 4; /* the pseudo-headers, filled at the end */
    bool has_te = false, has_host = false;
    for (uint8_t *line = (uint8_t *)eol + 2; line < msg + head_len;) {
        uint8_t *end = (uint8_t *)find_crlf(line, (size_t)(msg + head_len - line));
        uint8_t *colon = memchr(line, ':', (size_t)(end - line));
        if (!colon || colon == line) {
            h2_request_free(r);
            return false;
        }
        size_t nlen = (size_t)(colon - line);
        for (size_t i = 0; i < nlen; i++)
            if (line[i] >= 'A' && line[i] <= 'Z')
                line[i] = (uint8_t)(line[i] - 'A' + 'a');
        const uint8_t *v = colon + 1;
        size_t vlen = (size_t)(end - v);
        trim(&v, &vlen);
        if (ieq(line, nlen, "host")) {
            authority = (struct h2_field){LIT(":authority"), v, vlen};
            has_host = true;
        } else if (ieq(line, nlen, "te")) {
            if (ieq(v, vlen, "trailers") && !has_te) {
                push(r, line, nlen, v, vlen);
                has_te = true;
            }
        } else if (!connection_specific(line, nlen)) {
            push(r, line, nlen, v, vlen);
        }
        line = end + 2;
    }
    if (!has_host) {
        h2_request_free(r);
        return false;
    }
    r->fields[0] = method;
    r->fields[1] = https ? (struct h2_field){LIT(":scheme"), LIT("https")}
                         : (struct h2_field){LIT(":scheme"), LIT("http")};
    r->fields[2] = authority;
    r->fields[3] = path;
    r->body = head_end + 4;
    r->body_len = len - (size_t)(r->body - msg);
    return true;
}

void h2_request_free(struct h2_request *r)
{
    if (r->fields != r->inline_fields)
        free(r->fields);
    r->fields = NULL;
    r->n = 0;
}
