#include "mirror/mirror_seam.h"

static bool seam_decide(void *ctx, const struct spop_notify *n, void *slot)
{
    struct mirror_engine **engine = ctx;
    return mirror_engine_decide(*engine, n, slot);
}

static void seam_submit(void *ctx, const struct spop_notify *n, void *slot)
{
    struct mirror_engine **engine = ctx;
    mirror_engine_submit(*engine, n, slot);
}

static bool seam_extra(void *ctx, const void *slot)
{
    (void)ctx;
    return mirror_engine_compared(slot);
}

static const struct spop_notify_ops seam_ops = {
    .decide = seam_decide,
    .submit = seam_submit,
    .extra = seam_extra,
};

struct spop_notify_handler mirror_seam_handler(struct mirror_engine **engine)
{
    return (struct spop_notify_handler){
        .ops = &seam_ops,
        .ctx = engine,
        .slot_size = sizeof(struct mirror_decision),
        .ack_var = MIRROR_ACK_VAR,
        .extra_var = MIRROR_COMPARE_VAR,
    };
}
