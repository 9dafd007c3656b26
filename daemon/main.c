/*
 * main.c - command line, signals and the reconnect loop: wiring only.
 *
 *   redsink [-c FILE] [--master HOST:PORT] [MIRROR] [options]
 *   redsink import FILE.rdb MIRROR                         load an RDB file
 *
 * MIRROR is the option naming the mirror (cfg_sink_usage, config.c). The
 * settings come from the configuration file (config.c), then the command
 * line on top (cli.c, which turns them into the options of link.c, the
 * applier and the sink); `import` is import.c, `status` status_cli.c. The
 * protocol lives in link.c, the data in the sink; this file decides what
 * runs and when to retry.
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"     /* autoconf's; "config.h" is the settings header */
#endif
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "import.h"
#include "log.h"
#include "shipper.h"
#include "sink.h"
#include "metrics.h"
#include "status.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
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
static struct shipper *shipper;     /* the PostgreSQL downstream; NULL: none */
static int ack_wake[2] = { -1, -1 };  /* postgres.ack: shipper -> network thread */

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
    if (rc == 0 && shipper)
        shipper_notify(shipper);
    return rc;
}

/* The shipper's log lines (its thread), syslog levels. */
static void ship_log(void *arg, int level, const char *msg)
{
    (void)arg;
    log_msg(level <= 3 ? RS_LOG_ERROR : level == 4 ? RS_LOG_WARN : level <= 6 ? RS_LOG_INFO
                                                                               : RS_LOG_DEBUG,
            "%s", msg);
}

static int64_t shipped_seq(void *arg)
{
    return shipper_shipped_seq(arg);
}

/* postgres.ack: PostgreSQL committed; the link's network thread wakes and
 * ACKs what it now holds. A full pipe already says so. */
static void shipped_wake(void *arg)
{
    (void)arg;
    (void)!write(ack_wake[1], "p", 1);
}

static void ack_wake_close(void)
{
    for (int i = 0; i < 2; i++) {
        if (ack_wake[i] >= 0)
            close(ack_wake[i]);
        ack_wake[i] = -1;
    }
}

/* --postgres: the shipper, and the sink's outbox that feeds it. A
 * PostgreSQL that is down is not an error here: the shipper retries. */
static int postgres_start(struct options *o, struct sink *sink, struct rs_error *err)
{
    struct pg_options po = {
        .conninfo = o->cfg.pg_conninfo,
        .password_file = *o->cfg.pg_password_file ? o->cfg.pg_password_file : NULL,
        .schema = o->cfg.pg_schema,
        .outbox_max = (int64_t)o->cfg.pg_outbox_mb << 20,
        .ack = o->cfg.pg_ack,
    };

    if (*o->cfg.pg_conninfo == '\0')
        return 0;
    if (sink->ops->outbox_enable == NULL)
        return rs_fail(err, RS_E_CONFIG, "postgres: the '%s' sink cannot feed PostgreSQL",
                       sink->ops->name);
    if (po.ack) {
        if (pipe2(ack_wake, O_CLOEXEC | O_NONBLOCK) != 0)
            return rs_fail(err, RS_E_IO, "postgres: cannot make a pipe: %s", strerror(errno));
        po.on_shipped = shipped_wake;
    }
    if ((shipper = shipper_start(o->mirror, &po, ship_log, NULL, err)) == NULL)
        return -1;
    if (sink->ops->outbox_enable(sink, po.outbox_max, shipped_seq, shipper) != 0) {
        rs_fail(err, sink->err.code, "%s", sink->err.msg);
        shipper_stop(shipper);
        shipper = NULL;
        return -1;
    }
    status_set_shipper(o->link.status, shipper);
    if (po.ack) {
        o->link.ack_limit = status_ack_limit;
        o->link.ack_ud = o->link.status;
        o->link.ack_wake_fd = ack_wake[0];
    }
    return 0;
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
    if (postgres_start(o, sink, &err) != 0) {
        log_msg(RS_LOG_ERROR, "%s", err.msg);
        rc = 1;
        stop_requested = 1;
    }
    if (rc == 0 && o->link.listening_port > 0 && o->link.status &&
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
    if (shipper) {
        status_set_shipper(o->link.status, NULL);
        shipper_stop(shipper);
        shipper = NULL;
    }
    ack_wake_close();
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
        return import_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "status") == 0)
        return status_main(argc - 1, argv + 1);

    cfg_init(&o.cfg);
    if (cli_parse_args(argc, argv, &o) != 0) {
        cfg_release(&o.cfg);
        return 2;
    }
    if (cli_settings_to_opts(&o) != 0) {
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
