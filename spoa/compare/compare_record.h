/* The diff log's records: one MessagePack map per compared request whose
 * answers differed, appended back to back in files written by the capture
 * writer (capture_writer.h: same rotation, caps and crash repair), read
 * back by `spoa-shadow compare-report`.
 *
 * Keys (all strings) and their value types:
 *   "v"                  uint  COMPARE_RECORD_VERSION
 *   "kind"               str   "compare" (tells these files from captures)
 *   "ts"                 uint  nanoseconds since the Unix epoch
 *   "id"                 str   the request's unique-id
 *   "route", "mirror"    str   route name, mirror URL
 *   "method", "path"     str
 *   "result"             str   compare_result_str()
 *   "status_primary", "status_shadow"   uint (0: none)
 *   "headers"            array of [name, primary value, shadow value] (masked values "<redacted>")
 *   "header_diffs"       uint  headers that differ (more than those listed)
 *   "json"               array of [kind, path, generalized path, primary value, shadow value]
 *   "json_diffs"         uint  JSON values that differ (more than those listed)
 *   "noise"              uint  differences left out as learned noise
 *   "digest_primary", "digest_shadow"   uint  xxh3-64 of the first max_body_bytes
 *   "bytes_primary", "bytes_shadow"     uint  body lengths
 *   "latency_primary_us", "latency_shadow_us"   uint (0: unknown)
 *   "shadow_error"       str   why the shadow gave no answer ("" otherwise)
 *   "role"               str   "noise" for a mirror that is another's noise_mirror, "candidate" for
 *                              one that has a noise_mirror, "" otherwise (optional when read)
 * Readers ignore keys they do not know. */
#ifndef SPOA_COMPARE_RECORD_H
#define SPOA_COMPARE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "capture/capture_record.h"
#include "compare/compare_side.h"
#include "compare/compare_verdict.h"
#include "spop/spop_data.h"

#define COMPARE_RECORD_VERSION 1
/* Entries of "headers" and of "json" at most. */
#define COMPARE_RECORD_MAX_ITEMS 8

struct compare_record_header {
    struct spop_bytes name, primary, shadow;
};

struct compare_record_json {
    struct spop_bytes kind, path, generalized, primary, shadow;
};

/* One record; byte ranges are views (into the caller's data when encoding,
 * into the input when decoding). */
struct compare_record {
    uint64_t ts_ns;
    struct spop_bytes id, route, mirror, method, path, result, shadow_error, role;
    uint64_t status_primary, status_shadow;
    struct compare_record_header headers[COMPARE_RECORD_MAX_ITEMS];
    size_t n_headers;
    uint64_t header_diffs;
    struct compare_record_json json[COMPARE_RECORD_MAX_ITEMS];
    size_t n_json;
    uint64_t json_diffs;
    uint64_t noise;
    uint64_t digest_primary, digest_shadow, bytes_primary, bytes_shadow;
    uint64_t latency_primary_us, latency_shadow_us;
};

/* compare_record_fill: sets the fields of *r that come from verdict <v> on
 * <primary> against <shadow> (result, statuses, headers, json, counts,
 * digests, lengths, latencies, shadow_error), as views into <v> and
 * <shadow>, which must outlive *r's use. ts, id, route, mirror, method and
 * path are left to the caller. */
void compare_record_fill(struct compare_record *r, const struct compare_verdict *v,
                         const struct compare_side *primary, const struct compare_side *shadow);

/* compare_record_encode: appends <r> to <out> as one map with every key
 * above (at most COMPARE_RECORD_MAX_ITEMS entries of each list). Returns 0,
 * or -1 when msgpack-c could not grow the buffer (discard <out> then). */
int compare_record_encode(const struct compare_record *r, msgpack_sbuffer *out);

/* compare_record_decode: decodes the record starting at byte *off of the
 * <len> bytes at <p> into *r (views into <p>), moving *off past it. Status
 * and <why> (CAPTURE_WHY_LEN bytes) as capture_record_decode: CORRUPT for a
 * map without "v", "kind" = "compare", "ts", "id", "route", "mirror" and
 * "result", a known key twice or of the wrong type, a list longer than
 * COMPARE_RECORD_MAX_ITEMS, or another version. <u> is the caller's. */
enum capture_status compare_record_decode(const uint8_t *p, size_t len, size_t *off, msgpack_unpacked *u,
                                          struct compare_record *r, char *why);

#endif
