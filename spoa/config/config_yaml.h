/* The YAML side of the configuration: turns one YAML document into the
 * values of struct config, checking every key and value and naming the line
 * and the dotted key path of every error. */
#ifndef SPOA_CONFIG_YAML_H
#define SPOA_CONFIG_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "config/config_errors.h"

/* config_yaml_load: parses the <len> bytes at <text> (YAML 1.1, one document)
 * and stores every value it sets into *c, which already holds defaults and
 * possibly routes; routes are appended. At most CONFIG_WALK_MAX_ERRORS
 * messages are given (config_walk.h). <name> is the file name used in the
 * messages "<name>:<line>: <key.path>: <message>" appended to *errs. Returns
 * true when no error was found. *c always stays releasable with config_free(). */
bool config_yaml_load(struct config *c, const char *text, size_t len, const char *name,
                      struct config_errors *errs);

#endif
