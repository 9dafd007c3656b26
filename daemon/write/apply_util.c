/*
 * apply_util.c - helpers every command family uses (declared, with their
 * contracts, in apply_int.h): option and number parsing as Redis does it,
 * "log and skip" for commands Redis would refuse, and key lookups that
 * create, type-check or delete emptied keys.
 *
 * Nothing here commits or rolls back: that is apply.c's job.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apply_int.h"
#include "log.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* An option as Redis compares it: strcasecmp on the C string, so the
 * argument ends at its first NUL byte. */
int ap_arg_is(const struct rs_bytes *b, const char *lit)
{
    size_t n = strnlen(b->ptr, b->len);

    return n == strlen(lit) && strncasecmp(b->ptr, lit, n) == 0;
}

int ap_bytes_eq(const struct rs_bytes *x, const struct rs_bytes *y)
{
    return x->len == y->len && memcmp(x->ptr, y->ptr, x->len) == 0;
}

/* Printable, bounded copy of binary bytes for log lines ('size' >= 8). */
const char *ap_show(const struct rs_bytes *b, char *buf, size_t size)
{
    size_t o = 0, i;

    for (i = 0; i < b->len && o + 8 <= size; i++) {
        unsigned char c = (unsigned char)b->ptr[i];

        if (c >= 0x20 && c < 0x7f && c != '\\')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
    }
    if (i < b->len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* Redis would answer this keyed command with an error: log it and go on
 * (a replica does not stop for it). Returns 0. */
int ap_reject(struct applier *a, const struct rs_bytes *argv, const char *why)
{
    char name[48], key[80];

    (void)a;
    log_msg(RS_LOG_WARN, "skipping '%s' on '%s' from the master: %s",
            ap_show(&argv[0], name, sizeof(name)), ap_show(&argv[1], key, sizeof(key)), why);
    return 0;
}

/* ap_reject(), for parsers that return -1 to their caller. */
int ap_refuse(struct applier *a, const struct rs_bytes *argv, const char *why)
{
    ap_reject(a, argv, why);
    return -1;
}

int ap_wrongtype(struct applier *a, const struct rs_bytes *argv)
{
    return ap_reject(a, argv, "WRONGTYPE Operation against a key holding the wrong kind of value");
}

int ap_parse_ll(const struct applier *a, const struct rs_bytes *b, long long *v)
{
    char small[64], *buf = small, *end;
    const char *nul;
    size_t len = b->len;
    long long r;
    int rc = -1;

    if (!ap_master_before(a, 30202))
        return rs_parse_ll(b->ptr, b->len, v);
    if ((nul = memchr(b->ptr, '\0', b->len)) != NULL)
        len = (size_t)(nul - b->ptr);
    if (len >= sizeof(small) && (buf = malloc(len + 1)) == NULL)
        return -1;
    memcpy(buf, b->ptr, len);
    buf[len] = '\0';
    if (!isspace((unsigned char)buf[0])) {
        errno = 0;
        r = strtoll(buf, &end, 10);
        if (*end == '\0' && errno != ERANGE) {
            *v = r;
            rc = 0;
        }
    }
    if (buf != small)
        free(buf);
    return rc;
}

/* A score as Redis' string2d reads it: all of strtod's syntax ("inf",
 * hex floats...), no leading space, no trailing bytes, no NaN, no
 * overflow, no underflow to zero. */
int ap_parse_double(const struct rs_bytes *b, double *out)
{
    char small[128], *buf = small, *end;
    double d;
    int rc = -1;

    if (b->len == 0 || memchr(b->ptr, '\0', b->len))
        return -1;
    if (b->len >= sizeof(small) && (buf = malloc(b->len + 1)) == NULL)
        return -1;
    memcpy(buf, b->ptr, b->len);
    buf[b->len] = '\0';
    if (buf[0] != ' ' && !(buf[0] >= '\t' && buf[0] <= '\r')) {
        errno = 0;
        d = strtod(buf, &end);
        if ((size_t)(end - buf) == b->len && !isnan(d) &&
            !(errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL || fpclassify(d) == FP_ZERO))) {
            *out = d;
            rc = 0;
        }
    }
    if (buf != small)
        free(buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Key helpers                                                         */
/* ------------------------------------------------------------------ */

int ap_find_key(struct applier *a, const struct rs_bytes *key, struct sink_key *sk)
{
    sk->type = RS_T_NONE;
    sk->id = -1;
    sk->expire_ms = RS_NO_EXPIRE;
    return a->sink->ops->key_find(a->sink, a->db, key, sk);
}

/*
 * Find a key of 'type', creating it (empty, no TTL) when missing.
 * *skip = 1 when the key holds another type (WRONGTYPE, logged).
 */
int ap_find_or_create(struct applier *a, const struct rs_bytes *argv, enum rs_type type,
                      struct sink_key *sk, int *skip)
{
    *skip = 0;
    if (ap_find_key(a, &argv[1], sk) != 0)
        return -1;
    if (sk->type == RS_T_NONE) {
        sk->type = type;
        sk->expire_ms = RS_NO_EXPIRE;
        return a->sink->ops->key_create(a->sink, a->db, &argv[1], type, RS_NO_EXPIRE, NULL,
                                        &sk->id);
    }
    if (sk->type != type) {
        *skip = 1;
        ap_wrongtype(a, argv);
    }
    return 0;
}

/* Find an existing key of 'type'; *skip = 1 when missing or of another type. */
int ap_find_typed(struct applier *a, const struct rs_bytes *argv, enum rs_type type,
                  struct sink_key *sk, int *skip)
{
    *skip = 0;
    if (ap_find_key(a, &argv[1], sk) != 0)
        return -1;
    if (sk->type == RS_T_NONE) {
        *skip = 1;
    } else if (sk->type != type) {
        *skip = 1;
        ap_wrongtype(a, argv);
    }
    return 0;
}

/* A collection lost elements: delete it when it has none left. */
int ap_delete_if_empty(struct applier *a, const struct sink_key *sk)
{
    int empty = 0;

    if (a->sink->ops->key_is_empty(a->sink, sk->id, sk->type, &empty) != 0)
        return -1;
    return empty ? a->sink->ops->key_delete(a->sink, sk->id) : 0;
}

/*
 * Make 'key' the string 'value' with 'expire_ms' (Redis' setKey plus
 * setExpire): an existing key of another type is replaced.
 */
int ap_store_string(struct applier *a, const struct rs_bytes *key, const struct sink_key *sk,
                    const struct rs_bytes *value, int64_t expire_ms)
{
    const struct sink_ops *o = a->sink->ops;
    int64_t id;

    if (sk->type == RS_T_STRING) {
        if (o->string_set(a->sink, sk->id, value) != 0)
            return -1;
        if (sk->expire_ms != expire_ms)
            return o->key_set_expire(a->sink, sk->id, expire_ms);
        return 0;
    }
    if (sk->type != RS_T_NONE && o->key_delete(a->sink, sk->id) != 0)
        return -1;
    return o->key_create(a->sink, a->db, key, RS_T_STRING, expire_ms, value, &id);
}

int ap_scratch_set(struct applier *a, const struct rs_bytes *v)
{
    a->scratch_len = 0;
    if (v->len > a->scratch_cap) {
        char *nb = realloc(a->scratch, v->len);

        if (nb == NULL)
            return -1;
        a->scratch = nb;
        a->scratch_cap = v->len;
    }
    if (v->len)
        memcpy(a->scratch, v->ptr, v->len);
    a->scratch_len = v->len;
    return 0;
}

static void scratch_cb(void *ud, const struct rs_bytes *v)
{
    struct applier *a = ud;

    if (ap_scratch_set(a, v) != 0)
        a->scratch_oom = 1;
}

int ap_parse_ld(const char *p, size_t len, long double *out)
{
    char buf[AP_LD_CHARS], *end;
    long double v;

    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || *end != '\0' || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        errno == EINVAL || isnan(v))
        return -1;
    *out = v;
    return 0;
}

size_t ap_format_ld(char *buf, size_t size, long double v)
{
    int n = snprintf(buf, size, "%.17Lf", v);
    size_t l;

    if (n < 0 || (size_t)n + 1 > size)
        return 0;                       /* Redis stores "" then; never for a finite value */
    l = (size_t)n;
    if (memchr(buf, '.', l) != NULL) {
        while (buf[l - 1] == '0')
            l--;
        if (buf[l - 1] == '.')
            l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return l;
}

/* Read a string key's value into a->scratch. */
int ap_read_string(struct applier *a, int64_t id)
{
    a->scratch_len = 0;
    a->scratch_oom = 0;
    if (a->sink->ops->string_get(a->sink, id, scratch_cb, a) != 0)
        return -1;
    if (a->scratch_oom)
        return rs_fail(&a->err, RS_E_NOMEM, "out of memory reading a string value");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Expire arguments                                                    */
/* ------------------------------------------------------------------ */

/* Redis' getExpireMillisecondsOrReply: an absolute unix ms time, or -1
 * (after logging) when Redis would refuse the value. */
int64_t ap_expire_arg(struct applier *a, const struct rs_bytes *argv,
                      const struct rs_bytes *v, enum exp_unit unit)
{
    int secs = unit == EXPU_EX || unit == EXPU_EXAT;
    long long ms;

    if (ap_parse_ll(a, v, &ms) != 0) {
        ap_reject(a, argv, "value is not an integer or out of range");
        return -1;
    }
    if (ms <= 0 || (secs && ms > LLONG_MAX / 1000)) {
        ap_reject(a, argv, "invalid expire time");
        return -1;
    }
    if (secs)
        ms *= 1000;
    if (unit == EXPU_EX || unit == EXPU_PX) {
        /* relative (masters before 7.0): against our clock at receipt */
        int64_t now = rs_now_ms();

        if (ms > LLONG_MAX - now) {
            ap_reject(a, argv, "invalid expire time");
            return -1;
        }
        ms += now;
    }
    return ms;
}
