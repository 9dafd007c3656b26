/*
 * sqlite_stmt.c - the statement cache and the helpers every op uses
 * (sqlite_int.h): expanding a template for a generation, preparing it once,
 * binding Redis bytes, running a statement.
 *
 * Every statement is prepared once and cached. '@' in a template stands
 * for the generation prefix ("g3_") of the tables the ops write to, so the
 * cache is dropped whenever that generation changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

/* The core's statements (enum stmt_id in sqlite_int.h); the type files
 * keep their own. */
static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_CKPT_GET] = "SELECT master_replid, offset, db FROM redsink_status",
    [ST_CKPT_SET] =
        "UPDATE redsink_status SET master_replid = ?1, offset = ?2, db = ?3,"
        " keys_loaded = coalesce(?4, keys_loaded),"
        " commands_applied = coalesce(?5, commands_applied),"
        " unknown_commands = coalesce(?6, unknown_commands), updated_at = ?7",
    [ST_STATE_SET] = "UPDATE redsink_status SET state = ?1, detail = ?2, updated_at = ?3",
    [ST_PROGRESS] = "UPDATE redsink_status SET keys_loaded = ?1, updated_at = ?2",
    [ST_REPL_PROGRESS] =
        "UPDATE redsink_status SET master_host = coalesce(?1, master_host),"
        " master_port = coalesce(?2, master_port), read_offset = ?3, last_ack_at = ?4,"
        " lag_bytes = ?5, lag_ms = ?6, bytes_received = ?7, bytes_total = ?8,"
        " keys_per_sec = ?9, updated_at = ?10, pg_state = ?11, pg_offset = ?12,"
        " pg_lag_bytes = ?13, pg_lag_ms = ?14, pg_error = ?15",
    [ST_UNKNOWN] =
        "INSERT INTO redsink_unknown_commands(name, count) VALUES (?1, 1)"
        " ON CONFLICT(name) DO UPDATE SET count = count + 1",
    /* ?7: the id, NULL for the next free one */
    [ST_KEY_INSERT] =
        "INSERT INTO @keys(db, key, type, expire_at, value, lhead, id)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_KEY_FIND] = "SELECT id, type, expire_at FROM @keys WHERE key = ?2 AND db = ?1",
    [ST_KEY_TYPE] = "SELECT type FROM @keys WHERE id = ?1",
    [ST_KEY_DELETE] = "DELETE FROM @keys WHERE id = ?1",
    [ST_KEY_EXPIRE] = "UPDATE @keys SET expire_at = ?2 WHERE id = ?1",
    [ST_KEY_RENAME] = "UPDATE @keys SET db = ?2, key = ?3 WHERE id = ?1",
    [ST_KEY_FLUSH] = "DELETE FROM @keys WHERE db = ?1",
    [ST_FUNCTION] = "INSERT OR REPLACE INTO @func(name, code) VALUES (?1, ?2)",
};

/* Children tables (enum child in sqlite_int.h). */
static const char *const child_name[C_COUNT] = {
    "hash", "list", "set", "zset", "stream", "smeta", "sgroup", "spel", "scons",
    "array", "ameta", "phash"
};
/* Statements every child table has; '%s' is the child's name. */
static const char *const child_sql[CO_COUNT] = {
    [CO_PROBE] = "SELECT 1 FROM @%s WHERE kid = ?1 LIMIT 1",
    [CO_DELETE] = "DELETE FROM @%s WHERE kid = ?1",
    [CO_FLUSH] = "DELETE FROM @%s WHERE kid IN"
                 " (SELECT id FROM @keys WHERE db = ?1 AND type = ?2)",
};

/* Copy 'tmpl' replacing '%s' by 'child' (if any) and each '@' by "g<gen>_".
 * NULL when out of memory. */
char *sqi_sql_expand(const char *tmpl, int64_t gen, const char *child)
{
    char prefix[32], *out, *o;
    size_t plen, n = 0;

    plen = (size_t)snprintf(prefix, sizeof(prefix), "g%lld_", (long long)gen);
    for (const char *p = tmpl; *p; p++) {
        if (*p == '@') {
            n += plen;
        } else if (*p == '%' && p[1] == 's' && child) {
            n += strlen(child);
            p++;
        } else {
            n++;
        }
    }
    if ((out = malloc(n + 1)) == NULL)
        return NULL;
    o = out;
    for (const char *p = tmpl; *p; p++) {
        if (*p == '@') {
            memcpy(o, prefix, plen);
            o += plen;
        } else if (*p == '%' && p[1] == 's' && child) {
            memcpy(o, child, strlen(child));
            o += strlen(child);
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

sqlite3_stmt *sqi_prepare(struct sqlite_sink *ss, sqlite3_stmt **slot, const char *tmpl,
                          const char *child)
{
    char *sql;
    int rc;

    if (*slot != NULL)
        return *slot;
    if ((sql = sqi_sql_expand(tmpl, ss->target, child)) == NULL) {
        rs_fail(&ss->base.err, RS_E_NOMEM, "cannot prepare a statement: out of memory");
        return NULL;
    }
    rc = sqlite3_prepare_v3(ss->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
    free(sql);
    if (rc != SQLITE_OK) {
        sqi_sql_fail(ss, "prepare a statement");
        return NULL;
    }
    return *slot;
}

sqlite3_stmt *sqi_stmt_prepare(struct sqlite_sink *ss, enum stmt_id id)
{
    return sqi_prepare(ss, &ss->st[id], stmt_sql[id], NULL);
}

sqlite3_stmt *sqi_child_stmt(struct sqlite_sink *ss, enum child_op op, enum child c)
{
    return sqi_prepare(ss, &ss->cst[op][c], child_sql[op], child_name[c]);
}

sqlite3_stmt *sqi_xstmt(struct sqlite_sink *ss, int slot, const char *tmpl)
{
    if (slot < 0 || slot >= SQI_XSTMT_MAX) {
        rs_fail(&ss->base.err, RS_E_SQL, "cannot prepare a statement in '%s': bad slot %d",
                ss->path, slot);
        return NULL;
    }
    return sqi_prepare(ss, &ss->xstmt[slot], tmpl, NULL);
}

/* Forget every prepared statement (the target generation changed). */
void sqi_stmts_drop(struct sqlite_sink *ss)
{
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(ss->st[i]);
        ss->st[i] = NULL;
    }
    for (int o = 0; o < CO_COUNT; o++)
        for (int c = 0; c < C_COUNT; c++) {
            sqlite3_finalize(ss->cst[o][c]);
            ss->cst[o][c] = NULL;
        }
    for (int i = 0; i < SQI_XSTMT_MAX; i++) {
        sqlite3_finalize(ss->xstmt[i]);
        ss->xstmt[i] = NULL;
    }
    sqi_bulk_drop(ss);
}

/*
 * Bind Redis bytes: TEXT when valid UTF-8 (embedded NULs kept, the length
 * is explicit), else BLOB. The one place that decides, so a lookup binds
 * exactly as the insert did (TEXT 'a' and BLOB 'a' differ in SQLite).
 * SQLITE_STATIC is safe: every statement is reset and its bindings
 * cleared before the op returns.
 */
int sqi_bind_bytes(sqlite3_stmt *st, int i, const struct rs_bytes *b)
{
    const char *p;

    if (b == NULL)
        return sqlite3_bind_null(st, i);
    p = b->len ? b->ptr : "";             /* a NULL pointer would bind NULL */
    if (rs_utf8_valid(p, b->len))
        return sqlite3_bind_text64(st, i, p, b->len, SQLITE_STATIC, SQLITE_UTF8);
    return sqlite3_bind_blob64(st, i, p, b->len, SQLITE_STATIC);
}

int sqi_big_value(const struct rs_bytes *b)
{
    if (b == NULL || b->len < SQI_BIG_VALUE)
        return SQI_SMALL;
    return rs_utf8_valid(b->ptr, b->len) ? SQI_BIG_TEXT : SQI_BIG_BLOB;
}

int sqi_bind_value(sqlite3_stmt *st, int i, const struct rs_bytes *b, int big)
{
    return big ? sqlite3_bind_zeroblob64(st, i, b->len) : sqi_bind_bytes(st, i, b);
}

/*
 * redsink_incr(value, incr): the sum's decimal text when value is a
 * canonical integer's TEXT (a BLOB never is) and the sum fits in 64 bits;
 * else value itself, and ss->incr_refused is set (the caller then reads
 * the value and answers as Redis would). One C call instead of the four
 * CASTs this was in SQL: each CAST of the column copied it and each text
 * result was allocated (Debian's SQLite has no lookaside), about six
 * malloc/free pairs an INCR (bench/replay under callgrind).
 *
 * redsink_incr(value, sum, lo, hi): several increments at once, whose
 * running sums were at least lo and at most hi and ended at sum
 * (sqlite_string.c, held_late): value + sum when value + lo and value +
 * hi fit in 64 bits too, so that each increment in turn would have been
 * made; else refused as above.
 */
static void incr_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct sqlite_sink *ss = sqlite3_user_data(ctx);
    long long v;
    int64_t sum, edge;
    char buf[24];

    /* rs_parse_ll takes what Redis' string2ll takes (common.c) */
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT ||
        rs_parse_ll((const char *)sqlite3_value_text(argv[0]),
                    (size_t)sqlite3_value_bytes(argv[0]), &v) != 0 ||
        __builtin_add_overflow((int64_t)v, sqlite3_value_int64(argv[1]), &sum) ||
        (argc == 4 && (__builtin_add_overflow((int64_t)v, sqlite3_value_int64(argv[2]), &edge) ||
                       __builtin_add_overflow((int64_t)v, sqlite3_value_int64(argv[3]), &edge)))) {
        ss->incr_refused = 1;
        sqlite3_result_value(ctx, argv[0]);
        return;
    }
    ss->incr_sum = sum;
    sqlite3_result_text(ctx, buf, (int)rs_ll2str(buf, sum), SQLITE_TRANSIENT);
}

int sqi_incr_register(struct sqlite_sink *ss)
{
    int rc = SQLITE_OK;

    for (int n = 2; n <= 4 && rc == SQLITE_OK; n += 2)
        rc = sqlite3_create_function_v2(ss->db, "redsink_incr", n,
                                        SQLITE_UTF8 | SQLITE_DIRECTONLY, ss, incr_fn, NULL, NULL,
                                        NULL);
    return rc;
}

int sqi_bind_text_flag(sqlite3_stmt *st, int i, int big)
{
    return big == SQI_BIG_TEXT ? sqlite3_bind_int(st, i, 1) : sqlite3_bind_null(st, i);
}

int sqi_blob_write(struct sqlite_sink *ss, const char *t, const char *col, int64_t id,
                   const struct rs_bytes *b)
{
    char table[40];
    sqlite3_blob *blob = NULL;
    size_t off = 0;
    int rc;

    snprintf(table, sizeof(table), "g%lld_%s", (long long)ss->target, t);
    rc = sqlite3_blob_open(ss->db, "main", table, col, id, 1, &blob);
    /* in chunks: sqlite3_blob_write takes an int length */
    while (rc == SQLITE_OK && off < b->len) {
        size_t n = b->len - off < SQI_BIG_VALUE * 64 ? b->len - off : SQI_BIG_VALUE * 64;

        rc = sqlite3_blob_write(blob, b->ptr + off, (int)n, (int)off);
        off += n;
    }
    if (blob != NULL && sqlite3_blob_close(blob) != SQLITE_OK && rc == SQLITE_OK)
        rc = SQLITE_ERROR;
    if (rc != SQLITE_OK)
        return sqi_sql_fail(ss, "write a big value");
    return 0;
}

int sqi_big_fill(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *b)
{
    return sqi_blob_write(ss, "keys", "value", id, b);
}

int sqi_big_put(struct sqlite_sink *ss, const struct rs_bytes *b, int big, int64_t *id)
{
    sqlite3_stmt *st;

    *id = 0;
    if (big == SQI_SMALL)
        return 0;
    if (sqi_exec_gen(ss, sqi_big_triggers, ss->target, "create the big value triggers"))
        return -1;
    st = sqi_xstmt(ss, SQI_X_MISC + 4, "INSERT INTO @big(text, v) VALUES (?1, zeroblob(?2))");
    if (st == NULL)
        return -1;
    if (sqlite3_bind_int(st, 1, big == SQI_BIG_TEXT) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)b->len) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a big value");
    if (sqi_run(ss, st, "store a big value"))
        return -1;
    *id = sqlite3_last_insert_rowid(ss->db);
    return sqi_blob_write(ss, "big", "v", *id, b);
}

int sqi_blob_copy(struct sqlite_sink *ss, const char *from_t, const char *from_col,
                  int64_t from, const char *to_t, const char *to_col, int64_t to)
{
    char src_t[40], dst_t[40];
    sqlite3_blob *src = NULL, *dst = NULL;
    char *buf = malloc(SQI_BIG_VALUE);
    int rc, n, off = 0;

    if (buf == NULL)
        return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot copy a big value in '%s': out of "
                       "memory", ss->path);
    snprintf(src_t, sizeof(src_t), "g%lld_%s", (long long)ss->target, from_t);
    snprintf(dst_t, sizeof(dst_t), "g%lld_%s", (long long)ss->target, to_t);
    rc = sqlite3_blob_open(ss->db, "main", src_t, from_col, from, 0, &src);
    if (rc == SQLITE_OK)
        rc = sqlite3_blob_open(ss->db, "main", dst_t, to_col, to, 1, &dst);
    n = rc == SQLITE_OK ? sqlite3_blob_bytes(src) : 0;
    if (rc == SQLITE_OK && sqlite3_blob_bytes(dst) != n)
        rc = SQLITE_CORRUPT;
    while (rc == SQLITE_OK && off < n) {
        int k = n - off < (int)SQI_BIG_VALUE ? n - off : (int)SQI_BIG_VALUE;

        rc = sqlite3_blob_read(src, buf, k, off);
        if (rc == SQLITE_OK)
            rc = sqlite3_blob_write(dst, buf, k, off);
        off += k;
    }
    free(buf);
    sqlite3_blob_close(src);
    if (dst != NULL && sqlite3_blob_close(dst) != SQLITE_OK && rc == SQLITE_OK)
        rc = SQLITE_ERROR;
    return rc == SQLITE_OK ? 0 : sqi_sql_fail(ss, "copy a big value");
}

int sqi_big_drop(struct sqlite_sink *ss, int64_t id)
{
    return sqi_run_kid(ss, sqi_xstmt(ss, SQI_X_MISC + 5, "DELETE FROM @big WHERE id = ?1"), id,
                       "drop a big value");
}

int sqi_bind_elem(sqlite3_stmt *st, int i, const struct rs_bytes *b, int64_t big_id)
{
    if (big_id == 0)
        return sqi_bind_bytes(st, i, b);
    return sqlite3_bind_text(st, i, "", 0, SQLITE_STATIC) |
           sqlite3_bind_int64(st, i + 1, big_id);
}

int sqi_column_elem(struct sqlite_sink *ss, sqlite3_stmt *st, int col, struct rs_bytes *v,
                    void **owned)
{
    *owned = NULL;
    if (sqlite3_column_type(st, col + 1) == SQLITE_NULL) {
        /* column_blob returns TEXT's bytes unconverted; call bytes after it */
        v->ptr = sqlite3_column_blob(st, col);
        v->len = (size_t)sqlite3_column_bytes(st, col);
        if (v->ptr == NULL)
            v->ptr = "";
        return 0;
    }
    return sqi_big_read(ss, sqlite3_column_int64(st, col + 1), v, owned);
}

int sqi_big_read(struct sqlite_sink *ss, int64_t id, struct rs_bytes *v, void **owned)
{
    return sqi_blob_read(ss, "big", id, v, owned);
}

int sqi_blob_read(struct sqlite_sink *ss, const char *t, int64_t id, struct rs_bytes *v,
                  void **owned)
{
    char table[40];
    sqlite3_blob *blob;
    int rc, n;

    *owned = NULL;
    snprintf(table, sizeof(table), "g%lld_%s", (long long)ss->target, t);
    rc = sqlite3_blob_open(ss->db, "main", table, "v", id, 0, &blob);
    if (rc != SQLITE_OK)
        return sqi_sql_fail(ss, "read a big value");
    n = sqlite3_blob_bytes(blob);
    if ((*owned = malloc(n ? (size_t)n : 1)) == NULL) {
        sqlite3_blob_close(blob);
        return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot read a big value of %d bytes: "
                       "out of memory", n);
    }
    rc = sqlite3_blob_read(blob, *owned, n, 0);
    sqlite3_blob_close(blob);
    if (rc != SQLITE_OK) {
        free(*owned);
        *owned = NULL;
        return sqi_sql_fail(ss, "read a big value");
    }
    v->ptr = *owned;
    v->len = (size_t)n;
    return 0;
}

/* A unix-ms time, or NULL for "none" (RS_NO_EXPIRE, -1). */
int sqi_bind_time(sqlite3_stmt *st, int i, int64_t ms)
{
    return ms == RS_NO_EXPIRE ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, ms);
}

/* Stream ids are unsigned 64-bit; SQLite integers are signed. Values past
 * INT64_MAX wrap (no real stream gets there; see doc/schema.md). */
int sqi_bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    return sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

int sqi_bind_fail(struct sqlite_sink *ss, sqlite3_stmt *st, const char *what)
{
    sqi_sql_fail(ss, what);
    sqi_stmt_done(st);
    return -1;
}

int64_t sqi_query_int(struct sqlite_sink *ss, const char *sql, int64_t dflt)
{
    sqlite3_stmt *st;
    int64_t v = dflt;

    if (sqi_bulk_settle(ss) || sqlite3_prepare_v2(ss->db, sql, -1, &st, NULL) != SQLITE_OK)
        return dflt;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

enum rs_type sqi_type_parse(const unsigned char *t)
{
    for (int i = RS_T_STRING; i <= RS_T_PATHHASH; i++)
        if (t && strcmp((const char *)t, rs_type_name((enum rs_type)i)) == 0)
            return (enum rs_type)i;
    return RS_T_NONE;
}

/* Run a statement whose only parameter is the key id ?1. */
int sqi_run_kid(struct sqlite_sink *ss, sqlite3_stmt *st, int64_t id, const char *what)
{
    if (st == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, what);
    return sqi_run(ss, st, what);
}

int sqi_run_member(struct sqlite_sink *ss, int slot, const char *tmpl, int64_t kid,
                   const struct rs_bytes *m, int how, int *changed, const char *what)
{
    char ph[SQI_PH_LEN];
    sqlite3_stmt *st;
    int rc;

    ph[0] = '\0';
    if (changed)
        *changed = 0;
    if (sqi_stuck(ss) || sqi_load_tick(ss) || (st = sqi_xstmt(ss, slot, tmpl)) == NULL)
        return -1;
    rc = how == SQI_M_BYTES ? sqi_bind_bytes(st, 2, m)
                            : sqi_bind_member(ss, st, 2, kid, m, how == SQI_M_STORE, ph);
    if (rc != SQLITE_OK || sqlite3_bind_int64(st, 1, kid) != SQLITE_OK)
        return sqi_bind_fail(ss, st, what);
    if (sqi_run(ss, st, what))
        return -1;
    if (changed)
        *changed = sqlite3_changes(ss->db) > 0;
    return 0;
}
