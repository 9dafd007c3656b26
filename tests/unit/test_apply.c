/*
 * test_apply.c - the applier (daemon/write/apply.c) end to end on the real
 * SQLite sink: raw replication-stream bytes go through resp.c into
 * apply.c, and a reader's own connection checks what a reader of the
 * contract's views sees. Offsets, MULTI/EXEC, GETACK, unknown commands,
 * strict mode, batches, a failing sink, and a stream fed whole or byte by
 * byte; each type's commands reach their family (the families' own tests:
 * test_cmd_*.c).
 *
 * Exit 0 (all passed), 77 (skipped: no sink could be opened) or 99 (a
 * check failed). Start reading at main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "harness.h"
#include "log.h"

/* ---- each type ---- */

static void test_collections(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "HSET", "h1", "a", "1", "b", "2");
    CMD(&b, "HMSET", "h1", "c", "3", "a", "9");
    CMD(&b, "HSET", "h1", "odd");                         /* arity: skipped */
    CMD(&b, "HDEL", "h1", "b", "zz");
    CMD(&b, "HSET", "h2", "only", "x");
    CMD(&b, "HDEL", "h2", "only");                        /* last field: key gone */
    CMD(&b, "LPUSH", "l1", "a", "b", "c");
    CMD(&b, "RPUSH", "l1", "d");
    CMD(&b, "LPUSH", "l1", "z");
    CMD(&b, "SADD", "set1", "x", "y", "x");
    CMD(&b, "SREM", "set1", "x");
    CMD(&b, "SADD", "s2", "m");
    CMD(&b, "SREM", "s2", "m", "n");                      /* last member: key gone */
    CMD(&b, "SADD", "l1", "x");                           /* WRONGTYPE */
    CHECK_STR(mirror_run(e, &b), "0", "collections: applied");
    CHECK_STR(mirror_q(e, "SELECT field, value FROM redis_hashes WHERE key = 'h1' ORDER BY field"),
              "a,9;c,3", "collections: HSET/HMSET/HDEL");
    CHECK_STR(mirror_q(e, "SELECT count(*) FROM redis_keys WHERE key IN ('h2', 's2')"), "0",
                          "collections: HDEL of the last field and SREM of the last member delete the key");
    CHECK_STR(mirror_q(e, "SELECT idx, value FROM redis_lists WHERE key = 'l1' ORDER BY idx"),
              "0,z;1,c;2,b;3,a;4,d", "collections: LPUSH order and idx, RPUSH");
    CHECK_STR(mirror_q(e, "SELECT member FROM redis_sets WHERE key = 'set1' ORDER BY member"), "y",
                          "collections: SADD/SREM");
    tbuf_free(&b);
}

static void test_dbs(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "SELECT", "3");
    CMD(&b, "SET", "d3", "x");
    CMD(&b, "SELECT", "4");
    CMD(&b, "SET", "d4", "x");
    CMD(&b, "FLUSHDB", "ASYNC");
    CMD(&b, "SELECT", "0");
    CHECK_STR(mirror_run(e, &b), "0", "dbs: applied");
    CHECK_STR(mirror_q(e, "SELECT db, key FROM redis_keys WHERE db > 0"), "3,d3",
                          "dbs: SELECT picks the db, FLUSHDB empties only the selected one");
    CMD(&b, "FLUSHALL");
    CHECK_STR(mirror_run(e, &b), "0", "dbs: FLUSHALL applied");
    CHECK_STR(mirror_q(e, "SELECT count(*) FROM redis_keys"), "0",
                          "dbs: FLUSHALL empties every db");
    tbuf_free(&b);
}

/* ---- offsets, transactions, acks ---- */

static void test_offsets(struct mirror *e)
{
    struct tbuf b = { 0 };
    int64_t base = apply_committed(e->a)->offset;
    char want[128];
    size_t n;

    CHECK(apply_flush(e->a) == 0 && apply_committed(e->a)->offset == base,
          "offsets: a flush with nothing new does nothing");
    n = CMD(&b, "ping");
    CHECK_INT(n, 14, "offsets: '*1 $4 ping' is 14 bytes");
    mirror_feed(e, b.p, b.len, 0);
    b.len = 0;
    CHECK_INT(apply_applied(e->a)->offset, base + 14, "offsets: PING advances the applied offset");
    CHECK_INT(apply_committed(e->a)->offset, base, "offsets: ... and is not committed yet");
    CHECK(apply_flush_due(e->a) == 0, "offsets: one command is not a due batch");
    CHECK_INT(apply_flush(e->a), 0, "offsets: a checkpoint-only change is committed");
    snprintf(want, sizeof(want), "%lld,%s,0", (long long)base + 14, MIRROR_REPLID);
    CHECK_STR(mirror_q(e, "SELECT offset, master_replid, db FROM redsink_status"), want,
                          "offsets: the status row holds the committed offset");

    n = CMD(&b, "SELECT", "5");
    CHECK_INT(n, 23, "offsets: 'SELECT 5' is 23 bytes");
    n += CMD(&b, "PUBLISH", "chan", "hello");
    CHECK_STR(mirror_run(e, &b), "0", "offsets: SELECT and PUBLISH applied");
    apply_skip_bytes(e->a, 3);
    CHECK_INT(apply_flush(e->a), 0, "offsets: skipped bytes committed");
    snprintf(want, sizeof(want), "%lld,5", (long long)base + 14 + (long long)n + 3);
    CHECK_STR(mirror_q(e, "SELECT offset, db FROM redsink_status"), want,
                          "offsets: SELECT, PUBLISH and skipped bytes counted, db stored");
    CMD(&b, "SELECT", "0");
    mirror_run(e, &b);
    tbuf_free(&b);
}

static void test_multi(struct mirror *e)
{
    struct tbuf b = { 0 };
    int64_t base = apply_committed(e->a)->offset;
    char want[128];
    size_t n;

    n = CMD(&b, "MULTI");
    CHECK_INT(n, 15, "multi: 'MULTI' is 15 bytes");
    n += CMD(&b, "SELECT", "2");
    n += CMD(&b, "SET", "mk", "1");
    n += CMD(&b, "HSET", "mh", "f", "v");
    mirror_feed(e, b.p, b.len, 0);
    b.len = 0;
    CHECK(apply_in_multi(e->a), "multi: inside the block");
    CHECK_INT(apply_applied(e->a)->offset, base, "multi: the block's bytes are not published yet");
    CHECK(apply_flush_due(e->a) == 0, "multi: never due inside the block");
    CHECK(apply_flush(e->a) == 0 && apply_committed(e->a)->offset == base,
          "multi: a flush inside the block commits nothing");
    CHECK_STR(mirror_q(e, "SELECT count(*) FROM redis_keys WHERE key IN ('mk', 'mh')"), "0",
                          "multi: a reader sees nothing of the open block");
    n += CMD(&b, "EXEC");
    mirror_feed(e, b.p, b.len, 0);
    b.len = 0;
    CHECK(!apply_in_multi(e->a), "multi: EXEC closes the block");
    CHECK_INT(apply_applied(e->a)->offset, base + (int64_t)n,
              "multi: EXEC publishes MULTI..EXEC at once");
    CHECK_INT(apply_applied(e->a)->db, 2, "multi: a SELECT inside the block is part of it");
    CHECK(apply_flush_due(e->a), "multi: the flush asked for inside the block is due at EXEC");
    CHECK_INT(apply_flush(e->a), 0, "multi: committed after EXEC");
    snprintf(want, sizeof(want), "2,mh;2,mk|%lld,2", (long long)base + (long long)n);
    {
        char got[256];

        snprintf(got, sizeof(got), "%s|", mirror_q(e, "SELECT db, key FROM redis_keys"
                                                      " WHERE key IN ('mk', 'mh') ORDER BY key"));
        strncat(got, mirror_q(e, "SELECT offset, db FROM redsink_status"),
                sizeof(got) - strlen(got) - 1);
        CHECK_STR(got, want, "multi: the whole block and its offset become visible together");
    }

    /* DISCARD (never propagated, but a replica honours it) */
    base = apply_committed(e->a)->offset;
    n = CMD(&b, "MULTI");
    n += CMD(&b, "SET", "dk", "1");
    n += CMD(&b, "SELECT", "9");
    n += CMD(&b, "DISCARD");
    CHECK_STR(mirror_run(e, &b), "0", "multi: MULTI .. DISCARD applied");
    CHECK_STR(mirror_q(e, "SELECT count(*) FROM redis_keys WHERE key = 'dk'"), "0",
                          "multi: DISCARD drops the block's writes");
    CHECK(apply_committed(e->a)->offset == base + (int64_t)n && apply_committed(e->a)->db == 2,
          "multi: ... counts its bytes and keeps the db");
    CMD(&b, "SELECT", "0");
    mirror_run(e, &b);
    tbuf_free(&b);
}

static void test_getack(struct mirror *e)
{
    struct tbuf b = { 0 };
    int64_t base = apply_committed(e->a)->offset;
    size_t n, g;

    n = CMD(&b, "SET", "ga", "1");
    g = CMD(&b, "REPLCONF", "GETACK", "*");
    CHECK_INT(g, 37, "getack: 'REPLCONF GETACK *' is 37 bytes");
    e->acks = 0;
    CHECK_INT(mirror_feed(e, b.p, b.len, 0), 0, "getack: applied");
    b.len = 0;
    CHECK_INT(e->acks, 1, "getack: one ack request");
    CHECK(apply_take_ack_request(e->a) == 0, "getack: the request is taken once");
    CHECK_INT(e->ack_offset, base + (int64_t)n,
              "getack: committed offset = the offset before the GETACK");
    CHECK_INT(apply_applied(e->a)->offset, base + (int64_t)(n + g),
              "getack: the GETACK's own bytes are counted");
    CHECK_STR(mirror_q(e, "SELECT value FROM redis_strings WHERE key = 'ga'"), "1",
                          "getack: what came before it is visible");
    apply_flush(e->a);
    tbuf_free(&b);
}

static void test_unknown(struct mirror *e)
{
    struct tbuf b = { 0 };
    int64_t base = apply_committed(e->a)->offset;
    size_t n;

    n = CMD(&b, "FOO.BAR", "x");
    n += CMD(&b, "foo.bar", "y", "z");
    n += CMD(&b, "SET", "after", "1");
    CHECK_STR(mirror_run(e, &b), "0", "unknown: not fatal without strict mode");
    CHECK_STR(mirror_q(e, "SELECT name, count FROM redsink_unknown_commands"), "foo.bar,2",
                          "unknown: counted by name");
    CHECK_INT(mirror_qi(e, "SELECT unknown_commands FROM redsink_status"), 2,
                           "unknown: counted in the status row");
    CHECK(apply_committed(e->a)->offset == base + (int64_t)n &&
          strcmp(mirror_q(e, "SELECT value FROM redis_strings WHERE key = 'after'"), "1") == 0,
                             "unknown: bytes counted, the stream goes on");
    tbuf_free(&b);
}

static void test_strict(void)
{
    struct mirror e;
    struct tbuf b = { 0 };
    size_t n;

    if (mirror_open(&e, "strict.db", 1, 0) != 0) {
        CHECK(0, "strict: open");
        return;
    }
    n = CMD(&b, "SET", "a", "1");
    mirror_run(&e, &b);
    n += CMD(&b, "SET", "b", "2");
    CMD(&b, "WEIRD", "x");
    CMD(&b, "SET", "c", "3");
    CHECK_INT(mirror_feed(&e, b.p, b.len, 0), -1, "strict: an unknown command is fatal");
    CHECK(strstr(apply_error(e.a)->msg, "weird") != NULL, "strict: the error names it: %s",
          apply_error(e.a)->msg);
    CHECK(apply_committed(e.a)->offset == MIRROR_START + (int64_t)n &&
          apply_applied(e.a)->offset == MIRROR_START + (int64_t)n,
          "strict: what came before it is committed, the checkpoint stops right before it");
    CHECK_STR(mirror_q(&e, "SELECT group_concat(key) FROM (SELECT key FROM redis_keys"
                           " ORDER BY key)"),
              "a,b", "strict: nothing after it is applied");
    CHECK(apply_command(e.a, 1, &(struct rs_bytes){ "ping", 4 }, 14) == -1,
          "strict: the error is sticky");
    tbuf_free(&b);
    mirror_close(&e);
}

static void test_batches(void)
{
    struct mirror e;
    struct tbuf b = { 0 };

    if (mirror_open(&e, "batch.db", 0, 3) != 0) {
        CHECK(0, "batch: open");
        return;
    }
    CMD(&b, "SET", "x", "1");
    CMD(&b, "SET", "y", "2");
    mirror_feed(&e, b.p, b.len, 0);
    b.len = 0;
    CHECK(apply_flush_due(e.a) == 0, "batch: 2 commands of 3: not due");
    CMD(&b, "MULTI");
    mirror_feed(&e, b.p, b.len, 0);
    b.len = 0;
    CHECK(apply_flush_due(e.a) == 0, "batch: 3 commands but inside MULTI: not due");
    CMD(&b, "EXEC");
    mirror_feed(&e, b.p, b.len, 0);
    b.len = 0;
    CHECK(apply_flush_due(e.a), "batch: due after EXEC");
    tbuf_free(&b);
    mirror_close(&e);
}

/* The sink's catch_up calls, counted, then passed on to the real one. */
static const struct sink_ops *catch_up_real;
static int catch_up_calls, catch_up_on;

static void counting_catch_up(struct sink *s, int on)
{
    catch_up_calls++;
    catch_up_on = on;
    catch_up_real->catch_up(s, on);
}

static int commit_delay_ms;

static void pause_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* A commit that takes commit_delay_ms more. */
static int slow_commit(struct sink *s, const struct repl_pos *pos, const struct sink_stats *st)
{
    pause_ms(commit_delay_ms);
    return catch_up_real->commit(s, pos, st);
}

/* Far behind, batches grow and the sink is told to catch up until the
 * backlog is gone, not at every dip below the mark. */
/* A mirror whose sink ops are a copy in *ops, for the caller to change
 * (catch_up_real: the real ones). 0, or -1 (a failed check). */
static int open_wrapped(struct mirror *e, const char *name, const struct apply_opts *o,
                        struct sink_ops *ops)
{
    if (mirror_open_opts(e, name, o) != 0) {
        CHECK(0, "%s: open", name);
        return -1;
    }
    catch_up_real = e->sink->ops;
    *ops = *e->sink->ops;
    e->sink->ops = ops;
    return 0;
}

static void test_backlog(void)
{
    struct mirror e;
    struct tbuf b = { 0 };
    struct sink_ops ops;
    struct apply_opts o = { .batch_max_cmds = 3, .batch_max_ms = 100000 };

    if (open_wrapped(&e, "backlog.db", &o, &ops) != 0)
        return;
    ops.catch_up = counting_catch_up;
    apply_set_backlog(e.a, APPLY_BEHIND_BYTES + 1);
    CHECK(catch_up_calls == 1 && catch_up_on == 1, "backlog: far behind, the sink catches up");
    CMD(&b, "SET", "x", "1");
    CMD(&b, "SET", "y", "2");
    CMD(&b, "SET", "z", "3");
    mirror_feed(&e, b.p, b.len, 0);
    CHECK(apply_flush_due(e.a) == 0, "backlog: 3 commands of 3, but behind: not due");
    apply_set_backlog(e.a, APPLY_BEHIND_BYTES + 2);
    apply_set_backlog(e.a, 1000);
    CHECK(catch_up_calls == 1, "backlog: told once, and not undone below the mark");
    CHECK(apply_flush_due(e.a), "backlog: below the mark the usual limits again");
    CHECK(apply_flush(e.a) == 0, "backlog: commit with the larger cache");
    apply_set_backlog(e.a, 0);
    CHECK(catch_up_calls == 2 && catch_up_on == 0, "backlog: nothing waits: caught up");
    CHECK_STR(mirror_q(&e, "SELECT group_concat(key) FROM (SELECT key FROM redis_keys"
                           " ORDER BY key)"), "x,y,z", "backlog: the batch committed");

    e.sink->ops = catch_up_real;
    tbuf_free(&b);
    mirror_close(&e);
}

/* Far behind, a batch starts at 10 times the usual one (3 here) and
 * doubles while commits take over a quarter of the time, up to
 * sqlite.catchup_batch_commands (150 here); it halves when they take
 * under a sixteenth. */
static void test_catchup_batches(void)
{
    struct mirror e;
    struct tbuf b = { 0 };
    struct sink_ops ops;
    struct apply_opts o = { .batch_max_cmds = 3, .batch_max_ms = 100000, .behind_max_cmds = 150 };

    if (open_wrapped(&e, "backlog2.db", &o, &ops) != 0)
        return;
    ops.commit = slow_commit;
    apply_set_backlog(e.a, APPLY_BEHIND_BYTES + 1);
    static const struct { int due_at, slow, aged; } step[] = {
        { 30, 1, 0 }, { 60, 1, 0 }, { 120, 1, 0 }, { 150, 1, 0 }, { 150, 0, 1 }, { 120, 0, 0 },
    };
    int n = 0;

    for (size_t t = 0; t < sizeof(step) / sizeof(step[0]); t++) {
        int early = 0;

        for (int i = 0; i < step[t].due_at && !early; i++) {
            char k[16];

            early = apply_flush_due(e.a);
            snprintf(k, sizeof(k), "b%d", n++);
            b.len = 0;
            CMD(&b, "SET", k, "v");
            mirror_feed(&e, b.p, b.len, 0);
        }
        CHECK(!early && apply_flush_due(e.a), "backlog: catch-up batch %zu: due after %d commands,"
              " not before", t, step[t].due_at);
        if (step[t].aged)
            pause_ms(400);           /* the batch's age: its commit is a small share */
        commit_delay_ms = step[t].slow ? 100 : 0;
        CHECK(apply_flush(e.a) == 0, "backlog: catch-up batch %zu commits", t);
    }
    CHECK_STR(mirror_q(&e, "SELECT count(*) FROM redis_keys"), "630",
              "backlog: every catch-up batch committed");
    e.sink->ops = catch_up_real;
    mirror_close(&e);

    /* a catch-up limit below the batch leaves the batch */
    o.behind_max_cmds = 2;
    if (mirror_open_opts(&e, "backlog3.db", &o) == 0) {
        apply_set_backlog(e.a, APPLY_BEHIND_BYTES + 1);
        b.len = 0;
        CMD(&b, "SET", "x", "1");
        CMD(&b, "SET", "y", "2");
        mirror_feed(&e, b.p, b.len, 0);
        CHECK(apply_flush_due(e.a) == 0, "backlog: catch-up limit 2 below the batch: 2 not due");
        b.len = 0;
        CMD(&b, "SET", "z", "3");
        mirror_feed(&e, b.p, b.len, 0);
        CHECK(apply_flush_due(e.a), "backlog: catch-up limit 2 below the batch: 3 due");
        mirror_close(&e);
    } else {
        CHECK(0, "backlog: open with behind_max_cmds 2");
    }
    tbuf_free(&b);
}

/* A sink op that fails, to check rollback and the sticky error. */
static int failing_hash_set(struct sink *s, int64_t id, const struct rs_bytes *f,
                            const struct rs_bytes *v, int64_t exp, int *added)
{
    (void)id; (void)f; (void)v; (void)exp; (void)added;
    return rs_fail(&s->err, RS_E_SQL, "disk on fire");
}

static void test_sink_failure(void)
{
    struct mirror e;
    struct tbuf b = { 0 };
    struct sink_ops bad;
    const struct sink_ops *good;
    int64_t committed;

    if (mirror_open(&e, "fail.db", 0, 0) != 0) {
        CHECK(0, "failure: open");
        return;
    }
    CMD(&b, "SET", "a", "1");
    mirror_run(&e, &b);
    committed = apply_committed(e.a)->offset;
    good = e.sink->ops;
    bad = *good;
    bad.hash_set = failing_hash_set;
    e.sink->ops = &bad;
    CMD(&b, "SET", "b", "2");
    CMD(&b, "HSET", "h", "f", "v");
    CHECK_INT(mirror_feed(&e, b.p, b.len, 0), -1, "failure: a sink failure is fatal");
    CHECK(strstr(apply_error(e.a)->msg, "HSET") && strstr(apply_error(e.a)->msg, "disk on fire"),
          "failure: the error says what: %s", apply_error(e.a)->msg);
    CHECK(apply_committed(e.a)->offset == committed && apply_applied(e.a)->offset == committed,
          "failure: the committed position is unchanged");
    CHECK_STR(mirror_q(&e, "SELECT group_concat(key) FROM redis_keys"), "a",
                           "failure: the open batch is rolled back");
    CHECK(apply_flush(e.a) == -1, "failure: the error is sticky");
    e.sink->ops = good;
    tbuf_free(&b);
    mirror_close(&e);
}

/* The same stream fed whole and one byte at a time: same views. */
static void build_script(struct tbuf *b)
{
    static const char bin[] = "*3\r\n$4\r\nSADD\r\n$3\r\nbin\r\n$4\r\n\0\xff\r\n\r\n";

    CMD(b, "SELECT", "1");
    CMD(b, "SET", "s", "v", "PXAT", "99999999999999");
    CMD(b, "HSET", "h", "a", "1", "b", "2");
    CMD(b, "HDEL", "h", "a");
    tbuf_add(b, "\n", 1);
    CMD(b, "ping");
    CMD(b, "MULTI");
    CMD(b, "LPUSH", "l", "a", "b");
    CMD(b, "SELECT", "2");
    CMD(b, "RPUSH", "l", "c");
    CMD(b, "EXEC");
    CMD(b, "ZADD", "z", "1.5", "m", "-inf", "n");
    CMD(b, "XADD", "x", "MAXLEN", "=", "1", "1-1", "f", "v", "g", "w");
    CMD(b, "XADD", "x", "MAXLEN", "=", "1", "2-1", "f", "v2");
    CMD(b, "REPLCONF", "GETACK", "*");
    tbuf_add(b, bin, sizeof(bin) - 1);
    CMD(b, "UNKNOWNCMD", "x");
    CMD(b, "INCRBY", "n", "41");
    CMD(b, "DEL", "s");
}

static void dump(struct mirror *e, struct tbuf *out)
{
    static const char *const sql[] = {
        "SELECT db, key, type, expire_at FROM redis_keys ORDER BY db, key",
        "SELECT db, key, value FROM redis_strings ORDER BY db, key",
        "SELECT db, key, field, value FROM redis_hashes ORDER BY db, key, field",
        "SELECT db, key, idx, value FROM redis_lists ORDER BY db, key, idx",
        "SELECT db, key, hex(member) FROM redis_sets ORDER BY db, key, member",
        "SELECT db, key, member, score FROM redis_zsets ORDER BY db, key, member",
        "SELECT db, key, id, pos, field, value FROM redis_streams ORDER BY db, key, ms, seq, pos",
        "SELECT offset, db, commands_applied, unknown_commands FROM redsink_status",
    };

    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        const char *r = mirror_q(e, sql[i]);

        tbuf_add(out, r, strlen(r));
        tbuf_add(out, "\n", 1);
    }
}

static void test_split(void)
{
    struct mirror whole, bytes;
    struct tbuf script = { 0 }, d1 = { 0 }, d2 = { 0 };

    if (mirror_open(&whole, "whole.db", 0, 0) != 0 || mirror_open(&bytes, "bytes.db", 0, 0) != 0) {
        CHECK(0, "split: open");
        return;
    }
    build_script(&script);
    CHECK(mirror_feed(&whole, script.p, script.len, 0) == 0 && apply_flush(whole.a) == 0,
          "split: the script fed whole");
    CHECK(mirror_feed(&bytes, script.p, script.len, 1) == 0 && apply_flush(bytes.a) == 0,
          "split: the script fed one byte at a time");
    dump(&whole, &d1);
    dump(&bytes, &d2);
    CHECK(strcmp(d1.p, d2.p) == 0, "split: same views and checkpoint either way");
    CHECK_INT(apply_committed(whole.a)->offset, MIRROR_START + (int64_t)script.len,
              "split: every byte of the script is counted");
    CHECK(whole.acks == 1 && bytes.acks == 1 && whole.ack_offset == bytes.ack_offset,
          "split: the GETACK answered with the same offset");
    CHECK(strstr(d1.p, "1,l,0,b;1,l,1,a;2,l,0,c") != NULL && strstr(d1.p, "2,bin,00FF0D0A"),
          "split: SELECT inside MULTI, binary member: as expected");
    tbuf_free(&script);
    tbuf_free(&d1);
    tbuf_free(&d2);
    mirror_close(&whole);
    mirror_close(&bytes);
}

int main(void)
{
    struct mirror e;

    log_set_level(RS_LOG_ERROR);
    if (mirror_open(&e, "main.db", 0, 0) != 0) {
        printf("# skipping the applier tests: no sink\n1..0\n");
        return 77;
    }
    test_collections(&e);
    test_dbs(&e);
    test_offsets(&e);
    test_multi(&e);
    test_getack(&e);
    test_unknown(&e);
    mirror_close(&e);
    test_strict();
    test_batches();
    test_backlog();
    test_catchup_batches();
    test_sink_failure();
    test_split();
    return check_summary();
}
