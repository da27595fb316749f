/* Unit tests for capture mirrors' writing side: capture file names
 * (capture_files.h), the writer thread (capture_writer.h, capture_hub.h: rotation by size
 * and age, max_files and max_total_bytes deleting the oldest, the bounded
 * queue, cutting a failed write back to a record boundary, repairing a file
 * left open) and the record a worker builds (capture_shape.h: fields and
 * header redaction). Files are read back with msgpack_unpack_next. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "capture/capture_files.h"
#include "capture/capture_hub.h"
#include "capture/capture_record.h"
#include "mirror/capture_shape.h"
#include "capture/capture_writer.h"
#include "config/config.h"
#include "spop/spop_data.h"
#include "spop/spop_proto.h"

#define B(s) ((struct spop_bytes){(const uint8_t *)(s), sizeof(s) - 1})

/* ---- helpers ---- */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *make_dir(void)
{
    char tmpl[] = "/tmp/check-capture.XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return strdup(d);
}

/* Removes <dir>, its files and one level of subdirectories. */
static void remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4096];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            if (unlink(path) == -1)
                rmdir(path);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* The encoded capture record number <i>, padded (body) to exactly <size> bytes. */
static void make_record(msgpack_sbuffer *out, unsigned i, size_t size)
{
    static uint8_t pad[65536];
    char path[32];
    snprintf(path, sizeof(path), "/r/%u", i);
    struct capture_record r = {
        .version = CAPTURE_FORMAT_VERSION,
        .ts_ns = 1700000000000000000ull + i,
        .route = B("r"),
        .mirror = B("file:///tmp/c"),
        .method = B("POST"),
        .path = {(const uint8_t *)path, strlen(path)},
        .authority = B("h"),
        .shadow_authority = B("h-shadow"),
        .http_version = B("1.1"),
    };
    for (size_t body = size > 200 ? size - 200 : 0; body < sizeof(pad); body++) {
        r.body = (struct spop_bytes){pad, body};
        out->size = 0;
        ck_assert_int_eq(capture_record_encode(&r, out), 0);
        if (out->size >= size)
            break;
    }
    ck_assert_uint_eq(out->size, size);
}

static enum capture_drop push_record(struct capture_writer *w, unsigned i, size_t size)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    make_record(&sb, i, size);
    enum capture_drop d = capture_writer_push(w, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return d;
}

/* The string value of key <key> in map <o>, or NULL. */
static const msgpack_object *map_get(const msgpack_object *o, const char *key)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t k = 0; k < o->via.map.size; k++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[k];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key) &&
            memcmp(kv->key.via.str.ptr, key, kv->key.via.str.size) == 0)
            return &kv->val;
    }
    return NULL;
}

static bool str_is(const msgpack_object *o, const char *s)
{
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* Reads <path> record by record with msgpack_unpack_next: stores the record
 * numbers (from "/r/<i>") in ids[] (at most <cap>) and returns how many
 * records there were; fails the test unless the file is whole records only. */
static size_t read_ids(const char *path, unsigned *ids, size_t cap)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
    static char data[1 << 20];
    size_t len = fread(data, 1, sizeof(data), f);
    fclose(f);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0, n = 0;
    while (off < len) {
        msgpack_unpack_return rc = msgpack_unpack_next(&u, data, len, &off);
        ck_assert_msg(rc == MSGPACK_UNPACK_SUCCESS, "%s: record %zu does not decode (rc %d) at %zu of %zu",
                      path, n, (int)rc, off, len);
        const msgpack_object *p = map_get(&u.data, "path");
        ck_assert_msg(p && p->type == MSGPACK_OBJECT_STR, "%s: record %zu has no path", path, n);
        char buf[32] = "";
        memcpy(buf, p->via.str.ptr, p->via.str.size < 31 ? p->via.str.size : 31);
        unsigned id;
        ck_assert(sscanf(buf, "/r/%u", &id) == 1);
        if (n < cap)
            ids[n] = id;
        n++;
    }
    msgpack_unpacked_destroy(&u);
    return n;
}

static struct capture_writer_settings settings(const char *dir, uint64_t rotate_bytes, uint32_t rotate_ms)
{
    return (struct capture_writer_settings){
        .dir = dir,
        .rotate_bytes = rotate_bytes,
        .rotate_ms = rotate_ms,
        .max_total_bytes = 1ull << 40,
        .max_files = 1000,
        .max_queue = 4096,
        .no_fsync = true,
    };
}

static size_t count_kind(const char *dir, enum capture_file_kind kind)
{
    struct capture_dir_list l;
    ck_assert_int_eq(capture_dir_scan(dir, kind, &l), 0);
    size_t n = l.n;
    capture_dir_list_free(&l);
    return n;
}

static uint64_t stat_of(const struct capture_writer *w, size_t off)
{
    return counter_get((const counter_t *)((const char *)capture_writer_stats(w) + off));
}
#define STAT(w, field) stat_of(w, offsetof(struct capture_stats, field))

/* ---- names ---- */

START_TEST(names_format_and_parse)
{
    char name[CAPTURE_NAME_CAP];
    /* 2026-11-27T04:50:00.123Z */
    uint64_t ms = 1795755000123ull;
    capture_file_name(name, ms, 1);
    ck_assert_str_eq(name, "capture-20261127T045000.123Z-000001.msgpack");
    uint64_t back = 0;
    unsigned seq = 9;
    ck_assert_int_eq(capture_file_parse(name, &back, &seq), CAPTURE_FILE_DONE);
    ck_assert_uint_eq(back, ms);
    ck_assert_uint_eq(seq, 1);
    ck_assert_int_eq(capture_file_parse("capture-20261127T045000.123Z-000001.msgpack.open", &back, NULL),
                     CAPTURE_FILE_OPEN);
    capture_file_name(name, 0, CAPTURE_SEQ_MOD + 7);
    ck_assert_str_eq(name, "capture-19700101T000000.000Z-000007.msgpack");

    static const char *const others[] = {
        "capture-20261127T045000.123Z-000001.msgpack.tmp",
        "capture-20261127T045000.123Z-00001.msgpack",
        "capture-20261127T045000.123-000001.msgpack",
        "capture-20261131T045000.123Z-000001.msgpack", /* November 31st */
        "capture-20261127T245000.123Z-000001.msgpack",
        "Capture-20261127T045000.123Z-000001.msgpack",
        "capture-2026112aT045000.123Z-000001.msgpack",
        "notes.txt",
        "",
    };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        ck_assert_msg(capture_file_parse(others[i], NULL, NULL) == CAPTURE_FILE_OTHER, "%s accepted",
                      others[i]);
}
END_TEST

START_TEST(names_sort_by_time)
{
    /* Times crossing ms, second, day and year boundaries, and two files
     * started in the same millisecond (sequence breaks the tie). */
    static const struct {
        uint64_t ms;
        unsigned seq;
    } t[] = {
        {1798761599999ull, 7},  {1798761600000ull, 8},  {1798761600000ull, 9},   {1798761600001ull, 10},
        {1798761601000ull, 11}, {1798848000000ull, 12}, {17987616000000ull, 13},
    };
    char prev[CAPTURE_NAME_CAP] = "";
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char name[CAPTURE_NAME_CAP];
        capture_file_name(name, t[i].ms, t[i].seq);
        ck_assert_msg(strcmp(prev, name) < 0, "%s sorts before %s", name, prev);
        memcpy(prev, name, sizeof(prev));
    }
}
END_TEST

/* ---- rotation ---- */

START_TEST(rotation_by_size)
{
    char *dir = make_dir();
    struct capture_writer_settings set = settings(dir, 1000, 0);
    struct capture_writer *w = capture_writer_new(&set, NULL);
    ck_assert_int_eq(capture_writer_start(w), 0);
    for (unsigned i = 0; i < 10; i++)
        ck_assert_int_eq(push_record(w, i, 300), CAPTURE_DROP_NONE);
    ck_assert(capture_writer_sync(w, 5000));
    /* Three files finished (3 records each); the tenth record is in the open one. */
    ck_assert_uint_eq(count_kind(dir, CAPTURE_FILE_DONE), 3);
    ck_assert_uint_eq(count_kind(dir, CAPTURE_FILE_OPEN), 1);
    ck_assert(capture_writer_stop(w, 5000));
    ck_assert_uint_eq(STAT(w, records), 10);
    ck_assert_uint_eq(STAT(w, bytes), 3000);
    ck_assert_uint_eq(STAT(w, files_rotated), 4);
    ck_assert_uint_eq(count_kind(dir, CAPTURE_FILE_OPEN), 0);

    struct capture_dir_list l;
    ck_assert_int_eq(capture_dir_scan(dir, CAPTURE_FILE_DONE, &l), 0);
    ck_assert_uint_eq(l.n, 4);
    unsigned next = 0;
    for (size_t f = 0; f < l.n; f++) {
        char path[4096];
        unsigned ids[8];
        snprintf(path, sizeof(path), "%s/%s", dir, l.files[f].name);
        ck_assert_uint_le(l.files[f].size, 1000);
        size_t n = read_ids(path, ids, 8);
        ck_assert_uint_eq(n, f < 3 ? 3 : 1);
        for (size_t k = 0; k < n; k++) /* in push order across files sorted by name */
            ck_assert_uint_eq(ids[k], next++);
    }
    ck_assert_uint_eq(next, 10);
    capture_dir_list_free(&l);
    capture_writer_free(w);
    remove_dir(dir);
}
END_TEST

START_TEST(rotation_by_age)
{
    char *dir = make_dir();
    struct capture_writer_settings set = settings(dir, 1 << 20, 200);
    struct capture_writer *w = capture_writer_new(&set, NULL);
    ck_assert_int_eq(capture_writer_start(w), 0);
    uint64_t t0 = now_ms();
    ck_assert_int_eq(push_record(w, 0, 300), CAPTURE_DROP_NONE);
    ck_assert(capture_writer_sync(w, 5000));
    ck_assert_uint_eq(count_kind(dir, CAPTURE_FILE_OPEN), 1);
    ck_assert_uint_eq(count_kind(dir, CAPTURE_FILE_DONE), 0);
    /* Finished by the clock alone: nothing else is pushed. */
    for (int i = 0; i < 300 && count_kind(dir, CAPTURE_FILE_DONE) == 0; i++)
        sleep_ms(10);
    uint64_t took = now_ms() - t0;
    ck_assert_uint_eq(count_kind(dir, CAPTURE_FILE_DONE), 1);
    ck_assert_uint_eq(count_kind(dir, CAPTURE_FILE_OPEN), 0);
    ck_assert_msg(took >= 190 && took < 2000, "finished after %llu ms", (unsigned long long)took);
    ck_assert_uint_eq(STAT(w, files_rotated), 1);
    /* No empty file is opened while idle. */
    sleep_ms(300);
    ck_assert_uint_eq(count_kind(dir, CAPTURE_FILE_OPEN), 0);
    ck_assert_uint_eq(count_kind(dir, CAPTURE_FILE_DONE), 1);
    /* The next record starts a new file, named after the first. */
    ck_assert_int_eq(push_record(w, 1, 300), CAPTURE_DROP_NONE);
    ck_assert(capture_writer_stop(w, 5000));
    struct capture_dir_list l;
    ck_assert_int_eq(capture_dir_scan(dir, CAPTURE_FILE_DONE, &l), 0);
    ck_assert_uint_eq(l.n, 2);
    unsigned ids[2];
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, l.files[1].name);
    ck_assert_uint_eq(read_ids(path, ids, 2), 1);
    ck_assert_uint_eq(ids[0], 1);
    capture_dir_list_free(&l);
    capture_writer_free(w);
    remove_dir(dir);
}
END_TEST

/* ---- caps ---- */

/* The record numbers found in the finished files of <dir>, in name order. */
static size_t all_ids(const char *dir, unsigned *ids, size_t cap, uint64_t *total)
{
    struct capture_dir_list l;
    ck_assert_int_eq(capture_dir_scan(dir, CAPTURE_FILE_DONE, &l), 0);
    size_t n = 0;
    for (size_t f = 0; f < l.n; f++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, l.files[f].name);
        n += read_ids(path, ids + n, cap - n);
    }
    *total = l.total;
    capture_dir_list_free(&l);
    return n;
}

START_TEST(cap_max_files_deletes_oldest)
{
    char *dir = make_dir();
    struct capture_writer_settings set = settings(dir, 1000, 0);
    set.max_files = 2;
    struct capture_writer *w = capture_writer_new(&set, NULL);
    ck_assert_int_eq(capture_writer_start(w), 0);
    for (unsigned i = 0; i < 12; i++)
        ck_assert_int_eq(push_record(w, i, 300), CAPTURE_DROP_NONE);
    ck_assert(capture_writer_stop(w, 5000));
    /* Four files of three records; the two oldest are gone. */
    ck_assert_uint_eq(STAT(w, files_rotated), 4);
    ck_assert_uint_eq(STAT(w, files_deleted), 2);
    unsigned ids[16];
    uint64_t total;
    ck_assert_uint_eq(all_ids(dir, ids, 16, &total), 6);
    for (unsigned k = 0; k < 6; k++)
        ck_assert_uint_eq(ids[k], 6 + k);
    capture_writer_free(w);
    remove_dir(dir);
}
END_TEST

START_TEST(cap_max_total_bytes_deletes_oldest)
{
    char *dir = make_dir();
    /* Files of 900 bytes; finished ones plus room for the next (1024) must
     * fit in 3000: at most two finished files are kept. */
    struct capture_writer_settings set = settings(dir, 1024, 0);
    set.max_total_bytes = 3000;
    struct capture_writer *w = capture_writer_new(&set, NULL);
    ck_assert_int_eq(capture_writer_start(w), 0);
    for (unsigned i = 0; i < 9; i++) {
        ck_assert_int_eq(push_record(w, i, 300), CAPTURE_DROP_NONE);
        ck_assert(capture_writer_sync(w, 5000));
        /* Never more than the budget on disk, the open file included. */
        ck_assert_uint_le(STAT(w, stored_bytes), 3000);
    }
    ck_assert(capture_writer_stop(w, 5000));
    ck_assert_uint_eq(STAT(w, files_rotated), 3);
    ck_assert_uint_eq(STAT(w, files_deleted), 1);
    unsigned ids[16];
    uint64_t total;
    ck_assert_uint_eq(all_ids(dir, ids, 16, &total), 6);
    ck_assert_uint_eq(total, 1800);
    for (unsigned k = 0; k < 6; k++)
        ck_assert_uint_eq(ids[k], 3 + k);
    capture_writer_free(w);
    remove_dir(dir);
}
END_TEST

/* ---- the queue ---- */

START_TEST(queue_full_drops_without_blocking)
{
    char *dir = make_dir();
    struct capture_writer_settings set = settings(dir, 1 << 20, 0);
    set.max_queue = 5;
    /* Not started: nothing drains the queue. */
    struct capture_writer *w = capture_writer_new(&set, NULL);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    make_record(&sb, 0, 300);
    uint64_t t0 = now_ms();
    int queued = 0, full = 0;
    for (int i = 0; i < 1000; i++) {
        enum capture_drop d = capture_writer_push(w, sb.data, sb.size);
        queued += d == CAPTURE_DROP_NONE;
        full += d == CAPTURE_DROP_QUEUE_FULL;
    }
    uint64_t took = now_ms() - t0;
    msgpack_sbuffer_destroy(&sb);
    ck_assert_int_eq(queued, 5);
    ck_assert_int_eq(full, 995);
    ck_assert_msg(took < 500, "1000 pushes took %llu ms", (unsigned long long)took);
    ck_assert_uint_eq(STAT(w, dropped[CAPTURE_DROP_QUEUE_FULL]), 995);
    ck_assert_uint_eq(STAT(w, queued), 5);
    /* Once running, the five are written. */
    ck_assert_int_eq(capture_writer_start(w), 0);
    ck_assert(capture_writer_sync(w, 5000));
    ck_assert_uint_eq(STAT(w, records), 5);
    ck_assert_uint_eq(STAT(w, queued), 0);
    ck_assert(capture_writer_stop(w, 5000));
    /* After stop, a push is refused as shutdown. */
    ck_assert_int_eq(push_record(w, 9, 300), CAPTURE_DROP_SHUTDOWN);
    ck_assert_uint_eq(STAT(w, dropped[CAPTURE_DROP_SHUTDOWN]), 1);
    unsigned ids[8];
    uint64_t total;
    ck_assert_uint_eq(all_ids(dir, ids, 8, &total), 5);
    capture_writer_free(w);
    remove_dir(dir);
}
END_TEST

START_TEST(unusable_dir_counts_io_error)
{
    char *dir = make_dir();
    char file[4096], sub[4200];
    snprintf(file, sizeof(file), "%s/plain", dir);
    int fd = open(file, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    snprintf(sub, sizeof(sub), "%s/under", file); /* below a regular file: never creatable */
    struct capture_writer_settings set = settings(sub, 1 << 20, 0);
    struct capture_writer *w = capture_writer_new(&set, NULL);
    ck_assert_int_eq(capture_writer_start(w), 0);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(push_record(w, i, 300), CAPTURE_DROP_NONE);
    ck_assert(capture_writer_sync(w, 5000));
    ck_assert_uint_eq(STAT(w, dropped[CAPTURE_DROP_IO_ERROR]), 3);
    ck_assert_uint_eq(STAT(w, records), 0);
    ck_assert(capture_writer_stop(w, 5000));
    capture_writer_free(w);
    remove_dir(dir);
}
END_TEST

START_TEST(shared_by_directory)
{
    char *dir = make_dir();
    char sub[4200];
    snprintf(sub, sizeof(sub), "%s/a/b", dir); /* created with its parent */
    struct capture_writer_settings set = settings(sub, 1 << 20, 0);
    struct capture_hub *hub = capture_hub_new();
    struct capture_writer *w1 = capture_hub_acquire(hub, &set, NULL);
    ck_assert_ptr_nonnull(w1);
    set.max_queue = 7;
    struct capture_writer *w2 = capture_hub_acquire(hub, &set, NULL);
    ck_assert_ptr_eq(w1, w2);
    ck_assert_int_eq(push_record(w1, 0, 300), CAPTURE_DROP_NONE);
    ck_assert(capture_writer_sync(w1, 5000));
    capture_hub_release(hub, w1); /* still held: the file stays open */
    ck_assert_uint_eq(count_kind(sub, CAPTURE_FILE_OPEN), 1);
    capture_hub_release(hub, w2); /* the last one: drained and finished */
    ck_assert_uint_eq(count_kind(sub, CAPTURE_FILE_OPEN), 0);
    ck_assert_uint_eq(count_kind(sub, CAPTURE_FILE_DONE), 1);
    capture_hub_free(hub);
    char mid[4200];
    snprintf(mid, sizeof(mid), "%s/a", dir);
    remove_dir(strdup(sub));
    remove_dir(strdup(mid));
    remove_dir(dir);
}
END_TEST

/* ---- failed writes ---- */

/* In a child limited to <limit> bytes per file (RLIMIT_FSIZE, SIGXFSZ
 * ignored so that write() fails with EFBIG), writes <n> records of <size>
 * bytes; the child reports records written and disk_full drops. The child
 * makes no check assertion (they write to the runner's channel, which it
 * shares): the records are encoded before the fork. */
static void limited_child(const char *dir, rlim_t limit, unsigned n, size_t size, uint64_t out[2])
{
    msgpack_sbuffer recs[8];
    ck_assert_uint_le(n, 8);
    for (unsigned i = 0; i < n; i++) {
        msgpack_sbuffer_init(&recs[i]);
        make_record(&recs[i], i, size);
    }
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {.rlim_cur = limit, .rlim_max = limit};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(3);
        struct capture_writer_settings set = settings(dir, 1 << 20, 0);
        struct capture_writer *w = capture_writer_new(&set, NULL);
        for (unsigned i = 0; i < n; i++)
            capture_writer_push(w, recs[i].data, recs[i].size);
        if (capture_writer_start(w) != 0 || !capture_writer_sync(w, 5000) || !capture_writer_stop(w, 5000))
            _exit(4);
        uint64_t res[2] = {STAT(w, records), STAT(w, dropped[CAPTURE_DROP_DISK_FULL])};
        capture_writer_free(w);
        _exit(write(p[1], res, sizeof(res)) == (ssize_t)sizeof(res) ? 0 : 5);
    }
    close(p[1]);
    for (unsigned i = 0; i < n; i++)
        msgpack_sbuffer_destroy(&recs[i]);
    ck_assert_int_eq(read(p[0], out, 2 * sizeof(uint64_t)), (ssize_t)(2 * sizeof(uint64_t)));
    close(p[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}

START_TEST(short_write_truncates_to_record_boundary)
{
    char *dir = make_dir();
    uint64_t res[2];
    /* 2500 bytes allowed: two records fit, the third is cut at 500 bytes by
     * a short write, then EFBIG; the writer cuts the file back to 2000. */
    limited_child(dir, 2500, 5, 1000, res);
    ck_assert_uint_eq(res[0], 2);
    ck_assert_uint_eq(res[1], 3);
    struct capture_dir_list l;
    ck_assert_int_eq(capture_dir_scan(dir, CAPTURE_FILE_DONE, &l), 0);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.files[0].size, 2000);
    char path[4096];
    unsigned ids[8];
    snprintf(path, sizeof(path), "%s/%s", dir, l.files[0].name);
    ck_assert_uint_eq(read_ids(path, ids, 8), 2);
    ck_assert_uint_eq(ids[0], 0);
    ck_assert_uint_eq(ids[1], 1);
    capture_dir_list_free(&l);
    ck_assert_uint_eq(count_kind(dir, CAPTURE_FILE_OPEN), 0);
    remove_dir(dir);
}
END_TEST

START_TEST(leftover_open_file_repaired)
{
    char *dir = make_dir();
    /* What a crash leaves: two whole records and half of a third. */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    char name[CAPTURE_NAME_CAP], path[4200];
    capture_file_name(name, 1700000000000ull, 41);
    snprintf(path, sizeof(path), "%s/%s" CAPTURE_OPEN_SUFFIX, dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    for (unsigned i = 0; i < 3; i++) {
        make_record(&sb, i, 400);
        fwrite(sb.data, 1, i < 2 ? 400 : 150, f);
    }
    fclose(f);
    msgpack_sbuffer_destroy(&sb);
    struct capture_writer_settings set = settings(dir, 1 << 20, 0);
    struct capture_writer *w = capture_writer_new(&set, NULL);
    ck_assert_int_eq(capture_writer_start(w), 0);
    ck_assert_int_eq(push_record(w, 7, 300), CAPTURE_DROP_NONE);
    ck_assert(capture_writer_stop(w, 5000));
    capture_writer_free(w);
    struct capture_dir_list l;
    ck_assert_int_eq(capture_dir_scan(dir, CAPTURE_FILE_DONE, &l), 0);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(l.files[0].name, name); /* repaired, and older than the new one */
    ck_assert_uint_eq(l.files[0].size, 800);
    unsigned ids[4];
    snprintf(path, sizeof(path), "%s/%s", dir, l.files[0].name);
    ck_assert_uint_eq(read_ids(path, ids, 4), 2);
    uint64_t ms;
    unsigned seq;
    ck_assert_int_eq(capture_file_parse(l.files[1].name, &ms, &seq), CAPTURE_FILE_DONE);
    ck_assert_uint_eq(seq, 42); /* the sequence goes on from the newest file */
    capture_dir_list_free(&l);
    remove_dir(dir);
}
END_TEST

/* ---- the record a worker builds ---- */

/* A req.hdrs_bin block of <n> name/value pairs. */
static size_t hdrs_bin(uint8_t *buf, size_t cap, const char *const (*h)[2], size_t n)
{
    struct spop_writer wr;
    spop_writer_init(&wr, buf, cap);
    for (size_t i = 0; i < n; i++) {
        spop_put_name(&wr, h[i][0], strlen(h[i][0]));
        spop_put_name(&wr, h[i][1], strlen(h[i][1]));
    }
    spop_put_name(&wr, "", 0);
    spop_put_name(&wr, "", 0);
    ck_assert(!wr.failed);
    return wr.len;
}

static const char *const req_headers[][2] = {
    {"host", "httpbin:8000"}, {"authorization", "Bearer s3cret"},
    {"user-agent", "curl/8"}, {"cookie", "sid=abc"},
    {"x-api-key", "k-123"},   {"proxy-authorization", "Basic eA=="},
    {"set-cookie", "a=b"},    {"x-secret", "hush"},
    {"x-dup", "1"},           {"x-dup", "2"},
};
#define N_REQ_HEADERS (sizeof(req_headers) / sizeof(req_headers[0]))

struct shaped {
    char *data; /* the encoded record, which the decoded strings point into */
    msgpack_unpacked u;
    const msgpack_object *rec;
};

static void shaped_free(struct shaped *sh)
{
    msgpack_unpacked_destroy(&sh->u);
    free(sh->data);
}

/* Shapes the sample request for a capture mirror with <cap> and decodes it. */
static enum shape_status shape_sample(struct config_capture *cap, size_t max_len, struct shaped *out)
{
    static uint8_t hb[1024];
    size_t hl = hdrs_bin(hb, sizeof(hb), req_headers, N_REQ_HEADERS);
    struct config_mirror m;
    config_mirror_defaults(&m);
    m.url = "file:///tmp/c";
    m.capture = cap;
    struct mirror_args a = {
        .method = B("POST"),
        .path = B("/anything?n=1"),
        .host = B("httpbin:8000"),
        .ver = B("1.1"),
        .hdrs = {hb, hl},
        .body = B("{\"k\":1}\0bin"),
        .body_size = 11,
        .id = B("req-7"),
        .src = {.type = SPOP_DATA_T_IPV4, .u.ipv4 = {192, 0, 2, 7}},
    };
    struct capture_scratch s;
    capture_scratch_init(&s);
    enum shape_status st = capture_shape(&m, "api", &a, 1700000000123456789ull, max_len, &s);
    if (st == SHAPE_OK) {
        msgpack_unpacked_init(&out->u);
        out->data = malloc(s.buf.size);
        ck_assert_ptr_nonnull(out->data);
        memcpy(out->data, s.buf.data, s.buf.size);
        size_t off = 0;
        ck_assert_int_eq(msgpack_unpack_next(&out->u, out->data, s.buf.size, &off), MSGPACK_UNPACK_SUCCESS);
        ck_assert_uint_eq(off, s.buf.size);
        out->rec = &out->u.data;
    }
    capture_scratch_destroy(&s);
    return st;
}

/* The value of header #i of the decoded record. */
static const msgpack_object *header_value(const struct shaped *sh, size_t i, const char *name)
{
    const msgpack_object *h = map_get(sh->rec, "headers");
    ck_assert(h && h->type == MSGPACK_OBJECT_ARRAY);
    ck_assert_uint_eq(h->via.array.size, N_REQ_HEADERS);
    const msgpack_object *pair = &h->via.array.ptr[i];
    ck_assert(pair->type == MSGPACK_OBJECT_ARRAY && pair->via.array.size == 2);
    ck_assert(str_is(&pair->via.array.ptr[0], name));
    return &pair->via.array.ptr[1];
}

START_TEST(record_fields_and_default_redaction)
{
    struct config_capture *cap = config_capture_new();
    struct shaped sh;
    ck_assert_int_eq(shape_sample(cap, 1 << 20, &sh), SHAPE_OK);
    const msgpack_object *r = sh.rec;
    ck_assert(str_is(map_get(r, "route"), "api"));
    ck_assert(str_is(map_get(r, "mirror"), "file:///tmp/c"));
    ck_assert(str_is(map_get(r, "method"), "POST"));
    ck_assert(str_is(map_get(r, "path"), "/anything?n=1"));
    ck_assert(str_is(map_get(r, "authority"), "httpbin:8000"));
    ck_assert(str_is(map_get(r, "shadow_authority"), "httpbin-shadow:8000"));
    ck_assert(str_is(map_get(r, "http_version"), "1.1"));
    ck_assert(str_is(map_get(r, "id"), "req-7"));
    ck_assert(str_is(map_get(r, "src"), "192.0.2.7"));
    const msgpack_object *ts = map_get(r, "ts");
    ck_assert(ts && ts->type == MSGPACK_OBJECT_POSITIVE_INTEGER && ts->via.u64 == 1700000000123456789ull);
    const msgpack_object *body = map_get(r, "body");
    ck_assert(body && body->type == MSGPACK_OBJECT_BIN && body->via.bin.size == 11);
    ck_assert(memcmp(body->via.bin.ptr, "{\"k\":1}\0bin", 11) == 0);
    /* Every header kept in order; the five default names redacted. */
    for (size_t i = 0; i < N_REQ_HEADERS; i++) {
        const char *name = req_headers[i][0];
        bool secret = strcmp(name, "authorization") == 0 || strcmp(name, "cookie") == 0 ||
                      strcmp(name, "set-cookie") == 0 || strcmp(name, "proxy-authorization") == 0 ||
                      strcmp(name, "x-api-key") == 0;
        ck_assert_msg(str_is(header_value(&sh, i, name), secret ? CAPTURE_REDACTED : req_headers[i][1]),
                      "header %s", name);
    }
    shaped_free(&sh);
    config_capture_free(cap);
}
END_TEST

START_TEST(custom_redaction_replaces_default)
{
    struct config_capture *cap = config_capture_new();
    for (size_t i = 0; i < cap->n_redact_headers; i++)
        free(cap->redact_headers[i]);
    cap->redact_headers[0] = strdup("x-secret");
    cap->redact_headers[1] = strdup("x-dup");
    cap->n_redact_headers = 2;
    struct shaped sh;
    ck_assert_int_eq(shape_sample(cap, 1 << 20, &sh), SHAPE_OK);
    for (size_t i = 0; i < N_REQ_HEADERS; i++) {
        const char *name = req_headers[i][0];
        bool secret = strcmp(name, "x-secret") == 0 || strcmp(name, "x-dup") == 0;
        ck_assert_msg(str_is(header_value(&sh, i, name), secret ? CAPTURE_REDACTED : req_headers[i][1]),
                      "header %s", name);
    }
    shaped_free(&sh);
    /* An empty list redacts nothing. */
    cap->n_redact_headers = 0;
    ck_assert_int_eq(shape_sample(cap, 1 << 20, &sh), SHAPE_OK);
    for (size_t i = 0; i < N_REQ_HEADERS; i++)
        ck_assert(str_is(header_value(&sh, i, req_headers[i][0]), req_headers[i][1]));
    shaped_free(&sh);
    cap->n_redact_headers = 2;
    ck_assert(capture_is_redacted(cap, B("X-Secret")));
    ck_assert(!capture_is_redacted(cap, B("x-secre")));
    config_capture_free(cap);
}
END_TEST

START_TEST(record_too_large_is_refused)
{
    struct config_capture *cap = config_capture_new();
    struct shaped sh;
    ck_assert_int_eq(shape_sample(cap, 64, &sh), SHAPE_TOO_LARGE);
    config_capture_free(cap);
}
END_TEST

Suite *capture_writer_suite(void);

/* capture_writer_suite: the Check suite for capture_files.h, capture_writer.h, capture_hub.h and
 * capture_shape.h. */
Suite *capture_writer_suite(void)
{
    Suite *s = suite_create("capture_writer");
    TCase *tc = tcase_create("names");
    tcase_add_test(tc, names_format_and_parse);
    tcase_add_test(tc, names_sort_by_time);
    suite_add_tcase(s, tc);

    tc = tcase_create("writer");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, rotation_by_size);
    tcase_add_test(tc, rotation_by_age);
    tcase_add_test(tc, cap_max_files_deletes_oldest);
    tcase_add_test(tc, cap_max_total_bytes_deletes_oldest);
    tcase_add_test(tc, queue_full_drops_without_blocking);
    tcase_add_test(tc, unusable_dir_counts_io_error);
    tcase_add_test(tc, shared_by_directory);
    tcase_add_test(tc, short_write_truncates_to_record_boundary);
    tcase_add_test(tc, leftover_open_file_repaired);
    suite_add_tcase(s, tc);

    tc = tcase_create("record");
    tcase_add_test(tc, record_fields_and_default_redaction);
    tcase_add_test(tc, custom_redaction_replaces_default);
    tcase_add_test(tc, record_too_large_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
