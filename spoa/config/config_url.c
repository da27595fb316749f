#include "config/config_url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_value.h"
#include "core/xalloc.h"

static bool is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_hex(char ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

bool config_host_valid(const char *s, size_t len)
{
    if (len > 0 && s[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return false;
    bool numeric = true;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!is_alpha(ch) && !is_digit(ch) && ch != '-' && ch != '_')
            return false;
        if (!is_digit(ch))
            numeric = false;
        if (++label > 63)
            return false;
    }
    if (label == 0)
        return false;
    if (numeric) {
        /* Only digits and dots: it must be an IPv4 address, not a DNS name. */
        char buf[16];
        struct in_addr a;
        if (len >= sizeof(buf))
            return false;
        memcpy(buf, s, len);
        buf[len] = '\0';
        return inet_pton(AF_INET, buf, &a) == 1;
    }
    return true;
}

static bool ipv6_valid(const char *s, size_t len)
{
    char buf[64];
    struct in6_addr a;
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, &a) == 1;
}

/* Parses the decimal port of <len> bytes at <s> into *out. */
static bool port_parse(const char *s, size_t len, bool zero_ok, uint16_t *out)
{
    if (len == 0 || len > 5)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v > 65535 || (v == 0 && !zero_ok))
        return false;
    *out = (uint16_t)v;
    return true;
}

/* config_quote() of the <n> bytes at <s>: a URL piece in a message, its
 * control bytes escaped so that a message stays one line. */
static const char *quote_piece(char *dst, size_t cap, const char *s, size_t n)
{
    char piece[64]; /* more than config_quote() shows, so that it marks a cut */
    if (n >= sizeof(piece))
        n = sizeof(piece) - 1;
    memcpy(piece, s, n);
    piece[n] = '\0';
    return config_quote(dst, cap, piece);
}

/* Splits and checks the authority of <len> bytes at <s>. On success stores
 * where the host starts and its length (brackets excluded) and the port. */
static bool authority_split(const char *s, size_t len, unsigned flags, const char **hs, size_t *hlen,
                            uint16_t *port, char *err, size_t errlen)
{
    char q[128];
    const char *colon;
    *port = 0;
    if (len == 0) {
        snprintf(err, errlen, "empty host");
        return false;
    }
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close) {
            snprintf(err, errlen, "unterminated IPv6 literal (missing ']')");
            return false;
        }
        *hs = s + 1;
        *hlen = (size_t)(close - s) - 1;
        if (!ipv6_valid(*hs, *hlen)) {
            snprintf(err, errlen, "bad IPv6 address %s", quote_piece(q, sizeof(q), *hs, *hlen));
            return false;
        }
        size_t rest = len - (size_t)(close + 1 - s);
        if (rest == 0) {
            colon = NULL;
        } else if (close[1] == ':') {
            colon = close + 1;
        } else {
            snprintf(err, errlen, "unexpected text after the IPv6 literal");
            return false;
        }
    } else {
        colon = memchr(s, ':', len);
        if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
            snprintf(err, errlen, "IPv6 addresses must be written in brackets, e.g. [::1]:8080");
            return false;
        }
        *hs = s;
        *hlen = colon ? (size_t)(colon - s) : len;
        if (*hlen == 0) {
            snprintf(err, errlen, "empty host");
            return false;
        }
        if (!config_host_valid(*hs, *hlen)) {
            snprintf(err, errlen, "bad host name %s", quote_piece(q, sizeof(q), *hs, *hlen));
            return false;
        }
    }
    if (colon) {
        const char *ps = colon + 1;
        size_t plen = len - (size_t)(ps - s);
        if (!port_parse(ps, plen, (flags & CONFIG_HP_PORT_ZERO) != 0, port)) {
            snprintf(err, errlen, "bad port %s: must be a number from %d to 65535",
                     quote_piece(q, sizeof(q), ps, plen), (flags & CONFIG_HP_PORT_ZERO) ? 0 : 1);
            return false;
        }
    } else if (flags & CONFIG_HP_PORT_REQUIRED) {
        snprintf(err, errlen, "a port is required");
        return false;
    }
    return true;
}

bool config_hostport_parse(const char *s, unsigned flags, char **host, uint16_t *port, char *err,
                           size_t errlen)
{
    const char *hs = NULL;
    size_t hlen = 0;
    uint16_t p = 0;
    if (!authority_split(s, strlen(s), flags, &hs, &hlen, &p, err, errlen))
        return false;
    if (host) {
        char *h = xmalloc(hlen + 1);
        memcpy(h, hs, hlen);
        h[hlen] = '\0';
        *host = config_lower(h);
    }
    if (port)
        *port = p;
    return true;
}

static bool is_pchar(char ch)
{
    return is_alpha(ch) || is_digit(ch) || (ch != '\0' && strchr("-._~!$&'()*+,;=:@/", ch) != NULL);
}

bool config_path_valid(const char *s)
{
    if (s[0] != '/')
        return false;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '%') {
            if (!is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                return false;
            i += 2;
        } else if (!is_pchar(s[i])) {
            return false;
        }
    }
    return true;
}

bool config_url_parse(const char *url, struct config_url *out, char *err, size_t errlen)
{
    const char *sep = strstr(url, "://");
    if (!sep) {
        snprintf(err, errlen, "must be an absolute http:// or https:// URL (http://host[:port][/path])");
        return false;
    }
    size_t slen = (size_t)(sep - url);
    bool tls = slen == 5 && strncasecmp(url, "https", 5) == 0;
    if (!tls && (slen != 4 || strncasecmp(url, "http", 4) != 0)) {
        snprintf(err, errlen, "only http:// and https:// mirrors are supported");
        return false;
    }
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *path = auth + alen;
    if (strpbrk(auth, "?#")) {
        snprintf(err, errlen, "must not have a query or a fragment");
        return false;
    }
    if (memchr(auth, '@', alen)) {
        snprintf(err, errlen, "user info (user@host) is not supported");
        return false;
    }
    const char *hs = NULL;
    size_t hlen = 0;
    uint16_t port = 0;
    if (!authority_split(auth, alen, 0, &hs, &hlen, &port, err, errlen))
        return false;
    size_t plen = strlen(path);
    if (plen > 0 && !config_path_valid(path)) {
        snprintf(err, errlen,
                 "bad character in the path (spaces, controls and bad %%XX escapes are refused)");
        return false;
    }
    while (plen > 0 && path[plen - 1] == '/')
        plen--;

    out->scheme = xstrdup(tls ? "https" : "http");
    char *h = xmalloc(hlen + 1);
    memcpy(h, hs, hlen);
    h[hlen] = '\0';
    out->host = config_lower(h);
    out->port = port ? port : (tls ? 443 : 80);
    out->base_path = xmalloc(plen + 1);
    memcpy(out->base_path, path, plen);
    out->base_path[plen] = '\0';
    return true;
}

void config_url_free(struct config_url *u)
{
    free(u->scheme);
    free(u->host);
    free(u->base_path);
    memset(u, 0, sizeof(*u));
}
