/*
 * cmd_sort.h - SORT ... STORE for the keys family (cmd_keys.c lists it in
 * its table; the handler is long enough for a file of its own).
 */
#ifndef RS_CMD_SORT_H
#define RS_CMD_SORT_H

#include "apply_int.h"

/* The SORT handler (apply_fn contract in apply_int.h): stores the sorted
 * list in the STORE key, or deletes it when the result is empty; without
 * STORE nothing changes. 0, or -1 when the sink failed. */
int cmd_sort_apply(struct applier *a, int argc, const struct rs_bytes *argv);

#endif
