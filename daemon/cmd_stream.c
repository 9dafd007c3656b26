/*
 * cmd_stream.c - stream commands: XADD (NOMKSTREAM, MAXLEN/MINID
 * trimming, explicit, partial and "*" IDs).
 *
 * Left out: XDEL, XTRIM, XGROUP, XACK, XCLAIM... go to the unknown-command
 * path. Start at apply_xadd(); the table at the end is all apply.c sees.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"

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

        if (ap_arg_is(o, "*"))
            break;
        if ((ap_arg_is(o, "maxlen") || ap_arg_is(o, "minid")) && more) {
            int minid = ap_arg_is(o, "minid");

            if (x->trim != TRIM_NONE)
                return ap_refuse(a, argv, "syntax error, MAXLEN and MINID options at the same time "
                                       "are not compatible");
            x->approx = 0;
            if (more >= 2 && ap_arg_is(&argv[i + 1], "~")) {
                x->approx = 1;
                i++;
            } else if (more >= 2 && ap_arg_is(&argv[i + 1], "=")) {
                i++;
            }
            if (minid ? parse_stream_id(&argv[i + 1], &x->minid, &seq) != 0
                      : ap_parse_ll(&argv[i + 1], &x->maxlen) != 0)
                return ap_refuse(a, argv, "invalid MAXLEN or MINID argument");
            if (!minid && x->maxlen < 0)
                return ap_refuse(a, argv, "The MAXLEN argument must be >= 0.");
            if (minid && !seq)
                return ap_refuse(a, argv, "Invalid stream ID specified as stream command argument");
            i++;
            x->trim = minid ? TRIM_MINID : TRIM_MAXLEN;
        } else if (ap_arg_is(o, "limit") && more) {
            if (ap_parse_ll(&argv[i + 1], &limit) != 0 || limit < 0)
                return ap_refuse(a, argv, "invalid LIMIT argument");
            i++;
        } else if (ap_arg_is(o, "nomkstream")) {
            x->nomkstream = 1;
        } else {
            if (parse_stream_id(o, &x->id, &x->seq_given) != 0)
                return ap_refuse(a, argv, "Invalid stream ID specified as stream command argument");
            x->id_given = 1;
            break;
        }
    }
    if (limit && x->trim == TRIM_NONE)
        return ap_refuse(a, argv, "syntax error, LIMIT cannot be used without specifying a "
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
        return ap_reject(a, argv, "wrong number of arguments");
    if (x.id_given && x.seq_given && x.id.ms == 0 && x.id.seq == 0)
        return ap_reject(a, argv, "The ID specified in XADD must be greater than 0-0");
    if (ap_find_key(a, &argv[1], &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_STREAM)
        return ap_wrongtype(a, argv);
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
        return ap_reject(a, argv, "The ID specified in XADD is equal or smaller than the "
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
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_stream_table[] = {
    { "xadd",      apply_xadd,       -5,  CMD_WRITE },
};
const size_t cmd_stream_count = CMD_COUNT(cmd_stream_table);
