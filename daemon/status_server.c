/*
 * status_server.c - the RESP status endpoint: INFO, ROLE, PING and what
 * Sentinel and redis-cli ask of a replica, answered from the record
 * (status_int.h).
 *
 * The endpoint answers one command at a time per client; it keeps no
 * state beyond a client's unparsed input (read with resp.c's reader), and
 * everything it does not know gets -ERR. It is not Redis: no keyspace, no
 * AUTH, no pub/sub beyond the replies Sentinel needs to carry on.
 *
 * Reading order: info_*(), then the server (server_main, client_serve,
 * dispatch).
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"     /* autoconf's (PACKAGE_VERSION) */
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "resp.h"
#include "shipper.h"
#include "status_int.h"

#define MAX_CLIENTS 32
#define CLIENT_BUF 16384
#define MAX_ARGS 16

/* ------------------------------------------------------------------ */
/* INFO                                                                */
/* ------------------------------------------------------------------ */

static void info_server(struct status *st, struct buf *b, int port)
{
    status_printf(b, "# Server\r\nredsink_version:%s\r\nredis_mode:standalone\r\n"
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

    status_printf(b, "# Replication\r\nrole:slave\r\nmaster_host:%s\r\nmaster_port:%d\r\n"
               "master_link_status:%s\r\nmaster_last_io_seconds_ago:%lld\r\n"
               "master_sync_in_progress:%d\r\nslave_read_repl_offset:%lld\r\n"
               "slave_repl_offset:%lld\r\n", st->host, st->port, up ? "up" : "down",
               st->last_io ? (long long)((now - st->last_io) / 1000) : -1LL, syncing,
               (long long)(st->read_offset < 0 ? 0 : st->read_offset),
               (long long)(st->committed < 0 ? 0 : st->committed));
    if (syncing && st->full) {
        uint64_t left = st->payload_total > st->payload ? st->payload_total - st->payload : 0;

        status_printf(b, "master_sync_total_bytes:%lld\r\nmaster_sync_read_bytes:%llu\r\n"
                   "master_sync_left_bytes:%lld\r\nmaster_sync_perc:%.2f\r\n",
                   st->payload_total ? (long long)st->payload_total : -1LL,
                   (unsigned long long)st->payload, st->payload_total ? (long long)left : -1LL,
                   st->payload_total ? 100.0 * (double)st->payload / (double)st->payload_total
                                     : 0.0);
    }
    if (!up)
        status_printf(b, "master_link_down_since_seconds:%lld\r\n",
                   (long long)((now - st->down_since) / 1000));
    /* priority 0: a Sentinel never promotes redsink (it has no keyspace
     * to serve); read-only and announced, like a normal replica. */
    status_printf(b, "slave_priority:0\r\nslave_read_only:1\r\nreplica_announced:1\r\n"
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

    status_printf(b, "# Redsink\r\nstate:%s\r\nkeys_loaded:%lld\r\ncommands_applied:%lld\r\n"
               "unknown_commands:%lld\r\nlag_bytes:%lld\r\nlag_ms:%lld\r\n"
               "last_ack_seconds_ago:%lld\r\nsync_keys_per_sec:%.0f\r\n",
               link_state_name(st->state),
               (long long)st->keys_loaded, (long long)st->commands_applied,
               (long long)st->unknown_commands, (long long)status_lag_bytes(st),
               (long long)status_lag_ms(st, now),
               st->last_ack_at ? (long long)((rs_now_ms() - st->last_ack_at) / 1000) : -1LL,
               st->keys_per_sec);
    if (st->shipper) {
        struct ship_status sh;

        status_ship_locked(st, &sh);
        status_printf(b, "postgres_state:%s\r\npostgres_offset:%lld\r\npostgres_lag_bytes:%lld"
                      "\r\npostgres_lag_ms:%lld\r\npostgres_copies:%lld\r\npostgres_error:%s"
                      "\r\n", sh.state, (long long)sh.offset, (long long)sh.lag_bytes,
                      (long long)sh.lag_ms, (long long)sh.copies, sh.error);
    }
    status_printf(b, "\r\n");
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

void status_server_stop(struct status *st)
{
    if (st->running) {
        (void)!write(st->wake[1], "s", 1);
        pthread_join(st->tid, NULL);
        st->running = 0;
    }
    if (st->listen_fd >= 0)
        close(st->listen_fd);
    st->listen_fd = -1;
    if (st->wake[0] >= 0) {
        close(st->wake[0]);
        close(st->wake[1]);
    }
    st->wake[0] = st->wake[1] = -1;
}
