#include "spop/spop_conn.h"

#include <errno.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "spop/spop_data.h"
#include "spop/spop_proto.h"

/* Bytes asked of recv() at a time, beyond what a partial frame still needs. */
#define READ_CHUNK (64u * 1024u)
/* recv() calls per readable event before yielding to other connections. */
#define READS_PER_EVENT 16
/* Output beyond which we stop reading until HAProxy takes our ACKs. */
#define OUT_HIGH_WATER (256u * 1024u)
/* Buffers larger than this are released when they run empty. */
#define KEEP_IDLE_BUFFER (128u * 1024u)

void spop_conn_init(struct spop_conn *c, int fd, uint32_t max_frame, struct spop_notify_handler handler,
                    struct agent_stats *stats)
{
    c->fd = fd;
    c->end = SPOP_CONN_END_NONE;
    c->io_errno = 0;
    spop_session_init(&c->session, max_frame, handler, stats);
    buf_init(&c->in, (size_t)c->session.our_max_frame + SPOP_FRAME_LEN_BYTES + READ_CHUNK);
    buf_init(&c->out, OUT_HIGH_WATER + READ_CHUNK);
}

void spop_conn_deinit(struct spop_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    buf_free(&c->in);
    buf_free(&c->out);
    spop_session_deinit(&c->session);
}

void spop_conn_abort(struct spop_conn *c, enum spop_conn_end why)
{
    if (c->fd >= 0) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    buf_consume(&c->out, c->out.len);
    c->end = why;
}

const char *spop_conn_end_str(enum spop_conn_end e)
{
    switch (e) {
    case SPOP_CONN_END_NONE:
        return "none";
    case SPOP_CONN_END_EOF:
        return "eof";
    case SPOP_CONN_END_RESET:
        return "reset";
    case SPOP_CONN_END_PROTOCOL:
        return "protocol";
    case SPOP_CONN_END_IO:
        return "io_error";
    case SPOP_CONN_END_SHUTDOWN:
        return "shutdown";
    case SPOP_CONN_END_TIMEOUT:
        return "idle_timeout";
    }
    return "unknown";
}

int spop_conn_interest(const struct spop_conn *c)
{
    if (c->end != SPOP_CONN_END_NONE)
        return SPOP_CONN_CLOSE;
    if (spop_session_closing(&c->session)) {
        if (c->out.len == 0)
            return SPOP_CONN_CLOSE;
        return SPOP_CONN_WANT_WRITE;
    }
    int want = 0;
    if (c->out.len < OUT_HIGH_WATER)
        want |= SPOP_CONN_WANT_READ;
    if (c->out.len > 0)
        want |= SPOP_CONN_WANT_WRITE;
    return want;
}

static void set_end_from_errno(struct spop_conn *c, int err)
{
    c->io_errno = err;
    c->end = (err == ECONNRESET || err == EPIPE) ? SPOP_CONN_END_RESET : SPOP_CONN_END_IO;
}

/* Writes as much output as the socket takes. */
static void flush_out(struct spop_conn *c)
{
    while (c->out.len > 0 && c->end == SPOP_CONN_END_NONE) {
        ssize_t n = send(c->fd, buf_peek(&c->out), c->out.len, MSG_NOSIGNAL);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                set_end_from_errno(c, errno);
            return;
        }
        counter_add(&c->session.stats->bytes_out, (uint64_t)n);
        buf_consume(&c->out, (size_t)n);
    }
    if (c->out.len == 0) {
        buf_shrink(&c->out, KEEP_IDLE_BUFFER);
        if (spop_session_closing(&c->session) && c->end == SPOP_CONN_END_NONE)
            c->end = SPOP_CONN_END_PROTOCOL;
    }
}

const double ack_latency_bounds[HISTOGRAM_BUCKETS] = {0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                      0.0025,   0.005,   0.01,   0.025,   0.05,   0.1};

/* Decodes and answers every whole frame in the input: replies are written
 * first, then the batch goes to the notify handler, then its bytes are dropped.
 * <read_ns> is when the bytes were read, for the ACK latency. */
static void process_input(struct spop_conn *c, uint64_t read_ns, bool defer)
{
    struct agent_stats *st = c->session.stats;
    for (;;) {
        if (spop_conn_dispatch_due(c))
            return; /* its bytes must stay where they are until it is dispatched */
        uint64_t acks = counter_get(&st->ack);
        size_t used = spop_session_feed(&c->session, buf_peek(&c->in), c->in.len, &c->out);
        flush_out(c);
        uint64_t answered = counter_get(&st->ack) - acks;
        if (answered)
            histogram_observe(&st->ack_latency, ack_latency_bounds, mono_ns() - read_ns, answered);
        if (defer && used > 0) {
            c->due_used = used;
            return;
        }
        spop_session_dispatch(&c->session);
        buf_consume(&c->in, used);
        if (used == 0 || spop_session_closing(&c->session) || c->end != SPOP_CONN_END_NONE ||
            c->out.len >= OUT_HIGH_WATER)
            return;
    }
}

/* How many bytes to ask of recv(): at least what the frame being read still
 * needs, so a frame up to max-frame-size always fits. */
static size_t read_want(const struct spop_conn *c)
{
    size_t want = READ_CHUNK;
    if (c->in.len >= SPOP_FRAME_LEN_BYTES) {
        size_t frame = (size_t)spop_get_u32be(buf_peek(&c->in)) + SPOP_FRAME_LEN_BYTES;
        if (frame <= (size_t)c->session.max_frame + SPOP_FRAME_LEN_BYTES && frame > c->in.len &&
            frame - c->in.len > want)
            want = frame - c->in.len;
    }
    return want;
}

int spop_conn_on_readable(struct spop_conn *c)
{
    for (int i = 0; i < READS_PER_EVENT; i++) {
        if (spop_conn_dispatch_due(c) || !(spop_conn_interest(c) & SPOP_CONN_WANT_READ))
            break;
        uint8_t *dst = buf_reserve(&c->in, read_want(c));
        if (!dst) {
            /* Cannot happen while the limit exceeds max-frame-size + a chunk. */
            spop_session_fail(&c->session, SPOP_ERR_RES, "input buffer full", &c->out);
            flush_out(c);
            break;
        }
        ssize_t n = recv(c->fd, dst, buf_room(&c->in), 0);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                set_end_from_errno(c, errno);
            break;
        }
        if (n == 0) {
            c->end = SPOP_CONN_END_EOF;
            break;
        }
        counter_add(&c->session.stats->bytes_in, (uint64_t)n);
        buf_commit(&c->in, (size_t)n);
        process_input(c, mono_ns(), c->defer_dispatch);
        if ((size_t)n < READ_CHUNK / 2)
            break; /* a short read: the socket is most likely drained */
    }
    if (c->in.len == 0)
        buf_shrink(&c->in, KEEP_IDLE_BUFFER);
    return spop_conn_interest(c);
}

int spop_conn_on_writable(struct spop_conn *c)
{
    bool was_blocked = c->out.len >= OUT_HIGH_WATER;
    flush_out(c);
    /* Frames left unread while the output was full can be answered now. */
    if (was_blocked && c->out.len < OUT_HIGH_WATER && c->in.len > 0 && c->end == SPOP_CONN_END_NONE)
        process_input(c, mono_ns(), false);
    return spop_conn_interest(c);
}

int spop_conn_dispatch(struct spop_conn *c)
{
    if (spop_conn_dispatch_due(c)) {
        spop_session_dispatch(&c->session);
        buf_consume(&c->in, c->due_used);
        c->due_used = 0;
        /* Frames read with the batch: answered and dispatched now. */
        if (c->in.len > 0 && c->end == SPOP_CONN_END_NONE && !spop_session_closing(&c->session) &&
            c->out.len < OUT_HIGH_WATER)
            process_input(c, mono_ns(), false);
    }
    if (c->in.len == 0)
        buf_shrink(&c->in, KEEP_IDLE_BUFFER);
    return spop_conn_interest(c);
}
