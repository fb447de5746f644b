# xlb build. Out-of-tree into build/; `make V=1` shows full commands.
#   bpf/%.bpf.c -> build/bpf/%.bpf.o -> build/include/%.skel.h -> binaries

BUILD   ?= build
PREFIX  ?= /usr/local
CLANG   ?= clang
CC      ?= gcc
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
ARCH    := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN     := -Wall -Wextra -Werror
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	-Iinclude -Ibpf -I/usr/include/$(MULTIARCH)
CFLAGS   ?= -O2 -g
XLB_VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
CFLAGS   += -DXLB_VERSION='"$(XLB_VERSION)"'
CFLAGS   += $(WARN) -std=gnu11 -D_GNU_SOURCE -I/usr/include/libnl3 -Iinclude -Iuser/common -Itests -Itests/bpf -I$(BUILD)/include
LDLIBS   := -lbpf -lelf -lz -lyaml -lnl-route-3 -lnl-3 -ljson-c -lcurl -luring -lmicrohttpd -lpthread

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(BUILD)/include/%.skel.h,$(BPF_SRCS))
BPF_HDRS := $(wildcard bpf/lib/*.h) $(wildcard include/*.h)

LIB_SRCS := $(wildcard user/common/*.c)
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
LIB      := $(BUILD)/libxlb.a
HDRS     := $(wildcard include/*.h user/common/*.h user/xlbd/*.h user/xlbctl/*.h tests/*.h tests/*/*.h)

TEST_BPF   := $(BUILD)/tests/test_bpf
TEST_UNIT  := $(BUILD)/tests/test_unit
BENCH      := $(BUILD)/tools/xlb-bench
DECAP_BENCH := $(BUILD)/tools/xlb-decap-bench
VETH_BENCH := $(BUILD)/tools/xlb-veth-bench
PROBE_COST := $(BUILD)/tools/xlb-probe-cost
LOOP_PROBE := $(BUILD)/tools/xlb-loop-probe
XLBD       := $(BUILD)/xlbd
XLBCTL     := $(BUILD)/xlbctl
XLB_DECAP  := $(BUILD)/xlb-decap
XLB_GUARD  := $(BUILD)/xlb-guard
LAB_BEAT   := $(BUILD)/tests/xlb-lab-beat
LAB_NOTIFY := $(BUILD)/tests/xlb-lab-notify
LAB_DP     := $(BUILD)/tests/xlb-lab-dp
LAB_UDP    := $(BUILD)/tests/xlb-lab-udp
LAB_TCP    := $(BUILD)/tests/xlb-lab-tcp
LAB_LOAD   := $(BUILD)/tests/xlb-lab-load
LAB_SYN    := $(BUILD)/tests/xlb-lab-syn
LAB_FLOOD  := $(BUILD)/tests/xlb-sl-flood
MANS       := $(BUILD)/man/xlbd.8 $(BUILD)/man/xlbctl.8 $(BUILD)/man/xlb-guard.8
BINS       := $(XLBD) $(XLBCTL) $(XLB_DECAP) $(XLB_GUARD) $(LAB_BEAT) $(LAB_NOTIFY) $(TEST_BPF) $(TEST_UNIT) $(BENCH) $(LAB_DP) $(LAB_UDP) \
	$(LAB_TCP) $(LAB_LOAD) $(LAB_SYN) $(VETH_BENCH) $(DECAP_BENCH) $(LAB_FLOOD) $(PROBE_COST) $(LOOP_PROBE)

DEB_PKGS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config \
	libyaml-dev libjson-c-dev libnl-3-dev libnl-route-3-dev \
	iproute2 ethtool socat valgrind help2man clang-format clang-tidy cppcheck \
	libcurl4-openssl-dev openssl libncurses-dev tmux

# metrics (issue #5): the HTTP server, and the real Prometheus the tests run
DEB_PKGS += libmicrohttpd-dev prometheus curl jq
# sanitizers and libFuzzer (issue #11): clang's runtimes
DEB_PKGS += libclang-rt-14-dev
# the probe-cost bench (issue #15): health checks' syscalls batched by io_uring
DEB_PKGS += liburing-dev
# sd_notify: readiness and the watchdog under systemd (issue #13)
DEB_PKGS += libsystemd-dev
# the fleet lab (issue #13): BGP and BFD on the LBs and the router
DEB_PKGS += bird2 frr

.SECONDARY:

.PHONY: all deps test test-unit test-bpf test-monitoring test-install test-e2e test-fleet test-demo test-flood uninstall bench check format clean install demo \
	san test-san fuzz fuzz-build test-fuzz

all: $(BINS) $(MANS)

# Man pages from the programs' own --help (one source for both).
man_name_xlbd      := the xlb load-balancer agent
man_name_xlbctl    := command line of the xlb agent
man_name_xlb-guard := withdraws a silent xlb agent's announcements
$(BUILD)/man/%.8: $(BUILD)/%
	@mkdir -p $(@D)
	$(call msg,MAN,$@)
	$(Q)help2man --no-info --section=8 --name="$(man_name_$*)" \
		--output=$@ $<

# Installs only what is missing; a no-op when everything is present.
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(BUILD)/include/%.skel.h: $(BUILD)/bpf/%.bpf.o | $(BUILD)/include
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c $(HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

# The suites' sources (beyond libxlb); the sanitizer build links the same.
TEST_BPF_SRCS  := $(wildcard tests/bpf/*.c) tests/harness.c
TEST_UNIT_SRCS := $(wildcard tests/unit/*.c) tests/harness.c user/xlbd/state.c \
	user/xlbd/announce.c user/xlbd/events.c user/xlbd/metrics_text.c user/xlbd/counters.c
# the control socket's connections (test_ctlconn.c)
TEST_UNIT_SRCS += user/xlbd/ctl_conn.c
# outlier ejection over a made-up data plane (test_ejection.c)
TEST_UNIT_SRCS += user/xlbd/ejection.c

$(TEST_BPF): $(patsubst %.c,$(BUILD)/%.o,$(TEST_BPF_SRCS)) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(TEST_UNIT): $(patsubst %.c,$(BUILD)/%.o,$(TEST_UNIT_SRCS)) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Tests of xlbd's pieces (the state file, the control handler) include their headers.
$(BUILD)/tests/unit/%.o $(BUILD)/tests/fuzz/%.o: CFLAGS += -Iuser/xlbd

# libsystemd: sd_notify (readiness, status, watchdog; user/xlbd/notify.c)
$(XLBD): $(patsubst %.c,$(BUILD)/%.o,$(wildcard user/xlbd/*.c)) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -lsystemd -o $@

# xlbctl links only the pure pieces of libxlb it shares with xlbd.
$(XLBCTL): $(patsubst %.c,$(BUILD)/%.o,$(wildcard user/xlbctl/*.c)) \
	$(BUILD)/user/common/vipname.o $(BUILD)/user/common/addr.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -ljson-c -lncursesw -o $@

# the backend-side decapsulation loader (README "Backends")
$(XLB_DECAP): $(patsubst %.c,$(BUILD)/%.o,$(wildcard user/decap/*.c)) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# withdraws a silent agent's routes (README "Running a fleet")
$(XLB_GUARD): $(patsubst %.c,$(BUILD)/%.o,$(wildcard user/guard/*.c)) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# writes and reads the agent's beat for the guard's e2e cases
$(LAB_BEAT): $(BUILD)/tests/e2e/lab_beat.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# systemd's end of sd_notify for the e2e cases
$(LAB_NOTIFY): $(BUILD)/tests/e2e/lab_notify.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

$(LAB_DP): $(BUILD)/tests/e2e/lab_dp.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(VETH_BENCH): $(BUILD)/tools/bench/veth_bench.o $(LIB)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(LOOP_PROBE): $(BUILD)/tools/bench/loop_probe.o
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

# a SYN flood against established flows, table vs stateless (tests/flood/)
$(LAB_FLOOD): $(BUILD)/tests/flood/sl_flood.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(LAB_TCP): $(BUILD)/tests/e2e/lab_tcp.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

$(LAB_LOAD): $(BUILD)/tests/e2e/lab_load.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

$(LAB_SYN): $(BUILD)/tests/e2e/lab_syn.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

$(LAB_UDP): $(BUILD)/tests/e2e/lab_udp.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

$(BENCH): $(BUILD)/tools/bench/xlb_bench.o $(BUILD)/tools/bench/other_build.o $(BUILD)/tests/bpf/pkt.o $(BUILD)/tests/unit/maglev_ref.o $(LIB)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(PROBE_COST): $(BUILD)/tools/bench/probe_cost.o $(LIB)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(DECAP_BENCH): $(BUILD)/tools/bench/decap_bench.o $(BUILD)/tests/bpf/pkt.o $(LIB)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bpf $(BUILD)/include:
	$(Q)mkdir -p $@

# Two groups. The suites and checks that only compute (nothing timed, no
# lab, each its own temporary files and pins) run two at a time: the CI
# machine has 2 CPUs. The long single jobs first, check's many small ones
# (a file each) fill in. Then the network-namespace labs, one after
# another and alone, since their cases measure time.
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory -j2 --output-sync=target check-cppcheck test-unit test-bpf \
		test-san test-fuzz check test-monitoring test-install
	$(Q)$(MAKE) --no-print-directory test-flood test-e2e test-fleet test-demo

# Alert rules and dashboard: promtool checks and rule unit tests.
test-monitoring:
	$(Q)tests/monitoring/check.sh

# Under valgrind: the unit suites are pure C and must not leak or misuse memory.
test-unit: $(TEST_UNIT)
	$(Q)valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=9 $(TEST_UNIT)
	@# valgrind 3.19 lacks pidfd_open: exec probes run their fallback under it,
	@# so the probe suite runs once more natively for the pidfd path.
	$(Q)echo "test-unit: the probe suite again, natively"; $(TEST_UNIT) probe_ >/dev/null

test-bpf: $(TEST_BPF)
	$(Q)$(TEST_BPF)

# ---- sanitizers and fuzzing ------------------------------------------------
# A second build of libxlb and of the suites by clang with ASan + UBSan (any
# report is fatal) in $(SAN)/, apart from the valgrind-run build: valgrind
# and ASan don't mix. Its objects also carry libFuzzer's coverage
# instrumentation, so the fuzz harnesses link the very same libxlb.
SAN        := $(BUILD)/san
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS  = $(patsubst -O2,-O1,$(CFLAGS)) $(SAN_FLAGS) -fsanitize=fuzzer-no-link
SAN_LIB    := $(SAN)/libxlb.a
SAN_UNIT   := $(SAN)/tests/test_unit
SAN_BPF    := $(SAN)/tests/test_bpf
SAN_ENV    := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

$(SAN)/%.o: %.c $(HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(call msg,CC-SAN,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) -c $< -o $@

$(SAN)/tests/unit/%.o $(SAN)/tests/fuzz/%.o: CFLAGS += -Iuser/xlbd

$(SAN_LIB): $(patsubst %.c,$(SAN)/%.o,$(LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(SAN_UNIT): $(patsubst %.c,$(SAN)/%.o,$(TEST_UNIT_SRCS)) $(SAN_LIB)
	$(call msg,LD-SAN,$@)
	$(Q)$(CLANG) $(SAN_FLAGS) $^ $(LDLIBS) -o $@

$(SAN_BPF): $(patsubst %.c,$(SAN)/%.o,$(TEST_BPF_SRCS)) $(SAN_LIB)
	$(call msg,LD-SAN,$@)
	$(Q)$(CLANG) $(SAN_FLAGS) $^ $(LDLIBS) -o $@

san: $(SAN_UNIT) $(SAN_BPF)

# The unit and BPF-fixture suites under ASan + UBSan (the valgrind run of the
# unit suite stays: it sees uninitialised reads, ASan does not).
test-san: $(SAN_UNIT) $(SAN_BPF)
	$(Q)$(SAN_ENV) $(SAN_UNIT) >$(SAN)/test_unit.log 2>&1 || \
		{ cat $(SAN)/test_unit.log; echo "test-san: the unit suite failed under ASan/UBSan"; exit 1; }
	$(Q)grep -h 'passed,' $(SAN)/test_unit.log | sed 's/^/san /'
	$(Q)$(SAN_ENV) $(SAN_BPF) >$(SAN)/test_bpf.log 2>&1 || \
		{ cat $(SAN)/test_bpf.log; echo "test-san: the BPF suite failed under ASan/UBSan"; exit 1; }
	$(Q)grep -h 'passed,' $(SAN)/test_bpf.log | sed 's/^/san /'

# Every tests/fuzz/fuzz_NAME.c is a libFuzzer harness, built into
# $(BUILD)/fuzz/fuzz_NAME with the sanitized libxlb; it fuzzes from the seeds
# in tests/fuzz/corpus/NAME/ (read only) and, when present, the dictionary
# tests/fuzz/NAME.dict. A harness that needs more than libxlb names the
# sources on a line of its own ('!' leaves one out of a glob):
#   // fuzz-link: user/xlbd/*.c !user/xlbd/main.c
# make fuzz runs each for FUZZ_SECONDS; make test-fuzz for FUZZ_QUICK seconds.
# A crash, leak or timeout fails and leaves its reproducer in
# $(BUILD)/fuzz/crashes/ (the output names it; rerun: BINARY REPRODUCER).
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 300
FUZZ_QUICK   ?= 10
fuzz_words    = $(shell sed -n 's|^// fuzz-link: ||p' tests/fuzz/$(1).c)
fuzz_link     = $(patsubst %.c,$(SAN)/%.o,$(filter-out $(patsubst !%,%,$(filter !%,$(1))), \
	$(wildcard $(filter-out !%,$(1)))))

.SECONDEXPANSION:
$(BUILD)/fuzz/%: $(SAN)/tests/fuzz/%.o $$(call fuzz_link,$$(call fuzz_words,$$*)) $(SAN_LIB)
	@mkdir -p $(@D)
	$(call msg,LD-FUZZ,$@)
	$(Q)$(CLANG) $(SAN_FLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@

fuzz-build: $(FUZZ_BINS)

# run_fuzz(binary, seconds): new inputs go to $(BUILD)/fuzz/corpus/NAME
# (kept between runs), the seeds stay untouched.
define run_fuzz
	n=$(notdir $(1)); s=tests/fuzz/corpus/$${n#fuzz_}; w=$(BUILD)/fuzz/corpus/$${n#fuzz_}; \
	d=tests/fuzz/$${n#fuzz_}.dict; c=$(BUILD)/fuzz/crashes; mkdir -p $$w $$c; \
	echo "  FUZZ     $$n for $(2)s (seeds $$s)"; \
	$(SAN_ENV) $(1) -max_total_time=$(2) -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
		-artifact_prefix=$$c/$$n- $$( [ -f $$d ] && echo -dict=$$d ) $$w $$( [ -d $$s ] && echo $$s ) \
		>$(BUILD)/fuzz/$$n.log 2>&1 || { \
		tail -n 60 $(BUILD)/fuzz/$$n.log; \
		echo "$$n failed (log $(BUILD)/fuzz/$$n.log); reproducer(s):"; \
		ls -t $$c/$$n-* 2>/dev/null | head -n 3 | sed 's|^|  $(1) |'; exit 1; }; \
	tail -n 1 $(BUILD)/fuzz/$$n.log | sed 's/^/           /'
endef

fuzz: $(FUZZ_BINS)
	$(Q)set -e; $(foreach b,$(FUZZ_BINS),$(call run_fuzz,$(b),$(FUZZ_SECONDS));)

test-fuzz: $(FUZZ_BINS)
	$(Q)set -e; $(foreach b,$(FUZZ_BINS),$(call run_fuzz,$(b),$(FUZZ_QUICK));)

test-e2e: all
	$(Q)tests/e2e/run.sh $(BUILD)

# 8M-source SYN flood while 1,000 established flows send, flow_state table
# vs stateless, through native XDP on a veth pair (issue #14): ~15 s.
test-flood: $(LAB_FLOOD)
	$(Q)tests/flood/run.sh $(BUILD)

# Three LBs behind a router's ECMP, BGP + BFD (tools/fleet/): ~80 s.
test-fleet: all
	$(Q)tests/e2e/fleet.sh $(BUILD)

# BENCH_OLD=<commit>: xlb-bench also runs that commit's XDP program, built
# by tools/bench/build_old.sh, on the same maps in the same rounds, e.g.
# BENCH_OLD=2636e7f (the last before the SYN-retransmission path, issue #16).
bench: deps
	$(Q)$(MAKE) --no-print-directory all
ifneq ($(BENCH_OLD),)
	$(Q)tools/bench/build_old.sh $(BENCH_OLD) $(BUILD)/bench-old
	$(Q)XLB_BENCH_OLD=$(BUILD)/bench-old/xlb.bpf.o XLB_BENCH_OLD_NAME=$(BENCH_OLD) $(BENCH)
else
	$(Q)$(BENCH)
endif
	$(Q)$(DECAP_BENCH)
	$(Q)tools/bench/veth.sh $(BUILD)
	$(Q)tools/bench/checks.sh $(BUILD)
	$(Q)tools/bench/probe_cost.sh $(BUILD)
	$(Q)tools/bench/loop.sh $(BUILD)

SRC_FILES := $(shell find bpf include user tests tools -name '*.[ch]')
# What the host compiler builds: clang's own warnings and its analyzer run
# on each file as a target of its own, so that make -j spreads them.
CHECK_SRCS := $(filter-out bpf/%,$(filter %.c,$(SRC_FILES)))
CHECK_CFLAGS = $(filter-out -O2 -g,$(CFLAGS)) -Iuser/xlbd

check: check-format check-cppcheck check-clang-w check-analyze

check-format: deps
	$(call msg,FORMAT,sources)
	$(Q)clang-format --dry-run -Werror $(SRC_FILES)

check-cppcheck: deps
	$(call msg,CPPCHECK,user tests tools)
	$(Q)cppcheck -q --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -Iinclude -Iuser/common -Iuser/xlbd -Itests -Itests/bpf -I$(BUILD)/include \
		--include=/usr/include/bpf/libbpf_common.h --suppress=missingIncludeSystem \
		$(CHECK_SRCS)

# clang's own warnings (--analyze does not print them) on all that the host
# compiler builds
check-clang-w: $(patsubst %,$(BUILD)/check/%.w,$(CHECK_SRCS))
	$(call msg,CLANG-W,user tests tools)

$(BUILD)/check/%.c.w: FORCE | deps
	$(Q)$(CLANG) -fsyntax-only $(CHECK_CFLAGS) $*.c

check-analyze: $(patsubst %,$(BUILD)/check/%.an,$(CHECK_SRCS))
	$(call msg,ANALYZE,user tests tools)
	$(Q)cat $^ >$(BUILD)/analyze.log
	@# bpftool's generated skeletons free through bpf_object__destroy_skeleton(),
	@# which the analyzer cannot see: their "potential leak" is not ours.
	$(Q)if grep 'warning:' $(BUILD)/analyze.log | grep -v '\.skel\.h:.*Potential leak'; then \
		echo "clang --analyze found problems, see $(BUILD)/analyze.log"; exit 1; fi

# one file's analyzer output
$(BUILD)/check/%.c.an: FORCE | deps
	@mkdir -p $(@D)
	$(Q)$(CLANG) --analyze -Xanalyzer -analyzer-output=text $(CHECK_CFLAGS) \
		-o /dev/null $*.c 2>$@ || { cat $@; exit 1; }

.PHONY: check-format check-cppcheck check-clang-w check-analyze FORCE
FORCE:

format:
	$(Q)clang-format -i $(SRC_FILES)

clean:
	$(Q)rm -rf $(BUILD)

# Issue #6 builds these; until then say so instead of doing nothing.
# The product on its built-in lab, narrated (DEMO_FAST=1: no pauses).
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tools/demo/demo.sh

test-demo: all
	$(Q)tests/demo/check.sh

# make install [DESTDIR=...] [PREFIX=/usr/local] [SYSCONFDIR=/etc]
SYSCONFDIR ?= /etc
SBINDIR    := $(PREFIX)/sbin
MANDIR     := $(PREFIX)/share/man/man8
UNITDIR    := $(PREFIX)/lib/systemd/system
COMPDIR    := $(PREFIX)/share/bash-completion/completions
INSTALLED  := $(SBINDIR)/xlbd $(SBINDIR)/xlbctl $(SBINDIR)/xlb-decap $(SBINDIR)/xlb-guard \
	$(MANDIR)/xlbd.8 $(MANDIR)/xlbctl.8 $(MANDIR)/xlb-guard.8 \
	$(UNITDIR)/xlbd.service $(UNITDIR)/xlb-guard.service $(COMPDIR)/xlbctl $(SYSCONFDIR)/xlb/xlb.yaml.example

install: $(XLBD) $(XLBCTL) $(XLB_DECAP) $(XLB_GUARD) $(MANS)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(COMPDIR) $(DESTDIR)$(SYSCONFDIR)/xlb $(DESTDIR)$(SYSCONFDIR)/default
	$(Q)install -m 0755 $(XLBD) $(XLBCTL) $(XLB_DECAP) $(XLB_GUARD) $(DESTDIR)$(SBINDIR)/
	$(Q)install -m 0644 $(MANS) $(DESTDIR)$(MANDIR)/
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		tools/packaging/xlbd.service.in >$(DESTDIR)$(UNITDIR)/xlbd.service
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' tools/packaging/xlb-guard.service.in \
		>$(DESTDIR)$(UNITDIR)/xlb-guard.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/xlbd.service $(DESTDIR)$(UNITDIR)/xlb-guard.service
	$(Q)install -m 0644 tools/packaging/xlbctl.bash-completion $(DESTDIR)$(COMPDIR)/xlbctl
	$(Q)install -m 0644 tools/packaging/xlb.yaml.example $(DESTDIR)$(SYSCONFDIR)/xlb/
	@# the operator's own files are never overwritten
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/default/xlbd ] || \
		install -m 0644 tools/packaging/xlbd.default $(DESTDIR)$(SYSCONFDIR)/default/xlbd
	@# the fleet's hash seed: made once, never overwritten, kept by uninstall;
	@# copy it to every load balancer of the fleet (README "Hash seed")
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/xlb/hash_seed ] || (umask 077 && \
		od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >$(DESTDIR)$(SYSCONFDIR)/xlb/hash_seed)

# Removes what install put there, except the operator's /etc/default/xlbd and
# /etc/xlb/xlb.yaml.
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)rmdir $(DESTDIR)$(SYSCONFDIR)/xlb 2>/dev/null || true

# make install into a staging directory, the tree checked, make uninstall.
test-install: all
	$(Q)tests/install/check.sh

# ---- Packet fuzzer (issue #12) ------------------------------------------
# Random and mutated frames through the real XDP program, invariants checked
# after every packet (tests/fuzz/pkt_fuzz.c). `make fuzz-packets` runs 10
# million; the suite (test-fuzz-packets) runs 200,000 with a fixed seed.
PKT_FUZZ := $(BUILD)/tests/pkt_fuzz
PKT_FUZZ_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/fuzz/pkt_*.c) tests/bpf/env.c \
	tests/bpf/pkt.c tests/harness.c)

.PHONY: fuzz fuzz-packets test-fuzz-packets

all: $(PKT_FUZZ)

$(PKT_FUZZ): $(PKT_FUZZ_OBJS) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

fuzz: fuzz-packets

fuzz-packets: $(PKT_FUZZ)
	$(Q)$(PKT_FUZZ) --packets 10000000

# Part of the data-plane suite (and so of make test): a few seconds.
test-bpf: test-fuzz-packets

test-fuzz-packets: $(PKT_FUZZ)
	$(Q)$(PKT_FUZZ) --packets 200000 --seed 12

