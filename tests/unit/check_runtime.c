/* Unit tests for the addresses of a configuration's mirrors
 * (mirror/target_addr.h, mirror/mirror_runtime.h, mirror/resolver.h): IP
 * literals need no resolver, a reload starts with the addresses the previous
 * configuration resolved for the hosts it keeps, the generation moves only
 * when the set of addresses changes, and the resolver thread resolves and
 * stops. A resolver stuck in getaddrinfo() is covered by
 * tests/integration/test_reload_dns.sh, which can make DNS hang. Also what
 * a compared mirror learned as noise, kept across a reload like counters. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare/compare_noise.h"
#include "config/config_load.h"
#include "core/clock.h"
#include "mirror/mirror_runtime.h"
#include "mirror/resolver.h"
#include "mirror/stats_registry.h"
#include "mirror/target_addr.h"
#include "test_util.h"

static struct mirror_runtime *runtime_of(const char *yaml, struct stats_registry *reg, uint64_t generation)
{
    struct config cfg;
    struct config_errors errs = {0};
    config_defaults(&cfg);
    ck_assert_msg(config_load_string(&cfg, yaml, strlen(yaml), "r.yaml", &errs), "%s",
                  errs.count ? errs.items[0] : "");
    config_errors_free(&errs);
    struct mirror_runtime *rt = mirror_runtime_new(&cfg, reg, NULL, generation);
    config_free(&cfg);
    return rt;
}

/* The IPv4 address and port target <t> picks next, as "a.b.c.d:port", or "" when none. */
static const char *picked(struct target_addr *t, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len;
    out[0] = '\0';
    if (!target_addr_pick(t, &ss, &len))
        return out;
    ck_assert_int_eq(ss.ss_family, AF_INET);
    const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
    char ip[INET_ADDRSTRLEN];
    ck_assert_ptr_nonnull(inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip)));
    snprintf(out, cap, "%s:%u", ip, ntohs(in->sin_port));
    return out;
}

static void store_ipv4(struct target_addr *t, const char *ip, uint16_t port)
{
    store_ipv4s(t, &ip, 1, port);
}

/* Whether <t> holds <ip>:<port> (target_addr_contains). */
static bool holds(struct target_addr *t, const char *ip, uint16_t port)
{
    struct sockaddr_in in = ipv4_sockaddr(ip, port);
    return target_addr_contains(t, (const struct sockaddr *)&in, sizeof(in));
}

START_TEST(test_numeric_literals)
{
    char buf[64];
    struct target_addr t;
    target_addr_init(&t, "127.0.0.9", 8081);
    ck_assert(target_addr_resolve_numeric(&t));
    ck_assert_str_eq(picked(&t, buf, sizeof(buf)), "127.0.0.9:8081");
    target_addr_destroy(&t);

    target_addr_init(&t, "::1", 80);
    ck_assert(target_addr_resolve_numeric(&t));
    ck_assert_int_eq(t.count, 1);
    ck_assert_int_eq(t.addrs[0].ss_family, AF_INET6);
    target_addr_destroy(&t);

    /* A host name is left to the resolver: nothing is asked of DNS here. */
    target_addr_init(&t, "shadow.invalid-test", 80);
    ck_assert(!target_addr_resolve_numeric(&t));
    ck_assert_int_eq(t.count, 0);
    ck_assert_str_eq(picked(&t, buf, sizeof(buf)), "");
    target_addr_destroy(&t);
}
END_TEST

START_TEST(test_copy)
{
    char buf[64];
    struct target_addr a, b;
    target_addr_init(&a, "shadow-a", 8000);
    target_addr_init(&b, "shadow-a", 8000);
    ck_assert(!target_addr_copy(&b, &a)); /* nothing to copy yet */
    store_ipv4(&a, "10.0.0.7", 8000);
    ck_assert(target_addr_copy(&b, &a));
    ck_assert_str_eq(picked(&b, buf, sizeof(buf)), "10.0.0.7:8000");
    target_addr_destroy(&a);
    target_addr_destroy(&b);
}
END_TEST

/* The generation moves when the set of addresses changes, and only then: not
 * for the same set stored again, nor for its addresses in another order. */
START_TEST(test_generation)
{
    static const char *const ab[] = {"10.0.0.1", "10.0.0.2"};
    static const char *const ba[] = {"10.0.0.2", "10.0.0.1"};
    static const char *const aa[] = {"10.0.0.1", "10.0.0.1"};
    struct target_addr t;
    target_addr_init(&t, "shadow-a", 8000);
    ck_assert_uint_eq(target_addr_generation(&t), 0);
    ck_assert(!holds(&t, "10.0.0.1", 8000)); /* nothing resolved yet */

    store_ipv4(&t, "10.0.0.1", 8000);
    ck_assert_uint_eq(target_addr_generation(&t), 1);
    ck_assert(holds(&t, "10.0.0.1", 8000));
    ck_assert(!holds(&t, "10.0.0.2", 8000));
    ck_assert(!holds(&t, "10.0.0.1", 8001)); /* the port is part of the address */
    store_ipv4(&t, "10.0.0.1", 8000);
    ck_assert_uint_eq(target_addr_generation(&t), 1);

    store_ipv4s(&t, ab, 2, 8000);
    ck_assert_uint_eq(target_addr_generation(&t), 2);
    store_ipv4s(&t, ba, 2, 8000);
    ck_assert_uint_eq(target_addr_generation(&t), 2);
    ck_assert(holds(&t, "10.0.0.1", 8000));
    ck_assert(holds(&t, "10.0.0.2", 8000));

    store_ipv4s(&t, aa, 2, 8000); /* as many addresses, one of them gone */
    ck_assert_uint_eq(target_addr_generation(&t), 3);
    ck_assert(!holds(&t, "10.0.0.2", 8000));
    store_ipv4(&t, "10.0.0.1", 8000); /* the same set, once */
    ck_assert_uint_eq(target_addr_generation(&t), 3);

    store_ipv4(&t, "10.0.0.1", 8001);
    ck_assert_uint_eq(target_addr_generation(&t), 4);
    ck_assert(!holds(&t, "10.0.0.1", 8000));

    /* A copy is a store like any other; an IP literal resolved again is no change. */
    struct target_addr u;
    target_addr_init(&u, "shadow-a", 8000);
    ck_assert(target_addr_copy(&u, &t));
    ck_assert(target_addr_copy(&u, &t));
    ck_assert_uint_eq(target_addr_generation(&u), 1);
    target_addr_destroy(&u);
    target_addr_init(&u, "10.0.0.9", 80);
    ck_assert(target_addr_resolve_numeric(&u));
    ck_assert(target_addr_resolve_numeric(&u));
    ck_assert_uint_eq(target_addr_generation(&u), 1);
    ck_assert(holds(&u, "10.0.0.9", 80));
    target_addr_destroy(&u);
    target_addr_destroy(&t);
}
END_TEST

/* A reload: hosts kept (same name and port) start with the old addresses,
 * IP literals have theirs at once, new hosts have none until resolved. */
START_TEST(test_reload_inherits_addresses)
{
    static const char old_yaml[] = "routes:\n"
                                   "  - name: r\n"
                                   "    mirrors:\n"
                                   "      - url: http://shadow-a.invalid-test:8000\n"
                                   "      - url: http://10.1.2.3:81\n";
    static const char new_yaml[] = "routes:\n"
                                   "  - name: s\n"
                                   "    mirrors:\n"
                                   "      - url: http://shadow-b.invalid-test:8000\n"
                                   "      - url: http://shadow-a.invalid-test:9000/other\n"
                                   "      - url: http://10.1.2.3:81\n"
                                   "      - url: http://SHADOW-A.invalid-test:8000/base\n";
    char buf[64];
    struct stats_registry *reg = stats_registry_new(1);
    struct mirror_runtime *old = runtime_of(old_yaml, reg, 1);
    ck_assert_uint_eq(mirror_runtime_unresolved(old), 1);  /* the IP literal is resolved */
    store_ipv4(&old->routes[0][0].addr, "10.9.9.9", 8000); /* what its resolver found */
    struct mirror_runtime *rt = runtime_of(new_yaml, reg, 2);
    ck_assert_uint_eq(mirror_runtime_unresolved(rt), 3);
    ck_assert_uint_eq(mirror_runtime_inherit_addrs(rt, old), 1);
    ck_assert_uint_eq(mirror_runtime_unresolved(rt), 2);
    ck_assert_str_eq(picked(&rt->routes[0][0].addr, buf, sizeof(buf)), "");
    ck_assert_str_eq(picked(&rt->routes[0][1].addr, buf, sizeof(buf)), "");
    ck_assert_str_eq(picked(&rt->routes[0][2].addr, buf, sizeof(buf)), "10.1.2.3:81");
    ck_assert_str_eq(picked(&rt->routes[0][3].addr, buf, sizeof(buf)), "10.9.9.9:8000");
    ck_assert_uint_eq(mirror_runtime_inherit_addrs(rt, NULL), 0);
    mirror_runtime_free(old);
    mirror_runtime_free(rt);
    stats_registry_free(reg);
}
END_TEST

/* What a candidate learned as noise survives a reload that keeps it (the
 * same route and URL), as its counters do; a mirror that is new starts
 * with nothing learned. */
START_TEST(test_reload_keeps_noise)
{
    static const char old_yaml[] = "routes:\n"
                                   "  - name: r\n"
                                   "    mirrors:\n"
                                   "      - url: http://10.1.2.3:81\n"
                                   "        compare: {noise_mirror: \"http://10.1.2.4:81\"}\n"
                                   "      - url: http://10.1.2.4:81\n"
                                   "        compare: {}\n";
    static const char new_yaml[] = "routes:\n"
                                   "  - name: r\n"
                                   "    mirrors:\n"
                                   "      - url: http://10.1.2.5:81\n"
                                   "        compare: {noise_mirror: \"http://10.1.2.4:81\"}\n"
                                   "      - url: http://10.1.2.4:81\n"
                                   "        compare: {}\n"
                                   "      - url: http://10.1.2.3:81\n"
                                   "        max_rps: 5\n"
                                   "        compare: {noise_mirror: \"http://10.1.2.4:81\"}\n";
    struct stats_registry *reg = stats_registry_new(1);
    struct mirror_runtime *old = runtime_of(old_yaml, reg, 1);
    struct compare_noise *learned = old->routes[0][0].noise;
    ck_assert_ptr_nonnull(learned);
    ck_assert_ptr_null(old->routes[0][1].noise);
    ck_assert(compare_noise_learn(learned, COMPARE_NOISE_PATH, "$.uuid"));
    ck_assert(compare_noise_learn(learned, COMPARE_NOISE_HEADER, "date"));
    struct mirror_runtime *rt = runtime_of(new_yaml, reg, 2);
    mirror_runtime_free(old);
    /* The candidate kept (third now, another key changed) knows what it learned. */
    ck_assert(compare_noise_has(rt->routes[0][2].noise, COMPARE_NOISE_PATH, "$.uuid"));
    ck_assert(compare_noise_has(rt->routes[0][2].noise, COMPARE_NOISE_HEADER, "date"));
    ck_assert_uint_eq(compare_noise_count(rt->routes[0][2].noise, COMPARE_NOISE_PATH, NULL), 1);
    /* The new candidate has learned nothing. */
    ck_assert_ptr_nonnull(rt->routes[0][0].noise);
    ck_assert(!compare_noise_has(rt->routes[0][0].noise, COMPARE_NOISE_PATH, "$.uuid"));
    ck_assert_uint_eq(compare_noise_count(rt->routes[0][0].noise, COMPARE_NOISE_PATH, NULL), 0);
    mirror_runtime_free(rt);
    stats_registry_free(reg);
}
END_TEST

/* The resolver thread resolves a name (localhost: /etc/hosts, no DNS) and
 * stops at once when asked. */
START_TEST(test_resolver_resolves_and_stops)
{
    struct logger log = {.level = LOG_LVL_ERROR, .fd = 2};
    struct target_addr t;
    target_addr_init(&t, "localhost", 8000);
    struct target_addr *targets[] = {&t};
    struct resolver *r = resolver_start(targets, 1, 60000, &log);
    ck_assert_ptr_nonnull(r);
    ck_assert(resolver_wait_first(r, 5000));
    ck_assert_int_gt(t.count, 0);
    uint64_t t0 = mono_ns();
    ck_assert(resolver_stop(r, 5000));
    ck_assert_uint_lt((mono_ns() - t0) / 1000000u, 1000);
    target_addr_destroy(&t);
}
END_TEST

Suite *runtime_suite(void);

/* runtime_suite: the Check suite for the mirrors' addresses and resolver. */
Suite *runtime_suite(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("addresses");
    tcase_add_test(tc, test_numeric_literals);
    tcase_add_test(tc, test_copy);
    tcase_add_test(tc, test_generation);
    tcase_add_test(tc, test_reload_inherits_addresses);
    tcase_add_test(tc, test_reload_keeps_noise);
    tcase_add_test(tc, test_resolver_resolves_and_stops);
    suite_add_tcase(s, tc);
    return s;
}
