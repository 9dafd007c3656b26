/*
 * cmd_set.c - set commands: SADD, SREM, SMOVE, SINTERSTORE, SUNIONSTORE,
 * SDIFFSTORE, and SPOP should an old or odd master send it verbatim.
 *
 * A set emptied by a command disappears. The *STORE commands compute
 * their result in the sink (set_combine runs as SQL over the member
 * rows), into a hidden scratch key that then takes the destination's
 * name, so a destination that is also a source is read before it is
 * replaced, and no set is held in memory. Start at apply_setop(); the
 * table at the end is all apply.c sees.
 */
#include <stdlib.h>

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

/*
 * SMOVE src dst member, as Redis' smoveCommand: a missing source does
 * nothing; a source or an existing destination of another type is
 * WRONGTYPE; src == dst and an absent member do nothing; an emptied source
 * disappears; a missing destination is created.
 */
static int apply_smove(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key src, dst;
    int skip, removed;

    (void)argc;
    if (ap_find_typed(a, argv, RS_T_SET, &src, &skip) != 0)
        return -1;
    if (skip)
        return 0;
    if (ap_find_key(a, &argv[2], &dst) != 0)
        return -1;
    if (dst.type != RS_T_NONE && dst.type != RS_T_SET)
        return ap_wrongtype(a, argv);
    if (ap_bytes_eq(&argv[1], &argv[2]))
        return 0;
    if (a->sink->ops->set_rem(a->sink, src.id, &argv[3], &removed) != 0)
        return -1;
    if (!removed)
        return 0;
    if (ap_delete_if_empty(a, &src) != 0)
        return -1;
    if (dst.type == RS_T_NONE &&
        a->sink->ops->key_create(a->sink, a->db, &argv[2], RS_T_SET, RS_NO_EXPIRE, NULL,
                                 &dst.id) != 0)
        return -1;
    return a->sink->ops->set_add(a->sink, dst.id, &argv[3], NULL);
}

/* ------------------------------------------------------------------ */
/* SPOP: nondeterministic, so a master sends SREM or DEL instead        */
/* ------------------------------------------------------------------ */

/*
 * Masters since 3.2 never send SPOP (they send what it removed), but a
 * verbatim one cannot be replayed: which members go is random. The
 * deterministic cases (nothing to pop, or everything) are applied; the
 * others are skipped with a warning, since the mirror may now differ.
 */
static int apply_spop(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    long long count = 1;
    int64_t card;
    int skip;

    if (argc > 3)
        return ap_reject(a, argv, "syntax error");
    if (argc == 3 && (ap_parse_ll(a, &argv[2], &count) != 0 || count < 0))
        return ap_reject(a, argv, "value is out of range, must be positive");
    if (ap_find_typed(a, argv, RS_T_SET, &sk, &skip) != 0)
        return -1;
    if (skip || count == 0)
        return 0;
    if (a->sink->ops->set_card(a->sink, sk.id, &card) != 0)
        return -1;
    if (count >= card)
        return a->sink->ops->key_delete(a->sink, sk.id);
    return ap_reject(a, argv, "a verbatim SPOP removes random members and cannot be replayed"
                     " (masters since 3.2 send SREM or DEL): the mirror may now differ"
                     " from the master");
}

/* ------------------------------------------------------------------ */
/* SINTERSTORE, SUNIONSTORE, SDIFFSTORE                                 */
/* ------------------------------------------------------------------ */

/* The scratch key: db -1 is never selected by a master, and the key lives
 * only inside one command (it is renamed or deleted before it returns),
 * so no reader ever sees it. */
#define SCRATCH_DB  (-1)
static const struct rs_bytes scratch_name = { "redsink:setop", 13 };

/* A fresh, empty scratch set in *id. */
static int scratch_new(struct applier *a, int64_t *id)
{
    struct sink_key old;

    if (a->sink->ops->key_find(a->sink, SCRATCH_DB, &scratch_name, &old) != 0)
        return -1;
    if (old.type != RS_T_NONE && a->sink->ops->key_delete(a->sink, old.id) != 0)
        return -1;
    return a->sink->ops->key_create(a->sink, SCRATCH_DB, &scratch_name, RS_T_SET,
                                    RS_NO_EXPIRE, NULL, id);
}

/*
 * Fill scratch set 'out' with the result of 'op' over the n sources
 * (src[i].type RS_T_NONE: a missing key, an empty set). The caller made
 * sure the result may be non-empty: for INTER every source exists, for
 * DIFF the first, for UNION one. Intersection starts from the smallest
 * set, as Redis does (the result is the same, the work smaller).
 */
static int setop_compute(struct applier *a, enum sink_set_op op, const struct sink_key *src,
                         int n, int64_t out)
{
    const struct sink_ops *o = a->sink->ops;
    int first = 0;

    if (op == SINK_SET_UNION) {
        while (src[first].type == RS_T_NONE)   /* the caller made sure one exists */
            first++;
    } else if (op == SINK_SET_INTER) {
        int64_t best = -1, card;

        for (int i = 0; i < n; i++) {
            if (o->set_card(a->sink, src[i].id, &card) != 0)
                return -1;
            if (best < 0 || card < best) {
                best = card;
                first = i;
            }
        }
    }
    if (o->set_combine(a->sink, out, src[first].id, SINK_SET_UNION) != 0)
        return -1;
    for (int i = 0; i < n; i++) {
        if (i == first || src[i].type == RS_T_NONE)
            continue;
        if (op != SINK_SET_DIFF && src[i].id == src[first].id)
            continue;                          /* S op S = S */
        if (o->set_combine(a->sink, out, src[i].id, op) != 0)
            return -1;
    }
    return 0;
}

/*
 * Look the sources argv[2..] up into src[]. 1 when one holds another type
 * (WRONGTYPE, logged: Redis checks every source first), 0, or -1.
 * Before 6.0.15 and in 6.2.0-6.2.4, SINTERSTORE stopped at the first
 * missing source and deleted dst, whatever the later sources held
 * (sinterGenericCommand, t_set.c): 2 then.
 */
static int setop_sources(struct applier *a, int argc, const struct rs_bytes *argv,
                         enum sink_set_op op, struct sink_key *src)
{
    for (int i = 2; i < argc; i++) {
        if (ap_find_key(a, &argv[i], &src[i - 2]) != 0)
            return -1;
        if (src[i - 2].type == RS_T_NONE && op == SINK_SET_INTER &&
            (ap_master_before(a, 60015) || ap_master_between(a, 60200, 60205)))
            return 2;
        if (src[i - 2].type != RS_T_NONE && src[i - 2].type != RS_T_SET) {
            ap_wrongtype(a, argv);
            return 1;
        }
    }
    return 0;
}

/*
 * Replace argv[1] (of any type, TTL dropped) with scratch set 'out', or
 * delete it when 'out' is empty or absent (-1), as Redis' setKey/dbDelete.
 */
static int setop_store(struct applier *a, const struct rs_bytes *dstkey, int64_t out)
{
    const struct sink_ops *o = a->sink->ops;
    struct sink_key dst;
    int empty = 1;

    if (out >= 0 && o->key_is_empty(a->sink, out, RS_T_SET, &empty) != 0)
        return -1;
    if (ap_find_key(a, dstkey, &dst) != 0)
        return -1;
    if (dst.type != RS_T_NONE && o->key_delete(a->sink, dst.id) != 0)
        return -1;
    if (out < 0)
        return 0;
    if (empty)
        return o->key_delete(a->sink, out);
    return o->key_rename(a->sink, out, a->db, dstkey);
}

/* SINTERSTORE / SUNIONSTORE / SDIFFSTORE dst key [key ...]: missing keys
 * are empty sets; an empty result deletes dst. */
static int setop_generic(struct applier *a, int argc, const struct rs_bytes *argv,
                         enum sink_set_op op)
{
    int n = argc - 2, r, nothing = 1;
    struct sink_key *src = malloc((size_t)n * sizeof(*src));
    int64_t out = -1;

    if (src == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory in a set operation");
    if ((r = setop_sources(a, argc, argv, op, src)) != 0) {
        free(src);
        return r < 0 ? -1 : r == 2 ? setop_store(a, &argv[1], -1) : 0;
    }
    /* An empty result is known without computing: an intersection with a
     * missing key, a difference from one, or nothing to unite. */
    for (int i = 0; i < n; i++) {
        if (op == SINK_SET_INTER && src[i].type == RS_T_NONE) {
            nothing = 1;
            break;
        }
        if (src[i].type != RS_T_NONE && (op != SINK_SET_DIFF || i == 0))
            nothing = 0;
    }
    r = 0;
    if (!nothing)
        r = scratch_new(a, &out) || setop_compute(a, op, src, n, out);
    free(src);
    return r ? -1 : setop_store(a, &argv[1], out);
}

static int apply_sinterstore(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return setop_generic(a, argc, argv, SINK_SET_INTER);
}

static int apply_sunionstore(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return setop_generic(a, argc, argv, SINK_SET_UNION);
}

static int apply_sdiffstore(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return setop_generic(a, argc, argv, SINK_SET_DIFF);
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_set_table[] = {
    { "sadd",        apply_sadd,        -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "srem",        apply_srem,        -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "smove",       apply_smove,        4,  CMD_WRITE, { 1, 2, 1, KU_SMOVE } },
    { "spop",        apply_spop,        -2,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "sinterstore", apply_sinterstore, -3,  CMD_WRITE, { 1, -1, 1, KU_FIRST } },
    { "sunionstore", apply_sunionstore, -3,  CMD_WRITE, { 1, -1, 1, KU_FIRST } },
    { "sdiffstore",  apply_sdiffstore,  -3,  CMD_WRITE, { 1, -1, 1, KU_FIRST } },
};
const size_t cmd_set_count = CMD_COUNT(cmd_set_table);
