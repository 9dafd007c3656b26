/*
 * fuzz_decode.c - libFuzzer target for the RDB parser's blob decoders
 * (daemon/read/rdb_decode.c, and the stream node walk of rdb_stream.c),
 * on a plain buffer: no RDB framing, no length, no chunks.
 *
 * Input: byte 0 chooses the decoder (modulo the count of 'decoders'
 * below), the rest is the blob, copied to a buffer of its exact size so
 * that ASan catches a read past its end. Seeds: fuzz/corpus/decode/,
 * written by fuzz/decode_seeds.py from the RDB fixtures.
 */
#include <stdint.h>
#include <stdlib.h>
#include "fuzz_rdb_handlers.h"
#include "rdb_int.h"

/* What byte 0 selects: the decoder, and the key type its records are for
 * (a list or a set decides between on_list_item and on_set_member). */
enum dec { DEC_ZIPLIST, DEC_LISTPACK, DEC_INTSET, DEC_ZIPMAP, DEC_STREAM };
static const struct {
    enum dec dec;
    enum seq_kind kind;
    enum rs_type type;
} decoders[] = {
    { DEC_ZIPLIST, SEQ_LIST, RS_T_LIST },        /* 0: list ziplist (types 10, 14) */
    { DEC_ZIPLIST, SEQ_ZSET, RS_T_ZSET },        /* 1: zset ziplist (12) */
    { DEC_ZIPLIST, SEQ_HASH, RS_T_HASH },        /* 2: hash ziplist (13) */
    { DEC_LISTPACK, SEQ_LIST, RS_T_LIST },       /* 3: list listpack (18) */
    { DEC_LISTPACK, SEQ_SET, RS_T_SET },         /* 4: set listpack (20) */
    { DEC_LISTPACK, SEQ_ZSET, RS_T_ZSET },       /* 5: zset listpack (17) */
    { DEC_LISTPACK, SEQ_HASH, RS_T_HASH },       /* 6: hash listpack (16) */
    { DEC_LISTPACK, SEQ_HASH_EX, RS_T_HASH },    /* 7: hash listpack with TTLs (25) */
    { DEC_INTSET, SEQ_SET, RS_T_SET },           /* 8: intset (11) */
    { DEC_ZIPMAP, SEQ_HASH, RS_T_HASH },         /* 9: zipmap (9) */
    { DEC_STREAM, SEQ_LIST, RS_T_STREAM },       /* 10: stream node listpack (15, 19, 21) */
};
#define N_DECODERS (sizeof(decoders) / sizeof(decoders[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rdb_parser *p;
    struct rs_bytes blob;
    unsigned which;
    char *copy;

    if (size == 0)
        return 0;
    which = data[0] % N_DECODERS;
    p = rdb_parser_new(RDB_MODE_DUMP, &handlers, NULL, 0);
    copy = malloc(size - 1 ? size - 1 : 1);
    if (p == NULL || copy == NULL)
        abort();
    memcpy(copy, data + 1, size - 1);
    blob.ptr = copy;
    blob.len = size - 1;
    p->ltype = decoders[which].type;
    switch (decoders[which].dec) {
    case DEC_ZIPLIST: rdb_walk_seq(p, 0, &blob, decoders[which].kind); break;
    case DEC_LISTPACK: rdb_walk_seq(p, 1, &blob, decoders[which].kind); break;
    case DEC_INTSET: rdb_walk_intset(p, &blob); break;
    case DEC_ZIPMAP: rdb_walk_zipmap(p, &blob); break;
    case DEC_STREAM: rdb_walk_stream_node(p, &blob); break;
    }
    fuzz_touch(rdb_parser_error(p)->msg, strlen(rdb_parser_error(p)->msg));
    free(copy);
    rdb_parser_free(p);
    return 0;
}
