/*
 * test_keys.c - the keys and scripting families on the real SQLite sink,
 * without a master: EVAL/EVALSHA stop the applier before their bytes
 * count; FUNCTION LOAD/DELETE/FLUSH; RESTORE of good, corrupt and
 * truncated DUMP payloads; EXPIRE GT/LT on keys without TTL; SORT ...
 * STORE, its expected results taken from redis-server 7.0.15.
 *
 * Exit 0 (all passed), 77 (no SQLite sink) or 99 (a check failed).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "apply.h"
#include "log.h"
#include "rdb.h"
#include "resp.h"
#include "sink.h"

static int checks, failures;

static void check(int ok, int line, const char *fmt, ...)
{
    va_list ap;

    checks++;
    failures += !ok;
    printf("%s %d - ", ok ? "ok" : "not ok", checks);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok)
        printf("  (line %d)", line);
    printf("\n");
}

#define CHECK(cond, ...) check((cond) != 0, __LINE__, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Environment                                                         */
/* ------------------------------------------------------------------ */

struct env {
    char path[256];
    struct sink *sink;
    struct applier *a;
    sqlite3 *rd;
    char out[4096];
};

static int env_open(struct env *e)
{
    struct rs_error err = { 0 };

    snprintf(e->path, sizeof(e->path), "tests/unit/test_keys.tmp%d.db", (int)getpid());
    unlink(e->path);
    if ((e->sink = sink_open("sqlite", e->path, &err)) == NULL) {
        printf("# cannot open the sink: %s\n", err.msg);
        return -1;
    }
    e->a = apply_new(e->sink, NULL, NULL);
    return sqlite3_open_v2(e->path, &e->rd, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK ? 0 : -1;
}

static void env_close(struct env *e)
{
    char side[300];

    apply_free(e->a);
    sink_close(e->sink);
    sqlite3_close(e->rd);
    unlink(e->path);
    snprintf(side, sizeof(side), "%s-wal", e->path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", e->path);
    unlink(side);
}

/* Apply one command given as (pointer, length) pairs ending with NULL;
 * a length of -1 means strlen. Then commit. Returns apply_command's. */
static int run(struct env *e, ...)
{
    struct rs_bytes argv[64];
    const char *p;
    int argc = 0, rc;
    va_list ap;

    va_start(ap, e);
    while ((p = va_arg(ap, const char *)) != NULL) {
        long n = va_arg(ap, long);

        argv[argc++] = (struct rs_bytes){ p, n < 0 ? strlen(p) : (size_t)n };
    }
    va_end(ap);
    rc = apply_command(e->a, argc, argv, 10);
    if (rc == 0)
        apply_flush(e->a);
    return rc;
}

/* Text arguments: each followed by -1L. */
#define T(s) (s), -1L
#define B(s) (s), (long)(sizeof(s) - 1)
#define RUN(e, ...) run((e), __VA_ARGS__, (const char *)NULL)

/* A list as "a|b|c" (bytes outside printable ASCII as \xNN), "(none)"
 * when there is no such key. */
static const char *list_of(struct env *e, const char *key)
{
    sqlite3_stmt *st;
    size_t o = 0;
    int rows = 0;

    sqlite3_prepare_v2(e->rd, "SELECT value FROM redis_lists WHERE db = 0 AND key = ?1"
                              " ORDER BY idx", -1, &st, NULL);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    e->out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);

        if (rows++)
            o += (size_t)snprintf(e->out + o, sizeof(e->out) - o, "|");
        for (int i = 0; i < n && o + 8 < sizeof(e->out); i++)
            o += (size_t)snprintf(e->out + o, sizeof(e->out) - o,
                                  v[i] >= 0x20 && v[i] < 0x7f ? "%c" : "\\x%02x", v[i]);
    }
    sqlite3_finalize(st);
    return rows ? e->out : "(none)";
}

static long long qi(struct env *e, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -999;

    if (sqlite3_prepare_v2(e->rd, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

#define CHECK_LIST(e, key, want, what) do { \
        const char *got_ = list_of((e), (key)); \
        CHECK(strcmp(got_, (want)) == 0, "%s: got '%s', want '%s'", (what), got_, (want)); \
    } while (0)

/* ------------------------------------------------------------------ */
/* SORT                                                                */
/* ------------------------------------------------------------------ */

/* Reset the STORE key to a one-element list, as the reference run did. */
static void sort_case(struct env *e, const char *want, const char *what, ...)
{
    struct rs_bytes argv[32];
    const char *p;
    int argc = 0;
    va_list ap;

    RUN(e, T("DEL"), T("o"));
    RUN(e, T("RPUSH"), T("o"), T("old"));
    va_start(ap, what);
    while ((p = va_arg(ap, const char *)) != NULL)
        argv[argc++] = (struct rs_bytes){ p, strlen(p) };
    va_end(ap);
    CHECK(apply_command(e->a, argc, argv, 10) == 0 && apply_flush(e->a) == 0,
          "%s: applied", what);
    CHECK_LIST(e, "o", want, what);
}

#define SORT_CASE(e, want, what, ...) sort_case((e), (want), (what), __VA_ARGS__, (const char *)NULL)

static void test_sort(struct env *e)
{
    RUN(e, T("RPUSH"), T("n"), T("3"), T("1"), T("10"), T("2"), T("-5"), T(" 7"), T("0x10"),
        T("1e1"), T("2"), T(""), T("+4"));
    RUN(e, T("RPUSH"), T("w"), T("b"), T("a"), T("B"), T(""), T("aa"), T("10"), T("9"),
        B("\xff"), B("a\0"));
    RUN(e, T("RPUSH"), T("bad"), T("1"), T("x"), T("2"));
    RUN(e, T("MSET"), T("wt_3"), T("30"), T("wt_1"), T("10"), T("wt_10"), T("-1"), T("wt_2"),
        T("20"), T("wt_"), T("5"));
    RUN(e, T("HSET"), T("hw_3"), T("f"), T("c"), T("g"), T("x"));
    RUN(e, T("HSET"), T("hw_1"), T("f"), T("a"), T("g"), T("x"));
    RUN(e, T("SADD"), T("st"), T("c"), T("a"), T("b"), T("10"), T("2"));
    RUN(e, T("ZADD"), T("z"), T("1"), T("c"), T("1"), T("b"), T("0"), T("z"), T("2"), T("a"));

    /* expectations: redis-server 7.0.15 after the same commands */
    SORT_CASE(e, "-5||1|2|2|3|+4| 7|10|1e1|0x10", "SORT numeric: strtod, ties by bytes",
              "SORT", "n", "STORE", "o");
    SORT_CASE(e, "0x10|1e1|10| 7|+4|3|2|2|1||-5", "SORT DESC", "SORT", "n", "DESC", "STORE", "o");
    SORT_CASE(e, "1|2|2", "SORT LIMIT 2 3", "SORT", "n", "LIMIT", "2", "3", "STORE", "o");
    SORT_CASE(e, "|10|9|B|a|a\\x00|aa|b|\\xff", "SORT ALPHA: binary order", "SORT", "w",
              "ALPHA", "STORE", "o");
    SORT_CASE(e, "b|aa|a\\x00|a|B|9|10|", "SORT ALPHA DESC LIMIT 1 -1", "SORT", "w", "ALPHA",
              "DESC", "LIMIT", "1", "-1", "STORE", "o");
    SORT_CASE(e, "|2|1e1", "SORT BY nosort DESC LIMIT on a list", "SORT", "n", "BY", "nosort",
              "DESC", "LIMIT", "1", "3", "STORE", "o");
    SORT_CASE(e, "10||| 7|||+4|||-5|||0x10|||1e1||||||1|a||2|||2|||3|c|",
              "SORT BY wt_* GET # GET hw_*->f GET nostar", "SORT", "n", "BY", "wt_*", "GET", "#",
              "GET", "hw_*->f", "GET", "nostar", "STORE", "o");
    SORT_CASE(e, "-1|20|||||20|5||30|10", "SORT BY hw_*->g ALPHA GET wt_* (ties in input order)",
              "SORT", "n", "BY", "hw_*->g", "ALPHA", "GET", "wt_*", "STORE", "o");
    SORT_CASE(e, "10|2|a|b|c", "SORT of a set BY nosort STORE: forced ALPHA", "SORT", "st", "BY",
              "nosort", "STORE", "o");
    SORT_CASE(e, "old", "SORT of a set with non-numbers: refused", "SORT", "st", "STORE", "o");
    SORT_CASE(e, "z|c|b|a", "SORT zset DESC ALPHA", "SORT", "z", "DESC", "ALPHA", "STORE", "o");
    SORT_CASE(e, "a|c|b|z", "SORT zset BY nosort DESC: score order reversed", "SORT", "z", "BY",
              "nosort", "DESC", "STORE", "o");
    SORT_CASE(e, "b|c", "SORT zset BY nosort LIMIT 1 2", "SORT", "z", "BY", "nosort", "LIMIT",
              "1", "2", "STORE", "o");
    SORT_CASE(e, "(none)", "SORT LIMIT past the end: empty result deletes dst", "SORT", "n",
              "LIMIT", "20", "5", "STORE", "o");
    SORT_CASE(e, "old", "SORT numeric of 'x': refused", "SORT", "bad", "STORE", "o");
    SORT_CASE(e, "(none)", "SORT of a missing key deletes dst", "SORT", "nokey", "STORE", "o");
    SORT_CASE(e, "old", "SORT of a string: WRONGTYPE", "SORT", "wt_1", "STORE", "o");
    CHECK(qi(e, "SELECT count(*) FROM redis_keys WHERE key = 'o' AND expire_at IS NOT NULL") == 0,
          "SORT STORE leaves no TTL");
}

/* ------------------------------------------------------------------ */
/* RESTORE, FUNCTION, EXPIRE                                           */
/* ------------------------------------------------------------------ */

static void test_restore(struct env *e)
{
    /* DUMP of the string "v" by redis-server 7.0.15 (RDB version 10) */
    static const char good[] = "\x00\x01v\x0a\x00\x91\x08\xce\xb2\x19\x38\x8a\xce";
    char bad[sizeof(good)];

    memcpy(bad, good, sizeof(good));
    bad[sizeof(good) - 2] ^= 1;
    CHECK(RUN(e, T("RESTORE"), T("r1"), T("0"), bad, (long)sizeof(good) - 1) == 0,
          "RESTORE with a bad CRC: skipped, not fatal");
    CHECK(RUN(e, T("RESTORE"), T("r1"), T("0"), good, (long)sizeof(good) - 3) == 0,
          "RESTORE of a truncated payload: skipped, not fatal");
    CHECK(qi(e, "SELECT count(*) FROM redis_keys WHERE key = 'r1'") == 0,
          "no key after bad payloads");
    RUN(e, T("RESTORE"), T("r1"), T("0"), good, (long)sizeof(good) - 1);
    CHECK(qi(e, "SELECT count(*) FROM redis_strings s JOIN redis_keys k USING (db, key)"
              " WHERE key = 'r1' AND value = 'v' AND expire_at IS NULL") == 1,
          "RESTORE ttl 0: the string, no TTL");
    RUN(e, T("SET"), T("r2"), T("old"));
    RUN(e, T("RESTORE"), T("r2"), T("0"), good, (long)sizeof(good) - 1);
    CHECK(qi(e, "SELECT count(*) FROM redis_strings WHERE key = 'r2' AND value = 'old'") == 1,
          "RESTORE over an existing key without REPLACE: BUSYKEY, skipped");
    RUN(e, T("RESTORE"), T("r2"), T("4102444800000"), good, (long)sizeof(good) - 1,
        T("REPLACE"), T("ABSTTL"));
    CHECK(qi(e, "SELECT expire_at FROM redis_strings s JOIN redis_keys k USING (db, key)"
              " WHERE key = 'r2' AND value = 'v'")
          == 4102444800000LL, "RESTORE REPLACE ABSTTL");
    RUN(e, T("RESTORE"), T("r3"), T("100000"), good, (long)sizeof(good) - 1);
    CHECK(llabs(qi(e, "SELECT expire_at FROM redis_keys WHERE key = 'r3'") - 100000 -
                rs_now_ms()) < 5000, "RESTORE with a relative TTL (old master): our clock");
}

/* RESTORE of a Redis 8.8 array (type 28): a hand-built DUMP payload with
 * its RDB 14 footer and CRC64; the cursor comes along. */
static void test_restore_array(struct env *e)
{
    unsigned char p[64];
    size_t n = 0;
    uint64_t crc;

    p[n++] = 28;                                   /* ARRAY */
    p[n++] = 2;                                    /* two elements */
    p[n++] = 1, p[n++] = 9;                        /* cursor 9 */
    p[n++] = 3, p[n++] = 1;                        /* index 3, int64 */
    for (int i = 0; i < 8; i++)
        p[n++] = (unsigned char)((uint64_t)77 >> (8 * i));
    p[n++] = 9, p[n++] = 0, p[n++] = 3;            /* index 9, SDS "abc" */
    memcpy(p + n, "abc", 3), n += 3;
    p[n++] = 14, p[n++] = 0;                       /* RDB version 14 */
    crc = rdb_crc64(0, p, n);
    for (int i = 0; i < 8; i++)
        p[n++] = (unsigned char)(crc >> (8 * i));
    RUN(e, T("RESTORE"), T("ra"), T("0"), (const char *)p, (long)n);
    CHECK(qi(e, "SELECT count(*) FROM redis_keys WHERE key = 'ra' AND type = 'array'") == 1,
          "RESTORE of an array: the key, type array");
    CHECK(qi(e, "SELECT count(*) FROM redis_arrays WHERE key = 'ra' AND"
              " ((idx = 3 AND value = '77') OR (idx = 9 AND value = 'abc'))") == 2,
          "RESTORE of an array: its elements");
    CHECK(qi(e, "SELECT m.cursor + 9223372036854775807 + 1 FROM g1_ameta m JOIN g1_keys k"
              " ON k.id = m.kid WHERE k.key = 'ra'") == 9, "RESTORE of an array: its cursor");
    p[0] = 28, p[n - 10] = 13;                     /* a version 13 footer */
    crc = rdb_crc64(0, p, n - 8);
    for (int i = 0; i < 8; i++)
        p[n - 8 + i] = (unsigned char)(crc >> (8 * i));
    RUN(e, T("RESTORE"), T("rb"), T("0"), (const char *)p, (long)n);
    CHECK(qi(e, "SELECT count(*) FROM redis_keys WHERE key = 'rb'") == 0,
          "RESTORE of type 28 with an RDB 13 footer: refused");
}

static void test_function(struct env *e)
{
    RUN(e, T("FUNCTION"), T("LOAD"), T("#!lua name=lib1\nredis.register_function('f', function() return 1 end)"));
    RUN(e, T("FUNCTION"), T("LOAD"), T("REPLACE"), T("#!lua name=lib2\nredis.register_function('g', function() return 1 end)"));
    RUN(e, T("FUNCTION"), T("LOAD"), T("#!lua name=lib3\nredis.register_function('h', function() return 1 end)"));
    CHECK(qi(e, "SELECT count(*) FROM g1_func") == 3, "FUNCTION LOAD stores libraries");
    RUN(e, T("FUNCTION"), T("DELETE"), T("lib2"));
    CHECK(qi(e, "SELECT count(*) FROM g1_func WHERE name = 'lib2'") == 0 &&
          qi(e, "SELECT count(*) FROM g1_func") == 2, "FUNCTION DELETE lib2");
    RUN(e, T("FLUSHALL"));
    CHECK(qi(e, "SELECT count(*) FROM g1_func") == 2, "FLUSHALL keeps functions");
    RUN(e, T("FUNCTION"), T("FLUSH"), T("ASYNC"));
    CHECK(qi(e, "SELECT count(*) FROM g1_func") == 0, "FUNCTION FLUSH removes them all");
    CHECK(RUN(e, T("SCRIPT"), T("LOAD"), T("return 1")) == 0, "SCRIPT LOAD: ignored");
}

static void test_expire(struct env *e)
{
    RUN(e, T("SET"), T("e1"), T("v"));
    RUN(e, T("PEXPIREAT"), T("e1"), T("4102444800000"), T("GT"));
    CHECK(qi(e, "SELECT count(*) FROM redis_keys WHERE key = 'e1' AND expire_at IS NULL") == 1,
          "PEXPIREAT GT on a key without TTL (infinite): no change");
    RUN(e, T("PEXPIREAT"), T("e1"), T("4102444800000"), T("LT"));
    CHECK(qi(e, "SELECT expire_at FROM redis_keys WHERE key = 'e1'") == 4102444800000LL,
          "PEXPIREAT LT on a key without TTL (infinite): set");
    RUN(e, T("PEXPIREAT"), T("e1"), T("4102444900000"), T("GT"));
    CHECK(qi(e, "SELECT expire_at FROM redis_keys WHERE key = 'e1'") == 4102444900000LL,
          "PEXPIREAT GT with a later time: set");
    RUN(e, T("PEXPIREAT"), T("e1"), T("4102444900000"), T("LT"));
    CHECK(qi(e, "SELECT expire_at FROM redis_keys WHERE key = 'e1'") == 4102444900000LL,
          "PEXPIREAT LT with an equal time: no change");
}

/* ------------------------------------------------------------------ */
/* EVAL stops the applier                                              */
/* ------------------------------------------------------------------ */

static void test_eval(struct env *e, const char *raw, const char *what)
{
    struct resp_reader *rr = resp_reader_new(0, 0);
    struct resp_command c;
    size_t skipped;
    int64_t before;
    int rc = 0;

    RUN(e, T("SET"), T("before"), T("1"));
    before = apply_applied(e->a)->offset;
    resp_reader_feed(rr, raw, strlen(raw));
    while (resp_reader_next(rr, &c, &skipped) == RS_OK && rc == 0)
        rc = apply_command(e->a, c.argc, c.argv, c.wire_len);
    CHECK(rc == -1, "%s: apply_command returns -1", what);
    CHECK(apply_error(e->a)->code == RS_E_UNSUPPORTED &&
          strstr(apply_error(e->a)->msg, "redis.replicate_commands()") &&
          strstr(apply_error(e->a)->msg, "3.0"),
          "%s: the error names the master setting: %s", what, apply_error(e->a)->msg);
    CHECK(apply_applied(e->a)->offset == before && apply_committed(e->a)->offset == before,
          "%s: its bytes are not counted", what);
    CHECK(qi(e, "SELECT count(*) FROM redis_keys WHERE key = 'before'") == 1,
          "%s: what came before it stays committed", what);
    resp_reader_free(rr);
}

int main(void)
{
    struct env e = { 0 };

    log_set_level(getenv("TEST_VERBOSE") ? RS_LOG_DEBUG : RS_LOG_ERROR);
    if (env_open(&e) != 0)
        return 77;
    test_sort(&e);
    test_restore(&e);
    test_restore_array(&e);
    test_function(&e);
    test_expire(&e);
    test_eval(&e, "*3\r\n$4\r\nEVAL\r\n$25\r\nredis.call('set','a','1')\r\n$1\r\n0\r\n",
              "EVAL from an old master");
    env_close(&e);
    memset(&e, 0, sizeof(e));
    if (env_open(&e) != 0)
        return 77;
    test_eval(&e, "*3\r\n$7\r\nevalsha\r\n$40\r\n0123456789012345678901234567890123456789\r\n"
                  "$1\r\n0\r\n", "EVALSHA");
    env_close(&e);
    printf("# %d checks, %d failed\n", checks, failures);
    return failures ? 99 : 0;
}
