/*
 * sqlite_function.c - function libraries (FUNCTION LOAD, DELETE, FLUSH and
 * the RDB's functions), kept by library name.
 */
#include <string.h>

#include "sqlite_int.h"

/* The library name in a function's "#!lua name=mylib" first line. */
static struct rs_bytes function_name(const struct rs_bytes *code)
{
    struct rs_bytes none = { NULL, 0 };
    const char *p = code->ptr, *end, *nl;

    if (code->len < 2 || p[0] != '#' || p[1] != '!')
        return none;
    nl = memchr(p, '\n', code->len);
    end = nl ? nl : p + code->len;
    for (const char *q = p; q + 5 <= end; q++) {
        if (memcmp(q, "name=", 5) == 0 && (q == p || q[-1] == ' ')) {
            const char *v = q + 5, *e = v;

            while (e < end && *e != ' ' && *e != '\r')
                e++;
            return (struct rs_bytes){ v, (size_t)(e - v) };
        }
    }
    return none;
}

int sq_function_store(struct sink *s, const struct rs_bytes *code)
{
    struct sqlite_sink *ss = SS(s);
    struct rs_bytes name = function_name(code);
    sqlite3_stmt *st;

    if (sqi_stuck(ss) || sqi_load_tick(ss) || (st = sqi_stmt(ss, ST_FUNCTION)) == NULL)
        return -1;
    if (sqi_bind_bytes(st, 1, name.ptr ? &name : NULL) != SQLITE_OK ||
        sqi_bind_bytes(st, 2, code) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "store a function library");
    return sqi_run(ss, st, "store a function library");
}

/* FUNCTION DELETE (one library, by the name its "#!lua name=" line
 * gave) and FUNCTION FLUSH (all). Statements in SQI_X_MISC slots. */
int sq_function_delete(struct sink *s, const struct rs_bytes *library)
{
    struct sqlite_sink *ss = SS(s);
    sqlite3_stmt *st;

    if (sqi_stuck(ss))
        return -1;
    if (library == NULL) {
        st = sqi_xstmt(ss, SQI_X_MISC + 0, "DELETE FROM @func");
        return st ? sqi_run(ss, st, "flush the function libraries") : -1;
    }
    if ((st = sqi_xstmt(ss, SQI_X_MISC + 1, "DELETE FROM @func WHERE name = ?1")) == NULL)
        return -1;
    if (sqi_bind_bytes(st, 1, library) != SQLITE_OK)
        return sqi_bind_fail(ss, st, "delete a function library");
    return sqi_run(ss, st, "delete a function library");
}
