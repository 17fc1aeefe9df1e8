#!/usr/bin/env bash
# Several sse-server instances sharing one Redis Stream, against a real
# redis-server:
#
#   tests/redis/run.sh
#
# check_redis.py starts its own redis-server (a free loopback port, its
# config on the command line, its data in a fresh temporary folder,
# append-only persistence) and the sse-server instances (SSE_SERVER_BIN,
# default ./sse-server), runs the checks and stops every process it started.
# A system Redis service is never used. When redis-server is missing and we
# are root, it is installed with apt-get; otherwise we say what to install.
# Ends with one line "N passed, M failed"; exits non-zero on any failure
# (then the logs are kept in build/logs/redis-test/).
set -u
cd "$(dirname "$0")/../.." || exit 1
mkdir -p build/logs
# shellcheck source=tests/lib/install.sh
. tests/lib/install.sh

server_bin=${SSE_SERVER_BIN:-./sse-server}
apt_log=build/logs/redis-apt.log

# give_up [MESSAGE]: the verdict of a run that could not start.
give_up() {
    [ $# -eq 0 ] || echo "$1"
    echo "0 passed, 1 failed"
    exit 1
}

redis_bin=$(command -v redis-server || true)
if [ -z "$redis_bin" ]; then
    need_packages --no-install-recommends tests/redis "$apt_log" redis-server || give_up
    # The package may start its own service; it is not ours to stop,
    # and the checks never talk to it (they use their own port).
    redis_bin=$(command -v redis-server) || give_up "redis-server is still missing after apt-get"
fi
command -v python3 >/dev/null || give_up "tests/redis needs python3"
if [ ! -x "$server_bin" ]; then
    [ "$server_bin" = ./sse-server ] && make -s sse-server >build/logs/redis-build.log 2>&1
    [ -x "$server_bin" ] || give_up "no server binary at $server_bin (make, or set SSE_SERVER_BIN)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sse-redis-test.XXXXXX") || give_up "mktemp failed"
checker=
keep_logs=0
# shellcheck disable=SC2317  # called through the trap
cleanup() {
    # check_redis.py stops its own children on SIGTERM; we stop it by pid.
    if [ -n "$checker" ] && kill -0 "$checker" 2>/dev/null; then
        kill -TERM "$checker" 2>/dev/null
        wait "$checker" 2>/dev/null
    fi
    if [ "$keep_logs" = 1 ]; then
        rm -rf build/logs/redis-test
        mkdir -p build/logs/redis-test
        cp "$work"/*.log build/logs/redis-test/ 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python3 tests/redis/check_redis.py --redis-server "$redis_bin" --server-bin "$server_bin" --tmp "$work" &
checker=$!
wait "$checker"
status=$?
checker=
if [ "$status" -ne 0 ]; then
    keep_logs=1
    echo "logs: build/logs/redis-test/"
fi
exit "$status"
