/*
 * sqlite_keys.c - the key ops: find (through the key cache), create,
 * delete, expire, rename, probe, flush, COPY and SWAPDB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

/*
 * Big key names (doc/schema.md, "Big values"). A name of SQI_BIG_VALUE
 * bytes or more would be whole in the gN_keys row's record, again in the
 * (key, db) index record, and several times over in the sort that builds
 * that index after a full sync. Its row holds a placeholder instead, as a
 * big hash field's does (sqlite_bigm.c): TEXT, 0xFF and the SHA-256 of the
 * name. No real name is such a TEXT (0xFF never occurs in UTF-8, and a name
 * that is not UTF-8 is bound as a BLOB), so a real name equal to those 33
 * bytes is another index entry. The bytes are in gN_bign(kid), inserted as
 * a zeroblob and written in place with BLOB I/O; triggers delete them with
 * the row or when it is renamed (created with the generation's first big
 * name). A look-up finds the placeholder in the index and then compares
 * the stored bytes with the name, 1 MiB at a time: another name with the
 * same SHA-256 is an error, never a wrong key.
 */

/* The placeholder of a big name into ph: 1; a small name: 0 (ph[0] = 0);
 * -1 with the error set. */
static int name_ph(struct sqlite_sink *ss, const struct rs_bytes *key, char ph[SQI_PH_LEN])
{
    ph[0] = 0;
    if (key->len < SQI_BIG_VALUE)
        return 0;
    if (sqi_placeholder(key, ph) == 0)
        return 1;
    ph[0] = 0;
    return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot hash a key name of %zu bytes for '%s':"
                   " out of memory", key->len, ss->path);
}

/* Bind a key name at parameter i: its placeholder when name_ph gave one. */
static int name_bind(sqlite3_stmt *st, int i, const struct rs_bytes *key, const char *ph)
{
    if (ph[0] == 0)
        return sqi_bind_bytes(st, i, key);
    return sqlite3_bind_text(st, i, ph, SQI_PH_LEN, SQLITE_STATIC);
}

/* Before a big name enters the generation: its triggers, and the views
 * that show big names (the live generation). 0 or -1. */
static int name_prepare(struct sqlite_sink *ss)
{
    if (sqi_exec_gen(ss, sqi_bign_triggers, ss->target, "create the big name triggers"))
        return -1;
    return sqi_views_upgrade(ss, 0, 1);
}

/* The bytes of key kid's big name, after its row got the placeholder. */
static int name_store(struct sqlite_sink *ss, int64_t kid, const struct rs_bytes *key);

/* key_find's answer without SQL: the key cache's, or the name filter's
 * "surely absent" (then remembered in the cache). 1 when answered. */
static int find_in_memory(struct sqlite_sink *ss, int db, const struct rs_bytes *key,
                          struct sink_key *out)
{
    if (sqi_kc_get(ss, db, key, out))
        return 1;
    if (!sqi_kf_absent(ss, key))
        return 0;
    *out = (struct sink_key){ 0, RS_T_NONE, RS_NO_EXPIRE };
    sqi_kc_put(ss, db, key, out);
    return 1;
}

int sq_key_find(struct sink *s, int db, const struct rs_bytes *key, struct sink_key *out)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    char ph[SQI_PH_LEN];
    int r;

    out->id = 0;
    out->type = RS_T_NONE;
    out->expire_ms = RS_NO_EXPIRE;
    if (sqi_stuck(ss))
        return -1;
    if (ss->mode == MODE_LOAD)
        return rs_fail(&s->err, RS_E_SQL, "cannot look keys up in '%s' during a full sync",
                       ss->path);
    if (find_in_memory(ss, db, key, out))
        return 0;
    if (name_ph(ss, key, ph) < 0 || (st = sqi_stmt(ss, ST_KEY_FIND)) == NULL)
        return -1;
    if (sqlite3_bind_int(st, 1, db) != SQLITE_OK || name_bind(st, 2, key, ph) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "look a key up");
    /* names, types and TTLs: nothing buffered or held changes them */
    if ((r = sqi_row_as_is(ss, st, "look a key up")) < 0)
        return r;
    if (r > 0) {
        out->id = sqlite3_column_int64(st, 0);
        out->type = sqi_type_parse(sqlite3_column_text(st, 1));
        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
            out->expire_ms = sqlite3_column_int64(st, 2);
        sqi_stmt_done(st);
        if (ph[0] && (r = sqi_blob_equal(ss, "bign", out->id, key)) <= 0) {
            *out = (struct sink_key){ 0, RS_T_NONE, RS_NO_EXPIRE };
            return r < 0 ? -1 : rs_fail(&s->err, RS_E_SQL, "cannot look a key name of %zu bytes"
                                        " up in '%s': another key has the same SHA-256",
                                        key->len, ss->path);
        }
    }
    sqi_kc_put(ss, db, key, out);
    return 0;
}

/* ST_KEY_INSERT for many keys at once, during a full sync. The load
 * counts the ids (1, 2... in the new, empty table) before the rows are
 * sent; SQLite gives the same ones (bulk_flush_buf checks). Binding the id
 * instead cost a seek per row. */
static const struct sqi_bulk keys_bulk = {
    SQI_BULK_KEYS, 6, "@keys(db, key, type, expire_at, value, lhead)", "", "", 0
};

/* This file's statements, in slots SQI_X_KEYS + n (sqlite_int.h). */
#define KS_IDX_WHERE "db <> 0 AND db <> -1"     /* gN_keys_db's (see sq_swap_db) */
#define KS_IDX " AND " KS_IDX_WHERE
enum {
    KS_COPY_KEY, KS_SWAP_PARK, KS_SWAP_MOVE, KS_SWAP_UNPARK, KS_SWAPI_MOVE, KS_SWAPI_UNPARK,
    KS_COPY_BIG, KS_BIG_MAX, KS_STRING_UPD, KS_STRING_PUT,
    KS_COPY_CHILD,                     /* + enum child: one per children table */
    KS_NAME_STORE = KS_COPY_CHILD + C_COUNT, KS_NSTMT
};
_Static_assert(KS_NSTMT <= SQI_X_PER_FAMILY, "too many key statements");

int sq_key_create(struct sink *s, int db, const struct rs_bytes *key, enum rs_type type,
                  int64_t expire_ms, const struct rs_bytes *value, int64_t *id)
{
    struct sqlite_sink *ss = SS(s);
    const char *tname = rs_type_name(type);
    const struct rs_bytes *v = type != RS_T_STRING ? NULL
                               : value ? value : &(struct rs_bytes){ "", 0 };
    sqlite3_stmt *st;
    char ph[SQI_PH_LEN];
    int rc = 0, big, bigname;

    if (sqi_stuck(ss) || sqi_stage_flush(ss) ||
        (rc = sqi_bulk_begin(ss, &keys_bulk, key->len + (v ? v->len : 0) + 16)) < 0)
        return -1;
    sqi_kf_add(ss, key);
    if (ss->mode == MODE_LOAD) {
        *id = ++ss->load_id;
        ss->load_keys++;
        if (type == RS_T_LIST) {   /* a new list: the tail starts at 0 */
            ss->tail_kid = *id;
            ss->tail_pos = 0;
        }
    }
    if (rc > 0) {
        sqi_bulk_key_id(ss, *id);
        sqi_bulk_int(ss, db);
        sqi_bulk_bytes(ss, key);
        sqi_bulk_bytes(ss, &(struct rs_bytes){ tname, strlen(tname) });
        sqi_bulk_time(ss, expire_ms);
        sqi_bulk_bytes(ss, v);
        if (type == RS_T_LIST)
            sqi_bulk_int(ss, 0);
        else
            sqi_bulk_bytes(ss, NULL);
        return sqi_bulk_end(ss);
    }
    rc = 0;
    big = sqi_big_value(v);
    if ((bigname = name_ph(ss, key, ph)) < 0 || sqi_load_tick(ss) ||
        (bigname && name_prepare(ss)) || (st = sqi_stmt(ss, ST_KEY_INSERT)) == NULL)
        return -1;
    if (ss->mode == MODE_LOAD)
        rc |= sqlite3_bind_int64(st, 7, *id);
    rc |= sqlite3_bind_int(st, 1, db);
    rc |= name_bind(st, 2, key, ph);
    rc |= sqlite3_bind_text(st, 3, tname, -1, SQLITE_STATIC);
    rc |= sqi_bind_time(st, 4, expire_ms);
    if (v)
        rc |= sqi_bind_value(st, 5, v, big);
    if (type == RS_T_LIST)
        rc |= sqlite3_bind_int(st, 6, 0);
    else
        rc |= sqi_bind_text_flag(st, 6, big);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "insert a key");
    /* a new row: held increments stay held (sqlite_string.c) */
    if (sqi_run_new_key(ss, st, "insert a key"))
        return -1;
    if (ss->mode != MODE_LOAD) {
        struct sink_key k;

        *id = sqlite3_last_insert_rowid(ss->db);
        k = (struct sink_key){ *id, type, expire_ms };
        sqi_kc_put(ss, db, key, &k);
        if (type == RS_T_LIST && sqi_lb_created(ss, *id))
            return -1;
        if (type == RS_T_STREAM && sqi_smeta_created(ss, *id))
            return -1;
    }
    if (bigname && name_store(ss, *id, key))
        return -1;
    return big ? sqi_big_fill(ss, *id, v) : 0;
}

static int name_store(struct sqlite_sink *ss, int64_t kid, const struct rs_bytes *key)
{
    sqlite3_stmt *st = sqi_xstmt(ss, SQI_X_KEYS + KS_NAME_STORE, "INSERT INTO @bign(kid, text, v)"
                                 " VALUES (?1, ?2, zeroblob(?3))");

    if (st == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, kid) != SQLITE_OK ||
        sqlite3_bind_int(st, 2, rs_utf8_valid(key->ptr, key->len)) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, (sqlite3_int64)key->len) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a big key name");
    if (sqi_run(ss, st, "store a big key name"))
        return -1;
    return sqi_blob_write(ss, "bign", "v", kid, key);
}

/* The children tables holding a type's elements (stream: its groups too). */
static int children_of(enum rs_type type, enum child *c)
{
    switch (type) {
    case RS_T_HASH: c[0] = C_HASH; return 1;
    case RS_T_LIST: c[0] = C_LIST; return 1;
    case RS_T_SET: c[0] = C_SET; return 1;
    case RS_T_ZSET: c[0] = C_ZSET; return 1;
    case RS_T_ARRAY: c[0] = C_ARRAY; c[1] = C_AMETA; return 2;
    case RS_T_PATHHASH: c[0] = C_PHASH; return 1;
    case RS_T_STREAM:
        c[0] = C_STREAM; c[1] = C_SMETA; c[2] = C_SGROUP; c[3] = C_SPEL; c[4] = C_SCONS;
        return 5;
    default: return 0;
    }
}

/* The type of key 'id': 1 and *type, 0 when there is no such key, or -1
 * with the sticky error set ('what' names the operation). */
static int key_type_of(struct sqlite_sink *ss, int64_t id, enum rs_type *type, const char *what)
{
    sqlite3_stmt *st;
    int r;

    if (sqi_stuck(ss) || (st = sqi_stmt(ss, ST_KEY_TYPE)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, what);
    if ((r = sqi_row(ss, st, what)) <= 0)
        return r;
    *type = sqi_type_parse(sqlite3_column_text(st, 0));
    sqi_stmt_done(st);
    return 1;
}

int sq_key_delete(struct sink *s, int64_t id)
{
    struct sqlite_sink *ss = SS(s);
    enum child c[C_COUNT];
    enum rs_type type;
    int r, n;

    if ((r = key_type_of(ss, id, &type, "delete a key")) <= 0)
        return r;                          /* no such key: nothing to do */
    n = children_of(type, c);
    for (int i = 0; i < n; i++)
        if (sqi_run_kid(ss, sqi_child_stmt(ss, CO_DELETE, c[i]), id, "delete a key's elements"))
            return -1;
    if (id == ss->tail_kid)
        ss->tail_kid = -1;
    sqi_kc_forget_id(ss, id);
    sqi_smeta_drop(ss, id);     /* its row goes above; the id may be reused */
    sqi_lb_drop(ss, id);
    return sqi_run_kid(ss, sqi_stmt(ss, ST_KEY_DELETE), id, "delete a key");
}

/*
 * SET of a small value without NX/XX/GET/KEEPTTL, when key_find would
 * need SQL (the key cache does not know the name and the filter says it
 * may exist): an UPDATE through the (key, db) index instead of that
 * index seek, the row fetch and an UPDATE by id; only when it changed
 * nothing, an INSERT that does nothing on a key of another type. The
 * filter's "may exist" is mostly right, so the UPDATE comes first: an
 * upsert (INSERT ... ON CONFLICT DO UPDATE) first found the table's last
 * rowid for the row it then did not insert, and cost 11.4k instructions
 * against 9.9k for the UPDATE (bench/replay under callgrind, 1.09M
 * commands of 10-SET scripts over 1M names, past their first 4.9M). A big name or value, a
 * known or surely new name, or a key of another type: *done = 0 and
 * nothing changed (the caller goes the usual way, with *sk when the cache
 * or the filter answered, so the name is not looked up twice). The key
 * cache learns the id of a key the upsert made, not of one it updated
 * (the id was not read). A new id needs no other cache's slot dropped:
 * the key that had it before was deleted by sq_key_delete, which did.
 */
static sqlite3_stmt *key_stmt(struct sqlite_sink *ss, int id);

int sq_string_put(struct sink *s, int db, const struct rs_bytes *key,
                  const struct rs_bytes *value, int64_t expire_ms, struct sink_key *sk,
                  int *done)
{
    struct sqlite_sink *ss = SS(s);
    struct sink_key k;
    sqlite3_stmt *st;
    int64_t id;

    *done = 0;
    *sk = (struct sink_key){ -1, RS_T_NONE, RS_NO_EXPIRE };
    if (sqi_stuck(ss) || ss->mode != MODE_STREAM || key->len >= SQI_BIG_VALUE ||
        sqi_big_value(value))
        return sqi_stuck(ss);
    if (find_in_memory(ss, db, key, sk))
        return 0;                          /* as key_find would answer */
    /* Neither statement sends what the transaction buffered first: they
     * write one string's row, which no buffered list or stream row,
     * pending pop or list bound names. The UPDATE may write a row whose
     * value is held (sqlite_string.c; the cache dropped its name since),
     * so it writes those out first when there are any. Telling which row
     * it wrote (RETURNING id: a temporary table each time, +9k
     * instructions; a SQL function of the id, then a look in the held
     * table, a cache miss per SET) cost more in a keyspace far larger
     * than the cache than writing the few held values out. */
    for (int i = KS_STRING_UPD; i <= KS_STRING_PUT; i++) {
        if ((st = key_stmt(ss, i)) == NULL)
            return -1;
        if (sqlite3_bind_int(st, 1, db) != SQLITE_OK || sqi_bind_bytes(st, 2, key) != SQLITE_OK ||
            sqi_bind_time(st, 3, expire_ms) != SQLITE_OK ||
            sqi_bind_bytes(st, 4, value) != SQLITE_OK)
            return sqi_bind_fail(ss, st, "store a string");
        if (i == KS_STRING_PUT) {
            if (sqi_run_new_key(ss, st, "store a string"))
                return -1;
            break;
        }
        if ((sqi_held_any(ss) ? sqi_run : sqi_run_as_is)(ss, st, "store a string"))
            return -1;
        if (sqlite3_changes(ss->db) == 1) {
            *done = 1;
            return 0;                      /* updated: the id was not read */
        }
    }
    if (sqlite3_changes(ss->db) == 0)
        return 0;                          /* another type: the caller replaces it */
    *done = 1;
    id = sqlite3_last_insert_rowid(ss->db);
    sqi_kf_add(ss, key);
    k = (struct sink_key){ id, RS_T_STRING, expire_ms };
    sqi_kc_put(ss, db, key, &k);
    return 0;
}

int sq_key_set_expire(struct sink *s, int64_t id, int64_t expire_ms)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;

    if (sqi_stuck(ss) || (st = sqi_stmt(ss, ST_KEY_EXPIRE)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqi_bind_time(st, 2, expire_ms) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "set an expire time");
    sqi_kc_set_expire(ss, id, expire_ms);
    return sqi_run(ss, st, "set an expire time");
}

int sq_key_rename(struct sink *s, int64_t id, int db, const struct rs_bytes *key)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    char ph[SQI_PH_LEN];
    int bigname;

    /* a big old name's bytes go with the UPDATE (trigger), the new ones after */
    if (sqi_stuck(ss) || (bigname = name_ph(ss, key, ph)) < 0 ||
        (bigname && name_prepare(ss)) || (st = sqi_stmt(ss, ST_KEY_RENAME)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int(st, 2, db) != SQLITE_OK ||
        name_bind(st, 3, key, ph) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "rename a key");
    sqi_kc_forget_id(ss, id);
    sqi_kc_forget_key(ss, db, key);
    sqi_kf_add(ss, key);
    if (sqi_run(ss, st, "rename a key"))
        return -1;
    return bigname ? name_store(ss, id, key) : 0;
}

int sq_key_is_empty(struct sink *s, int64_t id, enum rs_type type, int *empty)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    enum child c[C_COUNT];
    int r;

    *empty = 0;
    if (sqi_stuck(ss))
        return -1;
    if (children_of(type, c) == 0)
        return 0;                          /* strings and modules are never "empty" */
    if (type == RS_T_LIST && sqi_lb_empty(ss, id, empty))
        return 0;
    if ((st = sqi_child_stmt(ss, CO_PROBE, c[0])) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "probe a key");
    if ((r = sqi_row(ss, st, "probe a key")) < 0)
        return -1;
    if (r)
        sqi_stmt_done(st);
    *empty = !r;
    return 0;
}

/* Delete every table's rows (FLUSHALL); DELETE without WHERE truncates. */
static int flush_all(struct sqlite_sink *ss)
{
    char sql[64];

    if (sqi_bulk_settle(ss))
        return -1;
    for (int i = 0; sqi_gen_tables[i]; i++) {
        if (strcmp(sqi_gen_tables[i], "func") == 0)
            continue;                      /* FLUSHALL keeps functions */
        snprintf(sql, sizeof(sql), "DELETE FROM g%lld_%s", (long long)ss->target,
                 sqi_gen_tables[i]);
        if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return sqi_sql_fail(ss, "flush all databases");
    }
    return 0;
}

int sq_flush_db(struct sink *s, int db)
{
    struct sqlite_sink *ss = SS(s);

    if (sqi_stuck(ss) || sqi_smeta_sync(ss) || sqi_lb_sync(ss))
        return -1;
    ss->tail_kid = -1;
    sqi_kc_clear(ss);
    sqi_smeta_forget(ss);       /* written: what stays is read again */
    sqi_lb_forget(ss);
    if (db < 0)
        return flush_all(ss);
    /* Children first: they find keys by db. Each table is sought for the
     * db's keys of its own type only (children_of): seeking it for every
     * key of the db cost a read of the whole cell at each seek that met a
     * big row, and gN_zset and its order index hold a big member's first
     * 1 MiB (sqlite_zset.c): FLUSHDB of a db of 75,000 strings beside three
     * such members read 1 MiB per string and took 26 s. */
    for (int t = RS_T_STRING; t <= RS_T_PATHHASH; t++) {
        enum child c[C_COUNT];
        int n = children_of((enum rs_type)t, c);

        for (int i = 0; i < n; i++) {
            sqlite3_stmt *st = sqi_child_stmt(ss, CO_FLUSH, c[i]);

            if (st != NULL && sqlite3_bind_text(st, 2, rs_type_name((enum rs_type)t), -1,
                                                SQLITE_STATIC) != SQLITE_OK)
                return sqi_bind_fail(ss, st, "flush a database");
            if (sqi_run_kid(ss, st, db, "flush a database"))
                return -1;
        }
    }
    return sqi_run_kid(ss, sqi_stmt(ss, ST_KEY_FLUSH), db, "flush a database");
}

/* ------------------------------------------------------------------ */
/* COPY and SWAPDB                                                    */
/* ------------------------------------------------------------------ */

/*
 * COPY and SWAPDB: plain SQL on the live generation. A copy is one
 * INSERT ... SELECT for the key row and one per children table of its
 * type, so elements, TTLs (key and hash fields) and a stream's metadata,
 * groups, PEL and consumers travel without passing through C.
 */
static const char *const key_sql[KS_COPY_CHILD] = {
    [KS_COPY_KEY] =
        "INSERT INTO @keys(db, key, type, expire_at, value, lhead)"
        " SELECT ?2, ?3, type, expire_at, value, lhead FROM @keys WHERE id = ?1",
    /* sq_string_put: an existing string's value and TTL, else a new
     * string; a key of another type is left alone (no change by either) */
    [KS_STRING_UPD] =
        "UPDATE @keys SET value = ?4, expire_at = ?3, lhead = NULL"
        " WHERE key = ?2 AND db = ?1 AND type = 'string'",
    [KS_STRING_PUT] =
        "INSERT INTO @keys(db, key, type, expire_at, value, lhead)"
        " VALUES (?1, ?2, 'string', ?3, ?4, NULL) ON CONFLICT(key, db) DO NOTHING",
    /* SWAPDB in three steps: (key, db) is unique and SQLite checks it row
     * by row, so db ?1's keys are parked on db ?3 (-1 or -2, no Redis db)
     * first. ?1 is never 0: the statements ending in KS_IDX go through
     * gN_keys_db (see sq_swap_db), the others read every key. */
    [KS_SWAP_PARK] = "UPDATE @keys SET db = ?3 WHERE db = ?1" KS_IDX,
    [KS_SWAP_MOVE] = "UPDATE @keys SET db = ?1 WHERE db = ?2",
    [KS_SWAP_UNPARK] = "UPDATE @keys SET db = ?2 WHERE db = ?3",
    [KS_SWAPI_MOVE] = "UPDATE @keys SET db = ?1 WHERE db = ?2" KS_IDX,
    [KS_SWAPI_UNPARK] = "UPDATE @keys SET db = ?2 WHERE db = ?3" KS_IDX,
    /* a copy's big element values: ids moved up by ?3 = max(id), which
     * the copied element rows add to their 'big' too */
    [KS_COPY_BIG] =
        "INSERT INTO @big(id, text, v) SELECT id + ?3, text, v FROM @big WHERE id IN"
        " (SELECT big FROM @hash WHERE kid = ?1 UNION ALL SELECT big FROM @list WHERE kid = ?1"
        " UNION ALL SELECT big FROM @stream WHERE kid = ?1"
        " UNION ALL SELECT big FROM @array WHERE kid = ?1)",
    [KS_BIG_MAX] = "SELECT coalesce(max(id), 0) FROM @big",
};

/* ?1 the source key id, ?2 the copy's id; columns after kid as in sqi_gen_ddl. */
static const char *const copy_child_sql[C_COUNT] = {
    [C_HASH] = "INSERT INTO @hash(kid, field, value, big, expire_at)"
               " SELECT ?2, field, value, big + ?3, expire_at FROM @hash WHERE kid = ?1",
    [C_LIST] = "INSERT INTO @list(kid, pos, value, big)"
               " SELECT ?2, pos, value, big + ?3 FROM @list WHERE kid = ?1",
    [C_SET] = "INSERT INTO @set(kid, member) SELECT ?2, member FROM @set WHERE kid = ?1",
    [C_ZSET] = "INSERT INTO @zset(kid, member, score, ord)"
               " SELECT ?2, member, score, ord FROM @zset WHERE kid = ?1",
    [C_STREAM] = "INSERT INTO @stream(kid, ms, seq, pos, field, value, big)"
                 " SELECT ?2, ms, seq, pos, field, value, big + ?3 FROM @stream WHERE kid = ?1",
    [C_SMETA] = "INSERT INTO @smeta(kid, length, last_ms, last_seq, has_v2, first_ms, first_seq,"
                " maxdel_ms, maxdel_seq, entries_added) SELECT ?2, length, last_ms, last_seq,"
                " has_v2, first_ms, first_seq, maxdel_ms, maxdel_seq, entries_added"
                " FROM @smeta WHERE kid = ?1",
    [C_SGROUP] = "INSERT INTO @sgroup(kid, name, last_ms, last_seq, entries_read)"
                 " SELECT ?2, name, last_ms, last_seq, entries_read FROM @sgroup WHERE kid = ?1",
    [C_SPEL] = "INSERT INTO @spel(kid, grp, ms, seq, consumer, delivery_time, delivery_count)"
               " SELECT ?2, grp, ms, seq, consumer, delivery_time, delivery_count"
               " FROM @spel WHERE kid = ?1",
    [C_SCONS] = "INSERT INTO @scons(kid, grp, name, seen_time, active_time)"
                " SELECT ?2, grp, name, seen_time, active_time FROM @scons WHERE kid = ?1",
    [C_ARRAY] = "INSERT INTO @array(kid, bidx, value, big) SELECT ?2, bidx, value, big + ?3"
                " FROM @array WHERE kid = ?1",
    [C_AMETA] = "INSERT INTO @ameta(kid, cursor) SELECT ?2, cursor FROM @ameta WHERE kid = ?1",
    [C_PHASH] = "INSERT INTO @phash(kid, path, field, value)"
                " SELECT ?2, path, field, value FROM @phash WHERE kid = ?1",
};

static sqlite3_stmt *key_stmt(struct sqlite_sink *ss, int id)
{
    if (id >= KS_COPY_CHILD)
        return sqi_xstmt(ss, SQI_X_KEYS + id, copy_child_sql[id - KS_COPY_CHILD]);
    return sqi_xstmt(ss, SQI_X_KEYS + id, key_sql[id]);
}

/* Run key statement 'id' with the integer parameters ?1 and those of ?2,
 * ?3 it has. */
static int key_run3(struct sqlite_sink *ss, int id, int64_t p1, int64_t p2, int64_t p3,
                    const char *what)
{
    sqlite3_stmt *st = key_stmt(ss, id);
    int n;

    if (st == NULL)
        return -1;
    n = sqlite3_bind_parameter_count(st);
    if (sqlite3_bind_int64(st, 1, p1) != SQLITE_OK ||
        (n >= 2 && sqlite3_bind_int64(st, 2, p2) != SQLITE_OK) ||
        (n >= 3 && sqlite3_bind_int64(st, 3, p3) != SQLITE_OK))
        return sqi_bind_fail(ss, st, what);
    return sqi_run(ss, st, what);
}

/* Copy the big element values of key 'id' (sqlite_schema.c) up by the
 * highest id there, which *off gets: the copied rows add it to 'big'. */
static int copy_big(struct sqlite_sink *ss, int64_t id, int64_t *off)
{
    sqlite3_stmt *st = key_stmt(ss, KS_BIG_MAX);
    int r;

    if (st == NULL || (r = sqi_row(ss, st, "copy a key's big values")) < 0)
        return -1;
    *off = r ? sqlite3_column_int64(st, 0) : 0;
    if (r)
        sqi_stmt_done(st);
    return key_run3(ss, KS_COPY_BIG, id, 0, *off, "copy a key's big values");
}

int sq_key_copy(struct sink *s, int64_t id, int db, const struct rs_bytes *key, int64_t *new_id)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    enum child c[C_COUNT];
    enum rs_type type;
    char ph[SQI_PH_LEN];
    int64_t off = 0;
    int r, n, bigname;

    if ((r = key_type_of(ss, id, &type, "copy a key")) < 0 || sqi_smeta_sync(ss) ||
        sqi_lb_sync(ss))
        return -1;
    if (r == 0)
        return rs_fail(&s->err, RS_E_SQL, "cannot copy a key in '%s': no key %lld", ss->path,
                       (long long)id);
    if ((bigname = name_ph(ss, key, ph)) < 0 || (bigname && name_prepare(ss)) ||
        (st = key_stmt(ss, KS_COPY_KEY)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int(st, 2, db) != SQLITE_OK ||
        name_bind(st, 3, key, ph) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "copy a key");
    sqi_kc_forget_key(ss, db, key);
    sqi_kf_add(ss, key);
    if (sqi_run(ss, st, "copy a key"))
        return -1;
    *new_id = sqlite3_last_insert_rowid(ss->db);
    if (bigname && name_store(ss, *new_id, key))
        return -1;
    n = children_of(type, c);
    if (n > 0 && copy_big(ss, id, &off))
        return -1;
    for (int i = 0; i < n; i++)
        if (key_run3(ss, KS_COPY_CHILD + c[i], id, *new_id, off, "copy a key's elements"))
            return -1;
    /* big fields and members: the rows kept their placeholders */
    return type == RS_T_HASH || type == RS_T_SET || type == RS_T_ZSET || type == RS_T_STREAM
           ? sqi_bigm_copy(ss, id, *new_id) : 0;
}

/*
 * SWAPDB finds the two dbs' keys by "WHERE db = ?", which the (key, db)
 * index cannot answer: each of its three statements read every key of the
 * mirror (SWAPDB of two dbs of 100 keys beside 200k keys in db 0: 28 ms;
 * with the index below 0.8 ms).
 * The generation's first SWAPDB adds gN_keys_db, an index on db of the
 * keys outside db 0 and outside the parking db -1: a key in db 0 costs it
 * nothing, where a full index on db cost 4.6k instructions per new key
 * (+18% per SET). A SWAPDB of two other dbs then costs their keys only,
 * parked on -2 (in the index). One with db 0 parks the other db's keys on
 * -1 (out of it), so that each key moved enters or leaves the index once,
 * and reads every key twice (db 0's, then -1's). The index is not made with
 * the generation: a mirror that never swaps does not have it; a rollback
 * takes it away with the rest and IF NOT EXISTS makes it again.
 */
int sq_swap_db(struct sink *s, int db1, int db2)
{
    struct sqlite_sink *ss = SS(s);
    int a = db1 != 0 ? db1 : db2, b = db1 != 0 ? db2 : db1;   /* a is not 0 */

    if (sqi_stuck(ss))
        return -1;
    if (db1 == db2)
        return 0;
    sqi_kc_clear(ss);
    if (sqi_exec_gen(ss, "CREATE INDEX IF NOT EXISTS @keys_db ON @keys(db) WHERE " KS_IDX_WHERE,
                     ss->target, "index the keys by db") ||
        key_run3(ss, KS_SWAP_PARK, a, b, b != 0 ? -2 : -1, "swap databases") ||
        key_run3(ss, b != 0 ? KS_SWAPI_MOVE : KS_SWAP_MOVE, a, b, 0, "swap databases") ||
        key_run3(ss, b != 0 ? KS_SWAPI_UNPARK : KS_SWAP_UNPARK, a, b, b != 0 ? -2 : -1,
                 "swap databases"))
        return -1;
    ss->tail_kid = -1;
    return 0;
}
