/*
 * sqlite_keys.c - the key ops: find (through the key cache), create,
 * delete, expire, rename, probe, flush, COPY and SWAPDB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

int sq_key_find(struct sink *s, int db, const struct rs_bytes *key, struct sink_key *out)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    out->id = 0;
    out->type = RS_T_NONE;
    out->expire_ms = RS_NO_EXPIRE;
    if (sqi_stuck(ss))
        return -1;
    if (ss->mode == MODE_LOAD)
        return rs_fail(&s->err, RS_E_SQL, "cannot look keys up in '%s' during a full sync",
                       ss->path);
    if (sqi_kc_get(ss, db, key, out))
        return 0;
    if (sqi_kf_absent(ss, key)) {
        sqi_kc_put(ss, db, key, out);
        return 0;
    }
    if ((st = sqi_stmt(ss, ST_KEY_FIND)) == NULL)
        return -1;
    if (sqlite3_bind_int(st, 1, db) != SQLITE_OK || sqi_bind_bytes(st, 2, key) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "look a key up");
    if ((r = sqi_row(ss, st, "look a key up")) < 0)
        return r;
    if (r > 0) {
        out->id = sqlite3_column_int64(st, 0);
        out->type = sqi_type_parse(sqlite3_column_text(st, 1));
        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
            out->expire_ms = sqlite3_column_int64(st, 2);
        sqi_stmt_done(st);
    }
    sqi_kc_put(ss, db, key, out);
    return 0;
}

/* ST_KEY_INSERT for many keys at once, during a full sync. The load
 * counts the ids (1, 2... in the new, empty table) before the rows are
 * sent; SQLite gives the same ones (bulk_flush_buf checks). Binding the id
 * instead cost a seek per row. */
static const struct sqi_bulk keys_bulk = {
    SQI_BULK_KEYS, 6, "@keys(db, key, type, expire_at, value, lhead)", "", ""
};

/* This file's statements, in slots SQI_X_KEYS + n (sqlite_int.h). */
enum {
    KS_COPY_KEY, KS_SWAP_PARK, KS_SWAP_MOVE, KS_SWAP_UNPARK, KS_COPY_BIG, KS_BIG_MAX,
    KS_COPY_CHILD,                     /* + enum child: one per children table */
    KS_PLACE = KS_COPY_CHILD + C_COUNT, KS_PLACE_VALUE, KS_NSTMT
};
_Static_assert(KS_NSTMT <= SQI_X_PER_FAMILY, "too many key statements");

/*
 * Big key names in a full sync. The (key, db) index is built at
 * load_commit by one sort, and SQLite's sorter holds a name whole several
 * times over: the column read, the index record, the sorter's own copy
 * and, once a name exceeds the sorter's budget (cache_size) and another
 * key follows, a merge buffer rounded up to a power of two (93 MB for one
 * 16 MiB name). So during a load a name of SQI_BIG_VALUE bytes or more is
 * written in place into gN_big (as a big value is) and its row gets the
 * name '' in db -2 - id (unique; no master has that db); a big string
 * value of that key waits in gN_big too, since the UPDATE below would
 * otherwise read it whole. Once the index exists, each row gets its name
 * and db back, bound from one copy, as a command inserts a key (three
 * copies of the name in all: ours, the row's record, the index record).
 */
static int big_name_defer(struct sqlite_sink *ss, int db, const struct rs_bytes *key,
                          const struct rs_bytes *v, int big, int64_t id)
{
    struct big_name *bn;

    if (ss->n_big_names == ss->cap_big_names) {
        size_t cap = ss->cap_big_names ? 2 * ss->cap_big_names : 16;
        struct big_name *nb = realloc(ss->big_names, cap * sizeof(*nb));

        if (nb == NULL)
            return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot load into '%s': out of memory",
                           ss->path);
        ss->big_names = nb;
        ss->cap_big_names = cap;
    }
    bn = &ss->big_names[ss->n_big_names];
    *bn = (struct big_name){ id, 0, 0, big ? (int64_t)v->len : 0, db };
    if (sqi_big_store(ss, key, sqi_big_value(key), &bn->name) ||
        (big && sqi_big_store(ss, v, big, &bn->value)))
        return -1;
    ss->n_big_names++;
    return 0;
}

static int big_name_place(struct sqlite_sink *ss, const struct big_name *bn)
{
    sqlite3_stmt *st = sqi_xstmt(ss, SQI_X_KEYS + (bn->value ? KS_PLACE_VALUE : KS_PLACE),
                                 bn->value ? "UPDATE @keys SET db = ?2, key = ?3, value = ?4"
                                             " WHERE id = ?1"
                                           : "UPDATE @keys SET db = ?2, key = ?3 WHERE id = ?1");
    struct rs_bytes name;
    void *owned;
    int rc;

    if (st == NULL || sqi_big_read(ss, bn->name, &name, &owned))
        return -1;
    rc = sqlite3_bind_int64(st, 1, bn->id) | sqlite3_bind_int(st, 2, bn->db) |
         sqi_bind_bytes(st, 3, &name);
    if (bn->value)
        rc |= sqlite3_bind_zeroblob64(st, 4, (sqlite3_uint64)bn->value_len);
    rc = rc != SQLITE_OK ? sqi_bind_fail(ss, st, "name a key") : sqi_run(ss, st, "name a key");
    free(owned);
    if (rc || sqi_big_drop(ss, bn->name))
        return -1;
    return bn->value ? sqi_big_move_to_key(ss, bn->value, bn->id) : 0;
}

int sqi_big_names_place(struct sqlite_sink *ss)
{
    for (size_t i = 0; i < ss->n_big_names; i++)
        if (big_name_place(ss, &ss->big_names[i]))
            return -1;
    sqi_big_names_forget(ss);
    return 0;
}

void sqi_big_names_forget(struct sqlite_sink *ss)
{
    free(ss->big_names);
    ss->big_names = NULL;
    ss->n_big_names = ss->cap_big_names = 0;
}

int sq_key_create(struct sink *s, int db, const struct rs_bytes *key, enum rs_type type,
                  int64_t expire_ms, const struct rs_bytes *value, int64_t *id)
{
    struct sqlite_sink *ss = SS(s);
    const char *tname = rs_type_name(type);
    const struct rs_bytes *v = type != RS_T_STRING ? NULL
                               : value ? value : &(struct rs_bytes){ "", 0 };
    sqlite3_stmt *st;
    int rc = 0, big, defer;

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
    defer = ss->mode == MODE_LOAD && key->len >= SQI_BIG_VALUE;
    if (sqi_load_tick(ss) || (defer && big_name_defer(ss, db, key, v, big, *id)) ||
        (st = sqi_stmt(ss, ST_KEY_INSERT)) == NULL)
        return -1;
    if (ss->mode == MODE_LOAD)
        rc |= sqlite3_bind_int64(st, 7, *id);
    rc |= sqlite3_bind_int64(st, 1, defer ? -2 - *id : db);
    rc |= sqi_bind_bytes(st, 2, defer ? &(struct rs_bytes){ "", 0 } : key);
    rc |= sqlite3_bind_text(st, 3, tname, -1, SQLITE_STATIC);
    rc |= sqi_bind_time(st, 4, expire_ms);
    if (v && !(defer && big))
        rc |= sqi_bind_value(st, 5, v, big);
    if (type == RS_T_LIST)
        rc |= sqlite3_bind_int(st, 6, 0);
    else
        rc |= sqi_bind_text_flag(st, 6, big);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "insert a key");
    if (sqi_run(ss, st, "insert a key"))
        return -1;
    if (ss->mode != MODE_LOAD) {
        struct sink_key k;

        *id = sqlite3_last_insert_rowid(ss->db);
        k = (struct sink_key){ *id, type, expire_ms };
        sqi_kc_put(ss, db, key, &k);
        if (type == RS_T_STREAM && sqi_smeta_created(ss, *id))
            return -1;
    }
    return big && !defer ? sqi_big_fill(ss, *id, v) : 0;
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
    return sqi_run_kid(ss, sqi_stmt(ss, ST_KEY_DELETE), id, "delete a key");
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

    if (sqi_stuck(ss) || (st = sqi_stmt(ss, ST_KEY_RENAME)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int(st, 2, db) != SQLITE_OK ||
        sqi_bind_bytes(st, 3, key) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "rename a key");
    sqi_kc_forget_id(ss, id);
    sqi_kc_forget_key(ss, db, key);
    sqi_kf_add(ss, key);
    return sqi_run(ss, st, "rename a key");
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

    if (sqi_stuck(ss) || sqi_smeta_sync(ss))
        return -1;
    ss->tail_kid = -1;
    sqi_kc_clear(ss);
    sqi_smeta_forget(ss);       /* written: what stays is read again */
    if (db < 0)
        return flush_all(ss);
    for (int c = 0; c < C_COUNT; c++)      /* children first: they find keys by db */
        if (sqi_run_kid(ss, sqi_child_stmt(ss, CO_FLUSH, (enum child)c), db, "flush a database"))
            return -1;
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
    /* SWAPDB in three steps: (key, db) is unique and SQLite checks it row
     * by row, so db1's keys are parked on db -1 (no Redis db) first. */
    [KS_SWAP_PARK] = "UPDATE @keys SET db = -1 WHERE db = ?1",
    [KS_SWAP_MOVE] = "UPDATE @keys SET db = ?1 WHERE db = ?2",
    [KS_SWAP_UNPARK] = "UPDATE @keys SET db = ?2 WHERE db = -1",
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
    [C_ZSET] = "INSERT INTO @zset(kid, member, score)"
               " SELECT ?2, member, score FROM @zset WHERE kid = ?1",
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

static int key_run2(struct sqlite_sink *ss, int id, int64_t p1, int64_t p2, const char *what)
{
    return key_run3(ss, id, p1, p2, 0, what);
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
    int64_t off = 0;
    int r, n;

    if ((r = key_type_of(ss, id, &type, "copy a key")) < 0 || sqi_smeta_sync(ss))
        return -1;
    if (r == 0)
        return rs_fail(&s->err, RS_E_SQL, "cannot copy a key in '%s': no key %lld", ss->path,
                       (long long)id);
    if ((st = key_stmt(ss, KS_COPY_KEY)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int(st, 2, db) != SQLITE_OK ||
        sqi_bind_bytes(st, 3, key) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "copy a key");
    sqi_kc_forget_key(ss, db, key);
    sqi_kf_add(ss, key);
    if (sqi_run(ss, st, "copy a key"))
        return -1;
    *new_id = sqlite3_last_insert_rowid(ss->db);
    n = children_of(type, c);
    if (n > 0 && copy_big(ss, id, &off))
        return -1;
    for (int i = 0; i < n; i++)
        if (key_run3(ss, KS_COPY_CHILD + c[i], id, *new_id, off, "copy a key's elements"))
            return -1;
    /* big fields and members: the rows kept their placeholders */
    return type == RS_T_HASH || type == RS_T_SET ? sqi_bigm_copy(ss, id, *new_id) : 0;
}

int sq_swap_db(struct sink *s, int db1, int db2)
{
    struct sqlite_sink *ss = SS(s);

    if (sqi_stuck(ss))
        return -1;
    if (db1 == db2)
        return 0;
    sqi_kc_clear(ss);
    if (key_run2(ss, KS_SWAP_PARK, db1, db2, "swap databases") ||
        key_run2(ss, KS_SWAP_MOVE, db1, db2, "swap databases") ||
        key_run2(ss, KS_SWAP_UNPARK, db1, db2, "swap databases"))
        return -1;
    ss->tail_kid = -1;
    return 0;
}
