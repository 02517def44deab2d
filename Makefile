# cpgo: plain Makefile. `make`, `make test`, `make install PREFIX=...`, `make demo`.
# Variables: CC, PREFIX, WERROR=1 (CI), SANITIZE=1 (ASan+UBSan build into build-san/).

PREFIX ?= /usr/local
CLANG ?= clang-19
include mk/libs.mk

ifeq ($(SANITIZE),1)
B ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
B ?= build
SANFLAGS :=
endif

WARN := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif

CFLAGS ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) $(WARN) $(SANFLAGS) -std=gnu11 -fPIC -fno-omit-frame-pointer \
	-D_GNU_SOURCE -Iinclude -Ilib -I$(B)/gen -MMD -MP
LDLIBS := $(CPGO_LIBS)
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

GEN_C := $(B)/gen/pprof/profile.pb-c.c
GEN_H := $(B)/gen/pprof/profile.pb-c.h
# One folder per layer (`make check-layers` holds the includes to their order).
LIB_SRCS := $(wildcard lib/*/*.c)
RT_SRCS := $(wildcard runtime/*.c)
BUILTIN_SRCS := $(wildcard builtin/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o) $(B)/gen/pprof/profile.pb-c.o
RT_OBJS := $(RT_SRCS:%.c=$(B)/%.o)
CMD_OBJS := $(B)/cpgo.o $(BUILTIN_SRCS:%.c=$(B)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
WORKLOAD_SRCS := $(wildcard tests/workloads/*.c)

all: $(B)/cpgo $(B)/cpgo-cc $(B)/libcpgo.so $(B)/libcpgo.a $(B)/link-libs $(B)/cpgo.pc

# The link line for scripts (tests, bench) and the pkg-config file for users.
$(B)/link-libs: mk/libs.mk
	@mkdir -p $(B)
	echo '$(CPGO_LIBS)' > $@

$(B)/cpgo.pc: mk/libs.mk VERSION
	@mkdir -p $(B)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
		'Name: cpgo' 'Description: in-process sampling CPU profiler writing pprof (libcpgo)' \
		'Version: $(VERSION)' 'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lcpgo' \
		'Libs.private: $(CPGO_LIBS)' > $@

$(GEN_C) $(GEN_H): lib/pprof/profile.proto
	@mkdir -p $(B)/gen/pprof
	protoc-c --proto_path=lib/pprof --c_out=$(B)/gen/pprof lib/pprof/profile.proto

$(B)/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DCPGO_VERSION='"$(VERSION)"' -c -o $@ $<

$(B)/gen/pprof/profile.pb-c.o: $(GEN_C)
	$(CC) $(filter-out -Werror -Wextra,$(ALL_CFLAGS)) -c -o $@ $<

# Runtime objects are built with hidden visibility: only include/cpgo.h's API is exported.
$(B)/runtime/%.o: runtime/%.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -c -o $@ $<

$(B)/libcpgo-core.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

# The profiler, for linking in statically (the profile library comes along),
# pre-linked into one object whose only global symbols are those libcpgo.so
# exports, so nothing of lib/ can clash with the host program's names.
$(B)/libcpgo.a: $(RT_OBJS) $(B)/libcpgo-core.a runtime/libcpgo.map
	sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);$$/\1/p' runtime/libcpgo.map > $(B)/libcpgo.syms
	$(LD) -r -o $(B)/libcpgo-prelink.o $(RT_OBJS) $(B)/libcpgo-core.a
	objcopy --keep-global-symbols=$(B)/libcpgo.syms $(B)/libcpgo-prelink.o
	rm -f $@ && ar rcs $@ $(B)/libcpgo-prelink.o

# Only the API and the pthread_create/exec wrappers are exported (runtime/libcpgo.map);
# --as-needed keeps libraries the profiler never calls out of the host.
# The core library goes in as an archive so only the members the runtime uses come along.
$(B)/libcpgo.so: $(RT_OBJS) $(B)/libcpgo-core.a runtime/libcpgo.map
	$(CC) -shared -Wl,-soname,libcpgo.so -Wl,--exclude-libs,ALL \
		-Wl,--version-script=runtime/libcpgo.map -Wl,--as-needed $(ALL_LDFLAGS) \
		-o $@ $(RT_OBJS) $(B)/libcpgo-core.a $(LDLIBS)

$(B)/cpgo: $(CMD_OBJS) $(B)/libcpgo-core.a
	$(CC) $(ALL_LDFLAGS) -Wl,--as-needed -o $@ $(CMD_OBJS) $(B)/libcpgo-core.a $(LDLIBS)

# `cpgo cc` under one name, for CCACHE_PREFIX=cpgo-cc and the like.
$(B)/cpgo-cc: $(B)/cpgo
	ln -sf cpgo $@

# Unit tests (cmocka) link against the core library and the runtime objects
# (unlocalized, so tests can reach internals).
$(B)/libcpgo-test.a: $(RT_OBJS) $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/tests/%: tests/unit/%.c $(B)/libcpgo-test.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Iruntime -o $@ $< $(B)/libcpgo-test.a $(LDLIBS) -lcmocka

units: $(UNIT_BINS)

# libFuzzer targets (clang only; tests/fuzz/fuzz_NAME.c) over the whole library
# built with coverage and ASan/UBSan, and their seed generator. `make fuzz`
# builds them, generates the seed corpora and fuzzes each for FUZZ_SECONDS
# (tests/fuzz/run.sh; findings stop it); `make fuzz-build` only builds.
FUZZ_SECONDS ?= 10
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -g -O1 $(FUZZ_SAN) -MMD -MP -std=gnu11 -D_GNU_SOURCE -Iinclude -Ilib -Iruntime -I$(B)/gen
FUZZ_OBJS := $(LIB_SRCS:%.c=$(B)/fuzz/obj/%.o) $(B)/fuzz/obj/gen/pprof/profile.pb-c.o
# The HTTP target needs the router of the endpoint, not the profiler.
FUZZ_RT_OBJS := $(B)/fuzz/obj/runtime/rthttp_route.o $(B)/fuzz/obj/runtime/rtenv.o

$(B)/fuzz/obj/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -DCPGO_VERSION='"$(VERSION)"' -c -o $@ $<

$(B)/fuzz/obj/gen/pprof/profile.pb-c.o: $(GEN_C)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(B)/fuzz/libcpgo-fuzz.a: $(FUZZ_OBJS) $(FUZZ_RT_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(B)/fuzz/libcpgo-fuzz.a
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(B)/fuzz/libcpgo-fuzz.a $(LDLIBS)

$(B)/fuzz/gen_seeds: tests/fuzz/gen_seeds.c $(B)/libcpgo-core.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libcpgo-core.a $(LDLIBS)

fuzz-build: $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%) $(B)/fuzz/gen_seeds

fuzz: fuzz-build
	B=$(B) ./tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

test: all units check-layers
	B=$(B) ./tests/run.sh

# Fails on an #include that points up or sideways in the layer order.
check-layers:
	./scripts/check-layers.sh

demo: all
	./examples/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(B)/cpgo.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/cpgo.pc
	install -m 755 $(B)/cpgo $(DESTDIR)$(PREFIX)/bin/cpgo
	ln -sf cpgo $(DESTDIR)$(PREFIX)/bin/cpgo-cc
	install -m 644 $(B)/libcpgo.so $(B)/libcpgo.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/cpgo.h $(DESTDIR)$(PREFIX)/include/cpgo.h

clean:
	rm -rf build build-san

.PHONY: all units fuzz fuzz-build test demo install clean check-layers

-include $(shell find $(B) -name '*.d' 2>/dev/null)
