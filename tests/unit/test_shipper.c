/*
 * test_shipper.c - the PostgreSQL shipper (sinks/shipper.h) against a real
 * PostgreSQL cluster (started by tests/integration/postgres.sh, which sets
 * PGHOST etc., and PG_STOP_CMD / PG_START_CMD to stop and start it).
 *
 * The mirror is made by the real SQLite sink; the outbox rows are written
 * here as shipper.h specifies, with a pre-update hook on our own
 * connection recording the keys of the rows changed. The PostgreSQL views are read with libpq and
 * checked row by row, byte-exact through the X_bytes columns.
 *
 * Exit status: 0 pass, 77 skip (no PostgreSQL), 99 fail.
 *
 * Also a benchmark, not run by "make check" (bench/pg_copy.sh):
 *   test_shipper --bench N     N string keys and N hash fields: the
 *       whole-mirror copy against a bare COPY of the same rows, then
 *       N/10 outbox rows of 10 changes each shipped
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "harness.h"
#include "outbox_pk.h"
#include "shipper.h"
#include "sink.h"

#define LIT(s) ((struct rs_bytes){ (s), sizeof(s) - 1 })
#define REPLID "0123456789abcdef0123456789abcdef01234567"

static const char *conninfo;
static char path[512];
static PGconn *pg;             /* the checks' own connection */
static sqlite3 *wr;            /* our writer, for the outbox rows */

static void log_cb(void *arg, int level, const char *msg)
{
    (void)arg;
    printf("# shipper log %d: %s\n", level, msg);
}

/* ---- reading PostgreSQL ---- */

/* Every row of 'sql' as "c1|c2;c1|c2" (NULL as "NULL"). */
static const char *pq_rows(PGconn *c, const char *sql)
{
    static char out[1 << 22];
    PGresult *r = PQexec(c, sql);
    size_t n = 0;

    out[0] = '\0';
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(out, sizeof(out), "SQL ERROR %s", PQresultErrorMessage(r));
        PQclear(r);
        return out;
    }
    for (int i = 0; i < PQntuples(r); i++)
        for (int j = 0; j < PQnfields(r) && n < sizeof(out) - 1; j++) {
            n += snprintf(out + n, sizeof(out) - n, "%s%s", j ? "|" : i ? ";" : "",
                          PQgetisnull(r, i, j) ? "NULL" : PQgetvalue(r, i, j));
            n = n >= sizeof(out) ? sizeof(out) - 1 : n;
        }
    PQclear(r);
    return out;
}

static void check_pq_at(int line, PGconn *c, const char *sql, const char *want)
{
    const char *got = pq_rows(c, sql);

    check_at(line, 0, strcmp(got, want) == 0, "%s => '%.200s'%s%s", sql, got,
             strcmp(got, want) ? " want " : "", strcmp(got, want) ? want : "");
}
#define CHECK_PQ(sql, want) check_pq_at(__LINE__, pg, (sql), (want))

static void pq_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);

    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* ---- waiting for the shipper: polls its status, up to 30 s ---- */

typedef int ship_cond(const struct ship_status *st, int64_t arg);

static int at_gen(const struct ship_status *st, int64_t gen)
{
    return st->gen == gen && strcmp(st->state, "streaming") == 0;
}

static int at_seq(const struct ship_status *st, int64_t seq)
{
    return st->seq == seq && strcmp(st->state, "streaming") == 0;
}

static int is_down(const struct ship_status *st, int64_t arg)
{
    (void)arg;
    return strcmp(st->state, "down") == 0 && st->error[0];
}

static int cannot_connect(const struct ship_status *st, int64_t arg)
{
    (void)arg;
    return strcmp(st->state, "down") == 0 && strstr(st->error, "cannot connect to host=/");
}

static int wait_for(struct shipper *sh, ship_cond *cond, int64_t arg, struct ship_status *st)
{
    for (int i = 0; i < 3000; i++) {
        shipper_status(sh, st);
        if (cond(st, arg))
            return 1;
        usleep(10000);
    }
    printf("# gave up waiting: state %s gen %lld seq %lld error '%s'\n", st->state,
           (long long)st->gen, (long long)st->seq, st->error);
    return 0;
}

/* ---- the mirror ---- */

static int64_t mkkey(struct sink *s, struct rs_bytes key, enum rs_type t, int64_t exp,
                     const struct rs_bytes *v)
{
    int64_t id = -1;

    CHECK(s->ops->key_create(s, 0, &key, t, exp, v, &id) == 0, "key_create: %s", s->err.msg);
    return id;
}

static int64_t status_int(const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;

    if (sqlite3_prepare_v2(wr, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A full sync of the first mirror through the real sink. */
static void load_first(struct sink *s)
{
    struct repl_pos pos = { REPLID, 100, 0 };
    size_t big = 1 << 20;
    char *f = malloc(2 * big);
    struct rs_bytes v;
    int64_t id;

    memset(f, 'f', 2 * big);
    CHECK(s->ops->load_begin(s) == 0, "load_begin");
    mkkey(s, LIT("user:1"), RS_T_STRING, RS_NO_EXPIRE, &LIT("Ada"));
    mkkey(s, LIT("\xff\xfe"), RS_T_STRING, RS_NO_EXPIRE, &LIT("a\0b"));
    mkkey(s, LIT("\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87"), RS_T_STRING, RS_NO_EXPIRE,
          &LIT("\xd0\xb7\xd0\xbd\xd0\xb0\xd1\x87"));
    mkkey(s, LIT("gone"), RS_T_STRING, 1000, &LIT("expired"));
    v = (struct rs_bytes){ f, 2 * big };
    mkkey(s, LIT("big"), RS_T_STRING, RS_NO_EXPIRE, &v);
    id = mkkey(s, LIT("h"), RS_T_HASH, RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, id, &LIT("f1"), &LIT("v1"), RS_NO_EXPIRE, NULL);
    v = (struct rs_bytes){ f, big };
    s->ops->hash_set(s, id, &v, &LIT("bigfield"), RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, id, &LIT("old"), &LIT("x"), 1000, NULL);
    id = mkkey(s, LIT("l"), RS_T_LIST, RS_NO_EXPIRE, NULL);
    s->ops->list_push(s, id, 0, &LIT("a"));
    s->ops->list_push(s, id, 0, &LIT("b"));
    s->ops->list_push(s, id, 1, &LIT("c"));
    id = mkkey(s, LIT("s"), RS_T_SET, RS_NO_EXPIRE, NULL);
    s->ops->set_add(s, id, &LIT("x"), NULL);
    s->ops->set_add(s, id, &LIT("\xc0"), NULL);
    id = mkkey(s, LIT("z"), RS_T_ZSET, RS_NO_EXPIRE, NULL);
    s->ops->zset_set(s, id, &LIT("m1"), 1.5);
    id = mkkey(s, LIT("ph"), RS_T_PATHHASH, RS_NO_EXPIRE, NULL);
    s->ops->ph_set(s, id, &LIT("a/b"), &LIT("f1"), &LIT("v1"));
    s->ops->ph_set(s, id, &LIT("a/b"), &LIT("\xff"), &LIT("bin"));
    s->ops->ph_set(s, id, &LIT("c"), &LIT("g"), &LIT("w"));
    CHECK(s->ops->load_commit(s, &pos) == 0, "load_commit: %s", s->err.msg);
    free(f);
}

/* The keys of the rows 'sql' changes, recorded as the SQLite sink does
 * (sqlite_outbox.c): a pre-update hook, the rowid of keys/big/bigm/bign, the
 * leading key columns of the others. */
struct recorder {
    struct pk_set keys;
    char prefix[32];
    size_t plen;
};

static void record_hook(void *arg, sqlite3 *db, int op, const char *zdb, const char *table,
                        sqlite3_int64 k1, sqlite3_int64 k2)
{
    struct recorder *r = arg;
    int t = outbox_table_id(table, r->prefix, r->plen);

    (void)zdb;
    for (int side = 0; t >= 0 && side < 2; side++) {
        sqlite3_value *v;

        if ((side == 0 && op == SQLITE_INSERT) || (side == 1 && op == SQLITE_DELETE))
            continue;
        pk_set_begin(&r->keys, t);
        if (outbox_tables[t].rowid)
            pk_set_put_int(&r->keys, side ? k2 : k1);
        for (int c = 0; !outbox_tables[t].rowid && c < outbox_tables[t].npk; c++) {
            if (side == 0)
                sqlite3_preupdate_old(db, c, &v);
            else
                sqlite3_preupdate_new(db, c, &v);
            if (sqlite3_value_type(v) == SQLITE_INTEGER)
                pk_set_put_int(&r->keys, sqlite3_value_int64(v));
            else
                pk_set_put_bytes(&r->keys, sqlite3_value_type(v) == SQLITE_TEXT,
                                 sqlite3_value_blob(v), sqlite3_value_bytes(v));
        }
        pk_set_end(&r->keys);
    }
}

/* One stream transaction as the SQLite sink writes it: 'sql' run with
 * the keys it changes recorded, stored in the outbox with the new
 * offset, in one transaction. */
static void outbox_txn(const char *sql, int64_t offset)
{
    int64_t gen = status_int("SELECT generation FROM redsink_status");
    struct recorder r = { 0 };
    sqlite3_stmt *st;
    char buf[80];
    int rc;

    r.plen = (size_t)snprintf(r.prefix, sizeof(r.prefix), "g%lld_", (long long)gen);
    rc = sqlite3_exec(wr, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_preupdate_hook(wr, record_hook, &r);
    rc |= sqlite3_exec(wr, sql, NULL, NULL, NULL);
    sqlite3_preupdate_hook(wr, NULL, NULL);
    rc |= sqlite3_prepare_v2(wr, "INSERT INTO redsink_outbox(gen, replid, offset, at, pks)"
                             " VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, gen);
    sqlite3_bind_text(st, 2, REPLID, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, offset);
    sqlite3_bind_int64(st, 4, rs_now_ms());
    sqlite3_bind_blob(st, 5, r.keys.buf, (int)r.keys.len, SQLITE_STATIC);
    rc |= sqlite3_step(st) != SQLITE_DONE;
    sqlite3_finalize(st);
    snprintf(buf, sizeof(buf), "UPDATE redsink_status SET offset = %lld", (long long)offset);
    rc |= sqlite3_exec(wr, buf, NULL, NULL, NULL);
    rc |= sqlite3_exec(wr, "COMMIT", NULL, NULL, NULL);
    CHECK(rc == 0 && r.keys.len > 0, "outbox row of %zu bytes for: %.60s (%s)", r.keys.len, sql,
          sqlite3_errmsg(wr));
    pk_set_release(&r.keys);
}

/* ---- the checks ---- */

/* Every view, row by row, the same in SQLite and in PostgreSQL: the
 * exact bytes (hex of X_bytes), and X text exactly when they are UTF-8
 * without NUL. */
#define HX(c) "(substr(upper(encode(" c "_bytes, 'hex')), 1, 64) || ':' || length(" c "_bytes))"
#define TX(c) "coalesce(left(" c ", 32) || ':' || length(" c "), '<null>')"
#define SQ_HX(c) "(substr(hex(" c "), 1, 64) || ':' || length(CAST(" c " AS BLOB)))"
#define SQ_TX(c) "CASE WHEN typeof(" c ") = 'text' AND instr(" c ", char(0)) = 0 THEN" \
    " substr(" c ", 1, 32) || ':' || length(" c ") ELSE '<null>' END"
static const char *const views[][2] = {
    { "SELECT db, " SQ_HX("key") ", " SQ_TX("key") ", type, expire_at FROM redis_keys ORDER BY 1, 2",
      "SELECT db, " HX("key") ", " TX("key") ", type, expire_at FROM redis.redis_keys"
      " ORDER BY 1, 2" },
    { "SELECT db, " SQ_HX("key") ", " SQ_HX("value") ", " SQ_TX("value") " FROM redis_strings ORDER BY 1, 2",
      "SELECT db, " HX("key") ", " HX("value") ", " TX("value") " FROM redis.redis_strings"
      " ORDER BY 1, 2" },
    { "SELECT db, " SQ_HX("key") ", " SQ_HX("field") ", " SQ_TX("field") ", " SQ_HX("value") ", expire_at"
      " FROM redis_hashes ORDER BY 1, 2, 3",
      "SELECT db, " HX("key") ", " HX("field") ", " TX("field") ", " HX("value") ", expire_at"
      " FROM redis.redis_hashes ORDER BY 1, 2, 3" },
    { "SELECT db, " SQ_HX("key") ", idx, " SQ_HX("value") " FROM redis_lists ORDER BY 1, 2, 3",
      "SELECT db, " HX("key") ", idx, " HX("value") " FROM redis.redis_lists"
      " ORDER BY 1, 2, 3" },
    { "SELECT db, " SQ_HX("key") ", " SQ_HX("member") ", " SQ_TX("member") " FROM redis_sets ORDER BY 1, 2, 3",
      "SELECT db, " HX("key") ", " HX("member") ", " TX("member") " FROM redis.redis_sets"
      " ORDER BY 1, 2, 3" },
    { "SELECT db, " SQ_HX("key") ", " SQ_HX("member") ", score FROM redis_zsets ORDER BY 1, 2, 3",
      "SELECT db, " HX("key") ", " HX("member") ", score FROM redis.redis_zsets"
      " ORDER BY 1, 2, 3" },
    { "SELECT db, " SQ_HX("key") ", " SQ_HX("path") ", " SQ_TX("path") ", " SQ_HX("field") ", "
      SQ_TX("field") ", " SQ_HX("value") ", " SQ_TX("value") " FROM redis_path_hashes"
      " ORDER BY 1, 2, 3, 5",
      "SELECT db, " HX("key") ", " HX("path") ", " TX("path") ", " HX("field") ", " TX("field")
      ", " HX("value") ", " TX("value") " FROM redis.redis_path_hashes ORDER BY 1, 2, 3, 5" },
};

static void compare_views(const char *when)
{
    static char want[1 << 22];

    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
        const char *got = pq_rows(pg, views[i][1]);

        size_t at = 0;

        reader_rows(wr, views[i][0], '|', want, sizeof(want));
        while (got[at] && got[at] == want[at])
            at++;
        at = at > 100 ? at - 100 : 0;     /* show from a little before they differ */
        CHECK(strcmp(got, want) == 0, "%s: PostgreSQL = SQLite for %.40s%s%.300s%s%.300s", when,
              views[i][0] + 7, strcmp(got, want) ? "\n#  got  " : "",
              strcmp(got, want) ? got + at : "", strcmp(got, want) ? "\n#  want " : "",
              strcmp(got, want) ? want + at : "");
    }
}

static void check_first_copy(void)
{
    CHECK_PQ("SELECT key, encode(key_bytes, 'hex'), type FROM redis.redis_keys ORDER BY key_bytes",
             "big|626967|string;h|68|hash;l|6c|list;ph|7068|path-hash;s|73|set;"
             "user:1|757365723a31|string;"
             "z|7a|zset;\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87|d0bad0bbd18ed187|string;NULL|fffe|string");
    CHECK_PQ("SELECT count(*) FROM redis.keys WHERE key = 'gone'", "1");
    CHECK_PQ("SELECT value, encode(value_bytes, 'hex') FROM redis.redis_strings"
             " WHERE key_bytes = '\\xfffe'", "NULL|610062");
    CHECK_PQ("SELECT value FROM redis.redis_strings WHERE key = 'user:1'", "Ada");
    CHECK_PQ("SELECT value FROM redis.redis_strings WHERE key = '\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87'",
             "\xd0\xb7\xd0\xbd\xd0\xb0\xd1\x87");
    CHECK_PQ("SELECT length(value), length(value_bytes), value = repeat('f', 2097152)"
             " FROM redis.redis_strings WHERE key = 'big'", "2097152|2097152|t");
    CHECK_PQ("SELECT length(field), field_bytes = convert_to(repeat('f', 1048576), 'UTF8'),"
             " value FROM redis.redis_hashes WHERE key = 'h' ORDER BY length(field)",
             "2|f|v1;1048576|t|bigfield");
    CHECK_PQ("SELECT idx, value FROM redis.redis_lists WHERE key = 'l' ORDER BY idx",
             "0|c;1|a;2|b");
    CHECK_PQ("SELECT member, encode(member_bytes, 'hex') FROM redis.redis_sets WHERE key = 's'"
             " ORDER BY member_bytes", "x|78;NULL|c0");
    CHECK_PQ("SELECT member, score FROM redis.redis_zsets WHERE key = 'z'", "m1|1.5");
    CHECK_PQ("SELECT master_replid, \"offset\", state, outbox_seq FROM redis.redsink_status",
             REPLID "|100|new|0");
    /* WHERE key = '...' on a view can use an index (hash index on keys.key) */
    pq_exec(pg, "SET enable_seqscan = off");
    CHECK(strstr(pq_rows(pg, "EXPLAIN SELECT * FROM redis.redis_hashes WHERE key = 'h'"),
                 "keys_key") != NULL, "redis_hashes WHERE key = uses keys_key: %s",
          pq_rows(pg, "EXPLAIN SELECT * FROM redis.redis_hashes WHERE key = 'h'"));
    pq_exec(pg, "RESET enable_seqscan");
}

static void check_streaming(struct shipper *sh)
{
    struct ship_status st;

    outbox_txn("UPDATE g2_keys SET value = 'Grace' WHERE key = 'user:1';"
               "INSERT INTO g2_hash(kid, field, value) SELECT id, 'f2', x'00ff' FROM g2_keys"
               " WHERE key = 'h';"
               "DELETE FROM g2_hash WHERE value = 'bigfield';"
               "DELETE FROM g2_set WHERE member = 'x';"
               "UPDATE g2_zset SET score = 2.5 WHERE member = 'm1';"
               "UPDATE g2_phash SET value = 'v2' WHERE field = 'f1';"
               "DELETE FROM g2_phash WHERE path = 'c';"
               "INSERT INTO g2_phash(kid, path, field, value) SELECT id, 'd/e', 'h', x'00'"
               " FROM g2_keys WHERE key = 'ph';", 200);
    outbox_txn("INSERT INTO g2_keys(db, key, type, value) VALUES (0, 'k2', 'string', 'v2')", 300);
    shipper_notify(sh);
    CHECK(wait_for(sh, at_seq, 2, &st), "shipped outbox seq 2");
    CHECK_INT(shipper_shipped_seq(sh), 2, "shipper_shipped_seq");
    CHECK_PQ("SELECT value FROM redis.redis_strings WHERE key IN ('user:1', 'k2') ORDER BY key",
             "v2;Grace");
    CHECK_PQ("SELECT field, value, encode(value_bytes, 'hex') FROM redis.redis_hashes"
             " WHERE key = 'h' ORDER BY field", "f1|v1|7631;f2|NULL|00ff");
    CHECK_PQ("SELECT member FROM redis.redis_sets WHERE key = 's'", "NULL");
    CHECK_PQ("SELECT score FROM redis.redis_zsets WHERE key = 'z'", "2.5");
    CHECK_PQ("SELECT path, field, value, encode(value_bytes, 'hex') FROM redis.redis_path_hashes"
             " WHERE key = 'ph' ORDER BY path_bytes, field_bytes",
             "a/b|f1|v2|7632;a/b|NULL|bin|62696e;d/e|h|NULL|00");
    CHECK_PQ("SELECT \"offset\", outbox_seq, generation FROM redis.redsink_status", "300|2|2");
}

/* PostgreSQL stopped mid-stream: "down" with the error, the outbox rows
 * wait; restarted: shipped once. One key changed by 50 transactions
 * meanwhile (Grace1 .. Grace49, Grace) is written to PostgreSQL once, as
 * it is at the snapshot. */
static void check_restart(struct shipper *sh)
{
    struct ship_status st;
    const char *stop = getenv("PG_STOP_CMD"), *start = getenv("PG_START_CMD");
    char sql[160];

    if (!stop || !start) {
        printf("# no PG_STOP_CMD/PG_START_CMD: restart not checked\n");
        return;
    }
    pq_exec(pg, "CREATE TABLE public.keys_writes(n int); INSERT INTO public.keys_writes VALUES (0);"
                "CREATE FUNCTION public.count_write() RETURNS trigger LANGUAGE plpgsql AS"
                " 'BEGIN UPDATE public.keys_writes SET n = n + 1; RETURN NULL; END';"
                "CREATE TRIGGER count_write AFTER INSERT OR UPDATE ON redis.keys FOR EACH ROW"
                " EXECUTE FUNCTION public.count_write()");
    PQfinish(pg);
    CHECK(system(stop) == 0, "PostgreSQL stopped");
    outbox_txn("INSERT INTO g2_list(kid, pos, value) SELECT id, 5, 'd' FROM g2_keys"
               " WHERE key = 'l'", 400);
    shipper_notify(sh);
    CHECK(wait_for(sh, is_down, 0, &st), "state down while PostgreSQL is stopped: %s", st.error);
    CHECK(strncmp(st.error, "postgres: ", 10) == 0 && strchr(st.error, '\n') == NULL,
          "one-line error: %s", st.error);
    CHECK_INT(st.lag_bytes, 100, "lag in bytes while PostgreSQL is down");
    CHECK(st.lag_ms >= 0 && st.seq == 2, "lag %lld ms, PostgreSQL at seq %lld",
          (long long)st.lag_ms, (long long)st.seq);
    for (int i = 1; i <= 50; i++) {
        /* the last value is the one it had: later checks read it */
        snprintf(sql, sizeof(sql), "UPDATE g2_keys SET value = 'Grace%.0d' WHERE key = 'user:1'",
                 i % 50);
        outbox_txn(sql, 400 + i);
    }
    CHECK(wait_for(sh, cannot_connect, 0, &st), "retried, cannot connect: %s", st.error);
    CHECK(strstr(st.error, "port=5432 dbname=postgres: ") != NULL, "names the target: %s",
          st.error);
    CHECK(system(start) == 0, "PostgreSQL started");
    pg = PQconnectdb(conninfo);
    CHECK(wait_for(sh, at_seq, 53, &st), "shipped outbox seq 53 after the restart");
    CHECK_PQ("SELECT idx, value FROM redis.redis_lists WHERE key = 'l' ORDER BY idx",
             "0|c;1|a;2|b;6|d");
    CHECK_PQ("SELECT value FROM redis.redis_strings WHERE key = 'user:1'", "Grace");
    CHECK_PQ("SELECT n FROM public.keys_writes", "1");
    CHECK_PQ("SELECT \"offset\", outbox_seq FROM redis.redsink_status", "450|53");
    pq_exec(pg, "DROP TRIGGER count_write ON redis.keys; DROP FUNCTION public.count_write();"
                "DROP TABLE public.keys_writes");
}

/* A full sync (a new generation) while a reader holds a transaction open:
 * the copy is not blocked, the reader sees the old mirror until it ends. */
static void check_recopy(struct sink *s, struct shipper *sh)
{
    struct repl_pos pos = { REPLID, 1000, 0 };
    PGconn *rd = PQconnectdb(conninfo);
    struct ship_status st;
    int64_t gen;

    pq_exec(rd, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    check_pq_at(__LINE__, rd, "SELECT count(*) FROM redis.redis_keys", "10");
    CHECK(s->ops->load_begin(s) == 0, "load_begin 2");
    mkkey(s, LIT("new:1"), RS_T_STRING, RS_NO_EXPIRE, &LIT("fresh"));
    CHECK(s->ops->load_commit(s, &pos) == 0, "load_commit 2: %s", s->err.msg);
    gen = status_int("SELECT generation FROM redsink_status");
    shipper_notify(sh);
    CHECK(wait_for(sh, at_gen, gen, &st), "copied generation %lld while a reader is open",
          (long long)gen);
    CHECK_INT(st.copies, 2, "copies");
    CHECK_INT(st.rows_copied, 1, "rows of the last copy");
    check_pq_at(__LINE__, rd, "SELECT count(*), max(value) FROM redis.redis_strings"
                " WHERE key = 'user:1'", "1|Grace");
    check_pq_at(__LINE__, rd, "SELECT count(*) FROM redis.redis_keys", "10");
    pq_exec(rd, "COMMIT");
    check_pq_at(__LINE__, rd, "SELECT key, value FROM redis.redis_strings", "new:1|fresh");
    CHECK_PQ("SELECT \"offset\", generation FROM redis.redsink_status", "1000|3");
    PQfinish(rd);
}

/* PostgreSQL crashes (immediate shutdown) in the middle of a copy: held
 * by a lock at the DELETE before the last table's COPY, then killed. Restarted, the
 * copy is done again from the start, and the views equal SQLite's. */
static void check_killed_copy(struct sink *s, struct shipper *sh)
{
    struct repl_pos pos = { REPLID, 2000, 0 };
    const char *crash = getenv("PG_CRASH_CMD"), *start = getenv("PG_START_CMD");
    PGconn *lk = PQconnectdb(conninfo);
    struct ship_status st;
    int64_t gen;
    int held = 0;

    if (!crash || !start) {
        printf("# no PG_CRASH_CMD/PG_START_CMD: crash mid-copy not checked\n");
        return;
    }
    pq_exec(lk, "BEGIN");
    pq_exec(lk, "LOCK TABLE redis.\"array\" IN SHARE MODE");
    CHECK(s->ops->load_begin(s) == 0, "load_begin 3");
    mkkey(s, LIT("after:crash"), RS_T_STRING, RS_NO_EXPIRE, &LIT("v"));
    mkkey(s, LIT("user:1"), RS_T_STRING, RS_NO_EXPIRE, &LIT("Ada"));
    CHECK(s->ops->load_commit(s, &pos) == 0, "load_commit 3: %s", s->err.msg);
    gen = status_int("SELECT generation FROM redsink_status");
    shipper_notify(sh);
    for (int i = 0; i < 3000 && !held; i++) {
        held = strcmp(pq_rows(pg, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE"
                              " 'DELETE FROM redis.\"array\"%' AND wait_event_type = 'Lock'"), "1") == 0;
        usleep(10000);
    }
    CHECK(held, "the copy waits at its last table");
    shipper_status(sh, &st);
    CHECK(strcmp(st.state, "copying") == 0 && st.rows_copied == 2, "state %s, %lld rows sent",
          st.state, (long long)st.rows_copied);
    CHECK(system(crash) == 0, "PostgreSQL crashed (immediate shutdown)");
    PQfinish(lk);                 /* only now: the lock held the copy until the crash */
    PQfinish(pg);
    CHECK(wait_for(sh, is_down, 0, &st), "down after the crash: %s", st.error);
    CHECK(system(start) == 0, "PostgreSQL started");
    pg = PQconnectdb(conninfo);
    CHECK(wait_for(sh, at_gen, gen, &st), "copied generation %lld after the crash", (long long)gen);
    CHECK_PQ("SELECT key FROM redis.redis_keys ORDER BY key", "after:crash;user:1");
    CHECK_PQ("SELECT \"offset\", generation FROM redis.redsink_status", "2000|4");
}

/* A role that may not create the schema: a clear error, retried. */
static void check_no_privilege(void)
{
    struct pg_options o = { .conninfo = "user=weak", .schema = "weak_schema" };
    struct ship_status st;
    struct rs_error err = { 0 };
    struct shipper *sh;
    char ci[600];

    pq_exec(pg, "CREATE ROLE weak LOGIN");
    snprintf(ci, sizeof(ci), "%s user=weak", conninfo);
    o.conninfo = ci;
    sh = shipper_start(path, &o, log_cb, NULL, &err);
    CHECK(sh != NULL, "shipper_start as weak: %s", err.msg);
    if (sh == NULL)
        return;
    CHECK(wait_for(sh, is_down, 0, &st), "weak role: down");
    CHECK(strstr(st.error, "create schema \"weak_schema\"") &&
          strstr(st.error, "permission denied for database"), "weak role error: %s", st.error);
    shipper_stop(sh);

    /* the same role with DML only on objects that exist: no DDL needed */
    pq_exec(pg, "GRANT USAGE ON SCHEMA redis TO weak");
    pq_exec(pg, "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA redis TO weak");
    pq_exec(pg, "UPDATE redis.redsink_status SET generation = 0");
    o.schema = "redis";
    sh = shipper_start(path, &o, log_cb, NULL, &err);
    CHECK(sh && wait_for(sh, at_gen, 4, &st), "weak role with DML grants copies: %s", st.error);
    shipper_stop(sh);
    compare_views("copied by a role with DML only");

    /* doc/postgres.md's read-only role */
    pq_exec(pg, "CREATE ROLE reader LOGIN");
    pq_exec(pg, "GRANT USAGE ON SCHEMA redis TO reader");
    pq_exec(pg, "GRANT SELECT ON ALL TABLES IN SCHEMA redis TO reader");
    snprintf(ci, sizeof(ci), "%s user=reader", conninfo);
    {
        PGconn *rd = PQconnectdb(ci);

        check_pq_at(__LINE__, rd, "SELECT key FROM redis.redis_keys ORDER BY key",
                    "after:crash;user:1");
        check_pq_at(__LINE__, rd, "SELECT count(*) FROM redis.redsink_status", "1");
        CHECK(strstr(pq_rows(rd, "DELETE FROM redis.keys RETURNING id"), "permission denied"),
              "the read-only role cannot write");
        PQfinish(rd);
    }
    o.password_file = "/nonexistent/pw";
    CHECK(shipper_start(path, &o, log_cb, NULL, &err) == NULL &&
          strstr(err.msg, "password file '/nonexistent/pw'"), "bad password file: %s", err.msg);
}

/* A schema made by the first layout (keys.value text beside value_bytes):
 * one line saying what to do, nothing written. */
static void check_old_layout(void)
{
    struct pg_options o = { .conninfo = conninfo, .schema = "old_layout" };
    struct ship_status st;
    struct rs_error err = { 0 };
    struct shipper *sh;

    pq_exec(pg, "CREATE SCHEMA old_layout; CREATE TABLE old_layout.keys(id bigint PRIMARY KEY,"
            " db bigint, key text, key_bytes bytea, type text, expire_at bigint, value text,"
            " value_bytes bytea, lhead bigint)");
    sh = shipper_start(path, &o, log_cb, NULL, &err);
    CHECK(sh && wait_for(sh, is_down, 0, &st), "old layout: down");
    if (sh == NULL)
        return;
    CHECK(strstr(st.error, "schema \"old_layout\" holds the tables of an earlier redsink") &&
          strstr(st.error, "DROP SCHEMA old_layout CASCADE"), "old layout error: %s", st.error);
    shipper_stop(sh);
    CHECK_PQ("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
             " WHERE n.nspname = 'old_layout'", "2");          /* keys and its pkey index */
}

/* ---- the benchmark ---- */

static double since(int64_t t0)
{
    return (double)(rs_mono_ms() - t0) / 1000.0;
}

static void bench_load(struct sink *s, long n)
{
    struct repl_pos pos = { REPLID, 100, 0 };
    char k[32], v[101];
    int64_t id = 0;

    memset(v, 'v', 100);
    v[100] = '\0';
    s->ops->load_begin(s);
    for (long i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "key:%ld", i);
        mkkey(s, (struct rs_bytes){ k, strlen(k) }, RS_T_STRING, RS_NO_EXPIRE,
              &(struct rs_bytes){ v, 100 });
        if (i % 100 == 0) {
            snprintf(k, sizeof(k), "hash:%ld", i);
            id = mkkey(s, (struct rs_bytes){ k, strlen(k) }, RS_T_HASH, RS_NO_EXPIRE, NULL);
        }
        snprintf(k, sizeof(k), "field:%ld", i);
        s->ops->hash_set(s, id, &(struct rs_bytes){ k, strlen(k) }, &(struct rs_bytes){ v, 20 },
                         RS_NO_EXPIRE, NULL);
    }
    s->ops->load_commit(s, &pos);
}

static const char *const shipped[] = { "keys", "hash", "list", "set", "zset", "stream",
                                       "array", "phash", NULL };

/* The same DELETE + COPY in one transaction, from files PostgreSQL wrote
 * itself with COPY TO: PostgreSQL's own cost, the floor for the copy. */
static double bench_bare_copy(void)
{
    char sql[512];
    int64_t t0;

    for (int i = 0; shipped[i]; i++) {
        snprintf(sql, sizeof(sql), "COPY redis.\"%s\" TO '%s/%s.bin' (FORMAT binary)", shipped[i],
                 getenv("PGHOST"), shipped[i]);
        pq_exec(pg, sql);
    }
    t0 = rs_mono_ms();
    pq_exec(pg, "BEGIN");
    for (int i = 0; shipped[i]; i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM redis.\"%s\"", shipped[i]);
        pq_exec(pg, sql);
        snprintf(sql, sizeof(sql), "COPY redis.\"%s\" FROM '%s/%s.bin' (FORMAT binary)",
                 shipped[i], getenv("PGHOST"), shipped[i]);
        pq_exec(pg, sql);
    }
    pq_exec(pg, "COMMIT");
    return since(t0);
}

/* The best of 5 runs of a query that reads every row's text. */
static void bench_read(const char *sql)
{
    double best = 1e9;

    for (int i = 0; i < 5; i++) {
        int64_t t0 = rs_mono_ms();
        const char *rows = pq_rows(pg, sql);
        double t = since(t0);

        if (i == 0)
            printf("read: %s => %s\n", sql, rows);
        best = t < best ? t : best;
    }
    printf("  best of 5: %.0f ms\n", best * 1000);
}

static int bench(long n)
{
    struct pg_options o = { .conninfo = conninfo, .schema = "redis" };
    struct rs_error err = { 0 };
    struct ship_status st;
    struct shipper *sh;
    struct sink *s = mirror_sink_open(path, &err);
    struct tbuf b = { 0 };
    int64_t gen, t0;
    double ours, bare, ship;
    long rows = n / 10;

    sqlite3_exec(wr, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
    bench_load(s, n);
    gen = status_int("SELECT generation FROM redsink_status");
    sh = shipper_start(path, &o, NULL, NULL, &err);
    wait_for(sh, at_gen, gen, &st);               /* creates the schema */
    shipper_stop(sh);
    pq_exec(pg, "UPDATE redis.redsink_status SET generation = 0");
    t0 = rs_mono_ms();
    sh = shipper_start(path, &o, NULL, NULL, &err);
    wait_for(sh, at_gen, gen, &st);
    ours = since(t0);
    shipper_stop(sh);
    bare = bench_bare_copy();
    printf("copy: %lld rows: redsink %.2f s (%.0f rows/s), bare COPY %.2f s (%.0f rows/s),"
           " ratio %.2f\n", (long long)st.rows_copied, ours, st.rows_copied / ours, bare,
           st.rows_copied / bare, ours / bare);
    pq_exec(pg, "VACUUM ANALYZE");
    for (int i = 0; i < 2; i++) {
        static const char *const q[] = {
            "EXPLAIN (ANALYZE, COSTS OFF) SELECT value FROM redis.redis_strings WHERE key = 'key:1234'",
            "EXPLAIN (ANALYZE, COSTS OFF) SELECT value FROM redis.redis_hashes WHERE key = 'hash:0'"
            " AND field = 'field:50'",
        };
        printf("lookup: %s\n  %s\n", q[i] + 33, pq_rows(pg, q[i]));
    }
    bench_read("SELECT sum(length(value)) FROM redis.redis_strings");
    bench_read("SELECT count(*) FROM redis.redis_hashes WHERE field LIKE 'field:1%'");
    printf("size: %s\n", pq_rows(pg, "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid)))"
           " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
           " WHERE n.nspname = 'redis' AND c.relkind = 'r'"));
    /* outbox rows of 10 changes each: 5 new hash fields, 5 updated strings */
    for (long i = 0; i < rows; i++) {
        tbuf_printf(&b, "INSERT INTO g%lld_hash(kid, field, value) SELECT id, 'new:%ld:' || x, 'w'"
                    " FROM g%lld_keys, (SELECT 1 AS x UNION SELECT 2 UNION SELECT 3 UNION"
                    " SELECT 4 UNION SELECT 5) WHERE key = 'hash:0';"
                    "UPDATE g%lld_keys SET value = 'u%ld' WHERE key IN ('key:%ld', 'key:%ld',"
                    " 'key:%ld', 'key:%ld', 'key:%ld')", (long long)gen, i, (long long)gen,
                    (long long)gen, i, (i * 5) % n, (i * 5 + 1) % n, (i * 5 + 2) % n,
                    (i * 5 + 3) % n, (i * 5 + 4) % n);
        outbox_txn(b.p, 1000 + i);
        b.len = 0;
    }
    tbuf_free(&b);
    t0 = rs_mono_ms();
    sh = shipper_start(path, &o, NULL, NULL, &err);
    wait_for(sh, at_seq, rows, &st);
    ship = since(t0);
    shipper_stop(sh);
    printf("ship: %ld outbox rows (%ld row changes) in %.2f s: %.0f outbox rows/s,"
           " %.0f changes/s\n", rows, rows * 10, ship, rows / ship, rows * 10 / ship);
    sink_close(s);
    return 0;
}

/* outbox_txn, then wait until the shipper has shipped it. */
static void ship_txn(struct shipper *sh, const char *sql, int64_t offset, const char *what)
{
    struct ship_status st;
    int64_t seq;

    outbox_txn(sql, offset);
    seq = status_int("SELECT max(seq) FROM redsink_outbox");
    shipper_notify(sh);
    CHECK(wait_for(sh, at_seq, seq, &st), "shipped %s (seq %lld)", what, (long long)seq);
}

/* Rounds of more rows than one statement takes (pg_apply.c sends a
 * table's rows in batches of BATCH_ROWS = 512, arrays of every column;
 * a row of BATCH_BIG = 256 KiB of parameters or more alone): 1,025 hash
 * fields, 1,030 set members (a table of key columns only), 600 zset
 * scores, 600 keys with binary names (text NULL) and empty values, values
 * on either side of 256 KiB, a 300 kB hash field, 20 list values of 250 kB
 * (5 MB waiting: sent before 512 rows); then as many deletes,
 * of rows of every kind (the big field's alone), in one round. */
static void check_batches(struct shipper *sh)
{
    int64_t gen = status_int("SELECT generation FROM redsink_status");
    char sql[4096];

#define N(k) "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " #k ") "
#define G "g%1$lld_"
    /* a round of more keys than the shipper holds in memory (shipper.c,
     * SEEN_BYTES = 4 MiB: the batches waiting are sent, the set starts
     * again): 200,000 fields, then the same fields changed, in one round */
    snprintf(sql, sizeof(sql),
             "INSERT INTO " G "keys(db, key, type) VALUES (0, 'bh2', 'hash');"
             N(200000) "INSERT INTO " G "hash(kid, field, value) SELECT (SELECT id FROM " G
             "keys WHERE key = 'bh2'), 'f' || i, 'v' || i FROM n", (long long)gen);
    outbox_txn(sql, 4000);
    snprintf(sql, sizeof(sql), "UPDATE " G "hash SET value = value || 'w' WHERE kid = (SELECT id"
             " FROM " G "keys WHERE key = 'bh2')", (long long)gen);
    ship_txn(sh, sql, 4001, "a round of 400,002 keys (200,001 distinct)");
    snprintf(sql, sizeof(sql), "SELECT count(*) || '|' || sum(length(field) + length(value)) FROM "
             G "hash WHERE kid = (SELECT id FROM " G "keys WHERE key = 'bh2')", (long long)gen);
    {
        char want[64];

        reader_rows(wr, sql, '|', want, sizeof(want));
        CHECK_PQ("SELECT count(*) || '|' || sum(length(field_bytes) + length(value_bytes)) FROM"
                 " redis.redis_hashes WHERE key = 'bh2'", want);
    }
    snprintf(sql, sizeof(sql), "DELETE FROM " G "hash WHERE kid = (SELECT id FROM " G "keys WHERE"
             " key = 'bh2'); DELETE FROM " G "keys WHERE key = 'bh2'", (long long)gen);
    ship_txn(sh, sql, 4002, "a round of 200,001 deletes");
    CHECK_PQ("SELECT count(*) FROM redis.hash WHERE kid NOT IN (SELECT id FROM redis.keys)", "0");
    snprintf(sql, sizeof(sql),
             "INSERT INTO " G "keys(db, key, type) VALUES (0, 'bh', 'hash'), (0, 'bs', 'set'),"
             " (0, 'bz', 'zset'), (0, 'bl', 'list');"
             N(1025) "INSERT INTO " G "hash(kid, field, value) SELECT (SELECT id FROM " G "keys"
             " WHERE key = 'bh'), 'bf' || i, CASE WHEN i %% 15 = 0 THEN '' WHEN i %% 3 = 0"
             " THEN zeroblob(i %% 5) ELSE 'v' || i END FROM n;"
             N(1030) "INSERT INTO " G "set(kid, member) SELECT (SELECT id FROM " G "keys"
             " WHERE key = 'bs'), CASE WHEN i %% 2 THEN 'm' || i ELSE CAST(x'00' || i AS BLOB)"
             " END FROM n;"
             N(600) "INSERT INTO " G "zset(kid, member, score) SELECT (SELECT id FROM " G "keys"
             " WHERE key = 'bz'), 'zm' || i, i * 0.5 - 100.25 FROM n;"
             N(600) "INSERT INTO " G "keys(db, key, type, value, expire_at) SELECT i %% 3,"
             " CAST(x'ff' || i AS BLOB), 'string', CASE WHEN i %% 3 THEN zeroblob(i %% 3) ELSE ''"
             " END, CASE WHEN i %% 2 THEN"
             " 4102444800000 END FROM n;"
             "INSERT INTO " G "hash(kid, field, value) SELECT id, randomblob(300000), 'w' FROM "
             G "keys WHERE key = 'bh';"
             /* 20 values of 250 kB: batched (under 256 KiB), the batches waiting reach
              * 4 MiB together before 512 rows and are sent */
             N(20) "INSERT INTO " G "list(kid, pos, value) SELECT (SELECT id FROM " G "keys"
             " WHERE key = 'bl'), i, randomblob(250000) FROM n;"
             "INSERT INTO " G "keys(db, key, type, value) VALUES"
             " (0, 'bt:below', 'string', randomblob(262144 - 64)),"
             " (0, 'bt:above', 'string', randomblob(262144)),"
             " (0, 'bt:far', 'string', randomblob(1048576))", (long long)gen);
    ship_txn(sh, sql, 5000, "a round of 3,871 rows");
    CHECK_PQ("SELECT count(*) FROM redis.redis_hashes WHERE key = 'bh'", "1026");
    CHECK_PQ("SELECT count(*), count(member) FROM redis.redis_sets WHERE key = 'bs'", "1030|515");
    CHECK_PQ("SELECT count(*), sum(length(value_bytes)) FROM redis.redis_lists WHERE key = 'bl'",
             "20|5000000");
    CHECK_PQ("SELECT count(*), sum(length(value_bytes)) FROM redis.redis_strings"
             " WHERE key LIKE 'bt:%'", "3|1572800");
    CHECK_PQ("SELECT count(*), count(expire_at), count(key) FROM redis.keys"
             " WHERE substr(key_bytes, 1, 1) = '\\xff'", "600|300|0");
    compare_views("a round of more rows than a batch");
    snprintf(sql, sizeof(sql),
             "DELETE FROM " G "hash WHERE CAST(substr(field, 3) AS INTEGER) %% 2 = 0"
             " OR length(field) = 300000;"
             "UPDATE " G "hash SET value = '' WHERE CAST(substr(field, 3) AS INTEGER)"
             " %% 5 = 0;"
             "DELETE FROM " G "set WHERE typeof(member) = 'blob' OR CAST(substr(member, 2) AS INTEGER)"
             " %% 3 = 0;"
             "UPDATE " G "zset SET score = -score;"
             "DELETE FROM " G "keys WHERE typeof(key) = 'blob' AND value = zeroblob(1);"
             "DELETE FROM " G "keys WHERE key IN ('bt:below', 'bt:far')", (long long)gen);
#undef G
#undef N
    ship_txn(sh, sql, 6000, "a round of deletes");
    CHECK_PQ("SELECT count(*) FROM redis.redis_hashes WHERE key = 'bh'", "513");
    CHECK_PQ("SELECT count(*), sum(length(value_bytes)) FROM redis.redis_strings"
             " WHERE key LIKE 'bt:%'", "1|262144");
    compare_views("a round of more deletes than a batch");
    /* gone again: the checks that follow count the keys */
    snprintf(sql, sizeof(sql), "DELETE FROM g%1$lld_hash WHERE kid IN (SELECT id FROM g%1$lld_keys"
             " WHERE key = 'bh'); DELETE FROM g%1$lld_set WHERE kid IN (SELECT id FROM"
             " g%1$lld_keys WHERE key = 'bs'); DELETE FROM g%1$lld_zset WHERE kid IN (SELECT id"
             " FROM g%1$lld_keys WHERE key = 'bz'); DELETE FROM g%1$lld_list WHERE kid IN (SELECT"
             " id FROM g%1$lld_keys WHERE key = 'bl'); DELETE FROM g%1$lld_keys WHERE key IN"
             " ('bh', 'bs', 'bz', 'bl', 'bt:above') OR typeof(key) = 'blob'", (long long)gen);
    ship_txn(sh, sql, 7000, "the round that removes them");
    compare_views("the batches' rows removed");
}

int main(int argc, char **argv)
{
    struct rs_error err = { 0 };
    struct pg_options o = { .conninfo = NULL, .schema = "redis" };
    struct ship_status st;
    struct shipper *sh;
    struct sink *s;

    if (getenv("PGHOST") == NULL) {
        printf("SKIP: no PostgreSQL (run tests/integration/postgres.sh)\n");
        return 77;
    }
    conninfo = getenv("PG_CONNINFO") ? getenv("PG_CONNINFO") : "";
    pg = PQconnectdb(conninfo);
    if (PQstatus(pg) != CONNECTION_OK) {
        printf("FAIL: cannot connect: %s\n", PQerrorMessage(pg));
        return 99;
    }
    snprintf(path, sizeof(path), "%s", tmp_path("mirror.db"));
    if ((s = mirror_sink_open(path, &err)) == NULL) {
        printf("SKIP: no sink: %s\n", err.msg);
        return 77;
    }
    sqlite3_open(path, &wr);
    sqlite3_busy_timeout(wr, 5000);
    sqlite3_exec(wr, "CREATE TABLE redsink_outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                 " gen INTEGER NOT NULL, replid TEXT NOT NULL, offset INTEGER NOT NULL,"
                 " at INTEGER NOT NULL, pks BLOB NOT NULL)", NULL, NULL, NULL);
    if (argc == 3 && strcmp(argv[1], "--bench") == 0) {
        sink_close(s);
        return bench(atol(argv[2]));
    }
    load_first(s);
    o.conninfo = conninfo;
    sh = shipper_start(path, &o, log_cb, NULL, &err);
    CHECK(sh != NULL, "shipper_start: %s", err.msg);
    if (sh == NULL)
        return check_summary();
    CHECK(wait_for(sh, at_gen, status_int("SELECT generation FROM redsink_status"), &st),
          "first copy");
    check_first_copy();
    compare_views("first copy");
    check_streaming(sh);
    compare_views("streaming");
    check_restart(sh);
    compare_views("after a restart");
    check_recopy(s, sh);
    compare_views("re-copy");
    check_killed_copy(s, sh);
    compare_views("crash mid-copy");
    check_batches(sh);
    shipper_stop(sh);
    check_no_privilege();
    check_old_layout();
    sink_close(s);
    sqlite3_close(wr);
    PQfinish(pg);
    return check_summary();
}
