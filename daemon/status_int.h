/*
 * status_int.h - what the three parts of the status share: the record
 * (status.c), the INFO endpoint (status_server.c) and `redsink status`
 * (status_cli.c) is in status.h; this is the record's layout, for the
 * first two only.
 */
#ifndef REDSINK_STATUS_INT_H
#define REDSINK_STATUS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "status.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

#define TICK_MS 2000           /* progress line / status row interval */
#define ROW_IDLE_MS 10000      /* status row refresh when nothing changed */
#define SAMPLES 1024           /* (offset, time) samples of one lag */

/* How long ago an offset was reached, for a lag in ms: sample i says
 * offset off[i] was reached, the first time in its window at at[i] (mono
 * ms). A window is 'every' ms at first; full, pairs are merged and the
 * windows double, short again once few are left. */
struct samples {
    int64_t off[SAMPLES], at[SAMPLES];
    int64_t every, every0;
    int first, n;
};
#define CMD_SLOTS 512          /* command names counted for the metrics */
#define N_LE 14                /* buckets of the commit latency histogram */

/* Why the link went down: the labels of redsink_reconnects_total. */
enum reason { R_CONNECT, R_TIMEOUT, R_CLOSED, R_NOT_READY, R_IO, R_PROTOCOL, R_RDB, R_SINK,
              R_OTHER, N_REASONS };

/* A command name's count: the session thread fills a slot (count first,
 * then the name with release), readers take the name with acquire. */
struct cmd_slot {
    _Atomic(const char *) name;
    _Atomic uint64_t n;
};

struct status {
    pthread_mutex_t mu;
    char host[256];
    int port;
    char run_id[41];           /* random, like a Redis run_id */
    int64_t started;           /* mono ms */

    /* replication, under mu */
    enum link_state state;
    int full;                  /* this session began with a snapshot */
    int64_t base;              /* offset before the session's first stream byte */
    int64_t read_offset;       /* -1 unknown */
    int64_t committed;         /* -1 unknown */
    char replid[41];
    int64_t last_io;           /* mono ms of the last read from the master, 0 never */
    int64_t down_since;        /* mono ms the link went down */
    int64_t last_ack_at;       /* unix ms, 0 never */
    uint64_t payload, payload_total;
    int64_t keys_loaded, commands_applied, unknown_commands;
    double keys_per_sec;
    struct shipper *shipper;   /* the PostgreSQL downstream; NULL: none */
    struct samples received;   /* the stream read: status_lag_ms */
    struct samples commit_times;  /* SQLite's commits: PostgreSQL's lag (with a shipper) */

    /* metrics, under mu */
    int64_t sync_t0;           /* mono ms this full sync began, 0: none open */
    uint64_t full_syncs, full_syncs_aborted;
    double full_sync_seconds, last_full_sync_seconds;
    uint64_t commit_bucket[N_LE], commits;
    double commit_seconds;
    uint64_t reconnects[N_REASONS];
    int64_t unknown_total, sess_unknown;
    char mirror[4096];         /* the sink's target */
    char sink_name[32];        /* the sink's name: its metrics are redsink_<name>_* */

    /* commands by name: written by the session thread only, lock-free */
    struct cmd_slot cmds[CMD_SLOTS];
    _Atomic uint64_t cmds_other;  /* names past CMD_SLOTS */

    /* session thread only */
    struct sink *sink;
    int64_t load_t0, next_tick, tick_keys, tick_at, row_at;
    int64_t row_committed, row_read;
    int rate_final;            /* the full sync's overall speed is known */

    /* endpoint thread */
    int listen_fd;
    int wake[2];
    pthread_t tid;
    int running;
};

/* Text built up for a reply or a page. */
struct buf {
    char *p;
    size_t len, cap;
    int grow;                  /* p is malloc'd: realloc when full (0: truncate) */
    int oom;
};

/* printf into b: grows it when b->grow (b->oom on failure), else truncates. */
void status_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The lag behind the master, in bytes and in ms; under st->mu. */
int64_t status_lag_bytes(const struct status *st);
/* The shipper's status, its lag in bytes from SQLite's committed
 * offset; under st->mu. */
void status_ship_locked(struct status *st, struct ship_status *sh);
int64_t status_lag_ms(const struct status *st, int64_t now);

/* Stops the endpoint's thread and closes its sockets (status_server.c). */
void status_server_stop(struct status *st);

#endif
