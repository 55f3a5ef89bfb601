#!/usr/bin/env bash
# Whole-process benchmarks of the release binary (needs ../shared beside the checkout).
#   scripts/bench.sh            run all and print a summary
# Figures: ruleset load time, the upstream .ini suite, and replay throughput of
# CloudTrail events through the stock and the embedded ruleset.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared
home=$shared/wazuh-4.14.7
[ -d "$home" ] || { echo "bench: ../shared not found" >&2; exit 1; }
cargo build --release --quiet
bin=${BENCH_BIN:-target/release/logtest}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }

# 1. Load the full stock ruleset (4,500 rules) and process one event.
t0=$(now); echo 'hello' | "$bin" --home "$home" -q > /dev/null 2>&1; t1=$(now)
load=$(elapsed "$t0" "$t1")

# 2. The upstream .ini suite (one fresh session per case, as runtests.py).
t0=$(now)
"$bin" test --home "$home" --decoders "$home/testing/ruleset/*_decoders.xml" \
  --rules "$home/testing/ruleset/*_rules.xml" "$home/testing/tests" > "$tmp/ini.out" 2>/dev/null || true
t1=$(now)
ini=$(elapsed "$t0" "$t1")
cases=$(tail -n 1 "$tmp/ini.out")

# 3. Replay: every CloudTrail sample event, 100 times, through one session.
for _ in $(seq 100); do cat "$shared"/expected/cloudtrail/*.events; done > "$tmp/replay.events"
n=$(wc -l < "$tmp/replay.events")
# Peak memory (max RSS, KiB) comes from GNU time when it is installed.
# usage: replay OUTFILE ARGS... ; sets $secs and $kib
replay() {
  local out=$1; shift
  local t0 t1
  t0=$(now)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M -o "$tmp/rss" "$bin" "$@" -l Wazuh-AWS --format json < "$tmp/replay.events" > "$out" 2>/dev/null
    kib=$(cat "$tmp/rss")
  else
    "$bin" "$@" -l Wazuh-AWS --format json < "$tmp/replay.events" > "$out" 2>/dev/null
    kib="?"
  fi
  t1=$(now)
  secs=$(elapsed "$t0" "$t1")
}
replay "$tmp/alerts.json" --home "$home"; stock=$secs; stock_rss=$kib
replay "$tmp/alerts2.json"; embedded=$secs; embedded_rss=$kib

printf 'stock ruleset load + 1 event : %.3f s\n' "$load"
printf 'upstream .ini suite          : %.3f s (%s)\n' "$ini" "$cases"
printf 'replay, stock ruleset        : %d events in %.3f s = %.0f events/s (%d alerts, max RSS %s KiB)\n' "$n" "$stock" "$(echo "$n / $stock" | bc -l)" "$(wc -l < "$tmp/alerts.json")" "$stock_rss"
printf 'replay, embedded ruleset     : %d events in %.3f s = %.0f events/s (%d alerts, max RSS %s KiB)\n' "$n" "$embedded" "$(echo "$n / $embedded" | bc -l)" "$(wc -l < "$tmp/alerts2.json")" "$embedded_rss"
