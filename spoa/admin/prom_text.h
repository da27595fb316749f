/* Writing the Prometheus text exposition format (version 0.0.4). */
#ifndef SPOA_PROM_TEXT_H
#define SPOA_PROM_TEXT_H

#include <stdint.h>

#include "core/buf.h"
#include "core/histogram.h"

/* prom_family: writes the # HELP and # TYPE lines of a metric family.
 * <type> is "counter", "gauge" or "histogram". */
void prom_family(struct buf *out, const char *name, const char *type, const char *help);

/* prom_u64 / prom_double: writes one sample `<name>{<labels>} <value>`.
 * <labels> is "" or a label list already escaped (see prom_label). */
void prom_u64(struct buf *out, const char *name, const char *labels, uint64_t value);
void prom_double(struct buf *out, const char *name, const char *labels, double value);

/* prom_label: appends `key="value"` (value escaped: \\ \" \n) to the label
 * list in <dst> (size <cap>, NUL-terminated), with a comma when not first. */
void prom_label(char *dst, size_t cap, const char *key, const char *value);

/* prom_histogram: writes the _bucket (cumulative, le in seconds), _sum
 * (seconds) and _count samples of <h> with <bounds>. */
void prom_histogram(struct buf *out, const char *name, const char *labels, const struct latency_histogram *h,
                    const double *bounds);

/* histogram_add: adds every bucket of <src> into <dst> (for sums over threads). */
void histogram_add(struct latency_histogram *dst, const struct latency_histogram *src);

#endif
