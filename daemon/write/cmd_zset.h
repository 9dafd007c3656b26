/*
 * cmd_zset.h - what the sorted-set family (cmd_zset.c) lends the geo
 * family (cmd_geo.c): struct zmap, the result of a STORE command built in
 * memory before it replaces the destination.
 */
#ifndef RS_CMD_ZSET_H
#define RS_CMD_ZSET_H

#include "apply_int.h"

/* Members with a score (and a distance for geo), in insertion order,
 * with a hash index for lookups. */
struct zelem {
    char *m;
    size_t len;
    double score, dist;
};

struct zmap {
    struct zelem *e;
    size_t n, cap;
    size_t *slot;                /* index + 1; 0 = free; nslot a power of 2 */
    size_t nslot;
    int oom;
};

/* Free the members and the index; z is empty (and reusable) after. */
void zmap_free(struct zmap *z);

/* Append a new member (the caller knows it is absent). Sets z->oom. */
void zmap_add(struct zmap *z, const struct rs_bytes *m, double score, double dist);

/* Make 'key' hold exactly the members of 'z' (Redis' setKey: any old
 * value and its TTL go), or delete it when 'z' is empty. 0, or -1 when
 * the sink failed. */
int zmap_store(struct applier *a, const struct rs_bytes *key, const struct zmap *z);

#endif
