/*
 * fuzz_rdb.c - libFuzzer target for the RDB push parser (daemon/read/rdb.c).
 *
 * Input: byte 0 = how many chunk-size bytes follow (0..7), then those
 * bytes, then the payload. The payload is parsed in FILE mode cut into
 * chunks of the chosen sizes, then whole in DUMP mode. Every handler
 * reads all the bytes it is lent. fuzz_dump.c builds this file with
 * FUZZ_DUMP_ONLY: both runs in DUMP mode, on seeds of real DUMP output.
 */
#include <stdint.h>
#include <stdlib.h>
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

/* A small max_item keeps a hostile length from asking for 512 MiB; 2 MiB
 * lets an item pass RDB_BUF_KEEP (1 MiB), as the threshold seeds do. */
#define FUZZ_MAX_ITEM (2u << 20)

static void run(enum rdb_mode mode, const uint8_t *sizes, size_t nsizes,
                const uint8_t *data, size_t len)
{
    struct rdb_parser *p = rdb_parser_new(mode, &handlers, NULL, FUZZ_MAX_ITEM);
    enum rs_status st = RS_AGAIN;
    size_t off = 0;

    if (p == NULL)
        abort();
    for (size_t i = 0; off < len && st == RS_AGAIN; i++) {
        size_t n = fuzz_chunk(sizes, nsizes, i), used = 0;

        if (n > len - off)
            n = len - off;
        /* copy the chunk so ASan catches reads past its end */
        char *chunk = malloc(n);
        if (chunk == NULL)
            abort();
        memcpy(chunk, data + off, n);
        st = rdb_parser_feed(p, chunk, n, &used);
        free(chunk);
        if (used > n || (st == RS_AGAIN && used != n))
            abort();   /* broken contract of rdb_parser_feed */
        off += n;
    }
    (void)rdb_parser_finish(p);
    fuzz_touch(rdb_parser_error(p)->msg, strlen(rdb_parser_error(p)->msg));
    rdb_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t nsizes;

    if (size == 0)
        return 0;
    nsizes = data[0] & 7;
    if (nsizes + 1 > size)
        return 0;
#ifdef FUZZ_DUMP_ONLY
    /* fuzz_dump.c: RESTORE payloads, chunked, then whole */
    run(RDB_MODE_DUMP, data + 1, nsizes, data + 1 + nsizes, size - 1 - nsizes);
#else
    run(RDB_MODE_FILE, data + 1, nsizes, data + 1 + nsizes, size - 1 - nsizes);
#endif
    run(RDB_MODE_DUMP, NULL, 0, data + 1 + nsizes, size - 1 - nsizes);
    return 0;
}
