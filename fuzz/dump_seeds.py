#!/usr/bin/env python3
"""Write the fuzz_dump seeds: DUMP output of a real redis-server.

  dump_seeds.py HOST PORT OUTDIR

Creates one key per type and encoding on the server (it flushes db 15
first and works there), DUMPs each and writes OUTDIR/<name> as the
fuzz_dump input: a 0 byte (no chunk sizes) then the payload, and a
second copy cut in 7-byte chunks (byte 0 = 1, then 6). Uses
tests/lib/compare.py's RESP client.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
from compare import Redis  # noqa: E402

host, port, out = sys.argv[1:4]
r = Redis(host, port)
r("SELECT", "15")
r("FLUSHDB")
big = "x" * 100
KEYS = {
    "string-raw": [("SET", "k", "hello world, a raw string of some length")],
    "string-int": [("SET", "k", "123456789")],
    "string-lzf": [("SET", "k", "abcdefgh" * 64)],
    "list-listpack": [("RPUSH", "k", "a", "7", "-300", "x" * 20)],
    "list-quicklist": [("RPUSH", "k") + tuple("%s%d" % (big, i) for i in range(200))],
    "hash-listpack": [("HSET", "k", "f1", "v1", "f2", "22")],
    "hash-table": [("HSET", "k") + tuple(x for i in range(200) for x in ("f%d" % i, big))],
    "set-intset": [("SADD", "k", "1", "-2", "70000", "5000000000")],
    "set-table": [("SADD", "k") + tuple("m%d%s" % (i, big) for i in range(200))],
    "zset-listpack": [("ZADD", "k", "1.5", "a", "-2", "b", "3", "c")],
    "zset-skiplist": [("ZADD", "k") + tuple(x for i in range(200) for x in (str(i * 0.5), "m%d%s" % (i, big)))],
    "stream-groups": [("XADD", "k", "1-1", "f", "v"), ("XADD", "k", "2-1", "f", "w", "g", "h"),
                      ("XGROUP", "CREATE", "k", "grp", "0"),
                      ("XREADGROUP", "GROUP", "grp", "alice", "COUNT", "1", "STREAMS", "k", ">"),
                      ("XDEL", "k", "2-1")],
}
os.makedirs(out, exist_ok=True)
for name, cmds in KEYS.items():
    r("DEL", "k")
    for c in cmds:
        r(*c)
    payload = r("DUMP", "k")
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"\x00" + payload)
    with open(os.path.join(out, name + "-chunked"), "wb") as f:
        f.write(b"\x01\x06" + payload)
r("FLUSHDB")
