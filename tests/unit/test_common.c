/*
 * test_common.c - the shared vocabulary (common/common.c): the master's
 * version as link.c reads it from INFO's redis_version.
 *
 * Exit 0 (all passed) or 99 (a check failed).
 */
#include "common.h"
#include "harness.h"

static void test_version(void)
{
    CHECK_INT(rs_parse_version("2.8.24", 6), 20824, "version: 2.8.24");
    CHECK_INT(rs_parse_version("7.2.4\r\n", 5), 70204, "version: stops at the length");
    CHECK_INT(rs_parse_version("255.255.255", 11), 0, "version: out of range");
    CHECK_INT(rs_parse_version("8.0.6-rc1", 9), 80006, "version: a suffix is ignored");
    CHECK_INT(rs_parse_version("3.2", 3), 0, "version: two parts");
    CHECK_INT(rs_parse_version("", 0), 0, "version: empty");
    CHECK_INT(rs_parse_version("x.1.2", 5), 0, "version: not a number");
}

int main(void)
{
    test_version();
    return check_summary();
}
