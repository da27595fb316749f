/* Loading the configuration: the YAML file (-c FILE) and the `--mirror URL
 * [--percent P]` catch-all, both validated into the model of config.h.
 * Every error names the file, the line and the key. */
#ifndef SPOA_CONFIG_LOAD_H
#define SPOA_CONFIG_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "config/config_errors.h"

/* config_load_file: parses and validates the YAML file <path> into *c (which
 * config_defaults() prepared). Returns true when valid. Otherwise returns false
 * and appends one message per error to *errs (caller frees with
 * config_errors_free); *c must then still be released with config_free(). */
bool config_load_file(struct config *c, const char *path, struct config_errors *errs);

/* config_load_string: as config_load_file, from the <len> bytes at <text>;
 * <name> stands for the file name in messages. */
bool config_load_string(struct config *c, const char *text, size_t len, const char *name,
                        struct config_errors *errs);

/* config_add_catch_all: adds the route of `--mirror URL [--percent P]`: one
 * route named "default" matching every request, one mirror (a capture mirror
 * for a file:// URL). Returns false, changes nothing and appends to *errs
 * when the URL or percent is invalid or a route "default" exists. */
bool config_add_catch_all(struct config *c, const char *url, const char *percent, struct config_errors *errs);

#endif
