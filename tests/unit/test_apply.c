/*
 * test_apply.c - the RESP reader and the applier, end to end on the real
 * SQLite sink.
 *
 * Raw replication-stream bytes go through resp.c into apply.c, and a
 * second SQLite connection checks what a reader of the contract's views
 * sees. Each check prints one line. Exit 0 (all passed), 77 (skipped: no
 * SQLite sink could be opened) or 99 (a check failed).
 *
 * Start reading at main().
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "apply.h"
#include "log.h"
#include "resp.h"
#include "sink.h"

static int checks, failures;

static void check(int ok, int line, const char *fmt, ...)
{
    va_list ap;

    checks++;
    if (!ok)
        failures++;
    printf("%s %d - ", ok ? "ok" : "not ok", checks);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok)
        printf("  (line %d)", line);
    printf("\n");
}

#define CHECK(cond, ...) check((cond) != 0, __LINE__, __VA_ARGS__)
/* 'got' is evaluated once: it may be a call with side effects. */
static void check_str(const char *got, const char *want, const char *what, int line)
{
    check(strcmp(got, want) == 0, line, "%s: got '%s', want '%s'", what, got, want);
}

static void check_int(long long got, long long want, const char *what, int line)
{
    check(got == want, line, "%s: got %lld, want %lld", what, got, want);
}

#define CHECK_STR(got, want, what) check_str((got), (want), (what), __LINE__)
#define CHECK_INT(got, want, what) check_int((long long)(got), (long long)(want), (what), __LINE__)

/* ------------------------------------------------------------------ */
/* Building RESP                                                       */
/* ------------------------------------------------------------------ */

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            abort();
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_fmt(struct buf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    buf_add(b, tmp, (size_t)n);
}

/* Append one command; the arguments are C strings, NULL-terminated. */
static size_t cmd(struct buf *b, ...)
{
    const char *args[64];
    size_t start = b->len;
    int n = 0;
    va_list ap;

    va_start(ap, b);
    while ((args[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    buf_fmt(b, "*%d\r\n", n);
    for (int i = 0; i < n; i++) {
        buf_fmt(b, "$%zu\r\n", strlen(args[i]));
        buf_add(b, args[i], strlen(args[i]));
        buf_add(b, "\r\n", 2);
    }
    return b->len - start;
}

#define CMD(b, ...) cmd((b), __VA_ARGS__, (const char *)NULL)

/* ------------------------------------------------------------------ */
/* The resp.c unit tests                                               */
/* ------------------------------------------------------------------ */

/* Read every command of 'in' fed in 'chunk'-byte pieces; write a
 * transcript "argc:arg,arg/wire;" and the skipped byte count. */
static enum rs_status transcript(const char *in, size_t len, size_t chunk, size_t max_bulk,
                                 long long max_args, struct buf *out, size_t *skipped_total,
                                 char *err, size_t errsize)
{
    struct resp_reader *r = resp_reader_new(max_bulk, max_args);
    struct resp_command c;
    enum rs_status st = RS_AGAIN;
    size_t off = 0, skipped;

    *skipped_total = 0;
    err[0] = '\0';
    while (off < len) {
        size_t n = chunk && len - off > chunk ? chunk : len - off;

        if (resp_reader_feed(r, in + off, n) != 0) {
            st = RS_ERROR;
            break;
        }
        off += n;
        while ((st = resp_reader_next(r, &c, &skipped)) == RS_OK) {
            *skipped_total += skipped;
            buf_fmt(out, "%d:", c.argc);
            for (int i = 0; i < c.argc; i++) {
                buf_add(out, c.argv[i].ptr, c.argv[i].len);
                if (c.argv[i].ptr[c.argv[i].len] != '\0')
                    buf_fmt(out, "<no NUL after>");
                buf_add(out, i + 1 < c.argc ? "," : "", i + 1 < c.argc);
            }
            buf_fmt(out, "/%zu;", c.wire_len);
        }
        *skipped_total += skipped;
        if (st == RS_ERROR)
            break;
    }
    if (st == RS_ERROR)
        snprintf(err, errsize, "%s", resp_reader_error(r)->msg);
    else if (resp_reader_pending(r) != 0)
        snprintf(err, errsize, "pending %zu", resp_reader_pending(r));
    resp_reader_free(r);
    return st;
}

static void test_resp(void)
{
    struct buf in = { 0 }, whole = { 0 }, out = { 0 };
    size_t skipped, skipped1;
    char err[256];
    enum rs_status st;
    static const char binary[] = "*2\r\n$3\r\nSET\r\n$5\r\na\0\r\nb\r\n";

    CMD(&in, "ping");
    buf_add(&in, "\n", 1);
    CMD(&in, "SELECT", "0");
    buf_add(&in, "\r\n", 2);
    CMD(&in, "REPLCONF", "GETACK", "*");
    CMD(&in, "MULTI");
    CMD(&in, "EXEC");
    transcript(in.p, in.len, 0, 0, 0, &whole, &skipped, err, sizeof(err));
    CHECK_STR(whole.p, "1:ping/14;2:SELECT,0/23;3:REPLCONF,GETACK,*/37;1:MULTI/15;1:EXEC/14;",
              "resp: wire lengths of control commands");
    CHECK_INT(skipped, 3, "resp: bare \\n and \\r\\n between commands are skipped");
    CHECK_STR(err, "", "resp: nothing pending after whole commands");

    for (size_t chunk = 1; chunk <= 7; chunk++) {
        out.len = 0;
        transcript(in.p, in.len, chunk, 0, 0, &out, &skipped1, err, sizeof(err));
        CHECK(strcmp(out.p, whole.p) == 0 && skipped1 == skipped,
              "resp: fed %zu byte(s) at a time, same transcript", chunk);
    }

    /* big arguments: hiredis compacts its buffer past 1 KiB */
    {
        struct buf big = { 0 }, ref = { 0 };
        char *arg = malloc(5001);
        size_t want = 0;

        memset(arg, 'x', 5000);
        arg[5000] = '\0';
        for (int i = 0; i < 5; i++)
            want += CMD(&big, "SET", "k", arg + i * 1000);
        transcript(big.p, big.len, 0, 0, 0, &ref, &skipped, err, sizeof(err));
        CHECK(strstr(ref.p, "/5029;") && strstr(ref.p, "/1029;") && want == big.len,
              "resp: wire lengths of 5000..1000-byte arguments");
        for (size_t chunk = 1; chunk < 3000; chunk = chunk * 7 + 1) {
            out.len = 0;
            transcript(big.p, big.len, chunk, 0, 0, &out, &skipped, err, sizeof(err));
            CHECK(strcmp(out.p, ref.p) == 0, "resp: big arguments fed %zu bytes at a time", chunk);
        }
        free(arg);
        free(big.p);
        free(ref.p);
    }

    out.len = 0;
    transcript(binary, sizeof(binary) - 1, 1, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(out.len == 15 && memcmp(out.p, "2:SET,a\0\r\nb/24;", 15) == 0,
          "resp: binary argument with NUL and CRLF inside");

    st = transcript("+OK\r\n", 5, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR && strstr(err, "non-array"), "resp: a status reply is refused (%s)", err);
    /* Redis 2.4/2.6 masters propagate SELECT inline ("select 0\r\n") */
    {
        static const char old_stream[] = "select 3\r\n*1\r\n$4\r\nPING\r\n  \r\nselect  12\n"
                                         "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        struct buf ref = { 0 };

        st = transcript(old_stream, sizeof(old_stream) - 1, 0, 0, 0, &ref, &skipped, err,
                        sizeof(err));
        CHECK_STR(ref.p, "2:select,3/10;1:PING/14;2:select,12/11;3:SET,k,v/27;",
                  "resp: inline commands between RESP ones, with their wire lengths");
        CHECK(st != RS_ERROR && skipped == 4 && err[0] == '\0',
              "resp: a line of spaces is skipped like a newline (%zu, '%s')", skipped, err);
        for (size_t chunk = 1; chunk <= 5; chunk++) {
            out.len = 0;
            transcript(old_stream, sizeof(old_stream) - 1, chunk, 0, 0, &out, &skipped1, err,
                       sizeof(err));
            CHECK(strcmp(out.p, ref.p) == 0 && skipped1 == skipped,
                  "resp: inline commands fed %zu byte(s) at a time, same transcript", chunk);
        }
        free(ref.p);
    }
    st = transcript("select 0", 8, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_AGAIN && strcmp(err, "pending 8") == 0,
          "resp: an inline line without its newline waits (%s)", err);
    st = transcript("*2\r\n$3\r\nDEL\r\n:1\r\n", 17, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR && strstr(err, "non-bulk"), "resp: an integer element is refused (%s)",
          err);
    st = transcript("*2\r\n*1\r\n", 8, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR, "resp: a nested array is refused (%s)", err);
    st = transcript("*1\r\n$-1\r\n", 9, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR, "resp: a null bulk is refused (%s)", err);
    st = transcript("*0\r\n", 4, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR, "resp: an empty command is refused (%s)", err);
    st = transcript("*2000000000\r\n", 13, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR && strstr(err, "limit"), "resp: a forged *N is refused early (%s)", err);
    st = transcript("*1\r\n$99999999999\r\n", 19, 0, 1024, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR && strstr(err, "limit"), "resp: a forged $N is refused early (%s)", err);
    st = transcript("*1\r\n$3\r\nabcXY", 13, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR, "resp: a bulk without its CRLF is refused (%s)", err);
    st = transcript("*1\r\n$03\r\nabc\r\n", 14, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR, "resp: a non-canonical length is refused (%s)", err);
    st = transcript("*3\r\n$3\r\nSET\r\n", 13, 1, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_AGAIN && strcmp(err, "pending 13") == 0,
          "resp: a partial command waits (%s)", err);
    free(in.p);
    free(whole.p);
    free(out.p);
}

/* ------------------------------------------------------------------ */
/* The applier on the SQLite sink                                      */
/* ------------------------------------------------------------------ */

struct env {
    char path[256];
    struct sink *sink;
    struct applier *a;
    struct resp_reader *rr;
    sqlite3 *rd;                   /* a reader's own connection */
    int acks;
    int64_t ack_offset;            /* committed offset when the last GETACK came */
    char out[8192];
};

#define START_OFFSET 1000
#define REPLID "0123456789abcdef0123456789abcdef01234567"

static int env_open(struct env *e, const char *tag, int strict, int batch_cmds)
{
    struct rs_error err = { 0 };
    struct repl_pos start = { REPLID, START_OFFSET, 0 };
    struct apply_opts o = { .strict = strict, .batch_max_cmds = batch_cmds, .batch_max_ms = 100000 };

    memset(e, 0, sizeof(*e));
    snprintf(e->path, sizeof(e->path), "%s/test_apply-%d-%s.tmp.db",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(), tag);
    unlink(e->path);
    if ((e->sink = sink_open("sqlite", e->path, &err)) == NULL) {
        printf("# cannot open the sqlite sink: %s\n", err.msg);
        return -1;
    }
    e->a = apply_new(e->sink, &start, &o);
    e->rr = resp_reader_new(0, 0);
    if (sqlite3_open_v2(e->path, &e->rd, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -1;
    return 0;
}

static void env_close(struct env *e)
{
    char side[300];

    apply_free(e->a);
    resp_reader_free(e->rr);
    sqlite3_close(e->rd);
    sink_close(e->sink);
    unlink(e->path);
    snprintf(side, sizeof(side), "%s-wal", e->path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", e->path);
    unlink(side);
}

/* Feed stream bytes, 'chunk' at a time (0: all at once), and apply every
 * command. 0, or -1 when the applier failed. */
static int env_feed(struct env *e, const char *p, size_t len, size_t chunk)
{
    struct resp_command c;
    size_t off = 0, skipped;
    enum rs_status st;

    while (off < len) {
        size_t n = chunk && len - off > chunk ? chunk : len - off;

        if (resp_reader_feed(e->rr, p + off, n) != 0)
            return -1;
        off += n;
        while ((st = resp_reader_next(e->rr, &c, &skipped)) == RS_OK) {
            apply_skip_bytes(e->a, skipped);
            if (apply_command(e->a, c.argc, c.argv, c.wire_len) != 0)
                return -1;
            if (apply_take_ack_request(e->a)) {
                e->acks++;
                e->ack_offset = apply_committed(e->a)->offset;
            }
        }
        apply_skip_bytes(e->a, skipped);
        if (st == RS_ERROR)
            return -1;
    }
    return 0;
}

/* Feed a buffer and commit; returns the feed's result. */
static int run(struct env *e, struct buf *b)
{
    int rc = env_feed(e, b->p, b->len, 0);

    b->len = 0;
    if (rc == 0)
        rc = apply_flush(e->a);
    return rc;
}

/* Every row of a query as "c1,c2;c1,c2" (NULL as "NULL"), in e->out. */
static const char *q(struct env *e, const char *sql)
{
    sqlite3_stmt *st;
    size_t o = 0;

    e->out[0] = '\0';
    if (sqlite3_prepare_v2(e->rd, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(e->out, sizeof(e->out), "SQL ERROR %s", sqlite3_errmsg(e->rd));
        return e->out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (o)
            o += (size_t)snprintf(e->out + o, sizeof(e->out) - o, ";");
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *t = sqlite3_column_text(st, i);

            o += (size_t)snprintf(e->out + o, sizeof(e->out) - o, "%s%s", i ? "," : "",
                                  t ? (const char *)t : "NULL");
            if (o >= sizeof(e->out))
                o = sizeof(e->out) - 1;
        }
    }
    sqlite3_finalize(st);
    return e->out;
}

static long long qi(struct env *e, const char *sql)
{
    return atoll(q(e, sql));
}

/* ---- strings and keys ---- */

static void test_strings(struct env *e)
{
    struct buf b = { 0 };
    long long now = (long long)rs_now_ms();
    char sql[256];

    CMD(&b, "SET", "s1", "v1");
    CMD(&b, "set", "s1", "v2", "NX");            /* exists: no change */
    CMD(&b, "SET", "s2", "x", "XX");             /* missing: not created */
    CMD(&b, "SET", "s3", "v3", "PXAT", "99999999999999");
    CMD(&b, "SET", "s4", "v4", "PXAT", "99999999999999");
    CMD(&b, "SET", "s4", "v4b");                 /* clears the TTL */
    CMD(&b, "SET", "s3", "v3b", "KEEPTTL");      /* keeps it */
    CMD(&b, "SET", "s5", "v5", "EX", "100");     /* old master: relative */
    CMD(&b, "SET", "s6", "v6", "XX", "GET");
    CMD(&b, "SET", "s1", "v1c", "XX", "GET");
    CMD(&b, "SET", "bad", "v", "EX", "0");       /* invalid expire: skipped */
    CMD(&b, "SET", "bad", "v", "NX", "XX");      /* syntax error: skipped */
    CMD(&b, "SET", "bad", "v", "EX", "10", "PX", "10");
    CMD(&b, "SETNX", "s7", "a");
    CMD(&b, "SETNX", "s7", "b");
    CMD(&b, "MSET", "m1", "1", "m2", "2");
    CMD(&b, "INCR", "m1");
    CMD(&b, "INCRBY", "m2", "-7");
    CMD(&b, "DECR", "m3");
    CMD(&b, "APPEND", "m2", "xy");
    CMD(&b, "APPEND", "m4", "new");
    CMD(&b, "INCR", "m2");                       /* not an integer: skipped */
    CMD(&b, "GETSET", "s3", "gs");               /* TTL cleared */
    CMD(&b, "SETEX", "s8", "100", "x");
    CMD(&b, "GETDEL", "s8");
    CHECK_INT(run(e, &b), 0, "strings: applied");
    CHECK_STR(q(e, "SELECT key, value FROM redis_strings ORDER BY key"),
              "m1,2;m2,-5xy;m3,-1;m4,new;s1,v1c;s3,gs;s4,v4b;s5,v5;s7,a",
              "strings: values after SET NX/XX/GET, SETNX, MSET, INCR family, APPEND, GETSET");
    CHECK_STR(q(e, "SELECT key, expire_at FROM redis_keys WHERE key IN ('s1','s3','s4')"
                   " ORDER BY key"), "s1,NULL;s3,NULL;s4,NULL",
              "strings: SET without KEEPTTL and GETSET clear the TTL");
    snprintf(sql, sizeof(sql), "SELECT expire_at BETWEEN %lld AND %lld FROM redis_keys"
             " WHERE key = 's5'", now + 100000, now + 110000);
    CHECK_STR(q(e, sql), "1", "strings: SET EX from an old master counts from our clock");

    CMD(&b, "SET", "t1", "a", "PXAT", "99999999999999");
    CMD(&b, "SET", "t1", "b", "KEEPTTL");
    CMD(&b, "INCR", "t2");
    CMD(&b, "PEXPIREAT", "t2", "99999999999998");
    CMD(&b, "INCR", "t2");                       /* keeps the TTL */
    CHECK_INT(run(e, &b), 0, "strings: KEEPTTL batch applied");
    CHECK_STR(q(e, "SELECT key, value, expire_at FROM redis_strings JOIN redis_keys USING (db, key)"
                   " WHERE key IN ('t1','t2') ORDER BY key"),
              "t1,b,99999999999999;t2,2,99999999999998",
              "strings: KEEPTTL and INCR keep the TTL");

    CMD(&b, "HSET", "h", "f", "v");
    CMD(&b, "SET", "h", "x", "GET");             /* WRONGTYPE: skipped */
    CMD(&b, "INCR", "h");                        /* WRONGTYPE: skipped */
    CHECK_INT(run(e, &b), 0, "strings: WRONGTYPE commands are skipped, not fatal");
    CHECK_STR(q(e, "SELECT type FROM redis_keys WHERE key = 'h'"), "hash",
              "strings: SET GET on a hash leaves it alone");
    CMD(&b, "SET", "h", "plain");                /* SET overwrites any type */
    CHECK_INT(run(e, &b), 0, "strings: SET over a hash applied");
    CHECK_STR(q(e, "SELECT k.type, s.value, (SELECT count(*) FROM redis_hashes WHERE key = 'h')"
                   " FROM redis_keys k JOIN redis_strings s USING (db, key) WHERE key = 'h'"),
              "string,plain,0", "strings: SET replaces a hash with a string");
    free(b.p);
}

static void test_keys(struct env *e)
{
    struct buf b = { 0 };

    CMD(&b, "MSET", "k1", "1", "k2", "2", "k3", "3", "k4", "4");
    CMD(&b, "DEL", "k1", "nope", "k2");
    CMD(&b, "UNLINK", "k3");
    CMD(&b, "PEXPIREAT", "k4", "99999999999000");
    CMD(&b, "PEXPIREAT", "k4", "99999999999500", "NX");   /* has a TTL: no */
    CMD(&b, "PEXPIREAT", "k4", "99999999999100", "GT");   /* greater: yes */
    CMD(&b, "PEXPIREAT", "k4", "99999999999050", "GT");   /* smaller: no */
    CMD(&b, "PEXPIREAT", "k4", "99999999999200", "LT");   /* not smaller: no */
    CMD(&b, "SET", "k5", "5");
    CMD(&b, "PEXPIREAT", "k5", "99999999999000", "XX");   /* no TTL: no */
    CMD(&b, "PEXPIREAT", "k5", "99999999999000", "GT");   /* none = infinite: no */
    CMD(&b, "PEXPIREAT", "k5", "99999999999000", "LT");   /* yes */
    CMD(&b, "SET", "k6", "6");
    CMD(&b, "EXPIREAT", "k6", "99999999999");
    CMD(&b, "PERSIST", "k6");
    CMD(&b, "SET", "k7", "7");
    CMD(&b, "RENAME", "k7", "k8");
    CMD(&b, "SET", "k9", "9");
    CMD(&b, "RENAMENX", "k8", "k9");                      /* k9 exists: no */
    CHECK_INT(run(e, &b), 0, "keys: applied");
    CHECK_STR(q(e, "SELECT key, expire_at FROM redis_keys WHERE key LIKE 'k%' ORDER BY key"),
              "k4,99999999999100;k5,99999999999000;k6,NULL;k8,NULL;k9,NULL",
              "keys: DEL/UNLINK variadic, PEXPIREAT NX/XX/GT/LT, PERSIST, RENAME(NX)");

    /* A key past its TTL still exists for the master's commands. */
    CMD(&b, "SET", "old", "v1");
    CMD(&b, "PEXPIREAT", "old", "1000");
    CMD(&b, "SET", "old", "v2", "NX");                    /* exists: no */
    CMD(&b, "HSET", "oldh", "a", "1");
    CMD(&b, "PEXPIREAT", "oldh", "1000");
    CMD(&b, "HSET", "oldh", "b", "2");                    /* extends it */
    CHECK_INT(run(e, &b), 0, "keys: expired-key batch applied");
    CHECK_STR(q(e, "SELECT count(*) FROM redis_keys WHERE key IN ('old', 'oldh')"), "0",
              "keys: a key past its TTL is hidden from the views");
    CMD(&b, "PERSIST", "old");
    CMD(&b, "PERSIST", "oldh");
    CHECK_INT(run(e, &b), 0, "keys: PERSIST applied");
    CHECK_STR(q(e, "SELECT value FROM redis_strings WHERE key = 'old'"), "v1",
              "keys: SET NX on an expired (not deleted) key does nothing, as on a replica");
    CHECK_STR(q(e, "SELECT group_concat(field) FROM (SELECT field FROM redis_hashes"
                   " WHERE key = 'oldh' ORDER BY field)"), "a,b",
              "keys: HSET on an expired key extends it");
    free(b.p);
}

/* ---- collections ---- */

static void test_collections(struct env *e)
{
    struct buf b = { 0 };

    CMD(&b, "HSET", "h1", "a", "1", "b", "2");
    CMD(&b, "HMSET", "h1", "c", "3", "a", "9");
    CMD(&b, "HSET", "h1", "odd");                         /* arity: skipped */
    CMD(&b, "HDEL", "h1", "b", "zz");
    CMD(&b, "HSET", "h2", "only", "x");
    CMD(&b, "HDEL", "h2", "only");                        /* last field: key gone */
    CMD(&b, "LPUSH", "l1", "a", "b", "c");
    CMD(&b, "RPUSH", "l1", "d");
    CMD(&b, "LPUSH", "l1", "z");
    CMD(&b, "SADD", "set1", "x", "y", "x");
    CMD(&b, "SREM", "set1", "x");
    CMD(&b, "SADD", "s2", "m");
    CMD(&b, "SREM", "s2", "m", "n");                      /* last member: key gone */
    CMD(&b, "SADD", "l1", "x");                           /* WRONGTYPE */
    CHECK_INT(run(e, &b), 0, "collections: applied");
    CHECK_STR(q(e, "SELECT field, value FROM redis_hashes WHERE key = 'h1' ORDER BY field"),
              "a,9;c,3", "collections: HSET/HMSET/HDEL");
    CHECK_STR(q(e, "SELECT count(*) FROM redis_keys WHERE key IN ('h2', 's2')"), "0",
              "collections: HDEL of the last field and SREM of the last member delete the key");
    CHECK_STR(q(e, "SELECT idx, value FROM redis_lists WHERE key = 'l1' ORDER BY idx"),
              "0,z;1,c;2,b;3,a;4,d", "collections: LPUSH order and idx, RPUSH");
    CHECK_STR(q(e, "SELECT member FROM redis_sets WHERE key = 'set1' ORDER BY member"), "y",
              "collections: SADD/SREM");
    free(b.p);
}

static void test_zsets(struct env *e)
{
    struct buf b = { 0 };

    CMD(&b, "ZADD", "z", "1", "a", "2", "b", "3", "c");
    CMD(&b, "ZADD", "z", "NX", "10", "a", "4", "d");      /* a kept, d added */
    CMD(&b, "ZADD", "z", "XX", "20", "b", "5", "e");      /* b updated, e not added */
    CMD(&b, "ZADD", "z", "GT", "CH", "0", "c", "30", "d"); /* c kept, d raised */
    CMD(&b, "ZADD", "z", "LT", "0.5", "a", "99", "b");    /* a lowered, b kept */
    CMD(&b, "ZADD", "z", "INCR", "1.25", "c");            /* c 3 -> 4.25 */
    CMD(&b, "ZADD", "z", "INCR", "5", "new");             /* new member: 5 */
    CMD(&b, "ZADD", "z", "+inf", "hi", "-inf", "lo");
    CMD(&b, "ZADD", "z", "nan", "bad");                   /* rejected */
    CMD(&b, "ZADD", "z", "1", "ok", "abc", "bad");        /* rejected as a whole */
    CMD(&b, "ZADD", "z", "NX", "XX", "1", "bad");         /* rejected */
    CMD(&b, "ZADD", "z", "GT", "LT", "1", "bad");         /* rejected */
    CMD(&b, "ZADD", "z", "INCR", "1", "a", "2", "b");     /* rejected */
    CMD(&b, "ZADD", "zx", "XX", "1", "a");                /* XX on a missing key */
    CMD(&b, "ZADD", "z2", "1", "only");
    CMD(&b, "ZREM", "z2", "only", "nope");                /* last member: key gone */
    CMD(&b, "ZREM", "z", "e", "d");
    CHECK_INT(run(e, &b), 0, "zsets: applied");
    CHECK_STR(q(e, "SELECT member, score FROM redis_zsets WHERE key = 'z' ORDER BY member"),
              "a,0.5;b,20.0;c,4.25;hi,Inf;lo,-Inf;new,5.0",
              "zsets: NX/XX/GT/LT/CH/INCR, inf scores, rejected forms change nothing");
    CHECK_STR(q(e, "SELECT count(*) FROM redis_keys WHERE key IN ('zx', 'z2')"), "0",
              "zsets: ZADD XX creates no key, ZREM of the last member deletes it");
    free(b.p);
}

static void test_streams(struct env *e)
{
    struct buf b = { 0 };
    struct rs_stream_meta m;
    struct sink_key sk;
    struct rs_bytes key = { "st", 2 };

    CMD(&b, "XADD", "st", "1-1", "f", "v", "g", "w");
    CMD(&b, "XADD", "st", "1-*", "f", "v2");              /* 1-2 */
    CMD(&b, "XADD", "st", "1-1", "f", "dup");             /* not greater: rejected */
    CMD(&b, "XADD", "st", "5", "f", "v3");                /* 5-0 */
    CMD(&b, "XADD", "st", "MAXLEN", "=", "2", "7-0", "f", "v4");   /* drops 1-1 and 1-2 */
    CMD(&b, "XADD", "st", "MINID", "6", "LIMIT", "10", "8-0", "f", "v5");   /* drops 5-0 */
    CMD(&b, "XADD", "nost", "NOMKSTREAM", "1-0", "f", "v");
    CMD(&b, "XADD", "st2", "0-0", "f", "v");              /* 0-0 refused */
    CMD(&b, "XADD", "st2", "MAXLEN", "0", "3-0", "f", "v"); /* empty, but kept */
    CHECK_INT(run(e, &b), 0, "streams: applied");
    CHECK_STR(q(e, "SELECT id, pos, field, value FROM redis_streams WHERE key = 'st'"
                   " ORDER BY ms, seq, pos"), "7-0,0,f,v4;8-0,0,f,v5",
              "streams: entries after MAXLEN and MINID trimming");
    CHECK_STR(q(e, "SELECT key, type FROM redis_keys WHERE key LIKE '%st%' ORDER BY key"),
              "st,stream;st2,stream", "streams: NOMKSTREAM creates nothing, an empty stream stays");
    e->sink->ops->key_find(e->sink, 0, &key, &sk);
    memset(&m, 0, sizeof(m));
    e->sink->ops->stream_meta_get(e->sink, sk.id, &m);
    CHECK(m.length == 2 && m.last_id.ms == 8 && m.last_id.seq == 0 && m.entries_added == 5 &&
          m.has_v2, "streams: meta length %llu, last %llu-%llu, entries_added %llu",
          (unsigned long long)m.length, (unsigned long long)m.last_id.ms,
          (unsigned long long)m.last_id.seq, (unsigned long long)m.entries_added);
    key.ptr = "st2";
    key.len = 3;
    e->sink->ops->key_find(e->sink, 0, &key, &sk);
    e->sink->ops->stream_meta_get(e->sink, sk.id, &m);
    CHECK(m.length == 0 && m.last_id.ms == 3 && m.first_id.ms == 0 && m.entries_added == 1,
          "streams: trimmed to empty, last id 3-0 kept, first id 0-0");
    free(b.p);
}

static void test_dbs(struct env *e)
{
    struct buf b = { 0 };

    CMD(&b, "SELECT", "3");
    CMD(&b, "SET", "d3", "x");
    CMD(&b, "SELECT", "4");
    CMD(&b, "SET", "d4", "x");
    CMD(&b, "FLUSHDB", "ASYNC");
    CMD(&b, "SELECT", "0");
    CHECK_INT(run(e, &b), 0, "dbs: applied");
    CHECK_STR(q(e, "SELECT db, key FROM redis_keys WHERE db > 0"), "3,d3",
              "dbs: SELECT picks the db, FLUSHDB empties only the selected one");
    CMD(&b, "FLUSHALL");
    CHECK_INT(run(e, &b), 0, "dbs: FLUSHALL applied");
    CHECK_STR(q(e, "SELECT count(*) FROM redis_keys"), "0", "dbs: FLUSHALL empties every db");
    free(b.p);
}

/* ---- offsets, transactions, acks ---- */

static void test_offsets(struct env *e)
{
    struct buf b = { 0 };
    int64_t base = apply_committed(e->a)->offset;
    char want[128];
    size_t n;

    CHECK(apply_flush(e->a) == 0 && apply_committed(e->a)->offset == base,
          "offsets: a flush with nothing new does nothing");
    n = CMD(&b, "ping");
    CHECK_INT(n, 14, "offsets: '*1 $4 ping' is 14 bytes");
    env_feed(e, b.p, b.len, 0);
    b.len = 0;
    CHECK_INT(apply_applied(e->a)->offset, base + 14, "offsets: PING advances the applied offset");
    CHECK_INT(apply_committed(e->a)->offset, base, "offsets: ... and is not committed yet");
    CHECK(apply_flush_due(e->a) == 0, "offsets: one command is not a due batch");
    CHECK_INT(apply_flush(e->a), 0, "offsets: a checkpoint-only change is committed");
    snprintf(want, sizeof(want), "%lld,%s,0", (long long)base + 14, REPLID);
    CHECK_STR(q(e, "SELECT offset, master_replid, db FROM redsink_status"), want,
              "offsets: the status row holds the committed offset");

    n = CMD(&b, "SELECT", "5");
    CHECK_INT(n, 23, "offsets: 'SELECT 5' is 23 bytes");
    n += CMD(&b, "PUBLISH", "chan", "hello");
    CHECK_INT(run(e, &b), 0, "offsets: SELECT and PUBLISH applied");
    apply_skip_bytes(e->a, 3);
    CHECK_INT(apply_flush(e->a), 0, "offsets: skipped bytes committed");
    snprintf(want, sizeof(want), "%lld,5", (long long)base + 14 + (long long)n + 3);
    CHECK_STR(q(e, "SELECT offset, db FROM redsink_status"), want,
              "offsets: SELECT, PUBLISH and skipped bytes counted, db stored");
    CMD(&b, "SELECT", "0");
    run(e, &b);
    free(b.p);
}

static void test_multi(struct env *e)
{
    struct buf b = { 0 };
    int64_t base = apply_committed(e->a)->offset;
    char want[128];
    size_t n;

    n = CMD(&b, "MULTI");
    CHECK_INT(n, 15, "multi: 'MULTI' is 15 bytes");
    n += CMD(&b, "SELECT", "2");
    n += CMD(&b, "SET", "mk", "1");
    n += CMD(&b, "HSET", "mh", "f", "v");
    env_feed(e, b.p, b.len, 0);
    b.len = 0;
    CHECK(apply_in_multi(e->a), "multi: inside the block");
    CHECK_INT(apply_applied(e->a)->offset, base, "multi: the block's bytes are not published yet");
    CHECK(apply_flush_due(e->a) == 0, "multi: never due inside the block");
    CHECK(apply_flush(e->a) == 0 && apply_committed(e->a)->offset == base,
          "multi: a flush inside the block commits nothing");
    CHECK_STR(q(e, "SELECT count(*) FROM redis_keys WHERE key IN ('mk', 'mh')"), "0",
              "multi: a reader sees nothing of the open block");
    n += CMD(&b, "EXEC");
    env_feed(e, b.p, b.len, 0);
    b.len = 0;
    CHECK(!apply_in_multi(e->a), "multi: EXEC closes the block");
    CHECK_INT(apply_applied(e->a)->offset, base + (int64_t)n,
              "multi: EXEC publishes MULTI..EXEC at once");
    CHECK_INT(apply_applied(e->a)->db, 2, "multi: a SELECT inside the block is part of it");
    CHECK(apply_flush_due(e->a), "multi: the flush asked for inside the block is due at EXEC");
    CHECK_INT(apply_flush(e->a), 0, "multi: committed after EXEC");
    snprintf(want, sizeof(want), "2,mh;2,mk|%lld,2", (long long)base + (long long)n);
    {
        char got[256];

        snprintf(got, sizeof(got), "%s|", q(e, "SELECT db, key FROM redis_keys"
                                               " WHERE key IN ('mk', 'mh') ORDER BY key"));
        strncat(got, q(e, "SELECT offset, db FROM redsink_status"), sizeof(got) - strlen(got) - 1);
        CHECK_STR(got, want, "multi: the whole block and its offset become visible together");
    }

    /* DISCARD (never propagated, but a replica honours it) */
    base = apply_committed(e->a)->offset;
    n = CMD(&b, "MULTI");
    n += CMD(&b, "SET", "dk", "1");
    n += CMD(&b, "SELECT", "9");
    n += CMD(&b, "DISCARD");
    CHECK_INT(run(e, &b), 0, "multi: MULTI .. DISCARD applied");
    CHECK_STR(q(e, "SELECT count(*) FROM redis_keys WHERE key = 'dk'"), "0",
              "multi: DISCARD drops the block's writes");
    CHECK(apply_committed(e->a)->offset == base + (int64_t)n && apply_committed(e->a)->db == 2,
          "multi: ... counts its bytes and keeps the db");
    CMD(&b, "SELECT", "0");
    run(e, &b);
    free(b.p);
}

static void test_getack(struct env *e)
{
    struct buf b = { 0 };
    int64_t base = apply_committed(e->a)->offset;
    size_t n, g;

    n = CMD(&b, "SET", "ga", "1");
    g = CMD(&b, "REPLCONF", "GETACK", "*");
    CHECK_INT(g, 37, "getack: 'REPLCONF GETACK *' is 37 bytes");
    e->acks = 0;
    CHECK_INT(env_feed(e, b.p, b.len, 0), 0, "getack: applied");
    b.len = 0;
    CHECK_INT(e->acks, 1, "getack: one ack request");
    CHECK(apply_take_ack_request(e->a) == 0, "getack: the request is taken once");
    CHECK_INT(e->ack_offset, base + (int64_t)n,
              "getack: committed offset = the offset before the GETACK");
    CHECK_INT(apply_applied(e->a)->offset, base + (int64_t)(n + g),
              "getack: the GETACK's own bytes are counted");
    CHECK_STR(q(e, "SELECT value FROM redis_strings WHERE key = 'ga'"), "1",
              "getack: what came before it is visible");
    apply_flush(e->a);
    free(b.p);
}

static void test_unknown(struct env *e)
{
    struct buf b = { 0 };
    int64_t base = apply_committed(e->a)->offset;
    size_t n;

    n = CMD(&b, "FOO.BAR", "x");
    n += CMD(&b, "foo.bar", "y", "z");
    n += CMD(&b, "SET", "after", "1");
    CHECK_INT(run(e, &b), 0, "unknown: not fatal without strict mode");
    CHECK_STR(q(e, "SELECT name, count FROM redsink_unknown_commands"), "foo.bar,2",
              "unknown: counted by name");
    CHECK_INT(qi(e, "SELECT unknown_commands FROM redsink_status"), 2,
              "unknown: counted in the status row");
    CHECK(apply_committed(e->a)->offset == base + (int64_t)n &&
          strcmp(q(e, "SELECT value FROM redis_strings WHERE key = 'after'"), "1") == 0,
          "unknown: bytes counted, the stream goes on");
    free(b.p);
}

static void test_strict(void)
{
    struct env e;
    struct buf b = { 0 };
    size_t n;

    if (env_open(&e, "strict", 1, 0) != 0) {
        CHECK(0, "strict: open");
        return;
    }
    n = CMD(&b, "SET", "a", "1");
    run(&e, &b);
    n += CMD(&b, "SET", "b", "2");
    CMD(&b, "WEIRD", "x");
    CMD(&b, "SET", "c", "3");
    CHECK_INT(env_feed(&e, b.p, b.len, 0), -1, "strict: an unknown command is fatal");
    CHECK(strstr(apply_error(e.a)->msg, "weird") != NULL, "strict: the error names it: %s",
          apply_error(e.a)->msg);
    CHECK(apply_committed(e.a)->offset == START_OFFSET + (int64_t)n &&
          apply_applied(e.a)->offset == START_OFFSET + (int64_t)n,
          "strict: what came before it is committed, the checkpoint stops right before it");
    CHECK_STR(q(&e, "SELECT group_concat(key) FROM (SELECT key FROM redis_keys ORDER BY key)"),
              "a,b", "strict: nothing after it is applied");
    CHECK(apply_command(e.a, 1, &(struct rs_bytes){ "ping", 4 }, 14) == -1,
          "strict: the error is sticky");
    free(b.p);
    env_close(&e);
}

static void test_batches(void)
{
    struct env e;
    struct buf b = { 0 };

    if (env_open(&e, "batch", 0, 3) != 0) {
        CHECK(0, "batch: open");
        return;
    }
    CMD(&b, "SET", "x", "1");
    CMD(&b, "SET", "y", "2");
    env_feed(&e, b.p, b.len, 0);
    b.len = 0;
    CHECK(apply_flush_due(e.a) == 0, "batch: 2 commands of 3: not due");
    CMD(&b, "MULTI");
    env_feed(&e, b.p, b.len, 0);
    b.len = 0;
    CHECK(apply_flush_due(e.a) == 0, "batch: 3 commands but inside MULTI: not due");
    CMD(&b, "EXEC");
    env_feed(&e, b.p, b.len, 0);
    b.len = 0;
    CHECK(apply_flush_due(e.a), "batch: due after EXEC");
    free(b.p);
    env_close(&e);
}

/* A sink op that fails, to check rollback and the sticky error. */
static int failing_hash_set(struct sink *s, int64_t id, const struct rs_bytes *f,
                            const struct rs_bytes *v, int64_t exp, int *added)
{
    (void)id; (void)f; (void)v; (void)exp; (void)added;
    return rs_fail(&s->err, RS_E_SQL, "disk on fire");
}

static void test_sink_failure(void)
{
    struct env e;
    struct buf b = { 0 };
    struct sink_ops bad;
    const struct sink_ops *good;
    int64_t committed;

    if (env_open(&e, "fail", 0, 0) != 0) {
        CHECK(0, "failure: open");
        return;
    }
    CMD(&b, "SET", "a", "1");
    run(&e, &b);
    committed = apply_committed(e.a)->offset;
    good = e.sink->ops;
    bad = *good;
    bad.hash_set = failing_hash_set;
    e.sink->ops = &bad;
    CMD(&b, "SET", "b", "2");
    CMD(&b, "HSET", "h", "f", "v");
    CHECK_INT(env_feed(&e, b.p, b.len, 0), -1, "failure: a sink failure is fatal");
    CHECK(strstr(apply_error(e.a)->msg, "HSET") && strstr(apply_error(e.a)->msg, "disk on fire"),
          "failure: the error says what: %s", apply_error(e.a)->msg);
    CHECK(apply_committed(e.a)->offset == committed && apply_applied(e.a)->offset == committed,
          "failure: the committed position is unchanged");
    CHECK_STR(q(&e, "SELECT group_concat(key) FROM redis_keys"), "a",
              "failure: the open batch is rolled back");
    CHECK(apply_flush(e.a) == -1, "failure: the error is sticky");
    e.sink->ops = good;
    free(b.p);
    env_close(&e);
}

/* The same stream fed whole and one byte at a time: same views. */
static void build_script(struct buf *b)
{
    static const char bin[] = "*3\r\n$4\r\nSADD\r\n$3\r\nbin\r\n$4\r\n\0\xff\r\n\r\n";

    CMD(b, "SELECT", "1");
    CMD(b, "SET", "s", "v", "PXAT", "99999999999999");
    CMD(b, "HSET", "h", "a", "1", "b", "2");
    CMD(b, "HDEL", "h", "a");
    buf_add(b, "\n", 1);
    CMD(b, "ping");
    CMD(b, "MULTI");
    CMD(b, "LPUSH", "l", "a", "b");
    CMD(b, "SELECT", "2");
    CMD(b, "RPUSH", "l", "c");
    CMD(b, "EXEC");
    CMD(b, "ZADD", "z", "1.5", "m", "-inf", "n");
    CMD(b, "XADD", "x", "MAXLEN", "=", "1", "1-1", "f", "v", "g", "w");
    CMD(b, "XADD", "x", "MAXLEN", "=", "1", "2-1", "f", "v2");
    CMD(b, "REPLCONF", "GETACK", "*");
    buf_add(b, bin, sizeof(bin) - 1);
    CMD(b, "UNKNOWNCMD", "x");
    CMD(b, "INCRBY", "n", "41");
    CMD(b, "DEL", "s");
}

static void dump(struct env *e, struct buf *out)
{
    static const char *const sql[] = {
        "SELECT db, key, type, expire_at FROM redis_keys ORDER BY db, key",
        "SELECT db, key, value FROM redis_strings ORDER BY db, key",
        "SELECT db, key, field, value FROM redis_hashes ORDER BY db, key, field",
        "SELECT db, key, idx, value FROM redis_lists ORDER BY db, key, idx",
        "SELECT db, key, hex(member) FROM redis_sets ORDER BY db, key, member",
        "SELECT db, key, member, score FROM redis_zsets ORDER BY db, key, member",
        "SELECT db, key, id, pos, field, value FROM redis_streams ORDER BY db, key, ms, seq, pos",
        "SELECT offset, db, commands_applied, unknown_commands FROM redsink_status",
    };

    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        const char *r = q(e, sql[i]);

        buf_add(out, r, strlen(r));
        buf_add(out, "\n", 1);
    }
}

static void test_split(void)
{
    struct env whole, bytes;
    struct buf script = { 0 }, d1 = { 0 }, d2 = { 0 };

    if (env_open(&whole, "whole", 0, 0) != 0 || env_open(&bytes, "bytes", 0, 0) != 0) {
        CHECK(0, "split: open");
        return;
    }
    build_script(&script);
    CHECK(env_feed(&whole, script.p, script.len, 0) == 0 && apply_flush(whole.a) == 0,
          "split: the script fed whole");
    CHECK(env_feed(&bytes, script.p, script.len, 1) == 0 && apply_flush(bytes.a) == 0,
          "split: the script fed one byte at a time");
    dump(&whole, &d1);
    dump(&bytes, &d2);
    CHECK(strcmp(d1.p, d2.p) == 0, "split: same views and checkpoint either way");
    CHECK_INT(apply_committed(whole.a)->offset, START_OFFSET + (int64_t)script.len,
              "split: every byte of the script is counted");
    CHECK(whole.acks == 1 && bytes.acks == 1 && whole.ack_offset == bytes.ack_offset,
          "split: the GETACK answered with the same offset");
    CHECK(strstr(d1.p, "1,l,0,b;1,l,1,a;2,l,0,c") != NULL && strstr(d1.p, "2,bin,00FF0D0A"),
          "split: SELECT inside MULTI, binary member: as expected");
    free(script.p);
    free(d1.p);
    free(d2.p);
    env_close(&whole);
    env_close(&bytes);
}

int main(void)
{
    struct env e;

    log_set_level(RS_LOG_ERROR);
    test_resp();
    if (env_open(&e, "main", 0, 0) != 0) {
        printf("# skipping the applier tests: no SQLite sink\n1..%d\n", checks);
        return failures ? 99 : 77;
    }
    test_strings(&e);
    test_keys(&e);
    test_collections(&e);
    test_zsets(&e);
    test_streams(&e);
    test_dbs(&e);
    test_offsets(&e);
    test_multi(&e);
    test_getack(&e);
    test_unknown(&e);
    env_close(&e);
    test_strict();
    test_batches();
    test_sink_failure();
    test_split();
    printf("1..%d\n", checks);
    return failures ? 99 : 0;
}
