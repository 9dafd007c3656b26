/*
 * sqlite_keycache.c - key_find's cache of recent lookups, and the filter
 * of key names that answers "no such key" without SQL.
 */
#include <stdio.h>
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

/*
 * The key name filter: a Bloom filter of every name that entered the
 * generation's gN_keys (created, renamed or copied to, loaded), so
 * key_find answers most "no such key" without the index seek, which was
 * a third of the instructions of a command on a new key (XADD to 100k
 * streams, SET on random keys). It may say "maybe" for a name that is
 * gone (deleted, rolled back, another db): key_find then asks SQL, so it
 * is exact as long as no name enters unseen. Both bits of a name are in
 * one 64-bit word (one cache miss). Names are never removed; past a few
 * million names most answers are "maybe" and it stops helping, nothing
 * worse.
 *
 * It is armed (trusted) only when it saw every name: built at open by
 * scanning a mirror of up to KF_SCAN_MAX keys, or filled by a full sync.
 * A full sync that aborts leaves it off (it holds the names of the
 * generation that was not swapped in), until the next open or full sync.
 */
#define KF_WORDS    (1u << 19)          /* 4 MiB */
#define KF_SCAN_MAX 1000000

struct key_filter {
    uint64_t w[KF_WORDS];
};

static uint64_t kf_hash(const struct rs_bytes *key)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < key->len; i++)
        h = (h ^ (unsigned char)key->ptr[i]) * 1099511628211ULL;
    h ^= h >> 33;                        /* FNV's high bits mix poorly: fold */
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

static uint64_t kf_mask(uint64_t h)
{
    return (1ULL << (h & 63)) | (1ULL << ((h >> 6) & 63));
}

void sqi_kf_add(struct sqlite_sink *ss, const struct rs_bytes *key)
{
    uint64_t h;

    if (ss->kfilter == NULL || key->len >= SQI_BIG_VALUE)
        return;                 /* big names: never "absent" (and not hashed twice) */
    h = kf_hash(key);
    ss->kfilter->w[(h >> 12) % KF_WORDS] |= kf_mask(h);
}

int sqi_kf_absent(struct sqlite_sink *ss, const struct rs_bytes *key)
{
    uint64_t h, m;

    if (ss->kfilter == NULL || !ss->kf_armed || key->len >= SQI_BIG_VALUE)
        return 0;
    h = kf_hash(key);
    m = kf_mask(h);
    return (ss->kfilter->w[(h >> 12) % KF_WORDS] & m) != m;
}

void sqi_kf_reset(struct sqlite_sink *ss, int armed)
{
    if (ss->kfilter == NULL)
        return;
    memset(ss->kfilter, 0, sizeof(*ss->kfilter));
    ss->kf_armed = armed;
}

/* At open: every name of generation 'gen', if it has few enough keys.
 * The filter is an optimisation: on any failure it stays off. */
void sqi_kf_build(struct sqlite_sink *ss)
{
    sqlite3_stmt *st = NULL;
    char sql[96];
    long n = 0;
    int r;

    if (ss->kfilter == NULL && (ss->kfilter = malloc(sizeof(*ss->kfilter))) == NULL)
        return;
    sqi_kf_reset(ss, 0);
    snprintf(sql, sizeof(sql), "SELECT key FROM g%lld_keys LIMIT %d", (long long)ss->gen,
             KF_SCAN_MAX + 1);
    if (sqlite3_prepare_v2(ss->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return;
    }
    while ((r = sqlite3_step(st)) == SQLITE_ROW && ++n <= KF_SCAN_MAX) {
        struct rs_bytes k = { sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0) };

        sqi_kf_add(ss, &k);
    }
    sqlite3_finalize(st);
    ss->kf_armed = r == SQLITE_DONE;
}

void sqi_kf_free(struct sqlite_sink *ss)
{
    free(ss->kfilter);
    ss->kfilter = NULL;
    ss->kf_armed = 0;
}
