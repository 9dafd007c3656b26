/*
 * vkcs.c - the VKCS envelope and its LZ4 frame (see vkcs.h). The only
 * file that includes <lz4frame.h>.
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <lz4frame.h>

#include "vkcs.h"

#define OUT_CHUNK (64 * 1024)

struct vkcs {
    unsigned char env[VKCS_ENVELOPE_LEN];
    size_t env_len;
    LZ4F_dctx *dctx;
    int frame_done;
    unsigned long long in_off;   /* compressed bytes seen, for messages */
    char out[OUT_CHUNK];
};

int vkcs_sniff(const void *p, size_t n)
{
    return n >= 4 && memcmp(p, "VKCS", 4) == 0;
}

struct vkcs *vkcs_new(void)
{
    struct vkcs *z = calloc(1, sizeof(*z));

    if (z != NULL && LZ4F_isError(LZ4F_createDecompressionContext(&z->dctx, LZ4F_VERSION))) {
        free(z);
        return NULL;
    }
    return z;
}

void vkcs_free(struct vkcs *z)
{
    if (z == NULL)
        return;
    LZ4F_freeDecompressionContext(z->dctx);
    free(z);
}

static int check_envelope(const unsigned char *e, struct rs_error *err)
{
    if (memcmp(e, "VKCS", 4) != 0)
        return rs_fail(err, RS_E_RDB, "vkcs: bad magic at offset 0");
    if (e[4] != 1)
        return rs_fail(err, RS_E_RDB, "vkcs: unsupported envelope version %u at offset 4", e[4]);
    if (e[5] != 1)
        return rs_fail(err, RS_E_RDB, "vkcs: unsupported codec %u at offset 5 (only 1, LZ4)", e[5]);
    if (e[6] & ~1u)
        return rs_fail(err, RS_E_RDB, "vkcs: reserved flag bits 0x%02x at offset 6", e[6]);
    if (e[7] != 0)
        return rs_fail(err, RS_E_RDB, "vkcs: stream kind %u at offset 7 is not an RDB", e[7]);
    return 0;
}

int vkcs_feed(struct vkcs *z, const char *p, size_t n, vkcs_out_fn out, void *ud,
              struct rs_error *err)
{
    size_t produced;

    while (z->env_len < VKCS_ENVELOPE_LEN && n > 0) {
        z->env[z->env_len++] = (unsigned char)*p++;
        n--;
        z->in_off++;
        if (z->env_len == VKCS_ENVELOPE_LEN && check_envelope(z->env, err) != 0)
            return -1;
    }
    do {
        size_t src = n, dst = sizeof(z->out);
        size_t r;

        if (z->frame_done) {
            if (n > 0)
                return rs_fail(err, RS_E_RDB, "vkcs: %zu bytes after the LZ4 frame at offset %llu",
                               n, z->in_off);
            return 0;
        }
        r = LZ4F_decompress(z->dctx, z->out, &dst, p, &src, NULL);
        if (LZ4F_isError(r))
            return rs_fail(err, RS_E_RDB, "vkcs: corrupt LZ4 frame near offset %llu: %s",
                           z->in_off, LZ4F_getErrorName(r));
        p += src;
        n -= src;
        z->in_off += src;
        z->frame_done = r == 0;
        produced = dst;
        if (produced > 0 && out(ud, z->out, produced) != 0)
            return 1;
    } while (n > 0 || produced == sizeof(z->out));
    return 0;
}

int vkcs_finish(struct vkcs *z, struct rs_error *err)
{
    if (z->env_len < VKCS_ENVELOPE_LEN)
        return rs_fail(err, RS_E_RDB, "vkcs: truncated envelope (%zu of 8 bytes)", z->env_len);
    if (!z->frame_done)
        return rs_fail(err, RS_E_RDB, "vkcs: truncated LZ4 frame at offset %llu", z->in_off);
    return 0;
}
