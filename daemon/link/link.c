/*
 * link.c - one replication session with the master (see link.h).
 *
 * Two threads per session:
 *  - the network thread owns the socket after the handshake. It reads at
 *    network speed, finds where the snapshot ends (it must know, to send
 *    the ACK a diskless master waits for), appends every byte to the
 *    spool, and sends newline keep-alives or REPLCONF ACK once a second
 *    and when asked;
 *  - the calling thread reads the spool: first the RDB payload into the
 *    RDB parser and the sink's load mode, then the command stream through
 *    the RESP reader into the applier. After each commit it publishes the
 *    committed offset, which is the only offset the network thread ever
 *    acknowledges.
 *
 * The handshake before them is handshake.c's, over the connection.
 *
 * Reading order: link_run(), net_main(), load_payload(), stream_loop().
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "conn.h"
#include "handshake.h"
#include "link.h"
#include "link_state.h"
#include "loader.h"
#include "log.h"
#include "rdb.h"
#include "resp.h"
#include "spool.h"
#include "status.h"

#define MARK_LEN 40          /* RDB_EOF_MARK_SIZE */
#define CHUNK (64 * 1024)

enum payload_kind { PAYLOAD_UNKNOWN, PAYLOAD_LEN, PAYLOAD_MARK, PAYLOAD_NONE };
/* What the network thread is receiving: the payload header line (after
 * keep-alive newlines), the payload, then the command stream. */
enum net_phase { PHASE_HEADER, PHASE_PAYLOAD, PHASE_STREAM };

/* State shared by the two threads of a session. */
struct session {
    struct conn *conn;               /* the master, plain or TLS */
    int wake[2];                     /* session -> network: "ACK now" / "stop" */
    struct spool *spool;
    int timeout_ms;
    int old_master;                  /* SYNC: no offsets, never ACK */
    atomic_int stop_net;
    atomic_int ack_now;
    _Atomic int64_t ack_offset;      /* committed offset we may acknowledge */
    int64_t ack_sent;                /* the last offset sent in an ACK (net thread) */

    /* framing, written by the network thread before the payload's first
     * byte reaches the spool, read by the session thread after it */
    pthread_mutex_t mu;
    enum payload_kind payload;
    uint64_t payload_len;
    char mark[MARK_LEN];
    struct rs_error net_err;         /* why the network thread stopped */

    /* network-thread private */
    enum net_phase phase;
    char line[512];
    size_t line_len;
    uint64_t payload_left;
    char tail[MARK_LEN];             /* last bytes of a diskless payload */
    uint64_t payload_seen;
    uint64_t stream_seen;            /* stream bytes received after the payload */

    /* session thread private */
    const struct link_opts *opts;
    int64_t start_offset;            /* committed offset when streaming began */
    int progress_told;               /* on_up(..., LINK_UP_PROGRESS) was called */
};

/* ------------------------------------------------------------------ */
/* Network thread                                                      */
/* ------------------------------------------------------------------ */

/* Said when the master drops a full sync without an error reply. */
#define SYNC_REFUSED_HINT "the master gave up the full sync: its log says why, e.g. " \
    "a failed fork or a key it cannot store in the RDB version chosen for this replica"

static int net_fail(struct session *s, int code, const char *msg)
{
    pthread_mutex_lock(&s->mu);
    rs_fail(&s->net_err, code, "%s", msg);
    pthread_mutex_unlock(&s->mu);
    return -1;
}

static int send_ack(struct session *s)
{
    char buf[128];
    char num[32];
    int64_t off = atomic_load(&s->ack_offset);
    int nl, n;

    if (s->opts->ack_limit)
        off = s->opts->ack_limit(s->opts->ack_ud, off);
    s->ack_sent = off;
    nl = snprintf(num, sizeof(num), "%lld", (long long)off);
    n = snprintf(buf, sizeof(buf), "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$%d\r\n%s\r\n", nl, num);

    status_acked(s->opts->status);
    return conn_write_all(s->conn, buf, (size_t)n, s->timeout_ms);
}

static int net_payload_end(struct session *s);

/* postgres.ack: PostgreSQL committed (ack_wake_fd became readable). True
 * when the limit now lets through more than the last ACK sent, so that a
 * WAIT waiting for PostgreSQL returns now rather than at the next tick. */
static int ack_raised(struct session *s)
{
    char drain[256];
    int64_t off = atomic_load(&s->ack_offset);

    while (read(s->opts->ack_wake_fd, drain, sizeof(drain)) == (ssize_t)sizeof(drain))
        ;
    return s->phase == PHASE_STREAM && !s->old_master && s->ack_sent < off &&
           s->opts->ack_limit(s->opts->ack_ud, off) > s->ack_sent;
}

/* Parse the payload header line ("$<len>" or "$EOF:<mark>"). */
static int net_header(struct session *s)
{
    char *l = s->line;
    char msg[600];

    if (s->line_len > 0 && l[s->line_len - 1] == '\r')
        l[--s->line_len] = '\0';
    if (l[0] == '-') {
        snprintf(msg, sizeof(msg), "master aborted the full sync: %s", l + 1);
        return net_fail(s, RS_E_PROTO, msg);
    }
    pthread_mutex_lock(&s->mu);
    if (strncmp(l, "$EOF:", 5) == 0 && s->line_len == 5 + MARK_LEN) {
        s->payload = PAYLOAD_MARK;
        memcpy(s->mark, l + 5, MARK_LEN);
    } else if (l[0] == '$' && s->line_len > 1 && strspn(l + 1, "0123456789") == s->line_len - 1 &&
               s->line_len < 21) {
        s->payload = PAYLOAD_LEN;
        s->payload_len = strtoull(l + 1, NULL, 10);
        s->payload_left = s->payload_len;
    }
    pthread_mutex_unlock(&s->mu);
    if (s->payload == PAYLOAD_UNKNOWN) {
        snprintf(msg, sizeof(msg), "bad payload header from the master: '%.80s'", l);
        return net_fail(s, RS_E_PROTO, msg);
    }
    if (s->payload == PAYLOAD_LEN && s->payload_len == 0) {
        s->phase = PHASE_PAYLOAD;
        return net_payload_end(s);   /* the loader reports the empty RDB */
    }
    log_msg(RS_LOG_INFO, "receiving the snapshot (%s)",
            s->payload == PAYLOAD_MARK ? "diskless" : l);
    s->phase = PHASE_PAYLOAD;
    return 0;
}

/* The payload ended: a diskless master waits for an ACK before it sends
 * the stream, so send one now (with the committed offset, possibly 0)
 * instead of at the next tick. */
static int net_payload_end(struct session *s)
{
    s->phase = PHASE_STREAM;
    log_msg(RS_LOG_INFO, "snapshot received (%llu bytes)", (unsigned long long)s->payload_seen);
    if (s->payload == PAYLOAD_MARK && !s->old_master && send_ack(s) != 0)
        return net_fail(s, RS_E_IO, "cannot send REPLCONF ACK to the master");
    return 0;
}

/* Track the payload in bytes [p, p+n) that are going to the spool. */
static int net_track_payload(struct session *s, const char *p, size_t n)
{
    if (s->payload == PAYLOAD_LEN) {
        size_t take = n < s->payload_left ? n : (size_t)s->payload_left;

        s->payload_left -= take;
        s->payload_seen += take;
        return s->payload_left == 0 ? net_payload_end(s) : 0;
    }
    /* Diskless: the payload ends with the 40-byte mark, and the master
     * sends nothing after it until we ACK, so the mark is the tail of the
     * bytes received so far whenever it is there. */
    s->payload_seen += n;
    if (n >= MARK_LEN) {
        memcpy(s->tail, p + n - MARK_LEN, MARK_LEN);
    } else {
        memmove(s->tail, s->tail + n, MARK_LEN - n);
        memcpy(s->tail + MARK_LEN - n, p, n);
    }
    if (s->payload_seen >= MARK_LEN && memcmp(s->tail, s->mark, MARK_LEN) == 0)
        return net_payload_end(s);
    return 0;
}

/* Frame one chunk from the socket and append it to the spool. */
static int net_consume(struct session *s, const char *p, size_t n)
{
    while (n > 0 && s->phase == PHASE_HEADER) {
        /* header phase: newline keep-alives, then "$...\r\n" */
        char c = *p++;

        n--;
        if (c == '\n') {
            if (s->line_len == 0)
                continue;
            s->line[s->line_len] = '\0';
            if (net_header(s) != 0)
                return -1;
            break;
        }
        if (s->line_len + 1 >= sizeof(s->line))
            return net_fail(s, RS_E_PROTO, "payload header from the master too long");
        s->line[s->line_len++] = c;
    }
    if (n == 0)
        return 0;
    if (spool_write(s->spool, p, n) != 0)
        return net_fail(s, RS_E_IO, spool_error(s->spool)->msg);
    if (s->phase == PHASE_PAYLOAD) {
        size_t pl = n;

        if (s->payload == PAYLOAD_LEN && n > s->payload_left)
            pl = (size_t)s->payload_left;
        if (net_track_payload(s, p, pl) != 0)
            return -1;
        n -= pl;
    }
    if (s->phase == PHASE_STREAM)
        s->stream_seen += n;
    return 0;
}

/* The master closed the connection: say where it was. A master that
 * cannot produce the snapshot (its fork or its RDB writer failed, e.g.
 * Valkey 9 holding data the RDB version chosen for this replica cannot
 * store) just closes the link: it says why in its own log only. */
static void net_closed(struct session *s)
{
    char msg[256];

    if (s->phase == PHASE_PAYLOAD && s->payload == PAYLOAD_LEN)
        snprintf(msg, sizeof(msg), "connection closed by the master during the "
                 "snapshot, at byte %llu of %llu (%s)", (unsigned long long)s->payload_seen,
                 (unsigned long long)s->payload_len, SYNC_REFUSED_HINT);
    else if (s->phase == PHASE_PAYLOAD)
        snprintf(msg, sizeof(msg), "connection closed by the master during the "
                 "snapshot, at byte %llu (%s)", (unsigned long long)s->payload_seen,
                 SYNC_REFUSED_HINT);
    else if (s->phase == PHASE_HEADER)
        snprintf(msg, sizeof(msg), "connection closed by the master after %s, before "
                 "the snapshot (%s)", s->old_master ? "SYNC" : "+FULLRESYNC",
                 SYNC_REFUSED_HINT);
    else
        snprintf(msg, sizeof(msg), "connection closed by the master");
    net_fail(s, RS_E_IO, msg);
}

static void *net_main(void *arg)
{
    struct session *s = arg;
    char *buf = malloc(CHUNK);
    int tick = s->opts && s->opts->ack_interval_ms > 0 ? s->opts->ack_interval_ms : 1000;
    int64_t last_rx = rs_mono_ms(), next_tick = last_rx + tick;
    char msg[256];

    if (buf == NULL) {
        net_fail(s, RS_E_NOMEM, "out of memory");
        goto out;
    }
    while (!atomic_load(&s->stop_net)) {
        /* the third: postgres.ack's wake-up, a byte per PostgreSQL commit */
        struct pollfd pfd[3] = { { .fd = s->conn->fd, .events = POLLIN },
                                 { .fd = s->wake[0], .events = POLLIN },
                                 { .fd = s->opts->ack_wake_fd, .events = POLLIN } };
        int64_t now = rs_mono_ms();
        int wait = next_tick > now ? (int)(next_tick - now) : 0;
        /* TLS: bytes already decrypted inside SSL do not make the socket
         * readable, so do not wait for it then. */
        int pending = conn_pending(s->conn);

        if (s->conn->want_write)
            pfd[0].events = POLLOUT;
        if (poll(pfd, s->opts->ack_limit ? 3 : 2, pending ? 0 : wait) < 0 && errno != EINTR) {
            net_fail(s, RS_E_IO, "poll failed");
            break;
        }
        if (pfd[1].revents & POLLIN) {
            char drain[64];

            (void)!read(s->wake[0], drain, sizeof(drain));
            if (atomic_exchange(&s->ack_now, 0) && s->phase == PHASE_STREAM && !s->old_master &&
                send_ack(s) != 0) {
                net_fail(s, RS_E_IO, "cannot send REPLCONF ACK to the master");
                break;
            }
        }
        if (pending || (pfd[0].revents & (POLLIN | POLLOUT | POLLHUP | POLLERR))) {
            ssize_t n = conn_read(s->conn, buf, CHUNK);

            if (n == 0) {
                net_closed(s);
                break;
            }
            if (n < 0 && errno != EINTR && errno != EAGAIN) {
                snprintf(msg, sizeof(msg), "cannot read from the master: %s", s->conn->err);
                net_fail(s, RS_E_IO, msg);
                break;
            }
            if (n > 0) {
                last_rx = rs_mono_ms();
                if (net_consume(s, buf, (size_t)n) != 0)
                    break;
                status_received(s->opts->status, s->payload_seen,
                                s->payload == PAYLOAD_LEN ? s->payload_len : 0, s->stream_seen);
            }
        }
        if ((pfd[2].revents & POLLIN) && ack_raised(s) && send_ack(s) != 0) {
            net_fail(s, RS_E_IO, "cannot send REPLCONF ACK to the master");
            break;
        }
        now = rs_mono_ms();
        if (now >= next_tick) {
            /* Before the snapshot has arrived, and with SYNC masters, a bare
             * newline keeps the master's timeout for us fresh; after it, the
             * committed offset. */
            int rc = (s->phase == PHASE_STREAM && !s->old_master) ? send_ack(s)
                     : conn_write_all(s->conn, "\n", 1, s->timeout_ms);

            if (rc != 0) {
                net_fail(s, RS_E_IO, "cannot write to the master");
                break;
            }
            /* A diskless master ignores an ACK that arrives before it has
             * reaped its fork child, and only starts the stream on a later
             * one: until the first stream byte, ACK every 100 ms so the
             * stream flows into the spool while the snapshot loads. */
            next_tick = now + (s->phase == PHASE_STREAM && s->payload == PAYLOAD_MARK &&
                               s->stream_seen == 0 && tick > 100 ? 100 : tick);
        }
        if (now - last_rx > s->timeout_ms) {
            snprintf(msg, sizeof(msg), "master timeout: no data nor PING for %d s",
                     s->timeout_ms / 1000);
            net_fail(s, RS_E_IO, msg);
            break;
        }
    }
out:
    free(buf);
    spool_close_writer(s->spool);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Session side: load the payload, then apply the stream               */
/* ------------------------------------------------------------------ */

static void publish_ack(struct session *s, const struct repl_pos *committed, int now)
{
    atomic_store(&s->ack_offset, committed->offset < 0 ? 0 : committed->offset);
    status_committed(s->opts->status, committed);
    if (now) {
        atomic_store(&s->ack_now, 1);
        (void)!write(s->wake[1], "a", 1);
    }
}

/* After a commit. Far behind the master, with batches of up to 500,000
 * commands, a commit's ACK goes at once rather than at the next tick, so
 * the master sees the mirror's progress a commit at a time (bench/suite.py
 * incr: the offset it had for redsink lagged up to two ticks behind the
 * commits). Keeping up, commits are too many for an ACK each: the tick
 * sends the last. */
static void publish_commit(struct session *s, const struct applier *a)
{
    const struct repl_pos *c = apply_committed(a);

    publish_ack(s, c, apply_behind(a) && c->offset > atomic_load(&s->ack_offset));
}

static void nap_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* The network thread's reason, or a generic one. */
static int session_fail_net(struct session *s, struct rs_error *err)
{
    pthread_mutex_lock(&s->mu);
    if (s->net_err.code)
        rs_fail(err, s->net_err.code, "%s", s->net_err.msg);
    pthread_mutex_unlock(&s->mu);
    if (spool_error(s->spool)->code)
        rs_fail(err, RS_E_IO, "%s", spool_error(s->spool)->msg);
    return rs_fail(err, RS_E_IO, "link to the master lost");
}

/* State of reading the payload out of the spool. */
struct payload_reader {
    struct loader ld;         /* the RDB into the sink's load mode */
    enum payload_kind kind;
    uint64_t left;            /* PAYLOAD_LEN: bytes still to feed */
    int parsed;               /* parser reached DONE */
    char mark[MARK_LEN];
    size_t mark_have;
    int done;                 /* payload and its mark fully consumed */
};

/* Feed one spool chunk to the payload reader. Returns the number of bytes
 * that belong to the payload (the rest starts the stream) or -1. */
static ssize_t payload_feed(struct session *s, struct payload_reader *pr, const char *p,
                            size_t n, struct rs_error *err)
{
    size_t used = 0;

    if (pr->kind == PAYLOAD_UNKNOWN) {
        pthread_mutex_lock(&s->mu);
        pr->kind = s->payload;
        pr->left = s->payload_len;
        pthread_mutex_unlock(&s->mu);
    }
    if (!pr->parsed) {
        size_t give = n, took = 0;
        enum rs_status st;

        if (pr->kind == PAYLOAD_LEN && give > pr->left)
            give = (size_t)pr->left;
        st = loader_feed(&pr->ld, p, give, &took, err);
        if (st == RS_ERROR)
            return -1;
        used = took;
        if (pr->kind == PAYLOAD_LEN)
            pr->left -= took;
        if (st == RS_DONE)
            pr->parsed = 1;
        else if (pr->kind == PAYLOAD_LEN && pr->left == 0)
            return loader_truncated(&pr->ld, err);
    }
    if (pr->parsed && pr->kind == PAYLOAD_LEN) {
        if (pr->left != 0)
            return rs_fail(err, RS_E_RDB, "rdb: payload has %llu bytes after the end of the RDB",
                           (unsigned long long)pr->left);
        pr->done = 1;
    } else if (pr->parsed && pr->kind == PAYLOAD_MARK) {
        while (used < n && pr->mark_have < MARK_LEN)
            pr->mark[pr->mark_have++] = p[used++];
        if (pr->mark_have == MARK_LEN) {
            if (memcmp(pr->mark, s->mark, MARK_LEN) != 0)
                return rs_fail(err, RS_E_RDB, "rdb: diskless payload does not end with its "
                               "40-byte mark after the RDB at offset %llu",
                               (unsigned long long)rdb_parser_offset(pr->ld.parser));
            pr->done = 1;
        }
    }
    return (ssize_t)used;
}

/* Load the snapshot from the spool into a new mirror generation. Stream
 * bytes that followed it in the last chunk are left in *rest. Returns 0,
 * 1 when *stop interrupted it, -1 with err set. */
static int load_payload(struct session *s, struct sink *sink, const struct handshake_result *hs,
                        volatile sig_atomic_t *stop, char *buf, size_t *rest_off,
                        size_t *rest_len, struct repl_pos *pos, int *rdb_version,
                        struct rs_error *err)
{
    struct payload_reader pr = { 0 };
    int64_t t0 = rs_mono_ms();
    /* Test hook: the load pauses while this file exists, to show that the
     * link keeps draining the master meanwhile (tests/integration/slow_load.sh). */
    const char *hold = getenv("REDSINK_TEST_HOLD_LOAD");
    int rc = -1;

    link_state_publish(sink, s->opts->status, LINK_SYNCING, "receiving and loading the snapshot");
    if (loader_begin(&pr.ld, sink, s->opts->apply.filter, err) != 0)
        goto out;
    while (!pr.done) {
        ssize_t n = spool_read(s->spool, buf, CHUNK, 200), used;

        while (hold && n > 0 && access(hold, F_OK) == 0 && !*stop) {
            nap_ms(20);
            status_load_tick(s->opts->status, pr.ld.keys);
        }

        if (*stop) {
            log_msg(RS_LOG_INFO, "stopped during the full sync: the previous mirror is kept");
            rc = 1;
            goto out;
        }
        if (n == 0)
            continue;
        if (n < 0) {
            session_fail_net(s, err);
            goto out;
        }
        used = payload_feed(s, &pr, buf, (size_t)n, err);
        if (used < 0)
            goto out;
        status_load_tick(s->opts->status, pr.ld.keys);
        *rest_off = (size_t)used;
        *rest_len = (size_t)n - (size_t)used;
    }
    *rdb_version = pr.ld.redis_ver;
    pos->offset = hs->kind == SYNC_OLD ? 0 : hs->offset;
    memcpy(pos->replid, hs->replid, sizeof(pos->replid));
    if (loader_commit(&pr.ld, pos, err) != 0)
        goto out;
    log_msg(RS_LOG_INFO, "full sync done: %lld keys loaded in %.2f s, at offset %lld",
            (long long)pr.ld.keys, (rs_mono_ms() - t0) / 1000.0, (long long)pos->offset);
    rc = 0;
out:
    loader_end(&pr.ld);
    return rc;
}

/* Apply what the RESP reader holds. 0, or -1 with err set. */
static int apply_ready(struct session *s, struct resp_reader *rr, struct applier *a,
                       struct rs_error *err)
{
    struct resp_command cmd;
    size_t skipped;
    enum rs_status st;

    for (;;) {
        st = resp_reader_next(rr, &cmd, &skipped);
        apply_skip_bytes(a, skipped);    /* stray newlines still count */
        if (st != RS_OK)
            break;
        if (apply_command(a, cmd.argc, cmd.argv, cmd.wire_len) != 0)
            return rs_fail(err, apply_error(a)->code, "%s", apply_error(a)->msg);
        if (apply_take_ack_request(a)) {
            /* GETACK: the applier committed what came before it */
            publish_ack(s, apply_committed(a), 1);
        } else if (apply_flush_due(a)) {
            if (apply_flush(a) != 0)
                return rs_fail(err, apply_error(a)->code, "%s", apply_error(a)->msg);
            publish_commit(s, a);
        }
    }
    if (st == RS_ERROR)
        return rs_fail(err, RS_E_PROTO, "%s in the stream at offset %lld",
                       resp_reader_error(rr)->msg, (long long)apply_applied(a)->offset);
    return 0;
}

/* Group commit: with nothing more waiting, the open batch is committed
 * once the last commit is this old. Committing after every lone write
 * instead cost a WAL append and an ACK per write, more than the writes
 * themselves at 10k writes/s. */
#define IDLE_COMMIT_US 500

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int stream_loop(struct session *s, struct applier *a, volatile sig_atomic_t *stop,
                       char *buf, const char *first, size_t first_len, struct rs_error *err)
{
    struct resp_reader *rr = resp_reader_new(0, 0);
    int64_t last_commit = 0;
    int rc = -1;

    if (rr == NULL)
        return rs_fail(err, RS_E_NOMEM, "out of memory");
    if (first_len && (resp_reader_feed(rr, first, first_len) != 0 ||
                      apply_ready(s, rr, a, err) != 0))
        goto out;
    while (!*stop) {
        /* With an open batch, wait for more stream bytes 1 ms at most
         * (a MULTI block not yet closed holds the commit). */
        int due;
        ssize_t n;
        uint64_t pending = spool_pending(s->spool), arg_left = resp_reader_arg_left(rr);

        /* What only completes the argument being read (a 16 MiB value) is
         * no backlog of commands: the larger cache of catching up would
         * just add to that one command's memory (bench/bigvalues.py key16,
         * stream path: 90.1 -> 81.6 MB). */
        apply_set_backlog(a, pending > arg_left ? pending - arg_left : 0);
        due = apply_ms_until_due(a);
        if (due > 1)
            due = 1;            /* applied, not yet visible: see below */
        n = spool_read(s->spool, buf, CHUNK, due < 0 ? 200 : due);

        if (n < 0) {
            /* keep the whole commands applied so far (not a half MULTI) */
            apply_flush(a);
            session_fail_net(s, err);
            break;
        }
        if (n > 0 && (resp_reader_feed(rr, buf, (size_t)n) != 0 ||
                      apply_ready(s, rr, a, err) != 0))
            break;
        /* Nothing more arrived in time, the batch is due, or nothing more
         * is waiting and the last commit is IDLE_COMMIT_US old: a write
         * is visible soon after the applier caught up with it, while
         * under load bytes keep waiting and the batch grows up to its
         * limits. */
        if (n == 0 || apply_flush_due(a) ||
            (spool_pending(s->spool) == 0 && mono_us() - last_commit >= IDLE_COMMIT_US)) {
            if (apply_flush(a) != 0) {
                rs_fail(err, apply_error(a)->code, "%s", apply_error(a)->msg);
                break;
            }
            last_commit = mono_us();
            publish_commit(s, a);
            status_stream_tick(s->opts->status, apply_stats(a));
            if (!s->progress_told && apply_committed(a)->offset > s->start_offset) {
                s->progress_told = 1;
                if (s->opts->on_up)
                    s->opts->on_up(s->opts->ud, LINK_UP_PROGRESS);
            }
        }
    }
    if (*stop && apply_flush(a) == 0)
        rc = 0;
    else if (*stop)
        rs_fail(err, apply_error(a)->code, "%s", apply_error(a)->msg);
    if (resp_reader_error(rr)->code && err->code == 0)
        rs_fail(err, RS_E_PROTO, "%s", resp_reader_error(rr)->msg);
out:
    resp_reader_free(rr);
    return rc;
}

/* ------------------------------------------------------------------ */
/* One session                                                         */
/* ------------------------------------------------------------------ */

static int session_run(struct session *s, const struct link_opts *o, struct sink *sink,
                       const struct handshake_result *hs, struct repl_pos *pos,
                       volatile sig_atomic_t *stop, struct rs_error *err)
{
    char *buf = malloc(CHUNK);
    size_t rest_off = 0, rest_len = 0;
    struct applier *a = NULL;
    struct apply_opts ao = o->apply;
    int rdb_version = 0, rc = -1;

    if (buf == NULL)
        return rs_fail(err, RS_E_NOMEM, "out of memory");
    s->opts = o;                     /* load_payload reads the filter */
    if (hs->kind == SYNC_CONTINUE) {
        if (hs->replid[0] && strcmp(hs->replid, pos->replid) != 0) {
            log_msg(RS_LOG_INFO, "master continues with a new replication id %s", hs->replid);
            memcpy(pos->replid, hs->replid, sizeof(pos->replid));
        }
        log_msg(RS_LOG_INFO, "partial resync accepted, continuing at offset %lld",
                (long long)pos->offset);
    } else {
        int lr = load_payload(s, sink, hs, stop, buf, &rest_off, &rest_len, pos,
                              &rdb_version, err);

        if (lr != 0) {
            rc = lr > 0 ? 0 : -1;
            goto out;
        }
        publish_ack(s, pos, 0);
    }
    /* Semantics that changed between versions follow the master's: INFO's
     * redis_version, else the snapshot's redis-ver (3.2+), else a master
     * without PSYNC is a 2.6 (or older), else the current semantics. */
    ao.master_version = hs->master_version ? hs->master_version
                        : rdb_version ? rdb_version : hs->kind == SYNC_OLD ? 20600 : 0;
    if (!hs->master_version && ao.master_version)
        log_msg(RS_LOG_INFO, "master taken as Redis %d.%d.%d (%s)", ao.master_version / 10000,
                ao.master_version / 100 % 100, ao.master_version % 100,
                rdb_version ? "the snapshot's redis-ver" : "it does not know PSYNC");
    a = apply_new(sink, pos, &ao);
    if (a == NULL) {
        rs_fail(err, RS_E_NOMEM, "out of memory");
        goto out;
    }
    link_state_publish(sink, o->status, LINK_STREAMING, NULL);
    log_msg(RS_LOG_INFO, "streaming from the master");
    s->opts = o;
    s->start_offset = apply_committed(a)->offset;
    rc = stream_loop(s, a, stop, buf, buf + rest_off, rest_len, err);
out:
    apply_free(a);
    free(buf);
    return rc;
}

/* The handshake over the connection (handshake.h). */
static ssize_t io_read(void *ud, char *buf, size_t len, int timeout_ms)
{
    return conn_read_wait(ud, buf, len, timeout_ms);
}

static int io_write(void *ud, const char *buf, size_t len, int timeout_ms)
{
    return conn_write_all(ud, buf, len, timeout_ms);
}

static int link_handshake(struct conn *c, const struct link_opts *o, const struct repl_pos *pos,
                          struct handshake_result *hs, struct rs_error *err)
{
    struct handshake_io io = { io_read, io_write, c, c->err };
    struct handshake_opts ho = { o->user, o->password, o->listening_port,
                                 o->connect_timeout_ms, o->timeout_ms };

    return handshake_run(&io, &ho, pos->replid, pos->offset, hs, err);
}

static void session_stop_net(struct session *s, pthread_t tid)
{
    atomic_store(&s->stop_net, 1);
    (void)!write(s->wake[1], "s", 1);
    pthread_join(tid, NULL);
}

int link_run(const struct link_opts *o, struct sink *sink, volatile sig_atomic_t *stop,
             struct rs_error *err)
{
    struct timeval tv = { o->connect_timeout_ms / 1000, (o->connect_timeout_ms % 1000) * 1000 };
    struct session s;
    struct handshake_result *hs = calloc(1, sizeof(*hs));
    struct repl_pos pos;
    redisContext *c = NULL;
    struct conn conn;
    pthread_t tid;
    int rc = -1;

    memset(&s, 0, sizeof(s));
    conn_init(&conn, -1);
    s.wake[0] = s.wake[1] = -1;
    s.opts = o;
    pthread_mutex_init(&s.mu, NULL);
    if (hs == NULL) {
        rs_fail(err, RS_E_NOMEM, "out of memory");
        goto out;
    }
    if (sink->ops->read_checkpoint(sink, &pos) != 0) {
        rs_fail(err, sink->err.code, "%s", sink->err.msg);
        goto out;
    }
    link_state_publish(sink, o->status, LINK_CONNECTING, NULL);
    c = redisConnectWithTimeout(o->host, o->port, tv);
    if (c == NULL || c->err) {
        rs_fail(err, RS_E_IO, "cannot connect to %s:%d: %s", o->host, o->port,
                c ? c->errstr : "out of memory");
        goto out;
    }
    redisEnableKeepAlive(c);
    /* hiredis only connects: from here on the socket is ours, and every
     * wait is a poll() with its own timeout. */
    conn_init(&conn, c->fd);
    if (fcntl(conn.fd, F_SETFL, fcntl(conn.fd, F_GETFL) | O_NONBLOCK) != 0) {
        rs_fail(err, RS_E_IO, "cannot set up the connection: %s", strerror(errno));
        goto out;
    }
    if (o->tls.enabled &&
        tls_connect(&conn, &o->tls, o->host, o->port, o->connect_timeout_ms, err) != 0)
        goto out;
    if (link_handshake(&conn, o, &pos, hs, err) != 0)
        goto out;
    status_session(o->status, sink, hs->kind != SYNC_CONTINUE,
                   hs->kind == SYNC_CONTINUE ? pos.offset : hs->kind == SYNC_FULL ? hs->offset : 0);

    s.conn = &conn;
    s.timeout_ms = o->timeout_ms;
    s.old_master = hs->kind == SYNC_OLD;
    s.phase = hs->kind == SYNC_CONTINUE ? PHASE_STREAM : PHASE_HEADER;
    s.payload = hs->kind == SYNC_CONTINUE ? PAYLOAD_NONE : PAYLOAD_UNKNOWN;
    atomic_store(&s.ack_offset, hs->kind == SYNC_CONTINUE ? pos.offset : 0);
    s.spool = spool_new(o->spool_dir, err);
    if (s.spool == NULL || pipe2(s.wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        rs_fail(err, RS_E_IO, "cannot set up the session: %s", strerror(errno));
        goto out;
    }
    /* Bytes read together with the PSYNC reply go first. */
    if (hs->rest_len && net_consume(&s, hs->rest, hs->rest_len) != 0) {
        rs_fail(err, s.net_err.code, "%s", s.net_err.msg);
        goto out;
    }
    if (pthread_create(&tid, NULL, net_main, &s) != 0) {
        rs_fail(err, RS_E_NOMEM, "cannot start the network thread");
        goto out;
    }
    if (o->on_up)
        o->on_up(o->ud, hs->kind == SYNC_FULL ? LINK_UP_FULL
                        : hs->kind == SYNC_CONTINUE ? LINK_UP_CONTINUE : LINK_UP_SYNC);
    if (hs->kind == SYNC_FULL)
        log_msg(RS_LOG_INFO, "full resync from the master: replid %s offset %lld",
                hs->replid, (long long)hs->offset);
    rc = session_run(&s, o, sink, hs, &pos, stop, err);
    session_stop_net(&s, tid);
out:
    if (rc != 0 && err->code == 0)
        rs_fail(err, RS_E_IO, "replication session ended");
    if (rc != 0)
        link_state_publish(sink, o->status, LINK_ERROR, err->msg);
    if (s.wake[0] >= 0) {
        close(s.wake[0]);
        close(s.wake[1]);
    }
    spool_free(s.spool);
    pthread_mutex_destroy(&s.mu);
    conn_release(&conn);
    if (c)
        redisFree(c);
    free(hs);
    return rc;
}
