#include "admin/prom_text.h"

#include <stdio.h>
#include <string.h>

static void put(struct buf *out, const char *s)
{
    buf_append(out, s, strlen(s));
}

void prom_family(struct buf *out, const char *name, const char *type, const char *help)
{
    char line[512];
    snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    put(out, line);
}

static void sample_head(struct buf *out, const char *name, const char *labels)
{
    put(out, name);
    if (labels && labels[0]) {
        put(out, "{");
        put(out, labels);
        put(out, "}");
    }
    put(out, " ");
}

void prom_u64(struct buf *out, const char *name, const char *labels, uint64_t value)
{
    char v[32];
    sample_head(out, name, labels);
    snprintf(v, sizeof(v), "%llu\n", (unsigned long long)value);
    put(out, v);
}

void prom_double(struct buf *out, const char *name, const char *labels, double value)
{
    char v[64];
    sample_head(out, name, labels);
    snprintf(v, sizeof(v), "%.17g\n", value);
    put(out, v);
}

void prom_label(char *dst, size_t cap, const char *key, const char *value)
{
    size_t o = strlen(dst);
#define PUT(c)                                                                                               \
    do {                                                                                                     \
        if (o + 1 < cap)                                                                                     \
            dst[o++] = (c);                                                                                  \
    } while (0)
    if (o)
        PUT(',');
    for (const char *k = key; *k; k++)
        PUT(*k);
    PUT('=');
    PUT('"');
    for (const char *v = value; *v; v++) {
        if (*v == '\\' || *v == '"') {
            PUT('\\');
            PUT(*v);
        } else if (*v == '\n') {
            PUT('\\');
            PUT('n');
        } else {
            PUT(*v);
        }
    }
    PUT('"');
#undef PUT
    dst[o] = '\0';
}

void prom_histogram(struct buf *out, const char *name, const char *labels, const struct latency_histogram *h,
                    const double *bounds)
{
    char metric[160], lbl[1024], le[32];
    uint64_t cumulative = 0;
    snprintf(metric, sizeof(metric), "%s_bucket", name);
    for (unsigned i = 0; i <= HISTOGRAM_BUCKETS; i++) {
        cumulative += counter_get(&h->buckets[i]);
        snprintf(lbl, sizeof(lbl), "%s", labels);
        if (i < HISTOGRAM_BUCKETS)
            snprintf(le, sizeof(le), "%g", bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        prom_label(lbl, sizeof(lbl), "le", le);
        prom_u64(out, metric, lbl, cumulative);
    }
    snprintf(metric, sizeof(metric), "%s_sum", name);
    prom_double(out, metric, labels, (double)counter_get(&h->sum_ns) / 1e9);
    snprintf(metric, sizeof(metric), "%s_count", name);
    prom_u64(out, metric, labels, cumulative); /* equal to the +Inf bucket by construction */
}

void histogram_add(struct latency_histogram *dst, const struct latency_histogram *src)
{
    for (unsigned i = 0; i <= HISTOGRAM_BUCKETS; i++)
        counter_add(&dst->buckets[i], counter_get(&src->buckets[i]));
    counter_add(&dst->count, counter_get(&src->count));
    counter_add(&dst->sum_ns, counter_get(&src->sum_ns));
}
