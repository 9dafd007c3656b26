/*
 * sqlite_outbox.c - the PostgreSQL downstream's outbox (sinks/shipper.h,
 * doc/postgres.md): once enabled, every stream transaction records the
 * primary keys of the rows it changed in the tables behind the
 * contract's views, packed (sinks/outbox_pk.h) into a row of
 * redsink_outbox (several for a big one), in the same transaction as the data and the
 * checkpoint. So the outbox says which rows each committed transaction
 * touched, in commit order, and a crash loses neither; the shipper reads
 * the rows themselves from a snapshot.
 *
 * The keys come from our own pre-update hook, which SQLite calls for
 * every row any statement inserts, updates or deletes (triggers, list
 * renumbering, whole-key deletes and BLOB I/O on big values included),
 * so no write path of the sink has to report anything. For a rowid table
 * (keys, big, bigm, bign) the hook is handed the rowid; for the WITHOUT ROWID
 * tables it reads the key columns of the old and the new row. A set
 * drops repeats. Nothing else is read: the session extension that did
 * this before read every changed row again at commit and saved its old
 * values, about 10,000 instructions a command (doc/postgres.md).
 *
 * The rows the shipper holds in PostgreSQL are deleted at the next
 * commit, by this connection, so the shipper never writes the file. Past
 * 'max_bytes' of key lists every row is deleted: the shipper finds a gap
 * in seq and copies the whole mirror again, as a Redis master falls back
 * to a full sync when its backlog is exceeded.
 *
 * A transaction's keys are held in memory up to SPILL_BYTES, then appended
 * to a temporary file (the spill: in $TMPDIR if set, else next to the
 * database, unlinked) and the set starts again: a DEL of a
 * hash of a million fields records a million keys, which held in one
 * set cost 130 MB (bench: redsink's peak RSS 52 -> 183 MB). At commit each
 * spilled part becomes a row of its own, with the transaction's offset
 * (the shipper ships up to a snapshot, always a transaction boundary, so
 * a transaction may have several rows); a key in two parts is shipped
 * twice from the same snapshot, which changes nothing. When the keys
 * cannot be recorded (out of memory, no temporary file) the transaction
 * commits all the same, and the outbox is dropped as past its limit.
 *
 * Full syncs are not recorded: they make a new generation, which the
 * shipper copies whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sqlite_int.h"
#include "outbox_pk.h"

#define OUTBOX_DDL                                                                  \
    "CREATE TABLE IF NOT EXISTS redsink_outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT," \
    " gen INTEGER NOT NULL, replid TEXT NOT NULL, offset INTEGER NOT NULL,"          \
    " at INTEGER NOT NULL, pks BLOB NOT NULL)"
/* An outbox of an earlier redsink held changesets: its rows go (the
 * shipper copies the mirror again: a gap), seq goes on. */
#define OUTBOX_UPGRADE                                                              \
    "DELETE FROM redsink_outbox; ALTER TABLE redsink_outbox RENAME COLUMN changeset TO pks"
#define SPILL_BYTES (1 << 20)    /* a transaction's key list held in memory */

enum { OB_OK, OB_NOMEM, OB_SPILL };    /* outbox.failed */

struct outbox {
    struct pk_set keys;          /* the open transaction's keys */
    int on;                      /* recording: between begin and commit/rollback */
    int failed;                  /* OB_NOMEM, OB_SPILL (errno in spill_errno) */
    int spill_errno;
    char dir[4096];              /* the database's directory */
    FILE *spill;                 /* parts of the open transaction's list */
    int64_t spilled;             /* bytes in it: per part, 4 of length, the list */
    char prefix[32];             /* "g<target>_" */
    size_t plen;
    int64_t max_bytes;           /* <= 0: no limit */
    int64_t bytes;               /* size of the key lists in the table */
    int64_t pruned;              /* rows up to this seq are gone */
    int64_t (*shipped)(void *arg);
    void *arg;
};

/* The key columns of the old (or new) row of a WITHOUT ROWID table. */
static int put_cols(sqlite3 *db, struct outbox *ob, int t, int old)
{
    sqlite3_value *v;

    if (pk_set_begin(&ob->keys, t))
        return -1;
    for (int c = 0; c < outbox_tables[t].npk; c++) {
        if ((old ? sqlite3_preupdate_old(db, c, &v) : sqlite3_preupdate_new(db, c, &v))
            != SQLITE_OK)
            return -1;
        switch (sqlite3_value_type(v)) {
        case SQLITE_INTEGER:
            if (pk_set_put_int(&ob->keys, sqlite3_value_int64(v)))
                return -1;
            break;
        case SQLITE_TEXT:
            if (pk_set_put_bytes(&ob->keys, 1, sqlite3_value_text(v), sqlite3_value_bytes(v)))
                return -1;
            break;
        default:               /* BLOB (a NULL or REAL key column does not occur) */
            if (pk_set_put_bytes(&ob->keys, 0, sqlite3_value_blob(v), sqlite3_value_bytes(v)))
                return -1;
        }
    }
    return pk_set_end(&ob->keys) < 0 ? -1 : 0;
}

static int put_rowid(struct outbox *ob, int t, sqlite3_int64 id)
{
    return pk_set_begin(&ob->keys, t) || pk_set_put_int(&ob->keys, id) ||
           pk_set_end(&ob->keys) < 0 ? -1 : 0;
}

/* Where the spill file goes: $TMPDIR when set, else the database's
 * directory, as the link's spool (a tmpfs /tmp would hold it in memory). */
static const char *spill_dir(const struct outbox *ob)
{
    const char *dir = getenv("TMPDIR");

    return dir && *dir ? dir : ob->dir;
}

/* The spill file, unlinked at once. */
static FILE *spill_open(const struct outbox *ob)
{
    char path[4200];
    FILE *f;
    int fd;

    snprintf(path, sizeof(path), "%s/redsink-outbox.XXXXXX", spill_dir(ob));
    if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
        return NULL;
    unlink(path);
    if ((f = fdopen(fd, "w+b")) == NULL)
        close(fd);
    return f;
}

/* The set's list to the spill file as one part; the set starts again. */
static void spill(struct outbox *ob)
{
    uint32_t n = (uint32_t)ob->keys.len;

    if ((ob->spill == NULL && (ob->spill = spill_open(ob)) == NULL) ||
        fwrite(&n, sizeof(n), 1, ob->spill) != 1 ||
        fwrite(ob->keys.buf, 1, n, ob->spill) != n) {
        ob->failed = OB_SPILL;
        ob->spill_errno = errno;
        pk_set_clear(&ob->keys);       /* nothing more is recorded */
        return;
    }
    ob->spilled += (int64_t)(sizeof(n) + n);
    pk_set_clear(&ob->keys);
}

/* Empty the spill file for the next transaction. */
static void spill_reset(struct outbox *ob)
{
    if (ob->spill && ob->spilled > 0) {
        rewind(ob->spill);
        if (ftruncate(fileno(ob->spill), 0) != 0)
            ob->failed = OB_SPILL;   /* its next write starts at 0 all the same */
    }
    ob->spilled = 0;
}

static void outbox_hook(void *arg, sqlite3 *db, int op, const char *zdb, const char *table,
                        sqlite3_int64 k1, sqlite3_int64 k2)
{
    struct outbox *ob = arg;
    int t, rc = 0;

    if (!ob->on || ob->failed || zdb[0] != 'm' ||
        (t = outbox_table_id(table, ob->prefix, ob->plen)) < 0)
        return;
    if (outbox_tables[t].rowid) {
        /* a BLOB write comes as a DELETE of rowid k1 */
        if (op != SQLITE_INSERT)
            rc = put_rowid(ob, t, k1);
        if (op == SQLITE_INSERT || (op == SQLITE_UPDATE && k2 != k1))
            rc |= put_rowid(ob, t, k2);
    } else {
        if (op != SQLITE_INSERT)
            rc = put_cols(db, ob, t, 1);
        if (op != SQLITE_DELETE)
            rc |= put_cols(db, ob, t, 0);
    }
    if (rc) {
        ob->failed = OB_NOMEM;
        pk_set_release(&ob->keys);     /* nothing more is recorded */
    } else if (ob->keys.len >= SPILL_BYTES)
        spill(ob);
}

int sq_outbox_enable(struct sink *s, int64_t max_bytes, int64_t (*shipped)(void *arg),
                     void *arg)
{
    struct sqlite_sink *ss = SS(s);
    struct outbox *ob;
    char *slash;

    if (sqi_stuck(ss))
        return -1;
    if (ss->mode != MODE_IDLE)
        return rs_fail(&s->err, RS_E_SQL, "cannot enable the outbox in '%s': a %s is open",
                       ss->path, ss->mode == MODE_LOAD ? "full sync" : "transaction");
    if (sqlite3_compileoption_used("ENABLE_PREUPDATE_HOOK") == 0)
        return rs_fail(&s->err, RS_E_SQL, "cannot record changes for PostgreSQL in '%s':"
                       " this SQLite library was built without SQLITE_ENABLE_PREUPDATE_HOOK",
                       ss->path);
    if (sqlite3_exec(ss->db, OUTBOX_DDL, NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "create redsink_outbox");
    if (sqi_query_int(ss, "SELECT count(*) FROM pragma_table_info('redsink_outbox')"
                      " WHERE name = 'changeset'", 0) > 0 &&
        sqlite3_exec(ss->db, OUTBOX_UPGRADE, NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "upgrade redsink_outbox");
    if ((ob = ss->outbox) == NULL && (ob = calloc(1, sizeof(*ob))) == NULL)
        return rs_fail(&s->err, RS_E_NOMEM, "cannot enable the outbox: out of memory");
    ss->outbox = ob;
    snprintf(ob->dir, sizeof(ob->dir), "%s", ss->path);
    if ((slash = strrchr(ob->dir, '/')) == NULL)
        snprintf(ob->dir, sizeof(ob->dir), ".");
    else if (slash == ob->dir)
        slash[1] = '\0';               /* "/m.db": the root */
    else
        *slash = '\0';
    ob->max_bytes = max_bytes;
    ob->shipped = shipped;
    ob->arg = arg;
    ob->bytes = sqi_query_int(ss, "SELECT CAST(total(length(pks)) AS INTEGER)"
                              " FROM redsink_outbox", 0);
    ob->pruned = 0;
    /* installed for good: a DELETE without WHERE prepared without a hook
     * would empty its table without calling it */
    sqlite3_preupdate_hook(ss->db, outbox_hook, ob);
    sqi_stmts_drop(ss);
    return 0;
}

/* Start recording (begin). */
int sqi_outbox_begin(struct sqlite_sink *ss)
{
    struct outbox *ob = ss->outbox;

    if (ob == NULL)
        return 0;
    ob->plen = (size_t)snprintf(ob->prefix, sizeof(ob->prefix), "g%lld_", (long long)ss->target);
    pk_set_clear(&ob->keys);
    ob->failed = OB_OK;
    spill_reset(ob);             /* what a rolled-back transaction spilled */
    ob->on = 1;
    return 0;
}

/* Stop recording (after commit, or with a rollback). */
void sqi_outbox_end(struct sqlite_sink *ss)
{
    if (ss->outbox)
        ss->outbox->on = 0;
}

static int outbox_insert(struct sqlite_sink *ss, const struct repl_pos *pos, const void *p,
                         size_t n)
{
    sqlite3_stmt *st = sqi_xstmt(ss, SQI_X_MISC + 30,
                                 "INSERT INTO redsink_outbox(gen, replid, offset, at, pks)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5)");
    int rc;

    if (st == NULL)
        return -1;
    rc = sqlite3_bind_int64(st, 1, ss->target);
    rc |= sqlite3_bind_text(st, 2, pos->replid, -1, SQLITE_STATIC);
    rc |= sqlite3_bind_int64(st, 3, pos->offset);
    rc |= sqlite3_bind_int64(st, 4, rs_now_ms());
    rc |= sqlite3_bind_blob64(st, 5, p, n, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "record changes for PostgreSQL");
    if (sqi_run(ss, st, "record changes for PostgreSQL"))
        return -1;
    ss->outbox->bytes += (int64_t)n;
    return 0;
}

/* Every row goes, and a seq is used up with them, so that the shipper
 * finds a gap and copies the whole mirror to PostgreSQL again: past the
 * size limit, or when a transaction's keys cannot be recorded ('why'). */
static int outbox_drop(struct sqlite_sink *ss, const char *why)
{
    struct outbox *ob = ss->outbox;

    if (sqlite3_exec(ss->db, "DELETE FROM redsink_outbox; INSERT INTO redsink_outbox(gen, replid,"
                     " offset, at, pks) VALUES (0, '', 0, 0, x''); DELETE FROM redsink_outbox",
                     NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "drop the outbox");
    if (ss->base.on_event) {
        struct sink_event ev = { .kind = SINK_EV_OUTBOX_DROPPED, .target = ss->path,
                                 .bytes = ob->bytes, .why = why };

        ss->base.on_event(ss->base.event_ud, &ev);
    }
    ob->bytes = 0;
    return 0;
}

/* Delete what PostgreSQL holds; everything when over the limit. */
static int outbox_prune(struct sqlite_sink *ss)
{
    struct outbox *ob = ss->outbox;
    int64_t upto = ob->shipped ? ob->shipped(ob->arg) : 0;
    char sql[160];

    if (ob->max_bytes > 0 && ob->bytes > ob->max_bytes)
        return outbox_drop(ss, NULL);
    if (upto <= ob->pruned)
        return 0;
    snprintf(sql, sizeof(sql), "SELECT CAST(total(length(pks)) AS INTEGER) FROM"
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

/* The spilled parts, a row each: 0, or -1 (a read failed, or an insert
 * with its error set). */
static int unspill(struct sqlite_sink *ss, const struct repl_pos *pos)
{
    struct outbox *ob = ss->outbox;
    unsigned char *buf = NULL;
    size_t cap = 0;
    int64_t at = 0;
    uint32_t n;

    if (fflush(ob->spill) != 0)
        return -1;
    rewind(ob->spill);
    while (at < ob->spilled && fread(&n, sizeof(n), 1, ob->spill) == 1) {
        if (n > cap) {
            unsigned char *p = realloc(buf, n);

            if (p == NULL)
                break;
            buf = p;
            cap = n;
        }
        if (fread(buf, 1, n, ob->spill) != n || outbox_insert(ss, pos, buf, n) != 0)
            break;
        at += (int64_t)(sizeof(n) + n);
    }
    free(buf);
    return at == ob->spilled ? 0 : -1;
}

/* Commit: the transaction's keys into the outbox, the shipped rows
 * pruned. Runs inside the transaction. A transaction whose keys cannot be
 * recorded commits all the same, the outbox dropped (PostgreSQL never
 * stops the mirror), unless the sink itself failed (disk full...). */
int sqi_outbox_commit(struct sqlite_sink *ss, const struct repl_pos *pos)
{
    struct outbox *ob = ss->outbox;
    char why[4400] = "";

    if (ob == NULL || !ob->on)
        return 0;
    ob->on = 0;                  /* the outbox's own rows are not recorded */
    if (ob->failed == OB_NOMEM)
        snprintf(why, sizeof(why), "out of memory");
    else if (ob->failed == OB_SPILL)
        snprintf(why, sizeof(why), "cannot write a temporary file in %s: %s", spill_dir(ob),
                 strerror(ob->spill_errno ? ob->spill_errno : EIO));
    else if (ob->spilled > 0 && unspill(ss, pos) != 0)
        snprintf(why, sizeof(why), "cannot read back a temporary file");
    spill_reset(ob);
    if (why[0]) {
        if (ss->fatal)
            return -1;
        sqi_err_clear(ss);       /* an insert's error: the outbox goes instead */
        pk_set_clear(&ob->keys);
        return outbox_drop(ss, why);
    }
    if (ob->keys.len > 0 && outbox_insert(ss, pos, ob->keys.buf, ob->keys.len) != 0)
        return -1;
    return outbox_prune(ss);
}

void sqi_outbox_free(struct sqlite_sink *ss)
{
    /* called after the connection is closed: the hook went with it */
    if (ss->outbox == NULL)
        return;
    pk_set_release(&ss->outbox->keys);
    if (ss->outbox->spill)
        fclose(ss->outbox->spill);
    free(ss->outbox);
    ss->outbox = NULL;
}
