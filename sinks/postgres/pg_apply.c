/*
 * pg_apply.c - one primary key of the outbox made true in PostgreSQL: the
 * row is read from the shipper's SQLite snapshot (pg_src.c); present, it
 * is upserted, absent, deleted. Two statements per table, prepared once
 * per connection and sent in pipeline mode with binary parameters.
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

enum { ST_UPSERT, ST_DELETE, ST_COUNT };

struct pg_apply {
    char schema[64];
    unsigned char prepared[PG_NTABLES][ST_COUNT];
    char cols[PG_NTABLES][160];    /* SQLite's column list */
    char where[PG_NTABLES][96];    /* SQLite's primary key test */
    size_t queued;                 /* parameter bytes since the last Sync */
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
    free(a);
}

void pg_apply_reset(struct pg_apply *a)
{
    memset(a->prepared, 0, sizeof(a->prepared));
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

static const char *cast(enum pg_kind k)
{
    return k == PGK_INT ? "bigint" : k == PGK_REAL ? "float8" : k == PGK_TEXT ? "text" : "bytea";
}

/* The parameter(s) of a column in a VALUES list, from parameter *np. */
static size_t sql_value(char *sql, size_t size, const struct pg_col *col, int *np,
                        const char *sep)
{
    *np += col->kind == PGK_KEY || col->kind == PGK_BYTES ? 2 : 1;
    if (col->kind == PGK_KEY)
        return snprintf(sql, size, "%s$%d::text, $%d::bytea", sep, *np - 1, *np);
    if (col->kind == PGK_BYTES)
        return snprintf(sql, size, "%s$%d::bytea, $%d::bool", sep, *np - 1, *np);
    return snprintf(sql, size, "%s$%d::%s", sep, *np, cast(col->kind));
}

/* "name = $p::type" (or both halves of a bytes column) for column 'col'
 * whose parameter(s) start at p. */
static size_t sql_set(char *sql, size_t size, const struct pg_col *col, int p, const char *sep)
{
    if (col->kind == PGK_KEY)
        return snprintf(sql, size, "%s%s = $%d::text, %s_bytes = $%d::bytea", sep, col->name,
                        p, col->name, p + 1);
    if (col->kind == PGK_BYTES)
        return snprintf(sql, size, "%s%s_bytes = $%d::bytea, %s_utf8 = $%d::bool", sep,
                        col->name, p, col->name, p + 1);
    return snprintf(sql, size, "%s%s = $%d::%s", sep, col->name, p, cast(col->kind));
}

/* The primary key test; the parameter of key column i is p[i]. */
static size_t sql_where(char *sql, size_t size, const struct pg_table *t, const int *p)
{
    size_t n = snprintf(sql, size, " WHERE ");

    for (int i = 0; i < t->ncols && t->cols[i].pk; i++) {
        const struct pg_col *col = &t->cols[i];
        const char *sep = i ? " AND " : "";

        if (col->kind == PGK_BYTES)
            n += snprintf(sql + n, size - n, "%smd5(%s_bytes) = md5($%d::bytea) AND"
                          " %s_bytes = $%d::bytea", sep, col->name, p[i], col->name, p[i]);
        else
            n += snprintf(sql + n, size - n, "%s%s = $%d::%s", sep, col->name, p[i],
                          cast(col->kind));
    }
    return n;
}

/* The SQL of statement 'kind' of table t. */
static void statement_sql(char *sql, size_t size, const char *schema, const struct pg_table *t,
                          int kind)
{
    int p[PGV_MAX_COLS], np = 0, nset = 0;
    size_t n;

    if (kind == ST_DELETE) {
        for (int i = 0; i < t->ncols && t->cols[i].pk; i++)
            p[i] = i + 1;
        n = snprintf(sql, size, "DELETE FROM %s.\"%s\"", schema, t->name);
        sql_where(sql + n, size - n, t, p);
        return;
    }
    for (int i = 0; i < t->ncols; i++) {
        p[i] = np + 1;
        np += t->cols[i].kind == PGK_KEY || t->cols[i].kind == PGK_BYTES ? 2 : 1;
    }
    for (int i = 0; i < t->ncols; i++)
        nset += !t->cols[i].pk;
    /* a table of key columns only has nothing to update: look the row up */
    n = snprintf(sql, size, nset ? "WITH u AS (UPDATE %s.\"%s\" SET "
                                 : "WITH u AS (SELECT 1 FROM %s.\"%s\"", schema, t->name);
    for (int i = 0, k = 0; i < t->ncols; i++)
        if (!t->cols[i].pk)
            n += sql_set(sql + n, size - n, &t->cols[i], p[i], k++ ? ", " : "");
    n += sql_where(sql + n, size - n, t, p);
    n += snprintf(sql + n, size - n, "%s) INSERT INTO %s.\"%s\" (", nset ? " RETURNING 1" : "",
                  schema, t->name);
    pg_col_list(t, sql + n, size - n);
    n += strlen(sql + n);
    n += snprintf(sql + n, size - n, ") SELECT ");
    np = 0;
    for (int i = 0; i < t->ncols; i++)
        n += sql_value(sql + n, size - n, &t->cols[i], &np, i ? ", " : "");
    snprintf(sql + n, size - n, " WHERE NOT EXISTS (SELECT 1 FROM u)");
}

/* Prepare statement 'kind' of table ti once per connection, run it;
 * sync now and then to bound what is in flight. */
static int send(struct pg_apply *a, struct pgc *c, int ti, int kind, struct params *pa,
                struct rs_error *err)
{
    char name[32], sql[2048];

    snprintf(name, sizeof(name), "rs_%d_%d", ti, kind);
    if (!a->prepared[ti][kind]) {
        statement_sql(sql, sizeof(sql), a->schema, &pg_tables[ti], kind);
        if (pgc_send_prepare(c, name, sql, 0, err))
            return -1;
        a->prepared[ti][kind] = 1;
    }
    if (pgc_pending(c) == 0)
        a->queued = 0;
    if (pgc_send_prepared(c, name, pa->n, pa->vals, pa->lens, err))
        return -1;
    a->queued += pa->bytes;
    return pgc_pending(c) >= SYNC_EVERY || a->queued >= SYNC_BYTES
               ? pgc_sync(c, "apply a change", err) : 0;
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
        rc = send(a, c, ti, ST_UPSERT, &pa, err);
        src_row_done(s, ti);          /* a big value's memory goes now */
        return rc;
    }
    for (int i = 0; i < npk; i++) {
        struct pgv v = { .t = pk[i].tag == 'i' ? PGV_INT : PGV_BYTES, .i = pk[i].i,
                         .p = (const char *)pk[i].p, .n = pk[i].n };

        add_col(&pa, &t->cols[i], &v, 1);
    }
    return send(a, c, ti, ST_DELETE, &pa, err);
}
