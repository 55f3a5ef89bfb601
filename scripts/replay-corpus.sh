#!/usr/bin/env bash
# Prints N integration events (default 100000) made from the CloudTrail samples: the events the
# real AWS integration produced from every sample (../shared/expected/cloudtrail/*.events),
# repeated in file order until N lines. For replay benchmarks:
#   scripts/replay-corpus.sh 1000000 > /tmp/1m.events
#   logtest replay /tmp/1m.events --home ../shared/wazuh-4.14.7 -o /dev/null
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
src=../shared/expected/cloudtrail
[ -d "$src" ] || { echo "replay-corpus: $src not found" >&2; exit 1; }
per=$(cat "$src"/*.events | wc -l)
rounds=$(( (n + per - 1) / per ))
# (head closes the pipe early: not an error)
set +o pipefail
for _ in $(seq "$rounds"); do cat "$src"/*.events; done | head -n "$n"
