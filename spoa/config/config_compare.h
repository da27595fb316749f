/* The configuration of answer comparison: an http mirror's `compare:` block
 * (the block itself and its defaults belong to the model, config.h). Here:
 * the YAML walk of the block and of its diff_log, and the checks that need
 * the whole mirror. */
#ifndef SPOA_CONFIG_COMPARE_H
#define SPOA_CONFIG_COMPARE_H

#include <yaml.h>

#include "config/config.h"
#include "config/config_walk.h"

/* Largest max_pending and match_timeout_ms. */
#define COMPARE_MAX_PENDING    1000000u
#define COMPARE_MAX_TIMEOUT_MS 600000u

/* config_compare_walk: the handler of a mirror's `compare` key (a cw_field
 * CW_FN; <obj> is the struct config_mirror): fills its compare block,
 * reporting each bad value at its file:line:key. */
void config_compare_walk(struct cw *w, yaml_node_t *v, void *obj);

/* config_compare_check: after the whole mirror <m> (node <n>) was walked:
 * reports a compare block on a capture (file://) mirror, and a
 * max_body_bytes larger than the mirror's max_response_bytes. Drops the
 * block of a capture mirror. */
void config_compare_check(struct cw *w, yaml_node_t *n, struct config_mirror *m);

/* config_compare_check_route: after route <r>'s mirrors (node <n>) were
 * walked: resolves each compare block's noise_mirror to the index of
 * another mirror of the route that has a compare block and no noise_mirror
 * of its own, or reports why it cannot. */
void config_compare_check_route(struct cw *w, yaml_node_t *n, struct config_route *r);

#endif
