/* A reaper: one thread that runs release jobs (freeing an old
 * configuration, say: joining its threads, flushing its files) in the order
 * they were handed over, so that the thread handing them over, an event
 * loop, never waits for them. */
#ifndef SPOA_REAPER_H
#define SPOA_REAPER_H

#include <stdbool.h>

struct reaper;

/* reaper_start: a reaper and its thread. When the thread cannot be created,
 * the reaper still works: reaper_submit() then runs each job at once, on
 * the caller's thread. Aborts on out-of-memory. */
struct reaper *reaper_start(void);

/* reaper_submit: queues fn(arg) to run on the reaper's thread; returns
 * without waiting for it. Any thread. */
void reaper_submit(struct reaper *r, void (*fn)(void *), void *arg);

/* reaper_pending: jobs queued or running. Any thread. */
unsigned reaper_pending(struct reaper *r);

/* reaper_stop: runs every job still queued, ends the thread and frees the
 * reaper. NULL is fine. */
void reaper_stop(struct reaper *r);

#endif
