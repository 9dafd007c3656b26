/*
 * pg_src.c - the shipper reads the SQLite mirror here, and only here
 * (pg_src.h): its own read-only connection, one read transaction per
 * round, a generation table walked row by row, the outbox in seq order,
 * and the rows an outbox row names, read by primary key.
 *
 * It never writes the file: WAL mode lets it read a snapshot while the
 * applier commits, and the writer never waits for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "pg_src.h"

struct src {
    sqlite3 *db;
    char path[256];
    sqlite3_stmt *scan;       /* the running table scan */
    sqlite3_stmt *outbox;     /* the running outbox read */
    sqlite3_stmt *row[OUTBOX_NTABLES];   /* src_row_get's, for row_gen */
    int64_t row_gen;
    int in_txn;
};

static int src_fail(struct src *s, struct rs_error *err, const char *what)
{
    return rs_fail(err, RS_E_SQL, "cannot %s in '%s': %s", what, s->path,
                   sqlite3_errmsg(s->db));
}

struct src *src_open(const char *path, struct rs_error *err)
{
    struct src *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        rs_fail(err, RS_E_NOMEM, "cannot read '%s': out of memory", path);
        return NULL;
    }
    snprintf(s->path, sizeof(s->path), "%s", path);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        rs_fail(err, RS_E_SQL, "cannot open '%s' to read it: %s", path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        src_close(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 5000);
    return s;
}

void src_close(struct src *s)
{
    if (s == NULL)
        return;
    src_end(s);
    sqlite3_close(s->db);
    free(s);
}

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
    snprintf(dst, size, "%s", src ? (const char *)src : "");
}

/* The outbox's last assigned seq: sqlite_sequence holds it (it survives
 * the rows' deletion); no such table or row yet means 0. */
static int64_t last_seq(struct src *s)
{
    sqlite3_stmt *st;
    int64_t seq = 0;

    if (sqlite3_prepare_v2(s->db, "SELECT seq FROM sqlite_sequence WHERE name = "
                           "'redsink_outbox'", -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return seq;
}

int src_begin(struct src *s, struct src_pos *pos, struct rs_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return src_fail(s, err, "begin a read");
    s->in_txn = 1;
    /* the first SELECT takes the snapshot that the rest of the round reads */
    if (sqlite3_prepare_v2(s->db, "SELECT generation, master_replid, offset, state"
                           " FROM redsink_status", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            rs_fail(err, RS_E_SQL, "cannot read '%s': redsink_status has no row", s->path);
        goto fail;
    }
    pos->gen = sqlite3_column_int64(st, 0);
    copy_text(pos->replid, sizeof(pos->replid), sqlite3_column_text(st, 1));
    pos->offset = sqlite3_column_int64(st, 2);
    copy_text(pos->state, sizeof(pos->state), sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    pos->last_seq = last_seq(s);
    return 0;
fail:
    src_fail(s, err, "read redsink_status");
    sqlite3_finalize(st);
    src_end(s);
    return -1;
}

void src_end(struct src *s)
{
    sqlite3_finalize(s->scan);
    sqlite3_finalize(s->outbox);
    s->scan = s->outbox = NULL;
    for (int i = 0; i < OUTBOX_NTABLES; i++) {
        sqlite3_finalize(s->row[i]);
        s->row[i] = NULL;
    }
    if (s->in_txn)
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    s->in_txn = 0;
}

static void value_get(sqlite3_value *v, struct pgv *out)
{
    memset(out, 0, sizeof(*out));
    switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
        out->t = PGV_INT;
        out->i = sqlite3_value_int64(v);
        break;
    case SQLITE_FLOAT:
        out->t = PGV_REAL;
        out->d = sqlite3_value_double(v);
        break;
    case SQLITE_TEXT:
        out->t = PGV_BYTES;
        out->p = (const char *)sqlite3_value_text(v);
        out->n = sqlite3_value_bytes(v);
        break;
    case SQLITE_BLOB:
        out->t = PGV_BYTES;
        out->p = sqlite3_value_blob(v);
        out->n = sqlite3_value_bytes(v);
        if (out->p == NULL)
            out->p = "";
        break;
    default:
        out->t = PGV_NULL;
    }
}

/* ---- a generation table, row by row ---- */

int src_scan_begin(struct src *s, int64_t gen, const char *table, const char *cols,
                   struct rs_error *err)
{
    char sql[512];

    sqlite3_finalize(s->scan);
    s->scan = NULL;
    snprintf(sql, sizeof(sql), "SELECT %s FROM g%lld_%s", cols, (long long)gen, table);
    if (sqlite3_prepare_v2(s->db, sql, -1, &s->scan, NULL) != SQLITE_OK)
        return src_fail(s, err, "read a table");
    return 0;
}

enum rs_status src_scan_next(struct src *s, struct pgv *vals, int ncols, struct rs_error *err)
{
    int rc = sqlite3_step(s->scan);

    if (rc == SQLITE_DONE)
        return RS_DONE;
    if (rc != SQLITE_ROW) {
        src_fail(s, err, "read a table");
        return RS_ERROR;
    }
    for (int i = 0; i < ncols; i++)
        value_get(sqlite3_column_value(s->scan, i), &vals[i]);
    return RS_OK;
}

/* ---- the outbox ---- */

int src_outbox_begin(struct src *s, int64_t after, struct rs_error *err)
{
    sqlite3_finalize(s->outbox);
    s->outbox = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT seq, gen, replid, offset, at, pks FROM"
                           " redsink_outbox WHERE seq > ?1 ORDER BY seq", -1, &s->outbox,
                           NULL) != SQLITE_OK) {
        /* no outbox yet (a mirror made before it): nothing to ship */
        if (strstr(sqlite3_errmsg(s->db), "no such table"))
            return 0;
        return src_fail(s, err, "read the outbox");
    }
    sqlite3_bind_int64(s->outbox, 1, after);
    return 0;
}

enum rs_status src_outbox_next(struct src *s, struct src_outbox *row, struct rs_error *err)
{
    sqlite3_stmt *st = s->outbox;
    int rc;

    if (st == NULL)
        return RS_DONE;
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return RS_DONE;
    if (rc != SQLITE_ROW) {
        src_fail(s, err, "read the outbox");
        return RS_ERROR;
    }
    row->seq = sqlite3_column_int64(st, 0);
    row->gen = sqlite3_column_int64(st, 1);
    copy_text(row->replid, sizeof(row->replid), sqlite3_column_text(st, 2));
    row->offset = sqlite3_column_int64(st, 3);
    row->at = sqlite3_column_int64(st, 4);
    row->pks = sqlite3_column_blob(st, 5);
    row->len = sqlite3_column_bytes(st, 5);
    return RS_OK;
}

int64_t src_outbox_first_at(struct src *s, int64_t after)
{
    sqlite3_stmt *st;
    int64_t at = 0;

    if (sqlite3_prepare_v2(s->db, "SELECT at FROM redsink_outbox WHERE seq > ?1"
                           " ORDER BY seq LIMIT 1", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, after);
    if (sqlite3_step(st) == SQLITE_ROW)
        at = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return at;
}

int src_outbox_span(struct src *s, int64_t after, struct src_span *sp, struct rs_error *err)
{
    sqlite3_stmt *st;
    int rc;

    memset(sp, 0, sizeof(*sp));
    if (sqlite3_prepare_v2(s->db, "SELECT count(*), min(seq), max(seq), min(gen), max(gen)"
                           " FROM redsink_outbox WHERE seq > ?1", -1, &st, NULL) != SQLITE_OK) {
        /* no outbox yet (a mirror made before it): nothing to ship */
        if (strstr(sqlite3_errmsg(s->db), "no such table"))
            return 0;
        return src_fail(s, err, "read the outbox");
    }
    sqlite3_bind_int64(st, 1, after);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sp->n = sqlite3_column_int64(st, 0);
        sp->first = sqlite3_column_int64(st, 1);
        sp->last = sqlite3_column_int64(st, 2);
        sp->min_gen = sqlite3_column_int64(st, 3);
        sp->max_gen = sqlite3_column_int64(st, 4);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : src_fail(s, err, "read the outbox");
}

/* ---- a row by its primary key ---- */

enum rs_status src_row_get(struct src *s, int64_t gen, int table, const char *cols,
                           const char *where, const struct pk_val *pk, int npk,
                           struct pgv *vals, int ncols, struct rs_error *err)
{
    sqlite3_stmt *st;
    char sql[512];
    int rc = SQLITE_OK;

    if (s->row_gen != gen) {
        for (int i = 0; i < OUTBOX_NTABLES; i++) {
            sqlite3_finalize(s->row[i]);
            s->row[i] = NULL;
        }
        s->row_gen = gen;
    }
    if ((st = s->row[table]) == NULL) {
        snprintf(sql, sizeof(sql), "SELECT %s FROM g%lld_%s WHERE %s", cols, (long long)gen,
                 outbox_tables[table].name, where);
        if (sqlite3_prepare_v2(s->db, sql, -1, &s->row[table], NULL) != SQLITE_OK) {
            src_fail(s, err, "read a changed row");
            return RS_ERROR;
        }
        st = s->row[table];
    }
    sqlite3_reset(st);
    for (int i = 0; i < npk && rc == SQLITE_OK; i++) {
        if (pk[i].tag == 'i')
            rc = sqlite3_bind_int64(st, i + 1, pk[i].i);
        else if (pk[i].tag == 't')
            rc = sqlite3_bind_text64(st, i + 1, (const char *)pk[i].p, pk[i].n, SQLITE_STATIC,
                                     SQLITE_UTF8);
        else
            rc = sqlite3_bind_blob64(st, i + 1, pk[i].p, pk[i].n, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return RS_DONE;
    }
    if (rc != SQLITE_ROW) {
        src_fail(s, err, "read a changed row");
        sqlite3_reset(st);
        return RS_ERROR;
    }
    for (int i = 0; i < ncols; i++)
        value_get(sqlite3_column_value(st, i), &vals[i]);
    return RS_OK;
}

void src_row_done(struct src *s, int table)
{
    if (s->row[table]) {
        sqlite3_reset(s->row[table]);
        sqlite3_clear_bindings(s->row[table]);
    }
}
