/* libFuzzer target: shaping the copy sent to a mirror (request_shape.h, and
 * http_emit.h / http_syntax.h underneath) from arbitrary request parts and a
 * small mirror configuration, with the smuggling defences as properties.
 *
 * Input layout (a field past the end of the input is empty):
 *   <cfg> <method:L8> <path:L8> <host:L8> <base:L8> <literal:L8>
 *   <nset> nset x (<name:L8> <value:L8>) <nremove> nremove x <name:L8>
 *   <max_len:2> <hdrs:L16> <body: the rest>
 * where <x:L8> is a length byte then that many bytes (L16: two bytes, big
 * endian), nset and nremove are taken mod 5.
 * - cfg bits 0-1: authority (0 shadow, 1 keep, 2 literal <literal>, 3 shadow);
 *   bit 2: <hdrs> is used as a raw req.hdrs_bin block; otherwise it is a list
 *   of <name:L8> <value:L8> pairs turned into a well-formed block;
 *   bit 3: body_size says more than the body received (HAProxy cut it);
 *   bit 4: body_size 0 (less than received); bit 5: <max_len> is the limit
 *   (else none).
 * - base: the mirror's base path; as the URL parser gives it, "" or "/" then
 *   the bytes, without a trailing '/'.
 * Configured strings are C strings: they stop at a NUL byte, as in the model.
 *
 * Every property is asserted with abort(); on every request the shaper
 * accepts:
 * - the bytes parse, with libhttp-parser, as exactly one HTTP/1.1 request
 *   with nothing left over; its URL (base + path), headers and body are the
 *   ones written. For that parse only, in the parser's copy: a method
 *   libhttp-parser does not know becomes GET (the shaper takes any token),
 *   control bytes in header values other than CR, LF and NUL become '?' (the
 *   shaper forwards them; libhttp-parser refuses them), and a header name
 *   that only starts with "transfer-encoding" starts with 'X' (libhttp-parser
 *   2.9 takes it for Transfer-Encoding);
 * - the request line is "<method> <base><path> HTTP/1.1" and holds no CR or
 *   LF; every header line is "<token>: <value>" with no CR, LF or NUL in the
 *   value, and CR appears only in CRLF line ends;
 * - no hop-by-hop header (connection, keep-alive, trailer,
 *   transfer-encoding, upgrade, proxy-*), no expect, TE only as
 *   "te: trailers" (unless removed); apart from the
 *   headers.set names, no header named by an original Connection header and
 *   no removed header; exactly one
 *   Host (the authority shape_authority() gives), at most one Content-Length,
 *   exactly one equal to the body length when a body is sent or the method is
 *   POST, PUT or PATCH; libhttp-parser saw the same headers;
 * - the output fits the limit, and the same call gives the same bytes;
 * - the HTTP/2 client's reading of it (h2_request_parse()) accepts it, with
 *   the method, the target (base + path) and the body written.
 * On a refusal nothing is written; BODY_TRUNCATED exactly when
 * shape_body_cut() holds (always when body_size is more than the body, and
 * for a gRPC body cut inside a message); TOO_LARGE only with a limit the
 * unlimited output exceeds. */
#include <http_parser.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_syntax.h"
#include "mirror/h2_request.h"
#include "mirror/mirror_args.h"
#include "mirror/request_shape.h"
#include "spop/spop_data.h"
#include "spop/spop_proto.h"
#include "fuzz_check.h"

#define MAX_SET    4
#define MAX_REMOVE 4
#define MAX_HDRS   512 /* lines in a request: hdrs is at most 64 KiB of 2-byte pairs */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- reading the input ---- */

struct reader {
    const uint8_t *p;
    size_t len, off;
};

static size_t take_len(struct reader *r, size_t nbytes)
{
    size_t v = 0;
    for (size_t i = 0; i < nbytes; i++)
        v = v << 8 | (r->off < r->len ? r->p[r->off++] : 0);
    return v;
}

/* The next field of <nbytes>-byte length, clipped to the input. */
static struct spop_bytes take(struct reader *r, size_t nbytes)
{
    size_t n = take_len(r, nbytes);
    if (n > r->len - r->off)
        n = r->len - r->off;
    struct spop_bytes b = {r->p + r->off, n};
    r->off += n;
    return b;
}

/* A heap C string of <b>, cut at its first NUL. */
static char *cstr(struct spop_bytes b)
{
    const uint8_t *nul = b.len > 0 ? memchr(b.ptr, '\0', b.len) : NULL;
    size_t n = nul != NULL ? (size_t)(nul - b.ptr) : b.len;
    char *s = malloc(n + 1);
    CHECK(s != NULL);
    if (n > 0)
        memcpy(s, b.ptr, n);
    s[n] = '\0';
    return s;
}

/* A heap copy of exactly <b.len> bytes, so that ASan sees a read past it. */
static struct spop_bytes own(struct spop_bytes b)
{
    uint8_t *p = malloc(b.len > 0 ? b.len : 1);
    CHECK(p != NULL);
    if (b.len > 0)
        memcpy(p, b.ptr, b.len);
    return (struct spop_bytes){p, b.len};
}

/* A req.hdrs_bin block from <name:L8> <value:L8> pairs, ended by the marker. */
static struct spop_bytes hdrs_block(struct spop_bytes list)
{
    size_t cap = list.len * 2 + 8;
    uint8_t *buf = malloc(cap);
    CHECK(buf != NULL);
    struct spop_writer w;
    spop_writer_init(&w, buf, cap);
    struct reader r = {list.ptr, list.len, 0};
    while (r.off < r.len) {
        struct spop_bytes n = take(&r, 1), v = take(&r, 1);
        spop_put_name(&w, (const char *)n.ptr, n.len);
        spop_put_name(&w, (const char *)v.ptr, v.len);
    }
    spop_put_name(&w, "", 0);
    spop_put_name(&w, "", 0);
    CHECK(!w.failed);
    struct spop_bytes out = own((struct spop_bytes){buf, w.len});
    free(buf);
    return out;
}

/* ---- parsing the output back ---- */

struct span {
    const uint8_t *p;
    size_t n;
};

struct parsed {
    const uint8_t *base; /* the parsed copy, to locate spans */
    size_t url_len;
    struct span url;
    struct span names[MAX_HDRS], values[MAX_HDRS];
    size_t n_headers;
    bool in_value;
    size_t body_len;
    struct span body;
    int messages, headers_complete;
};

/* libhttp-parser hands contiguous pieces of one buffer: a span grows. */
static void grow(struct span *s, const char *at, size_t len)
{
    if (s->p == NULL)
        s->p = (const uint8_t *)at;
    CHECK(s->p + s->n == (const uint8_t *)at);
    s->n += len;
}

static int cb_url(http_parser *hp, const char *at, size_t len)
{
    struct parsed *ps = hp->data;
    grow(&ps->url, at, len);
    return 0;
}

static int cb_field(http_parser *hp, const char *at, size_t len)
{
    struct parsed *ps = hp->data;
    if (ps->in_value || ps->n_headers == 0) {
        CHECK(ps->n_headers < MAX_HDRS);
        ps->n_headers++;
        ps->in_value = false;
    }
    grow(&ps->names[ps->n_headers - 1], at, len);
    return 0;
}

static int cb_value(http_parser *hp, const char *at, size_t len)
{
    struct parsed *ps = hp->data;
    CHECK(ps->n_headers > 0);
    ps->in_value = true;
    grow(&ps->values[ps->n_headers - 1], at, len);
    return 0;
}

static int cb_headers_complete(http_parser *hp)
{
    struct parsed *ps = hp->data;
    ps->headers_complete++;
    return 0;
}

static int cb_body(http_parser *hp, const char *at, size_t len)
{
    struct parsed *ps = hp->data;
    grow(&ps->body, at, len);
    return 0;
}

static int cb_message_complete(http_parser *hp)
{
    struct parsed *ps = hp->data;
    ps->messages++;
    return 0;
}

static const http_parser_settings settings = {
    .on_url = cb_url,
    .on_header_field = cb_field,
    .on_header_value = cb_value,
    .on_headers_complete = cb_headers_complete,
    .on_body = cb_body,
    .on_message_complete = cb_message_complete,
};

/* The libhttp-parser method numbered like <method>, or -1 when it knows none. */
static int known_method(struct spop_bytes method)
{
    for (int i = 0; i < 64; i++) {
        const char *s = http_method_str((enum http_method)i);
        if (strcmp(s, "<unknown>") == 0)
            break;
        if (strlen(s) == method.len && memcmp(s, method.ptr, method.len) == 0)
            return i;
    }
    return -1;
}

static bool bytes_has(const uint8_t *p, size_t n, uint8_t c)
{
    return n > 0 && memchr(p, c, n) != NULL;
}

static bool span_ieq(struct span s, const char *name)
{
    return http_ieq(s.p, s.n, name);
}

/* ---- the properties of one accepted request ---- */

struct job {
    const struct config_mirror *m;
    const struct mirror_args *a;
    const char *base;
};

/* True when a Connection header of the (well-formed) block names <name>. */
static bool connection_names(struct spop_bytes hdrs, const uint8_t *name, size_t len)
{
    size_t off = 0;
    struct spop_bytes n, v;
    int r;
    while (hdrs.len > 0 && (r = hdrs_bin_next(hdrs.ptr + off, hdrs.len - off, &n, &v)) > 0) {
        off += (size_t)r;
        if (http_ieq(n.ptr, n.len, "connection") && http_token_list_has(v.ptr, v.len, name, len))
            return true;
    }
    return false;
}

/* Walks the header section by hand: each line "<token>: <value>" up to the
 * blank line. Returns the offset of the body. */
static size_t check_lines(const struct job *j, const uint8_t *out, size_t len, size_t line_end,
                          size_t *n_lines)
{
    const struct config_mirror *m = j->m;
    const struct mirror_args *a = j->a;
    size_t off = line_end, hosts = 0, lengths = 0;
    *n_lines = 0;
    for (;;) {
        CHECK(off + 2 <= len);
        const uint8_t *line = out + off;
        const uint8_t *lf = memchr(line, '\n', len - off);
        CHECK(lf != NULL && lf > line && lf[-1] == '\r');
        size_t n = (size_t)(lf - line) - 1; /* without CRLF */
        CHECK(!bytes_has(line, n, '\r'));
        off += n + 2;
        if (n == 0)
            break;
        (*n_lines)++;
        const uint8_t *colon = memchr(line, ':', n);
        CHECK(colon != NULL);
        size_t nlen = (size_t)(colon - line);
        CHECK(http_is_token(line, nlen));
        CHECK(nlen + 2 <= n && colon[1] == ' ');
        const uint8_t *value = colon + 2;
        size_t vlen = n - nlen - 2;
        CHECK(http_is_field_value(value, vlen));
        static const char *const banned[] = {"connection",        "keep-alive", "trailer",
                                             "transfer-encoding", "upgrade",    "expect"};
        for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
            CHECK(!http_ieq(line, nlen, banned[i]));
        CHECK(!(nlen >= 6 && http_ieq(line, 6, "proxy-")));
        /* TE only as "te: trailers", kept even when Connection names it. */
        if (http_ieq(line, nlen, "te")) {
            CHECK(vlen == 8 && memcmp(value, "trailers", 8) == 0);
            for (size_t i = 0; i < m->n_headers_remove; i++)
                CHECK(!http_ieq(line, nlen, m->headers_remove[i]));
            continue;
        }
        if (http_ieq(line, nlen, "host")) {
            hosts++;
            char want[4096];
            int wl = shape_authority(m, a->host, want, sizeof(want));
            CHECK(wl >= 0 && (size_t)wl == vlen && memcmp(want, value, vlen) == 0);
            continue;
        }
        if (http_ieq(line, nlen, "content-length")) {
            lengths++;
            char want[32];
            int wl = snprintf(want, sizeof(want), "%zu", a->body.len);
            CHECK((size_t)wl == vlen && memcmp(want, value, vlen) == 0);
            continue;
        }
        /* A configured header is the agent's own: the original Connection
         * header and headers.remove speak of the original ones only. */
        bool set = false;
        for (size_t i = 0; i < m->n_headers_set; i++)
            set = set || http_ieq(line, nlen, m->headers_set[i].name);
        if (set)
            continue;
        CHECK(!connection_names(a->hdrs, line, nlen));
        for (size_t i = 0; i < m->n_headers_remove; i++)
            CHECK(!http_ieq(line, nlen, m->headers_remove[i]));
    }
    CHECK(hosts == 1);
    bool framed = a->body.len > 0 || http_method_has_body(a->method.ptr, a->method.len);
    CHECK(lengths == (framed ? 1u : 0u));
    return off;
}

static void check_output(const struct job *j, const uint8_t *out, size_t len)
{
    const struct mirror_args *a = j->a;
    size_t blen = strlen(j->base);

    /* The request line, exactly. */
    size_t line_len = a->method.len + 1 + blen + a->path.len + 11;
    CHECK(len >= line_len);
    CHECK(memcmp(out, a->method.ptr, a->method.len) == 0 && out[a->method.len] == ' ');
    CHECK(memcmp(out + a->method.len + 1, j->base, blen) == 0);
    CHECK(memcmp(out + a->method.len + 1 + blen, a->path.ptr, a->path.len) == 0);
    CHECK(memcmp(out + line_len - 11, " HTTP/1.1\r\n", 11) == 0);
    CHECK(!bytes_has(out, line_len - 2, '\r') && !bytes_has(out, line_len - 2, '\n'));

    size_t n_lines;
    size_t body_off = check_lines(j, out, len, line_len, &n_lines);
    CHECK(len - body_off == a->body.len);
    CHECK(a->body.len == 0 || memcmp(out + body_off, a->body.ptr, a->body.len) == 0);

    /* libhttp-parser reads one whole request out of it, with nothing left.
     * The shaper forwards control characters other than CR, LF and NUL in
     * header values (RFC 9110 5.5 lets a recipient keep them), which
     * libhttp-parser refuses: in its copy they become '?'. They cannot end a
     * line; check_lines() showed CR and LF only in line ends and names are
     * tokens, so every other control byte of the header section is in a value. */
    bool known = known_method(a->method) >= 0;
    size_t plen = known ? len : len - a->method.len + 3;
    uint8_t *copy = malloc(plen);
    CHECK(copy != NULL);
    if (known) {
        memcpy(copy, out, len);
    } else {
        /* "GET" in place of a method libhttp-parser does not know. */
        memcpy(copy, "GET", 3);
        memcpy(copy + 3, out + a->method.len, len - a->method.len);
    }
    /* libhttp-parser 2.9 sets its Transfer-Encoding flag as soon as a header
     * name starts with "transfer-encoding" and keeps it when the name goes
     * on ("transfer-encodingx" is another header), then refuses the request
     * for a Transfer-Encoding without chunked: such a name starts with 'X'
     * in its copy. */
    size_t tel = strlen("transfer-encoding");
    for (size_t i = line_len; i + tel < body_off; i++) {
        size_t at = known ? i : i + 3 - a->method.len;
        if (copy[at - 1] == '\n' && http_ieq(copy + at, tel, "transfer-encoding") && copy[at + tel] != ':')
            copy[at] = 'X';
    }
    for (size_t i = line_len; i < body_off; i++) {
        size_t at = known ? i : i + 3 - a->method.len;
        if ((copy[at] < 0x20 && copy[at] != '\t' && copy[at] != '\r' && copy[at] != '\n') || copy[at] == 0x7f)
            copy[at] = '?';
    }
    const uint8_t *start = copy;

    struct parsed *ps = calloc(1, sizeof(*ps));
    CHECK(ps != NULL);
    http_parser hp;
    http_parser_init(&hp, HTTP_REQUEST);
    hp.data = ps;
    size_t used = http_parser_execute(&hp, &settings, (const char *)start, plen);
    if (HTTP_PARSER_ERRNO(&hp) != HPE_OK || used != plen)
        fprintf(stderr, "http_parser: %s after %zu of %zu bytes\n", http_errno_name(HTTP_PARSER_ERRNO(&hp)),
                used, plen);
    CHECK(HTTP_PARSER_ERRNO(&hp) == HPE_OK);
    CHECK(used == plen);
    CHECK(ps->messages == 1 && ps->headers_complete == 1);
    CHECK(!hp.upgrade);
    CHECK(ps->url.n == blen + a->path.len);
    CHECK(memcmp(ps->url.p, j->base, blen) == 0);
    CHECK(memcmp(ps->url.p + blen, a->path.ptr, a->path.len) == 0);
    CHECK(ps->n_headers == n_lines);
    CHECK(ps->body.n == a->body.len);
    CHECK(a->body.len == 0 || memcmp(ps->body.p, a->body.ptr, a->body.len) == 0);
    CHECK(hp.http_major == 1 && hp.http_minor == 1);
    size_t hosts = 0;
    for (size_t i = 0; i < ps->n_headers; i++)
        hosts += span_ieq(ps->names[i], "host");
    CHECK(hosts == 1);
    /* Nothing after the request: a second one would have started. */
    CHECK(ps->messages == 1);
    free(ps);
    free(copy);
}

static bool field_is(const uint8_t *p, size_t n, const uint8_t *want, size_t want_len)
{
    return n == want_len && (n == 0 || memcmp(p, want, n) == 0);
}

/* What the HTTP/2 client reads of an accepted copy (h2_request.h): it
 * parses, with the method, the target and the body that were written. Reads
 * (and lowercases header names in) <out>. */
static void check_h2_fields(const struct job *j, uint8_t *out, size_t len)
{
    struct h2_request r;
    CHECK(h2_request_parse(out, len, false, &r));
    CHECK(r.n >= 4);
    CHECK(field_is(r.fields[0].value, r.fields[0].value_len, j->a->method.ptr, j->a->method.len));
    size_t blen = strlen(j->base);
    CHECK(r.fields[3].value_len == blen + j->a->path.len);
    CHECK(blen == 0 || memcmp(r.fields[3].value, j->base, blen) == 0);
    CHECK(field_is(r.fields[3].value + blen, j->a->path.len, j->a->path.ptr, j->a->path.len));
    CHECK(field_is(r.body, r.body_len, j->a->body.ptr, j->a->body.len));
    h2_request_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        http_parser_set_max_header_size(UINT32_MAX);
        init = true;
    }
    struct reader r = {data, size, 0};
    uint8_t cfg = (uint8_t)take_len(&r, 1);
    struct spop_bytes method = own(take(&r, 1)), path = own(take(&r, 1)), host = own(take(&r, 1));
    char *base_raw = cstr(take(&r, 1));
    char *literal = cstr(take(&r, 1));

    struct config_header_set set[MAX_SET];
    size_t nset = take_len(&r, 1) % (MAX_SET + 1);
    for (size_t i = 0; i < nset; i++) {
        set[i].name = cstr(take(&r, 1));
        set[i].value = cstr(take(&r, 1));
    }
    char *remove[MAX_REMOVE];
    size_t nremove = take_len(&r, 1) % (MAX_REMOVE + 1);
    for (size_t i = 0; i < nremove; i++)
        remove[i] = cstr(take(&r, 1));
    size_t max_len = take_len(&r, 2);
    struct spop_bytes hdrs_field = take(&r, 2);
    struct spop_bytes hdrs = (cfg & 4) ? own(hdrs_field) : hdrs_block(hdrs_field);
    struct spop_bytes body = own((struct spop_bytes){r.p + r.off, r.len - r.off});

    /* The base path as the URL parser makes it. */
    size_t braw = strlen(base_raw);
    while (braw > 0 && base_raw[braw - 1] == '/')
        braw--;
    char *base = malloc(braw + 2);
    CHECK(base != NULL);
    base[0] = '\0';
    if (braw > 0) {
        base[0] = '/';
        memcpy(base + 1, base_raw, braw);
        base[braw + 1] = '\0';
    }

    struct config_mirror m;
    config_mirror_defaults(&m);
    m.url = "http://mirror:8080";
    m.scheme = "http";
    m.host = "mirror";
    m.port = 8080;
    m.base_path = base;
    static const enum authority_mode modes[] = {AUTHORITY_SHADOW, AUTHORITY_KEEP, AUTHORITY_LITERAL,
                                                AUTHORITY_SHADOW};
    m.authority = modes[cfg & 3];
    m.authority_literal = m.authority == AUTHORITY_LITERAL ? literal : NULL;
    m.headers_set = nset > 0 ? set : NULL;
    m.n_headers_set = nset;
    m.headers_remove = nremove > 0 ? remove : NULL;
    m.n_headers_remove = nremove;

    struct mirror_args a;
    memset(&a, 0, sizeof(a));
    a.method = method;
    a.path = path;
    a.host = host;
    a.ver = (struct spop_bytes){(const uint8_t *)"1.1", 3};
    a.hdrs = hdrs;
    a.body = body;
    a.body_size = body.len;
    if (cfg & 8)
        a.body_size = body.len + 1 + (cfg >> 6);
    else if (cfg & 16)
        a.body_size = 0;
    a.src.type = SPOP_DATA_T_NULL;
    size_t limit = (cfg & 32) ? max_len : SIZE_MAX;

    uint8_t sentinel = 0;
    uint8_t *out = &sentinel;
    size_t out_len = 12345;
    enum shape_status st = shape_request(&m, &a, limit, &out, &out_len);
    CHECK((st == SHAPE_BODY_TRUNCATED) == shape_body_cut(&a));
    CHECK(a.body_size <= a.body.len || shape_body_cut(&a));
    if (st != SHAPE_OK) {
        CHECK(out == &sentinel && out_len == 12345);
        if (st == SHAPE_TOO_LARGE) {
            CHECK(limit != SIZE_MAX);
            uint8_t *all = NULL;
            size_t all_len = 0;
            CHECK(shape_request(&m, &a, SIZE_MAX, &all, &all_len) == SHAPE_OK);
            CHECK(all_len > limit);
            free(all);
        }
    } else {
        CHECK(out != &sentinel && out_len <= limit);
        uint8_t *again = NULL;
        size_t again_len = 0;
        CHECK(shape_request(&m, &a, SIZE_MAX, &again, &again_len) == SHAPE_OK);
        CHECK(again_len == out_len && memcmp(again, out, out_len) == 0);
        free(again);
        const struct job j = {.m = &m, .a = &a, .base = base};
        check_output(&j, out, out_len);
        check_h2_fields(&j, out, out_len);
        free(out);
    }

    for (size_t i = 0; i < nset; i++) {
        free(set[i].name);
        free(set[i].value);
    }
    for (size_t i = 0; i < nremove; i++)
        free(remove[i]);
    free(base);
    free(base_raw);
    free(literal);
    free((void *)method.ptr);
    free((void *)path.ptr);
    free((void *)host.ptr);
    free((void *)hdrs.ptr);
    free((void *)body.ptr);
    return 0;
}
