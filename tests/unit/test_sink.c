/*
 * test_sink.c - the SQLite sink on a temporary file, checked through the
 * contract's views with a second, independent SQLite connection (as a
 * user would read the mirror).
 *
 * Exit status: 0 pass, 77 skip, 99 fail. One line per check.
 *
 * Also a bulk-load benchmark, not run by "make check":
 *   test_sink --bench strings N [FILE]      N string keys, RDB-like order
 *   test_sink --bench hashes N FIELDS [FILE]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "digest.h"
#include "harness.h"
#include "sink.h"

/* Bytes of a C literal, embedded NULs included. */
#define LIT(s) ((struct rs_bytes){ (s), sizeof(s) - 1 })

static char path[512];        /* the mirror */
static sqlite3 *rd;           /* the reader connection */

/* Every row of 'sql' from the reader, columns joined by '|', rows by ';'. */
static const char *q(const char *sql)
{
    static char out[8192];

    return reader_rows(rd, sql, '|', out, sizeof(out));
}

static void check_q(const char *sql, const char *want)
{
    const char *got = q(sql);

    CHECK(strcmp(got, want) == 0, "%s => '%s'%s%s", sql, got,
          strcmp(got, want) ? " want " : "", strcmp(got, want) ? want : "");
}

static void check_rc(struct sink *s, int rc, const char *what)
{
    CHECK(rc == 0, "%s%s%s", what, rc ? ": " : "", rc ? s->err.msg : "");
}

static int64_t mkkey(struct sink *s, int db, struct rs_bytes key, enum rs_type t,
                     int64_t exp, const struct rs_bytes *v)
{
    int64_t id = -1;

    check_rc(s, s->ops->key_create(s, db, &key, t, exp, v, &id), "key_create");
    return id;
}

static int64_t find(struct sink *s, int db, struct rs_bytes key, enum rs_type *t)
{
    struct sink_key k;

    if (s->ops->key_find(s, db, &key, &k) != 0)
        CHECK(0, "key_find: %s", s->err.msg);
    if (t)
        *t = k.type;
    return k.type == RS_T_NONE ? -1 : k.id;
}

/* ------------------------------------------------------------------ */

/* The first mirror: every type, odd keys, expired data. */
static void load_first(struct sink *s)
{
    struct rs_bytes v;
    int64_t now = rs_now_ms(), id;
    int added;

    check_rc(s, s->ops->load_begin(s), "load_begin");
    v = LIT("h\xc3\xa9llo");
    mkkey(s, 0, LIT("str:utf8"), RS_T_STRING, RS_NO_EXPIRE, &v);
    v = LIT("\x80\x81");
    mkkey(s, 0, LIT("\xff\xfe\0k"), RS_T_STRING, RS_NO_EXPIRE, &v);   /* not UTF-8 */
    v = LIT("nul");
    mkkey(s, 0, LIT("a\0b"), RS_T_STRING, RS_NO_EXPIRE, &v);          /* UTF-8 with NUL */
    v = LIT("u");
    mkkey(s, 0, LIT("cl\xc3\xa9:\xe2\x82\xac"), RS_T_STRING, now + 3600000, &v);
    v = LIT("gone");
    mkkey(s, 0, LIT("expired"), RS_T_STRING, 1000, &v);
    v = LIT("");
    mkkey(s, 0, LIT("empty"), RS_T_STRING, RS_NO_EXPIRE, &v);
    v = LIT("one");
    mkkey(s, 1, LIT("k"), RS_T_STRING, RS_NO_EXPIRE, &v);

    id = mkkey(s, 0, LIT("h"), RS_T_HASH, RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, id, &LIT("f1"), &LIT("v1"), RS_NO_EXPIRE, &added);
    CHECK(added == 1, "hash_set new field: added");
    s->ops->hash_set(s, id, &LIT("f2"), &LIT("v2"), 1000, NULL);
    s->ops->hash_set(s, id, &LIT("f3"), &LIT("v3"), now + 3600000, NULL);

    id = mkkey(s, 0, LIT("l"), RS_T_LIST, RS_NO_EXPIRE, NULL);
    s->ops->list_push(s, id, 0, &LIT("a"));
    s->ops->list_push(s, id, 0, &LIT("b"));
    s->ops->list_push(s, id, 0, &LIT("c"));

    id = mkkey(s, 0, LIT("s"), RS_T_SET, RS_NO_EXPIRE, NULL);
    s->ops->set_add(s, id, &LIT("x"), NULL);
    s->ops->set_add(s, id, &LIT("y"), NULL);
    s->ops->set_add(s, id, &LIT("\xc0"), NULL);

    id = mkkey(s, 0, LIT("z"), RS_T_ZSET, RS_NO_EXPIRE, NULL);
    s->ops->zset_set(s, id, &LIT("m1"), 1.5);
    s->ops->zset_set(s, id, &LIT("m2"), -2);

    id = mkkey(s, 0, LIT("st"), RS_T_STREAM, RS_NO_EXPIRE, NULL);
    s->ops->stream_add(s, id, &(struct rs_stream_id){ 1, 1 }, 0, &LIT("f"), &LIT("v"));
    s->ops->stream_add(s, id, &(struct rs_stream_id){ 1, 1 }, 1, &LIT("g"), &LIT("w"));
    s->ops->stream_add(s, id, &(struct rs_stream_id){ 2, 0 }, 0, &LIT("f"), &LIT("x"));
    s->ops->stream_meta_set(s, id, &(struct rs_stream_meta){ 2, { 2, 0 }, 1, { 1, 1 },
                                                              { 0, 0 }, 2 });
    s->ops->stream_group(s, id, &(struct rs_stream_group){ LIT("g1"), { 1, 1 }, 1 });
    s->ops->stream_pending(s, id, &(struct rs_stream_pending){ { 1, 1 }, now, 1 });
    s->ops->stream_consumer(s, id, &(struct rs_stream_consumer){ LIT("c1"), now, -1 });
    check_rc(s, s->ops->stream_consumer_pending(s, id, &(struct rs_stream_id){ 1, 1 }),
             "load: stream group, PEL, consumer");
    check_rc(s, s->ops->function_store(s, &LIT("#!lua name=mylib\nredis.register_function"
                                                "('f', function() return 1 end)")),
             "load: function_store");
    CHECK(s->err.code == 0, "load: no error (%s)", s->err.msg);
}

static void check_first_views(void)
{
    check_q("SELECT count(*) FROM redis_keys", "11");
    check_q("SELECT hex(key), typeof(key), type, typeof(type) FROM redis_keys"
            " WHERE key = CAST(X'FFFE006B' AS BLOB)", "FFFE006B|blob|string|text");
    check_q("SELECT hex(key), typeof(key), length(CAST(key AS BLOB)) FROM redis_keys"
            " WHERE key = 'a' || char(0) || 'b'", "610062|text|3");
    check_q("SELECT value, typeof(value) FROM redis_strings WHERE key = 'str:utf8'",
            "h\xc3\xa9llo|text");
    check_q("SELECT hex(value), typeof(value) FROM redis_strings"
            " WHERE key = X'FFFE006B'", "8081|blob");
    check_q("SELECT value, typeof(value) FROM redis_strings WHERE key = 'empty'", "|text");
    check_q("SELECT count(*) FROM redis_keys WHERE key = 'expired'", "0");
    check_q("SELECT count(*) FROM g2_keys WHERE key = 'expired'", "1");
    check_q("SELECT typeof(expire_at), expire_at > 0 FROM redis_keys"
            " WHERE key = 'cl\xc3\xa9:\xe2\x82\xac'", "integer|1");
    check_q("SELECT typeof(expire_at) FROM redis_keys WHERE key = 'h'", "null");
    check_q("SELECT db, value FROM redis_strings WHERE key = 'k'", "1|one");
    check_q("SELECT field, value, typeof(expire_at) FROM redis_hashes WHERE key = 'h'"
            " ORDER BY field", "f1|v1|null;f3|v3|integer");
    check_q("SELECT idx, typeof(idx), value FROM redis_lists WHERE key = 'l' ORDER BY idx",
            "0|integer|a;1|integer|b;2|integer|c");
    check_q("SELECT hex(member), typeof(member) FROM redis_sets WHERE key = 's'"
            " ORDER BY member", "78|text;79|text;C0|blob");
    check_q("SELECT member, score, typeof(score) FROM redis_zsets ORDER BY score",
            "m2|-2.0|real;m1|1.5|real");
    check_q("SELECT id, typeof(id), ms, seq, pos, field, value FROM redis_streams"
            " ORDER BY ms, seq, pos", "1-1|text|1|1|0|f|v;1-1|text|1|1|1|g|w;2-0|text|2|0|0|f|x");
    check_q("SELECT grp, ms, seq, consumer, delivery_count FROM g2_spel", "g1|1|1|c1|1");
    check_q("SELECT name FROM g2_func", "mylib");
    check_q("SELECT master_replid, offset, db, state, generation, keys_loaded FROM redsink_status",
            "0123456789012345678901234567890123456789|100|3|new|2|12");
}

struct got { char buf[16]; size_t len; };

static void got_string(void *ud, const struct rs_bytes *v)
{
    struct got *g = ud;

    memcpy(g->buf, v->ptr, v->len < sizeof(g->buf) ? v->len : sizeof(g->buf));
    g->len = v->len;
}

static void test_stream_ops(struct sink *s)
{
    struct got got = { "", 0 };
    struct repl_pos pos;
    struct rs_stream_meta m;
    enum rs_type t;
    int64_t id;
    int r, found;
    uint64_t removed;
    double score;

    check_rc(s, s->ops->begin(s), "begin");
    id = find(s, 0, LIT("h"), &t);
    CHECK(id > 0 && t == RS_T_HASH, "key_find hash");
    CHECK(find(s, 0, LIT("\xff\xfe\0k"), &t) > 0 && t == RS_T_STRING, "key_find binary key");
    CHECK(find(s, 0, LIT("a\0b"), NULL) > 0, "key_find key with NUL");
    CHECK(find(s, 0, LIT("a"), NULL) < 0, "key_find 'a' is not 'a\\0b'");
    CHECK(find(s, 1, LIT("h"), NULL) < 0, "key_find other db");
    s->ops->hash_set(s, id, &LIT("f1"), &LIT("V1"), RS_NO_EXPIRE, &r);
    CHECK(r == 0, "hash_set existing field: not added");
    s->ops->hash_set(s, id, &LIT("f4"), &LIT("v4"), RS_NO_EXPIRE, &r);
    CHECK(r == 1, "hash_set new field: added");
    s->ops->hash_del(s, id, &LIT("f3"), &r);
    CHECK(r == 1, "hash_del existing: removed");
    s->ops->hash_del(s, id, &LIT("nope"), &r);
    CHECK(r == 0, "hash_del missing: not removed");

    /* Uncommitted: the reader still sees the last commit. */
    check_q("SELECT group_concat(field) FROM redis_hashes WHERE key = 'h'", "f1,f3");

    id = find(s, 0, LIT("l"), NULL);
    s->ops->list_push(s, id, 1, &LIT("z0"));
    s->ops->list_push(s, id, 0, &LIT("d"));
    s->ops->list_push(s, id, 1, &LIT("z1"));

    id = find(s, 0, LIT("s"), NULL);
    s->ops->set_add(s, id, &LIT("x"), &r);
    CHECK(r == 0, "set_add existing: not added");
    s->ops->set_add(s, id, &LIT("w"), &r);
    CHECK(r == 1, "set_add new: added");
    s->ops->set_rem(s, id, &LIT("y"), &r);
    CHECK(r == 1, "set_rem: removed");
    s->ops->set_rem(s, id, &LIT("\xc0"), &r);
    CHECK(r == 1, "set_rem binary member (BLOB bound as BLOB): removed");

    id = find(s, 0, LIT("z"), NULL);
    s->ops->zset_set(s, id, &LIT("m1"), 3.0);
    s->ops->zset_score(s, id, &LIT("m1"), &found, &score);
    CHECK(found && score == 3.0, "zset_score after zset_set");
    s->ops->zset_rem(s, id, &LIT("m2"), &r);
    CHECK(r == 1, "zset_rem: removed");
    s->ops->zset_score(s, id, &LIT("m2"), &found, &score);
    CHECK(!found, "zset_score of removed member: not found");

    id = find(s, 0, LIT("st"), NULL);
    s->ops->stream_add(s, id, &(struct rs_stream_id){ 3, 0 }, 0, &LIT("f"), &LIT("y"));
    s->ops->stream_meta_get(s, id, &m);
    CHECK(m.length == 2 && m.last_id.ms == 2 && m.has_v2 && m.first_id.seq == 1 &&
          m.entries_added == 2, "stream_meta_get after load");
    m.length = 3;
    m.last_id = (struct rs_stream_id){ 3, 0 };
    m.entries_added = 3;
    s->ops->stream_meta_set(s, id, &m);
    memset(&m, 0, sizeof(m));
    s->ops->stream_meta_get(s, id, &m);
    CHECK(m.length == 3 && m.last_id.ms == 3 && m.entries_added == 3, "stream_meta round trip");
    check_rc(s, s->ops->stream_trim(s, id, NULL, 2, -1, &removed), "stream_trim MAXLEN 2");
    CHECK(removed == 1, "stream_trim MAXLEN 2 removed 1 (%llu)", (unsigned long long)removed);
    check_rc(s, s->ops->stream_trim(s, id, &(struct rs_stream_id){ 3, 0 }, -1, -1, &removed),
             "stream_trim MINID 3-0");
    CHECK(removed == 1, "stream_trim MINID removed 1 (%llu)", (unsigned long long)removed);
    s->ops->stream_trim(s, id, NULL, 5, -1, &removed);
    CHECK(removed == 0, "stream_trim MAXLEN above length removes nothing");
    /* MAXLEN with the length the caller knows: no count */
    {
        int64_t t = mkkey(s, 0, LIT("st:known"), RS_T_STREAM, RS_NO_EXPIRE, NULL);

        for (uint64_t ms = 1; ms <= 4; ms++)
            s->ops->stream_add(s, t, &(struct rs_stream_id){ ms, 0 }, 0, &LIT("f"), &LIT("v"));
        check_rc(s, s->ops->stream_trim(s, t, NULL, 1, 4, &removed), "stream_trim, length known");
        CHECK(removed == 3, "stream_trim MAXLEN 1 of 4 known removed 3 (%llu)",
              (unsigned long long)removed);
        check_rc(s, s->ops->stream_trim(s, t, NULL, 1, 1, &removed), "stream_trim, at MAXLEN");
        CHECK(removed == 0, "stream_trim MAXLEN 1 of 1 known removes nothing");
        check_rc(s, s->ops->key_delete(s, t), "key_delete st:known");
    }

    id = find(s, 0, LIT("str:utf8"), NULL);
    check_rc(s, s->ops->key_rename(s, id, 2, &LIT("renamed")), "key_rename");
    CHECK(find(s, 0, LIT("str:utf8"), NULL) < 0, "renamed: old name gone");
    CHECK(find(s, 2, LIT("renamed"), NULL) == id, "renamed: new name, same id");
    check_rc(s, s->ops->string_set(s, id, &LIT("\x01\x02\xff")), "string_set");

    id = find(s, 0, LIT("z"), NULL);
    s->ops->key_is_empty(s, id, RS_T_ZSET, &r);
    CHECK(r == 0, "key_is_empty: not empty");
    s->ops->zset_rem(s, id, &LIT("m1"), NULL);
    s->ops->key_is_empty(s, id, RS_T_ZSET, &r);
    CHECK(r == 1, "key_is_empty: empty after last zset_rem");
    check_rc(s, s->ops->key_delete(s, id), "key_delete zset");

    id = find(s, 0, LIT("s"), NULL);
    check_rc(s, s->ops->key_delete(s, id), "key_delete set");
    id = find(s, 0, LIT("empty"), NULL);
    check_rc(s, s->ops->key_set_expire(s, id, 1000), "key_set_expire (past)");
    id = find(s, 0, LIT("cl\xc3\xa9:\xe2\x82\xac"), NULL);
    check_rc(s, s->ops->key_set_expire(s, id, RS_NO_EXPIRE), "key_set_expire (persist)");
    check_rc(s, s->ops->flush_db(s, 1), "flush_db 1");
    s->ops->unknown_command(s, &LIT("FOO"));
    s->ops->unknown_command(s, &LIT("foo"));
    check_rc(s, s->ops->set_state(s, "streaming", "in txn"), "set_state in a transaction");
    pos = (struct repl_pos){ "abcdefabcdefabcdefabcdefabcdefabcdefabcd", 200, 2 };
    check_rc(s, s->ops->commit(s, &pos, &(struct sink_stats){ 13, 42, 2 }), "commit");

    check_q("SELECT field, value FROM redis_hashes WHERE key = 'h' ORDER BY field",
            "f1|V1;f4|v4");
    check_q("SELECT idx, value FROM redis_lists WHERE key = 'l' ORDER BY idx",
            "0|z1;1|z0;2|a;3|b;4|c;5|d");
    check_q("SELECT count(*) FROM redis_sets", "0");
    check_q("SELECT count(*) FROM redis_zsets", "0");
    check_q("SELECT count(*) FROM g2_zset UNION ALL SELECT count(*) FROM g2_set", "0;0");
    check_q("SELECT id, field, value FROM redis_streams", "3-0|f|y");
    check_q("SELECT db, key, hex(value), typeof(value) FROM redis_strings"
            " WHERE key = 'renamed'", "2|renamed|0102FF|blob");
    check_q("SELECT count(*) FROM redis_keys WHERE key IN ('empty', 'k')", "0");
    check_q("SELECT typeof(expire_at) FROM redis_keys WHERE key = 'cl\xc3\xa9:\xe2\x82\xac'",
            "null");
    check_q("SELECT name, count FROM redsink_unknown_commands", "foo|2");
    check_q("SELECT master_replid, offset, db, state, detail, commands_applied,"
            " unknown_commands FROM redsink_status",
            "abcdefabcdefabcdefabcdefabcdefabcdefabcd|200|2|streaming|in txn|42|2");
    memset(&pos, 0, sizeof(pos));
    check_rc(s, s->ops->read_checkpoint(s, &pos), "read_checkpoint");
    CHECK(pos.offset == 200 && pos.db == 2 &&
          strcmp(pos.replid, "abcdefabcdefabcdefabcdefabcdefabcdefabcd") == 0,
          "read_checkpoint after commit: %s %lld %d", pos.replid, (long long)pos.offset, pos.db);

    check_rc(s, s->ops->string_get(s, find(s, 0, LIT("a\0b"), NULL), got_string, &got),
             "string_get");
    CHECK(got.len == 3 && memcmp(got.buf, "nul", 3) == 0, "string_get bytes");

    /* rollback discards, and the sticky error clears */
    check_rc(s, s->ops->begin(s), "begin (to roll back)");
    mkkey(s, 0, LIT("temp"), RS_T_STRING, RS_NO_EXPIRE, &LIT("t"));
    id = find(s, 0, LIT("h"), NULL);
    s->ops->hash_set(s, id, &LIT("f9"), &LIT("v9"), RS_NO_EXPIRE, NULL);
    CHECK(s->ops->key_create(s, 0, &LIT("temp"), RS_T_STRING, RS_NO_EXPIRE, &LIT("t"), &id)
          == -1 && s->err.code == RS_E_SQL, "duplicate key_create fails: %s", s->err.msg);
    CHECK(s->ops->set_add(s, 1, &LIT("q"), NULL) == -1, "error is sticky");
    check_rc(s, s->ops->rollback(s), "rollback");
    CHECK(s->err.code == 0, "rollback clears the error");
    CHECK(find(s, 0, LIT("temp"), NULL) < 0, "rolled-back key is gone");
    check_q("SELECT count(*) FROM redis_hashes WHERE field = 'f9'", "0");
    check_rc(s, s->ops->read_checkpoint(s, &pos), "read_checkpoint after rollback");
    CHECK(pos.offset == 200, "checkpoint unchanged by rollback");
    check_rc(s, s->ops->set_state(s, "idle", NULL), "set_state idle");
    check_q("SELECT state, typeof(detail) FROM redsink_status", "idle|null");
}

/* Stream metadata is written back (sqlite_stream.c): readers of the
 * file see it at commit, a rollback drops it, and copy, delete and
 * evictions from the cache see the latest value. */
static void test_smeta_cache(struct sink *s)
{
    struct repl_pos pos = { "abcdefabcdefabcdefabcdefabcdefabcdefabcd", 300, 0 };
    struct rs_stream_meta m = { 0 };
    char sql[160], want[64];
    int64_t id, copy = -1, first = 0, sum = 0;

    check_rc(s, s->ops->begin(s), "begin (stream metadata)");
    id = mkkey(s, 9, LIT("sm"), RS_T_STREAM, RS_NO_EXPIRE, NULL);
    s->ops->stream_add(s, id, &(struct rs_stream_id){ 5, 0 }, 0, &LIT("f"), &LIT("v"));
    m.length = 1;
    m.last_id = m.first_id = (struct rs_stream_id){ 5, 0 };
    check_rc(s, s->ops->stream_meta_set(s, id, &m), "stream_meta_set");
    m.length = 7;
    check_rc(s, s->ops->stream_meta_set(s, id, &m), "stream_meta_set again");
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM g2_smeta WHERE kid = %lld", (long long)id);
    check_q(sql, "0");                                   /* not committed */
    check_rc(s, s->ops->key_copy(s, id, 9, &LIT("sm:copy"), &copy), "key_copy a stream");
    memset(&m, 0, sizeof(m));
    s->ops->stream_meta_get(s, copy, &m);
    CHECK(m.length == 7 && m.last_id.ms == 5, "the copy has the latest metadata (%llu)",
          (unsigned long long)m.length);
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (stream metadata)");
    snprintf(sql, sizeof(sql), "SELECT length FROM g2_smeta WHERE kid IN (%lld, %lld)",
             (long long)id, (long long)copy);
    check_q(sql, "7;7");

    check_rc(s, s->ops->begin(s), "begin (metadata to roll back)");
    m.length = 9;
    s->ops->stream_meta_set(s, id, &m);
    check_rc(s, s->ops->rollback(s), "rollback (metadata)");
    check_rc(s, s->ops->begin(s), "begin (after the rollback)");
    s->ops->stream_meta_get(s, id, &m);
    CHECK(m.length == 7, "rolled-back metadata is gone (%llu)", (unsigned long long)m.length);

    /* more streams than cache slots (131072): evicted ones are written,
     * and the list of changed slots overflows */
    for (int i = 0; i < 140000; i++) {
        char name[32];
        int64_t k;

        snprintf(name, sizeof(name), "sm:%d", i);
        k = mkkey(s, 9, (struct rs_bytes){ name, strlen(name) }, RS_T_STREAM, RS_NO_EXPIRE, NULL);
        first = first ? first : k;
        m.length = (uint64_t)i + 1;
        sum += i + 1;
        s->ops->stream_meta_set(s, k, &m);
    }
    m.length = 11;
    s->ops->stream_meta_set(s, id, &m);
    check_rc(s, s->ops->key_delete(s, id), "key_delete a stream with cached metadata");
    pos.offset = 400;
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (140000 streams)");
    snprintf(sql, sizeof(sql), "SELECT count(*), sum(length) FROM g2_smeta WHERE kid >= %lld",
             (long long)first);
    snprintf(want, sizeof(want), "140000|%lld", (long long)sum);
    check_q(sql, want);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM g2_smeta WHERE kid = %lld", (long long)id);
    check_q(sql, "0");

    /* a new stream's row goes in by INSERT OR REPLACE (sqi_smeta_sync): a
     * deleted stream's row, whose id the new one reuses, must be gone */
    check_rc(s, s->ops->begin(s), "begin (id reuse)");
    id = mkkey(s, 9, LIT("sm:last"), RS_T_STREAM, RS_NO_EXPIRE, NULL);
    m.length = 5;
    s->ops->stream_meta_set(s, id, &m);
    pos.offset = 410;
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (a stream to delete)");
    check_rc(s, s->ops->begin(s), "begin (delete, then a new stream)");
    check_rc(s, s->ops->key_delete(s, id), "key_delete (id reuse)");
    CHECK(mkkey(s, 9, LIT("sm:again"), RS_T_STREAM, RS_NO_EXPIRE, NULL) == id,
          "the new stream reuses the id");
    m.length = 3;
    s->ops->stream_meta_set(s, id, &m);
    pos.offset = 420;
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (id reuse)");
    snprintf(sql, sizeof(sql), "SELECT length FROM g2_smeta WHERE kid = %lld", (long long)id);
    check_q(sql, "3");
    check_rc(s, s->ops->begin(s), "begin (cleanup)");
    check_rc(s, s->ops->flush_db(s, 9), "flush_db 9");
    pos.offset = 500;
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (cleanup)");
    check_q("SELECT count(*) FROM g2_smeta WHERE kid NOT IN (SELECT id FROM g2_keys)", "0");
}

/* The list bounds cache (sqlite_list.c): pushes, pops and trims keep it,
 * LINSERT and LREM drop it, a rollback, a delete (the id reused by the
 * next list), a copy and FLUSHDB forget it. The view, read from SQL by
 * the test's own connection, must show what a model of the list holds. */
static void lb_check(const char *key, const char *want)
{
    char sql[160];

    snprintf(sql, sizeof(sql), "SELECT idx, value FROM redis_lists WHERE db = 11 AND key = '%s'"
             " ORDER BY idx", key);
    check_q(sql, want);
}

static void lb_commit(struct sink *s, struct repl_pos *pos, int64_t offset, const char *what)
{
    pos->offset = offset;
    check_rc(s, s->ops->commit(s, pos, NULL), what);
}

static void test_list_bounds(struct sink *s)
{
    struct repl_pos pos = { "abcdefabcdefabcdefabcdefabcdefabcdefabcd", 600, 0 };
    int64_t id, again, other, copy = -1, popped, removed;
    struct got got = { "", 0 };
    int empty = -1, found = 0;
    char name[32];

    check_rc(s, s->ops->begin(s), "begin (list bounds)");
    id = mkkey(s, 11, LIT("lb"), RS_T_LIST, RS_NO_EXPIRE, NULL);
    s->ops->list_push(s, id, 0, &LIT("a"));
    s->ops->list_push(s, id, 0, &LIT("b"));
    s->ops->list_push(s, id, 0, &LIT("c"));
    s->ops->list_push(s, id, 1, &LIT("z"));                 /* z a b c */
    s->ops->list_pop(s, id, 0, 1, NULL, NULL, &popped);      /* z a b */
    s->ops->list_pop(s, id, 1, 1, NULL, NULL, &popped);      /* a b */
    s->ops->key_is_empty(s, id, RS_T_LIST, &empty);
    CHECK(empty == 0, "key_is_empty: a list of 2 is not empty");
    check_rc(s, s->ops->list_insert(s, id, 0, 1, &LIT("X")), "LINSERT");   /* a X b */
    s->ops->list_push(s, id, 0, &LIT("c"));                 /* a X b c */
    check_rc(s, s->ops->list_rem(s, id, 0, &LIT("X"), &removed), "LREM");  /* a b c */
    s->ops->list_push(s, id, 1, &LIT("y"));                 /* y a b c */
    check_rc(s, s->ops->list_trim(s, id, 1, 2), "LTRIM 1 2");   /* a b */
    s->ops->list_push(s, id, 0, &LIT("d"));
    s->ops->list_push(s, id, 1, &LIT("w"));                 /* w a b d */
    /* lhead is written back at commit: LINDEX and LSET read it in SQL */
    check_rc(s, s->ops->list_get(s, id, 0, got_string, &got, &found), "LINDEX 0");
    CHECK(found && got.len == 1 && got.buf[0] == 'w', "LINDEX 0 after LPUSH is the new head");
    s->ops->list_push(s, id, 1, &LIT("u"));
    check_rc(s, s->ops->list_set(s, id, 0, &LIT("s")), "LSET 0");   /* s w a b d */
    s->ops->list_pop(s, id, 1, 1, NULL, NULL, &popped);      /* w a b d */
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (list bounds)");
    lb_check("lb", "0|w;1|a;2|b;3|d");

    /* a rollback takes the pushes and pops back, and the cached bounds */
    check_rc(s, s->ops->begin(s), "begin (list bounds, to roll back)");
    s->ops->list_push(s, id, 1, &LIT("r"));
    s->ops->list_push(s, id, 0, &LIT("t"));
    s->ops->list_pop(s, id, 1, 3, NULL, NULL, &popped);
    check_rc(s, s->ops->rollback(s), "rollback (list bounds)");
    check_rc(s, s->ops->begin(s), "begin (after the rollback)");
    s->ops->list_push(s, id, 0, &LIT("e"));
    s->ops->list_push(s, id, 1, &LIT("v"));
    lb_commit(s, &pos, 610, "commit (after the rollback)");
    lb_check("lb", "0|v;1|w;2|a;3|b;4|d;5|e");

    /* popped empty, deleted, and a new list on the same id (lhead 0) */
    check_rc(s, s->ops->begin(s), "begin (list id reuse)");
    s->ops->list_pop(s, id, 1, 2, NULL, NULL, &popped);
    s->ops->list_pop(s, id, 0, 9, NULL, NULL, &popped);
    CHECK(popped == 4, "pop 9 of 4 pops 4 (%lld)", (long long)popped);
    s->ops->key_is_empty(s, id, RS_T_LIST, &empty);
    CHECK(empty == 1, "key_is_empty: popped empty");
    check_rc(s, s->ops->key_delete(s, id), "key_delete (list id reuse)");
    again = mkkey(s, 11, LIT("lb2"), RS_T_LIST, RS_NO_EXPIRE, NULL);
    CHECK(again == id, "the new list reuses the id (%lld, %lld)", (long long)again,
          (long long)id);
    s->ops->key_is_empty(s, again, RS_T_LIST, &empty);
    CHECK(empty == 1, "key_is_empty: a new list");
    s->ops->list_push(s, again, 0, &LIT("n"));
    check_rc(s, s->ops->key_copy(s, again, 11, &LIT("lb3"), &copy), "key_copy a list");
    s->ops->list_push(s, copy, 0, &LIT("m"));
    s->ops->list_push(s, copy, 1, &LIT("l"));
    s->ops->list_pop(s, again, 1, 1, NULL, NULL, &popped);
    s->ops->list_push(s, again, 1, &LIT("o"));
    lb_commit(s, &pos, 620, "commit (list id reuse)");
    lb_check("lb2", "0|o");
    lb_check("lb3", "0|l;1|n;2|m");

    /* FLUSHDB (another db's list has an unwritten head), then a list on
     * a reused id again */
    check_rc(s, s->ops->begin(s), "begin (list bounds, flush)");
    s->ops->list_push(s, copy, 1, &LIT("k"));
    other = mkkey(s, 12, LIT("lbf"), RS_T_LIST, RS_NO_EXPIRE, NULL);
    s->ops->list_push(s, other, 0, &LIT("f"));
    s->ops->list_push(s, other, 1, &LIT("e"));
    check_rc(s, s->ops->flush_db(s, 11), "flush_db 11");
    again = mkkey(s, 11, LIT("lb4"), RS_T_LIST, RS_NO_EXPIRE, NULL);
    s->ops->list_push(s, again, 1, &LIT("p"));
    s->ops->list_push(s, again, 0, &LIT("q"));
    lb_commit(s, &pos, 630, "commit (list bounds, flush)");
    lb_check("lb4", "0|p;1|q");
    check_q("SELECT count(*) FROM redis_lists WHERE db = 11 AND key <> 'lb4'", "0");
    check_q("SELECT idx, value FROM redis_lists WHERE db = 12 ORDER BY idx", "0|e;1|f");
    /* two lists on one slot (ids 16,384 apart): a head each, unwritten
     * in turn; and COPY of a list whose head is unwritten */
    check_rc(s, s->ops->begin(s), "begin (list bounds, one slot)");
    s->ops->list_push(s, again, 1, &LIT("o"));
    for (int i = 0; (other = mkkey(s, 11, (struct rs_bytes){ name, (size_t)snprintf(name,
         sizeof(name), "lb:%d", i) }, RS_T_STRING, RS_NO_EXPIRE, &LIT("v"))) > 0 &&
         other < again + 16383; i++)
        ;
    other = mkkey(s, 11, LIT("lb5"), RS_T_LIST, RS_NO_EXPIRE, NULL);
    CHECK(other == again + 16384, "a list 16,384 ids on (%lld, %lld)", (long long)other,
          (long long)again);
    s->ops->list_push(s, other, 1, &LIT("x"));
    s->ops->list_push(s, other, 1, &LIT("y"));
    s->ops->list_push(s, again, 1, &LIT("n"));
    s->ops->list_pop(s, again, 1, 1, NULL, NULL, &popped);
    s->ops->list_push(s, other, 1, &LIT("z"));
    check_rc(s, s->ops->key_copy(s, other, 11, &LIT("lb6"), &copy), "key_copy (head unwritten)");
    s->ops->list_push(s, copy, 1, &LIT("c"));
    lb_commit(s, &pos, 635, "commit (list bounds, one slot)");
    lb_check("lb4", "0|o;1|p;2|q");
    lb_check("lb5", "0|z;1|y;2|x");
    lb_check("lb6", "0|c;1|z;2|y;3|x");
    /* a list deleted with its head unwritten, and a string on its id: the
     * head must not reach the string's row (its lhead is the text flag) */
    check_rc(s, s->ops->begin(s), "begin (list bounds, delete)");
    id = mkkey(s, 11, LIT("lb7"), RS_T_LIST, RS_NO_EXPIRE, NULL);
    s->ops->list_push(s, id, 1, &LIT("h"));
    s->ops->list_push(s, id, 1, &LIT("g"));
    check_rc(s, s->ops->key_delete(s, id), "key_delete (head unwritten)");
    again = mkkey(s, 11, LIT("lb8"), RS_T_STRING, RS_NO_EXPIRE, &LIT("\xff\x00"));
    CHECK(again == id, "the string reuses the list's id (%lld, %lld)", (long long)again,
          (long long)id);
    lb_commit(s, &pos, 638, "commit (list bounds, delete)");
    check_q("SELECT hex(value), typeof(value) FROM redis_strings WHERE db = 11 AND key = 'lb8'",
            "FF00|blob");
    check_rc(s, s->ops->begin(s), "begin (list bounds, cleanup)");
    check_rc(s, s->ops->flush_db(s, 11), "flush_db 11 (cleanup)");
    check_rc(s, s->ops->flush_db(s, 12), "flush_db 12 (cleanup)");
    lb_commit(s, &pos, 640, "commit (list bounds, cleanup)");
    CHECK(s->err.code == 0, "list bounds: no error (%s)", s->err.msg);
}

/* A stream transaction's buffered rows (sqlite_bulk.c): list pushes and
 * stream entries wait for the next statement, then go as multi-row
 * INSERTs. Every read in the same transaction must see them (LINDEX,
 * LRANGE, a pop, LLEN, XRANGE, XDEL, a trim), a push too big to buffer
 * must land in order, more rows than a statement takes must all land, a
 * rollback must drop them, FLUSHALL must not see them come back after it,
 * and the commit must hold them. So for pops, which wait as a range of
 * positions: a push after them may take a freed position. The lists are
 * checked against a model. */
struct bulk_model { char v[700][8]; int head, tail; };   /* elements head..tail-1 */

static void bm_push(struct sink *s, int64_t id, struct bulk_model *m, int at_head, int n)
{
    char *e = at_head ? m->v[--m->head] : m->v[m->tail++];

    snprintf(e, 8, "%c%d", at_head ? 'h' : 't', n);
    s->ops->list_push(s, id, at_head, &(struct rs_bytes){ e, strlen(e) });
}

/* The list db 13 'bl' against the model (a big element by its length). */
static void bm_check(const struct bulk_model *m, size_t bigl, size_t hugel, const char *what)
{
    static char want[8192], sql[240];
    size_t o = 0;

    want[0] = '\0';
    for (int i = m->head; i < m->tail && o < sizeof(want) - 32; i++)
        o += (size_t)snprintf(want + o, sizeof(want) - o, "%s%d|%s", i > m->head ? ";" : "",
                              i - m->head, m->v[i]);
    snprintf(sql, sizeof(sql), "SELECT idx, CASE length(value) WHEN %zu THEN 'BIG' WHEN %zu"
             " THEN 'HUGE' ELSE value END FROM redis_lists WHERE db = 13 AND key = 'bl'"
             " ORDER BY idx", bigl, hugel);
    CHECK(strcmp(q(sql), want) == 0, "%s: the list is the model's", what);
}

/* Pop 'count' from one end without reading them (RPOP, LPOP: deferred). */
static void bm_pop(struct sink *s, int64_t id, struct bulk_model *m, int from_head, int count)
{
    int64_t popped = -1;

    check_rc(s, s->ops->list_pop(s, id, from_head, count, NULL, NULL, &popped), "list_pop");
    CHECK(popped == count, "pop %d pops %lld", count, (long long)popped);
    if (from_head)
        m->head += count;
    else
        m->tail -= count;
}

struct bm_range { const struct bulk_model *m; int n, bad; };

static void bm_range_cb(void *ud, int64_t index, const struct rs_bytes *v)
{
    struct bm_range *r = ud;
    const char *e = r->m->v[r->m->head + index];

    if (index != r->n++ || v->len != strlen(e) || memcmp(v->ptr, e, v->len) != 0)
        r->bad++;
}

static void test_stream_bulk(struct sink *s)
{
    struct repl_pos pos = { "abcdefabcdefabcdefabcdefabcdefabcdefabcd", 700, 0 };
    static struct bulk_model m;
    struct got got = { "", 0 };
    struct bm_range r = { &m, 0, 0 };
    int64_t l, x, q2, len = -1, popped = 0;
    uint64_t removed = 0;
    int found = 0, deleted = 0, n = 0;
    size_t bigl = 300 * 1024, hugel = (1 << 20) + 1;
    char *big = malloc(bigl), *huge = malloc(hugel), sql[200];

    m.head = m.tail = 350;
    memset(big, 'B', bigl);
    memset(huge, 'H', hugel);
    check_rc(s, s->ops->begin(s), "begin (buffered rows)");
    l = mkkey(s, 13, LIT("bl"), RS_T_LIST, RS_NO_EXPIRE, NULL);
    x = mkkey(s, 13, LIT("bx"), RS_T_STREAM, RS_NO_EXPIRE, NULL);
    /* 150 pushes, both ends, between stream entries: both tables wait,
     * past 64 rows a statement */
    for (int i = 0; i < 150; i++) {
        bm_push(s, l, &m, i % 3 == 0, n++);
        check_rc(s, s->ops->stream_add(s, x, &(struct rs_stream_id){ 5, (uint64_t)i }, 0,
                                       &LIT("f"), &LIT("v")), "stream_add (buffered)");
    }
    /* reads in the same transaction see every buffered row */
    check_rc(s, s->ops->list_get(s, l, 149, got_string, &got, &found), "LINDEX 149");
    CHECK(found && got.len == strlen(m.v[m.tail - 1]) &&
          memcmp(got.buf, m.v[m.tail - 1], got.len) == 0, "LINDEX of the last tail push");
    check_rc(s, s->ops->list_len(s, l, &len), "LLEN");
    CHECK(len == 150, "LLEN counts the buffered pushes (%lld)", (long long)len);
    bm_push(s, l, &m, 0, n++);
    check_rc(s, s->ops->list_range(s, l, 0, 150, bm_range_cb, &r), "LRANGE 0 150");
    CHECK(r.n == 151 && r.bad == 0, "LRANGE sees 151 elements in order (%d, %d bad)", r.n,
          r.bad);
    /* a push too big to buffer goes by its own statement, after the
     * pending rows: its position is the list's tail */
    m.tail++;
    snprintf(m.v[m.tail - 1], 8, "BIG");
    check_rc(s, s->ops->list_push(s, l, 0, &(struct rs_bytes){ big, bigl }), "RPUSH 300 KiB");
    bm_push(s, l, &m, 1, n++);
    m.head--;
    snprintf(m.v[m.head], 8, "HUGE");
    check_rc(s, s->ops->list_push(s, l, 1, &(struct rs_bytes){ huge, hugel }),
             "LPUSH 1 MiB + 1 (gN_big)");
    bm_push(s, l, &m, 0, n++);
    bm_push(s, l, &m, 1, n++);
    /* a pop takes a buffered row */
    bm_push(s, l, &m, 0, n++);
    check_rc(s, s->ops->list_pop(s, l, 0, 1, got_string, &got, &popped), "RPOP");
    CHECK(popped == 1 && got.len == strlen(m.v[m.tail - 1]) &&
          memcmp(got.buf, m.v[m.tail - 1], got.len) == 0, "RPOP pops the buffered push");
    m.tail--;
    /* the stream: XDEL of a buffered entry, then a trim */
    check_rc(s, s->ops->stream_delete(s, x, &(struct rs_stream_id){ 5, 149 }, &deleted),
             "XDEL a buffered entry");
    CHECK(deleted == 1, "XDEL finds the buffered entry");
    check_rc(s, s->ops->stream_add(s, x, &(struct rs_stream_id){ 6, 0 }, 0, &LIT("g"),
                                   &LIT("w")), "stream_add (after XDEL)");
    check_rc(s, s->ops->stream_trim(s, x, NULL, 100, 150, &removed), "XTRIM MAXLEN 100");
    CHECK(removed == 50, "the trim removes 50 of the buffered entries (%llu)",
          (unsigned long long)removed);
    for (int i = 0; i < 70; i++)
        bm_push(s, l, &m, i % 2, n++);
    /* pops wait as one range: over buffered rows, then read by LINDEX;
     * a push after pops takes a position they free */
    for (int i = 0; i < 30; i++)
        bm_pop(s, l, &m, 0, 1);
    check_rc(s, s->ops->list_get(s, l, m.tail - m.head - 1, got_string, &got, &found),
             "LINDEX -1 after 30 RPOPs");
    CHECK(found && got.len == strlen(m.v[m.tail - 1]) &&
          memcmp(got.buf, m.v[m.tail - 1], got.len) == 0, "LINDEX -1 after 30 deferred RPOPs");
    bm_pop(s, l, &m, 1, 2);
    bm_pop(s, l, &m, 1, 3);
    bm_pop(s, l, &m, 0, 2);                 /* the other end: a second range */
    bm_push(s, l, &m, 0, n++);
    bm_push(s, l, &m, 1, n++);
    bm_pop(s, l, &m, 0, 1);
    bm_pop(s, l, &m, 1, 1);
    for (int i = 0; i < 4; i++)
        bm_push(s, l, &m, i % 2, n++);
    bm_pop(s, l, &m, 0, 3);
    /* pops waiting when LTRIM deletes (another list's head unwritten, so
     * nothing else sends them first): its own range delete must keep its
     * bindings while the pops go first */
    q2 = mkkey(s, 13, LIT("bq"), RS_T_LIST, RS_NO_EXPIRE, NULL);
    s->ops->list_push(s, q2, 1, &LIT("q"));
    bm_pop(s, l, &m, 0, 2);
    check_rc(s, s->ops->list_trim(s, l, 2, m.tail - m.head - 3), "LTRIM 2 -3");
    m.head += 2;
    m.tail -= 2;
    lb_commit(s, &pos, 701, "commit (buffered rows)");
    check_q("SELECT count(*) FROM redis_lists WHERE db = 13 AND key = 'bl'", "184");
    bm_check(&m, bigl, hugel, "after the commit");
    check_q("SELECT count(*), min(ms * 1000 + seq), max(ms * 1000 + seq) FROM redis_streams"
            " WHERE db = 13 AND key = 'bx'", "100|5050|6000");

    /* a rollback drops the buffered rows: nothing of them at the next commit */
    check_rc(s, s->ops->begin(s), "begin (buffered rows, rolled back)");
    for (int i = 0; i < 10; i++)
        s->ops->list_push(s, l, i % 2, &LIT("rolled"));
    s->ops->stream_add(s, x, &(struct rs_stream_id){ 7, 0 }, 0, &LIT("r"), &LIT("r"));
    check_rc(s, s->ops->rollback(s), "rollback (buffered rows)");
    check_rc(s, s->ops->begin(s), "begin (pops, rolled back)");
    for (int i = 0; i < 9; i++)
        s->ops->list_pop(s, l, i % 2, 2, NULL, NULL, &popped);
    check_rc(s, s->ops->rollback(s), "rollback (pops)");
    check_rc(s, s->ops->begin(s), "begin (after the rollbacks)");
    bm_push(s, l, &m, 0, n++);
    /* pops of another list send the first list's */
    for (int i = 0; i < 4; i++)
        s->ops->list_push(s, q2, 0, &LIT("q"));
    bm_pop(s, l, &m, 1, 4);
    s->ops->list_pop(s, q2, 0, 2, NULL, NULL, &popped);
    bm_pop(s, l, &m, 0, 1);
    lb_commit(s, &pos, 702, "commit (after the rollbacks)");
    check_q("SELECT count(*) FROM redis_lists WHERE value = 'rolled'", "0");
    check_q("SELECT count(*) FROM redis_streams WHERE db = 13 AND field = 'r'", "0");
    check_q("SELECT count(*) FROM redis_lists WHERE db = 13 AND key = 'bl'", "180");
    check_q("SELECT count(*) FROM redis_lists WHERE db = 13 AND key = 'bq'", "3");
    bm_check(&m, bigl, hugel, "after the rollbacks");

    /* FLUSHALL with rows waiting: they must not come back after it */
    check_rc(s, s->ops->begin(s), "begin (buffered rows, FLUSHALL)");
    s->ops->list_push(s, l, 0, &LIT("flushed"));
    s->ops->stream_add(s, x, &(struct rs_stream_id){ 7, 1 }, 0, &LIT("fl"), &LIT("fl"));
    check_rc(s, s->ops->flush_db(s, -1), "FLUSHALL");
    lb_commit(s, &pos, 703, "commit (buffered rows, FLUSHALL)");
    snprintf(sql, sizeof(sql), "SELECT (SELECT count(*) FROM g%s_list) + (SELECT count(*) FROM"
             " g%s_stream)", q("SELECT generation FROM redsink_status"),
             q("SELECT generation FROM redsink_status"));
    check_q(sql, "0");
    free(big);
    free(huge);
    CHECK(s->err.code == 0, "buffered rows: no error (%s)", s->err.msg);
}

/* string_incr: one UPDATE takes exactly the values Redis' string2ll takes
 * and sums that fit in 64 bits; anything else is left unchanged for the
 * applier to read (and refuse, as Redis did). */
static void test_string_incr(struct sink *s)
{
    static const struct {
        const char *v;
        long long incr;
        const char *want;                  /* NULL: refused, value unchanged */
    } c[] = {
        { "41", 1, "42" }, { "0", 1, "1" }, { "-1", 1, "0" }, { "0", -1, "-1" },
        { "9223372036854775806", 1, "9223372036854775807" },
        { "9223372036854775807", 1, NULL }, { "9223372036854775807", 0, "9223372036854775807" },
        { "-9223372036854775807", -1, "-9223372036854775808" },
        { "-9223372036854775808", -1, NULL }, { "-9223372036854775808", 5, "-9223372036854775803" },
        { "0", INT64_MIN, "-9223372036854775808" }, { "-1", INT64_MIN, NULL },
        { "1", INT64_MIN, "-9223372036854775807" }, { "100", INT64_MAX - 100, "9223372036854775807" },
        { "100", INT64_MAX - 99, NULL }, { "9223372036854775808", -1, NULL },
        { "01", 1, NULL }, { "-0", 1, NULL }, { " 1", 1, NULL }, { "1 ", 1, NULL },
        { "+1", 1, NULL }, { "1e3", 1, NULL }, { "0x1", 1, NULL }, { "", 1, NULL }, { "-", 1, NULL },
        { "1.0", 1, NULL }, { "\xef\xbc\x91", 1, NULL },   /* a fullwidth digit */
        { "99999999999999999999", 1, NULL }, { "18446744073709551616", -1, NULL },
        { "-9223372036854775809", 1, NULL }, { "--1", 1, NULL }, { "1-", 1, NULL },
        { "-01", 1, NULL }, { "123456789012345678901", -1, NULL }, { "7", -7, "0" },
        { "-5", 10, "5" }, { "0", 0, "0" },
    };
    struct repl_pos pos = { "abcdefabcdefabcdefabcdefabcdefabcdefabcd", 700, 0 };
    char name[32], sql[96], want[48];
    int done;

    check_rc(s, s->ops->begin(s), "begin (string_incr)");
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct rs_bytes v = { c[i].v, strlen(c[i].v) };
        int64_t id;

        snprintf(name, sizeof(name), "si:%zu", i);
        id = mkkey(s, 13, (struct rs_bytes){ name, strlen(name) }, RS_T_STRING, RS_NO_EXPIRE, &v);
        done = -1;
        check_rc(s, s->ops->string_incr(s, id, c[i].incr, &done), "string_incr");
        CHECK(done == (c[i].want != NULL), "string_incr '%s' + %lld: done %d", c[i].v,
              c[i].incr, done);
    }
    /* a big value (a BLOB with the text flag) of digits, and a small
     * BLOB: neither touched */
    size_t bn = (1 << 20) + 1;
    char *big = malloc(bn);
    int64_t bid, sid;

    if (big == NULL) {
        CHECK(0, "string_incr: out of memory");
        return;
    }
    memset(big, '7', bn);
    bid = mkkey(s, 13, LIT("si:big"), RS_T_STRING, RS_NO_EXPIRE, &(struct rs_bytes){ big, bn });
    sid = mkkey(s, 13, LIT("si:bin"), RS_T_STRING, RS_NO_EXPIRE, &LIT("1\xff"));
    done = -1;
    check_rc(s, s->ops->string_incr(s, bid, 1, &done), "string_incr big");
    CHECK(done == 0, "string_incr of a big value: not done (%d)", done);
    done = -1;
    check_rc(s, s->ops->string_incr(s, sid, 1, &done), "string_incr binary");
    CHECK(done == 0, "string_incr of a binary value: not done (%d)", done);
    free(big);
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (string_incr)");
    check_q("SELECT key, length(value), typeof(value), substr(value, 1, 3) FROM redis_strings"
            " WHERE db = 13 AND key IN ('si:big', 'si:bin') ORDER BY key",
            "si:big|1048577|text|777;si:bin|2|blob|1\xff");
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        snprintf(sql, sizeof(sql), "SELECT value, typeof(value) FROM redis_strings WHERE db = 13"
                 " AND key = 'si:%zu'", i);
        snprintf(want, sizeof(want), "%s|text", c[i].want ? c[i].want : c[i].v);
        CHECK(strcmp(q(sql), want) == 0, "string_incr '%s' + %lld: %s, want %s", c[i].v,
              c[i].incr, q(sql), want);
    }
    check_rc(s, s->ops->begin(s), "begin (string_incr cleanup)");
    check_rc(s, s->ops->flush_db(s, 13), "flush_db 13");
    pos.offset = 710;
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (string_incr cleanup)");
}

/* Increments held in a transaction (sqlite_string.c): the second INCR of
 * a key adds in memory; a read, a rollback, an overflow, a new key, a
 * commit and a full table each see or write the right value. */
static void test_string_incr_held(struct sink *s)
{
    struct repl_pos pos = { "abcdefabcdefabcdefabcdefabcdefabcdefabcd", 712, 0 };
    struct got got = { "", 0 };
    int64_t k, n, *ids;
    int done;
    enum { MANY = 131072 + 100 };        /* past the table's 131,072 keys */
    char name[32];

    check_rc(s, s->ops->begin(s), "begin (held)");
    k = mkkey(s, 14, LIT("held:k"), RS_T_STRING, RS_NO_EXPIRE, &LIT("10"));
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (held setup)");

    /* a read after held increments sees them */
    check_rc(s, s->ops->begin(s), "begin (held read)");
    for (int i = 0; i < 5; i++) {
        done = -1;
        check_rc(s, s->ops->string_incr(s, k, 3, &done), "string_incr held");
        CHECK(done == 1, "held increment %d: done %d", i, done);
    }
    check_rc(s, s->ops->string_get(s, k, got_string, &got), "string_get after held");
    CHECK(got.len == 2 && memcmp(got.buf, "25", 2) == 0, "a read sees 10 + 5 x 3 = 25: '%.*s'",
          (int)got.len, got.buf);
    /* an overflow of a held value is refused, the row keeps the last sum */
    check_rc(s, s->ops->string_incr(s, k, 1, &done), "string_incr after the read");
    check_rc(s, s->ops->string_incr(s, k, INT64_MAX - 10, &done), "string_incr to overflow");
    CHECK(done == 0, "26 + (2^63 - 11) overflows: refused, done %d", done);
    check_rc(s, s->ops->string_get(s, k, got_string, &got), "string_get after the overflow");
    CHECK(got.len == 2 && memcmp(got.buf, "26", 2) == 0, "the row holds 26: '%.*s'", (int)got.len,
          got.buf);
    /* held values go with a rollback */
    check_rc(s, s->ops->string_incr(s, k, 100, &done), "string_incr before the rollback");
    check_rc(s, s->ops->string_incr(s, k, 100, &done), "string_incr held, rolled back");
    check_rc(s, s->ops->rollback(s), "rollback (held)");
    check_q("SELECT value FROM redis_strings WHERE db = 14 AND key = 'held:k'", "10");

    /* after the rollback nothing stale is held; a new key in between
     * keeps what is held; a commit writes it; negative sums */
    check_rc(s, s->ops->begin(s), "begin (held commit)");
    check_rc(s, s->ops->string_incr(s, k, -7, &done), "string_incr -7");
    check_rc(s, s->ops->string_incr(s, k, -7, &done), "string_incr -7 held");
    n = mkkey(s, 14, LIT("held:new"), RS_T_STRING, RS_NO_EXPIRE, &LIT("5"));
    check_rc(s, s->ops->string_incr(s, k, -7, &done), "string_incr -7 after a new key");
    check_rc(s, s->ops->string_incr(s, n, 1, &done), "string_incr the new key");
    check_rc(s, s->ops->string_incr(s, n, 1, &done), "string_incr the new key, held");
    pos.offset = 713;
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (held)");
    check_q("SELECT key, value, typeof(value) FROM redis_strings WHERE db = 14 ORDER BY key",
            "held:k|-11|text;held:new|7|text");

    /* more keys than the table holds, each incremented three times */
    if ((ids = malloc(MANY * sizeof(*ids))) == NULL) {
        CHECK(0, "held: out of memory");
        return;
    }
    check_rc(s, s->ops->begin(s), "begin (held many)");
    int bad = 0;

    for (int i = 0; i < MANY; i++) {
        snprintf(name, sizeof(name), "held:%d", i);
        bad += s->ops->key_create(s, 14, &(struct rs_bytes){ name, strlen(name) }, RS_T_STRING,
                                  RS_NO_EXPIRE, &LIT("0"), &ids[i]) != 0;
    }
    CHECK(bad == 0, "held: create %d keys (%s)", MANY, s->err.msg);

    /* each key's three in a row: the table is full of changed values */
    for (int i = 0; i < MANY; i++)
        for (int r = 1; r <= 3; r++)
            if (s->ops->string_incr(s, ids[i], i % 1000 - 500, &done) != 0 || done != 1)
                bad++;
    CHECK(bad == 0, "%d keys x 3 increments: %d not done", MANY, bad);
    pos.offset = 714;
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (held many)");
    long long want = 0;

    for (int i = 0; i < MANY; i++)
        want += 3LL * (i % 1000 - 500);
    snprintf(name, sizeof(name), "%lld", want);
    check_q("SELECT sum(CAST(value AS INTEGER)) FROM redis_strings WHERE db = 14"
            " AND key GLOB 'held:[0-9]*'", name);
    check_q("SELECT count(*) FROM redis_strings WHERE db = 14 AND key GLOB 'held:[0-9]*'"
            " AND CAST(value AS INTEGER) <> 3 * ((CAST(substr(key, 6) AS INTEGER) % 1000) - 500)",
            "0");
    free(ids);
    check_rc(s, s->ops->begin(s), "begin (held cleanup)");
    check_rc(s, s->ops->flush_db(s, 14), "flush_db 14");
    pos.offset = 715;
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (held cleanup)");
}

/* hash_incr: a missing field becomes the increment, an existing one is
 * summed under string_incr's rules with its TTL kept; a big value or a
 * big field name is left to the applier (done = 0, nothing written). */
static void test_hash_incr(struct sink *s)
{
    struct repl_pos pos = { "abcdefabcdefabcdefabcdefabcdefabcdefabcd", 720, 0 };
    size_t bn = (1 << 20) + 1;
    char *big = malloc(bn);
    int64_t h;
    int done[6];

    if (big == NULL) {
        CHECK(0, "hash_incr: out of memory");
        return;
    }
    memset(big, '1', bn);
    check_rc(s, s->ops->begin(s), "begin (hash_incr)");
    h = mkkey(s, 14, LIT("hi"), RS_T_HASH, RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, h, &LIT("n"), &LIT("41"), 4102444800000, NULL);
    s->ops->hash_set(s, h, &LIT("z"), &LIT("01"), RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, h, &LIT("max"), &LIT("9223372036854775807"), RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, h, &LIT("bv"), &(struct rs_bytes){ big, bn }, RS_NO_EXPIRE, NULL);
    check_rc(s, s->ops->hash_incr(s, h, &LIT("n"), 1, &done[0]), "hash_incr n");
    check_rc(s, s->ops->hash_incr(s, h, &LIT("z"), 1, &done[1]), "hash_incr z");
    check_rc(s, s->ops->hash_incr(s, h, &LIT("max"), 1, &done[2]), "hash_incr max");
    check_rc(s, s->ops->hash_incr(s, h, &LIT("new"), -3, &done[3]), "hash_incr new");
    check_rc(s, s->ops->hash_incr(s, h, &LIT("bv"), 1, &done[4]), "hash_incr big value");
    check_rc(s, s->ops->hash_incr(s, h, &(struct rs_bytes){ big, bn }, 1, &done[5]),
             "hash_incr big field");
    CHECK(done[0] && !done[1] && !done[2] && done[3] && !done[4] && !done[5],
          "hash_incr done: %d %d %d %d %d %d", done[0], done[1], done[2], done[3], done[4],
          done[5]);
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (hash_incr)");
    check_q("SELECT field, CASE WHEN length(value) > 99 THEN length(value) ELSE value END,"
            " typeof(value), expire_at FROM redis_hashes WHERE db = 14 ORDER BY field",
            "bv|1048577|text|NULL;max|9223372036854775807|text|NULL;n|42|text|4102444800000;"
            "new|-3|text|NULL;z|01|text|NULL");
    check_rc(s, s->ops->begin(s), "begin (hash_incr cleanup)");
    check_rc(s, s->ops->flush_db(s, 14), "flush_db 14");
    pos.offset = 730;
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (hash_incr cleanup)");
    free(big);
}

/* string_put: a plain SET in one upsert when the key cache does not know
 * the name; an existing string's value and TTL replaced (same id), a new
 * string made (the cache learns it), another type left alone (*done 0,
 * the key unknown), a big value left to the usual way; a rollback takes
 * what it made back. */
static void test_string_put(struct sink *s)
{
    struct repl_pos pos = { "abcdefabcdefabcdefabcdefabcdefabcdefabcd", 740, 0 };
    struct rs_bytes big = { malloc((1 << 20) + 1), (1 << 20) + 1 };
    struct sink_key sk;
    int64_t str, h, id;
    int done = -1;
    enum rs_type t;

    if (big.ptr == NULL) {
        CHECK(0, "string_put: out of memory");
        return;
    }
    memset((char *)big.ptr, 'b', big.len);
    check_rc(s, s->ops->begin(s), "begin (string_put setup)");
    str = mkkey(s, 15, LIT("sp:s"), RS_T_STRING, 4102444800000, &LIT("a"));
    h = mkkey(s, 15, LIT("sp:h"), RS_T_HASH, RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, h, &LIT("f"), &LIT("v"), RS_NO_EXPIRE, NULL);
    /* a name that was: the filter keeps it, so only SQL can say it is gone */
    id = mkkey(s, 15, LIT("sp:n"), RS_T_STRING, RS_NO_EXPIRE, &LIT("old"));
    check_rc(s, s->ops->key_delete(s, id), "key_delete sp:n");
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (string_put setup)");
    check_rc(s, s->ops->begin(s), "begin (empty the key cache)");
    check_rc(s, s->ops->rollback(s), "rollback (empty the key cache)");

    check_rc(s, s->ops->begin(s), "begin (string_put)");
    check_rc(s, s->ops->string_put(s, 15, &LIT("sp:s"), &LIT("b"), RS_NO_EXPIRE, &sk, &done),
             "string_put over a string");
    CHECK(done == 1, "string_put over a string not in the cache: done (%d)", done);
    id = find(s, 15, LIT("sp:s"), &t);
    check_rc(s, s->ops->key_find(s, 15, &LIT("sp:s"), &sk), "key_find sp:s");
    CHECK(id == str && t == RS_T_STRING && sk.expire_ms == RS_NO_EXPIRE,
          "string_put over a string: same id, TTL cleared (%lld, %lld)", (long long)id,
          (long long)sk.expire_ms);
    check_rc(s, s->ops->string_put(s, 15, &LIT("sp:h"), &LIT("x"), RS_NO_EXPIRE, &sk, &done),
             "string_put over a hash");
    CHECK(done == 0 && sk.id == -1, "string_put over a hash: not done, key unknown (%d, %lld)",
          done, (long long)sk.id);
    check_rc(s, s->ops->string_put(s, 15, &LIT("sp:s"), &LIT("c"), 4102444800001, &sk, &done),
             "string_put, the key cached");
    CHECK(done == 0 && sk.id == str && sk.type == RS_T_STRING,
          "string_put of a cached key: not done, the key as key_find gives it");
    check_rc(s, s->ops->string_put(s, 15, &LIT("sp:big"), &big, RS_NO_EXPIRE, &sk, &done),
             "string_put of a big value");
    CHECK(done == 0 && sk.id == -1, "string_put of a big value: not done");
    check_rc(s, s->ops->string_put(s, 15, &LIT("sp:n"), &LIT("n"), 4102444800002, &sk, &done),
             "string_put of a deleted name");
    CHECK(done == 1, "string_put of a deleted name: done by the upsert (%d)", done);
    check_rc(s, s->ops->key_find(s, 15, &LIT("sp:n"), &sk), "key_find sp:n");
    CHECK(sk.id > 0 && sk.type == RS_T_STRING && sk.expire_ms == 4102444800002,
          "string_put made sp:n, and the key cache knows it (%lld)", (long long)sk.id);
    check_rc(s, s->ops->string_put(s, 15, &LIT("sp:z"), &LIT("z"), RS_NO_EXPIRE, &sk, &done),
             "string_put of a new name");
    CHECK(done == 1 || sk.id == 0, "string_put of a new name: done, or known absent (%d)", done);
    if (!done)
        check_rc(s, s->ops->key_create(s, 15, &LIT("sp:z"), RS_T_STRING, RS_NO_EXPIRE, &LIT("z"),
                                       &id), "key_create sp:z");
    lb_commit(s, &pos, 750, "commit (string_put)");
    check_q("SELECT key, value FROM redis_strings WHERE db = 15 ORDER BY key",
            "sp:n|n;sp:s|b;sp:z|z");
    check_q("SELECT key, expire_at FROM redis_keys WHERE db = 15 AND type = 'string' ORDER BY key",
            "sp:n|4102444800002;sp:s|NULL;sp:z|NULL");
    check_q("SELECT field, value FROM redis_hashes WHERE db = 15", "f|v");

    /* made, then rolled back; then made again after the rollback */
    check_rc(s, s->ops->begin(s), "begin (string_put, rolled back)");
    check_rc(s, s->ops->string_put(s, 15, &LIT("sp:s"), &LIT("r"), RS_NO_EXPIRE, &sk, &done),
             "string_put (to roll back)");
    check_rc(s, s->ops->rollback(s), "rollback (string_put)");
    check_rc(s, s->ops->begin(s), "begin (after string_put's rollback)");
    CHECK(find(s, 15, LIT("sp:s"), &t) == str, "sp:s kept its id after the rollback");
    check_rc(s, s->ops->flush_db(s, 15), "flush_db 15");
    lb_commit(s, &pos, 760, "commit (string_put cleanup)");
    check_q("SELECT count(*) FROM redis_keys WHERE db = 15", "0");
    free((char *)big.ptr);
}

/* Held SETs (sqlite_string.c): string_set of a small value changes only
 * memory; a read, a rollback and the commit see what they must; a
 * string_put of a name the key cache does not know may write a row whose
 * value is held (a SET's, or an INCR's): the held value must not win;
 * the arena (2 MiB) fills and is written out; a value over 4,096 bytes
 * is written at once. */
static void test_string_set_held(struct sink *s)
{
    struct repl_pos pos = { "abcdefabcdefabcdefabcdefabcdefabcdefabcd", 770, 0 };
    struct got got = { "", 0 };
    struct sink_key sk;
    enum { N = 1100, VLEN = 4096 };
    int64_t a, b, ids[N];
    char name[32], *v = malloc(VLEN + 1);
    int done = -1, bad = 0;

    if (v == NULL) {
        CHECK(0, "held sets: out of memory");
        return;
    }
    check_rc(s, s->ops->begin(s), "begin (held sets setup)");
    a = mkkey(s, 13, LIT("hsp:a"), RS_T_STRING, RS_NO_EXPIRE, &LIT("old"));
    b = mkkey(s, 13, LIT("hsp:b"), RS_T_STRING, RS_NO_EXPIRE, &LIT("5"));
    lb_commit(s, &pos, 771, "commit (held sets setup)");
    check_rc(s, s->ops->begin(s), "begin (empty the key cache)");
    check_rc(s, s->ops->rollback(s), "rollback (empty the key cache)");

    /* a read sees the last held value; a rollback forgets it */
    check_rc(s, s->ops->begin(s), "begin (held sets read)");
    check_rc(s, s->ops->string_set(s, a, &LIT("v1")), "string_set v1");
    check_rc(s, s->ops->string_set(s, a, &LIT("v2")), "string_set v2");
    check_rc(s, s->ops->string_get(s, a, got_string, &got), "string_get held");
    CHECK(got.len == 2 && memcmp(got.buf, "v2", 2) == 0, "a read sees v2: '%.*s'", (int)got.len,
          got.buf);
    check_rc(s, s->ops->string_set(s, a, &LIT("v3")), "string_set v3, rolled back");
    check_rc(s, s->ops->rollback(s), "rollback (held sets)");
    check_q("SELECT value FROM redis_strings WHERE db = 13 AND key = 'hsp:a'", "old");

    /* SETs by name the cache does not know, after held values of theirs */
    check_rc(s, s->ops->begin(s), "begin (held sets by name)");
    check_rc(s, s->ops->string_set(s, a, &LIT("stale")), "string_set a (held)");
    check_rc(s, s->ops->string_incr(s, b, 1, &done), "string_incr b");
    check_rc(s, s->ops->string_incr(s, b, 1, &done), "string_incr b (held)");
    CHECK(done == 1, "string_incr b held: done %d", done);
    check_rc(s, s->ops->string_put(s, 13, &LIT("hsp:a"), &LIT("fresh"), RS_NO_EXPIRE, &sk, &done),
             "string_put hsp:a");
    CHECK(done == 1, "string_put hsp:a: done by SQL (%d)", done);
    check_rc(s, s->ops->string_put(s, 13, &LIT("hsp:b"), &LIT("bee"), RS_NO_EXPIRE, &sk, &done),
             "string_put hsp:b");
    CHECK(done == 1, "string_put hsp:b: done by SQL (%d)", done);
    lb_commit(s, &pos, 772, "commit (held sets by name)");
    check_q("SELECT key, value FROM redis_strings WHERE db = 13 ORDER BY key",
            "hsp:a|fresh;hsp:b|bee");

    /* more held bytes than the arena holds, and a value too long to hold */
    check_rc(s, s->ops->begin(s), "begin (held sets, full arena)");
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "hsp:%d", i);
        bad += s->ops->key_create(s, 13, &(struct rs_bytes){ name, strlen(name) }, RS_T_STRING,
                                  RS_NO_EXPIRE, &LIT("0"), &ids[i]) != 0;
    }
    CHECK(bad == 0, "held sets: create %d keys (%s)", N, s->err.msg);
    for (int i = 0; i < N; i++) {
        memset(v, 'a' + i % 26, VLEN);
        snprintf(v, 9, "%08d", i);
        v[8] = '.';
        bad += s->ops->string_set(s, ids[i], &(struct rs_bytes){ v, VLEN }) != 0;
    }
    v[VLEN] = 'Z';                          /* one byte past what is held */
    bad += s->ops->string_set(s, ids[0], &(struct rs_bytes){ v, VLEN + 1 }) != 0;
    CHECK(bad == 0, "held sets: %d values of %d bytes (%s)", N, VLEN, s->err.msg);
    lb_commit(s, &pos, 773, "commit (held sets, full arena)");
    check_q("SELECT count(*), sum(length(value)) FROM redis_strings WHERE db = 13"
            " AND key GLOB 'hsp:[0-9]*' AND substr(value, 1, 8) = printf('%08d', substr(key, 5))"
            " AND substr(value, 10) = printf('%.4087c', char(97 + substr(key, 5) % 26))",
            "1099|4501504");
    check_q("SELECT length(value), substr(value, 1, 9), substr(value, 4097) FROM redis_strings"
            " WHERE db = 13 AND key = 'hsp:0'", "4097|00001099.|Z");
    check_rc(s, s->ops->begin(s), "begin (held sets cleanup)");
    check_rc(s, s->ops->flush_db(s, 13), "flush_db 13");
    lb_commit(s, &pos, 774, "commit (held sets cleanup)");
    free(v);
}

/* Held HINCRBYs (sqlite_string.c) at the table's size: 140,000 fields of
 * one hash, all of one length (their slots collide and must still be
 * told apart by their bytes), each incremented three times in one
 * transaction, past the 131,072 entries the table holds; a rollback of
 * held sums; fields of two hashes with the same names. */
static void test_hash_incr_held(struct sink *s)
{
    struct repl_pos pos = { "abcdefabcdefabcdefabcdefabcdefabcdefabcd", 790, 0 };
    enum { NF = 140000 };
    char f[16], want[64];
    int64_t h, h2;
    int done, bad = 0;
    long long sum = 0;

    check_rc(s, s->ops->begin(s), "begin (held fields)");
    h = mkkey(s, 12, LIT("hih"), RS_T_HASH, RS_NO_EXPIRE, NULL);
    h2 = mkkey(s, 12, LIT("hih2"), RS_T_HASH, RS_NO_EXPIRE, NULL);
    for (int r = 1; r <= 3; r++)
        for (int i = 0; i < NF; i++) {
            snprintf(f, sizeof(f), "f:%07d", i);
            if (s->ops->hash_incr(s, h, &(struct rs_bytes){ f, 9 }, i % 1000 - 500 + r, &done)
                != 0 || done != 1)
                bad++;
            if (i % 1000 == 0 && (s->ops->hash_incr(s, h2, &(struct rs_bytes){ f, 9 }, 1, &done)
                                  != 0 || done != 1))
                bad++;
        }
    CHECK(bad == 0, "held fields: %d of %d increments not done (%s)", bad, 3 * NF, s->err.msg);
    lb_commit(s, &pos, 791, "commit (held fields)");
    for (int i = 0; i < NF; i++)
        sum += 3LL * (i % 1000 - 500) + 6;
    snprintf(want, sizeof(want), "%d|%lld", NF, sum);
    check_q("SELECT count(*), sum(CAST(value AS INTEGER)) FROM redis_hashes WHERE db = 12"
            " AND key = 'hih'", want);
    check_q("SELECT count(*) FROM redis_hashes WHERE db = 12 AND key = 'hih'"
            " AND CAST(value AS INTEGER) <> 3 * (substr(field, 3) % 1000 - 500) + 6", "0");
    check_q("SELECT count(*), sum(value) FROM redis_hashes WHERE db = 12 AND key = 'hih2'",
            "140|420");
    /* held sums go with a rollback */
    check_rc(s, s->ops->begin(s), "begin (held fields, rolled back)");
    for (int r = 0; r < 2; r++)
        check_rc(s, s->ops->hash_incr(s, h2, &LIT("f:0000000"), 100, &done), "hash_incr h2");
    check_rc(s, s->ops->rollback(s), "rollback (held fields)");
    check_q("SELECT value FROM redis_hashes WHERE db = 12 AND key = 'hih2' AND field = 'f:0000000'",
            "3");
    check_rc(s, s->ops->begin(s), "begin (held fields cleanup)");
    check_rc(s, s->ops->flush_db(s, 12), "flush_db 12");
    lb_commit(s, &pos, 792, "commit (held fields cleanup)");
}

/* Held HSETs (sqlite_string.c): more fields than the held table takes,
 * each set three times in one transaction (the last wins, made or
 * replaced with its TTL gone), then a rollback that takes held ones back. */
static void test_hash_set_held(struct sink *s)
{
    struct repl_pos pos = { "abcdefabcdefabcdefabcdefabcdefabcdefabcd", 795, 0 };
    enum { NF = 140000 };
    char f[16], v[24];
    int64_t h;
    int bad = 0;

    check_rc(s, s->ops->begin(s), "begin (held hsets)");
    h = mkkey(s, 12, LIT("hsh"), RS_T_HASH, RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, h, &LIT("f:0000007"), &LIT("old"), 4102444800000, NULL);
    lb_commit(s, &pos, 796, "commit (held hsets setup)");
    check_rc(s, s->ops->begin(s), "begin (held hsets many)");
    for (int r = 1; r <= 3; r++)
        for (int i = 0; i < NF; i++) {
            snprintf(f, sizeof(f), "f:%07d", i);
            snprintf(v, sizeof(v), "v%d.%d", i, r);
            bad += s->ops->hash_set(s, h, &(struct rs_bytes){ f, 9 },
                                    &(struct rs_bytes){ v, strlen(v) }, RS_NO_EXPIRE, NULL) != 0;
        }
    CHECK(bad == 0, "held hsets: %d of %d not stored (%s)", bad, 3 * NF, s->err.msg);
    lb_commit(s, &pos, 797, "commit (held hsets many)");
    check_q("SELECT count(*), sum(value = 'v' || CAST(substr(field, 3) AS INTEGER) || '.3'),"
            " count(expire_at) FROM redis_hashes WHERE db = 12 AND key = 'hsh'", "140000|140000|0");
    check_rc(s, s->ops->begin(s), "begin (held hsets, rolled back)");
    check_rc(s, s->ops->hash_set(s, h, &LIT("f:0000001"), &LIT("rolled"), RS_NO_EXPIRE, NULL),
             "hash_set, rolled back");
    check_rc(s, s->ops->hash_set(s, h, &LIT("new"), &LIT("rolled"), RS_NO_EXPIRE, NULL),
             "hash_set a new field, rolled back");
    check_rc(s, s->ops->rollback(s), "rollback (held hsets)");
    check_q("SELECT count(*), max(value) FROM redis_hashes WHERE db = 12 AND key = 'hsh'"
            " AND field IN ('f:0000001', 'new')", "1|v1.3");
    check_rc(s, s->ops->begin(s), "begin (held hsets cleanup)");
    check_rc(s, s->ops->flush_db(s, 12), "flush_db 12");
    lb_commit(s, &pos, 798, "commit (held hsets cleanup)");
}

static void count_refused(void *ud, const struct sink_event *ev)
{
    if (ev->kind == SINK_EV_INCR_REFUSED)
        *(int64_t *)ud += ev->bytes;
}

/*
 * Increments made late (sink.late_incr, sqlite_string.c held_late): a
 * key's or field's increments in a transaction are one statement at the
 * flush, made when each would have been made in turn; else none is, and
 * an event says how many keys and fields were refused. Values at the
 * 64-bit limits reached and left, increments whose sum would overflow,
 * a read in between, a rollback, refusals (no integer, not canonical, a
 * BLOB, a big value, a running sum past the limit), new and existing hash
 * fields with a TTL, and more keys than the table holds.
 */
static void test_incr_late(struct sink *s)
{
    struct repl_pos pos = { "abcdefabcdefabcdefabcdefabcdefabcdefabcd", 800, 0 };
    void (*old_ev)(void *, const struct sink_event *) = s->on_event;
    void *old_ud = s->event_ud;
    struct got got = { "", 0 };
    int64_t refused = 0, k[11], h;
    int done, bad = 0;
    enum { MANY = 131072 + 100 };
    size_t bn = (1 << 20) + 1;
    char *big = malloc(bn), name[32];

    if (big == NULL) {
        CHECK(0, "late: out of memory");
        return;
    }
    memset(big, '1', bn);
    s->late_incr = 1;
    s->on_event = count_refused;
    s->event_ud = &refused;
    check_rc(s, s->ops->begin(s), "begin (late setup)");
    k[0] = mkkey(s, 13, LIT("late:a"), RS_T_STRING, RS_NO_EXPIRE, &LIT("10"));
    k[1] = mkkey(s, 13, LIT("late:top"), RS_T_STRING, RS_NO_EXPIRE, &LIT("9223372036854775805"));
    k[2] = mkkey(s, 13, LIT("late:bot"), RS_T_STRING, RS_NO_EXPIRE, &LIT("-9223372036854775807"));
    k[3] = mkkey(s, 13, LIT("late:max"), RS_T_STRING, RS_NO_EXPIRE, &LIT("9223372036854775805"));
    k[4] = mkkey(s, 13, LIT("late:abc"), RS_T_STRING, RS_NO_EXPIRE, &LIT("abc"));
    k[5] = mkkey(s, 13, LIT("late:plus"), RS_T_STRING, RS_NO_EXPIRE, &LIT("+5"));
    k[6] = mkkey(s, 13, LIT("late:bin"), RS_T_STRING, RS_NO_EXPIRE, &LIT("1\xff"));
    k[7] = mkkey(s, 13, LIT("late:big"), RS_T_STRING, RS_NO_EXPIRE,
                 &(struct rs_bytes){ big, bn });
    k[8] = mkkey(s, 13, LIT("late:sum"), RS_T_STRING, RS_NO_EXPIRE, &LIT("-9223372036854775807"));
    k[9] = mkkey(s, 13, LIT("late:hi"), RS_T_STRING, RS_NO_EXPIRE, &LIT("9223372036854775806"));
    k[10] = mkkey(s, 13, LIT("late:lo"), RS_T_STRING, RS_NO_EXPIRE, &LIT("-9223372036854775807"));
    h = mkkey(s, 13, LIT("late:h"), RS_T_HASH, RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, h, &LIT("a"), &LIT("5"), 4102444800000, NULL);
    s->ops->hash_set(s, h, &LIT("x"), &LIT("1.5"), RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, h, &LIT("max"), &LIT("9223372036854775807"), RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, h, &LIT("bv"), &(struct rs_bytes){ big, bn }, RS_NO_EXPIRE, NULL);
    lb_commit(s, &pos, 801, "commit (late setup)");

    /* a read sees the increments so far; those after it are late again */
    check_rc(s, s->ops->begin(s), "begin (late)");
    for (int i = 0; i < 5; i++) {
        done = -1;
        check_rc(s, s->ops->string_incr(s, k[0], 3, &done), "string_incr late");
        bad += done != 1;
    }
    check_rc(s, s->ops->string_get(s, k[0], got_string, &got), "string_get after late");
    CHECK(got.len == 2 && memcmp(got.buf, "25", 2) == 0, "late: a read sees 10 + 5 x 3 = 25: "
          "'%.*s'", (int)got.len, got.buf);
    check_rc(s, s->ops->string_incr(s, k[0], 1, &done), "string_incr after the read");
    bad += done != 1;
    /* to the limits and back, in running sums the row checks at the flush */
    for (int i = 0; i < 2; i++)
        bad += s->ops->string_incr(s, k[1], 1, &done) != 0 || done != 1;
    bad += s->ops->string_incr(s, k[2], -1, &done) != 0 || done != 1;
    bad += s->ops->string_incr(s, k[2], INT64_MAX, &done) != 0 || done != 1;
    bad += s->ops->string_incr(s, k[2], -INT64_MAX, &done) != 0 || done != 1;
    /* refused at the flush: a running sum past the limit (two were fine,
     * made in turn), no integer, not canonical, a BLOB, a big value, a
     * running sum past the limit that comes back */
    for (int i = 0; i < 3; i++)
        bad += s->ops->string_incr(s, k[3], 1, &done) != 0 || done != 1;
    for (int i = 4; i <= 7; i++)
        bad += s->ops->string_incr(s, k[i], 1, &done) != 0 || done != 1;
    /* past the limit in the middle only: the sum (+1, -1) would fit */
    for (int i = 0; i < 3; i++) {
        bad += s->ops->string_incr(s, k[9], i < 2 ? 1 : -1, &done) != 0 || done != 1;
        bad += s->ops->string_incr(s, k[10], i < 2 ? -1 : 1, &done) != 0 || done != 1;
    }
    CHECK(refused == 0, "late: nothing refused before a flush (%lld)", (long long)refused);
    /* a sum past 64 bits: everything held written out (the five keys
     * above refused), then the second made by its statement */
    bad += s->ops->string_incr(s, k[8], INT64_MAX, &done) != 0 || done != 1;
    bad += s->ops->string_incr(s, k[8], INT64_MAX, &done) != 0 || done != 1;
    CHECK(refused == 7, "late: a sum past 64 bits writes the held out first: %lld refused",
          (long long)refused);
    /* hash fields: an existing one keeps its TTL, a new one, refused ones */
    for (int i = 0; i < 3; i++) {
        bad += s->ops->hash_incr(s, h, &LIT("a"), 2, &done) != 0 || done != 1;
        bad += s->ops->hash_incr(s, h, &LIT("new"), -4, &done) != 0 || done != 1;
    }
    bad += s->ops->hash_incr(s, h, &LIT("x"), 1, &done) != 0 || done != 1;
    bad += s->ops->hash_incr(s, h, &LIT("max"), 1, &done) != 0 || done != 1;
    bad += s->ops->hash_incr(s, h, &LIT("max"), -1, &done) != 0 || done != 1;
    bad += s->ops->hash_incr(s, h, &LIT("bv"), 1, &done) != 0 || done != 1;
    CHECK(bad == 0, "late: every increment taken (%d not; %s)", bad, s->err.msg);
    CHECK(refused == 7, "late: nothing more refused before the commit (%lld)", (long long)refused);
    lb_commit(s, &pos, 802, "commit (late)");
    CHECK(refused == 10, "late: 7 keys and 3 fields refused, said once each: %lld",
          (long long)refused);
    check_q("SELECT key, CASE WHEN length(value) > 99 THEN length(value) ELSE hex(value) END,"
            " typeof(value) FROM redis_strings WHERE db = 13 ORDER BY key",
            "late:a|3236|text;late:abc|616263|text;late:big|1048577|text;late:bin|31FF|blob;"
            "late:bot|2D39323233333732303336383534373735383038|text;"
            "late:hi|39323233333732303336383534373735383036|text;"
            "late:lo|2D39323233333732303336383534373735383037|text;"
            "late:max|39323233333732303336383534373735383035|text;late:plus|2B35|text;"
            "late:sum|39323233333732303336383534373735383037|text;"
            "late:top|39323233333732303336383534373735383037|text");
    check_q("SELECT field, CASE WHEN length(value) > 99 THEN length(value) ELSE value END,"
            " expire_at FROM redis_hashes WHERE db = 13 ORDER BY field",
            "a|11|4102444800000;bv|1048577|NULL;max|9223372036854775807|NULL;new|-12|NULL;"
            "x|1.5|NULL");

    /* late increments go with a rollback */
    check_rc(s, s->ops->begin(s), "begin (late, rolled back)");
    check_rc(s, s->ops->string_incr(s, k[0], 100, &done), "string_incr late, rolled back");
    check_rc(s, s->ops->hash_incr(s, h, &LIT("a"), 100, &done), "hash_incr late, rolled back");
    check_rc(s, s->ops->rollback(s), "rollback (late)");
    check_q("SELECT value FROM redis_strings WHERE db = 13 AND key = 'late:a'", "26");
    check_q("SELECT value FROM redis_hashes WHERE db = 13 AND field = 'a'", "11");

    /* more keys than the table holds, each incremented three times */
    int64_t *ids = malloc(MANY * sizeof(*ids));

    if (ids == NULL) {
        CHECK(0, "late: out of memory");
        goto out;
    }
    check_rc(s, s->ops->begin(s), "begin (late many)");
    for (int i = 0; i < MANY; i++) {
        snprintf(name, sizeof(name), "late:%d", i);
        bad += s->ops->key_create(s, 13, &(struct rs_bytes){ name, strlen(name) }, RS_T_STRING,
                                  RS_NO_EXPIRE, &LIT("7"), &ids[i]) != 0;
    }
    for (int r = 1; r <= 3; r++)
        for (int i = 0; i < MANY; i++)
            bad += s->ops->string_incr(s, ids[i], i % 1000 - 500, &done) != 0 || done != 1;
    CHECK(bad == 0, "late: %d keys x 3 increments: %d not done", MANY, bad);
    lb_commit(s, &pos, 803, "commit (late many)");
    check_q("SELECT count(*) FROM redis_strings WHERE db = 13 AND key GLOB 'late:[0-9]*'"
            " AND CAST(value AS INTEGER) <> 7 + 3 * ((CAST(substr(key, 6) AS INTEGER) % 1000)"
            " - 500)", "0");
    CHECK(refused == 10, "late: nothing more refused (%lld)", (long long)refused);
    free(ids);
out:
    check_rc(s, s->ops->begin(s), "begin (late cleanup)");
    check_rc(s, s->ops->flush_db(s, 13), "flush_db 13");
    lb_commit(s, &pos, 804, "commit (late cleanup)");
    s->late_incr = 0;
    s->on_event = old_ev;
    s->event_ud = old_ud;
    free(big);
}

/* Full syncs: readers see the old mirror until load_commit. */
/* Three keys in db 5 with repeated elements (never in an RDB Redis wrote)
 * and a field too big to buffer: a load stores them as one statement a
 * row would (the last value wins). */
static void load_dups(struct sink *s)
{
    struct rs_bytes big = { malloc(300000), 300000 };
    int64_t id;

    if (big.ptr == NULL)
        return;
    memset((char *)big.ptr, 'x', big.len);
    id = mkkey(s, 5, LIT("dup:h"), RS_T_HASH, RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, id, &LIT("f"), &LIT("a"), RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, id, &LIT("g"), &LIT("b"), RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, id, &big, &LIT("big"), RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, id, &LIT("f"), &LIT("c"), RS_NO_EXPIRE, NULL);
    id = mkkey(s, 5, LIT("dup:z"), RS_T_ZSET, RS_NO_EXPIRE, NULL);
    s->ops->zset_set(s, id, &LIT("m"), 1);
    s->ops->zset_set(s, id, &LIT("n"), 2);
    s->ops->zset_set(s, id, &LIT("m"), 3);
    id = mkkey(s, 5, LIT("dup:x"), RS_T_STREAM, RS_NO_EXPIRE, NULL);
    s->ops->stream_add(s, id, &(struct rs_stream_id){ 1, 1 }, 0, &LIT("f"), &LIT("v"));
    s->ops->stream_add(s, id, &(struct rs_stream_id){ 1, 1 }, 0, &LIT("f"), &LIT("w"));
    CHECK(s->err.code == 0, "load repeated elements (%s)", s->err.msg);
    free((char *)big.ptr);
}

static void test_generations(struct sink *s)
{
    struct repl_pos pos = { "ffffffffffffffffffffffffffffffffffffffff", 5000, 0 };
    char name[32];

    check_rc(s, s->ops->load_begin(s), "load_begin (to abort)");
    mkkey(s, 0, LIT("only-in-aborted"), RS_T_STRING, RS_NO_EXPIRE, &LIT("x"));
    check_rc(s, s->ops->set_state(s, "syncing", "half"), "set_state during a load");
    check_q("SELECT count(*) FROM g3_keys", "1");
    check_q("SELECT state FROM redsink_status", "syncing");
    check_q("SELECT count(*) FROM redis_keys", "7");
    check_rc(s, s->ops->load_abort(s), "load_abort");
    check_q("SELECT count(*) FROM sqlite_schema WHERE name GLOB 'g3_*'", "0");
    check_q("SELECT count(*) FROM redis_keys", "7");
    check_rc(s, s->ops->begin(s), "stream after load_abort: begin");
    CHECK(find(s, 0, LIT("h"), NULL) > 0, "stream after load_abort: key_find");
    check_rc(s, s->ops->commit(s, &(struct repl_pos){ "", 300, 0 }, NULL),
             "stream after load_abort: commit");

    check_rc(s, s->ops->load_begin(s), "load_begin (big)");
    for (int i = 0; i < 250000; i++) {          /* more than one internal batch */
        int n = snprintf(name, sizeof(name), "n:%d", i);
        int64_t id;

        s->ops->key_create(s, i % 3, &(struct rs_bytes){ name, (size_t)n },
                           i % 2 ? RS_T_STRING : RS_T_LIST, RS_NO_EXPIRE, &LIT("v"), &id);

        if (i % 2 == 0)
            s->ops->list_push(s, id, 0, &LIT("e"));
        if (i == 6)
            s->ops->list_push(s, id, 1, &LIT("h"));   /* head push in a load */
        if (s->err.code)
            break;
    }
    CHECK(s->err.code == 0, "load 250000 keys (%s)", s->err.msg);
    load_dups(s);
    check_q("SELECT count(*) FROM redis_keys", "7");
    check_q("SELECT count(*) > 0 FROM g3_keys", "1");   /* batches committed, invisible */
    sqlite3_exec(rd, "BEGIN", NULL, NULL, NULL);      /* a reader mid-transaction */
    check_q("SELECT count(*) FROM redis_keys", "7");
    check_rc(s, s->ops->load_commit(s, &pos), "load_commit");
    check_q("SELECT count(*) FROM redis_keys", "7");     /* its snapshot: the old mirror */
    sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL);
    check_q("SELECT count(*) FROM redis_keys", "250003");
    check_q("SELECT idx, value FROM redis_lists WHERE key = 'n:4' AND db = 1", "0|e");
    check_q("SELECT idx, value FROM redis_lists WHERE key = 'n:6' ORDER BY idx", "0|h;1|e");
    check_q("SELECT idx, value FROM redis_lists WHERE key = 'n:8' ORDER BY idx", "0|e");
    check_q("SELECT count(*) FROM sqlite_schema WHERE name GLOB 'g2_*'", "0");
    check_q("SELECT name FROM sqlite_schema WHERE name = 'g3_keys_key'", "g3_keys_key");
    check_q("SELECT master_replid, offset, generation, keys_loaded FROM redsink_status",
            "ffffffffffffffffffffffffffffffffffffffff|5000|3|250003");
    check_q("SELECT field, value FROM redis_hashes WHERE key = 'dup:h' AND length(field) < 9"
            " ORDER BY field", "f|c;g|b");
    check_q("SELECT length(field) FROM redis_hashes WHERE key = 'dup:h' AND value = 'big'",
            "300000");
    check_q("SELECT member, score FROM redis_zsets WHERE key = 'dup:z' ORDER BY member",
            "m|3.0;n|2.0");
    check_q("SELECT id, field, value FROM redis_streams WHERE key = 'dup:x'", "1-1|f|w");
    check_q("SELECT count(*) FROM redsink_unknown_commands", "1");
    {
        struct sink_key k;

        s->ops->key_find(s, 2, &LIT("n:5"), &k);
        CHECK(k.type == RS_T_STRING, "key_find after a load");
    }
}

/*
 * The key name filter (sqlite_keycache.c) answers "no such key" without
 * SQL: every name that enters gN_keys must be in it, or key_find would
 * miss a key. Reopened (built by a scan), renamed to, copied to, after
 * a rollback; 4,000 new names so that most do not sit in the key cache.
 * Everything is rolled back at the end.
 */
static void test_key_filter(struct sink *s)
{
    char name[32];
    int64_t id, copy;
    int missed = 0, failed = 0;

    CHECK(find(s, 2, LIT("n:5"), NULL) > 0, "filter built at open: a loaded key");
    CHECK(find(s, 1, LIT("n:4"), NULL) > 0, "filter built at open: another db");
    CHECK(find(s, 0, LIT("n:4"), NULL) < 0, "filter built at open: not in db 0");
    CHECK(find(s, 0, LIT("never-created"), NULL) < 0, "filter: an absent key");
    check_rc(s, s->ops->begin(s), "filter: begin");
    id = mkkey(s, 0, LIT("kf:a"), RS_T_STRING, RS_NO_EXPIRE, &LIT("v"));
    check_rc(s, s->ops->key_rename(s, id, 3, &LIT("kf:renamed")), "filter: rename");
    for (int i = 0; i < 4000; i++) {
        int n = snprintf(name, sizeof(name), "kf:%d", i);

        failed += s->ops->key_create(s, i % 2, &(struct rs_bytes){ name, (size_t)n },
                                     RS_T_STRING, RS_NO_EXPIRE, &LIT("v"), &copy) != 0;
    }
    CHECK(failed == 0, "filter: create 4000 keys (%s)", s->err.msg);
    for (int i = 0; i < 4000; i++) {
        int n = snprintf(name, sizeof(name), "kf:%d", i);

        missed += find(s, i % 2, (struct rs_bytes){ name, (size_t)n }, NULL) < 0;
    }
    CHECK(missed == 0, "filter: %d of 4000 new keys not found", missed);
    check_rc(s, s->ops->key_copy(s, id, 4, &LIT("kf:copied"), &copy), "filter: copy");
    CHECK(find(s, 3, LIT("kf:renamed"), NULL) == id, "filter: the renamed key");
    CHECK(find(s, 4, LIT("kf:copied"), NULL) == copy, "filter: the copy");
    CHECK(find(s, 0, LIT("kf:a"), NULL) < 0, "filter: the old name is gone");
    /* the test after this one expects the mirror as test_generations left it */
    check_rc(s, s->ops->rollback(s), "filter: rollback");
    CHECK(find(s, 3, LIT("kf:renamed"), NULL) < 0, "filter: a rolled back rename is gone");
    CHECK(find(s, 0, LIT("kf:7"), NULL) < 0, "filter: a rolled back key is gone");
    CHECK(find(s, 2, LIT("n:5"), NULL) > 0, "filter: a loaded key after the rollback");
}

/*
 * The key cache (sqlite_keycache.c) stays exact past its size: 160,000 keys
 * (more than its 131,072 entries for short names; every 7th name is 41 to
 * 120 bytes, its other table), then expire times, deletes and renames by id
 * of keys in and out of it (short names renamed long and back), each
 * checked through key_find against what was done, and against the views
 * after the commit. It also holds what a SET to 20,000 random keys needs:
 * after their rows change behind the sink's back, key_find still answers
 * from memory for nearly all of them (the 4,096 direct-mapped entries it
 * had could keep a fifth), until a rollback empties it.
 */
struct kc_key {
    char name[128];
    int len, db, alive;
    int64_t id, exp;
};

static void kc_name(struct kc_key *k, const char *prefix, int i, int big)
{
    k->len = snprintf(k->name, sizeof(k->name), "%s:%d:", prefix, i);
    if (big)
        for (int want = 41 + i % 80; k->len < want; k->len++)
            k->name[k->len] = 'p';
}

static void test_key_cache(struct sink *s)
{
    enum { N = 160000, HOT = 20000 };
    struct kc_key *k = calloc(N, sizeof(*k));
    struct repl_pos pos;
    struct sink_key got;
    int bad = 0, hits = 0, n = 0;
    char sql[160];
    sqlite3 *w;

    if (k == NULL) {
        CHECK(0, "key cache test: out of memory");
        return;
    }
    check_rc(s, s->ops->read_checkpoint(s, &pos), "key cache: read_checkpoint");
    check_rc(s, s->ops->begin(s), "key cache: begin");
    for (int i = 0; i < N; i++) {
        kc_name(&k[i], "kc", i, i % 7 == 0);
        k[i].db = 20 + i % 2;
        k[i].exp = RS_NO_EXPIRE;
        k[i].alive = 1;
        bad += s->ops->key_create(s, k[i].db, &(struct rs_bytes){ k[i].name, (size_t)k[i].len },
                                  RS_T_STRING, RS_NO_EXPIRE, &LIT("v"), &k[i].id) != 0;
    }
    CHECK(bad == 0, "key cache: create %d keys (%s)", N, s->err.msg);
    for (int i = 0; i < N; i++)
        bad += find(s, k[i].db, (struct rs_bytes){ k[i].name, (size_t)k[i].len }, NULL) != k[i].id;
    CHECK(bad == 0, "key cache: %d of %d new keys found wrong", bad, N);
    /* by id, in and out of the cache: what is found after must follow */
    for (int i = 0; i < N; i++) {
        if (i % 3 == 0) {
            k[i].exp = 4102444800000 + i;
            bad += s->ops->key_set_expire(s, k[i].id, k[i].exp) != 0;
        }
        if (i % 5 == 0) {
            k[i].alive = 0;
            bad += s->ops->key_delete(s, k[i].id) != 0;
        } else if (i % 11 == 0) {
            struct kc_key old = k[i];

            kc_name(&k[i], "kr", i, i % 7 != 0);
            k[i].db = 22;
            bad += s->ops->key_rename(s, k[i].id, k[i].db,
                                      &(struct rs_bytes){ k[i].name, (size_t)k[i].len }) != 0;
            bad += find(s, old.db, (struct rs_bytes){ old.name, (size_t)old.len }, NULL) != -1;
        }
    }
    CHECK(bad == 0, "key cache: expire, delete and rename by id (%s)", s->err.msg);
    for (int i = 0; i < N; i++) {
        if (s->ops->key_find(s, k[i].db, &(struct rs_bytes){ k[i].name, (size_t)k[i].len },
                             &got) != 0)
            bad++;
        else if (k[i].alive ? got.type != RS_T_STRING || got.id != k[i].id ||
                 got.expire_ms != k[i].exp : got.type != RS_T_NONE)
            bad++;
    }
    CHECK(bad == 0, "key cache: %d of %d keys found wrong after changes by id", bad, N);
    check_rc(s, s->ops->commit(s, &pos, NULL), "key cache: commit");
    {
        const char *what[3] = { "db IN (20, 21, 22)", "db = 22",
                                "db IN (20, 21, 22) AND expire_at IS NOT NULL" };
        int want[3] = { 0, 0, 0 };

        for (int i = 0; i < N; i++)
            if (k[i].alive) {
                want[0]++;
                want[1] += k[i].db == 22;
                want[2] += k[i].exp != RS_NO_EXPIRE;
            }
        for (int j = 0; j < 3; j++) {
            snprintf(sql, sizeof(sql), "SELECT count(*) FROM redis_keys WHERE %s", what[j]);
            CHECK(atoi(q(sql)) == want[j], "key cache: %s => %s, want %d", sql, q(sql), want[j]);
        }
    }

    /* the last HOT short names found; then their rows change behind the sink */
    n = 0;
    for (int i = N - 1; i >= 0 && n < HOT; i--)
        if (k[i].alive && k[i].len <= 40 && k[i].db != 22) {
            k[n++] = k[i];
            find(s, k[n - 1].db, (struct rs_bytes){ k[n - 1].name, (size_t)k[n - 1].len }, NULL);
        }
    CHECK(sqlite3_open_v2(path, &w, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK, "writer");
    snprintf(sql, sizeof(sql), "UPDATE g%s_keys SET expire_at = 5 WHERE db IN (20, 21)",
             q("SELECT generation FROM redsink_status"));
    CHECK(sqlite3_exec(w, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(w));
    sqlite3_close(w);
    for (int i = 0; i < n; i++) {
        s->ops->key_find(s, k[i].db, &(struct rs_bytes){ k[i].name, (size_t)k[i].len }, &got);
        hits += got.id == k[i].id && got.expire_ms == k[i].exp;
    }
    CHECK(hits >= n * 9 / 10, "key cache: %d of %d recent keys answered from memory", hits, n);
    check_rc(s, s->ops->begin(s), "key cache: begin (2)");
    check_rc(s, s->ops->rollback(s), "key cache: rollback");
    for (int i = 0; i < n; i++) {
        s->ops->key_find(s, k[i].db, &(struct rs_bytes){ k[i].name, (size_t)k[i].len }, &got);
        bad += got.id != k[i].id || got.expire_ms != 5;
    }
    CHECK(bad == 0, "key cache: after a rollback %d of %d keys answered from memory", bad, n);
    check_rc(s, s->ops->begin(s), "key cache: begin (3)");
    for (int db = 20; db <= 22; db++)
        check_rc(s, s->ops->flush_db(s, db), "key cache: FLUSHDB");
    check_rc(s, s->ops->commit(s, &pos, NULL), "key cache: commit (3)");
    check_q("SELECT count(*) FROM redis_keys WHERE db IN (20, 21, 22)", "0");
    free(k);
}

/*
 * Key names at the key cache's edges, as production has them: empty, one
 * byte, both sides of the short table's 40 bytes and the long table's 120
 * (121 and more are not cached), 255 and 64 KiB; binary (NUL, 0xff) and
 * UTF-8 bytes, two names per length differing only in their last byte
 * (same length, likely different sets, maybe equal tags). Each is created,
 * found, given a TTL by id, renamed to the next length and back, deleted;
 * every step is checked through key_find, from memory and after a
 * rollback has emptied the cache.
 */
static void test_key_cache_edges(struct sink *s)
{
    static const size_t lens[] = { 0, 1, 39, 40, 41, 119, 120, 121, 255, 65536 };
    enum { NL = sizeof(lens) / sizeof(lens[0]), NK = 2 * NL };
    static char buf[NK][65536];
    struct rs_bytes name[NK];
    int64_t id[NK];
    struct repl_pos pos;
    struct sink_key got;
    int bad = 0;

    for (int k = 0; k < NK; k++) {
        size_t n = lens[k / 2];

        for (size_t j = 0; j < n; j++)   /* NUL, 0xff, then "é" and ASCII */
            buf[k][j] = j % 7 == 0 ? '\0' : j % 7 == 1 ? (char)0xff :
                        j % 7 == 2 ? (char)0xc3 : j % 7 == 3 ? (char)0xa9 : (char)('a' + j % 26);
        if (n > 0)
            buf[k][n - 1] = (char)('0' + k % 2);
        name[k] = (struct rs_bytes){ buf[k], n };
    }
    check_rc(s, s->ops->read_checkpoint(s, &pos), "cache edges: read_checkpoint");
    check_rc(s, s->ops->begin(s), "cache edges: begin");
    for (int k = 0; k < NK; k++) {
        if (k == 1)
            continue;                     /* the empty name once: k 0 and 1 are the same */
        id[k] = mkkey(s, 34, name[k], RS_T_STRING, RS_NO_EXPIRE, &LIT("v"));
    }
    for (int pass = 0; pass < 2; pass++) {   /* from memory, then from SQL */
        if (pass == 1) {
            check_rc(s, s->ops->commit(s, &pos, NULL), "cache edges: commit");
            bad += s->ops->begin(s) != 0 || s->ops->rollback(s) != 0;
        }
        for (int k = 0; k < NK; k++)
            if (k != 1)
                bad += s->ops->key_find(s, 34, &name[k], &got) != 0 || got.id != id[k] ||
                       got.type != RS_T_STRING;
    }
    CHECK(bad == 0, "cache edges: %d names of 0 to 65536 bytes found wrong", bad);
    check_rc(s, s->ops->begin(s), "cache edges: begin (2)");
    for (int k = 2; k < NK; k++) {
        bad += s->ops->key_set_expire(s, id[k], 4102444800000 + k) != 0;
        bad += s->ops->key_find(s, 34, &name[k], &got) != 0 || got.expire_ms != 4102444800000 + k;
    }
    CHECK(bad == 0, "cache edges: TTLs by id (%s)", s->err.msg);
    /* each odd name renamed to a fresh name of the next length (the last to
     * one byte), then back */
    for (int k = 3; k < NK; k += 2) {
        char tmp[65536 + 8];
        struct rs_bytes to = { tmp, lens[k / 2 + 1 < NL ? k / 2 + 1 : 1] };   /* not "" */

        memcpy(tmp, buf[k], to.len <= lens[k / 2] ? to.len : lens[k / 2]);
        if (to.len > lens[k / 2])
            memset(tmp + lens[k / 2], 'r', to.len - lens[k / 2]);
        if (to.len > 0)
            tmp[to.len - 1] = 'R';
        bad += s->ops->key_rename(s, id[k], 34, &to) != 0;
        bad += find(s, 34, name[k], NULL) != -1 || find(s, 34, to, NULL) != id[k];
        bad += s->ops->key_rename(s, id[k], 34, &name[k]) != 0;
        bad += find(s, 34, to, NULL) != -1 || find(s, 34, name[k], NULL) != id[k];
    }
    CHECK(bad == 0, "cache edges: renames across the lengths (%s)", s->err.msg);
    for (int k = 0; k < NK; k += 2) {
        bad += s->ops->key_delete(s, id[k]) != 0;
        bad += find(s, 34, name[k], NULL) != -1;
        if (k + 1 < NK && k > 0)
            bad += find(s, 34, name[k + 1], NULL) != id[k + 1];
    }
    CHECK(bad == 0, "cache edges: deletes; each twin kept (%s)", s->err.msg);
    check_rc(s, s->ops->commit(s, &pos, NULL), "cache edges: commit (2)");
    check_q("SELECT count(*) FROM redis_keys WHERE db = 34", "9");
    check_rc(s, s->ops->begin(s), "cache edges: begin (3)");
    check_rc(s, s->ops->flush_db(s, 34), "cache edges: FLUSHDB");
    check_rc(s, s->ops->commit(s, &pos, NULL), "cache edges: commit (3)");
}

/*
 * Emptying the key cache (every rollback) clears its tags, not its
 * entries: an entry written before any number of clears must not come
 * back. (It had an epoch, which wrapped after 65,535 clears.) Eight keys
 * are found (cached), their rows change behind the sink's back, then each
 * is looked up once, after 1 + j clears: every answer must be the new
 * rows'; then one is found again and stays in memory until the next clear.
 */
static void test_key_cache_clears(struct sink *s)
{
    enum { NK = 8, FIRST = 1 };
    char name[NK][16], sql[128];
    int64_t id[NK];
    struct repl_pos pos;
    struct sink_key got;
    int bad = 0, looked = 0;
    sqlite3 *w;

    check_rc(s, s->ops->read_checkpoint(s, &pos), "cache clears: read_checkpoint");
    check_rc(s, s->ops->begin(s), "cache clears: begin");
    for (int j = 0; j < NK; j++) {
        snprintf(name[j], sizeof(name[j]), "wrap:%d", j);
        id[j] = mkkey(s, 33, (struct rs_bytes){ name[j], strlen(name[j]) }, RS_T_STRING,
                      RS_NO_EXPIRE, &LIT("v"));
    }
    check_rc(s, s->ops->commit(s, &pos, NULL), "cache clears: commit");
    for (int j = 0; j < NK; j++)
        bad += find(s, 33, (struct rs_bytes){ name[j], strlen(name[j]) }, NULL) != id[j];
    CHECK(bad == 0, "cache clears: %d keys found wrong", bad);
    CHECK(sqlite3_open_v2(path, &w, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK, "writer");
    snprintf(sql, sizeof(sql), "UPDATE g%s_keys SET expire_at = 7 WHERE db = 33",
             q("SELECT generation FROM redsink_status"));
    CHECK(sqlite3_exec(w, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(w));
    sqlite3_close(w);
    for (int i = 1; i < FIRST + NK && bad == 0; i++) {
        bad += s->ops->begin(s) != 0 || s->ops->rollback(s) != 0;
        if (i >= FIRST) {
            int j = i - FIRST;

            bad += s->ops->key_find(s, 33, &(struct rs_bytes){ name[j], strlen(name[j]) },
                                    &got) != 0;
            CHECK(got.id == id[j] && got.expire_ms == 7, "cache clears: key %s after %d clears:"
                  " id %lld expire %lld, want %lld and 7", name[j], i, (long long)got.id,
                  (long long)got.expire_ms, (long long)id[j]);
            looked++;
        }
    }
    CHECK(bad == 0 && looked == NK, "cache clears: %d begin/rollback/key_find failed (%s)", bad,
          s->err.msg);
    /* cached again after the clears: answered from memory, until a clear */
    find(s, 33, (struct rs_bytes){ name[0], strlen(name[0]) }, NULL);
    CHECK(sqlite3_open_v2(path, &w, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK, "writer");
    snprintf(sql, sizeof(sql), "UPDATE g%s_keys SET expire_at = 9 WHERE db = 33",
             q("SELECT generation FROM redsink_status"));
    CHECK(sqlite3_exec(w, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(w));
    sqlite3_close(w);
    for (int clear = 0; clear < 2; clear++) {
        if (clear)
            bad += s->ops->begin(s) != 0 || s->ops->rollback(s) != 0;
        bad += s->ops->key_find(s, 33, &(struct rs_bytes){ name[0], strlen(name[0]) }, &got) != 0;
        CHECK(got.id == id[0] && got.expire_ms == (clear ? 9 : 7), "cache clears: %s %s: "
              "expire %lld", name[0], clear ? "after a clear, from SQL" : "from memory",
              (long long)got.expire_ms);
    }
    check_rc(s, s->ops->begin(s), "cache clears: begin (2)");
    check_rc(s, s->ops->flush_db(s, 33), "cache clears: FLUSHDB");
    check_rc(s, s->ops->commit(s, &pos, NULL), "cache clears: commit (2)");
}

/*
 * FLUSHDB beside big sorted-set members (sqlite_keys.c, child_type): gN_zset
 * and its order index hold a big member's first 1 MiB, and a seek that
 * meets such a row reads all of it. A fresh mirror whose only sorted set
 * has four big members (so every seek in those trees meets one), 40,000
 * strings in db 7, then FLUSHDB 7: it must not seek gN_zset for the
 * strings. Measured in CPU seconds of this process (the sink runs in it):
 * seeking for every key of the db took 7.6 s, the fix 0.04 s.
 */
static double cpu_seconds(void)
{
    struct rusage u;

    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           u.ru_stime.tv_usec / 1e6;
}

static void test_flush_beside_big_members(void)
{
    enum { N = 40000 };
    struct repl_pos pos = { "ffffffffffffffffffffffffffffffffffffffff", 100, 0 };
    struct rs_error err = { 0, "" };
    const char *p = tmp_path("flushbig.db");
    size_t len = (1u << 20) + 1;
    char *m = malloc(len), name[32];
    struct sink *s;
    int64_t id;
    double t, made;
    int bad = 0;

    if (m == NULL || (s = mirror_sink_open(p, &err)) == NULL) {
        CHECK(0, "flush beside big members: open '%s': %s", p, err.msg);
        free(m);
        return;
    }
    memset(m, 'M', len);
    check_rc(s, s->ops->load_begin(s), "flush beside big members: load_begin");
    id = mkkey(s, 3, LIT("zbig"), RS_T_ZSET, RS_NO_EXPIRE, NULL);
    for (int i = 0; i < 4; i++) {
        m[len - 1] = (char)('a' + i);
        check_rc(s, s->ops->zset_set(s, id, &(struct rs_bytes){ m, len }, 1.0),
                 "flush beside big members: ZADD");
    }
    check_rc(s, s->ops->load_commit(s, &pos), "flush beside big members: load_commit");
    made = cpu_seconds();
    check_rc(s, s->ops->begin(s), "flush beside big members: begin");
    for (int i = 0; i < N; i++) {
        int n = snprintf(name, sizeof(name), "s:%d", i);

        bad += s->ops->key_create(s, 7, &(struct rs_bytes){ name, (size_t)n }, RS_T_STRING,
                                  RS_NO_EXPIRE, &LIT("v"), &id) != 0;
    }
    CHECK(bad == 0, "flush beside big members: %d strings not created (%s)", bad, s->err.msg);
    check_rc(s, s->ops->commit(s, &pos, NULL), "flush beside big members: commit");
    made = cpu_seconds() - made;
    t = cpu_seconds();
    check_rc(s, s->ops->begin(s), "flush beside big members: begin (2)");
    check_rc(s, s->ops->flush_db(s, 7), "flush beside big members: FLUSHDB 7");
    check_rc(s, s->ops->commit(s, &pos, NULL), "flush beside big members: commit (2)");
    t = cpu_seconds() - t;
    /* not a timing target: a ratio to creating the same keys, in the same
     * process and build (ASan, valgrind alike), where reading the big rows
     * at each seek made it about 25 times that and the fix a tenth */
    CHECK(t < 3 * made + 0.05, "flush beside big members: FLUSHDB of %d strings took %.3f CPU s,"
          " creating them %.3f (seeks into the big rows?)", N, t, made);
    CHECK(find(s, 7, LIT("s:5"), NULL) < 0 && find(s, 3, LIT("zbig"), NULL) > 0,
          "flush beside big members: db 7 empty, db 3 kept");
    sink_close(s);
    free(m);
}

/*
 * SWAPDB (sqlite_keys.c, sq_swap_db): keys with the same names in both dbs,
 * keys in one only, a db 0 and a db that stay out of it, a swap with db 0
 * and with an empty db, one rolled back; then gN_keys_db, the index on db
 * that keeps a swap of two dbs other than 0 from reading every key, is
 * there and a reader's "db = ?" beside it goes through it.
 */
static void swap_keys(struct sink *s, int db, const char *name, const char *value)
{
    mkkey(s, db, (struct rs_bytes){ name, strlen(name) }, RS_T_STRING, RS_NO_EXPIRE,
          &(struct rs_bytes){ value, strlen(value) });
}

static void test_swap_db(struct sink *s)
{
    const char *rows = "SELECT db, key, value FROM redis_strings WHERE db BETWEEN 30 AND 34"
                       " OR key GLOB 'sw:*' ORDER BY db, key";
    struct repl_pos pos;
    char sql[200];

    check_rc(s, s->ops->read_checkpoint(s, &pos), "swapdb: read_checkpoint");
    check_rc(s, s->ops->begin(s), "swapdb: begin");
    swap_keys(s, 30, "sw:both", "30");
    swap_keys(s, 30, "sw:a", "30");
    swap_keys(s, 31, "sw:both", "31");
    swap_keys(s, 31, "sw:b", "31");
    swap_keys(s, 32, "sw:both", "32");
    swap_keys(s, 0, "sw:both", "0");
    swap_keys(s, 0, "sw:zero", "0");
    check_rc(s, s->ops->swap_db(s, 30, 31), "SWAPDB 30 31");
    CHECK(find(s, 30, LIT("sw:b"), NULL) > 0 && find(s, 30, LIT("sw:a"), NULL) < 0,
          "swapdb: key_find after SWAPDB 30 31");
    check_rc(s, s->ops->commit(s, &pos, NULL), "swapdb: commit");
    check_q(rows, "0|sw:both|0;0|sw:zero|0;30|sw:b|31;30|sw:both|31;31|sw:a|30;31|sw:both|30;"
            "32|sw:both|32");
    check_rc(s, s->ops->begin(s), "swapdb: begin (2)");
    check_rc(s, s->ops->swap_db(s, 31, 0), "SWAPDB 31 0");
    check_rc(s, s->ops->swap_db(s, 32, 33), "SWAPDB 32 33 (empty)");
    check_rc(s, s->ops->commit(s, &pos, NULL), "swapdb: commit (2)");
    check_q(rows, "0|sw:a|30;0|sw:both|30;30|sw:b|31;30|sw:both|31;31|sw:both|0;31|sw:zero|0;"
            "33|sw:both|32");
    check_rc(s, s->ops->begin(s), "swapdb: begin (3)");
    check_rc(s, s->ops->swap_db(s, 0, 30), "SWAPDB 0 30, rolled back");
    check_rc(s, s->ops->rollback(s), "swapdb: rollback");
    CHECK(find(s, 0, LIT("sw:a"), NULL) > 0, "swapdb: key_find after a rolled back SWAPDB");
    check_q(rows, "0|sw:a|30;0|sw:both|30;30|sw:b|31;30|sw:both|31;31|sw:both|0;31|sw:zero|0;"
            "33|sw:both|32");
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_schema WHERE name = 'g%s_keys_db'",
             q("SELECT generation FROM redsink_status"));
    check_q(sql, "1");
    snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN SELECT id FROM g%s_keys WHERE db = 31"
             " AND db <> 0 AND db <> -1", q("SELECT generation FROM redsink_status"));
    CHECK(strstr(q(sql), "INDEX g") && strstr(q(sql), "_keys_db (db=?)"),
          "swapdb: %s => %s", sql, q(sql));
    check_rc(s, s->ops->begin(s), "swapdb: begin (4)");
    for (int db = 30; db <= 33; db++)
        check_rc(s, s->ops->flush_db(s, db), "swapdb: FLUSHDB");
    check_rc(s, s->ops->commit(s, &pos, NULL), "swapdb: commit (4)");
}

/* Big keys in a load (sqlite_load.c, "Big keys"): past 50,000 members the rest
 * of a hash, set or sorted set is staged and sorted in when the key ends,
 * whether the next key, the end of the load or an abort ends it. */
static void test_big_keys(struct sink *s)
{
    struct repl_pos pos = { "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", 9000, 0 };
    char m[32], v[32];
    int64_t id;

    /* a load abandoned in the middle of a big key leaves nothing staged */
    check_rc(s, s->ops->load_begin(s), "load_begin (big keys, to abort)");
    id = mkkey(s, 0, LIT("gone"), RS_T_ZSET, RS_NO_EXPIRE, NULL);
    for (int i = 0; i < 60000 && s->err.code == 0; i++)
        s->ops->zset_set(s, id, &(struct rs_bytes){ m, (size_t)snprintf(m, sizeof(m), "g%d", i) }, i);
    check_rc(s, s->ops->load_abort(s), "load_abort in a big key");

    check_rc(s, s->ops->load_begin(s), "load_begin (big keys)");
    id = mkkey(s, 0, LIT("bz"), RS_T_ZSET, RS_NO_EXPIRE, NULL);
    for (int i = 0; i < 120000 && s->err.code == 0; i++) {
        int k = (int)((i * 7919L) % 120000);   /* every member once, in no order */
        s->ops->zset_set(s, id, &(struct rs_bytes){ m, (size_t)snprintf(m, sizeof(m), "m%06d", k) },
                         k / 2.0);
    }
    id = mkkey(s, 0, LIT("bs"), RS_T_SET, RS_NO_EXPIRE, NULL);
    for (int i = 60000; i >= 0 && s->err.code == 0; i--)
        s->ops->set_add(s, id, &(struct rs_bytes){ m, (size_t)snprintf(m, sizeof(m), "s%d", i) }, NULL);
    id = mkkey(s, 0, LIT("bh"), RS_T_HASH, RS_NO_EXPIRE, NULL);
    for (int i = 0; i <= 60000 && s->err.code == 0; i++)
        s->ops->hash_set(s, id, &(struct rs_bytes){ m, (size_t)snprintf(m, sizeof(m), "f%d", i) },
                         &(struct rs_bytes){ v, (size_t)snprintf(v, sizeof(v), "v%d", i) },
                         i == 59999 ? 4102444800000 : RS_NO_EXPIRE, NULL);
    mkkey(s, 0, LIT("after"), RS_T_STRING, RS_NO_EXPIRE, &LIT("x"));
    id = mkkey(s, 1, LIT("last"), RS_T_ZSET, RS_NO_EXPIRE, NULL);   /* ended by load_commit */
    for (int i = 0; i < 50010 && s->err.code == 0; i++)
        s->ops->zset_set(s, id, &(struct rs_bytes){ m, (size_t)snprintf(m, sizeof(m), "l%d", i) }, i);
    CHECK(s->err.code == 0, "load big keys (%s)", s->err.msg);
    check_rc(s, s->ops->load_commit(s, &pos), "load_commit (big keys)");
    check_q("SELECT count(*), count(DISTINCT member), min(member), max(member) FROM redis_zsets"
            " WHERE key = 'bz'", "120000|120000|m000000|m119999");
    check_q("SELECT score FROM redis_zsets WHERE key = 'bz' AND member = 'm100001'", "50000.5");
    check_q("SELECT count(*) FROM redis_sets WHERE key = 'bs'", "60001");
    check_q("SELECT count(*) FROM redis_sets WHERE key = 'bs' AND member IN ('s0', 's60000')", "2");
    check_q("SELECT count(*), sum(expire_at IS NOT NULL) FROM redis_hashes WHERE key = 'bh'",
            "60001|1");
    check_q("SELECT value, expire_at FROM redis_hashes WHERE key = 'bh' AND field = 'f59999'",
            "v59999|4102444800000");
    check_q("SELECT count(*) FROM redis_zsets WHERE key = 'last' AND db = 1", "50010");
    check_q("SELECT count(*) FROM redis_zsets WHERE key = 'gone'", "0");
    check_q("SELECT value FROM redis_strings WHERE key = 'after'", "x");
    check_q("SELECT keys_loaded FROM redsink_status", "5");
}

/* ----------------------------------------------------------- big values */

/* A value of n bytes: 0 random bytes (never UTF-8: it starts with 0xFF),
 * 1 UTF-8 with NULs and 2-byte characters, 2 the same but for a cut
 * character at the very end (not UTF-8). */
static unsigned char *big_value(size_t n, int kind, unsigned seed)
{
    unsigned char *v = malloc(n ? n : 1);
    uint32_t x = 2463534242u + seed;

    if (v == NULL) {
        perror("malloc");
        exit(99);
    }
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        if (kind == 0) {
            v[i] = (unsigned char)x;
        } else if (x % 8 == 0 && i + 1 < n) {   /* U+00E9 */
            v[i++] = 0xC3;
            v[i] = 0xA9;
        } else {
            v[i] = x % 8 == 1 ? 0 : (unsigned char)('a' + x % 26);
        }
    }
    if (n && kind == 0)
        v[0] = 0xFF;
    if (n && kind == 2)
        v[n - 1] = 0xC3;
    return v;
}

/* The one row of 'sql' (?1: the key, as text) holds 'want' byte for byte
 * in its first column, with SQLite type 'type'. */
static void check_cell(const char *sql, const char *key, const unsigned char *want, size_t n,
                       int type, const char *what)
{
    sqlite3_stmt *st;
    int rc, got = 0, same = 0, rows = 0;
    size_t len = 0;

    if (sqlite3_prepare_v2(rd, sql, -1, &st, NULL) != SQLITE_OK) {
        CHECK(0, "%s: %s", what, sqlite3_errmsg(rd));
        return;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const void *b = sqlite3_column_blob(st, 0);

        got = sqlite3_column_type(st, 0);
        len = (size_t)sqlite3_column_bytes(st, 0);
        same = len == n && (n == 0 || (b != NULL && memcmp(b, want, n) == 0));
        rows++;
    }
    CHECK(rc == SQLITE_DONE && rows == 1 && got == type && same,
          "%s: %d row(s), %s of %zu bytes, %s (want %s of %zu)", what, rows,
          got == SQLITE_TEXT ? "TEXT" : got == SQLITE_BLOB ? "BLOB" : "other", len,
          same ? "same bytes" : "bytes differ", type == SQLITE_TEXT ? "TEXT" : "BLOB", n);
    sqlite3_finalize(st);
}

/*
 * Values at every size where the sink changes its way (issue 11): a row
 * that overflows a 4096-byte page (local payload 4061), the bulk buffer
 * (SQI_BULK_BYTES, 256 KiB, the key name and 16 bytes included) and
 * SQI_BIG_VALUE (1 MiB: a non-UTF-8 string from there goes in as a
 * zeroblob written with incremental BLOB I/O), each -1/0/+1, in a load
 * and in the stream (key_create, string_set), TEXT iff UTF-8; elements of
 * every collection of the same sizes; 130 rows of 4 KiB that fill the
 * 64-row batch and the bulk buffer together.
 */
static void test_big_values(struct sink *s)
{
    static const size_t sizes[] = {
        0, 1, 4060, 4061, 4062, 262119, 262120, 262121, 262144,
        (1 << 20) - 1, 1 << 20, (1 << 20) + 1, (3 << 20) + 5,
    };
    enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
    struct repl_pos pos = { "dddddddddddddddddddddddddddddddddddddddd", 9500, 0 };
    char key[32], sql[200];
    int64_t id;

    check_rc(s, s->ops->load_begin(s), "load_begin (big values)");
    for (int i = 0; i < NS; i++) {
        for (int kind = 0; kind < 3; kind++) {
            unsigned char *v = big_value(sizes[i], kind, (unsigned)(i * 3 + kind));
            struct rs_bytes b = { (const char *)v, sizes[i] };

            snprintf(key, sizeof(key), "v%02d%d%04d", i, kind, 0);   /* 8 bytes */
            mkkey(s, 0, (struct rs_bytes){ key, 8 }, RS_T_STRING, RS_NO_EXPIRE, &b);
            snprintf(key, sizeof(key), "c%02d%d", i, kind);
            id = mkkey(s, 0, (struct rs_bytes){ key, strlen(key) }, RS_T_HASH, RS_NO_EXPIRE, NULL);
            s->ops->hash_set(s, id, &LIT("f"), &b, RS_NO_EXPIRE, NULL);
            s->ops->hash_set(s, id, &b, &LIT("v"), RS_NO_EXPIRE, NULL);
            key[0] = 'l';
            id = mkkey(s, 0, (struct rs_bytes){ key, strlen(key) }, RS_T_LIST, RS_NO_EXPIRE, NULL);
            s->ops->list_push(s, id, 0, &b);
            key[0] = 's';
            id = mkkey(s, 0, (struct rs_bytes){ key, strlen(key) }, RS_T_SET, RS_NO_EXPIRE, NULL);
            s->ops->set_add(s, id, &b, NULL);
            key[0] = 'z';
            id = mkkey(s, 0, (struct rs_bytes){ key, strlen(key) }, RS_T_ZSET, RS_NO_EXPIRE, NULL);
            s->ops->zset_set(s, id, &b, 2.5);
            key[0] = 'x';
            id = mkkey(s, 0, (struct rs_bytes){ key, strlen(key) }, RS_T_STREAM, RS_NO_EXPIRE, NULL);
            s->ops->stream_add(s, id, &(struct rs_stream_id){ 1, 0 }, 0, &LIT("f"), &b);
            free(v);
        }
    }
    for (int i = 0; i < 130; i++) {             /* batch and buffer full together */
        unsigned char *v = big_value(4080, i % 2, (unsigned)i);

        snprintf(key, sizeof(key), "r%03d", i);
        mkkey(s, 0, (struct rs_bytes){ key, 4 }, RS_T_STRING, RS_NO_EXPIRE,
              &(struct rs_bytes){ (const char *)v, 4080 });
        free(v);
    }
    CHECK(s->err.code == 0, "load values of every size (%s)", s->err.msg);
    check_rc(s, s->ops->load_commit(s, &pos), "load_commit (big values)");

    /* the stream: new keys and overwritten ones */
    check_rc(s, s->ops->begin(s), "begin (big values)");
    for (int i = 0; i < NS; i++) {
        for (int kind = 0; kind < 3; kind += 2) {
            unsigned char *v = big_value(sizes[i], kind, (unsigned)(100 + i * 3 + kind));
            struct rs_bytes b = { (const char *)v, sizes[i] };

            snprintf(key, sizeof(key), "w%02d%d", i, kind);
            mkkey(s, 0, (struct rs_bytes){ key, strlen(key) }, RS_T_STRING, RS_NO_EXPIRE, &b);
            snprintf(key, sizeof(key), "v%02d%d%04d", i, 2 - kind, 0);
            check_rc(s, s->ops->string_set(s, find(s, 0, (struct rs_bytes){ key, 8 }, NULL), &b),
                     "string_set");
            free(v);
        }
    }
    pos.offset = 9600;
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big values)");

    for (int i = 0; i < NS; i++) {
        for (int kind = 0; kind < 3; kind++) {
            /* string_set above gave kind 0's key kind 2's value and back */
            int vk = kind == 1 ? 1 : 2 - kind;
            unsigned seed = (unsigned)(kind == 1 ? i * 3 + 1 : 100 + i * 3 + vk);
            unsigned char *v = big_value(sizes[i], vk, seed);
            int type = vk == 1 || sizes[i] == 0 ? SQLITE_TEXT : SQLITE_BLOB;
            char what[80];

            snprintf(key, sizeof(key), "v%02d%d%04d", i, kind, 0);
            snprintf(what, sizeof(what), "%zu-byte value of kind %d after string_set", sizes[i], vk);
            check_cell("SELECT value FROM redis_strings WHERE key = ?1", key, v, sizes[i], type, what);
            free(v);
            v = big_value(sizes[i], kind, (unsigned)(i * 3 + kind));
            type = kind == 1 || sizes[i] == 0 ? SQLITE_TEXT : SQLITE_BLOB;
            snprintf(key, sizeof(key), "c%02d%d", i, kind);
            snprintf(what, sizeof(what), "%zu-byte hash value of kind %d", sizes[i], kind);
            check_cell("SELECT value FROM redis_hashes WHERE key = ?1 AND field = 'f'", key, v,
                       sizes[i], type, what);
            snprintf(what, sizeof(what), "%zu-byte hash field of kind %d", sizes[i], kind);
            check_cell("SELECT field FROM redis_hashes WHERE key = ?1 AND value = 'v'", key, v,
                       sizes[i], type, what);
            const char *views[4][2] = { { "l", "SELECT value FROM redis_lists WHERE key = ?1" },
                                        { "s", "SELECT member FROM redis_sets WHERE key = ?1" },
                                        { "z", "SELECT member FROM redis_zsets WHERE key = ?1" },
                                        { "x", "SELECT value FROM redis_streams WHERE key = ?1" } };
            for (int w = 0; w < 4; w++) {
                key[0] = views[w][0][0];
                snprintf(what, sizeof(what), "%zu-byte element of kind %d in %s", sizes[i], kind,
                         views[w][1] + 17);
                check_cell(views[w][1], key, v, sizes[i], type, what);
            }
            free(v);
            if (kind != 1) {
                v = big_value(sizes[i], kind, (unsigned)(100 + i * 3 + kind));
                snprintf(key, sizeof(key), "w%02d%d", i, kind);
                snprintf(what, sizeof(what), "%zu-byte value of kind %d created in the stream",
                         sizes[i], kind);
                check_cell("SELECT value FROM redis_strings WHERE key = ?1", key, v, sizes[i], type,
                           what);
                free(v);
            }
        }
    }
    for (int i = 0; i < 130; i += 43) {
        unsigned char *v = big_value(4080, i % 2, (unsigned)i);

        snprintf(key, sizeof(key), "r%03d", i);
        snprintf(sql, sizeof(sql), "row %d of 130 in a full batch", i);
        check_cell("SELECT value FROM redis_strings WHERE key = ?1", key, v, 4080,
                   i % 2 ? SQLITE_TEXT : SQLITE_BLOB, sql);
        free(v);
    }
    check_q("SELECT count(*) FROM redis_keys", "390");
}

/* ------------------------------------------------------------------ */
/* Big element values (gN_big)                                        */
/* ------------------------------------------------------------------ */

/* What a read op handed back: a copy, compared after it returns. */
struct gotbig {
    unsigned char *p;
    size_t len;
    int n;
};

static void got_keep(struct gotbig *g, const struct rs_bytes *v)
{
    free(g->p);
    g->p = malloc(v->len ? v->len : 1);
    if (g->p == NULL)
        exit(99);
    memcpy(g->p, v->ptr, v->len);
    g->len = v->len;
    g->n++;
}

static void got_v(void *ud, const struct rs_bytes *v)
{
    got_keep(ud, v);
}

static void got_sfield(void *ud, const struct rs_stream_id *eid, int pos,
                       const struct rs_bytes *f, const struct rs_bytes *v)
{
    (void)eid;
    (void)pos;
    (void)v;
    got_keep(ud, f);
}

static void got_hv(void *ud, const struct rs_bytes *v, int64_t expire_ms)
{
    (void)expire_ms;
    got_keep(ud, v);
}

static void got_iv(void *ud, int64_t index, const struct rs_bytes *v)
{
    if (index == 1)
        got_keep(ud, v);
}

static void got_xv(void *ud, const struct rs_stream_id *eid, int pos, const struct rs_bytes *f,
                   const struct rs_bytes *v)
{
    (void)f;
    if (eid->ms == 2 && pos == 0)
        got_keep(ud, v);
}

static int got_av(void *ud, uint64_t idx, const struct rs_bytes *v)
{
    if (idx == 5)
        got_keep(ud, v);
    return 0;
}

static void check_got(struct gotbig *g, const unsigned char *want, size_t n, const char *what)
{
    CHECK(g->n > 0 && g->len == n && memcmp(g->p, want, n) == 0,
          "%s: %d call(s), %zu bytes (want %zu), %s", what, g->n, g->len, n,
          g->len == n && g->n && memcmp(g->p, want, n) == 0 ? "same" : "differ");
    free(g->p);
    *g = (struct gotbig){ NULL, 0, 0 };
}

/* gN_big's rows beyond 'base' (those test_big_values left), and those no
 * element row points at (must be none). */
static void check_big_rows(int base, int want, const char *what)
{
    char sql[600], both[40];
    int64_t g = atoll(q("SELECT generation FROM redsink_status"));

    snprintf(sql, sizeof(sql), "SELECT count(*), (SELECT count(*) FROM g%lld_big WHERE id NOT IN"
             " (SELECT big FROM g%lld_hash WHERE big IS NOT NULL UNION ALL SELECT big FROM"
             " g%lld_list WHERE big IS NOT NULL UNION ALL SELECT big FROM g%lld_stream WHERE"
             " big IS NOT NULL UNION ALL SELECT big FROM g%lld_array WHERE big IS NOT NULL))"
             " FROM g%lld_big", (long long)g, (long long)g, (long long)g, (long long)g,
             (long long)g, (long long)g);
    snprintf(both, sizeof(both), "%d|0", base + want);
    CHECK(strcmp(q(sql), both) == 0, "%s: big rows|orphans %s (want %s)", what, q(sql), both);
}

/*
 * Hash, list and stream values of SQI_BIG_VALUE bytes and more live in
 * gN_big (one copy while written): every read op of the applier gets their
 * exact bytes, the views show them TEXT iff UTF-8, and every delete or
 * overwrite path (HDEL, HSET, LSET, LREM, pops, LTRIM, XDEL, XTRIM, DEL,
 * COPY, FLUSHDB) leaves no gN_big row behind.
 */
static void test_big_elements(struct sink *s)
{
    const size_t n = (2 << 20) + 3;
    unsigned char *bin = big_value(n, 0, 7), *txt = big_value(n, 1, 8);
    struct rs_bytes b = { (const char *)bin, n }, t = { (const char *)txt, n };
    struct repl_pos pos = { "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", 9700, 0 };
    struct gotbig g = { NULL, 0, 0 };
    int64_t h, l, x, a, c, popped, removed;
    uint64_t gone;
    int found, r, base;
    char sql[80];

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM g%s_big",
             q("SELECT generation FROM redsink_status"));
    base = atoi(q(sql));

    check_rc(s, s->ops->begin(s), "begin (big elements)");
    h = mkkey(s, 0, LIT("bh"), RS_T_HASH, RS_NO_EXPIRE, NULL);
    check_rc(s, s->ops->hash_set(s, h, &LIT("b"), &b, RS_NO_EXPIRE, NULL), "hash_set big");
    check_rc(s, s->ops->hash_set(s, h, &LIT("t"), &t, RS_NO_EXPIRE, &r), "hash_set big text");
    check_rc(s, s->ops->hash_set(s, h, &LIT("s"), &LIT("small"), RS_NO_EXPIRE, NULL), "hash_set");
    l = mkkey(s, 0, LIT("bl"), RS_T_LIST, RS_NO_EXPIRE, NULL);
    check_rc(s, s->ops->list_push(s, l, 0, &LIT("")), "list_push ''");
    check_rc(s, s->ops->list_push(s, l, 0, &b), "list_push big");
    check_rc(s, s->ops->list_push(s, l, 0, &t), "list_push big text");
    check_rc(s, s->ops->list_push(s, l, 0, &b), "list_push big again");
    x = mkkey(s, 0, LIT("bx"), RS_T_STREAM, RS_NO_EXPIRE, NULL);
    check_rc(s, s->ops->stream_add(s, x, &(struct rs_stream_id){ 1, 0 }, 0, &LIT("f"), &t),
             "stream_add big text");
    check_rc(s, s->ops->stream_add(s, x, &(struct rs_stream_id){ 2, 0 }, 0, &LIT("f"), &b),
             "stream_add big");
    a = mkkey(s, 0, LIT("ba"), RS_T_ARRAY, RS_NO_EXPIRE, NULL);
    check_rc(s, s->ops->array_set(s, a, 5, &b, &r), "array_set big");
    check_rc(s, s->ops->array_set(s, a, 6, &t, NULL), "array_set big text");
    check_rc(s, s->ops->array_set(s, a, 6, &LIT("6"), NULL), "array_set over big");
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big elements)");
    check_big_rows(base, 8, "after writing");
    check_q("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'", "12");   /* and the 4 of gN_bigm (hash, set, zset, stream): test_big_values stored big members */
    check_cell("SELECT value FROM redis_arrays WHERE key = ?1 AND idx = 5", "ba", bin, n,
               SQLITE_BLOB, "big array element in the view");
    check_rc(s, s->ops->array_range(s, a, 0, 9, 1, got_av, &g), "array_range");
    check_got(&g, bin, n, "array_range over a big element");
    check_cell("SELECT value FROM redis_hashes WHERE key = ?1 AND field = 'b'", "bh", bin, n,
               SQLITE_BLOB, "big hash value in the view");
    check_cell("SELECT value FROM redis_hashes WHERE key = ?1 AND field = 't'", "bh", txt, n,
               SQLITE_TEXT, "big UTF-8 hash value in the view");
    check_cell("SELECT value FROM redis_lists WHERE key = ?1 AND idx = 2", "bl", txt, n,
               SQLITE_TEXT, "big UTF-8 list element in the view");
    check_cell("SELECT value FROM redis_lists WHERE key = ?1 AND idx = 0", "bl", (const unsigned
               char *)"", 0, SQLITE_TEXT, "empty list element next to big ones");
    check_cell("SELECT value FROM redis_streams WHERE key = ?1 AND id = '2-0'", "bx", bin, n,
               SQLITE_BLOB, "big stream value in the view");
    check_cell("SELECT value FROM redis_streams WHERE key = ?1 AND id = '1-0'", "bx", txt, n,
               SQLITE_TEXT, "big UTF-8 stream value in the view");

    /* the applier's reads */
    check_rc(s, s->ops->hash_get(s, h, &LIT("t"), got_hv, &g, &found), "hash_get big");
    check_got(&g, txt, n, "hash_get of a big value");
    check_rc(s, s->ops->list_get(s, l, 1, got_v, &g, &found), "list_get big");
    check_got(&g, bin, n, "list_get of a big element");
    check_rc(s, s->ops->list_range(s, l, 0, -1 + 4, got_iv, &g), "list_range");
    check_got(&g, bin, n, "list_range over big elements");
    check_rc(s, s->ops->stream_scan(s, x, NULL, got_xv, &g), "stream_scan");
    check_got(&g, bin, n, "stream_scan over big values");

    /* overwrites and deletes */
    check_rc(s, s->ops->begin(s), "begin (big deletes)");
    check_rc(s, s->ops->hash_set(s, h, &LIT("b"), &LIT("1"), RS_NO_EXPIRE, NULL), "HSET over big");
    check_rc(s, s->ops->hash_set(s, h, &LIT("t"), &b, RS_NO_EXPIRE, &r), "HSET big over big");
    check_rc(s, s->ops->list_rem(s, l, 0, &LIT(""), &removed), "LREM ''");
    CHECK(removed == 1, "LREM '' removes the empty element only (%lld)", (long long)removed);
    check_rc(s, s->ops->list_rem(s, l, -1, &b, &removed), "LREM big");
    CHECK(removed == 1, "LREM of a big value matches it (%lld)", (long long)removed);
    check_rc(s, s->ops->list_set(s, l, 0, &t), "LSET big over big");
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big overwrites)");
    check_big_rows(base, 6, "after HSET, LREM, LSET");
    check_cell("SELECT value FROM redis_hashes WHERE key = ?1 AND field = 't'", "bh", bin, n,
               SQLITE_BLOB, "big hash value after an overwrite");
    check_cell("SELECT value FROM redis_lists WHERE key = ?1 AND idx = 1", "bl", txt, n,
               SQLITE_TEXT, "big list element after LREM");
    check_q("SELECT count(*) FROM redis_lists WHERE key = 'bl'", "2");

    check_rc(s, s->ops->begin(s), "begin (big copy)");
    check_rc(s, s->ops->key_copy(s, l, 1, &LIT("bl2"), &c), "COPY a list of big elements");
    check_rc(s, s->ops->key_copy(s, h, 1, &LIT("bh2"), &c), "COPY a hash of big values");
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big copy)");
    check_big_rows(base, 9, "after COPY");
    check_cell("SELECT value FROM redis_lists WHERE db = 1 AND key = ?1 AND idx = 0", "bl2", txt,
               n, SQLITE_TEXT, "copied big list element");
    check_cell("SELECT value FROM redis_hashes WHERE db = 1 AND key = ?1 AND field = 't'", "bh2",
               bin, n, SQLITE_BLOB, "copied big hash value");

    check_rc(s, s->ops->begin(s), "begin (big pops)");
    check_rc(s, s->ops->list_pop(s, l, 1, 1, got_v, &g, &popped), "LPOP big");
    check_got(&g, txt, n, "LPOP of a big element");
    check_rc(s, s->ops->list_trim(s, l, 1, 0), "LTRIM to nothing");
    check_rc(s, s->ops->hash_del(s, h, &LIT("t"), &r), "HDEL big");
    check_rc(s, s->ops->stream_delete(s, x, &(struct rs_stream_id){ 2, 0 }, &r), "XDEL big");
    check_rc(s, s->ops->array_del_range(s, a, 0, 9, &gone), "ARDEL big");
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big pops)");
    check_big_rows(base, 4, "after LPOP, LTRIM, HDEL, XDEL");

    check_rc(s, s->ops->begin(s), "begin (big drop)");
    check_rc(s, s->ops->key_delete(s, x), "DEL a stream with a big value");
    check_rc(s, s->ops->flush_db(s, 1), "FLUSHDB with big values");
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big drop)");
    check_big_rows(base, 0, "after DEL and FLUSHDB");
    free(bin);
    free(txt);
}

/* ------------------------------------------------------------------ */
/* Big hash fields and set members (gN_bigm)                          */
/* ------------------------------------------------------------------ */

/* Keep the one field or member longer than 100 bytes a scan hands back. */
static void got_long(void *ud, const struct rs_bytes *m)
{
    if (m->len > 100)
        got_keep(ud, m);
}

static void got_long_field(void *ud, const struct rs_bytes *f, const struct rs_bytes *v,
                           int64_t expire_ms)
{
    (void)v;
    (void)expire_ms;
    got_long(ud, f);
}

/* Rows of gN_bigm, and the ways they could disagree with the element rows
 * (must be none): a gN_bigm row no field or member points at, a placeholder
 * without its gN_bigm row, a sorted-set row with an ord and no placeholder
 * or the other way round. */
static void check_bigm_rows(int want, const char *what)
{
    static const char *const t[][2] = {
        { "hash", "field" }, { "set", "member" }, { "zset", "member" }
    };
    char sql[2400], both[40], gen[24];
    size_t n;

    snprintf(gen, sizeof(gen), "%s", q("SELECT generation FROM redsink_status"));
    n = (size_t)snprintf(sql, sizeof(sql), "SELECT count(*), (SELECT count(*) FROM g%s_bigm AS m"
                         " WHERE 1", gen);
    for (int i = 0; i < 3; i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND NOT EXISTS (SELECT 1 FROM g%s_%s"
                              " AS x WHERE x.kid = m.kid AND x.%s = m.ph)", gen, t[i][0], t[i][1]);
    n += (size_t)snprintf(sql + n, sizeof(sql) - n, ")");
    for (int i = 0; i < 3; i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, " + (SELECT count(*) FROM g%1$s_%2$s AS x"
                              " WHERE %3$s >= CAST(X'FF' AS TEXT) AND %3$s < X'' AND NOT EXISTS"
                              " (SELECT 1 FROM g%1$s_bigm AS m WHERE m.kid = x.kid AND"
                              " m.ph = x.%3$s))", gen, t[i][0], t[i][1]);
    snprintf(sql + n, sizeof(sql) - n, " + (SELECT count(*) FROM g%1$s_zset WHERE (member >="
             " CAST(X'FF' AS TEXT) AND member < X'') <> (ord IS NOT NULL)) FROM g%1$s_bigm", gen);
    snprintf(both, sizeof(both), "%d|0", want);
    CHECK(strcmp(q(sql), both) == 0, "%s: bigm rows|strays %s (want %s)", what, q(sql), both);
}

/* A reader's "WHERE key = k AND <col> = ?" on 'view', ?1 bound as the
 * sink binds it (TEXT iff UTF-8): the row count. */
static int view_rows(const char *view, const char *col, const char *key,
                     const unsigned char *m, size_t n, int text)
{
    char sql[160];
    sqlite3_stmt *st;
    int rows = 0;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE key = ?2 AND %s = ?1", view, col);
    if (sqlite3_prepare_v2(rd, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (text)
        sqlite3_bind_text(st, 1, (const char *)m, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_blob(st, 1, m, (int)n, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        rows = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rows;
}

/*
 * Hash fields and set members at SQI_BIG_VALUE - 1, + 0, + 1, binary and
 * UTF-8, through a load and through the ops the commands use: a big one
 * is a placeholder in its row and its bytes are in gN_bigm, one copy; the
 * views show the exact bytes (TEXT iff UTF-8) and a reader's "field = ?"
 * finds them; HSET over it, HGET, HSCAN-like reads, HDEL, SADD again,
 * SISMEMBER, SREM, SUNIONSTORE/SINTERSTORE (set_combine), COPY and DEL
 * find the row, and no gN_bigm row is left behind nor missing.
 */
static void test_big_members(struct sink *s)
{
    static const size_t sizes[] = { (1 << 20) - 1, 1 << 20, (1 << 20) + 1 };
    struct repl_pos pos = { "ffffffffffffffffffffffffffffffffffffffff", 9900, 0 };
    struct gotbig g = { NULL, 0, 0 };
    int64_t h[6], st[6], c, u, x;
    char key[32], what[96];
    int r, found, big_rows = 0;

    /* a load: one big field and one big member per key */
    check_rc(s, s->ops->load_begin(s), "load_begin (big members)");
    for (int i = 0; i < 6; i++) {
        unsigned char *v = big_value(sizes[i / 2], i % 2, (unsigned)(200 + i));
        struct rs_bytes b = { (const char *)v, sizes[i / 2] };

        snprintf(key, sizeof(key), "mh%d", i);
        h[i] = mkkey(s, 0, (struct rs_bytes){ key, 3 }, RS_T_HASH, RS_NO_EXPIRE, NULL);
        s->ops->hash_set(s, h[i], &LIT("a"), &LIT("1"), RS_NO_EXPIRE, NULL);
        s->ops->hash_set(s, h[i], &b, &LIT("v1"), RS_NO_EXPIRE, NULL);
        key[1] = 's';
        st[i] = mkkey(s, 0, (struct rs_bytes){ key, 3 }, RS_T_SET, RS_NO_EXPIRE, NULL);
        s->ops->set_add(s, st[i], &LIT("a"), NULL);
        s->ops->set_add(s, st[i], &b, NULL);
        big_rows += 2 * (sizes[i / 2] >= (1 << 20));
        free(v);
    }
    CHECK(s->err.code == 0, "load big members (%s)", s->err.msg);
    check_rc(s, s->ops->load_commit(s, &pos), "load_commit (big members)");
    check_bigm_rows(big_rows, "after the load");

    for (int i = 0; i < 6; i++) {
        size_t n = sizes[i / 2];
        unsigned char *v = big_value(n, i % 2, (unsigned)(200 + i));
        unsigned char *other = big_value(n, i % 2, (unsigned)(300 + i));  /* same length */
        struct rs_bytes b = { (const char *)v, n }, o = { (const char *)other, n };
        int type = i % 2 ? SQLITE_TEXT : SQLITE_BLOB, is;

        h[i] = find(s, 0, (struct rs_bytes){ (snprintf(key, sizeof(key), "mh%d", i), key), 3 },
                    NULL);
        snprintf(what, sizeof(what), "%zu-byte field of kind %d", n, i % 2);
        check_cell("SELECT field FROM redis_hashes WHERE key = ?1 AND value = 'v1'", key, v, n,
                   type, what);
        CHECK(view_rows("redis_hashes", "field", key, v, n, i % 2) == 1 &&
              view_rows("redis_hashes", "field", key, other, n, i % 2) == 0,
              "%s: a reader's field = ? finds it, and only it", what);
        check_rc(s, s->ops->begin(s), "begin (big field ops)");
        check_rc(s, s->ops->hash_set(s, h[i], &b, &LIT("v2"), RS_NO_EXPIRE, &r), "HSET again");
        CHECK(r == 0, "%s: HSET over it finds it (added %d)", what, r);
        check_rc(s, s->ops->hash_get(s, h[i], &b, got_hv, &g, &found), "HGET");
        CHECK(found, "%s: HGET finds it", what);
        check_got(&g, (const unsigned char *)"v2", 2, "HGET of a big field");
        check_rc(s, s->ops->hash_get(s, h[i], &o, NULL, NULL, &found), "HGET another");
        CHECK(!found, "%s: another field of its length is not it", what);
        check_rc(s, s->ops->hash_scan(s, h[i], got_long_field, &g), "hash_scan");
        check_got(&g, v, n, "hash_scan of a big field");
        key[1] = 's';
        st[i] = find(s, 0, (struct rs_bytes){ key, 3 }, NULL);
        check_rc(s, s->ops->set_add(s, st[i], &b, &r), "SADD again");
        CHECK(r == 0, "%s: SADD again finds the member (added %d)", what, r);
        check_rc(s, s->ops->set_is_member(s, st[i], &b, &is), "SISMEMBER");
        CHECK(is == 1, "%s: SISMEMBER finds the member", what);
        check_rc(s, s->ops->set_is_member(s, st[i], &o, &is), "SISMEMBER another");
        CHECK(is == 0, "%s: another member of its length is not in the set", what);
        check_rc(s, s->ops->set_scan(s, st[i], got_long, &g), "set_scan");
        check_got(&g, v, n, "set_scan of a big member");
        /* SUNIONSTORE-like: into a new key; SINTERSTORE-like: with itself */
        snprintf(key, sizeof(key), "mu%d", i);
        u = mkkey(s, 0, (struct rs_bytes){ key, 3 }, RS_T_SET, RS_NO_EXPIRE, NULL);
        check_rc(s, s->ops->set_combine(s, u, st[i], SINK_SET_UNION), "set union");
        check_rc(s, s->ops->set_combine(s, u, st[i], SINK_SET_INTER), "set inter");
        snprintf(key, sizeof(key), "mc%d", i);
        check_rc(s, s->ops->key_copy(s, h[i], 0, &(struct rs_bytes){ key, 3 }, &c), "COPY hash");
        key[1] = 'd';
        check_rc(s, s->ops->key_copy(s, st[i], 0, &(struct rs_bytes){ key, 3 }, &c), "COPY set");
        check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big field ops)");
        snprintf(key, sizeof(key), "mu%d", i);
        snprintf(what, sizeof(what), "%zu-byte member of kind %d after a union", n, i % 2);
        check_cell("SELECT member FROM redis_sets WHERE key = ?1 AND length(member) > 1", key,
                   v, n, type, what);
        key[1] = 'c';
        snprintf(what, sizeof(what), "%zu-byte field of kind %d, copied", n, i % 2);
        check_cell("SELECT field FROM redis_hashes WHERE key = ?1 AND value = 'v2'", key, v, n,
                   type, what);
        key[1] = 'd';
        CHECK(view_rows("redis_sets", "member", key, v, n, i % 2) == 1,
              "%zu-byte member of kind %d, copied: a reader's member = ? finds it", n, i % 2);

        check_rc(s, s->ops->begin(s), "begin (big deletes)");
        check_rc(s, s->ops->hash_del(s, h[i], &o, &r), "HDEL another");
        CHECK(r == 0, "HDEL of another field of that length removes nothing (%d)", r);
        check_rc(s, s->ops->hash_del(s, h[i], &b, &r), "HDEL");
        CHECK(r == 1, "HDEL of a %zu-byte field removes it (%d)", n, r);
        check_rc(s, s->ops->set_rem(s, st[i], &b, &r), "SREM");
        CHECK(r == 1, "SREM of a %zu-byte member removes it (%d)", n, r);
        x = find(s, 0, (struct rs_bytes){ key, 3 }, NULL);
        check_rc(s, s->ops->key_delete(s, x), "DEL the copied set");
        check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big deletes)");
        /* HDEL and SREM took two gN_bigm rows, the union and the copied
         * hash gave two: as many as after the load */
        snprintf(what, sizeof(what), "after the ops on %zu bytes of kind %d", n, i % 2);
        check_bigm_rows(big_rows, what);
        snprintf(what, sizeof(what), "SELECT count(*) FROM redis_hashes WHERE key = 'mh%d'", i);
        check_q(what, "1");
        free(v);
        free(other);
    }
    check_rc(s, s->ops->begin(s), "begin (big flush)");
    check_rc(s, s->ops->flush_db(s, 0), "FLUSHDB with big members");
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big flush)");
    check_bigm_rows(0, "after FLUSHDB");
}

/* ------------------------------------------------------------------ */
/* Big sorted-set members (gN_bigm, ord)                             */
/* ------------------------------------------------------------------ */

/* A member of the model: its bytes and score. */
struct zm {
    unsigned char *p;
    size_t len;
    double score;
};

/* Redis' order: score, then memcmp, shorter first on a common prefix. */
static int zm_cmp(const void *a, const void *b)
{
    const struct zm *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c;

    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    if ((c = memcmp(x->p, y->p, n)) != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* What a scan or a range handed back, in order (copies). */
struct zgot {
    int n;
    struct zm m[24];
};

static void zgot_add(struct zgot *g, const struct rs_bytes *m, double score)
{
    if (g->n < 24) {
        g->m[g->n].p = malloc(m->len ? m->len : 1);
        if (g->m[g->n].p == NULL)
            exit(99);
        memcpy(g->m[g->n].p, m->ptr, m->len);
        g->m[g->n].len = m->len;
        g->m[g->n].score = score;
    }
    g->n++;
}

static void got_zscan(void *ud, const struct rs_bytes *m, double score)
{
    zgot_add(ud, m, score);
}

static int got_zrange(void *ud, const struct rs_bytes *m, double score)
{
    zgot_add(ud, m, score);
    return 0;
}

/* g holds want[from..from+n) in order (reverse: from the end down); g is
 * emptied. */
static void check_zgot(struct zgot *g, const struct zm *want, int from, int n, int reverse,
                       const char *what)
{
    int bad = -1;

    for (int i = 0; i < n && i < g->n && bad < 0; i++) {
        const struct zm *w = &want[reverse ? from + n - 1 - i : from + i];

        if (g->m[i].len != w->len || g->m[i].score != w->score ||
            memcmp(g->m[i].p, w->p, w->len) != 0)
            bad = i;
    }
    CHECK(g->n == n && bad < 0, "%s: %d members (want %d), first wrong at %d", what, g->n, n,
          bad);
    for (int i = 0; i < g->n && i < 24; i++)
        free(g->m[i].p);
    g->n = 0;
}

/* The members of the order test: around a 1 MiB prefix P, at score 5,
 * members whose bytes differ only after P (so the rank in ord decides), P
 * itself (a big member equal to the others' prefix), small members sharing a
 * prefix with P, one big member whose prefix differs from P in its last
 * byte, members at scores 4 and 6, and UTF-8 ones. 'n' gets the count. */
static void zorder_members(struct zm *m, int *n)
{
    const size_t P = 1 << 20;
    unsigned char *base = big_value(P + 2, 0, 777);
    static const struct { size_t len; int tail; double score; } shape[] = {
        { 1 << 20, 0, 5 },                  /* P */
        { (1 << 20) + 1, 'b', 5 },          /* P + "b" */
        { (1 << 20) + 2, 'a', 5 },          /* P + "ab" */
        { (1 << 20) + 1, 'a', 5 },          /* P + "a" */
        { (1 << 20) + 3, 'c', 5 },          /* P + "ccc" */
        { (1 << 20) - 1, 0, 5 },            /* P without its last byte: small */
        { 10, 0, 5 },                       /* P's first 10 bytes: small */
        { (1 << 20) + 1, 'q', 5 },          /* Q + "q": Q = P, last byte + 1 */
        { 11, 0x00, 5 },                    /* P's first 10 bytes + 0x00: small */
        { (1 << 20) + 1, 'd', 4 },          /* P + "d" at 4: not the same group */
        { 3, 'z', 6 },
        { (1 << 20) + 5, 'x', 6 },
    };
    int k = 0;

    for (size_t i = 0; i < sizeof(shape) / sizeof(shape[0]); i++, k++) {
        size_t len = shape[i].len;

        m[k].p = malloc(len);
        if (m[k].p == NULL)
            exit(99);
        memcpy(m[k].p, base, len < P ? len : P);
        for (size_t j = P; j < len; j++)
            m[k].p[j] = (unsigned char)shape[i].tail;
        if (len < P && shape[i].tail != 0)
            memset(m[k].p, shape[i].tail, len);
        if (len == 11)
            m[k].p[10] = 0;
        if (shape[i].tail == 'q')
            m[k].p[P - 1]++;
        if (shape[i].tail == 'a' && len == (1 << 20) + 2)
            m[k].p[P + 1] = 'b';
        m[k].len = len;
        m[k].score = shape[i].score;
    }
    free(base);
    /* UTF-8 ones at score 5 too: U, U + "a" (equal first 1 MiB) and U's
     * first 100 bytes (bound as TEXT), and a small BLOB, X'01FF', which
     * sorts before them all by its bytes (but after them as a BLOB) */
    base = big_value(P + 1, 1, 778);
    for (int i = 0; i < 4; i++, k++) {
        size_t len = i == 0 ? P : i == 1 ? P + 1 : i == 2 ? 100 : 2;

        if ((m[k].p = malloc(len)) == NULL)
            exit(99);
        memcpy(m[k].p, i == 3 ? (const unsigned char *)"\x01\xff" : base, len);
        if (i == 1)
            m[k].p[P] = 'a';
        m[k].len = len;
        m[k].score = 5;
    }
    free(base);
    *n = k;
}

/* Check every way the order is read: scans both ways, windows by rank
 * and by score both ways. */
static void check_zorder(struct sink *s, int64_t id, const struct zm *want, int n,
                         const char *what)
{
    struct zgot g = { 0 };
    char w[160];
    int nscore5 = 0, first5 = -1;

    for (int i = 0; i < n; i++)
        if (want[i].score == 5) {
            nscore5++;
            first5 = first5 < 0 ? i : first5;
        }
    snprintf(w, sizeof(w), "%s: scan", what);
    check_rc(s, s->ops->zset_scan(s, id, 0, got_zscan, &g), w);
    check_zgot(&g, want, 0, n, 0, w);
    snprintf(w, sizeof(w), "%s: reverse scan", what);
    check_rc(s, s->ops->zset_scan(s, id, 1, got_zscan, &g), w);
    check_zgot(&g, want, 0, n, 1, w);
    for (int off = 0; off + 3 <= n; off += 2) {
        struct zset_range r = { .offset = off, .count = 3 };

        snprintf(w, sizeof(w), "%s: range by rank %d..%d", what, off, off + 2);
        check_rc(s, s->ops->zset_range(s, id, &r, got_zrange, &g), w);
        check_zgot(&g, want, off, 3, 0, w);
        r.reverse = 1;
        snprintf(w, sizeof(w), "%s: reverse range by rank %d..%d", what, off, off + 2);
        check_rc(s, s->ops->zset_range(s, id, &r, got_zrange, &g), w);
        check_zgot(&g, want, n - off - 3, 3, 1, w);
    }
    if (nscore5 > 0) {
        struct zset_range r = { .by_score = 1, .min = 5, .max = 5, .count = -1 };

        snprintf(w, sizeof(w), "%s: range by score 5", what);
        check_rc(s, s->ops->zset_range(s, id, &r, got_zrange, &g), w);
        check_zgot(&g, want, first5, nscore5, 0, w);
        r.reverse = 1;
        snprintf(w, sizeof(w), "%s: reverse range by score 5", what);
        check_rc(s, s->ops->zset_range(s, id, &r, got_zrange, &g), w);
        check_zgot(&g, want, first5, nscore5, 1, w);
    }
}

/* Remove model entry i (keeping the order). */
static void zm_drop(struct zm *m, int *n, int i)
{
    free(m[i].p);
    memmove(m + i, m + i + 1, (size_t)(*n - i - 1) * sizeof(*m));
    (*n)--;
}

static int zm_big(const struct zm *m, int n)
{
    int k = 0;

    for (int i = 0; i < n; i++)
        k += m[i].len >= (1 << 20);
    return k;
}

/*
 * Sorted-set members of SQI_BIG_VALUE bytes or more (sqlite_zset.c, "Big
 * members"): at 1 MiB - 1, + 0, + 1, binary and UTF-8, through a load and
 * through the ops (ZSCORE, ZADD again, ZINCRBY-like score change, ZREM,
 * COPY, DEL, FLUSHDB): a big one is a placeholder in its row, its bytes
 * once in gN_bigm, the view shows the bytes. Then the order: members that
 * differ only after their first 1 MiB, one equal to the others' prefix,
 * small ones sharing it, loaded and written in a shuffled order, read by
 * scans and windows both ways in Redis' order, after score changes that
 * move members between groups and after window deletes; no gN_bigm row is
 * ever left behind nor missing.
 */
static void test_big_zmembers(struct sink *s)
{
    static const size_t sizes[] = { (1 << 20) - 1, 1 << 20, (1 << 20) + 1 };
    static const int shuffle[] = { 3, 11, 1, 13, 6, 0, 15, 14, 9, 4, 8, 2, 12, 10, 5, 7 };
    struct repl_pos pos = { "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", 9950, 0 };
    struct zm want[16];
    struct zgot g = { 0 };
    int64_t z[6], zl, zo, c;
    char key[32], what[120];
    int nw, found, r, big_rows = 0, zl_big;
    double sc;

    zorder_members(want, &nw);
    CHECK(nw == (int)(sizeof(shuffle) / sizeof(shuffle[0])), "order members: %d", nw);
    check_rc(s, s->ops->load_begin(s), "load_begin (big zset members)");
    for (int i = 0; i < 6; i++) {
        unsigned char *v = big_value(sizes[i / 2], i % 2, (unsigned)(400 + i));
        struct rs_bytes b = { (const char *)v, sizes[i / 2] };

        snprintf(key, sizeof(key), "mz%d", i);
        z[i] = mkkey(s, 0, (struct rs_bytes){ key, 3 }, RS_T_ZSET, RS_NO_EXPIRE, NULL);
        s->ops->zset_set(s, z[i], &LIT("a"), 1);
        s->ops->zset_set(s, z[i], &b, 2);
        s->ops->zset_set(s, z[i], &LIT("b"), 3);
        big_rows += sizes[i / 2] >= (1 << 20);
        free(v);
    }
    /* the order key, loaded in a shuffled order */
    zl = mkkey(s, 0, LIT("zl"), RS_T_ZSET, RS_NO_EXPIRE, NULL);
    for (int i = 0; i < nw; i++) {
        const struct zm *m = &want[shuffle[i]];

        s->ops->zset_set(s, zl, &(struct rs_bytes){ (const char *)m->p, m->len }, m->score);
    }
    zl_big = zm_big(want, nw);
    big_rows += zl_big;
    CHECK(s->err.code == 0, "load big zset members (%s)", s->err.msg);
    check_rc(s, s->ops->load_commit(s, &pos), "load_commit (big zset members)");
    check_bigm_rows(big_rows, "after the load (zsets)");
    /* the load built no order index: its big members' 1 MiB ords in it
     * would make every later seek that passes one read it whole */
    check_q("SELECT count(*) FROM sqlite_schema WHERE name GLOB 'g*_zset_order'", "0");
    qsort(want, (size_t)nw, sizeof(want[0]), zm_cmp);
    zl = find(s, 0, LIT("zl"), NULL);
    check_zorder(s, zl, want, nw, "loaded");

    for (int i = 0; i < 6; i++) {
        size_t n = sizes[i / 2];
        unsigned char *v = big_value(n, i % 2, (unsigned)(400 + i));
        unsigned char *other = big_value(n, i % 2, (unsigned)(500 + i));
        struct rs_bytes b = { (const char *)v, n }, o = { (const char *)other, n };
        int type = i % 2 ? SQLITE_TEXT : SQLITE_BLOB;
        struct zset_range rank1 = { .offset = 1, .count = 1 };

        snprintf(key, sizeof(key), "mz%d", i);
        z[i] = find(s, 0, (struct rs_bytes){ key, 3 }, NULL);
        snprintf(what, sizeof(what), "%zu-byte zset member of kind %d", n, i % 2);
        check_cell("SELECT member FROM redis_zsets WHERE key = ?1 AND score = 2", key, v, n, type,
                   what);
        CHECK(view_rows("redis_zsets", "member", key, v, n, i % 2) == 1 &&
              view_rows("redis_zsets", "member", key, other, n, i % 2) == 0,
              "%s: a reader's member = ? finds it, and only it", what);
        check_rc(s, s->ops->begin(s), "begin (big zset ops)");
        check_rc(s, s->ops->zset_score(s, z[i], &b, &found, &sc), "ZSCORE");
        CHECK(found && sc == 2, "%s: ZSCORE finds it (%d, %g)", what, found, sc);
        check_rc(s, s->ops->zset_score(s, z[i], &o, &found, &sc), "ZSCORE another");
        CHECK(!found, "%s: another member of its length is not it", what);
        check_rc(s, s->ops->zset_range(s, z[i], &rank1, got_zrange, &g), "ZRANGE 1 1");
        CHECK(g.n == 1 && g.m[0].len == n && memcmp(g.m[0].p, v, n) == 0 && g.m[0].score == 2,
              "%s: rank 1 before the score change", what);
        free(g.m[0].p);
        g.n = 0;
        check_rc(s, s->ops->zset_set(s, z[i], &b, 3.5), "ZINCRBY-like");
        check_rc(s, s->ops->zset_score(s, z[i], &b, &found, &sc), "ZSCORE again");
        CHECK(found && sc == 3.5, "%s: the new score (%d, %g)", what, found, sc);
        rank1.offset = 2;
        check_rc(s, s->ops->zset_range(s, z[i], &rank1, got_zrange, &g), "ZRANGE 2 2");
        CHECK(g.n == 1 && g.m[0].len == n && memcmp(g.m[0].p, v, n) == 0,
              "%s: rank 2 after the score change", what);
        free(g.m[0].p);
        g.n = 0;
        snprintf(key, sizeof(key), "mc%d", i);
        check_rc(s, s->ops->key_copy(s, z[i], 0, &(struct rs_bytes){ key, 3 }, &c), "COPY zset");
        check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big zset ops)");
        big_rows += n >= (1 << 20);
        check_bigm_rows(big_rows, "after COPY (zsets)");
        CHECK(view_rows("redis_zsets", "member", key, v, n, i % 2) == 1,
              "%s, copied: a reader's member = ? finds it", what);
        check_rc(s, s->ops->begin(s), "begin (big zset deletes)");
        check_rc(s, s->ops->zset_rem(s, z[i], &o, &r), "ZREM another");
        CHECK(r == 0, "%s: ZREM of another member removes nothing (%d)", what, r);
        check_rc(s, s->ops->zset_rem(s, z[i], &b, &r), "ZREM");
        CHECK(r == 1, "%s: ZREM removes it (%d)", what, r);
        check_rc(s, s->ops->key_delete(s, c), "DEL the copied zset");
        check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big zset deletes)");
        big_rows -= 2 * (n >= (1 << 20));
        check_bigm_rows(big_rows, "after ZREM and DEL (zsets)");
        free(v);
        free(other);
    }

    /* the order through the ops: the same members, another shuffle */
    check_rc(s, s->ops->begin(s), "begin (zset order)");
    zo = mkkey(s, 0, LIT("zo"), RS_T_ZSET, RS_NO_EXPIRE, NULL);
    for (int i = nw - 1; i >= 0; i--) {
        const struct zm *m = &want[shuffle[i]];

        check_rc(s, s->ops->zset_set(s, zo, &(struct rs_bytes){ (const char *)m->p, m->len },
                                     m->score), "ZADD (order)");
    }
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (zset order)");
    big_rows += zm_big(want, nw);
    check_bigm_rows(big_rows, "after the ZADDs (order)");
    check_zorder(s, zo, want, nw, "written");
    /* score changes: every big member of score 5 to 6 (among the big one
     * there) and back, in another order; then the first one of score 5 to
     * 4.5 */
    check_rc(s, s->ops->begin(s), "begin (zset regroup)");
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < nw; i++) {
            struct zm *m = &want[shuffle[i]];

            if (m->score == 5 && m->len >= (1 << 20))
                check_rc(s, s->ops->zset_set(s, zo, &(struct rs_bytes){ (const char *)m->p,
                                             m->len }, pass ? 5 : 6), "ZADD (regroup)");
        }
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (zset regroup)");
    check_zorder(s, zo, want, nw, "regrouped");
    check_rc(s, s->ops->begin(s), "begin (zset windows)");
    for (int i = 0; i < nw; i++)
        if (want[i].score == 5 && want[i].len >= (1 << 20)) {
            want[i].score = 4.5;
            check_rc(s, s->ops->zset_set(s, zo, &(struct rs_bytes){ (const char *)want[i].p,
                                         want[i].len }, 4.5), "ZADD (to 4.5)");
            break;
        }
    qsort(want, (size_t)nw, sizeof(want[0]), zm_cmp);
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (zset to 4.5)");
    check_zorder(s, zo, want, nw, "one moved down");
    /* ZREMRANGEBYRANK 3 4, ZPOPMAX-like (reverse rank 0), ZREMRANGEBYSCORE
     * 5 5 limited to the first two */
    check_rc(s, s->ops->begin(s), "begin (zset window deletes)");
    {
        struct zset_range byrank = { .offset = 3, .count = 2 };
        struct zset_range popmax = { .reverse = 1, .count = 1 };
        int64_t removed;

        check_rc(s, s->ops->zset_rem_range(s, zo, &byrank, &removed), "ZREMRANGEBYRANK");
        CHECK(removed == 2, "ZREMRANGEBYRANK removed %lld", (long long)removed);
        zm_drop(want, &nw, 3);
        zm_drop(want, &nw, 3);
        check_rc(s, s->ops->zset_rem_range(s, zo, &popmax, &removed), "ZPOPMAX");
        zm_drop(want, &nw, nw - 1);
    }
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (zset window deletes)");
    check_zorder(s, zo, want, nw, "after window deletes");
    big_rows = zl_big + zm_big(want, nw);
    check_bigm_rows(big_rows, "after window deletes");
    check_rc(s, s->ops->begin(s), "begin (zset score deletes)");
    {
        struct zset_range sc5 = { .by_score = 1, .min = 5, .max = 5, .offset = 0, .count = 2 };
        int64_t removed;
        int first5 = 0;

        while (want[first5].score != 5)
            first5++;
        check_rc(s, s->ops->zset_rem_range(s, zo, &sc5, &removed), "ZREMRANGEBYSCORE");
        CHECK(removed == 2, "ZREMRANGEBYSCORE-like removed %lld", (long long)removed);
        zm_drop(want, &nw, first5);
        zm_drop(want, &nw, first5);
    }
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (zset score deletes)");
    check_zorder(s, zo, want, nw, "after a score window delete");
    big_rows = zl_big + zm_big(want, nw);
    check_bigm_rows(big_rows, "after a score window delete");
    CHECK(big_rows > 0, "big members left for FLUSHDB (%d)", big_rows);
    for (int i = 0; i < nw; i++)
        free(want[i].p);
    check_rc(s, s->ops->begin(s), "begin (zset flush)");
    check_rc(s, s->ops->flush_db(s, 0), "FLUSHDB with big zset members");
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (zset flush)");
    check_bigm_rows(0, "after FLUSHDB (zsets)");
}

/*
 * A stream entry id that comes twice (a forged RDB or RESTORE payload:
 * Redis never writes one) is deleted by the loader before the entry is
 * added again (sink.h: stream_add never meets an existing entry; the row
 * it replaced would keep its gN_big row). In a load, the delete sends the
 * rows still in the bulk buffer first, so none of the old entry's fields
 * stays; big over small, small over big, big over big, in a load and in
 * the stream (RESTORE).
 */
static void readd(struct sink *s, int64_t id, const struct rs_stream_id *eid,
                  const struct rs_bytes *v)
{
    int deleted;

    check_rc(s, s->ops->stream_delete(s, id, eid, &deleted), "stream_delete of a repeated id");
    CHECK(deleted == 1, "the repeated id's entry was there (%d)", deleted);
    check_rc(s, s->ops->stream_add(s, id, eid, 0, &LIT("f"), v), "stream_add again");
}

static void test_big_stream_dups(struct sink *s)
{
    const size_t n = (1 << 20) + 7;
    unsigned char *bin = big_value(n, 0, 11), *txt = big_value(n, 1, 12);
    struct rs_bytes b = { (const char *)bin, n }, t = { (const char *)txt, n };
    struct repl_pos pos = { "abababababababababababababababababababab", 9900, 0 };
    const struct rs_stream_id one = { 1, 0 }, two = { 2, 0 };
    int64_t x, y;

    check_rc(s, s->ops->load_begin(s), "load_begin (big stream dups)");
    x = mkkey(s, 0, LIT("dx"), RS_T_STREAM, RS_NO_EXPIRE, NULL);
    s->ops->stream_add(s, x, &one, 0, &LIT("f"), &b);
    readd(s, x, &one, &LIT("s"));                             /* small over big */
    s->ops->stream_add(s, x, &two, 0, &LIT("f"), &LIT("a"));  /* both in the bulk buffer */
    s->ops->stream_add(s, x, &two, 1, &LIT("g"), &LIT("b"));
    readd(s, x, &two, &t);                                    /* big over small */
    y = mkkey(s, 0, LIT("dy"), RS_T_STREAM, RS_NO_EXPIRE, NULL);
    s->ops->stream_add(s, y, &one, 0, &LIT("f"), &t);
    readd(s, y, &one, &b);                                    /* big over big */
    CHECK(s->err.code == 0, "load repeated stream ids with big values (%s)", s->err.msg);
    check_rc(s, s->ops->load_commit(s, &pos), "load_commit (big stream dups)");
    check_big_rows(0, 2, "after a load with repeated stream ids");
    check_q("SELECT id, pos, value FROM redis_streams WHERE key = 'dx' AND id = '1-0'", "1-0|0|s");
    check_q("SELECT count(*) FROM redis_streams WHERE key = 'dx' AND id = '2-0'", "1");
    check_cell("SELECT value FROM redis_streams WHERE key = ?1 AND id = '2-0'", "dx", txt, n,
               SQLITE_TEXT, "big value over a repeated id");
    check_cell("SELECT value FROM redis_streams WHERE key = ?1", "dy", bin, n, SQLITE_BLOB,
               "big value over a big one of the same id");

    check_rc(s, s->ops->begin(s), "begin (big stream dups)");
    readd(s, y, &one, &LIT("s"));
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big stream dups)");
    check_big_rows(0, 1, "after a repeated stream id in the stream");
    check_q("SELECT value FROM redis_streams WHERE key = 'dy'", "s");
    free(bin);
    free(txt);
}

/* Rows of gN_bign, and gN_keys rows whose name is a placeholder: "n|n". */
static void check_bign_rows(int want, const char *what)
{
    char sql[300], gen[24], both[40];

    snprintf(gen, sizeof(gen), "%s", q("SELECT generation FROM redsink_status"));
    snprintf(sql, sizeof(sql), "SELECT (SELECT count(*) FROM g%s_bign), (SELECT count(*) FROM"
             " g%s_keys AS k JOIN g%s_bign AS n ON n.kid = k.id WHERE k.key >= CAST(X'FF' AS"
             " TEXT) AND k.key < X'')", gen, gen, gen);
    snprintf(both, sizeof(both), "%d|%d", want, want);
    CHECK(strcmp(q(sql), both) == 0, "%s: bign rows|named %s (want %s)", what, q(sql), both);
}

/*
 * Key names of SQI_BIG_VALUE bytes or more (sqlite_keys.c, "Big key
 * names"): the row holds a placeholder, gN_bign the bytes. Loaded, each
 * comes back through the views byte for byte, TEXT iff UTF-8, in its db,
 * with its value (a big one too), its elements and a list's head; a name
 * one byte shorter goes the usual way; nothing is left in gN_big; key_find
 * finds the names afterwards. Then from commands: RENAME (big to big, to
 * small, back), COPY, DEL, FLUSHDB keep gN_bign in step; a real binary
 * name equal to a placeholder is another key; a name whose placeholder is
 * found with other bytes behind it is an error, not that key.
 */
static void test_big_names(struct sink *s)
{
    const size_t n = (1 << 20) + 5, vn = (2 << 20) + 3;
    unsigned char *bn = big_value(n, 0, 21), *tn = big_value(n, 1, 22), *bv = big_value(vn, 0, 23),
                  *tv = big_value(vn, 1, 24), *sn = big_value(n - 6, 0, 25);
    struct rs_bytes b = { (const char *)bn, n }, t = { (const char *)tn, n };
    struct rs_bytes bval = { (const char *)bv, vn }, tval = { (const char *)tv, vn };
    struct repl_pos pos = { "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", 9950, 0 };
    int64_t id;

    check_rc(s, s->ops->load_begin(s), "load_begin (big names)");
    mkkey(s, 7, b, RS_T_STRING, RS_NO_EXPIRE, &LIT("v"));
    mkkey(s, 8, t, RS_T_STRING, 4102444800000, &bval);
    id = mkkey(s, 9, b, RS_T_LIST, RS_NO_EXPIRE, NULL);
    s->ops->list_push(s, id, 0, &LIT("a"));
    s->ops->list_push(s, id, 1, &LIT("h"));            /* a head push updates the row */
    id = mkkey(s, 10, t, RS_T_HASH, RS_NO_EXPIRE, NULL);
    s->ops->hash_set(s, id, &LIT("f"), &tval, RS_NO_EXPIRE, NULL);
    mkkey(s, 11, (struct rs_bytes){ (const char *)sn, n - 6 }, RS_T_STRING, RS_NO_EXPIRE, &tval);
    mkkey(s, 7, LIT("after"), RS_T_STRING, RS_NO_EXPIRE, &LIT("x"));
    CHECK(s->err.code == 0, "load big key names (%s)", s->err.msg);
    check_rc(s, s->ops->load_commit(s, &pos), "load_commit (big names)");

    check_cell("SELECT key FROM redis_keys WHERE db = ?1 AND key <> 'after'", "7", bn, n,
               SQLITE_BLOB, "big binary key name");
    check_cell("SELECT value FROM redis_strings WHERE db = ?1 AND key <> 'after'", "7",
               (const unsigned char *)"v", 1, SQLITE_TEXT, "value of a big-named key");
    check_cell("SELECT key FROM redis_keys WHERE db = ?1", "8", tn, n, SQLITE_TEXT,
               "big UTF-8 key name");
    check_cell("SELECT value FROM redis_strings WHERE db = ?1", "8", bv, vn, SQLITE_BLOB,
               "big value of a big-named key");
    check_q("SELECT expire_at FROM redis_keys WHERE db = 8", "4102444800000");
    check_cell("SELECT key FROM redis_keys WHERE db = ?1", "9", bn, n, SQLITE_BLOB,
               "big name of a list");
    check_q("SELECT group_concat(value, '') FROM (SELECT value FROM redis_lists WHERE db = 9"
            " ORDER BY idx)", "ha");
    check_cell("SELECT key FROM redis_keys WHERE db = ?1", "10", tn, n, SQLITE_TEXT,
               "big name of a hash");
    check_cell("SELECT value FROM redis_hashes WHERE db = ?1", "10", tv, vn, SQLITE_TEXT,
               "big value in a big-named hash");
    check_cell("SELECT key FROM redis_keys WHERE db = ?1", "11", sn, n - 6, SQLITE_BLOB,
               "a name under the big name size");
    check_cell("SELECT value FROM redis_strings WHERE db = ?1", "11", tv, vn, SQLITE_TEXT,
               "its big UTF-8 value");
    check_big_rows(0, 1, "after a load with big key names");
    check_q("SELECT count(*) FROM redis_keys WHERE db < 0", "0");
    check_q("SELECT value FROM redis_strings WHERE db = 7 AND key = 'after'", "x");

    check_rc(s, s->ops->begin(s), "begin (big names)");
    CHECK(find(s, 7, b, NULL) > 0 && find(s, 10, t, NULL) > 0 && find(s, 8, b, NULL) < 0,
          "key_find of big names after the load");
    check_rc(s, s->ops->key_delete(s, find(s, 9, b, NULL)), "DEL a big-named list");
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big names)");
    check_q("SELECT count(*) FROM redis_keys WHERE db = 9", "0");
    check_bign_rows(3, "after the load and a DEL");
    /* an ordinary name still seeks the (key, db) index through the views */
    CHECK(strstr(q("EXPLAIN QUERY PLAN SELECT * FROM redis_hashes WHERE key = 'after'"),
                 "keys_key (key=?)") != NULL, "redis_hashes seeks the key index: %s",
          q("EXPLAIN QUERY PLAN SELECT * FROM redis_hashes WHERE key = 'after'"));
    {
        char ph[33];
        struct rs_bytes phb = { ph, sizeof(ph) };
        int64_t nid = 0, pid;
        sqlite3 *w = NULL;

        ph[0] = (char)0xff;
        CHECK(rs_sha256(b.ptr, b.len, (unsigned char *)ph + 1) == 0, "sha256");
        check_rc(s, s->ops->begin(s), "begin (big names 2)");
        id = find(s, 7, b, NULL);
        check_rc(s, s->ops->key_rename(s, id, 12, &t), "RENAME a big name to a big name");
        CHECK(find(s, 12, t, NULL) == id && find(s, 7, b, NULL) < 0, "renamed big name");
        check_rc(s, s->ops->key_rename(s, id, 12, &LIT("small-now")), "RENAME to a small name");
        CHECK(find(s, 12, LIT("small-now"), NULL) == id && find(s, 12, t, NULL) < 0,
              "renamed to a small name");
        check_rc(s, s->ops->key_rename(s, id, 7, &b), "RENAME back to the big name");
        check_rc(s, s->ops->key_copy(s, id, 13, &t, &nid), "COPY to a big name");
        /* a real 33-byte binary name equal to b's placeholder: another key */
        pid = mkkey(s, 7, phb, RS_T_STRING, RS_NO_EXPIRE, &LIT("real"));
        CHECK(find(s, 7, b, NULL) == id && find(s, 7, phb, NULL) == pid && pid != id &&
              find(s, 13, t, NULL) == nid, "placeholder-shaped name");
        check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big names 2)");
        check_cell("SELECT key FROM redis_keys WHERE db = 7 AND key <> 'after' AND"
                   " length(key) > CAST(?1 AS INTEGER)", "1000", bn, n, SQLITE_BLOB, "renamed back");
        check_cell("SELECT value FROM redis_strings WHERE db = 7 AND length(key) = 33 AND"
                   " key <> ?1", "", (const unsigned char *)"real", 4, SQLITE_TEXT,
                   "the placeholder-shaped name's value");
        check_cell("SELECT key FROM redis_keys WHERE db = ?1", "13", tn, n, SQLITE_TEXT,
                   "copied big UTF-8 name");
        check_q("SELECT count(*) FROM redis_keys WHERE db = 12", "0");
        check_bign_rows(4, "after RENAME and COPY");

        /* other bytes behind b's placeholder (as a SHA-256 collision would
         * give): the look-up fails, it does not answer that key */
        CHECK(sqlite3_open_v2(path, &w, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK, "writer");
        {
            char sql[160];

            snprintf(sql, sizeof(sql), "UPDATE g%s_bign SET v = zeroblob(length(v)) WHERE kid"
                     " = %lld", q("SELECT generation FROM redsink_status"), (long long)id);
            CHECK(sqlite3_exec(w, sql, NULL, NULL, NULL) == SQLITE_OK, "damage a big name: %s",
                  sqlite3_errmsg(w));
        }
        sqlite3_close(w);
        check_rc(s, s->ops->begin(s), "begin (big names 3)");
        {
            struct sink_key k;

            CHECK(s->ops->key_find(s, 7, &b, &k) != 0 && strstr(s->err.msg, "same SHA-256"),
                  "a look-up behind a colliding placeholder fails: %s", s->err.msg);
        }
        s->ops->rollback(s);
        check_rc(s, s->ops->begin(s), "begin (big names 4)");
        check_rc(s, s->ops->key_delete(s, nid), "DEL a copied big name");
        check_rc(s, s->ops->flush_db(s, 8), "FLUSHDB a big name's db");
        check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big names 4)");
        check_bign_rows(2, "after DEL and FLUSHDB");
    }
    {
        /* a big stream field name, repeated by two entries: one gN_bigm row,
         * the bytes through the view and the scan, gone with the last entry */
        struct rs_stream_id e1 = { 1, 1 }, e2 = { 2, 1 };
        struct gotbig g = { NULL, 0, 0 };
        int del = 0;
        char sql[200];

        check_rc(s, s->ops->begin(s), "begin (big stream field)");
        id = mkkey(s, 14, LIT("xs"), RS_T_STREAM, RS_NO_EXPIRE, NULL);
        check_rc(s, s->ops->stream_add(s, id, &e1, 0, &t, &LIT("1")), "XADD a big field name");
        check_rc(s, s->ops->stream_add(s, id, &e2, 0, &t, &LIT("2")), "XADD it again");
        check_rc(s, s->ops->stream_scan(s, id, NULL, got_sfield, &g), "scan a big field name");
        CHECK(g.n == 2 && g.len == n && memcmp(g.p, tn, n) == 0, "scan hands the bytes back");
        check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big stream field)");
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM g%s_bigm WHERE kid = %lld",
                 q("SELECT generation FROM redsink_status"), (long long)id);
        check_q(sql, "1");
        check_cell("SELECT field FROM redis_streams WHERE db = 14 AND id = ?1", "2-1", tn, n,
                   SQLITE_TEXT, "big UTF-8 stream field name");
        check_rc(s, s->ops->begin(s), "begin (big stream field 2)");
        check_rc(s, s->ops->stream_delete(s, id, &e1, &del), "XDEL one entry");
        check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big stream field 2)");
        check_q(sql, "1");
        check_rc(s, s->ops->begin(s), "begin (big stream field 3)");
        check_rc(s, s->ops->stream_delete(s, id, &e2, &del), "XDEL the other");
        check_rc(s, s->ops->commit(s, &pos, NULL), "commit (big stream field 3)");
        check_q(sql, "0");
        free(g.p);
    }
    free(bn);
    free(tn);
    free(bv);
    free(tv);
    free(sn);
}

/* A mirror made before gN_big and gN_bigm (no tables, no triggers, no
 * 'big' columns) opens, gets them, and takes big elements and members. */
static void test_big_upgrade(void)
{
    struct rs_error err = { 0, "" };
    int64_t g = atoll(q("SELECT generation FROM redsink_status"));
    const size_t n = (1 << 20) + 1;
    unsigned char *bin = big_value(n, 0, 9);
    struct repl_pos pos = { "ffffffffffffffffffffffffffffffffffffffff", 9800, 0 };
    struct sink *s;
    char sql[1400], ckpt[128];
    sqlite3 *db;
    int64_t l;
    int r;

    /* the big rows test_big_values and test_big_elements left go with it */
    snprintf(sql, sizeof(sql), "DROP VIEW redis_hashes; DROP VIEW redis_lists;"
             " DROP TRIGGER g%1$lld_hash_bigdel; DROP TRIGGER g%1$lld_hash_bigupd;"
             " DROP TRIGGER g%1$lld_list_bigdel; DROP TRIGGER g%1$lld_list_bigupd;"
             " DROP TRIGGER g%1$lld_stream_bigdel; DROP TRIGGER g%1$lld_stream_bigupd;"
             " DROP TRIGGER g%1$lld_array_bigdel; DROP TRIGGER g%1$lld_array_bigupd;"
             " DROP VIEW redis_arrays; ALTER TABLE g%1$lld_array DROP COLUMN big;"
             " DROP VIEW redis_streams; DROP TABLE g%1$lld_big;"
             " ALTER TABLE g%1$lld_hash DROP COLUMN big; ALTER TABLE g%1$lld_list DROP COLUMN big;"
             " ALTER TABLE g%1$lld_stream DROP COLUMN big;"
             /* sorted sets before ord, with the old order index */
             " DROP VIEW redis_zsets; DROP TRIGGER IF EXISTS g%1$lld_zset_bigmdel;"
             " DROP INDEX IF EXISTS g%1$lld_zset_order; DELETE FROM g%1$lld_zset;"
             " ALTER TABLE g%1$lld_zset DROP COLUMN ord;"
             " CREATE INDEX g%1$lld_zset_order ON g%1$lld_zset(kid, score, CAST(member AS BLOB));"
             " DROP VIEW redis_sets; DROP TRIGGER IF EXISTS g%1$lld_hash_bigmdel;"
             " DROP TRIGGER IF EXISTS g%1$lld_set_bigmdel; DROP TABLE g%1$lld_bigm;",
             (long long)g);
    sqlite3_open(path, &db);
    r = sqlite3_exec(db, sql, NULL, NULL, NULL);
    CHECK(r == SQLITE_OK, "make an old mirror: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    snprintf(ckpt, sizeof(ckpt), "%s", q("SELECT master_replid || ' ' || offset"
                                         " FROM redsink_status"));
    s = mirror_sink_open(path, &err);
    CHECK(s != NULL, "open a mirror made before big elements (%s)", err.msg);
    if (s == NULL)
        return;
    /* nothing big in the old form: the checkpoint stays (PSYNC goes on) */
    check_q("SELECT master_replid || ' ' || offset FROM redsink_status", ckpt);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_table_info('g%lld_list')"
             " WHERE name = 'big'", (long long)g);
    check_q(sql, "1");
    check_rc(s, s->ops->begin(s), "begin (upgraded)");
    l = mkkey(s, 0, LIT("ul"), RS_T_LIST, RS_NO_EXPIRE, NULL);
    check_rc(s, s->ops->list_push(s, l, 0, &(struct rs_bytes){ (const char *)bin, n }),
             "list_push big (upgraded)");
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (upgraded)");
    check_cell("SELECT value FROM redis_lists WHERE key = ?1", "ul", bin, n, SQLITE_BLOB,
               "big list element in an upgraded mirror");
    check_big_rows(0, 1, "upgraded mirror");
    /* gN_bigm too; the views show the column itself until a big member */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_schema WHERE name IN"
             " ('redis_hashes', 'redis_sets', 'g%lld_bigm') AND sql GLOB '*bigm*'", (long long)g);
    check_q(sql, "1");
    check_rc(s, s->ops->begin(s), "begin (upgraded, big member)");
    l = mkkey(s, 0, LIT("us"), RS_T_SET, RS_NO_EXPIRE, NULL);
    check_rc(s, s->ops->set_add(s, l, &(struct rs_bytes){ (const char *)bin, n }, &r),
             "set_add big (upgraded)");
    check_rc(s, s->ops->commit(s, &pos, NULL), "commit (upgraded, big member)");
    check_q(sql, "3");
    check_cell("SELECT member FROM redis_sets WHERE key = ?1", "us", bin, n, SQLITE_BLOB,
               "big set member in an upgraded mirror");
    /* sorted sets: ord added, the old index dropped (the next ordered op
     * builds the new one); big members in Redis' order */
    snprintf(sql, sizeof(sql), "SELECT (SELECT count(*) FROM pragma_table_info('g%1$lld_zset')"
             " WHERE name = 'ord'), (SELECT count(*) FROM sqlite_schema WHERE name ="
             " 'g%1$lld_zset_order')", (long long)g);
    check_q(sql, "1|0");
    check_rc(s, s->ops->begin(s), "begin (upgraded, big zset members)");
    l = mkkey(s, 0, LIT("uz"), RS_T_ZSET, RS_NO_EXPIRE, NULL);
    {
        unsigned char *b2 = malloc(n + 1);
        struct zm want[3];
        int nw = 3;

        if (b2 == NULL)
            exit(99);
        memcpy(b2, bin, n);
        b2[n] = 0;
        want[0] = (struct zm){ bin, n - 2, 1 };       /* a small prefix of both */
        want[1] = (struct zm){ bin, n, 1 };
        want[2] = (struct zm){ b2, n + 1, 1 };        /* bin + one byte */
        for (int i = nw - 1; i >= 0; i--)
            check_rc(s, s->ops->zset_set(s, l, &(struct rs_bytes){ (const char *)want[i].p,
                                         want[i].len }, 1), "zset_set (upgraded)");
        check_rc(s, s->ops->commit(s, &pos, NULL), "commit (upgraded, big zset members)");
        check_zorder(s, l, want, nw, "upgraded mirror");
        free(b2);
    }
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_schema WHERE name ="
             " 'g%lld_zset_order' AND sql GLOB '*COALESCE(ord*'", (long long)g);
    check_q(sql, "1");
    check_cell("SELECT member FROM redis_zsets WHERE key = ?1 AND length(member) = 1048577",
               "uz", bin, n, SQLITE_BLOB, "big zset member in an upgraded mirror");
    sink_close(s);
    free(bin);
}

static void count_event(void *ud, const struct sink_event *ev)
{
    if (ev->kind == SINK_EV_OLD_FORM)
        *(int64_t *)ud += ev->bytes;
}

/* A mirror made before big names and members were placeholders holds them
 * whole; a command naming one would miss it. Opening it clears the
 * checkpoint (the next connection takes a full sync) and says how many
 * rows; the rows stay readable meanwhile. One of each form: a key name, a
 * hash field, a set and a sorted-set member, a stream field name, TEXT and
 * BLOB; the 1 MiB - 1 ones are not counted. */
static void test_old_form_resync(void)
{
    struct rs_error err = { 0, "" };
    int64_t g = atoll(q("SELECT generation FROM redsink_status")), events = 0;
    struct repl_pos pos;
    struct sink *s;
    char sql[2000];
    sqlite3 *db;
    int r;

    /* the old form: no ord (the marker of a mirror made before it), and
     * whole values in the rows */
    snprintf(sql, sizeof(sql),
             "DROP VIEW redis_zsets; DROP TRIGGER IF EXISTS g%1$lld_zset_bigmdel;"
             " DROP INDEX IF EXISTS g%1$lld_zset_order; DELETE FROM g%1$lld_zset;"
             " ALTER TABLE g%1$lld_zset DROP COLUMN ord;"
             " INSERT INTO g%1$lld_keys(db, key, type) VALUES (5, CAST(zeroblob(1048576) AS TEXT)"
             " || 'k', 'string');"
             " INSERT INTO g%1$lld_keys(db, key, type) VALUES (5, 'oh', 'hash');"
             " INSERT INTO g%1$lld_hash(kid, field, value) VALUES (last_insert_rowid(),"
             " randomblob(1048576), 'v');"
             " INSERT INTO g%1$lld_keys(db, key, type) VALUES (5, 'os', 'set');"
             " INSERT INTO g%1$lld_set(kid, member) VALUES (last_insert_rowid(),"
             " replace(hex(zeroblob(524288)), '00', 'xy'));"
             " INSERT INTO g%1$lld_keys(db, key, type) VALUES (5, 'oz', 'zset');"
             " INSERT INTO g%1$lld_zset(kid, member, score) VALUES (last_insert_rowid(),"
             " randomblob(1048577), 1), (last_insert_rowid(), randomblob(1048575), 2);"
             " INSERT INTO g%1$lld_keys(db, key, type) VALUES (5, 'ox', 'stream');"
             " INSERT INTO g%1$lld_stream(kid, ms, seq, pos, field, value) VALUES"
             " (last_insert_rowid(), 1, 0, 0, randomblob(1048576), 'v');"
             " INSERT INTO g%1$lld_keys(db, key, type) VALUES (5, randomblob(1048575), 'string');"
             " UPDATE redsink_status SET master_replid = 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee',"
             " offset = 4242;", (long long)g);
    sqlite3_open(path, &db);
    r = sqlite3_exec(db, sql, NULL, NULL, NULL);
    CHECK(r == SQLITE_OK, "make a mirror in the old form: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    s = sink_open_events("sqlite", path, count_event, &events, &err);
    CHECK(s != NULL, "open a mirror in the old form (%s)", err.msg);
    if (s == NULL)
        return;
    CHECK(events == 5, "old-form rows reported: %lld, want 5", (long long)events);
    check_rc(s, s->ops->read_checkpoint(s, &pos), "read_checkpoint (old form)");
    CHECK(pos.replid[0] == '\0' && pos.offset == -1, "checkpoint cleared: '%s' %lld",
          pos.replid, (long long)pos.offset);
    check_q("SELECT count(*) FROM redis_keys WHERE db = 5", "6");
    check_q("SELECT length(CAST(member AS BLOB)) FROM redis_zsets WHERE key = 'oz'"
            " ORDER BY score", "1048577;1048575");
    sink_close(s);
    /* opened again: upgraded, nothing more to say, the (empty) checkpoint
     * as it is */
    events = 0;
    s = sink_open_events("sqlite", path, count_event, &events, &err);
    CHECK(s != NULL && events == 0, "reopened: %lld events (%s)", (long long)events, err.msg);
    if (s != NULL)
        sink_close(s);
}

/* A crash in the middle of a load (no close): the next open drops it. */
static void test_crash(void)
{
    struct rs_error err = { 0, "" };
    struct sink *s;
    pid_t pid;
    int status;

    fflush(stdout);
    if ((pid = fork()) == 0) {
        s = mirror_sink_open(path, &err);
        if (s == NULL || s->ops->load_begin(s))
            _exit(1);
        for (int i = 0; i < 1000; i++) {
            char name[16];
            int n = snprintf(name, sizeof(name), "c%d", i);
            int64_t id;

            s->ops->key_create(s, 0, &(struct rs_bytes){ name, (size_t)n }, RS_T_STRING,
                               RS_NO_EXPIRE, &LIT("v"), &id);
        }
        s->ops->set_state(s, "syncing", NULL);    /* commits a batch */
        _exit(s->err.code ? 1 : 0);               /* like kill -9: no close */
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child crashed mid-load");
    check_q("SELECT count(*) FROM g4_keys", "1000");
    s = mirror_sink_open(path, &err);
    CHECK(s != NULL, "reopen after crash (%s)", err.msg);
    if (s == NULL)
        return;
    check_q("SELECT count(*) FROM sqlite_schema WHERE name GLOB 'g4_*'", "0");
    check_q("SELECT count(*) FROM redis_keys", "250003");
    check_q("SELECT generation, offset FROM redsink_status", "3|5000");
    sink_close(s);
}

/*
 * The key name filter across a crash (kill_loop.sh's kill -9): a child
 * commits 1,000 new names (a rename and a copy among them) in a mirror
 * whose filter was armed by the scan at open, leaves more in an open
 * transaction, and exits without closing. The next open's scan must see
 * every committed name (a false "no such key" would make an existing key
 * be created again) and none of the lost ones. Left committed: the tests
 * after this one replace the mirror.
 */
static int key_filter_crash_child(void)
{
    struct rs_error err = { 0, "" };
    struct repl_pos pos;
    struct sink *s = mirror_sink_open(path, &err);
    char name[32];
    int64_t id, copy;
    int rc = 0;

    if (s == NULL || s->ops->read_checkpoint(s, &pos) || s->ops->begin(s))
        return 1;
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(name, sizeof(name), "kfc:%d", i);

        rc |= s->ops->key_create(s, i % 3, &(struct rs_bytes){ name, (size_t)n },
                                 RS_T_STRING, RS_NO_EXPIRE, &LIT("v"), &id);
    }
    rc |= s->ops->key_create(s, 0, &LIT("kfc:a"), RS_T_STRING, RS_NO_EXPIRE, &LIT("v"), &id);
    rc |= s->ops->key_rename(s, id, 5, &LIT("kfc:renamed"));
    rc |= s->ops->key_copy(s, id, 6, &LIT("kfc:copied"), &copy);
    pos.offset += 100;
    if (rc || s->ops->commit(s, &pos, NULL) || s->ops->begin(s))
        return 1;
    for (int i = 0; i < 100; i++) {
        int n = snprintf(name, sizeof(name), "kfc:lost:%d", i);

        rc |= s->ops->key_create(s, 0, &(struct rs_bytes){ name, (size_t)n }, RS_T_STRING,
                                 RS_NO_EXPIRE, &LIT("v"), &id);
    }
    return rc;                              /* then like kill -9: no commit, no close */
}

static void test_key_filter_crash(void)
{
    struct rs_error err = { 0, "" };
    struct sink *s;
    char name[32];
    int missed = 0, found = 0, status;
    int64_t id;
    pid_t pid;

    fflush(stdout);
    if ((pid = fork()) == 0)
        _exit(key_filter_crash_child());
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "filter crash: the child's writes");
    if ((s = mirror_sink_open(path, &err)) == NULL) {
        CHECK(0, "filter crash: reopen (%s)", err.msg);
        return;
    }
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(name, sizeof(name), "kfc:%d", i);

        missed += find(s, i % 3, (struct rs_bytes){ name, (size_t)n }, NULL) < 0;
    }
    CHECK(missed == 0, "filter crash: %d of 1000 committed names not found after reopen", missed);
    CHECK(find(s, 5, LIT("kfc:renamed"), NULL) > 0, "filter crash: the committed rename");
    CHECK(find(s, 6, LIT("kfc:copied"), NULL) > 0, "filter crash: the committed copy");
    CHECK(find(s, 0, LIT("kfc:a"), NULL) < 0, "filter crash: the renamed key's old name");
    for (int i = 0; i < 100; i++) {
        int n = snprintf(name, sizeof(name), "kfc:lost:%d", i);

        found += find(s, 0, (struct rs_bytes){ name, (size_t)n }, NULL) > 0;
    }
    CHECK(found == 0, "filter crash: %d of 100 uncommitted names found after reopen", found);
    check_rc(s, s->ops->begin(s), "filter crash: begin");
    id = mkkey(s, 0, LIT("kfc:lost:7"), RS_T_STRING, RS_NO_EXPIRE, &LIT("w"));
    CHECK(find(s, 0, LIT("kfc:lost:7"), NULL) == id, "filter crash: a lost name created again");
    check_rc(s, s->ops->rollback(s), "filter crash: rollback");
    sink_close(s);
}

static void test_errors(void)
{
    struct rs_error err = { 0, "" };
    char other[512];
    sqlite3 *db;

    CHECK(mirror_sink_open("/nonexistent/dir/m.db", &err) == NULL &&
          strncmp(err.msg, "cannot open '/nonexistent/dir/m.db': ", 37) == 0,
          "open in a missing directory: %s", err.msg);
    rs_error_clear(&err);
    snprintf(other, sizeof(other), "%s", tmp_path("other.db"));
    sqlite3_open(other, &db);
    sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK(mirror_sink_open(other, &err) == NULL && strstr(err.msg, "not a redsink mirror"),
          "refuse a foreign database: %s", err.msg);
    unlink(other);
    rs_error_clear(&err);
    CHECK(sink_open("postgres", "x", &err) == NULL && err.code == RS_E_CONFIG,
          "unknown sink name: %s", err.msg);
}

static int run_tests(void)
{
    struct rs_error err = { 0, "" };
    struct repl_pos pos;
    struct stat sb;
    struct sink *s;

    umask(022);
    s = mirror_sink_open(path, &err);
    if (s == NULL) {
        CHECK(0, "sink_open: %s", err.msg);
        return 99;
    }
    if (stat(path, &sb) != 0)
        sb.st_mode = 0;
    CHECK((sb.st_mode & 0777) == 0640, "new file is 0640 (%o)", sb.st_mode & 0777);
    if ((rd = reader_open(path)) == NULL) {
        CHECK(0, "reader open");
        return 99;
    }
    check_rc(s, s->ops->read_checkpoint(s, &pos), "read_checkpoint (new)");
    CHECK(pos.offset == -1 && pos.replid[0] == '\0' && pos.db == 0, "new mirror: offset -1");
    check_q("SELECT count(*) FROM redis_keys", "0");
    check_q("SELECT count(*) FROM redis_streams", "0");
    check_q("SELECT state, offset FROM redsink_status", "new|-1");

    load_first(s);
    check_q("SELECT count(*) FROM redis_keys", "0");     /* not swapped in yet */
    pos = (struct repl_pos){ "0123456789012345678901234567890123456789", 100, 3 };
    check_rc(s, s->ops->load_commit(s, &pos), "load_commit");
    check_first_views();
    check_q("SELECT count(*) FROM sqlite_schema WHERE name GLOB 'g1_*'", "0");
    /* no value of 1 MiB yet: no gN_big trigger costs the deletes */
    check_q("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'", "0");

    test_stream_ops(s);
    test_smeta_cache(s);
    test_list_bounds(s);
    test_string_incr(s);
    test_string_incr_held(s);
    test_hash_incr(s);
    test_string_put(s);
    test_string_set_held(s);
    test_hash_incr_held(s);
    test_hash_set_held(s);
    test_incr_late(s);
    test_generations(s);
    sink_close(s);
    if ((s = mirror_sink_open(path, &err)) == NULL) {
        CHECK(0, "sink_open (key filter): %s", err.msg);
        return 99;
    }
    test_key_filter(s);
    sink_close(s);
    test_crash();
    test_key_filter_crash();
    test_errors();
    /* last: it replaces the mirror the tests above expect */
    s = mirror_sink_open(path, &err);
    if (s == NULL) {
        CHECK(0, "sink_open (big keys): %s", err.msg);
        return 99;
    }
    test_big_keys(s);
    test_big_values(s);
    test_big_zmembers(s);
    test_big_members(s);      /* a load: the generation test_big_elements writes in */
    test_big_elements(s);
    test_big_stream_dups(s);
    test_big_names(s);
    test_key_cache(s);
    test_key_cache_clears(s);
    test_key_cache_edges(s);
    test_swap_db(s);
    test_stream_bulk(s);      /* FLUSHALL */
    sink_close(s);
    test_big_upgrade();
    test_old_form_resync();
    test_flush_beside_big_members();
    sqlite3_close(rd);
    return 0;
}

/* ------------------------------------------------------------------ */
/* benchmark                                                           */
/* ------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Names in a pseudo-random order (a stride permutation), as an RDB
 * delivers them in hash-table order. */
static int bench(int argc, char **argv)
{
    struct rs_error err = { 0, "" };
    struct repl_pos pos = { "", 1, 0 };
    struct rusage ru;
    struct sink *s;
    long n, fields = 0;
    const char *file;
    double t0, t1;
    int hashes;

    if (argc < 4)
        return 99;
    hashes = strcmp(argv[2], "hashes") == 0;
    n = atol(argv[3]);
    if (hashes)
        fields = atol(argv[4]);
    file = argc > 4 + hashes ? argv[4 + hashes] : tmp_path("bench_sink.db");
    if ((s = mirror_sink_open(file, &err)) == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        return 99;
    }
    t0 = now_s();
    if (s->ops->load_begin(s))
        goto fail;
    for (long i = 0; i < n; i++) {
        char key[32], val[32];
        long k = (long)(((unsigned long long)i * 48271ULL + 12345ULL) % (unsigned long long)n);
        struct rs_bytes kb = { key, (size_t)snprintf(key, sizeof(key), "key:%012ld", k) };
        struct rs_bytes vb = { val, (size_t)snprintf(val, sizeof(val), "value:%06ld",
                                                    k % 1000000) };
        int64_t id;

        if (s->ops->key_create(s, 0, &kb, hashes ? RS_T_HASH : RS_T_STRING, RS_NO_EXPIRE,
                               hashes ? NULL : &vb, &id))
            goto fail;
        for (long f = 0; f < fields; f++) {
            struct rs_bytes fb = { val, (size_t)snprintf(val, sizeof(val), "field:%ld", f) };
            struct rs_bytes vv = { key, 12 };

            if (s->ops->hash_set(s, id, &fb, &vv, RS_NO_EXPIRE, NULL))
                goto fail;
        }
    }
    t1 = now_s();
    if (s->ops->load_commit(s, &pos))
        goto fail;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s: %ld keys x %ld fields: inserts %.2f s, index+swap %.2f s, total %.2f s, "
           "maxrss %ld MB\n", argv[2], n, fields, t1 - t0, now_s() - t1, now_s() - t0,
           ru.ru_maxrss / 1024);
    sink_close(s);
    return 0;
fail:
    fprintf(stderr, "%s\n", s->err.msg);
    return 99;
}

int main(int argc, char **argv)
{
    int rc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "--bench") == 0)
        return bench(argc, argv);
    snprintf(path, sizeof(path), "%s", tmp_path("mirror.db"));
    rc = run_tests();
    return rc ? rc : check_summary();
}
