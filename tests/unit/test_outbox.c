/*
 * test_outbox.c - the outbox the PostgreSQL downstream is fed from
 * (sinks/sqlite/sqlite_outbox.c, sinks/shipper.h), on a temporary mirror:
 *  - replay: a copy of the mirror taken when the outbox is enabled, with
 *    every outbox changeset applied in seq order, shows the same views
 *    as the mirror after a mixed workload (every type, overwrites,
 *    deletes, expiry, binary bytes, a MULTI block, a big value);
 *  - one row per committed transaction, none for a rolled-back one or a
 *    read-only one, with the transaction's checkpoint; seq never reused;
 *  - pruning up to the shipped seq, and the size limit dropping it all.
 *
 * Exit status: 0 pass, 77 skip, 99 fail.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "harness.h"

static int64_t shipped_upto;

static int64_t shipped(void *arg)
{
    (void)arg;
    return shipped_upto;
}

/* The views a reader sees, as one text (binary bytes as hex). */
static const char *const views_sql =
    "SELECT group_concat(r, ';') FROM ("
    " SELECT 'k' || db || hex(key) || type || ifnull(expire_at, '-') AS r FROM redis_keys"
    " UNION ALL SELECT 's' || db || hex(key) || '=' || hex(value) FROM redis_strings"
    " UNION ALL SELECT 'h' || hex(key) || hex(field) || '=' || hex(value) || ifnull(expire_at, '')"
    "  FROM redis_hashes"
    " UNION ALL SELECT 'l' || hex(key) || idx || '=' || hex(value) FROM redis_lists"
    " UNION ALL SELECT 'S' || hex(key) || hex(member) FROM redis_sets"
    " UNION ALL SELECT 'z' || hex(key) || hex(member) || score FROM redis_zsets"
    " UNION ALL SELECT 'x' || hex(key) || id || pos || hex(field) || hex(value) FROM redis_streams"
    " ORDER BY r)";

static char *views_of(sqlite3 *db)
{
    sqlite3_stmt *st;
    char *out = NULL;

    if (sqlite3_prepare_v2(db, views_sql, -1, &st, NULL) != SQLITE_OK)
        return strdup(sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        out = strdup(sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
    sqlite3_finalize(st);
    return out;
}

static int on_conflict(void *ctx, int why, sqlite3_changeset_iter *it)
{
    int *conflicts = ctx;

    (void)it;
    (void)why;
    (*conflicts)++;
    return SQLITE_CHANGESET_ABORT;
}

/* Apply every outbox row of 'src' with seq > after, in order, to 'dst'. */
static int replay(sqlite3 *src, sqlite3 *dst, int64_t after, int *conflicts)
{
    sqlite3_stmt *st;
    char sql[128];
    int n = 0;

    snprintf(sql, sizeof(sql), "SELECT changeset FROM redsink_outbox WHERE seq > %lld"
             " ORDER BY seq", (long long)after);
    if (sqlite3_prepare_v2(src, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int rc = sqlite3changeset_apply(dst, sqlite3_column_bytes(st, 0),
                                        (void *)sqlite3_column_blob(st, 0), NULL,
                                        on_conflict, conflicts);
        CHECK(rc == SQLITE_OK, "changeset %d applies: %s", n, sqlite3_errmsg(dst));
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

static void workload(struct mirror *m)
{
    struct tbuf b = { 0 };
    char *big = malloc((1 << 20) + 7);

    CHECK_STR(APPLY(m, "SET", "s1", "hello"), "0", "SET");
    CHECK_STR(APPLY(m, "SET", "bin\\x00\\xff", "\\x00\\x01\\xfe"), "0", "SET binary");
    CHECK_STR(APPLY(m, "HSET", "h", "f1", "v1", "f2", "v2", "f\\xff", "\\xc3\\xa9"), "0",
              "HSET");
    CHECK_STR(APPLY(m, "HSET", "h", "f1", "v1b"), "0", "HSET overwrite");
    CHECK_STR(APPLY(m, "HDEL", "h", "f2"), "0", "HDEL");
    CHECK_STR(APPLY(m, "RPUSH", "l", "a", "b", "c", "d"), "0", "RPUSH");
    CHECK_STR(APPLY(m, "LPOP", "l"), "0", "LPOP");
    CHECK_STR(APPLY(m, "LPUSH", "l", "z"), "0", "LPUSH");
    CHECK_STR(APPLY(m, "SADD", "st", "x", "y", "w"), "0", "SADD");
    CHECK_STR(APPLY(m, "SREM", "st", "y"), "0", "SREM");
    CHECK_STR(APPLY(m, "ZADD", "z", "1", "a", "2.5", "b"), "0", "ZADD");
    CHECK_STR(APPLY(m, "ZINCRBY", "z", "3", "a"), "0", "ZINCRBY");
    CHECK_STR(APPLY(m, "XADD", "x", "1-1", "f", "v", "g", "w"), "0", "XADD");
    CHECK_STR(APPLY(m, "XADD", "x", "2-0", "f", "v2"), "0", "XADD 2");
    CHECK_STR(APPLY(m, "XDEL", "x", "1-1"), "0", "XDEL");
    CHECK_STR(APPLY(m, "PEXPIREAT", "s1", "99999999999999"), "0", "PEXPIREAT");
    CHECK_STR(APPLY(m, "RENAME", "st", "st2"), "0", "RENAME");
    CHECK_STR(APPLY(m, "SET", "gone", "1"), "0", "SET gone");
    CHECK_STR(APPLY(m, "DEL", "gone"), "0", "DEL");
    /* a MULTI block: one transaction */
    CMD(&b, "MULTI");
    CMD(&b, "INCR", "ctr");
    CMD(&b, "INCR", "ctr");
    CMD(&b, "APPEND", "s1", " world");
    CMD(&b, "EXEC");
    CHECK_STR(mirror_run(m, &b), "0", "MULTI block");
    /* a big value (incremental BLOB I/O: still recorded whole) */
    for (size_t i = 0; big && i < (1 << 20) + 7; i++)
        big[i] = (char)('a' + i % 26);
    if (big) {
        struct rs_bytes argv[3] = { { "SET", 3 }, { "bigv", 4 }, { big, (1 << 20) + 7 } };

        CHECK_STR(mirror_apply_bytes(m, 3, argv), "0", "SET 1 MiB + 7");
    }
    free(big);
    tbuf_free(&b);
}

static void test_replay(struct mirror *m)
{
    struct sink *s = m->sink;
    const char *copy = tmp_path("copy.db");
    char sql[600];
    sqlite3 *dst = NULL;
    char *want, *got;
    int conflicts = 0, n;

    CHECK_STR(APPLY(m, "SET", "before", "1"), "0", "SET before the outbox");
    CHECK(s->ops->outbox_enable != NULL, "the SQLite sink has an outbox");
    if (s->ops->outbox_enable == NULL)
        return;
    CHECK_INT(s->ops->outbox_enable(s, 0, shipped, NULL), 0, "outbox_enable");
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM redsink_outbox"), 0, "outbox empty at first");
    remove(copy);
    snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", copy);
    CHECK(sqlite3_exec(m->rd, sql, NULL, NULL, NULL) == SQLITE_OK, "copy of the mirror");

    workload(m);
    CHECK(mirror_qi(m, "SELECT count(*) FROM redsink_outbox") >= 20,
          "one outbox row per transaction (%lld)",
          mirror_qi(m, "SELECT count(*) FROM redsink_outbox"));
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM redsink_outbox WHERE replid != '"
                        MIRROR_REPLID "'"), 0, "rows carry the replid");
    CHECK_INT(mirror_qi(m, "SELECT max(offset) FROM redsink_outbox"),
              mirror_qi(m, "SELECT offset FROM redsink_status"),
              "the last row's offset is the checkpoint's");
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM (SELECT offset FROM redsink_outbox"
                        " GROUP BY offset HAVING count(*) > 1)"), 0, "offsets distinct");

    if (sqlite3_open(copy, &dst) != SQLITE_OK) {
        CHECK(0, "open the copy");
        sqlite3_close(dst);
        return;
    }
    n = replay(m->rd, dst, 0, &conflicts);
    CHECK(n > 0, "replayed %d changesets", n);
    CHECK_INT(conflicts, 0, "no conflicts replaying");
    want = views_of(m->rd);
    got = views_of(dst);
    CHECK(want && got && strcmp(want, got) == 0, "copy + outbox == mirror (%zu bytes of views)",
          want ? strlen(want) : 0);
    if (want && got && strcmp(want, got) != 0)
        printf("# mirror: %.400s\n# copy:   %.400s\n", want, got);
    free(want);
    free(got);
    sqlite3_close(dst);
}

static void test_txn_rows(struct mirror *m)
{
    struct sink *s = m->sink;
    long long before = mirror_qi(m, "SELECT count(*) FROM redsink_outbox");
    long long top = mirror_qi(m, "SELECT max(seq) FROM redsink_outbox");
    struct repl_pos pos;
    int64_t id = -1;
    struct rs_bytes key = { "rolled", 6 };

    /* rolled back: no row */
    CHECK_INT(s->ops->begin(s), 0, "begin");
    CHECK_INT(s->ops->key_create(s, 0, &key, RS_T_STRING, RS_NO_EXPIRE, &key, &id), 0,
              "key_create");
    CHECK_INT(s->ops->rollback(s), 0, "rollback");
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM redsink_outbox"), before,
              "no row for a rolled-back transaction");
    /* a transaction that changes no shipped table: no row */
    CHECK_INT(s->ops->begin(s), 0, "begin");
    CHECK_INT(s->ops->read_checkpoint(s, &pos), 0, "read_checkpoint");
    pos.offset += 10;
    CHECK_INT(s->ops->commit(s, &pos, NULL), 0, "commit with no data");
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM redsink_outbox"), before,
              "no row for a transaction without row changes");
    /* pruning: everything up to the shipped seq, at the next commit */
    shipped_upto = top - 1;
    CHECK_STR(APPLY(m, "SET", "p", "1"), "0", "SET p");
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM redsink_outbox"), 2, "pruned to 2 rows");
    CHECK_INT(mirror_qi(m, "SELECT min(seq) FROM redsink_outbox"), top, "from the unshipped");
    /* the limit: past max_bytes, every row is dropped; seq goes on */
    CHECK_INT(s->ops->outbox_enable(s, 64, shipped, NULL), 0, "outbox_enable 64 bytes");
    CHECK_STR(APPLY(m, "SET", "q", "a value long enough to pass sixty-four bytes of changeset"),
              "0", "SET q");
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM redsink_outbox"), 0, "dropped past the limit");
    CHECK_STR(APPLY(m, "SET", "r", "1"), "0", "SET r");
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM redsink_outbox"), 1, "recording again");
    CHECK(mirror_qi(m, "SELECT min(seq) FROM redsink_outbox") > top + 2,
          "seq not reused after the drop (%lld > %lld)",
          mirror_qi(m, "SELECT min(seq) FROM redsink_outbox"), top + 2);
}

int main(void)
{
    mirror_test *const tests[] = { test_replay, test_txn_rows, NULL };

    return mirror_test_main("test_outbox", 1, tests);
}
