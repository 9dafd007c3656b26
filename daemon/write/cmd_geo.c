/*
 * cmd_geo.c - the geo searches that store: GEORADIUS/GEORADIUSBYMEMBER
 * ... STORE|STOREDIST and GEOSEARCHSTORE (GEOADD arrives as zadd, and the
 * searches that only read never reach a replica).
 *
 * Each follows Redis 7 geo.c (georadiusGeneric): the arguments are
 * checked in Redis' order, and a command Redis would refuse changes
 * nothing. geo.c holds the geohash arithmetic; the result is built in a
 * struct zmap (cmd_zset.h) and then replaces the destination. Start at
 * the table at the end.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apply_int.h"
#include "cmd_zset.h"
#include "geo.h"

#define GEO_RADIUS_COORDS 1     /* GEORADIUS key lon lat radius unit ... */
#define GEO_RADIUS_MEMBER 2     /* GEORADIUSBYMEMBER key member radius unit ... */
#define GEO_SEARCHSTORE   4     /* GEOSEARCHSTORE dst src ... */

/* A parsed geo search. */
struct geo_req {
    struct geo_shape shape;
    const struct rs_bytes *store;
    int storedist, sort, any;    /* sort: 0 none, 1 asc, -1 desc */
    long long count;
};

/* "number unit" as extractDistanceOrReply / extractUnitOrReply read it. */
static int geo_unit(const struct rs_bytes *u, double *conv)
{
    if (ap_arg_is(u, "m")) *conv = 1;
    else if (ap_arg_is(u, "km")) *conv = 1000;
    else if (ap_arg_is(u, "ft")) *conv = 0.3048;
    else if (ap_arg_is(u, "mi")) *conv = 1609.34;
    else return -1;
    return 0;
}

static int geo_distance_arg(struct applier *a, const struct rs_bytes *argv,
                            const struct rs_bytes *v, struct geo_shape *s)
{
    if (ap_parse_double(&v[0], &s->radius) != 0)
        return ap_refuse(a, argv, "need numeric radius");
    if (s->radius < 0)
        return ap_refuse(a, argv, "radius cannot be negative");
    if (geo_unit(&v[1], &s->conv) != 0)
        return ap_refuse(a, argv, "unsupported unit provided");
    s->box = 0;
    return 0;
}

static int geo_box_arg(struct applier *a, const struct rs_bytes *argv, const struct rs_bytes *v,
                       struct geo_shape *s)
{
    if (ap_parse_double(&v[0], &s->width) != 0 || ap_parse_double(&v[1], &s->height) != 0)
        return ap_refuse(a, argv, "need numeric width or height");
    if (s->height < 0 || s->width < 0)
        return ap_refuse(a, argv, "height or width cannot be negative");
    if (geo_unit(&v[2], &s->conv) != 0)
        return ap_refuse(a, argv, "unsupported unit provided");
    s->box = 1;
    return 0;
}

static int geo_lonlat_arg(struct applier *a, const struct rs_bytes *argv,
                          const struct rs_bytes *v, struct geo_shape *s)
{
    if (ap_parse_double(&v[0], &s->lon) != 0 || ap_parse_double(&v[1], &s->lat) != 0)
        return ap_refuse(a, argv, "value is not a valid float");
    if (!geo_valid(s->lon, s->lat))
        return ap_refuse(a, argv, "invalid longitude,latitude pair");
    return 0;
}

/* The centre is member m of the source 'zid'. */
static int geo_member_arg(struct applier *a, const struct rs_bytes *argv, int64_t zid,
                          const struct rs_bytes *m, struct geo_shape *s, int *bad)
{
    double score, xy[2];
    int found;

    *bad = 0;
    if (a->sink->ops->zset_score(a->sink, zid, m, &found, &score) != 0)
        return -1;
    if (!found) {
        *bad = 1;
        return ap_reject(a, argv, "could not decode requested zset member");
    }
    geo_decode(score, xy);
    s->lon = xy[0];
    s->lat = xy[1];
    return 0;
}

/* The options loop of georadiusGeneric. 0 with *bad = 0 when the command
 * goes on; -1 when the sink failed. */
static int geo_options(struct applier *a, int argc, const struct rs_bytes *argv, int base,
                       int flags, int64_t zid, struct geo_req *q, int *bad)
{
    int frommember = 0, fromloc = 0, byradius = 0, bybox = 0, with = 0;
    int search = flags & GEO_SEARCHSTORE;

    *bad = 1;
    for (int i = base; i < argc; i++) {
        int left = argc - i - 1;             /* arguments after this one */
        const struct rs_bytes *v = &argv[i + 1];

        if (ap_arg_is(&argv[i], "withdist") || ap_arg_is(&argv[i], "withhash") ||
            ap_arg_is(&argv[i], "withcoord")) {
            with = 1;
        } else if (ap_arg_is(&argv[i], "any")) {
            q->any = 1;
        } else if (ap_arg_is(&argv[i], "asc")) {
            q->sort = 1;
        } else if (ap_arg_is(&argv[i], "desc")) {
            q->sort = -1;
        } else if (ap_arg_is(&argv[i], "count") && left >= 1) {
            if (ap_parse_ll(a, v, &q->count) != 0)
                return ap_reject(a, argv, "value is not an integer or out of range");
            if (q->count <= 0)
                return ap_reject(a, argv, "COUNT must be > 0");
            i++;
        } else if (!search && left >= 1 &&
                   (ap_arg_is(&argv[i], "store") || ap_arg_is(&argv[i], "storedist"))) {
            q->store = v;
            q->storedist = ap_arg_is(&argv[i], "storedist");
            i++;
        } else if (search && ap_arg_is(&argv[i], "storedist")) {
            q->storedist = 1;
        } else if (search && !fromloc && left >= 1 && ap_arg_is(&argv[i], "frommember")) {
            int missing;

            if (zid >= 0 && geo_member_arg(a, argv, zid, v, &q->shape, &missing) != 0)
                return -1;
            if (zid >= 0 && missing)
                return 0;
            frommember = 1;
            i++;
        } else if (search && !frommember && left >= 2 && ap_arg_is(&argv[i], "fromlonlat")) {
            if (geo_lonlat_arg(a, argv, v, &q->shape) != 0)
                return 0;
            fromloc = 1;
            i += 2;
        } else if (search && !bybox && left >= 2 && ap_arg_is(&argv[i], "byradius")) {
            if (geo_distance_arg(a, argv, v, &q->shape) != 0)
                return 0;
            byradius = 1;
            i += 2;
        } else if (search && !byradius && left >= 3 && ap_arg_is(&argv[i], "bybox")) {
            if (geo_box_arg(a, argv, v, &q->shape) != 0)
                return 0;
            bybox = 1;
            i += 3;
        } else {
            return ap_reject(a, argv, "syntax error");
        }
    }
    if (q->store && with)
        return ap_reject(a, argv, "STORE is not compatible with WITHDIST, WITHHASH and WITHCOORD");
    if (search && !(frommember || fromloc))
        return ap_reject(a, argv, "exactly one of FROMMEMBER or FROMLONLAT can be specified");
    if (search && !(byradius || bybox))
        return ap_reject(a, argv, "exactly one of BYRADIUS and BYBOX can be specified");
    if (q->any && !q->count)
        return ap_reject(a, argv, "the ANY argument requires COUNT argument");
    *bad = 0;
    return 0;
}

/* Collects the points of one window that pass the shape test. */
struct geo_collect {
    const struct geo_shape *shape;
    struct zmap *out;
    long long limit;             /* 0: all */
};

static int geo_collect_cb(void *ud, const struct rs_bytes *m, double score)
{
    struct geo_collect *g = ud;
    double dist;

    if (geo_within(g->shape, score, &dist))
        zmap_add(g->out, m, score, dist);
    if (g->out->oom)
        return 1;
    return g->limit && g->out->n > 0 && (long long)g->out->n >= g->limit;
}

/* Stable sort by distance (ascending, or descending with dir < 0): the
 * points found first stay first among equal distances. */
static void geo_sort(struct zmap *z, int dir)
{
    for (size_t i = 1; i < z->n; i++) {
        struct zelem t = z->e[i];
        size_t j = i;

        for (; j > 0 && (dir > 0 ? z->e[j - 1].dist > t.dist : z->e[j - 1].dist < t.dist); j--)
            z->e[j] = z->e[j - 1];
        z->e[j] = t;
    }
}

/* Run the search on source 'zid' and store what it finds. */
static int geo_search_store(struct applier *a, int64_t zid, struct geo_req *q)
{
    struct geo_window w[9];
    struct zmap out = { 0 };
    struct geo_collect g = { &q->shape, &out, q->any ? q->count : 0 };
    int nw = geo_windows(&q->shape, w), rc;

    for (int i = 0; i < nw; i++) {
        struct zset_range r = { 1, w[i].min, w[i].max, 0, 1, 0, 0, -1 };

        if (g.limit && out.n > 0 && (long long)out.n >= g.limit)
            break;
        if (a->sink->ops->zset_range(a->sink, zid, &r, geo_collect_cb, &g) != 0)
            goto fail;
        if (out.oom) {
            rs_fail(&a->err, RS_E_NOMEM, "out of memory in a geo search");
            goto fail;
        }
    }
    if (q->count && q->sort == 0 && !q->any)
        q->sort = 1;              /* COUNT alone means the nearest ones */
    if (q->sort)
        geo_sort(&out, q->sort);
    if (q->count && (long long)out.n > q->count) {
        for (size_t i = (size_t)q->count; i < out.n; i++)
            free(out.e[i].m);
        out.n = (size_t)q->count;  /* the index is stale now; store_result ignores it */
    }
    for (size_t i = 0; i < out.n; i++) {
        out.e[i].dist /= q->shape.conv;
        if (q->storedist)
            out.e[i].score = out.e[i].dist;
    }
    rc = zmap_store(a, q->store, &out);
    zmap_free(&out);
    return rc;
fail:
    zmap_free(&out);
    return -1;
}

static int geo_generic(struct applier *a, int argc, const struct rs_bytes *argv, int flags)
{
    const struct rs_bytes *src = &argv[flags & GEO_SEARCHSTORE ? 2 : 1];
    struct geo_req q;
    struct sink_key sk;
    int base, bad;

    memset(&q, 0, sizeof(q));
    q.shape.legacy = (ap_master_before(a, 60200) ? GEO_OLD_BOX : 0) |
                     (ap_master_before(a, 60207) ? GEO_OLD_STEP : 0) |
                     (ap_master_before(a, 70006) ? GEO_OLD_DIST : 0);
    if (ap_find_key(a, src, &sk) != 0)
        return -1;
    if (sk.type != RS_T_NONE && sk.type != RS_T_ZSET)
        return ap_wrongtype(a, argv);
    if (flags & GEO_RADIUS_COORDS) {
        base = 6;
        if (geo_lonlat_arg(a, argv, &argv[2], &q.shape) ||
            geo_distance_arg(a, argv, &argv[4], &q.shape))
            return 0;
    } else if (flags & GEO_RADIUS_MEMBER) {
        base = 5;
        if (sk.type != RS_T_NONE) {
            if (geo_member_arg(a, argv, sk.id, &argv[2], &q.shape, &bad) != 0)
                return -1;
            if (bad || geo_distance_arg(a, argv, &argv[3], &q.shape))
                return 0;
        }
    } else {
        base = 3;
        q.store = &argv[1];
    }
    if (geo_options(a, argc, argv, base, flags, sk.type == RS_T_NONE ? -1 : sk.id, &q, &bad))
        return -1;
    if (bad || q.store == NULL)
        return 0;                 /* refused, or a search that stores nothing */
    if (sk.type == RS_T_NONE) {
        struct zmap none = { 0 };

        return zmap_store(a, q.store, &none);
    }
    return geo_search_store(a, sk.id, &q);
}

static int apply_georadius(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return geo_generic(a, argc, argv, GEO_RADIUS_COORDS);
}

static int apply_georadiusbymember(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return geo_generic(a, argc, argv, GEO_RADIUS_MEMBER);
}

static int apply_geosearchstore(struct applier *a, int argc, const struct rs_bytes *argv)
{
    return geo_generic(a, argc, argv, GEO_SEARCHSTORE);
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_geo_table[] = {
    { "georadius",         apply_georadius,         -6, CMD_WRITE, { 1, 1, 1, KU_GEO_STORE } },
    { "georadiusbymember", apply_georadiusbymember, -5, CMD_WRITE, { 1, 1, 1, KU_GEO_STORE } },
    { "geosearchstore",    apply_geosearchstore,    -8, CMD_WRITE, { 1, 2, 1, KU_FIRST } },
};
const size_t cmd_geo_count = CMD_COUNT(cmd_geo_table);
