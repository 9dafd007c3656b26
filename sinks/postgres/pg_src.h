/*
 * pg_src.h - the shipper's side of the SQLite mirror: a read-only
 * connection of its own, the checkpoint and the outbox's position read in
 * one read transaction, a generation table walked row by row (for the
 * whole-mirror copy), the outbox's rows in seq order, and one row read by
 * its primary key (what an outbox row names). pg_src.c is the one file of sinks/postgres/ that
 * includes <sqlite3.h>; the rest sees the values below.
 *
 * Every value handed out is borrowed: valid until the next call on the
 * same object (a row, an outbox row).
 */
#ifndef RS_PG_SRC_H
#define RS_PG_SRC_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "outbox_pk.h"

/* One SQLite value of a row. */
enum pgv_type {
    PGV_NULL = 0,
    PGV_INT,
    PGV_REAL,
    PGV_BYTES        /* TEXT or BLOB: the exact bytes */
};
struct pgv {
    enum pgv_type t;
    int64_t i;
    double d;
    const char *p;
    size_t n;
};

#define PGV_MAX_COLS 16

/* What one read transaction sees of the mirror. */
struct src_pos {
    int64_t gen;            /* redsink_status.generation */
    char replid[41];
    int64_t offset;
    char state[24];
    int64_t last_seq;       /* the outbox's last assigned seq, 0 none */
};

/* One outbox row. */
struct src_outbox {
    int64_t seq, gen, offset, at;
    char replid[41];
    const unsigned char *pks;   /* the packed primary keys (sinks/outbox_pk.h) */
    size_t len;
};

/* The outbox rows after a seq: how many, their seq and generation range. */
struct src_span {
    int64_t n, first, last, min_gen, max_gen;
};

struct src;

/* Open 'path' read-only (NULL with err). */
struct src *src_open(const char *path, struct rs_error *err);
void src_close(struct src *s);    /* NULL is fine */

/* A read transaction: everything read until src_end is one snapshot. */
int src_begin(struct src *s, struct src_pos *pos, struct rs_error *err);
void src_end(struct src *s);

/* Walk table "g<gen>_<table>" with 'ncols' columns, 'cols' the column
 * list: src_scan_next gives RS_OK with a row in vals, RS_DONE at the
 * end, or RS_ERROR with err. One scan at a time. */
int src_scan_begin(struct src *s, int64_t gen, const char *table, const char *cols,
                   struct rs_error *err);
enum rs_status src_scan_next(struct src *s, struct pgv *vals, int ncols, struct rs_error *err);

/* Outbox rows with seq > after, in order: RS_OK, RS_DONE or RS_ERROR. */
int src_outbox_begin(struct src *s, int64_t after, struct rs_error *err);
enum rs_status src_outbox_next(struct src *s, struct src_outbox *row, struct rs_error *err);
/* The commit time of the first outbox row after 'after' (0 none). */
int64_t src_outbox_first_at(struct src *s, int64_t after);

/* The rows after 'after' (n = 0 when none, or no outbox yet). */
int src_outbox_span(struct src *s, int64_t after, struct src_span *sp, struct rs_error *err);

/* One row of table 'table' (an outbox_tables index) of generation 'gen'
 * by its primary key: 'cols' the SQLite columns to read, 'where' the key
 * test with parameters ?1.. bound to pk[]. RS_OK with the row in vals
 * (borrowed until src_row_done), RS_DONE when there is no such row,
 * RS_ERROR with err. A value is SQLite's own copy: read once, not
 * copied. */
enum rs_status src_row_get(struct src *s, int64_t gen, int table, const char *cols,
                           const char *where, const struct pk_val *pk, int npk,
                           struct pgv *vals, int ncols, struct rs_error *err);
void src_row_done(struct src *s, int table);

#endif
