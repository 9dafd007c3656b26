/*
 * main.c - command line, signals and the reconnect loop: wiring only.
 *
 *   redsink [-c FILE] [--master HOST:PORT] [MIRROR] [options]
 *   redsink import FILE.rdb MIRROR                         load an RDB file
 *
 * MIRROR is the option naming the mirror (cfg_sink_usage, config.c). The
 * settings come from the configuration file (config.c), then the command
 * line on top; settings_to_opts() turns them into the options of link.c,
 * the applier and the sink. The protocol lives in link.c, the data in the
 * sink; this file decides what runs and when to retry.
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"     /* autoconf's; "config.h" is the settings header */
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

#include "config.h"
#include "daemon.h"
#include "filter.h"
#include "link.h"
#include "loader.h"
#include "log.h"
#include "sink.h"
#include "metrics.h"
#include "status.h"
#include "vkcs.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

static volatile sig_atomic_t stop_requested;

struct options {
    struct cfg cfg;            /* the settings: file, then command line */
    struct link_opts link;     /* borrows strings from cfg */
    const char *mirror;        /* the sink's target: cfg.sink.target, made absolute */
    int check_only;            /* --check-config */
    struct key_filter *filter; /* from filter.*, NULL: everything */
    struct daemon_opts daemon; /* from daemon.* (strings borrowed from cfg) */
};

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: redsink [-c FILE] [--master HOST:PORT] [%s] [options]\n"
        "       redsink import FILE.rdb %s\n"
        "       redsink status %s\n"
        "       redsink --help | --version\n"
        "\n"
        "Attach to a Redis master as a replica and mirror its keyspace into %s.\n"
        "\n"
        "  -c, --config FILE        libconfig settings file (default " CFG_DEFAULT_FILE
        "\n                           when it exists); the options below override it\n"
        "  --master HOST:PORT       master to replicate (default 127.0.0.1:6379)\n"
        "%s"
        "  --master-user NAME       ACL user for AUTH (Redis 6+)\n"
        "  --master-password PASS   password for AUTH (visible in ps: prefer the file)\n"
        "  --master-password-file FILE  read the password from FILE\n"
        "  --strict                 stop on a command redsink cannot apply\n"
        "  --timeout SECONDS        drop a silent master link after this (default 60)\n"
        "  --listening-port PORT    announce PORT to the master and answer PING/INFO/ROLE\n"
        "                           on the replica.bind address (default 127.0.0.1) at\n"
        "                           PORT (default 0: none; Sentinel then cannot reach it)\n"
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
        "  --metrics-port PORT      serve Prometheus metrics at http://BIND:PORT/metrics\n"
        "                           (default 0: none)\n"
        "  --metrics-bind ADDR      address for --metrics-port (default 127.0.0.1)\n"
        "  --log-level LEVEL        error, warning, info (default) or debug\n"
        "  --log-file FILE          log there instead of stderr (reopened on SIGHUP)\n"
        "  --syslog                 log to syslog (facility daemon)\n"
        "  --daemonize              run in the background (logs to syslog without --log-file)\n"
        "  --pidfile FILE           write the pid there, locked while running\n"
        "  --user NAME              switch to user NAME once the files are open\n"
        "  --check-config           check the settings, print 'configuration OK', exit\n"
        "  -h, --help               show this help\n"
        "  -V, --version            show the version\n",
        cfg_sink_usage, cfg_sink_usage, cfg_sink_usage, cfg_sink_kind, cfg_sink_help);
}

/* Replace a string setting with a copy of 'v'. */
static int set_opt(char **dst, const char *v)
{
    char *copy = strdup(v);

    if (copy == NULL) {
        fprintf(stderr, "redsink: out of memory\n");
        return -1;
    }
    free(*dst);
    *dst = copy;
    return 0;
}

/* "HOST:PORT", "HOST" or "[v6]:PORT". */
static int parse_master(const char *arg, struct cfg *c)
{
    const char *colon = strrchr(arg, ':');
    const char *host = arg;
    size_t hlen = colon ? (size_t)(colon - arg) : strlen(arg);
    char *end, *h;
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
    if (hlen == 0 || (h = strndup(host, hlen)) == NULL)
        return -1;
    free(c->host);
    c->host = h;
    c->port = (int)port;
    return 0;
}

/* An integer option in [lo, hi]; -1 with a one-line reason otherwise. */
static int int_opt(const char *name, const char *arg, long lo, long hi, const char *unit,
                   int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "redsink: bad --%s '%s': expected %ld..%ld%s\n", name, arg, lo, hi,
                unit);
        return -1;
    }
    *out = (int)v;
    return 0;
}

enum {
    OPT_MASTER = 256, OPT_MIRROR, OPT_USER, OPT_PASSWORD, OPT_PASSWORD_FILE, OPT_STRICT,
    OPT_TIMEOUT, OPT_LOG_LEVEL, OPT_LOG_FILE, OPT_DAEMONIZE, OPT_PIDFILE,
    OPT_LISTENING_PORT, OPT_CHECK_CONFIG, OPT_SYSLOG, OPT_RUN_USER, OPT_TLS, OPT_TLS_CA_FILE,
    OPT_TLS_CA_DIR, OPT_TLS_CERT_FILE, OPT_TLS_KEY_FILE, OPT_TLS_SERVER_NAME, OPT_TLS_NO_VERIFY,
    OPT_DB, OPT_INCLUDE, OPT_EXCLUDE, OPT_METRICS_PORT, OPT_METRICS_BIND
};

static const struct option longopts[] = {
    { "config", required_argument, NULL, 'c' },
    { "master", required_argument, NULL, OPT_MASTER },
    { cfg_sink_option, required_argument, NULL, OPT_MIRROR },
    { "master-user", required_argument, NULL, OPT_USER },
    { "master-password", required_argument, NULL, OPT_PASSWORD },
    { "master-password-file", required_argument, NULL, OPT_PASSWORD_FILE },
    { "strict", no_argument, NULL, OPT_STRICT },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "log-file", required_argument, NULL, OPT_LOG_FILE },
    { "daemonize", no_argument, NULL, OPT_DAEMONIZE },
    { "pidfile", required_argument, NULL, OPT_PIDFILE },
    { "listening-port", required_argument, NULL, OPT_LISTENING_PORT },
    { "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
    { "syslog", no_argument, NULL, OPT_SYSLOG },
    { "user", required_argument, NULL, OPT_RUN_USER },
    { "tls", no_argument, NULL, OPT_TLS },
    { "tls-ca-file", required_argument, NULL, OPT_TLS_CA_FILE },
    { "tls-ca-dir", required_argument, NULL, OPT_TLS_CA_DIR },
    { "tls-cert-file", required_argument, NULL, OPT_TLS_CERT_FILE },
    { "tls-key-file", required_argument, NULL, OPT_TLS_KEY_FILE },
    { "tls-server-name", required_argument, NULL, OPT_TLS_SERVER_NAME },
    { "tls-no-verify", no_argument, NULL, OPT_TLS_NO_VERIFY },
    { "db", required_argument, NULL, OPT_DB },
    { "include", required_argument, NULL, OPT_INCLUDE },
    { "exclude", required_argument, NULL, OPT_EXCLUDE },
    { "metrics-port", required_argument, NULL, OPT_METRICS_PORT },
    { "metrics-bind", required_argument, NULL, OPT_METRICS_BIND },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 }
};
#define SHORTOPTS "c:hV"

/* Append a copy of 'v' to a string list of the settings. */
static int add_str(char ***list, int *n, const char *v)
{
    char **nl = realloc(*list, (size_t)(*n + 1) * sizeof(**list));

    if (nl == NULL)
        return -1;
    *list = nl;
    if ((nl[*n] = strdup(v)) == NULL)
        return -1;
    (*n)++;
    return 0;
}

static int add_db(struct cfg *c, const char *arg)
{
    int *nd, v;

    if (int_opt("db", arg, 0, (1L << 30) - 1, "", &v) != 0)
        return -1;
    if ((nd = realloc(c->databases, (size_t)(c->n_databases + 1) * sizeof(*nd))) == NULL)
        return -1;
    c->databases = nd;
    nd[c->n_databases++] = v;
    return 0;
}

/* One command-line option on top of the file's settings. */
static int take_option(int opt, const char *arg, struct options *o)
{
    struct cfg *c = &o->cfg;

    switch (opt) {
    case 'c':
        return 0;                                /* read by load_config_file */
    case OPT_MASTER:
        if (parse_master(arg, c) != 0) {
            fprintf(stderr, "redsink: bad --master '%s': expected HOST:PORT\n", arg);
            return -1;
        }
        return 0;
    case OPT_MIRROR: return set_opt(&c->sink.target, arg);
    case OPT_USER: return set_opt(&c->user, arg);
    case OPT_PASSWORD:                           /* overrides a password_file too */
        return set_opt(&c->password, arg) || set_opt(&c->password_file, "");
    case OPT_PASSWORD_FILE:
        free(c->password_file_origin);
        c->password_file_origin = NULL;
        return set_opt(&c->password_file, arg);
    case OPT_STRICT: c->strict = 1; return 0;
    case OPT_TIMEOUT: return int_opt("timeout", arg, 1, 3600, " seconds", &c->timeout);
    case OPT_LOG_LEVEL:
        if (log_level_parse(arg) < 0) {
            fprintf(stderr, "redsink: bad --log-level '%s': expected error, warning, "
                    "info or debug\n", arg);
            return -1;
        }
        return set_opt(&c->log_level, arg);
    case OPT_LOG_FILE: return set_opt(&c->log_file, arg);
    case OPT_DAEMONIZE: c->daemonize = 1; return 0;
    case OPT_PIDFILE: return set_opt(&c->pidfile, arg);
    case OPT_LISTENING_PORT:
        return int_opt("listening-port", arg, 0, 65535, "", &c->listening_port);
    case OPT_CHECK_CONFIG: o->check_only = 1; return 0;
    case OPT_SYSLOG: c->log_syslog = 1; return 0;
    case OPT_RUN_USER: return set_opt(&c->user_name, arg);
    case OPT_TLS: c->tls.enabled = 1; return 0;
    case OPT_TLS_CA_FILE: return set_opt(&c->tls.ca_file, arg);
    case OPT_TLS_CA_DIR: return set_opt(&c->tls.ca_dir, arg);
    case OPT_TLS_CERT_FILE: return set_opt(&c->tls.cert_file, arg);
    case OPT_TLS_KEY_FILE: return set_opt(&c->tls.key_file, arg);
    case OPT_TLS_SERVER_NAME: return set_opt(&c->tls.server_name, arg);
    case OPT_TLS_NO_VERIFY: c->tls.verify = 0; return 0;
    case OPT_DB: return add_db(c, arg);
    case OPT_INCLUDE: return add_str(&c->include, &c->n_include, arg);
    case OPT_EXCLUDE: return add_str(&c->exclude, &c->n_exclude, arg);
    case OPT_METRICS_PORT: return int_opt("metrics-port", arg, 0, 65535, "", &c->metrics_port);
    case OPT_METRICS_BIND: return set_opt(&c->metrics_bind, arg);
    case 'h': usage(stdout); exit(0);
    case 'V': printf("redsink %s\n", PACKAGE_VERSION); exit(0);
    default:
        usage(stderr);
        return -1;
    }
}

/* First pass over argv: --help, --version, and which file to read (-c,
 * or the default one when it exists). */
static int load_config_file(int argc, char **argv, struct options *o)
{
    struct rs_error err = { 0 };
    const char *file = NULL;
    int c;

    opterr = 0;                      /* the second pass reports bad options */
    while ((c = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1) {
        if (c == 'c')
            file = optarg;
        else if (c == 'h' || c == 'V')
            take_option(c, optarg, o);   /* exits */
    }
    if (file == NULL && access(CFG_DEFAULT_FILE, F_OK) == 0)
        file = CFG_DEFAULT_FILE;
    if (file != NULL && cfg_load_file(&o->cfg, file, &err) != 0) {
        fprintf(stderr, "redsink: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* The file, then the command line on top, then the checks of the whole. */
static int parse_args(int argc, char **argv, struct options *o)
{
    struct rs_error err = { 0 };
    int c;

    if (load_config_file(argc, argv, o) != 0)
        return -1;
    optind = 0;                      /* GNU: start over */
    opterr = 1;
    while ((c = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1)
        if (take_option(c, optarg, o) != 0)
            return -1;
    if (optind < argc) {
        fprintf(stderr, "redsink: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (cfg_finish(&o->cfg, &err) != 0) {
        fprintf(stderr, "redsink: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/*
 * The settings into the options of each part. Strings are borrowed from
 * o->cfg, which lives as long as the daemon.
 */
static const char *or_null(const char *s)
{
    return s && *s ? s : NULL;
}

static int settings_to_opts(struct options *o)
{
    const struct cfg *c = &o->cfg;

    /* master */
    o->link.host = c->host;
    o->link.port = c->port;
    o->link.user = *c->user ? c->user : NULL;
    o->link.password = *c->password ? c->password : NULL;
    o->link.timeout_ms = c->timeout * 1000;
    o->link.connect_timeout_ms = (int)(c->connect_timeout * 1000 + 0.5);
    o->link.tls.enabled = c->tls.enabled;
    o->link.tls.ca_file = or_null(c->tls.ca_file);
    o->link.tls.ca_dir = or_null(c->tls.ca_dir);
    o->link.tls.cert_file = or_null(c->tls.cert_file);
    o->link.tls.key_file = or_null(c->tls.key_file);
    o->link.tls.server_name = or_null(c->tls.server_name);
    o->link.tls.no_verify = !c->tls.verify;

    /* replica */
    o->link.listening_port = c->listening_port;
    /* replica.bind: the status endpoint's address (run_daemon) */
    o->link.ack_interval_ms = (int)(c->ack_interval * 1000 + 0.5);

    /* the mirror; its options are set on the sink once it is open (run_daemon) */
    o->mirror = c->sink.target;
    o->link.apply.batch_max_cmds = c->batch_commands;
    o->link.apply.batch_max_ms = c->batch_ms;

    if (c->n_databases || c->n_include || c->n_exclude) {
        struct rs_error ferr = { 0 };

        o->filter = filter_new(c->databases, c->n_databases, c->include, c->n_include,
                               c->exclude, c->n_exclude, &ferr);
        if (o->filter == NULL) {
            fprintf(stderr, "redsink: %s\n", ferr.msg);
            return -1;
        }
        o->link.apply.filter = o->filter;
    }

    /* behaviour */
    o->link.apply.strict = c->strict;

    /* log */
    log_set_level((enum log_level)log_level_parse(c->log_level));
    /* log.file, log.syslog: opened in main() once the settings are final */

    o->daemon.daemonize = c->daemonize;
    o->daemon.pidfile = or_null(c->pidfile);
    o->daemon.user = or_null(c->user_name);
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

/* A VKCS file's decompressed bytes, into the loader. */
struct import_feed {
    struct loader *ld;
    enum rs_status st;
    struct rs_error *err;
};

static int import_out(void *ud, const char *p, size_t n)
{
    struct import_feed *f = ud;

    f->st = loader_feed(f->ld, p, n, NULL, f->err);
    return f->st != RS_AGAIN;
}

/* What the sink reports (struct sink_event), logged. */
static void log_sink_event(void *ud, const struct sink_event *ev)
{
    (void)ud;
    if (ev->kind == SINK_EV_LOCK_WAIT)
        log_msg(RS_LOG_WARN, "'%s' is locked by another process; waiting for it "
                "(nothing new is committed or acknowledged meanwhile)", ev->target);
    else if (ev->kind == SINK_EV_LOCK_END)
        log_msg(RS_LOG_INFO, "'%s' is unlocked after %.1f s; applying again", ev->target,
                ev->seconds);
}

/* One chunk of the file into the loader, through the VKCS decompressor
 * when the file is one (seen in its first chunk). */
static enum rs_status import_chunk(struct loader *ld, struct vkcs **z, int first,
                                   const char *buf, size_t n, struct rs_error *err)
{
    struct import_feed f = { ld, RS_AGAIN, err };

    if (first && vkcs_sniff(buf, n) && (*z = vkcs_new()) == NULL) {
        rs_fail(err, RS_E_NOMEM, "out of memory");
        return RS_ERROR;
    }
    if (*z == NULL)
        return loader_feed(ld, buf, n, NULL, err);
    if (vkcs_feed(*z, buf, n, import_out, &f, err) < 0)
        return RS_ERROR;
    return f.st;
}

/* Read the file into the loader to the end of its RDB. 0, or -1 with err set. */
static int import_read(struct loader *ld, int fd, const char *file, char *buf,
                       struct rs_error *err)
{
    struct vkcs *z = NULL;         /* Valkey 9.2 LZ4-compressed file */
    enum rs_status st = RS_AGAIN;
    int first = 1, rc = -1;

    while (st == RS_AGAIN) {
        ssize_t n = read(fd, buf, 1 << 16);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rs_fail(err, RS_E_IO, "cannot read '%s': %s", file, strerror(errno));
            goto out;
        }
        if (n == 0) {
            if (z == NULL || vkcs_finish(z, err) == 0)
                loader_truncated(ld, err);
            goto out;
        }
        st = import_chunk(ld, &z, first, buf, (size_t)n, err);
        first = 0;
    }
    rc = st == RS_ERROR ? -1 : 0;
out:
    vkcs_free(z);
    return rc;
}

static int import_file(const char *file, const char *target)
{
    struct rs_error err = { 0 };
    struct repl_pos pos = { "", -1, 0 };
    struct sink *sink = NULL;
    struct loader ld;
    char *buf = malloc(1 << 16);
    int fd = open(file, O_RDONLY | O_CLOEXEC), rc = 1;

    loader_init(&ld, NULL);
    if (fd < 0 || buf == NULL) {
        fprintf(stderr, "redsink: cannot open '%s': %s\n", file, strerror(errno));
        goto out;
    }
    if ((sink = sink_open_events(cfg_sink_name, target, log_sink_event, NULL, &err)) == NULL ||
        loader_begin(&ld, sink, NULL, &err) != 0 || import_read(&ld, fd, file, buf, &err) != 0 ||
        loader_commit(&ld, &pos, &err) != 0) {
        fprintf(stderr, "redsink: import '%s' failed: %s\n", file, err.msg);
        goto out;
    }
    printf("imported %lld keys from '%s' into '%s'\n", (long long)ld.keys, file, target);
    rc = 0;
out:
    loader_end(&ld);
    sink_close(sink);
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

static int cmd_import(int argc, char **argv)
{
    const char *file = NULL, *target = NULL;

    for (int i = 1; i < argc; i++) {
        if (cfg_sink_arg(argc, argv, &i, &target))
            continue;
        if (argv[i][0] != '-' && file == NULL)
            file = argv[i];
        else {
            fprintf(stderr, "redsink: import: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (file == NULL || target == NULL) {
        fprintf(stderr, "redsink: usage: redsink import FILE.rdb %s\n", cfg_sink_usage);
        return 2;
    }
    return import_file(file, target);
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

/* link.c: the master accepted PSYNC/SYNC, or the session made progress. */
static void on_link_up(void *ud, enum link_up how)
{
    struct retry *rt = ud;

    if (how == LINK_UP_PROGRESS) {
        rt->progressed = 1;
        return;
    }
    if (rt->attempts > 0 && !rt->announced)
        log_msg(RS_LOG_INFO, "link to the master is back after %d attempt%s (%s)",
                rt->attempts, rt->attempts == 1 ? "" : "s", link_up_name(how));
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

/* The metrics' commit latency: the sink's commit, timed, through a copy
 * of its function table. (systemd hears of the link's state from
 * link_state_publish(), link_state.c.) */
static const struct sink_ops *sink_ops_orig;
static struct sink_ops sink_ops_timed;

static struct status *commit_status;

static int timed_commit(struct sink *s, const struct repl_pos *pos,
                        const struct sink_stats *stats)
{
    struct timespec t0, t1;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = sink_ops_orig->commit(s, pos, stats);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc == 0)
        status_commit_time(commit_status, (double)(t1.tv_sec - t0.tv_sec) +
                                          (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return rc;
}

static char *render_metrics(void *ud, size_t *len)
{
    return status_prometheus(ud, len);
}

/* The sink's settings (cfg_sink.options), by name. 0, or -1 with s->err. */
static int set_sink_options(struct sink *s, const struct cfg_sink *m)
{
    for (int i = 0; i < CFG_SINK_OPTIONS; i++)
        if (s->ops->set_option(s, m->options[i].name, m->options[i].value) != 0)
            return -1;
    return 0;
}

static int run_daemon(struct options *o)
{
    struct rs_error err = { 0 };
    struct sink *sink = sink_open_events(o->cfg.sink.name, o->mirror, log_sink_event, NULL,
                                         &err);
    char *dir = dir_of(o->mirror);
    struct retry rt = { 0 };
    struct metrics *metrics = NULL;
    int rc = 0;

    if (sink == NULL || dir == NULL) {
        fprintf(stderr, "redsink: %s\n", sink ? "out of memory" : err.msg);
        free(dir);
        sink_close(sink);
        return 1;
    }
    if (set_sink_options(sink, &o->cfg.sink) != 0) {
        fprintf(stderr, "redsink: %s\n", sink->err.msg);
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
    sink_ops_timed = *sink->ops;
    sink->ops = &sink_ops_timed;
    o->link.spool_dir = dir;
    sink->stop = &stop_requested;   /* a lock wait in the sink ends on SIGTERM */
    o->link.on_up = on_link_up;
    o->link.ud = &rt;
    o->link.status = status_new(o->link.host, o->link.port);
    status_set_mirror(o->link.status, sink->ops->name, o->mirror);
    commit_status = o->link.status;
    sink_ops_timed.commit = timed_commit;
    o->link.apply.on_command = status_count_command;
    o->link.apply.on_command_ud = o->link.status;
    if (o->link.listening_port > 0 && o->link.status &&
        status_serve(o->link.status, o->cfg.bind, o->link.listening_port, &err) != 0) {
        log_msg(RS_LOG_ERROR, "%s", err.msg);
        rc = 1;
        stop_requested = 1;
    }
    if (rc == 0 && o->cfg.metrics_port > 0 && o->link.status &&
        (metrics = metrics_start(o->cfg.metrics_bind, o->cfg.metrics_port, render_metrics,
                                 o->link.status, &err)) == NULL) {
        log_msg(RS_LOG_ERROR, "%s", err.msg);
        rc = 1;
        stop_requested = 1;
    }
    log_msg(RS_LOG_INFO, "redsink %s mirroring %s:%d into '%s'", PACKAGE_VERSION,
            o->link.host, o->link.port, o->mirror);
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
        status_reconnect(o->link.status, &err);
        retry_after(&rt, err.msg);
    }
    if (stop_requested) {
        notify_stopping();
        if (rc == 0)
            log_msg(RS_LOG_INFO, "stopped");
    }
    metrics_stop(metrics);
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
    char *abs_mirror = NULL;
    int rc;

    memset(&o, 0, sizeof(o));
    if (argc > 1 && strcmp(argv[1], "import") == 0)
        return cmd_import(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "status") == 0)
        return status_main(argc - 1, argv + 1);

    cfg_init(&o.cfg);
    if (parse_args(argc, argv, &o) != 0) {
        cfg_release(&o.cfg);
        return 2;
    }
    if (settings_to_opts(&o) != 0) {
        filter_free(o.filter);
        cfg_release(&o.cfg);
        return 2;
    }
    if (o.check_only) {
        printf("configuration OK\n");
        filter_free(o.filter);
        cfg_release(&o.cfg);
        return 0;
    }

    /* log destination, pidfile lock, fork (see daemon.h) */
    if (*o.cfg.log_file && log_open_file(o.cfg.log_file, &err) != 0) {
        fprintf(stderr, "redsink: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    if (o.cfg.log_syslog || (o.daemon.daemonize && !*o.cfg.log_file))
        log_open_syslog();
    if (o.daemon.daemonize && (o.mirror = abs_mirror = daemon_abspath(o.mirror)) == NULL) {
        rc = 1;
        goto out;
    }
    if (daemon_prepare(&o.daemon, &err) != 0) {
        fprintf(stderr, "redsink: %s\n", err.msg);
        rc = 1;
        goto out;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)(time(NULL) ^ getpid()));
    rc = run_daemon(&o);
    daemon_finish();
out:
    free(abs_mirror);
    filter_free(o.filter);
    cfg_release(&o.cfg);
    return rc;
}
