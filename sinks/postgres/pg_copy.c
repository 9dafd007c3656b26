/*
 * pg_copy.c - the whole mirror into PostgreSQL: in one PostgreSQL
 * transaction, DELETE every row, COPY ... FROM STDIN (FORMAT binary) each
 * table from one SQLite read transaction, set the checkpoint, COMMIT.
 *
 * Why DELETE and not TRUNCATE or new tables: DELETE takes no lock that a
 * reader conflicts with, so a reader holding a transaction open on the old
 * mirror neither blocks the copy nor is blocked, and MVCC shows it the old
 * complete mirror until it ends (doc/postgres.md has the measurement).
 *
 * Memory is bounded: rows are encoded into one 256 KiB buffer and sent as
 * it fills; a value bigger than 64 KiB is sent from SQLite's own copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

#define BUF_SIZE (256 * 1024)
#define BIG_VALUE (64 * 1024)

/* The COPY stream being written. */
struct copy_out {
    struct pgc *c;
    unsigned char *buf;
    size_t len;
    struct rs_error *err;
};

static int out_flush(struct copy_out *o)
{
    int rc = o->len ? pgc_copy_put(o->c, o->buf, o->len, o->err) : 0;

    o->len = 0;
    return rc;
}

/* Room for n more bytes in the buffer (n <= BIG_VALUE + 16). */
static int out_room(struct copy_out *o, size_t n)
{
    return o->len + n > BUF_SIZE ? out_flush(o) : 0;
}

static void put_u16(struct copy_out *o, int v)
{
    o->buf[o->len++] = (unsigned char)(v >> 8);
    o->buf[o->len++] = (unsigned char)v;
}

static void put_i32(struct copy_out *o, int32_t v)
{
    uint32_t u = (uint32_t)v;

    for (int s = 24; s >= 0; s -= 8)
        o->buf[o->len++] = (unsigned char)(u >> s);
}

static int put_field(struct copy_out *o, const void *p, size_t n)
{
    if (out_room(o, 4 + (n > BIG_VALUE ? 0 : n)))
        return -1;
    put_i32(o, (int32_t)n);
    if (n <= BIG_VALUE) {
        memcpy(o->buf + o->len, p, n);
        o->len += n;
        return 0;
    }
    return out_flush(o) || pgc_copy_put(o->c, p, n, o->err);
}

static int put_null(struct copy_out *o)
{
    if (out_room(o, 4))
        return -1;
    put_i32(o, -1);
    return 0;
}

static int put_u64(struct copy_out *o, uint64_t v)
{
    unsigned char b[8];

    pg_be64(b, v);
    return put_field(o, b, 8);
}

/* One column of a row, in the PostgreSQL column(s) it becomes. */
static int put_col(struct copy_out *o, enum pg_kind kind, const struct pgv *v)
{
    const char *p = NULL;
    char tmp[32];
    int64_t i;
    double d;
    size_t n = 0;

    switch (kind) {
    case PGK_INT:
        return pg_val_int(v, &i) ? put_null(o) : put_u64(o, (uint64_t)i);
    case PGK_REAL:
        if (pg_val_real(v, &d))
            return put_null(o);
        memcpy(&i, &d, 8);
        return put_u64(o, (uint64_t)i);
    case PGK_TEXT:
        return pg_val_bytes(v, tmp, &p, &n) ? put_null(o) : put_field(o, p, n);
    case PGK_KEY:
        if (pg_val_bytes(v, tmp, &p, &n))
            return put_null(o) || put_null(o);
        return (pg_text_ok(p, n) ? put_field(o, p, n) : put_null(o)) || put_field(o, p, n);
    case PGK_BYTES:
        if (pg_val_bytes(v, tmp, &p, &n))
            return put_null(o) || put_null(o);
        return put_field(o, p, n) || put_field(o, pg_text_ok(p, n) ? "\1" : "\0", 1);
    }
    return 0;
}

static int copy_rows(struct copy_out *o, struct src *s, const struct pg_table *t,
                     int nfields, volatile int *stop, volatile int64_t *rows)
{
    struct pgv vals[PGV_MAX_COLS];
    enum rs_status st;

    while ((st = src_scan_next(s, vals, t->ncols, o->err)) == RS_OK) {
        if (*stop)
            return rs_fail(o->err, RS_E_IO, "postgres: copy interrupted (stopping)");
        if (out_room(o, 2))
            return -1;
        put_u16(o, nfields);
        for (int i = 0; i < t->ncols; i++)
            if (put_col(o, t->cols[i].kind, &vals[i]))
                return -1;
        *rows += 1;
    }
    return st == RS_DONE ? 0 : -1;
}

/* COPY one table: header, rows, trailer. */
static int copy_table(struct copy_out *o, struct src *s, const char *schema, int64_t gen,
                      const struct pg_table *t, volatile int *stop, volatile int64_t *rows)
{
    static const unsigned char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
    char src_cols[256], dst_cols[320], sql[512];
    int nfields = t->ncols, rc;

    for (int i = 0; i < t->ncols; i++)
        nfields += t->cols[i].kind == PGK_KEY || t->cols[i].kind == PGK_BYTES;
    pg_src_cols(t, src_cols, sizeof(src_cols));
    pg_col_list(t, dst_cols, sizeof(dst_cols));
    snprintf(sql, sizeof(sql), "COPY %s.\"%s\" (%s) FROM STDIN (FORMAT binary)", schema,
             t->name, dst_cols);
    if (src_scan_begin(s, gen, t->name, src_cols, o->err) ||
        pgc_copy_begin(o->c, sql, o->err))
        return -1;
    memcpy(o->buf, header, sizeof(header));
    o->len = sizeof(header);
    rc = copy_rows(o, s, t, nfields, stop, rows);
    if (rc == 0 && (rc = out_room(o, 2)) == 0) {
        put_u16(o, 0xffff);           /* the trailer: a field count of -1 */
        rc = out_flush(o);
    }
    if (rc) {
        pgc_copy_end(o->c, "redsink: copy failed", &(struct rs_error){ 0 });
        return -1;
    }
    return pgc_copy_end(o->c, NULL, o->err);
}

int pg_copy_mirror(struct pgc *c, struct src *s, const char *schema, const struct pg_ckpt *ck,
                   const struct src_pos *pos, volatile int *stop, volatile int64_t *rows,
                   struct rs_error *err)
{
    struct copy_out o = { c, malloc(BUF_SIZE), 0, err };
    char sql[512];
    int rc = -1;

    *rows = 0;
    if (o.buf == NULL)
        return rs_fail(err, RS_E_NOMEM, "postgres: cannot copy: out of memory");
    if (pgc_exec(c, "BEGIN", "begin the copy", err) ||
        pgc_exec(c, pg_ckpt_guard_sql(sql, sizeof(sql), schema, ck), "lock the checkpoint", err))
        goto out;
    for (int i = 0; i < PG_NTABLES; i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s.\"%s\"", schema, pg_tables[i].name);
        if (pgc_exec(c, sql, "empty a table for the copy", err) ||
            copy_table(&o, s, schema, pos->gen, &pg_tables[i], stop, rows))
            goto out;
    }
    pg_ckpt_sql(sql, sizeof(sql), schema, pos, pos->last_seq);
    if (pgc_exec(c, sql, "set the checkpoint", err))
        goto out;
    snprintf(sql, sizeof(sql), "UPDATE %s.redsink_status SET copied_at = updated_at", schema);
    rc = pgc_exec(c, sql, "set the checkpoint", err) || pgc_exec(c, "COMMIT", "commit the copy",
                                                                  err);
out:
    if (rc)
        pgc_exec(c, "ROLLBACK", "roll back", &(struct rs_error){ 0 });
    free(o.buf);
    return rc ? -1 : 0;
}
