# sse-server build. `make` builds ./sse-server; `make test` builds and runs
# every test (see tests/run.sh); `make clean` removes what was built.

CXX      ?= g++
CXXFLAGS := -std=c++20 -O2 -Wall -Wextra -Werror -MMD -MP
# Tests and the sanitizer build keep symbols and frame pointers for readable reports.
ASANFLAGS := -std=c++20 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -MMD -MP \
             -fsanitize=address,undefined -fno-sanitize-recover=undefined

# src/ has a folder per layer (see tests/layers.sh); includes name the
# folder ("sse/hub.h"), relative to src/.
LIB_SRC  := $(filter-out src/main.cpp,$(wildcard src/*.cpp src/*/*.cpp))
UNIT_SRC := $(wildcard tests/unit/*.cpp)
INTEG_SRC := $(wildcard tests/integration/*.cpp)
SUPPORT_SRC := $(wildcard tests/support/*.cpp)
# Integration tests mint the tokens they send with the server's own pure
# token code (tests/browser and tests/auth use real JWT libraries).
AUTH_SRC := $(wildcard src/auth/*.cpp)

# Object lists for one build flavour: $(call objs,DIR,SOURCES)
objs = $(patsubst %.cpp,$(1)/%.o,$(2))

.PHONY: all test test-binaries bench fuzz clean
all: sse-server

sse-server: $(call objs,build/rel,src/main.cpp $(LIB_SRC))
	$(CXX) $(CXXFLAGS) -o $@ $^

build/rel/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -Isrc -c -o $@ $<

build/asan/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(ASANFLAGS) -Isrc -c -o $@ $<

build/test/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -g -Isrc -c -o $@ $<

# Test binaries: unit tests link the server's code (not main); integration
# tests only talk to a running ./sse-server over TCP.
build/unit-tests: $(call objs,build/test,$(UNIT_SRC) $(LIB_SRC))
	$(CXX) $(CXXFLAGS) -o $@ $^
build/integration-tests: $(call objs,build/test,$(INTEG_SRC) $(SUPPORT_SRC) $(AUTH_SRC))
	$(CXX) $(CXXFLAGS) -o $@ $^
build/asan/sse-server: $(call objs,build/asan,src/main.cpp $(LIB_SRC))
	$(CXX) $(ASANFLAGS) -o $@ $^
build/asan/unit-tests: $(call objs,build/asan,$(UNIT_SRC) $(LIB_SRC))
	$(CXX) $(ASANFLAGS) -o $@ $^

test-binaries: sse-server build/unit-tests build/integration-tests \
               build/asan/sse-server build/asan/unit-tests build/sse-chaos

test:
	@tests/run.sh

# The load generator: its sources are in bench/loadgen/, built with the same
# rules as the server; the binary is bench/sse-load, where the scripts call it.
# It mints the tokens of private topics with the server's pure token code.
LOADGEN_SRC := $(wildcard bench/loadgen/*.cpp)
bench: bench/sse-load sse-server
bench/sse-load: $(call objs,build/rel,$(LOADGEN_SRC) $(AUTH_SRC))
	$(CXX) $(CXXFLAGS) -o $@ $^

# The chaos test client (tests/chaos/run.sh): one self-contained C++ file.
build/sse-chaos: tests/chaos/sse-chaos.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -o $@ $<

# Fuzzing (tests/fuzz/run.sh runs the targets): libFuzzer needs clang. The
# server's code is built with coverage hooks but without libFuzzer's main();
# each target links it with the fuzzer driver.
FUZZ_CXX   ?= clang++
FUZZ_FLAGS := -std=c++20 -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
              -Wall -Wextra -Werror -MMD -MP -Isrc
FUZZ_TARGETS := build/fuzz/fuzz-http-parser build/fuzz/fuzz-server build/fuzz/fuzz-event-stream \
                build/fuzz/fuzz-token

fuzz: $(FUZZ_TARGETS)

build/fuzz/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

FUZZ_LIB_OBJ := $(call objs,build/fuzz/obj,$(LIB_SRC))
build/fuzz/fuzz-http-parser: build/fuzz/obj/tests/fuzz/fuzz_http_parser.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^
build/fuzz/fuzz-server: build/fuzz/obj/tests/fuzz/fuzz_server.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^
build/fuzz/fuzz-event-stream: build/fuzz/obj/tests/fuzz/fuzz_event_stream.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^
build/fuzz/fuzz-token: build/fuzz/obj/tests/fuzz/fuzz_token.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^

clean:
	rm -rf build sse-server bench/sse-load

-include $(shell find build -name '*.d' 2>/dev/null)
