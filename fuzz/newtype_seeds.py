#!/usr/bin/env python3
"""Write the fuzzers' seeds for the RDB types of issue 12's snapshots part:
Redis 8.8's stream with its NACK zones (type 27, RDB 14) and Valkey 9.2's
path hash (type 23, RDB 81), laid out as tests/unit/test_rdb.c builds them
(bb_stream27, bb_path_hash): as files for fuzz_rdb, fed whole and in small
chunks, and the stream as a DUMP payload of version 14 for fuzz_dump.

  newtype_seeds.py CORPUS_DIR      (fuzz/corpus: writes rdb/ and dump/)

Standard library only; no server. Helpers from threshold_seeds.py.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from threshold_seeds import crc64, rlen, rstr  # noqa: E402


def sid(ms, seq=0):
    """A stream id as PELs and NACK zones hold it: 16 bytes, big-endian."""
    return struct.pack(">QQ", ms, seq)


def stream27():
    """Entries 100-0 (f=a) and 102-0 (f=b) in one listpack node; group g
    with both pending, 100-0 owned by consumer c, 102-0 NACKed; group h
    empty; no IDMP producer."""
    lp = bytes([0x28, 0, 0, 0, 15, 0,
                2, 1, 0, 1, 1, 1, 0x81, ord("f"), 2, 0, 1,
                2, 1, 0, 1, 0, 1, 0x81, ord("a"), 2, 4, 1,
                2, 1, 2, 1, 0, 1, 0x81, ord("b"), 2, 4, 1, 0xFF])
    out = rlen(1) + rstr(sid(100)) + rstr(lp)
    out += rlen(2) + rlen(102) + rlen(0)                  # length, last id
    out += rlen(100) + rlen(0) + rlen(0) + rlen(0) + rlen(2)
    out += rlen(2)                                        # groups
    out += rstr(b"g") + rlen(102) + rlen(0) + rlen(2)
    out += rlen(2) + sid(100) + struct.pack("<Q", 1000) + rlen(1)
    out += sid(102) + struct.pack("<Q", 0) + rlen(2)
    out += rlen(1) + rstr(b"c") + struct.pack("<QQ", 1000, 1500) + rlen(1) + sid(100)
    out += rlen(1) + sid(102)                             # g's NACK zone
    out += rstr(b"h") + rlen(102) + rlen(0) + rlen(2) + rlen(0) + rlen(0) + rlen(0)
    out += rlen(100) + rlen(50) + rlen(0) + rlen(0) + rlen(0)   # IDMP
    return out


def path_hash():
    """Paths a/b (f1=v1, f2=v2) and a/c (f=7, int-encoded)."""
    return (rlen(2) + rstr(b"a/b") + rlen(2) + rstr(b"f1") + rstr(b"v1") +
            rstr(b"f2") + rstr(b"v2") + rstr(b"a/c") + rlen(1) + rstr(b"f") + b"\xc0\x07")


def rdb(magic, items):
    out = magic + b"\xfe\x00"
    for t, k, body in items:
        out += bytes([t]) + rstr(k) + body
    out += b"\xff"
    return out + struct.pack("<Q", crc64(out))


def dump(t, body, version):
    out = bytes([t]) + body + struct.pack("<H", version)
    return out + struct.pack("<Q", crc64(out))


def main(corpus):
    tail = [(0, b"k", rstr(b"v"))]
    f27 = rdb(b"REDIS0014", [(27, b"s", stream27())] + tail)
    f23 = rdb(b"VALKEY081", [(23, b"p", path_hash()), (23, b"e", rlen(0))] + tail)
    seeds = {
        "rdb/redis-8.8-stream27": b"\x00" + f27,
        "rdb/redis-8.8-stream27-chunked": b"\x02\x01\x05" + f27,
        "rdb/valkey-9.2-path-hash": b"\x00" + f23,
        "rdb/valkey-9.2-path-hash-chunked": b"\x02\x03\x01" + f23,
        "dump/stream27-v14": b"\x00" + dump(27, stream27(), 14),
    }
    for name, data in seeds.items():
        with open(os.path.join(corpus, name), "wb") as f:
            f.write(data)
        print("%-34s %5d bytes" % (name, len(data)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus"))
