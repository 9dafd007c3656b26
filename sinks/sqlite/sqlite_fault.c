/*
 * sqlite_fault.c - faults of the SQLite sink: which errors are fatal, the
 * lock waits it reports to its owner, and a file deleted or replaced
 * under it.
 *
 * What can go wrong outside redsink, and what the sink does about it:
 *
 *  - Another process holds the write lock (sqlite3's BEGIN IMMEDIATE or
 *    EXCLUSIVE; in WAL mode a reader never blocks us). Our BEGIN waits in
 *    sqi_on_busy() for as long as the lock is held: the transaction is not
 *    lost, nothing is applied twice, the link stays up (the network
 *    thread keeps reading into the spool) and no new offset is
 *    acknowledged, because nothing new is committed. The wait is logged
 *    once when it passes BUSY_LOG_MS and once when it ends (the owner
 *    logs the events the sink reports, SINK_EV_LOCK_*). It ends early
 *    when the owner's stop flag is set (SIGTERM), with "database is
 *    locked" as an ordinary, retryable error.
 *  - Disk full, I/O errors, a corrupt or read-only file, and the file
 *    deleted or replaced under us (sqi_file_check) are *fatal*: a retry
 *    would fail the same way, or write into a file nobody will read
 *    again. The error stays set through rollback, so the daemon stops
 *    with it (main.c) and nothing after the last commit is acknowledged.
 *
 * This is the only place the sink reports an event (report()): a lock
 * wait is not an error the caller sees, yet an operator must learn why the
 * mirror stopped moving.
 */
#include <stdio.h>
#include <sys/stat.h>

#include "sqlite_int.h"

/* How long a statement waits for a lock held by another process when
 * the owner gave no stop flag (import, tests); with one it waits until
 * the lock goes or a stop is requested. */
#define BUSY_MS         5000
/* A lock wait longer than this is reported (SINK_EV_LOCK_WAIT, once per wait). */
#define BUSY_LOG_MS     1000

int sqi_sql_fail(struct sqlite_sink *ss, const char *what)
{
    int code = sqlite3_extended_errcode(ss->db);

    if (ss->base.err.code)
        return -1;    /* the first error counts, and only it decides 'fatal' */
    switch (code & 0xff) {
    case SQLITE_FULL:
        ss->fatal = 1;
        return rs_fail(&ss->base.err, RS_E_SQL, "cannot %s in '%s': disk full", what,
                       ss->path);
    case SQLITE_IOERR: case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
        ss->fatal = 1;
        break;
    }
    return rs_fail(&ss->base.err, RS_E_SQL, "cannot %s in '%s': %s", what, ss->path,
                   sqlite3_errmsg(ss->db));
}

/* Tell the owner (sink.on_event) about 'kind'. */
static void report(struct sqlite_sink *ss, enum sink_event_kind kind, double seconds)
{
    struct sink_event ev = { .kind = kind, .target = ss->path, .seconds = seconds };

    if (ss->base.on_event != NULL)
        ss->base.on_event(ss->base.event_ud, &ev);
}

int sqi_on_busy(void *ud, int count)
{
    struct sqlite_sink *ss = ud;
    int64_t now = rs_mono_ms();

    if (count == 0)
        ss->busy_since = now;
    if (ss->base.stop ? *ss->base.stop != 0 : now - ss->busy_since >= BUSY_MS)
        return 0;
    if (!ss->busy_logged && now - ss->busy_since >= BUSY_LOG_MS) {
        ss->busy_logged = 1;
        report(ss, SINK_EV_LOCK_WAIT, 0);
    }
    sqlite3_sleep(count < 20 ? 1 + count : 25);
    return 1;
}

/* A lock wait ended (our BEGIN went through). */
void sqi_busy_done(struct sqlite_sink *ss)
{
    if (!ss->busy_logged)
        return;
    ss->busy_logged = 0;
    report(ss, SINK_EV_LOCK_END, (double)(rs_mono_ms() - ss->busy_since) / 1000.0);
}

/* Clear the sticky error unless it is fatal. */
void sqi_err_clear(struct sqlite_sink *ss)
{
    if (!ss->fatal)
        rs_error_clear(&ss->base.err);
}

/*
 * Is the file at our path still the one we write? Someone may have run
 * 'rm mirror.db*' or 'mv other.db mirror.db'; SQLite would go on writing
 * into the unlinked file forever, and a restart would not see any of it.
 * The -wal file is checked too: it holds the recent commits until a
 * checkpoint, and it stays while our connection is open. 0, or -1 with
 * the fatal error set.
 */
int sqi_file_check(struct sqlite_sink *ss, const char *what)
{
    char wal[4096];
    struct stat sb;
    int moved = 0;

    if (sqlite3_file_control(ss->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK)
        moved = 0;
    if (!moved && ss->wal_ino && snprintf(wal, sizeof(wal), "%s-wal", ss->path) < (int)sizeof(wal))
        moved = stat(wal, &sb) != 0 || (uint64_t)sb.st_dev != ss->wal_dev ||
                (uint64_t)sb.st_ino != ss->wal_ino;
    if (!moved)
        return 0;
    ss->fatal = 1;
    return rs_fail(&ss->base.err, RS_E_SQL, "cannot %s in '%s': the file was deleted or "
                   "replaced while redsink had it open (a restart uses the file now there)",
                   what, ss->path);
}

/* Remember the -wal file's identity once it exists (after a commit). */
void sqi_wal_note(struct sqlite_sink *ss)
{
    char wal[4096];
    struct stat sb;

    if (ss->wal_ino || snprintf(wal, sizeof(wal), "%s-wal", ss->path) >= (int)sizeof(wal) ||
        stat(wal, &sb) != 0)
        return;
    ss->wal_dev = (uint64_t)sb.st_dev;
    ss->wal_ino = (uint64_t)sb.st_ino;
}
