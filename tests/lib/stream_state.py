#!/usr/bin/env python3
"""Stream metadata and consumer-group state: a real master vs the mirror.

The SQL views show only stream entries; this reads what they leave out,
on the master with XINFO STREAM key FULL COUNT 0 and in the mirror from
the internal tables of the generation the views show (doc/schema.md:
gN_smeta, gN_sgroup, gN_spel, gN_scons), and compares them.

Subcommands (exit 0 on success, 1 on a mismatch):
  workload HOST PORT SEED N    random consumer-group traffic on a few streams
  compare HOST PORT DB.sqlite  every stream's state, both ways

Compared: length, last-generated-id, max-deleted-entry-id, entries-added,
recorded-first-entry-id; per group last-delivered-id and entries-read;
per PEL entry its consumer, delivery time and delivery count; per consumer
its name and its PEL (with REDSINK_UNPROPAGATED_CONSUMERS set, empty
consumers only the master has are left out: see diff()). Not compared: consumer seen-time (the master also
moves it on reads it does not propagate) and lag (derived).

Standard library only; the RESP client is compare.py's.
"""
import os
import random
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import Redis, RedisError  # noqa: E402

U64 = 1 << 64


def sid(ms, seq):
    return "%d-%d" % (ms % U64, seq % U64)


def pairs(flat):
    return {flat[i].decode() if isinstance(flat[i], bytes) else flat[i]: flat[i + 1]
            for i in range(0, len(flat), 2)}


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


# --------------------------------------------------------------------------
# master

def stream_keys(r):
    out = []
    for db in range(16):
        r("SELECT", db)
        cursor = b"0"
        while True:
            cursor, batch = r("SCAN", cursor, "COUNT", 1000, "TYPE", "stream")
            out.extend((db, k) for k in batch)
            if cursor == b"0":
                break
    return out


def master_state(r):
    state = {}
    for db, key in stream_keys(r):
        r("SELECT", db)
        info = pairs(r("XINFO", "STREAM", key, "FULL", "COUNT", 0))
        groups = {}
        for graw in info["groups"]:
            g = pairs(graw)
            pel = {text(p[0]): (p[1], p[2], p[3]) for p in g["pending"]}
            cons = {}
            for craw in g["consumers"]:
                c = pairs(craw)
                cons[c["name"]] = tuple(sorted(text(p[0]) for p in c["pending"]))
            er = g["entries-read"]
            groups[g["name"]] = {"last-delivered-id": text(g["last-delivered-id"]),
                                 "entries-read": er, "pel": pel, "consumers": cons}
        state[(db, key)] = {
            "length": info["length"],
            "last-generated-id": text(info["last-generated-id"]),
            "max-deleted-entry-id": text(info["max-deleted-entry-id"]),
            "entries-added": info["entries-added"],
            "recorded-first-entry-id": text(info["recorded-first-entry-id"]),
            "groups": groups,
        }
    r("SELECT", 0)
    return state


# --------------------------------------------------------------------------
# mirror

def as_bytes(v):
    return v.encode() if isinstance(v, str) else bytes(v)


def mirror_state(path):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    con.text_factory = lambda b: b.decode("utf-8")
    gen = con.execute("SELECT generation FROM redsink_status").fetchone()[0]
    t = lambda name: "g%d_%s" % (gen, name)
    state, names = {}, {}
    for kid, db, key, length, lms, lseq, fms, fseq, dms, dseq, added in con.execute(
            "SELECT k.id, k.db, k.key, m.length, m.last_ms, m.last_seq, m.first_ms, m.first_seq,"
            " m.maxdel_ms, m.maxdel_seq, m.entries_added FROM %s AS k LEFT JOIN %s AS m"
            " ON m.kid = k.id WHERE k.type = 'stream'" % (t("keys"), t("smeta"))):
        names[kid] = (db, as_bytes(key))
        state[names[kid]] = {
            "length": length, "last-generated-id": sid(lms or 0, lseq or 0),
            "max-deleted-entry-id": sid(dms or 0, dseq or 0), "entries-added": added,
            "recorded-first-entry-id": sid(fms or 0, fseq or 0), "groups": {}}
    for kid, name, lms, lseq, er in con.execute(
            "SELECT kid, name, last_ms, last_seq, entries_read FROM %s" % t("sgroup")):
        state[names[kid]]["groups"][as_bytes(name)] = {
            "last-delivered-id": sid(lms, lseq), "entries-read": er, "pel": {}, "consumers": {}}
    for kid, grp, name in con.execute("SELECT kid, grp, name FROM %s" % t("scons")):
        state[names[kid]]["groups"][as_bytes(grp)]["consumers"][as_bytes(name)] = []
    for kid, grp, ms, seq, cons, dt, dc in con.execute(
            "SELECT kid, grp, ms, seq, consumer, delivery_time, delivery_count FROM %s"
            % t("spel")):
        g = state[names[kid]]["groups"][as_bytes(grp)]
        cons = as_bytes(cons) if cons is not None else None
        g["pel"][sid(ms, seq)] = (cons, dt, dc)
        if cons not in g["consumers"]:
            g["consumers"][cons] = []      # a PEL entry without its consumer: shows as a diff
        g["consumers"][cons].append(sid(ms, seq))
    for s in state.values():
        for g in s["groups"].values():
            g["consumers"] = {c: tuple(sorted(p)) for c, p in g["consumers"].items()}
    return state


# --------------------------------------------------------------------------
# comparison

def diff(expected, actual, limit=30):
    out = []
    for k in sorted(set(expected) | set(actual), key=repr):
        if k not in actual:
            out.append("missing in mirror: db%d %r" % k)
        elif k not in expected:
            out.append("extra in mirror: db%d %r" % k)
        else:
            e, a = expected[k], actual[k]
            for f in e:
                if f != "groups" and e[f] != a[f]:
                    out.append("db%d %r %s: master %r, mirror %r" % (k[0], k[1], f, e[f], a[f]))
            for gname in sorted(set(e["groups"]) | set(a["groups"])):
                ge, ga = e["groups"].get(gname), a["groups"].get(gname)
                if ge is None or ga is None:
                    out.append("db%d %r group %r: master %s, mirror %s" % (
                        k[0], k[1], gname, "has it" if ge else "none", "has it" if ga else "none"))
                    continue
                if os.environ.get("REDSINK_UNPROPAGATED_CONSUMERS"):
                    # Redis >= 7.2 and Valkey: XCLAIM/XAUTOCLAIM create their
                    # consumer and propagate nothing when they claim nothing
                    # (t_stream.c xclaimCommand/xautoclaimCommand): a real
                    # replica lacks those empty consumers too.
                    ge = dict(ge, consumers={c: p for c, p in ge["consumers"].items()
                                             if p or c in ga["consumers"]})
                for f in ge:
                    if ge[f] != ga[f]:
                        out.append("db%d %r group %r %s:\n    master %r\n    mirror %r"
                                   % (k[0], k[1], gname, f, ge[f], ga[f]))
    return out[:limit]


def compare(host, port, path):
    expected, actual = master_state(Redis(host, port)), mirror_state(path)
    d = diff(expected, actual)
    for line in d:
        print("  " + line)
    groups = sum(len(s["groups"]) for s in expected.values())
    pel = sum(len(g["pel"]) for s in expected.values() for g in s["groups"].values())
    print("# %d streams, %d groups, %d pending entries compared" % (len(expected), groups, pel))
    return 1 if d else 0


# --------------------------------------------------------------------------
# workload

class GroupWorkload:
    """Consumer-group traffic on a few streams with explicit, known ids."""

    def __init__(self, rng):
        self.rng = rng
        self.next_ms = {}

    def key(self):
        return self.rng.choice(["s0", "s1", "s2", b"s\xff3"])

    def new_id(self, k):
        ms = self.next_ms.get(k, 1) + self.rng.choice([0, 1, 1, 2])
        self.next_ms[k] = ms + 1
        return "%d-%d" % (ms, self.rng.randrange(3))

    def old_id(self, k):
        top = self.next_ms.get(k, 1)
        return "%d-%d" % (self.rng.randrange(max(1, top - 12), top + 1), self.rng.randrange(3))

    def command(self):
        r, k = self.rng, self.key()
        g = r.choice(["g0", "g1", "g2"])
        c = r.choice(["c0", "c1", "c2"])
        ids = [self.old_id(k) for _ in range(r.randrange(1, 4))]
        op = r.randrange(100)
        if op < 22:
            trim = r.choice([[], [], ["MAXLEN", r.randrange(3, 9)], ["MAXLEN", "~", r.randrange(1, 5)],
                             ["MINID", self.old_id(k)]])
            return ("XADD", k, *trim, self.new_id(k), "f", r.randrange(100))
        if op < 27:
            opts = r.choice([[], ["MKSTREAM"], ["ENTRIESREAD", r.randrange(0, 5)], ["MKSTREAM", "ENTRIESREAD", -1]])
            return ("XGROUP", "CREATE", k, g, r.choice(["$", "0", self.old_id(k)]), *opts)
        if op < 30:
            opts = r.choice([[], ["ENTRIESREAD", r.randrange(0, 8)]])
            return ("XGROUP", "SETID", k, g, r.choice(["$", "0", self.old_id(k)]), *opts)
        if op < 31:
            return ("XGROUP", "DESTROY", k, g)
        if op < 33:
            return ("XGROUP", "CREATECONSUMER", k, g, c)
        if op < 35:
            return ("XGROUP", "DELCONSUMER", k, g, c)
        if op < 55:
            noack = ["NOACK"] if r.random() < 0.2 else []
            # no history reads ("0"): on 7.0 one by a new consumer creates it
            # without propagating anything, so even Redis' replica differs
            return ("XREADGROUP", "GROUP", g, c, "COUNT", r.randrange(1, 4), *noack, "STREAMS", k, ">")
        if op < 63:
            return ("XACK", k, g, *ids)
        if op < 71:
            opts = []
            if r.random() < 0.3:
                opts += r.choice([["IDLE", r.randrange(0, 5000)], ["TIME", r.choice([1000, 4102444800000])]])
            if r.random() < 0.4:
                opts += ["RETRYCOUNT", r.randrange(0, 9)]
            opts += [o for o in ("FORCE", "JUSTID") if r.random() < 0.4]
            if r.random() < 0.2:
                # a LASTID that is none of the claimed ids: an XCLAIM whose LASTID is
                # its own id is taken for an XREADGROUP delivery (cmd_stream.c)
                lid = self.old_id(k)
                if lid not in ids:
                    opts += ["LASTID", lid]
            return ("XCLAIM", k, g, c, r.choice([0, 0, 100000]), *ids, *opts)
        if op < 77:
            return ("XAUTOCLAIM", k, g, c, r.choice([0, 0, 100000]), r.choice(["0-0", "-", self.old_id(k)]),
                    "COUNT", r.randrange(1, 5), *(["JUSTID"] if r.random() < 0.3 else []))
        if op < 85:
            return ("XDEL", k, *ids)
        if op < 90:
            return r.choice([("XTRIM", k, "MAXLEN", r.choice(["=", "~"]), r.randrange(0, 8)),
                             ("XTRIM", k, "MINID", self.old_id(k)),
                             ("XTRIM", k, "MAXLEN", r.randrange(2, 8))])
        if op < 94:
            ms = self.next_ms.get(k, 1) + r.randrange(0, 3)
            self.next_ms[k] = ms + 1
            opts = []
            if r.random() < 0.5:
                opts += ["ENTRIESADDED", r.randrange(0, 60)]
            if r.random() < 0.5:
                opts += ["MAXDELETEDID", self.old_id(k)]
            return ("XSETID", k, "%d-0" % ms, *opts)
        if op < 96:
            return ("DEL", k)
        return ("XADD", k, "NOMKSTREAM", self.new_id(k), "n", "v")


def workload(r, seed, n):
    rng = random.Random(seed)
    w = GroupWorkload(rng)
    sent = 0
    while sent < n:
        batch = [("SELECT", rng.choice([0, 0, 1]))]
        if rng.random() < 0.15:
            batch += [("MULTI",)] + [w.command() for _ in range(rng.randrange(1, 5))] + [("EXEC",)]
        else:
            batch += [w.command() for _ in range(rng.randrange(1, 15))]
        sent += len(batch)
        for c, rep in zip(batch, r.pipeline(batch)):
            if isinstance(rep, RedisError) and ("unknown command" in str(rep) or
                                                "wrong number of arguments" in str(rep)):
                raise SystemExit("seed %d: command %r failed: %s" % (seed, c[:4], rep))
    r("SELECT", 0)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    if argv[1] == "workload":
        workload(Redis(argv[2], argv[3]), int(argv[4]), int(argv[5]))
        return 0
    if argv[1] == "compare":
        return compare(argv[2], argv[3], argv[4])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
