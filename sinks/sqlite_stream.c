/*
 * sqlite_stream.c - the SQLite sink's streams: entries in gN_stream (one
 * row per field/value pair: ms, seq, pos), the stream's metadata in
 * gN_smeta, consumer groups in gN_sgroup, their pending entries in
 * gN_spel and consumers in gN_scons.
 *
 * A full sync names a group once (stream_group) and then sends its PEL
 * and consumers: the group and consumer names are remembered between
 * those calls (ss->group, ss->consumer; forgotten at every transaction
 * boundary).
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_STREAM + n (sqlite_int.h). */
enum {
    XS_ADD, XS_LEN_BELOW, XS_LEN, XS_NTH, XS_DELETE_BELOW, XS_SMETA_GET, XS_SMETA_SET,
    XS_GROUP_SET, XS_PEL_SET, XS_CONSUMER_SET, XS_PEL_OWNER, XS_NSTMT
};
static const char *const stream_sql[XS_NSTMT] = {
    [XS_ADD] =
        "INSERT OR REPLACE INTO @stream(kid, ms, seq, pos, field, value)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
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
};
_Static_assert(XS_NSTMT <= SQI_X_PER_FAMILY, "too many stream statements");

static sqlite3_stmt *stream_stmt(struct sqlite_sink *ss, int id)
{
    return sqi_xstmt(ss, SQI_X_STREAM + id, stream_sql[id]);
}

int sq_stream_add(struct sink *s, int64_t id, const struct rs_stream_id *eid, int pos,
                  const struct rs_bytes *field, const struct rs_bytes *value)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int rc = 0;

    if (sqi_stuck(ss) || sqi_load_tick(ss) || (st = stream_stmt(ss, XS_ADD)) == NULL)
        return -1;
    rc |= sqlite3_bind_int64(st, 1, id);
    rc |= sqi_bind_u64(st, 2, eid->ms);
    rc |= sqi_bind_u64(st, 3, eid->seq);
    rc |= sqlite3_bind_int(st, 4, pos);
    rc |= sqi_bind_bytes(st, 5, field);
    rc |= sqi_bind_bytes(st, 6, value);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "add a stream entry");
    return sqi_run(ss, st, "add a stream entry");
}

int sq_stream_meta_get(struct sink *s, int64_t id, struct rs_stream_meta *m)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    memset(m, 0, sizeof(*m));
    if (sqi_stuck(ss) || (st = stream_stmt(ss, XS_SMETA_GET)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read stream metadata");
    if ((r = sqi_row(ss, st, "read stream metadata")) <= 0)
        return r;                          /* none stored: all zero */
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
    return 0;
}

int sq_stream_meta_set(struct sink *s, int64_t id, const struct rs_stream_meta *m)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int rc = 0;

    if (sqi_stuck(ss) || sqi_load_tick(ss) || (st = stream_stmt(ss, XS_SMETA_SET)) == NULL)
        return -1;
    rc |= sqlite3_bind_int64(st, 1, id);
    rc |= sqi_bind_u64(st, 2, m->length);
    rc |= sqi_bind_u64(st, 3, m->last_id.ms);
    rc |= sqi_bind_u64(st, 4, m->last_id.seq);
    rc |= sqlite3_bind_int(st, 5, m->has_v2 != 0);
    rc |= sqi_bind_u64(st, 6, m->first_id.ms);
    rc |= sqi_bind_u64(st, 7, m->first_id.seq);
    rc |= sqi_bind_u64(st, 8, m->max_deleted_id.ms);
    rc |= sqi_bind_u64(st, 9, m->max_deleted_id.seq);
    rc |= sqi_bind_u64(st, 10, m->entries_added);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store stream metadata");
    return sqi_run(ss, st, "store stream metadata");
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

int sq_stream_trim(struct sink *s, int64_t id, const struct rs_stream_id *below,
                   int64_t keep, uint64_t *removed)
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
        if (stream_count(ss, XS_LEN, id, NULL, &n))
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
/* not implemented yet (sink.h version 2)                             */
/* ------------------------------------------------------------------ */

int sq_stream_delete(struct sink *s, int64_t id, const struct rs_stream_id *eid, int *deleted)
{
    (void)id;
    (void)eid;
    (void)deleted;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: stream_delete not implemented yet");
}

int sq_stream_first(struct sink *s, int64_t id, struct rs_stream_id *first, int *found)
{
    (void)id;
    (void)first;
    (void)found;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: stream_first not implemented yet");
}

int sq_stream_scan(struct sink *s, int64_t id, const struct rs_stream_id *from,
                   void (*cb)(void *ud, const struct rs_stream_id *eid, int pos,
                              const struct rs_bytes *f, const struct rs_bytes *v),
                   void *ud)
{
    (void)id;
    (void)from;
    (void)cb;
    (void)ud;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: stream_scan not implemented yet");
}

int sq_stream_group_get(struct sink *s, int64_t id, const struct rs_bytes *name,
                        struct rs_stream_id *last_id, int64_t *entries_read, int *found)
{
    (void)id;
    (void)name;
    (void)last_id;
    (void)entries_read;
    (void)found;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: stream_group_get not implemented yet");
}

int sq_stream_group_set(struct sink *s, int64_t id, const struct rs_bytes *name,
                        const struct rs_stream_id *last_id, int64_t entries_read)
{
    (void)id;
    (void)name;
    (void)last_id;
    (void)entries_read;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: stream_group_set not implemented yet");
}

int sq_stream_group_del(struct sink *s, int64_t id, const struct rs_bytes *name, int *deleted)
{
    (void)id;
    (void)name;
    (void)deleted;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: stream_group_del not implemented yet");
}

int sq_stream_consumer_set(struct sink *s, int64_t id, const struct rs_bytes *group,
                           const struct rs_bytes *name, int64_t seen_time, int64_t active_time,
                           int *created)
{
    (void)id;
    (void)group;
    (void)name;
    (void)seen_time;
    (void)active_time;
    (void)created;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: stream_consumer_set not implemented yet");
}

int sq_stream_consumer_del(struct sink *s, int64_t id, const struct rs_bytes *group,
                           const struct rs_bytes *name, int64_t *pending_dropped)
{
    (void)id;
    (void)group;
    (void)name;
    (void)pending_dropped;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: stream_consumer_del not implemented yet");
}

int sq_stream_pel_set(struct sink *s, int64_t id, const struct rs_bytes *group,
                      const struct rs_stream_id *eid, const struct rs_bytes *consumer,
                      int64_t delivery_time, int64_t delivery_count)
{
    (void)id;
    (void)group;
    (void)eid;
    (void)consumer;
    (void)delivery_time;
    (void)delivery_count;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: stream_pel_set not implemented yet");
}

int sq_stream_pel_del(struct sink *s, int64_t id, const struct rs_bytes *group,
                      const struct rs_stream_id *eid, int *deleted)
{
    (void)id;
    (void)group;
    (void)eid;
    (void)deleted;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: stream_pel_del not implemented yet");
}
