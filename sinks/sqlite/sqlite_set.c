/*
 * sqlite_set.c - the SQLite sink's sets: one gN_set row per member.
 *
 * Members are bound by sqi_bind_bytes (TEXT iff valid UTF-8), so equal
 * bytes are equal values in SQL, and set algebra (set_combine) runs as SQL
 * over the member rows: no set is ever held in memory.
 */
#include <stdlib.h>

#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_SET + n (sqlite_int.h). */
enum {
    SE_INSERT, SE_DELETE, SE_CARD, SE_IS_MEMBER, SE_SCAN, SE_UNION, SE_INTER, SE_DIFF, SE_NSTMT
};
static const char *const set_sql[SE_NSTMT] = {
    [SE_INSERT] = "INSERT OR IGNORE INTO @set(kid, member) VALUES (?1, ?2)",
    [SE_DELETE] = "DELETE FROM @set WHERE kid = ?1 AND member = ?2",
    [SE_CARD] = "SELECT count(*) FROM @set WHERE kid = ?1",
    [SE_IS_MEMBER] = "SELECT 1 FROM @set WHERE kid = ?1 AND member = ?2",
    [SE_SCAN] = "SELECT member FROM @set WHERE kid = ?1",
    /* ?1 = dst, ?2 = src */
    [SE_UNION] = "INSERT OR IGNORE INTO @set(kid, member) SELECT ?1, member FROM @set WHERE kid = ?2",
    [SE_INTER] =
        "DELETE FROM @set WHERE kid = ?1 AND member NOT IN (SELECT member FROM @set WHERE kid = ?2)",
    [SE_DIFF] =
        "DELETE FROM @set WHERE kid = ?1 AND member IN (SELECT member FROM @set WHERE kid = ?2)",
};
_Static_assert(SE_NSTMT <= SQI_X_PER_FAMILY, "too many set statements");

/* Statement 'id' of this file with ?1 = kid and, when 'm' is not NULL,
 * ?2 = m bound; NULL (error set) when it cannot be prepared or bound. */
static sqlite3_stmt *set_bound(struct sqlite_sink *ss, int id, int64_t kid,
                               const struct rs_bytes *m, const char *what)
{
    char ph[SQI_PH_LEN];
    sqlite3_stmt *st;

    ph[0] = '\0';
    if (sqi_stuck(ss) || (st = sqi_xstmt(ss, SQI_X_SET + id, set_sql[id])) == NULL)
        return NULL;
    if (sqlite3_bind_int64(st, 1, kid) != SQLITE_OK ||
        (m && sqi_bind_member(ss, st, 2, kid, m, 0, ph) != SQLITE_OK)) {
        sqi_bind_fail(ss, st, what);
        return NULL;
    }
    return st;
}

/* SE_INSERT for many rows at once, during a full sync. */
static const struct sqi_bulk set_bulk = {
    SQI_BULK_SET, 2, "@set(kid, member)", "OR IGNORE", "", 0
};

int sq_set_add(struct sink *s, int64_t id, const struct rs_bytes *m, int *added)
{
    struct sqlite_sink *ss = SS(s);
    int staged = 0, r, big = m->len >= SQI_BIG_VALUE;

    /* a big member is never staged nor buffered: it goes to gN_bigm first */
    if (sqi_stuck(ss) || (!big && sqi_stage_row(ss, C_SET, id, m, NULL, 0, -1, &staged)))
        return -1;
    if (staged) {
        if (added)
            *added = 1;   /* an RDB set holds each member once */
        return 0;
    }
    if (!added && !big && (r = sqi_bulk_begin(ss, &set_bulk, m->len)) != 0) {
        if (r < 0)
            return -1;
        sqi_bulk_int(ss, id);
        sqi_bulk_bytes(ss, m);
        return sqi_bulk_end(ss);
    }
    return sqi_run_member(SS(s), SQI_X_SET + SE_INSERT, set_sql[SE_INSERT],
                          id, m, SQI_M_STORE, added, "add a set member");
}

int sq_set_rem(struct sink *s, int64_t id, const struct rs_bytes *m, int *removed)
{
    return sqi_run_member(SS(s), SQI_X_SET + SE_DELETE, set_sql[SE_DELETE],
                          id, m, SQI_M_FIND, removed, "remove a set member");
}

int sq_set_card(struct sink *s, int64_t id, int64_t *card)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    *card = 0;
    if ((st = set_bound(ss, SE_CARD, id, NULL, "count set members")) == NULL)
        return -1;
    if ((r = sqi_row(ss, st, "count set members")) <= 0)
        return r;
    *card = sqlite3_column_int64(st, 0);
    sqi_stmt_done(st);
    return 0;
}

int sq_set_is_member(struct sink *s, int64_t id, const struct rs_bytes *m, int *is_member)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    *is_member = 0;
    if ((st = set_bound(ss, SE_IS_MEMBER, id, m, "look a set member up")) == NULL)
        return -1;
    if ((r = sqi_row(ss, st, "look a set member up")) <= 0)
        return r;
    *is_member = 1;
    sqi_stmt_done(st);
    return 0;
}

int sq_set_scan(struct sink *s, int64_t id, void (*cb)(void *ud, const struct rs_bytes *m),
                void *ud)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    if ((st = set_bound(ss, SE_SCAN, id, NULL, "read a set")) == NULL)
        return -1;
    while ((r = sqi_row(ss, st, "read a set")) == 1) {
        struct rs_bytes m;
        void *owned;

        if (sqi_column_member(ss, st, 0, id, &m, &owned)) {
            sqi_stmt_done(st);
            return -1;
        }
        cb(ud, &m);
        free(owned);
    }
    return r;      /* 0 at the end (statement reset), -1 on error */
}

int sq_set_combine(struct sink *s, int64_t dst, int64_t src, enum sink_set_op op)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int id = op == SINK_SET_UNION ? SE_UNION : op == SINK_SET_INTER ? SE_INTER : SE_DIFF;

    if ((st = set_bound(ss, id, dst, NULL, "combine sets")) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 2, src) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "combine sets");
    if (sqi_run(ss, st, "combine sets"))
        return -1;
    /* a union may have copied placeholders: their bytes come along (an
     * intersection or difference only deletes, and the triggers follow) */
    return id == SE_UNION ? sqi_bigm_copy(ss, src, dst) : 0;
}
