/* Unit tests for the configuration loader (config.h, config_url.h,
 * config_value.h): one table of broken YAML inputs, each with the message
 * (file, line, key path) it must produce, a round trip of a file that sets
 * every key, the defaults, percent and URL parsing, --mirror/--percent, file
 * errors, the error cap and the alias budget, and the shipped example. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "config/config_capture.h"
#include "config/config_load.h"
#include "config/config_url.h"
#include "config/config_value.h"
#include "config/config_walk.h"
#include "core/header_policy.h"

#define CONFIG_DIR "tests/config"

/* Loads <yaml> as the file "t.yaml" into a fresh config. */
static bool load(const char *yaml, struct config *c, struct config_errors *errs)
{
    config_defaults(c);
    memset(errs, 0, sizeof(*errs));
    return config_load_string(c, yaml, strlen(yaml), "t.yaml", errs);
}

/* All messages, one per line, for assertion output. */
static char *joined(const struct config_errors *errs)
{
    size_t n = 1;
    for (size_t i = 0; i < errs->count; i++)
        n += strlen(errs->items[i]) + 1;
    char *s = calloc(1, n);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < errs->count; i++) {
        strcat(s, errs->items[i]);
        strcat(s, "\n");
    }
    return s;
}

/* True when one of the messages contains <needle>. */
static bool has_error(const struct config_errors *errs, const char *needle)
{
    for (size_t i = 0; i < errs->count; i++) {
        if (strstr(errs->items[i], needle))
            return true;
    }
    return false;
}

/* A route with one valid mirror; mirror keys added after it are on line 5. */
#define R0 "routes:\n  - name: a\n    mirrors:\n      - url: http://m\n"

/* A route with one capture mirror (a directory that /tmp lets the agent
 * create); mirror keys added after it are on line 5. */
#define RF "routes:\n  - name: a\n    mirrors:\n      - url: file:///tmp/spoa-check-config/a\n"

struct bad_case {
    const char *yaml;
    const char *want; /* a substring of one message: "t.yaml:<line>: <path>: <text>" */
};

static const struct bad_case bad_cases[] = {
    /* YAML syntax, with libyaml's line */
    {"spop:\n  listen: [a\n", "t.yaml:3: (yaml): did not find expected ',' or ']'"},
    {"spop:\n  threads: 2\n listen: x\n", "t.yaml:3: (yaml): did not find expected key"},
    {"spop:\n\tthreads: 1\n", "t.yaml:2: (yaml): found character that cannot start any token"},
    {"log: {level: \"\xff\"}\n", "t.yaml:1: (yaml): invalid leading UTF-8 octet"},
    {"spop: {threads: 1}\n---\nlog: {level: info}\n", "t.yaml:3: (root): a second YAML document"},
    /* the file as a whole */
    {"", "t.yaml:1: (root): the file is empty"},
    {"# only a comment\n", "t.yaml:1: (root): the file is empty"},
    {"~\n", "t.yaml:1: (root): the file is empty"},
    {"- a\n- b\n", "t.yaml:1: (root): the file must be a mapping (key: value), got a list"},
    {"hello\n", "t.yaml:1: (root): the file must be a mapping (key: value), got \"hello\""},
    /* unknown and repeated keys, at every level */
    {"sppo: {}\n", "t.yaml:1: sppo: unknown key (expected one of: spop, admin, log, drain_timeout_ms, "
                   "resolve_interval_ms, body_parts, routes)"},
    {"body_parts: {max_entry: 1}\n", "t.yaml:1: body_parts.max_entry: unknown key"},
    {"spop:\n  thread: 2\n", "t.yaml:2: spop.thread: unknown key"},
    {"admin: {port: 1}\n", "t.yaml:1: admin.port: unknown key (expected one of: listen)"},
    {"log: {format: json}\n", "t.yaml:1: log.format: unknown key"},
    {"routes:\n  - name: a\n    mirror: []\n", "t.yaml:3: routes[0].mirror: unknown key"},
    {"routes:\n  - name: a\n    match: {host: [x]}\n", "t.yaml:3: routes[0].match.host: unknown key"},
    {R0 "        tiemout_ms: 5\n", "t.yaml:5: routes[0].mirrors[0].tiemout_ms: unknown key"},
    {R0 "        headers: {add: {}}\n", "t.yaml:5: routes[0].mirrors[0].headers.add: unknown key"},
    {"spop:\n  threads: 1\n  threads: 2\n", "t.yaml:3: spop.threads: duplicate key (first set at line 2)"},
    {"? [a]\n: b\n", "t.yaml:1: (root): keys must be plain names, got a list"},
    {"\"url\\0x\": 1\n", "t.yaml:1: (root): keys must be plain names, got a string with a NUL byte"},
    {R0 "        headers: {set: {[a]: b}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set: must be a header name, got a list"},
    {R0 "        headers: {set: {\"x-a\\0b\": c}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set: must be a header name, got a string with a NUL byte"},
    /* wrong node kinds */
    {"spop: [1, 2]\n", "t.yaml:1: spop: must be a mapping, got a list"},
    {"log: debug\n", "t.yaml:1: log: must be a mapping, got \"debug\""},
    {"routes: {name: a}\n", "t.yaml:1: routes: must be a list of routes, got a mapping"},
    {"routes:\n  - just-a-name\n", "t.yaml:2: routes[0]: must be a mapping, got \"just-a-name\""},
    {"routes:\n  - name: a\n    mirrors: http://m\n",
     "t.yaml:3: routes[0].mirrors: must be a list of mirrors"},
    {"routes:\n  - name: a\n    match: {hosts: httpbin}\n",
     "t.yaml:3: routes[0].match.hosts: must be a list of hosts, got \"httpbin\""},
    {"spop: {threads: [1]}\n", "t.yaml:1: spop.threads: must be an integer from 0 to 256, got a list"},
    {R0 "        url: {a: b}\n", "t.yaml:5: routes[0].mirrors[0].url: duplicate key (first set at line 4)"},
    {"routes:\n  - name: a\n    mirrors:\n      - url: [http://m]\n",
     "t.yaml:4: routes[0].mirrors[0].url: must be an http://, https:// or file:/// URL, got a list"},
    {R0 "        percent:\n",
     "t.yaml:5: routes[0].mirrors[0].percent: must be a number from 0 to 100, got nothing"},
    {"spop: {listen: \"a\\0b:1\"}\n",
     "t.yaml:1: spop.listen: must be an address host:port, got a string with a NUL"},
    /* percent */
    {R0 "        percent: 150\n",
     "t.yaml:5: routes[0].mirrors[0].percent: must be a number from 0 to 100, got \"150\""},
    {R0 "        percent: -1\n",
     "t.yaml:5: routes[0].mirrors[0].percent: must be a number from 0 to 100, got \"-1\""},
    {R0 "        percent: half\n",
     "routes[0].mirrors[0].percent: must be a number from 0 to 100, got \"half\""},
    {R0 "        percent: 100.0001\n",
     "t.yaml:5: routes[0].mirrors[0].percent: must be a number from 0 to 100"},
    {R0 "        percent: 1e2\n",
     "t.yaml:5: routes[0].mirrors[0].percent: must be a number from 0 to 100, got \"1e2\""},
    {R0 "        percent: 33.33333\n", "t.yaml:5: routes[0].mirrors[0].percent: must have at most 4 decimals "
                                       "(precision 0.0001), got \"33.33333\""},
    /* URLs */
    {R0 "      - url: httpbin:8000\n",
     "t.yaml:5: routes[0].mirrors[1].url: must be an absolute http:// or https:// URL"},
    {R0 "      - url: ftp://m\n",
     "t.yaml:5: routes[0].mirrors[1].url: only http:// and https:// mirrors are supported, got \"ftp://m\""},
    {R0 "      - url: httpss://m\n", "t.yaml:5: routes[0].mirrors[1].url: only http:// and https:// mirrors"},
    {R0 "      - url: http://:8000\n", "t.yaml:5: routes[0].mirrors[1].url: empty host"},
    {R0 "      - url: http:///x\n", "t.yaml:5: routes[0].mirrors[1].url: empty host"},
    {R0 "      - url: http://m:99999\n", "t.yaml:5: routes[0].mirrors[1].url: bad port \"99999\""},
    {R0 "      - url: http://m:0\n", "t.yaml:5: routes[0].mirrors[1].url: bad port \"0\""},
    {R0 "      - url: \"http://m:\"\n", "t.yaml:5: routes[0].mirrors[1].url: bad port \"\""},
    {R0 "      - url: http://m:80x\n", "t.yaml:5: routes[0].mirrors[1].url: bad port \"80x\""},
    {R0 "      - url: http://m/a?b=1\n",
     "t.yaml:5: routes[0].mirrors[1].url: must not have a query or a fragment"},
    {R0 "      - url: http://m#top\n",
     "t.yaml:5: routes[0].mirrors[1].url: must not have a query or a fragment"},
    {R0 "      - url: http://u:p@m\n",
     "t.yaml:5: routes[0].mirrors[1].url: user info (user@host) is not supported"},
    {R0 "      - url: http://m_ b\n", "t.yaml:5: routes[0].mirrors[1].url: bad host name \"m_ b\""},
    {R0 "      - url: http://999.1.1.1\n", "t.yaml:5: routes[0].mirrors[1].url: bad host name \"999.1.1.1\""},
    {R0 "      - url: http://[::g]:80\n", "t.yaml:5: routes[0].mirrors[1].url: bad IPv6 address \"::g\""},
    /* Control bytes in a URL are escaped: a message stays one log line
     * (found by fuzz_config_yaml). */
    {R0 "      - url: \"http://m\\nx\"\n", "t.yaml:5: routes[0].mirrors[1].url: bad host name \"m\\x0ax\""},
    {R0 "      - url: \"http://m:8\\r\\n0\"\n",
     "t.yaml:5: routes[0].mirrors[1].url: bad port \"8\\x0d\\x0a0\": must be a number from 1 to 65535"},
    {R0 "      - url: \"http://[::1\\x01]\"\n",
     "t.yaml:5: routes[0].mirrors[1].url: bad IPv6 address \"::1\\x01\""},
    {R0 "      - url: \"http://a\\\"b\"\n", "t.yaml:5: routes[0].mirrors[1].url: bad host name \"a\\\"b\""},
    {R0 "      - url: http://[::1:80\n", "t.yaml:5: routes[0].mirrors[1].url: unterminated IPv6 literal"},
    {R0 "      - url: http://::1:80\n",
     "t.yaml:5: routes[0].mirrors[1].url: IPv6 addresses must be written in brackets"},
    {R0 "      - url: \"http://m/a b\"\n", "t.yaml:5: routes[0].mirrors[1].url: bad character in the path"},
    {R0 "      - url: http://m/%zz\n", "t.yaml:5: routes[0].mirrors[1].url: bad character in the path"},
    /* capture mirrors: the URL, the directory, the keys */
    {R0 "      - url: file://host/x\n", "t.yaml:5: routes[0].mirrors[1].url: a file:// URL takes no host"},
    {R0 "      - url: file:relative\n",
     "t.yaml:5: routes[0].mirrors[1].url: must be file:///absolute/directory"},
    {R0 "      - url: \"file:///\"\n",
     "t.yaml:5: routes[0].mirrors[1].url: the root directory cannot be a capture directory"},
    {R0 "      - url: file:///tmp/a/../b\n",
     "t.yaml:5: routes[0].mirrors[1].url: the directory must not contain \".\" or \"..\" segments"},
    {R0 "      - url: file:///tmp/a%20b\n",
     "t.yaml:5: routes[0].mirrors[1].url: the directory must be a plain path (no %, ?, # or control"},
    {R0 "      - url: file:///etc/passwd\n",
     "t.yaml:5: routes[0].mirrors[1].url: /etc/passwd exists and is not a "
     "directory, got \"file:///etc/passwd\""},
    {R0 "      - url: file:///etc/passwd/x/y\n",
     "t.yaml:5: routes[0].mirrors[1].url: /etc/passwd/x/y cannot be created: /etc/passwd is not a directory"},
    {RF "      - url: FILE:///tmp//spoa-check-config/a/\n",
     "t.yaml:5: routes[0].mirrors[1].url: directory /tmp/spoa-check-config/a is already used by the capture "
     "mirror at line 4"},
    {RF "  - name: b\n    mirrors: [{url: \"file:///tmp/spoa-check-config/a\"}]\n",
     "t.yaml:6: routes[1].mirrors[0].url: directory /tmp/spoa-check-config/a is already used"},
    {R0 "        capture: {max_files: 3}\n",
     "t.yaml:5: routes[0].mirrors[0].capture: only capture mirrors (url file:///dir) take a capture block"},
    {RF "        percent: 5\n        timeout_ms: 100\n",
     "t.yaml:6: routes[0].mirrors[0].timeout_ms: not used by capture (file://) mirrors"},
    {RF "        connect_timeout_ms: 100\n",
     "t.yaml:5: routes[0].mirrors[0].connect_timeout_ms: not used by capture (file://) mirrors"},
    {RF "        max_inflight: 1\n", "t.yaml:5: routes[0].mirrors[0].max_inflight: not used by capture"},
    {RF "        max_response_bytes: 1\n",
     "t.yaml:5: routes[0].mirrors[0].max_response_bytes: not used by capture (file://) mirrors"},
    {RF "        max_connection_age_ms: 1\n",
     "t.yaml:5: routes[0].mirrors[0].max_connection_age_ms: not used by capture (file://) mirrors"},
    {RF "        response_read_delay_ms: 1\n",
     "t.yaml:5: routes[0].mirrors[0].response_read_delay_ms: not used by capture (file://) mirrors"},
    {RF "        request_write_delay_ms: 1\n",
     "t.yaml:5: routes[0].mirrors[0].request_write_delay_ms: not used by capture (file://) mirrors"},
    {RF "        max_queue: 1\n", "t.yaml:5: routes[0].mirrors[0].max_queue: not used by capture (file://) "
                                  "mirrors (use capture.max_queue)"},
    {RF "        headers: {remove: [x-a]}\n",
     "t.yaml:5: routes[0].mirrors[0].headers: not used by capture (file://) "
     "mirrors (records keep the original headers; use "
     "capture.redact_headers)"},
    {RF "        capture: {rotate: 1}\n",
     "t.yaml:5: routes[0].mirrors[0].capture.rotate: unknown key (expected "
     "one of: rotate_bytes, rotate_ms, max_total_bytes, max_files, max_queue, "
     "redact_headers)"},
    {RF "        capture: [1]\n", "t.yaml:5: routes[0].mirrors[0].capture: must be a mapping, got a list"},
    {RF "        capture: {rotate_bytes: 1023}\n",
     "t.yaml:5: routes[0].mirrors[0].capture.rotate_bytes: must be a "
     "number of bytes from 1024 to 1125899906842624, got \"1023\""},
    {RF "        capture: {rotate_bytes: 64MiB}\n",
     "t.yaml:5: routes[0].mirrors[0].capture.rotate_bytes: must be a number of bytes from 1024"},
    {RF "        capture: {max_total_bytes: 99999999999999999999}\n",
     "t.yaml:5: routes[0].mirrors[0].capture.max_total_bytes: must be a number of bytes from 1024"},
    {RF "        capture:\n          rotate_bytes: 4096\n          max_total_bytes: 4095\n",
     "t.yaml:6: routes[0].mirrors[0].capture.max_total_bytes: max_total_bytes (4095) must be at least "
     "rotate_bytes (4096)"},
    {RF "        capture: {rotate_bytes: 2147483648}\n",
     "t.yaml:5: routes[0].mirrors[0].capture.rotate_bytes: max_total_bytes (1073741824) must be at least "
     "rotate_bytes (2147483648)"},
    {RF "        capture: {max_files: 0}\n",
     "t.yaml:5: routes[0].mirrors[0].capture.max_files: must be an integer from 1 to 1000000, got \"0\""},
    {RF "        capture: {max_queue: 1000001}\n",
     "t.yaml:5: routes[0].mirrors[0].capture.max_queue: must be an integer from 1 to 1000000"},
    {RF "        capture: {rotate_ms: -1}\n",
     "t.yaml:5: routes[0].mirrors[0].capture.rotate_ms: must be an integer from 0 to 2147483647"},
    {RF "        capture: {redact_headers: [\"a b\"]}\n",
     "t.yaml:5: routes[0].mirrors[0].capture.redact_headers[0]: must be a header name (an HTTP token)"},
    {RF "        capture: {redact_headers: [X-A, x-a]}\n",
     "t.yaml:5: routes[0].mirrors[0].capture.redact_headers[1]: header listed twice"},
    {RF "        capture: {redact_headers: }\n",
     "t.yaml:5: routes[0].mirrors[0].capture.redact_headers: must be a "
     "list of header names, got nothing (write [] to redact no header)"},
    {RF "        capture: {redact_headers: cookie}\n",
     "t.yaml:5: routes[0].mirrors[0].capture.redact_headers: must be a list of header names, got \"cookie\""},
    /* routes */
    {"routes:\n  - name: a\n    mirrors: [{url: http://m}]\n  - name: a\n    mirrors: [{url: http://n}]\n",
     "t.yaml:4: routes[1].name: duplicate route name \"a\" (first defined at line 2)"},
    {"routes:\n  - name: a\n", "t.yaml:2: routes[0].mirrors: a route needs at least one mirror"},
    {"routes:\n  - name: a\n    mirrors: []\n",
     "t.yaml:3: routes[0].mirrors: a route needs at least one mirror"},
    {"routes:\n  - mirrors: [{url: http://m}]\n", "t.yaml:2: routes[0].name: is required"},
    {"routes:\n  - name: \"a b\"\n    mirrors: [{url: http://m}]\n",
     "t.yaml:2: routes[0].name: must be a name of 1 to 64"},
    {"routes:\n  - name: a\n    mirrors:\n      - percent: 5\n",
     "t.yaml:4: routes[0].mirrors[0].url: is required"},
    /* match */
    {"routes:\n  - name: a\n    match: {methods: [GET, \"GE T\"]}\n    mirrors: [{url: http://m}]\n",
     "t.yaml:3: routes[0].match.methods[1]: must be an HTTP method (a token such as GET), got \"GE T\""},
    {"routes:\n  - name: a\n    match:\n      hosts:\n        - ok.example\n        - \"bad host\"\n",
     "t.yaml:6: routes[0].match.hosts[1]: must be a host, host:port or *.domain"},
    {"routes:\n  - name: a\n    match: {hosts: [\"*.\"]}\n",
     "t.yaml:3: routes[0].match.hosts[0]: must be a host"},
    {"routes:\n  - name: a\n    match: {hosts: [\"h:70000\"]}\n",
     "routes[0].match.hosts[0]: must be a host, host:port or *.domain (bad port"},
    {"routes:\n  - name: a\n    match: {path_prefix: api}\n",
     "t.yaml:3: routes[0].match.path_prefix: must be a URL path starting with '/'"},
    {"routes:\n  - name: a\n    match: {path_prefix: \"/a?b\"}\n",
     "t.yaml:3: routes[0].match.path_prefix: must be a URL path"},
    /* authority, sample_by */
    {R0 "        authority: \"bad host!\"\n",
     "t.yaml:5: routes[0].mirrors[0].authority: must be shadow, keep or a host[:port]"},
    {R0 "        authority: \"h:0\"\n",
     "t.yaml:5: routes[0].mirrors[0].authority: must be shadow, keep or a host[:port] (bad port"},
    {R0 "        sample_by: hash\n", "t.yaml:5: routes[0].mirrors[0].sample_by: must be random, "
                                     "header:<name> or cookie:<name>, got \"hash\""},
    {R0 "        sample_by: \"header:\"\n", "t.yaml:5: routes[0].mirrors[0].sample_by: must be random, "
                                            "header:<name> or cookie:<name> where <name> is an HTTP token"},
    {R0 "        sample_by: \"cookie:a b\"\n",
     "routes[0].mirrors[0].sample_by: must be random, header:<name> or cookie:<name> where"},
    {R0 "        sample_by: Random\n", "t.yaml:5: routes[0].mirrors[0].sample_by: must be random"},
    /* headers */
    {R0 "        headers: {set: {\"bad name\": x}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.bad name: must be a header name (an HTTP token)"},
    /* headers the request shaper drops or writes itself (core/header_policy.h) */
    {R0 "        headers: {set: {host: x}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.host: \"host\" cannot be set: written by the agent itself "
     "(use authority to choose the mirror's Host)"},
    {R0 "        headers: {remove: [Content-Length]}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.remove[0]: \"content-length\" cannot be removed: written by the "
     "agent itself, from the body it sends"},
    {R0 "        headers: {set: {Content-Length: \"0\"}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.Content-Length: \"content-length\" cannot be set: written "
     "by "
     "the agent itself"},
    {R0 "        headers: {set: {Connection: close}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.Connection: \"connection\" cannot be set: a hop-by-hop "
     "header, dropped from every copy"},
    {R0 "        headers: {set: {keep-alive: \"timeout=5\"}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.keep-alive: \"keep-alive\" cannot be set: a hop-by-hop"},
    {R0 "        headers: {set: {TE: trailers}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.TE: \"te\" cannot be set: forwarded only as \"te: "
     "trailers\""},
    {R0 "        headers: {set: {trailer: x-sum}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.trailer: \"trailer\" cannot be set: a hop-by-hop"},
    {R0 "        headers: {set: {transfer-encoding: chunked}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.transfer-encoding: \"transfer-encoding\" cannot be set: a "
     "hop-by-hop"},
    {R0 "        headers: {set: {upgrade: websocket}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.upgrade: \"upgrade\" cannot be set: a hop-by-hop"},
    {R0 "        headers: {set: {expect: 100-continue}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.expect: \"expect\" cannot be set: dropped from every copy "
     "(the agent sends the body at once"},
    {R0 "        headers: {set: {Proxy-Connection: keep-alive}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.Proxy-Connection: \"proxy-connection\" cannot be set: a "
     "proxy-* header, dropped from every copy"},
    {R0 "        headers: {set: {proxy-authorization: \"Basic eA==\"}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.proxy-authorization: \"proxy-authorization\" cannot be "
     "set: a proxy-* header"},
    {R0 "        headers: {remove: [x-a, Proxy-Authorization]}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.remove[1]: \"proxy-authorization\" cannot be removed: a proxy-* "
     "header, dropped from every copy"},
    {R0 "        headers: {remove: [Transfer-Encoding]}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.remove[0]: \"transfer-encoding\" cannot be removed: a "
     "hop-by-hop header"},
    {R0 "        headers: {remove: [expect]}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.remove[0]: \"expect\" cannot be removed: dropped from every "
     "copy"},
    {R0 "        headers: {remove: [host]}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.remove[0]: \"host\" cannot be removed: written by the agent "
     "itself"},
    {R0 "        headers:\n          set:\n            x-a: 1\n            upgrade: h2c\n",
     "t.yaml:8: routes[0].mirrors[0].headers.set.upgrade: \"upgrade\" cannot be set: a hop-by-hop"},
    {R0 "        headers: {set: {X-A: 1, x-a: 2}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.x-a: header set twice"},
    {R0 "        headers: {remove: [x-a, X-A]}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.remove[1]: header listed twice"},
    {R0 "        headers: {remove: [\"a:b\"]}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.remove[0]: must be a header name"},
    {R0 "        headers: {set: {x-a: \"1\\x01\"}}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set.x-a: must be a header value without control characters or "
     "surrounding spaces, got \"1\\x01\""},
    {R0 "        headers:\n          set: {x-a: 1}\n          remove: [X-A]\n",
     "t.yaml:6: routes[0].mirrors[0].headers: header \"x-a\" is both set and removed"},
    {R0 "        headers: {set: [x-a]}\n",
     "t.yaml:5: routes[0].mirrors[0].headers.set: must be a mapping of header names to values, got a list"},
    /* limits where 0 makes no sense */
    {R0 "        timeout_ms: 0\n",
     "t.yaml:5: routes[0].mirrors[0].timeout_ms: must be an integer from 1 to 2147483647, got \"0\""},
    {R0 "        connect_timeout_ms: 0\n",
     "t.yaml:5: routes[0].mirrors[0].connect_timeout_ms: must be an integer from 1 to"},
    {R0 "        max_inflight: 0\n",
     "t.yaml:5: routes[0].mirrors[0].max_inflight: must be an integer from 1 to 1000000, got \"0\""},
    {R0 "        max_queue: 0\n",
     "t.yaml:5: routes[0].mirrors[0].max_queue: must be an integer from 1 to 1000000, got \"0\""},
    {"spop: {max_frame_size: 0}\n",
     "t.yaml:1: spop.max_frame_size: must be an integer from 256 to 16777216, got \"0\""},
    {"spop: {max_frame_size: 255}\n",
     "t.yaml:1: spop.max_frame_size: must be an integer from 256 to 16777216, got \"255\""},
    {"spop: {max_frame_size: 16777217}\n",
     "t.yaml:1: spop.max_frame_size: must be an integer from 256 to 16777216"},
    {"spop: {max_connections: 0}\n",
     "t.yaml:1: spop.max_connections: must be an integer from 1 to 1000000, got \"0\""},
    {R0 "        timeout_ms: 300\n        connect_timeout_ms: 301\n",
     "t.yaml:4: routes[0].mirrors[0].connect_timeout_ms: must not exceed timeout_ms (300), got 301"},
    /* other integers: negative, too large, not decimal */
    {"drain_timeout_ms: -1\n",
     "t.yaml:1: drain_timeout_ms: must be an integer from 0 to 2147483647, got \"-1\""},
    {"resolve_interval_ms: 999\n",
     "t.yaml:1: resolve_interval_ms: must be an integer from 1000 to 3600000, got \"999\""},
    {"spop: {idle_timeout_ms: 99999999999999999999}\n",
     "t.yaml:1: spop.idle_timeout_ms: must be an integer from 0 to 2147483647"},
    {R0 "        max_rps: 1000000001\n",
     "t.yaml:5: routes[0].mirrors[0].max_rps: must be an integer from 0 to 1000000000"},
    {R0 "        max_response_bytes: 1073741825\n",
     "t.yaml:5: routes[0].mirrors[0].max_response_bytes: must be an integer from 0 to 1073741824, got "
     "\"1073741825\""},
    {R0 "        max_response_bytes: -1\n",
     "t.yaml:5: routes[0].mirrors[0].max_response_bytes: must be an integer from 0 to 1073741824"},
    {R0 "        response_read_delay_ms: 101\n",
     "t.yaml:5: routes[0].mirrors[0].response_read_delay_ms: must be an integer from 0 to 100, got \"101\""},
    {R0 "        request_write_delay_ms: 101\n",
     "t.yaml:5: routes[0].mirrors[0].request_write_delay_ms: must be an integer from 0 to 100, got \"101\""},
    {R0 "        max_connection_age_ms: 2147483648\n",
     "t.yaml:5: routes[0].mirrors[0].max_connection_age_ms: must be an integer from 0 to 2147483647"},
    {R0 "        max_connection_age_ms: 1m\n", "t.yaml:5: routes[0].mirrors[0].max_connection_age_ms: must "
                                               "be an integer from 0 to 2147483647, got \"1m\""},
    {R0 "        max_inflight: 0x10\n",
     "t.yaml:5: routes[0].mirrors[0].max_inflight: must be an integer from 1 to 1000000, got \"0x10\""},
    {R0 "        max_queue: 1.5\n",
     "t.yaml:5: routes[0].mirrors[0].max_queue: must be an integer from 1 to 1000000, got \"1.5\""},
    {"body_parts: {max_entries: 0}\n",
     "t.yaml:1: body_parts.max_entries: must be an integer from 1 to 100000, got \"0\""},
    {"body_parts: {max_bytes: 4294967296}\n",
     "t.yaml:1: body_parts.max_bytes: must be an integer from 1 to 4294967295"},
    {"body_parts: {max_body_bytes: 1073741825}\n",
     "t.yaml:1: body_parts.max_body_bytes: must be an integer from 1 to 1073741824"},
    {"body_parts: {timeout_ms: 0}\n",
     "t.yaml:1: body_parts.timeout_ms: must be an integer from 1 to 2147483647, got \"0\""},
    {"body_parts:\n  max_bytes: 1000\n  max_body_bytes: 1001\n",
     "t.yaml:2: body_parts.max_bytes: max_bytes (1000) must be at least max_body_bytes (1001)"},
    {"body_parts:\n  max_body_bytes: 67108865\n",
     "t.yaml:2: body_parts.max_body_bytes: max_bytes (67108864) must be at least max_body_bytes (67108865)"},
    {"body_parts: [1]\n", "t.yaml:1: body_parts: must be a mapping, got a list"},
    {"spop: {threads: 257}\n", "t.yaml:1: spop.threads: must be an integer from 0 to 256, got \"257\""},
    {"spop: {threads: -1}\n", "t.yaml:1: spop.threads: must be an integer from 0 to 256, got \"-1\""},
    /* log level, listen addresses */
    {"log: {level: verbose}\n",
     "t.yaml:1: log.level: must be one of error, warn, info, debug, got \"verbose\""},
    {"spop: {listen: localhost}\n",
     "t.yaml:1: spop.listen: must be an address host:port (a port is required), got \"localhost\""},
    {"admin:\n  listen: \"[::1]:99999\"\n",
     "t.yaml:2: admin.listen: must be an address host:port (bad port \"99999\""},
    {"spop: {listen: \"::1:80\"}\n",
     "t.yaml:1: spop.listen: must be an address host:port (IPv6 addresses must be written in brackets"},
};
#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

START_TEST(bad_config_reports)
{
    const struct bad_case *bc = &bad_cases[_i];
    struct config c;
    struct config_errors errs;
    bool ok = load(bc->yaml, &c, &errs);
    char *all = joined(&errs);
    ck_assert_msg(!ok, "case %d accepted:\n%s", _i, bc->yaml);
    ck_assert_msg(has_error(&errs, bc->want), "case %d: want \"%s\"\ngot:\n%s", _i, bc->want, all);
    /* Every message has the form "<file>:<line>: <key path>: <text>". */
    for (size_t i = 0; i < errs.count; i++) {
        int line = 0, n = 0;
        ck_assert_msg(sscanf(errs.items[i], "t.yaml:%d: %*[^:]: %n", &line, &n) == 1 && line > 0 && n > 0,
                      "case %d: malformed message: %s", _i, errs.items[i]);
        for (const unsigned char *p = (const unsigned char *)errs.items[i]; *p; p++)
            ck_assert_msg(*p >= 0x20 && *p != 0x7f, "case %d: control byte 0x%02x in: %s", _i, *p,
                          errs.items[i]);
    }
    free(all);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

/* ---- valid files ---- */

START_TEST(defaults)
{
    struct config c;
    config_defaults(&c);
    ck_assert_ptr_null(c.path);
    ck_assert_str_eq(c.spop_listen, "127.0.0.1:12345");
    ck_assert_int_eq(c.threads, 0);
    ck_assert_uint_eq(c.max_frame_size, 16380);
    ck_assert_uint_eq(c.max_connections, 1024);
    ck_assert_uint_eq(c.idle_timeout_ms, 600000);
    ck_assert_str_eq(c.admin_listen, "127.0.0.1:9901");
    ck_assert_int_eq(c.log_level, LOG_LVL_INFO);
    ck_assert_uint_eq(c.resolve_interval_ms, 30000);
    ck_assert_uint_eq(c.drain_timeout_ms, 5000);
    ck_assert_uint_eq(c.body_parts.max_entries, 1024);
    ck_assert_uint_eq(c.body_parts.max_bytes, 64u << 20);
    ck_assert_uint_eq(c.body_parts.max_body_bytes, 1u << 20);
    ck_assert_uint_eq(c.body_parts.timeout_ms, 5000);
    ck_assert_uint_eq(c.n_routes, 0);
    config_free(&c);
}
END_TEST

START_TEST(minimal_file_defaults)
{
    struct config c;
    struct config_errors errs = {0};
    config_defaults(&c);
    ck_assert(config_load_file(&c, CONFIG_DIR "/minimal.yaml", &errs));
    ck_assert_uint_eq(errs.count, 0);
    ck_assert_str_eq(c.path, CONFIG_DIR "/minimal.yaml");
    ck_assert_str_eq(c.spop_listen, "127.0.0.1:12345");
    ck_assert_uint_eq(c.max_frame_size, 16380);
    ck_assert_uint_eq(c.drain_timeout_ms, 5000);
    ck_assert_uint_eq(c.n_routes, 1);
    const struct config_route *r = &c.routes[0];
    ck_assert_str_eq(r->name, "r1");
    ck_assert_int_eq(r->line, 3);
    ck_assert_uint_eq(r->n_hosts, 0);
    ck_assert_ptr_null(r->path_prefix);
    ck_assert_uint_eq(r->n_methods, 0);
    ck_assert_uint_eq(r->n_mirrors, 1);
    const struct config_mirror *m = &r->mirrors[0];
    ck_assert_int_eq(m->line, 5);
    ck_assert_str_eq(m->url, "http://mirror");
    ck_assert_str_eq(m->scheme, "http");
    ck_assert_str_eq(m->host, "mirror");
    ck_assert_uint_eq(m->port, 80);
    ck_assert_str_eq(m->base_path, "");
    ck_assert_uint_eq(m->percent_millionths, 1000000);
    ck_assert_int_eq(m->authority, AUTHORITY_SHADOW);
    ck_assert_ptr_null(m->authority_literal);
    ck_assert_int_eq(m->sample_by, SAMPLE_RANDOM);
    ck_assert_ptr_null(m->sample_key);
    ck_assert_uint_eq(m->timeout_ms, 1000);
    ck_assert_uint_eq(m->connect_timeout_ms, 500);
    ck_assert_uint_eq(m->max_inflight, 256);
    ck_assert_uint_eq(m->max_queue, 1024);
    ck_assert_uint_eq(m->max_rps, 0);
    ck_assert_uint_eq(m->max_response_bytes, 65536);
    ck_assert_uint_eq(m->max_connection_age_ms, 60000);
    ck_assert_uint_eq(m->response_read_delay_ms, 2);
    ck_assert_uint_eq(m->request_write_delay_ms, 2);
    ck_assert_uint_eq(m->n_headers_set, 0);
    ck_assert_uint_eq(m->n_headers_remove, 0);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

START_TEST(full_round_trip)
{
    struct config c;
    struct config_errors errs = {0};
    config_defaults(&c);
    bool ok = config_load_file(&c, CONFIG_DIR "/full.yaml", &errs);
    char *all = joined(&errs);
    ck_assert_msg(ok, "full.yaml: %s", all);
    free(all);
    ck_assert_str_eq(c.spop_listen, "0.0.0.0:12346");
    ck_assert_int_eq(c.threads, 4);
    ck_assert_uint_eq(c.max_frame_size, 65536);
    ck_assert_uint_eq(c.max_connections, 200);
    ck_assert_uint_eq(c.idle_timeout_ms, 0);
    ck_assert_str_eq(c.admin_listen, "[::1]:9902");
    ck_assert_int_eq(c.log_level, LOG_LVL_DEBUG);
    ck_assert_uint_eq(c.drain_timeout_ms, 2500);
    ck_assert_uint_eq(c.resolve_interval_ms, 5000);
    ck_assert_uint_eq(c.body_parts.max_entries, 64);
    ck_assert_uint_eq(c.body_parts.max_bytes, 16777216);
    ck_assert_uint_eq(c.body_parts.max_body_bytes, 262144);
    ck_assert_uint_eq(c.body_parts.timeout_ms, 2000);
    ck_assert_uint_eq(c.n_routes, 2);

    const struct config_route *r = &c.routes[0];
    ck_assert_str_eq(r->name, "httpbin");
    ck_assert_int_eq(r->line, 20);
    ck_assert_uint_eq(r->n_hosts, 3);
    ck_assert_str_eq(r->hosts[0], "httpbin");
    ck_assert_str_eq(r->hosts[1], "httpbin:8000");
    ck_assert_str_eq(r->hosts[2], "*.example.com");
    ck_assert_str_eq(r->path_prefix, "/api/v1");
    ck_assert_uint_eq(r->n_methods, 2);
    ck_assert_str_eq(r->methods[0], "GET");
    ck_assert_str_eq(r->methods[1], "POST");
    ck_assert_uint_eq(r->n_mirrors, 2);

    const struct config_mirror *m = &r->mirrors[0];
    ck_assert_int_eq(m->line, 26);
    ck_assert_str_eq(m->url, "http://httpbin-v1-mirroring.default.svc.cluster.local:8000/shadow/");
    ck_assert_str_eq(m->scheme, "http");
    ck_assert_str_eq(m->host, "httpbin-v1-mirroring.default.svc.cluster.local");
    ck_assert_uint_eq(m->port, 8000);
    ck_assert_str_eq(m->base_path, "/shadow");
    ck_assert_uint_eq(m->percent_millionths, 333333);
    ck_assert_int_eq(m->authority, AUTHORITY_KEEP);
    ck_assert_ptr_null(m->authority_literal);
    ck_assert_int_eq(m->sample_by, SAMPLE_HEADER);
    ck_assert_str_eq(m->sample_key, "x-request-id");
    ck_assert_uint_eq(m->timeout_ms, 2000);
    ck_assert_uint_eq(m->connect_timeout_ms, 700);
    ck_assert_uint_eq(m->max_inflight, 64);
    ck_assert_uint_eq(m->max_queue, 128);
    ck_assert_uint_eq(m->max_rps, 50);
    ck_assert_uint_eq(m->max_response_bytes, 4096);
    ck_assert_uint_eq(m->max_connection_age_ms, 0);
    ck_assert_uint_eq(m->response_read_delay_ms, 0);
    ck_assert_uint_eq(m->request_write_delay_ms, 5);
    ck_assert_uint_eq(m->n_headers_set, 2);
    ck_assert_str_eq(m->headers_set[0].name, "x-shadow");
    ck_assert_str_eq(m->headers_set[0].value, "1");
    ck_assert_str_eq(m->headers_set[1].name, "x-env");
    ck_assert_str_eq(m->headers_set[1].value, "staging");
    ck_assert_uint_eq(m->n_headers_remove, 2);
    ck_assert_str_eq(m->headers_remove[0], "authorization");
    ck_assert_str_eq(m->headers_remove[1], "cookie");

    m = &r->mirrors[1];
    ck_assert_int_eq(m->line, 42);
    ck_assert_str_eq(m->host, "fd00::12");
    ck_assert_uint_eq(m->port, 8080);
    ck_assert_str_eq(m->base_path, "");
    ck_assert_uint_eq(m->percent_millionths, 1);
    ck_assert_int_eq(m->authority, AUTHORITY_LITERAL);
    ck_assert_str_eq(m->authority_literal, "mirror.internal:8443");
    ck_assert_int_eq(m->sample_by, SAMPLE_COOKIE);
    ck_assert_str_eq(m->sample_key, "SessionID"); /* cookie names keep their case */
    ck_assert_uint_eq(m->timeout_ms, 300);
    ck_assert_uint_eq(m->connect_timeout_ms, 300); /* min(timeout_ms, 500) */
    ck_assert_uint_eq(m->max_inflight, 256);
    ck_assert_uint_eq(m->response_read_delay_ms, 2); /* the default */

    r = &c.routes[1];
    ck_assert_str_eq(r->name, "catch-rest");
    ck_assert_uint_eq(r->n_mirrors, 1);
    ck_assert_str_eq(r->mirrors[0].host, "10.0.0.7");
    ck_assert_uint_eq(r->mirrors[0].port, 80);
    ck_assert_ptr_eq(config_find_route(&c, "catch-rest"), r);
    ck_assert_ptr_null(config_find_route(&c, "nope"));
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

START_TEST(shipped_example_loads)
{
    struct config c;
    struct config_errors errs = {0};
    config_defaults(&c);
    bool ok = config_load_file(&c, "haproxy-conf/spoa-shadow.yaml", &errs);
    char *all = joined(&errs);
    ck_assert_msg(ok && errs.count == 0, "spoa-shadow.yaml: %s", all);
    free(all);
    ck_assert_uint_eq(c.n_routes, 1);
    ck_assert_uint_eq(c.routes[0].n_mirrors, 1);
    ck_assert_uint_eq(c.routes[0].mirrors[0].percent_millionths, 500000);
    ck_assert_uint_eq(c.routes[0].mirrors[0].port, 8000);
    ck_assert_uint_eq(c.routes[0].mirrors[0].n_headers_set, 1);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

/* The commented capture route of the shipped example, uncommented (lines
 * from "  # - name: capture-api" on lose their "# "), with its directory
 * moved under /tmp, loads and gives the documented values. */
START_TEST(shipped_capture_example_loads)
{
    FILE *f = fopen("haproxy-conf/spoa-shadow.yaml", "r");
    ck_assert_ptr_nonnull(f);
    static char text[65536];
    size_t len = 0;
    bool in_example = false;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "  # - name: capture-api", 23) == 0)
            in_example = true;
        const char *l = line;
        char fixed[512];
        if (in_example && strncmp(line, "  # ", 4) == 0) {
            snprintf(fixed, sizeof(fixed), "  %s", line + 4);
            l = fixed;
        }
        const char *dir = strstr(l, "/var/lib/spoa-shadow/capture");
        if (in_example && dir)
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%.*s/tmp/spoa-check-config/shipped%s",
                                    (int)(dir - l), l, dir + strlen("/var/lib/spoa-shadow/capture"));
        else
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", l);
        ck_assert_uint_lt(len, sizeof(text));
    }
    fclose(f);
    ck_assert(in_example);
    struct config c;
    struct config_errors errs;
    bool ok = load(text, &c, &errs);
    char *all = joined(&errs);
    ck_assert_msg(ok, "%s", all);
    free(all);
    ck_assert_uint_eq(c.n_routes, 2);
    const struct config_mirror *m = &c.routes[1].mirrors[0];
    ck_assert_ptr_nonnull(m->capture);
    ck_assert_str_eq(m->capture->dir, "/tmp/spoa-check-config/shipped");
    ck_assert_uint_eq(m->capture->rotate_bytes, CAPTURE_DEFAULT_ROTATE_BYTES);
    ck_assert_uint_eq(m->capture->rotate_ms, CAPTURE_DEFAULT_ROTATE_MS);
    ck_assert_uint_eq(m->capture->max_total_bytes, CAPTURE_DEFAULT_MAX_TOTAL_BYTES);
    ck_assert_uint_eq(m->capture->max_files, CAPTURE_DEFAULT_MAX_FILES);
    ck_assert_uint_eq(m->capture->max_queue, CAPTURE_DEFAULT_MAX_QUEUE);
    ck_assert_uint_eq(m->capture->n_redact_headers, 5);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

/* Nulls, quoting and alternative spellings that are accepted. */
START_TEST(lenient_forms)
{
    struct config c;
    struct config_errors errs;
    const char *yaml = "spop: ~\n"
                       "admin:\n"
                       "log: {level: WARN}\n"
                       "drain_timeout_ms: \"0\"\n"
                       "routes:\n"
                       "  - name: a\n"
                       "    match: {hosts: [], methods: ~}\n"
                       "    mirrors:\n"
                       "      - url: HTTP://M.Example:81/\n"
                       "        percent: \"12.5\"\n"
                       "        authority: KEEP\n"
                       "        headers: {set: {x-empty: \"\"}, remove: ~}\n";
    bool ok = load(yaml, &c, &errs);
    char *all = joined(&errs);
    ck_assert_msg(ok, "%s", all);
    free(all);
    ck_assert_int_eq(c.log_level, LOG_LVL_WARN);
    ck_assert_uint_eq(c.drain_timeout_ms, 0);
    ck_assert_str_eq(c.spop_listen, "127.0.0.1:12345");
    const struct config_mirror *m = &c.routes[0].mirrors[0];
    ck_assert_str_eq(m->url, "HTTP://M.Example:81/");
    ck_assert_str_eq(m->host, "m.example");
    ck_assert_uint_eq(m->port, 81);
    ck_assert_str_eq(m->base_path, "");
    ck_assert_uint_eq(m->percent_millionths, 125000);
    ck_assert_int_eq(m->authority, AUTHORITY_KEEP);
    ck_assert_uint_eq(m->n_headers_set, 1);
    ck_assert_str_eq(m->headers_set[0].value, "");
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

/* Anchors and aliases are resolved like any YAML reader does. */
START_TEST(aliases_resolve)
{
    struct config c;
    struct config_errors errs;
    const char *yaml = "routes:\n"
                       "  - name: a\n"
                       "    mirrors:\n"
                       "      - &m {url: \"http://m:8000\", percent: 5}\n"
                       "  - name: b\n"
                       "    mirrors: [*m]\n";
    ck_assert(load(yaml, &c, &errs));
    ck_assert_uint_eq(c.n_routes, 2);
    ck_assert_uint_eq(c.routes[1].mirrors[0].percent_millionths, 50000);
    ck_assert_uint_eq(c.routes[1].mirrors[0].port, 8000);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

/* headers.set and headers.remove refuse exactly the names the request
 * shaper drops or writes itself (http_is_hop_by_hop, the shaper's own test),
 * and nothing else: names that only look alike load. */
static const char *const header_names[] = {
    "connection",
    "Keep-Alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    "Host",
    "content-length",
    "proxy-connection",
    "Proxy-Authorization",
    "proxy-x",
    "x-proxy-id",
    "proxy",
    "tea",
    "trailers",
    "x-te",
    "content-type",
    "x-host",
    "hosts",
    "expectation",
    "connection-id",
    "x-upgrade",
};
#define N_HEADER_NAMES (sizeof(header_names) / sizeof(header_names[0]))

START_TEST(headers_refused_iff_shaper_drops)
{
    const char *name = header_names[_i];
    bool hop = http_is_hop_by_hop((const uint8_t *)name, strlen(name));
    for (int remove = 0; remove < 2; remove++) {
        /* "te: trailers" is forwarded: removing te does something. */
        bool dropped = hop && !(remove && header_reserved((const uint8_t *)name, strlen(name)) == HEADER_TE);
        char yaml[512];
        if (remove)
            snprintf(yaml, sizeof(yaml), R0 "        headers: {remove: [%s]}\n", name);
        else
            snprintf(yaml, sizeof(yaml), R0 "        headers: {set: {%s: v}}\n", name);
        struct config c;
        struct config_errors errs;
        bool ok = load(yaml, &c, &errs);
        char *all = joined(&errs);
        ck_assert_msg(ok == !dropped, "%s (%s): loaded=%d, shaper drops it=%d\n%s", name,
                      remove ? "remove" : "set", ok, dropped, all);
        if (!ok) {
            ck_assert_uint_eq(errs.count, 1);
            ck_assert_msg(strstr(errs.items[0], remove ? "cannot be removed: " : "cannot be set: "), "%s",
                          all);
            ck_assert_ptr_nonnull(strstr(
                errs.items[0], header_reserved_why(header_reserved((const uint8_t *)name, strlen(name)))));
        }
        free(all);
        config_free(&c);
        config_errors_free(&errs);
    }
}
END_TEST

/* Every refused header of a mirror is reported, each at its own key. */
START_TEST(reserved_headers_all_reported)
{
    struct config c;
    struct config_errors errs;
    const char *yaml = R0 "        headers:\n"
                          "          set: {x-ok: 1, Connection: close, Expect: 100-continue}\n"
                          "          remove: [x-gone, Upgrade, proxy-authorization, TE]\n";
    ck_assert(!load(yaml, &c, &errs));
    char *all = joined(&errs);
    ck_assert_msg(errs.count == 4, "%s", all); /* removing TE is allowed */
    ck_assert_msg(strstr(errs.items[0], "t.yaml:6: routes[0].mirrors[0].headers.set.Connection: ") ==
                      errs.items[0],
                  "%s", all);
    ck_assert_msg(strstr(errs.items[1], "t.yaml:6: routes[0].mirrors[0].headers.set.Expect: ") ==
                      errs.items[1],
                  "%s", all);
    ck_assert_msg(strstr(errs.items[2], "t.yaml:7: routes[0].mirrors[0].headers.remove[1]: ") ==
                      errs.items[2],
                  "%s", all);
    ck_assert_msg(strstr(errs.items[3], "t.yaml:7: routes[0].mirrors[0].headers.remove[2]: ") ==
                      errs.items[3],
                  "%s", all);
    free(all);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

/* ---- several errors ---- */

START_TEST(two_errors_both_reported)
{
    struct config c;
    struct config_errors errs = {0};
    config_defaults(&c);
    ck_assert(!config_load_file(&c, CONFIG_DIR "/two_errors.yaml", &errs));
    char *all = joined(&errs);
    ck_assert_msg(errs.count == 2, "%s", all);
    ck_assert_str_eq(errs.items[0], CONFIG_DIR
                     "/two_errors.yaml:2: spop.threads: must be an integer from 0 to 256, got \"300\"");
    ck_assert_str_eq(errs.items[1], CONFIG_DIR "/two_errors.yaml:7: routes[0].mirrors[0].percent: must be a "
                                               "number from 0 to 100, got \"150\"");
    free(all);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

START_TEST(errors_everywhere)
{
    struct config c;
    struct config_errors errs;
    const char *yaml = "spop: {threads: x, bogus: 1}\n"
                       "log: {level: loud}\n"
                       "routes:\n"
                       "  - name: a\n"
                       "    match: {methods: [\"G(T\"]}\n"
                       "    mirrors:\n"
                       "      - url: ftp://m\n"
                       "        percent: 101\n"
                       "  - name: a\n";
    ck_assert(!load(yaml, &c, &errs));
    char *all = joined(&errs);
    static const char *const want[] = {
        "t.yaml:1: spop.threads:",
        "t.yaml:1: spop.bogus: unknown key",
        "t.yaml:2: log.level:",
        "t.yaml:5: routes[0].match.methods[0]:",
        "t.yaml:7: routes[0].mirrors[0].url: only http:// and https://",
        "t.yaml:8: routes[0].mirrors[0].percent:",
        "t.yaml:9: routes[1].name: duplicate route name",
        "t.yaml:9: routes[1].mirrors: a route needs at least one mirror",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_msg(has_error(&errs, want[i]), "missing \"%s\" in:\n%s", want[i], all);
    ck_assert_msg(errs.count == sizeof(want) / sizeof(want[0]), "%s", all);
    free(all);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

START_TEST(error_cap)
{
    /* 150 unknown keys: the first 100 are reported, then one line says so. */
    size_t cap = 150 * 16 + 1;
    char *yaml = calloc(1, cap);
    ck_assert_ptr_nonnull(yaml);
    for (int i = 0; i < 150; i++)
        snprintf(yaml + strlen(yaml), cap - strlen(yaml), "bad%d: 1\n", i);
    struct config c;
    struct config_errors errs;
    ck_assert(!load(yaml, &c, &errs));
    ck_assert_uint_eq(errs.count, CONFIG_WALK_MAX_ERRORS + 1);
    ck_assert(strstr(errs.items[0], "t.yaml:1: bad0: unknown key") == errs.items[0]);
    ck_assert(strstr(errs.items[99], "t.yaml:100: bad99: unknown key") == errs.items[99]);
    ck_assert_ptr_nonnull(strstr(errs.items[100], "too many errors"));
    free(yaml);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

START_TEST(alias_budget)
{
    /* 500 mirrors, all one aliased mirror that removes 500 headers: 250,000
     * values to check from a few kilobytes of YAML. */
    size_t cap = 64 * 1024;
    char *yaml = calloc(1, cap);
    ck_assert_ptr_nonnull(yaml);
    strcat(yaml, "routes:\n  - name: a\n    mirrors:\n      - &m\n        url: http://m\n        headers:\n"
                 "          remove: [h0");
    for (int i = 1; i < 500; i++)
        snprintf(yaml + strlen(yaml), cap - strlen(yaml), ", h%d", i);
    strcat(yaml, "]\n");
    for (int i = 1; i < 500; i++)
        strcat(yaml, "      - *m\n");
    struct config c;
    struct config_errors errs;
    ck_assert(!load(yaml, &c, &errs));
    char *all = joined(&errs);
    /* The work budget stops the walk; the mirror count is reported as well. */
    ck_assert_msg(errs.count == 2 && has_error(&errs, "too many values (more than 200000") &&
                      has_error(&errs, "a route has at most 64 mirrors, got"),
                  "%s", all);
    free(all);
    free(yaml);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

/* ---- files ---- */

START_TEST(file_errors)
{
    struct config c;
    struct config_errors errs = {0};
    config_defaults(&c);
    ck_assert(!config_load_file(&c, CONFIG_DIR "/does-not-exist.yaml", &errs));
    ck_assert_uint_eq(errs.count, 1);
    ck_assert_str_eq(errs.items[0],
                     CONFIG_DIR "/does-not-exist.yaml: cannot read: No such file or directory");
    ck_assert(!config_load_file(&c, CONFIG_DIR, &errs));
    ck_assert_uint_eq(errs.count, 2);
    ck_assert_str_eq(errs.items[1], CONFIG_DIR ": cannot read: Is a directory");
    ck_assert(!config_load_file(&c, CONFIG_DIR "/empty.yaml", &errs));
    ck_assert_uint_eq(errs.count, 3);
    ck_assert_str_eq(errs.items[2], CONFIG_DIR "/empty.yaml:1: (root): the file is empty: expected a mapping "
                                               "with keys such as spop and routes");
    ck_assert(!config_load_file(&c, CONFIG_DIR "/not_a_map.yaml", &errs));
    ck_assert_uint_eq(errs.count, 4);
    ck_assert_ptr_nonnull(strstr(errs.items[3], "not_a_map.yaml:1: (root): the file must be a mapping"));
    config_free(&c);
    config_errors_free(&errs);
    ck_assert_uint_eq(errs.count, 0);
}
END_TEST

/* ---- --mirror / --percent ---- */

START_TEST(capture_mirrors)
{
    const char *yaml = "routes:\n"
                       "  - name: cap\n"
                       "    mirrors:\n"
                       "      - capture:\n" /* before the url: the order of keys does not matter */
                       "          rotate_bytes: 4096\n"
                       "          rotate_ms: 0\n"
                       "          max_total_bytes: 5000000000\n"
                       "          max_files: 3\n"
                       "          max_queue: 10\n"
                       "          redact_headers: [X-Token, cookie]\n"
                       "        url: \"file:////tmp//spoa-check-config/x/\"\n"
                       "        percent: 25\n"
                       "        authority: keep\n"
                       "        sample_by: header:x-id\n"
                       "        max_rps: 7\n"
                       "      - url: file:///tmp/spoa-check-config/defaults\n"
                       "      - url: file:///tmp/spoa-check-config/none\n"
                       "        capture: {redact_headers: []}\n"
                       "      - url: http://m\n";
    struct config c;
    struct config_errors errs;
    bool ok = load(yaml, &c, &errs);
    char *all = joined(&errs);
    ck_assert_msg(ok, "%s", all);
    free(all);
    const struct config_route *r = &c.routes[0];
    ck_assert_uint_eq(r->n_mirrors, 4);
    const struct config_mirror *m = &r->mirrors[0];
    ck_assert_ptr_nonnull(m->capture);
    ck_assert_str_eq(m->url, "file:////tmp//spoa-check-config/x/");
    ck_assert_str_eq(m->scheme, "file");
    ck_assert_ptr_null(m->host);
    ck_assert_str_eq(m->capture->dir, "/tmp/spoa-check-config/x");
    ck_assert_uint_eq(m->capture->rotate_bytes, 4096);
    ck_assert_uint_eq(m->capture->rotate_ms, 0);
    ck_assert_uint_eq(m->capture->max_total_bytes, 5000000000ull);
    ck_assert_uint_eq(m->capture->max_files, 3);
    ck_assert_uint_eq(m->capture->max_queue, 10);
    ck_assert_uint_eq(m->capture->n_redact_headers, 2);
    ck_assert_str_eq(m->capture->redact_headers[0], "x-token");
    ck_assert_str_eq(m->capture->redact_headers[1], "cookie");
    ck_assert_uint_eq(m->percent_millionths, 250000);
    ck_assert_int_eq(m->authority, AUTHORITY_KEEP);
    ck_assert_int_eq(m->sample_by, SAMPLE_HEADER);
    ck_assert_uint_eq(m->max_rps, 7);

    m = &r->mirrors[1];
    ck_assert_ptr_nonnull(m->capture);
    ck_assert_str_eq(m->capture->dir, "/tmp/spoa-check-config/defaults");
    ck_assert_uint_eq(m->capture->rotate_bytes, 64ull << 20);
    ck_assert_uint_eq(m->capture->rotate_ms, 300000);
    ck_assert_uint_eq(m->capture->max_total_bytes, 1ull << 30);
    ck_assert_uint_eq(m->capture->max_files, 100);
    ck_assert_uint_eq(m->capture->max_queue, 4096);
    static const char *const dflt[] = {"authorization", "cookie", "set-cookie", "proxy-authorization",
                                       "x-api-key"};
    ck_assert_uint_eq(m->capture->n_redact_headers, 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_str_eq(m->capture->redact_headers[i], dflt[i]);
    ck_assert_uint_eq(r->mirrors[2].capture->n_redact_headers, 0);
    ck_assert_ptr_null(r->mirrors[3].capture);
    config_free(&c);
    config_errors_free(&errs);

    /* --mirror file:///dir */
    config_defaults(&c);
    ck_assert(config_add_catch_all(&c, "file:///tmp/spoa-check-config/flag", "10", &errs));
    m = &c.routes[0].mirrors[0];
    ck_assert_ptr_nonnull(m->capture);
    ck_assert_str_eq(m->capture->dir, "/tmp/spoa-check-config/flag");
    ck_assert_uint_eq(m->percent_millionths, 100000);
    config_free(&c);
    config_defaults(&c);
    ck_assert(!config_add_catch_all(&c, "file://h/x", NULL, &errs));
    ck_assert_uint_eq(errs.count, 1);
    ck_assert_ptr_nonnull(strstr(errs.items[0], "--mirror: a file:// URL takes no host"));
    config_free(&c);
    config_errors_free(&errs);
    /* The same directory as a mirror of the file. */
    const char *one = "routes: [{name: r, mirrors: [{url: \"file:///tmp/spoa-check-config/flag\"}]}]\n";
    ck_assert(load(one, &c, &errs));
    ck_assert(!config_add_catch_all(&c, "file:///tmp/spoa-check-config/flag", NULL, &errs));
    ck_assert_ptr_nonnull(strstr(errs.items[0], "is already used by a capture mirror of the file"));
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

START_TEST(capture_url_parse)
{
    char *dir = NULL, err[256];
    ck_assert(config_file_url_parse("file:///var/lib/x", &dir, err, sizeof(err)));
    ck_assert_str_eq(dir, "/var/lib/x");
    free(dir);
    ck_assert(config_file_url_parse("File:///a//b///", &dir, err, sizeof(err)));
    ck_assert_str_eq(dir, "/a/b");
    free(dir);
    ck_assert(config_file_url_parse("file:///a/.b/c..", &dir, err, sizeof(err)));
    ck_assert_str_eq(dir, "/a/.b/c..");
    free(dir);
    dir = NULL;
    ck_assert(!config_file_url_parse("file:///a/./b", &dir, err, sizeof(err)));
    ck_assert(!config_file_url_parse("file:///a\tb", &dir, err, sizeof(err)));
    ck_assert(!config_file_url_parse("file:///a?b", &dir, err, sizeof(err)));
    ck_assert(!config_file_url_parse("file:///a#b", &dir, err, sizeof(err)));
    ck_assert(!config_file_url_parse("file:////", &dir, err, sizeof(err)));
    ck_assert(!config_file_url_parse("file://localhost/a", &dir, err, sizeof(err)));
    ck_assert_ptr_null(dir);
    ck_assert(config_is_file_url("FILE:x"));
    ck_assert(!config_is_file_url("http://m"));

    ck_assert(config_capture_dir_check("/tmp", err, sizeof(err)));
    ck_assert(config_capture_dir_check("/tmp/spoa-check-config/does/not/exist", err, sizeof(err)));
    ck_assert(!config_capture_dir_check("/etc/passwd", err, sizeof(err)));
    ck_assert(!config_capture_dir_check("/etc/passwd/x", err, sizeof(err)));
    ck_assert_str_eq(err, "/etc/passwd/x cannot be created: /etc/passwd is not a directory");
}
END_TEST

START_TEST(catch_all)
{
    struct config c;
    struct config_errors errs = {0};
    config_defaults(&c);
    ck_assert(config_add_catch_all(&c, "http://Shadow.svc:8081/base/", NULL, &errs));
    ck_assert_uint_eq(errs.count, 0);
    ck_assert_uint_eq(c.n_routes, 1);
    const struct config_route *r = &c.routes[0];
    ck_assert_str_eq(r->name, "default");
    ck_assert_uint_eq(r->n_hosts + r->n_methods, 0);
    ck_assert_ptr_null(r->path_prefix);
    ck_assert_uint_eq(r->n_mirrors, 1);
    ck_assert_str_eq(r->mirrors[0].url, "http://Shadow.svc:8081/base/");
    ck_assert_str_eq(r->mirrors[0].host, "shadow.svc");
    ck_assert_uint_eq(r->mirrors[0].port, 8081);
    ck_assert_str_eq(r->mirrors[0].base_path, "/base");
    ck_assert_uint_eq(r->mirrors[0].percent_millionths, 1000000);
    ck_assert_uint_eq(r->mirrors[0].timeout_ms, 1000);
    ck_assert_uint_eq(r->mirrors[0].connect_timeout_ms, 500);
    config_free(&c);

    config_defaults(&c);
    ck_assert(config_add_catch_all(&c, "http://[::1]:9000", "12.5", &errs));
    ck_assert_uint_eq(c.routes[0].mirrors[0].percent_millionths, 125000);
    ck_assert_str_eq(c.routes[0].mirrors[0].host, "::1");
    /* A second "default" route is refused; so is a YAML route of that name. */
    ck_assert(!config_add_catch_all(&c, "http://m", NULL, &errs));
    ck_assert_uint_eq(errs.count, 1);
    ck_assert_ptr_nonnull(strstr(errs.items[0], "--mirror: a route named \"default\" already exists"));
    const char *yaml = "routes: [{name: default, mirrors: [{url: http://n}]}]\n";
    ck_assert(!config_load_string(&c, yaml, strlen(yaml), "t.yaml", &errs));
    ck_assert_uint_eq(errs.count, 2);
    ck_assert_str_eq(
        errs.items[1],
        "t.yaml:1: routes[0].name: duplicate route name \"default\" (already defined by --mirror)");
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

START_TEST(catch_all_errors)
{
    struct config c;
    struct config_errors errs = {0};
    config_defaults(&c);
    ck_assert(!config_add_catch_all(&c, "ftp://m", "150", &errs));
    ck_assert_uint_eq(errs.count, 2);
    ck_assert_str_eq(errs.items[0],
                     "--mirror: only http:// and https:// mirrors are supported, got \"ftp://m\"");
    ck_assert_str_eq(errs.items[1], "--percent: must be a number from 0 to 100, got \"150\"");
    ck_assert(!config_add_catch_all(&c, "http://m", "0.00001", &errs));
    ck_assert_uint_eq(errs.count, 3);
    ck_assert_str_eq(errs.items[2],
                     "--percent: must have at most 4 decimals (precision 0.0001), got \"0.00001\"");
    ck_assert(!config_add_catch_all(&c, "m:80", NULL, &errs));
    ck_assert_uint_eq(errs.count, 4);
    ck_assert_ptr_nonnull(strstr(errs.items[3], "--mirror: must be an absolute http:// or https:// URL"));
    ck_assert_uint_eq(c.n_routes, 0);
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

/* ---- percent ---- */

struct pct_case {
    const char *text;
    enum config_percent_result want;
    uint32_t millionths;
};

/* "1e2" is refused: only plain decimal text is exact, and it is documented so. */
static const struct pct_case pct_cases[] = {
    {"0.0001", CONFIG_PERCENT_OK, 1},
    {"50", CONFIG_PERCENT_OK, 500000},
    {"50.0", CONFIG_PERCENT_OK, 500000},
    {"100", CONFIG_PERCENT_OK, 1000000},
    {"100.0000", CONFIG_PERCENT_OK, 1000000},
    {"33.3333", CONFIG_PERCENT_OK, 333333},
    {"0", CONFIG_PERCENT_OK, 0},
    {"0.5", CONFIG_PERCENT_OK, 5000},
    {"12.34", CONFIG_PERCENT_OK, 123400},
    {"99.9999", CONFIG_PERCENT_OK, 999999},
    {"007", CONFIG_PERCENT_OK, 70000},
    {"100.0001", CONFIG_PERCENT_BAD, 0},
    {"101", CONFIG_PERCENT_BAD, 0},
    {"1000000000000000000000", CONFIG_PERCENT_BAD, 0},
    {"1e2", CONFIG_PERCENT_BAD, 0},
    {"-1", CONFIG_PERCENT_BAD, 0},
    {"-0", CONFIG_PERCENT_BAD, 0},
    {"+5", CONFIG_PERCENT_BAD, 0},
    {"", CONFIG_PERCENT_BAD, 0},
    {".5", CONFIG_PERCENT_BAD, 0},
    {"5.", CONFIG_PERCENT_BAD, 0},
    {" 5", CONFIG_PERCENT_BAD, 0},
    {"5 ", CONFIG_PERCENT_BAD, 0},
    {"5%", CONFIG_PERCENT_BAD, 0},
    {"0x10", CONFIG_PERCENT_BAD, 0},
    {"1.2.3", CONFIG_PERCENT_BAD, 0},
    {"nan", CONFIG_PERCENT_BAD, 0},
    {"33.33333", CONFIG_PERCENT_PRECISION, 0},
    {"0.00001", CONFIG_PERCENT_PRECISION, 0},
    {"50.00000", CONFIG_PERCENT_PRECISION, 0},
    {"100.00000", CONFIG_PERCENT_PRECISION, 0},
};
#define N_PCT (sizeof(pct_cases) / sizeof(pct_cases[0]))

START_TEST(percent_parse)
{
    const struct pct_case *pc = &pct_cases[_i];
    uint32_t out = 4242;
    enum config_percent_result r = config_percent_parse(pc->text, &out);
    ck_assert_msg(r == pc->want, "\"%s\": got result %d, want %d", pc->text, r, pc->want);
    uint32_t want_out = r == CONFIG_PERCENT_OK ? pc->millionths : 4242; /* untouched on error */
    ck_assert_uint_eq(out, want_out);

    /* The same text through a YAML file, quoted so that any text survives. */
    char yaml[256];
    snprintf(yaml, sizeof(yaml), R0 "        percent: \"%s\"\n", pc->text);
    struct config c;
    struct config_errors errs;
    bool ok = load(yaml, &c, &errs);
    ck_assert_msg(ok == (pc->want == CONFIG_PERCENT_OK), "\"%s\" through YAML", pc->text);
    if (ok)
        ck_assert_uint_eq(c.routes[0].mirrors[0].percent_millionths, pc->millionths);
    else
        ck_assert(has_error(&errs, "t.yaml:5: routes[0].mirrors[0].percent: "));
    config_free(&c);
    config_errors_free(&errs);
}
END_TEST

/* ---- URLs and host:port ---- */

struct url_case {
    const char *url;
    const char *host; /* NULL: refused */
    uint16_t port;
    const char *base;
};

static const struct url_case url_cases[] = {
    {"http://a", "a", 80, ""},
    {"http://a/", "a", 80, ""},
    {"http://a//", "a", 80, ""},
    {"HTTP://A.Example.COM:8080/x/y/", "a.example.com", 8080, "/x/y"},
    {"http://svc.ns.svc.cluster.local.:8000/p%2Fq", "svc.ns.svc.cluster.local.", 8000, "/p%2Fq"},
    {"http://[::1]:8080", "::1", 8080, ""},
    {"http://[::1]", "::1", 80, ""},
    {"http://[2001:DB8::1]:1/b", "2001:db8::1", 1, "/b"},
    {"http://10.1.2.3:65535", "10.1.2.3", 65535, ""},
    {"http://my_host-1:80/a:b@c", "my_host-1", 80, "/a:b@c"},
    {"https://a", "a", 443, ""},
    {"HTTPS://a:8443/b/", "a", 8443, "/b"},
    {"https://[::1]", "::1", 443, ""},
    {"httpss://a", NULL, 0, NULL},
    {"http2://a", NULL, 0, NULL},
    {"http://a:65536", NULL, 0, NULL},
    {"http://a:-1", NULL, 0, NULL},
    {"http://a:1:2", NULL, 0, NULL},
    {"http://[::1]x", NULL, 0, NULL},
    {"http://[]:80", NULL, 0, NULL},
    {"http://a..b", NULL, 0, NULL},
    {"http://.a", NULL, 0, NULL},
    {"http://1.2.3", NULL, 0, NULL},
    {"http://a/b c", NULL, 0, NULL},
    {"http://a/%4", NULL, 0, NULL},
    {"http:/a", NULL, 0, NULL},
    {"://a", NULL, 0, NULL},
    {"httpx://a", NULL, 0, NULL},
    {"http://", NULL, 0, NULL},
};
#define N_URL (sizeof(url_cases) / sizeof(url_cases[0]))

START_TEST(url_parse)
{
    const struct url_case *uc = &url_cases[_i];
    struct config_url u = {0};
    char err[192] = "";
    bool ok = config_url_parse(uc->url, &u, err, sizeof(err));
    ck_assert_msg(ok == (uc->host != NULL), "%s: %s", uc->url, err);
    if (ok) {
        ck_assert_str_eq(u.scheme, strncasecmp(uc->url, "https:", 6) == 0 ? "https" : "http");
        ck_assert_str_eq(u.host, uc->host);
        ck_assert_uint_eq(u.port, uc->port);
        ck_assert_str_eq(u.base_path, uc->base);
    } else {
        ck_assert_msg(err[0] != '\0', "%s: no message", uc->url);
        ck_assert_ptr_null(u.host);
    }
    config_url_free(&u);
}
END_TEST

START_TEST(hostport_and_helpers)
{
    char err[192];
    char *host = NULL;
    uint16_t port = 1;
    ck_assert(config_hostport_parse("Example.com", 0, &host, &port, err, sizeof(err)));
    ck_assert_str_eq(host, "example.com");
    ck_assert_uint_eq(port, 0);
    free(host);
    ck_assert(config_hostport_parse("[fe80::1]:0", CONFIG_HP_PORT_REQUIRED | CONFIG_HP_PORT_ZERO, &host,
                                    &port, err, sizeof(err)));
    ck_assert_str_eq(host, "fe80::1");
    ck_assert_uint_eq(port, 0);
    free(host);
    ck_assert(!config_hostport_parse("h:0", CONFIG_HP_PORT_REQUIRED, NULL, NULL, err, sizeof(err)));
    ck_assert(!config_hostport_parse("h", CONFIG_HP_PORT_REQUIRED, NULL, NULL, err, sizeof(err)));
    ck_assert_str_eq(err, "a port is required");
    ck_assert(!config_hostport_parse("", 0, NULL, NULL, err, sizeof(err)));
    ck_assert_str_eq(err, "empty host");

    ck_assert(config_is_token("x-request-id"));
    ck_assert(config_is_token("PURGE"));
    ck_assert(!config_is_token(""));
    ck_assert(!config_is_token("a b"));
    ck_assert(!config_is_token("a:b"));
    ck_assert(!config_is_token("\xc3\xa9"));
    ck_assert(config_is_header_value(""));
    ck_assert(config_is_header_value("a b\tc \xc3\xa9"));
    ck_assert(!config_is_header_value(" a"));
    ck_assert(!config_is_header_value("a\r\nb"));

    uint32_t v = 7;
    ck_assert(config_u32_parse("4294967295", 0, UINT32_MAX, &v));
    ck_assert_uint_eq(v, UINT32_MAX);
    ck_assert(!config_u32_parse("4294967296", 0, UINT32_MAX, &v));
    ck_assert(!config_u32_parse("", 0, 10, &v));
    ck_assert(!config_u32_parse("5", 6, 10, &v));
    ck_assert_uint_eq(v, UINT32_MAX);

    char q[16];
    ck_assert_str_eq(config_quote(q, sizeof(q), "a\"b\n"), "\"a\\\"b\\x0a\"");
    ck_assert_str_eq(config_quote(q, sizeof(q), "abcdefghijklmnop"), "\"abcdefghij...\"");
}
END_TEST

Suite *config_suite(void);

/* config_suite: the Check suite for config.h, config_url.h and config_value.h. */
Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("bad");
    tcase_add_loop_test(tc, bad_config_reports, 0, (int)N_BAD);
    suite_add_tcase(s, tc);

    tc = tcase_create("valid");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, minimal_file_defaults);
    tcase_add_test(tc, full_round_trip);
    tcase_add_test(tc, shipped_example_loads);
    tcase_add_test(tc, shipped_capture_example_loads);
    tcase_add_test(tc, lenient_forms);
    tcase_add_test(tc, aliases_resolve);
    tcase_add_loop_test(tc, headers_refused_iff_shaper_drops, 0, (int)N_HEADER_NAMES);
    tcase_add_test(tc, reserved_headers_all_reported);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, two_errors_both_reported);
    tcase_add_test(tc, errors_everywhere);
    tcase_add_test(tc, error_cap);
    tcase_add_test(tc, alias_budget);
    tcase_add_test(tc, file_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("flags");
    tcase_add_test(tc, catch_all);
    tcase_add_test(tc, catch_all_errors);
    tcase_add_test(tc, capture_mirrors);
    tcase_add_test(tc, capture_url_parse);
    suite_add_tcase(s, tc);

    tc = tcase_create("values");
    tcase_add_loop_test(tc, percent_parse, 0, (int)N_PCT);
    tcase_add_loop_test(tc, url_parse, 0, (int)N_URL);
    tcase_add_test(tc, hostport_and_helpers);
    suite_add_tcase(s, tc);
    return s;
}
