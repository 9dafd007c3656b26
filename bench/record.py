#!/usr/bin/env python3
"""bench/record.py: record the replication stream of suite.py's stream cases.

    python3 bench/record.py OUTDIR [-n COMMANDS] [--cases set,xadd,...]

For each case, a fresh master (the suite's settings) runs the case's setup
and then its redis-benchmark load while this script is attached as a
replica (PSYNC ? -1); the bytes the master propagates after the snapshot
go to OUTDIR/NAME.resp, unchanged (those of the setup, when the case has
one, to OUTDIR/NAME.pre.resp). bench/replay applies such a file to a new
mirror with no network, so that callgrind counts the same work on
every run (bench/README.md, "Instruction counts").
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402


def read_line(sock, buf):
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("master closed the link")
        buf += chunk
    i = buf.index(b"\r\n")
    return buf[:i], buf[i + 2:]


def attach(port):
    """Handshake, skip the snapshot; returns (socket, bytes after it, offset)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"REPLCONF capa psync2\r\n")
    buf = b""
    line, buf = read_line(s, buf)
    if line != b"+OK":
        raise RuntimeError("REPLCONF: %r" % line)
    s.sendall(b"PSYNC ? -1\r\n")
    while True:
        line, buf = read_line(s, buf)
        if line:
            break
    m = re.match(rb"\+FULLRESYNC (\S+) (\d+)", line)
    if not m:
        raise RuntimeError("PSYNC: %r" % line)
    offset = int(m.group(2))
    while True:                       # newlines while the master forks
        line, buf = read_line(s, buf)
        line = line.lstrip(b"\n")    # a lone "\n" keep-alive before the "$"
        if line:
            break
    if not line.startswith(b"$") or line.startswith(b"$EOF:"):
        raise RuntimeError("expected a disk-based snapshot, got %r" % line[:20])
    n = int(line[1:])
    while len(buf) < n:
        chunk = s.recv(1 << 20)
        if not chunk:
            raise RuntimeError("master closed the link")
        buf += chunk
    return s, buf[n:], offset


def record(tmp, name, setup, bargs, path):
    master = suite.Master(tmp, "rec-" + name)
    try:
        r = master.r
        r("CONFIG", "SET", "repl-diskless-sync", "no")
        s, rest, start = attach(master.port)
        for ev in setup:
            r("EVAL", *ev)
        pre = int(suite.info_field(r, "replication", "master_repl_offset")) - start
        got = [rest]
        size = [len(rest)]
        done = [False]

        def reader():
            last_ack = time.monotonic()
            s.settimeout(0.2)
            while not done[0]:
                try:
                    chunk = s.recv(1 << 20)
                except socket.timeout:
                    chunk = b""
                if chunk:
                    got.append(chunk)
                    size[0] += len(chunk)
                if time.monotonic() - last_ack > 1:
                    s.sendall(b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$%d\r\n%d\r\n"
                              % (len(str(start + size[0])), start + size[0]))
                    last_ack = time.monotonic()
        th = threading.Thread(target=reader)
        th.start()
        subprocess.run(["redis-benchmark", "-p", str(master.port), "-q"] + bargs,
                       capture_output=True, check=True)
        end = int(suite.info_field(r, "replication", "master_repl_offset"))
        while start + size[0] < end:
            time.sleep(0.05)
        done[0] = True
        th.join()
        s.close()
        data = b"".join(got)[:end - start]
        if setup:
            with open(path.replace(".resp", ".pre.resp"), "wb") as f:
                f.write(data[:pre])
        with open(path, "wb") as f:
            f.write(data[pre:])
        return len(data) - pre
    finally:
        master.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("-n", type=int, default=100000, help="commands per case (100000)")
    ap.add_argument("--cases", default="", help="case names, comma-separated (default all)")
    args = ap.parse_args()
    names = [c for c in args.cases.split(",") if c]
    os.makedirs(args.outdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="redsink-record-")
    try:
        for name, setup, bargs, _ in suite.stream_cases(args.n, names):
            path = os.path.join(args.outdir, name + ".resp")
            n = record(tmp, name, setup, bargs, path)
            print("%-16s %10d bytes  %s" % (name, n, path), flush=True)
    finally:
        for p in list(suite.PROCS):
            suite.stop(p)
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
