/*
 * sqlite.c - the SQLite sink's core: keeps the mirror in one SQLite
 * database file that anyone may read while redsink writes (WAL mode).
 *
 * Storage is a set of tables per *generation* ("g3_keys", "g3_hash"...):
 * one row per key in gN_keys (strings inline), elements in children tables
 * clustered by key id. The contract's views (redis_keys, redis_strings...)
 * point at the live generation. A full sync builds generation N+1 beside
 * it, then one transaction repoints the views and writes the checkpoint;
 * readers see the old complete mirror or the new complete one. doc/schema.md
 * describes the layout for users.
 *
 * This file holds open/close, the schema and views, generations, the full
 * sync, transactions and the checkpoint, keys, flushes, the status row,
 * functions and unknown commands, plus the statement helpers of
 * sqlite_int.h. The element ops of each type are in sqlite_string.c,
 * sqlite_hash.c, sqlite_list.c, sqlite_set.c, sqlite_zset.c, sqlite_array.c and
 * sqlite_stream.c; the sqlite_ops vtable at the end ties them together.
 *
 * Left out: Redis semantics (apply.c decides what to store) and logging
 * (errors go to the sticky s->base.err, events to s->base.on_event; the
 * owner logs).
 *
 * Start reading at sq_open(), then the "transactions" and "full
 * sync" banners. Every value is bound as a parameter through
 * sqi_bind_bytes(), so key bytes never reach SQL text and lookups bind
 * exactly as inserts.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink_backend.h"
#include "sqlite_int.h"

#define APP_ID          0x72736e6b   /* 'rsnk' in the file header */
#define SCHEMA_VERSION  1
/* How long a statement waits for a lock held by another process when
 * the owner gave no stop flag (import, tests); with one it waits until
 * the lock goes or a stop is requested. See "faults". */
#define BUSY_MS         5000
/* A lock wait longer than this is reported (SINK_EV_LOCK_WAIT, once per wait). */
#define BUSY_LOG_MS     1000
/* Page cache, in KiB (negative cache_size). The daemon's RSS must stay
 * under 64 MB whatever the dataset size: see doc/schema.md. */
#define CACHE_KIB       16384
/* A full sync commits its half-built generation every this many rows, so
 * the WAL can be checkpointed and reused instead of growing to the size
 * of the whole dataset. */
#define LOAD_BATCH_ROWS 200000
#define STR_(x) #x
#define STR(x) STR_(x)

/* ------------------------------------------------------------------ */
/* statements                                                          */
/* ------------------------------------------------------------------ */

/*
 * Every statement is prepared once and cached. '@' in a template stands
 * for the generation prefix ("g3_") of the tables the ops write to, so the
 * cache is dropped whenever that generation changes. The core's statements
 * (enum stmt_id in sqlite_int.h); the type files keep their own.
 */
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
        " keys_per_sec = ?9, updated_at = ?10",
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
    "array", "ameta"
};
/* Statements every child table has; '%s' is the child's name. */
static const char *const child_sql[CO_COUNT] = {
    [CO_PROBE] = "SELECT 1 FROM @%s WHERE kid = ?1 LIMIT 1",
    [CO_DELETE] = "DELETE FROM @%s WHERE kid = ?1",
    [CO_FLUSH] = "DELETE FROM @%s WHERE kid IN (SELECT id FROM @keys WHERE db = ?1)",
};

/* Redis 8.8's arrays (sqlite_array.c): 'bidx' is the index with its top
 * bit flipped, 'cursor' the ARINSERT/ARRING insert cursor the same way.
 * Added after the first release: a mirror made before gets them with
 * "IF NOT EXISTS" when it is opened. */
#define ARRAY_DDL(ine)                                                            \
    "CREATE TABLE " ine "@array(kid INTEGER NOT NULL, bidx INTEGER NOT NULL,"      \
    " value TEXT NOT NULL, PRIMARY KEY (kid, bidx)) WITHOUT ROWID;"                \
    "CREATE TABLE " ine "@ameta(kid INTEGER PRIMARY KEY, cursor INTEGER NOT NULL);"
static const char array_upgrade_ddl[] = ARRAY_DDL("IF NOT EXISTS ");

/* The tables of one generation. The (key, db) index is created apart:
 * after the bulk load for a new generation, at once for the first one. */
static const char gen_ddl[] =
    "CREATE TABLE @keys(id INTEGER PRIMARY KEY, db INTEGER NOT NULL, key TEXT NOT NULL,"
    " type TEXT NOT NULL, expire_at INTEGER, value TEXT, lhead INTEGER);"
    "CREATE TABLE @hash(kid INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,"
    " expire_at INTEGER, PRIMARY KEY (kid, field)) WITHOUT ROWID;"
    "CREATE TABLE @list(kid INTEGER NOT NULL, pos INTEGER NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (kid, pos)) WITHOUT ROWID;"
    "CREATE TABLE @set(kid INTEGER NOT NULL, member TEXT NOT NULL,"
    " PRIMARY KEY (kid, member)) WITHOUT ROWID;"
    "CREATE TABLE @zset(kid INTEGER NOT NULL, member TEXT NOT NULL, score REAL,"
    " PRIMARY KEY (kid, member)) WITHOUT ROWID;"
    "CREATE TABLE @stream(kid INTEGER NOT NULL, ms INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " pos INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (kid, ms, seq, pos)) WITHOUT ROWID;"
    "CREATE TABLE @smeta(kid INTEGER PRIMARY KEY, length INTEGER, last_ms INTEGER,"
    " last_seq INTEGER, has_v2 INTEGER, first_ms INTEGER, first_seq INTEGER,"
    " maxdel_ms INTEGER, maxdel_seq INTEGER, entries_added INTEGER);"
    "CREATE TABLE @sgroup(kid INTEGER NOT NULL, name TEXT NOT NULL, last_ms INTEGER,"
    " last_seq INTEGER, entries_read INTEGER, PRIMARY KEY (kid, name)) WITHOUT ROWID;"
    "CREATE TABLE @spel(kid INTEGER NOT NULL, grp TEXT NOT NULL, ms INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, consumer TEXT, delivery_time INTEGER, delivery_count INTEGER,"
    " PRIMARY KEY (kid, grp, ms, seq)) WITHOUT ROWID;"
    "CREATE TABLE @scons(kid INTEGER NOT NULL, grp TEXT NOT NULL, name TEXT NOT NULL,"
    " seen_time INTEGER, active_time INTEGER, PRIMARY KEY (kid, grp, name)) WITHOUT ROWID;"
    "CREATE TABLE @func(name TEXT UNIQUE, code TEXT NOT NULL);"
    ARRAY_DDL("");
static const char gen_index[] = "CREATE UNIQUE INDEX @keys_key ON @keys(key, db);";
/* Every table gen_ddl creates, for dropping a generation. */
static const char *const gen_tables[] = {
    "keys", "hash", "list", "set", "zset", "stream", "smeta", "sgroup", "spel", "scons",
    "func", "array", "ameta", NULL
};

#define LIVE(t) "(" t "expire_at IS NULL OR " t "expire_at > " NOW_MS ")"

/* The contract's views (CONTRACT.md §3), on generation '@'. */
static const char views_ddl[] =
    "DROP VIEW IF EXISTS redis_keys; DROP VIEW IF EXISTS redis_strings;"
    "DROP VIEW IF EXISTS redis_hashes; DROP VIEW IF EXISTS redis_lists;"
    "DROP VIEW IF EXISTS redis_sets; DROP VIEW IF EXISTS redis_zsets;"
    "DROP VIEW IF EXISTS redis_streams; DROP VIEW IF EXISTS redis_arrays;"
    "CREATE VIEW redis_keys(db, key, type, expire_at) AS"
    " SELECT db, key, type, expire_at FROM @keys WHERE " LIVE("") ";"
    "CREATE VIEW redis_strings(db, key, value) AS"
    " SELECT db, key, CASE WHEN lhead IS NULL THEN value ELSE CAST(value AS TEXT) END"
    " FROM @keys WHERE type = 'string' AND " LIVE("") ";"
    "CREATE VIEW redis_hashes(db, key, field, value, expire_at) AS"
    " SELECT k.db, k.key, h.field, h.value, h.expire_at FROM @keys AS k"
    " JOIN @hash AS h ON h.kid = k.id WHERE " LIVE("k.") " AND " LIVE("h.") ";"
    "CREATE VIEW redis_lists(db, key, idx, value) AS"
    " SELECT k.db, k.key, l.pos - k.lhead, l.value FROM @keys AS k"
    " JOIN @list AS l ON l.kid = k.id WHERE " LIVE("k.") ";"
    "CREATE VIEW redis_sets(db, key, member) AS"
    " SELECT k.db, k.key, s.member FROM @keys AS k"
    " JOIN @set AS s ON s.kid = k.id WHERE " LIVE("k.") ";"
    "CREATE VIEW redis_zsets(db, key, member, score) AS"
    " SELECT k.db, k.key, z.member, z.score FROM @keys AS k"
    " JOIN @zset AS z ON z.kid = k.id WHERE " LIVE("k.") ";"
    "CREATE VIEW redis_streams(db, key, id, ms, seq, pos, field, value) AS"
    " SELECT k.db, k.key, s.ms || '-' || s.seq, s.ms, s.seq, s.pos, s.field, s.value"
    " FROM @keys AS k JOIN @stream AS s ON s.kid = k.id WHERE " LIVE("k.") ";"
    /* bidx < 0: the index is below 2^63 (an INTEGER); else the decimal
     * text of 2^63 + bidx, computed digit-wise so nothing overflows */
    "CREATE VIEW redis_arrays(db, key, idx, value) AS"
    " SELECT k.db, k.key, CASE WHEN a.bidx < 0 THEN a.bidx + 9223372036854775807 + 1"
    " ELSE (922337203685477580 + a.bidx / 10 + (8 + a.bidx % 10) / 10) ||"
    " ((8 + a.bidx % 10) % 10) END, a.value"
    " FROM @keys AS k JOIN @array AS a ON a.kid = k.id WHERE " LIVE("k.") ";";

/* Tables outside generations: the checkpoint and counters. */
static const char base_ddl[] =
    "CREATE TABLE redsink_status(master_replid TEXT NOT NULL DEFAULT '',"
    " offset INTEGER NOT NULL DEFAULT -1, state TEXT NOT NULL DEFAULT 'new',"
    " updated_at INTEGER, db INTEGER NOT NULL DEFAULT 0, detail TEXT,"
    " generation INTEGER NOT NULL DEFAULT 1, keys_loaded INTEGER NOT NULL DEFAULT 0,"
    " commands_applied INTEGER NOT NULL DEFAULT 0,"
    " unknown_commands INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE redsink_unknown_commands(name TEXT PRIMARY KEY,"
    " count INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO redsink_status(generation, updated_at) VALUES (1, " NOW_MS ");";

/* Status columns added after the first release: a new mirror gets them
 * with ALTER TABLE too, so that a new and an upgraded file are alike. */
static const char *const status_columns[][2] = {
    { "master_host", "TEXT" }, { "master_port", "INTEGER" },
    { "read_offset", "INTEGER" }, { "last_ack_at", "INTEGER" },
    { "lag_bytes", "INTEGER" }, { "lag_ms", "INTEGER" },
    { "bytes_received", "INTEGER" }, { "bytes_total", "INTEGER" },
    { "keys_per_sec", "REAL" },
};

/* ------------------------------------------------------------------ */
/* helpers (sqlite_int.h)                                              */
/* ------------------------------------------------------------------ */

static const struct sink_ops sqlite_ops;

int sqi_sql_fail(struct sqlite_sink *ss, const char *what)
{
    int code = sqlite3_extended_errcode(ss->db);

    if (ss->base.err.code)
        return -1;    /* the first error counts, and only it decides 'fatal' */
    switch (code & 0xff) {
    case SQLITE_FULL:
        ss->fatal = 1;
        return rs_fail(&ss->base.err, RS_E_SQL, "cannot %s in '%s': disk full", what,
                       ss->path);
    case SQLITE_IOERR: case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
        ss->fatal = 1;
        break;
    }
    return rs_fail(&ss->base.err, RS_E_SQL, "cannot %s in '%s': %s", what, ss->path,
                   sqlite3_errmsg(ss->db));
}

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

/* Run a script (several statements) written for generation 'gen'. */
static int exec_gen(struct sqlite_sink *ss, const char *tmpl, int64_t gen, const char *what)
{
    char *sql = sqi_sql_expand(tmpl, gen, NULL);
    int rc;

    if (sql == NULL)
        return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot %s: out of memory", what);
    rc = sqlite3_exec(ss->db, sql, NULL, NULL, NULL);
    free(sql);
    return rc == SQLITE_OK ? 0 : sqi_sql_fail(ss, what);
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

sqlite3_stmt *sqi_stmt(struct sqlite_sink *ss, enum stmt_id id)
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

/* ------------------------------------------------------------------ */
/* bulk rows (full sync)                                               */
/* ------------------------------------------------------------------ */

/*
 * See sqi_bulk_begin in sqlite_int.h. Each table has its own buffer
 * (allocated on its first row), so the rows of small keys of several
 * types still make full statements. n pending rows are sent by the
 * statements of 64, 32 ... 1 rows that add up to n, so a partial buffer
 * costs at most 7 statements. The multi-row statement saves, per row, the
 * cursor open, the seek from the root (the cursor stays on the last leaf)
 * and the halt and reset of a single-row one: 30-50% of the instructions
 * of a collection load. 32 rows gave most of it, 128 little more.
 *
 * Why OR IGNORE (sqi_bulk in sqlite_int.h): a multi-row statement that may
 * abort half-way (NOT NULL or UNIQUE with ABORT, as under an upsert or OR
 * REPLACE) runs in a statement journal, which copies every page it
 * changes; past 64 KiB the journal goes to a temporary file. Loading
 * sorted sets, whose members land on random leaves, then spent more time
 * in pwrite() than the single-row statements took in all.
 */
#define BULK_SIZES 7                        /* statements of 1, 2 ... SQI_BULK_ROWS rows */
#define BULK_ONE   BULK_SIZES               /* the single-row statement */
_Static_assert(SQI_BULK_ROWS == 1 << (BULK_SIZES - 1), "SQI_BULK_ROWS is 2^(BULK_SIZES-1)");

struct bulk_val {
    int type;                  /* SQLITE_NULL, _INTEGER, _FLOAT, _TEXT or _BLOB */
    int64_t i;
    double d;
    size_t off, len;           /* bytes in bytes[] of its buffer */
};

/* The pending rows of one table. */
struct bulk_buf {
    const struct sqi_bulk *t;  /* NULL until its first row */
    int nrows, nvals;
    size_t used;
    struct bulk_val val[SQI_BULK_ROWS * SQI_BULK_COLS];
    char bytes[SQI_BULK_BYTES];
};

struct bulk {
    struct bulk_buf *buf[SQI_BULK_TABLES];
    struct bulk_buf *cur;      /* the buffer of the row being appended */
    int64_t last_kid;          /* the id of the last key row buffered */
    sqlite3_stmt *st[SQI_BULK_TABLES][BULK_SIZES + 1];
};

/* Forget the pending rows and the statements (load end, abort, close). */
static void bulk_drop(struct sqlite_sink *ss)
{
    struct bulk *b = ss->bulk;

    if (b == NULL)
        return;
    for (int t = 0; t < SQI_BULK_TABLES; t++) {
        for (int k = 0; k <= BULK_ONE; k++) {
            sqlite3_finalize(b->st[t][k]);
            b->st[t][k] = NULL;
        }
        free(b->buf[t]);
        b->buf[t] = NULL;
    }
    b->cur = NULL;
}

static void bulk_free(struct sqlite_sink *ss)
{
    bulk_drop(ss);
    free(ss->bulk);
    ss->bulk = NULL;
}

/* The statement inserting 2^k rows of table 't' (OR IGNORE), or for
 * k = BULK_ONE its single-row statement. */
static sqlite3_stmt *bulk_stmt(struct sqlite_sink *ss, const struct sqi_bulk *t, int k)
{
    struct bulk *b = ss->bulk;
    const char *verb = k == BULK_ONE ? t->verb : "OR IGNORE", *tail = k == BULK_ONE ? t->tail : "";
    int rows = k == BULK_ONE ? 1 : 1 << k;
    size_t n = 32 + strlen(verb) + strlen(t->into) + (size_t)rows * (2 + 2 * (size_t)t->ncols) +
               strlen(tail);
    sqlite3_stmt *st;
    char *tmpl, *o;

    if (b->st[t->id][k])
        return b->st[t->id][k];
    /* "INSERT verb INTO into VALUES" "(?,?,?)" "," ... "(?,?,?)" tail */
    if ((tmpl = malloc(n)) == NULL) {
        rs_fail(&ss->base.err, RS_E_NOMEM, "cannot prepare a statement: out of memory");
        return NULL;
    }
    o = tmpl + sprintf(tmpl, "INSERT %s INTO %s VALUES", verb, t->into);
    for (int r = 0; r < rows; r++) {
        *o++ = r ? ',' : '(';
        if (r)
            *o++ = '(';
        for (int c = 0; c < t->ncols; c++) {
            *o++ = '?';
            *o++ = c + 1 < t->ncols ? ',' : ')';
        }
    }
    strcpy(o, tail);
    st = sqi_prepare(ss, &b->st[t->id][k], tmpl, NULL);
    free(tmpl);
    return st;
}

/* Bind 'rows' pending rows of 'bb' from row 'first' to statement k (see
 * bulk_stmt) and run it. */
static int bulk_run(struct sqlite_sink *ss, struct bulk_buf *bb, int first, int rows, int k)
{
    const struct bulk_val *v = bb->val + (size_t)first * bb->t->ncols;
    int n = rows * bb->t->ncols, rc = 0;
    sqlite3_stmt *st = bulk_stmt(ss, bb->t, k);

    if (st == NULL)
        return -1;
    for (int i = 0; i < n; i++, v++) {
        /* v->off is set for TEXT and BLOB values only */
        switch (v->type) {
        case SQLITE_INTEGER: rc |= sqlite3_bind_int64(st, i + 1, v->i); break;
        case SQLITE_FLOAT: rc |= sqlite3_bind_double(st, i + 1, v->d); break;
        case SQLITE_TEXT:
            rc |= sqlite3_bind_text64(st, i + 1, bb->bytes + v->off, v->len, SQLITE_STATIC,
                                      SQLITE_UTF8);
            break;
        case SQLITE_BLOB:
            rc |= sqlite3_bind_blob64(st, i + 1, bb->bytes + v->off, v->len, SQLITE_STATIC);
            break;
        default: rc |= sqlite3_bind_null(st, i + 1); break;
        }
    }
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store the loaded rows");
    return sqi_run(ss, st, "store the loaded rows");
}

/* Send 2^k rows from 'first'; when some were ignored (duplicates), run
 * them all again one by one with the table's own conflict handling. */
static int bulk_send(struct sqlite_sink *ss, struct bulk_buf *bb, int first, int rows, int k)
{
    if (bulk_run(ss, bb, first, rows, k))
        return -1;
    if (sqlite3_changes(ss->db) == rows)
        return 0;
    for (int r = first; r < first + rows; r++)
        if (bulk_run(ss, bb, r, 1, BULK_ONE))
            return -1;
    return 0;
}

/* Send the pending rows of one table. */
static int bulk_flush_buf(struct sqlite_sink *ss, struct bulk_buf *bb)
{
    int first = 0, rc = 0;

    for (int k = BULK_SIZES - 1; k >= 0 && rc == 0; k--)
        for (int rows = 1 << k; rc == 0 && bb->nrows - first >= rows; first += rows)
            rc = bulk_send(ss, bb, first, rows, k);
    bb->nrows = bb->nvals = 0;
    bb->used = 0;
    if (rc == 0 && bb->t->id == SQI_BULK_KEYS &&
        sqlite3_last_insert_rowid(ss->db) != ss->bulk->last_kid)
        return rs_fail(&ss->base.err, RS_E_SQL, "cannot load into '%s': key %lld got id %lld",
                       ss->path, (long long)ss->bulk->last_kid,
                       (long long)sqlite3_last_insert_rowid(ss->db));
    return rc;
}

int sqi_bulk_flush(struct sqlite_sink *ss)
{
    struct bulk *b = ss->bulk;

    if (b == NULL)
        return 0;
    for (int t = 0; t < SQI_BULK_TABLES; t++)
        if (b->buf[t] && b->buf[t]->nrows && bulk_flush_buf(ss, b->buf[t]))
            return -1;
    return 0;
}

int sqi_bulk_begin(struct sqlite_sink *ss, const struct sqi_bulk *t, size_t bytes)
{
    struct bulk *b = ss->bulk;
    struct bulk_buf *bb;

    if (ss->mode != MODE_LOAD)
        return 0;
    if (b == NULL && (b = ss->bulk = calloc(1, sizeof(*b))) == NULL)
        return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot load into '%s': out of memory",
                       ss->path);
    if ((bb = b->buf[t->id]) == NULL) {
        if ((bb = b->buf[t->id] = malloc(sizeof(*bb))) == NULL)
            return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot load into '%s': out of memory",
                           ss->path);
        bb->t = t;
        bb->nrows = bb->nvals = 0;
        bb->used = 0;
    }
    if (bb->nrows && bb->used + bytes > SQI_BULK_BYTES && bulk_flush_buf(ss, bb))
        return -1;
    if (bytes > SQI_BULK_BYTES)
        return 0;
    if (sqi_load_tick(ss))
        return -1;
    b->cur = bb;
    return 1;
}

static struct bulk_val *bulk_val(struct sqlite_sink *ss, int type)
{
    struct bulk_val *v = &ss->bulk->cur->val[ss->bulk->cur->nvals++];

    v->type = type;
    return v;
}

void sqi_bulk_int(struct sqlite_sink *ss, int64_t i)
{
    bulk_val(ss, SQLITE_INTEGER)->i = i;
}

void sqi_bulk_double(struct sqlite_sink *ss, double d)
{
    bulk_val(ss, SQLITE_FLOAT)->d = d;
}

void sqi_bulk_time(struct sqlite_sink *ss, int64_t ms)
{
    if (ms == RS_NO_EXPIRE)
        bulk_val(ss, SQLITE_NULL);
    else
        sqi_bulk_int(ss, ms);
}

/* TEXT when valid UTF-8, else BLOB: the rule of sqi_bind_bytes. */
void sqi_bulk_bytes(struct sqlite_sink *ss, const struct rs_bytes *bs)
{
    struct bulk_buf *bb = ss->bulk->cur;
    struct bulk_val *v;

    if (bs == NULL) {
        bulk_val(ss, SQLITE_NULL);
        return;
    }
    v = bulk_val(ss, rs_utf8_valid(bs->ptr, bs->len) ? SQLITE_TEXT : SQLITE_BLOB);
    v->off = bb->used;
    v->len = bs->len;
    if (bs->len)
        memcpy(bb->bytes + bb->used, bs->ptr, bs->len);
    bb->used += bs->len;
}

int sqi_bulk_end(struct sqlite_sink *ss)
{
    struct bulk_buf *bb = ss->bulk->cur;

    if (++bb->nrows < SQI_BULK_ROWS)
        return 0;
    return bulk_flush_buf(ss, bb);
}

/* Forget every prepared statement (the target generation changed). */
static void stmts_drop(struct sqlite_sink *ss)
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
    bulk_drop(ss);
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

int sqi_bind_text_flag(sqlite3_stmt *st, int i, int big)
{
    return big == SQI_BIG_TEXT ? sqlite3_bind_int(st, i, 1) : sqlite3_bind_null(st, i);
}

/* Write a big value into the zeroblob that its key row 'id' holds in the
 * generation the ops write to. SQLite copies it page by page. */
int sqi_big_fill(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *b)
{
    char table[40];
    sqlite3_blob *blob = NULL;
    size_t off = 0;
    int rc;

    snprintf(table, sizeof(table), "g%lld_keys", (long long)ss->target);
    rc = sqlite3_blob_open(ss->db, "main", table, "value", id, 1, &blob);
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

void sqi_stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Step a statement that returns no rows (or whose rows we ignore). */
int sqi_run(struct sqlite_sink *ss, sqlite3_stmt *st, const char *what)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        sqi_sql_fail(ss, what);
        sqi_stmt_done(st);
        return -1;
    }
    sqi_stmt_done(st);
    return 0;
}

/* Step once: 1 with a row (the caller reads it, then stmt_done), 0 when
 * there is none, -1 on error (statement already reset). */
int sqi_row(struct sqlite_sink *ss, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc != SQLITE_DONE)
        sqi_sql_fail(ss, what);
    sqi_stmt_done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int sqi_bind_fail(struct sqlite_sink *ss, sqlite3_stmt *st, const char *what)
{
    sqi_sql_fail(ss, what);
    sqi_stmt_done(st);
    return -1;
}

/* -1 once the sticky error is set: every op checks this first. */
int sqi_stuck(struct sqlite_sink *ss)
{
    return ss->base.err.code == 0 ? 0 : -1;
}

int64_t sqi_query_int(struct sqlite_sink *ss, const char *sql, int64_t dflt)
{
    sqlite3_stmt *st;
    int64_t v = dflt;

    if (sqlite3_prepare_v2(ss->db, sql, -1, &st, NULL) != SQLITE_OK)
        return dflt;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static enum rs_type type_parse(const unsigned char *t)
{
    for (int i = RS_T_STRING; i <= RS_T_ARRAY; i++)
        if (t && strcmp((const char *)t, rs_type_name((enum rs_type)i)) == 0)
            return (enum rs_type)i;
    return RS_T_NONE;
}

/* ------------------------------------------------------------------ */
/* faults                                                              */
/* ------------------------------------------------------------------ */

/*
 * What can go wrong outside redsink, and what the sink does about it:
 *
 *  - Another process holds the write lock (sqlite3's BEGIN IMMEDIATE or
 *    EXCLUSIVE; in WAL mode a reader never blocks us). Our BEGIN waits in
 *    on_busy() for as long as the lock is held: the transaction is not
 *    lost, nothing is applied twice, the link stays up (the network
 *    thread keeps reading into the spool) and no new offset is
 *    acknowledged, because nothing new is committed. The wait is logged
 *    once when it passes BUSY_LOG_MS and once when it ends (the owner
 *    logs the events the sink reports, SINK_EV_LOCK_*). It ends early
 *    when the owner's stop flag is set (SIGTERM), with "database is
 *    locked" as an ordinary, retryable error.
 *  - Disk full, I/O errors, a corrupt or read-only file, and the file
 *    deleted or replaced under us (file_check) are *fatal*: a retry
 *    would fail the same way, or write into a file nobody will read
 *    again. The error stays set through rollback, so the daemon stops
 *    with it (main.c) and nothing after the last commit is acknowledged.
 *
 * This is the only place the sink reports an event (report()): a lock
 * wait is not an error the caller sees, yet an operator must learn why the
 * mirror stopped moving.
 */

/* Tell the owner (sink.on_event) about 'kind'. */
static void report(struct sqlite_sink *ss, enum sink_event_kind kind, double seconds)
{
    struct sink_event ev = { kind, ss->path, seconds };

    if (ss->base.on_event != NULL)
        ss->base.on_event(ss->base.event_ud, &ev);
}

static int on_busy(void *ud, int count)
{
    struct sqlite_sink *ss = ud;
    int64_t now = rs_mono_ms();

    if (count == 0)
        ss->busy_since = now;
    if (ss->base.stop ? *ss->base.stop != 0 : now - ss->busy_since >= BUSY_MS)
        return 0;
    if (!ss->busy_logged && now - ss->busy_since >= BUSY_LOG_MS) {
        ss->busy_logged = 1;
        report(ss, SINK_EV_LOCK_WAIT, 0);
    }
    sqlite3_sleep(count < 20 ? 1 + count : 25);
    return 1;
}

/* A lock wait ended (our BEGIN went through). */
static void busy_done(struct sqlite_sink *ss)
{
    if (!ss->busy_logged)
        return;
    ss->busy_logged = 0;
    report(ss, SINK_EV_LOCK_END, (double)(rs_mono_ms() - ss->busy_since) / 1000.0);
}

/* Clear the sticky error unless it is fatal. */
static void err_clear(struct sqlite_sink *ss)
{
    if (!ss->fatal)
        rs_error_clear(&ss->base.err);
}

/*
 * Is the file at our path still the one we write? Someone may have run
 * 'rm mirror.db*' or 'mv other.db mirror.db'; SQLite would go on writing
 * into the unlinked file forever, and a restart would not see any of it.
 * The -wal file is checked too: it holds the recent commits until a
 * checkpoint, and it stays while our connection is open. 0, or -1 with
 * the fatal error set.
 */
static int file_check(struct sqlite_sink *ss, const char *what)
{
    char wal[4096];
    struct stat sb;
    int moved = 0;

    if (sqlite3_file_control(ss->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK)
        moved = 0;
    if (!moved && ss->wal_ino && snprintf(wal, sizeof(wal), "%s-wal", ss->path) < (int)sizeof(wal))
        moved = stat(wal, &sb) != 0 || (uint64_t)sb.st_dev != ss->wal_dev ||
                (uint64_t)sb.st_ino != ss->wal_ino;
    if (!moved)
        return 0;
    ss->fatal = 1;
    return rs_fail(&ss->base.err, RS_E_SQL, "cannot %s in '%s': the file was deleted or "
                   "replaced while redsink had it open (a restart uses the file now there)",
                   what, ss->path);
}

/* Remember the -wal file's identity once it exists (after a commit). */
static void wal_note(struct sqlite_sink *ss)
{
    char wal[4096];
    struct stat sb;

    if (ss->wal_ino || snprintf(wal, sizeof(wal), "%s-wal", ss->path) >= (int)sizeof(wal) ||
        stat(wal, &sb) != 0)
        return;
    ss->wal_dev = (uint64_t)sb.st_dev;
    ss->wal_ino = (uint64_t)sb.st_ino;
}

/* ------------------------------------------------------------------ */
/* WAL checkpoints                                                     */
/* ------------------------------------------------------------------ */

/*
 * A checkpoint copies the WAL into the database file and syncs both. On
 * these machines syncing 16 MB of WAL took ~11 ms, and while the writer
 * ran it no write became visible: at 10k writes/s that was the whole
 * visibility p99 (9-14 ms, bench/suite.py --only latency). So while
 * streaming, a thread with its own connection runs PASSIVE checkpoints,
 * which never block the writer: they copy and sync the bulk. SQLite
 * restarts the WAL only at the first write after a checkpoint that
 * copied every frame, which a thread racing a busy writer rarely
 * manages, so the writer then finishes the job itself at its next commit:
 * a few frames to copy and little to sync. Should the WAL still reach
 * CKPT_HARD_PAGES (a burst, with the large batches of catching up), the
 * writer checkpoints it all as it always did, which bounds the file. A
 * full sync keeps the writer's own checkpoints (LOAD_CKPT_PAGES): its
 * large batches would outrun the thread.
 */
#define CKPT_SOFT_PAGES  1024    /* 4 MB: wake the thread */
#define CKPT_HARD_PAGES  4096    /* 16 MB: the writer checkpoints */
#define LOAD_CKPT_PAGES  4096    /* 16 MB, as wal_autocheckpoint had it */
#define CKPT_ROUNDS      4

struct ckpt {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sqlite3 *db;                 /* the thread's own connection */
    int want, quit;
    int busy;                    /* a checkpoint is wanted or running */
    int finish;                  /* done: the writer copies the rest */
    int sync_level;              /* PRAGMA synchronous the writer has */
    int failed;                  /* result code of a failed checkpoint, 0: none */
    char msg[200];
};

static void *ckpt_main(void *arg)
{
    struct ckpt *c = arg;
    int applied_sync = -1;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->want && !c->quit)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->quit)
            break;
        c->want = 0;
        int level = c->sync_level, rc = SQLITE_OK, frames = 0, copied = 0;
        pthread_mutex_unlock(&c->mu);
        if (level != applied_sync) {
            /* the checkpoint syncs as this connection's setting says */
            char sql[40];

            snprintf(sql, sizeof(sql), "PRAGMA synchronous = %d", level);
            sqlite3_exec(c->db, sql, NULL, NULL, NULL);
            applied_sync = level;
        }
        for (int round = 0; round < CKPT_ROUNDS; round++) {
            rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames,
                                           &copied);
            if (rc != SQLITE_OK || copied >= frames)
                break;
        }
        pthread_mutex_lock(&c->mu);
        c->busy = 0;
        c->finish = 1;
        if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED &&
            c->failed == 0) {
            c->failed = rc;
            snprintf(c->msg, sizeof(c->msg), "%s", sqlite3_errmsg(c->db));
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void ckpt_stop(struct sqlite_sink *ss)
{
    struct ckpt *c = ss->ckpt;

    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->quit = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    sqlite3_close(c->db);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
    ss->ckpt = NULL;
}

/* Called by SQLite after each commit with the WAL's size in pages. */
static int on_wal(void *ud, sqlite3 *db, const char *name, int pages)
{
    struct sqlite_sink *ss = ud;
    struct ckpt *c = ss->ckpt;

    (void)name;
    if (c == NULL || ss->mode == MODE_LOAD) {
        if (pages >= LOAD_CKPT_PAGES)
            sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else {
        int finish;

        pthread_mutex_lock(&c->mu);
        finish = c->finish;
        c->finish = 0;
        if (!finish && !c->busy && pages >= CKPT_SOFT_PAGES) {
            c->busy = c->want = 1;
            pthread_cond_signal(&c->cv);
        }
        pthread_mutex_unlock(&c->mu);
        if (finish || pages >= CKPT_HARD_PAGES)
            sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
    return SQLITE_OK;
}

/* Start the checkpointer. Without it (no memory, no thread) the writer
 * checkpoints itself, as on_wal does during a load: slower, not wrong. */
static void ckpt_start(struct sqlite_sink *ss)
{
    struct ckpt *c = calloc(1, sizeof(*c));

    sqlite3_wal_hook(ss->db, on_wal, ss);
    if (c == NULL)
        return;
    c->sync_level = (int)sqi_query_int(ss, "PRAGMA synchronous", 1);
    if (sqlite3_open_v2(ss->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return;
    }
    /* never a checkpoint of its own at close: see sq_close */
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    sqlite3_exec(c->db, "PRAGMA mmap_size = 0; PRAGMA cache_size = -256", NULL, NULL, NULL);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
        sqlite3_close(c->db);
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return;
    }
    ss->ckpt = c;
}

/* A checkpoint the thread could not do (disk full, I/O error) stops the
 * writer at its next commit, as its own would have. 0, or -1 with the
 * sticky error set. */
static int ckpt_check(struct sqlite_sink *ss)
{
    struct ckpt *c = ss->ckpt;
    int rc;

    if (c == NULL)
        return 0;
    pthread_mutex_lock(&c->mu);
    rc = c->failed;
    pthread_mutex_unlock(&c->mu);
    if (rc == 0)
        return 0;
    ss->fatal = 1;
    return rs_fail(&ss->base.err, RS_E_SQL, "cannot checkpoint '%s': %s",
                   ss->path, (rc & 0xff) == SQLITE_FULL ? "disk full" : c->msg);
}

/* ------------------------------------------------------------------ */
/* transactions                                                        */
/* ------------------------------------------------------------------ */

static int txn_begin(struct sqlite_sink *ss)
{
    sqlite3_stmt *st = sqi_stmt(ss, ST_BEGIN);

    if (st == NULL || sqi_run(ss, st, "begin a transaction"))
        return -1;
    busy_done(ss);
    return 0;
}

static int txn_commit(struct sqlite_sink *ss)
{
    sqlite3_stmt *st = sqi_stmt(ss, ST_COMMIT);

    if (st == NULL || file_check(ss, "commit") || ckpt_check(ss) || sqi_run(ss, st, "commit"))
        return -1;
    wal_note(ss);
    return 0;
}

/* Roll back whatever is open; quiet (used on paths that already failed). */
static void txn_rollback(struct sqlite_sink *ss)
{
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
/* ------------------------------------------------------------------ */
/* The key cache                                                       */
/* ------------------------------------------------------------------ */

/*
 * key_find runs for nearly every command, and its index seek plus row
 * fetch was a quarter of the apply time. This direct-mapped cache
 * remembers recent answers, "no such key" included. It stays exact
 * because every statement that changes a key's id, type or expire time
 * is in this file and updates or drops the entries it affects; anything
 * broader (rollback, flush, swap, a new generation) empties it. List
 * heads and string values are not cached.
 *
 * Changes by id (an expire time, a delete) find the entry through
 * by_id, direct-mapped on the id: every entry with an id is the one
 * by_id points to for it (kc_put drops an entry it displaces there), so
 * one probe is exact. Scanning every slot instead was three quarters of
 * an EXPIRE's instructions.
 */
#define KC_SLOTS   4096
#define KC_MAX_KEY 120

struct key_cache_entry {
    int64_t id;                  /* 0 with type RS_T_NONE: known absent */
    int64_t expire_ms;
    int db;
    unsigned char used, type;
    unsigned short len;
    char key[KC_MAX_KEY];
};

struct key_cache {
    struct key_cache_entry e[KC_SLOTS];
    int32_t by_id[KC_SLOTS];     /* slot of the entry of id (id % KC_SLOTS) */
};

static struct key_cache_entry *kc_slot(struct sqlite_sink *ss, int db, const struct rs_bytes *key)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(unsigned)db;

    if (ss->kcache == NULL || key->len > KC_MAX_KEY)
        return NULL;
    for (size_t i = 0; i < key->len; i++)
        h = (h ^ (unsigned char)key->ptr[i]) * 1099511628211ULL;
    return &ss->kcache->e[h % KC_SLOTS];
}

/* The entry of key 'id', or NULL. */
static struct key_cache_entry *kc_of_id(struct sqlite_sink *ss, int64_t id)
{
    struct key_cache_entry *e;

    if (ss->kcache == NULL || id <= 0)
        return NULL;
    e = &ss->kcache->e[ss->kcache->by_id[(uint64_t)id % KC_SLOTS]];
    return e->used && e->id == id ? e : NULL;
}

static int kc_get(struct sqlite_sink *ss, int db, const struct rs_bytes *key, struct sink_key *out)
{
    struct key_cache_entry *e = kc_slot(ss, db, key);

    if (e == NULL || !e->used || e->db != db || e->len != key->len ||
        memcmp(e->key, key->ptr, key->len) != 0)
        return 0;
    out->id = e->id;
    out->type = (enum rs_type)e->type;
    out->expire_ms = e->expire_ms;
    return 1;
}

static void kc_put(struct sqlite_sink *ss, int db, const struct rs_bytes *key,
                   const struct sink_key *k)
{
    struct key_cache_entry *e = kc_slot(ss, db, key), *old;

    if (e == NULL)
        return;
    e->used = 0;                 /* not found by kc_of_id while it changes */
    if (k->id > 0) {
        int32_t *slot = &ss->kcache->by_id[(uint64_t)k->id % KC_SLOTS];

        old = &ss->kcache->e[*slot];
        if (old != e && old->used && old->id > 0)
            old->used = 0;       /* it would lose its by_id link */
        *slot = (int32_t)(e - ss->kcache->e);
    }
    e->used = 1;
    e->db = db;
    e->len = (unsigned short)key->len;
    memcpy(e->key, key->ptr, key->len);
    e->id = k->id;
    e->type = (unsigned char)k->type;
    e->expire_ms = k->expire_ms;
}

/* Drop the entry of key 'id' (its name is not known here). */
static void kc_forget_id(struct sqlite_sink *ss, int64_t id)
{
    struct key_cache_entry *e = kc_of_id(ss, id);

    if (e)
        e->used = 0;
}

static void kc_forget_key(struct sqlite_sink *ss, int db, const struct rs_bytes *key)
{
    struct key_cache_entry *e = kc_slot(ss, db, key);

    if (e)
        e->used = 0;
}

static void kc_clear(struct sqlite_sink *ss)
{
    if (ss->kcache)
        for (int i = 0; i < KC_SLOTS; i++)
            ss->kcache->e[i].used = 0;
}

static void forget(struct sqlite_sink *ss)
{
    kc_clear(ss);
    sqi_smeta_forget(ss);
    ss->tail_kid = -1;
    sqi_memo_clear(&ss->group);
    sqi_memo_clear(&ss->consumer);
}

static int sq_load_abort(struct sink *s);

static int sq_begin(struct sink *s)
{
    struct sqlite_sink *ss = SS(s);

    if (sqi_stuck(ss))
        return -1;
    if (ss->mode != MODE_IDLE)
        return rs_fail(&s->err, RS_E_SQL, "cannot begin in '%s': a %s is open", ss->path,
                       ss->mode == MODE_LOAD ? "full sync" : "transaction");
    if (txn_begin(ss))
        return -1;
    ss->mode = MODE_STREAM;
    return 0;
}

static int sq_commit(struct sink *s, const struct repl_pos *pos, const struct sink_stats *stats)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int rc = 0;

    if (sqi_stuck(ss))
        return -1;
    if (ss->mode != MODE_STREAM)
        return rs_fail(&s->err, RS_E_SQL, "cannot commit in '%s': no transaction is open",
                       ss->path);
    /* the stream metadata the cache holds goes in the same transaction */
    if (sqi_smeta_sync(ss) || (st = sqi_stmt(ss, ST_CKPT_SET)) == NULL)
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
    if (sqi_run(ss, st, "store the checkpoint") || txn_commit(ss))
        return -1;
    ss->mode = MODE_IDLE;
    return 0;
}

/* Undo the open transaction and clear the sticky error: the sink is
 * usable again, at its last commit. During a full sync: load_abort. */
static int sq_rollback(struct sink *s)
{
    struct sqlite_sink *ss = SS(s);

    if (ss->mode == MODE_LOAD)
        return sq_load_abort(s);
    if (!sqlite3_get_autocommit(ss->db) &&
        sqlite3_exec(ss->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "roll back");
    ss->mode = MODE_IDLE;
    forget(ss);
    err_clear(ss);
    return 0;
}

static int sq_read_checkpoint(struct sink *s, struct repl_pos *pos)
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
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store the progress");
    return sqi_run(ss, st, "store the progress");
}

static int load_batch_commit(struct sqlite_sink *ss);

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
        return load_batch_commit(ss);
    }
    if (ss->fatal)
        return -1;    /* the file is full, failing or not ours any more */
    if (sqlite3_exec(ss->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    busy_done(ss);
    if (write_update(ss, u) || sqlite3_exec(ss->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    /* The status is for humans: a lock wait cut short by a stop must not
     * leave an error behind that would make the owner treat the mirror
     * as broken. A fatal error stays. */
    had = ss->base.err.code != 0;
    sqi_sql_fail(ss, "store the status");
    txn_rollback(ss);
    if (!had)
        err_clear(ss);
    return -1;
}

static int sq_set_state(struct sink *s, const char *state, const char *detail)
{
    struct status_update u = { state, detail, NULL };

    return status_write(s, &u);
}

static int sq_set_progress(struct sink *s, const struct sink_progress *p)
{
    struct status_update u = { NULL, NULL, p };

    return status_write(s, &u);
}

/* ------------------------------------------------------------------ */
/* full sync                                                           */
/* ------------------------------------------------------------------ */

static int drop_generation(struct sqlite_sink *ss, int64_t gen)
{
    char sql[64];

    for (int i = 0; gen_tables[i]; i++) {
        snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS g%lld_%s", (long long)gen,
                 gen_tables[i]);
        if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return sqi_sql_fail(ss, "drop an old generation");
    }
    return 0;
}

/* Store the load's progress and commit the batch, so the WAL can be
 * checkpointed and reused; the half-built generation is still invisible. */
static int load_batch_commit(struct sqlite_sink *ss)
{
    sqlite3_stmt *st;

    if (sqi_bulk_flush(ss) || (st = sqi_stmt(ss, ST_PROGRESS)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, ss->load_keys) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, rs_now_ms()) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store the load progress");
    if (sqi_run(ss, st, "store the load progress") || txn_commit(ss) || txn_begin(ss))
        return -1;
    ss->load_rows = 0;
    return 0;
}

/* Count one row written; commit the batch when it is big enough. */
/* ------------------------------------------------------------------ */
/* Big keys during a full sync                                         */
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
 * rows above); an RDB holds each field or member of a key once. */
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
static int stage_flush(struct sqlite_sink *ss)
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
        if (stage_flush(ss))
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

int sqi_load_tick(struct sqlite_sink *ss)
{
    if (ss->mode != MODE_LOAD || ++ss->load_rows < LOAD_BATCH_ROWS)
        return 0;
    return load_batch_commit(ss);
}

static int sq_load_begin(struct sink *s)
{
    struct sqlite_sink *ss = SS(s);

    if (sqi_stuck(ss))
        return -1;
    if (ss->mode != MODE_IDLE)
        return rs_fail(&s->err, RS_E_SQL, "cannot start a full sync in '%s': a %s is open",
                       ss->path, ss->mode == MODE_LOAD ? "full sync" : "transaction");
    stmts_drop(ss);
    ss->target = ss->gen + 1;
    if (txn_begin(ss))
        goto fail;
    if (drop_generation(ss, ss->target) ||
        exec_gen(ss, gen_ddl, ss->target, "create the tables of a new generation"))
        goto fail;
    ss->mode = MODE_LOAD;
    ss->load_keys = 0;
    ss->load_rows = 0;
    stage_reset(ss);
    ss->load_id = 0;
    forget(ss);
    return 0;
fail:
    txn_rollback(ss);
    stmts_drop(ss);
    ss->target = ss->gen;
    return -1;
}

/* One transaction: views onto the new generation plus its checkpoint. */
static int load_swap(struct sqlite_sink *ss, const struct repl_pos *pos)
{
    sqlite3_stmt *st;
    char sql[128];
    int rc = 0;

    if (txn_begin(ss) || exec_gen(ss, views_ddl, ss->target, "switch the views"))
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
    return txn_commit(ss);
}

/*
 * Index the new generation, swap it in with its checkpoint, then drop the
 * old one (a failure there is harmless: the next open drops leftovers).
 */
static int sq_load_commit(struct sink *s, const struct repl_pos *pos)
{
    struct sqlite_sink *ss = SS(s);
    int64_t old = ss->gen;

    if (sqi_stuck(ss))
        return -1;
    if (ss->mode != MODE_LOAD)
        return rs_fail(&s->err, RS_E_SQL, "cannot finish a full sync in '%s': none is open",
                       ss->path);
    if (stage_flush(ss) || load_batch_commit(ss) ||
        exec_gen(ss, gen_index, ss->target, "index the new mirror") || txn_commit(ss) ||
        load_swap(ss, pos)) {
        txn_rollback(ss);
        return -1;
    }
    stmts_drop(ss);
    ss->gen = ss->target;
    ss->mode = MODE_IDLE;
    forget(ss);
    if (sqlite3_exec(ss->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
        if (drop_generation(ss, old) == 0)
            sqlite3_exec(ss->db, "COMMIT", NULL, NULL, NULL);
        txn_rollback(ss);
        err_clear(ss);   /* the new mirror is in; leftovers go at next open */
    }
    /* Copy the WAL into the file now (and sync it), rather than letting
     * the first stream commits pay for it. */
    sqlite3_wal_checkpoint_v2(ss->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return 0;
}

static int sq_load_abort(struct sink *s)
{
    struct sqlite_sink *ss = SS(s);
    int64_t doomed = ss->target;

    if (ss->mode != MODE_LOAD)
        return 0;
    txn_rollback(ss);
    stage_reset(ss);
    stmts_drop(ss);
    ss->mode = MODE_IDLE;
    ss->target = ss->gen;
    forget(ss);
    err_clear(ss);
    if (ss->fatal)
        return -1;    /* the file is gone or full: the next open drops the leftovers */
    /* If this fails, the next open drops the leftovers. */
    if (sqlite3_exec(ss->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "drop the half-built mirror");
    if (drop_generation(ss, doomed) ||
        sqlite3_exec(ss->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqi_sql_fail(ss, "drop the half-built mirror");
        txn_rollback(ss);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* keys                                                                */
/* ------------------------------------------------------------------ */

static int sq_key_find(struct sink *s, int db, const struct rs_bytes *key, struct sink_key *out)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    out->id = 0;
    out->type = RS_T_NONE;
    out->expire_ms = RS_NO_EXPIRE;
    if (sqi_stuck(ss))
        return -1;
    if (ss->mode == MODE_LOAD)
        return rs_fail(&s->err, RS_E_SQL, "cannot look keys up in '%s' during a full sync",
                       ss->path);
    if (kc_get(ss, db, key, out))
        return 0;
    if ((st = sqi_stmt(ss, ST_KEY_FIND)) == NULL)
        return -1;
    if (sqlite3_bind_int(st, 1, db) != SQLITE_OK || sqi_bind_bytes(st, 2, key) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "look a key up");
    if ((r = sqi_row(ss, st, "look a key up")) < 0)
        return r;
    if (r > 0) {
        out->id = sqlite3_column_int64(st, 0);
        out->type = type_parse(sqlite3_column_text(st, 1));
        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
            out->expire_ms = sqlite3_column_int64(st, 2);
        sqi_stmt_done(st);
    }
    kc_put(ss, db, key, out);
    return 0;
}

/* ST_KEY_INSERT for many keys at once, during a full sync. The load
 * counts the ids (1, 2... in the new, empty table) before the rows are
 * sent; SQLite gives the same ones (bulk_flush_buf checks). Binding the id
 * instead cost a seek per row. */
static const struct sqi_bulk keys_bulk = {
    SQI_BULK_KEYS, 6, "@keys(db, key, type, expire_at, value, lhead)", "", ""
};

static int sq_key_create(struct sink *s, int db, const struct rs_bytes *key, enum rs_type type,
                         int64_t expire_ms, const struct rs_bytes *value, int64_t *id)
{
    struct sqlite_sink *ss = SS(s);
    const char *tname = rs_type_name(type);
    const struct rs_bytes *v = type != RS_T_STRING ? NULL
                               : value ? value : &(struct rs_bytes){ "", 0 };
    sqlite3_stmt *st;
    int rc = 0, big;

    if (sqi_stuck(ss) || stage_flush(ss) ||
        (rc = sqi_bulk_begin(ss, &keys_bulk, key->len + (v ? v->len : 0) + 16)) < 0)
        return -1;
    if (ss->mode == MODE_LOAD) {
        *id = ++ss->load_id;
        ss->load_keys++;
        if (type == RS_T_LIST) {   /* a new list: the tail starts at 0 */
            ss->tail_kid = *id;
            ss->tail_pos = 0;
        }
    }
    if (rc > 0) {
        ss->bulk->last_kid = *id;
        sqi_bulk_int(ss, db);
        sqi_bulk_bytes(ss, key);
        sqi_bulk_bytes(ss, &(struct rs_bytes){ tname, strlen(tname) });
        sqi_bulk_time(ss, expire_ms);
        sqi_bulk_bytes(ss, v);
        if (type == RS_T_LIST)
            sqi_bulk_int(ss, 0);
        else
            sqi_bulk_bytes(ss, NULL);
        return sqi_bulk_end(ss);
    }
    rc = 0;
    big = sqi_big_value(v);
    if (sqi_load_tick(ss) || (st = sqi_stmt(ss, ST_KEY_INSERT)) == NULL)
        return -1;
    if (ss->mode == MODE_LOAD)
        rc |= sqlite3_bind_int64(st, 7, *id);
    rc |= sqlite3_bind_int(st, 1, db);
    rc |= sqi_bind_bytes(st, 2, key);
    rc |= sqlite3_bind_text(st, 3, tname, -1, SQLITE_STATIC);
    rc |= sqi_bind_time(st, 4, expire_ms);
    if (v)
        rc |= sqi_bind_value(st, 5, v, big);
    if (type == RS_T_LIST)
        rc |= sqlite3_bind_int(st, 6, 0);
    else
        rc |= sqi_bind_text_flag(st, 6, big);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "insert a key");
    if (sqi_run(ss, st, "insert a key"))
        return -1;
    if (ss->mode != MODE_LOAD) {
        struct sink_key k;

        *id = sqlite3_last_insert_rowid(ss->db);
        k = (struct sink_key){ *id, type, expire_ms };
        kc_put(ss, db, key, &k);
    }
    return big ? sqi_big_fill(ss, *id, v) : 0;
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
                   const struct rs_bytes *m, int *changed, const char *what)
{
    sqlite3_stmt *st;

    if (changed)
        *changed = 0;
    if (sqi_stuck(ss) || sqi_load_tick(ss) || (st = sqi_xstmt(ss, slot, tmpl)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, kid) != SQLITE_OK || sqi_bind_bytes(st, 2, m) != SQLITE_OK)
        return sqi_bind_fail(ss, st, what);
    if (sqi_run(ss, st, what))
        return -1;
    if (changed)
        *changed = sqlite3_changes(ss->db) > 0;
    return 0;
}

/* The children tables holding a type's elements (stream: its groups too). */
static int children_of(enum rs_type type, enum child *c)
{
    switch (type) {
    case RS_T_HASH: c[0] = C_HASH; return 1;
    case RS_T_LIST: c[0] = C_LIST; return 1;
    case RS_T_SET: c[0] = C_SET; return 1;
    case RS_T_ZSET: c[0] = C_ZSET; return 1;
    case RS_T_ARRAY: c[0] = C_ARRAY; c[1] = C_AMETA; return 2;
    case RS_T_STREAM:
        c[0] = C_STREAM; c[1] = C_SMETA; c[2] = C_SGROUP; c[3] = C_SPEL; c[4] = C_SCONS;
        return 5;
    default: return 0;
    }
}

/* The type of key 'id': 1 and *type, 0 when there is no such key, or -1
 * with the sticky error set ('what' names the operation). */
static int key_type_of(struct sqlite_sink *ss, int64_t id, enum rs_type *type, const char *what)
{
    sqlite3_stmt *st;
    int r;

    if (sqi_stuck(ss) || (st = sqi_stmt(ss, ST_KEY_TYPE)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, what);
    if ((r = sqi_row(ss, st, what)) <= 0)
        return r;
    *type = type_parse(sqlite3_column_text(st, 0));
    sqi_stmt_done(st);
    return 1;
}

static int sq_key_delete(struct sink *s, int64_t id)
{
    struct sqlite_sink *ss = SS(s);
    enum child c[C_COUNT];
    enum rs_type type;
    int r, n;

    if ((r = key_type_of(ss, id, &type, "delete a key")) <= 0)
        return r;                          /* no such key: nothing to do */
    n = children_of(type, c);
    for (int i = 0; i < n; i++)
        if (sqi_run_kid(ss, sqi_child_stmt(ss, CO_DELETE, c[i]), id, "delete a key's elements"))
            return -1;
    if (id == ss->tail_kid)
        ss->tail_kid = -1;
    kc_forget_id(ss, id);
    sqi_smeta_drop(ss, id);     /* its row goes above; the id may be reused */
    return sqi_run_kid(ss, sqi_stmt(ss, ST_KEY_DELETE), id, "delete a key");
}

static int sq_key_set_expire(struct sink *s, int64_t id, int64_t expire_ms)
{
    struct sqlite_sink *ss = SS(s);
    struct key_cache_entry *e;
    sqlite3_stmt *st;

    if (sqi_stuck(ss) || (st = sqi_stmt(ss, ST_KEY_EXPIRE)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqi_bind_time(st, 2, expire_ms) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "set an expire time");
    if ((e = kc_of_id(ss, id)) != NULL)
        e->expire_ms = expire_ms;
    return sqi_run(ss, st, "set an expire time");
}

static int sq_key_rename(struct sink *s, int64_t id, int db, const struct rs_bytes *key)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;

    if (sqi_stuck(ss) || (st = sqi_stmt(ss, ST_KEY_RENAME)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int(st, 2, db) != SQLITE_OK ||
        sqi_bind_bytes(st, 3, key) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "rename a key");
    kc_forget_id(ss, id);
    kc_forget_key(ss, db, key);
    return sqi_run(ss, st, "rename a key");
}

static int sq_key_is_empty(struct sink *s, int64_t id, enum rs_type type, int *empty)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    enum child c[C_COUNT];
    int r;

    *empty = 0;
    if (sqi_stuck(ss))
        return -1;
    if (children_of(type, c) == 0)
        return 0;                          /* strings and modules are never "empty" */
    if ((st = sqi_child_stmt(ss, CO_PROBE, c[0])) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "probe a key");
    if ((r = sqi_row(ss, st, "probe a key")) < 0)
        return -1;
    if (r)
        sqi_stmt_done(st);
    *empty = !r;
    return 0;
}

/* Delete every table's rows (FLUSHALL); DELETE without WHERE truncates. */
static int flush_all(struct sqlite_sink *ss)
{
    char sql[64];

    for (int i = 0; gen_tables[i]; i++) {
        if (strcmp(gen_tables[i], "func") == 0)
            continue;                      /* FLUSHALL keeps functions */
        snprintf(sql, sizeof(sql), "DELETE FROM g%lld_%s", (long long)ss->target,
                 gen_tables[i]);
        if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return sqi_sql_fail(ss, "flush all databases");
    }
    return 0;
}

static int sq_flush_db(struct sink *s, int db)
{
    struct sqlite_sink *ss = SS(s);

    if (sqi_stuck(ss) || sqi_smeta_sync(ss))
        return -1;
    ss->tail_kid = -1;
    kc_clear(ss);
    sqi_smeta_forget(ss);       /* written: what stays is read again */
    if (db < 0)
        return flush_all(ss);
    for (int c = 0; c < C_COUNT; c++)      /* children first: they find keys by db */
        if (sqi_run_kid(ss, sqi_child_stmt(ss, CO_FLUSH, (enum child)c), db, "flush a database"))
            return -1;
    return sqi_run_kid(ss, sqi_stmt(ss, ST_KEY_FLUSH), db, "flush a database");
}

/*
 * COPY and SWAPDB: plain SQL on the live generation. A copy is one
 * INSERT ... SELECT for the key row and one per children table of its
 * type, so elements, TTLs (key and hash fields) and a stream's metadata,
 * groups, PEL and consumers travel without passing through C.
 */
enum {
    KS_COPY_KEY, KS_SWAP_PARK, KS_SWAP_MOVE, KS_SWAP_UNPARK,
    KS_COPY_CHILD,                     /* + enum child: one per children table */
    KS_NSTMT = KS_COPY_CHILD + C_COUNT
};
_Static_assert(KS_NSTMT <= SQI_X_PER_FAMILY, "too many key statements");

static const char *const key_sql[KS_COPY_CHILD] = {
    [KS_COPY_KEY] =
        "INSERT INTO @keys(db, key, type, expire_at, value, lhead)"
        " SELECT ?2, ?3, type, expire_at, value, lhead FROM @keys WHERE id = ?1",
    /* SWAPDB in three steps: (key, db) is unique and SQLite checks it row
     * by row, so db1's keys are parked on db -1 (no Redis db) first. */
    [KS_SWAP_PARK] = "UPDATE @keys SET db = -1 WHERE db = ?1",
    [KS_SWAP_MOVE] = "UPDATE @keys SET db = ?1 WHERE db = ?2",
    [KS_SWAP_UNPARK] = "UPDATE @keys SET db = ?2 WHERE db = -1",
};

/* ?1 the source key id, ?2 the copy's id; columns after kid as in gen_ddl. */
static const char *const copy_child_sql[C_COUNT] = {
    [C_HASH] = "INSERT INTO @hash(kid, field, value, expire_at)"
               " SELECT ?2, field, value, expire_at FROM @hash WHERE kid = ?1",
    [C_LIST] = "INSERT INTO @list(kid, pos, value) SELECT ?2, pos, value FROM @list WHERE kid = ?1",
    [C_SET] = "INSERT INTO @set(kid, member) SELECT ?2, member FROM @set WHERE kid = ?1",
    [C_ZSET] = "INSERT INTO @zset(kid, member, score)"
               " SELECT ?2, member, score FROM @zset WHERE kid = ?1",
    [C_STREAM] = "INSERT INTO @stream(kid, ms, seq, pos, field, value)"
                 " SELECT ?2, ms, seq, pos, field, value FROM @stream WHERE kid = ?1",
    [C_SMETA] = "INSERT INTO @smeta(kid, length, last_ms, last_seq, has_v2, first_ms, first_seq,"
                " maxdel_ms, maxdel_seq, entries_added) SELECT ?2, length, last_ms, last_seq,"
                " has_v2, first_ms, first_seq, maxdel_ms, maxdel_seq, entries_added"
                " FROM @smeta WHERE kid = ?1",
    [C_SGROUP] = "INSERT INTO @sgroup(kid, name, last_ms, last_seq, entries_read)"
                 " SELECT ?2, name, last_ms, last_seq, entries_read FROM @sgroup WHERE kid = ?1",
    [C_SPEL] = "INSERT INTO @spel(kid, grp, ms, seq, consumer, delivery_time, delivery_count)"
               " SELECT ?2, grp, ms, seq, consumer, delivery_time, delivery_count"
               " FROM @spel WHERE kid = ?1",
    [C_SCONS] = "INSERT INTO @scons(kid, grp, name, seen_time, active_time)"
                " SELECT ?2, grp, name, seen_time, active_time FROM @scons WHERE kid = ?1",
    [C_ARRAY] = "INSERT INTO @array(kid, bidx, value) SELECT ?2, bidx, value FROM @array"
                " WHERE kid = ?1",
    [C_AMETA] = "INSERT INTO @ameta(kid, cursor) SELECT ?2, cursor FROM @ameta WHERE kid = ?1",
};

static sqlite3_stmt *key_stmt(struct sqlite_sink *ss, int id)
{
    if (id >= KS_COPY_CHILD)
        return sqi_xstmt(ss, SQI_X_KEYS + id, copy_child_sql[id - KS_COPY_CHILD]);
    return sqi_xstmt(ss, SQI_X_KEYS + id, key_sql[id]);
}

/* Run key statement 'id' with the integer parameters ?1 and (if it has one) ?2. */
static int key_run2(struct sqlite_sink *ss, int id, int64_t p1, int64_t p2, const char *what)
{
    sqlite3_stmt *st = key_stmt(ss, id);

    if (st == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, p1) != SQLITE_OK ||
        (sqlite3_bind_parameter_count(st) >= 2 && sqlite3_bind_int64(st, 2, p2) != SQLITE_OK))
        return sqi_bind_fail(ss, st, what);
    return sqi_run(ss, st, what);
}

int sq_key_copy(struct sink *s, int64_t id, int db, const struct rs_bytes *key, int64_t *new_id)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    enum child c[C_COUNT];
    enum rs_type type;
    int r, n;

    if ((r = key_type_of(ss, id, &type, "copy a key")) < 0 || sqi_smeta_sync(ss))
        return -1;
    if (r == 0)
        return rs_fail(&s->err, RS_E_SQL, "cannot copy a key in '%s': no key %lld", ss->path,
                       (long long)id);
    if ((st = key_stmt(ss, KS_COPY_KEY)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int(st, 2, db) != SQLITE_OK ||
        sqi_bind_bytes(st, 3, key) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "copy a key");
    kc_forget_key(ss, db, key);
    if (sqi_run(ss, st, "copy a key"))
        return -1;
    *new_id = sqlite3_last_insert_rowid(ss->db);
    n = children_of(type, c);
    for (int i = 0; i < n; i++)
        if (key_run2(ss, KS_COPY_CHILD + c[i], id, *new_id, "copy a key's elements"))
            return -1;
    return 0;
}

int sq_swap_db(struct sink *s, int db1, int db2)
{
    struct sqlite_sink *ss = SS(s);

    if (sqi_stuck(ss))
        return -1;
    if (db1 == db2)
        return 0;
    kc_clear(ss);
    if (key_run2(ss, KS_SWAP_PARK, db1, db2, "swap databases") ||
        key_run2(ss, KS_SWAP_MOVE, db1, db2, "swap databases") ||
        key_run2(ss, KS_SWAP_UNPARK, db1, db2, "swap databases"))
        return -1;
    ss->tail_kid = -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* misc                                                                */
/* ------------------------------------------------------------------ */

/* The library name in a function's "#!lua name=mylib" first line. */
static struct rs_bytes function_name(const struct rs_bytes *code)
{
    struct rs_bytes none = { NULL, 0 };
    const char *p = code->ptr, *end, *nl;

    if (code->len < 2 || p[0] != '#' || p[1] != '!')
        return none;
    nl = memchr(p, '\n', code->len);
    end = nl ? nl : p + code->len;
    for (const char *q = p; q + 5 <= end; q++) {
        if (memcmp(q, "name=", 5) == 0 && (q == p || q[-1] == ' ')) {
            const char *v = q + 5, *e = v;

            while (e < end && *e != ' ' && *e != '\r')
                e++;
            return (struct rs_bytes){ v, (size_t)(e - v) };
        }
    }
    return none;
}

static int sq_function_store(struct sink *s, const struct rs_bytes *code)
{
    struct sqlite_sink *ss = SS(s);
    struct rs_bytes name = function_name(code);
    sqlite3_stmt *st;

    if (sqi_stuck(ss) || sqi_load_tick(ss) || (st = sqi_stmt(ss, ST_FUNCTION)) == NULL)
        return -1;
    if (sqi_bind_bytes(st, 1, name.ptr ? &name : NULL) != SQLITE_OK ||
        sqi_bind_bytes(st, 2, code) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a function library");
    return sqi_run(ss, st, "store a function library");
}

/* FUNCTION DELETE (one library, by the name its "#!lua name=" line
 * gave) and FUNCTION FLUSH (all). Statements in SQI_X_MISC slots. */
int sq_function_delete(struct sink *s, const struct rs_bytes *library)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;

    if (sqi_stuck(ss))
        return -1;
    if (library == NULL) {
        st = sqi_xstmt(ss, SQI_X_MISC + 0, "DELETE FROM @func");
        return st ? sqi_run(ss, st, "flush the function libraries") : -1;
    }
    if ((st = sqi_xstmt(ss, SQI_X_MISC + 1, "DELETE FROM @func WHERE name = ?1")) == NULL)
        return -1;
    if (sqi_bind_bytes(st, 1, library) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "delete a function library");
    return sqi_run(ss, st, "delete a function library");
}

static int sq_unknown_command(struct sink *s, const struct rs_bytes *name)
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
/* open and close                                                      */
/* ------------------------------------------------------------------ */

static void sq_close(struct sink *s)
{
    struct sqlite_sink *ss = SS(s);

    if (ss == NULL)
        return;
    ckpt_stop(ss);
    /* A half-built generation stays on disk; the next open drops it. */
    txn_rollback(ss);
    stmts_drop(ss);
    forget(ss);
    /* After a fatal error, leave the -wal file alone: the file at our
     * path may not be ours any more (its -wal neither), or the disk is
     * full. The next open recovers from the WAL. */
    if (ss->fatal && ss->db)
        sqlite3_db_config(ss->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    sqlite3_close(ss->db);
    free(ss->kcache);
    sqi_smeta_free(ss);
    bulk_free(ss);
    free(ss->path);
    free(ss);
}

/* Create the file 0640 ourselves: SQLite would make it 0644. */
static int precreate(const char *path, struct rs_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);

    if (fd >= 0)
        return close(fd);
    if (errno == EEXIST)
        return 0;
    return rs_fail(err, RS_E_IO, "cannot open '%s': %s", path, strerror(errno));
}

/* Per-connection settings. WAL lets readers read while we write; the
 * cache bound keeps the daemon small; no mmap (it would count in RSS). */
static int configure(struct sqlite_sink *ss)
{
    static const char pragmas[] =
        "PRAGMA synchronous = NORMAL; PRAGMA temp_store = FILE; PRAGMA mmap_size = 0;"
        "PRAGMA secure_delete = OFF; PRAGMA journal_size_limit = 67108864;"
        "PRAGMA cache_size = -" STR(CACHE_KIB) ";";
    sqlite3_stmt *st;
    int wal = 0;

    sqlite3_busy_handler(ss->db, on_busy, ss);
    sqlite3_extended_result_codes(ss->db, 1);
    /* Only takes effect on a new file (ignored once in WAL mode). */
    if (sqlite3_exec(ss->db, "PRAGMA page_size = 4096", NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "set the page size");
    if (sqlite3_prepare_v2(ss->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "enable WAL");
    if (sqlite3_step(st) == SQLITE_ROW)
        wal = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!wal)
        return rs_fail(&ss->base.err, RS_E_SQL, "cannot enable WAL in '%s': %s", ss->path,
                       sqlite3_errmsg(ss->db));
    if (sqlite3_exec(ss->db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "configure the connection");
    return 0;
}

/* Add the status columns a mirror made by an older redsink lacks. */
static int status_columns_add(struct sqlite_sink *ss)
{
    char sql[160];

    for (size_t i = 0; i < sizeof(status_columns) / sizeof(status_columns[0]); i++) {
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_table_info('redsink_status')"
                 " WHERE name = '%s'", status_columns[i][0]);
        if (sqi_query_int(ss, sql, 0) > 0)
            continue;
        snprintf(sql, sizeof(sql), "ALTER TABLE redsink_status ADD COLUMN %s %s",
                 status_columns[i][0], status_columns[i][1]);
        if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return sqi_sql_fail(ss, "add a column to redsink_status");
    }
    return 0;
}

/* A new file: base tables, generation 1 (indexed: it is streamed into at
 * once), the views. */
static int schema_create(struct sqlite_sink *ss)
{
    char sql[96];

    if (sqlite3_exec(ss->db, base_ddl, NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "create the schema");
    if (status_columns_add(ss))
        return -1;
    if (exec_gen(ss, gen_ddl, 1, "create the schema") ||
        exec_gen(ss, gen_index, 1, "create the schema") ||
        exec_gen(ss, views_ddl, 1, "create the views"))
        return -1;
    snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d;",
             APP_ID, SCHEMA_VERSION);
    if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "create the schema");
    ss->gen = 1;
    return 0;
}

/* Is 'name' one of our generation tables, "g<digits>_<table>"? Its
 * generation, or -1. */
static int64_t table_generation(const char *name)
{
    char *end;
    long long g;

    if (name[0] != 'g' || name[1] < '0' || name[1] > '9')
        return -1;
    g = strtoll(name + 1, &end, 10);
    if (*end != '_')
        return -1;
    for (int i = 0; gen_tables[i]; i++)
        if (strcmp(end + 1, gen_tables[i]) == 0)
            return g;
    return -1;
}

/* An existing mirror: find the live generation, drop the others (a load
 * that crashed, or an old generation whose drop did not finish). */
static int schema_recover(struct sqlite_sink *ss)
{
    sqlite3_stmt *st;
    int64_t stale[64];
    int n = 0;

    ss->gen = sqi_query_int(ss, "SELECT generation FROM redsink_status", -1);
    if (ss->gen < 1)
        return rs_fail(&ss->base.err, RS_E_SQL, "cannot use '%s': its redsink_status "
                       "table is damaged", ss->path);
    if (sqlite3_prepare_v2(ss->db, "SELECT name FROM sqlite_schema WHERE type = 'table'"
                           " AND name GLOB 'g[0-9]*_*'", -1, &st, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "read the schema");
    while (sqlite3_step(st) == SQLITE_ROW && n < 64) {
        int64_t g = table_generation((const char *)sqlite3_column_text(st, 0));
        int seen = 0;

        for (int i = 0; i < n; i++)
            seen |= stale[i] == g;
        if (g >= 0 && g != ss->gen && !seen)
            stale[n++] = g;
    }
    sqlite3_finalize(st);
    for (int i = 0; i < n; i++)
        if (drop_generation(ss, stale[i]))
            return -1;
    if (status_columns_add(ss) ||
        exec_gen(ss, array_upgrade_ddl, ss->gen, "add the array tables"))
        return -1;
    /* Recreate the views: cheap, and repairs them if someone dropped one. */
    return exec_gen(ss, views_ddl, ss->gen, "create the views");
}

/* Create or check the schema in one write transaction. */
static int schema_open(struct sqlite_sink *ss)
{
    int64_t app, tables;

    if (sqlite3_exec(ss->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "lock the database");
    app = sqi_query_int(ss, "PRAGMA application_id", 0);
    tables = sqi_query_int(ss, "SELECT count(*) FROM sqlite_schema", 0);
    if (app == 0 && tables == 0) {
        if (schema_create(ss))
            goto fail;
    } else if (app != APP_ID) {
        rs_fail(&ss->base.err, RS_E_SQL, "cannot use '%s': not a redsink mirror", ss->path);
        goto fail;
    } else if (sqi_query_int(ss, "PRAGMA user_version", 0) > SCHEMA_VERSION) {
        rs_fail(&ss->base.err, RS_E_SQL, "cannot use '%s': made by a newer redsink "
                "(schema %lld)", ss->path, (long long)sqi_query_int(ss, "PRAGMA user_version", 0));
        goto fail;
    } else if (schema_recover(ss)) {
        goto fail;
    }
    if (sqlite3_exec(ss->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqi_sql_fail(ss, "create the schema");
        goto fail;
    }
    ss->target = ss->gen;
    return 0;
fail:
    txn_rollback(ss);
    return -1;
}

static struct sink *sq_open(const char *path,
                            void (*on_event)(void *ud, const struct sink_event *ev), void *ud,
                            struct rs_error *err)
{
    struct sqlite_sink *ss;

    if (path == NULL || *path == '\0') {
        rs_fail(err, RS_E_CONFIG, "no SQLite database path given");
        return NULL;
    }
    if ((ss = calloc(1, sizeof(*ss))) == NULL || (ss->path = strdup(path)) == NULL) {
        free(ss);
        rs_fail(err, RS_E_NOMEM, "cannot open '%s': out of memory", path);
        return NULL;
    }
    ss->base.ops = &sqlite_ops;
    ss->base.on_event = on_event;
    ss->base.event_ud = ud;
    ss->tail_kid = ss->group.kid = ss->consumer.kid = ss->stage_kid = -1;
    if (precreate(path, err)) {
        free(ss->path);
        free(ss);
        return NULL;
    }
    /* from here on every failure goes through sq_close, which frees it */
    ss->kcache = calloc(1, sizeof(*ss->kcache));   /* optional: NULL disables it */
    /* One thread owns the connection: no per-call mutex (NOMUTEX), and no
     * global allocation statistics (one more mutex per malloc). Together
     * they were ~12% of the time spent applying a SET stream. The config
     * call only works before SQLite is initialised, so it may fail. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sqlite3_open_v2(path, &ss->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        rs_fail(err, RS_E_SQL, "cannot open '%s': %s", path, sqlite3_errmsg(ss->db));
        sq_close(&ss->base);
        return NULL;
    }
    if (configure(ss) || schema_open(ss)) {
        rs_fail(err, ss->base.err.code, "%s", ss->base.err.msg);
        sq_close(&ss->base);
        return NULL;
    }
    ckpt_start(ss);
    return &ss->base;
}

/* "synchronous": the durability of every commit (default NORMAL, see
 * doc/schema.md). FULL makes every acknowledged offset survive a power
 * cut, at the price of an fsync per commit; OFF risks the mirror. */
static int sq_set_option(struct sink *s, const char *name, const char *value)
{
    struct sqlite_sink *ss = SS(s);
    char sql[64];

    if (strcmp(name, "synchronous") != 0)
        return rs_fail(&s->err, RS_E_CONFIG, "sqlite: unknown option '%s'", name);
    if (strcasecmp(value, "off") != 0 && strcasecmp(value, "normal") != 0 &&
        strcasecmp(value, "full") != 0 && strcasecmp(value, "extra") != 0)
        return rs_fail(&s->err, RS_E_CONFIG, "sqlite: synchronous must be off, normal, full "
                       "or extra, not '%s'", value);
    snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s", value);
    if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "set synchronous");
    if (ss->ckpt) {
        int level = (int)sqi_query_int(ss, "PRAGMA synchronous", 1);

        pthread_mutex_lock(&ss->ckpt->mu);
        ss->ckpt->sync_level = level;
        pthread_mutex_unlock(&ss->ckpt->mu);
    }
    return 0;
}

static const struct sink_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .set_option = sq_set_option,
    .read_checkpoint = sq_read_checkpoint,
    .set_state = sq_set_state,
    .set_progress = sq_set_progress,
    .load_begin = sq_load_begin,
    .load_commit = sq_load_commit,
    .load_abort = sq_load_abort,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .key_find = sq_key_find,
    .key_create = sq_key_create,
    .key_delete = sq_key_delete,
    .key_set_expire = sq_key_set_expire,
    .key_rename = sq_key_rename,
    .key_copy = sq_key_copy,
    .key_is_empty = sq_key_is_empty,
    .flush_db = sq_flush_db,
    .swap_db = sq_swap_db,
    .string_get = sq_string_get,
    .string_set = sq_string_set,
    .hash_set = sq_hash_set,
    .hash_del = sq_hash_del,
    .hash_get = sq_hash_get,
    .hash_len = sq_hash_len,
    .hash_set_expire = sq_hash_set_expire,
    .hash_scan = sq_hash_scan,
    .list_push = sq_list_push,
    .list_len = sq_list_len,
    .list_get = sq_list_get,
    .list_range = sq_list_range,
    .list_set = sq_list_set,
    .list_pop = sq_list_pop,
    .list_trim = sq_list_trim,
    .list_insert = sq_list_insert,
    .list_rem = sq_list_rem,
    .set_add = sq_set_add,
    .set_rem = sq_set_rem,
    .set_card = sq_set_card,
    .set_is_member = sq_set_is_member,
    .set_scan = sq_set_scan,
    .set_combine = sq_set_combine,
    .zset_score = sq_zset_score,
    .zset_set = sq_zset_set,
    .zset_rem = sq_zset_rem,
    .zset_card = sq_zset_card,
    .zset_scan = sq_zset_scan,
    .zset_range = sq_zset_range,
    .zset_rem_range = sq_zset_rem_range,
    .zset_source_scan = sq_zset_source_scan,
    .stream_add = sq_stream_add,
    .stream_meta_set = sq_stream_meta_set,
    .stream_group = sq_stream_group,
    .stream_pending = sq_stream_pending,
    .stream_consumer = sq_stream_consumer,
    .stream_consumer_pending = sq_stream_consumer_pending,
    .stream_meta_get = sq_stream_meta_get,
    .stream_trim = sq_stream_trim,
    .stream_delete = sq_stream_delete,
    .stream_first = sq_stream_first,
    .stream_scan = sq_stream_scan,
    .stream_group_get = sq_stream_group_get,
    .stream_group_set = sq_stream_group_set,
    .stream_group_del = sq_stream_group_del,
    .stream_consumer_set = sq_stream_consumer_set,
    .stream_consumer_del = sq_stream_consumer_del,
    .stream_pel_set = sq_stream_pel_set,
    .stream_pel_del = sq_stream_pel_del,
    .stream_pel_del_all = sq_stream_pel_del_all,
    .stream_referenced = sq_stream_referenced,
    .array_set = sq_array_set,
    .array_del_range = sq_array_del_range,
    .array_range = sq_array_range,
    .array_info = sq_array_info,
    .array_cursor_get = sq_array_cursor_get,
    .array_cursor_set = sq_array_cursor_set,
    .function_store = sq_function_store,
    .function_delete = sq_function_delete,
    .unknown_command = sq_unknown_command,
};


/* ------------------------------------------------------------------ */
/* `redsink status`: the status row, read-only                         */
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

static int sq_read_status(const char *path, struct sink_status *row,
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
/* the backend (sinks/sink_backend.h)                                  */
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
static int sq_gauges(const char *path, struct sink_gauge *g, int max)
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

const struct sink_backend sink_sqlite_backend = {
    .name = "sqlite",
    .open = sq_open,
    .read_status = sq_read_status,
    .gauges = sq_gauges,
};
