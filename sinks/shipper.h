/*
 * shipper.h - the PostgreSQL downstream (CONTRACT.md §5, doc/postgres.md).
 *
 * The SQLite mirror stays the mirror: in every stream transaction it also
 * records the primary keys of the rows it changed (a pre-update hook) in
 * the table redsink_outbox of the same file, in the same transaction
 * (sinks/sqlite/sqlite_outbox.c):
 *
 *   redsink_outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused
 *                  gen INTEGER NOT NULL,     -- generation the rows belong to
 *                  replid TEXT NOT NULL,     -- checkpoint of that transaction
 *                  offset INTEGER NOT NULL,
 *                  at INTEGER NOT NULL,      -- unix ms of the commit
 *                  pks BLOB NOT NULL)        -- the keys, packed: outbox_pk.h
 *
 * Only the tables behind the views are recorded (keys, hash, list, set,
 * zset, stream, array, big, bigm, bign, phash). The sink deletes the rows with
 * seq <= the shipper's shipped seq (shipper_shipped_seq) in its own next
 * transaction, and every row when their total size passes the configured
 * maximum: a gap in seq (or a new generation) then tells the shipper to
 * copy the whole mirror again.
 *
 * The shipper is a thread with its own read-only SQLite connection and its
 * own libpq connection. A round reads one SQLite snapshot S: every outbox
 * row up to S, and the rows their keys name as they are at S (absent:
 * deleted in PostgreSQL, present: upserted), committed in one PostgreSQL
 * transaction with S's checkpoint. It never writes the SQLite file and
 * never blocks the applier: PostgreSQL down or slow only makes the outbox
 * grow.
 */
#ifndef RS_SHIPPER_H
#define RS_SHIPPER_H

#include <stdint.h>
#include "common.h"

/* The postgres { } config section / --postgres. Strings owned by the caller. */
struct pg_options {
    const char *conninfo;       /* libpq keyword/value string or URI; NULL: off */
    const char *password_file;  /* a file holding the password; NULL: libpq's own
                                 * (PGPASSFILE, ~/.pgpass, service files) */
    const char *schema;         /* default "redis" */
    int64_t outbox_max;         /* bytes of key lists kept for PostgreSQL; past
                                 * it the outbox is dropped and the mirror
                                 * copied again (enforced by the SQLite sink) */
    int ack;                    /* REPLCONF ACK waits for PostgreSQL too */
    /* NULL, or called on the shipper's thread each time the checkpoint
     * PostgreSQL holds moves (postgres.ack: it wakes the network thread,
     * which then ACKs what PostgreSQL has). Must not block. */
    void (*on_shipped)(void *arg);
    void *on_shipped_arg;
};

/* What the shipper is doing, for redsink_status, INFO and the log. */
struct ship_status {
    char state[16];             /* "connecting", "copying", "streaming", "down" */
    int64_t gen;                /* generation PostgreSQL holds; 0 none yet */
    int64_t seq;                /* last outbox seq PostgreSQL holds */
    char replid[41];            /* checkpoint PostgreSQL holds ("" none) */
    int64_t offset;             /* -1 none */
    int64_t lag_bytes;          /* SQLite's committed offset minus offset */
    int64_t lag_ms;             /* age of the oldest change PostgreSQL lacks; 0 none */
    int64_t copies;             /* whole-mirror copies done since start */
    int64_t rows_copied;        /* rows of the last (or running) copy */
    char error[256];            /* last error, one line, no password; "" none */
};

struct shipper;

/* Log lines from the shipper's thread: level as in syslog (3 err, 4 warning,
 * 6 info). The callback must be thread-safe. */
typedef void (*ship_log_fn)(void *arg, int level, const char *msg);

/* Start the thread. Fails (-1 path: NULL with err) only on what can never
 * work (bad options, no memory); an unreachable PostgreSQL is retried. */
struct shipper *shipper_start(const char *sqlite_path, const struct pg_options *o,
                              ship_log_fn log, void *log_arg, struct rs_error *err);
/* The SQLite mirror committed: look at the outbox now (else it polls). */
void shipper_notify(struct shipper *sh);
/* Last outbox seq committed in PostgreSQL (the sink prunes up to it). */
int64_t shipper_shipped_seq(struct shipper *sh);
void shipper_status(struct shipper *sh, struct ship_status *out);
/* Stop the thread (a transaction in flight is rolled back) and free. */
void shipper_stop(struct shipper *sh);

#endif
