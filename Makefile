# spoa-shadow: production traffic mirroring for HAProxy over SPOP.
#
#   make            build build/spoa-shadow (gcc; `make CC=clang` works too)
#   make test       deps + format and layering checks + gcc and clang builds + unit tests under ASan+UBSan
#                   + fuzz smoke run + integration tests
#   make demo       deps + a local demo: real HAProxy, the agent and real backends
#   make fuzz       libFuzzer targets (clang), run for FUZZ_SECONDS each;
#                   FUZZ_TARGETS="fuzz_a fuzz_b" runs only those
#   make bench      benchmarks (not part of `make test`)
#   make deps       install the Debian packages the project needs (only those missing)
#   make format     clang-format every C file; `make format-check` only checks
#   V=1             show the commands

CC       ?= cc
CLANG    ?= clang
BUILD    ?= build
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)

PKGS     := libev msgpack yaml-0.1 openssl
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wmissing-prototypes
CSTD     := -std=c11 -D_GNU_SOURCE
OPT      ?= -O2 -g
CFLAGS   ?=
ALL_CFLAGS := $(CSTD) $(OPT) $(WARN) -pthread -Ispoa $(CFLAGS)
# Link-time optimisation of the agent and the benchmarks: the SPOP decoder's
# and the shaper's small functions are inlined across files (5 % fewer
# instructions per mirrored copy, bench/instructions.sh). Only the release
# objects use it (not the sanitized ones); LTO= turns it off. With clang
# (build-clang, or CC=clang) it is off: the system linker lacks its plugin.
LTO      ?= $(if $(findstring clang,$(CC)),,-flto=auto)
LTO_AR   := $(if $(LTO),gcc-ar,ar)
LDLIBS   := -lev -lhttp_parser -lnghttp2 -lyaml -lmsgpackc -lssl -lcrypto -ljansson -lxxhash -lpthread -lm

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# spoa/<layer>/*.c; the layers and what each may include: spoa/README.md,
# checked by tests/layering/check_layers.py (make layering).
LAYERS    := core spop config http capture compare mirror replay admin app
MAIN_SRC  := spoa/app/main.c
LIB_SRCS  := $(filter-out $(MAIN_SRC),$(sort $(foreach l,$(LAYERS),$(wildcard spoa/$(l)/*.c))))
LIB_HDRS  := $(sort $(foreach l,$(LAYERS),$(wildcard spoa/$(l)/*.h)))
LIB_OBJS  := $(LIB_SRCS:spoa/%.c=$(BUILD)/obj/%.o)
ASAN_OBJS := $(LIB_SRCS:spoa/%.c=$(BUILD)/asan/%.o)
UNIT_CHECKS := $(sort $(wildcard tests/unit/check_*.c))
UNIT_SRCS := $(UNIT_CHECKS) tests/unit/test_util.c
UNIT_SUITES := $(filter-out main,$(UNIT_CHECKS:tests/unit/check_%.c=%))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_TARGETS ?= $(notdir $(FUZZ_BINS))
FUZZ_RUN  := $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
INTEGRATION_SRCS := $(sort $(wildcard tests/integration/*.c))
INTEGRATION_BINS := $(INTEGRATION_SRCS:tests/integration/%.c=$(BUILD)/itest/%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 15

.PHONY: all build-clang deps test unit layering haproxy3 fuzz fuzz-smoke fuzz-build integration bench demo format format-check clean

all: $(BUILD)/spoa-shadow

deps:
	$(Q)sh tests/deps.sh

# Objects mirror the layer folders; -MMD records each one's headers.
$(BUILD)/obj/%.o: spoa/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(LTO) -MMD -MP -c -o $@ $<

$(BUILD)/asan/%.o: spoa/%.c
	@mkdir -p $(@D)
	@echo "  CC-SAN  $<"
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_OBJS:.o=.d) $(ASAN_OBJS:.o=.d)

$(BUILD)/libspoa.a: $(LIB_OBJS)
	$(Q)rm -f $@ && $(LTO_AR) rcs $@ $^

$(BUILD)/libspoa-asan.a: $(ASAN_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/spoa-shadow: $(MAIN_SRC) $(LIB_HDRS) $(BUILD)/libspoa.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LTO) -o $@ $< $(BUILD)/libspoa.a $(LDLIBS)

$(BUILD)/unit $(BUILD)/fuzz $(BUILD)/bench:
	$(Q)mkdir -p $@

# The unit-test runner: one Check suite per tests/unit/check_<name>.c, which
# exports `Suite *<name>_suite(void)`; the list is generated from the file names.
$(BUILD)/unit/suites.inc: $(UNIT_SRCS) | $(BUILD)/unit
	$(Q)printf '%s\n' $(foreach s,$(UNIT_SUITES),'SUITE($(s))') > $@.tmp && mv $@.tmp $@

$(BUILD)/unit/check_spoa: $(UNIT_SRCS) $(wildcard tests/unit/*.h) $(LIB_HDRS) $(BUILD)/unit/suites.inc $(BUILD)/libspoa-asan.a
	@echo "  LD-SAN  $@"
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) -I$(BUILD)/unit -Itests/unit -o $@ $(UNIT_SRCS) \
		$(BUILD)/libspoa-asan.a $$(pkg-config --libs check) $(LDLIBS)

# Check's per-test timeout (4 s) guards against hangs; a machine loaded by
# other work slows the sanitized tests down several times, so it is scaled.
unit: $(BUILD)/unit/check_spoa
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		CK_TIMEOUT_MULTIPLIER=$${CK_TIMEOUT_MULTIPLIER:-5} $(BUILD)/unit/check_spoa

$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(LIB_SRCS) $(LIB_HDRS) | $(BUILD)/fuzz
	@echo "  FUZZ    $@"
	$(Q)$(CLANG) $(CSTD) -O1 -g $(WARN) -Ispoa $(FUZZ_FLAGS) -o $@ $< $(LIB_SRCS) $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

# Runs every fuzz target from its seed corpus (tests/fuzz/corpus/<target>) for
# FUZZ_SECONDS; new inputs go to $(BUILD)/fuzz/corpus-<target>, not to the repo.
fuzz: $(FUZZ_RUN)
	$(Q)for f in $(FUZZ_RUN); do t=$$(basename $$f); mkdir -p $(BUILD)/fuzz/corpus-$$t; \
		echo "  RUN     $$t ($(FUZZ_SECONDS)s)"; dict=; \
		case $$t in fuzz_spop_*) test -f tests/fuzz/spop.dict && dict=-dict=tests/fuzz/spop.dict;; \
			fuzz_request_shape|fuzz_admin_request) dict=-dict=tests/fuzz/http.dict;; \
			fuzz_config_yaml) dict=-dict=tests/fuzz/config.dict;; esac; \
		$$f $$dict -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(BUILD)/fuzz/corpus-$$t tests/fuzz/corpus/$$t 2>$(BUILD)/fuzz/$$t.log \
			|| { tail -50 $(BUILD)/fuzz/$$t.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units' $(BUILD)/fuzz/$$t.log; done

fuzz-smoke:
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

# Every integration script stops the processes it starts; each prints its
# checks and a closing "N passed, M failed" line, and exits 0, or 77 when it
# does not apply to that HAProxy (reported as skipped, not failed). They run against Debian's
# HAProxy 2.6, then those that start HAProxy run again against HAProxy 3.4
# (the 3.x SPOE engine), built from HAPROXY3_SRC. Without that tarball the
# 3.4 pass is skipped with a loud line, unless REQUIRE_HAPROXY3=1 (CI), which
# makes its absence an error.
INTEGRATION_SCRIPTS := tests/integration/run.sh $(sort $(wildcard tests/integration/test_*.sh))
HAPROXY_SCRIPTS := $(shell grep -l 'start_haproxy\|HAPROXY' $(INTEGRATION_SCRIPTS) tests/k8s/run.sh 2>/dev/null \
                     | sed 's|tests/k8s/run.sh|tests/integration/test_k8s.sh|' | sort -u)
HAPROXY3_SRC ?= ../shared/haproxy/haproxy-3.4.0.tar.gz
HAPROXY3     := $(BUILD)/haproxy3/haproxy
REQUIRE_HAPROXY3 ?= 0

integration: $(BUILD)/spoa-shadow $(INTEGRATION_BINS)
	$(Q)rc=0; results=; h2=$$($${HAPROXY:-haproxy} -v 2>/dev/null | head -1 | cut -d' ' -f3); \
	run() { echo "== $$1 (HAProxy $$2)"; HAPROXY=$$3 bash $$1; case $$? in 0) r=passed;; 77) r=skipped;; \
		*) r=FAILED; rc=1;; esac; results="$$results$$(printf '\nresult: %s on HAProxy %s: %s' $$1 $$2 $$r)"; }; \
	for t in $(INTEGRATION_SCRIPTS); do run $$t "$$h2" "$${HAPROXY:-haproxy}"; done; \
	if [ -f "$(HAPROXY3_SRC)" ]; then \
		$(MAKE) --no-print-directory $(HAPROXY3) || exit 1; \
		h3=$$($(HAPROXY3) -v | head -1 | cut -d' ' -f3); \
		for t in $(HAPROXY_SCRIPTS); do run $$t "$$h3" $(abspath $(HAPROXY3)); done; \
	elif [ "$(REQUIRE_HAPROXY3)" = 1 ]; then \
		echo "not ok - HAProxy 3.4 source $(HAPROXY3_SRC) not found: the 3.x pass cannot run"; rc=1; \
	else \
		echo "################################################################"; \
		echo "# SKIPPED: the HAProxy 3.4 pass ($(HAPROXY3_SRC) not found;"; \
		echo "# set HAPROXY3_SRC=/path/to/haproxy-3.4.0.tar.gz). Only 2.6 was tested."; \
		echo "################################################################"; \
	fi; echo "$$results"; \
	echo "integration: $$(echo "$$results" | grep -c ': passed$$') passed, $$(echo "$$results" | grep -c ': FAILED$$') failed, $$(echo "$$results" | grep -c ': skipped$$') skipped"; \
	exit $$rc

# HAProxy 3.4 from the unmodified source tarball, built once and kept under
# $(BUILD)/haproxy3 while present (about 4 minutes on 2 cores).
$(HAPROXY3):
	@echo "  HAPROXY $(HAPROXY3_SRC) -> $@"
	$(Q)test -f "$(HAPROXY3_SRC)" || { echo "haproxy3: $(HAPROXY3_SRC) not found (set HAPROXY3_SRC=)"; exit 1; }
	$(Q)rm -rf $(BUILD)/haproxy3/src && mkdir -p $(BUILD)/haproxy3/src
	$(Q)tar -xzf "$(HAPROXY3_SRC)" -C $(BUILD)/haproxy3/src --strip-components=1
	$(Q)MAKEFLAGS= $(MAKE) -C $(BUILD)/haproxy3/src -j2 TARGET=linux-glibc USE_OPENSSL= USE_LUA= \
		USE_PCRE2= USE_PROMEX=1 >$(BUILD)/haproxy3/build.log 2>&1 \
		|| { tail -30 $(BUILD)/haproxy3/build.log; exit 1; }
	$(Q)cp $(BUILD)/haproxy3/src/haproxy $@ && $@ -v | head -1

haproxy3: $(HAPROXY3)

# Integration test programs: built with the sanitizers, linked to the library.
$(BUILD)/itest/%: tests/integration/%.c $(wildcard tests/integration/*.h) $(LIB_HDRS) $(BUILD)/libspoa-asan.a
	@mkdir -p $(BUILD)/itest
	@echo "  LD-SAN  $@"
	$(Q)$(CC) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) -o $@ $< $(BUILD)/libspoa-asan.a $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(LIB_HDRS) $(BUILD)/libspoa.a | $(BUILD)/bench
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LTO) -o $@ $< $(BUILD)/libspoa.a $(LDLIBS)

# SPOP side alone (bench/run.sh, under a minute), then end to end with wrk,
# HAProxy and nginx (bench/run_e2e.sh, about 12 minutes a version; QUICK=1 for
# ~3) on Debian's HAProxy and on HAProxy 3.4 (built from HAPROXY3_SRC; skipped
# with a loud line when the tarball is missing), side by side in
# bench/results/e2e-versions.md; then capture and replay, TLS's cost per copy
# (bench/tls_cost.sh, about 2 minutes), the CPU cost of a comparison
# (compare_bench, seconds), the agent's instructions per copy under callgrind
# (bench/instructions.sh, about a minute) and 256 KiB bodies in slices
# through HAProxy 3.4 (under 3 minutes).
bench: deps $(BUILD)/spoa-shadow $(BENCH_BINS)
	$(Q)sh bench/run.sh
	$(Q)v=$$($${HAPROXY:-haproxy} -v | head -1 | cut -d' ' -f3 | cut -d. -f1,2); \
		E2E_NAME=e2e-haproxy$$v HAPROXY=$${HAPROXY:-haproxy} bash bench/run_e2e.sh || exit 1; \
		if [ -f "$(HAPROXY3_SRC)" ]; then \
			$(MAKE) --no-print-directory $(HAPROXY3) || exit 1; \
			v3=$$($(HAPROXY3) -v | head -1 | cut -d' ' -f3 | cut -d. -f1,2); \
			E2E_NAME=e2e-haproxy$$v3 HAPROXY=$(abspath $(HAPROXY3)) bash bench/run_e2e.sh || exit 1; \
			python3 bench/e2e/versions_md.py bench/results/e2e-haproxy$$v-results.json \
				bench/results/e2e-haproxy$$v3-results.json >bench/results/e2e-versions.md || exit 1; \
			cat bench/results/e2e-versions.md; \
		else \
			echo "################################################################"; \
			echo "# SKIPPED: the HAProxy 3.4 benchmark ($(HAPROXY3_SRC) not found;"; \
			echo "# set HAPROXY3_SRC=/path/to/haproxy-3.4.0.tar.gz)."; \
			echo "################################################################"; \
		fi
	$(Q)bash bench/capture_bench.sh
	$(Q)bash bench/tls_cost.sh
	$(Q)$(BUILD)/bench/compare_bench
	$(Q)bash bench/instructions.sh
	$(Q)if [ -f "$(HAPROXY3_SRC)" ]; then $(MAKE) --no-print-directory $(HAPROXY3) && \
		HAPROXY=$(abspath $(HAPROXY3)) bash bench/large_body_bench.sh; \
	else echo "bench: large bodies skipped ($(HAPROXY3_SRC) not found: they need HAProxy 3.4)"; fi

# The same sources must build warning-free with clang as well as gcc.
build-clang:
	$(Q)$(MAKE) --no-print-directory CC=clang LTO= BUILD=$(BUILD)/clang $(BUILD)/clang/spoa-shadow

# The layers of spoa/ and what each may include (spoa/README.md): the check,
# then its own test on a tree with deliberate violations.
layering:
	$(Q)python3 tests/layering/check_layers.py spoa
	$(Q)bash tests/layering/test_check_layers.sh

test: deps
	$(Q)$(MAKE) --no-print-directory format-check layering all build-clang unit
	$(Q)$(MAKE) --no-print-directory fuzz-smoke
	$(Q)$(MAKE) --no-print-directory integration

demo: deps $(BUILD)/spoa-shadow
	$(Q)sh tests/demo.sh

C_FILES = $(LIB_SRCS) $(MAIN_SRC) $(LIB_HDRS) $(wildcard tests/unit/*.[ch] tests/fuzz/*.[ch] tests/integration/*.[ch] bench/*.[ch] bench/e2e/*.[ch])

format:
	$(Q)clang-format -i $(C_FILES)

format-check:
	$(Q)clang-format --dry-run -Werror $(C_FILES)

clean:
	$(Q)rm -rf $(BUILD)

# ---- Container image and Kubernetes manifests ----
#   make image          OCI archive $(BUILD)/spoa-shadow-image.tar, built from
#                       scratch with buildah (root, vfs storage in $(BUILD)/buildah)
#   make k8s-validate   render k8s/ with kubectl kustomize and validate it offline
IMAGE_TAR := $(BUILD)/spoa-shadow-image.tar

.PHONY: image k8s-validate

image: $(IMAGE_TAR)

$(IMAGE_TAR): $(BUILD)/spoa-shadow k8s/image/spoa-shadow.yaml k8s/image/build-image.sh
	@echo "  IMAGE   $@"
	$(Q)BUILDAH_STORE=$(abspath $(BUILD))/buildah bash k8s/image/build-image.sh $(BUILD)/spoa-shadow \
		k8s/image/spoa-shadow.yaml $@

k8s-validate: $(BUILD)/spoa-shadow
	$(Q)bash tests/k8s/run.sh
