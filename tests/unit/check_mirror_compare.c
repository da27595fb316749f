/* Unit tests for the engine's comparison of answers (mirror_compare.h)
 * through the engine, with the mirror on a loopback listener: a request
 * with an id is compared (the ACK's compare variable), the mirror's answer
 * and the primary's (a mirror-response NOTIFY) meet in either order and get
 * a verdict (match with an ignored JSON path, body_differs, status_differs),
 * a request without id and a response for an unknown id are counted, and an
 * entry whose primary never came expires as unmatched at the owner's sweep
 * (not at a NOTIFY), a bounded batch per sweep. */
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
#include "compare/compare_json_shapes.h"
#include "config/config_load.h"
#include "mirror/mirror_compare.h"
#include "mirror/mirror_engine.h"
#include "mirror/mirror_runtime.h"
#include "mirror/stats_registry.h"
#include "spop/spop_data.h"
#include "spop/spop_proto.h"

static const char config_yaml[] = "routes:\n"
                                  "  - name: api\n"
                                  "    mirrors:\n"
                                  "      - url: http://127.0.0.1:9\n"
                                  "        compare:\n"
                                  "          body: json\n"
                                  "          ignore_json_paths: [$.ts]\n"
                                  "          match_timeout_ms: 200\n";

struct h {
    struct ev_loop *loop;
    struct stats_registry *reg;
    struct mirror_runtime *rt;
    struct mirror_engine *e;
    struct logger log;
    int lfd, fd;
    uint64_t copies; /* answered so far */
    uint8_t buf[4096];
    struct spop_notify n;
};

static struct h *h_new(void)
{
    struct h *h = calloc(1, sizeof(*h));
    ck_assert_ptr_nonnull(h);
    struct config cfg;
    struct config_errors errs = {0};
    config_defaults(&cfg);
    ck_assert(config_load_string(&cfg, config_yaml, strlen(config_yaml), "c.yaml", &errs));
    h->log = (struct logger){.level = LOG_LVL_ERROR, .fd = 2};
    h->loop = ev_loop_new(EVFLAG_AUTO);
    h->reg = stats_registry_new(1);
    h->rt = mirror_runtime_new(&cfg, h->reg, NULL, 1);
    h->e = mirror_engine_new(h->loop, h->rt, 0, &h->log, 7, 4096, NULL);
    h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    ck_assert_int_eq(bind(h->lfd, (struct sockaddr *)&sa, len), 0);
    ck_assert_int_eq(listen(h->lfd, 8), 0);
    ck_assert_int_eq(getsockname(h->lfd, (struct sockaddr *)&sa, &len), 0);
    struct target_addr *t = &h->rt->routes[0][0].addr;
    memcpy(&t->addrs[0], &sa, len);
    t->lens[0] = len;
    t->count = 1;
    h->fd = -1;
    return h;
}

static void h_free(struct h *h)
{
    mirror_engine_free(h->e);
    mirror_runtime_free(h->rt);
    stats_registry_free(h->reg);
    ev_loop_destroy(h->loop);
    if (h->fd >= 0)
        close(h->fd);
    close(h->lfd);
    free(h);
}

static void str_arg(struct spop_writer *w, const char *name, const char *value)
{
    spop_put_name(w, name, strlen(name));
    spop_put_str(w, value, strlen(value));
}

static void bin_arg(struct spop_writer *w, const char *name, const uint8_t *p, size_t n)
{
    struct spop_data d = {.type = SPOP_DATA_T_BIN, .u.bytes = {p, n}};
    spop_put_name(w, name, strlen(name));
    spop_put_data(w, &d);
}

static const uint8_t json_hdrs[] = {12,  'c', 'o', 'n', 't', 'e', 'n', 't', '-', 't', 'y',
                                    'p', 'e', 16,  'a', 'p', 'p', 'l', 'i', 'c', 'a', 't',
                                    'i', 'o', 'n', '/', 'j', 's', 'o', 'n', 0,   0};

/* decide() and submit() of a `mirror` NOTIFY with <id> (NULL: none). */
static struct mirror_decision request(struct h *h, const char *id)
{
    static const uint8_t no_hdrs[] = {0, 0};
    struct spop_writer w;
    spop_writer_init(&w, h->buf, sizeof(h->buf));
    spop_put_name(&w, "mirror", 6);
    spop_put_u8(&w, id ? 8 : 7);
    str_arg(&w, "method", "GET");
    str_arg(&w, "path", "/json");
    str_arg(&w, "host", "api");
    str_arg(&w, "ver", "1.1");
    bin_arg(&w, "hdrs", no_hdrs, sizeof(no_hdrs));
    bin_arg(&w, "body", NULL, 0);
    spop_put_name(&w, "body_size", 9);
    spop_put_uint(&w, 0);
    if (id)
        str_arg(&w, "id", id);
    ck_assert(!w.failed);
    h->n = (struct spop_notify){.stream_id = 1, .frame_id = 1, .messages = h->buf, .messages_len = w.len};
    struct mirror_decision d;
    mirror_engine_decide(h->e, &h->n, &d);
    mirror_engine_submit(h->e, &h->n, &d);
    return d;
}

/* decide() and submit() of the primary's `mirror-response` for <id>. */
static void response(struct h *h, const char *id, unsigned status, const char *body)
{
    struct spop_writer w;
    spop_writer_init(&w, h->buf, sizeof(h->buf));
    spop_put_name(&w, "mirror-response", 15);
    spop_put_u8(&w, 4);
    str_arg(&w, "id", id);
    spop_put_name(&w, "status", 6);
    spop_put_uint(&w, status);
    bin_arg(&w, "hdrs", json_hdrs, sizeof(json_hdrs));
    bin_arg(&w, "body", (const uint8_t *)body, strlen(body));
    ck_assert(!w.failed);
    h->n = (struct spop_notify){.stream_id = 2, .frame_id = 1, .messages = h->buf, .messages_len = w.len};
    struct mirror_decision d;
    ck_assert(!mirror_engine_decide(h->e, &h->n, &d));
    ck_assert(d.response);
    ck_assert(!mirror_engine_compared(&d));
    mirror_engine_submit(h->e, &h->n, &d);
}

static void on_guard(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

static void run_until(struct h *h, const counter_t *c, uint64_t want)
{
    ev_timer guard;
    ev_timer_init(&guard, on_guard, 0.01, 0.01);
    ev_timer_start(h->loop, &guard);
    for (int i = 0; i < 300 && counter_get(c) < want; i++)
        ev_run(h->loop, EVRUN_ONCE);
    ev_timer_stop(h->loop, &guard);
    ck_assert_uint_ge(counter_get(c), want);
}

/* The mirror reads one request and answers <status> with JSON <body>. */
static void shadow_answers(struct h *h, unsigned status, const char *body)
{
    struct mirror_counters *c = &h->rt->routes[0][0].ctr[0];
    run_until(h, &c->sent, ++h->copies);
    if (h->fd < 0) {
        h->fd = accept(h->lfd, NULL, NULL);
        ck_assert_int_ge(h->fd, 0);
        struct timeval tv = {.tv_sec = 2};
        setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    char req[2048];
    size_t len = 0;
    req[0] = '\0';
    while (!strstr(req, "\r\n\r\n")) {
        ssize_t n = recv(h->fd, req + len, sizeof(req) - 1 - len, 0);
        ck_assert_int_gt(n, 0);
        len += (size_t)n;
        req[len] = '\0';
    }
    char resp[1024];
    int n = snprintf(resp, sizeof(resp),
                     "HTTP/1.1 %u X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     status, strlen(body), body);
    ck_assert_int_eq(send(h->fd, resp, (size_t)n, 0), n);
    /* Until the body was read (the observer ends there, not at the headers). */
    ev_timer guard;
    ev_timer_init(&guard, on_guard, 0.01, 0.01);
    ev_timer_start(h->loop, &guard);
    for (int i = 0; i < 300 && mirror_engine_busy(h->e); i++)
        ev_run(h->loop, EVRUN_ONCE);
    ev_timer_stop(h->loop, &guard);
}

#define CMP(h, r) counter_get(&(h)->rt->routes[0][0].ctr[0].compared[r])
#define UNM(h, r) counter_get(&(h)->rt->routes[0][0].ctr[0].unmatched[r])

START_TEST(test_verdicts_through_the_engine)
{
    struct h *h = h_new();
    struct mirror_decision d = request(h, "r1");
    ck_assert(mirror_engine_compared(&d));
    shadow_answers(h, 200, "{\"a\":1,\"ts\":5}");
    response(h, "r1", 200, "{\"ts\":9,\"a\":1}");
    ck_assert_uint_eq(CMP(h, COMPARE_MATCH), 1);

    request(h, "r2");
    shadow_answers(h, 200, "{\"a\":2}");
    response(h, "r2", 200, "{\"a\":1}");
    ck_assert_uint_eq(CMP(h, COMPARE_BODY_DIFFERS), 1);

    /* The primary first, this time. */
    request(h, "r3");
    response(h, "r3", 200, "{\"a\":1}");
    ck_assert_uint_eq(CMP(h, COMPARE_STATUS_DIFFERS), 0);
    shadow_answers(h, 500, "{\"a\":1}");
    ck_assert_uint_eq(CMP(h, COMPARE_STATUS_DIFFERS), 1);

    /* A primary body of a shape seen before (r2's): derived from the
     * document the worker kept, not tokenized, and the same verdict. */
    struct compare_json_shapes *kept = h->rt->routes[0][0].shapes[0];
    ck_assert_uint_eq(kept->loaded, 2);
    ck_assert_uint_eq(kept->derived, 0);
    request(h, "r5");
    shadow_answers(h, 200, "{\"a\":4}");
    response(h, "r5", 200, "{\"a\":3}");
    ck_assert_uint_eq(CMP(h, COMPARE_BODY_DIFFERS), 2);
    ck_assert_uint_eq(kept->loaded, 2);
    ck_assert_uint_eq(kept->derived, 1);
    ck_assert_uint_eq(counter_get(&h->rt->routes[0][0].ctr[0].json_shape_hits), 1);
    ck_assert_uint_eq(counter_get(&h->rt->routes[0][0].ctr[0].json_shape_misses), 2);

    /* No id: mirrored, not compared. */
    d = request(h, NULL);
    ck_assert(d.mirrored && !mirror_engine_compared(&d));
    ck_assert_uint_eq(UNM(h, COMPARE_UNMATCHED_NO_ID), 1);
    shadow_answers(h, 200, "{}");

    /* A response nobody waits for. */
    response(h, "nobody", 200, "{}");
    ck_assert_uint_eq(counter_get(&h->rt->engine_ctr[0].response_unknown), 1);

    /* The primary never comes: unmatched once match_timeout_ms passed, at
     * the owner's sweep; a NOTIFY does not sweep. */
    request(h, "r4");
    shadow_answers(h, 200, "{}");
    usleep(250 * 1000);
    request(h, NULL);
    shadow_answers(h, 200, "{}");
    ck_assert_uint_eq(UNM(h, COMPARE_UNMATCHED_PRIMARY_MISSING), 0);
    ck_assert(!mirror_engine_sweep(h->e));
    ck_assert_uint_eq(UNM(h, COMPARE_UNMATCHED_PRIMARY_MISSING), 1);
    ck_assert_uint_eq(CMP(h, COMPARE_UNMATCHED), 3);
    ck_assert_uint_eq(CMP(h, COMPARE_MATCH), 1);
    h_free(h);
}
END_TEST

START_TEST(test_sweep_in_batches)
{
    /* More expired entries than one sweep takes: the first sweep finishes a
     * full batch and says more may wait, the second the rest; each entry
     * counted once, none before its time. */
    struct h *h = h_new();
    const size_t n = MIRROR_COMPARE_SWEEP_MAX + 6;
    for (size_t i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof(id), "b%zu", i);
        struct mirror_decision d = request(h, id);
        ck_assert(mirror_engine_compared(&d));
    }
    ck_assert(!mirror_engine_sweep(h->e));
    ck_assert_uint_eq(CMP(h, COMPARE_UNMATCHED), 0);
    usleep(250 * 1000);
    ck_assert(mirror_engine_sweep(h->e));
    ck_assert_uint_eq(UNM(h, COMPARE_UNMATCHED_PRIMARY_MISSING), MIRROR_COMPARE_SWEEP_MAX);
    ck_assert(!mirror_engine_sweep(h->e));
    ck_assert_uint_eq(UNM(h, COMPARE_UNMATCHED_PRIMARY_MISSING), n);
    ck_assert_uint_eq(CMP(h, COMPARE_UNMATCHED), n);
    ck_assert(!mirror_engine_sweep(h->e));
    ck_assert_uint_eq(CMP(h, COMPARE_UNMATCHED), n);
    h_free(h);
}
END_TEST

START_TEST(test_pending_counted_when_runtime_freed)
{
    /* A reload (or a stop) frees the runtime with requests still waiting
     * for their other side: drained first, each compared request gets
     * exactly one verdict, those still waiting counted as unmatched, in the
     * counters the registry keeps across reloads. */
    struct h *h = h_new();
    request(h, "p1");
    shadow_answers(h, 200, "{}"); /* the primary never comes */
    request(h, "p2");             /* neither side comes: the copy is never answered */
    request(h, "p3");
    response(h, "p3", 200, "{}"); /* the shadow's answer is still awaited */
    struct mirror_counters *c = &h->rt->routes[0][0].ctr[0];
    mirror_engine_free(h->e); /* copies in flight end as failed shadow sides */
    h->e = NULL;
    uint64_t before = 0, after = 0;
    for (int r = 0; r < COMPARE_RESULT_COUNT; r++)
        before += counter_get(&c->compared[r]);
    ck_assert_uint_lt(before, 3);
    ck_assert_uint_eq(counter_get(&c->unmatched[COMPARE_UNMATCHED_PRIMARY_MISSING]), 0);
    ck_assert_uint_gt(mirror_compare_drain(h->rt), 0);
    mirror_runtime_free(h->rt);
    h->rt = NULL;
    /* Counted in the release slot, [nworkers], which /metrics adds in. */
    const struct mirror_counters *rel = &c[1];
    for (int r = 0; r < COMPARE_RESULT_COUNT; r++)
        after += counter_get(&c->compared[r]) + counter_get(&rel->compared[r]);
    ck_assert_uint_eq(after, 3);
    ck_assert_uint_ge(counter_get(&rel->unmatched[COMPARE_UNMATCHED_PRIMARY_MISSING]), 1); /* p1 at least */
    h_free(h);
}
END_TEST

Suite *mirror_compare_suite(void);
Suite *mirror_compare_suite(void)
{
    Suite *s = suite_create("mirror_compare");
    TCase *tc = tcase_create("engine");
    tcase_add_test(tc, test_verdicts_through_the_engine);
    tcase_add_test(tc, test_sweep_in_batches);
    tcase_add_test(tc, test_pending_counted_when_runtime_freed);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
