/*
 * conn.c - the transport under the replication link (see conn.h): plain
 * read()/write() on a non-blocking socket, or OpenSSL's SSL_read() and
 * SSL_write() on the same socket, with the waits done by poll().
 *
 * A TLS context is built for each connection, so renewed certificates and
 * CA files are picked up on the next reconnection. Verification is on
 * unless asked otherwise: the chain against the CA file/dir (or the
 * system's default paths), and the name (server_name, else the host) as a
 * DNS name or, for an address, as an IP SAN.
 *
 * Reading order: tls_connect(), conn_read(), conn_write_all().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conn.h"

void conn_init(struct conn *c, int fd)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd;
}

void conn_release(struct conn *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    c->ssl = NULL;
}

int conn_pending(const struct conn *c)
{
    return c->ssl ? SSL_pending(c->ssl) > 0 : 0;
}

/* 1 when ready, 0 on timeout, -1 on error. */
static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = events };
    int n;

    do
        n = poll(&pfd, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    return n;
}

static int is_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Why the last SSL call returning 'ret' failed, in words, into c->err.
 * Call right after it: this reads errno and OpenSSL's error queue. */
static void ssl_reason(struct conn *c, int ret, int ssl_err)
{
    int saved = errno;
    unsigned long code = ERR_peek_last_error();
    const char *why = code ? ERR_reason_error_string(code) : NULL;

    if (why != NULL)
        snprintf(c->err, sizeof(c->err), "TLS error: %s", why);
    else if (ssl_err == SSL_ERROR_SYSCALL && ret < 0 && saved != 0)
        snprintf(c->err, sizeof(c->err), "%s", strerror(saved));
    else
        snprintf(c->err, sizeof(c->err), "connection closed by the master");
    ERR_clear_error();
}

/* ------------------------------------------------------------------ */
/* Connecting                                                          */
/* ------------------------------------------------------------------ */

static int ctx_fail(struct rs_error *err, const char *what, const char *path)
{
    unsigned long code = ERR_peek_last_error();
    const char *why = code ? ERR_reason_error_string(code) : NULL;

    rs_fail(err, RS_E_CONFIG, "cannot load %s '%s': %s", what, path,
            why ? why : "unknown TLS error");
    ERR_clear_error();
    return -1;
}

static SSL_CTX *ctx_new(const struct tls_opts *o, struct rs_error *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    const char *key = is_set(o->key_file) ? o->key_file : o->cert_file;

    if (ctx == NULL) {
        rs_fail(err, RS_E_NOMEM, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /* a master that closes without close_notify: EOF, not an error */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    SSL_CTX_set_verify(ctx, o->no_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    if (is_set(o->ca_file) || is_set(o->ca_dir)) {
        if (SSL_CTX_load_verify_locations(ctx, is_set(o->ca_file) ? o->ca_file : NULL,
                                          is_set(o->ca_dir) ? o->ca_dir : NULL) != 1) {
            ctx_fail(err, "TLS CA", is_set(o->ca_file) ? o->ca_file : o->ca_dir);
            goto fail;
        }
    } else if (!o->no_verify && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        ctx_fail(err, "the system's TLS CAs", X509_get_default_cert_file());
        goto fail;
    }
    if (is_set(o->cert_file)) {
        if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
            ctx_fail(err, "TLS certificate", o->cert_file);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            ctx_fail(err, "TLS key", key);
            goto fail;
        }
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* SNI (names only: RFC 6066 forbids addresses) and the name to verify. */
static int ssl_set_names(SSL *ssl, const char *name, int verify)
{
    unsigned char addr[16];
    int is_ip = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;

    if (!is_ip && SSL_set_tlsext_host_name(ssl, name) != 1)
        return -1;
    if (!verify)
        return 0;
    if (is_ip)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -1;
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host(ssl, name) == 1 ? 0 : -1;
}

/* Drive SSL_connect() to its end within timeout_ms. */
static int handshake_loop(struct conn *c, int timeout_ms)
{
    int64_t deadline = rs_mono_ms() + timeout_ms;

    for (;;) {
        int ret, e, left;

        ERR_clear_error();
        errno = 0;
        ret = SSL_connect(c->ssl);
        if (ret == 1)
            return 0;
        e = SSL_get_error(c->ssl, ret);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            ssl_reason(c, ret, e);
            return -1;
        }
        left = (int)(deadline - rs_mono_ms());
        if (left <= 0 || wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, left) == 0) {
            snprintf(c->err, sizeof(c->err), "timeout after %d ms", timeout_ms);
            return -1;
        }
    }
}

int tls_connect(struct conn *c, const struct tls_opts *o, const char *host, int port,
                int timeout_ms, struct rs_error *err)
{
    const char *name = is_set(o->server_name) ? o->server_name : host;
    SSL_CTX *ctx = ctx_new(o, err);
    long vr;

    if (ctx == NULL)
        return -1;
    c->ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);             /* the SSL object holds its own reference */
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        conn_release(c);
        return rs_fail(err, RS_E_NOMEM, "cannot set up TLS to %s:%d", host, port);
    }
    if (ssl_set_names(c->ssl, name, !o->no_verify) != 0) {
        conn_release(c);
        return rs_fail(err, RS_E_CONFIG, "bad TLS server name '%s'", name);
    }
    if (handshake_loop(c, timeout_ms) == 0)
        return 0;
    vr = SSL_get_verify_result(c->ssl);
    if (!o->no_verify && vr != X509_V_OK)
        rs_fail(err, RS_E_IO, "TLS handshake with %s:%d failed: certificate verify failed: %s",
                host, port, X509_verify_cert_error_string(vr));
    else
        rs_fail(err, RS_E_IO, "TLS handshake with %s:%d failed: %s", host, port,
                strncmp(c->err, "TLS error: ", 11) == 0 ? c->err + 11 : c->err);
    conn_release(c);
    return -1;
}

/* ------------------------------------------------------------------ */
/* Reading and writing                                                 */
/* ------------------------------------------------------------------ */

ssize_t conn_read(struct conn *c, char *buf, size_t len)
{
    int ret, e;

    if (c->ssl == NULL) {
        ssize_t n = read(c->fd, buf, len);

        if (n < 0 && errno != EAGAIN && errno != EINTR)
            snprintf(c->err, sizeof(c->err), "%s", strerror(errno));
        return n;
    }
    c->want_write = 0;
    ERR_clear_error();
    errno = 0;
    ret = SSL_read(c->ssl, buf, len > 1 << 30 ? 1 << 30 : (int)len);
    if (ret > 0)
        return ret;
    e = SSL_get_error(c->ssl, ret);
    switch (e) {
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_WANT_WRITE:
        c->want_write = 1;
        /* fall through */
    case SSL_ERROR_WANT_READ:
        errno = EAGAIN;
        return -1;
    default:
        if (e == SSL_ERROR_SYSCALL && ret == 0 && ERR_peek_error() == 0)
            return 0;              /* EOF without close_notify */
        ssl_reason(c, ret, e);
        errno = EIO;
        return -1;
    }
}

/* One write attempt: >0 written, 0 must wait for 'ev', -1 failed. */
static ssize_t write_some(struct conn *c, const char *buf, size_t len, short *ev)
{
    int ret, e;

    *ev = POLLOUT;
    if (c->ssl == NULL) {
        ssize_t n = write(c->fd, buf, len);

        if (n >= 0)
            return n;
        if (errno == EAGAIN || errno == EINTR)
            return 0;
        snprintf(c->err, sizeof(c->err), "%s", strerror(errno));
        return -1;
    }
    ERR_clear_error();
    errno = 0;
    ret = SSL_write(c->ssl, buf, len > 1 << 30 ? 1 << 30 : (int)len);
    if (ret > 0)
        return ret;
    e = SSL_get_error(c->ssl, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        *ev = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return 0;
    }
    ssl_reason(c, ret, e);
    return -1;
}

ssize_t conn_read_wait(struct conn *c, char *buf, size_t len, int timeout_ms)
{
    struct pollfd pfd = { .fd = c->fd, .events = c->want_write ? POLLOUT : POLLIN };

    /* TLS may hold decrypted bytes the socket no longer shows. */
    if (!conn_pending(c) && poll(&pfd, 1, timeout_ms) == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    return conn_read(c, buf, len);
}

int conn_write_all(struct conn *c, const char *buf, size_t len, int timeout_ms)
{
    while (len > 0) {
        short ev;
        ssize_t n = write_some(c, buf, len, &ev);
        int w;

        if (n < 0)
            return -1;
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        /* SSL_write() must be retried with the same bytes: the loop does */
        w = wait_fd(c->fd, ev, timeout_ms);
        if (w == 0) {
            snprintf(c->err, sizeof(c->err), "write timeout after %d ms", timeout_ms);
            return -1;
        }
        if (w < 0) {
            snprintf(c->err, sizeof(c->err), "%s", strerror(errno));
            return -1;
        }
    }
    return 0;
}
