#!/usr/bin/env python3
"""bench/suite.py: redsink side by side with a real Redis replica.

    make bench && python3 bench/suite.py [--quick] [--runs N] [--only SECTIONS]
                                         [--datasets NAMES] [--plot] [--out DIR]

One master per dataset; on it, in the same run, a `redis-server --replicaof`
replica and redsink, one after the other, each timed from process start until
its copy is usable (the replica: INFO says master_link_status:up; redsink: a
marker written after its start is acknowledged by WAIT 1, i.e. committed in
SQLite and readable through the views). Sections:

  fullsync  full-sync time and peak RSS per dataset, medians of --runs runs
  stream    redis-benchmark -P 16 per command type, and 50 clients unpipelined,
            against a master with both replicas attached: commands/s, largest
            lag in bytes, catch-up time after the load stops
  latency   time from a write acknowledged by the master to the row readable
            through the SQL views, p50/p99/max at 1k and 10k writes/s
  ceiling   the same rows inserted by a bare C loop (bench/sqlite_ceiling)

Results go to DIR (default results/) as results.md and results.csv; --plot also
draws results.png with gnuplot. Every process started is killed by pid.
"""
import argparse
import csv
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from compare import Redis  # noqa: E402

REDSINK = os.environ.get("REDSINK", os.path.join(TOP, "daemon", "redsink"))
VISLAT = os.path.join(TOP, "bench", "vislat")
CEILING = os.path.join(TOP, "bench", "sqlite_ceiling")

PROCS = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(args, **kw):
    p = subprocess.Popen(args, **kw)
    PROCS.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.kill()
    p.wait()
    if p in PROCS:
        PROCS.remove(p)


def connect(port, proc=None):
    for _ in range(1000):
        try:
            return Redis("127.0.0.1", port)
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError("redis-server on port %d exited" % port)
            time.sleep(0.01)
    raise RuntimeError("cannot connect to port %d" % port)


def info_field(r, section, name):
    m = re.search(r"^%s:(\S+)" % re.escape(name), r("INFO", section).decode(), re.M)
    return m.group(1) if m else None


def peak_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def median(xs):
    return statistics.median(xs) if xs else float("nan")


class Master:
    """A master with diskless sync and no delay, so each replica gets its own
    snapshot stream straight from a fork."""

    def __init__(self, tmp, name):
        self.dir = os.path.join(tmp, name)
        os.mkdir(self.dir)
        self.port = free_port()
        self.proc = start(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                           "--save", "", "--appendonly", "no", "--dir", self.dir,
                           "--enable-debug-command", "yes", "--repl-diskless-sync", "yes",
                           "--repl-diskless-sync-delay", "0", "--lua-time-limit", "0",
                           "--client-output-buffer-limit", "replica 256mb 64mb 60",
                           "--logfile", os.path.join(self.dir, "master.log")])
        self.r = connect(self.port, self.proc)

    def close(self):
        stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# Datasets. Lua builds each one inside the master in chunks (no network cost).

LUA_HASHES = """
local p, s, n, f = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local a = {}
for j = 1, f - 1 do a[#a + 1] = 'field:' .. j; a[#a + 1] = 'value:' .. j end
for i = s, s + n - 1 do
  redis.call('HSET', p .. i, 'id', i, unpack(a))
end
return n
"""
LUA_LISTS = """
local p, s, n, e = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local a = {}
for j = 1, e do a[#a + 1] = 'element:' .. j end
for i = s, s + n - 1 do
  redis.call('RPUSH', p .. i, i, unpack(a, 2))
end
return n
"""
LUA_ZSETS = """
local p, s, n, m, base = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]),
  tonumber(ARGV[5])
for i = s, s + n - 1 do
  local j = 0
  while j < m do
    local a = {}
    for k = j, math.min(j + 999, m - 1) do
      a[#a + 1] = ((k + base) * 7919) % 1000003 / 7; a[#a + 1] = 'member:' .. (k + base)
    end
    redis.call('ZADD', p .. i, unpack(a))
    j = j + 1000
  end
end
return n
"""
LUA_STREAMS = """
local p, s, n, e = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i = s, s + n - 1 do
  for j = 1, e do
    redis.call('XADD', p .. i, i .. '-' .. j, 'user', i, 'action', 'click', 'n', j)
  end
end
return n
"""
LUA_SETS = """
local p, s, n, m = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i = s, s + n - 1 do
  local a = {}
  for k = 1, m do a[#a + 1] = 'm:' .. (i * 31 + k) end
  redis.call('SADD', p .. i, unpack(a))
end
return n
"""
LUA_STRINGS = """
local p, s, n, size = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local v = string.rep('x', size)
for i = s, s + n - 1 do redis.call('SET', p .. i, i .. v) end
return n
"""


def run_chunks(r, script, prefix, keys, per_call, *extra):
    for s in range(0, keys, per_call):
        r("EVAL", script, 0, prefix, s, min(per_call, keys - s), *extra)


def pop_strings(r, n):
    r("DEBUG", "POPULATE", n, "key", 12)


def pop_hashes(r, n, fields=50):
    run_chunks(r, LUA_HASHES, "hash:", n, 2000, fields)


def pop_lists(r, n, elements=1000):
    run_chunks(r, LUA_LISTS, "list:", n, 200, elements)


def pop_zsets(r, n, members=10000):
    run_chunks(r, LUA_ZSETS, "zset:", n, 20, members, 0)


def pop_streams(r, n, entries=1000):
    run_chunks(r, LUA_STREAMS, "stream:", n, 100, entries)


def pop_bigzset(r, members):
    for base in range(0, members, 100000):
        r("EVAL", LUA_ZSETS, 0, "bigzset", 0, 1, min(100000, members - base), base)


def pop_mixed(r, target_bytes):
    """Rounds of every type until the master's used_memory reaches the target."""
    rnd = 0
    while int(info_field(r, "memory", "used_memory")) < target_bytes:
        p = "mixed:%d:" % rnd
        r("EVAL", LUA_STRINGS, 0, p + "str:", 0, 20000, 100)
        r("EVAL", LUA_HASHES, 0, p + "hash:", 0, 2000, 20)
        r("EVAL", LUA_LISTS, 0, p + "list:", 0, 200, 200)
        r("EVAL", LUA_SETS, 0, p + "set:", 0, 500, 100)
        r("EVAL", LUA_ZSETS, 0, p + "zset:", 0, 100, 300, rnd * 300)
        r("EVAL", LUA_STREAMS, 0, p + "stream:", 0, 50, 100)
        rnd += 1


BASE = ("strings-1M", "hashes-100k", "lists-10k", "zsets-1k", "streams-1k")


def datasets(quick):
    """(name, description, populate, ceiling args or None)"""
    ds = [
        ("strings-1M", "1M strings, 12-byte values", lambda r: pop_strings(r, 10**6),
         ("string", 10**6, 0)),
        ("hashes-100k", "100k hashes x 50 fields", lambda r: pop_hashes(r, 10**5),
         ("hash", 10**5, 50)),
        ("lists-10k", "10k lists x 1,000 elements", lambda r: pop_lists(r, 10**4),
         ("list", 10**4, 1000)),
        ("zsets-1k", "1k zsets x 10,000 members", lambda r: pop_zsets(r, 1000),
         ("zset", 1000, 10000)),
        ("streams-1k", "1k streams x 1,000 entries", lambda r: pop_streams(r, 1000),
         ("stream", 1000, 1000)),
        ("mixed-1G", "mixed types, 1 GB used_memory", lambda r: pop_mixed(r, 1 << 30), None),
        ("bigzset-10M", "one zset of 10M members", lambda r: pop_bigzset(r, 10**7),
         ("zset", 1, 10**7)),
    ]
    if quick:
        return ds[:5]
    # no zsets at 10x: 100M skiplist members take ~12 GB in each Redis
    # process, and the master plus a replica would not fit in 24 GB
    return ds + [
        ("strings-10M", "10M strings (10x)", lambda r: pop_strings(r, 10**7), None),
        ("hashes-1M", "1M hashes x 50 fields (10x)", lambda r: pop_hashes(r, 10**6), None),
        ("lists-100k", "100k lists x 1,000 elements (10x)", lambda r: pop_lists(r, 10**5), None),
        ("streams-10k", "10k streams x 1,000 entries (10x)", lambda r: pop_streams(r, 10**4), None),
    ]


# ---------------------------------------------------------------------------

def time_redis_replica(tmp, master):
    port = free_port()
    d = tempfile.mkdtemp(dir=tmp)
    t0 = time.monotonic()
    p = start(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
               "--appendonly", "no", "--dir", d, "--replicaof", "127.0.0.1", str(master.port),
               "--logfile", os.path.join(d, "replica.log")])
    r = connect(port, p)
    while info_field(r, "replication", "master_link_status") != "up":
        if p.poll() is not None:
            raise RuntimeError("redis replica exited")
        time.sleep(0.005)
    t = time.monotonic() - t0
    rss = peak_rss_kb(p.pid)
    stop(p)
    shutil.rmtree(d, ignore_errors=True)
    return t, rss


def start_redsink(tmp, master, name="mirror.db"):
    db = os.path.join(tmp, name)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    log = open(os.path.join(tmp, "redsink.log"), "a")
    p = start([REDSINK, "--master", "127.0.0.1:%d" % master.port, "--sqlite", db], stderr=log)
    log.close()
    return p, db


def wait_redsink(master, p, marker):
    """Until a write made now is acknowledged: redsink has loaded the snapshot
    and committed the stream up to that write."""
    r = master.r
    r("SET", "bench:marker", marker)
    while r("WAIT", 1, 100) < 1:
        if p.poll() is not None:
            raise RuntimeError("redsink exited with %d" % p.returncode)


def time_redsink(tmp, master, marker):
    t0 = time.monotonic()
    p, db = start_redsink(tmp, master)
    wait_redsink(master, p, marker)
    t = time.monotonic() - t0
    rss = peak_rss_kb(p.pid)
    stop(p)
    con = sqlite3.connect(db)
    keys = con.execute("SELECT count(*) FROM redis_keys").fetchone()[0]
    con.close()
    return t, rss, keys


def bench_fullsync(tmp, args, rows):
    for name, desc, populate, ceil in datasets(args.quick):
        if args.datasets and name not in args.datasets:
            continue
        master = Master(tmp, name)
        try:
            t = time.monotonic()
            populate(master.r)
            dbsize = master.r("DBSIZE")
            mem = int(info_field(master.r, "memory", "used_memory"))
            master.r("SAVE")  # only to know the snapshot's size
            rdb = os.path.getsize(os.path.join(master.dir, "dump.rdb"))
            os.remove(os.path.join(master.dir, "dump.rdb"))
            print("[fullsync] %s: %d keys, %.0f MB used_memory, built in %.1f s"
                  % (name, dbsize, mem / 1e6, time.monotonic() - t), flush=True)
            rt, rr, st, sr = [], [], [], []
            runs = args.runs if name in BASE else args.big_runs
            for run in range(runs):
                a, b = time_redis_replica(tmp, master)
                rt.append(a)
                rr.append(b)
                c, d, keys = time_redsink(tmp, master, "%s-%d" % (name, run))
                st.append(c)
                sr.append(d)
                if keys != dbsize + 1:
                    raise RuntimeError("%s: redsink mirrored %d keys, master has %d"
                                       % (name, keys, dbsize + 1))
                print("  run %d: redis replica %.2f s (%.0f MB), redsink %.2f s (%.1f MB)"
                      % (run + 1, a, b / 1024, c, d / 1024), flush=True)
            row = {"section": "fullsync", "name": name, "what": desc, "keys": dbsize,
                   "rdb_mb": round(rdb / 1e6, 1), "redis_s": round(median(rt), 3),
                   "redsink_s": round(median(st), 3),
                   "ratio": round(median(st) / median(rt), 2),
                   "redis_rss_mb": round(median(rr) / 1024, 1),
                   "redsink_rss_mb": round(max(sr) / 1024, 1), "runs": runs}
            if ceil and "ceiling" in args.only:
                out = subprocess.run([CEILING, os.path.join(tmp, "ceiling.db")] + [str(x) for x in ceil],
                                     capture_output=True, text=True, check=True).stdout
                for suffix in ("", "-wal", "-shm"):
                    p = os.path.join(tmp, "ceiling.db" + suffix)
                    if os.path.exists(p):
                        os.remove(p)
                m = dict(kv.split("=") for kv in out.split())
                row["sqlite_ceiling_s"] = round(float(m["seconds"]), 3)
                row["rows"] = int(m["rows"])
            rows.append(row)
            print("  median: redis %.2f s, redsink %.2f s, ratio %.2fx, redsink peak RSS %.1f MB%s"
                  % (row["redis_s"], row["redsink_s"], row["ratio"], row["redsink_rss_mb"],
                     ", bare SQLite loop %.2f s" % row["sqlite_ceiling_s"]
                     if "sqlite_ceiling_s" in row else ""), flush=True)
        finally:
            master.close()


# ---------------------------------------------------------------------------

# (name, setup, redis-benchmark arguments). 'setup' runs on the master before
# the replicas catch up: EVAL argument lists. redis-benchmark's -r replaces
# __rand_int__ by a 12-digit number below -r (100000 unless the case sets it).
LUA_KEYS = ("for i = 0, 99999 do redis.call('SET', string.format('key:%012d', i), 'x') end",
            "0")
LUA_GROUP = ("redis.call('XGROUP', 'CREATE', KEYS[1], 'g', '$', 'MKSTREAM')", "1", "bench:q")
# one entry in, one read by the group (XREADGROUP propagates as XCLAIM and
# XGROUP SETID), one acknowledged
LUA_XQUEUE = ("redis.call('XADD', KEYS[1], '*', 'job', ARGV[1]);"
              " local r = redis.call('XREADGROUP', 'GROUP', 'g', 'c' .. (ARGV[1] % 8), 'COUNT', 1,"
              " 'STREAMS', KEYS[1], '>');"
              " if r and r[1] then for _, e in ipairs(r[1][2]) do"
              " redis.call('XACK', KEYS[1], 'g', e[1]) end end")
LUA_10 = "for i = 1, 10 do redis.call('SET', KEYS[1] .. ':' .. i, ARGV[1]) end"

STREAM_TESTS = [
    ("set", [], ["-t", "set"]), ("lpush", [], ["-t", "lpush"]), ("hset", [], ["-t", "hset"]),
    ("sadd", [], ["-t", "sadd"]), ("zadd", [], ["-t", "zadd"]), ("incr", [], ["-t", "incr"]),
    ("xadd", [], ["XADD", "bench:stream:__rand_int__", "*", "field", "__rand_int__"]),
    ("xadd-maxlen", [], ["-r", "10", "XADD", "bench:capped:__rand_int__", "MAXLEN", "~", "1000",
                         "*", "field", "__rand_int__"]),
    ("xadd-hot", [], ["-r", "4", "XADD", "bench:hot:__rand_int__", "*", "field", "__rand_int__"]),
    ("xreadgroup-xack", [LUA_GROUP], ["EVAL", LUA_XQUEUE, "1", "bench:q", "__rand_int__"]),
    ("hincrby", [], ["HINCRBY", "bench:counters", "f:__rand_int__", "1"]),
    ("lpush-rpop", [], ["-t", "lpush,rpop"]),
    ("expire", [LUA_KEYS], ["EXPIRE", "key:__rand_int__", "100"]),
    ("lua-10-writes", [], ["EVAL", LUA_10, "1", "bench:lua:__rand_int__", "__rand_int__"]),
]


def stream_cases(n, names=None):
    """(name, setup, redis-benchmark arguments, mode) for each stream case."""
    cases = []
    for name, setup, a in STREAM_TESTS:
        extra = [] if "-r" in a else ["-r", "100000"]
        cases.append((name, setup, ["-P", "16", "-n", str(n)] + extra + a, "-P 16"))
    cases.append(("mix-50-clients", [],
                  ["-c", "50", "-n", str(n // 4), "-r", "100000", "-t", "set,lpush,hset,sadd,zadd,incr"],
                  "50 clients, unpipelined"))
    return [c for c in cases if not names or c[0] in names]


def offsets(r):
    info = r("INFO", "replication").decode()
    master = int(re.search(r"master_repl_offset:(\d+)", info).group(1))
    acks = [int(x) for x in re.findall(r"slave\d+:.*?offset=(\d+)", info)]
    return master, acks


def bench_stream(tmp, args, rows):
    n = 200000 if args.quick else 1000000
    for name, setup, bargs, mode in stream_cases(n, args.stream_cases):
        master = Master(tmp, "stream-" + name.replace(",", "_"))
        try:
            for ev in setup:
                master.r("EVAL", *ev)
            rport = free_port()
            d = tempfile.mkdtemp(dir=tmp)
            rp = start(["redis-server", "--bind", "127.0.0.1", "--port", str(rport), "--save", "",
                        "--appendonly", "no", "--dir", d, "--replicaof", "127.0.0.1", str(master.port),
                        "--logfile", os.path.join(d, "replica.log")])
            sp, db = start_redsink(tmp, master)
            r = master.r
            r("SET", "bench:start", "1")
            while r("WAIT", 2, 1000) < 2:
                pass
            con = sqlite3.connect(db)
            before = con.execute("SELECT commands_applied FROM redsink_status").fetchone()[0]
            full_before = int(info_field(r, "stats", "sync_full"))
            lag = {"redsink": 0, "redis": 0}
            done = [False]
            # which slaveN is redsink: the one announcing port 0 (redsink's default)
            def sample():
                s = connect(master.port)
                while not done[0]:
                    info = s("INFO", "replication").decode()
                    m = int(re.search(r"master_repl_offset:(\d+)", info).group(1))
                    for port, off in re.findall(r"slave\d+:ip=[^,]*,port=(\d+),state=\w+,offset=(\d+)", info):
                        who = "redis" if int(port) == rport else "redsink"
                        lag[who] = max(lag[who], m - int(off))
                    time.sleep(0.05)
            th = threading.Thread(target=sample)
            th.start()
            t0 = time.monotonic()
            out = subprocess.run(["redis-benchmark", "-p", str(master.port), "-q"] + bargs,
                                 capture_output=True, text=True).stdout
            t_end = time.monotonic()
            r("SET", "bench:end", "1")
            while r("WAIT", 2, 100) < 2:
                pass
            t_caught = time.monotonic()
            done[0] = True
            th.join()
            after = con.execute("SELECT commands_applied FROM redsink_status").fetchone()[0]
            con.close()
            rps = [float(x) for x in re.findall(r"([\d.]+) requests per second", out.replace("\r", "\n"))]
            master_rps = statistics.mean(rps) if rps else 0
            applied = after - before
            row = {"section": "stream", "name": name, "what": mode,
                   "commands": applied, "master_cmds_per_s": round(master_rps),
                   "redsink_cmds_per_s": round(applied / (t_caught - t0)),
                   "bench_s": round(t_end - t0, 2),
                   "redsink_max_lag_mb": round(lag["redsink"] / 1e6, 1),
                   "redis_max_lag_mb": round(lag["redis"] / 1e6, 1),
                   "catchup_s": round(t_caught - t_end, 3),
                   "resyncs": int(info_field(r, "stats", "sync_full")) - full_before,
                   "redsink_rss_mb": round(peak_rss_kb(sp.pid) / 1024, 1)}
            rows.append(row)
            print("[stream] %-32s %s: master %d/s, redsink applied %d at %d/s, lag max %.1f MB "
                  "(redis replica %.1f MB), catch-up %.3f s, full resyncs %d, peak RSS %.1f MB"
                  % (name, mode, row["master_cmds_per_s"], applied, row["redsink_cmds_per_s"],
                     row["redsink_max_lag_mb"], row["redis_max_lag_mb"], row["catchup_s"],
                     row["resyncs"], row["redsink_rss_mb"]), flush=True)
            stop(sp)
            stop(rp)
            shutil.rmtree(d, ignore_errors=True)
        finally:
            master.close()


# ---------------------------------------------------------------------------

def bench_latency(tmp, args, rows):
    secs = 5 if args.quick else 20
    master = Master(tmp, "latency")
    try:
        sp, db = start_redsink(tmp, master)
        wait_redsink(master, sp, "latency")
        for rate in (1000, 10000):
            out = subprocess.run([VISLAT, "127.0.0.1", str(master.port), db, str(rate), str(secs)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                raise RuntimeError("vislat: " + out.stderr.strip())
            m = dict(kv.split("=") for kv in out.stdout.split())
            row = {"section": "latency", "name": "%d writes/s" % rate,
                   "what": "SET, one client, %d s" % secs, "writes": int(m["writes"]),
                   "achieved_per_s": round(float(m["achieved"])),
                   "p50_ms": float(m["p50_ms"]), "p99_ms": float(m["p99_ms"]),
                   "max_ms": float(m["max_ms"])}
            rows.append(row)
            print("[latency] %s: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d writes at %d/s)"
                  % (row["name"], row["p50_ms"], row["p99_ms"], row["max_ms"], row["writes"],
                     row["achieved_per_s"]), flush=True)
        stop(sp)
    finally:
        master.close()


# ---------------------------------------------------------------------------

COLUMNS = {
    "fullsync": ["name", "what", "keys", "rdb_mb", "redis_s", "redsink_s", "ratio",
                 "sqlite_ceiling_s", "redis_rss_mb", "redsink_rss_mb", "runs"],
    "stream": ["name", "what", "commands", "master_cmds_per_s", "redsink_cmds_per_s",
               "redsink_max_lag_mb", "redis_max_lag_mb", "catchup_s", "resyncs",
               "redsink_rss_mb"],
    "latency": ["name", "what", "writes", "achieved_per_s", "p50_ms", "p99_ms", "max_ms"],
}
GROWTH = [("strings-1M", "strings-10M"), ("hashes-100k", "hashes-1M"),
          ("lists-10k", "lists-100k"), ("streams-1k", "streams-10k")]
TITLES = {"fullsync": "Full sync (medians; time until usable)",
          "stream": "Stream apply (redis-benchmark against the master)",
          "latency": "Visibility latency (master reply to row readable in SQL)"}


def write_results(rows, args, started):
    os.makedirs(args.out, exist_ok=True)
    allcols = []
    for cols in COLUMNS.values():
        allcols += [c for c in cols if c not in allcols]
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, ["section"] + allcols, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow(row)
    byname = {r["name"]: r for r in rows if r["section"] == "fullsync"}
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("# redsink benchmark, %s%s\n\n" % (time.strftime("%Y-%m-%d %H:%M", started),
                                                 " (--quick)" if args.quick else ""))
        f.write("Machine: %d cores, %s. redis-server %s.\n" % (
            os.cpu_count(), open("/proc/meminfo").readline().split(":")[1].strip(),
            subprocess.run(["redis-server", "--version"], capture_output=True,
                           text=True).stdout.split()[2]))
        for section, cols in COLUMNS.items():
            part = [r for r in rows if r["section"] == section]
            if not part:
                continue
            f.write("\n## %s\n\n| %s |\n|%s\n" % (TITLES[section], " | ".join(cols),
                                                  "---|" * len(cols)))
            for r in part:
                f.write("| %s |\n" % " | ".join(str(r.get(c, "")) for c in cols))
        growth = [(a, b) for a, b in GROWTH if a in byname and b in byname]
        if growth:
            f.write("\n## Growth: the 10x datasets against the base ones (10.0 = linear)\n\n"
                    "| datasets | redis replica | redsink | redsink peak RSS (MB) |\n|---|---|---|---|\n")
            for a, b in growth:
                x, y = byname[a], byname[b]
                f.write("| %s -> %s | %.1fx | %.1fx | %s -> %s |\n"
                        % (a, b, y["redis_s"] / x["redis_s"], y["redsink_s"] / x["redsink_s"],
                           x["redsink_rss_mb"], y["redsink_rss_mb"]))
    print("results: %s/results.md, %s/results.csv" % (args.out, args.out))


def plot(rows, args):
    part = [r for r in rows if r["section"] == "fullsync"]
    if not part:
        return
    dat = os.path.join(args.out, "fullsync.dat")
    with open(dat, "w") as f:
        for r in part:
            f.write("%s %s %s\n" % (r["name"], r["redis_s"], r["redsink_s"]))
    script = ("set terminal png size 1000,500; set output '%s';"
              "set style data histogram; set style histogram cluster gap 1;"
              "set style fill solid border -1; set ylabel 'seconds'; set xtics rotate by -30;"
              "set title 'full sync: redis replica vs redsink';"
              "plot '%s' using 2:xtic(1) title 'redis replica', '' using 3 title 'redsink'"
              % (os.path.join(args.out, "results.png"), dat))
    if shutil.which("gnuplot") is None:
        print("--plot: gnuplot not found (apt-get install gnuplot-nox)")
        return
    subprocess.run(["gnuplot", "-e", script], check=True)
    print("plot: %s/results.png" % args.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the 5 small-key datasets, shorter runs")
    ap.add_argument("--runs", type=int, default=None, help="runs per dataset (3; --quick: 1)")
    ap.add_argument("--big-runs", type=int, default=1,
                    help="runs for mixed-1G, bigzset-10M and the 10x datasets (1)")
    ap.add_argument("--only", default="fullsync,stream,latency,ceiling",
                    help="sections, comma-separated")
    ap.add_argument("--datasets", default="", help="dataset names, comma-separated")
    ap.add_argument("--stream-cases", default="",
                    help="stream section cases, comma-separated (xadd,xadd-hot,...; default all)")
    ap.add_argument("--plot", action="store_true", help="draw results.png with gnuplot")
    ap.add_argument("--out", default=os.path.join(TOP, "results"))
    args = ap.parse_args()
    args.only = args.only.split(",")
    args.datasets = [d for d in args.datasets.split(",") if d]
    args.stream_cases = [c for c in args.stream_cases.split(",") if c]
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    for exe in (REDSINK, VISLAT, CEILING):
        if not os.access(exe, os.X_OK):
            sys.exit("%s not built: run 'make bench' first" % exe)
    started = time.localtime()
    tmp = tempfile.mkdtemp(prefix="redsink-bench-")
    rows = []
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        if "fullsync" in args.only:
            bench_fullsync(tmp, args, rows)
        if "stream" in args.only:
            bench_stream(tmp, args, rows)
        if "latency" in args.only:
            bench_latency(tmp, args, rows)
    finally:
        for p in list(PROCS):
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
        if rows:
            write_results(rows, args, started)
            if args.plot:
                plot(rows, args)


if __name__ == "__main__":
    main()
