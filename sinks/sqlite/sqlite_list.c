/*
 * sqlite_list.c - the SQLite sink's lists: one gN_list row per element at
 * an integer position. gN_keys.lhead is the head's position, so an index
 * is pos - lhead (the redis_lists view); LPUSH moves lhead down, RPUSH
 * appends after max(pos). During a full sync the tail position is
 * counted in memory (tail_kid, tail_pos) rather than queried.
 *
 * Positions are always contiguous, lhead .. lhead + length - 1, so the
 * length is max(pos) - lhead + 1 and an index is one primary-key lookup.
 * Pops and LTRIM only drop rows at the ends (and move lhead); LINSERT and
 * LREM renumber the rows on the shorter side of the change, through a free
 * region past the tail so that UNIQUE(kid, pos) never sees two rows at
 * one position (move_rows, renumber).
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

#define REM_MATCH                                                                 \
    "CASE WHEN big IS NULL THEN value = ?2 ELSE (SELECT v FROM @big WHERE id = big) = ?4 END"

/* This file's statements, in slots SQI_X_LIST + n (sqlite_int.h). */
enum {
    LS_INSERT, LS_BOUNDS, LS_GET, LS_RANGE, LS_RANGE_DESC, LS_SET,
    LS_SET_HEAD, LS_DEL_RANGE, LS_SHIFT, LS_RENUMBER, LS_REM, LS_REM_DESC, LS_POP_RANGE,
    LS_NSTMT
};
static const char *const list_sql[LS_NSTMT] = {
    [LS_INSERT] = "INSERT INTO @list(kid, pos, value, big) VALUES (?1, ?2, ?3, ?4)",
    /* lhead and the tail's position (NULL when the list has no rows) */
    [LS_BOUNDS] =
        "SELECT lhead, (SELECT max(pos) FROM @list WHERE kid = ?1) FROM @keys WHERE id = ?1",
    [LS_GET] =
        "SELECT value, big FROM @list"
        " WHERE kid = ?1 AND pos = (SELECT lhead FROM @keys WHERE id = ?1) + ?2",
    [LS_RANGE] =
        "SELECT pos, value, big FROM @list WHERE kid = ?1 AND pos BETWEEN ?2 AND ?3 ORDER BY pos",
    [LS_RANGE_DESC] = "SELECT pos, value, big FROM @list WHERE kid = ?1 AND pos BETWEEN ?2 AND ?3"
                      " ORDER BY pos DESC",
    [LS_SET] = "UPDATE @list SET value = ?3, big = ?4"
               " WHERE kid = ?1 AND pos = (SELECT lhead FROM @keys WHERE id = ?1) + ?2",
    [LS_SET_HEAD] = "UPDATE @keys SET lhead = ?2 WHERE id = ?1",
    [LS_DEL_RANGE] = "DELETE FROM @list WHERE kid = ?1 AND pos BETWEEN ?2 AND ?3",
    /* the same for the pops that waited (sqi_lb_pops_flush), apart: they
     * are sent from inside another statement's sqi_run, after its
     * bindings, which a shared statement would clear */
    [LS_POP_RANGE] = "DELETE FROM @list WHERE kid = ?1 AND pos BETWEEN ?2 AND ?3",
    [LS_SHIFT] = "UPDATE @list SET pos = pos + ?4 WHERE kid = ?1 AND pos BETWEEN ?2 AND ?3",
    /* the rows in [?2, ?3] to ?4 + 1, ?4 + 2... in order */
    [LS_RENUMBER] =
        "UPDATE @list SET pos = r.np FROM (SELECT pos AS op, ?4 + row_number() OVER"
        " (ORDER BY pos) AS np FROM @list WHERE kid = ?1 AND pos BETWEEN ?2 AND ?3) AS r"
        " WHERE kid = ?1 AND pos = r.op",
    /* LREM: the first ?3 matches from the head (-1: all), or from the tail;
     * a big element matches ?4, the same bytes as a BLOB (NULL when ?2 is
     * too short to be big) */
    [LS_REM] = "DELETE FROM @list WHERE kid = ?1 AND pos IN (SELECT pos FROM @list"
               " WHERE kid = ?1 AND " REM_MATCH " ORDER BY pos LIMIT ?3) RETURNING pos",
    [LS_REM_DESC] = "DELETE FROM @list WHERE kid = ?1 AND pos IN (SELECT pos FROM @list"
                    " WHERE kid = ?1 AND " REM_MATCH " ORDER BY pos DESC LIMIT ?3) RETURNING pos",
};
_Static_assert(LS_NSTMT <= SQI_X_PER_FAMILY, "too many list statements");

/* LS_INSERT for many rows at once: a full sync's appends, and a stream
 * transaction's pushes (a position past the bounds is never taken). */
static const struct sqi_bulk list_bulk = {
    SQI_BULK_LIST, 3, "@list(kid, pos, value)", "", "", 1
};

static sqlite3_stmt *list_stmt(struct sqlite_sink *ss, int id)
{
    return sqi_xstmt(ss, SQI_X_LIST + id, list_sql[id]);
}

/*
 * The bounds (lhead and length) of recently used lists, by key id. A push
 * read lhead (LPUSH) or max(pos) (RPUSH) first, a pop read both and then
 * probed the list again to see whether it was emptied, and every LPUSH or
 * LPOP wrote lhead: with the bounds known, an RPUSH or RPOP is one
 * statement, an LPUSH or LPOP too until the list changes.
 *
 * lhead is written back: one list at a time (c->dirty) may hold a head
 * its gN_keys row does not have yet. It is written before another list's
 * head moves, before its slot goes to another list, before a statement
 * reads lhead in SQL (list_get, list_set, key_copy) and at commit and
 * FLUSHDB (sqi_lb_sync); a rollback or a delete of the list drops it. So
 * one list pushed to or popped from at the head costs one UPDATE of
 * gN_keys a transaction, and a workload over many lists one per command,
 * as before.
 *
 * Exact by the key cache's rule: the bounds move only here (push, pop and
 * trim update the slot; LINSERT and LREM write it back and drop it), a
 * key's create sets its slot and its delete drops it (an id can be
 * reused), and sqi_forget and FLUSHDB forget them all. Only in a stream
 * transaction, as the stream metadata cache.
 *
 * 16,384 slots of 32 bytes (512 KiB, calloc'd: touched as used), direct
 * mapped on the id.
 */
#define LB_SLOTS 16384

struct lb_slot {
    int64_t kid, head, len;
    uint32_t epoch;              /* in use: the cache's epoch */
};

struct lb_cache {
    struct lb_slot slot[LB_SLOTS];
    uint32_t epoch;              /* never 0 */
    int64_t dirty;               /* the list whose lhead is not written, or -1 */
};

static int list_exec(struct sqlite_sink *ss, int sid, const char *what, int n, int64_t p1,
                     int64_t p2, int64_t p3, int64_t p4);

/* The slot for 'kid', or NULL (not streaming, or no memory). */
static struct lb_slot *lb_slot(struct sqlite_sink *ss, int64_t kid)
{
    if (ss->mode != MODE_STREAM)
        return NULL;
    if (ss->lbounds == NULL) {
        if ((ss->lbounds = calloc(1, sizeof(*ss->lbounds))) == NULL)
            return NULL;                   /* optional: the bounds are read */
        ss->lbounds->epoch = 1;
        ss->lbounds->dirty = -1;
    }
    return &ss->lbounds->slot[(uint64_t)kid % LB_SLOTS];
}

/* The slot holding 'kid's bounds, or NULL. */
static struct lb_slot *lb_find(struct sqlite_sink *ss, int64_t kid)
{
    struct lb_slot *e = lb_slot(ss, kid);

    return e && e->epoch == ss->lbounds->epoch && e->kid == kid ? e : NULL;
}

/* Write the head the cache holds back to gN_keys. */
int sqi_lb_sync(struct sqlite_sink *ss)
{
    struct lb_cache *c = ss->lbounds;
    struct lb_slot *e;
    int64_t kid;

    if (c == NULL || c->dirty < 0)
        return 0;
    kid = c->dirty;
    c->dirty = -1;
    if ((e = lb_find(ss, kid)) == NULL)
        return rs_fail(&ss->base.err, RS_E_SQL, "cannot move a list's head in '%s': list %lld"
                       " is not in the cache", ss->path, (long long)kid);
    return list_exec(ss, LS_SET_HEAD, "move a list's head", 2, kid, e->head, 0, 0);
}

/* Make lhead in gN_keys true for 'kid' (a statement reads it). */
static int lb_clean(struct sqlite_sink *ss, int64_t kid)
{
    return ss->lbounds && ss->lbounds->dirty == kid ? sqi_lb_sync(ss) : 0;
}

static int lb_put(struct sqlite_sink *ss, int64_t kid, int64_t head, int64_t len)
{
    struct lb_slot *e = lb_slot(ss, kid);

    if (e == NULL)
        return 0;
    if (e->kid != kid && ss->lbounds->dirty == e->kid && e->epoch == ss->lbounds->epoch &&
        sqi_lb_sync(ss))
        return -1;                         /* the list it held first */
    *e = (struct lb_slot){ kid, head, len, ss->lbounds->epoch };
    return 0;
}

/* Move lhead: in the cache when the list is there, else in gN_keys. */
static int set_head(struct sqlite_sink *ss, int64_t id, int64_t head)
{
    struct lb_slot *e = lb_find(ss, id);

    if (e == NULL)
        return list_exec(ss, LS_SET_HEAD, "move a list's head", 2, id, head, 0, 0);
    if (ss->lbounds->dirty != id && sqi_lb_sync(ss))
        return -1;
    e->head = head;
    ss->lbounds->dirty = id;
    return 0;
}

/* The list's row goes (delete) or is new (create, copy): nothing to write. */
void sqi_lb_drop(struct sqlite_sink *ss, int64_t kid)
{
    struct lb_slot *e = ss->lbounds ? &ss->lbounds->slot[(uint64_t)kid % LB_SLOTS] : NULL;

    if (e == NULL || e->kid != kid)
        return;
    if (ss->lbounds->dirty == kid)
        ss->lbounds->dirty = -1;
    e->epoch = 0;
}

/* Write the list's head back and forget its bounds (LINSERT, LREM, LTRIM). */
static int lb_release(struct sqlite_sink *ss, int64_t kid)
{
    if (lb_clean(ss, kid))
        return -1;
    sqi_lb_drop(ss, kid);
    return 0;
}

int sqi_lb_created(struct sqlite_sink *ss, int64_t kid)
{
    return lb_put(ss, kid, 0, 0);          /* sq_key_create's lhead */
}

void sqi_lb_forget(struct sqlite_sink *ss)
{
    struct lb_cache *c = ss->lbounds;

    if (c == NULL)
        return;
    c->dirty = -1;
    if (++c->epoch == 0) {                 /* after 2^32 - 1: clear once */
        memset(c->slot, 0, sizeof(c->slot));
        c->epoch = 1;
    }
}

void sqi_lb_free(struct sqlite_sink *ss)
{
    free(ss->lbounds);
    ss->lbounds = NULL;
}

int sqi_lb_empty(struct sqlite_sink *ss, int64_t kid, int *empty)
{
    struct lb_slot *e = lb_find(ss, kid);

    if (e == NULL)
        return 0;
    *empty = e->len == 0;
    return 1;
}

/* Insert an element at position 'pos' (idx = pos - keys.lhead). */
static int insert_at_pos(struct sqlite_sink *ss, int64_t id, int64_t pos,
                         const struct rs_bytes *item)
{
    sqlite3_stmt *st;
    int64_t big_id;

    if (sqi_big_put(ss, item, sqi_big_value(item), &big_id) ||
        (st = list_stmt(ss, LS_INSERT)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int64(st, 2, pos) != SQLITE_OK ||
        sqi_bind_elem(st, 3, item, big_id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "insert a list element");
    return sqi_run(ss, st, "insert a list element");
}

static int list_bounds(struct sqlite_sink *ss, int64_t id, int64_t *head, int64_t *len);

int sq_list_push(struct sink *s, int64_t id, int at_head, const struct rs_bytes *item)
{
    struct sqlite_sink *ss = SS(s);
    int64_t pos = 0, head = 0, len = -1;   /* len -1: bounds not read */
    int r;

    if (sqi_stuck(ss))
        return -1;
    /* A full sync appends to the list it just created: count, don't query. */
    if (ss->mode == MODE_LOAD && !at_head && id == ss->tail_kid) {
        /* a big item is too big to buffer: r = 0, inserted below */
        if ((r = sqi_bulk_begin(ss, &list_bulk, item->len)) < 0)
            return -1;
        if (r > 0) {
            sqi_bulk_int(ss, id);
            sqi_bulk_int(ss, ss->tail_pos++);
            sqi_bulk_bytes(ss, item);
            return sqi_bulk_end(ss);
        }
        pos = ss->tail_pos;
    } else {
        /* the bounds (the cache's, or read: the query must see every row,
         * so a full sync's buffered ones go first; a stream transaction's
         * go with the query's sqi_row); a head push moves lhead */
        if ((ss->mode == MODE_LOAD && sqi_bulk_flush(ss)) || list_bounds(ss, id, &head, &len))
            return -1;
        ss->tail_kid = -1;
        pos = at_head ? head - 1 : head + len;
        if (at_head && set_head(ss, id, pos))
            return -1;
        /* in a stream transaction the row waits for the next statement;
         * pops that wait go first (the row may take a position they free) */
        if (ss->mode == MODE_STREAM && ss->pop_kid && sqi_bulk_flush(ss))
            return -1;
        if (ss->mode == MODE_STREAM && (r = sqi_bulk_begin(ss, &list_bulk, item->len)) != 0) {
            if (r < 0)
                return -1;
            sqi_bulk_int(ss, id);
            sqi_bulk_int(ss, pos);
            sqi_bulk_bytes(ss, item);
            if (sqi_bulk_end(ss))
                return -1;
            return len < 0 ? 0 : lb_put(ss, id, at_head ? pos : head, len + 1);
        }
    }
    if (sqi_load_tick(ss))
        return -1;
    if (insert_at_pos(ss, id, pos, item))
        return -1;
    if (ss->mode == MODE_LOAD && !at_head) {
        ss->tail_kid = id;
        ss->tail_pos = pos + 1;
    }
    return len < 0 ? 0 : lb_put(ss, id, at_head ? pos : head, len + 1);
}

/* ------------------------------------------------------------------ */
/* Reading and moving rows                                             */
/* ------------------------------------------------------------------ */

/* The list's head position and its length (0 when it has no rows). */
static int list_bounds(struct sqlite_sink *ss, int64_t id, int64_t *head, int64_t *len)
{
    struct lb_slot *e = lb_find(ss, id);
    sqlite3_stmt *st;
    int r;

    if (e != NULL) {
        *head = e->head;
        *len = e->len;
        return 0;
    }
    *head = 0;
    *len = 0;
    if ((st = list_stmt(ss, LS_BOUNDS)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read a list's bounds");
    if ((r = sqi_row(ss, st, "read a list's bounds")) < 0)
        return -1;
    if (r == 0)
        return rs_fail(&ss->base.err, RS_E_SQL, "cannot read a list in '%s': no list %lld",
                       ss->path, (long long)id);
    *head = sqlite3_column_int64(st, 0);
    if (sqlite3_column_type(st, 1) != SQLITE_NULL)
        *len = sqlite3_column_int64(st, 1) - *head + 1;
    sqi_stmt_done(st);
    return lb_put(ss, id, *head, *len);
}

/* Run list statement 'sid' with the integer parameters ?1..?n. */
static int list_exec(struct sqlite_sink *ss, int sid, const char *what, int n, int64_t p1,
                     int64_t p2, int64_t p3, int64_t p4)
{
    sqlite3_stmt *st = list_stmt(ss, sid);
    int64_t p[4] = { p1, p2, p3, p4 };
    int rc = 0;

    if (st == NULL)
        return -1;
    for (int i = 0; i < n; i++)
        rc |= sqlite3_bind_int64(st, i + 1, p[i]);
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, what);
    return sqi_run(ss, st, what);
}

static int delete_range(struct sqlite_sink *ss, int64_t id, int64_t lo, int64_t hi)
{
    if (lo > hi)
        return 0;
    return list_exec(ss, LS_DEL_RANGE, "delete list elements", 3, id, lo, hi, 0);
}

int sqi_lb_pops_flush(struct sqlite_sink *ss)
{
    int64_t kid = ss->pop_kid;

    if (kid == 0)
        return 0;
    ss->pop_kid = 0;
    return list_exec(ss, LS_POP_RANGE, "delete popped list elements", 3, kid, ss->pop_lo,
                     ss->pop_hi, 0);
}

/* cb gets every element at positions [lo, hi], ascending, or descending
 * (desc = 1), with its index (pos - head). */
static int scan_range(struct sqlite_sink *ss, int64_t id, int64_t head, int64_t lo, int64_t hi,
                      int desc, void (*cb)(void *ud, int64_t index, const struct rs_bytes *v),
                      void *ud)
{
    sqlite3_stmt *st = list_stmt(ss, desc ? LS_RANGE_DESC : LS_RANGE);
    int r;

    if (st == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int64(st, 2, lo) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, hi) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read list elements");
    while ((r = sqi_row(ss, st, "read list elements")) == 1) {
        struct rs_bytes v;
        void *owned;

        if (sqi_column_elem(ss, st, 1, &v, &owned)) {
            sqi_stmt_done(st);
            return -1;
        }
        cb(ud, sqlite3_column_int64(st, 0) - head, &v);
        free(owned);
    }
    return r;
}

/*
 * Move the rows at positions [lo, hi] by 'delta' (+1 or -1) into a free
 * slot next to them. One UPDATE would trip over UNIQUE(kid, pos), since
 * SQLite checks it row by row, so the rows go first to a free region past
 * the tail (every position there is above 'tail' + 1, the highest target)
 * and then down to their place.
 */
static int move_rows(struct sqlite_sink *ss, int64_t id, int64_t lo, int64_t hi, int64_t tail,
                     int64_t delta)
{
    int64_t off = tail + 2 - lo;

    if (lo > hi)
        return 0;
    if (list_exec(ss, LS_SHIFT, "move list elements", 4, id, lo, hi, off))
        return -1;
    return list_exec(ss, LS_SHIFT, "move list elements", 4, id, lo + off, hi + off, delta - off);
}

/*
 * Number the rows at positions [lo, hi] (with gaps, after a delete)
 * first, first + 1... in order. Same two steps as move_rows: row n (from
 * 1) goes to tail + n, which is free, and then down to first + n - 1,
 * inside [lo, hi] and so free once every row left it.
 */
static int renumber(struct sqlite_sink *ss, int64_t id, int64_t lo, int64_t hi, int64_t tail,
                    int64_t first)
{
    if (lo > hi)
        return 0;
    if (list_exec(ss, LS_RENUMBER, "renumber list elements", 4, id, lo, hi, tail))
        return -1;
    return list_exec(ss, LS_SHIFT, "renumber list elements", 4, id, tail + 1, tail + (hi - lo + 1),
                     first - 1 - tail);
}

/* ------------------------------------------------------------------ */
/* Reads                                                               */
/* ------------------------------------------------------------------ */

int sq_list_len(struct sink *s, int64_t id, int64_t *len)
{
    struct sqlite_sink *ss = SS(s);
    int64_t head;

    *len = 0;
    if (sqi_stuck(ss))
        return -1;
    return list_bounds(ss, id, &head, len);
}

int sq_list_get(struct sink *s, int64_t id, int64_t index,
                void (*cb)(void *ud, const struct rs_bytes *v), void *ud, int *found)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int r;

    *found = 0;
    if (sqi_stuck(ss))
        return -1;
    if (index < 0)
        return 0;
    if (lb_clean(ss, id) || (st = list_stmt(ss, LS_GET)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int64(st, 2, index) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read a list element");
    if ((r = sqi_row(ss, st, "read a list element")) <= 0)
        return r;
    *found = 1;
    if (cb) {
        struct rs_bytes v;
        void *owned;

        if (sqi_column_elem(ss, st, 0, &v, &owned) == 0)
            cb(ud, &v);
        free(owned);
    }
    sqi_stmt_done(st);
    return sqi_stuck(ss);
}

int sq_list_range(struct sink *s, int64_t id, int64_t start, int64_t stop,
                  void (*cb)(void *ud, int64_t index, const struct rs_bytes *v), void *ud)
{
    struct sqlite_sink *ss = SS(s);
    int64_t head, len;

    if (sqi_stuck(ss) || list_bounds(ss, id, &head, &len))
        return -1;
    if (start < 0)
        start = 0;
    if (stop > len - 1)
        stop = len - 1;
    if (start > stop)
        return 0;
    return scan_range(ss, id, head, head + start, head + stop, 0, cb, ud);
}

/* ------------------------------------------------------------------ */
/* Writes                                                              */
/* ------------------------------------------------------------------ */

int sq_list_set(struct sink *s, int64_t id, int64_t index, const struct rs_bytes *v)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int64_t big_id;

    if (sqi_stuck(ss) || lb_clean(ss, id) || sqi_big_put(ss, v, sqi_big_value(v), &big_id) ||
        (st = list_stmt(ss, LS_SET)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, index) != SQLITE_OK || sqi_bind_elem(st, 3, v, big_id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "replace a list element");
    if (sqi_run(ss, st, "replace a list element"))
        return -1;
    /* no such index (Redis refuses LSET there): the big row is nobody's */
    return sqlite3_changes(ss->db) == 0 && big_id ? sqi_big_drop(ss, big_id) : 0;
}

/* scan_range's callback for pops: drop the index. */
struct pop_ctx {
    void (*cb)(void *ud, const struct rs_bytes *v);
    void *ud;
};

static void pop_cb(void *ud, int64_t index, const struct rs_bytes *v)
{
    struct pop_ctx *pc = ud;

    (void)index;
    pc->cb(pc->ud, v);
}

/* Read the popped elements in pop order, then delete them in one go; a
 * head pop moves lhead past them, so no other row changes. */
int sq_list_pop(struct sink *s, int64_t id, int from_head, int64_t count,
                void (*cb)(void *ud, const struct rs_bytes *v), void *ud, int64_t *popped)
{
    struct sqlite_sink *ss = SS(s);
    struct pop_ctx pc = { cb, ud };
    int64_t head, len, lo, hi;

    *popped = 0;
    if (sqi_stuck(ss) || list_bounds(ss, id, &head, &len))
        return -1;
    ss->tail_kid = -1;
    if (count > len)
        count = len;
    if (count <= 0)
        return 0;
    lo = from_head ? head : head + len - count;
    hi = lo + count - 1;
    if (cb && scan_range(ss, id, head, lo, hi, !from_head, pop_cb, &pc))
        return -1;
    if (!cb && ss->mode == MODE_STREAM) {
        /* deferred: pops of one list next to each other make one range */
        if (ss->pop_kid == id && (hi + 1 == ss->pop_lo || lo == ss->pop_hi + 1)) {
            ss->pop_lo = lo < ss->pop_lo ? lo : ss->pop_lo;
            ss->pop_hi = hi > ss->pop_hi ? hi : ss->pop_hi;
        } else {
            if (ss->pop_kid && sqi_bulk_flush(ss))
                return -1;
            ss->pop_kid = id;
            ss->pop_lo = lo;
            ss->pop_hi = hi;
        }
        ss->bulk_pending = 1;
    } else if (delete_range(ss, id, lo, hi)) {
        return -1;
    }
    if (from_head && set_head(ss, id, head + count))
        return -1;
    *popped = count;
    return lb_put(ss, id, from_head ? head + count : head, len - count);
}

/* Only the two ends go; the kept rows keep their positions. */
int sq_list_trim(struct sink *s, int64_t id, int64_t start, int64_t stop)
{
    struct sqlite_sink *ss = SS(s);
    int64_t head, len;

    if (sqi_stuck(ss) || list_bounds(ss, id, &head, &len))
        return -1;
    ss->tail_kid = -1;
    if (start < 0)
        start = 0;
    if (stop > len - 1)
        stop = len - 1;
    if (lb_release(ss, id))
        return -1;
    if (start > stop)
        return delete_range(ss, id, head, head + len - 1);
    if (delete_range(ss, id, head, head + start - 1) ||
        delete_range(ss, id, head + stop + 1, head + len - 1) ||
        (start > 0 && set_head(ss, id, head + start)))
        return -1;
    return lb_put(ss, id, head + start, stop - start + 1);
}

/* Open a gap on the shorter side of the new element's place: the head
 * side moves one down (and lhead with it), or the tail side one up. */
int sq_list_insert(struct sink *s, int64_t id, int64_t index, int after,
                   const struct rs_bytes *v)
{
    struct sqlite_sink *ss = SS(s);
    int64_t head, len, n, at;

    if (sqi_stuck(ss) || sqi_load_tick(ss) || list_bounds(ss, id, &head, &len))
        return -1;
    ss->tail_kid = -1;
    if (lb_release(ss, id))                /* read again after the move */
        return -1;
    n = index + (after ? 1 : 0);           /* the new element's index */
    if (n < 0 || n > len)
        return rs_fail(&s->err, RS_E_SQL, "cannot insert into list %lld: index %lld of %lld",
                       (long long)id, (long long)index, (long long)len);
    at = head + n;
    if (n <= len - n) {
        if (move_rows(ss, id, head, at - 1, head + len - 1, -1) || set_head(ss, id, head - 1))
            return -1;
        at--;
    } else if (move_rows(ss, id, at, head + len - 1, head + len - 1, 1)) {
        return -1;
    }
    return insert_at_pos(ss, id, at, v);
}

/* Delete the matches (DELETE ... RETURNING pos tells where they were),
 * then close the gaps on the shorter side: the rows from the head to the
 * last match, or from the first match to the tail. */
int sq_list_rem(struct sink *s, int64_t id, int64_t count, const struct rs_bytes *v,
                int64_t *removed)
{
    struct sqlite_sink *ss = SS(s);
    int64_t head, len, tail, first = 0, last = 0, n = 0;
    /* SQL's LIMIT -1 is "no limit" */
    int64_t limit = count == 0 || count == INT64_MIN ? -1 : count < 0 ? -count : count;
    sqlite3_stmt *st;
    int r;

    *removed = 0;
    if (sqi_stuck(ss) || list_bounds(ss, id, &head, &len))
        return -1;
    ss->tail_kid = -1;
    if (lb_release(ss, id))                /* read again after the renumbering */
        return -1;
    if ((st = list_stmt(ss, count < 0 ? LS_REM_DESC : LS_REM)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqi_bind_bytes(st, 2, v) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, limit) != SQLITE_OK ||
        (v->len >= SQI_BIG_VALUE &&
         sqlite3_bind_blob64(st, 4, v->ptr, v->len, SQLITE_STATIC) != SQLITE_OK))
        return sqi_bind_fail(ss, st, "remove list elements");
    while ((r = sqi_row(ss, st, "remove list elements")) == 1) {
        int64_t pos = sqlite3_column_int64(st, 0);

        if (n == 0 || pos < first)
            first = pos;
        if (n == 0 || pos > last)
            last = pos;
        n++;
    }
    if (r < 0)
        return -1;
    *removed = n;
    tail = head + len - 1;
    if (n == 0 || n == len)
        return 0;                          /* nothing to close, or no list left */
    if (last - head <= tail - first) {
        int64_t kept = last - head + 1 - n, top = last + 1 - kept;

        if (renumber(ss, id, head, last, tail, top))
            return -1;
        return set_head(ss, id, top);
    }
    return renumber(ss, id, first, tail, tail, first);
}
