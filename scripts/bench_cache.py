"""The saved prompt state, side by side in one run: what a repeated and a new question cost.

For each model, three `runtime solve` processes in a fresh RUNTIME_HOME (the installed models are
linked in, so nothing is reassembled): a question with an empty cache, the same question again,
and a different question. Each is one step cut to a few tokens, so the columns are the prompt's
cost: the fixed prefix's tokens evaluated (and its seconds), then the first step's own tokens.

    python scripts/bench_cache.py [--model NAME ...] [--threads N] [--box NAME ...]

The code run is the `runtime` installed in this environment: to compare checkouts, install each
in its own venv (PYTHONPATH alone would take tui/, boxes/ and models/ from the installed one).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from runtime.config import Settings

QUESTION = "What is 17 * 23?"
OTHER = "What is 31 * 47?"


def solve(home: Path, model: str, question: str, threads: int, boxes: list[str]) -> dict:
    env = {**os.environ, "RUNTIME_HOME": str(home), "RUNTIME_THREADS": str(threads), "RUNTIME_MAX_TOKENS_PER_STEP": "4"}
    command = [sys.executable, "-m", "runtime.cli.main", "solve", "--model", model, "--max-steps", "1", "--json", "--quiet"]
    command += [arg for box in boxes for arg in ("--box", box)]
    proc = subprocess.run([*command, question], capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{model}: runtime solve failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def row(model: str, run: str, trace: dict) -> str:
    prefix, step = trace["prefix"], trace["steps"][0]["timings"]
    own = step["prompt_tokens"] - step["cached_tokens"]
    return (
        f"| {model} | {run} | {prefix['computed_tokens']} of {prefix['tokens']} | {prefix['seconds']:.2f} | "
        f"{own} of {step['prompt_tokens']} | {step['prefill_s']:.2f} | {trace['wall_s']:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", nargs="+", default=["qwen2.5-coder-0.5b"])
    parser.add_argument("--threads", type=int, default=Settings().threads)
    parser.add_argument("--box", nargs="*", default=[], help="use only these boxes (default: the tools picked per question)")
    args = parser.parse_args()
    models = Settings().models_dir
    print(f"threads={args.threads}, boxes={args.box or 'picked per question'}, load average at start "
          f"{os.getloadavg()[0]:.2f}\n")
    print("| model | run | prefix tokens evaluated | prefix s | step-1 tokens evaluated | step-1 prefill s | run s |")
    print("|---|---|---|---|---|---|---|")
    for model in args.model:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            (home / "models").symlink_to(models)
            runs = [("first, empty cache", QUESTION), ("same question again", QUESTION), ("different question", OTHER)]
            for run, question in runs:
                print(row(model, run, solve(home, model, question, args.threads, args.box)), flush=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
