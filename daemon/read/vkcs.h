/*
 * vkcs.h - Valkey's compressed RDB files: the 8-byte "VKCS" envelope and
 * the LZ4 frame after it, decompressed incrementally for `redsink import`.
 *
 * Layout (valkey src/compression_stream.h and .c, compression_lz4.c, the
 * 9.2 line): "VKCS", version 1, codec id (1 = LZ4), flags (bit 0: the
 * codec's own block checksums; other bits reserved, rejected), stream
 * kind (0 = RDB); then one LZ4 frame (lz4frame.h) holding a plain RDB.
 */
#ifndef REDSINK_VKCS_H
#define REDSINK_VKCS_H

#include <stddef.h>

#include "common.h"

#define VKCS_ENVELOPE_LEN 8

struct vkcs;

/* 1 when the n bytes at p start a VKCS envelope (needs n >= 4). */
int vkcs_sniff(const void *p, size_t n);

struct vkcs *vkcs_new(void);
void vkcs_free(struct vkcs *z);

/* Output of vkcs_feed: the decompressed bytes, in order. Return 0 to go
 * on, non-zero to stop (vkcs_feed then returns 1). */
typedef int (*vkcs_out_fn)(void *ud, const char *p, size_t n);

/* Feed n compressed bytes. Returns 0 (all consumed), 1 (out asked to
 * stop) or -1 with err set (bad envelope, corrupt frame). */
int vkcs_feed(struct vkcs *z, const char *p, size_t n, vkcs_out_fn out, void *ud,
              struct rs_error *err);

/* The input ended: 0 when the frame was complete, else -1 with err set. */
int vkcs_finish(struct vkcs *z, struct rs_error *err);

#endif
