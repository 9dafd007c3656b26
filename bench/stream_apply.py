#!/usr/bin/env python3
"""bench/stream_apply.py [N] [TESTS]: how fast redsink applies the stream.

Starts a master and redsink (full sync of an empty master), then runs
  redis-benchmark -t TESTS -P 16 -n N -r 100000
against the master while sampling, every 50 ms, the master's offset and the
offset redsink acknowledged (INFO replication). Prints the commands redsink
applied per second, the largest lag in bytes, and the time from the end of
the benchmark until `WAIT 1` returns (everything committed in SQLite).
Every process it starts is killed by pid at the end.
"""
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from compare import Redis  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
TESTS = sys.argv[2] if len(sys.argv) > 2 else "set,lpush,hset,sadd,zadd"
HERE = os.path.dirname(os.path.abspath(__file__))
REDSINK = os.environ.get("REDSINK", os.path.join(HERE, "..", "daemon", "redsink"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def offsets(r):
    info = r("INFO", "replication").decode()
    master = int(re.search(r"master_repl_offset:(\d+)", info).group(1))
    m = re.search(r"slave0:.*?offset=(\d+)", info)
    return master, int(m.group(1)) if m else 0


def main():
    tmp = tempfile.mkdtemp(prefix="redsink-bench-")
    procs = []
    try:
        port = free_port()
        procs.append(subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                                       "--save", "", "--appendonly", "no", "--dir", tmp,
                                       "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
                                       "--logfile", os.path.join(tmp, "master.log")]))
        for _ in range(200):
            try:
                r = Redis("127.0.0.1", port)
                break
            except OSError:
                time.sleep(0.02)
        db = os.path.join(tmp, "mirror.db")
        log = open(os.path.join(tmp, "redsink.log"), "w")
        procs.append(subprocess.Popen([REDSINK, "--master", "127.0.0.1:%d" % port, "--sqlite", db],
                                      stderr=log))
        r("SET", "bench:start", "1")
        while r("WAIT", 1, 1000) < 1:
            pass
        before = sqlite3.connect(db).execute("SELECT commands_applied FROM redsink_status").fetchone()[0]

        max_lag, stop = [0], [False]

        def sample():
            s = Redis("127.0.0.1", port)
            while not stop[0]:
                m, a = offsets(s)
                max_lag[0] = max(max_lag[0], m - a)
                time.sleep(0.05)

        th = threading.Thread(target=sample)
        th.start()
        t0 = time.time()
        out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", TESTS, "-P", "16", "-n", str(N),
                              "-r", "100000", "-q"], capture_output=True, text=True).stdout
        t_end = time.time()
        r("SET", "bench:end", "1")
        while r("WAIT", 1, 100) < 1:
            pass
        t_caught = time.time()
        stop[0] = True
        th.join()
        con = sqlite3.connect(db)
        after = con.execute("SELECT commands_applied FROM redsink_status").fetchone()[0]
        applied = after - before
        for line in out.replace("\r", "\n").splitlines():
            if "requests per second" in line:
                print("master: " + line.strip())
        print("redsink applied %d commands in %.2f s: %.0f commands/s (benchmark ran %.2f s)"
              % (applied, t_caught - t0, applied / (t_caught - t0), t_end - t0))
        print("largest replication lag (master offset - redsink ACK): %d bytes" % max_lag[0])
        print("catch-up after the benchmark ended (until WAIT 1 returned): %.3f s" % (t_caught - t_end))
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
