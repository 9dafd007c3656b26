#!/usr/bin/env python3
"""Test tool for redsink: talk to a real Redis, compare it with the mirror.

Subcommands (all exit 0 on success, 1 on a mismatch or failure):
  compare-redis HOST PORT DB.sqlite     whole keyspace of the master vs the SQL views
  compare-expected EXPECTED.json DB.sqlite [--ignore KEY]   a fixture's expected.json vs the views
  load HOST PORT DATASET [SEED]         write a dataset (see DATASETS) to the master
  cmd HOST PORT ARG...                  run one command, print the reply
  wait HOST PORT N MS                   write a marker, then WAIT N MS; fail unless >= N

Only the standard library: a small binary-safe RESP client is below.
The views are read exactly as a user would read them; each value must be
TEXT when its bytes are valid UTF-8 and BLOB otherwise (CONTRACT.md §3).
"""
import json
import math
import os
import random
import socket
import sqlite3
import sys
import time


# --------------------------------------------------------------------------
# RESP client

class Redis:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        self.buf = b""
        # the same variable redis-cli reads: the default user's password
        if os.environ.get("REDISCLI_AUTH"):
            self("AUTH", os.environ["REDISCLI_AUTH"])

    def _fill(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("connection closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RedisError(rest.decode(errors="replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if t == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self._read() for _ in range(n)]
        raise ValueError("bad reply type %r" % t)

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, (int, float)):
                a = repr(a).encode() if isinstance(a, float) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def pipeline(self, cmds):
        self.sock.sendall(b"".join(self.encode(c) for c in cmds))
        return [self._read() for _ in cmds]

    def __call__(self, *args):
        r = self.pipeline([args])[0]
        if isinstance(r, RedisError):
            raise r
        return r


class RedisError(Exception):
    pass


# --------------------------------------------------------------------------
# Canonical model: {(db, key_bytes): (type, expire_ms_or_None, value)}
#   string: bytes; list: tuple; set: frozenset; zset: {member: float};
#   hash: {field: (value, field_expire_or_None)}; stream: tuple of (id, ((f, v), ...))

def model_from_redis(r):
    model = {}
    info = r("INFO", "keyspace").decode()
    dbs = [int(l.split(":")[0][2:]) for l in info.splitlines() if l.startswith("db")]
    for db in dbs:
        r("SELECT", db)
        cursor = b"0"
        keys = []
        while True:
            cursor, batch = r("SCAN", cursor, "COUNT", 1000)
            keys.extend(batch)
            if cursor == b"0":
                break
        for k in keys:
            t = r("TYPE", k)
            exp = r("PEXPIRETIME", k)
            exp = None if exp < 0 else exp
            if t == "string":
                v = r("GET", k)
            elif t == "list":
                v = tuple(r("LRANGE", k, 0, -1))
            elif t == "set":
                v = frozenset(r("SMEMBERS", k))
            elif t == "zset":
                flat = r("ZRANGE", k, 0, -1, "WITHSCORES")
                v = {flat[i]: float(flat[i + 1]) for i in range(0, len(flat), 2)}
            elif t == "hash":
                flat = r("HGETALL", k)
                v = {flat[i]: (flat[i + 1], None) for i in range(0, len(flat), 2)}
            elif t == "stream":
                v = tuple((e[0].decode(), tuple((e[1][i], e[1][i + 1])
                                                for i in range(0, len(e[1]), 2)))
                          for e in r("XRANGE", k, "-", "+"))
            else:
                continue
            model[(db, k)] = (t, exp, v)
    r("SELECT", 0)
    return model


def model_from_expected(path):
    model = {}
    with open(path) as f:
        data = json.load(f)
    h = bytes.fromhex
    for o in data:
        t, v = o["type"], o["value"]
        if t == "string":
            v = h(v)
        elif t == "list":
            v = tuple(h(x) for x in v)
        elif t == "set":
            v = frozenset(h(x) for x in v)
        elif t == "zset":
            v = {h(m): float(s) for m, s in v}
        elif t == "hash":
            fe = o.get("field_expire_at_ms") or {}
            v = {h(f): (h(x), fe.get(f)) for f, x in v.items()}
        elif t == "stream":
            v = tuple((i, tuple((h(a), h(b)) for a, b in pairs)) for i, pairs in v)
        model[(o["db"], h(o["key"]))] = (t, o["expire_at_ms"], v)
    return model


class ViewError(Exception):
    pass


def as_bytes(x, where):
    """A view cell back to bytes, checking the TEXT-iff-UTF-8 rule."""
    if isinstance(x, str):
        return x.encode("utf-8", "surrogatepass")
    if isinstance(x, bytes):
        try:
            x.decode("utf-8")
        except UnicodeDecodeError:
            return x
        raise ViewError("%s: valid UTF-8 %r stored as BLOB, expected TEXT" % (where, x[:40]))
    raise ViewError("%s: unexpected cell type %r" % (where, type(x)))


def model_from_sqlite(path, now_ms=None):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    con.text_factory = lambda b: b.decode("utf-8")
    model = {}
    types = {}
    for db, key, t, exp in con.execute("SELECT db, key, type, expire_at FROM redis_keys"):
        k = (db, as_bytes(key, "redis_keys.key"))
        if k in types:
            raise ViewError("redis_keys: key %r listed twice" % (k,))
        types[k] = (t, exp)
    empty = {"string": None, "list": [], "set": set(), "zset": {}, "hash": {}, "stream": {}}
    vals = {k: (empty[t].copy() if isinstance(empty[t], (list, set, dict)) else None)
            for k, (t, _) in types.items() if t in empty}

    def target(db, key, view, t):
        k = (db, as_bytes(key, view + ".key"))
        if k not in types:
            raise ViewError("%s: key %r not in redis_keys" % (view, k))
        if types[k][0] != t:
            raise ViewError("%s: key %r has type %s in redis_keys" % (view, k, types[k][0]))
        return k

    for db, key, value in con.execute("SELECT db, key, value FROM redis_strings"):
        vals[target(db, key, "redis_strings", "string")] = as_bytes(value, "redis_strings.value")
    rows = con.execute("SELECT db, key, idx, value FROM redis_lists ORDER BY db, key, idx")
    for db, key, idx, value in rows:
        k = target(db, key, "redis_lists", "list")
        if idx != len(vals[k]):
            raise ViewError("redis_lists: key %r idx %r, expected %d" % (k, idx, len(vals[k])))
        vals[k].append(as_bytes(value, "redis_lists.value"))
    for db, key, m in con.execute("SELECT db, key, member FROM redis_sets"):
        vals[target(db, key, "redis_sets", "set")].add(as_bytes(m, "redis_sets.member"))
    for db, key, m, s in con.execute("SELECT db, key, member, score FROM redis_zsets"):
        vals[target(db, key, "redis_zsets", "zset")][as_bytes(m, "redis_zsets.member")] = float(s)
    for db, key, f, v, e in con.execute("SELECT db, key, field, value, expire_at FROM redis_hashes"):
        vals[target(db, key, "redis_hashes", "hash")][as_bytes(f, "redis_hashes.field")] = \
            (as_bytes(v, "redis_hashes.value"), e)
    rows = con.execute("SELECT db, key, id, ms, seq, pos, field, value FROM redis_streams "
                       "ORDER BY db, key, ms, seq, pos")
    for db, key, i, ms, seq, pos, f, v in rows:
        k = target(db, key, "redis_streams", "stream")
        if i != "%d-%d" % (ms, seq):
            raise ViewError("redis_streams: id %r does not match ms %r seq %r" % (i, ms, seq))
        entry = vals[k].setdefault(i, [])
        if pos != len(entry):
            raise ViewError("redis_streams: %r entry %s pos %r, expected %d" % (k, i, pos, len(entry)))
        entry.append((as_bytes(f, "redis_streams.field"), as_bytes(v, "redis_streams.value")))
    for k, (t, exp) in types.items():
        v = vals.get(k)
        if t == "list":
            v = tuple(v)
        elif t == "set":
            v = frozenset(v)
        elif t == "stream":
            v = tuple((i, tuple(p)) for i, p in
                      sorted(v.items(), key=lambda e: tuple(int(x) for x in e[0].split("-"))))
        model[k] = (t, exp, v)
    status = con.execute("SELECT master_replid, offset, state, updated_at FROM redsink_status").fetchall()
    if len(status) != 1:
        raise ViewError("redsink_status has %d rows, expected 1" % len(status))
    con.close()
    return model


def show(k):
    return "db%d %r" % (k[0], k[1])


def diff(expected, actual, limit=20):
    problems = []
    for k in sorted(set(expected) | set(actual)):
        if k not in actual:
            problems.append("missing in mirror: %s (%s)" % (show(k), expected[k][0]))
        elif k not in expected:
            problems.append("extra in mirror: %s (%s)" % (show(k), actual[k][0]))
        else:
            (et, ee, ev), (at, ae, av) = expected[k], actual[k]
            if et != at:
                problems.append("%s: type %s, mirror has %s" % (show(k), et, at))
            elif ee != ae:
                problems.append("%s: expire_at %r, mirror has %r" % (show(k), ee, ae))
            elif not same_value(et, ev, av):
                problems.append("%s: %s value differs:\n    expected %s\n    mirror   %s"
                                % (show(k), et, trunc(ev), trunc(av)))
        if len(problems) >= limit:
            problems.append("...")
            break
    return problems


def same_value(t, a, b):
    if t == "zset":
        return a.keys() == b.keys() and all(
            a[m] == b[m] or (math.isnan(a[m]) and math.isnan(b[m])) for m in a)
    return a == b


def trunc(v):
    s = repr(v)
    return s if len(s) < 300 else s[:300] + "..."


def report(expected, actual, what):
    problems = diff(expected, actual)
    if problems:
        print("MISMATCH %s:" % what)
        for p in problems:
            print("  " + p)
        return 1
    print("ok: %s (%d keys)" % (what, len(expected)))
    return 0


# --------------------------------------------------------------------------
# Datasets written to a live master

def binary(rng, n):
    return bytes(rng.randrange(256) for _ in range(n))


def dataset_all_types(r, rng):
    """Every type and encoding: small/large collections, binary, TTLs, dbs."""
    cmds = []
    far = 4102444800000  # 2100-01-01
    for db in (0, 1, 5, 15):
        cmds.append(("SELECT", db))
        cmds.append(("SET", "db:%d:name" % db, "value in db %d" % db))
    cmds.append(("SELECT", 0))
    cmds += [
        ("SET", "", "empty key name"), ("SET", "str:empty", ""),
        ("SET", b"bin:\x00key\xff", b"\x00\x01\xfe\xff"),
        ("SET", b"\xff\xfe", "non-utf8 key"), ("SET", "utf8:\u00e9\u6f22", "\u00e9t\u00e9"),
        ("SET", "int:small", "12"), ("SET", "int:big", "9223372036854775807"),
        ("SET", "int:neg", "-2147483649"), ("SET", "int:lead0", "007"),
        ("SET", "str:long", "x" * 100000), ("SET", "str:rand", binary(rng, 5000)),
        ("SET", "ttl:str", "v", "PXAT", far + 1),
        ("RPUSH", "list:small", "a", "b", "1", "-5", ""),
        ("RPUSH", "list:large", *["elem-%d" % i for i in range(3000)]),
        ("RPUSH", "list:bigelem", "y" * 20000, "z"),
        ("RPUSH", "ttl:list", "x"), ("PEXPIREAT", "ttl:list", far + 2),
        ("SADD", "set:ints", *range(0, 100, 3)),
        ("SADD", "set:ints64", 1, 2 ** 40, -(2 ** 50)),
        ("SADD", "set:small", "a", "b", b"\x00\xff", ""),
        ("SADD", "set:large", *["m%d" % i for i in range(2000)]),
        ("ZADD", "zset:small", 1, "a", -1.5, "b", 0, "c", "inf", "d", "-inf", "e"),
        ("ZADD", "zset:large", *[x for i in range(2000) for x in (i * 0.25, "m%d" % i)]),
        ("ZADD", "zset:odd", 0.1, "p", 1e300, "q", 5e-324, "r", 2 ** 53 + 1, "s"),
        ("HSET", "hash:small", "f1", "v1", "", "empty", "n", "12", b"\xff", b"\xfe"),
        ("HSET", "hash:large", *[x for i in range(1000) for x in ("f%d" % i, "v%d" % i)]),
        ("HSET", "hash:longval", "f", "v" * 1000),
        ("HSET", "ttl:hash", "a", "b"), ("PEXPIREAT", "ttl:hash", far + 3),
        ("XADD", "stream:a", "1-1", "f", "v", "g", "w"),
        ("XADD", "stream:a", "1-2", "f", "v2"),
        ("XADD", "stream:a", "2-0", "other", "x", "", ""),
        ("XADD", "stream:a", "3-0", "f", b"\x00\xff"),
        ("XDEL", "stream:a", "1-2"),
        ("XGROUP", "CREATE", "stream:a", "g1", "0"),
        ("XGROUP", "CREATE", "stream:empty", "g", "$", "MKSTREAM"),
    ]
    for i in range(300):
        cmds.append(("XADD", "stream:large", "%d-%d" % (1000 + i, i % 3), "n", i, "s", "x" * (i % 7)))
    for i in range(2000):
        cmds.append(("SET", "k:%06d" % i, "value-%d" % rng.randrange(10 ** 9)))
    for i in range(200):
        cmds.append(("HSET", "h:%04d" % i, *[x for j in range(rng.randrange(1, 40))
                                            for x in ("f%d" % j, binary(rng, rng.randrange(0, 30)))]))
    run(r, cmds)


def dataset_stream_ops(r, rng):
    """The issue-2 command subset, with its edge cases, on colliding keys."""
    far = 4102444800000
    cmds = [
        ("SELECT", 0),
        ("SET", "s1", "a"), ("SET", "s1", "b", "XX"), ("SET", "s1", "c", "NX"),
        ("SET", "s2", "x", "NX"), ("SET", "s3", "v", "PXAT", far), ("SET", "s3", "w", "KEEPTTL"),
        ("SET", "s4", "v", "PXAT", far), ("SET", "s4", "w"),
        ("SET", "s5", "v", "EX", 100000), ("PERSIST", "s5"),
        ("SET", "s6", "old", "GET"), ("SET", "s7", "v", "PX", 5000000),
        ("SET", b"\xffbin", b"\x00"), ("DEL", "s2", "nokey"), ("UNLINK", "s1"),
        ("HSET", "h1", "a", "1", "b", "2"), ("HSET", "h1", "a", "3"), ("HDEL", "h1", "b", "zz"),
        ("HSET", "h2", "only", "1"), ("HDEL", "h2", "only"),
        ("HMSET", "h3", "x", "y"),
        ("RPUSH", "l1", "a", "b"), ("LPUSH", "l1", "c", "d"), ("RPUSH", "l1", "e"),
        ("LPUSH", "l2", "x"),
        ("SADD", "st1", "a", "b", "c"), ("SREM", "st1", "b", "zz"), ("SADD", "st2", "x"),
        ("SREM", "st2", "x"),
        ("ZADD", "z1", 1, "a", 2, "b"), ("ZADD", "z1", "XX", 5, "a", 7, "new"),
        ("ZADD", "z1", "NX", 9, "a", 3, "c"), ("ZADD", "z1", "GT", 1, "b", 4, "c"),
        ("ZADD", "z1", "LT", 0, "b"), ("ZADD", "z1", "INCR", 2.5, "a"), ("ZREM", "z1", "c", "zz"),
        ("ZADD", "z2", 1, "x"), ("ZREM", "z2", "x"),
        ("XADD", "x1", "*", "f", "v"), ("XADD", "x1", "*", "f", "v2", "g", "w"),
        ("XADD", "x1", "MAXLEN", "2", "*", "n", "3"),
        ("PEXPIREAT", "h1", far + 5), ("PERSIST", "nokey"),
        ("SELECT", 3), ("SET", "in3", "v"), ("RPUSH", "l3", "a"),
        ("SELECT", 4), ("SET", "gone", "v"), ("FLUSHDB",),
        ("SELECT", 0),
        ("MULTI",), ("SET", "m1", "a"), ("HSET", "m2", "f", "v"), ("RPUSH", "ml", "z"), ("EXEC",),
        ("SET", "wrongtype", "x"),
    ]
    for i in range(500):
        k = "rk:%d" % rng.randrange(40)
        op = rng.randrange(6)
        if op == 0:
            cmds.append(("SET", k, "v%d" % i))
        elif op == 1:
            cmds.append(("DEL", k))
        elif op == 2:
            cmds.append(("HSET", "rh:%d" % rng.randrange(10), "f%d" % rng.randrange(5), i))
        elif op == 3:
            cmds.append(("RPUSH" if i % 2 else "LPUSH", "rl:%d" % rng.randrange(5), i))
        elif op == 4:
            cmds.append(("SADD", "rs:%d" % rng.randrange(5), rng.randrange(20)))
        else:
            cmds.append(("ZADD", "rz:%d" % rng.randrange(5), rng.randrange(100) / 4, "m%d" % rng.randrange(9)))
    run(r, cmds)


def dataset_flushall(r, rng):
    run(r, [("SELECT", 2), ("SET", "a", "b"), ("FLUSHALL",), ("SELECT", 0), ("SET", "after", "flush")])


DATASETS = {"all-types": dataset_all_types, "stream-ops": dataset_stream_ops,
            "flushall": dataset_flushall}


def run(r, cmds):
    for i in range(0, len(cmds), 200):
        for c, rep in zip(cmds[i:i + 200], r.pipeline(cmds[i:i + 200])):
            if isinstance(rep, RedisError) and "WRONGTYPE" not in str(rep):
                raise SystemExit("command %r failed: %s" % (c[:3], rep))


# --------------------------------------------------------------------------

def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd = argv[1]
    try:
        if cmd == "compare-redis":
            r = Redis(argv[2], argv[3])
            return report(model_from_redis(r), model_from_sqlite(argv[4]),
                          "mirror %s equals the master" % argv[4])
        if cmd == "compare-expected":
            actual = model_from_sqlite(argv[3])
            if len(argv) > 5 and argv[4] == "--ignore":
                actual.pop((0, argv[5].encode()), None)
            return report(model_from_expected(argv[2]), actual,
                          "%s matches %s" % (argv[3], argv[2]))
        if cmd == "load":
            seed = int(argv[5]) if len(argv) > 5 else 1
            DATASETS[argv[4]](Redis(argv[2], argv[3]), random.Random(seed))
            return 0
        if cmd == "cmd":
            rep = Redis(argv[2], argv[3])(*argv[4:])
            print(rep.decode(errors="replace") if isinstance(rep, bytes) else rep)
            return 0
        if cmd == "wait":
            r = Redis(argv[2], argv[3])
            r("SET", "__redsink_test_marker", str(time.time()))
            n = r("WAIT", int(argv[4]), int(argv[5]))
            if n < int(argv[4]):
                print("WAIT %s %s returned %d" % (argv[4], argv[5], n))
                return 1
            return 0
    except (ViewError, sqlite3.Error, RedisError, OSError) as e:
        print("FAIL %s: %s" % (cmd, e))
        return 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
