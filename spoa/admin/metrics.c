#include "admin/metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spop/agent_stats.h"
#include "capture/capture_writer.h"
#include "mirror/mirror_args.h"
#include "admin/prom_text.h"
#include "spop/spop_proto.h"
#include "core/version.h"

#define P "spoa_shadow_"

/* Status codes with a slot of their own in agent_stats. */
static const int status_codes[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};

static void add_counters(counter_t *dst, const counter_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        counter_add(&dst[i], counter_get(&src[i]));
}

/* A metric family that is one counter_t field of a stats struct: its name,
 * type ("counter" or "gauge"), help text and the field's offset. */
struct counter_family {
    const char *name;
    const char *type;
    const char *help;
    size_t off;
};

/* The field <f> of the stats struct at <stats>. */
/* A mirror counter family labelled by reason: <count> counters from
 * offset <off> of struct mirror_counters, reason r named by reason(r). */
struct reason_family {
    const char *name;
    const char *help;
    size_t off;
    int count;
    const char *(*reason)(int r);
    const char *label; /* the label's name; NULL: "reason" */
    /* Optional: whether a mirror has series in this family (NULL: all do). */
    bool (*applies)(const struct stats_mirror_entry *m);
};

static const char *cut_reason(int r)
{
    return mirror_cut_str((enum mirror_cut)r);
}

static const char *drop_reason(int r)
{
    return mirror_drop_str((enum mirror_drop)r);
}

static const char *skip_reason(int r)
{
    return mirror_skip_str((enum mirror_skip)r);
}

static const char *result_name(int r)
{
    return compare_result_str((enum compare_result)r);
}

static const char *unmatched_reason(int r)
{
    return compare_unmatched_str((enum compare_unmatched)r);
}

static const char *diff_drop_reason(int r)
{
    return diff_log_drop_str((enum diff_log_drop)r);
}

/* Only mirrors that may speak HTTP/2 get grpc-status series. */
static bool speaks_http2(const struct stats_mirror_entry *m)
{
    return m->http2;
}

/* Only mirrors whose answers are compared get compare_* series. */
static bool compares(const struct stats_mirror_entry *m)
{
    return m->compared;
}

/* The grpc-status codes 0..16 by number, then "other". */
static const char *grpc_code(int r)
{
    static const char *const codes[MIRROR_GRPC_SLOTS] = {
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "other"};
    return codes[r];
}

static const struct reason_family mirror_reason_families[] = {
    {P "mirror_responses_cut_total",
     "Responses whose body was not read to its end (its connection closed), by reason.",
     offsetof(struct mirror_counters, responses_cut), MIRROR_CUT_ENTRIES, cut_reason, NULL, NULL},
    {P "mirror_dropped_total", "Sampled copies not delivered, by reason.",
     offsetof(struct mirror_counters, dropped), MIRROR_DROP_ENTRIES, drop_reason, NULL, NULL},
    {P "mirror_skipped_total",
     "Sampled copies that were never sent because of the request itself, by reason.",
     offsetof(struct mirror_counters, skipped), MIRROR_SKIP_ENTRIES, skip_reason, NULL, NULL},
    {P "mirror_grpc_status_total",
     "Responses of HTTP/2 mirrors that carried a grpc-status (trailers, or a trailers-only response), by its "
     "code: 0..16, other for any other value.",
     offsetof(struct mirror_counters, grpc_status), MIRROR_GRPC_SLOTS, grpc_code, "code", speaks_http2},
    {P "compare_total", "Compared requests, by verdict on the mirror's answer against the primary's.",
     offsetof(struct mirror_counters, compared), COMPARE_RESULT_COUNT, result_name, "result", compares},
    {P "compare_unmatched_total", "Compared requests without a verdict (result unmatched), by reason.",
     offsetof(struct mirror_counters, unmatched), COMPARE_UNMATCHED_ENTRIES, unmatched_reason, NULL,
     compares},
    {P "compare_diff_log_dropped_total", "Diff-log records not written, by reason.",
     offsetof(struct mirror_counters, diff_dropped), DIFF_LOG_DROP_ENTRIES, diff_drop_reason, NULL, compares},
};

static uint64_t family_value(const struct counter_family *f, const void *stats)
{
    return counter_get((const counter_t *)((const char *)stats + f->off));
}

#define AGENT_FIELD(field) offsetof(struct agent_stats, field)

/* One unlabelled sample each, summed over the workers. */
static const struct counter_family spop_families[] = {
    {P "spop_connections", "gauge", "Open SPOP connections from HAProxy.", AGENT_FIELD(conn_current)},
    {P "spop_connections_accepted_total", "counter", "SPOP connections accepted.",
     AGENT_FIELD(conn_accepted)},
    {P "spop_connections_rejected_total", "counter",
     "SPOP connections refused because max_connections was reached.", AGENT_FIELD(conn_rejected)},
    {P "spop_idle_timeouts_total", "counter", "SPOP connections closed for being idle.",
     AGENT_FIELD(conn_idle_timeout)},
    {P "spop_hellos_total", "counter", "HELLO handshakes completed, health checks included.",
     AGENT_FIELD(hello)},
    {P "spop_healthchecks_total", "counter", "Health-check HELLOs (option spop-check).",
     AGENT_FIELD(healthcheck)},
    {P "spop_notify_frames_total", "counter", "NOTIFY frames received.", AGENT_FIELD(notify)},
    {P "spop_acks_total", "counter", "ACK frames sent.", AGENT_FIELD(ack)},
    {P "spop_notify_aborted_total", "counter", "NOTIFY frames with the ABORT flag (no ACK).",
     AGENT_FIELD(notify_aborted)},
    {P "spop_unknown_frames_total", "counter", "Frames of unknown type, ignored.",
     AGENT_FIELD(frame_unknown)},
    {P "spop_received_bytes_total", "counter", "Bytes read from HAProxy.", AGENT_FIELD(bytes_in)},
    {P "spop_sent_bytes_total", "counter", "Bytes written to HAProxy.", AGENT_FIELD(bytes_out)},
};

#define MIRROR_FIELD(field) offsetof(struct mirror_counters, field)

/* One sample per mirror (labels route and mirror), summed over the workers. */
static const struct counter_family mirror_families[] = {
    {P "mirror_sampled_total", "counter", "Copies the sampling decided to send to the mirror.",
     MIRROR_FIELD(sampled)},
    {P "mirror_not_sampled_total", "counter", "Requests of the route the sampling left out.",
     MIRROR_FIELD(not_sampled)},
    {P "mirror_sampled_by_key_total", "counter",
     "Sampling decisions taken from the sample_by header or cookie rather than a random draw.",
     MIRROR_FIELD(sampled_by_key)},
    {P "mirror_sent_total", "counter", "Requests written completely to the mirror.", MIRROR_FIELD(sent)},
    {P "mirror_connections_opened_total", "counter", "Connections opened to the mirror.",
     MIRROR_FIELD(connects)},
    {P "mirror_connect_failures_total", "counter", "Failed connection attempts to the mirror.",
     MIRROR_FIELD(connect_failures)},
    {P "mirror_connections_expired_total", "counter",
     "Kept-alive connections closed at max_connection_age_ms instead of being reused.",
     MIRROR_FIELD(expired)},
    {P "mirror_connections_address_gone_total", "counter",
     "Kept-alive connections closed instead of being reused because their address left the mirror's "
     "resolved addresses.",
     MIRROR_FIELD(address_gone)},
    {P "mirror_reused_total", "counter", "Requests sent on a kept-alive connection.", MIRROR_FIELD(reused)},
    {P "mirror_retries_refused_total", "counter",
     "Non-idempotent requests written whole on a kept-alive connection that failed, not sent twice.",
     MIRROR_FIELD(retries_refused)},
    {P "mirror_tls_handshakes_total", "counter", "TLS handshakes completed with the mirror (https mirrors).",
     MIRROR_FIELD(tls_handshakes)},
    {P "mirror_tls_resumed_total", "counter", "Of the TLS handshakes, those that resumed an earlier session.",
     MIRROR_FIELD(tls_resumed)},
    {P "mirror_inflight", "gauge", "Requests in flight to the mirror.", MIRROR_FIELD(inflight)},
    {P "mirror_queued", "gauge", "Requests waiting for a connection to the mirror.", MIRROR_FIELD(queued)},
};

/* One sample per mirror whose answers are compared (compares()). */
static const struct counter_family compare_families[] = {
    {P "compare_noise_total", "counter", "Differences left out of verdicts as learned noise.",
     MIRROR_FIELD(compare_noise)},
    {P "compare_diff_log_records_total", "counter", "Diff-log records queued for writing.",
     MIRROR_FIELD(diff_records)},
    {P "compare_json_shape_hits_total", "counter",
     "Primary JSON bodies derived from a kept document of the same shape instead of tokenized.",
     MIRROR_FIELD(json_shape_hits)},
    {P "compare_json_shape_misses_total", "counter",
     "Primary JSON bodies tokenized in full: no kept document of their length and shape.",
     MIRROR_FIELD(json_shape_misses)},
};

#define CAPTURE_FIELD(field) offsetof(struct capture_stats, field)

/* One sample per capture mirror of the running configuration (labels route and mirror). */
static const struct counter_family capture_families[] = {
    {P "capture_records_total", "counter", "Records written to capture files.", CAPTURE_FIELD(records)},
    {P "capture_bytes_total", "counter", "Bytes of the records written to capture files.",
     CAPTURE_FIELD(bytes)},
    {P "capture_files_rotated_total", "counter",
     "Capture files finished (renamed from .open): rotated by size or age, or at stop.",
     CAPTURE_FIELD(files_rotated)},
    {P "capture_files_deleted_total", "counter",
     "Oldest finished capture files deleted to stay within max_files and max_total_bytes.",
     CAPTURE_FIELD(files_deleted)},
    {P "capture_queued", "gauge", "Records waiting for the capture writer thread.", CAPTURE_FIELD(queued)},
    {P "capture_stored_bytes", "gauge",
     "Bytes of capture files in the directory (finished ones as last listed, plus the open one).",
     CAPTURE_FIELD(stored_bytes)},
};

#define N_OF(t) (sizeof(t) / sizeof((t)[0]))

static void render_process(struct buf *out, const struct metrics_process *proc)
{
    char lbl[128] = "";
    prom_label(lbl, sizeof(lbl), "version", SPOA_SHADOW_VERSION);
    prom_family(out, P "build_info", "gauge", "Build information; the value is always 1.");
    prom_u64(out, P "build_info", lbl, 1);
    prom_family(out, P "start_time_seconds", "gauge", "When the agent started, in Unix seconds.");
    prom_double(out, P "start_time_seconds", "", proc->start_time);
    prom_family(out, P "ready", "gauge",
                "1 when the agent takes SPOP traffic, 0 while starting or draining.");
    prom_u64(out, P "ready", "", proc->ready && !proc->draining);
    prom_family(out, P "config_reloads_total", "counter", "Configuration reloads, by result.");
    prom_u64(out, P "config_reloads_total", "result=\"success\"", proc->reloads_ok);
    prom_u64(out, P "config_reloads_total", "result=\"failure\"", proc->reloads_failed);
    prom_family(out, P "config_last_reload_success_timestamp_seconds", "gauge",
                "When the running configuration was loaded, in Unix seconds.");
    prom_double(out, P "config_last_reload_success_timestamp_seconds", "", proc->last_reload_ok_time);
}

/* The samples of <name> from the status slots <slots>: one per code of
 * status_codes[] from index <first> on, then "other". */
static void render_by_status(struct buf *out, const char *name, const counter_t *slots, size_t first)
{
    char lbl[64];
    for (size_t i = first; i < N_OF(status_codes); i++) {
        int code = status_codes[i];
        snprintf(lbl, sizeof(lbl), "status=\"%d\"", code);
        prom_u64(out, name, lbl, counter_get(&slots[agent_stats_status_slot(code)]));
    }
    prom_u64(out, name, "status=\"other\"", counter_get(&slots[AGENT_STATS_STATUS_SLOTS - 1]));
}

static void render_spop(struct buf *out, const struct agent_stats *st)
{
    for (size_t i = 0; i < N_OF(spop_families); i++) {
        const struct counter_family *f = &spop_families[i];
        prom_family(out, f->name, f->type, f->help);
        prom_u64(out, f->name, "", family_value(f, st));
    }
    prom_family(out, P "spop_errors_total", "counter",
                "AGENT-DISCONNECT frames sent, by SPOP status code (0 = normal close, e.g. draining).");
    prom_family(out, P "spop_peer_errors_total", "counter",
                "HAPROXY-DISCONNECT frames with a non-zero status.");
    render_by_status(out, P "spop_errors_total", st->error_sent, 0);
    render_by_status(out, P "spop_peer_errors_total", st->error_received, 1); /* 0 is not an error */
    prom_family(out, P "ack_latency_seconds", "histogram",
                "From the read that completed a NOTIFY to the write of its ACK.");
    prom_histogram(out, P "ack_latency_seconds", "", &st->ack_latency, ack_latency_bounds);
}

static void render_engine(struct buf *out, const struct stats_registry *reg)
{
    struct engine_counters e;
    memset(&e, 0, sizeof(e));
    for (int w = 0; w < reg->nworkers; w++)
        add_counters((counter_t *)&e, (const counter_t *)&reg->engine[w], sizeof(e) / sizeof(counter_t));
    prom_family(out, P "requests_unrouted_total", "counter",
                "NOTIFYs not mirrored before any route was chosen, by reason.");
    prom_u64(out, P "requests_unrouted_total", "reason=\"no_message\"", counter_get(&e.no_message));
    for (int s = MIRROR_ARGS_MISSING; s <= MIRROR_ARGS_BAD_HEADERS; s++) {
        char lbl[64];
        snprintf(lbl, sizeof(lbl), "reason=\"%s\"", mirror_args_status_str((enum mirror_args_status)s));
        prom_u64(out, P "requests_unrouted_total", lbl, counter_get(&e.bad_args[s]));
    }
    prom_u64(out, P "requests_unrouted_total", "reason=\"no_route\"", counter_get(&e.no_route));
    prom_u64(out, P "requests_unrouted_total", "reason=\"unknown_route\"", counter_get(&e.unknown_route));
    prom_family(out, P "compare_responses_total", "counter",
                "mirror-response NOTIFYs (the primary's answers), by what became of them.");
    uint64_t all = counter_get(&e.responses), bad = counter_get(&e.response_bad_args),
             unknown = counter_get(&e.response_unknown);
    prom_u64(out, P "compare_responses_total", "result=\"matched\"", all - bad - unknown);
    prom_u64(out, P "compare_responses_total", "result=\"bad_args\"", bad);
    prom_u64(out, P "compare_responses_total", "result=\"unknown_id\"", unknown);
}

static void render_routes(struct buf *out, const struct stats_registry *reg)
{
    prom_family(out, P "route_requests_total", "counter", "Requests that chose the route.");
    for (const struct stats_route_entry *r = reg->routes; r; r = r->next) {
        struct route_counters sum;
        memset(&sum, 0, sizeof(sum));
        for (int w = 0; w < reg->nworkers; w++)
            add_counters((counter_t *)&sum, (const counter_t *)&r->per_worker[w],
                         sizeof(sum) / sizeof(counter_t));
        char lbl[256] = "";
        prom_label(lbl, sizeof(lbl), "route", r->route);
        prom_u64(out, P "route_requests_total", lbl, counter_get(&sum.requests));
    }
    prom_family(out, P "route_mirrored_total", "counter",
                "Requests of the route accepted for at least one mirror (the ACK said mirrored=true).");
    for (const struct stats_route_entry *r = reg->routes; r; r = r->next) {
        uint64_t v = 0;
        for (int w = 0; w < reg->nworkers; w++)
            v += counter_get(&r->per_worker[w].mirrored);
        char lbl[256] = "";
        prom_label(lbl, sizeof(lbl), "route", r->route);
        prom_u64(out, P "route_mirrored_total", lbl, v);
    }
}

static void mirror_labels(char *lbl, size_t cap, const struct stats_mirror_entry *m)
{
    lbl[0] = '\0';
    prom_label(lbl, cap, "route", m->route);
    if (m->occurrence) {
        char url[600];
        snprintf(url, sizeof(url), "%s#%u", m->url, m->occurrence);
        prom_label(lbl, cap, "mirror", url);
    } else {
        prom_label(lbl, cap, "mirror", m->url);
    }
}

/* One sample of each of the <nf> <families> per mirror (<entries>, their
 * counters summed in <sums>, <n> of each) that <has> accepts (NULL: all). */
static void render_mirror_families(struct buf *out, const struct counter_family *families, size_t nf,
                                   const struct stats_mirror_entry *const *entries,
                                   const struct mirror_counters *sums, size_t n,
                                   bool (*has)(const struct stats_mirror_entry *m))
{
    char lbl[1024];
    for (size_t i = 0; i < nf; i++) {
        const struct counter_family *f = &families[i];
        prom_family(out, f->name, f->type, f->help);
        for (size_t k = 0; k < n; k++) {
            if (has && !has(entries[k]))
                continue;
            mirror_labels(lbl, sizeof(lbl), entries[k]);
            prom_u64(out, f->name, lbl, family_value(f, &sums[k]));
        }
    }
}

static void render_mirrors(struct buf *out, const struct stats_registry *reg)
{
    size_t n = 0;
    for (const struct stats_mirror_entry *m = reg->mirrors; m; m = m->next)
        n++;
    if (n == 0)
        return;
    struct mirror_counters *sums = calloc(n, sizeof(*sums));
    const struct stats_mirror_entry **entries = calloc(n, sizeof(*entries));
    if (!sums || !entries) {
        free(sums);
        free(entries);
        return;
    }
    size_t k = 0;
    for (const struct stats_mirror_entry *m = reg->mirrors; m; m = m->next, k++) {
        entries[k] = m;
        for (int w = 0; w <= reg->nworkers; w++) { /* the workers', and the release slot */
            const struct mirror_counters *src = &m->per_worker[w];
            add_counters((counter_t *)&sums[k], (const counter_t *)src,
                         offsetof(struct mirror_counters, latency) / sizeof(counter_t));
            histogram_add(&sums[k].latency, &src->latency);
            histogram_add(&sums[k].compare_slower, &src->compare_slower);
            histogram_add(&sums[k].compare_faster, &src->compare_faster);
        }
    }
    char lbl[1024], l2[1100];
    render_mirror_families(out, mirror_families, N_OF(mirror_families), entries, sums, n, NULL);
    render_mirror_families(out, compare_families, N_OF(compare_families), entries, sums, n, compares);

    static const char *const classes[6] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    prom_family(out, P "mirror_responses_total", "counter",
                "Responses from the mirror, by status class, counted when their headers arrived.");
    for (k = 0; k < n; k++) {
        mirror_labels(lbl, sizeof(lbl), entries[k]);
        for (int c = 1; c <= 6; c++) {
            int slot = c % 6;
            snprintf(l2, sizeof(l2), "%s,class=\"%s\"", lbl, classes[slot]);
            prom_u64(out, P "mirror_responses_total", l2, counter_get(&sums[k].responses[slot]));
        }
    }
    for (size_t i = 0; i < N_OF(mirror_reason_families); i++) {
        const struct reason_family *f = &mirror_reason_families[i];
        prom_family(out, f->name, "counter", f->help);
        for (k = 0; k < n; k++) {
            if (f->applies && !f->applies(entries[k]))
                continue;
            mirror_labels(lbl, sizeof(lbl), entries[k]);
            const counter_t *slots = (const counter_t *)((const char *)&sums[k] + f->off);
            for (int r = 0; r < f->count; r++) {
                snprintf(l2, sizeof(l2), "%s,%s=\"%s\"", lbl, f->label ? f->label : "reason", f->reason(r));
                prom_u64(out, f->name, l2, counter_get(&slots[r]));
            }
        }
    }
    prom_family(out, P "mirror_latency_seconds", "histogram",
                "From the start of a request on its connection to the mirror's response headers.");
    for (k = 0; k < n; k++) {
        mirror_labels(lbl, sizeof(lbl), entries[k]);
        prom_histogram(out, P "mirror_latency_seconds", lbl, &sums[k].latency, mirror_latency_bounds);
    }
    prom_family(out, P "compare_latency_diff_seconds", "histogram",
                "Shadow minus primary latency of compared requests, as a magnitude: sign=\"slower\" when "
                "the mirror answered later, sign=\"faster\" when sooner.");
    for (k = 0; k < n; k++) {
        if (!compares(entries[k]))
            continue;
        mirror_labels(lbl, sizeof(lbl), entries[k]);
        snprintf(l2, sizeof(l2), "%s,sign=\"slower\"", lbl);
        prom_histogram(out, P "compare_latency_diff_seconds", l2, &sums[k].compare_slower,
                       mirror_latency_bounds);
        snprintf(l2, sizeof(l2), "%s,sign=\"faster\"", lbl);
        prom_histogram(out, P "compare_latency_diff_seconds", l2, &sums[k].compare_faster,
                       mirror_latency_bounds);
    }
    free(sums);
    free(entries);
}

/* Per mirror with a host name, like the other mirror series: kept across
 * reloads in the stats registry. */
static void render_resolver(struct buf *out, const struct stats_registry *reg)
{
    prom_family(out, P "mirror_resolve_failures_total", "counter",
                "Failed resolutions of the mirror's host name.");
    char lbl[1024];
    for (const struct stats_mirror_entry *m = reg->mirrors; m; m = m->next) {
        if (!m->has_host)
            continue; /* capture mirrors */
        mirror_labels(lbl, sizeof(lbl), m);
        prom_u64(out, P "mirror_resolve_failures_total", lbl, counter_get(&m->resolve_failures));
    }
}

static void capture_labels(char *lbl, size_t cap, const struct mirror_runtime *rt, size_t r, size_t i)
{
    lbl[0] = '\0';
    prom_label(lbl, cap, "route", rt->cfg.routes[r].name);
    prom_label(lbl, cap, "mirror", rt->routes[r][i].cfg->url);
}

static void render_capture(struct buf *out, const struct mirror_runtime *rt)
{
    char lbl[2048], l2[2100];
    bool any = false;
    for (size_t r = 0; r < rt->cfg.n_routes; r++)
        for (size_t i = 0; i < rt->cfg.routes[r].n_mirrors; i++)
            any |= rt->routes[r][i].capture != NULL;
    if (!any)
        return;
    for (size_t f = 0; f < N_OF(capture_families); f++) {
        const struct counter_family *fam = &capture_families[f];
        prom_family(out, fam->name, fam->type, fam->help);
        for (size_t r = 0; r < rt->cfg.n_routes; r++) {
            for (size_t i = 0; i < rt->cfg.routes[r].n_mirrors; i++) {
                const struct runtime_mirror *m = &rt->routes[r][i];
                if (!m->capture)
                    continue;
                capture_labels(lbl, sizeof(lbl), rt, r, i);
                prom_u64(out, fam->name, lbl, family_value(fam, capture_writer_stats(m->capture)));
            }
        }
    }
    prom_family(out, P "capture_dropped_total", "counter",
                "Records not written to a capture file, by reason.");
    for (size_t r = 0; r < rt->cfg.n_routes; r++) {
        for (size_t i = 0; i < rt->cfg.routes[r].n_mirrors; i++) {
            const struct runtime_mirror *m = &rt->routes[r][i];
            if (!m->capture)
                continue;
            capture_labels(lbl, sizeof(lbl), rt, r, i);
            for (int d = 0; d < CAPTURE_DROP_ENTRIES; d++) {
                snprintf(l2, sizeof(l2), "%s,reason=\"%s\"", lbl, capture_drop_str((enum capture_drop)d));
                prom_u64(out, P "capture_dropped_total", l2,
                         counter_get(&capture_writer_stats(m->capture)->dropped[d]));
            }
        }
    }
}

static void render_body_parts(struct buf *out, const struct body_parts_stats *st)
{
    prom_family(out, P "body_parts_received_total", "counter",
                "Body slices received (bodies larger than a SPOP frame), stored or not.");
    prom_u64(out, P "body_parts_received_total", "", st->received);
    prom_family(out, P "body_parts_dropped_total", "counter", "Body slices discarded, by reason.");
    for (int r = 0; r < BODY_PARTS_DROP_ENTRIES; r++) {
        char lbl[64];
        snprintf(lbl, sizeof(lbl), "reason=\"%s\"", body_parts_drop_str((enum body_parts_drop)r));
        prom_u64(out, P "body_parts_dropped_total", lbl, st->dropped[r]);
    }
    prom_family(out, P "body_parts_assembled_total", "counter",
                "Bodies completed from their slices and handed to the mirrors.");
    prom_u64(out, P "body_parts_assembled_total", "", st->assembled);
    prom_family(out, P "body_parts_requests", "gauge", "Requests whose body slices are held.");
    prom_u64(out, P "body_parts_requests", "", st->entries);
    prom_family(out, P "body_parts_bytes", "gauge", "Bytes reserved for the body slices held.");
    prom_u64(out, P "body_parts_bytes", "", st->bytes);
}

void metrics_render(struct buf *out, const struct agent_stats *spop, const struct stats_registry *reg,
                    const struct mirror_runtime *rt, const struct body_parts_stats *parts,
                    const struct metrics_process *proc)
{
    render_process(out, proc);
    render_spop(out, spop);
    render_engine(out, reg);
    render_routes(out, reg);
    render_mirrors(out, reg);
    render_resolver(out, reg);
    render_capture(out, rt);
    if (parts)
        render_body_parts(out, parts);
}
