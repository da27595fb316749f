#include "mirror/tls_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config/config_tls.h"
#include "core/xalloc.h"
#include "mirror/tls_impl.h"

/* Records the first error of OpenSSL's queue for <what> (a file at <key>). */
static void fail(struct tls_client *c, const char *key, const char *what, const char *file)
{
    char ossl[200] = "";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, ossl, sizeof(ossl));
    ERR_clear_error();
    c->err_key = key;
    snprintf(c->err, sizeof(c->err), "%s %s: %s", what, file ? file : "", ossl[0] ? ossl : "unknown error");
}

static void load(struct tls_client *c, const struct config_tls *t)
{
    SSL_CTX *ctx = c->ctx;
    SSL_CTX_set_min_proto_version(ctx, t->min_version == CONFIG_TLS_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
    /* A response may end with the connection, without close_notify. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    /* Sessions are kept per transport (tls_impl_new_session in tls_conn.c), not in the context:
     * no lock between the workers. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, tls_impl_new_session);
    if (t->insecure_skip_verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (t->ca_file) {
            if (SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL) != 1) {
                fail(c, "ca_file", "cannot load the CA file", t->ca_file);
                return;
            }
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            fail(c, "", "cannot load the system's CA store", NULL);
            return;
        }
    }
    if (t->cert_file && t->key_file) {
        if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1) {
            fail(c, "cert_file", "cannot load the certificate", t->cert_file);
            return;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, t->key_file, SSL_FILETYPE_PEM) != 1) {
            fail(c, "key_file", "cannot load the private key", t->key_file);
            return;
        }
        if (SSL_CTX_check_private_key(ctx) != 1)
            fail(c, "key_file", "the key does not match the certificate in cert_file:", t->key_file);
    }
}

struct tls_client *tls_client_new(const struct config_tls *t, const char *host)
{
    struct tls_client *c = xcalloc(1, sizeof(*c));
    c->name = xstrdup(t->server_name ? t->server_name : host);
    c->name_is_ip = config_is_ip_literal(c->name);
    c->verify = !t->insecure_skip_verify;
    c->err_key = "";
    ERR_clear_error();
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) {
        fail(c, "", "cannot create a TLS context", NULL);
        return c;
    }
    load(c, t);
    if (c->err[0]) {
        SSL_CTX_free(c->ctx);
        c->ctx = NULL;
    }
    return c;
}

void tls_client_offer_alpn(struct tls_client *c, enum config_protocol p)
{
    /* Wire format: each name preceded by its length. */
    static const unsigned char h2[] = "\x02h2";
    static const unsigned char h2_http1[] = "\x02h2\x08http/1.1";
    if (!c->ctx)
        return;
    if (p == CONFIG_PROTO_H2)
        SSL_CTX_set_alpn_protos(c->ctx, h2, sizeof(h2) - 1);
    else if (p == CONFIG_PROTO_AUTO)
        SSL_CTX_set_alpn_protos(c->ctx, h2_http1, sizeof(h2_http1) - 1);
}

const char *tls_client_error(const struct tls_client *c, const char **key)
{
    if (key)
        *key = c->err_key;
    return c->err[0] ? c->err : NULL;
}

bool tls_client_insecure(const struct tls_client *c)
{
    return !c->verify;
}

void tls_client_free(struct tls_client *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    free(c->name);
    free(c);
}
