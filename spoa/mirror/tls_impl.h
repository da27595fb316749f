/* Private to tls_client.c and tls_conn.c: the TLS context of a mirror as
 * OpenSSL sees it. Nothing else includes this header (nor OpenSSL). */
#ifndef SPOA_MIRROR_TLS_IMPL_H
#define SPOA_MIRROR_TLS_IMPL_H

#include <stdbool.h>

#include <openssl/ssl.h>

struct tls_client {
    SSL_CTX *ctx;        /* NULL when it could not be built (err says why) */
    char *name;          /* SNI (unless an IP literal) and the name verified */
    bool name_is_ip;     /* verified as an IP address, sent without SNI */
    bool verify;         /* false: insecure_skip_verify */
    const char *err_key; /* the tls block key at fault, "" for none */
    char err[512];
};

/* tls_impl_new_session: the context's new-session callback (tls_conn.c):
 * keeps <sess> in the connection's struct tls_resume (its SSL app data),
 * replacing the one kept before. Returns 1 (the reference is kept). */
int tls_impl_new_session(SSL *ssl, SSL_SESSION *sess);

#endif
