/*
 * cmd_zset.c - sorted-set commands: ZADD (every option), ZREM.
 *
 * Scores are parsed as Redis' string2d does, all of them before anything
 * changes. Start at apply_zadd(); the table at the end is all apply.c
 * sees.
 */
#include <math.h>
#include <stdlib.h>

#include "apply_int.h"

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

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_zset_table[] = {
    { "zadd",      apply_zadd,       -4,  CMD_WRITE },
    { "zrem",      apply_zrem,       -3,  CMD_WRITE },
};
const size_t cmd_zset_count = CMD_COUNT(cmd_zset_table);
