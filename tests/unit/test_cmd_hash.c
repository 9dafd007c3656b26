/*
 * test_cmd_hash.c - the hash commands (daemon/write/cmd_hash.c) on the
 * real SQLite sink: RESP bytes through resp.c into apply.c, checked through
 * the contract's views. What the seeded differential test against a 7.0
 * master cannot cover: the Redis 7.4 field-TTL commands in their
 * propagated forms, HINCRBYFLOAT (never sent verbatim; results read from
 * redis-server 7.0.15), overflow and WRONGTYPE; Redis 8.0's HSETEX
 * (Redis' FNX/FXX, Valkey's NX/XX too), HGETEX and HGETDEL, from t_hash.c.
 *
 * Exit 0 (all passed), 77 (no sink could be opened) or 99 (a check
 * failed). Start reading at main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* The fields of hash 'key' as "field=value@expire_at;..." (the view hides
 * fields past their TTL: the raw table is read through the view's own
 * generation instead, so those show too). */
static const char *fields(struct mirror *e, const char *key)
{
    long long gen = atoll(mirror_q(e, "SELECT generation FROM redsink_status"));
    char sql[512];

    snprintf(sql, sizeof(sql),
             "SELECT group_concat(f, ';') FROM (SELECT h.field || '=' || h.value || '@' ||"
             " coalesce(h.expire_at, '-') AS f FROM g%lld_hash h JOIN g%lld_keys k"
             " ON k.id = h.kid WHERE k.key = '%s' AND k.db = 0 ORDER BY h.field)",
             gen, gen, key);
    return mirror_q(e, sql);
}

static void test_hsetnx_hincrby(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "HSETNX", "h", "a", "1");
    CMD(&b, "HSETNX", "h", "a", "2");                      /* exists: no */
    CMD(&b, "HINCRBY", "h", "a", "41");
    CMD(&b, "HINCRBY", "h", "new", "-3");                  /* missing field: from 0 */
    CMD(&b, "HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808",
        "txt", "007", "sp", " 1");
    CMD(&b, "HINCRBY", "h", "max", "1");                   /* overflow: skipped */
    /* made late, together (sqlite_string.c, held_late): no master sends
     * the second after refusing the first, and both are refused; made one
     * by one the second would be (-1) */
    CMD(&b, "HINCRBY", "h", "min", "-1");
    CMD(&b, "HINCRBY", "h", "min", "9223372036854775807");
    CMD(&b, "HINCRBY", "hlo", "lo", "-9223372036854775807");  /* a new field, then */
    CMD(&b, "HINCRBY", "hlo", "lo", "-1");                 /* the limit */
    CMD(&b, "HINCRBY", "hlo", "lo", "7");
    CMD(&b, "HINCRBY", "hlo", "lo", "-7");                 /* the limit again */
    CMD(&b, "HINCRBY", "h", "txt", "1");                   /* not canonical: skipped */
    CMD(&b, "HINCRBY", "h", "sp", "1");                    /* leading space: skipped */
    CMD(&b, "HINCRBY", "h", "a", "1.5");                   /* bad increment: skipped */
    CMD(&b, "HINCRBY", "h2", "x", "-0");                   /* "-0" refused: nothing made */
    CMD(&b, "SET", "str", "x");
    CMD(&b, "HINCRBY", "str", "x", "1");                   /* WRONGTYPE */
    CMD(&b, "HSETNX", "str", "x", "1");                    /* WRONGTYPE */
    CHECK_STR(mirror_run(e, &b), "0", "hash: HSETNX/HINCRBY batch applied");
    CHECK_STR(fields(e, "h"),
              "a=42@-;max=9223372036854775807@-;min=-9223372036854775808@-;new=-3@-;sp= 1@-;"
              "txt=007@-",
              "hash: HSETNX only when new; HINCRBY 64-bit, overflow and non-integers skipped");
    CHECK_STR(fields(e, "hlo"), "lo=-9223372036854775808@-",
              "hash: a new field's increments made late, to the limit and back");
    CHECK_STR(mirror_q(e, "SELECT group_concat(key) FROM redis_keys WHERE key IN ('h2','str')"),
              "str",
              "hash: a refused HINCRBY creates nothing; WRONGTYPE leaves the string alone");
    tbuf_free(&b);
}

static void test_hincrbyfloat(struct mirror *e)
{
    struct tbuf b = { 0 };

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
    CHECK_STR(mirror_run(e, &b), "0", "hash: HINCRBYFLOAT batch applied");
    CHECK_STR(mirror_q(e, "SELECT group_concat(field || '=' || value, ' ')"
                          " FROM (SELECT field, value"
                          " FROM redis_hashes WHERE key = 'hf' AND field NOT IN ('k', 'nul')"
                          " ORDER BY field)"),
              "a=10.6 b=998 c=4.5 d=0.3 e=0 f=0 g=  1 i=8 l=16 m=0 n=0.00003",
              "hash: HINCRBYFLOAT results byte for byte as Redis 7.0 (%.17Lf, zeros trimmed, -0 as 0)");
    CHECK_STR(mirror_q(e, "SELECT value FROM redis_hashes WHERE key = 'hf' AND field = 'k'"),
              "99999999999999999996685879655845645660560099847415567207797047994921734868838061"
              "87210012692188853932044674722505401322315213474959396058359742081443019641876795"
              "91000196031907786631096045071066679391533957889389145605435630612683649016186302"
              "17086589253444881623791300855757318142424510452728255046343928578048",
              "hash: HINCRBYFLOAT 1e308 printed in full, as Redis does");
    tbuf_free(&b);
}

static void test_field_ttl(struct mirror *e)
{
    struct tbuf b = { 0 };
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
    CHECK_STR(mirror_run(e, &b), "0", "hfe: HPEXPIREAT batch applied");
    CHECK_STR(fields(e, "t"), "a=1@60000000000000;b=2@67500000000000;c=3@60000000000000;d=4@1000",
              "hfe: HPEXPIREAT NX/XX/GT/LT (no TTL: GT never, LT always), past time kept");
    CHECK_STR(mirror_q(e, "SELECT group_concat(field) FROM redis_hashes WHERE key = 't'"), "a,b,c",
                          "hfe: redis_hashes hides the field past its TTL");
    CHECK_STR(mirror_q(e, "SELECT count(*) FROM redis_keys WHERE key = 'nokey'"), "0",
                          "hfe: HPEXPIREAT on a missing key creates nothing");

    CMD(&b, "HPERSIST", "t", "FIELDS", "3", "a", "d", "zz");
    CMD(&b, "HSET", "t", "b", "22");                              /* HSET clears b's TTL */
    CMD(&b, "HINCRBY", "t", "c", "1");                            /* HINCRBY keeps c's */
    CMD(&b, "HPERSIST", "t", "FIELDS", "2", "a");                 /* count mismatch */
    CMD(&b, "HPEXPIREAT", "t", "50000000000000", "FIELDS", "2", "a", "a");
    CMD(&b, "HPEXPIREAT", "t", "40000000000000", "NX", "FIELDS", "2", "b", "b");  /* once */
    CHECK_STR(mirror_run(e, &b), "0", "hfe: HPERSIST batch applied");
    CHECK_STR(fields(e, "t"), "a=1@50000000000000;b=22@40000000000000;c=4@60000000000000;d=4@-",
              "hfe: HPERSIST (also of a field past its TTL), HSET clears, HINCRBY keeps,"
              " a field named twice");

    now = (long long)rs_now_ms();
    CMD(&b, "HEXPIRE", "t", "100", "FIELDS", "1", "d");
    CMD(&b, "HPEXPIRE", "t", "100000", "FIELDS", "1", "b");
    CMD(&b, "HEXPIREAT", "t", "60000000000", "FIELDS", "1", "c");
    CHECK_STR(mirror_run(e, &b), "0", "hfe: HEXPIRE/HPEXPIRE/HEXPIREAT applied");
    snprintf(want, sizeof(want), "1,1,60000000000000");
    {
        char sql[512];

        snprintf(sql, sizeof(sql),
                 "SELECT (SELECT expire_at BETWEEN %lld AND %lld FROM redis_hashes WHERE key = 't'"
                 " AND field = 'd'), (SELECT expire_at BETWEEN %lld AND %lld FROM redis_hashes"
                 " WHERE key = 't' AND field = 'b'), (SELECT expire_at FROM redis_hashes"
                 " WHERE key = 't' AND field = 'c')",
                 now + 100000, now + 110000, now + 100000, now + 110000);
        CHECK_STR(mirror_q(e, sql), want,
                  "hfe: relative times count from our clock, seconds * 1000");
    }
    CMD(&b, "HDEL", "t", "a", "b", "c", "d");
    CHECK_STR(mirror_run(e, &b), "0", "hfe: HDEL applied");
    CHECK_STR(mirror_keyinfo(e, "t"), "",
              "hfe: the master's HDEL of the last fields deletes the key");
    tbuf_free(&b);
}

static void hscan_count(void *ud, const struct rs_bytes *f, const struct rs_bytes *v, int64_t x)
{
    (void)f;
    (void)v;
    (void)x;
    ++*(int *)ud;
}

/* The sink's hash reads on what the commands above left. */
static void test_hash_reads(struct mirror *e)
{
    struct sink *s = e->sink;
    struct sink_key sk;
    int64_t n = -1;
    int cnt = 0, found = -1;
    char got[128];

    s->ops->key_find(s, 0, &(struct rs_bytes){ "h", 1 }, &sk);
    s->ops->hash_len(s, sk.id, &n);
    s->ops->hash_scan(s, sk.id, hscan_count, &cnt);
    s->ops->hash_set_expire(s, sk.id, &(struct rs_bytes){ "zz", 2 }, 5, &found);
    snprintf(got, sizeof(got), "%lld,%d,%d", (long long)n, cnt, found);
    CHECK_STR(got, "6,6,0", "sink: hash_len, hash_scan, hash_set_expire of an absent field");
}
/* ------------------------------------------------------------------ */
/* HSETEX, HGETEX, HGETDEL                                            */
/* ------------------------------------------------------------------ */

static void test_hsetex(struct mirror *e)
{
    struct tbuf b = { 0 };
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
    CHECK_STR(mirror_run(e, &b), "0", "hsetex: Redis forms applied");
    CHECK_STR(fields(e, "hx"),
              "a=11@60000000000000;b=22@-;c=3@-;d=4@-;e=55@50000000000000;f=6@1000",
              "hsetex: PXAT, KEEPTTL keeps, none clears, FNX/FXX all-or-nothing, past time kept");
    CHECK_STR(mirror_keyinfo(e, "nokey"), "", "hsetex: FXX on a missing key creates nothing");

    /* Valkey 9's key-level NX/XX (sent as they came when lower case) */
    CMD(&b, "HSETEX", "v", "xx", "FIELDS", "1", "a", "1");              /* no key: no */
    CMD(&b, "HSETEX", "v", "nx", "FIELDS", "1", "a", "1");
    CMD(&b, "HSETEX", "v", "nx", "FIELDS", "1", "b", "2");              /* key exists: no */
    CMD(&b, "HSETEX", "v", "xx", "fnx", "PXAT", "61000000000000", "FIELDS", "1", "c", "3");
    CHECK_STR(mirror_run(e, &b), "0", "hsetex: Valkey NX/XX forms applied");
    CHECK_STR(fields(e, "v"), "a=1@-;c=3@61000000000000", "hsetex: Valkey NX/XX on the key");

    /* relative times count from our clock */
    now = (long long)rs_now_ms();
    CMD(&b, "HSETEX", "r", "EX", "100", "FIELDS", "1", "a", "1");
    CMD(&b, "HSETEX", "r", "PX", "100000", "FIELDS", "1", "b", "1");
    CMD(&b, "HSETEX", "r", "EXAT", "60000000000", "FIELDS", "1", "c", "1");
    CHECK_STR(mirror_run(e, &b), "0", "hsetex: EX/PX/EXAT applied");
    snprintf(sql, sizeof(sql),
             "SELECT group_concat(x) FROM (SELECT CASE WHEN expire_at BETWEEN %lld AND %lld"
             " THEN 'rel' ELSE expire_at END AS x FROM redis_hashes WHERE key = 'r'"
             " ORDER BY field)", now + 100000, now + 110000);
    CHECK_STR(mirror_q(e, sql), "rel,rel,60000000000000", "hsetex: EX, PX relative, EXAT * 1000");

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
    CHECK_STR(mirror_run(e, &b), "0", "hsetex: refused forms skipped");
    CHECK_STR(fields(e, "hx"),
              "a=11@60000000000000;b=22@-;c=3@-;d=4@-;e=55@50000000000000;f=6@1000",
              "hsetex: refused forms change nothing");
    CHECK_STR(mirror_keyinfo(e, "str"), "string/-", "hsetex: WRONGTYPE leaves the string");
    tbuf_free(&b);
}

static void test_hgetex_hgetdel(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "HSET", "g", "a", "1", "b", "2", "c", "3");
    CMD(&b, "HGETEX", "g", "PXAT", "62000000000000", "FIELDS", "2", "a", "zz");
    CMD(&b, "HGETEX", "g", "EXAT", "63000000000", "FIELDS", "1", "b");
    CMD(&b, "HGETEX", "g", "FIELDS", "1", "c");                         /* read only */
    CHECK_STR(mirror_run(e, &b), "0", "hgetex: verbatim forms applied");
    CHECK_STR(fields(e, "g"), "a=1@62000000000000;b=2@63000000000000;c=3@-",
              "hgetex: times set on existing fields only");
    CMD(&b, "HGETEX", "g", "PERSIST", "FIELDS", "1", "a");
    CMD(&b, "HGETEX", "g", "EX", "-5", "FIELDS", "1", "b");             /* refused */
    CMD(&b, "HGETEX", "g", "PERSIST", "FIELDS", "2", "b");              /* count mismatch */
    CHECK_STR(mirror_run(e, &b), "0", "hgetex: PERSIST applied");
    CHECK_STR(fields(e, "g"), "a=1@-;b=2@63000000000000;c=3@-", "hgetex: PERSIST clears");

    /* Valkey sends HGETDEL as it came; Redis sends HDEL */
    CMD(&b, "HGETDEL", "g", "FIELDS", "2", "a", "zz");
    CMD(&b, "HGETDEL", "g", "FIELDS", "3", "b");                        /* count mismatch */
    CMD(&b, "HGETDEL", "nokey", "FIELDS", "1", "a");
    CHECK_STR(mirror_run(e, &b), "0", "hgetdel: applied");
    CHECK_STR(fields(e, "g"), "b=2@63000000000000;c=3@-", "hgetdel: the named fields go");
    CMD(&b, "HGETDEL", "g", "FIELDS", "2", "b", "c");
    CMD(&b, "SET", "s2", "x");
    CMD(&b, "HGETDEL", "s2", "FIELDS", "1", "x");                       /* WRONGTYPE */
    CHECK_STR(mirror_run(e, &b), "0", "hgetdel: last fields applied");
    CHECK_STR(mirror_keyinfo(e, "g"), "", "hgetdel: an emptied hash is deleted");
    CHECK_STR(mirror_keyinfo(e, "s2"), "string/-", "hgetdel: WRONGTYPE skipped");
    tbuf_free(&b);
}

/*
 * Held HINCRBYs (sqlite_string.c): in one batch only a field's first
 * HINCRBY runs its statement; the next ones add in memory, the field
 * written once before any other statement and at commit. Every way a
 * later command meets a held field: read (HINCRBYFLOAT), overwritten
 * (HSET), deleted (HDEL, DEL), renamed, copied, given a TTL, an overflow,
 * a field in two hashes, a binary, an empty and a too long field name,
 * inside MULTI, and a held INCR of a string of the same id space.
 */
static void test_hincrby_held(struct mirror *e)
{
    struct tbuf b = { 0 };
    char *longf = malloc(5001);

    memset(longf, 'L', 5000);
    longf[5000] = '\0';
    CMD(&b, "HSET", "hh", "max", "9223372036854775805", "old", "40");
    CHECK_STR(mirror_run(e, &b), "0", "held fields: setup applied");
    for (int i = 0; i < 1000; i++)
        CMD(&b, "HINCRBY", "hh", "a", "1");                /* created, then held */
    for (int i = 0; i < 3; i++) {
        CMD(&b, "HINCRBY", "hh", "b", "-5");
        CMD(&b, "HINCRBY", "hh2", "b", "7");               /* the same field, another hash */
        CMD(&b, "INCR", "hh:s");                           /* a string beside them */
    }
    CMD(&b, "HINCRBY", "hh", "c", "1");
    CMD(&b, "HINCRBY", "hh", "c", "1");
    CMD(&b, "HINCRBYFLOAT", "hh", "c", "0.5");             /* reads 2 */
    CMD(&b, "HINCRBY", "hh", "d", "1");
    CMD(&b, "HINCRBY", "hh", "d", "1");
    CMD(&b, "HSET", "hh", "d", "v");                       /* wins */
    CMD(&b, "HINCRBY", "hh", "e", "1");
    CMD(&b, "HINCRBY", "hh", "e", "1");
    CMD(&b, "HDEL", "hh", "e");
    CMD(&b, "HINCRBY", "hh", "e", "1");                    /* made again: 1 */
    CMD(&b, "HINCRBY", "hh", "max", "1");                  /* ...806 */
    CMD(&b, "HINCRBY", "hh", "max", "1");                  /* ...807, made late */
    CMD(&b, "HSETNX", "hh", "max", "0");                   /* reads: max written out */
    CMD(&b, "HINCRBY", "hh", "max", "1");                  /* overflow: refused */
    CMD(&b, "HINCRBY", "hh", "t", "1");
    CMD(&b, "HINCRBY", "hh", "t", "1");
    CMD(&b, "HPEXPIREAT", "hh", "69000000000000", "FIELDS", "1", "t");
    CMD(&b, "HINCRBY", "hh", "t", "1");                    /* 3, TTL kept */
    CMD(&b, "HINCRBY", "hh", "\xff\xfe", "2");             /* a binary name */
    CMD(&b, "HINCRBY", "hh", "\xff\xfe", "2");
    CMD(&b, "HINCRBY", "hh", "", "3");                     /* an empty name */
    CMD(&b, "HINCRBY", "hh", "", "3");
    CMD(&b, "HINCRBY", "hh", longf, "4");                  /* too long to hold */
    CMD(&b, "HINCRBY", "hh", longf, "4");
    longf[4097] = '\0';                                    /* the limit + 1: not held */
    CMD(&b, "HINCRBY", "hh", longf, "5");
    CMD(&b, "HINCRBY", "hh", longf, "5");
    longf[4096] = '\0';                                    /* the limit: held */
    CMD(&b, "HINCRBY", "hh", longf, "6");
    CMD(&b, "HINCRBY", "hh", longf, "6");
    CMD(&b, "HINCRBY", "hh", "\xc3\xa9t\xc3\xa9", "7");    /* UTF-8 */
    CMD(&b, "HINCRBY", "hh", "\xc3\xa9t\xc3\xa9", "7");
    CMD(&b, "MULTI");
    CMD(&b, "HINCRBY", "hh", "old", "1");
    CMD(&b, "HINCRBY", "hh", "old", "1");
    CMD(&b, "HINCRBY", "hh", "old", "-100");
    CMD(&b, "EXEC");
    CMD(&b, "HINCRBY", "hr", "f", "1");
    CMD(&b, "HINCRBY", "hr", "f", "1");
    CMD(&b, "RENAME", "hr", "hr2");
    CMD(&b, "HINCRBY", "hr2", "f", "1");                   /* 3 */
    CMD(&b, "HINCRBY", "hc", "f", "1");
    CMD(&b, "HINCRBY", "hc", "f", "1");
    CMD(&b, "COPY", "hc", "hc2");
    CMD(&b, "HINCRBY", "hc2", "f", "1");                   /* 3; hc stays 2 */
    CMD(&b, "HINCRBY", "hd", "f", "1");
    CMD(&b, "HINCRBY", "hd", "f", "1");
    CMD(&b, "DEL", "hd");
    CMD(&b, "HINCRBY", "hd", "f", "5");                    /* a new hash: 5 */
    CHECK_STR(mirror_run(e, &b), "0", "held fields: one batch applied");
    CHECK_STR(mirror_q(e, "SELECT field, value, coalesce(expire_at, '-') FROM redis_hashes"
                          " WHERE key = 'hh' AND typeof(field) = 'text' AND length(field) < 100"
                          " AND field <> '\xc3\xa9t\xc3\xa9'"
                          " ORDER BY field"),
              ",6,-;a,1000,-;b,-15,-;c,2.5,-;d,v,-;e,1,-;max,9223372036854775807,-;old,-58,-;"
              "t,3,69000000000000", "held fields: each field as the batch left it");
    CHECK_STR(mirror_q(e, "SELECT hex(field), value, typeof(field) FROM redis_hashes"
                          " WHERE key = 'hh' AND length(field) = 2"), "FFFE,4,blob",
              "held fields: a binary name");
    CHECK_STR(mirror_q(e, "SELECT length(field), value FROM redis_hashes"
                          " WHERE key = 'hh' AND length(field) > 100 ORDER BY 1"),
              "4096,12;4097,10;5000,8", "held fields: names at the limit, past it and far past");
    CHECK_STR(mirror_q(e, "SELECT value, typeof(field) FROM redis_hashes WHERE key = 'hh'"
                          " AND field = '\xc3\xa9t\xc3\xa9'"), "14,text",
              "held fields: a UTF-8 name");
    CHECK_STR(mirror_q(e, "SELECT key, field, value FROM redis_hashes WHERE key IN"
                          " ('hh2', 'hr', 'hr2', 'hc', 'hc2', 'hd') ORDER BY key"),
              "hc,f,2;hc2,f,3;hd,f,5;hh2,b,21;hr2,f,3",
              "held fields: renamed, copied, deleted, another hash");
    CHECK_STR(mirror_q(e, "SELECT value FROM redis_strings WHERE key = 'hh:s'"), "3",
              "held fields: a held string beside them");
    free(longf);
    tbuf_free(&b);
}

/*
 * Held HSETs (sqlite_string.c): in one batch an HSET of a small field and
 * value without a TTL changes only memory, the field written once (made,
 * or replaced with its TTL gone) before any other statement and at
 * commit. Every way a later command meets a held field: incremented
 * (HINCRBY, HINCRBYFLOAT), set again, set without it (HSETNX), deleted
 * (HDEL, DEL), given a TTL, renamed, copied, the key made again as
 * another type, big values before and after, names and values at the
 * 4,096-byte limit and past it, binary, empty and UTF-8, inside MULTI.
 */
static void test_hset_held(struct mirror *e)
{
    struct tbuf b = { 0 };
    size_t bn = (1 << 20) + 5;
    char *big = malloc(bn + 1), *v4k = malloc(4098);

    memset(big, 'B', bn);
    big[bn] = '\0';
    memset(v4k, 'V', 4097);
    v4k[4097] = '\0';
    CMD(&b, "HSET", "sh", "ttl", "1", "inc", "5", "bigv", "x", "keep", "k");
    CMD(&b, "HPEXPIREAT", "sh", "69000000000000", "FIELDS", "2", "ttl", "keep");
    CHECK_STR(mirror_run(e, &b), "0", "held hsets: setup applied");
    CMD(&b, "HSET", "sh", "ttl", "t2");                    /* held: its TTL goes */
    CMD(&b, "HSET", "sh", "a", "1", "b", "2", "c", "3");   /* new fields */
    CMD(&b, "HSET", "sh", "a", "1b");                      /* the last wins */
    CMD(&b, "HINCRBY", "sh", "b", "5");                    /* written out, then 7 */
    CMD(&b, "HSET", "sh", "inc", "9");
    CMD(&b, "HINCRBY", "sh", "inc", "1");
    CMD(&b, "HINCRBY", "sh", "inc", "1");                  /* 11, late */
    CMD(&b, "HSET", "sh", "inc", "20");                    /* over the late sum */
    CMD(&b, "HSET", "sh", "d", "4");
    CMD(&b, "HINCRBYFLOAT", "sh", "d", "0.5");             /* reads 4 */
    CMD(&b, "HSET", "sh", "e", "5");
    CMD(&b, "HDEL", "sh", "e");
    CMD(&b, "HSET", "sh", "f", "6");
    CMD(&b, "HSETNX", "sh", "f", "no");                    /* exists */
    CMD(&b, "HSET", "sh", "g", "7");
    CMD(&b, "HPEXPIREAT", "sh", "70000000000000", "FIELDS", "1", "g");
    CMD(&b, "HSET", "sh", "bigv", big);                    /* big: not held */
    CMD(&b, "HSET", "sh", "bigv", "small again");          /* held over the big one */
    CMD(&b, "HSET", "sh", "big2", "s");
    CMD(&b, "HSET", "sh", "big2", big);                    /* big over a held one */
    CMD(&b, "HSET", "sh", "\xff\xfe", "\x01\xff");         /* binary */
    CMD(&b, "HSET", "sh", "", "");                         /* empty */
    CMD(&b, "HSET", "sh", "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac");    /* UTF-8 */
    v4k[4096] = '\0';
    CMD(&b, "HSET", "sh", "v4096", v4k);                   /* the limit: held */
    CMD(&b, "HSET", "sh", v4k, "f4096");
    v4k[4096] = 'V';
    CMD(&b, "HSET", "sh", "v4097", v4k);                   /* past it: not held */
    CMD(&b, "HSET", "sh", v4k, "f4097");
    CMD(&b, "MULTI");
    CMD(&b, "HSET", "sh", "m", "1");
    CMD(&b, "HSET", "sh", "m", "2");
    CMD(&b, "EXEC");
    CMD(&b, "HSETEX", "sh", "FIELDS", "1", "keep", "k2"); /* no TTL option: TTL gone */
    CMD(&b, "HSET", "sr", "f", "1");
    CMD(&b, "RENAME", "sr", "sr2");
    CMD(&b, "HSET", "sr2", "f", "2");
    CMD(&b, "HSET", "sc", "f", "1");
    CMD(&b, "COPY", "sc", "sc2");
    CMD(&b, "HSET", "sc2", "f", "2");                      /* sc stays 1 */
    CMD(&b, "HSET", "sd", "f", "1");
    CMD(&b, "DEL", "sd");
    CMD(&b, "SET", "sd", "str");                           /* another type now */
    CMD(&b, "HSET", "sd", "f", "2");                       /* WRONGTYPE: skipped */
    CMD(&b, "HSET", "st", "f", "1");
    CMD(&b, "DEL", "st");
    CMD(&b, "HSET", "st", "g", "2");                       /* a new hash */
    CHECK_STR(mirror_run(e, &b), "0", "held hsets: one batch applied");
    CHECK_STR(mirror_q(e, "SELECT field, value, coalesce(expire_at, '-') FROM redis_hashes"
                          " WHERE key = 'sh' AND typeof(field) = 'text' AND length(field) < 100"
                          " AND field NOT GLOB '*[^ -~]*' AND field NOT GLOB 'big*'"
                          " AND length(value) < 100 ORDER BY field"),
              ",,-;a,1b,-;b,7,-;c,3,-;d,4.5,-;f,6,-;g,7,70000000000000;inc,20,-;keep,k2,-;m,2,-;"
              "ttl,t2,-", "held hsets: each field as the batch left it, TTLs gone but one set after");
    CHECK_STR(mirror_q(e, "SELECT field, length(value), substr(value, 1, 5) FROM redis_hashes"
                          " WHERE key = 'sh' AND field GLOB 'big*' ORDER BY field"),
              "big2,1048581,BBBBB;bigv,11,small", "held hsets: big values before and after");
    CHECK_STR(mirror_q(e, "SELECT length(field), length(value), substr(value, 1, 1) FROM"
                          " redis_hashes WHERE key = 'sh' AND (length(field) > 100"
                          " OR length(value) > 100) AND field NOT GLOB 'big*' ORDER BY 1, 2"),
              "5,4096,V;5,4097,V;4096,5,f;4097,5,f", "held hsets: names and values at the limit and past it");
    CHECK_STR(mirror_q(e, "SELECT hex(field), hex(value), typeof(field), typeof(value) FROM"
                          " redis_hashes WHERE key = 'sh' AND field IN (x'fffe', '\xc3\xa9t\xc3\xa9')"
                          " ORDER BY 1"), "C3A974C3A9,E282AC,text,text;FFFE,01FF,blob,blob",
              "held hsets: binary and UTF-8 names and values");
    CHECK_STR(mirror_q(e, "SELECT key, field, value FROM redis_hashes WHERE key IN"
                          " ('sr', 'sr2', 'sc', 'sc2', 'sd', 'st') ORDER BY key"),
              "sc,f,1;sc2,f,2;sr2,f,2;st,g,2", "held hsets: renamed, copied, deleted, made again");
    CHECK_STR(mirror_keyinfo(e, "sd"), "string/-", "held hsets: a key made again as a string");
    {
        long long gen = atoll(mirror_q(e, "SELECT generation FROM redsink_status"));
        char sql[300];

        snprintf(sql, sizeof(sql), "SELECT count(*), sum(id IN (SELECT big FROM g%lld_hash))"
                 " FROM g%lld_big", gen, gen);
        CHECK_STR(mirror_q(e, sql), "1,1", "held hsets: the big value a held one replaced is gone");
    }
    CHECK_STR(mirror_q(e, "SELECT count(*) FROM redis_hashes WHERE key = 'sh'"), "19",
              "held hsets: no field more");
    free(big);
    free(v4k);
    tbuf_free(&b);
}

/* The process's first held field has an empty name: the arena holding the
 * held names is not made yet, and the field is still written as a field
 * of its hash (the hash's own row keeps no value). */
static void test_held_empty_first(struct mirror *unused)
{
    struct apply_opts o = { .batch_max_ms = 100000 };
    struct mirror m, *e = &m;
    struct tbuf b = { 0 };

    (void)unused;
    if (mirror_open_opts(e, "cmd_hash_empty.db", &o) != 0) {
        CHECK(0, "empty first: open");
        mirror_close(e);
        return;
    }
    CMD(&b, "HINCRBY", "hi", "", "2");
    CMD(&b, "HINCRBY", "hi", "", "3");
    CMD(&b, "HSET", "he", "", "");                         /* nothing in the arena either */
    CHECK_STR(mirror_run(e, &b), "0", "empty first: one batch applied");
    CHECK_STR(mirror_q(e, "SELECT key, field, value FROM redis_hashes ORDER BY key, field"),
              "he,,;hi,,5", "empty first: the empty fields written as fields");
    {
        char sql[200];

        snprintf(sql, sizeof(sql), "SELECT count(*), count(value) FROM g%lld_keys",
                 atoll(mirror_q(e, "SELECT generation FROM redsink_status")));
        CHECK_STR(mirror_q(e, sql), "2,0", "empty first: the hashes' own rows hold no value");
    }
    mirror_close(e);
    tbuf_free(&b);
}

int main(void)
{
    return mirror_test_main("cmd_hash.db", 0, (mirror_test *const[]){
        test_hsetnx_hincrby, test_hincrbyfloat, test_field_ttl, test_hash_reads, test_hsetex,
        test_hgetex_hgetdel, test_hincrby_held, test_hset_held, test_held_empty_first, NULL });
}
