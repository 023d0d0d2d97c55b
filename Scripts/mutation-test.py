#!/usr/bin/env python3
"""A mutation-testing pass by hand-written mutants (Scripts/mutants.txt): each mutant is
applied alone, the package is built, and the test targets that guard the file are run. A
mutant is *killed* when a test fails, *survives* when every test passes, and is *stillborn*
when it does not compile. The source is restored after every mutant, whatever happens.

    python3 Scripts/mutation-test.py [--mutants LIST] [--only SUBSTRING] [--timeout SECONDS]
    python3 Scripts/mutation-test.py --check     # every mutant of every list still applies

Takes about 20–30 minutes on 2 cores. Not part of `swift test`."""
import argparse, glob, os, re, signal, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILTERS = {
    "Sources/Registry/": "RegistryTests|SyncProtocolTests|RegistryStoreTests",
    "Sources/OpenSSLCrypto/": "OpenSSLCryptoTests|OpenSSLTLSTests|NodeConfigTests|RelayedCertificateTests",
    "Sources/SyncProtocol/": "SyncProtocolTests",
    "Sources/SyncNode/": "SyncNodeTests",
    "Tests/StoreCrashWriter/": "RegistryStoreTests",
    "Sources/mineralctl/": "MineralctlTests",
}

def mutants(path):
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.replace("\\|", "\0").split(" | ")]
            if len(parts) not in (4, 5):
                sys.exit(f"{path} line {number}: expected 4 or 5 fields separated by ' | ', found {len(parts)}")
            # "\n" is a line break; "\\" is one backslash (write a Swift "\n" as "\\n").
            file, original, replacement, meaning, *tests = (p.replace("\\\\", "\1").replace("\\n", "\n").replace("\1", "\\").replace("\0", "|")
                                                            for p in parts)
            yield number, file, original, replacement, meaning, (tests[0] if tests else None)

def locate(source, original):
    """Where `original` occurs in `source`, as (start, end) spans, whatever the formatting: any
    run of white space may differ (`swift format` breaks and indents lines), and a semicolon may
    have become a line break."""
    pattern = r"\s*".join(";?" if c == ";" else re.escape(c) for c in original if not c.isspace())
    return [m.span() for m in re.finditer(pattern, source)]

def check(paths):
    """Every mutant's original occurs exactly once in its file (a mutant whose text a change
    removed would be reported "not applied" by a run, long after)."""
    stale = []
    for list_path in paths:
        for number, file, original, _, meaning, _ in mutants(list_path):
            path = os.path.join(ROOT, file)
            found = len(locate(open(path).read(), original)) if os.path.exists(path) else 0
            if found != 1:
                stale.append(f"{os.path.relpath(list_path, ROOT)} line {number}: {file}: the original occurs {found} times ({meaning})")
    print("\n".join(stale) if stale else f"every mutant of {len(paths)} lists applies once")
    sys.exit(1 if stale else 0)

def run(command, timeout):
    try:
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        return "timeout"

def interrupted(*_):
    raise KeyboardInterrupt

def main():
    # SIGTERM too ends the run through `finally`, so the mutated file is always restored.
    signal.signal(signal.SIGTERM, interrupted)
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", action="append", default=[], help="run only mutants whose file or meaning contains this (repeatable)")
    parser.add_argument("--mutants", default="Scripts/mutants.txt", help="the list of mutants (default: Scripts/mutants.txt)")
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--check", action="store_true", help="only check that every mutant of every list applies once (no build)")
    args = parser.parse_args()
    if args.check:
        check(sorted(glob.glob(os.path.join(ROOT, "Scripts", "mutants*.txt"))))
    if run(["swift", "build", "--build-tests"], 3600) != 0:
        sys.exit("the unmutated package does not build")
    results = []
    for number, file, original, replacement, meaning, tests in mutants(os.path.join(ROOT, args.mutants)):
        if args.only and not any(text in file or text in meaning for text in args.only):
            continue
        path = os.path.join(ROOT, file)
        source = open(path).read()
        spans = locate(source, original)
        if len(spans) != 1:
            results.append((number, file, meaning, f"not applied: the original occurs {len(spans)} times"))
            continue
        start, end = spans[0]
        filter_ = tests or next((f for prefix, f in FILTERS.items() if file.startswith(prefix)), "")
        started = time.time()
        try:
            open(path, "w").write(source[:start] + replacement + source[end:])
            # The executables too: process tests run the daemon and mineralctl as built.
            if run(["swift", "build", "--build-tests"], args.timeout) != 0 or run(["swift", "build"], args.timeout) != 0:
                outcome = "stillborn (does not compile)"
            else:
                code = run(["swift", "test", "--skip-build", "--filter", filter_], args.timeout)
                outcome = "killed" if code != 0 else "SURVIVED"
        finally:
            open(path, "w").write(source)
        results.append((number, file, meaning, outcome))
        print(f"{outcome:10} line {number:3} {file}: {meaning} ({time.time() - started:.0f} s)", flush=True)
    run(["swift", "build", "--build-tests"], 3600)
    run(["swift", "build"], 3600)
    killed = sum(1 for r in results if r[3] == "killed")
    survived = [r for r in results if r[3] == "SURVIVED"]
    print(f"\n{killed} killed, {len(survived)} survived, {len(results) - killed - len(survived)} not run, of {len(results)}")
    for number, file, meaning, outcome in results:
        if outcome != "killed":
            print(f"  {outcome}: line {number} {file}: {meaning}")
    sys.exit(1 if survived else 0)

if __name__ == "__main__":
    main()
