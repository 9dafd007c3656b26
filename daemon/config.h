/*
 * config.h - redsink's settings: the libconfig file (-c FILE), then the
 * command line on top. Read-only once loaded (main.c owns it).
 *
 * The file's layout (etc/redsink.conf is the commented example; every
 * setting is optional and has the default shown):
 *
 *   master: {
 *     host = "127.0.0.1"; port = 6379;
 *     user = ""; password = ""; password_file = "";   # AUTH
 *     connect_timeout = 5.0;                          # seconds, TCP connect + each handshake reply
 *     timeout = 60;                                   # seconds without data nor PING: drop the link
 *     tls: { enabled = false; ca_file = ""; ca_dir = ""; cert_file = ""; key_file = "";
 *            server_name = ""; verify = true; };
 *   };
 *   replica: {
 *     listening_port = 0;          # announced with REPLCONF listening-port; the status
 *     bind = "127.0.0.1";          #   endpoint (PING, INFO) listens there when > 0
 *     ack_interval = 1.0;          # seconds between REPLCONF ACKs
 *   };
 *   sqlite: { path = LOCALSTATEDIR "/lib/redsink/mirror.db"; synchronous = "normal"; batch_commands = 10000; batch_ms = 5; };
 *   filter: { databases = [ ]; include = [ ]; exclude = [ ]; };   # empty: everything
 *   unknown_commands = "log";      # or "stop" (same as --strict)
 *   metrics: { port = 0; bind = "127.0.0.1"; };   # Prometheus GET /metrics when port > 0
 *   log: { level = "info"; file = ""; syslog = false; };
 *   daemon: { daemonize = false; pidfile = ""; user = ""; };
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
    /* sqlite */
    char *sqlite_path;
    char *synchronous;           /* "off", "normal", "full" */
    int batch_commands, batch_ms;
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
