/* See replay_stats.h. */
#include <math.h>
#include <stdlib.h>

#include "replay/replay_stats.h"
#include "core/xalloc.h"

void replay_stats_done(struct replay_stats *s, int status, uint64_t latency_ns, enum mirror_drop why)
{
    if (why != MIRROR_DROP_NONE) {
        s->failed[why < MIRROR_DROP_ENTRIES ? why : MIRROR_DROP_IO_ERROR]++;
        return;
    }
    s->responses[status_class_slot(status)]++;
    if (s->n_latency == s->cap_latency) {
        s->cap_latency = s->cap_latency ? s->cap_latency * 2 : 1024;
        s->latency_ns = xrealloc(s->latency_ns, s->cap_latency * sizeof(*s->latency_ns));
    }
    s->latency_ns[s->n_latency++] = latency_ns;
}

uint64_t replay_stats_failed_total(const struct replay_stats *s)
{
    uint64_t n = 0;
    for (int i = 0; i < MIRROR_DROP_ENTRIES; i++)
        n += s->failed[i];
    return n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

uint64_t replay_stats_percentile(struct replay_stats *s, double q)
{
    if (s->n_latency == 0)
        return 0;
    qsort(s->latency_ns, s->n_latency, sizeof(*s->latency_ns), cmp_u64);
    double rank = ceil(q * (double)s->n_latency);
    size_t i = rank < 1 ? 0 : (size_t)rank - 1;
    if (i >= s->n_latency)
        i = s->n_latency - 1;
    return s->latency_ns[i];
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

void replay_stats_print(struct replay_stats *s, FILE *out)
{
    uint64_t answered = 0;
    for (int i = 0; i < 6; i++)
        answered += s->responses[i];
    double span =
        s->last_submit_ns > s->first_submit_ns ? (double)(s->last_submit_ns - s->first_submit_ns) / 1e9 : 0;
    /* n requests sent over a span have n - 1 intervals between them */
    double achieved = s->submitted >= 2 && span > 0 ? (double)(s->submitted - 1) / span : 0;
    fprintf(out, "files=%llu damaged_files=%llu records=%llu filtered=%llu bad_records=%llu\n",
            (unsigned long long)s->files, (unsigned long long)s->damaged_files,
            (unsigned long long)s->records, (unsigned long long)s->filtered,
            (unsigned long long)s->bad_records);
    fprintf(out, "sent=%llu responses=%llu failed=%llu\n", (unsigned long long)s->submitted,
            (unsigned long long)answered, (unsigned long long)replay_stats_failed_total(s));
    fprintf(out, "status 1xx=%llu 2xx=%llu 3xx=%llu 4xx=%llu 5xx=%llu other=%llu\n",
            (unsigned long long)s->responses[1], (unsigned long long)s->responses[2],
            (unsigned long long)s->responses[3], (unsigned long long)s->responses[4],
            (unsigned long long)s->responses[5], (unsigned long long)s->responses[0]);
    fprintf(out, "errors");
    for (int i = 0; i < MIRROR_DROP_ENTRIES; i++)
        fprintf(out, " %s=%llu", mirror_drop_str((enum mirror_drop)i), (unsigned long long)s->failed[i]);
    fprintf(out, "\n");
    uint64_t p50 = replay_stats_percentile(s, 0.50), p99 = replay_stats_percentile(s, 0.99);
    uint64_t max = s->n_latency ? s->latency_ns[s->n_latency - 1] : 0; /* sorted by the calls above */
    fprintf(out, "latency_ms p50=%.3f p99=%.3f max=%.3f count=%zu\n", ms(p50), ms(p99), ms(max),
            s->n_latency);
    fprintf(out, "rate achieved_rps=%.2f requested_rps=%.2f send_span_s=%.3f duration_s=%.3f\n", achieved,
            s->requested_rps, span, s->end_ns > s->start_ns ? (double)(s->end_ns - s->start_ns) / 1e9 : 0);
}

void replay_stats_free(struct replay_stats *s)
{
    free(s->latency_ns);
    s->latency_ns = NULL;
    s->n_latency = s->cap_latency = 0;
}
