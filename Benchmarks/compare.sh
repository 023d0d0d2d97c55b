#!/usr/bin/env bash
# MineralSync side by side with what a user would pick instead, in one run on this machine:
# pycrdt (Yrs) and Yjs for CRDT apply and sync size, HashiCorp Serf for broadcast latency,
# OpenSSL's own s_server/s_client/s_time for TLS. Prints a Markdown table (BENCHMARKS.md).
#
#   Benchmarks/compare.sh            # full run (about 5 minutes)
#   Benchmarks/compare.sh --quick    # smaller workloads, to check the harness
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for package in node-yjs serf openssl python3-venv; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
command -v node >/dev/null || { echo "node is missing (Debian: apt-get install -y nodejs)" >&2; exit 1; }

venv=.build-bench/venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "pycrdt==0.14.13"
fi

echo "building release binaries…" >&2
swift build -c release --product mineral-bench >&2
swift build -c release --product mineral-syncd >&2
swift build -c release --product mineralctl >&2

echo "machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print int($2/1048576)}') GiB, $(uname -r), $(openssl version)" >&2
if [ "${1:-}" = "--quick" ]; then
  exec "$venv/bin/python" Benchmarks/compare.py --python "$venv/bin/python" --updates 5000 --overwrites 10000 --apply-runs 2 \
    --alerts 5 --mesh 10 --tls-mebibytes 128 --handshake-seconds 2
fi
exec "$venv/bin/python" Benchmarks/compare.py --python "$venv/bin/python"
