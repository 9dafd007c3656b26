/*
 * harness.c - the unit tests' shared checks, buffer, RESP builder,
 * temporary files and temporary mirror (harness.h).
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"

/* ------------------------------------------------------------------ */
/* Checks                                                              */
/* ------------------------------------------------------------------ */

static int checks, failures;

void check_at(int line, int quiet, int ok, const char *fmt, ...)
{
    va_list ap;

    checks++;
    failures += !ok;
    if (ok && quiet)
        return;
    printf("%s %d - ", ok ? "ok" : "not ok", checks);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok)
        printf("  (line %d)", line);
    printf("\n");
    fflush(stdout);
}

void check_str_at(int line, const char *got, const char *want, const char *what)
{
    if (strcmp(got, want) == 0)
        check_at(line, 0, 1, "%s", what);
    else
        check_at(line, 0, 0, "%s: got '%s', want '%s'", what, got, want);
}

void check_int_at(int line, long long got, long long want, const char *what)
{
    if (got == want)
        check_at(line, 0, 1, "%s", what);
    else
        check_at(line, 0, 0, "%s: got %lld, want %lld", what, got, want);
}

int check_summary(void)
{
    printf("# %d checks, %d failed\n1..%d\n", checks, failures, checks);
    return failures ? 99 : 0;
}

/* ------------------------------------------------------------------ */
/* Buffer                                                              */
/* ------------------------------------------------------------------ */

static void tbuf_reserve(struct tbuf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 256;

    if (b->len + n + 1 <= b->cap)
        return;
    while (cap < b->len + n + 1)
        cap *= 2;
    if ((b->p = realloc(b->p, cap)) == NULL) {
        perror("realloc");
        exit(99);
    }
    b->cap = cap;
}

void tbuf_add(struct tbuf *b, const void *p, size_t n)
{
    tbuf_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void tbuf_printf(struct tbuf *b, const char *fmt, ...)
{
    va_list ap, again;
    int n;

    va_start(ap, fmt);
    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    tbuf_reserve(b, (size_t)n);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, again);
    va_end(again);
    b->len += (size_t)n;
}

void tbuf_free(struct tbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* ------------------------------------------------------------------ */
/* RESP commands                                                       */
/* ------------------------------------------------------------------ */

size_t cmd_bytes(struct tbuf *b, int argc, const struct rs_bytes *argv)
{
    size_t start = b->len;

    tbuf_printf(b, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        tbuf_printf(b, "$%zu\r\n", argv[i].len);
        tbuf_add(b, argv[i].ptr, argv[i].len);
        tbuf_add(b, "\r\n", 2);
    }
    return b->len - start;
}

/* 's' with each "\\xNN" pair made the byte NN, appended to 'out'. */
static void unescape(struct tbuf *out, const char *s)
{
    for (; *s; s++) {
        unsigned v;
        char c = *s;

        if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &v) == 1) {
            c = (char)v;
            s += 3;
        }
        tbuf_add(out, &c, 1);
    }
}

size_t cmd_strv(struct tbuf *b, int argc, const char *const *args)
{
    struct tbuf arg[64] = { { 0 } };
    struct rs_bytes argv[64] = { { 0 } };
    size_t n;

    if (argc > 64)
        abort();
    for (int i = 0; i < argc; i++) {
        unescape(&arg[i], args[i]);
        argv[i] = (struct rs_bytes){ arg[i].p ? arg[i].p : "", arg[i].len };
    }
    n = cmd_bytes(b, argc, argv);
    for (int i = 0; i < argc; i++)
        tbuf_free(&arg[i]);
    return n;
}

/* The command of the C strings of 'ap', up to a NULL (at most 64). */
static size_t cmd_vstr(struct tbuf *b, va_list ap)
{
    const char *args[64];
    int n = 0;

    while (n < 64 && (args[n] = va_arg(ap, const char *)) != NULL)
        n++;
    return cmd_strv(b, n, args);
}

size_t cmd_str(struct tbuf *b, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, b);
    n = cmd_vstr(b, ap);
    va_end(ap);
    return n;
}

/* ------------------------------------------------------------------ */
/* Temporary files                                                     */
/* ------------------------------------------------------------------ */

static char tmp_dir[256];

static void tmp_cleanup(void)
{
    char f[512];
    struct dirent *de;
    DIR *d;

    if (failures) {
        printf("# files kept in %s\n", tmp_dir);
        return;
    }
    if ((d = opendir(tmp_dir)) == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(f, sizeof(f), "%s/%s", tmp_dir, de->d_name);
        unlink(f);
    }
    closedir(d);
    rmdir(tmp_dir);
}

const char *tmp_path(const char *name)
{
    static char path[512];
    const char *t = getenv("TMPDIR");

    if (tmp_dir[0] == '\0') {
        snprintf(tmp_dir, sizeof(tmp_dir), "%s/redsink-unit.XXXXXX", t && *t ? t : "/tmp");
        if (mkdtemp(tmp_dir) == NULL) {
            perror("mkdtemp");
            exit(99);
        }
        atexit(tmp_cleanup);
    }
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    return path;
}

/* ------------------------------------------------------------------ */
/* A reader's view                                                     */
/* ------------------------------------------------------------------ */

sqlite3 *reader_open(const char *path)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        printf("# cannot open a reader on '%s': %s\n", path, db ? sqlite3_errmsg(db) : "");
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

const char *reader_rows(sqlite3 *db, const char *sql, char sep, char *out, size_t size)
{
    sqlite3_stmt *st;
    size_t o = 0;
    int rc;

    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(out, size, "SQL ERROR %s", sqlite3_errmsg(db));
        return out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *t = sqlite3_column_text(st, i);

            if (i || o)
                out[o++] = i ? sep : ';';
            o += (size_t)snprintf(out + o, size - o, "%s", t ? (const char *)t : "NULL");
            if (o >= size - 1)
                o = size - 2;
        }
    }
    out[o] = '\0';
    if (rc != SQLITE_DONE)
        snprintf(out, size, "SQL ERROR %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return out;
}

/* ------------------------------------------------------------------ */
/* A temporary mirror                                                  */
/* ------------------------------------------------------------------ */

struct sink *mirror_sink_open(const char *path, struct rs_error *err)
{
    return sink_open("sqlite", path, err);
}

/* The mirror's file and its WAL side files. */
static void unlink_mirror(const char *path)
{
    char side[600];

    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

int mirror_open(struct mirror *m, const char *name, int strict, int batch_cmds)
{
    struct apply_opts o = { .strict = strict, .batch_max_cmds = batch_cmds,
                            .batch_max_ms = 100000 };

    return mirror_open_opts(m, name, &o);
}

int mirror_open_opts(struct mirror *m, const char *name, const struct apply_opts *opts)
{
    struct rs_error err = { 0 };
    struct repl_pos start = { MIRROR_REPLID, MIRROR_START, 0 };
    struct apply_opts o = *opts;

    memset(m, 0, sizeof(*m));
    snprintf(m->path, sizeof(m->path), "%s", tmp_path(name));
    unlink_mirror(m->path);
    if ((m->sink = mirror_sink_open(m->path, &err)) == NULL) {
        printf("# cannot open the sink: %s\n", err.msg);
        return -1;
    }
    if ((m->a = apply_new(m->sink, &start, &o)) == NULL) {
        printf("# cannot make an applier\n");
        return -1;
    }
    m->rr = resp_reader_new(0, 0);
    return (m->rd = reader_open(m->path)) != NULL ? 0 : -1;
}

void mirror_close(struct mirror *m)
{
    apply_free(m->a);
    resp_reader_free(m->rr);
    sqlite3_close(m->rd);
    sink_close(m->sink);
    tbuf_free(&m->cmd);
}

/* Apply every command the reader holds whole, counting the bytes it
 * skipped and the GETACKs. 0, or -1 when the reader or the applier failed. */
static int apply_ready(struct mirror *m)
{
    struct resp_command c;
    size_t skipped;
    enum rs_status st;

    while ((st = resp_reader_next(m->rr, &c, &skipped)) == RS_OK) {
        apply_skip_bytes(m->a, skipped);
        if (apply_command(m->a, c.argc, c.argv, c.wire_len) != 0)
            return -1;
        if (apply_take_ack_request(m->a)) {
            m->acks++;
            m->ack_offset = apply_committed(m->a)->offset;
        }
    }
    apply_skip_bytes(m->a, skipped);
    return st == RS_ERROR ? -1 : 0;
}

int mirror_feed(struct mirror *m, const char *p, size_t len, size_t chunk)
{
    size_t off = 0;

    while (off < len) {
        size_t n = chunk && len - off > chunk ? chunk : len - off;

        if (resp_reader_feed(m->rr, p + off, n) != 0)
            return -1;
        off += n;
        if (apply_ready(m) != 0)
            return -1;
    }
    return 0;
}

/* "0", or what failed: the applier's error, else the reader's. */
static const char *mirror_error(struct mirror *m)
{
    if (apply_error(m->a)->code)
        return apply_error(m->a)->msg;
    if (resp_reader_error(m->rr)->code)
        return resp_reader_error(m->rr)->msg;
    return "failed";
}

const char *mirror_run(struct mirror *m, struct tbuf *b)
{
    int rc = mirror_feed(m, b->p, b->len, 0);

    b->len = 0;
    if (rc == 0)
        rc = apply_flush(m->a);
    if (rc == 0)
        return "0";
    printf("# applier failed: %s\n", mirror_error(m));
    return mirror_error(m);
}

const char *mirror_applyv(struct mirror *m, int argc, const char *const *args)
{
    cmd_strv(&m->cmd, argc, args);
    return mirror_run(m, &m->cmd);
}

const char *mirror_apply_bytes(struct mirror *m, int argc, const struct rs_bytes *argv)
{
    cmd_bytes(&m->cmd, argc, argv);
    return mirror_run(m, &m->cmd);
}

const char *mirror_apply(struct mirror *m, ...)
{
    va_list ap;

    va_start(ap, m);
    cmd_vstr(&m->cmd, ap);
    va_end(ap);
    return mirror_run(m, &m->cmd);
}

int mirror_test_main(const char *name, int strict, mirror_test *const tests[])
{
    struct mirror m;

    log_set_level(getenv("TEST_VERBOSE") ? RS_LOG_DEBUG : RS_LOG_ERROR);
    if (mirror_open(&m, name, strict, 0) != 0) {
        printf("# skipping: no sink\n1..0\n");
        return 77;
    }
    for (int i = 0; tests[i] != NULL; i++)
        tests[i](&m);
    mirror_close(&m);
    return check_summary();
}

const char *mirror_q(struct mirror *m, const char *sql)
{
    return reader_rows(m->rd, sql, ',', m->out, sizeof(m->out));
}

long long mirror_qi(struct mirror *m, const char *sql)
{
    return atoll(mirror_q(m, sql));
}

const char *mirror_keyinfo(struct mirror *m, const char *key)
{
    char sql[256];

    snprintf(sql, sizeof(sql), "SELECT type || '/' || coalesce(expire_at, '-') FROM redis_keys"
             " WHERE key = '%s' AND db = 0", key);
    return mirror_q(m, sql);
}
