/* HTTP/2 connections of the mirror client (mirror_client_impl.h): one
 * nghttp2 client session per connection, fed and drained in memory
 * (nghttp2_session_mem_recv / mem_send) through the client's transport, so
 * that nghttp2 does no I/O. Each copy is a stream; nghttp2 keeps the flow
 * control windows, the body goes through a data provider. The only file of
 * the agent that uses nghttp2. */
#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>

#include "core/block_pool.h"
#include "core/xalloc.h"
#include "mirror/h2_request.h"
#include "mirror/mirror_client_impl.h"

/* Bytes read from a mirror at a time. */
#define READ_CHUNK 16384
/* Bytes of frames gathered before a write: nghttp2 serializes one frame per
 * nghttp2_session_mem_send() call, a stream's HEADERS often in a dozen
 * bytes; they go out together, one send for many copies. */
#define OUT_CAP 16384
/* Streams that wait for a write (mirror_client_settings.write_delay_ms) at
 * most: once this many do, they go out at once. */
#define WRITE_HOLD_MAX_STREAMS 32
/* Freed blocks a session keeps for reuse, at most: what some 200 streams in
 * flight allocate (about a dozen blocks of under 256 bytes each). */
#define H2_POOL_KEPT_BYTES (256u * 1024u)

/* One copy on an HTTP/2 connection. */
struct h2_stream {
    struct list_node node; /* in h2_conn.streams */
    struct mreq *req;      /* owned until the stream closes; NULL once dropped or handed back */
    int32_t id;
    uint64_t start_ns;   /* when its HEADERS were written (before: when it was opened) */
    uint64_t latency_ns; /* once delivered */
    const uint8_t *body; /* into req->data */
    size_t body_len, body_off;
    uint64_t body_read; /* response body bytes received */
    uint64_t announced; /* the final response's content-length; UINT64_MAX when absent */
    int status;         /* of the final response, once delivered */
    bool delivered;     /* the final response's headers are in: counted, on_done told */
    bool ended;         /* nothing more to account: waiting for nghttp2 to close it */
    bool grpc_counted;
    bool compared;              /* its answer is compared: read as soon as it comes, for its latency */
    unsigned interim;           /* 1xx responses before the final one */
    int grpc_slot;              /* of the header block being read: its grpc-status slot, -1 when none */
    struct mirror_observer obs; /* of the request, until the stream ends */
};

struct h2_conn {
    nghttp2_session *s;
    struct block_pool pool; /* nghttp2's small blocks for this session */
    struct mirror_client *c;
    struct mirror_conn *m;
    struct list_node streams;
    uint32_t nstreams;
    uint32_t ncompared;  /* of them, streams whose answer is compared */
    const uint8_t *pend; /* what mem_send gave and is not in <out> yet (valid until the next call) */
    size_t pend_len;
    uint8_t out[OUT_CAP]; /* frames gathered for the transport: [out_off, out_len) not written yet */
    size_t out_off, out_len;
    bool settings_in;    /* the server's SETTINGS arrived: its stream limit is known */
    bool goaway;         /* the server sent GOAWAY: no new stream */
    bool got_bytes;      /* the server sent something */
    bool broke;          /* a GOAWAY with an error went out: the server broke the protocol */
    bool closing;        /* being freed: callbacks do nothing */
    uint32_t unwritten;  /* streams opened since the last write: they wait for the sweep */
    uint64_t due_since;  /* when the first of them was opened (ns) */
    uint64_t timer_at;   /* when the armed timer fires (ns); 0 when none is armed */
    uint64_t idle_since; /* when the last stream ended (ns) */
    /* One clock reading for all the frames of a write, and for all the
     * answers of a read: when the write started, when the read returned (ns). */
    uint64_t write_ns, read_ns;
};

/* nghttp2's allocator: the session's block pool (nghttp2 copies the table). */
static void *pool_malloc(size_t size, void *pool)
{
    return block_pool_malloc(pool, size);
}

static void pool_free(void *ptr, void *pool)
{
    block_pool_free(pool, ptr);
}

static void *pool_calloc(size_t n, size_t size, void *pool)
{
    return block_pool_calloc(pool, n, size);
}

static void *pool_realloc(void *ptr, size_t size, void *pool)
{
    return block_pool_realloc(pool, ptr, size);
}

static struct h2_stream *stream_of(struct h2_conn *h, int32_t id)
{
    return h->closing ? NULL : nghttp2_session_get_stream_user_data(h->s, id);
}

static void stream_free(struct h2_conn *h, struct h2_stream *st)
{
    list_remove(&st->node);
    h->nstreams--;
    if (st->compared)
        h->ncompared--;
    if (st->req)
        mc_req_free(st->req);
    free(st);
}

/* Tells the observer of a delivered stream that its body ended. */
static void stream_observer_end(struct h2_stream *st, bool whole)
{
    struct mirror_observer obs = st->obs;
    memset(&st->obs, 0, sizeof(st->obs));
    if (obs.end)
        obs.end(obs.ctx, st->status, st->latency_ns, MIRROR_DROP_NONE, whole);
}

/* The stream's request ends undelivered, dropped for <why>. */
static void stream_drop(struct h2_conn *h, struct h2_stream *st, enum mirror_drop why)
{
    counter_add(&h->c->ctr->inflight, (uint64_t)-1);
    struct mreq *r = st->req;
    st->req = NULL;
    r->obs = st->obs;
    memset(&st->obs, 0, sizeof(st->obs));
    mc_drop(h->c, r, why);
    st->ended = true;
}

/* A delivered stream's body was not read to its end. */
static void stream_cut(struct h2_conn *h, struct h2_stream *st, enum mirror_cut why)
{
    counter_inc(&h->c->ctr->responses_cut[why]);
    log_event(h->c->log, LOG_LVL_DEBUG, "response_cut",
              "mirror=%s status=%d reason=%s body_bytes=%llu stream=%d", h->c->set.name, st->status,
              mirror_cut_str(why), (unsigned long long)st->body_read, (int)st->id);
    stream_observer_end(st, false);
    st->ended = true;
}

/* ---- nghttp2 callbacks (user data: the h2_conn) ---- */

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    (void)s;
    struct h2_stream *st = frame->hd.type == NGHTTP2_HEADERS ? stream_of(ud, frame->hd.stream_id) : NULL;
    if (!st)
        return 0;
    st->grpc_slot = -1;
    st->announced = UINT64_MAX;
    if (!st->delivered && !st->ended && st->obs.sink)
        st->obs.sink->begin(st->obs.ctx);
    return 0;
}

/* The grpc_status slot of a grpc-status value: 0..16, or "other". */
static int grpc_slot(const uint8_t *v, size_t n)
{
    unsigned code = 0;
    bool ok = n > 0 && n <= 2;
    for (size_t i = 0; ok && i < n; i++) {
        ok = v[i] >= '0' && v[i] <= '9';
        code = code * 10 + (unsigned)(v[i] - '0');
    }
    return ok && code <= 16 ? (int)code : MIRROR_GRPC_OTHER;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    (void)s;
    (void)flags;
    struct h2_conn *h = ud;
    struct h2_stream *st = frame->hd.type == NGHTTP2_HEADERS ? stream_of(h, frame->hd.stream_id) : NULL;
    if (!st)
        return 0;
    if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
        st->grpc_slot = grpc_slot(value, valuelen);
    if (st->delivered || st->ended)
        return 0;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
        int status = 0;
        for (size_t i = 0; i < valuelen && i < 3; i++)
            status = status * 10 + (value[i] - '0'); /* nghttp2 checked: three digits */
        st->status = status;
    } else if (namelen == 14 && memcmp(name, "content-length", 14) == 0) {
        uint64_t n = 0;
        for (size_t i = 0; i < valuelen && n <= UINT64_MAX / 10 - 10; i++)
            n = n * 10 + (uint64_t)(value[i] - '0'); /* nghttp2 checked: digits */
        st->announced = n;
    }
    if (st->obs.sink && namelen > 0 && name[0] != ':') {
        st->obs.sink->field(st->obs.ctx, (const char *)name, namelen);
        st->obs.sink->value(st->obs.ctx, (const char *)value, valuelen);
    }
    return 0;
}

/* The final response's headers are in: the copy is delivered. */
static void stream_deliver(struct h2_conn *h, struct h2_stream *st)
{
    struct mirror_client *c = h->c;
    st->delivered = true;
    st->latency_ns = h->read_ns - st->start_ns;
    counter_add(&c->ctr->inflight, (uint64_t)-1);
    if (st->obs.sink)
        st->obs.sink->headers_done(st->obs.ctx);
    mc_delivered(c, st->status, st->latency_ns);
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    (void)s;
    struct h2_conn *h = ud;
    if (h->closing)
        return 0;
    switch (frame->hd.type) {
    case NGHTTP2_SETTINGS:
        if (!(frame->hd.flags & NGHTTP2_FLAG_ACK))
            h->settings_in = true;
        break;
    case NGHTTP2_GOAWAY:
        h->goaway = true;
        log_event(h->c->log, LOG_LVL_DEBUG, "h2_goaway", "mirror=%s last_stream=%d error=%u", h->c->set.name,
                  (int)frame->goaway.last_stream_id, (unsigned)frame->goaway.error_code);
        break;
    case NGHTTP2_HEADERS: {
        struct h2_stream *st = stream_of(h, frame->hd.stream_id);
        if (st && !st->delivered && !st->ended && st->status < 200 &&
            ++st->interim > HTTP_EXCHANGE_MAX_INTERIM) {
            /* As over HTTP/1.1: a flood of interim responses is a bad answer
             * of a failing mirror; the stream is reset, the connection stays. */
            mc_count_failure(h->c);
            stream_drop(h, st, MIRROR_DROP_BAD_RESPONSE);
            nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
        } else if (st && !st->delivered && !st->ended && st->status >= 200) {
            stream_deliver(h, st);
            /* As over HTTP/1.1: a body announced longer than what is read of
             * it is not waited for, unless its answer is compared (which reads
             * the part that fits). */
            if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && !st->obs.sink &&
                st->announced != UINT64_MAX && st->announced > h->c->set.max_response_bytes) {
                stream_cut(h, st, MIRROR_CUT_TOO_LARGE);
                nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
            }
        }
        /* A grpc-status counts once per answer: in the final response's
         * headers (trailers-only) or in its trailers, not in a 1xx. */
        if (st && st->delivered && st->grpc_slot >= 0 && !st->grpc_counted) {
            st->grpc_counted = true;
            counter_inc(&h->c->ctr->grpc_status[st->grpc_slot]);
        }
        break;
    }
    default:
        break;
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                         void *ud)
{
    (void)flags;
    struct h2_conn *h = ud;
    struct h2_stream *st = stream_of(h, id);
    if (!st || !st->delivered || st->ended)
        return 0;
    uint64_t max = h->c->set.max_response_bytes;
    uint64_t before = st->body_read;
    st->body_read += len;
    if (st->obs.sink && before <= max) {
        uint64_t room = max + 1 - before; /* as HTTP/1.1: at most max + 1 bytes told */
        st->obs.sink->body(st->obs.ctx, (const char *)data, len < room ? len : (size_t)room);
    }
    if (st->body_read > max) {
        stream_cut(h, st, MIRROR_CUT_TOO_LARGE);
        nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    }
    return 0;
}

/* A stream that closed before its response's headers: REFUSED_STREAM (a
 * RST_STREAM, or a GOAWAY whose last stream is below it) means the server
 * did not process it: an idempotent copy goes once more on another
 * connection; others are dropped and counted in retries_refused. */
static void stream_unanswered(struct h2_conn *h, struct h2_stream *st, uint32_t code)
{
    struct mirror_client *c = h->c;
    if (code == NGHTTP2_REFUSED_STREAM && st->req->idempotent && !st->req->retried) {
        counter_add(&c->ctr->inflight, (uint64_t)-1);
        struct mreq *r = st->req;
        st->req = NULL;
        r->retried = true;
        r->obs = st->obs;
        memset(&st->obs, 0, sizeof(st->obs));
        mc_requeue(c, r);
        st->ended = true;
        return;
    }
    if (code == NGHTTP2_REFUSED_STREAM && !st->req->idempotent)
        counter_inc(&c->ctr->retries_refused);
    log_event(c->log, LOG_LVL_DEBUG, "h2_stream_closed", "mirror=%s stream=%d error=%u", c->set.name,
              (int)st->id, (unsigned)code);
    /* A stream the server reset without an answer is a failing mirror, as an
     * HTTP/1.1 exchange reset before any response byte; one it refused (a
     * GOAWAY below it, load shedding) is not. */
    if (code != NGHTTP2_REFUSED_STREAM)
        mc_count_failure(c);
    if (code == NGHTTP2_NO_ERROR)
        stream_drop(h, st, MIRROR_DROP_BAD_RESPONSE);
    else if (code == NGHTTP2_REFUSED_STREAM)
        stream_drop(h, st, MIRROR_DROP_IO_ERROR);
    else
        stream_drop(h, st, MIRROR_DROP_STREAM_RESET);
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
    (void)s;
    struct h2_conn *h = ud;
    struct h2_stream *st = stream_of(h, id);
    if (!st)
        return 0;
    if (!st->ended) {
        if (!st->delivered)
            stream_unanswered(h, st, code);
        else if (code == NGHTTP2_NO_ERROR)
            stream_observer_end(st, true);
        else
            stream_cut(h, st, MIRROR_CUT_IO_ERROR);
    }
    nghttp2_session_set_stream_user_data(h->s, id, NULL);
    stream_free(h, st);
    return 0;
}

static int on_frame_send(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    (void)s;
    struct h2_conn *h = ud;
    /* nghttp2 ends the session this way on a connection error of the
     * server's (no SETTINGS first, a malformed frame, flow control broken). */
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR)
        h->broke = true;
    /* A request's latency counts from its write, not from the wait for it. */
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        struct h2_stream *st = stream_of(h, frame->hd.stream_id);
        if (st)
            st->start_ns = h->write_ns;
    }
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    struct h2_stream *st = stream_of(h, frame->hd.stream_id);
    if (st && st->req && !st->req->counted_sent) {
        st->req->counted_sent = true;
        counter_inc(&h->c->ctr->sent);
    }
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t cap, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    (void)s;
    (void)id;
    (void)ud;
    struct h2_stream *st = src->ptr;
    if (!st->req)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* dropped meanwhile: reset it */
    size_t n = st->body_len - st->body_off;
    if (n > cap)
        n = cap;
    memcpy(buf, st->body + st->body_off, n);
    st->body_off += n;
    if (st->body_off == st->body_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* ---- the connection ---- */

/* Gathers the frames nghttp2 has to send into h->out, while it has room.
 * False on an nghttp2 error. */
static bool gather(struct h2_conn *h)
{
    while (h->out_len < OUT_CAP) {
        if (h->pend_len == 0) {
            const uint8_t *p;
            ssize_t n = nghttp2_session_mem_send(h->s, &p);
            if (n < 0)
                return false;
            if (n == 0)
                break;
            h->pend = p;
            h->pend_len = (size_t)n;
        }
        size_t take = OUT_CAP - h->out_len < h->pend_len ? OUT_CAP - h->out_len : h->pend_len;
        memcpy(h->out + h->out_len, h->pend, take);
        h->out_len += take;
        h->pend += take;
        h->pend_len -= take;
    }
    return true;
}

/* How many streams <h> may have open: the server's limit (one until its
 * SETTINGS say), at most max_inflight. */
static uint32_t stream_limit(const struct mirror_client *c, const struct h2_conn *h)
{
    uint32_t limit = 1;
    if (h->settings_in)
        limit = nghttp2_session_get_remote_settings(h->s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    return limit < c->set.max_inflight ? limit : c->set.max_inflight;
}

/* Writes what nghttp2 has to send, within the write budget. False when the
 * connection failed. */
static bool flush(struct mirror_client *c, struct mirror_conn *m)
{
    struct h2_conn *h = m->h2;
    size_t budget = MIRROR_WRITE_BUDGET;
    h->write_ns = mc_now_ns(c);
    for (;;) {
        if (!gather(h))
            return false;
        if (h->out_off == h->out_len)
            break;
        if (budget == 0) {
            c->tr->watch(c->tr_ctx, m, MIRROR_WATCH_READ | MIRROR_WATCH_WRITE);
            return true;
        }
        size_t left = h->out_len - h->out_off;
        ssize_t n = c->tr->send(c->tr_ctx, m, h->out + h->out_off, left < budget ? left : budget);
        if (n == MIRROR_IO_AGAIN) {
            c->tr->watch(c->tr_ctx, m, MIRROR_WATCH_READ | MIRROR_WATCH_WRITE);
            return true;
        }
        if (n < 0)
            return false;
        h->out_off += (size_t)n;
        budget -= (size_t)n;
        if (h->out_off == h->out_len)
            h->out_off = h->out_len = 0;
    }
    /* Answers awaited on open streams can wait for a later wake-up of the
     * thread; an idle connection is watched at once (the server closing it),
     * and so is one awaiting a compared answer, whose latency is reported,
     * and one past half its stream limit, whose answers free streams. */
    bool lazy = h->nstreams > 0 && h->ncompared == 0 && h->nstreams < (stream_limit(c, h) + 1) / 2;
    c->tr->watch(c->tr_ctx, m, MIRROR_WATCH_READ | (lazy ? MIRROR_WATCH_LAZY : 0));
    return true;
}

/* The connection broke (reset, EOF, write error) or the server broke the
 * protocol (<bad>): every stream on it ends. */
static void conn_lost(struct mirror_client *c, struct mirror_conn *m, bool bad)
{
    struct h2_conn *h = m->h2;
    if (!h->got_bytes || bad)
        mc_count_failure(c); /* a mirror that fails, not one that closed an idle connection */
    if (bad)
        log_event(c->log, LOG_LVL_DEBUG, "h2_protocol_error", "mirror=%s streams=%u", c->set.name,
                  (unsigned)h->nstreams);
    mc_conn_close(c, m, bad ? MIRROR_DROP_BAD_RESPONSE : MIRROR_DROP_IO_ERROR);
}

/* The earliest deadline (ns) of the streams not ended; 0 when none. */
static uint64_t next_deadline(const struct mirror_client *c, const struct h2_conn *h)
{
    uint64_t first = 0;
    uint64_t span = (uint64_t)c->set.timeout_ms * 1000000ull;
    for (const struct list_node *n = h->streams.next; n != &h->streams; n = n->next) {
        const struct h2_stream *st = list_entry(n, const struct h2_stream, node);
        if (!st->ended && (first == 0 || st->start_ns + span < first))
            first = st->start_ns + span;
    }
    return first;
}

/* Arms the connection's timer to fire at <at> (ns, monotonic). */
static void arm(struct mirror_client *c, struct mirror_conn *m, uint64_t at)
{
    uint64_t now = mc_now_ns(c);
    m->h2->timer_at = at;
    c->tr->arm_timer(c->tr_ctx, m, at > now ? (uint32_t)((at - now + 999999u) / 1000000u) : 0);
}

/* When the streams opened on <h> since its last write may go out (ns,
 * monotonic); 0: now. They wait only for more streams on a healthy
 * connection with nothing else unwritten, and with a transport that can
 * sweep at a given time; never more than a quarter of their timeout. */
static uint64_t write_at(const struct mirror_client *c, const struct h2_conn *h)
{
    uint32_t delay_ms = c->set.write_delay_ms;
    if (delay_ms > c->set.timeout_ms / 4)
        delay_ms = c->set.timeout_ms / 4;
    if (h->unwritten == 0 || delay_ms == 0 || !c->tr->defer_until || h->unwritten >= WRITE_HOLD_MAX_STREAMS ||
        h->out_off != h->out_len || h->pend_len > 0 || h->goaway || !nghttp2_session_want_read(h->s))
        return 0;
    return h->due_since + (uint64_t)delay_ms * 1000000u;
}

/* After any work on <m>: writes what is due, closes the connection when
 * nothing more will happen on it, else arms its timer (the first stream
 * deadline, or the idle timeout). Returns false when <m> is gone. */
static bool settle(struct mirror_client *c, struct mirror_conn *m)
{
    struct h2_conn *h = m->h2;
    uint64_t at = write_at(c, h);
    if (at != 0 && mc_now_ns(c) < at) {
        c->tr->defer_until(c->tr_ctx, at); /* the sweep then writes them */
    } else {
        h->unwritten = 0;
        if (!flush(c, m) || h->broke) {
            conn_lost(c, m, h->broke);
            return false;
        }
    }
    if (h->nstreams == 0) {
        if (h->goaway || (!nghttp2_session_want_read(h->s) && !nghttp2_session_want_write(h->s))) {
            mc_conn_close(c, m, MIRROR_DROP_NONE);
            return false;
        }
        if (mc_conn_addr_gone(c, m)) {
            counter_inc(&c->ctr->address_gone);
            mc_conn_close(c, m, MIRROR_DROP_NONE);
            return false;
        }
        uint32_t left = mc_conn_life_left_ms(c, m, c->set.idle_timeout_ms);
        if (left == 0) {
            counter_inc(&c->ctr->expired);
            mc_conn_close(c, m, MIRROR_DROP_NONE);
            return false;
        }
        if (h->idle_since == 0) {
            h->idle_since = mc_now_ns(c);
            arm(c, m, h->idle_since + (uint64_t)left * 1000000u);
        }
        return true;
    }
    h->idle_since = 0;
    /* An armed timer that fires no later than the first deadline stays: on
     * a busy connection the timer is not re-armed for every stream. */
    uint64_t deadline = next_deadline(c, h);
    if (deadline != 0 && (h->timer_at == 0 || h->timer_at > deadline))
        arm(c, m, deadline);
    return true;
}

bool h2_conn_usable(struct mirror_client *c, struct mirror_conn *m)
{
    struct h2_conn *h = m->h2;
    return !h->goaway && mc_conn_life_left_ms(c, m, 1) > 0 && !mc_conn_addr_gone(c, m);
}

bool h2_conn_room(struct mirror_client *c, struct mirror_conn *m)
{
    struct h2_conn *h = m->h2;
    return h2_conn_usable(c, m) && h->nstreams < stream_limit(c, h);
}

bool h2_conn_busy(const struct mirror_conn *m)
{
    return m->h2->nstreams > 0;
}

/* Opens the stream of <r>; false (<r> dropped) when it cannot be. */
static bool stream_open(struct mirror_client *c, struct h2_conn *h, struct mreq *r)
{
    struct h2_request hr;
    if (!h2_request_parse(r->data, r->len, c->set.https, &hr)) {
        log_event(c->log, LOG_LVL_WARN, "h2_request_unreadable", "mirror=%s bytes=%zu", c->set.name, r->len);
        mc_drop(c, r, MIRROR_DROP_IO_ERROR);
        return false;
    }
    nghttp2_nv local[H2_REQUEST_INLINE_FIELDS];
    nghttp2_nv *nva = hr.n <= H2_REQUEST_INLINE_FIELDS ? local : xcalloc(hr.n, sizeof(*nva));
    for (size_t i = 0; i < hr.n; i++)
        nva[i] = (nghttp2_nv){(uint8_t *)hr.fields[i].name, (uint8_t *)hr.fields[i].value,
                              hr.fields[i].name_len, hr.fields[i].value_len, NGHTTP2_NV_FLAG_NONE};
    struct h2_stream *st = xcalloc(1, sizeof(*st));
    st->req = r;
    st->obs = r->obs;
    memset(&r->obs, 0, sizeof(r->obs));
    st->body = hr.body;
    st->body_len = hr.body_len;
    st->start_ns = mc_now_ns(c);
    st->grpc_slot = -1;
    nghttp2_data_provider body = {.source.ptr = st, .read_callback = read_body};
    int32_t id = nghttp2_submit_request(h->s, NULL, nva, hr.n, hr.body_len ? &body : NULL, st);
    if (nva != local)
        free(nva);
    h2_request_free(&hr);
    if (id < 0) {
        r->obs = st->obs;
        free(st);
        log_event(c->log, LOG_LVL_DEBUG, "h2_submit_failed", "mirror=%s error=\"%s\"", c->set.name,
                  nghttp2_strerror(id));
        mc_drop(c, r, MIRROR_DROP_IO_ERROR);
        return false;
    }
    st->id = id;
    list_push_back(&h->streams, &st->node);
    h->nstreams++;
    if (st->obs.sink) {
        st->compared = true;
        h->ncompared++;
    }
    counter_inc(&c->ctr->inflight);
    if (r->retried || h->m->reused)
        counter_inc(&c->ctr->reused);
    h->m->reused = true;
    return true;
}

void h2_conn_submit(struct mirror_client *c, struct mirror_conn *m, struct mreq *r)
{
    struct h2_conn *h = m->h2;
    stream_open(c, h, r);
    if (!c->tr->defer) {
        settle(c, m);
        return;
    }
    if (h->unwritten++ == 0)
        h->due_since = mc_now_ns(c);
    mc_defer(c);
}

bool h2_conn_flush_due(const struct mirror_conn *m)
{
    return m->h2->unwritten > 0;
}

bool h2_conn_start(struct mirror_client *c, struct mirror_conn *m)
{
    struct h2_conn *h = xcalloc(1, sizeof(*h));
    h->c = c;
    h->m = m;
    list_init(&h->streams);
    m->h2 = h;
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0)
        abort(); /* out of memory, as xalloc */
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    block_pool_init(&h->pool, H2_POOL_KEPT_BYTES);
    nghttp2_mem mem = {.mem_user_data = &h->pool,
                       .malloc = pool_malloc,
                       .free = pool_free,
                       .calloc = pool_calloc,
                       .realloc = pool_realloc};
    int rv = nghttp2_session_client_new3(&h->s, cb, h, NULL, &mem);
    nghttp2_session_callbacks_del(cb);
    if (rv != 0)
        abort();
    /* No server push; the flow control windows stay nghttp2's defaults. */
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
    struct mreq *r = m->req;
    m->req = NULL;
    counter_add(&c->ctr->inflight, (uint64_t)-1); /* the stream counts it again */
    stream_open(c, h, r);
    return settle(c, m);
}

void h2_conn_on_readable(struct mirror_client *c, struct mirror_conn *m)
{
    struct h2_conn *h = m->h2;
    uint8_t buf[READ_CHUNK];
    for (size_t budget = MIRROR_READ_BUDGET; budget > 0;) {
        size_t want = budget < sizeof(buf) ? budget : sizeof(buf);
        ssize_t n = c->tr->recv(c->tr_ctx, m, buf, want);
        if (n == MIRROR_IO_AGAIN)
            break;
        if (n <= 0) {
            if (h->nstreams == 0)
                mc_conn_close(c, m, MIRROR_DROP_NONE); /* an idle connection the server closed */
            else
                conn_lost(c, m, false);
            return;
        }
        h->got_bytes = true;
        budget -= (size_t)n;
        h->read_ns = mc_now_ns(c);
        ssize_t rv = nghttp2_session_mem_recv(h->s, buf, (size_t)n);
        if (rv < 0) {
            conn_lost(c, m, true);
            return;
        }
        if ((size_t)n < want)
            break; /* drained: readiness is level-triggered, no recv() just to hear EAGAIN */
    }
    settle(c, m);
}

void h2_conn_on_writable(struct mirror_client *c, struct mirror_conn *m)
{
    settle(c, m);
}

void h2_conn_on_timeout(struct mirror_client *c, struct mirror_conn *m)
{
    struct h2_conn *h = m->h2;
    uint64_t now = mc_now_ns(c), span = (uint64_t)c->set.timeout_ms * 1000000ull;
    h->timer_at = 0;
    if (h->nstreams == 0) { /* idle long enough, or too old */
        uint64_t idle_ns = (uint64_t)c->set.idle_timeout_ms * 1000000u;
        bool old = mc_conn_life_left_ms(c, m, 1) == 0;
        if (old || now - h->idle_since >= idle_ns) {
            if (old)
                counter_inc(&c->ctr->expired);
            mc_conn_close(c, m, MIRROR_DROP_NONE);
            return;
        }
        arm(c, m, h->idle_since + idle_ns); /* armed for a stream that has ended since */
        return;
    }
    for (struct list_node *n = h->streams.next; n != &h->streams; n = n->next) {
        struct h2_stream *st = list_entry(n, struct h2_stream, node);
        if (st->ended || now < st->start_ns + span)
            continue;
        if (st->delivered)
            stream_cut(h, st, MIRROR_CUT_TIMEOUT);
        else
            stream_drop(h, st, MIRROR_DROP_TIMEOUT);
        nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
    }
    settle(c, m);
}

void h2_conn_end(struct mirror_client *c, struct mirror_conn *m, enum mirror_drop why)
{
    struct h2_conn *h = m->h2;
    h->closing = true;
    while (!list_empty(&h->streams)) {
        struct h2_stream *st = list_entry(list_first(&h->streams), struct h2_stream, node);
        if (!st->ended && !st->delivered)
            stream_drop(h, st, why);
        else if (!st->ended && why == MIRROR_DROP_SHUTDOWN)
            stream_observer_end(st, false); /* as HTTP/1.1: a body cut by the shutdown is not counted */
        else if (!st->ended)
            stream_cut(h, st, MIRROR_CUT_IO_ERROR);
        stream_free(h, st);
    }
    nghttp2_session_del(h->s);
    block_pool_release(&h->pool);
    free(h);
    m->h2 = NULL;
    (void)c;
}
