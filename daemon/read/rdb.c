/*
 * rdb.c - a streaming (push) parser for RDB files and DUMP payloads.
 *
 * The caller feeds chunks of any size; the parser walks them with one
 * state machine (enum rdb_state, one small function per state, the table
 * 'steps' at the bottom) and calls the handlers of rdb.h as soon as an
 * item is complete. An item is one length, one string, or one
 * ziplist/listpack/intset/zipmap blob. When an item lies entirely inside
 * the caller's chunk it is used in place; only an item that straddles two
 * chunks is copied into p->buf, so memory is bounded by the largest item
 * (capped by max_item), never by the size of a key or of the snapshot.
 *
 * Every take_* primitive consumes a whole item or nothing (RS_AGAIN), and
 * handlers run only after their bytes are consumed: resuming after
 * RS_AGAIN never repeats a callback. The CRC64 is computed over the bytes
 * as they are consumed.
 *
 * Left out on purpose: module values are walked and skipped, not decoded;
 * Redis 8.6 streams (type 26) are refused because their layout could not
 * be verified in Redis' source; nothing here interprets AUX fields.
 *
 * Start reading at rdb_parser_feed(), then st_opcode().
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"
#endif

#include <limits.h>
#include <math.h>
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

#include "rdb.h"

#define RDB_DEFAULT_MAX_ITEM ((size_t)512 * 1024 * 1024 + 64 * 1024)
/* An item buffer (p->buf, p->zbuf, a saved copy) bigger than this is
 * given back once the item that needed it is over. "Over" means at the
 * next take_* of the parser (need() or take_string_opt()), never in
 * done(): the bytes a take_* returns must stay valid until the next one. */
#define RDB_BUF_KEEP ((size_t)1 << 20)

/* Opcodes (redis src/rdb.h RDB_OPCODE_*; 243 means something else in
 * Valkey files, see st_opcode). */
enum rdb_opcode {
    RDB_OP_KEY_META = 243,       /* Redis 13: KEY_META; Valkey 80: SLOT_IMPORT */
    RDB_OP_SLOT_INFO = 244,
    RDB_OP_FUNCTION2 = 245,
    RDB_OP_FUNCTION_PRE_GA = 246,
    RDB_OP_MODULE_AUX = 247,
    RDB_OP_IDLE = 248,
    RDB_OP_FREQ = 249,
    RDB_OP_AUX = 250,
    RDB_OP_RESIZEDB = 251,
    RDB_OP_EXPIRETIME_MS = 252,
    RDB_OP_EXPIRETIME = 253,
    RDB_OP_SELECTDB = 254,
    RDB_OP_EOF = 255
};

/* Object type bytes (redis src/rdb.h RDB_TYPE_*). */
enum rdb_type {
    RDB_TYPE_STRING = 0,
    RDB_TYPE_LIST = 1,
    RDB_TYPE_SET = 2,
    RDB_TYPE_ZSET = 3,
    RDB_TYPE_HASH = 4,
    RDB_TYPE_ZSET_2 = 5,
    RDB_TYPE_MODULE_PRE_GA = 6,
    RDB_TYPE_MODULE_2 = 7,
    RDB_TYPE_HASH_ZIPMAP = 9,
    RDB_TYPE_LIST_ZIPLIST = 10,
    RDB_TYPE_SET_INTSET = 11,
    RDB_TYPE_ZSET_ZIPLIST = 12,
    RDB_TYPE_HASH_ZIPLIST = 13,
    RDB_TYPE_LIST_QUICKLIST = 14,
    RDB_TYPE_STREAM_LISTPACKS = 15,
    RDB_TYPE_HASH_LISTPACK = 16,
    RDB_TYPE_ZSET_LISTPACK = 17,
    RDB_TYPE_LIST_QUICKLIST_2 = 18,
    RDB_TYPE_STREAM_LISTPACKS_2 = 19,
    RDB_TYPE_SET_LISTPACK = 20,
    RDB_TYPE_STREAM_LISTPACKS_3 = 21,
    RDB_TYPE_HASH_22 = 22,       /* Redis: METADATA_PRE_GA; Valkey: HASH_2 */
    RDB_TYPE_HASH_23 = 23,       /* Redis: LISTPACK_EX_PRE_GA; Valkey: PATH_HASH */
    RDB_TYPE_HASH_METADATA = 24,
    RDB_TYPE_HASH_LISTPACK_EX = 25,
    RDB_TYPE_STREAM_LISTPACKS_4 = 26,  /* Redis 8.6 (RDB 13): v3 + IDMP state */
    RDB_TYPE_STREAM_LISTPACKS_5 = 27,  /* Redis 8.8 (RDB 14): layout not verified */
    RDB_TYPE_ARRAY = 28                /* Redis 8.8 (RDB 14) */
};

enum rdb_state {
    ST_MAGIC,
    ST_OPCODE,
    ST_SELECTDB,
    ST_RESIZEDB,
    ST_EXPIRE_S,
    ST_EXPIRE_MS,
    ST_IDLE,
    ST_FREQ,
    ST_AUX,
    ST_MODULE_AUX,
    ST_FUNCTION2,
    ST_FUNCTION_PRE_GA,
    ST_SLOT_INFO,
    ST_KEY_META,
    ST_SLOT_IMPORT,
    ST_KEY,
    ST_MODULE_ID,
    ST_MODULE_BODY,
    ST_KEY_END,
    ST_V_STRING,
    ST_V_SEQ,
    ST_V_ZSET,
    ST_V_HASH,
    ST_V_HASH_META,
    ST_V_HASH_2,
    ST_V_BLOB,
    ST_V_QUICKLIST,
    ST_V_ARRAY,
    ST_STREAM_NODES,
    ST_STREAM_META,
    ST_STREAM_GROUPS,
    ST_STREAM_PEL,
    ST_STREAM_CONSUMERS,
    ST_STREAM_CPEL,
    ST_STREAM_IDMP,
    ST_TRAILER,
    ST_DUMP_TYPE,
    ST_DUMP_FOOTER,
    ST_DONE,
    ST_COUNT
};

/* What rdb_parser_finish() says the input stopped inside of. */
static const char *const state_names[ST_COUNT] = {
    [ST_MAGIC] = "the magic", [ST_OPCODE] = "an opcode",
    [ST_SELECTDB] = "SELECTDB", [ST_RESIZEDB] = "RESIZEDB",
    [ST_EXPIRE_S] = "EXPIRETIME", [ST_EXPIRE_MS] = "EXPIRETIME_MS",
    [ST_IDLE] = "IDLE", [ST_FREQ] = "FREQ", [ST_AUX] = "an AUX field",
    [ST_MODULE_AUX] = "MODULE_AUX", [ST_FUNCTION2] = "FUNCTION2",
    [ST_FUNCTION_PRE_GA] = "FUNCTION", [ST_SLOT_INFO] = "SLOT_INFO",
    [ST_KEY_META] = "KEY_META", [ST_SLOT_IMPORT] = "SLOT_IMPORT",
    [ST_KEY] = "a key name", [ST_MODULE_ID] = "a module value",
    [ST_MODULE_BODY] = "module data", [ST_KEY_END] = "a key",
    [ST_V_STRING] = "a string value", [ST_V_SEQ] = "a list or set",
    [ST_V_ZSET] = "a sorted set", [ST_V_HASH] = "a hash",
    [ST_V_HASH_META] = "a hash with field TTLs", [ST_V_HASH_2] = "a hash with field TTLs",
    [ST_V_BLOB] = "an encoded value", [ST_V_QUICKLIST] = "a quicklist",
    [ST_V_ARRAY] = "an array",
    [ST_STREAM_NODES] = "stream entries", [ST_STREAM_META] = "stream metadata",
    [ST_STREAM_GROUPS] = "a stream consumer group", [ST_STREAM_PEL] = "a stream PEL",
    [ST_STREAM_CONSUMERS] = "a stream consumer", [ST_STREAM_CPEL] = "a consumer PEL",
    [ST_STREAM_IDMP] = "a stream's IDMP state",
    [ST_TRAILER] = "the CRC64 trailer", [ST_DUMP_TYPE] = "the DUMP type",
    [ST_DUMP_FOOTER] = "the DUMP footer", [ST_DONE] = "nothing",
};

/* What the elements of a ziplist/listpack blob are, and how many of them
 * make one record. */
enum seq_kind { SEQ_LIST, SEQ_SET, SEQ_ZSET, SEQ_HASH, SEQ_HASH_EX };

/* A string that must outlive the next take_*: either borrowed from the
 * caller's chunk (valid until rdb_parser_feed returns, when keep_saved()
 * copies it) or copied into 'own'. */
struct saved {
    const char *ptr;
    size_t len;
    int borrowed;
    char *own;
    size_t cap;
};

/* One element of a ziplist or listpack: bytes, or an integer. */
struct elem {
    const unsigned char *s;
    size_t len;
    long long v;
    int is_int;
};

/* A walk over one ziplist or listpack blob. */
struct seq {
    const unsigned char *b;
    size_t n;             /* blob bytes */
    size_t pos;           /* next entry */
    size_t prev;          /* ziplist: size of the previous entry */
    uint64_t seen;        /* entries returned */
    uint64_t want;        /* count from the header, or UINT64_MAX */
    int lp;               /* 1: listpack, 0: ziplist */
};

struct rdb_parser {
    enum rdb_mode mode;
    const struct rdb_handlers *h;
    void *ud;
    size_t max_item;
    struct rs_error err;
    enum rs_status status;      /* RS_AGAIN while running, then DONE/ERROR */
    enum rdb_state state;
    int step;                   /* position inside the current state */

    /* The chunk being fed; base is the file offset of in[0]. */
    const unsigned char *in;
    size_t in_len, in_pos, crc_pos;
    uint64_t base;

    unsigned char *buf;         /* an item that straddles chunks */
    size_t buf_len, buf_cap;
    unsigned char *zbuf;        /* LZF output */
    size_t zbuf_cap;
    uint64_t item_off;          /* offset of the last string item, for messages */

    uint64_t crc, crc_final;
    int version, is_valkey;

    /* The key being read. */
    int db;
    int64_t expire_ms;
    int rdb_type;
    enum rs_type ltype;
    enum rdb_state val_state;
    char modname[10];

    /* Counters of the value being read. */
    uint64_t left, groups, consumers, pel;
    uint64_t n[8];
    int mod_step;
    uint64_t mod_op;
    enum rdb_state mod_next;
    struct rs_stream_id master, pid;
    int64_t ptime;
    int sversion;               /* stream record version: 1, 2 or 3 */
    struct saved save[2];
    struct saved keyname;       /* the key being read: valid until its on_key_end */
    struct elem *mf;            /* stream master-entry fields */
    size_t mf_cap;
    char num[4][24];            /* decimal text of integers */
    char key_ctx[80];           /* " in key '...'" for messages, "" between keys */
};

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

static inline uint64_t le64(const unsigned char *s)
{
    return (uint64_t)s[0] | (uint64_t)s[1] << 8 | (uint64_t)s[2] << 16 |
           (uint64_t)s[3] << 24 | (uint64_t)s[4] << 32 | (uint64_t)s[5] << 40 |
           (uint64_t)s[6] << 48 | (uint64_t)s[7] << 56;
}

static inline uint32_t le32(const unsigned char *s)
{
    return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

static inline uint64_t be64(const unsigned char *s)
{
    return (uint64_t)s[0] << 56 | (uint64_t)s[1] << 48 | (uint64_t)s[2] << 40 |
           (uint64_t)s[3] << 32 | (uint64_t)s[4] << 24 | (uint64_t)s[5] << 16 |
           (uint64_t)s[6] << 8 | (uint64_t)s[7];
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

static enum rs_status fail(struct rdb_parser *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum rs_status fail(struct rdb_parser *p, int code, const char *fmt, ...)
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

/* Offset of the first byte of the item being assembled. */
static inline uint64_t cur_off(const struct rdb_parser *p)
{
    return p->base + p->in_pos - p->buf_len;
}

static enum rs_status nomem(struct rdb_parser *p)
{
    return fail(p, RS_E_NOMEM, "rdb: out of memory at offset %llu",
                (unsigned long long)cur_off(p));
}

/* A handler returned non-zero (or explained itself with set_error). */
static enum rs_status stopped(struct rdb_parser *p)
{
    return fail(p, RS_E_CALLBACK, "rdb: a handler stopped the parser at offset %llu",
                (unsigned long long)cur_off(p));
}

#define CALLED(p, rc) ((rc) != 0 || (p)->err.code != 0)

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
static enum rs_status need(struct rdb_parser *p, size_t n, const unsigned char **out)
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
        return fail(p, RS_E_RDB, "rdb: item of %zu bytes at offset %llu exceeds the limit of %zu",
                    n, (unsigned long long)cur_off(p), p->max_item);
    take = n - p->buf_len;
    if (take > avail)
        take = avail;
    if (reserve(p, p->buf_len + take, n) != 0)
        return nomem(p);
    memcpy(p->buf + p->buf_len, p->in + p->in_pos, take);
    p->buf_len += take;
    p->in_pos += take;
    if (p->buf_len < n)
        return RS_AGAIN;
    *out = p->buf;
    return RS_OK;
}

/* Consume the n-byte item that need() made available. */
static inline void done(struct rdb_parser *p, size_t n)
{
    if (p->buf_len == 0) {
        p->in_pos += n;
        return;
    }
    if (p->buf_len > n) {   /* cannot happen with monotonic need(); stay exact */
        memmove(p->buf, p->buf + n, p->buf_len - n);
        p->buf_len -= n;
        return;
    }
    p->buf_len = 0;     /* the bytes stay readable until the next need() */
}

static enum rs_status bad_length(struct rdb_parser *p, unsigned b, size_t at)
{
    return fail(p, RS_E_RDB, "rdb: bad length 0x%02x at offset %llu", b,
                (unsigned long long)(cur_off(p) + at));
}

/* Decode the length (§3) found 'at' bytes into the current item. */
static enum rs_status peek_length(struct rdb_parser *p, size_t at, uint64_t *v, size_t *size)
{
    const unsigned char *s = NULL;
    enum rs_status st;
    size_t n;

    *v = 0;                      /* keeps gcc -O3's flow analysis quiet */
    *size = 0;
    if ((st = need(p, at + 1, &s)) != RS_OK)
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
    if ((st = need(p, at + n, &s)) != RS_OK)
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

static enum rs_status take_length(struct rdb_parser *p, uint64_t *v)
{
    enum rs_status st;
    size_t size = 0;

    if ((st = peek_length(p, 0, v, &size)) != RS_OK)
        return st;
    done(p, size);
    return RS_OK;
}

/* Take n raw bytes; *out stays valid until the next need(). */
static enum rs_status take_raw(struct rdb_parser *p, size_t n, const unsigned char **out)
{
    enum rs_status st;

    if ((st = need(p, n, out)) != RS_OK)
        return st;
    done(p, n);
    return RS_OK;
}

static size_t ll2str(char *buf, long long v)
{
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char tmp[24];
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

static enum rs_status too_big(struct rdb_parser *p, uint64_t len)
{
    return fail(p, RS_E_RDB, "rdb: string of %llu bytes at offset %llu%s exceeds the limit of %zu",
                (unsigned long long)len, (unsigned long long)p->item_off, p->key_ctx,
                p->max_item);
}

/* Name the key being read in later messages: its first bytes, escaped. */
static void key_ctx_set(struct rdb_parser *p, const struct rs_bytes *name)
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
        return fail(p, RS_E_RDB, "rdb: bad LZF string at offset %llu%s: %llu bytes cannot expand to %llu",
                    (unsigned long long)p->item_off, p->key_ctx, (unsigned long long)clen,
                    (unsigned long long)ulen);
    if ((st = need(p, hdr + (size_t)clen, &s)) != RS_OK)
        return st;
    if (decode) {
        if (ulen > p->zbuf_cap) {
            unsigned char *nb = realloc(p->zbuf, ulen ? ulen : 1);

            if (nb == NULL)
                return nomem(p);
            p->zbuf = nb;
            p->zbuf_cap = ulen;
        }
        if (lzf_decompress(s + hdr, (unsigned)clen, p->zbuf, (unsigned)ulen) != ulen)
            return fail(p, RS_E_RDB, "rdb: bad LZF string at offset %llu%s: does not decompress to %llu bytes",
                        (unsigned long long)p->item_off, p->key_ctx, (unsigned long long)ulen);
    }
    out->ptr = (const char *)p->zbuf;
    out->len = decode ? (size_t)ulen : 0;
    done(p, hdr + (size_t)clen);
    return RS_OK;
}

/* The integer forms 0xC0-0xC2: the value is their decimal text. */
static enum rs_status take_int_string(struct rdb_parser *p, unsigned enc, struct rs_bytes *out)
{
    static const size_t sizes[3] = { 2, 3, 5 };
    const unsigned char *s = NULL;
    enum rs_status st;
    long long v;

    if ((st = need(p, sizes[enc], &s)) != RS_OK)
        return st;
    if (enc == 0)
        v = (int8_t)s[1];
    else if (enc == 1)
        v = (int16_t)(uint16_t)(s[1] | s[2] << 8);
    else
        v = (int32_t)le32(s + 1);
    out->ptr = p->num[3];
    out->len = ll2str(p->num[3], v);
    done(p, sizes[enc]);
    return RS_OK;
}

/*
 * Take one string (§4). *out stays valid until the next take_*: it
 * points into the caller's chunk, p->buf, p->zbuf or p->num[3].
 */
static enum rs_status take_string_opt(struct rdb_parser *p, struct rs_bytes *out, int decode)
{
    const unsigned char *s = NULL;
    enum rs_status st;
    uint64_t len;
    size_t hl = 0;

    p->item_off = cur_off(p);
    if (p->zbuf_cap > RDB_BUF_KEEP) {      /* the big LZF string it held is over */
        free(p->zbuf);
        p->zbuf = NULL;
        p->zbuf_cap = 0;
    }
    if ((st = need(p, 1, &s)) != RS_OK)
        return st;
    if ((s[0] & 0xC0) == 0xC0) {
        unsigned enc = s[0] & 0x3F;

        if (enc < 3)
            return take_int_string(p, enc, out);
        if (enc == 3)
            return take_lzf(p, out, decode);
        return fail(p, RS_E_RDB, "rdb: bad string encoding 0x%02x at offset %llu",
                    s[0], (unsigned long long)p->item_off);
    }
    if ((st = peek_length(p, 0, &len, &hl)) != RS_OK)
        return st;
    if (len > p->max_item)
        return too_big(p, len);
    if ((st = need(p, hl + (size_t)len, &s)) != RS_OK)
        return st;
    out->ptr = (const char *)s + hl;
    out->len = (size_t)len;
    done(p, hl + (size_t)len);
    return RS_OK;
}

static inline enum rs_status take_string(struct rdb_parser *p, struct rs_bytes *out)
{
    return take_string_opt(p, out, 1);
}

/* ---------------------------------------------------------- saved bytes */

static int save_copy(struct saved *sv, const char *ptr, size_t len)
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

/* Keep a big b that lies in one of the parser's own buffers by taking that
 * buffer over instead of copying it: one copy of a big item, never two.
 * The slot's old buffer is freed; the parser grows a new one when needed. */
static int save_steal(struct rdb_parser *p, struct saved *sv, const struct rs_bytes *b)
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
static enum rs_status save(struct rdb_parser *p, int i, const struct rs_bytes *b)
{
    struct saved *sv = &p->save[i];

    if (p->in != NULL && inside(p->in, p->in_len, b)) {
        sv->ptr = b->ptr;
        sv->len = b->len;
        sv->borrowed = 1;
        return RS_OK;
    }
    if (save_steal(p, sv, b))
        return RS_OK;
    if (save_copy(sv, b->ptr, b->len) != 0)
        return nomem(p);
    return RS_OK;
}

static inline struct rs_bytes saved_bytes(const struct rdb_parser *p, int i)
{
    struct rs_bytes b = { p->save[i].ptr, p->save[i].len };

    return b;
}

/* The chunk is about to go away: copy what is still borrowed from it. */
static int keep_saved(struct rdb_parser *p)
{
    for (int i = 0; i < 2; i++) {
        struct saved *sv = &p->save[i];

        if (sv->borrowed && save_copy(sv, sv->ptr, sv->len) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------- state plumbing */

static inline enum rs_status go(struct rdb_parser *p, enum rdb_state s)
{
    p->state = s;
    p->step = 0;
    return RS_OK;
}

/* Where the parser goes after a key, or after opcodes that precede one. */
static inline enum rdb_state next_record(const struct rdb_parser *p)
{
    return p->mode == RDB_MODE_DUMP ? ST_DUMP_TYPE : ST_OPCODE;
}

static void crc_sync(struct rdb_parser *p)
{
    if (p->in_pos > p->crc_pos) {
        p->crc = rdb_crc64(p->crc, p->in + p->crc_pos, p->in_pos - p->crc_pos);
        p->crc_pos = p->in_pos;
    }
}

static enum rs_status finish(struct rdb_parser *p)
{
    p->state = ST_DONE;
    p->status = RS_DONE;
    if (p->h->on_end && CALLED(p, p->h->on_end(p->ud)))
        return stopped(p);
    return RS_DONE;
}

static enum rs_status key_begin(struct rdb_parser *p, const struct rs_bytes *name,
                                const char *module)
{
    struct rdb_key k;

    k.db = p->db;
    k.type = p->ltype;
    k.rdb_type = p->rdb_type;
    k.name = *name;
    k.expire_ms = p->expire_ms;
    k.module.ptr = module;
    k.module.len = module ? strlen(module) : 0;
    p->expire_ms = RS_NO_EXPIRE;       /* expire/idle/freq apply to one key */
    if (p->h->on_key_begin && CALLED(p, p->h->on_key_begin(p->ud, &k)))
        return stopped(p);
    return RS_OK;
}

static enum rs_status end_key(struct rdb_parser *p)
{
    p->key_ctx[0] = '\0';
    if (p->h->on_key_end && CALLED(p, p->h->on_key_end(p->ud)))
        return stopped(p);
    if (p->mode == RDB_MODE_DUMP)
        return go(p, ST_DUMP_FOOTER);
    return go(p, ST_OPCODE);
}

/* ------------------------------------------------------- element output */

static struct rs_bytes elem_text(const struct elem *e, char *tmp)
{
    struct rs_bytes b;

    if (e->is_int) {
        b.ptr = tmp;
        b.len = ll2str(tmp, e->v);
    } else {
        b.ptr = (const char *)e->s;
        b.len = e->len;
    }
    return b;
}

/* Text to double the way Redis' zzlStrtod does it. Returns -1 on text
 * that holds no number at all. */
static int text_double(const char *s, size_t len, double *out)
{
    char tmp[256];
    char *end;

    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    *out = strtod(tmp, &end);
    return end == tmp ? -1 : 0;
}

static int elem_int(const struct elem *e, long long *v)
{
    if (e->is_int) {
        *v = e->v;
        return 0;
    }
    return rs_parse_ll((const char *)e->s, e->len, v);
}

static enum rs_status emit_item(struct rdb_parser *p, const struct rs_bytes *b)
{
    int rc = 0;

    if (p->ltype == RS_T_LIST) {
        if (p->h->on_list_item)
            rc = p->h->on_list_item(p->ud, b);
    } else if (p->h->on_set_member) {
        rc = p->h->on_set_member(p->ud, b);
    }
    return CALLED(p, rc) ? stopped(p) : RS_OK;
}

static enum rs_status emit_zset(struct rdb_parser *p, const struct rs_bytes *m, double score)
{
    if (p->h->on_zset_member && CALLED(p, p->h->on_zset_member(p->ud, m, score)))
        return stopped(p);
    return RS_OK;
}

static enum rs_status emit_hash(struct rdb_parser *p, const struct rs_bytes *f,
                                const struct rs_bytes *v, int64_t expire)
{
    if (p->h->on_hash_field && CALLED(p, p->h->on_hash_field(p->ud, f, v, expire)))
        return stopped(p);
    return RS_OK;
}

/* ------------------------------------------------ ziplist and listpack */

static enum rs_status blob_fail(struct rdb_parser *p, const struct seq *s, const char *why)
{
    return fail(p, RS_E_RDB, "rdb: corrupt %s at offset %llu: %s (byte %zu of %zu)",
                s->lp ? "listpack" : "ziplist", (unsigned long long)p->item_off,
                why, s->pos, s->n);
}

static enum rs_status seq_open(struct rdb_parser *p, struct seq *s, int lp,
                               const unsigned char *b, size_t n)
{
    s->b = b;
    s->n = n;
    s->lp = lp;
    s->seen = 0;
    s->prev = 0;
    s->pos = 0;
    if (lp) {
        if (n < 7 || le32(b) != n || b[n - 1] != 0xFF)
            return blob_fail(p, s, "bad header");
        s->want = (b[4] | b[5] << 8) == 0xFFFF ? UINT64_MAX : (uint64_t)(b[4] | b[5] << 8);
        s->pos = 6;
    } else {
        if (n < 11 || le32(b) != n || le32(b + 4) > n - 1 || b[n - 1] != 0xFF)
            return blob_fail(p, s, "bad header");
        s->want = (b[8] | b[9] << 8) == 0xFFFF ? UINT64_MAX : (uint64_t)(b[8] | b[9] << 8);
        s->pos = 10;
    }
    return RS_OK;
}

/* The end marker: it must be the last byte and the count must agree. */
static int seq_end(struct rdb_parser *p, struct seq *s)
{
    if (s->pos != s->n - 1) {
        blob_fail(p, s, "end marker before the end");
        return -1;
    }
    if (s->want != UINT64_MAX && s->want != s->seen) {
        blob_fail(p, s, "element count does not match the header");
        return -1;
    }
    return 0;
}

/* Size of the data after a ziplist integer encoding byte (§7.2), or -1. */
static int zl_int_size(unsigned enc)
{
    if (enc >= 0xF1 && enc <= 0xFD)
        return 0;                /* immediate 0..12 */
    switch (enc) {
    case 0xC0: return 2;
    case 0xD0: return 4;
    case 0xE0: return 8;
    case 0xF0: return 3;
    case 0xFE: return 1;
    }
    return -1;
}

static long long zl_int_value(const unsigned char *q)
{
    switch (q[0]) {
    case 0xC0: return (int16_t)(uint16_t)(q[1] | q[2] << 8);
    case 0xD0: return (int32_t)le32(q + 1);
    case 0xE0: return (int64_t)le64(q + 1);
    case 0xF0: return (int32_t)((uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24) >> 8;
    case 0xFE: return (int8_t)q[1];
    }
    return (long long)(q[0] & 0x0F) - 1;
}

/* Next ziplist entry: 1 and *e, 0 at the end, -1 on corruption. Every
 * entry must end before the final 0xFF at 'lim'. */
static int zl_next(struct rdb_parser *p, struct seq *s, struct elem *e)
{
    const unsigned char *b = s->b;
    size_t lim = s->n - 1, q, plen, hdr, len;
    uint64_t prevlen;
    int isz;

    if (b[s->pos] == 0xFF)
        return seq_end(p, s) == 0 ? 0 : -1;
    plen = b[s->pos] < 254 ? 1 : 5;
    if (s->pos + plen >= lim)
        goto corrupt;
    prevlen = plen == 1 ? b[s->pos] : le32(b + s->pos + 1);
    if (prevlen != s->prev)
        goto corrupt;
    q = s->pos + plen;
    e->is_int = 0;
    switch (b[q] >> 6) {
    case 0:
        hdr = 1;
        len = b[q] & 0x3F;
        break;
    case 1:
        if ((hdr = 2) > lim - q)
            goto corrupt;
        len = (size_t)(b[q] & 0x3F) << 8 | b[q + 1];
        break;
    case 2:
        if ((hdr = 5) > lim - q)
            goto corrupt;
        len = (size_t)b[q + 1] << 24 | (size_t)b[q + 2] << 16 | (size_t)b[q + 3] << 8 | b[q + 4];
        break;
    default:
        if ((isz = zl_int_size(b[q])) < 0 || (size_t)isz + 1 > lim - q)
            goto corrupt;
        e->is_int = 1;
        e->v = zl_int_value(b + q);
        hdr = 1;
        len = (size_t)isz;
        break;
    }
    if (len > lim - q - hdr)
        goto corrupt;
    e->s = b + q + hdr;
    e->len = len;
    s->prev = plen + hdr + len;
    s->pos = q + hdr + len;
    s->seen++;
    return 1;
corrupt:
    blob_fail(p, s, "bad entry");
    return -1;
}

/* Size of a listpack backlen for an entry of l bytes (§7.3). */
static size_t lp_backlen_size(size_t l)
{
    return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/* The backlen read forward: first byte without bit 7, later ones with. */
static int lp_backlen_ok(const unsigned char *bl, size_t n, size_t l)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        if (((bl[i] & 0x80) != 0) != (i != 0))
            return 0;
        v |= (uint64_t)(bl[n - 1 - i] & 0x7F) << (7 * i);
    }
    return v == l;
}

/* Decode the listpack entry at b[0..] with 'room' bytes before the end
 * marker: sets *size (encoding + data) and *e. -1 if it does not fit. */
static int lp_decode(const unsigned char *b, size_t room, size_t *size, struct elem *e)
{
    unsigned c = b[0];
    size_t len;

    e->is_int = 1;
    if (c < 0x80) {
        *size = 1;
        e->v = c;
        return 0;
    }
    if ((c & 0xC0) == 0x80) {
        len = c & 0x3F;
        *size = 1 + len;
        e->is_int = 0;
        e->s = b + 1;
        e->len = len;
        return *size <= room ? 0 : -1;
    }
    if ((c & 0xE0) == 0xC0) {
        if (room < 2)
            return -1;
        *size = 2;
        e->v = (long long)((c & 0x1F) << 8 | b[1]);
        if (e->v >= 4096)
            e->v -= 8192;
        return 0;
    }
    if ((c & 0xF0) == 0xE0) {
        if (room < 2)
            return -1;
        len = (size_t)(c & 0x0F) << 8 | b[1];
        *size = 2 + len;
        e->is_int = 0;
        e->s = b + 2;
        e->len = len;
        return *size <= room ? 0 : -1;
    }
    switch (c) {
    case 0xF0:
        if (room < 5)
            return -1;
        len = le32(b + 1);
        if (len > room - 5)
            return -1;
        *size = 5 + len;
        e->is_int = 0;
        e->s = b + 5;
        e->len = len;
        return 0;
    case 0xF1: *size = 3; break;
    case 0xF2: *size = 4; break;
    case 0xF3: *size = 5; break;
    case 0xF4: *size = 9; break;
    default: return -1;
    }
    if (*size > room)
        return -1;
    if (c == 0xF1)
        e->v = (int16_t)(uint16_t)(b[1] | b[2] << 8);
    else if (c == 0xF2)
        e->v = (int32_t)((uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24) >> 8;
    else if (c == 0xF3)
        e->v = (int32_t)le32(b + 1);
    else
        e->v = (int64_t)le64(b + 1);
    return 0;
}

static int lp_next(struct rdb_parser *p, struct seq *s, struct elem *e)
{
    size_t lim = s->n - 1, size, bl;

    if (s->b[s->pos] == 0xFF)
        return seq_end(p, s) == 0 ? 0 : -1;
    if (lp_decode(s->b + s->pos, lim - s->pos, &size, e) != 0)
        goto corrupt;
    bl = lp_backlen_size(size);
    if (bl > lim - s->pos - size || !lp_backlen_ok(s->b + s->pos + size, bl, size))
        goto corrupt;
    s->pos += size + bl;
    s->seen++;
    return 1;
corrupt:
    blob_fail(p, s, "bad entry");
    return -1;
}

static inline int seq_next(struct rdb_parser *p, struct seq *s, struct elem *e)
{
    return s->lp ? lp_next(p, s, e) : zl_next(p, s, e);
}

/* Emit one record of 1-3 elements as the key's type wants it. */
static enum rs_status emit_record(struct rdb_parser *p, enum seq_kind kind,
                                  const struct seq *s, const struct elem *e)
{
    struct rs_bytes a = elem_text(&e[0], p->num[0]), b;
    long long ttl;
    double score;

    switch (kind) {
    case SEQ_LIST:
    case SEQ_SET:
        return emit_item(p, &a);
    case SEQ_ZSET:
        if (e[1].is_int)
            score = (double)e[1].v;
        else if (text_double((const char *)e[1].s, e[1].len, &score) != 0)
            return blob_fail(p, s, "bad score");
        return emit_zset(p, &a, score);
    case SEQ_HASH:
        b = elem_text(&e[1], p->num[1]);
        return emit_hash(p, &a, &b, RS_NO_EXPIRE);
    case SEQ_HASH_EX:
        if (elem_int(&e[2], &ttl) != 0 || ttl < 0)
            return blob_fail(p, s, "bad field TTL");
        b = elem_text(&e[1], p->num[1]);
        return emit_hash(p, &a, &b, ttl == 0 ? RS_NO_EXPIRE : (int64_t)ttl);
    }
    return RS_OK;
}

/* Walk a ziplist/listpack blob and emit its records. */
static enum rs_status walk_seq(struct rdb_parser *p, int lp, const struct rs_bytes *blob,
                               enum seq_kind kind)
{
    static const int widths[] = { [SEQ_LIST] = 1, [SEQ_SET] = 1, [SEQ_ZSET] = 2,
                                  [SEQ_HASH] = 2, [SEQ_HASH_EX] = 3 };
    int width = widths[kind], i, r;
    struct elem e[3];
    struct seq s;
    enum rs_status st;

    if ((st = seq_open(p, &s, lp, (const unsigned char *)blob->ptr, blob->len)) != RS_OK)
        return st;
    for (;;) {
        for (i = 0; i < width; i++) {
            if ((r = seq_next(p, &s, &e[i])) < 0)
                return RS_ERROR;
            if (r == 0) {
                if (i == 0)
                    return RS_OK;
                return blob_fail(p, &s, "incomplete record");
            }
        }
        if ((st = emit_record(p, kind, &s, e)) != RS_OK)
            return st;
    }
}

/* ------------------------------------------------------ intset, zipmap */

static enum rs_status walk_intset(struct rdb_parser *p, const struct rs_bytes *blob)
{
    const unsigned char *b = (const unsigned char *)blob->ptr;
    uint32_t enc, count;
    struct rs_bytes m;
    enum rs_status st;
    long long v;

    if (blob->len < 8)
        goto corrupt;
    enc = le32(b);
    count = le32(b + 4);
    if ((enc != 2 && enc != 4 && enc != 8) || (uint64_t)enc * count != blob->len - 8)
        goto corrupt;
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *q = b + 8 + (size_t)i * enc;

        if (enc == 2)
            v = (int16_t)(uint16_t)(q[0] | q[1] << 8);
        else if (enc == 4)
            v = (int32_t)le32(q);
        else
            v = (int64_t)le64(q);
        m.ptr = p->num[0];
        m.len = ll2str(p->num[0], v);
        if ((st = emit_item(p, &m)) != RS_OK)
            return st;
    }
    return RS_OK;
corrupt:
    return fail(p, RS_E_RDB, "rdb: corrupt intset at offset %llu",
                (unsigned long long)p->item_off);
}

/* A zipmap length (§7.6): 1 byte, or 0xFE + 4 bytes host (LE) order. */
static int zm_len(const unsigned char *b, size_t n, size_t *pos, size_t *len)
{
    if (*pos >= n || b[*pos] == 0xFF)
        return -1;
    if (b[*pos] < 254) {
        *len = b[(*pos)++];
        return 0;
    }
    if (b[*pos] == 0xFF || n - *pos < 5)
        return -1;
    *len = le32(b + *pos + 1);
    *pos += 5;
    return 0;
}

static enum rs_status walk_zipmap(struct rdb_parser *p, const struct rs_bytes *blob)
{
    const unsigned char *b = (const unsigned char *)blob->ptr;
    size_t n = blob->len, pos = 1, klen, vlen, count = 0;
    struct rs_bytes f, v;
    enum rs_status st;

    if (n < 2 || b[n - 1] != 0xFF)
        goto corrupt;
    while (b[pos] != 0xFF) {
        if (zm_len(b, n - 1, &pos, &klen) != 0 || klen > n - 1 - pos)
            goto corrupt;
        f.ptr = (const char *)b + pos;
        f.len = klen;
        pos += klen;
        if (zm_len(b, n - 1, &pos, &vlen) != 0 || pos >= n - 1)
            goto corrupt;
        size_t fr = b[pos++];   /* free bytes after the value */
        if (vlen > n - 1 - pos || fr > n - 1 - pos - vlen)
            goto corrupt;
        v.ptr = (const char *)b + pos;
        v.len = vlen;
        pos += vlen + fr;
        count++;
        if ((st = emit_hash(p, &f, &v, RS_NO_EXPIRE)) != RS_OK)
            return st;
    }
    if (pos != n - 1 || (b[0] < 254 && b[0] != count))
        goto corrupt;
    return RS_OK;
corrupt:
    return fail(p, RS_E_RDB, "rdb: corrupt zipmap at offset %llu",
                (unsigned long long)p->item_off);
}

/* ------------------------------------------------------------- opcodes */

static enum rs_status st_magic(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;
    int digits = 4, v = 0;

    if ((st = need(p, 9, &s)) != RS_OK)
        return st;
    if (memcmp(s, "REDIS", 5) == 0) {
        p->is_valkey = 0;
    } else if (memcmp(s, "VALKEY", 6) == 0) {
        p->is_valkey = 1;
        digits = 3;
    } else {
        return fail(p, RS_E_RDB, "rdb: bad magic at offset 0: not an RDB file");
    }
    for (int i = 9 - digits; i < 9; i++) {
        if (s[i] < '0' || s[i] > '9')
            return fail(p, RS_E_RDB, "rdb: bad magic at offset 0: version is not a number");
        v = v * 10 + (s[i] - '0');
    }
    if (p->is_valkey ? (v < 80 || v > 81) : (v < 1 || v > 14))
        return fail(p, RS_E_RDB, "rdb: unsupported RDB version %d (%s magic) at offset 5",
                    v, p->is_valkey ? "VALKEY" : "REDIS");
    p->version = v;
    done(p, 9);
    return go(p, ST_OPCODE);
}

static enum rs_status start_key(struct rdb_parser *p, int type);

static enum rs_status st_opcode(struct rdb_parser *p)
{
    static const enum rdb_state next[256] = {
        [RDB_OP_SELECTDB] = ST_SELECTDB, [RDB_OP_RESIZEDB] = ST_RESIZEDB,
        [RDB_OP_EXPIRETIME] = ST_EXPIRE_S, [RDB_OP_EXPIRETIME_MS] = ST_EXPIRE_MS,
        [RDB_OP_IDLE] = ST_IDLE, [RDB_OP_FREQ] = ST_FREQ, [RDB_OP_AUX] = ST_AUX,
        [RDB_OP_MODULE_AUX] = ST_MODULE_AUX, [RDB_OP_FUNCTION2] = ST_FUNCTION2,
        [RDB_OP_FUNCTION_PRE_GA] = ST_FUNCTION_PRE_GA, [RDB_OP_SLOT_INFO] = ST_SLOT_INFO,
    };
    const unsigned char *s = NULL;
    enum rs_status st;

    if ((st = need(p, 1, &s)) != RS_OK)
        return st;
    if (s[0] == RDB_OP_EOF) {
        done(p, 1);
        crc_sync(p);
        p->crc_final = p->crc;
        return p->version >= 5 ? go(p, ST_TRAILER) : finish(p);
    }
    if (s[0] == RDB_OP_KEY_META) {
        if (p->is_valkey && p->version >= 80) {
            done(p, 1);
            return go(p, ST_SLOT_IMPORT);
        }
        done(p, 1);
        return go(p, ST_KEY_META);
    }
    if (next[s[0]] != 0) {
        enum rdb_state ns = next[s[0]];

        done(p, 1);
        return go(p, ns);
    }
    return start_key(p, s[0]);
}

static enum rs_status st_selectdb(struct rdb_parser *p)
{
    enum rs_status st;
    uint64_t db;

    if ((st = take_length(p, &db)) != RS_OK)
        return st;
    if (db > INT_MAX)
        return fail(p, RS_E_RDB, "rdb: bad database number %llu before offset %llu",
                    (unsigned long long)db, (unsigned long long)cur_off(p));
    p->db = (int)db;
    if (p->h->on_select_db && CALLED(p, p->h->on_select_db(p->ud, p->db)))
        return stopped(p);
    return go(p, ST_OPCODE);
}

/* Opcodes made of 'count' lengths we have no use for. */
static enum rs_status skip_lengths(struct rdb_parser *p, int count)
{
    enum rs_status st;
    uint64_t v;

    while (p->step < count) {
        if ((st = take_length(p, &v)) != RS_OK)
            return st;
        p->step++;
    }
    return go(p, next_record(p));
}

static enum rs_status st_resizedb(struct rdb_parser *p)
{
    return skip_lengths(p, 2);
}

static enum rs_status st_slot_info(struct rdb_parser *p)
{
    return skip_lengths(p, 3);
}

static enum rs_status st_idle(struct rdb_parser *p)
{
    return skip_lengths(p, 1);
}

static enum rs_status st_freq(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;

    if ((st = take_raw(p, 1, &s)) != RS_OK)
        return st;
    return go(p, ST_OPCODE);
}

static enum rs_status st_expire_s(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;

    if ((st = take_raw(p, 4, &s)) != RS_OK)
        return st;
    p->expire_ms = (int64_t)(int32_t)le32(s) * 1000;
    return go(p, ST_OPCODE);
}

static enum rs_status st_expire_ms(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;

    if ((st = take_raw(p, 8, &s)) != RS_OK)
        return st;
    p->expire_ms = (int64_t)le64(s);
    return go(p, ST_OPCODE);
}

static enum rs_status st_aux(struct rdb_parser *p)
{
    struct rs_bytes b, k;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = take_string(p, &b)) != RS_OK || (st = save(p, 0, &b)) != RS_OK)
            return st;
        p->step = 1;
    }
    if ((st = take_string(p, &b)) != RS_OK)
        return st;
    k = saved_bytes(p, 0);
    if (p->h->on_aux && CALLED(p, p->h->on_aux(p->ud, &k, &b)))
        return stopped(p);
    return go(p, ST_OPCODE);
}

static enum rs_status st_function2(struct rdb_parser *p)
{
    struct rs_bytes code;
    enum rs_status st;

    if ((st = take_string(p, &code)) != RS_OK)
        return st;
    if (p->h->on_function && CALLED(p, p->h->on_function(p->ud, &code)))
        return stopped(p);
    return go(p, ST_OPCODE);
}

/* The 7.0 RC form: name, engine, [description], code. Redis 7.0 turns it
 * into the FUNCTION2 form "#!<engine> name=<name>\n<code>"; so do we. */
static enum rs_status emit_pre_ga_function(struct rdb_parser *p, const struct rs_bytes *code)
{
    struct rs_bytes name = saved_bytes(p, 0), eng = saved_bytes(p, 1), all;
    size_t len = 2 + eng.len + 6 + name.len + 1 + code->len;
    char *buf = malloc(len), *w = buf;
    int rc = 0;

    if (buf == NULL)
        return nomem(p);
    memcpy(w, "#!", 2), w += 2;
    memcpy(w, eng.ptr, eng.len), w += eng.len;
    memcpy(w, " name=", 6), w += 6;
    memcpy(w, name.ptr, name.len), w += name.len;
    *w++ = '\n';
    memcpy(w, code->ptr, code->len);
    all.ptr = buf;
    all.len = len;
    if (p->h->on_function)
        rc = p->h->on_function(p->ud, &all);
    free(buf);
    return CALLED(p, rc) ? stopped(p) : RS_OK;
}

static enum rs_status st_function_pre_ga(struct rdb_parser *p)
{
    struct rs_bytes b;
    enum rs_status st;

    for (;;) {
        switch (p->step) {
        case 0:
        case 1:
            if ((st = take_string(p, &b)) != RS_OK || (st = save(p, p->step, &b)) != RS_OK)
                return st;
            p->step++;
            break;
        case 2:
            if ((st = take_length(p, &p->n[0])) != RS_OK)
                return st;
            p->step = p->n[0] ? 3 : 4;
            break;
        case 3:
            if ((st = take_string_opt(p, &b, 0)) != RS_OK)
                return st;
            p->step = 4;
            break;
        default:
            if ((st = take_string(p, &b)) != RS_OK || (st = emit_pre_ga_function(p, &b)) != RS_OK)
                return st;
            return go(p, ST_OPCODE);
        }
    }
}

/* ----------------------------------------------------- module payloads */

static const char module_charset[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 9 characters x 6 bits above a 10-bit encoding version (§7.10). */
static void module_name(uint64_t id, char name[10])
{
    id >>= 10;
    for (int j = 8; j >= 0; j--) {
        name[j] = module_charset[id & 63];
        id >>= 6;
    }
    name[9] = '\0';
}

/* The module opcode stream (§7.10), up to its EOF; then p->mod_next. */
static enum rs_status st_module_body(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_bytes b;
    enum rs_status st;
    uint64_t v;

    for (;;) {
        if (p->mod_step == 0) {
            if ((st = take_length(p, &p->mod_op)) != RS_OK)
                return st;
            if (p->mod_op == 0) {
                p->state = p->mod_next;
                return RS_OK;
            }
            p->mod_step = 1;
        }
        switch (p->mod_op) {
        case 1:
        case 2: st = take_length(p, &v); break;
        case 3: st = take_raw(p, 4, &s); break;
        case 4: st = take_raw(p, 8, &s); break;
        case 5: st = take_string_opt(p, &b, 0); break;
        default:
            return fail(p, RS_E_RDB, "rdb: unknown module opcode %llu before offset %llu",
                        (unsigned long long)p->mod_op, (unsigned long long)cur_off(p));
        }
        if (st != RS_OK)
            return st;
        p->mod_step = 0;
    }
}

static enum rs_status module_body(struct rdb_parser *p, enum rdb_state next)
{
    p->mod_next = next;
    p->mod_step = 0;
    p->state = ST_MODULE_BODY;
    return RS_OK;
}

static enum rs_status st_module_aux(struct rdb_parser *p)
{
    enum rs_status st;

    while (p->step < 3) {
        if ((st = take_length(p, &p->n[p->step])) != RS_OK)
            return st;
        if (p->step == 1 && p->n[1] != 2)
            return fail(p, RS_E_RDB, "rdb: bad MODULE_AUX when-opcode %llu before offset %llu",
                        (unsigned long long)p->n[1], (unsigned long long)cur_off(p));
        p->step++;
    }
    return module_body(p, ST_OPCODE);
}

/* Redis 8.6 key metadata before a key record: per class a 4-byte class
 * spec and a module opcode stream (redis src/keymeta.c
 * rdbLoadKeyMetadata). Skipped: nothing of it reaches the sink. */
static enum rs_status st_key_meta(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    if (p->left == 0)
        return go(p, next_record(p));
    if ((st = take_raw(p, 4, &s)) != RS_OK)
        return st;
    p->left--;
    return module_body(p, ST_KEY_META);
}

/* Valkey 9 SLOT_IMPORT: job name, n ranges of two lengths. UNVERIFIED
 * layout, from the reference only. */
static enum rs_status st_slot_import(struct rdb_parser *p)
{
    struct rs_bytes b;
    enum rs_status st;
    uint64_t v;

    if (p->step == 0) {
        if ((st = take_string_opt(p, &b, 0)) != RS_OK)
            return st;
        p->step = 1;
    }
    if (p->step == 1) {
        if ((st = take_length(p, &p->left)) != RS_OK)
            return st;
        p->left *= 2;
        p->step = 2;
    }
    while (p->left > 0) {
        if ((st = take_length(p, &v)) != RS_OK)
            return st;
        p->left--;
    }
    return go(p, ST_OPCODE);
}

/* ------------------------------------------------------------------ keys */

/* Map a type byte to its logical type and value state; -1 if unknown. */
static int type_state(const struct rdb_parser *p, int t, enum rs_type *lt, enum rdb_state *vs)
{
    switch (t) {
    case RDB_TYPE_STRING: *lt = RS_T_STRING; *vs = ST_V_STRING; return 0;
    case RDB_TYPE_LIST: *lt = RS_T_LIST; *vs = ST_V_SEQ; return 0;
    case RDB_TYPE_SET: *lt = RS_T_SET; *vs = ST_V_SEQ; return 0;
    case RDB_TYPE_ZSET: case RDB_TYPE_ZSET_2: *lt = RS_T_ZSET; *vs = ST_V_ZSET; return 0;
    case RDB_TYPE_HASH: *lt = RS_T_HASH; *vs = ST_V_HASH; return 0;
    case RDB_TYPE_MODULE_2: *lt = RS_T_MODULE; *vs = ST_MODULE_ID; return 0;
    case RDB_TYPE_LIST_ZIPLIST: *lt = RS_T_LIST; *vs = ST_V_BLOB; return 0;
    case RDB_TYPE_SET_INTSET: case RDB_TYPE_SET_LISTPACK: *lt = RS_T_SET; *vs = ST_V_BLOB; return 0;
    case RDB_TYPE_ZSET_ZIPLIST: case RDB_TYPE_ZSET_LISTPACK: *lt = RS_T_ZSET; *vs = ST_V_BLOB; return 0;
    case RDB_TYPE_HASH_ZIPMAP: case RDB_TYPE_HASH_ZIPLIST: case RDB_TYPE_HASH_LISTPACK:
    case RDB_TYPE_HASH_LISTPACK_EX: *lt = RS_T_HASH; *vs = ST_V_BLOB; return 0;
    case RDB_TYPE_LIST_QUICKLIST: case RDB_TYPE_LIST_QUICKLIST_2: *lt = RS_T_LIST; *vs = ST_V_QUICKLIST; return 0;
    case RDB_TYPE_STREAM_LISTPACKS: case RDB_TYPE_STREAM_LISTPACKS_2: case RDB_TYPE_STREAM_LISTPACKS_3:
    case RDB_TYPE_STREAM_LISTPACKS_4:
        *lt = RS_T_STREAM; *vs = ST_STREAM_NODES; return 0;
    case RDB_TYPE_HASH_METADATA: *lt = RS_T_HASH; *vs = ST_V_HASH_META; return 0;
    case RDB_TYPE_HASH_22:
        /* Valkey's HASH_2, or Redis 7.4 RC's metadata hash: the magic
         * decides; a DUMP payload has none, see st_dump_footer. */
        *lt = RS_T_HASH;
        *vs = (p->is_valkey || p->mode == RDB_MODE_DUMP) ? ST_V_HASH_2 : ST_V_HASH_META;
        return 0;
    case RDB_TYPE_ARRAY:
        /* Redis' RDB 14 (a DUMP payload says its version at the end) */
        if (p->is_valkey || (p->mode == RDB_MODE_FILE && p->version < 14))
            return -1;
        *lt = RS_T_ARRAY;
        *vs = ST_V_ARRAY;
        return 0;
    case RDB_TYPE_HASH_23:
        if (p->is_valkey)
            return -1;           /* Valkey 9.2 PATH_HASH: layout unknown */
        *lt = RS_T_HASH;
        *vs = ST_V_BLOB;
        return 0;
    }
    return -1;
}

static enum rs_status key_named(struct rdb_parser *p, const struct rs_bytes *name);

static enum rs_status start_key(struct rdb_parser *p, int type)
{
    uint64_t off = cur_off(p);

    if (type == RDB_TYPE_MODULE_PRE_GA)
        return fail(p, RS_E_RDB, "rdb: cannot skip module value of type 6 (4.0 RC format) at offset %llu",
                    (unsigned long long)off);
    /* Redis 8.8's type 27 adds XNACK state to the stream record (its
     * layout is not in any source read here); 28, ARRAY, is type_state's. */
    if (!p->is_valkey && type == RDB_TYPE_STREAM_LISTPACKS_5 && p->version >= 14)
        return fail(p, RS_E_RDB, "rdb: unsupported type %d (Redis 8.8 stream with XNACK state) at offset %llu",
                    type, (unsigned long long)off);
    if (type_state(p, type, &p->ltype, &p->val_state) != 0) {
        if (p->mode == RDB_MODE_DUMP)
            return fail(p, RS_E_RDB, "rdb: unknown type 0x%02x at offset %llu", (unsigned)type,
                        (unsigned long long)off);
        return fail(p, RS_E_RDB, "rdb: unknown opcode 0x%02x at offset %llu", (unsigned)type,
                    (unsigned long long)off);
    }
    p->rdb_type = type;
    done(p, 1);
    if (p->mode == RDB_MODE_DUMP) {
        struct rs_bytes none = { "", 0 };

        return key_named(p, &none);
    }
    return go(p, ST_KEY);
}

/* The key's name is known: report the key unless its module name must be
 * read first. */
static enum rs_status key_named(struct rdb_parser *p, const struct rs_bytes *name)
{
    enum rs_status st;

    struct rs_bytes kn;

    if (p->mode != RDB_MODE_DUMP)
        key_ctx_set(p, name);
    /* Own the name for the whole key (rdb.h): a big one by taking its
     * buffer over, so that no one downstream needs a copy of it. */
    if (!save_steal(p, &p->keyname, name) && save_copy(&p->keyname, name->ptr, name->len) != 0)
        return nomem(p);
    if (p->ltype == RS_T_MODULE)
        return go(p, ST_MODULE_ID);
    kn = (struct rs_bytes){ p->keyname.ptr, p->keyname.len };
    if ((st = key_begin(p, &kn, NULL)) != RS_OK)
        return st;
    return go(p, p->val_state);
}

static enum rs_status st_key(struct rdb_parser *p)
{
    struct rs_bytes name;
    enum rs_status st;

    if ((st = take_string(p, &name)) != RS_OK)
        return st;
    return key_named(p, &name);
}

static enum rs_status st_module_id(struct rdb_parser *p)
{
    struct rs_bytes name;
    enum rs_status st;
    uint64_t id;

    if ((st = take_length(p, &id)) != RS_OK)
        return st;
    module_name(id, p->modname);
    name = (struct rs_bytes){ p->keyname.ptr, p->keyname.len };
    if ((st = key_begin(p, &name, p->modname)) != RS_OK)
        return st;
    return module_body(p, ST_KEY_END);
}

static enum rs_status st_key_end(struct rdb_parser *p)
{
    return end_key(p);
}

/* --------------------------------------------------------- plain values */

static enum rs_status st_v_string(struct rdb_parser *p)
{
    struct rs_bytes v;
    enum rs_status st;

    if ((st = take_string(p, &v)) != RS_OK)
        return st;
    if (p->h->on_string && CALLED(p, p->h->on_string(p->ud, &v)))
        return stopped(p);
    return end_key(p);
}

/* Types 1 and 2: each element is emitted as it arrives, so a set of ten
 * million members never needs more than one of them in memory. */
static enum rs_status st_v_seq(struct rdb_parser *p)
{
    struct rs_bytes v;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if ((st = take_string(p, &v)) != RS_OK)
            return st;
        p->left--;
        if ((st = emit_item(p, &v)) != RS_OK)
            return st;
    }
    return end_key(p);
}

/* An old-format score (§7.11): a length byte, 253-255 special, or text. */
static enum rs_status take_old_double(struct rdb_parser *p, double *d)
{
    const unsigned char *s = NULL;
    enum rs_status st;
    size_t n;

    if ((st = need(p, 1, &s)) != RS_OK)
        return st;
    if (s[0] >= 253) {
        *d = s[0] == 253 ? __builtin_nan("") : s[0] == 254 ? __builtin_inf() : -__builtin_inf();
        done(p, 1);
        return RS_OK;
    }
    n = s[0];
    if ((st = need(p, 1 + n, &s)) != RS_OK)
        return st;
    if (text_double((const char *)s + 1, n, d) != 0)
        return fail(p, RS_E_RDB, "rdb: bad score at offset %llu", (unsigned long long)cur_off(p));
    done(p, 1 + n);
    return RS_OK;
}

static enum rs_status st_v_zset(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_bytes v, m;
    enum rs_status st;
    double score;

    if (p->step == 0) {
        if ((st = take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if (p->step == 1) {
            if ((st = take_string(p, &v)) != RS_OK || (st = save(p, 0, &v)) != RS_OK)
                return st;
            p->step = 2;
        }
        if (p->rdb_type == RDB_TYPE_ZSET) {
            if ((st = take_old_double(p, &score)) != RS_OK)
                return st;
        } else {
            if ((st = take_raw(p, 8, &s)) != RS_OK)
                return st;
            uint64_t bits = le64(s);
            memcpy(&score, &bits, sizeof(score));
        }
        p->left--;
        p->step = 1;
        m = saved_bytes(p, 0);
        if ((st = emit_zset(p, &m, score)) != RS_OK)
            return st;
    }
    return end_key(p);
}

static enum rs_status st_v_hash(struct rdb_parser *p)
{
    struct rs_bytes f, v;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if (p->step == 1) {
            if ((st = take_string(p, &v)) != RS_OK || (st = save(p, 0, &v)) != RS_OK)
                return st;
            p->step = 2;
        }
        if ((st = take_string(p, &v)) != RS_OK)
            return st;
        p->left--;
        p->step = 1;
        f = saved_bytes(p, 0);
        if ((st = emit_hash(p, &f, &v, RS_NO_EXPIRE)) != RS_OK)
            return st;
    }
    return end_key(p);
}

/* Type 24 ([minExpire], n x (ttl, field, value), TTL relative to
 * minExpire + 1) and Redis' type 22 (no minExpire, TTL absolute). */
static enum rs_status st_v_hash_meta(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_bytes f, v;
    enum rs_status st;
    int64_t exp;

    if (p->step == 0) {
        p->n[0] = 0;
        if (p->rdb_type == RDB_TYPE_HASH_METADATA) {
            if ((st = take_raw(p, 8, &s)) != RS_OK)
                return st;
            p->n[0] = le64(s);
        }
        p->step = 1;
    }
    if (p->step == 1) {
        if ((st = take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 2;
    }
    while (p->left > 0) {
        if (p->step == 2) {
            if ((st = take_length(p, &p->n[1])) != RS_OK)
                return st;
            p->step = 3;
        }
        if (p->step == 3) {
            if ((st = take_string(p, &v)) != RS_OK || (st = save(p, 0, &v)) != RS_OK)
                return st;
            p->step = 4;
        }
        if ((st = take_string(p, &v)) != RS_OK)
            return st;
        p->left--;
        p->step = 2;
        if (p->n[1] == 0)
            exp = RS_NO_EXPIRE;
        else if (p->rdb_type == RDB_TYPE_HASH_METADATA)
            exp = (int64_t)(p->n[1] + p->n[0] - 1);
        else
            exp = (int64_t)p->n[1];
        f = saved_bytes(p, 0);
        if ((st = emit_hash(p, &f, &v, exp)) != RS_OK)
            return st;
    }
    return end_key(p);
}

/* Valkey HASH_2: n x (field, value, 8-byte LE expiry, -1 = none). */
static enum rs_status st_v_hash_2(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_bytes f, v;
    enum rs_status st;
    int64_t exp;

    if (p->step == 0) {
        if ((st = take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if (p->step == 1 || p->step == 2) {
            if ((st = take_string(p, &v)) != RS_OK || (st = save(p, p->step - 1, &v)) != RS_OK)
                return st;
            p->step++;
            continue;
        }
        if ((st = take_raw(p, 8, &s)) != RS_OK)
            return st;
        exp = (int64_t)le64(s);
        p->left--;
        p->step = 1;
        f = saved_bytes(p, 0);
        v = saved_bytes(p, 1);
        if ((st = emit_hash(p, &f, &v, exp == -1 ? RS_NO_EXPIRE : exp)) != RS_OK)
            return st;
    }
    return end_key(p);
}

/* ---------------------------------------------------------------- arrays */

/*
 * Redis 8.8's array (type 28; t_array.c, sparsearray.c): the element
 * count, an insert-cursor flag (0, or 1 followed by the cursor), then per
 * element its index, a tag and the value: tag 1 an int64 and tag 2 a
 * double, both 8 bytes little-endian, tag 0 (SDS) and 3 (small string) a
 * string. Every element is reported as text, the bytes ARGET answers.
 */
enum { AR_TAG_SDS, AR_TAG_INT, AR_TAG_FLOAT, AR_TAG_SMALLSTR };
/* the longest plain decimal of a double: "-0.", 323 zeros and 17 digits */
#define AR_FLOAT_TEXT_MAX 384

/*
 * The text Redis' arFormatFloat gives a double an array holds. Redis keeps
 * a float only when that text equals what the user wrote, which is always
 * plain decimal (digits, one '.', an optional '-'): d2string's output
 * (an exact integer within +-2^62, else the shortest digits that read back
 * the same double), with ".0" added when it has no '.'. Returns the length.
 */
static int array_float_text(double d, char *buf, size_t size)
{
    char digits[40], mant[24];
    int n = 0, prec, exp10, neg = signbit(d) != 0, len = 0;

    if (!isfinite(d))
        return snprintf(buf, size, "%s", isnan(d) ? "nan" : neg ? "-inf" : "inf");
    if (d == floor(d) && fabs(d) <= 4611686018427387903.0)
        return snprintf(buf, size, "%.0f.0", d);     /* "-0.0" for -0 too */
    for (prec = 1; prec <= 17; prec++) {
        snprintf(digits, sizeof(digits), "%.*e", prec - 1, fabs(d));
        if (strtod(digits, NULL) == fabs(d))
            break;
    }
    /* digits is "D.DDDe+XX": lay the digits out without an exponent */
    exp10 = atoi(strchr(digits, 'e') + 1);
    for (const char *c = digits; *c && *c != 'e'; c++)
        if (*c != '.')
            mant[n++] = *c;
    while (n > 1 && mant[n - 1] == '0')
        n--;
    /* 1e308 is 309 digits and ".0", 5e-324 "0.", 323 zeros and "5" */
    if ((size_t)(neg + (exp10 < 0 ? 1 - exp10 + n : (exp10 + 1 > n ? exp10 + 1 : n) + 2)) >= size)
        return snprintf(buf, size, "%.17g", d);
    if (neg)
        buf[len++] = '-';
    if (exp10 < 0) {
        buf[len++] = '0';
        buf[len++] = '.';
        for (int i = 0; i < -exp10 - 1; i++)
            buf[len++] = '0';
        memcpy(buf + len, mant, (size_t)n);
        len += n;
    } else {
        for (int i = 0; i <= exp10 || i < n; i++) {
            if (i == exp10 + 1)
                buf[len++] = '.';
            buf[len++] = i < n ? mant[i] : '0';
        }
        if (n <= exp10 + 1) {
            buf[len++] = '.';
            buf[len++] = '0';
        }
    }
    buf[len] = '\0';
    return len;
}

static enum rs_status emit_array_item(struct rdb_parser *p, uint64_t idx, const struct rs_bytes *v)
{
    if (p->h->on_array_item && CALLED(p, p->h->on_array_item(p->ud, idx, v)))
        return stopped(p);
    return RS_OK;
}

/* step 0: count, 1: cursor flag, 2: cursor, 3: an index, 4: its tag,
 * 5: its value; n[0] holds the index, n[1] the tag. */
static enum rs_status st_v_array(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    char text[AR_FLOAT_TEXT_MAX];
    struct rs_bytes v;
    enum rs_status st;
    uint64_t x;
    double d;

    if (p->step == 0) {
        if ((st = take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    if (p->step == 1) {
        if ((st = take_length(p, &x)) != RS_OK)
            return st;
        if (x > 1)
            return fail(p, RS_E_RDB, "rdb: bad array cursor flag %llu at offset %llu",
                        (unsigned long long)x, (unsigned long long)cur_off(p));
        p->step = x ? 2 : 3;
    }
    if (p->step == 2) {
        if ((st = take_length(p, &x)) != RS_OK)
            return st;
        if (p->h->on_array_cursor && CALLED(p, p->h->on_array_cursor(p->ud, x)))
            return stopped(p);
        p->step = 3;
    }
    while (p->left > 0) {
        if (p->step == 3 || p->step == 4) {
            if ((st = take_length(p, &p->n[p->step - 3])) != RS_OK)
                return st;
            if (p->step == 4 && p->n[1] > AR_TAG_SMALLSTR)
                return fail(p, RS_E_RDB, "rdb: bad array element tag %llu at offset %llu",
                            (unsigned long long)p->n[1], (unsigned long long)cur_off(p));
            p->step++;
            continue;
        }
        if (p->n[1] == AR_TAG_INT || p->n[1] == AR_TAG_FLOAT) {
            if ((st = take_raw(p, 8, &s)) != RS_OK)
                return st;
            x = le64(s);
            if (p->n[1] == AR_TAG_INT) {
                v.len = (size_t)snprintf(text, sizeof(text), "%lld", (long long)x);
            } else {
                memcpy(&d, &x, sizeof(d));
                v.len = (size_t)array_float_text(d, text, sizeof(text));
            }
            v.ptr = text;
        } else if ((st = take_string(p, &v)) != RS_OK) {
            return st;
        }
        p->left--;
        p->step = 3;
        if ((st = emit_array_item(p, p->n[0], &v)) != RS_OK)
            return st;
    }
    return end_key(p);
}

/* ------------------------------------------------------ encoded values */

static enum rs_status decode_blob(struct rdb_parser *p, const struct rs_bytes *b)
{
    switch (p->rdb_type) {
    case RDB_TYPE_HASH_ZIPMAP: return walk_zipmap(p, b);
    case RDB_TYPE_SET_INTSET: return walk_intset(p, b);
    case RDB_TYPE_LIST_ZIPLIST: return walk_seq(p, 0, b, SEQ_LIST);
    case RDB_TYPE_ZSET_ZIPLIST: return walk_seq(p, 0, b, SEQ_ZSET);
    case RDB_TYPE_HASH_ZIPLIST: return walk_seq(p, 0, b, SEQ_HASH);
    case RDB_TYPE_HASH_LISTPACK: return walk_seq(p, 1, b, SEQ_HASH);
    case RDB_TYPE_ZSET_LISTPACK: return walk_seq(p, 1, b, SEQ_ZSET);
    case RDB_TYPE_SET_LISTPACK: return walk_seq(p, 1, b, SEQ_SET);
    default: return walk_seq(p, 1, b, SEQ_HASH_EX);   /* 23, 25 */
    }
}

/* One string holding a whole ziplist/listpack/intset/zipmap (type 25
 * first has an 8-byte minExpire we do not need). */
static enum rs_status st_v_blob(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_bytes b;
    enum rs_status st;

    if (p->step == 0 && p->rdb_type == RDB_TYPE_HASH_LISTPACK_EX) {
        if ((st = take_raw(p, 8, &s)) != RS_OK)
            return st;
        p->step = 1;
    }
    if ((st = take_string(p, &b)) != RS_OK)
        return st;
    if ((st = decode_blob(p, &b)) != RS_OK)
        return st;
    return end_key(p);
}

/* Types 14 (n x ziplist) and 18 (n x (container, node)): a PLAIN node of
 * type 18 is one element, a PACKED one a listpack. */
static enum rs_status st_v_quicklist(struct rdb_parser *p)
{
    struct rs_bytes b;
    enum rs_status st;
    int q2 = p->rdb_type == RDB_TYPE_LIST_QUICKLIST_2;

    if (p->step == 0) {
        if ((st = take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if (p->step == 1 && q2) {
            if ((st = take_length(p, &p->n[0])) != RS_OK)
                return st;
            if (p->n[0] != 1 && p->n[0] != 2)
                return fail(p, RS_E_RDB, "rdb: bad quicklist container %llu before offset %llu",
                            (unsigned long long)p->n[0], (unsigned long long)cur_off(p));
        }
        p->step = 2;
        if ((st = take_string(p, &b)) != RS_OK)
            return st;
        p->left--;
        p->step = 1;
        if (!q2)
            st = walk_seq(p, 0, &b, SEQ_LIST);
        else if (p->n[0] == 1)
            st = emit_item(p, &b);
        else
            st = walk_seq(p, 1, &b, SEQ_LIST);
        if (st != RS_OK)
            return st;
    }
    return end_key(p);
}

/* -------------------------------------------------------------- streams */

static enum rs_status stream_corrupt(struct rdb_parser *p, const struct seq *s, const char *why)
{
    return fail(p, RS_E_RDB, "rdb: corrupt stream listpack at offset %llu: %s (byte %zu of %zu)",
                (unsigned long long)p->item_off, why, s->pos, s->n);
}

/* The next element of a stream listpack, which must be an integer. */
static enum rs_status stream_int(struct rdb_parser *p, struct seq *s, long long *v)
{
    struct elem e;
    int r;

    if ((r = lp_next(p, s, &e)) < 0)
        return RS_ERROR;
    if (r == 0)
        return stream_corrupt(p, s, "entry cut short");
    if (elem_int(&e, v) != 0)
        return stream_corrupt(p, s, "integer expected");
    return RS_OK;
}

static enum rs_status stream_elem(struct rdb_parser *p, struct seq *s, struct elem *e)
{
    int r;

    if ((r = lp_next(p, s, e)) < 0)
        return RS_ERROR;
    return r == 0 ? stream_corrupt(p, s, "entry cut short") : RS_OK;
}

/* The master entry (§7.8): count, deleted, the field names, 0. */
static enum rs_status stream_master(struct rdb_parser *p, struct seq *s, long long *nf)
{
    enum rs_status st;
    long long v;

    if (s->b[s->pos] == 0xFF)
        return stream_corrupt(p, s, "empty listpack inside stream");
    if ((st = stream_int(p, s, &v)) != RS_OK || (st = stream_int(p, s, &v)) != RS_OK ||
        (st = stream_int(p, s, nf)) != RS_OK)
        return st;
    if (*nf < 0 || (unsigned long long)*nf > s->n / 2)
        return stream_corrupt(p, s, "bad master field count");
    if ((size_t)*nf > p->mf_cap) {
        struct elem *m = realloc(p->mf, (size_t)*nf * sizeof(*m));

        if (m == NULL)
            return nomem(p);
        p->mf = m;
        p->mf_cap = (size_t)*nf;
    }
    for (long long i = 0; i < *nf; i++)
        if ((st = stream_elem(p, s, &p->mf[i])) != RS_OK)
            return st;
    if ((st = stream_int(p, s, &v)) != RS_OK)
        return st;
    return v == 0 ? RS_OK : stream_corrupt(p, s, "bad master entry terminator");
}

/* One entry after the master entry; emits its pairs unless deleted. */
static enum rs_status stream_entry(struct rdb_parser *p, struct seq *s, long long nf)
{
    long long flags, dms, dseq, n;
    struct rs_stream_id id;
    struct rs_bytes f, v;
    struct elem fe, ve;
    enum rs_status st;

    if ((st = stream_int(p, s, &flags)) != RS_OK || (st = stream_int(p, s, &dms)) != RS_OK ||
        (st = stream_int(p, s, &dseq)) != RS_OK)
        return st;
    id.ms = p->master.ms + (uint64_t)dms;
    id.seq = p->master.seq + (uint64_t)dseq;
    n = nf;
    if (!(flags & 2) && (st = stream_int(p, s, &n)) != RS_OK)
        return st;
    if (n < 0 || (unsigned long long)n > s->n)
        return stream_corrupt(p, s, "bad field count");
    for (long long i = 0; i < n; i++) {
        if (flags & 2)
            fe = p->mf[i];
        else if ((st = stream_elem(p, s, &fe)) != RS_OK)
            return st;
        if ((st = stream_elem(p, s, &ve)) != RS_OK)
            return st;
        if (flags & 1)
            continue;            /* deleted entry: walked, not reported */
        f = elem_text(&fe, p->num[0]);
        v = elem_text(&ve, p->num[1]);
        if (p->h->on_stream_item && CALLED(p, p->h->on_stream_item(p->ud, &id, (int)i, &f, &v)))
            return stopped(p);
    }
    return stream_int(p, s, &n);   /* lp-count, for backward walks */
}

static enum rs_status walk_stream_node(struct rdb_parser *p, const struct rs_bytes *blob)
{
    enum rs_status st;
    struct seq s;
    long long nf;

    if ((st = seq_open(p, &s, 1, (const unsigned char *)blob->ptr, blob->len)) != RS_OK)
        return st;
    if ((st = stream_master(p, &s, &nf)) != RS_OK)
        return st;
    while (s.b[s.pos] != 0xFF)
        if ((st = stream_entry(p, &s, nf)) != RS_OK)
            return st;
    return seq_end(p, &s) == 0 ? RS_OK : RS_ERROR;
}

/* n listpacks, each after its 16-byte master ID. */
static enum rs_status st_stream_nodes(struct rdb_parser *p)
{
    struct rs_bytes b;
    enum rs_status st;

    if (p->step == 0) {
        p->sversion = p->rdb_type == RDB_TYPE_STREAM_LISTPACKS ? 1 :
                      p->rdb_type == RDB_TYPE_STREAM_LISTPACKS_2 ? 2 : 3;
        if ((st = take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if (p->step == 1) {
            if ((st = take_string(p, &b)) != RS_OK)
                return st;
            if (b.len != 16)
                return fail(p, RS_E_RDB, "rdb: bad stream node ID at offset %llu",
                            (unsigned long long)p->item_off);
            p->master.ms = be64((const unsigned char *)b.ptr);
            p->master.seq = be64((const unsigned char *)b.ptr + 8);
            p->step = 2;
        }
        if ((st = take_string(p, &b)) != RS_OK)
            return st;
        p->left--;
        p->step = 1;
        if ((st = walk_stream_node(p, &b)) != RS_OK)
            return st;
    }
    return go(p, ST_STREAM_META);
}

static enum rs_status st_stream_meta(struct rdb_parser *p)
{
    int count = p->sversion == 1 ? 3 : 8;
    struct rs_stream_meta m;
    enum rs_status st;

    while (p->step < count) {
        if ((st = take_length(p, &p->n[p->step])) != RS_OK)
            return st;
        p->step++;
    }
    memset(&m, 0, sizeof(m));
    m.length = p->n[0];
    m.last_id.ms = p->n[1];
    m.last_id.seq = p->n[2];
    if (p->sversion >= 2) {
        m.has_v2 = 1;
        m.first_id.ms = p->n[3];
        m.first_id.seq = p->n[4];
        m.max_deleted_id.ms = p->n[5];
        m.max_deleted_id.seq = p->n[6];
        m.entries_added = p->n[7];
    }
    if (p->h->on_stream_meta && CALLED(p, p->h->on_stream_meta(p->ud, &m)))
        return stopped(p);
    return go(p, ST_STREAM_GROUPS);
}

/* Group count, then per group: name, last ID, [entries_read]. */
static enum rs_status st_stream_groups(struct rdb_parser *p)
{
    int count = p->sversion == 1 ? 4 : 5;
    struct rs_stream_group g;
    struct rs_bytes b;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = take_length(p, &p->groups)) != RS_OK)
            return st;
        p->step = 1;
    }
    if (p->step == 1) {
        if (p->groups == 0 && p->rdb_type == RDB_TYPE_STREAM_LISTPACKS_4)
            return go(p, ST_STREAM_IDMP);
        if (p->groups == 0)
            return end_key(p);
        if ((st = take_string(p, &b)) != RS_OK || (st = save(p, 0, &b)) != RS_OK)
            return st;
        p->step = 2;
    }
    while (p->step < count) {
        if ((st = take_length(p, &p->n[p->step])) != RS_OK)
            return st;
        p->step++;
    }
    p->groups--;
    p->step = 1;
    g.name = saved_bytes(p, 0);
    g.last_id.ms = p->n[2];
    g.last_id.seq = p->n[3];
    g.entries_read = p->sversion == 1 ? -1 : (int64_t)p->n[4];   /* 2^64-1 is -1 */
    if (p->h->on_stream_group && CALLED(p, p->h->on_stream_group(p->ud, &g)))
        return stopped(p);
    p->state = ST_STREAM_PEL;
    p->step = 0;
    return RS_OK;
}

static inline struct rs_stream_id raw_id(const unsigned char *s)
{
    struct rs_stream_id id = { be64(s), be64(s + 8) };

    return id;
}

/* The group PEL: 16-byte ID, 8-byte delivery time, delivery count. */
static enum rs_status st_stream_pel(struct rdb_parser *p)
{
    struct rs_stream_pending pe;
    const unsigned char *s = NULL;
    enum rs_status st;
    uint64_t count;

    if (p->step == 0) {
        if ((st = take_length(p, &p->pel)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->pel > 0) {
        if (p->step == 1) {
            if ((st = take_raw(p, 16, &s)) != RS_OK)
                return st;
            p->pid = raw_id(s);
            p->step = 2;
        }
        if (p->step == 2) {
            if ((st = take_raw(p, 8, &s)) != RS_OK)
                return st;
            p->ptime = (int64_t)le64(s);
            p->step = 3;
        }
        if ((st = take_length(p, &count)) != RS_OK)
            return st;
        p->pel--;
        p->step = 1;
        pe.id = p->pid;
        pe.delivery_time = p->ptime;
        pe.delivery_count = count;
        if (p->h->on_stream_pending && CALLED(p, p->h->on_stream_pending(p->ud, &pe)))
            return stopped(p);
    }
    return go(p, ST_STREAM_CONSUMERS);
}

/* Consumer count, then per consumer: name, seen time, [active time], and
 * the size of its own PEL (read by st_stream_cpel). */
static enum rs_status st_stream_consumers(struct rdb_parser *p)
{
    struct rs_stream_consumer c;
    const unsigned char *s = NULL;
    struct rs_bytes b;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = take_length(p, &p->consumers)) != RS_OK)
            return st;
        p->step = 1;
    }
    if (p->step == 1) {
        if (p->consumers == 0) {
            p->state = ST_STREAM_GROUPS;
            p->step = 1;
            return RS_OK;
        }
        if ((st = take_string(p, &b)) != RS_OK || (st = save(p, 0, &b)) != RS_OK)
            return st;
        p->step = 2;
    }
    if (p->step == 2) {
        if ((st = take_raw(p, 8, &s)) != RS_OK)
            return st;
        p->n[0] = le64(s);
        p->n[1] = (uint64_t)-1;
        p->step = p->sversion >= 3 ? 3 : 4;
    }
    if (p->step == 3) {
        if ((st = take_raw(p, 8, &s)) != RS_OK)
            return st;
        p->n[1] = le64(s);
        p->step = 4;
    }
    if ((st = take_length(p, &p->pel)) != RS_OK)
        return st;
    p->consumers--;
    c.name = saved_bytes(p, 0);
    c.seen_time = (int64_t)p->n[0];
    c.active_time = (int64_t)p->n[1];
    if (p->h->on_stream_consumer && CALLED(p, p->h->on_stream_consumer(p->ud, &c)))
        return stopped(p);
    return go(p, ST_STREAM_CPEL);
}

static enum rs_status st_stream_cpel(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_stream_id id;
    enum rs_status st;

    while (p->pel > 0) {
        if ((st = take_raw(p, 16, &s)) != RS_OK)
            return st;
        p->pel--;
        id = raw_id(s);
        if (p->h->on_stream_consumer_pending &&
            CALLED(p, p->h->on_stream_consumer_pending(p->ud, &id)))
            return stopped(p);
    }
    p->state = ST_STREAM_CONSUMERS;
    p->step = 1;
    return RS_OK;
}

/*
 * Redis 8.6's type 26 ends with the stream's IDMP (idempotent producer)
 * state, after the groups: len duration, len max_entries, len producers;
 * per producer: string pid, len entries, per entry: string iid, len ms,
 * len seq; then len iids_added, len iids_duplicates (as redis/librdb's
 * parser reads RDB 13). Nothing of it is mirrored: read and dropped.
 * Steps: 0 the three lengths, 1 a producer's pid, 2 its entry count, 3-5
 * an entry, 6-7 the two counters. p->consumers counts producers left,
 * p->pel entries left.
 */
static enum rs_status st_stream_idmp(struct rdb_parser *p)
{
    struct rs_bytes b;
    enum rs_status st;

    while (p->step < 3) {
        if ((st = take_length(p, &p->n[p->step])) != RS_OK)
            return st;
        p->step++;
        if (p->step == 3) {
            p->consumers = p->n[2];
            p->step = 10;
        }
    }
    for (;;) {
        if (p->step == 10) {
            p->step = p->consumers > 0 ? 1 : 6;
            if (p->consumers > 0)
                p->consumers--;
        }
        if (p->step == 1) {
            if ((st = take_string_opt(p, &b, 0)) != RS_OK)
                return st;
            p->step = 2;
        }
        if (p->step == 2) {
            if ((st = take_length(p, &p->pel)) != RS_OK)
                return st;
            p->step = p->pel > 0 ? 3 : 10;
        }
        while (p->step >= 3 && p->step <= 5) {
            if (p->step == 3)
                st = take_string_opt(p, &b, 0);
            else
                st = take_length(p, &p->n[p->step]);
            if (st != RS_OK)
                return st;
            if (++p->step == 6) {
                p->step = --p->pel > 0 ? 3 : 10;
                break;
            }
        }
        if (p->step >= 6 && p->step <= 7)
            break;
    }
    while (p->step < 8) {
        if ((st = take_length(p, &p->n[p->step - 6])) != RS_OK)
            return st;
        p->step++;
    }
    return end_key(p);
}

/* ------------------------------------------------------- end of payload */

static enum rs_status st_trailer(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;
    uint64_t off = cur_off(p), crc;

    if ((st = take_raw(p, 8, &s)) != RS_OK)
        return st;
    crc = le64(s);
    if (crc != 0 && crc != p->crc_final)
        return fail(p, RS_E_RDB, "rdb: bad CRC64 at offset %llu: computed 0x%016llx, trailer 0x%016llx",
                    (unsigned long long)off, (unsigned long long)p->crc_final,
                    (unsigned long long)crc);
    return finish(p);
}

static enum rs_status st_dump_type(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;

    if ((st = need(p, 1, &s)) != RS_OK)
        return st;
    if (s[0] == RDB_OP_KEY_META) {      /* Redis 8.6 may put key metadata first */
        done(p, 1);
        return go(p, ST_KEY_META);
    }
    return start_key(p, s[0]);
}

/* 2-byte version, then the CRC64 of everything before it. */
static enum rs_status st_dump_footer(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;
    uint64_t off, crc;

    if (p->step == 0) {
        if ((st = take_raw(p, 2, &s)) != RS_OK)
            return st;
        p->n[0] = (uint64_t)(s[0] | s[1] << 8);
        crc_sync(p);
        p->crc_final = p->crc;
        p->step = 1;
    }
    off = cur_off(p);
    if ((st = take_raw(p, 8, &s)) != RS_OK)
        return st;
    crc = le64(s);
    if (crc != p->crc_final)
        return fail(p, RS_E_RDB, "rdb: bad CRC64 at offset %llu: computed 0x%016llx, payload has 0x%016llx",
                    (unsigned long long)off, (unsigned long long)p->crc_final,
                    (unsigned long long)crc);
    p->version = (int)p->n[0];
    p->is_valkey = p->version >= 80;
    if (p->version == 0 || (p->version > 14 && p->version < 80) || p->version > 81)
        return fail(p, RS_E_RDB, "rdb: unsupported DUMP payload version %d at offset %llu",
                    p->version, (unsigned long long)(off - 2));
    /* Type 22 was read as Valkey's HASH_2 before the version was known;
     * type 28 is Redis' ARRAY from RDB 14 on. */
    if ((p->rdb_type == RDB_TYPE_ARRAY && (p->version < 14 || p->version >= 80)) ||
        (p->rdb_type == RDB_TYPE_HASH_22 && p->version < 80) ||
        (p->rdb_type == RDB_TYPE_HASH_23 && p->version >= 80))
        return fail(p, RS_E_RDB, "rdb: unsupported DUMP payload: type %d with version %d",
                    p->rdb_type, p->version);
    return finish(p);
}

static enum rs_status st_done(struct rdb_parser *p)
{
    return p->status;
}

static enum rs_status (*const steps[ST_COUNT])(struct rdb_parser *) = {
    [ST_MAGIC] = st_magic, [ST_OPCODE] = st_opcode, [ST_SELECTDB] = st_selectdb,
    [ST_RESIZEDB] = st_resizedb, [ST_EXPIRE_S] = st_expire_s, [ST_EXPIRE_MS] = st_expire_ms,
    [ST_IDLE] = st_idle, [ST_FREQ] = st_freq, [ST_AUX] = st_aux,
    [ST_MODULE_AUX] = st_module_aux, [ST_FUNCTION2] = st_function2,
    [ST_FUNCTION_PRE_GA] = st_function_pre_ga, [ST_SLOT_INFO] = st_slot_info,
    [ST_KEY_META] = st_key_meta, [ST_SLOT_IMPORT] = st_slot_import, [ST_KEY] = st_key,
    [ST_MODULE_ID] = st_module_id, [ST_MODULE_BODY] = st_module_body,
    [ST_KEY_END] = st_key_end, [ST_V_STRING] = st_v_string, [ST_V_SEQ] = st_v_seq,
    [ST_V_ZSET] = st_v_zset, [ST_V_HASH] = st_v_hash, [ST_V_HASH_META] = st_v_hash_meta,
    [ST_V_HASH_2] = st_v_hash_2, [ST_V_BLOB] = st_v_blob, [ST_V_QUICKLIST] = st_v_quicklist,
    [ST_V_ARRAY] = st_v_array,
    [ST_STREAM_NODES] = st_stream_nodes, [ST_STREAM_META] = st_stream_meta,
    [ST_STREAM_GROUPS] = st_stream_groups, [ST_STREAM_PEL] = st_stream_pel,
    [ST_STREAM_CONSUMERS] = st_stream_consumers, [ST_STREAM_CPEL] = st_stream_cpel,
    [ST_STREAM_IDMP] = st_stream_idmp,
    [ST_TRAILER] = st_trailer, [ST_DUMP_TYPE] = st_dump_type,
    [ST_DUMP_FOOTER] = st_dump_footer, [ST_DONE] = st_done,
};

/* ------------------------------------------------------------ public API */

struct rdb_parser *rdb_parser_new(enum rdb_mode mode, const struct rdb_handlers *h,
                                  void *ud, size_t max_item)
{
    static const struct rdb_handlers none;
    struct rdb_parser *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    if (h == NULL)
        h = &none;
    pthread_once(&crc_once, crc_init);
    p->mode = mode;
    p->h = h;
    p->ud = ud;
    p->max_item = max_item ? max_item : RDB_DEFAULT_MAX_ITEM;
    p->status = RS_AGAIN;
    p->state = mode == RDB_MODE_DUMP ? ST_DUMP_TYPE : ST_MAGIC;
    p->expire_ms = RS_NO_EXPIRE;
    return p;
}

void rdb_parser_free(struct rdb_parser *p)
{
    if (p == NULL)
        return;
    free(p->buf);
    free(p->zbuf);
    free(p->mf);
    free(p->save[0].own);
    free(p->save[1].own);
    free(p->keyname.own);
    free(p);
}

enum rs_status rdb_parser_feed(struct rdb_parser *p, const char *buf, size_t len,
                               size_t *consumed)
{
    enum rs_status st;

    if (consumed)
        *consumed = 0;
    if (p->status != RS_AGAIN)
        return p->status;
    p->in = (const unsigned char *)buf;
    p->in_len = len;
    p->in_pos = 0;
    p->crc_pos = 0;
    do
        st = steps[p->state](p);
    while (st == RS_OK);
    if (st == RS_AGAIN) {
        crc_sync(p);
        if (keep_saved(p) != 0)
            st = nomem(p);
    }
    p->base += p->in_pos;
    if (consumed)
        *consumed = p->in_pos;
    p->in = NULL;
    p->in_len = p->in_pos = p->crc_pos = 0;
    return st;
}

int rdb_parser_finish(struct rdb_parser *p)
{
    if (p->status == RS_DONE)
        return 0;
    if (p->status == RS_AGAIN)
        fail(p, RS_E_RDB, "rdb: truncated at offset %llu (inside %s)",
             (unsigned long long)p->base, state_names[p->state]);
    return -1;
}

const struct rs_error *rdb_parser_error(const struct rdb_parser *p)
{
    return &p->err;
}

void rdb_parser_set_error(struct rdb_parser *p, int code, const char *msg)
{
    rs_fail(&p->err, code, "%s (at offset %llu%s)", msg,
            (unsigned long long)(p->base + p->in_pos), p->key_ctx);
    p->status = RS_ERROR;
}

uint64_t rdb_parser_offset(const struct rdb_parser *p)
{
    return p->base + p->in_pos;
}

int rdb_parser_version(const struct rdb_parser *p, int *is_valkey)
{
    if (is_valkey)
        *is_valkey = p->is_valkey;
    if (p->mode == RDB_MODE_DUMP && p->status != RS_DONE)
        return 0;
    return p->version;
}
