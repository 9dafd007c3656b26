/*
 * link_state.c - the link state's names and its publisher (see
 * link_state.h).
 */
#include "daemon.h"
#include "link_state.h"
#include "sink.h"
#include "status.h"

const char *link_state_name(enum link_state state)
{
    static const char *const names[LINK_N_STATES] = {
        [LINK_NEW] = "new", [LINK_CONNECTING] = "connecting", [LINK_SYNCING] = "syncing",
        [LINK_STREAMING] = "streaming", [LINK_ERROR] = "error",
    };

    return (unsigned)state < LINK_N_STATES ? names[state] : "?";
}

const char *link_up_name(enum link_up how)
{
    static const char *const names[] = {
        [LINK_UP_FULL] = "full", [LINK_UP_CONTINUE] = "continue", [LINK_UP_SYNC] = "sync",
        [LINK_UP_PROGRESS] = "progress",
    };

    return (unsigned)how <= LINK_UP_PROGRESS ? names[how] : "?";
}

int link_state_publish(struct sink *sink, struct status *status, enum link_state state,
                       const char *detail)
{
    const char *name = link_state_name(state);
    int rc;

    /* systemd: READY=1 once the first sync started */
    if (state == LINK_SYNCING || state == LINK_STREAMING)
        notify_ready();
    notify_status("%s%s%s", name, detail ? ": " : "", detail ? detail : "");
    rc = sink->ops->set_state(sink, name, detail);
    status_set_state(status, state);
    return rc;
}
