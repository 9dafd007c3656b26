/*
 * config.c - the settings: defaults, the libconfig file, the final checks.
 *
 * The only file that includes <libconfig.h>. The file is walked setting
 * by setting against one table (specs[]), so that an unknown name, a
 * wrong type or an out-of-range value is reported with the file, the line
 * and the full name of the setting.
 *
 * The file's layout (etc/redsink.conf is the commented example; every
 * setting is optional and has the default shown):
 *
 *   master: {
 *     host = "127.0.0.1"; port = 6379;
 *     user = ""; password = ""; password_file = "";   # AUTH
 *     connect_timeout = 5.0;                          # seconds, TCP connect + each handshake reply
 *     timeout = 60;                                   # seconds without data nor PING: drop the link
 *     tls: { enabled = false; ca_file = ""; ca_dir = ""; cert_file = ""; key_file = "";
 *            server_name = ""; verify = true; };
 *   };
 *   replica: {
 *     listening_port = 0;          # announced with REPLCONF listening-port; the status
 *     bind = "127.0.0.1";          #   endpoint (PING, INFO) listens there when > 0
 *     ack_interval = 1.0;          # seconds between REPLCONF ACKs
 *   };
 *   sqlite: { path = LOCALSTATEDIR "/lib/redsink/mirror.db"; synchronous = "normal";
 *             batch_commands = 10000; batch_ms = 5;
 *             catchup_batch_commands = 0; catchup_batch_ms = 0; };   # 0: automatic
 *   filter: { databases = [ ]; include = [ ]; exclude = [ ]; };   # empty: everything
 *   unknown_commands = "log";      # or "stop" (same as --strict)
 *   metrics: { port = 0; bind = "127.0.0.1"; };   # Prometheus GET /metrics when port > 0
 *   log: { level = "info"; file = ""; syslog = false; };
 *   daemon: { daemonize = false; pidfile = ""; user = ""; };
 *
 * The contract names the mirror's settings after the SQLite sink: the
 * sqlite { } section and --sqlite PATH. They map onto struct cfg_sink
 * here (sink "sqlite", target sqlite.path, option "synchronous"), and
 * sqlite.batch_* onto the applier's batches.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libconfig.h>

#include "config.h"
#include "log.h"

enum kind {
    K_GROUP,    /* a group of settings { ... } */
    K_STR,      /* char *, any string */
    K_NAME,     /* char *, a non-empty string */
    K_INT,      /* int, in [min, max] */
    K_FLOAT,    /* double, in [min, max]; an integer is fine too */
    K_BOOL,     /* int, true or false */
    K_CHOICE,   /* char *, one of choices[] */
    K_STRICT,   /* int, "log" (0) or "stop" (1) */
    K_INTS,     /* int *, count at count_off: integers in [min, max] */
    K_STRS      /* char **, count at count_off: non-empty strings */
};

struct spec {
    const char *path;
    enum kind kind;
    size_t off, count_off;
    double min, max;
    const char *const *choices;   /* K_CHOICE, NULL-terminated */
};

static const char *const sync_choices[] = { "off", "normal", "full", "extra", NULL };
static const char *const level_choices[] = { "error", "warning", "info", "debug", NULL };

#define F(m) offsetof(struct cfg, m)
#define NONE 0, 0, 0, NULL

static const struct spec specs[] = {
    { "master", K_GROUP, 0, NONE },
    { "master.host", K_NAME, F(host), NONE },
    { "master.port", K_INT, F(port), 0, 1, 65535, NULL },
    { "master.user", K_STR, F(user), NONE },
    { "master.password", K_STR, F(password), NONE },
    { "master.password_file", K_STR, F(password_file), NONE },
    { "master.connect_timeout", K_FLOAT, F(connect_timeout), 0, 0.1, 3600, NULL },
    { "master.timeout", K_INT, F(timeout), 0, 1, 3600, NULL },
    { "master.tls", K_GROUP, 0, NONE },
    { "master.tls.enabled", K_BOOL, F(tls.enabled), NONE },
    { "master.tls.ca_file", K_STR, F(tls.ca_file), NONE },
    { "master.tls.ca_dir", K_STR, F(tls.ca_dir), NONE },
    { "master.tls.cert_file", K_STR, F(tls.cert_file), NONE },
    { "master.tls.key_file", K_STR, F(tls.key_file), NONE },
    { "master.tls.server_name", K_STR, F(tls.server_name), NONE },
    { "master.tls.verify", K_BOOL, F(tls.verify), NONE },
    { "replica", K_GROUP, 0, NONE },
    { "replica.listening_port", K_INT, F(listening_port), 0, 0, 65535, NULL },
    { "replica.bind", K_NAME, F(bind), NONE },
    { "replica.ack_interval", K_FLOAT, F(ack_interval), 0, 0.1, 60, NULL },
    { "sqlite", K_GROUP, 0, NONE },
    { "sqlite.path", K_STR, F(sink.target), NONE },
    { "sqlite.synchronous", K_CHOICE, F(sink.options[0].value), 0, 0, 0, sync_choices },
    { "sqlite.batch_commands", K_INT, F(batch_commands), 0, 1, 1000000, NULL },
    { "sqlite.batch_ms", K_INT, F(batch_ms), 0, 1, 60000, NULL },
    { "sqlite.catchup_batch_commands", K_INT, F(catchup_commands), 0, 0, 10000000, NULL },
    { "sqlite.catchup_batch_ms", K_INT, F(catchup_ms), 0, 0, 600000, NULL },
    { "postgres", K_GROUP, 0, NONE },
    { "postgres.conninfo", K_STR, F(pg_conninfo), NONE },
    { "postgres.password_file", K_STR, F(pg_password_file), NONE },
    { "postgres.schema", K_STR, F(pg_schema), NONE },
    { "postgres.outbox_max_mb", K_INT, F(pg_outbox_mb), 0, 1, 1048576, NULL },
    { "postgres.ack", K_BOOL, F(pg_ack), NONE },
    { "filter", K_GROUP, 0, NONE },
    { "filter.databases", K_INTS, F(databases), F(n_databases), 0, 2147483647, NULL },
    { "filter.include", K_STRS, F(include), F(n_include), 0, 0, NULL },
    { "filter.exclude", K_STRS, F(exclude), F(n_exclude), 0, 0, NULL },
    { "unknown_commands", K_STRICT, F(strict), NONE },
    { "metrics", K_GROUP, 0, NONE },
    { "metrics.port", K_INT, F(metrics_port), 0, 0, 65535, NULL },
    { "metrics.bind", K_NAME, F(metrics_bind), NONE },
    { "log", K_GROUP, 0, NONE },
    { "log.level", K_CHOICE, F(log_level), 0, 0, 0, level_choices },
    { "log.file", K_STR, F(log_file), NONE },
    { "log.syslog", K_BOOL, F(log_syslog), NONE },
    { "daemon", K_GROUP, 0, NONE },
    { "daemon.daemonize", K_BOOL, F(daemonize), NONE },
    { "daemon.pidfile", K_STR, F(pidfile), NONE },
    { "daemon.user", K_STR, F(user_name), NONE },
};

#define AT(c, T, off) ((T *)(void *)((char *)(c) + (off)))

/* The mirror on the command line (config.h). */
const char cfg_sink_name[] = "sqlite";
const char cfg_sink_option[] = "sqlite";
const char cfg_sink_usage[] = "--sqlite PATH";
const char cfg_sink_help[] =
    "  --sqlite PATH            the mirror database file (default\n"
    "                           " CFG_DEFAULT_MIRROR ")\n";
const char cfg_sink_kind[] = "SQLite";

int cfg_sink_arg(int argc, char **argv, int *i, const char **target)
{
    size_t n = strlen(cfg_sink_option);
    const char *a = argv[*i];

    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, cfg_sink_option, n) != 0)
        return 0;
    if (a[2 + n] == '=') {
        *target = a + 3 + n;
        return 1;
    }
    if (a[2 + n] != '\0' || *i + 1 >= argc)
        return 0;
    *target = argv[++*i];
    return 1;
}

/* ------------------------------------------------------------------ */

static void set_str(char **dst, char *v)
{
    free(*dst);
    *dst = v;
}

void cfg_init(struct cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->host = strdup("127.0.0.1");
    c->port = 6379;
    c->user = strdup("");
    c->password = strdup("");
    c->password_file = strdup("");
    c->connect_timeout = 5.0;
    c->timeout = 60;
    c->tls.ca_file = strdup("");
    c->tls.ca_dir = strdup("");
    c->tls.cert_file = strdup("");
    c->tls.key_file = strdup("");
    c->tls.server_name = strdup("");
    c->tls.verify = 1;
    c->bind = strdup("127.0.0.1");
    c->ack_interval = 1.0;
    c->sink.name = cfg_sink_name;
    c->sink.target = strdup(CFG_DEFAULT_MIRROR);
    c->sink.options[0].name = "synchronous";
    c->sink.options[0].value = strdup("normal");
    c->batch_commands = 10000;
    c->batch_ms = 5;
    c->pg_conninfo = strdup("");
    c->pg_password_file = strdup("");
    c->pg_schema = strdup("redis");
    c->pg_outbox_mb = 1024;
    c->metrics_bind = strdup("127.0.0.1");
    c->log_level = strdup("info");
    c->log_file = strdup("");
    c->pidfile = strdup("");
    c->user_name = strdup("");
}

static void free_strs(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cfg_release(struct cfg *c)
{
    if (c->password)
        memset(c->password, 0, strlen(c->password));
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        const struct spec *sp = &specs[i];

        if (sp->kind == K_STR || sp->kind == K_NAME || sp->kind == K_CHOICE)
            free(*AT(c, char *, sp->off));
    }
    free(c->databases);
    free_strs(c->include, c->n_include);
    free_strs(c->exclude, c->n_exclude);
    free(c->config_file);
    free(c->password_file_origin);
    memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ */

struct load {
    struct cfg *cfg;
    const char *file;
    struct rs_error *err;
};

static int line_of(const config_setting_t *s)
{
    for (; s != NULL; s = config_setting_parent(s)) {
        int line = (int)config_setting_source_line(s);

        if (line > 0)
            return line;
    }
    return 0;
}

static const char *file_of(const struct load *ld, const config_setting_t *s)
{
    const char *f = config_setting_source_file(s);

    return f ? f : ld->file;
}

static int bad(const struct load *ld, const config_setting_t *s, const char *path,
               const char *what)
{
    return rs_fail(ld->err, RS_E_CONFIG, "'%s' line %d: setting '%s': %s",
                   file_of(ld, s), line_of(s), path, what);
}

static const struct spec *find_spec(const char *path)
{
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        if (strcmp(specs[i].path, path) == 0)
            return &specs[i];
    return NULL;
}

static int is_int(const config_setting_t *s)
{
    int t = config_setting_type(s);

    return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
}

static int is_list(const config_setting_t *s)
{
    int t = config_setting_type(s);

    return t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST;
}

static int out_of_range(const struct load *ld, const config_setting_t *s,
                        const struct spec *sp)
{
    char what[96];

    if (sp->kind == K_FLOAT)
        snprintf(what, sizeof(what), "expected %g..%g seconds", sp->min, sp->max);
    else
        snprintf(what, sizeof(what), "expected %.0f..%.0f", sp->min, sp->max);
    return bad(ld, s, sp->path, what);
}

static int take_choice(const struct load *ld, const config_setting_t *s,
                       const struct spec *sp)
{
    const char *v = config_setting_get_string(s);
    char what[128];
    size_t n = 0;

    for (int i = 0; v && sp->choices[i]; i++)
        if (strcmp(v, sp->choices[i]) == 0) {
            char *copy = strdup(v);

            if (copy == NULL)
                return rs_fail(ld->err, RS_E_NOMEM, "out of memory");
            set_str(AT(ld->cfg, char *, sp->off), copy);
            return 0;
        }
    n = (size_t)snprintf(what, sizeof(what), "expected");
    for (int i = 0; sp->choices[i] && n < sizeof(what); i++)
        n += (size_t)snprintf(what + n, sizeof(what) - n, "%s\"%s\"",
                              i == 0 ? " " : sp->choices[i + 1] ? ", " : " or ",
                              sp->choices[i]);
    return bad(ld, s, sp->path, what);
}

static int take_ints(const struct load *ld, const config_setting_t *s, const struct spec *sp)
{
    int n = config_setting_length(s), *v;

    if (!is_list(s))
        return bad(ld, s, sp->path, "expected a list of integers [ ... ]");
    if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
        return rs_fail(ld->err, RS_E_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        long long x;

        if (!is_int(e)) {
            free(v);
            return bad(ld, e, sp->path, "expected a list of integers [ ... ]");
        }
        x = config_setting_get_int64(e);
        if (x < sp->min || x > sp->max) {
            free(v);
            return bad(ld, e, sp->path, "expected database numbers from 0");
        }
        v[i] = (int)x;
    }
    free(*AT(ld->cfg, int *, sp->off));
    *AT(ld->cfg, int *, sp->off) = v;
    *AT(ld->cfg, int, sp->count_off) = n;
    return 0;
}

static int take_strs(const struct load *ld, const config_setting_t *s, const struct spec *sp)
{
    int n = config_setting_length(s);
    char **v;

    if (!is_list(s))
        return bad(ld, s, sp->path, "expected a list of strings [ ... ]");
    if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
        return rs_fail(ld->err, RS_E_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *x = config_setting_type(e) == CONFIG_TYPE_STRING ?
                        config_setting_get_string(e) : NULL;

        if (x == NULL || *x == '\0') {
            free_strs(v, i);
            return bad(ld, e, sp->path, "expected a list of non-empty strings [ ... ]");
        }
        if ((v[i] = strdup(x)) == NULL) {
            free_strs(v, i);
            return rs_fail(ld->err, RS_E_NOMEM, "out of memory");
        }
    }
    free_strs(*AT(ld->cfg, char **, sp->off), *AT(ld->cfg, int, sp->count_off));
    *AT(ld->cfg, char **, sp->off) = v;
    *AT(ld->cfg, int, sp->count_off) = n;
    return 0;
}

static int take_value(const struct load *ld, const config_setting_t *s, const struct spec *sp)
{
    int t = config_setting_type(s);
    const char *str;
    long long i;
    double d;
    char *copy;

    switch (sp->kind) {
    case K_STR:
    case K_NAME:
        if (t != CONFIG_TYPE_STRING)
            return bad(ld, s, sp->path, "expected a string \"...\"");
        str = config_setting_get_string(s);
        if (sp->kind == K_NAME && *str == '\0')
            return bad(ld, s, sp->path, "expected a non-empty string");
        if ((copy = strdup(str)) == NULL)
            return rs_fail(ld->err, RS_E_NOMEM, "out of memory");
        set_str(AT(ld->cfg, char *, sp->off), copy);
        return 0;
    case K_INT:
        if (!is_int(s))
            return bad(ld, s, sp->path, "expected an integer");
        i = config_setting_get_int64(s);
        if (i < sp->min || i > sp->max)
            return out_of_range(ld, s, sp);
        *AT(ld->cfg, int, sp->off) = (int)i;
        return 0;
    case K_FLOAT:
        if (t == CONFIG_TYPE_FLOAT)
            d = config_setting_get_float(s);
        else if (is_int(s))
            d = (double)config_setting_get_int64(s);
        else
            return bad(ld, s, sp->path, "expected a number");
        if (!(d >= sp->min && d <= sp->max))
            return out_of_range(ld, s, sp);
        *AT(ld->cfg, double, sp->off) = d;
        return 0;
    case K_BOOL:
        if (t != CONFIG_TYPE_BOOL)
            return bad(ld, s, sp->path, "expected true or false");
        *AT(ld->cfg, int, sp->off) = config_setting_get_bool(s);
        return 0;
    case K_CHOICE:
        if (t != CONFIG_TYPE_STRING)
            return bad(ld, s, sp->path, "expected a string \"...\"");
        return take_choice(ld, s, sp);
    case K_STRICT:
        str = t == CONFIG_TYPE_STRING ? config_setting_get_string(s) : "";
        if (strcmp(str, "log") != 0 && strcmp(str, "stop") != 0)
            return bad(ld, s, sp->path, "expected \"log\" or \"stop\"");
        *AT(ld->cfg, int, sp->off) = strcmp(str, "stop") == 0;
        return 0;
    case K_INTS:
        return take_ints(ld, s, sp);
    case K_STRS:
        return take_strs(ld, s, sp);
    case K_GROUP:
        break;
    }
    return bad(ld, s, sp->path, "expected a group { ... }");
}

/* Take every setting of group 'g', whose full name is 'prefix' ("" for
 * the top). */
static int take_group(const struct load *ld, const config_setting_t *g, const char *prefix)
{
    int n = config_setting_length(g);

    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        const struct spec *sp;
        char path[128];

        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name ? name : "?");
        if ((sp = find_spec(path)) == NULL)
            return rs_fail(ld->err, RS_E_CONFIG, "'%s' line %d: unknown setting '%s'",
                           file_of(ld, s), line_of(s), path);
        if (sp->kind != K_GROUP) {
            if (take_value(ld, s, sp) != 0)
                return -1;
            continue;
        }
        if (config_setting_type(s) != CONFIG_TYPE_GROUP)
            return bad(ld, s, path, "expected a group { ... }");
        if (take_group(ld, s, path) != 0)
            return -1;
    }
    return 0;
}

/* Where master.password_file was set, for cfg_finish's errors. */
static int note_password_file(const struct load *ld, const config_t *lc)
{
    const config_setting_t *s = config_lookup(lc, "master.password_file");
    char where[512];

    if (s == NULL)
        return 0;
    snprintf(where, sizeof(where), "'%s' line %d: setting 'master.password_file'",
             file_of(ld, s), line_of(s));
    set_str(&ld->cfg->password_file_origin, strdup(where));
    return ld->cfg->password_file_origin ? 0 : rs_fail(ld->err, RS_E_NOMEM, "out of memory");
}

int cfg_load_file(struct cfg *c, const char *path, struct rs_error *err)
{
    struct load ld = { c, path, err };
    const char *pw = NULL;
    struct stat st;
    config_t lc;
    FILE *f;
    int rc = -1;

    config_init(&lc);
    if ((f = fopen(path, "re")) == NULL) {
        rs_fail(err, RS_E_CONFIG, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fileno(f), &st) != 0) {
        rs_fail(err, RS_E_CONFIG, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    if (config_read(&lc, f) != CONFIG_TRUE) {
        rs_fail(err, RS_E_CONFIG, "cannot read '%s' line %d: %s",
                config_error_file(&lc) ? config_error_file(&lc) : path,
                config_error_line(&lc), config_error_text(&lc));
        goto out;
    }
    /* Anyone could point redsink at a master of theirs and collect it. */
    if ((st.st_mode & S_IWOTH) && config_lookup_string(&lc, "master.password", &pw) &&
        *pw) {
        rs_fail(err, RS_E_CONFIG, "'%s' is world-writable and holds a password", path);
        goto out;
    }
    if (take_group(&ld, config_root_setting(&lc), "") != 0)
        goto out;
    if (note_password_file(&ld, &lc) != 0)
        goto out;
    set_str(&c->config_file, strdup(path));
    rc = 0;
out:
    if (f)
        fclose(f);
    config_destroy(&lc);
    return rc;
}

/* ------------------------------------------------------------------ */

/* The password from 'path': its bytes, less one trailing newline. */
static int read_password_file(struct cfg *c, struct rs_error *err)
{
    const char *where = c->password_file_origin ? c->password_file_origin
                                                : "--master-password-file";
    char buf[4097];
    size_t n;
    FILE *f = fopen(c->password_file, "re");
    int e;

    if (f == NULL) {
        e = errno;
        return rs_fail(err, RS_E_CONFIG, "%s: cannot read '%s': %s", where,
                       c->password_file, strerror(e));
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    e = ferror(f) ? errno : 0;
    fclose(f);
    if (e)
        return rs_fail(err, RS_E_CONFIG, "%s: cannot read '%s': %s", where,
                       c->password_file, strerror(e));
    if (n == sizeof(buf) - 1)
        return rs_fail(err, RS_E_CONFIG, "%s: '%s' is longer than %zu bytes", where,
                       c->password_file, sizeof(buf) - 2);
    buf[n] = '\0';
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (n == 0 || strlen(buf) != n)
        return rs_fail(err, RS_E_CONFIG, "%s: '%s' holds no password (empty, or a NUL byte)",
                       where, c->password_file);
    set_str(&c->password, strdup(buf));
    memset(buf, 0, sizeof(buf));
    return c->password ? 0 : rs_fail(err, RS_E_NOMEM, "out of memory");
}

static int range(struct rs_error *err, const char *name, double v, double lo, double hi)
{
    if (v >= lo && v <= hi)
        return 0;
    return rs_fail(err, RS_E_CONFIG, "setting '%s': expected %g..%g", name, lo, hi);
}

int cfg_finish(struct cfg *c, struct rs_error *err)
{
    /* cfg_init or a set_str ran out of memory */
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        const struct spec *sp = &specs[i];

        if ((sp->kind == K_STR || sp->kind == K_NAME || sp->kind == K_CHOICE) &&
            *AT(c, char *, sp->off) == NULL)
            return rs_fail(err, RS_E_NOMEM, "out of memory");
    }
    if (range(err, "master.port", c->port, 1, 65535) != 0 ||
        range(err, "master.timeout", c->timeout, 1, 3600) != 0 ||
        range(err, "master.connect_timeout", c->connect_timeout, 0.1, 3600) != 0 ||
        range(err, "replica.listening_port", c->listening_port, 0, 65535) != 0 ||
        range(err, "replica.ack_interval", c->ack_interval, 0.1, 60) != 0 ||
        range(err, "metrics.port", c->metrics_port, 0, 65535) != 0 ||
        range(err, "sqlite.batch_commands", c->batch_commands, 1, 1000000) != 0 ||
        range(err, "sqlite.batch_ms", c->batch_ms, 1, 60000) != 0 ||
        range(err, "sqlite.catchup_batch_commands", c->catchup_commands, 0, 10000000) != 0 ||
        range(err, "sqlite.catchup_batch_ms", c->catchup_ms, 0, 600000) != 0 ||
        range(err, "postgres.outbox_max_mb", c->pg_outbox_mb, 1, 1048576) != 0)
        return -1;
    if (c->pg_ack && *c->pg_conninfo == '\0')
        return rs_fail(err, RS_E_CONFIG, "setting 'postgres.ack' needs postgres.conninfo "
                       "(or --postgres CONNINFO)");
    if (*c->host == '\0')
        return rs_fail(err, RS_E_CONFIG, "setting 'master.host': expected a host name");
    if (log_level_parse(c->log_level) < 0)
        return rs_fail(err, RS_E_CONFIG, "setting 'log.level': expected \"error\", "
                       "\"warning\", \"info\" or \"debug\"");
    if (*c->password_file && read_password_file(c, err) != 0)
        return -1;
    if (*c->user && *c->password == '\0')
        return rs_fail(err, RS_E_CONFIG, "setting 'master.user' needs a password "
                       "(master.password, master.password_file or --master-password)");
    if (*c->tls.cert_file && *c->tls.key_file == '\0')
        return rs_fail(err, RS_E_CONFIG, "setting 'master.tls.cert_file' needs "
                       "'master.tls.key_file'");
    if (*c->sink.target == '\0')
        return rs_fail(err, RS_E_CONFIG, "no mirror database: set sqlite.path in the "
                       "configuration file or give --sqlite PATH");
    return 0;
}
