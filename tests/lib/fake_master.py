#!/usr/bin/env python3
"""A scripted fake Redis master speaking the real replication bytes.

  fake_master.py PORTFILE MODE RDBFILE [STREAMFILE [STREAM2FILE]]

Listens on a free 127.0.0.1 port (written to PORTFILE), serves one replica
connection at a time, forever (the test kills it by pid). SIGUSR1 cuts the
connection being served (the test's way to force a reconnection at a moment
it chose). It answers the handshake, then behaves by MODE:
  sync-only    Redis 2.4/2.6 (no PSYNC): REPLCONF listening-port -> +OK,
               REPLCONF capa -> "-ERR Unrecognized REPLCONF option: capa",
               PSYNC -> "-ERR unknown command 'PSYNC'", then SYNC -> newline
               keep-alives, "$<len>" + RDB, then STREAMFILE; every later
               connection is a full sync again, followed by STREAM2FILE
  psync1, psync1-nocapa
               Redis 2.8/3.0 (PSYNC without psync2): "+FULLRESYNC <runid> 100",
               newline keep-alives, "$<len>" + RDB, STREAMFILE; a later
               "PSYNC <runid> <offset+1>" -> bare "+CONTINUE" and STREAM2FILE
               (any other offset: a full sync). psync1 answers REPLCONF capa
               with +OK, as 2.8.22+/3.0.4+ do; psync1-nocapa with
               "-ERR Unrecognized REPLCONF option: capa", as 2.8.0/3.0.0 do
  psync        "\n" keep-alives, "+FULLRESYNC <id> 100", "\n" keep-alives,
               "$<len>" + RDB, then STREAMFILE (Redis >= 3.2 sends the newlines
               while the BGSAVE has not started, before the +FULLRESYNC)
  diskless     "+FULLRESYNC <id> 100", "$EOF:<mark>" + RDB + mark, STREAMFILE
               only after the replica's first REPLCONF ACK (as Redis does)
  files, files-eof
               RDBFILE lists RDB files, one a line: connection N gets file N
               (the last one after that) with "$<len>" (files) or "$EOF:"
               (files-eof) framing, then STREAMFILE
  badcrc       like psync, with one byte of the RDB's body inverted
  truncate     like psync, but the link is closed halfway through the RDB
  loading, nomasterlink, masterdown
               the first connection's PSYNC gets -LOADING / -NOMASTERLINK /
               -MASTERDOWN (transient), later ones behave like psync
  noauth       PSYNC -> "-NOAUTH Authentication required." (every time)
  noperm       PSYNC -> "-NOPERM ..." (every time)
  wrongpass    AUTH -> "-WRONGPASS ..." (every time)
  refuse, refuse-diskless
               "+FULLRESYNC <id> 100", then the link is closed before the
               payload (refuse: a disk-based master whose BGSAVE failed) or
               after "$EOF:<mark>" and the RDB's first 9 bytes (refuse-diskless:
               Valkey 9's diskless child giving up on a key it cannot store in
               the RDB version it chose), every time
  continue     first connection like psync, closed once the replica ACKed the
               whole stream; later PSYNC <id> <off> -> "+CONTINUE <NEWID>" and
               "SET fake:key2 world"
Every command received is appended to PORTFILE.log, one line each.
INFO is answered with "redis_version:$FAKE_MASTER_VERSION" when that
variable is set (a recorded old master, tests/integration/old_masters_replay.sh),
else refused like any unexpected command.
"""
import os
import signal
import socket
import sys
import time

portfile, mode, rdbfile = sys.argv[1:4]
stream = open(sys.argv[4], "rb").read() if len(sys.argv) > 4 else b""
stream2 = open(sys.argv[5], "rb").read() if len(sys.argv) > 5 else b""
if mode in ("files", "files-eof"):
    rdbs = [open(f, "rb").read() for f in open(rdbfile).read().split()]
else:
    rdbs = [open(rdbfile, "rb").read()]
OLD = ("sync-only", "psync1", "psync1-nocapa")
master_offset = 100           # like master_repl_offset: the stream bytes sent
REPLID = b"0123456789abcdef0123456789abcdef01234567"
NEWID = b"fedcba9876543210fedcba9876543210fedcba98"
TRANSIENT = {"loading": b"-LOADING Redis is loading the dataset in memory\r\n",
             "nomasterlink": b"-NOMASTERLINK Can't SYNC while not connected with my master\r\n",
             "masterdown": b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"}
connections = 0
log = open(portfile + ".log", "a")


class Cut(Exception):
    """SIGUSR1: drop the connection being served."""


def on_usr1(signum, frame):
    raise Cut()


signal.signal(signal.SIGUSR1, on_usr1)


def replconf_reply(args):
    """What the MODE's Redis version answers to REPLCONF <option> ...
    (replconfCommand: 2.4-2.6, 2.8.0-2.8.21 and 3.0.0-3.0.3 know listening-port only)."""
    if mode == "sync-only" or mode == "psync1-nocapa":
        for opt in args[1::2]:
            if opt.lower() != b"listening-port":
                return b"-ERR Unrecognized REPLCONF option: " + opt + b"\r\n"
    return b"+OK\r\n"


def read_command(conn, buf):
    """One RESP array or inline command; returns (args, rest) or (None, buf)."""
    while True:
        if buf.startswith(b"*"):
            try:
                n_end = buf.index(b"\r\n")
                n = int(buf[1:n_end])
                pos, args = n_end + 2, []
                for _ in range(n):
                    l_end = buf.index(b"\r\n", pos)
                    ln = int(buf[pos + 1:l_end])
                    if len(buf) < l_end + 2 + ln + 2:
                        raise ValueError
                    args.append(buf[l_end + 2:l_end + 2 + ln])
                    pos = l_end + 2 + ln + 2
                return args, buf[pos:]
            except ValueError:
                pass
        elif b"\n" in buf:
            line, rest = buf.split(b"\n", 1)
            line = line.strip()
            if line:
                return line.split(), rest
            buf = rest
            continue
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data


def serve(conn):
    global connections
    buf = b""
    connections += 1
    while True:
        args, buf = read_command(conn, buf)
        if args is None:
            return
        name = args[0].upper()
        log_command(args)
        if name == b"PING":
            conn.sendall(b"+PONG\r\n")
        elif name == b"REPLCONF":
            if len(args) > 1 and args[1].upper() == b"ACK":
                continue
            conn.sendall(replconf_reply(args))
        elif name == b"INFO" and os.environ.get("FAKE_MASTER_VERSION"):
            body = b"# Server\r\nredis_version:%s\r\n" % os.environ["FAKE_MASTER_VERSION"].encode()
            conn.sendall(b"$%d\r\n%s\r\n" % (len(body), body))
        elif name == b"AUTH":
            conn.sendall(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
                         if mode == "wrongpass" else b"+OK\r\n")
        elif name == b"PSYNC" and mode in TRANSIENT and connections == 1:
            conn.sendall(TRANSIENT[mode])
            return
        elif name == b"PSYNC" and mode == "noauth":
            conn.sendall(b"-NOAUTH Authentication required.\r\n")
            return
        elif name == b"PSYNC" and mode == "noperm":
            conn.sendall(b"-NOPERM this user has no permissions to run the 'psync' command\r\n")
            return
        elif name == b"PSYNC" and mode == "continue" and args[1] != b"?":
            conn.sendall(b"+CONTINUE " + NEWID + b"\r\n")
            conn.sendall(b"*3\r\n$3\r\nSET\r\n$8\r\nfake:key\r\n$5\r\nworld\r\n")
            serve_acks(conn, buf)
            return
        elif name == b"PSYNC" and mode == "sync-only":
            conn.sendall(b"-ERR unknown command '" + args[0] + b"'\r\n")
        elif (name == b"PSYNC" and mode in ("psync1", "psync1-nocapa") and
              args[1:] == [REPLID, b"%d" % (master_offset + 1)]):
            continue_old(conn, buf)
            return
        elif name in (b"PSYNC", b"SYNC"):
            break
        else:
            conn.sendall(b"-ERR unexpected\r\n")
    full_sync(conn, buf, rdbs[min(connections, len(rdbs)) - 1])


def continue_old(conn, buf):
    """Redis 2.8/3.0 accepts a partial resync with a bare +CONTINUE (no
    replication id: psync2 came with 4.0), then the backlog's bytes."""
    global master_offset
    conn.sendall(b"+CONTINUE\r\n")
    conn.sendall(stream2)
    master_offset += len(stream2)
    serve_acks(conn, buf)


def serve_acks(conn, buf, until=None):
    """Log what the replica sends (ACKs) until it goes, or until a command
    starts with the list 'until'. Returns the rest of the buffer, or None
    when the replica went."""
    while True:
        args, buf = read_command(conn, buf)
        if args is None:
            return None
        log_command(args)
        if until is not None and args[:len(until)] == until:
            return buf


def log_command(args):
    log.write(" ".join(a.decode(errors="replace") for a in args) + "\n")
    log.flush()


def full_sync(conn, buf, rdb):
    global master_offset
    if mode == "psync":
        conn.sendall(b"\n")                    # BGSAVE not started yet
        time.sleep(0.02)                        # (a separate segment)
        conn.sendall(b"\n")
    if mode != "sync-only":
        master_offset = 100
        conn.sendall(b"+FULLRESYNC " + REPLID + b" 100\r\n")
    conn.sendall(b"\n\n")                      # keep-alives while "saving"
    if mode == "refuse":
        return
    if mode == "refuse-diskless":
        conn.sendall(b"$EOF:" + b"f" * 20 + b"0" * 20 + b"\r\n" + rdb[:9])
        time.sleep(0.05)
        return
    body = bytearray(rdb)
    if mode == "badcrc":
        # inside the raw random value of str:rand:1000: only the CRC can tell
        body[body.index(b"str:rand:1000") + 13 + 2 + 500] ^= 0xFF
    if mode in ("diskless", "files-eof"):
        mark = b"f" * 20 + b"0" * 20
        conn.sendall(b"$EOF:" + mark + b"\r\n" + bytes(body[:7]))
        conn.sendall(bytes(body[7:]) + mark[:13])   # the mark split across writes
        time.sleep(0.05)
        conn.sendall(mark[13:])
        buf = serve_acks(conn, buf, [b"REPLCONF", b"ACK"])   # stream only after an ACK
        if buf is None:
            return
    else:
        conn.sendall(b"$%d\r\n" % len(body))
        if mode == "truncate":
            conn.sendall(bytes(body[:len(body) // 2]))
            return
        conn.sendall(bytes(body))
    conn.sendall(stream2 if mode == "sync-only" and connections > 1 else stream)
    master_offset += len(stream)
    end = b"%d" % (100 + len(stream))
    serve_acks(conn, buf, [b"REPLCONF", b"ACK", end] if mode == "continue" else None)


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(4)
tmp = portfile + ".tmp"
with open(tmp, "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(tmp, portfile)
while True:
    conn, _ = srv.accept()
    try:
        serve(conn)
    except (OSError, Cut):
        pass
    conn.close()
