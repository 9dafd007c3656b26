#!/usr/bin/env python3
"""Write the fuzzers' threshold seeds (issue 11): items that straddle the
sizes where a buffer, a chunk or an encoding changes, in small files.

  threshold_seeds.py CORPUS_DIR      (fuzz/corpus: writes rdb/, dump/, resp/, apply/)

A value of 1 MiB + 1 (past RDB_BUF_KEEP and SQI_BIG_VALUE) fits in a few
KiB as an LZF string made of back references of the longest length (264),
so every seed stays under 16 KiB. Standard library only; no server.
"""
import os
import struct
import sys

MIB = 1 << 20


def crc64(data, crc=0):
    """Redis' CRC-64 (Jones polynomial, reflected; check value of
    "123456789" = 0xe9c6d914c4b8d9ca)."""
    poly = 0x95AC9329AC4BC9B5
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (poly if crc & 1 else 0)
    return crc


assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def rlen(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | n >> 8, n & 0xFF])
    return b"\x80" + struct.pack(">I", n)


def lzf(data):
    """LZF (the RDB format's §9): literal runs of at most 32 bytes, and back
    references at distance 1 for runs of a repeated byte, at most 264
    long. Enough for the values below, whose bulk is one byte repeated."""
    out, lit, i, n = bytearray(), bytearray(), 0, len(data)

    def flush():
        if lit:
            out.append(len(lit) - 1)
            out.extend(lit)
            lit.clear()

    while i < n:
        k = 0
        if i > 0:
            while k < 264 and i + k < n and data[i + k] == data[i - 1]:
                k += 1
        if k >= 3:
            flush()
            out.extend(bytes([(k - 2) << 5, 0]) if k - 2 < 7 else bytes([7 << 5, k - 9, 0]))
            i += k
        else:
            lit.append(data[i])
            i += 1
            if len(lit) == 32:
                flush()
    flush()
    return bytes(out)


def rstr(b, compress=False):
    """An RDB string: raw, or LZF-compressed (compressible values only)."""
    if not compress:
        return rlen(len(b)) + b
    z = lzf(b)
    return b"\xc3" + rlen(len(z)) + rlen(len(b)) + z


def big(n, head=b"\xff\xfe\x00big"):
    """n bytes (not UTF-8): head, then its last byte repeated."""
    return head[:n] + head[-1:] * (n - len(head)) if n > len(head) else head[:n]


def listpack(items):
    body = b""
    for v in items:
        n = len(v)
        if n < 64:
            e = bytes([0x80 | n]) + v
        elif n < 4096:
            e = bytes([0xE0 | n >> 8, n & 0xFF]) + v
        else:
            e = b"\xf0" + struct.pack("<I", n) + v
        ln, bl = len(e), []
        while True:
            bl.append(ln & 127)
            ln >>= 7
            if not ln:
                break
        bl = bl[::-1]
        e += bytes([bl[0]] + [x | 128 for x in bl[1:]])
        body += e
    lp = struct.pack("<IH", 6 + len(body) + 1, len(items)) + body + b"\xff"
    return lp


def rdb(items):
    """A REDIS0011 file: db 0, the (type, key, body) items, EOF, CRC; a
    key given as ("lzf", name) is written compressed."""
    out = b"REDIS0011\xfe\x00"
    for t, k, body in items:
        out += bytes([t]) + (rstr(k[1], True) if isinstance(k, tuple) else rstr(k)) + body
    out += b"\xff"
    return out + struct.pack("<Q", crc64(out))


def dump(t, body):
    out = bytes([t]) + body + struct.pack("<H", 11)
    return out + struct.pack("<Q", crc64(out))


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def main(corpus):
    seeds = {}
    # the parser: LZF strings of RDB_BUF_KEEP + 1 bytes (fuzz_rdb's
    # FUZZ_MAX_ITEM is 2 MiB), one place per seed: about 12 KiB each
    v = big(MIB + 1)
    for name, items in (("string", [(0, b"s", rstr(v, True))]),
                        ("list", [(1, b"l", rlen(2) + rstr(v, True) + rstr(b"a"))]),
                        ("hash", [(4, b"h", rlen(2) + rstr(v, True) + rstr(v, True) +
                                   rstr(b"f") + rstr(b"v"))]),
                        ("quicklist", [(18, b"q", rlen(1) + rlen(2) +
                                        rstr(listpack([v]), True))]),
                        ("key", [(0, ("lzf", v), rstr(b"v"))])):
        seeds["rdb/big-lzf-" + name] = b"\x00" + rdb([(0, b"x", rstr(b"1"))] + items)
    seeds["dump/big-lzf-string"] = b"\x00" + dump(0, rstr(v, True))
    # LZF's literal run (32) and back reference (264), the first stash (256),
    # listpack's 6- and 12-bit lengths (64, 4096), raw, fed in small chunks
    for n in (20, 21, 31, 32, 33, 63, 64, 65, 255, 256, 257, 263, 264, 265, 266):
        v = big(n, bytes(range(200, 232)))
        seeds["rdb/edge-%d" % n] = b"\x03\x01\x07\xff" + rdb([
            (0, b"s", rstr(v)), (0, b"c", rstr(v, True)),
            (16, b"H", rstr(listpack([b"f", v]))),
        ])
    v = big(4097, bytes(range(200, 232)))
    seeds["rdb/edge-4097"] = b"\x02\xff\x7f" + rdb([(0, v[:4095], rstr(v[:4096])),
                                                   (16, b"H", rstr(listpack([b"f", v])))])
    # the RESP reader: bulk strings around its first 4096-byte buffer
    for n in (4095, 4096, 4097):
        seeds["resp/bulk-%d" % n] = b"\x01\xff" + resp("SET", "k", big(n))
    # the applier and sink: values past SQI_BIG_VALUE (zeroblob + BLOB I/O)
    # from small commands, TEXT and BLOB, and an overwrite
    seeds["apply/big-setrange"] = (resp("SETRANGE", "b", MIB - 1, b"\xff") +
                                   resp("SETRANGE", "b", MIB, b"\xff\xfe") +
                                   resp("SETRANGE", "t", MIB, "text") +
                                   resp("APPEND", "b", b"\x80") + resp("SET", "b", "small") +
                                   resp("SETRANGE", "b", MIB + 1, b"\xc3"))
    for name, data in seeds.items():
        path = os.path.join(corpus, name)
        with open(path, "wb") as f:
            f.write(data)
        print("%-28s %6d bytes" % (name, len(data)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus"))
