/*
 * sqlite_string.c - the SQLite sink's string values. A string lives in
 * its key's row (gN_keys.value), so key_create stores the first value and
 * these ops read and replace it. A value of 1 MiB or more is written with
 * BLOB I/O and flagged in lhead when it is text (sqlite_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_STRING + n (sqlite_int.h). */
enum {
    SV_GET, SV_SET, SV_INCR, SV_PUT, SV_HPUT, SV_ADD, SV_NSTMT
};
static const char *const string_sql[SV_NSTMT] = {
    [SV_GET] = "SELECT value FROM @keys WHERE id = ?1",
    [SV_SET] = "UPDATE @keys SET value = ?2, lhead = ?3 WHERE id = ?1",
    /* only a value that is its integer's own decimal text (no sign but
     * '-', no leading zero or space: Redis' string2ll) and whose sum fits
     * in 64 bits: redsink_incr leaves any other as it is and says so
     * (sqlite_stmt.c). A big value is a BLOB (its lhead the text flag),
     * which typeof() tells without reading it: such a row is not touched. */
    [SV_INCR] = "UPDATE @keys SET value = redsink_incr(value, ?2), lhead = NULL"
                " WHERE id = ?1 AND typeof(value) = 'text'",
    /* a held value (below): small, so no text flag */
    [SV_PUT] = "UPDATE @keys SET value = ?2, lhead = NULL WHERE id = ?1",
    /* a held hash field's value; the field keeps its TTL */
    [SV_HPUT] = "UPDATE @hash SET value = ?2 WHERE kid = ?1 AND field = ?3",
    /* increments held late (held_late): their sum ?2, their running sums
     * from ?3 to ?4 */
    [SV_ADD] = "UPDATE @keys SET value = redsink_incr(value, ?2, ?3, ?4), lhead = NULL"
               " WHERE id = ?1 AND typeof(value) = 'text'",
};
_Static_assert(SV_NSTMT <= SQI_X_PER_FAMILY, "too many string statements");

static sqlite3_stmt *string_stmt(struct sqlite_sink *ss, int id)
{
    return sqi_xstmt(ss, SQI_X_STRING + id, string_sql[id]);
}

int sq_string_get(struct sink *s, int64_t id,
                  void (*cb)(void *ud, const struct rs_bytes *v), void *ud)
{
    struct sqlite_sink *ss = SS(s);
    struct rs_bytes v;
    sqlite3_stmt *st;
    int r;

    if (sqi_stuck(ss) || (st = string_stmt(ss, SV_GET)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "read a string");
    if ((r = sqi_row(ss, st, "read a string")) < 0)
        return -1;
    if (r == 0)
        return rs_fail(&s->err, RS_E_SQL, "cannot read a string in '%s': no key %lld",
                       ss->path, (long long)id);
    /* column_blob returns TEXT's bytes unconverted; call bytes after it */
    v.ptr = sqlite3_column_blob(st, 0);
    v.len = (size_t)sqlite3_column_bytes(st, 0);
    if (v.ptr == NULL)
        v.ptr = "";
    cb(ud, &v);
    sqi_stmt_done(st);
    return 0;
}

/*
 * Values held in a stream transaction. A run of INCRs on a few counters,
 * SETs to the same keys, or any such load while catching up (batches of
 * up to 500,000 commands) updates each key's row many times in one
 * transaction, and only the last value is ever seen. So a SET of a small
 * value to a string whose id we know, an HSET of a small field and value
 * without a TTL (keyed by key id and field), an INCR or HINCRBY of a key
 * or field whose value an earlier one's statement told us (what
 * redsink_incr wrote), and, with sink.late_incr, the first increment too
 * (held_late, below) change only memory, and the value is written once,
 * by sqi_held_flush: before any
 * other statement runs (it is part of sqi_bulk_flush, which sqi_run and
 * sqi_row call) and at commit. Any other statement might read or change
 * those rows, so the flush forgets every held value. Three statements run
 * without it, as they read or change nothing held: the INCR or HINCRBY
 * statement itself (one key's value or one field, not held), a key lookup
 * (names, types and TTLs) and the insert of a new key's row
 * (sqi_run_new_key). A rollback forgets them (sqi_bulk_discard).
 *
 * SETs alone, bench/replay -b of 1M recorded SETs over 100k keys, wall
 * medians of 3: 1.75 -> 1.43 s in batches of 100,000, 1.67 -> 1.09 s in
 * batches of 500,000, 2.31 -> 2.01 s (noisy) in batches of 10,000.
 *
 * An open-addressing table of IP_SLOTS slots, at most half of them used
 * (131,072 keys; 24-byte slots, 6.8 MiB with the arrays, allocated at
 * the first such command of a stream transaction and touched as it
 * fills; 4 MiB more of running sums, written only where increments are
 * made late),
 * and the held SETs' and HSETs' bytes and fields' names in an arena of
 * up to IP_ARENA_MAX; when either is full it is flushed.
 */
#define IP_BITS 18
#define IP_SLOTS (1u << IP_BITS)
#define IP_MAX (IP_SLOTS / 2)
#define IP_ARENA_MIN (64u << 10)
#define IP_ARENA_MAX (2u << 20)
#define IP_NOFIELD UINT64_MAX        /* a string key's slot: no field */

struct ip_slot {
    int64_t id;                  /* 0: free (key ids start at 1) */
    int64_t value;               /* IP_INT*: the integer; IP_DELTA: the increments'
                                  * sum; IP_STR: off << 32 | len */
    uint64_t field;              /* a hash field: off << 32 | len; else IP_NOFIELD */
};

/* per slot: what it holds (IP_NONE: free). IP_INT: the row has the
 * value; IP_INT_DIRTY: the sum of more increments, to write; IP_DELTA:
 * increments not made yet, their sum to add (held_late); IP_STR: a SET's
 * value, to write. The last three are written at the flush. */
enum { IP_NONE, IP_INT, IP_INT_DIRTY, IP_DELTA, IP_STR };

struct held {
    struct ip_slot *slot;
    unsigned char *kind;         /* per slot: IP_NONE, IP_INT... (above) */
    uint32_t *used;              /* the slots taken, in order */
    uint32_t n;
    int64_t *lo, *hi;            /* per slot, IP_DELTA: the least and the greatest
                                  * running sum */
    char *arena;                 /* the held SETs' bytes and the fields' names */
    size_t alen, acap;
};

static const char *ip_bytes(const struct held *p, uint64_t ref)
{
    return p->arena + (ref >> 32);
}

/* The slot of string key 'id' (field NULL) or of field 'field' of hash
 * 'id': its own, or the free one it would take. */
static struct ip_slot *ip_find(struct held *p, int64_t id, const struct rs_bytes *field)
{
    uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;
    uint32_t i;

    if (field) {
        for (size_t k = 0; k < field->len; k++)
            h = (h ^ (unsigned char)field->ptr[k]) * 0x100000001b3ULL;
        h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ULL;
    }
    for (i = (uint32_t)(h >> (64 - IP_BITS)); p->slot[i].id != 0; i = (i + 1) & (IP_SLOTS - 1)) {
        const struct ip_slot *e = &p->slot[i];

        if (e->id != id)
            continue;
        if (field == NULL ? e->field == IP_NOFIELD
                          : e->field != IP_NOFIELD && (e->field & 0xffffffff) == field->len &&
                            /* an empty name: maybe no arena (memcmp of NULL) */
                            (field->len == 0 ||
                             memcmp(ip_bytes(p, e->field), field->ptr, field->len) == 0))
            break;
    }
    return &p->slot[i];
}

static struct held *ip_get(struct sqlite_sink *ss)
{
    struct held *p = ss->held;

    if (p == NULL && (p = calloc(1, sizeof(*p))) != NULL) {
        p->slot = calloc(IP_SLOTS, sizeof(*p->slot));
        p->kind = calloc(IP_SLOTS, 1);
        p->used = malloc(IP_MAX * sizeof(*p->used));
        /* calloc'd: pages not written cost no memory (lo and hi only
         * where increments are made late) */
        p->lo = calloc(IP_SLOTS, sizeof(*p->lo));
        p->hi = calloc(IP_SLOTS, sizeof(*p->hi));
        if (p->slot == NULL || p->kind == NULL || p->used == NULL || p->lo == NULL ||
            p->hi == NULL) {
            free(p->slot);
            free(p->kind);
            free(p->used);
            free(p->lo);
            free(p->hi);
            free(p);
            p = NULL;
        }
        ss->held = p;
    }
    return p;                      /* NULL: out of memory, commands go one by one */
}

/* Room for 'bytes' more in the arena: 0, or -1 (past IP_ARENA_MAX or out
 * of memory: flush, then ask again). */
static int ip_room(struct held *p, size_t bytes)
{
    size_t cap = p->acap ? p->acap : IP_ARENA_MIN;
    char *na;

    if (p->alen + bytes <= p->acap)
        return 0;
    while (cap < p->alen + bytes)
        cap *= 2;
    if (cap > IP_ARENA_MAX || (na = realloc(p->arena, cap)) == NULL)
        return -1;
    p->arena = na;
    p->acap = cap;
    return 0;
}

/* The slot of (id, field), taken when it was free, with room for 'bytes'
 * more in the arena; NULL when the table or the arena is full: flush,
 * then ask again. */
static struct ip_slot *ip_take(struct held *p, int64_t id, const struct rs_bytes *field,
                               size_t bytes)
{
    struct ip_slot *e = ip_find(p, id, field);
    size_t flen = field && e->id != id ? field->len : 0;

    if (ip_room(p, bytes + flen) != 0)
        return NULL;
    if (e->id != id) {
        if (p->n == IP_MAX)
            return NULL;
        e->id = id;
        e->field = IP_NOFIELD;
        if (field) {
            if (flen)
                memcpy(p->arena + p->alen, field->ptr, flen);
            e->field = (uint64_t)p->alen << 32 | flen;
            p->alen += flen;
        }
        p->used[p->n++] = (uint32_t)(e - p->slot);
    }
    return e;
}

void sqi_held_discard(struct sqlite_sink *ss)
{
    struct held *p = ss->held;

    for (uint32_t k = 0; p && k < p->n; k++) {
        p->slot[p->used[k]].id = 0;
        p->kind[p->used[k]] = IP_NONE;
    }
    if (p)
        p->n = 0, p->alen = 0;
}

/* qsort_r order of two slot numbers: by key id, the string's own slot
 * first, then by field */
static int ip_order(const void *a, const void *b, void *arg)
{
    const struct held *p = arg;
    const struct ip_slot *x = &p->slot[*(const uint32_t *)a], *y = &p->slot[*(const uint32_t *)b];
    size_t lx, ly;
    int c;

    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    if (x->field == IP_NOFIELD || y->field == IP_NOFIELD)
        return (x->field != IP_NOFIELD) - (y->field != IP_NOFIELD);
    lx = x->field & 0xffffffff;
    ly = y->field & 0xffffffff;
    if ((lx < ly ? lx : ly) > 0 &&
        (c = memcmp(ip_bytes(p, x->field), ip_bytes(p, y->field), lx < ly ? lx : ly)) != 0)
        return c;
    return (lx > ly) - (lx < ly);
}

/*
 * The write-out runs inside another statement's sqi_run, after that
 * statement was bound, so it uses statements of its own only (SV_PUT,
 * SV_HPUT, SV_ADD and the hash family's HS_PUT, HS_ADD): one the caller
 * may have bound would lose its bindings.
 *
 * Make the increments held late in slot e (IP_DELTA) of field f (NULL:
 * a string): 0, or -1 on error; *refused = 1 when the row refused them
 * (held_late).
 */
static int held_add(struct sqlite_sink *ss, struct held *p, const struct ip_slot *e,
                    const struct rs_bytes *f, int *refused)
{
    size_t i = (size_t)(e - p->slot);
    sqlite3_stmt *st;

    if (f) {
        st = sqi_hash_add_stmt(ss, e->id, f, e->value, p->lo[i], p->hi[i]);
    } else if ((st = string_stmt(ss, SV_ADD)) != NULL &&
               (sqlite3_bind_int64(st, 1, e->id) != SQLITE_OK ||
                sqlite3_bind_int64(st, 2, e->value) != SQLITE_OK ||
                sqlite3_bind_int64(st, 3, p->lo[i]) != SQLITE_OK ||
                sqlite3_bind_int64(st, 4, p->hi[i]) != SQLITE_OK))
        return sqi_bind_fail(ss, st, "add held increments");
    if (st == NULL)
        return -1;
    ss->incr_refused = 0;
    /* as is: sqi_run would flush again */
    if (sqi_run_as_is(ss, st, "add held increments"))
        return -1;
    *refused = sqlite3_changes(ss->db) != 1 || ss->incr_refused;
    return 0;
}

/* Write slot e's value (IP_INT_DIRTY, IP_STR) of field f (NULL: a
 * string) to its row: 0 or -1. */
static int held_put(struct sqlite_sink *ss, struct held *p, const struct ip_slot *e, int kind,
                    const struct rs_bytes *f)
{
    int hash = f != NULL;
    sqlite3_stmt *st;
    struct rs_bytes v;
    char buf[24];

    if (kind == IP_STR) {
        v.ptr = ip_bytes(p, (uint64_t)e->value);
        v.len = (size_t)(e->value & 0xffffffff);
    } else {
        v.ptr = buf;
        v.len = rs_ll2str(buf, e->value);
    }
    /* TEXT or BLOB as any value or field is bound (sqi_bind_bytes);
     * the statement runs before buf or the arena changes. A held HSET
     * (a field's IP_STR) makes the field or replaces it, its TTL gone; a
     * held sum keeps the TTL. */
    if (hash && kind == IP_STR)
        st = sqi_hash_put_stmt(ss, e->id, f, &v);
    else if ((st = string_stmt(ss, hash ? SV_HPUT : SV_PUT)) != NULL &&
             (sqlite3_bind_int64(st, 1, e->id) != SQLITE_OK ||
              sqi_bind_bytes(st, 2, &v) != SQLITE_OK ||
              (hash && sqi_bind_bytes(st, 3, f) != SQLITE_OK)))
        return sqi_bind_fail(ss, st, "store a held value");
    if (st == NULL)
        return -1;
    /* as is: sqi_run would flush again */
    if (sqi_run_as_is(ss, st, "store a held value"))
        return -1;
    if (sqlite3_changes(ss->db) != 1)
        return rs_fail(&ss->base.err, RS_E_SQL, "cannot store a held value in '%s': no %s %lld",
                       ss->path, hash ? "field of key" : "key", (long long)e->id);
    return 0;
}

/*
 * The rows are written in key order: the held keys are spread over the
 * whole table, and UPDATEs in key order walk its leaves in order instead
 * of jumping between them (1M recorded INCRs over 100k keys in batches
 * of 500,000: wall medians 1.303 -> 1.241 s).
 */
int sqi_held_flush(struct sqlite_sink *ss)
{
    struct held *p = ss->held;
    uint32_t nd = 0;
    int64_t refused = 0;
    int rc = 0;

    /* the slots to write first in used[], then in key order */
    for (uint32_t k = 0; p && k < p->n; k++)
        if (p->kind[p->used[k]] >= IP_INT_DIRTY) {
            uint32_t t = p->used[nd];

            p->used[nd++] = p->used[k];
            p->used[k] = t;
        }
    if (nd > 1)
        qsort_r(p->used, nd, sizeof(*p->used), ip_order, p);
    for (uint32_t k = 0; k < nd && rc == 0; k++) {
        const struct ip_slot *e = &p->slot[p->used[k]];
        int kind = p->kind[p->used[k]], no = 0;
        struct rs_bytes f = { NULL, 0 }, *fp = NULL;

        if (e->field != IP_NOFIELD) {      /* an empty name: maybe no arena yet */
            f.ptr = ip_bytes(p, e->field);
            f.len = (size_t)(e->field & 0xffffffff);
            fp = &f;
        }

        rc = kind == IP_DELTA ? held_add(ss, p, e, fp, &no) : held_put(ss, p, e, kind, fp);
        refused += no;
    }
    sqi_held_discard(ss);
    if (refused && ss->base.on_event != NULL) {
        struct sink_event ev = { .kind = SINK_EV_INCR_REFUSED, .target = ss->path,
                                 .bytes = refused };

        ss->base.on_event(ss->base.event_ud, &ev);
    }
    return rc;
}

int sqi_held_any(struct sqlite_sink *ss)
{
    return ss->held && ss->held->n;
}

void sqi_held_free(struct sqlite_sink *ss)
{
    if (ss->held) {
        free(ss->held->slot);
        free(ss->held->kind);
        free(ss->held->used);
        free(ss->held->arena);
        free(ss->held->lo);
        free(ss->held->hi);
        free(ss->held);
        ss->held = NULL;
    }
}

/* May (id, field) be held? A stream transaction, a field of at most
 * SQI_HELD_MAX bytes, and the table there. */
static int held_on(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *field)
{
    return ss->mode == MODE_STREAM && id > 0 && (field == NULL || field->len <= SQI_HELD_MAX) &&
           ip_get(ss) != NULL;
}

/* The slot of (id, field) with room for 'bytes' in the arena, writing
 * the held values out first when the table or the arena is full. NULL
 * with *rc = -1 on error, with *rc = 0 when the arena cannot grow (the
 * value is then not held). */
static struct ip_slot *held_slot(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *field,
                                 size_t bytes, int *rc)
{
    struct ip_slot *e = ip_take(ss->held, id, field, bytes);

    *rc = 0;
    if (e == NULL && (*rc = sqi_held_flush(ss)) == 0)
        e = ip_take(ss->held, id, field, bytes);
    return e;
}

/*
 * Increments made late. With the value held (IP_INT), a key's first
 * increment in a transaction still runs its statement, and the sum of the
 * others is written again at the flush: two statements for a key
 * incremented twice or more. When the master reads integers as we do
 * (sink.late_incr), the first one runs no statement either: the slot
 * holds the increments' sum (IP_DELTA) and the least and the greatest of
 * their running sums (lo, hi), and the flush runs one statement, which
 * reads the value, checks it and adds (redsink_incr with four arguments):
 * the value must be an integer, and value + lo and value + hi must fit in
 * 64 bits, so that each increment in turn would have been made; then the
 * result is the one of making them in turn. The master propagates only
 * increments it made, to the value the mirror also holds, so they pass.
 * If they do not (a mirror that already differs from the master there),
 * none is made and the flush says so (SINK_EV_INCR_REFUSED); making them
 * in turn would skip some, which holding only their sums cannot tell. A
 * running sum that would overflow writes the slot out first.
 *
 * bench/replay -b of 1M recorded INCRs over 100k keys, wall, two runs
 * each: 2.32, 2.30 -> 1.79, 1.81 s in batches of 100,000; 1.56, 1.56 ->
 * 1.30, 1.29 s in batches of 500,000. 1M HINCRBYs over 100k fields of
 * one hash: 2.03, 2.06 -> 1.48, 1.47 s; 1.15, 1.01 -> 0.67, 0.65 s.
 */
static int held_late(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *field,
                     int64_t incr, int *done)
{
    struct held *p = ss->held;
    struct ip_slot *e;
    size_t i;
    int rc;

    if (!ss->base.late_incr)
        return 0;
    if ((e = held_slot(ss, id, field, 0, &rc)) == NULL)
        return rc;                         /* 0: the statement runs now */
    i = (size_t)(e - p->slot);
    e->value = incr;
    p->lo[i] = incr < 0 ? incr : 0;
    p->hi[i] = incr > 0 ? incr : 0;
    p->kind[i] = IP_DELTA;
    ss->bulk_pending = 1;                  /* any other statement flushes first */
    *done = 1;
    return 1;
}

int sqi_held_incr(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *field, int64_t incr,
                  int *done, int *held)
{
    struct held *p;
    struct ip_slot *e;
    int64_t sum;
    int kind;

    *done = 0;
    if (!(*held = held_on(ss, id, field)))
        return 0;
    p = ss->held;
    e = ip_find(p, id, field);
    if (e->id != id || (kind = p->kind[e - p->slot]) == IP_NONE)
        return held_late(ss, id, field, incr, done);
    if (kind == IP_STR)                    /* a held SET: written, then by SQL */
        return sqi_held_flush(ss);
    if (__builtin_add_overflow(e->value, incr, &sum)) {
        /* IP_INT*: the caller refuses it, from the row (flushed); IP_DELTA:
         * the sum is written out, then this one runs its statement */
        return kind == IP_DELTA ? sqi_held_flush(ss) : 1;
    }
    e->value = sum;
    if (kind == IP_DELTA) {
        size_t i = (size_t)(e - p->slot);

        p->lo[i] = sum < p->lo[i] ? sum : p->lo[i];
        p->hi[i] = sum > p->hi[i] ? sum : p->hi[i];
    } else {
        p->kind[e - p->slot] = IP_INT_DIRTY;
    }
    *done = 1;
    return 1;
}

int sqi_incr_run(struct sqlite_sink *ss, sqlite3_stmt *st, int held, int64_t id,
                 const struct rs_bytes *field, int64_t incr, int *done, const char *what)
{
    struct ip_slot *e;
    int rc;

    ss->incr_refused = 0;
    ss->incr_sum = incr;               /* a new field: redsink_incr does not run */
    /* held: no flush first, this touches one value, nothing held or
     * buffered (the comment above) */
    if ((held ? sqi_run_as_is : sqi_run)(ss, st, what))
        return -1;
    *done = sqlite3_changes(ss->db) == 1 && !ss->incr_refused;
    if (!*done || !held)
        return 0;
    if ((e = held_slot(ss, id, field, 0, &rc)) != NULL) {
        e->value = ss->incr_sum;           /* later increments add to it */
        ss->held->kind[e - ss->held->slot] = IP_INT;
        ss->bulk_pending = 1;              /* any other statement flushes first */
    }
    return rc;
}

int sqi_held_set(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *field,
                 const struct rs_bytes *value)
{
    struct held *p;
    struct ip_slot *e;
    int rc;

    if (value->len > SQI_HELD_MAX || !held_on(ss, id, field))
        return 0;
    if ((e = held_slot(ss, id, field, value->len, &rc)) == NULL)
        return rc;
    p = ss->held;
    if (value->len)
        memcpy(p->arena + p->alen, value->ptr, value->len);
    e->value = (int64_t)((uint64_t)p->alen << 32 | value->len);
    p->alen += value->len;
    p->kind[e - p->slot] = IP_STR;
    ss->bulk_pending = 1;                  /* any other statement flushes first */
    return 1;
}

int sq_string_set(struct sink *s, int64_t id, const struct rs_bytes *value)
{
    struct sqlite_sink *ss = SS(s);
    int big = sqi_big_value(value), r;
    sqlite3_stmt *st;

    if (sqi_stuck(ss))
        return -1;
    if (!big && (r = sqi_held_set(ss, id, NULL, value)) != 0)
        return r < 0 ? -1 : 0;
    if ((st = string_stmt(ss, SV_SET)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
        sqi_bind_value(st, 2, value, big) != SQLITE_OK ||
        sqi_bind_text_flag(st, 3, big) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a string");
    if (sqi_run(ss, st, "store a string"))
        return -1;
    return big ? sqi_big_fill(ss, id, value) : 0;
}

/*
 * INCR and friends without reading the value first: one UPDATE instead of
 * a SELECT and an UPDATE (bench/replay of 1M INCRs over 100k keys: a
 * third of the SQLite work of an INCR was the read). What the statement
 * refuses (not canonical, stored as a BLOB, a big value, an overflow) is
 * left to the caller, which reads it and answers as before.
 */
int sq_string_incr(struct sink *s, int64_t id, int64_t incr, int *done)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;
    int held, r;

    *done = 0;
    if (sqi_stuck(ss))
        return -1;
    if ((r = sqi_held_incr(ss, id, NULL, incr, done, &held)) != 0)
        return r < 0 ? -1 : 0;
    if ((st = string_stmt(ss, SV_INCR)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int64(st, 2, incr) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "increment a string");
    return sqi_incr_run(ss, st, held, id, NULL, incr, done, "increment a string");
}
