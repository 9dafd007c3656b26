/*
 * sqlite_bigm.c - hash fields and set members of 1 MiB or more: the row
 * holds a placeholder (0xFF and the SHA-256 of the bytes, as TEXT), the
 * bytes are in gN_bigm, written and compared with BLOB I/O, so that SQLite
 * never builds a record holding a second copy of them (sqlite_int.h,
 * "Big fields and members"; doc/schema.md, "Big values").
 *
 * Start with sqi_bind_member. SHA-256 is FIPS 180-4, written here from the
 * standard: the only digest the sink needs, so no library for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

/* ------------------------------------------------------------------ */
/* SHA-256 (FIPS 180-4 §6.2)                                          */
/* ------------------------------------------------------------------ */

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64], s[8];

    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);

        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    memcpy(s, h, sizeof(s));
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = s[7] + (ROR(s[4], 6) ^ ROR(s[4], 11) ^ ROR(s[4], 25)) +
                      ((s[4] & s[5]) ^ (~s[4] & s[6])) + sha_k[i] + w[i];
        uint32_t t2 = (ROR(s[0], 2) ^ ROR(s[0], 13) ^ ROR(s[0], 22)) +
                      ((s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]));

        memmove(s + 1, s, 7 * sizeof(s[0]));
        s[4] += t1;
        s[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++)
        h[i] += s[i];
}

/* The SHA-256 of p[0..n) into out[32]. */
static void sha256(const char *p, size_t n, unsigned char out[32])
{
    uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    unsigned char tail[128] = { 0 };
    size_t full = n / 64 * 64, rest = n - full, tn = rest + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)n * 8;

    for (size_t off = 0; off < full; off += 64)
        sha_block(h, (const unsigned char *)p + off);
    memcpy(tail, p + full, rest);
    tail[rest] = 0x80;
    for (int i = 0; i < 8; i++)
        tail[tn - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (size_t off = 0; off < tn; off += 64)
        sha_block(h, tail + off);
    for (int i = 0; i < 32; i++)
        out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}

/* ------------------------------------------------------------------ */
/* placeholders and gN_bigm rows                                      */
/* ------------------------------------------------------------------ */

/* Statements, in the free SQI_X_MISC slots 20.. */
enum { BM_FIND = 20, BM_INSERT, BM_COPY_IDS, BM_COPY_ROW };

static void placeholder(const struct rs_bytes *m, char ph[SQI_PH_LEN])
{
    ph[0] = (char)0xff;
    sha256(m->ptr, m->len, (unsigned char *)ph + 1);
}

/* Is column 'col' of the current row a placeholder? Its bytes then. */
static const char *column_ph(sqlite3_stmt *st, int col)
{
    const char *p;

    if (sqlite3_column_type(st, col) != SQLITE_TEXT)
        return NULL;
    p = (const char *)sqlite3_column_text(st, col);
    if (sqlite3_column_bytes(st, col) != SQI_PH_LEN || p == NULL || (unsigned char)p[0] != 0xff)
        return NULL;
    return p;
}

/* The gN_bigm row of (kid, ph) into *id: 1, 0 when none, -1 on error. */
static int bigm_find(struct sqlite_sink *ss, int64_t kid, const char *ph, int64_t *id)
{
    sqlite3_stmt *st = sqi_xstmt(ss, SQI_X_MISC + BM_FIND,
                                 "SELECT id FROM @bigm WHERE kid = ?1 AND ph = ?2");
    int r;

    if (st == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, kid) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, ph, SQI_PH_LEN, SQLITE_STATIC) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "look a big member up");
    if ((r = sqi_row(ss, st, "look a big member up")) == 1) {
        *id = sqlite3_column_int64(st, 0);
        sqi_stmt_done(st);
    }
    return r;
}

/* Does gN_bigm row 'id' hold exactly m? Compared 1 MiB at a time, so the
 * stored copy is never whole in memory. 1, 0, or -1 on error. */
static int bigm_equal(struct sqlite_sink *ss, int64_t id, const struct rs_bytes *m)
{
    char table[40];
    sqlite3_blob *blob = NULL;
    char *buf;
    size_t off = 0;
    int rc, eq;

    snprintf(table, sizeof(table), "g%lld_bigm", (long long)ss->target);
    if ((buf = malloc(SQI_BIG_VALUE)) == NULL)
        return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot compare a big member: out of memory");
    rc = sqlite3_blob_open(ss->db, "main", table, "v", id, 0, &blob);
    eq = rc == SQLITE_OK && (size_t)sqlite3_blob_bytes(blob) == m->len;
    while (rc == SQLITE_OK && eq && off < m->len) {
        size_t n = m->len - off < SQI_BIG_VALUE ? m->len - off : SQI_BIG_VALUE;

        rc = sqlite3_blob_read(blob, buf, (int)n, (int)off);
        eq = rc == SQLITE_OK && memcmp(buf, m->ptr + off, n) == 0;
        off += n;
    }
    free(buf);
    sqlite3_blob_close(blob);
    return rc == SQLITE_OK ? eq : sqi_sql_fail(ss, "compare a big member");
}

/* Write m as the gN_bigm row of (kid, ph), triggers first. 0 or -1. */
static int bigm_store(struct sqlite_sink *ss, int64_t kid, const char *ph,
                      const struct rs_bytes *m)
{
    sqlite3_stmt *st;
    int64_t id;

    if (sqi_exec_gen(ss, sqi_bigm_triggers, ss->target, "create the big member triggers") ||
        sqi_views_bigm(ss) ||
        (st = sqi_xstmt(ss, SQI_X_MISC + BM_INSERT, "INSERT INTO @bigm(kid, ph, text, v)"
                        " VALUES (?1, ?2, ?3, zeroblob(?4))")) == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, kid) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, ph, SQI_PH_LEN, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int(st, 3, rs_utf8_valid(m->ptr, m->len)) != SQLITE_OK ||
        sqlite3_bind_int64(st, 4, (sqlite3_int64)m->len) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a big member");
    if (sqi_run(ss, st, "store a big member"))
        return -1;
    id = sqlite3_last_insert_rowid(ss->db);
    return sqi_blob_write(ss, "bigm", "v", id, m);
}

int sqi_bind_member(struct sqlite_sink *ss, sqlite3_stmt *st, int i, int64_t kid,
                    const struct rs_bytes *m, int store, char ph[SQI_PH_LEN])
{
    int64_t id;
    int r;

    if (m == NULL || m->len < SQI_BIG_VALUE)
        return sqi_bind_bytes(st, i, m);
    if ((unsigned char)ph[0] != 0xff) {
        placeholder(m, ph);
        if ((r = bigm_find(ss, kid, ph, &id)) == 1 && (r = bigm_equal(ss, id, m)) == 0)
            r = rs_fail(&ss->base.err, RS_E_SQL, "cannot store a member of %zu bytes in '%s':"
                        " another member has the same SHA-256", m->len, ss->path);
        if (r < 0 || (r == 0 && store && bigm_store(ss, kid, ph, m))) {
            ph[0] = 0;
            return SQLITE_ERROR;
        }
    }
    /* no row and no store: the placeholder matches no element row */
    return sqlite3_bind_text(st, i, ph, SQI_PH_LEN, SQLITE_TRANSIENT);
}

int sqi_column_member(struct sqlite_sink *ss, sqlite3_stmt *st, int col, int64_t kid,
                      struct rs_bytes *m, void **owned)
{
    const char *ph = column_ph(st, col);
    char copy[SQI_PH_LEN];
    int64_t id;
    int r;

    *owned = NULL;
    if (ph == NULL) {
        /* column_blob returns TEXT's bytes unconverted; call bytes after it */
        m->ptr = sqlite3_column_blob(st, col);
        m->len = (size_t)sqlite3_column_bytes(st, col);
        if (m->ptr == NULL)
            m->ptr = "";
        return 0;
    }
    memcpy(copy, ph, SQI_PH_LEN);
    if ((r = bigm_find(ss, kid, copy, &id)) <= 0)
        return r < 0 ? -1 : rs_fail(&ss->base.err, RS_E_SQL, "cannot read a big member of key "
                                    "%lld in '%s': its bytes are missing", (long long)kid,
                                    ss->path);
    return sqi_blob_read(ss, "bigm", id, m, owned);
}

int sqi_bigm_copy(struct sqlite_sink *ss, int64_t from, int64_t to)
{
    sqlite3_stmt *st = sqi_xstmt(ss, SQI_X_MISC + BM_COPY_IDS,
                                 "SELECT id FROM @bigm WHERE kid = ?1 AND ph NOT IN"
                                 " (SELECT ph FROM @bigm WHERE kid = ?2)");
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int r, rc = 0;

    if (st == NULL)
        return -1;
    if (sqlite3_bind_int64(st, 1, from) != SQLITE_OK || sqlite3_bind_int64(st, 2, to) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "copy big members");
    /* the ids first: the copies go into the table being read */
    while ((r = sqi_row(ss, st, "copy big members")) == 1) {
        if (n == cap) {
            int64_t *t = realloc(ids, (cap = cap ? 2 * cap : 8) * sizeof(*ids));

            if (t == NULL) {
                sqi_stmt_done(st);
                free(ids);
                return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot copy big members: out of "
                               "memory");
            }
            ids = t;
        }
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    if (r < 0)
        rc = -1;
    st = rc ? NULL : sqi_xstmt(ss, SQI_X_MISC + BM_COPY_ROW,
                               "INSERT INTO @bigm(kid, ph, text, v) SELECT ?2, ph, text,"
                               " zeroblob(length(v)) FROM @bigm WHERE id = ?1");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (st == NULL || sqlite3_bind_int64(st, 1, ids[i]) != SQLITE_OK ||
            sqlite3_bind_int64(st, 2, to) != SQLITE_OK) {
            rc = st ? sqi_bind_fail(ss, st, "copy big members") : -1;
            break;
        }
        rc = sqi_run(ss, st, "copy big members");
        if (rc == 0)
            rc = sqi_blob_copy(ss, "bigm", "v", ids[i], "bigm", "v",
                               sqlite3_last_insert_rowid(ss->db));
    }
    free(ids);
    return rc;
}
