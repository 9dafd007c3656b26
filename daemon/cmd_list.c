/*
 * cmd_list.c - list commands: LPUSH, RPUSH.
 *
 * Pops and other reads of list elements still go to the unknown-command
 * path. The table at the end is all apply.c sees.
 */
#include "apply_int.h"

static int push_generic(struct applier *a, int argc, const struct rs_bytes *argv, int at_head)
{
    struct sink_key sk;
    int skip;

    if (ap_find_or_create(a, argv, RS_T_LIST, &sk, &skip) != 0)
        return -1;
    /* one by one, so LPUSH k a b c leaves c b a */
    for (int i = 2; !skip && i < argc; i++)
        if (a->sink->ops->list_push(a->sink, sk.id, at_head, &argv[i]) != 0)
            return -1;
    return 0;
}

static int apply_lpush(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return push_generic(a, argc, argv, 1);
}

static int apply_rpush(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return push_generic(a, argc, argv, 0);
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_list_table[] = {
    { "lpush",     apply_lpush,      -3,  CMD_WRITE },
    { "rpush",     apply_rpush,      -3,  CMD_WRITE },
};
const size_t cmd_list_count = CMD_COUNT(cmd_list_table);
