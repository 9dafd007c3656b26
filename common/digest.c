/*
 * digest.c - SHA-256 through libcrypto's one-shot EVP_Digest (digest.h).
 */
#include <openssl/evp.h>

#include "digest.h"

int rs_sha256(const void *p, size_t n, unsigned char out[RS_SHA256_LEN])
{
    unsigned int len = 0;

    if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != RS_SHA256_LEN)
        return -1;
    return 0;
}
