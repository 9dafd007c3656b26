/*
 * fuzz_rdb_handlers.h - RDB parser handlers for the libFuzzer targets
 * (fuzz_rdb.c, fuzz_dump.c, fuzz_decode.c): each one reads every byte it
 * is lent, so that ASan sees a bad rs_bytes at the handler that got it.
 * Header-only, like fuzz_common.h.
 */
#ifndef RS_FUZZ_RDB_HANDLERS_H
#define RS_FUZZ_RDB_HANDLERS_H

#include "fuzz_common.h"
#include "rdb.h"

static int on_aux(void *ud, const struct rs_bytes *k, const struct rs_bytes *v)
{
    (void)ud;
    fuzz_touch_bytes(k);
    fuzz_touch_bytes(v);
    return 0;
}

static int on_select_db(void *ud, int db)
{
    (void)ud;
    fuzz_sink_byte += (unsigned)db;
    return 0;
}

static int on_key_begin(void *ud, const struct rdb_key *key)
{
    (void)ud;
    fuzz_touch_bytes(&key->name);
    fuzz_touch_bytes(&key->module);
    fuzz_sink_byte += (unsigned)key->type + (unsigned)key->db;
    return 0;
}

static int on_bytes(void *ud, const struct rs_bytes *b)
{
    (void)ud;
    fuzz_touch_bytes(b);
    return 0;
}

static int on_zset_member(void *ud, const struct rs_bytes *m, double score)
{
    (void)ud;
    fuzz_touch_bytes(m);
    fuzz_sink_byte += score > 0;
    return 0;
}

static int on_hash_field(void *ud, const struct rs_bytes *f, const struct rs_bytes *v,
                         int64_t expire_ms)
{
    (void)ud;
    (void)expire_ms;
    fuzz_touch_bytes(f);
    fuzz_touch_bytes(v);
    return 0;
}

static int on_stream_item(void *ud, const struct rs_stream_id *id, int pos,
                          const struct rs_bytes *f, const struct rs_bytes *v)
{
    (void)ud;
    fuzz_sink_byte += (unsigned)(id->ms + id->seq) + (unsigned)pos;
    fuzz_touch_bytes(f);
    fuzz_touch_bytes(v);
    return 0;
}

static int on_stream_meta(void *ud, const struct rs_stream_meta *m)
{
    (void)ud;
    fuzz_sink_byte += (unsigned)m->length;
    return 0;
}

static int on_stream_group(void *ud, const struct rs_stream_group *g)
{
    (void)ud;
    fuzz_touch_bytes(&g->name);
    return 0;
}

static int on_stream_pending(void *ud, const struct rs_stream_pending *p)
{
    (void)ud;
    fuzz_sink_byte += (unsigned)p->delivery_count;
    return 0;
}

static int on_stream_consumer(void *ud, const struct rs_stream_consumer *c)
{
    (void)ud;
    fuzz_touch_bytes(&c->name);
    return 0;
}

static int on_stream_id(void *ud, const struct rs_stream_id *id)
{
    (void)ud;
    fuzz_sink_byte += (unsigned)id->seq;
    return 0;
}

static int on_void(void *ud)
{
    (void)ud;
    return 0;
}

static const struct rdb_handlers handlers = {
    .on_aux = on_aux,
    .on_select_db = on_select_db,
    .on_key_begin = on_key_begin,
    .on_string = on_bytes,
    .on_list_item = on_bytes,
    .on_set_member = on_bytes,
    .on_zset_member = on_zset_member,
    .on_hash_field = on_hash_field,
    .on_stream_item = on_stream_item,
    .on_stream_meta = on_stream_meta,
    .on_stream_group = on_stream_group,
    .on_stream_pending = on_stream_pending,
    .on_stream_consumer = on_stream_consumer,
    .on_stream_consumer_pending = on_stream_id,
    .on_key_end = on_void,
    .on_function = on_bytes,
    .on_end = on_void,
};

#endif
