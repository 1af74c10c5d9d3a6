"""Wall time of one self-consistent agent step with N candidates, against naive sequential sampling.

For each N (default 1, 3, 5, 8), on the same step-1 prompt (already in the KV cache, so every
variant pays the same, near-zero prefill), alternating the variants within each repetition:
- naive: N separate `stream` calls (one candidate after the other), then each distinct code run
  in its own sandbox fork, one after the other;
- tree: `sample_n` decoding all N together as a tree of sequences, no early stop, no execution;
- sag: the agent's real SAG step (`run_candidates` + `tally` + `settle`): tree decoding, each
  candidate run in a fork as soon as it is decoded, decoding stopped once a group has a majority.
Ratios are against the same variant's N=1 and against naive at the same N. Also measured: the
prefill of the next step's prompt when it takes over the winner's KV sequence versus when the
candidates' sequences are dropped and the winner's tokens evaluated again.

    python scripts/bench_sag.py [--model NAME] [--question TEXT] [--n 1 3 5 8] [--reps 2] [--temperature 0.4] [--top-p 0.8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from runtime.agent import Agent, AgentOptions
from runtime.agent.grammar import step_grammar
from runtime.agent.loop import render_observation
from runtime.agent.parse import (
    OBSERVATION,
    THOUGHT,
    ParseError,
    has_complete_block,
    parse_step,
)
from runtime.agent.prompt import observation_message, task_message
from runtime.agent.sag import run_candidates, settle, tally
from runtime.config import Settings
from runtime.model.backend import LlamaModel
from runtime.model.base import ChatMessage, Generation, Prompt, Sampling, candidate_seed
from runtime.model.store import resolve
from runtime.sandbox import Sandbox, SandboxPolicy

QUESTION = "What is the sum of the squares of the first 20 prime numbers?"
OPENING = f"{THOUGHT} "


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def _tokens(generations: list[Generation]) -> str:
    counts = [g.completion_tokens for g in generations]
    return f"{sum(counts)} tokens, longest {max(counts)}"


def naive(model: LlamaModel, sandbox: Sandbox, prompt: Prompt, n: int, sampling: Sampling) -> list[Generation]:
    """The paper's way, minus its shared interpreter: one generation after another, then each run."""
    generations = []
    for i in range(n):
        candidate = sampling.model_copy(update={"seed": candidate_seed(sampling.seed, i)})
        *_, generation = model.stream(prompt, candidate, until=has_complete_block)
        assert isinstance(generation, Generation)
        generations.append(generation)
    codes = []
    for generation in generations:
        try:
            codes.append(parse_step(OPENING + generation.text).code)
        except ParseError:
            pass
    forks = []
    for code in dict.fromkeys(codes):
        fork = sandbox.fork()
        fork.run(code)
        forks.append(fork)
    for fork in forks:
        fork.close()
    return generations


def tree(model: LlamaModel, prompt: Prompt, n: int, sampling: Sampling) -> list[Generation]:
    return list(model.sample_n(prompt, n, sampling, until=has_complete_block))


def sag_step(model: LlamaModel, sandbox: Sandbox, prompt: Prompt, n: int, sampling: Sampling) -> str:
    found = run_candidates(model, sandbox, prompt, n, sampling)
    vote = tally(found, 1, render_observation)
    settle(sandbox, found, found.outcomes[vote.winner])
    sizes = "+".join(str(g.size) for g in vote.groups) or "none"
    return f"groups {sizes}, {len(vote.candidates)} decoded, {vote.executions} run"


def handover(model: LlamaModel, sandbox: Sandbox, messages: list[ChatMessage], n: int, sampling: Sampling) -> tuple[float, float]:
    """Prefill seconds of the next step's prompt: taking over the winner's sequence, then after dropping it."""
    prompt = Prompt(messages=messages, continue_assistant=OPENING)
    seconds = []
    for drop in (False, True):
        found = run_candidates(model, sandbox, prompt, n, sampling)
        vote = tally(found, 1, render_observation)
        winner = found.outcomes[vote.winner]
        settle(sandbox, found, winner)
        following = messages + [
            ChatMessage(role="assistant", content=winner.raw),
            ChatMessage(role="user", content=observation_message(vote.candidates[vote.winner].observation)),
        ]
        if drop:
            model.drop_branches()
        *_, generation = model.stream(Prompt(messages=following, continue_assistant=OPENING), Sampling(max_tokens=1))
        assert isinstance(generation, Generation)
        seconds.append(generation.prefill_s)
    return seconds[0], seconds[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--question", default=QUESTION, help="the task of the step (default: %(default)s)")
    parser.add_argument("--n", type=int, nargs="+", default=[1, 3, 5, 8])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--temperature", type=float, default=0.4)
    parser.add_argument("--top-p", type=float, default=0.8)
    parser.add_argument("--max-tokens", type=int, default=256)
    args = parser.parse_args()
    settings = Settings()
    model = LlamaModel(*resolve(settings, args.model), settings)
    print(f"{args.question!r} on {args.model}, threads={settings.threads}, T={args.temperature}, top_p={args.top_p}, "
          f"load average at start {os.getloadavg()[0]:.2f}")
    with Sandbox(SandboxPolicy(timeout_s=settings.action_timeout_s)) as sandbox:
        agent = Agent(model, sandbox, options=AgentOptions())
        agent.warm_prefix(args.question)
        messages = [ChatMessage(role="system", content=agent.system), ChatMessage(role="user", content=task_message(args.question))]
        prompt = Prompt(messages=messages, continue_assistant=OPENING)
        stop = [f"\n{OBSERVATION}", model.end_of_turn]
        tree(model, prompt, 1, Sampling(max_tokens=1, stop=stop))  # prompt into the cache
        times: dict[tuple[str, int], list[float]] = {}
        for rep in range(args.reps):
            for n in args.n:
                sampling = Sampling(
                    max_tokens=args.max_tokens, temperature=args.temperature, top_p=args.top_p,
                    seed=rep, stop=stop, grammar=step_grammar(),
                )
                runs: dict[str, Callable[[], object]] = {
                    "naive": lambda n=n, s=sampling: naive(model, sandbox, prompt, n, s),
                    "tree": lambda n=n, s=sampling: tree(model, prompt, n, s),
                    "sag": lambda n=n, s=sampling: sag_step(model, sandbox, prompt, n, s),
                }
                for name, fn in runs.items():
                    seconds, out = timed(fn)
                    times.setdefault((name, n), []).append(seconds)
                    detail = out if isinstance(out, str) else _tokens(out)  # type: ignore[arg-type]
                    print(f"  rep {rep} N={n} {name:5s} {seconds:6.2f} s  ({detail})", flush=True)
        print(f"\nmedian wall s over {args.reps} reps (ratio to N=1 of the same variant; sag vs naive at the same N)")
        print(f"{'N':>3} {'naive':>8} {'tree':>8} {'sag':>8}  {'naive/N1':>8} {'tree/N1':>8} {'sag/N1':>8}  {'sag/naive':>9}")
        med = {key: statistics.median(v) for key, v in times.items()}
        first = args.n[0]
        for n in args.n:
            row = [med[(v, n)] for v in ("naive", "tree", "sag")]
            ratios = [med[(v, n)] / med[(v, first)] for v in ("naive", "tree", "sag")]
            print(f"{n:>3} " + " ".join(f"{x:8.2f}" for x in row) + "  " + " ".join(f"{r:7.2f}x" for r in ratios)
                  + f"  {med[('sag', n)] / med[('naive', n)]:8.2f}x")
        kept, dropped = handover(model, sandbox, messages, 5, Sampling(
            max_tokens=args.max_tokens, temperature=args.temperature, top_p=args.top_p, seed=7, stop=stop,
            grammar=step_grammar(),
        ))
        print(f"\nnext step's prefill: winner's sequence taken over {kept:.2f} s, dropped and re-evaluated {dropped:.2f} s")
        print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
