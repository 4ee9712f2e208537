# The user's entry points. Each target installs missing Debian packages first, so on a fresh
# Debian bookworm machine `make run` and `make test` need nothing else.

BUILD_DIR     ?= build
SANITIZE_DIR  ?= build-sanitize
TSAN_DIR      ?= build-tsan
FUZZ_DIR      ?= build-fuzz
CONFIG        ?= examples/quickstart.yaml
JOBS          ?= $(shell nproc)
FUZZ_SECONDS  ?= 600
CMAKE_FLAGS   ?=

.PHONY: all deps build test run sanitize tsan fuzz bench format clean

all: build

deps:
	@scripts/install-deps.sh build

build: deps
	@test -f $(BUILD_DIR)/build.ninja || \
		cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

test:
	@scripts/install-deps.sh build test
	@$(MAKE) --no-print-directory build
	scripts/run-tests.sh $(BUILD_DIR)

# Builds only the daemon (with its admin page, not the test suites), validates the quickstart
# (showing its next fire times), then runs the daemon on it until Ctrl-C; it logs the page's URL.
run: deps
	@test -f $(BUILD_DIR)/build.ninja || \
		cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS) --target sluice
	$(BUILD_DIR)/sluice validate -c $(CONFIG) --next 2
	@echo "admin page: http://$$(sed -n 's/^ *listen: *"\{0,1\}\([^" ]*\).*/\1/p' $(CONFIG) | head -1)/"
	$(BUILD_DIR)/sluice serve -c $(CONFIG)

sanitize:
	@scripts/install-deps.sh build test
	cmake -S . -B $(SANITIZE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan.supp \
		scripts/run-tests.sh $(SANITIZE_DIR) -E "peak RSS"

# The suites under ThreadSanitizer: a data race fails the test that hit it. Suppressions are for
# third-party code only, each explained in scripts/tsan.supp.
tsan:
	@scripts/install-deps.sh build test
	cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TSAN=ON $(CMAKE_FLAGS)
	cmake --build $(TSAN_DIR) -j $(JOBS)
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/scripts/tsan.supp" \
		scripts/run-tests.sh $(TSAN_DIR) -E "peak RSS"

fuzz:
	@scripts/install-deps.sh build fuzz
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DSLUICE_FUZZ=ON -DSLUICE_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build $(FUZZ_DIR) -j $(JOBS)
	scripts/run-fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

bench:
	@scripts/install-deps.sh build test bench
	@$(MAKE) --no-print-directory build
	scripts/run-bench.sh $(BUILD_DIR)

format:
	@scripts/install-deps.sh format
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(TSAN_DIR) $(FUZZ_DIR)
