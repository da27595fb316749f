/* The process-wide capture writers, one per capture directory, shared by
 * every configuration that names the directory: a reload that keeps a
 * directory keeps its writer, its open file and its counters; a directory
 * that no configuration names any more has its writer drained and stopped
 * when the last reference goes. Any thread; in practice the main thread,
 * which builds and frees configurations. */
#ifndef SPOA_CAPTURE_HUB_H
#define SPOA_CAPTURE_HUB_H

#include "capture/capture_writer.h"
#include "core/log.h"

struct capture_hub;

/* capture_hub_new: an empty hub; main owns it and frees it after every
 * configuration that used it. The process must ignore SIGXFSZ (main does),
 * so that a file size limit makes write() fail with EFBIG (counted
 * disk_full) instead of killing the agent. */
struct capture_hub *capture_hub_new(void);

/* capture_hub_free: stops and frees any writer still held, then the hub. NULL is fine. */
void capture_hub_free(struct capture_hub *hub);

/* capture_hub_acquire: the writer of set->dir, started and with <set>
 * applied; created (and started) on first use. Each call takes a reference.
 * <log> is borrowed by a new writer. Returns NULL only when the thread
 * cannot be created. */
struct capture_writer *capture_hub_acquire(struct capture_hub *hub, const struct capture_writer_settings *set,
                                           const struct logger *log);

/* capture_hub_release: drops a reference; the last one stops the writer
 * (capture_writer_stop with CAPTURE_STOP_WAIT_MS: what is queued is written
 * and the open file finished) and frees it. NULL is fine. */
void capture_hub_release(struct capture_hub *hub, struct capture_writer *w);

#endif
