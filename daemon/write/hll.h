/*
 * hll.h - Redis' HyperLogLog string format, byte for byte: what PFADD,
 * PFMERGE, PFCOUNT and PFDEBUG TODENSE do to the value of a key.
 *
 * An HLL is an ordinary string: a 16-byte header ("HYLL", encoding byte
 * 0 dense / 1 sparse, 3 zero bytes, cached cardinality as 8 bytes little
 * endian whose top bit means "stale"), then 16384 six-bit registers,
 * either packed (dense, 12288 bytes) or run-length coded (sparse: ZERO
 * 00xxxxxx, XZERO 01xxxxxx xxxxxxxx, VAL 1vvvvvxx). A replica must make
 * the same choices as the master (where runs split and merge, when the
 * sparse form is promoted), so every step here follows Redis 5.0+
 * (hyperloglog.c); the cached cardinality follows the master's version
 * (Ertl's estimator since 5.0, LogLog-Beta in 4.0, bias correction before).
 *
 * Nothing here knows about keys or the sink: cmd_string.c reads the
 * value, calls these, and stores the bytes back.
 */
#ifndef RS_HLL_H
#define RS_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_REGISTERS 16384
#define HLL_HDR_SIZE 16
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + HLL_REGISTERS * 6 / 8)   /* 12304 */

/* Redis' hll-sparse-max-bytes default. It is the master's setting that
 * counts; callers pass it so it can become configurable. */
#define HLL_SPARSE_MAX_BYTES_DEFAULT 3000

/*
 * An HLL value being changed. The bytes are owned by the struct (hll_init
 * copies the input); 'len' is the value's length, the buffer always has a
 * few spare zero bytes past it (the algorithms read one byte ahead).
 */
struct hll {
    unsigned char *p;
    size_t len, cap;
};

/* 1 when the bytes pass Redis' isHLLObjectOrReply (magic, encoding,
 * dense length); the sparse runs are only checked when walked. */
int hll_is_hll(const void *p, size_t len);

/* Start from a copy of 'p' ('len' bytes), or from a new empty sparse HLL
 * when p is NULL. 0, or -1 when out of memory. */
int hll_init(struct hll *h, const void *p, size_t len);
void hll_release(struct hll *h);

/* PFADD of one element: 1 when a register grew (the cache is then
 * stale), 0 when nothing changed, -1 when the sparse data is corrupt, -2
 * when out of memory. 'sparse_max' is hll-sparse-max-bytes. */
int hll_add(struct hll *h, const void *ele, size_t len, size_t sparse_max);

/* Mark the cached cardinality stale (PFADD, PFMERGE). */
void hll_invalidate(struct hll *h);

/* The registers of the valid HLL 'p' into max[] where larger (PFMERGE's
 * first pass). *dense = 1 when 'p' is dense. 0, or -1 when corrupt. */
int hll_merge_max(uint8_t *max, const void *p, size_t len, int *dense);

/* PFMERGE's second pass into the destination 'h': promote it to dense
 * first when 'to_dense', then raise every register to max[]. 0, -1
 * corrupt, -2 out of memory. */
int hll_store_max(struct hll *h, const uint8_t *max, int to_dense, size_t sparse_max);

/* Sparse to dense (PFDEBUG TODENSE; the header, cache included, is
 * kept). 1 converted, 0 already dense, -1 corrupt, -2 out of memory. */
int hll_to_dense(struct hll *h);

/* The estimator whose result PFCOUNT caches, by the master's version
 * (hllCount in hyperloglog.c): Ertl's since 5.0, LogLog-Beta in 4.0, the
 * raw estimate with linear counting and a bias polynomial from 2.8.9 to
 * 3.2. The cached bytes differ between them. */
enum hll_estimator { HLL_EST_ERTL, HLL_EST_BETA, HLL_EST_BIAS };

/* PFCOUNT on one key: when the cache is stale, compute the cardinality
 * and write it into the header. 1 written, 0 the cache was valid, -1
 * corrupt sparse data. */
int hll_update_cache(struct hll *h, enum hll_estimator est);

#endif
