/* The TLS side of one https mirror, shared by every worker's client of that
 * mirror: an OpenSSL client context built once from the mirror's tls block
 * (CAs, client certificate and key, the oldest version accepted) and the
 * name each connection sends as SNI and verifies. Connections through it
 * are tls_conn.h's. This header does not include OpenSSL.
 *
 * Application protocols (ALPN) are offered here, on the context, and read
 * back per connection (tls_conn_alpn()). */
#ifndef SPOA_MIRROR_TLS_CLIENT_H
#define SPOA_MIRROR_TLS_CLIENT_H

#include <stdbool.h>

#include "config/config.h"

struct tls_client;

/* tls_client_new: the TLS side of a mirror to <host> (the URL's host) with
 * the settings <t> (borrowed; what is needed is copied). Loads the CA file
 * (or the system's default store), the client certificate and key (checking
 * that they match). Never NULL: when something cannot be loaded,
 * tls_client_error() says what, and every connection through it fails its
 * handshake. Free with tls_client_free(). Any thread. */
struct tls_client *tls_client_new(const struct config_tls *t, const char *host);

/* tls_client_offer_alpn: the application protocols every connection
 * through <c> offers for the mirror protocol <p>: "h2" for h2, "h2" then
 * "http/1.1" for auto, none for http1.1 (and h2c). Call it before the
 * first connection. */
void tls_client_offer_alpn(struct tls_client *c, enum config_protocol p);

/* tls_client_error: NULL when the context is usable; otherwise why not
 * (owned by <c>), and in *key the tls block key at fault ("ca_file",
 * "cert_file", "key_file" or "" for none in particular). */
const char *tls_client_error(const struct tls_client *c, const char **key);

/* tls_client_insecure: true when <c> verifies nothing (insecure_skip_verify). */
bool tls_client_insecure(const struct tls_client *c);

/* tls_client_free: releases <c>; connections made through it keep what they
 * need. NULL is a no-op. */
void tls_client_free(struct tls_client *c);

#endif
