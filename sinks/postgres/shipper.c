/*
 * shipper.c - the PostgreSQL downstream's thread (shipper.h). A round is
 * one SQLite read transaction, snapshot S (pg_src.c): it takes every
 * outbox row up to S, and for each primary key they name (once, however
 * many rows name it) makes PostgreSQL's row what it is at S (pg_apply.c),
 * all in one PostgreSQL transaction with S's checkpoint (generation,
 * outbox seq, replid, offset). PostgreSQL then equals the mirror at S,
 * a transaction boundary.
 * When PostgreSQL lacks rows the outbox no longer has (a gap in seq, a new
 * generation) it copies the whole mirror instead (pg_copy.c).
 *
 * Start reading at ship_loop. PostgreSQL down or failing: the connection
 * is dropped, the state is "down" with the error, and it is retried with
 * a backoff up to 5 s; the applier never waits for any of it.
 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shipper.h"
#include "pg_int.h"

#define POLL_MS 100
#define SEEN_BYTES (4 << 20)       /* a round's set of keys shipped, in memory */
#define BACKOFF_MAX_MS 5000

struct shipper {
    char *sqlite_path, *conninfo, *password;
    char schema[64];
    ship_log_fn log;
    void *log_arg;
    void (*on_shipped)(void *arg);
    void *on_shipped_arg;

    pthread_t thread;
    pthread_mutex_t mu;              /* guards what follows, up to the thread's own */
    pthread_cond_t cv;
    int notified, stop;
    struct ship_status st;
    struct pgc *pg;                  /* for pgc_cancel from shipper_stop */

    /* the thread's own */
    volatile int stop_flag;          /* read by a running copy */
    volatile int64_t rows;           /* rows of the running copy */
    struct src *src;
    struct pg_apply *ap;
    struct pg_ckpt ck;               /* what PostgreSQL holds */
    struct pk_set seen;              /* the round's keys, each shipped once */
};

/* ---- status ---- */

static void say(struct shipper *sh, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(struct shipper *sh, int level, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    if (sh->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sh->log(sh->log_arg, level, msg);
}

static void set_state(struct shipper *sh, const char *state, const char *error)
{
    pthread_mutex_lock(&sh->mu);
    snprintf(sh->st.state, sizeof(sh->st.state), "%s", state);
    if (error)
        snprintf(sh->st.error, sizeof(sh->st.error), "%s", error);
    pthread_mutex_unlock(&sh->mu);
}

/* Publish the checkpoint PostgreSQL now holds, and the lag; tell
 * on_shipped when the checkpoint moved. */
static void set_ckpt(struct shipper *sh, const struct src_pos *pos, int64_t first_at)
{
    int moved;

    pthread_mutex_lock(&sh->mu);
    moved = sh->st.offset != sh->ck.offset || strcmp(sh->st.replid, sh->ck.replid) != 0;
    sh->st.gen = sh->ck.gen;
    sh->st.seq = sh->ck.seq;
    snprintf(sh->st.replid, sizeof(sh->st.replid), "%s", sh->ck.replid);
    sh->st.offset = sh->ck.offset;
    if (pos) {
        sh->st.lag_bytes = strcmp(pos->replid, sh->ck.replid) == 0 && pos->offset > sh->ck.offset
                               ? pos->offset - sh->ck.offset : 0;
        sh->st.lag_ms = first_at > 0 ? rs_now_ms() - first_at : 0;
    }
    pthread_mutex_unlock(&sh->mu);
    if (moved && sh->on_shipped)
        sh->on_shipped(sh->on_shipped_arg);
}

/* ---- the connection ---- */

static void pg_drop(struct shipper *sh)
{
    pthread_mutex_lock(&sh->mu);
    pgc_close(sh->pg);
    sh->pg = NULL;
    pthread_mutex_unlock(&sh->mu);
}

static int pg_open(struct shipper *sh, struct rs_error *err)
{
    struct pgc *c;

    set_state(sh, "connecting", NULL);
    if ((c = pgc_connect(sh->conninfo, sh->password, err)) == NULL)
        return -1;
    pthread_mutex_lock(&sh->mu);
    sh->pg = c;
    pthread_mutex_unlock(&sh->mu);
    pg_apply_reset(sh->ap);
    /* a batch names a few hundred rows of a big table: the planner, which
     * counts the rows of a bloated table rather than the index probes,
     * chose to read all of it (a hash join) for each batch; nested loops
     * over the indexes are left. No JIT: it compiled each statement for
     * 25-55 ms when a cost passed jit_above_cost. For this connection,
     * which runs our statements only; through pg_settings, so that a
     * server without one of them (jit before 11) skips it */
    if (pgc_exec(c, "SELECT set_config(name, 'off', false) FROM pg_settings WHERE name IN"
                 " ('enable_hashjoin', 'enable_mergejoin', 'jit')", "set the planner", err) ||
        pg_schema_ensure(c, sh->schema, err) || pg_ckpt_read(c, sh->schema, &sh->ck, err))
        return -1;
    set_ckpt(sh, NULL, 0);
    return 0;
}

/* ---- one round: copy, or ship a batch ---- */

static int copy_mirror(struct shipper *sh, const struct src_pos *pos, struct rs_error *err)
{
    int64_t t0 = rs_mono_ms();

    set_state(sh, "copying", NULL);
    pthread_mutex_lock(&sh->mu);
    sh->st.copies++;
    pthread_mutex_unlock(&sh->mu);
    if (pg_copy_mirror(sh->pg, sh->src, sh->schema, &sh->ck, pos, &sh->stop_flag, &sh->rows,
                       err))
        return -1;
    sh->ck.gen = pos->gen;
    sh->ck.seq = pos->last_seq;
    sh->ck.offset = pos->offset;
    snprintf(sh->ck.replid, sizeof(sh->ck.replid), "%s", pos->replid);
    set_ckpt(sh, pos, 0);
    say(sh, 6, "postgres: copied the mirror (generation %lld, %lld rows, %lld ms)",
        (long long)pos->gen, (long long)sh->rows, (long long)(rs_mono_ms() - t0));
    return 0;
}

/* Every outbox row up to S, their keys made true at S, with S's
 * checkpoint, in one PostgreSQL transaction. 'last': the last seq. */
static int ship_keys(struct shipper *sh, const struct src_pos *pos, int64_t last,
                     struct rs_error *err)
{
    struct pgc *c = sh->pg;
    struct src_outbox row;
    struct pk_val pk[OUTBOX_PK_MAX];
    enum rs_status st;
    char sql[512];
    int t, r;

    pk_set_clear(&sh->seen);
    pg_apply_discard(sh->ap);
    if (pgc_pipeline(c, 1, err) || pgc_send_sql(c, "BEGIN", err) ||
        pgc_send_sql(c, pg_ckpt_guard_sql(sql, sizeof(sql), sh->schema, &sh->ck), err) ||
        src_outbox_begin(sh->src, sh->ck.seq, err))
        return -1;
    while ((st = src_outbox_next(sh->src, &row, err)) == RS_OK) {
        for (size_t off = 0, at = 0; (r = pk_list_next(row.pks, row.len, &off, &t, pk)) != 0;
             at = off) {
            if (r < 0)
                return rs_fail(err, RS_E_SQL, "postgres: cannot read outbox row %lld:"
                               " malformed at byte %zu", (long long)row.seq, at);
            if ((r = pk_set_add(&sh->seen, row.pks + at, off - at)) < 0)
                return rs_fail(err, RS_E_NOMEM, "postgres: cannot ship: out of memory");
            if (r == 1 && pg_apply_key(sh->ap, c, sh->src, pos->gen, t, pk, err))
                return -1;
            /* memory: the set starts again once the batches waiting are
             * sent (a batch must not name a key twice); a key seen again
             * later is shipped again, from the same snapshot */
            if (sh->seen.len >= SEEN_BYTES) {
                if (pg_apply_flush(sh->ap, c, err))
                    return -1;
                pk_set_clear(&sh->seen);
            }
        }
    }
    if (st == RS_ERROR)
        return -1;
    pg_ckpt_sql(sql, sizeof(sql), sh->schema, pos, last);
    if (pg_apply_flush(sh->ap, c, err) || pgc_send_sql(c, sql, err) ||
        pgc_send_sql(c, "COMMIT", err) || pgc_sync(c, "apply the outbox", err) ||
        pgc_pipeline(c, 0, err))
        return -1;
    sh->ck.seq = last;
    sh->ck.offset = pos->offset;
    snprintf(sh->ck.replid, sizeof(sh->ck.replid), "%s", pos->replid);
    return 0;
}

/* Nothing to ship but the mirror's checkpoint moved (commands that
 * changed no row): PostgreSQL's follows, so that its offset is true. */
static int ship_offset(struct shipper *sh, const struct src_pos *pos, struct rs_error *err)
{
    char sql[1024];
    size_t n;

    if (pos->offset == sh->ck.offset && strcmp(pos->replid, sh->ck.replid) == 0)
        return 0;
    n = (size_t)snprintf(sql, sizeof(sql), "BEGIN; ");
    pg_ckpt_guard_sql(sql + n, sizeof(sql) - n, sh->schema, &sh->ck);
    n += strlen(sql + n);
    n += (size_t)snprintf(sql + n, sizeof(sql) - n, "; ");
    pg_ckpt_sql(sql + n, sizeof(sql) - n, sh->schema, pos, sh->ck.seq);
    n += strlen(sql + n);
    snprintf(sql + n, sizeof(sql) - n, "; COMMIT");
    if (pgc_exec(sh->pg, sql, "set the checkpoint", err))
        return -1;
    sh->ck.offset = pos->offset;
    snprintf(sh->ck.replid, sizeof(sh->ck.replid), "%s", pos->replid);
    return 0;
}

/* One round in one SQLite read transaction. */
static int ship_round(struct shipper *sh, struct rs_error *err)
{
    struct src_pos pos;
    struct src_span sp = { 0 };
    int rc;

    if (src_begin(sh->src, &pos, err))
        return -1;
    if (pos.gen == sh->ck.gen && src_outbox_span(sh->src, sh->ck.seq, &sp, err)) {
        rc = -1;
    } else if (pos.gen != sh->ck.gen || (sp.n == 0 && pos.last_seq > sh->ck.seq) ||
               (sp.n > 0 && (sp.first != sh->ck.seq + 1 || sp.last - sp.first + 1 != sp.n ||
                             sp.min_gen != pos.gen || sp.max_gen != pos.gen))) {
        rc = copy_mirror(sh, &pos, err);      /* new generation, or rows pruned */
    } else {
        set_state(sh, "streaming", NULL);
        rc = sp.n > 0 ? ship_keys(sh, &pos, sp.last, err) : ship_offset(sh, &pos, err);
    }
    if (rc == 0)
        set_ckpt(sh, &pos, src_outbox_first_at(sh->src, sh->ck.seq));
    src_end(sh->src);
    return rc;
}

/* ---- the thread ---- */

/* Sleep up to 'ms', or until notified or stopped. */
static void wait_ms(struct shipper *sh, int ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&sh->mu);
    while (!sh->notified && !sh->stop)
        if (pthread_cond_timedwait(&sh->cv, &sh->mu, &ts) == ETIMEDOUT)
            break;
    sh->notified = 0;
    pthread_mutex_unlock(&sh->mu);
}

/* PostgreSQL cannot take anything: the lag still grows, measured on
 * the SQLite side alone. */
static void lag_only(struct shipper *sh)
{
    struct rs_error err = { 0 };
    struct src_pos pos;

    if (sh->src == NULL || src_begin(sh->src, &pos, &err))
        return;
    set_ckpt(sh, &pos, src_outbox_first_at(sh->src, sh->ck.seq));
    src_end(sh->src);
}

/* A failure: keep the error, say it once per outage, drop the connection. */
static void went_down(struct shipper *sh, const struct rs_error *err, int *down)
{
    pg_drop(sh);
    if (sh->stop_flag)
        return;
    lag_only(sh);
    set_state(sh, "down", err->msg);
    if (!*down)
        say(sh, 4, "%s; retrying", err->msg);
    *down = 1;
}

static void *ship_loop(void *arg)
{
    struct shipper *sh = arg;
    int backoff = POLL_MS, down = 0;
    struct rs_error err;

    while (!sh->stop_flag) {
        rs_error_clear(&err);
        if ((sh->src == NULL && (sh->src = src_open(sh->sqlite_path, &err)) == NULL) ||
            (sh->pg == NULL && pg_open(sh, &err)) || ship_round(sh, &err)) {
            went_down(sh, &err, &down);
            wait_ms(sh, backoff);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        if (down)
            say(sh, 6, "postgres: shipping again");
        down = 0;
        backoff = POLL_MS;
        set_state(sh, "streaming", "");
        wait_ms(sh, POLL_MS);
    }
    pg_drop(sh);
    return NULL;
}

/* ---- the interface ---- */

/* The password: the file's content less one trailing newline. */
static char *read_password(const char *path, struct rs_error *err)
{
    char buf[1024];
    size_t n;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        rs_fail(err, RS_E_CONFIG, "postgres: cannot read password file '%s': %s", path,
                strerror(errno));
        return NULL;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return strdup(buf);
}

static void shipper_free(struct shipper *sh)
{
    if (sh->password)
        memset(sh->password, 0, strlen(sh->password));
    free(sh->password);
    free(sh->sqlite_path);
    free(sh->conninfo);
    pg_apply_free(sh->ap);
    pk_set_release(&sh->seen);
    src_close(sh->src);
    pthread_mutex_destroy(&sh->mu);
    pthread_cond_destroy(&sh->cv);
    free(sh);
}

static int shipper_init(struct shipper *sh, const char *sqlite_path, const struct pg_options *o,
                        struct rs_error *err)
{
    pthread_condattr_t ca;

    pthread_mutex_init(&sh->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sh->cv, &ca);
    pthread_condattr_destroy(&ca);
    snprintf(sh->schema, sizeof(sh->schema), "%s", o->schema ? o->schema : "redis");
    if (o->conninfo == NULL)
        return rs_fail(err, RS_E_CONFIG, "postgres: no conninfo");
    if (!pg_schema_name_ok(sh->schema))
        return rs_fail(err, RS_E_CONFIG, "postgres: bad schema name '%s': lower-case letters,"
                       " digits and '_' only, up to 63", sh->schema);
    if (o->password_file && (sh->password = read_password(o->password_file, err)) == NULL)
        return -1;
    sh->on_shipped = o->on_shipped;
    sh->on_shipped_arg = o->on_shipped_arg;
    sh->sqlite_path = strdup(sqlite_path);
    sh->conninfo = strdup(o->conninfo);
    sh->ap = pg_apply_new(sh->schema);
    if (!sh->sqlite_path || !sh->conninfo || !sh->ap)
        return rs_fail(err, RS_E_NOMEM, "postgres: cannot start: out of memory");
    snprintf(sh->st.state, sizeof(sh->st.state), "connecting");
    sh->st.offset = -1;
    return 0;
}

struct shipper *shipper_start(const char *sqlite_path, const struct pg_options *o,
                              ship_log_fn log, void *log_arg, struct rs_error *err)
{
    struct shipper *sh = calloc(1, sizeof(*sh));

    if (sh == NULL) {
        rs_fail(err, RS_E_NOMEM, "postgres: cannot start: out of memory");
        return NULL;
    }
    sh->log = log;
    sh->log_arg = log_arg;
    if (shipper_init(sh, sqlite_path, o, err))
        goto fail;
    if (pthread_create(&sh->thread, NULL, ship_loop, sh) != 0) {
        rs_fail(err, RS_E_NOMEM, "postgres: cannot start the shipper thread");
        goto fail;
    }
    return sh;
fail:
    shipper_free(sh);
    return NULL;
}

void shipper_notify(struct shipper *sh)
{
    pthread_mutex_lock(&sh->mu);
    sh->notified = 1;
    pthread_cond_signal(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
}

int64_t shipper_shipped_seq(struct shipper *sh)
{
    int64_t seq;

    pthread_mutex_lock(&sh->mu);
    seq = sh->st.seq;
    pthread_mutex_unlock(&sh->mu);
    return seq;
}

void shipper_status(struct shipper *sh, struct ship_status *out)
{
    pthread_mutex_lock(&sh->mu);
    *out = sh->st;
    pthread_mutex_unlock(&sh->mu);
    out->rows_copied = sh->rows;
}

void shipper_stop(struct shipper *sh)
{
    if (sh == NULL)
        return;
    pthread_mutex_lock(&sh->mu);
    sh->stop = 1;
    sh->stop_flag = 1;
    pthread_cond_signal(&sh->cv);
    pgc_cancel(sh->pg);              /* a long statement ends now, rolled back */
    pthread_mutex_unlock(&sh->mu);
    pthread_join(sh->thread, NULL);
    shipper_free(sh);
}
