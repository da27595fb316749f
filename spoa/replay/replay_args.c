/* See replay_args.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse_num.h"
#include "replay/replay_args.h"
#include "core/xalloc.h"

#define MAX_SPEED 1e6
#define MAX_RATE  1e6

const char *replay_usage(void)
{
    return "usage: spoa-shadow replay FILE|DIR --target URL [options]\n"
           "  Sends the requests of a capture (a file, or every *.msgpack file of a directory\n"
           "  in name order) to URL (http[s]://host[:port][/base]) and prints a summary.\n"
           "  --speed X          original pacing divided by X (default 1.0)\n"
           "  --rate RPS         a fixed rate instead of the original pacing\n"
           "  --concurrency N    requests in flight at most (default 16)\n"
           "  --authority MODE   Host sent: shadow (recorded shadow authority, default), keep\n"
           "                     (original), target (URL's host:port) or a literal host[:port]\n"
           "  --filter-route R   only the records of route R\n"
           "  --timeout-ms N     per-request timeout, connect included (default 10000)\n"
           "  --ca-file FILE     CAs (PEM) verifying an https:// target (default: the system's)\n"
           "  --protocol P       http1.1 (default), h2c (http:// only), h2 (https:// only, ALPN h2)\n"
           "                     or auto (https://: what ALPN selects of h2 and http/1.1)\n"
           "Exit status: 0 all sent and answered; 1 a request failed (dropped, connect error,\n"
           "timeout, I/O error, not writable as HTTP/1.1); 2 usage or setup error; 3 a capture\n"
           "file was damaged (its valid records were replayed); 130 interrupted.\n";
}

static bool parse_pos_double(const char *s, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > max)
        return false;
    *out = v;
    return true;
}

/* --authority: the mode, or a literal host[:port] checked for syntax. */
static int parse_authority(struct replay_opts *o, const char *v, char *err, size_t err_len)
{
    if (!strcmp(v, "shadow")) {
        o->shape.authority = REPLAY_AUTH_SHADOW;
        return 0;
    }
    if (!strcmp(v, "keep")) {
        o->shape.authority = REPLAY_AUTH_KEEP;
        return 0;
    }
    o->shape.authority = REPLAY_AUTH_FIXED;
    if (!strcmp(v, "target"))
        return 0; /* filled from the URL once it is known */
    char msg[200];
    if (!config_hostport_parse(v, 0, NULL, NULL, msg, sizeof(msg))) {
        snprintf(err, err_len, "--authority: must be keep, shadow, target or a host[:port], got \"%s\" (%s)",
                 v, msg);
        return -1;
    }
    o->fixed_authority = xstrdup(v);
    return 0;
}

/* --protocol: one of the values of a mirror's protocol key. */
static int parse_protocol(struct replay_opts *o, const char *v, char *err, size_t err_len)
{
    static const enum config_protocol all[] = {CONFIG_PROTO_HTTP1, CONFIG_PROTO_H2, CONFIG_PROTO_H2C,
                                               CONFIG_PROTO_AUTO};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (!strcmp(v, config_protocol_str(all[i]))) {
            o->protocol = all[i];
            return 0;
        }
    }
    snprintf(err, err_len, "--protocol: must be http1.1, h2, h2c or auto, got \"%s\"", v);
    return -1;
}

/* The target's "host:port" (an IPv6 literal in brackets). */
static char *target_authority(const struct config_url *u)
{
    bool v6 = strchr(u->host, ':') != NULL;
    size_t len = strlen(u->host) + 16;
    char *s = xmalloc(len);
    snprintf(s, len, v6 ? "[%s]:%u" : "%s:%u", u->host, (unsigned)u->port);
    return s;
}

static int parse_one(struct replay_opts *o, const char *flag, const char *v, char *err, size_t err_len,
                     const char **url)
{
    uint64_t n;
    if (!strcmp(flag, "--target")) {
        *url = v;
    } else if (!strcmp(flag, "--speed")) {
        if (!parse_pos_double(v, MAX_SPEED, &o->speed))
            goto range;
    } else if (!strcmp(flag, "--rate")) {
        if (!parse_pos_double(v, MAX_RATE, &o->rate))
            goto range;
    } else if (!strcmp(flag, "--concurrency")) {
        if (!parse_u64(v, 1, 100000, &n))
            goto range;
        o->concurrency = (uint32_t)n;
    } else if (!strcmp(flag, "--timeout-ms")) {
        if (!parse_u64(v, 1, 3600000, &n))
            goto range;
        o->timeout_ms = (uint32_t)n;
    } else if (!strcmp(flag, "--ca-file")) {
        o->ca_file = v;
    } else if (!strcmp(flag, "--protocol")) {
        return parse_protocol(o, v, err, err_len);
    } else if (!strcmp(flag, "--filter-route")) {
        o->filter_route = v;
    } else if (!strcmp(flag, "--authority")) {
        free(o->fixed_authority);
        o->fixed_authority = NULL;
        return parse_authority(o, v, err, err_len);
    } else {
        snprintf(err, err_len, "unknown option %s", flag);
        return -1;
    }
    return 0;
range:
    snprintf(err, err_len, "%s: invalid or out-of-range value \"%s\"", flag, v);
    return -1;
}

int replay_args_parse(struct replay_opts *o, int argc, char **argv, char *err, size_t err_len)
{
    memset(o, 0, sizeof(*o));
    o->concurrency = REPLAY_DEFAULT_CONCURRENCY;
    o->timeout_ms = REPLAY_DEFAULT_TIMEOUT_MS;
    o->shape.base_path = "";
    const char *url = NULL;
    bool speed_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            o->help = true;
            continue;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (o->input) {
                snprintf(err, err_len, "one FILE or DIR only, got \"%s\" too", a);
                goto fail;
            }
            o->input = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        char flag[32];
        const char *v;
        if (eq && a[1] == '-') { /* --flag=value */
            snprintf(flag, sizeof(flag), "%.*s", (int)(eq - a) < 31 ? (int)(eq - a) : 31, a);
            v = eq + 1;
        } else {
            snprintf(flag, sizeof(flag), "%s", a);
            if (i + 1 >= argc) {
                snprintf(err, err_len, "%s needs a value", a);
                goto fail;
            }
            v = argv[++i];
        }
        speed_given |= !strcmp(flag, "--speed");
        if (parse_one(o, flag, v, err, err_len, &url) != 0)
            goto fail;
    }
    if (o->help)
        return 0;
    if (speed_given && o->rate > 0) {
        snprintf(err, err_len, "--speed and --rate exclude each other");
        goto fail;
    }
    if (!speed_given)
        o->speed = 1.0;
    if (!o->input || !url) {
        snprintf(err, err_len, "%s", !o->input ? "missing FILE or DIR" : "missing --target URL");
        goto fail;
    }
    char msg[200];
    if (!config_url_parse(url, &o->target, msg, sizeof(msg))) {
        snprintf(err, err_len, "--target: %s", msg);
        goto fail;
    }
    bool https = !strcmp(o->target.scheme, "https");
    if ((o->protocol == CONFIG_PROTO_H2C && https) || (o->protocol == CONFIG_PROTO_H2 && !https)) {
        snprintf(err, err_len, "--protocol %s needs an %s target", config_protocol_str(o->protocol),
                 https ? "http://" : "https://");
        goto fail;
    }
    o->shape.base_path = o->target.base_path;
    if (o->shape.authority == REPLAY_AUTH_FIXED && !o->fixed_authority)
        o->fixed_authority = target_authority(&o->target);
    o->shape.fixed_authority = o->fixed_authority;
    return 0;
fail:
    replay_args_free(o);
    return -1;
}

void replay_args_free(struct replay_opts *o)
{
    config_url_free(&o->target);
    free(o->fixed_authority);
    o->fixed_authority = NULL;
    o->shape.fixed_authority = NULL;
    o->shape.base_path = "";
}
