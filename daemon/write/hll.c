/*
 * hll.c - Redis' HyperLogLog value format (see hll.h for the layout).
 *
 * Written from the format's description and checked byte for byte
 * against redis-server 7.0 (tests/integration/strings.sh). The parts
 * that decide bytes rather than estimates are the sparse editor
 * (sparse_set: how a run is split, when neighbours merge, when the value
 * is promoted to dense) and the estimator whose result PFCOUNT caches
 * (estimate). Start at hll_add().
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hll.h"

#define P_BITS 14
#define Q_BITS (64 - P_BITS)          /* hash bits left for the zero run */
#define REG_MAX 63
#define SLACK 8                       /* spare zero bytes past 'len' */

#define ENC_DENSE 0
#define ENC_SPARSE 1

#define VAL_MAX_VALUE 32              /* largest register a VAL opcode holds */
#define VAL_MAX_LEN 4
#define ZERO_MAX_LEN 64
#define XZERO_MAX_LEN 16384

/* ---- sparse opcodes ---- */

static int op_is_zero(const uint8_t *p)  { return (*p & 0xc0) == 0; }
static int op_is_xzero(const uint8_t *p) { return (*p & 0xc0) == 0x40; }
static int op_is_val(const uint8_t *p)   { return (*p & 0x80) != 0; }
static long zero_len(const uint8_t *p)   { return (*p & 0x3f) + 1; }
static long xzero_len(const uint8_t *p)  { return (((long)(p[0] & 0x3f) << 8) | p[1]) + 1; }
static int val_value(const uint8_t *p)   { return ((*p >> 2) & 0x1f) + 1; }
static long val_len(const uint8_t *p)    { return (*p & 0x3) + 1; }

static void set_val(uint8_t *p, int value, long len)
{
    *p = (uint8_t)(0x80 | ((value - 1) << 2) | (len - 1));
}

/* A run of 'len' zero registers as ZERO (len <= 64) or XZERO; the bytes used. */
static int put_zeros(uint8_t *p, long len)
{
    if (len > ZERO_MAX_LEN) {
        p[0] = (uint8_t)(0x40 | ((len - 1) >> 8));
        p[1] = (uint8_t)((len - 1) & 0xff);
        return 2;
    }
    p[0] = (uint8_t)(len - 1);
    return 1;
}

/* ---- dense registers: 6 bits each, packed from the low bits up ---- */

static unsigned reg_get(const uint8_t *r, long i)
{
    unsigned long bit = (unsigned long)i * 6, byte = bit / 8, fb = bit & 7;

    return (unsigned)((r[byte] >> fb) | ((unsigned long)r[byte + 1] << (8 - fb))) & REG_MAX;
}

/* Writes r[byte + 1] even for the last register: the buffer has slack. */
static void reg_set(uint8_t *r, long i, unsigned v)
{
    unsigned long bit = (unsigned long)i * 6, byte = bit / 8, fb = bit & 7;

    r[byte] = (uint8_t)((r[byte] & ~(REG_MAX << fb)) | (v << fb));
    r[byte + 1] = (uint8_t)((r[byte + 1] & ~(REG_MAX >> (8 - fb))) | (v >> (8 - fb)));
}

static int dense_raise(uint8_t *r, long i, unsigned v)
{
    if (v <= reg_get(r, i))
        return 0;
    reg_set(r, i, v);
    return 1;
}

/* ---- hashing ---- */

/* MurmurHash64A (Austin Appleby), words read little endian as Redis does
 * on every platform. */
static uint64_t murmur64a(const uint8_t *k, size_t len, uint64_t seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    uint64_t h = seed ^ ((uint64_t)len * m);
    size_t i, words = len / 8;

    for (i = 0; i < words; i++, k += 8) {
        uint64_t w = 0;

        for (int b = 7; b >= 0; b--)
            w = (w << 8) | k[b];
        w *= m;
        w ^= w >> 47;
        w *= m;
        h ^= w;
        h *= m;
    }
    if (len & 7) {
        for (int b = (int)(len & 7) - 1; b >= 0; b--)
            h ^= (uint64_t)k[b] << (8 * b);
        h *= m;
    }
    h ^= h >> 47;
    h *= m;
    h ^= h >> 47;
    return h;
}

/* The register an element hashes to and its run: 1 + the trailing zeros
 * of the hash above the 14 index bits (bit 50 set, so at most 51). */
static int pattern(const void *ele, size_t len, long *reg)
{
    uint64_t h = murmur64a(ele, len, 0xadc83b19ULL);
    int count = 1;

    *reg = (long)(h & (HLL_REGISTERS - 1));
    h >>= P_BITS;
    h |= (uint64_t)1 << Q_BITS;
    while ((h & 1) == 0) {
        count++;
        h >>= 1;
    }
    return count;
}

/* ---- buffers ---- */

static int reserve(struct hll *h, size_t need)
{
    unsigned char *np;
    size_t cap = need + SLACK;

    if (cap <= h->cap)
        return 0;
    if ((np = realloc(h->p, cap)) == NULL)
        return -2;
    memset(np + h->cap, 0, cap - h->cap);
    h->p = np;
    h->cap = cap;
    return 0;
}

int hll_is_hll(const void *v, size_t len)
{
    const uint8_t *p = v;

    if (len < HLL_HDR_SIZE || memcmp(p, "HYLL", 4) != 0 || p[4] > ENC_SPARSE)
        return 0;
    return p[4] != ENC_DENSE || len == HLL_DENSE_SIZE;
}

int hll_init(struct hll *h, const void *p, size_t len)
{
    h->p = NULL;
    h->len = h->cap = 0;
    if (p != NULL) {
        if (reserve(h, len) != 0)
            return -1;
        memcpy(h->p, p, len);
        h->len = len;
        return 0;
    }
    /* a new HLL: sparse, one XZERO covering every register, cache 0 */
    if (reserve(h, HLL_HDR_SIZE + 2) != 0)
        return -1;
    memcpy(h->p, "HYLL", 4);
    h->p[4] = ENC_SPARSE;
    h->len = HLL_HDR_SIZE;
    h->len += (size_t)put_zeros(h->p + h->len, XZERO_MAX_LEN);
    return 0;
}

void hll_release(struct hll *h)
{
    free(h->p);
    h->p = NULL;
    h->len = h->cap = 0;
}

void hll_invalidate(struct hll *h)
{
    h->p[15] |= 0x80;
}

/* ---- sparse to dense ---- */

int hll_to_dense(struct hll *h)
{
    uint8_t *d, *p = h->p + HLL_HDR_SIZE, *end = h->p + h->len;
    long idx = 0;

    if (h->p[4] == ENC_DENSE)
        return 0;
    if ((d = calloc(1, HLL_DENSE_SIZE + SLACK)) == NULL)
        return -2;
    memcpy(d, h->p, HLL_HDR_SIZE);       /* the cache travels unchanged */
    d[4] = ENC_DENSE;
    while (p < end) {
        if (op_is_zero(p)) {
            idx += zero_len(p++);
        } else if (op_is_xzero(p)) {
            idx += xzero_len(p);
            p += 2;
        } else {
            long run = val_len(p);
            int v = val_value(p);

            if (idx + run > HLL_REGISTERS)
                break;
            while (run--)
                reg_set(d + HLL_HDR_SIZE, idx++, (unsigned)v);
            p++;
        }
    }
    if (idx != HLL_REGISTERS) {
        free(d);
        return -1;
    }
    free(h->p);
    h->p = d;
    h->len = HLL_DENSE_SIZE;
    h->cap = HLL_DENSE_SIZE + SLACK;
    return 1;
}

static int promote(struct hll *h, long index, int count)
{
    int rc = hll_to_dense(h);

    if (rc < 0)
        return rc;
    dense_raise(h->p + HLL_HDR_SIZE, index, (unsigned)count);
    return 1;
}

/* ---- sparse editing ---- */

/*
 * After an edit: merge adjacent VAL opcodes of the same value while the
 * run fits one opcode, looking at no more than 5 opcodes from 'p' (the
 * one before the edited one), exactly as far as Redis looks.
 */
static void sparse_merge(struct hll *h, uint8_t *p)
{
    uint8_t *end = h->p + h->len;
    int scan = 5;

    while (p < end && scan--) {
        if (op_is_xzero(p)) {
            p += 2;
            continue;
        }
        if (op_is_zero(p)) {
            p++;
            continue;
        }
        if (p + 1 < end && op_is_val(p + 1) && val_value(p) == val_value(p + 1) &&
            val_len(p) + val_len(p + 1) <= VAL_MAX_LEN) {
            set_val(p + 1, val_value(p), val_len(p) + val_len(p + 1));
            memmove(p, p + 1, (size_t)(end - p - 1));
            h->len--;
            end--;
            continue;            /* p may merge with the next one too */
        }
        p++;
    }
}

/*
 * The replacement for the opcode at 'p' (covering registers first..last)
 * once register 'index' becomes 'count': up to 5 bytes into seq.
 */
static int sparse_split(const uint8_t *p, long first, long last, long index, int count,
                        uint8_t *seq)
{
    int n = 0;

    if (!op_is_val(p)) {
        if (index != first)
            n += put_zeros(seq + n, index - first);
        set_val(seq + n++, count, 1);
        if (index != last)
            n += put_zeros(seq + n, last - index);
    } else {
        int cur = val_value(p);

        if (index != first)
            set_val(seq + n++, cur, index - first);
        set_val(seq + n++, count, 1);
        if (index != last)
            set_val(seq + n++, cur, last - index);
    }
    return n;
}

/* Raise register 'index' to 'count' in a sparse HLL: 1 changed, 0 not,
 * -1 corrupt, -2 out of memory. May promote the HLL to dense. */
static int sparse_set(struct hll *h, long index, int count, size_t sparse_max)
{
    uint8_t *base, *p, *end, *prev = NULL, *next, seq[5];
    long first = 0, span = 0;
    int oplen = 1, seqlen;
    long delta;

    if (count > VAL_MAX_VALUE)
        return promote(h, index, count);
    if (reserve(h, h->len + 3) != 0)
        return -2;
    base = p = h->p + HLL_HDR_SIZE;
    end = h->p + h->len;
    while (p < end) {                     /* find the opcode covering 'index' */
        oplen = 1;
        if (op_is_zero(p)) {
            span = zero_len(p);
        } else if (op_is_val(p)) {
            span = val_len(p);
        } else {
            span = xzero_len(p);
            oplen = 2;
        }
        if (index <= first + span - 1)
            break;
        prev = p;
        p += oplen;
        first += span;
    }
    if (span == 0 || p >= end)
        return -1;
    next = p + oplen < end ? p + oplen : NULL;

    if (op_is_val(p) && val_value(p) >= count)
        return 0;
    if ((op_is_val(p) || op_is_zero(p)) && span == 1) {
        set_val(p, count, 1);                 /* a one-register run: in place */
    } else {
        seqlen = sparse_split(p, first, first + span - 1, index, count, seq);
        delta = seqlen - oplen;
        if (delta > 0 && h->len + (size_t)delta > sparse_max)
            return promote(h, index, count);
        if (delta && next)
            memmove(next + delta, next, (size_t)(end - next));
        h->len = (size_t)((long)h->len + delta);
        memcpy(p, seq, (size_t)seqlen);
    }
    sparse_merge(h, prev ? prev : base);
    hll_invalidate(h);
    return 1;
}

int hll_add(struct hll *h, const void *ele, size_t len, size_t sparse_max)
{
    long reg;
    int count = pattern(ele, len, &reg);

    if (h->p[4] == ENC_DENSE)
        return dense_raise(h->p + HLL_HDR_SIZE, reg, (unsigned)count);
    return sparse_set(h, reg, count, sparse_max);
}

/* ---- PFMERGE ---- */

int hll_merge_max(uint8_t *max, const void *v, size_t len, int *dense)
{
    const uint8_t *p = (const uint8_t *)v + HLL_HDR_SIZE, *end = (const uint8_t *)v + len;
    long i = 0;

    *dense = ((const uint8_t *)v)[4] == ENC_DENSE;
    if (*dense) {
        for (i = 0; i < HLL_REGISTERS; i++) {
            unsigned r = reg_get(p, i);

            if (r > max[i])
                max[i] = (uint8_t)r;
        }
        return 0;
    }
    while (p < end) {
        if (op_is_zero(p)) {
            i += zero_len(p++);
        } else if (op_is_xzero(p)) {
            i += xzero_len(p);
            p += 2;
        } else {
            long run = val_len(p);
            int r = val_value(p);

            if (i + run > HLL_REGISTERS)
                break;
            for (; run--; i++)
                if (r > max[i])
                    max[i] = (uint8_t)r;
            p++;
        }
    }
    return i == HLL_REGISTERS ? 0 : -1;
}

int hll_store_max(struct hll *h, const uint8_t *max, int to_dense, size_t sparse_max)
{
    int rc;

    if (to_dense && (rc = hll_to_dense(h)) < 0)
        return rc;
    for (long j = 0; j < HLL_REGISTERS; j++) {
        if (max[j] == 0)
            continue;
        if (h->p[4] == ENC_DENSE)
            dense_raise(h->p + HLL_HDR_SIZE, j, max[j]);
        else if ((rc = sparse_set(h, j, max[j], sparse_max)) == -2)
            return rc;                    /* Redis ignores -1 here; so do we */
    }
    hll_invalidate(h);
    return 0;
}

/* ---- PFCOUNT: Ertl's estimator ("New cardinality estimation algorithms
 * for HyperLogLog sketches", arXiv:1702.01284), as Redis 5.0+ computes it ---- */

static double sigma(double x)
{
    double y = 1, z = x, prev;

    if (x == 1.)
        return INFINITY;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (prev != z);
    return z;
}

static double tau(double x)
{
    double y = 1.0, z, prev;

    if (x == 0. || x == 1.)
        return 0.;
    z = 1 - x;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (prev != z);
    return z / 3;
}

/* Register histogram; -1 when the sparse runs do not cover 16384 registers. */
static int histogram(const struct hll *h, int *hist)
{
    const uint8_t *p = h->p + HLL_HDR_SIZE, *end = h->p + h->len;
    long idx = 0;

    if (h->p[4] == ENC_DENSE) {
        for (long i = 0; i < HLL_REGISTERS; i++)
            hist[reg_get(p, i)]++;
        return 0;
    }
    while (p < end) {
        long run;

        if (op_is_zero(p)) {
            run = zero_len(p++);
            hist[0] += (int)run;
        } else if (op_is_xzero(p)) {
            run = xzero_len(p);
            hist[0] += (int)run;
            p += 2;
        } else {
            run = val_len(p);
            hist[val_value(p)] += (int)run;
            p++;
        }
        idx += run;
    }
    return idx == HLL_REGISTERS ? 0 : -1;
}

static uint64_t estimate(const int *hist)
{
    const double m = HLL_REGISTERS;
    const double alpha_inf = 0.721347520444481703680;    /* 0.5 / ln 2 */
    double z = m * tau((m - hist[Q_BITS + 1]) / m);

    for (int j = Q_BITS; j >= 1; --j) {
        z += hist[j];
        z *= 0.5;
    }
    z += m * sigma(hist[0] / m);
    return (uint64_t)(double)llroundl(alpha_inf * m * m / z);
}

/* ---- the estimators of Redis 2.8.9 to 4.0: SUM(2^-register) in the order
 * hllDenseSum/hllSparseSum add it (floating point addition is not
 * associative, and the cached value is a byte of the string) ---- */

static double pow2_neg(unsigned r)
{
    return 1.0 / (double)(1ULL << r);
}

/* The sum and the number of zero registers; -1 when the sparse runs do
 * not cover 16384 registers. */
static int raw_sum(const struct hll *h, double *sum, int *zeros)
{
    const uint8_t *p = h->p + HLL_HDR_SIZE, *end = h->p + h->len;
    double e = 0;
    long idx = 0;
    int ez = 0;

    if (h->p[4] == ENC_DENSE) {
        /* 16 registers a step, added in pairs, then to the total */
        for (long i = 0; i < HLL_REGISTERS; i += 16) {
            double pr[8], group;

            for (int j = 0; j < 16; j += 2) {
                unsigned r0 = reg_get(p, i + j), r1 = reg_get(p, i + j + 1);

                ez += (r0 == 0) + (r1 == 0);
                pr[j / 2] = pow2_neg(r0) + pow2_neg(r1);
            }
            group = pr[0] + pr[1];
            for (int j = 2; j < 8; j++)
                group += pr[j];
            e += group;
        }
        *sum = e;
        *zeros = ez;
        return 0;
    }
    while (p < end) {
        if (op_is_zero(p)) {
            idx += zero_len(p);
            ez += (int)zero_len(p);
            p++;
        } else if (op_is_xzero(p)) {
            idx += xzero_len(p);
            ez += (int)xzero_len(p);
            p += 2;
        } else {
            idx += val_len(p);
            e += pow2_neg((unsigned)val_value(p)) * (double)val_len(p);
            p++;
        }
    }
    *sum = e + ez;
    *zeros = ez;
    return idx == HLL_REGISTERS ? 0 : -1;
}

/* 2.8.9 to 3.2: the raw HyperLogLog estimate, linear counting below
 * 2.5 m, a polynomial bias correction below 72000, truncated. */
static uint64_t estimate_bias(double e, int ez)
{
    const double m = HLL_REGISTERS, alpha = 0.7213 / (1 + 1.079 / m);

    e = (1 / e) * alpha * m * m;
    if (e < m * 2.5 && ez != 0) {
        e = m * log(m / ez);
    } else if (e < 72000) {
        double bias = 5.9119 * 1.0e-18 * (e * e * e * e) - 1.4253 * 1.0e-12 * (e * e * e) +
                      1.2940 * 1.0e-7 * (e * e) - 5.2921 * 1.0e-3 * e + 83.3216;

        e -= e * (bias / 100);
    }
    return (uint64_t)e;
}

/* 4.0: LogLog-Beta (Qin, Kim, Tung, arXiv:1612.02284), rounded. */
static uint64_t estimate_beta(double e, int ez)
{
    const double m = HLL_REGISTERS, alpha = 0.7213 / (1 + 1.079 / m);
    double zl = log(ez + 1);
    double beta = -0.370393911 * ez + 0.070471823 * zl + 0.17393686 * pow(zl, 2) +
                  0.16339839 * pow(zl, 3) + -0.09237745 * pow(zl, 4) +
                  0.03738027 * pow(zl, 5) + -0.005384159 * pow(zl, 6) +
                  0.00042419 * pow(zl, 7);

    e = (double)llroundl(alpha * m * (m - ez) * (1 / (e + beta)));
    return (uint64_t)e;
}

int hll_update_cache(struct hll *h, enum hll_estimator est)
{
    int hist[64] = { 0 }, ez;
    uint64_t card;
    double sum;

    if ((h->p[15] & 0x80) == 0)
        return 0;
    if (est == HLL_EST_ERTL) {
        if (histogram(h, hist) != 0)
            return -1;
        card = estimate(hist);
    } else {
        if (raw_sum(h, &sum, &ez) != 0)
            return -1;
        card = est == HLL_EST_BETA ? estimate_beta(sum, ez) : estimate_bias(sum, ez);
    }
    for (int i = 0; i < 8; i++)
        h->p[8 + i] = (uint8_t)(card >> (8 * i));
    return 1;
}
