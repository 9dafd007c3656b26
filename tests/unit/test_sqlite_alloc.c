/*
 * test_sqlite_alloc.c - the per-thread block lists SQLite is given
 * (sinks/sqlite/sqlite_alloc.c): every size a block can have, its
 * contents through realloc, blocks that move between threads, threads
 * that end, the bound on what a thread keeps, and SQL run by several
 * threads at once through them.
 *
 * Exit status: 0 pass, 99 fail. One line per check.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "sqlite/sqlite_int.h"

#define MAX_SIZE 3000           /* past the largest class (1024) */

/* What the allocator promises for a request of n bytes (0 < n). */
static int class_size(int n)
{
    if (n <= 256)
        return (n + 15) / 16 * 16;
    if (n <= 1024)
        return (n + 63) / 64 * 64;
    return (n + 7) / 8 * 8;
}

/* 1: this run must have the lists; -1: no telling (a sanitizer build,
 * something preloaded as valgrind does, or the switch set by hand). */
static int must_install(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return -1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return -1;
#endif
#endif
    return getenv("LD_PRELOAD") == NULL && getenv("REDSINK_SQLITE_MALLOC") == NULL ? 1 : -1;
}

/* REDSINK_SQLITE_MALLOC=system keeps malloc: asked in a child, before
 * this process installs anything. */
static void test_switch(void)
{
    pid_t pid = fork();
    int st = 0;

    if (pid == 0) {
        setenv("REDSINK_SQLITE_MALLOC", "system", 1);
        _exit(sqi_alloc_install() == 0 ? 0 : 1);
    }
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "REDSINK_SQLITE_MALLOC=system leaves SQLite with malloc");
}

static void fill(unsigned char *p, int n, unsigned seed)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(seed * 31u + (unsigned)i * 7u);
}

static int intact(const unsigned char *p, int n, unsigned seed)
{
    for (int i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed * 31u + (unsigned)i * 7u))
            return 0;
    return 1;
}

/* Every size from 0 to MAX_SIZE live at once: no two overlap, each is as
 * large as asked (as the class when the allocator is installed). */
static void test_every_size(int installed)
{
    static unsigned char *blk[MAX_SIZE + 1];
    int bad_size = 0, bad_data = 0;

    for (int n = 0; n <= MAX_SIZE; n++) {
        blk[n] = sqlite3_malloc(n);
        if (n > 0 && blk[n] == NULL) {
            CHECK(0, "sqlite3_malloc(%d) returned NULL", n);
            return;
        }
        if (n > 0) {
            int got = sqlite3_msize(blk[n]);

            if (got < n || (installed && got != class_size(n)))
                bad_size++;
            fill(blk[n], n, (unsigned)n);
        }
    }
    for (int n = MAX_SIZE; n > 0; n--)
        if (!intact(blk[n], n, (unsigned)n))
            bad_data++;
    CHECK(bad_size == 0, "sizes 1..%d: %d blocks smaller than asked or not their class's size",
          MAX_SIZE, bad_size);
    CHECK(bad_data == 0, "sizes 1..%d live at once: %d blocks overwritten", MAX_SIZE, bad_data);
    /* free every other one, take them again, and check the rest */
    for (int n = 1; n <= MAX_SIZE; n += 2)
        sqlite3_free(blk[n]);
    for (int n = 1; n <= MAX_SIZE; n += 2) {
        blk[n] = sqlite3_malloc(n);
        fill(blk[n], n, (unsigned)n + 1);
    }
    bad_data = 0;
    for (int n = 1; n <= MAX_SIZE; n++)
        if (!intact(blk[n], n, (unsigned)n + (n & 1)))
            bad_data++;
    CHECK(bad_data == 0, "sizes taken again from the lists: %d blocks overwritten", bad_data);
    for (int n = 0; n <= MAX_SIZE; n++)
        sqlite3_free(blk[n]);
    sqlite3_free(NULL);
    CHECK(sqlite3_msize(NULL) == 0, "the size of NULL is 0");
}

/* A block grown a byte at a time across every class, then shrunk: its
 * contents stay, and a shrink keeps the block. */
static void test_realloc(int installed)
{
    unsigned char *p = NULL;
    int lost = 0;

    for (int n = 1; n <= MAX_SIZE; n++) {
        unsigned char *q = sqlite3_realloc(p, n);

        if (q == NULL) {
            CHECK(0, "sqlite3_realloc to %d returned NULL", n);
            sqlite3_free(p);
            return;
        }
        p = q;
        if (!intact(p, n - 1, 5))
            lost++;
        fill(p, n, 5);
    }
    CHECK(lost == 0, "grown from 1 to %d bytes: contents lost %d times", MAX_SIZE, lost);
    /* back into a small block (a large one shrunk moves), then shrunk in it */
    p = sqlite3_realloc(p, 1000);
    CHECK(p != NULL && intact(p, 1000, 5), "3000 to 1000 bytes keeps the first bytes");
    if (p == NULL)
        return;
    unsigned char *s = sqlite3_realloc(p, 100);

    CHECK(s != NULL && intact(s, 100, 5) && (s == p || !installed),
          "a shrink keeps the first bytes%s", installed ? " and the block" : "");
    sqlite3_free(s);
    p = sqlite3_realloc(NULL, 40);
    CHECK(p != NULL && sqlite3_msize(p) >= 40, "realloc of NULL allocates");
    sqlite3_free(p);
    /* a large block shrunk gives its memory back and keeps its first bytes */
    enum { BIG = 4 << 20 };
    unsigned char *b = sqlite3_malloc(BIG);

    if (b == NULL) {
        CHECK(0, "sqlite3_malloc(%d) returned NULL", BIG);
        return;
    }
    fill(b, BIG, 7);
    b = sqlite3_realloc(b, 3 * BIG / 4);               /* under half: kept */
    CHECK(b != NULL && intact(b, 3 * BIG / 4, 7), "4 MiB to 3 MiB keeps the bytes");
    b = sqlite3_realloc(b, 5000);
    CHECK(b != NULL && intact(b, 5000, 7) && (!installed || sqlite3_msize(b) == 5000),
          "3 MiB to 5,000 bytes keeps them in a block of its size (%d)",
          b ? (int)sqlite3_msize(b) : -1);
    b = sqlite3_realloc(b, 100);
    CHECK(b != NULL && intact(b, 100, 7) && (!installed || sqlite3_msize(b) == 112),
          "5,000 to 100 bytes: a 112-byte block (%d)", b ? (int)sqlite3_msize(b) : -1);
    b = sqlite3_realloc(b, 3000);
    CHECK(b != NULL && intact(b, 100, 7) && (!installed || sqlite3_msize(b) == 3000),
          "100 to 3,000 bytes: a large block again (%d)", b ? (int)sqlite3_msize(b) : -1);
    sqlite3_free(b);
}

/* glibc's bytes in use: what a thread's lists hold shows there. */
static long in_use(void)
{
    return (long)mallinfo2().uordblks;
}

/* Many blocks of one size taken and given back: the thread keeps a few,
 * the rest go back to malloc. */
static void test_bounded(void)
{
    enum { N = 10000, SZ = 100 };
    static void *p[N];
    long before = in_use(), held, after;

    for (int i = 0; i < N; i++)
        p[i] = sqlite3_malloc(SZ);
    held = in_use() - before;
    for (int i = 0; i < N; i++)
        sqlite3_free(p[i]);
    after = in_use() - before;
    CHECK(held >= (long)N * SZ, "%d blocks of %d bytes hold %ld bytes", N, SZ, held);
    CHECK(after < 16 * 1024, "after they are freed, %ld bytes stay held (at most 32 blocks kept)",
          after);
}

struct hand {
    void *blk[2000];
    int n;
};

static void *take_blocks(void *arg)
{
    struct hand *h = arg;

    for (int i = 0; i < h->n; i++) {
        h->blk[i] = sqlite3_malloc(1 + i % 1100);
        fill(h->blk[i], 1 + i % 1100, (unsigned)i);
    }
    return NULL;
}

static void *give_back_blocks(void *arg)
{
    struct hand *h = arg;
    int bad = 0;

    for (int i = 0; i < h->n; i++) {
        if (!intact(h->blk[i], 1 + i % 1100, (unsigned)i))
            bad++;
        sqlite3_free(h->blk[i]);
    }
    /* the freeing thread's lists now serve its own requests */
    for (int i = 0; i < h->n; i++) {
        void *q = sqlite3_malloc(1 + i % 1100);

        fill(q, 1 + i % 1100, 9);
        if (!intact(q, 1 + i % 1100, 9))
            bad++;
        sqlite3_free(q);
    }
    h->n = bad;
    return NULL;
}

/* Blocks taken by one thread, freed by another, which then ends: its
 * lists go back to malloc. */
static void test_threads_hand_over(void)
{
    static struct hand h;
    pthread_t t;
    long before = in_use();

    h.n = 2000;
    CHECK(pthread_create(&t, NULL, take_blocks, &h) == 0 && pthread_join(t, NULL) == 0,
          "a thread takes 2000 blocks of 1 to 1100 bytes");
    CHECK(pthread_create(&t, NULL, give_back_blocks, &h) == 0 && pthread_join(t, NULL) == 0,
          "another thread frees them and takes blocks of its own");
    CHECK(h.n == 0, "blocks handed between threads: %d overwritten", h.n);
    CHECK(in_use() - before < 16 * 1024,
          "both threads ended: %ld bytes still held (their lists went back to malloc)",
          in_use() - before);
}

struct sql_job {
    int seed;
    int bad;
};

/* A connection per thread, each row a value of its own size from 0 to
 * 2,000 bytes, read back by SQL that allocates (hex, substr, ||). */
static void *sql_worker(void *arg)
{
    struct sql_job *j = arg;
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL, *sel = NULL;
    unsigned char buf[2048];

    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)", NULL, NULL, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, ?2)", -1, &ins, NULL) ||
        sqlite3_prepare_v2(db, "SELECT v || x'00' || v, length(hex(v)), substr(v, 2) FROM t "
                           "WHERE id = ?1", -1, &sel, NULL)) {
        j->bad = -1;
        goto out;
    }
    for (int i = 0; i < 3000; i++) {
        int n = (i * 37 + j->seed * 101) % 2001;

        fill(buf, n, (unsigned)(i + j->seed));
        sqlite3_bind_int(ins, 1, i);
        sqlite3_bind_blob(ins, 2, buf, n, SQLITE_TRANSIENT);
        if (sqlite3_step(ins) != SQLITE_DONE)
            j->bad++;
        sqlite3_reset(ins);
        sqlite3_bind_int(sel, 1, i);
        if (sqlite3_step(sel) != SQLITE_ROW) {
            j->bad++;
        } else {
            const unsigned char *c = sqlite3_column_blob(sel, 0);
            int len = sqlite3_column_bytes(sel, 0);

            if (len != 2 * n + 1 || (n > 0 && (!intact(c, n, (unsigned)(i + j->seed)) ||
                                                !intact(c + n + 1, n, (unsigned)(i + j->seed)))) ||
                c[n] != 0 || sqlite3_column_int(sel, 1) != 2 * n ||
                sqlite3_column_bytes(sel, 2) != (n > 0 ? n - 1 : 0))
                j->bad++;
        }
        sqlite3_reset(sel);
    }
out:
    sqlite3_finalize(ins);
    sqlite3_finalize(sel);
    sqlite3_close(db);
    return NULL;
}

static void test_sql_threads(void)
{
    enum { T = 4 };
    pthread_t t[T];
    struct sql_job j[T];
    int bad = 0;

    for (int i = 0; i < T; i++) {
        j[i].seed = i;
        j[i].bad = 0;
        if (pthread_create(&t[i], NULL, sql_worker, &j[i]) != 0)
            j[i].bad = -1;
    }
    for (int i = 0; i < T; i++) {
        if (j[i].bad != -1)
            pthread_join(t[i], NULL);
        bad += j[i].bad != 0;
    }
    CHECK(bad == 0, "%d threads at once, 3000 rows of 0 to 2000 bytes each written and read "
          "back through SQL: %d threads saw a wrong row", T, bad);
}

int main(void)
{
    int installed, want;

    setvbuf(stdout, NULL, _IOLBF, 0);
    test_switch();
    /* opening a mirror installs them, before SQLite starts */
    struct rs_error err = { 0, "" };
    struct sink *sk = mirror_sink_open(tmp_path("alloc.db"), &err);

    CHECK(sk != NULL, "open a mirror%s%s", sk ? "" : ": ", sk ? "" : err.msg);
    sink_close(sk);
    installed = sqi_alloc_install();
    want = must_install();
    if (installed) {
        void *p = sqlite3_malloc(17);

        CHECK(sqlite3_msize(p) == 32, "after the mirror opened, SQLite's blocks are ours: "
              "17 bytes take the 32-byte class (%d)", (int)sqlite3_msize(p));
        sqlite3_free(p);
    }
    CHECK(want == -1 || installed == 1, "per-thread lists %s%s",
          installed ? "installed" : "not installed",
          want == -1 ? " (sanitizer, preload or REDSINK_SQLITE_MALLOC: either is right)" : "");
    CHECK(sqi_alloc_install() == installed, "installing twice answers the same");
    if (sqlite3_initialize() != SQLITE_OK) {
        CHECK(0, "sqlite3_initialize");
        return check_summary();
    }
    test_every_size(installed);
    test_realloc(installed);
    if (installed) {
        test_bounded();
        test_threads_hand_over();
    }
    test_sql_threads();
    return check_summary();
}
