/*
 * fuzz_config.c - libFuzzer target for the config file parser
 * (daemon/config.c): the input is written to a temporary file (mode
 * 0600, so the password check passes) and loaded, then checked with
 * cfg_finish. Error messages are read in full.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "fuzz_common.h"
#include "config.h"
#include "log.h"

static char path[4096];

/* libconfig's scanner leaks its string buffer on some malformed input
 * (strbuf_append in libconfig.so, not our code): do not report it. */
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
    return "leak:libconfig.so\n";
}

static void write_input(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
}

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rs_error err = { 0 };
    struct cfg c;

    if (path[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        int fd;

        snprintf(path, sizeof(path), "%s/fuzz_config.XXXXXX", tmp ? tmp : "/tmp");
        if ((fd = mkstemp(path)) < 0)
            abort();
        close(fd);
        atexit(remove_file);
        log_set_level(RS_LOG_ERROR);
    }
    write_input(data, size);
    cfg_init(&c);
    if (cfg_load_file(&c, path, &err) == 0)
        (void)cfg_finish(&c, &err);
    fuzz_touch(err.msg, strlen(err.msg));
    cfg_release(&c);
    return 0;
}
