/*
 * cmd_hash.c - hash commands: HSET, HMSET, HSETNX, HDEL, HINCRBY,
 * HINCRBYFLOAT, and the Redis 7.4 field TTLs: HPEXPIREAT (as a master
 * propagates HEXPIRE and friends), HEXPIRE, HPEXPIRE, HEXPIREAT, HPERSIST,
 * and Redis 8.0 / Valkey 9.0's HSETEX (both syntaxes), HGETEX, HGETDEL.
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
 * With 'incr' (HINCRBY), the sink first tries the sum in one statement:
 * *skip = 1 as well when it did.
 */
static int incr_lookup(struct applier *a, const struct rs_bytes *argv, struct sink_key *sk,
                       int *skip, int *found, struct rs_bytes *value, int64_t *expire_ms,
                       const long long *incr)
{
    struct field_read fr = { a, RS_NO_EXPIRE, 0 };

    *found = 0;
    if (ap_find_or_create(a, argv, RS_T_HASH, sk, skip) != 0)
        return -1;
    if (*skip)
        return 0;
    if (incr && a->sink->ops->hash_incr) {
        if (a->sink->ops->hash_incr(a->sink, sk->id, &argv[2], *incr, skip) != 0)
            return -1;
        if (*skip)
            return 0;
    }
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
    if (incr_lookup(a, argv, &sk, &skip, &found, &cur, &expire_ms, &incr) != 0)
        return -1;
    if (skip)
        return 0;
    if (found && ap_parse_ll(a, &cur, &value) != 0)
        return ap_reject(a, argv, "hash value is not an integer");
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value))
        return ap_reject(a, argv, "increment or decrement would overflow");
    n = (int)rs_ll2str(buf, value + incr);
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
    if (incr_lookup(a, argv, &sk, &skip, &found, &cur, &expire_ms, NULL) != 0)
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

/*
 * A field expire time argument as Redis' parseExpireTime reads it: a
 * strict integer >= 0, in seconds when 'secs', relative to our clock when
 * 'relative', within HFE_MAX_ABS_TIME_MSEC. 0 with the absolute unix ms
 * in *at, or -1 after logging.
 */
static int hfe_time(struct applier *a, const struct rs_bytes *argv, const struct rs_bytes *v,
                    int secs, int relative, int64_t *at)
{
    int64_t base = relative ? rs_now_ms() : 0;
    long long t;

    if (ap_parse_ll(a, v, &t) != 0)
        return ap_refuse(a, argv, "value is not an integer or out of range");
    if (t < 0)
        return ap_refuse(a, argv, "invalid expire time, must be >= 0");
    if (secs) {
        if (t > HFE_MAX_ABS_TIME_MSEC / 1000)
            return ap_refuse(a, argv, "invalid expire time");
        t *= 1000;
    }
    if (t > HFE_MAX_ABS_TIME_MSEC - base)
        return ap_refuse(a, argv, "invalid expire time");
    *at = t + base;
    return 0;
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
    int64_t cur, at;
    enum hfe_cond cond = HFE_NONE;
    struct sink_key sk;
    int first, skip, found;

    if (hfe_time(a, argv, &argv[2], secs, relative, &at) != 0)
        return 0;
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
/* HSETEX, HGETEX, HGETDEL (Redis 8.0, Valkey 9.0)                     */
/* ------------------------------------------------------------------ */

/* "FIELDS n" at argv[at] where n counts what follows 'per' arguments at a
 * time. Like fields_arg() but the keyword is not checked (Valkey does not
 * check it for HGETDEL). The index of the first field, or -1 after logging. */
static int numfields_arg(struct applier *a, int argc, const struct rs_bytes *argv, int at,
                         int per)
{
    long long n;

    if (at + 1 >= argc || ap_parse_ll(a, &argv[at + 1], &n) != 0 || n < 1 ||
        n > (argc - at - 2) / per || n * per != argc - at - 2)
        return ap_refuse(a, argv, "The `numfields` parameter must match the number of arguments");
    return at + 2;
}

/* HSETEX's options, Redis' and Valkey's together. */
struct hsetex_opts {
    int nx, xx;                /* Valkey: the key must not / must exist */
    int fnx, fxx;              /* no field / every field must exist */
    int keepttl, has_time;
    int64_t at;                /* the fields' new TTL when has_time */
    int first;                 /* index of the first field */
};

/*
 * Parse argv[2] up to FIELDS: NX|XX (Valkey), FNX|FXX, EX|PX|EXAT|PXAT
 * time or KEEPTTL, each at most once. 0, or -1 after logging.
 */
static int hsetex_options(struct applier *a, int argc, const struct rs_bytes *argv,
                          struct hsetex_opts *o)
{
    static const struct { const char *name; int secs, relative; } units[] = {
        { "ex", 1, 1 }, { "px", 0, 1 }, { "exat", 1, 0 }, { "pxat", 0, 0 },
    };
    int j, k;

    memset(o, 0, sizeof(*o));
    for (j = 2; j < argc && !ap_arg_is(&argv[j], "fields"); j++) {
        if ((ap_arg_is(&argv[j], "nx") || ap_arg_is(&argv[j], "xx")) && !o->nx && !o->xx) {
            *(ap_arg_is(&argv[j], "nx") ? &o->nx : &o->xx) = 1;
            continue;
        }
        if ((ap_arg_is(&argv[j], "fnx") || ap_arg_is(&argv[j], "fxx")) && !o->fnx && !o->fxx) {
            *(ap_arg_is(&argv[j], "fnx") ? &o->fnx : &o->fxx) = 1;
            continue;
        }
        if (ap_arg_is(&argv[j], "keepttl") && !o->keepttl && !o->has_time) {
            o->keepttl = 1;
            continue;
        }
        for (k = 0; k < 4; k++)
            if (ap_arg_is(&argv[j], units[k].name))
                break;
        if (k == 4 || o->keepttl || o->has_time || j + 1 >= argc)
            return ap_refuse(a, argv, "syntax error");
        if (hfe_time(a, argv, &argv[++j], units[k].secs, units[k].relative, &o->at) != 0)
            return -1;
        o->has_time = 1;
    }
    if ((o->first = numfields_arg(a, argc, argv, j, 2)) < 0)
        return -1;
    return 0;
}

/* Do the fields FNX/FXX name meet the condition? A field past its TTL
 * still exists on a replica (the master sends HDEL for it). */
static int hsetex_fields_ok(struct applier *a, int argc, const struct rs_bytes *argv,
                            const struct hsetex_opts *o, int64_t id, int *ok)
{
    int64_t ttl;
    int found;

    *ok = 1;
    for (int i = o->first; *ok && i < argc; i += 2) {
        if (a->sink->ops->hash_get(a->sink, id, &argv[i], ttl_cb, &ttl, &found) != 0)
            return -1;
        *ok = o->fnx ? !found : found;
    }
    return 0;
}

/*
 * HSETEX key [NX|XX] [FNX|FXX] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
 *        FIELDS n field value ...: Redis 8.0 (FNX/FXX) and Valkey 9.0
 * (also NX/XX on the key). Both masters propagate it with PXAT (or as HDEL
 * when the time has passed); Valkey also drops NX/XX/FNX/FXX when they are
 * upper case. Without a time or KEEPTTL a written field loses its TTL.
 */
static int apply_hsetex(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct hsetex_opts o;
    struct sink_key sk;
    int ok;

    if (hsetex_options(a, argc, argv, &o) != 0)
        return 0;
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_HASH)
        return ap_wrongtype(a, argv);
    if ((o.nx && sk.type != RS_T_NONE) || (o.xx && sk.type == RS_T_NONE) ||
        (o.fxx && sk.type == RS_T_NONE))
        return 0;
    if (sk.type == RS_T_HASH && (o.fnx || o.fxx)) {
        if (hsetex_fields_ok(a, argc, argv, &o, sk.id, &ok) != 0)
            return -1;
        if (!ok)
            return 0;
    }
    if (sk.type == RS_T_NONE &&
        a->sink->ops->key_create(a->sink, a->db, &argv[1], RS_T_HASH, RS_NO_EXPIRE, NULL,
                                 &sk.id) != 0)
        return -1;
    for (int i = o.first; i < argc; i += 2) {
        int64_t ttl = o.has_time ? o.at : RS_NO_EXPIRE;
        int found = 0;

        if (o.keepttl &&
            a->sink->ops->hash_get(a->sink, sk.id, &argv[i], ttl_cb, &ttl, &found) != 0)
            return -1;
        if (o.keepttl && !found)
            ttl = RS_NO_EXPIRE;
        if (a->sink->ops->hash_set(a->sink, sk.id, &argv[i], &argv[i + 1], ttl, NULL) != 0)
            return -1;
    }
    return 0;
}

/*
 * HGETDEL key FIELDS n field ...: Redis sends HDEL for it, Valkey sends it
 * as it came. The named fields go; an emptied hash goes with them.
 */
static int apply_hgetdel(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int first, skip, removed, any = 0;

    if ((first = numfields_arg(a, argc, argv, 2, 1)) < 0)
        return 0;
    if (ap_find_typed(a, argv, RS_T_HASH, &sk, &skip) != 0)
        return -1;
    for (int i = first; !skip && i < argc; i++) {
        if (a->sink->ops->hash_del(a->sink, sk.id, &argv[i], &removed) != 0)
            return -1;
        any |= removed;
    }
    return any ? ap_delete_if_empty(a, &sk) : 0;
}

/*
 * HGETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST] FIELDS n field ...: both
 * masters send HPEXPIREAT, HPERSIST or HDEL instead; a verbatim one is
 * applied as a replica would (each existing field gets the TTL, or loses
 * it with PERSIST; a past time is set, the master sends the HDEL).
 */
static int apply_hgetex(struct applier *a, int argc, const struct rs_bytes *argv)
{
    static const struct { const char *name; int secs, relative; } units[] = {
        { "ex", 1, 1 }, { "px", 0, 1 }, { "exat", 1, 0 }, { "pxat", 0, 0 },
    };
    int64_t at = RS_NO_EXPIRE, cur;
    int j = 2, k, change = 0, first, skip, found;
    struct sink_key sk;

    for (k = 0; k < 4; k++)
        if (ap_arg_is(&argv[j], units[k].name))
            break;
    if (k < 4) {
        if (j + 1 >= argc || hfe_time(a, argv, &argv[j + 1], units[k].secs,
                                      units[k].relative, &at) != 0)
            return 0;
        change = 1;
        j += 2;
    } else if (ap_arg_is(&argv[j], "persist")) {
        change = 1;
        j++;
    }
    if ((first = fields_arg(a, argc, argv, j)) < 0)
        return 0;
    if (ap_find_typed(a, argv, RS_T_HASH, &sk, &skip) != 0)
        return -1;
    for (int i = first; change && !skip && i < argc; i++) {
        cur = RS_NO_EXPIRE;
        if (a->sink->ops->hash_get(a->sink, sk.id, &argv[i], ttl_cb, &cur, &found) != 0)
            return -1;
        if (found && cur != at &&
            a->sink->ops->hash_set_expire(a->sink, sk.id, &argv[i], at, &found) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_hash_table[] = {
    { "hset",         apply_hset,         -4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hmset",        apply_hset,         -4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hsetnx",       apply_hsetnx,        4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hdel",         apply_hdel,         -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hincrby",      apply_hincrby,       4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hincrbyfloat", apply_hincrbyfloat,  4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hpexpireat",   apply_hpexpireat,   -6,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hexpireat",    apply_hexpireat,    -6,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hpexpire",     apply_hpexpire,     -6,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hexpire",      apply_hexpire,      -6,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hpersist",     apply_hpersist,     -5,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hsetex",       apply_hsetex,       -6,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hgetdel",      apply_hgetdel,      -5,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "hgetex",       apply_hgetex,       -5,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
};
const size_t cmd_hash_count = CMD_COUNT(cmd_hash_table);
