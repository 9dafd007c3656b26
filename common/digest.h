/*
 * digest.h - SHA-256 of a byte string, from OpenSSL's libcrypto (digest.c
 * is the one file that includes its digest API; TLS stays in
 * daemon/link/conn.c).
 */
#ifndef RS_DIGEST_H
#define RS_DIGEST_H

#include <stddef.h>

#define RS_SHA256_LEN 32

/* The SHA-256 of p[0..n) into out; 0, or -1 when libcrypto fails (out of
 * memory). */
int rs_sha256(const void *p, size_t n, unsigned char out[RS_SHA256_LEN]);

#endif
