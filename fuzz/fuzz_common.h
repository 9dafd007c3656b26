/*
 * fuzz_common.h - helpers shared by the libFuzzer targets in fuzz/.
 *
 * Header-only (each target is one .c file plus libredsink's objects).
 * 'touch' reads every byte of a borrowed buffer so that ASan sees an
 * out-of-bounds or freed rs_bytes at the handler that got it.
 */
#ifndef RS_FUZZ_COMMON_H
#define RS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "common.h"

static volatile unsigned fuzz_sink_byte;

static inline void fuzz_touch(const char *p, size_t len)
{
    unsigned acc = 0;

    for (size_t i = 0; i < len; i++)
        acc += (unsigned char)p[i];
    fuzz_sink_byte += acc;
}

static inline void fuzz_touch_bytes(const struct rs_bytes *b)
{
    if (b != NULL)
        fuzz_touch(b->ptr, b->len);
}

/* A chunk-size schedule taken from the head of the input: 'n' bytes of
 * sizes (1..256 each, cycled). Returns the size of chunk number 'i'. */
static inline size_t fuzz_chunk(const uint8_t *sizes, size_t n, size_t i)
{
    return n == 0 ? (size_t)-1 : (size_t)sizes[i % n] + 1;
}

#endif
