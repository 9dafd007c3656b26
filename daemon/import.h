/*
 * import.h - `redsink import FILE.rdb MIRROR`: an RDB file (or a Valkey
 * 9.2 LZ4-compressed one) into a new mirror, through the one loader
 * (loader.h) the full sync uses too.
 */
#ifndef REDSINK_IMPORT_H
#define REDSINK_IMPORT_H

/* argv[0] is "import". The exit status: 0, 1 (failed, the mirror as it
 * was), 2 (usage). */
int import_main(int argc, char **argv);

#endif
