/*
 * cmd_set.c - set commands: SADD, SREM.
 *
 * A set emptied by SREM disappears. The table at the end is all apply.c
 * sees.
 */
#include "apply_int.h"

static int apply_sadd(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int skip;

    if (ap_find_or_create(a, argv, RS_T_SET, &sk, &skip) != 0)
        return -1;
    for (int i = 2; !skip && i < argc; i++)
        if (a->sink->ops->set_add(a->sink, sk.id, &argv[i], NULL) != 0)
            return -1;
    return 0;
}

static int apply_srem(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int skip, removed, any = 0;

    if (ap_find_typed(a, argv, RS_T_SET, &sk, &skip) != 0)
        return -1;
    for (int i = 2; !skip && i < argc; i++) {
        if (a->sink->ops->set_rem(a->sink, sk.id, &argv[i], &removed) != 0)
            return -1;
        any |= removed;
    }
    return any ? ap_delete_if_empty(a, &sk) : 0;
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_set_table[] = {
    { "sadd",      apply_sadd,       -3,  CMD_WRITE },
    { "srem",      apply_srem,       -3,  CMD_WRITE },
};
const size_t cmd_set_count = CMD_COUNT(cmd_set_table);
