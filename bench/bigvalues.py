#!/usr/bin/env python3
"""Big values (issue 11): redsink's peak RSS and time, and byte-exact checks.

  python3 bench/bigvalues.py [--cases a,b] [--paths disk,diskless,import,stream]
                             [--check] [--out FILE]

For each case, on a fresh master (proto-max-bulk-len 1gb, no output
buffer limit for replicas), each path:
  disk      full sync with $<len> framing (repl-diskless-sync no)
  diskless  full sync with $EOF: framing (repl-diskless-sync yes)
  import    `redsink import` of the master's dump.rdb (/usr/bin/time's
            maximum RSS, or ru_maxrss of the child)
  stream    redsink attached to the empty master, then the case written
            with commands (SET, HSET) and acknowledged (WAIT 1)
Reported: seconds (redsink start, or the first write for 'stream', until a
marker written after it is acknowledged; import: the command's run time),
redsink's peak RSS (VmHWM) and the target of issue 11 (64 MB, plus the
largest item for cases that have one bigger than 1 MiB). With --check every
value is compared with the master by SHA-256 (the master's bytes read with
GET/HGET, the mirror's through the views, TEXT iff UTF-8), and a figure over
its target fails: tests/tools/stress_bigvalues.sh runs it that way. Needs
redis-server and python3 only.
"""
import argparse
import hashlib
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from suite import PROCS, REDSINK, connect, free_port, peak_rss_kb, start, stop  # noqa: E402

MIB = 1 << 20
MB = 1000 * 1000


def rand_bytes(n, seed):
    # randbytes takes at most 2^31 bits at a time: draw 64 MiB pieces
    r = random.Random(seed)
    return b"".join(r.randbytes(min(64 * MIB, n - i)) for i in range(0, n, 64 * MIB))


def compressible(n, seed):
    """LZF-compressible and not UTF-8: a random 4 KiB block repeated with a
    few random bytes changed in every copy."""
    rng = random.Random(seed)
    block = bytearray(rng.randbytes(4096))
    block[0] = 0xFF
    out = bytearray()
    while len(out) < n:
        block[rng.randrange(1, 4096)] = rng.randrange(256)
        out += block
    return bytes(out[:n])


def utf8(n, seed):
    unit = ("%d h\u00e9llo w\u00f6rld " % seed).encode()
    b = (unit * (n // len(unit) + 1))[:n]
    return b[:-1] + b"a" if b.endswith(b"\xc3") else b


# A case: (name, description, writer(r) -> [(command for the mirror check)],
# largest item in bytes). Each writer returns what to check: (key, field or
# None) pairs.
def case_small(r):
    """Largest item < 1 MiB: strings up to 1 MiB - 1, hashes, lists."""
    rng = random.Random(1)
    keys = []
    for i in range(120):
        n = (MIB - 1) if i == 0 else rng.randrange(1, MIB)
        r("SET", "s:%d" % i, rng.randbytes(n))
        keys.append(("s:%d" % i, None))
    for i in range(20):
        r("HSET", "h:%d" % i, *[a for j in range(500) for a in ("f%d" % j, rng.randbytes(2000))])
        r("RPUSH", "l:%d" % i, *[rng.randbytes(64 * 1024) for _ in range(20)])
        keys.append(("h:%d" % i, "f1"))
    return keys


def case_str512(r):
    r("SET", "big", rand_bytes(512 * MIB, 512))
    return [("big", None)]


def case_str100z(r):
    r("SET", "bigz", compressible(100 * MIB, 100))
    return [("bigz", None)]


def case_utf64(r):
    r("SET", "bigu", utf8(64 * MIB, 64))
    return [("bigu", None)]


def case_hash100(r):
    for j in range(100):
        r("HSET", "h", "f%d" % j, rand_bytes(MIB, j))
    return [("h", "f%d" % j) for j in range(0, 100, 9)]


def elem_case(kind, n):
    """One big element of a list, hash or stream (value or field name),
    between two small ones (so that its neighbours' order and positions
    are checked too)."""
    def writer(r):
        v = rand_bytes(n, n // MIB)
        if kind == "list":
            r("RPUSH", "el", "a", v, "z")
            return [("el", ("list", 1))]
        if kind == "hash":
            r("HSET", "eh", "a", "1", "big", v, "z", "2")
            return [("eh", "big")]
        r("XADD", "es", "1-1", "a", "1")
        if kind == "sfield":
            r("XADD", "es", "2-1", v, "x", "g", "2")
            return [("es", ("sfield", "2-1", 0))]
        r("XADD", "es", "2-1", "f", v, "g", "2")
        return [("es", ("stream", "2-1", 0))]
    return writer


def case_key(n):
    def writer(r):
        k = rand_bytes(n, n // MIB)
        r("SET", k, "v")
        return [(k, "name")]
    return writer


def pk_case(kind, n):
    """One big hash field, set member or sorted-set member between two
    small ones: a primary-key column of its element table."""
    def writer(r):
        v = rand_bytes(n, n // MIB + 1)
        if kind == "hfield":
            r("HSET", "ph", "a", "1", v, "x", "z", "2")
            return [("ph", ("longest", "hash"))]
        if kind == "smember":
            r("SADD", "ps", "a", v, "z")
            return [("ps", ("longest", "set"))]
        r("ZADD", "pz", 1, "a", 2, v, 3, "z")
        return [("pz", ("longest", "zset"))]
    return writer


CASES = [
    ("small", "largest item < 1 MiB: 120 strings to 1 MiB - 1, 20 hashes, 20 lists (~100 MB)",
     case_small, 0),
    ("str512", "a 512 MiB string of random bytes", case_str512, 512 * MIB),
    ("str100z", "a 100 MiB LZF-compressible string (not UTF-8)", case_str100z, 100 * MIB),
    ("utf64", "a 64 MiB UTF-8 string (TEXT: bound whole, no zeroblob)", case_utf64, 64 * MIB),
    ("hash100", "a hash of 100 fields of 1 MiB", case_hash100, MIB),
    ("key16", "a 16 MiB key name", case_key(16 * MIB), 16 * MIB),
] + [("%s%d" % (kind, n), "one %d MiB %s of random bytes" % (n, what),
      elem_case(kind, n * MIB), n * MIB)
     for n in (16, 256)
     for kind, what in (("list", "list element"), ("hash", "hash value"),
                        ("stream", "stream entry value"),
                        ("sfield", "stream field name"))] + [
    ("%s%d" % (kind, n), "one %d MiB %s of random bytes" % (n, what), pk_case(kind, n * MIB),
     n * MIB)
    for n in (16, 256)
    for kind, what in (("hfield", "hash field"), ("smember", "set member"),
                       ("zmember", "sorted-set member"))]
# Not in the default set (named with --cases): a 256 MiB key name (slow to
# write).
EXTRA_CASES = [("key256", "a 256 MiB key name", case_key(256 * MIB), 256 * MIB)]
PATHS = ["disk", "diskless", "import", "stream"]


class Master:
    def __init__(self, tmp, diskless):
        self.dir = tempfile.mkdtemp(dir=tmp)
        self.port = free_port()
        self.proc = start(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                           "--save", "", "--appendonly", "no", "--dir", self.dir,
                           "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0",
                           "--proto-max-bulk-len", "1gb", "--client-query-buffer-limit", "2gb",
                           "--client-output-buffer-limit", "replica 0 0 0",
                           "--logfile", os.path.join(self.dir, "master.log")])
        self.r = connect(self.port, self.proc)

    def close(self):
        stop(self.proc)


def acked(r, p, marker):
    # Twice: a write made before the replica's PSYNC reached the master
    # is in no replication stream (no backlog yet), so WAIT returns at
    # once for it; the second is made once the replica is attached.
    for i in range(2):
        r("SET", "bench:marker", "%s%d" % (marker, i))
        while r("WAIT", 1, 100) < 1:
            if p is not None and p.poll() is not None:
                raise RuntimeError("redsink exited with %d" % p.returncode)


def digest_master(r, keys):
    out = []
    for k, f in keys:
        if isinstance(f, tuple) and f[0] == "longest":
            v = max(r({"hash": "HKEYS", "set": "SMEMBERS"}[f[1]], k) if f[1] != "zset"
                    else r("ZRANGE", k, 0, -1), key=len)
        elif isinstance(f, tuple) and f[0] == "list":
            v = r("LINDEX", k, f[1])
        elif isinstance(f, tuple):
            v = r("XRANGE", k, f[1], f[1])[0][1][2 * f[2] + (f[0] == "stream")]
        else:
            v = k if f == "name" else r("GET", k) if f is None else r("HGET", k, f)
        out.append(hashlib.sha256(v).hexdigest() if v is not None else None)
    return out


def digest_mirror(db, keys):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    con.text_factory = bytes
    out, bad = [], []
    for k, f in keys:
        if f == "name":
            rows = con.execute("SELECT key, typeof(key) FROM redis_keys WHERE key = ?", (k,))
        elif isinstance(f, tuple) and f[0] == "longest":
            col, view = {"hash": ("field", "redis_hashes"), "set": ("member", "redis_sets"),
                         "zset": ("member", "redis_zsets")}[f[1]]
            rows = con.execute("SELECT %s, typeof(%s) FROM %s WHERE key = ? ORDER BY length(%s)"
                               " DESC LIMIT 1" % (col, col, view, col), (k,))
        elif isinstance(f, tuple) and f[0] == "list":
            rows = con.execute("SELECT value, typeof(value) FROM redis_lists WHERE key = ? "
                               "AND idx = ?", (k, f[1]))
        elif isinstance(f, tuple):
            col = "value" if f[0] == "stream" else "field"
            rows = con.execute("SELECT %s, typeof(%s) FROM redis_streams WHERE key = ? "
                               "AND id = ? AND pos = ?" % (col, col), (k, f[1], f[2]))
        elif f is None:
            rows = con.execute("SELECT value, typeof(value) FROM redis_strings WHERE key = ?",
                               (k,))
        else:
            rows = con.execute("SELECT value, typeof(value) FROM redis_hashes WHERE key = ? "
                               "AND field = ?", (k, f))
        rows = rows.fetchall()
        if len(rows) != 1:
            out.append(None)
            continue
        v, t = rows[0]
        try:
            v.decode("utf-8")
            want = b"text"
        except UnicodeDecodeError:
            want = b"blob"
        if t != want:
            bad.append("%r: %s, expected %s" % (k[:20], t.decode(), want.decode()))
        out.append(hashlib.sha256(v).hexdigest())
    con.close()
    return out, bad


def run_path(tmp, case, path, check):
    name, desc, writer, largest = case
    m = Master(tmp, "yes" if path == "diskless" else "no")
    db = os.path.join(m.dir, "mirror.db")
    log = open(os.path.join(m.dir, "redsink.log"), "w")
    p = None
    try:
        if path == "stream":
            p = start([REDSINK, "--master", "127.0.0.1:%d" % m.port, "--sqlite", db], stderr=log)
            acked(m.r, p, "start")
            t0 = time.monotonic()
            keys = writer(m.r)
            acked(m.r, p, "end")
        else:
            keys = writer(m.r)
            if path == "import":
                m.r("SAVE")
                t0 = time.monotonic()
                # /usr/bin/time's %M: the child's ru_maxrss would also count
                # the pages of this python process that it had before exec
                rssf = os.path.join(m.dir, "rss")
                cmd = [REDSINK, "import", os.path.join(m.dir, "dump.rdb"), "--sqlite", db]
                if os.path.exists("/usr/bin/time"):
                    cmd = ["/usr/bin/time", "-o", rssf, "-f", "%M"] + cmd
                imp = subprocess.Popen(cmd, stdout=log, stderr=log)
                _, status, ru = os.wait4(imp.pid, 0)
                imp.returncode = os.waitstatus_to_exitcode(status)
                t = time.monotonic() - t0
                rss = ru.ru_maxrss
                if os.path.exists(rssf):
                    with open(rssf) as f:
                        rss = int(f.read().split()[-1])
                if imp.returncode != 0:
                    raise RuntimeError("redsink import exited with %d" % imp.returncode)
            else:
                t0 = time.monotonic()
                p = start([REDSINK, "--master", "127.0.0.1:%d" % m.port, "--sqlite", db],
                          stderr=log)
                acked(m.r, p, "synced")
        if p is not None:
            t = time.monotonic() - t0
            rss = peak_rss_kb(p.pid)
            stop(p)
        problems = []
        if check:
            want = digest_master(m.r, keys)
            got, bad = digest_mirror(db, keys)
            problems += bad
            problems += ["%r: mirror sha256 %s, master %s" % (k[0][:20], g, w)
                         for k, g, w in zip(keys, got, want) if g != w]
        return t, rss, problems
    finally:
        if p is not None:
            stop(p)
        log.close()
        m.close()
        for f in os.listdir(m.dir):
            os.remove(os.path.join(m.dir, f))
        os.rmdir(m.dir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=",".join(c[0] for c in CASES))
    ap.add_argument("--paths", default=",".join(PATHS))
    ap.add_argument("--check", action="store_true", help="sha256 of every value; fail over target")
    ap.add_argument("--out", help="also write the table (markdown) here")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="redsink-bigvalues.")
    lines = ["| case | path | seconds | peak RSS MB | target MB |", "|---|---|---|---|---|"]
    fails = 0
    try:
        for case in CASES + EXTRA_CASES:
            if case[0] not in args.cases.split(","):
                continue
            print("# %s: %s" % (case[0], case[1]), flush=True)
            target = 64 + (case[3] / MB if case[3] > MIB else 0)
            for path in args.paths.split(","):
                try:
                    t, rss, problems = run_path(tmp, case, path, args.check)
                except (RuntimeError, OSError) as e:
                    print("not ok - %s %s: %s" % (case[0], path, e), flush=True)
                    fails += 1
                    continue
                mb = rss / 1000 if rss else None
                line = "| %s | %s | %.1f | %s | %.0f |" % (case[0], path, t,
                                                            "%.1f" % mb if mb else "?", target)
                lines.append(line)
                over = mb is not None and mb > target
                if args.check:
                    ok = not problems and not over
                    fails += not ok
                    print("%s - %s %s: %.1f s, peak RSS %s MB (target %.0f)%s%s" % (
                        "ok" if ok else "not ok", case[0], path, t,
                        "%.1f" % mb if mb else "?", target,
                        ", values equal (sha256)" if not problems else "",
                        "".join("\n  # " + x for x in problems)), flush=True)
                else:
                    print(line, flush=True)
    finally:
        for p in list(PROCS):
            stop(p)
        os.rmdir(tmp) if not os.listdir(tmp) else None
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")
    if not args.check:
        print("\n".join(lines))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
