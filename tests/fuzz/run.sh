#!/usr/bin/env bash
# Fuzzing: tests/fuzz/run.sh [SECONDS]   (default 30 seconds per target)
#
# Installs clang and its libFuzzer runtime when run as root and they are
# missing, builds the targets (`make fuzz`), runs each one for SECONDS on a
# copy of its seed corpus (tests/fuzz/corpus/<target>/), prints what each
# run covered and ends with a line "N passed, M failed", one count per
# target. Exits non-zero if any target crashed, leaked or broke an invariant;
# the input that did it is kept in build/fuzz/artifacts/<target>/.
#
# Environment: FUZZ_JOBS (targets run at once; default: the number of CPUs,
# at most 3), FUZZ_KEEP_CORPUS=1 (merge inputs that found new coverage back
# into the seed corpus, minimized).
set -u
cd "$(dirname "$0")/../.." || exit 1
seconds=${1:-30}
targets=(http-parser server event-stream token)
mkdir -p build/logs
# shellcheck source=tests/lib/install.sh
. tests/lib/install.sh

# give_up [MESSAGE]: the verdict of a run that could not start, every target failed.
give_up() {
    [ $# -eq 0 ] || echo "$1"
    echo "0 passed, ${#targets[@]} failed"
    exit 1
}

# --- what fuzzing needs ---------------------------------------------------
# Links a do-nothing fuzz target: proves clang and its libFuzzer runtime
# (libclang_rt.fuzzer, Debian package libclang-rt-<version>-dev) are there.
can_link_fuzzer() {
    command -v clang++ >/dev/null || return 1
    echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
        clang++ -x c++ - -fsanitize=fuzzer,address,undefined -o build/logs/fuzz-probe >/dev/null 2>&1
    local status=$?
    rm -f build/logs/fuzz-probe
    return $status
}

# The runtime's package is named after clang's major version, so clang is
# installed first and the version read from it.
if ! can_link_fuzzer; then
    missing=()
    command -v clang++ >/dev/null || missing+=(clang)
    need_packages tests/fuzz build/logs/apt-fuzz.log "${missing[@]}" || give_up
    version=$(clang++ --version 2>/dev/null | sed -nE 's/.*clang version ([0-9]+).*/\1/p' | head -1)
    can_link_fuzzer || need_packages tests/fuzz build/logs/apt-fuzz.log "libclang-rt-${version}-dev" || give_up
    can_link_fuzzer || give_up "fuzzing needs clang and libFuzzer (Debian: sudo apt-get install clang libclang-rt-14-dev)"
fi

# --- build ----------------------------------------------------------------
echo "== building the fuzz targets"
if ! make -j"$(nproc)" fuzz >build/logs/fuzz-build.log 2>&1; then
    tail -40 build/logs/fuzz-build.log
    give_up "build failed, see build/logs/fuzz-build.log"
fi

# --- run ------------------------------------------------------------------
work=$(mktemp -d /tmp/sse-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# fuzz_one TARGET: one libFuzzer run on a scratch copy of the seed corpus.
fuzz_one() {
    local target=$1
    local corpus=$work/$target artifacts=build/fuzz/artifacts/$target/
    mkdir -p "$corpus" "$artifacts"
    cp tests/fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null
    # The subshell keeps bash's own "Aborted" notice out of the report.
    (build/fuzz/fuzz-"$target" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -detect_leaks=1 -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts" \
        >build/logs/fuzz-"$target".log 2>&1) 2>/dev/null
    echo $? >"$work/$target.status"
}

jobs=${FUZZ_JOBS:-$(nproc)}
[ "$jobs" -gt 3 ] && jobs=3
echo "== fuzzing ${targets[*]} for ${seconds}s each, $jobs at a time"
running=0
for target in "${targets[@]}"; do
    fuzz_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

# --- report ---------------------------------------------------------------
passed=0
failed=0
for target in "${targets[@]}"; do
    log=build/logs/fuzz-$target.log
    status=$(cat "$work/$target.status" 2>/dev/null || echo 1)
    # The last status line: "#123456 DONE cov: 812 ft: 2745 corp: 301/18Kb ... exec/s: 4115 ..."
    line=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -1)
    execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log")
    rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log")
    cov=$(echo "$line" | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
    ft=$(echo "$line" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')
    corp=$(echo "$line" | sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p')
    summary="${execs:-?} execs (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
    if [ "$status" = 0 ]; then
        echo "   fuzz-$target: ok: $summary"
        passed=$((passed + 1))
    else
        echo "   fuzz-$target: FAILED (exit $status): $summary"
        grep -E 'ERROR: |SUMMARY: |invariant broken|fuzz_server: |runtime error' "$log" | head -10 | sed 's/^/      /'
        input=$(ls -t "build/fuzz/artifacts/$target/" 2>/dev/null | head -1)
        echo "      log: $log; input: ${input:+build/fuzz/artifacts/$target/$input}${input:-none (failed at start-up)}"
        failed=$((failed + 1))
    fi
    if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ] && [ "$status" = 0 ]; then
        build/fuzz/fuzz-"$target" -merge=1 tests/fuzz/corpus/"$target" "$work/$target" \
            >>"$log" 2>&1 && echo "      merged new seeds into tests/fuzz/corpus/$target"
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
