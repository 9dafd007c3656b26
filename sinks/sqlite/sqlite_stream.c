/*
 * sqlite_stream.c - the SQLite sink's streams: entries in gN_stream (one
 * row per field/value pair: ms, seq, pos), the stream's metadata in
 * gN_smeta, consumer groups in gN_sgroup, their pending entries in
 * gN_spel and consumers in gN_scons.
 *
 * A full sync names a group once (stream_group) and then sends its PEL
 * and consumers: the group and consumer names are remembered between
 * those calls (ss->group, ss->consumer; forgotten at every transaction
 * boundary). In stream mode the applier names groups and consumers in
 * every call instead (stream_group_set, stream_consumer_set, stream_pel_set...);
 * a PEL row's 'consumer' column is its owner, so a consumer's own PEL is
 * the group PEL rows it owns.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_STREAM + n (sqlite_int.h). */
enum {
    XS_ADD, XS_LEN_BELOW, XS_LEN, XS_NTH, XS_DELETE_BELOW, XS_SMETA_GET, XS_SMETA_SET,
    XS_GROUP_SET, XS_PEL_SET, XS_CONSUMER_SET, XS_PEL_OWNER,
    XS_DEL_ONE, XS_FIRST, XS_SCAN, XS_GROUP_GET, XS_GROUP_DEL, XS_GROUP_DEL_PEL,
    XS_GROUP_DEL_CONS, XS_CONS_PROBE, XS_CONS_DEL_PEL, XS_CONS_DEL,
    XS_PEL_PUT, XS_PEL_DEL, XS_PEL_DEL_ALL, XS_REFERENCED, XS_PEL_GET, XS_SMETA_BULK, XS_NSTMT
};
/* XS_SMETA_BULK's rows (see sqi_smeta_sync) */
#define SM_ROW "(?,?,?,?,?,?,?,?,?,?)"
#define SM_R4  SM_ROW "," SM_ROW "," SM_ROW "," SM_ROW
#define SM_R16 SM_R4 "," SM_R4 "," SM_R4 "," SM_R4
#define SM_BULK_ROWS 32
#define SM_COLS 10
static const char *const stream_sql[XS_NSTMT] = {
    [XS_ADD] =
        "INSERT OR REPLACE INTO @stream(kid, ms, seq, pos, field, value, big)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [XS_LEN_BELOW] =
        "SELECT count(*) FROM @stream WHERE kid = ?1 AND (ms, seq) < (?2, ?3) AND pos = 0",
    [XS_LEN] = "SELECT count(*) FROM @stream WHERE kid = ?1 AND pos = 0",
    [XS_NTH] =
        "SELECT ms, seq FROM @stream WHERE kid = ?1 AND pos = 0"
        " ORDER BY ms, seq LIMIT 1 OFFSET ?2",
    [XS_DELETE_BELOW] = "DELETE FROM @stream WHERE kid = ?1 AND (ms, seq) < (?2, ?3)",
    [XS_SMETA_GET] =
        "SELECT length, last_ms, last_seq, has_v2, first_ms, first_seq, maxdel_ms,"
        " maxdel_seq, entries_added FROM @smeta WHERE kid = ?1",
    [XS_SMETA_SET] =
        "INSERT OR REPLACE INTO @smeta(kid, length, last_ms, last_seq, has_v2, first_ms,"
        " first_seq, maxdel_ms, maxdel_seq, entries_added)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [XS_GROUP_SET] =
        "INSERT OR REPLACE INTO @sgroup(kid, name, last_ms, last_seq, entries_read)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [XS_PEL_SET] =
        "INSERT OR REPLACE INTO @spel(kid, grp, ms, seq, consumer, delivery_time,"
        " delivery_count) VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6)",
    [XS_CONSUMER_SET] =
        "INSERT OR REPLACE INTO @scons(kid, grp, name, seen_time, active_time)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [XS_PEL_OWNER] =
        "UPDATE @spel SET consumer = ?5 WHERE kid = ?1 AND grp = ?2 AND ms = ?3 AND seq = ?4",
    [XS_DEL_ONE] = "DELETE FROM @stream WHERE kid = ?1 AND ms = ?2 AND seq = ?3",
    [XS_FIRST] =
        "SELECT ms, seq FROM @stream WHERE kid = ?1 ORDER BY ms, seq LIMIT 1",
    [XS_SCAN] =
        "SELECT ms, seq, pos, field, value, big FROM @stream WHERE kid = ?1"
        " AND (ms, seq) >= (?2, ?3) ORDER BY ms, seq, pos",
    [XS_GROUP_GET] =
        "SELECT last_ms, last_seq, entries_read FROM @sgroup WHERE kid = ?1 AND name = ?2",
    [XS_GROUP_DEL] = "DELETE FROM @sgroup WHERE kid = ?1 AND name = ?2",
    [XS_GROUP_DEL_PEL] = "DELETE FROM @spel WHERE kid = ?1 AND grp = ?2",
    [XS_GROUP_DEL_CONS] = "DELETE FROM @scons WHERE kid = ?1 AND grp = ?2",
    [XS_CONS_PROBE] = "SELECT 1 FROM @scons WHERE kid = ?1 AND grp = ?2 AND name = ?3",
    [XS_CONS_DEL_PEL] = "DELETE FROM @spel WHERE kid = ?1 AND grp = ?2 AND consumer = ?3",
    [XS_CONS_DEL] = "DELETE FROM @scons WHERE kid = ?1 AND grp = ?2 AND name = ?3",
    [XS_PEL_PUT] =
        "INSERT OR REPLACE INTO @spel(kid, grp, ms, seq, consumer, delivery_time,"
        " delivery_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [XS_PEL_DEL] = "DELETE FROM @spel WHERE kid = ?1 AND grp = ?2 AND ms = ?3 AND seq = ?4",
    [XS_PEL_DEL_ALL] = "DELETE FROM @spel WHERE kid = ?1 AND ms = ?2 AND seq = ?3",
    /* pending in a group, or not yet delivered to one (its last id is lower) */
    [XS_REFERENCED] =
        "SELECT EXISTS (SELECT 1 FROM @spel WHERE kid = ?1 AND ms = ?2 AND seq = ?3)"
        " OR EXISTS (SELECT 1 FROM @sgroup WHERE kid = ?1 AND (last_ms, last_seq) < (?2, ?3))",
    [XS_PEL_GET] =
        "SELECT delivery_time, delivery_count FROM @spel"
        " WHERE kid = ?1 AND grp = ?2 AND ms = ?3 AND seq = ?4",
    /* changed metadata at commit, 32 rows (see sqi_smeta_sync) */
    [XS_SMETA_BULK] =
        "INSERT OR REPLACE INTO @smeta(kid, length, last_ms, last_seq, has_v2, first_ms,"
        " first_seq, maxdel_ms, maxdel_seq, entries_added) VALUES " SM_R16 "," SM_R16,
};
_Static_assert(XS_NSTMT <= SQI_X_PER_FAMILY, "too many stream statements");

/* XS_ADD for many rows at once: a full sync's entries, and a stream
 * transaction's (a stream's ids only grow: no row is ever met). */
static const struct sqi_bulk stream_bulk = {
    SQI_BULK_STREAM, 6, "@stream(kid, ms, seq, pos, field, value)", "OR REPLACE", "", 1
};

static sqlite3_stmt *stream_stmt(struct sqlite_sink *ss, int id)
{
    return sqi_xstmt(ss, SQI_X_STREAM + id, stream_sql[id]);
}

int sq_stream_add(struct sink *s, int64_t id, const struct rs_stream_id *eid, int pos,
                  const struct rs_bytes *field, const struct rs_bytes *value)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    char ph[SQI_PH_LEN] = "";
    int64_t big_id;
    int rc = 0;

    /* a big value is too big to buffer (rc = 0): it goes to gN_big below.
     * OR REPLACE never meets a row here: a stream's ids only grow, and the
     * loader deletes an entry whose id comes again (a forged RDB) first.
     * A replaced row would not fire the gN_big delete trigger (SQLite
     * fires it for REPLACE only under recursive_triggers, which costs
     * +8.6% instructions per XADD and +17.5% per XADD MAXLEN once the
     * triggers exist, doc/schema.md). */
    if (sqi_stuck(ss) || (rc = sqi_bulk_begin(ss, &stream_bulk, field->len + value->len)) < 0)
        return -1;
    if (rc > 0) {
        sqi_bulk_int(ss, id);
        sqi_bulk_int(ss, (int64_t)eid->ms);    /* wraps as sqi_bind_u64 */
        sqi_bulk_int(ss, (int64_t)eid->seq);
        sqi_bulk_int(ss, pos);
        sqi_bulk_bytes(ss, field);
        sqi_bulk_bytes(ss, value);
        return sqi_bulk_end(ss);
    }
    rc = 0;
    if (sqi_load_tick(ss) || sqi_big_put(ss, value, sqi_big_value(value), &big_id) ||
        (st = stream_stmt(ss, XS_ADD)) == NULL)
        return -1;
    rc |= sqlite3_bind_int64(st, 1, id);
    rc |= sqi_bind_u64(st, 2, eid->ms);
    rc |= sqi_bind_u64(st, 3, eid->seq);
    rc |= sqlite3_bind_int(st, 4, pos);
    /* a field name of 1 MiB or more: its placeholder, the bytes in gN_bigm
     * (shared by the stream's entries that repeat it) */
    rc |= sqi_bind_member(ss, st, 5, id, field, 1, ph);
    rc |= sqi_bind_elem(st, 6, value, big_id);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "add a stream entry");
    return sqi_run(ss, st, "add a stream entry");
}

/* ------------------------------------------------------------------ */
/* Stream metadata, cached and written back                            */
/* ------------------------------------------------------------------ */

/*
 * Every XADD reads and rewrites its stream's gN_smeta row: two of its
 * four statements. In a stream transaction the rows live here instead,
 * direct-mapped by key id, and a changed one is written when its slot is
 * needed for another key or at sqi_smeta_sync (commit, and before SQL
 * that reads gN_smeta). A stream that takes many entries in one batch
 * costs one metadata write per commit. Outside a stream transaction (a
 * full sync) stream_meta_set writes at once. The changed slots are listed
 * (dirty[]), so that a commit does not scan every slot; when the list is
 * full, sqi_smeta_sync scans instead.
 *
 * A commit writes the changed rows 32 to a statement: 5.2k instructions a
 * row instead of 6.5k on XADD to 100k streams (the statement opens its
 * cursor and halts once for 32 rows). OR REPLACE needs no statement
 * journal here (sqlite_bulk.c): gN_smeta has no NOT NULL column, no
 * index and no trigger, so no row can abort it half-way. Sorting the list
 * by id first cost more instructions than it saved.
 *
 * 131,072 slots (88 bytes each, 12 MB once all are touched; calloc'd, so a
 * few streams touch a few pages): with 16,384, XADD to 100k streams
 * missed 84% of the time, a read of the row and the write of the one it
 * displaced, about a third of an XADD's instructions (doc/schema.md).
 * A slot is in use when it carries the cache's epoch, so forgetting them
 * all (rollback, FLUSHALL) is one increment: clearing 12 MB each time
 * made a random workload with frequent flushes fall minutes behind
 * (tests/integration/kill_loop.sh).
 */
#define SM_SLOTS 131072

struct smeta_slot {
    int64_t kid;
    struct rs_stream_meta m;
    uint32_t epoch;              /* in use: the cache's epoch */
    unsigned char dirty;
};

struct smeta_cache {
    struct smeta_slot slot[SM_SLOTS];
    int32_t dirty[SM_SLOTS];     /* slots made dirty since the last sync */
    uint32_t epoch;              /* of the slots in use; never 0 */
    int ndirty, overflow;        /* overflow: some are not listed, scan */
};

static void meta_mark(struct smeta_cache *c, struct smeta_slot *e)
{
    if (e->dirty)
        return;
    e->dirty = 1;
    if (c->ndirty < SM_SLOTS)
        c->dirty[c->ndirty++] = (int32_t)(e - c->slot);
    else
        c->overflow = 1;
}

/* Bind a gN_smeta row to parameters at + 1 ... at + SM_COLS. */
static int meta_bind(sqlite3_stmt *st, int at, int64_t id, const struct rs_stream_meta *m)
{
    int rc = sqlite3_bind_int64(st, at + 1, id);

    rc |= sqi_bind_u64(st, at + 2, m->length);
    rc |= sqi_bind_u64(st, at + 3, m->last_id.ms);
    rc |= sqi_bind_u64(st, at + 4, m->last_id.seq);
    rc |= sqlite3_bind_int(st, at + 5, m->has_v2 != 0);
    rc |= sqi_bind_u64(st, at + 6, m->first_id.ms);
    rc |= sqi_bind_u64(st, at + 7, m->first_id.seq);
    rc |= sqi_bind_u64(st, at + 8, m->max_deleted_id.ms);
    rc |= sqi_bind_u64(st, at + 9, m->max_deleted_id.seq);
    rc |= sqi_bind_u64(st, at + 10, m->entries_added);
    return rc;
}

static int meta_write(struct sqlite_sink *ss, int64_t id, const struct rs_stream_meta *m)
{
    sqlite3_stmt *st = stream_stmt(ss, XS_SMETA_SET);

    if (st == NULL)
        return -1;
    if (meta_bind(st, 0, id, m) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store stream metadata");
    return sqi_run(ss, st, "store stream metadata");
}

/* The rows of SM_BULK_ROWS slots in one statement. */
static int meta_write_bulk(struct sqlite_sink *ss, struct smeta_slot *const *e)
{
    sqlite3_stmt *st = stream_stmt(ss, XS_SMETA_BULK);
    int rc = 0;

    if (st == NULL)
        return -1;
    for (int i = 0; i < SM_BULK_ROWS; i++)
        rc |= meta_bind(st, i * SM_COLS, e[i]->kid, &e[i]->m);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store stream metadata");
    return sqi_run(ss, st, "store stream metadata");
}

/* The slot of 'kid', or NULL without a cache (out of memory, or not in
 * a stream transaction). */
static struct smeta_slot *meta_slot(struct sqlite_sink *ss, int64_t kid)
{
    if (ss->mode != MODE_STREAM)
        return NULL;
    if (ss->smeta == NULL) {
        if ((ss->smeta = calloc(1, sizeof(*ss->smeta))) == NULL)
            return NULL;                   /* optional: everything goes to SQL */
        ss->smeta->epoch = 1;
    }
    return &ss->smeta->slot[(uint64_t)kid % SM_SLOTS];
}

static int slot_used(const struct sqlite_sink *ss, const struct smeta_slot *e)
{
    return e->epoch == ss->smeta->epoch;
}

/* Make the slot 'kid's: write the key it held first if that one changed. */
static int meta_claim(struct sqlite_sink *ss, struct smeta_slot *e, int64_t kid)
{
    if (slot_used(ss, e) && e->kid == kid)
        return 0;
    if (slot_used(ss, e) && e->dirty && meta_write(ss, e->kid, &e->m))
        return -1;
    e->epoch = ss->smeta->epoch;
    e->dirty = 0;
    e->kid = kid;
    return 0;
}

/* Stream 'kid' was just created: it has no gN_smeta row, which reads as
 * all zero (not as the metadata of the key the slot held before). */
int sqi_smeta_created(struct sqlite_sink *ss, int64_t kid)
{
    struct smeta_slot *e = meta_slot(ss, kid);

    if (e == NULL)
        return 0;
    if (meta_claim(ss, e, kid))
        return -1;
    memset(&e->m, 0, sizeof(e->m));
    return 0;
}

int sqi_smeta_sync(struct sqlite_sink *ss)
{
    struct smeta_cache *c = ss->smeta;
    struct smeta_slot *rows[SM_BULK_ROWS];
    int n = 0, nr = 0;

    if (c == NULL)
        return 0;
    if (c->overflow) {                     /* list every dirty slot again */
        for (int i = 0; i < SM_SLOTS; i++)
            if (slot_used(ss, &c->slot[i]) && c->slot[i].dirty)
                c->dirty[n++] = i;
        c->ndirty = n;
    }
    n = c->ndirty;
    for (int i = 0; i < n; i++) {
        struct smeta_slot *e = &c->slot[c->dirty[i]];

        if (slot_used(ss, e) && e->dirty) {
            rows[nr++] = e;
            if (nr == SM_BULK_ROWS && meta_write_bulk(ss, rows))
                return -1;
            nr %= SM_BULK_ROWS;
        }
        e->dirty = 0;
    }
    for (int i = 0; i < nr; i++)           /* the rest, one by one */
        if (meta_write(ss, rows[i]->kid, &rows[i]->m))
            return -1;
    c->ndirty = c->overflow = 0;
    return 0;
}

void sqi_smeta_drop(struct sqlite_sink *ss, int64_t kid)
{
    struct smeta_slot *e = ss->smeta ? &ss->smeta->slot[(uint64_t)kid % SM_SLOTS] : NULL;

    if (e && slot_used(ss, e) && e->kid == kid) {
        e->epoch = 0;
        e->dirty = 0;
    }
}

void sqi_smeta_forget(struct sqlite_sink *ss)
{
    struct smeta_cache *c = ss->smeta;

    if (c == NULL)
        return;
    c->ndirty = c->overflow = 0;
    if (++c->epoch == 0) {                 /* after 2^32 - 1: clear once */
        memset(c->slot, 0, sizeof(c->slot));
        c->epoch = 1;
    }
}

void sqi_smeta_free(struct sqlite_sink *ss)
{
    free(ss->smeta);
    ss->smeta = NULL;
}

int sq_stream_meta_get(struct sink *s, int64_t id, struct rs_stream_meta *m)
{
    struct sqlite_sink *ss = SS(s);
    struct smeta_slot *e;
    sqlite3_stmt *st;
    int r;

    memset(m, 0, sizeof(*m));
    if (sqi_stuck(ss))
        return -1;
    if ((e = meta_slot(ss, id)) != NULL && slot_used(ss, e) && e->kid == id) {
        *m = e->m;
        return 0;
    }
    if ((st = stream_stmt(ss, XS_SMETA_GET)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read stream metadata");
    if ((r = sqi_row(ss, st, "read stream metadata")) < 0)
        return r;
    if (r > 0) {
        m->length = (uint64_t)sqlite3_column_int64(st, 0);
        m->last_id.ms = (uint64_t)sqlite3_column_int64(st, 1);
        m->last_id.seq = (uint64_t)sqlite3_column_int64(st, 2);
        m->has_v2 = sqlite3_column_int(st, 3);
        m->first_id.ms = (uint64_t)sqlite3_column_int64(st, 4);
        m->first_id.seq = (uint64_t)sqlite3_column_int64(st, 5);
        m->max_deleted_id.ms = (uint64_t)sqlite3_column_int64(st, 6);
        m->max_deleted_id.seq = (uint64_t)sqlite3_column_int64(st, 7);
        m->entries_added = (uint64_t)sqlite3_column_int64(st, 8);
        sqi_stmt_done(st);
    }
    if (r == 0 || e == NULL)
        return 0;                          /* none stored reads as all zero */
    if (meta_claim(ss, e, id))
        return -1;
    e->m = *m;
    return 0;
}

int sq_stream_meta_set(struct sink *s, int64_t id, const struct rs_stream_meta *m)
{
    struct sqlite_sink *ss = SS(s);
    struct smeta_slot *e;

    if (sqi_stuck(ss) || sqi_load_tick(ss))
        return -1;
    if ((e = meta_slot(ss, id)) == NULL)
        return meta_write(ss, id, m);
    if (meta_claim(ss, e, id))
        return -1;
    e->m = *m;
    meta_mark(ss->smeta, e);
    return 0;
}

/* Run a one-integer query (?1 kid, then ?2, ?3 when given) into *out. */
static int stream_count(struct sqlite_sink *ss, int id_, int64_t kid,
                        const struct rs_stream_id *below, int64_t *out)
{
    sqlite3_stmt *st = stream_stmt(ss, id_);
    int rc = 0, r;

    *out = 0;
    if (st == NULL)
        return -1;
    rc |= sqlite3_bind_int64(st, 1, kid);
    if (below) {
        rc |= sqi_bind_u64(st, 2, below->ms);
        rc |= sqi_bind_u64(st, 3, below->seq);
    }
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "trim a stream");
    if ((r = sqi_row(ss, st, "trim a stream")) <= 0)
        return r;
    *out = sqlite3_column_int64(st, 0);
    sqi_stmt_done(st);
    return 0;
}

/* The id of the entry at 0-based rank 'n' (the oldest one MAXLEN keeps). */
static int stream_nth(struct sqlite_sink *ss, int64_t kid, int64_t n, struct rs_stream_id *out)
{
    sqlite3_stmt *st = stream_stmt(ss, XS_NTH);
    int r;

    if (st == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, kid) != SQLITE_OK || sqlite3_bind_int64(st, 2, n) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "trim a stream");
    if ((r = sqi_row(ss, st, "trim a stream")) <= 0)
        return r == 0 ? rs_fail(&ss->base.err, RS_E_SQL, "cannot trim a stream in '%s': "
                                "entry %lld vanished", ss->path, (long long)n) : -1;
    out->ms = (uint64_t)sqlite3_column_int64(st, 0);
    out->seq = (uint64_t)sqlite3_column_int64(st, 1);
    sqi_stmt_done(st);
    return 0;
}

/* MAXLEN with the length known (the applier's metadata) skips the count:
 * a scan of every entry, a third of an XADD MAXLEN = 1000's instructions. */
int sq_stream_trim(struct sink *s, int64_t id, const struct rs_stream_id *below,
                   int64_t keep, int64_t length, uint64_t *removed)
{
    struct sqlite_sink *ss = SS(s);
    struct rs_stream_id bound = { 0, 0 };
    sqlite3_stmt *st;
    int64_t n;
    int rc = 0;

    *removed = 0;
    if (sqi_stuck(ss))
        return -1;
    if (below) {
        bound = *below;
        if (stream_count(ss, XS_LEN_BELOW, id, below, &n))
            return -1;
    } else {
        if (length >= 0)
            n = length;
        else if (stream_count(ss, XS_LEN, id, NULL, &n))
            return -1;
        if (keep < 0 || n <= keep)
            return 0;
        if (keep == 0) {
            if (sqi_run_kid(ss, sqi_child_stmt(ss, CO_DELETE, C_STREAM), id, "trim a stream"))
                return -1;
            *removed = (uint64_t)n;
            return 0;
        }
        if (stream_nth(ss, id, n - keep, &bound))
            return -1;
        n -= keep;
    }
    if (n == 0)
        return 0;
    if ((st = stream_stmt(ss, XS_DELETE_BELOW)) == NULL)
        return -1;
    rc |= sqlite3_bind_int64(st, 1, id);
    rc |= sqi_bind_u64(st, 2, bound.ms);
    rc |= sqi_bind_u64(st, 3, bound.seq);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "trim a stream");
    if (sqi_run(ss, st, "trim a stream"))
        return -1;
    *removed = (uint64_t)n;
    return 0;
}

static int memo_set(struct sqlite_sink *ss, struct name_memo *m, int64_t kid,
                    const struct rs_bytes *name)
{
    char *p = malloc(name->len ? name->len : 1);

    if (p == NULL)
        return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot remember a stream name: out of memory");
    if (name->len)
        memcpy(p, name->ptr, name->len);
    free(m->ptr);
    m->ptr = p;
    m->len = name->len;
    m->kid = kid;
    return 0;
}

int sq_stream_group(struct sink *s, int64_t id, const struct rs_stream_group *g)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int rc = 0;

    if (sqi_stuck(ss) || sqi_load_tick(ss) || (st = stream_stmt(ss, XS_GROUP_SET)) == NULL)
        return -1;
    rc |= sqlite3_bind_int64(st, 1, id);
    rc |= sqi_bind_bytes(st, 2, &g->name);
    rc |= sqi_bind_u64(st, 3, g->last_id.ms);
    rc |= sqi_bind_u64(st, 4, g->last_id.seq);
    rc |= g->entries_read < 0 ? sqlite3_bind_null(st, 5)
                              : sqlite3_bind_int64(st, 5, g->entries_read);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a consumer group");
    if (sqi_run(ss, st, "store a consumer group"))
        return -1;
    sqi_memo_clear(&ss->consumer);
    return memo_set(ss, &ss->group, id, &g->name);
}

/* The group (or consumer) the last call named, for key 'id'. */
static int memo_get(struct sqlite_sink *ss, const struct name_memo *m, int64_t id,
                    const char *what, struct rs_bytes *out)
{
    if (m->kid != id)
        return rs_fail(&ss->base.err, RS_E_SQL, "cannot store %s in '%s': no %s named "
                       "before for key %lld", what, ss->path,
                       m == &ss->group ? "group" : "consumer", (long long)id);
    out->ptr = m->ptr;
    out->len = m->len;
    return 0;
}

int sq_stream_pending(struct sink *s, int64_t id, const struct rs_stream_pending *p)
{
    struct sqlite_sink *ss = SS(s);
    struct rs_bytes grp;
    sqlite3_stmt *st;
    int rc = 0;

    if (sqi_stuck(ss) || memo_get(ss, &ss->group, id, "a pending entry", &grp) ||
        sqi_load_tick(ss) || (st = stream_stmt(ss, XS_PEL_SET)) == NULL)
        return -1;
    rc |= sqlite3_bind_int64(st, 1, id);
    rc |= sqi_bind_bytes(st, 2, &grp);
    rc |= sqi_bind_u64(st, 3, p->id.ms);
    rc |= sqi_bind_u64(st, 4, p->id.seq);
    rc |= sqlite3_bind_int64(st, 5, p->delivery_time);
    rc |= sqi_bind_u64(st, 6, p->delivery_count);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a pending entry");
    return sqi_run(ss, st, "store a pending entry");
}

int sq_stream_consumer(struct sink *s, int64_t id, const struct rs_stream_consumer *c)
{
    struct sqlite_sink *ss = SS(s);
    struct rs_bytes grp;
    sqlite3_stmt *st;
    int rc = 0;

    if (sqi_stuck(ss) || memo_get(ss, &ss->group, id, "a consumer", &grp) ||
        sqi_load_tick(ss) || (st = stream_stmt(ss, XS_CONSUMER_SET)) == NULL)
        return -1;
    rc |= sqlite3_bind_int64(st, 1, id);
    rc |= sqi_bind_bytes(st, 2, &grp);
    rc |= sqi_bind_bytes(st, 3, &c->name);
    rc |= sqlite3_bind_int64(st, 4, c->seen_time);
    rc |= c->active_time < 0 ? sqlite3_bind_null(st, 5)
                             : sqlite3_bind_int64(st, 5, c->active_time);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a consumer");
    if (sqi_run(ss, st, "store a consumer"))
        return -1;
    return memo_set(ss, &ss->consumer, id, &c->name);
}

int sq_stream_consumer_pending(struct sink *s, int64_t id, const struct rs_stream_id *eid)
{
    struct sqlite_sink *ss = SS(s);
    struct rs_bytes grp, cons;
    sqlite3_stmt *st;
    int rc = 0;

    if (sqi_stuck(ss) || memo_get(ss, &ss->group, id, "a pending owner", &grp) ||
        memo_get(ss, &ss->consumer, id, "a pending owner", &cons) ||
        (st = stream_stmt(ss, XS_PEL_OWNER)) == NULL)
        return -1;
    rc |= sqlite3_bind_int64(st, 1, id);
    rc |= sqi_bind_bytes(st, 2, &grp);
    rc |= sqi_bind_u64(st, 3, eid->ms);
    rc |= sqi_bind_u64(st, 4, eid->seq);
    rc |= sqi_bind_bytes(st, 5, &cons);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a pending owner");
    return sqi_run(ss, st, "store a pending owner");
}

/* ------------------------------------------------------------------ */
/* stream mode: XDEL, XTRIM's first id, consumer groups (sink.h v2)   */
/* ------------------------------------------------------------------ */

/*
 * Most statements below bind the same leading parameters: ?1 kid, then
 * ?2 a name (group) and ?3 another name (consumer) or ?3/?4 an entry id.
 * bind_key() does that and returns SQLite's code (0 when all went well).
 */
static int bind_key(sqlite3_stmt *st, int64_t kid, const struct rs_bytes *n1,
                    const struct rs_bytes *n2, const struct rs_stream_id *eid, int eid_at)
{
    int rc = sqlite3_bind_int64(st, 1, kid);

    if (n1)
        rc |= sqi_bind_bytes(st, 2, n1);
    if (n2)
        rc |= sqi_bind_bytes(st, 3, n2);
    if (eid) {
        rc |= sqi_bind_u64(st, eid_at, eid->ms);
        rc |= sqi_bind_u64(st, eid_at + 1, eid->seq);
    }
    return rc;
}

/* Prepare statement 'x' for a write: the usual checks first. */
static sqlite3_stmt *write_stmt(struct sqlite_sink *ss, int x)
{
    if (sqi_stuck(ss) || sqi_load_tick(ss))
        return NULL;
    return stream_stmt(ss, x);
}

/* Run a bound write; *changed (may be NULL) = rows it changed. */
static int run_counted(struct sqlite_sink *ss, sqlite3_stmt *st, int rc, const char *what,
                       int64_t *changed)
{
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, what);
    if (sqi_run(ss, st, what))
        return -1;
    if (changed)
        *changed = sqlite3_changes(ss->db);
    return 0;
}

int sq_stream_delete(struct sink *s, int64_t id, const struct rs_stream_id *eid, int *deleted)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int64_t n = 0;

    *deleted = 0;
    /* in a load, the entry's rows may still be in the bulk buffer */
    if (sqi_bulk_flush(ss) || (st = write_stmt(ss, XS_DEL_ONE)) == NULL)
        return -1;
    if (run_counted(ss, st, bind_key(st, id, NULL, NULL, eid, 2), "delete a stream entry", &n))
        return -1;
    *deleted = n > 0;
    return 0;
}

int sq_stream_first(struct sink *s, int64_t id, struct rs_stream_id *first, int *found)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    *found = 0;
    first->ms = 0;
    first->seq = 0;
    if (sqi_stuck(ss) || (st = stream_stmt(ss, XS_FIRST)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read the first stream entry");
    if ((r = sqi_row(ss, st, "read the first stream entry")) <= 0)
        return r;
    first->ms = (uint64_t)sqlite3_column_int64(st, 0);
    first->seq = (uint64_t)sqlite3_column_int64(st, 1);
    *found = 1;
    sqi_stmt_done(st);
    return 0;
}

int sq_stream_scan(struct sink *s, int64_t id, const struct rs_stream_id *from,
                   void (*cb)(void *ud, const struct rs_stream_id *eid, int pos,
                              const struct rs_bytes *f, const struct rs_bytes *v),
                   void *ud)
{
    static const struct rs_stream_id zero = { 0, 0 };
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    if (sqi_stuck(ss) || (st = stream_stmt(ss, XS_SCAN)) == NULL)
        return -1;
    if (bind_key(st, id, NULL, NULL, from ? from : &zero, 2) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read a stream");
    while ((r = sqi_row(ss, st, "read a stream")) > 0) {
        struct rs_stream_id eid;
        struct rs_bytes f, v;
        void *owned, *fowned;

        eid.ms = (uint64_t)sqlite3_column_int64(st, 0);
        eid.seq = (uint64_t)sqlite3_column_int64(st, 1);
        if (sqi_column_member(ss, st, 3, id, &f, &fowned)) {
            sqi_stmt_done(st);
            return -1;
        }
        if (sqi_column_elem(ss, st, 4, &v, &owned)) {
            free(fowned);
            sqi_stmt_done(st);
            return -1;
        }
        cb(ud, &eid, sqlite3_column_int(st, 2), &f, &v);
        free(owned);
        free(fowned);
    }
    return r;       /* 0 at the end (the statement is reset), or -1 */
}

int sq_stream_group_get(struct sink *s, int64_t id, const struct rs_bytes *name,
                        struct rs_stream_id *last_id, int64_t *entries_read, int *found)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    *found = 0;
    last_id->ms = 0;
    last_id->seq = 0;
    *entries_read = -1;
    if (sqi_stuck(ss) || (st = stream_stmt(ss, XS_GROUP_GET)) == NULL)
        return -1;
    if (bind_key(st, id, name, NULL, NULL, 0) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read a consumer group");
    if ((r = sqi_row(ss, st, "read a consumer group")) <= 0)
        return r;
    last_id->ms = (uint64_t)sqlite3_column_int64(st, 0);
    last_id->seq = (uint64_t)sqlite3_column_int64(st, 1);
    if (sqlite3_column_type(st, 2) != SQLITE_NULL)
        *entries_read = sqlite3_column_int64(st, 2);
    *found = 1;
    sqi_stmt_done(st);
    return 0;
}

int sq_stream_group_set(struct sink *s, int64_t id, const struct rs_bytes *name,
                        const struct rs_stream_id *last_id, int64_t entries_read)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int rc;

    if ((st = write_stmt(ss, XS_GROUP_SET)) == NULL)
        return -1;
    rc = bind_key(st, id, name, NULL, last_id, 3);
    rc |= entries_read < 0 ? sqlite3_bind_null(st, 5) : sqlite3_bind_int64(st, 5, entries_read);
    return run_counted(ss, st, rc, "store a consumer group", NULL);
}

int sq_stream_group_del(struct sink *s, int64_t id, const struct rs_bytes *name, int *deleted)
{
    static const int order[] = { XS_GROUP_DEL_PEL, XS_GROUP_DEL_CONS, XS_GROUP_DEL };
    struct sqlite_sink *ss = SS(s);
    int64_t n = 0;

    *deleted = 0;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        sqlite3_stmt *st = write_stmt(ss, order[i]);

        if (st == NULL ||
            run_counted(ss, st, bind_key(st, id, name, NULL, NULL, 0), "remove a consumer group",
                        &n))
            return -1;
    }
    *deleted = n > 0;             /* the last one removed the group row */
    return 0;
}

int sq_stream_consumer_set(struct sink *s, int64_t id, const struct rs_bytes *group,
                           const struct rs_bytes *name, int64_t seen_time, int64_t active_time,
                           int *created)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int rc, r;

    if (sqi_stuck(ss) || (st = stream_stmt(ss, XS_CONS_PROBE)) == NULL)
        return -1;
    if (bind_key(st, id, group, name, NULL, 0) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read a consumer");
    if ((r = sqi_row(ss, st, "read a consumer")) < 0)
        return -1;
    if (r > 0)
        sqi_stmt_done(st);
    if (created)
        *created = r == 0;
    if ((st = write_stmt(ss, XS_CONSUMER_SET)) == NULL)
        return -1;
    rc = bind_key(st, id, group, name, NULL, 0);
    rc |= sqlite3_bind_int64(st, 4, seen_time);
    rc |= active_time < 0 ? sqlite3_bind_null(st, 5) : sqlite3_bind_int64(st, 5, active_time);
    return run_counted(ss, st, rc, "store a consumer", NULL);
}

int sq_stream_consumer_del(struct sink *s, int64_t id, const struct rs_bytes *group,
                           const struct rs_bytes *name, int64_t *pending_dropped)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;

    *pending_dropped = 0;
    if ((st = write_stmt(ss, XS_CONS_DEL_PEL)) == NULL ||
        run_counted(ss, st, bind_key(st, id, group, name, NULL, 0), "remove a consumer",
                    pending_dropped))
        return -1;
    if ((st = write_stmt(ss, XS_CONS_DEL)) == NULL)
        return -1;
    return run_counted(ss, st, bind_key(st, id, group, name, NULL, 0), "remove a consumer",
                       NULL);
}

int sq_stream_pel_set(struct sink *s, int64_t id, const struct rs_bytes *group,
                      const struct rs_stream_id *eid, const struct rs_bytes *consumer,
                      int64_t delivery_time, int64_t delivery_count)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int rc;

    if ((st = write_stmt(ss, XS_PEL_PUT)) == NULL)
        return -1;
    rc = bind_key(st, id, group, NULL, eid, 3);
    rc |= sqi_bind_bytes(st, 5, consumer);
    rc |= sqlite3_bind_int64(st, 6, delivery_time);
    rc |= sqlite3_bind_int64(st, 7, delivery_count);
    return run_counted(ss, st, rc, "store a pending entry", NULL);
}

int sq_stream_pel_del(struct sink *s, int64_t id, const struct rs_bytes *group,
                      const struct rs_stream_id *eid, int *deleted)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int64_t n = 0;

    *deleted = 0;
    if ((st = write_stmt(ss, XS_PEL_DEL)) == NULL ||
        run_counted(ss, st, bind_key(st, id, group, NULL, eid, 3), "remove a pending entry", &n))
        return -1;
    *deleted = n > 0;
    return 0;
}

int sq_stream_pel_get(struct sink *s, int64_t id, const struct rs_bytes *group,
                      const struct rs_stream_id *eid, int64_t *delivery_time,
                      int64_t *delivery_count, int *found)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    *found = 0;
    *delivery_time = *delivery_count = 0;
    if (sqi_stuck(ss) || (st = stream_stmt(ss, XS_PEL_GET)) == NULL)
        return -1;
    if (bind_key(st, id, group, NULL, eid, 3) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read a pending entry");
    if ((r = sqi_row(ss, st, "read a pending entry")) <= 0)
        return r;
    *delivery_time = sqlite3_column_int64(st, 0);
    *delivery_count = sqlite3_column_int64(st, 1);
    *found = 1;
    sqi_stmt_done(st);
    return 0;
}

int sq_stream_pel_del_all(struct sink *s, int64_t id, const struct rs_stream_id *eid,
                          int *removed)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int64_t n = 0;

    *removed = 0;
    if ((st = write_stmt(ss, XS_PEL_DEL_ALL)) == NULL ||
        run_counted(ss, st, bind_key(st, id, NULL, NULL, eid, 2), "remove pending entries", &n))
        return -1;
    *removed = n > 0;
    return 0;
}

int sq_stream_referenced(struct sink *s, int64_t id, const struct rs_stream_id *eid,
                         int *referenced)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    *referenced = 0;
    if (sqi_stuck(ss) || (st = stream_stmt(ss, XS_REFERENCED)) == NULL)
        return -1;
    if (bind_key(st, id, NULL, NULL, eid, 2) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "check a stream entry's references");
    if ((r = sqi_row(ss, st, "check a stream entry's references")) <= 0)
        return r;
    *referenced = sqlite3_column_int(st, 0) != 0;
    sqi_stmt_done(st);
    return 0;
}
