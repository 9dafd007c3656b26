/*
 * test_cmd_string.c - the string commands (daemon/write/cmd_string.c) on
 * the real SQLite sink: RESP bytes through resp.c into apply.c, checked
 * through the contract's views. SET NX/XX/GET/KEEPTTL, SETNX, MSET, the
 * INCR family, APPEND, GETSET, WRONGTYPE; and the forms Redis 8.0-8.8 and
 * Valkey 8.1-9.x masters propagate: SET's IFEQ/IFNE/IFDEQ/IFDNE, DELEX,
 * Valkey's DELIFEQ, MSETEX, 8.2's BITOP DIFF/DIFF1/ANDOR/ONE and 8.8's
 * INCREX (results from the servers' source and docs).
 *
 * Exit 0 (all passed), 77 (no sink could be opened) or 99 (a check
 * failed). Start reading at main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_strings(struct mirror *e)
{
    struct tbuf b = { 0 };
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
    CHECK_STR(mirror_run(e, &b), "0", "strings: applied");
    CHECK_STR(mirror_q(e, "SELECT key, value FROM redis_strings ORDER BY key"),
              "m1,2;m2,-5xy;m3,-1;m4,new;s1,v1c;s3,gs;s4,v4b;s5,v5;s7,a",
              "strings: values after SET NX/XX/GET, SETNX, MSET, INCR family, APPEND, GETSET");
    CHECK_STR(mirror_q(e, "SELECT key, expire_at FROM redis_keys WHERE key IN ('s1','s3','s4')"
                          " ORDER BY key"), "s1,NULL;s3,NULL;s4,NULL",
              "strings: SET without KEEPTTL and GETSET clear the TTL");
    snprintf(sql, sizeof(sql), "SELECT expire_at BETWEEN %lld AND %lld FROM redis_keys"
             " WHERE key = 's5'", now + 100000, now + 110000);
    CHECK_STR(mirror_q(e, sql), "1", "strings: SET EX from an old master counts from our clock");

    CMD(&b, "SET", "t1", "a", "PXAT", "99999999999999");
    CMD(&b, "SET", "t1", "b", "KEEPTTL");
    CMD(&b, "INCR", "t2");
    CMD(&b, "PEXPIREAT", "t2", "99999999999998");
    CMD(&b, "INCR", "t2");                       /* keeps the TTL */
    CHECK_STR(mirror_run(e, &b), "0", "strings: KEEPTTL batch applied");
    CHECK_STR(mirror_q(e, "SELECT key, value, expire_at FROM redis_strings"
                          " JOIN redis_keys USING (db, key)"
                          " WHERE key IN ('t1','t2') ORDER BY key"),
              "t1,b,99999999999999;t2,2,99999999999998",
              "strings: KEEPTTL and INCR keep the TTL");

    CMD(&b, "HSET", "h", "f", "v");
    CMD(&b, "SET", "h", "x", "GET");             /* WRONGTYPE: skipped */
    CMD(&b, "INCR", "h");                        /* WRONGTYPE: skipped */
    CHECK_STR(mirror_run(e, &b), "0", "strings: WRONGTYPE commands are skipped, not fatal");
    CHECK_STR(mirror_q(e, "SELECT type FROM redis_keys WHERE key = 'h'"), "hash",
                          "strings: SET GET on a hash leaves it alone");
    CMD(&b, "SET", "h", "plain");                /* SET overwrites any type */
    CHECK_STR(mirror_run(e, &b), "0", "strings: SET over a hash applied");
    CHECK_STR(mirror_q(e, "SELECT k.type, s.value,"
                          " (SELECT count(*) FROM redis_hashes WHERE key = 'h')"
                          " FROM redis_keys k JOIN redis_strings s USING (db, key) WHERE key = 'h'"),
              "string,plain,0", "strings: SET replaces a hash with a string");
    tbuf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Redis 8.x and Valkey: SET IF*, DELEX, DELIFEQ, MSETEX, BITOP, INCREX */
/* ------------------------------------------------------------------ */

static const char *strings(struct mirror *e)
{
    return mirror_q(e, "SELECT group_concat(x, ' ') FROM (SELECT s.key || '=' || s.value || '@' ||"
                       " coalesce(k.expire_at, '-') AS x FROM redis_strings s JOIN redis_keys k"
                       " ON k.db = s.db AND k.key = s.key ORDER BY s.key)");
}

static void test_set_conditions(struct mirror *e)
{
    struct tbuf b = { 0 };

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
    CHECK_STR(mirror_run(e, &b), "0", "set: IF* forms applied");
    CHECK_STR(strings(e), "k1=new@64000000000000 k3=w@- k5=w@65000000000000",
              "set: IFEQ/IFNE checked, IFDEQ/IFDNE trusted, missing keys, errors skipped");
    CHECK_STR(mirror_keyinfo(e, "hh"), "hash/-", "set: IF* on a hash is WRONGTYPE");

    CMD(&b, "DELEX", "k1", "IFEQ", "nope");
    CMD(&b, "DELEX", "k3", "IFNE", "w");
    CMD(&b, "DELEX", "k3", "IFEQ", "w");
    CMD(&b, "DELEX", "hh", "IFEQ", "x");                        /* WRONGTYPE */
    CMD(&b, "DELEX", "k5", "BOGUS", "x");                       /* syntax error */
    CMD(&b, "DELEX", "k5", "IFEQ");                             /* syntax error */
    CMD(&b, "DELEX", "missing");
    CHECK_STR(mirror_run(e, &b), "0", "delex: applied");
    CHECK_STR(strings(e), "k1=new@64000000000000 k5=w@65000000000000", "delex: conditions");
    CHECK_STR(mirror_keyinfo(e, "hh"), "hash/-", "delex: WRONGTYPE with a condition");
    CMD(&b, "DELEX", "hh");
    CMD(&b, "DELEX", "k5", "IFDEQ", "0123456789abcdef");
    CMD(&b, "DELIFEQ", "k1", "nope");
    CHECK_STR(mirror_run(e, &b), "0", "delex/delifeq: applied");
    CHECK_STR(mirror_q(e, "SELECT group_concat(key) FROM (SELECT key FROM redis_keys"
                          " ORDER BY key)"),
              "k1", "delex: without a condition any type; IFDEQ trusted; DELIFEQ checks");
    CMD(&b, "DELIFEQ", "k1", "new");
    CMD(&b, "LPUSH", "l", "x");
    CMD(&b, "DELIFEQ", "l", "x");                               /* WRONGTYPE */
    CHECK_STR(mirror_run(e, &b), "0", "delifeq: applied");
    CHECK_STR(mirror_q(e, "SELECT group_concat(key) FROM redis_keys"), "l",
                          "delifeq: equal deletes");
    tbuf_free(&b);
}

static void test_msetex(struct mirror *e)
{
    struct tbuf b = { 0 };
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
    CHECK_STR(mirror_run(e, &b), "0", "msetex: applied");
    CHECK_STR(strings(e), "a=11@67000000000000 b=22@- c=33@- e=5@68000000000000",
              "msetex: NX/XX all or nothing, KEEPTTL, PXAT, errors skipped");
    now = (long long)rs_now_ms();
    CMD(&b, "MSETEX", "1", "f", "6", "EX", "100");
    CMD(&b, "HSET", "h", "x", "y");
    CMD(&b, "MSETEX", "1", "h", "7", "PX", "100000");           /* replaces a hash */
    CHECK_STR(mirror_run(e, &b), "0", "msetex: EX/PX applied");
    snprintf(sql, sizeof(sql), "SELECT group_concat(x) FROM (SELECT key || ':' ||"
             " (expire_at BETWEEN %lld AND %lld) AS x FROM redis_keys WHERE key IN ('f','h')"
             " ORDER BY key)", now + 100000, now + 110000);
    CHECK_STR(mirror_q(e, sql), "f:1,h:1",
              "msetex: relative times from our clock, any type replaced");
    tbuf_free(&b);
}

/* First of all, while the applier's scratch buffer was never allocated:
 * an empty source string (UBSan stopped redsink on memcpy from NULL in
 * postgres_kill.sh's ASan run, a crash loop on the same BITOP). */
static void test_bitop_empty_first(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "SET", "be", "");
    CMD(&b, "SET", "bf", "\\x81");
    CMD(&b, "BITOP", "AND", "de1", "be");                        /* empty: no key */
    CMD(&b, "BITOP", "OR", "de2", "be", "bf");
    CMD(&b, "BITOP", "XOR", "de3", "bf", "be", "nokey");
    CHECK_STR(mirror_run(e, &b), "0", "bitop with an empty source first: applied");
    CHECK_STR(mirror_q(e, "SELECT group_concat(key || '=' || hex(value), ' ') FROM (SELECT * FROM"
                          " redis_strings WHERE key LIKE 'de_' ORDER BY key)"),
              "de2=81 de3=81", "bitop with an empty source: AND deletes, OR and XOR pad");
    b.len = 0;
    CMD(&b, "DEL", "be", "bf", "de2", "de3");                    /* test_strings counts all */
    CHECK_STR(mirror_run(e, &b), "0", "bitop with an empty source: keys deleted");
    tbuf_free(&b);
}

static void test_bitop_82(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "SET", "ba", "\\xf0");
    CMD(&b, "SET", "bb", "\\x3c");
    CMD(&b, "SET", "bc", "\\x0f\\x01");
    CMD(&b, "BITOP", "DIFF", "d1", "ba", "bb", "bc");
    CMD(&b, "BITOP", "diff1", "d2", "ba", "bb", "bc");
    CMD(&b, "BITOP", "ANDOR", "d3", "ba", "bb", "bc");
    CMD(&b, "BITOP", "ONE", "d4", "ba", "bb", "bc");
    CMD(&b, "BITOP", "DIFF", "d5", "nokey", "nokey2");          /* empty: no key */
    CMD(&b, "BITOP", "NAND", "d6", "ba");                        /* refused */
    CHECK_STR(mirror_run(e, &b), "0", "bitop 8.2: applied");
    CHECK_STR(mirror_q(e, "SELECT group_concat(key || '=' || hex(value), ' ') FROM (SELECT * FROM"
                          " redis_strings WHERE key LIKE 'd_' ORDER BY key)"),
              "d1=C000 d2=0F01 d3=3000 d4=C301",
              "bitop 8.2: DIFF, DIFF1, ANDOR, ONE as the BITOP docs define them");
    tbuf_free(&b);
}

static void test_increx(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "INCREX", "i1");                                         /* 0 + 1 */
    CMD(&b, "INCREX", "i1", "BYINT", "-10");
    CMD(&b, "SET", "i2", "99", "PXAT", "70000000000000");
    CMD(&b, "INCREX", "i2", "BYINT", "5", "UBOUND", "100");          /* skipped */
    CMD(&b, "SET", "i3", "99");
    CMD(&b, "INCREX", "i3", "BYINT", "5", "UBOUND", "100", "SATURATE");
    CMD(&b, "SET", "i4", "9223372036854775800");
    CMD(&b, "INCREX", "i4", "BYINT", "100", "SATURATE");             /* type limit */
    CMD(&b, "SET", "i5", "1.5");
    CMD(&b, "INCREX", "i5", "BYFLOAT", "0.25");
    CMD(&b, "INCREX", "i5", "BYINT", "1");                           /* not an integer */
    CMD(&b, "INCREX", "i6", "BYINT", "1", "PXAT", "71000000000000");
    CMD(&b, "INCREX", "i6", "BYINT", "1", "PXAT", "72000000000000", "ENX");  /* has a TTL */
    CMD(&b, "INCREX", "i2", "PERSIST");                              /* 99 + 1 = 100, no TTL */
    CMD(&b, "INCREX", "i7", "LBOUND", "5", "UBOUND", "1");           /* refused */
    CMD(&b, "INCREX", "i7", "ENX");                                  /* refused */
    CMD(&b, "INCREX", "i7", "BYINT", "1", "BYFLOAT", "1");           /* refused */
    CHECK_STR(mirror_run(e, &b), "0", "increx: applied");
    CHECK_STR(mirror_q(e, "SELECT group_concat(x, ' ') FROM (SELECT s.key || '=' ||"
                          " s.value || '@' ||"
                          " coalesce(k.expire_at, '-') AS x FROM redis_strings s JOIN redis_keys k"
                          " USING (db, key) WHERE s.key LIKE 'i_' ORDER BY s.key)"),
              "i1=-9@- i2=100@- i3=100@- i4=9223372036854775807@- i5=1.75@- i6=2@71000000000000",
              "increx: BYINT/BYFLOAT, bounds skipped or saturated, TTL kept, ENX, PERSIST");
    tbuf_free(&b);
}

/*
 * INCRs held in memory within a transaction (sinks/sqlite/sqlite_string.c):
 * every other command on the key, in the same transaction, must see the
 * sum so far, and what it writes must win. One batch, one commit.
 */
static void test_incr_held(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "SET", "hd:max", "9223372036854775805");
    CMD(&b, "SET", "hd:top", "9223372036854775805");
    CMD(&b, "SET", "hd:bot", "-9223372036854775807");
    CMD(&b, "SET", "hd:txt", "+5");
    CMD(&b, "SET", "hd:old", "40");
    CHECK_STR(mirror_run(e, &b), "0", "held: setup applied");
    for (int i = 0; i < 1000; i++)
        CMD(&b, "INCR", "hd:a");                           /* created, then held */
    for (int i = 0; i < 3; i++)
        CMD(&b, "INCRBY", "hd:b", "-5");
    CMD(&b, "INCR", "hd:c");
    CMD(&b, "INCR", "hd:c");
    CMD(&b, "APPEND", "hd:c", "x");                        /* reads 2 */
    CMD(&b, "INCR", "hd:d");
    CMD(&b, "INCR", "hd:d");
    CMD(&b, "SET", "hd:d", "v");                           /* wins */
    CMD(&b, "INCR", "hd:e");
    CMD(&b, "INCR", "hd:e");
    CMD(&b, "DEL", "hd:e");
    CMD(&b, "INCR", "hd:f");
    CMD(&b, "INCR", "hd:f");
    CMD(&b, "RENAME", "hd:f", "hd:g");
    CMD(&b, "INCR", "hd:g");                               /* 3 */
    CMD(&b, "INCR", "hd:i");
    CMD(&b, "INCR", "hd:i");
    CMD(&b, "PEXPIREAT", "hd:i", "99999999999999");
    CMD(&b, "INCR", "hd:i");                               /* 3, TTL kept */
    /* Increments are made late (sqlite_string.c, held_late): their sum
     * at the flush, when each would have been made in turn. No master
     * sends a third INCR of hd:max (it refused it), and all three are
     * refused together; made one by one, two would be (test_incr_old_master) */
    CMD(&b, "INCR", "hd:max");
    CMD(&b, "INCR", "hd:max");
    CMD(&b, "INCR", "hd:max");
    CMD(&b, "INCR", "hd:top");                             /* ...806 */
    CMD(&b, "INCR", "hd:top");                             /* ...807: the limit */
    CMD(&b, "DECR", "hd:bot");                             /* -...808: the limit */
    CMD(&b, "INCRBY", "hd:bot", "5");
    CMD(&b, "DECRBY", "hd:bot", "5");                      /* -...808 again */
    CMD(&b, "INCR", "hd:txt");                             /* not canonical: refused */
    CMD(&b, "INCR", "hd:j");
    CMD(&b, "INCR", "hd:j");
    CMD(&b, "INCR", "hd:k");                               /* a new key: j stays held */
    CMD(&b, "INCR", "hd:j");
    CMD(&b, "INCR", "hd:k");
    CMD(&b, "INCR", "hd:l");
    CMD(&b, "INCR", "hd:l");
    CMD(&b, "INCRBYFLOAT", "hd:l", "0.5");                 /* reads 2 */
    CMD(&b, "INCR", "hd:m");
    CMD(&b, "INCR", "hd:m");
    CMD(&b, "COPY", "hd:m", "hd:n");
    CMD(&b, "INCR", "hd:n");                               /* 3; m stays 2 */
    CMD(&b, "MULTI");
    CMD(&b, "INCR", "hd:old");
    CMD(&b, "INCR", "hd:old");
    CMD(&b, "DECRBY", "hd:old", "100");
    CMD(&b, "EXEC");
    CMD(&b, "INCR", "hd:o");
    CMD(&b, "INCR", "hd:o");
    CMD(&b, "GETDEL", "hd:o");
    CMD(&b, "INCR", "hd:o");                               /* created again: 1 */
    CMD(&b, "INCR", "hd:p");
    CMD(&b, "INCR", "hd:p");
    CMD(&b, "SET", "hd:q", "1");
    CMD(&b, "INCR", "hd:q");
    CMD(&b, "INCR", "hd:q");
    CMD(&b, "MSET", "hd:p", "p", "hd:q", "q");             /* both win */
    CHECK_STR(mirror_run(e, &b), "0", "held: one batch applied");
    CHECK_STR(mirror_q(e, "SELECT key, value FROM redis_strings WHERE key GLOB 'hd:*'"
                          " ORDER BY key"),
              "hd:a,1000;hd:b,-15;hd:bot,-9223372036854775808;hd:c,2x;hd:d,v;hd:g,3;hd:i,3;"
              "hd:j,3;hd:k,2;hd:l,2.5;hd:m,2;hd:max,9223372036854775805;hd:n,3;hd:o,1;"
              "hd:old,-58;hd:p,p;hd:q,q;hd:top,9223372036854775807;hd:txt,+5",
              "held: each INCR run read, overwritten, deleted, renamed or copied in the batch");
    CHECK_STR(mirror_keyinfo(e, "hd:i"), "string/99999999999999", "held: the TTL set between "
              "INCRs stays");
    tbuf_free(&b);
}

/*
 * A master before 3.2.2 reads integers with strtoll ('+5' is 5), which the
 * mirror's SQL does not: the applier reads those itself, so increments are
 * never made late there (sink.late_incr is 0), and one refused among
 * others is skipped alone, as Redis does.
 */
static void test_incr_old_master(struct mirror *unused)
{
    struct apply_opts o = { .batch_max_cmds = 0, .batch_max_ms = 100000,
                            .master_version = 30201 };
    struct mirror m, *e = &m;
    struct tbuf b = { 0 };

    (void)unused;
    if (mirror_open_opts(e, "cmd_string_old.db", &o) != 0) {
        CHECK(0, "old master: open");
        mirror_close(e);
        return;
    }
    CHECK(e->sink->late_incr == 0, "old master: increments made at once");
    CMD(&b, "SET", "om:max", "9223372036854775805");
    CMD(&b, "SET", "om:txt", "+5");
    CHECK_STR(mirror_run(e, &b), "0", "old master: setup applied");
    for (int i = 0; i < 3; i++)
        CMD(&b, "INCR", "om:max");                         /* ...806, ...807, skipped */
    CMD(&b, "INCR", "om:txt");                             /* strtoll: 6 */
    CMD(&b, "INCR", "om:txt");                             /* 7, held */
    CHECK_STR(mirror_run(e, &b), "0", "old master: one batch applied");
    CHECK_STR(mirror_q(e, "SELECT key, value FROM redis_strings WHERE key GLOB 'om:*'"
                          " ORDER BY key"), "om:max,9223372036854775807;om:txt,7",
              "old master: the overflow alone skipped, '+5' read as 5");
    mirror_close(e);
    tbuf_free(&b);
}

/*
 * Held SETs (sqlite_string.c): a SET of a small value to a string whose
 * id the key cache knows changes only memory until the next statement
 * or the commit. Every way a later command of the same batch meets such
 * a value: read, appended, incremented, given a TTL, deleted, renamed,
 * copied, overwritten by a big value or another type, inside MULTI.
 */
static void test_set_held(struct mirror *e)
{
    struct tbuf b = { 0 };
    char *big = malloc(5000);

    memset(big, 'z', 4999);
    big[4999] = '\0';
    for (const char *const *k = (const char *const[]){ "hs:a", "hs:b", "hs:c", "hs:d", "hs:e",
                                                        "hs:f", "hs:g", "hs:h", "hs:i", "hs:j",
                                                        "hs:k", "hs:l", "hs:m", NULL }; *k; k++)
        CMD(&b, "SET", *k, "0");
    CMD(&b, "SET", "hs:ttl", "0", "PX", "99999999999");
    CHECK_STR(mirror_run(e, &b), "0", "held sets: setup applied");
    for (int i = 0; i < 1000; i++) {
        char v[16];

        snprintf(v, sizeof(v), "%d", i);
        CMD(&b, "SET", "hs:a", v);                         /* the last one wins */
    }
    CMD(&b, "SET", "hs:b", "1");
    CMD(&b, "SET", "hs:b", "2");
    CMD(&b, "APPEND", "hs:b", "x");                        /* reads 2 */
    CMD(&b, "SET", "hs:c", "10");
    CMD(&b, "INCR", "hs:c");                               /* a held SET, then 11 */
    CMD(&b, "INCR", "hs:c");                               /* 12, held */
    CMD(&b, "SET", "hs:c", "c");                           /* wins */
    CMD(&b, "SET", "hs:d", "d");
    CMD(&b, "DEL", "hs:d");
    CMD(&b, "SET", "hs:e", "e");
    CMD(&b, "RENAME", "hs:e", "hs:e2");
    CMD(&b, "SET", "hs:f", "f");
    CMD(&b, "COPY", "hs:f", "hs:f2");
    CMD(&b, "SET", "hs:f", "f3");                          /* the copy keeps f */
    CMD(&b, "SET", "hs:g", "g");
    CMD(&b, "SET", "hs:g", big);                           /* not held: written at once */
    CMD(&b, "SET", "hs:h", big);
    CMD(&b, "SET", "hs:h", "h");                           /* held over the big one */
    CMD(&b, "SET", "hs:i", "i");
    CMD(&b, "LPUSH", "hs:i2", "x");
    CMD(&b, "SET", "hs:i", "i2");
    CMD(&b, "SET", "hs:j", "j");
    CMD(&b, "PEXPIREAT", "hs:j", "99999999999999");
    CMD(&b, "SET", "hs:j", "j2");                          /* and no TTL */
    CMD(&b, "SET", "hs:ttl", "t");                         /* its TTL goes */
    CMD(&b, "MULTI");
    CMD(&b, "SET", "hs:k", "k1");
    CMD(&b, "SET", "hs:k", "k2");
    CMD(&b, "EXEC");
    CMD(&b, "SET", "hs:l", "l");
    CMD(&b, "GETDEL", "hs:l");
    CMD(&b, "SET", "hs:l", "l2");                          /* created again */
    CMD(&b, "SET", "hs:m", "\xff\xfe");                    /* a BLOB */
    CMD(&b, "SET", "hs:m", "");
    CMD(&b, "SET", "hs:n", "n");                           /* new: not held */
    CMD(&b, "SET", "hs:n", "n2");                          /* then held */
    CMD(&b, "SETRANGE", "hs:n", "2", "!");
    CMD(&b, "SET", "hs:bin", "\xff\xfe");
    char *huge = malloc((2 << 20) + 1);                    /* 2 MiB: a big value */

    memset(huge, 'H', 2 << 20);
    huge[2 << 20] = '\0';
    CMD(&b, "SET", "hs:big", "small");
    CMD(&b, "SET", "hs:big", huge);                        /* written at once, after the held */
    CMD(&b, "SET", "hs:big2", huge);
    CMD(&b, "SET", "hs:big2", "small again");              /* held over a big value */
    free(huge);
    CMD(&b, "SET", "hs:utf", "x");
    CMD(&b, "SET", "hs:utf", "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e");  /* held UTF-8 */
    CHECK_STR(mirror_run(e, &b), "0", "held sets: one batch applied");
    CHECK_STR(mirror_q(e, "SELECT value, typeof(value), length(value) FROM redis_strings"
                          " WHERE key = 'hs:utf'"), "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e,text,3",
              "held sets: a UTF-8 value is TEXT of 3 characters");
    CHECK_STR(mirror_q(e, "SELECT key, length(value), substr(value, 1, 3), typeof(value)"
                          " FROM redis_strings WHERE key GLOB 'hs:big*' ORDER BY key"),
              "hs:big,2097152,HHH,text;hs:big2,11,sma,text",
              "held sets: a 2 MiB value after a held one, and a held one after it");
    CHECK_STR(mirror_q(e, "SELECT key, length(value), substr(value, 1, 8) FROM redis_strings"
                          " WHERE key GLOB 'hs:*' AND key NOT IN ('hs:bin', 'hs:utf', 'hs:big', 'hs:big2')"
                          " ORDER BY key"),
              "hs:a,3,999;hs:b,2,2x;hs:c,1,c;hs:e2,1,e;hs:f,2,f3;hs:f2,1,f;hs:g,4999,zzzzzzzz;"
              "hs:h,1,h;hs:i,2,i2;hs:j,2,j2;hs:k,2,k2;hs:l,2,l2;hs:m,0,;hs:n,3,n2!;hs:ttl,1,t",
              "held sets: each value as the batch left it");
    CHECK_STR(mirror_q(e, "SELECT hex(value), typeof(value) FROM redis_strings"
                          " WHERE key = 'hs:bin'"), "FFFE,blob",
              "held sets: a binary value is a BLOB");
    CHECK_STR(mirror_keyinfo(e, "hs:j"), "string/-", "held sets: SET clears a TTL");
    CHECK_STR(mirror_keyinfo(e, "hs:ttl"), "string/-", "held sets: SET clears an older TTL");
    CHECK_STR(mirror_keyinfo(e, "hs:d"), "", "held sets: a deleted key stays deleted");
    CHECK_STR(mirror_keyinfo(e, "hs:i2"), "list/-", "held sets: a list made in between");
    free(big);
    tbuf_free(&b);
}

int main(void)
{
    return mirror_test_main("cmd_string.db", 0, (mirror_test *const[]){
        test_bitop_empty_first, test_strings, test_set_conditions, test_msetex, test_bitop_82, test_increx,
        test_incr_held, test_incr_old_master, test_set_held, NULL });
}
