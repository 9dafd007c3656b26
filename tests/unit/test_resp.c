/*
 * test_resp.c - the RESP command-stream reader (daemon/read/resp.c): wire
 * lengths, inline commands of old masters, bytes fed in pieces of every
 * size, the forms it refuses, and what the argument being read still
 * needs (link.c leaves it out of the backlog).
 *
 * Exit 0 (all passed) or 99 (a check failed). Start reading at main().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "resp.h"

/* Read every command of 'in' fed in 'chunk'-byte pieces; write a
 * transcript "argc:arg,arg/wire;" and the skipped byte count. */
static enum rs_status transcript(const char *in, size_t len, size_t chunk, size_t max_bulk,
                                 long long max_args, struct tbuf *out, size_t *skipped_total,
                                 char *err, size_t errsize)
{
    struct resp_reader *r = resp_reader_new(max_bulk, max_args);
    struct resp_command c;
    enum rs_status st = RS_AGAIN;
    size_t off = 0, skipped;

    *skipped_total = 0;
    err[0] = '\0';
    while (off < len) {
        size_t n = chunk && len - off > chunk ? chunk : len - off;

        if (resp_reader_feed(r, in + off, n) != 0) {
            st = RS_ERROR;
            break;
        }
        off += n;
        while ((st = resp_reader_next(r, &c, &skipped)) == RS_OK) {
            *skipped_total += skipped;
            tbuf_printf(out, "%d:", c.argc);
            for (int i = 0; i < c.argc; i++) {
                tbuf_add(out, c.argv[i].ptr, c.argv[i].len);
                if (c.argv[i].ptr[c.argv[i].len] != '\0')
                    tbuf_printf(out, "<no NUL after>");
                tbuf_add(out, i + 1 < c.argc ? "," : "", i + 1 < c.argc);
            }
            tbuf_printf(out, "/%zu;", c.wire_len);
        }
        *skipped_total += skipped;
        if (st == RS_ERROR)
            break;
    }
    if (st == RS_ERROR)
        snprintf(err, errsize, "%s", resp_reader_error(r)->msg);
    else if (resp_reader_pending(r) != 0)
        snprintf(err, errsize, "pending %zu", resp_reader_pending(r));
    resp_reader_free(r);
    return st;
}

static void test_resp(void)
{
    struct tbuf in = { 0 }, whole = { 0 }, out = { 0 };
    size_t skipped, skipped1;
    char err[256];

    CMD(&in, "ping");
    tbuf_add(&in, "\n", 1);
    CMD(&in, "SELECT", "0");
    tbuf_add(&in, "\r\n", 2);
    CMD(&in, "REPLCONF", "GETACK", "*");
    CMD(&in, "MULTI");
    CMD(&in, "EXEC");
    transcript(in.p, in.len, 0, 0, 0, &whole, &skipped, err, sizeof(err));
    CHECK_STR(whole.p, "1:ping/14;2:SELECT,0/23;3:REPLCONF,GETACK,*/37;1:MULTI/15;1:EXEC/14;",
              "resp: wire lengths of control commands");
    CHECK_INT(skipped, 3, "resp: bare \\n and \\r\\n between commands are skipped");
    CHECK_STR(err, "", "resp: nothing pending after whole commands");

    for (size_t chunk = 1; chunk <= 7; chunk++) {
        out.len = 0;
        transcript(in.p, in.len, chunk, 0, 0, &out, &skipped1, err, sizeof(err));
        CHECK(strcmp(out.p, whole.p) == 0 && skipped1 == skipped,
              "resp: fed %zu byte(s) at a time, same transcript", chunk);
    }

    /* big arguments: hiredis compacts its buffer past 1 KiB */
    {
        struct tbuf big = { 0 }, ref = { 0 };
        char *arg = malloc(5001);
        size_t want = 0;

        memset(arg, 'x', 5000);
        arg[5000] = '\0';
        for (int i = 0; i < 5; i++)
            want += CMD(&big, "SET", "k", arg + i * 1000);
        transcript(big.p, big.len, 0, 0, 0, &ref, &skipped, err, sizeof(err));
        CHECK(strstr(ref.p, "/5029;") && strstr(ref.p, "/1029;") && want == big.len,
              "resp: wire lengths of 5000..1000-byte arguments");
        for (size_t chunk = 1; chunk < 3000; chunk = chunk * 7 + 1) {
            out.len = 0;
            transcript(big.p, big.len, chunk, 0, 0, &out, &skipped, err, sizeof(err));
            CHECK(strcmp(out.p, ref.p) == 0, "resp: big arguments fed %zu bytes at a time", chunk);
        }
        free(arg);
        tbuf_free(&big);
        tbuf_free(&ref);
    }

    tbuf_free(&in);
    tbuf_free(&whole);
    tbuf_free(&out);
}

/* Binary arguments, inline commands, and the forms the reader refuses. */
static void test_resp_forms(void)
{
    struct tbuf out = { 0 };
    size_t skipped, skipped1;
    char err[256];
    enum rs_status st;
    static const char binary[] = "*2\r\n$3\r\nSET\r\n$5\r\na\0\r\nb\r\n";

    transcript(binary, sizeof(binary) - 1, 1, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(out.len == 15 && memcmp(out.p, "2:SET,a\0\r\nb/24;", 15) == 0,
          "resp: binary argument with NUL and CRLF inside");

    st = transcript("+OK\r\n", 5, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR && strstr(err, "non-array"), "resp: a status reply is refused (%s)", err);
    /* Redis 2.4/2.6 masters propagate SELECT inline ("select 0\r\n") */
    {
        static const char old_stream[] = "select 3\r\n*1\r\n$4\r\nPING\r\n  \r\nselect  12\n"
                                         "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        struct tbuf ref = { 0 };

        st = transcript(old_stream, sizeof(old_stream) - 1, 0, 0, 0, &ref, &skipped, err,
                        sizeof(err));
        CHECK_STR(ref.p, "2:select,3/10;1:PING/14;2:select,12/11;3:SET,k,v/27;",
                  "resp: inline commands between RESP ones, with their wire lengths");
        CHECK(st != RS_ERROR && skipped == 4 && err[0] == '\0',
              "resp: a line of spaces is skipped like a newline (%zu, '%s')", skipped, err);
        for (size_t chunk = 1; chunk <= 5; chunk++) {
            out.len = 0;
            transcript(old_stream, sizeof(old_stream) - 1, chunk, 0, 0, &out, &skipped1, err,
                       sizeof(err));
            CHECK(strcmp(out.p, ref.p) == 0 && skipped1 == skipped,
                  "resp: inline commands fed %zu byte(s) at a time, same transcript", chunk);
        }
        tbuf_free(&ref);
    }
    st = transcript("select 0", 8, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_AGAIN && strcmp(err, "pending 8") == 0,
          "resp: an inline line without its newline waits (%s)", err);
    st = transcript("*2\r\n$3\r\nDEL\r\n:1\r\n", 17, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR && strstr(err, "non-bulk"), "resp: an integer element is refused (%s)",
          err);
    st = transcript("*2\r\n*1\r\n", 8, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR, "resp: a nested array is refused (%s)", err);
    st = transcript("*1\r\n$-1\r\n", 9, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR, "resp: a null bulk is refused (%s)", err);
    st = transcript("*0\r\n", 4, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR, "resp: an empty command is refused (%s)", err);
    st = transcript("*2000000000\r\n", 13, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR && strstr(err, "limit"), "resp: a forged *N is refused early (%s)", err);
    st = transcript("*1\r\n$99999999999\r\n", 19, 0, 1024, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR && strstr(err, "limit"), "resp: a forged $N is refused early (%s)", err);
    st = transcript("*1\r\n$3\r\nabcXY", 13, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR, "resp: a bulk without its CRLF is refused (%s)", err);
    st = transcript("*1\r\n$03\r\nabc\r\n", 14, 0, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_ERROR, "resp: a non-canonical length is refused (%s)", err);
    st = transcript("*3\r\n$3\r\nSET\r\n", 13, 1, 0, 0, &out, &skipped, err, sizeof(err));
    CHECK(st == RS_AGAIN && strcmp(err, "pending 13") == 0,
          "resp: a partial command waits (%s)", err);
    tbuf_free(&out);
}

/* resp_reader_arg_left: the bytes of the current argument not fed yet. */
static void test_arg_left(void)
{
    struct resp_reader *r = resp_reader_new(0, 0);
    struct resp_command cmd;
    size_t skipped;
    const char *head = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123";

    CHECK(r != NULL, "arg_left: reader");
    if (r == NULL)
        return;
    CHECK_INT((long long)resp_reader_arg_left(r), 0, "arg_left: nothing fed");
    resp_reader_feed(r, head, strlen(head));
    CHECK(resp_reader_next(r, &cmd, &skipped) == RS_AGAIN, "arg_left: value incomplete");
    CHECK_INT((long long)resp_reader_arg_left(r), 8, "arg_left: 6 bytes + CRLF + LF to come");
    resp_reader_feed(r, "456789\r", 7);
    CHECK(resp_reader_next(r, &cmd, &skipped) == RS_AGAIN, "arg_left: LF missing");
    CHECK_INT((long long)resp_reader_arg_left(r), 1, "arg_left: the LF to come");
    resp_reader_feed(r, "\n*1\r\n$4\r\n", 9);
    CHECK(resp_reader_next(r, &cmd, &skipped) == RS_OK && cmd.argc == 3, "arg_left: SET read");
    CHECK(resp_reader_next(r, &cmd, &skipped) == RS_AGAIN, "arg_left: next header read");
    CHECK_INT((long long)resp_reader_arg_left(r), 6, "arg_left: a new argument of 4 + CRLF");
    resp_reader_free(r);
}

int main(void)
{
    test_resp();
    test_resp_forms();
    test_arg_left();
    return check_summary();
}
