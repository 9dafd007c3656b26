/*
 * bitops.h - the bit-level arithmetic of SETBIT, BITOP and BITFIELD, as
 * Redis does it (bitops.c): bit 0 is the most significant bit of byte 0,
 * fields are read and written MSB first, and the overflow rules of
 * BITFIELD's WRAP, SAT and FAIL. Pure functions on byte buffers; the
 * commands themselves are in cmd_string.c.
 */
#ifndef RS_BITOPS_H
#define RS_BITOPS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* BITFIELD's OVERFLOW modes. */
enum bitops_overflow { BITOPS_WRAP, BITOPS_SAT, BITOPS_FAIL };

/* BITOP's operators. */
enum bitops_op { BITOPS_AND, BITOPS_OR, BITOPS_XOR, BITOPS_NOT,
                 /* Redis 8.2: with X = the first source, Y = the OR of the others */
                 BITOPS_DIFF,      /* X and not Y */
                 BITOPS_DIFF1,     /* Y and not X */
                 BITOPS_ANDOR,     /* X and Y */
                 BITOPS_ONE };     /* set in exactly one source */

/* The 'bits'-wide field at bit 'offset' of 'p' (which must hold it), as
 * an unsigned value or sign-extended. bits is 1..64. */
uint64_t bitops_get_unsigned(const unsigned char *p, uint64_t offset, int bits);
int64_t bitops_get_signed(const unsigned char *p, uint64_t offset, int bits);

/* Store the low 'bits' bits of 'value' at bit 'offset' of 'p'. */
void bitops_set(unsigned char *p, uint64_t offset, int bits, uint64_t value);

/* Would value + incr leave the range of a 'bits'-wide unsigned (signed)
 * field? 0 no; 1 above it, -1 below it, and then *limit is what WRAP or
 * SAT store (untouched for FAIL). Redis' quirks included: a signed SET of
 * a value far below the range can count as "above". */
int bitops_check_unsigned(uint64_t value, int64_t incr, int bits, enum bitops_overflow ow,
                          uint64_t *limit);
int bitops_check_signed(int64_t value, int64_t incr, int bits, enum bitops_overflow ow,
                        int64_t *limit);

/* BITOP: combine the n sources (a missing key is an empty source) into
 * out[0..maxlen), where maxlen is the longest source's length; bytes past
 * a source's end count as zero. NOT uses src[0] only; DIFF, DIFF1 and
 * ANDOR take src[0] as X and the others as the Ys. */
void bitops_combine(enum bitops_op op, const struct rs_bytes *src, size_t n, unsigned char *out,
                    size_t maxlen);

#endif
