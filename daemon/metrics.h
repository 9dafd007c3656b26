/*
 * metrics.h - the Prometheus endpoint: GET /metrics over HTTP on
 * metrics.bind:metrics.port, answered with the text that a render
 * callback produces (status_prometheus). The HTTP side is libmicrohttpd,
 * used by metrics.c only.
 */
#ifndef RS_METRICS_H
#define RS_METRICS_H

#include <stddef.h>
#include "common.h"

struct metrics;

/* Returns the metrics text, malloc'd, its length in *len; NULL: 500. */
typedef char *(*metrics_render_fn)(void *ud, size_t *len);

/*
 * Listen on bind_addr:port (a numeric address or a host name) and serve
 * from a thread of the library's. NULL with err set (RS_E_CONFIG: cannot
 * listen there).
 */
struct metrics *metrics_start(const char *bind_addr, int port, metrics_render_fn render,
                              void *ud, struct rs_error *err);
/* Stop serving and free; NULL is fine. */
void metrics_stop(struct metrics *m);

#endif
