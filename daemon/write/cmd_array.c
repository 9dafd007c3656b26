/*
 * cmd_array.c - Redis 8.8's array commands: ARSET, ARMSET, ARDEL,
 * ARDELRANGE, ARINSERT, ARRING, ARSEEK (t_array.c; the master sends them
 * as they came). The read commands (ARGET, ARMGET, ARGETRANGE, ARSCAN,
 * ARGREP, AROP, ARLEN, ARCOUNT, ARNEXT, ARLASTITEMS, ARINFO) never reach
 * a replica.
 *
 * An array is sparse: unsigned 64-bit indexes 0 .. 2^64-2, holes between
 * elements, and an insert cursor (the last index ARINSERT or ARRING wrote,
 * or none) that the sink keeps beside the elements. Values are stored as
 * the command gave them (Redis prints its compact integer and float forms
 * back byte for byte). An array left without elements is deleted. Every
 * command checks all its indexes before it changes anything, as Redis
 * does. The table at the end is all apply.c sees.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"

#define AR_MAX_INDEX (UINT64_MAX - 1)     /* UINT64_MAX is no index */

/*
 * An index as Redis' getArrayIndexFromObject reads it: string2ull, i.e. a
 * strict non-negative 64-bit integer, or else strtoull over the argument
 * up to its first NUL (so "007" and "+7" pass, "-1" does not). UINT64_MAX
 * only when 'allow_max' (ARSEEK). 0, or -1.
 */
static int parse_index(const struct rs_bytes *b, uint64_t *idx, int allow_max)
{
    unsigned long long u;
    long long ll;
    size_t n = strnlen(b->ptr, b->len);
    char *copy, *end;

    if (rs_parse_ll(b->ptr, b->len, &ll) == 0) {   /* Redis 8.8: string2ll */
        if (ll < 0)
            return -1;
        *idx = (uint64_t)ll;
        return 0;
    }
    if (n == 0 || (copy = malloc(n + 1)) == NULL)
        return -1;
    memcpy(copy, b->ptr, n);
    copy[n] = '\0';
    errno = 0;
    u = strtoull(copy, &end, 10);
    if (errno == EINVAL || errno == ERANGE || *end != '\0') {
        free(copy);
        return -1;
    }
    free(copy);
    if (u == UINT64_MAX && !allow_max)
        return -1;
    *idx = u;
    return 0;
}

/* Check the indexes argv[from], argv[from + step]... (all must parse). */
static int indexes_ok(int argc, const struct rs_bytes *argv, int from, int step)
{
    uint64_t idx;

    for (int i = from; i < argc; i += step)
        if (parse_index(&argv[i], &idx, 0) != 0)
            return 0;
    return 1;
}

/* Delete array 'sk' when it has no element left. */
static int drop_if_empty(struct applier *a, const struct sink_key *sk)
{
    uint64_t count, max;

    if (a->sink->ops->array_info(a->sink, sk->id, &count, &max) != 0)
        return -1;
    return count ? 0 : a->sink->ops->key_delete(a->sink, sk->id);
}

/* ARSET key index value [value ...]: contiguous values from 'index'. */
static int apply_arset(struct applier *a, int argc, const struct rs_bytes *argv)
{
    uint64_t start, n = (uint64_t)(argc - 3), last;
    struct sink_key sk;
    int skip;

    if (parse_index(&argv[2], &start, 0) != 0)
        return ap_reject(a, argv, "invalid array index");
    last = start + n - 1;
    if (last < start || last == UINT64_MAX)
        return ap_reject(a, argv, "array index overflow");
    if (ap_find_or_create(a, argv, RS_T_ARRAY, &sk, &skip) != 0)
        return -1;
    for (int i = 3; !skip && i < argc; i++)
        if (a->sink->ops->array_set(a->sink, sk.id, start + (uint64_t)(i - 3), &argv[i],
                                    NULL) != 0)
            return -1;
    return 0;
}

/* ARMSET key index value [index value ...]: scattered pairs, in order. */
static int apply_armset(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    uint64_t idx;
    int skip;

    if ((argc - 2) % 2 != 0)
        return ap_reject(a, argv, "wrong number of arguments");
    if (!indexes_ok(argc, argv, 2, 2))
        return ap_reject(a, argv, "invalid array index");
    if (ap_find_or_create(a, argv, RS_T_ARRAY, &sk, &skip) != 0)
        return -1;
    for (int i = 2; !skip && i < argc; i += 2) {
        parse_index(&argv[i], &idx, 0);
        if (a->sink->ops->array_set(a->sink, sk.id, idx, &argv[i + 1], NULL) != 0)
            return -1;
    }
    return 0;
}

/*
 * ARDEL key index [index ...] (step 1) and ARDELRANGE key start end
 * [start end ...] (step 2; each pair in either order).
 */
static int ardel_generic(struct applier *a, int argc, const struct rs_bytes *argv, int step)
{
    struct sink_key sk;
    uint64_t lo, hi, removed, any = 0;
    int skip;

    if ((argc - 2) % step != 0)
        return ap_reject(a, argv, "wrong number of arguments");
    if (!indexes_ok(argc, argv, 2, 1))
        return ap_reject(a, argv, "invalid array index");
    if (ap_find_typed(a, argv, RS_T_ARRAY, &sk, &skip) != 0)
        return -1;
    for (int i = 2; !skip && i < argc; i += step) {
        parse_index(&argv[i], &lo, 0);
        parse_index(&argv[i + step - 1], &hi, 0);
        if (lo > hi) {
            uint64_t t = lo;

            lo = hi;
            hi = t;
        }
        if (a->sink->ops->array_del_range(a->sink, sk.id, lo, hi, &removed) != 0)
            return -1;
        any += removed;
    }
    return any ? drop_if_empty(a, &sk) : 0;
}

static int apply_ardel(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return ardel_generic(a, argc, argv, 1);
}

static int apply_ardelrange(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return ardel_generic(a, argc, argv, 2);
}

/* ARINSERT key value [value ...]: after the cursor (from 0 without one);
 * the cursor ends on the last index written. */
static int apply_arinsert(struct applier *a, int argc, const struct rs_bytes *argv)
{
    uint64_t cur = 0, start = 0, last, n = (uint64_t)(argc - 2);
    struct sink_key sk;
    int skip, has;

    if (ap_find_or_create(a, argv, RS_T_ARRAY, &sk, &skip) != 0)
        return -1;
    if (skip)
        return 0;
    if (a->sink->ops->array_cursor_get(a->sink, sk.id, &has, &cur) != 0)
        return -1;
    if (has) {
        if (cur >= AR_MAX_INDEX)
            return ap_reject(a, argv, "insert index overflow");
        start = cur + 1;
    }
    last = start + n - 1;
    if (last < start || last == UINT64_MAX)
        return ap_reject(a, argv, "insert index overflow");
    for (int i = 2; i < argc; i++)
        if (a->sink->ops->array_set(a->sink, sk.id, start + (uint64_t)(i - 2), &argv[i],
                                    NULL) != 0)
            return -1;
    return a->sink->ops->array_cursor_set(a->sink, sk.id, 1, last);
}

/* ARSEEK key index: the next ARINSERT/ARRING writes at 'index' (0: no
 * cursor). A missing key stays missing. */
static int apply_arseek(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    uint64_t idx;
    int skip;

    (void)argc;
    if (parse_index(&argv[2], &idx, 1) != 0)
        return ap_reject(a, argv, "invalid array index");
    if (ap_find_typed(a, argv, RS_T_ARRAY, &sk, &skip) != 0)
        return -1;
    if (skip)
        return 0;
    return a->sink->ops->array_cursor_set(a->sink, sk.id, idx != 0, idx - 1);
}

/* ------------------------------------------------------------------ */
/* ARRING                                                               */
/* ------------------------------------------------------------------ */

/* The elements an ARRING resize keeps, newest first. */
struct ring_keep {
    struct applier *a;
    char **v;
    size_t *len;
    uint64_t n, cap;
    int found, oom;
};

static int keep_cb(void *ud, uint64_t idx, const struct rs_bytes *v)
{
    struct ring_keep *k = ud;

    (void)idx;
    k->found = 1;
    if (k->n == k->cap) {
        uint64_t cap = k->cap ? k->cap * 2 : 16;
        char **nv = realloc(k->v, cap * sizeof(*nv));
        size_t *nl = nv ? realloc(k->len, cap * sizeof(*nl)) : NULL;

        if (nv)
            k->v = nv;
        if (nl == NULL) {
            k->oom = 1;
            return 1;
        }
        k->len = nl;
        k->cap = cap;
    }
    if ((k->v[k->n] = malloc(v->len ? v->len : 1)) == NULL) {
        k->oom = 1;
        return 1;
    }
    memcpy(k->v[k->n], v->ptr, v->len);
    k->len[k->n++] = v->len;
    return 1;
}

static void keep_free(struct ring_keep *k)
{
    for (uint64_t i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    free(k->len);
}

/*
 * t_array.c's arRingRework: walk back from the cursor (the last index
 * when there is none) over [0, span), wrapping, keeping at most 'keep'
 * elements and stopping at the first hole; then rewrite them oldest first
 * at 0, 1, ... with the cursor on the newest.
 */
static int ring_rework(struct applier *a, const struct sink_key *sk, uint64_t span, uint64_t keep,
                       int has, uint64_t cur)
{
    struct ring_keep k = { a, NULL, NULL, 0, 0, 0, 0 };
    uint64_t idx = has ? cur % span : span - 1;
    int rc = -1;

    while (k.n < keep) {
        k.found = 0;
        if (a->sink->ops->array_range(a->sink, sk->id, idx, idx, 0, keep_cb, &k) != 0)
            goto out;
        if (k.oom) {
            rs_fail(&a->err, RS_E_NOMEM, "out of memory in ARRING");
            goto out;
        }
        if (!k.found)
            break;
        idx = idx == 0 ? span - 1 : idx - 1;
    }
    if (a->sink->ops->array_del_range(a->sink, sk->id, 0, AR_MAX_INDEX, NULL) != 0)
        goto out;
    for (uint64_t i = 0; i < k.n; i++) {
        struct rs_bytes v = { k.v[k.n - 1 - i], k.len[k.n - 1 - i] };

        if (a->sink->ops->array_set(a->sink, sk->id, i, &v, NULL) != 0)
            goto out;
    }
    rc = a->sink->ops->array_cursor_set(a->sink, sk->id, k.n != 0, k.n - 1);
out:
    keep_free(&k);
    return rc;
}

/*
 * ARRING key size value [value ...]: a ring of 'size' slots. When the
 * size shrinks below the array's span (its highest index + 1), or grows
 * after the ring wrapped, the newest elements are first rewritten to
 * 0, 1, ... (ring_rework); then each value goes to the slot after the
 * cursor, modulo 'size', and the cursor follows.
 */
static int apply_arring(struct applier *a, int argc, const struct rs_bytes *argv)
{
    uint64_t count, max, span, size, cur = 0, keep = 0;
    struct sink_key sk;
    long long ll;
    int skip, has;

    if (ap_parse_ll(a, &argv[2], &ll) != 0)
        return ap_reject(a, argv, "invalid size");
    if (ll <= 0)
        return ap_reject(a, argv, "size must be positive");
    size = (uint64_t)ll;
    if (ap_find_or_create(a, argv, RS_T_ARRAY, &sk, &skip) != 0)
        return -1;
    if (skip)
        return 0;
    if (a->sink->ops->array_info(a->sink, sk.id, &count, &max) != 0 ||
        a->sink->ops->array_cursor_get(a->sink, sk.id, &has, &cur) != 0)
        return -1;
    span = count ? max + 1 : 0;
    if (span != 0 && size < span)
        keep = size;
    else if (span != 0 && size > span && has && cur + 1 < span)
        keep = span;
    if (keep && ring_rework(a, &sk, span, keep, has, cur) != 0)
        return -1;
    if (keep && a->sink->ops->array_cursor_get(a->sink, sk.id, &has, &cur) != 0)
        return -1;
    for (int i = 3; i < argc; i++) {
        uint64_t at = has ? cur + 1 : 0;

        if (at >= size)
            at %= size;
        if (a->sink->ops->array_set(a->sink, sk.id, at, &argv[i], NULL) != 0)
            return -1;
        cur = at;
        has = 1;
    }
    return a->sink->ops->array_cursor_set(a->sink, sk.id, 1, cur);
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_array_table[] = {
    { "arset",        apply_arset,        -4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "armset",       apply_armset,       -4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "ardel",        apply_ardel,        -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "ardelrange",   apply_ardelrange,   -4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "arinsert",     apply_arinsert,     -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "arring",       apply_arring,       -4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "arseek",       apply_arseek,        3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
};
const size_t cmd_array_count = CMD_COUNT(cmd_array_table);
