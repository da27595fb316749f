/* The command line of `spoa-shadow replay`. */
#ifndef SPOA_REPLAY_ARGS_H
#define SPOA_REPLAY_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/config_url.h"
#include "replay/replay_request.h"

#define REPLAY_DEFAULT_CONCURRENCY 16
#define REPLAY_DEFAULT_TIMEOUT_MS  10000

struct replay_opts {
    const char *input;        /* FILE or DIR (argv) */
    struct config_url target; /* --target URL (owned) */
    double speed;             /* --speed X: > 0; 1.0 by default */
    double rate;              /* --rate RPS: > 0 replaces the captured pacing; 0 when absent */
    uint32_t concurrency;     /* --concurrency N */
    uint32_t timeout_ms;      /* --timeout-ms N */
    struct replay_shape shape;
    char *fixed_authority;         /* owned: the target's host:port, or the literal */
    const char *filter_route;      /* --filter-route NAME, or NULL */
    const char *ca_file;           /* --ca-file FILE: CAs verifying an https target; NULL = the system's */
    enum config_protocol protocol; /* --protocol: http1.1 (default), h2, h2c or auto */
    bool help;
};

/* replay_args_parse: reads argv (argv[0] is "replay") into *o. Returns 0, or
 * -1 with a message in <err> (size <err_len>): unknown option, missing or
 * out-of-range value, both --speed and --rate, no input or no --target,
 * a --protocol the target's scheme contradicts (h2c with https, h2 with http).
 * On -1 nothing needs freeing; on 0 call replay_args_free(). */
int replay_args_parse(struct replay_opts *o, int argc, char **argv, char *err, size_t err_len);

/* replay_args_free: releases what replay_args_parse allocated. */
void replay_args_free(struct replay_opts *o);

/* replay_usage: the help text. */
const char *replay_usage(void);

#endif
