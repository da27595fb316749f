/* The configuration of https mirrors: the YAML walk of a mirror's `tls:`
 * block, with the checks that need no TLS library (files readable, a
 * certificate and its key given together, the server name's syntax). The
 * block itself and its defaults belong to the model (config.h); loading the
 * files into a TLS context is the mirror layer's job. */
#ifndef SPOA_CONFIG_TLS_H
#define SPOA_CONFIG_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "config/config_walk.h"

/* config_tls_walk: the handler of a mirror's `tls` key (a cw_field CW_FN;
 * <obj> is the struct config_mirror): fills its tls block, creating it with
 * the defaults first, and reports each problem at its key. */
void config_tls_walk(struct cw *w, yaml_node_t *v, void *obj);

/* config_tls_file_check: true when <path> is a regular file the agent can
 * read; otherwise writes the reason to <err> (size <errlen>) and returns
 * false. */
bool config_tls_file_check(const char *path, char *err, size_t errlen);

/* config_is_ip_literal: true when <host> is an IPv4 or IPv6 address
 * literal (without brackets), which TLS neither sends as SNI nor verifies
 * as a DNS name. */
bool config_is_ip_literal(const char *host);

#endif
