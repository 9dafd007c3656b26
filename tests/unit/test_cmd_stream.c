/*
 * test_cmd_stream.c - the stream commands (daemon/write/cmd_stream.c) on
 * the real SQLite sink: XADD with explicit and partial ids, MAXLEN/MINID
 * trimming, NOMKSTREAM, the stream metadata; Redis 8.2's XDELEX and
 * XACKDEL (KEEPREF/DELREF/ACKED, from the command docs and t_stream.c).
 *
 * Exit 0 (all passed), 77 (no sink could be opened) or 99 (a check
 * failed). Start reading at main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_streams(struct mirror *e)
{
    struct tbuf b = { 0 };
    struct rs_stream_meta m;
    struct sink_key sk;
    struct rs_bytes key = { "st", 2 };

    CMD(&b, "XADD", "st", "1-1", "f", "v", "g", "w");
    CMD(&b, "XADD", "st", "1-*", "f", "v2");              /* 1-2 */
    CMD(&b, "XADD", "st", "1-1", "f", "dup");             /* not greater: rejected */
    CMD(&b, "XADD", "st", "5", "f", "v3");                /* 5-0 */
    CMD(&b, "XADD", "st", "MAXLEN", "=", "2", "7-0", "f", "v4");   /* drops 1-1 and 1-2 */
    CMD(&b, "XADD", "st", "MINID", "6", "LIMIT", "10", "8-0", "f", "v5");   /* drops 5-0 */
    CMD(&b, "XADD", "nost", "NOMKSTREAM", "1-0", "f", "v");
    CMD(&b, "XADD", "st2", "0-0", "f", "v");              /* 0-0 refused */
    CMD(&b, "XADD", "st2", "MAXLEN", "0", "3-0", "f", "v"); /* empty, but kept */
    CHECK_STR(mirror_run(e, &b), "0", "streams: applied");
    CHECK_STR(mirror_q(e, "SELECT id, pos, field, value FROM redis_streams WHERE key = 'st'"
                          " ORDER BY ms, seq, pos"), "7-0,0,f,v4;8-0,0,f,v5",
              "streams: entries after MAXLEN and MINID trimming");
    CHECK_STR(mirror_q(e, "SELECT key, type FROM redis_keys WHERE key LIKE '%st%' ORDER BY key"),
              "st,stream;st2,stream", "streams: NOMKSTREAM creates nothing, an empty stream stays");
    e->sink->ops->key_find(e->sink, 0, &key, &sk);
    memset(&m, 0, sizeof(m));
    e->sink->ops->stream_meta_get(e->sink, sk.id, &m);
    CHECK(m.length == 2 && m.last_id.ms == 8 && m.last_id.seq == 0 && m.entries_added == 5 &&
          m.has_v2, "streams: meta length %llu, last %llu-%llu, entries_added %llu",
          (unsigned long long)m.length, (unsigned long long)m.last_id.ms,
          (unsigned long long)m.last_id.seq, (unsigned long long)m.entries_added);
    key.ptr = "st2";
    key.len = 3;
    e->sink->ops->key_find(e->sink, 0, &key, &sk);
    e->sink->ops->stream_meta_get(e->sink, sk.id, &m);
    CHECK(m.length == 0 && m.last_id.ms == 3 && m.first_id.ms == 0 && m.entries_added == 1,
          "streams: trimmed to empty, last id 3-0 kept, first id 0-0");
    tbuf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Redis 8.2's XDELEX, XACKDEL                                        */
/* ------------------------------------------------------------------ */

static const char *stream_state(struct mirror *e)
{
    char sql[768];
    long long g = atoll(mirror_q(e, "SELECT generation FROM redsink_status"));

    snprintf(sql, sizeof(sql),
             "SELECT coalesce((SELECT group_concat(id, ',') FROM (SELECT DISTINCT id FROM"
             " redis_streams WHERE key = 'st' ORDER BY ms, seq)), '') || ' pel:' ||"
             " coalesce((SELECT group_concat(x, ',') FROM (SELECT p.grp || '/' || p.ms || '-' ||"
             " p.seq AS x FROM g%lld_spel p JOIN g%lld_keys k ON k.id = p.kid WHERE k.key = 'st'"
             " ORDER BY 1)), '') || ' len:' || (SELECT m.length || ' maxdel:' || m.maxdel_ms ||"
             " '-' || m.maxdel_seq FROM g%lld_smeta m JOIN g%lld_keys k ON k.id = m.kid"
             " WHERE k.key = 'st')", g, g, g, g);
    return mirror_q(e, sql);
}

static void test_xdelex_xackdel(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "FLUSHALL");                                    /* a new "st" */
    CMD(&b, "XADD", "st", "1-0", "f", "a");
    CMD(&b, "XADD", "st", "2-0", "f", "b");
    CMD(&b, "XADD", "st", "3-0", "f", "c");
    CMD(&b, "XADD", "st", "4-0", "f", "d");
    CMD(&b, "XADD", "st", "5-0", "f", "e");
    CMD(&b, "XGROUP", "CREATE", "st", "g1", "0");
    CMD(&b, "XGROUP", "CREATE", "st", "g2", "$");
    CMD(&b, "XCLAIM", "st", "g1", "alice", "0", "1-0", "TIME", "1000", "RETRYCOUNT", "1",
        "FORCE", "JUSTID", "LASTID", "2-0");
    CMD(&b, "XCLAIM", "st", "g1", "alice", "0", "2-0", "TIME", "1000", "RETRYCOUNT", "1",
        "FORCE", "JUSTID", "LASTID", "2-0");
    CMD(&b, "XDELEX", "st", "ACKED", "IDS", "3", "1-0", "3-0", "5-0");   /* all still needed */
    CHECK_STR(mirror_run(e, &b), "0", "xdelex: setup and ACKED applied");
    CHECK_STR(stream_state(e), "1-0,2-0,3-0,4-0,5-0 pel:g1/1-0,g1/2-0 len:5 maxdel:0-0",
              "xdelex ACKED: a pending entry and undelivered ones stay");
    CMD(&b, "XGROUP", "SETID", "st", "g1", "5-0");
    CMD(&b, "XDELEX", "st", "acked", "IDS", "2", "3-0", "5-0");
    CMD(&b, "XDELEX", "st", "KEEPREF", "IDS", "1", "2-0");
    CHECK_STR(mirror_run(e, &b), "0", "xdelex: ACKED and KEEPREF applied");
    CHECK_STR(stream_state(e), "1-0,4-0 pel:g1/1-0,g1/2-0 len:2 maxdel:5-0",
              "xdelex: ACKED deletes delivered, unpending entries; KEEPREF keeps the PEL");
    CMD(&b, "XACKDEL", "st", "g1", "DELREF", "IDS", "1", "1-0");
    CMD(&b, "XDELEX", "st", "DELREF", "IDS", "1", "2-0");               /* a dangling ref */
    CMD(&b, "XDELEX", "st", "IDS", "2", "4-0");                         /* count mismatch */
    CMD(&b, "XDELEX", "st", "BOGUS", "IDS", "1", "4-0");
    CMD(&b, "XDELEX", "st", "IDS", "1", "bad");                         /* bad id */
    CMD(&b, "XACKDEL", "st", "nogroup", "IDS", "1", "4-0");             /* NOGROUP */
    CHECK_STR(mirror_run(e, &b), "0", "xackdel: applied, refused forms skipped");
    CHECK_STR(stream_state(e), "4-0 pel: len:1 maxdel:5-0",
              "xackdel DELREF acks and deletes; XDELEX DELREF drops a dangling ref");
    CMD(&b, "XADD", "st", "KEEPREF", "MAXLEN", "=", "0", "6-0", "f", "g");
    CHECK_STR(mirror_run(e, &b), "0", "xadd KEEPREF applied");
    CHECK_STR(stream_state(e), " pel: len:0 maxdel:5-0", "xadd: KEEPREF accepted, trimmed");
    tbuf_free(&b);
}

int main(void)
{
    return mirror_test_main("cmd_stream.db", 0, (mirror_test *const[]){
        test_streams, test_xdelex_xackdel, NULL });
}
