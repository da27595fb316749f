/* Writes capture files with the real encoder (capture_record_encode), for
 * the replay integration test and the fuzz seed corpus.
 *
 *   capture_gen records FILE N [--tag T] [--first I] [--start-ns NS] [--interval-ms MS]
 *       N deterministic records (numbered I.. I+N-1, default 0) appended to
 *       FILE: methods GET POST PUT DELETE HEAD POST in turn, path
 *       "/ok?t=T&i=<i>" ("/status/503?..." when i % 10 == 7), route "api"
 *       (odd i: "web"), headers with hop-by-hop ones mixed in, binary bodies
 *       with NULs for POST and PUT, id on even i, src on odd i, ts = NS +
 *       i * MS ms.
 *   capture_gen corpus DIR
 *       the fuzz_capture_reader seeds: DIR/seed-<name>.msgpack.
 * Exits 0, or 1 with a message. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture_record.h"

#define B(s)     ((struct spop_bytes){(const uint8_t *)(s), strlen(s)})
#define MAX_BODY 4096
#define MAX_HDRS 12

struct gen {
    char tag[64];
    uint64_t start_ns;
    uint64_t interval_ns;
};

/* Storage for one generated record's strings. */
struct gen_rec {
    struct capture_record r;
    struct capture_header h[MAX_HDRS];
    char path[128], seq[24], id[32], src[32];
    uint8_t body[MAX_BODY];
};

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "POST"};

static void make_record(const struct gen *g, uint64_t i, struct gen_rec *out)
{
    memset(out, 0, sizeof(*out));
    const char *method = methods[i % 6];
    snprintf(out->path, sizeof(out->path), "%s?t=%s&i=%" PRIu64, i % 10 == 7 ? "/status/503" : "/ok", g->tag,
             i);
    snprintf(out->seq, sizeof(out->seq), "%" PRIu64, i);
    snprintf(out->id, sizeof(out->id), "req-%" PRIu64, i);
    snprintf(out->src, sizeof(out->src), "127.0.0.%u", (unsigned)(i % 250) + 1);
    size_t body_len = 0;
    if (!strcmp(method, "POST") || !strcmp(method, "PUT")) {
        body_len = (size_t)((i * 37 + 1) % 2000);
        for (size_t k = 0; k < body_len; k++)
            out->body[k] = (uint8_t)((k * 7 + i) % 5 == 0 ? 0 : (k * 31 + i) & 0xff);
    }
    size_t n = 0;
    out->h[n++] = (struct capture_header){B("user-agent"), B("capture-gen/1")};
    out->h[n++] = (struct capture_header){B("x-seq"), B(out->seq)};
    out->h[n++] = (struct capture_header){B("connection"), B("keep-alive")};
    out->h[n++] = (struct capture_header){B("te"), B("trailers")};
    out->h[n++] = (struct capture_header){B("accept"), B("*/*")};
    out->h[n++] = (struct capture_header){B("host"), B("recorded-host.example")};
    out->h[n++] = (struct capture_header){B("content-length"), B("999999")};
    out->h[n++] = (struct capture_header){B("x-dup"), B("a")};
    out->h[n++] = (struct capture_header){B("x-dup"), B("b")};
    out->h[n++] = (struct capture_header){B("authorization"), B(CAPTURE_REDACTED)};
    out->r = (struct capture_record){
        .version = CAPTURE_FORMAT_VERSION,
        .ts_ns = g->start_ns + i * g->interval_ns,
        .route = B(i % 2 ? "web" : "api"),
        .mirror = B("file:///var/lib/spoa-shadow/capture"),
        .method = B(method),
        .path = B(out->path),
        .authority = B("app.example:8080"),
        .shadow_authority = B("app-shadow.example:8080"),
        .http_version = B("1.1"),
        .headers = out->h,
        .n_headers = n,
        .body = {out->body, body_len},
        .has_id = i % 2 == 0,
        .id = B(out->id),
        .has_src = i % 2 == 1,
        .src = B(out->src),
    };
}

static int write_file(const char *path, const char *mode, const void *p, size_t len)
{
    FILE *f = fopen(path, mode);
    if (!f) {
        fprintf(stderr, "capture_gen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t w = len ? fwrite(p, 1, len, f) : 0;
    if (fclose(f) != 0 || w != len) {
        fprintf(stderr, "capture_gen: %s: write failed\n", path);
        return -1;
    }
    return 0;
}

static int gen_records(const char *path, uint64_t n, uint64_t first, const struct gen *g)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    struct gen_rec *rec = malloc(sizeof(*rec));
    if (!rec)
        return -1;
    for (uint64_t i = first; i < first + n; i++) {
        make_record(g, i, rec);
        if (capture_record_encode(&rec->r, &sb) != 0)
            abort();
    }
    int rc = write_file(path, "ab", sb.data, sb.size);
    free(rec);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* One seed file DIR/seed-<name>.msgpack holding <len> bytes. */
static int seed(const char *dir, const char *name, const void *p, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/seed-%s.msgpack", dir, name);
    return write_file(path, "wb", p, len);
}

static int gen_corpus(const char *dir)
{
    struct gen g = {.tag = "seed", .start_ns = 1700000000000000000ull, .interval_ns = 1000000};
    struct gen_rec *rec = malloc(sizeof(*rec));
    if (!rec)
        return -1;
    msgpack_sbuffer one, many;
    msgpack_sbuffer_init(&one);
    msgpack_sbuffer_init(&many);
    int rc = 0;
    /* one record of each method shape (GET, POST with a body, HEAD, a 503 path) */
    const uint64_t singles[] = {0, 1, 4, 7};
    for (size_t k = 0; k < sizeof(singles) / sizeof(singles[0]); k++) {
        char name[32];
        make_record(&g, singles[k], rec);
        one.size = 0;
        if (capture_record_encode(&rec->r, &one) != 0)
            abort();
        snprintf(name, sizeof(name), "one-%" PRIu64, singles[k]);
        rc |= seed(dir, name, one.data, one.size);
    }
    /* three records, then the same cut inside the third (a torn tail) */
    for (uint64_t i = 10; i < 13; i++) {
        make_record(&g, i, rec);
        if (capture_record_encode(&rec->r, &many) != 0)
            abort();
    }
    rc |= seed(dir, "three", many.data, many.size);
    rc |= seed(dir, "torn-tail", many.data, many.size - 9);
    /* a minimal record: no headers, empty body, no id or src */
    struct capture_record bare = {
        .version = CAPTURE_FORMAT_VERSION,
        .ts_ns = 1,
        .route = B(""),
        .mirror = B(""),
        .method = B("GET"),
        .path = B("/"),
        .authority = B(""),
        .shadow_authority = B(""),
        .http_version = B("1.0"),
    };
    one.size = 0;
    if (capture_record_encode(&bare, &one) != 0)
        abort();
    rc |= seed(dir, "bare", one.data, one.size);
    /* the bare record followed by a record-shaped map whose body is a str */
    msgpack_packer pk;
    msgpack_packer_init(&pk, &one, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str(&pk, 4);
    msgpack_pack_str_body(&pk, "body", 4);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "x", 1);
    msgpack_pack_str(&pk, 6);
    msgpack_pack_str_body(&pk, "future", 6);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_nil(&pk);
    rc |= seed(dir, "corrupt-second", one.data, one.size);
    free(rec);
    msgpack_sbuffer_destroy(&one);
    msgpack_sbuffer_destroy(&many);
    return rc;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-')
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "corpus"))
        return gen_corpus(argv[2]) ? 1 : 0;
    if (argc < 4 || strcmp(argv[1], "records") != 0) {
        fprintf(stderr, "usage: capture_gen records FILE N [--tag T] [--first I] [--start-ns NS] "
                        "[--interval-ms MS]\n       capture_gen corpus DIR\n");
        return 1;
    }
    struct gen g = {.tag = "replay", .start_ns = 1700000000000000000ull, .interval_ns = 10000000};
    uint64_t n, first = 0, ms;
    if (parse_u64(argv[3], &n) != 0)
        return 1;
    for (int a = 4; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--tag"))
            snprintf(g.tag, sizeof(g.tag), "%s", argv[a + 1]);
        else if (!strcmp(argv[a], "--first") && parse_u64(argv[a + 1], &first) == 0)
            continue;
        else if (!strcmp(argv[a], "--start-ns") && parse_u64(argv[a + 1], &g.start_ns) == 0)
            continue;
        else if (!strcmp(argv[a], "--interval-ms") && parse_u64(argv[a + 1], &ms) == 0)
            g.interval_ns = ms * 1000000;
        else {
            fprintf(stderr, "capture_gen: bad option %s\n", argv[a]);
            return 1;
        }
    }
    return gen_records(argv[2], n, first, &g) ? 1 : 0;
}
