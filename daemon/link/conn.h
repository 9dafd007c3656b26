/*
 * conn.h - the byte transport to the master: a plain TCP socket, or the
 * same socket wrapped in OpenSSL's TLS. link.c does all its reads and
 * writes through conn_read()/conn_write_all(), so the handshake and the
 * network thread run unchanged over either.
 *
 * This is the only header that knows TLS exists, and conn.c the only file
 * that includes OpenSSL's headers; an SSL object is opaque here.
 *
 * The socket must be non-blocking: every wait is a poll() with a timeout.
 * A conn is used by one thread at a time.
 */
#ifndef RS_CONN_H
#define RS_CONN_H

#include <sys/types.h>
#include "common.h"

struct ssl_st;

/* TLS settings for the link (all strings borrowed; NULL or "": unset). */
struct tls_opts {
    int enabled;
    const char *ca_file;       /* PEM bundle of trusted CAs */
    const char *ca_dir;        /* c_rehash'ed directory of CAs */
    const char *cert_file;     /* client certificate (chain), PEM */
    const char *key_file;      /* its private key (default: cert_file) */
    const char *server_name;   /* SNI and the name checked (default: the host) */
    int no_verify;             /* 1: do not verify the master's certificate */
};

/* One connection: fd is borrowed (its owner closes it); ssl is NULL for
 * plain TCP. 'want_write' is set when the last conn_read() needs the
 * socket writable before it can make progress (TLS only). 'err' holds the
 * reason of the last failure. */
struct conn {
    int fd;
    struct ssl_st *ssl;
    int want_write;
    char err[200];
};

/* A plain connection over 'fd'. */
void conn_init(struct conn *c, int fd);

/*
 * Run the TLS client handshake on c->fd (connected to host:port), within
 * timeout_ms. Verifies the peer (CA file/dir or the system's, name from
 * o->server_name or host) unless o->no_verify. Returns 0, or -1 with err
 * set: RS_E_CONFIG when a local file cannot be loaded, RS_E_IO when the
 * handshake fails, worded "TLS handshake with HOST:PORT failed: REASON".
 */
int tls_connect(struct conn *c, const struct tls_opts *o, const char *host, int port,
                int timeout_ms, struct rs_error *err);

/* Read up to len bytes. >0: bytes read; 0: the peer closed the
 * connection; -1 with errno EAGAIN (nothing yet: poll, for writing when
 * c->want_write), EINTR, or anything else with c->err set. */
ssize_t conn_read(struct conn *c, char *buf, size_t len);

/* conn_read() once the connection has something (or TLS needs the
 * socket writable), waiting at most timeout_ms for it: -1 with errno
 * ETIMEDOUT when nothing came in time. */
ssize_t conn_read_wait(struct conn *c, char *buf, size_t len, int timeout_ms);

/* Write all of buf, waiting at most timeout_ms at each stall. 0, or -1
 * with c->err set. */
int conn_write_all(struct conn *c, const char *buf, size_t len, int timeout_ms);

/* Bytes already decrypted and buffered: readable without the socket
 * becoming readable, so check this before poll(). 0 for plain TCP. */
int conn_pending(const struct conn *c);

/* Free the TLS state (not the fd). conn_release of a plain conn does
 * nothing. */
void conn_release(struct conn *c);

#endif
