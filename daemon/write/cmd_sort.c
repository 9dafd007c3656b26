/*
 * cmd_sort.c - SORT key ... STORE dst, as Redis' sortCommandGeneric runs
 * it (redis 7.x src/sort.c). A master propagates SORT verbatim, so the
 * replica sorts again and must reach the same list.
 *
 * What decides the result: the elements of the list, set or sorted set;
 * numeric weights read like strtod (an unparsable one fails the whole
 * command), ties broken by the elements' bytes; ALPHA compares bytes
 * (memcmp, then length: Redis uses binary comparison when storing);
 * BY pattern replaces '*' by the element and reads a string key, or a
 * hash field after "->"; a BY pattern without '*' means "do not sort",
 * except for a set, which is then sorted ALPHA so that master and replica
 * agree; LIMIT, DESC; GET patterns ("#" is the element itself, a missing
 * value is the empty string). The result replaces dst as a list without
 * TTL; an empty result deletes dst.
 *
 * Ties that Redis leaves to its sort algorithm (equal BY weights under
 * ALPHA) are kept in input order, as glibc's merge-sort qsort does.
 * Everything is read before anything is written, so GET/BY patterns and
 * a source equal to dst see the old values.
 *
 * Start reading at cmd_sort_apply().
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_sort.h"
#include "log.h"

/* One element to sort: its bytes, and the weight it is sorted by. */
struct sort_item {
    struct rs_bytes obj;           /* owned copy (ptr may be NULL when empty) */
    double score;                  /* numeric weight */
    struct rs_bytes cmp;           /* ALPHA + BY: the weight's bytes, owned */
    int has_cmp;                   /* ... 0 when the BY lookup found nothing */
};

/* A growing array of owned byte strings or items. */
struct sort_vec {
    struct sort_item *v;
    size_t n, cap;
    int oom;
};

/* The parsed command. */
struct sort_opts {
    int desc, alpha, dontsort;
    long long limit_start, limit_count;
    const struct rs_bytes *by;     /* NULL: none */
    const struct rs_bytes *store;  /* NULL: no STORE (then nothing to do) */
    const struct rs_bytes **gets;  /* GET patterns, in order */
    int ngets;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static int bytes_dup(struct rs_bytes *dst, const struct rs_bytes *src)
{
    char *p = malloc(src->len ? src->len : 1);

    if (p == NULL)
        return -1;
    if (src->len)
        memcpy(p, src->ptr, src->len);
    dst->ptr = p;
    dst->len = src->len;
    return 0;
}

static void bytes_free(struct rs_bytes *b)
{
    free((char *)b->ptr);
    b->ptr = NULL;
    b->len = 0;
}

/* Redis' compareStringObjects in binary mode: memcmp, then length. */
static int bytes_cmp(const struct rs_bytes *x, const struct rs_bytes *y)
{
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->ptr, y->ptr, n) : 0;

    if (c != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static void vec_push(struct sort_vec *v, const struct rs_bytes *b)
{
    if (v->oom)
        return;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        struct sort_item *nv = realloc(v->v, cap * sizeof(*nv));

        if (nv == NULL) {
            v->oom = 1;
            return;
        }
        v->v = nv;
        v->cap = cap;
    }
    memset(&v->v[v->n], 0, sizeof(v->v[v->n]));
    if (bytes_dup(&v->v[v->n].obj, b) != 0) {
        v->oom = 1;
        return;
    }
    v->n++;
}

static void vec_free(struct sort_vec *v)
{
    for (size_t i = 0; i < v->n; i++) {
        bytes_free(&v->v[i].obj);
        bytes_free(&v->v[i].cmp);
    }
    free(v->v);
    memset(v, 0, sizeof(*v));
}

static void list_cb(void *ud, int64_t index, const struct rs_bytes *v)
{
    (void)index;
    vec_push(ud, v);
}

static void set_cb(void *ud, const struct rs_bytes *m)
{
    vec_push(ud, m);
}

static void zset_cb(void *ud, const struct rs_bytes *m, double score)
{
    (void)score;
    vec_push(ud, m);
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

/* Does the C string Redis sees (up to the first NUL) contain 'c'? */
static const char *cstr_chr(const struct rs_bytes *b, char c)
{
    return memchr(b->ptr, c, strnlen(b->ptr, b->len));
}

/* Redis' option loop. 0, or -1 after logging (syntax error). */
static int sort_parse(struct applier *a, int argc, const struct rs_bytes *argv,
                      struct sort_opts *o)
{
    for (int j = 2; j < argc; j++) {
        int left = argc - j - 1;

        if (ap_arg_is(&argv[j], "asc")) {
            o->desc = 0;
        } else if (ap_arg_is(&argv[j], "desc")) {
            o->desc = 1;
        } else if (ap_arg_is(&argv[j], "alpha")) {
            o->alpha = 1;
        } else if (ap_arg_is(&argv[j], "limit") && left >= 2) {
            if (ap_parse_ll(a, &argv[j + 1], &o->limit_start) != 0 ||
                ap_parse_ll(a, &argv[j + 2], &o->limit_count) != 0)
                return ap_refuse(a, argv, "value is not an integer or out of range");
            j += 2;
        } else if (ap_arg_is(&argv[j], "store") && left >= 1) {
            o->store = &argv[++j];
        } else if (ap_arg_is(&argv[j], "by") && left >= 1) {
            o->by = &argv[++j];
            if (cstr_chr(o->by, '*') == NULL)
                o->dontsort = 1;           /* sticky, as in Redis */
        } else if (ap_arg_is(&argv[j], "get") && left >= 1) {
            o->gets[o->ngets++] = &argv[++j];
        } else {
            return ap_refuse(a, argv, "syntax error");
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* BY / GET patterns (Redis' lookupKeyByPattern)                       */
/* ------------------------------------------------------------------ */

struct fetch {
    struct rs_bytes val;           /* owned copy */
    int found, oom;
};

static void fetch_take(struct fetch *f, const struct rs_bytes *v)
{
    if (bytes_dup(&f->val, v) != 0)
        f->oom = 1;
    else
        f->found = 1;
}

static void fetch_string_cb(void *ud, const struct rs_bytes *v)
{
    fetch_take(ud, v);
}

static void fetch_hash_cb(void *ud, const struct rs_bytes *v, int64_t expire_ms)
{
    (void)expire_ms;               /* the master's client sees expired fields */
    fetch_take(ud, v);
}

/*
 * The value 'pat' names for element 'subst' into f (f->found = 0 when
 * there is none: no '*', no such key, wrong type, no such field). As in
 * Redis, '*', "->" and the "#" test stop at a NUL byte, lengths do not.
 * 0, or -1 when the sink failed or memory ran out (a->err set).
 */
static int sort_lookup(struct applier *a, const struct rs_bytes *pat,
                       const struct rs_bytes *subst, struct fetch *f)
{
    size_t clen = strnlen(pat->ptr, pat->len), prefix, postfix, fieldlen = 0;
    const char *star, *arrow = NULL;
    struct rs_bytes keyname, field = { "", 0 };
    struct sink_key sk;
    char *kbuf;
    int rc;

    memset(f, 0, sizeof(*f));
    if (pat->len >= 1 && pat->ptr[0] == '#' && (pat->len == 1 || pat->ptr[1] == '\0')) {
        fetch_take(f, subst);
        return f->oom ? rs_fail(&a->err, RS_E_NOMEM, "out of memory in SORT") : 0;
    }
    if ((star = cstr_chr(pat, '*')) == NULL)
        return 0;
    for (const char *q = star + 1; q + 1 < pat->ptr + clen; q++)
        if (q[0] == '-' && q[1] == '>') {
            arrow = q;
            break;
        }
    if (arrow && arrow + 2 < pat->ptr + clen) {
        fieldlen = pat->len - (size_t)(arrow - pat->ptr) - 2;
        field = (struct rs_bytes){ arrow + 2, fieldlen };
    }
    prefix = (size_t)(star - pat->ptr);
    postfix = pat->len - (prefix + 1) - (fieldlen ? fieldlen + 2 : 0);
    if ((kbuf = malloc(prefix + subst->len + postfix + 1)) == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory in SORT");
    memcpy(kbuf, pat->ptr, prefix);
    if (subst->len)
        memcpy(kbuf + prefix, subst->ptr, subst->len);
    memcpy(kbuf + prefix + subst->len, star + 1, postfix);
    keyname = (struct rs_bytes){ kbuf, prefix + subst->len + postfix };
    rc = ap_find_key(a, &keyname, &sk);
    free(kbuf);
    if (rc != 0)
        return -1;
    if (fieldlen && sk.type == RS_T_HASH)
        rc = a->sink->ops->hash_get(a->sink, sk.id, &field, fetch_hash_cb, f, &(int){ 0 });
    else if (!fieldlen && sk.type == RS_T_STRING)
        rc = a->sink->ops->string_get(a->sink, sk.id, fetch_string_cb, f);
    if (rc != 0)
        return -1;
    return f->oom ? rs_fail(&a->err, RS_E_NOMEM, "out of memory in SORT") : 0;
}

/* ------------------------------------------------------------------ */
/* Sorting                                                             */
/* ------------------------------------------------------------------ */

/* Redis' sortCompare for a SORT with STORE. */
static int sort_cmp(const struct sort_opts *o, const struct sort_item *x,
                    const struct sort_item *y)
{
    int cmp;

    if (!o->alpha) {
        if (x->score > y->score)
            cmp = 1;
        else if (x->score < y->score)
            cmp = -1;
        else
            cmp = bytes_cmp(&x->obj, &y->obj);  /* deterministic ties */
    } else if (o->by) {
        if (!x->has_cmp || !y->has_cmp)
            cmp = x->has_cmp == y->has_cmp ? 0 : (!x->has_cmp ? -1 : 1);
        else
            cmp = bytes_cmp(&x->cmp, &y->cmp);
    } else {
        cmp = bytes_cmp(&x->obj, &y->obj);
    }
    return o->desc ? -cmp : cmp;
}

/* Stable merge sort of v[0..n) using tmp[0..n). */
static void merge_sort(const struct sort_opts *o, struct sort_item *v, struct sort_item *tmp,
                       size_t n)
{
    size_t mid = n / 2, i = 0, j = mid, k = 0;

    if (n < 2)
        return;
    merge_sort(o, v, tmp, mid);
    merge_sort(o, v + mid, tmp, n - mid);
    while (i < mid && j < n)
        tmp[k++] = sort_cmp(o, &v[i], &v[j]) <= 0 ? v[i++] : v[j++];
    while (i < mid)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof(*v));
}

/* A weight as Redis reads it: strtod on the C string (leading spaces and
 * hex allowed), nothing after it, no overflow or underflow, no NaN. */
static int parse_weight(const struct rs_bytes *b, double *out)
{
    char small[64], *buf = small, *end;
    int rc = 0;

    if (b->len >= sizeof(small) && (buf = malloc(b->len + 1)) == NULL)
        return -2;
    if (b->len)
        memcpy(buf, b->ptr, b->len);
    buf[b->len] = '\0';
    errno = 0;
    *out = strtod(buf, &end);
    if (*end != '\0' || errno == ERANGE || isnan(*out))
        rc = -1;
    if (buf != small)
        free(buf);
    return rc;
}

/* Weights of every element (BY or the element itself), then the sort.
 * 0; 1 when a weight is not a number (Redis fails the command); -1 when
 * the sink failed. */
static int sort_items(struct applier *a, const struct sort_opts *o, struct sort_vec *v)
{
    struct sort_item *tmp;
    int bad = 0;

    for (size_t i = 0; i < v->n; i++) {
        struct sort_item *it = &v->v[i];
        struct fetch f = { 0 };
        const struct rs_bytes *w = &it->obj;
        int r;

        if (o->by) {
            if (sort_lookup(a, o->by, &it->obj, &f) != 0)
                return -1;
            if (!f.found)
                continue;                  /* weight 0, or "none" for ALPHA */
            w = &f.val;
        }
        if (o->alpha) {
            if (o->by) {
                it->cmp = f.val;           /* takes the copy */
                it->has_cmp = 1;
            }
            continue;
        }
        r = parse_weight(w, &it->score);
        if (o->by)
            bytes_free(&f.val);
        if (r == -2)
            return rs_fail(&a->err, RS_E_NOMEM, "out of memory in SORT");
        bad |= r != 0;
    }
    if (v->n < 2)
        return bad;
    if ((tmp = malloc(v->n * sizeof(*tmp))) == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory in SORT");
    merge_sort(o, v->v, tmp, v->n);
    free(tmp);
    return bad;
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

/* Read the elements of 'src' in their native order into v. */
static int sort_load(struct applier *a, const struct sink_key *src, struct sort_vec *v)
{
    const struct sink_ops *ops = a->sink->ops;
    int rc = 0;

    if (src->type == RS_T_LIST)
        rc = ops->list_range(a->sink, src->id, 0, INT64_MAX, list_cb, v);
    else if (src->type == RS_T_SET)
        rc = ops->set_scan(a->sink, src->id, set_cb, v);
    else if (src->type == RS_T_ZSET)
        rc = ops->zset_scan(a->sink, src->id, 0, zset_cb, v);
    if (rc != 0)
        return -1;
    return v->oom ? rs_fail(&a->err, RS_E_NOMEM, "out of memory in SORT") : 0;
}

/* Build the stored list from v[start..end] (GET patterns applied). */
static int sort_output(struct applier *a, const struct sort_opts *o, const struct sort_vec *v,
                       long long start, long long end, struct sort_vec *out)
{
    for (long long j = start; j <= end; j++) {
        const struct rs_bytes *elem = &v->v[j].obj;

        if (o->ngets == 0) {
            vec_push(out, elem);
            continue;
        }
        for (int g = 0; g < o->ngets; g++) {
            struct fetch f;

            if (sort_lookup(a, o->gets[g], elem, &f) != 0)
                return -1;
            vec_push(out, f.found ? &f.val : &(struct rs_bytes){ "", 0 });
            bytes_free(&f.val);
        }
    }
    return out->oom ? rs_fail(&a->err, RS_E_NOMEM, "out of memory in SORT") : 0;
}

/* setKey(dst, list) without TTL, or delete dst for an empty result. */
static int sort_store(struct applier *a, const struct rs_bytes *dst, const struct sort_vec *out)
{
    const struct sink_ops *ops = a->sink->ops;
    struct sink_key sk;
    int64_t id;

    if (ap_find_key(a, dst, &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && ops->key_delete(a->sink, sk.id) != 0)
        return -1;
    if (out->n == 0)
        return 0;
    if (ops->key_create(a->sink, a->db, dst, RS_T_LIST, RS_NO_EXPIRE, NULL, &id) != 0)
        return -1;
    for (size_t i = 0; i < out->n; i++)
        if (ops->list_push(a->sink, id, 0, &out->v[i].obj) != 0)
            return -1;
    return 0;
}

/* Reverse v in place (DESC without sorting keeps the native order). */
static void vec_reverse(struct sort_vec *v)
{
    for (size_t i = 0, j = v->n; i + 1 < j; i++, j--) {
        struct sort_item t = v->v[i];

        v->v[i] = v->v[j - 1];
        v->v[j - 1] = t;
    }
}

/* Redis' LIMIT sanity checks, on the vector length n. */
static void sort_range(const struct sort_opts *o, long long n, long long *start, long long *end)
{
    *start = o->limit_start < 0 ? 0 : o->limit_start;
    *end = o->limit_count < 0 ? n - 1
                              : (long long)((unsigned long long)*start +
                                            (unsigned long long)o->limit_count - 1);
    if (*start >= n) {
        *start = n - 1;
        *end = n - 2;
    }
    if (*end >= n)
        *end = n - 1;
}

static int sort_run(struct applier *a, const struct rs_bytes *argv, struct sort_opts *o,
                    struct sort_vec *v, struct sort_vec *out)
{
    struct sink_key src;
    long long start, end;
    int r;

    if (ap_find_key(a, &argv[1], &src) != 0)
        return -1;
    if (src.type != RS_T_NONE && src.type != RS_T_LIST && src.type != RS_T_SET &&
        src.type != RS_T_ZSET)
        return ap_wrongtype(a, argv);
    if (o->dontsort && (src.type == RS_T_SET ||
                        (src.type == RS_T_LIST && ap_master_before(a, 20819)))) {
        /* a set has no order of its own: Redis sorts it for determinism
         * (before 2.8.19, every type but a sorted set: sortCommand, sort.c) */
        o->dontsort = 0;
        o->alpha = 1;
        o->by = NULL;
    }
    if (src.type != RS_T_NONE && sort_load(a, &src, v) != 0)
        return -1;
    if (o->dontsort) {
        if (o->desc)
            vec_reverse(v);
    } else if ((r = sort_items(a, o, v)) != 0) {
        return r < 0 ? -1 : ap_reject(a, argv, "One or more scores can't be converted into double");
    }
    sort_range(o, (long long)v->n, &start, &end);
    if (sort_output(a, o, v, start, end, out) != 0)
        return -1;
    return sort_store(a, o->store, out);
}

int cmd_sort_apply(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sort_opts o = { .limit_count = -1 };
    struct sort_vec v = { 0 }, out = { 0 };
    int rc;

    if ((o.gets = malloc((size_t)argc * sizeof(*o.gets))) == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory in SORT");
    if (sort_parse(a, argc, argv, &o) != 0 || o.store == NULL) {
        free(o.gets);
        return 0;                          /* refused, or a read (never propagated) */
    }
    rc = sort_run(a, argv, &o, &v, &out);
    vec_free(&v);
    vec_free(&out);
    free(o.gets);
    return rc;
}
