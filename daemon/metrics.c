/*
 * metrics.c - GET /metrics for Prometheus, served by libmicrohttpd from
 * its own polling thread (see metrics.h). Only GET and HEAD of /metrics
 * are answered; anything else gets 404 or 405. The text comes from the
 * render callback on every request, so a scrape sees the status record
 * as it is at that moment.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics.h"

/* MHD_Result arrived with 0.9.71; Debian 12 has 0.9.75, older ones int. */
#if MHD_VERSION < 0x00097002
typedef int mhd_result;
#else
typedef enum MHD_Result mhd_result;
#endif

struct metrics {
    struct MHD_Daemon *d;
    metrics_render_fn render;
    void *ud;
};

static mhd_result answer_text(struct MHD_Connection *conn, unsigned code, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                                             MHD_RESPMEM_PERSISTENT);
    mhd_result ret;

    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static mhd_result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **req)
{
    struct metrics *m = cls;
    struct MHD_Response *r;
    size_t len = 0;
    char *text;
    mhd_result ret;

    (void)version;
    (void)upload;
    (void)req;
    if (*upload_size != 0) {       /* a body: take it, answer at its end */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") != 0)
        return answer_text(conn, MHD_HTTP_NOT_FOUND, "redsink: only /metrics is here\n");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "redsink: GET /metrics only\n");
    if ((text = m->render(m->ud, &len)) == NULL)
        return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "redsink: out of memory\n");
    r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8");
    ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

struct metrics *metrics_start(const char *bind_addr, int port, metrics_render_fn render,
                              void *ud, struct rs_error *err)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    struct metrics *m;
    char svc[16];
    int e;

    snprintf(svc, sizeof(svc), "%d", port);
    if ((e = getaddrinfo(bind_addr, svc, &hints, &ai)) != 0) {
        rs_fail(err, RS_E_CONFIG, "metrics: cannot listen on '%s:%d': %s", bind_addr, port,
                gai_strerror(e));
        return NULL;
    }
    if ((m = calloc(1, sizeof(*m))) == NULL) {
        freeaddrinfo(ai);
        rs_fail(err, RS_E_NOMEM, "out of memory");
        return NULL;
    }
    m->render = render;
    m->ud = ud;
    errno = 0;
    m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                            (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
                            (uint16_t)port, NULL, NULL, on_request, m,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                            MHD_OPTION_END);
    freeaddrinfo(ai);
    if (m->d == NULL) {
        rs_fail(err, RS_E_CONFIG, "metrics: cannot listen on '%s:%d': %s", bind_addr, port,
                errno ? strerror(errno) : "libmicrohttpd refused to start");
        free(m);
        return NULL;
    }
    log_msg(RS_LOG_INFO, "metrics at http://%s%s%s:%d/metrics", strchr(bind_addr, ':') ? "[" : "",
            bind_addr, strchr(bind_addr, ':') ? "]" : "", port);
    return m;
}

void metrics_stop(struct metrics *m)
{
    if (m == NULL)
        return;
    MHD_stop_daemon(m->d);
    free(m);
}
