/*
 * handshake.h - the replica's side of the handshake with the master:
 * PING, AUTH, INFO server (the master's version), REPLCONF
 * listening-port/capa/version, then PSYNC (or SYNC for a master older
 * than 2.8). See doc/handshake.md for what each step is for.
 *
 * It runs over an abstract byte transport (struct handshake_io): link.c
 * gives it the connection to the master (conn.h), a unit test a scripted
 * master (tests/unit/test_handshake.c). It does not touch a socket.
 */
#ifndef RS_HANDSHAKE_H
#define RS_HANDSHAKE_H

#include <stdint.h>
#include <sys/types.h>
#include "common.h"

#define HANDSHAKE_REST (64 * 1024)   /* room for the bytes read past a reply */

/* How the master answered PSYNC. OLD: it does not know PSYNC and got
 * SYNC: a full sync without replication id nor offsets. */
enum sync_kind { SYNC_FULL, SYNC_CONTINUE, SYNC_OLD };

/* The bytes to and from the master. */
struct handshake_io {
    /* Read what is there into buf, waiting at most timeout_ms for
     * something to come: >0 bytes read; 0 the master closed; -1 with
     * errno ETIMEDOUT (nothing came in time), EAGAIN or EINTR (nothing
     * yet: call again), or another one ('err' says why). */
    ssize_t (*read)(void *ud, char *buf, size_t len, int timeout_ms);
    /* Write all of buf, waiting at most timeout_ms at each stall. 0, or
     * -1 ('err' says why). */
    int (*write)(void *ud, const char *buf, size_t len, int timeout_ms);
    void *ud;
    const char *err;           /* the reason of the last failed read or write */
};

struct handshake_opts {
    const char *user;          /* ACL user, NULL for none */
    const char *password;      /* NULL: no AUTH */
    int listening_port;        /* announced with REPLCONF listening-port */
    int reply_timeout_ms;      /* each reply before PSYNC's */
    int psync_timeout_ms;      /* PSYNC's reply (the master may fork first) */
};

/* What the handshake learned. */
struct handshake_result {
    enum sync_kind kind;
    char replid[41];
    int64_t offset;            /* FULLRESYNC offset */
    char rest[HANDSHAKE_REST]; /* bytes read after the reply line: the payload's start */
    size_t rest_len;
    int master_version;        /* from INFO server (rs_parse_version), 0: unknown */
};

/*
 * Run the handshake, asking to continue after 'offset' of 'replid' (the
 * mirror's checkpoint) when replid is not "" and offset >= 0, else for a
 * full sync (PSYNC ? -1). Returns 0 with
 * 'hs' filled, or -1 with err set: RS_E_AUTH when the master refused the
 * credentials (retrying soon will not help), RS_E_PROTO for a master not
 * ready or an unexpected reply, RS_E_IO for the transport.
 */
int handshake_run(const struct handshake_io *io, const struct handshake_opts *o,
                  const char *replid, int64_t offset, struct handshake_result *hs,
                  struct rs_error *err);

#endif
