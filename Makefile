# kiln's two entry points on a fresh Debian 12 machine:
#   make run    install what is missing, build, run a model on the best backend
#   make test   install what is missing, build, run every test (ctest)
# MODEL=path picks the model for `make run`; by default a real model from ../shared/models,
# else a small model kiln writes itself.

BUILD   ?= build
SHARED  ?= $(or $(KILN_SHARED),../shared)
JOBS    ?= $(shell nproc)
CMAKE_FLAGS ?=
MODEL   ?= $(firstword $(wildcard $(SHARED)/models/stories260K.gguf))
KILN    := $(BUILD)/kiln

.PHONY: all deps configure build test run sanitize clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	@cd $(BUILD) && KILN_SHARED=$(abspath $(SHARED)) ctest --output-on-failure -j$(JOBS)

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
	rm -rf $(BUILD) build-asan
