#!/usr/bin/env python3
"""Values of every size for redsink's tests (issue 11); standard library only.

Subcommands (exit 0 on success, 1 on failure):
  write HOST PORT SEED [SCALE]   write the dataset below to a master: every
                                 threshold size in every place, then keys
                                 of heavy-tailed random sizes (prints the
                                 bytes written); SCALE (default 1) scales
                                 the random part
  restore HOST PORT              DUMP every key of db 0 and RESTORE ... REPLACE
                                 it (RESTORE reaches the replica as such)
  sizes                          print the threshold sizes and where they come from

Every item is written with the commands a client would use, picked by the
seed: SET, or SET + APPEND pieces, or SETRANGE into a zero-filled string;
HSET, RPUSH/LPUSH, SADD, ZADD, XADD. Values are random bytes, UTF-8 with
NULs and 2-byte characters, UTF-8 with a cut character at the end (not
UTF-8), or compressible (LZF finds back references in them: Redis
compresses strings over 20 bytes in the RDB).
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import Redis, RedisError  # noqa: E402

KIB, MIB = 1024, 1024 * 1024

# (size, why): each internal threshold -1/0/+1 is listed by its middle
THRESHOLDS = [
    (0, "empty"), (1, "one byte"),
    (21, "Redis LZF-compresses strings of more than 20 bytes"),
    (32, "LZF: longest literal run"),
    (64, "hash/zset-max-listpack-value; listpack 6-bit string length"),
    (256, "the parser's first stash"),
    (264, "LZF: longest back reference"),
    (4061, "SQLite: largest local payload on a 4096-byte page"),
    (4096, "RESP reader's first buffer; listpack 12-bit length; stream-node-max-bytes"),
    (8192, "list-max-listpack-size -2 (8 KiB)"),
    (64 * KIB, "the link's, spool's and import's chunk; RESP MAX_INLINE"),
    (256 * KIB, "SQI_BULK_BYTES"),
    (MIB, "RDB_BUF_KEEP, SQI_BIG_VALUE"),
]
BIG = 16 * MIB      # one string of each form


def threshold_sizes():
    out = []
    for n, _ in THRESHOLDS:
        out.extend(x for x in (n - 1, n, n + 1) if x >= 0 and x not in out)
    return sorted(out)


def value(rng, n, kind):
    """n bytes of one kind: random, utf8, cut (UTF-8 but the last byte),
    nul (random with NULs), compressible."""
    if kind == "random":
        b = bytearray(rng.getrandbits(8 * n).to_bytes(n, "little")) if n else bytearray()
        if n:
            b[0] = 0xFF                   # never valid UTF-8
        return bytes(b)
    if kind in ("utf8", "cut"):
        unit = "h\u00e9\0llo w\u00f6rld \u20ac ".encode()
        b = (unit * (n // len(unit) + 1))[:n]
        while b and b[-1] & 0xC0 == 0x80 or (b and b[-1] >= 0xC0):
            b = b[:-1]                    # do not end inside a character
        b = b + b"a" * (n - len(b))
        if kind == "cut" and n:
            b = b[:-1] + b"\xc3"
        return b
    if kind == "nul":
        b = bytearray(n)
        for i in range(0, n, 7):
            b[i] = rng.randrange(256)
        return bytes(b)
    # compressible: random words, then copies of earlier bytes from within
    # LZF's 8 KiB window, with a few random bytes between them
    words = [rng.getrandbits(8 * 12).to_bytes(12, "little") for _ in range(16)]
    out = bytearray()
    while len(out) < min(n, 2048):
        out += rng.choice(words)[:rng.randrange(1, 13)]
    while len(out) < n:
        d = rng.randrange(1, min(len(out), 8000) + 1)
        out += out[len(out) - d:][:rng.randrange(1, 3000)]
        out += rng.getrandbits(8 * 3).to_bytes(3, "little")[:rng.randrange(0, 4)]
    return bytes(out[:n])


class Writer:
    """Writes items with varied commands, pipelined."""

    def __init__(self, r, rng):
        self.r, self.rng, self.cmds, self.pending, self.total = r, rng, [], 0, 0

    def add(self, *cmd):
        self.cmds.append(cmd)
        self.pending += sum(len(a) if isinstance(a, bytes) else 8 for a in cmd)
        if self.pending > 8 * MIB or len(self.cmds) >= 500:
            self.flush()

    def flush(self):
        if not self.cmds:
            return
        for c, rep in zip(self.cmds, self.r.pipeline(self.cmds)):
            if isinstance(rep, RedisError):
                raise SystemExit("%s %r...: %s" % (c[0], c[1][:40], rep))
        self.total += self.pending
        self.cmds, self.pending = [], 0

    def string(self, key, v):
        how = self.rng.randrange(4) if len(v) > 1 else 0
        if how <= 1:
            self.add("SET", key, v)
        elif how == 2:                    # SET + APPEND pieces (at most 8)
            cut = sorted(self.rng.sample(range(1, len(v)), min(7, len(v) - 1)))
            parts = [v[a:b] for a, b in zip([0] + cut, cut + [len(v)])]
            self.add("SET", key, parts[0])
            for p in parts[1:]:
                self.add("APPEND", key, p)
        else:                             # SETRANGE: the tail, then the head
            half = len(v) // 2
            self.add("DEL", key)
            self.add("SETRANGE", key, half, v[half:])
            self.add("SETRANGE", key, 0, v[:half])


KINDS = ["random", "utf8", "cut", "nul", "compressible"]


def write_thresholds(w, rng):
    """Every threshold size in every place, both forms: incompressible
    (random, UTF-8 or not) and compressible. Places: string value, key
    name, hash field and value, list element, set member, zset member,
    stream field value and field name. Then sets, zsets and hashes past the sink's
    staging threshold (50,000 members) with a member of 1 MiB + 1."""
    places = ["str", "key", "field", "hvalue", "list", "set", "zset", "stream", "sfield"]
    sizes = threshold_sizes()
    for i, n in enumerate(sizes):
        forms = ["compressible", rng.choice(["random", "utf8", "cut", "nul"])]
        for j, place in enumerate(places):
            # from 200 KiB on, one form per place and size, the other at
            # the next size: both forms reach every place, in less data
            for form in forms if n < 200 * KIB else [forms[(i + j) % 2]]:
                v = value(rng, n, form)
                tag = b"%d:%s:" % (n, form.encode())
                if place == "str":
                    w.string(b"t:str:" + tag, v)
                elif place == "key":
                    w.add("SET", b"t:key:" + tag + v, tag)
                elif place == "field":
                    w.add("HSET", b"t:field:" + tag, v, b"value", b"f", b"v")
                elif place == "hvalue":
                    w.add("HSET", b"t:hvalue:" + tag, b"f", v)
                elif place == "list":
                    # a small list stays a listpack; a big element makes a
                    # quicklist node (a PLAIN one past the packed threshold)
                    w.add("RPUSH", b"t:list:" + tag, b"a", v, b"z")
                elif place == "set":
                    w.add("SADD", b"t:set:" + tag, v, b"m")
                elif place == "zset":
                    w.add("ZADD", b"t:zset:" + tag, 1.5, v, 2, b"m")
                elif place == "stream":
                    w.add("XADD", b"t:stream:" + tag, "*", b"f", v, b"g", b"x")
                else:
                    w.add("XADD", b"t:sfield:" + tag, "*", v, b"x", b"g", b"y")
    for form in ("random", "compressible"):
        w.string(b"t:str:16MiB:" + form.encode(), value(rng, BIG, form))
    # past the sink's staging threshold (50,000 members), with a big
    # member after it
    for t in ("set", "zset", "hash"):
        key = b"t:staged:" + t.encode()
        for lo in range(0, 50002, 5000):
            ms = [b"m%d" % i for i in range(lo, min(lo + 5000, 50002))]
            if lo == 50000:
                ms.append(value(rng, MIB + 1, rng.choice(KINDS)))
            if t == "set":
                w.add("SADD", key, *ms)
            elif t == "zset":
                w.add("ZADD", key, *[a for i, m in enumerate(ms) for a in (i, m)])
            else:
                w.add("HSET", key, *[a for m in ms for a in (m, m[:100])])


def heavy_size(rng):
    """Most small, some of 64 KiB - 16 MiB (log-uniform)."""
    x = rng.random()
    if x < 0.80:
        return rng.randrange(0, 100)
    if x < 0.95:
        return rng.randrange(100, 8 * KIB)
    if x < 0.985:
        return rng.randrange(8 * KIB, 64 * KIB)
    return int(2 ** rng.uniform(16, 24))


def write_random(w, rng, n_keys, budget):
    """Keys of every type whose values, members and names have
    heavy-tailed sizes; at most 'budget' bytes in all."""
    left = budget

    def size():
        nonlocal left
        s = min(heavy_size(rng), max(left, 0))
        left -= s
        return s

    def val():
        return value(rng, size(), rng.choice(KINDS))

    for i in range(n_keys):
        t = rng.choice(["string", "string", "hash", "list", "set", "intset", "zset", "stream"])
        key = b"r:%d:" % i + (val()[:rng.choice([0, 10, 5000, 70000])] if rng.random() < 0.2 else b"")
        n = rng.choice([1, 2, 5, 20, 200, 600])
        if t == "string":
            w.string(key, val())
        elif t == "hash":
            for j in range(n):
                w.add("HSET", key, val() + b"#%d" % j, val())
        elif t == "list":
            w.add(rng.choice(["RPUSH", "LPUSH"]), key, *[val() for _ in range(n)])
        elif t == "set":
            w.add("SADD", key, *[val() + b"#%d" % j for j in range(n)])
        elif t == "intset":   # intset up to 512 integers, a hash table past it
            w.add("SADD", key, *[rng.randrange(-2 ** 63, 2 ** 63) for _ in range(n)])
        elif t == "zset":
            w.add("ZADD", key, *[a for j in range(n) for a in (rng.uniform(-1e9, 1e9),
                                                               val() + b"#%d" % j)])
        else:
            for j in range(min(n, 50)):
                w.add("XADD", key, "*", *[a for _ in range(rng.randrange(1, 4))
                                          for a in (val(), val())])


def restore_all(r):
    """DUMP + RESTORE REPLACE every key of db 0, in batches."""
    keys = r("KEYS", "*")                 # a test master: a few thousand keys
    for i in range(0, len(keys), 20):
        batch = keys[i:i + 20]
        dumps = r.pipeline([("DUMP", k) for k in batch])
        cmds = [("RESTORE", k, 0, d, "REPLACE") for k, d in zip(batch, dumps) if d is not None]
        for c, rep in zip(cmds, r.pipeline(cmds)):
            if isinstance(rep, RedisError):
                raise SystemExit("RESTORE %r: %s" % (c[1][:40], rep))
    return len(keys)


def big_members(r, rng):
    """Commands on hash fields and set members of SQI_BIG_VALUE - 1, + 0,
    + 1 bytes (a placeholder in the row from 1 MiB on), random and UTF-8:
    HSET over one, HINCRBY, HDEL of another of the same length, SMOVE,
    SREM, SUNIONSTORE, SINTERSTORE, SDIFFSTORE, COPY, RENAME, RESTORE;
    and on key names of about that size (a placeholder in the key row from
    1 MiB on): SET, APPEND, EXPIRE, RENAME (big to big and big to small),
    COPY, DEL, RESTORE; and on stream field names (one gN_bigm row shared
    by the entries that repeat it): XADD twice, XDEL, COPY, RESTORE; and on
    sorted-set members, two big ones of equal score and equal first 1 MiB
    among them: ZADD, ZINCRBY, ZREM, ZRANGESTORE, ZUNIONSTORE,
    ZREMRANGEBYRANK, ZPOPMIN, ZPOPMAX, ZREMRANGEBYSCORE, COPY, RENAME,
    RESTORE. The keys it leaves, for the comparison."""
    w = Writer(r, rng)
    for n in (MIB - 1, MIB, MIB + 1):
        for kind in ("random", "utf8"):
            t = b"%d:%s" % (n, kind.encode())
            f = value(rng, n, kind)
            g = b"g" + f[1:]               # same length, one byte apart
            h, s, s2 = b"bm:h:" + t, b"bm:s:" + t, b"bm:s2:" + t
            w.add("HSET", h, f, b"5", b"a", b"1", g, b"x")
            w.add("HINCRBY", h, f, 3)
            w.add("HDEL", h, g)
            w.add("SADD", s, f, g, b"a")
            w.add("SADD", s2, b"b")
            w.add("SMOVE", s, s2, f)
            w.add("SREM", s, g)
            w.add("SADD", s, f)
            w.add("SUNIONSTORE", b"bm:u:" + t, s, s2)
            w.add("SINTERSTORE", b"bm:i:" + t, b"bm:u:" + t, s2)
            w.add("SDIFFSTORE", b"bm:d:" + t, b"bm:u:" + t, s2)
            w.add("COPY", h, b"bm:hc:" + t)
            w.add("COPY", s2, b"bm:sc:" + t)
            w.add("RENAME", s2, b"bm:s3:" + t)
            kn, kn2 = b"bm:k:" + f, b"bm:k2:" + g        # big key names
            w.add("SET", kn, b"v1")
            w.add("APPEND", kn, b"+")
            w.add("HSET", kn2, b"a", b"1")
            w.add("EXPIRE", kn2, 100000)
            w.add("RENAME", kn2, kn2 + b":renamed")
            w.add("COPY", kn, kn + b":copy")
            w.add("RENAME", kn + b":copy", b"bm:k:small:" + t)
            w.add("SET", b"bm:k:gone:" + f, b"x")
            w.add("DEL", b"bm:k:gone:" + f)
            # sorted-set members (ord and tie in the row): f, f + "a" and
            # f + "b" share their first 1 MiB and their score, so only
            # their whole bytes order them; g is f's length, one byte apart
            z, z2, zu = b"bm:z:" + t, b"bm:z2:" + t, b"bm:zu:" + t
            fa, fb = f + b"a", f + b"b"
            w.add("ZADD", z, 1, fb, 1, g, 1, fa, 1, f, 0, b"a", 2, b"z")
            w.add("ZINCRBY", z, 1, fa)
            w.add("ZINCRBY", z, -1, fa)
            w.add("ZADD", z, 1, f)
            w.add("ZREM", z, g)
            w.add("ZRANGESTORE", b"bm:zr:" + t, z, 1, 2)
            w.add("ZUNIONSTORE", zu, 2, z, s)
            w.add("ZREMRANGEBYRANK", zu, 2, 3)
            w.add("ZADD", z2, 1, fb, 1, fa, 1, f + b"c", 5, b"q")
            w.add("ZPOPMIN", z2)
            w.add("ZPOPMAX", z2)
            w.add("ZREMRANGEBYSCORE", b"bm:zr:" + t, 1, 1)
            w.add("COPY", z, b"bm:zc:" + t)
            w.add("RENAME", b"bm:zc:" + t, b"bm:zc2:" + t)
            x = b"bm:x:" + t                                 # big stream field names
            w.add("XADD", x, "1-1", f, b"1", b"a", b"2")
            w.add("XADD", x, "2-1", f, b"3", g, b"4")
            w.add("XDEL", x, "1-1")
            w.add("COPY", x, b"bm:xc:" + t)
            w.flush()
            for k in (h, s, kn, x, z, z2):
                w.add("RESTORE", k + b":r", 0, r("DUMP", k))
    w.flush()
    return len(r("KEYS", "bm:*"))


def main(argv):
    if len(argv) >= 4 and argv[1] == "write":
        seed = int(argv[4]) if len(argv) > 4 else 1
        scale = float(argv[5]) if len(argv) > 5 else 1.0
        rng = random.Random(seed)
        w = Writer(Redis(argv[2], argv[3]), rng)
        write_thresholds(w, rng)
        write_random(w, rng, int(300 * scale), int(5 * MIB * scale))
        w.flush()
        print(w.total)
        return 0
    if len(argv) == 4 and argv[1] == "members":
        print(big_members(Redis(argv[2], argv[3]), random.Random(7)))
        return 0
    if len(argv) == 4 and argv[1] == "restore":
        print(restore_all(Redis(argv[2], argv[3])))
        return 0
    if len(argv) == 2 and argv[1] == "sizes":
        for n, why in THRESHOLDS:
            print("%9d  %s" % (n, why))
        print("%9d  a string, random and compressible" % BIG)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
