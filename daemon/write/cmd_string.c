/*
 * cmd_string.c - string commands: SET (every option), SETNX, SETEX,
 * PSETEX, GETSET, GETDEL, MSET, MSETNX, MSETEX, DELEX, DELIFEQ (Valkey),
 * INCREX, INCR/DECR/INCRBY/DECRBY, APPEND, SETRANGE, the bitmap commands
 * (SETBIT, BITOP, BITFIELD), INCRBYFLOAT and GETEX (masters rewrite both;
 * handled verbatim anyway) and the HyperLogLog commands (PFADD, PFMERGE,
 * PFCOUNT, PFDEBUG TODENSE), whose byte format lives in hll.c and bit
 * arithmetic in bitops.c.
 *
 * Writing a string replaces a key of any other type (Redis' setKey);
 * relative expire times are taken against our clock at receipt. Start at
 * apply_set(); the table at the end is all apply.c sees.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"
#include "bitops.h"
#include "hll.h"

/* The expire options of SET, GETEX and MSETEX. */
static const struct {
    const char *name;
    enum exp_unit unit;
} units[] = {
    { "ex", EXPU_EX }, { "px", EXPU_PX }, { "exat", EXPU_EXAT }, { "pxat", EXPU_PXAT },
};

/*
 * Redis 8.4's compare-and-set conditions of SET (IFEQ/IFNE value, IFDEQ/
 * IFDNE digest). A master propagates a SET only when it set the key, so
 * the condition held there; IFEQ/IFNE are checked here too (a replica of
 * the same state agrees), the digest forms are trusted: redsink does not
 * compute Redis' XXH3 digest, and on a mirror equal to the master the
 * answer could only be "met".
 */
enum set_cond { SETC_NONE, SETC_IFEQ, SETC_IFNE, SETC_IFDEQ, SETC_IFDNE };

/* SET's options from argv[3]. 0, or -1 after logging a syntax error. */
struct set_opts {
    int nx, xx, get, keepttl;
    enum exp_unit unit;
    const struct rs_bytes *exp;
    enum set_cond cond;
    const struct rs_bytes *match;      /* the IF* argument */
};

static int set_cond_arg(const struct rs_bytes *o)
{
    static const char *const names[] = { "ifeq", "ifne", "ifdeq", "ifdne" };

    for (int k = 0; k < 4; k++)
        if (ap_arg_is(o, names[k]))
            return SETC_IFEQ + k;
    return SETC_NONE;
}

static int set_options(struct applier *a, int argc, const struct rs_bytes *argv,
                       struct set_opts *so)
{

    memset(so, 0, sizeof(*so));
    so->unit = EXPU_NONE;
    for (int j = 3; j < argc; j++) {
        const struct rs_bytes *o = &argv[j];
        int k, c, has_next = j + 1 < argc;

        if (ap_arg_is(o, "nx") && !so->xx && so->cond == SETC_NONE) {
            so->nx = 1;
            continue;
        }
        if (ap_arg_is(o, "xx") && !so->nx && so->cond == SETC_NONE) {
            so->xx = 1;
            continue;
        }
        if ((c = set_cond_arg(o)) != SETC_NONE && has_next && !so->nx && !so->xx &&
            so->cond == SETC_NONE) {
            so->cond = (enum set_cond)c;
            so->match = &argv[++j];
            continue;
        }
        if (ap_arg_is(o, "get")) {
            so->get = 1;
            continue;
        }
        if (ap_arg_is(o, "keepttl") && so->unit == EXPU_NONE) {
            so->keepttl = 1;
            continue;
        }
        for (k = 0; k < 4; k++)
            if (ap_arg_is(o, units[k].name))
                break;
        /* the same unit twice is fine (the last value wins), two differ not */
        if (k < 4 && has_next && !so->keepttl &&
            (so->unit == EXPU_NONE || so->unit == units[k].unit)) {
            so->unit = units[k].unit;
            so->exp = &argv[++j];
            continue;
        }
        ap_reject(a, argv, "syntax error");
        return -1;
    }
    return 0;
}

/*
 * Does string key 'sk' (or a missing key) meet 'cond' against 'match'?
 * IFEQ/IFDEQ need the key, IFNE/IFDNE are met by a missing one. *met,
 * or -1 when the sink failed.
 */
static int set_cond_met(struct applier *a, const struct sink_key *sk, enum set_cond cond,
                        const struct rs_bytes *match, int *met)
{
    struct rs_bytes cur;

    if (sk->type == RS_T_NONE) {
        *met = cond == SETC_IFNE || cond == SETC_IFDNE;
        return 0;
    }
    if (cond == SETC_IFDEQ || cond == SETC_IFDNE) {
        *met = 1;                /* trusted: see enum set_cond */
        return 0;
    }
    if (ap_read_string(a, sk->id) != 0)
        return -1;
    cur.ptr = a->scratch;
    cur.len = a->scratch_len;
    *met = ap_bytes_eq(&cur, match) == (cond == SETC_IFEQ);
    return 0;
}

/* SET key value [NX|XX|IFEQ v|IFNE v|IFDEQ d|IFDNE d] [GET]
 *     [KEEPTTL|EX s|PX ms|EXAT s|PXAT ms] */
static int apply_set(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct set_opts so;
    int64_t expire = RS_NO_EXPIRE;
    struct sink_key sk;
    int found, met;

    if (set_options(a, argc, argv, &so) != 0)
        return 0;
    if (so.unit != EXPU_NONE && (expire = ap_expire_arg(a, argv, so.exp, so.unit)) < 0)
        return 0;
    if (!so.get && so.cond == SETC_NONE && !so.nx && !so.xx && !so.keepttl &&
        a->sink->ops->string_put) {        /* plain SET: maybe without a look-up */
        if (a->sink->ops->string_put(a->sink, a->db, &argv[1], &argv[2], expire, &sk,
                                     &found) != 0)
            return -1;
        if (found)
            return 0;
        if (sk.id >= 0)
            return ap_store_string(a, &argv[1], &sk, &argv[2], expire);
    }
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if ((so.get || so.cond != SETC_NONE) && sk.type != RS_T_NONE && sk.type != RS_T_STRING)
        return ap_wrongtype(a, argv);
    found = sk.type != RS_T_NONE;
    if ((so.nx && found) || (so.xx && !found))
        return 0;
    if (so.cond != SETC_NONE) {
        if (set_cond_met(a, &sk, so.cond, so.match, &met) != 0)
            return -1;
        if (!met)
            return 0;
    }
    if (so.unit == EXPU_NONE)
        expire = so.keepttl && found ? sk.expire_ms : RS_NO_EXPIRE;
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

/*
 * MSETEX numkeys key value [key value ...] [NX|XX]
 *        [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] (Redis 8.4): every key or
 * none (NX: only when no key exists, XX: only when all exist), all with
 * one TTL; without an expiry option each key loses its TTL, as with SET.
 * The options come after the pairs, in any order.
 */
static int apply_msetex(struct applier *a, int argc, const struct rs_bytes *argv)
{
    enum exp_unit unit = EXPU_NONE;
    const struct rs_bytes *exp = NULL;
    int nx = 0, xx = 0, keepttl = 0, first_opt, k;
    int64_t expire = RS_NO_EXPIRE;
    struct sink_key sk;
    long long n;

    if (ap_parse_ll(a, &argv[1], &n) != 0 || n < 1 || n > (argc - 2) / 2)
        return ap_reject(a, argv, "invalid numkeys value");
    first_opt = 2 + 2 * (int)n;
    for (int j = first_opt; j < argc; j++) {
        if (ap_arg_is(&argv[j], "nx") && !xx) {
            nx = 1;
            continue;
        }
        if (ap_arg_is(&argv[j], "xx") && !nx) {
            xx = 1;
            continue;
        }
        if (ap_arg_is(&argv[j], "keepttl") && unit == EXPU_NONE) {
            keepttl = 1;
            continue;
        }
        for (k = 0; k < 4; k++)
            if (ap_arg_is(&argv[j], units[k].name))
                break;
        if (k < 4 && j + 1 < argc && !keepttl && unit == EXPU_NONE) {
            unit = units[k].unit;
            exp = &argv[++j];
            continue;
        }
        return ap_reject(a, argv, "syntax error");
    }
    if (unit != EXPU_NONE && (expire = ap_expire_arg(a, argv, exp, unit)) < 0)
        return 0;
    if (nx || xx) {
        for (int i = 2; i < first_opt; i += 2) {
            if (ap_find_key(a, &argv[i], &sk) != 0)
                return -1;
            if ((nx && sk.type != RS_T_NONE) || (xx && sk.type == RS_T_NONE))
                return 0;
        }
    }
    for (int i = 2; i < first_opt; i += 2) {
        int64_t at = expire;

        if (ap_find_key(a, &argv[i], &sk) != 0)
            return -1;
        if (unit == EXPU_NONE)
            at = keepttl && sk.type != RS_T_NONE ? sk.expire_ms : RS_NO_EXPIRE;
        if (ap_store_string(a, &argv[i], &sk, &argv[i + 1], at) != 0)
            return -1;
    }
    return 0;
}

/*
 * DELEX key [IFEQ v|IFNE v|IFDEQ d|IFDNE d] (Redis 8.4; the master sends
 * DEL for it) and Valkey's DELIFEQ key value. Without a condition any key
 * goes; with one the key must be a string (WRONGTYPE otherwise).
 */
static int delex_generic(struct applier *a, const struct rs_bytes *argv, enum set_cond cond,
                         const struct rs_bytes *match)
{
    struct sink_key sk;
    int met = 1;

    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type == RS_T_NONE)
        return 0;
    if (cond != SETC_NONE) {
        if (sk.type != RS_T_STRING)
            return ap_wrongtype(a, argv);
        if (set_cond_met(a, &sk, cond, match, &met) != 0)
            return -1;
    }
    return met ? a->sink->ops->key_delete(a->sink, sk.id) : 0;
}

static int apply_delex(struct applier *a, int argc, const struct rs_bytes *argv)
{
    int cond = SETC_NONE;

    if (argc != 2 && (argc != 4 || (cond = set_cond_arg(&argv[2])) == SETC_NONE))
        return ap_reject(a, argv, "syntax error");
    return delex_generic(a, argv, (enum set_cond)cond, argc == 4 ? &argv[3] : NULL);
}

static int apply_delifeq(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    return delex_generic(a, argv, SETC_IFEQ, &argv[2]);
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
    if (sk.type == RS_T_STRING && a->sink->ops->string_incr) {
        int done = 0;

        if (a->sink->ops->string_incr(a->sink, sk.id, incr, &done) != 0)
            return -1;
        if (done)
            return 0;                      /* the TTL stays, as below */
    }
    if (sk.type == RS_T_STRING) {
        if (ap_read_string(a, sk.id) != 0)
            return -1;
        struct rs_bytes cur = { a->scratch, a->scratch_len };

        if (ap_parse_ll(a, &cur, &value) != 0)
            return ap_reject(a, argv, "value is not an integer or out of range");
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value))
        return ap_reject(a, argv, "increment or decrement would overflow");
    value += incr;
    out.ptr = buf;
    out.len = rs_ll2str(buf, value);
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
    if (ap_parse_ll(a, &argv[2], &incr) != 0)
        return ap_reject(a, argv, "value is not an integer or out of range");
    return incr_generic(a, argv, incr);
}

static int apply_decrby(struct applier *a, int argc, const struct rs_bytes *argv)
{
    long long decr;

    (void)argc;
    if (ap_parse_ll(a, &argv[2], &decr) != 0)
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
/* Helpers for the commands that edit a string in place                */
/* ------------------------------------------------------------------ */

/* Redis' default proto-max-bulk-len: the largest string a master makes. */
#define STRING_MAX ((uint64_t)512 * 1024 * 1024)

/* hll-sparse-max-bytes of the master (its default, until configurable). */
#define HLL_SPARSE_MAX HLL_SPARSE_MAX_BYTES_DEFAULT

/* The TTL an in-place edit leaves: the key's own, none for a new key. */
static int64_t kept_ttl(const struct sink_key *sk)
{
    return sk->type == RS_T_STRING ? sk->expire_ms : RS_NO_EXPIRE;
}

/*
 * The value of string key 'sk' (empty when there is none) in a new
 * buffer grown with zero bytes to at least 'minlen' (Redis'
 * sdsgrowzero). The caller frees *buf. 0, or -1 (a->err or the sink's
 * error set).
 */
static int string_load(struct applier *a, const struct sink_key *sk, size_t minlen,
                       unsigned char **buf, size_t *len)
{
    size_t have = 0;

    if (sk->type == RS_T_STRING) {
        if (ap_read_string(a, sk->id) != 0)
            return -1;
        have = a->scratch_len;
    }
    *len = have > minlen ? have : minlen;
    if ((*buf = calloc(1, *len + 1)) == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory editing a string");
    if (have)
        memcpy(*buf, a->scratch, have);
    return 0;
}

/* Store an edited value, freeing 'buf': the TTL stays (Redis edits the
 * object in place), a new key has none. */
static int string_save(struct applier *a, const struct rs_bytes *key, const struct sink_key *sk,
                       unsigned char *buf, size_t len)
{
    struct rs_bytes v = { (const char *)buf, len };
    int rc = ap_store_string(a, key, sk, &v, kept_ttl(sk));

    free(buf);
    return rc;
}

/* SETRANGE key offset value: zero padding; nothing for an empty value. */
static int apply_setrange(struct applier *a, int argc, const struct rs_bytes *argv)
{
    const struct rs_bytes *v = &argv[3];
    struct sink_key sk;
    long long offset;
    unsigned char *buf;
    size_t len;

    (void)argc;
    if (ap_parse_ll(a, &argv[2], &offset) != 0)
        return ap_reject(a, argv, "value is not an integer or out of range");
    if (offset < 0)
        return ap_reject(a, argv, "offset is out of range");
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_STRING)
        return ap_wrongtype(a, argv);
    if (v->len == 0)
        return 0;
    if ((uint64_t)offset + v->len > STRING_MAX)
        return ap_reject(a, argv, "string exceeds maximum allowed size (proto-max-bulk-len)");
    if (string_load(a, &sk, (size_t)offset + v->len, &buf, &len) != 0)
        return -1;
    memcpy(buf + offset, v->ptr, v->len);
    return string_save(a, &argv[1], &sk, buf, len);
}

/* A bit offset as Redis' getBitOffsetFromArgument reads it; '#N' (only
 * when 'bits' > 0) means N * bits. 0, or -1 after logging. */
static int bit_offset(struct applier *a, const struct rs_bytes *argv, const struct rs_bytes *o,
                      int bits, uint64_t *offset)
{
    int hash = bits > 0 && o->len > 0 && o->ptr[0] == '#';
    struct rs_bytes num = { o->ptr + hash, o->len - (size_t)hash };
    long long v;

    if (ap_parse_ll(a, &num, &v) != 0 || v < 0 || (hash && v > LLONG_MAX / bits))
        return ap_refuse(a, argv, "bit offset is not an integer or out of range");
    if (hash)
        v *= bits;
    /* the master checks against its proto-max-bulk-len (512MB by default) */
    if ((uint64_t)(v >> 3) >= STRING_MAX)
        return ap_refuse(a, argv, "bit offset is not an integer or out of range");
    *offset = (uint64_t)v;
    return 0;
}

/* SETBIT key offset 0|1: grows the string with zero bytes. */
static int apply_setbit(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    uint64_t offset;
    long long on;
    unsigned char *buf;
    size_t len;

    (void)argc;
    if (bit_offset(a, argv, &argv[2], 0, &offset) != 0)
        return 0;
    if (ap_parse_ll(a, &argv[3], &on) != 0 || (on & ~1LL))
        return ap_reject(a, argv, "bit is not an integer or out of range");
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_STRING)
        return ap_wrongtype(a, argv);
    if (string_load(a, &sk, (size_t)(offset >> 3) + 1, &buf, &len) != 0)
        return -1;
    bitops_set(buf, offset, 1, (uint64_t)on);
    return string_save(a, &argv[1], &sk, buf, len);
}

/* The source strings of BITOP, each copied (a missing key: empty). */
struct sources {
    struct rs_bytes *v;
    size_t n;
};

static void sources_free(struct sources *s)
{
    for (size_t i = 0; s->v && i < s->n; i++)
        free((char *)s->v[i].ptr);
    free(s->v);
}

/* Read argv[first..argc) as strings. 0; 1 when one holds another type
 * (logged); -1 on failure. */
static int sources_read(struct applier *a, int argc, const struct rs_bytes *argv, int first,
                        struct sources *s)
{
    struct sink_key sk;

    s->n = 0;
    if ((s->v = calloc((size_t)(argc - first), sizeof(*s->v))) == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory in BITOP");
    for (int j = first; j < argc; j++, s->n++) {
        char *copy;

        if (ap_find_key(a, &argv[j], &sk) != 0)
            return -1;
        if (sk.type == RS_T_NONE)
            continue;
        if (sk.type != RS_T_STRING) {
            ap_wrongtype(a, argv);
            return 1;
        }
        if (ap_read_string(a, sk.id) != 0)
            return -1;
        if ((copy = malloc(a->scratch_len + 1)) == NULL)
            return rs_fail(&a->err, RS_E_NOMEM, "out of memory in BITOP");
        if (a->scratch_len)      /* an empty string: scratch may be NULL */
            memcpy(copy, a->scratch, a->scratch_len);
        s->v[s->n].ptr = copy;
        s->v[s->n].len = a->scratch_len;
    }
    return 0;
}

/* BITOP AND|OR|XOR|NOT dest key...: the result replaces dest (no TTL);
 * an empty result deletes it. */
static int apply_bitop(struct applier *a, int argc, const struct rs_bytes *argv)
{
    static const char *const names[] = { "and", "or", "xor", "not",
                                         "diff", "diff1", "andor", "one" };
    struct sources src = { NULL, 0 };
    struct sink_key sk;
    unsigned char *out = NULL;
    size_t maxlen = 0;
    int op, rc;

    for (op = 0; op < 8; op++)
        if (ap_arg_is(&argv[1], names[op]))
            break;
    if (op == 8)
        return ap_reject(a, argv, "syntax error");
    if (op == BITOPS_NOT && argc != 4)
        return ap_reject(a, argv, "BITOP NOT must be called with a single source key.");
    if ((rc = sources_read(a, argc, argv, 3, &src)) != 0)
        goto out;
    for (size_t i = 0; i < src.n; i++)
        if (src.v[i].len > maxlen)
            maxlen = src.v[i].len;
    rc = -1;
    if (ap_find_key(a, &argv[2], &sk) != 0)
        goto out;
    if (maxlen == 0) {
        rc = sk.type == RS_T_NONE ? 0 : a->sink->ops->key_delete(a->sink, sk.id);
        goto out;
    }
    if ((out = malloc(maxlen)) == NULL) {
        rs_fail(&a->err, RS_E_NOMEM, "out of memory in BITOP");
        goto out;
    }
    bitops_combine((enum bitops_op)op, src.v, src.n, out, maxlen);
    rc = ap_store_string(a, &argv[2], &sk, &(struct rs_bytes){ (char *)out, maxlen },
                         RS_NO_EXPIRE);
out:
    free(out);
    sources_free(&src);
    return rc < 0 ? -1 : 0;
}

/* ---- BITFIELD ---- */

/* One SET or INCRBY of a BITFIELD command (GETs change nothing). */
struct bf_op {
    int incr;                     /* INCRBY, else SET */
    int sign, bits;
    uint64_t offset;
    int64_t value;
    enum bitops_overflow ow;      /* the OVERFLOW in force for this op */
};

/* A field type: i1..i64 or u1..u63 (Redis reads the C string). */
static int bf_type(struct applier *a, const struct rs_bytes *argv, const struct rs_bytes *t,
                   int *sign, int *bits)
{
    struct rs_bytes num;
    long long n;

    if (t->len == 0 || (t->ptr[0] != 'i' && t->ptr[0] != 'u'))
        goto bad;
    *sign = t->ptr[0] == 'i';
    num.ptr = t->ptr + 1;
    num.len = strnlen(num.ptr, t->len - 1);
    if (ap_parse_ll(a, &num, &n) != 0 || n < 1 || n > (*sign ? 64 : 63))
        goto bad;
    *bits = (int)n;
    return 0;
bad:
    return ap_refuse(a, argv,
                     "Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
                     "supported but i64 is.");
}

/* Parse BITFIELD's sub-commands into ops[] (argc entries are enough).
 * *nops = writes found, *top = the highest bit they touch. 0, or -1
 * after logging. */
static int bf_parse(struct applier *a, int argc, const struct rs_bytes *argv,
                    struct bf_op *ops, int *nops, uint64_t *top)
{
    enum bitops_overflow ow = BITOPS_WRAP;

    *nops = 0;
    *top = 0;
    for (int j = 2; j < argc; j++) {
        int remargs = argc - j - 1, get = 0, incr = 0, sign = 0, bits = 0;
        uint64_t offset;
        long long v;

        if (ap_arg_is(&argv[j], "get") && remargs >= 2) {
            get = 1;
        } else if (ap_arg_is(&argv[j], "incrby") && remargs >= 3) {
            incr = 1;
        } else if (ap_arg_is(&argv[j], "overflow") && remargs >= 1) {
            const struct rs_bytes *m = &argv[++j];

            if (ap_arg_is(m, "wrap"))
                ow = BITOPS_WRAP;
            else if (ap_arg_is(m, "sat"))
                ow = BITOPS_SAT;
            else if (ap_arg_is(m, "fail"))
                ow = BITOPS_FAIL;
            else
                return ap_refuse(a, argv, "Invalid OVERFLOW type specified");
            continue;
        } else if (!(ap_arg_is(&argv[j], "set") && remargs >= 3)) {
            return ap_refuse(a, argv, "syntax error");
        }
        if (bf_type(a, argv, &argv[j + 1], &sign, &bits) != 0 ||
            bit_offset(a, argv, &argv[j + 2], bits, &offset) != 0)
            return -1;
        if (!get) {
            if (ap_parse_ll(a, &argv[j + 3], &v) != 0)
                return ap_refuse(a, argv, "value is not an integer or out of range");
            if (*top < offset + (uint64_t)bits - 1)
                *top = offset + (uint64_t)bits - 1;
            ops[(*nops)++] = (struct bf_op){ incr, sign, bits, offset, v, ow };
        }
        j += get ? 2 : 3;
    }
    return 0;
}

/*
 * Apply one write to the (big enough) buffer, with Redis' overflow rules.
 * 'x86_i64': the master is 3.2 to 6.0.5, whose i64 code shifted by 64
 * bits (getSignedBitfield, checkSignedBitfieldOverflow in bitops.c); x86
 * takes a 64-bit shift count modulo 64, so a negative i64 read as -1 and
 * a wrapped i64 became -1 or 0 by its sign bit.
 */
static void bf_apply(unsigned char *buf, const struct bf_op *op, int x86_i64)
{
    int overflow;

    if (op->sign) {
        int64_t old = bitops_get_signed(buf, op->offset, op->bits), nv, wrapped = 0;

        x86_i64 = x86_i64 && op->bits == 64;
        if (x86_i64 && old < 0)
            old = -1;
        if (op->incr) {
            overflow = bitops_check_signed(old, op->value, op->bits, op->ow, &wrapped);
            if (x86_i64 && overflow && op->ow == BITOPS_WRAP)
                wrapped = (int64_t)((uint64_t)old + (uint64_t)op->value) < 0 ? -1 : 0;
            nv = overflow ? wrapped : (int64_t)((uint64_t)old + (uint64_t)op->value);
        } else {
            overflow = bitops_check_signed(op->value, 0, op->bits, op->ow, &wrapped);
            nv = overflow ? wrapped : op->value;
        }
        if (!(overflow && op->ow == BITOPS_FAIL))
            bitops_set(buf, op->offset, op->bits, (uint64_t)nv);
    } else {
        uint64_t old = bitops_get_unsigned(buf, op->offset, op->bits), nv, wrapped = 0;

        if (op->incr) {
            overflow = bitops_check_unsigned(old, op->value, op->bits, op->ow, &wrapped);
            nv = overflow ? wrapped : old + (uint64_t)op->value;
        } else {
            overflow = bitops_check_unsigned((uint64_t)op->value, 0, op->bits, op->ow, &wrapped);
            nv = overflow ? wrapped : (uint64_t)op->value;
        }
        if (!(overflow && op->ow == BITOPS_FAIL))
            bitops_set(buf, op->offset, op->bits, nv);
    }
}

/* BITFIELD key [GET t o] [SET t o v] [INCRBY t o n] [OVERFLOW WRAP|SAT|FAIL]...
 * The string first grows to hold the highest written field, even when
 * OVERFLOW FAIL then blocks the write. */
static int apply_bitfield(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct bf_op *ops;
    struct sink_key sk;
    unsigned char *buf;
    uint64_t top;
    size_t len;
    int nops, rc = -1;

    if ((ops = calloc((size_t)argc, sizeof(*ops))) == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory in BITFIELD");
    if (bf_parse(a, argc, argv, ops, &nops, &top) != 0 || nops == 0) {
        rc = 0;                   /* refused, or only GETs: read-only */
        goto out;
    }
    if (ap_find_key(a, &argv[1], &sk) != 0)
        goto out;
    if (sk.type != RS_T_NONE && sk.type != RS_T_STRING) {
        rc = ap_wrongtype(a, argv);
        goto out;
    }
    if (string_load(a, &sk, (size_t)(top >> 3) + 1, &buf, &len) != 0)
        goto out;
    for (int i = 0; i < nops; i++)
        bf_apply(buf, &ops[i], ap_master_before(a, 60006));
    rc = string_save(a, &argv[1], &sk, buf, len);
out:
    free(ops);
    return rc;
}

/* ---- INCRBYFLOAT, GETEX ---- */

/* INCRBYFLOAT key incr: long double arithmetic; the TTL stays. Masters
 * send it as SET (... KEEPTTL), but an old or odd stream may not. */
static int apply_incrbyfloat(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    long double value = 0, incr;
    char buf[AP_LD_CHARS];
    struct rs_bytes out;

    (void)argc;
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_STRING)
        return ap_wrongtype(a, argv);
    if (sk.type == RS_T_STRING) {
        if (ap_read_string(a, sk.id) != 0)
            return -1;
        if (ap_parse_ld(a->scratch, a->scratch_len, &value) != 0)
            return ap_reject(a, argv, "value is not a valid float");
    }
    if (ap_parse_ld(argv[2].ptr, argv[2].len, &incr) != 0)
        return ap_reject(a, argv, "value is not a valid float");
    value += incr;
    if (isnan(value) || isinf(value))
        return ap_reject(a, argv, "increment would produce NaN or Infinity");
    out.ptr = buf;
    out.len = ap_format_ld(buf, sizeof(buf), value);
    return ap_store_string(a, &argv[1], &sk, &out, kept_ttl(&sk));
}

/* ---- INCREX (Redis 8.8) ---- */

/* INCREX's options. */
struct increx_opts {
    int is_float, saturate, persist, enx;
    long long incr, lb, ub;            /* integer mode */
    long double fincr, flb, fub;       /* BYFLOAT mode */
    enum exp_unit unit;
    const struct rs_bytes *exp;
};

/* Parse INCREX's options from argv[2]. 0, or -1 after logging. */
static int increx_options(struct applier *a, int argc, const struct rs_bytes *argv,
                          struct increx_opts *o)
{
    const struct rs_bytes *by = NULL, *lb = NULL, *ub = NULL;
    int k;

    memset(o, 0, sizeof(*o));
    o->unit = EXPU_NONE;
    for (int j = 2; j < argc; j++) {
        const struct rs_bytes *x = &argv[j];
        int more = j + 1 < argc;

        if ((ap_arg_is(x, "byint") || ap_arg_is(x, "byfloat")) && more && by == NULL) {
            o->is_float = ap_arg_is(x, "byfloat");
            by = &argv[++j];
        } else if (ap_arg_is(x, "lbound") && more && lb == NULL) {
            lb = &argv[++j];
        } else if (ap_arg_is(x, "ubound") && more && ub == NULL) {
            ub = &argv[++j];
        } else if (ap_arg_is(x, "saturate")) {
            o->saturate = 1;
        } else if (ap_arg_is(x, "enx")) {
            o->enx = 1;
        } else if (ap_arg_is(x, "persist") && o->unit == EXPU_NONE && !o->persist) {
            o->persist = 1;
        } else {
            for (k = 0; k < 4; k++)
                if (ap_arg_is(x, units[k].name))
                    break;
            if (k == 4 || !more || o->unit != EXPU_NONE || o->persist)
                return ap_refuse(a, argv, "syntax error");
            o->unit = units[k].unit;
            o->exp = &argv[++j];
        }
    }
    if (o->enx && o->unit == EXPU_NONE)
        return ap_refuse(a, argv, "ENX requires EX, PX, EXAT or PXAT");
    o->incr = 1;
    o->lb = LLONG_MIN, o->ub = LLONG_MAX;
    o->fincr = 1, o->flb = -LDBL_MAX, o->fub = LDBL_MAX;
    if (o->is_float) {
        if ((by && ap_parse_ld(by->ptr, by->len, &o->fincr) != 0) ||
            (lb && ap_parse_ld(lb->ptr, lb->len, &o->flb) != 0) ||
            (ub && ap_parse_ld(ub->ptr, ub->len, &o->fub) != 0) || isinf(o->fincr))
            return ap_refuse(a, argv, "value is not a valid float");
        if (o->flb > o->fub)
            return ap_refuse(a, argv, "LBOUND must be less than or equal to UBOUND");
    } else {
        if ((by && ap_parse_ll(a, by, &o->incr) != 0) || (lb && ap_parse_ll(a, lb, &o->lb) != 0) ||
            (ub && ap_parse_ll(a, ub, &o->ub) != 0))
            return ap_refuse(a, argv, "value is not an integer or out of range");
        if (o->lb > o->ub)
            return ap_refuse(a, argv, "LBOUND must be less than or equal to UBOUND");
    }
    return 0;
}

/* The new integer value, or 1 when the result is out of bounds and not
 * saturated (nothing changes). */
static int increx_int(const struct increx_opts *o, long long cur, long long *out)
{
    int over = o->incr > 0 && cur > LLONG_MAX - o->incr;
    int under = o->incr < 0 && cur < LLONG_MIN - o->incr;
    long long v = over || under ? 0 : cur + o->incr;

    if (over || (!under && v > o->ub))
        v = o->ub, over = 1;
    else if (under || v < o->lb)
        v = o->lb, under = 1;
    if ((over || under) && !o->saturate)
        return 1;
    *out = v;
    return 0;
}

/*
 * INCREX key [BYINT n | BYFLOAT f] [LBOUND l] [UBOUND u] [SATURATE]
 *        [EX s|PX ms|EXAT s|PXAT ms|PERSIST] [ENX] (Redis 8.8). A master
 * propagates it as SET ... KEEPTTL / PXAT or DEL (an INCREX test file); this is
 * for one that sends it verbatim, with the semantics the clients' tests
 * against 8.7.2+ servers show. Integer mode by default (+1); an out-of-bounds result is
 * skipped, key and TTL untouched, or with SATURATE capped at the bound.
 * BYFLOAT adds as INCRBYFLOAT does and prints the same way. Without an
 * expiry option the TTL stays; ENX sets it only on a key without one.
 */
static int apply_increx(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct increx_opts o;
    struct sink_key sk;
    char buf[AP_LD_CHARS];
    struct rs_bytes out = { buf, 0 };
    int64_t expire;

    if (increx_options(a, argc, argv, &o) != 0)
        return 0;
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_STRING)
        return ap_wrongtype(a, argv);
    if (sk.type == RS_T_STRING && ap_read_string(a, sk.id) != 0)
        return -1;
    if (o.is_float) {
        long double cur = 0, v;

        if (sk.type == RS_T_STRING && ap_parse_ld(a->scratch, a->scratch_len, &cur) != 0)
            return ap_reject(a, argv, "value is not a valid float");
        v = cur + o.fincr;
        if (isnan(v) || isinf(v))
            return ap_reject(a, argv, "increment would produce NaN or Infinity");
        if (v > o.fub || v < o.flb) {
            if (!o.saturate)
                return 0;
            v = v > o.fub ? o.fub : o.flb;
        }
        out.len = ap_format_ld(buf, sizeof(buf), v);
    } else {
        long long cur = 0, v;

        if (sk.type == RS_T_STRING && rs_parse_ll(a->scratch, a->scratch_len, &cur) != 0)
            return ap_reject(a, argv, "value is not an integer or out of range");
        if (increx_int(&o, cur, &v) != 0)
            return 0;
        out.len = rs_ll2str(buf, v);
    }
    expire = kept_ttl(&sk);
    if (o.persist)
        expire = RS_NO_EXPIRE;
    else if (o.unit != EXPU_NONE && !(o.enx && expire != RS_NO_EXPIRE) &&
             (expire = ap_expire_arg(a, argv, o.exp, o.unit)) < 0)
        return 0;
    return ap_store_string(a, &argv[1], &sk, &out, expire);
}

/* GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]. Masters send PEXPIREAT
 * or PERSIST instead; a verbatim one is applied as a replica would: a
 * past absolute time sets that TTL (the master sends the DEL). */
static int apply_getex(struct applier *a, int argc, const struct rs_bytes *argv)
{
    enum exp_unit unit = EXPU_NONE;
    const struct rs_bytes *exp = NULL;
    int persist = 0, k;
    struct sink_key sk;
    int64_t when;

    for (int j = 2; j < argc; j++) {
        if (ap_arg_is(&argv[j], "persist") && unit == EXPU_NONE) {
            persist = 1;
            continue;
        }
        for (k = 0; k < 4; k++)
            if (ap_arg_is(&argv[j], units[k].name))
                break;
        /* the same unit twice: the last value wins; two different: error */
        if (k < 4 && j + 1 < argc && !persist && (unit == EXPU_NONE || unit == units[k].unit)) {
            unit = units[k].unit;
            exp = &argv[++j];
            continue;
        }
        return ap_reject(a, argv, "syntax error");
    }
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type == RS_T_NONE)
        return 0;
    if (sk.type != RS_T_STRING)
        return ap_wrongtype(a, argv);
    if (unit != EXPU_NONE) {
        if ((when = ap_expire_arg(a, argv, exp, unit)) < 0)
            return 0;
        return a->sink->ops->key_set_expire(a->sink, sk.id, when);
    }
    if (persist && sk.expire_ms != RS_NO_EXPIRE)
        return a->sink->ops->key_set_expire(a->sink, sk.id, RS_NO_EXPIRE);
    return 0;
}

/* ------------------------------------------------------------------ */
/* HyperLogLog (the format is in hll.c)                                */
/* ------------------------------------------------------------------ */

/*
 * Load the HLL at key 'key' into *h. *found = 0 when there is no key
 * (h untouched). Returns 0; 1 when the key holds another type or a
 * string that is no HLL (logged); -1 on failure.
 */
static int hll_load(struct applier *a, const struct rs_bytes *argv, const struct rs_bytes *key,
                    struct sink_key *sk, struct hll *h, int *found)
{
    *found = 0;
    if (ap_find_key(a, key, sk) != 0)
        return -1;
    if (sk->type == RS_T_NONE)
        return 0;
    if (sk->type != RS_T_STRING) {
        ap_wrongtype(a, argv);
        return 1;
    }
    if (ap_read_string(a, sk->id) != 0)
        return -1;
    if (!hll_is_hll(a->scratch, a->scratch_len)) {
        ap_reject(a, argv, "WRONGTYPE Key is not a valid HyperLogLog string value.");
        return 1;
    }
    if (hll_init(h, a->scratch, a->scratch_len) != 0)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory reading a HyperLogLog");
    *found = 1;
    return 0;
}

/* Store an HLL back (TTL kept; a new key has none) and release it. */
static int hll_save(struct applier *a, const struct rs_bytes *key, const struct sink_key *sk,
                    struct hll *h)
{
    struct rs_bytes v = { (const char *)h->p, h->len };
    int rc = ap_store_string(a, key, sk, &v, kept_ttl(sk));

    hll_release(h);
    return rc;
}

static int hll_nomem(struct applier *a, struct hll *h)
{
    hll_release(h);
    return rs_fail(&a->err, RS_E_NOMEM, "out of memory in a HyperLogLog");
}

static int hll_corrupt(struct applier *a, const struct rs_bytes *argv, struct hll *h)
{
    hll_release(h);
    return ap_reject(a, argv, "INVALIDOBJ Corrupted HLL object detected");
}

/* PFADD key [element...]: a new key is an empty sparse HLL. */
static int apply_pfadd(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    struct hll h;
    int found, rc, updated = 0;

    if ((rc = hll_load(a, argv, &argv[1], &sk, &h, &found)) != 0)
        return rc < 0 ? -1 : 0;
    if (!found) {
        if (hll_init(&h, NULL, 0) != 0)
            return hll_nomem(a, &h);
        updated = 1;
    }
    for (int j = 2; j < argc; j++) {
        if ((rc = hll_add(&h, argv[j].ptr, argv[j].len, HLL_SPARSE_MAX)) == -1)
            return hll_corrupt(a, argv, &h);
        if (rc == -2)
            return hll_nomem(a, &h);
        updated += rc;
    }
    if (!updated) {
        hll_release(&h);
        return 0;
    }
    hll_invalidate(&h);
    return hll_save(a, &argv[1], &sk, &h);
}

/* PFMERGE dest [src...]: dest is a source too; it turns dense when some
 * source is dense, else stays sparse (4.0.7+); before 4.0.7 dest always
 * turned dense (pfmergeCommand, hyperloglog.c). */
static int apply_pfmerge(struct applier *a, int argc, const struct rs_bytes *argv)
{
    uint8_t *max;
    struct sink_key sk;
    struct hll h;
    int found, rc, dense, use_dense = 0;

    if ((max = calloc(1, HLL_REGISTERS)) == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory in PFMERGE");
    for (int j = 1; j < argc; j++) {
        if ((rc = hll_load(a, argv, &argv[j], &sk, &h, &found)) != 0 || !found) {
            if (rc != 0)
                goto out;
            continue;
        }
        rc = hll_merge_max(max, h.p, h.len, &dense);
        hll_release(&h);
        if (rc != 0) {
            rc = hll_corrupt(a, argv, &h);
            goto out;
        }
        use_dense |= dense;
    }
    if ((rc = hll_load(a, argv, &argv[1], &sk, &h, &found)) != 0)
        goto out;
    if (!found && hll_init(&h, NULL, 0) != 0) {
        rc = hll_nomem(a, &h);
        goto out;
    }
    if (ap_master_before(a, 40007))
        use_dense = 1;
    if ((rc = hll_store_max(&h, max, use_dense, HLL_SPARSE_MAX)) != 0) {
        rc = rc == -2 ? hll_nomem(a, &h) : hll_corrupt(a, argv, &h);
        goto out;
    }
    rc = hll_save(a, &argv[1], &sk, &h);
out:
    free(max);
    return rc < 0 ? -1 : 0;
}

/* PFCOUNT key: the master sends it when it refreshed the cached
 * cardinality in the header. Several keys change nothing. */
static int apply_pfcount(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    struct hll h;
    int found, rc;

    if (argc > 2)
        return 0;
    if ((rc = hll_load(a, argv, &argv[1], &sk, &h, &found)) != 0 || !found)
        return rc < 0 ? -1 : 0;
    if ((rc = hll_update_cache(&h, ap_master_before(a, 40000) ? HLL_EST_BIAS
                                   : ap_master_before(a, 50000) ? HLL_EST_BETA
                                   : HLL_EST_ERTL)) < 0)
        return hll_corrupt(a, argv, &h);
    if (rc == 0) {
        hll_release(&h);
        return 0;
    }
    return hll_save(a, &argv[1], &sk, &h);
}

/* PFDEBUG TODENSE|GETREG key: both turn a sparse HLL dense (and are sent
 * only then); the other sub-commands only read. */
static int apply_pfdebug(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    struct hll h;
    int found, rc;

    if (argc != 3 || !(ap_arg_is(&argv[1], "todense") || ap_arg_is(&argv[1], "getreg")))
        return 0;
    if ((rc = hll_load(a, argv, &argv[2], &sk, &h, &found)) != 0 || !found)
        return rc < 0 ? -1 : 0;
    if ((rc = hll_to_dense(&h)) == -2)
        return hll_nomem(a, &h);
    if (rc == -1)
        return hll_corrupt(a, argv, &h);
    if (rc == 0) {
        hll_release(&h);
        return 0;
    }
    return hll_save(a, &argv[2], &sk, &h);
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_string_table[] = {
    { "set",       apply_set,        -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "setnx",     apply_setnx,      3,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "setex",     apply_setex,      4,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "psetex",    apply_psetex,     4,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "getset",    apply_getset,     3,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "getdel",    apply_getdel,     2,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "mset",      apply_mset,       -3,  CMD_WRITE, { 1, -1, 2, KU_PAIRS } },
    { "msetnx",    apply_msetnx,     -3,  CMD_WRITE, { 1, -1, 2, KU_PAIRS } },
    { "msetex",    apply_msetex,     -4,  CMD_WRITE, { 0, 0, 0, KU_NUMKEYS_PAIRS } },
    { "delex",     apply_delex,      -2,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "delifeq",   apply_delifeq,    3,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "incr",      apply_incr,       2,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "decr",      apply_decr,       2,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "incrby",    apply_incrby,     3,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "decrby",    apply_decrby,     3,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "append",    apply_append,     3,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "setrange",  apply_setrange,   4,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "setbit",    apply_setbit,     4,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "bitop",     apply_bitop,      -4,  CMD_WRITE, { 2, -1, 1, KU_FIRST } },
    { "bitfield",  apply_bitfield,   -2,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "incrbyfloat", apply_incrbyfloat, 3, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "getex",     apply_getex,      -2,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "increx",    apply_increx,     -2,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "pfadd",     apply_pfadd,      -2,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "pfmerge",   apply_pfmerge,    -2,  CMD_WRITE, { 1, -1, 1, KU_FIRST } },
    { "pfcount",   apply_pfcount,    -2,  CMD_WRITE, { 1, -1, 1, KU_NONE } },
    { "pfdebug",   apply_pfdebug,    -3,  CMD_WRITE, { 2, 2, 1, KU_FIRST } },
};
const size_t cmd_string_count = CMD_COUNT(cmd_string_table);
