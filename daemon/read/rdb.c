/*
 * rdb.c - a streaming (push) parser for RDB files and DUMP payloads.
 *
 * The caller feeds chunks of any size; the parser walks them with one
 * state machine (enum rdb_state, one small function per state, the table
 * 'steps' at the bottom) and calls the handlers of rdb.h as soon as an
 * item is complete. An item is one length, one string, or one
 * ziplist/listpack/intset/zipmap blob. When an item lies entirely inside
 * the caller's chunk it is used in place; only an item that straddles two
 * chunks is copied into p->buf, so memory is bounded by the largest item
 * (capped by max_item), never by the size of a key or of the snapshot.
 *
 * Every take_* primitive consumes a whole item or nothing (RS_AGAIN), and
 * handlers run only after their bytes are consumed: resuming after
 * RS_AGAIN never repeats a callback. The CRC64 is computed over the bytes
 * as they are consumed.
 *
 * Left out on purpose: module values are walked and skipped, not decoded;
 * Valkey 9.2's path hashes are reported field by field
 * (on_path_hash_field); nothing here interprets AUX fields.
 *
 * The byte reader (rdb_input.c), the blob decoders (rdb_decode.c) and the
 * stream records (rdb_stream.c) are in files of their own; rdb_int.h is
 * what they share.
 *
 * Start reading at rdb_parser_feed(), then st_opcode().
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"
#endif

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdb_int.h"

#define RDB_DEFAULT_MAX_ITEM ((size_t)512 * 1024 * 1024 + 64 * 1024)

/* What rdb_parser_finish() says the input stopped inside of. */
static const char *const state_names[ST_COUNT] = {
    [ST_MAGIC] = "the magic", [ST_OPCODE] = "an opcode",
    [ST_SELECTDB] = "SELECTDB", [ST_RESIZEDB] = "RESIZEDB",
    [ST_EXPIRE_S] = "EXPIRETIME", [ST_EXPIRE_MS] = "EXPIRETIME_MS",
    [ST_IDLE] = "IDLE", [ST_FREQ] = "FREQ", [ST_AUX] = "an AUX field",
    [ST_MODULE_AUX] = "MODULE_AUX", [ST_FUNCTION2] = "FUNCTION2",
    [ST_FUNCTION_PRE_GA] = "FUNCTION", [ST_SLOT_INFO] = "SLOT_INFO",
    [ST_KEY_META] = "KEY_META", [ST_SLOT_IMPORT] = "SLOT_IMPORT",
    [ST_KEY] = "a key name", [ST_MODULE_ID] = "a module value",
    [ST_MODULE_BODY] = "module data", [ST_KEY_END] = "a key",
    [ST_V_STRING] = "a string value", [ST_V_SEQ] = "a list or set",
    [ST_V_ZSET] = "a sorted set", [ST_V_HASH] = "a hash",
    [ST_V_HASH_META] = "a hash with field TTLs", [ST_V_HASH_2] = "a hash with field TTLs",
    [ST_V_PATH_HASH] = "a path hash",
    [ST_V_BLOB] = "an encoded value", [ST_V_QUICKLIST] = "a quicklist",
    [ST_V_ARRAY] = "an array",
    [ST_STREAM_NODES] = "stream entries", [ST_STREAM_META] = "stream metadata",
    [ST_STREAM_GROUPS] = "a stream consumer group", [ST_STREAM_PEL] = "a stream PEL",
    [ST_STREAM_CONSUMERS] = "a stream consumer", [ST_STREAM_CPEL] = "a consumer PEL",
    [ST_STREAM_NACK] = "a stream's NACK zone", [ST_STREAM_IDMP] = "a stream's IDMP state",
    [ST_TRAILER] = "the CRC64 trailer", [ST_DUMP_TYPE] = "the DUMP type",
    [ST_DUMP_FOOTER] = "the DUMP footer", [ST_DONE] = "nothing",
};

/* ------------------------------------------------------- state plumbing */

/* Where the parser goes after a key, or after opcodes that precede one. */
static inline enum rdb_state next_record(const struct rdb_parser *p)
{
    return p->mode == RDB_MODE_DUMP ? ST_DUMP_TYPE : ST_OPCODE;
}

static enum rs_status finish(struct rdb_parser *p)
{
    p->state = ST_DONE;
    p->status = RS_DONE;
    if (p->h->on_end && CALLED(p, p->h->on_end(p->ud)))
        return rdb_stopped(p);
    return RS_DONE;
}

static enum rs_status key_begin(struct rdb_parser *p, const struct rs_bytes *name,
                                const char *module)
{
    struct rdb_key k;

    k.db = p->db;
    k.type = p->ltype;
    k.rdb_type = p->rdb_type;
    k.name = *name;
    k.expire_ms = p->expire_ms;
    k.module.ptr = module;
    k.module.len = module ? strlen(module) : 0;
    p->expire_ms = RS_NO_EXPIRE;       /* expire/idle/freq apply to one key */
    if (p->h->on_key_begin && CALLED(p, p->h->on_key_begin(p->ud, &k)))
        return rdb_stopped(p);
    return RS_OK;
}

enum rs_status rdb_end_key(struct rdb_parser *p)
{
    p->key_ctx[0] = '\0';
    if (p->h->on_key_end && CALLED(p, p->h->on_key_end(p->ud)))
        return rdb_stopped(p);
    rdb_release_big(p);
    if (p->mode == RDB_MODE_DUMP)
        return rdb_go(p, ST_DUMP_FOOTER);
    return rdb_go(p, ST_OPCODE);
}

/* ------------------------------------------------------------- opcodes */

static enum rs_status st_magic(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;
    int digits = 4, v = 0;

    if ((st = rdb_need(p, 9, &s)) != RS_OK)
        return st;
    if (memcmp(s, "REDIS", 5) == 0) {
        p->is_valkey = 0;
    } else if (memcmp(s, "VALKEY", 6) == 0) {
        p->is_valkey = 1;
        digits = 3;
    } else {
        return rdb_fail(p, RS_E_RDB, "rdb: bad magic at offset 0: not an RDB file");
    }
    for (int i = 9 - digits; i < 9; i++) {
        if (s[i] < '0' || s[i] > '9')
            return rdb_fail(p, RS_E_RDB, "rdb: bad magic at offset 0: version is not a number");
        v = v * 10 + (s[i] - '0');
    }
    if (p->is_valkey ? (v < 80 || v > 81) : (v < 1 || v > 14))
        return rdb_fail(p, RS_E_RDB, "rdb: unsupported RDB version %d (%s magic) at offset 5",
                        v, p->is_valkey ? "VALKEY" : "REDIS");
    p->version = v;
    rdb_done(p, 9);
    return rdb_go(p, ST_OPCODE);
}

static enum rs_status start_key(struct rdb_parser *p, int type);

static enum rs_status st_opcode(struct rdb_parser *p)
{
    static const enum rdb_state next[256] = {
        [RDB_OP_SELECTDB] = ST_SELECTDB, [RDB_OP_RESIZEDB] = ST_RESIZEDB,
        [RDB_OP_EXPIRETIME] = ST_EXPIRE_S, [RDB_OP_EXPIRETIME_MS] = ST_EXPIRE_MS,
        [RDB_OP_IDLE] = ST_IDLE, [RDB_OP_FREQ] = ST_FREQ, [RDB_OP_AUX] = ST_AUX,
        [RDB_OP_MODULE_AUX] = ST_MODULE_AUX, [RDB_OP_FUNCTION2] = ST_FUNCTION2,
        [RDB_OP_FUNCTION_PRE_GA] = ST_FUNCTION_PRE_GA, [RDB_OP_SLOT_INFO] = ST_SLOT_INFO,
    };
    const unsigned char *s = NULL;
    enum rs_status st;

    if ((st = rdb_need(p, 1, &s)) != RS_OK)
        return st;
    if (s[0] == RDB_OP_EOF) {
        rdb_done(p, 1);
        rdb_crc_sync(p);
        p->crc_final = p->crc;
        return p->version >= 5 ? rdb_go(p, ST_TRAILER) : finish(p);
    }
    if (s[0] == RDB_OP_UPDATE && p->is_valkey && p->version >= 81)
        return rdb_fail(p, RS_E_RDB,
                        "rdb: a command inlined in the snapshot (Valkey opcode 0xf2, written by a "
                        "forkless save) at offset %llu: not supported, the master must save by fork",
                        (unsigned long long)rdb_cur_off(p));
    if (s[0] == RDB_OP_KEY_META) {
        if (p->is_valkey && p->version >= 80) {
            rdb_done(p, 1);
            return rdb_go(p, ST_SLOT_IMPORT);
        }
        rdb_done(p, 1);
        return rdb_go(p, ST_KEY_META);
    }
    if (next[s[0]] != 0) {
        enum rdb_state ns = next[s[0]];

        rdb_done(p, 1);
        return rdb_go(p, ns);
    }
    return start_key(p, s[0]);
}

static enum rs_status st_selectdb(struct rdb_parser *p)
{
    enum rs_status st;
    uint64_t db;

    if ((st = rdb_take_length(p, &db)) != RS_OK)
        return st;
    if (db > INT_MAX)
        return rdb_fail(p, RS_E_RDB, "rdb: bad database number %llu before offset %llu",
                        (unsigned long long)db, (unsigned long long)rdb_cur_off(p));
    p->db = (int)db;
    if (p->h->on_select_db && CALLED(p, p->h->on_select_db(p->ud, p->db)))
        return rdb_stopped(p);
    return rdb_go(p, ST_OPCODE);
}

/* Opcodes made of 'count' lengths we have no use for. */
static enum rs_status skip_lengths(struct rdb_parser *p, int count)
{
    enum rs_status st;
    uint64_t v;

    while (p->step < count) {
        if ((st = rdb_take_length(p, &v)) != RS_OK)
            return st;
        p->step++;
    }
    return rdb_go(p, next_record(p));
}

static enum rs_status st_resizedb(struct rdb_parser *p)
{
    return skip_lengths(p, 2);
}

static enum rs_status st_slot_info(struct rdb_parser *p)
{
    return skip_lengths(p, 3);
}

static enum rs_status st_idle(struct rdb_parser *p)
{
    return skip_lengths(p, 1);
}

static enum rs_status st_freq(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;

    if ((st = rdb_take_raw(p, 1, &s)) != RS_OK)
        return st;
    return rdb_go(p, ST_OPCODE);
}

static enum rs_status st_expire_s(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;

    if ((st = rdb_take_raw(p, 4, &s)) != RS_OK)
        return st;
    p->expire_ms = (int64_t)(int32_t)le32(s) * 1000;
    return rdb_go(p, ST_OPCODE);
}

static enum rs_status st_expire_ms(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;

    if ((st = rdb_take_raw(p, 8, &s)) != RS_OK)
        return st;
    p->expire_ms = (int64_t)le64(s);
    return rdb_go(p, ST_OPCODE);
}

static enum rs_status st_aux(struct rdb_parser *p)
{
    struct rs_bytes b, k;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = rdb_take_string(p, &b)) != RS_OK || (st = rdb_save(p, 0, &b)) != RS_OK)
            return st;
        p->step = 1;
    }
    if ((st = rdb_take_string(p, &b)) != RS_OK)
        return st;
    k = rdb_saved_bytes(p, 0);
    if (p->h->on_aux && CALLED(p, p->h->on_aux(p->ud, &k, &b)))
        return rdb_stopped(p);
    return rdb_go(p, ST_OPCODE);
}

static enum rs_status st_function2(struct rdb_parser *p)
{
    struct rs_bytes code;
    enum rs_status st;

    if ((st = rdb_take_string(p, &code)) != RS_OK)
        return st;
    if (p->h->on_function && CALLED(p, p->h->on_function(p->ud, &code)))
        return rdb_stopped(p);
    return rdb_go(p, ST_OPCODE);
}

/* The 7.0 RC form: name, engine, [description], code. Redis 7.0 turns it
 * into the FUNCTION2 form "#!<engine> name=<name>\n<code>"; so do we. */
static enum rs_status emit_pre_ga_function(struct rdb_parser *p, const struct rs_bytes *code)
{
    struct rs_bytes name = rdb_saved_bytes(p, 0), eng = rdb_saved_bytes(p, 1), all;
    size_t len = 2 + eng.len + 6 + name.len + 1 + code->len;
    char *buf = malloc(len), *w = buf;
    int rc = 0;

    if (buf == NULL)
        return rdb_nomem(p);
    memcpy(w, "#!", 2), w += 2;
    memcpy(w, eng.ptr, eng.len), w += eng.len;
    memcpy(w, " name=", 6), w += 6;
    memcpy(w, name.ptr, name.len), w += name.len;
    *w++ = '\n';
    memcpy(w, code->ptr, code->len);
    all.ptr = buf;
    all.len = len;
    if (p->h->on_function)
        rc = p->h->on_function(p->ud, &all);
    free(buf);
    return CALLED(p, rc) ? rdb_stopped(p) : RS_OK;
}

static enum rs_status st_function_pre_ga(struct rdb_parser *p)
{
    struct rs_bytes b;
    enum rs_status st;

    for (;;) {
        switch (p->step) {
        case 0:
        case 1:
            if ((st = rdb_take_string(p, &b)) != RS_OK || (st = rdb_save(p, p->step, &b)) != RS_OK)
                return st;
            p->step++;
            break;
        case 2:
            if ((st = rdb_take_length(p, &p->n[0])) != RS_OK)
                return st;
            p->step = p->n[0] ? 3 : 4;
            break;
        case 3:
            if ((st = rdb_take_string_opt(p, &b, 0)) != RS_OK)
                return st;
            p->step = 4;
            break;
        default:
            if ((st = rdb_take_string(p, &b)) != RS_OK || (st = emit_pre_ga_function(p, &b)) != RS_OK)
                return st;
            return rdb_go(p, ST_OPCODE);
        }
    }
}

/* ----------------------------------------------------- module payloads */

static const char module_charset[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 9 characters x 6 bits above a 10-bit encoding version (§7.10). */
static void module_name(uint64_t id, char name[10])
{
    id >>= 10;
    for (int j = 8; j >= 0; j--) {
        name[j] = module_charset[id & 63];
        id >>= 6;
    }
    name[9] = '\0';
}

/* The module opcode stream (§7.10), up to its EOF; then p->mod_next. */
static enum rs_status st_module_body(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_bytes b;
    enum rs_status st;
    uint64_t v;

    for (;;) {
        if (p->mod_step == 0) {
            if ((st = rdb_take_length(p, &p->mod_op)) != RS_OK)
                return st;
            if (p->mod_op == 0) {
                p->state = p->mod_next;
                return RS_OK;
            }
            p->mod_step = 1;
        }
        switch (p->mod_op) {
        case 1:
        case 2: st = rdb_take_length(p, &v); break;
        case 3: st = rdb_take_raw(p, 4, &s); break;
        case 4: st = rdb_take_raw(p, 8, &s); break;
        case 5: st = rdb_take_string_opt(p, &b, 0); break;
        default:
            return rdb_fail(p, RS_E_RDB, "rdb: unknown module opcode %llu before offset %llu",
                            (unsigned long long)p->mod_op, (unsigned long long)rdb_cur_off(p));
        }
        if (st != RS_OK)
            return st;
        p->mod_step = 0;
    }
}

static enum rs_status module_body(struct rdb_parser *p, enum rdb_state next)
{
    p->mod_next = next;
    p->mod_step = 0;
    p->state = ST_MODULE_BODY;
    return RS_OK;
}

static enum rs_status st_module_aux(struct rdb_parser *p)
{
    enum rs_status st;

    while (p->step < 3) {
        if ((st = rdb_take_length(p, &p->n[p->step])) != RS_OK)
            return st;
        if (p->step == 1 && p->n[1] != 2)
            return rdb_fail(p, RS_E_RDB, "rdb: bad MODULE_AUX when-opcode %llu before offset %llu",
                            (unsigned long long)p->n[1], (unsigned long long)rdb_cur_off(p));
        p->step++;
    }
    return module_body(p, ST_OPCODE);
}

/* Redis 8.6 key metadata before a key record: per class a 4-byte class
 * spec and a module opcode stream (redis src/keymeta.c
 * rdbLoadKeyMetadata). Skipped: nothing of it reaches the sink. */
static enum rs_status st_key_meta(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = rdb_take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    if (p->left == 0)
        return rdb_go(p, next_record(p));
    if ((st = rdb_take_raw(p, 4, &s)) != RS_OK)
        return st;
    p->left--;
    return module_body(p, ST_KEY_META);
}

/* Valkey 9 SLOT_IMPORT: job name, n ranges of two lengths. UNVERIFIED
 * layout, from the reference only. */
static enum rs_status st_slot_import(struct rdb_parser *p)
{
    struct rs_bytes b;
    enum rs_status st;
    uint64_t v;

    if (p->step == 0) {
        if ((st = rdb_take_string_opt(p, &b, 0)) != RS_OK)
            return st;
        p->step = 1;
    }
    if (p->step == 1) {
        if ((st = rdb_take_length(p, &p->left)) != RS_OK)
            return st;
        p->left *= 2;
        p->step = 2;
    }
    while (p->left > 0) {
        if ((st = rdb_take_length(p, &v)) != RS_OK)
            return st;
        p->left--;
    }
    return rdb_go(p, ST_OPCODE);
}

/* ------------------------------------------------------------------ keys */

/* Map a type byte to its logical type and value state; -1 if unknown. */
static int type_state(const struct rdb_parser *p, int t, enum rs_type *lt, enum rdb_state *vs)
{
    switch (t) {
    case RDB_TYPE_STRING: *lt = RS_T_STRING; *vs = ST_V_STRING; return 0;
    case RDB_TYPE_LIST: *lt = RS_T_LIST; *vs = ST_V_SEQ; return 0;
    case RDB_TYPE_SET: *lt = RS_T_SET; *vs = ST_V_SEQ; return 0;
    case RDB_TYPE_ZSET: case RDB_TYPE_ZSET_2: *lt = RS_T_ZSET; *vs = ST_V_ZSET; return 0;
    case RDB_TYPE_HASH: *lt = RS_T_HASH; *vs = ST_V_HASH; return 0;
    case RDB_TYPE_MODULE_2: *lt = RS_T_MODULE; *vs = ST_MODULE_ID; return 0;
    case RDB_TYPE_LIST_ZIPLIST: *lt = RS_T_LIST; *vs = ST_V_BLOB; return 0;
    case RDB_TYPE_SET_INTSET: case RDB_TYPE_SET_LISTPACK: *lt = RS_T_SET; *vs = ST_V_BLOB; return 0;
    case RDB_TYPE_ZSET_ZIPLIST: case RDB_TYPE_ZSET_LISTPACK: *lt = RS_T_ZSET; *vs = ST_V_BLOB; return 0;
    case RDB_TYPE_HASH_ZIPMAP: case RDB_TYPE_HASH_ZIPLIST: case RDB_TYPE_HASH_LISTPACK:
    case RDB_TYPE_HASH_LISTPACK_EX: *lt = RS_T_HASH; *vs = ST_V_BLOB; return 0;
    case RDB_TYPE_LIST_QUICKLIST: case RDB_TYPE_LIST_QUICKLIST_2: *lt = RS_T_LIST; *vs = ST_V_QUICKLIST; return 0;
    case RDB_TYPE_STREAM_LISTPACKS: case RDB_TYPE_STREAM_LISTPACKS_2: case RDB_TYPE_STREAM_LISTPACKS_3:
    case RDB_TYPE_STREAM_LISTPACKS_4:
        *lt = RS_T_STREAM; *vs = ST_STREAM_NODES; return 0;
    case RDB_TYPE_STREAM_LISTPACKS_5:
        /* Redis' RDB 14, as ARRAY below */
        if (p->is_valkey || (p->mode == RDB_MODE_FILE && p->version < 14))
            return -1;
        *lt = RS_T_STREAM;
        *vs = ST_STREAM_NODES;
        return 0;
    case RDB_TYPE_HASH_METADATA: *lt = RS_T_HASH; *vs = ST_V_HASH_META; return 0;
    case RDB_TYPE_HASH_22:
        /* Valkey's HASH_2, or Redis 7.4 RC's metadata hash: the magic
         * decides; a DUMP payload has none, see st_dump_footer. */
        *lt = RS_T_HASH;
        *vs = (p->is_valkey || p->mode == RDB_MODE_DUMP) ? ST_V_HASH_2 : ST_V_HASH_META;
        return 0;
    case RDB_TYPE_ARRAY:
        /* Redis' RDB 14 (a DUMP payload says its version at the end) */
        if (p->is_valkey || (p->mode == RDB_MODE_FILE && p->version < 14))
            return -1;
        *lt = RS_T_ARRAY;
        *vs = ST_V_ARRAY;
        return 0;
    case RDB_TYPE_HASH_23:
        /* Valkey 9.2's PATH_HASH (RDB 81), or Redis 7.4 RC's listpack
         * hash with field TTLs; a DUMP payload is read as the latter. */
        if (p->is_valkey && p->version < 81)
            return -1;
        *lt = p->is_valkey ? RS_T_PATHHASH : RS_T_HASH;
        *vs = p->is_valkey ? ST_V_PATH_HASH : ST_V_BLOB;
        return 0;
    }
    return -1;
}

static enum rs_status key_named(struct rdb_parser *p, const struct rs_bytes *name);

static enum rs_status start_key(struct rdb_parser *p, int type)
{
    uint64_t off = rdb_cur_off(p);

    if (type == RDB_TYPE_MODULE_PRE_GA)
        return rdb_fail(p, RS_E_RDB, "rdb: cannot skip module value of type 6 (4.0 RC format) at offset %llu",
                        (unsigned long long)off);
    if (type_state(p, type, &p->ltype, &p->val_state) != 0) {
        if (p->mode == RDB_MODE_DUMP)
            return rdb_fail(p, RS_E_RDB, "rdb: unknown type 0x%02x at offset %llu", (unsigned)type,
                            (unsigned long long)off);
        return rdb_fail(p, RS_E_RDB, "rdb: unknown opcode 0x%02x at offset %llu", (unsigned)type,
                        (unsigned long long)off);
    }
    p->rdb_type = type;
    rdb_done(p, 1);
    if (p->mode == RDB_MODE_DUMP) {
        struct rs_bytes none = { "", 0 };

        return key_named(p, &none);
    }
    return rdb_go(p, ST_KEY);
}

/* The key's name is known: report the key unless its module name must be
 * read first. */
static enum rs_status key_named(struct rdb_parser *p, const struct rs_bytes *name)
{
    enum rs_status st;

    struct rs_bytes kn;

    if (p->mode != RDB_MODE_DUMP)
        rdb_key_ctx_set(p, name);
    /* Own the name for the whole key (rdb.h): a big one by taking its
     * buffer over, so that no one downstream needs a copy of it. */
    if (!rdb_save_steal(p, &p->keyname, name) && rdb_save_copy(&p->keyname, name->ptr, name->len) != 0)
        return rdb_nomem(p);
    if (p->val_state == ST_MODULE_ID)
        return rdb_go(p, ST_MODULE_ID);
    kn = (struct rs_bytes){ p->keyname.ptr, p->keyname.len };
    if ((st = key_begin(p, &kn, NULL)) != RS_OK)
        return st;
    return rdb_go(p, p->val_state);
}

static enum rs_status st_key(struct rdb_parser *p)
{
    struct rs_bytes name;
    enum rs_status st;

    if ((st = rdb_take_string(p, &name)) != RS_OK)
        return st;
    return key_named(p, &name);
}

static enum rs_status st_module_id(struct rdb_parser *p)
{
    struct rs_bytes name;
    enum rs_status st;
    uint64_t id;

    if ((st = rdb_take_length(p, &id)) != RS_OK)
        return st;
    module_name(id, p->modname);
    name = (struct rs_bytes){ p->keyname.ptr, p->keyname.len };
    if ((st = key_begin(p, &name, p->modname)) != RS_OK)
        return st;
    return module_body(p, ST_KEY_END);
}

static enum rs_status st_key_end(struct rdb_parser *p)
{
    return rdb_end_key(p);
}

/* --------------------------------------------------------- plain values */

static enum rs_status st_v_string(struct rdb_parser *p)
{
    struct rs_bytes v;
    enum rs_status st;

    if ((st = rdb_take_string(p, &v)) != RS_OK)
        return st;
    if (p->h->on_string && CALLED(p, p->h->on_string(p->ud, &v)))
        return rdb_stopped(p);
    return rdb_end_key(p);
}

/* Types 1 and 2: each element is emitted as it arrives, so a set of ten
 * million members never needs more than one of them in memory. */
static enum rs_status st_v_seq(struct rdb_parser *p)
{
    struct rs_bytes v;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = rdb_take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if ((st = rdb_take_string(p, &v)) != RS_OK)
            return st;
        p->left--;
        if ((st = rdb_emit_item(p, &v)) != RS_OK)
            return st;
    }
    return rdb_end_key(p);
}

/* An old-format score (§7.11): a length byte, 253-255 special, or text. */
static enum rs_status take_old_double(struct rdb_parser *p, double *d)
{
    const unsigned char *s = NULL;
    enum rs_status st;
    size_t n;

    if ((st = rdb_need(p, 1, &s)) != RS_OK)
        return st;
    if (s[0] >= 253) {
        *d = s[0] == 253 ? __builtin_nan("") : s[0] == 254 ? __builtin_inf() : -__builtin_inf();
        rdb_done(p, 1);
        return RS_OK;
    }
    n = s[0];
    if ((st = rdb_need(p, 1 + n, &s)) != RS_OK)
        return st;
    if (rdb_text_double((const char *)s + 1, n, d) != 0)
        return rdb_fail(p, RS_E_RDB, "rdb: bad score at offset %llu", (unsigned long long)rdb_cur_off(p));
    rdb_done(p, 1 + n);
    return RS_OK;
}

static enum rs_status st_v_zset(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_bytes v, m;
    enum rs_status st;
    double score;

    if (p->step == 0) {
        if ((st = rdb_take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if (p->step == 1) {
            if ((st = rdb_take_string(p, &v)) != RS_OK || (st = rdb_save(p, 0, &v)) != RS_OK)
                return st;
            p->step = 2;
        }
        if (p->rdb_type == RDB_TYPE_ZSET) {
            if ((st = take_old_double(p, &score)) != RS_OK)
                return st;
        } else {
            if ((st = rdb_take_raw(p, 8, &s)) != RS_OK)
                return st;
            uint64_t bits = le64(s);
            memcpy(&score, &bits, sizeof(score));
        }
        p->left--;
        p->step = 1;
        m = rdb_saved_bytes(p, 0);
        if ((st = rdb_emit_zset(p, &m, score)) != RS_OK)
            return st;
    }
    return rdb_end_key(p);
}

static enum rs_status st_v_hash(struct rdb_parser *p)
{
    struct rs_bytes f, v;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = rdb_take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if (p->step == 1) {
            if ((st = rdb_take_string(p, &v)) != RS_OK || (st = rdb_save(p, 0, &v)) != RS_OK)
                return st;
            p->step = 2;
        }
        if ((st = rdb_take_string(p, &v)) != RS_OK)
            return st;
        p->left--;
        p->step = 1;
        f = rdb_saved_bytes(p, 0);
        if ((st = rdb_emit_hash(p, &f, &v, RS_NO_EXPIRE)) != RS_OK)
            return st;
    }
    return rdb_end_key(p);
}

/* Type 24 ([minExpire], n x (ttl, field, value), TTL relative to
 * minExpire + 1) and Redis' type 22 (no minExpire, TTL absolute). */
static enum rs_status st_v_hash_meta(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_bytes f, v;
    enum rs_status st;
    int64_t exp;

    if (p->step == 0) {
        p->n[0] = 0;
        if (p->rdb_type == RDB_TYPE_HASH_METADATA) {
            if ((st = rdb_take_raw(p, 8, &s)) != RS_OK)
                return st;
            p->n[0] = le64(s);
        }
        p->step = 1;
    }
    if (p->step == 1) {
        if ((st = rdb_take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 2;
    }
    while (p->left > 0) {
        if (p->step == 2) {
            if ((st = rdb_take_length(p, &p->n[1])) != RS_OK)
                return st;
            p->step = 3;
        }
        if (p->step == 3) {
            if ((st = rdb_take_string(p, &v)) != RS_OK || (st = rdb_save(p, 0, &v)) != RS_OK)
                return st;
            p->step = 4;
        }
        if ((st = rdb_take_string(p, &v)) != RS_OK)
            return st;
        p->left--;
        p->step = 2;
        if (p->n[1] == 0)
            exp = RS_NO_EXPIRE;
        else if (p->rdb_type == RDB_TYPE_HASH_METADATA)
            exp = (int64_t)(p->n[1] + p->n[0] - 1);
        else
            exp = (int64_t)p->n[1];
        f = rdb_saved_bytes(p, 0);
        if ((st = rdb_emit_hash(p, &f, &v, exp)) != RS_OK)
            return st;
    }
    return rdb_end_key(p);
}

/* Valkey HASH_2: n x (field, value, 8-byte LE expiry, -1 = none). */
static enum rs_status st_v_hash_2(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_bytes f, v;
    enum rs_status st;
    int64_t exp;

    if (p->step == 0) {
        if ((st = rdb_take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if (p->step == 1 || p->step == 2) {
            if ((st = rdb_take_string(p, &v)) != RS_OK || (st = rdb_save(p, p->step - 1, &v)) != RS_OK)
                return st;
            p->step++;
            continue;
        }
        if ((st = rdb_take_raw(p, 8, &s)) != RS_OK)
            return st;
        exp = (int64_t)le64(s);
        p->left--;
        p->step = 1;
        f = rdb_saved_bytes(p, 0);
        v = rdb_saved_bytes(p, 1);
        if ((st = rdb_emit_hash(p, &f, &v, exp == -1 ? RS_NO_EXPIRE : exp)) != RS_OK)
            return st;
    }
    return rdb_end_key(p);
}

/*
 * Valkey 9.2's path hash (type 23 in RDB 81; valkey src/rdb.c, the
 * OBJ_PATH_HASH branches of rdbSaveObject and rdbLoadObject): len paths,
 * then per path its string, len fields (never 0) and that many (field,
 * value) strings. No TTLs. Steps: 0 the path count, 1 a path (saved in
 * slot 0), 2 its field count (p->pel), 3 a field (slot 1), 4 its value.
 */
static enum rs_status st_v_path_hash(struct rdb_parser *p)
{
    struct rs_bytes b, path, field;
    enum rs_status st;

    if (p->step == 0) {
        if ((st = rdb_take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if (p->step == 1) {
            if ((st = rdb_take_string(p, &b)) != RS_OK || (st = rdb_save(p, 0, &b)) != RS_OK)
                return st;
            p->step = 2;
        }
        if (p->step == 2) {
            if ((st = rdb_take_length(p, &p->pel)) != RS_OK)
                return st;
            if (p->pel == 0)
                return rdb_fail(p, RS_E_RDB, "rdb: path hash path with no field at offset %llu",
                                (unsigned long long)rdb_cur_off(p));
            p->step = 3;
        }
        if (p->step == 3) {
            if ((st = rdb_take_string(p, &b)) != RS_OK || (st = rdb_save(p, 1, &b)) != RS_OK)
                return st;
            p->step = 4;
        }
        if ((st = rdb_take_string(p, &b)) != RS_OK)
            return st;
        p->step = --p->pel > 0 ? 3 : 1;
        if (p->pel == 0)
            p->left--;
        path = rdb_saved_bytes(p, 0);
        field = rdb_saved_bytes(p, 1);
        if (p->h->on_path_hash_field && CALLED(p, p->h->on_path_hash_field(p->ud, &path, &field, &b)))
            return rdb_stopped(p);
    }
    return rdb_end_key(p);
}

/* ---------------------------------------------------------------- arrays */

/*
 * Redis 8.8's array (type 28; t_array.c, sparsearray.c): the element
 * count, an insert-cursor flag (0, or 1 followed by the cursor), then per
 * element its index, a tag and the value: tag 1 an int64 and tag 2 a
 * double, both 8 bytes little-endian, tag 0 (SDS) and 3 (small string) a
 * string. Every element is reported as text, the bytes ARGET answers.
 */
enum { AR_TAG_SDS, AR_TAG_INT, AR_TAG_FLOAT, AR_TAG_SMALLSTR };
/* the longest plain decimal of a double: "-0.", 323 zeros and 17 digits */
#define AR_FLOAT_TEXT_MAX 384

/*
 * The text Redis' arFormatFloat gives a double an array holds. Redis keeps
 * a float only when that text equals what the user wrote, which is always
 * plain decimal (digits, one '.', an optional '-'): d2string's output
 * (an exact integer within +-2^62, else the shortest digits that read back
 * the same double), with ".0" added when it has no '.'. Returns the length.
 */
static int array_float_text(double d, char *buf, size_t size)
{
    char digits[40], mant[24];
    int n = 0, prec, exp10, neg = signbit(d) != 0, len = 0;

    if (!isfinite(d))
        return snprintf(buf, size, "%s", isnan(d) ? "nan" : neg ? "-inf" : "inf");
    if (d == floor(d) && fabs(d) <= 4611686018427387903.0)
        return snprintf(buf, size, "%.0f.0", d);     /* "-0.0" for -0 too */
    for (prec = 1; prec <= 17; prec++) {
        snprintf(digits, sizeof(digits), "%.*e", prec - 1, fabs(d));
        if (strtod(digits, NULL) == fabs(d))
            break;
    }
    /* digits is "D.DDDe+XX": lay the digits out without an exponent */
    exp10 = atoi(strchr(digits, 'e') + 1);
    for (const char *c = digits; *c && *c != 'e'; c++)
        if (*c != '.')
            mant[n++] = *c;
    while (n > 1 && mant[n - 1] == '0')
        n--;
    /* 1e308 is 309 digits and ".0", 5e-324 "0.", 323 zeros and "5" */
    if ((size_t)(neg + (exp10 < 0 ? 1 - exp10 + n : (exp10 + 1 > n ? exp10 + 1 : n) + 2)) >= size)
        return snprintf(buf, size, "%.17g", d);
    if (neg)
        buf[len++] = '-';
    if (exp10 < 0) {
        buf[len++] = '0';
        buf[len++] = '.';
        for (int i = 0; i < -exp10 - 1; i++)
            buf[len++] = '0';
        memcpy(buf + len, mant, (size_t)n);
        len += n;
    } else {
        for (int i = 0; i <= exp10 || i < n; i++) {
            if (i == exp10 + 1)
                buf[len++] = '.';
            buf[len++] = i < n ? mant[i] : '0';
        }
        if (n <= exp10 + 1) {
            buf[len++] = '.';
            buf[len++] = '0';
        }
    }
    buf[len] = '\0';
    return len;
}

static enum rs_status emit_array_item(struct rdb_parser *p, uint64_t idx, const struct rs_bytes *v)
{
    if (p->h->on_array_item && CALLED(p, p->h->on_array_item(p->ud, idx, v)))
        return rdb_stopped(p);
    return RS_OK;
}

/* step 0: count, 1: cursor flag, 2: cursor, 3: an index, 4: its tag,
 * 5: its value; n[0] holds the index, n[1] the tag. */
static enum rs_status st_v_array(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    char text[AR_FLOAT_TEXT_MAX];
    struct rs_bytes v;
    enum rs_status st;
    uint64_t x;
    double d;

    if (p->step == 0) {
        if ((st = rdb_take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    if (p->step == 1) {
        if ((st = rdb_take_length(p, &x)) != RS_OK)
            return st;
        if (x > 1)
            return rdb_fail(p, RS_E_RDB, "rdb: bad array cursor flag %llu at offset %llu",
                            (unsigned long long)x, (unsigned long long)rdb_cur_off(p));
        p->step = x ? 2 : 3;
    }
    if (p->step == 2) {
        if ((st = rdb_take_length(p, &x)) != RS_OK)
            return st;
        if (p->h->on_array_cursor && CALLED(p, p->h->on_array_cursor(p->ud, x)))
            return rdb_stopped(p);
        p->step = 3;
    }
    while (p->left > 0) {
        if (p->step == 3 || p->step == 4) {
            if ((st = rdb_take_length(p, &p->n[p->step - 3])) != RS_OK)
                return st;
            if (p->step == 4 && p->n[1] > AR_TAG_SMALLSTR)
                return rdb_fail(p, RS_E_RDB, "rdb: bad array element tag %llu at offset %llu",
                                (unsigned long long)p->n[1], (unsigned long long)rdb_cur_off(p));
            p->step++;
            continue;
        }
        if (p->n[1] == AR_TAG_INT || p->n[1] == AR_TAG_FLOAT) {
            if ((st = rdb_take_raw(p, 8, &s)) != RS_OK)
                return st;
            x = le64(s);
            if (p->n[1] == AR_TAG_INT) {
                v.len = (size_t)snprintf(text, sizeof(text), "%lld", (long long)x);
            } else {
                memcpy(&d, &x, sizeof(d));
                v.len = (size_t)array_float_text(d, text, sizeof(text));
            }
            v.ptr = text;
        } else if ((st = rdb_take_string(p, &v)) != RS_OK) {
            return st;
        }
        p->left--;
        p->step = 3;
        if ((st = emit_array_item(p, p->n[0], &v)) != RS_OK)
            return st;
    }
    return rdb_end_key(p);
}

/* ------------------------------------------------------ encoded values */

static enum rs_status decode_blob(struct rdb_parser *p, const struct rs_bytes *b)
{
    switch (p->rdb_type) {
    case RDB_TYPE_HASH_ZIPMAP: return rdb_walk_zipmap(p, b);
    case RDB_TYPE_SET_INTSET: return rdb_walk_intset(p, b);
    case RDB_TYPE_LIST_ZIPLIST: return rdb_walk_seq(p, 0, b, SEQ_LIST);
    case RDB_TYPE_ZSET_ZIPLIST: return rdb_walk_seq(p, 0, b, SEQ_ZSET);
    case RDB_TYPE_HASH_ZIPLIST: return rdb_walk_seq(p, 0, b, SEQ_HASH);
    case RDB_TYPE_HASH_LISTPACK: return rdb_walk_seq(p, 1, b, SEQ_HASH);
    case RDB_TYPE_ZSET_LISTPACK: return rdb_walk_seq(p, 1, b, SEQ_ZSET);
    case RDB_TYPE_SET_LISTPACK: return rdb_walk_seq(p, 1, b, SEQ_SET);
    default: return rdb_walk_seq(p, 1, b, SEQ_HASH_EX);   /* 23, 25 */
    }
}

/* One string holding a whole ziplist/listpack/intset/zipmap (type 25
 * first has an 8-byte minExpire we do not need). */
static enum rs_status st_v_blob(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    struct rs_bytes b;
    enum rs_status st;

    if (p->step == 0 && p->rdb_type == RDB_TYPE_HASH_LISTPACK_EX) {
        if ((st = rdb_take_raw(p, 8, &s)) != RS_OK)
            return st;
        p->step = 1;
    }
    if ((st = rdb_take_string(p, &b)) != RS_OK)
        return st;
    if ((st = decode_blob(p, &b)) != RS_OK)
        return st;
    return rdb_end_key(p);
}

/* Types 14 (n x ziplist) and 18 (n x (container, node)): a PLAIN node of
 * type 18 is one element, a PACKED one a listpack. */
static enum rs_status st_v_quicklist(struct rdb_parser *p)
{
    struct rs_bytes b;
    enum rs_status st;
    int q2 = p->rdb_type == RDB_TYPE_LIST_QUICKLIST_2;

    if (p->step == 0) {
        if ((st = rdb_take_length(p, &p->left)) != RS_OK)
            return st;
        p->step = 1;
    }
    while (p->left > 0) {
        if (p->step == 1 && q2) {
            if ((st = rdb_take_length(p, &p->n[0])) != RS_OK)
                return st;
            if (p->n[0] != 1 && p->n[0] != 2)
                return rdb_fail(p, RS_E_RDB, "rdb: bad quicklist container %llu before offset %llu",
                                (unsigned long long)p->n[0], (unsigned long long)rdb_cur_off(p));
        }
        p->step = 2;
        if ((st = rdb_take_string(p, &b)) != RS_OK)
            return st;
        p->left--;
        p->step = 1;
        if (!q2)
            st = rdb_walk_seq(p, 0, &b, SEQ_LIST);
        else if (p->n[0] == 1)
            st = rdb_emit_item(p, &b);
        else
            st = rdb_walk_seq(p, 1, &b, SEQ_LIST);
        if (st != RS_OK)
            return st;
    }
    return rdb_end_key(p);
}

/* ------------------------------------------------------- end of payload */

static enum rs_status st_trailer(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;
    uint64_t off = rdb_cur_off(p), crc;

    if ((st = rdb_take_raw(p, 8, &s)) != RS_OK)
        return st;
    crc = le64(s);
    if (crc != 0 && crc != p->crc_final)
        return rdb_fail(p, RS_E_RDB, "rdb: bad CRC64 at offset %llu: computed 0x%016llx, trailer 0x%016llx",
                        (unsigned long long)off, (unsigned long long)p->crc_final,
                        (unsigned long long)crc);
    return finish(p);
}

static enum rs_status st_dump_type(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;

    if ((st = rdb_need(p, 1, &s)) != RS_OK)
        return st;
    if (s[0] == RDB_OP_KEY_META) {      /* Redis 8.6 may put key metadata first */
        rdb_done(p, 1);
        return rdb_go(p, ST_KEY_META);
    }
    return start_key(p, s[0]);
}

/* 2-byte version, then the CRC64 of everything before it. */
static enum rs_status st_dump_footer(struct rdb_parser *p)
{
    const unsigned char *s = NULL;
    enum rs_status st;
    uint64_t off, crc;

    if (p->step == 0) {
        if ((st = rdb_take_raw(p, 2, &s)) != RS_OK)
            return st;
        p->n[0] = (uint64_t)(s[0] | s[1] << 8);
        rdb_crc_sync(p);
        p->crc_final = p->crc;
        p->step = 1;
    }
    off = rdb_cur_off(p);
    if ((st = rdb_take_raw(p, 8, &s)) != RS_OK)
        return st;
    crc = le64(s);
    if (crc != p->crc_final)
        return rdb_fail(p, RS_E_RDB, "rdb: bad CRC64 at offset %llu: computed 0x%016llx, payload has 0x%016llx",
                        (unsigned long long)off, (unsigned long long)p->crc_final,
                        (unsigned long long)crc);
    p->version = (int)p->n[0];
    p->is_valkey = p->version >= 80;
    if (p->version == 0 || (p->version > 14 && p->version < 80) || p->version > 81)
        return rdb_fail(p, RS_E_RDB, "rdb: unsupported DUMP payload version %d at offset %llu",
                        p->version, (unsigned long long)(off - 2));
    /* Type 22 was read as Valkey's HASH_2 before the version was known;
     * types 27 and 28 are Redis' from RDB 14 on. */
    if (((p->rdb_type == RDB_TYPE_ARRAY || p->rdb_type == RDB_TYPE_STREAM_LISTPACKS_5) &&
         (p->version < 14 || p->version >= 80)) ||
        (p->rdb_type == RDB_TYPE_HASH_22 && p->version < 80) ||
        (p->rdb_type == RDB_TYPE_HASH_23 && p->version >= 80))
        return rdb_fail(p, RS_E_RDB, "rdb: unsupported DUMP payload: type %d with version %d",
                        p->rdb_type, p->version);
    return finish(p);
}

static enum rs_status st_done(struct rdb_parser *p)
{
    return p->status;
}

static enum rs_status (*const steps[ST_COUNT])(struct rdb_parser *) = {
    [ST_MAGIC] = st_magic, [ST_OPCODE] = st_opcode, [ST_SELECTDB] = st_selectdb,
    [ST_RESIZEDB] = st_resizedb, [ST_EXPIRE_S] = st_expire_s, [ST_EXPIRE_MS] = st_expire_ms,
    [ST_IDLE] = st_idle, [ST_FREQ] = st_freq, [ST_AUX] = st_aux,
    [ST_MODULE_AUX] = st_module_aux, [ST_FUNCTION2] = st_function2,
    [ST_FUNCTION_PRE_GA] = st_function_pre_ga, [ST_SLOT_INFO] = st_slot_info,
    [ST_KEY_META] = st_key_meta, [ST_SLOT_IMPORT] = st_slot_import, [ST_KEY] = st_key,
    [ST_MODULE_ID] = st_module_id, [ST_MODULE_BODY] = st_module_body,
    [ST_KEY_END] = st_key_end, [ST_V_STRING] = st_v_string, [ST_V_SEQ] = st_v_seq,
    [ST_V_ZSET] = st_v_zset, [ST_V_HASH] = st_v_hash, [ST_V_HASH_META] = st_v_hash_meta,
    [ST_V_HASH_2] = st_v_hash_2, [ST_V_PATH_HASH] = st_v_path_hash, [ST_V_BLOB] = st_v_blob, [ST_V_QUICKLIST] = st_v_quicklist,
    [ST_V_ARRAY] = st_v_array,
    [ST_STREAM_NODES] = rdb_st_stream_nodes, [ST_STREAM_META] = rdb_st_stream_meta,
    [ST_STREAM_GROUPS] = rdb_st_stream_groups, [ST_STREAM_PEL] = rdb_st_stream_pel,
    [ST_STREAM_CONSUMERS] = rdb_st_stream_consumers, [ST_STREAM_CPEL] = rdb_st_stream_cpel,
    [ST_STREAM_NACK] = rdb_st_stream_nack, [ST_STREAM_IDMP] = rdb_st_stream_idmp,
    [ST_TRAILER] = st_trailer, [ST_DUMP_TYPE] = st_dump_type,
    [ST_DUMP_FOOTER] = st_dump_footer, [ST_DONE] = st_done,
};

/* ------------------------------------------------------------ public API */

struct rdb_parser *rdb_parser_new(enum rdb_mode mode, const struct rdb_handlers *h,
                                  void *ud, size_t max_item)
{
    static const struct rdb_handlers none;
    struct rdb_parser *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    if (h == NULL)
        h = &none;
    rdb_crc_prepare();
    p->mode = mode;
    p->h = h;
    p->ud = ud;
    p->max_item = max_item ? max_item : RDB_DEFAULT_MAX_ITEM;
    p->status = RS_AGAIN;
    p->state = mode == RDB_MODE_DUMP ? ST_DUMP_TYPE : ST_MAGIC;
    p->expire_ms = RS_NO_EXPIRE;
    return p;
}

void rdb_parser_free(struct rdb_parser *p)
{
    if (p == NULL)
        return;
    free(p->buf);
    free(p->zbuf);
    free(p->mf);
    free(p->save[0].own);
    free(p->save[1].own);
    free(p->keyname.own);
    free(p);
}

enum rs_status rdb_parser_feed(struct rdb_parser *p, const char *buf, size_t len,
                               size_t *consumed)
{
    enum rs_status st;

    if (consumed)
        *consumed = 0;
    if (p->status != RS_AGAIN)
        return p->status;
    p->in = (const unsigned char *)buf;
    p->in_len = len;
    p->in_pos = 0;
    p->crc_pos = 0;
    do
        st = steps[p->state](p);
    while (st == RS_OK);
    if (st == RS_AGAIN) {
        rdb_crc_sync(p);
        if (rdb_keep_saved(p) != 0)
            st = rdb_nomem(p);
    }
    p->base += p->in_pos;
    if (consumed)
        *consumed = p->in_pos;
    p->in = NULL;
    p->in_len = p->in_pos = p->crc_pos = 0;
    return st;
}

int rdb_parser_finish(struct rdb_parser *p)
{
    if (p->status == RS_DONE)
        return 0;
    if (p->status == RS_AGAIN)
        rdb_fail(p, RS_E_RDB, "rdb: truncated at offset %llu (inside %s)",
                 (unsigned long long)p->base, state_names[p->state]);
    return -1;
}

const struct rs_error *rdb_parser_error(const struct rdb_parser *p)
{
    return &p->err;
}

void rdb_parser_set_error(struct rdb_parser *p, int code, const char *msg)
{
    rs_fail(&p->err, code, "%s (at offset %llu%s)", msg,
            (unsigned long long)(p->base + p->in_pos), p->key_ctx);
    p->status = RS_ERROR;
}

uint64_t rdb_parser_offset(const struct rdb_parser *p)
{
    return p->base + p->in_pos;
}

int rdb_parser_version(const struct rdb_parser *p, int *is_valkey)
{
    if (is_valkey)
        *is_valkey = p->is_valkey;
    if (p->mode == RDB_MODE_DUMP && p->status != RS_DONE)
        return 0;
    return p->version;
}

