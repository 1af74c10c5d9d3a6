"""Backend overhead and cold-start latency, measured side by side in one run.

1. Prompt and decode tokens/s through runtime's LlamaModel versus llama-cpp-python called
   directly on the same GGUF, prompt and settings (alternating, median of --reps); ratio goal >= 0.95.
2. `runtime solve` cold (a new process) to the first generated token, with and without the
   saved prompt-prefix state.

    python scripts/bench_model.py [--model NAME ...] [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import llama_cpp

from runtime.config import Settings
from runtime.model.backend import LlamaModel
from runtime.model.base import ChatMessage, Generation, Prompt, Sampling
from runtime.model.store import resolve

PROMPT_TEXT = "Explain, step by step, how to write a Python function that checks whether a number is prime. " * 6
DECODE_TOKENS = 96


def bench_direct(llm: llama_cpp.Llama, tokens: list[int]) -> tuple[float, float]:
    llm.reset()
    t0 = time.perf_counter()
    llm.create_completion(tokens, max_tokens=1, temperature=0.0)
    prompt_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = llm.create_completion(tokens, max_tokens=DECODE_TOKENS, temperature=0.0)
    decode_s = time.perf_counter() - t0
    return len(tokens) / prompt_s, out["usage"]["completion_tokens"] / decode_s


def bench_runtime(model: LlamaModel, prompt: Prompt) -> tuple[float, float]:
    model.llm.reset()
    first = list(model.stream(prompt, Sampling(max_tokens=1)))[-1]
    assert isinstance(first, Generation)
    t0 = time.perf_counter()
    gen = list(model.stream(prompt, Sampling(max_tokens=DECODE_TOKENS)))[-1]
    decode_s = time.perf_counter() - t0
    return first.prompt_tokens / (first.prefill_s + first.decode_s), gen.completion_tokens / decode_s


def cold_start(model: str, home: Path, clear_cache: bool) -> tuple[float, float]:
    """Seconds from process start to the model loaded, and to the first generated character."""
    if clear_cache:
        shutil.rmtree(home / "cache", ignore_errors=True)
    env = {**os.environ, "RUNTIME_HOME": str(home)}
    cmd = [sys.executable, "-m", "runtime.cli.main", "solve", "--model", model, "--max-steps", "1", "What is 6 * 7?"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
    loaded = first = None
    buf = b""
    assert proc.stderr is not None
    while chunk := proc.stderr.read1(64):
        buf += chunk
        if loaded is None and b"model ready" in buf:
            loaded = time.perf_counter() - t0
        if first is None and b"step 1" in buf and len(buf.split(b"step 1", 1)[1].split(b"\n", 2)[-1]) > 0:
            first = time.perf_counter() - t0
    proc.wait()
    return loaded or float("nan"), first or float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", help="registry name (repeatable); default: the shipped models")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    settings = Settings()
    names = args.model or ["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m"]
    print(f"threads={settings.threads} n_ctx={settings.n_ctx} llama-cpp-python {llama_cpp.__version__}")
    for name in names:
        manifest, path = resolve(settings, name)
        ours = LlamaModel(manifest, path, settings)
        prompt = Prompt(messages=[ChatMessage(role="user", content=PROMPT_TEXT)])
        tokens = ours.tokenize(ours.render(prompt.messages))
        direct = llama_cpp.Llama(
            model_path=str(path), n_ctx=ours.n_ctx, n_batch=512, n_threads=settings.threads,
            n_threads_batch=settings.threads, seed=settings.seed, verbose=False,
        )
        rows: dict[str, list[tuple[float, float]]] = {"direct": [], "runtime": []}
        for _ in range(args.reps):
            rows["direct"].append(bench_direct(direct, tokens))
            rows["runtime"].append(bench_runtime(ours, prompt))
        med = {k: (statistics.median(p for p, _ in v), statistics.median(d for _, d in v)) for k, v in rows.items()}
        print(f"\n{name}: prompt {len(tokens)} tokens, decode {DECODE_TOKENS} tokens, median of {args.reps}")
        print(f"  prompt tok/s  direct {med['direct'][0]:7.1f}  runtime {med['runtime'][0]:7.1f}  ratio {med['runtime'][0] / med['direct'][0]:.3f}")
        print(f"  decode tok/s  direct {med['direct'][1]:7.1f}  runtime {med['runtime'][1]:7.1f}  ratio {med['runtime'][1] / med['direct'][1]:.3f}")
        del ours, direct
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            (home / "models").mkdir()
            # reuse the assembled model and its verified stamp instead of re-assembling per run
            for item in settings.models_dir.glob("*"):
                (home / "models" / item.name).symlink_to(item)
            cold_start(name, home, clear_cache=True)  # warm the OS file cache
            no_cache = cold_start(name, home, clear_cache=True)
            cached = cold_start(name, home, clear_cache=False)
        print(f"  cold solve: model ready {no_cache[0]:.1f} s; first token without saved prefix {no_cache[1]:.1f} s, "
              f"with saved prefix {cached[1]:.1f} s (after load: {no_cache[1] - no_cache[0]:.1f} s vs {cached[1] - cached[0]:.1f} s)")


if __name__ == "__main__":
    main()
