/*
 * pg_conn.h - the shipper's PostgreSQL connection. pg_conn.c is the one
 * file that includes <libpq-fe.h>; this is what the rest of
 * sinks/postgres/ needs of it: connect, run SQL, read one row, COPY IN,
 * prepared statements with binary parameters sent in pipeline mode.
 *
 * Errors are one line, "cannot <what>: <PostgreSQL's message>", with
 * newlines folded and never a password (libpq does not put it in its
 * messages, and we never print the conninfo's password= part).
 */
#ifndef RS_PG_CONN_H
#define RS_PG_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

struct pgc;

/* Connect with 'conninfo' (keyword/value string or URI) and, when not
 * NULL, 'password' (overrides anything else). client_encoding is UTF8 and
 * the server's encoding must be UTF8. NULL with err naming host, port and
 * dbname. */
struct pgc *pgc_connect(const char *conninfo, const char *password, struct rs_error *err);
void pgc_close(struct pgc *c);            /* NULL is fine */
/* Ask the server to cancel what runs now: callable from another thread
 * while pgc calls are in flight (shipper_stop). */
void pgc_cancel(struct pgc *c);

/* Run one or more statements without parameters. */
int pgc_exec(struct pgc *c, const char *sql, const char *what, struct rs_error *err);
/* The first row of 'sql': up to 'n' columns as text in out[i] (NULL as
 * ""). 1 when there was a row, 0 none, -1 with err. */
int pgc_row(struct pgc *c, const char *sql, int n, char out[][64], const char *what,
            struct rs_error *err);

/* COPY ... FROM STDIN: begin, put bytes, end (abort with a reason when
 * 'abort' is not NULL). */
int pgc_copy_begin(struct pgc *c, const char *sql, struct rs_error *err);
int pgc_copy_put(struct pgc *c, const void *p, size_t n, struct rs_error *err);
int pgc_copy_end(struct pgc *c, const char *abort, struct rs_error *err);

/* Pipeline mode: statements are queued (pgc_send_*) and their results
 * read at pgc_sync, which returns the first error. A COMMIT queued before
 * pgc_sync is the transaction's end; pgc_sync may be called more often
 * (a Sync inside BEGIN ... COMMIT does not commit) to bound what is in
 * flight. */
int pgc_pipeline(struct pgc *c, int on, struct rs_error *err);
int pgc_send_sql(struct pgc *c, const char *sql, struct rs_error *err);
int pgc_send_prepare(struct pgc *c, const char *name, const char *sql, int nparams,
                     struct rs_error *err);
/* Parameters in binary format (NULL value: SQL NULL). */
int pgc_send_prepared(struct pgc *c, const char *name, int n, const char *const *vals,
                      const int *lens, struct rs_error *err);
int pgc_sync(struct pgc *c, const char *what, struct rs_error *err);
/* Statements queued since the last pgc_sync. */
int pgc_pending(const struct pgc *c);

#endif
