#!/usr/bin/env python3
"""Compare the JSON that `test_rdb --json FILE.rdb` prints with a fixture's
expected.json (see tests/fixtures/rdb/README.md for the format).

Usage: rdb_expected.py ACTUAL.json EXPECTED.json

Keys are matched by (db, key). Zset scores are compared as doubles, sets as
sorted lists, hashes as dicts; `encoding`, `rdb_type`, `rdb_layout` and
`listpack_nodes` are ignored. Prints the first differences and exits 1 on
a mismatch, 0 when everything matches. Standard library only.
"""
import json
import math
import sys

MAX_REPORTS = 20


def score(text):
    return float(text)


def same_score(a, b):
    a, b = score(a), score(b)
    return a == b or (math.isnan(a) and math.isnan(b))


def norm_value(kind, value):
    """A canonical form of a key's value, comparable with ==."""
    if kind == "set":
        return sorted(value)
    if kind == "zset":
        return sorted(value, key=lambda ms: (score(ms[1]), bytes.fromhex(ms[0])))
    if kind == "hash":
        return dict(value)
    return value


def compare_zset(a, b):
    if len(a) != len(b):
        return "zset has %d members, expected %d" % (len(a), len(b))
    da = {m: s for m, s in a}
    for m, s in b:
        if m not in da:
            return "zset member %s missing" % m
        if not same_score(da[m], s):
            return "zset member %s: score %s, expected %s" % (m, da[m], s)
    return None


def compare_groups(a, b):
    a = sorted(a, key=lambda g: bytes.fromhex(g["name"]))
    b = sorted(b, key=lambda g: bytes.fromhex(g["name"]))
    if [g["name"] for g in a] != [g["name"] for g in b]:
        return "groups %s, expected %s" % ([g["name"] for g in a], [g["name"] for g in b])
    for ga, gb in zip(a, b):
        for field in ("last_delivered_id", "entries_read", "pending", "consumers"):
            va, vb = ga.get(field), gb.get(field)
            if field == "consumers":
                va = sorted(va, key=lambda c: bytes.fromhex(c["name"]))
                vb = sorted(vb, key=lambda c: bytes.fromhex(c["name"]))
            if va != vb:
                return "group %s %s: %s, expected %s" % (gb["name"], field, va, vb)
    return None


def compare_stream(a, b):
    for field in ("length", "last_id", "first_id", "max_deleted_entry_id", "entries_added"):
        if a.get(field) != b.get(field):
            return "stream %s: %s, expected %s" % (field, a.get(field), b.get(field))
    return compare_groups(a.get("groups", []), b.get("groups", []))


def compare_key(a, b):
    """None when the two records agree, else a description."""
    if a.get("type") != b.get("type"):
        return "type %s, expected %s" % (a.get("type"), b.get("type"))
    if a.get("expire_at_ms") != b.get("expire_at_ms"):
        return "expire_at_ms %s, expected %s" % (a.get("expire_at_ms"), b.get("expire_at_ms"))
    kind = b["type"]
    if kind == "zset":
        why = compare_zset(a["value"], b["value"])
        if why:
            return why
    elif norm_value(kind, a.get("value")) != norm_value(kind, b.get("value")):
        return "value differs:\n    got      %s\n    expected %s" % (
            json.dumps(a.get("value"))[:300], json.dumps(b.get("value"))[:300])
    fa, fb = a.get("field_expire_at_ms") or {}, b.get("field_expire_at_ms") or {}
    if fa != fb:
        return "field_expire_at_ms %s, expected %s" % (fa, fb)
    if kind == "stream":
        return compare_stream(a.get("stream", {}), b.get("stream", {}))
    return None


def index(records):
    return {(r["db"], r["key"]): r for r in records}


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: rdb_expected.py ACTUAL.json EXPECTED.json\n")
        return 2
    with open(argv[1]) as f:
        actual = index(json.load(f))
    with open(argv[2]) as f:
        expected = index(json.load(f))
    problems = []
    for k in sorted(set(expected) - set(actual)):
        problems.append("db %d key %s: missing" % k)
    for k in sorted(set(actual) - set(expected)):
        problems.append("db %d key %s: unexpected" % k)
    for k in sorted(set(actual) & set(expected)):
        why = compare_key(actual[k], expected[k])
        if why:
            problems.append("db %d key %s (%s): %s" % (
                k[0], k[1], bytes.fromhex(k[1])[:40], why))
    for p in problems[:MAX_REPORTS]:
        print(p)
    if len(problems) > MAX_REPORTS:
        print("... and %d more" % (len(problems) - MAX_REPORTS))
    if problems:
        return 1
    print("%d keys match" % len(expected))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
