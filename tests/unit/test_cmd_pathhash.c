/*
 * test_cmd_pathhash.c - Valkey 9.2's path hash commands (daemon/write/
 * cmd_pathhash.c, as valkey src/t_path_hash.c runs them) on the real
 * SQLite sink, and the redis_path_hashes view.
 *
 * Exit 0 (all passed), 77 (no sink could be opened) or 99 (a check
 * failed). Start reading at main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Path hash 'key' as "path:field=value ..." in order. */
static const char *ph_dump(struct mirror *e, const char *key)
{
    char sql[320];

    snprintf(sql, sizeof(sql),
             "SELECT coalesce(group_concat(x, ' '), '') FROM (SELECT path || ':' || field || '='"
             " || value AS x FROM redis_path_hashes WHERE key = '%s' AND db = 0"
             " ORDER BY path, field)", key);
    return mirror_q(e, sql);
}

static void test_phset(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "PHSET", "p", "a/b", "FIELDS", "2", "f1", "v1", "f2", "v2");
    CMD(&b, "PHSET", "p", "a/c", "fields", "1", "f", "x");
    CMD(&b, "PHSET", "p", "a/c", "FIELDS", "2", "f", "y", "f", "z");       /* later wins */
    CMD(&b, "PHSET", "p", "a/b", "FNX", "FIELDS", "2", "f3", "n", "f1", "no"); /* f1 exists */
    CMD(&b, "PHSET", "p", "a/b", "fxx", "FIELDS", "1", "f9", "no");         /* f9 missing */
    CMD(&b, "PHSET", "p", "a/b", "FXX", "FIELDS", "1", "f2", "w");
    CMD(&b, "PHSET", "p", "a/d", "FNX", "FIELDS", "1", "g", "1");
    CMD(&b, "PHSET", "q", "x", "FXX", "FIELDS", "1", "f", "v");             /* no key: no-op */
    CMD(&b, "PHSET", "p", "a/b", "FIELDS", "2", "f1", "v1");                /* count mismatch */
    CMD(&b, "PHSET", "p", "a/b", "FIELDS", "0", "f1", "v1", "x");           /* count 0 */
    CMD(&b, "PHSET", "p", "a/b", "FNX", "FXX", "FIELDS", "1", "f", "v");    /* syntax */
    CMD(&b, "SET", "s", "v");
    CMD(&b, "PHSET", "s", "a", "FIELDS", "1", "f", "v");                   /* WRONGTYPE */
    CHECK_STR(mirror_run(e, &b), "0", "phset: applied, refused forms skipped");
    CHECK_STR(ph_dump(e, "p"), "a/b:f1=v1 a/b:f2=w a/c:f=z a/d:g=1",
              "phset: fields set, FNX/FXX no-ops skipped, later duplicate wins");
    CHECK_STR(mirror_keyinfo(e, "q"), "", "phset FXX on a missing key makes none");
    CHECK_STR(mirror_keyinfo(e, "s"), "string/-", "phset: WRONGTYPE leaves the string");
    CHECK_STR(mirror_q(e, "SELECT type FROM redis_keys WHERE key = 'p'"), "path-hash",
              "phset: redis_keys type path-hash");

    CMD(&b, "PHMSET", "m", "x", "FIELDS", "1", "a", "1", "y", "FIELDS", "2", "b", "2", "c", "3");
    CMD(&b, "PHMSET", "m", "x", "FIELDS", "1", "a", "9", "y", "FIELDS", "2", "b");  /* short */
    CHECK_STR(mirror_run(e, &b), "0", "phmset: applied");
    CHECK_STR(ph_dump(e, "m"), "x:a=1 y:b=2 y:c=3", "phmset: every group, a bad one nothing");
    tbuf_free(&b);
}

static void test_phdel(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "FLUSHALL");
    CMD(&b, "PHMSET", "p", "a", "FIELDS", "2", "f", "1", "g", "2", "ab", "FIELDS", "1", "f", "3",
        "abc", "FIELDS", "1", "f", "4", "b", "FIELDS", "1", "f", "5", "\xc3\xa9t\xc3\xa9",
        "FIELDS", "1", "f", "6");
    CMD(&b, "PHDEL", "p", "a", "f", "nosuch");
    CMD(&b, "PHDEL", "p", "b");                                  /* the whole path */
    CMD(&b, "PHDEL", "nokey", "a");
    CHECK_STR(mirror_run(e, &b), "0", "phdel: applied");
    CHECK_STR(ph_dump(e, "p"), "a:g=2 ab:f=3 abc:f=4 \xc3\xa9t\xc3\xa9:f=6",
              "phdel: a field, then a whole path");
    CMD(&b, "PHDELPREFIX", "p", "ab");
    CMD(&b, "PHDELPREFIX", "p", "\xc3");                         /* a prefix of bytes */
    CHECK_STR(mirror_run(e, &b), "0", "phdelprefix: applied");
    CHECK_STR(ph_dump(e, "p"), "a:g=2", "phdelprefix: paths starting with the bytes go");
    CMD(&b, "PHDEL", "p", "a", "g");                             /* the last field */
    CMD(&b, "COPY", "p", "p2");
    CHECK_STR(mirror_run(e, &b), "0", "phdel: last field");
    CHECK_STR(mirror_keyinfo(e, "p"), "path-hash/-", "phdel: an emptied path hash stays");
    CMD(&b, "PHSET", "p", "z", "FIELDS", "1", "f", "v");
    CMD(&b, "COPY", "p", "p3");
    CMD(&b, "PHDELPREFIX", "p", "");
    CHECK_STR(mirror_run(e, &b), "0", "phdelprefix '': applied");
    CHECK_STR(ph_dump(e, "p") , "", "phdelprefix '': every path goes");
    CHECK_STR(ph_dump(e, "p3"), "z:f=v", "COPY copies a path hash");
    CMD(&b, "DEL", "p3");
    CHECK_STR(mirror_run(e, &b), "0", "del: applied");
    CHECK_STR(mirror_q(e, "SELECT count(*) FROM redis_path_hashes"), "0",
              "DEL removes a path hash's rows");
    tbuf_free(&b);
}

int main(void)
{
    return mirror_test_main("cmd_pathhash.db", 0,
                            (mirror_test *const[]){ test_phset, test_phdel, NULL });
}
