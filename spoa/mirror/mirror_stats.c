#include "mirror/mirror_stats.h"

const double mirror_latency_bounds[HISTOGRAM_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                         0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

const char *mirror_drop_str(enum mirror_drop d)
{
    switch (d) {
#define MIRROR_DROP_CASE(name, text)                                                                         \
    case MIRROR_DROP_##name:                                                                                 \
        return text;
        MIRROR_DROP_REASONS(MIRROR_DROP_CASE)
#undef MIRROR_DROP_CASE
    case MIRROR_DROP_ENTRIES:
        break;
    }
    return "none";
}

const char *mirror_skip_str(enum mirror_skip s)
{
    switch (s) {
#define MIRROR_SKIP_CASE(name, text)                                                                         \
    case MIRROR_SKIP_##name:                                                                                 \
        return text;
        MIRROR_SKIP_REASONS(MIRROR_SKIP_CASE)
#undef MIRROR_SKIP_CASE
    case MIRROR_SKIP_ENTRIES:
        break;
    }
    return "unknown";
}

const char *mirror_cut_str(enum mirror_cut c)
{
    switch (c) {
#define MIRROR_CUT_CASE(name, text)                                                                          \
    case MIRROR_CUT_##name:                                                                                  \
        return text;
        MIRROR_CUT_REASONS(MIRROR_CUT_CASE)
#undef MIRROR_CUT_CASE
    case MIRROR_CUT_ENTRIES:
        break;
    }
    return "unknown";
}

void latency_observe(struct latency_histogram *h, uint64_t ns)
{
    histogram_observe(h, mirror_latency_bounds, ns, 1);
}

unsigned status_class_slot(int status)
{
    return (status >= 100 && status < 600) ? (unsigned)(status / 100) : 0;
}

const char *compare_unmatched_str(enum compare_unmatched u)
{
    switch (u) {
#define COMPARE_UNMATCHED_CASE(name, text)                                                                   \
    case COMPARE_UNMATCHED_##name:                                                                           \
        return text;
        COMPARE_UNMATCHED_REASONS(COMPARE_UNMATCHED_CASE)
#undef COMPARE_UNMATCHED_CASE
    case COMPARE_UNMATCHED_ENTRIES:
        break;
    }
    return "unknown";
}

const char *diff_log_drop_str(enum diff_log_drop d)
{
    switch (d) {
#define DIFF_LOG_DROP_CASE(name, text)                                                                       \
    case DIFF_LOG_DROP_##name:                                                                               \
        return text;
        DIFF_LOG_DROP_REASONS(DIFF_LOG_DROP_CASE)
#undef DIFF_LOG_DROP_CASE
    case DIFF_LOG_DROP_ENTRIES:
        break;
    }
    return "unknown";
}
