/*
 * sqlite_schema.c - the SQLite sink's schema: the tables of a generation,
 * the contract's views, the tables outside generations (status, counters),
 * and opening a file: create a new mirror, or recover an existing one
 * (drop what an interrupted full sync left, add what a newer redsink
 * needs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

#define SCHEMA_VERSION  1

/* Redis 8.8's arrays (sqlite_array.c): 'bidx' is the index with its top
 * bit flipped, 'cursor' the ARINSERT/ARRING insert cursor the same way.
 * Added after the first release: a mirror made before gets them with
 * "IF NOT EXISTS" when it is opened. */
#define ARRAY_DDL(ine)                                                            \
    "CREATE TABLE " ine "@array(kid INTEGER NOT NULL, bidx INTEGER NOT NULL,"      \
    " value TEXT NOT NULL, big INTEGER, PRIMARY KEY (kid, bidx)) WITHOUT ROWID;"   \
    "CREATE TABLE " ine "@ameta(kid INTEGER PRIMARY KEY, cursor INTEGER NOT NULL);"
static const char array_upgrade_ddl[] =
    ARRAY_DDL("IF NOT EXISTS ") SQI_PHASH_DDL("IF NOT EXISTS ");

/*
 * Big element values (doc/schema.md, "Big values"). A hash, list, stream or
 * array value of SQI_BIG_VALUE bytes or more lives in gN_big, written in place
 * with BLOB I/O (the element tables are WITHOUT ROWID, where BLOB I/O does
 * not exist); its element row holds value '' and the gN_big id in 'big'
 * (NULL for every other row). 'text' is 1 when the bytes are valid UTF-8:
 * the views cast them back to TEXT. Triggers delete a big row with the
 * element row that points at it, or when an UPDATE points the element
 * elsewhere, so that no delete path of the sink can leave one behind.
 * They are created with a generation's first big value (sqi_big_put), not
 * with the generation: a trigger costs every row deleted or updated in its
 * table (two-pass deletes, a sub-program per row: +17% instructions per
 * XADD MAXLEN, +25% per HSET over an existing field), which a mirror that
 * never held a value of 1 MiB should not pay.
 * Added after the first release: an older mirror gets the table "IF NOT
 * EXISTS" and the 'big' columns by ALTER TABLE at open.
 */
#define BIG_TRIGGERS(ine, t)                                                      \
    "CREATE TRIGGER " ine "@" t "_bigdel AFTER DELETE ON @" t                     \
    " WHEN old.big IS NOT NULL BEGIN DELETE FROM @big WHERE id = old.big; END;"   \
    "CREATE TRIGGER " ine "@" t "_bigupd AFTER UPDATE OF big ON @" t              \
    " WHEN old.big IS NOT NULL AND old.big IS NOT new.big"                        \
    " BEGIN DELETE FROM @big WHERE id = old.big; END;"
#define BIG_DDL(ine)                                                              \
    "CREATE TABLE " ine "@big(id INTEGER PRIMARY KEY, text INTEGER NOT NULL,"     \
    " v BLOB NOT NULL);"
/* Big hash fields, set and sorted-set members (sqlite_bigm.c): the element
 * row holds a placeholder, TEXT 0xFF + SHA-256, and gN_bigm(kid, ph) the bytes. A
 * placeholder is the only TEXT value >= X'FF' (valid UTF-8 never has that
 * byte), and every TEXT sorts before every BLOB: IS_PH says whether a
 * field is one without reading anything else. The triggers delete the
 * bytes with the row; created with a generation's first big member. */
#define IS_PH(c) "(" c " >= CAST(X'FF' AS TEXT) AND " c " < X'')"
#define BIGM_DDL(ine)                                                             \
    "CREATE TABLE " ine "@bigm(id INTEGER PRIMARY KEY, kid INTEGER NOT NULL,"     \
    " ph TEXT NOT NULL, text INTEGER NOT NULL, v BLOB NOT NULL);"                 \
    "CREATE UNIQUE INDEX " ine "@bigm_ph ON @bigm(kid, ph);"
/* Key names of 1 MiB or more (sqlite_keys.c): the gN_keys row holds the
 * placeholder as its name, gN_bign(kid) the bytes. 'v' holds a BLOB (a
 * zeroblob written with BLOB I/O) but is declared TEXT: the views' arms
 * then all give the key column TEXT affinity, which SQLite needs to
 * flatten them (see the views below). The triggers delete the bytes with
 * the key row or when the row is renamed; created with a generation's
 * first big name. */
#define BIGN_DDL(ine)                                                             \
    "CREATE TABLE " ine "@bign(kid INTEGER PRIMARY KEY, text INTEGER NOT NULL,"   \
    " v TEXT NOT NULL);"
#define BIGM_TRIGGER(t, c)                                                        \
    "CREATE TRIGGER IF NOT EXISTS @" t "_bigmdel AFTER DELETE ON @" t             \
    " WHEN " IS_PH("old." c) " BEGIN DELETE FROM @bigm WHERE kid = old.kid"       \
    " AND ph = old." c "; END;"
/* Stream field names of 1 MiB or more too: there a placeholder may repeat
 * (entries of one stream sharing a field name), so its bytes go with the
 * last row that names it. */
const char sqi_bigm_triggers[] = BIGM_TRIGGER("hash", "field") BIGM_TRIGGER("set", "member")
    BIGM_TRIGGER("zset", "member")
    "CREATE TRIGGER IF NOT EXISTS @stream_bigmdel AFTER DELETE ON @stream WHEN "
    IS_PH("old.field") " AND NOT EXISTS (SELECT 1 FROM @stream WHERE kid = old.kid AND"
    " field = old.field) BEGIN DELETE FROM @bigm WHERE kid = old.kid AND ph = old.field; END;";
const char sqi_bign_triggers[] =
    "CREATE TRIGGER IF NOT EXISTS @keys_bigndel AFTER DELETE ON @keys WHEN " IS_PH("old.key")
    " BEGIN DELETE FROM @bign WHERE kid = old.id; END;"
    "CREATE TRIGGER IF NOT EXISTS @keys_bignupd AFTER UPDATE OF key ON @keys WHEN "
    IS_PH("old.key") " BEGIN DELETE FROM @bign WHERE kid = old.id; END;";
static const char big_upgrade_ddl[] =
    BIG_DDL("IF NOT EXISTS ") BIGM_DDL("IF NOT EXISTS ") BIGN_DDL("IF NOT EXISTS ");
const char sqi_big_triggers[] =
    BIG_TRIGGERS("IF NOT EXISTS ", "hash") BIG_TRIGGERS("IF NOT EXISTS ", "list")
    BIG_TRIGGERS("IF NOT EXISTS ", "stream") BIG_TRIGGERS("IF NOT EXISTS ", "array");
/* The element tables that have a 'big' column. */
static const char *const big_tables[] = { "hash", "list", "stream", "array" };

/* The tables of one generation. The (key, db) index is created apart:
 * after the bulk load for a new generation, at once for the first one. */
const char sqi_gen_ddl[] =
    "CREATE TABLE @keys(id INTEGER PRIMARY KEY, db INTEGER NOT NULL, key TEXT NOT NULL,"
    " type TEXT NOT NULL, expire_at INTEGER, value TEXT, lhead INTEGER);"
    "CREATE TABLE @hash(kid INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,"
    " expire_at INTEGER, big INTEGER, PRIMARY KEY (kid, field)) WITHOUT ROWID;"
    "CREATE TABLE @list(kid INTEGER NOT NULL, pos INTEGER NOT NULL, value TEXT NOT NULL,"
    " big INTEGER, PRIMARY KEY (kid, pos)) WITHOUT ROWID;"
    "CREATE TABLE @set(kid INTEGER NOT NULL, member TEXT NOT NULL,"
    " PRIMARY KEY (kid, member)) WITHOUT ROWID;"
    "CREATE TABLE @zset(kid INTEGER NOT NULL, member TEXT NOT NULL, score REAL,"
    " ord BLOB, PRIMARY KEY (kid, member)) WITHOUT ROWID;"
    "CREATE TABLE @stream(kid INTEGER NOT NULL, ms INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " pos INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, big INTEGER,"
    " PRIMARY KEY (kid, ms, seq, pos)) WITHOUT ROWID;"
    "CREATE TABLE @smeta(kid INTEGER PRIMARY KEY, length INTEGER, last_ms INTEGER,"
    " last_seq INTEGER, has_v2 INTEGER, first_ms INTEGER, first_seq INTEGER,"
    " maxdel_ms INTEGER, maxdel_seq INTEGER, entries_added INTEGER);"
    "CREATE TABLE @sgroup(kid INTEGER NOT NULL, name TEXT NOT NULL, last_ms INTEGER,"
    " last_seq INTEGER, entries_read INTEGER, PRIMARY KEY (kid, name)) WITHOUT ROWID;"
    "CREATE TABLE @spel(kid INTEGER NOT NULL, grp TEXT NOT NULL, ms INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, consumer TEXT, delivery_time INTEGER, delivery_count INTEGER,"
    " PRIMARY KEY (kid, grp, ms, seq)) WITHOUT ROWID;"
    "CREATE TABLE @scons(kid INTEGER NOT NULL, grp TEXT NOT NULL, name TEXT NOT NULL,"
    " seen_time INTEGER, active_time INTEGER, PRIMARY KEY (kid, grp, name)) WITHOUT ROWID;"
    "CREATE TABLE @func(name TEXT UNIQUE, code TEXT NOT NULL);"
    ARRAY_DDL("") SQI_PHASH_DDL("")      /* Valkey 9.2's path hashes (sqlite_pathhash.c) */
    BIG_DDL("") BIGM_DDL("") BIGN_DDL("");
const char sqi_gen_index[] = "CREATE UNIQUE INDEX @keys_key ON @keys(key, db);";
/* Every table sqi_gen_ddl creates, for dropping a generation. */
const char *const sqi_gen_tables[] = {
    "keys", "hash", "list", "set", "zset", "stream", "smeta", "sgroup", "spel", "scons",
    "func", "array", "ameta", "phash", "big", "bigm", "bign", NULL
};

#define LIVE(t) "(" t "expire_at IS NULL OR " t "expire_at > " NOW_MS ")"
/* An element's value: its own, or its gN_big row's, TEXT when flagged. */
#define ELEM_VALUE(t)                                                             \
    "CASE WHEN " t ".big IS NULL THEN " t ".value ELSE (SELECT CASE WHEN b.text"  \
    " THEN CAST(b.v AS TEXT) ELSE b.v END FROM @big AS b WHERE b.id = " t ".big) END"

/* A field or member: itself, or for a placeholder the bytes in gN_bigm,
 * TEXT when flagged. */
#define MEMBER(t, c)                                                              \
    "CASE WHEN " IS_PH(t "." c) " THEN (SELECT CASE WHEN m.text THEN CAST(m.v AS TEXT)" \
    " ELSE m.v END FROM @bigm AS m WHERE m.kid = " t ".kid AND m.ph = " t "." c ")"     \
    " ELSE " t "." c " END"

/*
 * The contract's views (CONTRACT.md §3), on generation '@', one SELECT
 * each: "{K}" is the key name's column and "{J}" where a join may go.
 *
 * redis_hashes and redis_sets show a placeholder's bytes only in a
 * generation that has a big field or member ('bigm' form): the column is
 * then a CASE, which a reader's "field = 'x'" cannot seek with (it filters
 * the key's rows instead: the self-join of the examples above, 0.14 ->
 * 0.45 ms with 20 fields a hash), nor does a CASE have the column's TEXT
 * affinity. So the views name the column itself until the first big
 * member: its store (the live generation) or a full sync's commit (the new
 * one) recreates them, in the same transaction (sqi_views_upgrade).
 *
 * Key names the same way ('bign' form), but not with a CASE: a CASE on the
 * key would make every "WHERE key = 'user:1'" scan gN_keys (6 ms instead
 * of 0.006 ms on 100k keys), and every join on the key quadratic. In a
 * generation that has a big name each view is a UNION ALL of three SELECTs:
 * the keys whose name is not a placeholder (k.key, the (key, db) index
 * seeks it), and those whose name is, TEXT (CAST(n.v AS TEXT)) or BLOB
 * (n.v: gN_bign.v is declared TEXT, and holds BLOBs). The three key columns
 * then all have TEXT affinity, so SQLite flattens the view into a reader's
 * single-view query, and pushes "key = ?" into each arm: one index seek,
 * plus the comparison with each big name (few, but read whole).
 */
struct view {
    const char *name, *cols, *sel, *from, *where;
};
static const struct view views[] = {
    { "redis_keys", "db, key, type, expire_at", "k.db, {K}, k.type, k.expire_at",
      "@keys AS k{J}", LIVE("k.") },
    { "redis_strings", "db, key, value",
      "k.db, {K}, CASE WHEN k.lhead IS NULL THEN k.value ELSE CAST(k.value AS TEXT) END",
      "@keys AS k{J}", "k.type = 'string' AND " LIVE("k.") },
    { "redis_hashes", "db, key, field, value, expire_at",
      "k.db, {K}, h.field, " ELEM_VALUE("h") ", h.expire_at",
      "@keys AS k{J} JOIN @hash AS h ON h.kid = k.id", LIVE("k.") " AND " LIVE("h.") },
    { "redis_lists", "db, key, idx, value", "k.db, {K}, l.pos - k.lhead, " ELEM_VALUE("l"),
      "@keys AS k{J} JOIN @list AS l ON l.kid = k.id", LIVE("k.") },
    { "redis_sets", "db, key, member", "k.db, {K}, s.member",
      "@keys AS k{J} JOIN @set AS s ON s.kid = k.id", LIVE("k.") },
    { "redis_zsets", "db, key, member, score", "k.db, {K}, z.member, z.score",
      "@keys AS k{J} JOIN @zset AS z ON z.kid = k.id", LIVE("k.") },
    { "redis_streams", "db, key, id, ms, seq, pos, field, value",
      "k.db, {K}, s.ms || '-' || s.seq, s.ms, s.seq, s.pos, s.field, " ELEM_VALUE("s"),
      "@keys AS k{J} JOIN @stream AS s ON s.kid = k.id", LIVE("k.") },
    /* bidx < 0: the index is below 2^63 (an INTEGER); else the decimal
     * text of 2^63 + bidx, computed digit-wise so nothing overflows */
    { "redis_arrays", "db, key, idx, value",
      "k.db, {K}, CASE WHEN a.bidx < 0 THEN a.bidx + 9223372036854775807 + 1"
      " ELSE (922337203685477580 + a.bidx / 10 + (8 + a.bidx % 10) / 10) ||"
      " ((8 + a.bidx % 10) % 10) END, " ELEM_VALUE("a"),
      "@keys AS k{J} JOIN @array AS a ON a.kid = k.id", LIVE("k.") },
    { "redis_path_hashes", "db, key, path, field, value", "k.db, {K}, p.path, p.field, p.value",
      "@keys AS k{J} JOIN @phash AS p ON p.kid = k.id", LIVE("k.") },
};
/* The bigm form's select lists of redis_hashes, redis_sets, redis_zsets
 * and redis_streams. */
static const char hashes_bigm[] =
    "k.db, {K}, " MEMBER("h", "field") ", " ELEM_VALUE("h") ", h.expire_at";
static const char sets_bigm[] = "k.db, {K}, " MEMBER("s", "member");
static const char zsets_bigm[] = "k.db, {K}, " MEMBER("z", "member") ", z.score";
static const char streams_bigm[] =
    "k.db, {K}, s.ms || '-' || s.seq, s.ms, s.seq, s.pos, " MEMBER("s", "field") ", "
    ELEM_VALUE("s");
/* The bign form's arms: the key column, the join, the arm's condition. */
static const char *const bign_arm[3][3] = {
    { "k.key", "", "NOT " IS_PH("k.key") },
    { "CAST(n.v AS TEXT)", " JOIN @bign AS n ON n.kid = k.id", IS_PH("k.key") " AND n.text" },
    { "n.v", " JOIN @bign AS n ON n.kid = k.id", IS_PH("k.key") " AND NOT n.text" },
};

/* Append 'tmpl' to the buffer at *o (NULL: count only) with {K} and {J}
 * replaced; the length appended. */
static size_t put_arm(char *o, const char *tmpl, const char *k, const char *j)
{
    size_t n = 0;

    for (const char *p = tmpl; *p; p++) {
        const char *r = p[0] == '{' && p[1] && p[2] == '}' ? p[1] == 'K' ? k : p[1] == 'J' ? j : NULL
                        : NULL;
        size_t len = r ? strlen(r) : 1;

        if (o)
            memcpy(o + n, r ? r : p, len);
        n += len;
        p += r ? 2 : 0;
    }
    return n;
}

/* The views' script (malloc'd, '@' for the generation), or NULL. */
static char *views_sql(int bigm, int bign)
{
    char *out = NULL;

    for (int pass = 0; pass < 2; pass++) {      /* count, then write */
        size_t n = 0;

        for (size_t v = 0; v < sizeof(views) / sizeof(views[0]); v++) {
            const char *sel = !bigm ? views[v].sel : strcmp(views[v].name, "redis_hashes") == 0
                              ? hashes_bigm : strcmp(views[v].name, "redis_sets") == 0
                              ? sets_bigm : strcmp(views[v].name, "redis_zsets") == 0
                              ? zsets_bigm : strcmp(views[v].name, "redis_streams") == 0
                              ? streams_bigm : views[v].sel;
            char head[160];

            snprintf(head, sizeof(head), "DROP VIEW IF EXISTS %s; CREATE VIEW %s(%s) AS ",
                     views[v].name, views[v].name, views[v].cols);
            n += put_arm(out ? out + n : NULL, head, "", "");
            for (int a = 0; a < (bign ? 3 : 1); a++) {
                const char *const *arm = bign_arm[a];

                n += put_arm(out ? out + n : NULL, a ? " UNION ALL SELECT " : "SELECT ", "", "");
                n += put_arm(out ? out + n : NULL, sel, arm[0], arm[1]);
                n += put_arm(out ? out + n : NULL, " FROM ", "", "");
                n += put_arm(out ? out + n : NULL, views[v].from, arm[0], arm[1]);
                n += put_arm(out ? out + n : NULL, " WHERE ", "", "");
                n += put_arm(out ? out + n : NULL, views[v].where, "", "");
                if (bign) {
                    n += put_arm(out ? out + n : NULL, " AND ", "", "");
                    n += put_arm(out ? out + n : NULL, arm[2], "", "");
                }
            }
            n += put_arm(out ? out + n : NULL, ";", "", "");
        }
        if (out) {
            out[n] = '\0';
            return out;
        }
        if ((out = malloc(n + 1)) == NULL)
            return NULL;
    }
    return out;
}

/* Tables outside generations: the checkpoint and counters. */
static const char base_ddl[] =
    "CREATE TABLE redsink_status(master_replid TEXT NOT NULL DEFAULT '',"
    " offset INTEGER NOT NULL DEFAULT -1, state TEXT NOT NULL DEFAULT 'new',"
    " updated_at INTEGER, db INTEGER NOT NULL DEFAULT 0, detail TEXT,"
    " generation INTEGER NOT NULL DEFAULT 1, keys_loaded INTEGER NOT NULL DEFAULT 0,"
    " commands_applied INTEGER NOT NULL DEFAULT 0,"
    " unknown_commands INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE redsink_unknown_commands(name TEXT PRIMARY KEY,"
    " count INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO redsink_status(generation, updated_at) VALUES (1, " NOW_MS ");";

/* Status columns added after the first release: a new mirror gets them
 * with ALTER TABLE too, so that a new and an upgraded file are alike. */
static const char *const status_columns[][2] = {
    { "master_host", "TEXT" }, { "master_port", "INTEGER" },
    { "read_offset", "INTEGER" }, { "last_ack_at", "INTEGER" },
    { "lag_bytes", "INTEGER" }, { "lag_ms", "INTEGER" },
    { "bytes_received", "INTEGER" }, { "bytes_total", "INTEGER" },
    { "keys_per_sec", "REAL" },
    { "pg_state", "TEXT" }, { "pg_offset", "INTEGER" }, { "pg_lag_bytes", "INTEGER" },
    { "pg_lag_ms", "INTEGER" }, { "pg_error", "TEXT" },
};

/* Run a script (several statements) written for generation 'gen'. */
int sqi_exec_gen(struct sqlite_sink *ss, const char *tmpl, int64_t gen, const char *what)
{
    char *sql = sqi_sql_expand(tmpl, gen, NULL);
    int rc;

    if (sql == NULL)
        return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot %s: out of memory", what);
    rc = sqlite3_exec(ss->db, sql, NULL, NULL, NULL);
    free(sql);
    return rc == SQLITE_OK ? 0 : sqi_sql_fail(ss, what);
}

/* The views on generation 'gen', in the given forms. */
static int views_make(struct sqlite_sink *ss, int64_t gen, int bigm, int bign, const char *what)
{
    char *sql = views_sql(bigm, bign);
    int rc;

    if (sql == NULL)
        return rs_fail(&ss->base.err, RS_E_NOMEM, "cannot %s: out of memory", what);
    rc = sqi_exec_gen(ss, sql, gen, what);
    free(sql);
    return rc;
}

int sqi_views_create(struct sqlite_sink *ss, int64_t gen, const char *what)
{
    char m[64], n[64];

    snprintf(m, sizeof(m), "SELECT count(*) FROM g%lld_bigm", (long long)gen);
    snprintf(n, sizeof(n), "SELECT count(*) FROM g%lld_bign", (long long)gen);
    return views_make(ss, gen, sqi_query_int(ss, m, 0) > 0, sqi_query_int(ss, n, 0) > 0, what);
}

int sqi_views_upgrade(struct sqlite_sink *ss, int bigm, int bign)
{
    int has_m, has_n;

    if (ss->target != ss->gen)
        return 0;
    has_m = sqi_query_int(ss, "SELECT count(*) FROM sqlite_schema WHERE name = 'redis_sets'"
                          " AND sql GLOB '*bigm*'", 0) > 0;
    has_n = sqi_query_int(ss, "SELECT count(*) FROM sqlite_schema WHERE name = 'redis_keys'"
                          " AND sql GLOB '*bign*'", 0) > 0;
    if ((!bigm || has_m) && (!bign || has_n))
        return 0;
    return views_make(ss, ss->gen, bigm || has_m, bign || has_n, "show big names in the views");
}

int sqi_drop_generation(struct sqlite_sink *ss, int64_t gen)
{
    char sql[64];

    for (int i = 0; sqi_gen_tables[i]; i++) {
        snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS g%lld_%s", (long long)gen,
                 sqi_gen_tables[i]);
        if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return sqi_sql_fail(ss, "drop an old generation");
    }
    return 0;
}

/* Add the status columns a mirror made by an older redsink lacks. */
static int status_columns_add(struct sqlite_sink *ss)
{
    char sql[160];

    for (size_t i = 0; i < sizeof(status_columns) / sizeof(status_columns[0]); i++) {
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_table_info('redsink_status')"
                 " WHERE name = '%s'", status_columns[i][0]);
        if (sqi_query_int(ss, sql, 0) > 0)
            continue;
        snprintf(sql, sizeof(sql), "ALTER TABLE redsink_status ADD COLUMN %s %s",
                 status_columns[i][0], status_columns[i][1]);
        if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return sqi_sql_fail(ss, "add a column to redsink_status");
    }
    return 0;
}

/* Give the element tables of the live generation of a mirror made before
 * big element values their 'big' column, then the table and triggers. */
static int big_upgrade(struct sqlite_sink *ss)
{
    char sql[160];

    for (size_t i = 0; i < sizeof(big_tables) / sizeof(big_tables[0]); i++) {
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_table_info('g%lld_%s')"
                 " WHERE name = 'big'", (long long)ss->gen, big_tables[i]);
        if (sqi_query_int(ss, sql, 0) > 0)
            continue;
        snprintf(sql, sizeof(sql), "ALTER TABLE g%lld_%s ADD COLUMN big INTEGER",
                 (long long)ss->gen, big_tables[i]);
        if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return sqi_sql_fail(ss, "add the big column");
    }
    return sqi_exec_gen(ss, big_upgrade_ddl, ss->gen, "add the big value table");
}

/*
 * Key names, hash fields, set and sorted-set members and stream field names
 * of SQI_BIG_VALUE bytes or more are placeholders in their rows since
 * gN_bigm and gN_bign came (sqlite_bigm.c). A mirror made before holds them
 * whole, and a command that names one binds its placeholder and misses it:
 * the mirror would go on differing from the master. So a mirror opened
 * without gN_zset's 'ord' column (every mirror made before the last of
 * those forms) is searched once for such rows; with any, its checkpoint is
 * cleared in the upgrade's transaction, and the next connection takes a
 * full sync, which stores them the current way. Readers keep the mirror as
 * it is until then. The byte length is taken through a CAST: length() of
 * TEXT counts characters, up to the first NUL.
 */
static int old_form_rows(struct sqlite_sink *ss)
{
    static const char *const cols[][2] = {
        { "keys", "key" }, { "hash", "field" }, { "set", "member" },
        { "zset", "member" }, { "stream", "field" }
    };
    int64_t n = 0;
    char sql[160];

    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        int64_t c;

        snprintf(sql, sizeof(sql), "SELECT count(*) FROM g%lld_%s WHERE"
                 " length(CAST(%s AS BLOB)) >= %zu", (long long)ss->gen, cols[i][0],
                 cols[i][1], SQI_BIG_VALUE);
        if ((c = sqi_query_int(ss, sql, -1)) < 0)
            return sqi_sql_fail(ss, "look for big names in an older form");
        n += c;
    }
    if (n == 0)
        return 0;
    if (sqlite3_exec(ss->db, "UPDATE redsink_status SET master_replid = '', offset = -1",
                     NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "clear the checkpoint of a mirror in an older form");
    if (ss->base.on_event != NULL) {
        struct sink_event ev = { .kind = SINK_EV_OLD_FORM, .target = ss->path, .bytes = n };

        ss->base.on_event(ss->base.event_ud, &ev);
    }
    return 0;
}

/* Give gN_zset of the live generation of a mirror made before big members
 * of sorted sets its 'ord' column (sqlite_zset.c; NULL in every existing
 * row, as for a small member), and drop its order index of (kid, score,
 * CAST(member AS BLOB)): the next ordered op builds the new one. */
static int zset_upgrade(struct sqlite_sink *ss)
{
    char sql[160];

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_table_info('g%lld_zset')"
             " WHERE name = 'ord'", (long long)ss->gen);
    if (sqi_query_int(ss, sql, 0) > 0)
        return 0;
    if (old_form_rows(ss))
        return -1;
    snprintf(sql, sizeof(sql), "ALTER TABLE g%lld_zset ADD COLUMN ord BLOB;"
             " DROP INDEX IF EXISTS g%lld_zset_order;", (long long)ss->gen, (long long)ss->gen);
    if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "add the order column of sorted sets");
    return 0;
}

/* A new file: base tables, generation 1 (indexed: it is streamed into at
 * once), the views. */
static int schema_create(struct sqlite_sink *ss)
{
    char sql[96];

    if (sqlite3_exec(ss->db, base_ddl, NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "create the schema");
    if (status_columns_add(ss))
        return -1;
    if (sqi_exec_gen(ss, sqi_gen_ddl, 1, "create the schema") ||
        sqi_exec_gen(ss, sqi_gen_index, 1, "create the schema") ||
        sqi_views_create(ss, 1, "create the views"))
        return -1;
    snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d;",
             APP_ID, SCHEMA_VERSION);
    if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "create the schema");
    ss->gen = 1;
    return 0;
}

/* Is 'name' one of our generation tables, "g<digits>_<table>"? Its
 * generation, or -1. */
static int64_t table_generation(const char *name)
{
    char *end;
    long long g;

    if (name[0] != 'g' || name[1] < '0' || name[1] > '9')
        return -1;
    g = strtoll(name + 1, &end, 10);
    if (*end != '_')
        return -1;
    for (int i = 0; sqi_gen_tables[i]; i++)
        if (strcmp(end + 1, sqi_gen_tables[i]) == 0)
            return g;
    return -1;
}

/* An existing mirror: find the live generation, drop the others (a load
 * that crashed, or an old generation whose drop did not finish). */
static int schema_recover(struct sqlite_sink *ss)
{
    sqlite3_stmt *st;
    int64_t stale[64];
    int n = 0;

    ss->gen = sqi_query_int(ss, "SELECT generation FROM redsink_status", -1);
    if (ss->gen < 1)
        return rs_fail(&ss->base.err, RS_E_SQL, "cannot use '%s': its redsink_status "
                       "table is damaged", ss->path);
    if (sqlite3_prepare_v2(ss->db, "SELECT name FROM sqlite_schema WHERE type = 'table'"
                           " AND name GLOB 'g[0-9]*_*'", -1, &st, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "read the schema");
    while (sqlite3_step(st) == SQLITE_ROW && n < 64) {
        int64_t g = table_generation((const char *)sqlite3_column_text(st, 0));
        int seen = 0;

        for (int i = 0; i < n; i++)
            seen |= stale[i] == g;
        if (g >= 0 && g != ss->gen && !seen)
            stale[n++] = g;
    }
    sqlite3_finalize(st);
    for (int i = 0; i < n; i++)
        if (sqi_drop_generation(ss, stale[i]))
            return -1;
    if (status_columns_add(ss) ||
        sqi_exec_gen(ss, array_upgrade_ddl, ss->gen, "add the array and path hash tables") ||
        big_upgrade(ss) || zset_upgrade(ss))
        return -1;
    /* Recreate the views: cheap, and repairs them if someone dropped one. */
    return sqi_views_create(ss, ss->gen, "create the views");
}

/* Create or check the schema in one write transaction. */
int sqi_schema_open(struct sqlite_sink *ss)
{
    int64_t app, tables;

    if (sqlite3_exec(ss->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sqi_sql_fail(ss, "lock the database");
    app = sqi_query_int(ss, "PRAGMA application_id", 0);
    tables = sqi_query_int(ss, "SELECT count(*) FROM sqlite_schema", 0);
    if (app == 0 && tables == 0) {
        if (schema_create(ss))
            goto fail;
    } else if (app != APP_ID) {
        rs_fail(&ss->base.err, RS_E_SQL, "cannot use '%s': not a redsink mirror", ss->path);
        goto fail;
    } else if (sqi_query_int(ss, "PRAGMA user_version", 0) > SCHEMA_VERSION) {
        rs_fail(&ss->base.err, RS_E_SQL, "cannot use '%s': made by a newer redsink "
                "(schema %lld)", ss->path, (long long)sqi_query_int(ss, "PRAGMA user_version", 0));
        goto fail;
    } else if (schema_recover(ss)) {
        goto fail;
    }
    if (sqlite3_exec(ss->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqi_sql_fail(ss, "create the schema");
        goto fail;
    }
    ss->target = ss->gen;
    return 0;
fail:
    sqi_txn_rollback(ss);
    return -1;
}
