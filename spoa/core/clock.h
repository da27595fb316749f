/* Clock readings: monotonic for durations and deadlines, real time for
 * timestamps that leave the process (logs, capture records, metrics), and
 * the conversions between nanoseconds and struct timespec. */
#ifndef SPOA_CLOCK_H
#define SPOA_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_NS_PER_S  1000000000ull
#define CLOCK_NS_PER_MS 1000000ull

/* timespec_to_ns: <ts> (non-negative) in nanoseconds. */
static inline uint64_t timespec_to_ns(struct timespec ts)
{
    return (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* ns_to_timespec: <ns> nanoseconds as a struct timespec (tv_nsec < 1e9). */
static inline struct timespec ns_to_timespec(uint64_t ns)
{
    return (struct timespec){.tv_sec = (time_t)(ns / CLOCK_NS_PER_S), .tv_nsec = (long)(ns % CLOCK_NS_PER_S)};
}

/* clock_now: the current time of clock <id>. */
static inline struct timespec clock_now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts;
}

/* mono_ns: CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t mono_ns(void)
{
    return timespec_to_ns(clock_now(CLOCK_MONOTONIC));
}

/* mono_deadline_ms: the CLOCK_MONOTONIC time <ms> milliseconds from now, as
 * an absolute struct timespec (for pthread_cond_timedwait() on a condition
 * variable set to CLOCK_MONOTONIC). */
static inline struct timespec mono_deadline_ms(uint64_t ms)
{
    return ns_to_timespec(mono_ns() + ms * CLOCK_NS_PER_MS);
}

/* unix_ns: CLOCK_REALTIME in nanoseconds since the Unix epoch. */
static inline uint64_t unix_ns(void)
{
    return timespec_to_ns(clock_now(CLOCK_REALTIME));
}

/* unix_ms: CLOCK_REALTIME in whole milliseconds since the Unix epoch. */
static inline uint64_t unix_ms(void)
{
    return unix_ns() / CLOCK_NS_PER_MS;
}

/* unix_seconds: CLOCK_REALTIME in seconds since the Unix epoch, with the
 * fraction (as Prometheus timestamps are written). */
static inline double unix_seconds(void)
{
    struct timespec ts = clock_now(CLOCK_REALTIME);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
