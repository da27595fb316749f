/* Counters of the mirroring engine, per worker thread, per route and per
 * mirror. Written only by the owning worker; summed across workers when read. */
#ifndef SPOA_MIRROR_STATS_H
#define SPOA_MIRROR_STATS_H

#include "core/counter.h"

/* Why a sampled copy was not delivered. */
/* clang-format off */
#define MIRROR_DROP_REASONS(X)  \
    X(QUEUE_FULL,     "queue_full")      /* the mirror's queue was full */                 \
    X(INFLIGHT_LIMIT, "inflight_limit")  /* it waited in the queue past its timeout */     \
    X(RATE_LIMITED,   "rate_limited")    /* over the mirror's max_rps */                   \
    X(CONNECT_ERROR,  "connect_error")   /* refused, unreachable, unresolved, timed out */ \
    X(TLS_HANDSHAKE,  "tls_handshake")   /* the TLS handshake failed or was refused */    \
    X(TLS_VERIFY,     "tls_verify")      /* the mirror's certificate did not verify */     \
    X(TIMEOUT,        "timeout")         /* no whole response within timeout_ms */         \
    X(CIRCUIT_OPEN,   "circuit_open")    /* the mirror failed repeatedly: resting */       \
    X(IO_ERROR,       "io_error")        /* the connection failed mid-exchange */          \
    X(BAD_RESPONSE,   "bad_response")    /* not HTTP, endless interim responses, an HTTP/2 protocol error */ \
    X(STREAM_RESET,   "stream_reset")    /* HTTP/2: the mirror reset the stream before its response */ \
    X(SHUTDOWN,       "shutdown")        /* the agent stopped before it was sent */
/* clang-format on */

enum mirror_drop {
#define MIRROR_DROP_ENUM(name, text) MIRROR_DROP_##name,
    MIRROR_DROP_REASONS(MIRROR_DROP_ENUM)
#undef MIRROR_DROP_ENUM
        MIRROR_DROP_ENTRIES,
    MIRROR_DROP_NONE = MIRROR_DROP_ENTRIES /* accepted */
};

/* Why a request was not sampled into a mirror at all. */
/* clang-format off */
#define MIRROR_SKIP_REASONS(X)  \
    X(BODY_TRUNCATED, "body_truncated") /* HAProxy sent part of the body only */   \
    X(BAD_REQUEST,    "bad_request")    /* cannot be written as HTTP/1.1 safely */ \
    X(TOO_LARGE,      "too_large")      /* larger than the request size limit */
/* clang-format on */

enum mirror_skip {
#define MIRROR_SKIP_ENUM(name, text) MIRROR_SKIP_##name,
    MIRROR_SKIP_REASONS(MIRROR_SKIP_ENUM)
#undef MIRROR_SKIP_ENUM
        MIRROR_SKIP_ENTRIES
};

/* Why the body of a response counted as delivered was not read to its end:
 * its connection was closed instead of being kept for the next copy. */
/* clang-format off */
#define MIRROR_CUT_REASONS(X) \
    X(TOO_LARGE, "too_large") /* the body went past max_response_bytes */         \
    X(TIMEOUT,   "timeout")   /* the body was not whole within timeout_ms */       \
    X(IO_ERROR,  "io_error")  /* closed, reset or malformed in the middle of it */
/* clang-format on */

enum mirror_cut {
#define MIRROR_CUT_ENUM(name, text) MIRROR_CUT_##name,
    MIRROR_CUT_REASONS(MIRROR_CUT_ENUM)
#undef MIRROR_CUT_ENUM
        MIRROR_CUT_ENTRIES
};

/* Why a request chosen for comparison got no verdict. */
/* clang-format off */
#define COMPARE_UNMATCHED_REASONS(X) \
    X(NO_ID,           "no_id")           /* HAProxy sent no unique-id for it */                   \
    X(TABLE_FULL,      "table_full")      /* max_pending requests were already waiting */          \
    X(PRIMARY_MISSING, "primary_missing") /* the primary's answer did not come within match_timeout_ms */ \
    X(SHADOW_MISSING,  "shadow_missing")  /* the mirror's answer did not end within match_timeout_ms */  \
    X(SHADOW_LATE,     "shadow_late")     /* the mirror's answer ended after its request expired */
/* clang-format on */

enum compare_unmatched {
#define COMPARE_UNMATCHED_ENUM(name, text) COMPARE_UNMATCHED_##name,
    COMPARE_UNMATCHED_REASONS(COMPARE_UNMATCHED_ENUM)
#undef COMPARE_UNMATCHED_ENUM
        COMPARE_UNMATCHED_ENTRIES
};

/* What happened to diff-log records. */
/* clang-format off */
#define DIFF_LOG_DROP_REASONS(X) \
    X(RATE_LIMITED, "rate_limited") /* over the diff log's max_records_per_second */ \
    X(QUEUE_FULL,   "queue_full")   /* the writer's queue was full */                 \
    X(SHUTDOWN,     "shutdown")     /* the writer was stopping, or never started */
/* clang-format on */

enum diff_log_drop {
#define DIFF_LOG_DROP_ENUM(name, text) DIFF_LOG_DROP_##name,
    DIFF_LOG_DROP_REASONS(DIFF_LOG_DROP_ENUM)
#undef DIFF_LOG_DROP_ENUM
        DIFF_LOG_DROP_ENTRIES
};

/* Slots of mirror_counters.grpc_status: the codes 0..16, then any other. */
#define MIRROR_GRPC_OTHER 17
#define MIRROR_GRPC_SLOTS 18

#include "compare/compare_verdict.h"
#include "core/histogram.h"

/* Upper bounds (seconds) of the mirror latency buckets; +Inf is implied. */
#define MIRROR_LATENCY_BUCKETS HISTOGRAM_BUCKETS
extern const double mirror_latency_bounds[HISTOGRAM_BUCKETS];

struct mirror_counters {
    counter_t sampled;        /* copies decided for this mirror */
    counter_t not_sampled;    /* requests of the route the draw left out */
    counter_t sampled_by_key; /* of sampled + not_sampled: decided by header/cookie hash */
    counter_t sent;           /* requests written completely to the mirror */
    counter_t responses[6];   /* by status class: 1xx..5xx, [0] = other; counted at the headers */
    counter_t responses_cut[MIRROR_CUT_ENTRIES]; /* of those, bodies not read to their end */
    counter_t dropped[MIRROR_DROP_ENTRIES];
    counter_t skipped[MIRROR_SKIP_ENTRIES];
    counter_t connects;     /* connections opened */
    counter_t expired;      /* connections closed at max_connection_age_ms instead of being reused */
    counter_t address_gone; /* closed instead of being reused: their address left the resolved set */
    counter_t connect_failures;
    counter_t reused;          /* requests sent on a kept-alive connection */
    counter_t retries_refused; /* written whole on a stale connection, not idempotent: not resent */
    counter_t tls_handshakes;  /* TLS handshakes completed (https mirrors) */
    counter_t tls_resumed;     /* of those, resuming an earlier session */
    counter_t
        grpc_status[MIRROR_GRPC_SLOTS]; /* responses by grpc-status: 0..16, [MIRROR_GRPC_OTHER] others */
    counter_t inflight;                 /* gauge */
    counter_t queued;                   /* gauge */
    counter_t compared[COMPARE_RESULT_COUNT];       /* verdicts, unmatched included */
    counter_t unmatched[COMPARE_UNMATCHED_ENTRIES]; /* of compared[unmatched], why */
    counter_t compare_noise;                        /* differences left out as learned noise */
    counter_t diff_records;                         /* diff-log records queued for writing */
    counter_t json_shape_hits;   /* primary JSON bodies derived from a kept document of their shape */
    counter_t json_shape_misses; /* primary JSON bodies tokenized in full */
    counter_t diff_dropped[DIFF_LOG_DROP_ENTRIES];
    struct latency_histogram latency; /* request's start on its connection -> response headers */
    /* Shadow minus primary latency of compared requests: buckets over the
     * absolute difference, one histogram per sign. */
    struct latency_histogram compare_slower, compare_faster;
};

/* Per route: what happened before any mirror was involved. */
struct route_counters {
    counter_t requests; /* NOTIFYs that chose this route */
    counter_t mirrored; /* of those, sent to at least one mirror (ACK said true) */
};

/* Requests that reached no route, and why. */
struct engine_counters {
    counter_t notifies;
    counter_t no_message;  /* NOTIFY without a `mirror` message */
    counter_t bad_args[4]; /* by enum mirror_args_status */
    counter_t no_route;
    counter_t unknown_route; /* `route` argument naming no configured route */
    counter_t responses;     /* NOTIFYs with a `mirror-response` message */
    counter_t response_bad_args;
    counter_t response_unknown; /* for no request waiting in the match table (expired, or not compared) */
};

/* mirror_drop_str / mirror_skip_str / mirror_cut_str: the snake_case
 * reason names above. */
const char *mirror_drop_str(enum mirror_drop d);
const char *mirror_skip_str(enum mirror_skip s);
const char *mirror_cut_str(enum mirror_cut c);

/* compare_unmatched_str / diff_log_drop_str: the snake_case names above. */
const char *compare_unmatched_str(enum compare_unmatched u);
const char *diff_log_drop_str(enum diff_log_drop d);

/* latency_observe: counts one mirror latency of <ns> nanoseconds. Owner thread only. */
void latency_observe(struct latency_histogram *h, uint64_t ns);

/* status_class_slot: the responses[] slot of an HTTP status code. */
unsigned status_class_slot(int status);

#endif
