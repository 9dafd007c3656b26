/*
 * sqlite_keycache.c - key_find's cache of recent lookups.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

/*
 * key_find runs for nearly every command, and its index seek plus row
 * fetch was a quarter of the apply time. This direct-mapped cache
 * remembers recent answers, "no such key" included. It stays exact
 * because every statement that changes a key's id, type or expire time
 * is in sqlite_keys.c and updates or drops the entries it affects; anything
 * broader (rollback, flush, swap, a new generation) empties it. List
 * heads and string values are not cached.
 *
 * Changes by id (an expire time, a delete) find the entry through
 * by_id, direct-mapped on the id: every entry with an id is the one
 * by_id points to for it (sqi_kc_put drops an entry it displaces there), so
 * one probe is exact. Scanning every slot instead was three quarters of
 * an EXPIRE's instructions.
 */
#define KC_SLOTS   4096
#define KC_MAX_KEY 120

struct key_cache_entry {
    int64_t id;                  /* 0 with type RS_T_NONE: known absent */
    int64_t expire_ms;
    int db;
    unsigned char used, type;
    unsigned short len;
    char key[KC_MAX_KEY];
};

struct key_cache {
    struct key_cache_entry e[KC_SLOTS];
    int32_t by_id[KC_SLOTS];     /* slot of the entry of id (id % KC_SLOTS) */
};

static struct key_cache_entry *kc_slot(struct sqlite_sink *ss, int db, const struct rs_bytes *key)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(unsigned)db;

    if (ss->kcache == NULL || key->len > KC_MAX_KEY)
        return NULL;
    for (size_t i = 0; i < key->len; i++)
        h = (h ^ (unsigned char)key->ptr[i]) * 1099511628211ULL;
    return &ss->kcache->e[h % KC_SLOTS];
}

/* The entry of key 'id', or NULL. */
static struct key_cache_entry *kc_of_id(struct sqlite_sink *ss, int64_t id)
{
    struct key_cache_entry *e;

    if (ss->kcache == NULL || id <= 0)
        return NULL;
    e = &ss->kcache->e[ss->kcache->by_id[(uint64_t)id % KC_SLOTS]];
    return e->used && e->id == id ? e : NULL;
}

int sqi_kc_get(struct sqlite_sink *ss, int db, const struct rs_bytes *key, struct sink_key *out)
{
    struct key_cache_entry *e = kc_slot(ss, db, key);

    if (e == NULL || !e->used || e->db != db || e->len != key->len ||
        memcmp(e->key, key->ptr, key->len) != 0)
        return 0;
    out->id = e->id;
    out->type = (enum rs_type)e->type;
    out->expire_ms = e->expire_ms;
    return 1;
}

void sqi_kc_put(struct sqlite_sink *ss, int db, const struct rs_bytes *key,
                const struct sink_key *k)
{
    struct key_cache_entry *e = kc_slot(ss, db, key), *old;

    if (e == NULL)
        return;
    e->used = 0;                 /* not found by kc_of_id while it changes */
    if (k->id > 0) {
        int32_t *slot = &ss->kcache->by_id[(uint64_t)k->id % KC_SLOTS];

        old = &ss->kcache->e[*slot];
        if (old != e && old->used && old->id > 0)
            old->used = 0;       /* it would lose its by_id link */
        *slot = (int32_t)(e - ss->kcache->e);
    }
    e->used = 1;
    e->db = db;
    e->len = (unsigned short)key->len;
    memcpy(e->key, key->ptr, key->len);
    e->id = k->id;
    e->type = (unsigned char)k->type;
    e->expire_ms = k->expire_ms;
}

/* Drop the entry of key 'id' (its name is not known here). */
void sqi_kc_forget_id(struct sqlite_sink *ss, int64_t id)
{
    struct key_cache_entry *e = kc_of_id(ss, id);

    if (e)
        e->used = 0;
}

void sqi_kc_forget_key(struct sqlite_sink *ss, int db, const struct rs_bytes *key)
{
    struct key_cache_entry *e = kc_slot(ss, db, key);

    if (e)
        e->used = 0;
}

void sqi_kc_clear(struct sqlite_sink *ss)
{
    if (ss->kcache)
        for (int i = 0; i < KC_SLOTS; i++)
            ss->kcache->e[i].used = 0;
}

/* Key 'id' has a new expire time. */
void sqi_kc_set_expire(struct sqlite_sink *ss, int64_t id, int64_t expire_ms)
{
    struct key_cache_entry *e = kc_of_id(ss, id);

    if (e != NULL)
        e->expire_ms = expire_ms;
}

struct key_cache *sqi_kc_new(void)
{
    return calloc(1, sizeof(struct key_cache));
}
