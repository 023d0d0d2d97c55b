"""pycrdt (Yrs) side of Benchmarks/compare.sh: the same workloads as `mineral-bench compare`.

apply:   N remote updates that overwrite K keys of a map, applied one at a time to a fresh doc;
         the median of 5 such passes.
catchup: bytes to bring a peer up to date after 1 update on top of N overwrites, and the
         full-state size. Prints one JSON object per workload.
"""
import json
import statistics
import sys
import time

from pycrdt import Doc, Map

PASSES = 5


def value(index):
    # Comparable payload to a reserve report: quantity, unit, date, note-sized text.
    return f"{1000 + index % 977}.5 t as of 2026-11-{1 + index % 28:02d}"


def apply(updates, keys):
    source = Doc()
    source_map = source.get("reserves", type=Map)
    produced = []
    subscription = source.observe(lambda event: produced.append(event.update))
    for index in range(updates):
        source_map[f"site-{index % keys}"] = value(index)
    source.unobserve(subscription)
    # Each pass applies every update to a fresh doc, which outlives its timing; the median
    # pass is reported (the same rule as `mineral-bench compare apply`).
    times = []
    for _ in range(PASSES):
        target = Doc()
        target_map = target.get("reserves", type=Map)
        start = time.perf_counter()
        for update in produced:
            target.apply_update(update)
        times.append(time.perf_counter() - start)
        assert len(target_map) == keys
        del target_map, target
    return {"updates": updates, "keys": keys, "passes": PASSES, "per_s": int(updates / statistics.median(times))}


def catchup(overwrites, keys):
    a = Doc()
    a_map = a.get("reserves", type=Map)
    for index in range(overwrites):
        a_map[f"site-{index % keys}"] = value(index)
    b = Doc()
    b.get("reserves", type=Map)
    b.apply_update(a.get_update())
    a_map["site-0"] = value(overwrites)
    missing = a.get_update(b.get_state())
    return {"missing_update_bytes": len(missing), "state_vector_bytes": len(b.get_state()), "full_state_bytes": len(a.get_update())}


if __name__ == "__main__":
    print(json.dumps({"apply": apply(int(sys.argv[1]), int(sys.argv[3])), "catchup": catchup(int(sys.argv[2]), int(sys.argv[3]))}))
