#!/usr/bin/env bash
# The benchmark smoke test that `make test` runs: every scenario of
# bench/run.sh at --quick sizes against sse-server. Timings are recorded,
# never judged; what must hold is that every tool ran and that no event was
# missing, duplicated or out of order. Ends with "N passed, M failed".
set -u
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=tests/lib/install.sh
. tests/lib/install.sh
results=build/bench-smoke.jsonl
rm -f "$results"
mkdir -p build/logs
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
# The wrk scenarios need Debian's wrk; installed here when run as root.
# Without it the other scenarios still run and the wrk checks below fail.
command -v wrk >/dev/null || need_packages bench/smoke.sh build/logs/apt-wrk.log wrk
bench/run.sh --quick --results "$results" floor idle fanout burst multi churn churn-token private publish http
check "bench/run.sh --quick exits 0" test $? -eq 0
records=$(grep -c '"scenario"' "$results" 2>/dev/null || echo 0)
check "every scenario recorded results ($records records)" test "$records" -ge 10
lossy=$(grep -E '"(missing|duplicated|out_of_order)":[1-9]' "$results" | wc -l)
check "no event missing, duplicated or out of order" test "$lossy" -eq 0
# The private-topic scenarios: every token was accepted (a refused one
# fails its cycle or stream), something was published, and no event
# reached a pattern that matches nothing. (Loss is checked above: private
# records "missing" as published minus delivered.)
line=$(grep -c '"scenario":"churn-token"' "$results")
bad=$(grep '"scenario":"churn-token"' "$results" | grep -cE '"failed":[1-9]|"cycles":0[,}]')
check "churn-token: $line runs, every cycle's token accepted" test "$line" -ge 2 -a "$bad" -eq 0
line=$(grep -c '"scenario":"private"' "$results")
bad=$(grep '"scenario":"private"' "$results" |
      grep -cE '"failed_streams":[1-9]|"published":0[,}]|"pattern_events":[1-9]|"streams_open":0[,}]')
check "private: $line runs, every stream open, events published, none to the patterns" \
    test "$line" -ge 2 -a "$bad" -eq 0
# Each wrk script got answers, all of them 2xx and no socket error.
for script in publish publish-pipelined static; do
    line=$(grep "\"scenario\":\"http-$script\"" "$results" | tail -1)
    check "wrk $script.lua: answers, no error" \
        bash -c '[[ "$1" =~ \"requests\":([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] &&
                 [[ "$1" == *\"errors\":\"\"* ]]' _ "$line"
done
# The scale-out scenario in small: a few hundred streams over two
# --reuse-port --redis instances and two clients, single events and a
# reconnect storm. No timing is judged: every stream opened, every one came
# back after the restart, and no event was missing or duplicated.
command -v redis-server >/dev/null ||
    need_packages --no-install-recommends bench/smoke.sh build/logs/apt-redis.log redis-server
scale=build/bench-smoke-scale-out.jsonl
rm -f "$scale"
if command -v redis-server >/dev/null; then
    bench/run.sh scale-out --streams 300 --instances 2 --clients 2 --events 3 --retry-ms 500 --results "$scale"
    check "scale-out: exits 0" test $? -eq 0
else
    check "scale-out: redis-server is installed" false
fi
line=$(tail -1 "$scale" 2>/dev/null)
check "scale-out: 300 of 300 streams open, none failed" \
    bash -c '[[ "$1" == *\"open\":300,\"failed\":0,* ]]' _ "$line"
check "scale-out: no event missing, duplicated or out of order, storm included" \
    bash -c '[[ "$1" == *\"missing\":0,\"duplicated\":0,\"out_of_order\":0,* && "$1" == *\"deliveries\":900,* ]]' _ "$line"
check "scale-out: every stream of the restarted instance came back" \
    bash -c '[[ "$1" =~ \"storm_streams\":([0-9]+),\"storm_back\":([0-9]+) ]] &&
             [ "${BASH_REMATCH[1]}" -gt 0 ] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]' _ "$line"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
