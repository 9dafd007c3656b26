/*
 * cmd_pathhash.c - Valkey 9.2's path hash write commands: PHSET, PHMSET,
 * PHDEL and PHDELPREFIX, as valkey src/t_path_hash.c runs them (read at
 * valkey-io/valkey 8c15031e, the type's first merge, "since 9.2.0"). None
 * rewrites its arguments, so a master propagates each as its client sent
 * it, and only when it changed something (server.dirty).
 *
 * A path hash maps paths (binary strings) to field/value maps. A path
 * goes with its last field; the key stays when its last path goes (an
 * empty path hash, which Valkey keeps, as it keeps an empty stream). The
 * API may still change before 9.2 GA (valkey-io/valkey#4706 proposes
 * PHDELPATH and renames): what is not in this table counts as unknown.
 */
#include "apply_int.h"

/* The integer argv[i] >= 1 (getRangeLongFromObjectOrReply(1, LONG_MAX)). */
static int parse_count(struct applier *a, const struct rs_bytes *arg, long long *n)
{
    return ap_parse_ll(a, arg, n) == 0 && *n >= 1 ? 0 : -1;
}

/* The key argv[1] as a path hash: 1 when it exists, 0 when missing, -1 on
 * a sink error; *skip = 1 for another type (WRONGTYPE, logged). */
static int ph_open(struct applier *a, const struct rs_bytes *argv, struct sink_key *sk, int *skip)
{
    *skip = 0;
    if (ap_find_key(a, &argv[1], sk) != 0)
        return -1;
    if (sk->type == RS_T_NONE)
        return 0;
    if (sk->type != RS_T_PATHHASH) {
        *skip = 1;
        ap_wrongtype(a, argv);
        return 0;
    }
    return 1;
}

/* FNX: no field may exist yet; FXX: every field must exist (phsetCommand:
 * else nothing changes). *ok = 1 when the condition holds. */
static int ph_condition(struct applier *a, int64_t kid, const struct rs_bytes *path, int fxx,
                        const struct rs_bytes *pairs, long long n, int *ok)
{
    *ok = 1;
    for (long long i = 0; i < n && *ok; i++) {
        int has = 0;

        if (kid >= 0 && a->sink->ops->ph_has(a->sink, kid, path, &pairs[2 * i], &has) != 0)
            return -1;
        *ok = fxx ? has : !has;
    }
    return 0;
}

/* Set n field/value pairs of 'path', the key made when missing. */
static int ph_set_pairs(struct applier *a, int64_t kid, const struct rs_bytes *path,
                        const struct rs_bytes *pairs, long long n)
{
    for (long long i = 0; i < n; i++)
        if (a->sink->ops->ph_set(a->sink, kid, path, &pairs[2 * i], &pairs[2 * i + 1]) != 0)
            return -1;
    return 0;
}

/* PHSET key path [FNX|FXX] FIELDS numfields field value [field value ...] */
static int apply_phset(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    long long n;
    int at = 3, fnx = 0, fxx = 0, skip, r, ok = 1;

    if (ap_arg_is(&argv[at], "fnx") || ap_arg_is(&argv[at], "fxx")) {
        fnx = ap_arg_is(&argv[at], "fnx");
        fxx = !fnx;
        at++;
    }
    if (at + 2 > argc || !ap_arg_is(&argv[at], "fields"))
        return ap_reject(a, argv, "syntax error");
    if (parse_count(a, &argv[at + 1], &n) != 0)
        return ap_reject(a, argv, "value is out of range");
    if ((argc - at - 2) % 2 != 0 || n != (argc - at - 2) / 2)
        return ap_reject(a, argv, "syntax error");
    if ((r = ph_open(a, argv, &sk, &skip)) < 0)
        return -1;
    if (skip)
        return 0;
    if ((fnx || fxx) && ph_condition(a, r ? sk.id : -1, &argv[2], fxx, &argv[at + 2], n, &ok) != 0)
        return -1;
    if (!ok)
        return 0;
    if (!r && ap_find_or_create(a, argv, RS_T_PATHHASH, &sk, &skip) != 0)
        return -1;
    return ph_set_pairs(a, sk.id, &argv[2], &argv[at + 2], n);
}

/* PHMSET key path FIELDS numfields field value [...] [path FIELDS ...]:
 * every group checked first (radixValidateFieldGroups), then set. */
static int apply_phmset(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    long long n;
    int skip;

    for (int at = 2; at < argc; at += 3 + 2 * (int)n) {
        if (at + 2 >= argc || !ap_arg_is(&argv[at + 1], "fields"))
            return ap_reject(a, argv, "syntax error");
        if (parse_count(a, &argv[at + 2], &n) != 0)
            return ap_reject(a, argv, "value is out of range");
        if (n > (argc - at - 3) / 2)
            return ap_reject(a, argv, "syntax error");
    }
    if (ap_find_or_create(a, argv, RS_T_PATHHASH, &sk, &skip) != 0)
        return -1;
    for (int at = 2; !skip && at < argc; at += 3 + 2 * (int)n) {
        n = 0;
        ap_parse_ll(a, &argv[at + 2], &n);
        if (ph_set_pairs(a, sk.id, &argv[at], &argv[at + 3], n) != 0)
            return -1;
    }
    return 0;
}

/* PHDEL key path [field ...]: the fields, or the whole path without any. */
static int apply_phdel(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int64_t removed;
    int skip, r;

    if ((r = ph_open(a, argv, &sk, &skip)) <= 0)
        return r;
    if (argc == 3)
        return a->sink->ops->ph_del(a->sink, sk.id, &argv[2], NULL, &removed);
    for (int i = 3; i < argc; i++)
        if (a->sink->ops->ph_del(a->sink, sk.id, &argv[2], &argv[i], &removed) != 0)
            return -1;
    return 0;
}

/* PHDELPREFIX key prefix: every path starting with the prefix's bytes. */
static int apply_phdelprefix(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int64_t paths;
    int skip, r;

    (void)argc;
    if ((r = ph_open(a, argv, &sk, &skip)) <= 0)
        return r;
    return a->sink->ops->ph_del_prefix(a->sink, sk.id, &argv[2], &paths);
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_pathhash_table[] = {
    { "phset",        apply_phset,        -7,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "phmset",       apply_phmset,       -6,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "phdel",        apply_phdel,        -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "phdelprefix",  apply_phdelprefix,   3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
};
const size_t cmd_pathhash_count = CMD_COUNT(cmd_pathhash_table);
