#!/usr/bin/env bash
# `make test`: installs what the tests need (when run as root), builds every
# test binary, runs each suite and ends with one line "N passed, M failed"
# counting test cases over all suites. Exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.." || exit 1
mkdir -p build/logs
# shellcheck source=tests/lib/install.sh
. tests/lib/install.sh

# --- what the tests need -------------------------------------------------
missing=()
[ -f /usr/include/doctest/doctest.h ] || missing+=(doctest-dev)
need_packages "make test" build/logs/apt.log "${missing[@]}" || { echo "0 passed, 1 failed"; exit 1; }

# --- build ---------------------------------------------------------------
echo "== building"
if ! make -j"$(nproc)" test-binaries >build/logs/build.log 2>&1; then
    tail -40 build/logs/build.log
    echo "build failed, see build/logs/build.log"
    echo "0 passed, 1 failed"
    exit 1
fi

# --- run -----------------------------------------------------------------
total_passed=0
total_failed=0

# run_suite NAME COMMAND...: runs a doctest binary and adds up its test cases.
run_suite() {
    local name=$1; shift
    local log=build/logs/$name.log
    echo "== $name"
    "$@" >"$log" 2>&1
    local status=$?
    local line
    line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
    local passed failed
    passed=$(echo "$line" | sed -nE 's/.*\| *([0-9]+) passed.*/\1/p')
    failed=$(echo "$line" | sed -nE 's/.*\| *([0-9]+) failed.*/\1/p')
    passed=${passed:-0}
    failed=${failed:-0}
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1   # crashed, leaked or exited badly without a doctest verdict
    fi
    if [ "$failed" -ne 0 ]; then
        grep -vE '^\[doctest\] (doctest version|run with)' "$log" | tail -60
    fi
    echo "   $name: $passed passed, $failed failed (log: $log)"
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
}

# run_script NAME COMMAND...: runs a suite that ends with "N passed, M failed".
run_script() {
    local name=$1; shift
    local log=build/logs/$name.log
    echo "== $name"
    "$@" >"$log" 2>&1
    local status=$?
    local line passed failed
    line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    passed=$(echo "$line" | sed -nE 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/p')
    failed=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
    passed=${passed:-0}
    failed=${failed:-0}
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1
    fi
    if [ "$failed" -ne 0 ]; then
        tail -60 "$log"
    fi
    echo "   $name: $passed passed, $failed failed (log: $log)"
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_script layers tests/layers.sh
run_suite unit build/unit-tests
run_suite integration env SSE_SERVER_BIN=./sse-server build/integration-tests
run_suite unit-asan build/asan/unit-tests
run_suite integration-asan env SSE_SERVER_BIN=build/asan/sse-server build/integration-tests
run_script chaos tests/chaos/run.sh
run_script chaos-asan env SSE_SERVER_BIN=build/asan/sse-server tests/chaos/run.sh
run_script browser tests/browser/run.sh
run_script proxy tests/proxy/run.sh
run_script redis tests/redis/run.sh
run_script redis-asan env SSE_SERVER_BIN=build/asan/sse-server tests/redis/run.sh
run_script auth tests/auth/run.sh
run_script auth-asan env SSE_SERVER_BIN=build/asan/sse-server tests/auth/run.sh
run_script fuzz tests/fuzz/run.sh 30
run_script bench-smoke bench/smoke.sh

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
