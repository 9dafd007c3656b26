/*
 * test_rdb.c - unit tests of the streaming RDB parser (daemon/read/rdb.c).
 *
 * Without arguments: every .rdb under $top_srcdir/tests/fixtures/rdb/<v>/
 * is parsed whole, one byte at a time and split at pseudo-random points,
 * and the handler transcripts must agree; then CRC64, DUMP payloads,
 * corruption (flipped bytes, truncation, forged lengths, thousands of
 * random mutations) and hand-written byte arrays for what no fixture
 * holds. Prints one line per check; exits 0 (pass) or 99 (fail).
 *
 * With "--json FILE.rdb": prints the content of FILE as a JSON array in
 * the shape of the fixtures' expected.json (tests/lib/rdb_expected.py
 * compares them; tests/unit/rdb_fixtures.sh drives it).
 */
#ifdef HAVE_CONFIG_H
#include "rsconfig.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* memmem */
#endif

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "loader.h"
#include "rdb.h"

static void sb_hex(struct tbuf *b, const struct rs_bytes *v)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < v->len; i++) {
        char two[2] = { hex[(unsigned char)v->ptr[i] >> 4], hex[(unsigned char)v->ptr[i] & 15] };

        tbuf_add(b, two, 2);
    }
}

/* Readable bytes for the hand-written cases' logs. */
static void sb_esc(struct tbuf *b, const struct rs_bytes *v)
{
    for (size_t i = 0; i < v->len; i++) {
        unsigned char c = (unsigned char)v->ptr[i];

        if (c >= 0x21 && c < 0x7f && c != '\\')
            tbuf_add(b, &c, 1);
        else
            tbuf_printf(b, "\\x%02x", c);
    }
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *d;
    struct stat st;

    if (f == NULL || fstat(fileno(f), &st) != 0) {
        if (f)
            fclose(f);
        return NULL;
    }
    d = malloc((size_t)st.st_size + 1);
    if (d == NULL || fread(d, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(d);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)st.st_size;
    return d;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    uint64_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* ---------------------------------------------------------- transcripts */

/* Every event is folded into a 64-bit FNV-1a hash with its arguments, so
 * the same input fed differently must give the same (hash, count). */
struct transcript {
    uint64_t h;
    uint64_t events;
};

static void th_mix(struct transcript *t, const void *d, size_t n)
{
    const unsigned char *s = d;

    for (size_t i = 0; i < n; i++) {
        t->h ^= s[i];
        t->h *= 0x100000001b3ULL;
    }
}

static void th_tag(struct transcript *t, char tag)
{
    t->events++;
    th_mix(t, &tag, 1);
}

static void th_bytes(struct transcript *t, const struct rs_bytes *b)
{
    uint64_t n = b->len;

    th_mix(t, &n, sizeof(n));
    th_mix(t, b->ptr, b->len);
}

static void th_u64(struct transcript *t, uint64_t v)
{
    th_mix(t, &v, sizeof(v));
}

static int t_aux(void *ud, const struct rs_bytes *k, const struct rs_bytes *v)
{
    th_tag(ud, 'a');
    th_bytes(ud, k);
    th_bytes(ud, v);
    return 0;
}

static int t_db(void *ud, int db)
{
    th_tag(ud, 'd');
    th_u64(ud, (uint64_t)db);
    return 0;
}

static int t_key(void *ud, const struct rdb_key *k)
{
    th_tag(ud, 'k');
    th_u64(ud, (uint64_t)k->db);
    th_u64(ud, (uint64_t)k->type);
    th_u64(ud, (uint64_t)k->rdb_type);
    th_bytes(ud, &k->name);
    th_u64(ud, (uint64_t)k->expire_ms);
    th_bytes(ud, &k->module);
    return 0;
}

static int t_one(void *ud, const struct rs_bytes *v)
{
    th_tag(ud, 'v');
    th_bytes(ud, v);
    return 0;
}

static int t_zset(void *ud, const struct rs_bytes *m, double s)
{
    th_tag(ud, 'z');
    th_bytes(ud, m);
    th_mix(ud, &s, sizeof(s));
    return 0;
}

static int t_hash(void *ud, const struct rs_bytes *f, const struct rs_bytes *v, int64_t e)
{
    th_tag(ud, 'h');
    th_bytes(ud, f);
    th_bytes(ud, v);
    th_u64(ud, (uint64_t)e);
    return 0;
}

static int t_sitem(void *ud, const struct rs_stream_id *id, int pos,
                   const struct rs_bytes *f, const struct rs_bytes *v)
{
    th_tag(ud, 'i');
    th_u64(ud, id->ms);
    th_u64(ud, id->seq);
    th_u64(ud, (uint64_t)pos);
    th_bytes(ud, f);
    th_bytes(ud, v);
    return 0;
}

static int t_smeta(void *ud, const struct rs_stream_meta *m)
{
    th_tag(ud, 'm');
    th_u64(ud, m->length);
    th_u64(ud, m->last_id.ms);
    th_u64(ud, m->last_id.seq);
    th_u64(ud, (uint64_t)m->has_v2);
    th_u64(ud, m->first_id.ms);
    th_u64(ud, m->max_deleted_id.seq);
    th_u64(ud, m->entries_added);
    return 0;
}

static int t_group(void *ud, const struct rs_stream_group *g)
{
    th_tag(ud, 'g');
    th_bytes(ud, &g->name);
    th_u64(ud, g->last_id.ms);
    th_u64(ud, g->last_id.seq);
    th_u64(ud, (uint64_t)g->entries_read);
    return 0;
}

static int t_pend(void *ud, const struct rs_stream_pending *pe)
{
    th_tag(ud, 'p');
    th_u64(ud, pe->id.ms);
    th_u64(ud, pe->id.seq);
    th_u64(ud, (uint64_t)pe->delivery_time);
    th_u64(ud, pe->delivery_count);
    return 0;
}

static int t_cons(void *ud, const struct rs_stream_consumer *c)
{
    th_tag(ud, 'c');
    th_bytes(ud, &c->name);
    th_u64(ud, (uint64_t)c->seen_time);
    th_u64(ud, (uint64_t)c->active_time);
    return 0;
}

static int t_cpend(void *ud, const struct rs_stream_id *id)
{
    th_tag(ud, 'q');
    th_u64(ud, id->ms);
    th_u64(ud, id->seq);
    return 0;
}

static int t_acur(void *ud, uint64_t idx)
{
    th_tag(ud, 'C');
    th_u64(ud, idx);
    return 0;
}

static int t_aitem(void *ud, uint64_t idx, const struct rs_bytes *v)
{
    th_tag(ud, 'A');
    th_u64(ud, idx);
    th_bytes(ud, v);
    return 0;
}

static int t_kend(void *ud)
{
    th_tag(ud, 'e');
    return 0;
}

static int t_func(void *ud, const struct rs_bytes *code)
{
    th_tag(ud, 'f');
    th_bytes(ud, code);
    return 0;
}

static int t_end(void *ud)
{
    th_tag(ud, 'E');
    return 0;
}

static const struct rdb_handlers transcript_handlers = {
    .on_aux = t_aux, .on_select_db = t_db, .on_key_begin = t_key,
    .on_string = t_one, .on_list_item = t_one, .on_set_member = t_one,
    .on_zset_member = t_zset, .on_hash_field = t_hash,
    .on_stream_item = t_sitem, .on_stream_meta = t_smeta,
    .on_stream_group = t_group, .on_stream_pending = t_pend,
    .on_stream_consumer = t_cons, .on_stream_consumer_pending = t_cpend,
    .on_array_cursor = t_acur, .on_array_item = t_aitem,
    .on_key_end = t_kend, .on_function = t_func, .on_end = t_end,
};

/* SPLIT_CHUNK: chunks of split_chunk bytes, or of random sizes up to
 * 200,000 when it is 0 (the big items' test). */
enum split { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM, SPLIT_CHUNK };
static size_t split_chunk;

/* The outcome of one parse. */
struct outcome {
    enum rs_status st;       /* RS_DONE or RS_ERROR (after finish) */
    size_t consumed;         /* bytes of the input that were payload */
    char msg[256];
};

/* Feed 'data' split as asked; on RS_AGAIN at the end, call finish. */
static struct outcome parse_with(const unsigned char *data, size_t len, enum rdb_mode mode,
                                 enum split how, const struct rdb_handlers *h, void *ud,
                                 size_t max_item)
{
    struct rdb_parser *p = rdb_parser_new(mode, h, ud, max_item);
    struct outcome o = { RS_AGAIN, 0, "" };
    size_t pos = 0;

    while (pos < len || (pos == 0 && len == 0)) {
        size_t n = len - pos, used = 0;

        if (how == SPLIT_BYTES)
            n = n ? 1 : 0;
        else if (how == SPLIT_RANDOM && n > 0)
            n = 1 + (size_t)(rng() % (rng() % 4 == 0 ? 8 : 3000)) % n;
        else if (how == SPLIT_CHUNK && n > 0)
            n = 1 + (split_chunk ? split_chunk - 1 : (size_t)(rng() % (rng() % 3 ? 200000 : 300))) % n;
        o.st = rdb_parser_feed(p, (const char *)data + pos, n, &used);
        o.consumed += used;
        pos += n;
        if (o.st != RS_AGAIN || len == 0)
            break;
    }
    if (o.st == RS_AGAIN && rdb_parser_finish(p) != 0)
        o.st = RS_ERROR;
    if (o.st == RS_ERROR)
        snprintf(o.msg, sizeof(o.msg), "%s", rdb_parser_error(p)->msg);
    rdb_parser_free(p);
    return o;
}

static struct outcome parse_transcript(const unsigned char *data, size_t len, enum rdb_mode mode,
                                       enum split how, struct transcript *t)
{
    memset(t, 0, sizeof(*t));
    t->h = 0xcbf29ce484222325ULL;
    return parse_with(data, len, mode, how, &transcript_handlers, t, 0);
}

/* ------------------------------------------------------- readable logs */

/* The hand-written cases compare a readable log of the events. */
static int l_aux(void *ud, const struct rs_bytes *k, const struct rs_bytes *v)
{
    tbuf_add(ud, "aux ", 4);
    sb_esc(ud, k);
    tbuf_add(ud, "=", 1);
    sb_esc(ud, v);
    tbuf_add(ud, "\n", 1);
    return 0;
}

static int l_db(void *ud, int db)
{
    tbuf_printf(ud, "db %d\n", db);
    return 0;
}

static int l_key(void *ud, const struct rdb_key *k)
{
    tbuf_printf(ud, "key %d %s %d ", k->db, rs_type_name(k->type), k->rdb_type);
    sb_esc(ud, &k->name);
    tbuf_printf(ud, " %" PRId64, k->expire_ms);
    if (k->module.len) {
        tbuf_add(ud, " ", 1);
        sb_esc(ud, &k->module);
    }
    tbuf_add(ud, "\n", 1);
    return 0;
}

static int l_str(void *ud, const struct rs_bytes *v)
{
    tbuf_add(ud, "v ", 2);
    sb_esc(ud, v);
    tbuf_add(ud, "\n", 1);
    return 0;
}

static int l_zset(void *ud, const struct rs_bytes *m, double s)
{
    tbuf_add(ud, "z ", 2);
    sb_esc(ud, m);
    tbuf_printf(ud, " %.17g\n", s);
    return 0;
}

static int l_hash(void *ud, const struct rs_bytes *f, const struct rs_bytes *v, int64_t e)
{
    tbuf_add(ud, "h ", 2);
    sb_esc(ud, f);
    tbuf_add(ud, " ", 1);
    sb_esc(ud, v);
    tbuf_printf(ud, " %" PRId64 "\n", e);
    return 0;
}

static int l_sitem(void *ud, const struct rs_stream_id *id, int pos,
                   const struct rs_bytes *f, const struct rs_bytes *v)
{
    tbuf_printf(ud, "si %" PRIu64 "-%" PRIu64 " %d ", id->ms, id->seq, pos);
    sb_esc(ud, f);
    tbuf_add(ud, " ", 1);
    sb_esc(ud, v);
    tbuf_add(ud, "\n", 1);
    return 0;
}

static int l_smeta(void *ud, const struct rs_stream_meta *m)
{
    tbuf_printf(ud, "sm %" PRIu64 " %" PRIu64 "-%" PRIu64 " v2=%d %" PRIu64 "-%" PRIu64
              " %" PRIu64 "-%" PRIu64 " %" PRIu64 "\n", m->length, m->last_id.ms, m->last_id.seq,
              m->has_v2, m->first_id.ms, m->first_id.seq, m->max_deleted_id.ms,
              m->max_deleted_id.seq, m->entries_added);
    return 0;
}

static int l_group(void *ud, const struct rs_stream_group *g)
{
    tbuf_add(ud, "sg ", 3);
    sb_esc(ud, &g->name);
    tbuf_printf(ud, " %" PRIu64 "-%" PRIu64 " %" PRId64 "\n", g->last_id.ms, g->last_id.seq,
              g->entries_read);
    return 0;
}

static int l_pend(void *ud, const struct rs_stream_pending *pe)
{
    tbuf_printf(ud, "sp %" PRIu64 "-%" PRIu64 " %" PRId64 " %" PRIu64 "\n", pe->id.ms, pe->id.seq,
              pe->delivery_time, pe->delivery_count);
    return 0;
}

static int l_cons(void *ud, const struct rs_stream_consumer *c)
{
    tbuf_add(ud, "sc ", 3);
    sb_esc(ud, &c->name);
    tbuf_printf(ud, " %" PRId64 " %" PRId64 "\n", c->seen_time, c->active_time);
    return 0;
}

static int l_cpend(void *ud, const struct rs_stream_id *id)
{
    tbuf_printf(ud, "sq %" PRIu64 "-%" PRIu64 "\n", id->ms, id->seq);
    return 0;
}

static int l_nack(void *ud, const struct rs_stream_id *id)
{
    tbuf_printf(ud, "sn %" PRIu64 "-%" PRIu64 "\n", id->ms, id->seq);
    return 0;
}

static int l_phf(void *ud, const struct rs_bytes *path, const struct rs_bytes *f,
                 const struct rs_bytes *v)
{
    tbuf_add(ud, "ph ", 3);
    sb_esc(ud, path);
    tbuf_add(ud, " ", 1);
    sb_esc(ud, f);
    tbuf_add(ud, " ", 1);
    sb_esc(ud, v);
    tbuf_add(ud, "\n", 1);
    return 0;
}

static int l_acur(void *ud, uint64_t idx)
{
    tbuf_printf(ud, "ac %" PRIu64 "\n", idx);
    return 0;
}

static int l_aitem(void *ud, uint64_t idx, const struct rs_bytes *v)
{
    tbuf_printf(ud, "a %" PRIu64 " ", idx);
    sb_esc(ud, v);
    tbuf_add(ud, "\n", 1);
    return 0;
}

static int l_kend(void *ud)
{
    tbuf_add(ud, "end\n", 4);
    return 0;
}

static int l_func(void *ud, const struct rs_bytes *code)
{
    tbuf_add(ud, "func ", 5);
    sb_esc(ud, code);
    tbuf_add(ud, "\n", 1);
    return 0;
}

static int l_end(void *ud)
{
    tbuf_add(ud, "EOF\n", 4);
    return 0;
}

static const struct rdb_handlers log_handlers = {
    .on_aux = l_aux, .on_select_db = l_db, .on_key_begin = l_key,
    .on_string = l_str, .on_list_item = l_str, .on_set_member = l_str,
    .on_zset_member = l_zset, .on_hash_field = l_hash,
    .on_stream_item = l_sitem, .on_stream_meta = l_smeta,
    .on_stream_group = l_group, .on_stream_pending = l_pend,
    .on_stream_consumer = l_cons, .on_stream_consumer_pending = l_cpend,
    .on_array_cursor = l_acur, .on_array_item = l_aitem,
    .on_key_end = l_kend, .on_function = l_func, .on_end = l_end,
    .on_stream_nack = l_nack, .on_path_hash_field = l_phf,
};

/* Parse whole, byte by byte and randomly split: the logs must agree.
 * Returns the log of the whole parse (caller frees) and its outcome. */
static char *parse_log(const unsigned char *d, size_t n, enum rdb_mode mode, struct outcome *o)
{
    struct tbuf whole = { 0 }, other = { 0 };
    enum split how[2] = { SPLIT_BYTES, SPLIT_RANDOM };

    *o = parse_with(d, n, mode, SPLIT_WHOLE, &log_handlers, &whole, 0);
    tbuf_add(&whole, "", 0);
    for (int i = 0; i < 2; i++) {
        struct outcome o2 = parse_with(d, n, mode, how[i], &log_handlers, &other, 0);

        tbuf_add(&other, "", 0);
        if (strcmp(other.p, whole.p) != 0 || o2.st != o->st || strcmp(o2.msg, o->msg) != 0) {
            tbuf_printf(&whole, "SPLIT MISMATCH (%s)\n", i ? "random" : "bytes");
            break;
        }
        other.len = 0;
    }
    free(other.p);
    return whole.p;
}

/* ----------------------------------------------------------- fixtures */

static const char *srcdir(void)
{
    const char *s = getenv("top_srcdir");

    return s && *s ? s : ".";
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);

    return a >= b && strcmp(s + a - b, suf) == 0;
}

static void test_fixture_file(const char *path)
{
    struct transcript t0, t1, t2;
    struct outcome o0, o1, o2;
    unsigned char *d, *big;
    size_t n;

    if ((d = read_file(path, &n)) == NULL) {
        CHECK(0, "read %s", path);
        return;
    }
    o0 = parse_transcript(d, n, RDB_MODE_FILE, SPLIT_WHOLE, &t0);
    CHECK(o0.st == RS_DONE && o0.consumed == n, "%s: whole: %s, %zu/%zu bytes, %" PRIu64 " events",
          path, o0.st == RS_DONE ? "done" : o0.msg, o0.consumed, n, t0.events);
    o1 = parse_transcript(d, n, RDB_MODE_FILE, SPLIT_BYTES, &t1);
    CHECK(o1.st == RS_DONE && o1.consumed == n && t1.h == t0.h && t1.events == t0.events,
          "%s: byte at a time gives the same transcript", path);
    for (int i = 0; i < 3; i++) {
        o2 = parse_transcript(d, n, RDB_MODE_FILE, SPLIT_RANDOM, &t2);
        CHECK(o2.st == RS_DONE && o2.consumed == n && t2.h == t0.h && t2.events == t0.events,
              "%s: random split #%d gives the same transcript", path, i);
    }
    /* Whatever follows the payload (a diskless end mark) is not ours. */
    big = malloc(n + 40);
    memcpy(big, d, n);
    memset(big + n, 'x', 40);
    o2 = parse_transcript(big, n + 40, RDB_MODE_FILE, SPLIT_WHOLE, &t2);
    CHECK(o2.st == RS_DONE && o2.consumed == n && t2.h == t0.h,
          "%s: 40 bytes after the trailer are left to the caller (consumed %zu)", path, o2.consumed);
    free(big);
    free(d);
}

static int test_fixtures(void)
{
    char dir[4096], sub[4096 + 256], path[4096 + 512];
    struct dirent **vers = NULL;
    int nv, files = 0;

    snprintf(dir, sizeof(dir), "%s/tests/fixtures/rdb", srcdir());
    if ((nv = scandir(dir, &vers, NULL, alphasort)) < 0) {
        CHECK(0, "fixtures directory %s exists", dir);
        return 0;
    }
    for (int i = 0; i < nv; i++) {
        struct dirent **ents = NULL;
        int ne;

        snprintf(sub, sizeof(sub), "%s/%s", dir, vers[i]->d_name);
        if (vers[i]->d_name[0] != '.' && (ne = scandir(sub, &ents, NULL, alphasort)) >= 0) {
            for (int j = 0; j < ne; j++) {
                if (has_suffix(ents[j]->d_name, ".rdb")) {
                    snprintf(path, sizeof(path), "%s/%s", sub, ents[j]->d_name);
                    test_fixture_file(path);
                    files++;
                }
                free(ents[j]);
            }
            free(ents);
        }
        free(vers[i]);
    }
    free(vers);
    CHECK(files >= 40, "found %d fixture files", files);
    return files;
}

/* ----------------------------------------------------------- corruption */

static unsigned char *fixture(const char *rel, size_t *n)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/tests/fixtures/rdb/%s", srcdir(), rel);
    return read_file(path, n);
}

static void test_bad_crc(void)
{
    struct transcript t;
    struct outcome o;
    unsigned char *d, *at;
    size_t n;

    if ((d = fixture("7.2.6/all-types.rdb", &n)) == NULL) {
        CHECK(0, "read 7.2.6/all-types.rdb");
        return;
    }
    at = memmem(d, n, "value-of-the-empty-key", 22);
    CHECK(at != NULL, "found a raw string value to corrupt");
    if (at) {
        at[3] ^= 0x20;
        o = parse_transcript(d, n, RDB_MODE_FILE, SPLIT_RANDOM, &t);
        CHECK(o.st == RS_ERROR && strstr(o.msg, "bad CRC64 at offset") != NULL,
              "flipped value byte -> '%s'", o.msg);
    }
    free(d);
}

static void test_truncated(void)
{
    size_t n, cuts[8];
    struct transcript t;
    struct outcome o;
    unsigned char *d;

    if ((d = fixture("7.4.1/all-types.rdb", &n)) == NULL) {
        CHECK(0, "read 7.4.1/all-types.rdb");
        return;
    }
    cuts[0] = 0, cuts[1] = 4, cuts[2] = 9, cuts[3] = 100, cuts[4] = n / 2;
    cuts[5] = n - 9, cuts[6] = n - 8, cuts[7] = n - 1;
    for (int i = 0; i < 8; i++) {
        o = parse_transcript(d, cuts[i], RDB_MODE_FILE, SPLIT_RANDOM, &t);
        CHECK(o.st == RS_ERROR && strstr(o.msg, "truncated at offset") != NULL,
              "truncated to %zu bytes -> '%s'", cuts[i], o.msg);
    }
    free(d);
}

/* Mutate a fixture thousands of times: every parse must end in DONE or
 * an error, never a crash or a sanitizer report. */
static void test_mutations(const char *rel, int rounds)
{
    int done = 0, errors = 0;
    struct transcript t;
    unsigned char *d, *m;
    size_t n;

    if ((d = fixture(rel, &n)) == NULL) {
        CHECK(0, "read %s", rel);
        return;
    }
    m = malloc(n + 64);
    for (int r = 0; r < rounds; r++) {
        size_t len = n;
        int k = 1 + (int)(rng() % 4);

        memcpy(m, d, n);
        for (int i = 0; i < k; i++) {
            size_t at = 9 + (size_t)(rng() % (n - 9));

            switch (rng() % 4) {
            case 0: m[at] ^= (unsigned char)(1u << (rng() % 8)); break;
            case 1: m[at] = (unsigned char)rng(); break;
            case 2: m[at] = (unsigned char)(0xF0 + rng() % 16); break;
            default: len = at; break;
            }
        }
        struct outcome o = parse_transcript(m, len, RDB_MODE_FILE,
                                            r % 8 == 0 ? SPLIT_RANDOM : SPLIT_WHOLE, &t);
        if (o.st == RS_DONE)
            done++;
        else if (o.st == RS_ERROR && strncmp(o.msg, "rdb: ", 5) == 0)
            errors++;
    }
    CHECK(done + errors == rounds, "%s: %d random mutations: %d done, %d errors, 0 crashes",
          rel, rounds, done, errors);
    free(m);
    free(d);
}

/* Random garbage after a valid magic. */
static void test_garbage(int rounds)
{
    unsigned char g[512];
    struct transcript t;
    int ended = 0;

    for (int r = 0; r < rounds; r++) {
        size_t len = 9 + (size_t)(rng() % (sizeof(g) - 9));

        memcpy(g, r % 2 ? "REDIS0011" : "REDIS0007", 9);
        for (size_t i = 9; i < len; i++)
            g[i] = (unsigned char)rng();
        struct outcome o = parse_transcript(g, len, RDB_MODE_FILE, SPLIT_WHOLE, &t);
        ended += o.st == RS_DONE || o.st == RS_ERROR;
        o = parse_transcript(g + 9, len - 9, RDB_MODE_DUMP, SPLIT_WHOLE, &t);
        ended += o.st == RS_DONE || o.st == RS_ERROR;
    }
    CHECK(ended == 2 * rounds, "%d random garbage payloads (file and DUMP) all end cleanly",
          rounds);
}

/* --------------------------------------------------------- hand-written */

/* Build an RDB by hand: magic, body, EOF and (version >= 5) the CRC. */
struct bb {
    unsigned char d[4096];
    size_t n;
};

static void bb_raw(struct bb *b, const void *p, size_t n)
{
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void bb_byte(struct bb *b, unsigned v)
{
    b->d[b->n++] = (unsigned char)v;
}

static void bb_len(struct bb *b, uint64_t v)
{
    if (v < 64) {
        bb_byte(b, (unsigned)v);
    } else if (v < 16384) {
        bb_byte(b, 0x40 | (unsigned)(v >> 8));
        bb_byte(b, (unsigned)(v & 0xff));
    } else if (v <= 0xffffffffULL) {
        bb_byte(b, 0x80);
        for (int i = 3; i >= 0; i--)
            bb_byte(b, (unsigned)(v >> (8 * i)) & 0xff);
    } else {
        bb_byte(b, 0x81);
        for (int i = 7; i >= 0; i--)
            bb_byte(b, (unsigned)(v >> (8 * i)) & 0xff);
    }
}

static void bb_len64(struct bb *b, uint64_t v)   /* always the 0x81 form */
{
    bb_byte(b, 0x81);
    for (int i = 7; i >= 0; i--)
        bb_byte(b, (unsigned)(v >> (8 * i)) & 0xff);
}

static void bb_str(struct bb *b, const char *s)
{
    bb_len(b, strlen(s));
    bb_raw(b, s, strlen(s));
}

static void bb_le(struct bb *b, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        bb_byte(b, (unsigned)(v >> (8 * i)) & 0xff);
}

static void bb_magic(struct bb *b, const char *magic)
{
    b->n = 0;
    bb_raw(b, magic, 9);
}

static void bb_finish(struct bb *b, int crc)
{
    bb_byte(b, 0xff);
    if (crc)
        bb_le(b, rdb_crc64(0, b->d, b->n), 8);
}

static void expect_log(const struct bb *b, enum rdb_mode mode, const char *what, const char *want)
{
    struct outcome o;
    char *log = parse_log(b->d, b->n, mode, &o);
    int ok = o.st == RS_DONE && o.consumed == b->n && strcmp(log, want) == 0;

    CHECK(ok, "%s", what);
    if (!ok)
        printf("  # status %d, %s\n  # got:\n%s  # want:\n%s", o.st, o.msg, log, want);
    free(log);
}

static void expect_error(const struct bb *b, enum rdb_mode mode, const char *what, const char *msg)
{
    struct outcome o;
    char *log = parse_log(b->d, b->n, mode, &o);
    int ok = o.st == RS_ERROR && strstr(o.msg, msg) != NULL && strstr(log, "MISMATCH") == NULL;

    CHECK(ok, "%s -> '%s'", what, o.msg);
    free(log);
}

static uint64_t module_id(const char *name, unsigned ver)
{
    static const char cs[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint64_t id = 0;

    for (int i = 0; i < 9; i++)
        id = id << 6 | (uint64_t)(strchr(cs, name[i]) - cs);
    return id << 10 | ver;
}

static void bb_module_body(struct bb *b)
{
    bb_len(b, 2), bb_len(b, 12345);                 /* UINT */
    bb_len(b, 1), bb_len64(b, (uint64_t)-5);        /* SINT */
    bb_len(b, 3), bb_le(b, 0x3f800000, 4);          /* FLOAT 1.0 */
    bb_len(b, 4), bb_le(b, 0x3ff0000000000000ULL, 8);
    bb_len(b, 5), bb_str(b, "module-string");
    bb_len(b, 0);                                   /* EOF */
}

static void test_crc_and_dump(void)
{
    static const unsigned char dump_v[] = { 0x00, 0x01, 0x76, 0x0b, 0x00, 0xf8, 0xd7,
                                            0x73, 0xc1, 0xe4, 0xa7, 0x63, 0x47 };
    uint64_t c = rdb_crc64(0, (const unsigned char *)"123456789", 9);
    struct bb b;

    CHECK(c == 0xE9C6D914C4B8D9CAULL, "CRC64 check value 0x%016" PRIx64, c);
    c = rdb_crc64(rdb_crc64(0, (const unsigned char *)"1234", 4), (const unsigned char *)"56789", 5);
    CHECK(c == 0xE9C6D914C4B8D9CAULL, "CRC64 is incremental");
    b.n = 0;
    bb_raw(&b, dump_v, sizeof(dump_v));
    expect_log(&b, RDB_MODE_DUMP, "DUMP of string \"v\" (Redis 7.2 vector)",
               "key 0 string 0  -1\nv v\nend\nEOF\n");
    b.d[2] = 'w';
    expect_error(&b, RDB_MODE_DUMP, "DUMP with a changed byte", "bad CRC64 at offset 5");

    /* DUMP of a list: quicklist-2 with one listpack ["a","7"]. */
    b.n = 0;
    bb_byte(&b, 18), bb_len(&b, 1), bb_len(&b, 2), bb_len(&b, 12);
    bb_raw(&b, "\x0c\x00\x00\x00\x02\x00\x81\x61\x02\x07\x01\xff", 12);
    bb_le(&b, 11, 2);
    bb_le(&b, rdb_crc64(0, b.d, b.n), 8);
    expect_log(&b, RDB_MODE_DUMP, "DUMP of list [a,7]", "key 0 list 18  -1\nv a\nv 7\nend\nEOF\n");

    /* Redis 8.6 may put KEY_META before the type byte. */
    b.n = 0;
    bb_byte(&b, 0xf3), bb_len(&b, 1), bb_raw(&b, "ABCD", 4), bb_len(&b, 2), bb_len(&b, 1),
        bb_len(&b, 0);
    bb_byte(&b, 0), bb_str(&b, "v");
    bb_le(&b, 13, 2);
    bb_le(&b, rdb_crc64(0, b.d, b.n), 8);
    expect_log(&b, RDB_MODE_DUMP, "DUMP with KEY_META before the type",
               "key 0 string 0  -1\nv v\nend\nEOF\n");

    /* Type 22 in a DUMP is read as Valkey's HASH_2; a Redis footer
     * version then makes it an error. */
    for (int ver = 80; ver >= 12; ver -= 68) {
        b.n = 0;
        bb_byte(&b, 22), bb_len(&b, 1), bb_str(&b, "f"), bb_str(&b, "v"), bb_le(&b, 77, 8);
        bb_le(&b, (uint64_t)ver, 2);
        bb_le(&b, rdb_crc64(0, b.d, b.n), 8);
        if (ver == 80)
            expect_log(&b, RDB_MODE_DUMP, "DUMP of a Valkey HASH_2 (version 80)",
                       "key 0 hash 22  -1\nh f v 77\nend\nEOF\n");
        else
            expect_error(&b, RDB_MODE_DUMP, "DUMP type 22 with Redis version 12", "type 22 with version 12");
    }
}

static void test_hand_opcodes(void)
{
    struct bb b;
    uint64_t mid = module_id("ReJSON-RL", 3);

    /* 64-bit lengths (0x81) for a count and a string, and AUX/SELECTDB. */
    bb_magic(&b, "REDIS0009");
    bb_byte(&b, 0xfa), bb_str(&b, "redis-ver"), bb_str(&b, "5.0.0");
    bb_byte(&b, 0xfe), bb_len64(&b, 3);
    bb_byte(&b, 0xfb), bb_len(&b, 2), bb_len(&b, 0);
    bb_byte(&b, 2), bb_str(&b, "s"), bb_len64(&b, 2);
    bb_len64(&b, 3), bb_raw(&b, "abc", 3);
    bb_byte(&b, 0xc1), bb_le(&b, (uint64_t)-300, 2);
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "64-bit lengths (0x81), int16 string -300",
               "aux redis-ver=5.0.0\ndb 3\nkey 3 set 2 s -1\nv abc\nv -300\nend\nEOF\n");

    /* Module value with its id in the 0x81 form, then MODULE_AUX, then a
     * normal key to prove the skip stayed aligned. */
    bb_magic(&b, "REDIS0009");
    bb_byte(&b, 0xfc), bb_le(&b, 1700000000123ULL, 8);
    bb_byte(&b, 7), bb_str(&b, "m"), bb_len64(&b, mid);
    bb_module_body(&b);
    bb_byte(&b, 0xf7), bb_len64(&b, mid), bb_len(&b, 2), bb_len(&b, 2);
    bb_module_body(&b);
    bb_byte(&b, 0), bb_str(&b, "after"), bb_str(&b, "ok");
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "module value skipped, name ReJSON-RL; MODULE_AUX skipped",
               "key 0 module 7 m 1700000000123 ReJSON-RL\nend\nkey 0 string 0 after -1\nv ok\nend\nEOF\n");

    bb_magic(&b, "REDIS0008");
    bb_byte(&b, 6), bb_str(&b, "m"), bb_len64(&b, mid);
    bb_finish(&b, 1);
    expect_error(&b, RDB_MODE_FILE, "type 6 module value", "cannot skip");

    /* EXPIRETIME (seconds) and zipmap in an RDB 2 file (no trailer). */
    bb_magic(&b, "REDIS0002");
    bb_byte(&b, 0xfd), bb_le(&b, 2000000000, 4);
    bb_byte(&b, 9), bb_str(&b, "zm");
    bb_len(&b, 17);
    bb_raw(&b, "\x02" "\x03" "foo" "\x03\x02" "bar" "xx" "\x01" "k" "\x00\x00" "\xff", 17);
    bb_byte(&b, 0xfd), bb_le(&b, (uint32_t)-1, 4);
    bb_byte(&b, 0), bb_str(&b, "old"), bb_str(&b, "x");
    bb_finish(&b, 0);
    expect_log(&b, RDB_MODE_FILE, "EXPIRETIME seconds -> ms; zipmap with free bytes; RDB 2 ends at 0xff",
               "key 0 hash 9 zm 2000000000000\nh foo bar -1\nh k  -1\nend\n"
               "key 0 string 0 old -1000\nv x\nend\nEOF\n");

    /* Old zset (type 3) with text, NaN, +inf and -inf scores. */
    bb_magic(&b, "REDIS0006");
    bb_byte(&b, 3), bb_str(&b, "z"), bb_len(&b, 4);
    bb_str(&b, "a"), bb_byte(&b, 3), bb_raw(&b, "2.5", 3);
    bb_str(&b, "n"), bb_byte(&b, 253);
    bb_str(&b, "p"), bb_byte(&b, 254);
    bb_str(&b, "m"), bb_byte(&b, 255);
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "type 3 zset with 253/254/255 scores",
               "key 0 zset 3 z -1\nz a 2.5\nz n nan\nz p inf\nz m -inf\nend\nEOF\n");

    /* FUNCTION_PRE_GA, FUNCTION2, SLOT_INFO, IDLE, FREQ. */
    bb_magic(&b, "REDIS0012");
    bb_byte(&b, 0xf6), bb_str(&b, "lib"), bb_str(&b, "LUA"), bb_len(&b, 1), bb_str(&b, "desc"),
        bb_str(&b, "return 1");
    bb_byte(&b, 0xf5), bb_str(&b, "#!lua name=x\nreturn 2");
    bb_byte(&b, 0xfe), bb_len(&b, 0);
    bb_byte(&b, 0xf4), bb_len(&b, 1234), bb_len(&b, 1), bb_len(&b, 0);
    bb_byte(&b, 0xf8), bb_len(&b, 99);
    bb_byte(&b, 0), bb_str(&b, "a"), bb_str(&b, "1");
    bb_byte(&b, 0xf9), bb_byte(&b, 5);
    bb_byte(&b, 0), bb_str(&b, "b"), bb_str(&b, "2");
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "FUNCTION_PRE_GA, FUNCTION2, SLOT_INFO, IDLE, FREQ",
               "func #!LUA\\x20name=lib\\x0areturn\\x201\nfunc #!lua\\x20name=x\\x0areturn\\x202\n"
               "db 0\nkey 0 string 0 a -1\nv 1\nend\nkey 0 string 0 b -1\nv 2\nend\nEOF\n");

    /* Redis 8.6 KEY_META (243) before a key. */
    bb_magic(&b, "REDIS0013");
    bb_byte(&b, 0xfc), bb_le(&b, 5000, 8);
    bb_byte(&b, 0xf3), bb_len(&b, 2);
    bb_raw(&b, "ABCD", 4), bb_len(&b, 2), bb_len(&b, 7), bb_len(&b, 0);
    bb_raw(&b, "EFGH", 4), bb_len(&b, 5), bb_str(&b, "meta"), bb_len(&b, 0);
    bb_byte(&b, 0), bb_str(&b, "k"), bb_str(&b, "v");
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "RDB 13 KEY_META skipped, expire kept for the key",
               "key 0 string 0 k 5000\nv v\nend\nEOF\n");

    /* RDB 1 and 4 end right after 0xff (no trailer: what follows is not
     * ours); RDB 5 is the first with a CRC64. */
    for (int v = 1; v <= 5; v += (v == 1 ? 3 : 1)) {
        char magic[24], what[64];
        struct outcome o;
        char *log;

        snprintf(magic, sizeof(magic), "REDIS%04d", v);
        bb_magic(&b, magic);
        bb_byte(&b, 0xfe), bb_len(&b, 1);
        bb_byte(&b, 1), bb_str(&b, "l"), bb_len(&b, 2), bb_str(&b, "x"), bb_byte(&b, 0xc0),
            bb_byte(&b, 0x80);
        bb_finish(&b, v >= 5);
        snprintf(what, sizeof(what), "RDB version %d framing", v);
        expect_log(&b, RDB_MODE_FILE, what, "db 1\nkey 1 list 1 l -1\nv x\nv -128\nend\nEOF\n");
        memcpy(b.d + b.n, "$EOF-mark", 9);
        log = parse_log(b.d, b.n + 9, RDB_MODE_FILE, &o);
        CHECK(o.st == RS_DONE && o.consumed == b.n,
              "RDB version %d: bytes after the payload not consumed", v);
        free(log);
    }

    /* Redis 8.6 type 26: a v3 stream record, then the IDMP state (read
     * and dropped); two producers, the second with no entries. */
    bb_magic(&b, "REDIS0013");
    bb_byte(&b, 26), bb_str(&b, "s"), bb_len(&b, 0);          /* no listpack nodes */
    bb_len(&b, 0), bb_len(&b, 7), bb_len(&b, 1);               /* length, last id */
    bb_len(&b, 0), bb_len(&b, 0), bb_len(&b, 7), bb_len(&b, 1), bb_len(&b, 3);
    bb_len(&b, 1), bb_str(&b, "g"), bb_len(&b, 7), bb_len(&b, 1), bb_len(&b, 3);
    bb_len(&b, 0);                                             /* group PEL */
    bb_len(&b, 1), bb_str(&b, "c"), bb_le(&b, 1000, 8), bb_le(&b, 2000, 8), bb_len(&b, 0);
    bb_len(&b, 100), bb_len(&b, 50), bb_len(&b, 2);            /* IDMP: duration, max, producers */
    bb_str(&b, "p1"), bb_len(&b, 2);
    bb_str(&b, "i1"), bb_len(&b, 5), bb_len(&b, 0);
    bb_str(&b, "i2"), bb_len(&b, 6), bb_len(&b, 1);
    bb_str(&b, "p2"), bb_len(&b, 0);
    bb_len(&b, 2), bb_len(&b, 1);                              /* iids added, duplicates */
    bb_byte(&b, 0), bb_str(&b, "k"), bb_str(&b, "v");
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "Redis 8.6 stream type 26, IDMP state skipped",
               "key 0 stream 26 s -1\nsm 0 7-1 v2=1 0-0 7-1 3\nsg g 7-1 3\nsc c 1000 2000\nend\n"
               "key 0 string 0 k -1\nv v\nend\nEOF\n");
    /* ... and with no producers at all */
    bb_magic(&b, "REDIS0013");
    bb_byte(&b, 26), bb_str(&b, "s"), bb_len(&b, 0);
    bb_len(&b, 0), bb_len(&b, 7), bb_len(&b, 1);
    bb_len(&b, 0), bb_len(&b, 0), bb_len(&b, 7), bb_len(&b, 1), bb_len(&b, 3);
    bb_len(&b, 0);                                             /* no groups */
    bb_len(&b, 100), bb_len(&b, 50), bb_len(&b, 0), bb_len(&b, 0), bb_len(&b, 0);
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "Redis 8.6 stream type 26 without producers",
               "key 0 stream 26 s -1\nsm 0 7-1 v2=1 0-0 7-1 3\nend\nEOF\n");

    bb_magic(&b, "REDIS0014");
    bb_byte(&b, 0), bb_str(&b, "k"), bb_str(&b, "v");
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "RDB 14 file", "key 0 string 0 k -1\nv v\nend\nEOF\n");
}

static void test_hand_hashes(void)
{
    struct bb b;

    /* Valkey 9 HASH_2 (type 22) in a VALKEY080 file. */
    bb_magic(&b, "VALKEY080");
    bb_byte(&b, 22), bb_str(&b, "h"), bb_len(&b, 2);
    bb_str(&b, "f1"), bb_str(&b, "v1"), bb_le(&b, (uint64_t)-1, 8);
    bb_str(&b, "f2"), bb_str(&b, "v2"), bb_le(&b, 4102444800000ULL, 8);
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "Valkey HASH_2 (22) in a VALKEY080 file",
               "key 0 hash 22 h -1\nh f1 v1 -1\nh f2 v2 4102444800000\nend\nEOF\n");

    /* The same in a VALKEY081 (9.2) file; its type 23 is PATH_HASH, not read. */
    bb_magic(&b, "VALKEY081");
    bb_byte(&b, 22), bb_str(&b, "h"), bb_len(&b, 1);
    bb_str(&b, "f"), bb_str(&b, "v"), bb_le(&b, 4102444800000ULL, 8);
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "Valkey HASH_2 (22) in a VALKEY081 file",
               "key 0 hash 22 h -1\nh f v 4102444800000\nend\nEOF\n");
    /* Type 23 means nothing in RDB 80 (Valkey 9.0); 81's PATH_HASH is
     * test_hand_path_hash's. */
    bb_magic(&b, "VALKEY080");
    bb_byte(&b, 23), bb_str(&b, "p"), bb_len(&b, 0);
    expect_error(&b, RDB_MODE_FILE, "type 23 in a VALKEY080 file", "unknown opcode 0x17");

    /* Redis 7.4 RC type 22: (absolute ttl, field, value), no minExpire. */
    bb_magic(&b, "REDIS0012");
    bb_byte(&b, 22), bb_str(&b, "h"), bb_len(&b, 2);
    bb_len(&b, 0), bb_str(&b, "a"), bb_str(&b, "1");
    bb_len(&b, 4102444800123ULL), bb_str(&b, "b"), bb_str(&b, "2");
    /* type 23: listpack of (field, value, ttl) without the 8-byte minExpire */
    bb_byte(&b, 23), bb_str(&b, "l");
    bb_len(&b, 27);
    bb_raw(&b, "\x1b\x00\x00\x00\x06\x00" "\x81x\x02" "\x81y\x02" "\x00\x01"
               "\x81z\x02" "\x81w\x02" "\xf3\x01\x02\x03\x04\x05" "\xff", 27);
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "Redis 7.4 RC forms 22 and 23",
               "key 0 hash 22 h -1\nh a 1 -1\nh b 2 4102444800123\nend\n"
               "key 0 hash 23 l -1\nh x y -1\nh z w 67305985\nend\nEOF\n");

    /* Empty collections are still reported (begin + end). */
    bb_magic(&b, "REDIS0011");
    bb_byte(&b, 2), bb_str(&b, "e"), bb_len(&b, 0);
    bb_byte(&b, 4), bb_str(&b, "h"), bb_len(&b, 0);
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "empty set and hash: begin + end",
               "key 0 set 2 e -1\nend\nkey 0 hash 4 h -1\nend\nEOF\n");
}

/* -------------------------------------------- Redis 8.8 stream type 27 */

/*
 * A type 27 value as Redis 8.8 writes it (laid out as redis/librdb's
 * parser reads RDB 14): one listpack node with entries 100-0 (f=a) and
 * 102-0 (f=b); group g with both pending, 100-0 owned by consumer c and
 * 102-0 released by XNACK (delivery time 0, in g's NACK zone); group h
 * with nothing pending, no consumer and an empty NACK zone; no IDMP
 * producer.
 */
static void bb_stream27(struct bb *b)
{
    static const unsigned char lp[40] = {
        0x28, 0, 0, 0, 15, 0,                                 /* 40 bytes, 15 elements */
        2, 1, 0, 1, 1, 1, 0x81, 'f', 2, 0, 1,                 /* master: 2 live, 0 deleted, [f], 0 */
        2, 1, 0, 1, 0, 1, 0x81, 'a', 2, 4, 1,                 /* SAMEFIELDS, +0-+0, a, lp-count 4 */
        2, 1, 2, 1, 0, 1, 0x81, 'b', 2, 4, 1,                 /* SAMEFIELDS, +2-+0, b, lp-count 4 */
        0xff
    };
    static const unsigned char id100[16] = { 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const unsigned char id102[16] = { 0, 0, 0, 0, 0, 0, 0, 102, 0, 0, 0, 0, 0, 0, 0, 0 };

    bb_len(b, 1), bb_len(b, 16), bb_raw(b, id100, 16), bb_len(b, sizeof(lp)), bb_raw(b, lp, sizeof(lp));
    bb_len(b, 2), bb_len(b, 102), bb_len(b, 0);              /* length, last id */
    bb_len(b, 100), bb_len(b, 0), bb_len(b, 0), bb_len(b, 0), bb_len(b, 2);
    bb_len(b, 2);                                            /* groups */
    bb_str(b, "g"), bb_len(b, 102), bb_len(b, 0), bb_len(b, 2);
    bb_len(b, 2);                                            /* g's PEL */
    bb_raw(b, id100, 16), bb_le(b, 1000, 8), bb_len(b, 1);
    bb_raw(b, id102, 16), bb_le(b, 0, 8), bb_len(b, 2);
    bb_len(b, 1), bb_str(b, "c"), bb_le(b, 1000, 8), bb_le(b, 1500, 8);
    bb_len(b, 1), bb_raw(b, id100, 16);                      /* c's own PEL */
    bb_len(b, 1), bb_raw(b, id102, 16);                      /* g's NACK zone */
    bb_str(b, "h"), bb_len(b, 102), bb_len(b, 0), bb_len(b, 2);
    bb_len(b, 0), bb_len(b, 0), bb_len(b, 0);                /* PEL, consumers, NACK zone */
    bb_len(b, 100), bb_len(b, 50), bb_len(b, 0);             /* IDMP: duration, max, producers */
    bb_len(b, 0), bb_len(b, 0);                              /* iids added, duplicates */
}

#define STREAM27_LOG                                                             \
    "si 100-0 0 f a\nsi 102-0 0 f b\nsm 2 102-0 v2=1 100-0 0-0 2\n"             \
    "sg g 102-0 2\nsp 100-0 1000 1\nsp 102-0 0 2\nsc c 1000 1500\nsq 100-0\n"    \
    "sn 102-0\nsg h 102-0 2\nend\n"

static void bb_dump_footer(struct bb *b, unsigned version)
{
    bb_le(b, version, 2);
    bb_le(b, rdb_crc64(0, b->d, b->n), 8);
}

static void test_hand_stream27(void)
{
    struct bb b;

    bb_magic(&b, "REDIS0014");
    bb_byte(&b, 27), bb_str(&b, "s");
    bb_stream27(&b);
    bb_byte(&b, 0), bb_str(&b, "k"), bb_str(&b, "v");
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "Redis 8.8 stream type 27: PEL, consumer, NACK zone, 2 groups",
               "key 0 stream 27 s -1\n" STREAM27_LOG "key 0 string 0 k -1\nv v\nend\nEOF\n");

    /* The same value as a DUMP payload of version 14. */
    b.n = 0;
    bb_byte(&b, 27), bb_stream27(&b), bb_dump_footer(&b, 14);
    expect_log(&b, RDB_MODE_DUMP, "DUMP of a Redis 8.8 stream (type 27, version 14)",
               "key 0 stream 27  -1\n" STREAM27_LOG "EOF\n");
    /* ... which only RDB 14 can hold: not with a footer of 13, nor 81 */
    b.n = 0;
    bb_byte(&b, 27), bb_stream27(&b), bb_dump_footer(&b, 13);
    expect_error(&b, RDB_MODE_DUMP, "DUMP type 27 with version 13", "type 27 with version 13");
    b.n = 0;
    bb_byte(&b, 27), bb_stream27(&b), bb_dump_footer(&b, 81);
    expect_error(&b, RDB_MODE_DUMP, "DUMP type 27 with version 81", "type 27 with version 81");

    /* Type 27 before RDB 14, or in a Valkey file: unknown. */
    bb_magic(&b, "REDIS0013");
    bb_byte(&b, 27), bb_str(&b, "s"), bb_stream27(&b);
    bb_finish(&b, 1);
    expect_error(&b, RDB_MODE_FILE, "type 27 in a REDIS0013 file", "unknown opcode 0x1b");
    bb_magic(&b, "VALKEY081");
    bb_byte(&b, 27), bb_str(&b, "s"), bb_stream27(&b);
    bb_finish(&b, 1);
    expect_error(&b, RDB_MODE_FILE, "type 27 in a VALKEY081 file", "unknown opcode 0x1b");

    /* A NACK zone cut short. */
    bb_magic(&b, "REDIS0014");
    bb_byte(&b, 27), bb_str(&b, "s"), bb_len(&b, 0);
    bb_len(&b, 0), bb_len(&b, 7), bb_len(&b, 1);
    bb_len(&b, 0), bb_len(&b, 0), bb_len(&b, 7), bb_len(&b, 1), bb_len(&b, 3);
    bb_len(&b, 1), bb_str(&b, "g"), bb_len(&b, 7), bb_len(&b, 1), bb_len(&b, 3);
    bb_len(&b, 0), bb_len(&b, 0), bb_len(&b, 2), bb_raw(&b, "0123456789abcdef", 16);
    expect_error(&b, RDB_MODE_FILE, "type 27, NACK zone cut short", "a stream's NACK zone");
}

/* ------------------------------------------------ Valkey 9.2 path hash */

/* A path hash as Valkey 9.2 writes it (valkey src/rdb.c, OBJ_PATH_HASH):
 * path a/b with f1=v1 and f2=v2, path a/c with f=7 (int-encoded). */
static void bb_path_hash(struct bb *b)
{
    bb_len(b, 2);
    bb_str(b, "a/b"), bb_len(b, 2), bb_str(b, "f1"), bb_str(b, "v1"), bb_str(b, "f2"), bb_str(b, "v2");
    bb_str(b, "a/c"), bb_len(b, 1), bb_str(b, "f"), bb_byte(b, 0xc0), bb_byte(b, 7);
}

static void test_hand_path_hash(void)
{
    struct bb b;

    bb_magic(&b, "VALKEY081");
    bb_byte(&b, 23), bb_str(&b, "p"), bb_path_hash(&b);
    bb_byte(&b, 23), bb_str(&b, "e"), bb_len(&b, 0);        /* no path: a legal empty key */
    bb_byte(&b, 0), bb_str(&b, "k"), bb_str(&b, "v");
    bb_finish(&b, 1);
    expect_log(&b, RDB_MODE_FILE, "Valkey 9.2 PATH_HASH (23) in a VALKEY081 file",
               "key 0 path-hash 23 p -1\nph a/b f1 v1\nph a/b f2 v2\nph a/c f 7\nend\n"
               "key 0 path-hash 23 e -1\nend\nkey 0 string 0 k -1\nv v\nend\nEOF\n");

    /* A path must have a field (rdbLoadObject calls 0 corrupt). */
    bb_magic(&b, "VALKEY081");
    bb_byte(&b, 23), bb_str(&b, "p"), bb_len(&b, 1), bb_str(&b, "x"), bb_len(&b, 0);
    bb_finish(&b, 1);
    expect_error(&b, RDB_MODE_FILE, "path hash path with no field", "path hash path with no field");
    bb_magic(&b, "VALKEY081");
    bb_byte(&b, 23), bb_str(&b, "p"), bb_len(&b, 2), bb_str(&b, "x"), bb_len(&b, 1), bb_str(&b, "f");
    expect_error(&b, RDB_MODE_FILE, "path hash cut short", "a path hash");

    /* Opcode 0xf2 (a command a forkless save inlines, valkey RDB 81) is
     * refused by name after the key before it; in RDB 80 it is unknown. */
    bb_magic(&b, "VALKEY081");
    bb_byte(&b, 0), bb_str(&b, "k"), bb_str(&b, "v");
    bb_byte(&b, 0xf2), bb_raw(&b, "*1\r\n$4\r\nPING\r\n", 14);
    bb_finish(&b, 1);
    expect_error(&b, RDB_MODE_FILE, "opcode 0xf2 in a VALKEY081 file",
                 "Valkey opcode 0xf2, written by a forkless save) at offset 14");
    bb_magic(&b, "VALKEY080");
    bb_byte(&b, 0xf2);
    bb_finish(&b, 1);
    expect_error(&b, RDB_MODE_FILE, "opcode 0xf2 in a VALKEY080 file", "unknown opcode 0xf2");
}

/* ------------------------------------------------ the new types in SQL */

/* Load 'len' bytes of RDB as a full sync into m's sink, fed whole, a byte
 * at a time or split at random: "0", or the error. */
static const char *load_bytes(struct mirror *m, const unsigned char *d, size_t len,
                              enum split how)
{
    static struct rs_error err;
    struct repl_pos pos = { "", -1, 0 };
    struct loader ld;
    enum rs_status st = RS_AGAIN;
    size_t off = 0;

    memset(&err, 0, sizeof(err));
    loader_init(&ld, NULL);
    if (loader_begin(&ld, m->sink, NULL, &err) == 0) {
        while (st == RS_AGAIN && off < len) {
            size_t n = how == SPLIT_WHOLE ? len : how == SPLIT_BYTES ? 1 : 1 + rng() % 50;

            n = n > len - off ? len - off : n;
            st = loader_feed(&ld, (const char *)d + off, n, NULL, &err);
            off += n;
        }
        if (st == RS_DONE)
            loader_commit(&ld, &pos, &err);
        else if (st == RS_AGAIN)
            loader_truncated(&ld, &err);
    }
    loader_end(&ld);
    return err.code ? err.msg : "0";
}

static const char *load_into(struct mirror *m, const struct bb *b, enum split how)
{
    return load_bytes(m, b->d, b->n, how);
}

static const char *const split_name[3] = { "whole", "byte by byte", "random splits" };

/* Redis 8.8's stream (type 27) as a full sync: streams, PEL and groups. */
static void rows_stream27(struct mirror *m, const struct bb *b, int i)
{
    char sql[256], what[96];
    long long g;

    snprintf(what, sizeof(what), "type 27 loaded, %s", split_name[i]);
    CHECK_STR(load_into(m, b, (enum split)i), "0", what);
    CHECK_STR(mirror_q(m, "SELECT key, type FROM redis_keys"), "s,stream", "type 27: the key");
    CHECK_STR(mirror_q(m, "SELECT id, pos, field, value FROM redis_streams ORDER BY ms, seq, pos"),
              "100-0,0,f,a;102-0,0,f,b", "type 27: the entries");
    g = mirror_qi(m, "SELECT generation FROM redsink_status");
    snprintf(sql, sizeof(sql), "SELECT grp, ms, seq, ifnull(consumer, 'NULL'), delivery_time, "
             "delivery_count FROM g%lld_spel ORDER BY grp, ms, seq", g);
    CHECK_STR(mirror_q(m, sql), "g,100,0,c,1000,1;g,102,0,NULL,0,2",
              "type 27: PEL rows, the NACKed entry with no consumer");
    snprintf(sql, sizeof(sql), "SELECT name, last_ms, entries_read FROM g%lld_sgroup ORDER BY name", g);
    CHECK_STR(mirror_q(m, sql), "g,102,2;h,102,2", "type 27: both groups");
    snprintf(sql, sizeof(sql), "SELECT grp, name, seen_time, active_time FROM g%lld_scons", g);
    CHECK_STR(mirror_q(m, sql), "g,c,1000,1500", "type 27: the consumer");
}

/* Valkey 9.2's path hash as a full sync: a key of type path-hash, its
 * fields in redis_path_hashes, none in redis_hashes. */
static void rows_path_hash(struct mirror *m, const struct bb *b, int i)
{
    char what[96];

    snprintf(what, sizeof(what), "path hash loaded, %s", split_name[i]);
    CHECK_STR(load_into(m, b, (enum split)i), "0", what);
    CHECK_STR(mirror_q(m, "SELECT key, type FROM redis_keys ORDER BY key"), "h,hash;p,path-hash",
              "path hash: a key of type path-hash");
    CHECK_STR(mirror_q(m, "SELECT key, path, field, value FROM redis_path_hashes"
                          " ORDER BY path, field"), "p,a/b,f1,v1;p,a/b,f2,v2;p,a/c,f,7",
              "path hash: its rows in redis_path_hashes");
    CHECK_STR(mirror_q(m, "SELECT key, field, value FROM redis_hashes"), "h,f,v",
              "path hash: no rows in redis_hashes");
}

static void test_new_types_rows(void)
{
    struct mirror m;
    struct bb b;

    if (mirror_open(&m, "rdb_new_types.db", 0, 0) != 0)
        return;
    bb_magic(&b, "REDIS0014");
    bb_byte(&b, 27), bb_str(&b, "s"), bb_stream27(&b);
    bb_finish(&b, 1);
    for (int i = 0; i < 3; i++)
        rows_stream27(&m, &b, i);
    bb_magic(&b, "VALKEY081");
    bb_byte(&b, 23), bb_str(&b, "p"), bb_path_hash(&b);
    bb_byte(&b, 4), bb_str(&b, "h"), bb_len(&b, 1), bb_str(&b, "f"), bb_str(&b, "v");
    bb_finish(&b, 1);
    for (int i = 0; i < 3; i++)
        rows_path_hash(&m, &b, i);
    mirror_close(&m);
}

/* A double's bits, for the array's 8-byte float elements. */
static uint64_t dbits(double d)
{
    uint64_t u;

    memcpy(&u, &d, sizeof(u));
    return u;
}

/* Redis 8.8's ARRAY (type 28, RDB 14): count, cursor flag [cursor], then
 * (index, tag, value) with tags 0 SDS, 1 int64, 2 double, 3 small string. */
static void test_hand_arrays(void)
{
    static const struct { double d; const char *text; } floats[] = {
        { 1.5, "1.5" }, { 3.0, "3.0" }, { -0.0, "-0.0" }, { 0.001, "0.001" },
        { -1234.5, "-1234.5" }, { 0.30000000000000004, "0.30000000000000004" },
        { 1152921504606846976.0, "1152921504606846976.0" }, { 123456789.125, "123456789.125" },
    };
    char want[1024];
    size_t w;
    struct bb b;

    bb_magic(&b, "REDIS0014");
    bb_byte(&b, 28), bb_str(&b, "ar"), bb_len(&b, 4), bb_len(&b, 1), bb_len(&b, 41);
    bb_len(&b, 0), bb_len(&b, 1), bb_le(&b, (uint64_t)-42, 8);
    bb_len(&b, 7), bb_len(&b, 3), bb_str(&b, "small");
    bb_len(&b, 41), bb_len(&b, 0), bb_str(&b, "a-longer-string-value");
    bb_len64(&b, 18446744073709551614ULL), bb_len(&b, 2), bb_le(&b, dbits(2.5), 8);
    bb_byte(&b, 28), bb_str(&b, "fl"), bb_len(&b, 8), bb_len(&b, 0);
    for (int i = 0; i < 8; i++)
        bb_len(&b, (uint64_t)i), bb_len(&b, 2), bb_le(&b, dbits(floats[i].d), 8);
    bb_finish(&b, 1);
    w = (size_t)snprintf(want, sizeof(want), "key 0 array 28 ar -1\nac 41\na 0 -42\na 7 small\n"
                         "a 41 a-longer-string-value\na 18446744073709551614 2.5\nend\n"
                         "key 0 array 28 fl -1\n");
    for (int i = 0; i < 8; i++)
        w += (size_t)snprintf(want + w, sizeof(want) - w, "a %d %s\n", i, floats[i].text);
    snprintf(want + w, sizeof(want) - w, "end\nEOF\n");
    expect_log(&b, RDB_MODE_FILE, "Redis 8.8 ARRAY (28): cursor, tags, floats as ARGET prints them",
               want);

    /* the extremes are hundreds of plain digits (a 64-byte buffer overflowed:
     * found by fuzz_dump) */
    bb_magic(&b, "REDIS0014");
    bb_byte(&b, 28), bb_str(&b, "ex"), bb_len(&b, 3), bb_len(&b, 0);
    bb_len(&b, 0), bb_len(&b, 2), bb_le(&b, dbits(1e300), 8);
    bb_len(&b, 1), bb_len(&b, 2), bb_le(&b, dbits(-4.9406564584124654e-324), 8);
    bb_len(&b, 2), bb_len(&b, 2), bb_le(&b, dbits(-1.7976931348623157e308), 8);
    bb_finish(&b, 1);
    {
        static char big[2048];
        size_t n = (size_t)snprintf(big, sizeof(big), "key 0 array 28 ex -1\na 0 1");

        for (int i = 0; i < 300; i++)
            big[n++] = '0';
        n += (size_t)snprintf(big + n, sizeof(big) - n, ".0\na 1 -0.");
        for (int i = 0; i < 323; i++)
            big[n++] = '0';
        n += (size_t)snprintf(big + n, sizeof(big) - n, "5\na 2 -17976931348623157");
        for (int i = 0; i < 292; i++)
            big[n++] = '0';
        snprintf(big + n, sizeof(big) - n, ".0\nend\nEOF\n");
        expect_log(&b, RDB_MODE_FILE, "ARRAY floats 1e300, -5e-324, -DBL_MAX in plain digits", big);
    }

    bb_magic(&b, "REDIS0013");
    bb_byte(&b, 28), bb_str(&b, "ar"), bb_len(&b, 0), bb_len(&b, 0);
    expect_error(&b, RDB_MODE_FILE, "type 28 before RDB 14", "unknown opcode 0x1c");
    bb_magic(&b, "REDIS0014");
    bb_byte(&b, 28), bb_str(&b, "ar"), bb_len(&b, 1), bb_len(&b, 2);
    expect_error(&b, RDB_MODE_FILE, "array cursor flag 2", "bad array cursor flag 2");
    bb_magic(&b, "REDIS0014");
    bb_byte(&b, 28), bb_str(&b, "ar"), bb_len(&b, 1), bb_len(&b, 0), bb_len(&b, 0), bb_len(&b, 4);
    expect_error(&b, RDB_MODE_FILE, "array element tag 4", "bad array element tag 4");
}

static void test_hand_errors(void)
{
    struct bb b;

    bb_magic(&b, "REDIS0011");
    bb_byte(&b, 0x2a);
    expect_error(&b, RDB_MODE_FILE, "unknown opcode", "unknown opcode 0x2a at offset 9");

    bb_magic(&b, "REDIS0011");
    bb_byte(&b, 0), bb_str(&b, "k"), bb_byte(&b, 0xc5);
    expect_error(&b, RDB_MODE_FILE, "bad string encoding", "at offset 12");

    bb_magic(&b, "REDIS0011");
    bb_byte(&b, 0), bb_str(&b, "k"), bb_byte(&b, 0x80), bb_raw(&b, "\xff\xff\xff\xf0", 4);
    expect_error(&b, RDB_MODE_FILE, "forged 4 GB string length", "exceeds the limit");

    bb_magic(&b, "REDIS0011");
    bb_byte(&b, 0), bb_str(&b, "k"), bb_len64(&b, 1ULL << 60);
    expect_error(&b, RDB_MODE_FILE, "forged 2^60 string length", "exceeds the limit");

    bb_magic(&b, "REDIS0011");
    bb_byte(&b, 0), bb_str(&b, "k"), bb_byte(&b, 0xc3), bb_len(&b, 3), bb_len(&b, 400000000),
        bb_raw(&b, "\x02xyz", 4);
    expect_error(&b, RDB_MODE_FILE, "forged LZF expansion", "bad LZF string");

    /* A 300 MB string length within the limit, 100 bytes present: no
     * error until the input ends, then "truncated". */
    bb_magic(&b, "REDIS0011");
    bb_byte(&b, 0), bb_str(&b, "k"), bb_len(&b, 300u << 20);
    memset(b.d + b.n, 'q', 100);
    b.n += 100;
    expect_error(&b, RDB_MODE_FILE, "300 MB length, 100 bytes sent", "truncated at offset 117 (inside a string value)");

    bb_magic(&b, "RODIS0011");
    expect_error(&b, RDB_MODE_FILE, "bad magic", "bad magic");
    bb_magic(&b, "REDIS0015");
    expect_error(&b, RDB_MODE_FILE, "RDB version 15", "unsupported RDB version 15");

    /* A corrupt listpack: the entry claims more bytes than the blob has. */
    bb_magic(&b, "REDIS0011");
    bb_byte(&b, 20), bb_str(&b, "s"), bb_len(&b, 10);
    bb_raw(&b, "\x0a\x00\x00\x00\x01\x00\x85\x61\x02\xff", 10);
    bb_finish(&b, 1);
    expect_error(&b, RDB_MODE_FILE, "corrupt listpack", "corrupt listpack at offset 12");

}

/* A handler that stops the parser, with and without its own message. */
static struct rdb_parser *stop_parser;

static int stop_key(void *ud, const struct rdb_key *k)
{
    (void)ud;
    (void)k;
    if (stop_parser)
        rdb_parser_set_error(stop_parser, RS_E_CALLBACK, "key refused by the test");
    return 1;
}

static void test_callback_stop(void)
{
    struct rdb_handlers h = { .on_key_begin = stop_key };
    const struct rs_error *e;
    enum rs_status st;
    size_t used;
    struct bb b;

    bb_magic(&b, "REDIS0011");
    bb_byte(&b, 0), bb_str(&b, "k"), bb_str(&b, "v");
    bb_finish(&b, 1);
    for (int own = 0; own < 2; own++) {
        struct rdb_parser *p = rdb_parser_new(RDB_MODE_FILE, &h, NULL, 0);

        stop_parser = own ? p : NULL;
        st = rdb_parser_feed(p, (const char *)b.d, b.n, &used);
        e = rdb_parser_error(p);
        CHECK(st == RS_ERROR && e->code == RS_E_CALLBACK &&
              strstr(e->msg, own ? "refused by the test" : "handler stopped") != NULL,
              "handler returning non-zero stops the parser: '%s'", e->msg);
        st = rdb_parser_feed(p, (const char *)b.d, b.n, &used);
        CHECK(st == RS_ERROR && used == 0, "the error is sticky");
        rdb_parser_free(p);
    }
    stop_parser = NULL;
}

/* -------------------------------------------------------------- JSON */

/* One stream consumer group being collected until it can be printed
 * (the owner of each PEL entry is only known from the consumers). */
struct jpel {
    struct rs_stream_id id;
    uint64_t count;
    struct tbuf owner;
};

struct jgroup {
    int open;
    struct tbuf head;          /* name, last id, entries_read */
    struct jpel *pel;
    size_t npel, cap;
    struct tbuf consumers;     /* [{name, pending: [ids]}, ...] without the brackets */
    int ncons, cons_open;
    struct tbuf cur_cons;      /* hex name of the consumer being read */
};

struct jstate {
    struct tbuf line, fexp;
    enum rs_type type;
    size_t n, nfexp;
    int entry_open, nentries, ngroups;
    struct jgroup g;
    int keys;
};

static void j_id(struct tbuf *b, const struct rs_stream_id *id)
{
    tbuf_printf(b, "\"%" PRIu64 "-%" PRIu64 "\"", id->ms, id->seq);
}

static void j_hexstr(struct tbuf *b, const struct rs_bytes *v)
{
    tbuf_add(b, "\"", 1);
    sb_hex(b, v);
    tbuf_add(b, "\"", 1);
}

static int j_key(void *ud, const struct rdb_key *k)
{
    struct jstate *j = ud;

    j->line.len = 0;
    j->fexp.len = 0;
    j->n = j->nfexp = 0;
    j->entry_open = j->nentries = j->ngroups = 0;
    j->type = k->type;
    tbuf_printf(&j->line, "{\"db\":%d,\"key\":", k->db);
    j_hexstr(&j->line, &k->name);
    tbuf_printf(&j->line, ",\"type\":\"%s\",\"rdb_type\":%d,\"expire_at_ms\":",
                rs_type_name(k->type),
              k->rdb_type);
    if (k->expire_ms == RS_NO_EXPIRE)
        tbuf_printf(&j->line, "null");
    else
        tbuf_printf(&j->line, "%" PRId64, k->expire_ms);
    tbuf_printf(&j->line, ",\"value\":");
    if (k->type == RS_T_HASH)
        tbuf_add(&j->line, "{", 1);
    else if (k->type != RS_T_STRING && k->type != RS_T_MODULE)
        tbuf_add(&j->line, "[", 1);
    if (k->type == RS_T_MODULE) {
        tbuf_printf(&j->line, "null,\"module\":\"");
        tbuf_add(&j->line, k->module.ptr, k->module.len);
        tbuf_add(&j->line, "\"", 1);
    }
    return 0;
}

static int j_str(void *ud, const struct rs_bytes *v)
{
    struct jstate *j = ud;

    j_hexstr(&j->line, v);
    j->n++;
    return 0;
}

static int j_item(void *ud, const struct rs_bytes *v)
{
    struct jstate *j = ud;

    if (j->n++)
        tbuf_add(&j->line, ",", 1);
    j_hexstr(&j->line, v);
    return 0;
}

static int j_zset(void *ud, const struct rs_bytes *m, double s)
{
    struct jstate *j = ud;

    if (j->n++)
        tbuf_add(&j->line, ",", 1);
    tbuf_add(&j->line, "[", 1);
    j_hexstr(&j->line, m);
    tbuf_printf(&j->line, ",\"%.17g\"]", s);
    return 0;
}

static int j_hash(void *ud, const struct rs_bytes *f, const struct rs_bytes *v, int64_t e)
{
    struct jstate *j = ud;

    if (j->n++)
        tbuf_add(&j->line, ",", 1);
    j_hexstr(&j->line, f);
    tbuf_add(&j->line, ":", 1);
    j_hexstr(&j->line, v);
    if (e != RS_NO_EXPIRE) {
        if (j->nfexp++)
            tbuf_add(&j->fexp, ",", 1);
        j_hexstr(&j->fexp, f);
        tbuf_printf(&j->fexp, ":%" PRId64, e);
    }
    return 0;
}

static int j_sitem(void *ud, const struct rs_stream_id *id, int pos,
                   const struct rs_bytes *f, const struct rs_bytes *v)
{
    struct jstate *j = ud;

    if (pos == 0) {
        if (j->entry_open)
            tbuf_add(&j->line, "]],", 3);
        tbuf_add(&j->line, "[", 1);
        j_id(&j->line, id);
        tbuf_add(&j->line, ",[", 2);
        j->entry_open = 1;
        j->nentries++;
    } else {
        tbuf_add(&j->line, ",", 1);
    }
    tbuf_add(&j->line, "[", 1);
    j_hexstr(&j->line, f);
    tbuf_add(&j->line, ",", 1);
    j_hexstr(&j->line, v);
    tbuf_add(&j->line, "]", 1);
    return 0;
}

static int j_smeta(void *ud, const struct rs_stream_meta *m)
{
    struct jstate *j = ud;

    if (j->entry_open)
        tbuf_add(&j->line, "]]", 2);
    j->entry_open = 0;
    tbuf_printf(&j->line, "],\"stream\":{\"length\":%" PRIu64 ",\"last_id\":", m->length);
    j_id(&j->line, &m->last_id);
    if (m->has_v2) {
        tbuf_add(&j->line, ",\"first_id\":", 12);
        j_id(&j->line, &m->first_id);
        tbuf_add(&j->line, ",\"max_deleted_entry_id\":", 24);
        j_id(&j->line, &m->max_deleted_id);
        tbuf_printf(&j->line, ",\"entries_added\":%" PRIu64, m->entries_added);
    } else {
        tbuf_printf(&j->line,
                    ",\"first_id\":null,\"max_deleted_entry_id\":null,\"entries_added\":null");
    }
    tbuf_printf(&j->line, ",\"groups\":[");
    return 0;
}

static void j_flush_group(struct jstate *j)
{
    struct jgroup *g = &j->g;

    if (!g->open)
        return;
    if (j->ngroups++)
        tbuf_add(&j->line, ",", 1);
    tbuf_add(&j->line, g->head.p, g->head.len);
    tbuf_add(&j->line, ",\"pending\":[", 12);
    for (size_t i = 0; i < g->npel; i++) {
        tbuf_add(&j->line, i ? ",[" : "[", i ? 2 : 1);
        j_id(&j->line, &g->pel[i].id);
        if (g->pel[i].owner.len)
            tbuf_printf(&j->line, ",\"%s\"", g->pel[i].owner.p);
        else
            tbuf_printf(&j->line, ",null");
        tbuf_printf(&j->line, ",%" PRIu64 "]", g->pel[i].count);
        g->pel[i].owner.len = 0;
    }
    tbuf_add(&j->line, "],\"consumers\":[", 15);
    tbuf_add(&j->line, g->consumers.p, g->consumers.len);
    if (g->cons_open)
        tbuf_add(&j->line, "]}", 2);
    tbuf_add(&j->line, "]}", 2);
    g->open = 0;
}

static int j_group(void *ud, const struct rs_stream_group *gr)
{
    struct jstate *j = ud;
    struct jgroup *g = &j->g;

    j_flush_group(j);
    g->open = 1;
    g->head.len = 0;
    g->consumers.len = 0;
    tbuf_add(&g->consumers, "", 0);
    g->npel = 0;
    g->ncons = g->cons_open = 0;
    tbuf_add(&g->head, "{\"name\":", 8);
    j_hexstr(&g->head, &gr->name);
    tbuf_add(&g->head, ",\"last_delivered_id\":", 21);
    j_id(&g->head, &gr->last_id);
    if (gr->entries_read < 0)
        tbuf_printf(&g->head, ",\"entries_read\":null");
    else
        tbuf_printf(&g->head, ",\"entries_read\":%" PRId64, gr->entries_read);
    return 0;
}

static int j_pend(void *ud, const struct rs_stream_pending *pe)
{
    struct jgroup *g = &((struct jstate *)ud)->g;

    if (g->npel == g->cap) {
        size_t old = g->cap;

        g->cap = g->cap ? g->cap * 2 : 16;
        g->pel = realloc(g->pel, g->cap * sizeof(*g->pel));
        memset(g->pel + old, 0, (g->cap - old) * sizeof(*g->pel));
    }
    g->pel[g->npel].id = pe->id;
    g->pel[g->npel].count = pe->delivery_count;
    g->pel[g->npel].owner.len = 0;
    g->npel++;
    return 0;
}

static int j_cons(void *ud, const struct rs_stream_consumer *c)
{
    struct jgroup *g = &((struct jstate *)ud)->g;

    if (g->cons_open)
        tbuf_add(&g->consumers, "]},", 3);
    tbuf_add(&g->consumers, "{\"name\":", 8);
    j_hexstr(&g->consumers, &c->name);
    tbuf_add(&g->consumers, ",\"pending\":[", 12);
    g->cons_open = 1;
    g->ncons = 0;
    g->cur_cons.len = 0;
    sb_hex(&g->cur_cons, &c->name);
    tbuf_add(&g->cur_cons, "", 0);
    return 0;
}

static int j_cpend(void *ud, const struct rs_stream_id *id)
{
    struct jgroup *g = &((struct jstate *)ud)->g;

    if (g->ncons++)
        tbuf_add(&g->consumers, ",", 1);
    j_id(&g->consumers, id);
    for (size_t i = 0; i < g->npel; i++) {
        if (g->pel[i].id.ms == id->ms && g->pel[i].id.seq == id->seq) {
            g->pel[i].owner.len = 0;
            tbuf_add(&g->pel[i].owner, g->cur_cons.p, g->cur_cons.len);
        }
    }
    return 0;
}

static int j_kend(void *ud)
{
    struct jstate *j = ud;

    if (j->type == RS_T_STREAM) {
        j_flush_group(j);
        tbuf_add(&j->line, "]}}", 3);
    } else {
        if (j->type == RS_T_HASH)
            tbuf_add(&j->line, "}", 1);
        else if (j->type != RS_T_STRING && j->type != RS_T_MODULE)
            tbuf_add(&j->line, "]", 1);
        if (j->nfexp) {
            tbuf_add(&j->line, ",\"field_expire_at_ms\":{", 23);
            tbuf_add(&j->line, j->fexp.p, j->fexp.len);
            tbuf_add(&j->line, "}", 1);
        }
        tbuf_add(&j->line, "}", 1);
        /* Redis drops keys whose collection turned out empty. */
        if (j->n == 0 && j->type != RS_T_MODULE)
            return 0;
    }
    printf("%s%s\n", j->keys++ ? "," : "", j->line.p);
    return 0;
}

static int json_main(const char *path)
{
    static const struct rdb_handlers h = {
        .on_key_begin = j_key, .on_string = j_str, .on_list_item = j_item,
        .on_set_member = j_item, .on_zset_member = j_zset, .on_hash_field = j_hash,
        .on_stream_item = j_sitem, .on_stream_meta = j_smeta, .on_stream_group = j_group,
        .on_stream_pending = j_pend, .on_stream_consumer = j_cons,
        .on_stream_consumer_pending = j_cpend, .on_key_end = j_kend,
    };
    struct jstate j;
    struct outcome o;
    unsigned char *d;
    size_t n;

    if ((d = read_file(path, &n)) == NULL) {
        fprintf(stderr, "cannot read '%s'\n", path);
        return 99;
    }
    memset(&j, 0, sizeof(j));
    printf("[\n");
    o = parse_with(d, n, RDB_MODE_FILE, SPLIT_RANDOM, &h, &j, 0);
    printf("]\n");
    fflush(stdout);
    free(d);
    free(j.line.p);
    free(j.fexp.p);
    free(j.g.head.p);
    free(j.g.consumers.p);
    free(j.g.cur_cons.p);
    for (size_t i = 0; i < j.g.cap; i++)
        free(j.g.pel[i].owner.p);
    free(j.g.pel);
    if (o.st != RS_DONE) {
        fprintf(stderr, "%s: %s\n", path, o.msg);
        return 99;
    }
    return 0;
}

/* ---------------------------------------------- items at every threshold */

/*
 * Items of the sizes where a buffer, a chunk or an encoding changes
 * (issue 11): 0, 1, LZF's literal run (32) and back reference (264), the
 * parser's first stash (256), listpack's string encodings (64, 4096),
 * Redis' encoding limits (64, 8 KiB), the chunks the link, the spool and
 * the import feed the parser with (64 KiB), the sink's bulk buffer
 * (256 KiB), RDB_BUF_KEEP (1 MiB) and beyond, each -1/+0/+1, raw and
 * LZF-compressed, incompressible and compressible. Each RDB is fed whole,
 * in the 64 KiB chunks of the link and the import, at 64 KiB +- 1, at
 * random points and (small ones) byte by byte; the transcript must equal
 * the one computed from the values themselves, so a byte read from a
 * freed buffer fails even when it does not crash.
 */
#define UC(p) ((unsigned char *)(p))

static void gb_byte(struct tbuf *g, unsigned v)
{
    unsigned char c = (unsigned char)v;

    tbuf_add(g, &c, 1);
}

static void gb_le(struct tbuf *g, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        gb_byte(g, (unsigned)(v >> (8 * i)) & 0xff);
}

static void gb_len(struct tbuf *g, uint64_t v)
{
    if (v < 64) {
        gb_byte(g, (unsigned)v);
    } else if (v < 16384) {
        gb_byte(g, 0x40 | (unsigned)(v >> 8));
        gb_byte(g, (unsigned)(v & 0xff));
    } else {
        gb_byte(g, 0x80);
        for (int i = 3; i >= 0; i--)
            gb_byte(g, (unsigned)(v >> (8 * i)) & 0xff);
    }
}

/* n bytes: random (incompressible), or made of random literals and copies
 * of earlier bytes at random distances (LZF finds back references of
 * every length up to its maximum of 264 in it). */
static void fill_value(unsigned char *v, size_t n, int compressible)
{
    size_t i = 0;

    while (i < n) {
        size_t run = 1 + (size_t)(rng() % (compressible ? 80 : 4096));

        if (compressible && i > 0 && rng() % 2) {
            size_t d = 1 + (size_t)(rng() % (i < 8000 ? i : 8000));

            run = 1 + (size_t)(rng() % 600);
            for (size_t j = 0; j < run && i < n; j++, i++)
                v[i] = v[i - d];
        } else {
            for (size_t j = 0; j < run && i < n; j++, i++)
                v[i] = (unsigned char)(rng() >> 24);
        }
    }
}

/* LZF (§9 of the RDB format): a control byte below 32 starts a run of
 * ctrl+1 literal bytes (at most 32); otherwise the top 3 bits (7: plus
 * the next byte) are the copy length - 2 (at most 264) and the low 5
 * bits with the next byte the distance - 1 (at most 8192). Greedy, with
 * the last position of each 3-byte prefix; an incompressible input gives
 * literal runs only. Returns the compressed length. */
static size_t lzf_encode(const unsigned char *in, size_t n, unsigned char *out)
{
    enum { HBITS = 14 };
    static size_t last[1 << HBITS];
    size_t i = 0, o = 0, lit = 0, lit_at = 0;

    for (size_t h = 0; h < (1u << HBITS); h++)
        last[h] = (size_t)-1;
    while (i < n) {
        size_t cand = (size_t)-1, len = 0;

        if (i + 3 <= n) {
            unsigned h = ((unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2]) * 2654435761u
                         >> (32 - HBITS);

            cand = last[h];
            last[h] = i;
            if (cand != (size_t)-1 && i - cand <= 8192)
                while (len < 264 && i + len < n && in[cand + len] == in[i + len])
                    len++;
        }
        if (len < 3) {
            if (lit == 0)
                lit_at = o++;
            out[o++] = in[i++];
            if (++lit == 32) {
                out[lit_at] = 31;
                lit = 0;
            }
            continue;
        }
        if (lit) {
            out[lit_at] = (unsigned char)(lit - 1);
            lit = 0;
        }
        size_t off = i - cand - 1, l = len - 2;

        if (l < 7) {
            out[o++] = (unsigned char)(l << 5 | off >> 8);
        } else {
            out[o++] = (unsigned char)(7 << 5 | off >> 8);
            out[o++] = (unsigned char)(l - 7);
        }
        out[o++] = (unsigned char)(off & 0xff);
        i += len;
    }
    if (lit)
        out[lit_at] = (unsigned char)(lit - 1);
    return o;
}

/* An RDB string: raw, or in the LZF form (0xC3, clen, ulen, data). */
static void gb_string(struct tbuf *g, const unsigned char *v, size_t n, int lzf)
{
    if (!lzf || n == 0) {
        gb_len(g, n);
        tbuf_add(g, v, n);
        return;
    }
    unsigned char *z = malloc(n + n / 32 + 16);

    if (z == NULL) {
        perror("malloc");
        exit(99);
    }
    size_t zn = lzf_encode(v, n, z);

    gb_byte(g, 0xC3);
    gb_len(g, zn);
    gb_len(g, n);
    tbuf_add(g, z, zn);
    free(z);
}

/* A listpack string entry (§7.3) with its backlen. */
static void lp_string(struct tbuf *g, const unsigned char *v, size_t n)
{
    size_t l;

    if (n < 64) {
        gb_byte(g, 0x80 | (unsigned)n);
        l = 1 + n;
    } else if (n < 4096) {
        gb_byte(g, 0xE0 | (unsigned)(n >> 8));
        gb_byte(g, (unsigned)(n & 0xff));
        l = 2 + n;
    } else {
        gb_byte(g, 0xF0);
        gb_le(g, n, 4);
        l = 5 + n;
    }
    tbuf_add(g, v, n);
    unsigned char bl[5];
    int k = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;

    for (int i = k - 1; i >= 0; i--) {
        bl[i] = (unsigned char)((l & 127) | (i == 0 ? 0 : 128));
        l >>= 7;
    }
    tbuf_add(g, bl, (size_t)k);
}

/* A listpack of 'count' string entries. */
static void gb_listpack(struct tbuf *out, const unsigned char **v, const size_t *n, int count)
{
    struct tbuf lp = { 0 };

    gb_le(&lp, 0, 4);
    gb_le(&lp, (uint64_t)count, 2);
    for (int i = 0; i < count; i++)
        lp_string(&lp, v[i], n[i]);
    gb_byte(&lp, 0xFF);
    for (int i = 0; i < 4; i++)
        UC(lp.p)[i] = (unsigned char)(lp.len >> (8 * i));
    tbuf_add(out, UC(lp.p), lp.len);
    free(lp.p);
}

static void tkey(struct transcript *t, int type, int rdb_type, const void *name, size_t len)
{
    struct rdb_key k = { 0, type, rdb_type, { name, len }, RS_NO_EXPIRE, { "", 0 } };

    t_key(t, &k);
}

/* One RDB holding an item of n bytes in every place an item can be:
 * string value, key name, list (type 1) element, set member, zset
 * member, hash field and value, quicklist-2 PLAIN node and listpack
 * node, listpack hash value. 'all' 0: the string and key name only.
 * The expected transcript is built alongside. */
static void big_rdb(struct tbuf *g, struct transcript *t, const unsigned char *v, size_t n,
                    const unsigned char *kn, int lzf, int all)
{
    static const double score = 1.5;
    struct rs_bytes bv = { (const char *)v, n }, a = { "a", 1 }, x = { "x", 1 };

    memset(t, 0, sizeof(*t));
    t->h = 0xcbf29ce484222325ULL;
    g->len = 0;
    tbuf_add(g, "REDIS0011", 9);
    gb_byte(g, 0xFE), gb_len(g, 0), t_db(t, 0);

    gb_byte(g, 0), gb_string(g, (const unsigned char *)"s", 1, 0), gb_string(g, v, n, lzf);
    tkey(t, RS_T_STRING, 0, "s", 1), t_one(t, &bv), t_kend(t);
    gb_byte(g, 0), gb_string(g, kn, n, lzf), gb_string(g, (const unsigned char *)"k", 1, 0);
    tkey(t, RS_T_STRING, 0, kn, n), t_one(t, &(struct rs_bytes){ "k", 1 }), t_kend(t);
    if (all) {
        const unsigned char *lv[2] = { (const unsigned char *)"f", v };
        size_t ln[2] = { 1, n };

        gb_byte(g, 1), gb_string(g, (const unsigned char *)"l", 1, 0), gb_len(g, 3);
        gb_string(g, (const unsigned char *)"a", 1, 0), gb_string(g, v, n, lzf);
        gb_string(g, (const unsigned char *)"x", 1, lzf);
        tkey(t, RS_T_LIST, 1, "l", 1), t_one(t, &a), t_one(t, &bv), t_one(t, &x), t_kend(t);

        gb_byte(g, 2), gb_string(g, (const unsigned char *)"S", 1, 0), gb_len(g, 2);
        gb_string(g, v, n, lzf), gb_string(g, (const unsigned char *)"a", 1, 0);
        tkey(t, RS_T_SET, 2, "S", 1), t_one(t, &bv), t_one(t, &a), t_kend(t);

        gb_byte(g, 5), gb_string(g, (const unsigned char *)"z", 1, 0), gb_len(g, 1);
        gb_string(g, v, n, lzf), tbuf_add(g, &score, 8);
        tkey(t, RS_T_ZSET, 5, "z", 1), t_zset(t, &bv, score), t_kend(t);

        gb_byte(g, 4), gb_string(g, (const unsigned char *)"h", 1, 0), gb_len(g, 2);
        gb_string(g, v, n, lzf), gb_string(g, (const unsigned char *)"x", 1, 0);
        gb_string(g, (const unsigned char *)"a", 1, 0), gb_string(g, v, n, lzf);
        tkey(t, RS_T_HASH, 4, "h", 1);
        t_hash(t, &bv, &x, RS_NO_EXPIRE), t_hash(t, &a, &bv, RS_NO_EXPIRE), t_kend(t);

        /* quicklist 2: a PLAIN node (container 1), then a PACKED one (2) */
        struct tbuf lp = { 0 };

        gb_listpack(&lp, &lv[1], &ln[1], 1);
        gb_byte(g, 18), gb_string(g, (const unsigned char *)"q", 1, 0), gb_len(g, 2);
        gb_len(g, 1), gb_string(g, v, n, lzf);
        gb_len(g, 2), gb_string(g, UC(lp.p), lp.len, lzf);
        tkey(t, RS_T_LIST, 18, "q", 1), t_one(t, &bv), t_one(t, &bv), t_kend(t);

        /* listpack hash (type 16): f -> v */
        lp.len = 0;
        gb_listpack(&lp, lv, ln, 2);
        gb_byte(g, 16), gb_string(g, (const unsigned char *)"H", 1, 0), gb_string(g, UC(lp.p),
                lp.len, lzf);
        tkey(t, RS_T_HASH, 16, "H", 1);
        t_hash(t, &(struct rs_bytes){ "f", 1 }, &bv, RS_NO_EXPIRE), t_kend(t);
        free(lp.p);
    }
    gb_byte(g, 0xFF);
    gb_le(g, rdb_crc64(0, UC(g->p), g->len), 8);
    t_end(t);
}

static void expect_same(const struct tbuf *g, enum rdb_mode mode, const struct transcript *want,
                        size_t chunk, const char *what, size_t n, int lzf, int comp)
{
    struct transcript t;
    struct outcome o;

    memset(&t, 0, sizeof(t));
    t.h = 0xcbf29ce484222325ULL;
    split_chunk = chunk;
    o = parse_with(UC(g->p), g->len, mode, chunk == (size_t)-1 ? SPLIT_BYTES : SPLIT_CHUNK,
                   &transcript_handlers, &t, 0);
    int ok = o.st == RS_DONE && o.consumed == g->len && t.h == want->h && t.events == want->events;
    char how[48];

    if (chunk == (size_t)-1)
        snprintf(how, sizeof(how), "byte by byte");
    else if (chunk == 0)
        snprintf(how, sizeof(how), "at random points");
    else
        snprintf(how, sizeof(how), "in chunks of %zu", chunk);
    /* one line per item for the random split, all failures */
    check_at(__LINE__, chunk != 0, ok,
             "%s of %zu bytes (%s%s), fed %s: %s, %" PRIu64 "/%" PRIu64 " events%s",
              what, n, comp ? "compressible" : "random", lzf ? ", LZF" : "", how,
              o.st == RS_DONE ? "done" : o.msg, t.events, want->events,
              ok || o.st != RS_DONE ? "" : ", transcript differs");
}

/* A listpack integer of 0..127 (7-bit form) with its backlen. */
static void lp_small_int(struct tbuf *g, unsigned v)
{
    gb_byte(g, v);
    gb_byte(g, 1);
}

/* A stream (type 15) of one listpack node whose entries all have the one
 * field "f": entry i is (ms[i])-0 with value v[i]; ms[0] is the lowest
 * (the node's master id: entries hold deltas to it). */
static void gb_stream_f(struct tbuf *g, const char *key, const unsigned *ms,
                        const unsigned char **v, const size_t *n, int count)
{
    struct tbuf lp = { 0 };
    unsigned char mid[16] = { 0 };

    mid[7] = (unsigned char)ms[0];
    gb_le(&lp, 0, 4);
    gb_le(&lp, 5 + 5 * (uint64_t)count, 2);
    lp_small_int(&lp, (unsigned)count), lp_small_int(&lp, 0), lp_small_int(&lp, 1);
    lp_string(&lp, (const unsigned char *)"f", 1), lp_small_int(&lp, 0);
    for (int i = 0; i < count; i++) {
        lp_small_int(&lp, 2);                         /* SAMEFIELDS */
        lp_small_int(&lp, ms[i] - ms[0]), lp_small_int(&lp, 0);
        lp_string(&lp, v[i], n[i]);
        lp_small_int(&lp, 4);                         /* lp-count */
    }
    gb_byte(&lp, 0xFF);
    for (int i = 0; i < 4; i++)
        UC(lp.p)[i] = (unsigned char)(lp.len >> (8 * i));
    gb_byte(g, 15), gb_string(g, (const unsigned char *)key, strlen(key), 0);
    gb_len(g, 1), gb_string(g, mid, 16, 0), gb_string(g, UC(lp.p), lp.len, 0);
    gb_len(g, (uint64_t)count), gb_len(g, ms[count - 1]), gb_len(g, 0);   /* length, last id */
    gb_len(g, 0);                                                     /* no group */
    free(lp.p);
}

/*
 * A forged RDB whose streams repeat an entry id, with a value of 1 MiB or
 * more (the sink keeps it in gN_big): the later entry wins, as a repeated
 * hash field does, and no gN_big row is left that no entry points at.
 * The loader deletes the earlier entry first (loader.c, stream_entry_begin).
 */
static void test_stream_dup_big(void)
{
    const size_t n = (1 << 20) + 9;
    unsigned char *big = malloc(n);
    const unsigned char *s = (const unsigned char *)"s";
    struct tbuf g = { 0 };
    struct mirror m;
    char sql[400];
    long long gen;

    if (big == NULL || mirror_open(&m, "rdb_stream_dups.db", 0, 0) != 0) {
        free(big);
        return;
    }
    fill_value(big, n, 0);
    tbuf_add(&g, "REDIS0011", 9);
    gb_byte(&g, 0xFE), gb_len(&g, 0);
    /* x: 1-0 big, 1-0 "s", 2-0 "s"; y: 1-0 "s", 1-0 big; z: 1-0 "s", 3-0 big, 2-0 "s",
     * 3-0 "s" (not the last id, nor the one before it) */
    gb_stream_f(&g, "x", (const unsigned[]){ 1, 1, 2 }, (const unsigned char *[]){ big, s, s },
                (const size_t[]){ n, 1, 1 }, 3);
    gb_stream_f(&g, "y", (const unsigned[]){ 1, 1 }, (const unsigned char *[]){ s, big },
                (const size_t[]){ 1, n }, 2);
    gb_stream_f(&g, "z", (const unsigned[]){ 1, 3, 2, 3 },
                (const unsigned char *[]){ s, big, s, s }, (const size_t[]){ 1, n, 1, 1 }, 4);
    gb_byte(&g, 0xFF);
    gb_le(&g, rdb_crc64(0, UC(g.p), g.len), 8);
    CHECK_STR(load_bytes(&m, UC(g.p), g.len, SPLIT_WHOLE), "0",
              "stream with repeated entry ids and a 1 MiB value loaded");
    CHECK_STR(mirror_q(&m, "SELECT key, id, length(value) FROM redis_streams ORDER BY key, ms"),
              "x,1-0,1;x,2-0,1;y,1-0,1048585;z,1-0,1;z,2-0,1;z,3-0,1",
              "repeated stream entry ids: the later entry wins");
    gen = mirror_qi(&m, "SELECT generation FROM redsink_status");
    snprintf(sql, sizeof(sql), "SELECT count(*), (SELECT count(*) FROM g%1$lld_big WHERE id NOT IN"
             " (SELECT big FROM g%1$lld_stream WHERE big IS NOT NULL)) FROM g%1$lld_big", gen);
    CHECK_STR(mirror_q(&m, sql), "1,0",
              "repeated stream entry ids: one big row (y's), no orphan");
    mirror_close(&m);
    free(g.p);
    free(big);
}

static void test_big_items(void)
{
    static const size_t sizes[] = {
        0, 1, 2, 20, 21, 22, 31, 32, 33, 63, 64, 65, 255, 256, 257, 263, 264, 265,
        4095, 4096, 4097, 8191, 8192, 8193, 16383, 16384, 16385, 65535, 65536, 65537,
        262143, 262144, 262145, 1048575, 1048576, 1048577, 2097152 + 3, 16777216,
    };
    static const size_t chunks[] = { 0, 65536, 65535, 65537, 4096, 0 };
    struct tbuf g = { 0 };
    size_t maxn = 16777216 + 1;
    unsigned char *v = malloc(maxn), *kn = malloc(maxn);

    if (v == NULL || kn == NULL) {
        CHECK(0, "allocate the values");
        exit(99);
    }
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i];
        int all = n <= 4 * 1048576;

        for (int form = 0; form < 4; form++) {
            int lzf = form & 1, comp = form >> 1;
            struct transcript want, t;
            struct outcome o;

            if (!all && form == 1)
                continue;       /* 16 MiB: raw random, LZF both, raw compressible */
            fill_value(v, n, comp);
            fill_value(kn, n, comp);
            big_rdb(&g, &want, v, n, kn, lzf, all);
            o = parse_transcript(UC(g.p), g.len, RDB_MODE_FILE, SPLIT_WHOLE, &t);
            CHECK(o.st == RS_DONE && o.consumed == g.len && t.h == want.h &&
                  t.events == want.events,
                  "items of %zu bytes (%s%s), fed whole: %s, %" PRIu64 "/%" PRIu64 " events",
                  n, comp ? "compressible" : "random", lzf ? ", LZF" : "",
                  o.st == RS_DONE ? "done" : o.msg, t.events, want.events);
            for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
                expect_same(&g, RDB_MODE_FILE, &want, chunks[c], "items", n, lzf, comp);
            if (g.len <= 70000)
                expect_same(&g, RDB_MODE_FILE, &want, (size_t)-1, "items", n, lzf, comp);

            /* The same string value as a DUMP payload (RESTORE's path). */
            struct rs_bytes bv = { (const char *)v, n };

            memset(&want, 0, sizeof(want));
            want.h = 0xcbf29ce484222325ULL;
            tkey(&want, RS_T_STRING, 0, "", 0), t_one(&want, &bv), t_kend(&want), t_end(&want);
            g.len = 0;
            gb_byte(&g, 0), gb_string(&g, v, n, lzf), gb_le(&g, 10, 2);
            gb_le(&g, rdb_crc64(0, UC(g.p), g.len), 8);
            expect_same(&g, RDB_MODE_DUMP, &want, 65536, "DUMP of a string", n, lzf, comp);
            expect_same(&g, RDB_MODE_DUMP, &want, 0, "DUMP of a string", n, lzf, comp);
        }
    }
    free(g.p);
    free(v);
    free(kn);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--json") == 0)
        return json_main(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: test_rdb [--json FILE.rdb]\n");
        return 99;
    }
    test_crc_and_dump();
    test_hand_opcodes();
    test_hand_hashes();
    test_hand_stream27();
    test_hand_path_hash();
    test_new_types_rows();
    test_hand_arrays();
    test_hand_errors();
    test_callback_stop();
    test_fixtures();
    test_bad_crc();
    test_truncated();
    test_big_items();
    test_stream_dup_big();
    /* RDB_TEST_ROUNDS=N multiplies the random rounds (long local runs). */
    int k = getenv("RDB_TEST_ROUNDS") ? atoi(getenv("RDB_TEST_ROUNDS")) : 1;
    if (k < 1)
        k = 1;
    test_mutations("7.4.1/all-types.rdb", 1000 * k);
    test_mutations("7.4.1/all-types-nocompress-nochecksum.rdb", 500 * k);
    test_mutations("5.0.14/all-types-nocompress-nochecksum.rdb", 500 * k);
    test_mutations("2.4.18/all-types.rdb", 500 * k);
    test_mutations("3.2.13/all-types-nocompress-nochecksum.rdb", 300 * k);
    test_garbage(2000 * k);
    return check_summary();
}
