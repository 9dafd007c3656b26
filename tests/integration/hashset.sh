#!/usr/bin/env bash
# Hash and set edge cases on a real master: what its stream carries for
# them (HINCRBYFLOAT as HSET, SPOP as SREM/DEL, refused commands not at
# all) and what redsink must replay exactly (HSETNX, HINCRBY, SMOVE, the
# *STORE commands with a destination that is a source, of another type or
# with a TTL, binary members, big sets). The views must equal the master.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

start_redis m --repl-diskless-sync yes --repl-diskless-sync-delay 0
db="$TMP/mirror.db"
start_redsink rs "$m_PORT" "$db"
wait_mirror "$m_PORT" || { fail "initial sync"; finish; }

# run the commands of a python list of tuples on the master (errors are fine)
on_master() {
    python3 - "$m_PORT" "$1" <<'PY'
import sys
sys.path.insert(0, __import__("os").environ["top_srcdir"] + "/tests/lib")
from compare import Redis
r = Redis("127.0.0.1", sys.argv[1])
r.pipeline(eval(sys.argv[2]))
PY
}

on_master '[
 ("HSET", "h", "a", "10.5", "b", "1e3", "big", "9223372036854775807", "txt", "007", "e", "-0.0"),
 ("HINCRBYFLOAT", "h", "a", "0.1"), ("HINCRBYFLOAT", "h", "b", "-2"), ("HINCRBYFLOAT", "h", "e", "0"),
 ("HINCRBYFLOAT", "h", "n", "1e308"), ("HINCRBYFLOAT", "h", "txt", "1"),
 ("HINCRBY", "h", "big", "1"), ("HINCRBY", "h", "big", "-10"), ("HINCRBY", "h", "new", "-3"),
 ("HSETNX", "h", "a", "x"), ("HSETNX", "h", b"\xfe", b"\xff\x00"), ("HSETNX", "h2", "f", "v"),
 ("HDEL", "h2", "f"), ("HINCRBYFLOAT", "h3", "f", "2.5"), ("HINCRBY", "h4", "f", "x"),
 ("HSET", "h5", "max", "9223372036854775806", "min", "-9223372036854775807", "z", "01", "m0", "-0"),
 ("HINCRBY", "h5", "max", "1"), ("HINCRBY", "h5", "max", "1"), ("HINCRBY", "h5", "min", "-1"),
 ("HINCRBY", "h5", "min", "-1"), ("HINCRBY", "h5", "z", "1"), ("HINCRBY", "h5", "m0", "1"),
 ("HINCRBY", "h5", "new", "-9223372036854775808"), ("HINCRBY", "h5", "new", "-1"),
 ("HINCRBY", "h5", "new", "9223372036854775807"),
]'
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "hashes: HINCRBYFLOAT, HINCRBY, HSETNX, binary fields"

on_master '[
 ("SADD", "s1", "a", "b", "c", b"\xff", b"\x00", "1", "2"), ("SADD", "s2", "b", "c", "d", b"\xff", "2"),
 ("SMOVE", "s1", "s1", "a"), ("SMOVE", "s1", "dst", b"\xff"), ("SMOVE", "s1", "dst", "zz"),
 ("SET", "str", "v"), ("SMOVE", "s1", "str", "a"), ("SMOVE", "nokey", "dst", "a"),
 ("SADD", "one", "x"), ("SMOVE", "one", "dst", "x"),
 ("SINTERSTORE", "i", "s1", "s2"), ("SUNIONSTORE", "u", "s1", "nokey", "s2"),
 ("SDIFFSTORE", "d", "s1", "s2"), ("SDIFFSTORE", "d2", "s2", "s1", "s2"),
 ("SUNIONSTORE", "s2", "s2", "s1"), ("SINTERSTORE", "s1", "s2", "s1"),
 ("SET", "str", "v", "PX", "100000000"), ("SUNIONSTORE", "str", "s1"),
 ("SADD", "t", "q"), ("PEXPIRE", "t", "100000000"), ("SINTERSTORE", "t", "t"),
 ("SADD", "e", "z"), ("SINTERSTORE", "e", "s1", "nokey"), ("SDIFFSTORE", "e", "s1", "s1"),
 ("HSET", "h5", "f", "v"), ("SUNIONSTORE", "s1", "s2", "h5"), ("SINTERSTORE", "s1", "nokey", "h5"),
 ("SADD", "p", "a", "b", "c", "d", "e"), ("SPOP", "p"), ("SPOP", "p", "2"), ("SADD", "p2", "x", "y"),
 ("SPOP", "p2", "5"),
]'
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "sets: SMOVE, SINTER/SUNION/SDIFFSTORE edge cases, SPOP"

# big sets: intset and hashtable encodings on the master, SQL set algebra here
on_master '[("SADD", "b1", *range(0, 6000, 2)), ("SADD", "b2", *range(0, 6000, 3)),
 ("SADD", "b3", *["m%d" % i for i in range(0, 3000, 5)], *range(0, 3000, 7)),
 ("SINTERSTORE", "bi", "b1", "b2", "b3"), ("SUNIONSTORE", "bu", "b1", "b2", "b3"),
 ("SDIFFSTORE", "bd", "b1", "b2", "b3"), ("SDIFFSTORE", "b1", "b2", "b1"),
 ("SPOP", "bu", 1500), ("SPOP", "bd", 3)]'
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "sets: big sets, SPOP with a count (SREM batches)"

n=$(sqlite3 "$db" "SELECT count(*) FROM redis_keys WHERE db < 0" 2>/dev/null || echo 0)
[ "$n" = 0 ] && ok "no scratch key left" || fail "scratch keys left: $n"
if grep -q "skipping" "$TMP/rs.log"; then
    echo "# redsink skipped: $(grep -o "skipping '[^']*'" "$TMP/rs.log" | sort | uniq -c | tr '\n' ' ')"
fi
finish
