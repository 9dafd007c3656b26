/*
 * sqlite_set.c - the SQLite sink's sets: one gN_set row per member.
 */
#include "sqlite_int.h"

/* This file's statements, in slots SQI_X_SET + n (sqlite_int.h). */
enum {
    SE_INSERT, SE_DELETE, SE_NSTMT
};
static const char *const set_sql[SE_NSTMT] = {
    [SE_INSERT] = "INSERT OR IGNORE INTO @set(kid, member) VALUES (?1, ?2)",
    [SE_DELETE] = "DELETE FROM @set WHERE kid = ?1 AND member = ?2",
};
_Static_assert(SE_NSTMT <= SQI_X_PER_FAMILY, "too many set statements");

/* A statement 'id' of this file: sqi_xstmt(ss, SQI_X_SET + id, set_sql[id]). */

int sq_set_add(struct sink *s, int64_t id, const struct rs_bytes *m, int *added)
{
    return sqi_run_member(SS(s), SQI_X_SET + SE_INSERT, set_sql[SE_INSERT],
                          id, m, added, "add a set member");
}

int sq_set_rem(struct sink *s, int64_t id, const struct rs_bytes *m, int *removed)
{
    return sqi_run_member(SS(s), SQI_X_SET + SE_DELETE, set_sql[SE_DELETE],
                          id, m, removed, "remove a set member");
}

/* ------------------------------------------------------------------ */
/* not implemented yet (sink.h version 2)                             */
/* ------------------------------------------------------------------ */

int sq_set_card(struct sink *s, int64_t id, int64_t *card)
{
    (void)id;
    (void)card;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: set_card not implemented yet");
}

int sq_set_is_member(struct sink *s, int64_t id, const struct rs_bytes *m, int *is_member)
{
    (void)id;
    (void)m;
    (void)is_member;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: set_is_member not implemented yet");
}

int sq_set_scan(struct sink *s, int64_t id, void (*cb)(void *ud, const struct rs_bytes *m),
                void *ud)
{
    (void)id;
    (void)cb;
    (void)ud;
    return rs_fail(&s->err, RS_E_UNSUPPORTED, "sqlite: set_scan not implemented yet");
}
