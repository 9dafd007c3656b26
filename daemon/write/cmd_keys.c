/*
 * cmd_keys.c - commands on whole keys: DEL, UNLINK, the EXPIRE family,
 * PERSIST, RENAME, RENAMENX, MOVE, COPY, SWAPDB, FLUSHDB, FLUSHALL,
 * RESTORE (a DUMP payload parsed with rdb.c into loader.c's sink ops) and
 * SORT ... STORE (its handler is in cmd_sort.c).
 *
 * A key past its TTL still exists here (the master deletes it with its own
 * DEL, and Redis' replica answers lookups of its master the same way); an
 * expire time in the past is stored as 0, never as "no TTL".
 * Helpers come from apply_int.h; the table at the end is all apply.c sees.
 */
#include <limits.h>
#include <stdio.h>

#include "apply_int.h"
#include "cmd_sort.h"
#include "loader.h"
#include "log.h"
#include "rdb.h"

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
    if (ap_parse_ll(a, &argv[2], &when) != 0)
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

/* A db index as Redis' getIntFromObject plus selectDb read it (the
 * master checked its upper bound). 0, or -1 after logging. */
static int parse_db(struct applier *a, const struct rs_bytes *argv, const struct rs_bytes *v,
                    int *db)
{
    long long n;

    if (ap_parse_ll(a, v, &n) != 0 || n < INT_MIN || n > INT_MAX)
        return ap_refuse(a, argv, "value is not an integer or out of range");
    if (n < 0)
        return ap_refuse(a, argv, "DB index is out of range");
    *db = (int)n;
    return 0;
}

/* MOVE k db: only when k exists and db has no k; the TTL travels, except
 * before 2.8.23 and in 3.0.0-3.0.4, whose moveCommand (db.c) left it behind. */
static int apply_move(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key src, dst;
    int db;

    (void)argc;
    if (parse_db(a, argv, &argv[2], &db) != 0)
        return 0;
    if (db == a->db)
        return ap_reject(a, argv, "source and destination objects are the same");
    if (ap_find_key(a, &argv[1], &src) != 0)
        return -1;
    if (src.type == RS_T_NONE)
        return 0;
    if (a->sink->ops->key_find(a->sink, db, &argv[1], &dst) != 0)
        return -1;
    if (dst.type != RS_T_NONE)
        return 0;
    if (src.expire_ms != RS_NO_EXPIRE &&
        (ap_master_before(a, 20823) || ap_master_between(a, 30000, 30005)) &&
        a->sink->ops->key_set_expire(a->sink, src.id, RS_NO_EXPIRE) != 0)
        return -1;
    return a->sink->ops->key_rename(a->sink, src.id, db, &argv[1]);
}

/* COPY src dst [DB n] [REPLACE]: a deep copy with the TTL (Redis'
 * copyCommand; options are read left to right, the last DB wins). */
static int apply_copy(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key src, dst;
    int db = a->db, replace = 0;
    int64_t id;

    for (int j = 3; j < argc; j++) {
        if (ap_arg_is(&argv[j], "replace")) {
            replace = 1;
        } else if (ap_arg_is(&argv[j], "db") && j + 1 < argc) {
            if (parse_db(a, argv, &argv[++j], &db) != 0)
                return 0;
        } else {
            return ap_reject(a, argv, "syntax error");
        }
    }
    if (db == a->db && ap_bytes_eq(&argv[1], &argv[2]))
        return ap_reject(a, argv, "source and destination objects are the same");
    if (ap_find_key(a, &argv[1], &src) != 0)
        return -1;
    if (src.type == RS_T_NONE)
        return 0;
    if (a->sink->ops->key_find(a->sink, db, &argv[2], &dst) != 0)
        return -1;
    if (dst.type != RS_T_NONE) {
        if (!replace)
            return 0;
        if (a->sink->ops->key_delete(a->sink, dst.id) != 0)
            return -1;
    }
    return a->sink->ops->key_copy(a->sink, src.id, db, &argv[2], &id);
}

/* SWAPDB a b: every key (with its TTL) changes db; a == b does nothing. */
static int apply_swapdb(struct applier *a, int argc, const struct rs_bytes *argv)
{
    long long x, y;

    (void)argc;
    if (ap_parse_ll(a, &argv[1], &x) != 0 || x < INT_MIN || x > INT_MAX)
        return ap_reject(a, argv, "invalid first DB index");
    if (ap_parse_ll(a, &argv[2], &y) != 0 || y < INT_MIN || y > INT_MAX)
        return ap_reject(a, argv, "invalid second DB index");
    if (x < 0 || y < 0)
        return ap_reject(a, argv, "DB index is out of range");
    return a->sink->ops->swap_db(a->sink, (int)x, (int)y);
}

/* ------------------------------------------------------------------ */
/* RESTORE                                                            */
/* ------------------------------------------------------------------ */

/*
 * RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f], as
 * Redis' restoreCommand runs it on a replica. The payload (DUMP format,
 * the master's RDB version) is parsed twice: first with counting handlers
 * only, so a bad CRC, an unknown type or an empty collection (Redis:
 * "Bad data format") skips the command before anything changed; then
 * again with the loader's handlers (loader.c, the same ones a full sync
 * uses), which create the key and its elements through the normal sink
 * ops. A payload is bounded by the command's size, so two passes cost no
 * more memory than one.
 */
struct restore {
    enum rs_type type;
    uint64_t elements;
};

static int rs_key_begin(void *ud, const struct rdb_key *key)
{
    struct restore *r = ud;

    r->type = key->type;
    return 0;
}

static int rs_count(struct restore *r)
{
    r->elements++;
    return 0;
}

static int cnt_string(void *ud, const struct rs_bytes *v)
{
    (void)v;
    return rs_count(ud);
}

static int cnt_zset(void *ud, const struct rs_bytes *m, double score)
{
    (void)m;
    (void)score;
    return rs_count(ud);
}

static int cnt_hash(void *ud, const struct rs_bytes *f, const struct rs_bytes *v, int64_t e)
{
    (void)f;
    (void)v;
    (void)e;
    return rs_count(ud);
}

static int cnt_array(void *ud, uint64_t idx, const struct rs_bytes *v)
{
    (void)idx;
    (void)v;
    return rs_count(ud);
}

static const struct rdb_handlers restore_check = {
    .on_key_begin = rs_key_begin,
    .on_array_item = cnt_array,
    .on_string = cnt_string,
    .on_list_item = cnt_string,
    .on_set_member = cnt_string,
    .on_zset_member = cnt_zset,
    .on_hash_field = cnt_hash,
};

/* Feed the whole payload to a new parser with 'h'. 0 when it is one
 * complete, verified value; else -1 with the parser's message in 'why'. */
static int restore_parse(const struct rs_bytes *payload, const struct rdb_handlers *h,
                         void *ud, char *why, size_t whysize)
{
    struct rdb_parser *p = rdb_parser_new(RDB_MODE_DUMP, h, ud, 0);
    size_t used = 0;
    enum rs_status st;
    int rc = -1;

    if (p == NULL) {
        snprintf(why, whysize, "out of memory");
        return -1;
    }
    st = rdb_parser_feed(p, payload->ptr, payload->len, &used);
    if (st == RS_DONE && used == payload->len)
        rc = 0;
    else if (st == RS_DONE)
        snprintf(why, whysize, "%zu stray bytes after the payload", payload->len - used);
    else if (st == RS_AGAIN)
        snprintf(why, whysize, "truncated payload (%zu bytes)", payload->len);
    else
        snprintf(why, whysize, "%s", rdb_parser_error(p)->msg);
    rdb_parser_free(p);
    return rc;
}

/* RESTORE's options (from argv[4]). 0, or -1 after logging. */
static int restore_options(struct applier *a, int argc, const struct rs_bytes *argv,
                           int *replace, int *absttl)
{
    long long idle = -1, freq = -1, v;

    for (int j = 4; j < argc; j++) {
        int more = j + 1 < argc;

        if (ap_arg_is(&argv[j], "replace")) {
            *replace = 1;
        } else if (ap_arg_is(&argv[j], "absttl")) {
            *absttl = 1;
        } else if (ap_arg_is(&argv[j], "idletime") && more && freq == -1) {
            if (ap_parse_ll(a, &argv[++j], &v) != 0)
                return ap_refuse(a, argv, "value is not an integer or out of range");
            if (v < 0)
                return ap_refuse(a, argv, "Invalid IDLETIME value, must be >= 0");
            idle = v;               /* LRU/LFU hints: nothing to mirror */
        } else if (ap_arg_is(&argv[j], "freq") && more && idle == -1) {
            if (ap_parse_ll(a, &argv[++j], &v) != 0)
                return ap_refuse(a, argv, "value is not an integer or out of range");
            if (v < 0 || v > 255)
                return ap_refuse(a, argv, "Invalid FREQ value, must be >= 0 and <= 255");
            freq = v;
        } else {
            return ap_refuse(a, argv, "syntax error");
        }
    }
    return 0;
}

static int apply_restore(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct restore r = { RS_T_NONE, 0 };
    int64_t expire_ms = RS_NO_EXPIRE;
    struct loader ld;
    struct sink_key old;
    int replace = 0, absttl = 0, rc;
    long long ttl;
    char why[256];

    if (restore_options(a, argc, argv, &replace, &absttl) != 0)
        return 0;
    if (ap_find_key(a, &argv[1], &old) != 0)
        return -1;
    if (!replace && old.type != RS_T_NONE)
        return ap_reject(a, argv, "BUSYKEY Target key name already exists.");
    if (ap_parse_ll(a, &argv[2], &ttl) != 0)
        return ap_reject(a, argv, "value is not an integer or out of range");
    if (ttl < 0)
        return ap_reject(a, argv, "Invalid TTL value, must be >= 0");
    if (restore_parse(&argv[3], &restore_check, &r, why, sizeof(why)) != 0) {
        log_msg(RS_LOG_WARN, "skipping a RESTORE from the master: bad DUMP payload: %s", why);
        return 0;
    }
    if (r.elements == 0 && r.type != RS_T_STREAM && r.type != RS_T_MODULE)
        return ap_reject(a, argv, "Bad data format");
    if (ttl > 0) {
        /* an old master's relative TTL: against our clock, as its replica did
         * (a replica keeps a key whose time has passed: the master sends DEL) */
        expire_ms = absttl ? ttl : (ttl > LLONG_MAX - rs_now_ms() ? LLONG_MAX : ttl + rs_now_ms());
    }
    if (old.type != RS_T_NONE && a->sink->ops->key_delete(a->sink, old.id) != 0)
        return -1;
    loader_init(&ld, a->sink);
    loader_target(&ld, a->db, &argv[1], expire_ms);
    rc = restore_parse(&argv[3], &loader_handlers, &ld, why, sizeof(why));
    loader_release(&ld);
    if (rc != 0) {
        if (ld.sink_failed)
            return -1;
        /* the first pass accepted these very bytes: cannot happen */
        return rs_fail(&a->err, RS_E_RDB, "cannot restore a DUMP payload: %s", why);
    }
    return 0;
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
    { "del",       apply_del,        -2,  CMD_WRITE, { 1, -1, 1, KU_NONE } },
    { "unlink",    apply_del,        -2,  CMD_WRITE, { 1, -1, 1, KU_NONE } },
    { "pexpireat", apply_pexpireat,  -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "expireat",  apply_expireat,   -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "pexpire",   apply_pexpire,    -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "expire",    apply_expire,     -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "persist",   apply_persist,    2,   CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "rename",    apply_rename,     3,   CMD_WRITE, { 1, 2, 1, KU_MOVE } },
    { "renamenx",  apply_renamenx,   3,   CMD_WRITE, { 1, 2, 1, KU_MOVE } },
    { "flushdb",   apply_flushdb,    -1,  CMD_WRITE, { 0, 0, 0, KU_FLUSHDB } },
    { "flushall",  apply_flushall,   -1,  CMD_WRITE, { 0, 0, 0, KU_NONE } },
    { "move",      apply_move,       3,   CMD_WRITE, { 1, 1, 1, KU_MOVE_DB } },
    { "copy",      apply_copy,       -3,  CMD_WRITE, { 1, 2, 1, KU_COPY } },
    { "swapdb",    apply_swapdb,     3,   CMD_WRITE, { 0, 0, 0, KU_SWAPDB } },
    { "restore",   apply_restore,    -4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "restore-asking", apply_restore, -4, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "sort",      cmd_sort_apply,   -2,  CMD_WRITE, { 1, 1, 1, KU_SORT_STORE } },
};
const size_t cmd_keys_count = CMD_COUNT(cmd_keys_table);
