#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (with AddressSanitizer) and runs each for a set time,
# starting from the seed corpus in Fuzz/Corpus/<target>. New inputs go to a scratch corpus
# under Fuzz/.build/corpus; a crash leaves its input in Fuzz/.build/crashes/<target>/ (copy it
# into Fuzz/Corpus/regressions/<target>/ to keep it as a regression test).
#
#   Scripts/fuzz.sh [seconds per target, default 600] [target ...]
#   FUZZ_JOBS=2 Scripts/fuzz.sh 600     # two targets at a time (this machine has 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzFrames FuzzSyncMessage FuzzEntryBody FuzzAdminRequest)
jobs=${FUZZ_JOBS:-1}

# SwiftPM's --sanitize=fuzzer alone instruments only the fuzz targets' own module: the coverage
# flags instrument every module (ours and the packages'), which is what guides the fuzzer.
flags=(--package-path Fuzz -c debug --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
swift build "${flags[@]}"
bin=$(swift build "${flags[@]}" --show-bin-path)

run() {
  local target=$1
  local scratch=Fuzz/.build/corpus/$target crashes=Fuzz/.build/crashes/$target
  mkdir -p "$scratch" "$crashes"
  echo "==> $target for ${seconds}s"
  local status=0
  "$bin/$target" "$scratch" "Fuzz/Corpus/$target" -max_total_time="$seconds" -max_len=70000 -rss_limit_mb=2048 \
    -artifact_prefix="$crashes/" -print_final_stats=1 >"Fuzz/.build/$target.log" 2>&1 || status=$?
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+ *DONE" "Fuzz/.build/$target.log" | sed "s/^/$target: /" || true
  return $status
}

running=0
for target in "${targets[@]}"; do
  ( if run "$target"; then echo ok >"Fuzz/.build/$target.status"; else echo crashed >"Fuzz/.build/$target.status"; fi ) &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait
failed=0
for target in "${targets[@]}"; do
  if [ "$(cat "Fuzz/.build/$target.status")" != ok ]; then
    echo "$target: CRASHED (see Fuzz/.build/$target.log and Fuzz/.build/crashes/$target/)"
    failed=1
  fi
done
exit $failed
