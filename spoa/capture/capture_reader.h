/* Reading a capture file record by record (format: capture_record.h). The
 * file is mapped read-only; records are views into it. */
#ifndef SPOA_CAPTURE_READER_H
#define SPOA_CAPTURE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "capture/capture_record.h"

struct capture_reader {
    const uint8_t *data; /* the input (mapped file or caller's bytes) */
    size_t len;
    size_t off;        /* start of the next record */
    size_t rec_offset; /* start of the record the last OK returned */
    size_t records;    /* valid records returned so far */
    msgpack_unpacked unpacked;
    char why[CAPTURE_WHY_LEN]; /* after TRUNCATED or CORRUPT */
    void *_map;                /* the mapping to undo, or NULL */
    size_t _map_len;
};

/* capture_reader_init_bytes: reads the <len> bytes at <data> (borrowed: they
 * must outlive the reader and the records it returns). */
void capture_reader_init_bytes(struct capture_reader *rd, const uint8_t *data, size_t len);

/* capture_reader_open: maps the file at <path> (its size when opened: bytes
 * appended later are not seen). Returns 0, or -1 with a message in <err>
 * (size <err_len>) and nothing to destroy. A file cut shorter while mapped
 * (a writer cutting a ".open" file back after a failed write) can raise
 * SIGBUS: finished files never change. */
int capture_reader_open(struct capture_reader *rd, const char *path, char *err, size_t err_len);

/* capture_reader_next: the next record into *r (valid until the next call or
 * capture_reader_destroy). CAPTURE_OK: rd->rec_offset is the record's first
 * byte. CAPTURE_END: every byte was a valid record. CAPTURE_TRUNCATED /
 * CAPTURE_CORRUPT: capture_reader_offset() is the problem record's first
 * byte (every byte before it belongs to valid records) and rd->why says what
 * is wrong; later calls return the same status. */
enum capture_status capture_reader_next(struct capture_reader *rd, struct capture_record *r);

/* capture_reader_offset: where reading stopped: the next record's first byte. */
size_t capture_reader_offset(const struct capture_reader *rd);

/* capture_reader_destroy: frees the decoded state and undoes the mapping. */
void capture_reader_destroy(struct capture_reader *rd);

#endif
