/*
 * common.h - types shared by every part of redsink: byte strings, status
 * codes, sticky errors, Redis value types and stream records.
 *
 * Nothing here knows about sockets, SQL or the RDB format; it is the
 * vocabulary the parser, the applier and the sinks use to talk.
 */
#ifndef RS_COMMON_H
#define RS_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Result of an incremental reader: AGAIN means "give me more bytes",
 * nothing half-consumed; DONE means the reader reached its natural end. */
enum rs_status { RS_OK, RS_AGAIN, RS_DONE, RS_ERROR };

enum rs_errcode {
    RS_E_NONE = 0,
    RS_E_IO,          /* read/write/open failed */
    RS_E_SQL,         /* the sink's database refused something */
    RS_E_PROTO,       /* the master sent something we cannot frame */
    RS_E_RDB,         /* corrupt, truncated or unsupported RDB payload */
    RS_E_CONFIG,      /* bad command line or configuration */
    RS_E_NOMEM,
    RS_E_CALLBACK,    /* a handler asked the parser to stop */
    RS_E_AUTH,        /* the master refused our credentials */
    RS_E_UNSUPPORTED  /* something we deliberately do not handle */
};

/* A sticky error: once code != 0 the owner returns it on every call. */
struct rs_error {
    int code;
    char msg[256];
};

/* Borrowed binary bytes: never NUL-terminated by contract. */
struct rs_bytes {
    const char *ptr;
    size_t len;
};

/* Fill 'e' (if not already set) and return -1. */
int rs_fail(struct rs_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rs_error_clear(struct rs_error *e);

/* Wall clock in unix milliseconds, and a monotonic clock in ms. */
int64_t rs_now_ms(void);
int64_t rs_mono_ms(void);

/* True when the bytes are valid UTF-8 (strict: no overlongs, no
 * surrogates, nothing above U+10FFFF; NUL is valid). */
int rs_utf8_valid(const char *p, size_t len);

/* Parse a whole byte string as a signed 64-bit decimal integer the way
 * Redis' string2ll does (no spaces, no '+', no leading zeros). 0 on
 * success, -1 otherwise. */
int rs_parse_ll(const char *p, size_t len, long long *out);

/* Write v in decimal to buf (at least 20 bytes; no NUL), as Redis' ll2string
 * does: rs_parse_ll reads it back. Returns the length. */
size_t rs_ll2str(char *buf, long long v);

/* "MAJOR.MINOR.PATCH" (anything after the patch number ignored) as
 * MAJOR * 10000 + MINOR * 100 + PATCH, e.g. "2.8.24" -> 20824; 0 when it
 * is not such a version. */
int rs_parse_version(const char *p, size_t len);

/* Redis value types as TYPE reports them. */
enum rs_type {
    RS_T_NONE = 0,
    RS_T_STRING,
    RS_T_LIST,
    RS_T_SET,
    RS_T_ZSET,
    RS_T_HASH,
    RS_T_STREAM,
    RS_T_MODULE,
    RS_T_ARRAY,            /* Redis 8.8 */
    RS_T_PATHHASH          /* Valkey 9.2 */
};

/* "string", "list", ... ("none" for RS_T_NONE). */
const char *rs_type_name(enum rs_type t);

/* No TTL: used for key and hash-field expiry times. */
#define RS_NO_EXPIRE ((int64_t)-1)

struct rs_stream_id {
    uint64_t ms;
    uint64_t seq;
};

/* Stream-level metadata, as an RDB v1..v3 stream record or XADD keeps it.
 * Fields a version does not carry are zero (has_v2 == 0). */
struct rs_stream_meta {
    uint64_t length;                 /* live entries */
    struct rs_stream_id last_id;
    int has_v2;                      /* the next three are known */
    struct rs_stream_id first_id;
    struct rs_stream_id max_deleted_id;
    uint64_t entries_added;
};

struct rs_stream_group {
    struct rs_bytes name;
    struct rs_stream_id last_id;
    int64_t entries_read;            /* -1: unknown (or RDB v1) */
};

struct rs_stream_pending {           /* one entry of a group's PEL */
    struct rs_stream_id id;
    int64_t delivery_time;           /* unix ms */
    uint64_t delivery_count;
};

struct rs_stream_consumer {
    struct rs_bytes name;
    int64_t seen_time;               /* unix ms */
    int64_t active_time;             /* unix ms, -1 when the RDB has none */
};

#endif
