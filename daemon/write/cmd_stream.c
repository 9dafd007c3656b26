/*
 * cmd_stream.c - stream commands as a master propagates them: XADD
 * (NOMKSTREAM, MAXLEN/MINID trimming, explicit, partial and "*" IDs),
 * XTRIM, XDEL, XSETID, XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|
 * DELCONSUMER, XACK and the canonical XCLAIM that XREADGROUP, XCLAIM and
 * XAUTOCLAIM (and Redis 8.4's XREADGROUP ... CLAIM) turn into; Redis 8.2's
 * XDELEX and XACKDEL with their KEEPREF/DELREF/ACKED modes; Redis 8.6's
 * idempotent XADD (IDMP, IDMPAUTO), XCFGSET and XIDMPRECORD; Redis 8.8's
 * XNACK. The stream's metadata (length, last/first id, max deleted id,
 * entries added) and the groups' state (last id, read counter, PEL,
 * consumers) follow Redis (t_stream.c).
 *
 * Left out: the consumer seen time of a read the master does not
 * propagate; "~" trimming is done exactly (a master rewrites it to "=").
 * XCLAIM forms a master never sends (min-idle > 0, no RETRYCOUNT) are
 * refused. The IDMP producers' state (8.6) is not kept: the master decides
 * what is a duplicate, and says so in the form it propagates (apply_xadd).
 * Start at apply_xadd(); the table at the end is all apply.c sees.
 */
#include <errno.h>
#include <limits.h>
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
 * A stream ID as Redis' streamGenericParseIDOrReply reads it: "ms" (seq
 * 0), "ms-seq", "-" (0-0) and "+" (the largest id) unless 'strict', and
 * "ms-*" only when 'seq_given' is not NULL (then *seq_given = 0). The
 * argument is read as a C string, as Redis does. 0, or -1 when invalid.
 */
static int parse_id(const struct rs_bytes *b, int strict, struct rs_stream_id *id,
                    int *seq_given)
{
    char buf[128], *dash;
    unsigned long long ms, seq = 0;

    if (b->len > sizeof(buf) - 1)
        return -1;
    memcpy(buf, b->ptr, b->len);
    buf[b->len] = '\0';
    if ((buf[0] == '-' || buf[0] == '+') && buf[1] == '\0') {
        if (strict)
            return -1;
        id->ms = id->seq = buf[0] == '-' ? 0 : UINT64_MAX;
        return 0;
    }
    if (seq_given)
        *seq_given = 1;
    if ((dash = strchr(buf, '-')) != NULL)
        *dash = '\0';
    if (string2ull(buf, &ms) != 0)
        return -1;
    if (dash && seq_given && strcmp(dash + 1, "*") == 0)
        *seq_given = 0;
    else if (dash && string2ull(dash + 1, &seq) != 0)
        return -1;
    id->ms = ms;
    id->seq = seq;
    return 0;
}

/* XADD's ID argument (strict, "ms-*" allowed). */
static int parse_stream_id(const struct rs_bytes *b, struct rs_stream_id *id, int *seq_given)
{
    return parse_id(b, 1, id, seq_given);
}

static int id_cmp(const struct rs_stream_id *x, const struct rs_stream_id *y)
{
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return 0;
}

static int id_is_zero(const struct rs_stream_id *x)
{
    return x->ms == 0 && x->seq == 0;
}

/* ------------------------------------------------------------------ */
/* Stream lookups and metadata                                        */
/* ------------------------------------------------------------------ */

/* Find stream 'key' and read its metadata. *skip = 1 when it is missing
 * (*missing = 1, silently) or of another type (logged against 'argv'). */
static int stream_open(struct applier *a, const struct rs_bytes *argv,
                       const struct rs_bytes *key, struct sink_key *sk,
                       struct rs_stream_meta *m, int *skip, int *missing)
{
    *skip = 0;
    *missing = 0;
    memset(m, 0, sizeof(*m));
    if (ap_find_key(a, key, sk) != 0)
        return -1;
    if (sk->type == RS_T_NONE) {
        *skip = *missing = 1;
        return 0;
    }
    if (sk->type != RS_T_STREAM) {
        *skip = 1;
        return ap_wrongtype(a, argv);
    }
    return a->sink->ops->stream_meta_get(a->sink, sk->id, m);
}

/* The stream at argv[1] and its consumer group argv[2]: 1 when both
 * exist, 0 when not (*wrongtype: the key holds another type, already
 * refused), -1 on a sink error. */
static int group_open(struct applier *a, const struct rs_bytes *argv, struct sink_key *sk,
                      struct rs_stream_meta *m, int *wrongtype)
{
    struct rs_stream_id last;
    int64_t er;
    int skip, missing, found;

    *wrongtype = 0;
    if (stream_open(a, argv, &argv[1], sk, m, &skip, &missing) != 0)
        return -1;
    if (skip) {
        *wrongtype = !missing;
        return 0;
    }
    if (a->sink->ops->stream_group_get(a->sink, sk->id, &argv[2], &last, &er, &found) != 0)
        return -1;
    return found;
}

/* Entries were removed: set first_id to the oldest one left, as Redis'
 * streamGetEdgeID does after XDEL of the first entry and after a trim. */
static int refresh_first_id(struct applier *a, int64_t kid, struct rs_stream_meta *m)
{
    int found;

    if (m->length == 0) {
        m->first_id.ms = 0;
        m->first_id.seq = 0;
        return 0;
    }
    return a->sink->ops->stream_first(a->sink, kid, &m->first_id, &found);
}

/* What a forward scan from some id saw: the first entry id, if any. */
struct probe {
    int any;
    struct rs_stream_id first;
};

static void probe_cb(void *ud, const struct rs_stream_id *eid, int pos,
                     const struct rs_bytes *f, const struct rs_bytes *v)
{
    struct probe *p = ud;

    (void)pos;
    (void)f;
    (void)v;
    if (!p->any) {
        p->any = 1;
        p->first = *eid;
    }
}

/*
 * The oldest entry with an id >= 'from': p->any = 0 when there is none.
 * The sink only scans forward to the end, so the cheap cases are decided
 * from the metadata first; the scan reads the stream's tail from 'from',
 * which is short for the ids a master claims (recent deliveries).
 */
static int entry_probe(struct applier *a, int64_t kid, const struct rs_stream_meta *m,
                       const struct rs_stream_id *from, struct probe *p)
{
    memset(p, 0, sizeof(*p));
    if (m->length == 0 || id_cmp(from, &m->last_id) > 0)
        return 0;
    return a->sink->ops->stream_scan(a->sink, kid, from, probe_cb, p);
}

/* *exists = 1 when the stream has the entry 'eid' (streamEntryExists). */
static int entry_exists(struct applier *a, int64_t kid, const struct rs_stream_meta *m,
                        const struct rs_stream_id *eid, int *exists)
{
    struct probe p;

    *exists = 0;
    if (m->length == 0 || id_cmp(eid, &m->first_id) < 0)
        return 0;
    if (entry_probe(a, kid, m, eid, &p) != 0)
        return -1;
    *exists = p.any && id_cmp(&p.first, eid) == 0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* XADD and XTRIM                                                     */
/* ------------------------------------------------------------------ */

/*
 * Redis 8.2's reference modes: what deleting or trimming an entry does to
 * the groups' pending entries. KEEPREF leaves them (XDEL's way), DELREF
 * removes them from every group, ACKED deletes only an entry no group
 * still needs: pending in none, and delivered to every group (its id is
 * not above any group's last id; streamEntryIsReferenced with the
 * minimum last id of the groups, as Redis' stream-cgroups.tcl "XGROUP
 * DESTROY correctly manage min_cgroup_last_id cache" shows: an id equal
 * to the smallest last id may go). With no group nothing is referenced.
 */
enum ref_mode { REF_KEEP, REF_DEL, REF_ACKED };

enum { TRIM_NONE, TRIM_MAXLEN, TRIM_MINID };

struct xadd_args {
    int nomkstream;
    int idmp;                      /* IDMP or IDMPAUTO given (Redis 8.6) */
    int trim;                      /* TRIM_* */
    enum ref_mode ref;             /* KEEPREF (default), DELREF, ACKED */
    int approx;
    long long maxlen;
    struct rs_stream_id minid;
    int id_given, seq_given;
    struct rs_stream_id id;
    int id_pos;                    /* argv index of the ID */
};

/*
 * Redis 8.6's idempotent XADD options at argv[*i]: IDMPAUTO pid, IDMP pid
 * iid. 1 when one was read (*i then on its last argument), 0 when argv[*i]
 * is neither, -1 after logging. The producer and idempotent ids are not
 * kept (see apply_xadd).
 */
static int idmp_parse(struct applier *a, int argc, const struct rs_bytes *argv, int *i,
                      struct xadd_args *x)
{
    int more = argc - 1 - *i, n;

    if (ap_arg_is(&argv[*i], "idmpauto") && more >= 1)
        n = 1;
    else if (ap_arg_is(&argv[*i], "idmp") && more >= 2)
        n = 2;
    else
        return 0;
    if (x->idmp)
        return ap_refuse(a, argv, "syntax error, IDMP/IDMPAUTO specified multiple times");
    if (argv[*i + 1].len == 0)
        return ap_refuse(a, argv, n == 1 ? "syntax error, IDMPAUTO requires a non-empty "
                                           "producer ID"
                                         : "syntax error, IDMP requires a non-empty producer ID");
    if (n == 2 && argv[*i + 2].len == 0)
        return ap_refuse(a, argv, "syntax error, IDMP requires a non-empty idempotent ID");
    x->idmp = 1;
    *i += n;
    return 1;
}

/* XADD's explicit ID at 'o': 0, or -1 after logging. */
static int take_id(struct applier *a, const struct rs_bytes *argv, const struct rs_bytes *o,
                   struct xadd_args *x)
{
    if (parse_stream_id(o, &x->id, &x->seq_given) != 0)
        return ap_refuse(a, argv, "Invalid stream ID specified as stream command argument");
    x->id_given = 1;
    return 0;
}

/*
 * Redis' streamParseAddOrTrimArgsOrReply for XADD (xadd = 1) or XTRIM
 * from the master: LIMIT is parsed but not enforced (mustObeyClient), and
 * "~" is noted but trimmed exactly (a master rewrites it to "=" with the
 * resulting threshold before propagating). 0, or -1 after logging.
 */
static int trim_parse(struct applier *a, int argc, const struct rs_bytes *argv,
                      struct xadd_args *x, int xadd)
{
    long long limit = 0;
    int i, r;

    memset(x, 0, sizeof(*x));
    for (i = 2; i < argc; i++) {
        int more = argc - 1 - i;
        const struct rs_bytes *o = &argv[i];

        if (xadd && ap_arg_is(o, "*"))
            break;
        if (xadd && o->len && o->ptr[0] >= '0' && o->ptr[0] <= '9') {
            if (take_id(a, argv, o, x) != 0)   /* no option starts with a digit: */
                return -1;                     /* skip their ten comparisons */
            break;
        }
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
            if (minid ? parse_id(&argv[i + 1], 1, &x->minid, NULL) != 0
                      : ap_parse_ll(a, &argv[i + 1], &x->maxlen) != 0)
                return ap_refuse(a, argv, "invalid MAXLEN or MINID argument");
            if (!minid && x->maxlen < 0)
                return ap_refuse(a, argv, "The MAXLEN argument must be >= 0.");
            i++;
            x->trim = minid ? TRIM_MINID : TRIM_MAXLEN;
        } else if (ap_arg_is(o, "limit") && more) {
            if (ap_parse_ll(a, &argv[i + 1], &limit) != 0 || limit < 0)
                return ap_refuse(a, argv, "invalid LIMIT argument");
            i++;
        } else if (xadd && ap_arg_is(o, "nomkstream")) {
            x->nomkstream = 1;
        } else if (ap_arg_is(o, "keepref") || ap_arg_is(o, "delref") ||
                   ap_arg_is(o, "acked")) {
            x->ref = ap_arg_is(o, "keepref") ? REF_KEEP
                     : ap_arg_is(o, "delref") ? REF_DEL : REF_ACKED;
        } else if (xadd && (r = idmp_parse(a, argc, argv, &i, x)) != 0) {
            if (r < 0)
                return -1;
        } else if (xadd) {
            if (take_id(a, argv, o, x) != 0)
                return -1;
            break;
        } else {
            return ap_refuse(a, argv, "syntax error");
        }
    }
    if (limit && x->trim == TRIM_NONE)
        return ap_refuse(a, argv, "syntax error, LIMIT cannot be used without specifying a "
                               "trimming strategy");
    if (!xadd && x->trim == TRIM_NONE)
        return ap_refuse(a, argv, "syntax error, XTRIM must be called with a trimming strategy");
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

/* The entry ids a DELREF/ACKED trim may remove, oldest first: those
 * below 'below' (MINID), else up to 'max' of them (MAXLEN). */
struct trim_ids {
    struct rs_stream_id *v;
    size_t n, cap, max;
    const struct rs_stream_id *below;
    int oom;
};

static void trim_ids_cb(void *ud, const struct rs_stream_id *eid, int pos,
                        const struct rs_bytes *f, const struct rs_bytes *v)
{
    struct trim_ids *t = ud;

    (void)f;
    (void)v;
    if (pos != 0 || t->oom || t->n == t->max || (t->below && id_cmp(eid, t->below) >= 0))
        return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        struct rs_stream_id *nv = realloc(t->v, cap * sizeof(*nv));

        if (nv == NULL) {
            t->oom = 1;
            return;
        }
        t->v = nv;
        t->cap = cap;
    }
    t->v[t->n++] = *eid;
}

/*
 * A DELREF or ACKED trim (Redis 8.2's streamTrim with a delete strategy),
 * entry by entry from the oldest while the threshold is not met: DELREF
 * removes each trimmed id from every group's PEL too; ACKED skips an
 * entry a group still references (see enum ref_mode) and goes on with the
 * next, so MAXLEN stops at the limit and MINID takes every unreferenced
 * entry below the id (the XTRIM documentation: "only removes entries that
 * were read and acknowledged by all consumer groups ... if the number of
 * referenced entries is larger than MAXLEN, trimming will still stop at
 * the limit"; Redis' stream.tcl "XADD with MAXLEN option and ACKED/DELREF
 * option"). *removed = entries removed.
 */
static int trim_by_ref(struct applier *a, int64_t kid, const struct xadd_args *x,
                       const struct rs_stream_meta *m, uint64_t *removed)
{
    const struct sink_ops *o = a->sink->ops;
    struct trim_ids t = { NULL, 0, 0, SIZE_MAX, NULL, 0 };
    int rc = 0;

    *removed = 0;
    if (x->trim == TRIM_MINID)
        t.below = &x->minid;
    else if (x->ref == REF_DEL)
        t.max = (size_t)(m->length - (uint64_t)x->maxlen);
    if (o->stream_scan(a->sink, kid, NULL, trim_ids_cb, &t) != 0)
        goto out;
    if (t.oom) {
        rc = rs_fail(&a->err, RS_E_NOMEM, "cannot trim a stream: out of memory");
        goto out;
    }
    for (size_t j = 0; j < t.n; j++) {
        int refs, gone;

        if (x->trim == TRIM_MAXLEN && m->length - *removed <= (uint64_t)x->maxlen)
            break;
        if (x->ref == REF_ACKED) {
            if ((rc = o->stream_referenced(a->sink, kid, &t.v[j], &refs)) != 0)
                goto out;
            if (refs)
                continue;
        } else if ((rc = o->stream_pel_del_all(a->sink, kid, &t.v[j], &refs)) != 0) {
            goto out;
        }
        if ((rc = o->stream_delete(a->sink, kid, &t.v[j], &gone)) != 0)
            goto out;
        *removed += gone != 0;
    }
    free(t.v);
    return 0;
out:
    free(t.v);
    return rc ? rc : -1;
}

/*
 * Redis' streamTrim, exact: MAXLEN removes the oldest entries until
 * 'maxlen' remain, MINID every entry below the id (KEEPREF; DELREF and
 * ACKED in trim_by_ref). The length drops by what went, first_id moves to
 * the oldest entry left (0-0 when none); max_deleted_entry_id is not
 * touched (trims leave no tombstones that count). *removed may be NULL.
 */
static int stream_trim_exact(struct applier *a, int64_t kid, const struct xadd_args *x,
                             struct rs_stream_meta *m, uint64_t *removed)
{
    uint64_t n = 0;

    if (removed)
        *removed = 0;
    if (x->trim == TRIM_NONE)
        return 0;
    if (x->trim == TRIM_MAXLEN && m->length <= (uint64_t)x->maxlen)
        return 0;
    if (x->ref != REF_KEEP) {
        if (trim_by_ref(a, kid, x, m, &n) != 0)
            return -1;
    } else if (a->sink->ops->stream_trim(a->sink, kid,
                                         x->trim == TRIM_MINID ? &x->minid : NULL,
                                         x->trim == TRIM_MAXLEN ? x->maxlen : -1,
                                         (int64_t)m->length, &n) != 0) {
        return -1;
    }
    if (removed)
        *removed = n;
    if (n == 0)
        return 0;
    m->length -= n < m->length ? n : m->length;
    return refresh_first_id(a, kid, m);
}

/*
 * XADD key [NOMKSTREAM] [KEEPREF|DELREF|ACKED] [IDMPAUTO pid|IDMP pid iid]
 * [MAXLEN|MINID [=|~] threshold [LIMIT n]] id field value ...
 *
 * Redis 8.6's IDMP/IDMPAUTO (xaddCommand): a client must give "*" with
 * them. An entry the master adds is propagated with "*" replaced by the
 * id it got, so with the IDMP options and an explicit id it is added as
 * any XADD. A duplicate (the producer already added that idempotent id)
 * adds nothing and trims nothing; 8.6 does not propagate it, the newer
 * source (with 8.8's XNACK) propagates it as the client sent it, "*" and
 * all, for the replica's own producer state to find it. So an IDMP XADD
 * with "*" from the master is a duplicate, and nothing is applied: this
 * holds without the producers' state (or its expiry).
 */
static int apply_xadd(struct applier *a, int argc, const struct rs_bytes *argv)
{
    const struct sink_ops *o = a->sink->ops;
    struct xadd_args x;
    struct rs_stream_meta m;
    struct rs_stream_id id;
    struct sink_key sk;
    int fpos, created = 0;

    if (trim_parse(a, argc, argv, &x, 1) != 0)
        return 0;
    fpos = x.id_pos + 1;
    if (argc - fpos < 2 || (argc - fpos) % 2)
        return ap_reject(a, argv, "wrong number of arguments");
    if (x.idmp && !x.id_given)
        return 0;                  /* a duplicate: the master added nothing */
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
    if (m.has_v2)
        m.entries_added++;
    if (m.length == 1)
        m.first_id = id;
    if (stream_trim_exact(a, sk.id, &x, &m, NULL) != 0)
        return -1;
    return o->stream_meta_set(a->sink, sk.id, &m);
}

/* XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT n] */
static int apply_xtrim(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct xadd_args x;
    struct rs_stream_meta m;
    struct sink_key sk;
    uint64_t removed;
    int skip, missing;

    if (trim_parse(a, argc, argv, &x, 0) != 0)
        return 0;
    if (stream_open(a, argv, &argv[1], &sk, &m, &skip, &missing) != 0)
        return -1;
    if (skip)
        return 0;
    if (stream_trim_exact(a, sk.id, &x, &m, &removed) != 0)
        return -1;
    return removed ? a->sink->ops->stream_meta_set(a->sink, sk.id, &m) : 0;
}

/* ------------------------------------------------------------------ */
/* XDEL and XSETID                                                    */
/* ------------------------------------------------------------------ */

/* Parse argv[from..argc-1] as strict ids into a new array (*out, the
 * caller frees it). 0; -1 after logging when one is invalid or memory
 * ran out (then a->err is set and *oom = 1). */
static int parse_ids(struct applier *a, int argc, const struct rs_bytes *argv, int from,
                     struct rs_stream_id **out, int *oom)
{
    struct rs_stream_id *ids = malloc(sizeof(*ids) * (size_t)(argc - from + 1));

    *out = NULL;
    *oom = 0;
    if (ids == NULL) {
        *oom = 1;
        return rs_fail(&a->err, RS_E_NOMEM, "cannot apply '%.*s': out of memory",
                       (int)argv[0].len, argv[0].ptr);
    }
    for (int j = from; j < argc; j++) {
        if (parse_id(&argv[j], 1, &ids[j - from], NULL) != 0) {
            free(ids);
            return ap_refuse(a, argv, "Invalid stream ID specified as stream command argument");
        }
    }
    *out = ids;
    return 0;
}

/*
 * Delete ids[0..n-1] from stream 'sk' (XDEL, XDELEX, XACKDEL): the
 * stream stays, even when it ends empty; its length, first id and max
 * deleted id follow, as in xdelCommand.
 */
static int delete_ids(struct applier *a, const struct sink_key *sk, struct rs_stream_meta *m,
                      const struct rs_stream_id *ids, int n, enum ref_mode mode)
{
    const struct sink_ops *o = a->sink->ops;
    uint64_t deleted = 0;
    int first_entry = 0;

    for (int j = 0; j < n; j++) {
        int gone, refs;

        if (mode == REF_ACKED) {
            if (o->stream_referenced(a->sink, sk->id, &ids[j], &refs) != 0)
                return -1;
            if (refs)
                continue;
        } else if (mode == REF_DEL &&
                   o->stream_pel_del_all(a->sink, sk->id, &ids[j], &refs) != 0) {
            return -1;
        }
        if (o->stream_delete(a->sink, sk->id, &ids[j], &gone) != 0)
            return -1;
        if (!gone)
            continue;
        if (id_cmp(&ids[j], &m->first_id) == 0)
            first_entry = 1;
        if (id_cmp(&ids[j], &m->max_deleted_id) > 0)
            m->max_deleted_id = ids[j];
        deleted++;
    }
    if (deleted == 0)
        return 0;
    m->length -= deleted < m->length ? deleted : m->length;
    if ((m->length == 0 || first_entry) && refresh_first_id(a, sk->id, m) != 0)
        return -1;
    return o->stream_meta_set(a->sink, sk->id, m);
}

/* XDEL key id [id ...] */
static int apply_xdel(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct rs_stream_meta m;
    struct rs_stream_id *ids;
    struct sink_key sk;
    int skip, missing, oom, rc;

    if (stream_open(a, argv, &argv[1], &sk, &m, &skip, &missing) != 0)
        return -1;
    if (skip)
        return 0;
    if (parse_ids(a, argc, argv, 2, &ids, &oom) != 0)
        return oom ? -1 : 0;
    rc = delete_ids(a, &sk, &m, ids, argc - 2, REF_KEEP);
    free(ids);
    return rc;
}

/*
 * "[KEEPREF|DELREF|ACKED] IDS numids id ..." from argv[at]: the mode, and
 * the index of the first id (-1 after logging). numids must match.
 */
static int ref_ids_arg(struct applier *a, int argc, const struct rs_bytes *argv, int at,
                       enum ref_mode *mode)
{
    long long n;

    *mode = REF_KEEP;
    if (at < argc && (ap_arg_is(&argv[at], "keepref") || ap_arg_is(&argv[at], "delref") ||
                      ap_arg_is(&argv[at], "acked"))) {
        *mode = ap_arg_is(&argv[at], "keepref") ? REF_KEEP :
                ap_arg_is(&argv[at], "delref") ? REF_DEL : REF_ACKED;
        at++;
    }
    if (at + 1 >= argc || !ap_arg_is(&argv[at], "ids"))
        return ap_refuse(a, argv, "syntax error");
    if (ap_parse_ll(a, &argv[at + 1], &n) != 0 || n < 1 || n != argc - at - 2)
        return ap_refuse(a, argv, "The `numids` parameter must match the number of arguments");
    return at + 2;
}

/* XDELEX key [KEEPREF|DELREF|ACKED] IDS numids id ... (Redis 8.2) */
static int apply_xdelex(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct rs_stream_meta m;
    struct rs_stream_id *ids;
    struct sink_key sk;
    enum ref_mode mode;
    int first, skip, missing, oom, rc;

    if ((first = ref_ids_arg(a, argc, argv, 2, &mode)) < 0)
        return 0;
    if (stream_open(a, argv, &argv[1], &sk, &m, &skip, &missing) != 0)
        return -1;
    if (skip)
        return 0;
    if (parse_ids(a, argc, argv, first, &ids, &oom) != 0)
        return oom ? -1 : 0;
    rc = delete_ids(a, &sk, &m, ids, argc - first, mode);
    free(ids);
    return rc;
}

/* XACKDEL key group [KEEPREF|DELREF|ACKED] IDS numids id ... (Redis 8.2):
 * XACK in the group, then XDELEX. */
static int apply_xackdel(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct rs_stream_meta m;
    struct rs_stream_id last, *ids;
    struct sink_key sk;
    enum ref_mode mode;
    int64_t er;
    int first, skip, missing, found, oom, rc = 0;

    if ((first = ref_ids_arg(a, argc, argv, 3, &mode)) < 0)
        return 0;
    if (stream_open(a, argv, &argv[1], &sk, &m, &skip, &missing) != 0)
        return -1;
    if (skip)
        return 0;
    if (a->sink->ops->stream_group_get(a->sink, sk.id, &argv[2], &last, &er, &found) != 0)
        return -1;
    if (!found)
        return ap_reject(a, argv, "NOGROUP No such key or consumer group");
    if (parse_ids(a, argc, argv, first, &ids, &oom) != 0)
        return oom ? -1 : 0;
    for (int j = 0; j < argc - first && rc == 0; j++) {
        int gone;

        rc = a->sink->ops->stream_pel_del(a->sink, sk.id, &argv[2], &ids[j], &gone);
    }
    if (rc == 0)
        rc = delete_ids(a, &sk, &m, ids, argc - first, mode);
    free(ids);
    return rc;
}

/* XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id] */
static int apply_xsetid(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct rs_stream_id id, maxdel = { 0, 0 };
    struct rs_stream_meta m;
    struct sink_key sk;
    long long added = -1;
    int skip, missing;

    if (parse_id(&argv[2], 1, &id, NULL) != 0)
        return ap_reject(a, argv, "Invalid stream ID specified as stream command argument");
    for (int i = 3; i < argc; i += 2) {
        if (ap_arg_is(&argv[i], "entriesadded") && i + 1 < argc) {
            if (ap_parse_ll(a, &argv[i + 1], &added) != 0)
                return ap_reject(a, argv, "value is not an integer or out of range");
            if (added < 0)
                return ap_reject(a, argv, "entries_added must be positive");
        } else if (ap_arg_is(&argv[i], "maxdeletedid") && i + 1 < argc) {
            if (parse_id(&argv[i + 1], 1, &maxdel, NULL) != 0)
                return ap_reject(a, argv, "Invalid stream ID specified as stream command argument");
            if (id_cmp(&id, &maxdel) < 0)
                return ap_reject(a, argv, "The ID specified in XSETID is smaller than the "
                                       "provided max_deleted_entry_id");
        } else {
            return ap_reject(a, argv, "syntax error");
        }
    }
    if (stream_open(a, argv, &argv[1], &sk, &m, &skip, &missing) != 0)
        return -1;
    if (missing)
        return ap_reject(a, argv, "no such key");
    if (skip)
        return 0;
    if (m.length > 0) {
        /* the newest entry must not be above 'id': look for one after it */
        struct rs_stream_id next = id;
        struct probe p = { 0, { 0, 0 } };

        if (id_cmp(&id, &m.last_id) < 0) {
            if (++next.seq == 0)
                next.ms++;
            if (entry_probe(a, sk.id, &m, &next, &p) != 0)
                return -1;
        }
        if (p.any)
            return ap_reject(a, argv, "The ID specified in XSETID is smaller than the target "
                                   "stream top item");
        if (added != -1 && m.length > (uint64_t)added)
            return ap_reject(a, argv, "The entries_added specified in XSETID is smaller than "
                                   "the target stream length");
    }
    m.last_id = id;
    if (added != -1)
        m.entries_added = (uint64_t)added;
    if (!id_is_zero(&maxdel))
        m.max_deleted_id = maxdel;
    return a->sink->ops->stream_meta_set(a->sink, sk.id, &m);
}

/* ------------------------------------------------------------------ */
/* Consumer groups                                                    */
/* ------------------------------------------------------------------ */

/*
 * Redis' streamRangeHasTombstones(s, start, NULL): an XDEL'd id may lie
 * at or after 'start'.
 */
static int has_tombstones_from(const struct rs_stream_meta *m, const struct rs_stream_id *start)
{
    if (m->length == 0 || id_is_zero(&m->max_deleted_id))
        return 0;
    if (id_cmp(&m->first_id, &m->max_deleted_id) > 0)
        return 0;
    return id_cmp(start, &m->max_deleted_id) <= 0;
}

/* Redis' streamEstimateDistanceFromFirstEverEntry: the logical read
 * counter of 'id', or -1 when it cannot be known. */
static int64_t estimate_entries_read(const struct rs_stream_meta *m, const struct rs_stream_id *id)
{
    int cmp_last;

    if (m->entries_added == 0)
        return 0;
    if (m->length == 0 && id_cmp(id, &m->last_id) <= 0)
        return (int64_t)m->entries_added;
    cmp_last = id_cmp(id, &m->last_id);
    if (cmp_last == 0)
        return (int64_t)m->entries_added;
    if (cmp_last > 0)
        return -1;
    if (id_is_zero(&m->max_deleted_id) || id_cmp(&m->max_deleted_id, &m->first_id) < 0) {
        int cmp_first = id_cmp(id, &m->first_id);

        if (cmp_first < 0)
            return (int64_t)(m->entries_added - m->length);
        if (cmp_first == 0)
            return (int64_t)(m->entries_added - m->length + 1);
    }
    return -1;
}

/*
 * The group's read counter after the master delivered entry 'id' (above
 * the group's last id) with XREADGROUP ">" (streamReplyWithRange): one
 * more while the counter is valid and no tombstone lies ahead, else
 * estimated again.
 */
static int64_t entries_read_after(const struct rs_stream_meta *m, int64_t entries_read,
                                  const struct rs_stream_id *id)
{
    if (entries_read != -1 && !has_tombstones_from(m, id))
        return entries_read + 1;
    if (m->entries_added)
        return estimate_entries_read(m, id);
    return entries_read;
}

/* XGROUP's options from argv[5] on: MKSTREAM (CREATE), ENTRIESREAD n. */
static int xgroup_options(struct applier *a, int argc, const struct rs_bytes *argv, int create,
                          int setid, int *mkstream, long long *entries_read)
{
    *mkstream = 0;
    *entries_read = -1;
    for (int i = 5; i < argc;) {
        if (create && ap_arg_is(&argv[i], "mkstream")) {
            *mkstream = 1;
            i++;
        } else if ((create || setid) && ap_arg_is(&argv[i], "entriesread") && i + 1 < argc) {
            if (ap_parse_ll(a, &argv[i + 1], entries_read) != 0)
                return ap_refuse(a, argv + 1, "value is not an integer or out of range");
            if (*entries_read < 0 && *entries_read != -1)
                return ap_refuse(a, argv + 1, "value for ENTRIESREAD must be positive or -1");
            i += 2;
        } else {
            return ap_refuse(a, argv + 1, "unknown subcommand or wrong number of arguments");
        }
    }
    return 0;
}

/* XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n] */
static int xgroup_create(struct applier *a, int argc, const struct rs_bytes *argv,
                         struct sink_key *sk, struct rs_stream_meta *m, int missing,
                         long long entries_read)
{
    const struct sink_ops *o = a->sink->ops;
    struct rs_stream_id id, last;
    int64_t er;
    int found;

    if (argc < 5 || argc > 8)
        return ap_reject(a, argv + 1, "unknown subcommand or wrong number of arguments");
    if (argv[4].len == 1 && argv[4].ptr[0] == '$') {
        id = m->last_id;                       /* 0-0 for a new stream */
    } else if (parse_id(&argv[4], 1, &id, NULL) != 0) {
        return ap_reject(a, argv + 1, "Invalid stream ID specified as stream command argument");
    }
    if (missing) {
        memset(m, 0, sizeof(*m));
        m->has_v2 = 1;
        if (o->key_create(a->sink, a->db, &argv[2], RS_T_STREAM, RS_NO_EXPIRE, NULL,
                          &sk->id) != 0 ||
            o->stream_meta_set(a->sink, sk->id, m) != 0)
            return -1;
    } else {
        if (o->stream_group_get(a->sink, sk->id, &argv[3], &last, &er, &found) != 0)
            return -1;
        if (found)
            return ap_reject(a, argv + 1, "BUSYGROUP Consumer Group name already exists");
    }
    return o->stream_group_set(a->sink, sk->id, &argv[3], &id, entries_read);
}

/*
 * XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER key group ...
 * (xgroupCommand). Consumer times: a consumer XGROUP creates was seen
 * now (the stream does not carry the master's clock) and never active.
 */
static int apply_xgroup(struct applier *a, int argc, const struct rs_bytes *argv)
{
    const struct sink_ops *o = a->sink->ops;
    const struct rs_bytes *sub = &argv[1];
    struct rs_stream_meta m;
    struct rs_stream_id last, id;
    struct sink_key sk;
    long long entries_read;
    int64_t er, dropped;
    int mkstream, skip, missing, found = 0, gone;

    if (argc < 4)
        return 0;                              /* HELP, or refused */
    if (xgroup_options(a, argc, argv, ap_arg_is(sub, "create"), ap_arg_is(sub, "setid"),
                       &mkstream, &entries_read) != 0)
        return 0;
    if (stream_open(a, argv + 1, &argv[2], &sk, &m, &skip, &missing) != 0)
        return -1;
    if (skip && !(missing && mkstream))
        return missing ? ap_reject(a, argv + 1, "The XGROUP subcommand requires the key to "
                                   "exist") : 0;
    if (!missing && o->stream_group_get(a->sink, sk.id, &argv[3], &last, &er, &found) != 0)
        return -1;
    if (!found && !mkstream && (ap_arg_is(sub, "setid") || ap_arg_is(sub, "createconsumer") ||
                                ap_arg_is(sub, "delconsumer")))
        return ap_reject(a, argv + 1, "NOGROUP No such consumer group");

    if (ap_arg_is(sub, "create"))
        return xgroup_create(a, argc, argv, &sk, &m, missing, entries_read);
    if (ap_arg_is(sub, "setid") && (argc == 5 || argc == 7)) {
        if (argv[4].len == 1 && argv[4].ptr[0] == '$')
            id = m.last_id;
        else if (parse_id(&argv[4], 0, &id, NULL) != 0)
            return ap_reject(a, argv + 1, "Invalid stream ID specified as stream command "
                             "argument");
        return o->stream_group_set(a->sink, sk.id, &argv[3], &id, entries_read);
    }
    if (ap_arg_is(sub, "destroy") && argc == 4)
        return found ? o->stream_group_del(a->sink, sk.id, &argv[3], &gone) : 0;
    if (ap_arg_is(sub, "createconsumer") && argc == 5) {
        /* a master propagates this only for a consumer it just created */
        return o->stream_consumer_set(a->sink, sk.id, &argv[3], &argv[4], rs_now_ms(), -1, NULL);
    }
    if (ap_arg_is(sub, "delconsumer") && argc == 5)
        return o->stream_consumer_del(a->sink, sk.id, &argv[3], &argv[4], &dropped);
    return ap_reject(a, argv + 1, "unknown subcommand or wrong number of arguments");
}

/* XACK key group id [id ...] */
static int apply_xack(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct rs_stream_meta m;
    struct rs_stream_id *ids;
    struct sink_key sk;
    int found, wrongtype, oom, rc = 0;

    if ((found = group_open(a, argv, &sk, &m, &wrongtype)) <= 0)
        return found;
    if (parse_ids(a, argc, argv, 3, &ids, &oom) != 0)
        return oom ? -1 : 0;
    for (int j = 0; j < argc - 3 && rc == 0; j++) {
        int gone;

        rc = a->sink->ops->stream_pel_del(a->sink, sk.id, &argv[2], &ids[j], &gone);
    }
    free(ids);
    return rc;
}

/* XCLAIM's arguments after the ids. */
struct xclaim_args {
    long long minidle, retrycount;
    int64_t deliverytime;          /* -1: not given */
    int force, justid;
    struct rs_stream_id lastid;
    int nids;                      /* ids at argv[5 .. 5 + nids - 1] */
};

/* Parse XCLAIM as xclaimCommand does: ids until the first non-id, then
 * options. 0, or -1 after logging. */
static int xclaim_parse(struct applier *a, int argc, const struct rs_bytes *argv,
                        struct rs_stream_id *ids, struct xclaim_args *x)
{
    int64_t now = rs_now_ms();
    int j;

    memset(x, 0, sizeof(*x));
    x->retrycount = -1;
    x->deliverytime = -1;
    if (ap_parse_ll(a, &argv[4], &x->minidle) != 0)
        return ap_refuse(a, argv, "Invalid min-idle-time argument for XCLAIM");
    if (x->minidle < 0)
        x->minidle = 0;
    for (j = 5; j < argc && parse_id(&argv[j], 1, &ids[j - 5], NULL) == 0; j++)
        ;
    x->nids = j - 5;
    for (; j < argc; j++) {
        int more = argc - 1 - j;
        long long v;

        if (ap_arg_is(&argv[j], "force")) {
            x->force = 1;
        } else if (ap_arg_is(&argv[j], "justid")) {
            x->justid = 1;
        } else if ((ap_arg_is(&argv[j], "idle") || ap_arg_is(&argv[j], "time") ||
                    ap_arg_is(&argv[j], "retrycount")) && more) {
            if (ap_parse_ll(a, &argv[j + 1], &v) != 0)
                return ap_refuse(a, argv, "Invalid XCLAIM option argument");
            if (ap_arg_is(&argv[j], "idle"))
                x->deliverytime = now - v;
            else if (ap_arg_is(&argv[j], "time"))
                x->deliverytime = v;
            else
                x->retrycount = v;
            j++;
        } else if (ap_arg_is(&argv[j], "lastid") && more) {
            if (parse_id(&argv[++j], 1, &x->lastid, NULL) != 0)
                return ap_refuse(a, argv, "Invalid stream ID specified as stream command argument");
        } else {
            return ap_refuse(a, argv, "Unrecognized XCLAIM option");
        }
    }
    /* Redis takes a bogus (negative) time as now; a time after our clock
     * is the master's clock and is kept, so the mirror shows its value */
    if (x->deliverytime < 0)
        x->deliverytime = now;
    return 0;
}

/*
 * LASTID above the group's last id moves it. The canonical XCLAIM of an
 * XREADGROUP ">" delivery carries the delivered id as LASTID (the group's
 * last id right after it): then the group's read counter moves as it did
 * on the master, which the XCLAIM does not carry. Newer masters (the
 * t_stream.c with Redis 8.4's CLAIM) send the group's last id from before
 * the read instead, and move it with the XGROUP SETID ... ENTRIESREAD that
 * follows the XCLAIMs.
 */
static int xclaim_move_group(struct applier *a, int64_t kid, const struct rs_bytes *group,
                             const struct rs_stream_meta *m, const struct xclaim_args *x,
                             const struct rs_stream_id *ids)
{
    struct rs_stream_id last;
    int64_t er;
    int found, delivered = 0;

    if (a->sink->ops->stream_group_get(a->sink, kid, group, &last, &er, &found) != 0)
        return -1;
    if (id_cmp(&x->lastid, &last) <= 0)
        return 0;
    for (int j = 0; j < x->nids; j++)
        if (id_cmp(&ids[j], &x->lastid) == 0)
            delivered = 1;
    if (delivered)
        er = entries_read_after(m, er, &x->lastid);
    return a->sink->ops->stream_group_set(a->sink, kid, group, &x->lastid, er);
}

/*
 * XCLAIM key group consumer min-idle id... [IDLE ms] [TIME ms]
 * [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id] (xclaimCommand). A master
 * only sends the canonical form (min-idle 0, TIME, RETRYCOUNT, FORCE,
 * JUSTID, LASTID), for XCLAIM, XAUTOCLAIM and XREADGROUP (8.4's CLAIM
 * option included: one per entry it claims, the count one more, saturated
 * at LLONG_MAX): forms that need the entry's old delivery time or count
 * are refused. A claimed id whose entry is gone drops its PEL entry
 * (XAUTOCLAIM's cleanup; an unowned one, XNACK's, comes as XACK).
 */
static int apply_xclaim(struct applier *a, int argc, const struct rs_bytes *argv)
{
    const struct sink_ops *o = a->sink->ops;
    struct rs_stream_meta m;
    struct rs_stream_id *ids;
    struct xclaim_args x;
    struct sink_key sk;
    int found, wrongtype, have_consumer = 0, rc = -1;

    if ((found = group_open(a, argv, &sk, &m, &wrongtype)) < 0)
        return -1;
    if (!found)
        return wrongtype ? 0 : ap_reject(a, argv, "NOGROUP No such key or consumer group");
    if ((ids = malloc(sizeof(*ids) * (size_t)(argc - 4))) == NULL)
        return rs_fail(&a->err, RS_E_NOMEM, "cannot apply 'xclaim': out of memory");
    if (xclaim_parse(a, argc, argv, ids, &x) != 0) {
        rc = 0;
        goto out;
    }
    if (x.minidle > 0 || x.retrycount < 0) {
        rc = ap_reject(a, argv, "XCLAIM without RETRYCOUNT or with a min-idle-time is not "
                                "supported (a master never propagates it)");
        goto out;
    }
    if (xclaim_move_group(a, sk.id, &argv[2], &m, &x, ids) != 0)
        goto out;
    for (int j = 0; j < x.nids; j++) {
        int exists, had;

        if (entry_exists(a, sk.id, &m, &ids[j], &exists) != 0)
            goto out;
        if (!exists || !x.force) {
            /* gone: drop its PEL entry; no FORCE: claim only a pending one */
            if (o->stream_pel_del(a->sink, sk.id, &argv[2], &ids[j], &had) != 0)
                goto out;
            if (!exists || !had)
                continue;
        }
        if (!have_consumer) {
            /* the master saw the consumer when it delivered or claimed */
            if (o->stream_consumer_set(a->sink, sk.id, &argv[2], &argv[3], x.deliverytime,
                                       x.deliverytime, NULL) != 0)
                goto out;
            have_consumer = 1;
        }
        if (o->stream_pel_set(a->sink, sk.id, &argv[2], &ids[j], &argv[3], x.deliverytime,
                              x.retrycount) != 0)
            goto out;
    }
    rc = 0;
out:
    free(ids);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Redis 8.6: the idempotent producers' settings and records          */
/* ------------------------------------------------------------------ */

/*
 * XCFGSET key [IDMP-DURATION s] [IDMP-MAXSIZE n] (xcfgsetCommand, Redis
 * 8.6; propagated verbatim when a setting changed). It sets how long and
 * how many idempotent ids the master remembers, and forgets them: state
 * that decides duplicates on the master only (see apply_xadd), and that
 * the mirror does not keep. Checked as Redis checks it, nothing applied.
 */
static int apply_xcfgset(struct applier *a, int argc, const struct rs_bytes *argv)
{
    long long v, set[2] = { -1, -1 };
    static const long long top[2] = { 86400, 10000 };
    static const char *const range[2] = {
        "IDMP-DURATION must be between 1 and 86400 seconds",
        "IDMP-MAXSIZE must be between 1 and 10000 entries"
    };
    struct rs_stream_meta m;
    struct sink_key sk;
    int skip, missing;

    if (stream_open(a, argv, &argv[1], &sk, &m, &skip, &missing) != 0)
        return -1;
    if (skip)
        return missing ? ap_reject(a, argv, "no such key") : 0;
    for (int i = 2; i < argc; i += 2) {
        int k = ap_arg_is(&argv[i], "idmp-maxsize");

        if ((!k && !ap_arg_is(&argv[i], "idmp-duration")) || i + 1 >= argc)
            return ap_reject(a, argv, "syntax error");
        if (set[k] != -1)
            return ap_reject(a, argv, k ? "IDMP-MAXSIZE specified multiple times"
                                        : "IDMP-DURATION specified multiple times");
        if (ap_parse_ll(a, &argv[i + 1], &v) != 0)
            return ap_reject(a, argv, "value is not an integer or out of range");
        if (v < 1 || v > top[k])
            return ap_reject(a, argv, range[k]);
        set[k] = v;
    }
    if (set[0] == -1 && set[1] == -1)
        return ap_reject(a, argv, "At least one parameter must be specified");
    return 0;
}

/*
 * XIDMPRECORD key pid iid id (xidmprecordCommand, Redis 8.6.2, internal):
 * records that producer 'pid' added entry 'id' as 'iid'. Producer state
 * only (see XCFGSET): checked as Redis checks it, nothing applied.
 */
static int apply_xidmprecord(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct rs_stream_meta m;
    struct rs_stream_id id;
    struct sink_key sk;
    int skip, missing, exists;

    (void)argc;
    if (parse_id(&argv[4], 1, &id, NULL) != 0)
        return ap_reject(a, argv, "Invalid stream ID specified as stream command argument");
    if (argv[2].len == 0 || argv[3].len == 0)
        return ap_reject(a, argv, argv[2].len ? "idempotent ID must be non-empty"
                                              : "producer ID must be non-empty");
    if (stream_open(a, argv, &argv[1], &sk, &m, &skip, &missing) != 0)
        return -1;
    if (skip)
        return missing ? ap_reject(a, argv, "no such key") : 0;
    if (entry_exists(a, sk.id, &m, &id, &exists) != 0)
        return -1;
    return exists ? 0 : ap_reject(a, argv, "No such message in stream");
}

/* ------------------------------------------------------------------ */
/* Redis 8.8: XNACK                                                   */
/* ------------------------------------------------------------------ */

enum { XNACK_SILENT, XNACK_FAIL, XNACK_FATAL };

struct xnack_args {
    int mode;                      /* XNACK_* */
    int force;
    long long retrycount;          /* -1: not given */
    int first, n;                  /* the ids: argv[first .. first + n - 1] */
};

/* XNACK's arguments from argv[3], as xnackCommand reads them (a second
 * IDS replaces the first). 0, or -1 after logging. */
static int xnack_parse(struct applier *a, int argc, const struct rs_bytes *argv,
                       struct xnack_args *x)
{
    long long v;

    memset(x, 0, sizeof(*x));
    x->retrycount = -1;
    if (ap_arg_is(&argv[3], "silent"))
        x->mode = XNACK_SILENT;
    else if (ap_arg_is(&argv[3], "fail"))
        x->mode = XNACK_FAIL;
    else if (ap_arg_is(&argv[3], "fatal"))
        x->mode = XNACK_FATAL;
    else
        return ap_refuse(a, argv, "mode must be SILENT, FAIL, or FATAL");
    for (int i = 4; i < argc; i++) {
        int more = argc - 1 - i;

        if (ap_arg_is(&argv[i], "ids") && more) {
            if (ap_parse_ll(a, &argv[i + 1], &v) != 0 || v < 1 || v > INT_MAX)
                return ap_refuse(a, argv, "numids must be a positive integer");
            if (v > argc - (i + 2))
                return ap_refuse(a, argv, "number of IDs doesn't match numids");
            x->first = i + 2;
            x->n = (int)v;
            i = x->first + x->n - 1;
        } else if (ap_arg_is(&argv[i], "force")) {
            x->force = 1;
        } else if (ap_arg_is(&argv[i], "retrycount") && more) {
            if (ap_parse_ll(a, &argv[++i], &v) != 0)
                return ap_refuse(a, argv, "value is not an integer or out of range");
            if (v < 0)
                return ap_refuse(a, argv, "Invalid RETRYCOUNT value, must be >= 0");
            x->retrycount = v;
        } else {
            return ap_refuse(a, argv, "Unrecognized XNACK option");
        }
    }
    return x->first ? 0 : ap_refuse(a, argv, "syntax error, expected IDS keyword");
}

/* The delivery count an XNACK'd entry gets (nackSetDeliveryCount). */
static int64_t xnack_count(const struct xnack_args *x, int64_t count)
{
    if (x->retrycount >= 0)
        return x->retrycount;
    if (x->mode == XNACK_SILENT)
        return count > 0 ? count - 1 : 0;
    return x->mode == XNACK_FATAL ? LLONG_MAX : count;
}

/* XNACK one id of 'group': a pending entry, or with FORCE a new one when
 * the stream has the entry (counted from 0); else nothing. */
static int xnack_one(struct applier *a, int64_t kid, const struct rs_bytes *group,
                     const struct rs_stream_meta *m, const struct rs_stream_id *id,
                     const struct xnack_args *x)
{
    const struct sink_ops *o = a->sink->ops;
    int64_t time, count;
    int found, exists;

    if (o->stream_pel_get(a->sink, kid, group, id, &time, &count, &found) != 0)
        return -1;
    if (!found) {
        if (!x->force)
            return 0;
        if (entry_exists(a, kid, m, id, &exists) != 0)
            return -1;
        if (!exists)
            return 0;
        count = 0;
    }
    return o->stream_pel_set(a->sink, kid, group, id, NULL, 0, xnack_count(x, count));
}

/*
 * XNACK key group SILENT|FAIL|FATAL IDS numids id ... [RETRYCOUNT n]
 * [FORCE] (xnackCommand, Redis 8.8; propagated verbatim when it released
 * an entry). Each pending id goes back to the group: no owner (consumer
 * NULL, so no consumer's PEL has it), delivery time 0 (the master puts it
 * at the head of its time list, first to be claimed again), and the
 * delivery count RETRYCOUNT sets, else one less (SILENT, not below 0),
 * the same (FAIL) or LLONG_MAX (FATAL). The consumers are not touched.
 */
static int apply_xnack(struct applier *a, int argc, const struct rs_bytes *argv)
{
    struct xnack_args x;
    struct rs_stream_meta m;
    struct rs_stream_id *ids;
    struct sink_key sk;
    int found, wrongtype, oom, rc = 0;

    if ((found = group_open(a, argv, &sk, &m, &wrongtype)) < 0)
        return -1;
    if (!found)
        return wrongtype ? 0 : ap_reject(a, argv, "NOGROUP No such key or consumer group");
    if (xnack_parse(a, argc, argv, &x) != 0)
        return 0;
    if (parse_ids(a, x.first + x.n, argv, x.first, &ids, &oom) != 0)
        return oom ? -1 : 0;
    for (int j = 0; j < x.n && rc == 0; j++)
        rc = xnack_one(a, sk.id, &argv[2], &m, &ids[j], &x);
    free(ids);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_stream_table[] = {
    { "xadd",      apply_xadd,       -5,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "xtrim",     apply_xtrim,      -4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "xdel",      apply_xdel,       -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "xdelex",    apply_xdelex,     -5,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "xackdel",   apply_xackdel,    -6,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "xsetid",    apply_xsetid,     -3,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "xgroup",    apply_xgroup,     -2,  CMD_WRITE, { 2, 2, 1, KU_FIRST } },
    { "xack",      apply_xack,       -4,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "xclaim",    apply_xclaim,     -6,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "xnack",     apply_xnack,      -7,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "xcfgset",   apply_xcfgset,    -2,  CMD_WRITE, { 1, 1, 1, KU_FIRST } },
    { "xidmprecord", apply_xidmprecord, 5, CMD_WRITE, { 1, 1, 1, KU_FIRST } },
};
const size_t cmd_stream_count = CMD_COUNT(cmd_stream_table);
