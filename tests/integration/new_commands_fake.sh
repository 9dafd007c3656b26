#!/usr/bin/env bash
# The write commands of Redis 8.0-8.8 and Valkey 8.1-9.x in the exact forms
# their masters propagate (read in t_hash.c, t_string.c, db.c, t_array.c),
# through tests/lib/fake_master.py: a snapshot in RDB 14 holding an array (type
# 28, with its insert cursor), then a stream of HSETEX (PXAT, KEEPTTL from
# HINCRBYFLOAT, Valkey's lower-case nx/fnx kept), HGETEX as HPEXPIREAT and
# HPERSIST, HGETDEL as HDEL (Redis) and verbatim (Valkey), INCRBYFLOAT as
# SET ... KEEPTTL, DELEX as DEL, SET IFEQ/IFDEQ, MSETEX, DELIFEQ, the
# array commands, Valkey 9.2's path hash commands (t_path_hash.c), modules'
# commands (VADD, JSON.SET: counted as unknown, no key made), and Valkey 9's
# SELECT of a numbered db in cluster mode.
# Every view is then compared with what the source says the master holds.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

q() { sqlite3 "$1" "$2" 2>/dev/null; }

# The snapshot: REDIS0014, db 0, the array 'snap' (cursor 1; 0 -> int 5,
# 1 -> float 2.5, 7 -> "abc"), EOF and an all-zero CRC (rdbchecksum no).
python3 - "$TMP/snap.rdb" <<'PY'
import struct, sys
def ln(v):
    return bytes([v]) if v < 64 else b"\x80" + struct.pack(">I", v)
def s(b):
    return ln(len(b)) + b
out = b"REDIS0014" + b"\xfe\x00" + b"\x1c" + s(b"snap") + ln(3) + ln(1) + ln(1)
out += ln(0) + ln(1) + struct.pack("<q", 5)
out += ln(1) + ln(2) + struct.pack("<d", 2.5)
out += ln(7) + ln(3) + s(b"abc")
out += b"\xff" + b"\x00" * 8
open(sys.argv[1], "wb").write(out)
PY

{
    resp SELECT 0
    # Redis 8.0 hashes
    resp HSETEX h PXAT 4102444800000 FIELDS 2 a 1 b 2
    resp HSETEX h KEEPTTL FIELDS 1 a 1.5                 # HINCRBYFLOAT h a 0.5
    resp HSETEX h FNX FIELDS 1 c 3
    resp HPEXPIREAT h 4102444900000 FIELDS 1 c           # HGETEX h EXAT ... FIELDS 1 c
    resp HPERSIST h FIELDS 1 b                           # HGETEX h PERSIST FIELDS 1 b
    resp HSET h d 4
    resp HDEL h d                                        # HGETDEL h FIELDS 1 d
    # Valkey 9 hashes: HSETEX keeps lower-case nx/fnx, HGETDEL comes verbatim
    resp HSETEX v nx fnx PXAT 4102444800000 FIELDS 1 x 1
    resp HSETEX v nx FIELDS 1 y 2                        # the key exists: no-op
    resp HSET v z 3
    resp HGETDEL v FIELDS 1 z
    # strings
    resp SET f 1.5 KEEPTTL                               # INCRBYFLOAT f 1.5
    resp SET s old
    resp SET s new IFEQ old
    resp SET s newer IFDEQ 0123456789abcdef
    resp SET gone x
    resp DEL gone                                        # DELEX gone IFEQ x
    resp MSETEX 2 m1 a m2 b PXAT 4102444800000
    resp SET lock token
    resp DELIFEQ lock token
    # Redis 8.8 arrays
    resp ARINSERT snap d                                 # after the snapshot's cursor 1
    resp ARSET arr 18446744073709551614 top
    resp ARMSET arr 3 three 4 four
    resp ARDEL arr 4
    resp ARRING ring 2 a b c
    resp ARSEEK snap 100
    resp ARINSERT snap e
    resp ARDELRANGE snap 7 50
    # modules' types (Redis 8's vector sets, JSON): counted as unknown, never applied
    resp VADD vs VALUES 2 1 2 m
    resp JSON.SET j '$' '{}'
    # Valkey 9.2 path hashes (t_path_hash.c: propagated as sent)
    resp PHSET ph a/b FIELDS 2 f1 v1 f2 v2
    resp PHMSET ph a/c FIELDS 1 f x b FIELDS 1 g y
    resp PHSET ph a/b FXX FIELDS 1 f2 w
    resp PHDEL ph a/b f1
    resp PHDELPREFIX ph b
    # Valkey 9 cluster mode with numbered dbs
    resp SELECT 5
    resp SET in5 yes
} > "$TMP/stream.resp"

start_fake nc psync "$TMP/snap.rdb" "$TMP/stream.resp"
db="$TMP/nc.db"
start_redsink rs_nc "$nc_PORT" "$db"
done_() { [ "$(q "$1" "SELECT value FROM redis_strings WHERE db=5 AND key='in5'")" = yes ]; }
if poll_until 30 done_ "$db"; then ok "RDB 14 snapshot loaded and the stream applied"; else
    fail "stream not applied"; tail -5 "$TMP/rs_nc.log"; finish; fi

check() { check_sql "$db" "$@"; }   # check LABEL SQL WANT
check "Redis 8 hash: HSETEX PXAT/KEEPTTL/FNX, HPEXPIREAT, HPERSIST, HDEL" \
    "SELECT group_concat(field||'='||value||'@'||coalesce(expire_at,'-'),' ') FROM (SELECT * FROM redis_hashes WHERE key='h' ORDER BY field)" \
    "a=1.5@4102444800000 b=2@- c=3@4102444900000"
check "Valkey 9 hash: lower-case nx/fnx kept and checked, HGETDEL verbatim" \
    "SELECT group_concat(field||'='||value||'@'||coalesce(expire_at,'-'),' ') FROM (SELECT * FROM redis_hashes WHERE key='v' ORDER BY field)" \
    "x=1@4102444800000"
check "strings: SET KEEPTTL, IFEQ, IFDEQ, DEL, MSETEX PXAT, DELIFEQ" \
    "SELECT group_concat(key||'='||value||'@'||coalesce(expire_at,'-'),' ') FROM (SELECT s.key, s.value, k.expire_at FROM redis_strings s JOIN redis_keys k USING (db, key) WHERE s.db=0 ORDER BY s.key)" \
    "f=1.5@- m1=a@4102444800000 m2=b@4102444800000 s=newer@-"
check "arrays: the snapshot's array with its cursor, then ARINSERT/ARSEEK/ARDELRANGE" \
    "SELECT group_concat(idx||'='||value,' ') FROM (SELECT * FROM redis_arrays WHERE key='snap' ORDER BY idx)" \
    "0=5 1=2.5 2=d 100=e"
check "arrays: ARSET past 2^63, ARMSET, ARDEL, ARRING" \
    "SELECT group_concat(key||':'||idx||'='||value,' ') FROM (SELECT * FROM redis_arrays WHERE key IN ('arr','ring') ORDER BY key, typeof(idx)='text', idx)" \
    "arr:3=three arr:18446744073709551614=top ring:0=c ring:1=b"
check "redis_keys: type array; db 5 selected in the stream" \
    "SELECT group_concat(db||':'||key||':'||type,' ') FROM (SELECT * FROM redis_keys WHERE type='array' OR db=5 ORDER BY db, key)" \
    "0:arr:array 0:ring:array 0:snap:array 5:in5:string"
check "path hash: PHSET/PHMSET/PHDEL/PHDELPREFIX" \
    "SELECT group_concat(path||':'||field||'='||value,' ') FROM (SELECT * FROM redis_path_hashes WHERE key='ph' ORDER BY path, field)" \
    "a/b:f2=w a/c:f=x"
check "only the module commands are unknown, and they made no key" \
    "SELECT group_concat(name||'='||count,' ') FROM (SELECT * FROM redsink_unknown_commands ORDER BY name)" \
    "json.set=1 vadd=1"
check "module commands wrote nothing" "SELECT count(*) FROM redis_keys WHERE key IN ('vs','j')" "0"
off=$(q "$db" "SELECT offset FROM redsink_status")
[ "$off" = $((100 + $(stat -c %s "$TMP/stream.resp"))) ] && ok "offset $off counts every stream byte" || fail "offset $off"
finish
