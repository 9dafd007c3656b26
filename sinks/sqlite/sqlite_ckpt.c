/*
 * sqlite_ckpt.c - the WAL checkpointer: a thread with its own connection
 * that copies the WAL into the database file while the writer goes on.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "sqlite_int.h"

/*
 * A checkpoint copies the WAL into the database file and syncs both. On
 * these machines syncing 16 MB of WAL took ~11 ms, and while the writer
 * ran it no write became visible: at 10k writes/s that was the whole
 * visibility p99 (9-14 ms, bench/suite.py --only latency). So while
 * streaming, a thread with its own connection runs PASSIVE checkpoints,
 * which never block the writer: they copy and sync the bulk. SQLite
 * restarts the WAL only at the first write after a checkpoint that
 * copied every frame, which a thread racing a busy writer rarely
 * manages, so the writer then finishes the job itself at its next commit:
 * a few frames to copy and little to sync. Should the WAL still reach
 * CKPT_HARD_PAGES (a burst, with the large batches of catching up), the
 * writer checkpoints it all as it always did, which bounds the file. A
 * full sync keeps the writer's own checkpoints (LOAD_CKPT_PAGES): its
 * large batches would outrun the thread.
 */
#define CKPT_SOFT_PAGES  1024    /* 4 MB: wake the thread */
#define CKPT_HARD_PAGES  4096    /* 16 MB: the writer checkpoints */
#define LOAD_CKPT_PAGES  4096    /* 16 MB, as wal_autocheckpoint had it */
#define CKPT_ROUNDS      4

struct ckpt {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sqlite3 *db;                 /* the thread's own connection */
    int want, quit;
    int busy;                    /* a checkpoint is wanted or running */
    int finish;                  /* done: the writer copies the rest */
    int sync_level;              /* PRAGMA synchronous the writer has */
    int failed;                  /* result code of a failed checkpoint, 0: none */
    char msg[200];
};

static void *ckpt_main(void *arg)
{
    struct ckpt *c = arg;
    int applied_sync = -1;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->want && !c->quit)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->quit)
            break;
        c->want = 0;
        int level = c->sync_level, rc = SQLITE_OK, frames = 0, copied = 0;
        pthread_mutex_unlock(&c->mu);
        if (level != applied_sync) {
            /* the checkpoint syncs as this connection's setting says */
            char sql[40];

            snprintf(sql, sizeof(sql), "PRAGMA synchronous = %d", level);
            sqlite3_exec(c->db, sql, NULL, NULL, NULL);
            applied_sync = level;
        }
        for (int round = 0; round < CKPT_ROUNDS; round++) {
            rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames,
                                           &copied);
            if (rc != SQLITE_OK || copied >= frames)
                break;
        }
        pthread_mutex_lock(&c->mu);
        c->busy = 0;
        c->finish = 1;
        if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED &&
            c->failed == 0) {
            c->failed = rc;
            snprintf(c->msg, sizeof(c->msg), "%s", sqlite3_errmsg(c->db));
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

void sqi_ckpt_stop(struct sqlite_sink *ss)
{
    struct ckpt *c = ss->ckpt;

    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->quit = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    sqlite3_close(c->db);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
    ss->ckpt = NULL;
}

/* Called by SQLite after each commit with the WAL's size in pages. */
static int on_wal(void *ud, sqlite3 *db, const char *name, int pages)
{
    struct sqlite_sink *ss = ud;
    struct ckpt *c = ss->ckpt;

    (void)name;
    if (c == NULL || ss->mode == MODE_LOAD) {
        if (pages >= LOAD_CKPT_PAGES)
            sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else {
        int finish;

        pthread_mutex_lock(&c->mu);
        finish = c->finish;
        c->finish = 0;
        if (!finish && !c->busy && pages >= CKPT_SOFT_PAGES) {
            c->busy = c->want = 1;
            pthread_cond_signal(&c->cv);
        }
        pthread_mutex_unlock(&c->mu);
        if (finish || pages >= CKPT_HARD_PAGES)
            sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
    return SQLITE_OK;
}

/* Start the checkpointer. Without it (no memory, no thread) the writer
 * checkpoints itself, as on_wal does during a load: slower, not wrong. */
void sqi_ckpt_start(struct sqlite_sink *ss)
{
    struct ckpt *c = calloc(1, sizeof(*c));

    sqlite3_wal_hook(ss->db, on_wal, ss);
    if (c == NULL)
        return;
    c->sync_level = (int)sqi_query_int(ss, "PRAGMA synchronous", 1);
    if (sqlite3_open_v2(ss->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return;
    }
    /* never a checkpoint of its own at close: see sq_close */
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    sqlite3_exec(c->db, "PRAGMA mmap_size = 0; PRAGMA cache_size = -256", NULL, NULL, NULL);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
        sqlite3_close(c->db);
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return;
    }
    ss->ckpt = c;
}

/* A checkpoint the thread could not do (disk full, I/O error) stops the
 * writer at its next commit, as its own would have. 0, or -1 with the
 * sticky error set. */
int sqi_ckpt_check(struct sqlite_sink *ss)
{
    struct ckpt *c = ss->ckpt;
    int rc;

    if (c == NULL)
        return 0;
    pthread_mutex_lock(&c->mu);
    rc = c->failed;
    pthread_mutex_unlock(&c->mu);
    if (rc == 0)
        return 0;
    ss->fatal = 1;
    return rs_fail(&ss->base.err, RS_E_SQL, "cannot checkpoint '%s': %s",
                   ss->path, (rc & 0xff) == SQLITE_FULL ? "disk full" : c->msg);
}

void sqi_ckpt_sync_level(struct sqlite_sink *ss)
{
    if (ss->ckpt) {
        int level = (int)sqi_query_int(ss, "PRAGMA synchronous", 1);

        pthread_mutex_lock(&ss->ckpt->mu);
        ss->ckpt->sync_level = level;
        pthread_mutex_unlock(&ss->ckpt->mu);
    }
}
