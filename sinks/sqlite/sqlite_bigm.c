/*
 * sqlite_bigm.c - hash fields, set and sorted-set members and stream field
 * names of 1 MiB or more: the row holds a placeholder (0xFF and the SHA-256
 * of the bytes, as TEXT), the bytes are in gN_bigm, written and compared with BLOB I/O, so that SQLite
 * never builds a record holding a second copy of them (sqlite_int.h,
 * "Big fields and members"; doc/schema.md, "Big values").
 *
 * Start with sqi_bind_member. The SHA-256 comes from libcrypto
 * (common/digest.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "sqlite_int.h"

/* ------------------------------------------------------------------ */
/* placeholders and gN_bigm rows                                      */
/* ------------------------------------------------------------------ */

/* Statements, in the free SQI_X_MISC slots 20.. */
enum { BM_FIND = 20, BM_INSERT, BM_COPY_IDS, BM_COPY_ROW };

int sqi_placeholder(const struct rs_bytes *m, char ph[SQI_PH_LEN])
{
    ph[0] = (char)0xff;
    return rs_sha256(m->ptr, m->len, (unsigned char *)ph + 1);
}

/* Is column 'col' of the current row a placeholder? Its bytes then. */
static const char *column_ph(sqlite3_stmt *st, int col)
{
    const char *p;

    if (sqlite3_column_type(st, col) != SQLITE_TEXT)
        return NULL;
    p = (const char *)sqlite3_column_text(st, col);
    if (sqlite3_column_bytes(st, col) != SQI_PH_LEN || p == NULL || (unsigned char)p[0] != 0xff)
        return NULL;
    return p;
}

/* The gN_bigm row of (kid, ph) into *id: 1, 0 when none, -1 on error. */
static int bigm_find(struct sqlite_sink *ss, int64_t kid, const char *ph, int64_t *id)
{
    sqlite3_stmt *st = sqi_xstmt(ss, SQI_X_MISC + BM_FIND,
                                 "SELECT id FROM @bigm WHERE kid = ?1 AND ph = ?2");
    int r;

    if (st == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, kid) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, ph, SQI_PH_LEN, SQLITE_STATIC) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "look a big member up");
    if ((r = sqi_row(ss, st, "look a big member up")) == 1) {
        *id = sqlite3_column_int64(st, 0);
        sqi_stmt_done(st);
    }
    return r;
}

/* m against column v of row 'id' of table 't' in memcmp order (shorter
 * first on a common prefix) into *cmp, or with 'eq_only' just 0 or not 0
 * (unequal lengths: nothing read). Read 1 MiB at a time, so the stored
 * copy is never whole in memory. 0 or -1. */
static int blob_cmp(struct sqlite_sink *ss, const char *t, int64_t id, const struct rs_bytes *m,
                    int eq_only, int *cmp)
{
    char table[40];
    sqlite3_blob *blob = NULL;
    char *buf;
    size_t off = 0, len = 0, common;
    int rc;

    *cmp = 0;
    snprintf(table, sizeof(table), "g%lld_%s", (long long)ss->target, t);
    if ((buf = malloc(SQI_BIG_VALUE)) == NULL)
        return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot compare a big member or key name:"
                       " out of memory");
    rc = sqlite3_blob_open(ss->db, "main", table, "v", id, 0, &blob);
    if (rc == SQLITE_OK)
        len = (size_t)sqlite3_blob_bytes(blob);
    common = m->len < len ? m->len : len;
    if (eq_only && m->len != len)
        *cmp = 1;
    while (rc == SQLITE_OK && *cmp == 0 && off < common) {
        size_t n = common - off < SQI_BIG_VALUE ? common - off : SQI_BIG_VALUE;

        rc = sqlite3_blob_read(blob, buf, (int)n, (int)off);
        *cmp = rc == SQLITE_OK ? memcmp(m->ptr + off, buf, n) : 0;
        off += n;
    }
    if (*cmp == 0)
        *cmp = m->len < len ? -1 : m->len > len;
    free(buf);
    sqlite3_blob_close(blob);
    return rc == SQLITE_OK ? 0 : sqi_sql_fail(ss, "compare a big member or key name");
}

int sqi_blob_equal(struct sqlite_sink *ss, const char *t, int64_t id, const struct rs_bytes *m)
{
    int cmp;

    return blob_cmp(ss, t, id, m, 1, &cmp) ? -1 : cmp == 0;
}

int sqi_bigm_cmp(struct sqlite_sink *ss, int64_t kid, const char *ph, const struct rs_bytes *m,
                 int *cmp)
{
    int64_t id;
    int r;

    if ((r = bigm_find(ss, kid, ph, &id)) <= 0)
        return r < 0 ? -1 : rs_fail(&ss->base.err, RS_E_SQL, "cannot read a big member of key "
                                    "%lld in '%s': its bytes are missing", (long long)kid,
                                    ss->path);
    return blob_cmp(ss, "bigm", id, m, 0, cmp);
}

/* Write m as the gN_bigm row of (kid, ph), triggers first. 0 or -1. */
static int bigm_store(struct sqlite_sink *ss, int64_t kid, const char *ph,
                      const struct rs_bytes *m)
{
    sqlite3_stmt *st;
    int64_t id;

    if (sqi_exec_gen(ss, sqi_bigm_triggers, ss->target, "create the big member triggers") ||
        sqi_views_upgrade(ss, 1, 0) ||
        (st = sqi_xstmt(ss, SQI_X_MISC + BM_INSERT, "INSERT INTO @bigm(kid, ph, text, v)"
                        " VALUES (?1, ?2, ?3, zeroblob(?4))")) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, kid) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, ph, SQI_PH_LEN, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int(st, 3, rs_utf8_valid(m->ptr, m->len)) != SQLITE_OK ||
        sqlite3_bind_int64(st, 4, (sqlite3_int64)m->len) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a big member");
    if (sqi_run(ss, st, "store a big member"))
        return -1;
    id = sqlite3_last_insert_rowid(ss->db);
    return sqi_blob_write(ss, "bigm", "v", id, m);
}

int sqi_bind_member(struct sqlite_sink *ss, sqlite3_stmt *st, int i, int64_t kid,
                    const struct rs_bytes *m, int store, char ph[SQI_PH_LEN])
{
    int64_t id;
    int r;

    if (m == NULL || m->len < SQI_BIG_VALUE)
        return sqi_bind_bytes(st, i, m);
    if ((unsigned char)ph[0] != 0xff) {
        if (sqi_placeholder(m, ph) != 0) {
            ph[0] = 0;
            rs_fail(&ss->base.err, RS_E_NOMEM, "cannot hash a member of %zu bytes for '%s':"
                    " out of memory", m->len, ss->path);
            return SQLITE_ERROR;
        }
        if ((r = bigm_find(ss, kid, ph, &id)) == 1 && (r = sqi_blob_equal(ss, "bigm", id, m)) == 0)
            r = rs_fail(&ss->base.err, RS_E_SQL, "cannot store a member of %zu bytes in '%s':"
                        " another member has the same SHA-256", m->len, ss->path);
        if (r < 0 || (r == 0 && store && bigm_store(ss, kid, ph, m))) {
            ph[0] = 0;
            return SQLITE_ERROR;
        }
    }
    /* no row and no store: the placeholder matches no element row */
    return sqlite3_bind_text(st, i, ph, SQI_PH_LEN, SQLITE_TRANSIENT);
}

int sqi_column_member(struct sqlite_sink *ss, sqlite3_stmt *st, int col, int64_t kid,
                      struct rs_bytes *m, void **owned)
{
    const char *ph = column_ph(st, col);
    char copy[SQI_PH_LEN];
    int64_t id;
    int r;

    *owned = NULL;
    if (ph == NULL) {
        /* column_blob returns TEXT's bytes unconverted; call bytes after it */
        m->ptr = sqlite3_column_blob(st, col);
        m->len = (size_t)sqlite3_column_bytes(st, col);
        if (m->ptr == NULL)
            m->ptr = "";
        return 0;
    }
    memcpy(copy, ph, SQI_PH_LEN);
    if ((r = bigm_find(ss, kid, copy, &id)) <= 0)
        return r < 0 ? -1 : rs_fail(&ss->base.err, RS_E_SQL, "cannot read a big member of key "
                                    "%lld in '%s': its bytes are missing", (long long)kid,
                                    ss->path);
    return sqi_blob_read(ss, "bigm", id, m, owned);
}

int sqi_bigm_copy(struct sqlite_sink *ss, int64_t from, int64_t to)
{
    sqlite3_stmt *st = sqi_xstmt(ss, SQI_X_MISC + BM_COPY_IDS,
                                 "SELECT id FROM @bigm WHERE kid = ?1 AND ph NOT IN"
                                 " (SELECT ph FROM @bigm WHERE kid = ?2)");
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int r, rc = 0;

    if (st == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, from) != SQLITE_OK || sqlite3_bind_int64(st, 2, to) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "copy big members");
    /* the ids first: the copies go into the table being read */
    while ((r = sqi_row(ss, st, "copy big members")) == 1) {
        if (n == cap) {
            int64_t *t = realloc(ids, (cap = cap ? 2 * cap : 8) * sizeof(*ids));

            if (t == NULL) {
                sqi_stmt_done(st);
                free(ids);
                return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot copy big members: out of "
                               "memory");
            }
            ids = t;
        }
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    if (r < 0)
        rc = -1;
    st = rc ? NULL : sqi_xstmt(ss, SQI_X_MISC + BM_COPY_ROW,
                               "INSERT INTO @bigm(kid, ph, text, v) SELECT ?2, ph, text,"
                               " zeroblob(length(v)) FROM @bigm WHERE id = ?1");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (st == NULL || sqlite3_bind_int64(st, 1, ids[i]) != SQLITE_OK ||
            sqlite3_bind_int64(st, 2, to) != SQLITE_OK) {
            rc = st ? sqi_bind_fail(ss, st, "copy big members") : -1;
            break;
        }
        rc = sqi_run(ss, st, "copy big members");
        if (rc == 0)
            rc = sqi_blob_copy(ss, "bigm", "v", ids[i], "bigm", "v",
                               sqlite3_last_insert_rowid(ss->db));
    }
    free(ids);
    return rc;
}
