/*
 * spool.c - the file-backed FIFO of spool.h: pwrite at the tail, pread at
 * the head, a mutex and a condition variable between the two threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

/* Cut the file back to zero once the reader has caught up and it has
 * grown past this: cheap enough to do rarely, small enough to keep the
 * disk footprint of a long stream bounded. */
#define SPOOL_RESET_BYTES (16u << 20)

struct spool {
    int fd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t rpos, wpos;      /* file offsets of the head and the tail */
    uint64_t total;           /* bytes ever written */
    int closed;
    int writing;              /* a pwrite at wpos is under way: no reset */
    struct rs_error err;
};

static int open_tmp(const char *dir, struct rs_error *err)
{
    char path[4096];
    int fd;

#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
#endif
    snprintf(path, sizeof(path), "%s/.redsink-spool-XXXXXX", dir);
    fd = mkstemp(path);
    if (fd < 0) {
        rs_fail(err, RS_E_IO, "cannot create a spool file in '%s': %s", dir, strerror(errno));
        return -1;
    }
    unlink(path);   /* nothing to clean up after a crash */
    return fd;
}

struct spool *spool_new(const char *dir, struct rs_error *err)
{
    struct spool *s;
    int fd = open_tmp(dir, err);

    if (fd < 0)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        close(fd);
        rs_fail(err, RS_E_NOMEM, "out of memory");
        return NULL;
    }
    s->fd = fd;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
}

void spool_free(struct spool *s)
{
    if (s == NULL)
        return;
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

int spool_write(struct spool *s, const char *buf, size_t len)
{
    uint64_t at;
    size_t done = 0;

    pthread_mutex_lock(&s->mu);
    at = s->wpos;
    s->writing = 1;
    pthread_mutex_unlock(&s->mu);
    /* Only this thread moves wpos and the reader never reads past it, so
     * the write itself needs no lock; 'writing' keeps the reader from
     * cutting the file back to zero under it. */
    while (done < len) {
        ssize_t n = pwrite(s->fd, buf + done, len - done, (off_t)(at + done));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;

            pthread_mutex_lock(&s->mu);
            rs_fail(&s->err, RS_E_IO, "cannot write the spool file: %s", strerror(e));
            s->closed = 1;
            s->writing = 0;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            return -1;
        }
        done += (size_t)n;
    }
    pthread_mutex_lock(&s->mu);
    s->wpos += len;
    s->total += len;
    s->writing = 0;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void spool_close_writer(struct spool *s)
{
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

ssize_t spool_read(struct spool *s, char *buf, size_t cap, int timeout_ms)
{
    struct timespec until;
    uint64_t at, avail;
    ssize_t n;

    pthread_mutex_lock(&s->mu);
    if (s->rpos == s->wpos && !s->closed && timeout_ms > 0) {
        deadline_after(&until, timeout_ms);
        while (s->rpos == s->wpos && !s->closed)
            if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT)
                break;
    }
    avail = s->wpos - s->rpos;
    if (avail == 0) {
        int closed = s->closed;

        pthread_mutex_unlock(&s->mu);
        return closed ? -1 : 0;
    }
    at = s->rpos;
    pthread_mutex_unlock(&s->mu);

    if (cap > avail)
        cap = (size_t)avail;
    do {
        n = pread(s->fd, buf, cap, (off_t)at);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        pthread_mutex_lock(&s->mu);
        rs_fail(&s->err, RS_E_IO, "cannot read the spool file: %s",
                n < 0 ? strerror(errno) : "unexpected end of file");
        pthread_mutex_unlock(&s->mu);
        return -1;
    }

    pthread_mutex_lock(&s->mu);
    s->rpos += (uint64_t)n;
    if (s->rpos == s->wpos && s->wpos >= SPOOL_RESET_BYTES && !s->writing) {
        /* caught up: start the file again from zero */
        if (ftruncate(s->fd, 0) == 0)
            s->rpos = s->wpos = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

uint64_t spool_pending(struct spool *s)
{
    uint64_t v;

    pthread_mutex_lock(&s->mu);
    v = s->wpos - s->rpos;
    pthread_mutex_unlock(&s->mu);
    return v;
}

uint64_t spool_total(struct spool *s)
{
    uint64_t v;

    pthread_mutex_lock(&s->mu);
    v = s->total;
    pthread_mutex_unlock(&s->mu);
    return v;
}

const struct rs_error *spool_error(struct spool *s)
{
    return &s->err;
}
