/*
 * pg_int.h - what the files of sinks/postgres/ share: the shipped tables
 * (the same columns, in the same order, as the SQLite generation tables,
 * in the order of outbox_tables (sinks/outbox_pk.h), their primary key
 * the leading columns), the PostgreSQL schema (pg_schema.c), the
 * whole-mirror copy (pg_copy.c) and the outbox's keys made true
 * (pg_apply.c). shipper.c drives them (shipper.h).
 *
 * A bytes column X of SQLite becomes X_bytes bytea (always the bytes) and
 * X_utf8 boolean (the bytes are valid UTF-8 without NUL); the views show
 * X text made from them (convert_from), so a value is stored and sent
 * once: a row holding a 512 MiB value twice would pass PostgreSQL's 1 GB
 * limit on a message and on a row. The key name alone is stored twice,
 * key text and key_bytes, for the hash index on the text that
 * WHERE key = '...' uses. Bytes never go into a btree (an entry is
 * limited to about 2.7 kB): a key has hash indexes, a member or field
 * sits in a btree as md5(X_bytes).
 */
#ifndef RS_PG_INT_H
#define RS_PG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "pg_conn.h"
#include "pg_src.h"

enum pg_kind {
    PGK_INT,      /* bigint */
    PGK_REAL,     /* double precision */
    PGK_TEXT,     /* text that is always ASCII (keys.type) */
    PGK_KEY,      /* X text (NULL unless UTF-8 without NUL) + X_bytes bytea */
    PGK_BYTES     /* X_bytes bytea + X_utf8 boolean */
};

struct pg_col {
    const char *name;
    enum pg_kind kind;
    int pk;
};

struct pg_table {
    const char *name;         /* the SQLite table without "g<N>_"; PostgreSQL's */
    int ncols;
    struct pg_col cols[8];
};

#define PG_NTABLES 11
extern const struct pg_table pg_tables[PG_NTABLES];

/* Bytes that can be a text value: valid UTF-8 without NUL. */
int pg_text_ok(const char *p, size_t n);
/* The PostgreSQL columns of t, in the order pg_copy.c and pg_apply.c
 * send them: "kid, field_bytes, field_utf8, ..." */
void pg_col_list(const struct pg_table *t, char *out, size_t size);
/* SQLite's column list of t: "kid, field, ..." */
void pg_src_cols(const struct pg_table *t, char *out, size_t size);
/* Big-endian 8 bytes, as PostgreSQL's binary int8 and float8. */
void pg_be64(unsigned char *out, uint64_t v);

/* A value as a column of that kind wants it: 0, or 1 for NULL. An
 * integer where bytes are expected is its decimal text (in tmp). */
int pg_val_int(const struct pgv *v, int64_t *out);
int pg_val_real(const struct pgv *v, double *out);
int pg_val_bytes(const struct pgv *v, char tmp[32], const char **p, size_t *n);

/* ---- pg_schema.c ---- */

/* What PostgreSQL holds: its checkpoint row. */
struct pg_ckpt {
    int64_t gen;              /* 0: nothing copied yet */
    int64_t seq;
    int64_t offset;
    char replid[41];
};

/* 'schema' is a plain identifier (pg_schema_name_ok). */
int pg_schema_name_ok(const char *schema);
/* Create the schema, tables, indexes, views and status row when missing
 * (one transaction); nothing when they all exist, so that a role with
 * only DML privileges on them works. */
int pg_schema_ensure(struct pgc *c, const char *schema, struct rs_error *err);
int pg_ckpt_read(struct pgc *c, const char *schema, struct pg_ckpt *ck, struct rs_error *err);
/* The UPDATE of the checkpoint row to 'pos' and outbox seq 'seq', in buf. */
const char *pg_ckpt_sql(char *buf, size_t size, const char *schema, const struct src_pos *pos,
                        int64_t seq);

/* The first statement of every transaction that writes the mirror: it
 * locks the checkpoint row, so writers take turns, and fails (division by
 * zero) unless the row still holds ck. Without it a transaction of a
 * shipper killed with -9 (its backend finishing what was sent) could
 * commit after the next one's, writing an older snapshot over it. */
const char *pg_ckpt_guard_sql(char *buf, size_t size, const char *schema,
                              const struct pg_ckpt *ck);

/* ---- pg_copy.c ---- */

/* In one PostgreSQL transaction (guarded: PostgreSQL must still hold ck,
 * pg_ckpt_guard_sql): delete every row, COPY every table of
 * generation pos->gen from 's' (read in the caller's read transaction),
 * set the checkpoint to pos and pos->last_seq, commit. *rows counts the
 * rows as they go (read by another thread: a plain store). A non-zero
 * *stop aborts it (rolled back). */
int pg_copy_mirror(struct pgc *c, struct src *s, const char *schema, const struct pg_ckpt *ck,
                   const struct src_pos *pos, volatile int *stop, volatile int64_t *rows,
                   struct rs_error *err);

/* ---- pg_apply.c ---- */

/* Statements prepared on one connection, made when first needed. */
struct pg_apply;
struct pg_apply *pg_apply_new(const char *schema);
void pg_apply_free(struct pg_apply *a);
/* A new connection: nothing is prepared on it (and no batch waits). */
void pg_apply_reset(struct pg_apply *a);
/* Forget the rows waiting in batches (a round that failed). */
void pg_apply_discard(struct pg_apply *a);
/* Queue on 'c' (pipeline mode, inside the caller's transaction) what
 * makes the row of table ti (an outbox_tables index) with primary key pk
 * in PostgreSQL what it is in 's' (the caller's read transaction) in
 * generation 'gen': an upsert of the row, or a DELETE when it is gone.
 * The row waits in a batch of its table (pg_apply_flush sends what
 * waits); syncs now and then to bound what is in flight (1000 statements
 * or 16 MiB of values). */
int pg_apply_key(struct pg_apply *a, struct pgc *c, struct src *s, int64_t gen, int ti,
                 const struct pk_val *pk, struct rs_error *err);
/* Send the rows waiting in batches: before the round's checkpoint. */
int pg_apply_flush(struct pg_apply *a, struct pgc *c, struct rs_error *err);

#endif
