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
    struct rdb_key key;         /* name borrowed from the parser until on_key_end */
};

/* The handler table to give rdb_parser_new() with a struct loader as ud. */
extern const struct rdb_handlers loader_handlers;

void loader_init(struct loader *l, struct sink *sink);
void loader_release(struct loader *l);

#endif
