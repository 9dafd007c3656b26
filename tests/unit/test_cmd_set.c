/*
 * test_cmd_set.c - the set commands (daemon/write/cmd_set.c) on the real
 * SQLite sink: SMOVE, SPOP (never sent verbatim by a master), the STORE
 * operations with a destination that is also a source, TEXT vs BLOB
 * members; and the sink's set reads on what they left.
 *
 * Exit 0 (all passed), 77 (no sink could be opened) or 99 (a check
 * failed). Start reading at main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const char *members(struct mirror *e, const char *key)
{
    char sql[256];

    snprintf(sql, sizeof(sql), "SELECT group_concat(m, ',') FROM (SELECT typeof(member) || ':'"
             " || hex(member) AS m FROM redis_sets WHERE key = '%s' AND db = 0 ORDER BY 1)", key);
    return mirror_q(e, sql);
}

static void test_smove_spop(struct mirror *e)
{
    struct tbuf b = { 0 };

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
    CHECK_STR(mirror_run(e, &b), "0", "smove: batch applied");
    CHECK_STR(mirror_keyinfo(e, "src"), "", "smove: an emptied source disappears");
    CHECK_STR(members(e, "dst"), "blob:FF,text:62", "smove: members moved, binary one too");
    CHECK_STR(members(e, "one"), "text:61,text:6D", "smove: into an existing set");
    CHECK_STR(mirror_keyinfo(e, "str"), "string/-", "smove: a WRONGTYPE destination is left alone");

    CMD(&b, "SADD", "p1", "x");
    CMD(&b, "SPOP", "p1");                               /* one member: deterministic */
    CMD(&b, "SADD", "p2", "x", "y", "z");
    CMD(&b, "SPOP", "p2", "0");                          /* nothing */
    CMD(&b, "SPOP", "p2", "1");                          /* random: skipped */
    CMD(&b, "SPOP", "p2");                               /* random: skipped */
    CMD(&b, "SPOP", "p2", "-1");                         /* refused */
    CMD(&b, "SADD", "p3", "x", "y");
    CMD(&b, "SPOP", "p3", "5");                          /* everything */
    CHECK_STR(mirror_run(e, &b), "0", "spop: batch applied");
    CHECK_STR(mirror_q(e, "SELECT group_concat(key) FROM (SELECT key FROM redis_keys"
                          " WHERE key GLOB 'p[0-9]' ORDER BY key)"), "p2",
              "spop: whole-set pops applied, random ones skipped");
    CHECK_STR(members(e, "p2"), "text:78,text:79,text:7A", "spop: the skipped pops changed nothing");
    tbuf_free(&b);
}

static void test_setops(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "SADD", "s1", "a", "b", "c", "\\xff", "\\x00");
    CMD(&b, "SADD", "s2", "b", "c", "d", "\\xff");
    CMD(&b, "SADD", "s3", "c", "x");
    CMD(&b, "SINTERSTORE", "i", "s1", "s2");
    CMD(&b, "SINTERSTORE", "i3", "s1", "s2", "s3");
    CMD(&b, "SUNIONSTORE", "u", "s3", "nokey", "s2");
    CMD(&b, "SDIFFSTORE", "d", "s1", "s2", "nokey");
    CMD(&b, "SDIFFSTORE", "dself", "s1", "s3", "s1");    /* S - .. - S: empty */
    CMD(&b, "SINTERSTORE", "iself", "s2", "s2");
    CHECK_STR(mirror_run(e, &b), "0", "setops: batch applied");
    CHECK_STR(members(e, "i"), "blob:FF,text:62,text:63", "setops: SINTERSTORE");
    CHECK_STR(members(e, "i3"), "text:63", "setops: SINTERSTORE of three");
    CHECK_STR(members(e, "u"), "blob:FF,text:62,text:63,text:64,text:78",
              "setops: SUNIONSTORE skips a missing key");
    CHECK_STR(members(e, "d"), "text:00,text:61", "setops: SDIFFSTORE (NUL is valid UTF-8: TEXT)");
    CHECK_STR(mirror_keyinfo(e, "dself"), "", "setops: SDIFFSTORE s1 .. s1 is empty: no key");
    CHECK_STR(members(e, "iself"), "blob:FF,text:62,text:63,text:64", "setops: S inter S = S");

    /* destination among the sources, of another type, with a TTL */
    CMD(&b, "SUNIONSTORE", "s3", "s3", "s2");
    CMD(&b, "SDIFFSTORE", "s2", "s1", "s2");
    CMD(&b, "SET", "str", "v", "PXAT", "99999999999999");
    CMD(&b, "SINTERSTORE", "str", "s1", "s3");
    CMD(&b, "SADD", "ttl", "q");
    CMD(&b, "PEXPIREAT", "ttl", "99999999999999");
    CMD(&b, "SUNIONSTORE", "ttl", "ttl");
    CHECK_STR(mirror_run(e, &b), "0", "setops: destination batch applied");
    CHECK_STR(members(e, "s3"), "blob:FF,text:62,text:63,text:64,text:78",
              "setops: SUNIONSTORE into one of its sources");
    CHECK_STR(members(e, "s2"), "text:00,text:61", "setops: SDIFFSTORE into its second source");
    CHECK_STR(mirror_keyinfo(e, "str"), "set/-",
              "setops: a string destination is replaced, TTL dropped");
    CHECK_STR(members(e, "str"), "blob:FF,text:62,text:63", "setops: ... by the intersection");
    CHECK_STR(mirror_keyinfo(e, "ttl"), "set/-",
              "setops: SUNIONSTORE k k drops k's TTL, as setKey");

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
    CHECK_STR(mirror_run(e, &b), "0", "setops: empty/WRONGTYPE batch applied");
    CHECK_STR(mirror_q(e, "SELECT count(*) FROM redis_keys WHERE key IN ('e1','e2','e3','e4')"),
              "0",
              "setops: an empty result deletes the destination of any type");
    CHECK_STR(members(e, "w"), "text:6B656570", "setops: a WRONGTYPE source changes nothing");
    CHECK_STR(mirror_q(e, "SELECT count(*) FROM redis_keys WHERE db < 0"), "0",
                          "setops: no scratch key is left behind");
    tbuf_free(&b);
}

static void scan_count(void *ud, const struct rs_bytes *m)
{
    (void)m;
    ++*(int *)ud;
}

/* The sink's set reads on what the commands above left. */
static void test_set_reads(struct mirror *e)
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
}

int main(void)
{
    return mirror_test_main("cmd_set.db", 0, (mirror_test *const[]){
        test_smove_spop, test_setops, test_set_reads, NULL });
}
