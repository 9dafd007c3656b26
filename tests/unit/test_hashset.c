/*
 * test_hashset.c - the hash and set commands, end to end: RESP bytes go
 * through resp.c into apply.c and the real SQLite sink on a temporary
 * file, and a second SQLite connection checks the contract's views.
 *
 * Covers what the seeded differential test against a 7.0 master cannot:
 * the Redis 7.4 field-TTL commands in their propagated forms, commands a
 * master never sends verbatim (HINCRBYFLOAT, SPOP), and exact edge cases
 * (overflow, WRONGTYPE, TEXT vs BLOB members, a destination that is also
 * a source). Expected HINCRBYFLOAT results were read from redis-server
 * 7.0.15.
 *
 * Also the write commands of Redis 8.0-8.4 and Valkey 8.1-9.x in the forms
 * their masters propagate (and verbatim, where a replica still accepts
 * them), with results taken from the servers' source (t_hash.c, t_string.c,
 * db.c): HSETEX (Redis' FNX/FXX, Valkey's NX/XX too, EX/PX/EXAT/PXAT/
 * KEEPTTL), HGETEX, HGETDEL, SET's IFEQ/IFNE/IFDEQ/IFDNE, DELEX, Valkey's
 * DELIFEQ, MSETEX, and the error cases a replica refuses; Redis 8.8's array
 * commands (t_array.c) and the redis_arrays view; Redis 8.2's XDELEX and
 * XACKDEL (KEEPREF/DELREF/ACKED, from the command docs and t_stream.c).
 *
 * Exit 0 (all passed), 77 (no SQLite sink) or 99 (a check failed).
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

static void check_str(const char *got, const char *want, const char *what, int line)
{
    int ok = strcmp(got, want) == 0;

    checks++;
    failures += !ok;
    printf("%s %d - %s", ok ? "ok" : "not ok", checks, what);
    if (!ok)
        printf(": got '%s', want '%s'  (line %d)", got, want, line);
    printf("\n");
}

#define CHECK_STR(got, want, what) check_str((got), (want), (what), __LINE__)

/* ------------------------------------------------------------------ */
/* Building RESP (arguments with explicit lengths: members are binary)  */
/* ------------------------------------------------------------------ */

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        if ((b->p = realloc(b->p, b->cap)) == NULL)
            abort();
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Append one command; the arguments are C strings, NULL-terminated. A
 * "\\xNN" pair in an argument stands for the byte NN (so "\\x00" is NUL). */
static void cmd(struct buf *b, ...)
{
    const char *args[64];
    char tmp[64];
    int n = 0;
    va_list ap;

    va_start(ap, b);
    while ((args[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    snprintf(tmp, sizeof(tmp), "*%d\r\n", n);
    buf_add(b, tmp, strlen(tmp));
    for (int i = 0; i < n; i++) {
        char arg[512];
        size_t len = 0;

        for (const char *s = args[i]; *s && len < sizeof(arg); s++) {
            unsigned v;

            if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &v) == 1) {
                arg[len++] = (char)v;
                s += 3;
            } else {
                arg[len++] = *s;
            }
        }
        snprintf(tmp, sizeof(tmp), "$%zu\r\n", len);
        buf_add(b, tmp, strlen(tmp));
        buf_add(b, arg, len);
        buf_add(b, "\r\n", 2);
    }
}

#define CMD(b, ...) cmd((b), __VA_ARGS__, (const char *)NULL)

/* ------------------------------------------------------------------ */
/* A mirror on a temporary file                                        */
/* ------------------------------------------------------------------ */

struct env {
    char path[256];
    struct sink *sink;
    struct applier *a;
    struct resp_reader *rr;
    sqlite3 *rd;                   /* a reader's own connection */
    char out[8192];
};

static int env_open(struct env *e)
{
    struct rs_error err = { 0 };
    struct repl_pos start = { "0123456789abcdef0123456789abcdef01234567", 0, 0 };
    struct apply_opts o = { .batch_max_ms = 100000 };

    memset(e, 0, sizeof(*e));
    snprintf(e->path, sizeof(e->path), "%s/test_hashset-%d.tmp.db",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    unlink(e->path);
    if ((e->sink = sink_open("sqlite", e->path, &err)) == NULL) {
        printf("# cannot open the sqlite sink: %s\n", err.msg);
        return -1;
    }
    e->a = apply_new(e->sink, &start, &o);
    e->rr = resp_reader_new(0, 0);
    return sqlite3_open_v2(e->path, &e->rd, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK ? 0 : -1;
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

/* Apply every command of 'b' and commit. "0", or the applier's error. */
static const char *run(struct env *e, struct buf *b)
{
    struct resp_command c;
    size_t skipped;
    enum rs_status st;
    const char *res = "0";

    if (resp_reader_feed(e->rr, b->p, b->len) != 0)
        res = "feed failed";
    while (res[0] == '0' && (st = resp_reader_next(e->rr, &c, &skipped)) == RS_OK)
        if (apply_command(e->a, c.argc, c.argv, c.wire_len) != 0)
            res = apply_error(e->a)->msg;
    if (res[0] == '0' && apply_flush(e->a) != 0)
        res = apply_error(e->a)->msg;
    b->len = 0;
    return res;
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

/* The fields of hash 'key' as "field=value@expire_at;..." (the view hides
 * fields past their TTL: the raw table is read through the view's own
 * generation instead, so those show too). */
static const char *fields(struct env *e, const char *key)
{
    long long gen = atoll(q(e, "SELECT generation FROM redsink_status"));
    char sql[512];

    snprintf(sql, sizeof(sql),
             "SELECT group_concat(f, ';') FROM (SELECT h.field || '=' || h.value || '@' ||"
             " coalesce(h.expire_at, '-') AS f FROM g%lld_hash h JOIN g%lld_keys k"
             " ON k.id = h.kid WHERE k.key = '%s' AND k.db = 0 ORDER BY h.field)",
             gen, gen, key);
    return q(e, sql);
}

static const char *members(struct env *e, const char *key)
{
    char sql[256];

    snprintf(sql, sizeof(sql), "SELECT group_concat(m, ',') FROM (SELECT typeof(member) || ':'"
             " || hex(member) AS m FROM redis_sets WHERE key = '%s' AND db = 0 ORDER BY 1)", key);
    return q(e, sql);
}

static const char *keyinfo(struct env *e, const char *key)
{
    char sql[256];

    snprintf(sql, sizeof(sql), "SELECT type || '/' || coalesce(expire_at, '-') FROM redis_keys"
             " WHERE key = '%s' AND db = 0", key);
    return q(e, sql);
}

/* ------------------------------------------------------------------ */
/* Hashes                                                              */
/* ------------------------------------------------------------------ */

static void test_hsetnx_hincrby(struct env *e)
{
    struct buf b = { 0 };

    CMD(&b, "HSETNX", "h", "a", "1");
    CMD(&b, "HSETNX", "h", "a", "2");                      /* exists: no */
    CMD(&b, "HINCRBY", "h", "a", "41");
    CMD(&b, "HINCRBY", "h", "new", "-3");                  /* missing field: from 0 */
    CMD(&b, "HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808",
        "txt", "007", "sp", " 1");
    CMD(&b, "HINCRBY", "h", "max", "1");                   /* overflow: skipped */
    CMD(&b, "HINCRBY", "h", "min", "-1");                  /* overflow: skipped */
    CMD(&b, "HINCRBY", "h", "min", "9223372036854775807"); /* fine: -1 */
    CMD(&b, "HINCRBY", "h", "txt", "1");                   /* not canonical: skipped */
    CMD(&b, "HINCRBY", "h", "sp", "1");                    /* leading space: skipped */
    CMD(&b, "HINCRBY", "h", "a", "1.5");                   /* bad increment: skipped */
    CMD(&b, "HINCRBY", "h2", "x", "-0");                   /* "-0" refused: nothing made */
    CMD(&b, "SET", "str", "x");
    CMD(&b, "HINCRBY", "str", "x", "1");                   /* WRONGTYPE */
    CMD(&b, "HSETNX", "str", "x", "1");                    /* WRONGTYPE */
    CHECK_STR(run(e, &b), "0", "hash: HSETNX/HINCRBY batch applied");
    CHECK_STR(fields(e, "h"),
              "a=42@-;max=9223372036854775807@-;min=-1@-;new=-3@-;sp= 1@-;txt=007@-",
              "hash: HSETNX only when new; HINCRBY 64-bit, overflow and non-integers skipped");
    CHECK_STR(q(e, "SELECT group_concat(key) FROM redis_keys WHERE key IN ('h2','str')"), "str",
              "hash: a refused HINCRBY creates nothing; WRONGTYPE leaves the string alone");
    free(b.p);
}

static void test_hincrbyfloat(struct env *e)
{
    struct buf b = { 0 };

    /* field values and results as redis-server 7.0.15 gave them */
    CMD(&b, "HSET", "hf", "a", "10.5", "b", "1e3", "c", "3", "d", "0.1", "e", "-0.0",
        "f", "5", "g", "  1", "i", "007", "nul", "1\\x002");
    CMD(&b, "HINCRBYFLOAT", "hf", "a", "0.1");
    CMD(&b, "HINCRBYFLOAT", "hf", "b", "-2");
    CMD(&b, "HINCRBYFLOAT", "hf", "c", "1.5");
    CMD(&b, "HINCRBYFLOAT", "hf", "d", "0.2");
    CMD(&b, "HINCRBYFLOAT", "hf", "e", "0");
    CMD(&b, "HINCRBYFLOAT", "hf", "f", "-5");
    CMD(&b, "HINCRBYFLOAT", "hf", "g", "1");               /* not a float: skipped */
    CMD(&b, "HINCRBYFLOAT", "hf", "i", "1");
    CMD(&b, "HINCRBYFLOAT", "hf", "n", "3.0e-5");
    CMD(&b, "HINCRBYFLOAT", "hf", "m", "-0.0000000000000000001");
    CMD(&b, "HINCRBYFLOAT", "hf", "l", "0x10");
    CMD(&b, "HINCRBYFLOAT", "hf", "k", "1e308");
    CMD(&b, "HINCRBYFLOAT", "hf", "p", "inf");             /* refused */
    CMD(&b, "HINCRBYFLOAT", "hf", "q", "1e4933");          /* overflow: refused */
    CMD(&b, "HINCRBYFLOAT", "hf", "nul", "1");             /* embedded NUL: not a float */
    CHECK_STR(run(e, &b), "0", "hash: HINCRBYFLOAT batch applied");
    CHECK_STR(q(e, "SELECT group_concat(field || '=' || value, ' ') FROM (SELECT field, value"
                   " FROM redis_hashes WHERE key = 'hf' AND field NOT IN ('k', 'nul')"
                   " ORDER BY field)"),
              "a=10.6 b=998 c=4.5 d=0.3 e=0 f=0 g=  1 i=8 l=16 m=0 n=0.00003",
              "hash: HINCRBYFLOAT results byte for byte as Redis 7.0 (%.17Lf, zeros trimmed, -0 as 0)");
    CHECK_STR(q(e, "SELECT value FROM redis_hashes WHERE key = 'hf' AND field = 'k'"),
              "99999999999999999996685879655845645660560099847415567207797047994921734868838061"
              "87210012692188853932044674722505401322315213474959396058359742081443019641876795"
              "91000196031907786631096045071066679391533957889389145605435630612683649016186302"
              "17086589253444881623791300855757318142424510452728255046343928578048",
              "hash: HINCRBYFLOAT 1e308 printed in full, as Redis does");
    free(b.p);
}

static void test_field_ttl(struct env *e)
{
    struct buf b = { 0 };
    char want[256];
    long long now;

    CMD(&b, "HSET", "t", "a", "1", "b", "2", "c", "3", "d", "4");
    CMD(&b, "HPEXPIREAT", "t", "69000000000000", "FIELDS", "2", "a", "zz");
    CMD(&b, "HPEXPIREAT", "t", "68000000000000", "NX", "FIELDS", "2", "a", "b");  /* a: has one */
    CMD(&b, "HPEXPIREAT", "t", "67000000000000", "XX", "FIELDS", "2", "b", "c");  /* c: has none */
    CMD(&b, "HPEXPIREAT", "t", "67500000000000", "gt", "FIELDS", "2", "b", "c");  /* c: none = inf */
    CMD(&b, "HPEXPIREAT", "t", "60000000000000", "LT", "FIELDS", "2", "a", "c");  /* both */
    CMD(&b, "HPEXPIREAT", "t", "65000000000000", "LT", "FIELDS", "1", "a");       /* not lower */
    CMD(&b, "HPEXPIREAT", "t", "1000", "FIELDS", "1", "d");       /* past: set, not deleted */
    CMD(&b, "HPEXPIREAT", "t", "5", "FIELDS", "3", "a", "b");     /* count mismatch */
    CMD(&b, "HPEXPIREAT", "t", "5", "FIELDS", "0");               /* arity: skipped */
    CMD(&b, "HPEXPIREAT", "t", "-1", "FIELDS", "1", "a");         /* negative: refused */
    CMD(&b, "HPEXPIREAT", "t", "70368744177664", "FIELDS", "1", "a"); /* past the max */
    CMD(&b, "HPEXPIREAT", "t", "5", "FIELD", "1", "a");           /* no FIELDS */
    CMD(&b, "HPEXPIREAT", "nokey", "5", "FIELDS", "1", "a");
    CMD(&b, "SADD", "s", "x");
    CMD(&b, "HPEXPIREAT", "s", "5", "FIELDS", "1", "x");          /* WRONGTYPE */
    CHECK_STR(run(e, &b), "0", "hfe: HPEXPIREAT batch applied");
    CHECK_STR(fields(e, "t"), "a=1@60000000000000;b=2@67500000000000;c=3@60000000000000;d=4@1000",
              "hfe: HPEXPIREAT NX/XX/GT/LT (no TTL: GT never, LT always), past time kept");
    CHECK_STR(q(e, "SELECT group_concat(field) FROM redis_hashes WHERE key = 't'"), "a,b,c",
              "hfe: redis_hashes hides the field past its TTL");
    CHECK_STR(q(e, "SELECT count(*) FROM redis_keys WHERE key = 'nokey'"), "0",
              "hfe: HPEXPIREAT on a missing key creates nothing");

    CMD(&b, "HPERSIST", "t", "FIELDS", "3", "a", "d", "zz");
    CMD(&b, "HSET", "t", "b", "22");                              /* HSET clears b's TTL */
    CMD(&b, "HINCRBY", "t", "c", "1");                            /* HINCRBY keeps c's */
    CMD(&b, "HPERSIST", "t", "FIELDS", "2", "a");                 /* count mismatch */
    CMD(&b, "HPEXPIREAT", "t", "50000000000000", "FIELDS", "2", "a", "a");
    CMD(&b, "HPEXPIREAT", "t", "40000000000000", "NX", "FIELDS", "2", "b", "b");  /* once */
    CHECK_STR(run(e, &b), "0", "hfe: HPERSIST batch applied");
    CHECK_STR(fields(e, "t"), "a=1@50000000000000;b=22@40000000000000;c=4@60000000000000;d=4@-",
              "hfe: HPERSIST (also of a field past its TTL), HSET clears, HINCRBY keeps,"
              " a field named twice");

    now = (long long)rs_now_ms();
    CMD(&b, "HEXPIRE", "t", "100", "FIELDS", "1", "d");
    CMD(&b, "HPEXPIRE", "t", "100000", "FIELDS", "1", "b");
    CMD(&b, "HEXPIREAT", "t", "60000000000", "FIELDS", "1", "c");
    CHECK_STR(run(e, &b), "0", "hfe: HEXPIRE/HPEXPIRE/HEXPIREAT applied");
    snprintf(want, sizeof(want), "1,1,60000000000000");
    {
        char sql[512];

        snprintf(sql, sizeof(sql),
                 "SELECT (SELECT expire_at BETWEEN %lld AND %lld FROM redis_hashes WHERE key = 't'"
                 " AND field = 'd'), (SELECT expire_at BETWEEN %lld AND %lld FROM redis_hashes"
                 " WHERE key = 't' AND field = 'b'), (SELECT expire_at FROM redis_hashes"
                 " WHERE key = 't' AND field = 'c')",
                 now + 100000, now + 110000, now + 100000, now + 110000);
        CHECK_STR(q(e, sql), want, "hfe: relative times count from our clock, seconds * 1000");
    }
    CMD(&b, "HDEL", "t", "a", "b", "c", "d");
    CHECK_STR(run(e, &b), "0", "hfe: HDEL applied");
    CHECK_STR(keyinfo(e, "t"), "", "hfe: the master's HDEL of the last fields deletes the key");
    free(b.p);
}

/* ------------------------------------------------------------------ */
/* Sets                                                                */
/* ------------------------------------------------------------------ */

static void test_smove_spop(struct env *e)
{
    struct buf b = { 0 };

    CMD(&b, "SADD", "src", "a", "b", "\\xff");
    CMD(&b, "SMOVE", "src", "dst", "a");                 /* creates dst */
    CMD(&b, "SMOVE", "src", "dst", "zz");                /* absent: nothing */
    CMD(&b, "SMOVE", "src", "src", "b");                 /* same key: nothing */
    CMD(&b, "SMOVE", "nokey", "dst", "b");               /* no source: nothing */
    CMD(&b, "SET", "str", "x");
    CMD(&b, "SMOVE", "src", "str", "b");                 /* WRONGTYPE destination */
    CMD(&b, "SMOVE", "str", "dst", "b");                 /* WRONGTYPE source */
    CMD(&b, "SMOVE", "src", "dst", "\\xff");
    CMD(&b, "SMOVE", "src", "dst", "b");                 /* src emptied: gone */
    CMD(&b, "SADD", "one", "m");
    CMD(&b, "SMOVE", "dst", "one", "a");
    CHECK_STR(run(e, &b), "0", "smove: batch applied");
    CHECK_STR(keyinfo(e, "src"), "", "smove: an emptied source disappears");
    CHECK_STR(members(e, "dst"), "blob:FF,text:62", "smove: members moved, binary one too");
    CHECK_STR(members(e, "one"), "text:61,text:6D", "smove: into an existing set");
    CHECK_STR(keyinfo(e, "str"), "string/-", "smove: a WRONGTYPE destination is left alone");

    CMD(&b, "SADD", "p1", "x");
    CMD(&b, "SPOP", "p1");                               /* one member: deterministic */
    CMD(&b, "SADD", "p2", "x", "y", "z");
    CMD(&b, "SPOP", "p2", "0");                          /* nothing */
    CMD(&b, "SPOP", "p2", "1");                          /* random: skipped */
    CMD(&b, "SPOP", "p2");                               /* random: skipped */
    CMD(&b, "SPOP", "p2", "-1");                         /* refused */
    CMD(&b, "SADD", "p3", "x", "y");
    CMD(&b, "SPOP", "p3", "5");                          /* everything */
    CHECK_STR(run(e, &b), "0", "spop: batch applied");
    CHECK_STR(q(e, "SELECT group_concat(key) FROM (SELECT key FROM redis_keys"
                   " WHERE key GLOB 'p[0-9]' ORDER BY key)"), "p2",
              "spop: whole-set pops applied, random ones skipped");
    CHECK_STR(members(e, "p2"), "text:78,text:79,text:7A", "spop: the skipped pops changed nothing");
    free(b.p);
}

static void test_setops(struct env *e)
{
    struct buf b = { 0 };

    CMD(&b, "SADD", "s1", "a", "b", "c", "\\xff", "\\x00");
    CMD(&b, "SADD", "s2", "b", "c", "d", "\\xff");
    CMD(&b, "SADD", "s3", "c", "x");
    CMD(&b, "SINTERSTORE", "i", "s1", "s2");
    CMD(&b, "SINTERSTORE", "i3", "s1", "s2", "s3");
    CMD(&b, "SUNIONSTORE", "u", "s3", "nokey", "s2");
    CMD(&b, "SDIFFSTORE", "d", "s1", "s2", "nokey");
    CMD(&b, "SDIFFSTORE", "dself", "s1", "s3", "s1");    /* S - .. - S: empty */
    CMD(&b, "SINTERSTORE", "iself", "s2", "s2");
    CHECK_STR(run(e, &b), "0", "setops: batch applied");
    CHECK_STR(members(e, "i"), "blob:FF,text:62,text:63", "setops: SINTERSTORE");
    CHECK_STR(members(e, "i3"), "text:63", "setops: SINTERSTORE of three");
    CHECK_STR(members(e, "u"), "blob:FF,text:62,text:63,text:64,text:78",
              "setops: SUNIONSTORE skips a missing key");
    CHECK_STR(members(e, "d"), "text:00,text:61", "setops: SDIFFSTORE (NUL is valid UTF-8: TEXT)");
    CHECK_STR(keyinfo(e, "dself"), "", "setops: SDIFFSTORE s1 .. s1 is empty: no key");
    CHECK_STR(members(e, "iself"), "blob:FF,text:62,text:63,text:64", "setops: S inter S = S");

    /* destination among the sources, of another type, with a TTL */
    CMD(&b, "SUNIONSTORE", "s3", "s3", "s2");
    CMD(&b, "SDIFFSTORE", "s2", "s1", "s2");
    CMD(&b, "SET", "str", "v", "PXAT", "99999999999999");
    CMD(&b, "SINTERSTORE", "str", "s1", "s3");
    CMD(&b, "SADD", "ttl", "q");
    CMD(&b, "PEXPIREAT", "ttl", "99999999999999");
    CMD(&b, "SUNIONSTORE", "ttl", "ttl");
    CHECK_STR(run(e, &b), "0", "setops: destination batch applied");
    CHECK_STR(members(e, "s3"), "blob:FF,text:62,text:63,text:64,text:78",
              "setops: SUNIONSTORE into one of its sources");
    CHECK_STR(members(e, "s2"), "text:00,text:61", "setops: SDIFFSTORE into its second source");
    CHECK_STR(keyinfo(e, "str"), "set/-", "setops: a string destination is replaced, TTL dropped");
    CHECK_STR(members(e, "str"), "blob:FF,text:62,text:63", "setops: ... by the intersection");
    CHECK_STR(keyinfo(e, "ttl"), "set/-", "setops: SUNIONSTORE k k drops k's TTL, as setKey");

    /* empty results delete the destination; WRONGTYPE sources change nothing */
    CMD(&b, "SET", "e1", "x");
    CMD(&b, "SINTERSTORE", "e1", "s1", "nokey");         /* missing key: empty */
    CMD(&b, "SADD", "e2", "z");
    CMD(&b, "SDIFFSTORE", "e2", "nokey", "s1");          /* missing first: empty */
    CMD(&b, "SADD", "e3", "z");
    CMD(&b, "SINTERSTORE", "e3", "s2", "s3", "u");       /* no common member */
    CMD(&b, "SUNIONSTORE", "e4", "nokey");               /* nothing, nothing made */
    CMD(&b, "SADD", "w", "keep");
    CMD(&b, "HSET", "hash", "f", "v");
    CMD(&b, "SUNIONSTORE", "w", "s1", "hash");           /* WRONGTYPE: skipped */
    CMD(&b, "SINTERSTORE", "w", "nokey", "hash");        /* Redis checks every source */
    CMD(&b, "SDIFFSTORE", "w", "s1", "hash");
    CHECK_STR(run(e, &b), "0", "setops: empty/WRONGTYPE batch applied");
    CHECK_STR(q(e, "SELECT count(*) FROM redis_keys WHERE key IN ('e1','e2','e3','e4')"), "0",
              "setops: an empty result deletes the destination of any type");
    CHECK_STR(members(e, "w"), "text:6B656570", "setops: a WRONGTYPE source changes nothing");
    CHECK_STR(q(e, "SELECT count(*) FROM redis_keys WHERE db < 0"), "0",
              "setops: no scratch key is left behind");
    free(b.p);
}

/* The sink's read ops on what the commands above left. */
static void scan_count(void *ud, const struct rs_bytes *m)
{
    (void)m;
    ++*(int *)ud;
}

static void hscan_count(void *ud, const struct rs_bytes *f, const struct rs_bytes *v, int64_t x)
{
    (void)f;
    (void)v;
    (void)x;
    ++*(int *)ud;
}

static void test_sink_reads(struct env *e)
{
    struct sink *s = e->sink;
    struct sink_key sk;
    int64_t n = -1;
    int cnt = 0, found = -1;
    char got[128];

    s->ops->key_find(s, 0, &(struct rs_bytes){ "s3", 2 }, &sk);
    s->ops->set_card(s, sk.id, &n);
    s->ops->set_scan(s, sk.id, scan_count, &cnt);
    s->ops->set_is_member(s, sk.id, &(struct rs_bytes){ "\xff", 1 }, &found);
    snprintf(got, sizeof(got), "%lld,%d,%d", (long long)n, cnt, found);
    s->ops->set_is_member(s, sk.id, &(struct rs_bytes){ "zz", 2 }, &found);
    snprintf(got + strlen(got), sizeof(got) - strlen(got), ",%d", found);
    CHECK_STR(got, "5,5,1,0", "sink: set_card, set_scan, set_is_member (binary, absent)");

    cnt = 0;
    s->ops->key_find(s, 0, &(struct rs_bytes){ "h", 1 }, &sk);
    s->ops->hash_len(s, sk.id, &n);
    s->ops->hash_scan(s, sk.id, hscan_count, &cnt);
    s->ops->hash_set_expire(s, sk.id, &(struct rs_bytes){ "zz", 2 }, 5, &found);
    snprintf(got, sizeof(got), "%lld,%d,%d", (long long)n, cnt, found);
    CHECK_STR(got, "6,6,0", "sink: hash_len, hash_scan, hash_set_expire of an absent field");
}

/* ------------------------------------------------------------------ */
/* Hashes: HSETEX, HGETEX, HGETDEL                                     */
/* ------------------------------------------------------------------ */

static void test_hsetex(struct env *e)
{
    struct buf b = { 0 };
    char sql[512];
    long long now;

    /* Redis 8.0's propagated form: PXAT, or KEEPTTL, or nothing */
    CMD(&b, "HSETEX", "hx", "PXAT", "60000000000000", "FIELDS", "2", "a", "1", "b", "2");
    CMD(&b, "HSETEX", "hx", "FIELDS", "1", "c", "3");
    CMD(&b, "HSETEX", "hx", "KEEPTTL", "FIELDS", "2", "a", "11", "d", "4"); /* a keeps its TTL */
    CMD(&b, "HSETEX", "hx", "FIELDS", "1", "b", "22");                 /* b loses it */
    CMD(&b, "HSETEX", "hx", "FNX", "PXAT", "50000000000000", "FIELDS", "2", "e", "5", "a", "x");
    CMD(&b, "HSETEX", "hx", "FNX", "PXAT", "50000000000000", "FIELDS", "1", "e", "5");
    CMD(&b, "HSETEX", "hx", "FXX", "FIELDS", "2", "a", "y", "zz", "1");  /* zz missing: no */
    CMD(&b, "HSETEX", "hx", "fxx", "KEEPTTL", "FIELDS", "1", "e", "55");
    CMD(&b, "HSETEX", "nokey", "FXX", "FIELDS", "1", "a", "1");         /* FXX, no key: no */
    CMD(&b, "HSETEX", "hx", "PXAT", "1000", "FIELDS", "1", "f", "6");    /* past: set, kept */
    CHECK_STR(run(e, &b), "0", "hsetex: Redis forms applied");
    CHECK_STR(fields(e, "hx"),
              "a=11@60000000000000;b=22@-;c=3@-;d=4@-;e=55@50000000000000;f=6@1000",
              "hsetex: PXAT, KEEPTTL keeps, none clears, FNX/FXX all-or-nothing, past time kept");
    CHECK_STR(keyinfo(e, "nokey"), "", "hsetex: FXX on a missing key creates nothing");

    /* Valkey 9's key-level NX/XX (sent as they came when lower case) */
    CMD(&b, "HSETEX", "v", "xx", "FIELDS", "1", "a", "1");              /* no key: no */
    CMD(&b, "HSETEX", "v", "nx", "FIELDS", "1", "a", "1");
    CMD(&b, "HSETEX", "v", "nx", "FIELDS", "1", "b", "2");              /* key exists: no */
    CMD(&b, "HSETEX", "v", "xx", "fnx", "PXAT", "61000000000000", "FIELDS", "1", "c", "3");
    CHECK_STR(run(e, &b), "0", "hsetex: Valkey NX/XX forms applied");
    CHECK_STR(fields(e, "v"), "a=1@-;c=3@61000000000000", "hsetex: Valkey NX/XX on the key");

    /* relative times count from our clock */
    now = (long long)rs_now_ms();
    CMD(&b, "HSETEX", "r", "EX", "100", "FIELDS", "1", "a", "1");
    CMD(&b, "HSETEX", "r", "PX", "100000", "FIELDS", "1", "b", "1");
    CMD(&b, "HSETEX", "r", "EXAT", "60000000000", "FIELDS", "1", "c", "1");
    CHECK_STR(run(e, &b), "0", "hsetex: EX/PX/EXAT applied");
    snprintf(sql, sizeof(sql),
             "SELECT group_concat(x) FROM (SELECT CASE WHEN expire_at BETWEEN %lld AND %lld"
             " THEN 'rel' ELSE expire_at END AS x FROM redis_hashes WHERE key = 'r'"
             " ORDER BY field)", now + 100000, now + 110000);
    CHECK_STR(q(e, sql), "rel,rel,60000000000000", "hsetex: EX, PX relative, EXAT * 1000");

    /* what a replica refuses: nothing changes */
    CMD(&b, "HSETEX", "hx", "FIELDS", "2", "a", "1");                    /* count mismatch */
    CMD(&b, "HSETEX", "hx", "FIELDS", "0", "a", "1");                    /* zero fields */
    CMD(&b, "HSETEX", "hx", "FNX", "FXX", "FIELDS", "1", "a", "1");      /* both */
    CMD(&b, "HSETEX", "hx", "EX", "10", "PX", "10", "FIELDS", "1", "a", "1");
    CMD(&b, "HSETEX", "hx", "KEEPTTL", "EX", "10", "FIELDS", "1", "a", "1");
    CMD(&b, "HSETEX", "hx", "EX", "-1", "FIELDS", "1", "a", "1");        /* negative */
    CMD(&b, "HSETEX", "hx", "PXAT", "70368744177664", "FIELDS", "1", "a", "1"); /* past max */
    CMD(&b, "HSETEX", "hx", "BOGUS", "FIELDS", "1", "a", "1");
    CMD(&b, "HSETEX", "hx", "a", "1", "b", "2");                         /* no FIELDS */
    CMD(&b, "SET", "str", "x");
    CMD(&b, "HSETEX", "str", "FIELDS", "1", "a", "1");                  /* WRONGTYPE */
    CHECK_STR(run(e, &b), "0", "hsetex: refused forms skipped");
    CHECK_STR(fields(e, "hx"),
              "a=11@60000000000000;b=22@-;c=3@-;d=4@-;e=55@50000000000000;f=6@1000",
              "hsetex: refused forms change nothing");
    CHECK_STR(keyinfo(e, "str"), "string/-", "hsetex: WRONGTYPE leaves the string");
    free(b.p);
}

static void test_hgetex_hgetdel(struct env *e)
{
    struct buf b = { 0 };

    CMD(&b, "HSET", "g", "a", "1", "b", "2", "c", "3");
    CMD(&b, "HGETEX", "g", "PXAT", "62000000000000", "FIELDS", "2", "a", "zz");
    CMD(&b, "HGETEX", "g", "EXAT", "63000000000", "FIELDS", "1", "b");
    CMD(&b, "HGETEX", "g", "FIELDS", "1", "c");                         /* read only */
    CHECK_STR(run(e, &b), "0", "hgetex: verbatim forms applied");
    CHECK_STR(fields(e, "g"), "a=1@62000000000000;b=2@63000000000000;c=3@-",
              "hgetex: times set on existing fields only");
    CMD(&b, "HGETEX", "g", "PERSIST", "FIELDS", "1", "a");
    CMD(&b, "HGETEX", "g", "EX", "-5", "FIELDS", "1", "b");             /* refused */
    CMD(&b, "HGETEX", "g", "PERSIST", "FIELDS", "2", "b");              /* count mismatch */
    CHECK_STR(run(e, &b), "0", "hgetex: PERSIST applied");
    CHECK_STR(fields(e, "g"), "a=1@-;b=2@63000000000000;c=3@-", "hgetex: PERSIST clears");

    /* Valkey sends HGETDEL as it came; Redis sends HDEL */
    CMD(&b, "HGETDEL", "g", "FIELDS", "2", "a", "zz");
    CMD(&b, "HGETDEL", "g", "FIELDS", "3", "b");                        /* count mismatch */
    CMD(&b, "HGETDEL", "nokey", "FIELDS", "1", "a");
    CHECK_STR(run(e, &b), "0", "hgetdel: applied");
    CHECK_STR(fields(e, "g"), "b=2@63000000000000;c=3@-", "hgetdel: the named fields go");
    CMD(&b, "HGETDEL", "g", "FIELDS", "2", "b", "c");
    CMD(&b, "SET", "s2", "x");
    CMD(&b, "HGETDEL", "s2", "FIELDS", "1", "x");                       /* WRONGTYPE */
    CHECK_STR(run(e, &b), "0", "hgetdel: last fields applied");
    CHECK_STR(keyinfo(e, "g"), "", "hgetdel: an emptied hash is deleted");
    CHECK_STR(keyinfo(e, "s2"), "string/-", "hgetdel: WRONGTYPE skipped");
    free(b.p);
}

/* ------------------------------------------------------------------ */
/* Strings: SET IF*, DELEX, DELIFEQ, MSETEX                            */
/* ------------------------------------------------------------------ */

static const char *strings(struct env *e)
{
    return q(e, "SELECT group_concat(x, ' ') FROM (SELECT s.key || '=' || s.value || '@' ||"
                " coalesce(k.expire_at, '-') AS x FROM redis_strings s JOIN redis_keys k"
                " ON k.db = s.db AND k.key = s.key ORDER BY s.key)");
}

static void test_set_conditions(struct env *e)
{
    struct buf b = { 0 };

    CMD(&b, "FLUSHALL");
    CMD(&b, "SET", "k1", "old", "PXAT", "64000000000000");
    CMD(&b, "SET", "k1", "new", "IFEQ", "old", "KEEPTTL");
    CMD(&b, "SET", "k2", "v", "IFEQ", "x");                     /* missing: no */
    CMD(&b, "SET", "k3", "v", "IFNE", "x");                     /* missing: set */
    CMD(&b, "SET", "k3", "w", "IFNE", "v");                     /* equal: no */
    CMD(&b, "SET", "k3", "w", "ifne", "zz", "GET");
    CMD(&b, "SET", "k4", "v", "IFDEQ", "0123456789abcdef");     /* missing: no */
    CMD(&b, "SET", "k5", "v", "IFDNE", "0123456789abcdef");     /* missing: set */
    CMD(&b, "SET", "k5", "w", "IFDEQ", "0123456789abcdef", "PXAT", "65000000000000");
    CMD(&b, "SET", "k1", "z", "IFEQ", "nope");                  /* not equal: no */
    CMD(&b, "SET", "k1", "z", "NX", "IFEQ", "new");             /* syntax error */
    CMD(&b, "SET", "k1", "z", "IFEQ", "new", "IFNE", "x");      /* syntax error */
    CMD(&b, "SET", "k1", "z", "IFEQ");                          /* no value */
    CMD(&b, "HSET", "hh", "f", "v");
    CMD(&b, "SET", "hh", "z", "IFNE", "x");                     /* WRONGTYPE */
    CHECK_STR(run(e, &b), "0", "set: IF* forms applied");
    CHECK_STR(strings(e), "k1=new@64000000000000 k3=w@- k5=w@65000000000000",
              "set: IFEQ/IFNE checked, IFDEQ/IFDNE trusted, missing keys, errors skipped");
    CHECK_STR(keyinfo(e, "hh"), "hash/-", "set: IF* on a hash is WRONGTYPE");

    CMD(&b, "DELEX", "k1", "IFEQ", "nope");
    CMD(&b, "DELEX", "k3", "IFNE", "w");
    CMD(&b, "DELEX", "k3", "IFEQ", "w");
    CMD(&b, "DELEX", "hh", "IFEQ", "x");                        /* WRONGTYPE */
    CMD(&b, "DELEX", "k5", "BOGUS", "x");                       /* syntax error */
    CMD(&b, "DELEX", "k5", "IFEQ");                             /* syntax error */
    CMD(&b, "DELEX", "missing");
    CHECK_STR(run(e, &b), "0", "delex: applied");
    CHECK_STR(strings(e), "k1=new@64000000000000 k5=w@65000000000000", "delex: conditions");
    CHECK_STR(keyinfo(e, "hh"), "hash/-", "delex: WRONGTYPE with a condition");
    CMD(&b, "DELEX", "hh");
    CMD(&b, "DELEX", "k5", "IFDEQ", "0123456789abcdef");
    CMD(&b, "DELIFEQ", "k1", "nope");
    CHECK_STR(run(e, &b), "0", "delex/delifeq: applied");
    CHECK_STR(q(e, "SELECT group_concat(key) FROM (SELECT key FROM redis_keys ORDER BY key)"),
              "k1", "delex: without a condition any type; IFDEQ trusted; DELIFEQ checks");
    CMD(&b, "DELIFEQ", "k1", "new");
    CMD(&b, "LPUSH", "l", "x");
    CMD(&b, "DELIFEQ", "l", "x");                               /* WRONGTYPE */
    CHECK_STR(run(e, &b), "0", "delifeq: applied");
    CHECK_STR(q(e, "SELECT group_concat(key) FROM redis_keys"), "l", "delifeq: equal deletes");
    free(b.p);
}

static void test_msetex(struct env *e)
{
    struct buf b = { 0 };
    char sql[512];
    long long now;

    CMD(&b, "FLUSHALL");
    CMD(&b, "SET", "a", "0", "PXAT", "66000000000000");
    CMD(&b, "MSETEX", "2", "a", "1", "b", "2", "PXAT", "67000000000000");
    CMD(&b, "MSETEX", "1", "c", "3");
    CMD(&b, "MSETEX", "2", "c", "33", "d", "4", "NX");          /* c exists: none */
    CMD(&b, "MSETEX", "2", "a", "11", "d", "4", "XX");          /* d missing: none */
    CMD(&b, "MSETEX", "2", "a", "11", "c", "33", "KEEPTTL", "XX");
    CMD(&b, "MSETEX", "1", "e", "5", "PXAT", "68000000000000", "NX");
    CMD(&b, "MSETEX", "1", "b", "22");                          /* no option: TTL cleared */
    CMD(&b, "MSETEX", "3", "a", "1", "b", "2");                 /* numkeys too big */
    CMD(&b, "MSETEX", "0", "a", "1");                           /* numkeys 0 */
    CMD(&b, "MSETEX", "1", "a", "1", "EX", "1", "PX", "1");     /* two expiries */
    CMD(&b, "MSETEX", "1", "a", "1", "NX", "XX");               /* syntax */
    CMD(&b, "MSETEX", "1", "a", "1", "PXAT", "-5");             /* invalid time */
    CMD(&b, "MSETEX", "1", "a", "1", "bogus");
    CHECK_STR(run(e, &b), "0", "msetex: applied");
    CHECK_STR(strings(e), "a=11@67000000000000 b=22@- c=33@- e=5@68000000000000",
              "msetex: NX/XX all or nothing, KEEPTTL, PXAT, errors skipped");
    now = (long long)rs_now_ms();
    CMD(&b, "MSETEX", "1", "f", "6", "EX", "100");
    CMD(&b, "HSET", "h", "x", "y");
    CMD(&b, "MSETEX", "1", "h", "7", "PX", "100000");           /* replaces a hash */
    CHECK_STR(run(e, &b), "0", "msetex: EX/PX applied");
    snprintf(sql, sizeof(sql), "SELECT group_concat(x) FROM (SELECT key || ':' ||"
             " (expire_at BETWEEN %lld AND %lld) AS x FROM redis_keys WHERE key IN ('f','h')"
             " ORDER BY key)", now + 100000, now + 110000);
    CHECK_STR(q(e, sql), "f:1,h:1", "msetex: relative times from our clock, any type replaced");
    free(b.p);
}

/* ------------------------------------------------------------------ */
/* Arrays (Redis 8.8)                                                   */
/* ------------------------------------------------------------------ */

/* Array 'key' as "idx=value,..." by index, and its cursor ("-": none). */
static const char *array_dump(struct env *e, const char *key)
{
    char sql[640];

    snprintf(sql, sizeof(sql),
             "SELECT coalesce((SELECT group_concat(x, ',') FROM (SELECT idx || '=' || value AS x"
             " FROM redis_arrays WHERE key = '%s' AND db = 0 ORDER BY typeof(idx) = 'text',"
             " length(idx), idx)), '') || ' c' || coalesce((SELECT CASE WHEN m.cursor < 0 THEN"
             " m.cursor + 9223372036854775807 + 1 ELSE 'big' END FROM g%lld_ameta m"
             " JOIN g%lld_keys k ON k.id = m.kid WHERE k.key = '%s' AND k.db = 0), '-')",
             key, atoll(q(e, "SELECT generation FROM redsink_status")),
             atoll(q(e, "SELECT generation FROM redsink_status")), key);
    return q(e, sql);
}

static void test_arrays(struct env *e)
{
    struct buf b = { 0 };

    CMD(&b, "ARSET", "arr", "3", "x", "y", "1.50");
    CMD(&b, "ARMSET", "arr", "10", "ten", "0", "zero", "3", "X");
    CMD(&b, "ARSET", "arr", "18446744073709551614", "top");
    CMD(&b, "ARSET", "arr", "9223372036854775808", "mid");
    CMD(&b, "ARSET", "arr", "18446744073709551614", "a", "b");      /* overflow: refused */
    CMD(&b, "ARSET", "arr", "18446744073709551615", "a");           /* UINT64_MAX: refused */
    CMD(&b, "ARSET", "arr", "-1", "a");                             /* refused */
    CMD(&b, "ARMSET", "arr", "1", "a", "bad", "b");                 /* one bad index: nothing */
    CMD(&b, "ARMSET", "arr", "1", "a", "2");                        /* odd: refused */
    CMD(&b, "ARSET", "arr", "007", "seven");                        /* strtoull accepts it */
    CHECK_STR(run(e, &b), "0", "array: ARSET/ARMSET applied");
    CHECK_STR(keyinfo(e, "arr"), "array/-", "array: redis_keys type 'array'");
    CHECK_STR(array_dump(e, "arr"),
              "0=zero,3=X,4=y,5=1.50,7=seven,10=ten,9223372036854775808=mid,"
              "18446744073709551614=top c-",
              "array: values as given, indexes up to 2^64-2 (TEXT past 2^63-1)");
    CHECK_STR(q(e, "SELECT typeof(idx) FROM redis_arrays WHERE key = 'arr' AND value = 'X'"),
              "integer", "array: an index below 2^63 is an INTEGER");

    CMD(&b, "ARDEL", "arr", "3", "99", "18446744073709551614");
    CMD(&b, "ARDEL", "arr", "4", "x");                              /* bad index: nothing */
    CMD(&b, "ARDELRANGE", "arr", "10", "5", "9223372036854775808", "9223372036854775808");
    CMD(&b, "ARDELRANGE", "arr", "1", "2", "3");                    /* odd: refused */
    CMD(&b, "ARDEL", "nokey", "1");
    CHECK_STR(run(e, &b), "0", "array: ARDEL/ARDELRANGE applied");
    CHECK_STR(array_dump(e, "arr"), "0=zero,4=y c-", "array: deletes, ranges in either order");

    CMD(&b, "ARINSERT", "arr", "p", "q");                           /* no cursor: from 0 */
    CMD(&b, "ARINSERT", "arr", "r");
    CMD(&b, "ARSEEK", "arr", "100");
    CMD(&b, "ARINSERT", "arr", "s");
    CMD(&b, "ARSEEK", "nokey", "5");                              /* creates nothing */
    CMD(&b, "ARSEEK", "arr", "x");                                  /* refused */
    CHECK_STR(run(e, &b), "0", "array: ARINSERT/ARSEEK applied");
    CHECK_STR(array_dump(e, "arr"), "0=p,1=q,2=r,4=y,100=s c100",
              "array: ARINSERT follows its cursor, ARSEEK moves it");
    CMD(&b, "ARSEEK", "arr", "18446744073709551615");              /* terminal cursor */
    CMD(&b, "ARINSERT", "arr", "no");                               /* overflow: refused */
    CMD(&b, "ARSEEK", "arr", "0");
    CMD(&b, "ARINSERT", "arr", "P");
    CHECK_STR(run(e, &b), "0", "array: cursor edge cases applied");
    CHECK_STR(array_dump(e, "arr"), "0=P,1=q,2=r,4=y,100=s c0",
              "array: ARSEEK 0 restarts at 0, the terminal cursor refuses ARINSERT");

    /* ARRING: a ring of 3, then shrink to 2, then grow after a wrap */
    CMD(&b, "ARRING", "r", "3", "a", "b", "c", "d");
    CHECK_STR(run(e, &b), "0", "array: ARRING applied");
    CHECK_STR(array_dump(e, "r"), "0=d,1=b,2=c c0",
              "array: ARRING wraps modulo the size");
    CMD(&b, "ARRING", "r", "2", "e");
    CHECK_STR(run(e, &b), "0", "array: ARRING shrink applied");
    CHECK_STR(array_dump(e, "r"), "0=e,1=d c0",
              "array: a shrink keeps the newest (c, d), oldest first, then writes");
    CMD(&b, "ARRING", "r", "4", "f");
    CHECK_STR(run(e, &b), "0", "array: ARRING grow applied");
    CHECK_STR(array_dump(e, "r"), "0=d,1=e,2=f c2",
              "array: a grow after a wrap rewrites d, e in order first");
    CMD(&b, "ARRING", "r", "0", "x");                             /* refused */
    CMD(&b, "ARRING", "r", "x", "x");                             /* refused */
    CMD(&b, "SET", "s", "v");
    CMD(&b, "ARSET", "s", "0", "v");                              /* WRONGTYPE */
    CMD(&b, "ARRING", "s", "2", "v");                             /* WRONGTYPE */
    CHECK_STR(run(e, &b), "0", "array: refused forms skipped");
    CHECK_STR(keyinfo(e, "s"), "string/-", "array: WRONGTYPE leaves the string");

    CMD(&b, "COPY", "r", "r2");
    CMD(&b, "ARINSERT", "r2", "g");
    CMD(&b, "ARDELRANGE", "r", "0", "18446744073709551614");
    CHECK_STR(run(e, &b), "0", "array: COPY and emptying applied");
    CHECK_STR(array_dump(e, "r2"), "0=d,1=e,2=f,3=g c3",
              "array: COPY copies the elements and the cursor");
    CHECK_STR(keyinfo(e, "r"), "", "array: an emptied array is deleted");
    free(b.p);
}

/* ------------------------------------------------------------------ */
/* Streams: Redis 8.2's XDELEX, XACKDEL                                */
/* ------------------------------------------------------------------ */

static const char *stream_state(struct env *e)
{
    char sql[768];
    long long g = atoll(q(e, "SELECT generation FROM redsink_status"));

    snprintf(sql, sizeof(sql),
             "SELECT coalesce((SELECT group_concat(id, ',') FROM (SELECT DISTINCT id FROM"
             " redis_streams WHERE key = 'st' ORDER BY ms, seq)), '') || ' pel:' ||"
             " coalesce((SELECT group_concat(x, ',') FROM (SELECT p.grp || '/' || p.ms || '-' ||"
             " p.seq AS x FROM g%lld_spel p JOIN g%lld_keys k ON k.id = p.kid WHERE k.key = 'st'"
             " ORDER BY 1)), '') || ' len:' || (SELECT m.length || ' maxdel:' || m.maxdel_ms ||"
             " '-' || m.maxdel_seq FROM g%lld_smeta m JOIN g%lld_keys k ON k.id = m.kid"
             " WHERE k.key = 'st')", g, g, g, g);
    return q(e, sql);
}

static void test_xdelex_xackdel(struct env *e)
{
    struct buf b = { 0 };

    CMD(&b, "XADD", "st", "1-0", "f", "a");
    CMD(&b, "XADD", "st", "2-0", "f", "b");
    CMD(&b, "XADD", "st", "3-0", "f", "c");
    CMD(&b, "XADD", "st", "4-0", "f", "d");
    CMD(&b, "XADD", "st", "5-0", "f", "e");
    CMD(&b, "XGROUP", "CREATE", "st", "g1", "0");
    CMD(&b, "XGROUP", "CREATE", "st", "g2", "$");
    CMD(&b, "XCLAIM", "st", "g1", "alice", "0", "1-0", "TIME", "1000", "RETRYCOUNT", "1",
        "FORCE", "JUSTID", "LASTID", "2-0");
    CMD(&b, "XCLAIM", "st", "g1", "alice", "0", "2-0", "TIME", "1000", "RETRYCOUNT", "1",
        "FORCE", "JUSTID", "LASTID", "2-0");
    CMD(&b, "XDELEX", "st", "ACKED", "IDS", "3", "1-0", "3-0", "5-0");   /* all still needed */
    CHECK_STR(run(e, &b), "0", "xdelex: setup and ACKED applied");
    CHECK_STR(stream_state(e), "1-0,2-0,3-0,4-0,5-0 pel:g1/1-0,g1/2-0 len:5 maxdel:0-0",
              "xdelex ACKED: a pending entry and undelivered ones stay");
    CMD(&b, "XGROUP", "SETID", "st", "g1", "5-0");
    CMD(&b, "XDELEX", "st", "acked", "IDS", "2", "3-0", "5-0");
    CMD(&b, "XDELEX", "st", "KEEPREF", "IDS", "1", "2-0");
    CHECK_STR(run(e, &b), "0", "xdelex: ACKED and KEEPREF applied");
    CHECK_STR(stream_state(e), "1-0,4-0 pel:g1/1-0,g1/2-0 len:2 maxdel:5-0",
              "xdelex: ACKED deletes delivered, unpending entries; KEEPREF keeps the PEL");
    CMD(&b, "XACKDEL", "st", "g1", "DELREF", "IDS", "1", "1-0");
    CMD(&b, "XDELEX", "st", "DELREF", "IDS", "1", "2-0");               /* a dangling ref */
    CMD(&b, "XDELEX", "st", "IDS", "2", "4-0");                         /* count mismatch */
    CMD(&b, "XDELEX", "st", "BOGUS", "IDS", "1", "4-0");
    CMD(&b, "XDELEX", "st", "IDS", "1", "bad");                         /* bad id */
    CMD(&b, "XACKDEL", "st", "nogroup", "IDS", "1", "4-0");             /* NOGROUP */
    CHECK_STR(run(e, &b), "0", "xackdel: applied, refused forms skipped");
    CHECK_STR(stream_state(e), "4-0 pel: len:1 maxdel:5-0",
              "xackdel DELREF acks and deletes; XDELEX DELREF drops a dangling ref");
    CMD(&b, "XADD", "st", "KEEPREF", "MAXLEN", "=", "0", "6-0", "f", "g");
    CHECK_STR(run(e, &b), "0", "xadd KEEPREF applied");
    CHECK_STR(stream_state(e), " pel: len:0 maxdel:5-0", "xadd: KEEPREF accepted, trimmed");
    free(b.p);
}

int main(void)
{
    struct env e;

    log_set_level(RS_LOG_ERROR);
    if (env_open(&e) != 0) {
        printf("# skipping: no SQLite sink\n1..0\n");
        return 77;
    }
    test_hsetnx_hincrby(&e);
    test_hincrbyfloat(&e);
    test_field_ttl(&e);
    test_smove_spop(&e);
    test_setops(&e);
    test_sink_reads(&e);
    test_hsetex(&e);
    test_hgetex_hgetdel(&e);
    test_set_conditions(&e);
    test_msetex(&e);
    test_arrays(&e);
    test_xdelex_xackdel(&e);
    env_close(&e);
    printf("1..%d\n", checks);
    return failures ? 99 : 0;
}
