/*
 * cmd_script.c - scripting commands: EVAL, EVALSHA, FCALL, FUNCTION LOAD/
 * DELETE/FLUSH/RESTORE as they reach a replica.
 *
 * Empty for now: until handlers are added here, these commands take the
 * unknown-command path (counted in redsink_unknown_commands, or fatal in
 * strict mode). Add a handler and its table line, then set the count to
 * CMD_COUNT(cmd_script_table) and drop the placeholder.
 */
#include "apply_int.h"

/* A placeholder row, so the array is not empty (ISO C): count is 0, so
 * apply.c never reads it. */
const struct command cmd_script_table[] = {
    { NULL, NULL, 0, 0 },
};
const size_t cmd_script_count = 0;
