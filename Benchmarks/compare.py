"""Runs MineralSync and its peers on equivalent workloads in one go and prints one table.

Called by Benchmarks/compare.sh, which installs the peers first. Only ratios from one run mean
anything on a shared machine; BENCHMARKS.md explains each row.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs).stdout


def bin_path():
    return run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT).strip()


# ---------------------------------------------------------------- 1, 2: CRDT apply and catch-up

def crdt(args, bench, python):
    ours_catchup = json.loads(run([bench, "compare", "catch-up", "--overwrites", str(args.overwrites), "--keys", str(args.keys)]))
    pycrdt_script = os.path.join(ROOT, "Benchmarks/crdt_pycrdt.py")
    pycrdt = json.loads(run([python, pycrdt_script, str(args.updates), str(args.overwrites), str(args.keys)]))
    env = dict(os.environ, NODE_PATH="/usr/share/nodejs:/usr/lib/nodejs")
    yjs = json.loads(run(["node", os.path.join(ROOT, "Benchmarks/crdt_yjs.js"), str(args.updates), str(args.overwrites), str(args.keys)], env=env))
    # Apply swings by ±20% from run to run on a shared machine: ours and pycrdt alternate, the
    # ratio is taken per pair and the median reported with its range.
    pairs = []
    for index in range(args.apply_runs):
        ours = json.loads(run([bench, "compare", "apply", "--updates", str(args.updates), "--keys", str(args.keys)]))
        theirs = pycrdt["apply"]["per_s"] if index == 0 else \
            json.loads(run([python, pycrdt_script, str(args.updates), "0", str(args.keys)]))["apply"]["per_s"]
        pairs.append((ours, theirs))
    return pairs, ours_catchup, pycrdt, yjs


def apply_summary(pairs, field):
    """Median of ours, of pycrdt, and of the per-pair ratios, with the ratios' range."""
    ratios = sorted(ours[field] / theirs for ours, theirs in pairs)
    return (int(statistics.median(ours[field] for ours, _ in pairs)), int(statistics.median(theirs for _, theirs in pairs)),
            statistics.median(ratios), ratios[0], ratios[-1])


# ---------------------------------------------------------------- 3: alert propagation

def node_names(count):
    participants = ["EU", "US", "JP"]
    return [(participants[i % 3], f"{participants[i % 3].lower()}-{i}") for i in range(count)]


def links(index, count):
    """Each node dials two others: a ring plus chords of 7 (degree 4), or a full mesh for 3."""
    if count <= 3:
        return [j for j in range(count) if j > index]
    return sorted({(index + 1) % count, (index + 7) % count} - {index})


def ours_propagation(count, alerts, binaries, base_port):
    work = tempfile.mkdtemp(prefix=f"compare-ours-{count}-")
    processes = []
    try:
        pki = os.path.join(ROOT, "Certs/pki.sh")
        for participant in ["EU", "US", "JP"]:
            run(["bash", pki, "--dir", f"{work}/pki", "ca", participant])
        names = node_names(count)
        for participant, name in names:
            run(["bash", pki, "--dir", f"{work}/pki", "node", participant, name])
        for index, (participant, name) in enumerate(names):
            peers = "\n".join(f"  - address: 127.0.0.1:{base_port + j}" for j in links(index, count)) or " []"
            with open(f"{work}/{name}.yaml", "w") as config:
                config.write(f"""node:
  participant: {participant}
  name: {name}
  data-dir: ./{name}
listen: 127.0.0.1:{base_port + index}
admin:
  socket: ./{name}/admin.sock
tls:
  trust-domain: critical-minerals
  certificate: pki/{name}.pem
  private-key: pki/{name}.key
  trust-anchors:
    EU: pki/eu-ca.pem
    US: pki/us-ca.pem
    JP: pki/jp-ca.pem
peers:{peers if peers == " []" else chr(10) + peers}
log:
  level: warning
""")
        for _, name in names:
            log = open(f"{work}/{name}.log", "w")
            processes.append(subprocess.Popen([f"{binaries}/mineral-syncd", "--config", f"{work}/{name}.yaml"], stderr=log))
        sockets = [f"{work}/{name}/admin.sock" for _, name in names]
        # Setup (not measured): every node up, connected and writable.
        deadline = time.time() + 120
        for socket in sockets:
            while True:
                result = subprocess.run([f"{binaries}/mineralctl", "--socket", socket, "status", "--json"], capture_output=True, text=True)
                if result.returncode == 0:
                    status = json.loads(result.stdout)
                    if status["writable"] and status["peersConnected"] >= 1:
                        break
                if time.time() > deadline:
                    raise RuntimeError(f"{socket} not ready")
                time.sleep(0.1)
        return json.loads(run([f"{binaries}/mineral-bench", "compare", "propagation", "--sockets", ",".join(sockets), "--alerts", str(alerts)]))
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


def serf_propagation(count, alerts, base_port):
    work = tempfile.mkdtemp(prefix=f"compare-serf-{count}-")
    agents = []
    try:
        arrivals = f"{work}/arrivals"
        handler = f"{work}/handler.sh"
        with open(handler, "w") as script:
            script.write(f'#!/bin/sh\nnow=$(date +%s%N)\nread payload\necho "$now $SERF_SELF_NAME $payload" >> {arrivals}\n')
        os.chmod(handler, 0o755)
        def start_agent(index):
            command = ["serf", "agent", f"-node=n{index}", f"-bind=127.0.0.1:{base_port + 2 * index}",
                       f"-rpc-addr=127.0.0.1:{base_port + 2 * index + 1}", f"-event-handler=user:bench={handler}", "-log-level=err"]
            if index > 0:
                command.append(f"-join=127.0.0.1:{base_port}")
            return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(f"{work}/agent-{index}.log", "a"))
        agents = [start_agent(index) for index in range(count)]
        deadline = time.time() + 120
        rejoin = time.time() + 15
        while True:
            result = subprocess.run(["serf", "members", f"-rpc-addr=127.0.0.1:{base_port + 1}", "-status=alive"], capture_output=True, text=True)
            alive = {line.split()[0] for line in result.stdout.strip().splitlines() if line.strip()}
            if result.returncode == 0 and len(alive) == count:
                break
            if time.time() > rejoin:
                # On a loaded machine some agents fail to start or their first join times out:
                # restart the dead ones and ask the stragglers to join again.
                for index in range(1, count):
                    if f"n{index}" in alive:
                        continue
                    if agents[index].poll() is not None:
                        agents[index] = start_agent(index)
                    else:
                        subprocess.run(["serf", "join", f"-rpc-addr=127.0.0.1:{base_port + 2 * index + 1}", f"127.0.0.1:{base_port}"], capture_output=True)
                rejoin = time.time() + 10
            if time.time() > deadline:
                missing = sorted(set(f"n{i}" for i in range(count)) - alive)
                logs = " | ".join(open(f"{work}/agent-{m[1:]}.log").read().strip()[-200:] for m in missing[:3])
                raise RuntimeError(f"serf cluster did not form: {len(alive)} of {count} alive; missing {missing}: {logs}")
            time.sleep(0.2)
        time.sleep(2)  # let gossip settle before measuring (setup, not measured)
        latencies = []
        incomplete = 0
        for trial in range(alerts):
            origin = trial % count
            subprocess.run(["serf", "event", f"-rpc-addr=127.0.0.1:{base_port + 2 * origin + 1}", "-coalesce=false", "bench", f"t{trial}"],
                           check=True, capture_output=True)
            deadline = time.time() + 10
            while True:
                seen = {}
                if os.path.exists(arrivals):
                    for line in open(arrivals):
                        parts = line.split()
                        if len(parts) == 3 and parts[2] == f"t{trial}":
                            seen[parts[1]] = int(parts[0])
                if len(seen) == count:
                    # From the first agent having it (the origin's own handler) to the last, as
                    # for ours: the `serf event` client's start-up does not count.
                    latencies.append((max(seen.values()) - min(seen.values())) / 1e6)
                    break
                if time.time() > deadline:
                    # Serf's user events are best-effort gossip: one that never reaches an agent
                    # is counted and left out of the latencies (which flatters Serf, not us).
                    print(f"  serf event t{trial} reached {len(seen)} of {count} agents in 10 s", file=sys.stderr, flush=True)
                    incomplete += 1
                    break
                time.sleep(0.005)
        if not latencies:
            raise RuntimeError(f"no serf event reached all {count} agents")
        latencies.sort()
        at = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))]
        return {"nodes": count, "alerts": alerts, "incomplete": incomplete,
                "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": latencies[-1]}
    finally:
        for agent in agents:
            agent.terminate()
        for agent in agents:
            try:
                agent.wait(timeout=10)
            except subprocess.TimeoutExpired:
                agent.kill()
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- 4: TLS against OpenSSL's tools

def tls(args, bench, port):
    work = tempfile.mkdtemp(prefix="compare-tls-")
    try:
        pki = os.path.join(ROOT, "Certs/pki.sh")
        for participant, name in [("EU", "eu-1"), ("JP", "jp-1")]:
            run(["bash", pki, "--dir", work, "ca", participant])
            run(["bash", pki, "--dir", work, "node", participant, name])
        bundle = f"{work}/anchors.pem"
        with open(bundle, "w") as out:
            out.write(open(f"{work}/eu-ca.pem").read() + open(f"{work}/jp-ca.pem").read())
        size = args.tls_mebibytes << 20
        # s_server ends a connection when its own stdin ends: give it a pipe that stays open.
        # -naccept 1: it exits once the client has closed, i.e. once every byte arrived.
        server = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", f"{work}/jp-1.pem", "-key", f"{work}/jp-1.key",
                                   "-CAfile", bundle, "-Verify", "1", "-tls1_3", "-quiet", "-naccept", "1"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        start = time.perf_counter()
        subprocess.run(f"head -c {size} /dev/zero | openssl s_client -connect 127.0.0.1:{port} -cert {work}/eu-1.pem -key {work}/eu-1.key "
                       f"-CAfile {bundle} -tls1_3 -quiet -no_ign_eof", shell=True, check=True, capture_output=True)
        server.wait(timeout=120)
        openssl_bulk = size / (time.perf_counter() - start) / 1e6
        server.stdin.close()

        server = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port + 1}", "-cert", f"{work}/jp-1.pem", "-key", f"{work}/jp-1.key",
                                   "-CAfile", bundle, "-Verify", "1", "-tls1_3", "-www"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        output = run(["openssl", "s_time", "-connect", f"127.0.0.1:{port + 1}", "-new", "-time", str(args.handshake_seconds),
                      "-cert", f"{work}/eu-1.pem", "-key", f"{work}/eu-1.key", "-CAfile", bundle])
        server.terminate()
        server.wait(timeout=10)
        match = re.search(r"([\d.]+) connections/user sec", output)
        match_real = re.search(r"(\d+) connections in (\d+) real seconds", output)
        openssl_handshakes = int(match_real.group(1)) / int(match_real.group(2)) if match_real else float(match.group(1))

        ours = run([bench, "tls", "--mebibytes", str(args.tls_mebibytes), "--handshakes", "2000", "--round-trips", "2000", "--rounds", "3"])
        ours_bulk = float(re.search(r"TLS\s+([\d.]+) MB/s", ours).group(1))
        ours_plain = float(re.search(r"plain\s+([\d.]+) MB/s", ours).group(1))
        ours_handshakes = float(re.search(r"Ed25519\s+(\d+) /s", ours).group(1))
        return {"ours_bulk": ours_bulk, "ours_plain": ours_plain, "openssl_bulk": openssl_bulk,
                "ours_handshakes": ours_handshakes, "openssl_handshakes": openssl_handshakes}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True)
    parser.add_argument("--updates", type=int, default=50_000)
    parser.add_argument("--overwrites", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=1_000)
    parser.add_argument("--apply-runs", type=int, default=5)
    parser.add_argument("--alerts", type=int, default=30)
    parser.add_argument("--mesh", type=int, default=50)
    parser.add_argument("--tls-mebibytes", type=int, default=1024)
    parser.add_argument("--handshake-seconds", type=int, default=10)
    args = parser.parse_args()
    binaries = bin_path()
    bench = f"{binaries}/mineral-bench"

    rows = []
    def row(workload, ours, theirs, ratio, goal):
        rows.append((workload, ours, theirs, ratio, goal))
        print(f"  {workload}: ours {ours} | theirs {theirs} | {ratio} | goal {goal}", file=sys.stderr, flush=True)

    print("1-2. CRDT apply and catch-up bytes", file=sys.stderr, flush=True)
    pairs, ours_catchup, pycrdt, yjs = crdt(args, bench, args.python)
    for field, label in [("verified_per_s", f"apply {args.updates:,} LWW updates, 1,000 keys, one at a time (/s), signatures checked"),
                         ("unverified_per_s", "same, decode + fold without signature checks (/s)")]:
        ours, theirs, ratio, low, high = apply_summary(pairs, field)
        row(label + (f", one pass per process, median of {len(pairs)} alternating processes" if field == "verified_per_s"
                     else f", median of {len(pairs[0][0]['unverified_passes_per_s'])} passes per process, median of {len(pairs)} alternating processes"),
            f"{ours:,}", f"pycrdt {theirs:,}; Yjs {yjs['apply']['per_s']:,}",
            f"{ratio:.2f}× pycrdt ({low:.2f}–{high:.2f})", "≥ 3× pycrdt")
    row(f"bytes to catch up 1 update after {args.overwrites:,} overwrites",
        f"{ours_catchup['entries_frame_bytes']} (+{ours_catchup['vector_frame_bytes']} vector)",
        f"pycrdt {pycrdt['catchup']['missing_update_bytes']} (+{pycrdt['catchup']['state_vector_bytes']}); "
        f"Yjs {yjs['catchup']['missing_update_bytes']} (+{yjs['catchup']['state_vector_bytes']})",
        f"{ours_catchup['entries_frame_bytes'] / ours_catchup['missing_entry_own_bytes']:.2f}× the entry's own {ours_catchup['missing_entry_own_bytes']} B",
        "≤ 1.2× own size")
    row("full state, 1,000 live keys (bytes)", f"{ours_catchup['full_history_bytes']:,} (signed history)",
        f"pycrdt {pycrdt['catchup']['full_state_bytes']:,}; Yjs {yjs['catchup']['full_state_bytes']:,}",
        f"{ours_catchup['full_history_bytes'] / pycrdt['catchup']['full_state_bytes']:.1f}× pycrdt", "(reported)")
    row("full state a new node downloads from a checkpoint, 1,000 live keys (bytes)",
        f"{ours_catchup['checkpoint_state_frames_bytes']:,} (3 co-signatures, views, base)",
        f"pycrdt {pycrdt['catchup']['full_state_bytes']:,}; Yjs {yjs['catchup']['full_state_bytes']:,}",
        f"{ours_catchup['checkpoint_state_frames_bytes'] / pycrdt['catchup']['full_state_bytes']:.2f}× pycrdt", "≤ 2× pycrdt")

    print("3. alert propagation", file=sys.stderr, flush=True)
    for count in [3, args.mesh]:
        ours = ours_propagation(count, args.alerts, binaries, 27000)
        serf = serf_propagation(count, args.alerts, 20000)
        row(f"alert to all of {count} nodes, p50 / p99 / max (ms)",
            f"{ours['p50_ms']:.1f} / {ours['p99_ms']:.1f} / {ours['max_ms']:.1f}",
            f"Serf {serf['p50_ms']:.1f} / {serf['p99_ms']:.1f} / {serf['max_ms']:.1f}"
            + (f" ({serf['incomplete']} of {serf['alerts']} events never reached every agent; left out)" if serf["incomplete"] else ""),
            f"p50 {ours['p50_ms'] / serf['p50_ms']:.3f}× Serf", "p50 ≤ 0.25× Serf at 50 nodes" if count > 3 else "(reported)")

    print("4. TLS", file=sys.stderr, flush=True)
    result = tls(args, bench, 29000)
    row(f"TLS 1.3 bulk over loopback, {args.tls_mebibytes} MiB (MB/s)", f"{result['ours_bulk']:.0f} (plain TCP {result['ours_plain']:.0f})",
        f"openssl s_server/s_client {result['openssl_bulk']:.0f}", f"{result['ours_bulk'] / result['openssl_bulk']:.2f}× openssl", "≥ 0.8× openssl")
    row("mutual TLS 1.3 handshakes (/s)", f"{result['ours_handshakes']:.0f} (in memory, both ends)",
        f"openssl s_time {result['openssl_handshakes']:.0f} (over TCP)", f"{result['ours_handshakes'] / result['openssl_handshakes']:.2f}× s_time", "(reported)")

    print()
    print("| workload | MineralSync | peer | ratio | goal |")
    print("| --- | --- | --- | --- | --- |")
    for workload, ours, theirs, ratio, goal in rows:
        print(f"| {workload} | {ours} | {theirs} | {ratio} | {goal} |")


if __name__ == "__main__":
    main()
