/*
 * sink_backend.h - what a storage backend gives sink.c: its name and its
 * entry points. Only the files of sinks/ include this; the daemon reaches
 * a backend through sink.h, by name.
 */
#ifndef RS_SINK_BACKEND_H
#define RS_SINK_BACKEND_H

#include "sink.h"

struct sink_backend {
    const char *name;    /* what sink_open takes; its metrics are redsink_<name>_* */
    /* sink_open_events, sink_read_status and sink_gauges for this backend */
    struct sink *(*open)(const char *target,
                         void (*on_event)(void *ud, const struct sink_event *ev), void *ud,
                         struct rs_error *err);
    int (*read_status)(const char *target, struct sink_status *st,
                       void (*unknown)(void *ud, const char *cmd, int64_t count), void *ud,
                       struct rs_error *err);
    int (*gauges)(const char *target, struct sink_gauge *g, int max);
};

/* The built-in backends (sink.c lists them, the default first). */
extern const struct sink_backend sink_sqlite_backend;   /* sinks/sqlite/ */

#endif
