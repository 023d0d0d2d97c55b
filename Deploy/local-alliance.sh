#!/usr/bin/env bash
# The local alliance: EU, US and JP nodes on loopback, with a fresh PKI, seeded with a few
# reserve reports and a gallium export-restriction alert.
#
#   ./Deploy/local-alliance.sh          build, start the three nodes, seed, and run until Ctrl-C
#   ./Deploy/local-alliance.sh stop     stop nodes left running (e.g. from another terminal)
#
# Everything lives in .local-alliance/ at the top of the repository (removed on the next start).
# Ports: 7701-7703 (set MINERALSYNC_BASE_PORT to move them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/.local-alliance
base=${MINERALSYNC_BASE_PORT:-7701}
participants=(EU US JP)

stop_nodes() {
  local stopped=0
  for pidfile in "$work"/*.pid; do
    [ -e "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" && stopped=$((stopped + 1)); fi
  done
  for pidfile in "$work"/*.pid; do
    [ -e "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$pidfile"
  done
  echo "stopped $stopped node(s)"
}

if [ "${1:-start}" = stop ]; then stop_nodes; exit 0; fi
[ "${1:-start}" = start ] || { echo "usage: $0 [start|stop]" >&2; exit 2; }

for tool in swift openssl; do
  command -v $tool >/dev/null || { echo "$tool is missing; see README.md (Prerequisites)" >&2; exit 1; }
done
[ -d "$work" ] && stop_nodes >/dev/null
rm -rf "$work" && mkdir -p "$work"

echo "==> building mineral-syncd and mineralctl (the first build takes a few minutes)"
swift build --product mineral-syncd >/dev/null
swift build --product mineralctl >/dev/null
bin=$(swift build --show-bin-path)

echo "==> making a fresh PKI in $work/pki"
for p in "${participants[@]}"; do
  ./Certs/pki.sh --dir "$work/pki" ca "$p" >/dev/null
  ./Certs/pki.sh --dir "$work/pki" node "$p" "$(echo "$p" | tr A-Z a-z)-1" >/dev/null
done

port_of() { case $1 in EU) echo $base ;; US) echo $((base + 1)) ;; JP) echo $((base + 2)) ;; esac; }
for p in "${participants[@]}"; do
  name=$(echo "$p" | tr A-Z a-z)-1
  {
    echo "node:"
    echo "  participant: $p"
    echo "  name: $name"
    echo "  data-dir: ./$name"
    echo "listen: 127.0.0.1:$(port_of "$p")"
    echo "admin:"
    echo "  socket: ./$name/admin.sock"
    echo "tls:"
    echo "  trust-domain: critical-minerals"
    echo "  certificate: ./pki/$name.pem"
    echo "  private-key: ./pki/$name.key"
    echo "  trust-anchors:"
    for q in "${participants[@]}"; do echo "    $q: ./pki/$(echo "$q" | tr A-Z a-z)-ca.pem"; done
    echo "  crls: []"
    echo "peers:"
    for q in "${participants[@]}"; do
      [ "$q" = "$p" ] && continue
      echo "  - address: 127.0.0.1:$(port_of "$q")"
      echo "    node: $q/$(echo "$q" | tr A-Z a-z)-1"
    done
    echo "sync:"
    echo "  anti-entropy-interval: 10s"
  } > "$work/$name.yaml"
  "$bin/mineral-syncd" check-config "$work/$name.yaml" >/dev/null
done

echo "==> starting EU, US and JP on 127.0.0.1:$base-$((base + 2))"
for p in "${participants[@]}"; do
  name=$(echo "$p" | tr A-Z a-z)-1
  "$bin/mineral-syncd" --config "$work/$name.yaml" 2> "$work/$name.log" &
  echo $! > "$work/$name.pid"
done
trap 'echo; echo "==> stopping the alliance"; stop_nodes; exit 0' INT TERM
# Anything failing from here on (set -e) must not leave nodes running.
trap 'status=$?; if [ $status -ne 0 ]; then echo "==> failed (exit $status); stopping the nodes; logs in $work" >&2; stop_nodes; fi' EXIT

ctl() { local name=$1; shift; "$bin/mineralctl" --socket "$work/$name/admin.sock" "$@"; }
for p in "${participants[@]}"; do
  name=$(echo "$p" | tr A-Z a-z)-1
  for _ in $(seq 1 100); do
    ctl "$name" status >/dev/null 2>&1 && break
    kill -0 "$(cat "$work/$name.pid")" 2>/dev/null || { echo "$name failed to start:" >&2; cat "$work/$name.log" >&2; stop_nodes; exit 1; }
    sleep 0.1
  done
done
# Each node waits for a partner to confirm its feed head before its first write.
for name in eu-1 us-1 jp-1; do
  for _ in $(seq 1 100); do
    ctl "$name" status --json 2>/dev/null | grep -q '"writable" : true' && break
    sleep 0.1
  done
done

echo "==> seeding reserves and an alert"
ctl eu-1 reserve set gallium 48.5 --site Rotterdam --note "strategic stock" >/dev/null
ctl eu-1 reserve target gallium 120 >/dev/null
ctl us-1 reserve set gallium 62 >/dev/null
ctl us-1 reserve set tungsten 1400 >/dev/null
ctl jp-1 reserve set rare-earth-magnets 950 --form magnet >/dev/null
ctl eu-1 reserve consumption gallium 40 >/dev/null
ctl us-1 reserve withhold germanium --reason "national security" >/dev/null
alert=$(ctl eu-1 alert raise --mineral gallium --severity high --category export-restriction \
  --region CN --summary "Export licences now required for gallium and germanium")
ctl jp-1 sync --wait --timeout 30 >/dev/null
ctl jp-1 alert ack "$alert" --note "JP reviewing stockpile release" >/dev/null
ctl eu-1 sync --wait --timeout 30 >/dev/null

cat <<TXT

The alliance is running (logs: $work/*.log). In another terminal:

  export PATH="$bin:\$PATH"
  mineralctl --socket $work/jp-1/admin.sock status
  mineralctl --socket $work/us-1/admin.sock reserve list
  mineralctl --socket $work/eu-1/admin.sock alert list
  mineralctl --socket $work/us-1/admin.sock watch        # then raise an alert at another node:
  mineralctl --socket $work/jp-1/admin.sock alert raise --mineral graphite --severity medium \\
      --category logistics --summary "Port congestion delays graphite shipments"

The web dashboard (read-only, loopback; open the address it prints, key included, in a browser):

  mineralctl --socket $work/eu-1/admin.sock dashboard --listen 127.0.0.1:8080

Set MINERAL_SYNC_SOCKET=$work/eu-1/admin.sock to drop --socket.
Ctrl-C here (or ./Deploy/local-alliance.sh stop) stops all three nodes.
TXT
ctl eu-1 alert list
while true; do
  for p in "${participants[@]}"; do
    name=$(echo "$p" | tr A-Z a-z)-1
    # No pid file: `local-alliance.sh stop` stopped the nodes from another terminal.
    [ -e "$work/$name.pid" ] || { echo "the alliance was stopped"; exit 0; }
    kill -0 "$(cat "$work/$name.pid")" 2>/dev/null || { echo "$name stopped unexpectedly; its log:" >&2; tail -20 "$work/$name.log" >&2; stop_nodes; exit 1; }
  done
  sleep 2 & wait $!
done
