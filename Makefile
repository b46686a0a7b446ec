# Entry points. Every target installs missing dependencies through scripts/bootstrap first.
#   make test   build and run the whole test suite (what CI runs)
#   make serve  build and start the server on 127.0.0.1:11434 (models from SOV_MODELS)
#   make run    build and generate from the bundled test model
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
SOV_TESTDATA ?= $(abspath ../shared/testdata)
export SOV_TESTDATA

.PHONY: all bootstrap build test sanitize-build test-asan test-tsan fuzz run serve clean format

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The sanitizer tree, built once with clang for two jobs: the whole test suite under
# AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer), and the libFuzzer targets.
sanitize-build: bootstrap
	@[ ! -f $(ASAN_BUILD)/CMakeCache.txt ] || grep -qs 'CMAKE_CXX_COMPILER:.*clang' $(ASAN_BUILD)/CMakeCache.txt || rm -rf $(ASAN_BUILD)
	@CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSOV_SANITIZE=ON -DSOV_FUZZ=ON -DSOV_BUILD_BENCH=OFF >/dev/null

test-asan: sanitize-build
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# Replays every fuzz corpus, then fuzzes each target for FUZZ_SECONDS.
fuzz: sanitize-build
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target fuzzers
	@scripts/run_fuzzers $(ASAN_BUILD) $(FUZZ_SECONDS)

# The tests of concurrent code (scheduler, server, thread pool, ...) under ThreadSanitizer.
test-tsan: bootstrap
	@cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOV_TSAN=ON -DSOV_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target threads_tests
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) -L threads

serve: build
	$(BUILD)/src/cli/sov serve

run: build
	$(BUILD)/src/cli/sov generate -m $(SOV_TESTDATA)/models/stories260K.gguf -p "Once upon a time" -n 64 --temp 0

format:
	@find src include tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
