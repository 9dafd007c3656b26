/*
 * apply.c - the command applier: replays the master's write commands on a
 * sink with Redis' semantics, and keeps the replication offset.
 *
 * Each command goes through one table (commands[] near the end): a name,
 * a handler and Redis' arity. The handlers do what Redis does for a
 * command that came from its master: a key past its TTL still exists (the
 * master deletes it with its own DEL), a collection emptied by a command
 * disappears, and a command Redis would reject (wrong type, bad number,
 * syntax) is logged and skipped. Its bytes still count in the offset.
 *
 * Offsets: every byte is counted. Outside MULTI the applied position moves
 * after each command; inside MULTI the block's bytes are held back and
 * published at EXEC, as Redis' replica does (networking.c commandProcessed).
 * Writes go into one sink transaction, opened lazily and committed by
 * apply_flush() with the applied position, never inside MULTI.
 *
 * Left out: commands the sink interface cannot express exactly (list pops,
 * hash field reads...) go to the unknown-command path. Start reading at
 * apply_command().
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apply.h"
#include "log.h"

#define DEFAULT_BATCH_CMDS  10000
#define DEFAULT_BATCH_MS    5
#define MAX_UNKNOWN_NAMES   256      /* names remembered for "log once" */

/*
 * The applier: what is published (applied), what the sink holds
 * (committed), the open sink transaction and the open MULTI block.
 */
struct applier {
    struct sink *sink;
    struct apply_opts opts;
    struct rs_error err;

    struct repl_pos applied;       /* whole commands and whole transactions */
    struct repl_pos committed;     /* stored in the sink with the data */
    int db;                        /* db selected by the stream, also inside MULTI */
    struct sink_stats stats, committed_stats;

    int txn_open;                  /* sink->begin was called, no commit yet */
    int64_t dirty_since;           /* mono ms of the first uncommitted change, -1: none */
    int batch_cmds;                /* commands since the last commit */

    int in_multi;
    uint64_t multi_bytes;          /* bytes of the open block, published at EXEC */
    int multi_db;                  /* db at MULTI, restored by DISCARD */
    int multi_clean;               /* no uncommitted data when MULTI came */
    int multi_wrote;               /* the block touched the sink */
    int flush_at_exec;             /* apply_flush was called inside the block */
    struct sink_stats multi_stats;

    int ack_request;

    char *unknown[MAX_UNKNOWN_NAMES];
    int n_unknown;

    char *scratch;                 /* a string value read back from the sink */
    size_t scratch_len, scratch_cap;
    int scratch_oom;
};

/* A handler returns 0 (applied or skipped) or -1 when the sink failed. */
typedef int (*apply_fn)(struct applier *a, int argc, const struct rs_bytes *argv);

#define CMD_WRITE   1      /* touches the sink: open a transaction first */

struct command {
    const char *name;
    apply_fn fn;
    int arity;             /* Redis' arity: N exactly, -N at least N */
    int flags;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* An option as Redis compares it: strcasecmp on the C string, so the
 * argument ends at its first NUL byte. */
static int arg_is(const struct rs_bytes *b, const char *lit)
{
    size_t n = strnlen(b->ptr, b->len);

    return n == strlen(lit) && strncasecmp(b->ptr, lit, n) == 0;
}

static int bytes_eq(const struct rs_bytes *x, const struct rs_bytes *y)
{
    return x->len == y->len && memcmp(x->ptr, y->ptr, x->len) == 0;
}

/* Printable, bounded copy of binary bytes for log lines ('size' >= 8). */
static const char *show(const struct rs_bytes *b, char *buf, size_t size)
{
    size_t o = 0, i;

    for (i = 0; i < b->len && o + 8 <= size; i++) {
        unsigned char c = (unsigned char)b->ptr[i];

        if (c >= 0x20 && c < 0x7f && c != '\\')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
    }
    if (i < b->len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* Redis would answer this keyed command with an error: log it and go on
 * (a replica does not stop for it). Returns 0. */
static int reject(struct applier *a, const struct rs_bytes *argv, const char *why)
{
    char name[48], key[80];

    (void)a;
    log_msg(RS_LOG_WARN, "skipping '%s' on '%s' from the master: %s",
            show(&argv[0], name, sizeof(name)), show(&argv[1], key, sizeof(key)), why);
    return 0;
}

/* The same for a command without arguments (MULTI, EXEC, DISCARD). */
static int reject_bare(const struct rs_bytes *argv, const char *why)
{
    char name[48];

    log_msg(RS_LOG_WARN, "skipping '%s' from the master: %s",
            show(&argv[0], name, sizeof(name)), why);
    return 0;
}

/* reject(), for parsers that return -1 to their caller. */
static int refuse(struct applier *a, const struct rs_bytes *argv, const char *why)
{
    reject(a, argv, why);
    return -1;
}

static int wrongtype(struct applier *a, const struct rs_bytes *argv)
{
    return reject(a, argv, "WRONGTYPE Operation against a key holding the wrong kind of value");
}

static int parse_ll(const struct rs_bytes *b, long long *v)
{
    return rs_parse_ll(b->ptr, b->len, v);
}

/* A score as Redis' string2d reads it: all of strtod's syntax ("inf",
 * hex floats...), no leading space, no trailing bytes, no NaN, no
 * overflow, no underflow to zero. */
static int parse_double(const struct rs_bytes *b, double *out)
{
    char small[128], *buf = small, *end;
    double d;
    int rc = -1;

    if (b->len == 0 || memchr(b->ptr, '\0', b->len))
        return -1;
    if (b->len >= sizeof(small) && (buf = malloc(b->len + 1)) == NULL)
        return -1;
    memcpy(buf, b->ptr, b->len);
    buf[b->len] = '\0';
    if (buf[0] != ' ' && !(buf[0] >= '\t' && buf[0] <= '\r')) {
        errno = 0;
        d = strtod(buf, &end);
        if ((size_t)(end - buf) == b->len && !isnan(d) &&
            !(errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL || fpclassify(d) == FP_ZERO))) {
            *out = d;
            rc = 0;
        }
    }
    if (buf != small)
        free(buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Transactions, offsets, errors                                       */
/* ------------------------------------------------------------------ */

static void mark_dirty(struct applier *a)
{
    if (a->dirty_since < 0)
        a->dirty_since = rs_mono_ms();
}

static int begin_txn(struct applier *a)
{
    if (a->txn_open)
        return 0;
    if (a->sink->ops->begin(a->sink) != 0)
        return -1;
    a->txn_open = 1;
    mark_dirty(a);
    return 0;
}

/* Count a command's bytes: published now, or at EXEC inside MULTI. */
static void count_bytes(struct applier *a, size_t n)
{
    if (a->in_multi) {
        a->multi_bytes += n;
    } else {
        a->applied.offset += (int64_t)n;
        a->applied.db = a->db;
    }
    mark_dirty(a);
}

/*
 * Something fatal happened (the sink failed, or strict mode met an
 * unknown command): drop everything after the last commit. The error
 * stays; every later call returns -1.
 */
static int fail(struct applier *a, const struct rs_bytes *cmd)
{
    if (a->err.code == 0) {
        char name[48];
        struct rs_bytes none = { "?", 1 };

        rs_fail(&a->err, a->sink->err.code ? a->sink->err.code : RS_E_SQL,
                "cannot apply '%s': %s", show(cmd ? cmd : &none, name, sizeof(name)),
                a->sink->err.msg[0] ? a->sink->err.msg : "sink failure");
    }
    if (a->txn_open) {
        a->sink->ops->rollback(a->sink);
        a->txn_open = 0;
    }
    a->applied = a->committed;
    a->db = a->committed.db;
    a->stats = a->committed_stats;
    a->in_multi = 0;
    a->multi_bytes = 0;
    a->dirty_since = -1;
    a->batch_cmds = 0;
    return -1;
}

static int same_pos(const struct repl_pos *x, const struct repl_pos *y)
{
    return x->offset == y->offset && x->db == y->db && strcmp(x->replid, y->replid) == 0;
}

int apply_flush(struct applier *a)
{
    if (a->err.code)
        return -1;
    if (a->in_multi) {
        a->flush_at_exec = 1;       /* a half block is never committed */
        return 0;
    }
    if (!a->txn_open && same_pos(&a->applied, &a->committed))
        return 0;
    if (begin_txn(a) != 0 ||
        a->sink->ops->commit(a->sink, &a->applied, &a->stats) != 0) {
        struct rs_bytes what = { "commit", 6 };

        return fail(a, &what);
    }
    a->txn_open = 0;
    a->committed = a->applied;
    a->committed_stats = a->stats;
    a->dirty_since = -1;
    a->batch_cmds = 0;
    a->flush_at_exec = 0;
    return 0;
}

int apply_flush_due(const struct applier *a)
{
    if (a->err.code || a->in_multi || a->dirty_since < 0)
        return 0;
    return a->flush_at_exec || a->batch_cmds >= a->opts.batch_max_cmds ||
           rs_mono_ms() - a->dirty_since >= a->opts.batch_max_ms;
}

/* ------------------------------------------------------------------ */
/* Key helpers                                                         */
/* ------------------------------------------------------------------ */

static int find_key(struct applier *a, const struct rs_bytes *key, struct sink_key *sk)
{
    sk->type = RS_T_NONE;
    sk->id = -1;
    sk->expire_ms = RS_NO_EXPIRE;
    return a->sink->ops->key_find(a->sink, a->db, key, sk);
}

/*
 * Find a key of 'type', creating it (empty, no TTL) when missing.
 * *skip = 1 when the key holds another type (WRONGTYPE, logged).
 */
static int find_or_create(struct applier *a, const struct rs_bytes *argv, enum rs_type type,
                          struct sink_key *sk, int *skip)
{
    *skip = 0;
    if (find_key(a, &argv[1], sk) != 0)
        return -1;
    if (sk->type == RS_T_NONE) {
        sk->type = type;
        sk->expire_ms = RS_NO_EXPIRE;
        return a->sink->ops->key_create(a->sink, a->db, &argv[1], type, RS_NO_EXPIRE, NULL,
                                        &sk->id);
    }
    if (sk->type != type) {
        *skip = 1;
        wrongtype(a, argv);
    }
    return 0;
}

/* Find an existing key of 'type'; *skip = 1 when missing or of another type. */
static int find_typed(struct applier *a, const struct rs_bytes *argv, enum rs_type type,
                      struct sink_key *sk, int *skip)
{
    *skip = 0;
    if (find_key(a, &argv[1], sk) != 0)
        return -1;
    if (sk->type == RS_T_NONE) {
        *skip = 1;
    } else if (sk->type != type) {
        *skip = 1;
        wrongtype(a, argv);
    }
    return 0;
}

/* A collection lost elements: delete it when it has none left. */
static int delete_if_empty(struct applier *a, const struct sink_key *sk)
{
    int empty = 0;

    if (a->sink->ops->key_is_empty(a->sink, sk->id, sk->type, &empty) != 0)
        return -1;
    return empty ? a->sink->ops->key_delete(a->sink, sk->id) : 0;
}

/*
 * Make 'key' the string 'value' with 'expire_ms' (Redis' setKey plus
 * setExpire): an existing key of another type is replaced.
 */
static int store_string(struct applier *a, const struct rs_bytes *key, const struct sink_key *sk,
                        const struct rs_bytes *value, int64_t expire_ms)
{
    const struct sink_ops *o = a->sink->ops;
    int64_t id;

    if (sk->type == RS_T_STRING) {
        if (o->string_set(a->sink, sk->id, value) != 0)
            return -1;
        if (sk->expire_ms != expire_ms)
            return o->key_set_expire(a->sink, sk->id, expire_ms);
        return 0;
    }
    if (sk->type != RS_T_NONE && o->key_delete(a->sink, sk->id) != 0)
        return -1;
    return o->key_create(a->sink, a->db, key, RS_T_STRING, expire_ms, value, &id);
}

static void scratch_cb(void *ud, const struct rs_bytes *v)
{
    struct applier *a = ud;

    a->scratch_len = 0;
    if (v->len > a->scratch_cap) {
        char *nb = realloc(a->scratch, v->len);

        if (nb == NULL) {
            a->scratch_oom = 1;
            return;
        }
        a->scratch = nb;
        a->scratch_cap = v->len;
    }
    if (v->len)
        memcpy(a->scratch, v->ptr, v->len);
    a->scratch_len = v->len;
}

/* Read a string key's value into a->scratch. */
static int read_string(struct applier *a, int64_t id)
{
    a->scratch_len = 0;
    a->scratch_oom = 0;
    if (a->sink->ops->string_get(a->sink, id, scratch_cb, a) != 0)
        return -1;
    if (a->scratch_oom)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory reading a string value");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Control: SELECT, MULTI/EXEC/DISCARD, PING, REPLCONF, PUBLISH        */
/* ------------------------------------------------------------------ */

static int apply_select(struct applier *a, int argc, const struct rs_bytes *argv)
{
    long long id;

    (void)argc;
    if (parse_ll(&argv[1], &id) != 0 || id < 0 || id > INT_MAX)
        return reject(a, argv, "invalid DB index");
    a->db = (int)id;
    return 0;
}

static int apply_multi(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    if (a->in_multi)
        return reject_bare(argv, "MULTI calls can not be nested");
    a->in_multi = 1;
    a->multi_bytes = 0;
    a->multi_db = a->db;
    a->multi_clean = !a->txn_open;
    a->multi_wrote = 0;
    a->multi_stats = a->stats;
    return 0;
}

/* The block is applied already; EXEC publishes its bytes. */
static int apply_exec(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    if (!a->in_multi)
        return reject_bare(argv, "EXEC without MULTI");
    a->in_multi = 0;
    a->applied.offset += (int64_t)a->multi_bytes;
    a->multi_bytes = 0;
    return 0;
}

/*
 * A master never propagates DISCARD, but a replica would honour it: the
 * queued commands are dropped, their bytes still count. We applied them
 * already, so we can undo them only when the sink transaction started
 * inside the block.
 */
static int apply_discard(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)argc;
    if (!a->in_multi)
        return reject_bare(argv, "DISCARD without MULTI");
    if (a->multi_wrote) {
        if (!a->multi_clean) {
            rs_fail(&a->err, RS_E_UNSUPPORTED,
                    "cannot DISCARD a transaction applied with uncommitted earlier commands");
            return -1;
        }
        if (a->sink->ops->rollback(a->sink) != 0) {
            a->txn_open = 0;
            return -1;
        }
        a->txn_open = 0;
    }
    a->db = a->multi_db;
    a->stats = a->multi_stats;
    a->in_multi = 0;
    a->applied.offset += (int64_t)a->multi_bytes;
    a->multi_bytes = 0;
    return 0;
}

/* PING, PUBLISH, SPUBLISH: counted, no effect on the keyspace. */
static int apply_nothing(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)a;
    (void)argc;
    (void)argv;
    return 0;
}

/*
 * REPLCONF GETACK: Redis answers with the offset before the GETACK, so
 * commit what came before it now; the caller acknowledges the committed
 * offset. The GETACK's own bytes are counted after this returns.
 */
static int apply_replconf(struct applier *a, int argc, const struct rs_bytes *argv)
{
    if (argc < 2 || !arg_is(&argv[1], "getack"))
        return 0;
    if (!a->in_multi && apply_flush(a) != 0)
        return -1;
    a->ack_request = 1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Keys: DEL, UNLINK, EXPIRE family, PERSIST, RENAME, FLUSHDB/ALL      */
/* ------------------------------------------------------------------ */

static int apply_del(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;

    for (int i = 1; i < argc; i++) {
        if (find_key(a, &argv[i], &sk) != 0)
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
        if (arg_is(&argv[i], "nx"))
            flags |= EXP_NX;
        else if (arg_is(&argv[i], "xx"))
            flags |= EXP_XX;
        else if (arg_is(&argv[i], "gt"))
            flags |= EXP_GT;
        else if (arg_is(&argv[i], "lt"))
            flags |= EXP_LT;
        else
            return reject(a, argv, "Unsupported option");
    }
    if ((flags & EXP_NX) && (flags & (EXP_XX | EXP_GT | EXP_LT)))
        return reject(a, argv, "NX and XX, GT or LT options at the same time are not compatible");
    if ((flags & EXP_GT) && (flags & EXP_LT))
        return reject(a, argv, "GT and LT options at the same time are not compatible");
    if (parse_ll(&argv[2], &when) != 0)
        return reject(a, argv, "value is not an integer or out of range");
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)
            return reject(a, argv, "invalid expire time");
        when *= 1000;
    }
    if (relative) {
        /* an old master's relative TTL: against our clock, as its replica did */
        int64_t now = rs_now_ms();

        if (when > LLONG_MAX - now)
            return reject(a, argv, "invalid expire time");
        when += now;
    }
    if (find_key(a, &argv[1], &sk) != 0)
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
    if (find_key(a, &argv[1], &sk) != 0)
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

    if (find_key(a, &argv[1], &src) != 0)
        return -1;
    if (src.type == RS_T_NONE)
        return reject(a, argv, "no such key");
    if (bytes_eq(&argv[1], &argv[2]))
        return 0;
    if (find_key(a, &argv[2], &dst) != 0)
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
    return argc == 1 || (argc == 2 && (arg_is(&argv[1], "sync") || arg_is(&argv[1], "async")));
}

static int apply_flushdb(struct applier *a, int argc, const struct rs_bytes *argv)
{
    if (!flush_args_ok(argc, argv))
        return reject(a, argv, "syntax error");
    return a->sink->ops->flush_db(a->sink, a->db);
}

static int apply_flushall(struct applier *a, int argc, const struct rs_bytes *argv)
{
    if (!flush_args_ok(argc, argv))
        return reject(a, argv, "syntax error");
    return a->sink->ops->flush_db(a->sink, -1);
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */
/* ------------------------------------------------------------------ */

enum exp_unit { EXPU_NONE, EXPU_EX, EXPU_PX, EXPU_EXAT, EXPU_PXAT };

/* Redis' getExpireMillisecondsOrReply: an absolute unix ms time, or -1
 * (after logging) when Redis would refuse the value. */
static int64_t expire_arg(struct applier *a, const struct rs_bytes *argv,
                          const struct rs_bytes *v, enum exp_unit unit)
{
    int secs = unit == EXPU_EX || unit == EXPU_EXAT;
    long long ms;

    if (parse_ll(v, &ms) != 0) {
        reject(a, argv, "value is not an integer or out of range");
        return -1;
    }
    if (ms <= 0 || (secs && ms > LLONG_MAX / 1000)) {
        reject(a, argv, "invalid expire time");
        return -1;
    }
    if (secs)
        ms *= 1000;
    if (unit == EXPU_EX || unit == EXPU_PX) {
        /* relative (masters before 7.0): against our clock at receipt */
        int64_t now = rs_now_ms();

        if (ms > LLONG_MAX - now) {
            reject(a, argv, "invalid expire time");
            return -1;
        }
        ms += now;
    }
    return ms;
}

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

        if (arg_is(o, "nx") && !*xx) {
            *nx = 1;
            continue;
        }
        if (arg_is(o, "xx") && !*nx) {
            *xx = 1;
            continue;
        }
        if (arg_is(o, "get")) {
            *get = 1;
            continue;
        }
        if (arg_is(o, "keepttl") && *unit == EXPU_NONE) {
            *keepttl = 1;
            continue;
        }
        for (k = 0; k < 4; k++)
            if (arg_is(o, units[k].name))
                break;
        /* the same unit twice is fine (the last value wins), two differ not */
        if (k < 4 && has_next && !*keepttl && (*unit == EXPU_NONE || *unit == units[k].unit)) {
            *unit = units[k].unit;
            *exp = &argv[++j];
            continue;
        }
        reject(a, argv, "syntax error");
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
    if (unit != EXPU_NONE && (expire = expire_arg(a, argv, exp, unit)) < 0)
        return 0;
    if (find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (get && sk.type != RS_T_NONE && sk.type != RS_T_STRING)
        return wrongtype(a, argv);
    found = sk.type != RS_T_NONE;
    if ((nx && found) || (xx && !found))
        return 0;
    if (unit == EXPU_NONE)
        expire = keepttl && found ? sk.expire_ms : RS_NO_EXPIRE;
    return store_string(a, &argv[1], &sk, &argv[2], expire);
}

static int apply_setnx(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;

    (void)argc;
    if (find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE)
        return 0;
    return store_string(a, &argv[1], &sk, &argv[2], RS_NO_EXPIRE);
}

/* SETEX key seconds value / PSETEX key ms value */
static int setex_generic(struct applier *a, const struct rs_bytes *argv, enum exp_unit unit)
{
    struct sink_key sk;
    int64_t expire = expire_arg(a, argv, &argv[2], unit);

    if (expire < 0)
        return 0;
    if (find_key(a, &argv[1], &sk) != 0)
        return -1;
    return store_string(a, &argv[1], &sk, &argv[3], expire);
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
    if (find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_STRING)
        return wrongtype(a, argv);
    return store_string(a, &argv[1], &sk, &argv[2], RS_NO_EXPIRE);
}

static int apply_getdel(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;

    (void)argc;
    if (find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type == RS_T_NONE)
        return 0;
    if (sk.type != RS_T_STRING)
        return wrongtype(a, argv);
    return a->sink->ops->key_delete(a->sink, sk.id);
}

/* MSET k v [k v ...] and MSETNX (all or nothing). */
static int mset_generic(struct applier *a, int argc, const struct rs_bytes *argv, int nx)
{
    struct sink_key sk;

    if (argc % 2 == 0)
        return reject(a, argv, "wrong number of arguments");
    if (nx) {
        for (int i = 1; i < argc; i += 2) {
            if (find_key(a, &argv[i], &sk) != 0)
                return -1;
            if (sk.type != RS_T_NONE)
                return 0;
        }
    }
    for (int i = 1; i < argc; i += 2) {
        if (find_key(a, &argv[i], &sk) != 0 ||
            store_string(a, &argv[i], &sk, &argv[i + 1], RS_NO_EXPIRE) != 0)
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

    if (find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_STRING)
        return wrongtype(a, argv);
    if (sk.type == RS_T_STRING) {
        if (read_string(a, sk.id) != 0)
            return -1;
        if (rs_parse_ll(a->scratch, a->scratch_len, &value) != 0)
            return reject(a, argv, "value is not an integer or out of range");
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value))
        return reject(a, argv, "increment or decrement would overflow");
    value += incr;
    out.ptr = buf;
    out.len = (size_t)snprintf(buf, sizeof(buf), "%lld", value);
    return store_string(a, &argv[1], &sk, &out,
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
    if (parse_ll(&argv[2], &incr) != 0)
        return reject(a, argv, "value is not an integer or out of range");
    return incr_generic(a, argv, incr);
}

static int apply_decrby(struct applier *a, int argc, const struct rs_bytes *argv)
{
    long long decr;

    (void)argc;
    if (parse_ll(&argv[2], &decr) != 0)
        return reject(a, argv, "value is not an integer or out of range");
    if (decr == LLONG_MIN)
        return reject(a, argv, "decrement would overflow");
    return incr_generic(a, argv, -decr);
}

static int apply_append(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    struct rs_bytes out;
    char *buf;
    int rc;

    (void)argc;
    if (find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type == RS_T_NONE)
        return store_string(a, &argv[1], &sk, &argv[2], RS_NO_EXPIRE);
    if (sk.type != RS_T_STRING)
        return wrongtype(a, argv);
    if (read_string(a, sk.id) != 0)
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
/* Hashes, lists, sets                                                 */
/* ------------------------------------------------------------------ */

/* HSET / HMSET key field value [field value ...]: a written field loses
 * its own TTL, as in Redis 7.4. */
static int apply_hset(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int skip;

    if (argc % 2 == 1)
        return reject(a, argv, "wrong number of arguments");
    if (find_or_create(a, argv, RS_T_HASH, &sk, &skip) != 0)
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

    if (find_typed(a, argv, RS_T_HASH, &sk, &skip) != 0)
        return -1;
    for (int i = 2; !skip && i < argc; i++) {
        if (a->sink->ops->hash_del(a->sink, sk.id, &argv[i], &removed) != 0)
            return -1;
        any |= removed;
    }
    return any ? delete_if_empty(a, &sk) : 0;
}

static int push_generic(struct applier *a, int argc, const struct rs_bytes *argv, int at_head)
{
    struct sink_key sk;
    int skip;

    if (find_or_create(a, argv, RS_T_LIST, &sk, &skip) != 0)
        return -1;
    /* one by one, so LPUSH k a b c leaves c b a */
    for (int i = 2; !skip && i < argc; i++)
        if (a->sink->ops->list_push(a->sink, sk.id, at_head, &argv[i]) != 0)
            return -1;
    return 0;
}

static int apply_lpush(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return push_generic(a, argc, argv, 1);
}

static int apply_rpush(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return push_generic(a, argc, argv, 0);
}

static int apply_sadd(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int skip;

    if (find_or_create(a, argv, RS_T_SET, &sk, &skip) != 0)
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

    if (find_typed(a, argv, RS_T_SET, &sk, &skip) != 0)
        return -1;
    for (int i = 2; !skip && i < argc; i++) {
        if (a->sink->ops->set_rem(a->sink, sk.id, &argv[i], &removed) != 0)
            return -1;
        any |= removed;
    }
    return any ? delete_if_empty(a, &sk) : 0;
}

/* ------------------------------------------------------------------ */
/* Sorted sets                                                         */
/* ------------------------------------------------------------------ */

#define Z_NX   1
#define Z_XX   2
#define Z_GT   4
#define Z_LT   8
#define Z_INCR 16

/* One member, as Redis' zsetAdd. 1: applied or no-op; 0: the INCR result
 * is NaN (an error, nothing changed); -1: the sink failed. */
static int zadd_one(struct applier *a, int64_t id, int flags, double score,
                    const struct rs_bytes *m)
{
    int found;
    double cur;

    if (a->sink->ops->zset_score(a->sink, id, m, &found, &cur) != 0)
        return -1;
    if (!found)
        return (flags & Z_XX) ? 1 : (a->sink->ops->zset_set(a->sink, id, m, score) ? -1 : 1);
    if (flags & Z_NX)
        return 1;
    if (flags & Z_INCR) {
        score += cur;
        if (isnan(score))
            return 0;
    }
    if (((flags & Z_LT) && score >= cur) || ((flags & Z_GT) && score <= cur))
        return 1;
    if (score == cur)
        return 1;
    return a->sink->ops->zset_set(a->sink, id, m, score) ? -1 : 1;
}

/* ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] */
static int apply_zadd(struct applier *a, int argc, const struct rs_bytes *argv)
{
    int flags = 0, j = 2, n, rc = 0, skip;
    double *scores;
    struct sink_key sk;

    for (; j < argc; j++) {
        if (arg_is(&argv[j], "nx")) flags |= Z_NX;
        else if (arg_is(&argv[j], "xx")) flags |= Z_XX;
        else if (arg_is(&argv[j], "gt")) flags |= Z_GT;
        else if (arg_is(&argv[j], "lt")) flags |= Z_LT;
        else if (arg_is(&argv[j], "ch")) continue;        /* changes the reply only */
        else if (arg_is(&argv[j], "incr")) flags |= Z_INCR;
        else break;
    }
    n = argc - j;
    if (n == 0 || n % 2)
        return reject(a, argv, "syntax error");
    n /= 2;
    if ((flags & Z_NX) && (flags & Z_XX))
        return reject(a, argv, "XX and NX options at the same time are not compatible");
    if (((flags & Z_GT) && (flags & Z_NX)) || ((flags & Z_LT) && (flags & Z_NX)) ||
        ((flags & Z_GT) && (flags & Z_LT)))
        return reject(a, argv, "GT, LT, and/or NX options at the same time are not compatible");
    if ((flags & Z_INCR) && n > 1)
        return reject(a, argv, "INCR option supports a single increment-element pair");
    if ((scores = malloc((size_t)n * sizeof(*scores))) == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory in ZADD");
    /* every score is checked before anything changes */
    for (int i = 0; i < n; i++) {
        if (parse_double(&argv[j + 2 * i], &scores[i]) != 0) {
            free(scores);
            return reject(a, argv, "value is not a valid float");
        }
    }
    if (find_key(a, &argv[1], &sk) != 0) {
        rc = -1;
    } else if (sk.type == RS_T_NONE && (flags & Z_XX)) {
        rc = 0;
    } else if (find_or_create(a, argv, RS_T_ZSET, &sk, &skip) != 0) {
        rc = -1;
    } else {
        for (int i = 0; !skip && i < n && rc == 0; i++) {
            int r = zadd_one(a, sk.id, flags, scores[i], &argv[j + 2 * i + 1]);

            if (r < 0)
                rc = -1;
            else if (r == 0)
                reject(a, argv, "resulting score is not a number (NaN)");
        }
    }
    free(scores);
    return rc;
}

static int apply_zrem(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct sink_key sk;
    int skip, removed, any = 0;

    if (find_typed(a, argv, RS_T_ZSET, &sk, &skip) != 0)
        return -1;
    for (int i = 2; !skip && i < argc; i++) {
        if (a->sink->ops->zset_rem(a->sink, sk.id, &argv[i], &removed) != 0)
            return -1;
        any |= removed;
    }
    return any ? delete_if_empty(a, &sk) : 0;
}

/* ------------------------------------------------------------------ */
/* Streams                                                             */
/* ------------------------------------------------------------------ */

/* Redis' string2ull: strict decimal first, then strtoull's laxer syntax. */
static int string2ull(const char *s, unsigned long long *v)
{
    long long ll;
    char *end = NULL;

    if (rs_parse_ll(s, strlen(s), &ll) == 0) {
        if (ll < 0)
            return -1;
        *v = (unsigned long long)ll;
        return 0;
    }
    errno = 0;
    *v = strtoull(s, &end, 10);
    if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *end == '\0'))
        return -1;
    return 0;
}

/*
 * A strict stream ID as XADD reads it: "ms", "ms-seq" or "ms-*" (then
 * *seq_given = 0). The argument is read as a C string, as Redis does.
 */
static int parse_stream_id(const struct rs_bytes *b, struct rs_stream_id *id, int *seq_given)
{
    char buf[128], *dash;
    unsigned long long ms, seq = 0;

    if (b->len > sizeof(buf) - 1)
        return -1;
    memcpy(buf, b->ptr, b->len);
    buf[b->len] = '\0';
    if ((buf[0] == '-' || buf[0] == '+') && buf[1] == '\0')
        return -1;
    *seq_given = 1;
    if ((dash = strchr(buf, '-')) != NULL)
        *dash = '\0';
    if (string2ull(buf, &ms) != 0)
        return -1;
    if (dash && strcmp(dash + 1, "*") == 0)
        *seq_given = 0;
    else if (dash && string2ull(dash + 1, &seq) != 0)
        return -1;
    id->ms = ms;
    id->seq = seq;
    return 0;
}

static int id_cmp(const struct rs_stream_id *x, const struct rs_stream_id *y)
{
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return 0;
}

enum { TRIM_NONE, TRIM_MAXLEN, TRIM_MINID };

struct xadd_args {
    int nomkstream;
    int trim;                      /* TRIM_* */
    int approx;
    long long maxlen;
    struct rs_stream_id minid;
    int id_given, seq_given;
    struct rs_stream_id id;
    int id_pos;                    /* argv index of the ID */
};

/* Redis' streamParseAddOrTrimArgsOrReply for XADD from the master (no
 * LIMIT enforced). 0, or -1 after logging. */
static int xadd_parse(struct applier *a, int argc, const struct rs_bytes *argv,
                      struct xadd_args *x)
{
    long long limit = 0;
    int i, seq;

    memset(x, 0, sizeof(*x));
    for (i = 2; i < argc; i++) {
        int more = argc - 1 - i;
        const struct rs_bytes *o = &argv[i];

        if (arg_is(o, "*"))
            break;
        if ((arg_is(o, "maxlen") || arg_is(o, "minid")) && more) {
            int minid = arg_is(o, "minid");

            if (x->trim != TRIM_NONE)
                return refuse(a, argv, "syntax error, MAXLEN and MINID options at the same time "
                                       "are not compatible");
            x->approx = 0;
            if (more >= 2 && arg_is(&argv[i + 1], "~")) {
                x->approx = 1;
                i++;
            } else if (more >= 2 && arg_is(&argv[i + 1], "=")) {
                i++;
            }
            if (minid ? parse_stream_id(&argv[i + 1], &x->minid, &seq) != 0
                      : parse_ll(&argv[i + 1], &x->maxlen) != 0)
                return refuse(a, argv, "invalid MAXLEN or MINID argument");
            if (!minid && x->maxlen < 0)
                return refuse(a, argv, "The MAXLEN argument must be >= 0.");
            if (minid && !seq)
                return refuse(a, argv, "Invalid stream ID specified as stream command argument");
            i++;
            x->trim = minid ? TRIM_MINID : TRIM_MAXLEN;
        } else if (arg_is(o, "limit") && more) {
            if (parse_ll(&argv[i + 1], &limit) != 0 || limit < 0)
                return refuse(a, argv, "invalid LIMIT argument");
            i++;
        } else if (arg_is(o, "nomkstream")) {
            x->nomkstream = 1;
        } else {
            if (parse_stream_id(o, &x->id, &x->seq_given) != 0)
                return refuse(a, argv, "Invalid stream ID specified as stream command argument");
            x->id_given = 1;
            break;
        }
    }
    if (limit && x->trim == TRIM_NONE)
        return refuse(a, argv, "syntax error, LIMIT cannot be used without specifying a "
                               "trimming strategy");
    x->id_pos = i;
    return 0;
}

/* The ID the entry gets (streamAppendItem). -1 when Redis refuses it. */
static int xadd_pick_id(const struct xadd_args *x, const struct rs_stream_meta *m,
                        struct rs_stream_id *id)
{
    if (x->id_given) {
        *id = x->id;
        if (!x->seq_given && m->last_id.ms == x->id.ms) {
            if (m->last_id.seq == UINT64_MAX)
                return -1;
            id->seq = m->last_id.seq + 1;
        }
    } else {
        /* "*" from a master that did not rewrite it: our clock decides */
        uint64_t now = (uint64_t)rs_now_ms();

        if (now > m->last_id.ms) {
            id->ms = now;
            id->seq = 0;
        } else if (m->last_id.seq == UINT64_MAX) {
            if (m->last_id.ms == UINT64_MAX)
                return -1;
            id->ms = m->last_id.ms + 1;
            id->seq = 0;
        } else {
            id->ms = m->last_id.ms;
            id->seq = m->last_id.seq + 1;
        }
    }
    return id_cmp(id, &m->last_id) > 0 ? 0 : -1;
}

/* Trim after the add; exact, as the master rewrote "~" to "=". */
static int xadd_trim(struct applier *a, int64_t kid, const struct xadd_args *x,
                     struct rs_stream_meta *m)
{
    uint64_t removed = 0;

    if (x->trim == TRIM_NONE)
        return 0;
    if (x->trim == TRIM_MAXLEN && m->length <= (uint64_t)x->maxlen)
        return 0;
    if (a->sink->ops->stream_trim(a->sink, kid, x->trim == TRIM_MINID ? &x->minid : NULL,
                                  x->trim == TRIM_MAXLEN ? x->maxlen : -1, &removed) != 0)
        return -1;
    m->length -= removed < m->length ? removed : m->length;
    if (m->length == 0) {
        m->first_id.ms = 0;
        m->first_id.seq = 0;
    }
    /* else Redis sets first_id to the oldest entry left; the sink interface
     * cannot read it, so it stays stale (only XINFO shows it) */
    return 0;
}

/* XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT n]] id field value ... */
static int apply_xadd(struct applier *a, int argc, const struct rs_bytes *argv)
{
    const struct sink_ops *o = a->sink->ops;
    struct xadd_args x;
    struct rs_stream_meta m;
    struct rs_stream_id id;
    struct sink_key sk;
    int fpos, created = 0;

    if (xadd_parse(a, argc, argv, &x) != 0)
        return 0;
    fpos = x.id_pos + 1;
    if (argc - fpos < 2 || (argc - fpos) % 2)
        return reject(a, argv, "wrong number of arguments");
    if (x.id_given && x.seq_given && x.id.ms == 0 && x.id.seq == 0)
        return reject(a, argv, "The ID specified in XADD must be greater than 0-0");
    if (find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_STREAM)
        return wrongtype(a, argv);
    memset(&m, 0, sizeof(m));
    if (sk.type == RS_T_NONE) {
        if (x.nomkstream)
            return 0;
        m.has_v2 = 1;
        created = 1;
    } else if (o->stream_meta_get(a->sink, sk.id, &m) != 0) {
        return -1;
    }
    if (xadd_pick_id(&x, &m, &id) != 0)
        return reject(a, argv, "The ID specified in XADD is equal or smaller than the "
                               "target stream top item");
    if (created && o->key_create(a->sink, a->db, &argv[1], RS_T_STREAM, RS_NO_EXPIRE, NULL,
                                 &sk.id) != 0)
        return -1;
    for (int i = fpos, pos = 0; i < argc; i += 2, pos++)
        if (o->stream_add(a->sink, sk.id, &id, pos, &argv[i], &argv[i + 1]) != 0)
            return -1;
    m.length++;
    m.last_id = id;
    if (m.has_v2) {
        m.entries_added++;
        if (m.length == 1)
            m.first_id = id;
    }
    if (xadd_trim(a, sk.id, &x, &m) != 0)
        return -1;
    return o->stream_meta_set(a->sink, sk.id, &m);
}

/* ------------------------------------------------------------------ */
/* The command table and the entry points                             */
/* ------------------------------------------------------------------ */

static const struct command commands[] = {
    /* control: counted, no data */
    { "select",    apply_select,    2,  0 },
    { "ping",      apply_nothing,   -1, 0 },
    { "publish",   apply_nothing,   3,  0 },
    { "spublish",  apply_nothing,   3,  0 },
    { "replconf",  apply_replconf,  -1, 0 },
    { "multi",     apply_multi,     1,  0 },
    { "exec",      apply_exec,      1,  0 },
    { "discard",   apply_discard,   1,  0 },
    /* keys */
    { "del",       apply_del,       -2, CMD_WRITE },
    { "unlink",    apply_del,       -2, CMD_WRITE },
    { "pexpireat", apply_pexpireat, -3, CMD_WRITE },
    { "expireat",  apply_expireat,  -3, CMD_WRITE },
    { "pexpire",   apply_pexpire,   -3, CMD_WRITE },
    { "expire",    apply_expire,    -3, CMD_WRITE },
    { "persist",   apply_persist,   2,  CMD_WRITE },
    { "rename",    apply_rename,    3,  CMD_WRITE },
    { "renamenx",  apply_renamenx,  3,  CMD_WRITE },
    { "flushdb",   apply_flushdb,   -1, CMD_WRITE },
    { "flushall",  apply_flushall,  -1, CMD_WRITE },
    /* strings */
    { "set",       apply_set,       -3, CMD_WRITE },
    { "setnx",     apply_setnx,     3,  CMD_WRITE },
    { "setex",     apply_setex,     4,  CMD_WRITE },
    { "psetex",    apply_psetex,    4,  CMD_WRITE },
    { "getset",    apply_getset,    3,  CMD_WRITE },
    { "getdel",    apply_getdel,    2,  CMD_WRITE },
    { "mset",      apply_mset,      -3, CMD_WRITE },
    { "msetnx",    apply_msetnx,    -3, CMD_WRITE },
    { "incr",      apply_incr,      2,  CMD_WRITE },
    { "decr",      apply_decr,      2,  CMD_WRITE },
    { "incrby",    apply_incrby,    3,  CMD_WRITE },
    { "decrby",    apply_decrby,    3,  CMD_WRITE },
    { "append",    apply_append,    3,  CMD_WRITE },
    /* collections */
    { "hset",      apply_hset,      -4, CMD_WRITE },
    { "hmset",     apply_hset,      -4, CMD_WRITE },
    { "hdel",      apply_hdel,      -3, CMD_WRITE },
    { "lpush",     apply_lpush,     -3, CMD_WRITE },
    { "rpush",     apply_rpush,     -3, CMD_WRITE },
    { "sadd",      apply_sadd,      -3, CMD_WRITE },
    { "srem",      apply_srem,      -3, CMD_WRITE },
    { "zadd",      apply_zadd,      -4, CMD_WRITE },
    { "zrem",      apply_zrem,      -3, CMD_WRITE },
    { "xadd",      apply_xadd,      -5, CMD_WRITE },
};

/* Command names are matched whole and case-insensitively. */
static const struct command *find_command(const struct rs_bytes *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const char *n = commands[i].name;

        if (strlen(n) == name->len && strncasecmp(n, name->ptr, name->len) == 0)
            return &commands[i];
    }
    return NULL;
}

/* Lower-cased, bounded copy of a command name (for counting and logs). */
static struct rs_bytes lower_name(const struct rs_bytes *name, char *buf, size_t size)
{
    struct rs_bytes out = { buf, name->len < size ? name->len : size };

    for (size_t i = 0; i < out.len; i++) {
        char c = name->ptr[i];

        buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    return out;
}

/* Log a name the first time it is seen (up to MAX_UNKNOWN_NAMES names). */
static void log_unknown_once(struct applier *a, const struct rs_bytes *lname)
{
    char shown[80];

    for (int i = 0; i < a->n_unknown; i++)
        if (strlen(a->unknown[i]) == lname->len &&
            memcmp(a->unknown[i], lname->ptr, lname->len) == 0)
            return;
    if (a->n_unknown < MAX_UNKNOWN_NAMES && memchr(lname->ptr, '\0', lname->len) == NULL) {
        char *copy = malloc(lname->len + 1);

        if (copy) {
            memcpy(copy, lname->ptr, lname->len);
            copy[lname->len] = '\0';
            a->unknown[a->n_unknown++] = copy;
        }
    }
    log_msg(RS_LOG_WARN, "unknown command '%s' in the replication stream: counted, not applied",
            show(lname, shown, sizeof(shown)));
}

static int apply_unknown(struct applier *a, const struct rs_bytes *argv, size_t wire_len)
{
    char buf[64], shown[80];
    struct rs_bytes lname = lower_name(&argv[0], buf, sizeof(buf));

    if (a->opts.strict) {
        /* stop before its bytes count: the checkpoint stays before it */
        rs_fail(&a->err, RS_E_UNSUPPORTED, "unknown command '%s' in the replication stream "
                "(strict mode)", show(&lname, shown, sizeof(shown)));
        return fail(a, &argv[0]);
    }
    log_unknown_once(a, &lname);
    if (begin_txn(a) != 0 || a->sink->ops->unknown_command(a->sink, &lname) != 0)
        return fail(a, &argv[0]);
    if (a->in_multi)
        a->multi_wrote = 1;
    a->stats.unknown_commands++;
    count_bytes(a, wire_len);
    a->batch_cmds++;
    return 0;
}

int apply_command(struct applier *a, int argc, const struct rs_bytes *argv, size_t wire_len)
{
    const struct command *c;
    char name[48];

    if (a->err.code)
        return -1;
    if (argc < 1) {
        count_bytes(a, wire_len);
        return 0;
    }
    if ((c = find_command(&argv[0])) == NULL)
        return apply_unknown(a, argv, wire_len);
    if ((c->arity > 0 && argc != c->arity) || (c->arity < 0 && argc < -c->arity)) {
        log_msg(RS_LOG_WARN, "skipping '%s' from the master: wrong number of arguments (%d)",
                show(&argv[0], name, sizeof(name)), argc);
    } else {
        if (c->flags & CMD_WRITE) {
            if (begin_txn(a) != 0)
                return fail(a, &argv[0]);
            if (a->in_multi)
                a->multi_wrote = 1;
        }
        if (c->fn(a, argc, argv) != 0)
            return fail(a, &argv[0]);
        a->stats.commands_applied++;
    }
    count_bytes(a, wire_len);
    a->batch_cmds++;
    return 0;
}

void apply_skip_bytes(struct applier *a, size_t n)
{
    if (a->err.code == 0 && n > 0)
        count_bytes(a, n);
}

struct applier *apply_new(struct sink *s, const struct repl_pos *start,
                          const struct apply_opts *opts)
{
    struct applier *a = calloc(1, sizeof(*a));

    if (a == NULL)
        return NULL;
    a->sink = s;
    if (opts)
        a->opts = *opts;
    if (a->opts.batch_max_cmds <= 0)
        a->opts.batch_max_cmds = DEFAULT_BATCH_CMDS;
    if (a->opts.batch_max_ms <= 0)
        a->opts.batch_max_ms = DEFAULT_BATCH_MS;
    if (start) {
        a->applied = *start;
    } else {
        a->applied.offset = -1;
    }
    a->applied.replid[sizeof(a->applied.replid) - 1] = '\0';
    a->committed = a->applied;
    a->db = a->applied.db;
    a->dirty_since = -1;
    return a;
}

void apply_free(struct applier *a)
{
    if (a == NULL)
        return;
    if (a->txn_open)
        a->sink->ops->rollback(a->sink);
    for (int i = 0; i < a->n_unknown; i++)
        free(a->unknown[i]);
    free(a->scratch);
    free(a);
}

int apply_in_multi(const struct applier *a)
{
    return a->in_multi;
}

const struct repl_pos *apply_applied(const struct applier *a)
{
    return &a->applied;
}

const struct repl_pos *apply_committed(const struct applier *a)
{
    return &a->committed;
}

int apply_take_ack_request(struct applier *a)
{
    int r = a->ack_request;

    a->ack_request = 0;
    return r;
}

void apply_set_replid(struct applier *a, const char *replid)
{
    snprintf(a->applied.replid, sizeof(a->applied.replid), "%s", replid ? replid : "");
    mark_dirty(a);
}

const struct sink_stats *apply_stats(const struct applier *a)
{
    return &a->stats;
}

const struct rs_error *apply_error(const struct applier *a)
{
    return &a->err;
}
