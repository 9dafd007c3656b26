/*
 * link.h - the replication link to the master: handshake, PSYNC/SYNC,
 * payload framing, the network thread, ACKs, and the loop that loads the
 * snapshot and applies the stream through the sink.
 *
 * One call of link_run() is one connection: it returns when the link
 * breaks, something fails, or *stop becomes true. main.c decides whether
 * and when to reconnect.
 */
#ifndef RS_LINK_H
#define RS_LINK_H

#include <signal.h>
#include "apply.h"
#include "common.h"
#include "link_state.h"
#include "sink.h"
#include "conn.h"

struct status;

struct link_opts {
    const char *host;
    int port;
    const char *user;          /* ACL user, NULL for none */
    const char *password;      /* NULL: no AUTH */
    int listening_port;        /* announced with REPLCONF listening-port */
    int timeout_ms;            /* master silent this long: drop the link (60000) */
    int connect_timeout_ms;    /* TCP connect and each handshake reply (5000) */
    const char *spool_dir;     /* where the spool's unlinked file lives */
    struct apply_opts apply;
    /* Called once per session when the master accepted PSYNC/SYNC, with
     * LINK_UP_FULL, _CONTINUE or _SYNC, and once more with
     * LINK_UP_PROGRESS at the session's first commit of stream data; may
     * be NULL. main.c logs that the link is back, and ends its streak of
     * failures on progress. (The state itself goes out through
     * link_state_publish(), link_state.h.) */
    void (*on_up)(void *ud, enum link_up how);
    void *ud;
    /* TLS to the master (conn.h); tls.enabled 0: plain TCP. */
    struct tls_opts tls;
    /* Where the link reports its state, offsets and I/O for the status
     * endpoint and the status row (status.h); may be NULL. */
    struct status *status;
    /* Milliseconds between REPLCONF ACKs (and keep-alives); 0: 1000. */
    int ack_interval_ms;
    /* NULL, or what of the committed offset 'off' may be acknowledged
     * (postgres.ack: what PostgreSQL holds too); called on the network
     * thread before each REPLCONF ACK. */
    int64_t (*ack_limit)(void *ud, int64_t off);
    void *ack_ud;
    /* With ack_limit: a descriptor that becomes readable when the limit
     * may have risen (a byte per PostgreSQL commit, main.c); the network
     * thread drains it and ACKs at once what the limit now allows, so that
     * WAIT returns when PostgreSQL commits. */
    int ack_wake_fd;
};

/*
 * Run one session. Returns 0 when *stop was set (everything applied is
 * committed), -1 when the session ended otherwise, with 'err' set. An
 * err->code of RS_E_AUTH or RS_E_CONFIG means retrying soon will not help.
 */
int link_run(const struct link_opts *o, struct sink *sink,
             volatile sig_atomic_t *stop, struct rs_error *err);

#endif
