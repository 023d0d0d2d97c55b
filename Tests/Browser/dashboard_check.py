#!/usr/bin/env python3
"""Headless-Chromium check of the MineralSync dashboard, for a test harness to drive.

    python3 Tests/Browser/dashboard_check.py --url http://127.0.0.1:PORT/ \
        --expect-alert-summary "TEXT" [--screenshot out.png] [--timeout 10]

1. Starts headless Chromium (Selenium) that can reach nothing but the dashboard's host:port:
   every other request goes to a dead proxy, and host names other than the dashboard's do not
   resolve.
2. Loads the page and waits until the alert board and the totals chart (an <svg> with a
   rect.bar) have rendered; prints `READY` on its own line.
3. Without reloading, waits until an alert on #alert-board shows TEXT (the harness raises it
   after READY; it must arrive over the live event stream).
4. Fails on any console error, or on any request the page made to another origin.
5. Proves the network block: a navigation to a listening loopback canary must never reach it.
6. Prints `OK <ms>`: milliseconds from navigation start to the first render of board and chart.

Exit 0 on success; on failure, a reason on stderr and exit 1.
"""

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class CheckFailed(Exception):
    pass


def fail_unless(condition, reason):
    if not condition:
        raise CheckFailed(reason)


def brief(error):
    """The first line of an exception's message (Selenium's carry a driver stack trace)."""
    text = getattr(error, "msg", None) or str(error) or type(error).__name__
    return text.strip().splitlines()[0]


def wait_for(description, timeout, probe, interval=0.05):
    """Polls probe() until it returns something truthy; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise CheckFailed(f"timed out after {timeout:g} s waiting for {description}")
        time.sleep(interval)


class Canary:
    """A loopback listener the browser must not reach: proof that the network block holds."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.hits = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped.is_set():
            try:
                connection, _ = self.socket.accept()
            except (socket.timeout, OSError):
                continue
            self.hits += 1
            connection.close()

    def close(self):
        self.stopped.set()
        self.thread.join(timeout=1)
        self.socket.close()


def dead_port():
    """A loopback port that refuses connections: bound (so nothing else takes it), never listening."""
    dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    dead.bind(("127.0.0.1", 0))
    return dead


def origin_of(url):
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


NETWORK_SCHEMES = ("http", "https", "ws", "wss", "ftp")


def foreign_urls(urls, dashboard_origin):
    """The network requests to anywhere but the dashboard's origin. Other schemes never leave the
    browser: data:, blob:, about:, and chrome:// (its own new-tab page, loaded before ours)."""
    return sorted({url for url in urls if urlsplit(url).scheme in NETWORK_SCHEMES and origin_of(url) != dashboard_origin})


def start_browser(args, host, port, proxy_port, profile):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        raise CheckFailed(f"selenium is not installed ({error}): apt-get install python3-selenium, or pip install selenium")

    bracketed = f"[{host}]" if ":" in host else host
    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for argument in [
        "--headless=new",
        "--no-sandbox",  # the harness runs as root, where Chromium's sandbox cannot start
        "--disable-gpu",
        f"--window-size={args.window_size}",
        f"--user-data-dir={profile}",
        # The network: only the dashboard. Everything else, loopback included, goes to a proxy
        # that refuses connections; names other than the dashboard's do not resolve at all.
        f"--proxy-server=http://127.0.0.1:{proxy_port}",
        f"--proxy-bypass-list=<-loopback>;{bracketed}:{port}",
        f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {host}",
        # Chromium's own background traffic (updates, metrics, safe browsing) is not wanted.
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--no-pings",
        "--metrics-recording-only",
        "--password-store=basic",
    ]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    try:
        return webdriver.Chrome(service=Service(executable_path=args.chromedriver), options=options)
    except Exception as error:  # Selenium raises several types here; all mean "no browser".
        raise CheckFailed(f"could not start headless Chromium ({args.chromium}) with {args.chromedriver}: {brief(error)}")


def performance_requests(driver):
    """Every URL the browser requested, from the DevTools performance log."""
    urls = []
    for entry in driver.get_log("performance"):
        try:
            message = json.loads(entry["message"])["message"]
        except (KeyError, ValueError):
            continue
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            urls.append(params.get("request", {}).get("url", ""))
        elif method == "Network.webSocketCreated":
            urls.append(params.get("url", ""))
    return urls


def run(args):
    parts = urlsplit(args.url)
    fail_unless(parts.scheme in ("http", "https") and parts.hostname, f"--url must be an http(s) URL, not {args.url!r}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    dashboard_origin = origin_of(args.url)

    dead = dead_port()
    canary = Canary()
    profile = tempfile.TemporaryDirectory(prefix="dashboard-check-")
    driver = None
    try:
        driver = start_browser(args, host, port, dead.getsockname()[1], profile.name)
        driver.set_page_load_timeout(args.timeout)
        driver.set_script_timeout(args.timeout)

        try:
            driver.get(args.url)
        except Exception as error:
            raise CheckFailed(f"could not load {args.url}: {brief(error)}")

        def rendered():
            return driver.execute_script(
                "return (typeof window.__dashboardRenderedAt === 'number'"
                " && document.querySelector('#alert-board') !== null"
                " && document.querySelector('#totals-chart svg rect.bar') !== null)"
                " ? window.__dashboardRenderedAt : null;")

        try:
            render_ms = wait_for("the alert board and the totals chart (an <svg> with a rect.bar) to render", args.timeout, rendered)
        except CheckFailed as error:
            found = driver.execute_script(
                "return {mark: typeof window.__dashboardRenderedAt === 'number',"
                " board: document.querySelector('#alert-board') !== null,"
                " chart: document.querySelector('#totals-chart svg') !== null,"
                " bars: document.querySelectorAll('#totals-chart svg rect.bar').length,"
                " problems: [...document.querySelectorAll('.error')].map(node => node.textContent).join(' | ')};")
            missing = [text for flag, text in [
                (not found["mark"], "the page never marked its first render (window.__dashboardRenderedAt)"),
                (not found["board"], "no #alert-board"),
                (not found["chart"], "no <svg> in #totals-chart (no reserves or targets?)"),
                (found["chart"] and not found["bars"], "the chart has no rect.bar (no reserve with a quantity?)"),
            ] if flag]
            errors = [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
            detail = "; ".join(part for part in [*missing, found["problems"], *errors] if part)
            raise CheckFailed(f"{error}{': ' + detail if detail else ''}")
        # A reload would lose this mark: the alert must arrive on the page as it is.
        driver.execute_script("window.__dashboardCheckLoaded = true;")
        print("READY", flush=True)

        expected = args.expect_alert_summary
        already = driver.execute_script(
            "return [...document.querySelectorAll('#alert-board [data-alert-id]')].some(node => node.textContent.includes(arguments[0]));",
            expected)
        if already:
            print(f"dashboard_check: note: {expected!r} was already on the board at READY", file=sys.stderr)
        try:
            alert_id = wait_for(
                f"an alert showing {expected!r} on #alert-board (no reload: it must come over /api/events)", args.timeout,
                lambda: driver.execute_script(
                    "const node = [...document.querySelectorAll('#alert-board [data-alert-id]')]"
                    ".find(node => node.textContent.includes(arguments[0]));"
                    "return node ? node.dataset.alertId : null;", expected))
        except CheckFailed as error:
            board = driver.execute_script(
                "return {alerts: document.querySelectorAll('#alert-board [data-alert-id]').length,"
                " live: (document.getElementById('live-indicator') || {dataset: {}}).dataset.state};")
            raise CheckFailed(f"{error} (the board shows {board['alerts']} alerts; live stream: {board['live']})")
        fail_unless(driver.execute_script("return window.__dashboardCheckLoaded === true;"),
                    "the page reloaded: the alert must arrive without one")

        if args.expect_warning:
            wait_for(f"a warning in the header showing {args.expect_warning!r}", args.timeout,
                     lambda: driver.execute_script(
                         "const list = document.getElementById('node-warnings');"
                         "return Boolean(list && !list.hidden && list.textContent.includes(arguments[0]));", args.expect_warning))

        console_errors = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
        fail_unless(not console_errors, "the console has errors:\n  " + "\n  ".join(entry["message"] for entry in console_errors))

        resource_urls = driver.execute_script(
            "return performance.getEntriesByType('resource').map(entry => entry.name)"
            ".concat(performance.getEntriesByType('navigation').map(entry => entry.name));")
        foreign = foreign_urls(performance_requests(driver) + resource_urls, dashboard_origin)
        fail_unless(not foreign, "the page requested other origins:\n  " + "\n  ".join(foreign))

        if args.screenshot:
            fail_unless(driver.save_screenshot(args.screenshot), f"could not save the screenshot to {args.screenshot}")

        # The block must hold for a listening loopback port too, where a request would succeed.
        driver.set_page_load_timeout(5)
        try:
            driver.get(f"http://127.0.0.1:{canary.port}/")
        except Exception:
            pass  # a refused navigation may time out or end on an error page: both are fine
        time.sleep(0.2)
        fail_unless(canary.hits == 0, f"the browser reached 127.0.0.1:{canary.port}: the network block does not hold")

        print(f"dashboard_check: alert {alert_id[:12]} showed {expected!r}; first render {render_ms:.1f} ms", file=sys.stderr)
        print(f"OK {round(render_ms)}", flush=True)
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass
        canary.close()
        dead.close()
        profile.cleanup()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the dashboard, e.g. http://127.0.0.1:8080/")
    parser.add_argument("--expect-alert-summary", required=True, help="text an alert on the board must come to show")
    parser.add_argument("--expect-warning", help="text a warning in the page's header must come to show (e.g. a failing hook)")
    parser.add_argument("--screenshot", help="save a PNG of the page here once the alert shows")
    parser.add_argument("--timeout", type=float, default=10, help="seconds for each wait (render, then the alert)")
    parser.add_argument("--window-size", default="1366,900", help="browser window, WIDTH,HEIGHT")
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--chromedriver", default=CHROMEDRIVER)
    args = parser.parse_args()
    try:
        run(args)
    except CheckFailed as error:
        print(f"dashboard_check: FAIL: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
    except Exception as error:  # anything unforeseen is a failure with a reason, not a traceback
        print(f"dashboard_check: FAIL: {type(error).__name__}: {brief(error)}", file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
