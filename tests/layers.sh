#!/usr/bin/env bash
# Checks that includes in src/ only point down the layers, from the
# #include lines alone:
#
#   rank 0  loop/     the event loop, timers, sockets, write buffers, log
#   rank 1  http/     parsing and building HTTP messages, URLs, files, CORS
#   rank 1  sse/      the event-stream encoder, ids, history, the hub
#   rank 1  auth/     tokens for private topics: SHA-256, HMAC, base64url,
#                     JSON, HS256 JWTs (includes only the standard library)
#   rank 2  server/   the server, its connections and their streams, routing
#   rank 2  redis/    RESP, the Redis client, the bridge to the hub
#   rank 3  app/      the routes: publish/subscribe, status, /random, demo
#   rank 4  main.cpp, options.cpp
#   options.h is plain configuration: it includes nothing of ours, and
#   every layer may read it.
#
# A file may include files of its own folder and of lower ranks only (two
# folders of one rank are independent). Every include of ours must exist.
#
#   tests/layers.sh [SRC_DIR]   (default src)
#
# Also plants an upward include in a copy of the tree and checks that it is
# caught, so this check can fail; and checks that every src/ file the
# documents name (README.md, docs/, the page in www/) exists, so they follow
# the tree. Ends with "layers: N passed, M failed".
set -u
cd "$(dirname "$0")/.."

rank_of() {  # rank_of PATH-RELATIVE-TO-SRC
    case "$1" in
        options.h) echo -1 ;;
        loop/*) echo 0 ;;
        http/* | sse/* | auth/*) echo 1 ;;
        server/* | redis/*) echo 2 ;;
        app/*) echo 3 ;;
        main.cpp | options.cpp) echo 4 ;;
        *) echo unknown ;;
    esac
}

# check_tree DIR: prints one line per violation; returns how many (capped).
check_tree() {
    local dir=$1 violations=0 file rel own_rank folder target target_rank
    while IFS= read -r file; do
        rel=${file#"$dir"/}
        own_rank=$(rank_of "$rel")
        if [ "$own_rank" = unknown ]; then
            echo "  $rel: not in a known layer folder"
            violations=$((violations + 1))
            continue
        fi
        folder=$(dirname "$rel")
        while IFS= read -r target; do
            if [ ! -f "$dir/$target" ]; then
                echo "  $rel includes \"$target\", which is not a file under src/ (name the folder: \"sse/hub.h\")"
                violations=$((violations + 1))
                continue
            fi
            [ "$(dirname "$target")" = "$folder" ] && [ "$folder" != . ] && continue
            target_rank=$(rank_of "$target")
            if [ "$own_rank" = -1 ] || [ "$target_rank" = unknown ] || [ "$target_rank" -ge "$own_rank" ]; then
                echo "  $rel (rank $own_rank) includes $target (rank $target_rank): includes must point down"
                violations=$((violations + 1))
            fi
        done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$file")
    done < <(find "$dir" -name '*.h' -o -name '*.cpp' | sort)
    return $((violations > 100 ? 100 : violations))
}

passed=0
failed=0

check_tree "${1:-src}"
found=$?
if [ "$found" -eq 0 ]; then
    echo "ok: every include in src/ points to its own folder or a lower layer"
    passed=$((passed + 1))
else
    echo "FAILED: $found include(s) break the layering (above)"
    failed=$((failed + 1))
fi

# The control: an upward include planted in a copy must be caught.
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
cp -r "${1:-src}/." "$copy/"
echo '#include "app/pubsub_api.h"' >>"$copy/sse/hub.h"
if check_tree "$copy" >/dev/null; then
    echo "FAILED: control: an upward include (sse/hub.h -> app/pubsub_api.h) went unnoticed"
    failed=$((failed + 1))
else
    echo "ok: control: an upward include planted in sse/hub.h is caught"
    passed=$((passed + 1))
fi

# The documents name files by path: each must exist (a "src/x.*" pair too).
missing=()
while IFS= read -r named; do
    pattern=${named%\*}
    if [ "$pattern" != "$named" ]; then
        compgen -G "$pattern*" >/dev/null || missing+=("$named")
    elif [ ! -e "$named" ]; then
        missing+=("$named")
    fi
done < <(grep -rhoE 'src/[A-Za-z0-9_/]+(\.(h|cpp|\*))?' README.md docs www/index.html 2>/dev/null |
         grep -E '\.(h|cpp|\*)$' | sort -u)
if [ ${#missing[@]} -eq 0 ]; then
    echo "ok: every src/ file named in README.md, docs/ and www/index.html exists"
    passed=$((passed + 1))
else
    echo "FAILED: named in the documents but not in the tree: ${missing[*]}"
    failed=$((failed + 1))
fi

echo "layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
