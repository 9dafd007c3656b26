/*
 * sqlite_pathhash.c - the SQLite sink's path hashes (Valkey 9.2): one
 * gN_phash row per field of a path, shown by the redis_path_hashes view
 * (db, key, path, field, value). A path exists while it has a field, as in
 * Valkey (t_path_hash.c removes a path with its last field). The table
 * DDL is SQI_PHASH_DDL in sqlite_int.h, which sqlite_schema.c puts with
 * the other types'; the view is in sqlite_schema.c.
 *
 * Paths, fields and values are stored as the other types' strings are
 * (TEXT when UTF-8, else BLOB); a prefix is matched on the bytes.
 */
#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_PATHHASH + n (sqlite_int.h). */
enum { PH_SET, PH_HAS, PH_HAS_PATH, PH_DEL, PH_DEL_PATH, PH_PREFIX_PATHS, PH_DEL_PREFIX, PH_NSTMT };
static const char *const ph_sql[PH_NSTMT] = {
    [PH_SET] = "INSERT INTO @phash(kid, path, field, value) VALUES (?1, ?2, ?3, ?4)"
               " ON CONFLICT(kid, path, field) DO UPDATE SET value = excluded.value",
    [PH_HAS] = "SELECT 1 FROM @phash WHERE kid = ?1 AND path = ?2 AND field = ?3",
    [PH_HAS_PATH] = "SELECT 1 FROM @phash WHERE kid = ?1 AND path = ?2 LIMIT 1",
    [PH_DEL] = "DELETE FROM @phash WHERE kid = ?1 AND path = ?2 AND field = ?3",
    [PH_DEL_PATH] = "DELETE FROM @phash WHERE kid = ?1 AND path = ?2",
    [PH_PREFIX_PATHS] = "SELECT count(DISTINCT path) FROM @phash WHERE kid = ?1"
                        " AND substr(CAST(path AS BLOB), 1, ?3) = CAST(?2 AS BLOB)",
    [PH_DEL_PREFIX] = "DELETE FROM @phash WHERE kid = ?1"
                      " AND substr(CAST(path AS BLOB), 1, ?3) = CAST(?2 AS BLOB)",
};
_Static_assert(PH_NSTMT <= SQI_X_PER_FAMILY, "too many path hash statements");

/* Statement 'id' with ?1 = kid, ?2 = 'a' and (when not NULL) ?3 = 'b'
 * bound; NULL (error set) when it cannot be prepared or bound. Counts a
 * row during a full sync. */
static sqlite3_stmt *ph_stmt(struct sqlite_sink *ss, int id, int64_t kid, const struct rs_bytes *a,
                             const struct rs_bytes *b, const char *what)
{
    sqlite3_stmt *st;

    if (sqi_stuck(ss) || sqi_load_tick(ss) ||
        (st = sqi_xstmt(ss, SQI_X_PATHHASH + id, ph_sql[id])) == NULL)
        return NULL;
    if (sqlite3_bind_int64(st, 1, kid) != SQLITE_OK || sqi_bind_bytes(st, 2, a) != SQLITE_OK ||
        (b && sqi_bind_bytes(st, 3, b) != SQLITE_OK)) {
        sqi_bind_fail(ss, st, what);
        return NULL;
    }
    return st;
}

int sq_ph_set(struct sink *s, int64_t id, const struct rs_bytes *path,
              const struct rs_bytes *field, const struct rs_bytes *value)
{
    struct sqlite_sink *ss = SS(s);
    const char *what = "set a path hash field";
    sqlite3_stmt *st;

    if ((st = ph_stmt(ss, PH_SET, id, path, field, what)) == NULL)
        return -1;
    if (sqi_bind_bytes(st, 4, value) != SQLITE_OK)
        return sqi_bind_fail(ss, st, what);
    return sqi_run(ss, st, what);
}

int sq_ph_has(struct sink *s, int64_t id, const struct rs_bytes *path,
              const struct rs_bytes *field, int *has)
{
    struct sqlite_sink *ss = SS(s);
    const char *what = "read a path hash field";
    sqlite3_stmt *st;
    int r;

    *has = 0;
    if ((st = ph_stmt(ss, field ? PH_HAS : PH_HAS_PATH, id, path, field, what)) == NULL ||
        (r = sqi_row(ss, st, what)) < 0)
        return -1;
    if (r) {
        *has = 1;
        sqi_stmt_done(st);
    }
    return 0;
}

int sq_ph_del(struct sink *s, int64_t id, const struct rs_bytes *path,
              const struct rs_bytes *field, int64_t *removed)
{
    struct sqlite_sink *ss = SS(s);
    const char *what = "delete path hash fields";
    sqlite3_stmt *st;

    *removed = 0;
    if ((st = ph_stmt(ss, field ? PH_DEL : PH_DEL_PATH, id, path, field, what)) == NULL ||
        sqi_run(ss, st, what))
        return -1;
    *removed = sqlite3_changes(ss->db);
    return 0;
}

int sq_ph_del_prefix(struct sink *s, int64_t id, const struct rs_bytes *prefix, int64_t *paths)
{
    struct sqlite_sink *ss = SS(s);
    const char *what = "delete path hash paths";
    sqlite3_stmt *st;

    *paths = 0;
    if ((st = ph_stmt(ss, PH_PREFIX_PATHS, id, prefix, NULL, what)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 3, (sqlite3_int64)prefix->len) != SQLITE_OK)
        return sqi_bind_fail(ss, st, what);
    if (sqi_row(ss, st, what) != 1)
        return -1;
    *paths = sqlite3_column_int64(st, 0);
    sqi_stmt_done(st);
    if (*paths == 0)
        return 0;
    if ((st = ph_stmt(ss, PH_DEL_PREFIX, id, prefix, NULL, what)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 3, (sqlite3_int64)prefix->len) != SQLITE_OK)
        return sqi_bind_fail(ss, st, what);
    return sqi_run(ss, st, what);
}
