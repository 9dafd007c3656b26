/*
 * sqlite_txn.c - stream transactions and the checkpoint: begin, commit
 * (data and replication position in one transaction), rollback, and
 * reading the committed position back.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sqlite_int.h"

int sqi_txn_begin(struct sqlite_sink *ss)
{
    sqlite3_stmt *st = sqi_stmt(ss, ST_BEGIN);

    if (st == NULL || sqi_run(ss, st, "begin a transaction"))
        return -1;
    sqi_busy_done(ss);
    return 0;
}

int sqi_txn_commit(struct sqlite_sink *ss)
{
    sqlite3_stmt *st = sqi_stmt(ss, ST_COMMIT);

    if (st == NULL || sqi_file_check(ss, "commit") || sqi_ckpt_check(ss) ||
        sqi_run(ss, st, "commit"))
        return -1;
    sqi_wal_note(ss);
    return 0;
}

/* Roll back whatever is open; quiet (used on paths that already failed). */
void sqi_txn_rollback(struct sqlite_sink *ss)
{
    sqi_outbox_end(ss);
    if (!sqlite3_get_autocommit(ss->db))
        sqlite3_exec(ss->db, "ROLLBACK", NULL, NULL, NULL);
}

void sqi_memo_clear(struct name_memo *m)
{
    free(m->ptr);
    m->ptr = NULL;
    m->len = 0;
    m->kid = -1;
}

/* Forget per-transaction memory (a rollback may have undone it). */
void sqi_forget(struct sqlite_sink *ss)
{
    sqi_bulk_discard(ss);
    sqi_kc_clear(ss);
    sqi_smeta_forget(ss);
    sqi_lb_forget(ss);
    ss->tail_kid = -1;
    sqi_memo_clear(&ss->group);
    sqi_memo_clear(&ss->consumer);
}

int sq_begin(struct sink *s)
{
    struct sqlite_sink *ss = SS(s);

    if (sqi_stuck(ss))
        return -1;
    if (ss->mode != MODE_IDLE)
        return rs_fail(&s->err, RS_E_SQL, "cannot begin in '%s': a %s is open", ss->path,
                       ss->mode == MODE_LOAD ? "full sync" : "transaction");
    if (sqi_txn_begin(ss))
        return -1;
    if (sqi_outbox_begin(ss)) {
        sqi_txn_rollback(ss);
        return -1;
    }
    ss->mode = MODE_STREAM;
    return 0;
}

int sq_commit(struct sink *s, const struct repl_pos *pos, const struct sink_stats *stats)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int rc = 0;

    if (sqi_stuck(ss))
        return -1;
    if (ss->mode != MODE_STREAM)
        return rs_fail(&s->err, RS_E_SQL, "cannot commit in '%s': no transaction is open",
                       ss->path);
    /* the buffered rows, then the stream metadata and list heads the
     * caches hold, go in the same transaction; the rows first, so that
     * the outbox has their keys */
    if (sqi_bulk_flush(ss) || sqi_smeta_sync(ss) || sqi_lb_sync(ss) ||
        sqi_outbox_commit(ss, pos) ||
        (st = sqi_stmt(ss, ST_CKPT_SET)) == NULL)
        return -1;
    rc |= sqlite3_bind_text(st, 1, pos->replid, -1, SQLITE_STATIC);
    rc |= sqlite3_bind_int64(st, 2, pos->offset);
    rc |= sqlite3_bind_int(st, 3, pos->db);
    if (stats) {
        /* The applier does not load keys: 0 keeps the last full sync's count. */
        if (stats->keys_loaded > 0)
            rc |= sqlite3_bind_int64(st, 4, stats->keys_loaded);
        rc |= sqlite3_bind_int64(st, 5, stats->commands_applied);
        rc |= sqlite3_bind_int64(st, 6, stats->unknown_commands);
    }
    rc |= sqlite3_bind_int64(st, 7, rs_now_ms());
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store the checkpoint");
    if (sqi_run(ss, st, "store the checkpoint") || sqi_txn_commit(ss))
        return -1;
    ss->mode = MODE_IDLE;
    return 0;
}

/* Undo the open transaction and clear the sticky error: the sink is
 * usable again, at its last commit. During a full sync: load_abort. */
int sq_rollback(struct sink *s)
{
    struct sqlite_sink *ss = SS(s);

    if (ss->mode == MODE_LOAD)
        return sq_load_abort(s);
    sqi_outbox_end(ss);
    if (!sqlite3_get_autocommit(ss->db) &&
        sqlite3_exec(ss->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "roll back");
    ss->mode = MODE_IDLE;
    sqi_forget(ss);
    sqi_err_clear(ss);
    return 0;
}

int sq_read_checkpoint(struct sink *s, struct repl_pos *pos)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    const unsigned char *id;
    int r;

    if (sqi_stuck(ss) || (st = sqi_stmt(ss, ST_CKPT_GET)) == NULL)
        return -1;
    pos->replid[0] = '\0';
    pos->offset = -1;
    pos->db = 0;
    if ((r = sqi_row(ss, st, "read the checkpoint")) <= 0)
        return r;
    if ((id = sqlite3_column_text(st, 0)) != NULL)
        snprintf(pos->replid, sizeof(pos->replid), "%s", (const char *)id);
    pos->offset = sqlite3_column_int64(st, 1);
    pos->db = sqlite3_column_int(st, 2);
    sqi_stmt_done(st);
    return 0;
}
