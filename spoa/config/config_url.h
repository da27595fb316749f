/* Syntax checks for the network names in the configuration: mirror URLs
 * ("http[s]://host[:port][/base]"), "host[:port]" authorities and listen
 * addresses (IPv6 literals in brackets), host names and URL paths. */
#ifndef SPOA_CONFIG_URL_H
#define SPOA_CONFIG_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A parsed mirror URL; every string is heap-owned (config_url_free). */
struct config_url {
    char *scheme;    /* "http" or "https" */
    char *host;      /* lowercase; an IPv6 literal without its brackets */
    uint16_t port;   /* 80 (http) or 443 (https) when absent */
    char *base_path; /* "" or "/a/b": never ends in '/' */
};

/* config_url_parse: parses <url> as "http[s]://host[:port][/path]". The scheme is
 * case-insensitive; user info, a query, a fragment, an empty host, a port
 * outside 1..65535 and any other scheme are refused. On success fills *out
 * and returns true; otherwise writes a message (without the URL) to <err>
 * (size <errlen>) and returns false, *out untouched. */
bool config_url_parse(const char *url, struct config_url *out, char *err, size_t errlen);

/* config_url_free: releases the strings of *u and clears it. */
void config_url_free(struct config_url *u);

/* Flags of config_hostport_parse. */
#define CONFIG_HP_PORT_REQUIRED 0x1 /* "host" alone is refused */
#define CONFIG_HP_PORT_ZERO     0x2 /* port 0 is accepted (listen on any free port) */

/* config_hostport_parse: checks "host", "host:port", "[v6]" or "[v6]:port".
 * On success returns true and, when <host> is not NULL, stores a lowercase
 * heap copy of the host (without brackets) there; *port (when not NULL)
 * receives the port, or 0 when absent. On failure writes a message to <err>. */
bool config_hostport_parse(const char *s, unsigned flags, char **host, uint16_t *port, char *err,
                           size_t errlen);

/* config_host_valid: true when the <len> bytes at <s> form a DNS name (labels
 * of letters, digits, '-' and '_', 1..63 bytes each, 253 in all, an optional
 * final dot) or a dotted-quad IPv4 address. Brackets are not accepted here. */
bool config_host_valid(const char *s, size_t len);

/* config_path_valid: true when <s> starts with '/' and holds only URL path
 * characters (RFC 3986 pchar and '/', with valid %XX escapes): no spaces,
 * controls, '?' or '#'. */
bool config_path_valid(const char *s);

#endif
