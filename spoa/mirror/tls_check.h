/* The load-time check of the https mirrors' TLS settings that needs the TLS
 * library: the CA file, the client certificate and its key must load and
 * match (the syntax and readability checks are config_tls.h's). */
#ifndef SPOA_MIRROR_TLS_CHECK_H
#define SPOA_MIRROR_TLS_CHECK_H

#include <stdbool.h>

#include "config/config.h"
#include "config/config_errors.h"

/* tls_check_config: builds, then frees, the TLS context of every https
 * mirror of <c>. Returns true when all could be built; otherwise appends one
 * "<file>:<line>: routes[r].mirrors[i].tls.<key>: <why>" per mirror that
 * failed to *errs and returns false. Reads the files; allocates nothing
 * that outlives the call. */
bool tls_check_config(const struct config *c, struct config_errors *errs);

#endif
