/* The records a replay reads: one capture file, or every finished capture
 * file of a directory (names ending in ".msgpack", in name order, which is
 * time order for the writer's "capture-<UTC time>-<seq>.msgpack" names),
 * one after the other. */
#ifndef SPOA_REPLAY_SOURCE_H
#define SPOA_REPLAY_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "capture/capture_record.h"

/* At most this many files are read from a directory. */
#define REPLAY_MAX_FILES 1000000

struct replay_source;

/* replay_source_open: <path> names a file or a directory. Returns NULL with
 * a message in <err> (size <err_len>) when it cannot be read or a directory
 * holds no ".msgpack" file. Problems found later in a file go to <diag>. */
struct replay_source *replay_source_open(const char *path, FILE *diag, char *err, size_t err_len);

/* replay_source_next: the next record into *r (valid until the next call).
 * Returns false when no file has a record left. A file that cannot be opened,
 * or whose reading stops at a truncated or corrupt record, is reported on
 * <diag> with the problem's byte offset, and reading goes on with the next
 * file; a truncated tail of a ".msgpack.open" file (still being written) is
 * the normal end of its records and is not counted as damaged. */
bool replay_source_next(struct replay_source *s, struct capture_record *r);

/* replay_source_files / replay_source_damaged: files read so far, and of
 * those, files that could not be opened or held a corrupt or truncated record. */
size_t replay_source_files(const struct replay_source *s);
size_t replay_source_damaged(const struct replay_source *s);

/* replay_source_free: closes the current file and frees everything. */
void replay_source_free(struct replay_source *s);

#endif
