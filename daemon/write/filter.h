/*
 * filter.h - which keys are mirrored: a set of databases and include and
 * exclude glob patterns on key names. A filtered key is simply not
 * mirrored: the loader skips it and the applier never writes it, so the
 * mirror reads it as missing.
 *
 * A key is kept when its db is selected (none listed: every db), it
 * matches an include pattern (none listed: every key) and no exclude
 * pattern. Patterns are Redis' (stringmatchlen, as KEYS and SCAN MATCH
 * use them): '*', '?', '[...]' with '^' and ranges, '\' escapes; binary
 * safe, case-sensitive.
 */
#ifndef RS_FILTER_H
#define RS_FILTER_H

#include <stddef.h>
#include "common.h"

struct key_filter;

/* Copies everything it is given. A negative db is refused (RS_E_CONFIG).
 * NULL with 'err' set on error. */
struct key_filter *filter_new(const int *dbs, int n_dbs, char *const *include, int n_inc,
                              char *const *exclude, int n_exc, struct rs_error *err);
void filter_free(struct key_filter *f);

/* 1 when key 'key' (len bytes) of 'db' is mirrored, else 0. A NULL
 * filter keeps everything. */
int filter_keep(const struct key_filter *f, int db, const char *key, size_t len);

/* 1 when database 'db' is mirrored (some of its keys may still be
 * filtered by the patterns), else 0. A NULL filter keeps every db. */
int filter_keep_db(const struct key_filter *f, int db);

/* Redis' stringmatchlen (case-sensitive): 1 when 'str' matches 'pat'. */
int filter_match(const char *pat, size_t plen, const char *str, size_t slen);

#endif
