/*
 * test_cmd_zset.c - the sorted-set commands (daemon/write/cmd_zset.c) on
 * the real SQLite sink: ZADD's NX/XX/GT/LT/CH/INCR, infinite scores, the
 * forms it rejects, ZREM.
 *
 * Exit 0 (all passed), 77 (no sink could be opened) or 99 (a check
 * failed). Start reading at main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_zsets(struct mirror *e)
{
    struct tbuf b = { 0 };

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
    CHECK_STR(mirror_run(e, &b), "0", "zsets: applied");
    CHECK_STR(mirror_q(e, "SELECT member, score FROM redis_zsets WHERE key = 'z' ORDER BY member"),
              "a,0.5;b,20.0;c,4.25;hi,Inf;lo,-Inf;new,5.0",
              "zsets: NX/XX/GT/LT/CH/INCR, inf scores, rejected forms change nothing");
    CHECK_STR(mirror_q(e, "SELECT count(*) FROM redis_keys WHERE key IN ('zx', 'z2')"), "0",
                          "zsets: ZADD XX creates no key, ZREM of the last member deletes it");
    tbuf_free(&b);
}

int main(void)
{
    return mirror_test_main("cmd_zset.db", 0, (mirror_test *const[]){ test_zsets, NULL });
}
