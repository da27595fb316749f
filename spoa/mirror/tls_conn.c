#include "mirror/tls_conn.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/xalloc.h"
#include "mirror/tls_impl.h"

struct tls_conn {
    SSL *ssl;
    struct tls_resume *resume;
    bool established;
    bool got_data;     /* a byte of application data was read */
    bool failed;       /* a fatal error: the session must not be resumed */
    bool alpn_refused; /* the handshake failed: no application protocol in common */
    char why[256];
};

void tls_resume_clear(struct tls_resume *r)
{
    if (r->session)
        SSL_SESSION_free(r->session);
    r->session = NULL;
}

int tls_impl_new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct tls_resume *r = SSL_get_app_data(ssl);
    if (!r)
        return 0;
    tls_resume_clear(r);
    r->session = sess;
    return 1;
}

/* Notes OpenSSL's last error (or <fallback>) as the reason of a failure. */
static void note_error(struct tls_conn *t, const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, t->why, sizeof(t->why));
    else
        snprintf(t->why, sizeof(t->why), "%s", fallback);
    ERR_clear_error();
    t->failed = true;
}

struct tls_conn *tls_conn_new(const struct tls_client *c, int fd, struct tls_resume *resume)
{
    if (!c->ctx)
        return NULL;
    ERR_clear_error();
    SSL *ssl = SSL_new(c->ctx);
    if (!ssl)
        return NULL;
    bool ok = SSL_set_fd(ssl, fd) == 1 && SSL_set_app_data(ssl, resume) == 1;
    if (ok && !c->name_is_ip)
        ok = SSL_set_tlsext_host_name(ssl, c->name) == 1;
    if (ok && c->verify) {
        if (c->name_is_ip)
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c->name) == 1;
        else
            ok = SSL_set1_host(ssl, c->name) == 1;
    }
    if (ok && resume->session)
        ok = SSL_set_session(ssl, resume->session) == 1;
    if (!ok) {
        ERR_clear_error();
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_connect_state(ssl);
    struct tls_conn *t = xcalloc(1, sizeof(*t));
    t->ssl = ssl;
    t->resume = resume;
    return t;
}

enum tls_step tls_conn_handshake(struct tls_conn *t)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1) {
        t->established = true;
        return TLS_STEP_DONE;
    }
    switch (SSL_get_error(t->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        return TLS_STEP_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TLS_STEP_WANT_WRITE;
    default:
        break;
    }
    tls_resume_clear(t->resume);
    long v = SSL_get_verify_result(t->ssl);
    if (v != X509_V_OK) {
        snprintf(t->why, sizeof(t->why), "certificate verify failed: %s", X509_verify_cert_error_string(v));
        ERR_clear_error();
        t->failed = true;
        return TLS_STEP_UNVERIFIED;
    }
    t->alpn_refused = ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL;
    note_error(t, errno ? strerror(errno) : "the server closed the connection");
    return TLS_STEP_FAILED;
}

bool tls_conn_alpn_refused(const struct tls_conn *t)
{
    return t->alpn_refused;
}

bool tls_conn_resumed(const struct tls_conn *t)
{
    return SSL_session_reused(t->ssl) == 1;
}

/* The TLS_IO_* value of a failed SSL_read or SSL_write that returned <rc>. */
static ssize_t io_failure(struct tls_conn *t, int rc)
{
    switch (SSL_get_error(t->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        return TLS_IO_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TLS_IO_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SSL:
        note_error(t, "TLS error");
        return t->got_data ? TLS_IO_ERROR : TLS_IO_REFUSED;
    default:
        note_error(t, errno ? strerror(errno) : "connection closed");
        return TLS_IO_ERROR;
    }
}

ssize_t tls_conn_read(struct tls_conn *t, uint8_t *buf, size_t cap)
{
    ERR_clear_error();
    int rc = SSL_read(t->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    if (rc > 0) {
        t->got_data = true;
        return rc;
    }
    return io_failure(t, rc);
}

ssize_t tls_conn_write(struct tls_conn *t, const uint8_t *p, size_t len)
{
    ERR_clear_error();
    int rc = SSL_write(t->ssl, p, len > INT_MAX ? INT_MAX : (int)len);
    if (rc > 0)
        return rc;
    ssize_t r = io_failure(t, rc);
    return r == 0 ? TLS_IO_ERROR : r; /* a write cannot end the stream */
}

bool tls_conn_pending(const struct tls_conn *t)
{
    return SSL_pending(t->ssl) > 0;
}

const char *tls_conn_alpn(const struct tls_conn *t)
{
    const unsigned char *p;
    unsigned n;
    SSL_get0_alpn_selected(t->ssl, &p, &n);
    if (n == 2 && memcmp(p, "h2", 2) == 0)
        return "h2";
    if (n == 8 && memcmp(p, "http/1.1", 8) == 0)
        return "http/1.1";
    return "";
}

const char *tls_conn_error(const struct tls_conn *t)
{
    return t->why;
}

void tls_conn_free(struct tls_conn *t)
{
    if (!t)
        return;
    if (t->established && !t->failed) {
        /* Marks the connection shut down without writing: OpenSSL keeps the
         * session resumable only after a shutdown. */
        SSL_set_quiet_shutdown(t->ssl, 1);
        SSL_shutdown(t->ssl);
    }
    ERR_clear_error();
    SSL_free(t->ssl);
    free(t);
}
