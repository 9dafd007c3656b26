/*
 * eio_shim.c - test-only fault injection, preloaded into redsink by
 * tests/integration/io_error.sh (built there with cc; never part of
 * redsink itself).
 *
 * While the file named by $EIO_TRIGGER exists, every write or sync on a
 * file whose path contains $EIO_TARGET (the mirror and its WAL) fails
 * with EIO, as a failing disk would.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int doomed(int fd)
{
    const char *target = getenv("EIO_TARGET"), *trigger = getenv("EIO_TRIGGER");
    char link[64], path[PATH_MAX];
    ssize_t n;

    if (target == NULL || trigger == NULL || access(trigger, F_OK) != 0)
        return 0;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    return strstr(path, target) != NULL;
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    if (doomed(fd)) {
        errno = EIO;
        return -1;
    }
    return NEXT(pwrite64)(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (doomed(fd)) {
        errno = EIO;
        return -1;
    }
    return NEXT(pwrite)(fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    if (doomed(fd)) {
        errno = EIO;
        return -1;
    }
    return NEXT(write)(fd, buf, n);
}

int fdatasync(int fd)
{
    if (doomed(fd)) {
        errno = EIO;
        return -1;
    }
    return NEXT(fdatasync)(fd);
}

int fsync(int fd)
{
    if (doomed(fd)) {
        errno = EIO;
        return -1;
    }
    return NEXT(fsync)(fd);
}
