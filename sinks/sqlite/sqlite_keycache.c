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
 * fetch was a third of a SET's instructions. This cache remembers recent
 * answers, "no such key" included. It stays exact because every statement
 * that changes a key's id, type or expire time is in sqlite_keys.c and
 * updates or drops the entries it affects; anything broader (rollback,
 * flush, swap, a new generation) empties it. String values are not
 * cached (list bounds are, in sqlite_list.c).
 *
 * Two tables, by the name's length: 131,072 entries of 64 bytes for names
 * of up to 40 bytes (8 MiB, touched only as it fills), 4,096 of 144 for
 * names of up to 120. Each is 4-way set-associative: a name has one set
 * of 4 entries, and a new answer replaces a free entry, else one not
 * found since the set last replaced one (a reference bit, cleared as the
 * search passes: second chance), so a hot key stays while others come and
 * go. With 4,096 direct-mapped entries, a SET to 100k random keys missed
 * nearly always and ran the seek; with 65,536 entries, a quarter of the
 * time (bench/replay of 1M XADDs to 100k streams: 6.5-6.9 s, 5.3-5.4 s
 * with 131,072; 1M INCRs on 100k keys 2.7 s, 2.1-2.2 s). The 4 MiB more
 * take XADD's peak RSS in bench/suite.py to about 62 MB of the 64 MB bound.
 *
 * Each entry has a byte in its table's 'tags': 0 when the entry is free,
 * else 7 bits of the name's hash and the reference bit. A set's 4 bytes
 * are one word, so a search reads the entry only where the tag matches,
 * and a new answer picks its entry without reading any. Reading the 4
 * entries of a set was 4 cache lines in 8 MiB, each time a name was not
 * cached: bench/replay -b of the suite's lua-10-writes (12M SETs on 1M
 * names), perf: kc_find and its memcmp 12% of the samples; with tags, wall
 * 23.9, 23.9 -> 23.0, 22.3 s (XADD to 100k streams and INCR on 100k keys,
 * mostly hits, unchanged). Emptying the cache clears the tags (132 KiB),
 * not the entries.
 *
 * Changes by id (an expire time, a delete) find the entry through its
 * table's by_id, direct-mapped on the id: every valid entry with an id is
 * the one by_id points to for it (sqi_kc_put drops an entry it displaces
 * there, and one of the same id in the other table), so one probe per
 * table is exact. Scanning every entry instead was three quarters of an
 * EXPIRE's instructions.
 */
#define KC_WAYS 4

struct kc_entry {
    int64_t id;                  /* 0 with type RS_T_NONE: known absent */
    int64_t expire_ms;
    int32_t db;
    unsigned char type;          /* rs_type */
    unsigned char len;
    char key[];                  /* up to the table's stride - 24 bytes */
};
#define KC_REF 0x80              /* in a tag: found since the set last replaced one */
#define KC_TAG 0x7f              /* in a tag: the hash's bits, never 0 */

struct kc_table {
    unsigned char *mem;          /* sets * KC_WAYS entries of 'stride' bytes */
    unsigned char *tags;         /* of each entry: 0 (free), or KC_TAG bits | KC_REF */
    int32_t *by_id;              /* entry of id (id % entries), as an index */
    uint32_t sets, stride, max_key;
};

struct key_cache {
    struct kc_table t[2];        /* short names, long names */
    unsigned hand;               /* which way the victim search starts at */
};

static const struct { uint32_t sets, stride; } kc_shape[2] = {     /* sets: powers of 2 */
    { 32768, 64 }, { 1024, 144 }
};
_Static_assert(sizeof(struct kc_entry) == 24, "kc_entry header");

static struct kc_entry *kc_at(struct kc_table *t, uint32_t i)
{
    return (struct kc_entry *)(t->mem + (size_t)i * t->stride);
}

#define KC_NONE UINT32_MAX        /* no such entry, where an index is expected */

/* The table for a name of len bytes, its set's first entry index, and
 * the name's tag bits. The hash takes 8 bytes at a time: byte by byte, it
 * cost more than the rest of a hit. */
static struct kc_table *kc_set(struct sqlite_sink *ss, int db, const struct rs_bytes *key,
                               uint32_t *first, unsigned *tag)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(unsigned)db ^ key->len, w;
    struct kc_table *t;
    size_t i = 0;

    if (ss->kcache == NULL)
        return NULL;
    t = &ss->kcache->t[key->len > ss->kcache->t[0].max_key];
    if (key->len > t->max_key)
        return NULL;
    for (; i + 8 <= key->len; i += 8) {
        memcpy(&w, key->ptr + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    if (i < key->len) {
        w = 0;
        memcpy(&w, key->ptr + i, key->len - i);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    h ^= h >> 29;                /* a chunk's last bytes reached only the high bits */
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 32;
    *first = (uint32_t)(h & (t->sets - 1)) * KC_WAYS;
    *tag = (unsigned)(h >> 57) | 1;     /* the set takes at most 15 low bits */
    return t;
}

/* The index of the live entry of (db, key) in its set, or KC_NONE. */
static uint32_t kc_find(struct kc_table *t, uint32_t first, unsigned tag, int db,
                        const struct rs_bytes *key)
{
    for (uint32_t i = first; i < first + KC_WAYS; i++) {
        struct kc_entry *e;

        if ((t->tags[i] & KC_TAG) != tag)
            continue;
        e = kc_at(t, i);
        if (e->db == db && e->len == key->len && memcmp(e->key, key->ptr, key->len) == 0)
            return i;
    }
    return KC_NONE;
}

/* The index of the live entry of key 'id' in table t, or KC_NONE. */
static uint32_t kc_of_id_in(struct kc_table *t, int64_t id)
{
    uint32_t i = (uint32_t)t->by_id[(uint64_t)id & (t->sets * KC_WAYS - 1)];

    return t->tags[i] != 0 && kc_at(t, i)->id == id ? i : KC_NONE;
}

int sqi_kc_get(struct sqlite_sink *ss, int db, const struct rs_bytes *key, struct sink_key *out)
{
    uint32_t first, i;
    unsigned tag;
    struct kc_table *t = kc_set(ss, db, key, &first, &tag);
    struct kc_entry *e;

    if (t == NULL || (i = kc_find(t, first, tag, db, key)) == KC_NONE)
        return 0;
    t->tags[i] |= KC_REF;
    e = kc_at(t, i);
    out->id = e->id;
    out->type = (enum rs_type)e->type;
    out->expire_ms = e->expire_ms;
    return 1;
}

/* The index of the entry a new answer goes to in the set at 'first'. */
static uint32_t kc_victim(struct key_cache *c, struct kc_table *t, uint32_t first)
{
    uint32_t start = c->hand++ % KC_WAYS;

    for (uint32_t i = first; i < first + KC_WAYS; i++)
        if (t->tags[i] == 0)
            return i;
    for (uint32_t n = 0; n < 2 * KC_WAYS; n++) {
        uint32_t i = first + (start + n) % KC_WAYS;

        if (!(t->tags[i] & KC_REF))
            return i;
        t->tags[i] &= KC_TAG;
    }
    return first + start;        /* not reached: the first pass cleared them */
}

void sqi_kc_put(struct sqlite_sink *ss, int db, const struct rs_bytes *key,
                const struct sink_key *k)
{
    struct key_cache *c = ss->kcache;
    uint32_t first, i, old;
    unsigned tag;
    struct kc_table *t = kc_set(ss, db, key, &first, &tag), *other;
    struct kc_entry *e;

    if (t == NULL)
        return;
    if ((i = kc_find(t, first, tag, db, key)) == KC_NONE)
        i = kc_victim(c, t, first);
    t->tags[i] = 0;              /* not found by kc_of_id_in while it changes */
    if (k->id > 0) {
        int32_t *slot = &t->by_id[(uint64_t)k->id & (t->sets * KC_WAYS - 1)];

        old = (uint32_t)*slot;
        if (old != i && t->tags[old] != 0 && kc_at(t, old)->id > 0 &&
            (((uint64_t)kc_at(t, old)->id ^ (uint64_t)k->id) & (t->sets * KC_WAYS - 1)) == 0)
            t->tags[old] = 0;    /* it would lose its by_id link */
        *slot = (int32_t)i;
        other = &c->t[t == &c->t[0]];
        if ((old = kc_of_id_in(other, k->id)) != KC_NONE)
            other->tags[old] = 0;    /* one entry per id */
    }
    e = kc_at(t, i);
    e->db = db;
    e->len = (unsigned char)key->len;
    memcpy(e->key, key->ptr, key->len);
    e->id = k->id;
    e->type = (unsigned char)k->type;
    e->expire_ms = k->expire_ms;
    t->tags[i] = (unsigned char)tag;
}

/* Drop the entry of key 'id' (its name is not known here). */
void sqi_kc_forget_id(struct sqlite_sink *ss, int64_t id)
{
    uint32_t j;

    if (ss->kcache == NULL || id <= 0)
        return;
    for (int i = 0; i < 2; i++)
        if ((j = kc_of_id_in(&ss->kcache->t[i], id)) != KC_NONE)
            ss->kcache->t[i].tags[j] = 0;
}

void sqi_kc_forget_key(struct sqlite_sink *ss, int db, const struct rs_bytes *key)
{
    uint32_t first, i;
    unsigned tag;
    struct kc_table *t = kc_set(ss, db, key, &first, &tag);

    if (t != NULL && (i = kc_find(t, first, tag, db, key)) != KC_NONE)
        t->tags[i] = 0;
}

void sqi_kc_clear(struct sqlite_sink *ss)
{
    struct key_cache *c = ss->kcache;

    if (c == NULL)
        return;
    for (int i = 0; i < 2; i++)
        memset(c->t[i].tags, 0, (size_t)c->t[i].sets * KC_WAYS);
}

/* Key 'id' has a new expire time. */
void sqi_kc_set_expire(struct sqlite_sink *ss, int64_t id, int64_t expire_ms)
{
    uint32_t j;

    if (ss->kcache == NULL || id <= 0)
        return;
    for (int i = 0; i < 2; i++)
        if ((j = kc_of_id_in(&ss->kcache->t[i], id)) != KC_NONE)
            kc_at(&ss->kcache->t[i], j)->expire_ms = expire_ms;
}

struct key_cache *sqi_kc_new(void)
{
    struct key_cache *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    for (int i = 0; i < 2; i++) {
        struct kc_table *t = &c->t[i];

        t->sets = kc_shape[i].sets;
        t->stride = kc_shape[i].stride;
        t->max_key = t->stride - (uint32_t)sizeof(struct kc_entry);
        t->mem = calloc(t->sets * KC_WAYS, t->stride);
        t->tags = calloc(t->sets * KC_WAYS, 1);
        t->by_id = calloc(t->sets * KC_WAYS, sizeof(int32_t));
        if (t->mem == NULL || t->tags == NULL || t->by_id == NULL) {
            sqi_kc_free(c);
            return NULL;
        }
    }
    return c;
}

void sqi_kc_free(struct key_cache *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < 2; i++) {
        free(c->t[i].mem);
        free(c->t[i].tags);
        free(c->t[i].by_id);
    }
    free(c);
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
