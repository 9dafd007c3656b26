/*
 * test_handshake.c - the handshake (daemon/link/handshake.c) against
 * scripted masters: each script gives the master's reply to each command
 * redsink sends, and the test checks the bytes redsink sent and what it
 * decided (full sync, continue, SYNC, or which error).
 *
 * The scripted master only answers a command once redsink has sent it,
 * and hands its bytes out in pieces of 1, 7 and 64k bytes, so replies
 * split anywhere (inside a line, inside INFO's bulk string) are covered.
 * When the script has nothing more to say, a read times out (or, with
 * 'closes', the master closes the connection).
 *
 * Exit 0 (all passed) or 99 (a check failed): harness.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "harness.h"
#include "log.h"


/* ------------------------------------------------------------------ */
/* The scripted master                                                 */
/* ------------------------------------------------------------------ */

#define MAX_REPLIES 8

struct script {
    const char *name;
    const char *replid;              /* the mirror's checkpoint: "" for none */
    long long offset;
    const char *user, *password;
    const char *replies[MAX_REPLIES]; /* the master's answer to each write, NULL: none */
    int closes;                      /* out of replies: closed, not silent */
};

struct master {
    const struct script *sc;
    size_t step;                     /* bytes per read at most */
    int writes;
    char out[4096];                  /* the master's bytes not read yet */
    size_t out_len, out_pos;
    char sent[4096];                 /* what redsink sent */
    size_t sent_len;
    char err[64];
};

static ssize_t m_read(void *ud, char *buf, size_t len, int timeout_ms)
{
    struct master *m = ud;
    size_t n = m->out_len - m->out_pos;

    (void)timeout_ms;
    if (n == 0 && m->sc->closes)
        return 0;
    if (n == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    if (n > m->step)
        n = m->step;
    if (n > len)
        n = len;
    memcpy(buf, m->out + m->out_pos, n);
    m->out_pos += n;
    return (ssize_t)n;
}

/* Take a command; its scripted reply becomes readable. */
static int m_write(void *ud, const char *buf, size_t len, int timeout_ms)
{
    struct master *m = ud;
    const char *reply = m->writes < MAX_REPLIES ? m->sc->replies[m->writes] : NULL;

    (void)timeout_ms;
    m->writes++;
    if (m->sent_len + len >= sizeof(m->sent)) {
        snprintf(m->err, sizeof(m->err), "test: too much sent");
        return -1;
    }
    memcpy(m->sent + m->sent_len, buf, len);
    m->sent_len += len;
    m->sent[m->sent_len] = '\0';
    if (reply != NULL && m->out_len + strlen(reply) < sizeof(m->out)) {
        memcpy(m->out + m->out_len, reply, strlen(reply));
        m->out_len += strlen(reply);
    }
    return 0;
}

/* One play of a script and what came of it. */
struct run {
    struct master m;
    struct handshake_result hs;
    struct rs_error err;
    int rc;                          /* handshake_run's */
};

/* Play 'sc' with reads of 'step' bytes at most. */
static void play(const struct script *sc, size_t step, struct run *r)
{
    struct handshake_io io = { m_read, m_write, &r->m, r->m.err };
    struct handshake_opts o = { sc->user, sc->password, 6380, 5000, 60000 };

    memset(r, 0, sizeof(*r));
    r->m.sc = sc;
    r->m.step = step;
    r->rc = handshake_run(&io, &o, sc->replid, sc->offset, &r->hs, &r->err);
}

/* Play 'sc', which the handshake accepts. 1 when it did. */
static int accepted(const struct script *sc, size_t step, struct run *r)
{
    play(sc, step, r);
    CHECK(r->rc == 0, "%s (reads of %zu): accepted (%s)", sc->name, step, r->err.msg);
    return r->rc == 0;
}

/* ------------------------------------------------------------------ */
/* Scripts                                                             */
/* ------------------------------------------------------------------ */

#define PING "*1\r\n$4\r\nPING\r\n"
#define INFO "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"
#define REPLCONF "*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n6380\r\n" \
    "*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n" \
    "*3\r\n$8\r\nREPLCONF\r\n$7\r\nversion\r\n$5\r\n9.2.0\r\n"
#define PSYNC_FULL "*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n"

#define ID1 "0123456789abcdef0123456789abcdef01234567"
#define ID2 "fedcba9876543210fedcba9876543210fedcba98"
#define INFO_72 "$41\r\n# Server\r\nredis_version:7.2.4\r\nrun_id:x\r\n\r\n"
#define INFO_26 "$32\r\n# Server\r\nredis_version:2.6.17\r\n\r\n"

/* A current master, no password: PSYNC ? -1, +FULLRESYNC after two
 * keep-alive newlines, and the payload's first bytes in the same read. */
static void test_full(size_t step)
{
    static const struct script sc = {
        "full sync", "", -1, NULL, NULL,
        { "+PONG\r\n", INFO_72, "+OK\r\n", "+OK\r\n",
          "-ERR Unrecognized REPLCONF option: version\r\n",
          "\n\n+FULLRESYNC " ID1 " 1234\r\n\n$5\r\nREDIS" }, 0 };
    struct run r;

    if (!accepted(&sc, step, &r))
        return;
    CHECK(strcmp(r.m.sent, PING INFO REPLCONF PSYNC_FULL) == 0, "%s: sent PING, INFO, "
          "REPLCONF x3, PSYNC ? -1", sc.name);
    CHECK(r.hs.kind == SYNC_FULL && strcmp(r.hs.replid, ID1) == 0 && r.hs.offset == 1234,
          "%s: FULLRESYNC %s %lld", sc.name, r.hs.replid, (long long)r.hs.offset);
    CHECK(r.hs.master_version == 70204, "%s: master version %d", sc.name, r.hs.master_version);
    /* what came with the reply and was read stays: all of it in one read */
    CHECK(r.hs.rest_len <= 10 && memcmp(r.hs.rest, "\n$5\r\nREDIS", r.hs.rest_len) == 0 &&
          (step < 100 || r.hs.rest_len == 10),
          "%s: the bytes read after the reply are kept (%zu)", sc.name, r.hs.rest_len);
}

/* AUTH with an ACL user, PSYNC from the checkpoint, +CONTINUE with a new
 * id; then AUTH with a password only, INFO refused, +CONTINUE alone. */
static void test_continue(size_t step)
{
    static const struct script with_id = {
        "continue", ID1, 99, "repl", "secret",
        { "-NOAUTH Authentication required.\r\n", "+OK\r\n", INFO_72, "+OK\r\n", "+OK\r\n",
          "+OK\r\n", "+CONTINUE " ID2 "\r\n" }, 0 };
    static const struct script without_id = {
        "continue (old form)", ID1, 99, NULL, "secret",
        { "+PONG\r\n", "+OK\r\n", "-NOPERM this user has no permissions to run the 'info' "
          "command\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", "+CONTINUE\r\n" }, 0 };
    struct run r;

    if (accepted(&with_id, step, &r)) {
        CHECK(strcmp(r.m.sent, PING "*3\r\n$4\r\nAUTH\r\n$4\r\nrepl\r\n$6\r\nsecret\r\n" INFO
                     REPLCONF "*3\r\n$5\r\nPSYNC\r\n$40\r\n" ID1 "\r\n$3\r\n100\r\n") == 0,
              "%s: sent AUTH user password, PSYNC <replid> <offset + 1>", with_id.name);
        CHECK(r.hs.kind == SYNC_CONTINUE && strcmp(r.hs.replid, ID2) == 0 && r.hs.rest_len == 0,
              "%s: CONTINUE with the new id %s", with_id.name, r.hs.replid);
    }
    if (accepted(&without_id, step, &r)) {
        CHECK(strstr(r.m.sent, "*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n") != NULL,
              "%s: sent AUTH password", without_id.name);
        CHECK(r.hs.kind == SYNC_CONTINUE && r.hs.replid[0] == '\0' && r.hs.master_version == 0,
              "%s: CONTINUE without an id; INFO refused, version unknown", without_id.name);
    }
}

/* Redis 2.6: REPLCONF and PSYNC unknown, so SYNC, with no reply line. */
static void test_old_master(size_t step)
{
    static const struct script sc = {
        "old master", ID1, 500, NULL, NULL,
        { "+PONG\r\n", INFO_26, "-ERR unknown command 'REPLCONF'\r\n",
          "-ERR unknown command 'REPLCONF'\r\n", "-ERR unknown command 'REPLCONF'\r\n",
          "-ERR unknown command 'PSYNC'\r\n", "$3\r\nabc" }, 0 };
    struct run r;

    if (!accepted(&sc, step, &r))
        return;
    CHECK(r.m.sent_len > 6 && strcmp(r.m.sent + r.m.sent_len - 6, "SYNC\r\n") == 0 &&
          r.m.writes == 7, "%s: SYNC after the refused PSYNC", sc.name);
    CHECK(r.hs.kind == SYNC_OLD && r.hs.replid[0] == '\0' && r.hs.offset == 0 &&
          r.hs.rest_len == 0, "%s: an old sync, no id, no offset, the payload not read yet",
          sc.name);
    CHECK(r.hs.master_version == 20617, "%s: master version %d", sc.name, r.hs.master_version);
}

/* One failing script: handshake_run fails with 'code' and a message
 * starting with 'msg', after 'writes' commands. */
static void expect_fail(const struct script *sc, size_t step, int writes, int code,
                        const char *msg)
{
    struct run r;

    play(sc, step, &r);
    CHECK(r.rc == -1 && r.err.code == code && strncmp(r.err.msg, msg, strlen(msg)) == 0,
          "%s (reads of %zu): '%s'", sc->name, step, r.err.msg);
    CHECK(r.m.writes == writes, "%s: %d commands sent (%d)", sc->name, writes, r.m.writes);
}

static void test_failures(size_t step)
{
    static const struct script wrongpass = {
        "AUTH refused", "", -1, NULL, "bad",
        { "-NOAUTH Authentication required.\r\n",
          "-WRONGPASS invalid username-password pair or user is disabled.\r\n" }, 0 };
    static const struct script noauth = {
        "no password given", "", -1, NULL, NULL,
        { "-NOAUTH Authentication required.\r\n", "-NOAUTH Authentication required.\r\n",
          "-NOAUTH Authentication required.\r\n", "-NOAUTH Authentication required.\r\n",
          "-NOAUTH Authentication required.\r\n", "-NOAUTH Authentication required.\r\n" }, 0 };
    static const struct script loading = {
        "master loading", "", -1, NULL, NULL,
        { "+PONG\r\n", INFO_72, "+OK\r\n", "+OK\r\n", "+OK\r\n",
          "-LOADING Redis is loading the dataset in memory\r\n" }, 0 };
    static const struct script replconf_loading = {
        "REPLCONF while loading", "", -1, NULL, NULL,
        { "+PONG\r\n", INFO_72, "-LOADING Redis is loading the dataset in memory\r\n" }, 0 };
    static const struct script malformed = {
        "malformed FULLRESYNC", "", -1, NULL, NULL,
        { "+PONG\r\n", INFO_72, "+OK\r\n", "+OK\r\n", "+OK\r\n", "+FULLRESYNC abc 5\r\n" }, 0 };
    static const struct script ping_err = {
        "PING refused", "", -1, NULL, NULL, { "-ERR something else\r\n" }, 0 };
    static const struct script silent = {
        "silent master", "", -1, NULL, NULL, { "+PONG\r\n" }, 0 };
    static const struct script closed = {
        "master closes", "", -1, NULL, NULL, { "+PONG\r\n", "$44\r\n# Server\r\n" }, 1 };

    expect_fail(&wrongpass, step, 2, RS_E_AUTH, "AUTH refused: WRONGPASS invalid");
    expect_fail(&noauth, step, 6, RS_E_AUTH,
                "master refused PSYNC: NOAUTH Authentication required.");
    expect_fail(&loading, step, 6, RS_E_PROTO, "master not ready for PSYNC: -LOADING");
    expect_fail(&replconf_loading, step, 3, RS_E_PROTO,
                "REPLCONF listening-port: master not ready: LOADING");
    expect_fail(&malformed, step, 6, RS_E_PROTO,
                "malformed reply to PSYNC: '+FULLRESYNC abc 5'");
    expect_fail(&ping_err, step, 1, RS_E_PROTO, "PING: master answered ERR something else");
    expect_fail(&silent, step, 2, RS_E_IO, "timeout waiting for the master's reply to INFO");
    expect_fail(&closed, step, 2, RS_E_IO,
                "connection closed by the master during the handshake");
}

int main(void)
{
    static const size_t steps[] = { 1, 7, 65536 };

    log_set_level(getenv("TEST_VERBOSE") ? RS_LOG_DEBUG : RS_LOG_ERROR);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        test_full(steps[i]);
        test_continue(steps[i]);
        test_old_master(steps[i]);
        test_failures(steps[i]);
    }
    return check_summary();
}
