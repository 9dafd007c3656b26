#!/usr/bin/env bash
# Whole-key commands on a real master, compared with the mirror: MOVE,
# COPY (REPLACE, DB), SWAPDB and RESTORE (of a DUMP of every type, with
# REPLACE, ABSTTL and a relative TTL) on keys of every type with and
# without TTLs, stream groups included; then SORT ... STORE.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

start_redis m
db="$TMP/mirror.db"

# py 'python statements': r is a client of the master (binary-safe)
py() {
    python3 -c "import sys; sys.path.insert(0, '$top_srcdir/tests/lib')
from compare import Redis
r = Redis('127.0.0.1', $m_PORT)
$1" || fail "python driver failed"
}
sql() { python3 -c "import sqlite3, sys; c = sqlite3.connect('file:$db?mode=ro', uri=True)
print(c.execute(sys.argv[1]).fetchone()[0])" "$1"; }
gen() { sql "SELECT generation FROM redsink_status"; }

# keys of every type, some with a TTL, in db 0, before redsink starts:
# the full sync brings the stream group (XGROUP is the streams family's)
py "
far = 4102444800000
for c in [('SET', 's', 'v'), ('SET', b'bin\xff', b'\x00\x01'), ('PEXPIREAT', 's', far),
          ('RPUSH', 'l', 'a', '7', 'b', ''), ('SADD', 'st', 'x', '1', 'y'),
          ('ZADD', 'z', '1.5', 'a', '-inf', 'b', '3', 'c'), ('PEXPIREAT', 'z', far + 1),
          ('HSET', 'h', 'f1', 'v1', 'f2', '2'), ('XADD', 'x', '1-1', 'f', 'v'),
          ('XADD', 'x', '2-1', 'g', 'w'), ('XGROUP', 'CREATE', 'x', 'grp', '0'),
          ('XREADGROUP', 'GROUP', 'grp', 'alice', 'COUNT', '1', 'STREAMS', 'x', '>'),
          ('SADD', 'big', *range(300)), ('RPUSH', 'biglist', *range(200))]:
    r(*c)
"

start_redsink rs "$m_PORT" "$db"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "keys of every type mirrored"

# MOVE: to db 1 (TTL travels), onto an existing key (refused), missing key
py "
for c in [('MOVE', 's', 1), ('MOVE', 'z', 1), ('MOVE', 'x', 1), ('SELECT', 1), ('SET', 'l', 'there'),
          ('SELECT', 0), ('MOVE', 'l', 1), ('MOVE', 'nothere', 1)]:
    r(*c)
"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "MOVE between dbs (TTL travels, existing destination wins)"

# COPY: same db, other db, REPLACE over other types, stream with its group
py "
for c in [('COPY', 'l', 'l2'), ('COPY', 'st', 'h', 'REPLACE'), ('COPY', 'big', 'big2', 'DB', 2),
          ('COPY', 'h', 'l', 'DB', 1), ('COPY', 'h', 'l', 'DB', 1, 'REPLACE'), ('SELECT', 1),
          ('COPY', 'x', 'x2'), ('COPY', 'z', 'z2', 'DB', 0), ('COPY', 's', 'biglist', 'DB', 0, 'REPLACE'),
          ('SELECT', 0)]:
    r(*c)
"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "COPY (REPLACE, DB n, every type, TTLs)"
g=$(gen)
n=$(sql "SELECT count(*) FROM g${g}_sgroup s JOIN g${g}_keys k ON k.id = s.kid WHERE k.key = 'x2' AND k.db = 1")
p=$(sql "SELECT count(*) FROM g${g}_spel s JOIN g${g}_keys k ON k.id = s.kid WHERE k.key = 'x2' AND k.db = 1")
c=$(sql "SELECT count(*) FROM g${g}_scons s JOIN g${g}_keys k ON k.id = s.kid WHERE k.key = 'x2' AND k.db = 1")
m=$(sql "SELECT entries_added FROM g${g}_smeta s JOIN g${g}_keys k ON k.id = s.kid WHERE k.key = 'x2' AND k.db = 1")
if [ "$n/$p/$c/$m" = "1/1/1/2" ]; then ok "COPY of a stream copies its group, PEL, consumer and metadata"
else fail "COPY of a stream: group/pel/consumer/entries_added = $n/$p/$c/$m, want 1/1/1/2"; fi

# SWAPDB
py "r('SWAPDB', 0, 1); r('SWAPDB', 2, 0); r('SWAPDB', 1, 1); r('SWAPDB', 3, 2)"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "SWAPDB (keys with the same names in both dbs, same db, empty db)"

# RESTORE of a DUMP of every type: new names, REPLACE over other types,
# relative TTL (7.x propagates it absolute + ABSTTL), ABSTTL, TTL 0
py "
import time
r('HSET', 'hh', 'f', 'v', 'n', '12', b'\xfe', '')
dumps = []
for d in range(4):
    r('SELECT', d)
    dumps += [(b'%d:' % d + k, r('DUMP', k), r('TYPE', k)) for k in sorted(r('KEYS', '*'))]
assert {t for _, _, t in dumps} == {'string', 'list', 'set', 'zset', 'hash', 'stream'}, dumps
r('SELECT', 4)
far = int(time.time() * 1000) + 10**8
for i, (k, d, t) in enumerate(dumps):
    r('RESTORE', b'r:' + k, 0, d)
    r('RESTORE', b'r:' + k, 5000000, d, 'REPLACE')
    r('RESTORE', b'a:' + k, far + i, d, 'ABSTTL')
    r('RESTORE', b'i:' + k, 0, d, 'IDLETIME', 10, 'REPLACE')
    r('RESTORE', b'f:' + k, 0, d, 'FREQ', 5, 'REPLACE')
    r('RESTORE', b'i:' + dumps[(i + 1) % len(dumps)][0], 0, d, 'REPLACE')
try:
    r('RESTORE', b'r:' + dumps[0][0], 0, dumps[1][1])
except Exception as e:
    assert 'BUSYKEY' in str(e), e
r('SELECT', 0)
"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "RESTORE of every type (REPLACE, ABSTTL, relative TTL, IDLETIME, FREQ)"
n=$(sql "SELECT count(*) FROM redis_keys WHERE db = 4 AND key GLOB 'r:*' AND expire_at IS NULL")
[ "$n" = "0" ] && ok "RESTORE ... REPLACE with a TTL replaced the TTL-less copies" || fail "RESTORE TTLs: $n"
if grep -q 'bad DUMP payload' "$TMP/rs.log"; then fail "a good payload was refused"; grep 'bad DUMP' "$TMP/rs.log" | head -3; fi

# SORT that needs no element reads: missing source deletes the destination
py "r('SET', 'dst', 'old'); r('SORT', 'nosuchlist', 'STORE', 'dst'); r('SET', 'dst2', 'keep');
r('SORT', 'nosuch', 'LIMIT', 0, 5, 'DESC', 'ALPHA', 'STORE', 'dst2')"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "SORT of a missing key deletes the STORE key"

# SORT ... STORE on lists, sets and sorted sets, with BY and GET patterns
py "
for c in [('DEL', 'n', 'w'), ('RPUSH', 'n', '3', '1', '10', '2', '-5', ' 7', '0x10', '1e1', '2'),
          ('RPUSH', 'w', 'b', 'a', 'B', '', 'aa', '10', '9', b'\xff', b'a\x00'),
          ('MSET', 'wt_3', '30', 'wt_1', '10', 'wt_10', '-1', 'wt_2', '20'),
          ('HSET', 'hw_3', 'f', 'c', 'g', 'x'), ('HSET', 'hw_1', 'f', 'a'),
          ('SORT', 'n', 'STORE', 's1'), ('SORT', 'n', 'DESC', 'STORE', 's2'),
          ('SORT', 'n', 'LIMIT', 2, 3, 'STORE', 's3'), ('SORT', 'w', 'ALPHA', 'STORE', 's4'),
          ('SORT', 'w', 'ALPHA', 'DESC', 'LIMIT', 1, -1, 'STORE', 's5'),
          ('SORT', 'n', 'BY', 'nosort', 'DESC', 'LIMIT', 1, 3, 'STORE', 's6'),
          ('SORT', 'n', 'BY', 'wt_*', 'GET', '#', 'GET', 'hw_*->f', 'GET', 'nostar', 'STORE', 's7'),
          ('SORT', 'n', 'BY', 'hw_*->g', 'ALPHA', 'GET', 'wt_*', 'STORE', 's8'),
          ('SORT', 'st', 'BY', 'nosort', 'STORE', 's9'), ('SORT', 'z', 'DESC', 'ALPHA', 'STORE', 's10'),
          ('SORT', 'n', 'LIMIT', 20, 5, 'STORE', 's1')]:
    try:
        r(*c)
    except Exception as e:
        print('#', c[:3], e)
"
if wait_mirror "$m_PORT"; then
    compare_mirror "$m_PORT" "$db" "SORT ... STORE (numeric, ALPHA, DESC, LIMIT, BY, GET, nosort)"
else
    fail "SORT ... STORE: redsink stopped"; tail -3 "$TMP/rs.log"
fi
finish
