/*
 * sqlite.c - the SQLite sink: keeps the mirror in one SQLite database file
 * that anyone may read while redsink writes (WAL mode).
 *
 * Storage is a set of tables per *generation* ("g3_keys", "g3_hash"...):
 * one row per key in gN_keys (strings inline), elements in children tables
 * clustered by key id. The contract's views (redis_keys, redis_strings...)
 * point at the live generation. A full sync builds generation N+1 beside
 * it, then one transaction repoints the views and writes the checkpoint;
 * readers see the old complete mirror or the new complete one. doc/schema.md
 * describes the layout for users.
 *
 * This file opens and closes the sink and ties it together: the
 * sqlite_ops vtable and the backend that sink.c lists (sink_backend.h).
 * The rest is one file per concern, sharing sqlite_int.h:
 *   sqlite_stmt.c      the statement cache and the bind and run helpers
 *   sqlite_schema.c    tables, views and generations; a new or reopened mirror
 *   sqlite_fault.c     errors that stop the sink, lock waits, a moved file
 *   sqlite_ckpt.c      the WAL checkpointer thread
 *   sqlite_txn.c       stream transactions and the checkpoint
 *   sqlite_load.c      the full sync: batch commits, big keys, the swap
 *   sqlite_bulk.c      a full sync's rows sent as multi-row INSERTs
 *   sqlite_keycache.c  key_find's cache
 *   sqlite_keys.c      the key ops (find, create, delete, rename, copy, flush...)
 *   sqlite_status.c    the status row, `redsink status`, the metrics' gauges
 *   sqlite_function.c  function libraries
 * and the element ops of each type in sqlite_string.c, sqlite_hash.c,
 * sqlite_list.c, sqlite_set.c, sqlite_zset.c, sqlite_stream.c,
 * sqlite_array.c and sqlite_pathhash.c.
 *
 * Left out: Redis semantics (apply.c decides what to store) and logging
 * (errors go to the sticky s->base.err, events to s->base.on_event; the
 * owner logs).
 *
 * Start reading at sq_open(), then sqlite_txn.c and sqlite_load.c. Every
 * value is bound as a parameter through sqi_bind_bytes(), so key bytes
 * never reach SQL text and lookups bind exactly as inserts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sink_backend.h"
#include "sqlite_int.h"

/* Page cache, in KiB (negative cache_size). The daemon's RSS must stay
 * under 64 MB whatever the dataset size: see doc/schema.md. While the
 * link is far behind (sq_catch_up) it grows by half: a batch of random
 * writes (XADD to 100k streams) touches most leaves of its table, and
 * what the cache dropped is read again. bench/replay -b of 1M such XADDs
 * in batches of 100,000 (a 52 MB mirror), CPU seconds: 20.2 with 16 MiB,
 * 15.6 with 32, 11.9 with 48. The daemon's peak RSS in bench/suite.py's
 * xadd: 37.4 MB with 16 MiB, 56.0 with 32, 72.9 with 48 (over the bound);
 * 24 MiB beside the larger stream metadata cache (sqlite_stream.c): 54 MB.
 * 20 MiB since the stream rows are sent in key order (sqlite_bulk.c),
 * whose buffer takes up to 3.5 MiB: the same 1M XADDs took 4.3, 3.7 s
 * with 20 MiB and 4.0, 3.8 s with 24; peak RSS in the suite's xadd
 * 59.0-59.4 MB against 63.2-63.4 MB. */
#define CACHE_KIB         16384
#define CATCHUP_CACHE_KIB 20480
#define STR_(x) #x
#define STR(x) STR_(x)

static const struct sink_ops sqlite_ops;

/* ------------------------------------------------------------------ */
/* open and close                                                     */
/* ------------------------------------------------------------------ */

static void sq_close(struct sink *s)
{
    struct sqlite_sink *ss = SS(s);

    if (ss == NULL)
        return;
    sqi_ckpt_stop(ss);
    /* A half-built generation stays on disk; the next open drops it. */
    sqi_txn_rollback(ss);
    sqi_stmts_drop(ss);
    sqi_forget(ss);
    /* After a fatal error, leave the -wal file alone: the file at our
     * path may not be ours any more (its -wal neither), or the disk is
     * full. The next open recovers from the WAL. */
    if (ss->fatal && ss->db)
        sqlite3_db_config(ss->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    sqlite3_close(ss->db);
    sqi_kc_free(ss->kcache);
    sqi_kf_free(ss);
    sqi_smeta_free(ss);
    sqi_lb_free(ss);
    sqi_bulk_free(ss);
    sqi_held_free(ss);
    sqi_outbox_free(ss);
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

    sqlite3_busy_handler(ss->db, sqi_on_busy, ss);
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
    if (sqi_incr_register(ss) != SQLITE_OK)
        return sqi_sql_fail(ss, "register redsink_incr");
    return 0;
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
    ss->kcache = sqi_kc_new();   /* optional: NULL disables it */
    /* One thread owns the connection: no per-call mutex (NOMUTEX), and no
     * global allocation statistics (one more mutex per malloc). Together
     * they were ~12% of the time spent applying a SET stream. The config
     * call only works before SQLite is initialised, so it may fail. */
    sqi_alloc_install();
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sqlite3_open_v2(path, &ss->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        rs_fail(err, RS_E_SQL, "cannot open '%s': %s", path, sqlite3_errmsg(ss->db));
        sq_close(&ss->base);
        return NULL;
    }
    if (configure(ss) || sqi_schema_open(ss)) {
        rs_fail(err, ss->base.err.code, "%s", ss->base.err.msg);
        sq_close(&ss->base);
        return NULL;
    }
    sqi_kf_build(ss);
    sqi_ckpt_start(ss);
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
    sqi_ckpt_sync_level(ss);
    return 0;
}

/* Catching up (sink.h): the larger page cache while the link is far
 * behind, the usual one once nothing waits. A hint: a failure leaves the
 * cache as it was, which is slower, not wrong. */
static void sq_catch_up(struct sink *s, int on)
{
    sqlite3_exec(SS(s)->db, on ? "PRAGMA cache_size = -" STR(CATCHUP_CACHE_KIB)
                               : "PRAGMA cache_size = -" STR(CACHE_KIB), NULL, NULL, NULL);
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
    .catch_up = sq_catch_up,
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
    .string_incr = sq_string_incr,
    .string_put = sq_string_put,
    .string_set = sq_string_set,
    .hash_set = sq_hash_set,
    .hash_incr = sq_hash_incr,
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
    .stream_pel_get = sq_stream_pel_get,
    .stream_pel_del_all = sq_stream_pel_del_all,
    .stream_referenced = sq_stream_referenced,
    .array_set = sq_array_set,
    .array_del_range = sq_array_del_range,
    .array_range = sq_array_range,
    .array_info = sq_array_info,
    .array_cursor_get = sq_array_cursor_get,
    .array_cursor_set = sq_array_cursor_set,
    .ph_set = sq_ph_set,
    .ph_has = sq_ph_has,
    .ph_del = sq_ph_del,
    .ph_del_prefix = sq_ph_del_prefix,
    .function_store = sq_function_store,
    .function_delete = sq_function_delete,
    .unknown_command = sq_unknown_command,
    .outbox_enable = sq_outbox_enable,
};

const struct sink_backend sink_sqlite_backend = {
    .name = "sqlite",
    .open = sq_open,
    .read_status = sq_read_status,
    .gauges = sq_gauges,
};
