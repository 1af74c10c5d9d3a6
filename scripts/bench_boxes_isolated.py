"""Benchmark an isolated box (`runtime box import --isolated`) against the same box in-process.

    python scripts/bench_boxes_isolated.py [--calls 300] [--starts 5]

One generated box, loaded both ways on the same machine in one run: the start-up cost (BoxHost.add:
executing the modules in-process, or starting the confined child, which imports FastMCP, and
listing its tools over stdio) and the per-call latency of a trivial tool through BoxHost.call (the
path every Toolset call takes), the two interleaved in rounds so that load changes hit both alike.
Prints a table, the isolated/in-process ratios and the load average; results are recorded in
docs/security.md ("Untrusted boxes").
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from runtime.boxes.bundle import Bundle, open_bundle
from runtime.boxes.loader import BoxHost
from runtime.boxes.scaffold import box_fields, write_box

TOOLS = '''
from fastmcp import FastMCP

mcp = FastMCP("bench")


@mcp.tool
def scale(x: int, y: int = 1) -> int:
    """Multiply x by 3 and add y: a stand-in for a cheap tool."""
    return x * 3 + y


@mcp.tool
def words(text: str) -> dict[str, int]:
    """Count the words of a text: a tool with a structured result."""
    counts: dict[str, int] = {}
    for word in text.split():
        counts[word] = counts.get(word, 0) + 1
    return counts
'''

TEXT = "the quick brown fox jumps over the lazy dog " * 20


def make_box(parent: Path) -> Path:
    files = {"tools.py": TOOLS.encode()}
    fields = box_fields("bench", "1.0.0", files, description="Isolation benchmark.", authors=["bench"])
    write_box(parent / "bench", fields, files)
    return parent / "bench"


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def start(bundle: Bundle, folder: Path | None) -> float:
    """Seconds to load the box on a fresh host (closing it is not counted)."""
    with BoxHost(timeout_s=30.0) as host:
        began = time.perf_counter()
        host.add(bundle, isolated_from=folder)
        return time.perf_counter() - began


def per_call(host: BoxHost, name: str, args: dict, calls: int) -> list[float]:
    tool = next(t for t in host.tools if t.name == name)
    host.call(tool, args)  # warm
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        host.call(tool, args)
        times.append(time.perf_counter() - began)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p90_ms": round(ordered[int(len(ordered) * 0.9)] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300, help="Calls per tool and way, in 5 interleaved rounds.")
    parser.add_argument("--starts", type=int, default=5, help="Start-ups per way, interleaved.")
    options = parser.parse_args()
    load_before = loadavg()
    with tempfile.TemporaryDirectory() as scratch:
        folder = make_box(Path(scratch))
        bundle = open_bundle(folder)
        starts: dict[str, list[float]] = {"in_process": [], "isolated": []}
        for _ in range(options.starts):
            starts["in_process"].append(start(bundle, None))
            starts["isolated"].append(start(bundle, folder))
        cases = {"scale": {"x": 7}, "words": {"text": TEXT}}
        calls: dict[str, dict[str, list[float]]] = {name: {"in_process": [], "isolated": []} for name in cases}
        with BoxHost(timeout_s=30.0) as plain, BoxHost(timeout_s=30.0) as confined:
            plain.add(bundle)
            confined.add(bundle, isolated_from=folder)
            assert confined.protections("bench") is not None
            for _ in range(5):
                for name, args in cases.items():
                    calls[name]["in_process"] += per_call(plain, name, args, options.calls // 5)
                    calls[name]["isolated"] += per_call(confined, name, args, options.calls // 5)
            protections = confined.protections("bench")
    result = {
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
        "protections": protections.line() if protections else None,
        "startup_s": {way: round(statistics.median(t), 3) for way, t in starts.items()},
        "calls": {name: {way: summary(t) for way, t in ways.items()} for name, ways in calls.items()},
    }
    result["startup_ratio"] = round(result["startup_s"]["isolated"] / result["startup_s"]["in_process"], 1)
    for name, ways in result["calls"].items():
        ways["ratio"] = round(ways["isolated"]["median_ms"] / ways["in_process"]["median_ms"], 2)
    print(json.dumps(result, indent=2))
    print(f"\nload average {load_before} -> {result['loadavg_after']}; {result['protections']}")
    print(f"{'':<22}{'in-process':>12}{'isolated':>12}{'ratio':>8}")
    s = result["startup_s"]
    print(f"{'start-up (median s)':<22}{s['in_process']:>12.3f}{s['isolated']:>12.3f}{result['startup_ratio']:>8.1f}")
    for name, ways in result["calls"].items():
        a, b = ways["in_process"]["median_ms"], ways["isolated"]["median_ms"]
        print(f"{name + ' call (median ms)':<22}{a:>12.3f}{b:>12.3f}{ways['ratio']:>8.2f}")


if __name__ == "__main__":
    main()
