#include "app/options.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: spoa-shadow [-c FILE] [--listen ADDR:PORT] [--threads N] [--log-level LEVEL]\n"
    "                   [--log-format logfmt|json] [--admin-listen ADDR:PORT]\n"
    "                   [--max-frame-size N] [--max-connections N] [--idle-timeout-ms N]\n"
    "                   [--mirror URL [--percent P]] [--check-config] [--version] [--help]\n"
    "\n"
    "Mirrors HTTP requests that HAProxy sends over SPOP to shadow services.\n"
    "\n"
    "  -c, --config FILE        YAML configuration file\n"
    "  -l, --listen ADDR:PORT   SPOP listen address (default 127.0.0.1:12345)\n"
    "  -t, --threads N          worker threads (default: number of CPUs)\n"
    "      --log-level LEVEL    error, warn, info (default) or debug\n"
    "      --log-format FORMAT  logfmt (default) or json\n"
    "      --admin-listen ADDR  admin endpoint: /metrics, /healthz, /readyz, /-/reload\n"
    "                           (default 127.0.0.1:9901)\n"
    "      --max-frame-size N   largest SPOP frame accepted, 256..16777216 (default 16380)\n"
    "      --max-connections N  SPOP connections at most (default 1024)\n"
    "      --idle-timeout-ms N  close SPOP connections idle this long, 0 = never (default 600000)\n"
    "      --mirror URL         mirror every request to URL (one catch-all route)\n"
    "      --percent P          with --mirror: the percentage mirrored, 0..100 (default 100)\n"
    "      --check-config       validate the configuration, print errors, and exit\n"
    "  -V, --version            print the version and exit\n"
    "  -h, --help               print this help and exit\n"
    "\n"
    "Signals: SIGHUP reloads the configuration file; SIGTERM or SIGINT drain and\n"
    "exit (a second one exits at once).\n";

const char *options_usage(void)
{
    return usage;
}

struct option_spec {
    const char *long_name;
    char short_name;
    size_t value_offset; /* offset of the const char * field (values only) */
    size_t flag_offset;  /* offset of the bool field; non-zero exactly for flags */
};

#define VAL(field)  offsetof(struct options, field), 0
#define FLAG(field) 0, offsetof(struct options, field)

/* clang-format off */
static const struct option_spec specs[] = {
    {"config",          'c', VAL(config_path)},
    {"listen",          'l', VAL(listen)},
    {"threads",         't', VAL(threads)},
    {"log-level",        0,  VAL(log_level)},
    {"log-format",       0,  VAL(log_format)},
    {"admin-listen",     0,  VAL(admin_listen)},
    {"max-frame-size",   0,  VAL(max_frame)},
    {"max-connections",  0,  VAL(max_conns)},
    {"idle-timeout-ms",  0,  VAL(idle_timeout)},
    {"mirror",           0,  VAL(mirror_url)},
    {"percent",          0,  VAL(percent)},
    {"check-config",     0,  FLAG(check_config)},
    {"version",         'V', FLAG(version)},
    {"help",            'h', FLAG(help)},
};
/* clang-format on */

static const struct option_spec *find_spec(const char *arg, const char **inline_value)
{
    *inline_value = NULL;
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        const struct option_spec *s = &specs[i];
        if (arg[0] == '-' && arg[1] != '-' && arg[1] != '\0' && arg[2] == '\0' && s->short_name == arg[1])
            return s;
        if (arg[0] == '-' && arg[1] == '-') {
            size_t n = strlen(s->long_name);
            if (strncmp(arg + 2, s->long_name, n) == 0) {
                if (arg[2 + n] == '\0')
                    return s;
                if (arg[2 + n] == '=' && !s->flag_offset) {
                    *inline_value = arg + 3 + n;
                    return s;
                }
            }
        }
    }
    return NULL;
}

int options_parse(struct options *o, int argc, char **argv, char *err, size_t err_len)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value;
        const struct option_spec *s = find_spec(arg, &value);
        if (!s) {
            snprintf(err, err_len, arg[0] == '-' ? "unknown option %s" : "unexpected argument \"%s\"", arg);
            return -1;
        }
        if (s->flag_offset) {
            *(bool *)((char *)o + s->flag_offset) = true;
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                snprintf(err, err_len, "option %s needs a value", arg);
                return -1;
            }
            value = argv[++i];
        }
        *(const char **)((char *)o + s->value_offset) = value;
    }
    if (o->percent && !o->mirror_url) {
        snprintf(err, err_len, "--percent needs --mirror");
        return -1;
    }
    return 0;
}
