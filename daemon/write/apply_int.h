/*
 * apply_int.h - the applier's inside, shared by apply.c (the core),
 * apply_util.c (helpers for handlers) and the command families
 * (cmd_string.c, cmd_keys.c, cmd_hash.c, cmd_list.c, cmd_set.c,
 * cmd_zset.c, cmd_geo.c, cmd_stream.c, cmd_script.c, cmd_array.c,
 * cmd_pathhash.c, and cmd_sort.c for SORT). Not installed; nothing outside daemon/write/
 * includes it but tests/unit/test_key_specs.c.
 *
 * To add a command: write its handler in the family file and add a line to
 * that file's table. Nothing else changes: apply.c finds every family
 * table through its list of families. A handler runs after the arity
 * check and, for CMD_WRITE, inside an open sink transaction.
 */
#ifndef RS_APPLY_INT_H
#define RS_APPLY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "apply.h"

#define MAX_UNKNOWN_NAMES   256      /* names remembered for "log once" */

/*
 * The applier: what is published (applied), what the sink holds
 * (committed), the open sink transaction and the open MULTI block.
 * Handlers read 'sink' and 'db' and use 'scratch' via ap_read_string();
 * the other fields belong to apply.c.
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
    int behind;                    /* far behind: larger batches (apply_set_backlog) */
    int behind_scale;              /* ... this many times the first (limit_cmds) */
    int catching_up;               /* sink told to catch up, until nothing waits */

    char *unknown[MAX_UNKNOWN_NAMES];
    int n_unknown;

    struct rs_bytes *fargv;        /* a command rewritten by the filter (apply.c) */
    int fargv_cap;
    char fnum[24];                 /* a number argument of a rewritten command */
    int64_t filter_lossy;          /* filtered data reached a kept key: warned once */

    char *scratch;                 /* a string value read back from the sink */
    size_t scratch_len, scratch_cap;
    int scratch_oom;
};

/*
 * A handler gets the whole command (argv[0] is its name, argv[1] the key
 * for keyed commands) and returns 0 when it applied or skipped it, or -1
 * when the sink failed (a->sink->err is set; the core rolls back). A
 * command Redis would refuse is logged with ap_reject() and returns 0.
 */
typedef int (*apply_fn)(struct applier *a, int argc, const struct rs_bytes *argv);

#define CMD_WRITE   1      /* touches the sink: open a transaction first */

/*
 * What a command does to its keys: all the key filter (apply.c,
 * apply_filter) needs to know to route a write to a filtered key.
 */
enum key_use {
    KU_NONE,          /* writes no key: has none, or only reads, pops or
                       * deletes them (DEL, BLPOP, LMPOP, PFCOUNT) */
    KU_FIRST,         /* writes argv[first]; other keys are only read
                       * (SET, BITOP, ZUNIONSTORE, SINTERSTORE) */
    KU_PAIRS,         /* writes the key of each key value pair (MSET) */
    KU_NUMKEYS_PAIRS, /* the same after their count in argv[1] (MSETEX) */
    KU_MOVE,          /* moves argv[first] to argv[last] (RENAME) */
    KU_RPOPLPUSH,     /* the same, an element popped from the right */
    KU_LMOVE,         /* the same, popped from the end argv[3] names */
    KU_SMOVE,         /* the same, the member argv[3] */
    KU_MOVE_DB,       /* MOVE: argv[first] to the db in argv[2] */
    KU_COPY,          /* COPY: argv[first] to argv[last] [DB db] */
    KU_SORT_STORE,    /* writes the key of its STORE option (SORT) */
    KU_GEO_STORE,     /* of its STORE or STOREDIST option (GEORADIUS) */
    KU_FLUSHDB,       /* empties the selected db */
    KU_SWAPDB         /* swaps the dbs argv[1] and argv[2] */
};

/*
 * Where a command's keys are, as Redis' command table gives them (the
 * "legacy range" it computes from the key specs in src/commands/):
 * argv[first], argv[first + step], ... up to argv[last], a negative last
 * counting from the end (-1: the last argument). { 0, 0, 0 }: no key, or
 * keys found through a count (numkeys) or a keyword only. XGROUP has its
 * subcommands' key spec, { 2, 2, 1 }.
 */
struct cmd_keys {
    signed char first, last, step;
    unsigned char use;     /* enum key_use */
};

/* One table entry. Names are lower case, unique across all families. */
struct command {
    const char *name;
    apply_fn fn;
    int arity;             /* Redis' arity: N exactly, -N at least N */
    int flags;             /* CMD_* */
    struct cmd_keys keys;
};

#define CMD_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* The table entry of a command name, in any case (one hash lookup over
 * every family's table), or NULL. */
const struct command *ap_find_command(const struct rs_bytes *name);

/* Each family file exports its table and the number of entries in it. */
extern const struct command cmd_string_table[];
extern const size_t cmd_string_count;
extern const struct command cmd_keys_table[];
extern const size_t cmd_keys_count;
extern const struct command cmd_hash_table[];
extern const size_t cmd_hash_count;
extern const struct command cmd_list_table[];
extern const size_t cmd_list_count;
extern const struct command cmd_set_table[];
extern const size_t cmd_set_count;
extern const struct command cmd_zset_table[];
extern const size_t cmd_zset_count;
extern const struct command cmd_geo_table[];
extern const size_t cmd_geo_count;
extern const struct command cmd_stream_table[];
extern const size_t cmd_stream_count;
extern const struct command cmd_script_table[];
extern const size_t cmd_script_count;
extern const struct command cmd_array_table[];
extern const size_t cmd_array_count;
extern const struct command cmd_pathhash_table[];
extern const size_t cmd_pathhash_count;

/* ---- arguments (apply_util.c) ---- */

/* 1 when 'b' is the option 'lit' as Redis compares it: strcasecmp on the
 * C string, so the argument ends at its first NUL byte. Else 0. */
int ap_arg_is(const struct rs_bytes *b, const char *lit);

/* 1 when the two byte strings are identical, else 0. */
int ap_bytes_eq(const struct rs_bytes *x, const struct rs_bytes *y);

/* An integer argument or value as the master reads it: Redis' string2ll
 * (rs_parse_ll), or before 3.2.2 strtoll: leading zeros and '+' accepted,
 * the empty string is 0, the bytes after a NUL ignored; no leading space,
 * nothing after the digits (getLongLongFromObject, object.c, up to 3.2.1). */
int ap_parse_ll(const struct applier *a, const struct rs_bytes *b, long long *v);

/* The master is older than 'version' (rs_parse_version's form). An
 * unknown version (0) is the newest. */
static inline int ap_master_before(const struct applier *a, int version)
{
    return a->opts.master_version != 0 && a->opts.master_version < version;
}

/* The master's version is known and lo <= version < hi. */
static inline int ap_master_between(const struct applier *a, int lo, int hi)
{
    return a->opts.master_version >= lo && a->opts.master_version < hi;
}

/* A score as Redis' string2d reads it: all of strtod's syntax ("inf",
 * hex floats...), no leading space, no trailing bytes, no NaN, no
 * overflow, no underflow to zero. 0, or -1 (also when out of memory). */
int ap_parse_double(const struct rs_bytes *b, double *out);

/* The units of an expire argument (SET's EX/PX/EXAT/PXAT, SETEX...). */
enum exp_unit { EXPU_NONE, EXPU_EX, EXPU_PX, EXPU_EXAT, EXPU_PXAT };

/* Redis' getExpireMillisecondsOrReply on the value 'v' of 'unit': an
 * absolute unix ms time (relative units against our clock), or -1 after
 * logging with ap_reject() when Redis would refuse the value. */
int64_t ap_expire_arg(struct applier *a, const struct rs_bytes *argv, const struct rs_bytes *v,
                      enum exp_unit unit);

/* ---- messages (apply_util.c) ---- */

/* Printable, bounded copy of binary bytes for log lines, written to 'buf'
 * ('size' >= 8) and returned. */
const char *ap_show(const struct rs_bytes *b, char *buf, size_t size);

/* Redis would answer the keyed command 'argv' with the error 'why': log
 * it and go on (a replica does not stop for it). Returns 0, so a handler
 * can "return ap_reject(...)". */
int ap_reject(struct applier *a, const struct rs_bytes *argv, const char *why);

/* ap_reject(), returning -1: for option parsers whose caller then skips
 * the command (and itself returns 0). */
int ap_refuse(struct applier *a, const struct rs_bytes *argv, const char *why);

/* ap_reject() with Redis' WRONGTYPE message. Returns 0. */
int ap_wrongtype(struct applier *a, const struct rs_bytes *argv);

/* ---- keys (apply_util.c); all return 0, or -1 when the sink failed ---- */

/* Look 'key' up in the selected db into *sk; sk->type is RS_T_NONE (id
 * -1, no TTL) when there is no such key. */
int ap_find_key(struct applier *a, const struct rs_bytes *key, struct sink_key *sk);

/* Find the key argv[1] of 'type', creating it (empty, no TTL) when
 * missing. *skip = 1 when it holds another type (WRONGTYPE, logged). */
int ap_find_or_create(struct applier *a, const struct rs_bytes *argv, enum rs_type type,
                      struct sink_key *sk, int *skip);

/* Find an existing key argv[1] of 'type'; *skip = 1 when it is missing
 * (silently) or of another type (WRONGTYPE, logged). */
int ap_find_typed(struct applier *a, const struct rs_bytes *argv, enum rs_type type,
                  struct sink_key *sk, int *skip);

/* A collection lost elements: delete the key when it has none left. */
int ap_delete_if_empty(struct applier *a, const struct sink_key *sk);

/* Make 'key' (whose lookup is 'sk') the string 'value' with 'expire_ms'
 * (Redis' setKey plus setExpire): a key of another type is replaced. */
int ap_store_string(struct applier *a, const struct rs_bytes *key, const struct sink_key *sk,
                    const struct rs_bytes *value, int64_t expire_ms);

/* Read string key 'id' into a->scratch / a->scratch_len (owned by the
 * applier, valid until the next call). -1 also when out of memory (then
 * a->err is set). */
int ap_read_string(struct applier *a, int64_t id);

/* Copy 'v' into a->scratch (grown as needed). 0, or -1 when out of
 * memory (a->scratch is then empty). */
int ap_scratch_set(struct applier *a, const struct rs_bytes *v);

/* Redis' MAX_LONG_DOUBLE_CHARS: a buffer for ap_format_ld. */
#define AP_LD_CHARS (5 * 1024)

/* Redis' string2ld: strtold over the whole argument, no leading space,
 * no NaN, no overflow, no underflow to zero. 0, or -1. */
int ap_parse_ld(const char *p, size_t len, long double *out);

/* Redis' ld2string in "human friendly" mode: %.17Lf with the trailing
 * zeros (and a trailing '.') removed, "-0" written as "0". Writes a NUL
 * too; returns the length (0 if 'size' is too small). */
size_t ap_format_ld(char *buf, size_t size, long double v);

/* ---- fatal errors (apply.c) ---- */

/* Something fatal happened (the sink failed, or strict mode met an
 * unknown command 'cmd', may be NULL): set a->err from the sink's error
 * unless set already, roll back everything after the last commit.
 * Always -1; the error is sticky. The core calls it when a handler
 * returns -1, so handlers do not. */
int ap_fail(struct applier *a, const struct rs_bytes *cmd);

/* The stream holds a command redsink must not go past (a verbatim
 * script, an unknown command in strict mode): commit everything applied
 * before it (unless inside MULTI, where nothing may be committed), then
 * set a sticky RS_E_UNSUPPORTED error with the message. Always -1; the
 * command's bytes are not counted. */
int ap_stop(struct applier *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
