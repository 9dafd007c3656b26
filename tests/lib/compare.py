#!/usr/bin/env python3
"""Test tool for redsink: talk to a real Redis, compare it with the mirror.

Subcommands (all exit 0 on success, 1 on a mismatch or failure):
  compare-redis HOST PORT DB.sqlite [--filter [--db N] [--include GLOB] [--exclude GLOB]...]
                                        whole keyspace of the master vs the SQL views; with
                                        --filter only the master's keys redsink's filter keeps
  compare-expected EXPECTED.json DB.sqlite [--ignore KEY | --ignore-in DB KEY]...
                                        a fixture's expected.json vs the views (keys the
                                        test's own stream wrote are left out)
  load HOST PORT DATASET [SEED]         write a dataset (see DATASETS) to the master
  cmd HOST PORT ARG...                  run one command, print the reply
  wait HOST PORT N MS [MAX_MS]          write a marker, then WAIT N MS; fail unless >= N.
                                        With MAX_MS: WAIT again, MS at a time, while the
                                        N-th highest offset a replica acknowledged grows,
                                        up to MAX_MS in all (a replica that is catching up
                                        on a busy machine is slow, not stuck)
  compare-redis-pipelined HOST PORT DB.sqlite   compare-redis, pipelined (big keyspaces)
  workload-loop HOST PORT SEED STOP_FILE MAX_SECONDS   random writes until STOP_FILE exists

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
        # TLS when REDSINK_TEST_TLS_CA names the CA (tests/integration/tls.sh);
        # REDSINK_TEST_TLS_CERT/_KEY: a client certificate
        if os.environ.get("REDSINK_TEST_TLS_CA"):
            import ssl
            ctx = ssl.create_default_context(cafile=os.environ["REDSINK_TEST_TLS_CA"])
            if os.environ.get("REDSINK_TEST_TLS_CERT"):
                ctx.load_cert_chain(os.environ["REDSINK_TEST_TLS_CERT"],
                                    os.environ.get("REDSINK_TEST_TLS_KEY"))
            self.sock = ctx.wrap_socket(self.sock, server_hostname=host)
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
            if len(self.buf) < n + 2:      # a big value: read the rest at once
                parts, have = [self.buf], len(self.buf)
                while have < n + 2:
                    d = self.sock.recv(min(n + 2 - have, 1 << 22))
                    if not d:
                        raise ConnectionError("connection closed")
                    parts.append(d)
                    have += len(d)
                self.buf = b"".join(parts)
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

def field_ttls(r, k, fields):
    """{field: unix ms or None} by HPEXPIRETIME (Redis 7.4+, Valkey 9+); None
    when the server has no field TTLs."""
    if not fields or getattr(r, "no_hfe", False):
        return None
    try:
        ts = r("HPEXPIRETIME", k, "FIELDS", len(fields), *fields)
    except RedisError as e:
        if "unknown command" in str(e):
            r.no_hfe = True
            return None
        raise
    return {f: (None if t < 0 else t) for f, t in zip(fields, ts)}


def value_from_redis(r, t, k):
    """Key k's value of type t (TYPE's answer) in the canonical form; None
    for a type the model does not hold."""
    if t == "string":
        return r("GET", k)
    if t == "list":
        return tuple(r("LRANGE", k, 0, -1))
    if t == "set":
        return frozenset(r("SMEMBERS", k))
    if t == "zset":
        flat = r("ZRANGE", k, 0, -1, "WITHSCORES")
        return {flat[i]: float(flat[i + 1]) for i in range(0, len(flat), 2)}
    if t == "hash":
        flat = r("HGETALL", k)
        ttl = field_ttls(r, k, flat[0::2]) or {}
        return {flat[i]: (flat[i + 1], ttl.get(flat[i])) for i in range(0, len(flat), 2)}
    if t == "array":          # Redis 8.8: every element, holes skipped
        flat = r("ARSCAN", k, 0, 18446744073709551614)
        return {int(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}
    if t == "stream":
        return tuple((e[0].decode(), tuple((e[1][i], e[1][i + 1]) for i in range(0, len(e[1]), 2)))
                     for e in r("XRANGE", k, "-", "+"))
    return None


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
            v = value_from_redis(r, t, k)
            if v is not None:
                model[(db, k)] = (t, exp, v)
    r("SELECT", 0)
    return model


def glob_match(pat, s):
    """Redis' stringmatchlen (util.c) on bytes, the same steps as daemon/write/filter.c."""
    def m(p, s, state, nest):
        if nest > 1000:
            return False
        while p and s:
            c = p[0]
            if c == ord("*"):
                while len(p) > 1 and p[1] == ord("*"):
                    p = p[1:]
                if len(p) == 1:
                    return True
                while s:
                    if m(p[1:], s, state, nest + 1):
                        return True
                    if state[0]:
                        return False
                    s = s[1:]
                state[0] = True
                return False
            elif c == ord("?"):
                s = s[1:]
            elif c == ord("["):
                p = p[1:]
                neg = bool(p) and p[0] == ord("^")
                if neg:
                    p = p[1:]
                hit = False
                while True:
                    if len(p) >= 2 and p[0] == ord("\\"):
                        p = p[1:]
                        hit = hit or p[0] == s[0]
                    elif not p:
                        p = b"]"        # the class ends with the pattern
                        break
                    elif p[0] == ord("]"):
                        break
                    elif len(p) >= 3 and p[1] == ord("-"):
                        lo, hi = sorted((p[0], p[2]))
                        p = p[2:]
                        hit = hit or lo <= s[0] <= hi
                    else:
                        hit = hit or p[0] == s[0]
                    p = p[1:]
                if hit == neg:
                    return False
                s = s[1:]
            else:
                if c == ord("\\") and len(p) >= 2:
                    p = p[1:]
                if p[0] != s[0]:
                    return False
                s = s[1:]
            p = p[1:]
            if not s:
                while p and p[0] == ord("*"):
                    p = p[1:]
                break
        return not p and not s
    return m(pat, s, [False], 0)


def parse_filter(args):
    """--db N / --include GLOB / --exclude GLOB (repeatable) into a keep(db, key) test."""
    dbs, inc, exc = [], [], []
    for opt, val in zip(args[0::2], args[1::2]):
        {"--db": dbs, "--include": inc, "--exclude": exc}[opt].append(val)
    dbs = [int(d) for d in dbs]
    inc = [g.encode() for g in inc]
    exc = [g.encode() for g in exc]

    def keep(db, key):
        return ((not dbs or db in dbs) and (not inc or any(glob_match(g, key) for g in inc))
                and not any(glob_match(g, key) for g in exc))
    return keep


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
    empty = {"string": None, "list": [], "set": set(), "zset": {}, "hash": {}, "stream": {},
             "array": {}}
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
    for db, key, i, v in con.execute("SELECT db, key, idx, value FROM redis_arrays"):
        vals[target(db, key, "redis_arrays", "array")][int(i)] = as_bytes(v, "redis_arrays.value")
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


# --------------------------------------------------------------------------
# Seeded random workload over every command family (the differential test)

class Workload:
    """Random writes on a small pool of colliding key names, so commands
    meet keys of every type (WRONGTYPE included), empty collections, and
    each other's results. Short TTLs (< SHORT_TTL_MS) expire during the run."""

    SHORT_TTL_MS = 400

    def __init__(self, rng, families):
        self.rng = rng
        self.families = families
        self.max_expire = 0

    def key(self):
        r = self.rng
        return r.choice(["k%d" % r.randrange(24), "k%d" % r.randrange(6), b"bin\xff%d" % r.randrange(3)])

    def val(self):
        r = self.rng
        c = r.randrange(10)
        if c < 4:
            return str(r.randrange(-20, 100))
        if c < 6:
            return r.choice(["a", "b", "", "hello", "x" * r.randrange(1, 70), "3.5", "007"])
        if c < 8:
            return bytes(r.randrange(256) for _ in range(r.randrange(0, 12)))
        return "v%d" % r.randrange(1000)

    def num(self, lo=-5, hi=10):
        return str(self.rng.randrange(lo, hi))

    def score(self):
        r = self.rng
        return r.choice(["0", "1", "-1", "2.5", "1e3", "-inf", "+inf", "0.1", str(r.randrange(-50, 50))])

    def ttl_args(self):
        r = self.rng
        now = int(time.time() * 1000)
        if r.random() < 0.5:
            ms = r.randrange(50, self.SHORT_TTL_MS)
            self.max_expire = max(self.max_expire, now + ms)
        else:
            ms = r.randrange(10 ** 6, 10 ** 8)
        return r.choice([("PX", ms), ("EX", max(1, ms // 1000)) if ms > 10 ** 5 else ("PX", ms),
                         ("PXAT", now + ms), ("EXAT", (now + ms) // 1000 + 1) if ms > 10 ** 5 else ("PXAT", now + ms)])

    # ---- families: each returns one command (a tuple) ----
    def string(self):
        r, k, v = self.rng, self.key(), self.val()
        c = r.randrange(22)
        if c == 0:
            opts = []
            if r.random() < 0.3: opts.append(r.choice(["NX", "XX"]))
            if r.random() < 0.3: opts.append("GET")
            if r.random() < 0.4: opts.extend(self.ttl_args())
            elif r.random() < 0.2: opts.append("KEEPTTL")
            return ("SET", k, v, *opts)
        return [("SETNX", k, v), ("SETEX", k, r.randrange(100, 10000), v), ("PSETEX", k, r.randrange(10 ** 5, 10 ** 7), v),
                ("MSET", k, v, self.key(), self.val()), ("MSETNX", k, v, self.key(), self.val()),
                ("GETSET", k, v), ("GETDEL", k), ("GETEX", k, *r.choice([("PERSIST",), ("PX", r.randrange(10 ** 5, 10 ** 7))])),
                ("APPEND", k, v), ("SETRANGE", k, r.randrange(0, 40), v), ("INCR", k), ("DECR", k),
                ("INCRBY", k, self.num(-1000, 1000)), ("DECRBY", k, self.num()), ("INCRBYFLOAT", k, r.choice(["1.5", "-0.25", "3e2", "10"])),
                ("SETBIT", k, r.randrange(0, 200), r.randrange(2)),
                ("BITOP", r.choice(["AND", "OR", "XOR"]), self.key(), k, self.key()), ("BITOP", "NOT", self.key(), k),
                ("BITFIELD", k, "SET", r.choice(["u8", "i5", "u16"]), "#%d" % r.randrange(4), r.randrange(300),
                 "INCRBY", r.choice(["i8", "u4"]), r.randrange(40), r.randrange(-50, 50)),
                ("PFADD", "hll%d" % r.randrange(3), *[self.val() for _ in range(r.randrange(1, 6))]),
                ("PFMERGE", "hll%d" % r.randrange(3), "hll%d" % r.randrange(3))][c - 1]

    def keys(self):
        r, k = self.rng, self.key()
        c = r.randrange(14)
        if c < 2:
            ttl = self.ttl_args()
            cmd = {"PX": "PEXPIRE", "EX": "EXPIRE", "PXAT": "PEXPIREAT", "EXAT": "EXPIREAT"}[ttl[0]]
            return (cmd, k, ttl[1], *([r.choice(["NX", "XX", "GT", "LT"])] if r.random() < 0.3 else []))
        return [("DEL", k, self.key()), ("UNLINK", k), ("PERSIST", k), ("RENAME", k, self.key()),
                ("RENAMENX", k, self.key()), ("COPY", k, self.key(), *(["REPLACE"] if r.random() < 0.5 else [])),
                ("COPY", k, self.key(), "DB", r.randrange(3)), ("MOVE", k, r.randrange(1, 3)),
                ("SORT", k, *(["ALPHA"] if r.random() < 0.5 else []), *(["DESC"] if r.random() < 0.5 else []),
                 *(["LIMIT", r.randrange(3), r.randrange(1, 5)] if r.random() < 0.3 else []), "STORE", self.key()),
                ("SWAPDB", 1, 2), ("SORT", k, "BY", "nosort", "GET", "#", "GET", "k*->f1", "STORE", self.key()),
                ("DUMPRESTORE", k, self.key())][c - 2]

    def list(self):
        r, k = self.rng, self.key()
        vs = [self.val() for _ in range(r.randrange(1, 5))]
        return r.choice([("LPUSH", k, *vs), ("RPUSH", k, *vs), ("LPUSHX", k, *vs), ("RPUSHX", k, *vs),
                         ("LPOP", k), ("RPOP", k, r.randrange(1, 4)), ("LINSERT", k, r.choice(["BEFORE", "AFTER"]), self.val(), self.val()),
                         ("LSET", k, self.num(-4, 4), self.val()), ("LREM", k, self.num(-2, 3), self.val()),
                         ("LTRIM", k, self.num(-5, 3), self.num(-3, 6)), ("LMOVE", k, self.key(), r.choice(["LEFT", "RIGHT"]), r.choice(["LEFT", "RIGHT"])),
                         ("RPOPLPUSH", k, self.key()), ("LMPOP", 2, k, self.key(), r.choice(["LEFT", "RIGHT"]), "COUNT", r.randrange(1, 4)),
                         ("BLPOP", k, self.key(), "0.01"), ("BRPOPLPUSH", k, self.key(), "0.01")])

    def hash(self):
        r, k = self.rng, self.key()
        f = lambda: r.choice(["f1", "f2", "f3", "", "n", b"\xfe"])
        return r.choice([("HSET", k, f(), self.val(), f(), self.val()), ("HSETNX", k, f(), self.val()),
                         ("HMSET", k, f(), self.val()), ("HDEL", k, f(), f()),
                         ("HINCRBY", k, f(), self.num(-100, 100)), ("HINCRBYFLOAT", k, f(), r.choice(["0.5", "-2", "1e2"]))])

    def set(self):
        r, k = self.rng, self.key()
        m = lambda: r.choice(["a", "b", "c", "1", "2", "", b"\x00", "m%d" % r.randrange(20)])
        return r.choice([("SADD", k, m(), m(), m()), ("SREM", k, m(), m()), ("SPOP", k), ("SPOP", k, r.randrange(1, 4)),
                         ("SMOVE", k, self.key(), m()), ("SINTERSTORE", self.key(), k, self.key()),
                         ("SUNIONSTORE", self.key(), k, self.key()), ("SDIFFSTORE", self.key(), k, self.key())])

    def zset(self):
        r, k = self.rng, self.key()
        m = lambda: r.choice(["a", "b", "c", "d", "", "m%d" % r.randrange(10)])
        flags = [f for f in ("NX", "XX", "GT", "LT", "CH") if r.random() < 0.15]
        if "NX" in flags:
            flags = [f for f in flags if f not in ("XX", "GT", "LT")]
        rng_ = lambda: (r.choice(["-inf", "(0", "0", "1", "(2.5"]), r.choice(["+inf", "(5", "5", "10", "2.5"]))
        lex = lambda: (r.choice(["-", "[a", "(b", "[c"]), r.choice(["+", "[c", "(d", "[b"]))
        agg = ["AGGREGATE", r.choice(["SUM", "MIN", "MAX"])] if r.random() < 0.5 else []
        wts = ["WEIGHTS", r.choice(["1", "2", "-1", "0.5"]), r.choice(["1", "3", "inf"])] if r.random() < 0.5 else []
        return r.choice([("ZADD", k, *flags, self.score(), m(), self.score(), m()),
                         ("ZADD", k, "INCR", self.score(), m()), ("ZINCRBY", k, self.score(), m()),
                         ("ZREM", k, m(), m()), ("ZREMRANGEBYSCORE", k, *rng_()),
                         ("ZREMRANGEBYRANK", k, self.num(-3, 2), self.num(-2, 4)), ("ZREMRANGEBYLEX", k, *lex()),
                         ("ZPOPMIN", k), ("ZPOPMAX", k, r.randrange(1, 4)), ("ZMPOP", 1, k, r.choice(["MIN", "MAX"])),
                         ("BZPOPMIN", k, "0.01"), ("ZUNIONSTORE", self.key(), 2, k, self.key(), *wts, *agg),
                         ("ZINTERSTORE", self.key(), 2, k, self.key(), *wts, *agg), ("ZDIFFSTORE", self.key(), 2, k, self.key()),
                         ("ZRANGESTORE", self.key(), k, 0, r.randrange(-1, 4)),
                         ("ZRANGESTORE", self.key(), k, *rng_(), "BYSCORE", *(["LIMIT", 0, 2] if r.random() < 0.5 else [])),
                         ("GEOADD", k, "%.6f" % r.uniform(-180, 180), "%.6f" % r.uniform(-85, 85), m()),
                         ("GEOSEARCHSTORE", self.key(), k, "FROMLONLAT", "0", "0", "BYRADIUS", r.choice(["5000", "20000"]), "km",
                          *(["ASC"] if r.random() < 0.5 else ["DESC"]), *(["STOREDIST"] if r.random() < 0.5 else []))])

    def stream(self):
        r, k = self.rng, self.key()
        g = "g%d" % r.randrange(2)
        fv = [x for _ in range(r.randrange(1, 3)) for x in (r.choice(["f", "g", ""]), self.val())]
        trim = r.choice([[], ["MAXLEN", r.randrange(2, 6)], ["MAXLEN", "~", r.randrange(2, 6)], ["MINID", "%d-0" % r.randrange(0, 3)]])
        return r.choice([("XADD", k, *trim, "*", *fv), ("XADD", k, "*", *fv), ("XDEL", k, "0-1", "1-1"),
                         ("XTRIM", k, "MAXLEN", r.randrange(0, 5)), ("XGROUP", "CREATE", k, g, "0", "MKSTREAM"),
                         ("XGROUP", "DESTROY", k, g), ("XGROUP", "CREATECONSUMER", k, g, "c1"),
                         ("XGROUP", "DELCONSUMER", k, g, "c1"), ("XGROUP", "SETID", k, g, "$"),
                         ("XREADGROUP", "GROUP", g, "c%d" % r.randrange(2), "COUNT", 2, "STREAMS", k, ">"),
                         ("XACK", k, g, "0-1"), ("XAUTOCLAIM", k, g, "c2", 0, "0-0", "COUNT", 2)])

    # ---- families of newer servers (differential.sh picks them by version) ----
    def own_key(self, prefix):
        """Mostly the family's own keys (so its commands meet their type),
        sometimes a colliding one of any type."""
        r = self.rng
        return "%s%d" % (prefix, r.randrange(6)) if r.random() < 0.85 else self.key()

    def hfield(self):
        return self.rng.choice(["f1", "f2", "f3", "", "n", b"\xfe"])

    def fields_arg(self, n_max=3):
        fs = [self.hfield() for _ in range(self.rng.randrange(1, n_max + 1))]
        return ("FIELDS", len(fs), *fs)

    def hfe_ttl(self):
        """A field TTL argument: mostly future (some short), sometimes past."""
        r = self.rng
        if r.random() < 0.1:
            return r.choice([("PXAT", 1000), ("EXAT", 1), ("PX", 0), ("EX", 0)])
        return self.ttl_args()

    def hfe(self):
        """Redis 7.4+ / Valkey 9 field TTLs."""
        r, k = self.rng, self.own_key("h")
        if r.random() < 0.25:
            return ("HSET", k, *[x for _ in range(r.randrange(1, 4)) for x in (self.hfield(), self.val())])
        if r.random() < 0.2:
            return ("HPERSIST", k, *self.fields_arg())
        unit, t = self.hfe_ttl()
        cmd = {"PX": "HPEXPIRE", "EX": "HEXPIRE", "PXAT": "HPEXPIREAT", "EXAT": "HEXPIREAT"}[unit]
        cond = [r.choice(["NX", "XX", "GT", "LT"])] if r.random() < 0.3 else []
        return (cmd, k, t, *cond, *self.fields_arg())

    def hash8(self, valkey=False):
        """Redis 8.0 / Valkey 9: HSETEX, HGETEX, HGETDEL."""
        r, k = self.rng, self.own_key("h")
        c = r.randrange(6)
        if c < 3:
            opts = []
            if valkey and r.random() < 0.2:
                opts.append(r.choice(["NX", "XX", "nx", "xx"]))
            if r.random() < 0.3:
                opts.append(r.choice(["FNX", "FXX", "fnx"]))
            if r.random() < 0.6:
                opts.extend(self.hfe_ttl())
            elif r.random() < 0.3:
                opts.append("KEEPTTL")
            fv = [x for _ in range(r.randrange(1, 3)) for x in (self.hfield(), self.val())]
            return ("HSETEX", k, *opts, "FIELDS", len(fv) // 2, *fv)
        if c < 5:
            opt = r.choice([(), ("PERSIST",), self.hfe_ttl()])
            return ("HGETEX", k, *opt, *self.fields_arg())
        return ("HGETDEL", k, *self.fields_arg())

    def hash9v(self):
        return self.hash8(valkey=True)

    def string84(self):
        """Redis 8.4: SET IFEQ/IFNE/IFDEQ/IFDNE, DELEX, MSETEX."""
        r, k = self.rng, self.own_key("s")
        cond = lambda: r.choice([("IFEQ", self.val()), ("IFNE", self.val()),
                                 ("IFDEQ", "%016x" % r.getrandbits(64)), ("IFDNE", "%016x" % r.getrandbits(64))])
        c = r.randrange(5)
        if c < 2:
            return ("SET", k, self.val(), *cond(), *(self.ttl_args() if r.random() < 0.3 else ()))
        if c < 3:
            return ("DELEX", k, *(cond() if r.random() < 0.7 else ()))
        n = r.randrange(1, 3)
        kv = [x for _ in range(n) for x in (self.own_key("s"), self.val())]
        opts = []
        if r.random() < 0.3:
            opts.append(r.choice(["NX", "XX"]))
        if r.random() < 0.5:
            opts.extend(self.ttl_args())
        elif r.random() < 0.3:
            opts.append("KEEPTTL")
        return ("MSETEX", n, *kv, *opts)

    def ifeq(self):
        """Valkey 8.1+: SET ... IFEQ (a value the key may well hold)."""
        r, k = self.rng, self.own_key("s")
        v = r.choice(["a", "b", "1", self.val()])
        if r.random() < 0.3:
            return ("SET", k, v)
        return ("SET", k, self.val(), "IFEQ", v)

    def delifeq(self):
        """Valkey 9: DELIFEQ."""
        r, k = self.rng, self.own_key("s")
        if r.random() < 0.4:
            return ("SET", k, r.choice(["a", "b", "1"]))
        return ("DELIFEQ", k, r.choice(["a", "b", "1", self.val()]))

    def bitop82(self):
        """Redis 8.2: BITOP DIFF, DIFF1, ANDOR, ONE (and SETBIT to feed them)."""
        r = self.rng
        if r.random() < 0.4:
            return ("SETBIT", self.own_key("b"), r.randrange(0, 40), r.randrange(2))
        return ("BITOP", r.choice(["DIFF", "DIFF1", "ANDOR", "ONE"]), self.own_key("b"),
                *[self.own_key("b") for _ in range(r.randrange(1, 4))])

    def stream82(self):
        """Redis 8.2: XDELEX, XACKDEL and KEEPREF on XADD/XTRIM."""
        r, k = self.rng, self.own_key("x")
        g = "g%d" % r.randrange(2)
        mode = [r.choice(["KEEPREF", "DELREF", "ACKED"])] if r.random() < 0.7 else []
        # XPICK: the ids are read from the stream when the batch is sent
        return r.choice([("XPICK", ("XDELEX", k, *mode)), ("XPICK", ("XACKDEL", k, g, *mode)),
                         ("XADD", k, "KEEPREF", "MAXLEN", r.randrange(2, 6), "*", "f", self.val()),
                         ("XADD", k, "*", "f", self.val()), ("XGROUP", "CREATE", k, g, "0", "MKSTREAM"),
                         ("XREADGROUP", "GROUP", g, "c%d" % r.randrange(2), "COUNT", 2, "STREAMS", k, ">")])

    def script(self):
        r, k1, k2 = self.rng, self.key(), self.key()
        return r.choice([("EVAL", "redis.call('set', KEYS[1], ARGV[1]) redis.call('rpush', KEYS[2], ARGV[1])", 2, k1, k2, self.val()),
                         ("EVAL", "return redis.call('incr', KEYS[1])", 1, k1),
                         ("EVAL", "redis.call('del', KEYS[1]) return redis.call('sadd', KEYS[2], 'x')", 2, k1, k2)])

    def create(self):
        """Make a key of some type, so every family meets every type."""
        r, k = self.rng, self.key()
        return r.choice([("SET", k, self.val()), ("RPUSH", k, self.val(), self.val(), "a"),
                         ("SADD", k, "a", "b", self.val()), ("ZADD", k, self.score(), "a", self.score(), "b"),
                         ("HSET", k, "f1", self.val(), "n", self.num()), ("XADD", k, "*", "f", self.val())])

    def command(self):
        if self.rng.random() < 0.25:
            return self.create()
        fam = self.rng.choice(self.families)
        return getattr(self, fam)()

    # run_workload's draws, in its order
    def batch_db(self):
        return self.rng.choice([0, 0, 0, 1, 2])

    def multi_body(self):
        return [self.command() for _ in range(self.rng.randrange(1, 5))]

    def fill(self, r):
        pass

    BAD = None                 # a command meant to be refused (DbWorkload)


class DbWorkload(Workload):
    """The differential's 'dbs' phase, with its own random stream (the
    other phases draw as before). Keys over many dbs (past 15: the master
    runs with --databases 40), names of 38-42 and 118-125 bytes (either
    side of the key cache's 40- and 120-byte tables; binary ones too), and
    the commands that change a key's db or name: SWAPDB (db 0 among them),
    MOVE, COPY ... DB, RENAME/RENAMENX, FLUSHDB; MULTI blocks with a command
    that fails when run (the rest applies) or when queued (EXECABORT); big
    sorted-set members (create).
    First FILL short and FILL_LONG long names in db FILL_DB, more than
    the key cache's 131,072 and 4,096 entries, so that the later commands
    on them meet evicted entries and reused by_id slots."""

    FILL, FILL_LONG, FILL_DB = 136000, 4600, 5
    BAD = ("SET", "bad-arity")

    def __init__(self, rng, families, ndbs=40):
        super().__init__(rng, families)
        self.dbs = sorted({d for d in (0, 1, 2, 3, 15, 16, 17, 31, ndbs - 1) if d < ndbs})
        self.ndbs = ndbs

    @staticmethod
    def fill_long(i):
        name = b"F%d-" % i
        return name + b"y" * (41 + i % 80 - len(name))     # 41..120 bytes

    def long_name(self, n):
        r = self.rng
        head = r.choice([b"L", b"\xffL\x00", "L\u00e9".encode()]) + b"%d-" % r.randrange(12)
        return head + b"x" * (n - len(head))

    def key(self):
        r = self.rng
        c = r.randrange(10)
        if c < 3:
            return "k%d" % r.randrange(16)
        if c < 6:
            return self.long_name(r.choice([38, 39, 40, 41, 42, 118, 119, 120, 121, 122, 125]))
        if c < 8:
            return "f%d" % r.randrange(self.FILL)
        if c < 9:
            return self.fill_long(r.randrange(self.FILL_LONG))
        return "z%d" % r.randrange(3)        # where the big members go (create)

    def db(self):
        return self.rng.choice(self.dbs)

    def dbcmd(self):
        r = self.rng
        k = self.key() if r.random() < 0.75 else "z%d" % r.randrange(3)
        c = r.randrange(60)
        if c == 0:
            return ("FLUSHDB", *r.choice([(), ("ASYNC",), ("SYNC",)]))
        if c == 1:            # the filled db, rarely: 75k keys move
            return ("SWAPDB", self.FILL_DB, self.db())
        return [("SWAPDB", self.db(), self.db()), ("SWAPDB", 0, self.db()), ("MOVE", k, self.db()),
                ("COPY", k, self.key(), "DB", self.db(), *(["REPLACE"] if r.random() < 0.5 else [])),
                ("RENAME", k, self.key()), ("RENAMENX", k, self.key()),
                ("PEXPIRE", k, r.randrange(10 ** 6, 10 ** 8)), ("PERSIST", k),
                ("DEL", k, self.key()), ("DUMPRESTORE", k, self.key())][c % 10]

    BIG = b"M" * (1 << 20)

    def create(self):
        """Now and then sorted-set members of 1 MiB - 1 to 1 MiB + 1 (two
        sharing their first 1 MiB), which SWAPDB, MOVE, COPY, FLUSHDB and
        the zset family's commands then meet."""
        r = self.rng
        if r.random() < 0.05:
            k = "z%d" % r.randrange(3) if r.random() < 0.7 else self.key()
            big = lambda: r.choice([self.BIG + b"a", self.BIG + b"b", self.BIG, self.BIG[:-1],
                                    b"\x00" + self.BIG])
            if r.random() < 0.3:
                return ("ZINCRBY", k, self.score(), big())
            return ("ZADD", k, self.score(), big(), self.score(), big(), self.score(), "a")
        return super().create()

    def command(self):
        p = self.rng.random()
        if p < 0.2:
            return self.create()
        if p < 0.5:
            return self.dbcmd()
        return getattr(self, self.rng.choice(self.families))()

    def batch_db(self):
        return self.rng.choice(self.dbs + [self.FILL_DB] * 3)

    def multi_body(self):
        r = self.rng
        body = [self.command() for _ in range(r.randrange(1, 6))]
        if r.random() < 0.6:   # fails when run: the others apply
            k = self.key()
            body.insert(r.randrange(len(body) + 1), r.choice([("LPUSH", k, "x"), ("INCR", k),
                                                              ("HSET", k, "f", "v")]))
            body.insert(0, ("SET", k, "not-a-number"))
        elif r.random() < 0.3:  # refused when queued: EXECABORT, nothing applies
            body.insert(r.randrange(len(body) + 1), self.BAD)
        return [c for c in body if c[0] != "DUMPRESTORE"]

    def fill(self, r):
        r("SELECT", self.FILL_DB)
        for i in range(0, self.FILL, 1000):
            r.pipeline([("MSET", *[x for j in range(i, min(i + 1000, self.FILL))
                                   for x in ("f%d" % j, "v%d" % j)])])
        r.pipeline([("MSET", *[x for j in range(i, min(i + 500, self.FILL_LONG))
                               for x in (self.fill_long(j), "w%d" % j)])
                    for i in range(0, self.FILL_LONG, 500)])


WORKLOADS = {"random": Workload, "random-dbs": DbWorkload}


def run_workload(r, seed, n, families, make=Workload):
    rng = random.Random(seed)
    w = make(rng, families)
    w.fill(r)
    sent = 0
    while sent < n:
        db = w.batch_db()
        batch = [("SELECT", db)]
        if rng.random() < 0.1:
            batch.append(("MULTI",))
            batch += w.multi_body()
            batch.append(("EXEC",))
        else:
            batch += [w.command() for _ in range(rng.randrange(1, 20))]
        out = []
        if any(c[0] in ("DUMPRESTORE", "XPICK") for c in batch):
            r("SELECT", db)            # their reads run now, in the batch's db
        for c in batch:
            if c[0] == "DUMPRESTORE":      # DUMP a key, RESTORE it elsewhere
                d = r("DUMP", c[1])
                if d is not None:
                    out.append(("RESTORE", c[2], rng.choice([0, 5000000]), d, "REPLACE"))
            elif c[0] == "XPICK":          # real ids of the stream (or one that is not)
                cmd = c[1]
                ents = r("XRANGE", cmd[1], "-", "+", "COUNT", 4) if r("TYPE", cmd[1]) == "stream" else []
                ids = [e[0] for e in ents if rng.random() < 0.6] or ["0-1"]
                out.append((*cmd, "IDS", len(ids), *ids))
            else:
                out.append(c)
        replies = r.pipeline(out)
        sent += len(out)
        for c, rep in zip(out, replies):
            # random arguments may be refused like any client's; only a
            # command the server does not know is a bug in this generator
            if isinstance(rep, RedisError) and c != w.BAD and ("unknown command" in str(rep) or
                                                               "wrong number of arguments" in str(rep)):
                raise SystemExit("seed %d: command %r failed: %s" % (seed, c[:4], rep))
    return w.max_expire



# --------------------------------------------------------------------------
# Pipelined reads of a big keyspace, and a background workload (kill_loop.sh)

def model_from_redis_pipelined(r, batch=500):
    """model_from_redis, with the per-key commands pipelined in batches:
    the same model, fast enough for a DEBUG POPULATE'd keyspace."""
    model = {}
    info = r("INFO", "keyspace").decode()
    dbs = [int(l.split(":")[0][2:]) for l in info.splitlines() if l.startswith("db")]
    for db in dbs:
        r("SELECT", db)
        cursor, keys = b"0", []
        while True:
            cursor, got = r("SCAN", cursor, "COUNT", 1000)
            keys.extend(got)
            if cursor == b"0":
                break
        for i in range(0, len(keys), batch):
            ks = keys[i:i + batch]
            meta = r.pipeline([c for k in ks for c in (("TYPE", k), ("PEXPIRETIME", k))])
            cmds, kept = [], []
            for j, k in enumerate(ks):
                t, exp = meta[2 * j], meta[2 * j + 1]
                c = {"string": ("GET", k), "list": ("LRANGE", k, 0, -1), "set": ("SMEMBERS", k),
                     "zset": ("ZRANGE", k, 0, -1, "WITHSCORES"), "hash": ("HGETALL", k),
                     "stream": ("XRANGE", k, "-", "+")}.get(t)
                if c is not None:
                    cmds.append(c)
                    kept.append((k, t, None if exp < 0 else exp))
            for (k, t, exp), v in zip(kept, r.pipeline(cmds)):
                if t == "list":
                    v = tuple(v)
                elif t == "set":
                    v = frozenset(v)
                elif t == "zset":
                    v = {v[n]: float(v[n + 1]) for n in range(0, len(v), 2)}
                elif t == "hash":
                    ttl = field_ttls(r, k, v[0::2]) or {}
                    v = {v[n]: (v[n + 1], ttl.get(v[n])) for n in range(0, len(v), 2)}
                elif t == "stream":
                    v = tuple((e[0].decode(), tuple((e[1][n], e[1][n + 1])
                                                    for n in range(0, len(e[1]), 2))) for e in v)
                model[(db, k)] = (t, exp, v)
    r("SELECT", 0)
    return model


def workload_loop(r, seed, stop_file, max_seconds, multi_every=5):
    """run_workload in rounds (seed, seed+1, ...) until stop_file exists or
    max_seconds pass, with a MULTI/EXEC block of 2-30 random commands after
    every multi_every rounds. Returns (rounds, latest short expiry in unix ms)."""
    end = time.time() + max_seconds
    rng = random.Random(seed)
    w = Workload(rng, ["string", "keys", "list", "hash", "set", "zset", "stream", "script"])
    fams = ["string", "keys", "list", "hash", "set", "zset", "stream", "script"]
    n, max_exp = 0, 0
    while not os.path.exists(stop_file) and time.time() < end:
        max_exp = max(max_exp, run_workload(r, seed * 1000 + n, rng.randrange(20, 200), fams))
        n += 1
        if n % multi_every == 0:
            block = [("SELECT", rng.choice([0, 1, 2])), ("MULTI",)]
            block += [c for c in (w.command() for _ in range(rng.randrange(2, 30)))
                      if c[0] != "DUMPRESTORE"]
            block.append(("EXEC",))
            r.pipeline(block)
            max_exp = max(max_exp, w.max_expire)
    return n, max_exp


def acked_offset(r, n):
    """The n-th highest offset the master's replicas acknowledged (-1: fewer)."""
    offs = sorted((int(f[7:]) for line in r("INFO", "replication").decode().splitlines()
                   if line.startswith("slave") and ":" in line
                   for f in line.split(":", 1)[1].split(",") if f.startswith("offset=")),
                  reverse=True)
    return offs[n - 1] if len(offs) >= n else -1


def wait_acked(r, n, ms, max_ms=None):
    """A marker, then WAIT n ms; with max_ms, WAIT again while the replicas'
    acknowledged offset grows (WAIT without a new write waits for the same
    marker), until max_ms. 0 when n replicas acknowledged the marker."""
    r.sock.settimeout(ms / 1000.0 + 30)  # WAIT may block that long
    r("SET", "__redsink_test_marker", str(time.time()))
    target = int(r("INFO", "replication").decode().split("master_repl_offset:")[1].split()[0])
    start, acked, got = time.time(), acked_offset(r, n), r("WAIT", n, ms)
    waits = 1
    while got < n and max_ms is not None and (time.time() - start) * 1000 < max_ms:
        now = acked_offset(r, n)
        if now <= acked:
            break                          # no progress in ms: stuck, not slow
        acked, got = now, r("WAIT", n, ms)
        waits += 1
    if got >= n:
        if waits > 1:
            print("WAIT %d %d: met by the WAIT %d, after %.1f s" % (n, ms, waits, time.time() - start))
        return 0
    acked = acked_offset(r, n)
    print("WAIT %d %d returned %d after %.0f s: %s %d%s"
          % (n, ms, got, time.time() - start, "fewer replicas than that, the master at"
             if acked < 0 else "the replicas acknowledged offset %d of" % acked, target,
             "" if max_ms is None else " (no progress in the last %d ms, or %d ms in all)"
             % (ms, max_ms)))
    return 1


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
            expected = model_from_redis(r)
            if len(argv) > 5 and argv[5] == "--filter":
                keep = parse_filter(argv[6:])
                expected = {k: v for k, v in expected.items() if keep(k[0], k[1])}
            return report(expected, model_from_sqlite(argv[4]),
                          "mirror %s equals the master" % argv[4])
        if cmd == "compare-redis-pipelined":
            r = Redis(argv[2], argv[3])
            return report(model_from_redis_pipelined(r), model_from_sqlite(argv[4]),
                          "mirror %s equals the master" % argv[4])
        if cmd == "workload-loop":
            # workload-loop HOST PORT SEED STOP_FILE MAX_SECONDS: prints "ROUNDS MAX_EXPIRE_MS"
            print("%d %d" % workload_loop(Redis(argv[2], argv[3]), int(argv[4]), argv[5],
                                          float(argv[6])))
            return 0
        if cmd == "compare-expected":
            actual = model_from_sqlite(argv[3])
            rest = argv[4:]
            while rest:            # --ignore KEY (db 0) | --ignore-in DB KEY, repeated
                if rest[0] == "--ignore" and len(rest) > 1:
                    actual.pop((0, rest[1].encode()), None)
                    rest = rest[2:]
                elif rest[0] == "--ignore-in" and len(rest) > 2:
                    actual.pop((int(rest[1]), rest[2].encode()), None)
                    rest = rest[3:]
                else:
                    raise SystemExit("compare-expected: bad option %r" % rest[0])
            return report(model_from_expected(argv[2]), actual,
                          "%s matches %s" % (argv[3], argv[2]))
        if cmd == "load":
            seed = int(argv[5]) if len(argv) > 5 else 1
            DATASETS[argv[4]](Redis(argv[2], argv[3]), random.Random(seed))
            return 0
        if cmd in WORKLOADS:
            # random[-dbs] HOST PORT SEED N [FAMILY,...]: prints the latest short expiry (unix ms)
            fams = argv[6].split(",") if len(argv) > 6 else \
                ["string", "keys", "list", "hash", "set", "zset", "stream", "script"]
            print(run_workload(Redis(argv[2], argv[3]), int(argv[4]), int(argv[5]), fams,
                               WORKLOADS[cmd]))
            return 0
        if cmd == "expire-all":
            # make the master delete every key whose TTL has passed (SCAN expires them)
            r = Redis(argv[2], argv[3])
            info = r("INFO", "keyspace").decode()
            for db in [int(l.split(":")[0][2:]) for l in info.splitlines() if l.startswith("db")]:
                r("SELECT", db)
                cursor = b"0"
                while True:
                    cursor, _ = r("SCAN", cursor, "COUNT", 1000)
                    if cursor == b"0":
                        break
            return 0
        if cmd == "cmd":
            rep = Redis(argv[2], argv[3])(*argv[4:])
            print(rep.decode(errors="replace") if isinstance(rep, bytes) else rep)
            return 0
        if cmd == "wait":
            r = Redis(argv[2], argv[3])
            return wait_acked(r, int(argv[4]), int(argv[5]),
                              int(argv[6]) if len(argv) > 6 else None)
    except (ViewError, sqlite3.Error, RedisError, OSError) as e:
        print("FAIL %s: %s" % (cmd, e))
        return 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
