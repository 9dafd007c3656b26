/*
 * sqlite_array.c - the SQLite sink's arrays (Redis 8.8): one gN_array row
 * per element, and the insert cursor of ARINSERT/ARRING in gN_ameta.
 *
 * Redis' array indexes are unsigned 64-bit (0 .. 2^64-2); SQLite integers
 * are signed. An index is stored with its top bit flipped ('bidx', see
 * bias()), so that SQL's signed order is the indexes' unsigned order and
 * a range [lo, hi] is one range of the primary key. The redis_arrays view
 * turns it back (sqlite_schema.c). Values are the exact bytes the command gave:
 * Redis' array keeps integers and floats in a compact form only when it
 * prints back the same bytes (t_array.c arEncode).
 */
#include <stdlib.h>

#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_ARRAY + n (sqlite_int.h). */
enum {
    AR_SET, AR_GET, AR_DEL, AR_DEL_RANGE, AR_RANGE, AR_RANGE_REV, AR_INFO, AR_CURSOR_GET,
    AR_CURSOR_SET, AR_CURSOR_DEL, AR_NSTMT
};
static const char *const array_sql[AR_NSTMT] = {
    [AR_SET] = "INSERT INTO @array(kid, bidx, value, big) VALUES (?1, ?2, ?3, ?4)"
               " ON CONFLICT(kid, bidx) DO UPDATE SET value = excluded.value, big = excluded.big",
    [AR_GET] = "SELECT 1 FROM @array WHERE kid = ?1 AND bidx = ?2",
    [AR_DEL] = "DELETE FROM @array WHERE kid = ?1 AND bidx = ?2",
    [AR_DEL_RANGE] = "DELETE FROM @array WHERE kid = ?1 AND bidx BETWEEN ?2 AND ?3",
    [AR_RANGE] = "SELECT bidx, value, big FROM @array WHERE kid = ?1 AND bidx BETWEEN ?2 AND ?3"
                 " ORDER BY bidx",
    [AR_RANGE_REV] = "SELECT bidx, value, big FROM @array WHERE kid = ?1"
                     " AND bidx BETWEEN ?2 AND ?3 ORDER BY bidx DESC",
    [AR_INFO] = "SELECT count(*), max(bidx) FROM @array WHERE kid = ?1",
    [AR_CURSOR_GET] = "SELECT cursor FROM @ameta WHERE kid = ?1",
    [AR_CURSOR_SET] = "INSERT OR REPLACE INTO @ameta(kid, cursor) VALUES (?1, ?2)",
    [AR_CURSOR_DEL] = "DELETE FROM @ameta WHERE kid = ?1",
};
_Static_assert(AR_NSTMT <= SQI_X_PER_FAMILY, "too many array statements");

/* The stored form of an index: its top bit flipped, as a signed integer. */
static int64_t bias(uint64_t idx)
{
    return (int64_t)(idx ^ 0x8000000000000000ULL);
}

static uint64_t unbias(int64_t b)
{
    return (uint64_t)b ^ 0x8000000000000000ULL;
}

/* Statement 'id' of this file with ?1 = kid bound; NULL (error set) when it
 * cannot be prepared or bound. Counts a row during a full sync. */
static sqlite3_stmt *array_stmt(struct sqlite_sink *ss, int id, int64_t kid, const char *what)
{
    sqlite3_stmt *st;

    if (sqi_stuck(ss) || sqi_load_tick(ss) ||
        (st = sqi_xstmt(ss, SQI_X_ARRAY + id, array_sql[id])) == NULL)
        return NULL;
    if (sqlite3_bind_int64(st, 1, kid) != SQLITE_OK) {
        sqi_bind_fail(ss, st, what);
        return NULL;
    }
    return st;
}

int sq_array_set(struct sink *s, int64_t id, uint64_t idx, const struct rs_bytes *v, int *added)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int64_t big_id;
    int r = 0;

    if (added) {
        if ((st = array_stmt(ss, AR_GET, id, "read an array element")) == NULL)
            return -1;
        if (sqlite3_bind_int64(st, 2, bias(idx)) != SQLITE_OK)
            return sqi_bind_fail(ss, st, "read an array element");
        if ((r = sqi_row(ss, st, "read an array element")) < 0)
            return -1;
        if (r)
            sqi_stmt_done(st);
        *added = !r;
    }
    if (sqi_big_put(ss, v, sqi_big_value(v), &big_id) ||
        (st = array_stmt(ss, AR_SET, id, "set an array element")) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 2, bias(idx)) != SQLITE_OK ||
        sqi_bind_elem(st, 3, v, big_id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "set an array element");
    return sqi_run(ss, st, "set an array element");
}

int sq_array_del_range(struct sink *s, int64_t id, uint64_t lo, uint64_t hi, uint64_t *removed)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;

    if ((st = array_stmt(ss, AR_DEL_RANGE, id, "delete array elements")) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 2, bias(lo)) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, bias(hi)) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "delete array elements");
    if (sqi_run(ss, st, "delete array elements"))
        return -1;
    if (removed)
        *removed = (uint64_t)sqlite3_changes(ss->db);
    return 0;
}

int sq_array_range(struct sink *s, int64_t id, uint64_t lo, uint64_t hi, int reverse,
                   int (*cb)(void *ud, uint64_t idx, const struct rs_bytes *v), void *ud)
{
    struct sqlite_sink *ss = SS(s);
    const char *what = "read array elements";
    sqlite3_stmt *st;
    int r, stop = 0;

    if ((st = array_stmt(ss, reverse ? AR_RANGE_REV : AR_RANGE, id, what)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 2, bias(lo)) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, bias(hi)) != SQLITE_OK)
        return sqi_bind_fail(ss, st, what);
    while (!stop && (r = sqi_row(ss, st, what)) == 1) {
        struct rs_bytes v;
        void *owned;

        if (sqi_column_elem(ss, st, 1, &v, &owned)) {
            sqi_stmt_done(st);
            return -1;
        }
        stop = cb(ud, unbias(sqlite3_column_int64(st, 0)), &v);
        free(owned);
    }
    if (stop) {
        sqi_stmt_done(st);
        return 0;
    }
    return r < 0 ? -1 : 0;
}

int sq_array_info(struct sink *s, int64_t id, uint64_t *count, uint64_t *max_idx)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;

    if ((st = array_stmt(ss, AR_INFO, id, "count array elements")) == NULL ||
        sqi_row(ss, st, "count array elements") != 1)
        return -1;
    *count = (uint64_t)sqlite3_column_int64(st, 0);
    *max_idx = *count ? unbias(sqlite3_column_int64(st, 1)) : 0;
    sqi_stmt_done(st);
    return 0;
}

int sq_array_cursor_get(struct sink *s, int64_t id, int *has, uint64_t *idx)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    *has = 0;
    if ((st = array_stmt(ss, AR_CURSOR_GET, id, "read an array cursor")) == NULL ||
        (r = sqi_row(ss, st, "read an array cursor")) < 0)
        return -1;
    if (r) {
        *has = 1;
        *idx = unbias(sqlite3_column_int64(st, 0));
        sqi_stmt_done(st);
    }
    return 0;
}

int sq_array_cursor_set(struct sink *s, int64_t id, int has, uint64_t idx)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;

    if ((st = array_stmt(ss, has ? AR_CURSOR_SET : AR_CURSOR_DEL, id,
                         "set an array cursor")) == NULL)
        return -1;
    if (has && sqlite3_bind_int64(st, 2, bias(idx)) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "set an array cursor");
    return sqi_run(ss, st, "set an array cursor");
}
