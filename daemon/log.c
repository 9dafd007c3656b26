/*
 * log.c - leveled one-line messages on stderr, with a timestamp, in the
 * shape systemd's journal and humans both read.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

static enum log_level current = RS_LOG_INFO;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *names[] = { "error", "warning", "info", "debug" };

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

void log_msg(enum log_level level, const char *fmt, ...)
{
    char line[1024], stamp[32];
    struct timeval tv;
    struct tm tm;
    va_list ap;

    if (level > current)
        return;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&lock);
    fprintf(stderr, "%s.%03d redsink[%s]: %s\n", stamp, (int)(tv.tv_usec / 1000),
            names[level], line);
    fflush(stderr);
    pthread_mutex_unlock(&lock);
}
