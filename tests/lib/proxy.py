#!/usr/bin/env python3
"""A fault-injecting TCP proxy between redsink and a real master (tests only).

  proxy.py CTLDIR TARGET_PORT

Listens on a free 127.0.0.1 port (written to CTLDIR/port) and forwards every
connection to 127.0.0.1:TARGET_PORT. It is steered by files in CTLDIR, read
every 20 ms, so a test needs no extra client:
  cut        close every connection now (the file is removed when done)
  cut_after  "N [stall]": after N more bytes from the master, close every
             connection (file removed); with "stall", create CTLDIR/stall
             at the same moment, so a test can look at redsink between
             the cut and the next session
  stall      while it exists, forward nothing from the master (sockets stay
             open, bytes from redsink still reach the master)
  rate       "BYTES": forward at most BYTES per second from the master
Bounded: at most 64 connections, 64 KB buffered per direction; loopback only.
Every event is appended to CTLDIR/log.
"""
import os
import select
import socket
import sys
import time

ctl, target = sys.argv[1], int(sys.argv[2])
logf = open(os.path.join(ctl, "log"), "a")


def log(msg):
    logf.write("%.3f %s\n" % (time.time(), msg))
    logf.flush()


def path(name):
    return os.path.join(ctl, name)


def read_ctl(name):
    try:
        with open(path(name)) as f:
            return f.read().strip()
    except OSError:
        return None


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(8)
srv.setblocking(False)
with open(path("port.tmp"), "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(path("port.tmp"), path("port"))

pairs = []          # [client, upstream]
cut_left = None     # bytes from the master before a cut
cut_stall = False
budget, budget_t = 0.0, time.monotonic()


def close_all(why):
    for c, u in pairs:
        c.close()
        u.close()
    if pairs:
        log("cut %d connection(s): %s" % (len(pairs), why))
    pairs.clear()


while True:
    if read_ctl("cut") is not None:
        close_all("cut")
        os.unlink(path("cut"))
    spec = read_ctl("cut_after")
    if spec is not None:
        parts = spec.split()
        cut_left, cut_stall = int(parts[0]), "stall" in parts[1:]
        os.unlink(path("cut_after"))
        log("armed: cut after %d bytes" % cut_left)
    stalled = os.path.exists(path("stall"))
    rate = read_ctl("rate")
    now = time.monotonic()
    if rate:
        budget = min(float(rate), budget + float(rate) * (now - budget_t))
    budget_t = now

    rlist = [srv] + [c for c, _ in pairs]
    if not stalled and not (rate and budget < 1):
        rlist += [u for _, u in pairs]
    r, _, _ = select.select(rlist, [], [], 0.02)
    for s in r:
        if s is srv:
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            if len(pairs) >= 64:
                c.close()
                continue
            try:
                u = socket.create_connection(("127.0.0.1", target), timeout=5)
            except OSError:
                c.close()
                continue
            pairs.append([c, u])
            log("connection %d accepted" % len(pairs))
            continue
        pair = next((p for p in pairs if s in p), None)
        if pair is None:
            continue
        from_master = s is pair[1]
        want = 65536
        if from_master and rate:
            want = int(budget)
            if want <= 0:
                continue
        if from_master and cut_left is not None:
            want = min(want, cut_left)
        try:
            data = s.recv(want) if want > 0 else b""
        except OSError:
            data = b""
        if not data and not (from_master and cut_left == 0):
            pair[0].close()
            pair[1].close()
            pairs.remove(pair)
            log("connection closed by the %s" % ("master" if from_master else "replica"))
            continue
        try:
            (pair[0] if from_master else pair[1]).sendall(data)
        except OSError:
            pass
        if from_master:
            if rate:
                budget -= len(data)
            if cut_left is not None:
                cut_left -= len(data)
                if cut_left <= 0:
                    if cut_stall:
                        open(path("stall"), "w").close()
                    close_all("after the armed byte count")
                    cut_left = None
                    break
