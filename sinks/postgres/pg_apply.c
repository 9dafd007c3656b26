/*
 * pg_apply.c - one changeset of the outbox applied to PostgreSQL: each
 * row change becomes an INSERT, an UPDATE of the changed columns, or a
 * DELETE by primary key, through statements prepared once per connection
 * (an UPDATE's per set of changed columns) and sent in pipeline mode
 * with binary parameters.
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

enum { ST_INSERT = 256, ST_DELETE = 257, ST_COUNT = 258 };

struct pg_apply {
    char schema[64];
    unsigned char prepared[PG_NTABLES][ST_COUNT];
};

/* A statement's parameters, in binary format. */
struct params {
    int n;
    const char *vals[MAX_PARAMS];
    int lens[MAX_PARAMS];
    unsigned char num[MAX_PARAMS][8];
    char tmp[MAX_PARAMS][32];
};

struct pg_apply *pg_apply_new(const char *schema)
{
    struct pg_apply *a = calloc(1, sizeof(*a));

    if (a)
        snprintf(a->schema, sizeof(a->schema), "%s", schema);
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

/* "name = $n::type" (or both halves of a bytes column), from parameter *np. */
static size_t sql_set(char *sql, size_t size, const struct pg_col *col, int *np, const char *sep)
{
    *np += col->kind == PGK_KEY || col->kind == PGK_BYTES ? 2 : 1;
    if (col->kind == PGK_KEY)
        return snprintf(sql, size, "%s%s = $%d::text, %s_bytes = $%d::bytea", sep, col->name,
                        *np - 1, col->name, *np);
    if (col->kind == PGK_BYTES)
        return snprintf(sql, size, "%s%s_bytes = $%d::bytea, %s_utf8 = $%d::bool", sep,
                        col->name, *np - 1, col->name, *np);
    return snprintf(sql, size, "%s%s = $%d::%s", sep, col->name, *np, cast(col->kind));
}

static size_t sql_where(char *sql, size_t size, const struct pg_table *t, int *np)
{
    size_t n = snprintf(sql, size, " WHERE ");

    for (int i = 0; i < t->ncols; i++) {
        const struct pg_col *col = &t->cols[i];
        const char *sep = n > 7 ? " AND " : "";

        if (!col->pk)
            continue;
        if (col->kind == PGK_BYTES || col->kind == PGK_KEY) {
            ++*np;
            n += snprintf(sql + n, size - n, "%smd5(%s_bytes) = md5($%d::bytea) AND"
                          " %s_bytes = $%d::bytea", sep, col->name, *np, col->name, *np);
        } else {
            n += snprintf(sql + n, size - n, "%s%s = $%d::%s", sep, col->name, ++*np,
                          cast(col->kind));
        }
    }
    return n;
}

/* The SQL of statement 'kind' (ST_INSERT, ST_DELETE or an UPDATE's mask
 * of changed columns) of table t. */
static void statement_sql(char *sql, size_t size, const char *schema, const struct pg_table *t,
                          int kind)
{
    size_t n;
    int np = 0;

    if (kind == ST_DELETE) {
        n = snprintf(sql, size, "DELETE FROM %s.\"%s\"", schema, t->name);
        sql_where(sql + n, size - n, t, &np);
    } else if (kind == ST_INSERT) {
        n = snprintf(sql, size, "INSERT INTO %s.\"%s\" (", schema, t->name);
        pg_col_list(t, sql + n, size - n);
        n += strlen(sql + n);
        n += snprintf(sql + n, size - n, ") VALUES (");
        for (int i = 0; i < t->ncols; i++)
            n += sql_value(sql + n, size - n, &t->cols[i], &np, i ? ", " : "");
        snprintf(sql + n, size - n, ")");
    } else {
        n = snprintf(sql, size, "UPDATE %s.\"%s\" SET ", schema, t->name);
        for (int i = 0; i < t->ncols; i++)
            if (kind & (1 << i))
                n += sql_set(sql + n, size - n, &t->cols[i], &np, np ? ", " : "");
        sql_where(sql + n, size - n, t, &np);
    }
}

/* Prepare statement 'kind' of table ti once per connection, run it. */
static int send(struct pg_apply *a, struct pgc *c, int ti, int kind, struct params *pa,
                struct rs_error *err)
{
    char name[32], sql[1536];

    snprintf(name, sizeof(name), "rs_%d_%d", ti, kind);
    if (!a->prepared[ti][kind]) {
        statement_sql(sql, sizeof(sql), a->schema, &pg_tables[ti], kind);
        if (pgc_send_prepare(c, name, sql, 0, err))
            return -1;
        a->prepared[ti][kind] = 1;
    }
    if (pgc_send_prepared(c, name, pa->n, pa->vals, pa->lens, err))
        return -1;
    return pgc_pending(c) >= SYNC_EVERY ? pgc_sync(c, "apply a change", err) : 0;
}

static int apply_change(struct pg_apply *a, struct pgc *c, const struct src_change *ch,
                        int64_t gen, struct rs_error *err)
{
    const struct pg_table *t;
    struct params pa = { 0 };
    int64_t tgen;
    int kind = 0;

    if ((t = pg_table_of(ch->table, &tgen)) == NULL)
        return 0;                                 /* not shipped */
    if (tgen != gen || ch->ncols != t->ncols)
        return rs_fail(err, RS_E_SQL, "postgres: cannot apply a change to '%s': expected "
                       "generation %lld with %d columns", ch->table, (long long)gen, t->ncols);
    if (ch->op == SRC_INSERT) {
        kind = ST_INSERT;
        for (int i = 0; i < t->ncols; i++)
            add_col(&pa, &t->cols[i], &ch->new[i], 0);
    } else if (ch->op == SRC_UPDATE) {
        for (int i = 0; i < t->ncols; i++)
            if (!t->cols[i].pk && ch->new[i].t != PGV_UNSET) {
                kind |= 1 << i;
                add_col(&pa, &t->cols[i], &ch->new[i], 0);
            }
        if (kind == 0)
            return 0;
    } else {
        kind = ST_DELETE;
    }
    if (ch->op != SRC_INSERT)
        for (int i = 0; i < t->ncols; i++)
            if (t->cols[i].pk)
                add_col(&pa, &t->cols[i], &ch->old[i], 1);
    return send(a, c, (int)(t - pg_tables), kind, &pa, err);
}

int pg_apply_changeset(struct pg_apply *a, struct pgc *c, int64_t gen, const void *p,
                       size_t len, struct rs_error *err)
{
    struct src_changes *cs = src_changes_start(p, len, err);
    struct src_change ch;
    enum rs_status st;
    int rc = 0;

    if (cs == NULL)
        return -1;
    while (rc == 0 && (st = src_changes_next(cs, &ch, err)) == RS_OK)
        rc = apply_change(a, c, &ch, gen, err);
    src_changes_free(cs);
    return rc == 0 && st == RS_DONE ? 0 : -1;
}
