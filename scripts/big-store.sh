#!/usr/bin/env bash
# The big-store test at a size of your choice (default 300 MB), with workerd's memory sampled from
# outside: every 0.5 s the resident set size (RSS) of the workerd processes this run started (the
# descendants of its vitest process, so other runs on the machine are not counted) is read from
# /proc, and the largest sum is printed at the end. `npm test` runs the same test at 40 MB.
#   bash scripts/big-store.sh [MB] [--fill-only]
# --fill-only fills the store and reads it back without exporting or importing: the baseline that
# workerd's storage alone costs, to compare the full run with. --export-only stops after the export.
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-300}"
if [[ "${2:-}" == "--fill-only" ]]; then export BIG_STORE_FILL_ONLY=1; fi
if [[ "${2:-}" == "--export-only" ]]; then export BIG_STORE_FILL_ONLY=export; fi
peak_file=$(mktemp)
echo 0 > "$peak_file"
# Every descendant of a process.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}
sample() {
  local root=$1 peak=0 total pid
  while kill -0 "$root" 2>/dev/null; do
    total=0
    for pid in $(descendants "$root"); do
      if grep -q workerd "/proc/$pid/comm" 2>/dev/null; then
        total=$((total + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
      fi
    done
    if ((total > peak)); then peak=$total; echo "$peak" > "$peak_file"; fi
    sleep 0.5
  done
}
start=$(date +%s)
BIG_STORE_MB="$mb" npx vitest run --config test/edge/vitest.config.ts test/edge/big-store.test.ts &
runner=$!
sample "$runner" &
sampler=$!
status=0
wait "$runner" || status=$?
wait "$sampler" || true
echo "big store: ${mb} MB, $(( $(date +%s) - start )) s in all, workerd peak RSS $(( $(cat "$peak_file") / 1024 )) MiB (sum over workerd processes)"
exit $status
