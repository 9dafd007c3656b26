/*
 * test_cmd_sort.c - SORT ... STORE (daemon/write/cmd_sort.c) on the real
 * SQLite sink, its expected results taken from redis-server 7.0.15: numeric
 * and ALPHA order, LIMIT, BY and GET patterns (keys and hash fields),
 * lists, sets and sorted sets, the refused forms.
 *
 * Exit 0 (all passed), 77 (no sink could be opened) or 99 (a check
 * failed). Start reading at main().
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* A list as "a|b|c" (bytes outside printable ASCII as \xNN), "(none)"
 * when there is no such key. */
static const char *list_of(struct mirror *e, const char *key)
{
    sqlite3_stmt *st;
    size_t o = 0;
    int rows = 0;

    sqlite3_prepare_v2(e->rd, "SELECT value FROM redis_lists WHERE db = 0 AND key = ?1"
                              " ORDER BY idx", -1, &st, NULL);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    e->out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);

        if (rows++)
            o += (size_t)snprintf(e->out + o, sizeof(e->out) - o, "|");
        for (int i = 0; i < n && o + 8 < sizeof(e->out); i++)
            o += (size_t)snprintf(e->out + o, sizeof(e->out) - o,
                                  v[i] >= 0x20 && v[i] < 0x7f ? "%c" : "\\x%02x", v[i]);
    }
    sqlite3_finalize(st);
    return rows ? e->out : "(none)";
}

/* Reset the STORE key to a one-element list, as the reference run did. */
static void sort_case(struct mirror *e, const char *want, const char *what, ...)
{
    const char *args[32];
    int argc = 0;
    va_list ap;

    APPLY(e, "DEL", "o");
    APPLY(e, "RPUSH", "o", "old");
    va_start(ap, what);
    while ((args[argc] = va_arg(ap, const char *)) != NULL)
        argc++;
    va_end(ap);
    CHECK(strcmp(mirror_applyv(e, argc, args), "0") == 0, "%s: applied", what);
    CHECK_STR(list_of(e, "o"), want, what);
}

#define SORT_CASE(e, want, what, ...) sort_case((e), (want), (what), __VA_ARGS__, (const char *)NULL)

static void test_sort(struct mirror *e)
{
    APPLY(e, "RPUSH", "n", "3", "1", "10", "2", "-5", " 7", "0x10",
        "1e1", "2", "", "+4");
    APPLY(e, "RPUSH", "w", "b", "a", "B", "", "aa", "10", "9",
        "\\xff", "a\\x00");
    APPLY(e, "RPUSH", "bad", "1", "x", "2");
    APPLY(e, "MSET", "wt_3", "30", "wt_1", "10", "wt_10", "-1", "wt_2",
        "20", "wt_", "5");
    APPLY(e, "HSET", "hw_3", "f", "c", "g", "x");
    APPLY(e, "HSET", "hw_1", "f", "a", "g", "x");
    APPLY(e, "SADD", "st", "c", "a", "b", "10", "2");
    APPLY(e, "ZADD", "z", "1", "c", "1", "b", "0", "z", "2", "a");

    /* expectations: redis-server 7.0.15 after the same commands */
    SORT_CASE(e, "-5||1|2|2|3|+4| 7|10|1e1|0x10", "SORT numeric: strtod, ties by bytes",
              "SORT", "n", "STORE", "o");
    SORT_CASE(e, "0x10|1e1|10| 7|+4|3|2|2|1||-5", "SORT DESC", "SORT", "n", "DESC", "STORE", "o");
    SORT_CASE(e, "1|2|2", "SORT LIMIT 2 3", "SORT", "n", "LIMIT", "2", "3", "STORE", "o");
    SORT_CASE(e, "|10|9|B|a|a\\x00|aa|b|\\xff", "SORT ALPHA: binary order", "SORT", "w",
              "ALPHA", "STORE", "o");
    SORT_CASE(e, "b|aa|a\\x00|a|B|9|10|", "SORT ALPHA DESC LIMIT 1 -1", "SORT", "w", "ALPHA",
              "DESC", "LIMIT", "1", "-1", "STORE", "o");
    SORT_CASE(e, "|2|1e1", "SORT BY nosort DESC LIMIT on a list", "SORT", "n", "BY", "nosort",
              "DESC", "LIMIT", "1", "3", "STORE", "o");
    SORT_CASE(e, "10||| 7|||+4|||-5|||0x10|||1e1||||||1|a||2|||2|||3|c|",
              "SORT BY wt_* GET # GET hw_*->f GET nostar", "SORT", "n", "BY", "wt_*", "GET", "#",
              "GET", "hw_*->f", "GET", "nostar", "STORE", "o");
    SORT_CASE(e, "-1|20|||||20|5||30|10", "SORT BY hw_*->g ALPHA GET wt_* (ties in input order)",
              "SORT", "n", "BY", "hw_*->g", "ALPHA", "GET", "wt_*", "STORE", "o");
    SORT_CASE(e, "10|2|a|b|c", "SORT of a set BY nosort STORE: forced ALPHA", "SORT", "st", "BY",
              "nosort", "STORE", "o");
    SORT_CASE(e, "old", "SORT of a set with non-numbers: refused", "SORT", "st", "STORE", "o");
    SORT_CASE(e, "z|c|b|a", "SORT zset DESC ALPHA", "SORT", "z", "DESC", "ALPHA", "STORE", "o");
    SORT_CASE(e, "a|c|b|z", "SORT zset BY nosort DESC: score order reversed", "SORT", "z", "BY",
              "nosort", "DESC", "STORE", "o");
    SORT_CASE(e, "b|c", "SORT zset BY nosort LIMIT 1 2", "SORT", "z", "BY", "nosort", "LIMIT",
              "1", "2", "STORE", "o");
    SORT_CASE(e, "(none)", "SORT LIMIT past the end: empty result deletes dst", "SORT", "n",
              "LIMIT", "20", "5", "STORE", "o");
    SORT_CASE(e, "old", "SORT numeric of 'x': refused", "SORT", "bad", "STORE", "o");
    SORT_CASE(e, "(none)", "SORT of a missing key deletes dst", "SORT", "nokey", "STORE", "o");
    SORT_CASE(e, "old", "SORT of a string: WRONGTYPE", "SORT", "wt_1", "STORE", "o");
    CHECK(mirror_qi(e, "SELECT count(*) FROM redis_keys WHERE key = 'o'"
                       " AND expire_at IS NOT NULL") == 0,
          "SORT STORE leaves no TTL");
}

int main(void)
{
    return mirror_test_main("cmd_sort.db", 0, (mirror_test *const[]){ test_sort, NULL });
}
