# fuzz.mk - builds the libFuzzer targets with clang (GNU make; run through
# "make fuzz", which passes top_srcdir, LIB_SRCS, FUZZ_CPPFLAGS and
# FUZZ_LIBS, sysconfdir, localstatedir). The objects of libredsink are rebuilt with the fuzzer's
# instrumentation in fuzz/obj/, apart from the normal build.

FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined -Wall -Wextra -std=gnu11 \
	-DSYSCONFDIR='"$(sysconfdir)"' -DLOCALSTATEDIR='"$(localstatedir)"'
TARGETS = fuzz/fuzz_rdb fuzz/fuzz_dump fuzz/fuzz_resp fuzz/fuzz_apply fuzz/fuzz_config \
	fuzz/fuzz_decode
OBJS = $(patsubst %.c,fuzz/obj/%.o,$(filter %.c,$(LIB_SRCS)))

all: $(TARGETS)

fuzz/obj/%.o: $(top_srcdir)/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Wno-string-concatenation $(FUZZ_CPPFLAGS) -c $< -o $@

fuzz/libfuzz.a: $(OBJS)
	rm -f $@
	ar rc $@ $(OBJS)

fuzz/fuzz_%: $(top_srcdir)/fuzz/fuzz_%.c $(top_srcdir)/fuzz/fuzz_common.h \
		$(top_srcdir)/fuzz/fuzz_rdb_handlers.h fuzz/libfuzz.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) $< fuzz/libfuzz.a \
		$(FUZZ_LIBS) -o $@

.PHONY: all

# fuzz_dump.c is fuzz_rdb.c built with FUZZ_DUMP_ONLY
fuzz/fuzz_dump: $(top_srcdir)/fuzz/fuzz_rdb.c
