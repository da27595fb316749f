/* Unit tests for route choice and sampling (route_policy.h): route selection,
 * host patterns, sampling rates and precision, keyed sampling across agents,
 * cookie parsing and the generator. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror/route_policy.h"
#include "spop/spop_data.h"

#define HDRS_CAP 4096

/* A request built in a test: its arguments and the storage of its header block. */
struct req {
    struct mirror_args a;
    uint8_t hdrs[HDRS_CAP];
};

/* Fills *r with a request; <pairs> is a NULL-terminated list of header
 * name/value strings, encoded as a req.hdrs_bin block. */
static void req_build(struct req *r, const char *method, const char *path, const char *host,
                      const char *const *pairs)
{
    memset(r, 0, sizeof(*r));
    struct spop_writer w;
    spop_writer_init(&w, r->hdrs, sizeof(r->hdrs));
    for (size_t i = 0; pairs != NULL && pairs[i] != NULL; i += 2) {
        spop_put_name(&w, pairs[i], strlen(pairs[i]));
        spop_put_name(&w, pairs[i + 1], strlen(pairs[i + 1]));
    }
    spop_put_name(&w, "", 0);
    spop_put_name(&w, "", 0);
    ck_assert(!w.failed);
    r->a.method = (struct spop_bytes){(const uint8_t *)method, strlen(method)};
    r->a.path = (struct spop_bytes){(const uint8_t *)path, strlen(path)};
    r->a.host = (struct spop_bytes){(const uint8_t *)host, strlen(host)};
    r->a.ver = (struct spop_bytes){(const uint8_t *)"1.1", 3};
    r->a.hdrs = (struct spop_bytes){r->hdrs, w.len};
    r->a.body = (struct spop_bytes){(const uint8_t *)"", 0};
    r->a.src.type = 0;
}

static struct spop_bytes bytes_of(const char *s)
{
    return (struct spop_bytes){(const uint8_t *)s, strlen(s)};
}

/* ---- route selection ---- */

static char *api_hosts[] = {"api.example.com", "*.api.example.com"};
static char *api_methods[] = {"GET", "POST"};
static char *ported_hosts[] = {"httpbin:8000"};
static char *any_port_hosts[] = {"httpbin"};
static char *wild_hosts[] = {"*.example.com"};
static char *put_methods[] = {"PUT"};
static char *v6_hosts[] = {"[::1]"};

/* A config of seven routes, filled field by field (no loader involved). */
static void test_config(struct config *c, struct config_route *routes)
{
    memset(c, 0, sizeof(*c));
    memset(routes, 0, 7 * sizeof(*routes));
    routes[0] = (struct config_route){.name = "api",
                                      .hosts = api_hosts,
                                      .n_hosts = 2,
                                      .path_prefix = "/v1/",
                                      .methods = api_methods,
                                      .n_methods = 2};
    routes[1] = (struct config_route){.name = "ported", .hosts = ported_hosts, .n_hosts = 1};
    routes[2] = (struct config_route){.name = "any-port", .hosts = any_port_hosts, .n_hosts = 1};
    routes[3] = (struct config_route){.name = "wild", .hosts = wild_hosts, .n_hosts = 1, .path_prefix = "/w"};
    routes[4] = (struct config_route){.name = "static", .path_prefix = "/static/"};
    routes[5] = (struct config_route){.name = "put", .methods = put_methods, .n_methods = 1};
    routes[6] = (struct config_route){.name = "v6", .hosts = v6_hosts, .n_hosts = 1};
    c->routes = routes;
    c->n_routes = 7;
}

struct select_case {
    const char *route; /* the `route` argument, "" when absent */
    const char *method, *path, *host;
    int want;
};

static const struct select_case select_cases[] = {
    /* A named route wins over matching, even when its own match fails. */
    {"wild", "DELETE", "/nothing", "other.host", 3},
    {"static", "GET", "/v1/users", "api.example.com", 4},
    {"nope", "GET", "/v1/users", "api.example.com", -1},
    {"API", "GET", "/v1/users", "api.example.com", -1}, /* names are exact */
    /* All conditions of a route. */
    {"", "GET", "/v1/users", "api.example.com", 0},
    {"", "POST", "/v1/", "API.Example.COM:443", 0},
    {"", "GET", "/v1/users?id=3", "a.api.example.com", 0}, /* first match wins over "wild" */
    {"", "DELETE", "/v1/x", "api.example.com", -1},        /* method */
    {"", "get", "/v1/x", "api.example.com", -1},           /* methods are exact uppercase */
    {"", "GET", "/v2/x", "api.example.com", -1},           /* path prefix */
    {"", "GET", "/v1", "api.example.com", -1},             /* shorter than the prefix */
    {"", "PUT", "/v1/x", "api.example.com", 5},            /* falls through to "put" */
    /* Port rules. */
    {"", "GET", "/", "httpbin:8000", 1},
    {"", "GET", "/", "HTTPBIN:8000", 1},
    {"", "GET", "/", "httpbin:8001", 2},
    {"", "GET", "/", "httpbin", 2},
    {"", "GET", "/", "httpbin.default", -1},
    {"", "GET", "/", "[::1]:8000", 6},
    {"", "GET", "/", "[::1]", 6},
    /* Wildcards need at least one more character before ".suffix". */
    {"", "GET", "/wiki", "x.example.com", 3},
    {"", "GET", "/wiki", "x.y.example.com:8443", 3},
    {"", "GET", "/w", "example.com", -1},
    {"", "GET", "/w", ".example.com", -1},
    {"", "GET", "/w", "xexample.com", -1},
    /* Path prefixes are plain, case-sensitive prefixes of the path with query. */
    {"", "GET", "/static/app.js?v=2", "anything", 4},
    {"", "HEAD", "/static/", "anything", 4},
    {"", "GET", "/Static/app.js", "anything", -1},
    {"", "GET", "/static", "anything", -1},
    {"", "GET", "/", "", -1},
};
#define N_SELECT (sizeof(select_cases) / sizeof(select_cases[0]))

START_TEST(test_route_select)
{
    const struct select_case *t = &select_cases[_i];
    struct config c;
    struct config_route routes[7];
    test_config(&c, routes);
    struct req *r = malloc(sizeof(*r));
    req_build(r, t->method, t->path, t->host, NULL);
    r->a.route = bytes_of(t->route);
    int got = route_select(&c, &r->a);
    ck_assert_msg(got == t->want, "case %d (%s %s %s route=%s): got %d, want %d", _i, t->method, t->path,
                  t->host, t->route, got, t->want);
    if (t->route[0] == '\0' && t->want >= 0) {
        ck_assert(route_matches(&routes[t->want], &r->a));
        for (int i = 0; i < t->want; i++)
            ck_assert(!route_matches(&routes[i], &r->a));
    }
    free(r);
}
END_TEST

START_TEST(test_route_select_empty)
{
    struct config c;
    memset(&c, 0, sizeof(c));
    struct req *r = malloc(sizeof(*r));
    req_build(r, "GET", "/", "httpbin", NULL);
    ck_assert_int_eq(route_select(&c, &r->a), -1);
    r->a.route = bytes_of("default");
    ck_assert_int_eq(route_select(&c, &r->a), -1);

    /* A route without conditions matches everything. */
    struct config_route all = {.name = "default"};
    c.routes = &all;
    c.n_routes = 1;
    ck_assert_int_eq(route_select(&c, &r->a), 0);
    r->a.route = bytes_of("");
    ck_assert_int_eq(route_select(&c, &r->a), 0);
    free(r);
}
END_TEST

struct host_case {
    const char *pattern, *host;
    bool want;
};

static const struct host_case host_cases[] = {
    {"httpbin", "httpbin", true},
    {"httpbin", "HttpBin:80", true},
    {"httpbin", "httpbin2", false},
    {"httpbin", "httpbi", false},
    {"httpbin", "", false},
    {"httpbin:8000", "httpbin:8000", true},
    {"httpbin:8000", "httpbin", false},
    {"httpbin:8000", "httpbin:80", false},
    {"httpbin:80", "httpbin:8000", false},
    {"httpbin:8000", "other:8000", false},
    {"*.svc", "a.svc", true},
    {"*.svc", "a.b.SVC:1", true},
    {"*.svc", "svc", false},
    {"*.svc", ".svc", false},
    {"*.svc", "asvc", false},
    {"*.svc:80", "a.svc:80", true},
    {"*.svc:80", "a.svc:81", false},
    {"*.svc:80", "a.svc", false},
    {"*", "anything:1", true},
    {"*", "", true},
    {"[::1]", "[::1]:80", true},
    {"[::1]", "[::1]", true},
    {"[::1]:80", "[::1]:80", true},
    {"[::1]:80", "[::1]:81", false},
    {"[::1]:80", "[::1]", false},
    {"[::1]", "[::2]", false},
    {"10.0.0.1", "10.0.0.1:8080", true},
    {"10.0.0.1:8080", "10.0.0.1:8080", true},
    {"10.0.0.1", "10.0.0.10", false},
};
#define N_HOST (sizeof(host_cases) / sizeof(host_cases[0]))

START_TEST(test_host_matches)
{
    const struct host_case *t = &host_cases[_i];
    ck_assert_msg(host_matches(t->pattern, bytes_of(t->host)) == t->want, "pattern %s, host %s: want %d",
                  t->pattern, t->host, t->want);
}
END_TEST

/* ---- sampling ---- */

struct pick_case {
    uint64_t draw;
    uint32_t pm;
    bool want;
};

static const struct pick_case pick_cases[] = {
    {0, 0, false},
    {0, 1, true},
    {1, 1, false},
    {999999, 999999, false},
    {999999, 1000000, true},
    {1000000, 1, true}, /* 1000000 % 10^6 == 0 */
    {1999999, 999999, false},
    {UINT64_MAX, 1000000, true},
    {UINT64_MAX, 551615, false}, /* UINT64_MAX % 10^6 == 551615 */
    {UINT64_MAX, 551616, true},
    {UINT64_MAX, 0, false},
};
#define N_PICK (sizeof(pick_cases) / sizeof(pick_cases[0]))

START_TEST(test_sample_pick)
{
    const struct pick_case *t = &pick_cases[_i];
    ck_assert_msg(sample_pick(t->draw, t->pm) == t->want, "draw %llu pm %u", (unsigned long long)t->draw,
                  t->pm);
}
END_TEST

/* The percents of the statistical test, in millionths: 0, 0.0001, 1, 33.3333,
 * 50, 99.9999, 100. */
static const uint32_t stat_pms[] = {0, 1, 10000, 333333, 500000, 999999, 1000000};
#define N_STAT    (sizeof(stat_pms) / sizeof(stat_pms[0]))
#define STAT_N    1000000u
#define STAT_SEED 0x5eed5eed12345678ull

/* Allowed distance from the mean for <n> draws at probability <p>: 6 standard
 * deviations of the binomial, plus 10 so that tiny means (p = 1e-6: mean 1)
 * are not judged by a normal approximation that does not hold there. For a
 * correct sampler and any seed, the chance of failing one case is about the
 * two-sided normal tail at 6 sigma, 2e-9 (for mean 1, P(Poisson(1) >= 18) is
 * about 6e-17); with 5 random cases, below 1e-8 per run. */
static double tolerance(double n, double p)
{
    return 6.0 * sqrt(n * p * (1.0 - p)) + 10.0;
}

START_TEST(test_sample_rate)
{
    uint32_t pm = stat_pms[_i];
    struct rng r;
    rng_seed(&r, STAT_SEED ^ (uint64_t)_i);
    uint64_t hits = 0;
    for (uint32_t k = 0; k < STAT_N; k++)
        hits += sample_pick(rng_next(&r), pm);
    if (pm == 0) {
        ck_assert_uint_eq(hits, 0);
    } else if (pm == SAMPLE_SCALE) {
        ck_assert_uint_eq(hits, STAT_N);
    } else {
        double p = (double)pm / SAMPLE_SCALE, mean = STAT_N * p;
        double tol = tolerance(STAT_N, p);
        ck_assert_msg(fabs((double)hits - mean) <= tol, "pm %u: %llu hits, mean %.1f, tolerance %.1f", pm,
                      (unsigned long long)hits, mean, tol);
    }
}
END_TEST

/* Precision: over the draws 0..999999 (each residue once), exactly
 * <pm> are picked, so 0.0001% (pm = 1) picks exactly one. */
START_TEST(test_sample_sweep)
{
    uint32_t pm = stat_pms[_i];
    uint64_t hits = 0, first = UINT64_MAX;
    for (uint64_t d = 0; d < SAMPLE_SCALE; d++) {
        if (sample_pick(d, pm)) {
            hits++;
            if (first == UINT64_MAX)
                first = d;
        }
    }
    ck_assert_uint_eq(hits, pm);
    if (pm > 0)
        ck_assert_uint_eq(first, 0);
    /* The same sweep shifted by a multiple of the scale gives the same count. */
    uint64_t shifted = 0;
    for (uint64_t d = 0; d < SAMPLE_SCALE; d++)
        shifted += sample_pick(d + 7 * (uint64_t)SAMPLE_SCALE, pm);
    ck_assert_uint_eq(shifted, pm);
}
END_TEST

/* FNV-1a 64 reference values (the FNV authors' test suite). */
START_TEST(test_sample_hash)
{
    ck_assert_uint_eq(sample_hash((const uint8_t *)"", 0), 0xcbf29ce484222325ull);
    ck_assert_uint_eq(sample_hash((const uint8_t *)"a", 1), 0xaf63dc4c8601ec8cull);
    ck_assert_uint_eq(sample_hash((const uint8_t *)"foobar", 6), 0x85944171f73967e8ull);
    ck_assert_uint_ne(sample_hash((const uint8_t *)"ab", 2), sample_hash((const uint8_t *)"ba", 2));
}
END_TEST

/* splitmix64 reference outputs for seed 1234567, and determinism per seed. */
START_TEST(test_rng)
{
    static const uint64_t want[] = {6457827717110365317ull, 3203168211198807973ull, 9817491932198370423ull,
                                    4593380528125082431ull, 16408922859458223821ull};
    struct rng r;
    rng_seed(&r, 1234567);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_uint_eq(rng_next(&r), want[i]);

    struct rng a, b, c;
    rng_seed(&a, 42);
    rng_seed(&b, 42);
    rng_seed(&c, 43);
    unsigned same = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_next(&a);
        ck_assert_uint_eq(x, rng_next(&b));
        same += x == rng_next(&c);
    }
    ck_assert_uint_eq(same, 0);
}
END_TEST

static struct config_mirror keyed_mirror(enum sample_mode mode, char *key, uint32_t pm)
{
    struct config_mirror m;
    memset(&m, 0, sizeof(m));
    m.percent_millionths = pm;
    m.sample_by = mode;
    m.sample_key = key;
    return m;
}

#define N_USERS 10000

/* Two agents with independently seeded generators give every user the same
 * decision; the rate over users is right; a user sampled at 10% is also
 * sampled at 20% (subsets nest). */
START_TEST(test_sample_by_header)
{
    struct config_mirror m10 = keyed_mirror(SAMPLE_HEADER, "x-user", 100000);
    struct config_mirror m20 = keyed_mirror(SAMPLE_HEADER, "x-user", 200000);
    struct rng agent_a, agent_b;
    rng_seed(&agent_a, 1);
    rng_seed(&agent_b, 0xfeedface);
    struct req *r = malloc(sizeof(*r));
    unsigned hits10 = 0, hits20 = 0;
    for (int u = 0; u < N_USERS; u++) {
        char user[32];
        snprintf(user, sizeof(user), "user-%d", u);
        const char *pairs[] = {"host", "httpbin", "x-user", user, "accept", "*/*", NULL};
        req_build(r, "GET", "/", "httpbin", pairs);
        bool used_a = false, used_b = false;
        bool da = mirror_sampled(&m10, &r->a, rng_next(&agent_a), &used_a);
        bool db = mirror_sampled(&m10, &r->a, rng_next(&agent_b), &used_b);
        ck_assert(used_a && used_b);
        ck_assert_msg(da == db, "%s: agents disagree", user);
        ck_assert(da == sample_pick(sample_hash((const uint8_t *)user, strlen(user)), 100000));
        bool d20 = mirror_sampled(&m20, &r->a, rng_next(&agent_a), NULL);
        ck_assert_msg(!da || d20, "%s: sampled at 10%% but not at 20%%", user);
        hits10 += da;
        hits20 += d20;
    }
    ck_assert_msg(fabs(hits10 - 0.1 * N_USERS) <= tolerance(N_USERS, 0.1), "10%%: %u of %d", hits10, N_USERS);
    ck_assert_msg(fabs(hits20 - 0.2 * N_USERS) <= tolerance(N_USERS, 0.2), "20%%: %u of %d", hits20, N_USERS);
    free(r);
}
END_TEST

/* Without the key (absent, or empty) the random draw decides. */
START_TEST(test_sample_by_header_missing)
{
    struct config_mirror m = keyed_mirror(SAMPLE_HEADER, "x-user", 500000);
    struct req *r = malloc(sizeof(*r));
    const char *without[] = {"host", "httpbin", "x-user-id", "7", NULL};
    const char *empty[] = {"host", "httpbin", "x-user", "", NULL};
    const char *const *cases[] = {without, empty};
    for (size_t i = 0; i < 2; i++) {
        req_build(r, "GET", "/", "httpbin", cases[i]);
        struct spop_bytes key;
        ck_assert(!sample_key(&m, &r->a, &key));
        bool used = true;
        ck_assert(mirror_sampled(&m, &r->a, 0, &used)); /* draw 0 < 50% */
        ck_assert(!used);
        used = true;
        ck_assert(!mirror_sampled(&m, &r->a, 999999, &used)); /* draw 999999 >= 50% */
        ck_assert(!used);
    }
    /* Random sampling ignores a header of the same name. */
    struct config_mirror rnd = keyed_mirror(SAMPLE_RANDOM, NULL, 500000);
    const char *with[] = {"x-user", "u1", NULL};
    req_build(r, "GET", "/", "httpbin", with);
    bool used = true;
    ck_assert(mirror_sampled(&rnd, &r->a, 1, &used));
    ck_assert(!used);
    ck_assert(!mirror_sampled(&rnd, &r->a, 500000, &used));
    free(r);
}
END_TEST

START_TEST(test_sample_by_cookie)
{
    struct config_mirror m = keyed_mirror(SAMPLE_COOKIE, "session", 300000);
    struct req *r = malloc(sizeof(*r));
    /* Looked up in every Cookie header. */
    const char *two[] = {"cookie", "a=1; b=2", "accept", "*/*", "cookie", "c=3; session=\"xyz\"", NULL};
    req_build(r, "GET", "/", "httpbin", two);
    struct spop_bytes key;
    ck_assert(sample_key(&m, &r->a, &key));
    ck_assert(spop_bytes_eq(key, "xyz"));
    bool used = false;
    bool want = sample_pick(sample_hash((const uint8_t *)"xyz", 3), 300000);
    ck_assert(mirror_sampled(&m, &r->a, 0, &used) == want);
    ck_assert(used);
    ck_assert(mirror_sampled(&m, &r->a, 999999, &used) == want);

    /* A header named like the cookie is not the cookie. */
    const char *hdr[] = {"session", "xyz", "cookie", "sessionid=1", NULL};
    req_build(r, "GET", "/", "httpbin", hdr);
    ck_assert(!sample_key(&m, &r->a, &key));
    ck_assert(mirror_sampled(&m, &r->a, 0, &used));
    ck_assert(!used);

    /* An empty value is no key. */
    const char *empty[] = {"cookie", "session=; a=1", NULL};
    req_build(r, "GET", "/", "httpbin", empty);
    ck_assert(!sample_key(&m, &r->a, &key));
    free(r);
}
END_TEST

struct cookie_case {
    const char *header, *name;
    bool found;
    const char *value;
};

static const struct cookie_case cookie_cases[] = {
    {"a=1; session=xyz; b=2", "session", true, "xyz"},
    {"session=xyz", "session", true, "xyz"},
    {"a=1;session=xyz", "session", true, "xyz"},
    {"a=1;  session = xyz ;b=2", "session", true, "xyz"},
    {"\tsession=\ttab\t", "session", true, "tab"},
    {"session=\"quoted\"", "session", true, "quoted"},
    {"session= \"q\" ", "session", true, "q"},
    {"session=\" in \"", "session", true, " in "},
    {"session=\"", "session", true, "\""},
    {"session=", "session", true, ""},
    {"session=a=b", "session", true, "a=b"},
    {";;; session=1 ;;", "session", true, "1"},
    {"a=1; session=first; session=second", "session", true, "first"},
    {"Session=xyz", "session", false, NULL},
    {"xsession=1; session_id=2", "session", false, NULL},
    {"a=session; b=2", "session", false, NULL},
    {"session", "session", false, NULL},
    {"", "session", false, NULL},
    {"a=1; b=2", "b", true, "2"},
};
#define N_COOKIE (sizeof(cookie_cases) / sizeof(cookie_cases[0]))

START_TEST(test_cookie_value)
{
    const struct cookie_case *t = &cookie_cases[_i];
    struct spop_bytes v = {NULL, 0};
    bool found = cookie_value(bytes_of(t->header), t->name, &v);
    ck_assert_msg(found == t->found, "'%s': found %d", t->header, found);
    if (found)
        ck_assert_msg(spop_bytes_eq(v, t->value), "'%s': got '%.*s', want '%s'", t->header, (int)v.len,
                      (const char *)v.ptr, t->value);
}
END_TEST

Suite *route_policy_suite(void);
Suite *route_policy_suite(void)
{
    Suite *s = suite_create("route_policy");
    TCase *tc = tcase_create("routes");
    tcase_add_loop_test(tc, test_route_select, 0, (int)N_SELECT);
    tcase_add_test(tc, test_route_select_empty);
    tcase_add_loop_test(tc, test_host_matches, 0, (int)N_HOST);
    suite_add_tcase(s, tc);

    tc = tcase_create("sampling");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_sample_pick, 0, (int)N_PICK);
    tcase_add_loop_test(tc, test_sample_rate, 0, (int)N_STAT);
    tcase_add_loop_test(tc, test_sample_sweep, 0, (int)N_STAT);
    tcase_add_test(tc, test_sample_hash);
    tcase_add_test(tc, test_rng);
    suite_add_tcase(s, tc);

    tc = tcase_create("keys");
    tcase_add_test(tc, test_sample_by_header);
    tcase_add_test(tc, test_sample_by_header_missing);
    tcase_add_test(tc, test_sample_by_cookie);
    tcase_add_loop_test(tc, test_cookie_value, 0, (int)N_COOKIE);
    suite_add_tcase(s, tc);
    return s;
}
