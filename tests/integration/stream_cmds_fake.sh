#!/usr/bin/env bash
# The stream and string commands of Redis 8.2-8.8 in the forms their masters
# propagate, replayed by tests/lib/fake_master.py into the real redsink, and
# the mirror checked row by row against what the master holds after them.
#
# The forms, and where each was read (no 8.2-8.8 server can be built here):
# - XDELEX / XACKDEL (8.2): propagated as sent; XDELEX DELREF of an id that
#   is only in a pending list is propagated too (redis/redis#15569). ACKED
#   keeps an entry pending in a group or above the smallest last id of the
#   groups (streamEntryIsReferenced; Redis' stream-cgroups.tcl "XGROUP
#   DESTROY correctly manage min_cgroup_last_id cache").
# - XREADGROUP (and 8.4's XREADGROUP ... CLAIM): one canonical XCLAIM per
#   entry delivered (TIME, RETRYCOUNT, FORCE, JUSTID, LASTID) and XGROUP
#   SETID ... ENTRIESREAD (streamPropagateXCLAIM, streamPropagateGroupID).
# - XADD IDMP/IDMPAUTO (8.6): a first add with "*" replaced by its id; a
#   duplicate as the client sent it, "*" and all (nothing added); XCFGSET
#   and XIDMPRECORD as sent (producer state only, nothing in the views).
# - XNACK (8.8): as sent; the entries stay pending with no owner, delivery
#   time 0, the count FAIL keeps (redis/redis#14797).
# - XADD/XTRIM ... DELREF/ACKED trimming (8.2): as sent (exact "=").
#   Whether ACKED skips a referenced entry and goes on, or stops at it, was
#   not read in the source: skip-and-go-on is what the XTRIM documentation
#   says ("trimming will still stop at the limit"); the case below tells
#   them apart.
# - SET ... IFEQ/IFNE/IFDEQ/IFDNE (8.4): a SET the master performed, as
#   sent (no expiry option here, so not rewritten); DELEX that deleted: DEL;
#   MSETEX: as sent with PXAT.
# - INCREX (8.8): the 8.8 t_string.c was not readable here. An INCREX
#   test file in Redis' test suite form ("Command rewrite / replication
#   propagation", read in the search corpus without its repository's name;
#   a version without SATURATE, so not the final one)
#   asserts the master never sends INCREX itself but a SET carrying the
#   result: SET k v KEEPTTL (no expiry option, or ENX on a key with a TTL),
#   SET k v (PERSIST), SET k v PXAT ms (EX/PX/EXAT/PXAT, or ENX on a key
#   without one), DEL/UNLINK k (an expiry already past). Those forms are
#   sent below. The verbatim command is sent too, applied as the clients'
#   tests against 8.7.2+ servers define it (ioredis, fakeredis: out of
#   bounds is skipped unless SATURATE), for a master that sends it as is.
# - Redis 8.8 arrays: as sent (t_array.c, see new_commands_fake.sh).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

q() { sqlite3 "$1" "$2" 2>/dev/null; }

# An empty RDB 12 snapshot (EOF, checksum 0: not checked).
printf 'REDIS0012\377\0\0\0\0\0\0\0\0' > "$TMP/empty.rdb"

claim() {  # claim GROUP CONSUMER ID LASTID: one entry XREADGROUP delivered
    resp XCLAIM st "$1" "$2" 0 "$3" TIME 1700000000000 RETRYCOUNT 1 FORCE JUSTID LASTID "$4"
}

{
    resp SELECT 0
    for j in 1 2 3 4 5 6; do resp XADD st "$j-0" f "v$j"; done
    resp XGROUP CREATE st g1 0
    resp XGROUP CREATE st g2 0
    # XREADGROUP GROUP g1 alice COUNT 3 STREAMS st >   (and g2 bob COUNT 2)
    claim g1 alice 1-0 3-0; claim g1 alice 2-0 3-0; claim g1 alice 3-0 3-0
    resp XGROUP SETID st g1 3-0 ENTRIESREAD 3
    claim g2 bob 1-0 2-0; claim g2 bob 2-0 2-0
    resp XGROUP SETID st g2 2-0 ENTRIESREAD 2
    # XDELEX / XACKDEL, each mode
    resp XACKDEL st g1 KEEPREF IDS 1 1-0     # acked in g1, deleted; g2's 1-0 dangles
    resp XACKDEL st g1 ACKED IDS 1 2-0       # acked in g1; still pending in g2: kept
    resp XACKDEL st g2 ACKED IDS 1 2-0       # pending nowhere, 2-0 <= min last id 2-0: deleted
    resp XACKDEL st g2 DELREF IDS 1 3-0      # deleted, and gone from g1's PEL
    resp XDELEX st ACKED IDS 2 4-0 5-0       # above g2's last id 2-0: both kept
    resp XDELEX st DELREF IDS 1 1-0          # only g2's dangling 1-0 (#15569)
    resp XDELEX st KEEPREF IDS 1 4-0
    # XNACK: alice gets 5-0, then releases it
    claim g1 alice 5-0 5-0
    resp XNACK st g1 FAIL IDS 1 5-0
    # idempotent XADD
    resp XCFGSET st IDMP-DURATION 60 IDMP-MAXSIZE 100
    resp XADD st IDMP p1 req-1 7-0 f v7          # first add: the id the master chose
    resp XADD st IDMP p1 req-1 '*' f dup         # duplicate: nothing added
    resp XADD st IDMPAUTO p2 8-0 f v8
    resp XADD st IDMPAUTO p2 '*' f v8
    resp XIDMPRECORD st p1 req-9 7-0
    # trimming by reference: 5-0 is pending (NACKed), 6-0..8-0 delivered to both
    resp XGROUP SETID st g1 8-0
    resp XGROUP SETID st g2 8-0
    resp XADD st MAXLEN = 2 ACKED 9-0 f v9       # 5-0 skipped, 6-0..8-0 go
    resp XADD st2 1-0 f a
    resp XADD st2 2-0 f b
    resp XGROUP CREATE st2 g 2-0
    resp XCLAIM st2 g c 0 1-0 TIME 1700000000000 RETRYCOUNT 1 FORCE JUSTID LASTID 2-0
    resp XTRIM st2 MINID 3-0 DELREF              # both go, and 1-0 leaves g's PEL
    # strings (Redis 8.4)
    resp SET s1 old
    resp SET s1 new IFEQ old
    resp SET s2 x
    resp SET s2 y IFNE z
    resp SET s3 a
    resp SET s3 b IFDEQ 0123456789abcdef
    resp SET s4 a
    resp SET s4 c IFDNE 0123456789abcdef
    resp SET d1 x
    resp DEL d1                                   # DELEX d1 IFEQ x
    resp MSETEX 2 m1 a m2 b PXAT 4102444800000
    # INCREX (Redis 8.8; form not verified, see above)
    resp INCREX cnt BYINT 5 UBOUND 100
    resp INCREX cnt BYINT 200 UBOUND 100          # out of bounds: skipped
    resp INCREX cnt BYINT 200 UBOUND 100 SATURATE # capped at 100
    resp INCREX fl BYFLOAT 1.5 PXAT 4102444800000
    # INCREX as that test file says the master propagates it
    resp SET i1 7 KEEPTTL                        # INCREX i1 BYINT 7 (new key)
    resp SET i1 8 PXAT 4102444800000             # INCREX i1 EX 100
    resp SET i1 9 KEEPTTL                        # INCREX i1: the TTL stays
    resp SET i2 5 PXAT 4102444800000
    resp SET i2 6                                # INCREX i2 PERSIST
    resp SET i3 1
    resp DEL i3                                  # INCREX i3 EXAT 1 (past)
    # arrays (Redis 8.8)
    resp ARSET arr 0 x
    resp ARMSET arr 2 y 5 z
    resp ARDEL arr 2
    resp SET done yes
} > "$TMP/stream.resp"

start_fake fm psync "$TMP/empty.rdb" "$TMP/stream.resp"
db="$TMP/fm.db"
start_redsink rs "$fm_PORT" "$db" --strict
done_() { [ "$(q "$1" "SELECT value FROM redis_strings WHERE key='done'")" = yes ]; }
if poll_until 30 done_ "$db"; then ok "the stream was applied (--strict: nothing unknown)"; else
    fail "stream not applied"; tail -5 "$TMP/rs.log"; finish; fi

check() { check_sql "$db" "$@"; }   # check LABEL SQL WANT
gen=$(q "$db" "SELECT generation FROM redsink_status")
kid() { echo "(SELECT id FROM g${gen}_keys WHERE key = '$1')"; }

check "st: entries after XACKDEL/XDELEX, XNACK, IDMP and the ACKED trim" \
    "SELECT group_concat(id||':'||field||'='||value,' ') FROM (SELECT * FROM redis_streams WHERE key='st' ORDER BY ms, seq, pos)" \
    "5-0:f=v5 9-0:f=v9"
check "st: length, last id, max deleted id, entries added" \
    "SELECT length||' '||last_ms||'-'||last_seq||' '||maxdel_ms||'-'||maxdel_seq||' '||entries_added FROM g${gen}_smeta WHERE kid=$(kid st)" \
    "2 9-0 4-0 9"
check "st: groups (last id, entries read: SETID without ENTRIESREAD forgets it)" \
    "SELECT group_concat(name||'/'||last_ms||'-'||last_seq||'/'||coalesce(entries_read,'NULL'),' ') FROM (SELECT * FROM g${gen}_sgroup WHERE kid=$(kid st) ORDER BY name)" \
    "g1/8-0/NULL g2/8-0/NULL"
check "st: the PEL is the NACKed 5-0 alone (no owner, time 0, count kept by FAIL)" \
    "SELECT group_concat(grp||'/'||ms||'-'||seq||'/'||coalesce(consumer,'-')||'/'||delivery_time||'/'||delivery_count,' ') FROM g${gen}_spel WHERE kid=$(kid st)" \
    "g1/5-0/-/0/1"
check "st2: XTRIM MINID DELREF empties the stream and the PEL" \
    "SELECT (SELECT count(*) FROM redis_streams WHERE key='st2')||' '||(SELECT count(*) FROM g${gen}_spel WHERE kid=$(kid st2))||' '||(SELECT length FROM g${gen}_smeta WHERE kid=$(kid st2))" \
    "0 0 0"
check "strings: SET IFEQ/IFNE/IFDEQ/IFDNE, DEL, MSETEX PXAT, INCREX" \
    "SELECT group_concat(key||'='||value||'@'||coalesce(expire_at,'-'),' ') FROM (SELECT s.key, s.value, k.expire_at FROM redis_strings s JOIN redis_keys k USING (db, key) WHERE s.key <> 'done' ORDER BY s.key)" \
    "cnt=100@- fl=1.5@4102444800000 i1=9@4102444800000 i2=6@- m1=a@4102444800000 m2=b@4102444800000 s1=new@- s2=y@- s3=b@- s4=c@-"
check "arrays: ARSET, ARMSET, ARDEL" \
    "SELECT group_concat(idx||'='||value,' ') FROM (SELECT * FROM redis_arrays WHERE key='arr' ORDER BY idx)" \
    "0=x 5=z"
check "no unknown command" "SELECT count(*) FROM redsink_unknown_commands" "0"
off=$(q "$db" "SELECT offset FROM redsink_status")
[ "$off" = $((100 + $(stat -c %s "$TMP/stream.resp"))) ] && ok "offset $off counts every stream byte" || fail "offset $off"
finish
