/*
 * sink.c - opening a sink by name. Each backend lives in its own file
 * (sinks/sqlite/sqlite.c) and exports one constructor; this file only maps the
 * name a user configures to that constructor.
 */
#include <string.h>

#include "sink.h"

struct sink *sink_open_events(const char *name, const char *target,
                              void (*on_event)(void *ud, const struct sink_event *ev), void *ud,
                              struct rs_error *err)
{
    if (name == NULL || strcmp(name, "sqlite") == 0)
        return sink_sqlite_open(target, on_event, ud, err);
    rs_fail(err, RS_E_CONFIG, "unknown sink '%s' (only 'sqlite' is built in)", name);
    return NULL;
}

struct sink *sink_open(const char *name, const char *target, struct rs_error *err)
{
    return sink_open_events(name, target, NULL, NULL, err);
}

void sink_close(struct sink *s)
{
    if (s != NULL)
        s->ops->close(s);
}
