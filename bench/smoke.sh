#!/usr/bin/env bash
# The benchmark smoke test that `make test` runs: every scenario of
# bench/run.sh at --quick sizes against sse-server. Timings are recorded,
# never judged; what must hold is that every tool ran and that no event was
# missing, duplicated or out of order. Ends with "N passed, M failed".
set -u
cd "$(dirname "$0")/.."
results=build/bench-smoke.jsonl
rm -f "$results"
mkdir -p build
passed=0
failed=0
check() {  # check DESCRIPTION COMMAND...
    if "${@:2}"; then
        passed=$((passed + 1)); echo "   ok: $1"
    else
        failed=$((failed + 1)); echo "   FAILED: $1"
    fi
}
make -s bench >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
bench/run.sh --quick --results "$results" floor idle fanout burst multi churn
check "bench/run.sh --quick exits 0" test $? -eq 0
records=$(grep -c '"scenario"' "$results" 2>/dev/null || echo 0)
check "every scenario recorded results ($records records)" test "$records" -ge 6
lossy=$(grep -E '"(missing|duplicated|out_of_order)":[1-9]' "$results" | wc -l)
check "no event missing, duplicated or out of order" test "$lossy" -eq 0
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
