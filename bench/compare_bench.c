/* What comparing costs the agent per compared request, on one thread: the
 * primary's side built from its message's headers and body, the shadow's
 * collected as the HTTP parser would hand it over, both put in the match
 * table, and the verdict (body as bytes, and as JSON with an ignored path).
 * Bodies of BODY_BYTES (default 1024) of JSON whose values differ at one
 * path. Thread CPU time per request; writes bench/results/compare-bench.json
 * and .md. Target: at most 5 us per compared request at 1 KB.
 *
 * Usage: compare_bench [ITERATIONS]   (environment: BODY_BYTES) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compare/compare_collect.h"
#include "compare/compare_rules.h"
#include "compare/compare_side.h"
#include "compare/compare_table.h"
#include "compare/compare_verdict.h"
#include "config/config.h"
#include "core/xalloc.h"

#define TARGET_NS 5000.0

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A JSON document of about <size> bytes: {"ts":<v>,"items":[{"id":i,"name":"item-i"},...]}. */
static char *make_body(size_t size, int variant)
{
    char *b = xmalloc(size + 128);
    size_t o = (size_t)sprintf(b, "{\"ts\":%d,\"items\":[", variant);
    for (int i = 0; o + 40 < size; i++)
        o += (size_t)sprintf(b + o, "%s{\"id\":%d,\"name\":\"item-%d\"}", i ? "," : "", i, i);
    sprintf(b + o, "]}");
    return b;
}

static const char *const hdrs[][2] = {
    {"Content-Type", "application/json"},
    {"Date", "Sun, 06 Dec 2026 10:00:00 GMT"},
    {"Server", "gunicorn"},
    {"Content-Length", "1024"},
    {"X-Request-Id", "abc"},
};
#define N_HDRS (sizeof(hdrs) / sizeof(hdrs[0]))

static double run(enum compare_body_mode mode, const char *pbody, const char *sbody, long iters, int *result)
{
    struct config_compare *cfg = config_compare_new();
    cfg->body = mode;
    if (mode == COMPARE_BODY_JSON) {
        cfg->ignore_json_paths = xcalloc(1, sizeof(char *));
        cfg->ignore_json_paths[0] = xstrdup("$.ts");
        cfg->n_ignore_json_paths = 1;
    }
    struct compare_rules *rules = compare_rules_new(cfg);
    struct compare_table *t = compare_table_new(1024, NULL);
    size_t plen = strlen(pbody), slen = strlen(sbody);
    double t0 = cpu_ns();
    for (long i = 0; i < iters; i++) {
        char id[32];
        int idlen = snprintf(id, sizeof(id), "req-%ld", i);
        compare_table_open(t, id, (size_t)idlen, 1, UINT64_MAX, NULL);
        /* The primary: every header and its whole body, from its message. */
        struct compare_side *p = compare_side_new((uint32_t)plen, true);
        p->status = 200;
        for (size_t h = 0; h < N_HDRS; h++)
            compare_side_add_header(p, hdrs[h][0], strlen(hdrs[h][0]), hdrs[h][1], strlen(hdrs[h][1]));
        compare_body_feed(&p->body, pbody, plen);
        compare_body_finish(&p->body);
        /* The shadow: as the parser reports it. */
        struct compare_side *s = compare_side_new(rules->max_body_bytes, mode == COMPARE_BODY_JSON);
        struct compare_collect col;
        compare_collect_init(&col, rules, s);
        compare_collect_begin(&col);
        for (size_t h = 0; h < N_HDRS; h++) {
            compare_collect_field(&col, hdrs[h][0], strlen(hdrs[h][0]));
            compare_collect_value(&col, hdrs[h][1], strlen(hdrs[h][1]));
        }
        compare_collect_headers_done(&col);
        compare_collect_body(&col, sbody, slen / 2);
        compare_collect_body(&col, sbody + slen / 2, slen - slen / 2);
        compare_body_finish(&s->body);
        s->status = 200;
        struct compare_entry *done = NULL;
        compare_table_put(t, id, (size_t)idlen, 0, s, &done);
        compare_table_put(t, id, (size_t)idlen, COMPARE_SLOT_PRIMARY, p, &done);
        struct compare_verdict v;
        compare_verdict_compute(rules, done->primary, done->shadows[0], NULL, NULL, NULL, &v);
        *result = (int)v.result;
        compare_entry_free(done);
    }
    double per = (cpu_ns() - t0) / (double)iters;
    compare_table_free(t);
    compare_rules_free(rules);
    config_compare_free(cfg);
    return per;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 20000;
    size_t size = getenv("BODY_BYTES") ? (size_t)atol(getenv("BODY_BYTES")) : 1024;
    char *pbody = make_body(size, 1), *sbody = make_body(size, 2);
    /* The shadow also differs at one item's name. */
    char *n = strstr(sbody, "item-3\"");
    if (n)
        n[5] = '9';
    int r_bytes, r_json;
    run(COMPARE_BODY_JSON, pbody, sbody, iters / 10 + 1, &r_json); /* warm-up */
    double bytes = run(COMPARE_BODY_BYTES, pbody, sbody, iters, &r_bytes);
    double json = run(COMPARE_BODY_JSON, pbody, sbody, iters, &r_json);
    printf("| body | compare | CPU per compared request | verdict | target |\n|---|---|---|---|---|\n");
    printf("| %zu B | bytes | %.2f us | %s | %s |\n", strlen(pbody), bytes / 1000,
           compare_result_str(r_bytes), bytes <= TARGET_NS ? "<= 5 us: met" : "> 5 us: missed");
    printf("| %zu B | json | %.2f us | %s | %s |\n", strlen(pbody), json / 1000, compare_result_str(r_json),
           json <= TARGET_NS ? "<= 5 us: met" : "> 5 us: missed");
    FILE *f = fopen("bench/results/compare-bench.json", "w");
    if (f) {
        fprintf(f,
                "{\"body_bytes\": %zu, \"iterations\": %ld, \"bytes_ns\": %.0f, \"json_ns\": %.0f, "
                "\"target_ns\": %.0f}\n",
                strlen(pbody), iters, bytes, json, TARGET_NS);
        fclose(f);
    }
    f = fopen("bench/results/compare-bench.md", "w");
    if (f) {
        fprintf(f, "# Comparison cost per compared request (one thread, CPU time)\n\n");
        fprintf(f, "| body | compare | CPU per compared request | target 5 us |\n|---|---|---|---|\n");
        fprintf(f, "| %zu B | bytes | %.2f us | %s |\n", strlen(pbody), bytes / 1000,
                bytes <= TARGET_NS ? "met" : "missed");
        fprintf(f, "| %zu B | json | %.2f us | %s |\n", strlen(pbody), json / 1000,
                json <= TARGET_NS ? "met" : "missed");
        fclose(f);
    }
    free(pbody);
    free(sbody);
    return 0;
}
