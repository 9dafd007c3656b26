/*
 * sqlite_zset.c - the SQLite sink's sorted sets: one gN_zset row per member
 * with its score (REAL).
 */
#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_ZSET + n (sqlite_int.h). */
enum {
    ZS_GET, ZS_SET, ZS_DELETE, ZS_NSTMT
};
static const char *const zset_sql[ZS_NSTMT] = {
    [ZS_GET] = "SELECT score FROM @zset WHERE kid = ?1 AND member = ?2",
    [ZS_SET] =
        "INSERT INTO @zset(kid, member, score) VALUES (?1, ?2, ?3)"
        " ON CONFLICT(kid, member) DO UPDATE SET score = excluded.score",
    [ZS_DELETE] = "DELETE FROM @zset WHERE kid = ?1 AND member = ?2",
};
_Static_assert(ZS_NSTMT <= SQI_X_PER_FAMILY, "too many zset statements");

static sqlite3_stmt *zset_stmt(struct sqlite_sink *ss, int id)
{
    return sqi_xstmt(ss, SQI_X_ZSET + id, zset_sql[id]);
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

int sq_zset_set(struct sink *s, int64_t id, const struct rs_bytes *m, double score)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;

    if (sqi_stuck(ss) || sqi_load_tick(ss) || (st = zset_stmt(ss, ZS_SET)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqi_bind_bytes(st, 2, m) != SQLITE_OK ||
        sqlite3_bind_double(st, 3, score) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a sorted-set member");
    return sqi_run(ss, st, "store a sorted-set member");
}

int sq_zset_rem(struct sink *s, int64_t id, const struct rs_bytes *m, int *removed)
{
    return sqi_run_member(SS(s), SQI_X_ZSET + ZS_DELETE, zset_sql[ZS_DELETE],
                          id, m, removed, "remove a sorted-set member");
}

/* ------------------------------------------------------------------ */
/* not implemented yet (sink.h version 2)                             */
/* ------------------------------------------------------------------ */

int sq_zset_card(struct sink *s, int64_t id, int64_t *card)
{
    (void)id;
    (void)card;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: zset_card not implemented yet");
}

int sq_zset_scan(struct sink *s, int64_t id, int reverse,
                 void (*cb)(void *ud, const struct rs_bytes *m, double score), void *ud)
{
    (void)id;
    (void)reverse;
    (void)cb;
    (void)ud;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: zset_scan not implemented yet");
}
