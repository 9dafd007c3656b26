#!/usr/bin/env bash
# Lists on a real master: what its blocking commands propagate when they
# are served later (LPOP/RPOP with a count, RPOPLPUSH, LMOVE with
# lower-case left/right), LMOVE/RPOPLPUSH rotations and TTLs, and a seeded
# random walk over long lists (LINSERT, LREM, LSET, LTRIM in the middle).
# The mirror must equal the master after each part.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

start_redis m
db="$TMP/mirror.db"
start_redsink rs "$m_PORT" "$db"
wait_mirror "$m_PORT" || { fail "initial sync"; finish; }

part() {  # part NAME: run the python part NAME on the master, then compare
    if ! python3 - "$top_srcdir/tests/lib" "$m_PORT" "$1" >"$TMP/$1.out" 2>&1 <<'PY'
import random, sys, threading, time
sys.path.insert(0, sys.argv[1])
from compare import Redis

port, name = int(sys.argv[2]), sys.argv[3]
r = Redis("127.0.0.1", port)

def served_later(*cmd, push):
    """Block 'cmd' on a second connection, then serve it with 'push'."""
    out = []
    t = threading.Thread(target=lambda: out.append(Redis("127.0.0.1", port)(*cmd)))
    t.start()
    for _ in range(400):
        if "blocked_clients:1" in r("INFO", "clients").decode():
            break
        time.sleep(0.01)
    else:
        raise SystemExit("%s did not block" % cmd[0])
    r(*push)
    t.join(10)
    if not out:
        raise SystemExit("%s was not served" % cmd[0])

if name == "blocking":
    served_later("BLMOVE", "src1", "dst1", "LEFT", "RIGHT", "5", push=("RPUSH", "src1", "a", "b"))
    r("DEL", "src1")
    served_later("BLMOVE", "src1", "dst1", "RIGHT", "LEFT", "5", push=("RPUSH", "src1", "c"))
    served_later("BRPOPLPUSH", "src2", "dst2", "5", push=("LPUSH", "src2", "x", "y"))
    served_later("BLPOP", "none", "src3", "5", push=("RPUSH", "src3", "1", "2", "3"))
    served_later("BRPOP", "src4", "5", push=("RPUSH", "src4", "1", "2", "3"))
    served_later("BLMPOP", "5", "2", "src5", "src6", "RIGHT", "COUNT", "2",
                 push=("RPUSH", "src6", "1", "2", "3"))
    # served at once (rewritten by the master too)
    r("RPUSH", "now", *"abcdef")
    r("BLPOP", "now", "1"); r("BRPOP", "now", "1"); r("LMPOP", "1", "now", "LEFT", "COUNT", "2")
    r("BLMOVE", "now", "now", "left", "right", "1"); r("BRPOPLPUSH", "now", "now2", "1")
elif name == "moves":
    r("RPUSH", "m", "a", "b", "c"); r("PEXPIREAT", "m", int(time.time() * 1000) + 3600_000)
    for frm in ("LEFT", "RIGHT"):
        for to in ("LEFT", "RIGHT"):
            r("LMOVE", "m", "m", frm, to)
    r("LMOVE", "m", "fresh", "LEFT", "RIGHT")          # a new destination has no TTL
    r("RPUSH", "one", "x"); r("RPOPLPUSH", "one", "one"); r("LMOVE", "one", "one", "LEFT", "LEFT")
    r("RPUSH", "gone", "y"); r("RPOPLPUSH", "gone", "m")
    r("SET", "str", "v")
    r.pipeline([("LMOVE", "m", "str", "LEFT", "LEFT")])  # WRONGTYPE (a reply, not raised): no pop
    r("LPUSH", "m", "p"); r("RPOP", "m", 2); r("LPOP", "m", 0)
    r("RPUSH", "t", *"12345"); r("LTRIM", "t", 1, -2); r("LTRIM", "t", -1, 0)
    r("RPUSH", "b", b"\x00\xff", b"", b"a\x00b"); r("LREM", "b", 0, b""); r("LINSERT", "b", "AFTER", b"a\x00b", b"\xfe")
elif name == "walk":
    rng = random.Random(7)
    keys, vals = ["w0", "w1"], ["a", "b", "c", "d", b"\xff", ""]
    for k in keys:
        r("RPUSH", k, *[rng.choice(vals) for _ in range(600)])
    cmds = []
    for _ in range(3000):
        k, k2 = rng.choice(keys), rng.choice(keys)
        v = rng.choice(vals + ["N", "M"])
        cmds.append(rng.choice([
            ("LPUSH", k, v, v), ("RPUSH", k, v), ("LPOP", k, rng.randrange(0, 4)), ("RPOP", k),
            ("LINSERT", k, rng.choice(["BEFORE", "AFTER"]), rng.choice(vals + ["N", "M"]), rng.choice(["N", "M"])),
            ("LSET", k, rng.randrange(-700, 700), v), ("LREM", k, rng.randrange(-3, 4), v),
            ("LTRIM", k, rng.randrange(0, 3), rng.randrange(-3, 800)),
            ("LMOVE", k, k2, rng.choice(["LEFT", "RIGHT"]), rng.choice(["LEFT", "RIGHT"])),
            ("RPOPLPUSH", k, k2)]))
    for i in range(0, len(cmds), 200):
        r.pipeline(cmds[i:i + 200])
PY
    then
        fail "$1: workload: $(tail -3 "$TMP/$1.out")"; return
    fi
    if wait_mirror "$m_PORT" && $COMPARE compare-redis 127.0.0.1 "$m_PORT" "$db" >"$TMP/$1.diff" 2>&1; then
        ok "$1: mirror equals the master"
    else
        fail "$1: mirror differs from the master"; head -20 "$TMP/$1.diff"
    fi
}

part blocking
part moves
part walk
if grep -q "unknown command '" "$TMP/rs.log"; then
    fail "commands redsink did not apply: $(grep -o "unknown command '[^']*'" "$TMP/rs.log" | sort -u | tr '\n' ' ')"
fi
finish
