/*
 * cli.c - the command line (getopt_long) over the settings file
 * (config.c), and both into the options of each part (cli.h).
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"     /* autoconf's; "config.h" is the settings header */
#endif
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

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
        "  --postgres CONNINFO      also keep the mirror in PostgreSQL (libpq conninfo or\n"
        "                           URI; put the password in postgres.password_file,\n"
        "                           PGPASSFILE or ~/.pgpass, not here: ps shows it)\n"
        "  --postgres-schema NAME   its schema (default redis)\n"
        "  --postgres-ack           REPLCONF ACK only what PostgreSQL has committed too\n"
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
    OPT_DB, OPT_INCLUDE, OPT_EXCLUDE, OPT_METRICS_PORT, OPT_METRICS_BIND, OPT_POSTGRES,
    OPT_POSTGRES_SCHEMA, OPT_POSTGRES_ACK
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
    { "postgres", required_argument, NULL, OPT_POSTGRES },
    { "postgres-schema", required_argument, NULL, OPT_POSTGRES_SCHEMA },
    { "postgres-ack", no_argument, NULL, OPT_POSTGRES_ACK },
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
    case OPT_POSTGRES: return set_opt(&c->pg_conninfo, arg);
    case OPT_POSTGRES_SCHEMA: return set_opt(&c->pg_schema, arg);
    case OPT_POSTGRES_ACK: c->pg_ack = 1; return 0;
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
int cli_parse_args(int argc, char **argv, struct options *o)
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

int cli_settings_to_opts(struct options *o)
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
    o->link.apply.behind_max_cmds = c->catchup_commands;
    o->link.apply.behind_max_ms = c->catchup_ms;
    if (c->pg_conninfo && c->pg_conninfo[0]) {
        /* A shipper round takes whole SQLite transactions: with the
         * PostgreSQL downstream, catch-up batches stay at 100,000 commands
         * and 1 s unless set (doc/postgres.md). */
        if (c->catchup_commands == 0)
            o->link.apply.behind_max_cmds = 100000;
        if (c->catchup_ms == 0)
            o->link.apply.behind_max_ms = 1000;
    }

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
