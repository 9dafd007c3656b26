/* bench/sqlite_ceiling.c - what SQLite itself can take: the rows a full
 * sync of one bench dataset writes, inserted by a bare loop of prepared
 * statements into tables of the same shape as a redsink generation
 * (doc/schema.md, "Storage"), with the same settings and the same commit
 * every 200,000 rows, then the same (key, db) index. No parsing, no
 * network: the cost of SQLite alone.
 *
 *   sqlite_ceiling NEW.db KIND KEYS ELEMENTS
 *
 * KIND: string | hash | list | set | zset | stream (ELEMENTS per key: fields,
 * elements, members, entries of 3 field/value pairs; ignored for string).
 * Prints one line: kind=K keys=N rows=R seconds=S rows_per_sec=X
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_ROWS 200000

static sqlite3 *db;

static void check(int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "sqlite_ceiling: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static void exec(const char *sql)
{
    check(sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
}

static sqlite3_stmt *prep(const char *sql)
{
    sqlite3_stmt *st;

    check(sqlite3_prepare_v2(db, sql, -1, &st, NULL), sql);
    return st;
}

static void run(sqlite3_stmt *st)
{
    check(sqlite3_step(st), "insert");
    sqlite3_reset(st);
}

static long rows;

static void row_done(void)
{
    if (++rows % BATCH_ROWS == 0)
        exec("COMMIT; BEGIN");
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: sqlite_ceiling NEW.db KIND KEYS ELEMENTS\n");
        return 2;
    }
    const char *kind = argv[2];
    long nkeys = atol(argv[3]), nelem = atol(argv[4]);
    int is_string = !strcmp(kind, "string"), is_stream = !strcmp(kind, "stream"),
        is_list = !strcmp(kind, "list");
    const char *child = NULL;
    if (!strcmp(kind, "hash"))
        child = "INSERT INTO g_hash(kid, field, value) VALUES (?1, ?2, ?3)";
    else if (!strcmp(kind, "list"))
        child = "INSERT INTO g_list(kid, pos, value) VALUES (?1, ?4, ?3)";
    else if (!strcmp(kind, "set"))
        child = "INSERT INTO g_set(kid, member) VALUES (?1, ?2)";
    else if (!strcmp(kind, "zset"))
        child = "INSERT INTO g_zset(kid, member, score) VALUES (?1, ?2, ?5)";
    else if (!strcmp(kind, "stream"))
        child = "INSERT INTO g_stream(kid, ms, seq, pos, field, value) VALUES (?1, ?4, 0, ?6, ?2, ?3)";
    else if (!is_string) {
        fprintf(stderr, "sqlite_ceiling: unknown kind '%s'\n", kind);
        return 2;
    }
    remove(argv[1]);
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite_ceiling: cannot open '%s'\n", argv[1]);
        return 1;
    }
    /* redsink's settings (doc/schema.md, "Settings, and why") */
    exec("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
         "PRAGMA temp_store = FILE; PRAGMA mmap_size = 0; PRAGMA secure_delete = OFF;"
         "PRAGMA wal_autocheckpoint = 4096; PRAGMA cache_size = -16384;");
    exec("CREATE TABLE g_keys(id INTEGER PRIMARY KEY, db INTEGER NOT NULL, key TEXT NOT NULL,"
         " type TEXT NOT NULL, expire_at INTEGER, value TEXT, lhead INTEGER);"
         "CREATE TABLE g_hash(kid INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,"
         " expire_at INTEGER, PRIMARY KEY (kid, field)) WITHOUT ROWID;"
         "CREATE TABLE g_list(kid INTEGER NOT NULL, pos INTEGER NOT NULL, value TEXT NOT NULL,"
         " PRIMARY KEY (kid, pos)) WITHOUT ROWID;"
         "CREATE TABLE g_set(kid INTEGER NOT NULL, member TEXT NOT NULL,"
         " PRIMARY KEY (kid, member)) WITHOUT ROWID;"
         "CREATE TABLE g_zset(kid INTEGER NOT NULL, member TEXT NOT NULL, score REAL,"
         " PRIMARY KEY (kid, member)) WITHOUT ROWID;"
         "CREATE TABLE g_stream(kid INTEGER NOT NULL, ms INTEGER NOT NULL, seq INTEGER NOT NULL,"
         " pos INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,"
         " PRIMARY KEY (kid, ms, seq, pos)) WITHOUT ROWID;");
    sqlite3_stmt *key = prep("INSERT INTO g_keys(id, db, key, type, value, lhead)"
                             " VALUES (?1, 0, ?2, ?3, ?4, ?5)");
    sqlite3_stmt *el = child ? prep(child) : NULL;
    struct timespec t0, t1;
    char kbuf[64], fbuf[64], vbuf[64];
    unsigned seed = 1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    exec("BEGIN");
    for (long k = 1; k <= nkeys; k++) {
        /* RDB order is hash order: the key names are not sorted */
        seed = seed * 1103515245u + 12345u;
        int kl = snprintf(kbuf, sizeof(kbuf), "key:%u:%ld", seed % 1000003u, k);
        sqlite3_bind_int64(key, 1, k);
        sqlite3_bind_text(key, 2, kbuf, kl, SQLITE_STATIC);
        sqlite3_bind_text(key, 3, is_string ? "string" : kind, -1, SQLITE_STATIC);
        if (is_string) {
            int vl = snprintf(vbuf, sizeof(vbuf), "value:%ld", k);
            sqlite3_bind_text(key, 4, vbuf, vl, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(key, 4);
        }
        if (is_list)
            sqlite3_bind_int64(key, 5, 0);
        else
            sqlite3_bind_null(key, 5);
        run(key);
        row_done();
        if (!el)
            continue;
        long n = is_stream ? nelem * 3 : nelem;
        for (long e = 0; e < n; e++) {
            seed = seed * 1103515245u + 12345u;
            /* members/fields in no particular order, as Redis stores them */
            int fl = snprintf(fbuf, sizeof(fbuf), "member:%u", seed % 100000000u);
            int vl = snprintf(vbuf, sizeof(vbuf), "value:%ld", e);
            sqlite3_bind_int64(el, 1, k);
            sqlite3_bind_text(el, 2, is_stream ? "field" : fbuf, is_stream ? 5 : fl,
                              SQLITE_STATIC);
            sqlite3_bind_text(el, 3, vbuf, vl, SQLITE_STATIC);
            sqlite3_bind_int64(el, 4, is_stream ? 1700000000000 + e / 3 : e);
            sqlite3_bind_double(el, 5, (double)(seed % 1000000) / 7.0);
            sqlite3_bind_int64(el, 6, e % 3);
            sqlite3_step(el); /* SQLITE_CONSTRAINT: a repeated random member, skipped */
            sqlite3_reset(el);
            row_done();
        }
    }
    exec("COMMIT");
    exec("CREATE UNIQUE INDEX g_keys_key ON g_keys(key, db)");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("kind=%s keys=%ld rows=%ld seconds=%.3f rows_per_sec=%.0f\n", kind, nkeys, rows, s,
           rows / s);
    sqlite3_finalize(key);
    sqlite3_finalize(el);
    sqlite3_close(db);
    return 0;
}
