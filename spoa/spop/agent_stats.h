/* Counters of one worker thread's SPOP side. One instance per worker, written
 * only by that worker; totals are the sum over workers. */
#ifndef SPOA_AGENT_STATS_H
#define SPOA_AGENT_STATS_H

#include "core/counter.h"
#include "core/histogram.h"

/* Status codes are counted in slots: 0..13 as themselves, anything else in the last. */
#define AGENT_STATS_STATUS_SLOTS 15

struct agent_stats {
    counter_t conn_accepted;
    counter_t conn_closed;
    counter_t conn_rejected; /* over the connection limit */
    counter_t conn_idle_timeout;
    counter_t conn_current; /* gauge: increments and decrements by the owner */
    counter_t hello;        /* HELLO handshakes completed (health checks included) */
    counter_t healthcheck;
    counter_t notify;         /* NOTIFY frames received */
    counter_t ack;            /* ACK frames queued for sending */
    counter_t notify_aborted; /* NOTIFY frames with the ABORT flag, not answered */
    counter_t haproxy_disconnect;
    counter_t frame_unknown; /* frames of unknown type, ignored */
    counter_t bytes_in;
    counter_t bytes_out;
    counter_t error_sent[AGENT_STATS_STATUS_SLOTS];     /* AGENT-DISCONNECT sent, by status */
    counter_t error_received[AGENT_STATS_STATUS_SLOTS]; /* HAPROXY-DISCONNECT status != 0 */
    /* From the read that completed a NOTIFY to the send() that carried its ACK. */
    struct latency_histogram ack_latency;
};

/* Upper bounds (seconds) of the ACK latency buckets. */
extern const double ack_latency_bounds[HISTOGRAM_BUCKETS];

/* agent_stats_status_slot: the slot of a status code in the arrays above. */
static inline unsigned agent_stats_status_slot(int status)
{
    return (status >= 0 && status < AGENT_STATS_STATUS_SLOTS - 1) ? (unsigned)status
                                                                  : AGENT_STATS_STATUS_SLOTS - 1;
}

#endif
