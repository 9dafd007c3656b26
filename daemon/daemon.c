/*
 * daemon.c - the service side of redsink: pidfile, fork to the
 * background, privilege drop, SIGHUP, and systemd notifications.
 *
 * Start with daemon.h for the order main.c calls these in. The pidfile
 * is guarded by flock(2), not by its content: the lock lives as long as
 * the daemon (the forked child shares the parent's open file), so a
 * second daemon fails at once and a pidfile left by a crash (nobody holds
 * its lock) is simply taken over. libsystemd (<systemd/sd-daemon.h>) is
 * included here only, and is optional (HAVE_SYSTEMD).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "daemon.h"
#include "log.h"

static int pid_fd = -1;             /* the locked pidfile, -1: none */
static char *pid_path;              /* its absolute path */
static int parent_pipe = -1;        /* daemonizing: tells the waiting parent "ok" */
static uint64_t watchdog_usec;      /* 0: no watchdog */

char *daemon_abspath(const char *path)
{
    char cwd[PATH_MAX], *abs;

    if (path[0] == '/')
        return strdup(path);
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    if ((abs = malloc(strlen(cwd) + strlen(path) + 2)) == NULL)
        return NULL;
    sprintf(abs, "%s/%s", cwd, path);
    return abs;
}

/* ---------------------------------------------------------------- pidfile */

/* Open and lock 'path'. When someone else holds it, name their pid. */
static int pidfile_lock(const char *path, struct rs_error *err)
{
    struct stat st_fd, st_path;
    char held[32];
    ssize_t n;

    for (int tries = 0; tries < 10; tries++) {
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);

        if (fd < 0)
            return rs_fail(err, RS_E_IO, "cannot open pidfile '%s': %s", path, strerror(errno));
        if (fstat(fd, &st_fd) != 0 || !S_ISREG(st_fd.st_mode)) {
            close(fd);
            return rs_fail(err, RS_E_CONFIG, "cannot use pidfile '%s': not a regular file", path);
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int saved = errno;

            n = pread(fd, held, sizeof(held) - 1, 0);
            close(fd);
            held[n > 0 ? n : 0] = '\0';
            held[strcspn(held, "\n")] = '\0';
            if (saved == EWOULDBLOCK)
                return rs_fail(err, RS_E_CONFIG, "cannot lock pidfile '%s': redsink is "
                               "already running as pid %s", path, held[0] ? held : "?");
            return rs_fail(err, RS_E_IO, "cannot lock pidfile '%s': %s", path, strerror(saved));
        }
        /* The previous owner may have unlinked the file between our open
         * and our lock: then we hold a lock nobody else can see. */
        if (stat(path, &st_path) == 0 && st_path.st_ino == st_fd.st_ino &&
            st_path.st_dev == st_fd.st_dev) {
            pid_fd = fd;
            return 0;
        }
        close(fd);
    }
    return rs_fail(err, RS_E_IO, "cannot lock pidfile '%s': it keeps being replaced", path);
}

static int pidfile_write(struct rs_error *err)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

    if (ftruncate(pid_fd, 0) != 0 || pwrite(pid_fd, buf, (size_t)n, 0) != n)
        return rs_fail(err, RS_E_IO, "cannot write pidfile '%s': %s", pid_path, strerror(errno));
    return 0;
}

void daemon_finish(void)
{
    if (pid_fd < 0)
        return;
    /* Unlink while still holding the lock; without the right to (root
     * was dropped), leave an empty file: the lock, not the file, says
     * whether a daemon runs. */
    if (unlink(pid_path) != 0 && ftruncate(pid_fd, 0) != 0)
        log_msg(RS_LOG_WARN, "cannot remove pidfile '%s': %s", pid_path, strerror(errno));
    close(pid_fd);
    pid_fd = -1;
    free(pid_path);
    pid_path = NULL;
}

/* ---------------------------------------------------------------- fork */

/* The parent: wait for the child's "ok" (or its death), exit with that. */
static void parent_wait(pid_t child, int fd)
{
    char c = 0;
    ssize_t n;
    int status;

    do
        n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n == 1 && c == 'K')
        _exit(0);
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

static int fork_background(struct rs_error *err)
{
    int pfd[2];
    pid_t pid;

    if (pipe2(pfd, O_CLOEXEC) != 0)
        return rs_fail(err, RS_E_IO, "cannot daemonize: pipe: %s", strerror(errno));
    fflush(NULL);
    if ((pid = fork()) < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return rs_fail(err, RS_E_IO, "cannot daemonize: fork: %s", strerror(errno));
    }
    if (pid > 0) {
        close(pfd[1]);
        parent_wait(pid, pfd[0]);
    }
    close(pfd[0]);
    parent_pipe = pfd[1];
    /* A new session: no controlling terminal, no SIGHUP from its hangup. */
    if (setsid() < 0)
        return rs_fail(err, RS_E_IO, "cannot daemonize: setsid: %s", strerror(errno));
    return 0;
}

int daemon_prepare(const struct daemon_opts *o, struct rs_error *err)
{
    sigset_t set;

    /* SIGHUP is taken by daemon_start's thread with sigtimedwait: blocked
     * in every thread, it never interrupts a system call in the link. */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (o->pidfile) {
        if ((pid_path = daemon_abspath(o->pidfile)) == NULL)
            return rs_fail(err, RS_E_NOMEM, "out of memory");
        if (pidfile_lock(pid_path, err) != 0) {
            free(pid_path);
            pid_path = NULL;
            return -1;
        }
    }
    if (o->daemonize && fork_background(err) != 0)
        return -1;
    if (pid_fd >= 0 && pidfile_write(err) != 0)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- start */

static int drop_privileges(const char *user, struct rs_error *err)
{
    struct passwd *pw;

    errno = 0;
    if ((pw = getpwnam(user)) == NULL)
        return rs_fail(err, RS_E_CONFIG, "cannot switch to user '%s': %s", user,
                       errno ? strerror(errno) : "no such user");
    if (geteuid() != 0) {
        if (pw->pw_uid == geteuid())
            return 0;   /* already that user: nothing to drop */
        return rs_fail(err, RS_E_CONFIG, "cannot switch to user '%s': not running as root",
                       user);
    }
    if (initgroups(user, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0)
        return rs_fail(err, RS_E_IO, "cannot switch to user '%s': %s", user, strerror(errno));
    if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
        return rs_fail(err, RS_E_IO, "cannot switch to user '%s': root can be regained", user);
    log_msg(RS_LOG_INFO, "running as user '%s' (uid %ld, gid %ld)", user, (long)pw->pw_uid,
            (long)pw->pw_gid);
    return 0;
}

static int detach_stdio(struct rs_error *err)
{
    int fd;

    if (chdir("/") != 0)
        return rs_fail(err, RS_E_IO, "cannot daemonize: chdir '/': %s", strerror(errno));
    if ((fd = open("/dev/null", O_RDWR)) < 0)
        return rs_fail(err, RS_E_IO, "cannot daemonize: '/dev/null': %s", strerror(errno));
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
    return 0;
}

/* SIGHUP: reopen the log. With a watchdog: ping it every WatchdogSec/2
 * (systemd's advice), SIGHUP or not. */
static void *service_thread(void *arg)
{
    int64_t period = (int64_t)(watchdog_usec / 2000), next = rs_mono_ms() + period;
    sigset_t set;

    (void)arg;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    for (;;) {
        int64_t wait = period ? next - rs_mono_ms() : 3600 * 1000;
        struct timespec ts;
        int sig;

        if (wait < 0)
            wait = 0;
        ts.tv_sec = wait / 1000;
        ts.tv_nsec = (wait % 1000) * 1000000L;
        sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGHUP && log_file_path() == NULL)
            log_msg(RS_LOG_DEBUG, "SIGHUP: no log file to reopen");
        else if (sig == SIGHUP && log_reopen() == 0)
            log_msg(RS_LOG_INFO, "reopened log file '%s' (SIGHUP)", log_file_path());
        else if (sig == SIGHUP)
            log_msg(RS_LOG_ERROR, "SIGHUP: reopening log file failed");
        if (period && rs_mono_ms() >= next) {
            notify_watchdog();
            next = rs_mono_ms() + period;
        }
    }
    return NULL;
}

int daemon_start(const struct daemon_opts *o, struct rs_error *err)
{
    pthread_t tid;
    int rc;

#ifdef HAVE_SYSTEMD
    if (sd_watchdog_enabled(0, &watchdog_usec) <= 0)
        watchdog_usec = 0;
#endif
    if (o->user && drop_privileges(o->user, err) != 0)
        return -1;
    if ((rc = pthread_create(&tid, NULL, service_thread, NULL)) != 0)
        return rs_fail(err, RS_E_IO, "cannot start the signal thread: %s", strerror(rc));
    pthread_detach(tid);
    if (o->daemonize) {
        if (detach_stdio(err) != 0)
            return -1;
        if (parent_pipe >= 0) {
            if (write(parent_pipe, "K", 1) != 1)
                log_msg(RS_LOG_WARN, "cannot release the foreground process: %s",
                        strerror(errno));
            close(parent_pipe);
            parent_pipe = -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- systemd */

void notify_ready(void)
{
    static int sent;

    if (__atomic_exchange_n(&sent, 1, __ATOMIC_SEQ_CST))
        return;
#ifdef HAVE_SYSTEMD
    sd_notify(0, "READY=1");
#endif
}

void notify_status(const char *fmt, ...)
{
#ifdef HAVE_SYSTEMD
    char msg[512];
    va_list ap;

    memcpy(msg, "STATUS=", 7);
    va_start(ap, fmt);
    vsnprintf(msg + 7, sizeof(msg) - 7, fmt, ap);
    va_end(ap);
    sd_notify(0, msg);
#else
    (void)fmt;
#endif
}

void notify_watchdog(void)
{
#ifdef HAVE_SYSTEMD
    sd_notify(0, "WATCHDOG=1");
#endif
}

void notify_stopping(void)
{
#ifdef HAVE_SYSTEMD
    sd_notify(0, "STOPPING=1");
#endif
}
