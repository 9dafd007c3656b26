#!/usr/bin/env bash
# The string commands that edit values in place must leave the mirror
# byte-identical to the master: HyperLogLog values (sparse runs split and
# merged, promotion to dense at hll-sparse-max-bytes or a register > 32,
# PFMERGE of sparse/dense mixes, the cardinality PFCOUNT caches in the
# header, PFDEBUG TODENSE, hand-made sparse layouts), SETRANGE, SETBIT,
# BITOP and BITFIELD edge cases, and the TTL each keeps or clears.
# The INCR family at the 64-bit limits, on values SET, SETRANGE and APPEND
# made, then pipelined: many increments of a key or a hash field in one of
# the mirror's transactions, made late as one sum, near both limits. Then INCRBYFLOAT and GETEX as a fake master sends them verbatim (real
# masters rewrite them), checked against a real server given the same
# commands as a client.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

cat > "$TMP/load.py" <<'EOF'
import random, sys
sys.path.insert(0, sys.argv[1] + "/tests/lib")
from compare import Redis, RedisError

r = Redis("127.0.0.1", sys.argv[2])
rng = random.Random(11)
FAR = 99999999999999
errors = []

def c(*args):
    try:
        return r(*args)
    except RedisError as e:
        errors.append("%r: %s" % (args[:3], e))

def expect(what, got, want):
    if got != want:
        errors.append("%s: got %r, want %r" % (what, got, want))

def enc(k):
    return c("PFDEBUG", "ENCODING", k)

def sparse(ops, card=b"\x00" * 7 + b"\x80"):
    return b"HYLL\x01\x00\x00\x00" + card + bytes(ops)

def val(v, n):
    return 0x80 | ((v - 1) << 2) | (n - 1)

# ---- HyperLogLog: growth from sparse to dense, PFCOUNT caches on the way
for i in range(0, 2500, 25):
    c("PFADD", "grow", *["e%d" % j for j in range(i, i + 25)])
    if i % 100 == 0:
        c("PFCOUNT", "grow")
    if i == 200:
        expect("grow after 225 elements", enc("grow"), "sparse")
expect("grow after 2500 elements", enc("grow"), "dense")
c("PFCOUNT", "grow")
c("PFADD", "grow", "more", "and-more")          # a dense PFADD
c("PFCOUNT", "grow")
c("PFCOUNT", "grow")                             # cache valid: not sent
c("PFADD", "small", "a", "b", "c")
c("PFCOUNT", "small")
c("PFADD", "small", "a")                         # no register changed
c("PFADD", "empty")                              # creates an empty HLL
c("PFADD", "ttl", "x")
c("PEXPIREAT", "ttl", FAR)
c("PFADD", "ttl", "y", "z")                      # TTL kept
c("PFCOUNT", "ttl")
c("PFCOUNT", "small", "grow", "nokey")           # several keys: nothing
c("PFADD", b"bin\x00\xff", b"\x00", b"\xff" * 40, b"")

# ---- PFMERGE: sparse+sparse stays sparse, any dense source makes it dense
c("PFADD", "s1", *["a%d" % j for j in range(100)])
c("PFADD", "s2", *["b%d" % j for j in range(150)])
c("PFMERGE", "m_ss", "s1", "s2")
expect("sparse+sparse merge", enc("m_ss"), "sparse")
c("PFMERGE", "m_sd", "s1", "grow")
expect("sparse+dense merge", enc("m_sd"), "dense")
c("PFMERGE", "s1", "s2")                         # dest is a source too
c("PFMERGE", "m_none", "nokey1", "nokey2")
c("PFMERGE", "m_only")
c("PFADD", "s3", *["c%d" % j for j in range(1100)])
c("PFADD", "s4", *["d%d" % j for j in range(1100)])
expect("1100 elements", (enc("s3"), enc("s4")), ("sparse", "sparse"))
c("PFMERGE", "m_big", "s3", "s4")                # promoted while merging
expect("union over hll-sparse-max-bytes", enc("m_big"), "dense")
c("SET", "m_ttl", "x")
c("DEL", "m_ttl")
c("PFADD", "m_ttl", "q")
c("PEXPIREAT", "m_ttl", FAR)
c("PFMERGE", "m_ttl", "s2", "m_sd")              # TTL kept, now dense
for k in ("s1", "m_ss", "m_sd", "m_none", "m_only", "m_big", "m_ttl"):
    c("PFCOUNT", k)
c("PFADD", "td", "1", "2", "3")
c("PFDEBUG", "TODENSE", "td")
c("PFDEBUG", "TODENSE", "td")                    # already dense: not sent
c("PFADD", "gr", "1")
c("PFDEBUG", "GETREG", "gr")

# ---- a register above 32 cannot be sparse: promotion on PFADD
BIG = sys.argv[3]
if BIG:
    big = b"big" + int(BIG).to_bytes(4, "little")
    c("PFADD", "over32", "x", big)
    expect("register > 32", enc("over32"), "dense")

# ---- hand-made sparse layouts a master would not build itself
c("SET", "hc_zero", sparse([0x3f] * 256))                           # 256 x ZERO(64)
c("PFADD", "hc_zero", *["z%d" % j for j in range(300)])
c("SET", "hc_val", sparse([val(1, 4)] * 4096))                      # 4096 bytes of VAL
c("PFADD", "hc_val", *["v%d" % j for j in range(50)])
ops, left = [], 16384
while left > 0:
    kind = rng.randrange(4)
    if kind == 0:
        n = min(left, rng.randrange(1, 65)); ops.append(n - 1)
    elif kind == 1:
        n = min(left, rng.randrange(1, 400)); ops += [0x40 | ((n - 1) >> 8), (n - 1) & 0xff]
    else:
        n = min(left, rng.randrange(1, 5)); ops.append(val(rng.choice([1, 1, 2, 3, 32]), n))
    left -= n
c("SET", "hc_mix", sparse(ops))
c("SET", "hc_mix2", sparse(ops, b"\x05" + b"\x00" * 7))             # valid cache
c("PFCOUNT", "hc_mix2")                                             # not sent
c("PFADD", "hc_mix", *["w%d" % j for j in range(200)])
c("PFMERGE", "m_mix", "hc_mix", "s2")
c("PFMERGE", "hc_mix2", "s1")
for k in ("hc_zero", "hc_val", "hc_mix", "m_mix", "hc_mix2"):
    c("PFCOUNT", k)
c("SET", "nothll", "plain")
r.pipeline([("PFADD", "nothll", "x")])          # refused by the master too

# ---- SETRANGE
c("SETRANGE", "sr1", 5, "abc")
c("SETRANGE", "sr2", 0, "")                      # missing + empty: no key
c("SETRANGE", "sr1", 1, "")
c("SET", "sr3", "hello world", "PXAT", FAR)
c("SETRANGE", "sr3", 6, "Redis")
c("SET", "sr4", 12345)
c("SETRANGE", "sr4", 2, "x")
c("SETRANGE", "sr5", 100, b"\x00\xff")
c("SETRANGE", "sr3", 20, "tail")

# ---- SETBIT
c("SETBIT", "sb1", 0, 1); c("SETBIT", "sb1", 7, 1)
c("SETBIT", "sb2", 100, 1); c("SETBIT", "sb2", 100, 0)
c("SETBIT", "sb3", 9, 0)
c("SET", "sb4", "a", "PXAT", FAR)
c("SETBIT", "sb4", 15, 1)
c("SET", "sb5", 7)
c("SETBIT", "sb5", 2, 1)

# ---- BITOP
l1 = bytes(rng.randrange(256) for _ in range(100))
l2 = bytes(rng.randrange(256) for _ in range(77))
c("MSET", "a1", b"\xff\x0f\x00abc", "a2", b"\x0f", "l1", l1, "l2", l2)
c("BITOP", "AND", "d1", "a1", "a2", "nokey")
c("BITOP", "OR", "d2", "a1", "a2")
c("BITOP", "XOR", "d3", "a1", "a2", "a1")
c("BITOP", "NOT", "d4", "a1")
c("RPUSH", "d5", "x")
c("BITOP", "AND", "d5", "nokey", "nokey2")       # empty: deletes the list
c("SET", "d6", "x", "PXAT", FAR)
c("BITOP", "OR", "d6", "a1")                     # TTL cleared
c("BITOP", "xor", "a2", "a2", "a1")              # dest is a source
for op in ("AND", "OR", "XOR"):
    c("BITOP", op, "lo_" + op, "l1", "l2", "l1")
c("BITOP", "NOT", "lo_NOT", "l1")

# ---- BITFIELD
c("BITFIELD", "bf1", "SET", "i64", 3, -1234567890123, "SET", "u63", 70, (1 << 62) + 5)
c("BITFIELD", "bf1", "INCRBY", "i5", 100, 30, "OVERFLOW", "SAT", "INCRBY", "i5", 105, 30)
c("BITFIELD", "bf1", "OVERFLOW", "SAT", "SET", "u8", "#3", -5, "SET", "i8", "#0", -(1 << 63))
c("BITFIELD", "bf1", "OVERFLOW", "WRAP", "INCRBY", "u4", 0, -1, "GET", "u4", 0)
c("BITFIELD", "bf1", "SET", "u8", "#30", 9, "OVERFLOW", "FAIL", "INCRBY", "u4", 0, 100)
c("BITFIELD", "bf2", "GET", "u8", 0)             # read-only: no key
c("BITFIELD", "bf3", "SET", "u1", 1000, 1)
c("BITFIELD", "bf4", "SET", "i64", 0, (1 << 63) - 1, "INCRBY", "i64", 0, 1)
c("BITFIELD", "bf5", "SET", "i64", 0, (1 << 63) - 1, "OVERFLOW", "SAT", "INCRBY", "i64", 0, 1)
c("BITFIELD", "bf5", "OVERFLOW", "SAT", "INCRBY", "i64", 64, -(1 << 63), "INCRBY", "i64", 64, -1)
c("BITFIELD", "bf6", "SET", "u63", 1, (1 << 63) - 1, "INCRBY", "u63", 1, 1, "INCRBY", "u17", 64, -3)
c("SET", "bf7", "abc", "PXAT", FAR)
c("BITFIELD", "bf7", "INCRBY", "u2", 100, 1)     # TTL kept
c("BITFIELD", "bf8", "OVERFLOW", "SAT", "SET", "i3", 5, 100, "OVERFLOW", "WRAP", "SET", "i3", 9, -100)

# INCR family at the 64-bit limits (the mirror sums in one UPDATE), on
# values made by SET, SETRANGE and APPEND, with a TTL kept; the refused
# ones are not propagated and must leave the mirror as the master
def refused(*args):
    try:
        r(*args)
        errors.append("%r: accepted" % (args,))
    except RedisError:
        pass

L = (1 << 63) - 1
for k, v in [("n0", "0"), ("n1", "-1"), ("n2", L - 1), ("n3", -L - 1), ("n4", -L),
             ("n5", 100), ("n6", 100), ("n7", 0), ("n8", -1), ("n9", 1), ("n10", "01")]:
    c("SET", k, v)
c("INCR", "n0"); c("DECR", "n1"); c("INCR", "n2"); refused("INCR", "n2")
c("INCRBY", "n3", 5); c("DECR", "n4"); refused("DECR", "n4")
c("INCRBY", "n5", L - 100); refused("INCRBY", "n5", 1); refused("INCRBY", "n6", L - 99)
c("DECRBY", "n6", L); c("INCRBY", "n7", -L - 1); refused("INCRBY", "n8", -L - 1)
c("INCRBY", "n9", -L - 1); refused("INCR", "n10"); refused("DECRBY", "n9", -L - 1)
c("SETRANGE", "n11", 0, "41"); c("INCR", "n11")
c("APPEND", "n12", "-1"); c("APPEND", "n12", "2"); c("INCRBY", "n12", 20)
c("SET", "n13", 7, "PX", FAR); c("INCR", "n13")
expect("INCR n2", c("GET", "n2"), str(L).encode())
expect("INCRBY n12", c("GET", "n12"), b"8")

# The same family pipelined, so that one transaction of the mirror gets many
# increments of a key or a hash field (made late, as one sum checked at the
# write-out): near both limits and back, some refused by the master, with
# SET, APPEND, DEL, RENAME, EXPIRE, HSET and HDEL among them.
cmds = []
for i in range(12):
    cmds.append(("SET", "p%d" % i, L - 40 if i % 2 else -L + 39))
    cmds.append(("HSET", "ph", "f%d" % i, L - 40 if i % 2 else -L + 39))
for n in range(3000):
    i = rng.randrange(12)
    k, f = "p%d" % i, "f%d" % i
    x = rng.random()
    if x < 0.40:
        cmds.append(("INCRBY", k, rng.choice([1, 2, 3, -1, -2, -3, 7, -7])))
    elif x < 0.80:
        cmds.append(("HINCRBY", "ph", f, rng.choice([1, 2, 3, -1, -2, -3, 7, -7])))
    elif x < 0.83:
        cmds.append(("SET", k, rng.choice([L - 5, -L + 4, 0, "abc"])))
    elif x < 0.85:
        cmds.append(("APPEND", k, "1"))
    elif x < 0.87:
        cmds.append(("DEL", k))
    elif x < 0.89:
        cmds.append(("RENAME", k, "p%d" % rng.randrange(12)))
    elif x < 0.91:
        cmds.append(("PEXPIREAT", k, FAR))
    elif x < 0.94:
        cmds.append(("HSET", "ph", f, rng.choice([L - 5, -L + 4, 0, "x"])))
    elif x < 0.96:
        cmds.append(("HDEL", "ph", f))
    else:
        cmds.append(("INCR", "q%d" % rng.randrange(300)))
replies = r.pipeline(cmds)
refused_n = sum(1 for x in replies if isinstance(x, RedisError))
if refused_n < 50:
    errors.append("pipelined increments: only %d refused by the master" % refused_n)

if errors:
    print("\n".join(errors))
    sys.exit(1)
EOF

# REDSINK_HLL_BIG=N: the element b"big" + N as 4 bytes little endian hashes
# to a run > 32 (about one in 2^32; none is known yet, so off by default)
big=${REDSINK_HLL_BIG:-}
for diskless in no yes; do
    name="m_$diskless"
    start_redis "$name" --repl-diskless-sync "$diskless" --repl-diskless-sync-delay 0
    eval "port=\$${name}_PORT"
    rcli "$port" pfadd before:sync a b c >/dev/null
    db="$TMP/mirror-$diskless.db"
    start_redsink "rs_$diskless" "$port" "$db"
    wait_mirror "$port" || { fail "diskless=$diskless: initial sync"; continue; }
    if python3 "$TMP/load.py" "$top_srcdir" "$port" "$big"; then
        ok "diskless=$diskless: the master reached every encoding the test needs"
    else
        fail "diskless=$diskless: workload"
    fi
    wait_mirror "$port" || fail "diskless=$diskless: WAIT"
    compare_mirror "$port" "$db" "diskless=$diskless: HLL, SETRANGE, SETBIT, BITOP, BITFIELD bytes and TTLs equal the master's"
    if grep -q "unknown command '" "$TMP/rs_$diskless.log"; then
        fail "diskless=$diskless: unapplied commands: $(grep -o "unknown command '[^']*'" "$TMP/rs_$diskless.log" | sort -u | tr '\n' ' ')"
    fi
done

# ---- verbatim INCRBYFLOAT and GETEX from a fake master, checked against a
# real server that ran the same commands as a client
start_redis ref
rcli "$ref_PORT" save >/dev/null
python3 - "$top_srcdir" "$ref_PORT" "$TMP/stream.resp" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1] + "/tests/lib")
from compare import Redis
FAR = 99999999999999
cmds = [("SELECT", 0), ("SET", "f1", "10.5"), ("INCRBYFLOAT", "f1", "0.1"),
        ("INCRBYFLOAT", "f2", "5.0e3"), ("SET", "f3", "0x10"), ("INCRBYFLOAT", "f3", "1"),
        ("INCRBYFLOAT", "f4", "-0"), ("INCRBYFLOAT", "f5", "1e-20"), ("INCRBYFLOAT", "f5", "3"),
        ("SET", "f6", "abc"), ("INCRBYFLOAT", "f6", "1"), ("INCRBYFLOAT", "f7", " 1"),
        ("SET", "f8", "1", "PXAT", FAR), ("INCRBYFLOAT", "f8", "2.0000000000000000001"),
        ("INCRBYFLOAT", "f9", "-1.5e300"), ("INCRBYFLOAT", "f9", "-1.5e300"),
        ("INCRBYFLOAT", "f10", "123456789012345678"), ("INCRBYFLOAT", "f11", "0.3"), ("INCRBYFLOAT", "f11", "-0.1"),
        ("SET", "g1", "v", "PXAT", FAR), ("GETEX", "g1", "PERSIST"), ("SET", "g2", "v"),
        ("GETEX", "g2", "PXAT", FAR - 1000), ("GETEX", "g3", "EXAT", 9999999999),
        ("SET", "g4", "v"), ("GETEX", "g4", "exat", 9999999999), ("GETEX", "g4"),
        ("SET", "g5", "v"), ("GETEX", "g5", "PERSIST"), ("GETEX", "g4", "PXAT", 5, "EXAT", 5),
        ("SETRANGE", "g5", 3, "zz")]
r = Redis("127.0.0.1", sys.argv[2])
r.pipeline(cmds)
with open(sys.argv[3], "wb") as f:
    f.write(b"".join(Redis.encode(c) for c in cmds))
EOF
start_fake fm psync "$TMP/ref/dump.rdb" "$TMP/stream.resp"
db="$TMP/fake.db"
start_redsink rs_fake "$fm_PORT" "$db"
want=$(stat -c %s "$TMP/stream.resp")
applied() { [ "$(sqlite3 "$db" "SELECT offset FROM redsink_status" 2>/dev/null)" = $((100 + want)) ]; }
if poll_until 30 applied; then
    compare_mirror "$ref_PORT" "$db" "verbatim INCRBYFLOAT and GETEX: mirror equals a server that ran them"
else
    fail "verbatim stream: not applied (offset $(sqlite3 "$db" "SELECT offset FROM redsink_status" 2>&1))"
fi
finish
