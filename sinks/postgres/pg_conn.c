/*
 * pg_conn.c - libpq behind pg_conn.h, the one file that includes it.
 *
 * Connections are blocking: the shipper is a thread of its own and has
 * nothing else to do while PostgreSQL works. Pipeline mode batches many
 * statements per round trip; shipper_stop interrupts a slow statement
 * with a cancel request (pgc_cancel), the only call made from another
 * thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pg_conn.h"

struct pgc {
    PGconn *conn;
    PGcancel *cancel;
    int pending;              /* statements queued since the last sync */
    char target[200];         /* "host=... port=... dbname=..." for messages */
};

/* libpq's messages end with a newline and may span lines: one line. */
static const char *one_line(const char *msg, char *buf, size_t size)
{
    size_t n = 0;

    for (; msg && *msg && n + 1 < size; msg++) {
        if (*msg == '\t' && n >= 2 && buf[n - 1] == ' ' && buf[n - 2] == ';')
            continue;                 /* a continuation line's indent */
        if (*msg == '\n' || *msg == '\r') {
            if (msg[1] && n + 3 < size && n > 0) {
                buf[n++] = ';';
                buf[n++] = ' ';
            }
            continue;
        }
        buf[n++] = *msg;
    }
    buf[n] = '\0';
    return buf;
}

static int conn_fail(struct pgc *c, struct rs_error *err, const char *what)
{
    char buf[224];

    return rs_fail(err, RS_E_SQL, "postgres: cannot %s %s %s: %s", what,
                   strcmp(what, "connect") ? "on" : "to", c->target,
                   one_line(PQerrorMessage(c->conn), buf, sizeof(buf)));
}

/* A failed result: its primary message (and detail, if any). */
static int result_fail(struct pgc *c, PGresult *r, struct rs_error *err, const char *what)
{
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    char buf[224];

    if (msg == NULL)
        return conn_fail(c, err, what);
    return rs_fail(err, RS_E_SQL, "postgres: cannot %s: %s", what, one_line(msg, buf, sizeof(buf)));
}

/* libpq prints notices ("relation ... already exists, skipping", the
 * server's shutdown warning) on stderr by default: the errors that
 * matter come back as results, so notices are dropped. */
static void no_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static void set_target(struct pgc *c)
{
    const char *h = PQhost(c->conn), *p = PQport(c->conn), *d = PQdb(c->conn);

    snprintf(c->target, sizeof(c->target), "host=%s port=%s dbname=%s",
             h && *h ? h : "(default)", p && *p ? p : "(default)", d ? d : "");
}

struct pgc *pgc_connect(const char *conninfo, const char *password, struct rs_error *err)
{
    /* later keywords override earlier ones, and dbname= expands the
     * conninfo: so the conninfo may change connect_timeout, and the
     * password file and client_encoding win over it */
    const char *keys[] = { "application_name", "connect_timeout", "dbname", "client_encoding",
                           password ? "password" : NULL, NULL };
    const char *vals[] = { "redsink", "10", conninfo, "UTF8", password, NULL };
    struct pgc *c = calloc(1, sizeof(*c));
    const char *enc;

    if (c == NULL) {
        rs_fail(err, RS_E_NOMEM, "postgres: cannot connect: out of memory");
        return NULL;
    }
    c->conn = PQconnectdbParams(keys, vals, 1);
    if (c->conn == NULL) {
        rs_fail(err, RS_E_NOMEM, "postgres: cannot connect: out of memory");
        free(c);
        return NULL;
    }
    set_target(c);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        conn_fail(c, err, "connect");
        goto fail;
    }
    enc = PQparameterStatus(c->conn, "server_encoding");
    if (enc == NULL || strcmp(enc, "UTF8") != 0) {
        rs_fail(err, RS_E_CONFIG, "postgres: cannot use %s: its encoding is %s, the text columns "
                "need UTF8 (CREATE DATABASE ... ENCODING 'UTF8')", c->target, enc ? enc : "?");
        goto fail;
    }
    PQsetNoticeProcessor(c->conn, no_notice, NULL);
    c->cancel = PQgetCancel(c->conn);
    return c;
fail:
    pgc_close(c);
    return NULL;
}

void pgc_close(struct pgc *c)
{
    if (c == NULL)
        return;
    if (c->cancel)
        PQfreeCancel(c->cancel);
    PQfinish(c->conn);
    free(c);
}

void pgc_cancel(struct pgc *c)
{
    char buf[256];

    if (c && c->cancel)
        PQcancel(c->cancel, buf, sizeof(buf));
}

/* Read the results of the command just sent: the first failure, or 0. */
static int results(struct pgc *c, const char *what, struct rs_error *err)
{
    PGresult *r;
    int rc = 0;

    while ((r = PQgetResult(c->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(r);

        if (rc == 0 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
            st != PGRES_EMPTY_QUERY)
            rc = result_fail(c, r, err, what);
        PQclear(r);
    }
    return rc;
}

int pgc_exec(struct pgc *c, const char *sql, const char *what, struct rs_error *err)
{
    if (!PQsendQuery(c->conn, sql))
        return conn_fail(c, err, what);
    return results(c, what, err);
}

int pgc_row(struct pgc *c, const char *sql, int n, char out[][64], const char *what,
            struct rs_error *err)
{
    PGresult *r = PQexec(c->conn, sql);
    int rc;

    if (r == NULL)
        return conn_fail(c, err, what);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = result_fail(c, r, err, what);
    } else if ((rc = PQntuples(r) > 0)) {
        for (int i = 0; i < n; i++)
            snprintf(out[i], 64, "%s", i < PQnfields(r) ? PQgetvalue(r, 0, i) : "");
    }
    PQclear(r);
    return rc;
}

/* ---- COPY ---- */

int pgc_copy_begin(struct pgc *c, const char *sql, struct rs_error *err)
{
    PGresult *r = PQexec(c->conn, sql);
    int rc = 0;

    if (r == NULL)
        return conn_fail(c, err, "start a COPY");
    if (PQresultStatus(r) != PGRES_COPY_IN)
        rc = result_fail(c, r, err, "start a COPY");
    PQclear(r);
    return rc;
}

int pgc_copy_put(struct pgc *c, const void *p, size_t n, struct rs_error *err)
{
    /* PQputCopyData takes an int: feed a huge value in slices */
    while (n > 0) {
        int part = n > (1 << 30) ? (1 << 30) : (int)n;

        if (PQputCopyData(c->conn, p, part) != 1)
            return conn_fail(c, err, "COPY");
        p = (const char *)p + part;
        n -= part;
    }
    return 0;
}

int pgc_copy_end(struct pgc *c, const char *abort, struct rs_error *err)
{
    if (PQputCopyEnd(c->conn, abort) != 1)
        return conn_fail(c, err, "end a COPY");
    return results(c, "COPY", err);
}

/* ---- pipeline ---- */

int pgc_pipeline(struct pgc *c, int on, struct rs_error *err)
{
    if (on ? PQenterPipelineMode(c->conn) : PQexitPipelineMode(c->conn))
        return 0;
    return conn_fail(c, err, on ? "enter pipeline mode" : "leave pipeline mode");
}

int pgc_send_sql(struct pgc *c, const char *sql, struct rs_error *err)
{
    if (!PQsendQueryParams(c->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
        return conn_fail(c, err, "send a statement");
    c->pending++;
    return 0;
}

int pgc_send_prepare(struct pgc *c, const char *name, const char *sql, int nparams,
                     struct rs_error *err)
{
    if (!PQsendPrepare(c->conn, name, sql, nparams, NULL))
        return conn_fail(c, err, "prepare a statement");
    c->pending++;
    return 0;
}

int pgc_send_prepared(struct pgc *c, const char *name, int n, const char *const *vals,
                      const int *lens, struct rs_error *err)
{
    int formats[64];

    for (int i = 0; i < n && i < 64; i++)
        formats[i] = 1;
    if (!PQsendQueryPrepared(c->conn, name, n, vals, lens, formats, 0))
        return conn_fail(c, err, "send a statement");
    c->pending++;
    return 0;
}

int pgc_pending(const struct pgc *c)
{
    return c->pending;
}

int pgc_sync(struct pgc *c, const char *what, struct rs_error *err)
{
    int rc = 0, nulls = 0;
    PGresult *r;

    if (!PQpipelineSync(c->conn))
        return conn_fail(c, err, what);
    /* each statement's result is followed by a NULL; the Sync's own
     * result ends the round */
    for (;;) {
        if ((r = PQgetResult(c->conn)) == NULL) {
            if (PQstatus(c->conn) == CONNECTION_BAD || ++nulls > c->pending + 1) {
                rc = rc ? rc : conn_fail(c, err, what);
                break;
            }
            continue;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (rc == 0 && PQresultStatus(r) == PGRES_FATAL_ERROR)
            rc = result_fail(c, r, err, what);
        PQclear(r);
    }
    c->pending = 0;
    return rc;
}
