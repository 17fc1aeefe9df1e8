#!/usr/bin/env bash
# What presence costs: stream churn on a topic nobody watches, with and
# without WATCHERS presence streams watching other topics, then churn on a
# watched topic.
#
#   bench/presence.sh [WATCHERS] [SECONDS] [ROUNDS]    (default 1000 5 3)
#
# One sse-server (--no-demo, --presence-interval-ms 1000) on loopback.
# Rounds alternate "none" (no presence stream open) and "watched elsewhere"
# (WATCHERS presence streams on topics w.0 .. w.N-1, held by sse-load sub),
# each `sse-load churn` on topic "churn" for SECONDS, so a change in machine
# load hits both alike. Then one round of churn on w.0 itself (watched by
# one stream): the presence events it causes are coalesced to at most one
# per interval. Server CPU is read from /proc/PID/stat around each round;
# presence events from /metrics. Prints a Markdown table; stops what it
# started, by PID.
set -u
cd "$(dirname "$0")/.." || exit 1
watchers=${1:-1000}
seconds=${2:-5}
rounds=${3:-3}
make -s sse-server bench/sse-load || exit 1

work=$(mktemp -d /tmp/sse-presence-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

./sse-server --port 0 --bind 127.0.0.1 --no-demo --quiet --presence-interval-ms 1000 >"$work/server.out" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 100); do grep -q listening "$work/server.out" && break; sleep 0.05; done
port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/server.out" | head -1)
[ -n "$port" ] || { echo "the server did not start"; exit 1; }
url=http://127.0.0.1:$port
ticks=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
metric() { curl -s "$url/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], 0))' "$1" "$2"; }

# churn_round LABEL TOPIC: one row of the table.
churn_round() {
    local before_cpu before_events json after_cpu after_events cycles
    before_cpu=$(cpu_ticks)
    before_events=$(metric sse_presence_events_total)
    json=$(./bench/sse-load churn --quiet --url "$url/latest/{topic}" --topics "$2" --concurrency 50 \
           --duration "$seconds" || echo '{}')
    after_cpu=$(cpu_ticks)
    after_events=$(metric sse_presence_events_total)
    cycles=$(field "$json" cycles)
    python3 - "$1" "$cycles" "$(field "$json" failed)" "$((after_cpu - before_cpu))" "$ticks" \
              "$((after_events - before_events))" "$seconds" <<'EOF'
import sys
label, cycles, failed, ticks, hz, events, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
cpu = ticks / hz
per = cpu / cycles * 1e6 if cycles else float("nan")
print("| %s | %d | %s | %.0f | %.2f | %.1f | %d |" % (label, cycles, failed, cycles / seconds, cpu, per, events))
EOF
}

echo "| round | churn cycles | failed | cycles/s | server CPU s | server CPU us per cycle | presence events |"
echo "|---|---|---|---|---|---|---|"
holder=""
for round in $(seq "$rounds"); do
    churn_round "$round: none, churn on an unwatched topic" churn
    ./bench/sse-load sub --quiet --url "$url/presence?type={topic}" --topic-template 'w.{n}' \
        --topic-count "$watchers" --streams "$watchers" --duration $((seconds * 3 + 10)) \
        --ready-file "$work/ready" >"$work/watchers.json" 2>&1 &
    holder=$!
    pids+=("$holder")
    for _ in $(seq 200); do [ -s "$work/ready" ] && break; sleep 0.05; done
    [ "$(metric sse_presence_streams)" = "$watchers" ] || { echo "only $(metric sse_presence_streams) watchers open"; exit 1; }
    churn_round "$round: $watchers watching other topics, churn on an unwatched one" churn
    if [ "$round" = "$rounds" ]; then
        churn_round "$round: churn on w.0, watched by one stream" w.0
    fi
    kill "$holder" 2>/dev/null
    wait "$holder" 2>/dev/null
    rm -f "$work/ready"
    for _ in $(seq 100); do [ "$(metric sse_presence_streams)" = 0 ] && break; sleep 0.05; done
done
