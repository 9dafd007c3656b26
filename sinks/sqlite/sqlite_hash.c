/*
 * sqlite_hash.c - the SQLite sink's hashes: one gN_hash row per field,
 * with its own expire time (Redis 7.4 field TTLs; NULL for none).
 *
 * Fields past their TTL are kept (a replica waits for the master's HDEL);
 * only the redis_hashes view hides them. Reads hand borrowed bytes to a
 * callback, one row at a time, so no hash is held in memory.
 */
#include <stdlib.h>

#include "sqlite_int.h"

/* Insert a field or replace it whole (value, big, TTL). */
#define HS_UPSERT_SQL                                                                        \
    "INSERT INTO @hash(kid, field, value, big, expire_at) VALUES (?1, ?2, ?3, ?4, ?5) "     \
    "ON CONFLICT(kid, field) DO UPDATE SET value = excluded.value, big = excluded.big,"     \
    " expire_at = excluded.expire_at"

/* This file's statements, in slots SQI_X_HASH + n (sqlite_int.h). */
enum {
    HS_INSERT, HS_UPDATE, HS_UPSERT, HS_DELETE, HS_GET, HS_LEN, HS_EXPIRE, HS_SCAN, HS_INCR,
    HS_ADD, HS_PUT,
    HS_NSTMT
};
static const char *const hash_sql[HS_NSTMT] = {
    [HS_INSERT] =
        "INSERT OR IGNORE INTO @hash(kid, field, value, big, expire_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [HS_UPDATE] =
        "UPDATE @hash SET value = ?3, big = ?4, expire_at = ?5 WHERE kid = ?1 AND field = ?2",
    [HS_UPSERT] = HS_UPSERT_SQL,
    [HS_DELETE] = "DELETE FROM @hash WHERE kid = ?1 AND field = ?2",
    [HS_GET] = "SELECT value, big, expire_at FROM @hash WHERE kid = ?1 AND field = ?2",
    [HS_LEN] = "SELECT count(*) FROM @hash WHERE kid = ?1",
    [HS_EXPIRE] = "UPDATE @hash SET expire_at = ?3 WHERE kid = ?1 AND field = ?2",
    [HS_SCAN] = "SELECT field, value, big, expire_at FROM @hash WHERE kid = ?1",
    /* a new field is the increment (0 + incr, no TTL); an existing one is
     * summed under sq_string_incr's conditions, its TTL kept */
    [HS_INCR] = "INSERT INTO @hash(kid, field, value, big, expire_at)"
                " VALUES (?1, ?2, CAST(?3 AS TEXT), NULL, NULL)"
                " ON CONFLICT(kid, field) DO UPDATE"
                " SET value = redsink_incr(value, ?3) WHERE big IS NULL",
    /* a held HSET's write-out (sqlite_string.c): HS_UPSERT as a statement
     * of its own, as the write-out runs while the caller's may be bound */
    [HS_PUT] = HS_UPSERT_SQL,
    /* increments held late (sqlite_string.c, held_late): their sum ?3,
     * their running sums from ?4 to ?5 */
    [HS_ADD] = "INSERT INTO @hash(kid, field, value, big, expire_at)"
               " VALUES (?1, ?2, CAST(?3 AS TEXT), NULL, NULL)"
               " ON CONFLICT(kid, field) DO UPDATE"
               " SET value = redsink_incr(value, ?3, ?4, ?5) WHERE big IS NULL",
};
_Static_assert(HS_NSTMT <= SQI_X_PER_FAMILY, "too many hash statements");

/* HS_UPSERT for many rows at once, during a full sync. */
static const struct sqi_bulk hash_bulk = {
    SQI_BULK_HASH, 4, "@hash(kid, field, value, expire_at)", "",
    " ON CONFLICT(kid, field) DO UPDATE SET value = excluded.value, big = NULL,"
    " expire_at = excluded.expire_at", 0
};

static sqlite3_stmt *hash_stmt(struct sqlite_sink *ss, int id)
{
    return sqi_xstmt(ss, SQI_X_HASH + id, hash_sql[id]);
}

/* Insert or replace. Without 'added', one UPSERT (a single B-tree seek);
 * with it, INSERT OR IGNORE and, for an existing field, an UPDATE: the
 * row count of the first statement tells whether the field was new. */
int sq_hash_set(struct sink *s, int64_t id, const struct rs_bytes *field,
                const struct rs_bytes *value, int64_t field_expire_ms, int *added)
{
    struct sqlite_sink *ss = SS(s);
    int ids[2] = { HS_INSERT, HS_UPDATE };
    int rc = 0, n = 2, big = sqi_big_value(value);
    int bigf = field->len >= SQI_BIG_VALUE;
    char ph[SQI_PH_LEN];
    int64_t big_id;

    ph[0] = '\0';
    if (added)
        *added = 0;
    else {
        ids[0] = HS_UPSERT;
        n = 1;
    }
    int staged = 0;

    /* a big value or field is never staged nor buffered: it goes to
     * gN_big or gN_bigm first */
    if (sqi_stuck(ss) || (big == SQI_SMALL && !bigf &&
        sqi_stage_row(ss, C_HASH, id, field, value, 0, field_expire_ms, &staged)))
        return -1;
    if (staged) {
        if (added)
            *added = 1;   /* an RDB hash holds each field once */
        return 0;
    }
    if (!added && big == SQI_SMALL && !bigf &&
        (rc = sqi_bulk_begin(ss, &hash_bulk, field->len + value->len)) != 0) {
        if (rc < 0)
            return -1;
        sqi_bulk_int(ss, id);
        sqi_bulk_bytes(ss, field);
        sqi_bulk_bytes(ss, value);
        sqi_bulk_time(ss, field_expire_ms);
        return sqi_bulk_end(ss);
    }
    /* HSET of a small value, no TTL, in a stream transaction: held, the
     * field written once at the flush (sqlite_string.c) */
    if (!added && big == SQI_SMALL && !bigf && field_expire_ms == RS_NO_EXPIRE &&
        (rc = sqi_held_set(ss, id, field, value)) != 0)
        return rc < 0 ? -1 : 0;
    if (sqi_load_tick(ss) || sqi_big_put(ss, value, big, &big_id))
        return -1;
    for (int i = 0; i < n; i++) {
        sqlite3_stmt *st = hash_stmt(ss, ids[i]);

        if (st == NULL)
            return -1;
        rc |= sqlite3_bind_int64(st, 1, id);
        rc |= sqi_bind_member(ss, st, 2, id, field, 1, ph);
        rc |= sqi_bind_elem(st, 3, value, big_id);
        rc |= sqi_bind_time(st, 5, field_expire_ms);
        if (rc != SQLITE_OK)
            return sqi_bind_fail(ss, st, "store a hash field");
        if (sqi_run(ss, st, "store a hash field"))
            return -1;
        if (i == 0 && sqlite3_changes(ss->db) > 0) {
            if (added)
                *added = 1;
            break;
        }
    }
    return 0;
}

int sq_hash_del(struct sink *s, int64_t id, const struct rs_bytes *field, int *removed)
{
    return sqi_run_member(SS(s), SQI_X_HASH + HS_DELETE, hash_sql[HS_DELETE],
                          id, field, SQI_M_FIND, removed, "delete a hash field");
}

static int64_t column_time(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? RS_NO_EXPIRE : sqlite3_column_int64(st, i);
}

/* A statement of this file with ?1 = kid and, when 'field' is not NULL,
 * ?2 = field bound; NULL (error set) when it cannot be prepared or bound. */
static sqlite3_stmt *hash_bound(struct sqlite_sink *ss, int id, int64_t kid,
                                const struct rs_bytes *field, const char *what)
{
    char ph[SQI_PH_LEN];
    sqlite3_stmt *st;

    ph[0] = '\0';
    if (sqi_stuck(ss) || (st = hash_stmt(ss, id)) == NULL)
        return NULL;
    if (sqlite3_bind_int64(st, 1, kid) != SQLITE_OK ||
        (field && sqi_bind_member(ss, st, 2, kid, field, 0, ph) != SQLITE_OK)) {
        sqi_bind_fail(ss, st, what);
        return NULL;
    }
    return st;
}

int sq_hash_get(struct sink *s, int64_t id, const struct rs_bytes *field,
                void (*cb)(void *ud, const struct rs_bytes *v, int64_t expire_ms), void *ud,
                int *found)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    *found = 0;
    if ((st = hash_bound(ss, HS_GET, id, field, "read a hash field")) == NULL)
        return -1;
    if ((r = sqi_row(ss, st, "read a hash field")) <= 0)
        return r;
    *found = 1;
    if (cb) {
        struct rs_bytes v;
        void *owned;

        if (sqi_column_elem(ss, st, 0, &v, &owned) == 0)
            cb(ud, &v, column_time(st, 2));
        free(owned);
    }
    sqi_stmt_done(st);
    return sqi_stuck(ss);
}

/* HINCRBY in one statement, as sq_string_incr (sqlite_string.c); a new
 * field of 1 MiB or more needs its gN_bigm row: left to hash_set. In a
 * stream transaction the sum is held as an INCR's is, per field: only
 * the first HINCRBY of a field runs the statement. */
int sq_hash_incr(struct sink *s, int64_t id, const struct rs_bytes *field, int64_t incr,
                 int *done)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int held, r;

    *done = 0;
    if (sqi_stuck(ss))
        return -1;
    if (field->len >= SQI_BIG_VALUE)
        return 0;
    if ((r = sqi_held_incr(ss, id, field, incr, done, &held)) != 0)
        return r < 0 ? -1 : 0;
    if ((st = hash_bound(ss, HS_INCR, id, field, "increment a hash field")) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 3, incr) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "increment a hash field");
    return sqi_incr_run(ss, st, held, id, field, incr, done, "increment a hash field");
}

sqlite3_stmt *sqi_hash_put_stmt(struct sqlite_sink *ss, int64_t kid, const struct rs_bytes *field,
                                const struct rs_bytes *value)
{
    sqlite3_stmt *st = hash_bound(ss, HS_PUT, kid, field, "store a held hash field");

    if (st != NULL && (sqi_bind_bytes(st, 3, value) != SQLITE_OK ||
                       sqlite3_bind_null(st, 4) != SQLITE_OK ||
                       sqi_bind_time(st, 5, RS_NO_EXPIRE) != SQLITE_OK)) {
        sqi_bind_fail(ss, st, "store a held hash field");
        return NULL;
    }
    return st;
}

sqlite3_stmt *sqi_hash_add_stmt(struct sqlite_sink *ss, int64_t kid, const struct rs_bytes *field,
                                int64_t sum, int64_t lo, int64_t hi)
{
    sqlite3_stmt *st = hash_bound(ss, HS_ADD, kid, field, "add to a hash field");

    if (st != NULL && (sqlite3_bind_int64(st, 3, sum) != SQLITE_OK ||
                       sqlite3_bind_int64(st, 4, lo) != SQLITE_OK ||
                       sqlite3_bind_int64(st, 5, hi) != SQLITE_OK)) {
        sqi_bind_fail(ss, st, "add to a hash field");
        return NULL;
    }
    return st;
}

int sq_hash_len(struct sink *s, int64_t id, int64_t *len)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    *len = 0;
    if ((st = hash_bound(ss, HS_LEN, id, NULL, "count hash fields")) == NULL)
        return -1;
    if ((r = sqi_row(ss, st, "count hash fields")) <= 0)
        return r;
    *len = sqlite3_column_int64(st, 0);
    sqi_stmt_done(st);
    return 0;
}

int sq_hash_set_expire(struct sink *s, int64_t id, const struct rs_bytes *field,
                       int64_t expire_ms, int *found)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;

    *found = 0;
    if ((st = hash_bound(ss, HS_EXPIRE, id, field, "set a hash field's TTL")) == NULL)
        return -1;
    if (sqi_bind_time(st, 3, expire_ms) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "set a hash field's TTL");
    if (sqi_run(ss, st, "set a hash field's TTL"))
        return -1;
    *found = sqlite3_changes(ss->db) > 0;   /* rows matched, even if unchanged */
    return 0;
}

int sq_hash_scan(struct sink *s, int64_t id,
                 void (*cb)(void *ud, const struct rs_bytes *f, const struct rs_bytes *v,
                            int64_t expire_ms),
                 void *ud)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    if ((st = hash_bound(ss, HS_SCAN, id, NULL, "read a hash")) == NULL)
        return -1;
    while ((r = sqi_row(ss, st, "read a hash")) == 1) {
        struct rs_bytes f, v;
        void *owned, *fowned = NULL;

        if (sqi_column_member(ss, st, 0, id, &f, &fowned) ||
            sqi_column_elem(ss, st, 1, &v, &owned)) {
            free(fowned);
            sqi_stmt_done(st);
            return -1;
        }
        cb(ud, &f, &v, column_time(st, 3));
        free(owned);
        free(fowned);
    }
    return r;      /* 0 at the end (statement reset), -1 on error */
}
