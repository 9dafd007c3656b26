/*
 * fuzz_dump.c - libFuzzer target for the RDB parser in DUMP mode: the
 * payloads RESTORE carries (type byte, value, 2-byte RDB version, CRC64).
 *
 * The same target as fuzz_rdb.c (same handlers and input layout: byte 0
 * = number of chunk sizes, the sizes, the payload), but both runs are in
 * DUMP mode and its seeds (fuzz/corpus/dump) are the DUMP output of a
 * real redis-server for every type and encoding, so the fuzzer starts
 * inside valid payloads instead of having to find one.
 */
#define FUZZ_DUMP_ONLY 1
#include "fuzz_rdb.c"
