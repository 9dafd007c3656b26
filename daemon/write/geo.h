/*
 * geo.h - the geo search a replica must run for GEORADIUS ... STORE,
 * GEORADIUSBYMEMBER ... STORE and GEOSEARCHSTORE: 52-bit geohash scores,
 * the boxes to search around a centre, and the shape test with the
 * haversine distance, all computed exactly as Redis 7 does (same
 * constants, same order of floating-point operations), because STOREDIST
 * stores those distances as scores; older masters' ways where the shape
 * says so (GEO_OLD_*). Pure arithmetic: no sink, no I/O.
 * The caller (cmd_geo.c) walks the score windows and applies the test.
 */
#ifndef RS_GEO_H
#define RS_GEO_H

#include <stdint.h>

#define GEO_LONG_MIN  (-180.0)
#define GEO_LONG_MAX  180.0
#define GEO_LAT_MIN   (-85.05112878)
#define GEO_LAT_MAX   85.05112878

/* A search area: a circle of 'radius' or a 'width' x 'height' box (both
 * in the unit, 'conv' metres per unit) around lon/lat. */
struct geo_shape {
    int box;
    double lon, lat;
    double radius, width, height;
    double conv;
    int legacy;         /* GEO_OLD_* flags: the master's version computes so */
};

/* How older masters searched (geohash_helper.c of their tags). */
#define GEO_OLD_BOX   1  /* before 6.2.0: the longitude span from the centre's latitude */
#define GEO_OLD_STEP  2  /* before 6.2.7: one step coarser when a neighbour's far edge
                          * is nearer than the radius (distances, not the box) */
#define GEO_OLD_DIST  4  /* before 7.0.6: the full haversine also when the
                          * longitudes are equal (no latitude-only shortcut) */

/* One window of scores to walk: min <= score < max. */
struct geo_window {
    double min, max;
};

/* The windows to search for 'shape', in Redis' order (the centre box,
 * then N, S, E, W, NE, NW, SE, SW, skipping cleared ones and a repeat of
 * the previous one). Fills 'w' and returns how many (at most 9). */
int geo_windows(const struct geo_shape *shape, struct geo_window w[9]);

/* Decode a score (a 52-bit geohash) into xy[0] longitude, xy[1] latitude.
 * Never fails for a score, as in Redis. */
void geo_decode(double score, double xy[2]);

/* Is the point with 'score' inside 'shape'? 1 with *dist (metres from
 * the centre), else 0. */
int geo_within(const struct geo_shape *shape, double score, double *dist);

/* 1 when lon/lat is a point Redis accepts (GEOADD's limits), else 0. */
int geo_valid(double lon, double lat);

#endif
