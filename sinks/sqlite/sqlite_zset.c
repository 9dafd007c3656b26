/*
 * sqlite_zset.c - the SQLite sink's sorted sets: one gN_zset row per member
 * with its score (REAL).
 *
 * Redis orders a sorted set by score, then by the member's bytes (memcmp,
 * shorter first on a common prefix). SQLite sorts TEXT before BLOB, so
 * every ordered statement here sorts by the bytes cast to BLOB instead:
 * that compares the raw bytes of both kinds with memcmp, which is Redis'
 * order. An index on (kid, score, ORD) serves those statements; it is
 * created on the first ordered op of a generation (ensure_order), not by
 * the schema, so a full sync loads without maintaining it.
 *
 * Big members (sqlite_int.h, "Big fields and members"). A member of
 * SQI_BIG_VALUE bytes or more is stored once, in gN_bigm; its row holds the
 * placeholder as 'member', which would sort wrongly. So the row also holds
 * 'ord' (a BLOB): the member's first SQI_BIG_VALUE bytes, then its rank as
 * 8 bytes big-endian among the big members of the key with the same score
 * and the same first SQI_BIG_VALUE bytes, by their whole bytes (0 when it
 * shares them with none). Small members have ord NULL. The order is
 *   score, COALESCE(ord, CAST(member AS BLOB))              (ORD below)
 * which is Redis' order:
 * - two small members: their bytes, as before;
 * - a small member s (shorter than SQI_BIG_VALUE) and a big one b, ord o:
 *   if s and o differ within s's length, that first difference is at the
 *   same place in b (o starts with b's first SQI_BIG_VALUE bytes); else s
 *   is a prefix of o and of b, so s < o and s < b (shorter first) alike;
 * - two big members a, b: if their first SQI_BIG_VALUE bytes differ, their
 *   ords differ there first, as a and b do; if not, the ranks decide, which
 *   order a and b by their whole bytes (memcmp's order).
 * One column, not a prefix and a rank apart: each column a gN_zset row has
 * costs every ZADD (bench/replay of 100,000 ZADDs: +2.5% instructions for
 * two NULL columns, +1.1% for one). Setting a big member (insert or new
 * score) finds its group (one range of the order index: nearly always
 * empty), ranks the member by comparing whole bytes through BLOB I/O, 1 MiB
 * at a time, and renumbers the group (set_big). Leaving a group (delete,
 * new score) leaves a gap in its ranks, which changes no order.
 *
 * Windows (struct zset_range, sink.h) become LIMIT/OFFSET over that order,
 * with a score condition for by_score; nothing is read into memory.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

/* A big member's ord: its first SQI_BIG_VALUE bytes, then its rank (8
 * bytes, big-endian), which substr() finds from RANK_AT on (1-based). */
#define ORD_LEN (SQI_BIG_VALUE + 8)
#define RANK_AT "1048577"
_Static_assert(SQI_BIG_VALUE == 1048576, "RANK_AT follows SQI_BIG_VALUE");

/* This file's statements, in slots SQI_X_ZSET + n (sqlite_int.h). */
enum {
    ZS_GET, ZS_SET, ZS_DELETE, ZS_INDEX, ZS_CARD, ZS_SCAN_SET, ZS_SET_BIG, ZS_GROUP, ZS_RANK,
    ZS_WIN,                 /* + 2 * by_score + reverse: 4 SELECTs */
    ZS_DEL = ZS_WIN + 4,    /* + 2 * by_score + reverse: 4 DELETEs */
    ZS_NSTMT = ZS_DEL + 4
};

/* The order within a score (see the top of the file); written exactly as
 * in the index, so that SQLite uses it for ORDER BY. */
#define ORD  "COALESCE(ord, CAST(member AS BLOB))"
#define ASC  " ORDER BY score, " ORD
#define DESC " ORDER BY score DESC, " ORD " DESC"
/* ?2 min, ?3 max, ?4 minex, ?5 maxex; the first two terms use the index */
#define SCORE " AND score >= ?2 AND score <= ?3 AND (?4 = 0 OR score > ?2)" \
              " AND (?5 = 0 OR score < ?3)"
#define LIMIT " LIMIT ?6 OFFSET ?7"
#define WIN(cond, order) \
    "SELECT member, score FROM @zset WHERE kid = ?1" cond order LIMIT
#define DEL(cond, order) \
    "DELETE FROM @zset WHERE kid = ?1 AND member IN" \
    " (SELECT member FROM @zset WHERE kid = ?1" cond order LIMIT ")"

static const char *const zset_sql[ZS_NSTMT] = {
    [ZS_GET] = "SELECT score FROM @zset WHERE kid = ?1 AND member = ?2",
    [ZS_SET] =
        "INSERT INTO @zset(kid, member, score) VALUES (?1, ?2, ?3)"
        " ON CONFLICT(kid, member) DO UPDATE SET score = excluded.score",
    [ZS_DELETE] = "DELETE FROM @zset WHERE kid = ?1 AND member = ?2",
    [ZS_INDEX] = "CREATE INDEX IF NOT EXISTS @zset_order ON @zset(kid, score, " ORD ")",
    [ZS_CARD] = "SELECT count(*) FROM @zset WHERE kid = ?1",
    [ZS_SCAN_SET] = "SELECT member FROM @set WHERE kid = ?1",
    /* a big member: ?2 its placeholder, ?4 its ord */
    [ZS_SET_BIG] =
        "INSERT INTO @zset(kid, member, score, ord) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT(kid, member) DO UPDATE SET score = excluded.score, ord = excluded.ord",
    /* the group of a big member: ?3 its first SQI_BIG_VALUE bytes, ?4
     * those and 9 bytes 0xFF (more than any rank: the range holds every
     * ord that starts with ?3, and only those, see the top of the file) */
    [ZS_GROUP] = "SELECT member, substr(ord, " RANK_AT ") FROM @zset WHERE kid = ?1 AND score = ?2"
                 " AND " ORD " > ?3 AND " ORD " < ?4 ORDER BY " ORD,
    [ZS_RANK] = "UPDATE @zset SET ord = ?3 WHERE kid = ?1 AND member = ?2",
    [ZS_WIN + 0] = WIN("", ASC),
    [ZS_WIN + 1] = WIN("", DESC),
    [ZS_WIN + 2] = WIN(SCORE, ASC),
    [ZS_WIN + 3] = WIN(SCORE, DESC),
    [ZS_DEL + 0] = DEL("", ASC),
    [ZS_DEL + 1] = DEL("", DESC),
    [ZS_DEL + 2] = DEL(SCORE, ASC),
    [ZS_DEL + 3] = DEL(SCORE, DESC),
};
_Static_assert(ZS_NSTMT <= SQI_X_PER_FAMILY, "too many zset statements");

static sqlite3_stmt *zset_stmt(struct sqlite_sink *ss, int id)
{
    return sqi_xstmt(ss, SQI_X_ZSET + id, zset_sql[id]);
}

/* Create the order index of the target generation once: its statement
 * slot stays filled until the generation changes, and an empty slot means
 * "not done yet for this generation". 0 or -1. */
static int ensure_order(struct sqlite_sink *ss)
{
    sqlite3_stmt *st;

    if (ss->xstmt[SQI_X_ZSET + ZS_INDEX] != NULL)
        return 0;
    if ((st = zset_stmt(ss, ZS_INDEX)) == NULL)
        return -1;
    return sqi_run(ss, st, "index a sorted set");
}

int sq_zset_score(struct sink *s, int64_t id, const struct rs_bytes *m, int *found,
                  double *score)
{
    struct sqlite_sink *ss = SS(s);
    char ph[SQI_PH_LEN];
    sqlite3_stmt *st;
    int r;

    *found = 0;
    if (sqi_stuck(ss) || (st = zset_stmt(ss, ZS_GET)) == NULL)
        return -1;
    ph[0] = '\0';
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
        sqi_bind_member(ss, st, 2, id, m, 0, ph) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read a score");
    if ((r = sqi_row(ss, st, "read a score")) <= 0)
        return r;
    *found = 1;
    *score = sqlite3_column_double(st, 0);
    sqi_stmt_done(st);
    return 0;
}

/* ZS_SET for many rows at once, during a full sync. */
static const struct sqi_bulk zset_bulk = {
    SQI_BULK_ZSET, 3, "@zset(kid, member, score)", "",
    " ON CONFLICT(kid, member) DO UPDATE SET score = excluded.score", 0
};

/* A member of the group of a big one being set: its placeholder, rank. */
struct peer {
    char ph[SQI_PH_LEN];
    uint64_t rank;
};

/* ord[SQI_BIG_VALUE..] = rank, 8 bytes big-endian. */
static void put_rank(unsigned char *ord, uint64_t rank)
{
    for (int i = 7; i >= 0; i--, rank >>= 8)
        ord[SQI_BIG_VALUE + i] = (unsigned char)rank;
}

/* The other big members of key 'id' with m's score and first
 * SQI_BIG_VALUE bytes into *peers (*n of them), in their order, and the
 * place of m among them: *at = how many are smaller than m. 'ord' holds
 * ORD_LEN + 1 bytes whose first SQI_BIG_VALUE are m's. 0 or -1. */
static int find_group(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *m, double score,
                      const char *ph, unsigned char *ord, struct peer **peers, size_t *n,
                      size_t *at)
{
    const char *what = "rank a big sorted-set member";
    size_t cap = 0;
    sqlite3_stmt *st;
    int r;

    *peers = NULL;
    *n = *at = 0;
    memset(ord + SQI_BIG_VALUE, 0xff, ORD_LEN + 1 - SQI_BIG_VALUE);
    if ((st = zset_stmt(ss, ZS_GROUP)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
        sqlite3_bind_double(st, 2, score) != SQLITE_OK ||
        sqlite3_bind_blob(st, 3, m->ptr, (int)SQI_BIG_VALUE, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_blob(st, 4, ord, ORD_LEN + 1, SQLITE_STATIC) != SQLITE_OK)
        return sqi_bind_fail(ss, st, what);
    while ((r = sqi_row(ss, st, what)) == 1) {
        const unsigned char *p = sqlite3_column_blob(st, 0), *k = sqlite3_column_blob(st, 1);
        uint64_t rank = 0;

        if (sqlite3_column_bytes(st, 0) != SQI_PH_LEN || memcmp(p, ph, SQI_PH_LEN) == 0)
            continue;      /* itself (a member in a group is always big) */
        for (int i = 0; i < 8 && k != NULL && sqlite3_column_bytes(st, 1) == 8; i++)
            rank = rank << 8 | k[i];
        if (*n == cap) {
            struct peer *t = realloc(*peers, (cap = cap ? 2 * cap : 4) * sizeof(**peers));

            if (t == NULL) {
                sqi_stmt_done(st);
                return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot %s: out of memory", what);
            }
            *peers = t;
        }
        memcpy((*peers)[*n].ph, p, SQI_PH_LEN);
        (*peers)[(*n)++].rank = rank;
    }
    if (r < 0)
        return -1;
    for (; *at < *n; (*at)++) {
        int cmp;

        if (sqi_bigm_cmp(ss, id, (*peers)[*at].ph, m, &cmp))
            return -1;
        if (cmp < 0)
            break;
    }
    return 0;
}

/* ZS_SET_BIG (ph "" at first: sqi_bind_member checks m's bytes, stores
 * them and fills ph) or ZS_RANK (ph filled) for member m of key 'id', with
 * ord 'ord'. 0 or -1. */
static int put_big(struct sqlite_sink *ss, int stmt, int64_t id, const struct rs_bytes *m,
                   char ph[SQI_PH_LEN], double score, const unsigned char *ord)
{
    sqlite3_stmt *st = zset_stmt(ss, stmt);
    int rc;

    if (st == NULL)
        return -1;
    rc = sqlite3_bind_int64(st, 1, id);
    if (stmt == ZS_SET_BIG) {
        rc |= sqi_bind_member(ss, st, 2, id, m, 1, ph);
        rc |= sqlite3_bind_double(st, 3, score);
        rc |= sqlite3_bind_blob(st, 4, ord, ORD_LEN, SQLITE_STATIC);
    } else {
        rc |= sqlite3_bind_text(st, 2, ph, SQI_PH_LEN, SQLITE_STATIC);
        rc |= sqlite3_bind_blob(st, 3, ord, ORD_LEN, SQLITE_STATIC);
    }
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a sorted-set member");
    return sqi_run(ss, st, "store a sorted-set member");
}

/* A big member: its row, rank 0 for now, with its bytes to gN_bigm
 * (sqi_bind_member); then its group: the others get their place around
 * it (only those whose rank changes are written), and it gets its own
 * when that is not 0. Never staged nor buffered. 0 or -1. */
static int set_big(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *m, double score)
{
    char ph[SQI_PH_LEN];
    unsigned char *ord;
    struct peer *peers = NULL;
    size_t n = 0, at = 0;
    int rc = -1;

    ph[0] = '\0';
    /* the buffered rows first: the group is read from the table. Not
     * ensure_order: without the index the group is a scan of the key's
     * rows (kid leads the primary key), cheap beside a member of 1 MiB,
     * while an index created here would be maintained by the rest of a
     * load, and every seek that passes a big member's ord in it reads its
     * 1 MiB (bigvalues.sh under ASan, seed 4182: a diskless full sync
     * stalled for minutes; redsink import of its dump 1.2 -> 6.9 s) */
    if (sqi_bulk_flush(ss) || sqi_load_tick(ss))
        return -1;
    if ((ord = malloc(ORD_LEN + 1)) == NULL)
        return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot store a sorted-set member of %zu"
                       " bytes: out of memory", m->len);
    memcpy(ord, m->ptr, SQI_BIG_VALUE);
    put_rank(ord, 0);
    if (put_big(ss, ZS_SET_BIG, id, m, ph, score, ord) ||
        find_group(ss, id, m, score, ph, ord, &peers, &n, &at))
        goto out;
    for (size_t i = 0; i < n; i++) {
        uint64_t want = i < at ? i : i + 1;

        put_rank(ord, want);
        if (peers[i].rank != want && put_big(ss, ZS_RANK, id, m, peers[i].ph, 0, ord))
            goto out;
    }
    put_rank(ord, at);
    rc = at == 0 ? 0 : put_big(ss, ZS_RANK, id, m, ph, 0, ord);
out:
    free(peers);
    free(ord);
    return rc;
}

int sq_zset_set(struct sink *s, int64_t id, const struct rs_bytes *m, double score)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int staged, r;

    if (sqi_stuck(ss))
        return -1;
    if (m->len >= SQI_BIG_VALUE)
        return set_big(ss, id, m, score);
    if (sqi_stage_row(ss, C_ZSET, id, m, NULL, score, -1, &staged))
        return -1;
    if (staged)
        return 0;
    if ((r = sqi_bulk_begin(ss, &zset_bulk, m->len)) < 0)
        return -1;
    if (r > 0) {
        sqi_bulk_int(ss, id);
        sqi_bulk_bytes(ss, m);
        sqi_bulk_double(ss, score);
        return sqi_bulk_end(ss);
    }
    if (sqi_load_tick(ss) || (st = zset_stmt(ss, ZS_SET)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqi_bind_bytes(st, 2, m) != SQLITE_OK ||
        sqlite3_bind_double(st, 3, score) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a sorted-set member");
    return sqi_run(ss, st, "store a sorted-set member");
}

int sq_zset_rem(struct sink *s, int64_t id, const struct rs_bytes *m, int *removed)
{
    return sqi_run_member(SS(s), SQI_X_ZSET + ZS_DELETE, zset_sql[ZS_DELETE],
                          id, m, SQI_M_FIND, removed, "remove a sorted-set member");
}

int sq_zset_card(struct sink *s, int64_t id, int64_t *card)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    *card = 0;
    if (sqi_stuck(ss) || (st = zset_stmt(ss, ZS_CARD)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "count a sorted set");
    if ((r = sqi_row(ss, st, "count a sorted set")) <= 0)
        return r;
    *card = sqlite3_column_int64(st, 0);
    sqi_stmt_done(st);
    return 0;
}

/* ------------------------------------------------------------------ */
/* windows                                                            */
/* ------------------------------------------------------------------ */

/* Fetch the window statement (SELECT or DELETE, base ZS_WIN or ZS_DEL)
 * for 'r' and bind it. NULL with the error set. */
static sqlite3_stmt *window_stmt(struct sqlite_sink *ss, int base, int64_t id,
                                 const struct zset_range *r, const char *what)
{
    sqlite3_stmt *st;
    int rc;

    if (ensure_order(ss) || (st = zset_stmt(ss, base + 2 * !!r->by_score + !!r->reverse)) == NULL)
        return NULL;
    rc = sqlite3_bind_int64(st, 1, id);
    if (r->by_score) {
        rc |= sqlite3_bind_double(st, 2, r->min);
        rc |= sqlite3_bind_double(st, 3, r->max);
        rc |= sqlite3_bind_int(st, 4, r->minex);
        rc |= sqlite3_bind_int(st, 5, r->maxex);
    }
    rc |= sqlite3_bind_int64(st, 6, r->count < 0 ? -1 : r->count);
    rc |= sqlite3_bind_int64(st, 7, r->offset);
    if (rc != SQLITE_OK) {
        sqi_bind_fail(ss, st, what);
        return NULL;
    }
    return st;
}

int sq_zset_range(struct sink *s, int64_t id, const struct zset_range *r,
                  int (*cb)(void *ud, const struct rs_bytes *m, double score), void *ud)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int rc;

    if (sqi_stuck(ss))
        return -1;
    if (r->offset < 0 || r->count == 0)
        return 0;
    if ((st = window_stmt(ss, ZS_WIN, id, r, "read a sorted-set range")) == NULL)
        return -1;
    while ((rc = sqi_row(ss, st, "read a sorted-set range")) == 1) {
        struct rs_bytes m;
        void *owned;
        int stop;

        if (sqi_column_member(ss, st, 0, id, &m, &owned)) {
            sqi_stmt_done(st);
            return -1;
        }
        stop = cb(ud, &m, sqlite3_column_double(st, 1));
        free(owned);
        if (stop) {
            sqi_stmt_done(st);
            return 0;
        }
    }
    return rc;
}

int sq_zset_rem_range(struct sink *s, int64_t id, const struct zset_range *r, int64_t *removed)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;

    if (removed)
        *removed = 0;
    if (sqi_stuck(ss))
        return -1;
    if (r->offset < 0 || r->count == 0)
        return 0;
    if ((st = window_stmt(ss, ZS_DEL, id, r, "remove a sorted-set range")) == NULL ||
        sqi_run(ss, st, "remove a sorted-set range"))
        return -1;
    if (removed)
        *removed = sqlite3_changes64(ss->db);
    return 0;
}

/* Every member in order, or the reverse: the unbounded window. */
int sq_zset_scan(struct sink *s, int64_t id, int reverse,
                 void (*cb)(void *ud, const struct rs_bytes *m, double score), void *ud)
{
    struct sqlite_sink *ss = SS(s);
    struct zset_range all = { .reverse = reverse, .count = -1 };
    sqlite3_stmt *st;
    int rc;

    if (sqi_stuck(ss) || (st = window_stmt(ss, ZS_WIN, id, &all, "read a sorted set")) == NULL)
        return -1;
    while ((rc = sqi_row(ss, st, "read a sorted set")) == 1) {
        struct rs_bytes m;
        void *owned;

        if (sqi_column_member(ss, st, 0, id, &m, &owned)) {
            sqi_stmt_done(st);
            return -1;
        }
        cb(ud, &m, sqlite3_column_double(st, 1));
        free(owned);
    }
    return rc;
}

int sq_zset_source_scan(struct sink *s, int64_t id, enum rs_type type,
                        void (*cb)(void *ud, const struct rs_bytes *m, double score), void *ud)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int rc;

    if (type == RS_T_ZSET)
        return sq_zset_scan(s, id, 0, cb, ud);
    if (sqi_stuck(ss) || (st = zset_stmt(ss, ZS_SCAN_SET)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read a set");
    while ((rc = sqi_row(ss, st, "read a set")) == 1) {
        struct rs_bytes m;
        void *owned;

        if (sqi_column_member(ss, st, 0, id, &m, &owned)) {
            sqi_stmt_done(st);
            return -1;
        }
        cb(ud, &m, 1.0);
        free(owned);
    }
    return rc;
}
