/*
 * harness.h - what the unit tests share, written once: the checks, a
 * growable buffer, the RESP command builder, temporary files, and a
 * temporary mirror (the SQLite sink on a fresh file, an applier and a
 * RESP reader on it, and a reader's own SQLite connection that sees the
 * contract's views as a user would).
 *
 * A test prints one line per check and ends with check_summary(): exit 0
 * (all passed), 77 (skipped: no sink could be opened) or 99 (a check
 * failed).
 */
#ifndef REDSINK_TEST_HARNESS_H
#define REDSINK_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "apply.h"
#include "resp.h"
#include "sink.h"

/* ---- checks ---- */

/* One check: "ok N - message", or "not ok N - message  (line L)". A quiet
 * check is counted, and printed only when it fails. The macros below give
 * the line. */
void check_at(int line, int quiet, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void check_str_at(int line, const char *got, const char *want, const char *what);
void check_int_at(int line, long long got, long long want, const char *what);
/* Prints the counts; returns the exit status, 0 or 99. */
int check_summary(void);

#define CHECK(ok, ...) check_at(__LINE__, 0, (ok) != 0, __VA_ARGS__)
/* 'got' is evaluated once: it may be a call with side effects. */
#define CHECK_STR(got, want, what) check_str_at(__LINE__, (got), (want), (what))
#define CHECK_INT(got, want, what) \
    check_int_at(__LINE__, (long long)(got), (long long)(want), (what))

/* ---- a growable buffer, always NUL-terminated ---- */

struct tbuf {
    char *p;
    size_t len, cap;
};

void tbuf_add(struct tbuf *b, const void *p, size_t n);
void tbuf_printf(struct tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tbuf_free(struct tbuf *b);

/* ---- RESP commands ---- */

/* Append one command as RESP; returns the bytes appended (its wire
 * length). In the C-string forms a "\\xNN" pair in an argument stands for
 * the byte NN (so "\\x00" is NUL). */
size_t cmd_bytes(struct tbuf *b, int argc, const struct rs_bytes *argv);
size_t cmd_strv(struct tbuf *b, int argc, const char *const *args);
size_t cmd_str(struct tbuf *b, ...);

/* CMD(&buf, "SET", "k", "v") */
#define CMD(b, ...) cmd_str((b), __VA_ARGS__, (const char *)NULL)

/* ---- temporary files ---- */

/* 'name' in this process's own directory under $TMPDIR (or /tmp), made on
 * first use; at exit the directory is removed, or kept and named when a
 * check failed. The result is valid until the next call. */
const char *tmp_path(const char *name);

/* ---- a reader's view ---- */

/* A read-only connection of its own to the mirror at 'path' (NULL: failed). */
sqlite3 *reader_open(const char *path);
/* Every row of 'sql' as "c1<sep>c2;c1<sep>c2" (NULL as "NULL"), in 'out';
 * "SQL ERROR ..." when the query fails. */
const char *reader_rows(sqlite3 *db, const char *sql, char sep, char *out, size_t size);

/* ---- a temporary mirror ---- */

struct mirror {
    char path[512];
    struct sink *sink;
    struct applier *a;
    struct resp_reader *rr;
    sqlite3 *rd;                  /* a reader's own connection */
    struct tbuf cmd;              /* mirror_apply's command */
    int acks;                     /* REPLCONF GETACKs seen by mirror_feed */
    int64_t ack_offset;           /* committed offset when the last one came */
    char out[65536];              /* mirror_q's result */
};

/* The applier's start: this replication ID, at this offset. */
#define MIRROR_REPLID "0123456789abcdef0123456789abcdef01234567"
#define MIRROR_START 1000

/* Open the sink on a fresh file 'name' (tmp_path), an applier on it that
 * commits when asked (or after 'batch_cmds' commands; 0: the default),
 * strict or not, a RESP reader and the reader's connection. 0, or -1
 * (said on stdout). */
int mirror_open(struct mirror *m, const char *name, int strict, int batch_cmds);
/* The same with the applier's options given whole. */
int mirror_open_opts(struct mirror *m, const char *name, const struct apply_opts *opts);
void mirror_close(struct mirror *m);
/* The SQLite sink on 'path'; the one place a test names the backend. */
struct sink *mirror_sink_open(const char *path, struct rs_error *err);

/* Feed stream bytes, 'chunk' at a time (0: all at once), and apply every
 * command. 0, or -1 when the reader or the applier failed. */
int mirror_feed(struct mirror *m, const char *p, size_t len, size_t chunk);
/* Apply every command of 'b', empty it, and commit: "0", or the error. */
const char *mirror_run(struct mirror *m, struct tbuf *b);
/* Apply one command and commit: "0", or the error. */
const char *mirror_applyv(struct mirror *m, int argc, const char *const *args);
const char *mirror_apply_bytes(struct mirror *m, int argc, const struct rs_bytes *argv);
const char *mirror_apply(struct mirror *m, ...);

/* APPLY(m, "SET", "k", "v") */
#define APPLY(m, ...) mirror_apply((m), __VA_ARGS__, (const char *)NULL)

/* The main() of a test of one command family: each of 'tests' (up to a
 * NULL) in turn on one mirror; exit 77 when none could be opened. */
typedef void mirror_test(struct mirror *m);
int mirror_test_main(const char *name, int strict, mirror_test *const tests[]);

/* The reader's rows of 'sql' (reader_rows with ','), in m->out. */
const char *mirror_q(struct mirror *m, const char *sql);
/* The first column of the first row as a number (0 without a row). */
long long mirror_qi(struct mirror *m, const char *sql);

/* Key 'key' of db 0 as "type/expire_at" ("-": no TTL; "": no such key). */
const char *mirror_keyinfo(struct mirror *m, const char *key);

#endif
