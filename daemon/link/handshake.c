/*
 * handshake.c - the handshake with the master (see handshake.h).
 *
 * Every reply before PSYNC's is one line (+OK, +PONG, -ERR ...) but
 * INFO's bulk string; they are read here, the same way whatever the
 * transport. What follows PSYNC's reply is not RESP (keep-alive newlines,
 * the raw payload): the bytes read with the reply are left in hs->rest.
 *
 * Reading order: handshake_run(), hs_psync_reply(), then the helpers
 * above them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "handshake.h"
#include "log.h"

/* REPLCONF version: a Valkey master picks the snapshot's RDB version from
 * it (src/replication.c replicaRdbVersion, RDB_VERSION_MAP in rdb.h: 7.2
 * -> 11, 9.0 -> 80, 9.2 -> 81); without it the snapshot is RDB 11, which
 * cannot hold hash field TTLs. 9.2.0 asks for RDB 81, the newest Valkey
 * RDB this parser reads (PATH_HASH included; opcode 0xf2, which only a
 * forkless save writes, is refused with its offset). A 9.0/9.1 master
 * maps it to RDB 80. Redis
 * answers -ERR (unknown option), which is ignored like a real replica
 * does. */
#define REPLICA_VERSION "9.2.0"


/* Read what the master sent into hs->rest (which must have room). Each
 * keep-alive newline restarts the clock, as in Redis. */
static int hs_fill(const struct handshake_io *io, struct handshake_result *hs, int timeout_ms,
                   const char *what, struct rs_error *err)
{
    ssize_t n = io->read(io->ud, hs->rest + hs->rest_len, sizeof(hs->rest) - hs->rest_len,
                         timeout_ms);

    if (n < 0 && errno == ETIMEDOUT)
        return rs_fail(err, RS_E_IO, "timeout waiting for the master's reply to %s", what);
    if (n == 0)
        return rs_fail(err, RS_E_IO, "connection closed by the master during the handshake");
    if (n < 0 && errno != EINTR && errno != EAGAIN)
        return rs_fail(err, RS_E_IO, "cannot read from the master: %s", io->err);
    if (n > 0)
        hs->rest_len += (size_t)n;
    return 0;
}

/* Read one line ending in "\n" from the master, skipping empty
 * keep-alive lines, waiting at most timeout_ms for each read. Bytes after
 * it stay in hs->rest. 'what' names the command in a timeout message. */
static int hs_read_line(const struct handshake_io *io, struct handshake_result *hs, char *line,
                        size_t cap, int timeout_ms, const char *what, struct rs_error *err)
{
    for (;;) {
        char *nl = memchr(hs->rest, '\n', hs->rest_len);

        if (nl != NULL) {
            size_t len = (size_t)(nl - hs->rest);
            size_t used = len + 1;

            if (len > 0 && hs->rest[len - 1] == '\r')
                len--;
            if (len >= cap)
                return rs_fail(err, RS_E_PROTO, "reply line from the master too long");
            memcpy(line, hs->rest, len);
            line[len] = '\0';
            memmove(hs->rest, hs->rest + used, hs->rest_len - used);
            hs->rest_len -= used;
            if (len == 0)
                continue;          /* keep-alive while the master prepares */
            return 0;
        }
        if (hs->rest_len >= sizeof(hs->rest))
            return rs_fail(err, RS_E_PROTO, "reply line from the master too long");
        if (hs_fill(io, hs, timeout_ms, what, err) != 0)
            return -1;
    }
}

/* Read the 'n' bytes of a bulk reply and its CRLF (the header line was
 * read) into 'out' (NUL-terminated, 'cap' > n), or skip them when they
 * do not fit. 1 stored, 0 skipped, -1 with err set. */
static int hs_read_bulk(const struct handshake_io *io, struct handshake_result *hs, size_t n,
                        char *out, size_t cap, int timeout_ms, const char *what,
                        struct rs_error *err)
{
    size_t left = n + 2, done = 0;

    while (left > 0) {
        size_t take = hs->rest_len < left ? hs->rest_len : left;

        if (done < n && cap > n)
            memcpy(out + done, hs->rest, take > n - done ? n - done : take);
        done += take;
        left -= take;
        memmove(hs->rest, hs->rest + take, hs->rest_len - take);
        hs->rest_len -= take;
        if (left > 0 && hs_fill(io, hs, timeout_ms, what, err) != 0)
            return -1;
    }
    if (cap <= n)
        return 0;
    out[n] = '\0';
    return 1;
}

/* Send one command as a RESP array. 0, or -1 with err set. */
static int hs_send(const struct handshake_io *io, int argc, const char **argv, int timeout_ms,
                   struct rs_error *err)
{
    char buf[1024];
    size_t len = (size_t)snprintf(buf, sizeof(buf), "*%d\r\n", argc);

    for (int i = 0; i < argc; i++) {
        size_t al = strlen(argv[i]);
        int n = snprintf(buf + len, sizeof(buf) - len, "$%zu\r\n", al);

        if (n < 0 || len + (size_t)n + al + 2 > sizeof(buf))
            return rs_fail(err, RS_E_CONFIG, "%s: arguments too long", argv[0]);
        len += (size_t)n;
        memcpy(buf + len, argv[i], al);
        memcpy(buf + len + al, "\r\n", 2);
        len += al + 2;
    }
    if (io->write(io->ud, buf, len, timeout_ms) != 0)
        return rs_fail(err, RS_E_IO, "%s: cannot write to the master: %s", argv[0], io->err);
    return 0;
}

/* Send one command and read its one-line reply into 'line'. */
static int hs_roundtrip(const struct handshake_io *io, struct handshake_result *hs, int argc,
                        const char **argv, const char *what, int timeout_ms, char *line, size_t cap,
                        struct rs_error *err)
{
    if (hs_send(io, argc, argv, timeout_ms, err) != 0)
        return -1;
    return hs_read_line(io, hs, line, cap, timeout_ms, what, err);
}

/* Send one command and check its reply. Returns 0, or -1 with err set. */
static int hs_command(const struct handshake_io *io, struct handshake_result *hs, int argc,
                      const char **argv, const char *what, int fatal_errors, int timeout_ms,
                      struct rs_error *err)
{
    char line[512];
    const char *msg = line + 1;

    if (hs_roundtrip(io, hs, argc, argv, what, timeout_ms, line, sizeof(line), err) != 0)
        return -1;
    if (line[0] != '-')
        return 0;
    if (strncmp(msg, "LOADING", 7) == 0 || strncmp(msg, "MASTERDOWN", 10) == 0)
        return rs_fail(err, RS_E_PROTO, "%s: master not ready: %s", what, msg);
    if (fatal_errors)
        return rs_fail(err, RS_E_AUTH, "%s refused: %s", what, msg);
    log_msg(RS_LOG_DEBUG, "%s: master answered %s (ignored)", what, msg);
    return 0;
}

/* Interpret the reply to PSYNC; fall back to SYNC on "unknown command". */
static int hs_psync_reply(const struct handshake_io *io, const char *line,
                          struct handshake_result *hs, int timeout_ms, struct rs_error *err)
{
    if (strncmp(line, "+FULLRESYNC ", 12) == 0) {
        long long off;
        const char *sp = strchr(line + 12, ' ');

        if (sp == NULL || sp - (line + 12) != 40 || sscanf(sp + 1, "%lld", &off) != 1)
            return rs_fail(err, RS_E_PROTO, "malformed reply to PSYNC: '%.80s'", line);
        hs->kind = SYNC_FULL;
        memcpy(hs->replid, line + 12, 40);
        hs->replid[40] = '\0';
        hs->offset = off;
        return 0;
    }
    if (strncmp(line, "+CONTINUE", 9) == 0) {
        hs->kind = SYNC_CONTINUE;
        hs->replid[0] = '\0';
        if (line[9] == ' ' && strlen(line + 10) == 40)
            memcpy(hs->replid, line + 10, 41);
        return 0;
    }
    if (strncasecmp(line, "-ERR unknown command", 20) == 0) {
        log_msg(RS_LOG_WARN, "master does not know PSYNC (Redis < 2.8): using SYNC, "
                "every reconnection will be a full sync");
        if (io->write(io->ud, "SYNC\r\n", 6, timeout_ms) != 0)
            return rs_fail(err, RS_E_IO, "cannot send SYNC: %s", io->err);
        hs->kind = SYNC_OLD;
        hs->replid[0] = '\0';
        hs->offset = 0;
        return 0;          /* no reply line: the payload header follows */
    }
    if (strncmp(line, "-NOMASTERLINK", 13) == 0 || strncmp(line, "-LOADING", 8) == 0 ||
        strncmp(line, "-MASTERDOWN", 11) == 0 || strstr(line, "while not connected with my master"))
        return rs_fail(err, RS_E_PROTO, "master not ready for PSYNC: %.200s", line);
    if (strncmp(line, "-NOPERM", 7) == 0 || strncmp(line, "-NOAUTH", 7) == 0 ||
        strncmp(line, "-WRONGPASS", 10) == 0)
        return rs_fail(err, RS_E_AUTH, "master refused PSYNC: %.200s", line + 1);
    return rs_fail(err, RS_E_PROTO, "unexpected reply to PSYNC: '%.200s'", line);
}

/* The master's version, for the commands whose semantics changed between
 * versions (apply_opts.master_version): "INFO server" answers
 * redis_version on every server since 2.6. A master that refuses INFO (an
 * ACL user with only the replication commands, a renamed command) leaves
 * it unknown (0): the current semantics apply, unless the snapshot's AUX
 * field redis-ver says more (link.c, session_run). */
static int hs_master_version(const struct handshake_io *io, struct handshake_result *hs, int tmo,
                             struct rs_error *err)
{
    const char *info[] = { "INFO", "server" };
    char line[512], body[16384], *v = NULL;
    long long n;

    hs->master_version = 0;
    if (hs_roundtrip(io, hs, 2, info, "INFO", tmo, line, sizeof(line), err) != 0)
        return -1;
    if (line[0] != '$' || rs_parse_ll(line + 1, strlen(line + 1), &n) != 0 || n < 0) {
        log_msg(RS_LOG_DEBUG, "INFO server: master answered '%.200s': its version is unknown",
                line);
        return 0;
    }
    if (hs_read_bulk(io, hs, (size_t)n, body, sizeof(body), tmo, "INFO", err) < 0)
        return -1;
    if (n < (long long)sizeof(body) && (v = strstr(body, "redis_version:")) != NULL)
        hs->master_version = rs_parse_version(v + 14, strcspn(v + 14, "\r\n"));
    if (hs->master_version)
        log_msg(RS_LOG_INFO, "master is Redis %.*s (INFO server)",
                (int)strcspn(v + 14, "\r\n"), v + 14);
    else
        log_msg(RS_LOG_DEBUG, "INFO server: no redis_version: the master's version is unknown");
    return 0;
}

int handshake_run(const struct handshake_io *io, const struct handshake_opts *o,
                  const char *replid, int64_t offset, struct handshake_result *hs,
                  struct rs_error *err)
{
    char port[16], psync_off[32], line[512];
    const char *ping[] = { "PING" };
    const char *lp[] = { "REPLCONF", "listening-port", port };
    const char *capa[] = { "REPLCONF", "capa", "eof", "capa", "psync2" };
    const char *version[] = { "REPLCONF", "version", REPLICA_VERSION };
    const char *psync[3] = { "PSYNC", "?", "-1" };
    int tmo = o->reply_timeout_ms;

    /* Every reply before PSYNC's is one line (+OK, +PONG, -ERR ...): read
     * them ourselves, the same way whatever the transport. */
    hs->rest_len = 0;
    if (hs_roundtrip(io, hs, 1, ping, "PING", tmo, line, sizeof(line), err) != 0)
        return -1;
    /* PING: NOAUTH/NOPERM mean "authenticate first" and are fine. */
    if (line[0] == '-' && strncmp(line + 1, "NOAUTH", 6) != 0 &&
        strncmp(line + 1, "NOPERM", 6) != 0 && strstr(line, "operation not permitted") == NULL)
        return rs_fail(err, RS_E_PROTO, "PING: master answered %s", line + 1);

    if (o->password) {
        const char *auth[] = { "AUTH", o->user ? o->user : o->password, o->password };

        if (hs_command(io, hs, o->user ? 3 : 2, auth, "AUTH", 1, tmo, err) != 0)
            return -1;
    }
    if (hs_master_version(io, hs, tmo, err) != 0)
        return -1;
    snprintf(port, sizeof(port), "%d", o->listening_port);
    if (hs_command(io, hs, 3, lp, "REPLCONF listening-port", 0, tmo, err) != 0 ||
        hs_command(io, hs, 5, capa, "REPLCONF capa", 0, tmo, err) != 0 ||
        hs_command(io, hs, 3, version, "REPLCONF version", 0, tmo, err) != 0)
        return -1;

    if (replid[0] && offset >= 0) {
        snprintf(psync_off, sizeof(psync_off), "%lld", (long long)offset + 1);
        psync[1] = replid;
        psync[2] = psync_off;
    }
    /* What follows PSYNC's reply is not RESP (keep-alive newlines, the
     * raw payload): the bytes read with the reply stay in hs->rest. */
    if (hs_send(io, 3, psync, tmo, err) != 0)
        return -1;
    log_msg(RS_LOG_INFO, "sent PSYNC %s %s", psync[1], psync[2]);
    if (hs_read_line(io, hs, line, sizeof(line), o->psync_timeout_ms, "PSYNC", err) != 0)
        return -1;
    return hs_psync_reply(io, line, hs, tmo, err);
}
