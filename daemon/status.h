/*
 * status.h - what redsink knows about its replication, in one place:
 * a mutex-protected record that link.c and main.c update (state, offsets
 * received and committed, last I/O, full-sync progress), and the three
 * ways to see it:
 *
 *  - the status endpoint (status_server.c): a small RESP server thread on
 *    replica.listening_port (PING, INFO [server|replication|redsink],
 *    ROLE, and the few commands redis-cli and Sentinel send first), so
 *    `redis-cli -p PORT info replication` and Sentinel see a replica;
 *  - the status row in the mirror (through sink_ops.set_progress), with
 *    a progress line in the log every 2 s during a full sync;
 *  - `redsink status` (status_main, status_cli.c), for humans;
 *  - Prometheus metrics (status_prometheus, status.c), served over HTTP by
 *    metrics.c: the same record plus counters that only metrics show
 *    (commands by name, full syncs, commit latency, reconnects).
 *
 * Every hook takes NULL for 'st' and then does nothing, so code paths
 * without a status record (tests, import) need no checks.
 */
#ifndef RS_STATUS_H
#define RS_STATUS_H

#include <stdint.h>
#include "common.h"
#include "link_state.h"
#include "sink.h"

struct status;

/* A new record for the master host:port (copied). NULL when out of memory. */
struct status *status_new(const char *master_host, int master_port);
/* Stops the endpoint if it runs, then frees; NULL is fine. */
void status_free(struct status *st);

/*
 * Start the endpoint thread, listening on bind_addr:port (port > 0).
 * Returns 0, or -1 with err set (RS_E_CONFIG: cannot listen there).
 */
int status_serve(struct status *st, const char *bind_addr, int port, struct rs_error *err);

/* ---- hooks: any thread ---- */

/* The link's state, from link_state_publish() (link_state.h), which also
 * gives it to sink_ops.set_state. LINK_STREAMING means the link is up. */
void status_set_state(struct status *st, enum link_state state);
/* The master accepted PSYNC/SYNC: the session's stream starts after
 * offset 'base'; 'full' when a snapshot comes first. The session thread
 * uses 'sink' for the progress row until the next call. */
void status_session(struct status *st, struct sink *sink, int full, int64_t base);
/* Network thread, after each read: snapshot bytes so far (of 'total',
 * 0 when unknown) and stream bytes so far in this session. */
void status_received(struct status *st, uint64_t payload, uint64_t total, uint64_t stream);
/* A REPLCONF ACK went to the master. */
void status_acked(struct status *st);
/* 'pos' is committed in the mirror. */
void status_committed(struct status *st, const struct repl_pos *pos);

/* ---- hooks: the session thread (they use the sink) ---- */

/* During a full sync, as often as convenient: every ~2 s logs a progress
 * line and stores the progress in the status row. */
void status_load_tick(struct status *st, int64_t keys);
/* While streaming, after commits: counters for INFO; the status row's
 * lag and ACK time every ~2 s when they changed. */
void status_stream_tick(struct status *st, const struct sink_stats *stats);

/* ---- hooks for the metrics ---- */

/* The session thread applied the command 'name', a string that lives as
 * long as the process (the applier's table entry): counted by name
 * without a lock (one writer). 'st' is a struct status *. */
void status_count_command(void *st, const char *name);
/* A commit of stream data into the mirror took 'seconds' (any thread). */
void status_commit_time(struct status *st, double seconds);
/* A session ended and redsink reconnects: the reason's label is derived
 * from the error (code and message). */
void status_reconnect(struct status *st, const struct rs_error *why);
/* The mirror: the name of its sink and its target (both copied), for the
 * sink's metrics (redsink_<sink>_*, sink_gauges). */
void status_set_mirror(struct status *st, const char *sink, const char *target);
/* The PostgreSQL downstream whose state the status row and INFO show. */
struct shipper;
void status_set_shipper(struct status *st, struct shipper *sh);
/* link_opts.ack_limit for postgres.ack: 'off', or less when PostgreSQL
 * holds less of the committed replication id ('ud' is the status). */
int64_t status_ack_limit(void *ud, int64_t off);

/* The record in the Prometheus text exposition format (version 0.0.4),
 * malloc'd, its length in *len; NULL when out of memory. Any thread. */
char *status_prometheus(struct status *st, size_t *len);

/* `redsink status` and the mirror option (cfg_sink_arg; argv[0] is
 * "status"): prints the mirror's status (sink_read_status); returns the
 * exit code (0, 1 on a missing or foreign file, 2 usage). */
int status_main(int argc, char **argv);

#endif
