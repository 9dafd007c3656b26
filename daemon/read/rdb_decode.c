/*
 * rdb_decode.c - the decoders of the RDB parser's encoded blobs: ziplist,
 * listpack, intset and zipmap (rdb_int.h). Each walks one whole blob,
 * already in memory, checks every offset against its size, and reports
 * its elements as records of the key's type (rdb_emit_*).
 */
#include <stdlib.h>
#include <string.h>

#include "rdb_int.h"

/* ------------------------------------------------------- element output */

struct rs_bytes rdb_elem_text(const struct elem *e, char *tmp)
{
    struct rs_bytes b;

    if (e->is_int) {
        b.ptr = tmp;
        b.len = rs_ll2str(tmp, e->v);
    } else {
        b.ptr = (const char *)e->s;
        b.len = e->len;
    }
    return b;
}

/* Text to double the way Redis' zzlStrtod does it. Returns -1 on text
 * that holds no number at all. */
int rdb_text_double(const char *s, size_t len, double *out)
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

int rdb_elem_int(const struct elem *e, long long *v)
{
    if (e->is_int) {
        *v = e->v;
        return 0;
    }
    return rs_parse_ll((const char *)e->s, e->len, v);
}

enum rs_status rdb_emit_item(struct rdb_parser *p, const struct rs_bytes *b)
{
    int rc = 0;

    if (p->ltype == RS_T_LIST) {
        if (p->h->on_list_item)
            rc = p->h->on_list_item(p->ud, b);
    } else if (p->h->on_set_member) {
        rc = p->h->on_set_member(p->ud, b);
    }
    return CALLED(p, rc) ? rdb_stopped(p) : RS_OK;
}

enum rs_status rdb_emit_zset(struct rdb_parser *p, const struct rs_bytes *m, double score)
{
    if (p->h->on_zset_member && CALLED(p, p->h->on_zset_member(p->ud, m, score)))
        return rdb_stopped(p);
    return RS_OK;
}

enum rs_status rdb_emit_hash(struct rdb_parser *p, const struct rs_bytes *f,
                             const struct rs_bytes *v, int64_t expire)
{
    if (p->h->on_hash_field && CALLED(p, p->h->on_hash_field(p->ud, f, v, expire)))
        return rdb_stopped(p);
    return RS_OK;
}

/* ------------------------------------------------ ziplist and listpack */

static enum rs_status blob_fail(struct rdb_parser *p, const struct seq *s, const char *why)
{
    return rdb_fail(p, RS_E_RDB, "rdb: corrupt %s at offset %llu: %s (byte %zu of %zu)",
                    s->lp ? "listpack" : "ziplist", (unsigned long long)p->item_off,
                    why, s->pos, s->n);
}

enum rs_status rdb_seq_open(struct rdb_parser *p, struct seq *s, int lp,
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
int rdb_seq_end(struct rdb_parser *p, struct seq *s)
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
        return rdb_seq_end(p, s) == 0 ? 0 : -1;
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

int rdb_lp_next(struct rdb_parser *p, struct seq *s, struct elem *e)
{
    size_t lim = s->n - 1, size, bl;

    if (s->b[s->pos] == 0xFF)
        return rdb_seq_end(p, s) == 0 ? 0 : -1;
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
    return s->lp ? rdb_lp_next(p, s, e) : zl_next(p, s, e);
}

/* Emit one record of 1-3 elements as the key's type wants it. */
static enum rs_status emit_record(struct rdb_parser *p, enum seq_kind kind,
                                  const struct seq *s, const struct elem *e)
{
    struct rs_bytes a = rdb_elem_text(&e[0], p->num[0]), b;
    long long ttl;
    double score;

    switch (kind) {
    case SEQ_LIST:
    case SEQ_SET:
        return rdb_emit_item(p, &a);
    case SEQ_ZSET:
        if (e[1].is_int)
            score = (double)e[1].v;
        else if (rdb_text_double((const char *)e[1].s, e[1].len, &score) != 0)
            return blob_fail(p, s, "bad score");
        return rdb_emit_zset(p, &a, score);
    case SEQ_HASH:
        b = rdb_elem_text(&e[1], p->num[1]);
        return rdb_emit_hash(p, &a, &b, RS_NO_EXPIRE);
    case SEQ_HASH_EX:
        if (rdb_elem_int(&e[2], &ttl) != 0 || ttl < 0)
            return blob_fail(p, s, "bad field TTL");
        b = rdb_elem_text(&e[1], p->num[1]);
        return rdb_emit_hash(p, &a, &b, ttl == 0 ? RS_NO_EXPIRE : (int64_t)ttl);
    }
    return RS_OK;
}

/* Walk a ziplist/listpack blob and emit its records. */
enum rs_status rdb_walk_seq(struct rdb_parser *p, int lp, const struct rs_bytes *blob,
                            enum seq_kind kind)
{
    static const int widths[] = { [SEQ_LIST] = 1, [SEQ_SET] = 1, [SEQ_ZSET] = 2,
                                  [SEQ_HASH] = 2, [SEQ_HASH_EX] = 3 };
    int width = widths[kind], i, r;
    struct elem e[3];
    struct seq s;
    enum rs_status st;

    if ((st = rdb_seq_open(p, &s, lp, (const unsigned char *)blob->ptr, blob->len)) != RS_OK)
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

enum rs_status rdb_walk_intset(struct rdb_parser *p, const struct rs_bytes *blob)
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
        m.len = rs_ll2str(p->num[0], v);
        if ((st = rdb_emit_item(p, &m)) != RS_OK)
            return st;
    }
    return RS_OK;
corrupt:
    return rdb_fail(p, RS_E_RDB, "rdb: corrupt intset at offset %llu",
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

enum rs_status rdb_walk_zipmap(struct rdb_parser *p, const struct rs_bytes *blob)
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
        if ((st = rdb_emit_hash(p, &f, &v, RS_NO_EXPIRE)) != RS_OK)
            return st;
    }
    if (pos != n - 1 || (b[0] < 254 && b[0] != count))
        goto corrupt;
    return RS_OK;
corrupt:
    return rdb_fail(p, RS_E_RDB, "rdb: corrupt zipmap at offset %llu",
                    (unsigned long long)p->item_off);
}
