/* The messages a configuration load gives back: one per error found, each
 * "<file>:<line>: <key>: <message>" (or "--flag: <message>" for options). */
#ifndef SPOA_CONFIG_ERRORS_H
#define SPOA_CONFIG_ERRORS_H

#include <stddef.h>

/* One error found while loading: "<file>:<line>: <key>: <message>". Zero it
 * before use; release it with config_errors_free(). */
struct config_errors {
    char **items;
    size_t count;
};

/* config_errors_addf: appends one printf-formatted message (a heap copy,
 * owned by *errs) to *errs. */
void config_errors_addf(struct config_errors *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* config_errors_free: releases the messages; *errs is empty and reusable after. */
void config_errors_free(struct config_errors *errs);

#endif
