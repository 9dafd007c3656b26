/*
 * test_outbox.c - the outbox the PostgreSQL downstream is fed from
 * (sinks/sqlite/sqlite_outbox.c, sinks/shipper.h), on a temporary mirror:
 *  - every row-changing path is recorded: for transactions of every
 *    family (HSET/HDEL, LPUSH + LINSERT and LREM renumbering, ZADD,
 *    SADD, XADD/XDEL, DEL, RENAME, EXPIRE, values of 1 MiB and more
 *    through gN_big and gN_bigm, FLUSHDB, MULTI), the primary keys the
 *    outbox rows hold equal the rows that differ between a copy of the
 *    tables taken before and the tables after (EXCEPT both ways), per
 *    transaction; and over a seeded random workload every differing row
 *    is recorded;
 *  - one row per committed transaction, none for a rolled-back one or a
 *    read-only one, with the transaction's checkpoint; seq never reused;
 *  - pruning up to the shipped seq, and the size limit dropping it all.
 *
 * Exit status: 0 pass, 77 skip, 99 fail.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "harness.h"
#include "outbox_pk.h"

static int64_t shipped_upto;

static int64_t shipped(void *arg)
{
    (void)arg;
    return shipped_upto;
}

static int exec(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    CHECK(rc == SQLITE_OK, "%.80s: %s", sql, sqlite3_errmsg(db));
    return rc;
}

/* A copy of the mirror as it is now, attached to the reader as "cp". */
static void snapshot(struct mirror *m)
{
    const char *copy = tmp_path("copy.db");
    char sql[600];

    sqlite3_exec(m->rd, "DETACH cp", NULL, NULL, NULL);
    remove(copy);
    snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", copy);
    exec(m->rd, sql);
    snprintf(sql, sizeof(sql), "ATTACH '%s' AS cp", copy);
    exec(m->rd, sql);
}

static void hex(struct tbuf *b, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tbuf_printf(b, "%02X", p[i]);
}

/* temp.got: the keys of the outbox rows after seq 'after', as text;
 * temp.want: the keys of the rows that differ between cp and main. */
static void key_sets(struct mirror *m, int64_t after)
{
    long long gen = mirror_qi(m, "SELECT generation FROM redsink_status");
    struct tbuf b = { 0 };
    sqlite3_stmt *st, *ins;
    char sql[256];

    exec(m->rd, "CREATE TEMP TABLE IF NOT EXISTS got(k TEXT); DELETE FROM got;"
                "CREATE TEMP TABLE IF NOT EXISTS want(k TEXT); DELETE FROM want;");
    snprintf(sql, sizeof(sql), "SELECT pks FROM redsink_outbox WHERE seq > %lld",
             (long long)after);
    sqlite3_prepare_v2(m->rd, sql, -1, &st, NULL);
    sqlite3_prepare_v2(m->rd, "INSERT INTO got VALUES (?1)", -1, &ins, NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *p = sqlite3_column_blob(st, 0);
        size_t len = sqlite3_column_bytes(st, 0), off = 0;
        struct pk_val v[OUTBOX_PK_MAX];
        int t, r;

        while ((r = pk_list_next(p, len, &off, &t, v)) == 1) {
            char num[32];

            b.len = 0;
            tbuf_printf(&b, "%s", outbox_tables[t].name);
            for (int c = 0; c < outbox_tables[t].npk; c++) {
                tbuf_printf(&b, "|%s", v[c].tag == 'i' ? "integer" : v[c].tag == 't' ? "text"
                                                                                   : "blob");
                if (v[c].tag == 'i') {
                    snprintf(num, sizeof(num), "%lld", (long long)v[c].i);
                    hex(&b, (const unsigned char *)num, strlen(num));
                } else {
                    hex(&b, v[c].p, v[c].n);
                }
            }
            sqlite3_bind_text(ins, 1, b.p, (int)b.len, SQLITE_TRANSIENT);
            sqlite3_step(ins);
            sqlite3_reset(ins);
        }
        CHECK(r == 0, "outbox row parses to its end");
    }
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    for (int t = 0; t < OUTBOX_NTABLES; t++) {
        const char *name = outbox_tables[t].name;
        char pk[256] = "";
        size_t n = 0;
        sqlite3_stmt *cols;

        snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('g%lld_%s') ORDER BY cid"
                 " LIMIT %d", gen, name, outbox_tables[t].npk);
        sqlite3_prepare_v2(m->rd, sql, -1, &cols, NULL);
        while (sqlite3_step(cols) == SQLITE_ROW)
            n += snprintf(pk + n, sizeof(pk) - n, " || '|' || typeof(%s) || hex(%s)",
                          sqlite3_column_text(cols, 0), sqlite3_column_text(cols, 0));
        sqlite3_finalize(cols);
        b.len = 0;
        tbuf_printf(&b, "INSERT INTO want SELECT '%s'%s FROM (SELECT * FROM main.g%lld_%s EXCEPT"
                    " SELECT * FROM cp.g%lld_%s) UNION SELECT '%s'%s FROM (SELECT * FROM"
                    " cp.g%lld_%s EXCEPT SELECT * FROM main.g%lld_%s)", name, pk, gen, name,
                    gen, name, name, pk, gen, name, gen, name);
        exec(m->rd, b.p);
    }
    tbuf_free(&b);
}

/* Run one transaction (b) and check the keys it recorded are exactly the
 * rows it changed. List renumbering moves rows through positions that
 * exist neither before nor after: with 'moves' those keys may be
 * recorded too (the shipper's DELETE of an absent row does nothing). */
static void check_txn_at(struct mirror *m, const char *what, struct tbuf *b, int moves)
{
    int64_t top = mirror_qi(m, "SELECT ifnull(max(seq), 0) FROM redsink_outbox");
    long long missing, extra;

    snapshot(m);
    CHECK_STR(mirror_run(m, b), "0", what);
    key_sets(m, top);
    missing = mirror_qi(m, "SELECT count(*) FROM (SELECT k FROM want EXCEPT SELECT k FROM got)");
    extra = mirror_qi(m, "SELECT count(*) FROM (SELECT k FROM got EXCEPT SELECT k FROM want)");
    CHECK(missing == 0 && (extra == 0 || moves) && mirror_qi(m, "SELECT count(*) FROM want") > 0,
          "%s: keys recorded == rows changed (%lld rows, %lld missing, %lld extra)", what,
          mirror_qi(m, "SELECT count(*) FROM want"), missing, extra);
    if (missing || (extra && !moves)) {
        printf("# missing: %.300s\n", mirror_q(m, "SELECT group_concat(k, ' ') FROM"
               " (SELECT k FROM want EXCEPT SELECT k FROM got)"));
        printf("# extra: %.300s\n", mirror_q(m, "SELECT group_concat(k, ' ') FROM"
               " (SELECT k FROM got EXCEPT SELECT k FROM want)"));
    }
}

#define check_txn(m, what, b) check_txn_at((m), (what), (b), 0)
#define TXN(m, b, ...) do { CMD((b), __VA_ARGS__); check_txn((m), #__VA_ARGS__, (b)); } while (0)
#define TXN_MOVES(m, b, ...)                                                      \
    do { CMD((b), __VA_ARGS__); check_txn_at((m), #__VA_ARGS__, (b), 1); } while (0)

static void big_cmd(struct tbuf *b, const char *cmd, const char *key, int big_at, int n,
                    const char *const *args)
{
    size_t len = (1 << 20) + 3;
    char *big = malloc(len);
    struct rs_bytes argv[8];

    for (size_t i = 0; big && i < len; i++)
        big[i] = (char)('a' + i % 26);
    argv[0] = (struct rs_bytes){ cmd, strlen(cmd) };
    argv[1] = big_at < 0 ? (struct rs_bytes){ big, len } : (struct rs_bytes){ key, strlen(key) };
    for (int i = 0; i < n; i++)
        argv[2 + i] = i == big_at ? (struct rs_bytes){ big, len }
                                  : (struct rs_bytes){ args[i], strlen(args[i]) };
    if (big)
        cmd_bytes(b, 2 + n, argv);
    free(big);
}

/* Each transaction's keys against its diff. */
static void test_exact(struct mirror *m)
{
    struct sink *s = m->sink;
    struct tbuf b = { 0 };

    CHECK_STR(APPLY(m, "SET", "before", "1"), "0", "SET before the outbox");
    CHECK(s->ops->outbox_enable != NULL, "the SQLite sink has an outbox");
    if (s->ops->outbox_enable == NULL)
        return;
    CHECK_INT(s->ops->outbox_enable(s, 0, shipped, NULL), 0, "outbox_enable");
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM redsink_outbox"), 0, "outbox empty at first");
    TXN(m, &b, "SET", "s1", "hello");
    TXN(m, &b, "SET", "bin\x00\xff", "\x00\x01\xfe");
    TXN(m, &b, "HSET", "h", "f1", "v1", "f2", "v2", "f\xff", "\xc3\xa9");
    TXN(m, &b, "HSET", "h", "f1", "v1b");
    TXN(m, &b, "HDEL", "h", "f2");
    TXN(m, &b, "RPUSH", "l", "a", "b", "c", "d");
    TXN(m, &b, "LPUSH", "l", "z");
    TXN_MOVES(m, &b, "LINSERT", "l", "BEFORE", "b", "ins");
    TXN_MOVES(m, &b, "LREM", "l", "1", "a");
    TXN(m, &b, "LPOP", "l");
    TXN(m, &b, "SADD", "st", "x", "y", "w");
    TXN(m, &b, "SREM", "st", "y");
    TXN(m, &b, "ZADD", "z", "1", "a", "2.5", "b");
    TXN(m, &b, "ZINCRBY", "z", "3", "a");
    TXN(m, &b, "XADD", "x", "1-1", "f", "v", "g", "w");
    TXN(m, &b, "XADD", "x", "2-0", "f", "v2");
    TXN(m, &b, "XDEL", "x", "1-1");
    TXN(m, &b, "PEXPIREAT", "s1", "99999999999999");
    TXN(m, &b, "RENAME", "st", "st2");
    TXN(m, &b, "DEL", "h");
    CMD(&b, "MULTI");
    CMD(&b, "INCR", "ctr");
    CMD(&b, "APPEND", "s1", " world");
    CMD(&b, "RPUSH", "l2", "p", "q");
    TXN(m, &b, "EXEC");
    /* values of 1 MiB and more: a string in place, an element value in
     * gN_big, a field and a member in gN_bigm */
    big_cmd(&b, "SET", "bigv", 0, 1, (const char *const[]){ "" });
    check_txn(m, "SET 1 MiB", &b);
    big_cmd(&b, "HSET", "bh", 1, 2, (const char *const[]){ "f", "" });
    check_txn(m, "HSET a 1 MiB value (gN_big)", &b);
    big_cmd(&b, "HSET", "bh", 0, 2, (const char *const[]){ "", "v" });
    check_txn(m, "HSET a 1 MiB field (gN_bigm)", &b);
    big_cmd(&b, "SADD", "bs", 0, 2, (const char *const[]){ "", "small" });
    check_txn(m, "SADD a 1 MiB member (gN_bigm)", &b);
    big_cmd(&b, "RPUSH", "bl", 1, 3, (const char *const[]){ "a", "", "c" });
    check_txn(m, "RPUSH a 1 MiB element (gN_big)", &b);
    /* a key name (gN_bign) and a stream field name (gN_bigm) of 1 MiB */
    big_cmd(&b, "SET", NULL, -1, 1, (const char *const[]){ "v" });
    check_txn(m, "SET a 1 MiB key name (gN_bign)", &b);
    big_cmd(&b, "APPEND", NULL, -1, 1, (const char *const[]){ "w" });
    check_txn(m, "APPEND to a 1 MiB key name", &b);
    big_cmd(&b, "XADD", "bx", 1, 3, (const char *const[]){ "1-1", "", "v" });
    check_txn(m, "XADD a 1 MiB field name (gN_bigm)", &b);
    big_cmd(&b, "DEL", NULL, -1, 0, NULL);
    check_txn(m, "DEL a 1 MiB key name", &b);
    TXN_MOVES(m, &b, "LREM", "bl", "1", "a");
    TXN(m, &b, "HSET", "bh", "f", "small now");
    TXN(m, &b, "DEL", "bs");
    TXN(m, &b, "FLUSHDB");
    tbuf_free(&b);
}

/* HSET key f000000 v f000001 v ... (n fields) into b. */
static void hset_many(struct tbuf *b, const char *key, int n)
{
    struct rs_bytes *argv = malloc((2 + 2 * (size_t)n) * sizeof(*argv));
    char *names = malloc((size_t)n * 8);

    if (argv && names) {
        argv[0] = (struct rs_bytes){ "HSET", 4 };
        argv[1] = (struct rs_bytes){ key, strlen(key) };
        for (int i = 0; i < n; i++) {
            snprintf(names + 8 * i, 8, "f%06d", i);
            argv[2 + 2 * i] = (struct rs_bytes){ names + 8 * i, 7 };
            argv[3 + 2 * i] = (struct rs_bytes){ "v", 1 };
        }
        cmd_bytes(b, 2 + 2 * n, argv);
    }
    free(names);
    free(argv);
}

/* A transaction whose keys cannot be recorded (no temporary file for the
 * part past 1 MiB: $TMPDIR does not exist) commits all the same; the
 * outbox is dropped and a seq used up, so the shipper finds a gap and
 * copies the whole mirror; the next transaction is recorded again. Runs
 * before test_spill, whose file then stays open. */
static void test_spill_fails(struct mirror *m)
{
    enum { N = 60000 };
    char *saved = getenv("TMPDIR");
    struct tbuf b = { 0 };
    long long seq;

    saved = saved ? strdup(saved) : NULL;
    hset_many(&b, "unrecorded", N);
    seq = mirror_qi(m, "SELECT seq FROM sqlite_sequence WHERE name = 'redsink_outbox'");
    setenv("TMPDIR", "/nonexistent/redsink-test", 1);
    CHECK_STR(mirror_run(m, &b), "0", "HSET of 60,000 fields without a temporary file: committed");
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM redis_hashes WHERE key = 'unrecorded'"), N,
              "the mirror holds the fields");
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM redsink_outbox"), 0, "the outbox is dropped");
    CHECK(mirror_qi(m, "SELECT seq FROM sqlite_sequence WHERE name = 'redsink_outbox'") > seq,
          "a seq used up (%lld > %lld): the shipper finds a gap", mirror_qi(m, "SELECT seq FROM"
          " sqlite_sequence WHERE name = 'redsink_outbox'"), seq);
    TXN(m, &b, "SET", "after:unrecorded", "1");
    TXN(m, &b, "DEL", "unrecorded");
    tbuf_free(&b);
    free(saved);
}

/* A transaction of more keys than are held in memory (sqlite_outbox.c,
 * SPILL_BYTES = 1 MiB of key list: the rest goes to a temporary file):
 * 120,000 hash fields of about 22 bytes each, set, then deleted. Each
 * spilled part is a row of its own, all with the transaction's offset,
 * and the keys of all its rows are the rows it changed. */
static void test_spill(struct mirror *m)
{
    enum { N = 120000 };
    struct tbuf b = { 0 };
    char sql[160];

    for (int pass = 0; pass < 2; pass++) {
        long long top = mirror_qi(m, "SELECT ifnull(max(seq), 0) FROM redsink_outbox");

        b.len = 0;
        if (pass == 0)
            hset_many(&b, "spilled", N);
        else
            cmd_bytes(&b, 2, (const struct rs_bytes[]){ { "DEL", 3 }, { "spilled", 7 } });
        check_txn(m, pass ? "DEL of a hash of 120,000 fields" : "HSET of 120,000 fields", &b);
        snprintf(sql, sizeof(sql), "SELECT count(*) || ' ' || count(DISTINCT offset) || ' ' ||"
                 " max(length(pks)) FROM redsink_outbox WHERE seq > %lld", top);
        CHECK(mirror_qi(m, sql) >= 3 && strstr(mirror_q(m, sql), " 1 ") != NULL &&
              atoll(strrchr(mirror_q(m, sql), ' ') + 1) <= (1 << 20) + 64,
              "%s: rows, offsets, largest list: %s (3 or more rows, one offset, lists of"
              " about 1 MiB)", pass ? "DEL" : "HSET", mirror_q(m, sql));
    }
    tbuf_free(&b);
}

/* A seeded random workload of every family: every differing row is
 * recorded (a row changed and changed back within the workload is
 * recorded too, so only "missing" must be empty). */
static void test_random(struct mirror *m)
{
    int64_t top = mirror_qi(m, "SELECT ifnull(max(seq), 0) FROM redsink_outbox");
    unsigned seed = getenv("SEED") ? (unsigned)atoi(getenv("SEED")) : 16;
    struct tbuf b = { 0 };
    char k[16], f[16], v[16];

    printf("# SEED=%u\n", seed);
    srand(seed);
    snapshot(m);
    for (int i = 0; i < 400; i++) {
        int r = rand(), fam = r % 6, op = (r / 6) % 4;

        snprintf(k, sizeof(k), "%c%d", "hlszxk"[fam], (r / 24) % 5);
        snprintf(f, sizeof(f), "f%d", (r / 120) % 9);
        snprintf(v, sizeof(v), "%d", (r / 1080) % 50);
        switch (fam) {
        case 0: op ? CMD(&b, "HSET", k, f, v) : CMD(&b, "HDEL", k, f); break;
        case 1:
            if (op == 0)
                CMD(&b, "LREM", k, "0", v);
            else if (op == 1)
                CMD(&b, "LINSERT", k, "BEFORE", v, f);
            else
                CMD(&b, op == 2 ? "LPUSH" : "RPUSH", k, v);
            break;
        case 2: op ? CMD(&b, "SADD", k, f) : CMD(&b, "SREM", k, f); break;
        case 3: op ? CMD(&b, "ZADD", k, v, f) : CMD(&b, "ZREM", k, f); break;
        case 4:
            op ? CMD(&b, "XADD", k, "MAXLEN", "5", "*", f, v) : CMD(&b, "XTRIM", k, "MAXLEN", "2");
            break;
        default:
            /* whole keys of any family */
            k[0] = "hlszxk"[(r / 1080) % 6];
            if (op == 0)
                CMD(&b, "DEL", k);
            else if (op == 1)
                CMD(&b, "PEXPIRE", k, "100000000");
            else
                CMD(&b, op == 2 ? "SET" : "APPEND", "k0", v);
        }
        CHECK_STR(mirror_run(m, &b), "0", "random command");
    }
    key_sets(m, top);
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM (SELECT k FROM want EXCEPT SELECT k FROM got)"),
              0, "random workload: every changed row is recorded");
    CHECK(mirror_qi(m, "SELECT count(*) FROM want") > 50, "random workload changed %lld rows",
          mirror_qi(m, "SELECT count(*) FROM want"));
    tbuf_free(&b);
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
    CHECK_INT(s->ops->outbox_enable(s, 16, shipped, NULL), 0, "outbox_enable 16 bytes");
    CHECK_STR(APPLY(m, "SET", "q", "1"), "0", "SET q: three rows of 9 + 1 bytes pass 16");
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM redsink_outbox"), 0, "dropped past the limit");
    CHECK_STR(APPLY(m, "SET", "r", "1"), "0", "SET r");
    CHECK_INT(mirror_qi(m, "SELECT count(*) FROM redsink_outbox"), 1, "recording again");
    CHECK(mirror_qi(m, "SELECT min(seq) FROM redsink_outbox") > top + 2,
          "seq not reused after the drop (%lld > %lld)",
          mirror_qi(m, "SELECT min(seq) FROM redsink_outbox"), top + 2);
}

int main(void)
{
    mirror_test *const tests[] = { test_exact, test_spill_fails, test_spill, test_random,
                                   test_txn_rows, NULL };

    return mirror_test_main("test_outbox", 1, tests);
}
