/* The debug log line of a decoded NOTIFY: what HAProxy sent for one request. */
#ifndef SPOA_NOTIFY_LOG_H
#define SPOA_NOTIFY_LOG_H

#include "core/log.h"
#include "mirror/mirror_args.h"
#include "spop/spop_notify.h"

/* mirror_args_log: logs at debug level what a NOTIFY's `mirror` message carried:
 * ids, method, path, host, version, header names, body length, size and a prefix. */
void mirror_args_log(const struct logger *log, const struct spop_notify *n, const struct mirror_args *a);

#endif
