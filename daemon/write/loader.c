/*
 * loader.c - RDB events to sink load operations (see loader.h).
 *
 * A collection key is created in the sink when its first element arrives,
 * so an empty one never reaches it; strings, streams and module values are
 * created as soon as they are known. A key the filter drops (l->filter)
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

/* Report a sink failure through the parser so the message names it. */
static int sink_failed(struct loader *l)
{
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
    l->skip = !filter_keep(l->filter, key->db, key->name.ptr, key->name.len);
    if (l->skip) {
        l->filtered++;
        return 0;
    }
    if (key->type == RS_T_STREAM)
        return create_key(l, RS_T_STREAM, NULL);
    if (key->type == RS_T_MODULE) {
        if (l->skipped_modules++ == 0)
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

static int on_stream_item(void *ud, const struct rs_stream_id *eid, int pos,
                          const struct rs_bytes *f, const struct rs_bytes *v)
{
    struct loader *l = ud;

    if (l->skip)
        return 0;
    if (l->sink->ops->stream_add(l->sink, l->id, eid, pos, f, v) != 0)
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
    .on_key_end = on_key_end,
    .on_function = on_function,
};
