/*
 * status.c - the replication status record (see status.h): what the link
 * reports, the ticks that write the progress line and the status row, the
 * counters and their Prometheus text.
 *
 * The record is written by the link's two threads and read by the
 * endpoint thread (status_server.c), always under st->mu, and never
 * touches the sink there: only the session thread's ticks write the
 * status row. `redsink status` is status_cli.c.
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"     /* autoconf's (PACKAGE_VERSION) */
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "shipper.h"
#include "status_int.h"

/* Upper bounds (seconds) of the commit latency histogram's buckets. */
static const double commit_le[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                    0.25, 0.5, 1, 2.5, 5, 10 };

_Static_assert(sizeof(commit_le) / sizeof(commit_le[0]) == N_LE, "N_LE");

static const char *const reason_names[N_REASONS] = {   /* R_SINK: "<sink>_error" */
    "connect_failed", "timeout", "closed_by_master", "master_not_ready", "io_error",
    "protocol_error", "rdb_error", NULL, "other"
};

/* ------------------------------------------------------------------ */
/* The record                                                          */
/* ------------------------------------------------------------------ */

/* ---- samples of (offset, time), for a lag in ms ---- */

#define RECEIVED_EVERY_MS 100      /* the stream read: windows of 100 ms at first */
#define COMMITS_EVERY_MS 10        /* commits: of 10 ms */

static void samples_clear(struct samples *s, int64_t every)
{
    s->n = s->first = 0;
    s->every = s->every0 = every;
}

/* Offset 'off' reached at 'now'. */
static void samples_add(struct samples *s, int64_t off, int64_t now)
{
    int last = (s->first + s->n - 1) % SAMPLES;

    if (s->n > 0 && now - s->at[last] < s->every) {
        s->off[last] = off;
        return;
    }
    if (s->n == SAMPLES) {
        /* merge pairs: a window's first time, its last offset */
        int64_t off2[SAMPLES / 2], at2[SAMPLES / 2];

        for (int i = 0; i < SAMPLES / 2; i++) {
            int a = (s->first + 2 * i) % SAMPLES;

            off2[i] = s->off[(a + 1) % SAMPLES];
            at2[i] = s->at[a];
        }
        memcpy(s->off, off2, sizeof(off2));
        memcpy(s->at, at2, sizeof(at2));
        s->first = 0;
        s->n = SAMPLES / 2;
        s->every *= 2;
    }
    last = (s->first + s->n++) % SAMPLES;
    s->off[last] = off;
    s->at[last] = now;
}

/* Offsets up to 'upto' are no longer behind. */
static void samples_prune(struct samples *s, int64_t upto)
{
    while (s->n > 0 && s->off[s->first] <= upto) {
        s->first = (s->first + 1) % SAMPLES;
        s->n--;
    }
    if (s->n < SAMPLES / 8)
        s->every = s->every0;      /* short again: fine windows again */
}

/* How long ago the first offset still behind was reached (0: none). */
static int64_t samples_age(const struct samples *s, int64_t now)
{
    return s->n > 0 ? now - s->at[s->first] : 0;
}

struct status *status_new(const char *master_host, int master_port)
{
    struct status *st = calloc(1, sizeof(*st));
    unsigned seed = (unsigned)(time(NULL) ^ ((unsigned)getpid() << 16));

    if (st == NULL)
        return NULL;
    pthread_mutex_init(&st->mu, NULL);
    snprintf(st->host, sizeof(st->host), "%s", master_host);
    st->port = master_port;
    for (int i = 0; i < 40; i++)
        st->run_id[i] = "0123456789abcdef"[rand_r(&seed) % 16];
    st->started = st->down_since = rs_mono_ms();
    st->state = LINK_NEW;
    st->read_offset = st->committed = -1;
    samples_clear(&st->received, RECEIVED_EVERY_MS);
    samples_clear(&st->commit_times, COMMITS_EVERY_MS);
    st->listen_fd = st->wake[0] = st->wake[1] = -1;
    return st;
}

void status_set_state(struct status *st, enum link_state state)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    if (st->state == LINK_STREAMING && state != LINK_STREAMING)
        st->down_since = rs_mono_ms();
    if (st->sync_t0 && state == LINK_STREAMING) {
        /* the snapshot is loaded and swapped in */
        st->last_full_sync_seconds = (double)(rs_mono_ms() - st->sync_t0) / 1000.0;
        st->full_sync_seconds += st->last_full_sync_seconds;
        st->full_syncs++;
        st->sync_t0 = 0;
    } else if (st->sync_t0 && state != LINK_SYNCING) {
        st->full_syncs_aborted++;
        st->sync_t0 = 0;
    }
    st->state = state;
    pthread_mutex_unlock(&st->mu);
}

void status_session(struct status *st, struct sink *sink, int full, int64_t base)
{
    int64_t now = rs_mono_ms();

    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->full = full;
    st->base = base;
    st->read_offset = base;
    st->payload = st->payload_total = 0;
    samples_clear(&st->received, RECEIVED_EVERY_MS);
    st->sess_unknown = 0;
    if (full) {
        st->sync_t0 = now;
        st->keys_loaded = 0;
        st->keys_per_sec = 0;
    }
    pthread_mutex_unlock(&st->mu);
    st->sink = sink;
    st->load_t0 = st->tick_at = now;
    st->next_tick = now + TICK_MS;
    st->tick_keys = 0;
    st->row_at = 0;
    st->rate_final = !full;
}

void status_received(struct status *st, uint64_t payload, uint64_t total, uint64_t stream)
{
    int64_t now = rs_mono_ms();

    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->last_io = now;
    st->payload = payload;
    st->payload_total = total;
    if (stream > 0 && st->base + (int64_t)stream > st->read_offset) {
        st->read_offset = st->base + (int64_t)stream;
        samples_add(&st->received, st->read_offset, now);
    }
    pthread_mutex_unlock(&st->mu);
}

void status_acked(struct status *st)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->last_ack_at = rs_now_ms();
    pthread_mutex_unlock(&st->mu);
}

void status_committed(struct status *st, const struct repl_pos *pos)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    if (st->shipper) {
        /* PostgreSQL's lag in ms (status_ship_locked): another history
         * has other offsets */
        if (strcmp(pos->replid, st->replid) != 0)
            samples_clear(&st->commit_times, COMMITS_EVERY_MS);
        samples_add(&st->commit_times, pos->offset, rs_mono_ms());
    }
    st->committed = pos->offset;
    snprintf(st->replid, sizeof(st->replid), "%s", pos->replid);
    if (st->read_offset < pos->offset)
        st->read_offset = pos->offset;
    samples_prune(&st->received, pos->offset);
    pthread_mutex_unlock(&st->mu);
}

/* Lag, under mu. */
int64_t status_lag_bytes(const struct status *st)
{
    if (st->read_offset < 0 || st->committed < 0 || st->read_offset < st->committed)
        return 0;
    return st->read_offset - st->committed;
}

int64_t status_lag_ms(const struct status *st, int64_t now)
{
    return status_lag_bytes(st) == 0 ? 0 : samples_age(&st->received, now);
}

void status_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n > 0 && b->grow && (size_t)n >= b->cap - b->len) {
        size_t cap = b->cap * 2 + (size_t)n;
        char *p = realloc(b->p, cap);

        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    if (n > 0)
        b->len += (size_t)n < b->cap - b->len ? (size_t)n : b->cap - b->len - 1;
}

void status_free(struct status *st)
{
    if (st == NULL)
        return;
    status_server_stop(st);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* ------------------------------------------------------------------ */
/* Ticks: the progress line and the status row                         */
/* ------------------------------------------------------------------ */

/* Fill 'p' from the record, under mu. */
static void progress_fill(struct status *st, struct sink_progress *p)
{
    int64_t now = rs_mono_ms();

    p->master_host = st->host;
    p->master_port = st->port;
    p->read_offset = st->read_offset;
    p->last_ack_at = st->last_ack_at;
    p->lag_bytes = status_lag_bytes(st);
    p->lag_ms = status_lag_ms(st, now);
    p->bytes_received = (int64_t)st->payload;
    p->bytes_total = (int64_t)st->payload_total;
    p->keys_per_sec = st->keys_per_sec;
}

void status_set_shipper(struct status *st, struct shipper *sh)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);     /* the INFO thread may be reading it */
    st->shipper = sh;
    pthread_mutex_unlock(&st->mu);
}

int64_t status_ack_limit(void *ud, int64_t off)
{
    struct status *st = ud;
    struct ship_status sh;
    int same;

    if (st == NULL || st->shipper == NULL)
        return off;
    shipper_status(st->shipper, &sh);
    pthread_mutex_lock(&st->mu);
    same = strcmp(sh.replid, st->replid) == 0;
    pthread_mutex_unlock(&st->mu);
    if (!same || sh.offset < 0)
        return 0;           /* the master keeps the highest ACK it got */
    return sh.offset < off ? sh.offset : off;
}

/* The shipper's status, with the PostgreSQL lag taken from SQLite's
 * commits now: in bytes, SQLite's committed offset less PostgreSQL's; in
 * ms, the age of the first commit PostgreSQL does not have. The shipper
 * measures them only at the end of a round (against that round's
 * snapshot, so 0 after each success): while a round ran, or blocked,
 * they read 0 however far behind PostgreSQL was. The shipper's own figure
 * stays when larger (PostgreSQL down, its lag read from the outbox). The
 * caller holds st->mu. */
void status_ship_locked(struct status *st, struct ship_status *sh)
{
    shipper_status(st->shipper, sh);
    if (sh->offset < 0 || strcmp(sh->replid, st->replid) != 0)
        return;
    if (st->committed > sh->offset && st->committed - sh->offset > sh->lag_bytes)
        sh->lag_bytes = st->committed - sh->offset;
    /* the lag in ms: since the first commit PostgreSQL does not have */
    samples_prune(&st->commit_times, sh->offset);
    if (st->committed > sh->offset) {
        int64_t ms = samples_age(&st->commit_times, rs_mono_ms());

        if (ms > sh->lag_ms)
            sh->lag_ms = ms;
    }
}

static void row_store(struct status *st)
{
    struct sink_progress p;
    struct ship_status ship;
    char host[256];

    if (st->sink == NULL || st->sink->ops->set_progress == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    progress_fill(st, &p);
    snprintf(host, sizeof(host), "%s", st->host);
    st->row_committed = st->committed;
    st->row_read = st->read_offset;
    if (st->shipper)
        status_ship_locked(st, &ship);
    pthread_mutex_unlock(&st->mu);
    p.master_host = host;
    p.pg_state = NULL;
    if (st->shipper) {
        p.pg_state = ship.state;
        p.pg_offset = ship.offset;
        p.pg_lag_bytes = ship.lag_bytes;
        p.pg_lag_ms = ship.lag_ms;
        p.pg_error = ship.error;
    }
    if (st->sink->ops->set_progress(st->sink, &p) != 0)
        log_msg(RS_LOG_DEBUG, "cannot store the progress: %s", st->sink->err.msg);
    st->row_at = rs_mono_ms();
}

static void fmt_bytes(char *out, size_t cap, uint64_t n)
{
    if (n >= 10 * 1024 * 1024)
        snprintf(out, cap, "%.1f MB", (double)n / (1024.0 * 1024.0));
    else
        snprintf(out, cap, "%.1f kB", (double)n / 1024.0);
}

void status_load_tick(struct status *st, int64_t keys)
{
    int64_t now = rs_mono_ms();
    char got[32], total[48] = "";
    uint64_t payload, payload_total;
    double rate;

    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->keys_loaded = keys;
    payload = st->payload;
    payload_total = st->payload_total;
    if (now < st->next_tick) {
        pthread_mutex_unlock(&st->mu);
        return;
    }
    rate = now > st->tick_at ? (double)(keys - st->tick_keys) * 1000.0 / (double)(now - st->tick_at)
                             : 0.0;
    st->keys_per_sec = rate;
    pthread_mutex_unlock(&st->mu);
    st->tick_keys = keys;
    st->tick_at = now;
    st->next_tick = now + TICK_MS;
    fmt_bytes(got, sizeof(got), payload);
    if (payload_total) {
        char t[32];

        fmt_bytes(t, sizeof(t), payload_total);
        snprintf(total, sizeof(total), " of %s (%.0f%%)", t,
                 100.0 * (double)payload / (double)payload_total);
    }
    log_msg(RS_LOG_INFO, "full sync: %s%s received, %lld keys loaded (%.0f keys/s)", got, total,
            (long long)keys, rate);
    row_store(st);
}

void status_stream_tick(struct status *st, const struct sink_stats *stats)
{
    int64_t now = rs_mono_ms();
    int changed;

    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    if (stats) {
        st->commands_applied = stats->commands_applied;
        st->unknown_commands = stats->unknown_commands;
        if (stats->unknown_commands > st->sess_unknown)
            st->unknown_total += stats->unknown_commands - st->sess_unknown;
        st->sess_unknown = stats->unknown_commands;
    }
    changed = st->committed != st->row_committed || st->read_offset != st->row_read;
    if (!st->rate_final) {
        /* the first tick after a full sync: its overall speed */
        int64_t ms = now - st->load_t0;

        st->keys_per_sec = ms > 0 ? (double)st->keys_loaded * 1000.0 / (double)ms : 0;
        st->rate_final = 1;
    }
    pthread_mutex_unlock(&st->mu);
    if (now < st->next_tick || (!changed && st->row_at && now - st->row_at < ROW_IDLE_MS))
        return;
    st->next_tick = now + TICK_MS;
    row_store(st);
}

/* ------------------------------------------------------------------ */
/* Metrics: counters only Prometheus shows, and the exposition         */
/* ------------------------------------------------------------------ */

void status_count_command(void *ud, const char *name)
{
    struct status *st = ud;
    size_t h;

    if (st == NULL || name == NULL)
        return;
    h = (size_t)(((uintptr_t)name >> 3) * 2654435761u) % CMD_SLOTS;
    for (size_t i = 0; i < CMD_SLOTS; i++, h = (h + 1) % CMD_SLOTS) {
        const char *at = atomic_load_explicit(&st->cmds[h].name, memory_order_relaxed);

        if (at == name) {
            atomic_fetch_add_explicit(&st->cmds[h].n, 1, memory_order_relaxed);
            return;
        }
        if (at == NULL) {
            atomic_store_explicit(&st->cmds[h].n, 1, memory_order_relaxed);
            atomic_store_explicit(&st->cmds[h].name, name, memory_order_release);
            return;
        }
    }
    atomic_fetch_add_explicit(&st->cmds_other, 1, memory_order_relaxed);
}

void status_commit_time(struct status *st, double seconds)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < N_LE; i++)
        if (seconds <= commit_le[i])
            st->commit_bucket[i]++;
    st->commits++;
    st->commit_seconds += seconds;
    pthread_mutex_unlock(&st->mu);
}

void status_reconnect(struct status *st, const struct rs_error *why)
{
    const char *m = why->msg;
    enum reason r;

    if (st == NULL)
        return;
    if (strncmp(m, "cannot connect", 14) == 0)
        r = R_CONNECT;
    else if (strstr(m, "timeout") != NULL)
        r = R_TIMEOUT;
    else if (strstr(m, "not ready") != NULL)
        r = R_NOT_READY;
    else if (strstr(m, "closed by the master") != NULL || strstr(m, "link to the master lost"))
        r = R_CLOSED;
    else
        r = why->code == RS_E_IO ? R_IO : why->code == RS_E_PROTO ? R_PROTOCOL
            : why->code == RS_E_RDB ? R_RDB : why->code == RS_E_SQL ? R_SINK : R_OTHER;
    pthread_mutex_lock(&st->mu);
    st->reconnects[r]++;
    pthread_mutex_unlock(&st->mu);
}

void status_set_mirror(struct status *st, const char *sink, const char *target)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    snprintf(st->sink_name, sizeof(st->sink_name), "%s", sink);
    snprintf(st->mirror, sizeof(st->mirror), "%s", target);
    pthread_mutex_unlock(&st->mu);
}

static void metric(struct buf *b, const char *name, const char *type, const char *help)
{
    status_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The sink's metrics, redsink_<sink>_*: commit latency, then its gauges. */
static void prom_sink(struct status *st, struct buf *b)
{
    const char *sk = st->sink_name;
    struct sink_gauge g[8];
    char name[96];
    int n = sink_gauges(sk, st->mirror, g, 8);

    snprintf(name, sizeof(name), "redsink_%s_commit_duration_seconds", sk);
    metric(b, name, "histogram", "Time of each commit of stream data into the mirror.");
    for (size_t i = 0; i < N_LE; i++)         /* commit_bucket[] is cumulative */
        status_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
                   commit_le[i], (unsigned long long)st->commit_bucket[i]);
    status_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n",
               name, (unsigned long long)st->commits, name, st->commit_seconds,
               name, (unsigned long long)st->commits);
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "redsink_%s_%s", sk, g[i].name);
        metric(b, name, "gauge", g[i].help);
        status_printf(b, "%s %lld\n", name, g[i].value);
    }
}

/* The record, under mu (commands by name after it, without the lock). */
static void prom_record(struct status *st, struct buf *b)
{
    int64_t now = rs_mono_ms();

    metric(b, "redsink_build_info", "gauge", "redsink's version.");
    status_printf(b, "redsink_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
    metric(b, "redsink_uptime_seconds", "gauge", "Seconds since redsink started.");
    status_printf(b, "redsink_uptime_seconds %.3f\n", (double)(now - st->started) / 1000.0);
    metric(b, "redsink_link_up", "gauge",
           "1 while streaming from the master (INFO master_link_status:up), else 0.");
    status_printf(b, "redsink_link_up %d\n", st->state == LINK_STREAMING);
    metric(b, "redsink_state", "gauge", "The daemon's state: 1 for the current one.");
    for (int i = 0; i < LINK_N_STATES; i++)
        status_printf(b, "redsink_state{state=\"%s\"} %d\n", link_state_name((enum link_state)i),
                   st->state == (enum link_state)i);
    metric(b, "redsink_master_last_io_seconds", "gauge",
           "Seconds since the last byte from the master (-1: never).");
    status_printf(b, "redsink_master_last_io_seconds %.3f\n",
               st->last_io ? (double)(now - st->last_io) / 1000.0 : -1.0);
    metric(b, "redsink_master_repl_offset_bytes", "gauge",
           "Replication offset received from the master (slave_read_repl_offset).");
    status_printf(b, "redsink_master_repl_offset_bytes %lld\n",
               (long long)(st->read_offset < 0 ? 0 : st->read_offset));
    metric(b, "redsink_committed_repl_offset_bytes", "gauge",
           "Replication offset committed in the mirror and acknowledged (slave_repl_offset).");
    status_printf(b, "redsink_committed_repl_offset_bytes %lld\n",
               (long long)(st->committed < 0 ? 0 : st->committed));
    metric(b, "redsink_lag_bytes", "gauge", "Bytes received from the master, not committed yet.");
    status_printf(b, "redsink_lag_bytes %lld\n", (long long)status_lag_bytes(st));
    metric(b, "redsink_lag_seconds", "gauge",
           "Age of the oldest received byte that is not committed yet.");
    status_printf(b, "redsink_lag_seconds %.3f\n", (double)status_lag_ms(st, now) / 1000.0);
    metric(b, "redsink_last_ack_age_seconds", "gauge",
           "Seconds since the last REPLCONF ACK to the master (-1: never).");
    status_printf(b, "redsink_last_ack_age_seconds %.3f\n",
               st->last_ack_at ? (double)(rs_now_ms() - st->last_ack_at) / 1000.0 : -1.0);
    metric(b, "redsink_keys_loaded", "gauge", "Keys loaded by the last (or current) full sync.");
    status_printf(b, "redsink_keys_loaded %lld\n", (long long)st->keys_loaded);
    metric(b, "redsink_full_sync_in_progress", "gauge", "1 while a full sync is loading.");
    status_printf(b, "redsink_full_sync_in_progress %d\n", st->sync_t0 != 0);
    metric(b, "redsink_full_syncs_total", "counter",
           "Full syncs completed (snapshot loaded and swapped in).");
    status_printf(b, "redsink_full_syncs_total %llu\n", (unsigned long long)st->full_syncs);
    metric(b, "redsink_full_syncs_aborted_total", "counter",
           "Full syncs that ended before the snapshot was loaded.");
    status_printf(b, "redsink_full_syncs_aborted_total %llu\n",
               (unsigned long long)st->full_syncs_aborted);
    metric(b, "redsink_full_sync_duration_seconds_total", "counter",
           "Time spent in completed full syncs (PSYNC reply to streaming).");
    status_printf(b, "redsink_full_sync_duration_seconds_total %.3f\n", st->full_sync_seconds);
    metric(b, "redsink_last_full_sync_duration_seconds", "gauge",
           "Duration of the last completed full sync.");
    status_printf(b, "redsink_last_full_sync_duration_seconds %.3f\n", st->last_full_sync_seconds);
    metric(b, "redsink_unknown_commands_total", "counter",
           "Commands from the master that redsink does not know (logged, skipped).");
    status_printf(b, "redsink_unknown_commands_total %lld\n", (long long)st->unknown_total);
    if (st->sink_name[0])
        prom_sink(st, b);
    metric(b, "redsink_reconnects_total", "counter",
           "Sessions with the master that ended and were retried, by reason.");
    for (int r = 0; r < N_REASONS; r++)
        status_printf(b, "redsink_reconnects_total{reason=\"%s%s\"} %llu\n",
                   reason_names[r] ? reason_names[r] : st->sink_name,
                   reason_names[r] ? "" : "_error", (unsigned long long)st->reconnects[r]);
}

char *status_prometheus(struct status *st, size_t *len)
{
    struct buf b = { malloc(8192), 0, 8192, 1, 0 };
    uint64_t other;

    if (b.p == NULL)
        return NULL;
    pthread_mutex_lock(&st->mu);
    prom_record(st, &b);
    pthread_mutex_unlock(&st->mu);
    metric(&b, "redsink_commands_applied_total", "counter",
           "Commands from the master applied to the mirror, by command name.");
    for (size_t i = 0; i < CMD_SLOTS; i++) {
        const char *name = atomic_load_explicit(&st->cmds[i].name, memory_order_acquire);

        if (name)
            status_printf(&b, "redsink_commands_applied_total{command=\"%s\"} %llu\n", name,
                       (unsigned long long)atomic_load_explicit(&st->cmds[i].n,
                                                                memory_order_relaxed));
    }
    other = atomic_load_explicit(&st->cmds_other, memory_order_relaxed);
    if (other)
        status_printf(&b, "redsink_commands_applied_total{command=\"other\"} %llu\n",
                   (unsigned long long)other);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

