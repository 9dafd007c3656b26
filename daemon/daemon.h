/*
 * daemon.h - running as a service: detaching from the terminal, the
 * pidfile, dropping root, SIGHUP (log reopen), and telling systemd how we
 * are (sd_notify). Without libsystemd the notify_* calls do nothing.
 *
 * main.c calls, in this order:
 *
 *   daemon_prepare()   after the command line and the log are set up:
 *                      locks the pidfile, forks if daemonizing
 *   (open the mirror)  errors still reach the terminal
 *   daemon_start()     drops privileges, detaches stdio, lets the
 *                      foreground parent exit 0, starts the SIGHUP and
 *                      watchdog thread
 *   daemon_finish()    on exit: removes the pidfile
 */
#ifndef RS_DAEMON_H
#define RS_DAEMON_H

#include "common.h"

struct daemon_opts {
    int daemonize;             /* fork into the background */
    const char *pidfile;       /* NULL: none */
    const char *user;          /* NULL: keep the current user */
};

/*
 * Lock and fill the pidfile (opened O_NOFOLLOW, locked with flock: a
 * second daemon with the same pidfile fails here; a stale file whose
 * owner is gone is simply taken over), block SIGHUP (daemon_start's
 * thread takes it), and with o->daemonize fork: the parent waits until
 * the child called daemon_start() and exits 0, or exits with the child's
 * status if the child failed before. Only the child returns. Call before
 * any thread starts. 0, or -1 with 'err'.
 */
int daemon_prepare(const struct daemon_opts *o, struct rs_error *err);

/*
 * After everything that needs root is open: with o->user, initgroups +
 * setgid + setuid to that user (and check root cannot be regained); when
 * daemonizing, setsid, chdir("/"), stdin/stdout/stderr to /dev/null and
 * release the waiting parent; then start the thread that reopens the log
 * on SIGHUP and pings systemd's watchdog. 0, or -1 with 'err' (printed
 * to the still attached terminal by the caller).
 */
int daemon_start(const struct daemon_opts *o, struct rs_error *err);

/* Remove the pidfile (if we still can after dropping root: otherwise it
 * is emptied) and release its lock. Safe to call more than once. */
void daemon_finish(void);

/* 'path' made absolute against the current directory (the file need not
 * exist); NULL when out of memory. The caller frees it. */
char *daemon_abspath(const char *path);

/* systemd (Type=notify). READY=1, sent once: link_state.c sends it when the
 * first sync with the master started. */
void notify_ready(void);
/* STATUS=<text>, as `systemctl status` shows it. */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* WATCHDOG=1; daemon_start's thread sends it every WatchdogSec/2. */
void notify_watchdog(void);
/* STOPPING=1, when a stop was requested. */
void notify_stopping(void);

#endif
