#!/usr/bin/env bash
# Whole-process benchmarks of the release binary (needs ../shared beside the checkout).
#   scripts/bench.sh            run all and print a summary
# Figures: ruleset load time, the upstream .ini suite, and `logtest replay` throughput and
# peak memory on CloudTrail events (stock and embedded ruleset, one and two threads).
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

# 3. Replay (`logtest replay`): ~100,000 CloudTrail integration events (the samples repeated),
#    one core and two, stock and embedded ruleset; then 1,000,000 events for peak memory.
scripts/replay-corpus.sh 100000 > "$tmp/100k.events"
scripts/replay-corpus.sh 1000000 > "$tmp/1m.events"
# usage: replay FILE ARGS... ; sets $rate (events/s of the replay itself, as logtest reports it,
# best of 3) and $kib (max RSS of the last run, from GNU time when installed)
replay() {
  local file=$1; shift
  rate=0
  for _ in 1 2 3; do
    if [ -x /usr/bin/time ]; then
      /usr/bin/time -f %M -o "$tmp/rss" "$bin" replay "$file" "$@" -o /dev/null 2> "$tmp/err" || true
      kib=$(cat "$tmp/rss")
    else
      "$bin" replay "$file" "$@" -o /dev/null 2> "$tmp/err" || true
      kib="?"
    fi
    r=$(grep -o '([0-9]* events/s)' "$tmp/err" | tr -dc 0-9)
    if [ "${r:-0}" -gt "$rate" ]; then rate=$r; fi
  done
}
replay "$tmp/100k.events" --home "$home"; stock=$rate; stock_rss=$kib
replay "$tmp/100k.events" --home "$home" -j 2; stock2=$rate
replay "$tmp/100k.events"; embedded=$rate; embedded_rss=$kib
replay "$tmp/1m.events" --home "$home"; big=$rate; big_rss=$kib
replay "$tmp/1m.events" --home "$home" -j 2; big2=$rate; big2_rss=$kib

printf 'stock ruleset load + 1 event : %.3f s\n' "$load"
printf 'upstream .ini suite          : %.3f s (%s)\n' "$ini" "$cases"
printf 'replay 100k, stock, 1 thread : %d events/s (max RSS %s KiB)\n' "$stock" "$stock_rss"
printf 'replay 100k, stock, -j 2     : %d events/s (%.2fx)\n' "$stock2" "$(echo "$stock2 / $stock" | bc -l)"
printf 'replay 100k, embedded        : %d events/s (max RSS %s KiB)\n' "$embedded" "$embedded_rss"
printf 'replay 1M, stock, 1 thread   : %d events/s (max RSS %s KiB)\n' "$big" "$big_rss"
printf 'replay 1M, stock, -j 2       : %d events/s (max RSS %s KiB)\n' "$big2" "$big2_rss"
echo "the floor (serde_json::Value parse of the same lines): cargo bench --bench replay"
