/*
 * cli.h - the command line and the settings file, into the options of
 * each part (link.c, the applier, the sink, daemon.c): the daemon's one
 * place for what the user asked.
 */
#ifndef REDSINK_CLI_H
#define REDSINK_CLI_H

#include "config.h"
#include "daemon.h"
#include "filter.h"
#include "link.h"

struct options {
    struct cfg cfg;            /* the settings: file, then command line */
    struct link_opts link;     /* borrows strings from cfg */
    const char *mirror;        /* the sink's target: cfg.sink.target, made absolute */
    int check_only;            /* --check-config */
    struct key_filter *filter; /* from filter.*, NULL: everything */
    struct daemon_opts daemon; /* from daemon.* (strings borrowed from cfg) */
};

/* The settings file (-c, or the default one when it exists), then the
 * command line on top, then the checks of the whole. --help and --version
 * print and exit. 0, or -1 after printing why. */
int cli_parse_args(int argc, char **argv, struct options *o);

/* The settings into the options of each part; strings are borrowed from
 * o->cfg, which lives as long as the daemon. 0, or -1 after printing why
 * (a bad filter). */
int cli_settings_to_opts(struct options *o);

#endif
