#!/usr/bin/env python3
"""A scripted fake Redis master speaking the real replication bytes.

  fake_master.py PORTFILE MODE RDBFILE [STREAMFILE]

Listens on a free 127.0.0.1 port (written to PORTFILE), serves one replica
connection at a time, forever (the test kills it by pid). It answers the
handshake, then behaves by MODE:
  sync-only    old master (< 2.8): PSYNC -> "-ERR unknown command 'PSYNC'",
               then SYNC -> newline keep-alives, "$<len>" + RDB, then STREAMFILE
  psync        "+FULLRESYNC <id> 100", "$<len>" + RDB, then STREAMFILE
  diskless     "+FULLRESYNC <id> 100", "$EOF:<mark>" + RDB + mark, STREAMFILE
               only after the replica's first REPLCONF ACK (as Redis does)
  badcrc       like psync, with one byte of the RDB's body inverted
  truncate     like psync, but the link is closed halfway through the RDB
  loading, nomasterlink, masterdown
               the first connection's PSYNC gets -LOADING / -NOMASTERLINK /
               -MASTERDOWN (transient), later ones behave like psync
  noauth       PSYNC -> "-NOAUTH Authentication required." (every time)
  noperm       PSYNC -> "-NOPERM ..." (every time)
  wrongpass    AUTH -> "-WRONGPASS ..." (every time)
  continue     first connection like psync, closed once the replica ACKed the
               whole stream; later PSYNC <id> <off> -> "+CONTINUE <NEWID>" and
               "SET fake:key2 world"
Every command received is appended to PORTFILE.log, one line each.
"""
import os
import socket
import sys
import time

portfile, mode, rdbfile = sys.argv[1:4]
stream = open(sys.argv[4], "rb").read() if len(sys.argv) > 4 else b""
rdb = open(rdbfile, "rb").read()
REPLID = b"0123456789abcdef0123456789abcdef01234567"
NEWID = b"fedcba9876543210fedcba9876543210fedcba98"
TRANSIENT = {"loading": b"-LOADING Redis is loading the dataset in memory\r\n",
             "nomasterlink": b"-NOMASTERLINK Can't SYNC while not connected with my master\r\n",
             "masterdown": b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"}
connections = 0
log = open(portfile + ".log", "a")


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
        log.write(" ".join(a.decode(errors="replace") for a in args) + "\n")
        log.flush()
        if name == b"PING":
            conn.sendall(b"+PONG\r\n")
        elif name == b"REPLCONF":
            if len(args) > 1 and args[1].upper() == b"ACK":
                continue
            conn.sendall(b"-ERR unknown command 'REPLCONF'\r\n" if mode == "sync-only" else b"+OK\r\n")
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
            while True:
                args, buf = read_command(conn, buf)
                if args is None:
                    return
                log.write(" ".join(a.decode(errors="replace") for a in args) + "\n")
                log.flush()
        elif name == b"PSYNC" and mode == "sync-only":
            conn.sendall(b"-ERR unknown command 'PSYNC'\r\n")
        elif name in (b"PSYNC", b"SYNC"):
            break
        else:
            conn.sendall(b"-ERR unexpected\r\n")
    if mode != "sync-only":
        conn.sendall(b"+FULLRESYNC " + REPLID + b" 100\r\n")
    conn.sendall(b"\n\n")                      # keep-alives while "saving"
    body = bytearray(rdb)
    if mode == "badcrc":
        # inside the raw random value of str:rand:1000: only the CRC can tell
        body[body.index(b"str:rand:1000") + 13 + 2 + 500] ^= 0xFF
    if mode == "diskless":
        mark = b"f" * 20 + b"0" * 20
        conn.sendall(b"$EOF:" + mark + b"\r\n" + bytes(body[:7]))
        conn.sendall(bytes(body[7:]) + mark[:13])   # the mark split across writes
        time.sleep(0.05)
        conn.sendall(mark[13:])
        while True:                               # stream only after an ACK
            args, buf = read_command(conn, buf)
            if args is None:
                return
            log.write(" ".join(a.decode(errors="replace") for a in args) + "\n")
            log.flush()
            if args[:2] == [b"REPLCONF", b"ACK"]:
                break
    else:
        conn.sendall(b"$%d\r\n" % len(body))
        if mode == "truncate":
            conn.sendall(bytes(body[:len(body) // 2]))
            return
        conn.sendall(bytes(body))
    conn.sendall(stream)
    end = b"%d" % (100 + len(stream))
    while True:
        args, buf = read_command(conn, buf)
        if args is None:
            return
        log.write(" ".join(a.decode(errors="replace") for a in args) + "\n")
        log.flush()
        if mode == "continue" and args[:3] == [b"REPLCONF", b"ACK", end]:
            return


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
    except OSError:
        pass
    conn.close()
