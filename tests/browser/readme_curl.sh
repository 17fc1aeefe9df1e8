#!/usr/bin/env bash
# Runs every `curl` line of README.md's ```sh blocks exactly as written,
# against a server of our own on localhost:8000. If port 8000 is taken, the
# lines run against a free port instead, with only "localhost:8000" replaced,
# and the script says so. Streams (-N) run for a few seconds under timeout.
# Ends with "readme-curl: N passed, M failed"; exits non-zero on failure.
set -u
cd "$(dirname "$0")/../.."
bin=${SSE_SERVER_BIN:-./sse-server}
out=tests/browser/out
mkdir -p "$out"
kStreamSeconds=3

passed=0
failed=0
ok()   { echo "  ok    $1"; passed=$((passed + 1)); }
fail() { echo "  FAIL  $1${2:+: $2}"; failed=$((failed + 1)); }
finish() {
    echo "readme-curl: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit
}

mapfile -t commands < <(awk '/^```sh$/ { block = 1; next } /^```/ { block = 0 } block && /^curl / { print }' README.md)
[ "${#commands[@]}" -gt 0 ] && ok "README.md has ${#commands[@]} curl examples" || { fail "README.md has curl examples"; finish; }

# --- a server of our own, killed by PID whatever happens ---------------------
port_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || (exec 3<>"/dev/tcp/::1/$1") 2>/dev/null
}
port=8000
if port_taken 8000; then
    echo "  note: port 8000 is taken; running the examples on a free port with localhost:8000 replaced"
    port=0
fi
server_log=$out/readme-server.log
"$bin" --port "$port" --bind 127.0.0.1 >"$server_log" 2>&1 &
server_pid=$!
stream_pid=
cleanup() {
    [ -n "$stream_pid" ] && kill "$stream_pid" 2>/dev/null
    kill "$server_pid" 2>/dev/null
    wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in $(seq 100); do
    grep -q 'listening on' "$server_log" && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
port=$(sed -nE 's/.*listening on http:\/\/[^ ]*:([0-9]+).*/\1/p' "$server_log" | head -1)
[ -n "$port" ] || { fail "sse-server starts" "$(cat "$server_log")"; finish; }

# --- the examples, in README order -------------------------------------------
# A stream runs in the background while the next lines run, as in a second
# terminal; it is checked when the next stream starts or at the end.
stream_cmd=
stream_out=$out/readme-stream.txt
posted_during_stream=()

check_stream() {
    [ -n "$stream_pid" ] || return
    wait "$stream_pid"
    stream_pid=
    if grep -qE '^(retry|data): ' "$stream_out"; then
        ok "$stream_cmd  (answers a stream)"
    else
        fail "$stream_cmd  (answers a stream)" "$(head -c 400 "$stream_out")"
    fi
    for data in "${posted_during_stream[@]}"; do
        if grep -qxF "data: $data" "$stream_out"; then
            ok "the stream received the event published meanwhile: data: $data"
        else
            fail "the stream received the event published meanwhile: data: $data" "$(head -c 400 "$stream_out")"
        fi
    done
    posted_during_stream=()
}

for command in "${commands[@]}"; do
    run=${command//localhost:8000/localhost:$port}
    if [[ $command == *" -N "* ]]; then
        check_stream
        stream_cmd=$command
        timeout "$kStreamSeconds" bash -c "$run" >"$stream_out" 2>"$out/readme-curl.err" &
        stream_pid=$!
        sleep 1  # the subscriber is connected before anything is published
        continue
    fi
    # curl's progress meter goes to stderr; the answer is stdout.
    answer=$(timeout 10 bash -c "$run" 2>"$out/readme-curl.err")
    status=$?
    if [[ $command == *"-X POST"* ]]; then
        expected='"id":"[0-9]+-[0-9]+"'
        data=$(sed -nE "s/.*--data '([^']*)'.*/\1/p" <<<"$command")
        [ -n "$stream_pid" ] && [ -n "$data" ] && posted_during_stream+=("$data")
    else
        expected='"ended_streams":[0-9]+'
    fi
    if [ "$status" -eq 0 ] && grep -qE "$expected" <<<"$answer"; then
        ok "$command  -> $answer"
    else
        fail "$command" "status $status, answer: $answer $(cat "$out/readme-curl.err")"
    fi
done
check_stream
finish
