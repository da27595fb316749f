#include "compare/compare_report.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture_files.h"
#include "compare/compare_record.h"
#include "core/xalloc.h"

/* Latency differences kept at most (later ones are counted, not kept). */
#define MAX_LATENCIES 1000000u
/* Distinct paths or headers followed at most (later ones count as "other"). */
#define MAX_KEYS 100000u

struct report {
    json_t *results;                     /* "route\tmirror\tresult" -> count */
    json_t *paths;                       /* "route\tpath" -> {count, kind, id, primary, shadow} */
    json_t *headers;                     /* "route\tname" -> {count, id, primary, shadow} */
    json_t *noise_paths, *noise_headers; /* the same, from noise mirrors' records */
    size_t other_keys;
    int64_t *lat;
    size_t n_lat, lat_skipped;
    size_t files, records, problems;
};

static char *str(struct spop_bytes b)
{
    char *s = xmalloc(b.len + 1);
    memcpy(s, b.ptr, b.len);
    s[b.len] = '\0';
    return s;
}

/* jansson wants UTF-8: anything else is replaced, byte by byte. */
static json_t *jstr(struct spop_bytes b)
{
    json_t *j = json_stringn((const char *)b.ptr, b.len);
    if (j)
        return j;
    char *s = str(b);
    for (size_t i = 0; i < b.len; i++) {
        if ((unsigned char)s[i] >= 0x80 || s[i] == '\0')
            s[i] = '?';
    }
    j = json_string(s);
    free(s);
    return j ? j : json_string("");
}

static char *key2(struct spop_bytes a, struct spop_bytes b)
{
    char *k = xmalloc(a.len + b.len + 2);
    memcpy(k, a.ptr, a.len);
    k[a.len] = '\t';
    memcpy(k + a.len + 1, b.ptr, b.len);
    k[a.len + 1 + b.len] = '\0';
    return k;
}

/* Counts one occurrence under <key> in <map>, keeping the first example. */
static void bump(struct report *rp, json_t *map, char *key, json_t *example)
{
    json_t *e = json_object_get(map, key);
    if (!e) {
        if (json_object_size(map) >= MAX_KEYS) {
            rp->other_keys++;
            json_decref(example);
            free(key);
            return;
        }
        e = json_pack("{s:I,s:o}", "count", (json_int_t)0, "example", example);
        json_object_set_new(map, key, e);
    } else {
        json_decref(example);
    }
    json_object_set_new(e, "count", json_integer(json_integer_value(json_object_get(e, "count")) + 1));
    free(key);
}

static void add_record(struct report *rp, const struct compare_record *r)
{
    rp->records++;
    char *route_mirror = key2(r->route, r->mirror);
    char *k = key2((struct spop_bytes){(const uint8_t *)route_mirror, strlen(route_mirror)}, r->result);
    free(route_mirror);
    json_t *c = json_object_get(rp->results, k);
    json_object_set_new(rp->results, k, json_integer(c ? json_integer_value(c) + 1 : 1));
    free(k);
    bool noise = r->role.len == 5 && memcmp(r->role.ptr, "noise", 5) == 0;
    json_t *paths = noise ? rp->noise_paths : rp->paths, *headers = noise ? rp->noise_headers : rp->headers;
    for (size_t i = 0; i < r->n_json; i++) {
        const struct compare_record_json *j = &r->json[i];
        json_t *ex = json_pack("{s:o,s:o,s:o,s:o,s:o}", "kind", jstr(j->kind), "id", jstr(r->id), "path",
                               jstr(j->path), "primary", jstr(j->primary), "shadow", jstr(j->shadow));
        bump(rp, paths, key2(r->route, j->generalized), ex);
    }
    for (size_t i = 0; i < r->n_headers; i++) {
        const struct compare_record_header *h = &r->headers[i];
        json_t *ex = json_pack("{s:o,s:o,s:o}", "id", jstr(r->id), "primary", jstr(h->primary), "shadow",
                               jstr(h->shadow));
        bump(rp, headers, key2(r->route, h->name), ex);
    }
    if (r->latency_primary_us && r->latency_shadow_us) {
        if (rp->n_lat < MAX_LATENCIES) {
            if (!rp->lat)
                rp->lat = xmalloc(MAX_LATENCIES * sizeof(*rp->lat));
            rp->lat[rp->n_lat++] = (int64_t)r->latency_shadow_us - (int64_t)r->latency_primary_us;
        } else {
            rp->lat_skipped++;
        }
    }
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    *len = (size_t)st.st_size;
    *data = xmalloc(*len ? *len : 1);
    size_t got = 0;
    while (got < *len) {
        ssize_t n = read(fd, *data + got, *len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    *len = got;
    return 0;
}

/* Reads one file's records; returns 0, 1 on a damaged file, 2 when unreadable. */
static int read_records(struct report *rp, const char *dir, const char *name, FILE *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    uint8_t *data;
    size_t len;
    if (read_file(path, &data, &len) != 0) {
        fprintf(err, "compare-report: %s: %s\n", path, strerror(errno));
        return 2;
    }
    rp->files++;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = 0;
    for (;;) {
        struct compare_record r;
        char why[CAPTURE_WHY_LEN];
        enum capture_status st = compare_record_decode(data, len, &off, &u, &r, why);
        if (st == CAPTURE_OK) {
            add_record(rp, &r);
            continue;
        }
        if (st != CAPTURE_END) {
            fprintf(err, "compare-report: %s: %s at byte %zu: %s\n", path, capture_status_str(st), off, why);
            rp->problems++;
            rc = 1;
        }
        break;
    }
    msgpack_unpacked_destroy(&u);
    free(data);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The value at quantile q (nearest rank) of the sorted latencies. */
static int64_t quantile(const struct report *rp, double q)
{
    size_t i = (size_t)(q * (double)rp->n_lat);
    if (i >= rp->n_lat)
        i = rp->n_lat - 1;
    return rp->lat[i];
}

/* The entries of <map> as an array sorted by count (most first), at most
 * COMPARE_REPORT_TOP, each {route, <what>, count, example}. */
static int cmp_count(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "count"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "count"));
    return x > y ? -1 : x < y;
}

static json_t *top(json_t *map, const char *what)
{
    size_t n = json_object_size(map), k = 0;
    json_t **items = xcalloc(n ? n : 1, sizeof(*items));
    const char *key;
    json_t *v;
    json_object_foreach(map, key, v)
    {
        const char *tab = strchr(key, '\t');
        json_t *item =
            json_pack("{s:s%,s:s,s:O,s:O}", "route", key, (size_t)(tab - key), what, tab + 1, "count",
                      json_object_get(v, "count"), "example", json_object_get(v, "example"));
        items[k++] = item;
    }
    qsort(items, k, sizeof(*items), cmp_count);
    json_t *arr = json_array();
    for (size_t i = 0; i < k; i++) {
        if (i < COMPARE_REPORT_TOP)
            json_array_append_new(arr, items[i]);
        else
            json_decref(items[i]);
    }
    free(items);
    return arr;
}

static json_t *summary(struct report *rp)
{
    json_t *results = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(rp->results, key, v)
    {
        const char *t1 = strchr(key, '\t'), *t2 = strchr(t1 + 1, '\t');
        json_array_append_new(results,
                              json_pack("{s:s%,s:s%,s:s,s:O}", "route", key, (size_t)(t1 - key), "mirror",
                                        t1 + 1, (size_t)(t2 - t1 - 1), "result", t2 + 1, "count", v));
    }
    json_t *lat = json_object();
    json_object_set_new(lat, "count", json_integer((json_int_t)rp->n_lat));
    if (rp->n_lat) {
        qsort(rp->lat, rp->n_lat, sizeof(*rp->lat), cmp_i64);
        json_object_set_new(lat, "min_us", json_integer(rp->lat[0]));
        json_object_set_new(lat, "p50_us", json_integer(quantile(rp, 0.50)));
        json_object_set_new(lat, "p90_us", json_integer(quantile(rp, 0.90)));
        json_object_set_new(lat, "p99_us", json_integer(quantile(rp, 0.99)));
        json_object_set_new(lat, "max_us", json_integer(rp->lat[rp->n_lat - 1]));
    }
    return json_pack("{s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "files", (json_int_t)rp->files, "records",
                     (json_int_t)rp->records, "damaged_files", (json_int_t)rp->problems, "results", results,
                     "paths", top(rp->paths, "path"), "headers", top(rp->headers, "header"), "noise_paths",
                     top(rp->noise_paths, "path"), "noise_headers", top(rp->noise_headers, "header"),
                     "latency_diff", lat);
}

static void print_text(FILE *out, json_t *s)
{
    fprintf(out, "diff log: %lld records in %lld files\n\n",
            (long long)json_integer_value(json_object_get(s, "records")),
            (long long)json_integer_value(json_object_get(s, "files")));
    fprintf(out, "results (differing or unanswered requests; matches are in the metrics):\n");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(s, "results"), i, e)
    {
        fprintf(out, "  %-20s %-40s %-16s %lld\n", json_string_value(json_object_get(e, "route")),
                json_string_value(json_object_get(e, "mirror")),
                json_string_value(json_object_get(e, "result")),
                (long long)json_integer_value(json_object_get(e, "count")));
    }
    static const char *const lists[4][3] = {
        {"paths", "path", "most frequent differing paths"},
        {"headers", "header", "most frequent differing headers"},
        {"noise_paths", "path", "learned noise: paths that differ between the primary and a noise mirror"},
        {"noise_headers", "header",
         "learned noise: headers that differ between the primary and a noise mirror"},
    };
    for (int l = 0; l < 4; l++) {
        fprintf(out, "\n%s:\n", lists[l][2]);
        json_array_foreach(json_object_get(s, lists[l][0]), i, e)
        {
            json_t *ex = json_object_get(e, "example");
            fprintf(out, "  %-20s %-40s %lld  e.g. id=%s primary=%s shadow=%s\n",
                    json_string_value(json_object_get(e, "route")),
                    json_string_value(json_object_get(e, lists[l][1])),
                    (long long)json_integer_value(json_object_get(e, "count")),
                    json_string_value(json_object_get(ex, "id")),
                    json_string_value(json_object_get(ex, "primary")),
                    json_string_value(json_object_get(ex, "shadow")));
        }
    }
    json_t *lat = json_object_get(s, "latency_diff");
    fprintf(out, "\nlatency difference, shadow minus primary (%lld records)",
            (long long)json_integer_value(json_object_get(lat, "count")));
    if (json_object_get(lat, "p50_us"))
        fprintf(out, ": p50 %lld us, p90 %lld us, p99 %lld us, min %lld us, max %lld us",
                (long long)json_integer_value(json_object_get(lat, "p50_us")),
                (long long)json_integer_value(json_object_get(lat, "p90_us")),
                (long long)json_integer_value(json_object_get(lat, "p99_us")),
                (long long)json_integer_value(json_object_get(lat, "min_us")),
                (long long)json_integer_value(json_object_get(lat, "max_us")));
    fprintf(out, "\n");
}

int compare_report_run(const char *dir, bool json, FILE *out, FILE *err)
{
    struct capture_dir_list list;
    int e = capture_dir_scan(dir, CAPTURE_FILE_DONE, &list);
    if (e != 0) {
        fprintf(err, "compare-report: %s: %s\n", dir, strerror(e));
        return 2;
    }
    struct report rp = {.results = json_object(),
                        .paths = json_object(),
                        .headers = json_object(),
                        .noise_paths = json_object(),
                        .noise_headers = json_object()};
    int rc = 0;
    for (size_t i = 0; i < list.n && rc != 2; i++) {
        int r = read_records(&rp, dir, list.files[i].name, err);
        if (r > rc)
            rc = r;
    }
    capture_dir_list_free(&list);
    json_t *s = summary(&rp);
    if (json) {
        json_dumpf(s, out, JSON_INDENT(2) | JSON_SORT_KEYS);
        fputc('\n', out);
    } else {
        print_text(out, s);
    }
    json_decref(s);
    json_decref(rp.results);
    json_decref(rp.paths);
    json_decref(rp.headers);
    json_decref(rp.noise_paths);
    json_decref(rp.noise_headers);
    free(rp.lat);
    return rc;
}

int compare_report_main(int argc, char **argv)
{
    const char *dir = NULL;
    bool json = false;
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (!dir && argv[i][0] != '-')
            dir = argv[i];
        else
            bad = true;
    }
    if (!dir || bad) {
        fprintf(stderr, "usage: spoa-shadow compare-report DIR [--json]\n");
        return 2;
    }
    return compare_report_run(dir, json, stdout, stderr);
}
