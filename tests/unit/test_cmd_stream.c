/*
 * test_cmd_stream.c - the stream commands (daemon/write/cmd_stream.c) on
 * the real SQLite sink: XADD with explicit and partial ids, MAXLEN/MINID
 * trimming, NOMKSTREAM, the stream metadata; Redis 8.2's XDELEX and
 * XACKDEL (KEEPREF/DELREF/ACKED, from the command docs and t_stream.c);
 * Redis 8.4's XREADGROUP ... CLAIM, 8.6's idempotent XADD with XCFGSET
 * and XIDMPRECORD, 8.8's XNACK, each in the form t_stream.c propagates.
 * The mirror is strict: an unknown command fails the run.
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

/* Pending entry 'id' of group 'g' for consumer c, as XREADGROUP
 * propagates it (streamPropagateXCLAIM), the group's last id 'lastid'. */
static void claim(struct tbuf *b, const char *g, const char *id, const char *lastid)
{
    CMD(b, "XCLAIM", "st", g, "c", "0", id, "TIME", "1000", "RETRYCOUNT", "1", "FORCE",
        "JUSTID", "LASTID", lastid);
}

static void five_entries(struct tbuf *b)
{
    CMD(b, "FLUSHALL");
    for (int j = 1; j <= 5; j++) {
        char id[8];

        snprintf(id, sizeof(id), "%d-0", j);
        CMD(b, "XADD", "st", id, "f", "v");
    }
}

/*
 * ACKED keeps what a group still needs: an id above the smallest last id
 * of the groups, or pending in one (Redis' stream-cgroups.tcl, "XGROUP
 * DESTROY correctly manage min_cgroup_last_id cache": groups at 1-0 and
 * 3-0, 1-0 goes, 2-0 stays until the group at 1-0 is destroyed).
 */
static void test_acked_min_last_id(struct mirror *e)
{
    struct tbuf b = { 0 };

    five_entries(&b);
    CMD(&b, "XGROUP", "CREATE", "st", "group1", "1-0");
    CMD(&b, "XGROUP", "CREATE", "st", "group2", "3-0");
    CMD(&b, "XDELEX", "st", "ACKED", "IDS", "2", "1-0", "2-0");
    CHECK_STR(mirror_run(e, &b), "0", "acked min last id: applied");
    CHECK_STR(stream_state(e), "2-0,3-0,4-0,5-0 pel: len:4 maxdel:1-0",
              "xdelex ACKED: an id equal to the smallest last id goes, one above stays");
    CMD(&b, "XGROUP", "DESTROY", "st", "group1");
    CMD(&b, "XDELEX", "st", "ACKED", "IDS", "2", "2-0", "4-0");
    CHECK_STR(mirror_run(e, &b), "0", "acked min last id: destroy applied");
    CHECK_STR(stream_state(e), "3-0,4-0,5-0 pel: len:3 maxdel:2-0",
              "xdelex ACKED: the smallest last id is now 3-0: 2-0 goes, 4-0 stays");
    CMD(&b, "XGROUP", "DESTROY", "st", "group2");
    CMD(&b, "XDELEX", "st", "ACKED", "IDS", "1", "5-0");
    CHECK_STR(mirror_run(e, &b), "0", "acked min last id: no group applied");
    CHECK_STR(stream_state(e), "3-0,4-0 pel: len:2 maxdel:5-0",
              "xdelex ACKED: with no group nothing is referenced");
    tbuf_free(&b);
}

/* Redis' stream.tcl "XADD with MAXLEN option and ACKED option", in the
 * forms the master propagates (the reads as XCLAIM/XGROUP SETID). */
static void test_trim_acked(struct mirror *e)
{
    struct tbuf b = { 0 };

    five_entries(&b);
    CMD(&b, "XGROUP", "CREATE", "st", "g", "0");
    CMD(&b, "XADD", "st", "MAXLEN", "=", "1", "ACKED", "6-0", "f", "v");
    CHECK_STR(mirror_run(e, &b), "0", "trim ACKED: nothing read yet");
    CHECK_STR(stream_state(e), "1-0,2-0,3-0,4-0,5-0,6-0 pel: len:6 maxdel:0-0",
              "xadd MAXLEN ACKED: nothing delivered, all kept");
    claim(&b, "g", "1-0", "1-0");
    CMD(&b, "XACK", "st", "g", "1-0");
    CMD(&b, "XADD", "st", "MAXLEN", "=", "1", "ACKED", "7-0", "f", "v");
    CHECK_STR(mirror_run(e, &b), "0", "trim ACKED: one read and acked");
    CHECK_STR(stream_state(e), "2-0,3-0,4-0,5-0,6-0,7-0 pel: len:6 maxdel:0-0",
              "xadd MAXLEN ACKED: the acked entry goes");
    CMD(&b, "XGROUP", "SETID", "st", "g", "7-0");
    CMD(&b, "XADD", "st", "MAXLEN", "=", "1", "ACKED", "8-0", "f", "v");
    CHECK_STR(mirror_run(e, &b), "0", "trim ACKED: all delivered");
    CHECK_STR(stream_state(e), "8-0 pel: len:1 maxdel:0-0",
              "xadd MAXLEN ACKED: all delivered and none pending: trimmed to 1");

    /* a pending entry is skipped, the trim goes on past it to the limit */
    five_entries(&b);
    CMD(&b, "XGROUP", "CREATE", "st", "g", "4-0");
    claim(&b, "g", "2-0", "4-0");
    CMD(&b, "XTRIM", "st", "MAXLEN", "2", "ACKED");
    CHECK_STR(mirror_run(e, &b), "0", "trim ACKED: skip a pending entry");
    CHECK_STR(stream_state(e), "2-0,5-0 pel:g/2-0 len:2 maxdel:0-0",
              "xtrim MAXLEN ACKED: 1-0 and 3-0 go, pending 2-0 stays, stops at the limit");
    five_entries(&b);
    CMD(&b, "XGROUP", "CREATE", "st", "g", "2-0");
    claim(&b, "g", "1-0", "2-0");
    CMD(&b, "XTRIM", "st", "MINID", "5-0", "ACKED");
    CHECK_STR(mirror_run(e, &b), "0", "trim ACKED: MINID");
    CHECK_STR(stream_state(e), "1-0,3-0,4-0,5-0 pel:g/1-0 len:4 maxdel:0-0",
              "xtrim MINID ACKED: only delivered, unpending entries below the id go");
    tbuf_free(&b);
}

/* DELREF trims as KEEPREF does and drops the trimmed ids from every
 * group's PEL; other pending entries (even dangling ones) stay. */
static void test_trim_delref(struct mirror *e)
{
    struct tbuf b = { 0 };

    five_entries(&b);
    CMD(&b, "XGROUP", "CREATE", "st", "g", "0");
    CMD(&b, "XGROUP", "CREATE", "st", "h", "0");
    claim(&b, "g", "1-0", "5-0");
    claim(&b, "h", "2-0", "5-0");
    claim(&b, "h", "4-0", "5-0");
    CMD(&b, "XADD", "st", "MAXLEN", "=", "3", "DELREF", "6-0", "f", "v");
    CHECK_STR(mirror_run(e, &b), "0", "trim DELREF: xadd");
    CHECK_STR(stream_state(e), "4-0,5-0,6-0 pel:h/4-0 len:3 maxdel:0-0",
              "xadd MAXLEN DELREF: 1-0..3-0 go with their PEL entries");
    CMD(&b, "XDEL", "st", "4-0");                                       /* dangling h/4-0 */
    CMD(&b, "XTRIM", "st", "MINID", "6-0", "DELREF");
    CHECK_STR(mirror_run(e, &b), "0", "trim DELREF: xtrim");
    CHECK_STR(stream_state(e), "6-0 pel:h/4-0 len:1 maxdel:4-0",
              "xtrim MINID DELREF: 5-0 goes; a dangling PEL entry is no trimmed entry");
    tbuf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Redis 8.4-8.8: CLAIM, IDMP, XNACK                                  */
/* ------------------------------------------------------------------ */

/* The consumer-group state of stream 'st': its groups "name/last/read",
 * PEL rows "grp/id/owner/time/count" (owner "-": none) and consumers
 * "grp/name/seen/active". */
static const char *group_state(struct mirror *e)
{
    char sql[1536];
    long long g = atoll(mirror_q(e, "SELECT generation FROM redsink_status"));

    snprintf(sql, sizeof(sql),
             "WITH k AS (SELECT id FROM g%lld_keys WHERE key = 'st')"
             " SELECT 'groups:' || coalesce((SELECT group_concat(x, ',') FROM (SELECT name || '/'"
             " || last_ms || '-' || last_seq || '/' || coalesce(entries_read, 'NULL') AS x"
             " FROM g%lld_sgroup WHERE kid = (SELECT id FROM k) ORDER BY name)), '')"
             " || ' pel:' || coalesce((SELECT group_concat(x, ',') FROM (SELECT grp || '/' || ms"
             " || '-' || seq || '/' || coalesce(consumer, '-') || '/' || delivery_time || '/' ||"
             " delivery_count AS x FROM g%lld_spel WHERE kid = (SELECT id FROM k)"
             " ORDER BY grp, ms, seq)), '')"
             " || ' consumers:' || coalesce((SELECT group_concat(x, ',') FROM (SELECT grp || '/'"
             " || name || '/' || seen_time || '/' || coalesce(active_time, 'NULL') AS x"
             " FROM g%lld_scons WHERE kid = (SELECT id FROM k) ORDER BY grp, name)), '')",
             g, g, g, g);
    return mirror_q(e, sql);
}

/* The canonical XCLAIM a master propagates (streamPropagateXCLAIM). */
static void xclaim(struct tbuf *b, const char *consumer, const char *id, const char *time,
                   const char *count, const char *lastid)
{
    CMD(b, "XCLAIM", "st", "g", consumer, "0", id, "TIME", time, "RETRYCOUNT", count, "FORCE",
        "JUSTID", "LASTID", lastid);
}

/*
 * XREADGROUP GROUP g <c> [COUNT n] CLAIM <min-idle> STREAMS st > (Redis
 * 8.4) is never propagated itself: streamReplyWithRange sends one
 * canonical XCLAIM per idle entry it claims (TIME the command's time,
 * RETRYCOUNT one more, LASTID the group's last id from before the read),
 * then the new entries as usual, then XGROUP SETID ... ENTRIESREAD when
 * those moved the group.
 */
static void test_xreadgroup_claim(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "FLUSHALL");
    CMD(&b, "XADD", "st", "1-0", "f", "a");
    CMD(&b, "XADD", "st", "2-0", "f", "b");
    CMD(&b, "XADD", "st", "3-0", "f", "c");
    CMD(&b, "XGROUP", "CREATE", "st", "g", "0");
    /* XREADGROUP GROUP g alice COUNT 2 STREAMS st > at 1000 */
    xclaim(&b, "alice", "1-0", "1000", "1", "0-0");
    xclaim(&b, "alice", "2-0", "1000", "1", "0-0");
    CMD(&b, "XGROUP", "SETID", "st", "g", "2-0", "ENTRIESREAD", "2");
    /* XREADGROUP GROUP g bob COUNT 3 CLAIM 1000 STREAMS st > at 5000:
     * both of alice's (idle 4000), then the new 3-0 */
    xclaim(&b, "bob", "1-0", "5000", "2", "2-0");
    xclaim(&b, "bob", "2-0", "5000", "2", "2-0");
    xclaim(&b, "bob", "3-0", "5000", "1", "2-0");
    CMD(&b, "XGROUP", "SETID", "st", "g", "3-0", "ENTRIESREAD", "3");
    CHECK_STR(mirror_run(e, &b), "0", "claim: reads and claims applied");
    CHECK_STR(group_state(e), "groups:g/3-0/3 pel:g/1-0/bob/5000/2,g/2-0/bob/5000/2,"
              "g/3-0/bob/5000/1 consumers:g/alice/1000/1000,g/bob/5000/5000",
              "claim: the claimed entries move to bob, counted again; the group moves once");
    /* XNACK FATAL, then a CLAIM read by carol at 9000: the count stays
     * at LLONG_MAX (streamReplyWithRange does not add to it) */
    CMD(&b, "XNACK", "st", "g", "FATAL", "IDS", "1", "1-0");
    xclaim(&b, "carol", "1-0", "9000", "9223372036854775807", "3-0");
    CHECK_STR(mirror_run(e, &b), "0", "claim: a NACKed entry claimed");
    CHECK_STR(group_state(e), "groups:g/3-0/3 pel:g/1-0/carol/9000/9223372036854775807,"
              "g/2-0/bob/5000/2,g/3-0/bob/5000/1 consumers:g/alice/1000/1000,g/bob/5000/5000,"
              "g/carol/9000/9000", "claim: an unowned entry, FATAL's count kept");
    tbuf_free(&b);
}

/*
 * XNACK key group SILENT|FAIL|FATAL IDS n id... [RETRYCOUNT n] [FORCE]
 * (Redis 8.8), propagated verbatim: the entries lose their owner and
 * their delivery time (0), the count follows the mode.
 */
static void test_xnack(struct mirror *e)
{
    struct tbuf b = { 0 };

    CMD(&b, "FLUSHALL");
    CMD(&b, "SET", "str", "x");
    for (int i = 1; i <= 5; i++) {
        char id[8];

        snprintf(id, sizeof(id), "%d-0", i);
        CMD(&b, "XADD", "st", id, "f", "v");
    }
    CMD(&b, "XGROUP", "CREATE", "st", "g", "0");
    xclaim(&b, "alice", "1-0", "1000", "3", "1-0");
    xclaim(&b, "alice", "2-0", "1000", "1", "2-0");
    xclaim(&b, "bob", "3-0", "2000", "2", "3-0");
    CMD(&b, "XNACK", "st", "g", "SILENT", "IDS", "2", "1-0", "2-0");
    CMD(&b, "XNACK", "st", "g", "fail", "IDS", "1", "3-0");
    CHECK_STR(mirror_run(e, &b), "0", "xnack: SILENT and FAIL applied");
    CHECK_STR(group_state(e), "groups:g/3-0/3 pel:g/1-0/-/0/2,g/2-0/-/0/0,g/3-0/-/0/2 "
              "consumers:g/alice/1000/1000,g/bob/2000/2000",
              "xnack: owners gone, time 0, SILENT one less, FAIL the same; consumers stay");
    CMD(&b, "XNACK", "st", "g", "SILENT", "IDS", "1", "2-0");     /* not below 0 */
    CMD(&b, "XNACK", "st", "g", "FATAL", "IDS", "1", "1-0", "RETRYCOUNT", "7");
    CMD(&b, "XNACK", "st", "g", "FATAL", "FORCE", "IDS", "2", "4-0", "9-0");
    CMD(&b, "XNACK", "st", "g", "SILENT", "IDS", "1", "5-0");     /* not pending: no-op */
    CMD(&b, "XNACK", "st", "g", "FAIL", "IDS", "1", "5-0", "FORCE", "RETRYCOUNT", "4");
    CHECK_STR(mirror_run(e, &b), "0", "xnack: RETRYCOUNT, FATAL and FORCE applied");
    CHECK_STR(group_state(e), "groups:g/3-0/3 pel:g/1-0/-/0/7,g/2-0/-/0/0,g/3-0/-/0/2,"
              "g/4-0/-/0/9223372036854775807,g/5-0/-/0/4 consumers:g/alice/1000/1000,"
              "g/bob/2000/2000", "xnack: RETRYCOUNT wins, FORCE makes unowned entries that exist");
    CMD(&b, "XNACK", "st", "g", "BOGUS", "IDS", "1", "1-0");
    CMD(&b, "XNACK", "st", "g", "FAIL", "IDS", "0", "1-0");
    CMD(&b, "XNACK", "st", "g", "FAIL", "IDS", "3", "1-0", "2-0");
    CMD(&b, "XNACK", "st", "g", "FAIL", "IDS", "1", "1-0", "RETRYCOUNT", "-1");
    CMD(&b, "XNACK", "st", "g", "FAIL", "IDS", "1", "1-0", "NOPE");
    CMD(&b, "XNACK", "st", "g", "FAIL", "FORCE", "FORCE", "FORCE");   /* no IDS */
    CMD(&b, "XNACK", "st", "g", "FAIL", "IDS", "2", "1-0", "bad", "RETRYCOUNT", "1");
    CMD(&b, "XNACK", "st", "nogroup", "FAIL", "IDS", "1", "1-0");
    CMD(&b, "XNACK", "nokey", "g", "FAIL", "IDS", "1", "1-0");
    CMD(&b, "XNACK", "str", "g", "FAIL", "IDS", "1", "1-0");
    CHECK_STR(mirror_run(e, &b), "0", "xnack: refused forms skipped");
    /* an owner leaving keeps the entries it no longer owns; an unowned
     * entry is claimed (XAUTOCLAIM, CLAIM) or acked; XACK is how a master
     * drops an unowned entry whose stream entry is gone (XAUTOCLAIM) */
    CMD(&b, "XGROUP", "DELCONSUMER", "st", "g", "alice");
    xclaim(&b, "carol", "2-0", "9000", "1", "3-0");
    CMD(&b, "XDEL", "st", "4-0");
    CMD(&b, "XACK", "st", "g", "4-0");
    CHECK_STR(mirror_run(e, &b), "0", "xnack: then DELCONSUMER, XCLAIM, XACK");
    CHECK_STR(group_state(e), "groups:g/3-0/3 pel:g/1-0/-/0/7,g/2-0/carol/9000/1,g/3-0/-/0/2,"
              "g/5-0/-/0/4 consumers:g/bob/2000/2000,g/carol/9000/9000",
              "xnack: refused forms changed nothing; unowned entries outlive their consumer");
    tbuf_free(&b);
}

/* The entries of 'key', "id:field=value;..." (redis_streams). */
static const char *entries(struct mirror *e, const char *key)
{
    char sql[256];

    snprintf(sql, sizeof(sql), "SELECT id || ':' || field || '=' || value FROM redis_streams"
             " WHERE key = '%s' ORDER BY ms, seq, pos", key);
    return mirror_q(e, sql);
}

/*
 * A stream transaction keeps list pushes and stream entries to many keys
 * (kids out of order) and sends them sorted by key (sqlite_bulk.c): up to
 * 32,768 rows or 4 MiB of values, then the rest. Batch one: 40,000 XADDs
 * to 500 streams and 6,000 pushes to 300 lists in a shuffled key order,
 * past the row limit, with binary values and a few values too big to
 * keep (over 256 KiB: the kept rows go first). Batch two: 3,000 entries
 * of 2,000 bytes, past the byte limit. Every row is checked against what
 * was sent: its key, its value and its order.
 */
#define SS_N 40000
#define SS_STREAMS 500
#define SS_LISTS 300
static void test_sorted_sends(struct mirror *e)
{
    struct tbuf b = { 0 };
    char key[32], id[32], v[64], *big = malloc(300 * 1024 + 1);
    static char want[SS_LISTS][4096];
    static int wl[SS_LISTS];

    memset(big, 'B', 300 * 1024);
    big[300 * 1024] = '\0';
    for (int i = 0; i < SS_N; i++) {
        int ms = i + 1, k = (int)(((long long)i * 7919) % SS_STREAMS);

        snprintf(key, sizeof(key), "ms:%d", k);
        snprintf(id, sizeof(id), "%d-0", ms);
        if (ms % 997 == 0)
            CMD(&b, "XADD", key, id, "f", big);                 /* too big to keep */
        else if (ms % 97 == 0) {
            snprintf(v, sizeof(v), "\xff\xfe%d", ms);           /* not UTF-8: a BLOB */
            CMD(&b, "XADD", key, id, "f", v);
        } else {
            snprintf(v, sizeof(v), "v%d", ms);
            CMD(&b, "XADD", key, id, "f", v);
        }
        if (i % 20 == 0) {                      /* lists 0..299, out of order */
            int l = (i / 20 * 131) % SS_LISTS;
            char lk[32], lv[32], tmp[4096];

            snprintf(lk, sizeof(lk), "ml:%d", l);
            snprintf(lv, sizeof(lv), "l%d", i);
            if (i % 3 == 0) {
                CMD(&b, "RPUSH", lk, lv);
                snprintf(tmp, sizeof(tmp), "%s%s%s", want[l], wl[l]++ ? "," : "", lv);
            } else {
                CMD(&b, "LPUSH", lk, lv);
                snprintf(tmp, sizeof(tmp), "%s%s%s", lv, wl[l]++ ? "," : "", want[l]);
            }
            memcpy(want[l], tmp, sizeof(tmp));
        }
    }
    CHECK_STR(mirror_run(e, &b), "0", "sorted sends: 40,000 entries and 2,000 pushes");
    CHECK_INT(mirror_qi(e, "SELECT count(*) FROM redis_streams WHERE key GLOB 'ms:*'"), SS_N,
              "sorted sends: every entry");
    CHECK_INT(mirror_qi(e, "SELECT count(*) FROM redis_streams WHERE key GLOB 'ms:*' AND"
                           " (key <> 'ms:' || ((ms - 1) * 7919 % 500) OR seq <> 0 OR field <> 'f'"
                           " OR CAST(value AS BLOB) <> CAST(CASE WHEN ms % 997 = 0 THEN"
                           " printf('%.307200c', 'B') WHEN ms % 97 = 0 THEN X'FFFE' || ms"
                           " ELSE 'v' || ms END AS BLOB))"), 0,
              "sorted sends: each entry in its stream with its own value");
    CHECK_INT(mirror_qi(e, "SELECT count(*) FROM redis_streams WHERE key GLOB 'ms:*'"
                           " AND typeof(value) = 'blob'"), SS_N / 97 - SS_N / (97 * 997),
              "sorted sends: the binary values are BLOBs");
    struct tbuf w7 = { 0 };                 /* ms:7 holds text values only */

    for (int i = 0; i < SS_N; i++)
        if ((long long)i * 7919 % SS_STREAMS == 7)
            tbuf_printf(&w7, "%s%d-0:f=v%d", w7.len ? ";" : "", i + 1, i + 1);
    CHECK_STR(entries(e, "ms:7"), w7.p, "sorted sends: one stream's entries in order");
    tbuf_free(&w7);
    CHECK_INT(mirror_qi(e, "SELECT count(*) FROM (SELECT key, max(ms) m FROM redis_streams"
                           " WHERE key GLOB 'ms:*' GROUP BY key) s JOIN redis_keys k USING (key)"),
              SS_STREAMS, "sorted sends: 500 streams");
    int lists_ok = 0;

    for (int l = 0; l < SS_LISTS; l++) {
        char sql[128];

        snprintf(sql, sizeof(sql), "SELECT group_concat(value, ',') FROM (SELECT value FROM"
                 " redis_lists WHERE key = 'ml:%d' ORDER BY idx)", l);
        lists_ok += strcmp(mirror_q(e, sql), want[l]) == 0;
    }
    CHECK_INT(lists_ok, SS_LISTS, "sorted sends: every list in push order");
    /* batch two: 3,000 values of 2,000 bytes, 6 MB, past the byte limit */
    memset(big, 'C', 2000);
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "ms:%d", (i * 7) % SS_STREAMS);
        snprintf(id, sizeof(id), "%d-0", 100000 + i);
        snprintf(big, 12, "%011d", i);
        big[11] = 'C';
        big[2000] = '\0';
        CMD(&b, "XADD", key, id, "f", big);
    }
    CHECK_STR(mirror_run(e, &b), "0", "sorted sends: 3,000 entries of 2,000 bytes");
    CHECK_INT(mirror_qi(e, "SELECT count(*) FROM redis_streams WHERE key GLOB 'ms:*'"
                           " AND ms >= 100000 AND length(value) = 2000"
                           " AND key = 'ms:' || ((ms - 100000) * 7 % 500)"
                           " AND substr(value, 1, 11) = printf('%011d', ms - 100000)"
                           " AND substr(value, 12) = printf('%.1989c', 'C')"), 3000,
              "sorted sends: the 2,000-byte entries, each in its stream");
    CHECK_INT(mirror_qi(e, "SELECT sum(x) FROM (SELECT (SELECT count(*) FROM redis_streams"
                           " WHERE key = k.key) = k.n x FROM (SELECT key, count(*) n FROM"
                           " redis_streams WHERE key GLOB 'ms:*' GROUP BY key) k)"), SS_STREAMS,
              "sorted sends: counts agree");
    /* batches at the row limit, 32,768 rows, and either side of it, with
     * empty and UTF-8 values */
    int next = 200000, bad = 0;

    for (int n = 32767; n <= 32769; n++) {
        int from = next;

        for (int i = 0; i < n; i++, next++) {
            snprintf(key, sizeof(key), "ms:%d", (int)((long long)next * 7919 % SS_STREAMS));
            snprintf(id, sizeof(id), "%d-0", next);
            if (next % 5 == 0)
                snprintf(v, sizeof(v), "%s", "");
            else
                snprintf(v, sizeof(v), "%s%d", next % 5 == 1 ? "\xc3\xa9" : "w", next);
            CMD(&b, "XADD", key, id, "f", v);
        }
        bad += strcmp(mirror_run(e, &b), "0") != 0;
        char sql[400];

        snprintf(sql, sizeof(sql), "SELECT count(*) FROM redis_streams WHERE ms >= %d AND"
                 " ms < %d AND key = 'ms:' || (ms * 7919 %% 500) AND typeof(value) = 'text' AND"
                 " value = CASE ms %% 5 WHEN 0 THEN '' WHEN 1 THEN '\xc3\xa9' || ms"
                 " ELSE 'w' || ms END", from, next);
        bad += mirror_qi(e, sql) != n;
    }
    CHECK_INT(bad, 0, "sorted sends: batches of 32,767, 32,768 and 32,769 entries, each in its"
              " stream with its value (empty, UTF-8)");
    free(big);
    tbuf_free(&b);
}

/*
 * Redis 8.6's idempotent XADD: the first add comes with the id it got in
 * place of "*", a duplicate as the client sent it ("*" kept, MAXLEN ~
 * not rewritten) and adds nothing. XCFGSET and XIDMPRECORD only touch
 * the producers' state, which is not mirrored.
 */
static void test_xadd_idmp(struct mirror *e)
{
    struct tbuf b = { 0 };
    struct rs_stream_meta m;
    struct sink_key sk;
    struct rs_bytes key = { "st", 2 };

    CMD(&b, "FLUSHALL");
    CMD(&b, "XADD", "st", "IDMP", "p1", "req-1", "1700000000000-0", "amount", "100", "cur", "USD");
    CMD(&b, "XADD", "st", "IDMP", "p1", "req-1", "*", "amount", "200", "cur", "EUR");
    CMD(&b, "XADD", "st", "IDMPAUTO", "p1", "1700000000001-0", "f", "v");
    CMD(&b, "XADD", "st", "IDMPAUTO", "p1", "*", "f", "v");
    CMD(&b, "XADD", "st", "NOMKSTREAM", "KEEPREF", "IDMP", "p2", "r", "MAXLEN", "=", "5",
        "1700000000002-0", "f", "w");
    CMD(&b, "XADD", "st", "MAXLEN", "=", "2", "idmp", "p3", "x", "1700000000003-0", "f", "z");
    CMD(&b, "XADD", "st", "IDMP", "p3", "x", "MAXLEN", "~", "1", "*", "f", "z");
    CMD(&b, "XADD", "new", "IDMPAUTO", "p1", "5-0", "f", "v");
    CMD(&b, "XADD", "nomk", "NOMKSTREAM", "IDMP", "p1", "r", "6-0", "f", "v");
    CMD(&b, "XCFGSET", "st", "IDMP-DURATION", "60", "IDMP-MAXSIZE", "5");
    CMD(&b, "XCFGSET", "st", "idmp-maxsize", "10000");
    CMD(&b, "XIDMPRECORD", "st", "p9", "i9", "1700000000003-0");
    CHECK_STR(mirror_run(e, &b), "0", "idmp: adds, duplicates, XCFGSET, XIDMPRECORD applied");
    CHECK_STR(entries(e, "st"), "1700000000002-0:f=w;1700000000003-0:f=z",
              "idmp: first adds added and trimmed, duplicates added nothing");
    CHECK_STR(entries(e, "new"), "5-0:f=v", "idmp: a first add makes its stream");
    CHECK_STR(mirror_q(e, "SELECT key FROM redis_keys ORDER BY key"), "new;st",
              "idmp: NOMKSTREAM made nothing");
    e->sink->ops->key_find(e->sink, 0, &key, &sk);
    memset(&m, 0, sizeof(m));
    e->sink->ops->stream_meta_get(e->sink, sk.id, &m);
    CHECK(m.length == 2 && m.entries_added == 4 && m.last_id.ms == 1700000000003ULL &&
          m.first_id.ms == 1700000000002ULL, "idmp: meta length %llu, entries_added %llu",
          (unsigned long long)m.length, (unsigned long long)m.entries_added);
    CMD(&b, "XADD", "st", "IDMP", "", "r", "1800000000000-0", "f", "v");
    CMD(&b, "XADD", "st", "IDMP", "p", "", "1800000000000-0", "f", "v");
    CMD(&b, "XADD", "st", "IDMPAUTO", "", "1800000000000-0", "f", "v");
    CMD(&b, "XADD", "st", "IDMP", "p", "r", "IDMPAUTO", "q", "1800000000000-0", "f", "v");
    CMD(&b, "XADD", "st", "IDMP", "p", "r", "1700000000003-0", "f", "v");   /* not above top */
    CMD(&b, "XCFGSET", "st", "IDMP-DURATION", "0");
    CMD(&b, "XCFGSET", "st", "IDMP-DURATION", "86401");
    CMD(&b, "XCFGSET", "st", "IDMP-MAXSIZE", "10001");
    CMD(&b, "XCFGSET", "st", "IDMP-MAXSIZE", "1", "IDMP-MAXSIZE", "2");
    CMD(&b, "XCFGSET", "st", "IDMP-DURATION");
    CMD(&b, "XCFGSET", "st", "IDMP-DURATION", "A");
    CMD(&b, "XCFGSET", "st");
    CMD(&b, "XCFGSET", "nokey", "IDMP-DURATION", "5");
    CMD(&b, "XIDMPRECORD", "st", "p", "i", "99-0");
    CMD(&b, "XIDMPRECORD", "st", "", "i", "1700000000003-0");
    CMD(&b, "XIDMPRECORD", "st", "p", "", "1700000000003-0");
    CMD(&b, "XIDMPRECORD", "st", "p", "i", "bad");
    CMD(&b, "XIDMPRECORD", "nokey", "p", "i", "1-0");
    CHECK_STR(mirror_run(e, &b), "0", "idmp: refused forms skipped");
    CHECK_STR(entries(e, "st"), "1700000000002-0:f=w;1700000000003-0:f=z",
              "idmp: refused forms added nothing");
    tbuf_free(&b);
}

int main(void)
{
    return mirror_test_main("cmd_stream.db", 1, (mirror_test *const[]){
        test_streams, test_xdelex_xackdel, test_acked_min_last_id, test_trim_acked,
        test_trim_delref, test_xreadgroup_claim, test_xnack, test_xadd_idmp,
        test_sorted_sends, NULL });
}
