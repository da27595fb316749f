/* The capture format: one MessagePack map per captured request, records
 * appended back to back in a file (no other framing: a map is
 * self-delimiting). Documented for other tools in docs/capture-format.md.
 *
 * Keys (all strings) and their value types:
 *   "v"                uint   format version, CAPTURE_FORMAT_VERSION
 *   "ts"               uint   capture time, nanoseconds since the Unix epoch
 *   "route"            str    route name
 *   "mirror"           str    the capture mirror's URL ("file:///dir")
 *   "method"           str
 *   "path"             str    path and query as HAProxy sent them (pathq)
 *   "authority"        str    the original Host
 *   "shadow_authority" str    the Host the mirror's authority rule gives
 *   "http_version"     str    "1.0", "1.1" or "2.0"
 *   "headers"          array of [str name, str value] pairs, in order; redacted values are "<redacted>"
 *   "body"             bin
 *   "id"               str    (only when HAProxy sent `id`)
 *   "src"              str    (only when HAProxy sent `src`; an IPv4/IPv6 address as text)
 * Readers must ignore keys they do not know. */
#ifndef SPOA_CAPTURE_RECORD_H
#define SPOA_CAPTURE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "spop/spop_data.h"

#define CAPTURE_FORMAT_VERSION 1
/* The value written in place of a redacted header's value. */
#define CAPTURE_REDACTED "<redacted>"

struct capture_header {
    struct spop_bytes name;
    struct spop_bytes value;
};

/* One record. Byte ranges are views: into the caller's data when encoding,
 * into the reader's input (or its unpacked zone) when decoding. */
struct capture_record {
    uint64_t version;
    uint64_t ts_ns;
    struct spop_bytes route;
    struct spop_bytes mirror;
    struct spop_bytes method;
    struct spop_bytes path;
    struct spop_bytes authority;
    struct spop_bytes shadow_authority;
    struct spop_bytes http_version;
    const struct capture_header *headers;
    size_t n_headers;
    struct spop_bytes body;
    bool has_id;
    struct spop_bytes id;
    bool has_src;
    struct spop_bytes src;
};

/* capture_record_encode: appends <r> to <out> as one MessagePack map with the
 * keys above, in the order listed ("id"/"src" only when has_id/has_src); the
 * "v" key is written as CAPTURE_FORMAT_VERSION whatever r->version holds.
 * <r> and its byte views are only read. Returns 0, or -1 when msgpack-c
 * failed to grow the buffer (then <out> may hold a partial record: the
 * caller should discard it). */
int capture_record_encode(const struct capture_record *r, msgpack_sbuffer *out);

/* What reading the next record of a capture gave. */
enum capture_status {
    CAPTURE_OK = 0,    /* a valid record */
    CAPTURE_END,       /* no bytes left: the capture ended on a record boundary */
    CAPTURE_TRUNCATED, /* the bytes left are an incomplete record (a torn tail) */
    CAPTURE_CORRUPT,   /* not a map, a MessagePack error, a wrong type, a missing key, a bad version */
};

/* capture_status_str: "ok", "end", "truncated" or "corrupt". */
const char *capture_status_str(enum capture_status s);

/* Room for the description of a corrupt record. */
#define CAPTURE_WHY_LEN 96

/* capture_record_decode: decodes the record starting at byte *off of the
 * <len> bytes at <p>. On CAPTURE_OK, *r holds the record, its byte views
 * pointing into <p> and its header array into u->zone (valid until <u> is
 * reused or destroyed, and while <p> lives), and *off is moved past the
 * record. Otherwise *off is left on the record's first byte, which is the
 * problem's offset: CAPTURE_END when *off == len, CAPTURE_TRUNCATED when the
 * input ends inside the record (or a size declared in it passes the end),
 * CAPTURE_CORRUPT with a description in <why> (CAPTURE_WHY_LEN bytes). Keys
 * that are not known (or not strings) are ignored; a known key twice, or a
 * "v" other than 1..CAPTURE_FORMAT_VERSION, is corrupt. <u> is a
 * msgpack_unpacked the caller initialised and destroys. */
enum capture_status capture_record_decode(const uint8_t *p, size_t len, size_t *off, msgpack_unpacked *u,
                                          struct capture_record *r, char *why);

/* capture_unpack_next: unpacks the one MessagePack value starting at byte
 * <off> of the <len> bytes at <p> into u->data (sizes checked first with
 * capture_scan_value, so a corrupt count allocates nothing). On CAPTURE_OK
 * *size is its length; otherwise the status and <why> are those of
 * capture_record_decode. Other record kinds (compare_record.h) use it too. */
enum capture_status capture_unpack_next(const uint8_t *p, size_t len, size_t off, msgpack_unpacked *u,
                                        size_t *size, char *why);

/* capture_record_equal: true when <a> and <b> hold the same version, ts,
 * byte contents (not pointers), headers and optional fields. */
bool capture_record_equal(const struct capture_record *a, const struct capture_record *b);

#endif
