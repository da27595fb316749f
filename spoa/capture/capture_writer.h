/* The capture writer: one thread per capture directory that appends
 * encoded records (capture_record.h) to files there, with write(2), behind
 * a bounded queue. Worker threads push already-encoded records and never
 * wait: the queue's lock is held only to link or unlink records, never
 * during I/O, and a full queue drops the record (counted).
 *
 * Files (capture_files.h) are written as "<name>.open" and renamed to
 * "<name>" once finished: when the next record would take the file past
 * rotate_bytes, when it is rotate_ms old, and on stop. A finished file is
 * fsync'ed before the rename and holds whole records only: when a write
 * fails part-way (ENOSPC, EFBIG, EDQUOT: disk_full; anything else:
 * io_error), the file is cut back to the last record boundary (ftruncate)
 * and that record is dropped (counted). After each rotation the oldest
 * finished files are deleted until at most max_files remain and their
 * total plus rotate_bytes (room for the next file) fits max_total_bytes.
 *
 * At start the thread creates the directory if needed (mode 0750, parents
 * too), repairs ".open" files a crashed writer left (capture_files.h) and
 * applies the caps. When the directory cannot be used, records are dropped
 * as io_error and opening is retried at most once per second.
 *
 * capture_hub.h shares writers process-wide, one per directory. */
#ifndef SPOA_CAPTURE_WRITER_H
#define SPOA_CAPTURE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/counter.h"
#include "core/log.h"

/* Why a record was not written. */
/* clang-format off */
#define CAPTURE_DROP_REASONS(X)  \
    X(QUEUE_FULL, "queue_full") /* max_queue records were already waiting */           \
    X(DISK_FULL,  "disk_full")  /* ENOSPC, EDQUOT or EFBIG (file size limit) */          \
    X(IO_ERROR,   "io_error")   /* the directory or file could not be opened or written */ \
    X(SHUTDOWN,   "shutdown")   /* still queued when the stop deadline passed */
/* clang-format on */

enum capture_drop {
#define CAPTURE_DROP_ENUM(name, text) CAPTURE_DROP_##name,
    CAPTURE_DROP_REASONS(CAPTURE_DROP_ENUM)
#undef CAPTURE_DROP_ENUM
        CAPTURE_DROP_ENTRIES,
    CAPTURE_DROP_NONE = CAPTURE_DROP_ENTRIES /* queued */
};

/* capture_drop_str: the snake_case name of <d>. */
const char *capture_drop_str(enum capture_drop d);

/* Counters of one writer, readable from any thread with counter_get(). */
struct capture_stats {
    counter_t records;       /* records written */
    counter_t bytes;         /* bytes of those records */
    counter_t files_rotated; /* files finished (renamed from .open) */
    counter_t files_deleted; /* finished files deleted by max_files / max_total_bytes */
    counter_t dropped[CAPTURE_DROP_ENTRIES];
    counter_t queued;       /* gauge: records waiting */
    counter_t stored_bytes; /* gauge: finished files (as last listed) plus the open file */
};

struct capture_writer_settings {
    const char *dir; /* copied */
    uint64_t rotate_bytes;
    uint32_t rotate_ms; /* 0 = no age limit */
    uint64_t max_total_bytes;
    uint32_t max_files;
    uint32_t max_queue;
    bool no_fsync; /* skip the fsync of finished files (tests) */
};

struct capture_writer;

/* How long capture_writer_stop() lets the thread write what is queued. */
#define CAPTURE_STOP_WAIT_MS 5000

/* capture_writer_new: a writer for <set> that does not run yet (pushes
 * queue up). <log> is borrowed and must outlive it. */
struct capture_writer *capture_writer_new(const struct capture_writer_settings *set,
                                          const struct logger *log);

/* capture_writer_start: starts its thread. Returns 0, or an errno value. */
int capture_writer_start(struct capture_writer *w);

/* capture_writer_update: applies new settings (the directory must be the
 * same); the thread uses them from its next batch. Any thread. */
void capture_writer_update(struct capture_writer *w, const struct capture_writer_settings *set);

/* capture_writer_push: queues a copy of the <len> bytes at <rec> (one whole
 * encoded record). Never waits for I/O. Returns CAPTURE_DROP_NONE when
 * queued; otherwise the record is dropped, counted in the writer's stats,
 * and the reason returned: CAPTURE_DROP_QUEUE_FULL, or CAPTURE_DROP_SHUTDOWN
 * once the writer is stopping. Any thread. */
enum capture_drop capture_writer_push(struct capture_writer *w, const void *rec, size_t len);

/* capture_writer_sync: waits up to <timeout_ms> until the queue is empty
 * and the thread idle (everything pushed before the call written or
 * dropped). Returns false on timeout or when the thread is not running. */
bool capture_writer_sync(struct capture_writer *w, unsigned timeout_ms);

/* capture_writer_stop: asks the thread to write what is queued, finish the
 * open file and end; records still queued after <wait_ms> are dropped
 * (shutdown). Waits for the thread. Returns false when the thread was stuck
 * in a system call past the deadline plus a second: then it is left running
 * and the writer must not be freed (it is leaked on purpose). Pushes after
 * the call are dropped (shutdown). */
bool capture_writer_stop(struct capture_writer *w, unsigned wait_ms);

/* capture_writer_free: releases a writer that was stopped (or never started);
 * what is still queued is counted as dropped (shutdown). */
void capture_writer_free(struct capture_writer *w);

/* capture_writer_stats: its counters. */
const struct capture_stats *capture_writer_stats(const struct capture_writer *w);

/* capture_writer_dir: its directory. */
const char *capture_writer_dir(const struct capture_writer *w);

#endif
