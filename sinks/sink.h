/*
 * sink.h - where mirrored data goes: a small vtable every storage backend
 * implements (the SQLite sink first; a PostgreSQL sink would be one more
 * file in sinks/).
 *
 * The sink stores keys and their elements; it does not know Redis
 * semantics (the applier in daemon/apply.c does) nor the RDB format
 * (daemon/rdb.c). A key is addressed by an opaque 64-bit id the sink hands
 * out (key_find / key_create) and that stays valid until the key is
 * deleted or a transaction is rolled back.
 *
 * Two modes:
 *  - load mode, between load_begin and load_commit/load_abort: a full sync
 *    builds a brand-new mirror beside the current one; key_find is not
 *    available and every key_create is a new key (the RDB has no
 *    duplicates). load_commit swaps it in atomically with its checkpoint:
 *    a reader sees the old complete mirror or the new complete one.
 *  - stream mode, between begin and commit/rollback: changes to the live
 *    mirror. commit stores the replication position in the same
 *    transaction as the data, so data and checkpoint cannot diverge.
 *
 * Every int-returning op returns 0 on success and -1 on failure with
 * s->err set (sticky: after a failure the caller rolls back or aborts).
 * All bytes are borrowed for the duration of the call.
 */
#ifndef RS_SINK_H
#define RS_SINK_H

#include <stdint.h>
#include "../daemon/common.h"

/* Where the mirror stands in the master's replication stream. */
struct repl_pos {
    char replid[41];   /* 40 hex chars, "" when unknown (import, SYNC) */
    int64_t offset;    /* last stream byte applied; -1 when unknown */
    int db;            /* db selected in the stream at that offset */
};

/* What key_find returns. type == RS_T_NONE when there is no such key. */
struct sink_key {
    int64_t id;
    enum rs_type type;
    int64_t expire_ms;       /* RS_NO_EXPIRE when none */
};

/* Counters shown in redsink_status. */
struct sink_stats {
    int64_t keys_loaded;     /* during/after the last full sync */
    int64_t commands_applied;
    int64_t unknown_commands;
};

struct sink;

struct sink_ops {
    int version;                         /* 1; new members only at the end */
    const char *name;                    /* "sqlite" */

    void (*close)(struct sink *s);       /* rolls back anything open; frees s */

    /* The committed checkpoint: offset -1 and replid "" for a new mirror. */
    int (*read_checkpoint)(struct sink *s, struct repl_pos *pos);
    /* Status row for humans: state is "connecting", "syncing", "streaming",
     * "error"...; committed at once (outside any open transaction's data
     * is fine: the sink may use its own short transaction when idle, or
     * fold it into the next commit when one is open). */
    int (*set_state)(struct sink *s, const char *state, const char *detail);

    /* ---- full sync ---- */
    int (*load_begin)(struct sink *s);
    int (*load_commit)(struct sink *s, const struct repl_pos *pos);
    int (*load_abort)(struct sink *s);   /* drops the half-built mirror */

    /* ---- stream transactions ---- */
    int (*begin)(struct sink *s);
    int (*commit)(struct sink *s, const struct repl_pos *pos,
                  const struct sink_stats *stats);
    int (*rollback)(struct sink *s);

    /* ---- keys ---- */
    int (*key_find)(struct sink *s, int db, const struct rs_bytes *key,
                    struct sink_key *out);
    /* New key (the caller made sure none exists). 'value' is the string
     * value for RS_T_STRING, NULL otherwise. */
    int (*key_create)(struct sink *s, int db, const struct rs_bytes *key,
                      enum rs_type type, int64_t expire_ms,
                      const struct rs_bytes *value, int64_t *id);
    int (*key_delete)(struct sink *s, int64_t id);   /* key and elements */
    int (*key_set_expire)(struct sink *s, int64_t id, int64_t expire_ms);
    /* Rename/move: give key 'id' a new db and name (the caller deleted any
     * key already there). */
    int (*key_rename)(struct sink *s, int64_t id, int db, const struct rs_bytes *key);
    /* Does the collection still have elements? (to delete emptied keys) */
    int (*key_is_empty)(struct sink *s, int64_t id, enum rs_type type, int *empty);
    /* Delete every key of 'db' (db < 0: of every db). */
    int (*flush_db)(struct sink *s, int db);

    /* ---- strings ---- */
    int (*string_get)(struct sink *s, int64_t id, void (*cb)(void *ud, const struct rs_bytes *v),
                      void *ud);
    int (*string_set)(struct sink *s, int64_t id, const struct rs_bytes *value);

    /* ---- hashes ---- */
    /* Insert or replace; *added = 1 when the field was new (may be NULL). */
    int (*hash_set)(struct sink *s, int64_t id, const struct rs_bytes *field,
                    const struct rs_bytes *value, int64_t field_expire_ms, int *added);
    int (*hash_del)(struct sink *s, int64_t id, const struct rs_bytes *field, int *removed);

    /* ---- lists ---- */
    int (*list_push)(struct sink *s, int64_t id, int at_head, const struct rs_bytes *item);

    /* ---- sets ---- */
    int (*set_add)(struct sink *s, int64_t id, const struct rs_bytes *m, int *added);
    int (*set_rem)(struct sink *s, int64_t id, const struct rs_bytes *m, int *removed);

    /* ---- sorted sets ---- */
    /* *found = 0 when the member is absent (score untouched). */
    int (*zset_score)(struct sink *s, int64_t id, const struct rs_bytes *m,
                      int *found, double *score);
    int (*zset_set)(struct sink *s, int64_t id, const struct rs_bytes *m, double score);
    int (*zset_rem)(struct sink *s, int64_t id, const struct rs_bytes *m, int *removed);

    /* ---- streams ---- */
    int (*stream_add)(struct sink *s, int64_t id, const struct rs_stream_id *eid, int pos,
                      const struct rs_bytes *field, const struct rs_bytes *value);
    int (*stream_meta_get)(struct sink *s, int64_t id, struct rs_stream_meta *meta);
    int (*stream_meta_set)(struct sink *s, int64_t id, const struct rs_stream_meta *meta);
    /* Remove entries: all with id < 'below' (MINID), or the oldest until
     * 'keep' remain (keep >= 0, MAXLEN). *removed = entries removed. */
    int (*stream_trim)(struct sink *s, int64_t id, const struct rs_stream_id *below,
                       int64_t keep, uint64_t *removed);
    int (*stream_group)(struct sink *s, int64_t id, const struct rs_stream_group *g);
    /* PEL entry of the group named in the last stream_group call for 'id' */
    int (*stream_pending)(struct sink *s, int64_t id, const struct rs_stream_pending *p);
    int (*stream_consumer)(struct sink *s, int64_t id, const struct rs_stream_consumer *c);
    /* the last stream_consumer owns the PEL entry 'eid' */
    int (*stream_consumer_pending)(struct sink *s, int64_t id, const struct rs_stream_id *eid);

    /* ---- misc ---- */
    int (*function_store)(struct sink *s, const struct rs_bytes *code);
    /* Count one unknown command by name (kept in the status tables). */
    int (*unknown_command)(struct sink *s, const struct rs_bytes *name);
};

/* The first member of every sink. */
struct sink {
    const struct sink_ops *ops;
    struct rs_error err;
};

/*
 * Open a sink by name ("sqlite") on 'target' (a file path for sqlite).
 * Creates the schema on a new mirror; on an existing one, drops what an
 * interrupted full sync left behind. Returns NULL with 'err' set.
 */
struct sink *sink_open(const char *name, const char *target, struct rs_error *err);
void sink_close(struct sink *s);   /* NULL is fine */

/* The SQLite sink's constructor (sinks/sqlite.c). */
struct sink *sink_sqlite_open(const char *path, struct rs_error *err);

#endif
