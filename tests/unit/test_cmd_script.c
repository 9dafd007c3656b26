/*
 * test_cmd_script.c - scripts and functions (daemon/write/cmd_script.c) on
 * the real SQLite sink: FUNCTION LOAD/DELETE/FLUSH, SCRIPT LOAD; EVAL and
 * EVALSHA from an old master stop the applier before their bytes count.
 *
 * Exit 0 (all passed), 77 (no sink could be opened) or 99 (a check
 * failed). Start reading at main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_function(struct mirror *e)
{
    APPLY(e, "FUNCTION", "LOAD",
          "#!lua name=lib1\nredis.register_function('f', function() return 1 end)");
    APPLY(e, "FUNCTION", "LOAD", "REPLACE",
          "#!lua name=lib2\nredis.register_function('g', function() return 1 end)");
    APPLY(e, "FUNCTION", "LOAD",
          "#!lua name=lib3\nredis.register_function('h', function() return 1 end)");
    CHECK(mirror_qi(e, "SELECT count(*) FROM g1_func") == 3, "FUNCTION LOAD stores libraries");
    APPLY(e, "FUNCTION", "DELETE", "lib2");
    CHECK(mirror_qi(e, "SELECT count(*) FROM g1_func WHERE name = 'lib2'") == 0 &&
          mirror_qi(e, "SELECT count(*) FROM g1_func") == 2, "FUNCTION DELETE lib2");
    APPLY(e, "FLUSHALL");
    CHECK(mirror_qi(e, "SELECT count(*) FROM g1_func") == 2, "FLUSHALL keeps functions");
    APPLY(e, "FUNCTION", "FLUSH", "ASYNC");
    CHECK(mirror_qi(e, "SELECT count(*) FROM g1_func") == 0, "FUNCTION FLUSH removes them all");
    CHECK_STR(APPLY(e, "SCRIPT", "LOAD", "return 1"), "0", "SCRIPT LOAD: ignored");
}

/* ------------------------------------------------------------------ */
/* EVAL stops the applier                                             */
/* ------------------------------------------------------------------ */

static void test_eval(struct mirror *e, const char *raw, const char *what)
{
    int64_t before;

    APPLY(e, "SET", "before", "1");
    before = apply_applied(e->a)->offset;
    CHECK(mirror_feed(e, raw, strlen(raw), 0) == -1, "%s: apply_command returns -1", what);
    CHECK(apply_error(e->a)->code == RS_E_UNSUPPORTED &&
          strstr(apply_error(e->a)->msg, "redis.replicate_commands()") &&
          strstr(apply_error(e->a)->msg, "3.0"),
          "%s: the error names the master setting: %s", what, apply_error(e->a)->msg);
    CHECK(apply_applied(e->a)->offset == before && apply_committed(e->a)->offset == before,
          "%s: its bytes are not counted", what);
    CHECK(mirror_qi(e, "SELECT count(*) FROM redis_keys WHERE key = 'before'") == 1,
                       "%s: what came before it stays committed", what);
}

/* Last on the mirror: the applier's error is sticky. */
static void test_eval_old(struct mirror *e)
{
    test_eval(e, "*3\r\n$4\r\nEVAL\r\n$25\r\nredis.call('set','a','1')\r\n$1\r\n0\r\n",
              "EVAL from an old master");
}

/* On a mirror of its own. */
static void test_evalsha(struct mirror *unused)
{
    struct mirror e;

    (void)unused;
    if (mirror_open(&e, "evalsha.db", 0, 0) != 0) {
        CHECK(0, "evalsha: open");
        return;
    }
    test_eval(&e, "*3\r\n$7\r\nevalsha\r\n$40\r\n0123456789012345678901234567890123456789\r\n"
                  "$1\r\n0\r\n", "EVALSHA");
    mirror_close(&e);
}

int main(void)
{
    return mirror_test_main("cmd_script.db", 0, (mirror_test *const[]){
        test_function, test_eval_old, test_evalsha, NULL });
}
