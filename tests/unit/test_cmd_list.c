/*
 * test_cmd_list.c - the list commands (daemon/write/cmd_list.c) on the real
 * SQLite sink (sinks/sqlite/sqlite_list.c).
 *
 * Two parts. First, edge cases one by one, including the forms a 7.x
 * master never sends but older ones do (verbatim BRPOPLPUSH) and the
 * blocking commands applied as their immediate effect. Second, a seeded
 * random walk over long lists, checked after every command against a
 * model written from Redis' rules: it drives LINSERT and LREM through
 * both renumbering sides and checks that the redis_lists view always
 * numbers idx 0..n-1. (tests/integration/list.sh compares with a real
 * master.) Exit 0, 77 (no SQLite sink) or 99 (a check failed).
 *
 * Start reading at main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* A list as a reader sees it: "a,b,c"; "(none)" when the key is absent,
 * "(type)" when it is not a list, "(bad idx)" when idx is not 0..n-1. */
static const char *lst(struct mirror *e, const char *key)
{
    sqlite3_stmt *st;
    size_t o = 0;
    int64_t n = 0;
    int bad = 0;

    sqlite3_prepare_v2(e->rd, "SELECT type FROM redis_keys WHERE db = 0 AND key = ?1", -1,
                       &st, NULL);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return "(none)";
    }
    if (strcmp((const char *)sqlite3_column_text(st, 0), "list") != 0) {
        sqlite3_finalize(st);
        return "(type)";
    }
    sqlite3_finalize(st);
    sqlite3_prepare_v2(e->rd, "SELECT idx, value FROM redis_lists WHERE db = 0 AND key = ?1"
                       " ORDER BY idx", -1, &st, NULL);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    e->out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 0) != n++)
            bad = 1;
        o += (size_t)snprintf(e->out + o, sizeof(e->out) - o, "%s%s", o ? "," : "",
                              (const char *)sqlite3_column_text(st, 1));
        if (o >= sizeof(e->out))
            o = sizeof(e->out) - 1;
    }
    sqlite3_finalize(st);
    if (n == 0)
        return "(empty list row)";
    return bad ? "(bad idx)" : e->out;
}

/* The key's expire_at as text ("NULL" when none, "(none)" when absent). */
static const char *ttl(struct mirror *e, const char *key)
{
    sqlite3_stmt *st;

    sqlite3_prepare_v2(e->rd, "SELECT coalesce(expire_at, 'NULL') FROM redis_keys"
                       " WHERE db = 0 AND key = ?1", -1, &st, NULL);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    snprintf(e->out, sizeof(e->out), "%s",
             sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0)
                                            : "(none)");
    sqlite3_finalize(st);
    return e->out;
}

/* ------------------------------------------------------------------ */
/* Edge cases                                                          */
/* ------------------------------------------------------------------ */

static void test_pushes_pops(struct mirror *e)
{
    APPLY(e, "RPUSHX", "l", "a");                        /* no key: nothing */
    CHECK_STR(lst(e, "l"), "(none)", "RPUSHX on a missing key");
    APPLY(e, "LPUSH", "l", "a", "b", "c");
    APPLY(e, "LPUSHX", "l", "x", "y");
    APPLY(e, "RPUSHX", "l", "z");
    CHECK_STR(lst(e, "l"), "y,x,c,b,a,z", "LPUSH, LPUSHX, RPUSHX");
    APPLY(e, "SET", "s", "str");
    APPLY(e, "LPUSHX", "s", "v");
    APPLY(e, "LPUSH", "s", "v");
    CHECK_STR(lst(e, "s"), "(type)", "pushes onto a string are refused");
    APPLY(e, "LPOP", "l");
    APPLY(e, "RPOP", "l", "2");
    CHECK_STR(lst(e, "l"), "x,c,b", "LPOP, RPOP 2");
    APPLY(e, "LPOP", "l", "0");
    APPLY(e, "LPOP", "l", "-1");
    APPLY(e, "LPOP", "l", "1", "2");
    CHECK_STR(lst(e, "l"), "x,c,b", "LPOP 0, LPOP -1, LPOP with two counts change nothing");
    APPLY(e, "LPOP", "l", "2");
    CHECK_STR(lst(e, "l"), "b", "LPOP 2");
    APPLY(e, "RPOP", "l", "10");
    CHECK_STR(lst(e, "l"), "(none)", "RPOP past the length empties and deletes the key");
    APPLY(e, "LPOP", "s");
    CHECK_STR(lst(e, "s"), "(type)", "LPOP of a string is refused");
}

/* One batch: pushes and pops of existing lists stay buffered while new
 * lists are created between them (a new key's insert sends nothing
 * first); the commit sends them all, in order. */
static void test_buffered_across_new_keys(struct mirror *e)
{
    struct tbuf b = { 0 };
    char name[16], v[16];

    CMD(&b, "RPUSH", "bq", "0", "1", "2", "3");
    CHECK_STR(mirror_run(e, &b), "0", "buffered: setup");
    for (int i = 0; i < 150; i++) {
        snprintf(name, sizeof(name), "bn%d", i);
        snprintf(v, sizeof(v), "v%d", i);
        CMD(&b, "RPUSH", "bq", v);                       /* buffered */
        if (i % 10 == 9)
            CMD(&b, "RPOP", "bq");                       /* a pending pop: v<i> */
        CMD(&b, "LPUSH", name, v, "w");                  /* a new key, then its rows */
        if (i % 50 == 49)
            CMD(&b, "RPOP", name);
    }
    CMD(&b, "LPUSH", "bq", "head");
    CHECK_STR(mirror_run(e, &b), "0", "buffered: one batch");
    struct tbuf want = { 0 };

    tbuf_printf(&want, "head,0,1,2,3");
    for (int i = 0; i < 150; i++)           /* every tenth popped from the tail */
        if (i % 10 != 9)
            tbuf_printf(&want, ",v%d", i);
    CHECK_STR(lst(e, "bq"), want.p, "buffered: the queue after 150 pushes and 15 pops");
    /* the popped rows are gone from the table, not only past the view's bounds */
    char sql[160], table[32];

    snprintf(table, sizeof(table), "%s", mirror_q(e, "SELECT name FROM sqlite_master WHERE"
                                                     " type = 'table' AND name GLOB 'g*_list'"));
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE kid = (SELECT id FROM %.*skeys"
             " WHERE key = 'bq')", table, (int)strlen(table) - 4, table);
    CHECK_INT(mirror_qi(e, sql), 140, "buffered: the queue's rows in its table");
    CHECK_STR(lst(e, "bn0"), "w,v0", "buffered: a list made between two pushes");
    CHECK_STR(lst(e, "bn49"), "w", "buffered: a new list popped in the batch");
    CHECK_STR(lst(e, "bn149"), "w", "buffered: the last new list popped");
    CHECK_INT(mirror_qi(e, "SELECT count(*) FROM redis_keys WHERE key GLOB 'bn*'"), 150,
              "buffered: 150 new lists");
    CHECK_INT(mirror_qi(e, "SELECT count(*) FROM redis_lists WHERE key GLOB 'bn*'"), 297,
              "buffered: their 300 elements but 3 popped");
    tbuf_free(&want);
    tbuf_free(&b);
}

static void test_blocking_forms(struct mirror *e)
{
    APPLY(e, "RPUSH", "b1", "1", "2", "3", "4");
    APPLY(e, "RPUSH", "b2", "x", "y");
    APPLY(e, "BLPOP", "missing", "b2", "b1", "0");
    CHECK_STR(lst(e, "b2"), "y", "BLPOP pops the first list that exists");
    APPLY(e, "BRPOP", "s", "b1", "0");
    CHECK_STR(lst(e, "b1"), "1,2,3,4", "BRPOP: a string before the list is an error");
    APPLY(e, "BRPOP", "b1", "-1");
    CHECK_STR(lst(e, "b1"), "1,2,3,4", "BRPOP with a negative timeout is an error");
    APPLY(e, "BRPOP", "b1", "0.5");
    CHECK_STR(lst(e, "b1"), "1,2,3", "BRPOP");
    APPLY(e, "LMPOP", "2", "nope", "b1", "LEFT", "COUNT", "2");
    CHECK_STR(lst(e, "b1"), "3", "LMPOP 2 keys LEFT COUNT 2");
    APPLY(e, "LMPOP", "1", "b1", "RIGHT", "COUNT", "0");
    APPLY(e, "LMPOP", "1", "b1", "MIDDLE");
    APPLY(e, "LMPOP", "3", "b1", "RIGHT");
    APPLY(e, "LMPOP", "1", "b1", "RIGHT", "COUNT", "1", "COUNT", "1");
    CHECK_STR(lst(e, "b1"), "3", "LMPOP errors change nothing");
    APPLY(e, "BLMPOP", "0", "2", "b2", "b1", "right", "count", "5");
    CHECK_STR(lst(e, "b2"), "(none)", "BLMPOP empties the first list");
    CHECK_STR(lst(e, "b1"), "3", "BLMPOP leaves the second one");
    APPLY(e, "RPUSH", "q", "1", "2", "3");
    APPLY(e, "BRPOPLPUSH", "q", "r", "0");               /* 3.2 and older, verbatim */
    CHECK_STR(lst(e, "q"), "1,2", "BRPOPLPUSH: source");
    CHECK_STR(lst(e, "r"), "3", "BRPOPLPUSH: new destination");
    APPLY(e, "BLMOVE", "q", "r", "left", "right", "0");
    CHECK_STR(lst(e, "r"), "3,1", "BLMOVE left right");
    APPLY(e, "BLMOVE", "q", "r", "up", "right", "0");
    CHECK_STR(lst(e, "q"), "2", "BLMOVE with a bad direction changes nothing");
}

static void test_moves(struct mirror *e)
{
    APPLY(e, "RPUSH", "m", "a", "b", "c");
    APPLY(e, "LMOVE", "m", "m", "LEFT", "RIGHT");
    CHECK_STR(lst(e, "m"), "b,c,a", "LMOVE src == dst LEFT RIGHT rotates");
    APPLY(e, "LMOVE", "m", "m", "right", "left");
    CHECK_STR(lst(e, "m"), "a,b,c", "LMOVE src == dst right left rotates back");
    APPLY(e, "LMOVE", "m", "m", "LEFT", "LEFT");
    APPLY(e, "LMOVE", "m", "m", "RIGHT", "RIGHT");
    CHECK_STR(lst(e, "m"), "a,b,c", "LMOVE src == dst on the same side");
    APPLY(e, "RPUSH", "one", "x");
    APPLY(e, "RPOPLPUSH", "one", "one");
    CHECK_STR(lst(e, "one"), "x", "RPOPLPUSH of a one-element list onto itself keeps it");
    APPLY(e, "RPOPLPUSH", "one", "m");
    CHECK_STR(lst(e, "one"), "(none)", "RPOPLPUSH empties and deletes the source");
    CHECK_STR(lst(e, "m"), "x,a,b,c", "RPOPLPUSH pushes at the destination's head");
    APPLY(e, "LMOVE", "m", "s", "LEFT", "LEFT");
    CHECK_STR(lst(e, "m"), "x,a,b,c", "LMOVE to a string: nothing is popped");
    APPLY(e, "LMOVE", "nokey", "m", "LEFT", "LEFT");
    CHECK_STR(lst(e, "m"), "x,a,b,c", "LMOVE from a missing key: nothing");
    APPLY(e, "LMOVE", "m", "m", "LEFT", "SIDEWAYS");
    CHECK_STR(lst(e, "m"), "x,a,b,c", "LMOVE with a bad direction: nothing");
    /* TTLs: the source keeps its own; a new destination has none; an
     * existing destination keeps its own */
    APPLY(e, "PEXPIREAT", "m", "99999999999999");
    APPLY(e, "RPUSH", "t", "1");
    APPLY(e, "PEXPIREAT", "t", "88888888888888");
    APPLY(e, "LMOVE", "m", "fresh", "RIGHT", "LEFT");
    APPLY(e, "LMOVE", "m", "t", "RIGHT", "LEFT");
    APPLY(e, "LPUSH", "m", "p");
    APPLY(e, "RPOP", "m");
    CHECK_STR(ttl(e, "m"), "99999999999999", "pushes, pops and moves keep the source's TTL");
    CHECK_STR(ttl(e, "fresh"), "NULL", "LMOVE creates the destination without a TTL");
    CHECK_STR(ttl(e, "t"), "88888888888888", "LMOVE keeps an existing destination's TTL");
    CHECK_STR(lst(e, "t"), "b,1", "LMOVE onto an existing list");
    CHECK_STR(lst(e, "m"), "p,x", "the source after the moves");
}

static void test_edits(struct mirror *e)
{
    APPLY(e, "RPUSH", "e", "a", "b", "a", "c", "a", "d");
    APPLY(e, "LINSERT", "e", "BEFORE", "a", "X");
    CHECK_STR(lst(e, "e"), "X,a,b,a,c,a,d", "LINSERT BEFORE the first match");
    APPLY(e, "LINSERT", "e", "after", "a", "Y");
    CHECK_STR(lst(e, "e"), "X,a,Y,b,a,c,a,d", "LINSERT after (lower case) the first match");
    APPLY(e, "LINSERT", "e", "AFTER", "d", "Z");
    APPLY(e, "LINSERT", "e", "AFTER", "nope", "W");
    APPLY(e, "LINSERT", "e", "AROUND", "a", "W");
    APPLY(e, "LINSERT", "nokey", "AFTER", "a", "W");
    CHECK_STR(lst(e, "e"), "X,a,Y,b,a,c,a,d,Z", "LINSERT at the tail; missing pivot, bad word");
    CHECK_STR(lst(e, "nokey"), "(none)", "LINSERT on a missing key creates nothing");
    APPLY(e, "LSET", "e", "-1", "z");
    APPLY(e, "LSET", "e", "0", "x");
    APPLY(e, "LSET", "e", "9", "out");
    APPLY(e, "LSET", "e", "-10", "out");
    APPLY(e, "LSET", "nokey", "0", "out");
    APPLY(e, "LSET", "e", "1x", "out");
    CHECK_STR(lst(e, "e"), "x,a,Y,b,a,c,a,d,z", "LSET, negative index, out of range");
    APPLY(e, "LREM", "e", "-1", "a");
    CHECK_STR(lst(e, "e"), "x,a,Y,b,a,c,d,z", "LREM -1 removes the last match");
    APPLY(e, "LREM", "e", "1", "a");
    CHECK_STR(lst(e, "e"), "x,Y,b,a,c,d,z", "LREM 1 removes the first match");
    APPLY(e, "RPUSH", "e", "a", "a");
    APPLY(e, "LREM", "e", "0", "a");
    CHECK_STR(lst(e, "e"), "x,Y,b,c,d,z", "LREM 0 removes all");
    APPLY(e, "LREM", "e", "0", "absent");
    CHECK_STR(lst(e, "e"), "x,Y,b,c,d,z", "LREM without a match");
    APPLY(e, "LTRIM", "e", "1", "-2");
    CHECK_STR(lst(e, "e"), "Y,b,c,d", "LTRIM 1 -2");
    APPLY(e, "LTRIM", "e", "-100", "100");
    CHECK_STR(lst(e, "e"), "Y,b,c,d", "LTRIM wider than the list");
    APPLY(e, "LTRIM", "e", "2", "1");
    CHECK_STR(lst(e, "e"), "(none)", "LTRIM with start > stop deletes the key");
    APPLY(e, "RPUSH", "e", "1", "2", "3");
    APPLY(e, "LTRIM", "e", "5", "10");
    CHECK_STR(lst(e, "e"), "(none)", "LTRIM past the end deletes the key");
    APPLY(e, "RPUSH", "e", "1", "2", "3");
    APPLY(e, "LTRIM", "e", "0", "-4");
    CHECK_STR(lst(e, "e"), "(none)", "LTRIM 0 -4 of three deletes the key");
    APPLY(e, "RPUSH", "e", "1", "2", "3");
    APPLY(e, "LTRIM", "e", "-1", "-1");
    CHECK_STR(lst(e, "e"), "3", "LTRIM -1 -1");
    APPLY(e, "LREM", "e", "-5", "3");
    CHECK_STR(lst(e, "e"), "(none)", "LREM of the last element deletes the key");
}

/* Bytes that are not text, and NULs: LREM and LINSERT compare all bytes. */
static void test_binary(struct mirror *e)
{
    struct rs_bytes argv[6] = {
        { "RPUSH", 5 }, { "bin", 3 }, { "a\0b", 3 }, { "a\0c", 3 }, { "\xff", 1 }, { "a", 1 },
    };
    struct rs_bytes rem[4] = { { "LREM", 4 }, { "bin", 3 }, { "0", 1 }, { "a\0c", 3 } };
    struct rs_bytes ins[5] = {
        { "LINSERT", 7 }, { "bin", 3 }, { "BEFORE", 6 }, { "\xff", 1 }, { "", 0 },
    };
    sqlite3_stmt *st;

    apply_command(e->a, 6, argv, 40);
    apply_command(e->a, 4, rem, 40);
    apply_command(e->a, 5, ins, 40);
    apply_flush(e->a);
    sqlite3_prepare_v2(e->rd, "SELECT group_concat(hex(value), ',') FROM (SELECT value FROM"
                       " redis_lists WHERE key = 'bin' ORDER BY idx)", -1, &st, NULL);
    sqlite3_step(st);
    snprintf(e->out, sizeof(e->out), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    CHECK_STR(e->out, "610062,,FF,61", "binary elements: LREM and LINSERT match all bytes");
}

/* ------------------------------------------------------------------ */
/* Random walk against a model                                         */
/* ------------------------------------------------------------------ */

#define NKEYS 3
#define MAXLEN 4096

/* The model: each list an array of short strings (a missing key is an
 * empty list, as in Redis). */
struct model {
    char v[NKEYS][MAXLEN][8];
    long n[NKEYS];
};

static void m_insert(struct model *m, int k, long at, const char *v)
{
    memmove(m->v[k][at + 1], m->v[k][at], (size_t)(m->n[k] - at) * 8);
    snprintf(m->v[k][at], 8, "%s", v);
    m->n[k]++;
}

static void m_remove(struct model *m, int k, long at)
{
    memmove(m->v[k][at], m->v[k][at + 1], (size_t)(m->n[k] - at - 1) * 8);
    m->n[k]--;
}

static const char *m_show(struct model *m, int k, char *buf, size_t size)
{
    size_t o = 0;

    if (m->n[k] == 0)
        return "(none)";
    buf[0] = '\0';
    for (long i = 0; i < m->n[k] && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? "," : "", m->v[k][i]);
    return buf;
}

/* Redis' rules, on the model. 'args' is what the applier gets. */
static void m_apply(struct model *m, const char **args, int argc, int k, int k2)
{
    const char *c = args[0];
    long n = m->n[k];

    if (!strcmp(c, "LPUSH") || !strcmp(c, "RPUSH")) {
        for (int i = 2; i < argc; i++)
            m_insert(m, k, c[0] == 'L' ? 0 : m->n[k], args[i]);
    } else if (!strcmp(c, "LPOP") || !strcmp(c, "RPOP")) {
        for (long cnt = atol(args[2]); cnt > 0 && m->n[k] > 0; cnt--)
            m_remove(m, k, c[0] == 'L' ? 0 : m->n[k] - 1);
    } else if (!strcmp(c, "LINSERT")) {
        for (long i = 0; i < n; i++)
            if (!strcmp(m->v[k][i], args[3])) {
                m_insert(m, k, i + (args[2][0] == 'A'), args[4]);
                break;
            }
    } else if (!strcmp(c, "LSET")) {
        long i = atol(args[2]);

        if (i < 0)
            i += n;
        if (i >= 0 && i < n)
            snprintf(m->v[k][i], 8, "%s", args[3]);
    } else if (!strcmp(c, "LREM")) {
        long cnt = atol(args[2]), todo = cnt == 0 ? n : cnt < 0 ? -cnt : cnt;

        if (cnt >= 0) {
            for (long i = 0; i < m->n[k] && todo > 0;) {
                if (strcmp(m->v[k][i], args[3]) != 0) {
                    i++;
                    continue;
                }
                m_remove(m, k, i);
                todo--;
            }
        } else {
            for (long i = n - 1; i >= 0 && todo > 0; i--) {
                if (strcmp(m->v[k][i], args[3]) == 0) {
                    m_remove(m, k, i);
                    todo--;
                }
            }
        }
    } else if (!strcmp(c, "LTRIM")) {
        long s = atol(args[2]), t = atol(args[3]);

        if (s < 0)
            s += n;
        if (t < 0)
            t += n;
        if (s < 0)
            s = 0;
        if (s > t || s >= n) {
            m->n[k] = 0;
        } else {
            if (t >= n)
                t = n - 1;
            memmove(m->v[k][0], m->v[k][s], (size_t)(t - s + 1) * 8);
            m->n[k] = t - s + 1;
        }
    } else if (!strcmp(c, "LMOVE") && n > 0) {
        char v[8];
        long from = args[3][0] == 'L' ? 0 : n - 1;

        snprintf(v, sizeof(v), "%s", m->v[k][from]);
        m_remove(m, k, from);
        m_insert(m, k2, args[4][0] == 'L' ? 0 : m->n[k2], v);
    }
}

static void test_random_walk(struct mirror *e, unsigned seed, int steps)
{
    static struct model m;
    static const char *keys[NKEYS] = { "w0", "w1", "w2" };
    static const char *vals[] = { "a", "b", "c", "d", "e" };
    char nbuf[2][32], want[65536], why[1024] = "";
    const char *args[16];
    int bad = 0;

    memset(&m, 0, sizeof(m));
    APPLY(e, "DEL", keys[0], keys[1], keys[2]);
    srand(seed);
    for (int step = 0; step < steps && !bad; step++) {
        int k = rand() % NKEYS, k2 = rand() % NKEYS, argc = 2, op = rand() % 100;

        args[1] = keys[k];
        if (op < 30 && m.n[k] < MAXLEN - 40) {       /* grow: up to 30 per push */
            args[0] = rand() % 2 ? "LPUSH" : "RPUSH";
            for (int i = rand() % 30 + 1; i > 0 && argc < 16; i--)
                args[argc++] = vals[rand() % 5];
        } else if (op < 38) {
            args[0] = rand() % 2 ? "LPOP" : "RPOP";
            snprintf(nbuf[0], sizeof(nbuf[0]), "%d", rand() % 5);
            args[argc++] = nbuf[0];
        } else if (op < 58 && m.n[k] < MAXLEN - 40) {
            args[0] = "LINSERT";
            args[argc++] = rand() % 2 ? "AFTER" : "BEFORE";
            /* rarer pivots (earlier insertions) often match past the
             * middle: the tail side moves then */
            args[argc++] = rand() % 2 ? vals[rand() % 5] : rand() % 2 ? "N" : "M";
            args[argc++] = rand() % 2 ? "N" : "M";
        } else if (op < 68) {
            args[0] = "LSET";
            snprintf(nbuf[0], sizeof(nbuf[0]), "%ld", rand() % (2 * m.n[k] + 3) - m.n[k] - 1);
            args[argc++] = nbuf[0];
            args[argc++] = vals[rand() % 5];
        } else if (op < 84) {
            args[0] = "LREM";
            snprintf(nbuf[0], sizeof(nbuf[0]), "%d", rand() % 7 - 3);
            args[argc++] = nbuf[0];
            args[argc++] = rand() % 3 ? "N" : vals[rand() % 5];
        } else if (op < 90) {
            args[0] = "LTRIM";
            snprintf(nbuf[0], sizeof(nbuf[0]), "%d", rand() % 8 - 2);
            snprintf(nbuf[1], sizeof(nbuf[1]), "%ld", m.n[k] - rand() % 6 - (rand() % 2 ? m.n[k] : 0));
            args[argc++] = nbuf[0];
            args[argc++] = nbuf[1];
        } else {
            args[0] = "LMOVE";
            args[argc++] = keys[k2];
            args[argc++] = rand() % 2 ? "LEFT" : "RIGHT";
            args[argc++] = rand() % 2 ? "LEFT" : "RIGHT";
        }
        m_apply(&m, args, argc, k, k2);
        if (strcmp(mirror_applyv(e, argc, args), "0") != 0) {
            snprintf(why, sizeof(why), " (step %d: %s failed)", step, args[0]);
            bad = 1;
        }
        for (int j = 0; j < NKEYS && !bad; j++) {
            const char *got = lst(e, keys[j]), *w = m_show(&m, j, want, sizeof(want));

            if (strcmp(got, w) != 0) {
                snprintf(why, sizeof(why), " (step %d, %s %s: key %s is\n#  %.300s\n# want"
                         "\n#  %.300s)", step, args[0], args[1], keys[j], got, w);
                bad = 1;
            }
        }
    }
    CHECK(!bad, "random walk seed %u: %d commands, every list equals the model with"
          " idx 0..n-1%s", seed, steps, why);
}

static void test_random_walks(struct mirror *e)
{
    for (unsigned seed = 1; seed <= 3; seed++)
        test_random_walk(e, seed, 1500);
}

int main(void)
{
    /* strict: an unknown command fails */
    return mirror_test_main("cmd_list.db", 1, (mirror_test *const[]){
        test_pushes_pops, test_buffered_across_new_keys, test_blocking_forms, test_moves, test_edits, test_binary,
        test_random_walks, NULL });
}
