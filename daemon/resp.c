/*
 * resp.c - the replication command-stream reader: bytes in, commands out.
 *
 * hiredis' redisReader does the RESP grammar and builds each command as
 * an array reply. In front of it sits a small framer that looks at every
 * header before hiredis does: it skips the bare newlines a stream may
 * carry between commands, refuses what a master never sends (non-array
 * replies, nested or non-bulk elements) and checks the *N and $N lengths
 * against max_args/max_bulk, so a forged length never makes hiredis
 * allocate for it. Only bytes the framer accepted are handed to hiredis,
 * one command at a time.
 *
 * One inline form does come from masters: Redis 2.4 and 2.6 propagate
 * SELECT as the line "select <db>\r\n" (their shared.select objects).
 * A line that does not start with '*' is therefore split on spaces here,
 * without hiredis, as Redis' own inline reader would split it.
 *
 * What it leaves out: the meaning of commands (apply.c) and the socket
 * (link.c). Start reading at resp_reader_next().
 */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "resp.h"

#define DEFAULT_MAX_BULK  (512LL * 1024 * 1024)
#define DEFAULT_MAX_ARGS  (1024LL * 1024)
#define MAX_HEADER        32      /* "*<digits>\r\n" never needs more */
#define MAX_INLINE        (64 * 1024)   /* Redis' PROTO_INLINE_MAX_SIZE */

/* Where the framer stands in the stream. */
enum frame_state {
    FR_TOP,        /* between commands: '*', '\n' or "\r\n" */
    FR_ARG_HDR,    /* expecting "$<len>\r\n" of the next argument */
    FR_ARG_BODY    /* inside an argument's bytes (and its "\r\n") */
};

struct resp_reader {
    redisReader *hr;
    struct rs_error err;
    long long max_bulk, max_args;

    /* Bytes fed but not yet seen by the framer. */
    char *buf;
    size_t pos, len, cap;

    enum frame_state st;
    long long args_left;          /* arguments of the current command to frame */
    long long body_left;          /* bytes of the current argument incl. "\r\n" */
    size_t framed;                /* bytes of the current command given to hiredis */
    size_t consumed;              /* bytes hiredis consumed for the current command */

    redisReply *reply;            /* the last command returned */
    struct rs_bytes *argv;
    size_t argv_cap;

    size_t pending;               /* fed, not yet returned or skipped */
};

struct resp_reader *resp_reader_new(size_t max_bulk, long long max_args)
{
    struct resp_reader *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->hr = redisReaderCreate();
    if (r->hr == NULL) {
        free(r);
        return NULL;
    }
    r->max_bulk = max_bulk ? (long long)max_bulk : DEFAULT_MAX_BULK;
    r->max_args = max_args > 0 ? max_args : DEFAULT_MAX_ARGS;
    r->st = FR_TOP;
    return r;
}

void resp_reader_free(struct resp_reader *r)
{
    if (r == NULL)
        return;
    if (r->reply)
        freeReplyObject(r->reply);
    redisReaderFree(r->hr);
    free(r->buf);
    free(r->argv);
    free(r);
}

int resp_reader_feed(struct resp_reader *r, const char *buf, size_t len)
{
    if (r->err.code)
        return -1;
    if (len == 0)
        return 0;
    if (r->pos > 0 && (r->pos == r->len || r->len + len > r->cap)) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len + len > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        char *nb;

        while (cap < r->len + len)
            cap *= 2;
        if ((nb = realloc(r->buf, cap)) == NULL)
            return rs_fail(&r->err, RS_E_NOMEM, "resp: out of memory buffering %zu bytes", len);
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, buf, len);
    r->len += len;
    r->pending += len;
    return 0;
}

size_t resp_reader_pending(const struct resp_reader *r)
{
    return r->pending;
}

const struct rs_error *resp_reader_error(const struct resp_reader *r)
{
    return &r->err;
}

/* ------------------------------------------------------------------ */
/* The framer                                                          */
/* ------------------------------------------------------------------ */

/*
 * Take one header line "<type><decimal>\r\n" from the framer's buffer.
 * RS_OK: *n set and the line consumed; RS_AGAIN: no whole line yet.
 */
static enum rs_status take_header(struct resp_reader *r, char type, long long *n)
{
    const char *p = r->buf + r->pos;
    size_t avail = r->len - r->pos, i;

    if (p[0] != type) {
        rs_fail(&r->err, RS_E_PROTO,
                "resp: expected '$' for a command argument, got byte 0x%02x "
                "(non-bulk element)", (unsigned char)p[0]);
        return RS_ERROR;
    }
    for (i = 1; i < avail && i < MAX_HEADER; i++)
        if (p[i] == '\r')
            break;
    if (i == MAX_HEADER) {
        rs_fail(&r->err, RS_E_PROTO, "resp: '%c' header line too long", type);
        return RS_ERROR;
    }
    if (i + 1 >= avail)
        return RS_AGAIN;            /* the "\r\n" is not all here yet */
    if (p[i + 1] != '\n' || rs_parse_ll(p + 1, i - 1, n) != 0) {
        rs_fail(&r->err, RS_E_PROTO, "resp: bad '%c' length '%.*s'", type,
                (int)(i - 1), p + 1);
        return RS_ERROR;
    }
    r->pos += i + 2;
    r->framed += i + 2;
    return RS_OK;
}

/* A bare newline between commands is a keep-alive, not a command:
 * skip one. RS_OK: skipped; RS_AGAIN: a lone '\r' so far. */
static enum rs_status skip_newline(struct resp_reader *r, size_t *skipped)
{
    const char *p = r->buf + r->pos;
    size_t nl = p[0] == '\n' ? 1 : 2;

    if (r->len - r->pos < nl)
        return RS_AGAIN;
    if (nl == 2 && p[1] != '\n') {
        rs_fail(&r->err, RS_E_PROTO, "resp: stray '\\r' between commands");
        return RS_ERROR;
    }
    r->pos += nl;
    r->pending -= nl;
    *skipped += nl;
    return RS_OK;
}

/* The '*' header of a command (newlines and inline lines were taken by
 * take_top before the framer runs). */
static enum rs_status frame_top(struct resp_reader *r)
{
    long long n;
    enum rs_status st;

    if ((st = take_header(r, '*', &n)) != RS_OK)
        return st;
    if (n <= 0) {
        rs_fail(&r->err, RS_E_PROTO, "resp: empty command (*%lld)", n);
        return RS_ERROR;
    }
    if (n > r->max_args) {
        rs_fail(&r->err, RS_E_PROTO, "resp: command with %lld arguments, limit %lld",
                n, r->max_args);
        return RS_ERROR;
    }
    r->args_left = n;
    r->st = FR_ARG_HDR;
    return RS_OK;
}

static enum rs_status frame_arg_hdr(struct resp_reader *r)
{
    long long n;
    enum rs_status st;

    if ((st = take_header(r, '$', &n)) != RS_OK)
        return st;
    if (n < 0) {
        rs_fail(&r->err, RS_E_PROTO, "resp: null bulk ($%lld) in a command", n);
        return RS_ERROR;
    }
    if (n > r->max_bulk) {
        rs_fail(&r->err, RS_E_PROTO, "resp: argument of %lld bytes, limit %lld",
                n, r->max_bulk);
        return RS_ERROR;
    }
    r->body_left = n + 2;
    r->st = FR_ARG_BODY;
    return RS_OK;
}

static enum rs_status frame_arg_body(struct resp_reader *r)
{
    size_t avail = r->len - r->pos;
    size_t take = (long long)avail < r->body_left ? avail : (size_t)r->body_left;
    const char *p = r->buf + r->pos;

    /* Check the "\r\n" that ends the argument as its bytes go by. */
    for (size_t i = 0; i < take; i++) {
        long long left = r->body_left - (long long)i;

        if ((left == 2 && p[i] != '\r') || (left == 1 && p[i] != '\n')) {
            rs_fail(&r->err, RS_E_PROTO, "resp: argument not followed by \\r\\n");
            return RS_ERROR;
        }
    }
    r->pos += take;
    r->framed += take;
    r->body_left -= (long long)take;
    if (r->body_left > 0)
        return RS_AGAIN;
    r->st = --r->args_left > 0 ? FR_ARG_HDR : FR_TOP;
    return RS_OK;
}

/*
 * Frame as much of one command as the buffer holds and hand those bytes
 * to hiredis. RS_OK: a whole command is now in hiredis. RS_AGAIN: feed
 * more.
 */
static enum rs_status frame_command(struct resp_reader *r)
{
    size_t start = r->pos;
    enum rs_status st = RS_AGAIN;

    while (r->pos < r->len) {
        enum frame_state was = r->st;

        if (was == FR_TOP)
            st = frame_top(r);
        else if (was == FR_ARG_HDR)
            st = frame_arg_hdr(r);
        else
            st = frame_arg_body(r);
        if (st == RS_ERROR)
            return RS_ERROR;
        if (st == RS_AGAIN)
            break;
        if (was != FR_TOP && r->st == FR_TOP)
            break;                  /* one whole command framed */
    }
    if (r->pos > start && redisReaderFeed(r->hr, r->buf + start, r->pos - start) != REDIS_OK) {
        rs_fail(&r->err, RS_E_NOMEM, "resp: %s", r->hr->errstr);
        return RS_ERROR;
    }
    return st == RS_OK && r->st == FR_TOP && r->framed > 0 ? RS_OK : RS_AGAIN;
}

/* ------------------------------------------------------------------ */
/* Commands out                                                        */
/* ------------------------------------------------------------------ */

/* Ask hiredis for a reply; count the bytes it consumed. */
static enum rs_status hiredis_take(struct resp_reader *r, redisReply **out)
{
    void *reply = NULL;
    size_t before = r->hr->len - r->hr->pos;

    if (redisReaderGetReply(r->hr, &reply) != REDIS_OK) {
        rs_fail(&r->err, RS_E_PROTO, "resp: %s", r->hr->errstr);
        return RS_ERROR;
    }
    /* hiredis compacts its buffer, but len - pos stays the unread bytes */
    r->consumed += before - (r->hr->len - r->hr->pos);
    *out = reply;
    return reply ? RS_OK : RS_AGAIN;
}

/* Room for n arguments in r->argv. RS_OK, or RS_ERROR (sticky). */
static enum rs_status argv_reserve(struct resp_reader *r, size_t n)
{
    struct rs_bytes *nv;

    if (n <= r->argv_cap)
        return RS_OK;
    if ((nv = realloc(r->argv, n * sizeof(*nv))) == NULL) {
        rs_fail(&r->err, RS_E_NOMEM, "resp: out of memory for %zu arguments", n);
        return RS_ERROR;
    }
    r->argv = nv;
    r->argv_cap = n;
    return RS_OK;
}

static enum rs_status to_command(struct resp_reader *r, redisReply *reply,
                                 struct resp_command *cmd)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        rs_fail(&r->err, RS_E_PROTO, "resp: command is not a non-empty array (type %d)",
                reply->type);
        return RS_ERROR;
    }
    if (argv_reserve(r, reply->elements) != RS_OK)
        return RS_ERROR;
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];

        if (e->type != REDIS_REPLY_STRING) {
            rs_fail(&r->err, RS_E_PROTO, "resp: argument %zu is not a bulk string (type %d)",
                    i, e->type);
            return RS_ERROR;
        }
        r->argv[i].ptr = e->str;
        r->argv[i].len = e->len;
    }
    if (r->consumed != r->framed) {
        rs_fail(&r->err, RS_E_PROTO, "resp: framing mismatch (%zu bytes framed, %zu parsed)",
                r->framed, r->consumed);
        return RS_ERROR;
    }
    cmd->argc = (int)reply->elements;
    cmd->argv = r->argv;
    cmd->wire_len = r->consumed;
    r->pending -= r->consumed;
    r->consumed = 0;
    r->framed = 0;
    return RS_OK;
}

/* Split one inline line on spaces; argv points into r->buf. The line
 * is consumed whole; a line of spaces only is skipped like a newline.
 * RS_AGAIN: no whole line yet. */
static enum rs_status take_inline(struct resp_reader *r, struct resp_command *cmd,
                                  size_t *skipped)
{
    const char *p = r->buf + r->pos;
    size_t avail = r->len - r->pos;
    const char *nl = memchr(p, '\n', avail < MAX_INLINE ? avail : MAX_INLINE);
    size_t end, wire, argc = 0;

    if (memchr("+-:$", p[0], 4) != NULL) {
        rs_fail(&r->err, RS_E_PROTO, "resp: expected a command, got byte 0x%02x "
                "(non-array reply)", (unsigned char)p[0]);
        return RS_ERROR;
    }
    if (nl == NULL) {
        if (avail < MAX_INLINE)
            return RS_AGAIN;
        rs_fail(&r->err, RS_E_PROTO, "resp: inline command longer than %d bytes", MAX_INLINE);
        return RS_ERROR;
    }
    wire = (size_t)(nl - p) + 1;
    end = wire - 1 - (wire > 1 && p[wire - 2] == '\r');
    for (int pass = 0; pass < 2; pass++) {      /* count, then fill */
        argc = 0;
        for (size_t i = 0; i < end;) {
            size_t start;

            while (i < end && p[i] == ' ')
                i++;
            if (i == end)
                break;
            for (start = i; i < end && p[i] != ' '; i++)
                ;
            if (pass == 1) {
                r->argv[argc].ptr = p + start;
                r->argv[argc].len = i - start;
            }
            argc++;
        }
        if (pass == 0 && argv_reserve(r, argc) != RS_OK)
            return RS_ERROR;
    }
    r->pos += wire;
    r->pending -= wire;
    if (argc == 0) {
        *skipped += wire;
        return RS_AGAIN;
    }
    cmd->argc = (int)argc;
    cmd->argv = r->argv;
    cmd->wire_len = wire;
    return RS_OK;
}

/* Between commands: skip newlines, take an inline command whole.
 * RS_OK: *cmd is an inline command. RS_AGAIN: nothing for the caller
 * (a '*' is next, or an incomplete line, or nothing). */
static enum rs_status take_top(struct resp_reader *r, struct resp_command *cmd,
                               size_t *skipped)
{
    while (r->st == FR_TOP && r->pos < r->len && r->buf[r->pos] != '*') {
        size_t before = r->pos;
        enum rs_status st;

        if (r->buf[r->pos] == '\n' || r->buf[r->pos] == '\r') {
            if ((st = skip_newline(r, skipped)) != RS_OK)
                return st;
            continue;
        }
        st = take_inline(r, cmd, skipped);
        if (st != RS_AGAIN || r->pos == before)
            return st;                 /* a command, an error, or wait */
    }
    return RS_AGAIN;
}

enum rs_status resp_reader_next(struct resp_reader *r, struct resp_command *cmd,
                                size_t *skipped)
{
    size_t skip_local = 0;
    size_t *sk = skipped ? skipped : &skip_local;
    redisReply *reply;
    enum rs_status st;

    *sk = 0;
    if (r->err.code)
        return RS_ERROR;
    if (r->reply) {
        freeReplyObject(r->reply);
        r->reply = NULL;
    }
    if ((st = take_top(r, cmd, sk)) != RS_AGAIN)
        return st;
    if (r->st == FR_TOP && (r->pos == r->len || r->buf[r->pos] != '*'))
        return RS_AGAIN;
    if ((st = frame_command(r)) != RS_OK)
        return st;
    if ((st = hiredis_take(r, &reply)) != RS_OK) {
        if (st == RS_AGAIN)
            rs_fail(&r->err, RS_E_PROTO, "resp: hiredis did not complete a framed command");
        return RS_ERROR;
    }
    r->reply = reply;
    return to_command(r, reply, cmd);
}
