#include "capture/capture_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "capture/capture_files.h"
#include "core/xalloc.h"

/* Records handed to one writev(). */
#define IOV_BATCH 64
/* After a failure to open a file, no new attempt for this long. */
#define RETRY_NS 1000000000ull
/* Interrupted system calls retried before giving up on one write. */
#define EINTR_RETRIES 100
#define DIR_MODE      0750
#define FILE_MODE     0640

static const char *const drop_names[CAPTURE_DROP_ENTRIES] = {
#define CAPTURE_DROP_NAME(name, text) text,
    CAPTURE_DROP_REASONS(CAPTURE_DROP_NAME)
#undef CAPTURE_DROP_NAME
};

const char *capture_drop_str(enum capture_drop d)
{
    return (unsigned)d < CAPTURE_DROP_ENTRIES ? drop_names[d] : "unknown";
}

struct capture_item {
    struct capture_item *next;
    size_t len;
    uint8_t data[];
};

struct capture_writer {
    char *dir;
    const struct logger *log;
    struct capture_stats stats;
    _Atomic uint64_t stop_deadline; /* monotonic ns; 0 while not stopping */

    /* Guarded by mu. */
    pthread_mutex_t mu;
    pthread_cond_t wake; /* to the thread: records, stop */
    pthread_cond_t idle; /* from the thread: queue empty and nothing in hand */
    struct capture_item *head, **tail;
    size_t queued;
    struct capture_writer_settings set; /* set.dir is <dir> */
    bool running, busy, stopping, stuck;
    pthread_t thread;

    /* The thread's own. */
    bool prepared; /* the directory exists and its leftovers were handled */
    int fd;        /* the open file, or -1 */
    char open_name[CAPTURE_NAME_CAP + 8];
    uint64_t file_size;
    uint64_t file_started; /* monotonic ns */
    uint64_t last_name_ms; /* names never go back in time */
    unsigned seq;
    uint64_t finished_total; /* finished files, as last listed */
    uint64_t retry_at;       /* monotonic ns */
    bool failing;            /* the last open or write failed: logged once per streak */
};

static void count(counter_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void set_gauge(counter_t *c, uint64_t v)
{
    atomic_store_explicit(c, v, memory_order_relaxed);
}

struct capture_writer *capture_writer_new(const struct capture_writer_settings *set, const struct logger *log)
{
    struct capture_writer *w = xcalloc(1, sizeof(*w));
    w->dir = xstrdup(set->dir);
    w->log = log;
    w->set = *set;
    w->set.dir = w->dir;
    w->head = NULL;
    w->tail = &w->head;
    w->fd = -1;
    atomic_init(&w->stop_deadline, 0);
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_cond_init(&w->idle, &ca);
    pthread_condattr_destroy(&ca);
    return w;
}

void capture_writer_update(struct capture_writer *w, const struct capture_writer_settings *set)
{
    pthread_mutex_lock(&w->mu);
    w->set = *set;
    w->set.dir = w->dir;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
}

enum capture_drop capture_writer_push(struct capture_writer *w, const void *rec, size_t len)
{
    struct capture_item *it = xmalloc(sizeof(*it) + len);
    it->next = NULL;
    it->len = len;
    memcpy(it->data, rec, len);
    enum capture_drop why = CAPTURE_DROP_NONE;
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        why = CAPTURE_DROP_SHUTDOWN;
    } else if (w->queued >= w->set.max_queue) {
        why = CAPTURE_DROP_QUEUE_FULL;
    } else {
        bool was_empty = w->head == NULL;
        *w->tail = it;
        w->tail = &it->next;
        w->queued++;
        set_gauge(&w->stats.queued, w->queued);
        if (was_empty)
            pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->mu);
    if (why == CAPTURE_DROP_NONE)
        return why;
    count(&w->stats.dropped[why], 1);
    free(it);
    return why;
}

/* ---- the files (writer thread) ---- */

static void note_failure(struct capture_writer *w, const char *what, int err)
{
    if (w->failing)
        return;
    w->failing = true;
    log_event(w->log, LOG_LVL_WARN, "capture_failing", "dir=\"%s\" op=%s error=\"%s\"", w->dir, what,
              strerror(err));
}

static void note_success(struct capture_writer *w)
{
    if (!w->failing)
        return;
    w->failing = false;
    log_event(w->log, LOG_LVL_INFO, "capture_recovered", "dir=\"%s\"", w->dir);
}

/* Deletes the oldest finished files beyond the caps, keeping room for one
 * more file of rotate_bytes, and refreshes the stored-bytes gauge. */
static void apply_caps(struct capture_writer *w, const struct capture_writer_settings *set)
{
    struct capture_dir_list l;
    int err = capture_dir_scan(w->dir, CAPTURE_FILE_DONE, &l);
    if (err) {
        note_failure(w, "list", err);
        return;
    }
    size_t gone = capture_dir_trim(w->dir, &l, set->max_files, set->max_total_bytes, set->rotate_bytes, &err);
    if (err)
        note_failure(w, "delete", err);
    if (gone) {
        count(&w->stats.files_deleted, gone);
        log_event(w->log, LOG_LVL_DEBUG, "capture_deleted", "dir=\"%s\" files=%zu", w->dir, gone);
    }
    w->finished_total = l.total;
    set_gauge(&w->stats.stored_bytes, w->finished_total + w->file_size);
    capture_dir_list_free(&l);
}

/* Creates the directory, repairs files a crashed writer left open, picks up
 * the naming state from the newest file and applies the caps. */
static int prepare_dir(struct capture_writer *w, const struct capture_writer_settings *set)
{
    if (capture_dir_make(w->dir, DIR_MODE) == -1)
        return -1;
    struct capture_dir_list l;
    int err = capture_dir_scan(w->dir, CAPTURE_FILE_OPEN, &l);
    if (err) {
        errno = err;
        return -1;
    }
    for (size_t i = 0; i < l.n; i++) {
        int rc = capture_file_recover(w->dir, l.files[i].name);
        if (rc == -1)
            log_event(w->log, LOG_LVL_WARN, "capture_recover_failed", "dir=\"%s\" file=%s error=\"%s\"",
                      w->dir, l.files[i].name, strerror(errno));
        else if (rc == 1)
            log_event(w->log, LOG_LVL_INFO, "capture_recovered_file", "dir=\"%s\" file=%s", w->dir,
                      l.files[i].name);
    }
    capture_dir_list_free(&l);
    err = capture_dir_scan(w->dir, CAPTURE_FILE_DONE, &l);
    if (err) {
        errno = err;
        return -1;
    }
    if (l.n) {
        uint64_t ms;
        unsigned seq;
        capture_file_parse(l.files[l.n - 1].name, &ms, &seq);
        if (ms > w->last_name_ms) {
            w->last_name_ms = ms;
            w->seq = seq;
        }
    }
    capture_dir_list_free(&l);
    apply_caps(w, set);
    w->prepared = true;
    return 0;
}

/* Opens a new "<name>.open" file. Returns 0, or an errno value. */
static int open_file(struct capture_writer *w, const struct capture_writer_settings *set)
{
    if (!w->prepared && prepare_dir(w, set) == -1)
        return errno;
    uint64_t ms = unix_ms();
    if (ms < w->last_name_ms)
        ms = w->last_name_ms;
    char path[4096];
    for (int attempt = 0; attempt < 3; attempt++) {
        w->seq = (w->seq + 1) % CAPTURE_SEQ_MOD;
        char name[CAPTURE_NAME_CAP];
        capture_file_name(name, ms, w->seq);
        snprintf(w->open_name, sizeof(w->open_name), "%s" CAPTURE_OPEN_SUFFIX, name);
        snprintf(path, sizeof(path), "%s/%s", w->dir, w->open_name);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, FILE_MODE);
        if (fd == -1 && errno == EEXIST)
            continue;
        if (fd == -1) {
            if (errno == ENOENT)
                w->prepared = false; /* the directory went away: make it again next time */
            return errno;
        }
        /* Tells capture_file_recover() in another process that it is live. */
        (void)flock(fd, LOCK_EX | LOCK_NB);
        w->fd = fd;
        w->file_size = 0;
        w->file_started = mono_ns();
        w->last_name_ms = ms;
        return 0;
    }
    return EEXIST;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd != -1) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Finishes the open file: fsync, close, rename without ".open" (an empty
 * file is removed instead), then the caps. */
static void finish_file(struct capture_writer *w, const struct capture_writer_settings *set)
{
    if (w->fd == -1)
        return;
    char from[4096], to[4096];
    snprintf(from, sizeof(from), "%s/%s", w->dir, w->open_name);
    size_t n = strlen(from) - strlen(CAPTURE_OPEN_SUFFIX);
    snprintf(to, sizeof(to), "%.*s", (int)n, from);
    if (!set->no_fsync && w->file_size && fsync(w->fd) == -1)
        log_event(w->log, LOG_LVL_WARN, "capture_fsync_failed", "file=\"%s\" error=\"%s\"", from,
                  strerror(errno));
    close(w->fd);
    w->fd = -1;
    uint64_t size = w->file_size;
    w->file_size = 0;
    if (size == 0) {
        (void)unlink(from);
        return;
    }
    if (rename(from, to) == -1) {
        /* Left as .open: repaired and renamed at the next start. */
        log_event(w->log, LOG_LVL_ERROR, "capture_rename_failed", "file=\"%s\" error=\"%s\"", from,
                  strerror(errno));
        return;
    }
    if (!set->no_fsync)
        fsync_dir(w->dir);
    count(&w->stats.files_rotated, 1);
    log_event(w->log, LOG_LVL_DEBUG, "capture_file_done", "file=\"%s\" bytes=%llu", to,
              (unsigned long long)size);
    apply_caps(w, set);
}

/* The open file can no longer be trusted to end on a record boundary: leave
 * it as ".open" for the repair at the next start and go on in a new file. */
static void abandon_file(struct capture_writer *w, int err)
{
    log_event(w->log, LOG_LVL_ERROR, "capture_file_abandoned", "dir=\"%s\" file=%s error=\"%s\"", w->dir,
              w->open_name, strerror(err));
    close(w->fd);
    w->fd = -1;
    w->finished_total += w->file_size;
    w->file_size = 0;
}

static enum capture_drop drop_reason(int err)
{
    return err == ENOSPC || err == EDQUOT || err == EFBIG ? CAPTURE_DROP_DISK_FULL : CAPTURE_DROP_IO_ERROR;
}

static struct capture_item *drop_item(struct capture_writer *w, struct capture_item *it,
                                      enum capture_drop why)
{
    struct capture_item *next = it->next;
    count(&w->stats.dropped[why], 1);
    free(it);
    return next;
}

/* Writes the <k> records from <first> (<total> bytes) to the open file.
 * Records written whole are counted and freed; on an error the file is cut
 * back to the last whole record and the record being written is dropped.
 * Returns the first record not consumed (the rest are for the caller). */
static struct capture_item *write_records(struct capture_writer *w, struct capture_item *first, size_t k,
                                          size_t total)
{
    struct iovec iov[IOV_BATCH];
    size_t done = 0;
    int err = 0, eintr = 0;
    while (done < total) {
        /* The iovecs of what is left, from byte <done> of the run. */
        size_t cnt = 0, skip = done;
        struct capture_item *it = first;
        for (size_t i = 0; i < k; i++, it = it->next) {
            if (skip >= it->len) {
                skip -= it->len;
                continue;
            }
            iov[cnt].iov_base = it->data + skip;
            iov[cnt].iov_len = it->len - skip;
            cnt++;
            skip = 0;
        }
        ssize_t n = writev(w->fd, iov, (int)cnt);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n == -1 && errno == EINTR && ++eintr < EINTR_RETRIES)
            continue;
        err = n == 0 ? EIO : errno;
        break;
    }
    size_t whole = 0;
    struct capture_item *it = first;
    while (k && whole + it->len <= done) {
        whole += it->len;
        count(&w->stats.records, 1);
        count(&w->stats.bytes, it->len);
        struct capture_item *next = it->next;
        free(it);
        it = next;
        k--;
    }
    w->file_size += whole;
    if (done < total) {
        if (done > whole && ftruncate(w->fd, (off_t)w->file_size) == -1)
            abandon_file(w, errno);
        note_failure(w, "write", err);
        it = drop_item(w, it, drop_reason(err));
    } else if (whole) {
        note_success(w);
    }
    set_gauge(&w->stats.stored_bytes, w->finished_total + w->file_size);
    return it;
}

/* Drops every record from <it> as <why>. */
static void drop_all(struct capture_writer *w, struct capture_item *it, enum capture_drop why)
{
    while (it)
        it = drop_item(w, it, why);
}

static bool file_too_old(const struct capture_writer *w, const struct capture_writer_settings *set,
                         uint64_t now)
{
    return set->rotate_ms && now - w->file_started >= (uint64_t)set->rotate_ms * CLOCK_NS_PER_MS;
}

/* Writes a batch taken from the queue, rotating as needed. */
static void write_batch(struct capture_writer *w, struct capture_item *items,
                        const struct capture_writer_settings *set)
{
    while (items) {
        uint64_t now = mono_ns();
        uint64_t deadline = atomic_load(&w->stop_deadline);
        if (deadline && now >= deadline) {
            drop_all(w, items, CAPTURE_DROP_SHUTDOWN);
            return;
        }
        if (w->fd != -1 && w->file_size &&
            (w->file_size + items->len > set->rotate_bytes || file_too_old(w, set, now)))
            finish_file(w, set);
        if (w->fd == -1) {
            bool waiting = now < w->retry_at; /* after a failure, one attempt per RETRY_NS */
            int err = waiting ? 0 : open_file(w, set);
            if (err) {
                note_failure(w, "open", err);
                w->retry_at = now + RETRY_NS;
            }
            if (waiting || err) {
                items = drop_item(w, items, CAPTURE_DROP_IO_ERROR);
                continue;
            }
            w->retry_at = 0;
        }
        /* A run of records that keeps the file within rotate_bytes (a
         * record larger than that goes alone into a fresh file). */
        size_t k = 0, total = 0;
        for (struct capture_item *it = items; it && k < IOV_BATCH; it = it->next) {
            if (k && w->file_size + total + it->len > set->rotate_bytes)
                break;
            total += it->len;
            k++;
        }
        items = write_records(w, items, k, total);
    }
}

static void *writer_main(void *arg)
{
    struct capture_writer *w = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&w->mu);
    struct capture_writer_settings set = w->set;
    pthread_mutex_unlock(&w->mu);
    if (prepare_dir(w, &set) == -1) {
        note_failure(w, "prepare", errno);
        w->retry_at = mono_ns() + RETRY_NS;
    }
    pthread_mutex_lock(&w->mu);
    for (;;) {
        set = w->set;
        if (!w->head) {
            w->busy = false;
            pthread_cond_broadcast(&w->idle);
            if (w->stopping)
                break;
            if (w->fd == -1 || !set.rotate_ms) {
                pthread_cond_wait(&w->wake, &w->mu);
                continue;
            }
            uint64_t due = w->file_started + (uint64_t)set.rotate_ms * CLOCK_NS_PER_MS;
            if (mono_ns() < due) {
                struct timespec ts = ns_to_timespec(due);
                pthread_cond_timedwait(&w->wake, &w->mu, &ts);
                continue;
            }
            pthread_mutex_unlock(&w->mu);
            finish_file(w, &set);
            pthread_mutex_lock(&w->mu);
            continue;
        }
        struct capture_item *batch = w->head;
        w->head = NULL;
        w->tail = &w->head;
        w->queued = 0;
        set_gauge(&w->stats.queued, 0);
        w->busy = true;
        pthread_mutex_unlock(&w->mu);
        write_batch(w, batch, &set);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    finish_file(w, &set);
    pthread_mutex_lock(&w->mu);
    w->running = false;
    pthread_cond_broadcast(&w->idle);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int capture_writer_start(struct capture_writer *w)
{
    pthread_mutex_lock(&w->mu);
    w->running = true;
    pthread_mutex_unlock(&w->mu);
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc != 0) {
        pthread_mutex_lock(&w->mu);
        w->running = false;
        pthread_mutex_unlock(&w->mu);
    }
    return rc;
}

bool capture_writer_sync(struct capture_writer *w, unsigned timeout_ms)
{
    struct timespec until = mono_deadline_ms(timeout_ms);
    bool ok = false;
    pthread_mutex_lock(&w->mu);
    while (w->running) {
        if (!w->head && !w->busy) {
            ok = true;
            break;
        }
        if (pthread_cond_timedwait(&w->idle, &w->mu, &until) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&w->mu);
    return ok;
}

bool capture_writer_stop(struct capture_writer *w, unsigned wait_ms)
{
    pthread_mutex_lock(&w->mu);
    bool was_running = w->running;
    w->stopping = true;
    atomic_store(&w->stop_deadline, mono_ns() + (uint64_t)wait_ms * CLOCK_NS_PER_MS);
    pthread_cond_broadcast(&w->wake);
    if (!was_running) {
        pthread_mutex_unlock(&w->mu);
        return true;
    }
    /* The thread checks the deadline between records; a system call that
     * hangs (a dead network disk) gets one more second. */
    struct timespec until = mono_deadline_ms(wait_ms + 1000);
    while (w->running) {
        if (pthread_cond_timedwait(&w->idle, &w->mu, &until) == ETIMEDOUT)
            break;
    }
    bool ended = !w->running;
    w->stuck = !ended;
    pthread_mutex_unlock(&w->mu);
    if (ended) {
        pthread_join(w->thread, NULL);
        return true;
    }
    log_event(w->log, LOG_LVL_ERROR, "capture_stuck", "dir=\"%s\" waited_ms=%u", w->dir, wait_ms + 1000);
    pthread_detach(w->thread);
    return false;
}

void capture_writer_free(struct capture_writer *w)
{
    if (!w || w->stuck)
        return;
    drop_all(w, w->head, CAPTURE_DROP_SHUTDOWN);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->idle);
    pthread_mutex_destroy(&w->mu);
    free(w->dir);
    free(w);
}

const struct capture_stats *capture_writer_stats(const struct capture_writer *w)
{
    return &w->stats;
}

const char *capture_writer_dir(const struct capture_writer *w)
{
    return w->dir;
}
