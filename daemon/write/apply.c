/*
 * apply.c - the command applier's core: replays the master's write
 * commands on a sink with Redis' semantics, and keeps the replication
 * offset.
 *
 * Commands live in family files (cmd_string.c, cmd_keys.c, cmd_hash.c,
 * cmd_list.c, cmd_set.c, cmd_zset.c, cmd_geo.c, cmd_stream.c,
 * cmd_script.c, cmd_array.c, cmd_pathhash.c), each exporting a table of
 * names, handlers and Redis' arities; apply_int.h holds what they share
 * and apply_util.c their helpers. This file keeps
 * the control commands (SELECT, MULTI/EXEC/DISCARD, PING, PUBLISH,
 * REPLCONF), finds a command's handler (ap_find_command(), one hash lookup),
 * checks its arity and counts its bytes. The handlers do what Redis does
 * for a command that came from its master: a key past its TTL still
 * exists (the master deletes it with its own DEL), a collection emptied by
 * a command disappears, and a command Redis would reject (wrong type, bad
 * number, syntax) is logged and skipped. Its bytes still count in the
 * offset.
 *
 * Offsets: every byte is counted. Outside MULTI the applied position moves
 * after each command; inside MULTI the block's bytes are held back and
 * published at EXEC, as Redis' replica does (networking.c commandProcessed).
 * Writes go into one sink transaction, opened lazily and committed by
 * apply_flush() with the applied position, never inside MULTI.
 *
 * A command no family table names (a module's, or one newer than this
 * code) goes to the unknown-command path: logged once and counted, or
 * fatal in strict mode. Start reading at apply_command().
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apply_int.h"
#include "filter.h"
#include "log.h"

#define DEFAULT_BATCH_CMDS  10000
#define DEFAULT_BATCH_MS    5

/* ap_reject() for a command without arguments (MULTI, EXEC, DISCARD). */
static int reject_bare(const struct rs_bytes *argv, const char *why)
{
    char name[48];

    log_msg(RS_LOG_WARN, "skipping '%s' from the master: %s",
            ap_show(&argv[0], name, sizeof(name)), why);
    return 0;
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
 * stays; every later call returns -1. (Contract in apply_int.h.)
 */
int ap_stop(struct applier *a, const char *fmt, ...)
{
    va_list ap;

    if (a->err.code == 0 && apply_flush(a) == 0 && a->err.code == 0) {
        a->err.code = RS_E_UNSUPPORTED;
        va_start(ap, fmt);
        vsnprintf(a->err.msg, sizeof(a->err.msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}

int ap_fail(struct applier *a, const struct rs_bytes *cmd)
{
    if (a->err.code == 0) {
        char name[48];
        struct rs_bytes none = { "?", 1 };

        rs_fail(&a->err, a->sink->err.code ? a->sink->err.code : RS_E_SQL,
                "cannot apply '%s': %s", ap_show(cmd ? cmd : &none, name, sizeof(name)),
                a->sink->err.msg[0] ? a->sink->err.msg : "sink failure");
    }
    /* A failed begin opened nothing but left the sink's error set: the
     * rollback clears it too (unless the sink calls it fatal). */
    if (a->txn_open || a->sink->err.code) {
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

static void behind_adapt(struct applier *a, int64_t apply_ms, int64_t commit_ms);

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
    int64_t t0 = rs_mono_ms(), since = a->dirty_since;

    if (begin_txn(a) != 0 ||
        a->sink->ops->commit(a->sink, &a->applied, &a->stats) != 0) {
        struct rs_bytes what = { "commit", 6 };

        return ap_fail(a, &what);
    }
    if (a->behind && since >= 0)
        behind_adapt(a, t0 - since, rs_mono_ms() - t0);
    a->txn_open = 0;
    a->committed = a->applied;
    a->committed_stats = a->stats;
    a->dirty_since = -1;
    a->batch_cmds = 0;
    a->flush_at_exec = 0;
    return 0;
}

/* The batch limits in force: larger while catching up (apply_set_backlog).
 * A commit writes every page its batch touched to the WAL, and the
 * checkpoint copies them again; on random keys a batch touches most
 * leaves of a table, so the fewer commits the fewer writes. bench/replay
 * -b on this 2-core machine, wall seconds of two runs by batch size:
 *   1.5M XADDs to 100k streams:  100k 16.7, 17.1; 250k 12.1, 10.7;
 *                                500k 10.0, 9.8
 *   500k 10-SET scripts (6M commands on 1M names, a 95 MB mirror):
 *                                100k 27.3, 25.4; 200k 21.7, 22.4;
 *                                500k 20.9, 19.2; 1M 22.7, 24.7
 * (past 500k each page read searches a longer WAL index). There a
 * commit of 100k commands took 200-230 ms after 250-340 ms of applying
 * them; for SET and INCR on 100k keys, whose mirror fits the cache, 7
 * and 14-56 ms after 230 and 300 ms, and larger batches gained nothing
 * but lag (the master's offset minus the one acknowledged: 21 -> 34 MB
 * in bench/suite.py's set). So a catch-up batch starts as before, 10
 * times the batch and 200 times its age (100,000 commands, 1 s), and
 * doubles while commits take over a quarter of the time, up to
 * sqlite.catchup_batch_commands and _ms (500,000 and 5 s); it halves
 * when they take under a sixteenth. With the PostgreSQL downstream cli.c
 * sets those to 100,000 and 1 s: a shipper round takes whole SQLite
 * transactions. */
#define BEHIND_CMDS 500000
#define BEHIND_MS   5000

static int behind_limit(int batch, int times, int most, int dflt, int scale)
{
    int64_t hi = most > 0 ? most : dflt, lo = (int64_t)batch * times;

    if (hi < batch)
        hi = batch;
    if (lo > hi)
        lo = hi;
    return (int)(lo * scale < hi ? lo * scale : hi);
}

static int limit_cmds(const struct applier *a)
{
    if (!a->behind)
        return a->opts.batch_max_cmds;
    return behind_limit(a->opts.batch_max_cmds, 10, a->opts.behind_max_cmds, BEHIND_CMDS,
                        a->behind_scale);
}

/* Behind, the age limit hardly cuts batches short: bench/replay, 50k
 * XADDs to new streams, under strace: 30,098 pwrites in batches of 2,800
 * (what 100 ms held at 28k XADD/s), 10,485 in batches of 10,000, 4,839
 * in one. */
static int limit_ms(const struct applier *a)
{
    if (!a->behind)
        return a->opts.batch_max_ms;
    return behind_limit(a->opts.batch_max_ms, 200, a->opts.behind_max_ms, BEHIND_MS,
                        a->behind_scale);
}

/* After a commit far behind: 'apply_ms' since the batch's first command,
 * 'commit_ms' for the commit. */
static void behind_adapt(struct applier *a, int64_t apply_ms, int64_t commit_ms)
{
    int grown = limit_cmds(a);

    if (commit_ms * 4 > apply_ms + commit_ms) {
        a->behind_scale *= 2;
        if (limit_cmds(a) == grown && a->behind_scale > 1)
            a->behind_scale /= 2;          /* at the limit already */
    } else if (commit_ms * 16 < apply_ms + commit_ms && a->behind_scale > 1) {
        a->behind_scale /= 2;
    }
    if (limit_cmds(a) != grown)
        log_msg(RS_LOG_DEBUG, "catching up: batches of %d commands, %d ms (the last: %" PRId64
                " ms applied, %" PRId64 " ms to commit)", limit_cmds(a), limit_ms(a), apply_ms,
                commit_ms);
}

void apply_set_backlog(struct applier *a, uint64_t pending)
{
    int on = a->catching_up;

    a->behind = pending > APPLY_BEHIND_BYTES;
    if (a->behind)
        on = 1;
    else if (pending == 0)
        on = 0;          /* not at every dip below the mark: the cache stays */
    if (on != a->catching_up && a->sink->ops->catch_up)
        a->sink->ops->catch_up(a->sink, on);
    a->catching_up = on;
}

int apply_behind(const struct applier *a)
{
    return a->behind;
}

int apply_ms_until_due(const struct applier *a)
{
    int64_t left;

    if (a->err.code || a->in_multi || a->dirty_since < 0)
        return -1;
    if (a->flush_at_exec || a->batch_cmds >= limit_cmds(a))
        return 0;
    left = a->dirty_since + limit_ms(a) - rs_mono_ms();
    return left > 0 ? (int)left : 0;
}

int apply_flush_due(const struct applier *a)
{
    if (a->err.code || a->in_multi || a->dirty_since < 0)
        return 0;
    return a->flush_at_exec || a->batch_cmds >= limit_cmds(a) ||
           rs_mono_ms() - a->dirty_since >= limit_ms(a);
}

/* ------------------------------------------------------------------ */
/* Control: SELECT, MULTI/EXEC/DISCARD, PING, REPLCONF, PUBLISH        */
/* ------------------------------------------------------------------ */

static int apply_select(struct applier *a, int argc, const struct rs_bytes *argv)
{
    long long id;

    (void)argc;
    if (ap_parse_ll(a, &argv[1], &id) != 0 || id < 0 || id > INT_MAX)
        return ap_reject(a, argv, "invalid DB index");
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
    if (argc < 2 || !ap_arg_is(&argv[1], "getack"))
        return 0;
    if (!a->in_multi && apply_flush(a) != 0)
        return -1;
    a->ack_request = 1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The command table and the entry points                             */
/* ------------------------------------------------------------------ */

/* Control commands: counted, no data. */
static const struct command core_table[] = {
    { "select",    apply_select,    2,  0, { 0, 0, 0, KU_NONE } },
    { "ping",      apply_nothing,   -1, 0, { 0, 0, 0, KU_NONE } },
    { "publish",   apply_nothing,   3,  0, { 0, 0, 0, KU_NONE } },
    { "spublish",  apply_nothing,   3,  0, { 1, 1, 1, KU_NONE } },
    { "replconf",  apply_replconf,  -1, 0, { 0, 0, 0, KU_NONE } },
    { "multi",     apply_multi,     1,  0, { 0, 0, 0, KU_NONE } },
    { "exec",      apply_exec,      1,  0, { 0, 0, 0, KU_NONE } },
    { "discard",   apply_discard,   1,  0, { 0, 0, 0, KU_NONE } },
};
static const size_t core_count = CMD_COUNT(core_table);

/* Every table ap_find_command() searches; a new family file adds one line. */
static const struct {
    const struct command *table;
    const size_t *count;
} families[] = {
    { core_table, &core_count },
    { cmd_keys_table, &cmd_keys_count },
    { cmd_string_table, &cmd_string_count },
    { cmd_hash_table, &cmd_hash_count },
    { cmd_list_table, &cmd_list_count },
    { cmd_set_table, &cmd_set_count },
    { cmd_zset_table, &cmd_zset_count },
    { cmd_geo_table, &cmd_geo_count },
    { cmd_stream_table, &cmd_stream_count },
    { cmd_script_table, &cmd_script_count },
    { cmd_array_table, &cmd_array_count },
    { cmd_pathhash_table, &cmd_pathhash_count },
};

/*
 * Commands are looked up about 200k times a second, so the tables are
 * indexed once in an open-addressing hash of lower-cased names (linear
 * probing, at most half full with every Redis command).
 */
#define NAME_MAX_LEN  32           /* longer names are no command of ours */
#define CMD_SLOTS     1024         /* a power of two */

struct cmd_slot {
    const struct command *cmd;     /* NULL: free */
    size_t len;
    uint32_t hash;
};

static struct cmd_slot cmd_index[CMD_SLOTS];
static int cmd_index_ready;

/* FNV-1a of the lower-cased bytes. */
static uint32_t name_hash(const char *p, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];

        h ^= (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
        h *= 16777619u;
    }
    return h;
}

/* Names match whole and case-insensitively (strncasecmp also stops at a
 * NUL byte in 'p', which no table name has). */
static const struct command *index_find(const char *p, size_t len, uint32_t h)
{
    for (uint32_t i = h & (CMD_SLOTS - 1); cmd_index[i].cmd; i = (i + 1) & (CMD_SLOTS - 1)) {
        const struct cmd_slot *s = &cmd_index[i];

        if (s->hash == h && s->len == len && strncasecmp(s->cmd->name, p, len) == 0)
            return s->cmd;
    }
    return NULL;
}

/* Index every family's table. A name twice is a programming error: the
 * first table wins and the second is logged. */
static void index_build(void)
{
    size_t used = 0;

    for (size_t f = 0; f < CMD_COUNT(families); f++) {
        for (size_t i = 0; i < *families[f].count; i++) {
            const struct command *c = &families[f].table[i];
            size_t len = strlen(c->name);
            uint32_t h = name_hash(c->name, len), k;

            if (len > NAME_MAX_LEN || index_find(c->name, len, h) || used + 1 >= CMD_SLOTS) {
                log_msg(RS_LOG_ERROR, "command table: cannot index '%s' (too long, listed "
                        "twice, or too many commands)", c->name);
                continue;
            }
            for (k = h & (CMD_SLOTS - 1); cmd_index[k].cmd; k = (k + 1) & (CMD_SLOTS - 1))
                ;
            cmd_index[k] = (struct cmd_slot){ c, len, h };
            used++;
        }
    }
    cmd_index_ready = 1;
}

const struct command *ap_find_command(const struct rs_bytes *name)
{
    if (!cmd_index_ready)
        index_build();
    if (name->len == 0 || name->len > NAME_MAX_LEN)
        return NULL;
    return index_find(name->ptr, name->len, name_hash(name->ptr, name->len));
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
            ap_show(lname, shown, sizeof(shown)));
}

static int apply_unknown(struct applier *a, const struct rs_bytes *argv, size_t wire_len)
{
    char buf[64], shown[80];
    struct rs_bytes lname = lower_name(&argv[0], buf, sizeof(buf));

    if (a->opts.strict) {
        /* stop before its bytes count: the checkpoint stays before it */
        ap_stop(a, "unknown command '%s' in the replication stream (strict mode)",
                ap_show(&lname, shown, sizeof(shown)));
        return ap_fail(a, &argv[0]);
    }
    log_unknown_once(a, &lname);
    if (begin_txn(a) != 0 || a->sink->ops->unknown_command(a->sink, &lname) != 0)
        return ap_fail(a, &argv[0]);
    if (a->in_multi)
        a->multi_wrote = 1;
    a->stats.unknown_commands++;
    count_bytes(a, wire_len);
    a->batch_cmds++;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Filters: commands on keys that are not mirrored                     */
/* ------------------------------------------------------------------ */

/*
 * A filtered key is never in the sink (the loader skips it, nothing here
 * writes it), so a command that only reads or deletes it already does
 * what Redis would do to a missing key: DEL, BLPOP, LMPOP, the *STORE
 * sources, SORT's BY/GET... need nothing. What must not happen is a
 * write to a filtered key; apply_filter() finds the key a write command
 * writes from the key positions of its table entry (struct cmd_keys in
 * apply_int.h) and routes the command:
 *
 *   FR_APPLY    every written key is kept (or the command writes none)
 *   FR_SKIP     the written key is filtered: counted, not applied
 *   FR_REWRITE  c, argc and argv now hold the kept half of the command:
 *               RENAME/RENAMENX/MOVE of a kept key to a filtered name or
 *               db become DEL of the source; LMOVE/RPOPLPUSH (and the
 *               blocking forms) to a filtered list become LPOP/RPOP of
 *               the source; SMOVE to a filtered set becomes SREM; MSET
 *               and MSETNX (and MSETEX) keep their kept pairs
 *   FR_FLUSH    SWAPDB of a kept db with a filtered one: the kept db's
 *               keys leave for a db the mirror does not hold, and what
 *               comes in is unknown, so the kept db (*db) is emptied
 *
 * A filtered source reads as missing, so RENAME/MOVE/COPY/LMOVE/SMOVE
 * from a filtered key to a kept one do nothing here (Redis does nothing
 * for a missing source); the master's kept key then holds data the
 * mirror never saw, which is logged once (as is the SWAPDB case).
 */
enum froute { FR_APPLY, FR_SKIP, FR_REWRITE, FR_FLUSH };

static int kept(const struct applier *a, int db, const struct rs_bytes *key)
{
    return filter_keep(a->opts.filter, db, key->ptr, key->len);
}

/* The master's kept key got data from a filtered one. */
static void filter_lossy(struct applier *a, const struct rs_bytes *argv)
{
    char name[48];

    if (a->filter_lossy++ == 0)
        log_msg(RS_LOG_WARN, "'%s' brought data from a filtered key or db into a kept one: "
                "the mirror cannot know it, so that kept key or db differs from the master "
                "until the next full sync (logged once)",
                ap_show(&argv[0], name, sizeof(name)));
}

static int fargv_reserve(struct applier *a, int n)
{
    if (n > a->fargv_cap) {
        struct rs_bytes *nv = realloc(a->fargv, (size_t)n * sizeof(*nv));

        if (nv == NULL)
            return -1;
        a->fargv = nv;
        a->fargv_cap = n;
    }
    return 0;
}

/* Rewrite to the command 'name' with up to two arguments from argv. */
static enum froute rewrite(struct applier *a, const struct command **c, int *argc,
                           const struct rs_bytes **argv, const char *name,
                           const struct rs_bytes *x, const struct rs_bytes *y)
{
    struct rs_bytes lit = { name, strlen(name) };
    const struct command *to = ap_find_command(&lit);

    if (to == NULL || fargv_reserve(a, 3) != 0)
        return FR_SKIP;          /* cannot happen (table, 3 pointers) */
    a->fargv[0] = lit;
    a->fargv[1] = *x;
    if (y)
        a->fargv[2] = *y;
    *c = to;
    *argc = y ? 3 : 2;
    *argv = a->fargv;
    return FR_REWRITE;
}

/* A db argument as the handlers read it: 0, or -1 (the handler rejects). */
static int db_arg(const struct applier *a, const struct rs_bytes *v, int *db)
{
    long long n;

    if (ap_parse_ll(a, v, &n) != 0 || n < 0 || n > INT_MAX)
        return -1;
    *db = (int)n;
    return 0;
}

/* Two-key moves: src in the selected db, dst in 'ddb'. 'kept_half' is
 * what a kept source does when the destination is filtered. */
static enum froute route_move(struct applier *a, const struct command **c, int *argc,
                              const struct rs_bytes **argv, const struct rs_bytes *src,
                              int ddb, const struct rs_bytes *dst, const char *kept_half,
                              const struct rs_bytes *extra)
{
    int src_kept = kept(a, a->db, src), dst_kept = kept(a, ddb, dst);

    if (src_kept && dst_kept)
        return FR_APPLY;
    if (!src_kept) {
        if (dst_kept)
            filter_lossy(a, *argv);
        return FR_SKIP;
    }
    if (kept_half == NULL)
        return FR_SKIP;
    return rewrite(a, c, argc, argv, kept_half, src, extra);
}

/* MSET/MSETNX: keep the kept pairs. A master propagates MSETNX only when
 * it set every key, so dropping pairs keeps its meaning. */
static enum froute route_mset(struct applier *a, int *argc, const struct rs_bytes **argv)
{
    const struct rs_bytes *v = *argv;
    int n = 1;

    if ((*argc - 1) % 2 != 0)
        return FR_APPLY;         /* the handler rejects it */
    if (fargv_reserve(a, *argc) != 0) {
        rs_fail(&a->err, RS_E_NOMEM, "out of memory");
        return FR_SKIP;
    }
    a->fargv[0] = v[0];
    for (int j = 1; j + 1 < *argc; j += 2) {
        if (kept(a, a->db, &v[j])) {
            a->fargv[n++] = v[j];
            a->fargv[n++] = v[j + 1];
        }
    }
    if (n == 1)
        return FR_SKIP;
    if (n == *argc)
        return FR_APPLY;
    *argc = n;
    *argv = a->fargv;
    return FR_REWRITE;
}

/* MSETEX numkeys k v ... [options]: keep the kept pairs, like MSETNX (with
 * NX/XX the master set every key or none). */
static enum froute route_msetex(struct applier *a, int *argc, const struct rs_bytes **argv)
{
    const struct rs_bytes *v = *argv;
    long long nk;
    int n = 2, kept_pairs = 0, end;

    if (ap_parse_ll(a, &v[1], &nk) != 0 || nk < 1 || nk > (*argc - 2) / 2)
        return FR_APPLY;         /* the handler rejects it */
    end = 2 + 2 * (int)nk;
    if (fargv_reserve(a, *argc) != 0) {
        rs_fail(&a->err, RS_E_NOMEM, "out of memory");
        return FR_SKIP;
    }
    a->fargv[0] = v[0];
    for (int j = 2; j < end; j += 2) {
        if (kept(a, a->db, &v[j])) {
            a->fargv[n++] = v[j];
            a->fargv[n++] = v[j + 1];
            kept_pairs++;
        }
    }
    if (kept_pairs == 0)
        return FR_SKIP;
    if (kept_pairs == nk)
        return FR_APPLY;
    for (int j = end; j < *argc; j++)
        a->fargv[n++] = v[j];
    snprintf(a->fnum, sizeof(a->fnum), "%d", kept_pairs);
    a->fargv[1] = (struct rs_bytes){ a->fnum, strlen(a->fnum) };
    *argc = n;
    *argv = a->fargv;
    return FR_REWRITE;
}

/* The key SORT ... STORE, GEORADIUS ... STORE|STOREDIST write (the last
 * one given), or argv[1] when none (then nothing is written). */
static const struct rs_bytes *store_key(const struct command *c, int argc,
                                        const struct rs_bytes *argv)
{
    const struct rs_bytes *dst = &argv[1];
    int sort = c->keys.use == KU_SORT_STORE;
    int j = -c->arity;           /* the options follow the fixed arguments */

    for (; j < argc; j++) {
        if (sort && (ap_arg_is(&argv[j], "by") || ap_arg_is(&argv[j], "get"))) {
            j++;
        } else if (sort && ap_arg_is(&argv[j], "limit")) {
            j += 2;
        } else if (!sort && ap_arg_is(&argv[j], "count")) {
            j++;
        } else if ((ap_arg_is(&argv[j], "store") ||
                    (!sort && ap_arg_is(&argv[j], "storedist"))) && j + 1 < argc) {
            dst = &argv[++j];
        }
    }
    return dst;
}

/* SWAPDB of a kept db with a filtered one empties the kept one. */
static enum froute route_swapdb(struct applier *a, const struct rs_bytes *v, int *flush_db)
{
    int x, y, kx, ky;

    if (db_arg(a, &v[1], &x) != 0 || db_arg(a, &v[2], &y) != 0)
        return FR_APPLY;
    kx = filter_keep_db(a->opts.filter, x);
    ky = filter_keep_db(a->opts.filter, y);
    if (kx == ky)
        return kx ? FR_APPLY : FR_SKIP;
    filter_lossy(a, v);
    *flush_db = kx ? x : y;
    return FR_FLUSH;
}

/* Route one command (after its arity check) by its key positions and
 * their use (struct cmd_keys); see the comment above. A FR_SKIP with
 * a->err set is out of memory. */
static enum froute apply_filter(struct applier *a, const struct command **c, int *argc,
                                const struct rs_bytes **argv, int *flush_db)
{
    const struct cmd_keys *k = &(*c)->keys;
    const struct rs_bytes *v = *argv, *src = &v[k->first];
    const struct rs_bytes *dst = k->last > 0 ? &v[k->last] : NULL;   /* the moves' */
    const char *pop;
    int db = a->db;

    if (!((*c)->flags & CMD_WRITE))
        return FR_APPLY;
    switch ((enum key_use)k->use) {
    case KU_NONE:
        return FR_APPLY;         /* no key, or only reads and deletes */
    case KU_FIRST:
        return k->first == 0 || k->first >= *argc || kept(a, a->db, src) ? FR_APPLY : FR_SKIP;
    case KU_PAIRS:
        return route_mset(a, argc, argv);
    case KU_NUMKEYS_PAIRS:
        return route_msetex(a, argc, argv);
    case KU_MOVE:
        return route_move(a, c, argc, argv, src, a->db, dst, "del", NULL);
    case KU_RPOPLPUSH:
        return route_move(a, c, argc, argv, src, a->db, dst, "rpop", NULL);
    case KU_LMOVE:
        pop = ap_arg_is(&v[3], "left") ? "lpop" : ap_arg_is(&v[3], "right") ? "rpop" : NULL;
        if (pop == NULL)
            return FR_APPLY;
        return route_move(a, c, argc, argv, src, a->db, dst, pop, NULL);
    case KU_SMOVE:
        return route_move(a, c, argc, argv, src, a->db, dst, "srem", &v[3]);
    case KU_MOVE_DB:
        if (db_arg(a, &v[2], &db) != 0 || db == a->db)
            return FR_APPLY;
        return route_move(a, c, argc, argv, src, db, src, "del", NULL);
    case KU_COPY:
        for (int j = 3; j + 1 < *argc; j++)
            if (ap_arg_is(&v[j], "db") && db_arg(a, &v[++j], &db) != 0)
                return FR_APPLY;
        return route_move(a, c, argc, argv, src, db, dst, NULL, NULL);
    case KU_SORT_STORE:
    case KU_GEO_STORE:
        return kept(a, a->db, store_key(*c, *argc, v)) ? FR_APPLY : FR_SKIP;
    case KU_FLUSHDB:
        return filter_keep_db(a->opts.filter, a->db) ? FR_APPLY : FR_SKIP;
    case KU_SWAPDB:
        return route_swapdb(a, v, flush_db);
    }
    return FR_APPLY;
}

int apply_command(struct applier *a, int argc, const struct rs_bytes *argv, size_t wire_len)
{
    const struct rs_bytes *orig = argv;
    const struct command *c;
    enum froute route = FR_APPLY;
    int flush_db = 0;
    char name[48];

    if (a->err.code)
        return -1;
    if (argc < 1) {
        count_bytes(a, wire_len);
        return 0;
    }
    if ((c = ap_find_command(&argv[0])) == NULL)
        return apply_unknown(a, argv, wire_len);
    if ((c->arity > 0 && argc != c->arity) || (c->arity < 0 && argc < -c->arity)) {
        log_msg(RS_LOG_WARN, "skipping '%s' from the master: wrong number of arguments (%d)",
                ap_show(&argv[0], name, sizeof(name)), argc);
    } else if (a->opts.filter &&
               (route = apply_filter(a, &c, &argc, &argv, &flush_db)) == FR_SKIP) {
        if (a->err.code)
            return ap_fail(a, &orig[0]);
    } else {
        if (c->flags & CMD_WRITE) {
            if (begin_txn(a) != 0)
                return ap_fail(a, &orig[0]);
            if (a->in_multi)
                a->multi_wrote = 1;
        }
        if ((route == FR_FLUSH ? a->sink->ops->flush_db(a->sink, flush_db)
                               : c->fn(a, argc, argv)) != 0)
            return ap_fail(a, &orig[0]);
        a->stats.commands_applied++;
        if (a->opts.on_command)
            a->opts.on_command(a->opts.on_command_ud, c->name);
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
    if (!cmd_index_ready)
        index_build();
    a->sink = s;
    if (opts)
        a->opts = *opts;
    if (a->opts.batch_max_cmds <= 0)
        a->opts.batch_max_cmds = DEFAULT_BATCH_CMDS;
    if (a->opts.batch_max_ms <= 0)
        a->opts.batch_max_ms = DEFAULT_BATCH_MS;
    a->behind_scale = 1;
    /* integers read as the master reads them: the sink may increment late */
    s->late_incr = !ap_master_before(a, 30202);
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
    free(a->fargv);
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

