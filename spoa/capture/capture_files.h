/* The files of a capture directory: their names, listing the finished ones
 * oldest first, deleting the oldest beyond the caps, and repairing a file a
 * crash left open. Names (docs/capture-format.md):
 *   capture-<UTC start, 20261127T045000.123Z>-<seq, 6 digits>.msgpack
 * while written, the same name plus ".open". Timestamp and sequence have a
 * fixed width, so sorting names sorts files by the time they were started. */
#ifndef SPOA_CAPTURE_FILES_H
#define SPOA_CAPTURE_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for a name, ".open" and the NUL. */
#define CAPTURE_NAME_CAP    64
#define CAPTURE_OPEN_SUFFIX ".open"
#define CAPTURE_SEQ_MOD     1000000u

enum capture_file_kind {
    CAPTURE_FILE_OTHER = 0, /* not a capture file: never touched */
    CAPTURE_FILE_DONE,      /* capture-....msgpack */
    CAPTURE_FILE_OPEN,      /* capture-....msgpack.open */
};

/* capture_file_name: writes into <out> the finished name of the file started
 * at <unix_ms> (milliseconds since the epoch, UTC) with sequence <seq>
 * (taken modulo CAPTURE_SEQ_MOD). */
void capture_file_name(char out[CAPTURE_NAME_CAP], uint64_t unix_ms, unsigned seq);

/* capture_file_parse: which kind of name <name> is; for a capture file,
 * *unix_ms and *seq (either may be NULL) receive its start and sequence.
 * Strict: the exact pattern above, a valid date and time. */
enum capture_file_kind capture_file_parse(const char *name, uint64_t *unix_ms, unsigned *seq);

struct capture_file {
    char name[CAPTURE_NAME_CAP];
    uint64_t size;
};

/* The files of one kind in a directory, sorted by name (oldest first). */
struct capture_dir_list {
    struct capture_file *files;
    size_t n;
    uint64_t total; /* sum of the sizes */
};

/* capture_dir_scan: lists the files of <kind> in <dir> into *out (which it
 * resets; free with capture_dir_list_free). Regular files only. Returns 0,
 * or an errno value (then *out is empty). */
int capture_dir_scan(const char *dir, enum capture_file_kind kind, struct capture_dir_list *out);

/* capture_dir_list_free: releases the list and empties it. */
void capture_dir_list_free(struct capture_dir_list *l);

/* capture_dir_trim: deletes the oldest files of <l> (finished files of
 * <dir>) until at most <max_files> remain and their total plus <reserve>
 * bytes is at most <max_total>, updating *l. A file already gone counts as
 * deleted. Returns how many were removed; an unlink error other than ENOENT
 * stops the trimming and is stored in *err (0 otherwise). */
size_t capture_dir_trim(const char *dir, struct capture_dir_list *l, size_t max_files, uint64_t max_total,
                        uint64_t reserve, int *err);

/* capture_dir_make: creates <dir> (absolute) and its missing parents with
 * <mode>. Returns 0 when <dir> is then a directory, or -1 with errno set. */
int capture_dir_make(const char *dir, unsigned mode);

/* capture_file_recover: repairs <dir>/<open_name>, a ".open" file no writer
 * holds (its writer crashed): cuts it back to its last whole record and
 * renames it to its finished name, or removes it when no record is whole.
 * A file locked by a live writer (flock) is left alone. Returns 1 when a
 * finished file was made, 0 when it was removed or left alone, -1 with errno
 * set on error. */
int capture_file_recover(const char *dir, const char *open_name);

#endif
