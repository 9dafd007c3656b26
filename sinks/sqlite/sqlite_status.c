/*
 * sqlite_status.c - the status row (redsink_status) and the counters of
 * unknown commands: written by the daemon through set_state and
 * set_progress, read without writing by `redsink status`; and the
 * metrics' gauges (file sizes).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sqlite_int.h"

static int write_state(struct sqlite_sink *ss, const char *state, const char *detail)
{
    sqlite3_stmt *st = sqi_stmt(ss, ST_STATE_SET);
    int rc = 0;

    if (st == NULL)
        return -1;
    rc |= sqlite3_bind_text(st, 1, state ? state : "", -1, SQLITE_STATIC);
    rc |= detail ? sqlite3_bind_text(st, 2, detail, -1, SQLITE_STATIC)
                 : sqlite3_bind_null(st, 2);
    rc |= sqlite3_bind_int64(st, 3, rs_now_ms());
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store the state");
    return sqi_run(ss, st, "store the state");
}

static int write_progress(struct sqlite_sink *ss, const struct sink_progress *p)
{
    sqlite3_stmt *st = sqi_stmt(ss, ST_REPL_PROGRESS);
    int rc = 0;

    if (st == NULL)
        return -1;
    if (p->master_host) {
        rc |= sqlite3_bind_text(st, 1, p->master_host, -1, SQLITE_STATIC);
        rc |= sqlite3_bind_int(st, 2, p->master_port);
    }
    rc |= p->read_offset >= 0 ? sqlite3_bind_int64(st, 3, p->read_offset)
                              : sqlite3_bind_null(st, 3);
    rc |= p->last_ack_at > 0 ? sqlite3_bind_int64(st, 4, p->last_ack_at)
                             : sqlite3_bind_null(st, 4);
    rc |= sqlite3_bind_int64(st, 5, p->lag_bytes);
    rc |= sqlite3_bind_int64(st, 6, p->lag_ms);
    rc |= sqlite3_bind_int64(st, 7, p->bytes_received);
    rc |= sqlite3_bind_int64(st, 8, p->bytes_total);
    rc |= sqlite3_bind_double(st, 9, p->keys_per_sec);
    rc |= sqlite3_bind_int64(st, 10, rs_now_ms());
    if (p->pg_state) {           /* else NULL: no PostgreSQL downstream */
        rc |= sqlite3_bind_text(st, 11, p->pg_state, -1, SQLITE_STATIC);
        rc |= p->pg_offset >= 0 ? sqlite3_bind_int64(st, 12, p->pg_offset)
                                : sqlite3_bind_null(st, 12);
        rc |= sqlite3_bind_int64(st, 13, p->pg_lag_bytes);
        rc |= sqlite3_bind_int64(st, 14, p->pg_lag_ms);
        rc |= sqlite3_bind_text(st, 15, p->pg_error ? p->pg_error : "", -1, SQLITE_STATIC);
    }
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store the progress");
    return sqi_run(ss, st, "store the progress");
}

/* What status_write stores: the state, or the progress. */
struct status_update {
    const char *state, *detail;
    const struct sink_progress *progress;
};

static int write_update(struct sqlite_sink *ss, const struct status_update *u)
{
    return u->progress ? write_progress(ss, u->progress) : write_state(ss, u->state, u->detail);
}

/*
 * Stream mode: folded into the open transaction (visible at its commit).
 * Full sync: stored with an early batch commit. Idle: its own short
 * transaction, even with the sticky error set, so "error" can be shown.
 */
static int status_write(struct sink *s, const struct status_update *u)
{
    struct sqlite_sink *ss = SS(s);
    int had;

    if (ss->mode == MODE_STREAM)
        return sqi_stuck(ss) ? -1 : write_update(ss, u);
    if (ss->mode == MODE_LOAD) {
        if (sqi_stuck(ss) || write_update(ss, u))
            return -1;
        return sqi_load_batch_commit(ss);
    }
    if (ss->fatal)
        return -1;    /* the file is full, failing or not ours any more */
    if (sqlite3_exec(ss->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    sqi_busy_done(ss);
    if (write_update(ss, u) || sqlite3_exec(ss->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    /* The status is for humans: a lock wait cut short by a stop must not
     * leave an error behind that would make the owner treat the mirror
     * as broken. A fatal error stays. */
    had = ss->base.err.code != 0;
    sqi_sql_fail(ss, "store the status");
    sqi_txn_rollback(ss);
    if (!had)
        sqi_err_clear(ss);
    return -1;
}

int sq_set_state(struct sink *s, const char *state, const char *detail)
{
    struct status_update u = { state, detail, NULL };

    return status_write(s, &u);
}

int sq_set_progress(struct sink *s, const struct sink_progress *p)
{
    struct status_update u = { NULL, NULL, p };

    return status_write(s, &u);
}

int sq_unknown_command(struct sink *s, const struct rs_bytes *name)
{
    struct sqlite_sink *ss = SS(s);
    char low[64];
    struct rs_bytes b = { low, name->len < sizeof(low) ? name->len : sizeof(low) };
    sqlite3_stmt *st;

    if (sqi_stuck(ss) || (st = sqi_stmt(ss, ST_UNKNOWN)) == NULL)
        return -1;
    for (size_t i = 0; i < b.len; i++)     /* commands are case-insensitive */
        low[i] = (name->ptr[i] >= 'A' && name->ptr[i] <= 'Z') ? name->ptr[i] + 32 : name->ptr[i];
    if (sqi_bind_bytes(st, 1, &b) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "count an unknown command");
    return sqi_run(ss, st, "count an unknown command");
}

/* ------------------------------------------------------------------ */
/* `redsink status`: the status row, read-only                        */
/* ------------------------------------------------------------------ */

#define ROW_INT(f) { #f, offsetof(struct sink_status, f), 'i', 0 }
#define ROW_TEXT(f) { #f, offsetof(struct sink_status, f), 't', \
                      sizeof(((struct sink_status *)0)->f) }

/* Columns of redsink_status by name, so a mirror made by an older redsink
 * (fewer columns) reads too. */
static const struct {
    const char *name;
    size_t off;
    char kind;                 /* 'i' int64, 't' text, 'd' double */
    size_t cap;
} row_columns[] = {
    ROW_TEXT(state), ROW_TEXT(detail), ROW_TEXT(master_replid), ROW_TEXT(master_host),
    ROW_INT(master_port), ROW_INT(offset), ROW_INT(db), ROW_INT(updated_at),
    ROW_INT(generation), ROW_INT(keys_loaded), ROW_INT(commands_applied),
    ROW_INT(unknown_commands), ROW_INT(read_offset), ROW_INT(last_ack_at), ROW_INT(lag_bytes),
    ROW_INT(lag_ms), ROW_INT(bytes_received), ROW_INT(bytes_total),
    { "keys_per_sec", offsetof(struct sink_status, keys_per_sec), 'd', 0 },
};

static void row_take(struct sink_status *row, sqlite3_stmt *st, int col)
{
    const char *name = sqlite3_column_name(st, col);
    int null = sqlite3_column_type(st, col) == SQLITE_NULL;

    for (size_t i = 0; i < sizeof(row_columns) / sizeof(row_columns[0]); i++) {
        char *f = (char *)row + row_columns[i].off;

        if (strcmp(name, row_columns[i].name) != 0 || null)
            continue;
        if (row_columns[i].kind == 'i')
            *(int64_t *)(void *)f = sqlite3_column_int64(st, col);
        else if (row_columns[i].kind == 'd')
            *(double *)(void *)f = sqlite3_column_double(st, col);
        else
            snprintf(f, row_columns[i].cap, "%s", (const char *)sqlite3_column_text(st, col));
    }
}

static void row_init(struct sink_status *row)
{
    memset(row, 0, sizeof(*row));
    for (size_t i = 0; i < sizeof(row_columns) / sizeof(row_columns[0]); i++)
        if (row_columns[i].kind == 'i')
            *(int64_t *)(void *)((char *)row + row_columns[i].off) = -1;
    row->keys_per_sec = -1;
}

int sq_read_status(const char *path, struct sink_status *row,
                   void (*unknown)(void *ud, const char *cmd, int64_t count), void *ud,
                   struct rs_error *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1, r;

    row_init(row);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rs_fail(err, RS_E_IO, "cannot open '%s': %s", path,
                db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(db, 2000);
    if (sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != APP_ID) {
        rs_fail(err, RS_E_SQL, "cannot use '%s': %s", path,
                sqlite3_errcode(db) == SQLITE_OK || sqlite3_errcode(db) == SQLITE_ROW ||
                sqlite3_errcode(db) == SQLITE_DONE ? "not a redsink mirror" : sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT * FROM redsink_status", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rs_fail(err, RS_E_SQL, "cannot read the status of '%s': %s", path,
                sqlite3_errcode(db) == SQLITE_DONE ? "no status row" : sqlite3_errmsg(db));
        goto out;
    }
    for (int i = 0; i < sqlite3_column_count(st); i++)
        row_take(row, st, i);
    sqlite3_finalize(st);
    st = NULL;
    if (unknown && sqlite3_prepare_v2(db, "SELECT name, count FROM redsink_unknown_commands"
                                      " ORDER BY count DESC, name", -1, &st, NULL) == SQLITE_OK) {
        while ((r = sqlite3_step(st)) == SQLITE_ROW)
            unknown(ud, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

/* ------------------------------------------------------------------ */
/* the metrics' gauges                                                */
/* ------------------------------------------------------------------ */

/* The size of 'path' plus 'suffix' in bytes, 0 when it does not exist. */
static long long file_size(const char *path, const char *suffix)
{
    char p[4200];
    struct stat sb;

    snprintf(p, sizeof(p), "%s%s", path, suffix);
    return stat(p, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* The metrics' file sizes: no SQL, so any thread may ask. */
int sq_gauges(const char *path, struct sink_gauge *g, int max)
{
    static const struct { const char *name, *suffix, *help; } files[] = {
        { "wal_bytes", "-wal", "Size of the mirror's -wal file." },
        { "db_bytes", "", "Size of the mirror's database file." },
    };
    int n = 0;

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && n < max; i++, n++) {
        g[n].name = files[i].name;
        g[n].help = files[i].help;
        g[n].value = *path ? file_size(path, files[i].suffix) : 0;
    }
    return n;
}
