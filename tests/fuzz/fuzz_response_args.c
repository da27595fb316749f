/* libFuzzer target: the response-side message extraction
 * (mirror_response_args_extract, mirror_args.h), fed one SPOP message as
 * HAProxy would encode it in a NOTIFY: <name> <nb-args> <KV-LIST>.
 *
 * The input is copied to a heap block of its exact size (ASan sees any read
 * past it). Checked with abort():
 * - a message spop_message_next() refuses is never extracted (as in the
 *   session); otherwise extraction returns a known status;
 * - OK: status in 100..999, hdrs a valid res.hdrs_bin block, id, hdrs and
 *   body views inside the input;
 * - not OK: *bad_arg names an argument of the contract;
 * - extracting twice gives the same status and fields. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "mirror/mirror_args.h"
#include "spop/spop_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(struct spop_bytes b, const uint8_t *p, size_t len)
{
    return b.len == 0 || (b.ptr >= p && b.ptr + b.len <= p + len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *g = malloc(size ? size : 1);
    CHECK(g != NULL);
    memcpy(g, data, size);
    struct spop_message m;
    if (spop_message_next(g, size, &m) <= 0) {
        free(g);
        return 0;
    }
    struct mirror_response_args a, b;
    const char *bad = NULL, *bad2 = NULL;
    enum mirror_args_status st = mirror_response_args_extract(&m, &a, &bad);
    enum mirror_args_status st2 = mirror_response_args_extract(&m, &b, &bad2);
    CHECK(st == st2);
    CHECK(strcmp(mirror_args_status_str(st), "unknown") != 0);
    if (st == MIRROR_ARGS_OK) {
        CHECK(a.status >= 100 && a.status <= 999);
        CHECK(hdrs_bin_count(a.hdrs) >= 0);
        CHECK(inside(a.id, g, size) && inside(a.hdrs, g, size) && inside(a.body, g, size));
        CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    } else {
        CHECK(bad != NULL && bad2 != NULL && strcmp(bad, bad2) == 0);
        CHECK(strcmp(bad, "id") == 0 || strcmp(bad, "status") == 0 || strcmp(bad, "hdrs") == 0 ||
              strcmp(bad, "body") == 0 || strcmp(bad, "latency_ms") == 0);
    }
    free(g);
    return 0;
}
