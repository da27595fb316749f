/* See replay_source.h. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture/capture_reader.h"
#include "replay/replay_source.h"
#include "core/xalloc.h"

struct replay_source {
    char **paths;
    size_t n_paths, next_path;
    bool open; /* <rd> holds the current file */
    struct capture_reader rd;
    const char *cur;
    size_t files, damaged;
    FILE *diag;
};

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists <dir>'s "*.msgpack" regular files, sorted by name. */
static int list_dir(struct replay_source *s, const char *dir, char *err, size_t err_len)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, err_len, "%s: %s", dir, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && s->n_paths < REPLAY_MAX_FILES) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".msgpack"))
            continue;
        size_t len = strlen(dir) + 1 + strlen(e->d_name) + 1;
        char *p = xmalloc(len);
        snprintf(p, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == -1 || !S_ISREG(st.st_mode)) {
            free(p);
            continue;
        }
        if (s->n_paths == cap) {
            cap = cap ? cap * 2 : 16;
            s->paths = xrealloc(s->paths, cap * sizeof(*s->paths));
        }
        s->paths[s->n_paths++] = p;
    }
    closedir(d);
    if (s->n_paths == 0) {
        snprintf(err, err_len, "%s: no *.msgpack capture file", dir);
        return -1;
    }
    qsort(s->paths, s->n_paths, sizeof(*s->paths), cmp_str);
    return 0;
}

struct replay_source *replay_source_open(const char *path, FILE *diag, char *err, size_t err_len)
{
    struct stat st;
    if (stat(path, &st) == -1) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct replay_source *s = xcalloc(1, sizeof(*s));
    s->diag = diag;
    if (S_ISDIR(st.st_mode)) {
        if (list_dir(s, path, err, err_len) != 0) {
            replay_source_free(s);
            return NULL;
        }
    } else {
        s->paths = xmalloc(sizeof(*s->paths));
        s->paths[0] = xstrdup(path);
        s->n_paths = 1;
    }
    return s;
}

/* Opens the next file that can be opened; false when none is left. */
static bool open_next(struct replay_source *s)
{
    while (s->next_path < s->n_paths) {
        const char *p = s->paths[s->next_path++];
        char err[512];
        s->files++;
        if (capture_reader_open(&s->rd, p, err, sizeof(err)) == 0) {
            s->open = true;
            s->cur = p;
            return true;
        }
        s->damaged++;
        fprintf(s->diag, "spoa-shadow replay: %s\n", err);
    }
    return false;
}

/* The current file stopped on <st>: reports a problem, closes it. */
static void close_current(struct replay_source *s, enum capture_status st)
{
    bool torn_open = st == CAPTURE_TRUNCATED && has_suffix(s->cur, ".open");
    if (st != CAPTURE_END && !torn_open) {
        s->damaged++;
        fprintf(s->diag,
                "spoa-shadow replay: %s: %s record at byte offset %zu (%s); %zu valid record(s) before it\n",
                s->cur, capture_status_str(st), capture_reader_offset(&s->rd), s->rd.why, s->rd.records);
    }
    capture_reader_destroy(&s->rd);
    s->open = false;
}

bool replay_source_next(struct replay_source *s, struct capture_record *r)
{
    for (;;) { /* each turn reads a record or finishes one of the n_paths files */
        if (!s->open && !open_next(s))
            return false;
        enum capture_status st = capture_reader_next(&s->rd, r);
        if (st == CAPTURE_OK)
            return true;
        close_current(s, st);
    }
}

size_t replay_source_files(const struct replay_source *s)
{
    return s->files;
}

size_t replay_source_damaged(const struct replay_source *s)
{
    return s->damaged;
}

void replay_source_free(struct replay_source *s)
{
    if (!s)
        return;
    if (s->open)
        capture_reader_destroy(&s->rd);
    for (size_t i = 0; i < s->n_paths; i++)
        free(s->paths[i]);
    free(s->paths);
    free(s);
}
