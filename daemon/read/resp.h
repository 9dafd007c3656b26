/*
 * resp.h - the replication command-stream reader: bytes in, commands out.
 *
 * Reads the RESP grammar of commands, with what a replica needs: the
 * exact number of wire bytes each command used (the replication offset
 * counts them), arguments as binary rs_bytes (each followed by a NUL
 * that is not part of it, as hiredis' replies had), the inline form
 * Redis 2.4/2.6 masters use for SELECT ("select 0\r\n", split on spaces),
 * and refusal of anything a master never sends (non-array replies).
 * The status endpoint reads its clients' requests with it too
 * (resp_reader_for_clients).
 */
#ifndef RS_RESP_H
#define RS_RESP_H

#include <stddef.h>
#include "common.h"

struct resp_reader;

/* One command; argv and its bytes are owned by the reader and valid
 * until the next resp_reader_next/feed/free. */
struct resp_command {
    int argc;
    const struct rs_bytes *argv;
    size_t wire_len;     /* bytes this command used on the wire */
};

/* max_bulk caps one argument (0: 512 MiB), max_args caps argc (0: 1M).
 * NULL only when out of memory. */
struct resp_reader *resp_reader_new(size_t max_bulk, long long max_args);
void resp_reader_free(struct resp_reader *r);

/* Read requests from clients rather than a master's stream: any line
 * that does not start with '*' is an inline command, whatever its first
 * byte (Redis' server answers "+PING" with "unknown command"). */
void resp_reader_for_clients(struct resp_reader *r);

/* Copy 'len' bytes into the reader. 0, or -1 on error (sticky). */
int resp_reader_feed(struct resp_reader *r, const char *buf, size_t len);

/*
 * Next complete command. RS_OK: *cmd filled. RS_AGAIN: feed more.
 * RS_ERROR: malformed stream, see resp_reader_error(); sticky.
 * A bare "\n" or "\r\n" between commands is skipped and its bytes are
 * reported in *skipped (they do not count as a command).
 */
enum rs_status resp_reader_next(struct resp_reader *r, struct resp_command *cmd,
                                size_t *skipped);

/* Bytes fed but not yet returned as commands. */
size_t resp_reader_pending(const struct resp_reader *r);

/* Bytes the argument being read still needs (its "\r\n" included) and
 * that have not been fed yet; 0 outside an argument's bytes. */
size_t resp_reader_arg_left(const struct resp_reader *r);

const struct rs_error *resp_reader_error(const struct resp_reader *r);

#endif
