/*
 * sqlite_hash.c - the SQLite sink's hashes: one gN_hash row per field,
 * with its own expire time (Redis 7.4 field TTLs; NULL for none).
 */
#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_HASH + n (sqlite_int.h). */
enum {
    HS_INSERT, HS_UPDATE, HS_DELETE, HS_NSTMT
};
static const char *const hash_sql[HS_NSTMT] = {
    [HS_INSERT] =
        "INSERT OR IGNORE INTO @hash(kid, field, value, expire_at) VALUES (?1, ?2, ?3, ?4)",
    [HS_UPDATE] = "UPDATE @hash SET value = ?3, expire_at = ?4 WHERE kid = ?1 AND field = ?2",
    [HS_DELETE] = "DELETE FROM @hash WHERE kid = ?1 AND field = ?2",
};
_Static_assert(HS_NSTMT <= SQI_X_PER_FAMILY, "too many hash statements");

static sqlite3_stmt *hash_stmt(struct sqlite_sink *ss, int id)
{
    return sqi_xstmt(ss, SQI_X_HASH + id, hash_sql[id]);
}

/* Insert or replace: one statement when the field is new, two otherwise. */
int sq_hash_set(struct sink *s, int64_t id, const struct rs_bytes *field,
                const struct rs_bytes *value, int64_t field_expire_ms, int *added)
{
    struct sqlite_sink *ss = SS(s);
    int ids[2] = { HS_INSERT, HS_UPDATE };
    int rc = 0;

    if (added)
        *added = 0;
    if (sqi_stuck(ss) || sqi_load_tick(ss))
        return -1;
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = hash_stmt(ss, ids[i]);

        if (st == NULL)
            return -1;
        rc |= sqlite3_bind_int64(st, 1, id);
        rc |= sqi_bind_bytes(st, 2, field);
        rc |= sqi_bind_bytes(st, 3, value);
        rc |= sqi_bind_time(st, 4, field_expire_ms);
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
                          id, field, removed, "delete a hash field");
}

/* ------------------------------------------------------------------ */
/* not implemented yet (sink.h version 2)                             */
/* ------------------------------------------------------------------ */

int sq_hash_get(struct sink *s, int64_t id, const struct rs_bytes *field,
                void (*cb)(void *ud, const struct rs_bytes *v, int64_t expire_ms), void *ud,
                int *found)
{
    (void)id;
    (void)field;
    (void)cb;
    (void)ud;
    (void)found;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: hash_get not implemented yet");
}

int sq_hash_len(struct sink *s, int64_t id, int64_t *len)
{
    (void)id;
    (void)len;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: hash_len not implemented yet");
}

int sq_hash_set_expire(struct sink *s, int64_t id, const struct rs_bytes *field,
                       int64_t expire_ms, int *found)
{
    (void)id;
    (void)field;
    (void)expire_ms;
    (void)found;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: hash_set_expire not implemented yet");
}

int sq_hash_scan(struct sink *s, int64_t id,
                 void (*cb)(void *ud, const struct rs_bytes *f, const struct rs_bytes *v,
                            int64_t expire_ms),
                 void *ud)
{
    (void)id;
    (void)cb;
    (void)ud;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: hash_scan not implemented yet");
}
