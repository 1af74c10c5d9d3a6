"""How long a new `runtime solve` process waits for its first generated token, before and after `runtime warm`.

Each solve is a new process in a fresh RUNTIME_HOME (as after `./install.sh`), one step of a few
tokens; the first token is the first byte of the step's text on stderr (the step header is
printed when the step starts, the text as it streams), timed from the process's start. Run it
with nothing else on the machine: it measures start-up, which load stretches.

    python scripts/bench_first_token.py [--model qwen2.5-coder-1.5b] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTIONS = [
    ("word problem", "Tom had 12 apples and gave 5 to Ann. How many apples does Tom have now?"),
    ("word problem", "A bus holds 48 people. How many buses are needed for 300 people?"),
    ("arithmetic", "What is 123 * 456?"),
    ("percent", "What is 15% of 240?"),
    ("Game of 24", "Make 24 from 4 7 8 8"),
    ("date", "What day of the week was 4 July 1776?"),
    ("primes", "Is 97 a prime number?"),
    ("units", "Convert 5 miles to kilometers"),
    ("text", "Count the vowels in 'hello world'"),
    ("fraction", "What is the probability that two dice add up to 8? Give it as a fraction."),
]
STEP_HEADER = b"step 1"


def first_token(home: Path, model: str, threads: int, question: str) -> tuple[float, dict]:
    """Seconds from process start to the first byte of step 1's text, and the run's JSON record."""
    env = {**os.environ, "RUNTIME_HOME": str(home), "RUNTIME_THREADS": str(threads),
           "RUNTIME_MAX_TOKENS_PER_STEP": "4", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "runtime.cli.main", "solve", "--model", model, "--max-steps", "1", "--json", question]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None and proc.stdout is not None
    seen, at = b"", None
    while at is None:
        chunk = os.read(proc.stderr.fileno(), 1)
        if not chunk:
            break
        seen += chunk
        after_header = seen.split(STEP_HEADER, 1)[1] if STEP_HEADER in seen else b""
        if b"\n" in after_header and not after_header.endswith(b"\n"):
            at = time.perf_counter() - started  # the header's line is done and the step's text has begun
    out, _err = proc.communicate()
    if at is None:
        raise SystemExit(f"no step text for {question!r}:\n{seen.decode(errors='replace')[-2000:]}")
    return at, json.loads(out)


def warm(home: Path, model: str, threads: int) -> float:
    env = {**os.environ, "RUNTIME_HOME": str(home), "RUNTIME_THREADS": str(threads)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "runtime.cli.main", "warm", "--model", model, "--quiet"],
                   env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"model {args.model}, {args.threads} threads, load average {os.getloadavg()[0]:.2f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        cold_home, warm_home = Path(tmp) / "cold", Path(tmp) / "warm"
        cold_s, cold = first_token(cold_home, args.model, args.threads, QUESTIONS[0][1])
        warm_s = warm(warm_home, args.model, args.threads)
        print(f"runtime warm: {warm_s:.1f} s")
        print(f"{'kind':<13} {'first token s':>13} {'prefix':>9} {'computed':>9}  question")
        print(f"{'(not warmed)':<13} {cold_s:>13.2f} {cold['prefix']['source']:>9} {cold['prefix']['computed_tokens']:>9}  {QUESTIONS[0][1][:50]}")
        times = []
        for kind, question in QUESTIONS:
            seconds, record = first_token(warm_home, args.model, args.threads, question)
            times.append(seconds)
            prefix = record["prefix"]
            print(f"{kind:<13} {seconds:>13.2f} {prefix['source']:>9} {prefix['computed_tokens']:>9}  {question[:50]}")
        print(f"warmed: median {statistics.median(times):.2f} s, max {max(times):.2f} s; "
              f"first word problem warmed / not warmed: {times[0] / cold_s:.2f}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
