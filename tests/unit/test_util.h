/* Helpers shared by the unit tests. */
#ifndef SPOA_TEST_UTIL_H
#define SPOA_TEST_UTIL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
