/*
 * test_key_specs.c - the key positions of the command tables
 * (daemon/write/apply_int.h, struct cmd_keys): first key, last key and
 * step as Redis' command table has them (src/commands/<name>.json, the
 * range it derives from the key specs), and what the key filter does with
 * each command's keys (enum key_use). Then the invariants every entry of
 * every family table keeps. Exit 0, or 99 when a check failed.
 */
#include <stdio.h>
#include <string.h>

#include "apply_int.h"
#include "harness.h"

/* One check, named after the command it is about. */
static void check(int ok, const char *what, const char *name)
{
    CHECK(ok, "%s: %s", name, what);
}

static const struct command *lookup(const char *name)
{
    struct rs_bytes b = { name, strlen(name) };

    return ap_find_command(&b);
}

/* Positions from Redis' command JSON (XGROUP: its subcommands'). */
static const struct {
    const char *name;
    int first, last, step;
    enum key_use use;
} want[] = {
    { "set", 1, 1, 1, KU_FIRST },
    { "mset", 1, -1, 2, KU_PAIRS },
    { "msetnx", 1, -1, 2, KU_PAIRS },
    { "msetex", 0, 0, 0, KU_NUMKEYS_PAIRS },    /* keys after numkeys */
    { "rename", 1, 2, 1, KU_MOVE },
    { "renamenx", 1, 2, 1, KU_MOVE },
    { "move", 1, 1, 1, KU_MOVE_DB },
    { "copy", 1, 2, 1, KU_COPY },
    { "smove", 1, 2, 1, KU_SMOVE },
    { "lmove", 1, 2, 1, KU_LMOVE },
    { "blmove", 1, 2, 1, KU_LMOVE },
    { "rpoplpush", 1, 2, 1, KU_RPOPLPUSH },
    { "brpoplpush", 1, 2, 1, KU_RPOPLPUSH },
    { "zunionstore", 1, 1, 1, KU_FIRST },       /* the sources after numkeys */
    { "zrangestore", 1, 2, 1, KU_FIRST },
    { "sinterstore", 1, -1, 1, KU_FIRST },
    { "bitop", 2, -1, 1, KU_FIRST },
    { "pfdebug", 2, 2, 1, KU_FIRST },
    { "xgroup", 2, 2, 1, KU_FIRST },
    { "del", 1, -1, 1, KU_NONE },
    { "unlink", 1, -1, 1, KU_NONE },
    { "pfcount", 1, -1, 1, KU_NONE },
    { "blpop", 1, -2, 1, KU_NONE },
    { "brpop", 1, -2, 1, KU_NONE },
    { "lmpop", 0, 0, 0, KU_NONE },
    { "blmpop", 0, 0, 0, KU_NONE },
    { "function", 0, 0, 0, KU_NONE },
    { "flushall", 0, 0, 0, KU_NONE },
    { "flushdb", 0, 0, 0, KU_FLUSHDB },
    { "swapdb", 0, 0, 0, KU_SWAPDB },
    { "sort", 1, 1, 1, KU_SORT_STORE },
    { "georadius", 1, 1, 1, KU_GEO_STORE },
    { "georadiusbymember", 1, 1, 1, KU_GEO_STORE },
    { "geosearchstore", 1, 2, 1, KU_FIRST },
    { "xadd", 1, 1, 1, KU_FIRST },
    { "eval", 0, 0, 0, KU_NONE },
    { "select", 0, 0, 0, KU_NONE },
};

static void test_positions(void)
{
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct command *c = lookup(want[i].name);
        char what[96];

        if (c == NULL) {
            check(0, "in a table", want[i].name);
            continue;
        }
        snprintf(what, sizeof(what), "keys %d %d %d use %d (want %d %d %d use %d)",
                 c->keys.first, c->keys.last, c->keys.step, c->keys.use,
                 want[i].first, want[i].last, want[i].step, (int)want[i].use);
        check(c->keys.first == want[i].first && c->keys.last == want[i].last &&
              c->keys.step == want[i].step && c->keys.use == want[i].use, what, want[i].name);
    }
}

/* A write names where its key is unless it has none; a read writes none;
 * a range is well formed. */
static int entry_ok(const struct command *c)
{
    const struct cmd_keys *k = &c->keys;
    int keyless_use = k->use == KU_NONE || k->use == KU_FLUSHDB || k->use == KU_SWAPDB ||
                      k->use == KU_NUMKEYS_PAIRS;

    if (!(c->flags & CMD_WRITE) && k->use != KU_NONE)
        return 0;
    if (k->first == 0)
        return k->last == 0 && k->step == 0 && (keyless_use || !(c->flags & CMD_WRITE));
    if (k->step < 1 || (k->last > 0 && k->last < k->first))
        return 0;
    /* a fixed arity covers the last key */
    return c->arity < 0 || k->last < 0 || k->last < c->arity;
}

static void test_invariants(void)
{
    static const struct {
        const struct command *table;
        const size_t *count;
    } tables[] = {
        { cmd_keys_table, &cmd_keys_count }, { cmd_string_table, &cmd_string_count },
        { cmd_hash_table, &cmd_hash_count }, { cmd_list_table, &cmd_list_count },
        { cmd_set_table, &cmd_set_count }, { cmd_zset_table, &cmd_zset_count },
        { cmd_geo_table, &cmd_geo_count }, { cmd_stream_table, &cmd_stream_count },
        { cmd_script_table, &cmd_script_count }, { cmd_array_table, &cmd_array_count },
    };
    int bad = 0, n = 0;

    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        for (size_t i = 0; i < *tables[t].count; i++, n++) {
            if (!entry_ok(&tables[t].table[i])) {
                check(0, "key positions well formed", tables[t].table[i].name);
                bad++;
            }
        }
    }
    if (bad == 0)
        check(n > 100, "every entry's key positions are well formed", "all tables");
}

int main(void)
{
    test_positions();
    test_invariants();
    return check_summary();
}
