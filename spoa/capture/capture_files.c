#include "capture/capture_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture_reader.h"
#include "core/xalloc.h"

#define PREFIX     "capture-"
#define EXT        ".msgpack"
#define PREFIX_LEN 8
/* "20261127T045000.123Z" */
#define STAMP_LEN 20
/* PREFIX stamp '-' 6 digits EXT */
#define DONE_LEN (PREFIX_LEN + STAMP_LEN + 1 + 6 + 8)

void capture_file_name(char out[CAPTURE_NAME_CAP], uint64_t unix_ms, unsigned seq)
{
    time_t secs = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, CAPTURE_NAME_CAP, PREFIX "%04d%02d%02dT%02d%02d%02d.%03uZ-%06u" EXT, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(unix_ms % 1000),
             seq % CAPTURE_SEQ_MOD);
}

/* The value of the <n> decimal digits at <s>, or -1 when one is not a digit. */
static long digits(const char *s, size_t n)
{
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

enum capture_file_kind capture_file_parse(const char *name, uint64_t *unix_ms, unsigned *seq)
{
    size_t len = strlen(name);
    enum capture_file_kind kind;
    if (len == DONE_LEN)
        kind = CAPTURE_FILE_DONE;
    else if (len == DONE_LEN + strlen(CAPTURE_OPEN_SUFFIX) &&
             strcmp(name + DONE_LEN, CAPTURE_OPEN_SUFFIX) == 0)
        kind = CAPTURE_FILE_OPEN;
    else
        return CAPTURE_FILE_OTHER;
    const char *s = name + PREFIX_LEN;
    if (memcmp(name, PREFIX, PREFIX_LEN) != 0 || s[8] != 'T' || s[15] != '.' || s[19] != 'Z' ||
        s[20] != '-' || memcmp(s + 27, EXT, 8) != 0)
        return CAPTURE_FILE_OTHER;
    long year = digits(s, 4), mon = digits(s + 4, 2), day = digits(s + 6, 2);
    long hour = digits(s + 9, 2), min = digits(s + 11, 2), sec = digits(s + 13, 2);
    long ms = digits(s + 16, 3), sq = digits(s + 21, 6);
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || min < 0 ||
        min > 59 || sec < 0 || sec > 60 || ms < 0 || sq < 0)
        return CAPTURE_FILE_OTHER;
    struct tm tm = {
        .tm_year = (int)year - 1900,
        .tm_mon = (int)mon - 1,
        .tm_mday = (int)day,
        .tm_hour = (int)hour,
        .tm_min = (int)min,
        .tm_sec = (int)sec,
    };
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != (int)day) /* timegm normalised a day that does not exist */
        return CAPTURE_FILE_OTHER;
    if (unix_ms)
        *unix_ms = (uint64_t)t * 1000 + (uint64_t)ms;
    if (seq)
        *seq = (unsigned)sq;
    return kind;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct capture_file *)a)->name, ((const struct capture_file *)b)->name);
}

int capture_dir_scan(const char *dir, enum capture_file_kind kind, struct capture_dir_list *out)
{
    memset(out, 0, sizeof(*out));
    DIR *d = opendir(dir);
    if (!d)
        return errno;
    int dfd = dirfd(d);
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (capture_file_parse(e->d_name, NULL, NULL) != kind)
            continue;
        struct stat st;
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->files = xrealloc(out->files, cap * sizeof(*out->files));
        }
        struct capture_file *f = &out->files[out->n++];
        memcpy(f->name, e->d_name, strlen(e->d_name) + 1); /* a capture name fits */
        f->size = (uint64_t)st.st_size;
        out->total += f->size;
    }
    closedir(d);
    if (out->n > 1)
        qsort(out->files, out->n, sizeof(*out->files), by_name);
    return 0;
}

void capture_dir_list_free(struct capture_dir_list *l)
{
    free(l->files);
    memset(l, 0, sizeof(*l));
}

size_t capture_dir_trim(const char *dir, struct capture_dir_list *l, size_t max_files, uint64_t max_total,
                        uint64_t reserve, int *err)
{
    size_t gone = 0;
    char path[4096];
    *err = 0;
    while (gone < l->n && (l->n - gone > max_files || l->total + reserve > max_total)) {
        const struct capture_file *f = &l->files[gone];
        snprintf(path, sizeof(path), "%s/%s", dir, f->name);
        if (unlink(path) == -1 && errno != ENOENT) {
            *err = errno;
            break;
        }
        l->total -= f->size;
        gone++;
    }
    if (gone) {
        memmove(l->files, l->files + gone, (l->n - gone) * sizeof(*l->files));
        l->n -= gone;
    }
    return gone;
}

int capture_dir_make(const char *dir, unsigned mode)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, (mode_t)mode) == -1 && errno != EEXIST)
            return -1;
        path[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) == -1)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* The length of the longest prefix of <path> made of whole records. */
static int whole_records_len(const char *path, size_t *out)
{
    struct capture_reader rd;
    struct capture_record rec;
    char err[256];
    if (capture_reader_open(&rd, path, err, sizeof(err)) == -1)
        return -1;
    /* Each record takes at least one byte: at most rd.len steps. */
    for (size_t i = 0; i <= rd.len; i++) {
        if (capture_reader_next(&rd, &rec) != CAPTURE_OK)
            break;
    }
    *out = capture_reader_offset(&rd);
    capture_reader_destroy(&rd);
    return 0;
}

int capture_file_recover(const char *dir, const char *open_name)
{
    char path[4096], done[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, open_name);
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1)
        return errno == ENOENT ? 0 : -1;
    if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return 0; /* a live writer's */
        errno = e;
        return -1;
    }
    size_t keep = 0;
    int rc = whole_records_len(path, &keep);
    if (rc == 0 && keep == 0) {
        rc = unlink(path);
    } else if (rc == 0) {
        size_t n = strlen(path) - strlen(CAPTURE_OPEN_SUFFIX);
        snprintf(done, sizeof(done), "%.*s", (int)n, path);
        rc = ftruncate(fd, (off_t)keep);
        if (rc == 0)
            rc = fsync(fd);
        if (rc == 0)
            rc = rename(path, done);
        if (rc == 0)
            rc = 1;
    }
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}
