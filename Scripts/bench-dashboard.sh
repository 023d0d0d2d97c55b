#!/usr/bin/env bash
# Dashboard first render in headless Chromium: 1,000 alerts and 5,000 reserve registers, served
# by the mock server (Tests/Browser), each run a cold browser. Prints every run's milliseconds
# from navigation start to the board and chart painted (goal ≤ 500 ms), then the median.
# Needs chromium, chromium-driver and python3-selenium. Usage: Scripts/bench-dashboard.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
python=/usr/bin/python3
log=$(mktemp)
"$python" Tests/Browser/mock_dashboard_server.py --port 0 --alerts 1000 --reserves 5000 --raise-after 0.5 --summary "bench alert" > "$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q LISTENING "$log" && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$log" | head -1)
figures=()
for run in $(seq 1 "$runs"); do
  ms=$("$python" Tests/Browser/dashboard_check.py --url "$url" --expect-alert-summary "bench alert" --timeout 30 2>/dev/null | awk '/^OK/ {print $2}')
  figures+=("$ms")
  echo "run $run: first render ${ms} ms"
done
printf '%s\n' "${figures[@]}" | sort -n | awk '{a[NR]=$1} END {printf "median %s ms over %d cold runs (goal ≤ 500 ms)\n", a[int((NR+1)/2)], NR}'
