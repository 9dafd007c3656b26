/*
 * cmd_list.c - list commands: pushes (LPUSH, RPUSH, LPUSHX, RPUSHX),
 * pops (LPOP, RPOP with a count, LMPOP), LINSERT, LSET, LREM, LTRIM and
 * moves (LMOVE, RPOPLPUSH).
 *
 * A 7.x master rewrites its blocking commands into those before they
 * reach the stream, but older masters send BRPOPLPUSH verbatim (3.2 and
 * before), so BLPOP, BRPOP, BLMPOP, BRPOPLPUSH and BLMOVE are applied as
 * what they do when a list is ready (the non-blocking effect; waiting is
 * nothing to a replica). A list left empty loses its key, as in Redis.
 * The table at the end is all apply.c sees.
 *
 * Index rules are Redis' own (t_list.c): negative indexes count from the
 * tail, LSET out of range is an error, LTRIM clamps and may empty the list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

/* An element copied out of a sink callback (its bytes are borrowed). */
struct elem {
    char *ptr;
    size_t len;
    int have, oom;
};

static void elem_cb(void *ud, const struct rs_bytes *v)
{
    struct elem *e = ud;
    char *p = malloc(v->len ? v->len : 1);

    if (p == NULL) {
        e->oom = 1;
        return;
    }
    if (v->len)
        memcpy(p, v->ptr, v->len);
    free(e->ptr);
    e->ptr = p;
    e->len = v->len;
    e->have = 1;
}

/* LEFT or RIGHT (any case, as getListPositionFromObjectOrReply): 0, or -1
 * after logging the syntax error. */
static int parse_where(struct applier *a, const struct rs_bytes *argv, const struct rs_bytes *w,
                       int *at_head)
{
    if (ap_arg_is(w, "left"))
        *at_head = 1;
    else if (ap_arg_is(w, "right"))
        *at_head = 0;
    else
        return ap_refuse(a, argv, "syntax error");
    return 0;
}

/* A blocking command's timeout (getTimeoutFromObjectOrReply): a number
 * >= 0. 0, or -1 after logging. */
static int parse_timeout(struct applier *a, const struct rs_bytes *argv, const struct rs_bytes *t)
{
    double d;

    if (ap_parse_double(t, &d) != 0)
        return ap_refuse(a, argv, "timeout is not a float or out of range");
    if (d < 0)
        return ap_refuse(a, argv, "timeout is negative");
    return 0;
}

/* Look up 'key' (not necessarily argv[1]) for a list command: *usable = 1
 * when it is a list; a key of another type logs WRONGTYPE (*wrong = 1). */
static int find_list(struct applier *a, const struct rs_bytes *argv, const struct rs_bytes *key,
                     struct sink_key *sk, int *usable, int *wrong)
{
    *usable = 0;
    *wrong = 0;
    if (ap_find_key(a, key, sk) != 0)
        return -1;
    if (sk->type == RS_T_LIST)
        *usable = 1;
    else if (sk->type != RS_T_NONE)
        *wrong = 1;
    if (*wrong)
        ap_wrongtype(a, argv);
    return 0;
}

/* Pop up to 'count' elements of list 'sk' and delete it when emptied. */
static int pop_and_clean(struct applier *a, const struct sink_key *sk, int from_head,
                         int64_t count)
{
    int64_t popped;

    if (a->sink->ops->list_pop(a->sink, sk->id, from_head, count, NULL, NULL, &popped) != 0)
        return -1;
    return popped > 0 ? ap_delete_if_empty(a, sk) : 0;
}

/* ------------------------------------------------------------------ */
/* Pushes                                                             */
/* ------------------------------------------------------------------ */

static int push_values(struct applier *a, int64_t id, int argc, const struct rs_bytes *argv,
                       int at_head)
{
    /* one by one, so LPUSH k a b c leaves c b a */
    for (int i = 2; i < argc; i++)
        if (a->sink->ops->list_push(a->sink, id, at_head, &argv[i]) != 0)
            return -1;
    return 0;
}

static int push_generic(struct applier *a, int argc, const struct rs_bytes *argv, int at_head)
{
    struct sink_key sk;
    int skip;

    if (ap_find_or_create(a, argv, RS_T_LIST, &sk, &skip) != 0)
        return -1;
    return skip ? 0 : push_values(a, sk.id, argc, argv, at_head);
}

/* LPUSHX/RPUSHX: only onto an existing list. */
static int pushx_generic(struct applier *a, int argc, const struct rs_bytes *argv, int at_head)
{
    struct sink_key sk;
    int skip;

    if (ap_find_typed(a, argv, RS_T_LIST, &sk, &skip) != 0)
        return -1;
    return skip ? 0 : push_values(a, sk.id, argc, argv, at_head);
}

static int apply_lpush(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return push_generic(a, argc, argv, 1);
}

static int apply_rpush(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return push_generic(a, argc, argv, 0);
}

static int apply_lpushx(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return pushx_generic(a, argc, argv, 1);
}

static int apply_rpushx(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return pushx_generic(a, argc, argv, 0);
}

/* ------------------------------------------------------------------ */
/* Pops                                                               */
/* ------------------------------------------------------------------ */

/* LPOP/RPOP key [count]: count >= 0 (0 pops nothing), one without it. */
static int pop_generic(struct applier *a, int argc, const struct rs_bytes *argv, int from_head)
{
    struct sink_key sk;
    long long count = 1;
    int skip;

    if (argc > 3)
        return ap_reject(a, argv, "wrong number of arguments");
    if (argc == 3 && (ap_parse_ll(a, &argv[2], &count) != 0 || count < 0))
        return ap_reject(a, argv, "value is out of range, must be positive");
    if (ap_find_typed(a, argv, RS_T_LIST, &sk, &skip) != 0)
        return -1;
    return skip ? 0 : pop_and_clean(a, &sk, from_head, count);
}

static int apply_lpop(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return pop_generic(a, argc, argv, 1);
}

static int apply_rpop(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return pop_generic(a, argc, argv, 0);
}

/*
 * [B]LMPOP: 'first' is the numkeys argument. Pops up to COUNT (default
 * 1) from the first key that holds a list; a key of another type met
 * before it makes the whole command an error (lmpopGenericCommand).
 */
static int mpop_generic(struct applier *a, int argc, const struct rs_bytes *argv, int first)
{
    long long numkeys, count = 0;
    int at_head = 0, usable, wrong, where;
    struct sink_key sk;

    if (ap_parse_ll(a, &argv[first], &numkeys) != 0 || numkeys < 1)
        return ap_reject(a, argv, "numkeys should be greater than 0");
    if (numkeys >= argc - first - 1)
        return ap_reject(a, argv, "syntax error");
    where = first + 1 + (int)numkeys;
    if (parse_where(a, argv, &argv[where], &at_head) != 0)
        return 0;
    for (int j = where + 1; j < argc; j++) {
        if (count == 0 && ap_arg_is(&argv[j], "count") && j + 1 < argc) {
            j++;
            if (ap_parse_ll(a, &argv[j], &count) != 0 || count < 1)
                return ap_reject(a, argv, "count should be greater than 0");
        } else {
            return ap_reject(a, argv, "syntax error");
        }
    }
    for (int k = first + 1; k < where; k++) {
        if (find_list(a, argv, &argv[k], &sk, &usable, &wrong) != 0)
            return -1;
        if (wrong)
            return 0;
        if (usable)
            return pop_and_clean(a, &sk, at_head, count ? count : 1);
    }
    return 0;
}

static int apply_lmpop(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return mpop_generic(a, argc, argv, 1);
}

static int apply_blmpop(struct applier *a, int argc, const struct rs_bytes *argv)
{
    if (parse_timeout(a, argv, &argv[1]) != 0)
        return 0;
    return mpop_generic(a, argc, argv, 2);
}

/* BLPOP/BRPOP key... timeout: one element from the first list. */
static int bpop_generic(struct applier *a, int argc, const struct rs_bytes *argv, int from_head)
{
    struct sink_key sk;
    int usable, wrong;

    if (parse_timeout(a, argv, &argv[argc - 1]) != 0)
        return 0;
    for (int k = 1; k < argc - 1; k++) {
        if (find_list(a, argv, &argv[k], &sk, &usable, &wrong) != 0)
            return -1;
        if (wrong)
            return 0;
        if (usable)
            return pop_and_clean(a, &sk, from_head, 1);
    }
    return 0;
}

static int apply_blpop(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return bpop_generic(a, argc, argv, 1);
}

static int apply_brpop(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return bpop_generic(a, argc, argv, 0);
}

/* ------------------------------------------------------------------ */
/* Moves                                                              */
/* ------------------------------------------------------------------ */

/*
 * Redis' lmoveGenericCommand: nothing when the source is missing; an
 * error, before anything moves, when either key holds another type. The
 * element is pushed before the source is checked for emptiness, so with
 * src == dst a one-element list survives (a rotation). A new destination
 * has no TTL.
 */
static int move_generic(struct applier *a, const struct rs_bytes *argv, int from_head,
                        int to_head)
{
    struct sink_key src, dst;
    struct elem e = { 0 };
    int64_t popped;
    int usable, wrong, rc = -1;

    if (find_list(a, argv, &argv[1], &src, &usable, &wrong) != 0)
        return -1;
    if (!usable)
        return 0;
    if (find_list(a, argv, &argv[2], &dst, &usable, &wrong) != 0)
        return -1;
    if (wrong)
        return 0;
    if (a->sink->ops->list_pop(a->sink, src.id, from_head, 1, elem_cb, &e, &popped) != 0)
        goto out;
    if (e.oom) {
        rs_fail(&a->err, RS_E_NOMEM, "out of memory moving a list element");
        goto out;
    }
    if (popped == 0 || !e.have) {
        rc = 0;                         /* an empty list cannot be stored */
        goto out;
    }
    if (dst.type == RS_T_NONE &&
        a->sink->ops->key_create(a->sink, a->db, &argv[2], RS_T_LIST, RS_NO_EXPIRE, NULL,
                                 &dst.id) != 0)
        goto out;
    if (a->sink->ops->list_push(a->sink, dst.id, to_head,
                                &(struct rs_bytes){ e.ptr, e.len }) != 0)
        goto out;
    rc = ap_delete_if_empty(a, &src);
out:
    free(e.ptr);
    return rc;
}

/* LMOVE src dst LEFT|RIGHT LEFT|RIGHT */
static int apply_lmove(struct applier *a, int argc, const struct rs_bytes *argv)
{
    int from_head = 0, to_head = 0;

    (void)argc;
    if (parse_where(a, argv, &argv[3], &from_head) != 0 ||
        parse_where(a, argv, &argv[4], &to_head) != 0)
        return 0;
    return move_generic(a, argv, from_head, to_head);
}

/* BLMOVE src dst LEFT|RIGHT LEFT|RIGHT timeout */
static int apply_blmove(struct applier *a, int argc, const struct rs_bytes *argv)
{
    int from_head = 0, to_head = 0;

    (void)argc;
    if (parse_where(a, argv, &argv[3], &from_head) != 0 ||
        parse_where(a, argv, &argv[4], &to_head) != 0 || parse_timeout(a, argv, &argv[5]) != 0)
        return 0;
    return move_generic(a, argv, from_head, to_head);
}

static int apply_rpoplpush(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    return move_generic(a, argv, 0, 1);
}

/* BRPOPLPUSH src dst timeout: sent verbatim by 3.2 and older masters. */
static int apply_brpoplpush(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    if (parse_timeout(a, argv, &argv[3]) != 0)
        return 0;
    return move_generic(a, argv, 0, 1);
}

/* ------------------------------------------------------------------ */
/* Edits by index or value                                            */
/* ------------------------------------------------------------------ */

/* LINSERT's pivot search: the first index from the head whose element
 * equals the pivot (list_range cannot stop early: later ones are ignored). */
struct pivot_ctx {
    const struct rs_bytes *pivot;
    int64_t index;
};

static void pivot_cb(void *ud, int64_t index, const struct rs_bytes *v)
{
    struct pivot_ctx *pc = ud;

    if (pc->index < 0 && ap_bytes_eq(v, pc->pivot))
        pc->index = index;
}

/* LINSERT key BEFORE|AFTER pivot element; a missing pivot changes nothing. */
static int apply_linsert(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct pivot_ctx pc = { &argv[3], -1 };
    struct sink_key sk;
    int after, skip;

    (void)argc;
    if (ap_arg_is(&argv[2], "after"))
        after = 1;
    else if (ap_arg_is(&argv[2], "before"))
        after = 0;
    else
        return ap_reject(a, argv, "syntax error");
    if (ap_find_typed(a, argv, RS_T_LIST, &sk, &skip) != 0)
        return -1;
    if (skip)
        return 0;
    if (a->sink->ops->list_range(a->sink, sk.id, 0, INT64_MAX, pivot_cb, &pc) != 0)
        return -1;
    if (pc.index < 0)
        return 0;
    return a->sink->ops->list_insert(a->sink, sk.id, pc.index, after, &argv[4]);
}

/* LSET key index element: a missing key or an index out of range is an
 * error (Redis propagates nothing). */
static int apply_lset(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    long long index;
    int64_t len;

    (void)argc;
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type == RS_T_NONE)
        return ap_reject(a, argv, "no such key");
    if (sk.type != RS_T_LIST)
        return ap_wrongtype(a, argv);
    if (ap_parse_ll(a, &argv[2], &index) != 0)
        return ap_reject(a, argv, "value is not an integer or out of range");
    if (a->sink->ops->list_len(a->sink, sk.id, &len) != 0)
        return -1;
    if (index < 0)
        index += len;
    if (index < 0 || index >= len)
        return ap_reject(a, argv, "index out of range");
    return a->sink->ops->list_set(a->sink, sk.id, index, &argv[3]);
}

/* LREM key count element: count > 0 from the head, < 0 from the tail,
 * 0 all of them. */
static int apply_lrem(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    long long count;
    int64_t removed;
    int skip;

    (void)argc;
    if (ap_parse_ll(a, &argv[2], &count) != 0)
        return ap_reject(a, argv, "value is not an integer or out of range");
    if (ap_find_typed(a, argv, RS_T_LIST, &sk, &skip) != 0)
        return -1;
    if (skip)
        return 0;
    if (a->sink->ops->list_rem(a->sink, sk.id, count, &argv[3], &removed) != 0)
        return -1;
    return removed > 0 ? ap_delete_if_empty(a, &sk) : 0;
}

/* LTRIM key start stop, with ltrimCommand's index rules: negative
 * indexes count from the tail; an empty range empties (deletes) the list. */
static int apply_ltrim(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    long long start, stop;
    int64_t len;
    int skip;

    (void)argc;
    if (ap_parse_ll(a, &argv[2], &start) != 0 || ap_parse_ll(a, &argv[3], &stop) != 0)
        return ap_reject(a, argv, "value is not an integer or out of range");
    if (ap_find_typed(a, argv, RS_T_LIST, &sk, &skip) != 0)
        return -1;
    if (skip)
        return 0;
    if (a->sink->ops->list_len(a->sink, sk.id, &len) != 0)
        return -1;
    if (start < 0)
        start += len;
    if (stop < 0)
        stop += len;
    if (start < 0)
        start = 0;
    if (start > stop || start >= len) {
        start = 1;                      /* empty range: remove everything */
        stop = 0;
    } else if (stop >= len) {
        stop = len - 1;
    }
    if (start == 0 && stop == len - 1)
        return 0;
    if (a->sink->ops->list_trim(a->sink, sk.id, start, stop) != 0)
        return -1;
    return ap_delete_if_empty(a, &sk);
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_list_table[] = {
    { "lpush",      apply_lpush,      -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "rpush",      apply_rpush,      -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "lpushx",     apply_lpushx,     -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "rpushx",     apply_rpushx,     -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "lpop",       apply_lpop,       -2,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "rpop",       apply_rpop,       -2,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "lmpop",      apply_lmpop,      -4,  CMD_WRITE, { 0, 0, 0, KU_NONE } },
    { "blpop",      apply_blpop,      -3,  CMD_WRITE, { 1, -2, 1, KU_NONE } },
    { "brpop",      apply_brpop,      -3,  CMD_WRITE, { 1, -2, 1, KU_NONE } },
    { "blmpop",     apply_blmpop,     -5,  CMD_WRITE, { 0, 0, 0, KU_NONE } },
    { "lmove",      apply_lmove,       5,  CMD_WRITE, { 1, 2, 1, KU_LMOVE } },
    { "blmove",     apply_blmove,      6,  CMD_WRITE, { 1, 2, 1, KU_LMOVE } },
    { "rpoplpush",  apply_rpoplpush,   3,  CMD_WRITE, { 1, 2, 1, KU_RPOPLPUSH } },
    { "brpoplpush", apply_brpoplpush,  4,  CMD_WRITE, { 1, 2, 1, KU_RPOPLPUSH } },
    { "linsert",    apply_linsert,     5,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "lset",       apply_lset,        4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "lrem",       apply_lrem,        4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "ltrim",      apply_ltrim,       4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
};
const size_t cmd_list_count = CMD_COUNT(cmd_list_table);
