#!/usr/bin/env bash
# The chaos test: "nothing lost, measured".
#
#   tests/chaos/run.sh [--full] [sse-chaos options...]
#
# Starts the server (SSE_SERVER_BIN, default ./sse-server; optionally under
# SSE_SERVER_WRAPPER, e.g. "valgrind --leak-check=full --error-exitcode=9")
# on an ephemeral loopback port, with streams that age out after 3 s, a small
# --max-buffer so paused readers are dropped, and a history larger than any
# topic's share of the events so no resume may need a reset. Then runs
# build/sse-chaos against it (SSE_CHAOS_BIN to override) and checks:
#   1. the chaos verdict is "ok" (every subscriber got every event of its
#      topics exactly once and in order, no reset; a first stream opened
#      with ?last=3 got exactly the newest 3 of each topic's prelude; the
#      publisher, which cuts its own connection now and then and sends
#      some publishes twice, each with an Idempotency-Key, got one id per
#      key, and the server published each event once);
#   2. the server is still alive and exits 0 on SIGTERM.
# Small by default (3,000 events, 40 subscribers, well under a minute);
# --full is 10,000 events and 200 subscribers. Options after that go to
# sse-chaos and override the defaults (e.g. --slow 0, --seed 7).
# Ends with one line "N passed, M failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.."
mkdir -p build/logs

server_bin=${SSE_SERVER_BIN:-./sse-server}
chaos_bin=${SSE_CHAOS_BIN:-build/sse-chaos}
read -r -a wrapper <<<"${SSE_SERVER_WRAPPER:-}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

size=small
if [ "${1:-}" = "--full" ]; then size=full; shift; fi
if [ "$size" = full ]; then
    chaos_args=(--events 10000 --topics 4 --subscribers 200 --slow 10 --publish-rate 1000
                --disconnect-prob 0.0007 --deadline 120 --last 3 --resend-prob 0.05 --publisher-cut-prob 0.005)
else
    chaos_args=(--events 3000 --topics 4 --subscribers 40 --slow 4 --publish-rate 750
                --disconnect-prob 0.0015 --deadline 45 --last 3 --resend-prob 0.05 --publisher-cut-prob 0.01)
fi
chaos_args+=("$@")

passed=0
failed=0
check() {  # check NAME CONDITION-STATUS
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1)); echo "   ok: $1"
    else
        failed=$((failed + 1)); echo "   FAILED: $1"
    fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

if [ ! -x "$chaos_bin" ] && ! make -s "$chaos_bin" >build/logs/chaos-build.log 2>&1; then
    tail -20 build/logs/chaos-build.log
    failed=1; finish
fi
if [ ! -x "$server_bin" ]; then
    echo "no server binary at $server_bin (make, or set SSE_SERVER_BIN)"
    failed=1; finish
fi

log=build/logs/chaos-server.log
out=build/logs/chaos-server.out
"${wrapper[@]}" "$server_bin" --port 0 --bind 127.0.0.1 --no-demo \
    --max-stream-age 3 --max-buffer 32K --history 20000 --heartbeat-ms 1000 \
    >"$out" 2>"$log" &
server_pid=$!
# Whatever happens from here on, the server we started does not outlive us.
trap 'kill "$server_pid" 2>/dev/null' EXIT

port=
for _ in $(seq 1 300); do  # up to 30 s: a server under valgrind starts slowly
    port=$(sed -nE 's#^sse-server listening on http://[^ ]*:([0-9]+)$#\1#p' "$out" | head -1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "the server did not start; its output:"; tail -20 "$out" "$log"
    failed=1; finish
fi

echo "== chaos ($size) against $server_bin on port $port: ${chaos_args[*]}"
"$chaos_bin" --port "$port" "${chaos_args[@]}" 2>build/logs/chaos-client.log
chaos_status=$?
tail -15 build/logs/chaos-client.log | sed 's/^/   client: /'
check "every subscriber got every event of its topics exactly once, in order" "$chaos_status"

# The server must have survived the chaos and still stop cleanly (under
# ASan this is also where leaks are reported, as a non-zero status).
alive=1
kill -0 "$server_pid" 2>/dev/null && alive=0
server_status=1
if [ "$alive" -eq 0 ]; then
    kill -TERM "$server_pid"
    for _ in $(seq 1 300); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid"
        echo "   the server did not stop within 30 s of SIGTERM"
    fi
    wait "$server_pid"
    server_status=$?
fi
trap - EXIT
[ "$server_status" -ne 0 ] && tail -40 "$log" | sed 's/^/   server: /'
check "the server survived and exited 0 on SIGTERM (alive: $([ $alive -eq 0 ] && echo yes || echo no), status $server_status)" \
    "$([ "$alive" -eq 0 ] && [ "$server_status" -eq 0 ] && echo 0 || echo 1)"
finish
