/*
 * sink.c - opening a sink by name. Each backend lives in its own folder
 * (sinks/sqlite/) and exports one struct sink_backend (sink_backend.h);
 * this file only maps the name a user configures to that backend.
 */
#include <stdio.h>
#include <string.h>

#include "sink.h"
#include "sink_backend.h"

static const struct sink_backend *const backends[] = { &sink_sqlite_backend };
#define N_BACKENDS (sizeof(backends) / sizeof(backends[0]))

/* The backend called 'name' (NULL: the default one), or NULL with err set. */
static const struct sink_backend *backend(const char *name, struct rs_error *err)
{
    char names[256] = "";
    size_t n = 0;

    if (name == NULL)
        return backends[0];
    for (size_t i = 0; i < N_BACKENDS; i++) {
        if (strcmp(name, backends[i]->name) == 0)
            return backends[i];
        if (n < sizeof(names))
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s'%s'", i ? ", " : "",
                                  backends[i]->name);
    }
    rs_fail(err, RS_E_CONFIG, "unknown sink '%s' (only %s %s built in)", name, names,
            N_BACKENDS == 1 ? "is" : "are");
    return NULL;
}

struct sink *sink_open_events(const char *name, const char *target,
                              void (*on_event)(void *ud, const struct sink_event *ev), void *ud,
                              struct rs_error *err)
{
    const struct sink_backend *b = backend(name, err);

    return b ? b->open(target, on_event, ud, err) : NULL;
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

int sink_read_status(const char *name, const char *target, struct sink_status *st,
                     void (*unknown)(void *ud, const char *cmd, int64_t count), void *ud,
                     struct rs_error *err)
{
    const struct sink_backend *b = backend(name, err);

    return b ? b->read_status(target, st, unknown, ud, err) : -1;
}

int sink_gauges(const char *name, const char *target, struct sink_gauge *g, int max)
{
    struct rs_error err = { 0 };
    const struct sink_backend *b = backend(name, &err);

    return b ? b->gauges(target, g, max) : 0;
}
