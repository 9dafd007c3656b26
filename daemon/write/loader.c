/*
 * loader.c - RDB events to sink load operations (see loader.h).
 *
 * A collection key is created in the sink when its first element arrives,
 * so an empty one never reaches it; strings, streams and module values
 * (and Valkey's path hashes, stored as module keys) are created as soon
 * as they are known. A key the filter drops (l->filter)
 * is skipped from its on_key_begin to its on_key_end.
 */
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "log.h"

void loader_init(struct loader *l, struct sink *sink)
{
    memset(l, 0, sizeof(*l));
    l->sink = sink;
    l->stream_db = -1;
    l->id = -1;
}

void loader_release(struct loader *l)
{
    (void)l;
}

void loader_target(struct loader *l, int db, const struct rs_bytes *name, int64_t expire_ms)
{
    l->as_name = name;
    l->as_db = db;
    l->as_expire_ms = expire_ms;
}

/* Report a sink failure through the parser so the message names it. */
static int sink_failed(struct loader *l)
{
    l->sink_failed = 1;
    if (l->parser)
        rdb_parser_set_error(l->parser, RS_E_SQL, l->sink->err.msg);
    return -1;
}

static int create_key(struct loader *l, enum rs_type type, const struct rs_bytes *value)
{
    if (l->sink->ops->key_create(l->sink, l->key.db, &l->key.name, type,
                                 l->key.expire_ms, value, &l->id) != 0)
        return sink_failed(l);
    l->keys++;
    return 0;
}

/* Create the pending collection key on its first element. */
static int ensure_key(struct loader *l)
{
    return l->id >= 0 ? 0 : create_key(l, l->key.type, NULL);
}

static int on_aux(void *ud, const struct rs_bytes *k, const struct rs_bytes *v)
{
    struct loader *l = ud;
    long long db;

    if (k->len == 14 && memcmp(k->ptr, "repl-stream-db", 14) == 0 &&
        rs_parse_ll(v->ptr, v->len, &db) == 0 && db >= 0 && db < 1 << 30)
        l->stream_db = (int)db;
    if (k->len == 9 && memcmp(k->ptr, "redis-ver", 9) == 0)
        l->redis_ver = rs_parse_version(v->ptr, v->len);
    return 0;
}

static int on_key_begin(void *ud, const struct rdb_key *key)
{
    struct loader *l = ud;

    l->key = *key;              /* the name stays valid until on_key_end (rdb.h) */
    l->id = -1;
    l->xn = 0;
    if (l->as_name) {
        l->key.db = l->as_db;
        l->key.name = *l->as_name;
        l->key.expire_ms = l->as_expire_ms;
    }
    l->skip = !filter_keep(l->filter, key->db, key->name.ptr, key->name.len);
    if (l->skip) {
        l->filtered++;
        return 0;
    }
    /* a stream or path hash may have no element: the key is made now */
    if (key->type == RS_T_STREAM || key->type == RS_T_PATHHASH)
        return create_key(l, key->type, NULL);
    if (key->type == RS_T_MODULE) {
        /* the warning is for loads; RESTORE (as_name) never gave it */
        if (l->skipped_modules++ == 0 && l->as_name == NULL)
            log_msg(RS_LOG_WARN, "rdb: value of module '%.*s' not decoded; key stored as type module",
                    (int)key->module.len, key->module.ptr);
        return create_key(l, RS_T_MODULE, NULL);
    }
    return 0;
}

static int on_string(void *ud, const struct rs_bytes *v)
{
    if (((struct loader *)ud)->skip)
        return 0;
    return create_key(ud, RS_T_STRING, v);
}

static int on_list_item(void *ud, const struct rs_bytes *item)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    if (ensure_key(l) != 0 || l->sink->ops->list_push(l->sink, l->id, 0, item) != 0)
        return sink_failed(l);
    return 0;
}

static int on_set_member(void *ud, const struct rs_bytes *m)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    if (ensure_key(l) != 0 || l->sink->ops->set_add(l->sink, l->id, m, NULL) != 0)
        return sink_failed(l);
    return 0;
}

static int on_zset_member(void *ud, const struct rs_bytes *m, double score)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    if (ensure_key(l) != 0 || l->sink->ops->zset_set(l->sink, l->id, m, score) != 0)
        return sink_failed(l);
    return 0;
}

static int on_hash_field(void *ud, const struct rs_bytes *f, const struct rs_bytes *v,
                         int64_t expire_ms)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    if (ensure_key(l) != 0 || l->sink->ops->hash_set(l->sink, l->id, f, v, expire_ms, NULL) != 0)
        return sink_failed(l);
    return 0;
}

/*
 * An entry id at or below one already reported for this key (never in an
 * RDB or DUMP payload Redis wrote; a forged one) replaces that entry, as
 * a repeated hash field does: it is deleted first. The sink's stream_add
 * would replace its rows in place, but the replaced rows would keep their
 * big values (sink.h) and any field beyond the new entry's last one.
 * Growing ids cost one comparison.
 */
static int stream_entry_begin(struct loader *l, const struct rs_stream_id *eid)
{
    int deleted;

    if (l->xn++ && (eid->ms < l->xmax.ms || (eid->ms == l->xmax.ms && eid->seq <= l->xmax.seq)))
        return l->sink->ops->stream_delete(l->sink, l->id, eid, &deleted);
    l->xmax = *eid;
    return 0;
}

static int on_stream_item(void *ud, const struct rs_stream_id *eid, int pos,
                          const struct rs_bytes *f, const struct rs_bytes *v)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    if ((pos == 0 && stream_entry_begin(l, eid) != 0) || l->sink->ops->stream_add(l->sink, l->id, eid, pos, f, v) != 0)
        return sink_failed(l);
    return 0;
}

static int on_stream_meta(void *ud, const struct rs_stream_meta *m)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    return l->sink->ops->stream_meta_set(l->sink, l->id, m) != 0 ? sink_failed(l) : 0;
}

static int on_stream_group(void *ud, const struct rs_stream_group *g)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    return l->sink->ops->stream_group(l->sink, l->id, g) != 0 ? sink_failed(l) : 0;
}

static int on_stream_pending(void *ud, const struct rs_stream_pending *p)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    return l->sink->ops->stream_pending(l->sink, l->id, p) != 0 ? sink_failed(l) : 0;
}

static int on_stream_consumer(void *ud, const struct rs_stream_consumer *c)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    return l->sink->ops->stream_consumer(l->sink, l->id, c) != 0 ? sink_failed(l) : 0;
}

static int on_stream_consumer_pending(void *ud, const struct rs_stream_id *eid)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    return l->sink->ops->stream_consumer_pending(l->sink, l->id, eid) != 0 ? sink_failed(l) : 0;
}

static int on_array_cursor(void *ud, uint64_t idx)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    if (ensure_key(l) != 0 || l->sink->ops->array_cursor_set(l->sink, l->id, 1, idx) != 0)
        return sink_failed(l);
    return 0;
}

static int on_array_item(void *ud, uint64_t idx, const struct rs_bytes *v)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    if (ensure_key(l) != 0 || l->sink->ops->array_set(l->sink, l->id, idx, v, NULL) != 0)
        return sink_failed(l);
    return 0;
}

static int on_path_hash_field(void *ud, const struct rs_bytes *path, const struct rs_bytes *field,
                              const struct rs_bytes *value)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    return l->sink->ops->ph_set(l->sink, l->id, path, field, value) != 0 ? sink_failed(l) : 0;
}

static int on_key_end(void *ud)
{
    struct loader *l = ud;

    l->id = -1;
    l->skip = 0;
    return 0;
}

static int on_function(void *ud, const struct rs_bytes *code)
{
    struct loader *l = ud;

    return l->sink->ops->function_store(l->sink, code) != 0 ? sink_failed(l) : 0;
}

const struct rdb_handlers loader_handlers = {
    .on_aux = on_aux,
    .on_key_begin = on_key_begin,
    .on_string = on_string,
    .on_list_item = on_list_item,
    .on_set_member = on_set_member,
    .on_zset_member = on_zset_member,
    .on_hash_field = on_hash_field,
    .on_stream_item = on_stream_item,
    .on_stream_meta = on_stream_meta,
    .on_stream_group = on_stream_group,
    .on_stream_pending = on_stream_pending,
    .on_stream_consumer = on_stream_consumer,
    .on_stream_consumer_pending = on_stream_consumer_pending,
    .on_array_cursor = on_array_cursor,
    .on_array_item = on_array_item,
    .on_path_hash_field = on_path_hash_field,
    .on_key_end = on_key_end,
    .on_function = on_function,
};

/* ------------------------------------------------------------------ */
/* The load driver                                                     */
/* ------------------------------------------------------------------ */

static int sink_error(struct loader *l, struct rs_error *err)
{
    return rs_fail(err, l->sink->err.code, "%s", l->sink->err.msg);
}

int loader_begin(struct loader *l, struct sink *sink, const struct key_filter *filter,
                 struct rs_error *err)
{
    loader_init(l, sink);
    l->filter = filter;
    l->parser = rdb_parser_new(RDB_MODE_FILE, &loader_handlers, l, 0);
    if (l->parser == NULL)
        return rs_fail(err, RS_E_NOMEM, "out of memory");
    if (sink->ops->load_begin(sink) != 0)
        return sink_error(l, err);
    l->loading = 1;
    return 0;
}

enum rs_status loader_feed(struct loader *l, const char *p, size_t n, size_t *used,
                           struct rs_error *err)
{
    enum rs_status st = rdb_parser_feed(l->parser, p, n, used);

    if (st == RS_ERROR)
        rs_fail(err, rdb_parser_error(l->parser)->code, "%s", rdb_parser_error(l->parser)->msg);
    return st;
}

int loader_truncated(struct loader *l, struct rs_error *err)
{
    rdb_parser_finish(l->parser);
    return rs_fail(err, RS_E_RDB, "%s", rdb_parser_error(l->parser)->msg);
}

int loader_commit(struct loader *l, struct repl_pos *pos, struct rs_error *err)
{
    pos->db = l->stream_db >= 0 ? l->stream_db : 0;
    if (l->sink->ops->load_commit(l->sink, pos) != 0)
        return sink_error(l, err);
    l->loading = 0;
    return 0;
}

void loader_end(struct loader *l)
{
    if (l->loading)
        l->sink->ops->load_abort(l->sink);
    l->loading = 0;
    rdb_parser_free(l->parser);
    l->parser = NULL;
    loader_release(l);
}
