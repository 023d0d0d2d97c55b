#!/usr/bin/env python3
"""A stand-in for `mineralctl dashboard`, for developing and self-testing the dashboard.

Serves Dashboard/index.html, dashboard.css and dashboard.js, the admin API's JSON under /api/*
(built from the pinned fixtures in Docs/admin-api, with plausible values in place of their
placeholders, plus enough extra rows to exercise every part of the page), and /api/events as
Server-Sent Events. Python standard library only.

    python3 Tests/Browser/mock_dashboard_server.py --port 8080
    python3 Tests/Browser/mock_dashboard_server.py --raise-after 2 --summary "Smelter fire"
    python3 Tests/Browser/mock_dashboard_server.py --alerts 1000 --reserves 5000

The first line on stdout is `LISTENING http://HOST:PORT/` (useful with --port 0).
"""

import argparse
import hashlib
import json
import queue
import random
import re
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# What the Swift server is asked to send too (see the dashboard's report).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
    "/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
}

SEVERITIES = ["critical", "high", "medium", "low", "info"]
CATEGORIES = ["export-restriction", "production-outage", "logistics", "price-spike", "geopolitical", "other"]
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def hex_id(*parts):
    return hashlib.sha256("/".join(str(part) for part in parts).encode()).hexdigest()


def fill_placeholders(text, name):
    """Turns a fixture into JSON: each placeholder gets a plausible value."""
    minutes = iter(range(5, 10_000, 7))
    text = re.sub(r"<time>", lambda _: iso(NOW - timedelta(minutes=next(minutes))), text)
    text = re.sub(r"<hex(\d+)>", lambda match: hex_id(name, match.group(1)), text)
    text = text.replace("<port>", "7702").replace("<ms>", "4").replace("<n>", "86400")
    return json.loads(text)


# Times that lie ahead of now in a healthy node.
FUTURE_TIMES = {"certificateExpiresAt": 300, "validUntil": 300, "expiresAt": 2}


def push_future_times(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key in FUTURE_TIMES and isinstance(item, str):
                value[key] = iso(NOW + timedelta(days=FUTURE_TIMES[key]))
            elif key == "validFrom" and isinstance(item, str):
                value[key] = iso(NOW - timedelta(days=65))
            else:
                push_future_times(item)
    elif isinstance(value, list):
        for item in value:
            push_future_times(item)
    return value


def load_fixture(fixtures, name):
    return push_future_times(fill_placeholders((fixtures / name).read_text(encoding="utf-8"), name))


def tonnes(quantity, unit):
    return float(quantity) / (1000 if unit == "kg" else 1)


def decimal_text(value, places=3):
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return text or "0"


def fill_coverage(reserves, targets_by_key):
    """Coverage as the node computes it: participant level (total, else sum of sites) ÷ target."""
    levels, site_sums = {}, {}
    for row in reserves:
        if row.get("withheld"):
            continue
        key = (row["participant"], row["mineral"])
        amount = tonnes(row["quantity"], row["unit"])
        if row["site"] == "":
            levels[key] = amount
        else:
            site_sums[key] = site_sums.get(key, 0.0) + amount
    for key, amount in site_sums.items():
        levels.setdefault(key, amount)
    for row in reserves:
        key = (row["participant"], row["mineral"])
        target = targets_by_key.get(key)
        row["target"] = f"{target[0]} {target[1]}" if target else None
        level = levels.get(key)
        target_tonnes = tonnes(*target) if target else 0
        row["coverage"] = decimal_text(level / target_tonnes) if target and level is not None and target_tonnes > 0 else None


class Registry:
    """The data the mock node serves, and the SSE subscribers it pushes changes to."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.cache = {}
        self.subscribers = []
        self.first_subscriber = threading.Event()
        fixtures = Path(args.fixtures)
        self.minerals = load_fixture(fixtures, "minerals.json")
        self.status = load_fixture(fixtures, "status.json")
        self.peers = load_fixture(fixtures, "peers.json")
        if args.alerts is not None or args.reserves is not None:
            self.alerts, self.reserves, self.targets = self.generated(args.alerts or 0, args.reserves or 0)
        else:
            self.alerts, self.reserves, self.targets = self.from_fixtures(fixtures)
        self.add_peer_trouble()

    # ------------------------------------------------------------ fixture-based data

    def from_fixtures(self, fixtures):
        alerts = load_fixture(fixtures, "alerts.json")
        alerts.append(load_fixture(fixtures, "alert.json") | {"id": hex_id("alert", "eu-gallium-2"), "summary": "Gallium export licences suspended for all allied buyers",
                                                               "raisedAt": iso(NOW - timedelta(minutes=3)), "acknowledgedBy": []})

        def alert(number, severity, mineral, category, region, summary, minutes_ago, issuer="US/us-1", acks=(), resolved=False, resolution=None, expires=None):
            raised = NOW - timedelta(minutes=minutes_ago)
            return {
                "acknowledgedBy": sorted(acks), "category": category, "expiresAt": iso(expires) if expires else None,
                "id": hex_id("alert", number), "issuer": issuer, "mineral": mineral, "raisedAt": iso(raised), "region": region,
                "resolution": resolution, "resolved": resolved, "severity": severity, "summary": summary,
                "updatedAt": iso(raised + timedelta(minutes=minutes_ago // 2)),
            }

        alerts += [
            alert(1, "high", "germanium", "export-restriction", "CN", "Germanium exports need a licence from next month", 240, acks=["EU", "JP"]),
            alert(2, "high", "rare-earth-magnets", "production-outage", "MM", "Flooding halts magnet feedstock mining", 95, issuer="JP/jp-1"),
            alert(3, "medium", "cobalt", "logistics", "CD", "Border crossing closed to ore trucks", 600, acks=["US"], expires=NOW + timedelta(days=3)),
            alert(4, "low", "tungsten", "price-spike", "", "APT price up 12% in a week", 1440, issuer="EU/eu-1"),
            alert(5, "info", "lithium", "other", "", "New brine project announced", 2880, issuer="JP/jp-1"),
            # Markup in a summary must show as text and run nothing.
            alert(6, "medium", "graphite", "geopolitical", "", "Test of escaping: <img src=x onerror=alert(1)> & \"quotes\"", 30),
            alert(7, "critical", "gallium", "production-outage", "CN", "Largest refinery offline after fire", 2880, resolved=True, resolution="refinery restarted"),
        ]

        reserves = load_fixture(fixtures, "reserves.json")
        for row in reserves:
            row.setdefault("form", None)
        reserves += [
            {"participant": "US", "mineral": "gallium", "site": "", "quantity": "62", "unit": "t", "note": "", "reportedBy": "US/us-1",
             "form": "metal", "basis": "gross", "annualConsumption": "40", "daysOfCover": "565.75"},
            {"participant": "US", "mineral": "tungsten", "site": "", "quantity": "1400", "unit": "t", "note": "", "reportedBy": "US/us-1",
             "form": "concentrate", "basis": "contained", "annualConsumption": "9000", "daysOfCover": "56.8"},
            {"participant": "JP", "mineral": "rare-earth-magnets", "site": "", "quantity": "950", "unit": "t", "note": "", "reportedBy": "JP/jp-1",
             "form": "magnet", "basis": "gross", "annualConsumption": "4000", "daysOfCover": None},
            {"participant": "JP", "mineral": "gallium", "site": "", "quantity": "0", "unit": "t", "note": "", "reportedBy": "JP/jp-1",
             "withheld": True, "withheldReason": "national security"},
            {"participant": "EU", "mineral": "germanium", "site": "Antwerp", "quantity": "450", "unit": "kg", "note": "bonded warehouse",
             "reportedBy": "EU/eu-2", "form": "oxide", "basis": "contained"},
            {"participant": "JP", "mineral": "germanium", "site": "Osaka", "quantity": "1200", "unit": "kg", "note": "", "reportedBy": "JP/jp-1"},
        ]
        for index, row in enumerate(reserves):
            row["asOf"] = iso(NOW - timedelta(hours=3 * index + 1))
        targets_by_key = {
            ("EU", "gallium"): ("200", "t"), ("US", "gallium"): ("150", "t"), ("JP", "gallium"): ("80", "t"),
            ("EU", "germanium"): ("2000", "kg"), ("JP", "germanium"): ("1500", "kg"),
            ("JP", "rare-earth-magnets"): ("1200", "t"), ("US", "tungsten"): ("1000", "t"),
        }
        fill_coverage(reserves, targets_by_key)
        targets = [{"mineral": mineral, "quantity": quantity, "unit": unit} for (_, mineral), (quantity, unit) in sorted(targets_by_key.items(), key=lambda item: (item[0][1], item[0][0]))]
        return alerts, reserves, targets

    # ------------------------------------------------------------ generated data (load tests)

    def generated(self, alert_count, reserve_count):
        rng = random.Random(20261126)
        participants = ["AU", "CA", "CH", "DE", "DK", "EU", "FI", "FR", "GB", "IN", "IT", "JP", "KR", "NL", "NO", "NZ", "PL", "SE", "SG", "US"]
        minerals = [mineral["id"] for mineral in self.minerals]
        alerts = []
        for number in range(alert_count):
            severity = rng.choices(SEVERITIES, weights=[1, 3, 5, 4, 3])[0]
            raised = NOW - timedelta(minutes=rng.randint(1, 60 * 24 * 90))
            resolved = rng.random() < 0.3
            participant = rng.choice(participants)
            alerts.append({
                "acknowledgedBy": sorted(rng.sample(participants, rng.randint(0, 3))), "category": rng.choice(CATEGORIES),
                "expiresAt": None, "id": hex_id("generated-alert", number), "issuer": f"{participant}/{participant.lower()}-1",
                "mineral": rng.choice(minerals), "raisedAt": iso(raised), "region": rng.choice(["", "CN", "CD", "ID", "MM", "RU", "ZA", "CL"]),
                "resolution": "cleared" if resolved else None, "resolved": resolved, "severity": severity,
                "summary": f"Generated alert {number}: {rng.choice(['supply cut', 'port closure', 'licence delay', 'mine strike', 'price jump'])}",
                "updatedAt": iso(raised + timedelta(minutes=rng.randint(0, 600))),
            })
        reserves, targets_by_key = [], {}
        pairs = [(participant, mineral) for participant in participants for mineral in minerals]
        rng.shuffle(pairs)
        sites = ["", "North", "South", "East", "West", "Port", "Depot A", "Depot B", "Depot C", "Bonded"]
        pair_index, site_index = 0, 0
        while len(reserves) < reserve_count:
            participant, mineral = pairs[pair_index % len(pairs)]
            site = sites[site_index]
            unit = "kg" if rng.random() < 0.25 else "t"
            withheld = rng.random() < 0.02
            reserves.append({
                "participant": participant, "mineral": mineral, "site": site, "quantity": str(rng.randint(1, 5000)), "unit": unit,
                "asOf": iso(NOW - timedelta(hours=rng.randint(1, 2000))), "reportedBy": f"{participant}/{participant.lower()}-1", "note": "",
                "form": rng.choice(["metal", "oxide", "concentrate", None]), "basis": rng.choice(["gross", "contained", None]),
                "withheld": withheld, "withheldReason": "national security" if withheld else None,
                "annualConsumption": str(rng.randint(100, 20000)), "daysOfCover": None if rng.random() < 0.3 else str(rng.randint(5, 900)),
            })
            if (participant, mineral) not in targets_by_key and rng.random() < 0.6:
                targets_by_key[(participant, mineral)] = (str(rng.randint(100, 20000)), rng.choice(["t", "t", "kg"]))
            pair_index += 1
            if pair_index % len(pairs) == 0:
                site_index += 1
        fill_coverage(reserves, targets_by_key)
        targets = [{"mineral": mineral, "quantity": quantity, "unit": unit} for (_, mineral), (quantity, unit) in targets_by_key.items()]
        return alerts, reserves, targets

    def add_peer_trouble(self):
        troubled = dict(self.peers[0])
        troubled.update({
            "node": "JP/jp-1", "participant": "JP", "address": "127.0.0.1:7703", "state": "disconnected", "connectedSince": None,
            "lagIn": 3, "lagOut": 12, "offences": 2, "lastOffence": "sent an entry whose signature does not verify",
            "penalizedUntil": iso(NOW + timedelta(minutes=10)), "lastError": "TLS handshake failed: certificate expired",
            "roundTripMillis": None, "clockOffsetMillis": None,
        })
        self.peers.append(troubled)
        self.status["peers"] = self.peers
        self.status["peersConfigured"] = len(self.peers)
        self.status["peersConnected"] = sum(1 for peer in self.peers if peer["state"] == "connected")
        self.status["entries"] = len(self.reserves) + len(self.alerts) + len(self.targets)
        self.status["securityEvents"].append({
            "at": iso(NOW - timedelta(minutes=12)), "detail": "entry 41 of JP/jp-1 has a bad signature", "kind": "penalized", "subject": "JP/jp-1",
        })

    # ------------------------------------------------------------ reads and pushes

    def json_body(self, path):
        """The encoded answer for an /api path (None: no such route), cached until a change."""
        with self.lock:
            if path not in self.cache:
                value = {
                    "/api/status": self.status, "/api/peers": self.peers, "/api/alerts": self.alerts,
                    "/api/reserves": self.reserves, "/api/targets": self.targets, "/api/minerals": self.minerals,
                }.get(path)
                if value is None:
                    return None
                self.cache[path] = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
            return self.cache[path]

    def subscribe(self):
        inbox = queue.Queue()
        with self.lock:
            self.subscribers.append(inbox)
        self.first_subscriber.set()
        return inbox

    def unsubscribe(self, inbox):
        with self.lock:
            if inbox in self.subscribers:
                self.subscribers.remove(inbox)

    def publish(self, event):
        data = json.dumps(event, sort_keys=True, separators=(",", ":"))
        with self.lock:
            for inbox in self.subscribers:
                inbox.put(data)

    def raise_alert(self, summary, severity, mineral):
        alert = {
            "acknowledgedBy": [], "category": "export-restriction", "expiresAt": None, "id": hex_id("raised", summary, time.time()),
            "issuer": "US/us-1", "mineral": mineral, "raisedAt": iso(datetime.now(timezone.utc)), "region": "CN", "resolution": None,
            "resolved": False, "severity": severity, "summary": summary, "updatedAt": iso(datetime.now(timezone.utc)),
        }
        with self.lock:
            self.alerts.append(alert)
            self.cache.pop("/api/alerts", None)
        self.publish({"type": "alert", "origin": "US/us-1", "alert": alert, "reserve": None})
        return alert

    def bump_reserve(self, rng):
        with self.lock:
            candidates = [row for row in self.reserves if not row.get("withheld")]
            if not candidates:
                return
            row = rng.choice(candidates)
            row["quantity"] = str(max(1, int(float(row["quantity"])) + rng.randint(-20, 40)))
            row["asOf"] = iso(datetime.now(timezone.utc))
            self.cache.pop("/api/reserves", None)
            event = {"type": "reserve", "origin": row["reportedBy"], "alert": None, "reserve": dict(row)}
        self.publish(event)


class Handler(BaseHTTPRequestHandler):
    server_version = "mock-mineralctl-dashboard"
    protocol_version = "HTTP/1.1"  # keep-alive, as a browser expects of a real server
    registry: Registry = None
    dashboard: Path = None
    verbose = False

    def log_message(self, format, *args):
        if self.verbose:
            sys.stderr.write("mock: " + (format % args) + "\n")

    def security_headers(self):
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")

    def send_body(self, status, content_type, body, cache="no-store"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.security_headers()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in STATIC_FILES:
            name, content_type = STATIC_FILES[path]
            self.send_body(200, content_type, (self.dashboard / name).read_bytes(), cache="no-cache")
        elif path == "/favicon.ico":
            # The page has no icon; an answer with no body keeps the browser's console clean.
            self.send_response(204)
            self.send_header("Cache-Control", "max-age=86400")
            self.security_headers()
            self.end_headers()
        elif path == "/api/events":
            self.stream_events()
        elif (body := self.registry.json_body(path)) is not None:
            self.send_body(200, "application/json", body)
        else:
            body = json.dumps({"error": "not-found", "message": f"no route GET {path}"}).encode()
            self.send_body(404, "application/json", body)

    def stream_events(self):
        inbox = self.registry.subscribe()
        self.close_connection = True  # the stream has no length: it ends when the connection does
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Accel-Buffering", "no")
            self.security_headers()
            self.end_headers()
            # As `mineralctl dashboard` does: `open` once its own subscription is live.
            self.wfile.write(b"retry: 2000\n\nevent: open\ndata: {}\n\n")
            self.wfile.flush()
            while True:
                try:
                    data = inbox.get(timeout=15)
                    self.wfile.write(f"data: {data}\n\n".encode())
                except queue.Empty:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.registry.unsubscribe(inbox)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--dashboard", default=str(REPO / "Dashboard"), help="folder of index.html, dashboard.css, dashboard.js")
    parser.add_argument("--fixtures", default=str(REPO / "Docs" / "admin-api"))
    parser.add_argument("--raise-after", type=float, help="seconds after the first /api/events subscriber to push a new alert")
    parser.add_argument("--summary", default="Mock alert raised live", help="summary of the alert --raise-after pushes")
    parser.add_argument("--severity", default="critical", choices=SEVERITIES)
    parser.add_argument("--mineral", default="gallium")
    parser.add_argument("--reserve-every", type=float, help="push a changed reserve row every so many seconds")
    parser.add_argument("--alerts", type=int, help="generate this many alerts instead of the fixture-based ones")
    parser.add_argument("--reserves", type=int, help="generate this many reserve registers instead of the fixture-based ones")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args()

    registry = Registry(args)
    Handler.registry = registry
    Handler.dashboard = Path(args.dashboard)
    Handler.verbose = args.verbose
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(f"LISTENING http://{host}:{port}/", flush=True)

    if args.raise_after is not None:
        def raise_later():
            registry.first_subscriber.wait()
            time.sleep(args.raise_after)
            alert = registry.raise_alert(args.summary, args.severity, args.mineral)
            sys.stderr.write(f"mock: raised {alert['severity']} alert {alert['id'][:12]}: {alert['summary']}\n")
        threading.Thread(target=raise_later, daemon=True).start()

    if args.reserve_every:
        def churn():
            rng = random.Random(7)
            while True:
                time.sleep(args.reserve_every)
                registry.bump_reserve(rng)
        threading.Thread(target=churn, daemon=True).start()

    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
