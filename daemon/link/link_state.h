/*
 * link_state.h - the link's state, named, and the one place that
 * publishes a change of it.
 *
 * link_state_publish() tells everyone who shows the state: the status row
 * in the mirror (sink_ops.set_state), the status record behind the INFO
 * endpoint and the metrics (status_set_state), and systemd (STATUS=, and
 * READY=1 once the first sync started). Users see the names
 * link_state_name() gives ("connecting", "syncing", ...).
 */
#ifndef RS_LINK_STATE_H
#define RS_LINK_STATE_H

struct sink;
struct status;

enum link_state {
    LINK_NEW,                  /* no session yet */
    LINK_CONNECTING,           /* connecting, handshake */
    LINK_SYNCING,              /* receiving and loading the snapshot */
    LINK_STREAMING,            /* applying the command stream: the link is up */
    LINK_ERROR,                /* the session ended with an error */
    LINK_N_STATES
};

/* What link_opts.on_up reports to main.c: the master accepted PSYNC with
 * a full resync, a partial one (continue), or accepted an old master's
 * SYNC; then, once per session, the first commit of stream data. */
enum link_up { LINK_UP_FULL, LINK_UP_CONTINUE, LINK_UP_SYNC, LINK_UP_PROGRESS };

/* "new", "connecting", "syncing", "streaming", "error". */
const char *link_state_name(enum link_state state);
/* "full", "continue", "sync", "progress". */
const char *link_up_name(enum link_up how);

/* The state is now 'state', with an optional 'detail' for humans (the
 * status row and systemd show it after the name). 'status' may be NULL.
 * Returns what sink_ops.set_state returned. */
int link_state_publish(struct sink *sink, struct status *status, enum link_state state,
                       const char *detail);

#endif
