/*
 * main.c - command line, signals and the reconnect loop: wiring only.
 *
 *   redsink [--master HOST:PORT] --sqlite PATH [options]   mirror a master
 *   redsink import FILE.rdb --sqlite PATH                  load an RDB file
 *
 * The protocol lives in link.c, the data in the sink; this file decides
 * what runs and when to retry.
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"
#include "daemon.h"
#include "link.h"
#include "loader.h"
#include "log.h"
#include "rdb.h"
#include "sink.h"
#include "status.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

static volatile sig_atomic_t stop_requested;

struct options {
    struct link_opts link;
    const char *sqlite;
    char host[256];
    /* --db, --include, --exclude (arrays of argc entries) */
    int *dbs, n_dbs, n_inc, n_exc;
    char **inc, **exc;
    struct key_filter *filter;
    const char *log_file;        /* issue 5; config.c will own these */
    int log_syslog;
    struct daemon_opts daemon;
};

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: redsink [--master HOST:PORT] --sqlite PATH [options]\n"
        "       redsink import FILE.rdb --sqlite PATH\n"
        "       redsink status --sqlite PATH\n"
        "       redsink --help | --version\n"
        "\n"
        "Attach to a Redis master as a replica and mirror its keyspace into SQLite.\n"
        "\n"
        "  --master HOST:PORT       master to replicate (default 127.0.0.1:6379)\n"
        "  --sqlite PATH            the mirror database file\n"
        "  --master-user NAME       ACL user for AUTH (Redis 6+)\n"
        "  --master-password PASS   password for AUTH\n"
        "  --strict                 stop on a command redsink cannot apply\n"
        "  --timeout SECONDS        drop a silent master link after this (default 60)\n"
        "  --listening-port PORT    announce PORT to the master and answer PING/INFO/ROLE\n"
        "                           on 127.0.0.1:PORT (default 0: none; Sentinel then\n"
        "                           cannot reach redsink)\n"
        "  --log-level LEVEL        error, warning, info (default) or debug\n"
        "  --tls                    connect to the master with TLS\n"
        "  --tls-ca-file FILE       CAs to verify the master with (default: the system's)\n"
        "  --tls-ca-dir DIR         directory of CAs (c_rehash layout)\n"
        "  --tls-cert-file FILE     client certificate, for a master that requires one\n"
        "  --tls-key-file FILE      its private key\n"
        "  --tls-server-name NAME   name to verify and send as SNI (default: the host)\n"
        "  --tls-no-verify          do not verify the master's certificate\n"
        "  --db N                   mirror database N only (repeatable; default all)\n"
        "  --include GLOB           mirror only keys matching GLOB (repeatable)\n"
        "  --exclude GLOB           do not mirror keys matching GLOB (repeatable)\n"
        "  --log-file PATH          log to PATH (reopened on SIGHUP) instead of stderr\n"
        "  --syslog                 log to syslog (facility daemon)\n"
        "  --daemonize              run in the background (logs to syslog without --log-file)\n"
        "  --pidfile PATH           write the pid to PATH, locked while running\n"
        "  --user NAME              switch to user NAME once the files are open\n"
        "  -h, --help               show this help\n"
        "  -V, --version            show the version\n");
}

/* "HOST:PORT", "HOST" or "[v6]:PORT". */
static int parse_master(const char *arg, struct options *o)
{
    const char *colon = strrchr(arg, ':');
    const char *host = arg;
    size_t hlen = colon ? (size_t)(colon - arg) : strlen(arg);
    char *end;
    long port = 6379;

    if (colon) {
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (*end || errno || port < 1 || port > 65535)
            return -1;
    }
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof(o->host))
        return -1;
    memcpy(o->host, host, hlen);
    o->host[hlen] = '\0';
    o->link.host = o->host;
    o->link.port = (int)port;
    return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "master", required_argument, NULL, 'm' },
        { "sqlite", required_argument, NULL, 's' },
        { "master-user", required_argument, NULL, 'u' },
        { "master-password", required_argument, NULL, 'p' },
        { "strict", no_argument, NULL, 'S' },
        { "timeout", required_argument, NULL, 't' },
        { "listening-port", required_argument, NULL, 'P' },
        { "log-level", required_argument, NULL, 'l' },
        { "tls", no_argument, NULL, 'T' },
        { "tls-ca-file", required_argument, NULL, 1001 },
        { "tls-ca-dir", required_argument, NULL, 1002 },
        { "tls-cert-file", required_argument, NULL, 1003 },
        { "tls-key-file", required_argument, NULL, 1004 },
        { "tls-server-name", required_argument, NULL, 1005 },
        { "tls-no-verify", no_argument, NULL, 1006 },
        { "db", required_argument, NULL, 'D' },
        { "include", required_argument, NULL, 'I' },
        { "exclude", required_argument, NULL, 'X' },
        { "log-file", required_argument, NULL, 2001 },
        { "syslog", no_argument, NULL, 2002 },
        { "daemonize", no_argument, NULL, 2003 },
        { "pidfile", required_argument, NULL, 2004 },
        { "user", required_argument, NULL, 2005 },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    int c, lvl;
    long v;
    char *end;

    while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (parse_master(optarg, o) != 0) {
                fprintf(stderr, "redsink: bad --master '%s': expected HOST:PORT\n", optarg);
                return -1;
            }
            break;
        case 's': o->sqlite = optarg; break;
        case 'u': o->link.user = optarg; break;
        case 'p': o->link.password = optarg; break;
        case 'S': o->link.apply.strict = 1; break;
        case 't':
            v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 3600) {
                fprintf(stderr, "redsink: bad --timeout '%s': expected 1..3600 seconds\n", optarg);
                return -1;
            }
            o->link.timeout_ms = (int)v * 1000;
            break;
        case 'P':
            v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 65535) {
                fprintf(stderr, "redsink: bad --listening-port '%s': expected 0..65535\n", optarg);
                return -1;
            }
            o->link.listening_port = (int)v;
            break;
        case 'l':
            if ((lvl = log_level_parse(optarg)) < 0) {
                fprintf(stderr, "redsink: bad --log-level '%s': expected error, warning, "
                        "info or debug\n", optarg);
                return -1;
            }
            log_set_level((enum log_level)lvl);
            break;
        case 'T': o->link.tls.enabled = 1; break;
        case 1001: o->link.tls.ca_file = optarg; break;
        case 1002: o->link.tls.ca_dir = optarg; break;
        case 1003: o->link.tls.cert_file = optarg; break;
        case 1004: o->link.tls.key_file = optarg; break;
        case 1005: o->link.tls.server_name = optarg; break;
        case 1006: o->link.tls.no_verify = 1; break;
        case 'D':
            v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 0 || v >= 1L << 30) {
                fprintf(stderr, "redsink: bad --db '%s': expected a database number\n", optarg);
                return -1;
            }
            o->dbs[o->n_dbs++] = (int)v;
            break;
        case 'I': o->inc[o->n_inc++] = optarg; break;
        case 'X': o->exc[o->n_exc++] = optarg; break;
        case 2001: o->log_file = optarg; break;
        case 2002: o->log_syslog = 1; break;
        case 2003: o->daemon.daemonize = 1; break;
        case 2004: o->daemon.pidfile = optarg; break;
        case 2005: o->daemon.user = optarg; break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("redsink %s\n", PACKAGE_VERSION); exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (o->link.user && !o->link.password) {
        fprintf(stderr, "redsink: --master-user needs --master-password\n");
        return -1;
    }
    return 0;
}

/* The directory of the mirror file: the spool lives beside it. */
static char *dir_of(const char *path)
{
    char *copy = strdup(path), *d;

    if (copy == NULL)
        return NULL;
    d = strdup(dirname(copy));
    free(copy);
    return d;
}

/* ------------------------------------------------------------------ */

static int import_file(const char *file, const char *sqlite)
{
    struct rs_error err = { 0 };
    struct repl_pos pos = { "", -1, 0 };
    struct sink *sink = NULL;
    struct rdb_parser *p = NULL;
    struct loader ld;
    char *buf = malloc(1 << 16);
    int fd = open(file, O_RDONLY | O_CLOEXEC), rc = 1, loading = 0;
    enum rs_status st = RS_AGAIN;

    loader_init(&ld, NULL);
    if (fd < 0 || buf == NULL) {
        fprintf(stderr, "redsink: cannot open '%s': %s\n", file, strerror(errno));
        goto out;
    }
    if ((sink = sink_open("sqlite", sqlite, &err)) == NULL)
        goto fail;
    ld.sink = sink;
    if ((p = rdb_parser_new(RDB_MODE_FILE, &loader_handlers, &ld, 0)) == NULL) {
        rs_fail(&err, RS_E_NOMEM, "out of memory");
        goto fail;
    }
    ld.parser = p;
    if (sink->ops->load_begin(sink) != 0)
        goto sink_fail;
    loading = 1;
    while (st == RS_AGAIN) {
        ssize_t n = read(fd, buf, 1 << 16);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rs_fail(&err, RS_E_IO, "cannot read '%s': %s", file, strerror(errno));
            goto fail;
        }
        if (n == 0) {
            rdb_parser_finish(p);
            rs_fail(&err, RS_E_RDB, "%s", rdb_parser_error(p)->msg);
            goto fail;
        }
        st = rdb_parser_feed(p, buf, (size_t)n, NULL);
        if (st == RS_ERROR) {
            rs_fail(&err, RS_E_RDB, "%s", rdb_parser_error(p)->msg);
            goto fail;
        }
    }
    pos.db = ld.stream_db >= 0 ? ld.stream_db : 0;
    if (sink->ops->load_commit(sink, &pos) != 0)
        goto sink_fail;
    loading = 0;
    printf("imported %lld keys from '%s' into '%s'\n", (long long)ld.keys, file, sqlite);
    rc = 0;
    goto out;
sink_fail:
    rs_fail(&err, sink->err.code, "%s", sink->err.msg);
fail:
    fprintf(stderr, "redsink: import '%s' failed: %s\n", file, err.msg);
out:
    if (loading)
        sink->ops->load_abort(sink);
    rdb_parser_free(p);
    loader_release(&ld);
    sink_close(sink);
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

static int cmd_import(int argc, char **argv)
{
    const char *file = NULL, *sqlite = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sqlite") == 0 && i + 1 < argc)
            sqlite = argv[++i];
        else if (strncmp(argv[i], "--sqlite=", 9) == 0)
            sqlite = argv[i] + 9;
        else if (argv[i][0] != '-' && file == NULL)
            file = argv[i];
        else {
            fprintf(stderr, "redsink: import: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (file == NULL || sqlite == NULL) {
        fprintf(stderr, "redsink: usage: redsink import FILE.rdb --sqlite PATH\n");
        return 2;
    }
    return import_file(file, sqlite);
}

/* ------------------------------------------------------------------ */

/* Sleep up to 'ms', waking early on a stop request. */
static void nap(int64_t ms)
{
    int64_t until = rs_mono_ms() + ms;

    while (!stop_requested && rs_mono_ms() < until) {
        struct timespec ts = { 0, 50 * 1000000L };

        nanosleep(&ts, NULL);
    }
}

/* Reconnection state: one log line per change, not one per retry. A
 * streak of failures ends only with a session that stayed up a while, so
 * a fault that recurs right after each PSYNC (a corrupt payload or
 * stream) logs its reason and "back" once, not once per retry. */
struct retry {
    int attempts;          /* failed sessions in this streak */
    int announced;         /* "back" logged in this streak */
    int64_t backoff;       /* ms, capped exponential */
    char last[256];        /* reason last logged */
    int64_t up_at;         /* when the master last accepted us, 0: not this session */
    int progressed;        /* this session committed stream data */
};

/* link.c: the master accepted PSYNC/SYNC. */
static void on_link_up(void *ud, const char *how)
{
    struct retry *rt = ud;

    if (strcmp(how, "progress") == 0) {
        rt->progressed = 1;
        return;
    }
    if (rt->attempts > 0 && !rt->announced)
        log_msg(RS_LOG_INFO, "link to the master is back after %d attempt%s (%s)",
                rt->attempts, rt->attempts == 1 ? "" : "s", how);
    rt->announced = rt->attempts > 0;
    rt->up_at = rs_mono_ms();
}

/* A session ended with 'reason': log it if it is news, and sleep. */
static void retry_after(struct retry *rt, const char *reason)
{
    /* A session that committed stream data, or stayed up a while, ends
     * the streak. */
    if (rt->progressed || (rt->up_at && rs_mono_ms() - rt->up_at > 1000)) {
        rt->attempts = 0;
        rt->announced = 0;
        rt->backoff = 0;
        rt->last[0] = '\0';
    }
    rt->up_at = 0;
    rt->progressed = 0;
    rt->attempts++;
    if (strcmp(rt->last, reason) != 0) {
        log_msg(RS_LOG_WARN, "%s; reconnecting (attempt %d)", reason, rt->attempts);
        snprintf(rt->last, sizeof(rt->last), "%s", reason);
        rt->announced = 0;
    }
    rt->backoff = rt->backoff ? rt->backoff * 2 : 500;
    if (rt->backoff > 30000)
        rt->backoff = 30000;
    nap(rt->backoff / 2 + rand() % (rt->backoff / 2 + 1));
}

/* systemd: STATUS= follows the sink's state row ("connecting", "syncing:
 * ...", "streaming", "error: ..."); READY=1 once the first sync started. */
static const struct sink_ops *sink_ops_orig;
static struct sink_ops sink_ops_notify;

static int notify_set_state(struct sink *s, const char *state, const char *detail)
{
    if (strcmp(state, "syncing") == 0 || strcmp(state, "streaming") == 0)
        notify_ready();
    notify_status("%s%s%s", state, detail ? ": " : "", detail ? detail : "");
    return sink_ops_orig->set_state(s, state, detail);
}

static int run_daemon(struct options *o)
{
    struct rs_error err = { 0 };
    struct sink *sink = sink_open("sqlite", o->sqlite, &err);
    char *dir = dir_of(o->sqlite);
    struct retry rt = { 0 };
    int rc = 0;

    if (sink == NULL || dir == NULL) {
        fprintf(stderr, "redsink: %s\n", sink ? "out of memory" : err.msg);
        free(dir);
        sink_close(sink);
        return 1;
    }
    if (daemon_start(&o->daemon, &err) != 0) {
        fprintf(stderr, "redsink: %s\n", err.msg);
        free(dir);
        sink_close(sink);
        return 1;
    }
    sink_ops_orig = sink->ops;
    sink_ops_notify = *sink->ops;
    sink_ops_notify.set_state = notify_set_state;
    sink->ops = &sink_ops_notify;
    o->link.spool_dir = dir;
    sink->stop = &stop_requested;   /* a lock wait in the sink ends on SIGTERM */
    o->link.on_up = on_link_up;
    o->link.ud = &rt;
    o->link.status = status_new(o->link.host, o->link.port);
    if (o->link.listening_port > 0 && o->link.status &&
        status_serve(o->link.status, "127.0.0.1", o->link.listening_port, &err) != 0) {
        log_msg(RS_LOG_ERROR, "%s", err.msg);
        rc = 1;
        stop_requested = 1;
    }
    log_msg(RS_LOG_INFO, "redsink %s mirroring %s:%d into '%s'", PACKAGE_VERSION,
            o->link.host, o->link.port, o->sqlite);
    while (!stop_requested) {
        rs_error_clear(&err);
        if (link_run(&o->link, sink, &stop_requested, &err) == 0)
            break;
        if (err.code == RS_E_AUTH || err.code == RS_E_CONFIG) {
            log_msg(RS_LOG_ERROR, "%s (configuration error: not retrying)", err.msg);
            rc = 1;
            break;
        }
        /* A stream redsink cannot apply (verbatim scripts, or an unknown
         * command with --strict) would fail again after every full sync:
         * stop, with nothing after it acknowledged. */
        if (err.code == RS_E_UNSUPPORTED) {
            log_msg(RS_LOG_ERROR, "%s (stopping)", err.msg);
            rc = 1;
            break;
        }
        if (err.code == RS_E_SQL && sink->err.code) {
            log_msg(RS_LOG_ERROR, "%s", err.msg);
            rc = 1;
            break;
        }
        retry_after(&rt, err.msg);
    }
    if (stop_requested) {
        notify_stopping();
        if (rc == 0)
            log_msg(RS_LOG_INFO, "stopped");
    }
    status_free(o->link.status);
    sink_close(sink);
    free(dir);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    struct sigaction sa;
    struct rs_error err = { 0 };
    char *abs_sqlite = NULL;
    int rc;

    memset(&o, 0, sizeof(o));
    if (argc > 1 && strcmp(argv[1], "import") == 0)
        return cmd_import(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "status") == 0)
        return status_main(argc - 1, argv + 1);

    strcpy(o.host, "127.0.0.1");
    o.link.host = o.host;
    o.link.port = 6379;
    o.link.timeout_ms = 60000;
    o.link.connect_timeout_ms = 5000;
    o.dbs = calloc((size_t)argc, sizeof(*o.dbs));
    o.inc = calloc((size_t)argc, sizeof(*o.inc));
    o.exc = calloc((size_t)argc, sizeof(*o.exc));
    if (o.dbs == NULL || o.inc == NULL || o.exc == NULL || parse_args(argc, argv, &o) != 0)
        return 2;
    if (o.n_dbs || o.n_inc || o.n_exc) {
        struct rs_error ferr = { 0 };

        o.filter = filter_new(o.dbs, o.n_dbs, o.inc, o.n_inc, o.exc, o.n_exc, &ferr);
        if (o.filter == NULL) {
            fprintf(stderr, "redsink: %s\n", ferr.msg);
            return 2;
        }
        o.link.apply.filter = o.filter;
    }
    if (optind < argc) {
        fprintf(stderr, "redsink: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o.sqlite == NULL) {
        fprintf(stderr, "redsink: --sqlite PATH is required\n");
        return 2;
    }

    /* issue 5: log destination, pidfile lock, fork (see daemon.h) */
    if (o.log_file && log_open_file(o.log_file, &err) != 0) {
        fprintf(stderr, "redsink: %s\n", err.msg);
        return 1;
    }
    if (o.log_syslog || (o.daemon.daemonize && !o.log_file))
        log_open_syslog();
    if (o.daemon.daemonize && (o.sqlite = abs_sqlite = daemon_abspath(o.sqlite)) == NULL)
        return 1;
    if (daemon_prepare(&o.daemon, &err) != 0) {
        fprintf(stderr, "redsink: %s\n", err.msg);
        return 1;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)(time(NULL) ^ getpid()));
    rc = run_daemon(&o);
    daemon_finish();
    free(abs_sqlite);
    return rc;
}
