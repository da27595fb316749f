/* Route choice: which configured route a request belongs to. */
#include "mirror/route_policy.h"

#include <string.h>

/* Case-insensitive equality of two byte ranges of the same length <n>. */
static bool ieq(const uint8_t *a, const uint8_t *b, size_t n)
{
    return spop_bytes_ieq((struct spop_bytes){a, n}, (struct spop_bytes){b, n});
}

/* An authority split into its host name and its port. */
struct hostport {
    const uint8_t *name;
    size_t name_len;
    const uint8_t *port; /* NULL when there is no ":port" */
    size_t port_len;
};

/* Splits "name", "name:port", "[v6]" or "[v6]:port". A bracketed literal keeps
 * its brackets in the name. Anything else with several colons (an unbracketed
 * IPv6 address) is all name, no port. */
static struct hostport split_hostport(const uint8_t *p, size_t len)
{
    struct hostport hp = {.name = p, .name_len = len};
    if (len > 0 && p[0] == '[') {
        const uint8_t *close = memchr(p, ']', len);
        if (close == NULL)
            return hp;
        size_t after = (size_t)(close - p) + 1;
        if (after < len && p[after] == ':') {
            hp.name_len = after;
            hp.port = p + after + 1;
            hp.port_len = len - after - 1;
        }
        return hp;
    }
    const uint8_t *colon = memchr(p, ':', len);
    if (colon == NULL || memchr(colon + 1, ':', len - (size_t)(colon - p) - 1) != NULL)
        return hp;
    hp.name_len = (size_t)(colon - p);
    hp.port = colon + 1;
    hp.port_len = len - hp.name_len - 1;
    return hp;
}

bool host_matches(const char *pattern, struct spop_bytes host)
{
    if (pattern == NULL)
        return false;
    if (strcmp(pattern, "*") == 0)
        return true;
    struct hostport want = split_hostport((const uint8_t *)pattern, strlen(pattern));
    struct hostport got = split_hostport(host.ptr, host.len);
    if (want.port != NULL && (got.port == NULL || got.port_len != want.port_len ||
                              memcmp(got.port, want.port, want.port_len) != 0))
        return false;
    if (want.name_len >= 2 && want.name[0] == '*' && want.name[1] == '.') {
        /* "*.suffix": the host ends in ".suffix" after at least one character. */
        const uint8_t *suffix = want.name + 1;
        size_t slen = want.name_len - 1;
        return got.name_len > slen && ieq(got.name + got.name_len - slen, suffix, slen);
    }
    return got.name_len == want.name_len && ieq(got.name, want.name, want.name_len);
}

bool route_matches(const struct config_route *r, const struct mirror_args *a)
{
    if (r->n_hosts > 0) {
        bool any = false;
        for (size_t i = 0; i < r->n_hosts && !any; i++)
            any = host_matches(r->hosts[i], a->host);
        if (!any)
            return false;
    }
    if (r->path_prefix != NULL) {
        size_t n = strlen(r->path_prefix);
        if (a->path.len < n || memcmp(a->path.ptr, r->path_prefix, n) != 0)
            return false;
    }
    if (r->n_methods > 0) {
        bool any = false;
        for (size_t i = 0; i < r->n_methods && !any; i++)
            any = spop_bytes_eq(a->method, r->methods[i]);
        if (!any)
            return false;
    }
    return true;
}

int route_select(const struct config *cfg, const struct mirror_args *a)
{
    if (a->route.len > 0) {
        for (size_t i = 0; i < cfg->n_routes; i++)
            if (cfg->routes[i].name != NULL && spop_bytes_eq(a->route, cfg->routes[i].name))
                return (int)i;
        return -1;
    }
    for (size_t i = 0; i < cfg->n_routes; i++)
        if (route_matches(&cfg->routes[i], a))
            return (int)i;
    return -1;
}
