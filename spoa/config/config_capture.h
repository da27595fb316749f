/* The configuration of capture mirrors: a mirror whose url is
 * "file:///abs/dir" writes the requests it takes to files in that directory
 * (capture_writer.h) instead of sending them, with an optional `capture:`
 * block of file settings. Here: the file URL syntax, the directory check
 * done at load time and the YAML walk of the block (the block itself and its
 * defaults belong to the model, config.h). */
#ifndef SPOA_CONFIG_CAPTURE_H
#define SPOA_CONFIG_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/config_walk.h"

/* Bounds of the byte sizes: 1 KiB .. 1 PiB. */
#define CAPTURE_MIN_BYTES 1024ull
#define CAPTURE_MAX_BYTES (1ull << 50)
/* Longest accepted directory: leaves room for the file names under PATH_MAX. */
#define CAPTURE_DIR_MAX 1024

/* config_is_file_url: true when <url> uses the file scheme (any case). */
bool config_is_file_url(const char *url);

/* config_file_url_parse: parses "file:///abs/dir" into a heap copy of the
 * directory (*dir): absolute, taken as written (no %-decoding), repeated and
 * trailing slashes removed. Refused: a host part, a relative path, the root
 * directory, "." or ".." segments, '%', '?', '#' or control bytes, more than
 * CAPTURE_DIR_MAX bytes. On failure writes a message to <err> (size
 * <errlen>), leaves *dir alone and returns false. */
bool config_file_url_parse(const char *url, char **dir, char *err, size_t errlen);

/* config_capture_dir_check: true when <dir> is a directory the agent can
 * write into, or does not exist and could be created (its nearest existing
 * ancestor is a writable directory). Creates nothing. Otherwise writes the
 * reason to <err> and returns false. */
bool config_capture_dir_check(const char *dir, char *err, size_t errlen);

/* config_capture_dir_user: a mirror of <c> other than <self> that writes
 * into <dir> (a capture mirror, or the diff log of a compare block), or NULL. */
const struct config_mirror *config_capture_dir_user(const struct config *c, const struct config_mirror *self,
                                                    const char *dir);

/* config_mirror_set_file_url: makes <m> (a mirror of <c>) a capture mirror
 * of <url>: parses it, checks the directory and that no other capture
 * mirror uses it, then sets url, scheme "file", no host, and the capture
 * block's dir (creating the block with defaults when absent). On failure
 * writes the reason to <err> and changes nothing. */
bool config_mirror_set_file_url(const struct config *c, struct config_mirror *m, const char *url, char *err,
                                size_t errlen);

/* config_capture_walk: the handler of a mirror's `capture` key (a cw_field
 * CW_FN; <obj> is the struct config_mirror): fills its capture block. */
void config_capture_walk(struct cw *w, yaml_node_t *v, void *obj);

/* Fields a caller may add to a capture block's map (config_capture_map). */
#define CONFIG_CAPTURE_MAX_EXTRA 8

/* config_capture_map: walks mapping <v> as a capture block into <cap>
 * (rotate_bytes, rotate_ms, max_total_bytes, max_files, max_queue,
 * redact_headers), plus the caller's <n_extra> fields (at most
 * CONFIG_CAPTURE_MAX_EXTRA, handed <cap> as their object), and checks that
 * max_total_bytes is at least rotate_bytes. *extra_seen (may be NULL)
 * receives bit i for each extra[i] present. Returns false (after reporting)
 * when <v> is not a mapping. */
bool config_capture_map(struct cw *w, yaml_node_t *v, struct config_capture *cap,
                        const struct cw_field *extra, size_t n_extra, unsigned *extra_seen);

/* config_header_item: reads one header name at <n> onto *arr / *count
 * (the checks of config_header_list_walk), or reports why not. */
void config_header_item(struct cw *w, yaml_node_t *n, char ***arr, size_t *count);

/* config_header_list_walk: reads the list of header names at <v> onto
 * *arr / *n (lowercased heap copies, owned by the array): each must be an
 * HTTP token and appear once; bad items are reported and skipped. */
void config_header_list_walk(struct cw *w, yaml_node_t *v, char ***arr, size_t *n);

#endif
