/* bench/vislat.c - visibility latency: how long after the master
 * acknowledges a write the new value can be read through the SQL views.
 *
 *   vislat HOST PORT MIRROR.db RATE SECONDS
 *
 * The writer sends "SET bench:vis <i>" at RATE writes per second on one
 * connection (each write waits for its reply, then the next one is due at
 * t0 + i/RATE) and notes the time each reply arrives. A reader thread polls
 * "SELECT value FROM redis_strings WHERE db = 0 AND key = 'bench:vis'" every
 * 100 us. The value only grows and redsink commits in stream order, so when
 * the reader first sees value v, every write i <= v is visible: its latency
 * is that moment minus the moment its reply arrived (0 when the row was seen
 * first). Prints one line:
 *   rate=R writes=N achieved=A p50_ms=.. p99_ms=.. max_ms=.. unseen=U
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct shared {
    const char *path;
    long n;                 /* writes planned */
    double *acked;          /* reply time of write i, 0 while unknown */
    double *seen;           /* first time a value >= i was read */
    atomic_long written;    /* writes whose reply has arrived */
    atomic_int stop;
};

static void *reader(void *arg)
{
    struct shared *sh = arg;
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    long last = 0;

    if (sqlite3_open_v2(sh->path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT value FROM redis_strings WHERE db = 0 AND key = 'bench:vis'",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "vislat: cannot read '%s': %s\n", sh->path, sqlite3_errmsg(db));
        exit(1);
    }
    sqlite3_busy_timeout(db, 1000);
    while (!atomic_load(&sh->stop)) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            long v = atol((const char *)sqlite3_column_text(st, 0));
            double t = now_s();

            if (v > sh->n)
                v = sh->n;
            for (long i = last + 1; i <= v; i++)
                sh->seen[i] = t;
            if (v > last)
                last = v;
        }
        sqlite3_reset(st);
        if (last >= sh->n)
            break;
        struct timespec pause = { 0, 100000 };
        nanosleep(&pause, NULL);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: vislat HOST PORT MIRROR.db RATE SECONDS\n");
        return 2;
    }
    double rate = atof(argv[4]), secs = atof(argv[5]);
    struct shared sh = { .path = argv[3], .n = (long)(rate * secs) };
    if (rate <= 0 || sh.n < 1) {
        fprintf(stderr, "vislat: RATE and SECONDS must be positive\n");
        return 2;
    }
    sh.acked = calloc(sh.n + 1, sizeof(double));
    sh.seen = calloc(sh.n + 1, sizeof(double));
    redisContext *c = redisConnect(argv[1], atoi(argv[2]));
    if (!c || c->err) {
        fprintf(stderr, "vislat: cannot connect to %s:%s: %s\n", argv[1], argv[2],
                c ? c->errstr : "out of memory");
        return 1;
    }
    redisReply *rep = redisCommand(c, "SET bench:vis 0");
    freeReplyObject(rep);
    rep = redisCommand(c, "WAIT 1 30000");
    if (!rep || rep->type != REDIS_REPLY_INTEGER || rep->integer < 1) {
        fprintf(stderr, "vislat: no replica acknowledged the first write\n");
        return 1;
    }
    freeReplyObject(rep);

    pthread_t th;
    pthread_create(&th, NULL, reader, &sh);
    double t0 = now_s();
    for (long i = 1; i <= sh.n; i++) {
        double due = t0 + (i - 1) / rate, t = now_s();
        if (due > t) {
            double d = due - t;
            struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };
            nanosleep(&ts, NULL);
        }
        rep = redisCommand(c, "SET bench:vis %ld", i);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "vislat: SET failed: %s\n", rep ? rep->str : c->errstr);
            return 1;
        }
        sh.acked[i] = now_s();
        freeReplyObject(rep);
        atomic_store(&sh.written, i);
    }
    double t_end = now_s();
    /* wait (bounded) for the last write to become visible */
    rep = redisCommand(c, "WAIT 1 10000");
    freeReplyObject(rep);
    double deadline = now_s() + 10;
    while (now_s() < deadline && sh.seen[sh.n] == 0) {
        struct timespec pause = { 0, 1000000 };
        nanosleep(&pause, NULL);
    }
    atomic_store(&sh.stop, 1);
    pthread_join(th, NULL);
    redisFree(c);

    double *lat = malloc(sh.n * sizeof(double));
    long m = 0, unseen = 0;
    for (long i = 1; i <= sh.n; i++) {
        if (sh.seen[i] == 0) {
            unseen++;
            continue;
        }
        double l = sh.seen[i] - sh.acked[i];
        lat[m++] = l > 0 ? l * 1e3 : 0;
    }
    qsort(lat, m, sizeof(double), cmp_double);
    printf("rate=%.0f writes=%ld achieved=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f unseen=%ld\n",
           rate, sh.n, sh.n / (t_end - t0), m ? lat[m / 2] : -1.0,
           m ? lat[(long)(m * 0.99) < m ? (long)(m * 0.99) : m - 1] : -1.0,
           m ? lat[m - 1] : -1.0, unseen);
    free(lat);
    free(sh.acked);
    free(sh.seen);
    return unseen ? 1 : 0;
}
