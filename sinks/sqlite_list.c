/*
 * sqlite_list.c - the SQLite sink's lists: one gN_list row per element at
 * an integer position. gN_keys.lhead is the head's position, so an index
 * is pos - lhead (the redis_lists view); LPUSH moves lhead down, RPUSH
 * appends after max(pos). During a full sync the tail position is
 * counted in memory (tail_kid, tail_pos) rather than queried.
 */
#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_LIST + n (sqlite_int.h). */
enum {
    LS_TAIL, LS_HEAD, LS_INSERT, LS_NSTMT
};
static const char *const list_sql[LS_NSTMT] = {
    [LS_TAIL] =
        "SELECT coalesce((SELECT max(pos) FROM @list WHERE kid = ?1) + 1,"
        " (SELECT lhead FROM @keys WHERE id = ?1))",
    [LS_HEAD] = "UPDATE @keys SET lhead = lhead - 1 WHERE id = ?1 RETURNING lhead",
    [LS_INSERT] = "INSERT INTO @list(kid, pos, value) VALUES (?1, ?2, ?3)",
};
_Static_assert(LS_NSTMT <= SQI_X_PER_FAMILY, "too many list statements");

static sqlite3_stmt *list_stmt(struct sqlite_sink *ss, int id)
{
    return sqi_xstmt(ss, SQI_X_LIST + id, list_sql[id]);
}

/* Insert an element at position 'pos' (idx = pos - keys.lhead). */
static int insert_at_pos(struct sqlite_sink *ss, int64_t id, int64_t pos,
                         const struct rs_bytes *item)
{
    sqlite3_stmt *st = list_stmt(ss, LS_INSERT);

    if (st == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int64(st, 2, pos) != SQLITE_OK ||
        sqi_bind_bytes(st, 3, item) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "insert a list element");
    return sqi_run(ss, st, "insert a list element");
}

/* Head: move lhead one down and use it. Tail: one past the last position
 * (the PK index answers max(pos)), or lhead for an empty list. */
static int list_next_pos(struct sqlite_sink *ss, int64_t id, int at_head, int64_t *pos)
{
    sqlite3_stmt *st = list_stmt(ss, at_head ? LS_HEAD : LS_TAIL);
    int r;

    if (st == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "push to a list");
    if ((r = sqi_row(ss, st, "push to a list")) < 0)
        return -1;
    if (r == 0 || sqlite3_column_type(st, 0) == SQLITE_NULL) {
        if (r)
            sqi_stmt_done(st);
        return rs_fail(&ss->base.err, RS_E_SQL, "cannot push to a list in '%s': no list %lld",
                       ss->path, (long long)id);
    }
    *pos = sqlite3_column_int64(st, 0);
    sqi_stmt_done(st);                        /* for RETURNING: finishes the UPDATE */
    return 0;
}

int sq_list_push(struct sink *s, int64_t id, int at_head, const struct rs_bytes *item)
{
    struct sqlite_sink *ss = SS(s);
    int64_t pos = 0;

    if (sqi_stuck(ss) || sqi_load_tick(ss))
        return -1;
    /* A full sync appends to the list it just created: count, don't query. */
    if (ss->mode == MODE_LOAD && !at_head && id == ss->tail_kid) {
        pos = ss->tail_pos;
    } else {
        if (list_next_pos(ss, id, at_head, &pos))
            return -1;
        ss->tail_kid = -1;
    }
    if (insert_at_pos(ss, id, pos, item))
        return -1;
    if (ss->mode == MODE_LOAD && !at_head) {
        ss->tail_kid = id;
        ss->tail_pos = pos + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* not implemented yet (sink.h version 2)                             */
/* ------------------------------------------------------------------ */

int sq_list_len(struct sink *s, int64_t id, int64_t *len)
{
    (void)id;
    (void)len;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: list_len not implemented yet");
}

int sq_list_get(struct sink *s, int64_t id, int64_t index,
                void (*cb)(void *ud, const struct rs_bytes *v), void *ud, int *found)
{
    (void)id;
    (void)index;
    (void)cb;
    (void)ud;
    (void)found;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: list_get not implemented yet");
}

int sq_list_range(struct sink *s, int64_t id, int64_t start, int64_t stop,
                  void (*cb)(void *ud, int64_t index, const struct rs_bytes *v), void *ud)
{
    (void)id;
    (void)start;
    (void)stop;
    (void)cb;
    (void)ud;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: list_range not implemented yet");
}

int sq_list_set(struct sink *s, int64_t id, int64_t index, const struct rs_bytes *v)
{
    (void)id;
    (void)index;
    (void)v;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: list_set not implemented yet");
}

int sq_list_pop(struct sink *s, int64_t id, int from_head, int64_t count,
                void (*cb)(void *ud, const struct rs_bytes *v), void *ud, int64_t *popped)
{
    (void)id;
    (void)from_head;
    (void)count;
    (void)cb;
    (void)ud;
    (void)popped;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: list_pop not implemented yet");
}

int sq_list_trim(struct sink *s, int64_t id, int64_t start, int64_t stop)
{
    (void)id;
    (void)start;
    (void)stop;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: list_trim not implemented yet");
}

int sq_list_insert(struct sink *s, int64_t id, int64_t index, int after,
                   const struct rs_bytes *v)
{
    (void)id;
    (void)index;
    (void)after;
    (void)v;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: list_insert not implemented yet");
}

int sq_list_rem(struct sink *s, int64_t id, int64_t count, const struct rs_bytes *v,
                int64_t *removed)
{
    (void)id;
    (void)count;
    (void)v;
    (void)removed;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: list_rem not implemented yet");
}
