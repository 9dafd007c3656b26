/*
 * sqlite_string.c - the SQLite sink's string values. A string lives in
 * its key's row (gN_keys.value), so key_create stores the first value and
 * these ops read and replace it. A value of 1 MiB or more is written with
 * BLOB I/O and flagged in lhead when it is text (sqlite_int.h).
 */
#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_STRING + n (sqlite_int.h). */
enum {
    SV_GET, SV_SET, SV_INCR, SV_NSTMT
};
static const char *const string_sql[SV_NSTMT] = {
    [SV_GET] = "SELECT value FROM @keys WHERE id = ?1",
    [SV_SET] = "UPDATE @keys SET value = ?2, lhead = ?3 WHERE id = ?1",
    /* only a value that is its integer's own decimal text (no sign but
     * '-', no leading zero or space: Redis' string2ll) and whose sum fits
     * in 64 bits: redsink_incr leaves any other as it is and says so
     * (sqlite_stmt.c). A big value is a BLOB (its lhead the text flag),
     * which typeof() tells without reading it: such a row is not touched. */
    [SV_INCR] = "UPDATE @keys SET value = redsink_incr(value, ?2), lhead = NULL"
                " WHERE id = ?1 AND typeof(value) = 'text'",
};
_Static_assert(SV_NSTMT <= SQI_X_PER_FAMILY, "too many string statements");

static sqlite3_stmt *string_stmt(struct sqlite_sink *ss, int id)
{
    return sqi_xstmt(ss, SQI_X_STRING + id, string_sql[id]);
}

int sq_string_get(struct sink *s, int64_t id,
                  void (*cb)(void *ud, const struct rs_bytes *v), void *ud)
{
    struct sqlite_sink *ss = SS(s);
    struct rs_bytes v;
    sqlite3_stmt *st;
    int r;

    if (sqi_stuck(ss) || (st = string_stmt(ss, SV_GET)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read a string");
    if ((r = sqi_row(ss, st, "read a string")) < 0)
        return -1;
    if (r == 0)
        return rs_fail(&s->err, RS_E_SQL, "cannot read a string in '%s': no key %lld",
                       ss->path, (long long)id);
    /* column_blob returns TEXT's bytes unconverted; call bytes after it */
    v.ptr = sqlite3_column_blob(st, 0);
    v.len = (size_t)sqlite3_column_bytes(st, 0);
    if (v.ptr == NULL)
        v.ptr = "";
    cb(ud, &v);
    sqi_stmt_done(st);
    return 0;
}

int sq_string_set(struct sink *s, int64_t id, const struct rs_bytes *value)
{
    struct sqlite_sink *ss = SS(s);
    int big = sqi_big_value(value);
    sqlite3_stmt *st;

    if (sqi_stuck(ss) || (st = string_stmt(ss, SV_SET)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
        sqi_bind_value(st, 2, value, big) != SQLITE_OK ||
        sqi_bind_text_flag(st, 3, big) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a string");
    if (sqi_run(ss, st, "store a string"))
        return -1;
    return big ? sqi_big_fill(ss, id, value) : 0;
}

/*
 * INCR and friends without reading the value first: one UPDATE instead of
 * a SELECT and an UPDATE (bench/replay of 1M INCRs over 100k keys: a
 * third of the SQLite work of an INCR was the read). What the statement
 * refuses (not canonical, stored as a BLOB, a big value, an overflow) is
 * left to the caller, which reads it and answers as before.
 */
int sq_string_incr(struct sink *s, int64_t id, int64_t incr, int *done)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;

    *done = 0;
    if (sqi_stuck(ss) || (st = string_stmt(ss, SV_INCR)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int64(st, 2, incr) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "increment a string");
    ss->incr_refused = 0;
    if (sqi_run(ss, st, "increment a string"))
        return -1;
    *done = sqlite3_changes(ss->db) == 1 && !ss->incr_refused;
    return 0;
}
