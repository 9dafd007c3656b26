/*
 * loader.h - turns the RDB parser's events into sink load operations.
 *
 * The parser knows the format, the sink knows storage; the loader is the
 * thin piece between them that applies Redis' loading rules: a list, set,
 * sorted set or hash with no element is not loaded (old servers could
 * write such keys), a stream with no entry is; keys whose TTL has passed
 * are loaded (the master will delete them) and the views hide them.
 * A key the filter drops is skipped whole: none of its events reach the
 * sink.
 *
 * Two ways in: the load driver (loader_begin, loader_feed, loader_commit,
 * loader_end) runs a whole RDB into the sink's load mode, for `redsink
 * import` (main.c) and the full sync (link.c); RESTORE (cmd_keys.c) gives
 * loader_handlers to its own DUMP parser with the key named by
 * loader_target(), inside the applier's transaction.
 */
#ifndef RS_LOADER_H
#define RS_LOADER_H

#include <stdint.h>
#include "filter.h"
#include "rdb.h"
#include "sink.h"

struct loader {
    struct sink *sink;
    struct rdb_parser *parser;  /* set by the caller, for error messages */
    const struct key_filter *filter;  /* set by the caller; NULL: load every key */
    int64_t filtered;           /* keys skipped by the filter */
    int64_t keys;               /* keys loaded so far */
    int stream_db;              /* AUX repl-stream-db, -1 when absent */
    int redis_ver;              /* AUX redis-ver (rs_parse_version), 0 when absent */
    int skipped_modules;        /* module values seen (stored as type module) */
    /* the key being loaded */
    int64_t id;                 /* sink id, or -1 while not created yet */
    int skip;                   /* the filter drops this key: ignore its events */
    int xn;                     /* stream entries reported for this key so far */
    struct rs_stream_id xmax;   /* the highest of their ids */
    struct rdb_key key;         /* name borrowed from the parser until on_key_end */
    int sink_failed;            /* a sink operation failed (its message in sink->err) */
    int loading;                /* the driver began the sink's load mode, not yet ended */
    /* loader_target(): the value is stored under this key instead */
    const struct rs_bytes *as_name;
    int as_db;
    int64_t as_expire_ms;
};

/* The handler table to give rdb_parser_new() with a struct loader as ud. */
extern const struct rdb_handlers loader_handlers;

void loader_init(struct loader *l, struct sink *sink);
void loader_release(struct loader *l);
/* RESTORE: store the payload's one value as 'name' (borrowed) in 'db',
 * with 'expire_ms', whatever the parser says of the key. */
void loader_target(struct loader *l, int db, const struct rs_bytes *name, int64_t expire_ms);

/*
 * The load driver: a new RDB file parser feeding the loader, and the
 * sink's load mode (a new mirror generation). 0, or -1 with err set;
 * loader_end() is due either way.
 */
int loader_begin(struct loader *l, struct sink *sink, const struct key_filter *filter,
                 struct rs_error *err);
/* Feed bytes; *used (may be NULL) gets how many the RDB took. RS_DONE at
 * its end, RS_AGAIN for more, RS_ERROR with err set. */
enum rs_status loader_feed(struct loader *l, const char *p, size_t n, size_t *used,
                           struct rs_error *err);
/* The input ended before the RDB did: always -1, with err saying where. */
int loader_truncated(struct loader *l, struct rs_error *err);
/* Commit the new generation at 'pos' (pos->db: the snapshot's stream db,
 * else 0). 0, or -1 with err set. */
int loader_commit(struct loader *l, struct repl_pos *pos, struct rs_error *err);
/* Abort the load when not committed, free the parser. */
void loader_end(struct loader *l);

#endif
