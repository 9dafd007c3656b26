/*
 * rdb.h - a streaming (push) parser for RDB files and DUMP payloads.
 *
 * Bytes in, typed events out. The parser does no I/O: the caller feeds it
 * chunks of any size (one byte at a time works) and it calls the handlers
 * below as soon as a whole item has been consumed. It never keeps more
 * than one item in memory: one string, or one ziplist/listpack/intset
 * blob (their inner format cannot be walked before it is complete). It
 * knows nothing of where the events go.
 *
 * Accepted: "REDIS" + 4 digits, versions 1..14, and "VALKEY" + 3 digits
 * (80 and 81),
 * every type and opcode of shared/reference/rdb-format.md. The CRC64 trailer is verified when
 * the version carries one and it is not all zero.
 *
 * Start reading at rdb_parser_feed().
 */
#ifndef RS_RDB_H
#define RS_RDB_H

#include <stdint.h>
#include "common.h"

struct rdb_parser;

/* What begins with on_key_begin. 'name' and 'module' are borrowed, and
 * stay valid until on_key_end returns (the parser owns the key's name for
 * the whole key, so a handler need not copy it). */
struct rdb_key {
    int db;                  /* from the last SELECTDB (0 before any) */
    enum rs_type type;       /* logical type */
    int rdb_type;            /* the raw type byte, for diagnostics */
    struct rs_bytes name;    /* empty in DUMP mode: the caller knows the key */
    int64_t expire_ms;       /* absolute unix ms, or RS_NO_EXPIRE */
    struct rs_bytes module;  /* RS_T_MODULE only: 9-char module name */
};

/*
 * Event handlers. Every member may be NULL. All bytes are borrowed and
 * valid only until the handler returns. A handler returns 0 to go on or
 * non-zero to stop the parser with an RS_E_CALLBACK error (the handler
 * may have put a better message in the parser with rdb_parser_set_error).
 *
 * Order for a key: on_key_begin, then the elements of its type, then
 * on_key_end. Keys are never nested. Collections that turn out empty are
 * still reported (begin + end with no element) except where noted; a
 * loader that wants Redis' behaviour skips empty lists/sets/zsets/hashes
 * (streams with no entries are legal and must be kept).
 */
struct rdb_handlers {
    int (*on_aux)(void *ud, const struct rs_bytes *key, const struct rs_bytes *val);
    int (*on_select_db)(void *ud, int db);
    int (*on_key_begin)(void *ud, const struct rdb_key *key);
    /* strings: exactly one call, the whole value (integers as decimal text) */
    int (*on_string)(void *ud, const struct rs_bytes *value);
    /* lists: one call per element, in list order */
    int (*on_list_item)(void *ud, const struct rs_bytes *item);
    int (*on_set_member)(void *ud, const struct rs_bytes *member);
    int (*on_zset_member)(void *ud, const struct rs_bytes *member, double score);
    /* hashes: field_expire_ms is the field's own TTL or RS_NO_EXPIRE */
    int (*on_hash_field)(void *ud, const struct rs_bytes *field,
                         const struct rs_bytes *value, int64_t field_expire_ms);
    /* streams, in this order: every live entry's pairs (deleted entries
     * are skipped; 'pos' is the 0-based pair index inside the entry),
     * then on_stream_meta once, then per group: on_stream_group, its PEL
     * entries, then per consumer on_stream_consumer followed by the ids
     * of that consumer's own pending list (type 27: then the group's
     * NACK ids, on_stream_nack, at the end of this struct). */
    int (*on_stream_item)(void *ud, const struct rs_stream_id *id, int pos,
                          const struct rs_bytes *field, const struct rs_bytes *value);
    int (*on_stream_meta)(void *ud, const struct rs_stream_meta *meta);
    int (*on_stream_group)(void *ud, const struct rs_stream_group *group);
    int (*on_stream_pending)(void *ud, const struct rs_stream_pending *pending);
    int (*on_stream_consumer)(void *ud, const struct rs_stream_consumer *consumer);
    int (*on_stream_consumer_pending)(void *ud, const struct rs_stream_id *id);
    /* arrays (Redis 8.8): the insert cursor first when there is one (the
     * last index ARINSERT/ARRING wrote), then each element with its
     * unsigned index, its value as text */
    int (*on_array_cursor)(void *ud, uint64_t idx);
    int (*on_array_item)(void *ud, uint64_t idx, const struct rs_bytes *v);
    /* module values are skipped (their bytes are walked, not kept): the key
     * is reported with type RS_T_MODULE and key->module set, then on_key_end */
    int (*on_key_end)(void *ud);
    /* a function library (FUNCTION2 opcode, or the 7.0 RC form): its code */
    int (*on_function)(void *ud, const struct rs_bytes *code);
    /* after the EOF opcode and the checksum have been read and verified */
    int (*on_end)(void *ud);
    /* Redis 8.8 streams (type 27): after a group's consumers, the ids of
     * its NACK zone, pending entries that XNACK released (entries of the
     * group PEL that no consumer owns) */
    int (*on_stream_nack)(void *ud, const struct rs_stream_id *id);
    /* Valkey 9.2 path hashes (type 23 in a VALKEY081 file): every path's
     * fields in file order. The key is reported with type RS_T_PATHHASH
     * (a key with no path is legal: Valkey keeps an emptied path hash). */
    int (*on_path_hash_field)(void *ud, const struct rs_bytes *path,
                              const struct rs_bytes *field, const struct rs_bytes *value);
};

enum rdb_mode {
    RDB_MODE_FILE,   /* magic, opcodes, keys, EOF, checksum */
    RDB_MODE_DUMP    /* one value: type byte, value, 2-byte version, CRC64 */
};

/* Create a parser. 'h' must outlive it. Returns NULL only when out of
 * memory. max_item caps one buffered item (string or blob); 0 means the
 * default of 512 MiB + 64 KiB. */
struct rdb_parser *rdb_parser_new(enum rdb_mode mode, const struct rdb_handlers *h,
                                  void *ud, size_t max_item);
void rdb_parser_free(struct rdb_parser *p);

/*
 * Feed 'len' bytes. Returns:
 *   RS_AGAIN  all bytes consumed (*consumed == len), more are needed;
 *   RS_DONE   the payload is complete (EOF opcode + checksum, or the DUMP
 *             footer); *consumed tells how many bytes of this chunk
 *             belonged to it — the rest is not ours (e.g. a diskless
 *             transfer's 40-byte end mark). Later calls return RS_DONE
 *             and consume nothing;
 *   RS_ERROR  see rdb_parser_error(); sticky.
 * 'consumed' may be NULL.
 */
enum rs_status rdb_parser_feed(struct rdb_parser *p, const char *buf, size_t len,
                               size_t *consumed);

/* Call when the input ended. Returns 0 if the parser had reached RS_DONE,
 * otherwise sets a "truncated at offset N" error and returns -1. */
int rdb_parser_finish(struct rdb_parser *p);

/* The sticky error (code 0 while none). Messages name the byte offset:
 * "rdb: bad CRC64 at offset 20819: computed 0x..., file has 0x...". */
const struct rs_error *rdb_parser_error(const struct rdb_parser *p);

/* Let a handler explain why it stopped the parser (first message wins);
 * the offset and the key being read are added to it. */
void rdb_parser_set_error(struct rdb_parser *p, int code, const char *msg);

/* Bytes consumed so far (the offset error messages use). */
uint64_t rdb_parser_offset(const struct rdb_parser *p);

/* The RDB version read from the magic (0 before it was read) and whether
 * the magic was VALKEY. In DUMP mode, the footer version once DONE. */
int rdb_parser_version(const struct rdb_parser *p, int *is_valkey);

/* CRC-64/Jones as Redis computes it (init 0, reflected): incremental. */
uint64_t rdb_crc64(uint64_t crc, const unsigned char *p, size_t len);

#endif
