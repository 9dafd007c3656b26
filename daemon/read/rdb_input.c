/*
 * rdb_input.c - the RDB parser's resumable byte reader (rdb_int.h).
 *
 * rdb_need() makes the first n bytes of the current item readable, in the
 * caller's chunk or, when the item straddles two chunks, in p->buf;
 * rdb_done() consumes them. On top of it: lengths, strings (integer and
 * LZF forms), bytes saved across the next take_*, the parser's errors,
 * and the CRC64 computed over the bytes as they are consumed.
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"
#endif

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(HAVE_CONFIG_H) || defined(HAVE_LIBLZF_LZF_H)
#include <liblzf/lzf.h>
#else
#include <lzf.h>
#endif

#include "rdb_int.h"

/* An item buffer (p->buf, p->zbuf, a saved copy) bigger than this is
 * given back once the item that needed it is over. "Over" means at the
 * next take_* of the parser (rdb_need() or rdb_take_string_opt()), never in
 * rdb_done(): the bytes a take_* returns must stay valid until the next one. */
#define RDB_BUF_KEEP ((size_t)1 << 20)

/* ---------------------------------------------------------------- CRC64 */

#define CRC64_POLY 0x95AC9329AC4BC9B5ULL   /* Jones, reflected form */

static uint64_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (int i = 0; i < 256; i++) {
        uint64_t c = (uint64_t)i;

        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC64_POLY : c >> 1;
        crc_table[0][i] = c;
    }
    for (int i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

/* The tables, built once (rdb_parser_new calls this). */
void rdb_crc_prepare(void)
{
    pthread_once(&crc_once, crc_init);
}

/* Slicing-by-8: the checksum covers every byte of a snapshot, so it must
 * not be the bottleneck of a 1 GB full sync. */
uint64_t rdb_crc64(uint64_t crc, const unsigned char *p, size_t len)
{
    pthread_once(&crc_once, crc_init);
    while (len >= 8) {
        crc ^= le64(p);
        crc = crc_table[7][crc & 0xff] ^ crc_table[6][(crc >> 8) & 0xff] ^
              crc_table[5][(crc >> 16) & 0xff] ^ crc_table[4][(crc >> 24) & 0xff] ^
              crc_table[3][(crc >> 32) & 0xff] ^ crc_table[2][(crc >> 40) & 0xff] ^
              crc_table[1][(crc >> 48) & 0xff] ^ crc_table[0][crc >> 56];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}
/* --------------------------------------------------------------- errors */

enum rs_status rdb_fail(struct rdb_parser *p, int code, const char *fmt, ...)
{
    char msg[sizeof(p->err.msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rs_fail(&p->err, code, "%s", msg);
    p->status = RS_ERROR;
    return RS_ERROR;
}


enum rs_status rdb_nomem(struct rdb_parser *p)
{
    return rdb_fail(p, RS_E_NOMEM, "rdb: out of memory at offset %llu",
                    (unsigned long long)rdb_cur_off(p));
}

/* A handler returned non-zero (or explained itself with set_error). */
enum rs_status rdb_stopped(struct rdb_parser *p)
{
    return rdb_fail(p, RS_E_CALLBACK, "rdb: a handler stopped the parser at offset %llu",
                    (unsigned long long)rdb_cur_off(p));
}
/* ----------------------------------------------------- input primitives */

/* Grow p->buf to hold 'have' bytes now, on the way to 'want': memory
 * follows the bytes that actually arrived, not what a length claims. */
static int reserve(struct rdb_parser *p, size_t have, size_t want)
{
    size_t cap;
    unsigned char *nb;

    if (have <= p->buf_cap)
        return 0;
    cap = p->buf_cap < 256 ? 256 : p->buf_cap * 2;
    if (cap > want)
        cap = want;
    if (cap < have)
        cap = have;
    if ((nb = realloc(p->buf, cap)) == NULL)
        return -1;
    p->buf = nb;
    p->buf_cap = cap;
    return 0;
}

/*
 * Make the first n bytes of the current item available at *out without
 * consuming them. Returns RS_AGAIN after stashing what the chunk had
 * (those bytes count as consumed for the caller), RS_OK, or RS_ERROR.
 * Calls for one item ask for growing n, so the stash never holds bytes
 * of the next item.
 */
enum rs_status rdb_need(struct rdb_parser *p, size_t n, const unsigned char **out)
{
    size_t avail = p->in_len - p->in_pos, take;

    if (p->buf_len == 0) {
        if (p->buf_cap > RDB_BUF_KEEP) {   /* the big item it held is over */
            free(p->buf);
            p->buf = NULL;
            p->buf_cap = 0;
        }
        if (avail >= n) {
            *out = p->in + p->in_pos;
            return RS_OK;
        }
    } else if (p->buf_len >= n) {
        *out = p->buf;
        return RS_OK;
    }
    if (avail == 0)
        return RS_AGAIN;
    if (n > p->max_item + 64)
        return rdb_fail(p, RS_E_RDB, "rdb: item of %zu bytes at offset %llu exceeds the limit of %zu",
                        n, (unsigned long long)rdb_cur_off(p), p->max_item);
    take = n - p->buf_len;
    if (take > avail)
        take = avail;
    if (reserve(p, p->buf_len + take, n) != 0)
        return rdb_nomem(p);
    memcpy(p->buf + p->buf_len, p->in + p->in_pos, take);
    p->buf_len += take;
    p->in_pos += take;
    if (p->buf_len < n)
        return RS_AGAIN;
    *out = p->buf;
    return RS_OK;
}

static enum rs_status bad_length(struct rdb_parser *p, unsigned b, size_t at)
{
    return rdb_fail(p, RS_E_RDB, "rdb: bad length 0x%02x at offset %llu", b,
                    (unsigned long long)(rdb_cur_off(p) + at));
}

/* Decode the length (§3) found 'at' bytes into the current item. */
static enum rs_status peek_length(struct rdb_parser *p, size_t at, uint64_t *v, size_t *size)
{
    const unsigned char *s = NULL;
    enum rs_status st;
    size_t n;

    *v = 0;                      /* keeps gcc -O3's flow analysis quiet */
    *size = 0;
    if ((st = rdb_need(p, at + 1, &s)) != RS_OK)
        return st;
    switch (s[at] >> 6) {
    case 0:
        *v = s[at] & 0x3F;
        *size = 1;
        return RS_OK;
    case 1:
        n = 2;
        break;
    case 2:
        if (s[at] == 0x80)
            n = 5;
        else if (s[at] == 0x81)
            n = 9;
        else
            return bad_length(p, s[at], at);
        break;
    default:
        return bad_length(p, s[at], at);
    }
    if ((st = rdb_need(p, at + n, &s)) != RS_OK)
        return st;
    s += at;
    if (n == 2)
        *v = (uint64_t)(s[0] & 0x3F) << 8 | s[1];
    else if (n == 5)
        *v = (uint64_t)s[1] << 24 | (uint64_t)s[2] << 16 | (uint64_t)s[3] << 8 | s[4];
    else
        *v = be64(s + 1);
    *size = n;
    return RS_OK;
}

enum rs_status rdb_take_length(struct rdb_parser *p, uint64_t *v)
{
    enum rs_status st;
    size_t size = 0;

    if ((st = peek_length(p, 0, v, &size)) != RS_OK)
        return st;
    rdb_done(p, size);
    return RS_OK;
}

/* Take n raw bytes; *out stays valid until the next rdb_need(). */
enum rs_status rdb_take_raw(struct rdb_parser *p, size_t n, const unsigned char **out)
{
    enum rs_status st;

    if ((st = rdb_need(p, n, out)) != RS_OK)
        return st;
    rdb_done(p, n);
    return RS_OK;
}

static enum rs_status too_big(struct rdb_parser *p, uint64_t len)
{
    return rdb_fail(p, RS_E_RDB, "rdb: string of %llu bytes at offset %llu%s exceeds the limit of %zu",
                    (unsigned long long)len, (unsigned long long)p->item_off, p->key_ctx,
                    p->max_item);
}

/* Name the key being read in later messages: its first bytes, escaped. */
void rdb_key_ctx_set(struct rdb_parser *p, const struct rs_bytes *name)
{
    static const char hex[] = "0123456789abcdef";
    char *o = p->key_ctx, *end = p->key_ctx + sizeof(p->key_ctx) - 12;

    o += sprintf(o, " in key '");
    for (size_t i = 0; i < name->len && o < end; i++) {
        unsigned char c = (unsigned char)name->ptr[i];

        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            *o++ = (char)c;
        } else {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    strcpy(o, name->len && o >= end ? "...'" : "'");
}

/* The LZF form (§4, §9): clen, ulen, clen bytes. 'decode' == 0 only
 * frames it (for data that is skipped). */
static enum rs_status take_lzf(struct rdb_parser *p, struct rs_bytes *out, int decode)
{
    const unsigned char *s = NULL;
    uint64_t clen, ulen;
    size_t h1 = 0, h2 = 0, hdr;
    enum rs_status st;

    if ((st = peek_length(p, 1, &clen, &h1)) != RS_OK ||
        (st = peek_length(p, 1 + h1, &ulen, &h2)) != RS_OK)
        return st;
    hdr = 1 + h1 + h2;
    if (clen > p->max_item)
        return too_big(p, clen);
    if (ulen > p->max_item)
        return too_big(p, ulen);
    /* LZF expands at most 264 bytes out of a 3-byte back reference. */
    if (ulen > clen * 89 + 64)
        return rdb_fail(p, RS_E_RDB, "rdb: bad LZF string at offset %llu%s: %llu bytes cannot expand to %llu",
                        (unsigned long long)p->item_off, p->key_ctx, (unsigned long long)clen,
                        (unsigned long long)ulen);
    if ((st = rdb_need(p, hdr + (size_t)clen, &s)) != RS_OK)
        return st;
    if (decode) {
        if (ulen > p->zbuf_cap) {
            unsigned char *nb = realloc(p->zbuf, ulen ? ulen : 1);

            if (nb == NULL)
                return rdb_nomem(p);
            p->zbuf = nb;
            p->zbuf_cap = ulen;
        }
        if (lzf_decompress(s + hdr, (unsigned)clen, p->zbuf, (unsigned)ulen) != ulen)
            return rdb_fail(p, RS_E_RDB, "rdb: bad LZF string at offset %llu%s: does not decompress to %llu bytes",
                            (unsigned long long)p->item_off, p->key_ctx, (unsigned long long)ulen);
    }
    out->ptr = (const char *)p->zbuf;
    out->len = decode ? (size_t)ulen : 0;
    rdb_done(p, hdr + (size_t)clen);
    return RS_OK;
}

/* The integer forms 0xC0-0xC2: the value is their decimal text. */
static enum rs_status take_int_string(struct rdb_parser *p, unsigned enc, struct rs_bytes *out)
{
    static const size_t sizes[3] = { 2, 3, 5 };
    const unsigned char *s = NULL;
    enum rs_status st;
    long long v;

    if ((st = rdb_need(p, sizes[enc], &s)) != RS_OK)
        return st;
    if (enc == 0)
        v = (int8_t)s[1];
    else if (enc == 1)
        v = (int16_t)(uint16_t)(s[1] | s[2] << 8);
    else
        v = (int32_t)le32(s + 1);
    out->ptr = p->num[3];
    out->len = rs_ll2str(p->num[3], v);
    rdb_done(p, sizes[enc]);
    return RS_OK;
}

/*
 * Take one string (§4). *out stays valid until the next take_*: it
 * points into the caller's chunk, p->buf, p->zbuf or p->num[3].
 */
enum rs_status rdb_take_string_opt(struct rdb_parser *p, struct rs_bytes *out, int decode)
{
    const unsigned char *s = NULL;
    enum rs_status st;
    uint64_t len;
    size_t hl = 0;

    p->item_off = rdb_cur_off(p);
    if (p->zbuf_cap > RDB_BUF_KEEP) {      /* the big LZF string it held is over */
        free(p->zbuf);
        p->zbuf = NULL;
        p->zbuf_cap = 0;
    }
    if ((st = rdb_need(p, 1, &s)) != RS_OK)
        return st;
    if ((s[0] & 0xC0) == 0xC0) {
        unsigned enc = s[0] & 0x3F;

        if (enc < 3)
            return take_int_string(p, enc, out);
        if (enc == 3)
            return take_lzf(p, out, decode);
        return rdb_fail(p, RS_E_RDB, "rdb: bad string encoding 0x%02x at offset %llu",
                        s[0], (unsigned long long)p->item_off);
    }
    if ((st = peek_length(p, 0, &len, &hl)) != RS_OK)
        return st;
    if (len > p->max_item)
        return too_big(p, len);
    if ((st = rdb_need(p, hl + (size_t)len, &s)) != RS_OK)
        return st;
    out->ptr = (const char *)s + hl;
    out->len = (size_t)len;
    rdb_done(p, hl + (size_t)len);
    return RS_OK;
}

/* ---------------------------------------------------------- saved bytes */

int rdb_save_copy(struct saved *sv, const char *ptr, size_t len)
{
    if (sv->cap > RDB_BUF_KEEP && len <= RDB_BUF_KEEP) {   /* give a big copy back */
        free(sv->own);
        sv->own = NULL;
        sv->cap = 0;
    }
    if (len > sv->cap || sv->own == NULL) {
        char *nb = realloc(sv->own, len ? len : 1);

        if (nb == NULL)
            return -1;
        sv->own = nb;
        sv->cap = len;
    }
    if (len)
        memmove(sv->own, ptr, len);
    sv->ptr = sv->own;
    sv->len = len;
    sv->borrowed = 0;
    return 0;
}

static int inside(const void *buf, size_t cap, const struct rs_bytes *b)
{
    uintptr_t lo = (uintptr_t)buf, at = (uintptr_t)b->ptr;

    return buf != NULL && at >= lo && at - lo <= cap && b->len <= cap - (at - lo);
}

static void saved_release_big(struct saved *sv)
{
    if (sv->cap > RDB_BUF_KEEP) {
        free(sv->own);
        *sv = (struct saved){ NULL, 0, 0, NULL, 0 };
    }
}

/* A key is over: give back every buffer that held a big item of it (the
 * name, a field, the item buffer, the LZF buffer) now, not at the next
 * read. The last key of a load has no next read: its buffers would stay
 * through load_commit, whose index sort needs a copy of every name. */
void rdb_release_big(struct rdb_parser *p)
{
    saved_release_big(&p->keyname);
    saved_release_big(&p->save[0]);
    saved_release_big(&p->save[1]);
    if (p->buf_len == 0 && p->buf_cap > RDB_BUF_KEEP) {
        free(p->buf);
        p->buf = NULL;
        p->buf_cap = 0;
    }
    if (p->zbuf_cap > RDB_BUF_KEEP) {
        free(p->zbuf);
        p->zbuf = NULL;
        p->zbuf_cap = 0;
    }
}

/* Keep a big b that lies in one of the parser's own buffers by taking that
 * buffer over instead of copying it: one copy of a big item, never two.
 * The slot's old buffer is freed; the parser grows a new one when needed. */
int rdb_save_steal(struct rdb_parser *p, struct saved *sv, const struct rs_bytes *b)
{
    unsigned char **from = NULL;
    size_t *cap = NULL;

    if (b->len <= RDB_BUF_KEEP)
        return 0;
    if (p->buf_len == 0 && inside(p->buf, p->buf_cap, b)) {
        from = &p->buf;
        cap = &p->buf_cap;
    } else if (inside(p->zbuf, p->zbuf_cap, b)) {
        from = &p->zbuf;
        cap = &p->zbuf_cap;
    } else {
        return 0;
    }
    free(sv->own);
    sv->own = (char *)*from;
    sv->cap = *cap;
    sv->ptr = b->ptr;
    sv->len = b->len;
    sv->borrowed = 0;
    *from = NULL;
    *cap = 0;
    return 1;
}

/* Keep b across the next take_*: borrow it when it lies in the caller's
 * chunk (the common case: no copy), take a big one's buffer over, copy
 * it otherwise. */
enum rs_status rdb_save(struct rdb_parser *p, int i, const struct rs_bytes *b)
{
    struct saved *sv = &p->save[i];

    if (p->in != NULL && inside(p->in, p->in_len, b)) {
        sv->ptr = b->ptr;
        sv->len = b->len;
        sv->borrowed = 1;
        return RS_OK;
    }
    if (rdb_save_steal(p, sv, b))
        return RS_OK;
    if (rdb_save_copy(sv, b->ptr, b->len) != 0)
        return rdb_nomem(p);
    return RS_OK;
}


/* The chunk is about to go away: copy what is still borrowed from it. */
int rdb_keep_saved(struct rdb_parser *p)
{
    for (int i = 0; i < 2; i++) {
        struct saved *sv = &p->save[i];

        if (sv->borrowed && rdb_save_copy(sv, sv->ptr, sv->len) != 0)
            return -1;
    }
    return 0;
}

/* Add the bytes consumed since the last call to the checksum. */
void rdb_crc_sync(struct rdb_parser *p)
{
    if (p->in_pos > p->crc_pos) {
        p->crc = rdb_crc64(p->crc, p->in + p->crc_pos, p->in_pos - p->crc_pos);
        p->crc_pos = p->in_pos;
    }
}
