/*
 * sqlite_outbox.c - the PostgreSQL downstream's outbox (sinks/shipper.h,
 * doc/postgres.md): once enabled, every stream transaction records the
 * row changes it made to the tables behind the contract's views, as one
 * changeset of SQLite's session extension, in redsink_outbox, in the same
 * transaction as the data and the checkpoint. So the outbox holds exactly
 * what was committed, in commit order, and a crash loses neither.
 *
 * A session is opened at begin and turned into the changeset at commit
 * (the session extension has no "reset": one session per transaction).
 * The rows the shipper holds in PostgreSQL are deleted at the next
 * commit, by this connection, so the shipper never writes the file. Past
 * 'max_bytes' of changesets every row is deleted: the shipper finds a gap
 * in seq and copies the whole mirror again, as a Redis master falls back
 * to a full sync when its backlog is exceeded.
 *
 * Full syncs are not recorded: they make a new generation, which the
 * shipper copies whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

#define OUTBOX_DDL                                                                  \
    "CREATE TABLE IF NOT EXISTS redsink_outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT," \
    " gen INTEGER NOT NULL, replid TEXT NOT NULL, offset INTEGER NOT NULL,"          \
    " at INTEGER NOT NULL, changeset BLOB NOT NULL)"

/* The generation tables the views read, hence the ones PostgreSQL gets. */
static const char *const shipped_tables[] = {
    "keys", "hash", "list", "set", "zset", "stream", "array", "big", "bigm", "bign", "phash", NULL
};

struct outbox {
    sqlite3_session *session;    /* open between begin and commit/rollback */
    int64_t max_bytes;           /* <= 0: no limit */
    int64_t bytes;               /* size of the changesets in the table */
    int64_t pruned;              /* rows up to this seq are gone */
    int64_t (*shipped)(void *arg);
    void *arg;
    char prefix[32];             /* "g<target>_" while the session is open */
};

/* The session's table filter: the target generation's shipped tables. */
static int outbox_filter(void *arg, const char *table)
{
    struct outbox *ob = arg;
    size_t n = strlen(ob->prefix);

    if (strncmp(table, ob->prefix, n) != 0)
        return 0;
    for (int i = 0; shipped_tables[i]; i++)
        if (strcmp(table + n, shipped_tables[i]) == 0)
            return 1;
    return 0;
}

int sq_outbox_enable(struct sink *s, int64_t max_bytes, int64_t (*shipped)(void *arg),
                     void *arg)
{
    struct sqlite_sink *ss = SS(s);
    struct outbox *ob;

    if (sqi_stuck(ss))
        return -1;
    if (ss->mode != MODE_IDLE)
        return rs_fail(&s->err, RS_E_SQL, "cannot enable the outbox in '%s': a %s is open",
                       ss->path, ss->mode == MODE_LOAD ? "full sync" : "transaction");
    if (sqlite3_exec(ss->db, OUTBOX_DDL, NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "create redsink_outbox");
    if ((ob = ss->outbox) == NULL && (ob = calloc(1, sizeof(*ob))) == NULL)
        return rs_fail(&s->err, RS_E_NOMEM, "cannot enable the outbox: out of memory");
    ss->outbox = ob;
    ob->max_bytes = max_bytes;
    ob->shipped = shipped;
    ob->arg = arg;
    ob->bytes = sqi_query_int(ss, "SELECT CAST(total(length(changeset)) AS INTEGER)"
                              " FROM redsink_outbox", 0);
    ob->pruned = 0;
    return 0;
}

/* Open the transaction's session (begin). */
int sqi_outbox_begin(struct sqlite_sink *ss)
{
    struct outbox *ob = ss->outbox;

    if (ob == NULL)
        return 0;
    snprintf(ob->prefix, sizeof(ob->prefix), "g%lld_", (long long)ss->target);
    if (sqlite3session_create(ss->db, "main", &ob->session) != SQLITE_OK) {
        ob->session = NULL;
        return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot record changes for PostgreSQL in "
                       "'%s': %s", ss->path, sqlite3_errmsg(ss->db));
    }
    sqlite3session_table_filter(ob->session, outbox_filter, ob);
    if (sqlite3session_attach(ob->session, NULL) != SQLITE_OK) {
        sqi_outbox_end(ss);
        return sqi_sql_fail(ss, "record changes for PostgreSQL");
    }
    return 0;
}

/* Drop the session (after commit, or with a rollback). */
void sqi_outbox_end(struct sqlite_sink *ss)
{
    if (ss->outbox && ss->outbox->session) {
        sqlite3session_delete(ss->outbox->session);
        ss->outbox->session = NULL;
    }
}

static int outbox_insert(struct sqlite_sink *ss, const struct repl_pos *pos, const void *cs,
                         int n)
{
    sqlite3_stmt *st = sqi_xstmt(ss, SQI_X_MISC + 30,
                                 "INSERT INTO redsink_outbox(gen, replid, offset, at, changeset)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5)");
    int rc;

    if (st == NULL)
        return -1;
    rc = sqlite3_bind_int64(st, 1, ss->target);
    rc |= sqlite3_bind_text(st, 2, pos->replid, -1, SQLITE_STATIC);
    rc |= sqlite3_bind_int64(st, 3, pos->offset);
    rc |= sqlite3_bind_int64(st, 4, rs_now_ms());
    rc |= sqlite3_bind_blob(st, 5, cs, n, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "record changes for PostgreSQL");
    if (sqi_run(ss, st, "record changes for PostgreSQL"))
        return -1;
    ss->outbox->bytes += n;
    return 0;
}

/* Delete what PostgreSQL holds; everything when over the limit. */
static int outbox_prune(struct sqlite_sink *ss)
{
    struct outbox *ob = ss->outbox;
    int64_t upto = ob->shipped ? ob->shipped(ob->arg) : 0;
    char sql[160];

    if (ob->max_bytes > 0 && ob->bytes > ob->max_bytes) {
        if (sqlite3_exec(ss->db, "DELETE FROM redsink_outbox", NULL, NULL, NULL) != SQLITE_OK)
            return sqi_sql_fail(ss, "drop the outbox");
        if (ss->base.on_event) {
            struct sink_event ev = { .kind = SINK_EV_OUTBOX_DROPPED, .target = ss->path,
                                     .bytes = ob->bytes };
            ss->base.on_event(ss->base.event_ud, &ev);
        }
        ob->bytes = 0;
        return 0;
    }
    if (upto <= ob->pruned)
        return 0;
    snprintf(sql, sizeof(sql), "SELECT CAST(total(length(changeset)) AS INTEGER) FROM"
             " redsink_outbox WHERE seq <= %lld", (long long)upto);
    ob->bytes -= sqi_query_int(ss, sql, 0);
    snprintf(sql, sizeof(sql), "DELETE FROM redsink_outbox WHERE seq <= %lld", (long long)upto);
    if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "prune the outbox");
    ob->pruned = upto;
    if (ob->bytes < 0)
        ob->bytes = 0;
    return 0;
}

/* Commit: the changeset of the transaction into the outbox, the session
 * dropped, the shipped rows pruned. Runs inside the transaction. */
int sqi_outbox_commit(struct sqlite_sink *ss, const struct repl_pos *pos)
{
    struct outbox *ob = ss->outbox;
    void *cs = NULL;
    int n = 0, rc = 0;

    if (ob == NULL || ob->session == NULL)
        return 0;
    if (sqlite3session_changeset(ob->session, &n, &cs) != SQLITE_OK) {
        sqi_outbox_end(ss);
        return sqi_sql_fail(ss, "record changes for PostgreSQL");
    }
    /* the outbox's own rows must not be recorded: the filter keeps them out */
    sqi_outbox_end(ss);
    if (n > 0)
        rc = outbox_insert(ss, pos, cs, n);
    sqlite3_free(cs);
    return rc ? rc : outbox_prune(ss);
}

void sqi_outbox_free(struct sqlite_sink *ss)
{
    sqi_outbox_end(ss);
    free(ss->outbox);
    ss->outbox = NULL;
}
