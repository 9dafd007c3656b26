/*
 * log.h - one-line log messages with levels. They go to stderr by default,
 * to a file (log_open_file), to syslog (log_open_syslog), or to both of
 * the latter. A file is reopened by log_reopen(), which main.c's SIGHUP
 * handling calls after logrotate moved it away.
 */
#ifndef RS_LOG_H
#define RS_LOG_H

#include "common.h"

enum log_level { RS_LOG_ERROR = 0, RS_LOG_WARN, RS_LOG_INFO, RS_LOG_DEBUG };

/* Messages above 'level' are dropped. Default: RS_LOG_INFO. */
void log_set_level(enum log_level level);
/* Parse "error", "warning", "info", "debug"; -1 if unknown. */
int log_level_parse(const char *name);

/* Send messages to 'path' (appended to, created 0640) instead of stderr.
 * A relative path is made absolute first, so a reopen after chdir("/")
 * finds the same file. 0, or -1 with 'err' naming the file and the
 * cause (nothing changed then). Call before any thread logs. */
int log_open_file(const char *path, struct rs_error *err);

/* Also (or, without a file: only) send messages to syslog, as "redsink"
 * with LOG_PID and facility LOG_DAEMON; levels map to LOG_ERR,
 * LOG_WARNING, LOG_INFO and LOG_DEBUG. */
void log_open_syslog(void);

/* Reopen the log file by its path (a no-op without one), so that lines
 * go to a new file once the old one was moved. Async-signal-safe: only
 * open(2), dup2(2) and close(2). 0, or -1 with errno set; the old file
 * stays in use then, and the next message reports the failure. */
int log_reopen(void);

/* The absolute path of the log file, or NULL when there is none. */
const char *log_file_path(void);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* What a sink reports (a lock wait and its end), logged: the event
 * callback of sink_open_events(), 'ud' unused. */
struct sink_event;
void log_sink_event(void *ud, const struct sink_event *ev);

#endif
