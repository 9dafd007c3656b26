/*
 * sqlite_zset.c - the SQLite sink's sorted sets: one gN_zset row per member
 * with its score (REAL).
 *
 * Redis orders a sorted set by score, then by the member's bytes (memcmp,
 * shorter first on a common prefix). SQLite sorts TEXT before BLOB, so
 * every ordered statement here sorts by CAST(member AS BLOB) instead: that
 * compares the raw bytes of both kinds with memcmp, which is Redis' order.
 * An index on (kid, score, CAST(member AS BLOB)) serves those statements;
 * it is created on the first ordered op of a generation (ensure_order), not
 * by the schema, so a full sync loads without maintaining it.
 *
 * Windows (struct zset_range, sink.h) become LIMIT/OFFSET over that order,
 * with a score condition for by_score; nothing is read into memory.
 */
#include <stdlib.h>

#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_ZSET + n (sqlite_int.h). */
enum {
    ZS_GET, ZS_SET, ZS_DELETE, ZS_INDEX, ZS_CARD, ZS_SCAN_SET,
    ZS_WIN,                 /* + 2 * by_score + reverse: 4 SELECTs */
    ZS_DEL = ZS_WIN + 4,    /* + 2 * by_score + reverse: 4 DELETEs */
    ZS_NSTMT = ZS_DEL + 4
};

#define ASC  " ORDER BY score, CAST(member AS BLOB)"
#define DESC " ORDER BY score DESC, CAST(member AS BLOB) DESC"
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
    [ZS_INDEX] =
        "CREATE INDEX IF NOT EXISTS @zset_order ON @zset(kid, score, CAST(member AS BLOB))",
    [ZS_CARD] = "SELECT count(*) FROM @zset WHERE kid = ?1",
    [ZS_SCAN_SET] = "SELECT member FROM @set WHERE kid = ?1",
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

/* Column 'col' of the current row as Redis bytes (TEXT or BLOB). */
static struct rs_bytes column_bytes(sqlite3_stmt *st, int col)
{
    struct rs_bytes b;

    /* column_blob returns TEXT's bytes unconverted; call bytes after it */
    b.ptr = sqlite3_column_blob(st, col);
    b.len = (size_t)sqlite3_column_bytes(st, col);
    if (b.ptr == NULL)
        b.ptr = "";
    return b;
}

int sq_zset_score(struct sink *s, int64_t id, const struct rs_bytes *m, int *found,
                  double *score)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    *found = 0;
    if (sqi_stuck(ss) || (st = zset_stmt(ss, ZS_GET)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqi_bind_bytes(st, 2, m) != SQLITE_OK)
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
    " ON CONFLICT(kid, member) DO UPDATE SET score = excluded.score"
};

int sq_zset_set(struct sink *s, int64_t id, const struct rs_bytes *m, double score)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int staged, r;

    if (sqi_stuck(ss) || sqi_stage_row(ss, C_ZSET, id, m, NULL, score, -1, &staged))
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
                          id, m, SQI_M_BYTES, removed, "remove a sorted-set member");
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
        struct rs_bytes m = column_bytes(st, 0);

        if (cb(ud, &m, sqlite3_column_double(st, 1))) {
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
        struct rs_bytes m = column_bytes(st, 0);

        cb(ud, &m, sqlite3_column_double(st, 1));
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
