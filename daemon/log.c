/*
 * log.c - leveled one-line messages, with a timestamp, in the shape
 * systemd's journal and humans both read: on stderr, in a file, or to
 * syslog.
 *
 * A line is formatted whole, then written with one write(2) on an
 * O_APPEND descriptor, so lines from the two threads never interleave
 * and a reopen (dup2 onto the same descriptor number) can happen at any
 * moment, even from a signal handler. Nothing here allocates.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sink.h"

static enum log_level current = RS_LOG_INFO;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *names[] = { "error", "warning", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

static int file_fd = -1;                 /* -1: no log file */
static char file_path[PATH_MAX];
static int to_syslog;
static volatile sig_atomic_t reopen_errno;   /* last log_reopen() failure, 0: none */

void log_set_level(enum log_level level)
{
    current = level;
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    if (strcmp(name, "warn") == 0)
        return RS_LOG_WARN;
    return -1;
}

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

int log_open_file(const char *path, struct rs_error *err)
{
    char abs[PATH_MAX];
    int n, fd;

    if (path[0] == '/')
        n = snprintf(abs, sizeof(abs), "%s", path);
    else if (getcwd(abs, sizeof(abs)) == NULL)
        return rs_fail(err, RS_E_IO, "cannot open log file '%s': %s", path, strerror(errno));
    else
        n = snprintf(abs + strlen(abs), sizeof(abs) - strlen(abs), "/%s", path);
    if (n < 0 || strlen(abs) >= sizeof(abs) - 1)
        return rs_fail(err, RS_E_CONFIG, "cannot open log file '%s': path too long", path);
    if ((fd = open_log(abs)) < 0)
        return rs_fail(err, RS_E_IO, "cannot open log file '%s': %s", path, strerror(errno));
    if (file_fd >= 0)
        close(file_fd);
    file_fd = fd;
    memcpy(file_path, abs, sizeof(abs));
    return 0;
}

void log_open_syslog(void)
{
    openlog("redsink", LOG_PID, LOG_DAEMON);
    to_syslog = 1;
}

int log_reopen(void)
{
    int saved = errno, fd;

    if (file_fd < 0)
        return 0;
    if ((fd = open_log(file_path)) < 0) {
        reopen_errno = errno;
        return -1;
    }
    /* dup2 swaps the file under the same number atomically: a write
     * racing with us lands in the old file or the new one, whole. */
    if (fd != file_fd) {
        dup2(fd, file_fd);
        close(fd);
    }
    reopen_errno = 0;
    errno = saved;
    return 0;
}

const char *log_file_path(void)
{
    return file_fd >= 0 ? file_path : NULL;
}

/* Write one formatted line where it goes; the caller holds 'lock'. */
static void emit(enum log_level level, const char *line)
{
    char out[1200], stamp[32];
    struct timeval tv;
    struct tm tm;
    int n;

    if (to_syslog)
        syslog(syslog_prio[level], "%s", line);
    if (to_syslog && file_fd < 0)
        return;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
    n = snprintf(out, sizeof(out), "%s.%03d redsink[%s]: %s\n", stamp,
                 (int)(tv.tv_usec / 1000), names[level], line);
    if (n >= (int)sizeof(out)) {
        n = sizeof(out) - 1;
        out[n - 1] = '\n';
    }
    /* Nowhere to report a failed log write: drop the line. */
    if (write(file_fd >= 0 ? file_fd : STDERR_FILENO, out, (size_t)n) < 0)
        return;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int failed;

    if (level > current)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&lock);
    if ((failed = reopen_errno) != 0) {
        char note[PATH_MAX + 128];

        reopen_errno = 0;
        snprintf(note, sizeof(note), "cannot reopen log file '%s': %s; "
                 "still writing to the old one", file_path, strerror(failed));
        emit(RS_LOG_ERROR, note);
    }
    emit(level, line);
    pthread_mutex_unlock(&lock);
}

/* What the sink reports (struct sink_event), logged. */
void log_sink_event(void *ud, const struct sink_event *ev)
{
    (void)ud;
    if (ev->kind == SINK_EV_LOCK_WAIT)
        log_msg(RS_LOG_WARN, "'%s' is locked by another process; waiting for it "
                "(nothing new is committed or acknowledged meanwhile)", ev->target);
    else if (ev->kind == SINK_EV_LOCK_END)
        log_msg(RS_LOG_INFO, "'%s' is unlocked after %.1f s; applying again", ev->target,
                ev->seconds);
    else if (ev->kind == SINK_EV_OUTBOX_DROPPED && ev->why)
        log_msg(RS_LOG_WARN, "postgres: cannot record a transaction's changes in '%s' (%s): "
                "the outbox is dropped; the whole mirror will be copied to PostgreSQL again",
                ev->target, ev->why);
    else if (ev->kind == SINK_EV_OUTBOX_DROPPED)
        log_msg(RS_LOG_WARN, "postgres: the outbox in '%s' passed its limit (%lld bytes not "
                "shipped): dropped; the whole mirror will be copied to PostgreSQL again",
                ev->target, (long long)ev->bytes);
    else if (ev->kind == SINK_EV_OLD_FORM)
        log_msg(RS_LOG_WARN, "'%s' holds %lld key names, fields or members of 1 MiB or more "
                "stored whole by an older redsink: its checkpoint is cleared, so the next "
                "connection takes a full sync (the mirror is served as it is meanwhile)",
                ev->target, (long long)ev->bytes);
    else if (ev->kind == SINK_EV_INCR_REFUSED)
        log_msg(RS_LOG_WARN, "'%s': the master's increments of %lld keys or hash fields could "
                "not be made (the value is no integer, or the sum overflows): the mirror already "
                "differed from the master there", ev->target, (long long)ev->bytes);
}
