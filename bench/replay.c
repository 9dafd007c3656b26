/*
 * replay.c - apply a recorded replication stream to a new SQLite mirror,
 * with no network: the RESP reader, the applier and the SQLite sink of
 * the daemon, fed from a file. The input is the same on every run, so
 * `valgrind --tool=callgrind --toggle-collect=replay_run` counts the same
 * instructions whatever else the machine does (bench/README.md).
 *
 *   bench/replay [-b] MIRROR.db STREAM [BATCH [SETUP]]
 *
 * STREAM holds commands as a master propagates them (bench/record.py
 * writes one); SETUP, when given, is applied first and not counted (a
 * case's NAME.pre.resp). A commit follows every BATCH commands (default 10000, the
 * daemon's sqlite.batch_commands) and the end. Prints the commands
 * applied and the seconds taken. -b: as the daemon far behind the master
 * (apply_set_backlog with a large backlog: the sink catches up, e.g. with
 * SQLite's larger page cache; the batch is still BATCH). With
 * REPLAY_OUTBOX=1 in the environment the sink records every transaction's
 * changes for PostgreSQL (the outbox of --postgres, never pruned here), so
 * the cost of recording can be counted apart from the shipping.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "resp.h"
#include "sink.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long feed_all(struct applier *a, const char *data, size_t len, long batch,
                       struct rs_error *err)
{
    struct resp_reader *rr = resp_reader_new(0, 0);
    struct resp_command cmd;
    enum rs_status st;
    size_t off = 0, skipped;
    long n = 0, since = 0;

    if (rr == NULL)
        return rs_fail(err, RS_E_NOMEM, "out of memory");
    while (off < len) {
        size_t chunk = len - off < 65536 ? len - off : 65536;

        if (resp_reader_feed(rr, data + off, chunk) != 0) {
            rs_fail(err, RS_E_NOMEM, "out of memory");
            goto fail;
        }
        off += chunk;
        for (;;) {
            st = resp_reader_next(rr, &cmd, &skipped);
            apply_skip_bytes(a, skipped);
            if (st != RS_OK)
                break;
            if (apply_command(a, cmd.argc, cmd.argv, cmd.wire_len) != 0) {
                rs_fail(err, apply_error(a)->code, "%s", apply_error(a)->msg);
                goto fail;
            }
            n++;
            if (++since >= batch && !apply_in_multi(a)) {
                if (apply_flush(a) != 0) {
                    rs_fail(err, apply_error(a)->code, "%s", apply_error(a)->msg);
                    goto fail;
                }
                since = 0;
            }
        }
        if (st == RS_ERROR) {
            rs_fail(err, RS_E_PROTO, "%s", resp_reader_error(rr)->msg);
            goto fail;
        }
    }
    if (apply_flush(a) != 0) {
        rs_fail(err, apply_error(a)->code, "%s", apply_error(a)->msg);
        goto fail;
    }
    resp_reader_free(rr);
    return n;
fail:
    resp_reader_free(rr);
    return -1;
}

/* Everything callgrind counts: parse, apply, commit. */
__attribute__((noinline)) static long replay_run(struct applier *a, const char *data, size_t len, long batch,
                       struct rs_error *err)
{
    return feed_all(a, data, len, batch, err);
}

/* The whole of 'path' into *data (the caller frees it). */
static int slurp(const char *path, char **data, size_t *len)
{
    size_t cap = 0;
    FILE *f = fopen(path, "rb");

    *data = NULL;
    *len = 0;
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t got;

        if (*len == cap) {
            char *p = realloc(*data, cap = cap ? cap * 2 : 1 << 20);

            if (p == NULL) {
                fprintf(stderr, "replay: out of memory\n");
                fclose(f);
                return -1;
            }
            *data = p;
        }
        if ((got = fread(*data + *len, 1, cap - *len, f)) == 0)
            break;
        *len += got;
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    struct rs_error err = { 0 };
    struct apply_opts opts = { 0 };
    struct repl_pos pos;
    struct sink *sink = NULL;
    struct applier *a = NULL;
    char *data = NULL, *pre = NULL;
    int behind = argc > 1 && strcmp(argv[1], "-b") == 0;
    long batch, n;
    size_t len = 0, pre_len = 0;
    double t0;
    int rc = 1;

    argc -= behind;
    argv += behind;
    batch = argc > 3 ? atol(argv[3]) : 10000;
    if (argc < 3 || batch < 1) {
        fprintf(stderr, "usage: replay [-b] MIRROR.db STREAM [BATCH [SETUP]]\n");
        return 2;
    }
    if (slurp(argv[2], &data, &len) != 0 || (argc > 4 && slurp(argv[4], &pre, &pre_len) != 0))
        goto out;
    if ((sink = sink_open("sqlite", argv[1], &err)) == NULL)
        goto fail;
    if (sink->ops->read_checkpoint(sink, &pos) != 0) {
        err = sink->err;
        goto fail;
    }
    if (getenv("REPLAY_OUTBOX") && strcmp(getenv("REPLAY_OUTBOX"), "1") == 0 &&
        sink->ops->outbox_enable(sink, 0, NULL, NULL) != 0) {
        err = sink->err;
        goto fail;
    }
    opts.batch_max_cmds = (int)batch;
    if ((a = apply_new(sink, &pos, &opts)) == NULL) {
        rs_fail(&err, RS_E_NOMEM, "out of memory");
        goto fail;
    }
    if (pre && feed_all(a, pre, pre_len, batch, &err) < 0)
        goto fail;
    if (behind)
        apply_set_backlog(a, UINT64_MAX);
    t0 = now_s();
    if ((n = replay_run(a, data, len, batch, &err)) < 0)
        goto fail;
    printf("%ld commands, %zu bytes in %.3f s\n", n, len, now_s() - t0);
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "replay: %s\n", err.msg);
out:
    apply_free(a);
    sink_close(sink);
    free(data);
    free(pre);
    return rc;
}
