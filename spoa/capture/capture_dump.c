/* See capture_dump.h. */
#include <string.h>

#include "capture/capture_dump.h"
#include "capture/capture_reader.h"
#include "core/utf8.h"

static void json_str(FILE *out, struct spop_bytes b)
{
    fputc('"', out);
    for (size_t i = 0; i < b.len;) {
        uint8_t c = b.ptr[i];
        size_t n = utf8_sequence_len(b.ptr + i, b.len - i);
        if (n == 0) {
            fputs("\\ufffd", out);
            i++;
        } else if (n > 1) {
            fwrite(b.ptr + i, 1, n, out);
            i += n;
        } else {
            if (c == '"' || c == '\\')
                fprintf(out, "\\%c", c);
            else if (c < 0x20 || c == 0x7f)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
            i++;
        }
    }
    fputc('"', out);
}

static void json_key_str(FILE *out, const char *key, struct spop_bytes b)
{
    fprintf(out, ",\"%s\":", key);
    json_str(out, b);
}

static void base64(FILE *out, struct spop_bytes b)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputc('"', out);
    for (size_t i = 0; i < b.len; i += 3) {
        uint32_t v = (uint32_t)b.ptr[i] << 16;
        size_t n = b.len - i < 3 ? b.len - i : 3;
        if (n > 1)
            v |= (uint32_t)b.ptr[i + 1] << 8;
        if (n > 2)
            v |= b.ptr[i + 2];
        char q[4] = {tbl[(v >> 18) & 63], tbl[(v >> 12) & 63], n > 1 ? tbl[(v >> 6) & 63] : '=',
                     n > 2 ? tbl[v & 63] : '='};
        fwrite(q, 1, 4, out);
    }
    fputc('"', out);
}

void capture_dump_record(FILE *out, const struct capture_record *r, size_t offset)
{
    fprintf(out, "{\"offset\":%zu,\"v\":%llu,\"ts\":%llu", offset, (unsigned long long)r->version,
            (unsigned long long)r->ts_ns);
    json_key_str(out, "route", r->route);
    json_key_str(out, "mirror", r->mirror);
    json_key_str(out, "method", r->method);
    json_key_str(out, "path", r->path);
    json_key_str(out, "authority", r->authority);
    json_key_str(out, "shadow_authority", r->shadow_authority);
    json_key_str(out, "http_version", r->http_version);
    fputs(",\"headers\":[", out);
    for (size_t i = 0; i < r->n_headers; i++) {
        fputs(i ? ",[" : "[", out);
        json_str(out, r->headers[i].name);
        fputc(',', out);
        json_str(out, r->headers[i].value);
        fputc(']', out);
    }
    fputs("],\"body\":", out);
    base64(out, r->body);
    fprintf(out, ",\"body_len\":%zu", r->body.len);
    if (r->has_id)
        json_key_str(out, "id", r->id);
    if (r->has_src)
        json_key_str(out, "src", r->src);
    fputs("}\n", out);
}

/* Dumps one file; returns 0, 1 (damaged) or 2 (cannot open). */
static int dump_file(const char *path)
{
    struct capture_reader rd;
    char err[512];
    if (capture_reader_open(&rd, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "spoa-shadow capture-dump: %s\n", err);
        return 2;
    }
    struct capture_record r;
    enum capture_status st;
    while ((st = capture_reader_next(&rd, &r)) == CAPTURE_OK) /* each record consumes bytes: bounded */
        capture_dump_record(stdout, &r, rd.rec_offset);
    int rc = 0;
    if (st != CAPTURE_END) {
        fflush(stdout);
        fprintf(stderr,
                "spoa-shadow capture-dump: %s: %s record at byte offset %zu (%s); %zu valid record(s) before "
                "it\n",
                path, capture_status_str(st), capture_reader_offset(&rd), rd.why, rd.records);
        rc = 1;
    }
    capture_reader_destroy(&rd);
    return rc;
}

int capture_dump_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs("usage: spoa-shadow capture-dump FILE...\n"
              "  Prints each record as one JSON line (body in base64, headers as [[name, value], ...]).\n"
              "  Exit status: 0 read to the end; 1 a truncated or corrupt record (valid records are\n"
              "  printed, the problem's byte offset goes to stderr); 2 usage error or unreadable file.\n",
              argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        int r = dump_file(argv[i]);
        rc = r > rc ? r : rc;
    }
    if (fflush(stdout) != 0 && rc == 0)
        rc = 2;
    return rc;
}
