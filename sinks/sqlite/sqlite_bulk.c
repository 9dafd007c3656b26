/*
 * sqlite_bulk.c - bulk rows: during a full sync the type files hand their
 * element rows here (sqi_bulk_begin in sqlite_int.h), sent as multi-row
 * INSERTs; in a stream transaction, list pushes and stream entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

/*
 * See sqi_bulk_begin in sqlite_int.h. Each table has its own buffer
 * (allocated on its first row), so the rows of small keys of several
 * types still make full statements. n pending rows are sent by the
 * statements of 64, 32 ... 1 rows that add up to n, so a partial buffer
 * costs at most 7 statements. The multi-row statement saves, per row, the
 * cursor open, the seek from the root (the cursor stays on the last leaf)
 * and the halt and reset of a single-row one: 30-50% of the instructions
 * of a collection load. 32 rows gave most of it, 128 little more.
 *
 * Why OR IGNORE (sqi_bulk in sqlite_int.h): a multi-row statement that may
 * abort half-way (NOT NULL or UNIQUE with ABORT, as under an upsert or OR
 * REPLACE) runs in a statement journal, which copies every page it
 * changes; past 64 KiB the journal goes to a temporary file. Loading
 * sorted sets, whose members land on random leaves, then spent more time
 * in pwrite() than the single-row statements took in all.
 */
#define BULK_SIZES 7                        /* statements of 1, 2 ... SQI_BULK_ROWS rows */
#define BULK_ONE   BULK_SIZES               /* the single-row statement */
_Static_assert(SQI_BULK_ROWS == 1 << (BULK_SIZES - 1), "SQI_BULK_ROWS is 2^(BULK_SIZES-1)");

/*
 * In a stream transaction, rows that come in no key order (XADDs to many
 * streams, pushes to many lists) are kept, up to BULK_SORT_ROWS rows or
 * BULK_SORT_BYTES of values per table, and sent sorted by key id (one
 * key's rows in the order they came). Inserts in key order walk the
 * table's leaves once instead of jumping between them, so a batch reads
 * and dirties each leaf about once. bench/replay -b of 1M recorded XADDs
 * to 100k streams (a 53 MB mirror), batches of 100,000, wall seconds of
 * two runs: 4.8, 5.3 sending every 64 rows; 4.0, 3.8 kept and sorted by
 * 32,768 rows; 4.5, 4.7 by 16,384. Rows in key order (one list, one
 * stream) are sent every SQI_BULK_ROWS as before: nothing to gain.
 * At most 32,768 x 7 values of 16 bytes, 3.5 MiB, for gN_stream.
 */
#define BULK_SORT_ROWS  32768
#define BULK_SORT_BYTES (4u << 20)

struct bulk_val {
    union {
        int64_t i;
        double d;
        struct { uint32_t off, len; } b;   /* TEXT and BLOB: in bytes[] */
    } u;
    int type;                  /* SQLITE_NULL, _INTEGER, _FLOAT, _TEXT or _BLOB */
};

/* The pending rows of one table. */
struct bulk_buf {
    const struct sqi_bulk *t;  /* NULL until its first row */
    int nrows, nvals;
    int cap_rows;              /* rows val[] and order[] hold */
    int unsorted;              /* stream mode: a row's kid is below the one before */
    size_t used, cap_bytes;
    struct bulk_val *val;      /* cap_rows * t->ncols */
    char *bytes;               /* cap_bytes */
    uint32_t *order;           /* the rows in the order they are sent (unsorted) */
};
struct bulk {
    struct bulk_buf *buf[SQI_BULK_TABLES];
    struct bulk_buf *cur;      /* the buffer of the row being appended */
    int64_t last_kid;          /* the id of the last key row buffered */
    sqlite3_stmt *st[SQI_BULK_TABLES][BULK_SIZES + 1];
};

void sqi_bulk_discard(struct sqlite_sink *ss)
{
    struct bulk *b = ss->bulk;

    ss->bulk_pending = 0;
    ss->pop_kid = 0;
    sqi_held_discard(ss);
    for (int t = 0; b && t < SQI_BULK_TABLES; t++)
        if (b->buf[t]) {
            b->buf[t]->nrows = b->buf[t]->nvals = 0;
            b->buf[t]->used = 0;
            b->buf[t]->unsorted = 0;
        }
}

/* Forget the pending rows and the statements (load end, abort, close). */
void sqi_bulk_drop(struct sqlite_sink *ss)
{
    struct bulk *b = ss->bulk;

    sqi_bulk_discard(ss);
    if (b == NULL)
        return;
    for (int t = 0; t < SQI_BULK_TABLES; t++) {
        for (int k = 0; k <= BULK_ONE; k++) {
            sqlite3_finalize(b->st[t][k]);
            b->st[t][k] = NULL;
        }
        if (b->buf[t]) {
            free(b->buf[t]->val);
            free(b->buf[t]->bytes);
            free(b->buf[t]->order);
            free(b->buf[t]);
            b->buf[t] = NULL;
        }
    }
    b->cur = NULL;
}

void sqi_bulk_free(struct sqlite_sink *ss)
{
    sqi_bulk_drop(ss);
    free(ss->bulk);
    ss->bulk = NULL;
}

/* The statement inserting 2^k rows of table 't' (OR IGNORE), or for
 * k = BULK_ONE its single-row statement. */
static sqlite3_stmt *bulk_stmt(struct sqlite_sink *ss, const struct sqi_bulk *t, int k)
{
    struct bulk *b = ss->bulk;
    const char *verb = k == BULK_ONE ? t->verb : "OR IGNORE", *tail = k == BULK_ONE ? t->tail : "";
    int rows = k == BULK_ONE ? 1 : 1 << k;
    size_t n = 32 + strlen(verb) + strlen(t->into) + (size_t)rows * (2 + 2 * (size_t)t->ncols) +
               strlen(tail);
    sqlite3_stmt *st;
    char *tmpl, *o;

    if (b->st[t->id][k])
        return b->st[t->id][k];
    /* "INSERT verb INTO into VALUES" "(?,?,?)" "," ... "(?,?,?)" tail */
    if ((tmpl = malloc(n)) == NULL) {
        rs_fail(&ss->base.err, RS_E_NOMEM, "cannot prepare a statement: out of memory");
        return NULL;
    }
    o = tmpl + sprintf(tmpl, "INSERT %s INTO %s VALUES", verb, t->into);
    for (int r = 0; r < rows; r++) {
        *o++ = r ? ',' : '(';
        if (r)
            *o++ = '(';
        for (int c = 0; c < t->ncols; c++) {
            *o++ = '?';
            *o++ = c + 1 < t->ncols ? ',' : ')';
        }
    }
    strcpy(o, tail);
    st = sqi_prepare(ss, &b->st[t->id][k], tmpl, NULL);
    free(tmpl);
    return st;
}

/* Bind 'rows' pending rows of 'bb', the rows first .. first + rows - 1
 * of the send order (bb->order when it was sorted), to statement k (see
 * bulk_stmt) and run it. */
static int bulk_run(struct sqlite_sink *ss, struct bulk_buf *bb, const uint32_t *order, int first,
                    int rows, int k)
{
    int ncols = bb->t->ncols, rc = 0;
    sqlite3_stmt *st = bulk_stmt(ss, bb->t, k);

    if (st == NULL)
        return -1;
    for (int r = 0; r < rows; r++) {
        const struct bulk_val *v =
            bb->val + (size_t)(order ? order[first + r] : (uint32_t)(first + r)) * ncols;

        for (int c = 0, i = r * ncols + 1; c < ncols; c++, i++, v++) {
            switch (v->type) {
            case SQLITE_INTEGER: rc |= sqlite3_bind_int64(st, i, v->u.i); break;
            case SQLITE_FLOAT: rc |= sqlite3_bind_double(st, i, v->u.d); break;
            case SQLITE_TEXT:
                rc |= sqlite3_bind_text64(st, i, bb->bytes + v->u.b.off, v->u.b.len,
                                          SQLITE_STATIC, SQLITE_UTF8);
                break;
            case SQLITE_BLOB:
                rc |= sqlite3_bind_blob64(st, i, bb->bytes + v->u.b.off, v->u.b.len,
                                          SQLITE_STATIC);
                break;
            default: rc |= sqlite3_bind_null(st, i); break;
            }
        }
    }
    if (rc != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store buffered rows");
    return sqi_run(ss, st, "store buffered rows");
}

/* Send 2^k rows from 'first'; when some were ignored (duplicates), run
 * them all again one by one with the table's own conflict handling. */
static int bulk_send(struct sqlite_sink *ss, struct bulk_buf *bb, const uint32_t *order, int first,
                     int rows, int k)
{
    if (bulk_run(ss, bb, order, first, rows, k))
        return -1;
    if (sqlite3_changes(ss->db) == rows)
        return 0;
    for (int r = first; r < first + rows; r++)
        if (bulk_run(ss, bb, order, r, 1, BULK_ONE))
            return -1;
    return 0;
}

/* qsort_r order of two row numbers of one buffer: by key id, then as
 * they came (so one key's rows keep their order) */
static int row_by_kid(const void *a, const void *b, void *arg)
{
    const struct bulk_buf *bb = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int64_t kx = bb->val[(size_t)x * bb->t->ncols].u.i, ky = bb->val[(size_t)y * bb->t->ncols].u.i;

    if (kx != ky)
        return kx < ky ? -1 : 1;
    return (x > y) - (x < y);
}

/* Send the pending rows of one table. */
static int bulk_flush_buf(struct sqlite_sink *ss, struct bulk_buf *bb)
{
    int first = 0, rc = 0, pending = ss->bulk_pending;
    const uint32_t *order = NULL;

    ss->bulk_pending = 0;          /* the sends' sqi_run must not send bb again */
    if (bb->unsorted) {
        for (int r = 0; r < bb->nrows; r++)
            bb->order[r] = (uint32_t)r;
        qsort_r(bb->order, (size_t)bb->nrows, sizeof(*bb->order), row_by_kid, bb);
        order = bb->order;
    }
    for (int k = BULK_SIZES - 1; k >= 0 && rc == 0; k--)
        for (int rows = 1 << k; rc == 0 && bb->nrows - first >= rows; first += rows)
            rc = bulk_send(ss, bb, order, first, rows, k);
    bb->nrows = bb->nvals = 0;
    bb->used = 0;
    bb->unsorted = 0;
    ss->bulk_pending = pending;    /* other tables' rows may wait */
    if (rc == 0 && bb->t->id == SQI_BULK_KEYS &&
        sqlite3_last_insert_rowid(ss->db) != ss->bulk->last_kid)
        return rs_fail(&ss->base.err, RS_E_SQL, "cannot load into '%s': key %lld got id %lld",
                       ss->path, (long long)ss->bulk->last_kid,
                       (long long)sqlite3_last_insert_rowid(ss->db));
    return rc;
}

int sqi_bulk_flush(struct sqlite_sink *ss)
{
    struct bulk *b = ss->bulk;

    ss->bulk_pending = 0;          /* before the sends' own sqi_run */
    for (int t = 0; b && t < SQI_BULK_TABLES; t++)
        if (b->buf[t] && b->buf[t]->nrows && bulk_flush_buf(ss, b->buf[t]))
            return -1;
    /* then the pops: a push sends them before it is buffered, so every
     * buffered row came before them; then the held string values, which
     * touch no buffered table */
    if (sqi_lb_pops_flush(ss))
        return -1;
    return sqi_held_flush(ss);
}

/* Make room in 'bb' for 'rows' rows of 't' and 'bytes' bytes (never
 * less than it has). 0, or -1 out of memory (bb as it was, still usable). */
static int bulk_grow(struct bulk_buf *bb, const struct sqi_bulk *t, int rows, size_t bytes)
{
    if (rows > bb->cap_rows) {
        struct bulk_val *v = realloc(bb->val, (size_t)rows * t->ncols * sizeof(*v));
        uint32_t *o;

        if (v == NULL)
            return -1;
        bb->val = v;
        if ((o = realloc(bb->order, (size_t)rows * sizeof(*o))) == NULL)
            return -1;
        bb->order = o;
        bb->cap_rows = rows;
    }
    if (bytes > bb->cap_bytes) {
        char *nb = realloc(bb->bytes, bytes);

        if (nb == NULL)
            return -1;
        bb->bytes = nb;
        bb->cap_bytes = bytes;
    }
    return 0;
}

int sqi_bulk_begin(struct sqlite_sink *ss, const struct sqi_bulk *t, size_t bytes)
{
    struct bulk *b = ss->bulk;
    struct bulk_buf *bb;

    if (ss->mode != MODE_LOAD && (ss->mode != MODE_STREAM || !t->stream))
        return 0;
    if (b == NULL && (b = ss->bulk = calloc(1, sizeof(*b))) == NULL)
        return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot buffer rows for '%s': out of memory",
                       ss->path);
    if ((bb = b->buf[t->id]) == NULL) {
        if ((bb = calloc(1, sizeof(*bb))) == NULL ||
            bulk_grow(bb, t, SQI_BULK_ROWS, SQI_BULK_BYTES) != 0) {
            if (bb) {
                free(bb->val);
                free(bb->order);
                free(bb);
            }
            return rs_fail(&ss->base.err, RS_E_NOMEM,
                           "cannot buffer rows for '%s': out of memory", ss->path);
        }
        bb->t = t;
        b->buf[t->id] = bb;
    }
    if (bytes > SQI_BULK_BYTES) {
        /* too big to copy: sent alone, after the rows before it */
        return bb->nrows && bulk_flush_buf(ss, bb) ? -1 : 0;
    }
    if (bb->nrows && (bb->nrows == bb->cap_rows || bb->used + bytes > bb->cap_bytes)) {
        /* rows kept for sorting may take more room; others are sent */
        int grown = bb->unsorted && ss->mode == MODE_STREAM && bb->nrows < BULK_SORT_ROWS &&
                    bb->used + bytes <= BULK_SORT_BYTES &&
                    bulk_grow(bb, t, bb->nrows == bb->cap_rows ? 2 * bb->cap_rows : bb->cap_rows,
                              bb->used + bytes > bb->cap_bytes ? 2 * bb->cap_bytes : bb->cap_bytes)
                    == 0;

        if (!grown && bulk_flush_buf(ss, bb))
            return -1;
    }
    if (sqi_load_tick(ss))
        return -1;
    b->cur = bb;
    return 1;
}

static struct bulk_val *bulk_val(struct sqlite_sink *ss, int type)
{
    struct bulk_val *v = &ss->bulk->cur->val[ss->bulk->cur->nvals++];

    v->type = type;
    return v;
}

void sqi_bulk_int(struct sqlite_sink *ss, int64_t i)
{
    bulk_val(ss, SQLITE_INTEGER)->u.i = i;
}

void sqi_bulk_double(struct sqlite_sink *ss, double d)
{
    bulk_val(ss, SQLITE_FLOAT)->u.d = d;
}

void sqi_bulk_time(struct sqlite_sink *ss, int64_t ms)
{
    if (ms == RS_NO_EXPIRE)
        bulk_val(ss, SQLITE_NULL);
    else
        sqi_bulk_int(ss, ms);
}

/* TEXT when valid UTF-8, else BLOB: the rule of sqi_bind_bytes. */
void sqi_bulk_bytes(struct sqlite_sink *ss, const struct rs_bytes *bs)
{
    struct bulk_buf *bb = ss->bulk->cur;
    struct bulk_val *v;

    if (bs == NULL) {
        bulk_val(ss, SQLITE_NULL);
        return;
    }
    v = bulk_val(ss, rs_utf8_valid(bs->ptr, bs->len) ? SQLITE_TEXT : SQLITE_BLOB);
    v->u.b.off = (uint32_t)bb->used;
    v->u.b.len = (uint32_t)bs->len;
    if (bs->len)
        memcpy(bb->bytes + bb->used, bs->ptr, bs->len);
    bb->used += bs->len;
}

int sqi_bulk_end(struct sqlite_sink *ss)
{
    struct bulk_buf *bb = ss->bulk->cur;
    int n = ++bb->nrows, ncols = bb->t->ncols;

    if (ss->mode == MODE_STREAM) {
        ss->bulk_pending = 1;
        /* the kid, first column of every stream-buffered table */
        if (n > 1 && bb->val[(size_t)(n - 1) * ncols].u.i < bb->val[(size_t)(n - 2) * ncols].u.i)
            bb->unsorted = 1;
        if (bb->unsorted && n < BULK_SORT_ROWS)
            return 0;              /* kept, to be sent in key order */
    }
    if (n < SQI_BULK_ROWS)
        return 0;
    return bulk_flush_buf(ss, bb);
}

void sqi_bulk_key_id(struct sqlite_sink *ss, int64_t kid)
{
    ss->bulk->last_kid = kid;
}
