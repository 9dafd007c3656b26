/*
 * status_cli.c - `redsink status`: the mirror's status row, read through
 * the sink layer (sink_read_status), for humans.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "status.h"

struct unknown_list {
    char text[512];
    size_t len;
};

static void collect_unknown(void *ud, const char *name, int64_t count)
{
    struct unknown_list *u = ud;
    int n = snprintf(u->text + u->len, sizeof(u->text) - u->len, "%s%s (%lld)",
                     u->len ? ", " : "", name ? name : "?", (long long)count);

    if (n > 0 && (size_t)n < sizeof(u->text) - u->len)
        u->len += (size_t)n;
}

/* "12 s ago" for a unix-ms time, "never" for none. */
static const char *age(char *out, size_t cap, int64_t at_ms)
{
    int64_t s;

    if (at_ms <= 0)
        return "never";
    s = (rs_now_ms() - at_ms) / 1000;
    if (s < 120)
        snprintf(out, cap, "%lld s ago", (long long)(s < 0 ? 0 : s));
    else if (s < 7200)
        snprintf(out, cap, "%lld min ago", (long long)(s / 60));
    else
        snprintf(out, cap, "%lld h ago", (long long)(s / 3600));
    return out;
}

static void print_row(const char *path, const struct sink_status *r,
                      const struct unknown_list *u)
{
    char a1[32], a2[32];

    printf("mirror:           %s\n", path);
    printf("state:            %s%s%s\n", r->state[0] ? r->state : "?",
           r->detail[0] ? " - " : "", r->detail);
    if (r->master_host[0])
        printf("master:           %s:%lld\n", r->master_host, (long long)r->master_port);
    else
        printf("master:           unknown\n");
    printf("master_replid:    %s\n", r->master_replid[0] ? r->master_replid : "(none)");
    printf("offset:           %lld\n", (long long)r->offset);
    if (r->read_offset >= 0)
        printf("read_offset:      %lld (at the last progress update)\n",
               (long long)(r->read_offset > r->offset ? r->read_offset : r->offset));
    printf("db:               %lld\n", (long long)r->db);
    printf("last update:      %s\n", age(a1, sizeof(a1), r->updated_at));
    printf("last ACK:         %s\n", age(a2, sizeof(a2), r->last_ack_at));
    if (r->lag_bytes >= 0)
        printf("lag:              %lld bytes, %lld ms\n", (long long)r->lag_bytes,
               (long long)(r->lag_ms < 0 ? 0 : r->lag_ms));
    printf("keys_loaded:      %lld\n", (long long)r->keys_loaded);
    if (strcmp(r->state, "syncing") == 0 && r->bytes_received >= 0) {
        printf("snapshot:         %lld", (long long)r->bytes_received);
        if (r->bytes_total > 0)
            printf(" of %lld", (long long)r->bytes_total);
        printf(" bytes received, %.0f keys/s\n", r->keys_per_sec < 0 ? 0 : r->keys_per_sec);
    }
    printf("commands_applied: %lld\n", (long long)r->commands_applied);
    printf("unknown_commands: %lld%s%s\n", (long long)r->unknown_commands,
           u->len ? ": " : "", u->text);
}

int status_main(int argc, char **argv)
{
    const char *path = NULL;
    struct sink_status row;
    struct unknown_list u = { "", 0 };
    struct rs_error err = { 0 };

    for (int i = 1; i < argc; i++) {
        if (!cfg_sink_arg(argc, argv, &i, &path)) {
            fprintf(stderr, "redsink: status: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (path == NULL) {
        fprintf(stderr, "redsink: usage: redsink status %s\n", cfg_sink_usage);
        return 2;
    }
    if (sink_read_status(cfg_sink_name, path, &row, collect_unknown, &u, &err) != 0) {
        fprintf(stderr, "redsink: %s\n", err.msg);
        return 1;
    }
    print_row(path, &row, &u);
    return 0;
}

