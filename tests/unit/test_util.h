/* Helpers shared by the unit tests. */
#ifndef SPOA_TEST_UTIL_H
#define SPOA_TEST_UTIL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct mirror_args;
struct target_addr;

/* Directory of the captured SPOP frames, relative to the repository root. */
#define FIXTURES_DIR "tests/fixtures/spop"

/* hex_decode: converts the hex text <hex> (whitespace ignored) into a new
 * heap buffer stored in *out (caller frees). Returns its length, or -1 on a
 * malformed string. */
long hex_decode(const char *hex, uint8_t **out);

/* read_hex_file: reads and decodes a .hex fixture file. Returns the length,
 * or -1 when the file is missing or malformed. *out is heap-owned by the caller. */
long read_hex_file(const char *path, uint8_t **out);

/* guarded_copy: copies <len> bytes to the very end of a fresh page mapping
 * followed by an inaccessible guard page, so that any read past the end faults.
 * Returns the copy; release it with guarded_free(). */
uint8_t *guarded_copy(const uint8_t *p, size_t len);
void guarded_free(uint8_t *p, size_t len);

/* ipv4_sockaddr: the IPv4 literal <ip> (asserted valid) and <port>. */
struct sockaddr_in ipv4_sockaddr(const char *ip, uint16_t port);

/* store_ipv4s: makes the <n> (1..TARGET_ADDR_MAX) IPv4 literals <ips>, all
 * with <port>, the address set of <t>, as the resolver does (target_addr_store). */
void store_ipv4s(struct target_addr *t, const char *const *ips, int n, uint16_t port);

/* plain_mirror: an http mirror "http://mirror:8080" with the defaults that
 * matter to shaping: shadow authority, no base path, 100%, no header rules. */
struct config_mirror plain_mirror(void);

/* notify_mirror_args: decodes the NOTIFY frame of <len> bytes at <frame>
 * (asserted valid), finds its "mirror" message and extracts its arguments
 * into *a (asserted MIRROR_ARGS_OK); *a points into <frame>. */
void notify_mirror_args(const uint8_t *frame, size_t len, struct mirror_args *a);

/* load_notify_args: reads the NOTIFY fixture <dir>/<file> (asserted
 * readable) into a guarded copy and extracts its "mirror" arguments into *a
 * (notify_mirror_args). Returns the copy, of *len bytes, which *a points
 * into; release it with guarded_free(). */
uint8_t *load_notify_args(const char *dir, const char *file, size_t *len, struct mirror_args *a);

#endif
