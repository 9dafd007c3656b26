/*
 * sqlite_load.c - the full sync: a new generation built beside the live
 * one in batch commits, the members of big keys staged and sorted, and
 * the swap that makes it live with its checkpoint.
 */
#include <stdio.h>

#include "sqlite_int.h"

/* A full sync commits its half-built generation every this many rows, so
 * the WAL can be checkpointed and reused instead of growing to the size
 * of the whole dataset. */
#define LOAD_BATCH_ROWS 200000

/* Store the load's progress and commit the batch, so the WAL can be
 * checkpointed and reused; the half-built generation is still invisible. */
int sqi_load_batch_commit(struct sqlite_sink *ss)
{
    sqlite3_stmt *st;

    if (sqi_bulk_flush(ss) || (st = sqi_stmt(ss, ST_PROGRESS)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, ss->load_keys) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, rs_now_ms()) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store the load progress");
    if (sqi_run(ss, st, "store the load progress") || sqi_txn_commit(ss) || sqi_txn_begin(ss))
        return -1;
    ss->load_rows = 0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Big keys during a full sync                                        */
/* ------------------------------------------------------------------ */

/*
 * A key's members arrive in Redis' hash order. For a small key that costs
 * nothing (its rows share a few pages), but the members of a key of
 * millions are millions of inserts at random places in a B-tree far larger
 * than the page cache: 121 s for one 10M-member sorted set, against 12.9 s
 * for a Redis replica (bench/suite.py, bigzset-10M). So from its
 * STAGE_AFTER-th member on, the rest of a hash, set or sorted set goes to
 * a TEMP heap table (appends, outside the WAL), and when the key ends it
 * is copied over sorted by member: appends again, with one sort in between
 * that SQLite spills to a temporary file (temp_store = FILE), not memory.
 */
#define STAGE_AFTER 50000

/* Per staged child: the heap, its insert (the child's insert without
 * kid), the move into the generation sorted by member, and the clear.
 * The move is OR IGNORE, which needs no statement journal (see the bulk
 * rows in sqlite_bulk.c); an RDB holds each field or member of a key once. */
static const struct {
    enum child child;
    const char *ddl, *insert, *move, *clear;
} stage_sql[] = {
    { C_HASH,
      "CREATE TEMP TABLE IF NOT EXISTS stage_hash(field TEXT, value TEXT, expire_at INTEGER)",
      "INSERT INTO temp.stage_hash VALUES (?1, ?2, ?3)",
      "INSERT OR IGNORE INTO @hash(kid, field, value, expire_at)"
      " SELECT ?1, field, value, expire_at FROM temp.stage_hash ORDER BY field",
      "DELETE FROM temp.stage_hash" },
    { C_SET,
      "CREATE TEMP TABLE IF NOT EXISTS stage_set(member TEXT)",
      "INSERT INTO temp.stage_set VALUES (?1)",
      "INSERT OR IGNORE INTO @set(kid, member)"
      " SELECT ?1, member FROM temp.stage_set ORDER BY member",
      "DELETE FROM temp.stage_set" },
    { C_ZSET,
      "CREATE TEMP TABLE IF NOT EXISTS stage_zset(member TEXT, score REAL)",
      "INSERT INTO temp.stage_zset VALUES (?1, ?2)",
      "INSERT OR IGNORE INTO @zset(kid, member, score)"
      " SELECT ?1, member, score FROM temp.stage_zset ORDER BY member",
      "DELETE FROM temp.stage_zset" },
};
#define STAGE_SLOT(i, n) (SQI_X_MISC + 8 + 3 * (i) + (n))   /* n: 0 insert, 1 move, 2 clear */

static int stage_index(enum child c)
{
    for (int i = 0; i < (int)(sizeof(stage_sql) / sizeof(stage_sql[0])); i++)
        if (stage_sql[i].child == c)
            return i;
    return -1;
}

/* Move the staged rows of the current big key into the generation. */
int sqi_stage_flush(struct sqlite_sink *ss)
{
    int i = ss->stage_index;
    sqlite3_stmt *st;

    if (!ss->staged)
        return 0;
    ss->staged = 0;
    st = sqi_xstmt(ss, STAGE_SLOT(i, 1), stage_sql[i].move);
    if (sqi_run_kid(ss, st, ss->stage_kid, "store a big key"))
        return -1;
    st = sqi_xstmt(ss, STAGE_SLOT(i, 2), stage_sql[i].clear);
    return st == NULL ? -1 : sqi_run(ss, st, "store a big key");
}

int sqi_stage_row(struct sqlite_sink *ss, enum child c, int64_t kid, const struct rs_bytes *a,
                  const struct rs_bytes *b, double score, int64_t expire_ms, int *staged)
{
    sqlite3_stmt *st;
    int i, rc = 0;

    *staged = 0;
    if (ss->mode != MODE_LOAD)
        return 0;
    if (kid != ss->stage_kid) {
        if (sqi_stage_flush(ss))
            return -1;
        ss->stage_kid = kid;
        ss->stage_rows = 0;
    }
    if (++ss->stage_rows <= STAGE_AFTER || (i = stage_index(c)) < 0)
        return 0;
    if (!ss->staged) {
        if (sqlite3_exec(ss->db, stage_sql[i].ddl, NULL, NULL, NULL) != SQLITE_OK)
            return sqi_sql_fail(ss, "create a staging table");
        ss->stage_index = i;
        ss->staged = 1;
    }
    if ((st = sqi_xstmt(ss, STAGE_SLOT(i, 0), stage_sql[i].insert)) == NULL)
        return -1;
    rc |= sqi_bind_bytes(st, 1, a);
    if (c == C_HASH) {
        rc |= sqi_bind_bytes(st, 2, b);
        rc |= sqi_bind_time(st, 3, expire_ms);
    } else if (c == C_ZSET) {
        rc |= sqlite3_bind_double(st, 2, score);
    }
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "stage a member of a big key");
    if (sqi_run(ss, st, "stage a member of a big key"))
        return -1;
    *staged = 1;
    return sqi_load_tick(ss);
}

/* Forget staging (a load ends or is abandoned; the TEMP tables are the
 * connection's own and are emptied before the next use). */
static void stage_reset(struct sqlite_sink *ss)
{
    if (ss->staged) {
        for (size_t i = 0; i < sizeof(stage_sql) / sizeof(stage_sql[0]); i++)
            sqlite3_exec(ss->db, stage_sql[i].clear, NULL, NULL, NULL);
    }
    ss->staged = 0;
    ss->stage_kid = -1;
    ss->stage_rows = 0;
}

/* ------------------------------------------------------------------ */
/* full sync                                                          */
/* ------------------------------------------------------------------ */

/* Count one row written; commit the batch when it is big enough. */
int sqi_load_tick(struct sqlite_sink *ss)
{
    if (ss->mode != MODE_LOAD || ++ss->load_rows < LOAD_BATCH_ROWS)
        return 0;
    return sqi_load_batch_commit(ss);
}

int sq_load_begin(struct sink *s)
{
    struct sqlite_sink *ss = SS(s);

    if (sqi_stuck(ss))
        return -1;
    if (ss->mode != MODE_IDLE)
        return rs_fail(&s->err, RS_E_SQL, "cannot start a full sync in '%s': a %s is open",
                       ss->path, ss->mode == MODE_LOAD ? "full sync" : "transaction");
    sqi_stmts_drop(ss);
    ss->target = ss->gen + 1;
    if (sqi_txn_begin(ss))
        goto fail;
    if (sqi_drop_generation(ss, ss->target) ||
        sqi_exec_gen(ss, sqi_gen_ddl, ss->target, "create the tables of a new generation"))
        goto fail;
    ss->mode = MODE_LOAD;
    ss->load_keys = 0;
    ss->load_rows = 0;
    stage_reset(ss);
    ss->load_id = 0;
    sqi_forget(ss);
    sqi_kf_reset(ss, 0);        /* filled by the load's key_create calls */
    return 0;
fail:
    sqi_txn_rollback(ss);
    sqi_stmts_drop(ss);
    ss->target = ss->gen;
    return -1;
}

/* One transaction: views onto the new generation plus its checkpoint. */
static int load_swap(struct sqlite_sink *ss, const struct repl_pos *pos)
{
    sqlite3_stmt *st;
    char sql[128];
    int rc = 0;

    if (sqi_txn_begin(ss) || sqi_views_create(ss, ss->target, "switch the views"))
        return -1;
    snprintf(sql, sizeof(sql), "UPDATE redsink_status SET generation = %lld",
             (long long)ss->target);
    if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "switch the views");
    if ((st = sqi_stmt(ss, ST_CKPT_SET)) == NULL)
        return -1;
    rc |= sqlite3_bind_text(st, 1, pos->replid, -1, SQLITE_STATIC);
    rc |= sqlite3_bind_int64(st, 2, pos->offset);
    rc |= sqlite3_bind_int(st, 3, pos->db);
    rc |= sqlite3_bind_int64(st, 4, ss->load_keys);
    rc |= sqlite3_bind_int64(st, 7, rs_now_ms());
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store the checkpoint");
    if (sqi_run(ss, st, "store the checkpoint"))
        return -1;
    return sqi_txn_commit(ss);
}

/*
 * Index the new generation, swap it in with its checkpoint, then drop the
 * old one (a failure there is harmless: the next open drops leftovers).
 */
int sq_load_commit(struct sink *s, const struct repl_pos *pos)
{
    struct sqlite_sink *ss = SS(s);
    int64_t old = ss->gen;

    if (sqi_stuck(ss))
        return -1;
    if (ss->mode != MODE_LOAD)
        return rs_fail(&s->err, RS_E_SQL, "cannot finish a full sync in '%s': none is open",
                       ss->path);
    if (sqi_stage_flush(ss) || sqi_load_batch_commit(ss) ||
        sqi_exec_gen(ss, sqi_gen_index, ss->target, "index the new mirror") ||
        sqi_txn_commit(ss) ||
        load_swap(ss, pos)) {
        sqi_txn_rollback(ss);
        return -1;
    }
    sqi_stmts_drop(ss);
    ss->gen = ss->target;
    ss->mode = MODE_IDLE;
    sqi_forget(ss);
    ss->kf_armed = 1;           /* it saw every name of the new generation */
    if (sqlite3_exec(ss->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
        if (sqi_drop_generation(ss, old) == 0)
            sqlite3_exec(ss->db, "COMMIT", NULL, NULL, NULL);
        sqi_txn_rollback(ss);
        sqi_err_clear(ss);   /* the new mirror is in; leftovers go at next open */
    }
    /* Copy the WAL into the file now (and sync it), rather than letting
     * the first stream commits pay for it. */
    sqlite3_wal_checkpoint_v2(ss->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return 0;
}

int sq_load_abort(struct sink *s)
{
    struct sqlite_sink *ss = SS(s);
    int64_t doomed = ss->target;

    if (ss->mode != MODE_LOAD)
        return 0;
    sqi_txn_rollback(ss);
    stage_reset(ss);
    sqi_stmts_drop(ss);
    ss->mode = MODE_IDLE;
    ss->target = ss->gen;
    sqi_forget(ss);
    sqi_kf_reset(ss, 0);        /* it holds the aborted generation's names */
    sqi_err_clear(ss);
    if (ss->fatal)
        return -1;    /* the file is gone or full: the next open drops the leftovers */
    /* If this fails, the next open drops the leftovers. */
    if (sqlite3_exec(ss->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "drop the half-built mirror");
    if (sqi_drop_generation(ss, doomed) ||
        sqlite3_exec(ss->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqi_sql_fail(ss, "drop the half-built mirror");
        sqi_txn_rollback(ss);
        return -1;
    }
    return 0;
}
