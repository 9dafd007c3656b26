/*
 * sqlite_string.c - the SQLite sink's string values. A string lives in
 * its key's row (gN_keys.value), so key_create stores the first value and
 * these ops read and replace it. A value of 1 MiB or more is written with
 * BLOB I/O and flagged in lhead when it is text (sqlite_int.h).
 */
#include <stdlib.h>

#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_STRING + n (sqlite_int.h). */
enum {
    SV_GET, SV_SET, SV_INCR, SV_PUT, SV_NSTMT
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
    /* a held increment's value: a small TEXT, so no text flag */
    [SV_PUT] = "UPDATE @keys SET value = ?2, lhead = NULL WHERE id = ?1",
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

int sq_string_set(struct sink *s, int64_t id, const struct rs_bytes *value)
{
    struct sqlite_sink *ss = SS(s);
    int big = sqi_big_value(value);
    sqlite3_stmt *st;

    if (sqi_stuck(ss) || (st = string_stmt(ss, SV_SET)) == NULL)
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
 * Increments held in a stream transaction. A run of INCRs on a few
 * counters, or any INCR-heavy load while catching up (batches of up to
 * 500,000 commands), updates each counter's row many times in one
 * transaction, and only the last value is ever seen. So once an INCR's
 * UPDATE has told us a key's value (what redsink_incr wrote), the next
 * INCRs on it in the same transaction add in memory, and the value is
 * written once, by sqi_incr_flush: before any other statement runs (it
 * is part of sqi_bulk_flush, which sqi_run and sqi_row call) and at
 * commit. Any other statement might read or change those rows, so the
 * flush forgets every held value. Three statements run without it, as
 * they read or change nothing held: the INCR UPDATE itself (one key's
 * value, that key not held), a key lookup (names, types and TTLs) and
 * the insert of a new key's row (sqi_run_new_key). A rollback forgets
 * them (sqi_bulk_discard).
 *
 * An open-addressing table of IP_SLOTS slots, at most half of them used
 * (131,072 keys in 4.8 MiB, allocated at the first INCR of a stream
 * transaction and touched as it fills); when it is full it is flushed.
 */
#define IP_BITS 18
#define IP_SLOTS (1u << IP_BITS)
#define IP_MAX (IP_SLOTS / 2)

struct ip_slot {
    int64_t id;                  /* 0: free (key ids start at 1) */
    int64_t value;
};

struct incr_pend {
    struct ip_slot *slot;
    unsigned char *dirty;        /* per slot: changed since the row had it */
    uint32_t *used;              /* the slots taken, in order */
    uint32_t n;
};

static struct ip_slot *ip_find(struct incr_pend *p, int64_t id)
{
    uint32_t i = (uint32_t)(((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> (64 - IP_BITS));

    while (p->slot[i].id != 0 && p->slot[i].id != id)
        i = (i + 1) & (IP_SLOTS - 1);
    return &p->slot[i];
}

static struct incr_pend *ip_get(struct sqlite_sink *ss)
{
    struct incr_pend *p = ss->ipend;

    if (p == NULL && (p = calloc(1, sizeof(*p))) != NULL) {
        p->slot = calloc(IP_SLOTS, sizeof(*p->slot));
        p->dirty = calloc(IP_SLOTS, 1);
        p->used = malloc(IP_MAX * sizeof(*p->used));
        if (p->slot == NULL || p->dirty == NULL || p->used == NULL) {
            free(p->slot);
            free(p->dirty);
            free(p->used);
            free(p);
            p = NULL;
        }
        ss->ipend = p;
    }
    return p;                      /* NULL: out of memory, INCRs go one by one */
}

void sqi_incr_discard(struct sqlite_sink *ss)
{
    struct incr_pend *p = ss->ipend;

    for (uint32_t k = 0; p && k < p->n; k++) {
        p->slot[p->used[k]].id = 0;
        p->dirty[p->used[k]] = 0;
    }
    if (p)
        p->n = 0;
}

/* qsort_r order of two slot numbers: by key id */
static int ip_by_id(const void *a, const void *b, void *arg)
{
    const struct ip_slot *slot = arg;
    int64_t x = slot[*(const uint32_t *)a].id, y = slot[*(const uint32_t *)b].id;

    return (x > y) - (x < y);
}

/*
 * The rows are written in id order: the held keys are spread over the
 * whole table, and UPDATEs by ascending id walk its leaves in order
 * instead of jumping between them. Measured on a 100,000-row gN_keys,
 * 63,000 UPDATEs by id: 2.1 us each in random order, 0.7 us sorted.
 */
int sqi_incr_flush(struct sqlite_sink *ss)
{
    struct incr_pend *p = ss->ipend;
    sqlite3_stmt *st = NULL;
    uint32_t nd = 0;
    int rc = 0;

    /* the dirty slots first in used[], then in id order */
    for (uint32_t k = 0; p && k < p->n; k++)
        if (p->dirty[p->used[k]]) {
            uint32_t t = p->used[nd];

            p->used[nd++] = p->used[k];
            p->used[k] = t;
        }
    if (nd > 1)
        qsort_r(p->used, nd, sizeof(*p->used), ip_by_id, p->slot);
    for (uint32_t k = 0; k < nd && rc == 0; k++) {
        struct ip_slot *e = &p->slot[p->used[k]];
        char buf[24];

        if (st == NULL && (st = string_stmt(ss, SV_PUT)) == NULL) {
            rc = -1;
            break;
        }
        if (sqlite3_bind_int64(st, 1, e->id) != SQLITE_OK ||
            sqlite3_bind_text(st, 2, buf, (int)rs_ll2str(buf, e->value), SQLITE_TRANSIENT)
            != SQLITE_OK) {
            rc = sqi_bind_fail(ss, st, "store an increment");
            break;
        }
        /* as is: sqi_run would flush again */
        if ((rc = sqi_run_as_is(ss, st, "store an increment")) == 0 &&
            sqlite3_changes(ss->db) != 1)
            rc = rs_fail(&ss->base.err, RS_E_SQL, "cannot store an increment in '%s': no key %lld",
                         ss->path, (long long)e->id);
    }
    sqi_incr_discard(ss);
    return rc;
}

void sqi_incr_free(struct sqlite_sink *ss)
{
    if (ss->ipend) {
        free(ss->ipend->slot);
        free(ss->ipend->dirty);
        free(ss->ipend->used);
        free(ss->ipend);
        ss->ipend = NULL;
    }
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
    struct incr_pend *p = NULL;
    struct ip_slot *e = NULL;
    sqlite3_stmt *st;
    int64_t sum;

    *done = 0;
    if (sqi_stuck(ss))
        return -1;
    if (ss->mode == MODE_STREAM && id > 0 && (p = ip_get(ss)) != NULL) {
        e = ip_find(p, id);
        if (e->id == id) {
            /* an overflow is the caller's to refuse, from the row (flushed) */
            if (__builtin_add_overflow(e->value, incr, &sum))
                return 0;
            e->value = sum;
            p->dirty[e - p->slot] = 1;
            *done = 1;
            return 0;
        }
    }
    if ((st = string_stmt(ss, SV_INCR)) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_bind_int64(st, 2, incr) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "increment a string");
    ss->incr_refused = 0;
    /* with the table, no flush first: this touches one key's value,
     * nothing held or buffered (the comment above) */
    if ((p == NULL ? sqi_run : sqi_run_as_is)(ss, st, "increment a string"))
        return -1;
    *done = sqlite3_changes(ss->db) == 1 && !ss->incr_refused;
    if (*done && p != NULL) {
        if (p->n == IP_MAX) {
            if (sqi_incr_flush(ss))
                return -1;
            e = ip_find(p, id);
        }
        e->id = id;
        e->value = ss->incr_sum;
        p->used[p->n++] = (uint32_t)(e - p->slot);
        ss->bulk_pending = 1;          /* any other statement flushes first */
    }
    return 0;
}
