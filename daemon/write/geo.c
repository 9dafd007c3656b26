/*
 * geo.c - geohash arithmetic for the geo STORE commands (see geo.h).
 *
 * A score is a 52-bit geohash: 26 latitude bits interleaved with 26
 * longitude bits (latitude on the even bits). Searching walks the score
 * window of the box holding the centre at a precision chosen from the
 * radius, and of its eight neighbours, then keeps the points whose exact
 * distance passes the shape test. Every formula keeps Redis' operation
 * order so the doubles come out bit for bit the same.
 */
#include <math.h>

#include "geo.h"

#define STEP_MAX 26                       /* 26 * 2 = 52 bits */
#define D_R (M_PI / 180.0)
static const double EARTH_RADIUS = 6372797.560856;   /* metres */
static const double MERCATOR_MAX = 20037726.37;

/* A geohash of 2 * step bits; {0, 0} means "no box". */
struct ghash {
    uint64_t bits;
    int step;
};

struct garea {
    double lon_min, lon_max, lat_min, lat_max;
};

static double deg_rad(double d) { return d * D_R; }
static double rad_deg(double r) { return r / D_R; }

/* Spread the 32 bits of v onto the even bits of a 64-bit word. */
static uint64_t spread(uint32_t v)
{
    uint64_t x = v;

    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* The inverse of spread(): the even bits of x, packed. */
static uint32_t squeeze(uint64_t x)
{
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

int geo_valid(double lon, double lat)
{
    return !(lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX);
}

/* The box of 'step' holding lon/lat (the caller checked the limits). */
static struct ghash encode(double lon, double lat, int step)
{
    struct ghash h = { 0, step };
    double lat_off = (lat - GEO_LAT_MIN) / (GEO_LAT_MAX - GEO_LAT_MIN);
    double lon_off = (lon - GEO_LONG_MIN) / (GEO_LONG_MAX - GEO_LONG_MIN);

    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    h.bits = spread((uint32_t)lat_off) | (spread((uint32_t)lon_off) << 1);
    return h;
}

static struct garea area_of(struct ghash h)
{
    struct garea a;
    uint32_t ilat = squeeze(h.bits), ilon = squeeze(h.bits >> 1);
    double lat_scale = GEO_LAT_MAX - GEO_LAT_MIN, lon_scale = GEO_LONG_MAX - GEO_LONG_MIN;
    double cells = (double)(1ULL << h.step);

    a.lat_min = GEO_LAT_MIN + (ilat * 1.0 / cells) * lat_scale;
    a.lat_max = GEO_LAT_MIN + ((ilat + 1) * 1.0 / cells) * lat_scale;
    a.lon_min = GEO_LONG_MIN + (ilon * 1.0 / cells) * lon_scale;
    a.lon_max = GEO_LONG_MIN + ((ilon + 1) * 1.0 / cells) * lon_scale;
    return a;
}

void geo_decode(double score, double xy[2])
{
    struct ghash h = { (uint64_t)score, STEP_MAX };
    struct garea a = area_of(h);

    xy[0] = (a.lon_min + a.lon_max) / 2;
    if (xy[0] > GEO_LONG_MAX) xy[0] = GEO_LONG_MAX;
    if (xy[0] < GEO_LONG_MIN) xy[0] = GEO_LONG_MIN;
    xy[1] = (a.lat_min + a.lat_max) / 2;
    if (xy[1] > GEO_LAT_MAX) xy[1] = GEO_LAT_MAX;
    if (xy[1] < GEO_LAT_MIN) xy[1] = GEO_LAT_MIN;
}

/* Move a box by one cell in longitude (odd bits, dx) and latitude (even
 * bits, dy), wrapping around. */
static struct ghash move(struct ghash h, int dx, int dy)
{
    uint64_t lon = h.bits & 0xaaaaaaaaaaaaaaaaULL, lat = h.bits & 0x5555555555555555ULL;
    uint64_t lat_fill = 0x5555555555555555ULL >> (64 - h.step * 2);  /* the other lane */
    uint64_t lon_fill = 0xaaaaaaaaaaaaaaaaULL >> (64 - h.step * 2);

    /* filling the other lane with ones makes the carry cross it */
    if (dx > 0)
        lon = lon + (lat_fill + 1);
    else if (dx < 0)
        lon = (lon | lat_fill) - (lat_fill + 1);
    if (dx != 0)
        lon &= lon_fill;
    if (dy > 0)
        lat = lat + (lon_fill + 1);
    else if (dy < 0)
        lat = (lat | lon_fill) - (lon_fill + 1);
    if (dy != 0)
        lat &= lat_fill;
    h.bits = lon | lat;
    return h;
}

/* Redis' precision for a radius: coarser near the poles, 1..26. */
static int steps_for(double range_m, double lat)
{
    int step = 1;

    if (range_m == 0)
        return 26;
    while (range_m < MERCATOR_MAX) {
        range_m *= 2;
        step++;
    }
    step -= 2;
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80)
            step--;
    }
    if (step < 1) step = 1;
    if (step > 26) step = 26;
    return step;
}

/* bounds: min lon, min lat, max lon, max lat of the shape. */
static void bounding_box(const struct geo_shape *s, double b[4])
{
    double height = s->conv * (s->box ? s->height / 2 : s->radius);
    double width = s->conv * (s->box ? s->width / 2 : s->radius);
    double lat_delta = rad_deg(height / EARTH_RADIUS);
    double lon_top = rad_deg(width / EARTH_RADIUS / cos(deg_rad(s->lat + lat_delta)));
    double lon_bottom = rad_deg(width / EARTH_RADIUS / cos(deg_rad(s->lat - lat_delta)));
    double lon_delta = s->lat < 0 ? lon_bottom : lon_top;

    if (s->legacy & GEO_OLD_BOX)
        lon_delta = rad_deg(width / EARTH_RADIUS / cos(deg_rad(s->lat)));
    b[0] = s->lon - lon_delta;
    b[2] = s->lon + lon_delta;
    b[1] = s->lat - lat_delta;
    b[3] = s->lat + lat_delta;
}

/* The centre box and its neighbours in Redis' order: centre, N, S, E, W,
 * NE, NW, SE, SW. */
static void neighbourhood(struct ghash c, struct ghash n[9])
{
    static const int d[9][2] = {
        { 0, 0 }, { 0, 1 }, { 0, -1 }, { 1, 0 }, { -1, 0 },
        { 1, 1 }, { -1, 1 }, { 1, -1 }, { -1, -1 },
    };

    for (int i = 0; i < 9; i++)
        n[i] = i == 0 ? c : move(c, d[i][0], d[i][1]);
}

static void clear(struct ghash *h)
{
    h->bits = 0;
    h->step = 0;
}

static double shape_distance(const struct geo_shape *s, double lon1, double lat1,
                             double lon2, double lat2);

/* Before 6.2.7: is a neighbour's far edge nearer than the radius? */
static int old_needs_coarser(const struct geo_shape *s, const struct ghash n[9], double radius_m)
{
    return shape_distance(s, s->lon, s->lat, s->lon, area_of(n[1]).lat_max) < radius_m ||
           shape_distance(s, s->lon, s->lat, s->lon, area_of(n[2]).lat_min) < radius_m ||
           shape_distance(s, s->lon, s->lat, area_of(n[3]).lon_max, s->lat) < radius_m ||
           shape_distance(s, s->lon, s->lat, area_of(n[4]).lon_min, s->lat) < radius_m;
}

int geo_windows(const struct geo_shape *s, struct geo_window w[9])
{
    struct ghash n[9];
    struct garea area;
    double b[4], radius_m;
    int steps, nw = 0, last = 0;

    bounding_box(s, b);
    radius_m = s->box ? sqrt((s->width / 2) * (s->width / 2) + (s->height / 2) * (s->height / 2))
                      : s->radius;
    radius_m *= s->conv;
    steps = steps_for(radius_m, s->lat);
    neighbourhood(encode(s->lon, s->lat, steps), n);
    /* a centre near a box edge may need one step coarser to be covered */
    if (steps > 1 && ((s->legacy & GEO_OLD_STEP) ? old_needs_coarser(s, n, radius_m) :
                      (area_of(n[1]).lat_max < b[3] || area_of(n[2]).lat_min > b[1] ||
                       area_of(n[3]).lon_max < b[2] || area_of(n[4]).lon_min > b[0]))) {
        steps--;
        neighbourhood(encode(s->lon, s->lat, steps), n);
    }
    area = area_of(n[0]);
    if (steps >= 2) {
        /* boxes on a side the shape does not reach are left out */
        if (area.lat_min < b[1]) { clear(&n[2]); clear(&n[8]); clear(&n[7]); }
        if (area.lat_max > b[3]) { clear(&n[1]); clear(&n[5]); clear(&n[6]); }
        if (area.lon_min < b[0]) { clear(&n[4]); clear(&n[8]); clear(&n[6]); }
        if (area.lon_max > b[2]) { clear(&n[3]); clear(&n[7]); clear(&n[5]); }
    }
    for (int i = 0; i < 9; i++) {
        if (n[i].bits == 0 && n[i].step == 0)
            continue;
        /* huge radii make neighbours repeat: skip a copy of the last one
         * (Redis compares only once something after the centre ran) */
        if (last && n[i].bits == n[last].bits && n[i].step == n[last].step)
            continue;
        w[nw].min = (double)(n[i].bits << (52 - n[i].step * 2));
        w[nw].max = (double)((n[i].bits + 1) << (52 - n[i].step * 2));
        nw++;
        last = i;
    }
    return nw;
}

static double lat_distance(double lat1, double lat2)
{
    return EARTH_RADIUS * fabs(deg_rad(lat2) - deg_rad(lat1));
}

/* Haversine distance in metres, as Redis computes it. */
static double distance(double lon1, double lat1, double lon2, double lat2)
{
    double lon1r = deg_rad(lon1), lon2r = deg_rad(lon2), lat1r, lat2r, u, v, a;

    v = sin((lon2r - lon1r) / 2);
    if (v == 0.0)
        return lat_distance(lat1, lat2);
    lat1r = deg_rad(lat1);
    lat2r = deg_rad(lat2);
    u = sin((lat2r - lat1r) / 2);
    a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * EARTH_RADIUS * asin(sqrt(a));
}

/* Before 7.0.6: the haversine formula whatever the longitudes. */
static double old_distance(double lon1, double lat1, double lon2, double lat2)
{
    double lat1r = deg_rad(lat1), lon1r = deg_rad(lon1), lat2r = deg_rad(lat2);
    double lon2r = deg_rad(lon2), u, v;

    u = sin((lat2r - lat1r) / 2);
    v = sin((lon2r - lon1r) / 2);
    return 2.0 * EARTH_RADIUS * asin(sqrt(u * u + cos(lat1r) * cos(lat2r) * v * v));
}

static double shape_distance(const struct geo_shape *s, double lon1, double lat1,
                             double lon2, double lat2)
{
    return (s->legacy & GEO_OLD_DIST) ? old_distance(lon1, lat1, lon2, lat2)
                                      : distance(lon1, lat1, lon2, lat2);
}

int geo_within(const struct geo_shape *s, double score, double *dist)
{
    double xy[2], lat_d;

    geo_decode(score, xy);
    if (!s->box) {
        *dist = shape_distance(s, s->lon, s->lat, xy[0], xy[1]);
        return *dist <= s->radius * s->conv;
    }
    lat_d = (s->legacy & GEO_OLD_DIST) ? old_distance(xy[0], xy[1], xy[0], s->lat)
                                       : lat_distance(xy[1], s->lat);
    if (lat_d > s->height * s->conv / 2)
        return 0;
    if (shape_distance(s, xy[0], xy[1], s->lon, xy[1]) > s->width * s->conv / 2)
        return 0;
    *dist = shape_distance(s, s->lon, s->lat, xy[0], xy[1]);
    return 1;
}
