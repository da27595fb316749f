/* One TLS client connection over a connected non-blocking socket, for the
 * mirror client's libev transport (mirror_client_ev.c): the handshake, reads
 * and writes that never block (they say which readiness they wait for), and
 * session resumption through a tls_resume the transport keeps. This header
 * does not include OpenSSL. One thread uses a connection and its tls_resume. */
#ifndef SPOA_MIRROR_TLS_CONN_H
#define SPOA_MIRROR_TLS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mirror/tls_client.h"

struct ssl_session_st; /* OpenSSL's SSL_SESSION */

/* The newest session a server gave the connections of one transport (one
 * mirror on one worker): the next connection offers it. Zero it before use;
 * release it with tls_resume_clear(). It must outlive the connections made
 * with it. */
struct tls_resume {
    struct ssl_session_st *session;
};

/* tls_resume_clear: forgets the session kept in <r>, if any. */
void tls_resume_clear(struct tls_resume *r);

struct tls_conn;

/* What a handshake step did. */
enum tls_step {
    TLS_STEP_DONE,       /* established */
    TLS_STEP_WANT_READ,  /* call again once the socket is readable */
    TLS_STEP_WANT_WRITE, /* ... writable */
    TLS_STEP_FAILED,     /* the handshake failed (refused, no common version, an alert...) */
    TLS_STEP_UNVERIFIED, /* the server's certificate or name did not verify */
};

/* Returns of tls_conn_read() and tls_conn_write() besides a byte count. */
#define TLS_IO_WANT_READ  (-1) /* call again once the socket is readable */
#define TLS_IO_WANT_WRITE (-2) /* ... writable */
#define TLS_IO_ERROR      (-3) /* the connection failed */
#define TLS_IO_REFUSED                                                                                       \
    (-4) /* a TLS failure before any byte from the server, e.g. a TLS 1.3 server refusing our certificate */

/* tls_conn_new: a client connection through <c> on socket <fd> (borrowed:
 * the caller closes it after tls_conn_free()), offering the session kept in
 * <resume> and keeping the ones the server sends there. NULL when <c> is
 * unusable (tls_client_error()) or OpenSSL has no memory. */
struct tls_conn *tls_conn_new(const struct tls_client *c, int fd, struct tls_resume *resume);

/* tls_conn_handshake: advances the handshake. After a failure the kept
 * session is forgotten (the next connection makes a full handshake). */
enum tls_step tls_conn_handshake(struct tls_conn *t);

/* tls_conn_resumed: true when the established connection resumed a session. */
bool tls_conn_resumed(const struct tls_conn *t);

/* tls_conn_alpn: the application protocol the established connection
 * negotiated: "h2", "http/1.1", or "" when none (or another). Static. */
const char *tls_conn_alpn(const struct tls_conn *t);

/* tls_conn_alpn_refused: true when the handshake failed because the server
 * selected none of the application protocols offered (its alert). */
bool tls_conn_alpn_refused(const struct tls_conn *t);

/* tls_conn_read: up to <cap> bytes into <buf>: the count read, 0 at the end
 * of the stream, or a TLS_IO_* value. */
ssize_t tls_conn_read(struct tls_conn *t, uint8_t *buf, size_t cap);

/* tls_conn_write: writes up to <len> bytes of <p>: the count written, or a
 * TLS_IO_* value. After a WANT, call again with the same bytes. */
ssize_t tls_conn_write(struct tls_conn *t, const uint8_t *p, size_t len);

/* tls_conn_pending: true when bytes already received and decrypted wait in
 * the connection: readiness of the socket will not report them. */
bool tls_conn_pending(const struct tls_conn *t);

/* tls_conn_error: why the last failure happened (a verification error or
 * OpenSSL's message), "" when none; owned by <t>. */
const char *tls_conn_error(const struct tls_conn *t);

/* tls_conn_free: releases <t> (not its socket). A connection that did not
 * fail leaves its session resumable. NULL is a no-op. */
void tls_conn_free(struct tls_conn *t);

#endif
