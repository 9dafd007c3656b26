/*
 * spool.h - a file-backed FIFO between the thread that reads the master
 * and the thread that loads and applies.
 *
 * The writer appends whatever arrives at network speed; the reader takes
 * it at its own pace. The bytes live in an unlinked temporary file (the
 * kernel's page cache keeps the recent part in memory), so a slow load
 * never makes redsink stop reading the socket, and a crash leaves nothing
 * behind to clean up. When the reader catches up, the file is cut back to
 * zero so a long stream does not grow it forever.
 */
#ifndef RS_SPOOL_H
#define RS_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "common.h"

struct spool;

/* Create the temporary file in 'dir'. NULL with 'err' set on failure. */
struct spool *spool_new(const char *dir, struct rs_error *err);
void spool_free(struct spool *s);

/* Append. 0, or -1 with the spool's error set (disk full...). */
int spool_write(struct spool *s, const char *buf, size_t len);

/* The writer has finished (link closed or failed). The reader drains what
 * is left and then gets -1 from spool_read. */
void spool_close_writer(struct spool *s);

/* Copy up to 'cap' bytes. Waits up to 'timeout_ms' (0: do not wait) for
 * data. Returns the byte count, 0 on timeout, -1 when the writer closed
 * and everything was read (or on I/O error: see spool_error). */
ssize_t spool_read(struct spool *s, char *buf, size_t cap, int timeout_ms);

/* Bytes written but not read yet, and written in all. */
uint64_t spool_pending(struct spool *s);
uint64_t spool_total(struct spool *s);

const struct rs_error *spool_error(struct spool *s);

#endif
