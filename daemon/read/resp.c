/*
 * resp.c - the replication command-stream reader: bytes in, commands out.
 *
 * A framer walks the bytes once: it skips the bare newlines a stream may
 * carry between commands, refuses what a master never sends (non-array
 * replies, nested or non-bulk elements), checks the *N and $N lengths
 * against max_args/max_bulk and notes where each argument lies. A command
 * stays in the input buffer until it is whole; its argv then points into
 * that buffer (no copy, no allocation per command), each argument ended
 * by a NUL written over its "\r". hiredis' reader did this before, with
 * a reply object and an allocation per argument: a sixth of the
 * instructions of an applied XADD (bench/README.md, "Instruction counts").
 *
 * One inline form does come from masters: Redis 2.4 and 2.6 propagate
 * SELECT as the line "select <db>\r\n" (their shared.select objects).
 * A line that does not start with '*' is therefore split on spaces here,
 * as Redis' own inline reader would split it.
 *
 * What it leaves out: the meaning of commands (apply.c) and the socket
 * (link.c, status_server.c). Start reading at resp_reader_next().
 */
#include <stdlib.h>
#include <string.h>

#include "resp.h"

#define DEFAULT_MAX_BULK  (512LL * 1024 * 1024)
#define DEFAULT_MAX_ARGS  (1024LL * 1024)
#define MAX_HEADER        32      /* "*<digits>\r\n" never needs more */
#define RESP_BUF_KEEP     ((size_t)1 << 20)   /* give a bigger buffer back once empty */
#define MAX_INLINE        (64 * 1024)   /* Redis' PROTO_INLINE_MAX_SIZE */

/* Where the framer stands in the stream. */
enum frame_state {
    FR_TOP,        /* between commands: '*', '\n' or "\r\n" */
    FR_ARG_HDR,    /* expecting "$<len>\r\n" of the next argument */
    FR_ARG_BODY    /* inside an argument's bytes (and its "\r\n") */
};

/* Where an argument lies, from the start of its command. */
struct span {
    size_t off, len;
};

struct resp_reader {
    struct rs_error err;
    long long max_bulk, max_args;

    /* Bytes fed: the current command (from pos - framed) and what follows. */
    char *buf;
    size_t pos, len, cap;

    enum frame_state st;
    long long args_left;          /* arguments of the current command to frame */
    long long body_left;          /* bytes of the current argument incl. "\r\n" */
    size_t framed;                /* bytes of the current command framed so far */

    struct span *spans;           /* the current command's arguments framed so far */
    size_t nspans, spans_cap;
    struct rs_bytes *argv;
    size_t argv_cap;

    size_t pending;               /* fed, not yet returned or skipped */
    int for_clients;              /* resp_reader_for_clients(): any inline line */
};

struct resp_reader *resp_reader_new(size_t max_bulk, long long max_args)
{
    struct resp_reader *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->max_bulk = max_bulk ? (long long)max_bulk : DEFAULT_MAX_BULK;
    r->max_args = max_args > 0 ? max_args : DEFAULT_MAX_ARGS;
    r->st = FR_TOP;
    return r;
}

void resp_reader_for_clients(struct resp_reader *r)
{
    r->for_clients = 1;
}

void resp_reader_free(struct resp_reader *r)
{
    if (r == NULL)
        return;
    free(r->buf);
    free(r->spans);
    free(r->argv);
    free(r);
}

int resp_reader_feed(struct resp_reader *r, const char *buf, size_t len)
{
    if (r->err.code)
        return -1;
    if (len == 0)
        return 0;
    /* Drop what went before the current command (spans are relative to it). */
    size_t keep = r->pos - r->framed;

    if (keep > 0 && (keep == r->len || r->len + len > r->cap)) {
        memmove(r->buf, r->buf + keep, r->len - keep);
        r->len -= keep;
        r->pos -= keep;
    }
    if (r->len == 0 && r->cap > RESP_BUF_KEEP && len <= RESP_BUF_KEEP) {
        free(r->buf);           /* the big command it held is over */
        r->buf = NULL;
        r->cap = 0;
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

size_t resp_reader_arg_left(const struct resp_reader *r)
{
    return r->st == FR_ARG_BODY && r->body_left > 0 ? (size_t)r->body_left : 0;
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
    if (r->nspans == r->spans_cap) {
        size_t cap = r->spans_cap ? r->spans_cap * 2 : 16;
        struct span *ns = realloc(r->spans, cap * sizeof(*ns));

        if (ns == NULL) {
            rs_fail(&r->err, RS_E_NOMEM, "resp: out of memory for %zu arguments", cap);
            return RS_ERROR;
        }
        r->spans = ns;
        r->spans_cap = cap;
    }
    r->spans[r->nspans].off = r->framed;
    r->spans[r->nspans++].len = (size_t)n;
    r->body_left = n + 2;
    r->st = FR_ARG_BODY;
    return RS_OK;
}

static enum rs_status frame_arg_body(struct resp_reader *r)
{
    size_t avail = r->len - r->pos;
    size_t take = (long long)avail < r->body_left ? avail : (size_t)r->body_left;
    const char *p = r->buf + r->pos;

    /* Check the "\r\n" that ends the argument when its bytes are here:
     * they are at body_left - 2 and body_left - 1 from p. */
    long long cr = r->body_left - 2, lf = r->body_left - 1;

    if ((cr >= 0 && cr < (long long)take && p[cr] != '\r') ||
        (lf >= 0 && lf < (long long)take && p[lf] != '\n')) {
        rs_fail(&r->err, RS_E_PROTO, "resp: argument not followed by \\r\\n");
        return RS_ERROR;
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
 * Frame as much of one command as the buffer holds. RS_OK: a whole
 * command is framed. RS_AGAIN: feed more.
 */
static enum rs_status frame_command(struct resp_reader *r)
{
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
    return st == RS_OK && r->st == FR_TOP && r->framed > 0 ? RS_OK : RS_AGAIN;
}

/* ------------------------------------------------------------------ */
/* Commands out                                                        */
/* ------------------------------------------------------------------ */

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

/* The framed command out: argv into the buffer, each argument ended by
 * a NUL over its "\r" (the bytes are consumed, nobody reads them again). */
static enum rs_status to_command(struct resp_reader *r, struct resp_command *cmd)
{
    char *start = r->buf + r->pos - r->framed;

    if (argv_reserve(r, r->nspans) != RS_OK)
        return RS_ERROR;
    for (size_t i = 0; i < r->nspans; i++) {
        r->argv[i].ptr = start + r->spans[i].off;
        r->argv[i].len = r->spans[i].len;
        start[r->spans[i].off + r->spans[i].len] = '\0';
    }
    cmd->argc = (int)r->nspans;
    cmd->argv = r->argv;
    cmd->wire_len = r->framed;
    r->pending -= r->framed;
    r->framed = 0;
    r->nspans = 0;
    return RS_OK;
}

/* Split one inline line on spaces; argv points into r->buf, each
 * argument ended by a NUL over the byte after it. The line is consumed whole; a line of spaces only is skipped like a newline.
 * RS_AGAIN: no whole line yet. */
static enum rs_status take_inline(struct resp_reader *r, struct resp_command *cmd,
                                  size_t *skipped)
{
    const char *p = r->buf + r->pos;
    size_t avail = r->len - r->pos;
    const char *nl = memchr(p, '\n', avail < MAX_INLINE ? avail : MAX_INLINE);
    size_t end, wire, argc = 0;

    if (memchr("+-:$", p[0], 4) != NULL && !r->for_clients) {
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
    for (size_t j = 0; j < argc; j++)          /* over a space, '\r' or '\n' */
        r->buf[r->argv[j].ptr - r->buf + r->argv[j].len] = '\0';
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
    enum rs_status st;

    *sk = 0;
    if (r->err.code)
        return RS_ERROR;
    if ((st = take_top(r, cmd, sk)) != RS_AGAIN)
        return st;
    if (r->st == FR_TOP && (r->pos == r->len || r->buf[r->pos] != '*'))
        return RS_AGAIN;
    if ((st = frame_command(r)) != RS_OK)
        return st;
    return to_command(r, cmd);
}
