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
#include "fuzz_rdb_handlers.h"

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
