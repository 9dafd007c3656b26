/*
 * sqlite_alloc.c - the memory SQLite allocates, given to it through
 * SQLITE_CONFIG_MALLOC: small blocks are kept on a short free list per
 * thread instead of going back to malloc.
 *
 * Debian's SQLite is built without lookaside memory (OMIT_LOOKASIDE), so
 * every statement step mallocs its cursors and the buffers of its
 * registers and frees them when it halts: about 5.6 malloc/free pairs per
 * statement, 7% of an INCR stream's instructions in glibc alone
 * (bench/replay under callgrind). A block of a given size class taken
 * from the calling thread's own list needs no lock and no arena.
 *
 * Each block carries its size class in an 8-byte header, which SQLite's
 * xSize needs; blocks above SA_MAX_SMALL go to malloc as they are. A
 * thread keeps at most SA_KEEP blocks of a class (about 0.3 MiB in all)
 * and gives the rest back, so the lists cannot grow with the data; a
 * block freed by another thread than the one that took it joins the
 * freeing thread's list. The lists of a thread that ends go back to
 * malloc.
 *
 * Not used under AddressSanitizer or valgrind (which must see every
 * block to catch a use after free) nor when REDSINK_SQLITE_MALLOC=system.
 */
#include "sqlite_int.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define SA_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SA_SANITIZED 1
#endif
#endif

#define SA_HEAD 8                 /* the size class, before the block */
#define SA_STEP_SMALL 16          /* classes 16, 32, ... 256 */
#define SA_LIMIT_SMALL 256
#define SA_STEP_MID 64            /* then 320, 384, ... 1024 */
#define SA_MAX_SMALL 1024
#define SA_NCLASS (SA_LIMIT_SMALL / SA_STEP_SMALL + (SA_MAX_SMALL - SA_LIMIT_SMALL) / SA_STEP_MID)
#define SA_KEEP 32

struct sa_free {
    struct sa_free *next;
};

struct sa_lists {
    struct sa_free *head[SA_NCLASS];
    unsigned short count[SA_NCLASS];
    int registered;               /* the thread's destructor is set */
};

static __thread struct sa_lists sa_tls;
static pthread_key_t sa_key;
static int sa_key_ok;

static unsigned sa_class(int n)
{
    if (n <= SA_LIMIT_SMALL)
        return n <= SA_STEP_SMALL ? 0 : (unsigned)(n - 1) / SA_STEP_SMALL;
    return SA_LIMIT_SMALL / SA_STEP_SMALL + (unsigned)(n - SA_LIMIT_SMALL - 1) / SA_STEP_MID;
}

static int sa_class_size(unsigned c)
{
    if (c < SA_LIMIT_SMALL / SA_STEP_SMALL)
        return (int)(c + 1) * SA_STEP_SMALL;
    return SA_LIMIT_SMALL + (int)(c + 1 - SA_LIMIT_SMALL / SA_STEP_SMALL) * SA_STEP_MID;
}

static int64_t *sa_head_of(void *p)
{
    return (int64_t *)((char *)p - SA_HEAD);
}

/* A thread ends: its lists go back to malloc. */
static void sa_thread_end(void *arg)
{
    struct sa_lists *l = arg;

    for (unsigned c = 0; c < SA_NCLASS; c++) {
        while (l->head[c] != NULL) {
            struct sa_free *f = l->head[c];

            l->head[c] = f->next;
            free(sa_head_of(f));
        }
        l->count[c] = 0;
    }
}

static void *sa_malloc(int n)
{
    int64_t *h;
    int size;

    if (n < 0)
        return NULL;
    if (n <= SA_MAX_SMALL) {
        unsigned c = sa_class(n);
        struct sa_lists *l = &sa_tls;

        if (l->head[c] != NULL) {
            struct sa_free *f = l->head[c];

            l->head[c] = f->next;
            l->count[c]--;
            return f;
        }
        size = sa_class_size(c);
    } else {
        size = (n + 7) & ~7;
    }
    if ((h = malloc((size_t)size + SA_HEAD)) == NULL)
        return NULL;
    *h = size;
    return (char *)h + SA_HEAD;
}

static void sa_free(void *p)
{
    int64_t *h;

    if (p == NULL)
        return;
    h = sa_head_of(p);
    if (*h <= SA_MAX_SMALL) {
        unsigned c = sa_class((int)*h);
        struct sa_lists *l = &sa_tls;

        if (l->count[c] < SA_KEEP) {
            struct sa_free *f = p;

            if (!l->registered && sa_key_ok) {
                /* a thread's first keep: have its lists freed when it ends */
                pthread_setspecific(sa_key, l);
                l->registered = 1;
            }
            f->next = l->head[c];
            l->head[c] = f;
            l->count[c]++;
            return;
        }
    }
    free(h);
}

static int sa_size(void *p)
{
    return p == NULL ? 0 : (int)*sa_head_of(p);
}

static void *sa_realloc(void *p, int n)
{
    int64_t *h;
    void *q;
    int old;

    if (p == NULL)
        return sa_malloc(n);
    if (n < 0)
        return NULL;
    old = sa_size(p);
    if (n <= old && (old <= SA_MAX_SMALL || n > old / 2))
        return p;                  /* a large block halved or more gives memory back */
    if (old > SA_MAX_SMALL && n > SA_MAX_SMALL) {
        int size = (n + 7) & ~7;

        if ((h = realloc(sa_head_of(p), (size_t)size + SA_HEAD)) == NULL)
            return NULL;
        *h = size;
        return (char *)h + SA_HEAD;
    }
    /* into a block of another kind: a small one, or a large one from a small */
    if ((q = sa_malloc(n)) == NULL)
        return NULL;
    memcpy(q, p, (size_t)(n < old ? n : old));
    sa_free(p);
    return q;
}

static int sa_roundup(int n)
{
    if (n <= SA_MAX_SMALL)
        return sa_class_size(sa_class(n));
    return (n + 7) & ~7;
}

static int sa_init(void *ud)
{
    (void)ud;
    return SQLITE_OK;
}

static void sa_shutdown(void *ud)
{
    (void)ud;
}

static int sa_wanted(void)
{
#ifdef SA_SANITIZED
    return 0;
#else
    const char *env = getenv("REDSINK_SQLITE_MALLOC");
    const char *pre = getenv("LD_PRELOAD");

    if (env != NULL && strcmp(env, "system") == 0)
        return 0;
    /* valgrind's memcheck preloads vgpreload_memcheck-*.so */
    return pre == NULL || strstr(pre, "vgpreload_memcheck") == NULL;
#endif
}

static int sa_installed;

static void sa_install_once(void)
{
    static const sqlite3_mem_methods methods = {
        sa_malloc, sa_free, sa_realloc, sa_size, sa_roundup, sa_init, sa_shutdown, NULL
    };

    if (!sa_wanted())
        return;
    sa_key_ok = pthread_key_create(&sa_key, sa_thread_end) == 0;
    /* only before SQLite is initialised: otherwise it keeps malloc */
    sa_installed = sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) == SQLITE_OK;
}

int sqi_alloc_install(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, sa_install_once);
    return sa_installed;
}
