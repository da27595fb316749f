/* The agent's configuration model: the immutable struct the rest of the
 * agent reads, its defaults, lookups and release. It is filled by the loaders
 * of config_load.h (the YAML file of -c FILE, the --mirror catch-all), which
 * validate every value; this header knows nothing of them. */
#ifndef SPOA_CONFIG_H
#define SPOA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"

/* How the mirrored request's authority (Host) is chosen. */
enum authority_mode {
    AUTHORITY_SHADOW = 0, /* "<host>-shadow", the suffix before any port */
    AUTHORITY_KEEP,       /* the original host */
    AUTHORITY_LITERAL,    /* a fixed host name: config_mirror.authority_literal */
};

/* The HTTP version a mirror's copies are sent with (the `protocol` key). */
enum config_protocol {
    CONFIG_PROTO_HTTP1 = 0, /* "http1.1": HTTP/1.1 (over TLS for https://); default */
    CONFIG_PROTO_H2,        /* "h2": HTTP/2 over TLS (https:// only), ALPN "h2" offered and required */
    CONFIG_PROTO_H2C,       /* "h2c": cleartext HTTP/2 with prior knowledge (http:// only) */
    CONFIG_PROTO_AUTO,      /* "auto": https:// offers ALPN "h2,http/1.1" and uses the server's pick;
                               http:// means http1.1 */
};

/* config_protocol_str: the configuration's name of <p> ("http1.1", "h2", ...). */
const char *config_protocol_str(enum config_protocol p);

/* What the sampling decision is drawn from. */
enum sample_mode {
    SAMPLE_RANDOM = 0, /* a fresh random draw per request */
    SAMPLE_HEADER,     /* a hash of a request header: same value -> same decision on every agent */
    SAMPLE_COOKIE,     /* a hash of a cookie's value */
};

/* Defaults of a capture mirror's settings. */
#define CAPTURE_DEFAULT_ROTATE_BYTES    (64ull << 20)
#define CAPTURE_DEFAULT_ROTATE_MS       300000u
#define CAPTURE_DEFAULT_MAX_TOTAL_BYTES (1ull << 30)
#define CAPTURE_DEFAULT_MAX_FILES       100u
#define CAPTURE_DEFAULT_MAX_QUEUE       4096u

/* Settings of a capture mirror (url "file:///dir"): requests are written to
 * files in <dir> instead of being sent (see capture_writer.h). */
struct config_capture {
    char *dir;                /* absolute; no trailing '/', no empty, "." or ".." segment */
    uint64_t rotate_bytes;    /* a file is finished before it would grow past this; default 64 MiB */
    uint32_t rotate_ms;       /* ... and this long after it was opened; 0 = no age limit; default 300000 */
    uint64_t max_total_bytes; /* capture files in <dir>, the open one included; default 1 GiB */
    uint32_t max_files;       /* finished files kept (the oldest go first); default 100 */
    uint32_t max_queue;       /* records waiting for the writer thread; default 4096 */
    char **redact_headers;    /* lowercase names whose values are written as "<redacted>" */
    size_t n_redact_headers;
    uint32_t max_rps; /* a compare block's diff log only: records per second at most; default 100 */
};

/* How two statuses are compared. */
enum compare_status_mode {
    COMPARE_STATUS_EXACT = 0, /* 200 vs 201 differ */
    COMPARE_STATUS_CLASS,     /* 200 vs 201 agree (2xx); 200 vs 404 differ */
};

/* How two bodies are compared. */
enum compare_body_mode {
    COMPARE_BODY_OFF = 0, /* not at all */
    COMPARE_BODY_BYTES,   /* by digest (xxh3-64 of the first max_body_bytes) */
    COMPARE_BODY_JSON,    /* parsed and compared value by value, ignore_json_paths left out */
};

/* Defaults of a compare block. */
#define COMPARE_DEFAULT_MAX_BODY_BYTES   65536u
#define COMPARE_DEFAULT_MATCH_TIMEOUT_MS 5000u
#define COMPARE_DEFAULT_MAX_PENDING      10000u
#define COMPARE_DEFAULT_DIFF_LOG_RPS     100u

/* The comparison of a mirror's answers with the primary's (an http mirror's
 * `compare:` block). */
struct config_compare {
    uint32_t percent_millionths; /* share of the mirrored requests compared; default 100% */
    enum compare_status_mode status;
    char **headers; /* lowercase names compared; "*" = every header; default content-type */
    size_t n_headers;
    char **ignore_headers; /* lowercase names never compared (with "*"); default date */
    size_t n_ignore_headers;
    enum compare_body_mode body; /* default bytes */
    char **ignore_json_paths;    /* patterns (core/json_path.h), as written and valid */
    size_t n_ignore_json_paths;
    char **redact_json_paths; /* values at these paths are masked in the diff log */
    size_t n_redact_json_paths;
    uint32_t max_body_bytes;   /* body bytes hashed and kept per side; default 64 KiB */
    uint32_t match_timeout_ms; /* how long one side waits for the other; default 5000 */
    uint32_t max_pending;      /* requests waiting for their other side, per agent; default 10000 */
    /* The diff log: NULL = none. Its dir, rotation and caps (its
     * redact_headers mask header values in records). */
    struct config_capture *diff_log;
    /* Optional: the URL of another compared mirror of the same route that
     * runs the primary's version; what differs between the primary and it
     * is learned as noise and left out of this mirror's verdicts. */
    char *noise_mirror;
    int noise_index; /* its index in the route, -1 when none */
};

/* The oldest TLS version a mirror's connections accept. */
enum config_tls_version {
    CONFIG_TLS_1_2 = 0, /* default */
    CONFIG_TLS_1_3,
};

/* TLS settings of an https mirror (the `tls:` block; every https mirror has
 * one, with these defaults when the block is absent). Paths are as written
 * (relative ones from the agent's working directory), checked readable at
 * load time; the TLS layer loads them when it builds the mirror's context. */
struct config_tls {
    char *ca_file;     /* CAs (PEM) that verify the mirror; NULL = the system's default store */
    char *cert_file;   /* client certificate (PEM, chain allowed) for mTLS; set with key_file, or neither */
    char *key_file;    /* its private key (PEM) */
    char *server_name; /* SNI and the name verified; NULL = the URL host (no SNI for an IP literal) */
    enum config_tls_version min_version;
    bool insecure_skip_verify; /* no certificate or name check at all; default false */
    int line;                  /* of the block, or of the mirror when absent */
};

struct config_header_set {
    char *name; /* lowercase */
    char *value;
};

struct config_mirror {
    char *url;                   /* as written, e.g. "http://svc.ns.svc.cluster.local:8000" */
    char *scheme;                /* "http", "https", or "file" for a capture mirror */
    char *host;                  /* host name or address literal, without brackets; NULL for file */
    uint16_t port;               /* 80 (443 for https) when absent; 0 for file */
    char *base_path;             /* path prefix from the URL, "" when none; never ends in '/' */
    uint32_t percent_millionths; /* percent * 10000: 0..1000000 (precision 0.0001%) */
    enum authority_mode authority;
    char *authority_literal; /* AUTHORITY_LITERAL only */
    enum sample_mode sample_by;
    char *sample_key;               /* header name (lowercase) or cookie name; NULL for random */
    uint32_t timeout_ms;            /* whole exchange with the mirror; default 1000 */
    uint32_t connect_timeout_ms;    /* default: min(timeout_ms, 500) */
    uint32_t max_inflight;          /* per thread; default 256 */
    uint32_t max_queue;             /* per thread; default 1024 */
    uint32_t max_rps;               /* per agent; 0 = no limit */
    uint32_t max_response_bytes;    /* response body read at most; default 65536 */
    uint32_t max_connection_age_ms; /* older kept-alive connections are not reused; 0 = none; default 60000 */
    uint32_t response_read_delay_ms; /* answers are read at most this often, with other wake-ups; 0 = at once;
                                        default 2 */
    uint32_t request_write_delay_ms; /* HTTP/2: new streams wait this long for others; 0 = none; default 2 */
    enum config_protocol protocol;   /* default http1.1; h2c needs http://, h2 https:// */
    struct config_header_set *headers_set;
    size_t n_headers_set;
    char **headers_remove; /* lowercase names */
    size_t n_headers_remove;
    struct config_capture *capture; /* set for a capture mirror (scheme "file"), NULL for http */
    struct config_tls *tls;         /* set for an https mirror, NULL otherwise */
    struct config_compare *compare; /* set when the mirror's answers are compared, else NULL */
    int line;                       /* where it was defined, for messages */
};

/* Default and largest max_response_bytes of a mirror. */
#define CONFIG_DEFAULT_MAX_RESPONSE_BYTES 65536u
#define CONFIG_MAX_RESPONSE_BYTES         (1u << 30)

/* Mirrors one route may list (the sampling decision is a 64-bit mask). */
#define CONFIG_MAX_MIRRORS_PER_ROUTE 64

struct config_route {
    char *name;
    char **hosts; /* exact ("httpbin:8000") or "*.suffix"; lowercase; none = any */
    size_t n_hosts;
    char *path_prefix; /* NULL = any */
    char **methods;    /* uppercase; none = any */
    size_t n_methods;
    struct config_mirror *mirrors;
    size_t n_mirrors;
    int line;
};

/* Defaults and limits of the store of body slices (body_parts). */
#define BODY_PARTS_DEFAULT_MAX_ENTRIES    1024u
#define BODY_PARTS_DEFAULT_MAX_BYTES      (64u << 20)
#define BODY_PARTS_DEFAULT_MAX_BODY_BYTES (1u << 20)
#define BODY_PARTS_DEFAULT_TIMEOUT_MS     5000u
#define BODY_PARTS_MAX_ENTRIES            100000u
#define BODY_PARTS_MAX_BODY_BYTES         (1u << 30)

/* Bodies larger than one SPOP frame, which HAProxy sends in slices (see
 * haproxy-conf/README.md): how many requests' slices, and how many bytes,
 * the agent holds at once, the largest body it assembles, and how long the
 * slices of a request wait for its `mirror` message. */
struct config_body_parts {
    uint32_t max_entries;    /* default 1024 */
    uint32_t max_bytes;      /* default 64 MiB; at least max_body_bytes */
    uint32_t max_body_bytes; /* default 1 MiB */
    uint32_t timeout_ms;     /* default 5000 */
};

struct config {
    char *path; /* the file it came from, or NULL for flags only */
    /* spop: */
    char *spop_listen;        /* default "127.0.0.1:12345" */
    int threads;              /* 0 = number of CPUs */
    uint32_t max_frame_size;  /* default 16380; 256..16777216 */
    uint32_t max_connections; /* default 1024 */
    uint32_t idle_timeout_ms; /* default 600000; 0 = never */
    /* admin: */
    char *admin_listen; /* default "127.0.0.1:9901" */
    /* log: */
    enum log_level log_level; /* default info */
    /* drain_timeout_ms, default 5000: how long shutdown waits for in-flight mirrors */
    uint32_t drain_timeout_ms;
    /* resolve_interval_ms, default 30000 (1000..3600000): how often mirror
     * host names are resolved again (Kubernetes Service IPs can change) */
    uint32_t resolve_interval_ms;
    struct config_body_parts body_parts;
    struct config_route *routes;
    size_t n_routes;
};

/* config_defaults: fills *c with every default and no routes; *c owns what
 * it holds (release it with config_free()). */
void config_defaults(struct config *c);

/* config_mirror_defaults: fills *m with the defaults of a mirror (100%,
 * authority shadow, random sampling, timeouts 1000/500 ms, 256 in flight,
 * queue 1024, no rps limit, response bodies read up to 64 KiB, connections
 * reused for 60 s at most) and no URL, headers or strings. */
void config_mirror_defaults(struct config_mirror *m);

/* config_find_route: the route named <name>, or NULL. */
const struct config_route *config_find_route(const struct config *c, const char *name);

/* config_capture_new: a capture block holding every default (the default
 * redact list: authorization, cookie, set-cookie, proxy-authorization,
 * x-api-key) and no directory. Caller frees with config_capture_free(). */
struct config_capture *config_capture_new(void);

/* config_capture_free: releases <cap> and what it owns; NULL is fine. */
void config_capture_free(struct config_capture *cap);

/* config_tls_new: a tls block holding every default (system CAs, no client
 * certificate, SNI from the URL host, TLS 1.2 or later, verification on),
 * attributed to <line>. Caller frees with config_tls_free(). */
struct config_tls *config_tls_new(int line);

/* config_tls_free: releases <t> and what it owns; NULL is fine. */
void config_tls_free(struct config_tls *t);
/* config_compare_new: a compare block holding every default (100%, exact
 * status, headers [content-type], ignore_headers [date], body bytes, 64 KiB,
 * 5000 ms, 10000 pending, no diff log; a diff log's max_rps defaults to 100). Caller frees with
 * config_compare_free(). */
struct config_compare *config_compare_new(void);

/* config_compare_free: releases <cmp> and what it owns; NULL is fine. */
void config_compare_free(struct config_compare *cmp);

/* config_free: releases everything *c owns and zeroes it. */
void config_free(struct config *c);

#endif
