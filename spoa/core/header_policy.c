/* See header_policy.h. */
#include "core/header_policy.h"

/* clang-format off */
#define RESERVED(name, why) {name, sizeof(name) - 1, why}
/* clang-format on */

/* Looked up for every header of every copy: the length is compared first. */
static const struct {
    const char *name;
    size_t len;
    enum header_reserved why;
} reserved[] = {
    RESERVED("connection", HEADER_HOP_BY_HOP),
    RESERVED("keep-alive", HEADER_HOP_BY_HOP),
    RESERVED("te", HEADER_TE),
    RESERVED("trailer", HEADER_HOP_BY_HOP),
    RESERVED("transfer-encoding", HEADER_HOP_BY_HOP),
    RESERVED("upgrade", HEADER_HOP_BY_HOP),
    RESERVED("expect", HEADER_EXPECT),
    RESERVED("host", HEADER_HOST),
    RESERVED("content-length", HEADER_CONTENT_LENGTH),
};

static const char proxy_prefix[] = "proxy-";

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* True when the <n> bytes at <p> equal <n> bytes of <s> (lowercase), ignoring ASCII case. */
static bool prefix_ieq(const uint8_t *p, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != (uint8_t)s[i])
            return false;
    return true;
}

enum header_reserved header_reserved(const uint8_t *name, size_t n)
{
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (n == reserved[i].len && prefix_ieq(name, n, reserved[i].name))
            return reserved[i].why;
    if (n >= sizeof(proxy_prefix) - 1 && prefix_ieq(name, sizeof(proxy_prefix) - 1, proxy_prefix))
        return HEADER_PROXY;
    return HEADER_FORWARDED;
}

const char *header_reserved_why(enum header_reserved r)
{
    switch (r) {
    case HEADER_FORWARDED:
        return "";
    case HEADER_HOP_BY_HOP:
        return "a hop-by-hop header, dropped from every copy (the agent manages its own connection to the "
               "mirror)";
    case HEADER_TE:
        return "forwarded only as \"te: trailers\" when the request has exactly that (what gRPC needs), "
               "dropped otherwise";
    case HEADER_PROXY:
        return "a proxy-* header, dropped from every copy (it concerns the hop to a proxy, not the mirror)";
    case HEADER_EXPECT:
        return "dropped from every copy (the agent sends the body at once, without 100-continue)";
    case HEADER_HOST:
        return "written by the agent itself (use authority to choose the mirror's Host)";
    case HEADER_CONTENT_LENGTH:
        return "written by the agent itself, from the body it sends";
    }
    return "";
}

bool http_is_hop_by_hop(const uint8_t *name, size_t n)
{
    return header_reserved(name, n) != HEADER_FORWARDED;
}

bool header_is_te_trailers(const uint8_t *name, size_t n, const uint8_t *value, size_t vn)
{
    static const char trailers[] = "trailers";
    if (n != 2 || header_reserved(name, n) != HEADER_TE)
        return false;
    while (vn > 0 && (value[0] == ' ' || value[0] == '\t')) {
        value++;
        vn--;
    }
    while (vn > 0 && (value[vn - 1] == ' ' || value[vn - 1] == '\t'))
        vn--;
    return vn == sizeof(trailers) - 1 && prefix_ieq(value, vn, trailers);
}
