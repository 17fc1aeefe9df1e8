#!/usr/bin/env bash
# Several sse-server instances sharing one Redis Stream, against a real
# redis-server started here (its own port, config and data folder, with
# append-only persistence), stopped at the end:
#   tests/redis/run.sh
# Installs redis-server with apt-get when run as root and it is missing (a
# system Redis service is never used). The checks are in check_redis.py;
# it ends with "N passed, M failed" and exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
mkdir -p build/logs
server_bin=${SSE_SERVER_BIN:-./sse-server}
redis_bin=$(command -v redis-server || echo /usr/bin/redis-server)

if [ ! -x "$redis_bin" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing redis-server"
        install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server >>build/logs/redis-apt.log 2>&1; }
        install || { apt-get update -q >>build/logs/redis-apt.log 2>&1; install; } \
            || { echo "apt-get install redis-server failed, see build/logs/redis-apt.log"; echo "0 passed, 1 failed"; exit 1; }
        redis_bin=/usr/bin/redis-server
    else
        echo "tests/redis needs redis-server (Debian: sudo apt-get install redis-server)"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi
[ -x "$server_bin" ] || make -s sse-server

work=$(mktemp -d /tmp/sse-redis-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 tests/redis/check_redis.py "$server_bin" "$redis_bin" "$work"
