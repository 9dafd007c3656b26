/*
 * status.c - the replication status record, the RESP status endpoint,
 * progress reporting and `redsink status` (see status.h).
 *
 * The record is written by the link's two threads and read by the
 * endpoint thread, always under st->mu, and never touches the sink
 * there: only the session thread's ticks write the status row. The
 * endpoint answers one command at a time per client; it keeps no state
 * beyond a client's unparsed input, and everything it does not know gets
 * -ERR. It is not Redis: no keyspace, no AUTH, no pub/sub beyond the
 * replies Sentinel needs to carry on.
 *
 * Reading order: the record (status_*), info_*(), the server
 * (server_main, client_serve, dispatch; requests are read with resp.c's
 * reader), the ticks, status_main().
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"     /* autoconf's (PACKAGE_VERSION) */
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "resp.h"
#include "status.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

#define TICK_MS 2000           /* progress line / status row interval */
#define ROW_IDLE_MS 10000      /* status row refresh when nothing changed */
#define MAX_CLIENTS 32
#define CLIENT_BUF 16384
#define MAX_ARGS 16
#define SAMPLES 64             /* (offset, time) samples for lag_ms */
#define CMD_SLOTS 512          /* command names counted for the metrics */

/* Upper bounds (seconds) of the commit latency histogram's buckets. */
static const double commit_le[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                    0.25, 0.5, 1, 2.5, 5, 10 };
#define N_LE (sizeof(commit_le) / sizeof(commit_le[0]))

/* Why the link went down: the labels of redsink_reconnects_total. */
enum reason { R_CONNECT, R_TIMEOUT, R_CLOSED, R_NOT_READY, R_IO, R_PROTOCOL, R_RDB, R_SINK,
              R_OTHER, N_REASONS };
static const char *const reason_names[N_REASONS] = {   /* R_SINK: "<sink>_error" */
    "connect_failed", "timeout", "closed_by_master", "master_not_ready", "io_error",
    "protocol_error", "rdb_error", NULL, "other"
};

/* A command name's count: the session thread fills a slot (count first,
 * then the name with release), readers take the name with acquire. */
struct cmd_slot {
    _Atomic(const char *) name;
    _Atomic uint64_t n;
};

struct status {
    pthread_mutex_t mu;
    char host[256];
    int port;
    char run_id[41];           /* random, like a Redis run_id */
    int64_t started;           /* mono ms */

    /* replication, under mu */
    enum link_state state;
    int full;                  /* this session began with a snapshot */
    int64_t base;              /* offset before the session's first stream byte */
    int64_t read_offset;       /* -1 unknown */
    int64_t committed;         /* -1 unknown */
    char replid[41];
    int64_t last_io;           /* mono ms of the last read from the master, 0 never */
    int64_t down_since;        /* mono ms the link went down */
    int64_t last_ack_at;       /* unix ms, 0 never */
    uint64_t payload, payload_total;
    int64_t keys_loaded, commands_applied, unknown_commands;
    double keys_per_sec;
    int64_t sample_off[SAMPLES], sample_at[SAMPLES];
    int n_samples, first_sample;

    /* metrics, under mu */
    int64_t sync_t0;           /* mono ms this full sync began, 0: none open */
    uint64_t full_syncs, full_syncs_aborted;
    double full_sync_seconds, last_full_sync_seconds;
    uint64_t commit_bucket[N_LE], commits;
    double commit_seconds;
    uint64_t reconnects[N_REASONS];
    int64_t unknown_total, sess_unknown;
    char mirror[4096];         /* the sink's target */
    char sink_name[32];        /* the sink's name: its metrics are redsink_<name>_* */

    /* commands by name: written by the session thread only, lock-free */
    struct cmd_slot cmds[CMD_SLOTS];
    _Atomic uint64_t cmds_other;  /* names past CMD_SLOTS */

    /* session thread only */
    struct sink *sink;
    int64_t load_t0, next_tick, tick_keys, tick_at, row_at;
    int64_t row_committed, row_read;
    int rate_final;            /* the full sync's overall speed is known */

    /* endpoint thread */
    int listen_fd;
    int wake[2];
    pthread_t tid;
    int running;
};

/* ------------------------------------------------------------------ */
/* The record                                                          */
/* ------------------------------------------------------------------ */

struct status *status_new(const char *master_host, int master_port)
{
    struct status *st = calloc(1, sizeof(*st));
    unsigned seed = (unsigned)(time(NULL) ^ ((unsigned)getpid() << 16));

    if (st == NULL)
        return NULL;
    pthread_mutex_init(&st->mu, NULL);
    snprintf(st->host, sizeof(st->host), "%s", master_host);
    st->port = master_port;
    for (int i = 0; i < 40; i++)
        st->run_id[i] = "0123456789abcdef"[rand_r(&seed) % 16];
    st->started = st->down_since = rs_mono_ms();
    st->state = LINK_NEW;
    st->read_offset = st->committed = -1;
    st->listen_fd = st->wake[0] = st->wake[1] = -1;
    return st;
}

void status_set_state(struct status *st, enum link_state state)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    if (st->state == LINK_STREAMING && state != LINK_STREAMING)
        st->down_since = rs_mono_ms();
    if (st->sync_t0 && state == LINK_STREAMING) {
        /* the snapshot is loaded and swapped in */
        st->last_full_sync_seconds = (double)(rs_mono_ms() - st->sync_t0) / 1000.0;
        st->full_sync_seconds += st->last_full_sync_seconds;
        st->full_syncs++;
        st->sync_t0 = 0;
    } else if (st->sync_t0 && state != LINK_SYNCING) {
        st->full_syncs_aborted++;
        st->sync_t0 = 0;
    }
    st->state = state;
    pthread_mutex_unlock(&st->mu);
}

void status_session(struct status *st, struct sink *sink, int full, int64_t base)
{
    int64_t now = rs_mono_ms();

    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->full = full;
    st->base = base;
    st->read_offset = base;
    st->payload = st->payload_total = 0;
    st->n_samples = 0;
    st->sess_unknown = 0;
    if (full) {
        st->sync_t0 = now;
        st->keys_loaded = 0;
        st->keys_per_sec = 0;
    }
    pthread_mutex_unlock(&st->mu);
    st->sink = sink;
    st->load_t0 = st->tick_at = now;
    st->next_tick = now + TICK_MS;
    st->tick_keys = 0;
    st->row_at = 0;
    st->rate_final = !full;
}

void status_received(struct status *st, uint64_t payload, uint64_t total, uint64_t stream)
{
    int64_t now = rs_mono_ms();

    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->last_io = now;
    st->payload = payload;
    st->payload_total = total;
    if (stream > 0 && st->base + (int64_t)stream > st->read_offset) {
        int last = (st->first_sample + st->n_samples - 1) % SAMPLES;

        st->read_offset = st->base + (int64_t)stream;
        /* one sample per 100 ms at most; the oldest goes when full */
        if (st->n_samples == 0 || now - st->sample_at[last] >= 100) {
            if (st->n_samples == SAMPLES) {
                st->first_sample = (st->first_sample + 1) % SAMPLES;
                st->n_samples--;
            }
            last = (st->first_sample + st->n_samples++) % SAMPLES;
            st->sample_at[last] = now;
        }
        st->sample_off[last] = st->read_offset;
    }
    pthread_mutex_unlock(&st->mu);
}

void status_acked(struct status *st)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->last_ack_at = rs_now_ms();
    pthread_mutex_unlock(&st->mu);
}

void status_committed(struct status *st, const struct repl_pos *pos)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->committed = pos->offset;
    snprintf(st->replid, sizeof(st->replid), "%s", pos->replid);
    if (st->read_offset < pos->offset)
        st->read_offset = pos->offset;
    while (st->n_samples > 0 && st->sample_off[st->first_sample] <= pos->offset) {
        st->first_sample = (st->first_sample + 1) % SAMPLES;
        st->n_samples--;
    }
    pthread_mutex_unlock(&st->mu);
}

/* Lag, under mu. */
static int64_t lag_bytes(const struct status *st)
{
    if (st->read_offset < 0 || st->committed < 0 || st->read_offset < st->committed)
        return 0;
    return st->read_offset - st->committed;
}

static int64_t lag_ms(const struct status *st, int64_t now)
{
    if (lag_bytes(st) == 0 || st->n_samples == 0)
        return 0;
    return now - st->sample_at[st->first_sample];
}

/* ------------------------------------------------------------------ */
/* INFO                                                                */
/* ------------------------------------------------------------------ */

struct buf {
    char *p;
    size_t len, cap;
    int grow;                  /* p is malloc'd: realloc when full (0: truncate) */
    int oom;
};

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n > 0 && b->grow && (size_t)n >= b->cap - b->len) {
        size_t cap = b->cap * 2 + (size_t)n;
        char *p = realloc(b->p, cap);

        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    if (n > 0)
        b->len += (size_t)n < b->cap - b->len ? (size_t)n : b->cap - b->len - 1;
}

static void info_server(struct status *st, struct buf *b, int port)
{
    buf_printf(b, "# Server\r\nredsink_version:%s\r\nredis_mode:standalone\r\n"
               "run_id:%s\r\nprocess_id:%ld\r\ntcp_port:%d\r\n"
               "uptime_in_seconds:%lld\r\n\r\n", PACKAGE_VERSION, st->run_id, (long)getpid(),
               port, (long long)((rs_mono_ms() - st->started) / 1000));
}

/* Redis' replica fields, in its order (replication.c, genRedisInfoString). */
static void info_replication(struct status *st, struct buf *b)
{
    int64_t now = rs_mono_ms();
    int up = st->state == LINK_STREAMING;
    int syncing = st->state == LINK_SYNCING;

    buf_printf(b, "# Replication\r\nrole:slave\r\nmaster_host:%s\r\nmaster_port:%d\r\n"
               "master_link_status:%s\r\nmaster_last_io_seconds_ago:%lld\r\n"
               "master_sync_in_progress:%d\r\nslave_read_repl_offset:%lld\r\n"
               "slave_repl_offset:%lld\r\n", st->host, st->port, up ? "up" : "down",
               st->last_io ? (long long)((now - st->last_io) / 1000) : -1LL, syncing,
               (long long)(st->read_offset < 0 ? 0 : st->read_offset),
               (long long)(st->committed < 0 ? 0 : st->committed));
    if (syncing && st->full) {
        uint64_t left = st->payload_total > st->payload ? st->payload_total - st->payload : 0;

        buf_printf(b, "master_sync_total_bytes:%lld\r\nmaster_sync_read_bytes:%llu\r\n"
                   "master_sync_left_bytes:%lld\r\nmaster_sync_perc:%.2f\r\n",
                   st->payload_total ? (long long)st->payload_total : -1LL,
                   (unsigned long long)st->payload, st->payload_total ? (long long)left : -1LL,
                   st->payload_total ? 100.0 * (double)st->payload / (double)st->payload_total
                                     : 0.0);
    }
    if (!up)
        buf_printf(b, "master_link_down_since_seconds:%lld\r\n",
                   (long long)((now - st->down_since) / 1000));
    /* priority 0: a Sentinel never promotes redsink (it has no keyspace
     * to serve); read-only and announced, like a normal replica. */
    buf_printf(b, "slave_priority:0\r\nslave_read_only:1\r\nreplica_announced:1\r\n"
               "connected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
               "master_replid:%s\r\nmaster_replid2:0000000000000000000000000000000000000000\r\n"
               "master_repl_offset:%lld\r\nsecond_repl_offset:-1\r\n"
               "repl_backlog_active:0\r\n\r\n",
               st->replid[0] ? st->replid : "0000000000000000000000000000000000000000",
               (long long)(st->committed < 0 ? 0 : st->committed));
}

static void info_redsink(struct status *st, struct buf *b)
{
    int64_t now = rs_mono_ms();

    buf_printf(b, "# Redsink\r\nstate:%s\r\nkeys_loaded:%lld\r\ncommands_applied:%lld\r\n"
               "unknown_commands:%lld\r\nlag_bytes:%lld\r\nlag_ms:%lld\r\n"
               "last_ack_seconds_ago:%lld\r\nsync_keys_per_sec:%.0f\r\n\r\n",
               link_state_name(st->state),
               (long long)st->keys_loaded, (long long)st->commands_applied,
               (long long)st->unknown_commands, (long long)lag_bytes(st),
               (long long)lag_ms(st, now),
               st->last_ack_at ? (long long)((rs_now_ms() - st->last_ack_at) / 1000) : -1LL,
               st->keys_per_sec);
}

/* INFO [section ...]: no section, "default", "all" or "everything" give
 * all three; an unknown section gives nothing, as in Redis. */
static void info(struct status *st, int argc, char **argv, struct buf *b, int port)
{
    static const char *const names[] = { "server", "replication", "redsink" };
    int want[3] = { argc < 2, argc < 2, argc < 2 };

    for (int i = 1; i < argc; i++)
        for (int k = 0; k < 3; k++)
            want[k] |= strcasecmp(argv[i], names[k]) == 0 || strcasecmp(argv[i], "all") == 0 ||
                       strcasecmp(argv[i], "default") == 0 ||
                       strcasecmp(argv[i], "everything") == 0;
    pthread_mutex_lock(&st->mu);
    if (want[0])
        info_server(st, b, port);
    if (want[1])
        info_replication(st, b);
    if (want[2])
        info_redsink(st, b);
    pthread_mutex_unlock(&st->mu);
    if (b->len >= 2)
        b->len -= 2;           /* no blank line after the last section */
}

/* ------------------------------------------------------------------ */
/* The endpoint                                                        */
/* ------------------------------------------------------------------ */

struct client {
    int fd;
    struct resp_reader *rr;    /* its requests (resp.c), unparsed input included */
};

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int reply(int fd, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    return send_all(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static int reply_bulk(int fd, const char *p, size_t n)
{
    return reply(fd, "$%zu\r\n", n) || send_all(fd, p, n) || send_all(fd, "\r\n", 2) ? -1 : 0;
}

static int reply_role(struct status *st, int fd)
{
    const char *link;
    char host[256];
    int port;
    long long off;

    pthread_mutex_lock(&st->mu);
    /* Redis' replica states: connect, connecting, sync, connected */
    link = st->state == LINK_STREAMING ? "connected"
         : st->state == LINK_SYNCING ? "sync"
         : st->state == LINK_CONNECTING ? "connecting" : "connect";
    snprintf(host, sizeof(host), "%s", st->host);
    port = st->port;
    off = st->committed < 0 ? -1 : (long long)st->committed;
    pthread_mutex_unlock(&st->mu);
    return reply(fd, "*5\r\n$5\r\nslave\r\n$%zu\r\n%s\r\n:%d\r\n$%zu\r\n%s\r\n:%lld\r\n",
                 strlen(host), host, port, strlen(link), link, off);
}

/* One command. Returns 0, or -1 to close the connection. */
static int dispatch(struct status *st, int fd, int argc, char **argv, int port)
{
    const char *c = argv[0];

    if (strcasecmp(c, "ping") == 0)
        return argc > 1 ? reply_bulk(fd, argv[1], strlen(argv[1])) : reply(fd, "+PONG\r\n");
    if (strcasecmp(c, "info") == 0) {
        char text[4096];
        struct buf b = { text, 0, sizeof(text), 0, 0 };

        text[0] = '\0';
        info(st, argc, argv, &b, port);
        return reply_bulk(fd, text, b.len);
    }
    if (strcasecmp(c, "role") == 0)
        return reply_role(st, fd);
    if (strcasecmp(c, "echo") == 0 && argc == 2)        /* redis-cli --pipe ends with one */
        return reply_bulk(fd, argv[1], strlen(argv[1]));
    if (strcasecmp(c, "command") == 0)
        return reply(fd, "*0\r\n");
    if (strcasecmp(c, "client") == 0 && argc > 1 &&
        (strcasecmp(argv[1], "setname") == 0 || strcasecmp(argv[1], "setinfo") == 0))
        return reply(fd, "+OK\r\n");
    if (strcasecmp(c, "select") == 0 && argc == 2 && strcmp(argv[1], "0") == 0)
        return reply(fd, "+OK\r\n");
    if (strcasecmp(c, "quit") == 0) {
        reply(fd, "+OK\r\n");
        return -1;
    }
    if (strcasecmp(c, "publish") == 0 && argc == 3)
        return reply(fd, ":0\r\n");
    if (strcasecmp(c, "subscribe") == 0 && argc > 1) {
        /* Sentinel subscribes to __sentinel__:hello on replicas too;
         * confirm, and never publish anything. */
        for (int i = 1; i < argc; i++)
            if (reply(fd, "*3\r\n$9\r\nsubscribe\r\n$%zu\r\n%s\r\n:%d\r\n", strlen(argv[i]),
                      argv[i], i) != 0)
                return -1;
        return 0;
    }
    return reply(fd, "-ERR unknown command '%.64s': redsink's status endpoint answers PING, "
                 "INFO and ROLE only\r\n", c);
}

/* Answer every complete command the reader holds. -1: close the client. */
static int client_answer(struct status *st, struct client *c, int port)
{
    struct resp_command cmd;
    char *argv[MAX_ARGS];
    enum rs_status rc;

    while ((rc = resp_reader_next(c->rr, &cmd, NULL)) == RS_OK) {
        /* arguments past MAX_ARGS are dropped: no command answered here
         * takes that many, and the others get -ERR all the same; each
         * argument ends with a NUL (resp.h) */
        int argc = cmd.argc < MAX_ARGS ? cmd.argc : MAX_ARGS;

        for (int i = 0; i < argc; i++)
            argv[i] = (char *)cmd.argv[i].ptr;
        if (dispatch(st, c->fd, argc, argv, port) != 0)
            return -1;
    }
    /* a malformed request, or one longer than the buffer */
    if (rc == RS_ERROR || resp_reader_pending(c->rr) >= CLIENT_BUF) {
        reply(c->fd, "-ERR Protocol error\r\n");
        return -1;
    }
    return 0;
}

/* Read from a client and answer every complete command. -1: close it. */
static int client_serve(struct status *st, struct client *c, int port)
{
    char in[CLIENT_BUF];
    ssize_t n = recv(c->fd, in, sizeof(in), 0);

    if (n <= 0)
        return n < 0 && (errno == EINTR || errno == EAGAIN) ? 0 : -1;
    if (resp_reader_feed(c->rr, in, (size_t)n) != 0)
        return -1;
    return client_answer(st, c, port);
}

static void client_close(struct client *c)
{
    close(c->fd);
    c->fd = -1;
    resp_reader_free(c->rr);
    c->rr = NULL;
}

/* A new client in a free slot, or -ERR when there is none. */
static void client_accept(struct client *cl, int fd)
{
    int slot = -1;

    for (int i = 0; i < MAX_CLIENTS && slot < 0; i++)
        if (cl[i].fd < 0)
            slot = i;
    if (slot < 0) {
        reply(fd, "-ERR max number of clients reached\r\n");
        close(fd);
        return;
    }
    /* requests and arguments as long as the buffer at most */
    if ((cl[slot].rr = resp_reader_new(CLIENT_BUF, CLIENT_BUF)) == NULL) {
        close(fd);
        return;
    }
    resp_reader_for_clients(cl[slot].rr);
    cl[slot].fd = fd;
}

static void *server_main(void *arg)
{
    struct status *st = arg;
    struct client *cl = calloc(MAX_CLIENTS, sizeof(*cl));
    struct pollfd pfd[MAX_CLIENTS + 2];
    int port = st->running;

    if (cl == NULL)
        return NULL;
    for (int i = 0; i < MAX_CLIENTS; i++)
        cl[i].fd = -1;
    for (;;) {
        pfd[0] = (struct pollfd){ .fd = st->wake[0], .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = st->listen_fd, .events = POLLIN };
        for (int i = 0; i < MAX_CLIENTS; i++)
            pfd[i + 2] = (struct pollfd){ .fd = cl[i].fd, .events = POLLIN };
        if (poll(pfd, MAX_CLIENTS + 2, -1) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents)
            break;
        if (pfd[1].revents & POLLIN) {
            int fd = accept4(st->listen_fd, NULL, NULL, SOCK_CLOEXEC);

            if (fd >= 0)
                client_accept(cl, fd);
        }
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (cl[i].fd >= 0 && pfd[i + 2].revents && client_serve(st, &cl[i], port) != 0)
                client_close(&cl[i]);
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (cl[i].fd >= 0)
            client_close(&cl[i]);
    free(cl);
    return NULL;
}

static int listen_on(const char *bind_addr, int port, struct rs_error *err)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    char svc[16];
    int fd = -1, one = 1, e, saved = 0;

    snprintf(svc, sizeof(svc), "%d", port);
    if ((e = getaddrinfo(bind_addr, svc, &hints, &ai)) != 0)
        return rs_fail(err, RS_E_CONFIG, "cannot listen on '%s:%d': %s", bind_addr, port,
                       gai_strerror(e));
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 16) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return rs_fail(err, RS_E_CONFIG, "cannot listen on '%s:%d': %s", bind_addr, port,
                       strerror(saved ? saved : errno));
    return fd;
}

int status_serve(struct status *st, const char *bind_addr, int port, struct rs_error *err)
{
    if ((st->listen_fd = listen_on(bind_addr, port, err)) < 0)
        return -1;
    if (pipe2(st->wake, O_CLOEXEC) != 0) {
        close(st->listen_fd);
        st->listen_fd = -1;
        return rs_fail(err, RS_E_IO, "cannot start the status endpoint: %s", strerror(errno));
    }
    st->running = port;        /* read once by the thread: the port INFO shows */
    if (pthread_create(&st->tid, NULL, server_main, st) != 0) {
        st->running = 0;
        return rs_fail(err, RS_E_NOMEM, "cannot start the status endpoint thread");
    }
    log_msg(RS_LOG_INFO, "status endpoint listening on %s:%d", bind_addr, port);
    return 0;
}

void status_free(struct status *st)
{
    if (st == NULL)
        return;
    if (st->running) {
        (void)!write(st->wake[1], "s", 1);
        pthread_join(st->tid, NULL);
    }
    if (st->listen_fd >= 0)
        close(st->listen_fd);
    if (st->wake[0] >= 0) {
        close(st->wake[0]);
        close(st->wake[1]);
    }
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* ------------------------------------------------------------------ */
/* Ticks: the progress line and the status row                         */
/* ------------------------------------------------------------------ */

/* Fill 'p' from the record, under mu. */
static void progress_fill(struct status *st, struct sink_progress *p)
{
    int64_t now = rs_mono_ms();

    p->master_host = st->host;
    p->master_port = st->port;
    p->read_offset = st->read_offset;
    p->last_ack_at = st->last_ack_at;
    p->lag_bytes = lag_bytes(st);
    p->lag_ms = lag_ms(st, now);
    p->bytes_received = (int64_t)st->payload;
    p->bytes_total = (int64_t)st->payload_total;
    p->keys_per_sec = st->keys_per_sec;
}

static void row_store(struct status *st)
{
    struct sink_progress p;
    char host[256];

    if (st->sink == NULL || st->sink->ops->set_progress == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    progress_fill(st, &p);
    snprintf(host, sizeof(host), "%s", st->host);
    st->row_committed = st->committed;
    st->row_read = st->read_offset;
    pthread_mutex_unlock(&st->mu);
    p.master_host = host;
    if (st->sink->ops->set_progress(st->sink, &p) != 0)
        log_msg(RS_LOG_DEBUG, "cannot store the progress: %s", st->sink->err.msg);
    st->row_at = rs_mono_ms();
}

static void fmt_bytes(char *out, size_t cap, uint64_t n)
{
    if (n >= 10 * 1024 * 1024)
        snprintf(out, cap, "%.1f MB", (double)n / (1024.0 * 1024.0));
    else
        snprintf(out, cap, "%.1f kB", (double)n / 1024.0);
}

void status_load_tick(struct status *st, int64_t keys)
{
    int64_t now = rs_mono_ms();
    char got[32], total[48] = "";
    uint64_t payload, payload_total;
    double rate;

    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->keys_loaded = keys;
    payload = st->payload;
    payload_total = st->payload_total;
    if (now < st->next_tick) {
        pthread_mutex_unlock(&st->mu);
        return;
    }
    rate = now > st->tick_at ? (double)(keys - st->tick_keys) * 1000.0 / (double)(now - st->tick_at)
                             : 0.0;
    st->keys_per_sec = rate;
    pthread_mutex_unlock(&st->mu);
    st->tick_keys = keys;
    st->tick_at = now;
    st->next_tick = now + TICK_MS;
    fmt_bytes(got, sizeof(got), payload);
    if (payload_total) {
        char t[32];

        fmt_bytes(t, sizeof(t), payload_total);
        snprintf(total, sizeof(total), " of %s (%.0f%%)", t,
                 100.0 * (double)payload / (double)payload_total);
    }
    log_msg(RS_LOG_INFO, "full sync: %s%s received, %lld keys loaded (%.0f keys/s)", got, total,
            (long long)keys, rate);
    row_store(st);
}

void status_stream_tick(struct status *st, const struct sink_stats *stats)
{
    int64_t now = rs_mono_ms();
    int changed;

    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    if (stats) {
        st->commands_applied = stats->commands_applied;
        st->unknown_commands = stats->unknown_commands;
        if (stats->unknown_commands > st->sess_unknown)
            st->unknown_total += stats->unknown_commands - st->sess_unknown;
        st->sess_unknown = stats->unknown_commands;
    }
    changed = st->committed != st->row_committed || st->read_offset != st->row_read;
    if (!st->rate_final) {
        /* the first tick after a full sync: its overall speed */
        int64_t ms = now - st->load_t0;

        st->keys_per_sec = ms > 0 ? (double)st->keys_loaded * 1000.0 / (double)ms : 0;
        st->rate_final = 1;
    }
    pthread_mutex_unlock(&st->mu);
    if (now < st->next_tick || (!changed && st->row_at && now - st->row_at < ROW_IDLE_MS))
        return;
    st->next_tick = now + TICK_MS;
    row_store(st);
}

/* ------------------------------------------------------------------ */
/* Metrics: counters only Prometheus shows, and the exposition         */
/* ------------------------------------------------------------------ */

void status_count_command(void *ud, const char *name)
{
    struct status *st = ud;
    size_t h;

    if (st == NULL || name == NULL)
        return;
    h = (size_t)(((uintptr_t)name >> 3) * 2654435761u) % CMD_SLOTS;
    for (size_t i = 0; i < CMD_SLOTS; i++, h = (h + 1) % CMD_SLOTS) {
        const char *at = atomic_load_explicit(&st->cmds[h].name, memory_order_relaxed);

        if (at == name) {
            atomic_fetch_add_explicit(&st->cmds[h].n, 1, memory_order_relaxed);
            return;
        }
        if (at == NULL) {
            atomic_store_explicit(&st->cmds[h].n, 1, memory_order_relaxed);
            atomic_store_explicit(&st->cmds[h].name, name, memory_order_release);
            return;
        }
    }
    atomic_fetch_add_explicit(&st->cmds_other, 1, memory_order_relaxed);
}

void status_commit_time(struct status *st, double seconds)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < N_LE; i++)
        if (seconds <= commit_le[i])
            st->commit_bucket[i]++;
    st->commits++;
    st->commit_seconds += seconds;
    pthread_mutex_unlock(&st->mu);
}

void status_reconnect(struct status *st, const struct rs_error *why)
{
    const char *m = why->msg;
    enum reason r;

    if (st == NULL)
        return;
    if (strncmp(m, "cannot connect", 14) == 0)
        r = R_CONNECT;
    else if (strstr(m, "timeout") != NULL)
        r = R_TIMEOUT;
    else if (strstr(m, "not ready") != NULL)
        r = R_NOT_READY;
    else if (strstr(m, "closed by the master") != NULL || strstr(m, "link to the master lost"))
        r = R_CLOSED;
    else
        r = why->code == RS_E_IO ? R_IO : why->code == RS_E_PROTO ? R_PROTOCOL
            : why->code == RS_E_RDB ? R_RDB : why->code == RS_E_SQL ? R_SINK : R_OTHER;
    pthread_mutex_lock(&st->mu);
    st->reconnects[r]++;
    pthread_mutex_unlock(&st->mu);
}

void status_set_mirror(struct status *st, const char *sink, const char *target)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    snprintf(st->sink_name, sizeof(st->sink_name), "%s", sink);
    snprintf(st->mirror, sizeof(st->mirror), "%s", target);
    pthread_mutex_unlock(&st->mu);
}

static void metric(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The sink's metrics, redsink_<sink>_*: commit latency, then its gauges. */
static void prom_sink(struct status *st, struct buf *b)
{
    const char *sk = st->sink_name;
    struct sink_gauge g[8];
    char name[96];
    int n = sink_gauges(sk, st->mirror, g, 8);

    snprintf(name, sizeof(name), "redsink_%s_commit_duration_seconds", sk);
    metric(b, name, "histogram", "Time of each commit of stream data into the mirror.");
    for (size_t i = 0; i < N_LE; i++)         /* commit_bucket[] is cumulative */
        buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
                   commit_le[i], (unsigned long long)st->commit_bucket[i]);
    buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n",
               name, (unsigned long long)st->commits, name, st->commit_seconds,
               name, (unsigned long long)st->commits);
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "redsink_%s_%s", sk, g[i].name);
        metric(b, name, "gauge", g[i].help);
        buf_printf(b, "%s %lld\n", name, g[i].value);
    }
}

/* The record, under mu (commands by name after it, without the lock). */
static void prom_record(struct status *st, struct buf *b)
{
    int64_t now = rs_mono_ms();

    metric(b, "redsink_build_info", "gauge", "redsink's version.");
    buf_printf(b, "redsink_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
    metric(b, "redsink_uptime_seconds", "gauge", "Seconds since redsink started.");
    buf_printf(b, "redsink_uptime_seconds %.3f\n", (double)(now - st->started) / 1000.0);
    metric(b, "redsink_link_up", "gauge",
           "1 while streaming from the master (INFO master_link_status:up), else 0.");
    buf_printf(b, "redsink_link_up %d\n", st->state == LINK_STREAMING);
    metric(b, "redsink_state", "gauge", "The daemon's state: 1 for the current one.");
    for (int i = 0; i < LINK_N_STATES; i++)
        buf_printf(b, "redsink_state{state=\"%s\"} %d\n", link_state_name((enum link_state)i),
                   st->state == (enum link_state)i);
    metric(b, "redsink_master_last_io_seconds", "gauge",
           "Seconds since the last byte from the master (-1: never).");
    buf_printf(b, "redsink_master_last_io_seconds %.3f\n",
               st->last_io ? (double)(now - st->last_io) / 1000.0 : -1.0);
    metric(b, "redsink_master_repl_offset_bytes", "gauge",
           "Replication offset received from the master (slave_read_repl_offset).");
    buf_printf(b, "redsink_master_repl_offset_bytes %lld\n",
               (long long)(st->read_offset < 0 ? 0 : st->read_offset));
    metric(b, "redsink_committed_repl_offset_bytes", "gauge",
           "Replication offset committed in the mirror and acknowledged (slave_repl_offset).");
    buf_printf(b, "redsink_committed_repl_offset_bytes %lld\n",
               (long long)(st->committed < 0 ? 0 : st->committed));
    metric(b, "redsink_lag_bytes", "gauge", "Bytes received from the master, not committed yet.");
    buf_printf(b, "redsink_lag_bytes %lld\n", (long long)lag_bytes(st));
    metric(b, "redsink_lag_seconds", "gauge",
           "Age of the oldest received byte that is not committed yet.");
    buf_printf(b, "redsink_lag_seconds %.3f\n", (double)lag_ms(st, now) / 1000.0);
    metric(b, "redsink_last_ack_age_seconds", "gauge",
           "Seconds since the last REPLCONF ACK to the master (-1: never).");
    buf_printf(b, "redsink_last_ack_age_seconds %.3f\n",
               st->last_ack_at ? (double)(rs_now_ms() - st->last_ack_at) / 1000.0 : -1.0);
    metric(b, "redsink_keys_loaded", "gauge", "Keys loaded by the last (or current) full sync.");
    buf_printf(b, "redsink_keys_loaded %lld\n", (long long)st->keys_loaded);
    metric(b, "redsink_full_sync_in_progress", "gauge", "1 while a full sync is loading.");
    buf_printf(b, "redsink_full_sync_in_progress %d\n", st->sync_t0 != 0);
    metric(b, "redsink_full_syncs_total", "counter",
           "Full syncs completed (snapshot loaded and swapped in).");
    buf_printf(b, "redsink_full_syncs_total %llu\n", (unsigned long long)st->full_syncs);
    metric(b, "redsink_full_syncs_aborted_total", "counter",
           "Full syncs that ended before the snapshot was loaded.");
    buf_printf(b, "redsink_full_syncs_aborted_total %llu\n",
               (unsigned long long)st->full_syncs_aborted);
    metric(b, "redsink_full_sync_duration_seconds_total", "counter",
           "Time spent in completed full syncs (PSYNC reply to streaming).");
    buf_printf(b, "redsink_full_sync_duration_seconds_total %.3f\n", st->full_sync_seconds);
    metric(b, "redsink_last_full_sync_duration_seconds", "gauge",
           "Duration of the last completed full sync.");
    buf_printf(b, "redsink_last_full_sync_duration_seconds %.3f\n", st->last_full_sync_seconds);
    metric(b, "redsink_unknown_commands_total", "counter",
           "Commands from the master that redsink does not know (logged, skipped).");
    buf_printf(b, "redsink_unknown_commands_total %lld\n", (long long)st->unknown_total);
    if (st->sink_name[0])
        prom_sink(st, b);
    metric(b, "redsink_reconnects_total", "counter",
           "Sessions with the master that ended and were retried, by reason.");
    for (int r = 0; r < N_REASONS; r++)
        buf_printf(b, "redsink_reconnects_total{reason=\"%s%s\"} %llu\n",
                   reason_names[r] ? reason_names[r] : st->sink_name,
                   reason_names[r] ? "" : "_error", (unsigned long long)st->reconnects[r]);
}

char *status_prometheus(struct status *st, size_t *len)
{
    struct buf b = { malloc(8192), 0, 8192, 1, 0 };
    uint64_t other;

    if (b.p == NULL)
        return NULL;
    pthread_mutex_lock(&st->mu);
    prom_record(st, &b);
    pthread_mutex_unlock(&st->mu);
    metric(&b, "redsink_commands_applied_total", "counter",
           "Commands from the master applied to the mirror, by command name.");
    for (size_t i = 0; i < CMD_SLOTS; i++) {
        const char *name = atomic_load_explicit(&st->cmds[i].name, memory_order_acquire);

        if (name)
            buf_printf(&b, "redsink_commands_applied_total{command=\"%s\"} %llu\n", name,
                       (unsigned long long)atomic_load_explicit(&st->cmds[i].n,
                                                                memory_order_relaxed));
    }
    other = atomic_load_explicit(&st->cmds_other, memory_order_relaxed);
    if (other)
        buf_printf(&b, "redsink_commands_applied_total{command=\"other\"} %llu\n",
                   (unsigned long long)other);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

/* ------------------------------------------------------------------ */
/* redsink status                                                      */
/* ------------------------------------------------------------------ */

struct unknown_list {
    char text[512];
    size_t len;
};

static void collect_unknown(void *ud, const char *name, int64_t count)
{
    struct unknown_list *u = ud;
    int n = snprintf(u->text + u->len, sizeof(u->text) - u->len, "%s%s (%lld)",
                     u->len ? ", " : "", name ? name : "?", (long long)count);

    if (n > 0 && (size_t)n < sizeof(u->text) - u->len)
        u->len += (size_t)n;
}

/* "12 s ago" for a unix-ms time, "never" for none. */
static const char *age(char *out, size_t cap, int64_t at_ms)
{
    int64_t s;

    if (at_ms <= 0)
        return "never";
    s = (rs_now_ms() - at_ms) / 1000;
    if (s < 120)
        snprintf(out, cap, "%lld s ago", (long long)(s < 0 ? 0 : s));
    else if (s < 7200)
        snprintf(out, cap, "%lld min ago", (long long)(s / 60));
    else
        snprintf(out, cap, "%lld h ago", (long long)(s / 3600));
    return out;
}

static void print_row(const char *path, const struct sink_status *r,
                      const struct unknown_list *u)
{
    char a1[32], a2[32];

    printf("mirror:           %s\n", path);
    printf("state:            %s%s%s\n", r->state[0] ? r->state : "?",
           r->detail[0] ? " - " : "", r->detail);
    if (r->master_host[0])
        printf("master:           %s:%lld\n", r->master_host, (long long)r->master_port);
    else
        printf("master:           unknown\n");
    printf("master_replid:    %s\n", r->master_replid[0] ? r->master_replid : "(none)");
    printf("offset:           %lld\n", (long long)r->offset);
    if (r->read_offset >= 0)
        printf("read_offset:      %lld (at the last progress update)\n",
               (long long)(r->read_offset > r->offset ? r->read_offset : r->offset));
    printf("db:               %lld\n", (long long)r->db);
    printf("last update:      %s\n", age(a1, sizeof(a1), r->updated_at));
    printf("last ACK:         %s\n", age(a2, sizeof(a2), r->last_ack_at));
    if (r->lag_bytes >= 0)
        printf("lag:              %lld bytes, %lld ms\n", (long long)r->lag_bytes,
               (long long)(r->lag_ms < 0 ? 0 : r->lag_ms));
    printf("keys_loaded:      %lld\n", (long long)r->keys_loaded);
    if (strcmp(r->state, "syncing") == 0 && r->bytes_received >= 0) {
        printf("snapshot:         %lld", (long long)r->bytes_received);
        if (r->bytes_total > 0)
            printf(" of %lld", (long long)r->bytes_total);
        printf(" bytes received, %.0f keys/s\n", r->keys_per_sec < 0 ? 0 : r->keys_per_sec);
    }
    printf("commands_applied: %lld\n", (long long)r->commands_applied);
    printf("unknown_commands: %lld%s%s\n", (long long)r->unknown_commands,
           u->len ? ": " : "", u->text);
}

int status_main(int argc, char **argv)
{
    const char *path = NULL;
    struct sink_status row;
    struct unknown_list u = { "", 0 };
    struct rs_error err = { 0 };

    for (int i = 1; i < argc; i++) {
        if (!cfg_sink_arg(argc, argv, &i, &path)) {
            fprintf(stderr, "redsink: status: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (path == NULL) {
        fprintf(stderr, "redsink: usage: redsink status %s\n", cfg_sink_usage);
        return 2;
    }
    if (sink_read_status(cfg_sink_name, path, &row, collect_unknown, &u, &err) != 0) {
        fprintf(stderr, "redsink: %s\n", err.msg);
        return 1;
    }
    print_row(path, &row, &u);
    return 0;
}
