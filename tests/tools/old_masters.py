#!/usr/bin/env python3
"""Differential run against an old redis-server, and its recording (not part
of make check: it needs an old server binary, see tests/README).

  old_masters.py run SERVER SEED N OUTDIR [FAMILY,...]

Starts SERVER (a redis-server binary of any version from 2.6 on) as a master
on a free 127.0.0.1 port, a second SERVER as its real replica (--slaveof),
and daemon/redsink (REDSINK, default ./daemon/redsink) as another replica
reached through a recording proxy. Runs the random workload of compare.py
(commands the old server refuses are skipped, as a client's would be),
lets every short TTL pass, PERSISTs every key, writes a marker and waits
until the replica and the mirror hold it. Then prints each key where the
mirror differs from the master, and whether the real replica differs too.

OUTDIR receives the recording: dump.rdb (the snapshot the master sent),
stream.bin.gz (every byte of the stream after it, as sent), expected.json.gz
(the master's final keyspace, in the format of tests/fixtures/rdb) and
version (the master's redis_version), for tests/integration/old_masters_replay.sh.
The commands of DIRECTED below go first: each met a difference found so far.
Exit status: 0 when mirror and replica both equal the master.
"""
import gzip
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import compare  # noqa: E402

MARKER = b"__old_masters_marker"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, seconds, what):
    end = time.time() + seconds
    while time.time() < end:
        try:
            if pred():
                return
        except (OSError, compare.RedisError, ConnectionError):
            pass
        time.sleep(0.05)
    raise SystemExit("timed out waiting for %s" % what)


class Recorder:
    """A loopback proxy that keeps every byte the master sends, per connection."""

    def __init__(self, target):
        self.target = target
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.captures = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            c, _ = self.srv.accept()
            up = socket.create_connection(("127.0.0.1", self.target))
            cap = bytearray()
            self.captures.append(cap)
            threading.Thread(target=self.pump, args=(c, up, None), daemon=True).start()
            threading.Thread(target=self.pump, args=(up, c, cap), daemon=True).start()

    @staticmethod
    def pump(src, dst, cap):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if cap is not None:
                    cap += data
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def start_server(binary, tmp, name, *extra):
    port = free_port()
    d = os.path.join(tmp, name)
    os.makedirs(d)
    p = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", d, "--logfile", os.path.join(d, "log"),
                          "--daemonize", "no", *extra])
    wait_for(lambda: compare.Redis("127.0.0.1", port)("PING") == "PONG", 10, name)
    return p, port


def model_old(r):
    """{(db, key): (type, ttl_ms or None, value)} with commands 2.6 knows."""
    model = {}
    info = r("INFO", "keyspace").decode()
    dbs = [int(line.split(":")[0][2:]) for line in info.splitlines() if line.startswith("db")]
    for db in dbs:
        r("SELECT", db)
        for k in r("KEYS", "*"):
            t = r("TYPE", k)
            ttl = r("PTTL", k)
            model[(db, k)] = (t, None if ttl < 0 else ttl, compare.value_from_redis(r, t, k))
    r("SELECT", 0)
    return model


def differences(master, other, now_ms, absolute):
    """Keys whose type or value differ, or whose TTL is off by more than 2 s."""
    out = {}
    for k in set(master) | set(other):
        if k not in other:
            out[k] = "missing"
        elif k not in master:
            out[k] = "extra (%s %s)" % (other[k][0], compare.trunc(other[k][2]))
        else:
            (mt, mttl, mv), (ot, ott, ov) = master[k], other[k]
            if mt != ot:
                out[k] = "type %s, master %s" % (ot, mt)
            elif not compare.same_value(mt, mv, ov):
                out[k] = "value %s\n      master  %s" % (compare.trunc(ov), compare.trunc(mv))
            elif (mttl is None) != (ott is None):
                out[k] = "ttl %r, master %r" % (ott, mttl)
            elif mttl is not None:
                ott_ms = ott - now_ms if absolute else ott
                if abs(ott_ms - mttl) > 2000:
                    out[k] = "ttl %r ms, master %r ms" % (ott_ms, mttl)
    return out


class OldWorkload(compare.Workload):
    """compare.py's workload plus the forms old servers know: PFCOUNT (a
    write when it refreshes the cached cardinality), GEORADIUS ... STORE,
    BITFIELD with OVERFLOW, SETBIT/BITOP past a few hundred bytes."""

    def short_ttl(self):
        ms = self.rng.randrange(50, 300)
        self.max_expire = max(self.max_expire, int(time.time() * 1000) + ms)
        return ms

    def old(self):
        r, k = self.rng, self.key()
        h = "hll%d" % r.randrange(3)
        geo = lambda: ("%.6f" % r.uniform(-20, 20), "%.6f" % r.uniform(-20, 20))
        return r.choice([
            ("PFADD", h, *[self.val() for _ in range(r.randrange(1, 40))]),
            ("PFCOUNT", h), ("PFCOUNT", h, "hll%d" % r.randrange(3)),
            ("PFMERGE", h, "hll%d" % r.randrange(3), "hll%d" % r.randrange(3)),
            ("GEOADD", k, *geo(), self.val(), *geo(), self.val()),
            ("GEORADIUS", k, "0", "0", r.choice(["500", "3000"]), "km",
             *r.choice([(), ("COUNT", 2), ("ASC",), ("DESC", "COUNT", 3)]),
             r.choice(["STORE", "STOREDIST"]), self.key()),
            ("GEORADIUSBYMEMBER", k, self.val(), r.choice(["500", "3000"]), "km",
             r.choice(["STORE", "STOREDIST"]), self.key()),
            ("SETBIT", k, r.randrange(0, 4000), r.randrange(2)),
            ("BITOP", r.choice(["AND", "OR", "XOR", "NOT"]), self.key(), k,
             *([self.key()] if r.random() < 0.8 else [])),
            ("BITFIELD", k, "OVERFLOW", r.choice(["WRAP", "SAT", "FAIL"]),
             "INCRBY", r.choice(["i8", "u4", "i16", "u63", "i64"]), r.choice([0, 7, "#3", 2200]),
             r.randrange(-300, 300), "SET", r.choice(["u8", "i5"]), r.randrange(0, 3000),
             r.randrange(-100, 300)),
            ("SRANDMEMBER", k), ("SPOP", k), ("LINSERT", k, "BEFORE", "a", self.val()),
            ("ZADD", k, self.score(), self.val()), ("ZINCRBY", k, self.score(), "a"),
            ("SINTERSTORE", self.key(), k, self.key()), ("SUNIONSTORE", self.key(), k),
            ("ZUNIONSTORE", self.key(), 2, k, self.key()), ("ZINTERSTORE", self.key(), 1, k),
            ("HINCRBYFLOAT", k, "f1", r.choice(["0.1", "1e300", "-3.5"])),
            ("INCRBYFLOAT", k, r.choice(["0.1", "1e20", "-3.5", "5.0e3"])),
            ("SETRANGE", k, r.randrange(0, 300), self.val()), ("APPEND", k, self.val()),
            ("RPOPLPUSH", k, self.key()), ("LSET", k, 0, self.val()),
            ("SMOVE", k, self.key(), "a"), ("RENAME", k, self.key()),
            ("EXPIRE", k, r.randrange(100, 10000)), ("PEXPIRE", k, self.short_ttl()),
            ("SORT", k, "LIMIT", 0, 5, "STORE", self.key()),
        ])


# Commands that met each difference found so far, sent before the random
# workload so that every recording holds them (see tests/README).
DIRECTED = [
    # strtoll before 3.2: leading zeros, '+', the empty string
    ("SET", "d:int1", "007"), ("INCR", "d:int1"), ("SET", "d:int2", "+5"), ("INCRBY", "d:int2", "010"),
    ("SET", "d:int3", ""), ("DECR", "d:int3"), ("HSET", "d:h", "f", "-007"), ("HINCRBY", "d:h", "f", "+3"),
    ("RPUSH", "d:l", "a", "b", "c"), ("LSET", "d:l", "+1", "x"), ("LTRIM", "d:l", "00", "+1"),
    # SINTERSTORE stopped at the first missing source before 7.0
    ("SET", "d:dst", "string"), ("SET", "d:str", "s"), ("SADD", "d:s1", "a", "b"),
    ("SINTERSTORE", "d:dst", "d:s1", "d:missing", "d:str"),
    # i64 BITFIELD fields from 3.2 to 6.0.5 (a 64-bit shift on x86)
    ("BITFIELD", "d:bf", "SET", "i64", 0, -5, "INCRBY", "i64", 0, 3, "SET", "i64", "#3", -2),
    ("BITFIELD", "d:bf", "OVERFLOW", "WRAP", "SET", "i64", 64, "9223372036854775800",
     "INCRBY", "i64", 64, 100, "INCRBY", "i64", 128, "-9223372036854775807", "INCRBY", "i64", 128, -100),
    ("BITFIELD", "d:bf", "OVERFLOW", "SAT", "INCRBY", "i64", 2200, -7, "INCRBY", "i64", 2200, 5),
    ("BITFIELD", "d:bf", "OVERFLOW", "FAIL", "INCRBY", "i64", 0, -9223372036854775807),
    # HyperLogLog: PFCOUNT caches the estimate, PFMERGE turns dest dense
    ("PFADD", "d:hll1", *["e%d" % i for i in range(50)]), ("PFCOUNT", "d:hll1"),
    ("PFADD", "d:hll2", *["f%d" % i for i in range(600)]), ("PFCOUNT", "d:hll2"),
    ("PFADD", "d:hll3", "x", "y"), ("PFMERGE", "d:hll4", "d:hll1", "d:hll3"), ("PFCOUNT", "d:hll4"),
    ("PFMERGE", "d:hll5", "d:hll2", "d:hll3"), ("PFCOUNT", "d:hll5"), ("PFCOUNT", "d:hll3"),
    ("PFADD", "d:hll6", "a", "b", "c"), ("PFDEBUG", "TODENSE", "d:hll6"), ("PFCOUNT", "d:hll6"),
]


def dense_hll(seed, lo, hi):
    """A dense HLL value with a stale cache and random registers in lo..hi
    (PFCOUNT then takes the estimator's larger-cardinality branches without
    the hundred thousand PFADD elements that would take)."""
    rng = random.Random(seed)
    bits = 0
    for i in range(16384):
        bits |= rng.randrange(lo, hi + 1) << (6 * i)
    return b"HYLL\x00\x00\x00\x00" + b"\x00" * 7 + b"\x80" + bits.to_bytes(12288, "little")


def geo_directed(seed, points, searches):
    """Points far north and south and circles around them: the search
    boxes changed in 6.2.0, 6.2.7 and 7.0.6 (geohash_helper.c)."""
    rng = random.Random(seed)
    lat = lambda: "%.6f" % (rng.choice([1, -1]) * rng.uniform(50, 85))
    cmds = [("GEOADD", "d:geo", "%.6f" % rng.uniform(-180, 180), lat(), "p%d" % i)
            for i in range(points)]
    return cmds + [("GEORADIUS", "d:geo", "%.6f" % rng.uniform(-180, 180), lat(),
                    rng.choice(["800", "1500", "3000"]), "km", "STOREDIST", "d:gs%d" % i)
                   for i in range(searches)]


DIRECTED += geo_directed(5, 120, 60)
# increments in a burst, which one transaction of the mirror makes late as
# one sum per key or field from 3.2.2 on: near both 64-bit limits and back,
# some refused by the master; on values strtoll reads ('+5', '007') before
# 3.2.2, where they are made one by one
_L = (1 << 63) - 1
DIRECTED += [("SET", "d:inc1", _L - 3), ("SET", "d:inc2", -_L + 2), ("SET", "d:inc3", "+5"),
             ("SET", "d:inc4", "007"), ("HSET", "d:hinc", "a", _L - 3),
             ("HSET", "d:hinc", "b", -_L + 2), ("HSET", "d:hinc", "c", "+5")]
for _i in range(60):
    _d = (1, 2, -1, 3, -2, -3)[_i % 6]
    DIRECTED += [("INCRBY", "d:inc1", _d), ("INCRBY", "d:inc2", -_d), ("INCRBY", "d:inc3", _d),
                 ("INCRBY", "d:inc4", _d), ("HINCRBY", "d:hinc", "a", _d),
                 ("HINCRBY", "d:hinc", "b", -_d), ("HINCRBY", "d:hinc", "c", _d)]
DIRECTED += [("SET", "d:hll7", dense_hll(7, 1, 3)), ("PFCOUNT", "d:hll7"),
             ("SET", "d:hll8", dense_hll(8, 6, 12)), ("PFCOUNT", "d:hll8"),
             ("PFADD", "d:hll8", "more"), ("PFCOUNT", "d:hll8")]


def geo_family(self):
    """Points anywhere, radii up to half the planet (GEOSEARCHSTORE's
    older forms)."""
    r, k = self.rng, "geo%d" % self.rng.randrange(4)
    pt = lambda: ("%.6f" % r.uniform(-180, 180), "%.6f" % r.uniform(-85, 85))
    return r.choice([
        ("GEOADD", k, *pt(), "m%d" % r.randrange(30), *pt(), "m%d" % r.randrange(30)),
        ("GEORADIUS", k, *pt(), r.choice(["500", "5000", "20000"]), r.choice(["km", "mi"]),
         *r.choice([(), ("COUNT", 3), ("ASC",), ("DESC", "COUNT", 2)]),
         r.choice(["STORE", "STOREDIST"]), "geo%d" % r.randrange(6)),
        ("GEORADIUSBYMEMBER", k, "m%d" % r.randrange(30), r.choice(["500", "5000", "20000"]), "km",
         r.choice(["STORE", "STOREDIST"]), "geo%d" % r.randrange(6)),
        ("ZREM", k, "m%d" % r.randrange(30)),
    ])


def geohi_family(self):
    """Searches far north and south, where the old servers' search boxes
    were narrower than the circle."""
    r, k = self.rng, "gh%d" % self.rng.randrange(2)
    pt = lambda: ("%.6f" % r.uniform(-180, 180), "%.6f" % (r.choice([1, -1]) * r.uniform(50, 85)))
    return r.choice([
        ("GEOADD", k, *pt(), "m%d" % r.randrange(60), *pt(), "m%d" % r.randrange(60),
         *pt(), "m%d" % r.randrange(60)),
        ("GEORADIUS", k, *pt(), r.choice(["300", "800", "1500", "3000"]), "km",
         r.choice(["STORE", "STOREDIST"]), "ghs%d" % r.randrange(40)),
    ])


OldWorkload.geo = geo_family
OldWorkload.geohi = geohi_family


def workload(r, seed, n, families):
    r.pipeline(DIRECTED)
    rng = random.Random(seed)
    w = OldWorkload(rng, families)
    sent = refused = 0
    while sent < n:
        db = rng.choice([0, 0, 0, 1, 2])
        batch = [("SELECT", db)]
        if rng.random() < 0.1:
            batch += [("MULTI",)] + [w.command() for _ in range(rng.randrange(1, 5))] + [("EXEC",)]
        else:
            batch += [w.command() for _ in range(rng.randrange(1, 20))]
        out = []
        for c in batch:
            if c[0] == "DUMPRESTORE":
                d = r.pipeline([("DUMP", c[1])])[0]
                if isinstance(d, bytes):
                    out.append(("RESTORE", c[2], rng.choice([0, 5000000]), d, "REPLACE"))
            else:
                out.append(c)
        for rep in r.pipeline(out):
            refused += isinstance(rep, compare.RedisError)
        sent += len(out)
    return w.max_expire, sent, refused


def split_capture(cap):
    """(rdb, stream) from the bytes the master sent: one-line replies, the
    PSYNC/SYNC answer, keep-alive newlines, "$<len>", the payload, the stream."""
    pos = 0
    while True:
        if cap[pos:pos + 1] == b"\n":
            pos += 1
            continue
        end = cap.index(b"\r\n", pos)
        line = bytes(cap[pos:end])
        pos = end + 2
        if line.startswith(b"$") and not line.startswith(b"$EOF:"):
            n = int(line[1:])
            body = bytes(cap[pos:pos + n])
            if body.startswith(b"REDIS"):
                return body, bytes(cap[pos + n:])
            pos += n + 2          # a bulk reply of the handshake (INFO)
        elif line.startswith(b"$EOF:"):
            raise SystemExit("diskless payload: record with a disk-based master")


def expected_json(model):
    h = bytes.hex
    out = []
    for (db, key), (t, ttl, v) in sorted(model.items()):
        if t == "string":
            val = h(v)
        elif t in ("list", "set"):
            val = [h(x) for x in (sorted(v) if t == "set" else v)]
        elif t == "zset":
            val = [[h(m), s] for m, s in sorted(v.items())]
        elif t == "hash":
            val = {h(f): h(x[0]) for f, x in sorted(v.items())}
        elif t == "stream":
            val = [[i, [[h(a), h(b)] for a, b in pairs]] for i, pairs in v]
        else:
            raise SystemExit("type %s not recorded" % t)
        out.append({"db": db, "key": h(key), "type": t, "expire_at_ms": None, "value": val})
    return out


def every_key(r, command):
    """Run COMMAND on every key of every db."""
    for d in range(16):
        r("SELECT", d)
        for k in r("KEYS", "*"):
            r(command, k)
    r("SELECT", 0)


def gz_write(path, data):
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(data)


def mirror_has_marker(path, value):
    import sqlite3
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        row = con.execute("SELECT value FROM redis_strings WHERE db = 0 AND key = ?",
                          (MARKER.decode(),)).fetchone()
    except sqlite3.Error:
        return False
    finally:
        con.close()
    return row is not None and compare.as_bytes(row[0], "marker") == value


def run(server, seed, n, outdir, families):
    redsink = os.environ.get("REDSINK", "./daemon/redsink")
    tmp = tempfile.mkdtemp(prefix="old-masters.")
    procs = []
    try:
        mp, mport = start_server(server, tmp, "master")
        procs.append(mp)
        rp, rport = start_server(server, tmp, "replica", "--slaveof", "127.0.0.1", str(mport))
        procs.append(rp)
        rec = Recorder(mport)
        db = os.path.join(tmp, "mirror.db")
        log = open(os.path.join(tmp, "redsink.log"), "w")
        procs.append(subprocess.Popen([redsink, "--master", "127.0.0.1:%d" % rec.port,
                                       "--sqlite", db, "--log-level", "debug"],
                                      stdout=log, stderr=subprocess.STDOUT))
        m, rep = compare.Redis("127.0.0.1", mport), compare.Redis("127.0.0.1", rport)
        version = [ln.split(":", 1)[1] for ln in m("INFO").decode().splitlines()
                   if ln.startswith("redis_version:")][0]
        wait_for(lambda: m("INFO", "replication").decode().count("online") >= 2, 60,
                 "two replicas online")
        maxexp, sent, refused = workload(m, seed, n, families)
        wait_for(lambda: time.time() * 1000 > maxexp + 50, 10, "the short TTLs")
        every_key(m, "EXISTS")           # the master expires (and DELs) them
        marker = b"%d" % time.time_ns()
        m("SET", MARKER, marker)
        wait_for(lambda: rep("GET", MARKER) == marker and mirror_has_marker(db, marker), 60,
                 "the marker on both replicas")
        now = int(time.time() * 1000)
        mm, rm, xm = model_old(m), model_old(rep), compare.model_from_sqlite(db)
        xm = {k: (t, e, v) for k, (t, e, v) in xm.items()}
        mirror_diff = differences(mm, xm, now, True)
        replica_diff = differences(mm, rm, 0, False)
        print("# %s seed %d: %d commands sent, %d refused by the master, %d keys"
              % (version, seed, sent, refused, len(mm)))
        for k in sorted(mirror_diff):
            print("MIRROR %s: %s%s" % (compare.show(k), mirror_diff[k],
                                       "  [replica differs too]" if k in replica_diff else ""))
        for line in open(os.path.join(tmp, "redsink.log"), errors="replace"):
            if "skipping" in line or "unknown command" in line:
                print("LOG " + line.split("]: ", 1)[-1].rstrip())
        for k in sorted(set(replica_diff) - set(mirror_diff)):
            print("REPLICA-ONLY %s: %s" % (compare.show(k), replica_diff[k]))
        # the recording: no TTL left, so that a replay at another time ends the same
        every_key(m, "PERSIST")
        marker = b"end %d" % time.time_ns()
        m("SET", MARKER, marker)
        wait_for(lambda: rep("GET", MARKER) == marker and mirror_has_marker(db, marker), 60,
                 "the final marker")
        final = model_old(m)
        if len(rec.captures) != 1:
            print("# redsink connected %d times: no recording" % len(rec.captures))
            return 1
        rdb, stream = split_capture(rec.captures[0])
        os.makedirs(outdir, exist_ok=True)
        open(os.path.join(outdir, "dump.rdb"), "wb").write(rdb)
        gz_write(os.path.join(outdir, "stream.bin.gz"), stream)
        open(os.path.join(outdir, "version"), "w").write(version + "\n")
        gz_write(os.path.join(outdir, "expected.json.gz"),
                 json.dumps(expected_json(final), indent=0).encode())
        print("# recorded %d RDB bytes, %d stream bytes, %d keys into %s"
              % (len(rdb), len(stream), len(final), outdir))
        return 1 if mirror_diff or replica_diff else 0
    finally:
        for p in procs:
            p.kill()
            p.wait()
        if os.environ.get("KEEP_TMP"):
            print("# kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    if len(argv) < 6 or argv[1] != "run":
        print(__doc__)
        return 2
    fams = argv[6].split(",") if len(argv) > 6 else \
        ["string", "keys", "list", "hash", "set", "zset", "old", "geo"]
    return run(argv[2], int(argv[3]), int(argv[4]), argv[5], fams)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
