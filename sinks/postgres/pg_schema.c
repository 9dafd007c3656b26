/*
 * pg_schema.c - the PostgreSQL side's schema: the shipped tables (as
 * pg_int.h describes them), their indexes, the contract's views with the
 * X / X_bytes split, the redsink_status row (the checkpoint), all in one
 * schema per redsink daemon (default "redis").
 *
 * DDL runs only when something is missing, so a role that was granted DML
 * on tables someone else created needs no CREATE privilege.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

const struct pg_table pg_tables[PG_NTABLES] = {
    { "keys", 7, { { "id", PGK_INT, 1 }, { "db", PGK_INT, 0 }, { "key", PGK_KEY, 0 },
                   { "type", PGK_TEXT, 0 }, { "expire_at", PGK_INT, 0 },
                   { "value", PGK_BYTES, 0 }, { "lhead", PGK_INT, 0 } } },
    { "hash", 5, { { "kid", PGK_INT, 1 }, { "field", PGK_BYTES, 1 },
                   { "value", PGK_BYTES, 0 }, { "expire_at", PGK_INT, 0 },
                   { "big", PGK_INT, 0 } } },
    { "list", 4, { { "kid", PGK_INT, 1 }, { "pos", PGK_INT, 1 }, { "value", PGK_BYTES, 0 },
                   { "big", PGK_INT, 0 } } },
    { "set", 2, { { "kid", PGK_INT, 1 }, { "member", PGK_BYTES, 1 } } },
    { "zset", 3, { { "kid", PGK_INT, 1 }, { "member", PGK_BYTES, 1 },
                   { "score", PGK_REAL, 0 } } },
    { "stream", 7, { { "kid", PGK_INT, 1 }, { "ms", PGK_INT, 1 }, { "seq", PGK_INT, 1 },
                     { "pos", PGK_INT, 1 }, { "field", PGK_BYTES, 0 },
                     { "value", PGK_BYTES, 0 }, { "big", PGK_INT, 0 } } },
    { "array", 4, { { "kid", PGK_INT, 1 }, { "bidx", PGK_INT, 1 },
                    { "value", PGK_BYTES, 0 }, { "big", PGK_INT, 0 } } },
    /* element values of 1 MiB or more (doc/schema.md, "Big values"): the
     * element row holds '' and the id of its row here in 'big' */
    { "big", 3, { { "id", PGK_INT, 1 }, { "text", PGK_INT, 0 }, { "v", PGK_BYTES, 0 } } },
    /* hash fields and set members of 1 MiB or more: the element row holds
     * the placeholder 'ph' (0xFF and the SHA-256 of v) in field/member */
    { "bigm", 5, { { "id", PGK_INT, 1 }, { "kid", PGK_INT, 0 }, { "ph", PGK_BYTES, 0 },
                   { "text", PGK_INT, 0 }, { "v", PGK_BYTES, 0 } } },
    /* key names of 1 MiB or more: the key row holds the placeholder (as
     * bigm's ph) as its name, this row the bytes, which the views show */
    { "bign", 3, { { "kid", PGK_INT, 1 }, { "text", PGK_INT, 0 }, { "v", PGK_BYTES, 0 } } },
    /* Valkey 9.2 path hashes (sqlite_pathhash.c): a row per field of a path */
    { "phash", 4, { { "kid", PGK_INT, 1 }, { "path", PGK_BYTES, 1 }, { "field", PGK_BYTES, 1 },
                    { "value", PGK_BYTES, 0 } } },
};
/* an outbox entry's table id indexes pg_tables too */
_Static_assert(PG_NTABLES == OUTBOX_NTABLES, "pg_tables and outbox_tables differ");

int pg_text_ok(const char *p, size_t n)
{
    return memchr(p, 0, n) == NULL && rs_utf8_valid(p, n);
}

void pg_col_list(const struct pg_table *t, char *out, size_t size)
{
    size_t n = 0;

    out[0] = '\0';
    for (int i = 0; i < t->ncols && n < size; i++) {
        const char *name = t->cols[i].name, *sep = i ? ", " : "";

        if (t->cols[i].kind == PGK_KEY)
            n += snprintf(out + n, size - n, "%s%s, %s_bytes", sep, name, name);
        else if (t->cols[i].kind == PGK_BYTES)
            n += snprintf(out + n, size - n, "%s%s_bytes, %s_utf8", sep, name, name);
        else
            n += snprintf(out + n, size - n, "%s%s", sep, name);
    }
}

void pg_src_cols(const struct pg_table *t, char *out, size_t size)
{
    size_t n = 0;

    out[0] = '\0';
    for (int i = 0; i < t->ncols && n < size; i++)
        n += snprintf(out + n, size - n, "%s%s", i ? ", " : "", t->cols[i].name);
}

void pg_be64(unsigned char *out, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (unsigned char)v;
}

int pg_val_int(const struct pgv *v, int64_t *out)
{
    if (v->t == PGV_INT)
        *out = v->i;
    else if (v->t == PGV_REAL)
        *out = (int64_t)v->d;
    else if (v->t == PGV_BYTES) {           /* never in practice: INTEGER columns */
        char tmp[32];

        snprintf(tmp, sizeof(tmp), "%.*s", (int)(v->n < 31 ? v->n : 31), v->p);
        *out = strtoll(tmp, NULL, 10);
    }
    return v->t == PGV_NULL;
}

int pg_val_real(const struct pgv *v, double *out)
{
    /* SQLite may hand a REAL column's integral value back as an integer */
    if (v->t == PGV_REAL)
        *out = v->d;
    else if (v->t == PGV_INT)
        *out = (double)v->i;
    return v->t != PGV_REAL && v->t != PGV_INT;
}

int pg_val_bytes(const struct pgv *v, char tmp[32], const char **p, size_t *n)
{
    if (v->t == PGV_BYTES) {
        *p = v->p;
        *n = v->n;
    } else if (v->t == PGV_INT || v->t == PGV_REAL) {
        *n = v->t == PGV_INT ? (size_t)snprintf(tmp, 32, "%lld", (long long)v->i)
                             : (size_t)snprintf(tmp, 32, "%.17g", v->d);
        *p = tmp;
    }
    return v->t != PGV_BYTES && v->t != PGV_INT && v->t != PGV_REAL;
}

/* ---- DDL: '@' stands for the schema ---- */

#define NOW_MS "(extract(epoch FROM statement_timestamp()) * 1000)::bigint"
#define LIVE(t) "(" t "expire_at IS NULL OR " t "expire_at > " NOW_MS ")"

/* The tables: the SQLite generation tables' columns (pg_tables), a bytes
 * column X as X_bytes + X_utf8 (the key name: key + key_bytes). "set" and
 * "array" are quoted: ARRAY is reserved. */
static const char tables_ddl[] =
    "CREATE TABLE IF NOT EXISTS @.keys(id bigint PRIMARY KEY, db bigint NOT NULL,"
    " key text, key_bytes bytea NOT NULL, type text NOT NULL, expire_at bigint,"
    " value_bytes bytea, value_utf8 boolean, lhead bigint) WITH (fillfactor = 80);"
    "CREATE INDEX IF NOT EXISTS keys_key ON @.keys USING hash (key);"
    "CREATE INDEX IF NOT EXISTS keys_key_bytes ON @.keys USING hash (key_bytes);"
    "CREATE TABLE IF NOT EXISTS @.hash(kid bigint NOT NULL, field_bytes bytea NOT NULL,"
    " field_utf8 boolean, value_bytes bytea NOT NULL, value_utf8 boolean, expire_at bigint,"
    " big bigint) WITH (fillfactor = 80);"
    "CREATE INDEX IF NOT EXISTS hash_field ON @.hash (kid, md5(field_bytes));"
    "CREATE TABLE IF NOT EXISTS @.list(kid bigint NOT NULL, pos bigint NOT NULL,"
    " value_bytes bytea NOT NULL, value_utf8 boolean, big bigint, PRIMARY KEY (kid, pos));"
    "CREATE TABLE IF NOT EXISTS @.\"set\"(kid bigint NOT NULL, member_bytes bytea NOT NULL,"
    " member_utf8 boolean);"
    "CREATE INDEX IF NOT EXISTS set_member ON @.\"set\" (kid, md5(member_bytes));"
    "CREATE TABLE IF NOT EXISTS @.zset(kid bigint NOT NULL, member_bytes bytea NOT NULL,"
    " member_utf8 boolean, score double precision) WITH (fillfactor = 80);"
    "CREATE INDEX IF NOT EXISTS zset_member ON @.zset (kid, md5(member_bytes));"
    "CREATE TABLE IF NOT EXISTS @.stream(kid bigint NOT NULL, ms bigint NOT NULL,"
    " seq bigint NOT NULL, pos bigint NOT NULL, field_bytes bytea NOT NULL, field_utf8 boolean,"
    " value_bytes bytea NOT NULL, value_utf8 boolean, big bigint,"
    " PRIMARY KEY (kid, ms, seq, pos));"
    "CREATE TABLE IF NOT EXISTS @.\"array\"(kid bigint NOT NULL, bidx bigint NOT NULL,"
    " value_bytes bytea NOT NULL, value_utf8 boolean, big bigint, PRIMARY KEY (kid, bidx));"
    "CREATE TABLE IF NOT EXISTS @.big(id bigint PRIMARY KEY, text bigint NOT NULL,"
    " v_bytes bytea NOT NULL, v_utf8 boolean);"
    "CREATE TABLE IF NOT EXISTS @.bigm(id bigint PRIMARY KEY, kid bigint NOT NULL,"
    " ph_bytes bytea NOT NULL, ph_utf8 boolean, text bigint NOT NULL, v_bytes bytea NOT NULL,"
    " v_utf8 boolean);"
    "CREATE INDEX IF NOT EXISTS bigm_ph ON @.bigm (kid, ph_bytes);"
    "CREATE TABLE IF NOT EXISTS @.bign(kid bigint PRIMARY KEY, text bigint NOT NULL,"
    " v_bytes bytea NOT NULL, v_utf8 boolean);"
    "CREATE TABLE IF NOT EXISTS @.phash(kid bigint NOT NULL, path_bytes bytea NOT NULL,"
    " path_utf8 boolean, field_bytes bytea NOT NULL, field_utf8 boolean,"
    " value_bytes bytea NOT NULL, value_utf8 boolean);"
    "CREATE INDEX IF NOT EXISTS phash_field ON @.phash (kid, md5(path_bytes), md5(field_bytes));"
    "CREATE TABLE IF NOT EXISTS @.redsink_status(master_replid text NOT NULL DEFAULT '',"
    " \"offset\" bigint NOT NULL DEFAULT -1, state text NOT NULL DEFAULT 'new',"
    " updated_at bigint, generation bigint NOT NULL DEFAULT 0,"
    " outbox_seq bigint NOT NULL DEFAULT 0, copied_at bigint);"
    "INSERT INTO @.redsink_status(updated_at) SELECT " NOW_MS
    " WHERE NOT EXISTS (SELECT 1 FROM @.redsink_status);";

/* The contract's views (CONTRACT.md §3 and §5): SQLite's rows, X split.
 * X text is made from X_bytes when X_utf8 (a no-op conversion in a UTF8
 * database, after a validation). An element whose value is in @.big
 * (big IS NOT NULL) shows that value. */
#define TXT(c) "CASE WHEN " c "_utf8 THEN convert_from(" c "_bytes, 'UTF8') END"
#define BIGV(t) "CASE WHEN " t ".big IS NULL THEN " TXT(t ".value") " ELSE " TXT("b.v")     \
    " END AS value, CASE WHEN " t ".big IS NULL THEN " t ".value_bytes ELSE b.v_bytes END"   \
    " AS value_bytes"
#define BIGJ(t) " LEFT JOIN @.big AS b ON b.id = " t ".big"
/* A field or member whose row holds a placeholder (@.bigm) shows its bytes. */
#define BIGM(t, c) "CASE WHEN m.id IS NULL THEN " TXT(t "." c) " ELSE " TXT("m.v") " END AS "   \
    c ", coalesce(m.v_bytes, " t "." c "_bytes) AS " c "_bytes"
#define BIGMJ(t, c) " LEFT JOIN @.bigm AS m ON m.kid = " t ".kid AND m.ph_bytes = " t "." c "_bytes"
/* A view: the keys whose name is text (never a placeholder: 0xFF is not
 * UTF-8), UNION ALL the other names that are in keys.key_bytes, UNION ALL
 * those of 1 MiB or more that are in @.bign (keys.key_bytes holds their
 * placeholder). PostgreSQL pulls a UNION ALL view up into the reader's
 * query and pushes "key = ..." into each arm: the first uses keys_key with
 * no anti-join beside it, the second has key NULL. The third arm's name
 * takes keys.key's collation: convert_from gives "C" (from its 'name'
 * argument), and a UNION ALL column whose arms differ in collation is
 * not pushed into an index scan (keys_key went unused). 'cols' follow db
 * and the key; 'from' follows "@.keys AS k". */
#define VIEW(name, cols, from, where)                                                           \
    "CREATE OR REPLACE VIEW @." name " AS SELECT k.db, k.key, k.key_bytes" cols                 \
    " FROM @.keys AS k" from " WHERE k.key IS NOT NULL AND " where                             \
    " UNION ALL SELECT k.db, k.key, k.key_bytes" cols " FROM @.keys AS k" from                  \
    " WHERE k.key IS NULL AND " where " AND NOT EXISTS (SELECT 1 FROM @.bign AS n"              \
    " WHERE n.kid = k.id) UNION ALL SELECT k.db, " TXT("n.v") " COLLATE \"default\", n.v_bytes" cols                 \
    " FROM @.keys AS k JOIN @.bign AS n ON n.kid = k.id" from " WHERE " where ";"
static const char views_ddl[] =
    VIEW("redis_keys", ", k.type, k.expire_at", "", LIVE("k."))
    VIEW("redis_strings", ", " TXT("k.value") " AS value, k.value_bytes", "",
         "k.type = 'string' AND " LIVE("k."))
    VIEW("redis_hashes", ", " BIGM("h", "field") ", " BIGV("h") ", h.expire_at",
         " JOIN @.hash AS h ON h.kid = k.id" BIGJ("h") BIGMJ("h", "field"),
         LIVE("k.") " AND " LIVE("h."))
    VIEW("redis_lists", ", l.pos - k.lhead AS idx, " BIGV("l"),
         " JOIN @.list AS l ON l.kid = k.id" BIGJ("l"), LIVE("k."))
    VIEW("redis_sets", ", " BIGM("s", "member"),
         " JOIN @.\"set\" AS s ON s.kid = k.id" BIGMJ("s", "member"), LIVE("k."))
    VIEW("redis_zsets", ", " BIGM("z", "member") ", z.score",
         " JOIN @.zset AS z ON z.kid = k.id" BIGMJ("z", "member"), LIVE("k."))
    VIEW("redis_streams", ", s.ms || '-' || s.seq AS id, s.ms, s.seq, s.pos, "
         BIGM("s", "field") ", " BIGV("s"),
         " JOIN @.stream AS s ON s.kid = k.id" BIGJ("s") BIGMJ("s", "field"), LIVE("k."))
    /* bidx is the index with its top bit flipped (sqlite_array.c) */
    VIEW("redis_arrays", ", a.bidx::numeric + 9223372036854775808 AS idx, " BIGV("a"),
         " JOIN @.\"array\" AS a ON a.kid = k.id" BIGJ("a"), LIVE("k."))
    VIEW("redis_path_hashes", ", " TXT("p.path") " AS path, p.path_bytes, " TXT("p.field")
         " AS field, p.field_bytes, " TXT("p.value") " AS value, p.value_bytes",
         " JOIN @.phash AS p ON p.kid = k.id", LIVE("k."));

/* Every relation above, to tell whether any is missing. */
static const char *const relations[] = {
    "keys", "hash", "list", "set", "zset", "stream", "array", "big", "bigm", "bign", "phash", "redsink_status",
    "redis_keys", "redis_strings", "redis_hashes", "redis_lists", "redis_sets",
    "redis_zsets", "redis_streams", "redis_arrays", "redis_path_hashes", NULL
};

int pg_schema_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 63 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* 'tmpl' with every '@' replaced by the schema (malloc'd). */
static char *expand(const char *tmpl, const char *schema)
{
    size_t n = strlen(tmpl), sl = strlen(schema), at = 0, o = 0;
    char *out;

    for (const char *p = tmpl; *p; p++)
        at += *p == '@';
    if ((out = malloc(n + at * sl + 1)) == NULL)
        return NULL;
    for (const char *p = tmpl; *p; p++) {
        if (*p == '@') {
            memcpy(out + o, schema, sl);
            o += sl;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return out;
}

static int exec_tmpl(struct pgc *c, const char *tmpl, const char *schema, const char *what,
                     struct rs_error *err)
{
    char *sql = expand(tmpl, schema);
    int rc;

    if (sql == NULL)
        return rs_fail(err, RS_E_NOMEM, "postgres: cannot %s: out of memory", what);
    rc = pgc_exec(c, sql, what, err);
    free(sql);
    return rc;
}

/* How many of our relations exist, and whether the schema does. A
 * keys table with a value column is the first layout's (value text and
 * value_bytes): an error, the tables would not take our COPY. A
 * redis_zsets made before big sorted-set members were shown (no bigm in
 * it) counts one short, so that the views are made again. */
static int count_existing(struct pgc *c, const char *schema, int *have_schema,
                          struct rs_error *err)
{
    char sql[1700], out[4][64];
    size_t n;

    n = snprintf(sql, sizeof(sql), "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname"
                 " = '%s'), (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid ="
                 " a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname ="
                 " '%s' AND c.relname = 'keys' AND a.attname = 'value' AND NOT a.attisdropped),"
                 " (SELECT count(*) FROM pg_views WHERE schemaname = '%s' AND viewname ="
                 " 'redis_zsets' AND definition NOT LIKE '%%bigm%%'),"
                 " (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON"
                 " n.oid = c.relnamespace WHERE n.nspname = '%s' AND c.relname IN (", schema,
                 schema, schema, schema);
    for (int i = 0; relations[i] && n < sizeof(sql); i++)
        n += snprintf(sql + n, sizeof(sql) - n, "%s'%s'", i ? "," : "", relations[i]);
    snprintf(sql + n, sizeof(sql) - n, "))");
    if (pgc_row(c, sql, 4, out, "read the catalog", err) < 0)
        return -1;
    if (atoi(out[1]) > 0)
        return rs_fail(err, RS_E_SQL, "postgres: schema \"%s\" holds the tables of an earlier"
                       " redsink (keys.value): DROP SCHEMA %s CASCADE, and redsink makes"
                       " them again and copies the mirror", schema, schema);
    *have_schema = atoi(out[0]) > 0;
    return atoi(out[3]) - atoi(out[2]);
}

int pg_schema_ensure(struct pgc *c, const char *schema, struct rs_error *err)
{
    int have_schema = 0, n = count_existing(c, schema, &have_schema, err);
    char sql[160], what[120];

    if (n < 0)
        return -1;
    if (n == (int)(sizeof(relations) / sizeof(relations[0])) - 1)
        return 0;
    if (pgc_exec(c, "BEGIN", "begin", err))
        return -1;
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
    snprintf(what, sizeof(what), "create schema \"%s\"", schema);
    if (!have_schema && pgc_exec(c, sql, what, err))
        goto fail;
    snprintf(what, sizeof(what), "create the tables in schema \"%s\"", schema);
    if (exec_tmpl(c, tables_ddl, schema, what, err))
        goto fail;
    snprintf(what, sizeof(what), "create the views in schema \"%s\"", schema);
    if (exec_tmpl(c, views_ddl, schema, what, err) || pgc_exec(c, "COMMIT", what, err))
        goto fail;
    return 0;
fail:
    pgc_exec(c, "ROLLBACK", "roll back", &(struct rs_error){ 0 });
    return -1;
}

int pg_ckpt_read(struct pgc *c, const char *schema, struct pg_ckpt *ck, struct rs_error *err)
{
    char sql[200], out[4][64];
    int rc;

    snprintf(sql, sizeof(sql), "SELECT generation, outbox_seq, \"offset\", master_replid"
             " FROM %s.redsink_status", schema);
    if ((rc = pgc_row(c, sql, 4, out, "read the checkpoint", err)) < 0)
        return -1;
    if (rc == 0)
        return rs_fail(err, RS_E_SQL, "postgres: cannot read the checkpoint: "
                       "%s.redsink_status has no row", schema);
    ck->gen = strtoll(out[0], NULL, 10);
    ck->seq = strtoll(out[1], NULL, 10);
    ck->offset = strtoll(out[2], NULL, 10);
    snprintf(ck->replid, sizeof(ck->replid), "%.40s", out[3]);
    return 0;
}

/* Only [0-9A-Za-z_-] of a SQLite string goes into SQL text. */
static void sanitize(char *dst, size_t size, const char *src)
{
    size_t n = 0;

    for (; *src && n + 1 < size; src++)
        if ((*src >= '0' && *src <= '9') || (*src >= 'a' && *src <= 'z') ||
            (*src >= 'A' && *src <= 'Z') || *src == '_' || *src == '-')
            dst[n++] = *src;
    dst[n] = '\0';
}

const char *pg_ckpt_sql(char *buf, size_t size, const char *schema, const struct src_pos *pos,
                        int64_t seq)
{
    char replid[41], state[24];

    sanitize(replid, sizeof(replid), pos->replid);
    sanitize(state, sizeof(state), pos->state);
    snprintf(buf, size, "UPDATE %s.redsink_status SET generation = %lld, outbox_seq = %lld,"
             " master_replid = '%s', \"offset\" = %lld, state = '%s', updated_at = " NOW_MS,
             schema, (long long)pos->gen, (long long)seq, replid, (long long)pos->offset, state);
    return buf;
}

const char *pg_ckpt_guard_sql(char *buf, size_t size, const char *schema,
                              const struct pg_ckpt *ck)
{
    snprintf(buf, size, "SELECT 1 / CASE WHEN generation = %lld AND outbox_seq = %lld THEN 1"
             " ELSE 0 END FROM %s.redsink_status FOR UPDATE", (long long)ck->gen,
             (long long)ck->seq, schema);
    return buf;
}
