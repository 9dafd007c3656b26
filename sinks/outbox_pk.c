/*
 * outbox_pk.c - the outbox's packed primary keys (outbox_pk.h).
 */
#include <stdlib.h>
#include <string.h>

#include "outbox_pk.h"

const struct outbox_table outbox_tables[OUTBOX_NTABLES] = {
    { "keys", 1, 1 }, { "hash", 2, 0 }, { "list", 2, 0 }, { "set", 2, 0 },
    { "zset", 2, 0 }, { "stream", 4, 0 }, { "array", 2, 0 }, { "big", 1, 1 },
    { "bigm", 1, 1 }, { "bign", 1, 1 }, { "phash", 3, 0 },
};

int outbox_table_id(const char *name, const char *prefix, size_t plen)
{
    const char *t;
    int id;

    if (memcmp(name, prefix, plen) != 0)
        return -1;
    t = name + plen;
    /* the first letter picks one or two candidates; the name decides */
    switch (t[0]) {
    case 'k': id = 0; break;
    case 'h': id = 1; break;
    case 'l': id = 2; break;
    case 's': id = t[1] == 'e' ? 3 : 5; break;
    case 'z': id = 4; break;
    case 'a': id = 6; break;
    case 'b': id = t[3] == 'm' ? 8 : t[3] == 'n' ? 9 : 7; break;
    case 'p': id = 10; break;
    default: return -1;
    }
    return strcmp(t, outbox_tables[id].name) == 0 ? id : -1;
}

void pk_set_clear(struct pk_set *s)
{
    if (s->n)
        memset(s->slots, 0, s->nslots * sizeof(*s->slots));
    s->len = s->n = 0;
}

void pk_set_release(struct pk_set *s)
{
    free(s->buf);
    free(s->slots);
    memset(s, 0, sizeof(*s));
}

static int room(struct pk_set *s, size_t n)
{
    size_t cap = s->cap ? s->cap : 256;
    unsigned char *p;

    if (s->len + n <= s->cap)
        return 0;
    while (cap < s->len + n)
        cap *= 2;
    if ((p = realloc(s->buf, cap)) == NULL)
        return -1;
    s->buf = p;
    s->cap = cap;
    return 0;
}

int pk_set_begin(struct pk_set *s, int table)
{
    s->start = s->len;
    if (room(s, 1))
        return -1;
    s->buf[s->len++] = (unsigned char)table;
    return 0;
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int pk_set_put_int(struct pk_set *s, int64_t v)
{
    if (room(s, 9))
        return -1;
    s->buf[s->len] = 'i';
    put_le(s->buf + s->len + 1, (uint64_t)v, 8);
    s->len += 9;
    return 0;
}

int pk_set_put_bytes(struct pk_set *s, int text, const void *p, size_t n)
{
    if (n > UINT32_MAX || room(s, 5 + n))
        return -1;
    s->buf[s->len] = text ? 't' : 'b';
    put_le(s->buf + s->len + 1, n, 4);
    if (n)
        memcpy(s->buf + s->len + 5, p, n);
    s->len += 5 + n;
    return 0;
}

/* FNV-1a over the entry's bytes. */
static size_t hash_of(const unsigned char *p, size_t n)
{
    uint64_t h = 14695981039346656037ULL;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return (size_t)h;
}

static size_t entry_len(const struct pk_set *s, size_t off)
{
    size_t end = off;
    int t;
    struct pk_val v[OUTBOX_PK_MAX];

    pk_list_next(s->buf, s->len, &end, &t, v);
    return end - off;
}

static int grow(struct pk_set *s)
{
    size_t n = s->nslots ? s->nslots * 2 : 64, *slots = calloc(n, sizeof(*slots));

    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < s->nslots; i++) {
        size_t off, j;

        if (s->slots[i] == 0)
            continue;
        off = s->slots[i] - 1;
        j = hash_of(s->buf + off, entry_len(s, off)) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->nslots = n;
    return 0;
}

int pk_set_end(struct pk_set *s)
{
    const unsigned char *e;
    size_t n, j;

    if ((s->n + 1) * 2 > s->nslots && grow(s))
        return -1;
    e = s->buf + s->start;
    n = s->len - s->start;
    for (j = hash_of(e, n) & (s->nslots - 1); s->slots[j]; j = (j + 1) & (s->nslots - 1)) {
        size_t off = s->slots[j] - 1;

        if (entry_len(s, off) == n && memcmp(s->buf + off, e, n) == 0) {
            s->len = s->start;         /* held already */
            return 0;
        }
    }
    s->slots[j] = s->start + 1;
    s->n++;
    return 1;
}

int pk_list_next(const unsigned char *p, size_t len, size_t *off, int *table,
                 struct pk_val vals[OUTBOX_PK_MAX])
{
    size_t o = *off;

    if (o >= len)
        return 0;
    if (p[o] >= OUTBOX_NTABLES)
        return -1;
    *table = p[o++];
    for (int c = 0; c < outbox_tables[*table].npk; c++) {
        struct pk_val *v = &vals[c];

        if (o >= len)
            return -1;
        v->tag = (char)p[o];
        if (v->tag == 'i') {
            if (len - o < 9)
                return -1;
            v->i = (int64_t)get_le(p + o + 1, 8);
            o += 9;
        } else if (v->tag == 't' || v->tag == 'b') {
            if (len - o < 5)
                return -1;
            v->n = (size_t)get_le(p + o + 1, 4);
            if (len - o - 5 < v->n)
                return -1;
            v->p = p + o + 5;
            o += 5 + v->n;
        } else {
            return -1;
        }
    }
    *off = o;
    return 1;
}

int pk_set_add(struct pk_set *s, const unsigned char *e, size_t n)
{
    s->start = s->len;
    if (room(s, n))
        return -1;
    memcpy(s->buf + s->len, e, n);
    s->len += n;
    return pk_set_end(s);
}
