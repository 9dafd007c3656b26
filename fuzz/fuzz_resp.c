/*
 * fuzz_resp.c - libFuzzer target for the command-stream reader
 * (daemon/read/resp.c).
 *
 * Input: byte 0 = how many chunk-size bytes follow (0..7), then those
 * bytes, then the stream, fed in chunks of the chosen sizes. After each
 * chunk every complete command is taken and its arguments read; the
 * wire lengths must add up to what was consumed.
 */
#include <stdint.h>
#include <stdlib.h>
#include "fuzz_common.h"
#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct resp_reader *r;
    size_t nsizes, off, fed = 0, used = 0;
    enum rs_status st = RS_AGAIN;

    if (size == 0)
        return 0;
    nsizes = data[0] & 7;
    if (nsizes + 1 > size)
        return 0;
    off = 1 + nsizes;
    if ((r = resp_reader_new(1u << 20, 1024)) == NULL)
        abort();
    for (size_t i = 0; off < size && st != RS_ERROR; i++) {
        size_t n = fuzz_chunk(data + 1, nsizes, i);
        struct resp_command cmd;
        size_t skipped;

        if (n > size - off)
            n = size - off;
        if (resp_reader_feed(r, (const char *)data + off, n) != 0)
            break;
        off += n;
        fed += n;
        for (;;) {
            skipped = 0;
            st = resp_reader_next(r, &cmd, &skipped);
            used += skipped;
            if (st != RS_OK)
                break;
            used += cmd.wire_len;
            for (int a = 0; a < cmd.argc; a++)
                fuzz_touch_bytes(&cmd.argv[a]);
        }
        /* every byte fed is either returned or still pending */
        if (st != RS_ERROR && used + resp_reader_pending(r) != fed)
            abort();
    }
    fuzz_touch(resp_reader_error(r)->msg, strlen(resp_reader_error(r)->msg));
    resp_reader_free(r);
    return 0;
}
