# kiln's two entry points on a fresh Debian 12 machine:
#   make run    install what is missing, build, run a model on the best backend
#   make test   install what is missing, build, run every test (ctest), then the sanitizer
#               pass (sanitized-tests: fuzz smoke and a test subset under ASan+UBSan)
# make fuzz fuzzes each libFuzzer harness (tests/fuzz) for FUZZ_SECONDS.
# MODEL=path picks the model for `make run`; by default a real model from ../shared/models,
# else a small model kiln writes itself.

BUILD   ?= build
SHARED  ?= $(or $(KILN_SHARED),../shared)
JOBS    ?= $(shell nproc)
CMAKE_FLAGS ?=
MODEL   ?= $(firstword $(wildcard $(SHARED)/models/stories260K.gguf))
KILN    := $(BUILD)/kiln

# The clang build (tests/fuzz/README.md): the libFuzzer harnesses and the test suites below,
# all under ASan+UBSan at -O1, each library built once with coverage for the fuzzers.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
SANITIZED_SUITES ?= gguf tokenizer chat server vulkan
FUZZ_FLAGS   := -O1 -gline-tables-only
FUZZERS      := fuzz_gguf fuzz_spm fuzz_bpe fuzz_chat_template fuzz_openai_request fuzz_http
empty :=
space := $(empty) $(empty)

.PHONY: all deps configure build test run sanitize sanitized-tests fuzz-configure fuzz clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	@cd $(BUILD) && KILN_SHARED=$(abspath $(SHARED)) ctest --output-on-failure -j$(JOBS)
	@$(MAKE) --no-print-directory sanitized-tests

fuzz-configure: deps
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="$(FUZZ_FLAGS)" \
		-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$(FUZZ_FLAGS)" -DKILN_SANITIZE=ON -DKILN_FUZZ=ON >/dev/null

# CI's sanitizer pass: every harness fuzzed briefly (KILN_FUZZ_SECONDS, 15 s) from its seeds,
# and the suites in SANITIZED_SUITES, under ASan+UBSan.
sanitized-tests: fuzz-configure
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target kiln $(FUZZERS) $(addprefix test_,$(SANITIZED_SUITES))
	@cd $(FUZZ_BUILD) && KILN_SHARED=$(abspath $(SHARED)) ctest --output-on-failure -j$(JOBS) \
		-L '^(fuzz|$(subst $(space),|,$(SANITIZED_SUITES)))$$'

# Each harness for FUZZ_SECONDS (two at a time with JOBS=2); findings in FUZZ_BUILD/tests/fuzz/work/*/artifacts.
fuzz: fuzz-configure
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target $(FUZZERS)
	@cd $(FUZZ_BUILD) && FUZZ_SECONDS=$(FUZZ_SECONDS) KILN_SHARED=$(abspath $(SHARED)) \
		ctest --output-on-failure -j$(JOBS) -L '^fuzz$$'

PROMPT  ?= Once upon a time
N       ?= 64

run: build
ifeq ($(MODEL),)
	@$(KILN) synth $(BUILD)/synthetic-tiny.gguf
	@$(KILN) run -m $(BUILD)/synthetic-tiny.gguf -p "$(PROMPT)" -n $(N)
else
	@$(KILN) run -m $(MODEL) -p "$(PROMPT)" -n $(N)
endif

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j$(JOBS)
	@cd build-asan && KILN_SHARED=$(abspath $(SHARED)) ctest --output-on-failure -j$(JOBS)

clean:
	rm -rf $(BUILD) build-asan $(FUZZ_BUILD)
