/*
 * test_cmd_array.c - Redis 8.8's array commands (daemon/write/cmd_array.c,
 * t_array.c) on the real SQLite sink, and the redis_arrays view.
 *
 * Exit 0 (all passed), 77 (no sink could be opened) or 99 (a check
 * failed). Start reading at main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Array 'key' as "idx=value,..." by index, and its cursor ("-": none). */
static const char *array_dump(struct mirror *e, const char *key)
{
    char sql[640];

    snprintf(sql, sizeof(sql),
             "SELECT coalesce((SELECT group_concat(x, ',') FROM (SELECT idx || '=' || value AS x"
             " FROM redis_arrays WHERE key = '%s' AND db = 0 ORDER BY typeof(idx) = 'text',"
             " length(idx), idx)), '') || ' c' || coalesce((SELECT CASE WHEN m.cursor < 0 THEN"
             " m.cursor + 9223372036854775807 + 1 ELSE 'big' END FROM g%lld_ameta m"
             " JOIN g%lld_keys k ON k.id = m.kid WHERE k.key = '%s' AND k.db = 0), '-')",
             key, atoll(mirror_q(e, "SELECT generation FROM redsink_status")),
             atoll(mirror_q(e, "SELECT generation FROM redsink_status")), key);
    return mirror_q(e, sql);
}

static void test_arrays(struct mirror *e)
{
    struct tbuf b = { 0 };

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
    CHECK_STR(mirror_run(e, &b), "0", "array: ARSET/ARMSET applied");
    CHECK_STR(mirror_keyinfo(e, "arr"), "array/-", "array: redis_keys type 'array'");
    CHECK_STR(array_dump(e, "arr"),
              "0=zero,3=X,4=y,5=1.50,7=seven,10=ten,9223372036854775808=mid,"
              "18446744073709551614=top c-",
              "array: values as given, indexes up to 2^64-2 (TEXT past 2^63-1)");
    CHECK_STR(mirror_q(e, "SELECT typeof(idx) FROM redis_arrays WHERE key = 'arr' AND value = 'X'"),
              "integer", "array: an index below 2^63 is an INTEGER");

    CMD(&b, "ARDEL", "arr", "3", "99", "18446744073709551614");
    CMD(&b, "ARDEL", "arr", "4", "x");                              /* bad index: nothing */
    CMD(&b, "ARDELRANGE", "arr", "10", "5", "9223372036854775808", "9223372036854775808");
    CMD(&b, "ARDELRANGE", "arr", "1", "2", "3");                    /* odd: refused */
    CMD(&b, "ARDEL", "nokey", "1");
    CHECK_STR(mirror_run(e, &b), "0", "array: ARDEL/ARDELRANGE applied");
    CHECK_STR(array_dump(e, "arr"), "0=zero,4=y c-", "array: deletes, ranges in either order");

    CMD(&b, "ARINSERT", "arr", "p", "q");                           /* no cursor: from 0 */
    CMD(&b, "ARINSERT", "arr", "r");
    CMD(&b, "ARSEEK", "arr", "100");
    CMD(&b, "ARINSERT", "arr", "s");
    CMD(&b, "ARSEEK", "nokey", "5");                              /* creates nothing */
    CMD(&b, "ARSEEK", "arr", "x");                                  /* refused */
    CHECK_STR(mirror_run(e, &b), "0", "array: ARINSERT/ARSEEK applied");
    CHECK_STR(array_dump(e, "arr"), "0=p,1=q,2=r,4=y,100=s c100",
              "array: ARINSERT follows its cursor, ARSEEK moves it");
    CMD(&b, "ARSEEK", "arr", "18446744073709551615");              /* terminal cursor */
    CMD(&b, "ARINSERT", "arr", "no");                               /* overflow: refused */
    CMD(&b, "ARSEEK", "arr", "0");
    CMD(&b, "ARINSERT", "arr", "P");
    CHECK_STR(mirror_run(e, &b), "0", "array: cursor edge cases applied");
    CHECK_STR(array_dump(e, "arr"), "0=P,1=q,2=r,4=y,100=s c0",
              "array: ARSEEK 0 restarts at 0, the terminal cursor refuses ARINSERT");

    /* ARRING: a ring of 3, then shrink to 2, then grow after a wrap */
    CMD(&b, "ARRING", "r", "3", "a", "b", "c", "d");
    CHECK_STR(mirror_run(e, &b), "0", "array: ARRING applied");
    CHECK_STR(array_dump(e, "r"), "0=d,1=b,2=c c0",
              "array: ARRING wraps modulo the size");
    CMD(&b, "ARRING", "r", "2", "e");
    CHECK_STR(mirror_run(e, &b), "0", "array: ARRING shrink applied");
    CHECK_STR(array_dump(e, "r"), "0=e,1=d c0",
              "array: a shrink keeps the newest (c, d), oldest first, then writes");
    CMD(&b, "ARRING", "r", "4", "f");
    CHECK_STR(mirror_run(e, &b), "0", "array: ARRING grow applied");
    CHECK_STR(array_dump(e, "r"), "0=d,1=e,2=f c2",
              "array: a grow after a wrap rewrites d, e in order first");
    CMD(&b, "ARRING", "r", "0", "x");                             /* refused */
    CMD(&b, "ARRING", "r", "x", "x");                             /* refused */
    CMD(&b, "SET", "s", "v");
    CMD(&b, "ARSET", "s", "0", "v");                              /* WRONGTYPE */
    CMD(&b, "ARRING", "s", "2", "v");                             /* WRONGTYPE */
    CHECK_STR(mirror_run(e, &b), "0", "array: refused forms skipped");
    CHECK_STR(mirror_keyinfo(e, "s"), "string/-", "array: WRONGTYPE leaves the string");

    CMD(&b, "COPY", "r", "r2");
    CMD(&b, "ARINSERT", "r2", "g");
    CMD(&b, "ARDELRANGE", "r", "0", "18446744073709551614");
    CHECK_STR(mirror_run(e, &b), "0", "array: COPY and emptying applied");
    CHECK_STR(array_dump(e, "r2"), "0=d,1=e,2=f,3=g c3",
              "array: COPY copies the elements and the cursor");
    CHECK_STR(mirror_keyinfo(e, "r"), "", "array: an emptied array is deleted");
    tbuf_free(&b);
}

int main(void)
{
    return mirror_test_main("cmd_array.db", 0, (mirror_test *const[]){ test_arrays, NULL });
}
