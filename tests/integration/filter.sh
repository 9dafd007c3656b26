#!/usr/bin/env bash
# Filters: --db 0 --db 2 --include 'user:*' --exclude 'user:tmp:*'. Keys of
# every type across four dbs before redsink starts (the loader skips the
# filtered ones), then writes on kept and filtered keys: MSET, MULTI,
# RENAME, MOVE, COPY, LMOVE, SMOVE, *STORE, SWAPDB and FLUSHDB between kept
# and filtered keys and dbs. After WAIT the mirror holds exactly the
# master's kept keys (compare.py compare-redis --filter).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

start_redis m
db="$TMP/mirror.db"
FILTER=(--db 0 --db 2 --include 'user:*' --exclude 'user:tmp:*')

py() {
    python3 -c "import sys; sys.path.insert(0, '$top_srcdir/tests/lib')
from compare import Redis
r = Redis('127.0.0.1', $m_PORT)
$1" || fail "python driver failed"
}
sql() { python3 -c "import sqlite3, sys; c = sqlite3.connect('file:$db?mode=ro', uri=True)
print(c.execute(sys.argv[1]).fetchone()[0])" "$1"; }
check() {  # check LABEL: the mirror holds exactly the master's kept keys
    if ! wait_mirror "$m_PORT"; then
        fail "$1: redsink stopped"; tail -5 "$TMP/rs.log"; return
    fi
    if $COMPARE compare-redis 127.0.0.1 "$m_PORT" "$db" --filter "${FILTER[@]}"; then
        ok "$1"
    else
        fail "$1"
    fi
}

# every type under kept, excluded and not-included names, in dbs 0..3
py "
far = 4102444800000
for d in range(4):
    r('SELECT', d)
    for p in ['user:', 'user:tmp:', 'other:', b'user:\xff', 'USER:']:
        k = lambda s: (p.encode() if isinstance(p, str) else p) + s.encode()
        for c in [('SET', k('s'), 'v%d' % d), ('PEXPIREAT', k('s'), far),
                  ('RPUSH', k('l'), 'a', 'b', 'c', 'd'), ('SADD', k('st'), 'x', 'y', 'z'),
                  ('ZADD', k('z'), 1, 'a', 2, 'b'), ('HSET', k('h'), 'f', 'v', 'g', 'w'),
                  ('XADD', k('x'), '1-1', 'f', 'v'), ('XGROUP', 'CREATE', k('x'), 'grp', '0'),
                  ('SET', k('n'), 10)]:
            r(*c)
r('SELECT', 0)
"
start_redsink rs "$m_PORT" "$db" "${FILTER[@]}"
check "full sync: only the kept keys are loaded"
n=$(sql "SELECT count(*) FROM redis_keys WHERE db IN (1, 3) OR hex(key) NOT LIKE hex('user:') || '%'
         OR hex(key) LIKE hex('user:tmp:') || '%'")
[ "$n" = 0 ] && ok "no filtered key in the mirror after the load" || fail "$n filtered keys loaded"

# single-key writes and MSET/MULTI mixing kept and filtered keys
py "
for c in [('SET', 'user:new', 1), ('SET', 'other:new', 2), ('HSET', 'user:tmp:h', 'f', 'x'),
          ('INCR', 'user:n'), ('INCR', 'user:tmp:n'), ('APPEND', 'other:s', 'x'),
          ('MSET', 'user:m1', 'a', 'other:m', 'b', 'user:tmp:m', 'c', 'user:m2', 'd'),
          ('MSETNX', 'user:tmp:nx', 'a', 'user:nx', 'b'), ('MSET', 'other:only', 'x'),
          ('SELECT', 1), ('SET', 'user:indb1', 'x'), ('RPUSH', 'user:l', 'e'),
          ('SELECT', 2), ('SADD', 'user:st', 'w'), ('DEL', 'user:tmp:s', 'user:h'), ('SELECT', 0)]:
    r(*c)
r.pipeline([('MULTI',), ('SET', 'user:t1', 1), ('SET', 'other:t', 2), ('INCR', 'user:tmp:c'),
            ('LPUSH', 'user:l', 'm'), ('EXEC',)])
"
check "single-key writes, MSET, MSETNX, MULTI on kept and filtered keys"

# two-key commands between kept and filtered keys and dbs
py "
for c in [('RENAME', 'user:s', 'user:tmp:s2'),           # kept -> excluded: source deleted
          ('RENAME', 'user:tmp:l', 'user:tmp:l2'),       # filtered -> filtered
          ('RENAME', 'user:st', 'user:st2'),             # kept -> kept
          ('RENAMENX', 'user:n', 'other:n2'),            # kept -> not included
          ('RENAME', 'other:l', 'other:l2'),
          ('MOVE', 'user:h', 1),                         # kept db -> filtered db
          ('MOVE', 'user:z', 2),                         # kept db -> kept db
          ('MOVE', 'other:h', 2), ('MOVE', 'user:tmp:h', 2),
          ('LMOVE', 'user:l', 'user:tmp:l2', 'LEFT', 'RIGHT'),   # pop only
          ('RPOPLPUSH', 'user:l', 'other:l2'), ('LMOVE', 'user:l', 'user:l3', 'RIGHT', 'LEFT'),
          ('SMOVE', 'user:st2', 'user:tmp:st', 'x'),     # srem only
          ('SMOVE', 'user:st2', 'user:st3', 'y'),
          ('COPY', 'user:x', 'user:tmp:x'), ('COPY', 'user:x', 'user:x2', 'DB', 2),
          ('COPY', 'user:x', 'user:x3', 'DB', 1), ('COPY', 'user:new', 'user:new', 'DB', 3),
          ('SUNIONSTORE', 'user:tmp:u', 'user:st3'), ('SUNIONSTORE', 'user:u', 'user:st3'),
          ('ZUNIONSTORE', 'other:zu', 1, 'user:z2'), ('SELECT', 2),
          ('ZINTERSTORE', 'user:zi', 1, 'user:z'), ('BITOP', 'OR', 'user:tmp:b', 'user:s'),
          ('BITOP', 'OR', 'user:b', 'user:s'), ('SORT', 'user:l', 'ALPHA', 'STORE', 'user:tmp:sorted'),
          ('SORT', 'user:l', 'ALPHA', 'STORE', 'user:sorted'),
          ('SELECT', 1), ('FLUSHDB',), ('SET', 'user:b1', 1), ('SWAPDB', 1, 3),
          ('SELECT', 0), ('SWAPDB', 0, 2)]:
    r(*c)
"
check "RENAME, MOVE, COPY, LMOVE, SMOVE, *STORE, FLUSHDB, SWAPDB across filters"
grep -q "brought data from a filtered" "$TMP/rs.log" &&
    fail "no command above brings filtered data into a kept key, but one was logged" ||
    ok "nothing logged as lossy"

# SWAPDB of a kept db with a filtered one: the kept db is emptied, logged
py "r('SWAPDB', 2, 3)"
if wait_mirror "$m_PORT"; then
    n=$(sql "SELECT count(*) FROM redis_keys WHERE db = 2")
    [ "$n" = 0 ] && ok "SWAPDB kept <-> filtered db empties the kept db" || fail "db 2 has $n keys"
    grep -q "brought data from a filtered" "$TMP/rs.log" && ok "the loss is logged" ||
        fail "SWAPDB with a filtered db not logged"
else
    fail "SWAPDB 2 3: redsink stopped"
fi
finish
