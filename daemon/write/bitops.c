/*
 * bitops.c - bit fields and bitwise combination of strings, Redis' way
 * (see bitops.h). Overflow checks follow Redis' integer arithmetic,
 * done here in unsigned types so the wrap-around Redis relies on is
 * defined behaviour in C.
 */
#include "bitops.h"

uint64_t bitops_get_unsigned(const unsigned char *p, uint64_t offset, int bits)
{
    uint64_t v = 0;

    for (int j = 0; j < bits; j++, offset++)
        v = (v << 1) | ((p[offset >> 3] >> (7 - (offset & 7))) & 1);
    return v;
}

int64_t bitops_get_signed(const unsigned char *p, uint64_t offset, int bits)
{
    uint64_t v = bitops_get_unsigned(p, offset, bits);

    if (bits < 64 && (v & ((uint64_t)1 << (bits - 1))))
        v |= UINT64_MAX << bits;          /* sign-extend */
    return (int64_t)v;
}

void bitops_set(unsigned char *p, uint64_t offset, int bits, uint64_t value)
{
    for (int j = 0; j < bits; j++, offset++) {
        unsigned bit = 7 - (unsigned)(offset & 7);
        unsigned on = (value >> (bits - 1 - j)) & 1;

        p[offset >> 3] = (unsigned char)((p[offset >> 3] & ~(1u << bit)) | (on << bit));
    }
}

int bitops_check_unsigned(uint64_t value, int64_t incr, int bits, enum bitops_overflow ow,
                          uint64_t *limit)
{
    uint64_t max = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    int64_t maxincr = (int64_t)(max - value);
    int64_t minincr = (int64_t)(0 - value);
    int rc;

    if (value > max || (incr > 0 && incr > maxincr))
        rc = 1;
    else if (incr < 0 && incr < minincr)
        rc = -1;
    else
        return 0;
    if (ow == BITOPS_WRAP)
        *limit = (value + (uint64_t)incr) & ~(bits == 64 ? 0 : UINT64_MAX << bits);
    else if (ow == BITOPS_SAT)
        *limit = rc > 0 ? max : 0;
    return rc;
}

int bitops_check_signed(int64_t value, int64_t incr, int bits, enum bitops_overflow ow,
                        int64_t *limit)
{
    int64_t max = bits == 64 ? INT64_MAX : (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
    int64_t min = -max - 1;
    /* these may wrap; Redis only relies on them once 'value' is in range */
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);
    int rc;

    if (value > max || (bits != 64 && incr > maxincr) ||
        (value >= 0 && incr > 0 && incr > maxincr))
        rc = 1;
    else if (value < min || (bits != 64 && incr < minincr) ||
             (value < 0 && incr < 0 && incr < minincr))
        rc = -1;
    else
        return 0;
    if (ow == BITOPS_WRAP) {
        uint64_t c = (uint64_t)value + (uint64_t)incr;

        if (bits < 64) {
            if (c & ((uint64_t)1 << (bits - 1)))
                c |= UINT64_MAX << bits;
            else
                c &= ~(UINT64_MAX << bits);
        }
        *limit = (int64_t)c;
    } else if (ow == BITOPS_SAT) {
        *limit = rc > 0 ? max : min;
    }
    return rc;
}

/* Byte j of source i, zero past its end. */
static unsigned char src_byte(const struct rs_bytes *src, size_t i, size_t j)
{
    return j < src[i].len ? (unsigned char)src[i].ptr[j] : 0;
}

/* Redis 8.2's DIFF, DIFF1, ANDOR and ONE (the BITOP docs' definitions). */
static void combine_82(enum bitops_op op, const struct rs_bytes *src, size_t n,
                       unsigned char *out, size_t maxlen)
{
    for (size_t j = 0; j < maxlen; j++) {
        unsigned char x = src_byte(src, 0, j), y = 0, seen = x, multi = 0;

        for (size_t i = 1; i < n; i++) {
            unsigned char b = src_byte(src, i, j);

            y |= b;
            multi |= (unsigned char)(seen & b);
            seen |= b;
        }
        switch (op) {
        case BITOPS_DIFF: out[j] = (unsigned char)(x & ~y); break;
        case BITOPS_DIFF1: out[j] = (unsigned char)(~x & y); break;
        case BITOPS_ANDOR: out[j] = (unsigned char)(x & y); break;
        default: out[j] = (unsigned char)(seen & ~multi); break;
        }
    }
}

void bitops_combine(enum bitops_op op, const struct rs_bytes *src, size_t n, unsigned char *out,
                    size_t maxlen)
{
    if (op >= BITOPS_DIFF) {
        combine_82(op, src, n, out, maxlen);
        return;
    }
    for (size_t j = 0; j < maxlen; j++) {
        unsigned char o = j < src[0].len ? (unsigned char)src[0].ptr[j] : 0;

        if (op == BITOPS_NOT) {
            out[j] = (unsigned char)~o;
            continue;
        }
        for (size_t i = 1; i < n; i++) {
            unsigned char b = j < src[i].len ? (unsigned char)src[i].ptr[j] : 0;

            if (op == BITOPS_AND)
                o &= b;
            else if (op == BITOPS_OR)
                o |= b;
            else
                o ^= b;
        }
        out[j] = o;
    }
}
