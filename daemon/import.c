/*
 * import.c - `redsink import` (import.h): the file read in 64 KiB chunks,
 * sniffed for Valkey's VKCS framing, fed to the loader; the sink's load
 * is committed at the RDB's end, and nothing is left behind on a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "import.h"
#include "loader.h"
#include "log.h"
#include "sink.h"
#include "vkcs.h"

/* A VKCS file's decompressed bytes, into the loader. */
struct import_feed {
    struct loader *ld;
    enum rs_status st;
    struct rs_error *err;
};

static int import_out(void *ud, const char *p, size_t n)
{
    struct import_feed *f = ud;

    f->st = loader_feed(f->ld, p, n, NULL, f->err);
    return f->st != RS_AGAIN;
}

/* One chunk of the file into the loader, through the VKCS decompressor
 * when the file is one (seen in its first chunk). */
static enum rs_status import_chunk(struct loader *ld, struct vkcs **z, int first,
                                   const char *buf, size_t n, struct rs_error *err)
{
    struct import_feed f = { ld, RS_AGAIN, err };

    if (first && vkcs_sniff(buf, n) && (*z = vkcs_new()) == NULL) {
        rs_fail(err, RS_E_NOMEM, "out of memory");
        return RS_ERROR;
    }
    if (*z == NULL)
        return loader_feed(ld, buf, n, NULL, err);
    if (vkcs_feed(*z, buf, n, import_out, &f, err) < 0)
        return RS_ERROR;
    return f.st;
}

/* Read the file into the loader to the end of its RDB. 0, or -1 with err set. */
static int import_read(struct loader *ld, int fd, const char *file, char *buf,
                       struct rs_error *err)
{
    struct vkcs *z = NULL;         /* Valkey 9.2 LZ4-compressed file */
    enum rs_status st = RS_AGAIN;
    int first = 1, rc = -1;

    while (st == RS_AGAIN) {
        ssize_t n = read(fd, buf, 1 << 16);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rs_fail(err, RS_E_IO, "cannot read '%s': %s", file, strerror(errno));
            goto out;
        }
        if (n == 0) {
            if (z == NULL || vkcs_finish(z, err) == 0)
                loader_truncated(ld, err);
            goto out;
        }
        st = import_chunk(ld, &z, first, buf, (size_t)n, err);
        first = 0;
    }
    rc = st == RS_ERROR ? -1 : 0;
out:
    vkcs_free(z);
    return rc;
}

static int import_file(const char *file, const char *target)
{
    struct rs_error err = { 0 };
    struct repl_pos pos = { "", -1, 0 };
    struct sink *sink = NULL;
    struct loader ld;
    char *buf = malloc(1 << 16);
    int fd = open(file, O_RDONLY | O_CLOEXEC), rc = 1;

    loader_init(&ld, NULL);
    if (fd < 0 || buf == NULL) {
        fprintf(stderr, "redsink: cannot open '%s': %s\n", file, strerror(errno));
        goto out;
    }
    if ((sink = sink_open_events(cfg_sink_name, target, log_sink_event, NULL, &err)) == NULL ||
        loader_begin(&ld, sink, NULL, &err) != 0 || import_read(&ld, fd, file, buf, &err) != 0 ||
        loader_commit(&ld, &pos, &err) != 0) {
        fprintf(stderr, "redsink: import '%s' failed: %s\n", file, err.msg);
        goto out;
    }
    printf("imported %lld keys from '%s' into '%s'\n", (long long)ld.keys, file, target);
    rc = 0;
out:
    loader_end(&ld);
    sink_close(sink);
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

int import_main(int argc, char **argv)
{
    const char *file = NULL, *target = NULL;

    for (int i = 1; i < argc; i++) {
        if (cfg_sink_arg(argc, argv, &i, &target))
            continue;
        if (argv[i][0] != '-' && file == NULL)
            file = argv[i];
        else {
            fprintf(stderr, "redsink: import: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (file == NULL || target == NULL) {
        fprintf(stderr, "redsink: usage: redsink import FILE.rdb %s\n", cfg_sink_usage);
        return 2;
    }
    return import_file(file, target);
}
