/*
 * cmd_hash.c - hash commands: HSET, HMSET, HSETNX, HDEL, HINCRBY,
 * HINCRBYFLOAT, and the Redis 7.4 field TTLs: HPEXPIREAT (as a master
 * propagates HEXPIRE and friends), HEXPIRE, HPEXPIRE, HEXPIREAT, HPERSIST.
 *
 * A hash emptied by HDEL disappears. Field TTLs are stored by the sink and
 * never acted on here: a field past its TTL stays until the master's HDEL
 * (the views hide it). HSET clears a written field's TTL, HINCRBY keeps
 * it, as Redis 7.4 does. The table at the end is all apply.c sees.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* hash_get's callback when only the field's TTL matters: into *(int64_t *)ud. */
static void ttl_cb(void *ud, const struct rs_bytes *v, int64_t expire_ms)
{
    (void)v;
    *(int64_t *)ud = expire_ms;
}

/* HSETNX key field value: only a new field is written (a field past its
 * TTL still exists on a replica until the master's HDEL). */
static int apply_hsetnx(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int64_t ttl;
    int skip, found = 0;

    (void)argc;
    if (ap_find_or_create(a, argv, RS_T_HASH, &sk, &skip) != 0)
        return -1;
    if (skip)
        return 0;
    if (a->sink->ops->hash_get(a->sink, sk.id, &argv[2], ttl_cb, &ttl, &found) != 0)
        return -1;
    if (found)
        return 0;
    return a->sink->ops->hash_set(a->sink, sk.id, &argv[2], &argv[3], RS_NO_EXPIRE, NULL);
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
/* HINCRBY, HINCRBYFLOAT                                                */
/* ------------------------------------------------------------------ */

/* A field read back: its value in a->scratch, its TTL here. */
struct field_read {
    struct applier *a;
    int64_t expire_ms;
    int oom;
};

static void field_cb(void *ud, const struct rs_bytes *v, int64_t expire_ms)
{
    struct field_read *fr = ud;
    struct applier *a = fr->a;

    fr->expire_ms = expire_ms;
    if (ap_scratch_set(a, v) != 0)
        fr->oom = 1;
}

/*
 * The hash argv[1] (created when missing, as Redis'
 * hashTypeLookupWriteOrCreate) and its field argv[2]: *found, the value
 * in a->scratch and the field's TTL. *skip = 1 on WRONGTYPE (logged).
 */
static int incr_lookup(struct applier *a, const struct rs_bytes *argv, struct sink_key *sk,
                       int *skip, int *found, struct rs_bytes *value, int64_t *expire_ms)
{
    struct field_read fr = { a, RS_NO_EXPIRE, 0 };

    *found = 0;
    if (ap_find_or_create(a, argv, RS_T_HASH, sk, skip) != 0)
        return -1;
    if (*skip)
        return 0;
    if (a->sink->ops->hash_get(a->sink, sk->id, &argv[2], field_cb, &fr, found) != 0)
        return -1;
    if (fr.oom)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory reading a hash field");
    value->ptr = a->scratch;
    value->len = *found ? a->scratch_len : 0;
    *expire_ms = fr.expire_ms;
    return 0;
}

/* HINCRBY key field increment: 64-bit, refused on a non-integer field or
 * an overflow; the field keeps its TTL (Redis 7.4 HASH_SET_KEEP_TTL). */
static int apply_hincrby(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    struct rs_bytes cur;
    long long incr, value = 0;
    int64_t expire_ms = RS_NO_EXPIRE;
    int skip, found, n;
    char buf[32];

    (void)argc;
    if (ap_parse_ll(a, &argv[3], &incr) != 0)
        return ap_reject(a, argv, "value is not an integer or out of range");
    if (incr_lookup(a, argv, &sk, &skip, &found, &cur, &expire_ms) != 0)
        return -1;
    if (skip)
        return 0;
    if (found && ap_parse_ll(a, &cur, &value) != 0)
        return ap_reject(a, argv, "hash value is not an integer");
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value))
        return ap_reject(a, argv, "increment or decrement would overflow");
    n = snprintf(buf, sizeof(buf), "%lld", value + incr);
    return a->sink->ops->hash_set(a->sink, sk.id, &argv[2], &(struct rs_bytes){ buf, (size_t)n },
                                  expire_ms, NULL);
}

/*
 * HINCRBYFLOAT key field increment. Masters propagate it as HSET with the
 * result, so this runs only if one ever arrives verbatim: long double
 * arithmetic and Redis' formatting, on x86-64 the same as the master's.
 */
static int apply_hincrbyfloat(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    struct rs_bytes cur;
    long double incr, value = 0;
    int64_t expire_ms = RS_NO_EXPIRE;
    int skip, found;
    char *buf;
    size_t n;
    int rc;

    (void)argc;
    if (ap_parse_ld(argv[3].ptr, argv[3].len, &incr) != 0)
        return ap_reject(a, argv, "value is not a valid float");
    if (isinf(incr))
        return ap_reject(a, argv, "value is NaN or Infinity");
    if (incr_lookup(a, argv, &sk, &skip, &found, &cur, &expire_ms) != 0)
        return -1;
    if (skip)
        return 0;
    if (found && ap_parse_ld(cur.ptr, cur.len, &value) != 0)
        return ap_reject(a, argv, "hash value is not a float");
    value += incr;
    if (isnan(value) || isinf(value))
        return ap_reject(a, argv, "increment would produce NaN or Infinity");
    if ((buf = malloc(AP_LD_CHARS)) == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory in HINCRBYFLOAT");
    n = ap_format_ld(buf, AP_LD_CHARS, value);
    rc = a->sink->ops->hash_set(a->sink, sk.id, &argv[2], &(struct rs_bytes){ buf, n },
                                expire_ms, NULL);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Field TTLs (Redis 7.4)                                               */
/* ------------------------------------------------------------------ */

#define HFE_MAX_ABS_TIME_MSEC ((int64_t)0x0000FFFFFFFFFFFF >> 2)   /* t_hash.c */

enum hfe_cond { HFE_NONE, HFE_NX, HFE_XX, HFE_GT, HFE_LT };

/*
 * "FIELDS numfields field ..." starting at argv[at]: the number of fields
 * must be a strict integer >= 1 that matches the arguments left. The index
 * of the first field, or -1 after logging.
 */
static int fields_arg(struct applier *a, int argc, const struct rs_bytes *argv, int at)
{
    long long n;

    if (at + 1 >= argc || !ap_arg_is(&argv[at], "fields"))
        return ap_refuse(a, argv, "Mandatory argument FIELDS is missing or not at the right position");
    if (ap_parse_ll(a, &argv[at + 1], &n) != 0 || n < 1)
        return ap_refuse(a, argv, "Parameter `numFields` should be greater than 0");
    if (n != argc - at - 2)
        return ap_refuse(a, argv, "The `numfields` parameter must match the number of arguments");
    return at + 2;
}

/* Would Redis' hashTypeSetEx set a field whose TTL is 'cur' to 'at'?
 * GT and LT treat "no TTL" as infinite: GT never, LT always. */
static int hfe_cond_met(enum hfe_cond cond, int64_t cur, int64_t at)
{
    if (cur == RS_NO_EXPIRE)
        return cond != HFE_XX && cond != HFE_GT;
    switch (cond) {
    case HFE_NX: return 0;
    case HFE_GT: return at > cur;
    case HFE_LT: return at < cur;
    default: return 1;
    }
}

/*
 * H[P]EXPIRE[AT] key time [NX|XX|GT|LT] FIELDS n field ...: Redis 7.4's
 * hexpireGenericCommand on a replica. 'secs': the time is in seconds;
 * 'relative': against our clock (a master sends only HPEXPIREAT, with an
 * absolute time). A time in the past is simply set: the master deletes
 * such fields itself and sends HDEL.
 */
static int hexpire_generic(struct applier *a, int argc, const struct rs_bytes *argv, int secs,
                           int relative)
{
    int64_t base = relative ? rs_now_ms() : 0, cur;
    enum hfe_cond cond = HFE_NONE;
    struct sink_key sk;
    long long at;
    int first, skip, found;

    if (ap_parse_ll(a, &argv[2], &at) != 0)
        return ap_reject(a, argv, "value is not an integer or out of range");
    if (at < 0)
        return ap_reject(a, argv, "invalid expire time, must be >= 0");
    if (secs) {
        if (at > HFE_MAX_ABS_TIME_MSEC / 1000)
            return ap_reject(a, argv, "invalid expire time");
        at *= 1000;
    }
    if (at > HFE_MAX_ABS_TIME_MSEC - base)
        return ap_reject(a, argv, "invalid expire time");
    at += base;
    if (ap_arg_is(&argv[3], "nx")) cond = HFE_NX;
    else if (ap_arg_is(&argv[3], "xx")) cond = HFE_XX;
    else if (ap_arg_is(&argv[3], "gt")) cond = HFE_GT;
    else if (ap_arg_is(&argv[3], "lt")) cond = HFE_LT;
    if ((first = fields_arg(a, argc, argv, cond == HFE_NONE ? 3 : 4)) < 0)
        return 0;
    if (ap_find_typed(a, argv, RS_T_HASH, &sk, &skip) != 0)
        return -1;
    /* one field at a time, so a field named twice sees its new TTL */
    for (int i = first; !skip && i < argc; i++) {
        cur = RS_NO_EXPIRE;
        if (a->sink->ops->hash_get(a->sink, sk.id, &argv[i], ttl_cb, &cur, &found) != 0)
            return -1;
        if (found && hfe_cond_met(cond, cur, at) &&
            a->sink->ops->hash_set_expire(a->sink, sk.id, &argv[i], at, &found) != 0)
            return -1;
    }
    return 0;
}

static int apply_hpexpireat(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return hexpire_generic(a, argc, argv, 0, 0);
}

static int apply_hexpireat(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return hexpire_generic(a, argc, argv, 1, 0);
}

static int apply_hpexpire(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return hexpire_generic(a, argc, argv, 0, 1);
}

static int apply_hexpire(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return hexpire_generic(a, argc, argv, 1, 1);
}

/*
 * HPERSIST key FIELDS n field ...: drop the fields' TTLs. Redis skips a
 * field already past its TTL by the clock of the server running the
 * command; the master sent this because it persisted fields by its own
 * clock, and a replica keeps such fields until the master's HDEL, so we
 * persist every named field that has a TTL (no clock skew can then leave
 * a field hidden here that the master keeps).
 */
static int apply_hpersist(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int64_t cur;
    int first, skip, found;

    if ((first = fields_arg(a, argc, argv, 2)) < 0)
        return 0;
    if (ap_find_typed(a, argv, RS_T_HASH, &sk, &skip) != 0)
        return -1;
    for (int i = first; !skip && i < argc; i++) {
        cur = RS_NO_EXPIRE;
        if (a->sink->ops->hash_get(a->sink, sk.id, &argv[i], ttl_cb, &cur, &found) != 0)
            return -1;
        if (found && cur != RS_NO_EXPIRE &&
            a->sink->ops->hash_set_expire(a->sink, sk.id, &argv[i], RS_NO_EXPIRE, &found) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_hash_table[] = {
    { "hset",         apply_hset,         -4,  CMD_WRITE },
    { "hmset",        apply_hset,         -4,  CMD_WRITE },
    { "hsetnx",       apply_hsetnx,        4,  CMD_WRITE },
    { "hdel",         apply_hdel,         -3,  CMD_WRITE },
    { "hincrby",      apply_hincrby,       4,  CMD_WRITE },
    { "hincrbyfloat", apply_hincrbyfloat,  4,  CMD_WRITE },
    { "hpexpireat",   apply_hpexpireat,   -6,  CMD_WRITE },
    { "hexpireat",    apply_hexpireat,    -6,  CMD_WRITE },
    { "hpexpire",     apply_hpexpire,     -6,  CMD_WRITE },
    { "hexpire",      apply_hexpire,      -6,  CMD_WRITE },
    { "hpersist",     apply_hpersist,     -5,  CMD_WRITE },
};
const size_t cmd_hash_count = CMD_COUNT(cmd_hash_table);
