/* See replay.h. One libev loop: a timer releases each record when its time
 * comes (captured ts deltas divided by --speed, or k / --rate), the request
 * is rebuilt and handed to a mirror_client, whose on_done hook counts how it
 * ended; the loop stops when every record was read and every request ended. */
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "core/log.h"
#include "core/clock.h"
#include "mirror/mirror_client_ev.h"
#include "mirror/tls_client.h"
#include "replay/replay.h"
#include "replay/replay_args.h"
#include "replay/replay_request.h"
#include "replay/replay_source.h"
#include "replay/replay_stats.h"
#include "mirror/target_addr.h"

/* Records released per timer callback at most, so the loop stays responsive. */
#define BATCH_MAX 512
/* The client's queue: generous, requests wait there for a free connection. */
#define QUEUE_MIN      10000
#define QUEUE_PER_CONN 100
/* Response bodies are read whole up to this, so that connections are reused. */
#define REPLAY_MAX_RESPONSE_BYTES (1u << 30)

struct replay {
    struct replay_opts opts;
    struct ev_loop *loop;
    struct mirror_client *client;
    struct target_addr addr;
    struct tls_client *tls; /* an https target's */
    struct mirror_counters ctr;
    struct logger log;
    struct replay_source *src;
    struct replay_stats stats;
    struct capture_record next; /* the record waiting for its time */
    bool have_next, reading_done, interrupted;
    uint64_t selected;          /* records released so far (after the route filter) */
    uint64_t ts_first, ts_last; /* capture times of the first and last selected records */
    uint64_t outstanding;       /* submitted, not yet ended */
    ev_timer send_w;
    ev_signal sigint_w, sigterm_w;
};

static void maybe_finish(struct replay *rp)
{
    if (rp->reading_done && rp->outstanding == 0)
        ev_break(rp->loop, EVBREAK_ALL);
}

static void on_done(void *ctx, int status, uint64_t latency_ns, enum mirror_drop why)
{
    struct replay *rp = ctx;
    replay_stats_done(&rp->stats, status, latency_ns, why);
    if (rp->outstanding > 0)
        rp->outstanding--;
    maybe_finish(rp);
}

/* Reads the next record of the selected route into rp->next. */
static void read_next(struct replay *rp)
{
    rp->have_next = false;
    while (replay_source_next(rp->src, &rp->next)) { /* bounded by the input's records */
        rp->stats.records++;
        if (rp->opts.filter_route && !spop_bytes_eq(rp->next.route, rp->opts.filter_route)) {
            rp->stats.filtered++;
            continue;
        }
        rp->have_next = true;
        return;
    }
    rp->reading_done = true;
}

/* When rp->next is due, in monotonic ns. */
static uint64_t due_ns(const struct replay *rp)
{
    const struct replay_opts *o = &rp->opts;
    double offset_ns;
    if (o->rate > 0)
        offset_ns = (double)rp->selected * 1e9 / o->rate;
    else if (rp->selected == 0 || rp->next.ts_ns <= rp->ts_first)
        offset_ns = 0; /* the first record, or a clock step backwards: at once */
    else
        offset_ns = (double)(rp->next.ts_ns - rp->ts_first) / o->speed;
    return rp->stats.start_ns + (uint64_t)offset_ns;
}

static void send_next(struct replay *rp, uint64_t now)
{
    const struct capture_record *r = &rp->next;
    if (rp->selected == 0)
        rp->ts_first = r->ts_ns;
    rp->ts_last = r->ts_ns;
    rp->selected++;
    uint8_t *req;
    size_t len;
    const char *why;
    if (replay_build_request(&rp->opts.shape, r, &req, &len, &why) != 0) {
        rp->stats.bad_records++;
        fprintf(stderr, "spoa-shadow replay: record %llu not sent: %s\n",
                (unsigned long long)rp->stats.records, why);
        return;
    }
    if (rp->stats.submitted == 0)
        rp->stats.first_submit_ns = now;
    rp->stats.last_submit_ns = now;
    rp->stats.submitted++;
    rp->outstanding++;
    mirror_client_submit(rp->client, req, len,
                         mirror_method_flags(r->method.ptr, r->method.len)); /* ends in on_done */
}

static void on_send_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct replay *rp = w->data;
    (void)revents;
    for (int n = 0; n < BATCH_MAX && rp->have_next; n++) {
        uint64_t now = mono_ns(), due = due_ns(rp);
        if (due > now) {
            ev_timer_set(w, (double)(due - now) / 1e9, 0.);
            ev_timer_start(loop, w);
            return;
        }
        send_next(rp, now);
        read_next(rp);
    }
    if (rp->have_next) { /* a full batch: let the loop breathe, then go on */
        ev_timer_set(w, 0., 0.);
        ev_timer_start(loop, w);
        return;
    }
    maybe_finish(rp);
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct replay *rp = w->data;
    (void)revents;
    rp->interrupted = true;
    ev_break(loop, EVBREAK_ALL);
}

static double requested_rps(const struct replay *rp)
{
    if (rp->opts.rate > 0)
        return rp->opts.rate;
    if (rp->selected < 2 || rp->ts_last <= rp->ts_first)
        return 0;
    return (double)(rp->selected - 1) / ((double)(rp->ts_last - rp->ts_first) / 1e9 / rp->opts.speed);
}

static int setup(struct replay *rp)
{
    struct replay_opts *o = &rp->opts;
    char err[512];
    target_addr_init(&rp->addr, o->target.host, o->target.port);
    int rc = target_addr_resolve(&rp->addr);
    if (rc != 0) {
        fprintf(stderr, "spoa-shadow replay: --target: cannot resolve %s: %s\n", o->target.host,
                gai_strerror(rc));
        return -1;
    }
    if (strcmp(o->target.scheme, "https") == 0) {
        struct config_tls tls = {.ca_file = (char *)o->ca_file, .min_version = CONFIG_TLS_1_2};
        rp->tls = tls_client_new(&tls, o->target.host);
        tls_client_offer_alpn(rp->tls, o->protocol);
        const char *why = tls_client_error(rp->tls, NULL);
        if (why) {
            fprintf(stderr, "spoa-shadow replay: --target: %s\n", why);
            return -1;
        }
    }
    rp->src = replay_source_open(o->input, stderr, err, sizeof(err));
    if (!rp->src) {
        fprintf(stderr, "spoa-shadow replay: %s\n", err);
        return -1;
    }
    rp->log = (struct logger){.level = LOG_LVL_ERROR, .fd = STDERR_FILENO, .format = LOG_FMT_LOGFMT};
    struct mirror_client_settings set = {
        .connect_timeout_ms = o->timeout_ms,
        .timeout_ms = o->timeout_ms,
        .max_response_bytes = REPLAY_MAX_RESPONSE_BYTES,
        .max_inflight = o->concurrency,
        .max_queue =
            o->concurrency * QUEUE_PER_CONN > QUEUE_MIN ? o->concurrency * QUEUE_PER_CONN : QUEUE_MIN,
        .idle_timeout_ms = 60000,
        .circuit_failures = 0, /* every request gets its own attempt */
        .name = "replay",
        .protocol = mirror_proto_of(o->protocol, rp->tls != NULL),
        .https = rp->tls != NULL,
        .on_done = on_done,
        .on_done_ctx = rp,
    };
    rp->loop = ev_default_loop(0);
    rp->client = mirror_client_new(rp->loop, &set, &rp->addr, &rp->ctr, &rp->log, rp->tls);
    return 0;
}

static int run(struct replay *rp)
{
    signal(SIGPIPE, SIG_IGN);
    ev_signal_init(&rp->sigint_w, on_stop, SIGINT);
    ev_signal_init(&rp->sigterm_w, on_stop, SIGTERM);
    rp->sigint_w.data = rp->sigterm_w.data = rp;
    ev_signal_start(rp->loop, &rp->sigint_w);
    ev_signal_start(rp->loop, &rp->sigterm_w);
    ev_timer_init(&rp->send_w, on_send_timer, 0., 0.);
    rp->send_w.data = rp;
    rp->stats.start_ns = mono_ns();
    read_next(rp);
    ev_timer_start(rp->loop, &rp->send_w);
    if (!(rp->reading_done && rp->outstanding == 0))
        ev_run(rp->loop, 0);
    rp->stats.end_ns = mono_ns();
    ev_timer_stop(rp->loop, &rp->send_w);
    ev_signal_stop(rp->loop, &rp->sigint_w);
    ev_signal_stop(rp->loop, &rp->sigterm_w);
    mirror_client_free(rp->client); /* what is still in flight (interrupted) ends as "shutdown" */
    rp->client = NULL;
    rp->stats.files = replay_source_files(rp->src);
    rp->stats.damaged_files = replay_source_damaged(rp->src);
    rp->stats.requested_rps = requested_rps(rp);
    replay_stats_print(&rp->stats, stdout);
    fflush(stdout);
    if (rp->interrupted)
        return REPLAY_EXIT_INTERRUPTED;
    if (replay_stats_failed_total(&rp->stats) > 0 || rp->stats.bad_records > 0)
        return REPLAY_EXIT_FAILED;
    return rp->stats.damaged_files > 0 ? REPLAY_EXIT_DAMAGED : REPLAY_EXIT_OK;
}

int replay_main(int argc, char **argv)
{
    struct replay *rp = calloc(1, sizeof(*rp));
    if (!rp)
        abort();
    char err[512];
    int status;
    if (replay_args_parse(&rp->opts, argc, argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "spoa-shadow replay: %s\n%s", err, replay_usage());
        free(rp);
        return REPLAY_EXIT_USAGE;
    }
    if (rp->opts.help) {
        fputs(replay_usage(), stdout);
        status = REPLAY_EXIT_OK;
    } else {
        status = setup(rp) == 0 ? run(rp) : REPLAY_EXIT_USAGE;
        if (rp->client)
            mirror_client_free(rp->client);
        target_addr_destroy(&rp->addr);
        tls_client_free(rp->tls);
    }
    replay_source_free(rp->src);
    replay_stats_free(&rp->stats);
    replay_args_free(&rp->opts);
    free(rp);
    return status;
}
