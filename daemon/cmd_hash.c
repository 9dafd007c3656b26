/*
 * cmd_hash.c - hash commands: HSET, HMSET, HDEL.
 *
 * A hash emptied by HDEL disappears. Field TTLs (Redis 7.4) are stored
 * by the sink; HSET clears a written field's TTL. The table at the end is
 * all apply.c sees.
 */
#include "apply_int.h"

/* HSET / HMSET key field value [field value ...]: a written field loses
 * its own TTL, as in Redis 7.4. */
static int apply_hset(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int skip;

    if (argc % 2 == 1)
        return ap_reject(a, argv, "wrong number of arguments");
    if (ap_find_or_create(a, argv, RS_T_HASH, &sk, &skip) != 0)
        return -1;
    for (int i = 2; !skip && i < argc; i += 2)
        if (a->sink->ops->hash_set(a->sink, sk.id, &argv[i], &argv[i + 1], RS_NO_EXPIRE,
                                   NULL) != 0)
            return -1;
    return 0;
}

static int apply_hdel(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int skip, removed, any = 0;

    if (ap_find_typed(a, argv, RS_T_HASH, &sk, &skip) != 0)
        return -1;
    for (int i = 2; !skip && i < argc; i++) {
        if (a->sink->ops->hash_del(a->sink, sk.id, &argv[i], &removed) != 0)
            return -1;
        any |= removed;
    }
    return any ? ap_delete_if_empty(a, &sk) : 0;
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_hash_table[] = {
    { "hset",      apply_hset,       -4,  CMD_WRITE },
    { "hmset",     apply_hset,       -4,  CMD_WRITE },
    { "hdel",      apply_hdel,       -3,  CMD_WRITE },
};
const size_t cmd_hash_count = CMD_COUNT(cmd_hash_table);
