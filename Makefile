# sse-server build. `make` builds ./sse-server; `make test` builds and runs
# every test (see tests/run.sh); `make clean` removes what was built.

CXX      ?= g++
CXXFLAGS := -std=c++20 -O2 -Wall -Wextra -Werror -MMD -MP
# Tests and the sanitizer build keep symbols and frame pointers for readable reports.
ASANFLAGS := -std=c++20 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -MMD -MP \
             -fsanitize=address,undefined -fno-sanitize-recover=undefined

LIB_SRC  := $(filter-out src/main.cpp,$(wildcard src/*.cpp))
UNIT_SRC := $(wildcard tests/unit/*.cpp)
INTEG_SRC := $(wildcard tests/integration/*.cpp)
SUPPORT_SRC := $(wildcard tests/support/*.cpp)

# Object lists for one build flavour: $(call objs,DIR,SOURCES)
objs = $(patsubst %.cpp,$(1)/%.o,$(2))

.PHONY: all test test-binaries bench fuzz clean
all: sse-server

sse-server: $(call objs,build/rel,src/main.cpp $(LIB_SRC))
	$(CXX) $(CXXFLAGS) -o $@ $^

build/rel/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

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
build/integration-tests: $(call objs,build/test,$(INTEG_SRC) $(SUPPORT_SRC))
	$(CXX) $(CXXFLAGS) -o $@ $^
build/asan/sse-server: $(call objs,build/asan,src/main.cpp $(LIB_SRC))
	$(CXX) $(ASANFLAGS) -o $@ $^
build/asan/unit-tests: $(call objs,build/asan,$(UNIT_SRC) $(LIB_SRC))
	$(CXX) $(ASANFLAGS) -o $@ $^

test-binaries: sse-server build/unit-tests build/integration-tests \
               build/asan/sse-server build/asan/unit-tests

test:
	@tests/run.sh

# The load generator: one self-contained C++ file, same rules as the server.
bench: bench/sse-load sse-server
bench/sse-load: bench/sse-load.cpp
	$(CXX) $(CXXFLAGS) -o $@ $<

clean:
	rm -rf build sse-server bench/sse-load

-include $(shell find build -name '*.d' 2>/dev/null)
