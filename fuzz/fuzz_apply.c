/*
 * fuzz_apply.c - libFuzzer target for the command applier (daemon/write/apply.c)
 * over the SQLite sink.
 *
 * Input: a RESP command stream (no chunk prefix: resp has its own target).
 * Each complete command goes to apply_command on one scratch SQLite
 * mirror in a temporary file, created once per process. Each input runs
 * on a fresh applier and ends with a commit, so the mirror accumulates
 * state across inputs (like a long replication stream); every 256 inputs
 * it is emptied with FLUSHALL to bound its size. A fatal applier error
 * (the sink failed) is fine; an abort or sanitizer report is not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "fuzz_common.h"
#include "apply.h"
#include "log.h"
#include "resp.h"
#include "sink.h"

static char path[4096];
static struct sink *sink;
static unsigned long runs;

static void remove_files(void)
{
    char side[4200];

    sink_close(sink);
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

static void open_sink(void)
{
    const char *tmp = getenv("TMPDIR");
    struct rs_error err = { 0 };
    int fd;

    snprintf(path, sizeof(path), "%s/fuzz_apply.XXXXXX", tmp ? tmp : "/tmp");
    if ((fd = mkstemp(path)) < 0)
        abort();
    close(fd);
    unlink(path);   /* the sink creates it with its schema */
    if ((sink = sink_open("sqlite", path, &err)) == NULL) {
        fprintf(stderr, "fuzz_apply: %s\n", err.msg);
        abort();
    }
    atexit(remove_files);
    log_set_level(RS_LOG_ERROR);
}

static struct applier *new_applier(void)
{
    struct apply_opts o = { .strict = 0 };
    struct repl_pos start;

    if (sink->ops->read_checkpoint(sink, &start) != 0)
        abort();
    return apply_new(sink, &start, &o);
}

/* Empty the mirror every so often; recreate it if that fails. */
static void bound_size(void)
{
    static const struct rs_bytes flushall = { "FLUSHALL", 8 };
    struct applier *a = new_applier();

    if (a == NULL)
        abort();
    if (apply_command(a, 1, &flushall, 17) != 0 || apply_flush(a) != 0) {
        apply_free(a);
        remove_files();
        open_sink();
        return;
    }
    apply_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct resp_reader *r;
    struct resp_command cmd;
    struct applier *a;
    size_t skipped = 0;

    if (sink == NULL)
        open_sink();
    if (++runs % 256 == 0)
        bound_size();
    if ((r = resp_reader_new(1u << 16, 64)) == NULL || (a = new_applier()) == NULL)
        abort();
    if (resp_reader_feed(r, (const char *)data, size) != 0)
        goto out;
    while (resp_reader_next(r, &cmd, &skipped) == RS_OK) {
        apply_skip_bytes(a, skipped);
        if (apply_command(a, cmd.argc, cmd.argv, cmd.wire_len) != 0)
            goto out;   /* fatal: the applier rolled back */
        skipped = 0;
    }
    (void)apply_flush(a);
out:
    apply_free(a);
    resp_reader_free(r);
    return 0;
}
