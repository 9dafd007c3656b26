/*
 * apply.h - the command applier: replays the master's write commands on a
 * sink with Redis' semantics, and keeps the replication offset.
 *
 * Every command (applied, ignored or unknown) advances the applied offset
 * by its wire length. Writes are grouped into sink transactions; a commit
 * stores the offset and selected db with the data. Inside MULTI nothing
 * is committed: the whole block becomes visible at EXEC, with the offset
 * that includes it (as Redis' own replicas advance their offset).
 *
 * Start reading at apply_command().
 */
#ifndef RS_APPLY_H
#define RS_APPLY_H

#include <stddef.h>
#include "common.h"
#include "sink.h"

struct applier;
struct key_filter;

struct apply_opts {
    int strict;            /* unknown command: stop (1) or log and go on (0) */
    int batch_max_cmds;    /* commit after this many commands (0: 10000) */
    int batch_max_ms;      /* ... or when the open transaction is this old (0: 5) */
    /* Far behind the master (apply_set_backlog): commit after this many
     * commands (0: 500000) or when the transaction is this old (0: 5000),
     * never less than the two above. See limit_cmds() in apply.c. */
    int behind_max_cmds, behind_max_ms;
    /* Keys not mirrored (filter.h), borrowed; NULL: every key. A command
     * on filtered keys is counted, not applied; see apply_filter() in
     * apply.c for commands that touch kept and filtered keys. */
    const struct key_filter *filter;
    /* The master's Redis version as rs_parse_version() gives it (2.8.24:
     * 20824), 0 when unknown: the current semantics. Set per session by
     * link.c; the few commands whose effect changed since 2.6 follow it. */
    int master_version;
    /* Called with each applied command's name (a static string), for the
     * metrics; NULL: none. */
    void (*on_command)(void *ud, const char *name);
    void *on_command_ud;
};

/* 'start' is the committed checkpoint the stream continues from. The sink
 * is borrowed. NULL only when out of memory. */
struct applier *apply_new(struct sink *s, const struct repl_pos *start,
                          const struct apply_opts *opts);
void apply_free(struct applier *a);   /* rolls back what is not committed */

/*
 * Apply one command that used 'wire_len' bytes on the wire. Returns 0, or
 * -1 on a fatal error (the sink failed, or an unknown command in strict
 * mode): nothing after the last commit is kept, see apply_error().
 * A command Redis would reject (wrong type, bad integer...) is logged and
 * skipped, as a replica would; it still counts in the offset.
 */
int apply_command(struct applier *a, int argc, const struct rs_bytes *argv,
                  size_t wire_len);

/* Count bytes that are part of the stream but no command (none today;
 * kept for framing that a future master may add). */
void apply_skip_bytes(struct applier *a, size_t n);

/* Commit now unless inside MULTI (then at EXEC). A flush with nothing
 * new to store does nothing. 0 or -1. */
int apply_flush(struct applier *a);

/* True when the open batch is big or old enough to commit now. */
int apply_flush_due(const struct applier *a);

/* The stream bytes received and not yet applied. Past APPLY_BEHIND_BYTES
 * the caller is far behind the master: batches may grow 10x in commands
 * and 200x in age, since nobody can see those writes before redsink has
 * caught up anyway, and fewer commits catch up faster (GETACK still
 * commits at once); and the sink is told to catch up (sink_ops.catch_up)
 * until nothing waits any more. */
#define APPLY_BEHIND_BYTES (256 * 1024)
void apply_set_backlog(struct applier *a, uint64_t pending);
/* True while far behind (the last apply_set_backlog saw more than
 * APPLY_BEHIND_BYTES): batches are the larger ones. */
int apply_behind(const struct applier *a);

/* Milliseconds until the open batch is due (0: now), or -1 when no data
 * change waits for a commit (nothing, or only inside MULTI). */
int apply_ms_until_due(const struct applier *a);

/* True while a MULTI block is open. */
int apply_in_multi(const struct applier *a);

/* Position applied (in memory) and committed (in the sink). */
const struct repl_pos *apply_applied(const struct applier *a);
const struct repl_pos *apply_committed(const struct applier *a);

/* 1 once after a REPLCONF GETACK was applied (the caller flushes and
 * sends an ACK of the committed offset), else 0. */
int apply_take_ack_request(struct applier *a);

/* The master continued with a new replication id (+CONTINUE <id>). */
void apply_set_replid(struct applier *a, const char *replid);

/* Counters for the status row. */
const struct sink_stats *apply_stats(const struct applier *a);

const struct rs_error *apply_error(const struct applier *a);

#endif
