/* Command-line options. Values given on the command line override the file. */
#ifndef SPOA_OPTIONS_H
#define SPOA_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

struct options {
    const char *config_path;  /* -c FILE */
    const char *listen;       /* --listen ADDR:PORT */
    const char *threads;      /* --threads N */
    const char *log_level;    /* --log-level LEVEL */
    const char *log_format;   /* --log-format logfmt|json */
    const char *admin_listen; /* --admin-listen ADDR:PORT */
    const char *max_frame;    /* --max-frame-size N */
    const char *max_conns;    /* --max-connections N */
    const char *idle_timeout; /* --idle-timeout-ms N */
    const char *mirror_url;   /* --mirror URL */
    const char *percent;      /* --percent P */
    bool check_config;
    bool version;
    bool help;
};

/* options_parse: reads argv into *o (pointers into argv). Returns 0, or -1
 * with a message in <err> for an unknown option, a missing value or a stray
 * argument. */
int options_parse(struct options *o, int argc, char **argv, char *err, size_t err_len);

/* options_usage: the --help text. */
const char *options_usage(void);

#endif
