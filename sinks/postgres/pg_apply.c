/*
 * pg_apply.c - one primary key of the outbox made true in PostgreSQL: the
 * row is read from the shipper's SQLite snapshot (pg_src.c); present, it
 * is upserted, absent, deleted. The rows of a table go in batches, one
 * statement for up to BATCH_ROWS upserts (or deletes) whose parameters are
 * arrays, one per column, in binary format, unnest()ed into rows: a
 * statement per row cost PostgreSQL's backend more than the rows did
 * (bench/pg_lag.sh: 61% of a core at 50k SET/s, catching up 1.1-1.6 s
 * after the load). A row with a big value (BATCH_BIG bytes of
 * parameters) goes alone, by the per-row statement, from SQLite's memory:
 * the batches together never hold a copy of more than BATCH_BYTES (and
 * one row), an array's memory over ARRAY_KEEP goes once sent. Statements are
 * prepared once per connection and sent in pipeline mode.
 *
 * The upsert is one statement, an UPDATE by primary key and an INSERT
 * when it found no row:
 *   WITH u AS (UPDATE t SET ... WHERE pk RETURNING 1)
 *   INSERT INTO t (...) SELECT $1, ... WHERE NOT EXISTS (SELECT 1 FROM u)
 * rather than INSERT ... ON CONFLICT, which needs a unique index: hash,
 * set, zset and phash have none, since their key holds bytes, which a
 * btree cannot hold past about 2.7 kB, and a unique index on md5() would
 * refuse two members that collide. The shipper is PostgreSQL's only
 * writer of these tables, so nothing races the two halves.
 *
 * A primary key column holding bytes (a hash field, a set member) is
 * matched as md5(X_bytes) = md5($n) AND X_bytes = $n: the btree holds the
 * md5 only (no entry size limit), the second test makes a collision
 * harmless.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

#define MAX_PARAMS (2 * PGV_MAX_COLS)
#define SYNC_EVERY 1000            /* statements in flight before a Sync */
#define SYNC_BYTES (16 << 20)      /* or bytes of parameters */
#define BATCH_ROWS 512             /* rows of one batched statement */
#define BATCH_BYTES (4 << 20)      /* or bytes of parameters, all batches together */
#define ARRAY_KEEP (256 << 10)     /* an array's memory kept once sent */
#define BATCH_BIG (256 << 10)      /* a row of this many bytes goes alone */
#define ARRAY_HEAD 20              /* a binary array's header, one dimension */

/* the per-row statements, then the batched ones */
enum { ST_UPSERT, ST_DELETE, ST_BATCH, ST_COUNT = 4 };

/* The types of a parameter: PostgreSQL's name and OID (an array's
 * elements carry the OID). */
enum ptype { T_INT8, T_FLOAT8, T_TEXT, T_BYTEA, T_BOOL };
static const struct {
    const char *name;
    unsigned oid;
} ptypes[] = { [T_INT8] = { "bigint", 20 }, [T_FLOAT8] = { "float8", 701 },
               [T_TEXT] = { "text", 25 }, [T_BYTEA] = { "bytea", 17 }, [T_BOOL] = { "bool", 16 } };

/* One growing array parameter: ARRAY_HEAD bytes left for the header, then
 * the elements (a 4-byte length, -1 for NULL, and the bytes). */
struct arr {
    unsigned char *p;
    size_t len, cap;
    int nulls;
};

/* The rows of one table waiting for one statement (upserts or deletes). */
struct batch {
    int rows, nparams;
    size_t bytes;
    enum ptype type[MAX_PARAMS];
    struct arr a[MAX_PARAMS];
};

struct pg_apply {
    char schema[64];
    unsigned char prepared[PG_NTABLES][ST_COUNT];
    char cols[PG_NTABLES][160];    /* SQLite's column list */
    char where[PG_NTABLES][96];    /* SQLite's primary key test */
    size_t queued;                 /* parameter bytes since the last Sync */
    size_t pending;                /* parameter bytes waiting in all batches */
    struct batch b[PG_NTABLES][2]; /* [ST_UPSERT], [ST_DELETE] */
};

/* A statement's parameters, in binary format. */
struct params {
    int n;
    size_t bytes;
    const char *vals[MAX_PARAMS];
    int lens[MAX_PARAMS];
    unsigned char num[MAX_PARAMS][8];
    char tmp[MAX_PARAMS][32];
};

struct pg_apply *pg_apply_new(const char *schema)
{
    struct pg_apply *a = calloc(1, sizeof(*a));

    if (a == NULL)
        return NULL;
    snprintf(a->schema, sizeof(a->schema), "%s", schema);
    for (int i = 0; i < PG_NTABLES; i++) {
        const struct pg_table *t = &pg_tables[i];
        size_t n = 0;

        pg_src_cols(t, a->cols[i], sizeof(a->cols[i]));
        for (int c = 0; c < t->ncols && t->cols[c].pk; c++)
            n += snprintf(a->where[i] + n, sizeof(a->where[i]) - n, "%s%s = ?%d",
                          c ? " AND " : "", t->cols[c].name, c + 1);
    }
    return a;
}

void pg_apply_free(struct pg_apply *a)
{
    if (a == NULL)
        return;
    for (int i = 0; i < PG_NTABLES; i++)
        for (int k = 0; k < 2; k++)
            for (int j = 0; j < MAX_PARAMS; j++)
                free(a->b[i][k].a[j].p);
    free(a);
}

void pg_apply_discard(struct pg_apply *a)
{
    for (int i = 0; i < PG_NTABLES; i++)
        for (int k = 0; k < 2; k++) {
            struct batch *b = &a->b[i][k];

            for (int j = 0; j < b->nparams; j++) {
                b->a[j].len = ARRAY_HEAD;
                b->a[j].nulls = 0;
            }
            b->rows = 0;
            b->bytes = 0;
        }
    a->pending = 0;
}

void pg_apply_reset(struct pg_apply *a)
{
    memset(a->prepared, 0, sizeof(a->prepared));
    pg_apply_discard(a);
}

static void add(struct params *pa, const void *p, size_t n)
{
    pa->vals[pa->n] = p;
    pa->lens[pa->n++] = (int)n;
    pa->bytes += p ? n : 0;
}

/* Column 'col' with value 'v' as parameter(s): a bytes column is two in a
 * SET or VALUES list (the key: text or NULL, bytes; others: bytes, is
 * UTF-8), one (bytes) in WHERE. */
static void add_col(struct params *pa, const struct pg_col *col, const struct pgv *v, int where)
{
    const char *p = NULL;
    int64_t i;
    double d;
    size_t n = 0;
    int null;

    switch (col->kind) {
    case PGK_INT:
    case PGK_REAL:
        if (col->kind == PGK_INT)
            null = pg_val_int(v, &i);
        else if (!(null = pg_val_real(v, &d)))
            memcpy(&i, &d, 8);
        pg_be64(pa->num[pa->n], (uint64_t)i);
        add(pa, null ? NULL : (const char *)pa->num[pa->n], 8);
        break;
    case PGK_TEXT:
    case PGK_KEY:
    case PGK_BYTES:
        null = pg_val_bytes(v, pa->tmp[pa->n], &p, &n);
        if (col->kind == PGK_KEY && !where)
            add(pa, null || !pg_text_ok(p, n) ? NULL : p, n);
        add(pa, null ? NULL : p, n);
        if (col->kind == PGK_BYTES && !where)
            add(pa, null ? NULL : pg_text_ok(p, n) ? "\1" : "\0", 1);
        break;
    }
}

/* The type of a key column's parameter (a bytes column: its bytes). */
static enum ptype key_type(enum pg_kind k)
{
    return k == PGK_INT ? T_INT8 : k == PGK_REAL ? T_FLOAT8 : k == PGK_TEXT ? T_TEXT : T_BYTEA;
}

/* How a statement names its parameters: "$n::type" (one row), "d.pn"
 * (a batch's unnested rows), "EXCLUDED.column" (ON CONFLICT). */
enum style { S_ROW, S_BATCH, S_EXCLUDED };

/* A bytes column is two PostgreSQL columns (the key name: X and
 * X_bytes; the others: X_bytes and X_utf8), the others one. */
static int halves(const struct pg_col *col)
{
    return col->kind == PGK_KEY || col->kind == PGK_BYTES ? 2 : 1;
}

/* Half h of column col: its PostgreSQL name in out, its type returned. */
static enum ptype half(const struct pg_col *col, int h, char *out, size_t size)
{
    if (col->kind == PGK_KEY) {
        snprintf(out, size, h ? "%s_bytes" : "%s", col->name);
        return h ? T_BYTEA : T_TEXT;
    }
    if (col->kind == PGK_BYTES) {
        snprintf(out, size, h ? "%s_utf8" : "%s_bytes", col->name);
        return h ? T_BOOL : T_BYTEA;
    }
    snprintf(out, size, "%s", col->name);
    return key_type(col->kind);
}

/* Parameter p, of type 'type', for column 'name', as 'style' names it. */
static size_t param(char *sql, size_t size, int p, enum ptype type, const char *name, int style)
{
    if (style == S_ROW)
        return snprintf(sql, size, "$%d::%s", p, ptypes[type].name);
    if (style == S_BATCH)
        return snprintf(sql, size, "d.p%d", p);
    return snprintf(sql, size, "EXCLUDED.%s", name);
}

/* "name = <param>, ..." for t's columns outside the key; column i's
 * parameters start at p[i]. */
static size_t set_list(char *sql, size_t size, const struct pg_table *t, const int *p, int style)
{
    size_t n = 0;
    int k = 0;

    for (int i = 0; i < t->ncols; i++)
        for (int h = 0; !t->cols[i].pk && h < halves(&t->cols[i]); h++) {
            char name[64];
            enum ptype type = half(&t->cols[i], h, name, sizeof(name));

            n += snprintf(sql + n, size - n, "%s%s = ", k++ ? ", " : "", name);
            n += param(sql + n, size - n, p[i] + h, type, name, style);
        }
    return n;
}

/* Every column's parameters, in pg_col_list's order: "$1::bigint, ...". */
static size_t value_list(char *sql, size_t size, const struct pg_table *t, const int *p,
                         int style)
{
    size_t n = 0;

    for (int i = 0; i < t->ncols; i++)
        for (int h = 0; h < halves(&t->cols[i]); h++) {
            char name[64];
            enum ptype type = half(&t->cols[i], h, name, sizeof(name));

            n += snprintf(sql + n, size - n, "%s", i || h ? ", " : "");
            n += param(sql + n, size - n, p[i] + h, type, name, style);
        }
    return n;
}

/* The key test, key column i's parameter being p[i] (the bytes of a
 * bytes column; the key name is never a key column), the table's
 * columns prefixed with 'pre'. */
static size_t key_test(char *sql, size_t size, const struct pg_table *t, const int *p,
                       int style, const char *pre)
{
    size_t n = 0;

    for (int i = 0; i < t->ncols && t->cols[i].pk; i++) {
        const struct pg_col *col = &t->cols[i];
        char v[32];

        param(v, sizeof(v), p[i], key_type(col->kind), NULL, style);
        if (col->kind == PGK_BYTES)
            n += snprintf(sql + n, size - n, "%smd5(%s%s_bytes) = md5(%s) AND %s%s_bytes = %s",
                          i ? " AND " : "", pre, col->name, v, pre, col->name, v);
        else
            n += snprintf(sql + n, size - n, "%s%s%s = %s", i ? " AND " : "", pre, col->name, v);
    }
    return n;
}

/* Where each column's parameters start: an upsert's (every column, a
 * bytes column taking two) or a delete's (the key columns, one each). */
static void param_starts(const struct pg_table *t, int del, int *p)
{
    for (int i = 0, k = 1; i < t->ncols; i++) {
        p[i] = k;
        k += del ? 1 : halves(&t->cols[i]);
    }
}

static int set_columns(const struct pg_table *t)
{
    int nset = 0;

    for (int i = 0; i < t->ncols; i++)
        nset += !t->cols[i].pk;
    return nset;
}

/* The SQL of per-row statement 'kind' of table t. */
static void statement_sql(char *sql, size_t size, const char *schema, const struct pg_table *t,
                          int kind)
{
    int p[PGV_MAX_COLS], nset = set_columns(t);
    size_t n;

    param_starts(t, kind == ST_DELETE, p);
    if (kind == ST_DELETE) {
        n = snprintf(sql, size, "DELETE FROM %s.\"%s\" WHERE ", schema, t->name);
        key_test(sql + n, size - n, t, p, S_ROW, "");
        return;
    }
    /* a table of key columns only has nothing to update: look the row up */
    n = snprintf(sql, size, nset ? "WITH u AS (UPDATE %s.\"%s\" SET "
                                 : "WITH u AS (SELECT 1 FROM %s.\"%s\"", schema, t->name);
    n += set_list(sql + n, size - n, t, p, S_ROW);
    n += snprintf(sql + n, size - n, " WHERE ");
    n += key_test(sql + n, size - n, t, p, S_ROW, "");
    n += snprintf(sql + n, size - n, "%s) INSERT INTO %s.\"%s\" (", nset ? " RETURNING 1" : "",
                  schema, t->name);
    pg_col_list(t, sql + n, size - n);
    n += strlen(sql + n);
    n += snprintf(sql + n, size - n, ") SELECT ");
    n += value_list(sql + n, size - n, t, p, S_ROW);
    snprintf(sql + n, size - n, " WHERE NOT EXISTS (SELECT 1 FROM u)");
}

/* ---- batches ---- */

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* The types of t's parameters, as add_col makes them: an upsert's (every
 * column, a bytes column's two halves) or a delete's (the key columns). */
static int param_types(const struct pg_table *t, int del, enum ptype *type)
{
    char name[64];
    int n = 0;

    for (int i = 0; i < t->ncols && (!del || t->cols[i].pk); i++)
        for (int h = 0; h < (del ? 1 : halves(&t->cols[i])); h++)
            type[n++] = del ? key_type(t->cols[i].kind) : half(&t->cols[i], h, name, sizeof(name));
    return n;
}

/* Whether t's key is integers only: PostgreSQL has it as its primary key
 * (a bytes key is matched through md5, without a unique index). */
static int int_key(const struct pg_table *t)
{
    for (int i = 0; i < t->ncols && t->cols[i].pk; i++)
        if (t->cols[i].kind != PGK_INT)
            return 0;
    return 1;
}

/* The batched statement of table t: upserts or deletes. */
static void batch_sql(char *sql, size_t size, const char *schema, const struct pg_table *t,
                      int del)
{
    enum ptype type[MAX_PARAMS];
    int np = param_types(t, del, type), p[PGV_MAX_COLS], nset = set_columns(t);
    size_t n;

    param_starts(t, del, p);
    n = snprintf(sql, size, del ? "DELETE FROM %s.\"%s\" AS t USING unnest("
                                : "WITH d AS (SELECT * FROM unnest(", schema, t->name);
    for (int j = 0; j < np; j++)
        n += snprintf(sql + n, size - n, "%s$%d::%s[]", j ? ", " : "", j + 1, ptypes[type[j]].name);
    n += snprintf(sql + n, size - n, ") AS d(");
    for (int j = 0; j < np; j++)
        n += snprintf(sql + n, size - n, "%sp%d", j ? ", " : "", j + 1);
    n += snprintf(sql + n, size - n, del ? ") WHERE " : "))");
    if (del) {
        key_test(sql + n, size - n, t, p, S_BATCH, "t.");
        return;
    }
    if (int_key(t)) {
        /* a primary key in PostgreSQL too: one probe per row */
        n += snprintf(sql + n, size - n, " INSERT INTO %s.\"%s\" AS t (", schema, t->name);
        pg_col_list(t, sql + n, size - n);
        n += strlen(sql + n);
        n += snprintf(sql + n, size - n, ") SELECT * FROM d ON CONFLICT (");
        for (int i = 0; i < t->ncols && t->cols[i].pk; i++)
            n += snprintf(sql + n, size - n, "%s%s", i ? ", " : "", t->cols[i].name);
        n += snprintf(sql + n, size - n, nset ? ") DO UPDATE SET " : ") DO NOTHING");
        set_list(sql + n, size - n, t, p, S_EXCLUDED);
        return;
    }
    if (nset) {
        n += snprintf(sql + n, size - n, ", u AS (UPDATE %s.\"%s\" AS t SET ", schema, t->name);
        n += set_list(sql + n, size - n, t, p, S_BATCH);
        n += snprintf(sql + n, size - n, " FROM d WHERE ");
        n += key_test(sql + n, size - n, t, p, S_BATCH, "t.");
        n += snprintf(sql + n, size - n, ")");
    }
    /* the statement's snapshot is the one before the UPDATE: the rows it
     * did not find are the rows the table did not have */
    n += snprintf(sql + n, size - n, " INSERT INTO %s.\"%s\" (", schema, t->name);
    pg_col_list(t, sql + n, size - n);
    n += strlen(sql + n);
    n += snprintf(sql + n, size - n, ") SELECT ");
    n += value_list(sql + n, size - n, t, p, S_BATCH);
    n += snprintf(sql + n, size - n, " FROM d WHERE NOT EXISTS (SELECT 1 FROM %s.\"%s\" AS t"
                  " WHERE ", schema, t->name);
    n += key_test(sql + n, size - n, t, p, S_BATCH, "t.");
    snprintf(sql + n, size - n, ")");
}

/* Prepare statement 'kind' of table ti once per connection, run it;
 * sync now and then to bound what is in flight. */
static int send(struct pg_apply *a, struct pgc *c, int ti, int kind, int n,
                const char *const *vals, const int *lens, size_t bytes, struct rs_error *err)
{
    char name[32], sql[4096];

    snprintf(name, sizeof(name), "rs_%d_%d", ti, kind);
    if (!a->prepared[ti][kind]) {
        if (kind >= ST_BATCH)
            batch_sql(sql, sizeof(sql), a->schema, &pg_tables[ti], kind - ST_BATCH);
        else
            statement_sql(sql, sizeof(sql), a->schema, &pg_tables[ti], kind);
        if (pgc_send_prepare(c, name, sql, 0, err))
            return -1;
        a->prepared[ti][kind] = 1;
    }
    if (pgc_pending(c) == 0)
        a->queued = 0;
    if (pgc_send_prepared(c, name, n, vals, lens, err))
        return -1;
    a->queued += bytes;
    return pgc_pending(c) >= SYNC_EVERY || a->queued >= SYNC_BYTES
               ? pgc_sync(c, "apply a change", err) : 0;
}

static int send_row(struct pg_apply *a, struct pgc *c, int ti, int kind,
                    const struct params *pa, struct rs_error *err)
{
    return send(a, c, ti, kind, pa->n, pa->vals, pa->lens, pa->bytes, err);
}

/* Send batch [ti][del] as one statement, its arrays given their header. */
static int batch_flush(struct pg_apply *a, struct pgc *c, int ti, int del, struct rs_error *err)
{
    struct batch *b = &a->b[ti][del];
    const char *vals[MAX_PARAMS];
    int lens[MAX_PARAMS], rc;

    if (b->rows == 0)
        return 0;
    for (int j = 0; j < b->nparams; j++) {
        struct arr *r = &b->a[j];

        be32(r->p, 1);                    /* dimensions */
        be32(r->p + 4, r->nulls != 0);    /* has NULLs */
        be32(r->p + 8, ptypes[b->type[j]].oid);  /* element type */
        be32(r->p + 12, (uint32_t)b->rows);
        be32(r->p + 16, 1);               /* lower bound */
        vals[j] = (const char *)r->p;
        lens[j] = (int)r->len;
    }
    rc = send(a, c, ti, ST_BATCH + del, b->nparams, vals, lens, b->bytes, err);
    for (int j = 0; j < b->nparams; j++) {
        struct arr *r = &b->a[j];

        if (r->cap > ARRAY_KEEP) {     /* libpq has its copy: a big one goes */
            free(r->p);
            r->p = NULL;
            r->cap = 0;
        }
        r->len = ARRAY_HEAD;
        r->nulls = 0;
    }
    a->pending -= b->bytes;
    b->rows = 0;
    b->bytes = 0;
    return rc;
}

/* Append one element (NULL when p is NULL) to array r. */
static int arr_put(struct arr *r, const char *p, int n)
{
    size_t need = r->len + 4 + (p ? (size_t)n : 0);

    if (need > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        unsigned char *q;

        while (cap < need)
            cap *= 2;
        if ((q = realloc(r->p, cap)) == NULL)
            return -1;
        r->p = q;
        r->cap = cap;
    }
    be32(r->p + r->len, p ? (uint32_t)n : 0xFFFFFFFFu);
    r->len += 4;
    if (p) {
        memcpy(r->p + r->len, p, (size_t)n);
        r->len += (size_t)n;
    } else {
        r->nulls = 1;
    }
    return 0;
}

/* Add a row's parameters to batch [ti][del]; send the batch when full,
 * and every batch when they hold BATCH_BYTES together. */
static int batch_add(struct pg_apply *a, struct pgc *c, int ti, int del, const struct params *pa,
                     struct rs_error *err)
{
    struct batch *b = &a->b[ti][del];

    if (b->nparams == 0) {
        b->nparams = param_types(&pg_tables[ti], del, b->type);
        for (int j = 0; j < b->nparams; j++)
            b->a[j].len = ARRAY_HEAD;
    }
    if (pa->n != b->nparams)
        return rs_fail(err, RS_E_SQL, "postgres: table %s: %d parameters for a batch"
                       " of %d", pg_tables[ti].name, pa->n, b->nparams);
    for (int j = 0; j < pa->n; j++)
        if (arr_put(&b->a[j], pa->vals[j], pa->lens[j]))
            return rs_fail(err, RS_E_NOMEM, "postgres: cannot ship: out of memory");
    b->rows++;
    b->bytes += pa->bytes;
    a->pending += pa->bytes;
    if (b->rows >= BATCH_ROWS)
        return batch_flush(a, c, ti, del, err);
    return a->pending >= BATCH_BYTES ? pg_apply_flush(a, c, err) : 0;
}

int pg_apply_flush(struct pg_apply *a, struct pgc *c, struct rs_error *err)
{
    for (int i = 0; i < PG_NTABLES; i++)
        for (int k = 0; k < 2; k++)
            if (batch_flush(a, c, i, k, err))
                return -1;
    return 0;
}

int pg_apply_key(struct pg_apply *a, struct pgc *c, struct src *s, int64_t gen, int ti,
                 const struct pk_val *pk, struct rs_error *err)
{
    const struct pg_table *t = &pg_tables[ti];
    struct pgv vals[PGV_MAX_COLS];
    struct params pa = { 0 };
    enum rs_status st;
    int npk = 0, rc;

    while (npk < t->ncols && t->cols[npk].pk)
        npk++;
    st = src_row_get(s, gen, ti, a->cols[ti], a->where[ti], pk, npk, vals, t->ncols, err);
    if (st == RS_ERROR)
        return -1;
    if (st == RS_OK) {
        for (int i = 0; i < t->ncols; i++)
            add_col(&pa, &t->cols[i], &vals[i], 0);
        rc = pa.bytes >= BATCH_BIG ? send_row(a, c, ti, ST_UPSERT, &pa, err)
                                   : batch_add(a, c, ti, 0, &pa, err);
        src_row_done(s, ti);          /* a big value's memory goes now */
        return rc;
    }
    for (int i = 0; i < npk; i++) {
        struct pgv v = { .t = pk[i].tag == 'i' ? PGV_INT : PGV_BYTES, .i = pk[i].i,
                         .p = (const char *)pk[i].p, .n = pk[i].n };

        add_col(&pa, &t->cols[i], &v, 1);
    }
    return pa.bytes >= BATCH_BIG ? send_row(a, c, ti, ST_DELETE, &pa, err)
                                 : batch_add(a, c, ti, 1, &pa, err);
}
