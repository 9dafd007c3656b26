#!/usr/bin/env python3
"""Test tool: copy the PostgreSQL mirror's views into an SQLite file with the
contract's SQLite views, so that compare.py compares them with the master.

  pg_snapshot.py SCHEMA OUT.sqlite

psql reaches the cluster through PGHOST/PGPORT/PGUSER/PGDATABASE. Every bytes
column is read through X_bytes (hex), so the bytes are PostgreSQL's exact
bytes; X text is checked on the way: it must hold the same bytes when they
are valid UTF-8 without NUL, and be NULL otherwise (CONTRACT.md §5). Exit 1
with a message when it does not.
"""
import os
import sqlite3
import subprocess
import sys

VIEWS = {
    "redis_keys": (["db", "key", "type", "expire_at"], ["key"]),
    "redis_strings": (["db", "key", "value"], ["key", "value"]),
    "redis_lists": (["db", "key", "idx", "value"], ["key", "value"]),
    "redis_sets": (["db", "key", "member"], ["key", "member"]),
    "redis_zsets": (["db", "key", "member", "score"], ["key", "member"]),
    "redis_hashes": (["db", "key", "field", "value", "expire_at"], ["key", "field", "value"]),
    "redis_streams": (["db", "key", "id", "ms", "seq", "pos", "field", "value"],
                      ["key", "field", "value"]),
    "redis_arrays": (["db", "key", "idx", "value"], ["key", "value"]),
}
NUMERIC = {"db", "expire_at", "idx", "ms", "seq", "pos"}


def psql(sql):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\x1f", "-R", "\x1e", "-v",
                          "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True)
    text = out.stdout.decode()
    if text.endswith("\n"):
        text = text[:-1]
    return [r.split("\x1f") for r in text.split("\x1e") if r != ""]


def text_ok(b):
    if b"\0" in b:
        return False
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def main(schema, out):
    if os.path.exists(out):
        os.remove(out)
    con = sqlite3.connect(out)
    con.execute("CREATE TABLE redsink_status(master_replid, offset, state, updated_at)")
    st = psql('SELECT master_replid, "offset", state, updated_at FROM %s.redsink_status' % schema)
    con.executemany("INSERT INTO redsink_status VALUES (?, ?, ?, ?)", st)
    for view, (cols, byte_cols) in VIEWS.items():
        sel = []
        for c in cols:
            if c in byte_cols:
                sel.append("encode(%s_bytes, 'hex')" % c)
                sel.append("%s IS NULL" % c)
                sel.append("coalesce(encode(convert_to(%s, 'UTF8'), 'hex'), '')" % c)
            else:
                sel.append("%s::text" % c if c != "score" else "%s::float8::text" % c)
        con.execute("CREATE TABLE %s(%s)" % (view, ", ".join(cols)))
        rows = psql("SELECT %s FROM %s.%s" % (", ".join(sel), schema, view))
        for r in rows:
            vals, i = [], 0
            for c in cols:
                if c in byte_cols:
                    b = bytes.fromhex(r[i])
                    is_null, txt = r[i + 1] == "t", bytes.fromhex(r[i + 2])
                    i += 3
                    if text_ok(b) == is_null or (not is_null and txt != b):
                        print("%s.%s: text column wrong for bytes %r" % (view, c, b[:40]))
                        return 1
                    try:
                        vals.append(b.decode("utf-8"))
                    except UnicodeDecodeError:
                        vals.append(b)
                else:
                    v = r[i]
                    i += 1
                    if v == "":
                        vals.append(None)
                    elif c == "score":
                        vals.append(float(v))
                    elif c in NUMERIC:
                        vals.append(int(v))
                    else:
                        vals.append(v)
            con.execute("INSERT INTO %s VALUES (%s)" % (view, ", ".join("?" * len(cols))), vals)
    con.commit()
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
