/*
 * test_common.c - the shared vocabulary (common/common.c): the master's
 * version as link.c reads it from INFO's redis_version, and the SHA-256 of
 * common/digest.c (the placeholders of big fields and members) against the
 * FIPS 180-4 example vectors, and integers written in decimal (rs_ll2str)
 * as rs_parse_ll reads them back.
 *
 * Exit 0 (all passed) or 99 (a check failed).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "digest.h"
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

/* rs_ll2str at 0, +-1, the 64-bit ends and every power of ten +-1: the
 * text Redis writes, which rs_parse_ll reads back to the same value. */
static void test_ll2str(void)
{
    static const struct { long long v; const char *text; } fixed[] = {
        { 0, "0" }, { -1, "-1" }, { 1, "1" }, { 10, "10" }, { -10, "-10" },
        { INT64_MAX, "9223372036854775807" }, { INT64_MIN, "-9223372036854775808" },
    };
    char buf[24];
    long long back;
    int bad = 0, n = 0;

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        size_t len = rs_ll2str(buf, fixed[i].v);

        CHECK(len == strlen(fixed[i].text) && memcmp(buf, fixed[i].text, len) == 0,
              "ll2str: %s gives '%.*s'", fixed[i].text, (int)len, buf);
    }
    for (long long p = 1; p > 0; p = p <= INT64_MAX / 10 ? p * 10 : 0)   /* 1 .. 10^18 */
        for (int sign = -1; sign <= 1; sign += 2)
            for (long long d = -1; d <= 1; d++) {
                long long v = sign * p + d;
                size_t len = rs_ll2str(buf, v);

                n++;
                bad += rs_parse_ll(buf, len, &back) != 0 || back != v;
            }
    CHECK(bad == 0 && n == 19 * 6, "ll2str: %d of %d powers of ten +-1 not read back", bad, n);
}

/* rs_parse_ll at the lengths where it starts checking for an overflow
 * (past 18 digits) and at the 64-bit ends. */
static void test_parse_ll_edges(void)
{
    static const struct { const char *text; int ok; long long v; } c[] = {
        { "999999999999999999", 1, 999999999999999999LL },            /* 18 digits */
        { "-999999999999999999", 1, -999999999999999999LL },
        { "1000000000000000000", 1, 1000000000000000000LL },          /* 19 */
        { "9223372036854775807", 1, INT64_MAX }, { "-9223372036854775808", 1, INT64_MIN },
        { "9223372036854775808", 0, 0 }, { "-9223372036854775809", 0, 0 },
        { "9999999999999999999", 0, 0 }, { "-9999999999999999999", 0, 0 },
        { "18446744073709551615", 0, 0 }, { "18446744073709551616", 0, 0 },  /* 20 */
        { "99999999999999999999", 0, 0 }, { "100000000000000000000", 0, 0 }, /* 21 */
        { "12345678901234567x", 0, 0 }, { "00", 0, 0 }, { "-0", 0, 0 }, { "0", 1, 0 },
    };

    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        long long v = 12345;
        int r = rs_parse_ll(c[i].text, strlen(c[i].text), &v);

        CHECK(c[i].ok ? r == 0 && v == c[i].v : r != 0, "parse_ll '%s': %s (%lld)", c[i].text,
              r == 0 ? "taken" : "refused", v);
    }
}

static int sha_hex(const char *in, size_t n, const char *want)
{
    unsigned char d[RS_SHA256_LEN];
    char hex[2 * RS_SHA256_LEN + 1];

    if (rs_sha256(in, n, d) != 0)
        return 0;
    for (int i = 0; i < RS_SHA256_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return strcmp(hex, want) == 0;
}

static void test_sha256(void)
{
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    CHECK(sha_hex("abc", 3,
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
          "sha256: one block ('abc')");
    CHECK(sha_hex(two, strlen(two),
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
          "sha256: two blocks (56 bytes)");
    CHECK(sha_hex("", 0,
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
          "sha256: empty");
}

int main(void)
{
    test_version();
    test_ll2str();
    test_parse_ll_edges();
    test_sha256();
    return check_summary();
}
