/*
 * common.c - errors, clocks, UTF-8 validation and integer parsing shared
 * by every module.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"

int rs_fail(struct rs_error *e, int code, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL || e->code != 0)
        return -1;            /* the first error is the one that counts */
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

void rs_error_clear(struct rs_error *e)
{
    e->code = 0;
    e->msg[0] = '\0';
}

int64_t rs_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rs_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rs_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned c;
        size_t n;
        unsigned cp, min;
        uint64_t w;

        /* ASCII runs, 8 bytes at a time, then byte by byte: most keys and
         * values are ASCII */
        while (len - i >= 8) {
            memcpy(&w, p + i, 8);
            if (w & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        while (i < len && p[i] < 0x80)
            i++;
        if (i == len)
            break;
        c = p[i];
        if ((c & 0xE0) == 0xC0) {
            n = 1; cp = c & 0x1F; min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2; cp = c & 0x0F; min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3; cp = c & 0x07; min = 0x10000;
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

int rs_parse_version(const char *p, size_t len)
{
    long part[3] = { 0, 0, 0 };
    size_t i = 0;

    for (int k = 0; k < 3; k++) {
        size_t start = i;

        while (i < len && p[i] >= '0' && p[i] <= '9' && i - start < 4)
            part[k] = part[k] * 10 + (p[i++] - '0');
        if (i == start || (k < 2 && (i >= len || p[i++] != '.')))
            return 0;
    }
    if (part[1] > 99 || part[2] > 99 || part[0] < 1)
        return 0;
    return (int)(part[0] * 10000 + part[1] * 100 + part[2]);
}

int rs_parse_ll(const char *p, size_t len, long long *out)
{
    unsigned long long v = 0, limit;
    int neg = 0, check;
    size_t i = 0;

    if (len == 0 || len > 20)
        return -1;
    if (p[0] == '-') {
        neg = 1;
        i = 1;
        if (len == 1)
            return -1;
    }
    if (p[i] == '0' && len > i + 1)
        return -1;            /* leading zeros: not canonical */
    if (neg && p[i] == '0')
        return -1;            /* "-0" */
    limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
    /* up to 18 digits cannot overflow: no division per digit for RESP
     * headers and most values (6 calls an XADD, bench/replay) */
    check = len - i > 18;
    for (; i < len; i++) {
        unsigned d;

        if (p[i] < '0' || p[i] > '9')
            return -1;
        d = (unsigned)(p[i] - '0');
        if (check && v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = neg ? (long long)(0 - v) : (long long)v;
    return 0;
}

size_t rs_ll2str(char *buf, long long v)
{
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char tmp[20];
    size_t n = 0, i = 0;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        buf[i++] = '-';
    while (n > 0)
        buf[i++] = tmp[--n];
    return i;
}

const char *rs_type_name(enum rs_type t)
{
    switch (t) {
    case RS_T_STRING: return "string";
    case RS_T_LIST: return "list";
    case RS_T_SET: return "set";
    case RS_T_ZSET: return "zset";
    case RS_T_HASH: return "hash";
    case RS_T_STREAM: return "stream";
    case RS_T_MODULE: return "module";
    case RS_T_ARRAY: return "array";
    case RS_T_PATHHASH: return "path-hash";
    case RS_T_NONE: break;
    }
    return "none";
}
