/* Unit tests for the mirroring engine (mirror_engine.h) on NOTIFYs built in
 * the test: what decide() concludes (route choice by match and by the
 * `route` argument, no route, unknown route, no `mirror` message, bad
 * arguments), sampling at 0% and 100% and by a header's hash, the per-agent
 * rate limit, truncated bodies, the counters of each step, and what
 * submit() hands to the mirror clients: the shaped bytes on a real loopback
 * connection (HEAD included), refusals counted by reason, and what is in
 * flight dropped as shutdown when the engine is freed. Bodies sent in
 * slices: stored before the ACK, assembled into the copy byte for byte,
 * never sent with a gap, discarded when nobody takes them, refused when
 * their arguments are bad. */
#include <check.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_load.h"
#include "core/counter.h"
#include "mirror/body_parts.h"
#include "mirror/mirror_args.h"
#include "mirror/mirror_engine.h"
#include "mirror/mirror_runtime.h"
#include "spop/spop_notify.h"
#include "mirror/stats_registry.h"
#include "spop/spop_data.h"
#include "spop/spop_proto.h"

#define MAX_REQUEST 4096

/* Mirrors of route "api": 0 takes everything, 1 nothing, 2 at most 5 per
 * second (a burst of one), 3 half of the x-user values. Route "rest" takes
 * the GETs and POSTs that "api" does not. No target is resolved, except
 * where a test points one at its own listener. */
static const char config_yaml[] = "routes:\n"
                                  "  - name: api\n"
                                  "    match:\n"
                                  "      hosts: [\"api.example.com\"]\n"
                                  "      path_prefix: /v1/\n"
                                  "    mirrors:\n"
                                  "      - url: http://mirror.invalid-test:9/base\n"
                                  "      - url: http://mirror.invalid-test:9\n"
                                  "        percent: 0\n"
                                  "      - url: http://mirror.invalid-test:9\n"
                                  "        max_rps: 5\n"
                                  "      - url: http://mirror.invalid-test:9\n"
                                  "        percent: 50\n"
                                  "        sample_by: header:x-user\n"
                                  "  - name: rest\n"
                                  "    match:\n"
                                  "      methods: [GET, POST]\n"
                                  "    mirrors:\n"
                                  "      - url: http://mirror.invalid-test:9\n";

enum { API, REST };

struct harness {
    struct ev_loop *loop;
    struct stats_registry *reg;
    struct mirror_runtime *rt;
    struct body_parts *parts;
    struct mirror_engine *e;
    struct logger log;
};

static const struct body_parts_settings parts_set = {
    .max_entries = 8,
    .max_bytes = 4 * MAX_REQUEST,
    .max_body_bytes = 2 * MAX_REQUEST,
    .timeout_ms = 60000,
};

static struct harness *h_new(void)
{
    struct harness *h = calloc(1, sizeof(*h));
    ck_assert_ptr_nonnull(h);
    struct config cfg;
    struct config_errors errs = {0};
    config_defaults(&cfg);
    ck_assert_msg(config_load_string(&cfg, config_yaml, strlen(config_yaml), "engine.yaml", &errs), "%s",
                  errs.count ? errs.items[0] : "");
    config_errors_free(&errs);
    h->log = (struct logger){.level = LOG_LVL_ERROR, .fd = 2};
    h->loop = ev_loop_new(EVFLAG_AUTO);
    ck_assert_ptr_nonnull(h->loop);
    h->reg = stats_registry_new(1);
    h->rt = mirror_runtime_new(&cfg, h->reg, NULL, 1);
    h->parts = body_parts_new(&parts_set);
    h->e = mirror_engine_new(h->loop, h->rt, 0, &h->log, 42, 4 * MAX_REQUEST, h->parts);
    ck_assert_ptr_eq(mirror_engine_runtime(h->e), h->rt);
    return h;
}

static void h_free(struct harness *h)
{
    mirror_engine_free(h->e);
    body_parts_free(h->parts);
    mirror_runtime_free(h->rt);
    stats_registry_free(h->reg);
    ev_loop_destroy(h->loop);
    free(h);
}

static struct mirror_counters *mctr(struct harness *h, size_t r, size_t i)
{
    return &h->rt->routes[r][i].ctr[0];
}

static struct route_counters *rctr(struct harness *h, size_t r)
{
    return &h->rt->route_ctr[r][0];
}

#define GET(c) counter_get(&(c))

/* ---- NOTIFYs ---- */

/* A request as the `mirror` message carries it. */
struct req_spec {
    const char *method, *path, *host;
    const char *const *headers; /* NULL-terminated name/value pairs */
    const char *body;
    long body_size; /* -1: the body's length; -2: no body_size argument */
    const char *route;
    const char *id;      /* NULL: no `id` argument */
    const char *message; /* NULL: "mirror" */
    bool path_as_int;    /* `path` with a wrong type */
};

struct notify_buf {
    uint8_t hdrs[1024];
    uint8_t msg[MAX_REQUEST * 6];
    struct spop_notify n;
};

static void put_str_arg(struct spop_writer *w, const char *name, const char *value)
{
    spop_put_name(w, name, strlen(name));
    spop_put_str(w, value, strlen(value));
}

/* Builds the NOTIFY of <r> into *nb (which must outlive its use). */
static const struct spop_notify *notify(struct notify_buf *nb, const struct req_spec *r)
{
    struct spop_writer hw;
    spop_writer_init(&hw, nb->hdrs, sizeof(nb->hdrs));
    for (size_t i = 0; r->headers && r->headers[i]; i += 2) {
        spop_put_name(&hw, r->headers[i], strlen(r->headers[i]));
        spop_put_name(&hw, r->headers[i + 1], strlen(r->headers[i + 1]));
    }
    spop_put_u8(&hw, 0);
    spop_put_u8(&hw, 0);
    ck_assert(!hw.failed);

    const char *body = r->body ? r->body : "";
    struct spop_writer w;
    spop_writer_init(&w, nb->msg, sizeof(nb->msg));
    const char *name = r->message ? r->message : "mirror";
    spop_put_name(&w, name, strlen(name));
    spop_put_u8(&w, (uint8_t)(6 + (r->body_size != -2) + (r->route != NULL) + (r->id != NULL)));
    put_str_arg(&w, "method", r->method);
    if (r->path_as_int) {
        spop_put_name(&w, "path", 4);
        spop_put_uint(&w, 1);
    } else {
        put_str_arg(&w, "path", r->path);
    }
    put_str_arg(&w, "host", r->host);
    put_str_arg(&w, "ver", "1.1");
    struct spop_data d = {.type = SPOP_DATA_T_BIN, .u.bytes = {nb->hdrs, hw.len}};
    spop_put_name(&w, "hdrs", 4);
    spop_put_data(&w, &d);
    d = (struct spop_data){.type = SPOP_DATA_T_BIN, .u.bytes = {(const uint8_t *)body, strlen(body)}};
    spop_put_name(&w, "body", 4);
    spop_put_data(&w, &d);
    if (r->body_size != -2) {
        spop_put_name(&w, "body_size", 9);
        spop_put_uint(&w, r->body_size == -1 ? strlen(body) : (uint64_t)r->body_size);
    }
    if (r->route)
        put_str_arg(&w, "route", r->route);
    if (r->id)
        put_str_arg(&w, "id", r->id);
    ck_assert(!w.failed);
    nb->n = (struct spop_notify){.stream_id = 1, .frame_id = 1, .messages = nb->msg, .messages_len = w.len};
    return &nb->n;
}

static struct req_spec api_get(void)
{
    return (struct req_spec){
        .method = "GET", .path = "/v1/items", .host = "api.example.com", .body_size = -1};
}

/* decide() on <r>; the NOTIFY stays in *nb for a submit(). */
static struct mirror_decision decide(struct harness *h, struct notify_buf *nb, const struct req_spec *r)
{
    struct mirror_decision d;
    mirror_engine_decide(h->e, notify(nb, r), &d);
    return d;
}

/* ---- decide ---- */

START_TEST(test_decide_route_by_match)
{
    struct harness *h = h_new();
    struct notify_buf nb;
    struct req_spec r = api_get();
    struct mirror_decision d = decide(h, &nb, &r);
    ck_assert(d.has_args);
    ck_assert(d.mirrored);
    ck_assert_uint_eq(d.route, API);
    ck_assert(spop_bytes_eq(d.args.path, "/v1/items"));
    /* 0: 100%, 1: 0%, 2: within its rate; 3: by the (absent) header's hash. */
    ck_assert(d.targets & 1);
    ck_assert(!(d.targets & 2));
    ck_assert(d.targets & 4);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].notifies), 1);
    ck_assert_uint_eq(GET(rctr(h, API)->requests), 1);
    ck_assert_uint_eq(GET(rctr(h, API)->mirrored), 1);
    ck_assert_uint_eq(GET(mctr(h, API, 0)->sampled), 1);
    ck_assert_uint_eq(GET(mctr(h, API, 1)->not_sampled), 1);
    ck_assert_uint_eq(GET(mctr(h, API, 1)->sampled), 0);
    ck_assert_uint_eq(GET(mctr(h, API, 2)->sampled), 1);

    /* Another host, or a path outside the prefix: route "rest". */
    r.host = "www.example.com";
    d = decide(h, &nb, &r);
    ck_assert_uint_eq(d.route, REST);
    ck_assert_uint_eq(d.targets, 1);
    r = api_get();
    r.path = "/v2/items";
    d = decide(h, &nb, &r);
    ck_assert_uint_eq(d.route, REST);
    ck_assert_uint_eq(GET(rctr(h, REST)->requests), 2);
    ck_assert_uint_eq(GET(rctr(h, REST)->mirrored), 2);
    ck_assert_uint_eq(GET(mctr(h, REST, 0)->sampled), 2);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].notifies), 3);
    h_free(h);
}
END_TEST

START_TEST(test_decide_route_by_argument)
{
    struct harness *h = h_new();
    struct notify_buf nb;
    struct req_spec r = api_get();
    r.route = "rest";
    struct mirror_decision d = decide(h, &nb, &r);
    ck_assert(d.mirrored);
    ck_assert_uint_eq(d.route, REST);
    r.route = "nope";
    d = decide(h, &nb, &r);
    ck_assert(d.has_args);
    ck_assert(!d.mirrored);
    ck_assert_uint_eq(d.targets, 0);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].unknown_route), 1);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].no_route), 0);
    ck_assert_uint_eq(GET(rctr(h, API)->requests), 0);
    h_free(h);
}
END_TEST

START_TEST(test_decide_no_route)
{
    struct harness *h = h_new();
    struct notify_buf nb;
    struct req_spec r = api_get();
    r.method = "PUT";
    r.host = "www.example.com";
    struct mirror_decision d = decide(h, &nb, &r);
    ck_assert(d.has_args);
    ck_assert(!d.mirrored);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].no_route), 1);
    ck_assert_uint_eq(GET(rctr(h, API)->requests) + GET(rctr(h, REST)->requests), 0);
    h_free(h);
}
END_TEST

START_TEST(test_decide_unusable_notify)
{
    struct harness *h = h_new();
    struct notify_buf nb;
    struct req_spec r = api_get();
    r.message = "other";
    struct mirror_decision d = decide(h, &nb, &r);
    ck_assert(!d.has_args && !d.mirrored);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].no_message), 1);

    r = api_get();
    r.body_size = -2;
    d = decide(h, &nb, &r);
    ck_assert(!d.has_args && !d.mirrored);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].bad_args[MIRROR_ARGS_MISSING]), 1);

    r = api_get();
    r.path_as_int = true;
    d = decide(h, &nb, &r);
    ck_assert(!d.has_args && !d.mirrored);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].bad_args[MIRROR_ARGS_WRONG_TYPE]), 1);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].notifies), 3);
    ck_assert_uint_eq(GET(rctr(h, API)->requests), 0);
    h_free(h);
}
END_TEST

/* 100% takes every request, 0% none, whatever the draws. */
START_TEST(test_sampling_all_or_nothing)
{
    struct harness *h = h_new();
    struct notify_buf nb;
    struct req_spec r = api_get();
    for (int i = 0; i < 1000; i++) {
        struct mirror_decision d = decide(h, &nb, &r);
        ck_assert(d.targets & 1);
        ck_assert(!(d.targets & 2));
    }
    ck_assert_uint_eq(GET(mctr(h, API, 0)->sampled), 1000);
    ck_assert_uint_eq(GET(mctr(h, API, 0)->not_sampled), 0);
    ck_assert_uint_eq(GET(mctr(h, API, 1)->sampled), 0);
    ck_assert_uint_eq(GET(mctr(h, API, 1)->not_sampled), 1000);
    ck_assert_uint_eq(GET(rctr(h, API)->mirrored), 1000);
    h_free(h);
}
END_TEST

/* By a header's hash: one value always gets the same decision; about half
 * of the values are taken. */
START_TEST(test_sampling_by_header)
{
    struct harness *h = h_new();
    struct notify_buf nb;
    unsigned taken = 0;
    for (int u = 0; u < 200; u++) {
        char user[32];
        snprintf(user, sizeof(user), "user-%d", u);
        const char *hdrs[] = {"x-user", user, NULL};
        struct req_spec r = api_get();
        r.headers = hdrs;
        bool first = decide(h, &nb, &r).targets & 8;
        for (int k = 0; k < 3; k++)
            ck_assert(((decide(h, &nb, &r).targets & 8) != 0) == first);
        taken += first;
    }
    ck_assert_uint_ge(taken, 70);
    ck_assert_uint_le(taken, 130);
    ck_assert_uint_eq(GET(mctr(h, API, 3)->sampled), 4 * taken);
    ck_assert_uint_eq(GET(mctr(h, API, 3)->sampled_by_key), 800);
    ck_assert_uint_eq(GET(mctr(h, API, 3)->sampled) + GET(mctr(h, API, 3)->not_sampled), 800);
    h_free(h);
}
END_TEST

/* max_rps is counted by the engine, before any client: rate_limited. */
START_TEST(test_rate_limited)
{
    struct harness *h = h_new();
    struct notify_buf nb;
    struct req_spec r = api_get();
    ck_assert(decide(h, &nb, &r).targets & 4);
    for (int i = 0; i < 10; i++) {
        struct mirror_decision d = decide(h, &nb, &r);
        ck_assert(!(d.targets & 4));
        ck_assert(d.targets & 1); /* the others go on */
    }
    ck_assert_uint_eq(GET(mctr(h, API, 2)->sampled), 11);
    ck_assert_uint_eq(GET(mctr(h, API, 2)->dropped[MIRROR_DROP_RATE_LIMITED]), 10);
    ck_assert_uint_eq(GET(mctr(h, API, 0)->dropped[MIRROR_DROP_RATE_LIMITED]), 0);
    h_free(h);
}
END_TEST

/* A body HAProxy cut short is never sent: skipped, and not mirrored at all. */
START_TEST(test_truncated_body)
{
    struct harness *h = h_new();
    struct notify_buf nb;
    struct req_spec r = api_get();
    r.method = "POST";
    r.body = "part";
    r.body_size = 100;
    struct mirror_decision d = decide(h, &nb, &r);
    ck_assert(d.has_args);
    ck_assert(!d.mirrored);
    ck_assert_uint_eq(d.targets, 0);
    ck_assert_uint_eq(GET(mctr(h, API, 0)->sampled), 1);
    ck_assert_uint_eq(GET(mctr(h, API, 0)->skipped[MIRROR_SKIP_BODY_TRUNCATED]), 1);
    ck_assert_uint_eq(GET(rctr(h, API)->requests), 1);
    ck_assert_uint_eq(GET(rctr(h, API)->mirrored), 0);
    h_free(h);
}
END_TEST

/* A gRPC body HAProxy cut (no Content-Length: body_size is what it buffered,
 * or 0 on 3.x) is told by its messages' length prefixes: not mirrored. The
 * same bytes under another content type are mirrored. */
START_TEST(test_grpc_body_cut)
{
    static const char *const grpc[] = {"content-type", "application/grpc", "te", "trailers", NULL};
    static const char *const json[] = {"content-type", "application/json", NULL};
    struct harness *h = h_new();
    struct notify_buf nb;
    struct req_spec r = api_get();
    r.method = "POST";
    r.headers = grpc;
    r.body = "\x01\x01\x01\x01\x01"
             "abc"; /* a compressed message announcing 16 MiB */
    for (int i = 0; i < 2; i++) {
        r.body_size = i == 0 ? -1 : 0; /* as 2.6, then as 3.4 report it */
        struct mirror_decision d = decide(h, &nb, &r);
        ck_assert(d.has_args);
        ck_assert(!d.mirrored);
        ck_assert_uint_eq(d.targets, 0);
    }
    ck_assert_uint_eq(GET(mctr(h, API, 0)->skipped[MIRROR_SKIP_BODY_TRUNCATED]), 2);
    r.headers = json;
    struct mirror_decision d = decide(h, &nb, &r);
    ck_assert(d.mirrored);
    ck_assert_uint_eq(GET(mctr(h, API, 0)->skipped[MIRROR_SKIP_BODY_TRUNCATED]), 2);
    h_free(h);
}
END_TEST

/* ---- submit ---- */

/* An unresolved mirror: submit() reaches its client, which drops the copy
 * as connect_error at once; nothing stays in flight. */
START_TEST(test_submit_unresolved)
{
    struct harness *h = h_new();
    struct notify_buf nb;
    struct req_spec r = api_get();
    struct mirror_decision d = decide(h, &nb, &r);
    mirror_engine_submit(h->e, &nb.n, &d);
    ck_assert_uint_eq(GET(mctr(h, API, 0)->dropped[MIRROR_DROP_CONNECT_ERROR]), 1);
    ck_assert_uint_eq(GET(mctr(h, API, 0)->connect_failures), 1);
    ck_assert_uint_eq(GET(mctr(h, API, 2)->dropped[MIRROR_DROP_CONNECT_ERROR]), 1);
    ck_assert_uint_eq(GET(mctr(h, API, 1)->dropped[MIRROR_DROP_CONNECT_ERROR]), 0); /* not sampled */
    ck_assert(!mirror_engine_busy(h->e));

    /* Nothing targeted: nothing submitted. */
    d.targets = 0;
    mirror_engine_submit(h->e, &nb.n, &d);
    ck_assert_uint_eq(GET(mctr(h, API, 0)->dropped[MIRROR_DROP_CONNECT_ERROR]), 1);
    h_free(h);
}
END_TEST

/* A copy that cannot be shaped is skipped by reason, before any client. */
START_TEST(test_submit_unshapable)
{
    struct harness *h = h_new();
    struct notify_buf nb;
    struct req_spec r = api_get();
    r.method = "G T";
    r.route = "rest";
    struct mirror_decision d = decide(h, &nb, &r);
    ck_assert(d.mirrored);
    mirror_engine_submit(h->e, &nb.n, &d);
    ck_assert_uint_eq(GET(mctr(h, REST, 0)->skipped[MIRROR_SKIP_BAD_REQUEST]), 1);
    ck_assert_uint_eq(GET(mctr(h, REST, 0)->connect_failures), 0);

    static char big[4 * MAX_REQUEST + 1];
    memset(big, 'x', 4 * MAX_REQUEST);
    r = api_get();
    r.method = "POST";
    r.route = "rest";
    r.body = big;
    d = decide(h, &nb, &r);
    mirror_engine_submit(h->e, &nb.n, &d);
    ck_assert_uint_eq(GET(mctr(h, REST, 0)->skipped[MIRROR_SKIP_TOO_LARGE]), 1);
    ck_assert_uint_eq(GET(mctr(h, REST, 0)->connect_failures), 0);
    h_free(h);
}
END_TEST

/* A listening socket on loopback, and mirror <i> of route API pointed at it. */
static int listen_for(struct harness *h, size_t i)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    struct target_addr *t = &h->rt->routes[API][i].addr;
    memcpy(&t->addrs[0], &sa, len);
    t->lens[0] = len;
    t->count = 1;
    return fd;
}

static void on_guard(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

/* Runs the loop until *<c> reaches <want> (at most about two seconds). */
static void run_until(struct harness *h, const counter_t *c, uint64_t want)
{
    ev_timer guard;
    ev_timer_init(&guard, on_guard, 0.01, 0.01);
    ev_timer_start(h->loop, &guard);
    for (int i = 0; i < 200 && counter_get(c) < want; i++)
        ev_run(h->loop, EVRUN_ONCE);
    ev_timer_stop(h->loop, &guard);
    ck_assert_uint_ge(counter_get(c), want);
}

/* Accepts the client's connection and reads one request head (no body). */
static int accept_request(int lfd, char *buf, size_t cap)
{
    int fd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    size_t len = 0;
    buf[0] = '\0';
    while (!strstr(buf, "\r\n\r\n")) {
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        ck_assert_int_gt(n, 0);
        len += (size_t)n;
        buf[len] = '\0';
    }
    return fd;
}

/* The copy reaches the mirror shaped for it; a HEAD's response ends at its
 * headers; what is in flight at free() is dropped as shutdown. */
START_TEST(test_submit_on_the_wire)
{
    struct harness *h = h_new();
    int lfd = listen_for(h, 0);
    struct notify_buf nb;
    const char *hdrs[] = {"accept", "*/*", NULL};
    struct req_spec r = api_get();
    r.method = "HEAD";
    r.headers = hdrs;
    struct mirror_decision d = decide(h, &nb, &r);
    d.targets = 1; /* mirror 0 only */
    mirror_engine_submit(h->e, &nb.n, &d);
    ck_assert(mirror_engine_busy(h->e));
    ck_assert_uint_eq(GET(mctr(h, API, 0)->inflight), 1);
    run_until(h, &mctr(h, API, 0)->sent, 1);

    char req[2048];
    int fd = accept_request(lfd, req, sizeof(req));
    ck_assert_msg(strncmp(req, "HEAD /base/v1/items HTTP/1.1\r\n", 30) == 0, "%s", req);
    ck_assert_msg(strstr(req, "\r\nHost: api.example.com-shadow\r\n"), "%s", req);
    ck_assert_msg(strstr(req, "\r\naccept: */*\r\n"), "%s", req);
    const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    ck_assert_int_eq(send(fd, resp, sizeof(resp) - 1, 0), (ssize_t)sizeof(resp) - 1);
    run_until(h, &mctr(h, API, 0)->responses[2], 1);
    ck_assert(!mirror_engine_busy(h->e));
    ck_assert_uint_eq(GET(mctr(h, API, 0)->connects), 1);

    /* The next copy goes out on the kept-alive connection, and is left
     * unanswered until the engine goes. */
    r.method = "GET";
    d = decide(h, &nb, &r);
    d.targets = 1;
    mirror_engine_submit(h->e, &nb.n, &d);
    run_until(h, &mctr(h, API, 0)->sent, 2);
    ck_assert_uint_eq(GET(mctr(h, API, 0)->reused), 1);
    ck_assert(mirror_engine_busy(h->e));
    struct mirror_counters *c0 = mctr(h, API, 0);
    mirror_engine_free(h->e);
    h->e = NULL;
    ck_assert_uint_eq(GET(c0->dropped[MIRROR_DROP_SHUTDOWN]), 1);
    ck_assert_uint_eq(GET(c0->inflight), 0);
    close(fd);
    close(lfd);
    h_free(h);
}
END_TEST

/* ---- bodies in slices ---- */

/* The body of the sliced requests: 3000 bytes of every value. */
#define SLICED_SIZE  3000
#define SLICED_FIRST 1000 /* what the `mirror` message carries */

static uint8_t sliced_body[SLICED_SIZE];

static void init_sliced_body(void)
{
    for (size_t i = 0; i < SLICED_SIZE; i++)
        sliced_body[i] = (uint8_t)(i * 7 + (i >> 8));
}

/* decide() on a NOTIFY carrying message <name> with the slice [off, off +
 * len) of sliced_body for request <id>; when <drop_arg> names an argument,
 * it is left out. Returns what the ACK says. */
static bool slice(struct harness *h, const char *name, const char *id, size_t off, size_t len,
                  const char *drop_arg)
{
    uint8_t msg[SLICED_SIZE + 256];
    struct spop_writer w;
    spop_writer_init(&w, msg, sizeof(msg));
    spop_put_name(&w, name, strlen(name));
    spop_put_u8(&w, drop_arg ? 3 : 4);
    if (!drop_arg || strcmp(drop_arg, "id") != 0)
        put_str_arg(&w, "id", id);
    if (!drop_arg || strcmp(drop_arg, "offset") != 0) {
        spop_put_name(&w, "offset", 6);
        spop_put_uint(&w, off);
    }
    if (!drop_arg || strcmp(drop_arg, "size") != 0) {
        spop_put_name(&w, "size", 4);
        spop_put_uint(&w, SLICED_SIZE);
    }
    if (!drop_arg || strcmp(drop_arg, "part") != 0) {
        struct spop_data d = {.type = SPOP_DATA_T_BIN, .u.bytes = {sliced_body + off, len}};
        spop_put_name(&w, "part", 4);
        spop_put_data(&w, &d);
    }
    ck_assert(!w.failed);
    struct spop_notify n = {.stream_id = 3, .frame_id = 1, .messages = msg, .messages_len = w.len};
    struct mirror_decision d;
    bool ack = mirror_engine_decide(h->e, &n, &d);
    ck_assert(!d.has_args && d.targets == 0);
    return ack;
}

/* The `mirror` message of the sliced request <id>: POST, the first
 * SLICED_FIRST bytes, body_size SLICED_SIZE. */
static struct req_spec sliced_post(const char *id)
{
    static char first[SLICED_FIRST + 1];
    memcpy(first, sliced_body, SLICED_FIRST);
    for (size_t i = 0; i < SLICED_FIRST; i++)
        first[i] = first[i] ? first[i] : 'z'; /* the spec's body is a C string */
    memcpy(sliced_body, first, SLICED_FIRST);
    return (struct req_spec){.method = "POST",
                             .path = "/v1/upload",
                             .host = "api.example.com",
                             .body = first,
                             .body_size = SLICED_SIZE,
                             .id = id};
}

static struct body_parts_stats parts_stats(struct harness *h)
{
    struct body_parts_stats st;
    body_parts_stats(h->parts, &st);
    return st;
}

/* Accepts the client's connection and reads one request with a body of
 * <body_len> bytes into <buf>; returns the length of its head. */
static size_t accept_with_body(int lfd, char *buf, size_t cap, size_t body_len)
{
    int fd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    size_t len = 0, head = 0;
    while (!head || len < head + body_len) {
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        ck_assert_int_gt(n, 0);
        len += (size_t)n;
        const char *end = memmem(buf, len, "\r\n\r\n", 4);
        if (end)
            head = (size_t)(end - buf) + 4;
    }
    ck_assert_uint_eq(len, head + body_len);
    close(fd);
    return head;
}

/* Slices stored before their ACKs (which say false), in any order, then the
 * `mirror` message: the copy carries the whole body, byte for byte. */
START_TEST(test_sliced_body_on_the_wire)
{
    init_sliced_body();
    struct harness *h = h_new();
    int lfd = listen_for(h, 0);
    struct req_spec r = sliced_post("req-1");
    ck_assert(!slice(h, BODY_PART_LAST_MESSAGE_NAME, "req-1", 2000, 1000, NULL));
    ck_assert(!slice(h, BODY_PART_MESSAGE_NAME, "req-1", SLICED_FIRST, 1000, NULL));
    ck_assert_uint_eq(parts_stats(h).entries, 1);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].no_message), 0);
    struct notify_buf nb;
    struct mirror_decision d = decide(h, &nb, &r);
    ck_assert(d.mirrored && d.body_parts);
    d.targets = 1; /* mirror 0 only */
    mirror_engine_submit(h->e, &nb.n, &d);
    struct body_parts_stats st = parts_stats(h);
    ck_assert_uint_eq(st.assembled, 1);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_uint_eq(st.bytes, 0);
    run_until(h, &mctr(h, API, 0)->sent, 1);

    static char req[SLICED_SIZE + 2048];
    size_t head = accept_with_body(lfd, req, sizeof(req), SLICED_SIZE);
    req[head - 1] = '\0';
    ck_assert_msg(strncmp(req, "POST /base/v1/upload HTTP/1.1\r\n", 31) == 0, "%s", req);
    ck_assert_msg(strstr(req, "\r\nContent-Length: 3000\r\n"), "%s", req);
    ck_assert_mem_eq(req + head, sliced_body, SLICED_SIZE);
    close(lfd);
    h_free(h);
}
END_TEST

/* A gap, or no slice at all: never mirrored, counted as body_truncated,
 * and the slices held are counted as incomplete. */
START_TEST(test_sliced_body_incomplete)
{
    init_sliced_body();
    struct harness *h = h_new();
    struct req_spec r = sliced_post("req-2");
    slice(h, BODY_PART_MESSAGE_NAME, "req-2", SLICED_FIRST, 1000, NULL);
    slice(h, BODY_PART_LAST_MESSAGE_NAME, "req-2", 2001, 999, NULL);
    struct notify_buf nb;
    struct mirror_decision d = decide(h, &nb, &r);
    ck_assert(!d.mirrored && !d.body_parts);
    ck_assert_uint_eq(GET(mctr(h, API, 0)->skipped[MIRROR_SKIP_BODY_TRUNCATED]), 1);
    struct body_parts_stats st = parts_stats(h);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_INCOMPLETE], 2);
    ck_assert_uint_eq(st.entries, 0);

    r = sliced_post("req-3"); /* no slice came */
    d = decide(h, &nb, &r);
    ck_assert(!d.mirrored);
    ck_assert_uint_eq(GET(mctr(h, API, 0)->skipped[MIRROR_SKIP_BODY_TRUNCATED]), 2);
    r.id = NULL; /* no id to look them up by */
    slice(h, BODY_PART_MESSAGE_NAME, "req-3", SLICED_FIRST, 2000, NULL);
    d = decide(h, &nb, &r);
    ck_assert(!d.mirrored);
    ck_assert_uint_eq(parts_stats(h).entries, 1); /* left for the expiry */
    h_free(h);
}
END_TEST

/* Slices of a request nobody mirrors are discarded at once (unused); a
 * request whose body is whole in its NOTIFY leaves the store alone. */
START_TEST(test_sliced_body_unused)
{
    init_sliced_body();
    struct harness *h = h_new();
    struct req_spec r = sliced_post("req-4");
    r.host = "www.example.com";
    r.method = "PUT"; /* no route */
    slice(h, BODY_PART_MESSAGE_NAME, "req-4", SLICED_FIRST, 2000, NULL);
    struct notify_buf nb;
    struct mirror_decision d = decide(h, &nb, &r);
    ck_assert(!d.mirrored && !d.body_parts);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].no_route), 1);
    struct body_parts_stats st = parts_stats(h);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_UNUSED], 1);
    ck_assert_uint_eq(st.entries, 0);

    r = api_get();
    r.method = "POST";
    r.body = "whole";
    r.id = "req-5";
    d = decide(h, &nb, &r);
    ck_assert(d.mirrored && !d.body_parts);
    struct body_parts_stats after = parts_stats(h);
    ck_assert_mem_eq(&after, &st, sizeof(st));
    h_free(h);
}
END_TEST

/* A slice with an argument missing is refused (bad_args); without a store,
 * a slice message is a NOTIFY without a `mirror` message. */
START_TEST(test_sliced_body_bad_args)
{
    init_sliced_body();
    struct harness *h = h_new();
    static const char *const args[] = {"id", "offset", "size", "part"};
    for (size_t i = 0; i < 4; i++)
        ck_assert(!slice(h, BODY_PART_MESSAGE_NAME, "req-6", SLICED_FIRST, 10, args[i]));
    struct body_parts_stats st = parts_stats(h);
    ck_assert_uint_eq(st.received, 4);
    ck_assert_uint_eq(st.dropped[BODY_PARTS_DROP_BAD_ARGS], 4);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].no_message), 0);

    mirror_engine_free(h->e);
    h->e = mirror_engine_new(h->loop, h->rt, 0, &h->log, 42, MAX_REQUEST, NULL);
    slice(h, BODY_PART_MESSAGE_NAME, "req-7", SLICED_FIRST, 10, NULL);
    ck_assert_uint_eq(GET(h->rt->engine_ctr[0].no_message), 1);
    ck_assert_uint_eq(parts_stats(h).received, 4);
    h_free(h);
}
END_TEST

Suite *mirror_engine_suite(void);
Suite *mirror_engine_suite(void)
{
    Suite *s = suite_create("mirror_engine");
    TCase *tc = tcase_create("decide");
    tcase_add_test(tc, test_decide_route_by_match);
    tcase_add_test(tc, test_decide_route_by_argument);
    tcase_add_test(tc, test_decide_no_route);
    tcase_add_test(tc, test_decide_unusable_notify);
    tcase_add_test(tc, test_sampling_all_or_nothing);
    tcase_add_test(tc, test_sampling_by_header);
    tcase_add_test(tc, test_rate_limited);
    tcase_add_test(tc, test_truncated_body);
    tcase_add_test(tc, test_grpc_body_cut);
    suite_add_tcase(s, tc);
    tc = tcase_create("submit");
    tcase_add_test(tc, test_submit_unresolved);
    tcase_add_test(tc, test_submit_unshapable);
    tcase_add_test(tc, test_submit_on_the_wire);
    suite_add_tcase(s, tc);
    tc = tcase_create("sliced");
    tcase_add_test(tc, test_sliced_body_on_the_wire);
    tcase_add_test(tc, test_sliced_body_incomplete);
    tcase_add_test(tc, test_sliced_body_unused);
    tcase_add_test(tc, test_sliced_body_bad_args);
    suite_add_tcase(s, tc);
    return s;
}
