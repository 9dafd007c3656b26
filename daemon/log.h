/*
 * log.h - one-line log messages with levels, to stderr by default.
 */
#ifndef RS_LOG_H
#define RS_LOG_H

enum log_level { RS_LOG_ERROR = 0, RS_LOG_WARN, RS_LOG_INFO, RS_LOG_DEBUG };

/* Messages above 'level' are dropped. Default: RS_LOG_INFO. */
void log_set_level(enum log_level level);
/* Parse "error", "warning", "info", "debug"; -1 if unknown. */
int log_level_parse(const char *name);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
