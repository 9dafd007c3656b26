/*
 * cmd_zset.c - sorted-set commands: ZADD (every option), ZINCRBY, ZREM,
 * ZREMRANGEBYSCORE/RANK/LEX, ZPOPMIN/ZPOPMAX, ZUNIONSTORE, ZINTERSTORE,
 * ZDIFFSTORE, ZRANGESTORE. BZPOPMIN/BZPOPMAX/ZMPOP/BZMPOP arrive as
 * ZPOPMIN/ZPOPMAX, so none of those has a handler; the geo commands are
 * in cmd_geo.c (GEOADD arrives as zadd).
 *
 * Each command follows Redis 7 t_zset.c: arguments are checked first, in
 * Redis' order, and a command Redis would refuse changes nothing. Ranges
 * and pops run in the sink (struct zset_range); the STORE commands build
 * their result in memory (struct zmap, cmd_zset.h), as Redis does, and
 * then replace the destination. Start at the table at the end.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"
#include "cmd_zset.h"

#define Z_NX   1
#define Z_XX   2
#define Z_GT   4
#define Z_LT   8
#define Z_INCR 16

/* One member, as Redis' zsetAdd. 1: applied or no-op; 0: the INCR result
 * is NaN (an error, nothing changed); -1: the sink failed. */
static int zadd_one(struct applier *a, int64_t id, int flags, double score,
                    const struct rs_bytes *m)
{
    int found;
    double cur;

    if (a->sink->ops->zset_score(a->sink, id, m, &found, &cur) != 0)
        return -1;
    if (!found)
        return (flags & Z_XX) ? 1 : (a->sink->ops->zset_set(a->sink, id, m, score) ? -1 : 1);
    if (flags & Z_NX)
        return 1;
    if (flags & Z_INCR) {
        score += cur;
        if (isnan(score))
            return 0;
    }
    if (((flags & Z_LT) && score >= cur) || ((flags & Z_GT) && score <= cur))
        return 1;
    if (score == cur)
        return 1;
    return a->sink->ops->zset_set(a->sink, id, m, score) ? -1 : 1;
}

/* ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] */
static int apply_zadd(struct applier *a, int argc, const struct rs_bytes *argv)
{
    int flags = 0, j = 2, n, rc = 0, skip;
    double *scores;
    struct sink_key sk;

    for (; j < argc; j++) {
        if (ap_arg_is(&argv[j], "nx")) flags |= Z_NX;
        else if (ap_arg_is(&argv[j], "xx")) flags |= Z_XX;
        else if (ap_arg_is(&argv[j], "gt")) flags |= Z_GT;
        else if (ap_arg_is(&argv[j], "lt")) flags |= Z_LT;
        else if (ap_arg_is(&argv[j], "ch")) continue;        /* changes the reply only */
        else if (ap_arg_is(&argv[j], "incr")) flags |= Z_INCR;
        else break;
    }
    n = argc - j;
    if (n == 0 || n % 2)
        return ap_reject(a, argv, "syntax error");
    n /= 2;
    if ((flags & Z_NX) && (flags & Z_XX))
        return ap_reject(a, argv, "XX and NX options at the same time are not compatible");
    if (((flags & Z_GT) && (flags & Z_NX)) || ((flags & Z_LT) && (flags & Z_NX)) ||
        ((flags & Z_GT) && (flags & Z_LT)))
        return ap_reject(a, argv, "GT, LT, and/or NX options at the same time are not compatible");
    if ((flags & Z_INCR) && n > 1)
        return ap_reject(a, argv, "INCR option supports a single increment-element pair");
    if ((scores = malloc((size_t)n * sizeof(*scores))) == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory in ZADD");
    /* every score is checked before anything changes */
    for (int i = 0; i < n; i++) {
        if (ap_parse_double(&argv[j + 2 * i], &scores[i]) != 0) {
            free(scores);
            return ap_reject(a, argv, "value is not a valid float");
        }
    }
    if (ap_find_key(a, &argv[1], &sk) != 0) {
        rc = -1;
    } else if (sk.type == RS_T_NONE && (flags & Z_XX)) {
        rc = 0;
    } else if (ap_find_or_create(a, argv, RS_T_ZSET, &sk, &skip) != 0) {
        rc = -1;
    } else {
        for (int i = 0; !skip && i < n && rc == 0; i++) {
            int r = zadd_one(a, sk.id, flags, scores[i], &argv[j + 2 * i + 1]);

            if (r < 0)
                rc = -1;
            else if (r == 0)
                ap_reject(a, argv, "resulting score is not a number (NaN)");
        }
    }
    free(scores);
    return rc;
}

static int apply_zrem(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int skip, removed, any = 0;

    if (ap_find_typed(a, argv, RS_T_ZSET, &sk, &skip) != 0)
        return -1;
    for (int i = 2; !skip && i < argc; i++) {
        if (a->sink->ops->zset_rem(a->sink, sk.id, &argv[i], &removed) != 0)
            return -1;
        any |= removed;
    }
    return any ? ap_delete_if_empty(a, &sk) : 0;
}

/* ZINCRBY key increment member: ZADD INCR with one pair. */
static int apply_zincrby(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    double incr;
    int skip, r;

    (void)argc;
    if (ap_parse_double(&argv[2], &incr) != 0)
        return ap_reject(a, argv, "value is not a valid float");
    if (ap_find_or_create(a, argv, RS_T_ZSET, &sk, &skip) != 0)
        return -1;
    if (skip)
        return 0;
    if ((r = zadd_one(a, sk.id, Z_INCR, incr, &argv[3])) < 0)
        return -1;
    return r == 0 ? ap_reject(a, argv, "resulting score is not a number (NaN)") : 0;
}

/* ------------------------------------------------------------------ */
/* Range arguments                                                    */
/* ------------------------------------------------------------------ */

/* One end of a score range as zslParseRange reads it: an optional '(',
 * then strtod on the C string (so it ends at a NUL byte, and leading
 * spaces, overflow and "" are all accepted), no NaN. 0 or -1. */
static int parse_score_end(const struct rs_bytes *b, double *v, int *ex)
{
    char buf[128], *end;
    size_t n = b->len < sizeof(buf) - 1 ? b->len : sizeof(buf) - 1;
    const char *p;

    memcpy(buf, b->ptr, n);
    buf[n] = '\0';
    if (strlen(buf) == sizeof(buf) - 1 && b->len > n)
        return -1;               /* longer than any number strtod reads whole */
    *ex = buf[0] == '(';
    p = buf + *ex;
    *v = strtod(p, &end);
    return (*end != '\0' || isnan(*v)) ? -1 : 0;
}

static int parse_score_range(const struct rs_bytes *min, const struct rs_bytes *max,
                             struct zset_range *r)
{
    memset(r, 0, sizeof(*r));
    r->by_score = 1;
    r->count = -1;
    return (parse_score_end(min, &r->min, &r->minex) || parse_score_end(max, &r->max, &r->maxex))
               ? -1 : 0;
}

/* One end of a lex range: '-' / '+' (kind -1 / +1; Redis looks at the
 * second byte as a C string), or '(' / '[' and the bytes after it. */
struct lex_end {
    int kind;
    int ex;
    struct rs_bytes v;
};

static int parse_lex_end(const struct rs_bytes *b, struct lex_end *e)
{
    e->v.ptr = "";
    e->v.len = 0;
    e->ex = 1;
    if (b->len == 0)
        return -1;
    switch (b->ptr[0]) {
    case '+':
    case '-':
        if (b->len > 1 && b->ptr[1] != '\0')
            return -1;
        e->kind = b->ptr[0] == '+' ? 1 : -1;
        return 0;
    case '(':
    case '[':
        e->kind = 0;
        e->ex = b->ptr[0] == '(';
        e->v.ptr = b->ptr + 1;
        e->v.len = b->len - 1;
        return 0;
    default:
        return -1;
    }
}

/* Redis' sdscmp: memcmp, then the shorter first. */
static int bytes_cmp(const struct rs_bytes *x, const struct rs_bytes *y)
{
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->ptr, y->ptr, n) : 0;

    if (c != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* sdscmplex: a member against a range end, '-' below all, '+' above. */
static int lex_cmp(const struct rs_bytes *m, const struct lex_end *e)
{
    return e->kind ? -e->kind : bytes_cmp(m, &e->v);
}

static int lex_gte_min(const struct rs_bytes *m, const struct lex_end *min)
{
    int c = lex_cmp(m, min);

    return min->ex ? c > 0 : c >= 0;
}

static int lex_lte_max(const struct rs_bytes *m, const struct lex_end *max)
{
    int c = lex_cmp(m, max);

    return max->ex ? c < 0 : c <= 0;
}

/* Can the range hold anything at all? (zslIsInLexRange's first test) */
static int lex_nonempty(const struct lex_end *min, const struct lex_end *max)
{
    int c;

    if (min->kind == 0 && max->kind == 0)
        c = bytes_cmp(&min->v, &max->v);
    else if (min->kind == max->kind)
        c = 0;
    else if (min->kind == -1 || max->kind == 1)
        c = -1;
    else
        c = 1;
    return !(c > 0 || (c == 0 && (min->ex || max->ex)));
}

/*
 * Which ranks a lex range walks, as Redis' listpack code walks it (also
 * when scores differ, where the members are not in lex order): check the
 * first and last members, find the first member >= min (walking from the
 * highest with 'reverse': the first <= max); the walk starts there if it
 * is also in range, then skips 'offset' members and takes at most
 * 'count' (< 0: all) while they stay <= max (>= min in reverse).
 * *start / *n: the window in walk order; *n = 0 when empty.
 */
struct lex_walk {
    const struct lex_end *min, *max;
    int reverse;
    int64_t offset, count;
    int64_t idx, start, n;
    int state;                   /* 0 looking, 1 walking, 2 done */
};

static int lex_walk_cb(void *ud, const struct rs_bytes *m, double score)
{
    struct lex_walk *w = ud;
    int64_t i = w->idx++;

    (void)score;
    if (w->state == 0) {
        if (!(w->reverse ? lex_lte_max(m, w->max) : lex_gte_min(m, w->min)))
            return 0;
        if (!(w->reverse ? lex_gte_min(m, w->min) : lex_lte_max(m, w->max)))
            return (w->state = 2);
        w->state = 1;
        w->start = i + (w->offset < 0 ? 0 : w->offset);
        if (w->offset < 0)
            return (w->state = 2);    /* "while (offset--)" runs off the end */
    }
    if (i < w->start)
        return 0;                      /* skipped by the offset, unchecked */
    if (w->count >= 0 && w->n >= w->count)
        return (w->state = 2);
    if (!(w->reverse ? lex_gte_min(m, w->min) : lex_lte_max(m, w->max)))
        return (w->state = 2);
    w->n++;
    return 0;
}

/* Member at either end (first = lowest): for the lex range precheck. */
struct one_member {
    char *m;
    size_t len;
    int found, oom;
};

static int one_member_cb(void *ud, const struct rs_bytes *m, double score)
{
    struct one_member *o = ud;

    (void)score;
    if ((o->m = malloc(m->len + 1)) == NULL) {
        o->oom = 1;
        return 1;
    }
    memcpy(o->m, m->ptr, m->len);
    o->len = m->len;
    o->found = 1;
    return 1;
}

static int end_member(struct applier *a, int64_t id, int last, struct one_member *o)
{
    struct zset_range r = { .reverse = last, .count = 1 };

    memset(o, 0, sizeof(*o));
    if (a->sink->ops->zset_range(a->sink, id, &r, one_member_cb, o) != 0)
        return -1;
    if (o->oom)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory in a lex range");
    return 0;
}

/* Resolve a lex walk into a rank window *r (count 0 when empty). */
static int lex_window(struct applier *a, int64_t id, const struct lex_end *min,
                      const struct lex_end *max, int reverse, int64_t offset, int64_t count,
                      struct zset_range *r)
{
    struct one_member first, last;
    struct lex_walk w = { min, max, reverse, offset, count, 0, 0, 0, 0 };
    struct zset_range all = { .reverse = reverse, .count = -1 };
    int ok;

    memset(r, 0, sizeof(*r));
    if (!lex_nonempty(min, max))
        return 0;
    if (end_member(a, id, 0, &first) != 0)
        return -1;
    if (end_member(a, id, 1, &last) != 0) {
        free(first.m);
        return -1;
    }
    ok = first.found && last.found &&
         lex_gte_min(&(struct rs_bytes){ last.m, last.len }, min) &&
         lex_lte_max(&(struct rs_bytes){ first.m, first.len }, max);
    free(first.m);
    free(last.m);
    if (!ok)
        return 0;
    if (a->sink->ops->zset_range(a->sink, id, &all, lex_walk_cb, &w) != 0)
        return -1;
    r->reverse = reverse;
    r->offset = w.start;
    r->count = w.n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Range removals and pops                                            */
/* ------------------------------------------------------------------ */

/* Remove the window and delete the key when that emptied it. */
static int remove_window(struct applier *a, const struct sink_key *sk, const struct zset_range *r)
{
    int64_t removed;

    if (a->sink->ops->zset_rem_range(a->sink, sk->id, r, &removed) != 0)
        return -1;
    return removed ? ap_delete_if_empty(a, sk) : 0;
}

/* Clamp Redis ranks [start, end] to a zset of 'len' (negative ranks count
 * from the end) into a window; count 0 when empty. */
static void rank_window(int64_t start, int64_t end, int64_t len, int reverse,
                        struct zset_range *r)
{
    memset(r, 0, sizeof(*r));
    r->reverse = reverse;
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (start > end || start >= len)
        return;
    if (end >= len) end = len - 1;
    r->offset = start;
    r->count = end - start + 1;
}

enum zrem_by { BY_RANK, BY_SCORE, BY_LEX };

static int zremrange(struct applier *a, const struct rs_bytes *argv, enum zrem_by by)
{
    struct zset_range r;
    struct lex_end min, max;
    struct sink_key sk;
    long long start = 0, end = 0;
    int64_t len;
    int skip;

    if (by == BY_RANK && (ap_parse_ll(a, &argv[2], &start) || ap_parse_ll(a, &argv[3], &end)))
        return ap_reject(a, argv, "value is not an integer or out of range");
    if (by == BY_SCORE && parse_score_range(&argv[2], &argv[3], &r))
        return ap_reject(a, argv, "min or max is not a float");
    if (by == BY_LEX && (parse_lex_end(&argv[2], &min) || parse_lex_end(&argv[3], &max)))
        return ap_reject(a, argv, "min or max not valid string range item");
    if (ap_find_typed(a, argv, RS_T_ZSET, &sk, &skip) != 0)
        return -1;
    if (skip)
        return 0;
    if (by == BY_RANK) {
        if (a->sink->ops->zset_card(a->sink, sk.id, &len) != 0)
            return -1;
        rank_window(start, end, len, 0, &r);
    } else if (by == BY_LEX && lex_window(a, sk.id, &min, &max, 0, 0, -1, &r) != 0) {
        return -1;
    }
    return r.count == 0 ? 0 : remove_window(a, &sk, &r);
}

static int apply_zremrangebyrank(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    return zremrange(a, argv, BY_RANK);
}

static int apply_zremrangebyscore(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    return zremrange(a, argv, BY_SCORE);
}

static int apply_zremrangebylex(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    return zremrange(a, argv, BY_LEX);
}

/* ZPOPMIN / ZPOPMAX key [count]: also what BZPOPMIN/BZPOPMAX, ZMPOP and
 * BZMPOP propagate as. */
static int zpop(struct applier *a, int argc, const struct rs_bytes *argv, int max)
{
    struct zset_range r = { .reverse = max, .count = 1 };
    struct sink_key sk;
    long long count = 1;
    int skip;

    if (argc > 3)
        return ap_reject(a, argv, "syntax error");
    if (argc == 3 && (ap_parse_ll(a, &argv[2], &count) != 0 || count < 0))
        return ap_reject(a, argv, "value is out of range, must be positive");
    if (ap_find_typed(a, argv, RS_T_ZSET, &sk, &skip) != 0)
        return -1;
    if (skip || count == 0)
        return 0;
    r.count = count;
    return remove_window(a, &sk, &r);
}

static int apply_zpopmin(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return zpop(a, argc, argv, 0);
}

static int apply_zpopmax(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return zpop(a, argc, argv, 1);
}

/* ------------------------------------------------------------------ */
/* Results in memory: struct zmap                                      */
/* ------------------------------------------------------------------ */

void zmap_free(struct zmap *z)
{
    for (size_t i = 0; i < z->n; i++)
        free(z->e[i].m);
    free(z->e);
    free(z->slot);
    memset(z, 0, sizeof(*z));
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;             /* FNV-1a */

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

/* The slot holding m, or the free slot where it would go. */
static size_t *zmap_slot(const struct zmap *z, const char *m, size_t len)
{
    size_t i = (size_t)hash_bytes(m, len) & (z->nslot - 1);

    for (;; i = (i + 1) & (z->nslot - 1)) {
        size_t *s = &z->slot[i];

        if (*s == 0 || (z->e[*s - 1].len == len && (len == 0 || !memcmp(z->e[*s - 1].m, m, len))))
            return s;
    }
}

/* Index of 'm', or -1. */
static long zmap_find(const struct zmap *z, const struct rs_bytes *m)
{
    size_t *s;

    if (z->nslot == 0)
        return -1;
    s = zmap_slot(z, m->ptr, m->len);
    return *s ? (long)(*s - 1) : -1;
}

static int zmap_grow(struct zmap *z)
{
    size_t nslot = z->nslot ? z->nslot * 2 : 16;
    size_t *old = z->slot, oldn = z->nslot;

    if ((z->slot = calloc(nslot, sizeof(*z->slot))) == NULL) {
        z->slot = old;
        return -1;
    }
    z->nslot = nslot;
    for (size_t i = 0; i < oldn; i++)
        if (old[i])
            *zmap_slot(z, z->e[old[i] - 1].m, z->e[old[i] - 1].len) = old[i];
    free(old);
    return 0;
}

/* Append a new member (the caller knows it is absent). Sets z->oom. */
void zmap_add(struct zmap *z, const struct rs_bytes *m, double score, double dist)
{
    struct zelem *e;

    if (z->oom)
        return;
    if (z->n == z->cap) {
        size_t cap = z->cap ? z->cap * 2 : 16;

        if ((e = realloc(z->e, cap * sizeof(*e))) == NULL) {
            z->oom = 1;
            return;
        }
        z->e = e;
        z->cap = cap;
    }
    if ((z->n + 1) * 2 > z->nslot && zmap_grow(z) != 0) {
        z->oom = 1;
        return;
    }
    e = &z->e[z->n];
    if ((e->m = malloc(m->len + 1)) == NULL) {
        z->oom = 1;
        return;
    }
    if (m->len)
        memcpy(e->m, m->ptr, m->len);
    e->len = m->len;
    e->score = score;
    e->dist = dist;
    *zmap_slot(z, e->m, e->len) = ++z->n;
}

static void zmap_add_cb(void *ud, const struct rs_bytes *m, double score)
{
    zmap_add(ud, m, score, 0);
}

static int zmap_add_stop_cb(void *ud, const struct rs_bytes *m, double score)
{
    zmap_add(ud, m, score, 0);
    return ((struct zmap *)ud)->oom;
}

/* Make 'key' hold exactly the members of 'z' (Redis' setKey: any old
 * value and its TTL go), or delete it when 'z' is empty. */
int zmap_store(struct applier *a, const struct rs_bytes *key, const struct zmap *z)
{
    struct sink_key sk;
    int64_t id;

    if (ap_find_key(a, key, &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && a->sink->ops->key_delete(a->sink, sk.id) != 0)
        return -1;
    if (z->n == 0)
        return 0;
    if (a->sink->ops->key_create(a->sink, a->db, key, RS_T_ZSET, RS_NO_EXPIRE, NULL, &id) != 0)
        return -1;
    for (size_t i = 0; i < z->n; i++) {
        struct rs_bytes m = { z->e[i].m, z->e[i].len };

        if (a->sink->ops->zset_set(a->sink, id, &m, z->e[i].score) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE                                */
/* ------------------------------------------------------------------ */

enum setop { OP_UNION, OP_INTER, OP_DIFF };
enum aggr { AGG_SUM, AGG_MIN, AGG_MAX };

/* One input: its key id (-1 when missing), weight and members. */
struct zsrc {
    int64_t id;
    double weight;
    struct zmap z;
};

static void aggregate(double *target, double val, enum aggr agg)
{
    if (agg == AGG_SUM) {
        *target = *target + val;
        if (isnan(*target))      /* inf + -inf */
            *target = 0.0;
    } else if (agg == AGG_MIN) {
        *target = val < *target ? val : *target;
    } else {
        *target = val > *target ? val : *target;
    }
}

/* Options after the keys: WEIGHTS w... and AGGREGATE (not for DIFF).
 * 0, or -1 after logging why Redis refuses them. */
static int setop_options(struct applier *a, int argc, const struct rs_bytes *argv, int j,
                         enum setop op, struct zsrc *src, long long n, enum aggr *agg)
{
    while (j < argc) {
        int left = argc - j;

        if (op != OP_DIFF && left >= n + 1 && ap_arg_is(&argv[j], "weights")) {
            j++;
            for (long long i = 0; i < n; i++, j++)
                if (ap_parse_double(&argv[j], &src[i].weight) != 0)
                    return ap_refuse(a, argv, "weight value is not a float");
        } else if (op != OP_DIFF && left >= 2 && ap_arg_is(&argv[j], "aggregate")) {
            if (ap_arg_is(&argv[j + 1], "sum")) *agg = AGG_SUM;
            else if (ap_arg_is(&argv[j + 1], "min")) *agg = AGG_MIN;
            else if (ap_arg_is(&argv[j + 1], "max")) *agg = AGG_MAX;
            else return ap_refuse(a, argv, "syntax error");
            j += 2;
        } else {
            return ap_refuse(a, argv, "syntax error");
        }
    }
    return 0;
}

/* Look the inputs up (WRONGTYPE unless set or zset) without reading them. */
static int setop_lookup(struct applier *a, const struct rs_bytes *argv, int first, long long n,
                        struct zsrc *src, enum rs_type *types, int *skip)
{
    struct sink_key sk;

    *skip = 0;
    for (long long i = 0; i < n; i++) {
        if (ap_find_key(a, &argv[first + i], &sk) != 0)
            return -1;
        if (sk.type != RS_T_NONE && sk.type != RS_T_ZSET && sk.type != RS_T_SET) {
            *skip = 1;
            return ap_wrongtype(a, argv);
        }
        src[i].id = sk.type == RS_T_NONE ? -1 : sk.id;
        types[i] = sk.type;
        src[i].weight = 1.0;
    }
    return 0;
}

/* Stable sort by size (glibc's qsort is a merge sort for arrays this
 * small, so equal sizes keep their order, and so do we). */
static void sort_by_card(struct zsrc *src, long long n)
{
    for (long long i = 1; i < n; i++) {
        struct zsrc t = src[i];
        long long j = i;

        for (; j > 0 && src[j - 1].z.n > t.z.n; j--)
            src[j] = src[j - 1];
        src[j] = t;
    }
}

static void setop_union(struct zsrc *src, long long n, enum aggr agg, struct zmap *out)
{
    for (long long i = 0; i < n && !out->oom; i++) {
        for (size_t k = 0; k < src[i].z.n; k++) {
            struct zelem *e = &src[i].z.e[k];
            struct rs_bytes m = { e->m, e->len };
            double score = src[i].weight * e->score;
            long at;

            if (isnan(score))
                score = 0;
            if ((at = zmap_find(out, &m)) < 0)
                zmap_add(out, &m, score, 0);
            else
                aggregate(&out->e[at].score, score, agg);
        }
    }
}

static void setop_inter(struct zsrc *src, long long n, enum aggr agg, struct zmap *out)
{
    for (size_t k = 0; k < src[0].z.n && !out->oom; k++) {
        struct zelem *e = &src[0].z.e[k];
        struct rs_bytes m = { e->m, e->len };
        double score = src[0].weight * e->score, value;
        long long j;
        long at;

        if (isnan(score))
            score = 0;
        for (j = 1; j < n; j++) {
            if (src[j].id == src[0].id) {          /* the same key again */
                value = e->score * src[j].weight;
            } else if ((at = zmap_find(&src[j].z, &m)) >= 0) {
                value = src[j].z.e[at].score;
                value *= src[j].weight;
            } else {
                break;
            }
            aggregate(&score, value, agg);
        }
        if (j == n)
            zmap_add(out, &m, score, 0);
    }
}

static void setop_diff(struct zsrc *src, long long n, struct zmap *out)
{
    for (size_t k = 0; k < src[0].z.n && !out->oom; k++) {
        struct zelem *e = &src[0].z.e[k];
        struct rs_bytes m = { e->m, e->len };
        long long j;

        for (j = 1; j < n; j++)
            if (src[j].id >= 0 && (src[j].id == src[0].id || zmap_find(&src[j].z, &m) >= 0))
                break;
        if (j == n)
            zmap_add(out, &m, e->score, 0);
    }
}

/* Z{UNION,INTER,DIFF}STORE dest numkeys key [key ...] [options] */
static int zsetop(struct applier *a, int argc, const struct rs_bytes *argv, enum setop op)
{
    struct zsrc *src = NULL;
    enum rs_type *types = NULL;
    struct zmap out = { 0 };
    enum aggr agg = AGG_SUM;
    long long n;
    int rc = -1, skip = 0;

    if (ap_parse_ll(a, &argv[2], &n) != 0)
        return ap_reject(a, argv, "value is not an integer or out of range");
    if (n < 1)
        return ap_reject(a, argv, "at least 1 input key is needed");
    if (n > argc - 3)
        return ap_reject(a, argv, "syntax error");
    src = calloc((size_t)n, sizeof(*src));
    types = calloc((size_t)n, sizeof(*types));
    if (src == NULL || types == NULL) {
        rs_fail(&a->err, RS_E_NOMEM, "out of memory in a sorted-set STORE");
        goto out;
    }
    if (setop_lookup(a, argv, 3, n, src, types, &skip) != 0)
        goto out;
    if (skip || setop_options(a, argc, argv, 3 + (int)n, op, src, n, &agg) != 0) {
        rc = 0;
        goto out;
    }
    for (long long i = 0; i < n; i++) {
        if (src[i].id >= 0 && a->sink->ops->zset_source_scan(a->sink, src[i].id, types[i],
                                                             zmap_add_cb, &src[i].z) != 0)
            goto out;
        if (src[i].z.oom)
            goto oom;
    }
    if (op != OP_DIFF)
        sort_by_card(src, n);
    if (op == OP_UNION)
        setop_union(src, n, agg, &out);
    else if (op == OP_INTER)
        setop_inter(src, n, agg, &out);
    else
        setop_diff(src, n, &out);
    if (out.oom)
        goto oom;
    rc = zmap_store(a, &argv[1], &out);
    goto out;
oom:
    rc = rs_fail(&a->err, RS_E_NOMEM, "out of memory in a sorted-set STORE");
out:
    for (long long i = 0; src && i < n; i++)
        zmap_free(&src[i].z);
    free(src);
    free(types);
    zmap_free(&out);
    return rc;
}

static int apply_zunionstore(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return zsetop(a, argc, argv, OP_UNION);
}

static int apply_zinterstore(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return zsetop(a, argc, argv, OP_INTER);
}

static int apply_zdiffstore(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return zsetop(a, argc, argv, OP_DIFF);
}

/* ------------------------------------------------------------------ */
/* ZRANGESTORE                                                        */
/* ------------------------------------------------------------------ */

/* What ZRANGESTORE asked for, once parsed. */
struct zrange_req {
    enum zrem_by by;
    int reverse;
    long long start, end, offset, limit;
    struct zset_range score;
    struct lex_end min, max;
};

static int zrange_parse(struct applier *a, int argc, const struct rs_bytes *argv,
                        struct zrange_req *q)
{
    int minidx = 3, maxidx = 4, have_by = 0;

    memset(q, 0, sizeof(*q));
    q->limit = -1;
    for (int j = 5; j < argc; j++) {
        if (ap_arg_is(&argv[j], "limit") && argc - j - 1 >= 2) {
            if (ap_parse_ll(a, &argv[j + 1], &q->offset) || ap_parse_ll(a, &argv[j + 2], &q->limit))
                return ap_refuse(a, argv, "value is not an integer or out of range");
            j += 2;
        } else if (!q->reverse && ap_arg_is(&argv[j], "rev")) {
            q->reverse = 1;
        } else if (!have_by && ap_arg_is(&argv[j], "bylex")) {
            q->by = BY_LEX;
            have_by = 1;
        } else if (!have_by && ap_arg_is(&argv[j], "byscore")) {
            q->by = BY_SCORE;
            have_by = 1;
        } else {
            return ap_refuse(a, argv, "syntax error");
        }
    }
    if (q->limit != -1 && q->by == BY_RANK)
        return ap_refuse(a, argv, "syntax error, LIMIT is only supported with BYSCORE or BYLEX");
    if (q->reverse && q->by != BY_RANK) {
        minidx = 4;                 /* the range is given as max, min */
        maxidx = 3;
    }
    if (q->by == BY_RANK && (ap_parse_ll(a, &argv[minidx], &q->start) ||
                             ap_parse_ll(a, &argv[maxidx], &q->end)))
        return ap_refuse(a, argv, "value is not an integer or out of range");
    if (q->by == BY_SCORE && parse_score_range(&argv[minidx], &argv[maxidx], &q->score))
        return ap_refuse(a, argv, "min or max is not a float");
    if (q->by == BY_LEX &&
        (parse_lex_end(&argv[minidx], &q->min) || parse_lex_end(&argv[maxidx], &q->max)))
        return ap_refuse(a, argv, "min or max not valid string range item");
    return 0;
}

/* ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] */
static int apply_zrangestore(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct zrange_req q;
    struct zset_range r = { 0 };
    struct zmap out = { 0 };
    struct sink_key sk;
    int64_t len = 0;
    int rc;

    if (zrange_parse(a, argc, argv, &q) != 0)
        return 0;
    if (ap_find_key(a, &argv[2], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_ZSET)
        return ap_wrongtype(a, argv);
    if (sk.type != RS_T_NONE) {
        if (q.by != BY_LEX && a->sink->ops->zset_card(a->sink, sk.id, &len) != 0)
            return -1;
        if (q.by == BY_RANK) {
            rank_window(q.start, q.end, len, q.reverse, &r);
        } else if (q.by == BY_SCORE) {
            r = q.score;
            r.reverse = q.reverse;
            r.offset = q.offset;
            r.count = q.limit;
            if (q.offset > 0 && q.offset >= len)
                r.count = 0;
        } else if (lex_window(a, sk.id, &q.min, &q.max, q.reverse, q.offset, q.limit, &r) != 0) {
            return -1;
        }
        if (r.count != 0 && a->sink->ops->zset_range(a->sink, sk.id, &r, zmap_add_stop_cb, &out))
            return -1;
        if (out.oom) {
            zmap_free(&out);
            return rs_fail(&a->err, RS_E_NOMEM, "out of memory in ZRANGESTORE");
        }
    }
    rc = zmap_store(a, &argv[1], &out);
    zmap_free(&out);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_zset_table[] = {
    { "zadd",              apply_zadd,              -4, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "zincrby",           apply_zincrby,            4, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "zrem",              apply_zrem,              -3, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "zremrangebyscore",  apply_zremrangebyscore,   4, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "zremrangebyrank",   apply_zremrangebyrank,    4, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "zremrangebylex",    apply_zremrangebylex,     4, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "zpopmin",           apply_zpopmin,           -2, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "zpopmax",           apply_zpopmax,           -2, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "zunionstore",       apply_zunionstore,       -4, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "zinterstore",       apply_zinterstore,       -4, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "zdiffstore",        apply_zdiffstore,        -4, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "zrangestore",       apply_zrangestore,       -5, CMD_WRITE, { 1, 2, 1, KU_FIRST } },
};
const size_t cmd_zset_count = CMD_COUNT(cmd_zset_table);
