#include "mirror/rate_limit.h"

void rate_limit_init(struct rate_limit *r, uint32_t rps)
{
    r->interval_ns = rps ? 1000000000ull / rps : 0;
    uint64_t burst = rps / 10 > 1 ? rps / 10 : 1;
    r->burst_ns = r->interval_ns * (burst - 1);
    atomic_init(&r->tat, 0);
}

bool rate_limit_allow(struct rate_limit *r, uint64_t now_ns)
{
    if (r->interval_ns == 0)
        return true;
    uint64_t tat = atomic_load_explicit(&r->tat, memory_order_relaxed);
    for (;;) {
        uint64_t start = tat > now_ns ? tat : now_ns;
        if (start - now_ns > r->burst_ns)
            return false;
        if (atomic_compare_exchange_weak_explicit(&r->tat, &tat, start + r->interval_ns, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    }
}
