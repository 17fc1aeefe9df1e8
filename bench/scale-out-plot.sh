#!/usr/bin/env bash
# bench/scale-out-plot.sh: the plot of bench/scale-out.sh runs: memory per
# stream and time until every stream has an event, against the number of
# streams, for each server kind in the results.
#
#   bench/scale-out-plot.sh [RESULTS.jsonl] [OUT.svg]
#
# Defaults: bench/results/scale-out.jsonl and bench/scale-out.svg (a .png
# OUT is drawn as PNG). Needs
# gnuplot (Debian: gnuplot-nox); the last run of each (server, streams)
# pair counts.
set -euo pipefail
cd "$(dirname "$0")/.."
RESULTS=${1:-bench/results/scale-out.jsonl}
OUT=${2:-bench/scale-out.svg}
command -v gnuplot >/dev/null || { echo "scale-out-plot: needs gnuplot (apt-get install gnuplot-nox)" >&2; exit 2; }
[ -s "$RESULTS" ] || { echo "scale-out-plot: no results in $RESULTS" >&2; exit 2; }
WORK=$(mktemp -d /tmp/sse-scale-plot.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# field JSON-LINE KEY: a number from one flat result line (no jq needed).
field() { [[ $1 =~ \"$2\":\"?([-0-9.]+) ]] && echo "${BASH_REMATCH[1]}" || echo 0; }

# One data file per server kind: streams, server B, client B, kernel B,
# p50 s, p99 s, max s; the last line for each stream count wins.
while IFS= read -r line; do
    [[ $line == *'"scenario":"scale-out"'* ]] || continue
    server=sse-server
    [[ $line =~ \"server\":\"([a-z-]+)\" ]] && server=${BASH_REMATCH[1]}
    latency=${line#*\"latency_ms\":}
    echo "$(field "$line" streams) $(field "$line" server_pss_bytes_per_stream) $(field "$line" client_pss_bytes_per_stream)" \
         "$(field "$line" kernel_bytes_per_conn) $(field "$latency" p50) $(field "$latency" p99) $(field "$latency" max)" \
         >>"$WORK/$server.raw"
done <"$RESULTS"
plots_memory=() plots_latency=()
for raw in "$WORK"/*.raw; do
    [ -e "$raw" ] || continue
    server=$(basename "$raw" .raw)
    tac "$raw" | sort -s -n -k1,1 -u >"$WORK/$server.dat"
    plots_memory+=("'$WORK/$server.dat' using 1:(\$2/1024) with linespoints title '$server: server user space (PSS)'")
    plots_memory+=("'$WORK/$server.dat' using 1:(\$4/1024) with linespoints title '$server: kernel slab per connection'")
    plots_latency+=("'$WORK/$server.dat' using 1:(\$5/1000) with linespoints title '$server: p50'")
    plots_latency+=("'$WORK/$server.dat' using 1:(\$7/1000) with linespoints title '$server: max'")
done
[ -e "$WORK/sse-server.dat" ] &&
    plots_memory+=("'$WORK/sse-server.dat' using 1:(\$3/1024) with linespoints title 'sse-load clients (PSS)'")
join() { local IFS=,; echo "$*"; }

terminal='svg size 960,420 font "sans,11" background "#ffffff"'
[[ $OUT != *.png ]] || terminal='png size 960,420'
gnuplot <<EOF
set terminal $terminal
set output "$OUT"
set multiplot layout 1,2 title "bench/scale-out.sh on one 2-vCPU, 24 GiB machine"
set grid
set key top left font ",9"
set xlabel "concurrent streams"
set format x "%.0s%c"
set ylabel "KiB per stream"
set yrange [0:16]
set key top right
plot $(join "${plots_memory[@]}")
set ylabel "s until every stream has an event"
set yrange [0:*]
set key top left
plot $(join "${plots_latency[@]}")
unset multiplot
EOF
echo "scale-out-plot: wrote $OUT"
