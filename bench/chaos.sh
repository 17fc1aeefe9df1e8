#!/usr/bin/env bash
# The full chaos test (10,000 events, 200 subscribers): against ./sse-server,
# then against the AddressSanitizer build if build/asan/sse-server exists.
# Its summary lines are the figures for the closing note of issue #6.
set -u
cd "$(dirname "$0")/.."
status=0
make -s sse-server build/sse-chaos || exit 1
echo "### plain build: ./sse-server"
SSE_SERVER_BIN=./sse-server tests/chaos/run.sh --full "$@" || status=1
if [ -x build/asan/sse-server ]; then
    echo "### AddressSanitizer build: build/asan/sse-server"
    SSE_SERVER_BIN=build/asan/sse-server ASAN_OPTIONS=detect_leaks=1 tests/chaos/run.sh --full "$@" || status=1
fi
exit "$status"
