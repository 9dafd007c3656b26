/*
 * cmd_keys.c - commands on whole keys: DEL, UNLINK, the EXPIRE family,
 * PERSIST, RENAME, RENAMENX, FLUSHDB and FLUSHALL.
 *
 * A key past its TTL still exists here (the master deletes it with its own
 * DEL); an expire time in the past is stored as 0, never as "no TTL".
 * Helpers come from apply_int.h; the table at the end is all apply.c sees.
 */
#include <limits.h>

#include "apply_int.h"

static int apply_del(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;

    for (int i = 1; i < argc; i++) {
        if (ap_find_key(a, &argv[i], &sk) != 0)
            return -1;
        if (sk.type != RS_T_NONE && a->sink->ops->key_delete(a->sink, sk.id) != 0)
            return -1;
    }
    return 0;
}

#define EXP_NX 1
#define EXP_XX 2
#define EXP_GT 4
#define EXP_LT 8

/* Redis' expireGenericCommand as it runs for the master's client. */
static int expire_generic(struct applier *a, int argc, const struct rs_bytes *argv,
                          int relative, int seconds)
{
    struct sink_key sk;
    long long when;
    int flags = 0;

    for (int i = 3; i < argc; i++) {
        if (ap_arg_is(&argv[i], "nx"))
            flags |= EXP_NX;
        else if (ap_arg_is(&argv[i], "xx"))
            flags |= EXP_XX;
        else if (ap_arg_is(&argv[i], "gt"))
            flags |= EXP_GT;
        else if (ap_arg_is(&argv[i], "lt"))
            flags |= EXP_LT;
        else
            return ap_reject(a, argv, "Unsupported option");
    }
    if ((flags & EXP_NX) && (flags & (EXP_XX | EXP_GT | EXP_LT)))
        return ap_reject(a, argv,
                         "NX and XX, GT or LT options at the same time are not compatible");
    if ((flags & EXP_GT) && (flags & EXP_LT))
        return ap_reject(a, argv, "GT and LT options at the same time are not compatible");
    if (ap_parse_ll(&argv[2], &when) != 0)
        return ap_reject(a, argv, "value is not an integer or out of range");
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)
            return ap_reject(a, argv, "invalid expire time");
        when *= 1000;
    }
    if (relative) {
        /* an old master's relative TTL: against our clock, as its replica did */
        int64_t now = rs_now_ms();

        if (when > LLONG_MAX - now)
            return ap_reject(a, argv, "invalid expire time");
        when += now;
    }
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type == RS_T_NONE)
        return 0;
    if (((flags & EXP_NX) && sk.expire_ms != RS_NO_EXPIRE) ||
        ((flags & EXP_XX) && sk.expire_ms == RS_NO_EXPIRE) ||
        ((flags & EXP_GT) && (sk.expire_ms == RS_NO_EXPIRE || when <= sk.expire_ms)) ||
        ((flags & EXP_LT) && sk.expire_ms != RS_NO_EXPIRE && when >= sk.expire_ms))
        return 0;
    /* A replica keeps a key whose time is past (the master sends the DEL);
     * any past time hides it the same, and -1 would mean "no TTL". */
    if (when < 0)
        when = 0;
    return a->sink->ops->key_set_expire(a->sink, sk.id, when);
}

static int apply_pexpireat(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return expire_generic(a, argc, argv, 0, 0);
}

static int apply_expireat(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return expire_generic(a, argc, argv, 0, 1);
}

static int apply_pexpire(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return expire_generic(a, argc, argv, 1, 0);
}

static int apply_expire(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return expire_generic(a, argc, argv, 1, 1);
}

static int apply_persist(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;

    (void)argc;
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type == RS_T_NONE || sk.expire_ms == RS_NO_EXPIRE)
        return 0;
    return a->sink->ops->key_set_expire(a->sink, sk.id, RS_NO_EXPIRE);
}

/* RENAME / RENAMENX: the TTL travels with the key; an existing
 * destination is replaced (RENAME) or wins (RENAMENX). */
static int rename_generic(struct applier *a, const struct rs_bytes *argv, int nx)
{
    struct sink_key src, dst;

    if (ap_find_key(a, &argv[1], &src) != 0)
        return -1;
    if (src.type == RS_T_NONE)
        return ap_reject(a, argv, "no such key");
    if (ap_bytes_eq(&argv[1], &argv[2]))
        return 0;
    if (ap_find_key(a, &argv[2], &dst) != 0)
        return -1;
    if (dst.type != RS_T_NONE) {
        if (nx)
            return 0;
        if (a->sink->ops->key_delete(a->sink, dst.id) != 0)
            return -1;
    }
    return a->sink->ops->key_rename(a->sink, src.id, a->db, &argv[2]);
}

static int apply_rename(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    return rename_generic(a, argv, 0);
}

static int apply_renamenx(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    return rename_generic(a, argv, 1);
}

/* FLUSHDB / FLUSHALL [ASYNC|SYNC]: async or not, the result is the same. */
static int flush_args_ok(int argc, const struct rs_bytes *argv)
{
    return argc == 1 ||
           (argc == 2 && (ap_arg_is(&argv[1], "sync") || ap_arg_is(&argv[1], "async")));
}

static int apply_flushdb(struct applier *a, int argc, const struct rs_bytes *argv)
{
    if (!flush_args_ok(argc, argv))
        return ap_reject(a, argv, "syntax error");
    return a->sink->ops->flush_db(a->sink, a->db);
}

static int apply_flushall(struct applier *a, int argc, const struct rs_bytes *argv)
{
    if (!flush_args_ok(argc, argv))
        return ap_reject(a, argv, "syntax error");
    return a->sink->ops->flush_db(a->sink, -1);
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_keys_table[] = {
    { "del",       apply_del,        -2,  CMD_WRITE },
    { "unlink",    apply_del,        -2,  CMD_WRITE },
    { "pexpireat", apply_pexpireat,  -3,  CMD_WRITE },
    { "expireat",  apply_expireat,   -3,  CMD_WRITE },
    { "pexpire",   apply_pexpire,    -3,  CMD_WRITE },
    { "expire",    apply_expire,     -3,  CMD_WRITE },
    { "persist",   apply_persist,    2,   CMD_WRITE },
    { "rename",    apply_rename,     3,   CMD_WRITE },
    { "renamenx",  apply_renamenx,   3,   CMD_WRITE },
    { "flushdb",   apply_flushdb,    -1,  CMD_WRITE },
    { "flushall",  apply_flushall,   -1,  CMD_WRITE },
};
const size_t cmd_keys_count = CMD_COUNT(cmd_keys_table);
