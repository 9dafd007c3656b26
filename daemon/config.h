/*
 * config.h - redsink's settings: the libconfig file (-c FILE), then the
 * command line on top. Read-only once loaded (main.c owns it).
 *
 * The file's layout is in config.c (and doc/redsink.conf.5). The file
 * and the command line name the mirror's settings after the sink that
 * keeps it; config.c maps those names onto struct cfg_sink, once, so
 * nothing past it knows them.
 *
 * An unknown setting, a wrong type or an out-of-range value is an error
 * naming the file, the line and the setting.
 */
#ifndef RS_CONFIG_H
#define RS_CONFIG_H

#include "common.h"

#define CFG_DEFAULT_FILE SYSCONFDIR "/redsink/redsink.conf"
/* The mirror in the state directory (the systemd unit's StateDirectory
 * when localstatedir is /var, as in the Debian package). */
#define CFG_DEFAULT_MIRROR LOCALSTATEDIR "/lib/redsink/mirror.db"

struct cfg_tls {
    int enabled;
    char *ca_file, *ca_dir, *cert_file, *key_file, *server_name;
    int verify;                  /* verify the master's certificate (default 1) */
};

/* The mirror: which sink keeps it (sink_open's name), where (its target)
 * and the sink's settings, given to it by name (sink_ops.set_option). */
#define CFG_SINK_OPTIONS 1
struct cfg_sink_option {
    const char *name;
    char *value;
};

struct cfg_sink {
    const char *name;
    char *target;
    struct cfg_sink_option options[CFG_SINK_OPTIONS];
};

struct cfg {
    /* master */
    char *host;
    int port;
    char *user, *password, *password_file;
    double connect_timeout;      /* seconds */
    int timeout;                 /* seconds */
    struct cfg_tls tls;
    /* replica */
    int listening_port;          /* 0: announce 0, no status endpoint */
    char *bind;
    double ack_interval;         /* seconds */
    /* metrics: Prometheus endpoint */
    int metrics_port;            /* 0: none */
    char *metrics_bind;
    /* the mirror: sink, target, options */
    struct cfg_sink sink;
    /* the PostgreSQL downstream (sinks/shipper.h); conninfo "": off */
    char *pg_conninfo, *pg_password_file, *pg_schema;
    int pg_outbox_mb;            /* outbox limit, MiB */
    int pg_ack;                  /* REPLCONF ACK waits for PostgreSQL too */
    /* the applier's batches: commands and ms per commit, and while far
     * behind the master (0: automatic, see cli.c) */
    int batch_commands, batch_ms;
    int catchup_commands, catchup_ms;
    /* filter: databases[n_databases] (none: all), include/exclude globs */
    int *databases, n_databases;
    char **include, **exclude;
    int n_include, n_exclude;
    /* behaviour */
    int strict;                  /* unknown_commands = "stop" */
    /* log */
    char *log_level, *log_file;
    int log_syslog;
    /* daemon */
    int daemonize;
    char *pidfile, *user_name;
    /* where the settings came from */
    char *config_file;           /* NULL: none */
    char *password_file_origin;  /* "'FILE' line N: setting 'master.password_file'"
                                  * for errors; NULL: from the command line */
};

/*
 * The command line's names for the mirror, as the contract has them:
 * the sink they select, the long option that sets the target (without
 * "--"), its usage ("--option PATH") and --help lines, and what the mirror
 * is, in words.
 */
extern const char cfg_sink_name[], cfg_sink_option[], cfg_sink_usage[], cfg_sink_help[],
    cfg_sink_kind[];

/* argv[*i] names the mirror's target ("--option PATH" or "--option=PATH",
 * for the subcommands): 1 with *target borrowed from argv and *i on the
 * last word taken; 0 when argv[*i] is something else. */
int cfg_sink_arg(int argc, char **argv, int *i, const char **target);

/* Defaults for every setting. */
void cfg_init(struct cfg *c);
void cfg_release(struct cfg *c);

/* Read a libconfig file on top of 'c'. 0, or -1 with 'err' naming the
 * file, line and setting. Refuses a world-writable file that holds a
 * password. */
int cfg_load_file(struct cfg *c, const char *path, struct rs_error *err);

/* Check the whole configuration (after file and command line): ranges,
 * required settings, readable password_file (its content replaces
 * password). 0, or -1 with err. */
int cfg_finish(struct cfg *c, struct rs_error *err);

#endif
