/* `spoa-shadow capture-dump FILE...`: prints each record of capture files
 * as one JSON object per line. */
#ifndef SPOA_CAPTURE_DUMP_H
#define SPOA_CAPTURE_DUMP_H

#include <stdio.h>

#include "capture/capture_record.h"

/* capture_dump_record: writes <r> to <out> as one JSON line: {"offset": the
 * record's byte offset, "v", "ts", "route", "mirror", "method", "path",
 * "authority", "shadow_authority", "http_version", "headers": [[name,
 * value], ...], "body": base64 (RFC 4648, padded), "body_len", then "id"
 * and "src" when present}. Strings are written as JSON strings: valid UTF-8
 * as is, each byte of an invalid sequence as U+FFFD. */
void capture_dump_record(FILE *out, const struct capture_record *r, size_t offset);

/* capture_dump_main: the subcommand; argv[0] is "capture-dump". Returns 0
 * when every file was read to its end, 1 when a file ends in a truncated
 * record or holds a corrupt one (its valid records are printed first, then
 * the problem and its byte offset on stderr), 2 for a usage error or a file
 * that cannot be opened. */
int capture_dump_main(int argc, char **argv);

#endif
