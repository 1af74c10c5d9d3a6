"""Benchmark the sandbox: warm per-action overhead against plain exec(), fork/commit, cold start.

    python scripts/bench_sandbox.py [--repeat 300]

Targets (issue 21, with the OS layer on): warm overhead <= 1 ms per action, fork + commit <= 10 ms.
Plain exec() runs the same source in this process, compile included, because the sandbox compiles
every action too. The first line says which OS protections were in force.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from runtime.sandbox import Sandbox, SandboxPolicy

TRIVIAL = "x = 1"
COMPUTE = "total = 0\nfor i in range({n}):\n    total += i * i % 7\nsquares = [j * j for j in range({n} // 4)]"


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds per call, after a few warm-up calls."""
    for _ in range(5):
        action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def plain(code: str) -> Callable[[], None]:
    namespace: dict[str, object] = {}
    return lambda: exec(compile(code, "<plain>", "exec"), namespace)


def calibrated_compute(target_ms: float = 1.0) -> str:
    """The loop size at which plain exec() takes about `target_ms`."""
    n = 1000
    while True:
        code = COMPUTE.format(n=n)
        ms = statistics.median(timed(plain(code), 20))
        if ms >= target_ms * 0.9:
            return code
        n = int(n * target_ms / max(ms, 0.01) * 1.05)


def checked(sandbox: Sandbox, code: str) -> Callable[[], None]:
    def run() -> None:
        result = sandbox.run(code)
        assert result.ok, result.error

    return run


OVERHEAD_TARGET_MS = 1.0
FORK_COMMIT_TARGET_MS = 10.0


def verdict(ms: float, target: float) -> str:
    return f"(target <= {target:g} ms: {'ok' if ms <= target else 'MISSED'})"


def report(label: str, sandbox_ms: list[float], plain_ms: list[float], target: float | None = None) -> None:
    """`target`: for the per-action overhead only; in longer code the guards' per-operation cost shows."""
    s, p = statistics.median(sandbox_ms), statistics.median(plain_ms)
    print(
        f"{label:<26} sandbox {s:8.3f} ms   plain exec {p:8.3f} ms   overhead {s - p:7.3f} ms   "
        f"ratio {s / p:6.1f}x   {verdict(s - p, target) if target else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300, help="samples per measurement (median reported)")
    args = parser.parse_args()

    started = time.perf_counter()
    with Sandbox(SandboxPolicy()) as sandbox:
        sandbox.run("pass")
        print(sandbox.protections.line())
        print(f"{'cold start (first action)':<26} {(time.perf_counter() - started) * 1000:8.1f} ms")

        report("trivial action", timed(checked(sandbox, TRIVIAL), args.repeat), timed(plain(TRIVIAL), args.repeat),
               OVERHEAD_TARGET_MS)
        compute = calibrated_compute()
        report("~1 ms computation", timed(checked(sandbox, compute), args.repeat), timed(plain(compute), args.repeat))

        def fork_commit() -> None:
            sandbox.commit(sandbox.fork())

        def fork_run_commit() -> None:
            fork = sandbox.fork()
            assert fork.run(TRIVIAL).ok
            sandbox.commit(fork)

        def fork_close() -> None:
            sandbox.fork().close()

        repeat = max(20, args.repeat // 5)
        for label, action in [("fork + commit", fork_commit), ("fork + run + commit", fork_run_commit),
                              ("fork + discard", fork_close)]:
            ms = statistics.median(timed(action, repeat))
            print(f"{label:<26} {ms:8.3f} ms   {verdict(ms, FORK_COMMIT_TARGET_MS)}")

        sandbox.run("big = list(range(10 ** 6))")  # fork cost with ~40 MB of state
        print(f"{'fork + commit, 40 MB state':<26} {statistics.median(timed(fork_commit, repeat)):8.3f} ms")


if __name__ == "__main__":
    main()
