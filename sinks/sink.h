/*
 * sink.h - where mirrored data goes: a small vtable every storage backend
 * implements (each in its own folder of sinks/, registered in sink.c
 * through sink_backend.h), and the few calls that need no open sink
 * (sink_read_status, sink_gauges). Nothing here names a backend.
 *
 * The sink stores keys and their elements; it does not know Redis
 * semantics (the applier in daemon/write/apply.c does) nor the RDB format
 * (daemon/read/rdb.c). A key is addressed by an opaque 64-bit id the sink hands
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

#include <signal.h>
#include <stdint.h>
#include "common.h"

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

/*
 * Replication progress for the status row (set_progress): who
 * the master is, how far behind the mirror is, and how a full sync is
 * going. Owned by the caller; the sink copies what it keeps.
 */
struct sink_progress {
    const char *master_host;  /* NULL: leave as it is */
    int master_port;
    int64_t read_offset;      /* last stream byte received; -1 unknown */
    int64_t last_ack_at;      /* unix ms of the last REPLCONF ACK sent; 0 none */
    int64_t lag_bytes;        /* received but not yet committed */
    int64_t lag_ms;           /* age of the oldest uncommitted byte; 0 caught up */
    int64_t bytes_received;   /* snapshot bytes received by the running/last full sync */
    int64_t bytes_total;      /* its size when the master announced it ($<len>), 0 unknown */
    double keys_per_sec;      /* load speed of the running/last full sync */
    /* The PostgreSQL downstream (shipper.h); pg_state NULL: none. */
    const char *pg_state;     /* "connecting", "copying", "streaming", "down" */
    int64_t pg_offset;        /* offset PostgreSQL holds; -1 none */
    int64_t pg_lag_bytes, pg_lag_ms;
    const char *pg_error;     /* last error, "" none */
};

/* set_combine's operations. */
enum sink_set_op {
    SINK_SET_UNION,    /* add src's members to dst */
    SINK_SET_INTER,    /* keep only dst's members that src has too */
    SINK_SET_DIFF      /* remove from dst every member src has */
};

/*
 * A window of a sorted set in Redis order (score, then member bytes by
 * memcmp), for zset_range and zset_rem_range. Walk from the lowest member, or
 * from the highest when 'reverse'. With 'by_score' only members with
 * min <= score <= max are walked ('<' instead where minex / maxex is
 * set). Of the walked members, the first 'offset' (>= 0) are skipped and
 * then at most 'count' (< 0: all) are taken. So a rank range [a, b] is
 * { by_score 0, offset a, count b - a + 1 }.
 */
struct zset_range {
    int by_score;
    double min, max;
    int minex, maxex;
    int reverse;
    int64_t offset, count;
};

/*
 * The operations: the sink's own, full sync, transactions, then one group
 * per data type. Every data op works in stream mode; the ones marked
 * "load mode too" also work during a full sync, which only creates
 * keys and their elements (key_find is not available there). An op used in
 * stream mode only may be left unimplemented by a sink: -1 with s->err
 * code RS_E_UNSUPPORTED. In stream mode 'id' is a key of the right type;
 * the callers (the applier) check types and resolve Redis' negative
 * indexes first. Callbacks get borrowed bytes, valid until they return,
 * and may not call the sink.
 */
struct sink_ops {
    const char *name;                    /* the backend's (sink_backend.h) */

    /* ---- the sink ---- */
    void (*close)(struct sink *s);       /* rolls back anything open; frees s */
    /* A sink-specific setting by name (for SQLite "synchronous" = "off",
     * "normal", "full" or "extra"). -1 with err for an unknown name or value. */
    int (*set_option)(struct sink *s, const char *name, const char *value);

    /* ---- the checkpoint and the status row ---- */
    /* The committed checkpoint: offset -1 and replid "" for a new mirror. */
    int (*read_checkpoint)(struct sink *s, struct repl_pos *pos);
    /* Status row for humans: state is "connecting", "syncing", "streaming",
     * "error"...; committed at once (outside any open transaction's data
     * is fine: the sink may use its own short transaction when idle, or
     * fold it into the next commit when one is open). */
    int (*set_state)(struct sink *s, const char *state, const char *detail);
    /* Store replication progress in the status row; committed like
     * set_state (folded into an open transaction, or its own). */
    int (*set_progress)(struct sink *s, const struct sink_progress *p);

    /* ---- full sync ---- */
    int (*load_begin)(struct sink *s);
    int (*load_commit)(struct sink *s, const struct repl_pos *pos);
    int (*load_abort)(struct sink *s);   /* drops the half-built mirror */

    /* ---- stream transactions ---- */
    int (*begin)(struct sink *s);
    int (*commit)(struct sink *s, const struct repl_pos *pos,
                  const struct sink_stats *stats);
    int (*rollback)(struct sink *s);
    /* The caller is catching up (much stream waiting) or caught up again:
     * the sink may spend more memory meanwhile (SQLite: a larger page
     * cache). NULL when the sink has no use for it. */
    void (*catch_up)(struct sink *s, int on);

    /* ---- keys ---- */
    int (*key_find)(struct sink *s, int db, const struct rs_bytes *key,
                    struct sink_key *out);
    /* New key (the caller made sure none exists). 'value' is the string
     * value for RS_T_STRING, NULL otherwise. Load mode too. */
    int (*key_create)(struct sink *s, int db, const struct rs_bytes *key,
                      enum rs_type type, int64_t expire_ms,
                      const struct rs_bytes *value, int64_t *id);
    int (*key_delete)(struct sink *s, int64_t id);   /* key and elements */
    int (*key_set_expire)(struct sink *s, int64_t id, int64_t expire_ms);
    /* Rename/move: give key 'id' a new db and name (the caller deleted any
     * key already there). */
    int (*key_rename)(struct sink *s, int64_t id, int db, const struct rs_bytes *key);
    /* Copy key 'id' (value, elements, TTL; for a stream its groups too) to
     * 'key' in 'db' as a new key *new_id (the caller removed any key
     * already there). */
    int (*key_copy)(struct sink *s, int64_t id, int db, const struct rs_bytes *key,
                    int64_t *new_id);
    /* Does the collection still have elements? (to delete emptied keys) */
    int (*key_is_empty)(struct sink *s, int64_t id, enum rs_type type, int *empty);
    /* Delete every key of 'db' (db < 0: of every db). */
    int (*flush_db)(struct sink *s, int db);
    /* Exchange every key of db1 with every key of db2 (SWAPDB). */
    int (*swap_db)(struct sink *s, int db1, int db2);

    /* ---- strings ---- */
    int (*string_get)(struct sink *s, int64_t id, void (*cb)(void *ud, const struct rs_bytes *v),
                      void *ud);
    int (*string_set)(struct sink *s, int64_t id, const struct rs_bytes *value);
    /* INCRBY in place: when the value is the decimal text of a 64-bit
     * integer, exactly as Redis writes one, and value + incr does not
     * overflow, store the sum (as text) and set *done = 1; otherwise
     * change nothing, *done = 0, and the caller reads the value and
     * decides. May be NULL. */
    int (*string_incr)(struct sink *s, int64_t id, int64_t incr, int *done);
    /* SET key value (expire_ms or RS_NO_EXPIRE) in db, when the sink can
     * do it in one step without looking the key up first: a new key, or
     * an existing string's value and TTL replaced. *done = 0 when it did
     * nothing: the caller stores as usual, with *sk as key_find gives it
     * when sk->id >= 0 (the sink knew the key from memory), else after
     * looking the key up. May be NULL. */
    int (*string_put)(struct sink *s, int db, const struct rs_bytes *key,
                      const struct rs_bytes *value, int64_t expire_ms, struct sink_key *sk,
                      int *done);

    /* ---- hashes ---- */
    /* Insert or replace; *added = 1 when the field was new (may be NULL).
     * Load mode too. */
    int (*hash_set)(struct sink *s, int64_t id, const struct rs_bytes *field,
                    const struct rs_bytes *value, int64_t field_expire_ms, int *added);
    int (*hash_del)(struct sink *s, int64_t id, const struct rs_bytes *field, int *removed);
    /* HINCRBY in place, as string_incr: a missing field becomes the
     * increment, an existing one keeps its TTL. May be NULL. */
    int (*hash_incr)(struct sink *s, int64_t id, const struct rs_bytes *field, int64_t incr,
                     int *done);
    /* cb gets the field's value and its expire time (RS_NO_EXPIRE when
     * none) when the field exists; *found = 0 else. */
    int (*hash_get)(struct sink *s, int64_t id, const struct rs_bytes *field,
                    void (*cb)(void *ud, const struct rs_bytes *v, int64_t expire_ms), void *ud,
                    int *found);
    /* Number of fields, expired ones included (a replica keeps them). */
    int (*hash_len)(struct sink *s, int64_t id, int64_t *len);
    /* Set (or with RS_NO_EXPIRE clear) one field's TTL; *found = 0 and
     * nothing changed when the field is absent. */
    int (*hash_set_expire)(struct sink *s, int64_t id, const struct rs_bytes *field,
                           int64_t expire_ms, int *found);
    /* cb gets every field, in no particular order. */
    int (*hash_scan)(struct sink *s, int64_t id,
                     void (*cb)(void *ud, const struct rs_bytes *f, const struct rs_bytes *v,
                                int64_t expire_ms),
                     void *ud);

    /* ---- lists: indexes are 0-based from the head, 0 <= index < length ---- */
    /* Load mode too. */
    int (*list_push)(struct sink *s, int64_t id, int at_head, const struct rs_bytes *item);
    int (*list_len)(struct sink *s, int64_t id, int64_t *len);
    /* cb gets the element at 'index' when there is one; *found = 0 else. */
    int (*list_get)(struct sink *s, int64_t id, int64_t index,
                    void (*cb)(void *ud, const struct rs_bytes *v), void *ud, int *found);
    /* cb gets each element of [start, stop] (clamped to the list), head
     * first, with its index; nothing when start > stop. */
    int (*list_range)(struct sink *s, int64_t id, int64_t start, int64_t stop,
                      void (*cb)(void *ud, int64_t index, const struct rs_bytes *v), void *ud);
    /* Replace the element at 'index' (the caller checked it exists). */
    int (*list_set)(struct sink *s, int64_t id, int64_t index, const struct rs_bytes *v);
    /* Remove up to 'count' elements from the head (from_head) or the tail;
     * cb (may be NULL) gets each one in pop order; *popped = how many.
     * The caller deletes the key when it is left empty. */
    int (*list_pop)(struct sink *s, int64_t id, int from_head, int64_t count,
                    void (*cb)(void *ud, const struct rs_bytes *v), void *ud, int64_t *popped);
    /* Keep the elements [start, stop] (clamped), remove the others; an
     * empty range removes all (the caller then deletes the key). */
    int (*list_trim)(struct sink *s, int64_t id, int64_t start, int64_t stop);
    /* Insert 'v' before (after = 0) or after (after = 1) the element at
     * 'index' (LINSERT, once the caller found the pivot). */
    int (*list_insert)(struct sink *s, int64_t id, int64_t index, int after,
                       const struct rs_bytes *v);
    /* LREM: remove elements equal to 'v', the first 'count' from the head
     * (count > 0), the last -count from the tail (count < 0), or all
     * (count == 0); *removed = how many. */
    int (*list_rem)(struct sink *s, int64_t id, int64_t count, const struct rs_bytes *v,
                    int64_t *removed);

    /* ---- sets ---- */
    /* Load mode too. */
    int (*set_add)(struct sink *s, int64_t id, const struct rs_bytes *m, int *added);
    int (*set_rem)(struct sink *s, int64_t id, const struct rs_bytes *m, int *removed);
    int (*set_card)(struct sink *s, int64_t id, int64_t *card);
    int (*set_is_member)(struct sink *s, int64_t id, const struct rs_bytes *m, int *is_member);
    /* cb gets every member, in no particular order. */
    int (*set_scan)(struct sink *s, int64_t id, void (*cb)(void *ud, const struct rs_bytes *m),
                    void *ud);
    /* Set algebra in the sink, so no set is held in memory: change set
     * 'dst' with set 'src' (both keys of type set) by 'op'. 'dst' may be
     * left empty; the caller deletes or fills it. */
    int (*set_combine)(struct sink *s, int64_t dst, int64_t src, enum sink_set_op op);

    /* ---- sorted sets: members in Redis order (score, then member bytes
     * compared with memcmp) ---- */
    /* *found = 0 when the member is absent (score untouched). */
    int (*zset_score)(struct sink *s, int64_t id, const struct rs_bytes *m,
                      int *found, double *score);
    /* Load mode too. */
    int (*zset_set)(struct sink *s, int64_t id, const struct rs_bytes *m, double score);
    int (*zset_rem)(struct sink *s, int64_t id, const struct rs_bytes *m, int *removed);
    int (*zset_card)(struct sink *s, int64_t id, int64_t *card);
    /* cb gets every member in that order, or the reverse (reverse = 1). */
    int (*zset_scan)(struct sink *s, int64_t id, int reverse,
                     void (*cb)(void *ud, const struct rs_bytes *m, double score), void *ud);
    /* cb gets each member of the window (struct zset_range) in walk order;
     * it returns 0 to go on, 1 to stop early. */
    int (*zset_range)(struct sink *s, int64_t id, const struct zset_range *r,
                      int (*cb)(void *ud, const struct rs_bytes *m, double score), void *ud);
    /* Remove the members of the window; *removed = how many (may be NULL).
     * The caller deletes the key when it is left empty. */
    int (*zset_rem_range)(struct sink *s, int64_t id, const struct zset_range *r,
                          int64_t *removed);
    /* The inputs of ZUNIONSTORE and friends: key 'id' of 'type' RS_T_ZSET
     * gives every member with its score, RS_T_SET every member with score
     * 1, in no particular order. */
    int (*zset_source_scan)(struct sink *s, int64_t id, enum rs_type type,
                            void (*cb)(void *ud, const struct rs_bytes *m, double score),
                            void *ud);

    /* ---- streams (the caller keeps stream_meta up to date) ---- */
    /* Load mode too: stream_add ... stream_consumer_pending, and
     * stream_delete. stream_add never meets an existing entry: its ids only
     * grow; a caller that may repeat one (a forged RDB) deletes the entry
     * first, since the row stream_add replaces would keep a big value's
     * gN_big row (sinks/sqlite/sqlite_stream.c). */
    int (*stream_add)(struct sink *s, int64_t id, const struct rs_stream_id *eid, int pos,
                      const struct rs_bytes *field, const struct rs_bytes *value);
    int (*stream_meta_set)(struct sink *s, int64_t id, const struct rs_stream_meta *meta);
    int (*stream_group)(struct sink *s, int64_t id, const struct rs_stream_group *g);
    /* PEL entry of the group named in the last stream_group call for 'id' */
    int (*stream_pending)(struct sink *s, int64_t id, const struct rs_stream_pending *p);
    int (*stream_consumer)(struct sink *s, int64_t id, const struct rs_stream_consumer *c);
    /* the last stream_consumer owns the PEL entry 'eid' */
    int (*stream_consumer_pending)(struct sink *s, int64_t id, const struct rs_stream_id *eid);
    int (*stream_meta_get)(struct sink *s, int64_t id, struct rs_stream_meta *meta);
    /* Remove entries: all with id < 'below' (MINID), or the oldest until
     * 'keep' remain (keep >= 0, MAXLEN). 'length': the stream's number of
     * entries when the caller knows it (its metadata), else -1 (counted).
     * *removed = entries removed. */
    int (*stream_trim)(struct sink *s, int64_t id, const struct rs_stream_id *below,
                       int64_t keep, int64_t length, uint64_t *removed);
    /* Remove entry 'eid' (all its fields); *deleted = 0 when absent. */
    int (*stream_delete)(struct sink *s, int64_t id, const struct rs_stream_id *eid,
                         int *deleted);
    /* The oldest entry's id; *found = 0 when the stream is empty. */
    int (*stream_first)(struct sink *s, int64_t id, struct rs_stream_id *first, int *found);
    /* cb gets every field/value pair of the entries >= 'from' (NULL: all),
     * oldest first, then by pos (0-based within the entry). */
    int (*stream_scan)(struct sink *s, int64_t id, const struct rs_stream_id *from,
                       void (*cb)(void *ud, const struct rs_stream_id *eid, int pos,
                                  const struct rs_bytes *f, const struct rs_bytes *v),
                       void *ud);
    /* Group 'name': its last delivered id and entries_read (-1 when
     * unknown); *found = 0 when there is no such group. */
    int (*stream_group_get)(struct sink *s, int64_t id, const struct rs_bytes *name,
                            struct rs_stream_id *last_id, int64_t *entries_read, int *found);
    /* Create group 'name' or update it (entries_read -1: unknown). */
    int (*stream_group_set)(struct sink *s, int64_t id, const struct rs_bytes *name,
                            const struct rs_stream_id *last_id, int64_t entries_read);
    /* Remove the group with its consumers and PEL; *deleted = 0 when absent. */
    int (*stream_group_del)(struct sink *s, int64_t id, const struct rs_bytes *name,
                            int *deleted);
    /* Create consumer 'name' of 'group' or update its times (active_time
     * -1: never active); *created = 1 when it is new (may be NULL). */
    int (*stream_consumer_set)(struct sink *s, int64_t id, const struct rs_bytes *group,
                               const struct rs_bytes *name, int64_t seen_time,
                               int64_t active_time, int *created);
    /* Remove a consumer and its pending entries; *pending_dropped = how
     * many PEL entries went with it (0 when the consumer was absent). */
    int (*stream_consumer_del)(struct sink *s, int64_t id, const struct rs_bytes *group,
                               const struct rs_bytes *name, int64_t *pending_dropped);
    /* Create or replace the PEL entry 'eid' of 'group', owned by 'consumer'. */
    int (*stream_pel_set)(struct sink *s, int64_t id, const struct rs_bytes *group,
                          const struct rs_stream_id *eid, const struct rs_bytes *consumer,
                          int64_t delivery_time, int64_t delivery_count);
    /* Remove a PEL entry (XACK); *deleted = 0 when absent. */
    int (*stream_pel_del)(struct sink *s, int64_t id, const struct rs_bytes *group,
                          const struct rs_stream_id *eid, int *deleted);
    /* Read the PEL entry 'eid' of 'group' (Redis 8.8's XNACK): its delivery
     * time and count; *found = 0 when absent. */
    int (*stream_pel_get)(struct sink *s, int64_t id, const struct rs_bytes *group,
                          const struct rs_stream_id *eid, int64_t *delivery_time,
                          int64_t *delivery_count, int *found);
    /* Redis 8.2's stream reference modes (XDELEX, XACKDEL). Remove entry
     * 'eid' from the PEL of every group; *removed = 1 when it was pending
     * in one. */
    int (*stream_pel_del_all)(struct sink *s, int64_t id, const struct rs_stream_id *eid,
                              int *removed);
    /* *referenced = 1 when 'eid' is pending in a group, or a group has not
     * been delivered it yet (its last id is lower). */
    int (*stream_referenced)(struct sink *s, int64_t id, const struct rs_stream_id *eid,
                             int *referenced);

    /* ---- arrays (Redis 8.8) ----
     * 'id' is a key of type RS_T_ARRAY. Indexes are Redis' unsigned 64-bit
     * ones (0 .. 2^64-2); ranges are inclusive and lo <= hi. Load mode too
     * (the RDB's ARRAY type), except array_range and array_info. */
    /* Set the element at 'idx'; *added = 1 when the slot was empty (may be NULL). */
    int (*array_set)(struct sink *s, int64_t id, uint64_t idx, const struct rs_bytes *v,
                     int *added);
    /* Remove the elements of [lo, hi]; *removed = how many (may be NULL).
     * The caller deletes the key when it is left empty. */
    int (*array_del_range)(struct sink *s, int64_t id, uint64_t lo, uint64_t hi,
                           uint64_t *removed);
    /* cb gets each element of [lo, hi] by ascending index (descending when
     * 'reverse'); it returns 0 to go on, 1 to stop early. */
    int (*array_range)(struct sink *s, int64_t id, uint64_t lo, uint64_t hi, int reverse,
                       int (*cb)(void *ud, uint64_t idx, const struct rs_bytes *v), void *ud);
    /* How many elements, and the highest index (0 when there are none). */
    int (*array_info)(struct sink *s, int64_t id, uint64_t *count, uint64_t *max_idx);
    /* The insert cursor of ARINSERT/ARRING (the last index they wrote):
     * *has = 0 when there is none (a new array, or after ARSEEK 0). */
    int (*array_cursor_get)(struct sink *s, int64_t id, int *has, uint64_t *idx);
    int (*array_cursor_set)(struct sink *s, int64_t id, int has, uint64_t idx);

    /* ---- path hashes (Valkey 9.2) ----
     * 'id' is a key of type RS_T_PATHHASH: paths (binary strings), each a
     * map of fields to values; a path exists while it has a field. Load
     * mode too (ph_set). */
    /* Set 'field' of 'path' to 'value'. */
    int (*ph_set)(struct sink *s, int64_t id, const struct rs_bytes *path,
                  const struct rs_bytes *field, const struct rs_bytes *value);
    /* *has = 1 when 'path' has 'field' (field NULL: has any field). */
    int (*ph_has)(struct sink *s, int64_t id, const struct rs_bytes *path,
                  const struct rs_bytes *field, int *has);
    /* Remove 'field' of 'path', or every field of 'path' when field is
     * NULL; *removed = fields removed. */
    int (*ph_del)(struct sink *s, int64_t id, const struct rs_bytes *path,
                  const struct rs_bytes *field, int64_t *removed);
    /* Remove every path that starts with the bytes of 'prefix' (all when
     * it is empty); *paths = paths removed. */
    int (*ph_del_prefix)(struct sink *s, int64_t id, const struct rs_bytes *prefix,
                         int64_t *paths);

    /* ---- functions ---- */
    /* Load mode too. */
    int (*function_store)(struct sink *s, const struct rs_bytes *code);
    /* Remove library 'library' (FUNCTION DELETE), or every library when
     * NULL (FUNCTION FLUSH); an absent library is no error. */
    int (*function_delete)(struct sink *s, const struct rs_bytes *library);

    /* ---- commands ---- */
    /* Count one unknown command by name (kept in the status tables). */
    int (*unknown_command)(struct sink *s, const struct rs_bytes *name);

    /* ---- a downstream's outbox (sinks/shipper.h) ---- */
    /* From the next begin on, record each stream transaction's row changes
     * in the outbox, in that transaction; at each commit delete the rows
     * up to shipped(arg) (the downstream holds them), and every row once
     * they pass max_bytes (> 0). NULL when the sink has no outbox. */
    int (*outbox_enable)(struct sink *s, int64_t max_bytes, int64_t (*shipped)(void *arg),
                         void *arg);
};

/*
 * What a sink reports that is no error of its caller's, yet an operator
 * should learn: why the mirror stopped moving. The sink does not log; its
 * owner gets these through sink.on_event and logs them (daemon/main.c).
 */
enum sink_event_kind {
    SINK_EV_LOCK_WAIT,   /* another process has held a lock for a while: nothing
                          * new is committed until it lets go */
    SINK_EV_LOCK_END,    /* that wait ended after 'seconds' */
    SINK_EV_OUTBOX_DROPPED,  /* the outbox passed its limit ('bytes'), or a
                              * transaction could not be recorded ('why'), and
                              * was emptied: the downstream copies the mirror again */
    SINK_EV_OLD_FORM,    /* the mirror, made by an older redsink, holds 'bytes'
                          * rows in a form this one cannot update: its checkpoint
                          * is cleared, so the next connection takes a full sync */
    SINK_EV_INCR_REFUSED /* increments made late (sink.late_incr) of 'bytes' keys
                          * or hash fields were refused (no integer, an overflow):
                          * the mirror already differed from the master there */
};

struct sink_event {
    enum sink_event_kind kind;
    const char *target;  /* the sink's target, as sink_open got it */
    double seconds;      /* SINK_EV_LOCK_END: how long the wait took */
    int64_t bytes;       /* SINK_EV_OUTBOX_DROPPED: the outbox's size;
                          * SINK_EV_OLD_FORM: the rows */
    const char *why;     /* SINK_EV_OUTBOX_DROPPED: NULL (the limit), or why not recorded */
};

/* The first member of every sink. */
struct sink {
    const struct sink_ops *ops;
    struct rs_error err;
    /* Set by the owner (NULL: none). A sink that waits for something
     * outside it (a lock held by another process) gives up once *stop is
     * nonzero, instead of after a fixed time. */
    volatile sig_atomic_t *stop;
    /* Set by the owner (NULL: none), through sink_open_events: gets each
     * event with 'event_ud', on the thread that called the sink. */
    void (*on_event)(void *ud, const struct sink_event *ev);
    void *event_ud;
    /* Set by the owner (the applier, from the master's version): the
     * master reads integers as rs_parse_ll does (Redis 3.2.2 and later),
     * so an increment the master made is one the mirror can make, and a
     * sink may make it later, at its next statement or commit
     * (string_incr, hash_incr). 0: increments are made or refused at
     * once. */
    int late_incr;
};

/*
 * Open a sink by name (NULL: the default one; sink.c lists the built-in
 * backends) on 'target' (what it means is the backend's: a file path...).
 * Creates the schema on a new mirror; on an existing one, drops what an
 * interrupted full sync left behind. Returns NULL with 'err' set.
 */
struct sink *sink_open(const char *name, const char *target, struct rs_error *err);
/* sink_open with on_event(ud, ...) in place from the start, so that the
 * open reports its events too (it may wait for a lock). */
struct sink *sink_open_events(const char *name, const char *target,
                              void (*on_event)(void *ud, const struct sink_event *ev), void *ud,
                              struct rs_error *err);
void sink_close(struct sink *s);   /* NULL is fine */

/*
 * The status of the mirror at 'target' as `redsink status` shows it, read
 * by sink 'name' without writing anything (a missing mirror is an error,
 * never created). Text fields are "" and numbers -1 when the mirror has no
 * such field (made by an older redsink) or it is unset.
 */
struct sink_status {
    char state[32], detail[256], master_replid[41], master_host[256];
    int64_t master_port, offset, db, updated_at, generation;
    int64_t keys_loaded, commands_applied, unknown_commands;
    int64_t read_offset, last_ack_at, lag_bytes, lag_ms, bytes_received, bytes_total;
    double keys_per_sec;
};

/*
 * Read it. 'unknown' (may be NULL) gets each unknown command counted in
 * the mirror, most frequent first. Returns 0, or -1 with err set (missing
 * file, not a redsink mirror, unknown sink, a storage error).
 */
int sink_read_status(const char *name, const char *target, struct sink_status *st,
                     void (*unknown)(void *ud, const char *cmd, int64_t count), void *ud,
                     struct rs_error *err);

/*
 * Gauges sink 'name' keeps about the mirror at 'target' (the sizes of its
 * files), read without opening it, from any thread: the metric of one is
 * redsink_<sink name>_<gauge name>. Fills up to 'max'; returns how many.
 */
struct sink_gauge {
    const char *name;        /* "db_bytes" */
    const char *help;        /* the metric's HELP text */
    long long value;
};
int sink_gauges(const char *name, const char *target, struct sink_gauge *g, int max);

#endif
