#!/usr/bin/env python3
"""Write the fuzz_decode seeds: the encoded blobs (ziplist, listpack,
intset, zipmap, stream node) of uncompressed RDB fixtures.

  decode_seeds.py OUTDIR RDB...

Walks each RDB file far enough to find its
blob-encoded values and writes OUTDIR/<file's version>-<type>-<n>: one byte
choosing fuzz_decode.c's decoder, then the blob. Blobs over 4 KiB are left
out; so is the rest of a file after a type it does not walk. Standard
library only.
"""
import os
import struct
import sys

# RDB type -> fuzz_decode.c's selector byte
SELECTOR = {10: 0, 14: 0, 12: 1, 13: 2, 18: 3, 20: 4, 17: 5, 16: 6, 25: 7, 11: 8, 9: 9,
            15: 10, 19: 10, 21: 10}
MAX_BLOB = 4096


class Reader:
    def __init__(self, data):
        self.d, self.pos = data, 0

    def raw(self, n):
        b = self.d[self.pos:self.pos + n]
        if len(b) != n:
            raise EOFError
        self.pos += n
        return b

    def length(self):
        b = self.raw(1)[0]
        kind = b >> 6
        if kind == 0:
            return b & 0x3F, False
        if kind == 1:
            return (b & 0x3F) << 8 | self.raw(1)[0], False
        if b == 0x80:
            return struct.unpack(">I", self.raw(4))[0], False
        if b == 0x81:
            return struct.unpack(">Q", self.raw(8))[0], False
        return b & 0x3F, True          # a special string encoding

    def num(self):
        return self.length()[0]

    def string(self):
        n, special = self.length()
        if not special:
            return self.raw(n)
        if n < 3:
            return b"%d" % int.from_bytes(self.raw((1, 2, 4)[n]), "little", signed=True)
        if n == 3:
            clen, ulen = self.num(), self.num()
            return lzf(self.raw(clen), ulen)
        raise ValueError("bad string encoding %d" % n)


def lzf(src, ulen):
    """LZF decompression (literal runs and back references)."""
    out, i = bytearray(), 0
    while i < len(src):
        ctrl = src[i]
        i += 1
        if ctrl < 32:
            out += src[i:i + ctrl + 1]
            i += ctrl + 1
            continue
        n = ctrl >> 5
        if n == 7:
            n += src[i]
            i += 1
        ref = len(out) - ((ctrl & 0x1F) << 8) - src[i] - 1
        i += 1
        for k in range(n + 2):
            out.append(out[ref + k])
    if len(out) != ulen:
        raise ValueError("bad LZF string")
    return bytes(out)


def skip_stream_rest(r, t):
    """Metadata, groups, PELs, consumers of stream type t."""
    v = {15: 1, 19: 2, 21: 3}[t]
    for _ in range(3 if v == 1 else 8):
        r.num()
    for _ in range(r.num()):
        r.string()
        for _ in range(2 if v == 1 else 3):
            r.num()
        for _ in range(r.num()):
            r.raw(24)
            r.num()
        for _ in range(r.num()):
            r.string()
            r.raw(8 if v < 3 else 16)
            r.raw(16 * r.num())


def value(r, t, found):
    """Walk one value of type t; append (type, blob) pairs to found."""
    if t == 0:
        r.string()
    elif t in (1, 2):
        for _ in range(r.num()):
            r.string()
    elif t in (3, 5, 4):
        for _ in range(r.num()):
            r.string()
            if t == 4:
                r.string()
            elif t == 5:
                r.raw(8)
            else:
                n = r.raw(1)[0]
                r.raw(n if n < 253 else 0)
    elif t == 14 or t == 18:
        for _ in range(r.num()):
            container = r.num() if t == 18 else 2
            blob = r.string()
            if container == 2:
                found.append((t, blob))
    elif t in (15, 19, 21):
        for _ in range(r.num()):
            r.string()
            found.append((t, r.string()))
        skip_stream_rest(r, t)
    elif t in SELECTOR:
        if t == 25:
            r.raw(8)
        found.append((t, r.string()))
    else:
        raise ValueError("type %d not walked" % t)


def blobs(data):
    r = Reader(data)
    r.raw(9)
    found = []
    try:
        while True:
            op = r.raw(1)[0]
            if op == 0xFF:
                break
            if op == 0xFE or op == 0xF8:
                r.num()
            elif op == 0xFB:
                r.num()
                r.num()
            elif op == 0xFD or op == 0xFC:
                r.raw(4 if op == 0xFD else 8)
            elif op == 0xF9:
                r.raw(1)
            elif op == 0xFA:
                r.string()
                r.string()
            elif op == 0xF5:
                r.string()
            else:
                r.string()
                value(r, op, found)
    except (ValueError, EOFError) as e:
        print("  stopped: %s" % e)
    return found


def main(out, paths):
    os.makedirs(out, exist_ok=True)
    for path in paths:
        tag = os.path.basename(os.path.dirname(os.path.abspath(path)))
        print(path)
        count = {}
        with open(path, "rb") as f:
            found = blobs(f.read())
        for t, blob in found:
            count[t] = count.get(t, 0) + 1
            if len(blob) > MAX_BLOB or count[t] > 3:
                continue
            name = os.path.join(out, "%s-type%d-%d" % (tag, t, count[t]))
            with open(name, "wb") as f:
                f.write(bytes([SELECTOR[t]]) + blob)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
