/*
 * rdb_int.h - what the files of the RDB parser share; not an API (that is
 * rdb.h). The parser is one state machine over four files:
 *
 *   rdb.c         the grammar: opcodes, keys, plain values, the public API
 *   rdb_input.c   the resumable byte reader: need/done, lengths, strings
 *                 (LZF), saved bytes, errors, the CRC64
 *   rdb_decode.c  the ziplist, listpack, intset and zipmap decoders
 *   rdb_stream.c  the stream records (listpack nodes, groups, PELs, NACK
 *                 zones, IDMP state)
 *
 * Every rdb_take_* consumes a whole item or nothing (RS_AGAIN); see rdb.c.
 */
#ifndef RS_RDB_INT_H
#define RS_RDB_INT_H

#include <stdint.h>
#include <string.h>

#include "rdb.h"

/* Opcodes (redis src/rdb.h RDB_OPCODE_*; 243 means something else in
 * Valkey files, see st_opcode). */
enum rdb_opcode {
    RDB_OP_UPDATE = 242,         /* Valkey 81: a command inlined by a forkless save */
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
    RDB_TYPE_HASH_23 = 23,       /* Redis: LISTPACK_EX_PRE_GA; Valkey 81: PATH_HASH */
    RDB_TYPE_HASH_METADATA = 24,
    RDB_TYPE_HASH_LISTPACK_EX = 25,
    RDB_TYPE_STREAM_LISTPACKS_4 = 26,  /* Redis 8.6 (RDB 13): v3 + IDMP state */
    RDB_TYPE_STREAM_LISTPACKS_5 = 27,  /* Redis 8.8 (RDB 14): v4 + per-group NACK zone */
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
    ST_V_PATH_HASH,
    ST_V_BLOB,
    ST_V_QUICKLIST,
    ST_V_ARRAY,
    ST_STREAM_NODES,
    ST_STREAM_META,
    ST_STREAM_GROUPS,
    ST_STREAM_PEL,
    ST_STREAM_CONSUMERS,
    ST_STREAM_CPEL,
    ST_STREAM_NACK,
    ST_STREAM_IDMP,
    ST_TRAILER,
    ST_DUMP_TYPE,
    ST_DUMP_FOOTER,
    ST_DONE,
    ST_COUNT
};

/* What the elements of a ziplist/listpack blob are, and how many of them
 * make one record. */
enum seq_kind { SEQ_LIST, SEQ_SET, SEQ_ZSET, SEQ_HASH, SEQ_HASH_EX };

/* A string that must outlive the next take_*: either borrowed from the
 * caller's chunk (valid until rdb_parser_feed returns, when rdb_keep_saved()
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
    int sversion;               /* stream record version: 1, 2 or 3 (26, 27: 3) */
    struct saved save[2];
    struct saved keyname;       /* the key being read: valid until its on_key_end */
    struct elem *mf;            /* stream master-entry fields */
    size_t mf_cap;
    char num[4][24];            /* decimal text of integers */
    char key_ctx[80];           /* " in key '...'" for messages, "" between keys */
};

/* rdb_input.c: errors (always RS_ERROR; the error is sticky) */
enum rs_status rdb_fail(struct rdb_parser *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum rs_status rdb_nomem(struct rdb_parser *p);
enum rs_status rdb_stopped(struct rdb_parser *p);
void rdb_key_ctx_set(struct rdb_parser *p, const struct rs_bytes *name);

/* rdb_input.c: the byte reader */
void rdb_crc_prepare(void);
void rdb_crc_sync(struct rdb_parser *p);
enum rs_status rdb_need(struct rdb_parser *p, size_t n, const unsigned char **out);
enum rs_status rdb_take_length(struct rdb_parser *p, uint64_t *v);
enum rs_status rdb_take_raw(struct rdb_parser *p, size_t n, const unsigned char **out);
enum rs_status rdb_take_string_opt(struct rdb_parser *p, struct rs_bytes *out, int decode);

/* rdb_input.c: bytes kept across the next take_* */
int rdb_save_copy(struct saved *sv, const char *ptr, size_t len);
int rdb_save_steal(struct rdb_parser *p, struct saved *sv, const struct rs_bytes *b);
enum rs_status rdb_save(struct rdb_parser *p, int i, const struct rs_bytes *b);
int rdb_keep_saved(struct rdb_parser *p);
void rdb_release_big(struct rdb_parser *p);

/* rdb_decode.c: elements and the events they make */
struct rs_bytes rdb_elem_text(const struct elem *e, char *tmp);
int rdb_text_double(const char *s, size_t len, double *out);
int rdb_elem_int(const struct elem *e, long long *v);
enum rs_status rdb_emit_item(struct rdb_parser *p, const struct rs_bytes *b);
enum rs_status rdb_emit_zset(struct rdb_parser *p, const struct rs_bytes *m, double score);
enum rs_status rdb_emit_hash(struct rdb_parser *p, const struct rs_bytes *f,
                             const struct rs_bytes *v, int64_t expire);

/* rdb_decode.c: the blob decoders; each reports its records, or fails
 * naming p->item_off. A listpack walk (lp = 1) is what streams use too. */
enum rs_status rdb_seq_open(struct rdb_parser *p, struct seq *s, int lp,
                            const unsigned char *b, size_t n);
int rdb_seq_end(struct rdb_parser *p, struct seq *s);
int rdb_lp_next(struct rdb_parser *p, struct seq *s, struct elem *e);
enum rs_status rdb_walk_seq(struct rdb_parser *p, int lp, const struct rs_bytes *blob,
                            enum seq_kind kind);
enum rs_status rdb_walk_intset(struct rdb_parser *p, const struct rs_bytes *blob);
enum rs_status rdb_walk_zipmap(struct rdb_parser *p, const struct rs_bytes *blob);

/* rdb_stream.c: one listpack node of a stream, and the stream's states */
enum rs_status rdb_walk_stream_node(struct rdb_parser *p, const struct rs_bytes *blob);
enum rs_status rdb_st_stream_nodes(struct rdb_parser *p);
enum rs_status rdb_st_stream_meta(struct rdb_parser *p);
enum rs_status rdb_st_stream_groups(struct rdb_parser *p);
enum rs_status rdb_st_stream_pel(struct rdb_parser *p);
enum rs_status rdb_st_stream_consumers(struct rdb_parser *p);
enum rs_status rdb_st_stream_cpel(struct rdb_parser *p);
enum rs_status rdb_st_stream_nack(struct rdb_parser *p);
enum rs_status rdb_st_stream_idmp(struct rdb_parser *p);

/* rdb.c: the end of a key's value */
enum rs_status rdb_end_key(struct rdb_parser *p);

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

/* Offset of the first byte of the item being assembled. */
static inline uint64_t rdb_cur_off(const struct rdb_parser *p)
{
    return p->base + p->in_pos - p->buf_len;
}

#define CALLED(p, rc) ((rc) != 0 || (p)->err.code != 0)

/* Consume the n-byte item that rdb_need() made available. */
static inline void rdb_done(struct rdb_parser *p, size_t n)
{
    if (p->buf_len == 0) {
        p->in_pos += n;
        return;
    }
    if (p->buf_len > n) {   /* cannot happen with monotonic rdb_need(); stay exact */
        memmove(p->buf, p->buf + n, p->buf_len - n);
        p->buf_len -= n;
        return;
    }
    p->buf_len = 0;     /* the bytes stay readable until the next rdb_need() */
}

static inline enum rs_status rdb_take_string(struct rdb_parser *p, struct rs_bytes *out)
{
    return rdb_take_string_opt(p, out, 1);
}

static inline struct rs_bytes rdb_saved_bytes(const struct rdb_parser *p, int i)
{
    struct rs_bytes b = { p->save[i].ptr, p->save[i].len };

    return b;
}

static inline enum rs_status rdb_go(struct rdb_parser *p, enum rdb_state s)
{
    p->state = s;
    p->step = 0;
    return RS_OK;
}

#endif
