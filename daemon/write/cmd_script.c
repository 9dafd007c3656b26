/*
 * cmd_script.c - scripting commands as they reach a replica: EVAL,
 * EVALSHA, FCALL, SCRIPT and FUNCTION.
 *
 * Masters from 5.0 on replicate a script's effects (its writes), never
 * the script, so EVAL/EVALSHA/FCALL in the stream mean script
 * replication: a 3.2-4.0 master by default, a 5.0-6.2 master with
 * lua-replicate-commands off, or any 3.0 master. redsink cannot run Lua,
 * so it stops there with an error that names the master setting to change,
 * before the command's bytes count (the checkpoint stays before it).
 *
 * FUNCTION LOAD/DELETE/FLUSH keep the function libraries in the sink;
 * FUNCTION RESTORE is not decoded (its payload holds whole libraries)
 * and is only logged. SCRIPT LOAD/FLUSH (propagated by masters up to
 * 6.2) have no keyspace effect: counted, ignored.
 */
#include <stdio.h>

#include "apply_int.h"
#include "log.h"

/* EVAL, EVALSHA, FCALL (+_RO): fatal, with what to change on the master. */
static int apply_script(struct applier *a, int argc, const struct rs_bytes *argv)
{
    char name[24];

    (void)argc;
    return ap_stop(a,
                   "master replicates scripts verbatim ('%s'); redsink cannot run them. "
                   "Redis 3.2-4.0: call redis.replicate_commands() in each script, or upgrade; "
                   "5.0-6.2: set lua-replicate-commands yes; 3.0 and older cannot replicate "
                   "script effects",
                   ap_show(&argv[0], name, sizeof(name)));
}

/* SCRIPT LOAD/FLUSH/...: the script cache is no data. */
static int apply_script_cmd(struct applier *a, int argc, const struct rs_bytes *argv)
{
    (void)a;
    (void)argc;
    (void)argv;
    return 0;
}

/* FUNCTION LOAD [REPLACE] code | DELETE name | FLUSH [ASYNC|SYNC] |
 * RESTORE payload [policy]. */
static int apply_function(struct applier *a, int argc, const struct rs_bytes *argv)
{
    const struct sink_ops *ops = a->sink->ops;

    if (ap_arg_is(&argv[1], "load")) {
        int j = 2;

        if (j < argc - 1 && ap_arg_is(&argv[j], "replace"))
            j++;
        if (j != argc - 1)
            return ap_reject(a, argv, "syntax error");
        return ops->function_store(a->sink, &argv[j]);
    }
    if (ap_arg_is(&argv[1], "delete")) {
        if (argc != 3)
            return ap_reject(a, argv, "wrong number of arguments");
        return ops->function_delete(a->sink, &argv[2]);
    }
    if (ap_arg_is(&argv[1], "flush")) {
        if (argc > 3 || (argc == 3 && !ap_arg_is(&argv[2], "async") &&
                         !ap_arg_is(&argv[2], "sync")))
            return ap_reject(a, argv, "syntax error");
        return ops->function_delete(a->sink, NULL);
    }
    if (ap_arg_is(&argv[1], "restore")) {
        log_msg(RS_LOG_DEBUG, "FUNCTION RESTORE from the master: payload not decoded, "
                "function libraries left as they were");
        return 0;
    }
    return 0;                              /* no other subcommand writes */
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

const struct command cmd_script_table[] = {
    { "eval",       apply_script,      -3,  0, { 0, 0, 0, KU_NONE } },
    { "evalsha",    apply_script,      -3,  0, { 0, 0, 0, KU_NONE } },
    { "eval_ro",    apply_script,      -3,  0, { 0, 0, 0, KU_NONE } },
    { "evalsha_ro", apply_script,      -3,  0, { 0, 0, 0, KU_NONE } },
    { "fcall",      apply_script,      -3,  0, { 0, 0, 0, KU_NONE } },
    { "fcall_ro",   apply_script,      -3,  0, { 0, 0, 0, KU_NONE } },
    { "script",     apply_script_cmd,  -2,  0, { 0, 0, 0, KU_NONE } },
    { "function",   apply_function,    -2,  CMD_WRITE, { 0, 0, 0, KU_NONE } },
};
const size_t cmd_script_count = CMD_COUNT(cmd_script_table);
