/* The SPOE message contract: the arguments of the `mirror` message and of
 * the body slice messages, taken out of a decoded NOTIFY message and
 * checked. Pure; outputs point into the frame. */
#ifndef SPOA_MIRROR_ARGS_H
#define SPOA_MIRROR_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spop/spop_data.h"
#include "spop/spop_frame.h"

/* Name of the SPOE message the agent acts on. */
#define MIRROR_MESSAGE_NAME "mirror"

struct mirror_args {
    struct spop_bytes method; /* `method`: STRING */
    struct spop_bytes path;   /* `path` (pathq): STRING */
    struct spop_bytes host;   /* `host` (req.hdr(host)): STRING */
    struct spop_bytes ver;    /* `ver` (req.ver): STRING, "1.1" or "2.0" */
    struct spop_bytes hdrs;   /* `hdrs` (req.hdrs_bin): BINARY */
    struct spop_bytes body;   /* `body` (req.body): BINARY, possibly cut short */
    uint64_t body_size;       /* `body_size` (req.body_size): integer */
    struct spop_bytes route;  /* optional `route`: STRING, empty when absent */
    struct spop_bytes id;     /* optional `id` (unique-id): STRING; empty when absent */
    struct spop_data src;     /* optional `src`: IPV4/IPV6/STRING; NULL-typed when absent */
};

/* Name of the SPOE message that carries the primary's answer to a request
 * the agent chose to compare (sent on the response event). */
#define MIRROR_RESPONSE_MESSAGE_NAME "mirror-response"

/* The arguments of the `mirror-response` message. */
struct mirror_response_args {
    struct spop_bytes id;   /* `id` (unique-id): STRING, the request's */
    uint64_t status;        /* `status`: integer 100..999 */
    struct spop_bytes hdrs; /* `hdrs` (res.hdrs_bin): BINARY */
    struct spop_bytes body; /* `body` (res.body): BINARY */
    uint64_t latency_ms;    /* optional `latency_ms` (res.timer.hdr, HAProxy 3.x); 0 when absent */
};

/* Names of the messages that each carry one slice of a body larger than a
 * SPOP frame, sent before the `mirror` message of the same request (see
 * haproxy-conf/README.md, "Bodies larger than a buffer"). Two names because
 * HAProxy lets a message belong to one group only, and the last slice is
 * fetched without a length; the agent treats both alike. */
#define BODY_PART_MESSAGE_NAME      "mirror-body"
#define BODY_PART_LAST_MESSAGE_NAME "mirror-body-last"

struct body_part_args {
    struct spop_bytes id;   /* `id` (unique-id): STRING, not empty */
    uint64_t offset;        /* `offset`: integer, where <part> starts in the body */
    uint64_t size;          /* `size` (req.body_size): integer, the whole body's length */
    struct spop_bytes part; /* `part` (req.body,bytes(...)): BINARY (STRING accepted), not empty */
};

/* Why a message could not be used. */
enum mirror_args_status {
    MIRROR_ARGS_OK = 0,
    MIRROR_ARGS_MISSING,    /* a required argument is absent, or NULL (its fetch failed) */
    MIRROR_ARGS_WRONG_TYPE, /* an argument has a type the contract does not allow */
    MIRROR_ARGS_BAD_HEADERS /* `hdrs` is not a valid req.hdrs_bin block */
};

/* mirror_args_extract: reads the arguments of message <m> into *a. Unknown
 * arguments are ignored. Returns MIRROR_ARGS_OK, or another status with
 * *bad_arg set to the static name of the offending argument. */
enum mirror_args_status mirror_args_extract(const struct spop_message *m, struct mirror_args *a,
                                            const char **bad_arg);

/* mirror_response_args_extract: reads the arguments of a `mirror-response`
 * message <m> into *a, as mirror_args_extract does (a status outside
 * 100..999 is WRONG_TYPE). Outputs point into the frame. */
enum mirror_args_status mirror_response_args_extract(const struct spop_message *m,
                                                     struct mirror_response_args *a, const char **bad_arg);

/* One argument of a message's contract: its name, the SPOP types it
 * accepts, whether it is required and where it is stored. */
enum arg_kind { ARG_STR, ARG_BIN, ARG_INT, ARG_ADDR };
struct arg_spec {
    const char *name;
    size_t name_len; /* compared first: most names differ in length */
    enum arg_kind kind;
    bool required;
    size_t offset; /* of the field in the output struct */
};
#define ARG_SPECS_MAX 16

/* mirror_args_walk: stores the arguments of <m> named by <specs> (<n_specs>
 * at most ARG_SPECS_MAX) into the struct at <base>; unknown arguments are
 * ignored. Returns MIRROR_ARGS_OK, MISSING or WRONG_TYPE (*bad_arg set). */
enum mirror_args_status mirror_args_walk(const struct spop_message *m, const struct arg_spec *specs,
                                         size_t n_specs, void *base, const char **bad_arg);
/* body_part_args_extract: reads the arguments of a body slice message <m>
 * into *a, all four required (an empty `id` or `part` counts as missing).
 * Unknown arguments are ignored. Returns MIRROR_ARGS_OK, or MIRROR_ARGS_MISSING
 * or MIRROR_ARGS_WRONG_TYPE with *bad_arg set to the static name of the
 * offending argument. */
enum mirror_args_status body_part_args_extract(const struct spop_message *m, struct body_part_args *a,
                                               const char **bad_arg);

/* mirror_args_status_str: a static snake_case name for <s> ("missing_arg", ...). */
const char *mirror_args_status_str(enum mirror_args_status s);

/* hdrs_bin_next: walks a req.hdrs_bin block (pairs of varint-length name and
 * value, ended by two empty strings). Returns the bytes of one header (> 0)
 * with <name> and <value> set, 0 at the end marker (which must close the block:
 * bytes after it are an error), or -1 when the block is malformed or
 * unterminated. */
int hdrs_bin_next(const uint8_t *p, size_t len, struct spop_bytes *name, struct spop_bytes *value);

/* hdrs_bin_count: the number of headers in a block, or -1 when malformed. */
int hdrs_bin_count(struct spop_bytes hdrs);

#endif
