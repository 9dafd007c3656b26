/*
 * filter.c - database and key-name filters (see filter.h).
 *
 * The matcher follows Redis' util.c stringmatchlen() step by step, so a
 * pattern means here what it means to KEYS on the master: consecutive
 * '*' collapse, a '[' class without its ']' ends at the pattern's end, a
 * reversed range [z-a] is swapped, '\' quotes the next byte (also inside
 * a class), and a '*' that failed at every position stops the outer '*'s
 * from retrying (Redis' skipLongerMatches), which keeps the work
 * polynomial. Bytes compare unsigned (Redis compares ranges as plain
 * char); patterns and keys are binary-safe.
 */
#include <stdlib.h>
#include <string.h>

#include "filter.h"

#define MAX_NESTING 1000      /* Redis' limit on nested '*' */

struct pattern {
    char *ptr;
    size_t len;
};

struct key_filter {
    int *dbs;
    int n_dbs;                /* 0: every db */
    struct pattern *inc, *exc;
    int n_inc, n_exc;         /* n_inc 0: every key */
};

static int match_impl(const unsigned char *p, size_t plen, const unsigned char *s, size_t slen,
                      int *skip_longer, int nesting)
{
    if (nesting > MAX_NESTING)
        return 0;
    while (plen && slen) {
        switch (p[0]) {
        case '*':
            while (plen > 1 && p[1] == '*') {
                p++;
                plen--;
            }
            if (plen == 1)
                return 1;
            while (slen) {
                if (match_impl(p + 1, plen - 1, s, slen, skip_longer, nesting + 1))
                    return 1;
                if (*skip_longer)
                    return 0;
                s++;
                slen--;
            }
            *skip_longer = 1;
            return 0;
        case '?':
            s++;
            slen--;
            break;
        case '[': {
            int neg, hit = 0;

            p++;
            plen--;
            neg = plen > 0 && p[0] == '^';
            if (neg) {
                p++;
                plen--;
            }
            for (;;) {
                if (plen >= 2 && p[0] == '\\') {
                    p++;
                    plen--;
                    if (p[0] == s[0])
                        hit = 1;
                } else if (plen == 0) {
                    /* no ']': the class ends with the pattern */
                    p--;
                    plen++;
                    break;
                } else if (p[0] == ']') {
                    break;
                } else if (plen >= 3 && p[1] == '-') {
                    unsigned char lo = p[0], hi = p[2];

                    if (lo > hi) {
                        unsigned char t = lo;

                        lo = hi;
                        hi = t;
                    }
                    p += 2;
                    plen -= 2;
                    if (s[0] >= lo && s[0] <= hi)
                        hit = 1;
                } else if (p[0] == s[0]) {
                    hit = 1;
                }
                p++;
                plen--;
            }
            if (neg)
                hit = !hit;
            if (!hit)
                return 0;
            s++;
            slen--;
            break;
        }
        case '\\':
            if (plen >= 2) {
                p++;
                plen--;
            }
            /* fall through */
        default:
            if (p[0] != s[0])
                return 0;
            s++;
            slen--;
            break;
        }
        p++;
        plen--;
        if (slen == 0) {
            while (plen && p[0] == '*') {
                p++;
                plen--;
            }
            break;
        }
    }
    return plen == 0 && slen == 0;
}

int filter_match(const char *pat, size_t plen, const char *str, size_t slen)
{
    int skip_longer = 0;

    return match_impl((const unsigned char *)pat, plen, (const unsigned char *)str, slen,
                      &skip_longer, 0);
}

static int copy_patterns(struct pattern **out, char *const *src, int n)
{
    if (n <= 0)
        return 0;
    if ((*out = calloc((size_t)n, sizeof(**out))) == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(src[i]);

        if (((*out)[i].ptr = malloc(len + 1)) == NULL)
            return -1;
        memcpy((*out)[i].ptr, src[i], len + 1);
        (*out)[i].len = len;
    }
    return 0;
}

struct key_filter *filter_new(const int *dbs, int n_dbs, char *const *include, int n_inc,
                              char *const *exclude, int n_exc, struct rs_error *err)
{
    struct key_filter *f = calloc(1, sizeof(*f));

    if (f == NULL)
        goto oom;
    for (int i = 0; i < n_dbs; i++) {
        if (dbs[i] < 0) {
            rs_fail(err, RS_E_CONFIG, "filter: bad database %d (expected 0 or more)", dbs[i]);
            filter_free(f);
            return NULL;
        }
    }
    if (n_dbs > 0) {
        if ((f->dbs = malloc((size_t)n_dbs * sizeof(*f->dbs))) == NULL)
            goto oom;
        memcpy(f->dbs, dbs, (size_t)n_dbs * sizeof(*f->dbs));
        f->n_dbs = n_dbs;
    }
    /* counts are set first so that filter_free releases partial copies */
    f->n_inc = n_inc > 0 ? n_inc : 0;
    f->n_exc = n_exc > 0 ? n_exc : 0;
    if (copy_patterns(&f->inc, include, n_inc) != 0 ||
        copy_patterns(&f->exc, exclude, n_exc) != 0)
        goto oom;
    return f;
oom:
    filter_free(f);
    rs_fail(err, RS_E_NOMEM, "out of memory");
    return NULL;
}

void filter_free(struct key_filter *f)
{
    if (f == NULL)
        return;
    for (int i = 0; f->inc && i < f->n_inc; i++)
        free(f->inc[i].ptr);
    for (int i = 0; f->exc && i < f->n_exc; i++)
        free(f->exc[i].ptr);
    free(f->inc);
    free(f->exc);
    free(f->dbs);
    free(f);
}

int filter_keep_db(const struct key_filter *f, int db)
{
    if (f == NULL || f->n_dbs == 0)
        return 1;
    for (int i = 0; i < f->n_dbs; i++)
        if (f->dbs[i] == db)
            return 1;
    return 0;
}

int filter_keep(const struct key_filter *f, int db, const char *key, size_t len)
{
    int in;

    if (f == NULL)
        return 1;
    if (!filter_keep_db(f, db))
        return 0;
    in = f->n_inc == 0;
    for (int i = 0; !in && i < f->n_inc; i++)
        in = filter_match(f->inc[i].ptr, f->inc[i].len, key, len);
    if (!in)
        return 0;
    for (int i = 0; i < f->n_exc; i++)
        if (filter_match(f->exc[i].ptr, f->exc[i].len, key, len))
            return 0;
    return 1;
}
