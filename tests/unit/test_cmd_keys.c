/*
 * test_cmd_keys.c - the keys family (daemon/write/cmd_keys.c) on the real
 * SQLite sink: DEL/UNLINK, the PEXPIREAT conditions (on keys without a TTL
 * too), PERSIST, RENAME(NX), keys past their TTL; RESTORE of good, corrupt
 * and truncated DUMP payloads, and of a Redis 8.8 array.
 *
 * Exit 0 (all passed), 77 (no sink could be opened) or 99 (a check
 * failed). Start reading at main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "rdb.h"

static void test_keys(struct mirror *e)
{
    struct tbuf b = { 0 };

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
    CHECK_STR(mirror_run(e, &b), "0", "keys: applied");
    CHECK_STR(mirror_q(e, "SELECT key, expire_at FROM redis_keys WHERE key LIKE 'k%' ORDER BY key"),
              "k4,99999999999100;k5,99999999999000;k6,NULL;k8,NULL;k9,NULL",
              "keys: DEL/UNLINK variadic, PEXPIREAT NX/XX/GT/LT, PERSIST, RENAME(NX)");

    /* A key past its TTL still exists for the master's commands. */
    CMD(&b, "SET", "old", "v1");
    CMD(&b, "PEXPIREAT", "old", "1000");
    CMD(&b, "SET", "old", "v2", "NX");                    /* exists: no */
    CMD(&b, "HSET", "oldh", "a", "1");
    CMD(&b, "PEXPIREAT", "oldh", "1000");
    CMD(&b, "HSET", "oldh", "b", "2");                    /* extends it */
    CHECK_STR(mirror_run(e, &b), "0", "keys: expired-key batch applied");
    CHECK_STR(mirror_q(e, "SELECT count(*) FROM redis_keys WHERE key IN ('old', 'oldh')"), "0",
                          "keys: a key past its TTL is hidden from the views");
    CMD(&b, "PERSIST", "old");
    CMD(&b, "PERSIST", "oldh");
    CHECK_STR(mirror_run(e, &b), "0", "keys: PERSIST applied");
    CHECK_STR(mirror_q(e, "SELECT value FROM redis_strings WHERE key = 'old'"), "v1",
                          "keys: SET NX on an expired (not deleted) key does nothing, as on a replica");
    CHECK_STR(mirror_q(e, "SELECT group_concat(field) FROM (SELECT field FROM redis_hashes"
                          " WHERE key = 'oldh' ORDER BY field)"), "a,b",
              "keys: HSET on an expired key extends it");
    tbuf_free(&b);
}

/* ------------------------------------------------------------------ */
/* RESTORE, EXPIRE                                                    */
/* ------------------------------------------------------------------ */

/* RESTORE key ttl payload [REPLACE ABSTTL] and commit: "0", or the error. */
static const char *restore(struct mirror *e, const char *key, const char *ttl, const void *p,
                           size_t n, int replace_absttl)
{
    struct rs_bytes argv[6] = {
        { "RESTORE", 7 }, { key, strlen(key) }, { ttl, strlen(ttl) }, { p, n },
        { "REPLACE", 7 }, { "ABSTTL", 6 },
    };

    return mirror_apply_bytes(e, replace_absttl ? 6 : 4, argv);
}

static void test_restore(struct mirror *e)
{
    /* DUMP of the string "v" by redis-server 7.0.15 (RDB version 10) */
    static const char good[] = "\x00\x01v\x0a\x00\x91\x08\xce\xb2\x19\x38\x8a\xce";
    char bad[sizeof(good)];

    memcpy(bad, good, sizeof(good));
    bad[sizeof(good) - 2] ^= 1;
    CHECK_STR(restore(e, "r1", "0", bad, sizeof(good) - 1, 0), "0",
              "RESTORE with a bad CRC: skipped, not fatal");
    CHECK_STR(restore(e, "r1", "0", good, sizeof(good) - 3, 0), "0",
              "RESTORE of a truncated payload: skipped, not fatal");
    CHECK(mirror_qi(e, "SELECT count(*) FROM redis_keys WHERE key = 'r1'") == 0,
                       "no key after bad payloads");
    restore(e, "r1", "0", good, sizeof(good) - 1, 0);
    CHECK(mirror_qi(e, "SELECT count(*) FROM redis_strings s JOIN redis_keys k USING (db, key)"
                       " WHERE key = 'r1' AND value = 'v' AND expire_at IS NULL") == 1,
          "RESTORE ttl 0: the string, no TTL");
    APPLY(e, "SET", "r2", "old");
    restore(e, "r2", "0", good, sizeof(good) - 1, 0);
    CHECK(mirror_qi(e, "SELECT count(*) FROM redis_strings WHERE key = 'r2'"
                       " AND value = 'old'") == 1,
          "RESTORE over an existing key without REPLACE: BUSYKEY, skipped");
    restore(e, "r2", "4102444800000", good, sizeof(good) - 1, 1);
    CHECK(mirror_qi(e, "SELECT expire_at FROM redis_strings s JOIN redis_keys k USING (db, key)"
                       " WHERE key = 'r2' AND value = 'v'")
          == 4102444800000LL, "RESTORE REPLACE ABSTTL");
    restore(e, "r3", "100000", good, sizeof(good) - 1, 0);
    CHECK(llabs(mirror_qi(e, "SELECT expire_at FROM redis_keys WHERE key = 'r3'") - 100000 -
                rs_now_ms()) < 5000, "RESTORE with a relative TTL (old master): our clock");
}

/* RESTORE of a Redis 8.8 array (type 28): a hand-built DUMP payload with
 * its RDB 14 footer and CRC64; the cursor comes along. */
static void test_restore_array(struct mirror *e)
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
    restore(e, "ra", "0", p, n, 0);
    CHECK(mirror_qi(e, "SELECT count(*) FROM redis_keys WHERE key = 'ra' AND type = 'array'") == 1,
                       "RESTORE of an array: the key, type array");
    CHECK(mirror_qi(e, "SELECT count(*) FROM redis_arrays WHERE key = 'ra' AND"
                       " ((idx = 3 AND value = '77') OR (idx = 9 AND value = 'abc'))") == 2,
          "RESTORE of an array: its elements");
    CHECK(mirror_qi(e, "SELECT m.cursor + 9223372036854775807 + 1 FROM g1_ameta m JOIN g1_keys k"
                       " ON k.id = m.kid WHERE k.key = 'ra'") == 9, "RESTORE of an array: its cursor");
    p[0] = 28, p[n - 10] = 13;                     /* a version 13 footer */
    crc = rdb_crc64(0, p, n - 8);
    for (int i = 0; i < 8; i++)
        p[n - 8 + i] = (unsigned char)(crc >> (8 * i));
    restore(e, "rb", "0", p, n, 0);
    CHECK(mirror_qi(e, "SELECT count(*) FROM redis_keys WHERE key = 'rb'") == 0,
                       "RESTORE of type 28 with an RDB 13 footer: refused");
}

static void test_expire(struct mirror *e)
{
    APPLY(e, "SET", "e1", "v");
    APPLY(e, "PEXPIREAT", "e1", "4102444800000", "GT");
    CHECK(mirror_qi(e, "SELECT count(*) FROM redis_keys WHERE key = 'e1'"
                       " AND expire_at IS NULL") == 1,
          "PEXPIREAT GT on a key without TTL (infinite): no change");
    APPLY(e, "PEXPIREAT", "e1", "4102444800000", "LT");
    CHECK(mirror_qi(e, "SELECT expire_at FROM redis_keys WHERE key = 'e1'") == 4102444800000LL,
                       "PEXPIREAT LT on a key without TTL (infinite): set");
    APPLY(e, "PEXPIREAT", "e1", "4102444900000", "GT");
    CHECK(mirror_qi(e, "SELECT expire_at FROM redis_keys WHERE key = 'e1'") == 4102444900000LL,
                       "PEXPIREAT GT with a later time: set");
    APPLY(e, "PEXPIREAT", "e1", "4102444900000", "LT");
    CHECK(mirror_qi(e, "SELECT expire_at FROM redis_keys WHERE key = 'e1'") == 4102444900000LL,
                       "PEXPIREAT LT with an equal time: no change");
}

int main(void)
{
    return mirror_test_main("cmd_keys.db", 0, (mirror_test *const[]){
        test_keys, test_restore, test_restore_array, test_expire, NULL });
}
