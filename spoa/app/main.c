/* spoa-shadow: reads the options and the configuration, starts the SPOP
 * workers and the admin endpoint, reloads on SIGHUP (or POST /-/reload) and
 * drains on SIGTERM/SIGINT. All process-wide state lives in struct app here. */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "admin/admin.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/parse_num.h"
#include "core/reaper.h"
#include "capture/capture_hub.h"
#include "capture/capture_dump.h"
#include "compare/compare_report.h"
#include "config/config_load.h"
#include "core/log.h"
#include "admin/metrics.h"
#include "mirror/body_parts.h"
#include "mirror/mirror_compare.h"
#include "mirror/mirror_runtime.h"
#include "app/options.h"
#include "replay/replay.h"
#include "app/server.h"
#include "mirror/stats_registry.h"
#include "mirror/tls_check.h"
#include "mirror/tls_client.h"
#include "core/version.h"

#define EXIT_CONFIG 2
/* How long the first configuration waits, at start, for its first name
 * resolution. A reload does not wait: it keeps the addresses the previous
 * configuration resolved, and new host names are resolved in the background. */
#define RESOLVE_FIRST_WAIT_MS 2000
/* Period of the main loop's housekeeping: freeing old configurations, drain progress. */
#define HOUSEKEEPING_S 0.1

struct retired_runtime {
    struct mirror_runtime *rt;
    struct retired_runtime *next;
};

struct app {
    struct options opts;
    struct logger log;
    struct ev_loop *loop;
    struct stats_registry *reg;
    struct capture_hub *hub;
    struct body_parts *parts; /* slices of large bodies, shared by the workers */
    struct reaper *reaper;    /* frees old configurations off the main loop */
    struct server *server;
    struct admin *admin;
    struct mirror_runtime *current;
    struct retired_runtime *retired;
    uint64_t generation;
    struct metrics_process proc;
    bool draining;
    ev_tstamp drain_deadline;
    ev_signal sigint_w, sigterm_w, sighup_w;
    ev_timer housekeeping_w;
};

/* Applies one numeric flag to *field; false (with an error) when out of range. */
static bool apply_uint_flag(const char *flag, const char *value, uint32_t min, uint32_t max, uint32_t *field,
                            struct config_errors *errs)
{
    if (!value)
        return true;
    uint64_t v;
    if (!parse_u64(value, min, max, &v)) {
        config_errors_addf(errs, "%s: must be a whole number from %" PRIu32 " to %" PRIu32 ", got \"%s\"",
                           flag, min, max, value);
        return false;
    }
    *field = (uint32_t)v;
    return true;
}

static void replace_string(char **field, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        abort();
    free(*field);
    *field = copy;
}

/* Builds the configuration from the file and the flags (flags win). Returns
 * false with every problem in *errs; *cfg must be freed either way. */
static bool build_config(const struct options *o, struct config *cfg, struct config_errors *errs)
{
    bool ok = true;
    config_defaults(cfg);
    if (o->config_path)
        ok = config_load_file(cfg, o->config_path, errs);
    if (ok && o->mirror_url)
        ok = config_add_catch_all(cfg, o->mirror_url, o->percent, errs);
    if (ok)
        ok = tls_check_config(cfg, errs);
    if (o->listen)
        replace_string(&cfg->spop_listen, o->listen);
    if (o->admin_listen)
        replace_string(&cfg->admin_listen, o->admin_listen);
    uint32_t threads = (uint32_t)cfg->threads;
    ok &= apply_uint_flag("--threads", o->threads, 0, 256, &threads, errs);
    ok &= apply_uint_flag("--max-frame-size", o->max_frame, 256, 16777216, &cfg->max_frame_size, errs);
    ok &= apply_uint_flag("--max-connections", o->max_conns, 1, 1000000, &cfg->max_connections, errs);
    ok &= apply_uint_flag("--idle-timeout-ms", o->idle_timeout, 0, 86400000, &cfg->idle_timeout_ms, errs);
    cfg->threads = (int)threads;
    if (o->log_level && !log_level_parse(o->log_level, &cfg->log_level)) {
        config_errors_addf(errs, "--log-level: must be error, warn, info or debug, got \"%s\"", o->log_level);
        ok = false;
    }
    return ok;
}

static void retire_runtime(struct app *app, struct mirror_runtime *rt)
{
    struct retired_runtime *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->rt = rt;
    r->next = app->retired;
    app->retired = r;
}

static void free_runtime_job(void *rt)
{
    mirror_compare_drain(rt); /* comparisons left waiting get their verdict: unmatched */
    mirror_runtime_free(rt);
}

/* Hands the old configurations no worker uses any more to the reaper:
 * freeing one stops its resolver and may flush capture files, which the
 * main loop (signals, /healthz, /metrics, reloads) must never wait for. */
static void free_unused_runtimes(struct app *app)
{
    struct retired_runtime **link = &app->retired;
    while (*link) {
        struct retired_runtime *r = *link;
        if (atomic_load(&r->rt->refs) > 0) {
            link = &r->next;
            continue;
        }
        *link = r->next;
        log_event(&app->log, LOG_LVL_DEBUG, "config_released", "generation=%llu",
                  (unsigned long long)r->rt->generation);
        reaper_submit(app->reaper, free_runtime_job, r->rt);
        free(r);
    }
}

/* Says, at every load, which https mirrors verify nothing, and which TLS
 * contexts could not be built (their files changed since the check). */
static void log_tls(struct app *app, const struct mirror_runtime *rt)
{
    for (size_t r = 0; r < rt->cfg.n_routes; r++) {
        for (size_t i = 0; i < rt->cfg.routes[r].n_mirrors; i++) {
            const struct runtime_mirror *m = &rt->routes[r][i];
            if (!m->tls)
                continue;
            const char *why = tls_client_error(m->tls, NULL);
            if (why)
                log_event(&app->log, LOG_LVL_ERROR, "tls_context_failed",
                          "mirror=%s url=\"%s\" reason=\"%s\" effect=\"every copy dropped as tls_handshake\"",
                          m->name, m->cfg->url, why);
            else if (tls_client_insecure(m->tls))
                log_event(&app->log, LOG_LVL_WARN, "tls_insecure",
                          "mirror=%s url=\"%s\" reason=\"insecure_skip_verify: the mirror's certificate and "
                          "name are not verified\"",
                          m->name, m->cfg->url);
        }
    }
}

/* A runtime for <cfg> (emptied). At start (<old> NULL) it waits a little for
 * the first name resolution; a reload never waits: hosts the running
 * configuration already resolved keep their addresses, IP literals need no
 * resolution, and new host names are resolved on the resolver thread
 * (copies to them are dropped as connect_error until then). */
static struct mirror_runtime *new_runtime(struct app *app, struct config *cfg, struct mirror_runtime *old)
{
    struct mirror_runtime *rt = mirror_runtime_new(cfg, app->reg, app->hub, ++app->generation);
    mirror_runtime_inherit_addrs(rt, old);
    log_tls(app, rt);
    unsigned wait_ms = old ? 0 : RESOLVE_FIRST_WAIT_MS;
    if (!mirror_runtime_start_resolver(rt, rt->cfg.resolve_interval_ms, wait_ms, &app->log))
        log_event(&app->log, LOG_LVL_WARN, "resolve_slow", "generation=%llu waited_ms=%u",
                  (unsigned long long)rt->generation, wait_ms);
    size_t pending = mirror_runtime_unresolved(rt);
    if (pending > 0 && old)
        log_event(&app->log, LOG_LVL_INFO, "resolve_pending",
                  "generation=%llu targets=%zu reason=\"new host names, resolved in the background\"",
                  (unsigned long long)rt->generation, pending);
    return rt;
}

/* Settings that only a restart changes; a reload that changes them says so. */
static void warn_static_changes(struct app *app, const struct config *next)
{
    const struct config *cur = &app->current->cfg;
    if (strcmp(cur->spop_listen, next->spop_listen) != 0 || cur->threads != next->threads ||
        cur->max_frame_size != next->max_frame_size || cur->max_connections != next->max_connections ||
        cur->idle_timeout_ms != next->idle_timeout_ms || strcmp(cur->admin_listen, next->admin_listen) != 0 ||
        cur->log_level != next->log_level ||
        memcmp(&cur->body_parts, &next->body_parts, sizeof(cur->body_parts)) != 0)
        log_event(&app->log, LOG_LVL_WARN, "reload_partial",
                  "reason=\"spop, admin, log and body_parts settings apply at the next restart; routes apply "
                  "now\"");
}

/* Appends to <msg> (size <len>) without overflowing. */
static void msg_append(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void msg_append(char *msg, size_t len, const char *fmt, ...)
{
    size_t used = strlen(msg);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + used, len - used, fmt, ap);
    va_end(ap);
}

static bool app_reload(struct app *app, char *msg, size_t len)
{
    msg[0] = '\0';
    if (app->draining) {
        msg_append(msg, len, "not reloaded: the agent is draining\n");
        return false;
    }
    struct config cfg;
    struct config_errors errs = {0};
    if (!build_config(&app->opts, &cfg, &errs)) {
        app->proc.reloads_failed++;
        for (size_t i = 0; i < errs.count; i++) {
            char quoted[1024];
            log_event(&app->log, LOG_LVL_ERROR, "reload_error", "error=%s",
                      log_quote(quoted, sizeof(quoted), (const uint8_t *)errs.items[i], strlen(errs.items[i]),
                                900));
            msg_append(msg, len, "%s\n", errs.items[i]);
        }
        log_event(&app->log, LOG_LVL_ERROR, "reload_failed", "errors=%zu kept_generation=%llu", errs.count,
                  (unsigned long long)app->current->generation);
        config_errors_free(&errs);
        config_free(&cfg);
        return false;
    }
    config_errors_free(&errs);
    warn_static_changes(app, &cfg);
    struct mirror_runtime *rt = new_runtime(app, &cfg, app->current);
    config_free(&cfg); /* emptied by new_runtime */
    server_set_runtime(app->server, rt);
    retire_runtime(app, app->current);
    app->current = rt;
    app->proc.reloads_ok++;
    app->proc.last_reload_ok_time = unix_seconds();
    log_event(&app->log, LOG_LVL_INFO, "reload", "generation=%llu routes=%zu",
              (unsigned long long)rt->generation, rt->cfg.n_routes);
    msg_append(msg, len, "reloaded: generation %llu, %zu route(s)\n", (unsigned long long)rt->generation,
               rt->cfg.n_routes);
    return true;
}

/* ---- admin endpoint handlers ---- */

static void admin_metrics(void *ctx, struct buf *out)
{
    struct app *app = ctx;
    struct agent_stats spop;
    memset(&spop, 0, sizeof(spop));
    server_stats_sum(app->server, &spop);
    struct body_parts_stats parts;
    body_parts_stats(app->parts, &parts);
    metrics_render(out, &spop, app->reg, app->current, &parts, &app->proc);
}

static bool admin_ready(void *ctx)
{
    struct app *app = ctx;
    return app->proc.ready && !app->draining;
}

static bool admin_reload(void *ctx, char *msg, size_t len)
{
    return app_reload(ctx, msg, len);
}

/* ---- signals and the main loop ---- */

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct app *app = w->data;
    char msg[4096];
    (void)loop;
    (void)revents;
    log_event(&app->log, LOG_LVL_INFO, "signal", "signal=SIGHUP action=reload");
    app_reload(app, msg, sizeof(msg));
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct app *app = w->data;
    const char *name = w->signum == SIGINT ? "SIGINT" : "SIGTERM";
    (void)revents;
    if (app->draining) {
        log_event(&app->log, LOG_LVL_WARN, "exit_now", "signal=%s reason=\"second stop signal\"", name);
        _exit(128 + w->signum);
    }
    app->draining = true;
    app->proc.draining = true;
    uint32_t drain_ms = app->current->cfg.drain_timeout_ms;
    app->drain_deadline = ev_now(loop) + drain_ms / 1000.0;
    log_event(&app->log, LOG_LVL_INFO, "drain", "signal=%s drain_timeout_ms=%u", name, drain_ms);
    server_drain(app->server);
}

static void on_housekeeping(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct app *app = w->data;
    (void)revents;
    free_unused_runtimes(app);
    body_parts_expire(app->parts, mono_ns());
    if (!app->draining)
        return;
    bool idle = server_idle(app->server);
    if (idle || ev_now(loop) >= app->drain_deadline) {
        log_event(&app->log, idle ? LOG_LVL_INFO : LOG_LVL_WARN, "drained", "complete=%s",
                  idle ? "true" : "false");
        ev_break(loop, EVBREAK_ALL);
    }
}

static int run(struct app *app, struct config *cfg)
{
    char err[512];
    int threads = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    app->loop = ev_default_loop(0);
    app->reg = stats_registry_new(threads);
    app->hub = capture_hub_new();
    app->proc.start_time = unix_seconds();
    app->proc.last_reload_ok_time = app->proc.start_time;
    char *spop_listen = strdup(cfg->spop_listen);
    char *admin_listen = strdup(cfg->admin_listen);
    if (!spop_listen || !admin_listen)
        abort();
    app->reaper = reaper_start();
    app->current = new_runtime(app, cfg, NULL);
    const struct config *c = &app->current->cfg;
    struct body_parts_settings parts_set = {
        .max_entries = c->body_parts.max_entries,
        .max_bytes = c->body_parts.max_bytes,
        .max_body_bytes = c->body_parts.max_body_bytes,
        .timeout_ms = c->body_parts.timeout_ms,
    };
    app->parts = body_parts_new(&parts_set);

    struct server_settings set = {
        .listen = spop_listen,
        .threads = threads,
        .backlog = 1024,
        .max_frame = c->max_frame_size,
        .max_connections = c->max_connections,
        .idle_timeout_ms = c->idle_timeout_ms,
        .rt = app->current,
        .parts = app->parts,
        .max_body_bytes = c->body_parts.max_body_bytes,
    };
    int status = EXIT_SUCCESS;
    app->server = server_start(&set, &app->log, err, sizeof(err));
    if (!app->server) {
        log_event(&app->log, LOG_LVL_ERROR, "start_failed", "error=\"%s\"", err);
        status = EXIT_FAILURE;
        goto out;
    }
    struct admin_handlers handlers = {
        .ctx = app,
        .metrics = admin_metrics,
        .ready = admin_ready,
        .reload = admin_reload,
    };
    app->admin = admin_start(app->loop, admin_listen, &handlers, &app->log, err, sizeof(err));
    if (!app->admin) {
        log_event(&app->log, LOG_LVL_ERROR, "start_failed", "error=\"admin endpoint: %s\"", err);
        status = EXIT_FAILURE;
        goto out;
    }
    app->proc.ready = true;
    log_event(&app->log, LOG_LVL_INFO, "start",
              "version=%s listen=%s port=%d admin=%s admin_port=%d threads=%d max_frame_size=%u "
              "max_connections=%u routes=%zu",
              SPOA_SHADOW_VERSION, spop_listen, server_port(app->server), admin_listen,
              admin_port(app->admin), threads, c->max_frame_size, c->max_connections, c->n_routes);

    ev_signal_init(&app->sigint_w, on_stop_signal, SIGINT);
    ev_signal_init(&app->sigterm_w, on_stop_signal, SIGTERM);
    ev_signal_init(&app->sighup_w, on_hup, SIGHUP);
    ev_timer_init(&app->housekeeping_w, on_housekeeping, HOUSEKEEPING_S, HOUSEKEEPING_S);
    app->sigint_w.data = app->sigterm_w.data = app->sighup_w.data = app->housekeeping_w.data = app;
    ev_signal_start(app->loop, &app->sigint_w);
    ev_signal_start(app->loop, &app->sigterm_w);
    ev_signal_start(app->loop, &app->sighup_w);
    ev_timer_start(app->loop, &app->housekeeping_w);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL); /* blocked in main() until the watchers exist */
    ev_run(app->loop, 0);

out:
    if (app->server)
        server_stop(app->server); /* what is still in flight is counted as dropped: shutdown */
    admin_stop(app->admin);
    /* The workers are gone: every configuration can go, after those already
     * queued. A resolver stuck in getaddrinfo() is not waited for. */
    while (app->retired) {
        struct retired_runtime *r = app->retired;
        app->retired = r->next;
        reaper_submit(app->reaper, free_runtime_job, r->rt);
        free(r);
    }
    reaper_submit(app->reaper, free_runtime_job, app->current);
    reaper_stop(app->reaper);
    capture_hub_free(app->hub);
    body_parts_free(app->parts);
    stats_registry_free(app->reg);
    free(spop_listen);
    free(admin_listen);
    log_event(&app->log, LOG_LVL_INFO, "exit", "status=%d", status);
    return status;
}

int main(int argc, char **argv)
{
    /* Subcommands that run instead of the agent. */
    if (argc > 1 && strcmp(argv[1], "replay") == 0)
        return replay_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "capture-dump") == 0)
        return capture_dump_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "compare-report") == 0)
        return compare_report_main(argc - 1, argv + 1);
    struct app app;
    memset(&app, 0, sizeof(app));
    char err[512];
    if (options_parse(&app.opts, argc, argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "spoa-shadow: %s\n%s", err, options_usage());
        return EXIT_CONFIG;
    }
    if (app.opts.help) {
        fputs(options_usage(), stdout);
        return EXIT_SUCCESS;
    }
    if (app.opts.version) {
        printf("spoa-shadow %s\n", SPOA_SHADOW_VERSION);
        return EXIT_SUCCESS;
    }
    enum log_format format = LOG_FMT_LOGFMT;
    if (app.opts.log_format && !log_format_parse(app.opts.log_format, &format)) {
        fprintf(stderr, "spoa-shadow: --log-format: must be logfmt or json, got \"%s\"\n",
                app.opts.log_format);
        return EXIT_CONFIG;
    }
    struct config cfg;
    struct config_errors errs = {0};
    bool ok = build_config(&app.opts, &cfg, &errs);
    for (size_t i = 0; i < errs.count; i++)
        fprintf(stderr, "spoa-shadow: %s\n", errs.items[i]);
    config_errors_free(&errs);
    if (!ok) {
        config_free(&cfg);
        return EXIT_CONFIG;
    }
    if (app.opts.check_config) {
        printf("spoa-shadow: configuration OK: %s, %zu route(s)\n", cfg.path ? cfg.path : "(flags only)",
               cfg.n_routes);
        config_free(&cfg);
        return EXIT_SUCCESS;
    }
    app.log = (struct logger){.level = cfg.log_level, .fd = STDERR_FILENO, .format = format};

    /* Workers inherit this mask, so the signals reach the main loop only. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit fails capture writes (EFBIG) instead of killing */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    int status = run(&app, &cfg);
    config_free(&cfg);
    return status;
}
