/*
 * cmd_string.c - string commands: SET (every option), SETNX, SETEX,
 * PSETEX, GETSET, GETDEL, MSET, MSETNX, INCR/DECR/INCRBY/DECRBY, APPEND.
 *
 * Writing a string replaces a key of any other type (Redis' setKey);
 * relative expire times are taken against our clock at receipt. Start at
 * apply_set(); the table at the end is all apply.c sees.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"

/* Parse SET's options from argv[3]. 0, or -1 after logging a syntax error. */
static int set_options(struct applier *a, int argc, const struct rs_bytes *argv, int *nx,
                       int *xx, int *get, int *keepttl, enum exp_unit *unit,
                       const struct rs_bytes **exp)
{
    static const struct { const char *name; enum exp_unit unit; } units[] = {
        { "ex", EXPU_EX }, { "px", EXPU_PX }, { "exat", EXPU_EXAT }, { "pxat", EXPU_PXAT },
    };

    for (int j = 3; j < argc; j++) {
        const struct rs_bytes *o = &argv[j];
        int k, has_next = j + 1 < argc;

        if (ap_arg_is(o, "nx") && !*xx) {
            *nx = 1;
            continue;
        }
        if (ap_arg_is(o, "xx") && !*nx) {
            *xx = 1;
            continue;
        }
        if (ap_arg_is(o, "get")) {
            *get = 1;
            continue;
        }
        if (ap_arg_is(o, "keepttl") && *unit == EXPU_NONE) {
            *keepttl = 1;
            continue;
        }
        for (k = 0; k < 4; k++)
            if (ap_arg_is(o, units[k].name))
                break;
        /* the same unit twice is fine (the last value wins), two differ not */
        if (k < 4 && has_next && !*keepttl && (*unit == EXPU_NONE || *unit == units[k].unit)) {
            *unit = units[k].unit;
            *exp = &argv[++j];
            continue;
        }
        ap_reject(a, argv, "syntax error");
        return -1;
    }
    return 0;
}

/* SET key value [NX|XX] [GET] [KEEPTTL|EX s|PX ms|EXAT s|PXAT ms] */
static int apply_set(struct applier *a, int argc, const struct rs_bytes *argv)
{
    int nx = 0, xx = 0, get = 0, keepttl = 0, found;
    enum exp_unit unit = EXPU_NONE;
    const struct rs_bytes *exp = NULL;
    int64_t expire = RS_NO_EXPIRE;
    struct sink_key sk;

    if (set_options(a, argc, argv, &nx, &xx, &get, &keepttl, &unit, &exp) != 0)
        return 0;
    if (unit != EXPU_NONE && (expire = ap_expire_arg(a, argv, exp, unit)) < 0)
        return 0;
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (get && sk.type != RS_T_NONE && sk.type != RS_T_STRING)
        return ap_wrongtype(a, argv);
    found = sk.type != RS_T_NONE;
    if ((nx && found) || (xx && !found))
        return 0;
    if (unit == EXPU_NONE)
        expire = keepttl && found ? sk.expire_ms : RS_NO_EXPIRE;
    return ap_store_string(a, &argv[1], &sk, &argv[2], expire);
}

static int apply_setnx(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;

    (void)argc;
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE)
        return 0;
    return ap_store_string(a, &argv[1], &sk, &argv[2], RS_NO_EXPIRE);
}

/* SETEX key seconds value / PSETEX key ms value */
static int setex_generic(struct applier *a, const struct rs_bytes *argv, enum exp_unit unit)
{
    struct sink_key sk;
    int64_t expire = ap_expire_arg(a, argv, &argv[2], unit);

    if (expire < 0)
        return 0;
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    return ap_store_string(a, &argv[1], &sk, &argv[3], expire);
}

static int apply_setex(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    return setex_generic(a, argv, EXPU_EX);
}

static int apply_psetex(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    return setex_generic(a, argv, EXPU_PX);
}

/* GETSET key value: SET without options, but WRONGTYPE on a non-string. */
static int apply_getset(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;

    (void)argc;
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_STRING)
        return ap_wrongtype(a, argv);
    return ap_store_string(a, &argv[1], &sk, &argv[2], RS_NO_EXPIRE);
}

static int apply_getdel(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;

    (void)argc;
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type == RS_T_NONE)
        return 0;
    if (sk.type != RS_T_STRING)
        return ap_wrongtype(a, argv);
    return a->sink->ops->key_delete(a->sink, sk.id);
}

/* MSET k v [k v ...] and MSETNX (all or nothing). */
static int mset_generic(struct applier *a, int argc, const struct rs_bytes *argv, int nx)
{
    struct sink_key sk;

    if (argc % 2 == 0)
        return ap_reject(a, argv, "wrong number of arguments");
    if (nx) {
        for (int i = 1; i < argc; i += 2) {
            if (ap_find_key(a, &argv[i], &sk) != 0)
                return -1;
            if (sk.type != RS_T_NONE)
                return 0;
        }
    }
    for (int i = 1; i < argc; i += 2) {
        if (ap_find_key(a, &argv[i], &sk) != 0 ||
            ap_store_string(a, &argv[i], &sk, &argv[i + 1], RS_NO_EXPIRE) != 0)
            return -1;
    }
    return 0;
}

static int apply_mset(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return mset_generic(a, argc, argv, 0);
}

static int apply_msetnx(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return mset_generic(a, argc, argv, 1);
}

/* INCR/DECR/INCRBY/DECRBY: 64-bit, the TTL stays, the result is decimal text. */
static int incr_generic(struct applier *a, const struct rs_bytes *argv, long long incr)
{
    struct sink_key sk;
    long long value = 0;
    char buf[32];
    struct rs_bytes out;

    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_STRING)
        return ap_wrongtype(a, argv);
    if (sk.type == RS_T_STRING) {
        if (ap_read_string(a, sk.id) != 0)
            return -1;
        if (rs_parse_ll(a->scratch, a->scratch_len, &value) != 0)
            return ap_reject(a, argv, "value is not an integer or out of range");
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value))
        return ap_reject(a, argv, "increment or decrement would overflow");
    value += incr;
    out.ptr = buf;
    out.len = (size_t)snprintf(buf, sizeof(buf), "%lld", value);
    return ap_store_string(a, &argv[1], &sk, &out,
                           sk.type == RS_T_NONE ? RS_NO_EXPIRE : sk.expire_ms);
}

static int apply_incr(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    return incr_generic(a, argv, 1);
}

static int apply_decr(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    return incr_generic(a, argv, -1);
}

static int apply_incrby(struct applier *a, int argc, const struct rs_bytes *argv)
{
    long long incr;

    (void)argc;
    if (ap_parse_ll(&argv[2], &incr) != 0)
        return ap_reject(a, argv, "value is not an integer or out of range");
    return incr_generic(a, argv, incr);
}

static int apply_decrby(struct applier *a, int argc, const struct rs_bytes *argv)
{
    long long decr;

    (void)argc;
    if (ap_parse_ll(&argv[2], &decr) != 0)
        return ap_reject(a, argv, "value is not an integer or out of range");
    if (decr == LLONG_MIN)
        return ap_reject(a, argv, "decrement would overflow");
    return incr_generic(a, argv, -decr);
}

static int apply_append(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    struct rs_bytes out;
    char *buf;
    int rc;

    (void)argc;
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type == RS_T_NONE)
        return ap_store_string(a, &argv[1], &sk, &argv[2], RS_NO_EXPIRE);
    if (sk.type != RS_T_STRING)
        return ap_wrongtype(a, argv);
    if (ap_read_string(a, sk.id) != 0)
        return -1;
    if ((buf = malloc(a->scratch_len + argv[2].len + 1)) == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory in APPEND");
    if (a->scratch_len)
        memcpy(buf, a->scratch, a->scratch_len);
    if (argv[2].len)
        memcpy(buf + a->scratch_len, argv[2].ptr, argv[2].len);
    out.ptr = buf;
    out.len = a->scratch_len + argv[2].len;
    rc = a->sink->ops->string_set(a->sink, sk.id, &out);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_string_table[] = {
    { "set",       apply_set,        -3,  CMD_WRITE },
    { "setnx",     apply_setnx,      3,   CMD_WRITE },
    { "setex",     apply_setex,      4,   CMD_WRITE },
    { "psetex",    apply_psetex,     4,   CMD_WRITE },
    { "getset",    apply_getset,     3,   CMD_WRITE },
    { "getdel",    apply_getdel,     2,   CMD_WRITE },
    { "mset",      apply_mset,       -3,  CMD_WRITE },
    { "msetnx",    apply_msetnx,     -3,  CMD_WRITE },
    { "incr",      apply_incr,       2,   CMD_WRITE },
    { "decr",      apply_decr,       2,   CMD_WRITE },
    { "incrby",    apply_incrby,     3,   CMD_WRITE },
    { "decrby",    apply_decrby,     3,   CMD_WRITE },
    { "append",    apply_append,     3,   CMD_WRITE },
};
const size_t cmd_string_count = CMD_COUNT(cmd_string_table);
