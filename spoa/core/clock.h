/* Clock readings in nanoseconds: monotonic for durations and deadlines,
 * real time for timestamps that leave the process (logs, capture records). */
#ifndef SPOA_CLOCK_H
#define SPOA_CLOCK_H

#include <stdint.h>
#include <time.h>

/* mono_ns: CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* unix_ns: CLOCK_REALTIME in nanoseconds since the Unix epoch. */
static inline uint64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
