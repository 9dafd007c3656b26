/*
 * rdb_stream.c - the RDB parser's stream records (types 15, 19, 21, 26,
 * 27; rdb_int.h): the listpack nodes with their entries, the metadata, the
 * consumer groups with their PELs and consumers, Redis 8.8's per-group
 * NACK zone and Redis 8.6's IDMP state. The states here are entries of
 * rdb.c's table 'steps'.
 */
#include <stdlib.h>
#include <string.h>

#include "rdb_int.h"

/* -------------------------------------------------------------- streams */

static enum rs_status stream_corrupt(struct rdb_parser *p, const struct seq *s, const char *why)
{
    return rdb_fail(p, RS_E_RDB, "rdb: corrupt stream listpack at offset %llu: %s (byte %zu of %zu)",
                    (unsigned long long)p->item_off, why, s->pos, s->n);
}

/* The next element of a stream listpack, which must be an integer. */
static enum rs_status stream_int(struct rdb_parser *p, struct seq *s, long long *v)
{
    struct elem e;
    int r;

    if ((r = rdb_lp_next(p, s, &e)) < 0)
        return RS_ERROR;
    if (r == 0)
        return stream_corrupt(p, s, "entry cut short");
    if (rdb_elem_int(&e, v) != 0)
        return stream_corrupt(p, s, "integer expected");
    return RS_OK;
}

static enum rs_status stream_elem(struct rdb_parser *p, struct seq *s, struct elem *e)
{
    int r;

    if ((r = rdb_lp_next(p, s, e)) < 0)
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
            return rdb_nomem(p);
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
        f = rdb_elem_text(&fe, p->num[0]);
        v = rdb_elem_text(&ve, p->num[1]);
        if (p->h->on_stream_item && CALLED(p, p->h->on_stream_item(p->ud, &id, (int)i, &f, &v)))
            return rdb_stopped(p);
    }
    return stream_int(p, s, &n);   /* lp-count, for backward walks */
}

enum rs_status rdb_walk_stream_node(struct rdb_parser *p, const struct rs_bytes *blob)
{
    enum rs_status st;
    struct seq s;
    long long nf;

    if ((st = rdb_seq_open(p, &s, 1, (const unsigned char *)blob->ptr, blob->len)) != RS_OK)
        return st;
    if ((st = stream_master(p, &s, &nf)) != RS_OK)
        return st;
    while (s.b[s.pos] != 0xFF)
        if ((st = stream_entry(p, &s, nf)) != RS_OK)
            return st;
    return rdb_seq_end(p, &s) == 0 ? RS_OK : RS_ERROR;
}

/* n listpacks, each after its 16-byte master ID. */
enum rs_status rdb_st_stream_nodes(struct rdb_parser *p)
{
    struct rs_bytes b;
    enum rs_status st;

    if (p->step == 0) {
        p->sversion = p->rdb_type == RDB_TYPE_STREAM_LISTPACKS ? 1 :
                      p->rdb_type == RDB_TYPE_STREAM_LISTPACKS_2 ? 2 : 3;
        if ((st = rdb_take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if (p->step == 1) {
            if ((st = rdb_take_string(p, &b)) != RS_OK)
                return st;
            if (b.len != 16)
                return rdb_fail(p, RS_E_RDB, "rdb: bad stream node ID at offset %llu",
                                (unsigned long long)p->item_off);
            p->master.ms = be64((const unsigned char *)b.ptr);
            p->master.seq = be64((const unsigned char *)b.ptr + 8);
            p->step = 2;
        }
        if ((st = rdb_take_string(p, &b)) != RS_OK)
            return st;
        p->left--;
        p->step = 1;
        if ((st = rdb_walk_stream_node(p, &b)) != RS_OK)
            return st;
    }
    return rdb_go(p, ST_STREAM_META);
}

enum rs_status rdb_st_stream_meta(struct rdb_parser *p)
{
    int count = p->sversion == 1 ? 3 : 8;
    struct rs_stream_meta m;
    enum rs_status st;

    while (p->step < count) {
        if ((st = rdb_take_length(p, &p->n[p->step])) != RS_OK)
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
        return rdb_stopped(p);
    return rdb_go(p, ST_STREAM_GROUPS);
}

/* Group count, then per group: name, last ID, [entries_read]. */
enum rs_status rdb_st_stream_groups(struct rdb_parser *p)
{
    int count = p->sversion == 1 ? 4 : 5;
    struct rs_stream_group g;
    struct rs_bytes b;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = rdb_take_length(p, &p->groups)) != RS_OK)
            return st;
        p->step = 1;
    }
    if (p->step == 1) {
        if (p->groups == 0 && (p->rdb_type == RDB_TYPE_STREAM_LISTPACKS_4 ||
                               p->rdb_type == RDB_TYPE_STREAM_LISTPACKS_5))
            return rdb_go(p, ST_STREAM_IDMP);
        if (p->groups == 0)
            return rdb_end_key(p);
        if ((st = rdb_take_string(p, &b)) != RS_OK || (st = rdb_save(p, 0, &b)) != RS_OK)
            return st;
        p->step = 2;
    }
    while (p->step < count) {
        if ((st = rdb_take_length(p, &p->n[p->step])) != RS_OK)
            return st;
        p->step++;
    }
    p->groups--;
    p->step = 1;
    g.name = rdb_saved_bytes(p, 0);
    g.last_id.ms = p->n[2];
    g.last_id.seq = p->n[3];
    g.entries_read = p->sversion == 1 ? -1 : (int64_t)p->n[4];   /* 2^64-1 is -1 */
    if (p->h->on_stream_group && CALLED(p, p->h->on_stream_group(p->ud, &g)))
        return rdb_stopped(p);
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
enum rs_status rdb_st_stream_pel(struct rdb_parser *p)
{
    struct rs_stream_pending pe;
    const unsigned char *s = NULL;
    enum rs_status st;
    uint64_t count;

    if (p->step == 0) {
        if ((st = rdb_take_length(p, &p->pel)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->pel > 0) {
        if (p->step == 1) {
            if ((st = rdb_take_raw(p, 16, &s)) != RS_OK)
                return st;
            p->pid = raw_id(s);
            p->step = 2;
        }
        if (p->step == 2) {
            if ((st = rdb_take_raw(p, 8, &s)) != RS_OK)
                return st;
            p->ptime = (int64_t)le64(s);
            p->step = 3;
        }
        if ((st = rdb_take_length(p, &count)) != RS_OK)
            return st;
        p->pel--;
        p->step = 1;
        pe.id = p->pid;
        pe.delivery_time = p->ptime;
        pe.delivery_count = count;
        if (p->h->on_stream_pending && CALLED(p, p->h->on_stream_pending(p->ud, &pe)))
            return rdb_stopped(p);
    }
    return rdb_go(p, ST_STREAM_CONSUMERS);
}

/* Consumer count, then per consumer: name, seen time, [active time], and
 * the size of its own PEL (read by st_stream_cpel). */
enum rs_status rdb_st_stream_consumers(struct rdb_parser *p)
{
    struct rs_stream_consumer c;
    const unsigned char *s = NULL;
    struct rs_bytes b;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = rdb_take_length(p, &p->consumers)) != RS_OK)
            return st;
        p->step = 1;
    }
    if (p->step == 1) {
        if (p->consumers == 0 && p->rdb_type == RDB_TYPE_STREAM_LISTPACKS_5)
            return rdb_go(p, ST_STREAM_NACK);
        if (p->consumers == 0) {
            p->state = ST_STREAM_GROUPS;
            p->step = 1;
            return RS_OK;
        }
        if ((st = rdb_take_string(p, &b)) != RS_OK || (st = rdb_save(p, 0, &b)) != RS_OK)
            return st;
        p->step = 2;
    }
    if (p->step == 2) {
        if ((st = rdb_take_raw(p, 8, &s)) != RS_OK)
            return st;
        p->n[0] = le64(s);
        p->n[1] = (uint64_t)-1;
        p->step = p->sversion >= 3 ? 3 : 4;
    }
    if (p->step == 3) {
        if ((st = rdb_take_raw(p, 8, &s)) != RS_OK)
            return st;
        p->n[1] = le64(s);
        p->step = 4;
    }
    if ((st = rdb_take_length(p, &p->pel)) != RS_OK)
        return st;
    p->consumers--;
    c.name = rdb_saved_bytes(p, 0);
    c.seen_time = (int64_t)p->n[0];
    c.active_time = (int64_t)p->n[1];
    if (p->h->on_stream_consumer && CALLED(p, p->h->on_stream_consumer(p->ud, &c)))
        return rdb_stopped(p);
    return rdb_go(p, ST_STREAM_CPEL);
}

enum rs_status rdb_st_stream_cpel(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_stream_id id;
    enum rs_status st;

    while (p->pel > 0) {
        if ((st = rdb_take_raw(p, 16, &s)) != RS_OK)
            return st;
        p->pel--;
        id = raw_id(s);
        if (p->h->on_stream_consumer_pending &&
            CALLED(p, p->h->on_stream_consumer_pending(p->ud, &id)))
            return rdb_stopped(p);
    }
    p->state = ST_STREAM_CONSUMERS;
    p->step = 1;
    return RS_OK;
}

/*
 * Redis 8.8's type 27 closes every group with its NACK zone: len count,
 * then count x 16-byte ids (big-endian ms and seq, as in the PELs), the
 * pending entries XNACK released (as redis/librdb's parser reads RDB 14).
 * Each is also in the group PEL, with no consumer owning it; p->pel
 * counts the ids left.
 */
enum rs_status rdb_st_stream_nack(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_stream_id id;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = rdb_take_length(p, &p->pel)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->pel > 0) {
        if ((st = rdb_take_raw(p, 16, &s)) != RS_OK)
            return st;
        p->pel--;
        id = raw_id(s);
        if (p->h->on_stream_nack && CALLED(p, p->h->on_stream_nack(p->ud, &id)))
            return rdb_stopped(p);
    }
    p->state = ST_STREAM_GROUPS;
    p->step = 1;
    return RS_OK;
}

/*
 * Redis 8.6's type 26 (and 8.8's 27) ends with the stream's IDMP (idempotent producer)
 * state, after the groups: len duration, len max_entries, len producers;
 * per producer: string pid, len entries, per entry: string iid, len ms,
 * len seq; then len iids_added, len iids_duplicates (as redis/librdb's
 * parser reads RDB 13). Nothing of it is mirrored: read and dropped.
 * Steps: 0 the three lengths, 1 a producer's pid, 2 its entry count, 3-5
 * an entry, 6-7 the two counters. p->consumers counts producers left,
 * p->pel entries left.
 */
enum rs_status rdb_st_stream_idmp(struct rdb_parser *p)
{
    struct rs_bytes b;
    enum rs_status st;

    while (p->step < 3) {
        if ((st = rdb_take_length(p, &p->n[p->step])) != RS_OK)
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
            if ((st = rdb_take_string_opt(p, &b, 0)) != RS_OK)
                return st;
            p->step = 2;
        }
        if (p->step == 2) {
            if ((st = rdb_take_length(p, &p->pel)) != RS_OK)
                return st;
            p->step = p->pel > 0 ? 3 : 10;
        }
        while (p->step >= 3 && p->step <= 5) {
            if (p->step == 3)
                st = rdb_take_string_opt(p, &b, 0);
            else
                st = rdb_take_length(p, &p->n[p->step]);
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
        if ((st = rdb_take_length(p, &p->n[p->step - 6])) != RS_OK)
            return st;
        p->step++;
    }
    return rdb_end_key(p);
}
