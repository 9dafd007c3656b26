/*
 * sqlite_int.h - the SQLite sink's inside, shared by its files: sqlite.c
 * (open, close, the vtable; it lists the others), one file per concern of
 * the core (sqlite_stmt.c, sqlite_schema.c, sqlite_fault.c, sqlite_ckpt.c,
 * sqlite_txn.c, sqlite_load.c, sqlite_bulk.c, sqlite_keycache.c,
 * sqlite_keys.c, sqlite_status.c, sqlite_function.c) and the type files
 * (sqlite_string.c, sqlite_hash.c, sqlite_list.c, sqlite_set.c,
 * sqlite_zset.c, sqlite_stream.c, sqlite_array.c). Not installed; only the
 * files of sinks/sqlite/ include it, and with it <sqlite3.h>.
 *
 * A type file owns its SQL: it keeps its statement templates and reaches
 * them with sqi_xstmt() in its own slot range (SQI_X_*, below), so adding
 * a statement touches no shared enum. Templates name tables with '@'
 * ("@hash" is "g3_hash" in generation 3): the sink rewrites it for the
 * generation it writes to, and drops every cached statement when that
 * changes (a full sync), so a template is never bound to a stale table.
 *
 * Every op follows the same pattern: fail at once when the sticky error is
 * set (sqi_stuck), count a row during a full sync (sqi_load_tick), fetch
 * the cached statement, bind (sqi_bind_*; a bind failure goes through
 * sqi_bind_fail), then sqi_run or sqi_row. Statements are reset and their
 * bindings cleared before an op returns, so SQLITE_STATIC bindings of
 * borrowed bytes are safe.
 */
#ifndef RS_SQLITE_INT_H
#define RS_SQLITE_INT_H

#include <stdint.h>
/* The pre-update hook (sqlite_outbox.c): in Debian's build, declared
 * only with this. */
#ifndef SQLITE_ENABLE_PREUPDATE_HOOK
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#endif
#include <sqlite3.h>

#include "sink.h"

/* Unix time in ms, exact, as SQL: julianday('now') is ms-precise and
 * constant within one statement, so every row of a query sees one "now". */
#define NOW_MS "CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"

/* ------------------------------------------------------------------ */
/* statement slots                                                     */
/* ------------------------------------------------------------------ */

/* The core's statements (their SQL is in sqlite_stmt.c); any file may use
 * them through sqi_stmt(). */
enum stmt_id {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
    ST_CKPT_GET, ST_CKPT_SET, ST_STATE_SET, ST_PROGRESS, ST_REPL_PROGRESS, ST_UNKNOWN,
    ST_KEY_INSERT, ST_KEY_FIND, ST_KEY_TYPE, ST_KEY_DELETE, ST_KEY_EXPIRE,
    ST_KEY_RENAME, ST_KEY_FLUSH,
    ST_FUNCTION,
    ST_COUNT
};

/* Children tables: rows keyed by the key id 'kid'. */
enum child { C_HASH, C_LIST, C_SET, C_ZSET, C_STREAM, C_SMETA, C_SGROUP, C_SPEL,
             C_SCONS, C_ARRAY, C_AMETA, C_PHASH, C_COUNT };
/* Statements every child table has (sqi_child_stmt). */
enum child_op {
    CO_PROBE,        /* SELECT 1 ... WHERE kid = ?1 LIMIT 1 */
    CO_DELETE,       /* DELETE ... WHERE kid = ?1 */
    CO_FLUSH,        /* DELETE the rows of every key of db ?1 of type ?2 */
    CO_COUNT
};

/*
 * Statement slots of the type files, 32 per family: a family numbers its
 * statements SQI_X_<FAMILY> + 0, + 1... up to + 31.
 */
#define SQI_XSTMT_MAX     320
#define SQI_X_PER_FAMILY  32
#define SQI_X_STRING      0
#define SQI_X_KEYS        32
#define SQI_X_HASH        64
#define SQI_X_LIST        96
#define SQI_X_SET         128
#define SQI_X_ZSET        160
#define SQI_X_STREAM      192
#define SQI_X_MISC        224
#define SQI_X_ARRAY       256
#define SQI_X_PATHHASH    288

/* ------------------------------------------------------------------ */
/* the sink                                                            */
/* ------------------------------------------------------------------ */

enum mode { MODE_IDLE, MODE_STREAM, MODE_LOAD };

/* A copy of a stream group or consumer name, remembered between calls. */
struct name_memo {
    int64_t kid;          /* key it belongs to; -1 when none */
    char *ptr;
    size_t len;
};

/*
 * One open mirror. 'gen' is the generation the views show; 'target' the
 * one the ops write to (gen, or gen + 1 while a full sync builds it).
 * st, cst and xstmt cache prepared statements for 'target'; NULL slots
 * are prepared on first use.
 */
struct sqlite_sink {
    struct sink base;            /* first: a struct sink * points here */
    sqlite3 *db;
    char *path;
    int64_t gen, target;
    enum mode mode;
    sqlite3_stmt *st[ST_COUNT];
    sqlite3_stmt *cst[CO_COUNT][C_COUNT];
    sqlite3_stmt *xstmt[SQI_XSTMT_MAX];   /* the type files' statements */
    int64_t load_keys;           /* keys created by the running load */
    int64_t load_rows;           /* rows since the load's last batch commit */
    int64_t load_id;             /* the last key id the running load gave */
    int64_t tail_kid, tail_pos;  /* load: next tail position of list tail_kid */
    int64_t stage_kid, stage_rows;   /* load: the key being staged, its members so far */
    int stage_index, staged;     /* big keys (sqlite_load.c): which staging table, rows in it */
    struct name_memo group, consumer;
    struct key_cache *kcache;    /* key_find's cache, see sqlite_keycache.c */
    struct key_filter *kfilter;  /* names that may exist, see sqlite_keycache.c */
    int kf_armed;                /* kfilter saw every name: trust its "absent" */
    struct smeta_cache *smeta;   /* stream metadata, written back: sqlite_stream.c */
    struct lb_cache *lbounds;    /* lists' lhead and length: sqlite_list.c */
    struct bulk *bulk;           /* buffered rows, see sqi_bulk_begin */
    int bulk_pending;            /* stream mode: rows are buffered, sent before any statement */
    int64_t pop_kid, pop_lo, pop_hi;   /* stream mode: pops waiting (sqlite_list.c); 0: none */
    /* Faults (see sqlite_fault.c). 'fatal': the sticky error is one
     * a retry cannot fix (disk full, I/O error, the file deleted or
     * replaced); rollback and load_abort keep it, so the owner stops. */
    int fatal;
    int incr_refused;            /* set by redsink_incr (sqi_incr_register) */
    int64_t incr_sum;            /* and the sum it wrote when it did not refuse */
    struct held *held;           /* stream mode: values held, sqlite_string.c */
    int64_t busy_since;          /* mono ms the current lock wait began */
    int busy_logged;             /* that wait was reported (SINK_EV_LOCK_WAIT) */
    uint64_t wal_dev, wal_ino;   /* the -wal file we write; 0: not seen yet */
    struct ckpt *ckpt;           /* background checkpointer, see sqlite_ckpt.c */
    struct outbox *outbox;       /* PostgreSQL's outbox, see sqlite_outbox.c; NULL: off */
};

/* The sqlite sink behind a struct sink * (its first member). */
#define SS(s) ((struct sqlite_sink *)(s))

/* ------------------------------------------------------------------ */
/* helpers (sqlite_stmt.c; sqi_sql_fail in sqlite_fault.c)            */
/* ------------------------------------------------------------------ */

/* Set the sticky error "cannot <what> in '<path>': <sqlite message>"
 * ("disk full" for SQLITE_FULL), and mark it fatal when a retry cannot
 * fix it (full, I/O error, corrupt, read-only, moved). Always -1. */
int sqi_sql_fail(struct sqlite_sink *ss, const char *what);

/* -1 once the sticky error is set, else 0: every op checks this first.
 * This and the statement helpers below run several times per command, so
 * they are inline here rather than calls into sqlite_stmt.c. */
static inline int sqi_stuck(struct sqlite_sink *ss)
{
    return ss->base.err.code == 0 ? 0 : -1;
}

/* A malloc'ed copy of 'tmpl' with each '@' replaced by "g<gen>_" and, when
 * 'child' is not NULL, "%s" by 'child'. The caller frees it. NULL when out
 * of memory. */
char *sqi_sql_expand(const char *tmpl, int64_t gen, const char *child);

/* The statement cached in *slot, prepared from 'tmpl' (expanded for the
 * target generation, see sqi_sql_expand) when *slot is NULL. The sink
 * owns it (finalized when the generation changes or at close). NULL with
 * the sticky error set when it cannot be prepared. */
sqlite3_stmt *sqi_prepare(struct sqlite_sink *ss, sqlite3_stmt **slot, const char *tmpl,
                          const char *child);

/* sqi_prepare() for a core statement, a child-table statement, or the type
 * files' slot 'slot' (0 <= slot < SQI_XSTMT_MAX, inside the caller's
 * SQI_X_* range). A slot always gets the same 'tmpl'. */
sqlite3_stmt *sqi_stmt_prepare(struct sqlite_sink *ss, enum stmt_id id);
static inline sqlite3_stmt *sqi_stmt(struct sqlite_sink *ss, enum stmt_id id)
{
    return ss->st[id] != NULL ? ss->st[id] : sqi_stmt_prepare(ss, id);
}
sqlite3_stmt *sqi_child_stmt(struct sqlite_sink *ss, enum child_op op, enum child c);
sqlite3_stmt *sqi_xstmt(struct sqlite_sink *ss, int slot, const char *tmpl);

/*
 * Bind parameter 'i' and return SQLite's result code (OR them and check
 * once). sqi_bind_bytes binds Redis bytes as TEXT when valid UTF-8, else
 * BLOB, NULL when 'b' is NULL: the one place that decides, so a lookup
 * binds exactly as the insert did. The bytes are bound SQLITE_STATIC: they
 * must stay valid until the statement is reset (sqi_run, sqi_row,
 * sqi_stmt_done). sqi_bind_time binds RS_NO_EXPIRE (-1) as NULL.
 * sqi_bind_u64 stores stream ids, wrapping past INT64_MAX.
 */
int sqi_bind_bytes(sqlite3_stmt *st, int i, const struct rs_bytes *b);
/*
 * A string value of SQI_BIG_VALUE bytes or more goes into its key row as a
 * zeroblob and is then written in place with incremental BLOB I/O
 * (sqi_big_fill), so that SQLite never builds a record holding a second
 * copy of it. SQLite has no zero-filled TEXT, so a big value that is valid
 * UTF-8 is kept as a BLOB too, flagged by lhead = 1 in its key row (lhead
 * means nothing else for a string), and the redis_strings view casts it
 * back to TEXT: readers see TEXT, as for any UTF-8 value.
 * sqi_big_value says what b is (SQI_SMALL, or big binary or big text);
 * sqi_bind_value binds a zeroblob for a big one, else as sqi_bind_bytes;
 * sqi_bind_text_flag binds the lhead flag.
 */
#define SQI_BIG_VALUE ((size_t)1 << 20)
enum { SQI_SMALL, SQI_BIG_BLOB, SQI_BIG_TEXT };
int sqi_big_value(const struct rs_bytes *b);
int sqi_bind_value(sqlite3_stmt *st, int i, const struct rs_bytes *b, int big);
/* The writer's SQL function redsink_incr(value, incr) of INCR and HINCRBY
 * (sqlite_stmt.c): it sets ss->incr_refused when it leaves value as it is. */
int sqi_incr_register(struct sqlite_sink *ss);
int sqi_bind_text_flag(sqlite3_stmt *st, int i, int big);
int sqi_big_fill(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *b);
/*
 * Big element values (a hash, list, stream or array value; sqlite_schema.c): the
 * element tables are WITHOUT ROWID, so a value of SQI_BIG_VALUE bytes or
 * more goes into a gN_big row, written with BLOB I/O, and the element row
 * gets value '' and big = its id. sqi_big_put stores b there when 'big'
 * (sqi_big_value) says so and sets *id, else sets *id = 0; 0 or -1. It
 * creates the generation's gN_big triggers first (sqlite_schema.c).
 * sqi_bind_elem binds parameters i (value) and i + 1 (big) for an element
 * row (a small value leaves i + 1 unbound: NULL, as every statement's
 * bindings are cleared after use). sqi_column_elem reads the element value of a row whose columns col
 * and col + 1 are value and big: borrowed from the statement, or for a big
 * one read into *owned, which the caller frees (free(NULL) is fine) once
 * done with *v. 0 or -1.
 */
int sqi_big_put(struct sqlite_sink *ss, const struct rs_bytes *b, int big, int64_t *id);
int sqi_bind_elem(sqlite3_stmt *st, int i, const struct rs_bytes *b, int64_t big_id);
/* Delete gN_big row 'id' (put for a row that was not written). 0 or -1. */
int sqi_big_drop(struct sqlite_sink *ss, int64_t id);
int sqi_column_elem(struct sqlite_sink *ss, sqlite3_stmt *st, int col, struct rs_bytes *v,
                    void **owned);
/* gN_big row 'id' read into *owned (the caller frees it), *v pointing at it. */
int sqi_big_read(struct sqlite_sink *ss, int64_t id, struct rs_bytes *v, void **owned);
/* BLOB I/O on table 't' ("big", "bigm", "keys": without "g<N>_") of the
 * target generation. sqi_blob_write writes b into the zeroblob in column
 * 'col' of row 'id' (SQLite copies it page by page); sqi_blob_read reads
 * column v of row 'id' as sqi_big_read does; sqi_blob_copy copies one
 * value into a zeroblob of its length, 1 MiB at a time. 0 or -1. */
int sqi_blob_write(struct sqlite_sink *ss, const char *t, const char *col, int64_t id,
                   const struct rs_bytes *b);
int sqi_blob_read(struct sqlite_sink *ss, const char *t, int64_t id, struct rs_bytes *v,
                  void **owned);
int sqi_blob_copy(struct sqlite_sink *ss, const char *from_t, const char *from_col,
                  int64_t from, const char *to_t, const char *to_col, int64_t to);
/*
 * Big fields and members (doc/schema.md, "Big values"). A hash field, a
 * set or sorted-set member of SQI_BIG_VALUE bytes or more is in the
 * primary key of a WITHOUT ROWID table, where SQLite builds the record,
 * hence a second copy, whole (a sorted-set row keeps a prefix for its
 * order, see sqlite_zset.c). So is a stream field name of that size (not in the key, but two
 * copies otherwise), whose gN_bigm row serves every entry of the stream
 * that repeats it. Its row holds a placeholder instead: SQI_PH_LEN bytes, 0xFF and
 * the SHA-256 of the bytes, bound as TEXT. No real field is such a TEXT
 * (0xFF is never valid UTF-8, and invalid UTF-8 is bound as a BLOB), and
 * equal bytes give equal placeholders, so set algebra in SQL still works.
 * The bytes are in gN_bigm(kid, ph), written with BLOB I/O; triggers delete
 * that row with its element row; the views show the bytes.
 * sqi_bind_member binds member m of key kid at parameter i: a small m as
 * sqi_bind_bytes does; a big one as its placeholder, after checking that
 * the gN_bigm row of that placeholder holds exactly m (one in a 2^256
 * chance that it does not: an error, never a wrong row) or, with 'store',
 * writing one when there is none. SQLite's result code (an error is set).
 * 'ph' is the caller's buffer, "" at first: a second bind of the same m
 * (ph filled by the first) skips the look-up.
 * sqi_column_member reads column 'col' as a member of key kid: borrowed
 * from the statement, or a placeholder's bytes read into *owned (the
 * caller frees it). 0 or -1.
 * sqi_bigm_copy gives key 'to' the gN_bigm rows of key 'from' it lacks
 * (after COPY or SUNIONSTORE-like copies of member rows). 0 or -1.
 * sqi_bigm_cmp compares m with the bytes behind placeholder ph of key kid
 * in Redis' order (memcmp, shorter first): *cmp < 0, 0 or > 0, read 1 MiB
 * at a time. 0 or -1 (an error also when there are no such bytes).
 */
#define SQI_PH_LEN 33
int sqi_bind_member(struct sqlite_sink *ss, sqlite3_stmt *st, int i, int64_t kid,
                    const struct rs_bytes *m, int store, char ph[SQI_PH_LEN]);
int sqi_column_member(struct sqlite_sink *ss, sqlite3_stmt *st, int col, int64_t kid,
                      struct rs_bytes *m, void **owned);
int sqi_bigm_copy(struct sqlite_sink *ss, int64_t from, int64_t to);
int sqi_bigm_cmp(struct sqlite_sink *ss, int64_t kid, const char *ph, const struct rs_bytes *m,
                 int *cmp);
/* ph = 0xFF and the SHA-256 of m: 0, or -1 (out of memory, no error set).
 * sqi_blob_equal: does column v of row 'id' of table 't' ("bigm", "bign")
 * hold exactly m? Compared 1 MiB at a time. 1, 0, or -1 on error. */
int sqi_placeholder(const struct rs_bytes *m, char ph[SQI_PH_LEN]);
int sqi_blob_equal(struct sqlite_sink *ss, const char *t, int64_t id, const struct rs_bytes *m);
int sqi_bind_time(sqlite3_stmt *st, int i, int64_t ms);
int sqi_bind_u64(sqlite3_stmt *st, int i, uint64_t v);

/* Send the rows a stream transaction buffered (sqi_bulk_begin) before a
 * statement runs: sqi_run and sqi_row call it, and so must any other path
 * that runs SQL in a stream transaction. It runs after the caller bound
 * its statement, so the statements it runs are its own (a shared one
 * would lose the caller's bindings). 0, or -1 with the error set. */
int sqi_bulk_flush(struct sqlite_sink *ss);
static inline int sqi_bulk_settle(struct sqlite_sink *ss)
{
    return ss->bulk_pending ? sqi_bulk_flush(ss) : 0;
}

/* Reset a statement and clear its bindings (after reading a row). */
static inline void sqi_stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Step a statement to its end, ignoring rows, and reset it. 0, or -1
 * with the sticky error "cannot <what>". */
static inline int sqi_run_as_is(struct sqlite_sink *ss, sqlite3_stmt *st, const char *what)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        sqi_sql_fail(ss, what);
    sqi_stmt_done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static inline int sqi_run(struct sqlite_sink *ss, sqlite3_stmt *st, const char *what)
{
    if (sqi_bulk_settle(ss)) {
        sqi_stmt_done(st);
        return -1;
    }
    return sqi_run_as_is(ss, st, what);
}

/* sqi_run for the statement that inserts a new key's row: in a stream
 * transaction it sends nothing first, as it touches no buffered row (the
 * list and stream tables), no pending pop and no held value, and the
 * new id is past every id those name. A full sync sends its buffered
 * rows first, as sqi_run does (their ids are counted in order). */
static inline int sqi_run_new_key(struct sqlite_sink *ss, sqlite3_stmt *st, const char *what)
{
    if (ss->mode != MODE_STREAM)
        return sqi_run(ss, st, what);
    return sqi_run_as_is(ss, st, what);
}

/* Step once: 1 with a row (the caller reads its columns, then calls
 * sqi_stmt_done), 0 when there is none, -1 on error; the statement is
 * already reset when it returns 0 or -1. sqi_row_as_is sends nothing
 * buffered or held first: only for a statement that reads none of it
 * (a key lookup reads gN_keys' id, type and TTL). */
static inline int sqi_row_as_is(struct sqlite_sink *ss, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc != SQLITE_DONE)
        sqi_sql_fail(ss, what);
    sqi_stmt_done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static inline int sqi_row(struct sqlite_sink *ss, sqlite3_stmt *st, const char *what)
{
    if (sqi_bulk_settle(ss)) {
        sqi_stmt_done(st);
        return -1;
    }
    return sqi_row_as_is(ss, st, what);
}

/* A bind failed: set the sticky error, reset 'st'. Always -1. */
int sqi_bind_fail(struct sqlite_sink *ss, sqlite3_stmt *st, const char *what);

/* Bind the key id as ?1 and sqi_run(). -1 also when 'st' is NULL (a
 * failed prepare: the error is set), so sqi_run_kid(ss, sqi_stmt(...))
 * is safe. */
int sqi_run_kid(struct sqlite_sink *ss, sqlite3_stmt *st, int64_t id, const char *what);

/* For member statements "... ?1 kid, ?2 bytes": sqi_stuck, sqi_load_tick,
 * prepare slot 'slot' from 'tmpl' (sqi_xstmt), bind and run. 'how': bind
 * ?2 as plain bytes (SQI_M_BYTES), or with sqi_bind_member, looking a big
 * one up (SQI_M_FIND) or storing it (SQI_M_STORE). *changed = 1 when a row
 * changed (may be NULL). 0 or -1. */
enum { SQI_M_BYTES, SQI_M_FIND, SQI_M_STORE };
int sqi_run_member(struct sqlite_sink *ss, int slot, const char *tmpl, int64_t kid,
                   const struct rs_bytes *m, int how, int *changed, const char *what);

/* The first column of the first row of 'sql' (run once, not cached), or
 * 'dflt' when there is none or it fails. Never sets the error. */
int64_t sqi_query_int(struct sqlite_sink *ss, const char *sql, int64_t dflt);

/* Count one row written by a full sync and commit the batch when it is
 * big enough (the WAL can then be reused). Does nothing outside a full
 * sync. 0 or -1. Call it before fetching your statement. */
int sqi_load_tick(struct sqlite_sink *ss);

/* During a full sync, the members of a big hash, set or sorted set (past
 * the first 50,000 of one key) go to a staging table, sorted into the
 * generation when the key ends (sqlite_load.c, "Big keys"). Call before the
 * normal insert: 0 with *staged = 1 when the row was staged (the caller is
 * done), 0 with *staged = 0 when the caller inserts it, -1 on error. 'a' is
 * the field or member; 'b' a hash value; score and expire_ms as the child
 * table has them. */
int sqi_stage_row(struct sqlite_sink *ss, enum child c, int64_t kid, const struct rs_bytes *a,
                  const struct rs_bytes *b, double score, int64_t expire_ms, int *staged);

/*
 * Bulk rows. During a full sync the type files hand their element rows to
 * the core instead of running one INSERT each; the core sends them as
 * multi-row INSERTs ("INSERT ... VALUES (?,?,?),(?,?,?)..."), up to
 * SQI_BULK_ROWS rows per statement, which keeps the table's cursor open
 * from row to row. Values are copied (the parser's bytes are borrowed)
 * into a buffer of at most SQI_BULK_BYTES per table. Pending rows are sent
 * when their buffer is full and before every batch commit: so a load op
 * must send them (sqi_bulk_flush) before it reads any table.
 *
 * In a stream transaction, only the rows of a table whose sqi_bulk says
 * 'stream' are buffered: list pushes and stream entries, which never meet
 * an existing row (a push takes a position past the list's bounds, an
 * entry an id past the stream's last). There the applier reads tables
 * between any two writes, so no caller flushes: every statement run
 * through sqi_run or sqi_row sends the pending rows first (sqi_bulk_settle),
 * and so do the few paths that run SQL otherwise (FLUSHALL's DELETEs,
 * sqi_query_int, the key filter's scan). Two statements run without
 * them, as they read and write none of those tables: a key lookup
 * (sqi_row_as_is) and a new key's insert (sqi_run_new_key), so XADDs to
 * new streams still fill whole statements. sq_commit sends them before it
 * gathers the outbox's keys (the pre-update hook sees a row when it is
 * sent); a rollback forgets them (sqi_forget). A run of LPUSHes or of
 * XADDs whose keys the caches know thus costs one multi-row statement
 * per SQI_BULK_ROWS rows instead of one statement a row. Rows that come
 * in no key order (XADDs to many streams) are kept longer and sent
 * sorted by key id (sqlite_bulk.c, BULK_SORT_ROWS).
 * Pops wait the same way: a run of LPOPs or RPOPs of one list that need
 * not read the element (not LMOVE) is one range of positions
 * (ss->pop_kid), deleted by one statement after the buffered rows. A
 * push sends the pops first, so every buffered row came before them.
 */
#define SQI_BULK_ROWS    64          /* a power of two */
#define SQI_BULK_COLS    7
#define SQI_BULK_BYTES   (256 * 1024)
/* The tables that buffer rows: struct sqi_bulk's id. */
enum { SQI_BULK_KEYS, SQI_BULK_HASH, SQI_BULK_LIST, SQI_BULK_SET, SQI_BULK_ZSET, SQI_BULK_STREAM,
       SQI_BULK_TABLES };
struct sqi_bulk {
    int id;                /* 0 .. SQI_BULK_TABLES - 1: one per table */
    int ncols;             /* 1 .. SQI_BULK_COLS values per row */
    const char *into;      /* "@t(a, b)", as in sqi_xstmt templates */
    /* The single-row statement is "INSERT <verb> INTO <into> VALUES (?, ?)
     * <tail>", verb "OR REPLACE", "OR IGNORE" or "", tail a conflict clause
     * or "". Rows are sent with INSERT OR IGNORE, which needs no statement
     * journal; a statement that ignored a row (a duplicate: never in an RDB
     * Redis wrote) is run again row by row with the single-row statement,
     * so the result is the same as one single-row statement per row. */
    const char *verb, *tail;
    int stream;            /* also buffered in a stream transaction (above) */
};

/* Start a row of table 't' whose byte values total 'bytes'. 1: append its
 * ncols values (sqi_bulk_int...) in column order, then sqi_bulk_end. 0:
 * neither in a full sync nor a stream transaction with t->stream, or the
 * row is too big to copy; run the row with the single-row statement (its
 * sqi_run sends the pending rows first). -1 on error. Counts the row
 * (sqi_load_tick) when it returns 1. */
int sqi_bulk_begin(struct sqlite_sink *ss, const struct sqi_bulk *t, size_t bytes);
void sqi_bulk_int(struct sqlite_sink *ss, int64_t v);
void sqi_bulk_double(struct sqlite_sink *ss, double v);
void sqi_bulk_time(struct sqlite_sink *ss, int64_t ms);   /* RS_NO_EXPIRE: NULL */
void sqi_bulk_bytes(struct sqlite_sink *ss, const struct rs_bytes *b);  /* as sqi_bind_bytes */
/* The row is complete; sends the buffer when it is full. 0 or -1. */
int sqi_bulk_end(struct sqlite_sink *ss);
/* sqi_bulk_flush (declared above) sends the pending rows (none: 0). 0 or
 * -1 with the sticky error set. sqi_bulk_discard forgets them (rollback). */
void sqi_bulk_discard(struct sqlite_sink *ss);

/* Free a remembered name; the memo then matches no key. */
void sqi_memo_clear(struct name_memo *m);

/* The rs_type of a gN_keys.type text; RS_T_NONE when unknown. */
enum rs_type sqi_type_parse(const unsigned char *t);
/* The PostgreSQL downstream's outbox (sqlite_outbox.c): begin starts
 * recording the primary keys of the changed rows, commit stores them
 * (inside the transaction), rollback forgets them (sqi_outbox_end).
 * No-ops while the outbox is off. */
int sq_outbox_enable(struct sink *s, int64_t max_bytes, int64_t (*shipped)(void *arg),
                     void *arg);
int sqi_outbox_begin(struct sqlite_sink *ss);
int sqi_outbox_commit(struct sqlite_sink *ss, const struct repl_pos *pos);
void sqi_outbox_end(struct sqlite_sink *ss);
void sqi_outbox_free(struct sqlite_sink *ss);

/* Forget every prepared statement (the target generation changed). */
void sqi_stmts_drop(struct sqlite_sink *ss);

/* The stream metadata cache (sqlite_stream.c). In a stream transaction
 * stream_meta_set only updates the cache; sqi_smeta_sync writes the
 * changed rows, and must run before anything reads or copies gN_smeta
 * in SQL (commit, flush, copy). sqi_smeta_created: key_create made a
 * stream (no row yet). sqi_smeta_drop forgets one key (deleted);
 * sqi_smeta_forget everything, unwritten changes included (rollback,
 * a new generation); sqi_smeta_free at close. */
int sqi_smeta_sync(struct sqlite_sink *ss);
int sqi_smeta_created(struct sqlite_sink *ss, int64_t kid);
void sqi_smeta_drop(struct sqlite_sink *ss, int64_t kid);
void sqi_smeta_forget(struct sqlite_sink *ss);
void sqi_smeta_free(struct sqlite_sink *ss);

/* The list bounds cache (sqlite_list.c), in a stream transaction. It
 * holds one list's lhead unwritten: sqi_lb_sync writes it, and must run
 * before anything reads gN_keys.lhead in SQL (commit, flush, copy).
 * sqi_lb_created sets a new list's (lhead 0, empty), sqi_lb_drop forgets
 * one key, its unwritten head included (deleted), sqi_lb_forget all,
 * the unwritten head included (rollback, with the key cache),
 * sqi_lb_free at close. sqi_lb_empty: 1 and *empty when the list's
 * length is known, else 0. */
int sqi_lb_sync(struct sqlite_sink *ss);
/* The pops a stream transaction deferred (sq_list_pop): one range of one
 * list, deleted by sqi_bulk_flush after the buffered rows. 0 or -1. */
int sqi_lb_pops_flush(struct sqlite_sink *ss);
int sqi_lb_created(struct sqlite_sink *ss, int64_t kid);
void sqi_lb_drop(struct sqlite_sink *ss, int64_t kid);
void sqi_lb_forget(struct sqlite_sink *ss);
void sqi_lb_free(struct sqlite_sink *ss);
int sqi_lb_empty(struct sqlite_sink *ss, int64_t kid, int *empty);

/* ------------------------------------------------------------------ */
/* the core's concerns, one file each                                  */
/* ------------------------------------------------------------------ */

/* The schema (sqlite_schema.c): the tables of a generation ('@' as in
 * the statement templates), its (key, db) index, the contract's views on
 * it, and the names of its tables (NULL-terminated). */
#define APP_ID 0x72736e6b   /* 'rsnk' in the file header */
extern const char sqi_gen_ddl[], sqi_gen_index[];
/* Create the views on generation 'gen', showing the bytes of big fields
 * and members when gen has one, and of big key names when it has one
 * (sqlite_schema.c). sqi_views_upgrade does that for the live generation
 * once it has its first big member ('bigm') or big name ('bign'), and
 * nothing in a full sync (its commit does). 0 or -1. */
int sqi_views_create(struct sqlite_sink *ss, int64_t gen, const char *what);
int sqi_views_upgrade(struct sqlite_sink *ss, int bigm, int bign);
/* The triggers that drop a gN_big row with its element (IF NOT EXISTS). */
extern const char sqi_big_triggers[];
/* The same for gN_bigm rows and their hash field or set member, and for
 * gN_bign rows and their key. */
extern const char sqi_bigm_triggers[], sqi_bign_triggers[];
extern const char *const sqi_gen_tables[];
/* Run a script (several statements) written for generation 'gen'. */
int sqi_exec_gen(struct sqlite_sink *ss, const char *tmpl, int64_t gen, const char *what);
int sqi_drop_generation(struct sqlite_sink *ss, int64_t gen);
/* Create or check the schema in one write transaction (at open). */
int sqi_schema_open(struct sqlite_sink *ss);

/* Faults (sqlite_fault.c): the connection's busy handler (lock waits,
 * reported as SINK_EV_LOCK_*); a lock wait ended; clear the sticky error
 * unless it is fatal; is the file still ours (0, or -1 fatal); remember
 * the -wal file's identity after a commit. */
int sqi_on_busy(void *ud, int count);
void sqi_busy_done(struct sqlite_sink *ss);
void sqi_err_clear(struct sqlite_sink *ss);
int sqi_file_check(struct sqlite_sink *ss, const char *what);
void sqi_wal_note(struct sqlite_sink *ss);

/* The WAL checkpointer (sqlite_ckpt.c): start it (optional: without it
 * the writer checkpoints), stop it, its failure as the sticky error (0 or
 * -1), and follow a new PRAGMA synchronous. */
void sqi_ckpt_start(struct sqlite_sink *ss);
void sqi_ckpt_stop(struct sqlite_sink *ss);
int sqi_ckpt_check(struct sqlite_sink *ss);
void sqi_ckpt_sync_level(struct sqlite_sink *ss);

/* Transactions (sqlite_txn.c): BEGIN IMMEDIATE, COMMIT (after the fault
 * checks), a quiet rollback of whatever is open, and forgetting what a
 * rollback may have undone (caches, memos). */
int sqi_txn_begin(struct sqlite_sink *ss);
int sqi_txn_commit(struct sqlite_sink *ss);
void sqi_txn_rollback(struct sqlite_sink *ss);
void sqi_forget(struct sqlite_sink *ss);

/* The full sync (sqlite_load.c): commit the batch (with the load's
 * progress); move a staged big key into the generation. 0 or -1. */
int sqi_load_batch_commit(struct sqlite_sink *ss);
int sqi_stage_flush(struct sqlite_sink *ss);

/* Bulk rows (sqlite_bulk.c): the key row being appended gets id 'kid'
 * (checked against SQLite's when sent); forget the pending rows and
 * statements; free it all. */
void sqi_bulk_key_id(struct sqlite_sink *ss, int64_t kid);
void sqi_bulk_drop(struct sqlite_sink *ss);
void sqi_bulk_free(struct sqlite_sink *ss);

/* String values held in a stream transaction, increments and small
 * SETs (sqlite_string.c): flush writes the held values and forgets them
 * all (sqi_bulk_flush calls it, so before any statement and at commit);
 * discard forgets them (a rollback); free at close. */
int sqi_held_flush(struct sqlite_sink *ss);
void sqi_held_discard(struct sqlite_sink *ss);
/* 1 when some value is held (a statement that may write a held row must
 * then run through sqi_run, which writes them out first). */
int sqi_held_any(struct sqlite_sink *ss);
/* INCR (field NULL) and HINCRBY (field 'field') of key 'id', held.
 * sqi_held_incr first: 1 with *done = 1 when the sum was made in memory,
 * or *done = 0 on an overflow (the caller refuses it, from the row: any
 * read writes the held values out first); 0 when nothing is held, and
 * *held says whether the caller's statement may run as is (it touches
 * nothing held); -1 on error. Then the caller binds its statement, whose
 * new row (if it inserts one) holds 'incr', and sqi_incr_run runs it:
 * *done as the statement summed; the value it left is then held, for
 * the next increments to add to. 0 or -1. */
#define SQI_HELD_MAX 4096
int sqi_held_incr(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *field, int64_t incr,
                  int *done, int *held);
int sqi_incr_run(struct sqlite_sink *ss, sqlite3_stmt *st, int held, int64_t id,
                 const struct rs_bytes *field, int64_t incr, int *done, const char *what);
void sqi_held_free(struct sqlite_sink *ss);
/* SET of string 'id' (field NULL), or HSET of field 'field' of hash 'id'
 * without a TTL, held: 1 when held (written at the flush), 0 when the
 * caller writes it (too big, not a stream transaction, no room), -1 on
 * error. */
int sqi_held_set(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *field,
                 const struct rs_bytes *value);
/* HSET's statement for a small field and value without a TTL (the field
 * made, or replaced with its TTL gone), bound; NULL on error. */
sqlite3_stmt *sqi_hash_put_stmt(struct sqlite_sink *ss, int64_t kid, const struct rs_bytes *field,
                                const struct rs_bytes *value);
/* The statement that adds increments held late to field 'field' of hash
 * 'kid' (a new field: their sum), bound: 'sum' their sum, 'lo' and 'hi'
 * the least and the greatest of their running sums (redsink_incr with
 * four arguments, sqlite_stmt.c); NULL on error. */
sqlite3_stmt *sqi_hash_add_stmt(struct sqlite_sink *ss, int64_t kid, const struct rs_bytes *field,
                                int64_t sum, int64_t lo, int64_t hi);

/* Gives SQLite per-thread lists of small blocks (sqlite_alloc.c); does
 * nothing after SQLite is initialised, under ASan or valgrind, or with
 * REDSINK_SQLITE_MALLOC=system. 1 when SQLite takes them. */
int sqi_alloc_install(void);

/* The key cache (sqlite_keycache.c). NULL from sqi_kc_new disables it.
 * sqi_kc_get: 1 with *out when the answer is known, else 0. */
struct key_cache *sqi_kc_new(void);
void sqi_kc_free(struct key_cache *c);
int sqi_kc_get(struct sqlite_sink *ss, int db, const struct rs_bytes *key, struct sink_key *out);
void sqi_kc_put(struct sqlite_sink *ss, int db, const struct rs_bytes *key,
                const struct sink_key *k);
void sqi_kc_forget_id(struct sqlite_sink *ss, int64_t id);
void sqi_kc_forget_key(struct sqlite_sink *ss, int db, const struct rs_bytes *key);
void sqi_kc_clear(struct sqlite_sink *ss);
void sqi_kc_set_expire(struct sqlite_sink *ss, int64_t id, int64_t expire_ms);
/* The key name filter (sqlite_keycache.c): sqi_kf_add for every name that
 * enters gN_keys; sqi_kf_absent 1 when the name surely is in no db;
 * sqi_kf_reset empties it (armed: trusted from now on); sqi_kf_build fills
 * it from the current generation at open. */
void sqi_kf_add(struct sqlite_sink *ss, const struct rs_bytes *key);
int sqi_kf_absent(struct sqlite_sink *ss, const struct rs_bytes *key);
void sqi_kf_reset(struct sqlite_sink *ss, int armed);
void sqi_kf_build(struct sqlite_sink *ss);
void sqi_kf_free(struct sqlite_sink *ss);

/* ------------------------------------------------------------------ */
/* ops (the sqlite_ops vtable in sqlite.c; contracts in sink.h)        */
/* ------------------------------------------------------------------ */

/* the backend's calls without an open sink (sqlite_status.c) */
int sq_read_status(const char *path, struct sink_status *row,
                   void (*unknown)(void *ud, const char *cmd, int64_t count), void *ud,
                   struct rs_error *err);
int sq_gauges(const char *path, struct sink_gauge *g, int max);

/* the status row (sqlite_status.c) */
int sq_set_state(struct sink *s, const char *state, const char *detail);
int sq_set_progress(struct sink *s, const struct sink_progress *p);
int sq_unknown_command(struct sink *s, const struct rs_bytes *name);

/* transactions (sqlite_txn.c) */
int sq_read_checkpoint(struct sink *s, struct repl_pos *pos);
int sq_begin(struct sink *s);
int sq_commit(struct sink *s, const struct repl_pos *pos, const struct sink_stats *stats);
int sq_rollback(struct sink *s);

/* full sync (sqlite_load.c) */
int sq_load_begin(struct sink *s);
int sq_load_commit(struct sink *s, const struct repl_pos *pos);
int sq_load_abort(struct sink *s);

/* keys (sqlite_keys.c) */
int sq_key_find(struct sink *s, int db, const struct rs_bytes *key, struct sink_key *out);
int sq_key_create(struct sink *s, int db, const struct rs_bytes *key, enum rs_type type,
                  int64_t expire_ms, const struct rs_bytes *value, int64_t *id);
int sq_key_delete(struct sink *s, int64_t id);
int sq_key_set_expire(struct sink *s, int64_t id, int64_t expire_ms);
int sq_key_rename(struct sink *s, int64_t id, int db, const struct rs_bytes *key);
int sq_key_is_empty(struct sink *s, int64_t id, enum rs_type type, int *empty);
int sq_flush_db(struct sink *s, int db);
int sq_key_copy(struct sink *s, int64_t id, int db, const struct rs_bytes *key, int64_t *new_id);
int sq_swap_db(struct sink *s, int db1, int db2);

/* functions (sqlite_function.c) */
int sq_function_store(struct sink *s, const struct rs_bytes *code);
int sq_function_delete(struct sink *s, const struct rs_bytes *library);

/* strings (sqlite_string.c) */
int sq_string_get(struct sink *s, int64_t id, void (*cb)(void *ud, const struct rs_bytes *v),
                  void *ud);
int sq_string_set(struct sink *s, int64_t id, const struct rs_bytes *value);
int sq_string_incr(struct sink *s, int64_t id, int64_t incr, int *done);
int sq_string_put(struct sink *s, int db, const struct rs_bytes *key,
                  const struct rs_bytes *value, int64_t expire_ms, struct sink_key *sk,
                  int *done);

/* hashes (sqlite_hash.c) */
int sq_hash_set(struct sink *s, int64_t id, const struct rs_bytes *field,
                const struct rs_bytes *value, int64_t field_expire_ms, int *added);
int sq_hash_incr(struct sink *s, int64_t id, const struct rs_bytes *field, int64_t incr,
                 int *done);
int sq_hash_del(struct sink *s, int64_t id, const struct rs_bytes *field, int *removed);
int sq_hash_get(struct sink *s, int64_t id, const struct rs_bytes *field,
                void (*cb)(void *ud, const struct rs_bytes *v, int64_t expire_ms), void *ud,
                int *found);
int sq_hash_len(struct sink *s, int64_t id, int64_t *len);
int sq_hash_set_expire(struct sink *s, int64_t id, const struct rs_bytes *field,
                       int64_t expire_ms, int *found);
int sq_hash_scan(struct sink *s, int64_t id,
                 void (*cb)(void *ud, const struct rs_bytes *f, const struct rs_bytes *v,
                            int64_t expire_ms),
                 void *ud);

/* lists (sqlite_list.c) */
int sq_list_push(struct sink *s, int64_t id, int at_head, const struct rs_bytes *item);
int sq_list_len(struct sink *s, int64_t id, int64_t *len);
int sq_list_get(struct sink *s, int64_t id, int64_t index,
                void (*cb)(void *ud, const struct rs_bytes *v), void *ud, int *found);
int sq_list_range(struct sink *s, int64_t id, int64_t start, int64_t stop,
                  void (*cb)(void *ud, int64_t index, const struct rs_bytes *v), void *ud);
int sq_list_set(struct sink *s, int64_t id, int64_t index, const struct rs_bytes *v);
int sq_list_pop(struct sink *s, int64_t id, int from_head, int64_t count,
                void (*cb)(void *ud, const struct rs_bytes *v), void *ud, int64_t *popped);
int sq_list_trim(struct sink *s, int64_t id, int64_t start, int64_t stop);
int sq_list_insert(struct sink *s, int64_t id, int64_t index, int after,
                   const struct rs_bytes *v);
int sq_list_rem(struct sink *s, int64_t id, int64_t count, const struct rs_bytes *v,
                int64_t *removed);

/* streams: the reference modes (sqlite_stream.c) */
int sq_stream_pel_del_all(struct sink *s, int64_t id, const struct rs_stream_id *eid,
                          int *removed);
int sq_stream_referenced(struct sink *s, int64_t id, const struct rs_stream_id *eid,
                         int *referenced);

/* arrays (sqlite_array.c) */
int sq_array_set(struct sink *s, int64_t id, uint64_t idx, const struct rs_bytes *v, int *added);
int sq_array_del_range(struct sink *s, int64_t id, uint64_t lo, uint64_t hi, uint64_t *removed);
int sq_array_range(struct sink *s, int64_t id, uint64_t lo, uint64_t hi, int reverse,
                   int (*cb)(void *ud, uint64_t idx, const struct rs_bytes *v), void *ud);
int sq_array_info(struct sink *s, int64_t id, uint64_t *count, uint64_t *max_idx);
int sq_array_cursor_get(struct sink *s, int64_t id, int *has, uint64_t *idx);
int sq_array_cursor_set(struct sink *s, int64_t id, int has, uint64_t idx);

/* path hashes (sqlite_pathhash.c) */
/* The table (one row per field of a path), for sqlite_schema.c's DDL (the
 * view is there with the others); "IF NOT EXISTS " as 'ine' for mirrors
 * made before. */
#define SQI_PHASH_DDL(ine)                                                         \
    "CREATE TABLE " ine "@phash(kid INTEGER NOT NULL, path TEXT NOT NULL,"          \
    " field TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kid, path, field))"    \
    " WITHOUT ROWID;"
int sq_ph_set(struct sink *s, int64_t id, const struct rs_bytes *path,
              const struct rs_bytes *field, const struct rs_bytes *value);
int sq_ph_has(struct sink *s, int64_t id, const struct rs_bytes *path,
              const struct rs_bytes *field, int *has);
int sq_ph_del(struct sink *s, int64_t id, const struct rs_bytes *path,
              const struct rs_bytes *field, int64_t *removed);
int sq_ph_del_prefix(struct sink *s, int64_t id, const struct rs_bytes *prefix, int64_t *paths);

/* sets (sqlite_set.c) */
int sq_set_add(struct sink *s, int64_t id, const struct rs_bytes *m, int *added);
int sq_set_rem(struct sink *s, int64_t id, const struct rs_bytes *m, int *removed);
int sq_set_card(struct sink *s, int64_t id, int64_t *card);
int sq_set_is_member(struct sink *s, int64_t id, const struct rs_bytes *m, int *is_member);
int sq_set_scan(struct sink *s, int64_t id, void (*cb)(void *ud, const struct rs_bytes *m),
                void *ud);
int sq_set_combine(struct sink *s, int64_t dst, int64_t src, enum sink_set_op op);

/* sorted sets (sqlite_zset.c) */
int sq_zset_score(struct sink *s, int64_t id, const struct rs_bytes *m, int *found,
                  double *score);
int sq_zset_set(struct sink *s, int64_t id, const struct rs_bytes *m, double score);
int sq_zset_rem(struct sink *s, int64_t id, const struct rs_bytes *m, int *removed);
int sq_zset_card(struct sink *s, int64_t id, int64_t *card);
int sq_zset_scan(struct sink *s, int64_t id, int reverse,
                 void (*cb)(void *ud, const struct rs_bytes *m, double score), void *ud);
int sq_zset_range(struct sink *s, int64_t id, const struct zset_range *r,
                  int (*cb)(void *ud, const struct rs_bytes *m, double score), void *ud);
int sq_zset_rem_range(struct sink *s, int64_t id, const struct zset_range *r, int64_t *removed);
int sq_zset_source_scan(struct sink *s, int64_t id, enum rs_type type,
                        void (*cb)(void *ud, const struct rs_bytes *m, double score), void *ud);

/* streams (sqlite_stream.c) */
int sq_stream_add(struct sink *s, int64_t id, const struct rs_stream_id *eid, int pos,
                  const struct rs_bytes *field, const struct rs_bytes *value);
int sq_stream_meta_get(struct sink *s, int64_t id, struct rs_stream_meta *m);
int sq_stream_meta_set(struct sink *s, int64_t id, const struct rs_stream_meta *m);
int sq_stream_trim(struct sink *s, int64_t id, const struct rs_stream_id *below, int64_t keep,
                   int64_t length, uint64_t *removed);
int sq_stream_group(struct sink *s, int64_t id, const struct rs_stream_group *g);
int sq_stream_pending(struct sink *s, int64_t id, const struct rs_stream_pending *p);
int sq_stream_consumer(struct sink *s, int64_t id, const struct rs_stream_consumer *c);
int sq_stream_consumer_pending(struct sink *s, int64_t id, const struct rs_stream_id *eid);
int sq_stream_delete(struct sink *s, int64_t id, const struct rs_stream_id *eid, int *deleted);
int sq_stream_first(struct sink *s, int64_t id, struct rs_stream_id *first, int *found);
int sq_stream_scan(struct sink *s, int64_t id, const struct rs_stream_id *from,
                   void (*cb)(void *ud, const struct rs_stream_id *eid, int pos,
                              const struct rs_bytes *f, const struct rs_bytes *v),
                   void *ud);
int sq_stream_group_get(struct sink *s, int64_t id, const struct rs_bytes *name,
                        struct rs_stream_id *last_id, int64_t *entries_read, int *found);
int sq_stream_group_set(struct sink *s, int64_t id, const struct rs_bytes *name,
                        const struct rs_stream_id *last_id, int64_t entries_read);
int sq_stream_group_del(struct sink *s, int64_t id, const struct rs_bytes *name, int *deleted);
int sq_stream_consumer_set(struct sink *s, int64_t id, const struct rs_bytes *group,
                           const struct rs_bytes *name, int64_t seen_time, int64_t active_time,
                           int *created);
int sq_stream_consumer_del(struct sink *s, int64_t id, const struct rs_bytes *group,
                           const struct rs_bytes *name, int64_t *pending_dropped);
int sq_stream_pel_set(struct sink *s, int64_t id, const struct rs_bytes *group,
                      const struct rs_stream_id *eid, const struct rs_bytes *consumer,
                      int64_t delivery_time, int64_t delivery_count);
int sq_stream_pel_del(struct sink *s, int64_t id, const struct rs_bytes *group,
                      const struct rs_stream_id *eid, int *deleted);
int sq_stream_pel_get(struct sink *s, int64_t id, const struct rs_bytes *group,
                      const struct rs_stream_id *eid, int64_t *delivery_time,
                      int64_t *delivery_count, int *found);

#endif
